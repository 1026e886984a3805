"""The byte scan of sheet XML (formulas, error values, cell styles) gives what a full XML parse gives.

:func:`xlplan.books.department.reader.scan_cells` replaces an ElementTree pass over every sheet; these tests
compare it with that pass (kept here as the reference) on real files written by xlplan, by
openpyxl with typed formulas and error values, and by LibreOffice, and on hand-written XML in
the shapes other writers use (a namespace prefix, single quotes, attributes on new lines).
"""

from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree

from conftest import TINY
from xlplan.actions.fill import fill
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import write_plan_tables
from xlplan.io.tables import _PERCENT_BUILTIN, read_package, scan_cells, shared_formula, sheet_xml
from xlplan.io.tables import XML_NS as _NS
from xlplan.io.tables import style_number_formats as number_formats

PERIOD = "2024-delår"
M = _NS["m"]


def reference(xml: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(errors, formulas) by a full parse: the reader's former second pass (shared formulas translated)."""
    root = ElementTree.fromstring(xml)
    errors, formulas = {}, {}
    masters, sharing = {}, []
    for c in root.iter(f"{{{M}}}c"):
        if c.get("t") == "e":
            v = c.find("m:v", _NS)
            errors[c.get("r", "")] = v.text if v is not None and v.text else "#FEL"
        f = c.find("m:f", _NS)
        if f is not None:
            ref = c.get("r", "")
            formulas[ref] = "=" + f.text if f.text else ""
            if f.get("t") == "shared" and f.get("si") is not None:
                if f.text:
                    masters[f.get("si")] = (formulas[ref], ref)
                else:
                    sharing.append((ref, f.get("si")))
    for ref, si in sharing:
        if si in masters:
            formulas[ref] = shared_formula(*masters[si], ref)
    return errors, formulas


def reference_formats(styles: bytes) -> tuple[dict[int, str], list[int]]:
    root = ElementTree.fromstring(styles)
    codes = dict(_PERCENT_BUILTIN)
    for nf in root.iterfind("m:numFmts/m:numFmt", _NS):
        codes[int(nf.get("numFmtId", "0"))] = nf.get("formatCode", "")
    return codes, [int(xf.get("numFmtId", "0")) for xf in root.iterfind("m:cellXfs/m:xf", _NS)]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    tmp = tmp_path_factory.mktemp("scan")
    plan = tmp / "plan.xlsx"
    write_plan_tables(copy.deepcopy(TINY), plan)
    written = list(fill(plan, PERIOD, None, tmp / "xlsx", fmt="xlsx").written)
    written += list(fill(plan, PERIOD, None, tmp / "xlsm", fmt="xlsm").written)
    typed = tmp / "typed.xlsx"
    wb = openpyxl.load_workbook(written[0])
    ws = wb["Mål och indikatorer"]
    ws["M6"] = "=10+5"
    ws["P6"] = '=IF(M6>1,"<a & b>","x")'
    ws["M7"] = "=1/0"
    ws["Q7"] = "#DIV/0!"
    ws["Q7"].data_type = "e"
    ws["M8"].number_format = "0.0%"
    ws["M8"] = 0.25
    wb.save(typed)
    return [*written, typed]


def test_the_scan_finds_what_a_parse_finds_in_real_files(files: list[Path]) -> None:
    found_formulas = found_errors = 0
    for path in files:
        parts = read_package(path).parts
        for name, xml in sheet_xml(parts).items():
            errors, formulas = scan_cells(xml)
            assert (errors, formulas) == reference(xml), (path.name, name)
            found_formulas += len(formulas)
            found_errors += len(errors)
        assert number_formats(parts["xl/styles.xml"]) == reference_formats(parts["xl/styles.xml"]), path.name
    assert found_formulas > 20 and found_errors >= 1  # the files hold both, so the comparison means something


def test_typed_formulas_errors_and_percent_cells_are_read(files: list[Path]) -> None:
    book = read_department_workbook(files[-1])
    rows = list(book.sheets["Mål och indikatorer"].rows.values())
    by_cell = {row.cells["outcome"]: row for row in rows}
    assert by_cell["M6"].formulas["outcome"] == "=10+5" and by_cell["M6"].values["outcome"] == 15
    assert by_cell["M8"].formats["outcome"] == "0.0%"
    assert {(p.code, p.cell) for p in book.problems} >= {("formelfel", "Q7")}


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice saknas")
def test_the_scan_agrees_on_a_file_saved_by_libreoffice(files: list[Path], tmp_path: Path) -> None:
    source = tmp_path / "in.xlsx"
    shutil.copy(files[-1], source)
    out = tmp_path / "out"
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path / 'profile'}",
                    "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
                   check=True, capture_output=True, timeout=240)
    parts = read_package(out / "in.xlsx").parts
    sheets = sheet_xml(parts)
    assert sheets
    for name, xml in sheets.items():
        assert scan_cells(xml) == reference(xml), name
    assert number_formats(parts["xl/styles.xml"]) == reference_formats(parts["xl/styles.xml"])


PREFIXED = (b'<?xml version="1.0"?>\n<x:worksheet xmlns:x="' + M.encode() + b'"><x:cols><x:col min="1"/></x:cols>'
            b"<x:sheetData><x:row r='2'><x:c r='A2' t='e'><x:v>#N/A</x:v></x:c>"
            b'<x:c\n  r="B2"\n  s="3"><x:f t="shared" ref="B2:B3" si="0">A2&amp;"&lt;"</x:f><x:v>1</x:v></x:c>'
            b'<x:c r="B3"><x:f t="shared" si="0"/><x:v>2</x:v></x:c><x:c r="C3" t="e"/>'
            b'<x:c r="D3" t="str"><x:f>"&#229;r"</x:f><x:v>\xc3\xa5r</x:v></x:c></x:row></x:sheetData>'
            b'<x:conditionalFormatting sqref="A1"><x:cfRule type="expression"><x:formula>A1&gt;1</x:formula>'
            b"</x:cfRule></x:conditionalFormatting></x:worksheet>")


def test_the_scan_handles_prefixes_quotes_shared_formulas_and_entities() -> None:
    assert scan_cells(PREFIXED) == reference(PREFIXED) == (
        {"A2": "#N/A", "C3": "#FEL"}, {"B2": '=A2&"<"', "B3": '=A3&"<"', "D3": '="år"'})
    assert scan_cells(b"") == ({}, {})
