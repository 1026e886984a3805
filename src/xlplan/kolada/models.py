"""Records returned by the Kolada client (plain frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

GENDERS = ("T", "K", "M")


@dataclass(frozen=True)
class KoladaValue:
    """One value: a KPI for one unit (municipality, region, ``0000`` or ``G…`` group),
    one period and one gender (``T`` total, ``K`` kvinnor, ``M`` män).

    ``value`` is ``None`` when Kolada has a row but no number.  ``status`` is
    Kolada's flag text ("" for a normal value); ``isdeleted`` marks a value that
    Kolada has withdrawn (treat it as absent).  ``count`` is 1 for a single unit
    and, for a group, the number of members that contributed to the (unweighted)
    mean.  ``preliminary`` is the best-effort rule in :func:`is_preliminary`.
    """

    kpi: str
    municipality: str
    period: int
    gender: str
    value: float | None
    status: str = ""
    isdeleted: bool = False
    count: int = 1
    fetched_at: datetime | None = None
    from_cache: bool = False
    preliminary: bool = False

    @property
    def key(self) -> tuple[str, str, int, str]:
        return (self.kpi, self.municipality, self.period, self.gender)


@dataclass(frozen=True)
class KpiMeta:
    """KPI metadata from ``/v3/kpi/{id}`` (the fields xlplan uses).

    Dates are Kolada's *next expected* publication dates (``None`` when absent
    or not in ``YYYY-MM-DD`` form); ``publ_period`` is the year that the next
    publication covers.
    """

    id: str
    title: str
    publication_date: date | None = None
    prel_publication_date: date | None = None
    publ_period: int | None = None
    is_divided_by_gender: bool = False
    operating_area: str = ""
    description: str = ""
    municipality_type: str = ""
    perspective: str = ""
    auspice: str | None = None
    has_ou_data: bool = False


@dataclass(frozen=True)
class GroupMember:
    id: str
    title: str


@dataclass(frozen=True)
class MunicipalityGroup:
    """A Kolada municipality group (``G…`` id); usable as a municipality in data calls."""

    id: str
    title: str
    members: tuple[GroupMember, ...] = ()

    @property
    def member_ids(self) -> list[str]:
        return [m.id for m in self.members]


@dataclass(frozen=True)
class Revision:
    """A value that changed since the previous cached extraction of the same request.

    ``new`` is ``None`` both when Kolada now has no number and when the row is gone.
    """

    kpi: str
    municipality: str
    period: int
    gender: str
    old: float | None
    new: float | None

    def __str__(self) -> str:
        return (
            f"{self.kpi} {self.municipality} {self.period} {self.gender}: "
            f"{_fmt(self.old)} -> {_fmt(self.new)}"
        )


@dataclass(frozen=True)
class FetchResult:
    """Everything one :meth:`KoladaClient.fetch` call produced."""

    values: list[KoladaValue]
    metadata: dict[str, KpiMeta] = field(default_factory=dict)
    revisions: list[Revision] = field(default_factory=list)
    fetched_at: datetime | None = None


def is_preliminary(value: KoladaValue, meta: KpiMeta | None, today: date) -> bool:
    """Best-effort "preliminärt värde" rule, from KPI metadata only.

    Kolada does not mark values as preliminary.  Its KPI metadata says when the
    next preliminary (``prel_publication_date``) and final (``publication_date``)
    publications of the period ``publ_period`` are expected.  A value is taken
    as preliminary when all of these hold:

    * the KPI has a ``prel_publication_date`` (KPIs without a preliminary stage
      never give preliminary values);
    * the value's period equals ``publ_period``;
    * the final ``publication_date`` is after *today* (the fetch date), or is
      unknown.

    A value that is already there under those conditions can only come from the
    preliminary publication.  Kolada's dates are forecasts, so this can be
    wrong around the publication days.
    """
    if meta is None or meta.prel_publication_date is None:
        return False
    if meta.publ_period is None or value.period != meta.publ_period:
        return False
    return meta.publication_date is None or meta.publication_date > today


def _fmt(v: float | None) -> str:
    return "saknas" if v is None else f"{v:g}"
