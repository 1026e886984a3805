"""The bundled example plans' source data (templates/src/*.json) against the plan format
and against the seed documents they were transcribed from.

Structure is checked without xlplan (so a broken reader cannot hide a broken example);
one round-trip test also reads each example through xlplan's own plan reader.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).parents[1]
SRC = REPO / "templates/src"
SEEDS = Path(__file__).parents[2] / "shared/domain/seeds"
KPI_METADATA = Path(__file__).parents[2] / "shared/kolada/samples/kpi_metadata_v2_2024-08-17_subset.csv"

PLAN_2020 = "alingsas-von-2020"
PLAN_2024 = "alingsas-von-2024"
SEED_FILES = {PLAN_2020: "000_8920dcdbb0bdc469.txt", PLAN_2024: "001_f2164299a158afe7.txt"}
ORG_SEED_2024 = "004_188a48fbf9f37699.txt"

# Columns per sheet, exactly as in docs/plan-format.md (first tuple: required).
COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "Inställningar": (("Inställning", "Värde"), ()),
    "Avdelningar": (("Avdelnings-id", "Avdelning"), ("Verksamhetsområde", "Kontaktperson", "Ansvar")),
    "Mål": (("Mål-id", "Nämndens mål"), ("Prioriterat mål", "Agenda 2030")),
    "Indikatorer": (("Indikator-id", "Mål-id", "Indikator"),
                    ("Uppföljning", "Kolada-id", "Källa", "Enhet", "Polaritet", "Serier", "Nuläge",
                     "Nulägesår", "Avdelningar", "Perioder", "Nämndnivå", "Kön", "Min", "Max")),
    "Aktiviteter": (("Aktivitets-id", "Avdelnings-id", "Aktivitet"),
                    ("Mål-id", "Rubrik", "Ansvarig", "Klart senast", "Beslut")),
    "Ekonomi": (("Avdelnings-id", "Post", "År", "Budget (tkr)"), ("Anmärkning",)),
    "Personal": (("Avdelnings-id", "Nyckeltal"), ("Nuvärde", "Målvärde")),
    "Internkontroll": (("Kontroll-id", "Risk"),
                       ("Avdelnings-id", "Process", "Kontrollmoment", "Sannolikhet", "Konsekvens",
                        "Ansvarig", "Metod")),
    "Filkällor": (("Indikator-id", "Fil", "Värdekolumn"), ("Serie", "Blad", "Nyckelkolumner")),
}
SETTINGS = {"Plan-id", "Kommun", "Kommun-id", "Nämnd", "Förvaltning", "Planår", "Slutår",
            "Rapporteringsperioder", "Liknande kommuner", "Tolerans delvis uppfyllt", "Målbedömning",
            "Lösenord bladskydd", "Kolada-adress", "Huvudbok fil", "Huvudbok kolumner", "Huvudbok enhet",
            "Huvudbok tecken", "Kommentarsgräns ekonomi (tkr)"}
REQUIRED_SETTINGS = {"Plan-id", "Kommun", "Kommun-id", "Nämnd", "Planår"}
TARGET_COLUMN = re.compile(r"^Målvärde (\d{4})$")
KPI = re.compile(r"^[A-Z]\d{5}$")
UNIQUE_IDS = {"Avdelningar": "Avdelnings-id", "Mål": "Mål-id", "Indikatorer": "Indikator-id",
              "Aktiviteter": "Aktivitets-id", "Internkontroll": "Kontroll-id"}
PLANS = (PLAN_2020, PLAN_2024)


def load(name: str) -> dict[str, list[dict[str, Any]]]:
    path = SRC / f"{name}.json"
    if not path.exists():
        pytest.skip(f"{path} finns inte (ännu)")
    return json.loads(path.read_text(encoding="utf-8"))


def norm(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def seed_text(file_name: str) -> str:
    path = SEEDS / file_name
    if not path.exists():
        pytest.skip(f"seed-dokumentet {path} finns inte på den här maskinen")
    return norm(path.read_text(encoding="utf-8"))


def settings(tables: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    return {row["Inställning"]: row["Värde"] for row in tables["Inställningar"]}


def present(row: dict[str, Any], key: str) -> bool:
    value = row.get(key)
    return value is not None and str(value).strip() != ""


def split(text: str | None, sep: str = ",") -> list[str]:
    return [p.strip() for p in (text or "").split(sep) if p.strip()]


def assert_in_seed(values: list[str], seed: str, what: str) -> None:
    missing = [v for v in values if norm(v) not in seed]
    assert not missing, f"{what} som inte står ordagrant i seed-dokumentet: {missing}"


# ------------------------------------------------------------------ structure (both plans)

@pytest.mark.parametrize("name", PLANS)
def test_sheets_and_columns_follow_plan_format(name: str) -> None:
    tables = load(name)
    assert set(tables) == set(COLUMNS), "alla nio blad, inga andra"
    for sheet, rows in tables.items():
        required, optional = COLUMNS[sheet]
        for i, row in enumerate(rows, start=2):
            unknown = [k for k in row if k not in required + optional
                       and not (sheet == "Indikatorer" and TARGET_COLUMN.match(k))]
            assert not unknown, f"{sheet} rad {i}: okända kolumner {unknown}"
            empty = [k for k in required if not present(row, k)]
            assert not empty, f"{sheet} rad {i}: tomma obligatoriska kolumner {empty}"
            assert all(not isinstance(v, str) or v == v.strip() for v in row.values()), \
                f"{sheet} rad {i}: text med inledande/avslutande blanksteg"


@pytest.mark.parametrize("name", PLANS)
def test_settings(name: str) -> None:
    tables = load(name)
    keys = [row["Inställning"] for row in tables["Inställningar"]]
    assert len(keys) == len(set(keys))
    assert set(keys) <= SETTINGS
    assert REQUIRED_SETTINGS <= set(keys)
    s = settings(tables)
    assert s["Plan-id"] == name
    assert re.fullmatch(r"\d{4}", s["Kommun-id"]) and s["Kommun-id"] == "1489"
    assert s["Kommun"] == "Alingsås" and s["Nämnd"] == "Vård- och omsorgsnämnden"
    assert s.get("Slutår", s["Planår"]) >= s["Planår"]


@pytest.mark.parametrize("name", PLANS)
def test_ids_unique(name: str) -> None:
    tables = load(name)
    for sheet, col in UNIQUE_IDS.items():
        ids = [row[col] for row in tables[sheet]]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        assert not dupes, f"{sheet}: dubbla {col} {dupes}"


@pytest.mark.parametrize("name", PLANS)
def test_references_resolve(name: str) -> None:
    tables = load(name)
    deps = {row["Avdelnings-id"] for row in tables["Avdelningar"]}
    goals = {row["Mål-id"] for row in tables["Mål"]}
    inds = {row["Indikator-id"] for row in tables["Indikatorer"]}
    for row in tables["Indikatorer"]:
        assert row["Mål-id"] in goals, row["Indikator-id"]
        listed = split(row.get("Avdelningar"))
        assert listed == ["alla"] or set(listed) <= deps, row["Indikator-id"]
    for row in tables["Aktiviteter"]:
        assert row["Avdelnings-id"] in deps, row["Aktivitets-id"]
        assert row.get("Mål-id") is None or row["Mål-id"] in goals, row["Aktivitets-id"]
    for row in tables["Ekonomi"]:
        assert row["Avdelnings-id"] in deps | {"NÄMND"}
    for row in tables["Personal"]:
        assert row["Avdelnings-id"] in deps
    for row in tables["Internkontroll"]:
        assert row.get("Avdelnings-id") is None or row["Avdelnings-id"] in deps
    for row in tables["Filkällor"]:
        assert row["Indikator-id"] in inds
    used = {row["Mål-id"] for row in tables["Indikatorer"]}
    assert used == goals, "varje mål har minst en indikator"


@pytest.mark.parametrize("name", PLANS)
def test_indicator_fields_are_well_formed(name: str) -> None:
    tables = load(name)
    years = {settings(tables)["Planår"], settings(tables).get("Slutår", settings(tables)["Planår"])}
    for row in tables["Indikatorer"]:
        rid = row["Indikator-id"]
        series = split(row.get("Serier"), ";")
        kolada = split(row.get("Kolada-id"), ";")
        for part in kolada:
            label, _, ids = part.rpartition(":")
            assert all(KPI.match(k) for k in split(ids)), rid
            if label:
                assert label.strip() in series, f"{rid}: serien '{label}' saknas i Serier"
        for key in row:
            if m := TARGET_COLUMN.match(key):
                assert min(years) <= int(m.group(1)) <= max(years), rid
        if "Nulägesår" in row:
            assert isinstance(row["Nulägesår"], int)
        assert row.get("Polaritet") in (None, "högre", "lägre"), rid
        if row.get("Enhet") == "%" and "Min" in row:
            assert (row["Min"], row["Max"]) == (0, 100), rid
        assert ("Min" in row) == ("Max" in row), rid
        for value in row.values():
            assert "\n" not in str(value), f"{rid}: radbrytning i indikatorfält"


@pytest.mark.parametrize("name", PLANS)
def test_numbers_are_numbers(name: str) -> None:
    tables = load(name)
    for row in tables["Ekonomi"]:
        assert isinstance(row["År"], int) and isinstance(row["Budget (tkr)"], (int, float))
    for row in tables["Internkontroll"]:
        for key in ("Sannolikhet", "Konsekvens"):
            assert row.get(key) is None or row[key] in (1, 2, 3, 4)


# ------------------------------------------------------------------ 2020: content against the seed

def test_2020_shape() -> None:
    tables = load(PLAN_2020)
    assert [d["Avdelning"] for d in tables["Avdelningar"]] == [
        "Planeringsavdelningen", "Myndighetsavdelningen", "Äldreboendeavdelningen",
        "Kvarboendeavdelningen", "Avdelningen för funktionsstöd", "Hälso- och sjukvårdsavdelningen"]
    assert [g["Mål-id"] for g in tables["Mål"]] == ["M1", "M2", "M3", "M4", "M5", "M6"]
    per_dep: dict[str, list[str]] = {}
    for row in tables["Indikatorer"]:
        assert split(row["Avdelningar"]) == [row["Indikator-id"].split("-")[0]]
        per_dep.setdefault(row["Avdelningar"], []).append(row["Mål-id"])
    # goals in each department chapter, in the chapter's order
    assert per_dep == {
        "PLAN": ["M1", "M2", "M3", "M4", "M6", "M5"], "MYND": ["M1", "M2", "M3", "M6", "M5"],
        "ABO": ["M1", "M2", "M3", "M6", "M5"], "KBO": ["M1", "M2", "M3", "M6"],
        "FUNK": ["M1", "M2", "M4", "M6", "M5"], "HSL": ["M1", "M2"]}
    assert all(row["Nulägesår"] == 2019 for row in tables["Indikatorer"])
    assert all("Målvärde 2020" in row for row in tables["Indikatorer"])
    assert tables["Ekonomi"] == [] and tables["Internkontroll"] == []
    counts = {d: 0 for d in per_dep}
    for row in tables["Aktiviteter"]:
        counts[row["Avdelnings-id"]] += 1
    assert counts == {"PLAN": 48, "MYND": 30, "ABO": 28, "KBO": 29, "FUNK": 28, "HSL": 18}


def test_2020_texts_are_verbatim() -> None:
    tables = load(PLAN_2020)
    seed = seed_text(SEED_FILES[PLAN_2020])
    inds = tables["Indikatorer"]
    for col in ("Indikator", "Uppföljning", "Nuläge", "Målvärde 2020"):
        assert_in_seed([r[col] for r in inds], seed, f"Indikatorer/{col}")
    for col in ("Prioriterat mål", "Nämndens mål"):
        assert_in_seed([r[col] for r in tables["Mål"]], seed, f"Mål/{col}")
    acts = tables["Aktiviteter"]
    assert_in_seed([r["Aktivitet"] for r in acts], seed, "Aktiviteter/Aktivitet")
    assert_in_seed([r["Beslut"] for r in acts if "Beslut" in r], seed, "Aktiviteter/Beslut")
    assert_in_seed([r["Klart senast"] for r in acts if "Klart senast" in r], seed, "Aktiviteter/Klart senast")
    pers = tables["Personal"]
    assert_in_seed([r["Nyckeltal"] for r in pers], seed, "Personal/Nyckeltal")
    assert_in_seed([r[c] for r in pers for c in ("Nuvärde", "Målvärde")], seed, "Personal/värden")
    # quirks of the seed are kept, not corrected
    first = next(r for r in inds if r["Indikator-id"] == "PLAN-I01")
    assert first["Målvärde 2020"] == "Äldre  och Funktionsstöd (Handikapp) >48 %"
    assert first["Nuläge"] == "Äldre 50 %, Funktionsstöd (Handikapp) 0 %"


def test_2020_activity_details() -> None:
    tables = load(PLAN_2020)
    acts = {r["Aktivitets-id"]: r for r in tables["Aktiviteter"]}
    lov = acts["MYND-A06"]
    assert lov["Aktivitet"].startswith("Medverka i framtagandet av en tids- och aktivitetsplans")
    assert (lov["Klart senast"], lov["Beslut"]) == ("2020 kvartal 1", "VON 2019-11-18 § 97")
    assert acts["PLAN-A11"]["Klart senast"] == "2020 kvartal 1"
    sub = acts["PLAN-A29"]["Aktivitet"].split("\n")
    assert len(sub) == 4 and all(s.startswith("o ") for s in sub[1:])
    headings = {r["Rubrik"] for r in acts.values()}
    assert headings == {"Mål och nyckeltal", "Uppdrag", "Agenda 2030", "Närvårdssamverkan", "Ekonomi",
                        "Personal", "Grunduppdraget"}
    for r in acts.values():
        assert ("Mål-id" in r) == (r["Rubrik"] == "Mål och nyckeltal"), r["Aktivitets-id"]


def test_2020_personnel_tables() -> None:
    tables = load(PLAN_2020)
    by_dep: dict[str, dict[str, tuple[str, str]]] = {}
    for r in tables["Personal"]:
        by_dep.setdefault(r["Avdelnings-id"], {})[r["Nyckeltal"]] = (r["Nuvärde"], r["Målvärde"])
    assert by_dep["HSL"] == {"Bibehålla Nöjd-medarbetarindex": ("4,0", "4,0"),
                             "Minska korttidssjukfrånvaron": ("3,3%", "3,0%")}
    assert by_dep["MYND"] == by_dep["HSL"]
    for dep in ("PLAN", "ABO", "KBO", "FUNK"):
        assert by_dep[dep]["Medel sysselsättningsgrad"] == ("91,1%", "93,0%")
        assert by_dep[dep]["Andel deltidsanställda inom kommunals avtalsområde som erbjudits önskad "
                           "högre sysselsättningsgrad"] == ("-", "100 %")


def test_2020_kolada_series_match_kpi_titles() -> None:
    if not KPI_METADATA.exists():
        pytest.skip(f"{KPI_METADATA} finns inte på den här maskinen")
    with KPI_METADATA.open(encoding="utf-8") as fh:
        titles = {row["concept"]: row["name"].casefold() for row in csv.DictReader(fh)}
    tables = load(PLAN_2020)
    checked = 0
    for row in tables["Indikatorer"]:
        for part in split(row.get("Kolada-id"), ";"):
            label, _, kpi = part.rpartition(":")
            if label and kpi.strip() in titles:
                assert label.strip().casefold() in titles[kpi.strip()], part
                checked += 1
    assert checked >= 2


# ------------------------------------------------------------------ 2024: content against the seed

def test_2024_shape() -> None:
    tables = load(PLAN_2024)
    s = settings(tables)
    assert (s["Planår"], s["Slutår"]) == (2024, 2026)
    goals = {g["Mål-id"]: g for g in tables["Mål"]}
    assert {k: g.get("Agenda 2030") for k, g in goals.items() if k.startswith("M")} == {
        "M1": "8, 10", "M2": "16", "M3": "3, 11"}
    inds = {r["Indikator-id"]: r for r in tables["Indikatorer"]}
    assert inds["M3-I01"]["Målvärde 2024"] == "65 (90)" and inds["M3-I01"]["Kolada-id"] == "U23401"
    assert inds["M3-I02"]["Nuläge"] == "I.U"
    assert inds["M2-I02"]["Nuläge"] == "73 (2022)"
    assert {r["Post"] for r in tables["Ekonomi"] if not r["Post"].startswith("Investering")} == {
        "Verksamhetens intäkter", "Personalkostnader", "Lokalhyror", "Köp av tjänster", "Övriga kostnader",
        "Verksamhetens kostnader", "Verksamhetens nettokostnader", "Kommunbidrag", "Finansnetto",
        "Årets resultat"}
    assert all(r["Avdelnings-id"] == "NÄMND" for r in tables["Ekonomi"])
    assert len(tables["Internkontroll"]) == 4
    for r in tables["Internkontroll"]:
        assert r["Sannolikhet"] * r["Konsekvens"] == 12


def test_2024_texts_are_verbatim() -> None:
    tables = load(PLAN_2024)
    seed = seed_text(SEED_FILES[PLAN_2024])
    inds = tables["Indikatorer"]
    for col in ("Indikator", "Nuläge", "Målvärde 2024"):
        assert_in_seed([r[col] for r in inds if col in r], seed, f"Indikatorer/{col}")
    assert_in_seed([r["Uppföljning"] for r in inds if "Uppföljning" in r], seed, "Indikatorer/Uppföljning")
    for col in ("Prioriterat mål", "Nämndens mål"):
        assert_in_seed([r[col] for r in tables["Mål"] if col in r], seed, f"Mål/{col}")
    for col in ("Process", "Risk", "Kontrollmoment"):
        assert_in_seed([r[col] for r in tables["Internkontroll"]], seed, f"Internkontroll/{col}")
    method_lines = [line for r in tables["Internkontroll"] for line in r["Metod"].split("\n")
                    if not line.startswith("Uppföljning: ")]
    assert_in_seed(method_lines, seed, "Internkontroll/Metod")
    people = [p for r in tables["Internkontroll"] for p in split(r["Ansvarig"])]
    assert_in_seed(people, seed, "Internkontroll/Ansvarig")


def test_2024_budget_rows_rebuild_the_seed_table_lines() -> None:
    tables = load(PLAN_2024)
    seed = seed_text(SEED_FILES[PLAN_2024])

    def amount(v: float) -> str:
        return f"{int(v):,}".replace(",", " ")

    by_post: dict[str, list[tuple[int, float]]] = {}
    for r in tables["Ekonomi"]:
        by_post.setdefault(r["Post"], []).append((r["År"], r["Budget (tkr)"]))
    assert len(by_post) == 15
    for post, values in by_post.items():
        values.sort()
        label = post.removeprefix("Investering: ")
        years = [y for y, _ in values]
        assert years == list(range(2023, 2023 + len(years))), post
        line = " ".join([label] + [amount(v) for _, v in values])
        assert line in seed, f"raden '{line}' står inte i seed-dokumentet"


def test_2024_departments_come_from_the_review() -> None:
    tables = load(PLAN_2024)
    org = seed_text(ORG_SEED_2024).casefold()
    for d in tables["Avdelningar"]:
        assert d["Avdelning"].casefold() in org, d["Avdelning"]


# ------------------------------------------------------------------ round trip through xlplan

@pytest.mark.parametrize("name", PLANS)
def test_example_reads_as_a_valid_plan(name: str, tmp_path: Path) -> None:
    tables = load(name)
    planio = pytest.importorskip("xlplan.books.plan")
    out = tmp_path / f"{name}.xlsx"
    planio.write_plan_tables(tables, out)
    plan, problems = planio.plan_from_workbook(out)
    assert problems == [] and plan is not None
    assert plan.id == name
    assert len(plan.indicators) == len(tables["Indikatorer"])
    assert len(plan.activities) == len(tables["Aktiviteter"])
