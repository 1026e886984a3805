"""Shared fixtures: small plans built in memory, written as real plan workbooks."""

from __future__ import annotations

import copy
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest

from xlplan.books.plan import read_plan, write_plan_tables
from xlplan.kolada.standin import KoladaStandin

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"

TINY: dict[str, list[dict[str, Any]]] = {
    "Inställningar": [
        {"Inställning": "Plan-id", "Värde": "testkommun-von-2024"},
        {"Inställning": "Kommun", "Värde": "Alingsås"},
        {"Inställning": "Kommun-id", "Värde": "1489"},
        {"Inställning": "Nämnd", "Värde": "Vård- och omsorgsnämnden"},
        {"Inställning": "Planår", "Värde": 2024},
        {"Inställning": "Rapporteringsperioder", "Värde": "K1, delår, helår"},
    ],
    "Avdelningar": [
        {"Avdelnings-id": "ALD", "Avdelning": "Äldreomsorg", "Kontaktperson": "Anna Andersson"},
        {"Avdelnings-id": "LSS", "Avdelning": "Funktionsstöd"},
    ],
    "Mål": [
        {"Mål-id": "M1", "Prioriterat mål": "God service", "Nämndens mål": "Andelen nöjda ska öka."},
        {"Mål-id": "M2", "Prioriterat mål": "Hållbar ekonomi", "Nämndens mål": "Minska sjukfrånvaron."},
    ],
    "Indikatorer": [
        {"Indikator-id": "I1", "Mål-id": "M1", "Indikator": "Brukarnöjdhet (%)", "Kolada-id": "U21468",
         "Källa": "Kolada", "Enhet": "%", "Nuläge": "88 %", "Nulägesår": 2023, "Målvärde 2024": ">90 %",
         "Avdelningar": "ALD", "Min": 0, "Max": 100},
        {"Indikator-id": "I2", "Mål-id": "M1", "Indikator": "Svar på e-post inom en dag (%)",
         "Serier": "Äldre; Funktionsstöd", "Nuläge": "Äldre 83 %, Funktionsstöd 67 %", "Nulägesår": 2023,
         "Målvärde 2024": "Äldre och Funktionsstöd >69 %", "Enhet": "%"},
        {"Indikator-id": "I3", "Mål-id": "M2", "Indikator": "Sjukfrånvaro (%)", "Enhet": "%",
         "Nuläge": "8,1 %", "Nulägesår": 2023, "Målvärde 2024": "7,5 %", "Avdelningar": "ALD, LSS"},
        {"Indikator-id": "I4", "Mål-id": "M2", "Indikator": "Systematiskt arbetsmiljöarbete",
         "Målvärde 2024": "Systematisk analys", "Avdelningar": "LSS"},
    ],
    "Aktiviteter": [
        {"Aktivitets-id": "A1", "Avdelnings-id": "ALD", "Mål-id": "M1", "Rubrik": "Uppdrag",
         "Aktivitet": "Införa digital tillsyn.", "Ansvarig": "Enhetschef", "Klart senast": "2024 kvartal 3"},
        {"Aktivitets-id": "A2", "Avdelnings-id": "LSS", "Rubrik": "Grunduppdraget",
         "Aktivitet": "Se över rutiner för genomförandeplaner."},
    ],
    "Ekonomi": [
        {"Avdelnings-id": "ALD", "Post": "Intäkter", "År": 2024, "Budget (tkr)": 1200},
        {"Avdelnings-id": "ALD", "Post": "Personalkostnader", "År": 2024, "Budget (tkr)": -35400},
        {"Avdelnings-id": "LSS", "Post": "Personalkostnader", "År": 2024, "Budget (tkr)": -20100},
    ],
    "Personal": [
        {"Avdelnings-id": "ALD", "Nyckeltal": "Sjukfrånvaro totalt", "Nuvärde": "9,2 %", "Målvärde": "8 %"},
    ],
    "Internkontroll": [
        {"Kontroll-id": "IK1", "Process": "Dokumentation", "Risk": "Genomförandeplaner saknas",
         "Kontrollmoment": "Stickprov", "Sannolikhet": 3, "Konsekvens": 3, "Ansvarig": "Avdelningschef"},
    ],
}


def kolada_2022_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    """The tiny plan for 2022 (the stand-in's sample data end in 2022), with Kolada ids and a file source."""
    t = copy.deepcopy(tiny)
    for s in t["Inställningar"]:
        if s["Inställning"] == "Planår":
            s["Värde"] = 2022
    i1, i2, i3, _ = t["Indikatorer"]
    i1.update({"Nulägesår": 2020, "Målvärde 2022": ">90 %"})
    i2.update({"Kolada-id": "Äldre: U23471; Funktionsstöd: U28524", "Målvärde 2022": ">69 %"})
    i3.update({"Målvärde 2022": "7,5 %"})
    t["Filkällor"] = [{"Indikator-id": "I3", "Fil": "exporter/sjuk_*.csv", "Värdekolumn": "Sjukfrånvaro %",
                       "Nyckelkolumner": "Enhet={avdelningsnamn}; Period={år}"}]
    return t


@pytest.fixture
def tiny_tables() -> dict[str, list[dict[str, Any]]]:
    return copy.deepcopy(TINY)


@pytest.fixture
def local_export_tables(tiny_tables: dict[str, Any]) -> dict[str, Any]:
    """The tiny plan without Kolada: I3 (every department) is pulled from the local export ``sjuk.csv``
    beside the plan (columns Enhet, Period, Värde)."""
    t = tiny_tables
    t["Indikatorer"][0].pop("Kolada-id")  # no Kolada here: pull reads a local export
    t["Indikatorer"][2]["Avdelningar"] = "alla"
    t["Filkällor"] = [{"Indikator-id": "I3", "Fil": "sjuk.csv", "Värdekolumn": "Värde",
                       "Nyckelkolumner": "Enhet={avdelning}; Period={period}"}]
    return t


@pytest.fixture
def write_tables(tmp_path: Path) -> Callable[..., Path]:
    def _write(tables: dict[str, list[dict[str, Any]]], name: str = "plan.xlsx") -> Path:
        path = tmp_path / name
        write_plan_tables(tables, path)
        return path
    return _write


@pytest.fixture
def tiny_plan_path(write_tables: Callable[..., Path], tiny_tables: dict[str, Any]) -> Path:
    return write_tables(tiny_tables)


@pytest.fixture
def tiny_plan(tiny_plan_path: Path):
    return read_plan(tiny_plan_path)


# Under CI (CI set, as .ci/run runs), a test that would skip for missing test data or a missing tool
# (LibreOffice, ../shared, the installed command) fails instead: CI must prove the whole suite ran.
@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CI") and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"Under CI får inget test hoppas över (saknade testdata eller verktyg): {reason}"


@pytest.fixture
def srv() -> Iterator[KoladaStandin]:
    """The Kolada stand-in on 127.0.0.1 (tests that need other timings define their own)."""
    with KoladaStandin() as s:
        yield s


def no_network() -> httpx.Client:
    """An httpx client that fails the test on any request (an offline run must make none)."""
    def refuse(request: httpx.Request) -> httpx.Response:
        raise AssertionError(f"offline client made a request: {request.url}")

    return httpx.Client(transport=httpx.MockTransport(refuse))
