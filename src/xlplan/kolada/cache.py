"""On-disk cache of Kolada responses: one JSON file per request and page.

An entry is keyed by the *request*, not by the server that answered it: the
path and query relative to the Kolada base URL (the KPI ids, municipalities,
years and ``per_page``) plus the page number along the ``next_url`` chain,
e.g. ``/data/kpi/U21468/municipality/1489,0000/year/2022?per_page=5000#page=2``
(see :func:`page_key`).  So values fetched through one address (the stand-in,
a proxy, api.kolada.se) are found offline whatever ``--kolada-url`` is given.

Each file is named by the SHA-256 of that key and holds
``{"request": key, "url": the URL fetched, "fetched_at": ISO-8601 UTC,
"response": <parsed JSON>}``.  Files written by older versions (keyed by the
full URL, without ``"request"``) are still read when the caller gives the URL
(``legacy_url``).

Folder: the ``folder`` argument, else ``$XLPLAN_CACHE_DIR/kolada``, else
``~/.cache/xlplan/kolada``.  A folder that is a file or cannot be written
raises :class:`CacheUnavailable` (a :class:`~xlplan.core.errors.KoladaUnavailable`
with a Swedish message); the client then goes on without writing the cache.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xlplan.core.errors import KoladaUnavailable
from xlplan.io.atomic import write_bytes_atomic
from xlplan.kolada.parse import loads_strict

ENV_CACHE_DIR = "XLPLAN_CACHE_DIR"


class CacheUnavailable(KoladaUnavailable):
    """The cache folder cannot be used (it is a file, or not readable/writable)."""


@dataclass(frozen=True)
class CacheEntry:
    key: str
    url: str
    fetched_at: datetime
    body: Any


def default_cache_folder() -> Path:
    root = os.environ.get(ENV_CACHE_DIR)
    if root:
        return Path(root).expanduser() / "kolada"
    return Path.home() / ".cache" / "xlplan" / "kolada"


def page_key(request: str, page: int) -> str:
    """The cache key of page *page* (1-based, along ``next_url``) of *request*."""
    return request if page == 1 else f"{request}#page={page}"


class KoladaCache:
    """A folder of cached Kolada responses, keyed by request (see the module docs)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_folder()

    def path_for(self, key: str) -> Path:
        digest = hashlib.sha256(key.encode("utf-8")).hexdigest()
        return self.folder / f"{digest}.json"

    def get(self, key: str, *, legacy_url: str | None = None) -> CacheEntry | None:
        """The cached entry for *key* (or, failing that, the old-style entry of
        *legacy_url*), or ``None`` if there is none.

        Raises :class:`KoladaUnavailable` if the file exists but is unreadable,
        :class:`CacheUnavailable` if the folder is not a usable folder.
        """
        raw = self._read(self.path_for(key))
        if raw is not None:
            return _decode_entry(self.path_for(key), key, raw, legacy=False)
        if legacy_url is not None:
            old = self.path_for(legacy_url)
            raw = self._read(old)
            if raw is not None:
                return _decode_entry(old, legacy_url, raw, legacy=True)
        return None

    def put(self, key: str, body: Any, fetched_at: datetime, url: str | None = None) -> Path:
        """Store *body* (parsed JSON) for *key*, atomically; return the file path."""
        path = self.path_for(key)
        doc = {"request": key, "url": url if url is not None else key,
               "fetched_at": fetched_at.isoformat(), "response": body}
        try:
            data = json.dumps(doc, ensure_ascii=False, indent=1, allow_nan=False).encode("utf-8")
        except ValueError as exc:  # NaN/Infinity never reach the cache
            raise KoladaUnavailable(f"Svaret för {key} innehåller ogiltiga tal och sparas inte: {exc}") from exc
        self._check_folder()
        try:
            write_bytes_atomic(path, data)
        except OSError as exc:
            raise CacheUnavailable(
                f"Cachemappen {self.folder} kan inte skrivas ({exc.strerror or exc}). "
                "Ange en annan mapp med --cache-dir (eller XLPLAN_CACHE_DIR)."
            ) from exc
        return path

    def _read(self, path: Path) -> bytes | None:
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except NotADirectoryError as exc:
            raise self._not_a_folder() from exc
        except OSError as exc:
            raise CacheUnavailable(f"Cachefilen {path} kan inte läsas: {exc.strerror or exc}") from exc

    def _check_folder(self) -> None:
        for folder in (self.folder, *self.folder.parents):
            if folder.exists():
                if not folder.is_dir():
                    raise self._not_a_folder(folder)
                return

    def _not_a_folder(self, which: Path | None = None) -> CacheUnavailable:
        if which is None:
            found = (f for f in (self.folder, *self.folder.parents) if f.exists() and not f.is_dir())
            which = next(found, self.folder)
        return CacheUnavailable(
            f"Cachemappen {self.folder} kan inte användas: {which} är en fil, inte en mapp. "
            "Ange en annan mapp med --cache-dir (eller XLPLAN_CACHE_DIR)."
        )

    def __repr__(self) -> str:
        return f"KoladaCache({str(self.folder)!r})"


def _decode_entry(path: Path, key: str, raw: bytes, *, legacy: bool) -> CacheEntry:
    try:
        doc = loads_strict(raw.decode("utf-8"))
        stored = doc["url"] if legacy else doc["request"]
        url = doc["url"]
        fetched_at = datetime.fromisoformat(doc["fetched_at"])
        body = doc["response"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KoladaUnavailable(
            f"Cachefilen {path} är trasig ({exc}). Ta bort filen och hämta igen."
        ) from exc
    if stored != key:
        raise KoladaUnavailable(
            f"Cachefilen {path} hör till en annan fråga ({stored}), inte {key}."
        )
    return CacheEntry(key=key, url=url, fetched_at=fetched_at, body=body)
