"""The remote-engine harness: file → payload → xw.Book(json=…) → actions → file."""

from __future__ import annotations

import datetime as dt
import json
import re
import shutil
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.table import Table, TableStyleInfo

from xlplan.core.errors import BadInput, WorkbookUnreadable
from xlremote import (
    EMULATED_ACTIONS,
    VBA_CLIENT_ACTIONS,
    Alert,
    RemoteActionError,
    UnsupportedAction,
    _excel_value,
    apply_actions,
    mock_caller,
    open_remote_book,
    payload_from_file,
    run_with_caller,
    vba_client_problems,
)

xw = pytest.importorskip("xlwings")


@pytest.fixture
def source(tmp_path: Path) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = "Mål"
    ws.append(["Indikator", "Utfall", "Datum", "Klar"])
    ws.append(["I1", 88.5, dt.date(2024, 3, 31), True])
    ws.append(["I2", 12, dt.datetime(2024, 6, 30, 14, 15), False])
    ws["B4"] = "=SUM(B2:B3)"
    ws["B2"].number_format = "0.0"
    ws.sheet_view.selection[0].sqref = "B3"
    ws.sheet_view.selection[0].activeCell = "B3"
    hidden = wb.create_sheet("Dold")
    hidden.sheet_state = "hidden"
    hidden["B2"] = "hemlig"
    wb.create_sheet("Tom")
    data = wb.create_sheet("Data sheet")
    for row in (["Id", "Värde"], ["a", 1], ["b", 2]):
        data.append(row)
    table = Table(displayName="Tabell1", ref="A1:B3")
    table.tableStyleInfo = TableStyleInfo(name="TableStyleMedium2", showRowStripes=True)
    data.add_table(table)
    wb.defined_names["Utfall"] = DefinedName("Utfall", attr_text="Mål!$B$2:$B$3")
    wb.defined_names["Konstant"] = DefinedName("Konstant", attr_text="42")
    hidden.defined_names["Lokal"] = DefinedName("Lokal", attr_text="Dold!$B$2")
    path = tmp_path / "uppfoljning.xlsx"
    wb.save(path)
    return path


# ---------------------------------------------------------------- payload


def test_payload_has_the_vba_client_schema(source: Path) -> None:
    payload = payload_from_file(source)
    assert payload["client"] == "VBA"
    assert payload["version"] == xw.__version__
    assert payload["book"] == {"name": "uppfoljning.xlsx", "active_sheet_index": 0, "selection": "B3"}
    assert [s["name"] for s in payload["sheets"]] == ["Mål", "Dold", "Tom", "Data sheet"]
    for sheet in payload["sheets"]:
        assert set(sheet) == {"name", "values", "pictures", "tables"}
    assert json.loads(json.dumps(payload)) == payload


def test_payload_values_are_sent_as_vba_json_sends_them(source: Path) -> None:
    sheets = {s["name"]: s["values"] for s in payload_from_file(source)["sheets"]}
    assert sheets["Mål"][1] == ["I1", 88.5, "2024-03-31T00:00:00.000Z", True]
    assert sheets["Mål"][2] == ["I2", 12, "2024-06-30T14:15:00.000Z", False]
    assert sheets["Mål"][3] == [None, None, None, None]  # formula without a saved result
    assert sheets["Dold"] == [[None, None], [None, "hemlig"]]  # from A1, hidden included
    assert sheets["Tom"] == [[]]


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_recalculate_gives_the_values_excel_would_show(source: Path) -> None:
    sheets = {s["name"]: s["values"] for s in payload_from_file(source, recalculate=True)["sheets"]}
    assert sheets["Mål"][3][1] == 100.5  # =SUM(B2:B3)
    assert sheets["Mål"][1] == ["I1", 88.5, "2024-03-31T00:00:00.000Z", True]
    assert sheets["Dold"] == [[None, None], [None, "hemlig"]]


def test_payload_names_are_named_ranges_only(source: Path) -> None:
    names = {n["name"]: n for n in payload_from_file(source)["names"]}
    assert set(names) == {"Utfall", "Dold!Lokal"}
    assert names["Utfall"] == {
        "name": "Utfall", "sheet_index": 0, "address": "B2:B3", "book_scope": True,
        "scope_sheet_name": None, "scope_sheet_index": None,
    }
    assert names["Dold!Lokal"]["scope_sheet_index"] == 1
    assert names["Dold!Lokal"]["book_scope"] is False


def test_payload_tables(source: Path) -> None:
    (table,) = payload_from_file(source)["sheets"][3]["tables"]
    assert table == {
        "name": "Tabell1", "range_address": "$A$1:$B$3", "header_row_range_address": "$A$1:$B$1",
        "data_body_range_address": "$A$2:$B$3", "total_row_range_address": None,
        "show_headers": True, "show_totals": False, "table_style": "TableStyleMedium2",
        "show_autofilter": True,
    }


def test_payload_overrides_and_bad_input(source: Path, tmp_path: Path) -> None:
    book = payload_from_file(source, active_sheet="Data sheet", selection="A2:B3")["book"]
    assert (book["active_sheet_index"], book["selection"]) == (3, "A2:B3")
    with pytest.raises(BadInput, match="bladet 'Saknas' finns inte"):
        payload_from_file(source, active_sheet="Saknas")
    broken = tmp_path / "trasig.xlsx"
    broken.write_bytes(b"not a zip")
    with pytest.raises(WorkbookUnreadable, match="trasig.xlsx"):
        payload_from_file(broken)


# ---------------------------------------------------------------- remote book


def test_remote_book_reads_the_file(source: Path) -> None:
    book = open_remote_book(source)
    sheet = book.sheets["Mål"]
    assert sheet["A1:D1"].value == ["Indikator", "Utfall", "Datum", "Klar"]
    assert sheet["C2"].value == dt.datetime(2024, 3, 31)
    assert book.names["Utfall"].refers_to_range.value == [88.5, 12]
    assert book.sheets["Data sheet"]["Tabell1"].value == [["a", 1], ["b", 2]]
    assert book.app.selection.address == "$B$3"
    assert book.sheets.active.name == "Mål"
    assert not book.sheets["Dold"].api.get("visibility")  # the VBA client sends no visibility


def test_a_value_written_reads_back_old_until_applied(source: Path) -> None:
    book = open_remote_book(source)
    book.sheets["Mål"]["B2"].value = 99
    assert book.sheets["Mål"]["B2"].value == 88.5


def test_mock_caller_returns_the_book_only_inside_the_block(source: Path) -> None:
    book = open_remote_book(source)
    with mock_caller(book):
        caller = xw.Book.caller()
        assert caller == book and caller.impl is book.impl
    _assert_no_mock_caller()


def _assert_no_mock_caller() -> None:
    assert "_mock_caller" not in vars(xw.Book)
    with pytest.raises(Exception):  # noqa: B017 - what it raises differs by platform
        xw.Book.caller()


# ---------------------------------------------------------------- round trip


def _edit(book) -> None:
    sheet = book.sheets["Mål"]
    sheet["B2"].value = 90
    sheet["E1:E3"].value = [["Kommentar"], ["Bra"], ["=B3*2"]]
    sheet["F2"].value = dt.date(2024, 12, 31)
    sheet["B2:B3"].number_format = "0.00"
    sheet["A2"].color = (198, 239, 206)
    sheet["A3"].color = "#FFC7CE"
    new = book.sheets.add("Kontroll", after=book.sheets["Data sheet"])
    new["A1"].value = "Inga fel"
    book.names.add("Kommentarer", "=Mål!$E$2:$E$3")
    sheet["G1"].add_hyperlink("https://www.kolada.se", "Kolada", "Öppna Kolada")
    book.app.alert("Klart: 2 indikatorer uppdaterade.", title="xlplan", mode="info")


def test_round_trip_applies_values_formats_fills_sheets_names_alerts(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    _edit(book)
    actions = book.json()["actions"]
    out = tmp_path / "ut.xlsx"
    alerts = apply_actions(source, actions, out)
    assert alerts == [Alert("Klart: 2 indikatorer uppdaterade.", "xlplan", "ok", "info", "")]
    wb = load_workbook(out)
    ws = wb["Mål"]
    assert ws["B2"].value == 90 and ws["B3"].value == 12
    assert [ws.cell(r, 5).value for r in (1, 2, 3)] == ["Kommentar", "Bra", "=B3*2"]
    assert ws["F2"].value == dt.datetime(2024, 12, 31) and ws["F2"].is_date
    assert ws["B2"].number_format == ws["B3"].number_format == "0.00"
    assert ws["A2"].fill.fgColor.rgb == "FFC6EFCE" and ws["A2"].fill.fill_type == "solid"
    assert ws["A3"].fill.fgColor.rgb == "FFFFC7CE"
    assert ws["B4"].value == "=SUM(B2:B3)"  # untouched formula survives
    assert wb.sheetnames == ["Mål", "Dold", "Tom", "Data sheet", "Kontroll"]
    assert wb["Dold"].sheet_state == "hidden"
    assert wb["Kontroll"]["A1"].value == "Inga fel"
    assert wb.defined_names["Kommentarer"].attr_text == "Mål!$E$2:$E$3"
    assert ws["G1"].value == "Kolada" and ws["G1"].hyperlink.target == "https://www.kolada.se"
    assert ws["G1"].hyperlink.tooltip == "Öppna Kolada"
    assert load_workbook(source)["Mål"]["B2"].value == 88.5  # the source is not touched


def test_applied_file_reads_back_through_a_new_remote_book(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    _edit(book)
    out = tmp_path / "ut.xlsx"
    apply_actions(source, book.json()["actions"], out)
    again = open_remote_book(out)
    assert again.sheets["Mål"]["B2"].value == 90
    assert again.sheets["Kontroll"]["A1"].value == "Inga fel"
    assert again.names["Kommentarer"].refers_to_range.value == ["Bra", None]


def test_sheet_rename_delete_activate_and_name_delete(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    book.sheets["Tom"].name = "Tomt blad"
    book.sheets["Data sheet"].activate()
    book.sheets["Dold"].delete()
    book.names["Utfall"].delete()
    out = tmp_path / "ut.xlsx"
    apply_actions(source, book.json()["actions"], out)
    wb = load_workbook(out)
    assert wb.sheetnames == ["Mål", "Tomt blad", "Data sheet"]
    assert wb.active.title == "Data sheet"
    assert "Utfall" not in wb.defined_names


def test_clearing_contents_keeps_formats_and_clear_removes_both(source: Path, tmp_path: Path) -> None:
    wb = load_workbook(source)
    wb["Mål"]["A2"].fill = __import__("openpyxl").styles.PatternFill("solid", fgColor="FFFF0000")
    wb.save(source)
    book = open_remote_book(source)
    book.sheets["Mål"]["A2:B2"].clear_contents()
    book.sheets["Mål"]["A3:B3"].clear()
    book.sheets["Mål"]["C:C"].number_format = "yyyy-mm-dd"
    out = tmp_path / "ut.xlsx"
    apply_actions(source, book.json()["actions"], out)
    ws = load_workbook(out)["Mål"]
    assert ws["A2"].value is None and ws["A2"].fill.fgColor.rgb == "FFFF0000"
    assert ws["B2"].number_format == "0.0"
    assert ws["A3"].value is None and ws["B3"].number_format == "General"
    assert ws["C2"].number_format == "yyyy-mm-dd" and ws["C3"].number_format == "yyyy-mm-dd"
    assert ws.max_row < 100  # a whole column is formatted without creating a million cells


def test_xlsm_keeps_its_vba_project(tmp_path: Path) -> None:
    xlsm = Path(xw.__file__).parent / "quickstart_standalone.xlsm"
    book = open_remote_book(xlsm)
    book.sheets[0]["A1"].value = "Hej"
    out = tmp_path / "ut.xlsm"
    apply_actions(xlsm, book.json()["actions"], out)
    with zipfile.ZipFile(xlsm) as before, zipfile.ZipFile(out) as after:
        assert after.read("xl/vbaProject.bin") == before.read("xl/vbaProject.bin")
    assert load_workbook(out, keep_vba=True).worksheets[0]["A1"].value == "Hej"


# ---------------------------------------------------------------- refusals


def test_an_action_the_vba_client_cannot_run_is_refused_and_nothing_written(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    book.sheets["Mål"]["A1"].value = "ny"
    book.sheets["Mål"]["A1"].font.bold = True
    out = tmp_path / "ut.xlsx"
    with pytest.raises(UnsupportedAction, match="'setFontProperty': the VBA client of xlwings Server has no Sub"):
        apply_actions(source, book.json()["actions"], out)
    assert not out.exists()


def test_no_fill_is_refused_because_the_vba_client_fails_on_null(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    book.sheets["Mål"]["A1"].color = None
    assert vba_client_problems(book.json()["actions"])
    with pytest.raises(UnsupportedAction, match="HexToRgb"):
        apply_actions(source, book.json()["actions"], tmp_path / "ut.xlsx")


def test_vba_actions_not_emulated_are_named(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    book.sheets["Mål"].tables.add(book.sheets["Mål"]["A1:D3"], name="Ny")
    with pytest.raises(UnsupportedAction, match="not emulated by xlremote: addTable"):
        apply_actions(source, book.json()["actions"], tmp_path / "ut.xlsx")


def test_failed_action_names_itself_and_leaves_no_file(source: Path, tmp_path: Path) -> None:
    action = {"func": "setSheetName", "args": ["Mål"], "values": None, "sheet_position": 2,
              "start_row": None, "start_column": None, "row_count": None, "column_count": None}
    out = tmp_path / "ut.xlsx"
    with pytest.raises(RemoteActionError, match="action 0 'setSheetName': a sheet named 'Mål' already exists"):
        apply_actions(source, [action], out)
    assert not out.exists() and not list(tmp_path.glob(".~xlplan-*"))


def test_vba_client_actions_are_the_subs_of_remote_bas() -> None:
    remote_bas = (Path(xw.__file__).parent / "addin" / "Remote.bas").read_text(encoding="latin-1")
    subs = set(re.findall(r"^Sub (\w+)\(wb As Workbook, action As Dictionary\)", remote_bas, re.M))
    assert subs == VBA_CLIENT_ACTIONS and len(subs) == 37
    assert EMULATED_ACTIONS <= VBA_CLIENT_ACTIONS


@pytest.mark.parametrize(
    ("raw", "number_format", "expected"),
    [
        ("", "General", (None, False)),
        ("0012", "General", (12, False)),  # Excel turns digits into a number …
        ("0012", "@", ("0012", False)),  # … unless the cell is formatted as text
        ("'0012", "General", ("0012", True)),
        ("1.5", "General", ("1.5", False)),  # locale-dependent in Excel: left as text
        ("2024-01-31", "General", (dt.date(2024, 1, 31), False)),
        ("2024-01-31 12:30:00", "General", (dt.datetime(2024, 1, 31, 12, 30), False)),
        ("2024-02-30", "General", ("2024-02-30", False)),
        ("=SUM(A1:A2)", "General", ("=SUM(A1:A2)", False)),
        ("'=inte en formel", "General", ("=inte en formel", True)),
        ("true", "General", (True, False)),
        (2.5, "0.0", (2.5, False)),
        (True, "General", (True, False)),
    ],
)
def test_excel_value(raw, number_format, expected) -> None:
    assert _excel_value(raw, number_format) == expected


def test_apostrophe_keeps_text_that_looks_like_a_formula(source: Path, tmp_path: Path) -> None:
    book = open_remote_book(source)
    book.sheets["Mål"]["A5:B5"].value = ["'=inte en formel", "'0012"]
    out = tmp_path / "ut.xlsx"
    apply_actions(source, book.json()["actions"], out)
    ws = load_workbook(out)["Mål"]
    assert (ws["A5"].value, ws["A5"].data_type) == ("=inte en formel", "s")
    assert ws["B5"].value == "0012" and ws["B5"].quotePrefix


@pytest.fixture
def protected(source: Path) -> Path:
    from openpyxl.styles import Protection

    wb = load_workbook(source)
    ws = wb["Mål"]
    ws["B3"].protection = Protection(locked=False)
    ws.protection.sheet = True
    wb.save(source)
    return source


def test_protected_sheet_refuses_locked_cells_like_excel(protected: Path, tmp_path: Path) -> None:
    book = open_remote_book(protected)
    book.sheets["Mål"]["B3"].value = 7  # unlocked: fine
    book.sheets["Mål"]["B2"].value = 7
    out = tmp_path / "ut.xlsx"
    with pytest.raises(RemoteActionError, match="action 1 'setValues': sheet 'Mål' is protected and cell B2 is locked"):
        apply_actions(protected, book.json()["actions"], out)
    assert not out.exists()
    apply_actions(protected, book.json()["actions"], out, enforce_protection=False)
    assert load_workbook(out)["Mål"]["B2"].value == 7


def test_protected_sheet_refuses_formats(protected: Path, tmp_path: Path) -> None:
    book = open_remote_book(protected)
    book.sheets["Mål"]["B3"].color = "#FFEB9C"
    with pytest.raises(RemoteActionError, match="without 'format cells' allowed: Excel refuses to format B3"):
        apply_actions(protected, book.json()["actions"], tmp_path / "ut.xlsx")


# ---------------------------------------------------------------- a button


def _button() -> str:
    book = xw.Book.caller()
    sheet = book.sheets.active
    utfall = sheet["B2:B3"].value
    sheet["E1"].value = "Summa"
    sheet["E2"].value = sum(utfall)
    sheet["E2"].color = "#C6EFCE"
    book.app.alert(f"Summa {sum(utfall):g}", title="xlplan")
    return "ok"


def test_run_with_caller(source: Path, tmp_path: Path) -> None:
    run = run_with_caller(source, _button, out=tmp_path / "ut.xlsx")
    assert run.result == "ok"
    assert [a["func"] for a in run.actions] == ["setValues", "setValues", "setRangeColor", "alert"]
    assert run.alerts == [Alert("Summa 100.5", "xlplan", "ok", "", "")]
    ws = load_workbook(run.out)["Mål"]
    assert ws["E2"].value == 100.5 and ws["E2"].fill.fgColor.rgb == "FFC6EFCE"
    _assert_no_mock_caller()
