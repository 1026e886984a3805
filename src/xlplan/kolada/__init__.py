"""Kolada (api.kolada.se v3): client, on-disk cache and a local stand-in server.

See :mod:`xlplan.kolada.client` for the API (``KoladaClient.fetch_values``),
:mod:`xlplan.kolada.cache` for the cache and :mod:`xlplan.kolada.standin` for
the local server built from real sample data.
"""

from __future__ import annotations

from xlplan._lazy import lazy_getattr

# Imported on first use: the client needs httpx, which only pull uses (models are plain data).
_EXPORTS = {
    "KoladaCache": "xlplan.kolada.cache",
    "DEFAULT_BASE_URL": "xlplan.kolada.client",
    "KoladaClient": "xlplan.kolada.client",
    "resolve_base_url": "xlplan.kolada.client",
    "FetchResult": "xlplan.kolada.models",
    "GroupMember": "xlplan.kolada.models",
    "KoladaValue": "xlplan.kolada.models",
    "KpiMeta": "xlplan.kolada.models",
    "MunicipalityGroup": "xlplan.kolada.models",
    "Revision": "xlplan.kolada.models",
    "is_preliminary": "xlplan.kolada.models",
    "KoladaStandin": "xlplan.kolada.standin",
    "serve": "xlplan.kolada.standin",
}


__getattr__ = lazy_getattr("xlplan.kolada", _EXPORTS, globals())


__all__ = [
    "DEFAULT_BASE_URL",
    "FetchResult",
    "GroupMember",
    "KoladaCache",
    "KoladaClient",
    "KoladaStandin",
    "KoladaValue",
    "KpiMeta",
    "MunicipalityGroup",
    "Revision",
    "is_preliminary",
    "resolve_base_url",
    "serve",
]
