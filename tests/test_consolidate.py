"""consolidate: department workbooks -> committee workbook, with every problem reported."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import shutil
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from typer.testing import CliRunner

from xlplan.actions.consolidate import consolidate, goal_assessment
from xlplan.actions.fill import fill
from xlplan.books.committee import read_committee_workbook
from xlplan.books.department.columns import ACTIVITIES, CONTROLS, ECONOMY, INDICATORS, OVERVIEW, SUBMISSION_ROW_ID
from xlplan.books.department.reader import read_department_workbook
from xlplan.core.codes import Code
from xlplan.core.status import Status

PERIOD = "2024-delår"
STAMP = "2026-11-23T20:00:00+00:00"
Cells = dict[tuple[str, str, str], Any]


def fill_folder(plan: Path, folder: Path, period: str = PERIOD, deps: list[str] | None = None) -> dict[str, Path]:
    written = fill(plan, period, deps, folder, generated_at=STAMP).written
    return {read_department_workbook(p).department_id or "": p for p in written}


def set_cells(path: Path, cells: Cells, extra: Callable[[Any], None] | None = None) -> None:
    """Type values into a department workbook as a user would (cells found by Rad-id and column key)."""
    book = read_department_workbook(path)
    wb = openpyxl.load_workbook(path)
    for (sheet, row_id, key), value in cells.items():
        wb[book.actual_sheet_name(sheet) or sheet][book.address(sheet, row_id, key)] = value
    if extra is not None:
        extra(wb)
    wb.save(path)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def folder(tiny_plan_path: Path, tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    avd = tmp_path / "avdelningar"
    return avd, fill_folder(tiny_plan_path, avd)


def run(plan: Path, avd: Path, tmp_path: Path, period: str = PERIOD):
    result = consolidate(avd, plan, period, tmp_path / "namnd" / "sammanstallning.xlsx",
                         tmp_path / "namnd" / "rapport.json")
    data = read_committee_workbook(result.out_path)
    report = json.loads((tmp_path / "namnd" / "rapport.json").read_text(encoding="utf-8"))
    return result, data, report


def line(data: Any, dep: str | None, ind: str, series: str | None = None) -> Any:
    (x,) = [x for x in data.indicators if x.department_id == dep and x.indicator_id == ind and x.series == series]
    return x


def codes_for(problems: Any, file: str | None) -> list[str]:
    """Problem codes of one file, from Problem records or from the JSON report's dicts."""
    rows = [p if isinstance(p, dict) else p.to_json() for p in problems]
    return sorted(p["code"] for p in rows if p["file"] == file)


# ---------------------------------------------------------------- values and status

def test_values_appear_exactly_as_typed_and_status_is_recomputed(tiny_plan_path, folder, tmp_path) -> None:
    avd, files = folder
    set_cells(files["ALD"], {
        (INDICATORS, "I|I1|", "outcome"): 91.5,
        (INDICATORS, "I|I2|Äldre", "outcome"): 70,
        (INDICATORS, "I|I2|Funktionsstöd", "outcome"): 68.25,
        (INDICATORS, "I|I3|", "outcome"): 7.2,
        (INDICATORS, "I|I3|", "comment"): "Färre långa sjukskrivningar.",
        (INDICATORS, "I|I1|", "status"): "Ej uppfyllt",  # a user overwrote the formula
        (ACTIVITIES, "A|A1", "status"): "pågår",
        (ECONOMY, "E|Intäkter", "actual"): 700,
        (ECONOMY, "E|Intäkter", "forecast"): 1300,
        (ECONOMY, "E|Personalkostnader", "forecast"): -36000,
        (ECONOMY, "E|Personalkostnader", "comment"): "Vikarier under sommaren.",
        (CONTROLS, "K|IK1", "result"): "med anmärkning",
        (OVERVIEW, SUBMISSION_ROW_ID, "value"): "klar för granskning",
    })
    set_cells(files["LSS"], {
        (INDICATORS, "I|I4|", "assessment"): "Uppfyllt",
        (INDICATORS, "I|I3|", "outcome"): "8,9",  # typed as text with a decimal comma
        (OVERVIEW, SUBMISSION_ROW_ID, "value"): "godkänd",
    })
    result, data, report = run(tiny_plan_path, avd, tmp_path)

    assert set(result.included) == {"ALD", "LSS"}
    assert line(data, "ALD", "I1").outcome == 91.5 and line(data, "ALD", "I1").status == "Uppfyllt"
    assert line(data, "ALD", "I2", "Äldre").outcome == 70 and line(data, "ALD", "I2", "Äldre").status == "Uppfyllt"
    delvis = line(data, "ALD", "I2", "Funktionsstöd")
    assert delvis.outcome == 68.25 and delvis.status == "Delvis uppfyllt"  # missed 69 but up from 67
    assert line(data, "ALD", "I3").outcome == 7.2 and line(data, "ALD", "I3").status == "Uppfyllt"
    assert line(data, "LSS", "I3").outcome == 8.9 and line(data, "LSS", "I3").status == "Ej uppfyllt"
    assert line(data, "LSS", "I4").status == "Uppfyllt" and line(data, "LSS", "I4").assessment == "Uppfyllt"
    assert line(data, "LSS", "I2", "Äldre").status == "Utfall saknas"
    assert line(data, "ALD", "I1").target == ">90 %" and line(data, "ALD", "I1").target_value == 90

    mismatch = [p for p in data.problems if p.code == "status_omraknad"]  # consolidate recomputes it
    assert len(mismatch) == 1 and mismatch[0].file == files["ALD"].name and "'Ej uppfyllt'" in mismatch[0].message

    (act,) = data.activities[:1]
    assert (act.activity_id, act.status) == ("A1", "Pågår")
    eco = {(e.department_id, e.item): e for e in data.economy}
    assert eco[("ALD", "Intäkter")].outcome == 700 and eco[("ALD", "Intäkter")].deviation == 100
    assert eco[("ALD", "Personalkostnader")].deviation == -600
    (ctrl,) = [c for c in data.controls if c.department_id == "ALD"]
    assert ctrl.result == "med anmärkning" and ctrl.risk_value == 9
    texts = [c.text for c in data.comments]
    assert "Färre långa sjukskrivningar." in texts
    assert "Ekonomi, Personalkostnader: Vikarier under sommaren." in texts

    subs = {s.department_id: s for s in data.submissions}
    assert subs["ALD"].state == "klar för granskning" and subs["LSS"].state == "godkänd"
    assert subs["ALD"].file == files["ALD"].name and subs["ALD"].file_hash == sha(files["ALD"])
    assert subs["ALD"].saved_at is not None
    goals = {g.goal_id: g for g in data.goals}
    # over distinct indicators, not department lines: I1 met (ALD; LSS missing), I2 partly met
    assert (goals["M1"].fulfilled, goals["M1"].partly, goals["M1"].outcome_missing) == (1, 1, 0)
    assert report["counts"]["inkluderade"] == 2
    assert {s["department_id"]: s["sha256"] for s in report["submissions"]}["LSS"] == sha(files["LSS"])


def test_department_files_are_never_changed(tiny_plan_path, folder, tmp_path) -> None:
    avd, files = folder
    set_cells(files["ALD"], {(INDICATORS, "I|I1|", "outcome"): "ca 50"})
    before = {p.name: (sha(p), p.stat().st_mtime_ns) for p in avd.iterdir()}
    run(tiny_plan_path, avd, tmp_path)
    assert {p.name: (sha(p), p.stat().st_mtime_ns) for p in avd.iterdir()} == before


# ---------------------------------------------------------------- problems in files

def test_every_planted_problem_is_reported(tiny_plan_path, folder, tmp_path) -> None:
    avd, files = folder
    ald, lss = files["ALD"], files["LSS"]
    book = read_department_workbook(ald)
    dev = book.address(ECONOMY, "E|Intäkter", "deviation")

    def damage(wb: Any) -> None:
        wb[ECONOMY][dev] = "#DIV/0!"
        wb[ECONOMY][dev].data_type = "e"
        wb[ACTIVITIES].title = "Våra aktiviteter"
        wb[INDICATORS].delete_rows(7)  # I|I2|Äldre

    set_cells(ald, {
        (INDICATORS, "I|I1|", "outcome"): 150,  # outside Min/Max 0–100
        (INDICATORS, "I|I3|", "outcome"): "ca 7",  # text in a number cell
        (ACTIVITIES, "A|A1", "status"): "nästan klar",  # not in the drop-down list
    }, damage)
    set_cells(lss, {(INDICATORS, "I|I3|", "outcome"): 8.0},
              lambda wb: wb[INDICATORS].move_range("Q5:Q12", cols=3))  # Åtgärder moved
    result, data, report = run(tiny_plan_path, avd, tmp_path)

    planted = {ald.name: {"utfall_orimligt", "inte_tal", "ogiltigt_val", "formelfel", "blad_omdopt",
                          "rad_saknas"},
               lss.name: {"kolumn_flyttad"}}
    for name, wanted in planted.items():
        in_sheet = {p.code for p in data.problems if p.file == name}
        in_json = {p["code"] for p in report["problems"] if p["file"] == name}
        assert wanted <= in_sheet, (name, in_sheet)
        assert wanted <= in_json
    by_code = {p.code: p for p in data.problems if p.file == ald.name}
    assert by_code["utfall_orimligt"].cell == book.address(INDICATORS, "I|I1|", "outcome")
    assert by_code["inte_tal"].sheet == INDICATORS and "'ca 7'" in by_code["inte_tal"].message
    assert by_code["blad_omdopt"].sheet == "Våra aktiviteter"
    assert by_code["formelfel"].cell == dev
    assert "I|I2|Äldre" in by_code["rad_saknas"].message
    # the files are still included, values as typed; the deleted row shows as missing
    assert set(result.included) == {"ALD", "LSS"}
    assert line(data, "ALD", "I1").outcome == 150
    assert line(data, "ALD", "I3").outcome is None and line(data, "ALD", "I3").status == "Utfall saknas"
    assert line(data, "ALD", "I2", "Äldre").status == "Utfall saknas"
    assert line(data, "LSS", "I3").outcome == 8.0
    subs = {s["department_id"]: s for s in report["submissions"]}
    assert subs["ALD"]["problems"] == len([p for p in report["problems"] if p["file"] == ald.name])
    assert all(set(p) == {"file", "sheet", "cell", "code", "severity", "message", "action", "fix"}
               for p in report["problems"])
    assert all(p["fix"] == Code.of(p["code"]).fix for p in report["problems"])  # as on the Kontroll sheet


def test_missing_department_and_foreign_leftovers(tiny_plan_path, tmp_path) -> None:
    avd = tmp_path / "avdelningar"
    files = fill_folder(tiny_plan_path, avd, deps=["ALD"])
    (avd / "~$Äldreomsorg.xlsx").write_bytes(b"\x00lock")
    (avd / "gammal.xls").write_bytes(b"\xd0\xcf\x11\xe0junk")
    (avd / "export.csv").write_text("a;b\n", encoding="utf-8")
    (avd / "tom.xlsx").write_bytes(b"")
    result, data, report = run(tiny_plan_path, avd, tmp_path)
    subs = {s.department_id: s for s in data.submissions}
    assert subs["LSS"].state == "saknas" and subs["LSS"].file is None
    assert subs["ALD"].file == files["ALD"].name
    assert any(p.code == "inlamning_saknas" and "LSS" in p.message for p in data.problems)
    assert line(data, "LSS", "I4").provenance == "ingen fil inlämnad"
    lock = next(p for p in data.problems if p.file == "~$Äldreomsorg.xlsx")
    assert lock.message == "Excel-låsfil: arbetsboken är öppen hos någon; ignoreras"
    assert {p.file for p in data.problems} >= {"gammal.xls", "export.csv", "tom.xlsx"}
    assert next(p for p in data.problems if p.file == "tom.xlsx").message == "Filen är tom (0 byte)."
    assert sorted(result.files) == sorted(p.name for p in avd.iterdir())


def test_two_different_files_for_one_department_include_neither(tiny_plan_path, folder, tmp_path) -> None:
    avd, files = folder
    copy_path = avd / "Äldreomsorg_kopia.xlsx"
    shutil.copy(files["ALD"], copy_path)
    set_cells(files["ALD"], {(INDICATORS, "I|I1|", "outcome"): 91})
    set_cells(copy_path, {(INDICATORS, "I|I1|", "outcome"): 85})
    result, data, report = run(tiny_plan_path, avd, tmp_path)
    assert "ALD" not in result.included and "LSS" in result.included
    sub = next(s for s in data.submissions if s.department_id == "ALD")
    assert sub.state == "konflikt" and files["ALD"].name in sub.file and copy_path.name in sub.file
    conflicts = [p for p in data.problems if p.code == "konflikt"]
    assert {p.file for p in conflicts} == {files["ALD"].name, copy_path.name}
    assert line(data, "ALD", "I1").outcome is None and "konflikt" in line(data, "ALD", "I1").provenance
    assert report["counts"]["konflikter"] == 1


def test_identical_copy_counts_once(tiny_plan_path, folder, tmp_path) -> None:
    avd, files = folder
    set_cells(files["ALD"], {(INDICATORS, "I|I1|", "outcome"): 91})
    twin = avd / "Äldreomsorg (2).xlsx"
    shutil.copy(files["ALD"], twin)
    result, data, _ = run(tiny_plan_path, avd, tmp_path)
    assert "ALD" in result.included and line(data, "ALD", "I1").outcome == 91
    (dup,) = [p for p in data.problems if p.code == "fil_kopia"]
    assert dup.severity == "varning" and dup.file in {twin.name, files["ALD"].name}


def test_other_period_plan_and_department_are_refused(tiny_plan_path, tiny_tables, write_tables, folder,
                                                      tmp_path) -> None:
    avd, files = folder
    other_period = fill_folder(tiny_plan_path, tmp_path / "k1", period="2024-K1", deps=["LSS"])["LSS"]
    shutil.copy(other_period, avd / "LSS_K1.xlsx")
    tables = copy.deepcopy(tiny_tables)
    tables["Inställningar"][0]["Värde"] = "annan-plan"
    tables["Avdelningar"].append({"Avdelnings-id": "HSL", "Avdelning": "Hälso- och sjukvård"})
    other_plan = write_tables(tables, "annan.xlsx")
    foreign = fill_folder(other_plan, tmp_path / "annan", deps=["ALD", "HSL"])
    shutil.copy(foreign["ALD"], avd / "annan_plan.xlsx")
    shutil.copy(foreign["HSL"], avd / "okand_avdelning.xlsx")
    result, data, report = run(tiny_plan_path, avd, tmp_path)
    assert set(result.included) == {"ALD", "LSS"}
    assert codes_for(data.problems, "LSS_K1.xlsx") == ["annan_period"]
    assert codes_for(data.problems, "annan_plan.xlsx") == ["annan_plan"]
    assert codes_for(data.problems, "okand_avdelning.xlsx") == ["annan_plan", "okand_avdelning"]
    assert codes_for(report["problems"], "LSS_K1.xlsx") == ["annan_period"]


def test_older_plan_version_is_mapped_by_ids(tiny_tables, write_tables, tmp_path) -> None:
    old = write_tables(tiny_tables, "plan_v1.xlsx")
    avd = tmp_path / "avdelningar"
    files = fill_folder(old, avd)
    set_cells(files["ALD"], {(INDICATORS, "I|I1|", "outcome"): 92, (INDICATORS, "I|I3|", "outcome"): 7.0})
    new_tables = copy.deepcopy(tiny_tables)
    new_tables["Indikatorer"][0]["Målvärde 2024"] = ">95 %"  # the committee raised the target
    new_tables["Indikatorer"] = [i for i in new_tables["Indikatorer"] if i["Indikator-id"] != "I3"]
    new_tables["Indikatorer"].append({"Indikator-id": "I5", "Mål-id": "M1", "Indikator": "Ny indikator",
                                      "Målvärde 2024": "minst 10", "Avdelningar": "ALD"})
    new = write_tables(new_tables, "plan_v2.xlsx")
    result, data, _ = run(new, avd, tmp_path)
    ald = [p for p in data.problems if p.file == files["ALD"].name]
    assert "annan_planversion" in {p.code for p in ald}
    assert line(data, "ALD", "I1").outcome == 92
    assert line(data, "ALD", "I1").target == ">95 %"  # the current plan's target, not the file's
    assert line(data, "ALD", "I1").status == "Delvis uppfyllt"  # misses 95, up from the baseline 88
    gone = next(p for p in ald if p.code == "rad_ej_i_planen")
    assert "I|I3|" in gone.message and "7" in gone.message  # the typed value is not lost
    new_row = next(p for p in ald if p.code == "planrad_saknas")
    assert "I|I5|" in new_row.message and "ändrats" in new_row.message
    assert line(data, "ALD", "I5").status == "Utfall saknas"


def test_committee_level_line_is_never_invented(tiny_tables, write_tables, tmp_path) -> None:
    tables = copy.deepcopy(tiny_tables)
    tables["Indikatorer"][2]["Nämndnivå"] = "ja"  # I3, reported by ALD and LSS
    plan = write_tables(tables)
    avd = tmp_path / "avdelningar"
    files = fill_folder(plan, avd)
    set_cells(files["ALD"], {(INDICATORS, "I|I3|", "outcome"): 7.0})
    set_cells(files["LSS"], {(INDICATORS, "I|I3|", "outcome"): 9.0})
    _, data, _ = run(plan, avd, tmp_path)
    committee = line(data, None, "I3")
    assert committee.department == "Nämnden" and committee.outcome is None
    assert committee.status == "Utfall saknas"
    assert [x.indicator_id for x in data.indicators if x.department_id is None] == ["I3"]

    tables["Avdelningar"].append({"Avdelnings-id": "NÄMND", "Avdelning": "Förvaltningsledningen"})
    tables["Indikatorer"][2]["Avdelningar"] = "ALD, LSS, NÄMND"
    plan = write_tables(tables, "plan2.xlsx")
    avd2 = tmp_path / "avdelningar2"
    files = fill_folder(plan, avd2)
    set_cells(files["NÄMND"], {(INDICATORS, "I|I3|", "outcome"): 8.2})
    _, data, _ = run(plan, avd2, tmp_path / "b")
    assert line(data, None, "I3").outcome == 8.2
    assert not [x for x in data.indicators if x.department_id == "NÄMND" and x.indicator_id == "I3"]


def test_goal_assessment_rules() -> None:
    up, part, no, miss, none = (Status.UPPFYLLT, Status.DELVIS, Status.EJ, Status.UTFALL_SAKNAS,
                                Status.MALVARDE_SAKNAS)
    assert goal_assessment([up, up, none], "alla") == "Uppfyllt"
    assert goal_assessment([up, no], "alla") == "Delvis uppfyllt"
    assert goal_assessment([up, up, no], "majoritet") == "Uppfyllt"
    assert goal_assessment([up, no], "majoritet") == "Delvis uppfyllt"
    assert goal_assessment([no, miss], "alla") == "Ej uppfyllt"
    assert goal_assessment([miss], "alla") == "Kan inte bedömas"
    assert goal_assessment([none], "alla") == "Kan inte bedömas"  # nothing with a target to judge by
    assert goal_assessment([], "alla") is None
    assert goal_assessment([part], "majoritet") == "Delvis uppfyllt"


def test_output_inside_the_folder_is_not_read_as_a_department_file(tiny_plan_path, folder) -> None:
    avd, _ = folder
    out, rep = avd / "sammanstallning.xlsx", avd / "rapport.json"
    consolidate(avd, tiny_plan_path, PERIOD, out, rep)
    result = consolidate(avd, tiny_plan_path, PERIOD, out, rep)
    assert set(result.included) == {"ALD", "LSS"}
    assert not [p for p in result.problems if p.file in (out.name, rep.name)]
    assert out.name not in result.files and rep.name not in result.files
    shutil.copy(out, avd / "förra_sammanställningen.xlsx")  # an old committee workbook left in the folder
    result = consolidate(avd, tiny_plan_path, PERIOD, out)
    (old,) = [p for p in result.problems if p.file == "förra_sammanställningen.xlsx"]
    assert old.code == "inte_avdelningsfil" and "nämndsammanställning" in old.message


def test_cli(tiny_plan_path, folder, tmp_path) -> None:
    from xlplan.cli import app

    avd, _ = folder
    out, rep = tmp_path / "n.xlsx", tmp_path / "r.json"
    res = CliRunner().invoke(app, ["consolidate", str(avd), "--plan", str(tiny_plan_path), "--period", PERIOD,
                                   "--out", str(out), "--report", str(rep)])
    assert res.exit_code == 0, res.output
    assert "2 av 2 avdelningar" in res.output
    assert out.exists() and json.loads(rep.read_text(encoding="utf-8"))["counts"]["inkluderade"] == 2
    bad = CliRunner().invoke(app, ["consolidate", str(tmp_path / "finns-inte"), "--plan", str(tiny_plan_path),
                                   "--period", PERIOD, "--out", str(out)])
    assert bad.exit_code == 2



def test_demo_step_consolidates_the_filled_folder(tmp_path) -> None:
    from xlplan.actions.consolidate import demo_step
    from xlplan.examples import example_plan_path

    plan = example_plan_path("alingsas-von-2024")
    if not plan.exists():
        pytest.skip(f"{plan} saknas")
    assert demo_step(tmp_path) == []  # nothing filled yet: nothing to do
    fill(plan, PERIOD, None, tmp_path / "avdelningar")
    lines: list[str] = []
    (result,) = demo_step(tmp_path, lines.append)
    assert result.out_path.parent == tmp_path / "namnd" and result.out_path.exists()
    assert result.report_path is not None and result.report_path.exists()
    assert len(result.included) == len(result.data.submissions) > 0
    assert "Sammanställning" in lines[0]


# ---------------------------------------------------------------- comparisons saved by xlplan pull

def _kolada_plan(tiny: dict[str, Any]) -> dict[str, Any]:
    """The tiny plan followed up in 2022 (the stand-in's sample years), with a liknande kommuner group."""
    from xlplan.kolada.standin_data import STANDIN_GROUP_ID

    t = copy.deepcopy(tiny)
    for s in t["Inställningar"]:
        if s["Inställning"] == "Planår":
            s["Värde"] = 2022
    t["Inställningar"].append({"Inställning": "Liknande kommuner", "Värde": STANDIN_GROUP_ID})
    i1, i2, i3, _ = t["Indikatorer"]
    i1.update({"Nulägesår": 2020, "Målvärde 2022": ">90 %"})
    i2.update({"Kolada-id": "Äldre: U23471; Funktionsstöd: U28524", "Målvärde 2022": ">69 %"})
    i3.update({"Målvärde 2022": "7,5 %"})
    return t


def test_comparisons_pulled_from_kolada_reach_the_jamforelser_sheet(tiny_tables, write_tables, tmp_path) -> None:
    from xlplan.actions.comparisons import read_comparisons
    from xlplan.actions.pull import pull
    from xlplan.kolada import KoladaCache, KoladaClient, KoladaStandin
    from xlplan.kolada.standin_data import STANDIN_GROUP_ID

    plan = write_tables(_kolada_plan(tiny_tables))
    avd = tmp_path / "avdelningar"
    fill_folder(plan, avd, "2022-helår")
    with KoladaStandin() as srv, KoladaClient(base_url=srv.url, cache=KoladaCache(tmp_path / "cache")) as client:
        pull(avd, plan, client=client)
    saved = read_comparisons(avd, "testkommun-von-2024")
    result, data, report = run(plan, avd, tmp_path, "2022-helår")

    def plain(rows: Any) -> list[Any]:  # the workbook keeps local time to the millisecond: compare without it
        return [dataclasses.replace(c, fetched_at=None) for c in rows]

    assert plain(result.data.comparisons) == plain(data.comparisons)  # the Jämförelser sheet, read back
    assert data.comparisons and set(plain(data.comparisons)) <= set(plain(saved))
    assert all(c.fetched_at is not None for c in data.comparisons)
    by = {(c.kolada_id, c.municipality_id, c.year): c for c in data.comparisons}
    for kpi in ("U21468", "U23471", "U28524"):
        assert {u for k, u, _y in by if k == kpi} == {"1489", "0000", STANDIN_GROUP_ID}, kpi
    riket = by[("U21468", "0000", 2022)]
    assert riket.municipality == "Riket" and riket.source == "Kolada" and riket.value is not None
    assert riket.value == next(c.value for c in saved if (c.kolada_id, c.municipality_id, c.year)
                               == ("U21468", "0000", 2022))
    assert ("U21468", "1489", 2020) in by  # the baseline year
    assert all(c.year <= 2022 for c in data.comparisons)
    first = [c.municipality_id for c in data.comparisons if c.kolada_id == "U21468"]
    assert first[0] == "1489" and first.index("0000") < first.index(STANDIN_GROUP_ID)  # own, riket, group
    (note,) = [p for p in report["problems"] if p["file"] == "comparisons.json"]
    assert note["severity"] == "info" and note["code"] == "jamforelser"


def test_comparisons_of_another_plan_or_unreadable_are_left_out_with_a_warning(tiny_plan_path, folder,
                                                                                 tmp_path) -> None:
    avd, _files = folder
    doc = {"format": "xlplan-jamforelser", "plan_id": "en-annan-plan", "comparisons": [
        {"kolada_id": "U21468", "kpi_title": "Nöjdhet", "municipality_id": "1489", "municipality": "Alingsås",
         "year": 2024, "value": 90.0}]}
    (avd / "comparisons.json").write_text(json.dumps(doc), encoding="utf-8")
    result, data, report = run(tiny_plan_path, avd, tmp_path)
    assert data.comparisons == ()
    assert codes_for(report["problems"], "comparisons.json") == ["jamforelser_annan_plan"]

    doc["plan_id"] = "testkommun-von-2024"
    (avd / "comparisons.json").write_text(json.dumps(doc), encoding="utf-8")
    result, data, report = run(tiny_plan_path, avd, tmp_path)
    assert [(c.kolada_id, c.municipality, c.value) for c in data.comparisons] == [("U21468", "Alingsås", 90.0)]

    (avd / "comparisons.json").write_text("{trasig", encoding="utf-8")
    result, data, report = run(tiny_plan_path, avd, tmp_path)
    assert data.comparisons == () and "filer" in result.counts()
    (p,) = [p for p in result.problems if p.file == "comparisons.json"]
    assert (p.code, p.severity) == ("jamforelser_olasbar", "varning") and "xlplan pull" in p.message


def test_committee_frame_is_shown_as_adopted_and_kept_out_of_the_totals(tiny_tables, write_tables, tmp_path) -> None:
    from xlplan.books.committee import economy_totals, is_frame_line

    tables = copy.deepcopy(tiny_tables)
    tables["Ekonomi"] += [
        {"Avdelnings-id": "NÄMND", "Post": "Personalkostnader", "År": 2024, "Budget (tkr)": -802020},
        {"Avdelnings-id": "NÄMND", "Post": "Verksamhetens nettokostnader", "År": 2024, "Budget (tkr)": -966333},
        {"Avdelnings-id": "NÄMND", "Post": "Kommunbidrag", "År": 2025, "Budget (tkr)": 990000},
    ]
    plan = write_tables(tables)
    avd = tmp_path / "avdelningar"
    fill_folder(plan, avd)
    _, data, _ = run(plan, avd, tmp_path)
    frame = [x for x in data.economy if is_frame_line(x)]
    assert [(x.item, x.budget) for x in frame] == [("Personalkostnader", -802020),
                                                   ("Verksamhetens nettokostnader", -966333)]
    assert frame[0].department == "Nämndens budgetram"
    total = economy_totals(data.economy)[-1]
    assert total.budget == 1200 - 35400 - 20100  # the departments' lines only
