"""A faulty Kolada during ``pull``: nothing from Kolada is written to any department workbook
(no NaN, no empty number with "Källa: Kolada"), no comparisons.json, a Swedish warning says why,
and only the rows from local exports fill.  Real plan, real workbooks, the stand-in on 127.0.0.1."""

from __future__ import annotations

import copy
import hashlib
from pathlib import Path
from typing import Any

import pytest

from xlplan.actions.fill import fill
from xlplan.actions.pull import pull
from xlplan.books.plan import write_plan_tables
from xlplan.core.errors import KOLADA_DOWN
from xlplan.kolada import KoladaCache, KoladaClient, KoladaStandin
from xlplan.kolada.standin_data import STANDIN_GROUP_TITLE

PERIOD = "2022-helår"


@pytest.fixture
def folder(tmp_path: Path, tiny_tables: dict[str, Any]) -> Path:
    t = copy.deepcopy(tiny_tables)
    for s in t["Inställningar"]:
        if s["Inställning"] == "Planår":
            s["Värde"] = 2022
    t["Inställningar"].append({"Inställning": "Liknande kommuner", "Värde": STANDIN_GROUP_TITLE})
    t["Indikatorer"][0].update({"Nulägesår": 2020, "Målvärde 2022": ">90 %"})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    fill(tmp_path / "plan.xlsx", PERIOD, None, tmp_path / "avd")
    return tmp_path


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "avd").iterdir())}


@pytest.mark.parametrize(
    ("fail", "options", "words"),
    [
        ("nan", {}, "ogiltigt tal (NaN)"),
        ("infinity", {}, "ogiltigt tal (Infinity)"),
        ("exponent", {}, "ogiltigt tal (1e999)"),
        ("drip", {"deadline": 1.5}, "tidsgränsen 1,5 s"),
        ("silent", {"deadline": 1.0}, "tidsgränsen 1 s"),
        ("huge", {"max_bytes": 1024 * 1024}, "större än 1 MB"),
        ("redirect_loop", {}, "slinga"),
        ("retry_after", {}, "Kolada ber att få vänta 60 min"),
    ],
)
def test_faulty_kolada_changes_no_file(folder: Path, fail: str, options: dict[str, Any], words: str) -> None:
    before = digests(folder)
    # the group lookup succeeds; the fault hits the requests after it (metadata and values)
    fault_from = "/v3/kpi/" if fail not in ("nan", "infinity", "exponent") else "/v3/data/"
    with KoladaStandin() as srv:
        srv.set_failure(fail, only=fault_from)
        with KoladaClient(base_url=srv.url, cache=KoladaCache(folder / "cache"), **options) as client:
            result = pull(folder / "avd", folder / "plan.xlsx", client=client)
        assert any(p.startswith(fault_from) for p in srv.paths)
    (down,) = [p for p in result.problems if p.code == KOLADA_DOWN]  # only Kolada's rows wait
    assert words in down.message and not [c for c in result.changes if c.writes and "Kolada" in c.source.text]
    assert {c.file.name for c in result.changes if c.writes} == {
        n for n, d in digests(folder).items() if before.get(n) != d}
    assert not (folder / "avd" / "comparisons.json").exists()
    assert not any("NaN" in p.read_text(encoding="utf-8") for p in (folder / "cache").glob("*.json"))
