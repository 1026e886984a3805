"""make_xlsm end to end: package structure, VBA modules (via oletools), ribbon, openpyxl, determinism."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
import xlwings
from defusedxml import ElementTree as safe_xml
from oletools.olevba import decompress_stream
from openpyxl.chart import BarChart, Reference

from xlplan.core.errors import WorkbookUnreadable
from xlplan.xlsm import VbaModule, build_vba_project, default_modules, make_xlsm, read_vba_modules, ribbon_xml
from xlplan.xlsm.package import stored_sources
from xlplan.xlsm.sources import ribbon_actions, vba_subs, xlwings_vba_version
from xlplan.xlsm.vbaproject import CHARTSHEET_BASE, document_header

CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


def write_xlsx(path: Path, code_names: dict[str, str] | None = None) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Översikt"
    for i in range(1, 6):
        ws.append([f"Rad {i}", i * i])
    chart_sheet = wb.create_chartsheet("Diagram")
    chart = BarChart()
    chart.add_data(Reference(ws, min_col=2, min_row=1, max_row=5))
    chart_sheet.add_chart(chart)
    wb.create_sheet("Mål och indikatorer")
    wb.create_sheet("xlwings.conf").sheet_state = "hidden"
    for title, name in (code_names or {}).items():
        wb[title].sheet_properties.codeName = name
    wb.save(path)
    return path


@pytest.fixture
def xlsx(tmp_path: Path) -> Path:
    return write_xlsx(tmp_path / "in.xlsx")


@pytest.fixture
def xlsm(xlsx: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out.xlsm"
    make_xlsm(xlsx, out)
    return out


def part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as zf:
        return zf.read(name)


def rels(path: Path, name: str) -> dict[str, str]:
    return {el.get("Type"): el.get("Target") for el in safe_xml.fromstring(part(path, name)).iter(REL + "Relationship")}


def test_zip_is_well_formed_and_content_types_come_first(xlsm: Path) -> None:
    with zipfile.ZipFile(xlsm) as zf:
        assert zf.testzip() is None
        names = zf.namelist()
        for name in names:
            if name.endswith((".xml", ".rels")):
                safe_xml.fromstring(zf.read(name))
    assert names[0] == "[Content_Types].xml"
    assert {"xl/vbaProject.bin", "customUI/customUI14.xml"} <= set(names)


def test_content_types(xlsm: Path) -> None:
    root = safe_xml.fromstring(part(xlsm, "[Content_Types].xml"))
    overrides = {el.get("PartName"): el.get("ContentType") for el in root.iter(CT + "Override")}
    defaults = {el.get("Extension"): el.get("ContentType") for el in root.iter(CT + "Default")}
    assert overrides["/xl/workbook.xml"] == "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
    assert overrides["/xl/vbaProject.bin"] == "application/vnd.ms-office.vbaProject"
    assert overrides.get("/customUI/customUI14.xml", defaults["xml"]) == "application/xml"
    assert "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml" not in overrides.values()


def test_relationships(xlsm: Path) -> None:
    package = rels(xlsm, "_rels/.rels")
    assert package["http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"] == "customUI/customUI14.xml"
    assert package["http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"] == "xl/workbook.xml"
    workbook = rels(xlsm, "xl/_rels/workbook.xml.rels")
    assert workbook["http://schemas.microsoft.com/office/2006/relationships/vbaProject"] == "vbaProject.bin"
    ids = [el.get("Id") for el in safe_xml.fromstring(part(xlsm, "xl/_rels/workbook.xml.rels"))]
    assert len(ids) == len(set(ids))


def code_names(path: Path) -> tuple[str | None, list[str | None]]:
    wb_pr = safe_xml.fromstring(part(path, "xl/workbook.xml")).find(MAIN + "workbookPr")
    sheets = []
    for name in ("xl/worksheets/sheet1.xml", "xl/chartsheets/sheet1.xml", "xl/worksheets/sheet2.xml",
                 "xl/worksheets/sheet3.xml"):
        pr = safe_xml.fromstring(part(path, name)).find(MAIN + "sheetPr")
        sheets.append(None if pr is None else pr.get("codeName"))
    return wb_pr.get("codeName"), sheets


def test_code_names_match_document_modules(xlsm: Path) -> None:
    workbook, sheets = code_names(xlsm)
    assert (workbook, sheets) == ("ThisWorkbook", ["Sheet1", "Sheet2", "Sheet3", "Sheet4"])
    modules = read_vba_modules(xlsm)
    for name in [workbook, *sheets]:
        assert f'Attribute VB_Name = "{name}"' in modules[name]
    assert 'Attribute VB_Base = "0{00020821-0000-0000-C000-000000000046}"' in modules["Sheet2"]  # chart sheet


def test_existing_code_names_are_kept(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "in.xlsx", {"Översikt": "Oversikt", "Mål och indikatorer": "Sheet1"})
    out = tmp_path / "out.xlsm"
    make_xlsm(src, out)
    _, sheets = code_names(out)
    assert sheets[0] == "Oversikt" and sheets[2] == "Sheet1"
    assert len(set(sheets)) == 4
    assert set(sheets) <= set(read_vba_modules(out))


def test_every_module_round_trips_byte_for_byte(xlsm: Path) -> None:
    expected = stored_sources(default_modules())
    modules = read_vba_modules(xlsm)
    for name, text in expected.items():
        assert modules[name] == text
    ole = olefile.OleFileIO(io.BytesIO(part(xlsm, "xl/vbaProject.bin")))
    for name, text in expected.items():
        raw = bytes(decompress_stream(bytearray(ole.openstream("VBA/" + name).read())))
        assert raw == text.encode("cp1252")


def test_xlwings_module_is_the_installed_one(xlsm: Path) -> None:
    code = read_vba_modules(xlsm)["xlwings"]
    installed = (Path(xlwings.__file__).parent / "xlwings.bas").read_bytes().decode("cp1252")
    assert code == installed
    assert xlwings_vba_version(code) == xlwings.__version__


def test_every_ribbon_action_has_a_sub(xlsm: Path) -> None:
    ribbon = part(xlsm, "customUI/customUI14.xml").decode("utf-8")
    assert ribbon == ribbon_xml()
    subs = {s.upper() for code in read_vba_modules(xlsm).values() for s in vba_subs(code)}
    actions = ribbon_actions(ribbon)
    assert len(actions) == 7
    assert all(a.upper() in subs for a in actions)


def test_openpyxl_loads_the_result(xlsm: Path, tmp_path: Path) -> None:
    wb = openpyxl.load_workbook(xlsm, keep_vba=True)
    assert wb.sheetnames == ["Översikt", "Diagram", "Mål och indikatorer", "xlwings.conf"]
    assert wb.code_name == "ThisWorkbook"
    assert [ws.sheet_properties.codeName for ws in wb.worksheets] == ["Sheet1", "Sheet3", "Sheet4"]
    assert wb["Översikt"]["B5"].value == 25
    assert wb.vba_archive is not None
    assert wb.vba_archive.read("xl/vbaProject.bin") == part(xlsm, "xl/vbaProject.bin")


def test_build_is_deterministic(xlsx: Path, tmp_path: Path) -> None:
    first, second = tmp_path / "a.xlsm", tmp_path / "b.xlsm"
    make_xlsm(xlsx, first)
    make_xlsm(xlsx, second)
    assert first.read_bytes() == second.read_bytes()
    with zipfile.ZipFile(first) as zf:
        assert {info.date_time for info in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_rebuilding_an_xlsm_is_idempotent(xlsm: Path, tmp_path: Path) -> None:
    again = tmp_path / "again.xlsm"
    make_xlsm(xlsm, again)
    assert again.read_bytes() == xlsm.read_bytes()


def test_custom_modules_and_document_code(xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "custom.xlsm"
    modules = [
        VbaModule("Sheet1", "Private Sub Worksheet_Activate()\r\n    Beep\r\nEnd Sub\r\n", "document"),
        VbaModule("Knappar", "Sub Go(control As Object)\r\nEnd Sub\r\n", "standard"),
    ]
    ribbon = ('<customUI xmlns="http://schemas.microsoft.com/office/2009/07/customui"><ribbon><tabs>'
              '<tab id="t" label="Å"><group id="g" label="G"><button id="b" label="B" onAction="Go"/>'
              '</group></tab></tabs></ribbon></customUI>')
    make_xlsm(xlsx, out, modules=modules, ribbon_xml=ribbon)
    read = read_vba_modules(out)
    assert set(read) == {"ThisWorkbook", "Sheet1", "Sheet2", "Sheet3", "Sheet4", "Knappar"}
    assert read["Sheet1"].endswith("    Beep\r\nEnd Sub\r\n")
    assert part(out, "customUI/customUI14.xml").decode("utf-8") == ribbon


def test_without_ribbon(xlsx: Path, tmp_path: Path) -> None:
    out = tmp_path / "plain.xlsm"
    make_xlsm(xlsx, out, ribbon_xml="")
    assert "customUI/customUI14.xml" not in zipfile.ZipFile(out).namelist()
    assert not any("ui/extensibility" in t for t in rels(out, "_rels/.rels"))


def test_refuses_an_action_without_a_sub(xlsx: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="XlplanFill"):
        make_xlsm(xlsx, tmp_path / "x.xlsm", modules=[VbaModule("M", "Sub Other()\nEnd Sub\n", "standard")])
    assert not (tmp_path / "x.xlsm").exists()


def test_refuses_a_document_module_without_a_host(xlsx: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Sheet99"):
        make_xlsm(xlsx, tmp_path / "x.xlsm", modules=[VbaModule("Sheet99", "", "document")], ribbon_xml="")


def test_refuses_code_name_clashing_with_a_module(tmp_path: Path) -> None:
    src = write_xlsx(tmp_path / "in.xlsx", {"Översikt": "XlplanRibbon"})
    with pytest.raises(ValueError, match="collide"):
        make_xlsm(src, tmp_path / "x.xlsm")


def test_refuses_a_wrong_extension(xlsx: Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=".xlsm"):
        make_xlsm(xlsx, tmp_path / "x.xlsx")


def test_unreadable_input_is_reported_in_swedish(tmp_path: Path) -> None:
    bad = tmp_path / "trasig.xlsx"
    bad.write_bytes(b"not a zip")
    with pytest.raises(WorkbookUnreadable, match="trasig.xlsx: filen kan inte läsas"):
        make_xlsm(bad, tmp_path / "x.xlsm")


def test_vba_project_alone_equals_the_packaged_one(xlsm: Path) -> None:
    documents = [VbaModule(n, "", "document") for n in ("ThisWorkbook", "Sheet1", "Sheet2", "Sheet3", "Sheet4")]
    documents[2] = VbaModule("Sheet2", document_header("Sheet2", CHARTSHEET_BASE), "document")
    assert build_vba_project(documents + default_modules()) == part(xlsm, "xl/vbaProject.bin")


def test_sub_parser() -> None:
    code = "Sub A()\r\nPublic Sub B(x)\r\n  Private Sub C()\r\n' Sub D()\r\nFunction E()\r\nEnd Sub\r\n"
    assert vba_subs(code) == {"A", "B", "C"}


def test_restores_the_ribbon_after_an_openpyxl_round_trip(xlsm: Path, tmp_path: Path) -> None:
    via_openpyxl = tmp_path / "openpyxl.xlsm"
    wb = openpyxl.load_workbook(xlsm, keep_vba=True)
    wb["Översikt"]["C1"] = "ändrad"
    wb.save(via_openpyxl)
    assert not any("ui/extensibility" in t for t in rels(via_openpyxl, "_rels/.rels"))  # openpyxl drops it
    fixed = tmp_path / "fixed.xlsm"
    make_xlsm(via_openpyxl, fixed)
    assert "customUI/customUI14.xml" in rels(fixed, "_rels/.rels").values()
    assert code_names(fixed) == code_names(xlsm)
    assert read_vba_modules(fixed) == read_vba_modules(xlsm)
    assert openpyxl.load_workbook(fixed)["Översikt"]["C1"].value == "ändrad"


def test_broken_workbook_part_is_reported(xlsx: Path, tmp_path: Path) -> None:
    broken = tmp_path / "trasig.xlsx"
    with zipfile.ZipFile(xlsx) as src, zipfile.ZipFile(broken, "w") as dst:
        for info in src.infolist():
            data = src.read(info)
            dst.writestr(info, b"<workbook" if info.filename == "xl/workbook.xml" else data)
    with pytest.raises(WorkbookUnreadable, match="trasig.xlsx"):
        make_xlsm(broken, tmp_path / "x.xlsm")


def test_public_surface() -> None:
    import xlplan.xlsm as xlsm_pkg

    assert set(xlsm_pkg.__all__) == {"VbaModule", "build_vba_project", "default_modules", "make_xlsm",
                                     "read_vba_modules", "ribbon_xml"}
    assert all(callable(getattr(xlsm_pkg, name)) for name in xlsm_pkg.__all__)


def test_make_xlsm_from_workbook_equals_make_xlsm_of_the_saved_file(tmp_path: Path) -> None:
    from xlplan.xlsm.package import make_xlsm_from_workbook

    write_xlsx(tmp_path / "in.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "in.xlsx")
    wb.properties.creator = "xlplan"
    make_xlsm_from_workbook(wb, tmp_path / "direct.xlsm")
    wb.save(tmp_path / "saved.xlsx")
    make_xlsm(tmp_path / "saved.xlsx", tmp_path / "via-file.xlsm")
    with zipfile.ZipFile(tmp_path / "direct.xlsm") as a, zipfile.ZipFile(tmp_path / "via-file.xlsm") as b:
        assert a.namelist() == b.namelist()
        differ = [n for n in a.namelist() if a.read(n) != b.read(n)]
        assert all(i.compress_type == zipfile.ZIP_DEFLATED for i in a.infolist())
    assert differ in ([], ["docProps/core.xml"])  # the save time, to the second
    assert read_vba_modules(tmp_path / "direct.xlsm") == read_vba_modules(tmp_path / "via-file.xlsm")
    with pytest.raises(ValueError, match=".xlsm"):
        make_xlsm_from_workbook(wb, tmp_path / "direct.xlsx")
