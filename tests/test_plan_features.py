"""Plan features of real plans, end to end: plan → plan check → department sheet → flag/consolidate → board pack.

Committee-level indicators (*Rapporteras av*), balance targets with a tolerance,
period-bound questions, goal levels and history years (``docs/plan-format.md``).
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document

from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.flag import flag_book
from xlplan.books.committee import read_committee_workbook
from xlplan.books.department.columns import INDICATORS, OVERVIEW
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import plan_from_workbook, read_plan
from xlplan.export import export
from xlplan.io import lo

STAMP = "2026-11-23T20:00:00+00:00"


def fill_folder(plan: Path, folder: Path, period: str) -> dict[str, Path]:
    written = fill(plan, period, None, folder, generated_at=STAMP).written
    return {read_department_workbook(p).department_id or "": p for p in written}


def set_cells(path: Path, cells: dict[tuple[str, str, str], Any]) -> None:
    book = read_department_workbook(path)
    wb = openpyxl.load_workbook(path)
    for (sheet, row_id, key), value in cells.items():
        wb[book.actual_sheet_name(sheet) or sheet][book.address(sheet, row_id, key)] = value
    wb.save(path)


def run(plan: Path, avd: Path, out: Path, period: str) -> Any:
    result = consolidate(avd, plan, period, out / "sammanstallning.xlsx", out / "rapport.json")
    return result, read_committee_workbook(result.out_path)


@pytest.fixture
def no_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo, "soffice_path", lambda: None)


def sheet_rows(path: Path, sheet: str) -> dict[str, dict[str, Any]]:
    """Rows by Rad-id (column A) -> {header: cell}, and the cells' protection, from the file itself."""
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[5]]
    out = {}
    for row in ws.iter_rows(min_row=6):
        if row[0].value:
            out[str(row[0].value)] = {h: c for h, c in zip(header, row) if h}
    return out


# ---------------------------------------------------------------- committee-level indicators

def committee_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    t["Avdelningar"] += [{"Avdelnings-id": "HSL", "Avdelning": "Hälso- och sjukvård"},
                         {"Avdelnings-id": "NÄMND", "Avdelning": "Förvaltningsledningen"}]
    t["Indikatorer"] += [
        # one Kolada figure for the whole kommun, reported once by the committee; every department sees it
        {"Indikator-id": "K1", "Mål-id": "M1", "Indikator": "Nöjd medborgarindex, äldreomsorg",
         "Kolada-id": "U23471", "Källa": "Kolada", "Nuläge": "60", "Nulägesår": 2023, "Målvärde 2024": "minst 62",
         "Avdelningar": "ALD, LSS, HSL", "Rapporteras av": "nämnd"},
        # a figure for the whole committee that one named department reports
        {"Indikator-id": "K2", "Mål-id": "M2", "Indikator": "Sjukfrånvaro hela förvaltningen (%)", "Enhet": "%",
         "Nuläge": "8,4 %", "Nulägesår": 2023, "Målvärde 2024": "högst 8 %", "Rapporteras av": "HSL"},
    ]
    return t


def test_committee_level_indicator_is_reported_once(tiny_tables, write_tables, tmp_path, no_soffice) -> None:
    plan_path = write_tables(committee_tables(tiny_tables))
    plan = read_plan(plan_path)
    k1, k2 = (next(i for i in plan.indicators if i.id == k) for k in ("K1", "K2"))
    assert k1.reporter == "NÄMND" and k1.reported_by_committee and k2.reporter == "HSL"
    assert [d.id for d in plan.departments if k1.reported_by(d.id)] == ["NÄMND"]
    assert [d.id for d in plan.departments if k1.shown_to(d.id)] == ["ALD", "LSS", "HSL"]
    assert [d.id for d in plan.departments if k2.shown_to(d.id)] == ["ALD", "LSS", "NÄMND"]

    avd = tmp_path / "avd"
    files = fill_folder(plan_path, avd, "2024-helår")
    # the reporter has input cells; the others a locked row saying who reports, not counted for them
    assert "I|K1|" in sheet_rows(files["NÄMND"], INDICATORS)
    lss = sheet_rows(files["LSS"], INDICATORS)
    assert "I|K1|" not in lss and "I|K2|" not in lss
    for rid, who in (("R|K1|", "Rapporteras av Nämnden (Förvaltningsledningen)"),
                     ("R|K2|", "Rapporteras av Hälso- och sjukvård")):
        row = lss[rid]
        assert row["Status"].value == who
        assert all(c.protection.locked for c in row.values())  # no input cell
    overview = sheet_rows(files["LSS"], OVERVIEW)
    assert overview["S|I|Totalt"]["Värde"].value == 4  # I2 (two series), I3, I4: not the context rows
    assert "R|K2|" not in sheet_rows(files["HSL"], INDICATORS) and "I|K2|" in sheet_rows(files["HSL"], INDICATORS)

    flags = flag_book(plan, read_department_workbook(files["LSS"]))
    assert {r.indicator_id for r in flags.rows} == {"I2", "I3", "I4"}
    assert not [f for f in flags.flags if f.code == "rad_okand"]

    set_cells(files["NÄMND"], {(INDICATORS, "I|K1|", "outcome"): 63.0})
    set_cells(files["HSL"], {(INDICATORS, "I|K2|", "outcome"): 8.2})
    _, data = run(plan_path, avd, tmp_path / "namnd", "2024-helår")
    k1_lines = [x for x in data.indicators if x.indicator_id == "K1"]
    k2_lines = [x for x in data.indicators if x.indicator_id == "K2"]
    assert [(x.department_id, x.department, x.outcome, x.status) for x in k1_lines] == \
        [(None, "Nämnden", 63.0, "Uppfyllt")]
    assert [(x.department_id, x.outcome, x.status) for x in k2_lines] == [("HSL", 8.2, "Delvis uppfyllt")]
    m1 = next(g for g in data.goals if g.goal_id == "M1")
    # M1: I1 (ALD), I2 (two departments × two series) and K1 once: three indicators
    assert sum(m1.support().values()) == 3 and m1.fulfilled == 1

    result = export(tmp_path / "namnd" / "sammanstallning.xlsx", tmp_path / "ut")
    doc = Document(str(result.docx))
    cells = [c.text for t in doc.tables for r in t.rows for c in dict.fromkeys(r.cells)]  # merged once
    assert sum(1 for c in cells if c.startswith("Nöjd medborgarindex")) == 1
    assert sum(1 for c in cells if c == "Nämnden") == 1


def test_reporter_must_be_a_department_or_the_committee_department(tiny_tables, write_tables) -> None:
    t = committee_tables(tiny_tables)
    t["Avdelningar"] = [d for d in t["Avdelningar"] if d["Avdelnings-id"] != "NÄMND"]
    t["Indikatorer"][-1]["Rapporteras av"] = "XYZ"
    plan, problems = plan_from_workbook(write_tables(t))
    assert plan is None
    messages = [p.message for p in problems if p.code == "okand_referens"]
    assert any("ingen avdelning med id NÄMND" in m for m in messages)
    assert any("'XYZ' finns inte på bladet Avdelningar" in m for m in messages)
    assert all(p.sheet == "Indikatorer" and p.cell for p in problems)


# ---------------------------------------------------------------- balance targets

def balance_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    t["Indikatorer"] += [
        {"Indikator-id": "B1", "Mål-id": "M2", "Indikator": "Könsfördelning bland chefer (kvot)",
         "Nuläge": "0,7", "Nulägesår": 2023, "Målvärde 2024": "1,0 ± 0,1", "Avdelningar": "ALD, LSS"},
        {"Indikator-id": "B2", "Mål-id": "M2", "Indikator": "Budgetavvikelse (%)", "Enhet": "%",
         "Målvärde 2024": "Avvikelse högst ±2 %", "Avdelningar": "ALD, LSS"},
        {"Indikator-id": "B3", "Mål-id": "M2", "Indikator": "Beläggning korttidsplatser (%)", "Enhet": "%",
         "Målvärde 2024": "mellan 95 och 105 %", "Avdelningar": "ALD"},
    ]
    return t


def test_balance_targets_from_plan_to_board_pack(tiny_tables, write_tables, tmp_path, no_soffice) -> None:
    from xlplan.actions.check import format_summary, plan_summary

    plan_path = write_tables(balance_tables(tiny_tables))
    plan = read_plan(plan_path)
    text = format_summary(plan_summary(plan))
    assert "'1,0 ± 0,1' → mellan 0,9 och 1,1 (balans)" in text
    assert "'Avvikelse högst ±2 %' → mellan -2 och 2 (balans)" in text
    assert "'mellan 95 och 105 %' → mellan 95 och 105 (balans)" in text

    avd = tmp_path / "avd"
    files = fill_folder(plan_path, avd, "2024-helår")
    rows = sheet_rows(files["ALD"], INDICATORS)
    for rid in ("I|B1|", "I|B2|", "I|B3|"):
        status = rows[rid]["Status"].value
        assert isinstance(status, str) and status.startswith("=IF(")  # a live formula in the department file
    # ALD: 1,05 in range; -2,5 % outside ±2; 106 % outside 95–105.  LSS: 0,8 closer to 1,0 than 0,7: partly
    set_cells(files["ALD"], {(INDICATORS, "I|B1|", "outcome"): 1.05, (INDICATORS, "I|B2|", "outcome"): -2.5,
                             (INDICATORS, "I|B3|", "outcome"): 95.0})
    set_cells(files["LSS"], {(INDICATORS, "I|B1|", "outcome"): 0.8, (INDICATORS, "I|B2|", "outcome"): 2.0})
    ald = {r.indicator_id: r.status.label for r in flag_book(plan, read_department_workbook(files["ALD"])).rows}
    lss = {r.indicator_id: r.status.label for r in flag_book(plan, read_department_workbook(files["LSS"])).rows}
    assert (ald["B1"], ald["B2"], ald["B3"]) == ("Uppfyllt", "Ej uppfyllt", "Uppfyllt")
    assert (lss["B1"], lss["B2"]) == ("Delvis uppfyllt", "Uppfyllt")
    flags = flag_book(plan, read_department_workbook(files["ALD"])).flags
    missed = next(f for f in flags if f.indicator_id == "B2" and f.code == "mal_ej_uppfyllt")
    assert "mellan -2 och 2 %" in missed.message

    _, data = run(plan_path, avd, tmp_path / "namnd", "2024-helår")
    got = {(x.department_id, x.indicator_id): x.status for x in data.indicators if x.indicator_id.startswith("B")}
    assert got == {("ALD", "B1"): "Uppfyllt", ("LSS", "B1"): "Delvis uppfyllt", ("ALD", "B2"): "Ej uppfyllt",
                   ("LSS", "B2"): "Uppfyllt", ("ALD", "B3"): "Uppfyllt"}
    result = export(tmp_path / "namnd" / "sammanstallning.xlsx", tmp_path / "ut")
    cells = {c.text for t in Document(str(result.docx)).tables for r in t.rows for c in r.cells}
    assert {"1,0 ± 0,1", "Avvikelse högst ±2 %"} <= cells


# ---------------------------------------------------------------- period-bound questions

def question_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    t["Frågor"] = [
        {"Fråga-id": "F1", "Mål-id": "M1", "Fråga": "Hur har brukarnas delaktighet utvecklats?",
         "Perioder": "kvartal 1"},
        {"Fråga-id": "F2", "Mål-id": "M1", "Fråga": "Vilka effekter har digital tillsyn gett?",
         "Avdelningar": "ALD", "Perioder": "Delår/Helår"},
        {"Fråga-id": "F3", "Mål-id": "M2", "Fråga": "Hur arbetar ni med den korta sjukfrånvaron?",
         "Avdelningar": "alla", "Perioder": "Bokslut"},
    ]
    return t


def test_questions_by_period_from_plan_to_board_pack(tiny_tables, write_tables, tmp_path, no_soffice) -> None:
    plan_path = write_tables(question_tables(tiny_tables))
    plan = read_plan(plan_path)
    assert [(q.id, q.periods, q.departments) for q in plan.questions] == [
        ("F1", ("K1",), ()), ("F2", ("delår", "helår"), ("ALD",)), ("F3", ("helår",), ())]
    assert [q.id for q in plan.questions_for("LSS", "helår")] == ["F3"]

    k1 = fill_folder(plan_path, tmp_path / "k1", "2024-K1")
    assert list(sheet_rows(k1["LSS"], "Frågor")) == ["F|F1"]  # only the questions of the period

    avd = tmp_path / "avd"
    files = fill_folder(plan_path, avd, "2024-helår")
    ald = sheet_rows(files["ALD"], "Frågor")
    assert list(ald) == ["F|F2", "F|F3"]
    assert ald["F|F2"]["Fråga"].value == "Vilka effekter har digital tillsyn gett?"
    assert ald["F|F2"]["Mål"].value == "Andelen nöjda ska öka."
    assert not ald["F|F2"]["Svar"].protection.locked and ald["F|F2"]["Fråga"].protection.locked
    assert list(sheet_rows(files["LSS"], "Frågor")) == ["F|F3"]

    set_cells(files["ALD"], {("Frågor", "F|F2", "answer"): "Färre nattliga besök, nöjdare brukare."})
    flags = flag_book(plan, read_department_workbook(files["ALD"])).flags
    missing = [f for f in flags if f.code == "svar_saknas"]
    assert len(missing) == 1 and "korta sjukfrånvaron" in missing[0].message
    assert missing[0].sheet == "Frågor" and missing[0].cell == "D7"

    _, data = run(plan_path, avd, tmp_path / "namnd", "2024-helår")
    assert [(a.goal_id, a.question_id, a.department_id, a.answer) for a in data.answers] == [
        ("M1", "F2", "ALD", "Färre nattliga besök, nöjdare brukare."),
        ("M2", "F3", "ALD", None), ("M2", "F3", "LSS", None)]
    assert not [p for p in data.problems if p.code in ("rad_saknas", "rad_ej_i_planen")]

    result = export(tmp_path / "namnd" / "sammanstallning.xlsx", tmp_path / "ut")
    paragraphs = Document(str(result.docx)).paragraphs
    text = [p.text for p in paragraphs]
    at = text.index("Fråga: Vilka effekter har digital tillsyn gett?")
    assert text[at + 1] == "Äldreomsorg: Färre nattliga besök, nöjdare brukare."
    at = text.index("Fråga: Hur arbetar ni med den korta sjukfrånvaron?")
    assert text[at + 1: at + 3] == ["Äldreomsorg: inget svar lämnat.", "Funktionsstöd: inget svar lämnat."]
    goal_heads = [i for i, p in enumerate(paragraphs) if p.text.startswith("Mål M") and p.style.name == "Heading 2"]
    assert goal_heads[0] < text.index("Fråga: Vilka effekter har digital tillsyn gett?") < goal_heads[1]


# ---------------------------------------------------------------- goal levels and history years

def levels_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    t["Mål"][0].update({"Målområde": "Livskvalitet", "Beskrivning målområde": "Alla ska kunna leva ett gott liv.",
                        "Beskrivning prioriterat mål": "Kommunens service ska vara tillgänglig.",
                        "Beskrivning": "Nämnden mäter nöjdheten i brukarundersökningen."})
    t["Indikatorer"][0].update({"Utfall 2021": "84 %", "Utfall 2022": 86, "2023": "88 %"})
    t["Indikatorer"][1].update({"Utfall 2022": "Äldre 80 %, Funktionsstöd 60 %"})
    return t


def test_goal_levels_and_history_years_reach_the_board_pack(tiny_tables, write_tables, tmp_path,
                                                            no_soffice) -> None:
    from xlplan.export.charts import goal_trend_chart

    plan_path = write_tables(levels_tables(tiny_tables))
    plan = read_plan(plan_path)
    m1 = plan.goal("M1")
    assert m1 is not None and (m1.level1, m1.priority_goal) == ("Livskvalitet", "God service")
    i1, i2 = plan.indicators[0], plan.indicators[1]
    assert i1.history == ((2021, "84 %"), (2022, "86"), (2023, "88 %"))
    assert i1.history_values(None) == ((2021, 84.0), (2022, 86.0), (2023, 88.0))
    assert i2.history_values("Funktionsstöd") == ((2022, 60.0),)

    avd = tmp_path / "avd"
    files = fill_folder(plan_path, avd, "2024-helår")
    set_cells(files["ALD"], {(INDICATORS, "I|I1|", "outcome"): 91.0})
    _, data = run(plan_path, avd, tmp_path / "namnd", "2024-helår")
    assert data.levels_of("M1") is not None and data.levels_of("M1").level1 == "Livskvalitet"
    assert data.levels_of("M2") is None
    assert [(h.indicator_id, h.series, h.year, h.value) for h in data.history if h.indicator_id == "I1"] == [
        ("I1", None, 2021, 84.0), ("I1", None, 2022, 86.0), ("I1", None, 2023, 88.0)]

    chart = goal_trend_chart(data, next(g for g in data.goals if g.goal_id == "M1"), tmp_path / "m1.png")
    assert chart is not None and chart.alt_text is not None
    assert "Tidigare år (planen): 2021 84 %, 2022 86 %, 2023 88 %" in chart.alt_text

    result = export(tmp_path / "namnd" / "sammanstallning.xlsx", tmp_path / "ut")
    text = [p.text for p in Document(str(result.docx)).paragraphs]
    at = text.index("Målområde: Livskvalitet")
    assert text[at + 1: at + 5] == ["Alla ska kunna leva ett gott liv.", "Kommunens prioriterade mål: God service",
                                     "Kommunens service ska vara tillgänglig.",
                                     "Nämnden mäter nöjdheten i brukarundersökningen."]


def test_plan_check_lists_questions_and_indicators_reported_once(tiny_tables, write_tables) -> None:
    from xlplan.actions.check import format_summary, plan_summary

    tables = committee_tables(tiny_tables)
    tables["Frågor"] = question_tables(tiny_tables)["Frågor"]
    text = format_summary(plan_summary(read_plan(write_tables(tables))))
    assert "Frågor: 3 (F1 K1; F2 delår, helår; F3 helår)" in text
    assert "Rapporteras en gång: 2 (K1 av NÄMND; K2 av HSL)" in text


# ---------------------------------------------------------------- two split dimensions (regi × kön)

def test_operator_and_gender_series_pull_their_own_kpi_and_gender(tiny_tables, tmp_path) -> None:
    from test_pull import PERIOD, book, cell, plan_tables, run, sample, sample_gender
    from xlplan.books.plan import write_plan_tables
    from xlplan.kolada import KoladaStandin

    t = plan_tables(tiny_tables)
    t["Indikatorer"][1].update({
        "Serier": "Egen regi totalt; Egen regi kvinnor; Privat regi kvinnor",
        "Kolada-id": "Egen regi totalt: U23471; Egen regi kvinnor: U23471; Privat regi kvinnor: U28524",
        "Målvärde 2022": ">69 %", "Nuläge": None, "Nulägesår": None})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    plan = read_plan(tmp_path / "plan.xlsx")
    i2 = plan.indicators[1]
    assert [(s, i2.kpi_for(s), i2.gender_for(s)) for s in i2.series] == [
        ("Egen regi totalt", "U23471", "T"), ("Egen regi kvinnor", "U23471", "K"),
        ("Privat regi kvinnor", "U28524", "K")]
    fill(tmp_path / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "avd")
    with KoladaStandin(timeout_delay=2.0) as srv:
        run(tmp_path, srv)
    b = book(tmp_path, "Äldreomsorg")
    expected = (sample("U23471", "1489", 2022), sample_gender("U23471", "1489", 2022, "K"),
                sample_gender("U28524", "1489", 2022, "K"))
    assert None not in expected and len(set(expected)) == 3
    assert tuple(cell(b, f"I|I2|{s}", "outcome") for s in i2.series) == expected


def test_a_series_without_gender_on_the_kpi_of_gender_series_is_refused(tiny_tables, write_tables) -> None:
    t = copy.deepcopy(tiny_tables)
    t["Indikatorer"][1].update({"Serier": "Egen regi; Egen regi kvinnor", "Kolada-id": "U23471"})
    plan, problems = plan_from_workbook(write_tables(t))
    assert plan is None and "kolada_kon_okant" in {p.code for p in problems}


def test_refill_keeps_answers_and_moves_those_of_a_removed_question(tiny_tables, write_tables, tmp_path) -> None:
    tables = question_tables(tiny_tables)
    plan_path = write_tables(tables)
    avd = tmp_path / "avd"
    files = fill_folder(plan_path, avd, "2024-helår")
    set_cells(files["ALD"], {("Frågor", "F|F2", "answer"): "Svar två.", ("Frågor", "F|F3", "answer"): "Svar tre."})
    fill(plan_path, "2024-helår", ["ALD"], avd, update=True, generated_at=STAMP)
    assert {k: r["Svar"].value for k, r in sheet_rows(files["ALD"], "Frågor").items()} == {
        "F|F2": "Svar två.", "F|F3": "Svar tre."}

    tables["Frågor"] = tables["Frågor"][:2]  # F3 leaves the plan
    plan_path = write_tables(tables, "plan2.xlsx")
    fill(plan_path, "2024-helår", ["ALD"], avd, update=True, generated_at=STAMP)
    assert list(sheet_rows(files["ALD"], "Frågor")) == ["F|F2"]
    moved = [r["Värde"].value for r in sheet_rows(files["ALD"], "Borttagna rader").values()]
    assert moved == ["Svar tre."]
