"""On-disk cache: offline hits and misses, revisions between extractions."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from conftest import no_network
from xlplan.core.errors import KoladaUnavailable
from xlplan.kolada import KoladaCache, KoladaClient, KoladaStandin, Revision
from xlplan.kolada.cache import default_cache_folder, page_key

KPIS = ["U21468", "U23401"]
UNITS = ["1489", "0000"]
YEARS = [2020, 2021, 2022, 2024]
T1 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
T2 = datetime(2026, 9, 1, 12, 0, tzinfo=timezone.utc)




def online(srv: KoladaStandin, cache: KoladaCache, now: datetime = T1, **kw: object) -> KoladaClient:
    return KoladaClient(base_url=srv.url, cache=cache, now=lambda: now, sleep=lambda s: None, **kw)  # type: ignore[arg-type]


def test_offline_reads_what_online_cached(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        fresh = c.fetch(KPIS, UNITS, YEARS)
    assert len(list(tmp_path.glob("*.json"))) == 2  # metadata + data
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        cached = c.fetch(KPIS, UNITS, YEARS)
        assert c.request_count == 0
    assert [v.key for v in cached.values] == [v.key for v in fresh.values]
    assert [v.value for v in cached.values] == [v.value for v in fresh.values]
    assert all(v.from_cache and v.fetched_at == T1 for v in cached.values)
    assert not any(v.from_cache for v in fresh.values)
    assert cached.metadata == fresh.metadata


def test_offline_replays_every_cached_page(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache, per_page=4) as c:
        fresh = c.fetch_values(KPIS, UNITS, YEARS)
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True, per_page=4) as c:
        assert [v.key for v in c.fetch_values(KPIS, UNITS, YEARS)] == [v.key for v in fresh]


def test_offline_miss_says_not_in_cache(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        c.fetch_values(KPIS, UNITS, YEARS)
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        with pytest.raises(KoladaUnavailable, match="finns inte i cachen") as info:
            c.fetch_values(KPIS, UNITS, [2023])
    assert "/year/2023" in str(info.value) and str(tmp_path) in str(info.value)


def test_revisions_between_extractions(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache, now=T1) as c:
        first = c.fetch(KPIS, UNITS, YEARS)
    assert first.revisions == []  # nothing to compare with
    srv.data.set_value("U21468", "1489", 2022, "T", 95.0)  # revised
    srv.data.remove_row("U23401", "1489", 2021)  # withdrawn
    srv.data.set_value("U21468", "1489", 2024, "T", 90.0)  # newly published: no revision
    with online(srv, cache, now=T2) as c:
        second = c.fetch(KPIS, UNITS, YEARS)
        assert c.last_revisions == second.revisions
    assert sorted(second.revisions, key=str) == [
        Revision("U21468", "1489", 2022, "T", old=94.0, new=95.0),
        Revision("U23401", "1489", 2021, "K", old=50.0, new=None),
        Revision("U23401", "1489", 2021, "M", old=47.0, new=None),
        Revision("U23401", "1489", 2021, "T", old=49.0, new=None),
    ]
    assert str(Revision("U23401", "1489", 2021, "T", 49.0, None)) == "U23401 1489 2021 T: 49 -> saknas"
    with online(srv, cache, now=T2) as c:
        assert c.fetch(KPIS, UNITS, YEARS).revisions == []  # cache now holds the new values


def test_deleted_value_is_a_revision_to_none(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        c.fetch_values(["U21468"], ["0000"], [2022])
    srv.data.set_value("U21468", "0000", 2022, "K", 85.0, isdeleted=True)
    with online(srv, cache) as c:
        c.fetch_values(["U21468"], ["0000"], [2022])
        assert c.last_revisions == [Revision("U21468", "0000", 2022, "K", 85.0, None)]


def test_revisions_across_pages(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    years = list(range(2012, 2023))
    with online(srv, cache, per_page=3) as c:
        c.fetch_values(KPIS, UNITS, years)
    srv.data.set_value("U23401", "1489", 2022, "M", 80.0)  # on a late page
    with online(srv, cache, per_page=3) as c:
        c.fetch_values(KPIS, UNITS, years)
        assert c.last_revisions == [Revision("U23401", "1489", 2022, "M", 78.0, 80.0)]


def test_empty_answer_after_values_reports_them_all_removed(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        before = c.fetch_values(["U21468"], ["1489"], [2022])
    srv.set_failure("empty")
    with online(srv, cache) as c:
        assert c.fetch_values(["U21468"], ["1489"], [2022]) == []
        assert {(r.gender, r.old, r.new) for r in c.last_revisions} == {
            (v.gender, v.value, None) for v in before
        }


def test_corrupt_entry(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        (url,) = c.data_urls(["U21468"], ["1489"], [2022])
        (key,) = c.data_keys(["U21468"], ["1489"], [2022])
        c.fetch_values(["U21468"], ["1489"], [2022])
    cache.path_for(key).write_text("{ trasig", encoding="utf-8")
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        with pytest.raises(KoladaUnavailable, match="är trasig"):
            c.fetch_values(["U21468"], ["1489"], [2022])
    with online(srv, cache) as c:  # online: no comparison possible, entry rewritten
        assert len(c.fetch_values(["U21468"], ["1489"], [2022])) == 3
        assert c.last_revisions == []
    doc = json.loads(cache.path_for(key).read_text(encoding="utf-8"))
    assert (doc["request"], doc["url"]) == (key, url)


def test_cache_file_layout(tmp_path: Path) -> None:
    # Keyed by the request (path and query below the base URL) and page, not by the host.
    cache = KoladaCache(tmp_path)
    key = "/kpi/U1?per_page=5000"
    path = cache.put(key, {"values": [], "count": 0}, T1, url="http://x/v3/kpi/U1?per_page=5000")
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc == {"request": key, "url": "http://x/v3/kpi/U1?per_page=5000", "fetched_at": T1.isoformat(),
                   "response": {"values": [], "count": 0}}
    assert cache.get(key).fetched_at == T1  # type: ignore[union-attr]
    assert cache.get("/kpi/U2?per_page=5000") is None
    assert path.parent == tmp_path and len(path.stem) == 64
    assert page_key(key, 1) == key and page_key(key, 2) == key + "#page=2"
    assert cache.path_for(page_key(key, 2)) != path


def test_old_url_keyed_entries_are_still_read(srv: KoladaStandin, tmp_path: Path) -> None:
    # Caches written before the request key: {"url", "fetched_at", "response"} named by the URL.
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        fresh = c.fetch_values(["U21468"], ["1489"], [2022])
        urls = [c.data_urls(["U21468"], ["1489"], [2022])[0], f"{srv.url}/kpi/U21468?per_page=5000"]
        keys = [c.data_keys(["U21468"], ["1489"], [2022])[0], "/kpi/U21468?per_page=5000"]
    for url, key in zip(urls, keys):
        doc = json.loads(cache.path_for(key).read_text(encoding="utf-8"))
        cache.path_for(key).unlink()
        legacy = {"url": url, "fetched_at": doc["fetched_at"], "response": doc["response"]}
        cache.path_for(url).write_text(json.dumps(legacy), encoding="utf-8")
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        assert [v.value for v in c.fetch_values(["U21468"], ["1489"], [2022])] == [v.value for v in fresh]


def test_default_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XLPLAN_CACHE_DIR", str(tmp_path))
    assert default_cache_folder() == tmp_path / "kolada"
    assert KoladaCache().folder == tmp_path / "kolada"
    monkeypatch.delenv("XLPLAN_CACHE_DIR")
    assert default_cache_folder() == Path.home() / ".cache" / "xlplan" / "kolada"


def test_a_recent_answer_is_reused_without_asking_kolada(srv: KoladaStandin, tmp_path: Path) -> None:
    """``fresh``: an answer cached less than that many seconds ago is used as it is (the ribbon's
    Hämta värden pressed again); an older one, or fresh=0 (the CLI), asks Kolada again."""
    cache = KoladaCache(tmp_path)
    with online(srv, cache) as c:
        first = c.fetch(KPIS, UNITS, YEARS)
        assert c.request_count == 2
    later = T1 + timedelta(minutes=5)
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, now=lambda: later, fresh=600) as c:
        again = c.fetch(KPIS, UNITS, YEARS)
        assert c.request_count == 0
    assert [(v.key, v.value) for v in again.values] == [(v.key, v.value) for v in first.values]
    assert all(v.from_cache and v.fetched_at == T1 for v in again.values) and again.revisions == []
    for client_now, fresh in ((T1 + timedelta(minutes=11), 600), (later, 0)):
        with online(srv, cache, now=client_now, fresh=fresh) as c:
            c.fetch(KPIS, UNITS, YEARS)
            assert c.request_count == 2, (client_now, fresh)


def test_httpx_is_imported_only_for_a_request(srv: KoladaStandin, tmp_path: Path) -> None:
    import subprocess
    import sys

    with online(srv, KoladaCache(tmp_path), now=datetime.now(timezone.utc)) as c:
        c.fetch(KPIS, UNITS, YEARS)
    code = ("import sys\nfrom xlplan.kolada import KoladaCache, KoladaClient\n"
            f"c = KoladaClient(base_url={srv.url!r}, cache=KoladaCache({str(tmp_path)!r}), fresh=600)\n"
            f"values = c.fetch({KPIS!r}, {UNITS!r}, {YEARS!r}).values\n"
            "print(len(values), c.request_count, 'httpx' in sys.modules)\n"
            f"c.fresh = 0\nc.fetch({KPIS!r}, {UNITS!r}, {YEARS!r})\nprint(c.request_count, 'httpx' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    hit, miss = out.stdout.split("\n")[:2]
    count, requests, loaded = hit.split()
    assert int(count) > 0 and (requests, loaded) == ("0", "False")
    assert miss == "2 True"
