"""Benchmark: batched Kolada client vs one request per KPI x unit x year.

Starts the local Kolada stand-in with 0.05 s latency per request, then fetches
every KPI in the samples for Alingsås (1489), Riket (0000) and the stand-in
"Liknande kommuner" group, years 2010-2022:

* batched: ``KoladaClient.fetch_values`` (path form, up to 25 ids per segment,
  plus the KPI metadata request);
* naive: a plain ``httpx`` loop, one data request per KPI x unit x year.

Both run in the same process against the same server; the script checks that
they got the same values and prints request counts, wall times and the ratio.

Run: ``.venv/bin/python benchmarks/pull.py``
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from xlplan.kolada import KoladaClient, KoladaStandin

LATENCY = 0.05
YEARS = list(range(2010, 2023))


def batched(url: str, kpis: list[str], units: list[str]) -> tuple[dict[Any, Any], int, float]:
    start = time.perf_counter()
    with KoladaClient(base_url=url) as client:
        values = client.fetch_values(kpis, units, YEARS)
        requests = client.request_count
    elapsed = time.perf_counter() - start
    return {v.key: v.value for v in values}, requests, elapsed


def naive(url: str, kpis: list[str], units: list[str]) -> tuple[dict[Any, Any], int, float]:
    start = time.perf_counter()
    found: dict[Any, Any] = {}
    requests = 0
    with httpx.Client(timeout=30) as http:
        for kpi in kpis:
            for unit in units:
                for year in YEARS:
                    resp = http.get(f"{url}/data/kpi/{kpi}/municipality/{unit}/year/{year}")
                    resp.raise_for_status()
                    requests += 1
                    for row in resp.json()["values"]:
                        for cell in row["values"]:
                            key = (row["kpi"], row["municipality"], row["period"], cell["gender"])
                            found[key] = cell["value"]
    return found, requests, time.perf_counter() - start


def main() -> None:
    with KoladaStandin(latency=LATENCY) as srv:
        kpis = [k["id"] for k in srv.data.kpi_objects(None, None)]
        with KoladaClient(base_url=srv.url) as client:
            (group,) = client.municipality_groups("äldreomsorg, Alingsås")
        units = ["1489", "0000", group.id]
        print(f"Stand-in {srv.url}, latens {LATENCY:g} s per anrop")
        print(f"{len(kpis)} nyckeltal x {len(units)} enheter ({', '.join(units)}) x "
              f"{len(YEARS)} år ({YEARS[0]}–{YEARS[-1]})")
        b_values, b_requests, b_time = batched(srv.url, kpis, units)
        n_values, n_requests, n_time = naive(srv.url, kpis, units)
    if b_values != n_values:
        raise SystemExit("FEL: de två sätten gav olika värden")
    print(f"{'':10}{'anrop':>8}{'tid (s)':>10}")
    print(f"{'batchat':10}{b_requests:>8}{b_time:>10.2f}")
    print(f"{'naivt':10}{n_requests:>8}{n_time:>10.2f}")
    print(f"Samma {len(b_values)} värden. Naivt/batchat: {n_requests / b_requests:.0f}x anrop, "
          f"{n_time / b_time:.0f}x tid.")


if __name__ == "__main__":
    main()
