"""KoladaClient over real HTTP against the local stand-in on 127.0.0.1."""

from __future__ import annotations

import math
from datetime import datetime, timezone

import httpx
import pytest

from xlplan.core.errors import BadInput, KoladaUnavailable
from xlplan.kolada import KoladaClient, KoladaStandin
from xlplan.kolada.client import DEFAULT_BASE_URL, ENV_BASE_URL, resolve_base_url
from xlplan.kolada.standin_data import STANDIN_GROUP_ID

SAMPLE_KPIS = ["U21468", "U23471", "U23516", "U23401", "U28524", "U28528", "U28535", "N00640"]



class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_client(srv: KoladaStandin, **kw: object) -> KoladaClient:
    kw.setdefault("sleep", Sleeps())
    return KoladaClient(base_url=srv.url, **kw)  # type: ignore[arg-type]


def data_paths(srv: KoladaStandin) -> list[str]:
    return [p for p in srv.paths if p.startswith("/v3/data/")]


def by_key(values):  # type: ignore[no-untyped-def]
    return {v.key: v for v in values}


def test_real_sample_values_with_genders(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        values = by_key(c.fetch_values(["U21468"], ["0000", "0580", "0581", "1489"], [2022]))
    totals = {m: values[("U21468", m, 2022, "T")].value for m in ["0000", "0580", "0581", "1489"]}
    assert totals == {"0000": 86.0, "0580": 87.0, "0581": 83.0, "1489": 94.0}
    assert values[("U21468", "1489", 2022, "K")].value == 94.0
    assert values[("U21468", "1489", 2022, "M")].value == 95.0
    assert {v.gender for v in values.values()} == {"T", "K", "M"}
    assert all(not v.from_cache and v.fetched_at is not None for v in values.values())


def test_missing_years_give_no_rows_and_nulls_are_kept(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        values = by_key(c.fetch_values(["U21468", "U28524"], ["0000", "1489"], [2021, 2022, 2024]))
    assert {k[2] for k in values if k[0] == "U21468"} == {2022}  # no survey in 2021
    assert {k[2] for k in values if k[0] == "U28524"} == {2021, 2022}  # samples end 2022
    riket = values[("U28524", "0000", 2022, "T")]
    assert riket.value is None and riket.status == "" and riket.isdeleted is False


def test_thirty_kpis_are_split_into_two_requests(srv: KoladaStandin) -> None:
    kpis = SAMPLE_KPIS + [f"U9{i:04d}" for i in range(22)]
    with make_client(srv) as c:
        values = c.fetch_values(kpis, ["1489"], [2022])
    paths = data_paths(srv)
    assert len(paths) == 2
    seg = [p.split("/data/kpi/")[1].split("/")[0].split(",") for p in paths]
    assert [len(s) for s in seg] == [25, 5]
    assert {v.kpi for v in values} == set(SAMPLE_KPIS)


def test_every_dimension_is_chunked(srv: KoladaStandin) -> None:
    kpis = [f"U8{i:04d}" for i in range(26)]
    units = [f"{i:04d}" for i in range(1, 27)]
    years = list(range(1990, 2016))
    with make_client(srv) as c:
        c.fetch_values(kpis, units, years)
    paths = data_paths(srv)
    assert len(paths) == 8  # 2 x 2 x 2 chunk combinations
    segments = [p.split("?")[0].split("/")[4::2] for p in paths]
    assert {tuple(len(s.split(",")) for s in segs) for segs in segments} == {
        (a, b, c) for a in (25, 1) for b in (25, 1) for c in (25, 1)
    }


def test_paging_follows_next_url(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        all_at_once = c.fetch_values(SAMPLE_KPIS, ["0000", "1489"], list(range(2010, 2023)))
    n_rows = len({(v.kpi, v.municipality, v.period) for v in all_at_once})
    srv.paths.clear()
    with make_client(srv, per_page=7) as c:
        paged = c.fetch_values(SAMPLE_KPIS, ["0000", "1489"], list(range(2010, 2023)))
    pages = data_paths(srv)
    assert len(pages) == math.ceil(n_rows / 7) > 3
    assert "page=2" in pages[1] and "per_page=7" in pages[1]
    assert [v.key for v in paged] == [v.key for v in all_at_once]


def test_retries_on_500_then_succeeds(srv: KoladaStandin) -> None:
    srv.set_failure("500", times=2)
    sleeps = Sleeps()
    with make_client(srv, sleep=sleeps, backoff=0.5) as c:
        values = c.fetch_values(["U21468"], ["1489"], [2022])
        assert c.request_count == 4  # metadata: 2 failures + 1; data: 1
    assert sleeps == [0.5, 1.0]
    assert len(values) == 3


def test_retries_on_429_honour_retry_after(srv: KoladaStandin) -> None:
    srv.set_failure("429", times=1)
    sleeps = Sleeps()
    with make_client(srv, sleep=sleeps, backoff=0.1) as c:
        assert c.kpi_metadata(["U21468"])["U21468"].title.startswith("Brukarbedömning")
    assert sleeps == [1.0]


def test_bounded_retries_then_swedish_error(srv: KoladaStandin) -> None:
    srv.set_failure("500")
    sleeps = Sleeps()
    with make_client(srv, sleep=sleeps, max_retries=3) as c:
        with pytest.raises(KoladaUnavailable) as info:
            c.kpi_metadata(["U21468"])
        assert c.request_count == 4
    msg = str(info.value)
    assert msg.startswith(f"Kolada svarar inte: {srv.url}/kpi/U21468?per_page=5000 (HTTP 500;")
    assert "gav upp efter 4 försök" in msg
    assert isinstance(info.value.__cause__, httpx.HTTPStatusError)
    assert sleeps == [0.5, 1.0, 2.0]


def test_timeout_is_retried_then_reported() -> None:
    with KoladaStandin(fail="timeout", timeout_delay=3.0) as srv:
        with make_client(srv, timeout=0.2, max_retries=1) as c:
            with pytest.raises(KoladaUnavailable, match=r"inget svar inom 0,2 s") as info:
                c.fetch_values(["U21468"], ["1489"], [2022])
            assert c.request_count == 2
    assert isinstance(info.value.__cause__, httpx.TimeoutException)


def test_timeout_once_then_success() -> None:
    with KoladaStandin(fail="timeout", fail_times=1, timeout_delay=3.0) as srv:
        with make_client(srv, timeout=0.3) as c:
            assert len(c.fetch_values(["U21468"], ["1489"], [2022])) == 3


def test_malformed_json_is_not_retried(srv: KoladaStandin) -> None:
    srv.set_failure("malformed")
    with make_client(srv) as c:
        with pytest.raises(KoladaUnavailable, match="inte är giltig JSON från http://127.0.0.1") as info:
            c.fetch_values(["U21468"], ["1489"], [2022])
        assert c.request_count == 1
    assert isinstance(info.value.__cause__, ValueError)


def test_empty_answer_gives_no_values(srv: KoladaStandin) -> None:
    srv.set_failure("empty")
    with make_client(srv) as c:
        result = c.fetch(["U21468"], ["1489"], [2022])
    assert result.values == [] and result.metadata == {}


def test_connection_refused_is_retried_then_reported() -> None:
    with KoladaStandin() as srv:
        url = srv.url
    sleeps = Sleeps()
    with KoladaClient(base_url=url, sleep=sleeps, max_retries=2) as c:
        with pytest.raises(KoladaUnavailable, match="nätverksfel: ConnectError") as info:
            c.kpi_metadata(["U21468"])
    assert len(sleeps) == 2
    assert isinstance(info.value.__cause__, httpx.ConnectError)


def test_status_and_isdeleted_are_kept(srv: KoladaStandin) -> None:
    srv.data.set_value("U21468", "1489", 2022, "T", None, status="X", isdeleted=True)
    with make_client(srv) as c:
        v = by_key(c.fetch_values(["U21468"], ["1489"], [2022]))[("U21468", "1489", 2022, "T")]
    assert (v.value, v.status, v.isdeleted) == (None, "X", True)


def test_group_is_unweighted_mean_of_members(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        (group,) = c.municipality_groups("äldreomsorg, Alingsås")
        assert group.id == STANDIN_GROUP_ID and group.title.startswith("Liknande kommuner")
        assert group.member_ids == ["0580", "0581"]
        values = by_key(c.fetch_values(["U21468", "U23401"], [group.id], [2022]))
    both = values[("U21468", group.id, 2022, "T")]
    assert (both.value, both.count) == ((87.0 + 83.0) / 2, 2)
    only_linkoping = values[("U23401", group.id, 2022, "T")]  # Norrköping has no row
    assert (only_linkoping.value, only_linkoping.count) == (53.0, 1)


def test_municipality_group_by_id(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        assert c.municipality_group(STANDIN_GROUP_ID).title.endswith("Alingsås, 2024")  # type: ignore[union-attr]
        assert c.municipality_group("G1") is None


def test_kpi_metadata_fields(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        meta = c.kpi_metadata(["U23401", "U21468", "U00413"])
    assert set(meta) == {"U23401", "U21468"}
    u = meta["U23401"]
    assert u.operating_area == "Kommunen, övergripande,Särskilt boende,Äldre och funktionshindrade"
    assert u.is_divided_by_gender is True and u.publication_date is None and u.publ_period is None
    assert meta["U21468"].publ_period == 2024
    assert str(meta["U21468"].publication_date) == "2024-10-04"
    assert meta["U21468"].prel_publication_date is None


def test_preliminary_from_metadata(srv: KoladaStandin) -> None:
    srv.data.update_kpi("U21468", prel_publication_date="2022-04-01",
                        publication_date="2022-10-04", publ_period="2022")
    june = datetime(2022, 6, 1, tzinfo=timezone.utc)
    with make_client(srv, now=lambda: june) as c:
        values = c.fetch_values(["U21468", "U23471"], ["1489"], [2020, 2022])
    prel = {(v.kpi, v.period) for v in values if v.preliminary}
    assert prel == {("U21468", 2022)}
    november = datetime(2022, 11, 1, tzinfo=timezone.utc)
    with make_client(srv, now=lambda: november) as c:
        assert not any(v.preliminary for v in c.fetch_values(["U21468"], ["1489"], [2022]))


def test_bad_arguments_are_refused_before_any_request(srv: KoladaStandin) -> None:
    with make_client(srv) as c:
        with pytest.raises(BadInput, match="Ogiltigt id för kommun/grupp"):
            c.fetch_values(["U21468"], ["14/89"], [2022])
        with pytest.raises(BadInput, match="Ange minst ett år"):
            c.fetch_values(["U21468"], ["1489"], [])
        with pytest.raises(BadInput, match="Ogiltigt år"):
            c.fetch_values(["U21468"], ["1489"], ["2022"])  # type: ignore[list-item]
    assert srv.request_count == 0
    with pytest.raises(BadInput, match="per_page"):
        KoladaClient(base_url=srv.url, per_page=5001)


def test_base_url_resolution(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV_BASE_URL, raising=False)
    assert resolve_base_url() == DEFAULT_BASE_URL == "https://api.kolada.se/v3"
    monkeypatch.setenv(ENV_BASE_URL, "http://localhost:1/v3/")
    assert resolve_base_url() == "http://localhost:1/v3"
    assert resolve_base_url("http://example.test/v3") == "http://example.test/v3"
    with KoladaClient() as c:
        assert c.base_url == "http://localhost:1/v3"
