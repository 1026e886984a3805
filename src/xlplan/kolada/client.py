"""Kolada v3 client: batched, paged, retried, cached.

Usage::

    from xlplan.kolada import KoladaClient, KoladaCache

    with KoladaClient(cache=KoladaCache()) as kolada:          # online
        result = kolada.fetch(["U21468", "U23471"], ["1489", "0000", "G176486"],
                              [2020, 2021, 2022])
    result.values      # list[KoladaValue], one per kpi x unit x period x gender
    result.metadata    # dict[kpi id, KpiMeta] (snapshot used for `preliminary`)
    result.revisions   # list[Revision]: values changed since the cached extraction

    KoladaClient(cache=KoladaCache(), offline=True).fetch_values(...)  # cache only

* ``fetch_values(kpis, municipalities, years) -> list[KoladaValue]`` is
  ``fetch(...).values``; ``last_revisions`` keeps the revisions of the last call.
* A requested combination Kolada has no row for is simply absent (Kolada
  returns no row for years not published yet).  A row may carry ``value=None``,
  a non-empty ``status`` or ``isdeleted=True``; all are kept as Kolada gave them.
* ``kpi_metadata(kpis) -> dict[str, KpiMeta]``; unknown ids are absent.
* ``municipality_groups(title) -> list[MunicipalityGroup]`` (title substring
  search) and ``municipality_group(gid) -> MunicipalityGroup | None``.
* ``request_count``: HTTP requests made (retries included, cache hits not).

Base URL: the ``base_url`` argument, else ``$XLPLAN_KOLADA_URL``, else
``https://api.kolada.se/v3``.

Requests use the path form ``/data/kpi/{k,..}/municipality/{m,..}/year/{y,..}``
with at most 25 ids per path segment (every dimension is chunked and the
cartesian product of the chunks is requested), ``per_page=5000``, and follow
``next_url`` until it is null (a repeated URL or more than ``max_pages`` pages
is an error).  Time-outs, connection errors, HTTP 429 and 5xx are retried
``max_retries`` times with exponential back-off (``Retry-After`` honoured on
429); other 4xx, invalid JSON and wrongly shaped JSON are not retried.  Every
failure is a :class:`~xlplan.errors.KoladaUnavailable` with a Swedish message
naming the URL.

Caching (see :mod:`xlplan.kolada.cache`): online, every page is written to the
cache, and values are compared with the previous cached extraction *of the same
request URLs* to report :class:`Revision` s (changed, nulled or removed values;
values that are new are not revisions).  Offline, only the cache is read; a
missing entry raises ``KoladaUnavailable`` ("... finns inte i cachen ...").
Each value records ``fetched_at`` and ``from_cache``.

"Preliminary" is the best-effort rule of :func:`xlplan.kolada.models.is_preliminary`,
evaluated against the date the value was fetched.
"""

from __future__ import annotations

import itertools
import os
import re
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any, Callable, Iterator, Sequence
from urllib.parse import urlencode

import httpx

from xlplan.errors import BadInput, KoladaUnavailable
from xlplan.kolada.cache import KoladaCache
from xlplan.kolada.models import (
    FetchResult,
    KoladaValue,
    KpiMeta,
    MunicipalityGroup,
    Revision,
    is_preliminary,
)
from xlplan.kolada.parse import (
    Page,
    ShapeError,
    parse_data_row,
    parse_group,
    parse_kpi,
    parse_page,
)

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
ENV_BASE_URL = "XLPLAN_KOLADA_URL"
MAX_IDS_PER_SEGMENT = 25
MAX_PER_PAGE = 5000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


def resolve_base_url(explicit: str | None = None) -> str:
    """explicit argument > ``$XLPLAN_KOLADA_URL`` > the public v3 address."""
    url = explicit or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return url.rstrip("/")


def chunks(ids: Sequence[str], size: int = MAX_IDS_PER_SEGMENT) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class _Outcome:
    """The result of one HTTP attempt: a body, or a retryable failure."""

    body: Any = None
    failure: str | None = None
    delay: float = 0.0
    cause: BaseException | None = None


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


class KoladaClient:
    """Client for Kolada's v3 REST API over an (injectable) ``httpx.Client``.

    ``http``: the transport seam (default: a new ``httpx.Client`` closed by
    :meth:`close`).  ``cache=None`` means no caching online; ``offline=True``
    without a cache reads the default cache folder.  ``sleep`` and ``now`` are
    injectable for tests.  ``timeout`` (seconds) applies to every request.
    """

    def __init__(
        self,
        http: httpx.Client | None = None,
        base_url: str | None = None,
        *,
        cache: KoladaCache | None = None,
        offline: bool = False,
        per_page: int = MAX_PER_PAGE,
        timeout: float = 30.0,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_pages: int = 500,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utcnow,
    ):
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise BadInput(f"per_page måste vara 1–{MAX_PER_PAGE}, inte {per_page}.")
        self.base_url = resolve_base_url(base_url)
        self._owns_http = http is None
        self.http = http if http is not None else httpx.Client(follow_redirects=True)
        if cache is None and offline:
            cache = KoladaCache()  # offline needs a cache: the default folder
        self.cache = cache
        self.offline = offline
        self.per_page = per_page
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_pages = max_pages
        self._sleep = sleep
        self._now = now
        self.request_count = 0
        self.last_revisions: list[Revision] = []

    # -- lifecycle -----------------------------------------------------------
    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ------------------------------------------------------------
    def fetch(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> FetchResult:
        """Values, KPI metadata and revisions for every kpi x unit x year asked for."""
        kpi_ids = _clean_ids(kpis, "nyckeltal")
        unit_ids = _clean_ids(municipalities, "kommun/grupp")
        year_list = _clean_years(years)
        started = self._now()
        metadata = self.kpi_metadata(kpi_ids)
        values: list[KoladaValue] = []
        revisions: list[Revision] = []
        for url in self.data_urls(kpi_ids, unit_ids, year_list):
            got, changed = self._fetch_data(url)
            values.extend(got)
            revisions.extend(changed)
        values = [_mark_preliminary(v, metadata) for v in values]
        self.last_revisions = revisions
        return FetchResult(values=values, metadata=metadata, revisions=revisions, fetched_at=started)

    def fetch_values(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> list[KoladaValue]:
        """``fetch(...).values``; revisions are kept in ``last_revisions``."""
        return self.fetch(kpis, municipalities, years).values

    def kpi_metadata(self, kpis: Sequence[str]) -> dict[str, KpiMeta]:
        """Metadata of the given KPIs (ids Kolada does not know are absent)."""
        result: dict[str, KpiMeta] = {}
        for part in chunks(_clean_ids(kpis, "nyckeltal")):
            url = self._url(f"/kpi/{','.join(part)}", {"per_page": self.per_page})
            for obj in self._rows(url):
                meta = self._parse(url, parse_kpi, obj)
                result[meta.id] = meta
        return result

    def municipality_groups(self, title: str) -> list[MunicipalityGroup]:
        """Municipality groups whose title contains *title* (Kolada's search)."""
        if not title.strip():
            raise BadInput("Ange en del av gruppens namn för att söka kommungrupper.")
        url = self._url("/municipality_groups", {"title": title, "per_page": self.per_page})
        return [self._parse(url, parse_group, obj) for obj in self._rows(url)]

    def municipality_group(self, group_id: str) -> MunicipalityGroup | None:
        """The group with id ``G…``, or ``None`` if Kolada does not know it."""
        (gid,) = _clean_ids([group_id], "kommungrupp")
        url = self._url(f"/municipality_groups/{gid}", {"per_page": self.per_page})
        groups = [self._parse(url, parse_group, obj) for obj in self._rows(url)]
        return next((g for g in groups if g.id == gid), None)

    def data_urls(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> list[str]:
        """First-page URLs: one per combination of 25-id chunks of each dimension."""
        combos = itertools.product(
            chunks(list(kpis)), chunks(list(municipalities)), chunks([str(y) for y in years])
        )
        return [
            self._url(
                f"/data/kpi/{','.join(k)}/municipality/{','.join(m)}/year/{','.join(y)}",
                {"per_page": self.per_page},
            )
            for k, m, y in combos
        ]

    # -- data and revisions --------------------------------------------------------
    def _fetch_data(self, url: str) -> tuple[list[KoladaValue], list[Revision]]:
        previous = None if self.offline else self._cached_values(url)
        by_key: dict[tuple[str, str, int, str], KoladaValue] = {}
        for page, fetched_at, from_cache in self._pages(url):
            for row in page.rows:
                for v in self._parse(url, parse_data_row, row, fetched_at, from_cache):
                    by_key[v.key] = v  # a row repeated across pages counts once (last wins)
        values = list(by_key.values())
        revisions = _revisions(previous, values) if previous is not None else []
        return values, revisions

    def _cached_values(self, url: str) -> list[KoladaValue] | None:
        """Values of the previous cached extraction of *url* (pages as far as cached),
        or ``None`` when there is none to compare with."""
        if self.cache is None:
            return None
        values: list[KoladaValue] = []
        seen: set[str] = set()
        next_url: str | None = url
        while next_url is not None and next_url not in seen:
            try:
                entry = self.cache.get(next_url)
                if entry is None:
                    break
                page = parse_page(entry.body)
                for row in page.rows:
                    values.extend(parse_data_row(row, entry.fetched_at, True))
            except (KoladaUnavailable, ShapeError):
                break  # an unreadable old entry only means fewer comparisons
            seen.add(next_url)
            next_url = page.next_url
        return values if seen else None

    # -- paging -------------------------------------------------------------------
    def _rows(self, url: str) -> Iterator[Any]:
        for page, _fetched_at, _from_cache in self._pages(url):
            yield from page.rows

    def _pages(self, first_url: str) -> Iterator[tuple[Page, datetime, bool]]:
        """Follow ``next_url`` from *first_url*; yields (page, fetched_at, from_cache)."""
        seen: set[str] = set()
        url: str | None = first_url
        while url is not None:
            if url in seen:
                raise KoladaUnavailable(
                    f"Kolada skickade samma sida två gånger ({url}); hämtningen avbröts."
                )
            if len(seen) >= self.max_pages:
                raise KoladaUnavailable(
                    f"Kolada gav fler än {self.max_pages} sidor för {first_url}; "
                    "hämtningen avbröts."
                )
            seen.add(url)
            body, fetched_at, from_cache = self._load(url)
            page = self._parse(url, parse_page, body)
            yield page, fetched_at, from_cache
            url = page.next_url

    def _load(self, url: str) -> tuple[Any, datetime, bool]:
        if self.offline:
            assert self.cache is not None
            entry = self.cache.get(url)
            if entry is None:
                raise KoladaUnavailable(
                    f"{url} finns inte i cachen ({self.cache.folder}). "
                    "Hämta från Kolada i uppkopplat läge först."
                )
            return entry.body, entry.fetched_at, True
        body = self._get_json(url)
        fetched_at = self._now()
        if self.cache is not None:
            self.cache.put(url, body, fetched_at)
        return body, fetched_at, False

    # -- HTTP with retries ------------------------------------------------------------
    def _get_json(self, url: str) -> Any:
        attempt = 0
        while True:
            outcome = self._attempt(url, attempt)
            if outcome.failure is None:
                return outcome.body
            if attempt >= self.max_retries:
                raise KoladaUnavailable(
                    f"Kolada svarar inte: {url} ({outcome.failure}; gav upp efter "
                    f"{attempt + 1} försök). Försök igen senare eller använd cachen (offline)."
                ) from outcome.cause
            self._sleep(outcome.delay)
            attempt += 1

    def _attempt(self, url: str, attempt: int) -> _Outcome:
        """One request; a retryable failure is returned, anything else raises."""
        self.request_count += 1
        backoff = min(self.max_backoff, self.backoff * 2**attempt)
        try:
            resp = self.http.get(url, timeout=self.timeout, headers={"Accept": "application/json"})
        except httpx.TimeoutException as exc:
            return _Outcome(failure=f"inget svar inom {self.timeout:g} s", delay=backoff, cause=exc)
        except httpx.TransportError as exc:
            failure = f"nätverksfel: {type(exc).__name__}: {exc}"
            return _Outcome(failure=failure, delay=backoff, cause=exc)
        try:
            resp.raise_for_status()
        except httpx.HTTPStatusError as exc:
            if resp.status_code not in RETRY_STATUSES:
                raise KoladaUnavailable(_refusal_message(url, resp)) from exc
            delay = self._retry_delay(resp, backoff)
            return _Outcome(failure=f"HTTP {resp.status_code}", delay=delay, cause=exc)
        return _Outcome(body=_json_body(url, resp))

    def _retry_delay(self, resp: httpx.Response, backoff: float) -> float:
        after = resp.headers.get("Retry-After", "")
        if resp.status_code == 429 and after.strip().isdigit():
            return min(self.max_backoff, max(backoff, float(after)))
        return backoff

    # -- helpers -------------------------------------------------------------------
    def _url(self, path: str, params: dict[str, Any]) -> str:
        return f"{self.base_url}{path}?{urlencode(params)}"

    @staticmethod
    def _parse(url: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except ShapeError as exc:
            raise KoladaUnavailable(
                f"Kolada gav ett svar med oväntad form från {url}: {exc}."
            ) from exc


def _json_body(url: str, resp: httpx.Response) -> Any:
    try:
        return resp.json()
    except ValueError as exc:
        raise KoladaUnavailable(
            f"Kolada gav ett svar som inte är giltig JSON från {url} "
            f"(HTTP {resp.status_code}, {len(resp.content)} byte): {exc}"
        ) from exc


def _refusal_message(url: str, resp: httpx.Response) -> str:
    code = resp.status_code
    hint = {
        404: " Adressen finns inte – kontrollera Kolada-adressen (bas-URL).",
        422: " Frågan godtogs inte (för många id:n i en del av adressen eller för stor sida?).",
    }.get(code, "")
    detail = resp.text.strip().replace("\n", " ")[:200]
    detail = f" Svar: {detail}" if detail else ""
    return f"Kolada avvisade frågan med HTTP {code}: {url}.{hint}{detail}"


def _clean_ids(ids: Sequence[str], what: str) -> list[str]:
    if isinstance(ids, str):
        ids = [ids]
    out: list[str] = []
    for raw in ids:
        i = str(raw).strip()
        if not _ID_RE.match(i):
            raise BadInput(f"Ogiltigt id för {what}: {raw!r} (bara bokstäver, siffror, - och _).")
        if i not in out:
            out.append(i)
    if not out:
        raise BadInput(f"Ange minst ett id för {what}.")
    return out


def _clean_years(years: Sequence[int]) -> list[int]:
    out: list[int] = []
    for y in years:
        if isinstance(y, bool) or not isinstance(y, int) or not 1900 <= y <= 2200:
            raise BadInput(f"Ogiltigt år: {y!r} (ange ett årtal, t.ex. 2024).")
        if y not in out:
            out.append(y)
    if not out:
        raise BadInput("Ange minst ett år.")
    return out


def _mark_preliminary(v: KoladaValue, metadata: dict[str, KpiMeta]) -> KoladaValue:
    fetched = (v.fetched_at or _utcnow()).date()
    prel = is_preliminary(v, metadata.get(v.kpi), fetched)
    return replace(v, preliminary=prel) if prel != v.preliminary else v


def _effective(v: KoladaValue) -> float | None:
    return None if v.isdeleted else v.value


def _revisions(previous: list[KoladaValue], current: list[KoladaValue]) -> list[Revision]:
    """Values in *previous* whose number changed, was nulled/deleted or disappeared."""
    now = {v.key: _effective(v) for v in current}
    out: list[Revision] = []
    for old in previous:
        before = _effective(old)
        after = now.get(old.key)
        if before != after and not (before is None and old.key not in now):
            out.append(Revision(*old.key, old=before, new=after))
    return out
