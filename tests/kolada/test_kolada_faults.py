"""A faulty Kolada, acted out by the stand-in on 127.0.0.1: every fault ends in a
Swedish KoladaUnavailable within the deadline, and nothing bad is cached or returned.

Deadlines are checked by outcome and request counts (the drip and silent servers
would take minutes or for ever to answer), never by measuring wall time.
"""

from __future__ import annotations

import json
import math
import tracemalloc
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from conftest import no_network
from xlplan.core.errors import BadInput, KoladaUnavailable
from xlplan.kolada import KoladaCache, KoladaClient, KoladaStandin, Revision
from xlplan.kolada.cache import CacheUnavailable
from xlplan.kolada.client import DEFAULT_DEADLINE, ENV_DEADLINE, resolve_deadline
from xlplan.kolada.standin_data import STANDIN_GROUP_ID, STANDIN_GROUP_TITLE

ASK = (["U21468"], ["1489"], [2022])
T1 = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)


class Clock:
    """A monotonic clock that moves only when told to (by sleeps or requests)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds




# ---------------------------------------------------------------- the deadline


def test_dripping_server_ends_at_the_deadline() -> None:
    # One byte a second: httpx's read time-out never fires; the deadline does.
    with KoladaStandin(fail="drip", drip_interval=1.0) as srv:
        with KoladaClient(base_url=srv.url, deadline=1.5) as c:
            with pytest.raises(KoladaUnavailable, match=r"inte inom tidsgränsen 1,5 s") as info:
                c.fetch_values(*ASK)
            assert c.request_count == 1  # no retry once the time is up
        full = len(json.dumps(srv.answer("/v3/kpi/U21468?per_page=5000")[1]).encode())
        assert srv.bytes_sent < full  # the answer was never read to the end
    assert "XLPLAN_KOLADA_DEADLINE" in str(info.value) and "/kpi/U21468" in str(info.value)
    assert info.value.__cause__ is not None


def test_silent_server_is_bounded_by_the_deadline_not_by_retries() -> None:
    # timeout 30 s x 4 attempts + back-off used to be ~125 s; the deadline ends it.
    lines: list[str] = []
    with KoladaStandin(fail="silent") as srv:
        with KoladaClient(base_url=srv.url, deadline=1.0, timeout=30.0, progress=lines.append) as c:
            with pytest.raises(KoladaUnavailable, match=r"inte inom tidsgränsen 1 s .*inget svar") as info:
                c.kpi_metadata(["U21468"])
            assert c.request_count == srv.request_count == 1
    assert isinstance(info.value.__cause__, httpx.TimeoutException)
    assert lines == ["Hämtar från Kolada: nyckeltal (sida 1)…"]


def test_deadline_covers_back_off() -> None:
    clock = Clock()
    with KoladaStandin(fail="500") as srv:
        with KoladaClient(base_url=srv.url, deadline=20.0, max_retries=10, backoff=5.0,
                          clock=clock, sleep=clock.sleep) as c:
            with pytest.raises(KoladaUnavailable, match=r"tidsgränsen 20 s .*HTTP 500") as info:
                c.kpi_metadata(["U21468"])
            assert c.request_count == srv.request_count == 3
    assert clock.sleeps == [5.0, 10.0]  # the next wait (20 s) would pass the deadline
    assert isinstance(info.value.__cause__, httpx.HTTPStatusError)


def test_deadline_covers_all_pages(srv: KoladaStandin) -> None:
    clock = Clock()

    def ten_seconds_per_request(line: str) -> None:
        if line.startswith("Hämtar"):
            clock.now += 10.0

    with KoladaClient(base_url=srv.url, deadline=35, per_page=2, clock=clock,
                      progress=ten_seconds_per_request) as c:
        with pytest.raises(KoladaUnavailable, match="tidsgränsen 35 s"):
            c.fetch_values(["U21468", "U23471"], ["0000", "0580", "0581", "1489"], list(range(2015, 2023)))
        assert c.request_count == 4  # metadata + 3 pages; the 4th page started after the deadline
    with KoladaClient(base_url=srv.url, deadline=600, per_page=2, clock=clock,
                      progress=ten_seconds_per_request) as c:
        c.fetch_values(["U21468", "U23471"], ["0000", "0580", "0581", "1489"], list(range(2015, 2023)))
        assert c.request_count > 10  # with time enough, every page is fetched


def test_one_deadline_for_a_block_of_calls(srv: KoladaStandin) -> None:
    clock = Clock()
    with KoladaClient(base_url=srv.url, deadline=25, clock=clock,
                      progress=lambda line: setattr(clock, "now", clock.now + 10.0)) as c:
        with c.within_deadline():
            assert c.municipality_groups("Alingsås")  # 10 s
            c.kpi_metadata(["U21468"])  # 20 s
            with pytest.raises(KoladaUnavailable, match="tidsgränsen 25 s"):
                c.fetch_values(*ASK)  # its first request ends at 30 s, past the deadline
        assert c.request_count == 3
        clock.now = 1000.0
        assert len(c.fetch_values(*ASK)) == 3  # a new call, a new deadline


def test_retry_after_longer_than_the_deadline_gives_up_at_once() -> None:
    clock = Clock()
    with KoladaStandin(fail="retry_after", retry_after="3600") as srv:
        with KoladaClient(base_url=srv.url, clock=clock, sleep=clock.sleep, now=lambda: T1) as c:
            with pytest.raises(KoladaUnavailable) as info:
                c.kpi_metadata(["U21468"])
            assert c.request_count == srv.request_count == 1
    assert clock.sleeps == []
    when = (T1 + timedelta(hours=1)).astimezone().strftime("%H:%M")
    msg = str(info.value)
    assert msg.startswith("Kolada ber att få vänta 60 min innan nästa fråga")
    assert f"Försök igen efter kl. {when}" in msg and "tidsgränsen 60 s" in msg


def test_retry_after_as_a_date() -> None:
    clock = Clock()
    later = T1 + timedelta(hours=3)
    with KoladaStandin(fail="retry_after", retry_after=format_datetime(later, usegmt=True)) as srv:
        with KoladaClient(base_url=srv.url, clock=clock, sleep=clock.sleep, now=lambda: T1) as c:
            with pytest.raises(KoladaUnavailable, match="3 timmar") as info:
                c.kpi_metadata(["U21468"])
    assert f"kl. {later.astimezone().strftime('%H:%M')}" in str(info.value)
    assert clock.sleeps == []


def test_short_retry_after_is_honoured_within_the_deadline() -> None:
    clock = Clock()
    with KoladaStandin(fail="retry_after", fail_times=1, retry_after="5") as srv:
        with KoladaClient(base_url=srv.url, deadline=10, clock=clock, sleep=clock.sleep) as c:
            assert "U21468" in c.kpi_metadata(["U21468"])
    assert clock.sleeps == [5.0]


def test_deadline_setting(monkeypatch: pytest.MonkeyPatch, srv: KoladaStandin) -> None:
    monkeypatch.delenv(ENV_DEADLINE, raising=False)
    assert resolve_deadline() == DEFAULT_DEADLINE == 60.0
    monkeypatch.setenv(ENV_DEADLINE, "2,5")
    assert resolve_deadline() == 2.5 and KoladaClient(base_url=srv.url).deadline == 2.5
    assert KoladaClient(base_url=srv.url, deadline=7).deadline == 7.0  # the argument wins
    monkeypatch.setenv(ENV_DEADLINE, "en minut")
    with pytest.raises(BadInput, match="XLPLAN_KOLADA_DEADLINE.*'en minut'"):
        KoladaClient(base_url=srv.url)
    for bad in (0, -1, math.inf, math.nan):
        with pytest.raises(BadInput, match="Tidsgränsen för Kolada"):
            resolve_deadline(bad)


# ---------------------------------------------------------------- size


def test_streamed_answer_over_the_cap_is_refused_without_reading_it_all(tmp_path: Path) -> None:
    cap = 1024 * 1024
    with KoladaStandin(fail="huge", huge_bytes=90 * 1024 * 1024) as srv:
        with KoladaClient(base_url=srv.url, max_bytes=cap, cache=KoladaCache(tmp_path)) as c:
            tracemalloc.start()
            try:
                with pytest.raises(KoladaUnavailable, match=r"större än 1 MB .*hämtningen avbröts"):
                    c.kpi_metadata(["U21468"])
                _, peak = tracemalloc.get_traced_memory()
            finally:
                tracemalloc.stop()
            assert c.request_count == 1  # a too large answer is not asked again
        assert srv.bytes_sent < 30 * 1024 * 1024  # the server stopped when the client did
    assert peak < 10 * cap  # memory follows the cap, not the 90 MB body
    assert list(tmp_path.iterdir()) == []


def test_declared_length_over_the_cap_is_refused_before_reading() -> None:
    with KoladaStandin(fail="huge_declared", huge_bytes=90 * 1024 * 1024) as srv:
        with KoladaClient(base_url=srv.url, max_bytes=1024 * 1024) as c:
            with pytest.raises(KoladaUnavailable, match=r"större än 1 MB \(.*, 90 MB enligt servern\)"):
                c.kpi_metadata(["U21468"])


def test_default_cap_and_bad_cap(srv: KoladaStandin) -> None:
    assert KoladaClient(base_url=srv.url).max_bytes == 20 * 1024 * 1024
    with pytest.raises(BadInput, match="max_bytes"):
        KoladaClient(base_url=srv.url, max_bytes=0)


# ---------------------------------------------------------------- numbers that are not numbers


@pytest.mark.parametrize(("fail", "literal"), [("nan", "NaN"), ("infinity", "Infinity"), ("exponent", "1e999")])
def test_non_finite_values_reject_the_answer_and_are_not_cached(tmp_path: Path, fail: str, literal: str) -> None:
    with KoladaStandin(fail=fail) as srv:
        with KoladaClient(base_url=srv.url, cache=KoladaCache(tmp_path)) as c:
            with pytest.raises(KoladaUnavailable, match=rf"ogiltigt tal \({literal}\) från .*/data/kpi/U21468") as info:
                c.fetch_values(*ASK)
            assert c.request_count == 2  # metadata (no values in it) + data; not retried
    assert isinstance(info.value.__cause__, ValueError)
    cached = [p.read_text(encoding="utf-8") for p in tmp_path.glob("*.json")]
    assert len(cached) == 1 and "/kpi/U21468" in cached[0]  # only the metadata
    assert not any(word in text for text in cached for word in ("NaN", "Infinity", "1e999"))


@pytest.mark.parametrize("bad", [float("nan"), float("-inf"), 10**400])
def test_non_finite_value_in_the_data_is_a_source_error(srv: KoladaStandin, bad: float) -> None:
    srv.data.set_value("U21468", "1489", 2022, "K", bad)  # served as NaN, -Infinity, 1000…0
    with KoladaClient(base_url=srv.url) as c:
        with pytest.raises(KoladaUnavailable, match="ogiltigt tal"):
            c.fetch_values(*ASK)


def test_nan_in_an_old_cache_entry_is_never_returned(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with KoladaClient(base_url=srv.url, cache=cache) as c:
        c.fetch_values(*ASK)
        (key,) = c.data_keys(*ASK)
    path = cache.path_for(key)
    path.write_text(path.read_text(encoding="utf-8").replace("94.0", "NaN", 1), encoding="utf-8")
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        with pytest.raises(KoladaUnavailable, match="är trasig"):
            c.fetch_values(*ASK)


# ---------------------------------------------------------------- every httpx error is Swedish


def test_redirect_loop() -> None:
    with KoladaStandin(fail="redirect_loop") as srv:
        with KoladaClient(base_url=srv.url) as c:
            with pytest.raises(KoladaUnavailable, match="skickar vidare i en slinga") as info:
                c.kpi_metadata(["U21468"])
            assert c.request_count == 1 and srv.request_count == 21  # httpx's 20 redirects, not retried
    assert isinstance(info.value.__cause__, httpx.TooManyRedirects)


def test_undecodable_body() -> None:
    with KoladaStandin(fail="bad_encoding") as srv:
        with KoladaClient(base_url=srv.url) as c:
            with pytest.raises(KoladaUnavailable, match="svaret kunde inte avkodas") as info:
                c.kpi_metadata(["U21468"])
    assert isinstance(info.value.__cause__, httpx.DecodingError)


@pytest.mark.parametrize(
    ("url", "cause", "words"),
    [
        ("htp://127.0.0.1/v3", httpx.UnsupportedProtocol, "ska börja med http:// eller https://"),
        ("127.0.0.1/v3", httpx.UnsupportedProtocol, "ska börja med http:// eller https://"),
        ("http://[::1/v3", httpx.InvalidURL, "adressen är ogiltig"),
    ],
)
def test_bad_base_url(url: str, cause: type[Exception], words: str) -> None:
    with KoladaClient(base_url=url) as c:
        with pytest.raises(KoladaUnavailable, match="Kolada kunde inte nås") as info:
            c.kpi_metadata(["U21468"])
        assert c.request_count == 1
    assert words in str(info.value) and isinstance(info.value.__cause__, cause)


def test_server_closing_without_answer_is_retried_then_swedish() -> None:
    clock = Clock()
    with KoladaStandin(fail="timeout", timeout_delay=0.0) as srv:
        with KoladaClient(base_url=srv.url, max_retries=2, clock=clock, sleep=clock.sleep) as c:
            with pytest.raises(KoladaUnavailable, match="nätverksfel: RemoteProtocolError") as info:
                c.kpi_metadata(["U21468"])
            assert srv.request_count == 3
    assert isinstance(info.value.__cause__, httpx.RemoteProtocolError)


# ---------------------------------------------------------------- progress


def test_progress_lines_before_each_request_and_wait(srv: KoladaStandin) -> None:
    lines: list[str] = []
    clock = Clock()
    srv.set_failure("500", times=1)
    with KoladaClient(base_url=srv.url, per_page=1, progress=lines.append, clock=clock, sleep=clock.sleep) as c:
        c.fetch_values(["U21468"], ["1489", "0000"], [2022])
    assert lines == [
        "Hämtar från Kolada: nyckeltal (sida 1)…",
        "Kolada svarar inte (HTTP 500), försöker igen om 0,5 s…",
        "Hämtar från Kolada: nyckeltal (sida 1), försök 2…",
        "Hämtar från Kolada: värden (sida 1)…",
        "Hämtar från Kolada: värden (sida 2)…",
    ]


# ---------------------------------------------------------------- the cache


def test_offline_finds_values_fetched_through_another_address(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with KoladaClient(base_url=srv.url, cache=cache, per_page=2) as c:
        fresh = c.fetch_values(["U21468"], ["1489", "0000", "0580"], [2022])
    with KoladaClient(no_network(), base_url="https://api.kolada.se/v3", cache=cache, offline=True,
                      per_page=2) as c:
        cached = c.fetch_values(["U21468"], ["1489", "0000", "0580"], [2022])
        assert c.request_count == 0
    assert [(v.key, v.value) for v in cached] == [(v.key, v.value) for v in fresh]
    assert all(v.from_cache for v in cached)


def test_revisions_are_found_across_addresses(tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with KoladaStandin() as first, KoladaClient(base_url=first.url, cache=cache) as c:
        c.fetch_values(*ASK)
    with KoladaStandin() as second:
        assert second.url != first.url
        second.data.set_value("U21468", "1489", 2022, "T", 95.0)
        with KoladaClient(base_url=second.url, cache=cache) as c:
            c.fetch_values(*ASK)
            assert c.last_revisions == [Revision("U21468", "1489", 2022, "T", old=94.0, new=95.0)]


def test_cache_folder_that_is_a_file(srv: KoladaStandin, tmp_path: Path) -> None:
    folder = tmp_path / "cache"
    folder.write_text("inte en mapp", encoding="utf-8")
    lines: list[str] = []
    with KoladaClient(base_url=srv.url, cache=KoladaCache(folder), progress=lines.append) as c:
        values = c.fetch_values(*ASK)  # online: the values still come, uncached
        assert len(values) == 3
        assert len(c.warnings) == 1 and c.warnings[0] in lines
    assert "är en fil, inte en mapp" in c.warnings[0] and "--cache-dir" in c.warnings[0]
    assert folder.read_text(encoding="utf-8") == "inte en mapp"
    with KoladaClient(no_network(), base_url=srv.url, cache=KoladaCache(folder), offline=True) as c:
        with pytest.raises(CacheUnavailable, match="är en fil, inte en mapp"):
            c.fetch_values(*ASK)


def test_cache_folder_below_a_file(srv: KoladaStandin, tmp_path: Path) -> None:
    (tmp_path / "fil").write_text("x", encoding="utf-8")
    cache = KoladaCache(tmp_path / "fil" / "kolada")
    with KoladaClient(base_url=srv.url, cache=cache) as c:
        assert len(c.fetch_values(*ASK)) == 3
        assert len(c.warnings) == 1 and f"{tmp_path / 'fil'} är en fil" in c.warnings[0]
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        with pytest.raises(KoladaUnavailable, match="är en fil, inte en mapp"):
            c.fetch_values(*ASK)


# ---------------------------------------------------------------- the comparison group fails softly


def test_group_lookup_failure_can_be_caught_and_the_fetch_goes_on(srv: KoladaStandin) -> None:
    srv.set_failure("500", times=4)  # the group lookup: 1 + 3 retries
    clock = Clock()
    with KoladaClient(base_url=srv.url, clock=clock, sleep=clock.sleep) as c:
        with c.within_deadline():
            with pytest.raises(KoladaUnavailable) as info:
                c.municipality_groups("Alingsås")
            assert len(c.fetch_values(*ASK)) == 3
    assert str(info.value).startswith("Jämförelsegruppen 'Alingsås' (Liknande kommuner) kunde inte slås upp")
    assert isinstance(info.value.__cause__, KoladaUnavailable)


def test_group_lookup_uses_the_cached_answer_when_kolada_fails(srv: KoladaStandin, tmp_path: Path) -> None:
    cache = KoladaCache(tmp_path)
    with KoladaClient(base_url=srv.url, cache=cache) as c:
        (group,) = c.municipality_groups("Alingsås")
        assert c.municipality_group(STANDIN_GROUP_ID) == group
    srv.set_failure("500")
    clock = Clock()
    with KoladaClient(base_url=srv.url, cache=cache, clock=clock, sleep=clock.sleep) as c:
        assert c.municipality_groups("Alingsås") == [group]
        assert c.municipality_group(STANDIN_GROUP_ID) == group
        assert group.title == STANDIN_GROUP_TITLE
        assert len(c.warnings) == 2 and "de sparade uppgifterna i cachen används" in c.warnings[0]
        with pytest.raises(KoladaUnavailable, match="Jämförelsegruppen 'Borås'"):
            c.municipality_groups("Borås")  # nothing cached for this lookup


def test_cache_folder_not_writable(srv: KoladaStandin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A folder the user may not write to (tests run as root, who may write anywhere: the refusal is
    made by the operating system's call, as it would be for a user)."""
    import xlplan.kolada.cache as cache_module

    folder = tmp_path / "cache"
    folder.mkdir()

    def refuse(path: Any, data: bytes, backup: bool = False) -> None:
        raise PermissionError(13, "Permission denied", str(path))

    monkeypatch.setattr(cache_module, "write_bytes_atomic", refuse)
    with KoladaClient(base_url=srv.url, cache=KoladaCache(folder)) as c:
        assert len(c.fetch_values(*ASK)) == 3
        assert len(c.warnings) == 1 and f"Cachemappen {folder} kan inte skrivas" in c.warnings[0]
    assert list(folder.iterdir()) == []


def test_cache_folder_below_a_device(srv: KoladaStandin) -> None:
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null here")
    cache = KoladaCache("/dev/null/kolada")
    with KoladaClient(base_url=srv.url, cache=cache) as c:
        assert len(c.fetch_values(*ASK)) == 3
        assert len(c.warnings) == 1 and "/dev/null är en fil, inte en mapp" in c.warnings[0]
    with KoladaClient(no_network(), base_url=srv.url, cache=cache, offline=True) as c:
        with pytest.raises(CacheUnavailable, match="/dev/null är en fil, inte en mapp"):
            c.fetch_values(*ASK)
