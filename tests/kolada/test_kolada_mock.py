"""KoladaClient unit tests through httpx.MockTransport (no server)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any, Callable

import httpx
import pytest

from xlplan.core.errors import KoladaUnavailable
from xlplan.kolada import KoladaClient, KoladaValue, KpiMeta, is_preliminary

BASE = "https://kolada.test/v3"
ROW = {"kpi": "N00945", "municipality": "0180", "period": 2020,
       "values": [{"gender": "T", "count": 1, "status": "", "value": 31.3, "isdeleted": False}]}


def client(handler: Callable[[httpx.Request], httpx.Response], **kw: Any) -> KoladaClient:
    http = httpx.Client(transport=httpx.MockTransport(handler))
    kw.setdefault("sleep", lambda s: None)
    return KoladaClient(http, base_url=BASE, **kw)


def page(values: list[Any], next_url: str | None = None) -> httpx.Response:
    return httpx.Response(200, json={"count": len(values), "values": values, "next_url": next_url})


def only_data(handler: Callable[[httpx.Request], httpx.Response]) -> Callable[[httpx.Request], httpx.Response]:
    """Answer metadata requests with no KPIs; pass data requests to *handler*."""

    def route(request: httpx.Request) -> httpx.Response:
        if "/kpi/" in request.url.path and "/data/" not in request.url.path:
            return page([])
        return handler(request)

    return route


def test_first_url_is_the_path_form() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return page([ROW])

    with client(only_data(handler)) as c:
        (v,) = c.fetch_values(["N00945"], ["0180"], [2020])
    assert seen == [f"{BASE}/data/kpi/N00945/municipality/0180/year/2020?per_page=5000"]
    assert (v.kpi, v.municipality, v.period, v.gender, v.value, v.count) == (
        "N00945", "0180", 2020, "T", 31.3, 1)


def test_period_as_string_is_accepted() -> None:
    row = {**ROW, "period": "2020"}
    with client(only_data(lambda r: page([row]))) as c:
        assert c.fetch_values(["N00945"], ["0180"], [2020])[0].period == 2020


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        ([1, 2], "svaret är inte ett JSON-objekt utan list"),
        ({"count": 0}, "fältet 'values' saknas"),
        ({"values": [], "next_url": 5}, "'next_url' är varken en adress eller null"),
        ({"values": [{"kpi": "N1", "municipality": "0180", "period": 2020}]}, "saknar listan 'values'"),
        ({"values": [{**ROW, "values": [{"gender": "F", "value": 1}]}]}, "okänt kön 'F'"),
        ({"values": [{**ROW, "values": [{"gender": "T", "value": "31,3"}]}]}, "är inte ett tal"),
    ],
)
def test_wrong_shape_names_the_url(body: Any, detail: str) -> None:
    with client(only_data(lambda r: httpx.Response(200, json=body))) as c:
        with pytest.raises(KoladaUnavailable) as info:
            c.fetch_values(["N00945"], ["0180"], [2020])
    msg = str(info.value)
    assert msg.startswith(f"Kolada gav ett svar med oväntad form från {BASE}/data/kpi/N00945/")
    assert detail in msg
    assert info.value.__cause__ is not None


def test_next_url_loop_is_stopped() -> None:
    loop = f"{BASE}/data/kpi/N00945/municipality/0180/year/2020?page=2"
    with client(only_data(lambda r: page([ROW], next_url=loop))) as c:
        with pytest.raises(KoladaUnavailable, match="samma sida två gånger"):
            c.fetch_values(["N00945"], ["0180"], [2020])


def test_page_cap() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "1"))
        return page([], next_url=f"{BASE}/data/kpi/N1/municipality/0180/year/2020?page={n + 1}")

    with client(only_data(handler), max_pages=5) as c:
        with pytest.raises(KoladaUnavailable, match="fler än 5 sidor"):
            c.fetch_values(["N1"], ["0180"], [2020])
        assert c.request_count == 1 + 5


def test_empty_page_in_the_middle_is_followed() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        n = int(request.url.params.get("page", "1"))
        nxt = f"{BASE}/data/kpi/N00945/municipality/0180/year/2020?page={n + 1}" if n < 3 else None
        rows = {1: [ROW], 2: [], 3: [{**ROW, "period": 2021}]}[n]
        return page(rows, next_url=nxt)

    with client(only_data(handler)) as c:
        values = c.fetch_values(["N00945"], ["0180"], [2020, 2021])
    assert [v.period for v in values] == [2020, 2021]


@pytest.mark.parametrize(("status", "hint"), [(404, "kontrollera Kolada-adressen"),
                                              (422, "för många id:n"), (400, "")])
def test_client_errors_are_not_retried(status: int, hint: str) -> None:
    with client(lambda r: httpx.Response(status, json={"detail": "nej"})) as c:
        with pytest.raises(KoladaUnavailable) as info:
            c.kpi_metadata(["N00945"])
        assert c.request_count == 1
    msg = str(info.value)
    assert msg.startswith(f"Kolada avvisade frågan med HTTP {status}: {BASE}/kpi/N00945?per_page=5000.")
    assert hint in msg and 'Svar: {"detail":"nej"}' in msg
    assert isinstance(info.value.__cause__, httpx.HTTPStatusError)


def test_connect_error_then_success_with_exponential_backoff() -> None:
    calls: list[int] = []
    sleeps: list[float] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) <= 3:
            raise httpx.ConnectError("refused", request=request)
        return page([])

    with client(handler, sleep=sleeps.append, backoff=0.25, max_retries=3) as c:
        assert c.kpi_metadata(["N00945"]) == {}
    assert sleeps == [0.25, 0.5, 1.0]


def test_backoff_is_capped() -> None:
    sleeps: list[float] = []
    with client(lambda r: httpx.Response(503), sleep=sleeps.append, backoff=1.0,
                max_backoff=3.0, max_retries=4) as c:
        with pytest.raises(KoladaUnavailable, match=r"HTTP 503; gav upp efter 5 försök"):
            c.kpi_metadata(["N00945"])
    assert sleeps == [1.0, 2.0, 3.0, 3.0]


def test_non_ascii_survives() -> None:
    group = {"id": "G1", "title": "Liknande kommuner äldreomsorg, Höör, 2024",
             "members": [{"member_id": "1267", "member_title": "Höör"}]}
    body = json.dumps({"values": [group], "count": 1, "next_url": None}, ensure_ascii=False)

    def handler(request: httpx.Request) -> httpx.Response:
        assert request.url.params["title"] == "Höör"
        return httpx.Response(200, content=body.encode("utf-8"),
                              headers={"Content-Type": "application/json"})

    with client(handler) as c:
        (g,) = c.municipality_groups("Höör")
    assert g.title.endswith("Höör, 2024") and g.members[0].title == "Höör"


META = KpiMeta(id="N1", title="x", prel_publication_date=date(2026, 4, 1),
               publication_date=date(2026, 8, 28), publ_period=2025)


@pytest.mark.parametrize(
    ("meta", "period", "today", "expected"),
    [
        (META, 2025, date(2026, 5, 1), True),
        (META, 2025, date(2026, 8, 28), False),  # final published that day
        (META, 2024, date(2026, 5, 1), False),  # not the publication period
        (KpiMeta(id="N1", title="x", publication_date=date(2026, 8, 28), publ_period=2025),
         2025, date(2026, 5, 1), False),  # no preliminary stage
        (KpiMeta(id="N1", title="x", prel_publication_date=date(2026, 4, 1), publ_period=2025),
         2025, date(2027, 1, 1), True),  # final date unknown
        (None, 2025, date(2026, 5, 1), False),
    ],
)
def test_is_preliminary(meta: KpiMeta | None, period: int, today: date, expected: bool) -> None:
    v = KoladaValue(kpi="N1", municipality="1489", period=period, gender="T", value=1.0)
    assert is_preliminary(v, meta, today) is expected


def test_row_repeated_on_two_pages_counts_once() -> None:
    revised = {**ROW, "values": [{**ROW["values"][0], "value": 32.0}]}  # type: ignore[dict-item]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.params.get("page") == "2":
            return page([revised])
        return page([ROW], next_url=f"{BASE}/data/kpi/N00945/municipality/0180/year/2020?page=2")

    with client(only_data(handler)) as c:
        (v,) = c.fetch_values(["N00945"], ["0180"], [2020])
    assert v.value == 32.0


RETRIED = [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.WriteTimeout, httpx.PoolTimeout, httpx.ConnectError,
           httpx.ReadError, httpx.WriteError, httpx.CloseError, httpx.RemoteProtocolError]
NOT_RETRIED = [httpx.LocalProtocolError, httpx.ProxyError, httpx.UnsupportedProtocol, httpx.DecodingError,
               httpx.TooManyRedirects, httpx.TransportError, httpx.RequestError]


@pytest.mark.parametrize("kind", RETRIED + NOT_RETRIED + [httpx.InvalidURL, httpx.StreamClosed])
def test_every_httpx_error_is_a_swedish_kolada_unavailable(kind: type[Exception]) -> None:
    raised: list[Exception] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if issubclass(kind, httpx.RequestError):
            exc: Exception = kind("boom", request=request)
        else:
            exc = kind("boom") if kind is httpx.InvalidURL else kind()
        raised.append(exc)
        raise exc

    with client(handler, max_retries=2) as c:
        with pytest.raises(KoladaUnavailable) as info:
            c.fetch_values(["N00945"], ["0180"], [2020])
    assert len(raised) == (3 if kind in RETRIED else 1)
    assert info.value.__cause__ is raised[-1]
    msg = str(info.value)
    assert f"{BASE}/kpi/N00945" in msg
    assert msg.startswith("Kolada svarar inte:" if kind in RETRIED else "Kolada")
