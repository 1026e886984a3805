"""Reporting periods: ``2024-K1``, ``2024-T1``, ``2024-delår``, ``2024-helår``.

Municipalities report by quarter or by tertial: the first report is kvartal 1 (to 31 March) or
tertial 1 (to 30 April) — two periods, since the books, the share of the year and the report's
name differ; tertial 2 (to 31 August) is the delårsrapport and tertial 3 the year.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from xlplan.core.errors import BadInput
from xlplan.core.model import PERIOD_KINDS, PeriodKind

_KINDS: dict[str, PeriodKind] = {
    "k1": "K1", "kvartal1": "K1", "q1": "K1", "t1": "T1",
    "delår": "delår", "delar": "delår", "delårsrapport": "delår", "t2": "delår",
    "helår": "helår", "helar": "helår", "bokslut": "helår", "årsbokslut": "helår",
    # tertial 1 to 30 April, tertial 2 (to 31 August) the delårsrapport, tertial 3 the year
    "tertial1": "T1", "tertial2": "delår", "tertial3": "helår", "t3": "helår", "kv1": "K1",
    "delårsbokslut": "delår", "årsredovisning": "helår", "arsredovisning": "helår", "helårsbokslut": "helår",
}
# Between several periods in one cell: "Delår/Helår", "delår och helår", "K1, delår".
_LIST_SEPARATORS = re.compile(r"\s*(?:[,;/+&]|\boch\b|\bsamt\b)\s*", re.IGNORECASE)
_ORDER: dict[PeriodKind, int] = {k: i for i, k in enumerate(PERIOD_KINDS, start=1)}
_LABEL: dict[PeriodKind, str] = {"K1": "kvartal 1", "T1": "tertial 1", "delår": "delår", "helår": "helår"}
_ASCII: dict[PeriodKind, str] = {"K1": "K1", "T1": "T1", "delår": "delar", "helår": "helar"}
# The last month a period's books cover: K1 to 31 March, T1 to 30 April, delår to 31 August (the usual
# delårsbokslut), helår.
_END_MONTH: dict[PeriodKind, int] = {"K1": 3, "T1": 4, "delår": 8, "helår": 12}


@dataclass(frozen=True, order=True)
class Period:
    year: int
    kind: PeriodKind

    def __str__(self) -> str:
        return f"{self.year}-{self.kind}"

    @property
    def label(self) -> str:
        """Swedish, for people: 'kvartal 1 2024', 'delår 2024'."""
        return f"{_LABEL[self.kind]} {self.year}"

    @property
    def ascii(self) -> str:
        """Safe in file names on every system: '2024-delar'."""
        return f"{self.year}-{_ASCII[self.kind]}"

    @property
    def end_month(self) -> int:
        """The last month of the year the period's accounts cover (3, 4, 8 or 12)."""
        return _END_MONTH[self.kind]

    @property
    def year_share(self) -> float:
        """The share of the year elapsed at the period's end (0.25, 0.33, 0.67, 1.0)."""
        return self.end_month / 12

    @property
    def sort_key(self) -> tuple[int, int]:
        return (self.year, _ORDER[self.kind])

    def previous(self, kinds: tuple[PeriodKind, ...]) -> "Period | None":
        """The period before this one among the plan's reporting periods."""
        ordered = sorted(kinds, key=_ORDER.__getitem__)
        earlier = [k for k in ordered if _ORDER[k] < _ORDER[self.kind]]
        if earlier:
            return Period(self.year, earlier[-1])
        return Period(self.year - 1, ordered[-1]) if ordered else None


def parse_period(text: str) -> Period:
    """Read ``2024-K1``, ``2024-delår``, ``2024-delar``, ``2024 helår`` …"""
    m = re.fullmatch(r"\s*(\d{4})\s*[-_ ]\s*(\S.*?)\s*", str(text))
    kind = _KINDS.get(m.group(2).casefold().replace(" ", "")) if m else None
    if not m or kind is None:
        raise BadInput(
            f"'{text}' är ingen period. Skriv år och period, t.ex. 2024-K1, 2024-T1, 2024-delår eller 2024-helår."
        )
    return Period(int(m.group(1)), kind)


def parse_period_kind(text: str) -> PeriodKind | None:
    """One period kind: ``K1``, ``kvartal 1``, ``T1``, ``tertial 2``, ``delår``, ``Bokslut``, ``Årsredovisning`` …"""
    return _KINDS.get(str(text).strip().casefold().replace(" ", ""))


def period_kinds(text: str) -> list[tuple[str, PeriodKind | None]]:
    """Each period a plan cell names, with its kind (None: unreadable): ``Delår/Helår``,
    ``delår och helår``, ``K1, delår`` …"""
    parts = [p for p in _LIST_SEPARATORS.split(str(text).strip()) if p.strip()]
    return [(p.strip(), parse_period_kind(p)) for p in parts]


PERIOD_HINT = "Använd K1, T1, delår eller helår (eller t.ex. kvartal 1, tertial 1, tertial 2, Delår/Helår, Bokslut)."
