from __future__ import annotations

from pathlib import Path

import pytest

from xlplan.books.plan import plan_from_workbook, read_plan
from xlplan.core.errors import PlanInvalid, WorkbookUnreadable


def test_reads_every_part_of_a_plan(tiny_plan):
    p = tiny_plan
    assert p.id == "testkommun-von-2024"
    assert p.settings.municipality_id == "1489"
    assert p.settings.periods == ("K1", "delår", "helår")
    assert [d.id for d in p.departments] == ["ALD", "LSS"]
    i2 = next(i for i in p.indicators if i.id == "I2")
    assert i2.series == ("Äldre", "Funktionsstöd")
    assert i2.targets == ((2024, "Äldre och Funktionsstöd >69 %"),)
    assert i2.departments == ()
    assert [i.id for i in p.indicators_for("LSS")] == ["I2", "I3", "I4"]
    assert p.budget_for("ALD", 2024)[1].budget == -35400
    assert p.controls[0].risk_value == 9
    assert p.indicators[0].kolada == ((None, "U21468"),)


def test_version_changes_with_content(tiny_tables, write_tables):
    a = read_plan(write_tables(tiny_tables, "a.xlsx"))
    tiny_tables["Indikatorer"][0]["Målvärde 2024"] = ">91 %"
    b = read_plan(write_tables(tiny_tables, "b.xlsx"))
    assert a.version != b.version
    assert read_plan(write_tables(tiny_tables, "c.xlsx")).version == b.version


def test_all_errors_reported_at_once_with_sheet_and_cell(tiny_tables, write_tables):
    tiny_tables["Indikatorer"][0]["Mål-id"] = "M9"
    tiny_tables["Indikatorer"][1]["Indikator-id"] = "I1"
    tiny_tables["Indikatorer"][2]["Min"] = "ca 5"
    tiny_tables["Indikatorer"][3]["Polaritet"] = "uppåt"
    tiny_tables["Internkontroll"][0]["Sannolikhet"] = 7
    tiny_tables["Aktiviteter"][1]["Avdelnings-id"] = "XYZ"
    del tiny_tables["Avdelningar"][0]["Avdelning"]
    with pytest.raises(PlanInvalid) as exc:
        read_plan(write_tables(tiny_tables))
    codes = {(p.sheet, p.code) for p in exc.value.problems}
    assert ("Indikatorer", "okand_referens") in codes
    assert ("Indikatorer", "plan_dubblett") in codes
    assert ("Indikatorer", "plan_inte_tal") in codes
    assert ("Indikatorer", "ogiltig_polaritet") in codes
    assert ("Internkontroll", "inte_heltal") in codes
    assert ("Aktiviteter", "okand_referens") in codes
    assert ("Avdelningar", "saknas") in codes
    msg = str(exc.value)
    assert "blad 'Indikatorer'" in msg and "'ca 5' är inte ett tal" in msg
    bad_min = next(p for p in exc.value.problems if p.code == "plan_inte_tal")
    assert bad_min.cell and bad_min.cell.endswith("4")  # row 4 = third indicator


def test_missing_sheets_and_settings(tiny_tables, write_tables):
    del tiny_tables["Mål"]
    tiny_tables["Inställningar"] = [r for r in tiny_tables["Inställningar"] if r["Inställning"] != "Kommun-id"]
    plan, problems = plan_from_workbook(write_tables(tiny_tables))
    assert plan is None
    msgs = [str(p) for p in problems]
    assert any("Bladet 'Mål' saknas" in m for m in msgs)
    assert any("Kommun-id" in m for m in msgs)


def test_multi_year_targets_pick_the_period_year(tiny_tables, write_tables):
    tiny_tables["Inställningar"].append({"Inställning": "Slutår", "Värde": 2026})
    tiny_tables["Indikatorer"][0]["Målvärde 2025"] = ">92 %"
    p = read_plan(write_tables(tiny_tables))
    ind = p.indicators[0]
    assert ind.target_text(2024) == (2024, ">90 %")
    assert ind.target_text(2025) == (2025, ">92 %")
    assert ind.target(2025).series[0].value == 92


def test_not_a_workbook(tmp_path: Path):
    bad = tmp_path / "plan.xlsx"
    bad.write_text("Kommun;Nämnd\nAlingsås;VON\n", encoding="utf-8")
    with pytest.raises(WorkbookUnreadable) as exc:
        read_plan(bad)
    assert "plan.xlsx" in str(exc.value)
    empty = tmp_path / "tom.xlsx"
    empty.write_bytes(b"")
    with pytest.raises(WorkbookUnreadable, match="tom"):
        read_plan(empty)


def test_budget_errors_name_the_right_row(tiny_tables, write_tables):
    tiny_tables["Ekonomi"][0]["Budget (tkr)"] = "mycket"
    tiny_tables["Ekonomi"][2]["Avdelnings-id"] = "OKÄND"
    _, problems = plan_from_workbook(write_tables(tiny_tables))
    cells = {(p.code, p.cell) for p in problems if p.sheet == "Ekonomi"}
    assert ("plan_inte_tal", "D2") in cells
    assert ("okand_referens", "A4") in cells


def test_a_gender_split_kpi_with_a_series_that_names_no_gender_is_refused(tiny_tables, write_tables):
    ind = tiny_tables["Indikatorer"][1]
    ind.update({"Kolada-id": "U23471", "Serier": "Totalt; Kvinnor; Män", "Nuläge": None})
    plan = read_plan(write_tables(tiny_tables))
    i = next(x for x in plan.indicators if x.id == ind["Indikator-id"])
    assert [i.gender_for(n) for n in i.series] == ["T", "K", "M"]
    # one more series on the same KPI that names no gender: its value cannot be chosen
    ind["Serier"] = "Totalt; Kvinnor; Män; Utrikes födda"
    with pytest.raises(PlanInvalid) as exc:
        read_plan(write_tables(tiny_tables))
    (p,) = [p for p in exc.value.problems if p.code == "kolada_kon_okant"]
    assert p.sheet == "Indikatorer" and p.cell and p.cell.endswith("3")
    assert "'Utrikes födda'" in p.message and "U23471" in p.message
    # with its own KPI id it is fine
    ind["Kolada-id"] = "Totalt: U23471; Kvinnor: U23471; Män: U23471; Utrikes födda: U21468"
    plan = read_plan(write_tables(tiny_tables))
    i = next(x for x in plan.indicators if x.id == ind["Indikator-id"])
    assert i.gender_for("Utrikes födda") == "T" and i.gender_for("kvinnor") == "K"


@pytest.mark.parametrize("text, kinds", [
    ("Delår/Helår", ["delår", "helår"]),
    ("delår och helår", ["delår", "helår"]),
    ("kvartal 1", ["K1"]),
    ("Kvartal 1, delår samt helår", ["K1", "delår", "helår"]),
    ("T1", ["T1"]),
    ("tertial 1", ["T1"]),
    ("T1, T2, T3", ["T1", "delår", "helår"]),
    ("tertial 2", ["delår"]),
    ("Tertial 3", ["helår"]),
    ("Bokslut", ["helår"]),
    ("Årsredovisning", ["helår"]),
    ("K1; Delårsrapport", ["K1", "delår"]),
    ("vår", [None]),
    ("delår/höst", ["delår", None]),
])
def test_period_spellings(text, kinds):
    from xlplan.core.periods import period_kinds

    assert [k for _, k in period_kinds(text)] == kinds


def test_period_spellings_in_the_plan(tiny_tables, write_tables):
    settings = {s["Inställning"]: s for s in tiny_tables["Inställningar"]}
    settings["Rapporteringsperioder"]["Värde"] = "kvartal 1, tertial 2 och Årsredovisning"
    tiny_tables["Indikatorer"][0]["Perioder"] = "Delår/Helår"
    tiny_tables["Indikatorer"][1]["Perioder"] = "Q1"
    plan = read_plan(write_tables(tiny_tables))
    assert plan.settings.periods == ("K1", "delår", "helår")
    assert [i.periods for i in plan.indicators[:2]] == [("delår", "helår"), ("K1",)]
    tiny_tables["Indikatorer"][2]["Perioder"] = "delår och vår"
    with pytest.raises(PlanInvalid) as exc:
        read_plan(write_tables(tiny_tables))
    (p,) = [p for p in exc.value.problems if p.code == "ogiltig_period"]
    assert "'vår' är ingen rapporteringsperiod" in p.message and "tertial 2" in p.message
    assert p.cell and p.cell.endswith("4")


def test_a_tertial_plan_reports_tertial_1_to_the_end_of_april(tiny_tables, write_tables):
    """Tertial 1 is its own period (to 30 April), not kvartal 1 (to 31 March): the books, the share of
    the year and the report's name differ. Tertial 2 is the delårsrapport, tertial 3 the year."""
    from xlplan.core.periods import Period, parse_period

    settings = {s["Inställning"]: s for s in tiny_tables["Inställningar"]}
    settings["Rapporteringsperioder"]["Värde"] = "T1, T2, Bokslut"
    plan = read_plan(write_tables(tiny_tables))
    assert plan.settings.periods == ("T1", "delår", "helår")
    t1 = parse_period("2024-T1")
    assert t1 == parse_period("2024 tertial 1") == Period(2024, "T1")
    assert (t1.end_month, round(t1.year_share, 2), t1.label, t1.ascii) == (4, 0.33, "tertial 1 2024", "2024-T1")
    assert parse_period("2024-K1").end_month == 3
    assert Period(2024, "delår").previous(plan.settings.periods) == t1
    assert t1.previous(plan.settings.periods) == Period(2023, "helår")
    assert Period(2024, "delår").previous(("K1", "delår", "helår")) == Period(2024, "K1")
    assert sorted([Period(2024, "helår"), Period(2024, "delår"), t1, Period(2024, "K1")],
                  key=lambda p: p.sort_key) == [Period(2024, "K1"), t1, Period(2024, "delår"), Period(2024, "helår")]


def test_period_with_a_spaced_kind():
    from xlplan.core.periods import Period, parse_period

    assert parse_period("2024 tertial 2") == Period(2024, "delår")
    assert parse_period("2024-kvartal 1") == Period(2024, "K1")


def test_targets_and_baselines_typed_as_excel_percentages(tiny_tables, write_tables):
    """A plan cell typed ``98%`` in Excel holds 0,98 with a percent format: it is read as 98 %, not 0,98."""
    import openpyxl

    tiny_tables["Indikatorer"][0].update({"Målvärde 2024": 0.98, "Nuläge": 0.925, "Polaritet": "högre"})
    path = write_tables(tiny_tables)
    wb = openpyxl.load_workbook(path)
    ws = wb["Indikatorer"]
    headers = {c.value: c.column for c in ws[1]}
    ws.cell(2, headers["Målvärde 2024"]).number_format = "0%"
    ws.cell(2, headers["Nuläge"]).number_format = "0.0%"
    wb.save(path)
    ind = read_plan(path).indicators[0]
    assert ind.target_text(2024) == (2024, "98 %")
    assert ind.target(2024).series[0].value == 98
    assert ind.baseline == "92,5 %"


def test_a_plain_fraction_in_the_plan_stays_a_number(tiny_tables, write_tables):
    # no percent format: a ratio (kvot), read as typed
    tiny_tables["Indikatorer"][0].update({"Målvärde 2024": 0.98, "Polaritet": "högre", "Enhet": "kvot"})
    ind = read_plan(write_tables(tiny_tables)).indicators[0]
    assert ind.target(2024).series[0].value == 0.98
