"""Kolada v3 client: batched, paged, retried, bounded in time and size, cached.

Usage::

    from xlplan.kolada import KoladaClient, KoladaCache

    with KoladaClient(cache=KoladaCache(), progress=print) as kolada:   # online
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
* ``kpi_catalogue(refresh=False) -> list[KpiMeta]``: the whole KPI catalogue,
  read from the cache when it is there (see :mod:`xlplan.kolada.sok`).
* ``municipality_groups(title) -> list[MunicipalityGroup]`` (title substring
  search) and ``municipality_group(gid) -> MunicipalityGroup | None``.  When
  Kolada fails, a cached answer to the same lookup is used (with a warning);
  otherwise they raise ``KoladaUnavailable`` saying the comparison group could
  not be looked up, so a caller can go on without the group.
* ``request_count``: HTTP requests made (retries included, cache hits not).
* ``warnings``: Swedish lines about things that did not stop the fetch (the
  cache folder could not be written, a cached group was used).

Base URL: the ``base_url`` argument, else ``$XLPLAN_KOLADA_URL``, else
``https://api.kolada.se/v3``.

Requests use the path form ``/data/kpi/{k,..}/municipality/{m,..}/year/{y,..}``
with at most 25 ids per path segment (every dimension is chunked and the
cartesian product of the chunks is requested), ``per_page=5000``, and follow
``next_url`` until it is null (a repeated URL or more than ``max_pages`` pages
is an error).  Time-outs, connection errors, HTTP 429 and 5xx are retried
``max_retries`` times with exponential back-off (``Retry-After`` honoured on
429 and 503); other 4xx, invalid JSON and wrongly shaped JSON are not retried.

Bounds (nothing waits or grows without limit):

* **Deadline**: every public call (and every block under
  :meth:`KoladaClient.within_deadline`, e.g. a whole pull) ends within
  ``deadline`` seconds (argument, else ``$XLPLAN_KOLADA_DEADLINE``, else 60),
  all pages, retries and back-off included.  The body is streamed and the clock
  checked between chunks, and the socket is shut at the deadline, so a server
  that drips a byte a second or goes silent mid-body cannot hold it open.  A
  ``Retry-After`` longer than the time left gives up at once, saying when
  Kolada asks to be asked again.
* **Size**: a response larger than ``max_bytes`` (default 20 MB) is refused
  after reading at most that much.
* **Numbers**: ``NaN``, ``Infinity`` and numbers beyond the float range
  (``1e999``) make the whole response a source error; they never reach a value,
  the cache or a workbook.

Every failure is a :class:`~xlplan.core.errors.KoladaUnavailable` with a Swedish
message naming the URL, raised ``from`` the httpx/JSON error.

``progress`` (optional ``Callable[[str], None]``) gets a Swedish line before
every request ("Hämtar från Kolada: värden (sida 2)…") and before every wait
("Kolada svarar inte (HTTP 503), försöker igen om 2 s…").

Caching (see :mod:`xlplan.kolada.cache`): entries are keyed by the request
(path and query relative to the base URL, and the page number), not by the
host, so ``--offline`` finds values fetched through any Kolada address.
Online, every page is written to the cache, and values are compared with the
previous cached extraction *of the same request* to report :class:`Revision`
s (changed, nulled or removed values; values that are new are not revisions).
Offline, only the cache is read; a missing entry raises ``KoladaUnavailable``
("... finns inte i cachen ...").  Each value records ``fetched_at`` and
``from_cache``.

"Preliminary" is the best-effort rule of :func:`xlplan.kolada.models.is_preliminary`,
evaluated against the date the value was fetched.

httpx is imported, and its client made, when the first request is sent: an
offline pull, or one answered from a recent cache (``fresh``), loads neither.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any, TypeVar, cast
from urllib.parse import urlencode

from xlplan.core.errors import BadInput, KoladaUnavailable
from xlplan.kolada.cache import CacheEntry, CacheUnavailable, KoladaCache, page_key
from xlplan.kolada.models import (
    FetchResult,
    KoladaValue,
    KpiMeta,
    MunicipalityGroup,
    Revision,
    is_preliminary,
)
from xlplan.kolada.parse import (
    NonFiniteNumber,
    Page,
    ShapeError,
    loads_strict,
    parse_data_row,
    parse_group,
    parse_kpi,
    parse_page,
)

if TYPE_CHECKING:
    import httpx  # imported when the first request is made (0.1 s CPU; a cache hit needs none)

DEFAULT_BASE_URL = "https://api.kolada.se/v3"
ENV_BASE_URL = "XLPLAN_KOLADA_URL"
ENV_DEADLINE = "XLPLAN_KOLADA_DEADLINE"
DEFAULT_DEADLINE = 60.0
DEFAULT_MAX_BYTES = 20 * 1024 * 1024
MAX_IDS_PER_SEGMENT = 25
MAX_PER_PAGE = 5000
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")

Progress = Callable[[str], None]
_F = TypeVar("_F", bound=Callable[..., Any])


def resolve_base_url(explicit: str | None = None) -> str:
    """explicit argument > ``$XLPLAN_KOLADA_URL`` > the public v3 address."""
    url = explicit or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL
    return url.rstrip("/")


def resolve_deadline(explicit: float | None = None) -> float:
    """explicit argument > ``$XLPLAN_KOLADA_DEADLINE`` (seconds) > 60 s."""
    raw: object = explicit
    if explicit is None:
        text = os.environ.get(ENV_DEADLINE, "").strip()
        if not text:
            return DEFAULT_DEADLINE
        raw = text
    try:
        value = float(str(raw).replace(",", ".")) if not isinstance(raw, bool) else math.nan
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        where = "deadline" if explicit is not None else ENV_DEADLINE
        raise BadInput(f"Tidsgränsen för Kolada ({where}) ska vara ett antal sekunder större än 0, inte {raw!r}.")
    return value


def chunks(ids: Sequence[str], size: int = MAX_IDS_PER_SEGMENT) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), size)]


@dataclass(frozen=True)
class _Request:
    """One logical request: its cache key (path and query relative to the base
    URL), the URL of its first page, and what it fetches (for progress lines)."""

    key: str
    url: str
    what: str


@dataclass(frozen=True)
class _Outcome:
    """The result of one HTTP attempt: a body, or a retryable failure."""

    body: Any = None
    failure: str | None = None
    delay: float = 0.0
    retry_after: float | None = None
    cause: BaseException | None = None


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _bounded(method: _F) -> _F:
    """Run a public method under the client's deadline (shared with an enclosing one)."""

    @functools.wraps(method)
    def wrapper(self: KoladaClient, *args: Any, **kwargs: Any) -> Any:
        with self.within_deadline():
            return method(self, *args, **kwargs)

    return cast(_F, wrapper)


class KoladaClient:
    """Client for Kolada's v3 REST API over an (injectable) ``httpx.Client``.

    ``http``: the transport seam (default: a new ``httpx.Client`` closed by
    :meth:`close`).  ``cache=None`` means no caching online; ``offline=True``
    without a cache reads the default cache folder.  ``sleep``, ``now`` and
    ``clock`` (monotonic seconds, for the deadline) are injectable for tests.
    ``timeout`` (seconds) bounds each wait for the server; ``deadline``
    (seconds, see :func:`resolve_deadline`) bounds each public call as a whole;
    ``max_bytes`` bounds each response body.  ``fresh`` (seconds, default 0: always
    ask Kolada): an online request whose cached answer is younger than that is
    answered from the cache, without a request (the ribbon's *Hämta värden* pressed
    again, or in the next department file, within minutes).
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
        deadline: float | None = None,
        max_bytes: int = DEFAULT_MAX_BYTES,
        max_retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 30.0,
        max_pages: int = 500,
        fresh: float = 0.0,
        progress: Progress | None = None,
        sleep: Callable[[float], None] = time.sleep,
        now: Callable[[], datetime] = _utcnow,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not 1 <= per_page <= MAX_PER_PAGE:
            raise BadInput(f"per_page måste vara 1–{MAX_PER_PAGE}, inte {per_page}.")
        if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or max_bytes < 1:
            raise BadInput(f"Största svarsstorlek (max_bytes) ska vara ett antal byte större än 0, inte {max_bytes!r}.")
        self.base_url = resolve_base_url(base_url)
        self.deadline = resolve_deadline(deadline)
        self._owns_http = http is None
        self._http = http
        if cache is None and offline:
            cache = KoladaCache()  # offline needs a cache: the default folder
        self.cache = cache
        self.offline = offline
        self.per_page = per_page
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.max_pages = max_pages
        self.fresh = fresh
        self.progress = progress
        self._sleep = sleep
        self._now = now
        self._clock = clock
        self._deadline_at: float | None = None
        self._cache_writable = True
        self.request_count = 0
        self.last_revisions: list[Revision] = []
        self.warnings: list[str] = []
        self.catalogue_fetched_at: datetime | None = None

    # -- lifecycle -----------------------------------------------------------
    @property
    def http(self) -> httpx.Client:
        """The HTTP client, made (and httpx imported) when the first request needs it."""
        if self._http is None:
            import httpx

            self._http = httpx.Client(follow_redirects=True)
        return self._http

    def close(self) -> None:
        if self._owns_http and self._http is not None:
            self._http.close()

    def __enter__(self) -> KoladaClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def within_deadline(self) -> Iterator[None]:
        """Let every call inside the block share one deadline (e.g. a whole pull:
        the group lookup and the fetch).  Nested blocks join the outer one."""
        if self._deadline_at is not None:
            yield
            return
        self._deadline_at = self._clock() + self.deadline
        try:
            yield
        finally:
            self._deadline_at = None

    # -- public API ------------------------------------------------------------
    @_bounded
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
        for req in self._data_requests(kpi_ids, unit_ids, year_list):
            got, changed = self._fetch_data(req)
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

    @_bounded
    def kpi_metadata(self, kpis: Sequence[str]) -> dict[str, KpiMeta]:
        """Metadata of the given KPIs (ids Kolada does not know are absent)."""
        result: dict[str, KpiMeta] = {}
        for part in chunks(_clean_ids(kpis, "nyckeltal")):
            req = self._request(f"/kpi/{','.join(part)}", {"per_page": self.per_page}, "nyckeltal")
            for obj in self._rows(req):
                meta = self._parse(req.url, parse_kpi, obj)
                result[meta.id] = meta
        return result

    @_bounded
    def kpi_catalogue(self, *, refresh: bool = False) -> list[KpiMeta]:
        """Kolada's whole KPI catalogue (``/kpi``, every page), fetched once and cached.

        A cached catalogue is used without asking Kolada unless ``refresh``;
        offline only the cache is read.  If Kolada fails and a cached catalogue
        exists, that one is used (with a warning).  ``catalogue_fetched_at`` is
        when the catalogue returned was fetched.
        """
        req = self._request("/kpi", {"per_page": self.per_page}, "nyckeltalskatalogen")
        try:
            cached = self.cache is not None and self.cache.get(page_key(req.key, 1)) is not None
        except KoladaUnavailable:
            cached = False  # an unusable cache folder or entry: ask Kolada
        if self.offline or (cached and not refresh):
            return self._catalogue_pages(req, cached=True)
        try:
            return self._catalogue_pages(req)
        except KoladaUnavailable as exc:
            if not cached:
                raise
            self._warn(f"Koladas nyckeltalskatalog kunde inte hämtas ({exc}); katalogen i cachen används.")
            return self._catalogue_pages(req, cached=True)

    def _catalogue_pages(self, req: _Request, *, cached: bool = False) -> list[KpiMeta]:
        out: dict[str, KpiMeta] = {}
        for page, fetched_at, _from_cache in self._pages(req, cached=cached):
            self.catalogue_fetched_at = fetched_at
            for obj in page.rows:
                meta = self._parse(req.url, parse_kpi, obj)
                out.setdefault(meta.id, meta)
        return list(out.values())

    @_bounded
    def municipality_groups(self, title: str) -> list[MunicipalityGroup]:
        """Municipality groups whose title contains *title* (Kolada's search)."""
        if not title.strip():
            raise BadInput("Ange en del av gruppens namn för att söka kommungrupper.")
        req = self._request("/municipality_groups", {"title": title, "per_page": self.per_page},
                            "kommungrupper")
        return [self._parse(req.url, parse_group, obj) for obj in self._group_rows(req, title)]

    @_bounded
    def municipality_group(self, group_id: str) -> MunicipalityGroup | None:
        """The group with id ``G…``, or ``None`` if Kolada does not know it."""
        (gid,) = _clean_ids([group_id], "kommungrupp")
        req = self._request(f"/municipality_groups/{gid}", {"per_page": self.per_page}, "kommungrupp")
        groups = [self._parse(req.url, parse_group, obj) for obj in self._group_rows(req, gid)]
        return next((g for g in groups if g.id == gid), None)

    def data_urls(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> list[str]:
        """First-page URLs: one per combination of 25-id chunks of each dimension."""
        return [r.url for r in self._data_requests(kpis, municipalities, years)]

    def data_keys(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> list[str]:
        """The cache keys of :meth:`data_urls` (the same requests, without the host)."""
        return [r.key for r in self._data_requests(kpis, municipalities, years)]

    def _data_requests(
        self, kpis: Sequence[str], municipalities: Sequence[str], years: Sequence[int]
    ) -> list[_Request]:
        combos = itertools.product(
            chunks(list(kpis)), chunks(list(municipalities)), chunks([str(y) for y in years])
        )
        return [
            self._request(
                f"/data/kpi/{','.join(k)}/municipality/{','.join(m)}/year/{','.join(y)}",
                {"per_page": self.per_page},
                "värden",
            )
            for k, m, y in combos
        ]

    # -- data and revisions --------------------------------------------------------
    def _fetch_data(self, req: _Request) -> tuple[list[KoladaValue], list[Revision]]:
        previous = None if self.offline else self._cached_values(req)
        by_key: dict[tuple[str, str, int, str], KoladaValue] = {}
        for page, fetched_at, from_cache in self._pages(req):
            for row in page.rows:
                for v in self._parse(req.url, parse_data_row, row, fetched_at, from_cache):
                    by_key[v.key] = v  # a row repeated across pages counts once (last wins)
        values = list(by_key.values())
        revisions = _revisions(previous, values) if previous is not None else []
        return values, revisions

    def _cached_values(self, req: _Request) -> list[KoladaValue] | None:
        """Values of the previous cached extraction of *req* (pages as far as cached),
        or ``None`` when there is none to compare with."""
        if self.cache is None:
            return None
        values: list[KoladaValue] = []
        pages_read = 0
        url: str | None = req.url
        while url is not None and pages_read < self.max_pages:
            try:
                entry = self.cache.get(page_key(req.key, pages_read + 1), legacy_url=url)
                if entry is None:
                    break
                page = parse_page(entry.body)
                for row in page.rows:
                    values.extend(parse_data_row(row, entry.fetched_at, True))
            except (KoladaUnavailable, ShapeError):
                break  # an unreadable old entry only means fewer comparisons
            pages_read += 1
            url = page.next_url
        return values if pages_read else None

    # -- paging -------------------------------------------------------------------
    def _rows(self, req: _Request, *, cached: bool = False) -> Iterator[Any]:
        for page, _fetched_at, _from_cache in self._pages(req, cached=cached):
            yield from page.rows

    def _group_rows(self, req: _Request, asked: str) -> list[Any]:
        """Rows of a group lookup; if Kolada fails, the cached answer (with a warning)."""
        try:
            return list(self._rows(req))
        except KoladaUnavailable as exc:
            if self.offline or self.cache is None:
                raise _group_failure(asked, exc) from exc
            try:
                rows = list(self._rows(req, cached=True))
            except KoladaUnavailable:
                raise _group_failure(asked, exc) from exc
            self._warn(f"Kommungruppen '{asked}' kunde inte hämtas från Kolada ({exc}); "
                       "de sparade uppgifterna i cachen används.")
            return rows

    def _pages(self, req: _Request, *, cached: bool = False) -> Iterator[tuple[Page, datetime, bool]]:
        """Follow ``next_url`` from the first page; yields (page, fetched_at, from_cache).
        Offline (or ``cached``) the pages come from the cache, by request and page number."""
        from_cache = cached or self.offline
        seen: set[str] = set()
        url: str | None = req.url
        number = 0
        while url is not None:
            if url in seen and not from_cache:
                raise KoladaUnavailable(
                    f"Kolada skickade samma sida två gånger ({url}); hämtningen avbröts."
                )
            if number >= self.max_pages:
                raise KoladaUnavailable(
                    f"Kolada gav fler än {self.max_pages} sidor för {req.url}; "
                    "hämtningen avbröts."
                )
            seen.add(url)
            number += 1
            body, fetched_at, was_cached = self._load(req, number, url, from_cache)
            page = self._parse(url, parse_page, body)
            yield page, fetched_at, was_cached
            url = page.next_url

    def _load(self, req: _Request, number: int, url: str, from_cache: bool) -> tuple[Any, datetime, bool]:
        key = page_key(req.key, number)
        recent = None if from_cache else self._recent_entry(key)
        if recent is not None:  # asked less than ``fresh`` seconds ago: the same answer, no request
            return recent.body, recent.fetched_at, True
        if from_cache:
            assert self.cache is not None
            entry = self.cache.get(key, legacy_url=url)
            if entry is None:
                raise KoladaUnavailable(
                    f"{url} finns inte i cachen ({self.cache.folder}). "
                    "Hämta från Kolada i uppkopplat läge först."
                )
            return entry.body, entry.fetched_at, True
        body = self._get_json(url, f"{req.what} (sida {number})")
        fetched_at = self._now()
        self._store(key, body, fetched_at, url)
        return body, fetched_at, False

    def _recent_entry(self, key: str) -> CacheEntry | None:
        """The cached answer to *key* when it was fetched less than ``fresh`` seconds ago."""
        if self.fresh <= 0 or self.cache is None:
            return None
        try:
            entry = self.cache.get(key)
        except KoladaUnavailable:
            return None  # an unreadable cache file: ask Kolada
        if entry is None or not 0 <= (self._now() - entry.fetched_at).total_seconds() < self.fresh:
            return None
        return entry

    def _store(self, key: str, body: Any, fetched_at: datetime, url: str) -> None:
        if self.cache is None or not self._cache_writable:
            return
        try:
            self.cache.put(key, body, fetched_at, url)
        except CacheUnavailable as exc:
            self._cache_writable = False  # warn once; the values themselves are fine
            self._warn(f"{exc} Värdena hämtades men sparas inte i cachen.")

    # -- HTTP with retries and the deadline ------------------------------------------------
    def _get_json(self, url: str, what: str) -> Any:
        attempt = 0
        while True:
            if self._remaining() <= 0:
                raise self._deadline_error(url)
            again = f", försök {attempt + 1}" if attempt else ""
            self._say(f"Hämtar från Kolada: {what}{again}…")
            outcome = self._attempt(url, attempt)
            if outcome.failure is None:
                return outcome.body
            if attempt >= self.max_retries:
                raise KoladaUnavailable(
                    f"Kolada svarar inte: {url} ({outcome.failure}; gav upp efter "
                    f"{attempt + 1} försök). Försök igen senare eller använd cachen (offline)."
                ) from outcome.cause
            remaining = self._remaining()
            if outcome.retry_after is not None and outcome.retry_after > remaining:
                raise KoladaUnavailable(self._retry_after_message(url, outcome.retry_after)) from outcome.cause
            if outcome.delay >= remaining:
                raise self._deadline_error(url, outcome.failure) from outcome.cause
            self._say(f"Kolada svarar inte ({outcome.failure}), försöker igen om {_secs(outcome.delay)} s…")
            self._sleep(outcome.delay)
            attempt += 1

    def _attempt(self, url: str, attempt: int) -> _Outcome:
        """One request; a retryable failure is returned, anything else raises."""
        import httpx

        self.request_count += 1
        backoff = min(self.max_backoff, self.backoff * 2**attempt)
        limit = max(0.01, min(self.timeout, self._remaining()))
        try:
            with self.http.stream("GET", url, timeout=limit, headers={"Accept": "application/json"}) as resp:
                data = self._read_body(url, resp)
        except httpx.TimeoutException as exc:
            if self._remaining() <= 0:
                raise self._deadline_error(url, "inget svar") from exc
            return _Outcome(failure=f"inget svar inom {_secs(limit)} s", delay=backoff, cause=exc)
        except (httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            if self._remaining() <= 0:
                raise self._deadline_error(url, "svaret avbröts") from exc
            failure = f"nätverksfel: {type(exc).__name__}: {exc}"
            return _Outcome(failure=failure, delay=backoff, cause=exc)
        except httpx.TooManyRedirects as exc:
            raise KoladaUnavailable(
                f"Kolada-adressen skickar vidare i en slinga ({url}): för många omdirigeringar. "
                "Kontrollera Kolada-adressen (bas-URL)."
            ) from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise KoladaUnavailable(_transport_message(url, exc)) from exc
        try:
            resp.raise_for_status()
        except httpx.HTTPStatusError as exc:
            if resp.status_code not in RETRY_STATUSES:
                raise KoladaUnavailable(_refusal_message(url, resp.status_code, data)) from exc
            after = _retry_after(resp.headers.get("Retry-After"), self._now())
            delay = backoff if after is None else max(backoff, after)
            return _Outcome(failure=f"HTTP {resp.status_code}", delay=delay, retry_after=after, cause=exc)
        return _Outcome(body=_json_body(url, resp.status_code, data))

    def _read_body(self, url: str, resp: httpx.Response) -> bytes:
        """The body, streamed: at most ``max_bytes``, and not past the deadline."""
        declared = resp.headers.get("Content-Length", "").strip()
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise self._too_big(url, int(declared))
        body = bytearray()
        with _Watchdog(resp, self._remaining()):
            for chunk in resp.iter_bytes():
                body += chunk
                if len(body) > self.max_bytes:
                    raise self._too_big(url, None)
                if self._remaining() <= 0:
                    raise self._deadline_error(url, f"svaret kom för långsamt, {len(body)} byte")
        return bytes(body)

    def _remaining(self) -> float:
        if self._deadline_at is None:
            return self.deadline
        return self._deadline_at - self._clock()

    def _deadline_error(self, url: str, failure: str | None = None) -> KoladaUnavailable:
        last = f"; {failure}" if failure else ""
        return KoladaUnavailable(
            f"Kolada svarade inte inom tidsgränsen {_secs(self.deadline)} s ({url}{last}); "
            f"hämtningen avbröts efter {self.request_count} anrop. Försök igen senare, ge en längre "
            f"tidsgräns ({ENV_DEADLINE}) eller använd cachen (offline)."
        )

    def _retry_after_message(self, url: str, seconds: float) -> str:
        at = (self._now() + timedelta(seconds=seconds)).astimezone()
        when = at.strftime("%H:%M") if seconds < 12 * 3600 else at.strftime("%Y-%m-%d %H:%M")
        return (
            f"Kolada ber att få vänta {_duration(seconds)} innan nästa fråga (till kl. {when}), "
            f"längre än tidsgränsen {_secs(self.deadline)} s; hämtningen avbröts ({url}). "
            f"Försök igen efter kl. {when} eller använd cachen (offline)."
        )

    def _too_big(self, url: str, size: int | None) -> KoladaUnavailable:
        got = f", {_megabytes(size)} enligt servern" if size is not None else ""
        return KoladaUnavailable(
            f"Svaret från Kolada är större än {_megabytes(self.max_bytes)} ({url}{got}); hämtningen "
            "avbröts. Kontrollera Kolada-adressen (bas-URL)."
        )

    # -- helpers -------------------------------------------------------------------
    def _request(self, path: str, params: dict[str, Any], what: str) -> _Request:
        query = urlencode(params)
        return _Request(key=f"{path}?{query}", url=f"{self.base_url}{path}?{query}", what=what)

    def _say(self, line: str) -> None:
        if self.progress is not None:
            self.progress(line)

    def _warn(self, line: str) -> None:
        self.warnings.append(line)
        self._say(line)

    @staticmethod
    def _parse(url: str, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return fn(*args)
        except ShapeError as exc:
            raise KoladaUnavailable(
                f"Kolada gav ett svar med oväntad form från {url}: {exc}."
            ) from exc


class _Watchdog:
    """Shuts the response's socket at the deadline, so a read blocked on a server
    that stopped sending mid-body returns at once (httpx's read time-out starts
    again with every byte).  Does nothing without a real socket (mock transports)."""

    def __init__(self, resp: httpx.Response, seconds: float):
        stream = resp.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        self._timer: threading.Timer | None = None
        if isinstance(sock, socket.socket):
            self._timer = threading.Timer(max(seconds, 0.0), _shut, (sock,))
            self._timer.daemon = True

    def __enter__(self) -> _Watchdog:
        if self._timer is not None:
            self._timer.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._timer is not None:
            self._timer.cancel()


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass  # already closed


def _retry_after(header: str | None, now: datetime) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (a number or an HTTP date)."""
    text = (header or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def _secs(seconds: float) -> str:
    return f"{round(seconds, 1):g}".replace(".", ",")


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{_secs(seconds)} s"
    if seconds < 2 * 3600:
        return f"{round(seconds / 60):d} min"
    return f"{seconds / 3600:.1f} timmar".replace(".0 ", " ").replace(".", ",")


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB".replace(".0 ", " ").replace(".", ",")


def _group_failure(asked: str, exc: KoladaUnavailable) -> KoladaUnavailable:
    return KoladaUnavailable(
        f"Jämförelsegruppen '{asked}' (Liknande kommuner) kunde inte slås upp i Kolada: {exc}"
    )


def _transport_message(url: str, exc: Exception) -> str:
    import httpx

    what = {
        httpx.UnsupportedProtocol: "adressen ska börja med http:// eller https://",
        httpx.InvalidURL: "adressen är ogiltig",
        httpx.DecodingError: "svaret kunde inte avkodas",
        httpx.LocalProtocolError: "frågan kunde inte skickas",
        httpx.ProxyError: "fel i proxyn",
    }
    reason = next((text for cls, text in what.items() if isinstance(exc, cls)), "nätverksfel")
    return (
        f"Kolada kunde inte nås: {url} ({reason}: {type(exc).__name__}: {exc}). "
        "Kontrollera Kolada-adressen (bas-URL) och nätverket."
    )


def _json_body(url: str, status: int, data: bytes) -> Any:
    try:
        return loads_strict(data)
    except NonFiniteNumber as exc:
        raise KoladaUnavailable(
            f"Kolada gav ett ogiltigt tal ({exc.text[:40]}) från {url}; svaret används inte "
            "och inga värden skrivs. Försök igen senare."
        ) from exc
    except (ValueError, RecursionError) as exc:
        raise KoladaUnavailable(
            f"Kolada gav ett svar som inte är giltig JSON från {url} "
            f"(HTTP {status}, {len(data)} byte): {exc}"
        ) from exc


def _refusal_message(url: str, code: int, data: bytes) -> str:
    hint = {
        404: " Adressen finns inte – kontrollera Kolada-adressen (bas-URL).",
        422: " Frågan godtogs inte (för många id:n i en del av adressen eller för stor sida?).",
    }.get(code, "")
    detail = data[:400].decode("utf-8", "replace").strip().replace("\n", " ")[:200]
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
