"""A department file that stands alone, and the submission workflow with roles.

The department's side is run as Excel runs it (the buttons through xlwings'
remote engine, :mod:`xlremote`) and from the command line, on a
department workbook copied alone into an empty folder; the controller's side
from ``uppfoljning.xlsm`` and from the command line.  Kolada is the local
stand-in on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any, Callable

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import xlplan.excel as excel
from conftest import kolada_2022_tables
from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.flag import flag
from xlplan.actions.pull import pull
from xlplan.actions.workflow import APPROVED, READY, RETURNED, approve_file, history, return_file, submit_file
from xlplan.books.controller import SETTINGS, build_workbook
from xlplan.books.department.columns import INDICATORS, META, OVERVIEW, SUBMISSION_ROW_ID
from xlplan.books.department.embedded import (
    SHEET,
    choose_plan,
    parse_embedded,
    plan_from_json,
    plan_slice,
    plan_to_json,
    read_embedded,
)
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import read_plan, write_plan_tables
from xlplan.cli import app
from xlplan.core.errors import BadInput, WorkbookRefused
from xlplan.kolada import KoladaStandin
from xlremote import RemoteRun, run_with_caller, vba_client_problems

pytest.importorskip("xlwings")

PERIOD = "2022-helår"
SICK = "Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2022;8,4 %\nFunktionsstöd;2022;12 %\n"


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    monkeypatch.setenv("XLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("USERNAME", "avdelningschef")
    for name in (excel.PLAN_ENV, excel.KOLADA_ENV):
        monkeypatch.delenv(name, raising=False)



@pytest.fixture
def planned(tmp_path: Path, tiny_tables: dict[str, Any]) -> Path:
    """The ALD workbook filled from the plan in plan/ (the plan stays there)."""
    (tmp_path / "plan").mkdir()
    write_plan_tables(kolada_2022_tables(tiny_tables), tmp_path / "plan" / "plan.xlsx")
    (path,) = fill(tmp_path / "plan" / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "plan" / "avd", fmt="xlsm").written
    return path


@pytest.fixture
def lone(planned: Path, tmp_path: Path) -> Path:
    """The ALD workbook copied alone into an empty folder (Downloads), with the department's export beside it."""
    folder = tmp_path / "Hämtade filer"
    (folder / "exporter").mkdir(parents=True)
    (folder / "exporter" / "sjuk_2022.csv").write_bytes(SICK.encode("cp1252"))
    return Path(shutil.copy(planned, folder / planned.name))


def set_cells(path: Path, sheet: str, cells: dict[str, Any]) -> None:
    wb = load_workbook(path, keep_vba=path.suffix == ".xlsm")
    for ref, value in cells.items():
        wb[sheet][ref] = value
    wb.save(path)


def outcome_cell(path: Path, row_id: str) -> str:
    found = read_department_workbook(path).address(INDICATORS, row_id, "outcome")
    assert found is not None
    return found


def state(path: Path) -> Any:
    return read_department_workbook(path).submission


def press(path: Path, func: Callable[[], None], monkeypatch: pytest.MonkeyPatch) -> RemoteRun:
    """Press a button in the open workbook *path*, then save it (the user's Ctrl+S)."""
    monkeypatch.chdir(path.parent)
    out = path.with_name("efter-" + path.name)
    run = run_with_caller(path.name, func, out=out, enforce_protection=False)
    assert vba_client_problems(run.actions) == []
    assert len(run.alerts) == 1 and run.alerts[0].title.startswith("xlplan – ")
    os.replace(out, path)
    return run


# ---------------------------------------------------------------- the plan inside the file


def test_the_slice_round_trips_with_the_plans_version(planned: Path, tmp_path: Path) -> None:
    plan = read_plan(tmp_path / "plan" / "plan.xlsx")
    part = plan_slice(plan, "ALD")
    assert [d.id for d in part.departments] == ["ALD"]
    assert {i.id for i in part.indicators} == {"I1", "I2", "I3"}  # I4 is LSS's
    assert [a.id for a in part.activities] == ["A1"] and {b.department_id for b in part.budget} == {"ALD"}
    assert part.file_sources == plan.file_sources and part.settings == plan.settings
    assert plan_from_json(json.loads(json.dumps(plan_to_json(part)))) == part
    inside = read_embedded(planned)
    assert inside is not None and inside.plan == part and inside.plan.version == plan.version
    wb = load_workbook(planned, keep_vba=True)
    assert wb[SHEET].sheet_state == "veryHidden" and wb[SHEET].protection.sheet


def test_a_changed_or_cut_plan_inside_is_refused(planned: Path) -> None:
    from xlplan.io.tables import open_workbook, read_sheet_rows

    rows = read_sheet_rows(open_workbook(planned), planned, SHEET)
    assert parse_embedded(rows).department_id == "ALD"
    part = next(i for i, r in enumerate(rows) if r[0] == "del.0001")
    cut = [list(r) for r in rows]
    cut[part][1] = cut[part][1][:-8]
    with pytest.raises(WorkbookRefused, match="_xlplan_plan"):
        parse_embedded(cut)
    newer = [list(r) for r in rows]
    newer[next(i for i, r in enumerate(rows) if r[0] == "format")][1] = "99"
    with pytest.raises(WorkbookRefused, match="Uppdatera xlplan"):
        parse_embedded(newer)


def test_a_newer_plan_nearby_is_used_and_an_older_one_is_not(planned: Path, lone: Path,
                                                             tiny_tables: dict[str, Any]) -> None:
    tables = kolada_2022_tables(tiny_tables)
    tables["Indikatorer"][0]["Målvärde 2022"] = ">95 %"
    newer = lone.parent / "plan.xlsx"
    write_plan_tables(tables, newer)  # saved after the file was filled
    book = read_department_workbook(lone)
    choice = choose_plan(lone, "testkommun-von-2024", "ALD", lone.parent)
    assert choice.path == newer and "nyare" in choice.note
    filled = read_embedded(lone)
    assert filled is not None and filled.time is not None
    stamp = filled.time.timestamp() - 3600
    os.utime(newer, (stamp, stamp))  # a plan saved before the file was filled, but different: older
    choice = choose_plan(lone, book.plan_id or "", "ALD", lone.parent)
    assert choice.embedded and choice.plan.version == filled.plan.version and "äldre" in choice.note
    newer.unlink()
    shutil.copy(planned.parents[1] / "plan.xlsx", lone.parent / "plan.xlsx")  # the very plan: same version
    choice = choose_plan(lone, book.plan_id or "", "ALD", lone.parent)
    assert not choice.embedded and "samma version" in choice.note


def test_a_file_without_a_plan_inside_and_none_nearby_says_what_to_do(lone: Path) -> None:
    wb = load_workbook(lone, keep_vba=True)
    del wb[SHEET]
    wb.save(lone)
    with pytest.raises(BadInput, match="--plan"):
        flag(lone)


# ---------------------------------------------------------------- the command line on a lone file


def test_cli_pull_flag_submit_on_a_lone_file_give_the_statuses_of_the_plan(
        planned: Path, lone: Path, srv: KoladaStandin) -> None:
    runner = CliRunner()
    (planned.parents[1] / "exporter").mkdir()  # the plan's folder has the same export
    (planned.parents[1] / "exporter" / "sjuk_2022.csv").write_bytes(SICK.encode("cp1252"))
    found = {}
    for path in (planned, lone):
        res = runner.invoke(app, ["pull", str(path), "--kolada-url", srv.url])
        assert res.exit_code == 0, res.output
        res = runner.invoke(app, ["flag", str(path)])
        assert res.exit_code == 0, res.output
        found[path] = json.loads(runner.invoke(app, ["flag", str(path), "--json"]).output)[0]["status"]
    assert "Planen som finns i filen används" in res.output
    assert found[lone] == found[planned]
    assert set(found[lone].values()) <= {"Uppfyllt", "Delvis uppfyllt", "Ej uppfyllt"}  # every outcome filled
    alone = read_department_workbook(lone)
    assert alone.row(INDICATORS, "I|I3|").raw["outcome"] == 8.4  # type: ignore[union-attr]  # the local export
    assert alone.row(INDICATORS, "I|I1|").raw["outcome_source"].startswith("Källa: Kolada")  # type: ignore[union-attr]
    res = runner.invoke(app, ["submit", str(lone)])
    assert res.exit_code == 0, res.output
    assert state(lone) == READY
    (event,) = history(read_department_workbook(lone).metadata)
    assert event.state == READY and event.who == "avdelningschef"


def test_cli_submit_lists_what_blocks(lone: Path) -> None:
    res = CliRunner().invoke(app, ["submit", str(lone)])
    assert res.exit_code == 1
    assert "kan inte lämnas in ännu" in res.output and "Utfall saknas" in res.output
    assert state(lone) == "ej påbörjad" and history(read_department_workbook(lone).metadata) == []


def test_cli_approve_and_return(lone: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["approve", str(lone), "--av", "controller"])
    assert res.exit_code == 2 and "inte 'klar för granskning'" in res.output
    set_cells(lone, INDICATORS, {outcome_cell(lone, rid): v for rid, v in
                                 {"I|I1|": 92, "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 60, "I|I3|": 7.2}.items()})
    assert runner.invoke(app, ["submit", str(lone)]).exit_code == 0
    res = runner.invoke(app, ["approve", str(lone)])  # the one who submitted
    assert res.exit_code == 2 and "kan inte själv godkänna" in res.output and state(lone) == READY
    res = runner.invoke(app, ["approve", str(lone), "--av", "controller"])
    assert res.exit_code == 0, res.output
    assert state(lone) == APPROVED and "inmatningsceller låsta" in res.output
    ws = load_workbook(lone, keep_vba=True)[INDICATORS]
    assert ws.protection.sheet and ws[outcome_cell(lone, "I|I1|")].protection.locked
    res = runner.invoke(app, ["pull", str(lone), "--offline"])
    assert "godkänd och låst" in res.output
    res = runner.invoke(app, ["return", str(lone), "--kommentar", "Kommentera sjukfrånvaron.", "--av", "controller"])
    assert res.exit_code == 0, res.output
    assert state(lone) == RETURNED
    ws = load_workbook(lone, keep_vba=True)[INDICATORS]
    assert not ws[outcome_cell(lone, "I|I1|")].protection.locked
    events = history(read_department_workbook(lone).metadata)
    assert [(e.state, e.who, e.comment) for e in events] == [
        (READY, "avdelningschef", None), (APPROVED, "controller", None),
        (RETURNED, "controller", "Kommentera sjukfrånvaron.")]


# ---------------------------------------------------------------- the buttons, as the users use them


def controller_book(root: Path, tiny: dict[str, Any], folder: Path, department: str) -> Path:
    (root / "plan.json").write_text(json.dumps(kolada_2022_tables(tiny), ensure_ascii=False), encoding="utf-8")
    path = build_workbook(root / "uppfoljning.xlsm", plan_source=root / "plan.json")
    rows = {s.key: f"B{4 + i}" for i, s in enumerate(SETTINGS)}
    set_cells(path, "Val", {rows["department"]: department, rows["period"]: PERIOD,
                            rows["consolidate_folder"]: str(folder)})
    return path


def test_department_and_controller_buttons_on_a_lone_file(
        lone: Path, tmp_path: Path, tiny_tables: dict[str, Any], srv: KoladaStandin,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(excel.KOLADA_ENV, srv.url)
    # the department: Hämta värden, Flagga avvikelser, Kontrollera och lämna in, with no plan anywhere
    run = press(lone, excel.pull, monkeypatch)
    assert run.alerts[0].prompt.startswith(f"4 utfall hämtade (Kolada: {srv.url})")
    assert "Planen som finns i filen används" in run.alerts[0].prompt
    assert read_department_workbook(lone).row(INDICATORS, "I|I3|").raw["outcome"] == 8.4  # type: ignore[union-attr]
    run = press(lone, excel.flag, monkeypatch)
    assert run.alerts[0].mode == "info"
    run = press(lone, excel.submit, monkeypatch)
    assert run.alerts[0].mode == "info" and state(lone) == READY
    (submitted,) = history(read_department_workbook(lone).metadata)
    assert submitted.who == "avdelningschef" and submitted.state == READY

    # a department cannot approve itself, not even by running the controller's macro in its own file
    run = press(lone, excel.approve, monkeypatch)
    assert run.alerts[0].mode == "critical" and "inte i en avdelningsfil" in run.alerts[0].prompt
    assert state(lone) == READY

    # the controller approves from uppfoljning.xlsm: the file is locked for the department's buttons
    (tmp_path / "nämnd").mkdir()
    ctrl = controller_book(tmp_path / "nämnd", tiny_tables, lone.parent, "ALD")
    monkeypatch.setenv("USERNAME", "controller")
    run = press(ctrl, excel.approve, monkeypatch)
    assert run.alerts[0].mode == "info" and "godkänd" in run.alerts[0].prompt
    assert state(lone) == APPROVED
    monkeypatch.setenv("USERNAME", "avdelningschef")
    run = press(lone, excel.pull, monkeypatch)
    assert run.alerts[0].mode == "critical" and "godkänd" in run.alerts[0].prompt
    assert [a["func"] for a in run.actions] == ["alert"]

    # the controller sends it back with a comment (Val), the department completes and resubmits
    monkeypatch.setenv("USERNAME", "controller")
    run = press(ctrl, excel.send_back, monkeypatch)
    assert run.alerts[0].mode == "critical" and "Kommentar till avdelningen" in run.alerts[0].prompt
    rows = {s.key: f"B{4 + i}" for i, s in enumerate(SETTINGS)}
    set_cells(ctrl, "Val", {rows["return_comment"]: "Kommentera sjukfrånvaron."})
    run = press(ctrl, excel.send_back, monkeypatch)
    assert run.alerts[0].mode == "info" and state(lone) == RETURNED
    monkeypatch.setenv("USERNAME", "avdelningschef")
    cell = read_department_workbook(lone).address(INDICATORS, "I|I3|", "comment")
    assert cell is not None
    set_cells(lone, INDICATORS, {cell: "Sjukfrånvaron har ökat under hösten."})
    run = press(lone, excel.submit, monkeypatch)
    assert run.alerts[0].mode == "info" and state(lone) == READY
    monkeypatch.setenv("USERNAME", "controller")
    run = press(ctrl, excel.approve, monkeypatch)
    assert state(lone) == APPROVED
    events = history(read_department_workbook(lone).metadata)
    assert [(e.state, e.who) for e in events] == [
        (READY, "avdelningschef"), (APPROVED, "controller"), (RETURNED, "controller"),
        (READY, "avdelningschef"), (APPROVED, "controller")]
    assert events[2].comment == "Kommentera sjukfrånvaron."

    # the committee workbook shows who set the state, and when
    result = consolidate(lone.parent, tmp_path / "plan" / "plan.xlsx", PERIOD, tmp_path / "nämnd" / "sam.xlsx")
    subs = {s.department_id: s for s in result.data.submissions}
    assert subs["ALD"].state == APPROVED and subs["ALD"].state_by == "controller"
    assert subs["ALD"].state_at == events[-1].local_time and subs["ALD"].state_at is not None
    assert result.counts()["godkända"] == 1
    from xlplan.books.committee import read_committee_workbook

    shown = {s.department_id: s for s in read_committee_workbook(tmp_path / "nämnd" / "sam.xlsx").submissions}
    assert (shown["ALD"].state, shown["ALD"].state_by) == (APPROVED, "controller")


def test_the_drop_down_offers_only_the_departments_own_states(lone: Path) -> None:
    wb = load_workbook(lone, keep_vba=True)
    ref = read_department_workbook(lone).address(OVERVIEW, SUBMISSION_ROW_ID, "value")
    (dv,) = [dv for dv in wb[OVERVIEW].data_validations.dataValidation if ref in dv.sqref]
    assert dv.formula1 == '"ej påbörjad,pågår"'
    assert META in wb.sheetnames


def test_a_department_file_has_only_the_department_ribbon(lone: Path) -> None:
    import zipfile

    from xlplan.xlsm.sources import department_ribbon_xml, ribbon_actions

    with zipfile.ZipFile(lone) as zf:
        ribbon = zf.read("customUI/customUI14.xml").decode("utf-8")
    assert ribbon == department_ribbon_xml()
    assert ribbon_actions(ribbon) == ["XlplanPull", "XlplanFlag", "XlplanSubmit", "XlplanGuide"]


def test_refill_keeps_the_history_and_the_lock(planned: Path, tmp_path: Path) -> None:
    set_cells(planned, INDICATORS, {outcome_cell(planned, rid): v for rid, v in
                                    {"I|I1|": 92, "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 60, "I|I3|": 7.2}.items()})
    submit_file(planned)
    approve_file(planned, "controller")
    before = history(read_department_workbook(planned).metadata)
    fill(tmp_path / "plan" / "plan.xlsx", PERIOD, ["ALD"], planned.parent, update=True, fmt="xlsm")
    assert history(read_department_workbook(planned).metadata) == before and len(before) == 2
    assert state(planned) == APPROVED
    cell = outcome_cell(planned, "I|I1|")
    assert load_workbook(planned, keep_vba=True)[INDICATORS][cell].protection.locked
    return_file(planned, "Mer text.", "controller")
    assert not load_workbook(planned, keep_vba=True)[INDICATORS][cell].protection.locked
    fill(tmp_path / "plan" / "plan.xlsx", PERIOD, ["ALD"], planned.parent, update=True, fmt="xlsm")
    assert not load_workbook(planned, keep_vba=True)[INDICATORS][cell].protection.locked
    assert len(history(read_department_workbook(planned).metadata)) == 3


def test_pull_of_a_folder_without_a_plan_uses_each_files_own(
        tmp_path: Path, tiny_tables: dict[str, Any], srv: KoladaStandin) -> None:
    write_plan_tables(kolada_2022_tables(tiny_tables), tmp_path / "plan.xlsx")
    folder = tmp_path / "inkorg"
    fill(tmp_path / "plan.xlsx", PERIOD, None, folder, fmt="xlsx")
    (tmp_path / "plan.xlsx").unlink()
    from xlplan.kolada import KoladaCache, KoladaClient

    with KoladaClient(base_url=srv.url, cache=KoladaCache(tmp_path / "c")) as client:
        result = pull(folder, client=client)
    assert len(result.books) == 2 and len(result.written) == 2
    assert sum(1 for c in result.changes if c.writes) >= 4


def test_kolada_down_only_the_kolada_rows_wait(lone: Path, srv: KoladaStandin,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(excel.KOLADA_ENV, srv.url)
    srv.set_failure("500")
    run = press(lone, excel.pull, monkeypatch)
    alert = run.alerts[0]
    assert alert.mode == "critical" and alert.prompt.startswith("1 utfall hämtat")
    assert "Raderna med Kolada som källa hämtades inte" in alert.prompt
    book = read_department_workbook(lone)
    assert book.row(INDICATORS, "I|I3|").raw["outcome"] == 8.4  # type: ignore[union-attr]  # the local export
    assert book.row(INDICATORS, "I|I1|").raw["outcome"] is None  # type: ignore[union-attr]
    assert "Inget värde för år" not in alert.prompt  # Kolada did not answer; it did not say "no value"


def test_the_kolada_address_on_val_travels_with_the_file(tmp_path: Path, tiny_tables: dict[str, Any],
                                                         srv: KoladaStandin, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "nämnd").mkdir()
    ctrl = controller_book(tmp_path / "nämnd", tiny_tables, tmp_path / "nämnd", "ALD")
    rows = {s.key: f"B{4 + i}" for i, s in enumerate(SETTINGS)}
    set_cells(ctrl, "Val", {rows["kolada_url"]: srv.url})
    (made,) = fill(ctrl, PERIOD, ["ALD"], tmp_path / "nämnd" / "avd", fmt="xlsm").written
    (tmp_path / "ute").mkdir()
    lone = Path(shutil.copy(made, tmp_path / "ute" / made.name))
    run = press(lone, excel.pull, monkeypatch)  # no XLPLAN_KOLADA_URL, no plan: the address inside the file
    assert f"(Kolada: {srv.url})" in run.alerts[0].prompt and srv.request_count > 0
    inside = read_embedded(lone)
    assert inside is not None and inside.plan.version == read_plan(ctrl).version


def test_about_shows_the_last_state_change_with_the_comment(planned: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    set_cells(planned, INDICATORS, {outcome_cell(planned, rid): v for rid, v in
                                    {"I|I1|": 92, "I|I2|Äldre": 70, "I|I2|Funktionsstöd": 60, "I|I3|": 7.2}.items()})
    submit_file(planned)
    return_file(planned, "Kommentera sjukfrånvaron.", "controller")
    run = press(planned, excel.about, monkeypatch)
    assert "Inlämningsstatus: åter för komplettering" in run.alerts[0].prompt
    assert "av controller: Kommentera sjukfrånvaron." in run.alerts[0].prompt


def test_a_state_typed_into_the_cell_is_not_taken_for_a_recorded_one(lone: Path, tmp_path: Path) -> None:
    ref = read_department_workbook(lone).address(OVERVIEW, SUBMISSION_ROW_ID, "value")
    assert ref is not None
    set_cells(lone, OVERVIEW, {ref: APPROVED})  # pasted past the drop-down
    result = consolidate(lone.parent, tmp_path / "plan" / "plan.xlsx", PERIOD, tmp_path / "sam.xlsx")
    (warning,) = [p for p in result.problems if p.code == "status_ej_registrerad"]
    assert warning.file == lone.name and warning.cell == ref and "ingen ändring är registrerad" in warning.message
    with pytest.raises(WorkbookRefused, match="inte 'klar för granskning'"):
        approve_file(lone, "controller")
    set_cells(lone, OVERVIEW, {ref: READY})
    with pytest.raises(WorkbookRefused, match="ingen inlämning i filens logg"):
        approve_file(lone, "controller")


def test_flag_button_gives_the_same_result_alone_as_beside_the_plan(planned: Path, lone: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    values = {"I|I1|": 85, "I|I2|Äldre": 70, "I|I3|": "7,9"}
    for path in (planned, lone):
        set_cells(path, INDICATORS, {outcome_cell(path, rid): v for rid, v in values.items()})
    beside, alone = press(planned, excel.flag, monkeypatch), press(lone, excel.flag, monkeypatch)
    first = beside.alerts[0].prompt.splitlines()
    assert alone.alerts[0].prompt.splitlines()[:-1] == first[:-1]  # all but the line naming the plan used
    assert first[-1].startswith("Planen plan.xlsx används (samma version")
    assert alone.alerts[0].prompt.splitlines()[-1].startswith("Planen som finns i filen används")
    assert "Målet ej uppfyllt" in alone.alerts[0].prompt

    def flag_list(path: Path) -> list[tuple[Any, ...]]:
        wb = load_workbook(path, keep_vba=True)
        ((sheet, ref),) = list(wb.defined_names["xlplan_flaggor"].destinations)
        ws = wb[sheet]
        first_row = ws[ref.replace("$", "")].row
        return [tuple(c.value for c in row) for row in ws.iter_rows(min_row=first_row)]

    assert flag_list(lone) == flag_list(planned)


def test_a_damaged_plan_inside_gives_way_to_the_plan_beside(planned: Path, lone: Path) -> None:
    for path in (planned, lone):
        wb = load_workbook(path, keep_vba=True)
        ws = wb[SHEET]
        (cell,) = [row[1] for row in ws.iter_rows() if row[0].value == "sha256"]
        cell.value = "0" * 64
        wb.save(path)
    choice = choose_plan(planned, "testkommun-von-2024", "ALD", planned.parent)
    assert choice.path == planned.parents[1] / "plan.xlsx"
    with pytest.raises(WorkbookRefused, match="ändrat eller ofullständigt"):
        choose_plan(lone, "testkommun-von-2024", "ALD", lone.parent)
