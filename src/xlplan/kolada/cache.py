"""On-disk cache of Kolada responses: one JSON file per request URL.

Each file is named by the SHA-256 of the full request URL (query included) and
holds ``{"url": ..., "fetched_at": ISO-8601 UTC, "response": <parsed JSON>}``.
Paged responses are stored page by page (each page has its own URL), so an
offline replay follows the cached ``next_url`` chain exactly as it was fetched.

Folder: the ``folder`` argument, else ``$XLPLAN_CACHE_DIR/kolada``, else
``~/.cache/xlplan/kolada``.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from xlplan.atomic import write_bytes_atomic
from xlplan.errors import KoladaUnavailable

ENV_CACHE_DIR = "XLPLAN_CACHE_DIR"


@dataclass(frozen=True)
class CacheEntry:
    url: str
    fetched_at: datetime
    body: Any


def default_cache_folder() -> Path:
    root = os.environ.get(ENV_CACHE_DIR)
    if root:
        return Path(root).expanduser() / "kolada"
    return Path.home() / ".cache" / "xlplan" / "kolada"


class KoladaCache:
    """A folder of cached Kolada responses, keyed by request URL."""

    def __init__(self, folder: str | os.PathLike[str] | None = None):
        self.folder = Path(folder) if folder is not None else default_cache_folder()

    def path_for(self, url: str) -> Path:
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()
        return self.folder / f"{digest}.json"

    def get(self, url: str) -> CacheEntry | None:
        """The cached entry for *url*, or ``None`` if there is none.

        Raises :class:`KoladaUnavailable` if the file exists but is unreadable.
        """
        path = self.path_for(url)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise KoladaUnavailable(f"Cachefilen {path} kan inte läsas: {exc}") from exc
        return _decode_entry(path, url, raw)

    def put(self, url: str, body: Any, fetched_at: datetime) -> Path:
        """Store *body* (parsed JSON) for *url*, atomically; return the file path."""
        path = self.path_for(url)
        doc = {"url": url, "fetched_at": fetched_at.isoformat(), "response": body}
        data = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
        write_bytes_atomic(path, data)
        return path

    def __repr__(self) -> str:
        return f"KoladaCache({str(self.folder)!r})"


def _decode_entry(path: Path, url: str, raw: bytes) -> CacheEntry:
    try:
        doc = json.loads(raw.decode("utf-8"))
        stored_url = doc["url"]
        fetched_at = datetime.fromisoformat(doc["fetched_at"])
        body = doc["response"]
    except (ValueError, KeyError, TypeError) as exc:
        raise KoladaUnavailable(
            f"Cachefilen {path} är trasig ({exc}). Ta bort filen och hämta igen."
        ) from exc
    if stored_url != url:
        raise KoladaUnavailable(
            f"Cachefilen {path} hör till en annan adress ({stored_url}), inte {url}."
        )
    return CacheEntry(url=url, fetched_at=fetched_at, body=body)
