"""Comparison rows (municipality, riket, liknande kommuner) and comparisons.json."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from xlplan.actions.comparisons import (
    RIKET,
    Unit,
    build_comparisons,
    comparison_genders,
    comparison_years,
    merge_comparisons,
    read_comparisons,
    resolve_group,
    save_comparisons,
    units_for,
)
from xlplan.books.committee import Comparison
from xlplan.books.plan import read_plan
from xlplan.core.errors import WorkbookRefused
from xlplan.core.periods import Period
from xlplan.kolada import KoladaClient, KoladaStandin, KoladaValue, KpiMeta, MunicipalityGroup
from xlplan.kolada.standin_data import STANDIN_GROUP_ID, STANDIN_GROUP_TITLE

WHEN = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.timezone.utc)
GROUPS = [MunicipalityGroup("G1", "Liknande kommuner äldreomsorg, Alingsås, 2024"),
          MunicipalityGroup("G2", "Liknande kommuner äldreomsorg, Arboga, 2024"),
          MunicipalityGroup("G3", "Liknande kommuner LSS, Alingsås, 2024")]


def search(title: str) -> list[MunicipalityGroup]:
    return [g for g in GROUPS if title.casefold() in g.title.casefold()]


def test_resolve_group_by_id_without_asking() -> None:
    def never(title: str) -> list[MunicipalityGroup]:
        raise AssertionError("no lookup for a G-id")

    unit, problem = resolve_group(" g176486 ", "Alingsås", never)
    assert unit == Unit("G176486", "Liknande kommuner (G176486)", "grupp") and problem is None
    assert resolve_group(None, "Alingsås", never) == (None, None)


@pytest.mark.parametrize("setting,expected", [
    ("Liknande kommuner äldreomsorg, Alingsås, 2024", "G1"),  # exact title
    ("LSS", "G3"),  # one hit
    ("äldreomsorg", "G1"),  # several; the one naming the municipality
])
def test_resolve_group_by_title(setting: str, expected: str) -> None:
    unit, problem = resolve_group(setting, "Alingsås", search)
    assert problem is None and unit is not None and unit.id == expected and unit.kind == "grupp"


def test_resolve_group_unknown_or_ambiguous_is_a_warning() -> None:
    unit, problem = resolve_group("Skolor", "Alingsås", search)
    assert unit is None and problem is not None and "Skolor" in problem.message
    unit, problem = resolve_group("Liknande", "Borås", search)
    assert unit is None and problem is not None and "G1" in problem.message and "G2" in problem.message
    assert problem.severity == "varning" and problem.sheet == "Inställningar"


def test_resolve_group_over_http_against_the_stand_in() -> None:
    with KoladaStandin() as srv, KoladaClient(base_url=srv.url) as client:
        unit, problem = resolve_group("äldreomsorg, Alingsås", "Alingsås", client.municipality_groups)
    assert problem is None and unit == Unit(STANDIN_GROUP_ID, STANDIN_GROUP_TITLE, "grupp")


@pytest.fixture
def plan(tiny_plan_path: Path) -> Any:
    return read_plan(tiny_plan_path)


def v(kpi: str, unit: str, year: int, value: float | None, gender: str = "T", **kw: Any) -> KoladaValue:
    return KoladaValue(kpi, unit, year, gender, value, fetched_at=WHEN, **kw)


def test_build_comparisons_units_years_and_baseline(plan: Any) -> None:
    units = units_for(plan, Unit("G1", "Liknande kommuner äldreomsorg, Alingsås, 2024", "grupp"))
    assert [u.id for u in units] == ["1489", RIKET, "G1"]
    values = [
        v("U21468", "1489", 2023, 88.0), v("U21468", "1489", 2024, 90.0), v("U21468", RIKET, 2024, 86.0),
        v("U21468", "G1", 2024, 89.5, count=7), v("U21468", RIKET, 2023, None, status="Saknas"),
        v("U21468", "1489", 2022, 70.0),  # history: two years before the period's year
        v("U21468", "1489", 2021, 60.0),  # neither followed up, history nor the baseline year
        v("U21468", "1489", 2024, 45.0, gender="K"),  # the indicator is for T
        v("U21468", "0580", 2024, 80.0),  # not a comparison unit
    ]
    meta = {"U21468": KpiMeta("U21468", "Brukarbedömning hemtjänst – helhetssyn")}
    rows = build_comparisons(plan, Period(2024, "delår"), values, meta, units)
    got = [(r.municipality_id, r.municipality, r.year, r.value, r.status) for r in rows]
    assert got == [("1489", "Alingsås", 2022, 70.0, None), ("1489", "Alingsås", 2023, 88.0, None),
                   ("1489", "Alingsås", 2024, 90.0, None),
                   (RIKET, "Riket", 2023, None, "Saknas"), (RIKET, "Riket", 2024, 86.0, None),
                   ("G1", "Liknande kommuner äldreomsorg, Alingsås, 2024", 2024, 89.5, None)]
    assert {r.kpi_title for r in rows} == {"Brukarbedömning hemtjänst – helhetssyn"}
    assert all(r.source == "Kolada" and r.raw_kolada and r.fetched_at == WHEN for r in rows)


def _series_plan(tiny_tables: Any, write_tables: Any, **row: Any) -> Any:
    tiny_tables["Indikatorer"] = [{"Indikator-id": "I9", "Mål-id": "M1", "Indikator": "Nöjdhet (%)",
                                   "Enhet": "%", "Målvärde 2024": "Öka", **row}]
    return read_plan(write_tables(tiny_tables))


def test_each_series_is_compared_in_its_own_kpi_and_gender(tiny_tables: Any, write_tables: Any) -> None:
    gender_split = _series_plan(tiny_tables, write_tables, **{"Serier": "Kvinnor; Män", "Kolada-id": "U21468"})
    # Kvinnor and Män in K and M, and the total for riket and the group
    assert comparison_genders(gender_split.indicators[0]) == [("U21468", "K"), ("U21468", "M"), ("U21468", "T")]
    per_series = _series_plan(tiny_tables, write_tables, **{
        "Serier": "Särskilt boende; Hemtjänst", "Kolada-id": "Särskilt boende: U23471; Hemtjänst: U21468",
        "Kön": "K"})
    assert comparison_genders(per_series.indicators[0]) == [("U23471", "K"), ("U21468", "K")]
    totals = _series_plan(tiny_tables, write_tables, **{"Serier": "Totalt; Kvinnor; Män", "Kolada-id": "U21468"})
    assert comparison_genders(totals.indicators[0]) == [("U21468", "T"), ("U21468", "K"), ("U21468", "M")]


def test_build_comparisons_per_series_gender(tiny_tables: Any, write_tables: Any) -> None:
    plan = _series_plan(tiny_tables, write_tables, **{"Serier": "Kvinnor; Män", "Kolada-id": "U21468"})
    values = [v("U21468", unit, 2024, value, gender=g)
              for unit, g, value in [("1489", "T", 94.0), ("1489", "K", 93.0), ("1489", "M", 96.0),
                                     (RIKET, "T", 86.0), (RIKET, "K", 85.0), (RIKET, "M", 88.0)]]
    rows = build_comparisons(plan, Period(2024, "delår"), values, {}, units_for(plan, None))
    got = {(r.municipality_id, r.gender): r.value for r in rows}
    assert got == {("1489", "T"): 94.0, ("1489", "K"): 93.0, ("1489", "M"): 96.0,
                   (RIKET, "T"): 86.0, (RIKET, "K"): 85.0, (RIKET, "M"): 88.0}
    one_id_per_series = _series_plan(tiny_tables, write_tables, **{
        "Serier": "Särskilt boende; Hemtjänst", "Kolada-id": "Särskilt boende: U23471; Hemtjänst: U21468"})
    values = [v("U23471", "1489", 2024, 83.0), v("U21468", "1489", 2024, 94.0), v("U21468", RIKET, 2024, 86.0),
              v("U21468", "1489", 2024, 93.0, gender="K")]
    rows = build_comparisons(one_id_per_series, Period(2024, "delår"), values, {}, units_for(plan, None))
    assert [(r.kolada_id, r.municipality_id, r.gender, r.value) for r in rows] == [
        ("U21468", "1489", "T", 94.0), ("U21468", RIKET, "T", 86.0), ("U23471", "1489", "T", 83.0)]


def test_deleted_values_have_no_value_and_missing_metadata_uses_the_id(plan: Any) -> None:
    rows = build_comparisons(plan, Period(2024, "helår"), [v("U21468", "1489", 2024, 90.0, isdeleted=True)], {},
                             units_for(plan, None))
    assert [(r.kolada_id, r.kpi_title, r.value) for r in rows] == [("U21468", "U21468", None)]


def test_comparison_years(plan: Any) -> None:
    assert comparison_years(plan, Period(2024, "K1")) == [2024]
    assert comparison_years(plan, Period(2026, "helår")) == [2024, 2025, 2026]


def _c(unit: str, year: int, value: float | None) -> Comparison:
    return Comparison("U21468", "T", unit, unit, year, "T", value, None, WHEN)


def test_save_read_and_merge(plan: Any, tmp_path: Path) -> None:
    path = tmp_path / "comparisons.json"
    save_comparisons(path, [_c("1489", 2023, 1.0), _c(RIKET, 2023, 2.0)], plan, Period(2024, "K1"), WHEN)
    save_comparisons(path, [_c(RIKET, 2023, 3.0), _c(RIKET, 2024, 4.0)], plan, Period(2024, "delår"), WHEN)
    rows = read_comparisons(tmp_path, plan.id)
    assert sorted((r.municipality_id, r.year, r.value) for r in rows) == [
        ("0000", 2023, 3.0), ("0000", 2024, 4.0), ("1489", 2023, 1.0)]
    assert rows[0].fetched_at == WHEN
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc["plan_id"] == plan.id and doc["period"] == "2024-delår" and "Källa: Kolada" in doc["note"]
    assert read_comparisons(path, "en-annan-plan") == []
    assert read_comparisons(tmp_path / "saknas.json") == []


def test_another_plans_file_is_replaced_not_merged(plan: Any, tmp_path: Path) -> None:
    path = tmp_path / "comparisons.json"
    path.write_text(json.dumps({"format": "xlplan-jamforelser", "plan_id": "annan",
                                "comparisons": [json.loads(json.dumps(_c("1489", 2020, 9.0).__dict__, default=str))]}),
                    encoding="utf-8")
    save_comparisons(path, [_c("1489", 2024, 1.0)], plan, Period(2024, "K1"), WHEN)
    assert [(r.year, r.value) for r in read_comparisons(path)] == [(2024, 1.0)]


def test_unreadable_file_is_refused_with_a_swedish_message(tmp_path: Path) -> None:
    path = tmp_path / "comparisons.json"
    path.write_text("{inte json", encoding="utf-8")
    with pytest.raises(WorkbookRefused, match="jämförelsefilen kan inte läsas"):
        read_comparisons(path)


def test_merge_replaces_same_key_only() -> None:
    merged = merge_comparisons([_c("1489", 2023, 1.0), _c("1489", 2024, 2.0)], [_c("1489", 2024, 5.0)])
    assert sorted((c.year, c.value) for c in merged) == [(2023, 1.0), (2024, 5.0)]

