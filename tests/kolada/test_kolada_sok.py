"""`xlplan kolada sok` and plan check's Kolada id suggestions, against the stand-in on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import unicodedata
from pathlib import Path

import pytest
from typer.testing import CliRunner

from xlplan.books.plan import read_plan
from xlplan.cli import app
from xlplan.kolada import KoladaCache, KoladaClient
from xlplan.kolada.parse import parse_kpi
from xlplan.kolada.sok import kolada_title, search, suggest_ids
from xlplan.kolada.standin_data import StandinData

runner = CliRunner()



@pytest.fixture
def catalogue():
    return [parse_kpi(o) for o in StandinData.load().kpi_objects(None, None)]


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/v3"


def ids(hits) -> list[str]:
    return [h.kpi.id for h in hits]


# -- matching (pure) ----------------------------------------------------------------------------
def test_all_words_must_match_case_insensitive(catalogue) -> None:
    assert ids(search(catalogue, "HEMTJÄNST helhetssyn")) == ["U21468"]
    assert ids(search(catalogue, "särskilt boende helhetssyn")) == ["U23471"]
    assert search(catalogue, "hemtjänst klagomål") == []  # each word is in some title, not both in one


def test_swedish_letters_compounds_and_mac_text(catalogue) -> None:
    both = ["U21468", "U23471", "U23516"]
    assert sorted(ids(search(catalogue, "äldreomsorg"))) == both
    assert sorted(ids(search(catalogue, "omsorg"))) == both  # inside the compound word
    assert sorted(ids(search(catalogue, "aldreomsorg"))) == both  # typed without ä
    decomposed = unicodedata.normalize("NFD", "Väntetid särskilt")
    assert decomposed != "Väntetid särskilt"
    assert ids(search(catalogue, decomposed)) == ["U23401"]
    assert search(catalogue, "man") == []  # no title has the word 'man' or 'män'


def test_ranking_whole_words_before_parts_then_shorter_titles(catalogue) -> None:
    # 'bostad' is no whole word in any title, only inside 'gruppbostad' (U28524) and 'servicebostad' (U28528).
    assert ids(search(catalogue, "bostad")) == ["U28524", "U28528"]
    hits = search(catalogue, "helhetssyn äldreomsorg")
    assert ids(hits) == ["U21468", "U23471"]  # same score: the shorter title first
    assert hits[0].score == hits[1].score
    exact, folded = search(catalogue, "äldreomsorg")[0], search(catalogue, "aldreomsorg")[0]
    assert exact.score > folded.score
    assert ids(search(catalogue, "brukare"))[:1] == ["U28524"]  # 'brukaren' starts with it


def test_an_id_finds_that_kpi_and_empty_text_nothing(catalogue) -> None:
    assert ids(search(catalogue, "u23401")) == ["U23401"]
    assert search(catalogue, "  –  ") == []
    assert len(search(catalogue, "andel", limit=2)) == 2


# -- the catalogue: fetched once, cached --------------------------------------------------------
def test_catalogue_is_paged_fetched_once_and_then_read_from_the_cache(srv, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path / "c")
    with KoladaClient(base_url=srv.url, cache=cache, per_page=3) as client:
        got = client.kpi_catalogue()
    assert len(got) == 8 and srv.request_count == 3  # 8 KPIs, pages of 3
    assert srv.paths[0] == "/v3/kpi?per_page=3"
    assert {k.id for k in got} == {"U21468", "U23471", "U23516", "U23401", "U28524", "U28528", "U28535",
                                   "N00640"}
    u21468 = next(k for k in got if k.id == "U21468")
    assert u21468.is_divided_by_gender and u21468.has_ou_data and u21468.publ_period == 2024
    with KoladaClient(base_url=srv.url, cache=cache, per_page=3) as client:
        again = client.kpi_catalogue()
        assert client.request_count == 0
    assert again == got and srv.request_count == 3
    with KoladaClient(base_url=srv.url, cache=cache, per_page=3) as client:
        client.kpi_catalogue(refresh=True)
    assert srv.request_count == 6


def test_kolada_failing_on_refresh_falls_back_to_the_cached_catalogue(srv, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path / "c")
    with KoladaClient(base_url=srv.url, cache=cache) as client:
        client.kpi_catalogue()
    srv.set_failure("500")
    with KoladaClient(base_url=srv.url, cache=cache, max_retries=1, sleep=lambda s: None) as client:
        got = client.kpi_catalogue(refresh=True)
        assert len(got) == 8
        assert any("katalogen i cachen används" in w for w in client.warnings)
    assert srv.request_count == 1 + 2


# -- the command --------------------------------------------------------------------------------
def sok(*args: str):
    return runner.invoke(app, ["kolada", "sok", *args])


def test_sok_prints_id_title_gender_unit_data_and_publication(srv, tmp_path: Path) -> None:
    cache = str(tmp_path / "c")
    result = sok("hemtjänst", "helhetssyn", "--kolada-url", srv.url, "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "1 nyckeltal i Koladas katalog matchar 'hemtjänst helhetssyn':",
        "U21468  Brukarbedömning hemtjänst äldreomsorg - helhetssyn, andel (%)",
        "        Kön: ja (Totalt, Kvinnor, Män) · Enhetsdata (ou): ja · Publicering: 2024-10-04 (avser 2024)",
    ]
    medborgar = sok("medborgarundersökningen", "--kolada-url", srv.url, "--cache-dir", cache)
    assert "N00640  Medborgarundersökningen - Bra bemötande" in medborgar.output
    assert "Enhetsdata (ou): nej · Publicering: 2024-12-16 (avser 2024)" in medborgar.output
    vantetid = sok("väntetid", "--kolada-url", srv.url, "--cache-dir", cache)
    assert "Enhetsdata (ou): nej · Publicering: inget datum i Kolada" in vantetid.output
    assert srv.request_count == 1  # the catalogue once, then the cache


def test_sok_json_max_offline_and_no_hits(srv, tmp_path: Path) -> None:
    cache = str(tmp_path / "c")
    result = sok("LSS", "--json", "--max", "2", "--kolada-url", srv.url, "--cache-dir", cache)
    rows = json.loads(result.output)
    assert [r["id"] for r in rows] == ["U28524", "U28528"]
    assert rows[0] == {"id": "U28524", "titel": "Brukarbedömning gruppbostad LSS - Brukaren trivs alltid hemma, "
                       "andel (%)", "kon": True, "enhetsdata": True, "publiceringsperiod": 2024,
                       "publiceras": "2024-12-06", "preliminart": None, "traff": 6, "alla_ord": True}
    srv.stop()
    offline = sok("LSS", "personalen", "--offline", "--cache-dir", cache)
    assert offline.exit_code == 0 and "2 nyckeltal" in offline.output
    none = sok("skolskjuts", "--offline", "--cache-dir", cache)
    assert none.exit_code == 1
    assert "Inget av Koladas 8 nyckeltal har alla orden 'skolskjuts' i titeln." in none.output


def test_sok_without_cache_and_without_kolada_says_so_in_swedish(tmp_path: Path) -> None:
    offline = sok("LSS", "--offline", "--cache-dir", str(tmp_path / "tom"))
    assert offline.exit_code == 2
    assert "finns inte i cachen" in offline.output and "Traceback" not in offline.output
    down = sok("LSS", "--kolada-url", closed_port_url(), "--cache-dir", str(tmp_path / "tom"))
    assert down.exit_code == 2 and "Kolada svarar inte" in down.output


# -- plan check -----------------------------------------------------------------------------------
TITLED = [
    {"Indikator-id": "K1", "Mål-id": "M1", "Indikator": "Nöjdhet med hemtjänsten",
     "Källa": "Kolada: Brukarbedömning hemtjänst äldreomsorg – helhetssyn", "Enhet": "%",
     "Målvärde 2024": "Öka"},
    {"Indikator-id": "K2", "Mål-id": "M1", "Indikator": "Brukarbedömning särskilt boende äldreomsorg helhetssyn",
     "Källa": "Kolada", "Enhet": "%", "Målvärde 2024": "Öka"},
    {"Indikator-id": "K3", "Mål-id": "M1", "Indikator": "Väntetid till särskilt boende",
     "Uppföljning": "Kolada (Väntetid i antal dagar till särskilt boende, medelvärde per kommun)",
     "Enhet": "dagar", "Målvärde 2024": "Minska"},
    {"Indikator-id": "K4", "Mål-id": "M1", "Indikator": "Kolada: Skolskjuts i tid",
     "Målvärde 2024": "Öka"},
]


@pytest.fixture
def titled_plan(tiny_tables, write_tables) -> Path:
    tiny_tables["Indikatorer"] += TITLED
    return write_tables(tiny_tables)


def test_titles_are_read_from_source_description_or_name(titled_plan: Path) -> None:
    plan = read_plan(titled_plan)
    titles = {i.id: kolada_title(i) for i in plan.indicators}
    assert titles == {"I1": None, "I2": None, "I3": None, "I4": None,  # I1 has an id; the rest no Kolada
                      "K1": "Brukarbedömning hemtjänst äldreomsorg – helhetssyn",
                      "K2": "Brukarbedömning särskilt boende äldreomsorg helhetssyn",
                      "K3": "Väntetid i antal dagar till särskilt boende, medelvärde per kommun",
                      "K4": "Skolskjuts i tid"}


def test_suggestions_all_words_then_most_words(titled_plan: Path, catalogue) -> None:
    got = {s.indicator: s for s in suggest_ids(read_plan(titled_plan), catalogue)}
    assert ids(got["K1"].hits) == ["U21468"] and not got["K1"].hits[0].partial
    assert ids(got["K2"].hits) == ["U23471"]
    assert ids(got["K3"].hits) == ["U23401"] and got["K3"].hits[0].partial  # 'per kommun' is not in it
    assert got["K4"].hits == ()


def plan_check(*args: str):
    return runner.invoke(app, ["plan", "check", *args])


def test_plan_check_suggests_ids_from_kolada_then_from_the_cache(srv, titled_plan: Path, tmp_path: Path) -> None:
    cache = str(tmp_path / "c")
    result = plan_check(str(titled_plan), "--kolada-url", srv.url, "--cache-dir", cache)
    assert result.exit_code == 0, result.output
    text = result.output
    assert "Indikatorer som nämner en Kolada-titel men inget Kolada-id:" in text
    assert ("  K1 Nöjdhet med hemtjänsten: Kolada-titeln 'Brukarbedömning hemtjänst äldreomsorg – helhetssyn' "
            "– föreslagna Kolada-id:\n      U21468  Brukarbedömning hemtjänst äldreomsorg - helhetssyn, "
            "andel (%)") in text
    assert "föreslagna Kolada-id (inte alla ord stämmer):\n      U23401" in text
    assert "  K4 Kolada: Skolskjuts i tid: Kolada-titeln 'Skolskjuts i tid' finns inte i Koladas katalog" in text
    assert srv.request_count == 1
    srv.stop()  # Kolada gone: the cached catalogue still gives the suggestions
    cached = plan_check(str(titled_plan), "--json", "--kolada-url", srv.url, "--cache-dir", cache)
    assert cached.exit_code == 0, cached.output
    found = json.loads(cached.output)["kolada_forslag"]
    assert {s["id"]: [f["id"] for f in s["forslag"]] for s in found["forslag"]} == {
        "K1": ["U21468"], "K2": ["U23471"], "K3": ["U23401"], "K4": []}
    assert found["anteckningar"] == []


def test_plan_check_never_fails_because_kolada_is_down(titled_plan: Path, tmp_path: Path) -> None:
    result = plan_check(str(titled_plan), "--kolada-url", closed_port_url(), "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0, result.output
    assert "Kolada-id kan inte föreslås nu; planen kontrollerades ändå" in result.output
    assert "  K1 Nöjdhet med hemtjänsten: Kolada-titeln 'Brukarbedömning hemtjänst äldreomsorg – helhetssyn'" \
        in result.output
    as_json = plan_check(str(titled_plan), "--json", "--kolada-url", closed_port_url(),
                         "--cache-dir", str(tmp_path / "c"))
    assert as_json.exit_code == 0
    found = json.loads(as_json.output)["kolada_forslag"]
    assert [i["id"] for i in found["utan_forslag"]] == ["K1", "K2", "K3", "K4"]


def test_plan_check_asks_kolada_nothing_when_every_indicator_has_an_id_or_no_title(
        srv, tiny_tables, write_tables, tmp_path: Path) -> None:
    result = plan_check(str(write_tables(tiny_tables)), "--json", "--kolada-url", srv.url,
                        "--cache-dir", str(tmp_path / "c"))
    assert result.exit_code == 0
    assert "kolada_forslag" not in json.loads(result.output)
    assert srv.request_count == 0
