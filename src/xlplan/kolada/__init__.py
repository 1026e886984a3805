"""Kolada (api.kolada.se v3): client, on-disk cache and a local stand-in server.

See :mod:`xlplan.kolada.client` for the API (``KoladaClient.fetch_values``),
:mod:`xlplan.kolada.cache` for the cache and :mod:`xlplan.kolada.standin` for
the local server built from real sample data.
"""

from xlplan.kolada.cache import KoladaCache
from xlplan.kolada.client import DEFAULT_BASE_URL, KoladaClient, resolve_base_url
from xlplan.kolada.models import (
    FetchResult,
    GroupMember,
    KoladaValue,
    KpiMeta,
    MunicipalityGroup,
    Revision,
    is_preliminary,
)
from xlplan.kolada.standin import KoladaStandin, serve

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
