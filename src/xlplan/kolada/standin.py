"""A local Kolada v3 stand-in: a real HTTP server on 127.0.0.1 serving sample data.

For tests, demos and benchmarks without the network::

    with KoladaStandin(latency=0.0, fail=None) as srv:
        client = KoladaClient(base_url=srv.url)          # "http://127.0.0.1:PORT/v3"
        ...
        srv.request_count, srv.paths                     # what the client asked

Routes (v3 shapes, see :mod:`xlplan.kolada.standin_data` for where the data
comes from and what is only a stand-in, e.g. the group ``G176486``):

* ``/v3/data/kpi/{ids}/municipality/{ids}/year/{years}`` and the two-dimension
  forms (``kpi+year``, ``kpi+municipality``, ``municipality+year``);
* ``/v3/kpi[/{ids}]``, ``/v3/municipality[/{ids}]``,
  ``/v3/municipality_groups[/{ids}]``, each with ``?title=`` substring search.

Like Kolada: ``per_page`` (default and max 5000) and ``page`` (1-based) page
every list, ``next_url``/``previous_url`` are absolute URLs, ``count`` is the
number of items on the page, more than 25 ids in a path segment or
``per_page`` > 5000 gives HTTP 422, unknown routes 404.

Faults on demand: ``fail`` =

* ``"500"``, ``"429"`` (with ``Retry-After: 1``), ``"retry_after"`` (HTTP 429
  with ``Retry-After: <retry_after>``, default 3600);
* ``"timeout"`` (no answer for ``timeout_delay`` s, then the connection
  closes), ``"silent"`` (no answer at all until the server stops);
* ``"drip"`` (the right answer, one byte every ``drip_interval`` s);
* ``"huge"`` (a body of ``huge_bytes``, default 90 MB, streamed without a
  length) and ``"huge_declared"`` (the same with its ``Content-Length``);
* ``"redirect_loop"`` (HTTP 302 to the same address, for ever);
* ``"bad_encoding"`` (``Content-Encoding: gzip`` on a body that is not gzip);
* ``"nan"``, ``"infinity"``, ``"exponent"`` (the right answer with every data
  value written as ``NaN``, ``Infinity`` or ``1e999``);
* ``"malformed"`` (truncated JSON) or ``"empty"`` (an empty ``values`` list);

for every request, or only the first ``fail_times`` requests (and, through
:meth:`set_failure`, only requests whose path starts with a given prefix).  ``latency``
seconds are added to every request.  Change them with :meth:`set_failure`,
and the data through ``srv.data`` (:class:`StandinData`).  ``bytes_sent``
counts the body bytes written (a client that stops reading makes it stop).
Every slow fault ends by itself when the client goes away or the server stops.
"""

from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

from xlplan.kolada.standin_data import StandinData

MAX_IDS = 25
MAX_PER_PAGE = 5000
FAILURES = ("500", "429", "retry_after", "timeout", "silent", "drip", "huge", "huge_declared",
            "redirect_loop", "bad_encoding", "nan", "infinity", "exponent", "malformed", "empty")
NON_FINITE = {"nan": "NaN", "infinity": "Infinity", "exponent": "1e999"}
_STREAM_BLOCK = 64 * 1024


class HttpProblem(Exception):
    def __init__(self, status: int, detail: str):
        super().__init__(detail)
        self.status = status
        self.detail = detail


class KoladaStandin:
    """A Kolada v3 stand-in server in a background thread (a context manager)."""

    def __init__(
        self,
        latency: float = 0.0,
        fail: str | None = None,
        fail_times: int | None = None,
        *,
        data: StandinData | None = None,
        port: int = 0,
        timeout_delay: float = 10.0,
        drip_interval: float = 1.0,
        huge_bytes: int = 90 * 1024 * 1024,
        retry_after: str = "3600",
    ):
        self.latency = latency
        self.timeout_delay = timeout_delay
        self.drip_interval = drip_interval
        self.huge_bytes = huge_bytes
        self.retry_after = retry_after
        self.bytes_sent = 0
        self.data = data if data is not None else StandinData.load()
        self.port = port
        self.paths: list[str] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.set_failure(fail, fail_times)

    # -- control ---------------------------------------------------------------
    def set_failure(self, fail: str | None, times: int | None = None, *, only: str | None = None) -> None:
        """Fail every request (``times=None``) or the next *times* requests; with
        *only*, just the requests whose path starts with it (e.g. ``"/v3/data/"``)."""
        if fail is not None and fail not in FAILURES:
            raise ValueError(f"unknown failure {fail!r}; use one of {FAILURES}")
        with self._lock:
            self.fail = fail
            self._failures_left = times
            self._fail_only = only

    @property
    def request_count(self) -> int:
        with self._lock:
            return len(self.paths)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v3"

    def start(self) -> KoladaStandin:
        self._server = _Server(("127.0.0.1", self.port), _Handler, self)
        self.port = self._server.server_address[1]
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> KoladaStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- used by the handler ----------------------------------------------------------
    def _record(self, path: str) -> str | None:
        """Note a request; return the failure to act out for it, if any."""
        with self._lock:
            self.paths.append(path)
            if self.fail is None or (self._fail_only is not None and not path.startswith(self._fail_only)):
                return None
            if self._failures_left is None:
                return self.fail
            if self._failures_left > 0:
                self._failures_left -= 1
                return self.fail
            return None

    def _wait(self, seconds: float) -> None:
        if seconds > 0:
            self._stop.wait(seconds)

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    def _sent(self, n: int) -> None:
        with self._lock:
            self.bytes_sent += n

    def answer(self, target: str) -> tuple[int, dict[str, Any]]:
        """Status and JSON body for a request target (path + query)."""
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query))
        segments = [unquote(s) for s in parts.path.split("/") if s]
        if not segments or segments[0] != "v3" or len(segments) < 2:
            raise HttpProblem(404, "Not Found")
        items = self._items(segments[1:], query.get("title"))
        return 200, _page(items, query, self.port, parts.path)

    def _items(self, segs: list[str], title: str | None) -> list[dict[str, Any]]:
        head, rest = segs[0], segs[1:]
        if head == "data":
            return self._data_items(rest)
        listers = {
            "kpi": self.data.kpi_objects,
            "municipality": self.data.municipality_objects,
            "municipality_groups": self.data.group_objects,
        }
        if head not in listers or len(rest) > 1:
            raise HttpProblem(404, "Not Found")
        ids = _ids(rest[0]) if rest else None
        return listers[head](ids, title)

    def _data_items(self, rest: list[str]) -> list[dict[str, Any]]:
        if len(rest) % 2 or len(rest) < 4:
            raise HttpProblem(404, "Not Found")
        dims = dict(zip(rest[0::2], rest[1::2]))
        if len(dims) != len(rest) // 2 or not set(dims) <= {"kpi", "municipality", "year"}:
            raise HttpProblem(404, "Not Found")
        kpis = _ids(dims["kpi"]) if "kpi" in dims else None
        units = _ids(dims["municipality"]) if "municipality" in dims else None
        years = _years(dims["year"]) if "year" in dims else None
        return self.data.data_rows(kpis, units, years)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], handler: type, standin: KoladaStandin):
        self.standin = standin
        super().__init__(addr, handler)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        standin = self.server.standin
        failure = standin._record(self.path)
        standin._wait(standin.latency)
        if failure is not None and self._fail(failure):
            return
        try:
            status, body = standin.answer(self.path)
        except HttpProblem as exc:
            status, body = exc.status, {"detail": exc.detail}
        if failure in NON_FINITE:
            self._send(status, _with_values(body, NON_FINITE[failure]), "application/json")
        elif failure == "drip":
            self._drip(status, json.dumps(body, ensure_ascii=False).encode("utf-8"))
        else:
            self._send_json(status, body)

    def _fail(self, failure: str) -> bool:
        """Act out *failure*; ``False`` when it needs the real answer (sent by the caller)."""
        standin = self.server.standin
        if failure in NON_FINITE or failure == "drip":
            return False
        if failure in ("timeout", "silent"):
            if failure == "timeout":
                standin._wait(standin.timeout_delay)
            else:
                standin._stop.wait()  # until the server stops
            self.close_connection = True
        elif failure in ("huge", "huge_declared"):
            self._huge(declared=failure == "huge_declared")
        elif failure == "bad_encoding":
            self._send(200, b"this is not gzip", "application/json", {"Content-Encoding": "gzip"})
        elif failure == "redirect_loop":
            self._send(302, b"", "text/plain", {"Location": self.path})
        elif failure == "malformed":
            self._send(200, b'{"count": 1, "values": [{"kpi": "U2', "application/json")
        elif failure == "empty":
            self._send_json(200, {"count": 0, "values": [], "next_url": None, "previous_url": None})
        elif failure == "429":
            self._send_json(429, {"detail": "Too Many Requests"}, {"Retry-After": "1"})
        elif failure == "retry_after":
            self._send_json(429, {"detail": "Too Many Requests"}, {"Retry-After": standin.retry_after})
        else:
            self._send_json(500, {"detail": "Internal Server Error"})
        return True

    def _drip(self, status: int, data: bytes) -> None:
        """The whole answer, one byte every ``drip_interval`` seconds."""
        standin = self.server.standin
        self.close_connection = True
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            for i in range(len(data)):
                if standin.stopping:
                    return
                self.wfile.write(data[i : i + 1])
                standin._sent(1)
                standin._wait(standin.drip_interval)
        except OSError:
            return  # the client gave up

    def _huge(self, declared: bool) -> None:
        """A valid-looking answer of ``huge_bytes`` bytes, streamed in blocks."""
        standin = self.server.standin
        self.close_connection = True
        row = json.dumps(standin.data.data_rows(["U21468"], ["1489"], [2022])[0]).encode("utf-8") + b","
        block = row * (_STREAM_BLOCK // len(row) + 1)
        try:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            if declared:
                self.send_header("Content-Length", str(standin.huge_bytes))
            self.send_header("Connection", "close")
            self.end_headers()
            head = b'{"count": 0, "next_url": null, "values": ['
            self.wfile.write(head)
            sent = len(head)
            while sent < standin.huge_bytes and not standin.stopping:
                part = block[: standin.huge_bytes - sent]
                self.wfile.write(part)
                sent += len(part)
                standin._sent(len(part))
        except OSError:
            return  # the client stopped reading

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        self._send(status, data, "application/json; charset=utf-8", headers)

    def _send(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)
            self.server.standin._sent(len(data))
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its time-out)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        return  # quiet; requests are recorded in KoladaStandin.paths


def _with_values(body: dict[str, Any], literal: str) -> bytes:
    """*body* as JSON with every data value written as *literal* (``NaN`` …)."""
    marker = "__xlplan_value__"
    for row in body.get("values", []):
        for cell in row.get("values", []) if isinstance(row, dict) else []:
            if isinstance(cell, dict) and "value" in cell:
                cell["value"] = marker
    text = json.dumps(body, ensure_ascii=False)
    return re.sub(f'"{marker}"', literal, text).encode("utf-8")


def _ids(segment: str) -> list[str]:
    ids = [i for i in segment.split(",") if i]
    if len(ids) > MAX_IDS:
        raise HttpProblem(422, f"Too many ids in path segment: {len(ids)} > {MAX_IDS}")
    return ids


def _years(segment: str) -> list[int]:
    years = _ids(segment)
    if not all(y.isdigit() for y in years):
        raise HttpProblem(422, f"Invalid year list: {segment}")
    return [int(y) for y in years]


def _int_param(query: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name, str(default))
    if not raw.isdigit() or not low <= int(raw) <= high:
        raise HttpProblem(422, f"Invalid {name}: {raw} (allowed {low}..{high})")
    return int(raw)


def _page(items: list[dict[str, Any]], query: dict[str, str], port: int, path: str) -> dict[str, Any]:
    per_page = _int_param(query, "per_page", MAX_PER_PAGE, 1, MAX_PER_PAGE)
    page = _int_param(query, "page", 1, 1, 10**9)
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]

    def link(n: int) -> str:
        return f"http://127.0.0.1:{port}{path}?{urlencode({**query, 'page': n, 'per_page': per_page})}"

    return {
        "count": len(chunk),
        "values": chunk,
        "next_url": link(page + 1) if start + per_page < len(items) else None,
        "previous_url": link(page - 1) if page > 1 else None,
    }


def serve(port: int) -> None:
    """Run the stand-in in the foreground on 127.0.0.1:*port* until Ctrl+C."""
    standin = KoladaStandin(port=port)
    server = _Server(("127.0.0.1", port), _Handler, standin)
    standin.port = server.server_address[1]
    print(f"Koladas ersättningsserver (stand-in) kör på {standin.url} – avsluta med Ctrl+C.")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("Avslutar.")
    finally:
        server.server_close()
