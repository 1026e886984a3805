"""Plans written in other municipalities' styles: direction-only targets with source and
reporting period per indicator, targets for several years, text targets."""

from __future__ import annotations

from xlplan.books.plan import read_plan
from xlplan.core.periods import parse_period
from xlplan.core.status import Status, evaluate

STYLE_TABLES = {
    "Inställningar": [
        {"Inställning": "Plan-id", "Värde": "norrkoping-son-2019"},
        {"Inställning": "Kommun", "Värde": "Norrköping"},
        {"Inställning": "Kommun-id", "Värde": "0581"},
        {"Inställning": "Nämnd", "Värde": "Socialnämnden"},
        {"Inställning": "Planår", "Värde": 2019},
        {"Inställning": "Slutår", "Värde": 2022},
        {"Inställning": "Rapporteringsperioder", "Värde": "Delår, Helår"},
    ],
    "Avdelningar": [{"Avdelnings-id": "IFO", "Avdelning": "Individ- och familjeomsorg"}],
    "Mål": [{"Mål-id": "S1", "Nämndens mål": "Fler ska bli självförsörjande"},
            {"Mål-id": "S2", "Nämndens mål": "Kvaliteten i verksamheten ska utvecklas"}],
    "Indikatorer": [
        {"Indikator-id": "S1-1", "Mål-id": "S1", "Indikator": "Andel hushåll med långvarigt ekonomiskt bistånd",
         "Källa": "Kolada/Socialstyrelsen", "Perioder": "Helår", "Målvärde 2019": "Minska",
         "Nuläge": "3,1 %", "Nulägesår": 2018},
        {"Indikator-id": "S1-2", "Mål-id": "S1", "Indikator": "Antal deltagare i arbetsmarknadsinsatser",
         "Källa": "WebFOCUS", "Perioder": "Delår, helår", "Målvärde 2019": "Öka", "Nuläge": "412",
         "Nulägesår": 2018},
        {"Indikator-id": "S1-3", "Mål-id": "S1", "Indikator": "Väntetid till första besök, dagar",
         "Polaritet": "lägre", "Målvärde 2019": "30", "Målvärde 2020": "25", "Målvärde 2021": "20",
         "Målvärde 2022": "Max 15"},
        {"Indikator-id": "S2-1", "Mål-id": "S2", "Indikator": "Systematiskt kvalitetsarbete",
         "Målvärde 2019": "Systematisk analys", "Målvärde 2020": "Månatlig uppföljning"},
    ],
}


def test_other_style_plan_reads_and_evaluates(write_tables):
    plan = read_plan(write_tables(STYLE_TABLES))
    by_id = {i.id: i for i in plan.indicators}
    assert plan.settings.periods == ("delår", "helår")
    assert by_id["S1-1"].periods == ("helår",)
    assert by_id["S1-1"].source == "Kolada/Socialstyrelsen"

    minska = by_id["S1-1"].target(2019)
    assert (minska.kind, minska.direction) == ("direction", "decrease")
    r = evaluate(minska, {None: 2.8}, baseline=by_id["S1-1"].baseline_values())
    assert r.status is Status.UPPFYLLT
    r = evaluate(minska, {None: 3.4}, baseline=by_id["S1-1"].baseline_values())
    assert r.status is Status.EJ and "fel_riktning" in r.flags

    oka = by_id["S1-2"].target(2019)
    assert evaluate(oka, {None: 400}, previous={None: 380},
                    baseline=by_id["S1-2"].baseline_values()).status is Status.UPPFYLLT

    wait = by_id["S1-3"]
    assert [(s.op, s.value) for s in wait.target(2021).series] == [("<=", 20)]
    assert [(s.op, s.value) for s in wait.target(2022).series] == [("<=", 15)]
    year = parse_period("2021-delår").year
    assert evaluate(wait.target(year), {None: 22}, polarity="lower").status is Status.EJ

    text = by_id["S2-1"]
    assert text.target(2020).kind == "qualitative"
    assert text.target(2022).text == "Månatlig uppföljning"  # latest earlier year applies
    assert evaluate(text.target(2020), {None: None}, assessment="Delvis uppfyllt").status is Status.DELVIS
