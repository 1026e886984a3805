"""The plan, in memory: plain, immutable data.

A :class:`Plan` is what a committee adopted (see ``docs/plan-format.md``).
Texts are kept verbatim; parsed meaning is derived on demand
(:meth:`Indicator.target`, :meth:`Indicator.baseline_values`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any, Literal

from xlplan.core.status import StatusSettings
from xlplan.core.targets import (
    Polarity,
    SeriesValues,
    Target,
    infer_polarity,
    parse_series_values,
    parse_target,
    target_for_year,
)

PeriodKind = Literal["K1", "T1", "delår", "helår"]
#: Every period kind, in the order of the year (kvartal 1 to 31 March, tertial 1 to 30 April, delår, helår).
PERIOD_KINDS: tuple[PeriodKind, ...] = ("K1", "T1", "delår", "helår")
#: The periods of a plan that names none.
DEFAULT_PERIOD_KINDS: tuple[PeriodKind, ...] = ("K1", "delår", "helår")
COMMITTEE_ID = "NÄMND"


@dataclass(frozen=True)
class LedgerSettings:
    """How the plan reads a ledger export (Inställningar *Huvudbok …*; see docs/plan-format.md)."""

    file: str  # a glob relative to the plan's folder, e.g. ``exporter/huvudbok_{år}*.csv``
    unit_column: str = "Ansvar"  # the column naming the ansvar/kostnadsställe (Avdelningar: Ansvar)
    account_column: str = "Konto"
    amount_column: str = "Belopp"
    period_column: str | None = None  # a year-month column (202408, 2024-08, 8); None: the file is the period
    project_column: str | None = None  # a project column (Kontoplan: Projekt picks investment projects by it)
    unit: Literal["kr", "tkr"] = "kr"
    costs_positive: bool = True  # the export's sign: costs positive (debet) is what most ledgers write

    @property
    def factor(self) -> float:
        """Multiplier from an exported amount to the plan's tkr with costs negative."""
        return (0.001 if self.unit == "kr" else 1.0) * (-1.0 if self.costs_positive else 1.0)


@dataclass(frozen=True)
class Settings:
    plan_id: str
    municipality: str
    municipality_id: str
    committee: str
    year: int
    end_year: int
    administration: str | None = None
    periods: tuple[PeriodKind, ...] = DEFAULT_PERIOD_KINDS
    similar_group: str | None = None
    partial_tolerance_pct: float | None = None
    goal_rule: Literal["alla", "majoritet"] = "alla"
    sheet_password: str | None = None
    kolada_url: str | None = None
    ledger: LedgerSettings | None = None  # how a ledger export (huvudbok) is read; None: no ledger pull
    economy_comment_threshold: float | None = None  # |avvikelse| in tkr above which a comment is required

    @property
    def status_settings(self) -> StatusSettings:
        return StatusSettings(partial_tolerance_pct=self.partial_tolerance_pct)


@dataclass(frozen=True)
class Department:
    id: str
    name: str
    area: str | None = None
    contact: str | None = None
    codes: tuple[str, ...] = ()  # Ansvar: codes or ranges that name the department in exports (ledger, HR)


# Series names that name a Kolada gender (case-insensitive).
GENDER_SERIES = {"totalt": "T", "total": "T", "t": "T", "kvinnor": "K", "k": "K", "män": "M", "m": "M"}


def series_gender(name: str) -> str | None:
    """The Kolada gender a series name names (``Kvinnor`` -> ``K``), or None."""
    return GENDER_SERIES.get(" ".join(name.split()).casefold())


# Gender words inside a two-dimensional series name ('Egen regi kvinnor', 'Privat regi – Män').
_GENDER_WORDS = {"totalt": "T", "total": "T", "kvinnor": "K", "män": "M"}


def series_gender_part(name: str) -> str | None:
    """The gender a series name names by one of its words, beside another dimension (``Egen regi kvinnor``
    -> ``K``); None when it names none or several (``Kvinnor och män``)."""
    found = {_GENDER_WORDS[w] for w in re.findall(r"[^\W\d_]+", name.casefold()) if w in _GENDER_WORDS}
    return found.pop() if len(found) == 1 else None


def gender_of_series(name: str) -> str | None:
    """The Kolada gender of a series by its name: the whole name (``Kvinnor``, ``K``) or one word of it."""
    return series_gender(name) or series_gender_part(name)


@dataclass(frozen=True)
class Goal:
    """A committee goal (nämndmål) under its kommun goal (``priority_goal``) under its målområde (``level1``)."""

    id: str
    text: str
    priority_goal: str | None = None
    agenda2030: str | None = None
    level1: str | None = None  # Målområde
    level1_description: str | None = None
    priority_description: str | None = None
    description: str | None = None  # of the committee goal itself

    @property
    def has_levels(self) -> bool:
        """Whether the plan says more of the goal than its id, texts and Agenda 2030."""
        return any((self.level1, self.level1_description, self.priority_description, self.description))


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
    history: tuple[tuple[int, str], ...] = ()  # (year, verbatim outcome text): earlier years, for the trend
    # 'Rapporteras av': the one reporter of a committee-level figure (NÄMND or a department id); the
    # departments of `departments` (empty = all) see it read-only.  None: each department reports its own.
    reporter: str | None = None

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

    def history_values(self, series: str | None) -> tuple[tuple[int, float], ...]:
        """The plan's earlier outcomes of series *series* as (year, value), oldest first (unreadable left out)."""
        out = []
        for year, text in sorted(self.history):
            q = parse_series_values(text, self.series).get(series)
            if q is not None:
                out.append((year, q.value))
        return tuple(out)

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
        ``Män``/``M`` is that gender, and so is a series of two dimensions with
        one such word (``Egen regi kvinnor``); any other series takes the indicator's
        *Kön* — unless it shares its Kolada id with gender-named series, when
        it cannot be told (None: no Kolada value may be written into the row).
        """
        if series is not None and (g := gender_of_series(series)) is not None:
            return g
        kpi = self.kpi_for(series)
        if any(gender_of_series(n) is not None and self.kpi_for(n) == kpi for n in self.series):
            return None
        return self.gender

    def reported_by(self, department_id: str) -> bool:
        """Whether the department types this indicator's outcome (for a reporter: only the reporter)."""
        if self.reporter is not None:
            return department_id.casefold() == self.reporter.casefold()
        return not self.departments or department_id in self.departments

    def shown_to(self, department_id: str) -> bool:
        """Whether the department sees the indicator read-only, for context (reported by someone else)."""
        return (self.reporter is not None and not self.reported_by(department_id)
                and (not self.departments or department_id in self.departments))

    @property
    def reported_by_committee(self) -> bool:
        """Reported once for the whole committee (*Rapporteras av* ``NÄMND``): one line without a department."""
        return self.reporter is not None and self.reporter.casefold() == COMMITTEE_ID.casefold()

    @property
    def has_committee_line(self) -> bool:
        """Whether consolidation gives the indicator a line for the committee as a whole."""
        return self.committee_level or self.reported_by_committee


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
class Question:
    """A qualitative report question (plan sheet *Frågor*): answered in text, per goal, in some periods."""

    id: str
    text: str
    goal_id: str | None = None
    departments: tuple[str, ...] = ()  # empty = all
    periods: tuple[PeriodKind, ...] = ()  # empty = all of the plan's

    def asked_of(self, department_id: str) -> bool:
        return not self.departments or department_id.casefold() in {d.casefold() for d in self.departments}

    def asked_in(self, kind: str) -> bool:
        return not self.periods or kind in self.periods


#: A budget line (plan sheet *Ekonomi*) whose Post starts with this is an investment project (its budget is
#: the year's expenditure, positive), followed on its own: the department's Ekonomi sheet shows it below the
#: operating lines, the committee workbook on the sheet *Investeringar* (see docs/plan-format.md).
INVESTMENT_PREFIX = "Investering:"


def is_investment(item: str) -> bool:
    """Whether the budget line *item* (Post) is an investment project (``Investering: Sängar``)."""
    return item.strip().casefold().startswith(INVESTMENT_PREFIX.casefold())


def investment_project(item: str) -> str:
    """The project's name of an investment Post, without the prefix (``Investering: Sängar`` -> ``Sängar``)."""
    return item.strip()[len(INVESTMENT_PREFIX):].strip() if is_investment(item) else item.strip()


@dataclass(frozen=True)
class BudgetLine:
    department_id: str
    item: str
    year: int
    budget: float

    @property
    def is_investment(self) -> bool:
        return is_investment(self.item)


#: Key figures that are counts (summed over departments); every other personnel key figure is a share in %.
COUNT_WORDS = ("antal", "årsarbetare", "anställda", "medarbetare", "personer")


@dataclass(frozen=True)
class AccountRange:
    """One Kontoplan row: the accounts (ranges, single accounts) that make one budget line (Post)."""

    item: str
    accounts: str  # verbatim, e.g. ``3000-3999`` or ``4010; 4020-4029``
    projects: str = ""  # verbatim project codes (``P1201; P1300-P1309``); empty: any project (or none)

    def matches(self, account: str, project: str = "") -> bool:
        """Whether a ledger row with *account* (and *project*, when the export has a project column) is here."""
        if not code_matches(self.accounts, account):
            return False
        return not self.projects.strip() or (bool(project) and code_matches(self.projects, project))


def code_matches(spec: str, code: str) -> bool:
    """Whether *code* (an account or ansvar code) is in *spec* (``3000-3999; 4010``; ranges by number)."""
    code = code.strip()
    for part in spec.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        lo, dash, hi = part.partition("-")
        if not dash:
            if code == part or (part.endswith("*") and code.startswith(part[:-1])):
                return True
            continue
        lo, hi = lo.strip(), hi.strip()
        if code.isdigit() and lo.isdigit() and hi.isdigit():
            if len(code) == len(lo) and int(lo) <= int(code) <= int(hi):
                return True
        elif lo <= code <= hi:
            return True
    return False


@dataclass(frozen=True)
class PersonnelTarget:
    """A personnel key figure (Nyckeltal) of a department, or of the whole committee (``NÄMND``).

    Its target is read with the one target language (:func:`xlplan.core.targets.parse_target`);
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
    questions: tuple[Question, ...] = ()
    hr_sources: tuple[HrSource, ...] = ()
    accounts: tuple[AccountRange, ...] = ()  # Kontoplan: ledger accounts -> budget lines
    _version: str = field(default="", compare=False, repr=False)  # a slice keeps its whole plan's version

    @property
    def id(self) -> str:
        return self.settings.plan_id

    @functools.cached_property
    def version(self) -> str:
        """A short hash of the plan's content: changes whenever the plan does.

        Computed once per plan object (the plan is immutable; ``dataclasses.replace``
        makes a new object with its own version): fill and flag ask for it per file.
        A department's slice of a plan (:mod:`xlplan.books.department.embedded`) carries the whole plan's version.
        """
        if self._version:
            return self._version
        content = _content_of(self)
        content.pop("_version", None)
        _drop_unused_additions(content)
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

    def context_indicators_for(self, dep_id: str) -> tuple[Indicator, ...]:
        """Indicators another department (or the committee) reports that *dep_id* sees read-only."""
        return tuple(i for i in self.indicators if i.shown_to(dep_id))

    def questions_for(self, dep_id: str, kind: str) -> tuple[Question, ...]:
        """The questions *dep_id* answers in a period of *kind* (``K1``, ``delår``, ``helår``)."""
        return tuple(q for q in self.questions if q.asked_of(dep_id) and q.asked_in(kind))

    def activities_for(self, dep_id: str) -> tuple[Activity, ...]:
        return tuple(a for a in self.activities if a.department_id == dep_id)

    def budget_for(self, dep_id: str, year: int) -> tuple[BudgetLine, ...]:
        return tuple(b for b in self.budget if b.department_id == dep_id and b.year == year)

    def frame_distribution(self, year: int) -> list[tuple[str, float, float]]:
        """(Post, the committee frame, the departments' sum) for every frame line of *year* that the
        plan distributes over its departments (at least one department has the Post)."""
        deps = {d.id for d in self.departments}
        out = []
        for frame in self.budget_for(COMMITTEE_ID, year):
            spread = [b.budget for b in self.budget if b.year == year and b.item == frame.item
                      and b.department_id in deps]
            if spread:
                out.append((frame.item, frame.budget, sum(spread)))
        return out

    def department_of_unit(self, unit: str) -> Department | None:
        """The department whose Ansvar codes hold the ledger's *unit* code, or None."""
        return next((d for d in self.departments if any(code_matches(spec, unit) for spec in d.codes)), None)

    def personnel_for(self, dep_id: str) -> tuple[PersonnelTarget, ...]:
        """The department's key figures: its own rows, then the committee's (``NÄMND``) rows it has no own
        row for (a committee target holds for every department unless the department has its own)."""
        rows = self._personnel_rows
        own = rows.get(dep_id, ())
        if dep_id == COMMITTEE_ID:
            return own
        names = {p.name.casefold() for p in own}
        return own + tuple(p for p in rows.get(COMMITTEE_ID, ()) if p.name.casefold() not in names)

    @functools.cached_property
    def _personnel_rows(self) -> dict[str, tuple[PersonnelTarget, ...]]:
        """The key figure rows by department id, in plan order (grouped once: a plan may have thousands)."""
        out: dict[str, list[PersonnelTarget]] = {}
        for p in self.personnel:
            out.setdefault(p.department_id, []).append(p)
        return {k: tuple(v) for k, v in out.items()}

    def personnel_names(self) -> tuple[str, ...]:
        """Every key figure name of the plan, in plan order (one per name)."""
        return tuple(dict.fromkeys(p.name for p in self.personnel))

    def controls_for(self, dep_id: str) -> tuple[ControlItem, ...]:
        return tuple(c for c in self.controls if c.department_id in (None, dep_id))

    def file_sources_for(self, indicator_id: str) -> tuple[FileSource, ...]:
        return tuple(f for f in self.file_sources if f.indicator_id == indicator_id)


# Fields added to the plan after its version hash was first used: left out of the hash while unused
# (None or empty), so a plan that does not use them keeps its version (department files stay current).
_ADDED_PLAN_FIELDS = ("questions", "hr_sources", "accounts")
_ADDED_RECORD_FIELDS: dict[str, tuple[str, ...]] = {
    "indicators": ("reporter", "history"),
    "goals": ("level1", "description", "level1_description", "priority_description"),
    "departments": ("codes",),
    "personnel": ("unit", "measures", "polarity_text"),
    "settings": ("ledger", "economy_comment_threshold"),
    "accounts": ("projects",),
}
_ADDED_LEDGER_FIELDS = ("project_column",)  # the settings' one nested record (LedgerSettings)


def _content_of(plan: Plan) -> dict[str, Any]:
    """The plan as plain data for its version hash: what ``dataclasses.asdict`` gives, with lists for tuples
    (the same JSON), without asdict's deep copy of every value (a plan of thousands of rows has 40,000)."""
    content = _plain(plan)
    assert isinstance(content, dict)
    return content


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def _plain(value: object) -> object:
    names = _FIELD_NAMES.get(type(value))
    if names is None and is_dataclass(value) and not isinstance(value, type):
        names = _FIELD_NAMES[type(value)] = tuple(f.name for f in fields(value))
    if names is not None:
        return {name: _plain(getattr(value, name)) for name in names}
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _unused(value: object) -> bool:
    return value is None or value == () or value == [] or value == ""


def _drop_unused_additions(content: dict[str, Any]) -> None:
    for key in _ADDED_PLAN_FIELDS:
        if _unused(content.get(key)):
            content.pop(key, None)
    for table, added in _ADDED_RECORD_FIELDS.items():
        records = content.get(table) or ()
        for record in [records] if isinstance(records, dict) else records:
            for key in added:
                if key in record and _unused(record[key]):
                    del record[key]
    ledger = (content.get("settings") or {}).get("ledger")
    if isinstance(ledger, dict):
        for key in _ADDED_LEDGER_FIELDS:
            if key in ledger and _unused(ledger[key]):
                del ledger[key]
