"""``xlplan flag`` on small filled department workbooks: flags, bad input, idempotence, the file."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from typer.testing import CliRunner

from xlplan.actions.fill import fill
from xlplan.actions.flag import FLAG_LIST_HEADERS, NO_FLAGS, flag, flag_book, flag_workbook, flags_area
from xlplan.books.department.columns import INDICATORS, OVERVIEW
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import read_plan
from xlplan.cli import app
from xlplan.core.errors import BadInput, WorkbookRefused

PERIOD = "2024-helår"
ALL_MET = {"I|I1|": 95, "I|I2|Äldre": 85, "I|I2|Funktionsstöd": 75, "I|I3|": 7}


@pytest.fixture
def books(tiny_plan_path: Path, tmp_path: Path) -> Path:
    """Department workbooks of the tiny plan in tmp_path/books; the plan lies in the folder above."""
    out = tmp_path / "books"
    fill(tiny_plan_path, PERIOD, None, out, generated_at="2026-01-01T00:00:00+00:00")
    return out


def book_of(folder: Path, dep_name: str) -> Path:
    return next(p for p in folder.glob("*.xlsx") if dep_name in p.name)


@pytest.fixture
def ald(books: Path) -> Path:
    return book_of(books, "Äldreomsorg")


@pytest.fixture
def lss(books: Path) -> Path:
    return book_of(books, "Funktionsstöd")


def put(path: Path, values: dict[str, Any], key: str = "outcome") -> dict[str, str]:
    """Write values into one column of indicator rows (by Rad-id); the cells written."""
    book = read_department_workbook(path)
    rows = book.sheets[INDICATORS].rows
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATORS]
    cells = {}
    for row_id, value in values.items():
        cells[row_id] = rows[row_id].cells[key]
        ws[cells[row_id]].value = value
    wb.save(path)
    return cells


def cell_values(path: Path) -> dict[tuple[str, str], Any]:
    wb = openpyxl.load_workbook(path)
    return {(ws.title, c.coordinate): c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row
            if c.value is not None}


def flags_of(path: Path, tiny_plan: Any) -> list[tuple[str, str | None, str | None, str | None]]:
    report = flag_workbook(path, tiny_plan).report
    return [(f.code, f.indicator_id, f.series, f.cell) for f in report.flags]


def flag_list(path: Path) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path)
    area = flags_area(wb)
    assert area is not None
    sheet, first, col = area
    ws = wb[sheet]
    return [tuple(ws.cell(r, c).value for c in range(col, col + len(FLAG_LIST_HEADERS)))
            for r in range(first, ws.max_row + 1)]


# ---------------------------------------------------------------- statuses and flags


def test_all_targets_met_gives_no_flags(ald: Path, tiny_plan: Any) -> None:
    put(ald, ALL_MET)
    report = flag_workbook(ald, tiny_plan).report
    assert {r.row_id: r.status.label for r in report.rows} == {k: "Uppfyllt" for k in ALL_MET}
    assert report.flags == () and not report.flagged
    assert flag_list(ald) == [FLAG_LIST_HEADERS, (NO_FLAGS, None, None, None, None, None)]


def test_missed_partial_missing_and_wrong_direction(ald: Path, tiny_plan: Any) -> None:
    # I1 '>90 %' (Nuläge 88): 85 missed and worse than 88. I2 '>69 %': Äldre 60 (Nuläge 83) missed and worse;
    # Funktionsstöd 68 (Nuläge 67) missed but improved -> Delvis. I3 '7,5 %' (lower is better): empty.
    cells = put(ald, {"I|I1|": 85, "I|I2|Äldre": 60, "I|I2|Funktionsstöd": 68})
    report = flag_workbook(ald, tiny_plan).report
    assert {r.row_id: r.status.label for r in report.rows} == {
        "I|I1|": "Ej uppfyllt", "I|I2|Äldre": "Ej uppfyllt", "I|I2|Funktionsstöd": "Delvis uppfyllt",
        "I|I3|": "Utfall saknas"}
    got = {(f.code, f.indicator_id, f.series) for f in report.flags}
    assert got == {("mal_ej_uppfyllt", "I1", None), ("fel_riktning", "I1", None),
                   ("mal_ej_uppfyllt", "I2", "Äldre"), ("fel_riktning", "I2", "Äldre"),
                   ("mal_delvis_uppfyllt", "I2", "Funktionsstöd"), ("utfall_saknas", "I3", None)}
    partial = next(f for f in report.flags if f.code == "mal_delvis_uppfyllt")
    assert partial.message == ("Delvis uppfyllt: utfallet 68 % når inte målvärdet (över 69 %), men har "
                               "förbättrats jämfört med nuläget 67 %.")
    wrong = next(f for f in report.flags if f.code == "fel_riktning" and f.indicator_id == "I1")
    assert wrong.cell == cells["I|I1|"]
    assert wrong.message == "Utfallet 85 % har gått åt fel håll jämfört med nuläget 88 %."


def test_qualitative_target_assessment(lss: Path, tiny_plan: Any) -> None:
    report = flag_workbook(lss, tiny_plan).report
    assert report.status_of("I4") is not None and report.status_of("I4").label == "Bedöms manuellt"
    missing = next(f for f in report.flags if f.indicator_id == "I4")
    assert missing.code == "bedomning_saknas" and missing.cell is not None and missing.cell.startswith("O")
    put(lss, {"I|I4|": "Ej uppfyllt"}, key="assessment")
    report = flag_workbook(lss, tiny_plan).report
    assert report.status_of("I4").label == "Ej uppfyllt"
    assert [(f.code, f.message) for f in report.flags if f.indicator_id == "I4"] == [
        ("mal_ej_uppfyllt", "Egen bedömning: Ej uppfyllt. Beskriv orsaker och åtgärder i kommentaren.")]
    put(lss, {"I|I4|": "nja"}, key="assessment")
    report = flag_workbook(lss, tiny_plan).report
    assert [f.code for f in report.flags if f.indicator_id == "I4"] == ["bedomning_ogiltig"]


def test_second_limit_and_target_missing(write_tables: Callable[..., Path], tiny_tables: dict[str, Any],
                                         tmp_path: Path) -> None:
    tables = copy.deepcopy(tiny_tables)
    ind = tables["Indikatorer"]
    ind[0].update({"Mål-id": "M2", "Indikator": "Väntetid i dagar till erbjudande", "Enhet": "dagar", "Nuläge": "60",
                   "Målvärde 2024": "65 (90)", "Min": None, "Max": None})
    ind[2]["Målvärde 2024"] = None
    plan_path = write_tables(tables, "plan2.xlsx")
    plan = read_plan(plan_path)
    fill(plan_path, PERIOD, ["ALD"], tmp_path / "b2", generated_at="2026-01-01T00:00:00+00:00")
    path = next((tmp_path / "b2").glob("*.xlsx"))
    put(path, {"I|I1|": 95, "I|I2|Äldre": 80, "I|I2|Funktionsstöd": 75, "I|I3|": 7})
    report = flag_workbook(path, plan).report
    assert report.status_of("I1").label == "Ej uppfyllt"
    assert {f.code for f in report.flags if f.indicator_id == "I1"} == {
        "mal_ej_uppfyllt", "andra_gransen_passerad", "fel_riktning"}
    limit = next(f for f in report.flags if f.code == "andra_gransen_passerad")
    assert limit.message == "Utfallet 95 dagar passerar den andra, hårdare gränsen 90 (målvärde '65 (90)')."
    assert report.status_of("I3").label == "Målvärde saknas"
    assert [f.code for f in report.flags if f.indicator_id == "I3"] == ["malvarde_saknas"]


# ---------------------------------------------------------------- bad input


def test_bad_inputs_are_flagged_with_their_cells(ald: Path, tiny_plan: Any) -> None:
    cells = put(ald, {"I|I1|": "ca 50", "I|I2|Äldre": "#DIV/0!", "I|I2|Funktionsstöd": -5, "I|I3|": "50 kr"})
    report = flag_workbook(ald, tiny_plan).report
    problems = {p.cell: str(p) for p in report.problems() if p.code in (
        "inte_tal", "formelfel", "utfall_orimligt", "utfall_enhet")}
    where = f"{ald.name}, blad 'Mål och indikatorer', cell"
    assert problems[cells["I|I1|"]] == (f"{where} {cells['I|I1|']}: 'ca 50' är en uppskattning, inget utfall. "
                                        "Ange siffran (bara talet, t.ex. 48,5); lämna tomt om utfall saknas.")
    assert problems[cells["I|I2|Äldre"]].startswith(f"{where} {cells['I|I2|Äldre']}: ")
    assert "#DIV/0!" in problems[cells["I|I2|Äldre"]]
    assert problems[cells["I|I2|Funktionsstöd"]] == (
        f"{where} {cells['I|I2|Funktionsstöd']}: En andel kan inte vara negativ: -5 %. "
        "Kontrollera värdet (Min/Max i planen).")
    assert "'50 kr' har enheten 'kr'" in problems[cells["I|I3|"]]
    statuses = {r.row_id: r.status.label for r in report.rows}
    # Text and errors are no outcome (as in the live formula); a negative share still counts as a number.
    assert statuses == {"I|I1|": "Utfall saknas", "I|I2|Äldre": "Utfall saknas",
                        "I|I2|Funktionsstöd": "Ej uppfyllt", "I|I3|": "Utfall saknas"}
    # No separate "utfall saknas" for a cell that already says what is wrong with it.
    assert [f for f in report.flags if f.code == "utfall_saknas"] == []
    assert report.flagged


def test_share_above_100_and_plan_range(ald: Path, tiny_plan: Any) -> None:
    cells = put(ald, {"I|I1|": 120, "I|I2|Äldre": 100.5})
    report = flag_workbook(ald, tiny_plan).report
    msgs = {f.cell: f.message for f in report.flags if f.code == "utfall_orimligt"}
    assert msgs[cells["I|I2|Äldre"]].startswith("En andel kan inte vara över 100 %: 100,5 %.")
    assert cells["I|I1|"] in msgs


def test_unambiguous_text_numbers_are_read_and_stored_as_numbers(ald: Path, tiny_plan: Any) -> None:
    cells = put(ald, {"I|I1|": "95,5", "I|I2|Äldre": "85 %", "I|I2|Funktionsstöd": " 75 ", "I|I3|": "7"})
    report = flag_workbook(ald, tiny_plan).report
    assert {r.status.label for r in report.rows} == {"Uppfyllt"}
    assert {f.code for f in report.flags} == {"utfall_text"} and not report.flagged
    ws = openpyxl.load_workbook(ald)[INDICATORS]
    assert [ws[c].value for c in cells.values()] == [95.5, 85, 75, 7]


# ---------------------------------------------------------------- the file


def test_flagging_twice_gives_the_same_file(ald: Path, tiny_plan: Any) -> None:
    put(ald, {"I|I1|": "ca 50", "I|I2|Äldre": 60, "I|I2|Funktionsstöd": "68"})
    first = flag_workbook(ald, tiny_plan)
    assert first.written and first.changed_cells > 0
    after_first, data = cell_values(ald), ald.read_bytes()
    second = flag_workbook(ald, tiny_plan)
    assert not second.written and second.changed_cells == 0
    assert cell_values(ald) == after_first and ald.read_bytes() == data
    listed = [(f.code, f.cell, f.message) for f in first.report.flags if f.severity != "info"]
    assert [(f.code, f.cell, f.message) for f in second.report.flags] == listed
    assert [r.status for r in second.report.rows] == [r.status for r in first.report.rows]


def test_flag_list_is_replaced_not_appended(ald: Path, tiny_plan: Any) -> None:
    put(ald, {"I|I1|": "ca 50", "I|I2|Äldre": 60, "I|I2|Funktionsstöd": 10})
    flag_workbook(ald, tiny_plan)
    long = flag_list(ald)
    assert len(long) > 3 and long[0] == FLAG_LIST_HEADERS
    put(ald, ALL_MET)
    flag_workbook(ald, tiny_plan)
    rows = [r for r in flag_list(ald) if any(v is not None for v in r)]
    assert rows == [FLAG_LIST_HEADERS, (NO_FLAGS, None, None, None, None, None)]


def test_flag_list_names_indicator_series_and_cell(ald: Path, tiny_plan: Any) -> None:
    cells = put(ald, {"I|I1|": 95, "I|I2|Äldre": 60, "I|I2|Funktionsstöd": 75, "I|I3|": 7})
    flag_workbook(ald, tiny_plan)
    rows = flag_list(ald)
    status_cell = read_department_workbook(ald).address(INDICATORS, "I|I2|Äldre", "status")
    assert (f"I2 Svar på e-post inom en dag (%)", "Ej uppfyllt: utfallet 60 % når inte målvärdet (över 69 %).",
            "Äldre", "Målet ej uppfyllt", "Ej uppfyllt", f"{INDICATORS}!{status_cell}") in rows
    assert any(r[2] == "Äldre" and r[3] == "Fel riktning" and r[5] == f"{INDICATORS}!{cells['I|I2|Äldre']}"
               for r in rows)


def _facts(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    out: dict[str, Any] = {"names": {n: d.attr_text for n, d in wb.defined_names.items()},
                           "props": [(p.name, p.value) for p in wb.custom_doc_props]}
    for ws in wb.worksheets:
        out[ws.title] = {
            "state": ws.sheet_state, "protected": ws.protection.sheet,
            "validations": sorted((str(d.sqref), d.type, d.formula1, d.formula2) for d in ws.data_validations.dataValidation),
            "conditional": sorted((str(r.sqref), rule.operator, tuple(rule.formula), rule.dxf.fill.fgColor.rgb if rule.dxf else None)
                                  for r in ws.conditional_formatting for rule in r.rules),
            "hidden_columns": sorted(k for k, d in ws.column_dimensions.items() if d.hidden),
            "formulas": sorted(c.coordinate for row in ws.iter_rows() for c in row if c.data_type == "f"),
        }
    return out


def test_formatting_validation_protection_survive(ald: Path, tiny_plan: Any) -> None:
    put(ald, {"I|I1|": 85})
    before = _facts(ald)
    assert flag_workbook(ald, tiny_plan).written
    after = _facts(ald)
    assert after == before
    # The traffic lights: one rule per status word on the status column.
    words = {rule[2][0] for rule in after[INDICATORS]["conditional"]}
    assert {'"Uppfyllt"', '"Delvis uppfyllt"', '"Ej uppfyllt"', '"Utfall saknas"'} <= words


def test_status_value_cells_are_written_formula_cells_kept(ald: Path, tiny_plan: Any) -> None:
    put(ald, {"I|I1|": 85, "I|I2|Äldre": 80})
    stale = put(ald, {"I|I1|": "Uppfyllt"}, key="status")  # a value where the formula was
    flag_workbook(ald, tiny_plan)
    ws = openpyxl.load_workbook(ald)[INDICATORS]
    assert ws[stale["I|I1|"]].value == "Ej uppfyllt"
    other = read_department_workbook(ald).address(INDICATORS, "I|I2|Äldre", "status")
    assert isinstance(ws[other].value, str) and ws[other].value.startswith("=IF(")


def test_formula_result_disagreeing_with_python_is_flagged(ald: Path, tiny_plan: Any) -> None:
    put(ald, {"I|I1|": 85})
    book = read_department_workbook(ald)
    row = book.sheets[INDICATORS].rows["I|I1|"]
    row.raw["status"] = "Uppfyllt"  # as if Excel had cached a wrong result
    report = flag_book(tiny_plan, book, {row.cells["status"]})
    odd = [f for f in report.flags if f.code == "status_avviker"]
    assert [(f.cell, f.severity) for f in odd] == [(row.cells["status"], "fel")]
    assert "'Uppfyllt'" in odd[0].message and "'Ej uppfyllt'" in odd[0].message
    row.raw["status"] = "Ej uppfyllt"
    assert not [f for f in flag_book(tiny_plan, book, {row.cells["status"]}).flags if f.code == "status_avviker"]


def test_open_file_is_refused(ald: Path, tiny_plan: Any) -> None:
    (ald.parent / ("~$" + ald.name)).write_bytes(b"lock")
    with pytest.raises(WorkbookRefused, match="öppen i Excel"):
        flag_workbook(ald, tiny_plan)


# ---------------------------------------------------------------- folder, plan, command line


def test_folder_finds_the_plan_next_to_it(books: Path) -> None:
    outcomes = flag(books)
    assert sorted(o.report.department_id for o in outcomes) == ["ALD", "LSS"]


def test_without_a_plan_the_plan_inside_the_files_is_used(books: Path, tiny_plan_path: Path) -> None:
    with_plan = {o.report.department_id: {r.row_id: r.status.label for r in o.report.rows} for o in flag(books)}
    tiny_plan_path.rename(tiny_plan_path.with_suffix(".moved"))
    outcomes = flag(books)
    assert {o.report.department_id: {r.row_id: r.status.label for r in o.report.rows}
            for o in outcomes} == with_plan
    assert all(o.lines()[1].strip().startswith("Planen som finns i filen används") for o in outcomes)


def test_missing_plan_is_a_clear_error(books: Path, tiny_plan_path: Path) -> None:
    tiny_plan_path.rename(tiny_plan_path.with_suffix(".moved"))
    for path in books.glob("*.xlsx"):  # files filled before plans travelled inside them
        wb = openpyxl.load_workbook(path)
        del wb["_xlplan_plan"]
        wb.save(path)
    with pytest.raises(BadInput, match="--plan"):
        flag(books)


def test_cli_strict_exit_codes(ald: Path, tiny_plan_path: Path) -> None:
    runner = CliRunner()
    put(ald, ALL_MET)
    ok = runner.invoke(app, ["flag", str(ald), "--plan", str(tiny_plan_path), "--strict"])
    assert ok.exit_code == 0, ok.output
    assert "0 flaggor" in ok.output
    put(ald, {"I|I1|": "ca 50"})
    flagged = runner.invoke(app, ["flag", str(ald), "--plan", str(tiny_plan_path), "--strict"])
    assert flagged.exit_code == 1
    assert "'ca 50' är en uppskattning" in flagged.output
    lenient = runner.invoke(app, ["flag", str(ald), "--plan", str(tiny_plan_path)])
    assert lenient.exit_code == 0


def test_cli_json_and_wrong_plan(ald: Path, tiny_plan_path: Path, write_tables: Callable[..., Path],
                                 tiny_tables: dict[str, Any]) -> None:
    import json

    runner = CliRunner()
    res = runner.invoke(app, ["flag", str(ald), "--json"])
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data[0]["status"]["I|I3|"] == "Utfall saknas"
    tiny_tables["Inställningar"][0]["Värde"] = "annan-plan"
    other = write_tables(tiny_tables, "other.xlsx")
    bad = runner.invoke(app, ["flag", str(ald), "--plan", str(other)])
    assert bad.exit_code == 2
    assert "testkommun-von-2024" in bad.output and "annan-plan" in bad.output


def test_cli_help_lists_flag() -> None:
    res = CliRunner().invoke(app, ["flag", "--help"])
    assert res.exit_code == 0 and "--strict" in res.output


def test_overview_sheet_keeps_its_rows(ald: Path, tiny_plan: Any) -> None:
    before = {k: v for k, v in cell_values(ald).items() if k[0] == OVERVIEW}
    flag_workbook(ald, tiny_plan)
    after = {k: v for k, v in cell_values(ald).items() if k[0] == OVERVIEW}
    area = flags_area(openpyxl.load_workbook(ald))
    assert area is not None
    untouched = {k: v for k, v in before.items() if int("".join(ch for ch in k[1] if ch.isdigit())) < area[1]}
    assert {k: after[k] for k in untouched} == untouched


def test_xlsm_keeps_vba_project_and_ribbon(tiny_plan_path: Path, tiny_plan: Any, tmp_path: Path) -> None:
    import zipfile

    fill(tiny_plan_path, PERIOD, ["ALD"], tmp_path / "xm", fmt="xlsm")
    path = next((tmp_path / "xm").glob("*.xlsm"))
    parts_before = sorted(zipfile.ZipFile(path).namelist())
    assert "xl/vbaProject.bin" in parts_before
    outcome = flag_workbook(path, tiny_plan)
    assert outcome.written
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == parts_before
        assert b"ui/extensibility" in zf.read("_rels/.rels")
    again = flag_workbook(path, tiny_plan)
    assert not again.written and any(f.code == "utfall_saknas" for f in again.report.flags)


def test_share_typed_as_excel_percent_is_warned_not_changed(ald: Path, tiny_plan: Any) -> None:
    cells = put(ald, {"I|I1|": 0.95})  # '95%' typed in Excel is stored as 0.95
    report = flag_workbook(ald, tiny_plan).report
    warn = [f for f in report.flags if f.code == "andel_som_brak"]
    assert [(f.cell, f.severity) for f in warn] == [(cells["I|I1|"], "varning")]
    assert "Skrevs det som procent i Excel" in warn[0].message
    assert report.status_of("I1").label == "Ej uppfyllt"  # the value is used as it stands, never guessed
    assert openpyxl.load_workbook(ald)[INDICATORS][cells["I|I1|"]].value == 0.95
