"""Each ribbon button, run as Excel would run it, through xlwings' remote engine.

A real file (a filled department workbook, or the controller workbook) becomes
the payload the client would send; ``xlplan.excel.<fn>()`` runs with that book
as ``xw.Book.caller()``; the queued actions are applied to a copy of the file
(:mod:`xlremote`) and the copy is checked as a user would see it.

Department sheets are protected. On desktop Excel for Windows the button
unprotects the sheets it writes (``xlplan.excel.unprotected``, tested with a
stand-in COM object below); the remote engine cannot, so the actions are
applied here as for a macro that unprotected them (``enforce_protection=False``).
"""

from __future__ import annotations

import json
import shutil
import sys
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest
from openpyxl import load_workbook

import xlplan.excel as excel
from conftest import kolada_2022_tables
from xlplan.actions.fill import fill
from xlplan.actions.flag import FLAG_LIST_HEADERS
from xlplan.books.controller import SETTINGS, build_workbook, default_out
from xlplan.books.department.columns import INDICATORS, OVERVIEW, SUBMISSION_ROW_ID
from xlplan.books.department.reader import DepartmentBook, read_department_workbook
from xlplan.books.plan import write_plan_tables
from xlplan.books.spec import SECTION_FILL
from xlplan.kolada import KoladaStandin
from xlplan.xlsm import read_vba_modules
from xlremote import Alert, RemoteRun, run_with_caller, vba_client_problems

pytest.importorskip("xlwings")

SETTING_DEFAULTS = {s.key: s.default for s in SETTINGS}

PERIOD = "2024-delår"
REL_RIBBON = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.setenv("XLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    for name in (excel.PLAN_ENV, excel.KOLADA_ENV):
        monkeypatch.delenv(name, raising=False)


def press(path: Path, func: Callable[[], None], out: Path | None = None) -> RemoteRun:
    """Press a button in the workbook *path* (named relative to the working folder, as the remote engine does)."""
    run = run_with_caller(path.name, func, out=out or path.with_name("after-" + path.name),
                          enforce_protection=False)
    assert vba_client_problems(run.actions) == []
    assert run.alerts, "every button ends with a message"
    return run


def only_alert(run: RemoteRun) -> Alert:
    (alert,) = run.alerts
    assert alert.title.startswith("xlplan – ")
    return alert


def set_cells(path: Path, sheet: str, cells: dict[str, Any]) -> None:
    wb = load_workbook(path, keep_vba=path.suffix == ".xlsm")
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)


def val_cell(key: str) -> str:
    return f"B{4 + [s.key for s in SETTINGS].index(key)}"


# ---------------------------------------------------------------- department workbooks


@pytest.fixture
def dept(tmp_path: Path, tiny_tables: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    """The ALD workbook (.xlsm) filled from the tiny plan, in Avdelningsfiler/ below the plan."""
    write_plan_tables(tiny_tables, tmp_path / "plan.xlsx")
    result = fill(tmp_path / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "Avdelningsfiler", fmt="xlsm")
    (path,) = result.written
    monkeypatch.chdir(path.parent)
    return path


def address(path: Path, row_id: str, key: str, sheet: str = INDICATORS) -> str:
    found = read_department_workbook(path).address(sheet, row_id, key)
    assert found is not None
    return found


def outcomes(path: Path, values: dict[str, Any]) -> None:
    set_cells(path, INDICATORS, {address(path, rid, "outcome"): v for rid, v in values.items()})


def flag_list(path: Path) -> list[dict[str, Any]]:
    """The flag list on Översikt as rows keyed by the list's headers."""
    header, *rows = flag_cells(path)
    assert tuple(header) == FLAG_LIST_HEADERS
    return [dict(zip(header, r)) for r in rows]


def flag_cells(path: Path) -> list[list[Any]]:
    wb = load_workbook(path)
    ((sheet, ref),) = list(wb.defined_names["xlplan_flaggor"].destinations)
    ws = wb[sheet]
    first = ws[ref.replace("$", "")]
    rows = []
    for r in range(first.row, ws.max_row + 1):
        row = [ws.cell(r, c).value for c in range(first.column, first.column + 6)]
        if any(v is not None for v in row):
            rows.append(row)
    return rows


def fill_colour(path: Path, sheet: str, ref: str) -> str | None:
    cell = load_workbook(path)[sheet][ref]
    return cell.fill.fgColor.rgb[-6:] if cell.fill.fill_type == "solid" else None


def test_flag_writes_the_flag_list_and_numbers_typed_as_text(dept: Path) -> None:
    outcomes(dept, {"I|I1|": 85, "I|I3|": "7,9"})  # I1 misses >90 %, I3 typed as text; I2 missing
    run = press(dept, excel.flag)
    after = run.out
    assert after is not None
    rows = flag_list(after)
    labels = {(r["Indikator"].split()[0], r["Serie"], r["Flagga"]) for r in rows}
    assert ("I1", None, "Målet ej uppfyllt") in labels
    assert ("I2", "Äldre", "Utfall saknas") in labels and ("I2", "Funktionsstöd", "Utfall saknas") in labels
    assert not any(r["Flagga"] == "Tal skrivet som text" for r in rows)  # a note about this run, not a flag
    book = read_department_workbook(after)
    assert book.row(INDICATORS, "I|I3|").raw["outcome"] == 7.9  # now a number
    assert book.row(INDICATORS, "I|I1|").raw["outcome"] == 85  # typed values stay
    # colours: header of the list, a missed target (varning) row
    wb_rows = _flag_rows(after)
    assert fill_colour(after, OVERVIEW, wb_rows["header"]) == SECTION_FILL
    assert fill_colour(after, OVERVIEW, wb_rows["I1"]) == excel.FLAG_ROW_COLOURS["varning"][1:]
    alert = only_alert(run)
    assert alert.mode == "info"
    assert "4 indikatorrader" in alert.prompt and "Flaggor på bladet Översikt" in alert.prompt
    assert f"{INDICATORS}!{address(dept, 'I|I1|', 'status')}: Målet ej uppfyllt" in alert.prompt


def _flag_rows(path: Path) -> dict[str, str]:
    wb = load_workbook(path)
    ((sheet, ref),) = list(wb.defined_names["xlplan_flaggor"].destinations)
    ws = wb[sheet]
    first = ws[ref.replace("$", "")]
    out = {"header": first.coordinate}
    for r in range(first.row + 1, ws.max_row + 1):
        v = ws.cell(r, first.column).value
        if isinstance(v, str):
            out.setdefault(v.split()[0], ws.cell(r, first.column).coordinate)
    return out


def test_flag_twice_replaces_a_longer_list(dept: Path) -> None:
    first = press(dept, excel.flag).out
    assert first is not None and len(flag_list(first)) == 4  # four rows without an outcome
    leftover = _flag_rows(first)["I3"]
    shutil.copy(first, dept)
    outcomes(dept, {"I|I1|": 95, "I|I2|Äldre": 85, "I|I2|Funktionsstöd": 71, "I|I3|": 7})
    second = press(dept, excel.flag).out
    assert second is not None
    assert flag_cells(second)[1:] == [["Inga flaggor.", None, None, None, None, None]]
    assert fill_colour(second, OVERVIEW, leftover) is None  # old row's colour cleared


def submission(path: Path) -> Any:
    return read_department_workbook(path).row(OVERVIEW, SUBMISSION_ROW_ID).raw["value"]  # type: ignore[union-attr]


def test_submit_is_refused_while_outcomes_are_missing(dept: Path) -> None:
    outcomes(dept, {"I|I1|": 85, "I|I3|": "abc"})
    run = press(dept, excel.submit)
    assert run.out is not None
    assert submission(run.out) == "ej påbörjad"
    alert = only_alert(run)
    assert alert.mode == "critical"
    assert "kan inte lämnas in" in alert.prompt
    assert f"{INDICATORS}!{address(dept, 'I|I2|Äldre', 'outcome')}: Utfall saknas" in alert.prompt
    assert "'abc' är inte ett tal" in alert.prompt
    assert "Målet ej uppfyllt" not in alert.prompt  # a miss does not block


def test_submit_marks_a_complete_workbook_ready_even_with_misses(dept: Path) -> None:
    outcomes(dept, {"I|I1|": 85, "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 60, "I|I3|": 7.2})
    run = press(dept, excel.submit)
    assert run.out is not None
    assert submission(run.out) == "klar för granskning"
    alert = only_alert(run)
    assert alert.mode == "info"
    assert "'klar för granskning'" in alert.prompt and "Spara filen" in alert.prompt
    assert "2 når inte målet helt" in alert.prompt
    assert any(r["Flagga"] == "Målet ej uppfyllt" for r in flag_list(run.out))


def drop_embedded_plan(path: Path) -> None:
    """Make *path* like a file filled before the plan travelled inside department workbooks."""
    wb = load_workbook(path, keep_vba=True)
    del wb["_xlplan_plan"]
    wb.save(path)


def test_department_button_without_a_plan_says_where_it_looked(dept: Path) -> None:
    (dept.parent.parent / "plan.xlsx").unlink()
    drop_embedded_plan(dept)
    run = press(dept, excel.flag)
    alert = only_alert(run)
    assert alert.mode == "critical"
    assert "Planen 'testkommun-von-2024' hittades inte" in alert.prompt and excel.PLAN_ENV in alert.prompt


def test_department_button_in_a_workbook_that_is_not_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "uppfoljning.xlsm"
    shutil.copy(default_out(), path)
    monkeypatch.chdir(tmp_path)
    alert = only_alert(press(path, excel.submit))
    assert alert.mode == "critical" and "_xlplan saknas" in alert.prompt


# ---------------------------------------------------------------- pull (Kolada stand-in)


SICK = "Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2022;8,4 %\nFunktionsstöd;2022;12 %\n"



def kolada_sample(kpi: str, year: int = 2022) -> float:
    import csv

    from xlplan.kolada.standin_data import SAMPLES_DIR

    with (SAMPLES_DIR / f"datapoints_{kpi.lower()}_by_geo_year_subset.csv").open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["geo"] == "1489" and int(row["year"]) == year:
                return float(row[kpi.lower()])
    raise AssertionError("no sample")


def pull_folder(root: Path, tiny: dict[str, Any], as_controller: bool) -> Path:
    tables = kolada_2022_tables(tiny)
    if as_controller:  # the plan lives in the controller's workbook
        (root / "plan.json").write_text(json.dumps(tables, ensure_ascii=False), encoding="utf-8")
        plan = build_workbook(root / "uppfoljning.xlsm", plan_source=root / "plan.json")
    else:
        plan = root / "plan.xlsx"
        write_plan_tables(tables, plan)
    (root / "exporter").mkdir()
    (root / "exporter" / "sjuk_2022.csv").write_bytes(SICK.encode("cp1252"))
    (path,) = fill(plan, "2022-helår", ["ALD"], root / "Avdelningsfiler", fmt="xlsm").written
    return path


def test_pull_fills_outcomes_from_kolada_and_files(tmp_path: Path, tiny_tables: dict[str, Any], srv: KoladaStandin,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    path = pull_folder(tmp_path, tiny_tables, as_controller=False)
    monkeypatch.chdir(path.parent)
    monkeypatch.setenv(excel.KOLADA_ENV, srv.url)
    outcomes(path, {"I|I2|Funktionsstöd": 50})  # typed by a person: kept
    run = press(path, excel.pull)
    assert run.out is not None
    book = read_department_workbook(run.out)
    row = book.row(INDICATORS, "I|I1|")
    assert row is not None and row.raw["outcome"] == kolada_sample("U21468") == row.raw["fetched_value"]
    assert row.raw["outcome_source"].startswith("Källa: Kolada, U21468, Alingsås (1489), 2022, totalt")
    assert json.loads(row.raw["provenance"])["kpi"] == "U21468"
    assert book.row(INDICATORS, "I|I2|Äldre").raw["outcome"] == kolada_sample("U23471")  # type: ignore[union-attr]
    assert book.row(INDICATORS, "I|I2|Funktionsstöd").raw["outcome"] == 50  # type: ignore[union-attr]
    sick = book.row(INDICATORS, "I|I3|")
    assert sick is not None and sick.raw["outcome"] == 8.4 and sick.raw["outcome_source"].startswith(
        "Källa: sjuk_2022.csv")
    alert = only_alert(run)
    assert alert.prompt.startswith(f"3 utfall hämtade (Kolada: {srv.url})")
    assert "Inskrivet utfall 50 behålls" in alert.prompt
    assert srv.request_count > 0


def test_pull_uses_the_kolada_address_on_the_controllers_val_sheet(
        tmp_path: Path, tiny_tables: dict[str, Any], srv: KoladaStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    path = pull_folder(tmp_path, tiny_tables, as_controller=True)
    controller = tmp_path / "uppfoljning.xlsm"
    set_cells(controller, "Val", {val_cell("kolada_url"): srv.url})
    monkeypatch.chdir(path.parent)
    run = press(path, excel.pull)
    assert run.out is not None
    assert f"(Kolada: {srv.url})" in only_alert(run).prompt
    assert read_department_workbook(run.out).row(INDICATORS, "I|I1|").raw["outcome"] == kolada_sample("U21468")  # type: ignore[union-attr]


def test_pull_when_kolada_is_down_changes_nothing(dept: Path, monkeypatch: pytest.MonkeyPatch,
                                                  srv: KoladaStandin) -> None:
    monkeypatch.setenv(excel.KOLADA_ENV, srv.url)
    srv.set_failure("500")
    run = press(dept, excel.pull)
    assert [a["func"] for a in run.actions] == ["alert"]
    assert only_alert(run).mode == "critical"


# ---------------------------------------------------------------- controller workbook


@pytest.fixture
def controller(tmp_path: Path, tiny_tables: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "plan.json").write_text(json.dumps(tiny_tables, ensure_ascii=False), encoding="utf-8")
    path = build_workbook(tmp_path / "uppfoljning.xlsm", plan_source=tmp_path / "plan.json")
    monkeypatch.chdir(tmp_path)
    return path


def test_about_names_versions_plan_and_python(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "uppfoljning.xlsm"
    shutil.copy(default_out(), path)
    monkeypatch.chdir(tmp_path)
    prompt = only_alert(press(path, excel.about)).prompt
    assert "xlplan " in prompt and "xlwings 0.37.8" in prompt
    assert sys.executable in prompt
    assert "Plan: alingsas-von-2024, version" in prompt and "6 avdelningar" in prompt


def test_about_in_a_department_workbook(dept: Path) -> None:
    prompt = only_alert(press(dept, excel.about)).prompt
    assert "Avdelningsfil: Äldreomsorg (ALD), period 2024-delår" in prompt
    assert "Plan: testkommun-von-2024" in prompt


def test_fill_creates_xlsm_with_the_ribbon_then_refills(controller: Path) -> None:
    run = press(controller, excel.fill)
    prompt = only_alert(run).prompt
    folder = controller.parent / "Avdelningsfiler"
    files = sorted(folder.glob("*.xlsm"))
    assert len(files) == 2
    assert prompt.startswith(f"2 avdelningsfiler för {PERIOD} i {folder}: 2 nya, 0 uppdaterade")
    for f in files:
        with zipfile.ZipFile(f) as zf:
            assert REL_RIBBON.encode() in zf.read("_rels/.rels") and "customUI/customUI14.xml" in zf.namelist()
        assert "XlplanRibbon" in read_vba_modules(f)
    # a typed value survives the second press
    ald = next(f for f in files if "Äldreomsorg" in f.name)
    outcomes(ald, {"I|I1|": 91})
    again = only_alert(press(controller, excel.fill)).prompt
    assert "0 nya, 2 uppdaterade" in again
    assert read_department_workbook(ald).row(INDICATORS, "I|I1|").raw["outcome"] == 91  # type: ignore[union-attr]


def test_fill_one_department_from_val(controller: Path) -> None:
    set_cells(controller, "Val", {val_cell("department"): "LSS", val_cell("period"): "2024-K1"})
    prompt = only_alert(press(controller, excel.fill)).prompt
    (only,) = (controller.parent / "Avdelningsfiler").glob("*.xlsm")
    assert "Funktionsstöd" in only.name and "2024-K1" in only.name
    assert "1 avdelningsfil för 2024-K1" in prompt


def test_fill_reports_a_bad_period_on_val(controller: Path) -> None:
    set_cells(controller, "Val", {val_cell("period"): "2031-delår"})
    run = press(controller, excel.fill)
    alert = only_alert(run)
    assert alert.mode == "critical" and "utanför planens år" in alert.prompt
    assert not (controller.parent / "Avdelningsfiler").exists()


def test_fill_uses_the_plan_as_edited_in_the_open_book(controller: Path) -> None:
    wb = load_workbook(controller, keep_vba=True)
    ws = wb["Avdelningar"]
    ws.append(["NY", "Ny avdelning"])
    wb.save(controller)
    prompt = only_alert(press(controller, excel.fill)).prompt
    assert "3 avdelningsfiler" in prompt and "Ny avdelning" in prompt


def test_consolidate_then_export(controller: Path) -> None:
    press(controller, excel.fill)
    folder = controller.parent / "Avdelningsfiler"
    ald = next(folder.glob("*Äldreomsorg*.xlsm"))
    outcomes(ald, {"I|I1|": 91, "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 60, "I|I3|": 7})
    set_cells(ald, OVERVIEW, {address(ald, SUBMISSION_ROW_ID, "value", OVERVIEW): "klar för granskning"})
    run = press(controller, excel.consolidate)
    committee = controller.parent / SETTING_DEFAULTS["committee_workbook"]
    assert committee.is_file()
    prompt = only_alert(run).prompt
    assert prompt.startswith(f"Nämndens arbetsbok: {committee}")
    assert "2 av 2 avdelningar med" in prompt and "Äldreomsorg: klar för granskning" in prompt

    exported = press(controller, excel.export)
    out = controller.parent / "Nämndrapport"
    assert (out / "nämndrapport.docx").is_file() and (out / "nämndrapport_bilaga.xlsx").is_file()
    prompt = only_alert(exported).prompt
    assert prompt.startswith(f"Nämndrapporten är skapad i {out}:") and "– nämndrapport.docx" in prompt


def test_export_without_a_committee_workbook(controller: Path) -> None:
    alert = only_alert(press(controller, excel.export))
    assert alert.mode == "critical" and SETTING_DEFAULTS["committee_workbook"] in alert.prompt


def test_a_missing_setting_name_is_reported(controller: Path) -> None:
    wb = load_workbook(controller, keep_vba=True)
    del wb.defined_names["xlplan_period"]
    wb.save(controller)
    alert = only_alert(press(controller, excel.fill))
    assert alert.mode == "critical" and "xlplan_period" in alert.prompt and "Val" in alert.prompt


# ---------------------------------------------------------------- protection on desktop Excel


class FakeSheetApi:
    def __init__(self, protected: bool) -> None:
        self.ProtectContents = protected
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def Unprotect(self, *args: Any) -> None:  # noqa: N802 (COM name)
        self.calls.append(("Unprotect", args))

    def Protect(self, *args: Any) -> None:  # noqa: N802 (COM name)
        self.calls.append(("Protect", args))


class FakeBook:
    def __init__(self, engine: str, apis: dict[str, FakeSheetApi]) -> None:
        self.app = type("App", (), {"engine": type("Engine", (), {"name": engine})()})()
        self.sheets = {name: type("Sheet", (), {"api": api})() for name, api in apis.items()}


def test_unprotected_unprotects_and_protects_again_on_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    apis = {"Översikt": FakeSheetApi(True), "Öppet": FakeSheetApi(False)}
    with excel.unprotected(FakeBook("excel", apis), ["Översikt", "Öppet", "Översikt"], "hemligt"):  # type: ignore[arg-type]
        assert apis["Översikt"].calls == [("Unprotect", ("hemligt",))]
    assert apis["Översikt"].calls[1] == ("Protect", ("hemligt", False, True, False, False, False, True, True))
    assert apis["Öppet"].calls == []


def test_unprotected_protects_again_after_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "platform", "win32")
    api = FakeSheetApi(True)
    with pytest.raises(RuntimeError):
        with excel.unprotected(FakeBook("excel", {"S": api}), ["S"], None):  # type: ignore[arg-type]
            raise RuntimeError("write failed")
    assert [c[0] for c in api.calls] == ["Unprotect", "Protect"]


def test_unprotected_does_nothing_on_the_remote_engine() -> None:
    api = FakeSheetApi(True)
    with excel.unprotected(FakeBook("remote", {"S": api}), ["S"], None):  # type: ignore[arg-type]
        pass
    assert api.calls == []


def test_department_book_reader_sees_unsaved_values(dept: Path) -> None:
    """The open book is read as grids through xlwings (one range read per sheet), not from the file on disk,
    and the parser reads the same as from the file."""
    from xlplan.books.department.reader import parse_department_grids
    from xlremote import open_remote_book

    on_disk = read_department_workbook(dept)
    book = open_remote_book(dept.name)
    outcomes(dept, {"I|I1|": 77})  # the file changes after the book was opened: the book is what counts
    try:
        grids = excel.BookGrids(book)
        read: DepartmentBook = parse_department_grids(grids)
    finally:
        book.close()
    assert read.path.name == dept.name
    assert read.metadata == on_disk.metadata and read.metadata["generated_at"].endswith("+00:00")
    assert read.problems == [] and read.expected_rows == on_disk.expected_rows
    for name, sheet in on_disk.sheets.items():
        got = read.sheets[name]
        assert (got.actual_name, got.header_row, got.columns) == (sheet.actual_name, sheet.header_row, sheet.columns)
        assert {rid: (r.values, r.raw, r.cells) for rid, r in got.rows.items()} == {
            rid: (r.values, r.raw, r.cells) for rid, r in sheet.rows.items()}, name
    assert grids.reads == len(set(grids._rows)) <= len(book_sheets(dept))  # each sheet read at most once


def book_sheets(path: Path) -> list[str]:
    return load_workbook(path, read_only=True).sheetnames


def test_open_book_grids_match_calamine_types_and_errors(dept: Path) -> None:
    """Numbers, dates, empty cells and error cells read from the open book as calamine reads them."""
    import datetime as dt

    from xlplan.books.department.reader import FileGrids
    from xlremote import open_remote_book

    outcomes(dept, {"I|I1|": 91.5, "I|I3|": "7,9"})
    comment = address(dept, "I|I2|Äldre", "comment")
    set_cells(dept, INDICATORS, {comment: dt.datetime(2024, 8, 31, 12, 0)})
    book = open_remote_book(dept.name)
    try:
        grids = excel.BookGrids(book)
        rows = grids.rows(INDICATORS)
    finally:
        book.close()
    file_rows = FileGrids(dept).rows(INDICATORS)
    assert rows == file_rows
    assert [type(v) for v in rows[5]] == [type(v) for v in file_rows[5]]
    grid, errors = excel.grid_from_values([["Rad-id", "Utfall", None], ["I|x|", "#DIV/0!"], [None, 3, "#N/A"], [True, 2.5]])
    assert grid == [["Rad-id", "Utfall", ""], ["I|x|", "", ""], ["", 3.0, ""], [True, 2.5, ""]]
    assert [type(v) for v in grid[2] + grid[3]] == [str, float, str, bool, float, str]
    assert errors == {"B2": "#DIV/0!", "C3": "#N/A"}


@pytest.mark.parametrize("button", ["flag", "pull", "submit"])
def test_the_department_buttons_write_no_copy_of_the_book(dept: Path, tmp_path: Path, button: str,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """No temporary copy: nothing is written to the temp folder, and the department file is never opened
    by the file reader (calamine), and no workbook is saved by openpyxl, while the button runs."""
    import tempfile

    import xlplan.io.tables

    outcomes(dept, {"I|I1|": 85, "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 71, "I|I3|": 7.2})
    temp = tmp_path / "temp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    opened: list[str] = []
    real_open, real_package = xlplan.io.tables.open_workbook, xlplan.io.tables.read_package

    def counting_open(path: Path) -> Any:
        opened.append(Path(path).name)
        return real_open(path)

    def counting_package(path: Path) -> Any:
        opened.append(Path(path).name)
        return real_package(path)

    from openpyxl import Workbook

    def no_copy(*_a: Any, **_k: Any) -> None:
        raise AssertionError("a workbook was written")

    func = getattr(excel, button)

    def pressed() -> None:  # only what the button itself does is watched (not the harness around it)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(xlplan.io.tables, "open_workbook", counting_open)
            mp.setattr("xlplan.books.department.reader.read_package", counting_package)
            mp.setattr(Workbook, "save", no_copy)  # the old read path saved a copy of the book with openpyxl
            func()

    if button == "pull":
        with KoladaStandin() as server:
            monkeypatch.setenv(excel.KOLADA_ENV, server.url)
            run = press(dept, pressed)
    else:
        run = press(dept, pressed)
    assert not any(a.title.endswith("fel") or "oväntat" in a.prompt for a in run.alerts), run.alerts
    assert dept.name not in opened
    assert list(temp.iterdir()) == []


def status_cells(path: Path) -> dict[str, Any]:
    """Rad-id -> what the status cell holds (a formula stays a formula)."""
    book = read_department_workbook(path)
    ws = load_workbook(path)[INDICATORS]
    return {rid: ws[row.cells["status"]].value for rid, row in book.sheets[INDICATORS].rows.items()}


def test_flag_keeps_the_live_status_formulas(dept: Path) -> None:
    before = status_cells(dept)
    assert any(isinstance(v, str) and v.startswith("=") for v in before.values())
    after = press(dept, excel.flag).out
    assert after is not None
    assert status_cells(after) == before


def test_flag_without_the_file_on_disk_finds_formulas_from_the_plan(
        dept: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As for a book opened from a web address: no file to look at, the plan says where formulas are."""
    elsewhere = tmp_path / "annan"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv(excel.PLAN_ENV, str(tmp_path / "plan.xlsx"))
    before = status_cells(dept)
    run = run_with_caller(dept, excel.flag, out=tmp_path / "after.xlsm", enforce_protection=False)
    assert run.alerts[0].mode == "info", run.alerts
    assert status_cells(tmp_path / "after.xlsm") == before
    assert len(flag_list(tmp_path / "after.xlsm")) == 4


def test_submit_waits_for_the_own_assessment_of_a_qualitative_target(
        tmp_path: Path, tiny_tables: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    write_plan_tables(tiny_tables, tmp_path / "plan.xlsx")
    (lss,) = fill(tmp_path / "plan.xlsx", PERIOD, ["LSS"], tmp_path / "Avdelningsfiler", fmt="xlsm").written
    monkeypatch.chdir(lss.parent)
    outcomes(lss, {"I|I2|Äldre": 70, "I|I2|Funktionsstöd": 72, "I|I3|": 7})
    blocked = press(lss, excel.submit)
    alert = only_alert(blocked)
    assert alert.mode == "critical"
    assert f"{INDICATORS}!{address(lss, 'I|I4|', 'assessment')}:" in alert.prompt
    assert "egen bedömning saknas" in alert.prompt
    assert blocked.out is not None and submission(blocked.out) == "ej påbörjad"
    set_cells(lss, INDICATORS, {address(lss, "I|I4|", "assessment"): "Delvis uppfyllt"})
    ready = press(lss, excel.submit)
    assert only_alert(ready).mode == "info"
    assert ready.out is not None and submission(ready.out) == "klar för granskning"


def test_a_file_system_error_ends_in_a_message(controller: Path) -> None:
    (controller.parent / "Avdelningsfiler").write_text("en fil, ingen mapp", encoding="utf-8")
    alert = only_alert(press(controller, excel.fill))
    assert alert.mode == "critical" and alert.prompt.startswith("Det gick inte:")
    assert "Avdelningsfiler" in alert.prompt


def test_protect_again_matches_how_fill_protects(dept: Path) -> None:
    """Protect(…, DrawingObjects=False, Contents=True, Scenarios=False, …, columns, rows allowed)."""
    p = load_workbook(dept)[OVERVIEW].protection
    assert p.sheet and not p.objects and not p.scenarios  # contents only
    assert not p.formatColumns and not p.formatRows  # allowed
    assert p.formatCells  # not allowed


def test_submit_blocks_on_a_cell_showing_an_error(dept: Path) -> None:
    outcomes(dept, {"I|I1|": "#DIV/0!", "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 60, "I|I3|": 7})
    cell = address(dept, "I|I1|", "outcome")
    assert load_workbook(dept)[INDICATORS][cell].data_type == "e"  # an error, as Excel stores it
    alert = only_alert(press(dept, excel.submit))
    assert alert.mode == "critical"
    assert f"{INDICATORS}!{cell}: Cellen visar felet #DIV/0!" in alert.prompt


def test_the_controller_plan_is_read_from_the_open_book(controller: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The plan sheets of the open controller workbook are parsed from xlwings grids: no file is read or written."""
    import xlplan.io.tables
    from xlplan.books.plan import read_plan
    from xlremote import open_remote_book

    on_disk = read_plan(controller)
    book = open_remote_book(controller.name)
    try:
        opened: list[str] = []
        monkeypatch.setattr(xlplan.io.tables, "open_workbook", lambda p: opened.append(str(p)))  # type: ignore[func-returns-value]
        monkeypatch.setattr("xlplan.books.plan.open_workbook", lambda p: opened.append(str(p)))  # type: ignore[func-returns-value]
        plan = excel.controller_plan(book)
    finally:
        book.close()
    assert opened == []
    assert plan == on_disk and plan.version == on_disk.version
