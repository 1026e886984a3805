"""The plan, in memory: plain, immutable data.

A :class:`Plan` is what a committee adopted (see ``docs/plan-format.md``).
Texts are kept verbatim; parsed meaning is derived on demand
(:meth:`Indicator.target`, :meth:`Indicator.baseline_values`).
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Literal

from xlplan.status import StatusSettings
from xlplan.targets import (
    Polarity,
    SeriesValues,
    Target,
    infer_polarity,
    parse_series_values,
    parse_target,
    target_for_year,
)

PeriodKind = Literal["K1", "delår", "helår"]
ALL_PERIOD_KINDS: tuple[PeriodKind, ...] = ("K1", "delår", "helår")
COMMITTEE_ID = "NÄMND"


@dataclass(frozen=True)
class Settings:
    plan_id: str
    municipality: str
    municipality_id: str
    committee: str
    year: int
    end_year: int
    administration: str | None = None
    periods: tuple[PeriodKind, ...] = ALL_PERIOD_KINDS
    similar_group: str | None = None
    partial_tolerance_pct: float | None = None
    goal_rule: Literal["alla", "majoritet"] = "alla"
    sheet_password: str | None = None
    kolada_url: str | None = None

    @property
    def status_settings(self) -> StatusSettings:
        return StatusSettings(partial_tolerance_pct=self.partial_tolerance_pct)


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    area: str | None = None
    contact: str | None = None
    codes: tuple[str, ...] = ()  # Ansvar: the codes that name the department in exports (HR, ledger)


# Series names that name a Kolada gender (case-insensitive).
GENDER_SERIES = {"totalt": "T", "total": "T", "t": "T", "kvinnor": "K", "k": "K", "män": "M", "m": "M"}


def series_gender(name: str) -> str | None:
    """The Kolada gender a series name names (``Kvinnor`` -> ``K``), or None."""
    return GENDER_SERIES.get(" ".join(name.split()).casefold())


@dataclass(frozen=True)
class Goal:
    id: str
    text: str
    priority_goal: str | None = None
    agenda2030: str | None = None


@dataclass(frozen=True)
class Indicator:
    id: str
    goal_id: str
    name: str
    targets: tuple[tuple[int, str], ...] = ()  # (year, verbatim target text)
    description: str | None = None
    kolada: tuple[tuple[str | None, str], ...] = ()  # (series name or None, KPI id)
    source: str | None = None
    unit: str | None = None
    polarity_text: Polarity | None = None  # explicit in the plan
    series: tuple[str, ...] = ()
    baseline: str | None = None
    baseline_year: int | None = None
    departments: tuple[str, ...] = ()  # empty = all
    periods: tuple[PeriodKind, ...] = ()  # empty = all of the plan's
    committee_level: bool = False
    gender: str = "T"
    minimum: float | None = None
    maximum: float | None = None

    def polarity(self, goal: Goal | None = None) -> Polarity | None:
        if self.polarity_text:
            return self.polarity_text
        texts = [goal.text if goal else None, self.name, self.description]
        return infer_polarity(*texts)

    def target_text(self, year: int) -> tuple[int, str] | None:
        return target_for_year(dict(self.targets), year)

    def target(self, year: int, goal: Goal | None = None) -> Target:
        picked = self.target_text(year)
        return parse_target(picked[1] if picked else None, self.polarity(goal), self.series)

    def baseline_values(self) -> SeriesValues:
        return parse_series_values(self.baseline, self.series)

    def series_names(self) -> tuple[str | None, ...]:
        return self.series if self.series else (None,)

    def kpi_for(self, series: str | None) -> str | None:
        if not self.kolada:
            return None
        for name, kpi in self.kolada:
            if name is not None and series is not None and name.casefold() == series.casefold():
                return kpi
        unnamed = [kpi for name, kpi in self.kolada if name is None]
        if len(unnamed) == 1:
            return unnamed[0]
        if series is not None and len(unnamed) == len(self.series) and series in self.series:
            return unnamed[self.series.index(series)]
        return None

    def gender_for(self, series: str | None) -> str | None:
        """The Kolada gender (``T``/``K``/``M``) of series ``series``.

        A series named ``Totalt``/``Total``/``T``, ``Kvinnor``/``K`` or
        ``Män``/``M`` is that gender; any other series takes the indicator's
        *Kön* — unless it shares its Kolada id with gender-named series, when
        it cannot be told (None: no Kolada value may be written into the row).
        """
        if series is not None and (g := series_gender(series)) is not None:
            return g
        kpi = self.kpi_for(series)
        if any(series_gender(n) is not None and self.kpi_for(n) == kpi for n in self.series):
            return None
        return self.gender

    def reported_by(self, department_id: str) -> bool:
        return not self.departments or department_id in self.departments


@dataclass(frozen=True)
class Activity:
    id: str
    department_id: str
    text: str
    goal_id: str | None = None
    heading: str | None = None
    responsible: str | None = None
    deadline: str | None = None
    decision: str | None = None


@dataclass(frozen=True)
class BudgetLine:
    department_id: str
    item: str
    year: int
    budget: float


#: Key figures that are counts (summed over departments); every other personnel key figure is a share in %.
COUNT_WORDS = ("antal", "årsarbetare", "anställda", "medarbetare", "personer")


@dataclass(frozen=True)
class PersonnelTarget:
    """A personnel key figure (Nyckeltal) of a department, or of the whole committee (``NÄMND``).

    Its target is read with the one target language (:func:`xlplan.targets.parse_target`);
    *measures* are the names in the HR export that give its value (empty: its own name).
    """

    department_id: str
    name: str
    current: str | None = None
    target: str | None = None
    unit: str | None = None  # "%" (a share, the default) or e.g. "antal" (a count)
    measures: tuple[str, ...] = ()
    polarity_text: Polarity | None = None

    @property
    def is_count(self) -> bool:
        """A count (headcount, årsarbetare) adds up over departments; a share (sick leave %) does not."""
        unit = (self.unit or "").strip().casefold()
        if unit:
            return unit not in ("%", "procent", "andel")
        return any(w in self.name.casefold() for w in COUNT_WORDS) and "%" not in self.name

    def polarity(self) -> Polarity | None:
        return self.polarity_text or infer_polarity(self.name)

    def parsed_target(self) -> Target:
        return parse_target(self.target, self.polarity())

    def baseline_values(self) -> SeriesValues:
        return parse_series_values(self.current)

    def measure_names(self) -> tuple[str, ...]:
        return self.measures or (self.name,)


@dataclass(frozen=True)
class HrSource:
    """A Personalkällor row: which export holds personnel key figures and in which columns."""

    pattern: str
    department_column: str
    measure_column: str
    value_column: str
    period_column: str | None = None
    sheet: str | None = None
    hours_column: str | None = None  # worked/scheduled hours: weights a share in the committee total
    headcount_column: str | None = None  # employees: weights a share when there are no hours
    fractions: bool = False  # shares written as 0,053 for 5,3 %


@dataclass(frozen=True)
class ControlItem:
    id: str
    risk: str
    department_id: str | None = None
    process: str | None = None
    control: str | None = None
    probability: int | None = None
    consequence: int | None = None
    responsible: str | None = None
    method: str | None = None

    @property
    def risk_value(self) -> int | None:
        if self.probability is None or self.consequence is None:
            return None
        return self.probability * self.consequence


@dataclass(frozen=True)
class FileSource:
    indicator_id: str
    pattern: str
    value_column: str
    series: str | None = None
    sheet: str | None = None
    keys: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Plan:
    settings: Settings
    departments: tuple[Department, ...]
    goals: tuple[Goal, ...]
    indicators: tuple[Indicator, ...]
    activities: tuple[Activity, ...] = ()
    budget: tuple[BudgetLine, ...] = ()
    personnel: tuple[PersonnelTarget, ...] = ()
    controls: tuple[ControlItem, ...] = ()
    file_sources: tuple[FileSource, ...] = ()
    hr_sources: tuple[HrSource, ...] = ()
    _version: str = field(default="", compare=False, repr=False)  # a slice keeps its whole plan's version

    @property
    def id(self) -> str:
        return self.settings.plan_id

    @functools.cached_property
    def version(self) -> str:
        """A short hash of the plan's content: changes whenever the plan does.

        Computed once per plan object (the plan is immutable; ``dataclasses.replace``
        makes a new object with its own version): fill and flag ask for it per file.
        A department's slice of a plan (:mod:`xlplan.embedded`) carries the whole plan's version.
        """
        if self._version:
            return self._version
        content = asdict(self)
        content.pop("_version", None)
        _drop_added_defaults(content)
        blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]

    def department(self, dep_id: str) -> Department | None:
        for d in self.departments:
            if d.id == dep_id or d.id.casefold() == dep_id.casefold():
                return d
        return None

    def goal(self, goal_id: str) -> Goal | None:
        return next((g for g in self.goals if g.id == goal_id), None)

    def indicators_for(self, dep_id: str) -> tuple[Indicator, ...]:
        return tuple(i for i in self.indicators if i.reported_by(dep_id))

    def activities_for(self, dep_id: str) -> tuple[Activity, ...]:
        return tuple(a for a in self.activities if a.department_id == dep_id)

    def budget_for(self, dep_id: str, year: int) -> tuple[BudgetLine, ...]:
        return tuple(b for b in self.budget if b.department_id == dep_id and b.year == year)

    def personnel_for(self, dep_id: str) -> tuple[PersonnelTarget, ...]:
        """The department's key figures: its own rows, then the committee's (``NÄMND``) rows it has no own
        row for (a committee target holds for every department unless the department has its own)."""
        own = tuple(p for p in self.personnel if p.department_id == dep_id)
        if dep_id == COMMITTEE_ID:
            return own
        names = {p.name.casefold() for p in own}
        return own + tuple(p for p in self.personnel if p.department_id == COMMITTEE_ID
                           and p.name.casefold() not in names)

    def personnel_names(self) -> tuple[str, ...]:
        """Every key figure name of the plan, in plan order (one per name)."""
        return tuple(dict.fromkeys(p.name for p in self.personnel))

    def controls_for(self, dep_id: str) -> tuple[ControlItem, ...]:
        return tuple(c for c in self.controls if c.department_id in (None, dep_id))

    def file_sources_for(self, indicator_id: str) -> tuple[FileSource, ...]:
        return tuple(f for f in self.file_sources if f.indicator_id == indicator_id)


# Fields added after plan versions were first written into department files: left out of the version
# hash while empty, so a plan that does not use them keeps its version (no needless refill).
_ADDED_DEFAULTS = {"plan": ("hr_sources",), "departments": ("codes",),
                   "personnel": ("unit", "measures", "polarity_text")}


def _drop_added_defaults(content: dict[str, object]) -> None:
    for key in _ADDED_DEFAULTS["plan"]:
        if not content.get(key):
            content.pop(key, None)
    for table in ("departments", "personnel"):
        for record in content.get(table) or ():  # type: ignore[attr-defined]
            for key in _ADDED_DEFAULTS[table]:
                if not record.get(key):
                    record.pop(key, None)
