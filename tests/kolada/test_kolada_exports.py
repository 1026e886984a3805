"""The public surface of xlplan.kolada."""

from __future__ import annotations

import xlplan.kolada as kolada


def test_all_names_exist_and_are_sorted() -> None:
    assert kolada.__all__ == sorted(kolada.__all__)
    for name in kolada.__all__:
        assert getattr(kolada, name) is not None, name


def test_public_client_methods() -> None:
    for method in ["fetch", "fetch_values", "kpi_metadata", "municipality_groups",
                   "municipality_group", "data_urls", "close"]:
        assert callable(getattr(kolada.KoladaClient, method)), method
