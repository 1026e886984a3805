"""Checking and converting Kolada v3 JSON into :mod:`xlplan.kolada.models` records.

Every function raises :class:`ShapeError` (with a short Swedish detail) when
the JSON does not have the documented v3 shape; the client turns it into a
:class:`~xlplan.core.errors.KoladaUnavailable` naming the URL.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from xlplan.kolada.models import GENDERS, GroupMember, KoladaValue, KpiMeta, MunicipalityGroup


class ShapeError(ValueError):
    """The JSON is valid but not shaped like a Kolada v3 response."""


class NonFiniteNumber(ValueError):
    """The JSON holds ``NaN``, ``Infinity`` or a number too large for a float."""

    def __init__(self, text: str):
        super().__init__(f"ogiltigt tal {text[:40]!r} (inte ett ändligt tal)")
        self.text = text


def loads_strict(data: bytes | str) -> Any:
    """``json.loads`` that refuses ``NaN``/``Infinity``/``-Infinity`` and numbers
    beyond the float range (``1e999``), which Python's json accepts by default.

    Raises :class:`NonFiniteNumber` for those, ``ValueError`` for invalid JSON.
    """
    return json.loads(data, parse_constant=_refuse_constant, parse_float=_finite_float,
                      parse_int=_finite_int)


def _refuse_constant(text: str) -> Any:
    raise NonFiniteNumber(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise NonFiniteNumber(text)
    return value


def _finite_int(text: str) -> int:
    if len(text) > 300:  # 1e308 is the largest float; longer ints cannot be values
        raise NonFiniteNumber(text)
    return int(text)


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    next_url: str | None


def parse_page(body: Any) -> Page:
    """The envelope ``{"values": [...], "count": n, "next_url": ..., "previous_url": ...}``."""
    if not isinstance(body, dict):
        raise ShapeError(f"svaret är inte ett JSON-objekt utan {type(body).__name__}")
    rows = body.get("values")
    if not isinstance(rows, list):
        raise ShapeError("fältet 'values' saknas eller är inte en lista")
    next_url = body.get("next_url")
    if next_url is not None and not (isinstance(next_url, str) and next_url):
        raise ShapeError("fältet 'next_url' är varken en adress eller null")
    return Page(rows=rows, next_url=next_url)


def parse_data_row(row: Any, fetched_at: datetime, from_cache: bool) -> list[KoladaValue]:
    """One data row ``{"kpi", "municipality", "period", "values": [...]}`` -> values."""
    if not isinstance(row, dict):
        raise ShapeError("en rad i 'values' är inte ett objekt")
    kpi = _str(row, "kpi")
    unit = _str(row, "municipality")
    period = _int(row.get("period"), "period")
    cells = row.get("values")
    if not isinstance(cells, list):
        raise ShapeError(f"raden {kpi}/{unit}/{period} saknar listan 'values'")
    return [
        _parse_cell(cell, kpi, unit, period, fetched_at, from_cache) for cell in cells
    ]


def _parse_cell(
    cell: Any, kpi: str, unit: str, period: int, fetched_at: datetime, from_cache: bool
) -> KoladaValue:
    where = f"{kpi}/{unit}/{period}"
    if not isinstance(cell, dict):
        raise ShapeError(f"ett värde i raden {where} är inte ett objekt")
    gender = cell.get("gender")
    if gender not in GENDERS:
        raise ShapeError(f"okänt kön {gender!r} i raden {where}")
    return KoladaValue(
        kpi=kpi,
        municipality=unit,
        period=period,
        gender=gender,
        value=_number(cell.get("value"), where),
        status=_opt_str(cell.get("status")),
        isdeleted=bool(cell.get("isdeleted", False)),
        count=_int(cell.get("count", 1), "count"),
        fetched_at=fetched_at,
        from_cache=from_cache,
    )


def parse_kpi(obj: Any) -> KpiMeta:
    """A KPI object from ``/v3/kpi``; accepts the v2 spellings too."""
    if not isinstance(obj, dict):
        raise ShapeError("ett nyckeltal i 'values' är inte ett objekt")
    return KpiMeta(
        id=_str(obj, "id"),
        title=_opt_str(obj.get("title")),
        publication_date=_date(obj.get("publication_date")),
        prel_publication_date=_date(obj.get("prel_publication_date")),
        publ_period=_opt_year(obj.get("publ_period")),
        is_divided_by_gender=_bool(obj.get("is_divided_by_gender")),
        operating_area=_opt_str(obj.get("operating_area")),
        description=_opt_str(obj.get("description")),
        municipality_type=_opt_str(obj.get("municipality_type")),
        perspective=_opt_str(obj.get("perspective")),
        auspice=obj.get("auspice", obj.get("auspices")) or None,
        has_ou_data=_bool(obj.get("has_ou_data")),
    )


def parse_group(obj: Any) -> MunicipalityGroup:
    """A group ``{"id", "title", "members": [{"member_id", "member_title"}]}``."""
    if not isinstance(obj, dict):
        raise ShapeError("en grupp i 'values' är inte ett objekt")
    members = obj.get("members") or []
    if not isinstance(members, list):
        raise ShapeError("fältet 'members' är inte en lista")
    return MunicipalityGroup(
        id=_str(obj, "id"),
        title=_opt_str(obj.get("title")),
        members=tuple(_parse_member(m) for m in members),
    )


def _parse_member(m: Any) -> GroupMember:
    if not isinstance(m, dict):
        raise ShapeError("en medlem i en grupp är inte ett objekt")
    mid = m.get("member_id", m.get("id"))
    if not isinstance(mid, str) or not mid:
        raise ShapeError("en medlem i en grupp saknar 'member_id'")
    return GroupMember(id=mid, title=_opt_str(m.get("member_title", m.get("title"))))


def _str(obj: dict[str, Any], key: str) -> str:
    v = obj.get(key)
    if not isinstance(v, str) or not v:
        raise ShapeError(f"fältet {key!r} saknas eller är inte en text")
    return v


def _opt_str(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _int(v: Any, name: str) -> int:
    if isinstance(v, bool):
        raise ShapeError(f"fältet {name!r} är inte ett heltal")
    if isinstance(v, int):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    raise ShapeError(f"fältet {name!r} är inte ett heltal: {v!r}")


def _number(v: Any, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise ShapeError(f"värdet i raden {where} är inte ett tal: {v!r}")
    try:
        number = float(v)
    except OverflowError:
        number = math.inf
    if not math.isfinite(number):  # never let NaN/Infinity through, whatever loaded the JSON
        raise ShapeError(f"värdet i raden {where} är inte ett ändligt tal: {str(v)[:40]}")
    return number


def _bool(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in {"1", "true"}
    return bool(v)


def _date(v: Any) -> date | None:
    if not isinstance(v, str) or not v:
        return None
    try:
        return date.fromisoformat(v[:10])
    except ValueError:
        return None


def _opt_year(v: Any) -> int | None:
    if isinstance(v, int) and not isinstance(v, bool):
        return v
    if isinstance(v, str) and v.strip().isdigit():
        return int(v)
    return None
