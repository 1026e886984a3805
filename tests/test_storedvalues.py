"""Stored formula results: every formula cell xlplan writes carries the value Excel (here LibreOffice) computes."""

from __future__ import annotations

import math
import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from xlplan.actions.fill import fill
from xlplan.books.department.columns import INDICATORS, OVERVIEW
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import read_plan
from xlplan.example_values import type_example_values
from xlplan.io.resave import load_for_edit, save_edited
from xlplan.io.storedvalues import SheetCells, formula_values, patch_sheet_xml, read_cells, store_formula_values

REPO = Path(__file__).resolve().parents[1]
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) saknas")


def cells_of(path: Path) -> dict[str, SheetCells]:
    with zipfile.ZipFile(path) as zf:
        return read_cells(zf)[0]


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-9)
    return a == b


# ---------------------------------------------------------------- the XML edit

def test_patch_gives_formula_cells_their_result_and_type() -> None:
    xml = ('<sheetData><row r="1"><c r="A1" s="2"><f>SUM(B1:B2)</f><v></v></c><c r="B1" t="s"><v>0</v></c>'
           '<c r="C1" t="str"><f>IF(1,"a","b")</f><v>old</v></c><c r="D1"><f>1=1</f><v/></c>'
           '<c r="E1" s="3"/><c r="F1"><f>X1</f></c></row></sheetData>')
    out, n = patch_sheet_xml(xml, {"A1": 3.0, "B1": 9.0, "C1": "Ej <uppfyllt> & mer", "D1": True, "E1": 1.0,
                                   "F1": 0.1})
    assert n == 4  # B1 and E1 hold no formula: left alone
    assert '<c r="A1" s="2"><f>SUM(B1:B2)</f><v>3</v></c>' in out
    assert '<c r="B1" t="s"><v>0</v></c>' in out and '<c r="E1" s="3"/>' in out
    assert '<c r="C1" t="str"><f>IF(1,"a","b")</f><v>Ej &lt;uppfyllt&gt; &amp; mer</v></c>' in out
    assert '<c r="D1" t="b"><f>1=1</f><v>1</v></c>' in out
    assert '<c r="F1"><f>X1</f><v>0.1</v></c>' in out


def test_formula_values_follow_excel_rules() -> None:
    sheet = SheetCells(
        values={"A1": "uppfyllt", "A2": "Uppfyllt", "A3": "Ej uppfyllt", "B1": 5.0, "B2": "text", "C1": 10.0,
                "C2": 4.0, "D2": "x"},
        formulas={"E1": '=COUNTIF($A$1:$A$4,"Uppfyllt")', "E2": "=COUNTBLANK(A1:A4)", "E3": "=SUM(B1:B3)",
                  "E4": '=IF(ISBLANK(C1),"",C1-B1)', "E5": '=IF(ISBLANK(C3),"",C3-B1)',
                  "E6": '=IF(OR(C1="",C2=""),"",C1*C2)', "E7": '=IF(OR(C1="",D2=""),"",C1*D2)',
                  "E8": '=IF(COUNT(E4:E5)=0,"",SUM(E4:E5))', "E9": '=IF(COUNT(E5:E5)=0,"",SUM(E5:E5))',
                  "E10": "=VLOOKUP(A1,A1:B2,2,FALSE)", "E11": '=COUNTIF(S1:S2,"Uppfyllt")',
                  "S1": "=UNKNOWN()"},
        cached={})
    values = formula_values({"Blad": sheet})["Blad"]
    assert values["E1"] == 2  # case ignored, whole cell
    assert values["E2"] == 1  # A4 is empty
    assert values["E3"] == 5  # text ignored
    assert values["E4"] == 5 and values["E5"] == ""
    assert values["E6"] == 40
    assert "E7" not in values  # text times a number is #VALUE! in Excel: left to Excel
    assert values["E8"] == 5 and values["E9"] == ""
    assert "E10" not in values and "S1" not in values and "E11" not in values  # unknown formulas, and what reads them


def test_a_known_status_result_is_counted_and_a_sheet_prefix_is_read() -> None:
    ind = SheetCells({"N7": "Uppfyllt"}, {"N6": "=IF(1,2,3)"}, {})
    over = SheetCells({}, {"C1": "=COUNTIF('Mål och ''x'''!$N$6:$N$7,\"Uppfyllt\")"}, {})
    values = formula_values({"Mål och 'x'": ind, "Översikt": over}, {("Mål och 'x'", "N6"): "Uppfyllt"})
    assert values["Översikt"]["C1"] == 2
    assert values["Mål och 'x'"]["N6"] == "Uppfyllt"


# ---------------------------------------------------------------- department workbooks

def type_outcomes(path: Path) -> None:
    """Outcomes, an assessment, a forecast and a text typed in: saved the way flag and pull save."""
    book = read_department_workbook(path)
    wb = load_for_edit(path)

    def put(sheet: str, row_id: str, key: str, value: Any) -> None:
        address = book.address(sheet, row_id, key)
        if address is not None:
            wb[book.actual_sheet_name(sheet)][address] = value

    put(INDICATORS, "I|I1|", "outcome", 91.5)  # met
    put(INDICATORS, "I|I2|Äldre", "outcome", 60)  # not met
    put(INDICATORS, "I|I2|Funktionsstöd", "outcome", "70 %")  # text: the formula says Utfall saknas
    put(INDICATORS, "I|I3|", "outcome", 7.9)  # partly
    put(INDICATORS, "I|I4|", "assessment", " delvis  UPPFYLLT ")
    put("Ekonomi", "E|Intäkter", "forecast", 1500)
    put("Ekonomi", "E|Personalkostnader", "forecast", -35412.25)
    put("Internkontroll", "K|IK1", "probability", 4)
    save_edited(wb, path)


@pytest.fixture
def written(tiny_plan_path: Path, tmp_path: Path) -> list[Path]:
    files = fill(tiny_plan_path, "2024-delår", None, tmp_path / "ut").written
    files += fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path / "xlsm", fmt="xlsm").written
    von = REPO / "templates" / "alingsas-von-2024.xlsx"
    examples = fill(von, "2024-delår", None, tmp_path / "von", fmt="xlsm").written
    for path in files:
        type_outcomes(path)
    plan = read_plan(von)
    assert sum(type_example_values(path, plan) for path in examples) > 10  # the plan's baselines as outcomes
    for path in examples:  # and varied numbers in the other outcome and comparison cells
        book = read_department_workbook(path)
        wb = load_for_edit(path)
        ws = wb[book.actual_sheet_name(INDICATORS)]
        for row in book.sheets[INDICATORS].rows.values():
            for key, spread in (("outcome", 100), ("comparison", 90)):
                address = row.cells.get(key)
                if address is not None and ws[address].value is None:
                    ws[address] = round((row.number * 37 + spread) % spread * 1.1, 1)
        save_edited(wb, path)
    return files + examples


def test_every_formula_cell_xlplan_writes_has_a_stored_result(written: list[Path]) -> None:
    for path in written:
        for name, sheet in cells_of(path).items():
            missing = set(sheet.formulas) - set(sheet.cached)
            assert not missing, f"{path.name}!{name}: {sorted(missing)}"
    cells = cells_of(written[0])
    book = read_department_workbook(written[0])
    status = {r: cells[INDICATORS].cached[book.address(INDICATORS, r, "status")]
              for r in book.sheets[INDICATORS].rows}
    assert status == {"I|I1|": "Uppfyllt", "I|I2|Äldre": "Ej uppfyllt", "I|I2|Funktionsstöd": "Utfall saknas",
                      "I|I3|": "Delvis uppfyllt"}
    assert cells[OVERVIEW].cached[book.address(OVERVIEW, "S|I|Uppfyllt", "value")] == 1


@needs_soffice
def test_stored_results_equal_libreoffices(written: list[Path], tmp_path: Path) -> None:
    from xlplan.io.lo import recalc_many

    (tmp_path / "in").mkdir()
    copies = [Path(shutil.copy(p, tmp_path / "in" / f"{i}{p.suffix}")) for i, p in enumerate(written)]
    recalculated = recalc_many(copies, tmp_path / "lo")
    compared = 0
    for ours, theirs in zip(written, recalculated):
        lo_cells = cells_of(theirs)
        for name, sheet in cells_of(ours).items():
            for a1 in sheet.formulas:
                stored, computed = sheet.cached.get(a1), lo_cells[name].cached.get(a1, "")
                assert same(stored, computed), f"{ours.name}!{name}!{a1}: lagrat {stored!r}, LibreOffice {computed!r}"
                compared += 1
    assert compared > 150


def test_opening_and_saving_unchanged_keeps_the_results(written: list[Path]) -> None:
    path = written[0]
    before = cells_of(path)
    save_edited(load_for_edit(path), path)
    after = cells_of(path)
    assert {n: s.cached for n, s in after.items()} == {n: s.cached for n, s in before.items()}
    with zipfile.ZipFile(path) as zf:
        calc = re.search(r"<calcPr[^>]*>", zf.read("xl/workbook.xml").decode())
    # every result stored: Excel's current engine id and no full calculation on open, so Excel shows the
    # stored results and does not ask to save a file nobody changed
    assert calc is not None and calc.group(0) == '<calcPr calcId="191029"/>'


def test_a_status_formula_edited_by_hand_is_left_to_excel(written: list[Path]) -> None:
    path = written[0]
    book = read_department_workbook(path)
    cell = book.address(INDICATORS, "I|I1|", "status")
    wb = openpyxl.load_workbook(path)
    wb[INDICATORS][cell] = '=IF(M6>1,"Uppfyllt","Ej uppfyllt")'
    wb.save(path)
    assert store_formula_values(path) > 0
    cells = cells_of(path)
    assert cell not in cells[INDICATORS].cached  # not the formula xlplan makes for the row
    counts = book.address(OVERVIEW, "S|I|Uppfyllt", "value")
    assert counts not in cells[OVERVIEW].cached  # a count reading it is unknown too
    assert book.address(INDICATORS, "I|I3|", "status") in cells[INDICATORS].cached
    with zipfile.ZipFile(path) as zf:  # Excel computes what xlplan does not know when the file is opened
        assert '<calcPr calcId="191029" fullCalcOnLoad="1"/>' in zf.read("xl/workbook.xml").decode()


def test_calc_settings_keep_other_attributes() -> None:
    from xlplan.io.storedvalues import calc_settings

    xml = '<workbook><calcPr calcId="124519" calcMode="manual" fullCalcOnLoad="1"/></workbook>'
    assert calc_settings(xml, True) == '<workbook><calcPr calcId="191029" calcMode="manual"/></workbook>'
    assert calc_settings(xml, False) == \
        '<workbook><calcPr calcId="191029" fullCalcOnLoad="1" calcMode="manual"/></workbook>'


def test_a_huge_range_is_left_to_excel_and_a_broken_file_is_left_alone(tmp_path: Path) -> None:
    sheet = SheetCells({"A1": 1.0}, {"B1": "=SUM(A1:A1048576)", "B2": "=SUM(A1:A2)"}, {})
    assert formula_values({"Blad": sheet}) == {"Blad": {"B2": 1.0}}
    broken = tmp_path / "trasig.xlsx"
    broken.write_bytes(b"PK\x03\x04 inte en arbetsbok")
    assert store_formula_values(broken) == 0 and broken.read_bytes() == b"PK\x03\x04 inte en arbetsbok"
