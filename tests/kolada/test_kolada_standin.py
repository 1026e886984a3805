"""The stand-in server itself, spoken to with plain httpx."""

from __future__ import annotations

import time

import httpx
import pytest

from xlplan.kolada import KoladaStandin
from xlplan.kolada.standin_data import SAMPLES_DIR, STANDIN_GROUP_ID


def get(url: str) -> httpx.Response:
    return httpx.get(url, timeout=5)


def test_url_and_request_log(srv: KoladaStandin) -> None:
    assert srv.url.startswith("http://127.0.0.1:") and srv.url.endswith("/v3")
    get(f"{srv.url}/municipality/1489")
    get(f"{srv.url}/kpi?title=LSS")
    assert srv.request_count == 2
    assert srv.paths == ["/v3/municipality/1489", "/v3/kpi?title=LSS"]


def test_data_row_shape(srv: KoladaStandin) -> None:
    body = get(f"{srv.url}/data/kpi/U21468/municipality/1489/year/2022").json()
    assert body == {
        "count": 1,
        "next_url": None,
        "previous_url": None,
        "values": [{"kpi": "U21468", "municipality": "1489", "period": 2022, "values": [
            {"gender": "T", "count": 1, "status": "", "value": 94.0, "isdeleted": False},
            {"gender": "K", "count": 1, "status": "", "value": 94.0, "isdeleted": False},
            {"gender": "M", "count": 1, "status": "", "value": 95.0, "isdeleted": False},
        ]}],
    }


def test_two_dimension_forms(srv: KoladaStandin) -> None:
    by_year = get(f"{srv.url}/data/kpi/U21468/year/2022").json()["values"]
    assert {r["municipality"] for r in by_year} == {"0000", "0580", "0581", "1489", STANDIN_GROUP_ID}
    by_unit = get(f"{srv.url}/data/kpi/U21468/municipality/1489").json()["values"]
    assert [r["period"] for r in by_unit] == [*range(2012, 2021), 2022]
    by_unit_year = get(f"{srv.url}/data/municipality/1489/year/2022").json()["values"]
    assert {r["kpi"] for r in by_unit_year} == {"U21468", "U23471", "U23516", "U23401",
                                                "U28524", "U28528", "U28535", "N00640"}


def test_nothing_is_invented_after_the_samples(srv: KoladaStandin) -> None:
    rows = get(f"{srv.url}/data/municipality/1489,0000/year/2023,2024").json()["values"]
    assert rows == []


def test_every_sample_value_is_served(srv: KoladaStandin) -> None:
    import csv

    for path in SAMPLES_DIR.glob("datapoints_*_by_geo_year_subset.csv"):
        kpi = path.name.split("_")[1].upper()
        rows = get(f"{srv.url}/data/kpi/{kpi}/municipality/0000,0580,0581,1489").json()["values"]
        served = {(r["municipality"], r["period"]): next(v["value"] for v in r["values"] if v["gender"] == "T")
                  for r in rows if any(v["gender"] == "T" for v in r["values"])}
        with path.open(encoding="utf-8") as fh:
            expected = {(rec["geo"], int(rec["year"])): float(rec[kpi.lower()]) if rec[kpi.lower()] else None
                        for rec in csv.DictReader(fh)}
        assert served == expected, kpi


def test_paging_with_absolute_next_url(srv: KoladaStandin) -> None:
    url = f"{srv.url}/data/kpi/U21468/municipality/1489,0000/year/2012,2013,2014,2015,2016?per_page=4"
    first = get(url).json()
    assert first["count"] == 4 and first["previous_url"] is None
    assert first["next_url"] == (
        f"{srv.url}/data/kpi/U21468/municipality/1489,0000/year/2012,2013,2014,2015,2016"
        "?per_page=4&page=2"
    )
    second = get(first["next_url"]).json()
    assert second["count"] == 4 and second["next_url"] is not None
    third = get(second["next_url"]).json()
    assert third["count"] == 2 and third["next_url"] is None  # 2 units x 5 years = 10 rows
    assert third["previous_url"].endswith("?per_page=4&page=2")


@pytest.mark.parametrize(
    "path",
    [
        "/data/kpi/" + ",".join(f"U{i}" for i in range(26)) + "/municipality/1489/year/2022",
        "/data/kpi/U21468/municipality/1489/year/" + ",".join(str(y) for y in range(1990, 2016)),
        "/data/kpi/U21468/municipality/1489/year/2022?per_page=5001",
        "/data/kpi/U21468/municipality/1489/year/2022?page=0",
        "/data/kpi/U21468/municipality/1489/year/tjugo",
    ],
)
def test_422_like_kolada(srv: KoladaStandin, path: str) -> None:
    assert get(srv.url + path).status_code == 422


def test_25_ids_are_fine(srv: KoladaStandin) -> None:
    path = "/data/kpi/" + ",".join(f"U{i}" for i in range(25)) + "/municipality/1489/year/2022"
    assert get(srv.url + path).status_code == 200


@pytest.mark.parametrize("path", ["/v2/kpi", "/v3/nope", "/v3/data/kpi/U21468", "/v3/kpi/a/b"])
def test_404(srv: KoladaStandin, path: str) -> None:
    base = srv.url.removesuffix("/v3")
    assert get(base + path).status_code == 404


def test_metadata_in_v3_names(srv: KoladaStandin) -> None:
    (kpi,) = get(f"{srv.url}/kpi/N00640").json()["values"]
    assert kpi["auspice"] == "X" and "auspices" not in kpi
    assert kpi["is_divided_by_gender"] is True and kpi["has_ou_data"] is False
    assert kpi["publ_period"] == "2024" and kpi["prel_publication_date"] is None
    assert "definition" not in kpi and "ou_publication_date" not in kpi
    (unit,) = get(f"{srv.url}/municipality?title=alingsås").json()["values"]
    assert unit == {"id": "1489", "title": "Alingsås", "type": "K"}


def test_failures_for_the_first_requests_only(srv: KoladaStandin) -> None:
    srv.set_failure("500", times=2)
    codes = [get(f"{srv.url}/kpi/U21468").status_code for _ in range(3)]
    assert codes == [500, 500, 200]
    srv.set_failure("429", times=1)
    r = get(f"{srv.url}/kpi/U21468")
    assert r.status_code == 429 and r.headers["Retry-After"] == "1"
    srv.set_failure("malformed")
    with pytest.raises(ValueError):
        get(f"{srv.url}/kpi/U21468").json()
    srv.set_failure("empty")
    assert get(f"{srv.url}/kpi/U21468").json()["values"] == []
    with pytest.raises(ValueError):
        srv.set_failure("503")


def test_timeout_failure_and_latency() -> None:
    with KoladaStandin(fail="timeout", fail_times=1, timeout_delay=2.0, latency=0.1) as srv:
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{srv.url}/kpi/U21468", timeout=0.3)
        start = time.perf_counter()
        assert get(f"{srv.url}/kpi/U21468").status_code == 200
        assert time.perf_counter() - start >= 0.1


def test_serve_runs_in_the_foreground_until_ctrl_c() -> None:
    import signal
    import subprocess
    import sys

    code = "from xlplan.kolada.standin import serve; serve(0)"
    # Ctrl+C as in a terminal: a test run started as a background job ignores SIGINT, and a child
    # would inherit that (Python then installs no KeyboardInterrupt handler and never stops).
    proc = subprocess.Popen([sys.executable, "-u", "-c", code], stdout=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        url = line.split(" kör på ")[1].split(" ")[0]
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v3")
        assert get(f"{url}/municipality/0000").json()["values"][0]["title"] == "Riket"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and "Avslutar." in out


def test_failure_only_for_a_path_prefix(srv: KoladaStandin) -> None:
    srv.set_failure("500", only="/v3/data/")
    assert get(f"{srv.url}/kpi/U21468").status_code == 200
    assert get(f"{srv.url}/data/kpi/U21468/municipality/1489/year/2022").status_code == 500
    srv.set_failure(None)
    assert get(f"{srv.url}/data/kpi/U21468/municipality/1489/year/2022").status_code == 200
