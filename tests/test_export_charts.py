"""Trend charts of the board pack: a line per gender, and comparisons per Kolada id of a series."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from PIL import Image

from xlplan.books.committee import FULFILLED, NOT_FULFILLED, TARGET_MISSING, CommitteeData, Comparison
from xlplan.export.charts import goal_trend_chart, previous_value
from xlplan.export.sample import FETCHED, _line, sample_committee_data

NOJD = "Nöjda brukare i hemtjänsten, andel (%)"
SCORE = "Brukarnöjdhet (%)"
TITLE = "Brukarbedömning hemtjänst äldreomsorg -  helhetssyn, andel (%)"


def _kolada(unit: str, name: str, gender: str, values: dict[int, float], kpi: str = "U21468") -> list[Comparison]:
    return [Comparison(kpi, TITLE, unit, name, year, gender, v, None, FETCHED) for year, v in values.items()]


def gender_data() -> CommitteeData:
    """The sample with one more goal-M1 indicator split by gender (Totalt; Kvinnor; Män on U21468; the
    target is the total's) and the Kolada values of Alingsås per gender, riket per gender."""
    data = sample_committee_data()
    lines = [
        _line("M1", "I9", NOJD, "KVA", series="Totalt", unit="%", baseline="Totalt 90 %, Kvinnor 89 %, Män 93 %",
              baseline_year=2022, target="Totalt minst 92 %", target_value=92, outcome=94, status=FULFILLED,
              kolada_id="U21468"),
        _line("M1", "I9", NOJD, "KVA", series="Kvinnor", unit="%", baseline="Totalt 90 %, Kvinnor 89 %, Män 93 %",
              baseline_year=2022, target="Totalt minst 92 %", outcome=93, status=TARGET_MISSING,
              kolada_id="U21468"),
        _line("M1", "I9", NOJD, "KVA", series="Män", unit="%", baseline="Totalt 90 %, Kvinnor 89 %, Män 93 %",
              baseline_year=2022, target="Totalt minst 92 %", outcome=96, status=TARGET_MISSING,
              kolada_id="U21468"),
    ]
    comparisons = [c for c in data.comparisons if c.kolada_id != "U21468"]
    comparisons += _kolada("1489", "Alingsås", "T", {2020: 95, 2022: 94, 2023: 93})
    comparisons += _kolada("1489", "Alingsås", "K", {2020: 94, 2022: 94, 2023: 91})
    comparisons += _kolada("1489", "Alingsås", "M", {2020: 97, 2022: 95, 2023: 97})
    comparisons += _kolada("0000", "Riket", "T", {2020: 88, 2022: 86, 2023: 87})
    comparisons += _kolada("0000", "Riket", "K", {2020: 87, 2022: 85, 2023: 86})
    return dataclasses.replace(data, indicators=data.indicators + tuple(lines), comparisons=tuple(comparisons))


def per_series_data() -> CommitteeData:
    """The sample's two satisfaction KPIs as one indicator with one Kolada id per series."""
    data = sample_committee_data()
    lines = [
        _line("M1", "I10", SCORE, "ABO", series="Särskilt boende", unit="%", baseline="Särskilt boende 83 %, "
              "Hemtjänst 94 %", baseline_year=2022, target="Särskilt boende >85 %, Hemtjänst minst 95 %",
              target_value=85, outcome=87, status=FULFILLED, kolada_id="U23471"),
        _line("M1", "I10", SCORE, "ABO", series="Hemtjänst", unit="%", baseline="Särskilt boende 83 %, "
              "Hemtjänst 94 %", baseline_year=2022, target="Särskilt boende >85 %, Hemtjänst minst 95 %",
              target_value=95, outcome=92, status=NOT_FULFILLED, kolada_id="U21468"),
    ]
    keep = [x for x in data.indicators if x.goal_id != "M1"]
    return dataclasses.replace(data, indicators=tuple(lines + keep))


def m1(data: CommitteeData):
    return next(g for g in data.goals if g.goal_id == "M1")


def test_a_gender_split_indicator_has_a_line_per_gender_labelled_and_described(tmp_path: Path) -> None:
    data = gender_data()
    chart = goal_trend_chart(data, m1(data), tmp_path / "m1.png")
    assert chart is not None and chart.alt_text is not None
    alt = chart.alt_text
    panel = alt[alt.index(NOJD):]
    assert panel.startswith(f"{NOJD}. Uppdelat på kön (totalt, kvinnor och män), en linje per kön. ")
    # the department's outcome per series, baseline -> this period
    assert "Kvarboendeavdelningen, Kvinnor: 2022 89 %, 2024 93 %" in panel
    assert "Kvarboendeavdelningen, Män: 2022 93 %, 2024 96 %" in panel
    # the kommun's Kolada values per gender over the years, riket in its total only
    assert "Alingsås, kvinnor (Kolada): 2020 94 %, 2022 94 %, 2023 91 %" in panel
    assert "Alingsås, män (Kolada): 2020 97 %, 2022 95 %, 2023 97 %" in panel
    assert "Alingsås, totalt (Kolada): 2020 95 %" in panel
    assert "Riket, totalt (Kolada): 2020 88 %, 2022 86 %, 2023 87 %" in panel
    assert "Riket, kvinnor" not in panel and "85 %" not in panel
    assert panel.rstrip(".").endswith("målvärde 92 %")  # the total's target
    assert chart.source == "Källa: Kolada"
    with Image.open(chart.path) as image:
        assert image.format == "PNG" and image.width > 800


def test_previous_value_is_taken_in_the_series_gender() -> None:
    data = gender_data()
    period_year_before = [x for x in data.indicators if x.indicator == NOJD]
    got = {x.series: previous_value(data, x) for x in period_year_before}
    assert got == {"Totalt": 93, "Kvinnor": 91, "Män": 97}


def test_one_kolada_id_per_series_gets_a_panel_each_with_its_own_comparisons(tmp_path: Path) -> None:
    data = per_series_data()
    chart = goal_trend_chart(data, m1(data), tmp_path / "m1.png")
    assert chart is not None and chart.alt_text is not None
    alt = chart.alt_text
    sabo = alt[alt.index(f"{SCORE} – Särskilt boende."):alt.index(f"{SCORE} – Hemtjänst.")]
    htj = alt[alt.index(f"{SCORE} – Hemtjänst."):]
    # U23471 (särskilt boende): Alingsås 86, 88, 86, 83; riket 81, 81, 81, 77
    assert "Alingsås (Kolada): 2018 86 %, 2019 88 %, 2020 86 %, 2022 83 %" in sabo
    assert "Riket (Kolada): 2018 81 %, 2019 81 %, 2020 81 %, 2022 77 %" in sabo
    assert "Äldreboendeavdelningen, Särskilt boende: 2022 83 %, 2024 87 %" in sabo
    assert sabo.rstrip(". ").endswith("målvärde 85 %")
    # U21468 (hemtjänst): Alingsås 94, 94, 95, 94; riket 88, 88, 88, 86; the derived group mean
    assert "Alingsås (Kolada): 2018 94 %, 2019 94 %, 2020 95 %, 2022 94 %" in htj
    assert "Riket (Kolada): 2018 88 %, 2019 88 %, 2020 88 %, 2022 86 %" in htj
    assert "Liknande kommuner (medel): 2018 86 %" in htj
    assert htj.rstrip(". ").endswith("målvärde 95 %")
    assert "Uppdelat på kön" not in alt
    assert chart.caption == ("Mål M1: utveckling från nuläget till delår 2024 (en ruta per indikator, och per "
                             "nyckeltal där seriernas Kolada-id skiljer sig).")
    assert chart.source == ("Källa: Kolada. Liknande kommuner (medel): Egen bearbetning av data från Kolada "
                            "(medel av Linköping och Norrköping)")


def test_counts_get_whole_number_ticks_and_plain_alt_text(tmp_path: Path) -> None:
    from matplotlib.figure import Figure

    from xlplan.export.charts import _alt_sentence, _draw_panel, _Trend

    flat = [_Trend("Avdelning boende och arbete", ((2023, 1.0), (2024, 1.0)), "utfall")]
    ax = Figure().add_subplot()
    _draw_panel(ax, "Antal personer som flyttat till egen bostad.", flat, 1.0, "antal")
    ticks = [t for t in ax.get_yticks() if ax.get_ylim()[0] <= t <= ax.get_ylim()[1]]
    assert ticks and all(float(t).is_integer() for t in ticks) and ax.get_ylim()[0] >= 0
    alt = _alt_sentence("Antal personer som flyttat till egen bostad.", flat, 1.0, "antal")
    assert alt == ("Antal personer som flyttat till egen bostad. Avdelning boende och arbete: 2023 1, 2024 1; "
                   "målvärde 1.")


def test_a_year_written_in_the_baseline_is_the_baseline_year(tmp_path: Path) -> None:
    from xlplan.export.charts import baseline_year

    data = per_series_data()
    dated = dataclasses.replace(data.indicators[0], baseline="Särskilt boende 83 % (2021), Hemtjänst 94 %")
    assert baseline_year(dated) == 2021  # the text's year, not the column's 2022
    assert baseline_year(data.indicators[1]) == 2022
    data = dataclasses.replace(data, indicators=(dated, *data.indicators[1:]))
    chart = goal_trend_chart(data, m1(data), tmp_path / "m1.png")
    assert chart is not None and "Äldreboendeavdelningen, Särskilt boende: 2021 83 %, 2024 87 %" in (
        chart.alt_text or "")
