"""The committee workbook (nämndens sammanställning): data model, writer and reader.

``consolidate`` gathers the department workbooks into a :class:`CommitteeData`
and writes it with :func:`write_committee_workbook`; ``export`` reads it back
with :func:`read_committee_workbook`.  One sheet per record type, Swedish
headers, one record per row; a hidden ``_xlplan`` sheet carries the meta data
(``kind = committee``) by which the file is recognised.

Sheets (in order): Texter, Inlämning, Måluppfyllelse, Indikatorer, Aktiviteter,
Ekonomi, Investeringar (only when the plan has investment projects), Personal (only when a key
figure has an outcome), Kommentarer, Internkontroll, Jämförelser, Kontroll, _xlplan.

*Texter* is the controller's input sheet: one cell per report section
(:data:`TEXT_SECTIONS`) and one row per goal with the computed support, the
suggested word and the controller's *samlad bedömning* and motivation.  Only its
yellow cells are unlocked; :func:`keep_controller_inputs` carries what was typed
there into the next consolidation (see ``docs/goal-assessment.md``).

Every sheet prints: a title and a period row above the header row, landscape,
one page wide, header rows repeated, print area over the visible columns.
Technical columns (checksums, problem codes, the numeric target) are the last
columns of their sheet, hidden and outside the print area, so they travel with
their rows when a sheet is sorted.  The workbook is written with XlsxWriter and
read with python-calamine.

The Ekonomi sheet also shows total rows (per item and overall, column
``Radtyp`` = ``Summa``); they are computed by :func:`economy_totals` when
writing and skipped when reading, so the data holds department lines only.  Investeringar does the
same with one total row over the departments' projects (:func:`investment_totals`).
"""

from __future__ import annotations

import datetime as dt
import math
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import MISSING, dataclass, field, fields, replace
from itertools import chain
from operator import attrgetter
from pathlib import Path
from typing import Any

import xlsxwriter
import xlsxwriter.xmlwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from xlplan.core.codes import SEVERITY_WORDS
from xlplan.core.errors import Problem, WorkbookRefused, XlplanError
from xlplan.core.model import COMMITTEE_ID, investment_project
from xlplan.core.numbers import display_decimals
from xlplan.core.status import ACTIVITY_COLOURS as _ACTIVITY_COLOURS
from xlplan.core.status import SEVERITY_COLOURS, Colours, Status
from xlplan.core.status import STATUS_COLOURS as _STATUS_COLOURS
from xlplan.io.atomic import atomic_path
from xlplan.io.tables import cell_ref, clean, norm_header, open_workbook, read_sheet_rows
from xlplan.io.xmltext import escape_cell_text

# XlsxWriter escapes a literal ``_xHHHH_`` in a text as ``_x005F_xHHHH_``, but with a non-overlapping
# search: in ``_x000D_x000D_`` the second escape shares its underscore with the first and stays
# unescaped, so Excel (and every reader) shows a carriage return there.  Escaping each underscore that
# starts such a sequence (a look-ahead, as xlplan.io.xmltext does) gives the same result everywhere else.
xlsxwriter.xmlwriter.re_control_chars_1 = re.compile(r"(_(?=x[0-9a-fA-F]{4}_))")

# Characters no cell may hold (XML 1.0 control characters); removed, as openpyxl refused them.
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")

KIND = "committee"
FORMAT_VERSION = 2  # 2: title rows above the headers, Texter, technical columns last (1 is still read)
META_SHEET = "_xlplan"
COMMITTEE_LEVEL = "Nämnden"  # department name of a committee-level indicator line
TOTAL_ROW = "Summa"
FRAME_NAME = "Nämndens budgetram"  # department name of the committee's adopted frame rows (Ekonomi, Investeringar)

# Indicator statuses as shown (TARGETS.md); their colours (fill, font) are xlplan.core.status's, by word.
FULFILLED = Status.UPPFYLLT.label
PARTLY = Status.DELVIS.label
NOT_FULFILLED = Status.EJ.label
OUTCOME_MISSING = Status.UTFALL_SAKNAS.label
TARGET_MISSING = Status.MALVARDE_SAKNAS.label
COMPARISON_MISSING = Status.JAMFORELSEVARDE_SAKNAS.label
MANUAL = Status.MANUELL.label
STATUSES = (FULFILLED, PARTLY, NOT_FULFILLED, OUTCOME_MISSING, COMPARISON_MISSING, TARGET_MISSING, MANUAL)
STATUS_COLOURS: dict[str, Colours] = {s.label: c for s, c in _STATUS_COLOURS.items()}
# Activity states as the committee workbook shows them (capitalised).
ACTIVITY_COLOURS: dict[str, Colours] = {word.capitalize(): c for word, c in _ACTIVITY_COLOURS.items()}


# ---------------------------------------------------------------- records


@dataclass(frozen=True)
class CommitteeMeta:
    plan_id: str
    plan_version: str
    municipality: str  # kommun
    municipality_id: str
    committee: str  # nämnd
    period: str  # "2024-delår"
    period_label: str  # "delår 2024"
    generated_at: dt.datetime
    goal_rule: str = "alla"
    administration: str | None = None  # förvaltning


@dataclass(frozen=True)
class Submission:
    department_id: str
    department: str
    file: str | None
    state: str  # inlämningsstatus, or "saknas"
    saved_by: str | None = None
    saved_at: dt.datetime | None = None
    file_hash: str | None = None
    problem_count: int = 0
    # The last recorded change of Inlämningsstatus in the file (xlplan.actions.workflow): who, when, comment.
    state_by: str | None = None
    state_at: dt.datetime | None = None  # local time
    state_comment: str | None = None


@dataclass(frozen=True)
class GoalSummary:
    """A goal's support: how many of its distinct indicators are met, partly met … (:func:`goal_support`).

    ``outcome_missing`` counts indicators that cannot be assessed (*Kan inte
    bedömas*: no outcome, or nothing to compare a direction target with), ``target_missing`` those only reported (*Redovisas*, no target);
    ``assessment`` is the suggested samlad bedömning (:func:`suggest_assessment`).
    The committee's own word is in :attr:`CommitteeData.goal_assessments`.
    """

    goal_id: str
    priority_goal: str | None
    goal_text: str
    fulfilled: int = 0
    partly: int = 0
    not_fulfilled: int = 0
    outcome_missing: int = 0
    target_missing: int = 0
    manual: int = 0
    assessment: str | None = None  # the goal's overall fulfilment (a status label)

    def counts(self) -> dict[str, int]:
        """Counts keyed by the Swedish status label (those that cannot be assessed under *Utfall saknas*)."""
        return {FULFILLED: self.fulfilled, PARTLY: self.partly, NOT_FULFILLED: self.not_fulfilled,
                OUTCOME_MISSING: self.outcome_missing, TARGET_MISSING: self.target_missing, MANUAL: self.manual}

    def support(self) -> dict[str, int]:
        """Counts keyed by the support words of :data:`SUPPORT_WORDS`."""
        return {FULFILLED: self.fulfilled, PARTLY: self.partly, NOT_FULFILLED: self.not_fulfilled,
                MANUAL: self.manual, CANNOT_ASSESS: self.outcome_missing, REPORTED: self.target_missing}


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator for one department (or the committee) and one series."""

    goal_id: str
    priority_goal: str | None
    goal_text: str
    indicator_id: str
    indicator: str
    department_id: str | None  # None for a committee-level line
    department: str  # department name, or "Nämnden"
    series: str | None = None
    unit: str | None = None
    baseline: str | None = None  # verbatim text
    baseline_year: int | None = None
    target: str | None = None  # verbatim target text
    target_value: float | None = None  # numeric target for this series, when there is one
    outcome: float | None = None
    status: str = OUTCOME_MISSING
    assessment: str | None = None  # the department's own assessment
    comment: str | None = None  # analysis
    actions: str | None = None  # åtgärder
    provenance: str | None = None  # where the outcome came from
    kolada_id: str | None = None


@dataclass(frozen=True)
class ActivityLine:
    department_id: str
    department: str
    goal_id: str | None
    heading: str | None
    text: str
    responsible: str | None = None
    deadline: str | None = None
    status: str | None = None  # Ej påbörjad, Pågår, Klar, Försenad
    comment: str | None = None
    activity_id: str | None = None


@dataclass(frozen=True)
class EconomyLine:
    """One economic item for one department, in tkr (costs negative)."""

    department_id: str
    department: str
    item: str
    budget: float | None = None
    outcome: float | None = None  # utfall hittills
    forecast: float | None = None  # prognos helår
    deviation: float | None = None  # avvikelse (prognos − budget)
    year_share: float | None = None  # andel av året som gått vid periodens slut (0–1), beside the outturn


@dataclass(frozen=True)
class InvestmentLine:
    """One investment project for one department (or the committee's adopted frame), in tkr (expenditure
    positive, as the plan's budget).  ``item`` is the plan's Post verbatim (``Investering: Sängar``)."""

    department_id: str
    department: str
    item: str
    budget: float | None = None
    outcome: float | None = None  # utfall hittills
    forecast: float | None = None  # prognos helår
    deviation: float | None = None  # avvikelse (prognos − budget): positive is more spent than budgeted
    comment: str | None = None  # the department's comment on its Ekonomi sheet

    @property
    def project(self) -> str:
        return investment_project(self.item)


@dataclass(frozen=True)
class PersonnelLine:
    """One personnel key figure (sick leave, staff turnover, headcount …) for one department or the committee.

    ``basis`` says where the outcome came from (the HR export's row, typed by the department) or, on the
    committee's line, how it was computed from the departments (summed, weighted by hours, plain mean).
    """

    department_id: str | None  # None for the committee's line
    department: str  # department name, or "Nämnden"
    name: str  # the key figure (Nyckeltal)
    unit: str | None = None
    current: str | None = None  # Nuvärde, verbatim
    target: str | None = None  # Målvärde, verbatim
    outcome: float | None = None
    status: str = OUTCOME_MISSING
    comment: str | None = None
    basis: str | None = None


@dataclass(frozen=True)
class CommentLine:
    goal_id: str | None
    department_id: str | None
    department: str | None
    indicator_id: str | None
    text: str


@dataclass(frozen=True)
class AnswerLine:
    """A department's answer to a qualitative question of the plan (plan sheet *Frågor*); None: no answer."""

    goal_id: str | None
    question_id: str
    question: str
    department_id: str | None
    department: str | None
    answer: str | None = None


@dataclass(frozen=True)
class GoalLevels:
    """A goal's place in the plan's hierarchy (målområde → kommunmål → nämndmål) with the plan's texts."""

    goal_id: str
    level1: str | None = None  # Målområde
    level1_description: str | None = None
    priority_goal: str | None = None  # Kommunmål / prioriterat mål
    priority_description: str | None = None
    description: str | None = None  # of the committee goal


@dataclass(frozen=True)
class HistoryValue:
    """An earlier year's outcome of an indicator, as the plan gives it (columns ``Utfall 2021`` …)."""

    indicator_id: str
    indicator: str
    series: str | None
    year: int
    value: float | None = None
    text: str | None = None


@dataclass(frozen=True)
class ControlResult:
    department_id: str | None
    department: str | None
    risk: str
    control: str | None = None
    probability: int | None = None
    consequence: int | None = None
    risk_value: int | None = None
    result: str | None = None
    comment: str | None = None
    control_id: str | None = None


@dataclass(frozen=True)
class Comparison:
    """One comparison value (a Kolada KPI for a municipality, group or riket, one year).

    ``source`` is "Kolada" for values as Kolada gives them (its own group means
    included): the report then says "Källa: Kolada".  Values computed by xlplan
    or anyone else (a mean over chosen municipalities …) must name their own
    source, e.g. "Egen bearbetning av data från Kolada"; the report shows that
    instead.  As everywhere in the workbook, an empty text reads back as None.
    """

    kolada_id: str
    kpi_title: str
    municipality_id: str
    municipality: str  # "Alingsås", "Riket", "Liknande kommuner" …
    year: int
    gender: str = "T"
    value: float | None = None
    status: str | None = None  # Kolada's flag text
    fetched_at: dt.datetime | None = None
    source: str = "Kolada"  # "Kolada" for raw values; else e.g. "Egen bearbetning av data från Kolada"

    @property
    def raw_kolada(self) -> bool:
        return self.source.strip().casefold() == "kolada"


# The controller's texts (Texter): key -> label, in report order.  Keys are stable API (the board pack).
TEXT_SECTIONS: tuple[tuple[str, str], ...] = (
    ("diarienummer", "Diarienummer"), ("sammantradesdatum", "Sammanträdesdatum"),
    ("forslag_till_beslut", "Förslag till beslut"), ("sammanfattning", "Sammanfattning"),
    ("viktiga_handelser", "Viktiga händelser"), ("ekonomi", "Ekonomi"), ("personal", "Personal"),
    ("framtid", "Framtid"),
)
CANNOT_ASSESS = "Kan inte bedömas"
REPORTED = Status.REDOVISAS.label
# The words a committee may choose as a goal's samlad bedömning (the drop-down on Texter).
GOAL_WORDS = (FULFILLED, PARTLY, NOT_FULFILLED, CANNOT_ASSESS)
# The support of a goal: how many of its DISTINCT indicators have each verdict (see indicator_verdict).
SUPPORT_WORDS = (FULFILLED, PARTLY, NOT_FULFILLED, MANUAL, CANNOT_ASSESS, REPORTED)


@dataclass(frozen=True)
class CommitteeData:
    """Everything the committee workbook holds.

    ``texts``: the controller's text per section key of :data:`TEXT_SECTIONS`
    (only sections with text; use ``texts.get(key)``).  ``goal_assessments``:
    goal id -> (samlad bedömning, one of :data:`GOAL_WORDS`, or None; motivering
    or None), only for goals where the controller typed something.
    """

    meta: CommitteeMeta
    submissions: tuple[Submission, ...] = ()
    goals: tuple[GoalSummary, ...] = ()
    indicators: tuple[IndicatorLine, ...] = ()
    activities: tuple[ActivityLine, ...] = ()
    economy: tuple[EconomyLine, ...] = ()
    comments: tuple[CommentLine, ...] = ()
    controls: tuple[ControlResult, ...] = ()
    comparisons: tuple[Comparison, ...] = ()
    problems: tuple[Problem, ...] = ()
    texts: dict[str, str] = field(default_factory=dict)
    goal_assessments: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    answers: tuple[AnswerLine, ...] = ()  # the plan's questions of the period (sheet Frågor, when any)
    goal_levels: tuple[GoalLevels, ...] = ()  # goals with a målområde or description texts (sheet Målnivåer)
    history: tuple[HistoryValue, ...] = ()  # the plan's earlier years (sheet Historik)
    personnel: tuple[PersonnelLine, ...] = ()
    investments: tuple[InvestmentLine, ...] = ()  # investment projects (sheet Investeringar, when any)

    def levels_of(self, goal_id: str) -> GoalLevels | None:
        return next((g for g in self.goal_levels if g.goal_id == goal_id), None)


def goal_status_counts(lines: Iterable[IndicatorLine]) -> dict[str, dict[str, int]]:
    """Per goal id (first-seen order): how many indicator lines have each status."""
    counts: dict[str, dict[str, int]] = {}
    for line in lines:
        per_goal = counts.setdefault(line.goal_id, dict.fromkeys(STATUSES, 0))
        per_goal[line.status] = per_goal.get(line.status, 0) + 1
    return counts


def complete_goals(data: CommitteeData) -> CommitteeData:
    """*data* with a goal summary (counts, no assessment) for any goal its indicators name but its goals lack."""
    known = {g.goal_id for g in data.goals}
    extra = []
    for goal_id, lines in _by_goal(data.indicators).items():
        if goal_id not in known:
            extra.append(goal_summary(goal_id, lines[0].priority_goal, lines[0].goal_text, lines))
    return replace(data, goals=data.goals + tuple(extra)) if extra else data


# ---------------------------------------------------------------- goal support and suggestion

_KNOWN = (FULFILLED, PARTLY, NOT_FULFILLED)
_NO_TARGET = {norm_header(TARGET_MISSING), norm_header(REPORTED)}


def _by_goal(lines: Iterable[IndicatorLine]) -> dict[str, list[IndicatorLine]]:
    out: dict[str, list[IndicatorLine]] = {}
    for line in lines:
        out.setdefault(line.goal_id, []).append(line)
    return out


def _status_word(label: str | None) -> str | None:
    """A line's status as a support word: met/partly/not met, manual, reported (no target), or None."""
    key = norm_header(label)
    if key in _NO_TARGET:
        return REPORTED
    return next((w for w in (*_KNOWN, MANUAL) if norm_header(w) == key), None)


def indicator_verdict(statuses: Sequence[str | None]) -> str:
    """One verdict for one indicator from its lines' statuses (all departments and series).

    Lines without a target are *Redovisas* and do not count.  When fewer than
    half of the counted lines have a status (Uppfyllt, Delvis, Ej) the
    indicator *Kan inte bedömas* — or is *Bedöms manuellt* when lines wait for
    a manual assessment and none has a status.  Otherwise: every line met ->
    Uppfyllt; none met or partly met -> Ej uppfyllt; else Delvis uppfyllt.
    """
    words = [_status_word(s) for s in statuses]
    counted = [w for w in words if w != REPORTED]
    if not counted:
        return REPORTED
    known = [w for w in counted if w in _KNOWN]
    if not known and MANUAL in counted:
        return MANUAL
    if len(known) * 2 < len(counted):
        return CANNOT_ASSESS
    if all(w == FULFILLED for w in known):
        return FULFILLED
    if all(w == NOT_FULFILLED for w in known):
        return NOT_FULFILLED
    return PARTLY


def goal_support(lines: Iterable[IndicatorLine]) -> dict[str, int]:
    """How many DISTINCT indicators of *lines* (one goal) have each verdict, never weighted by department."""
    per_indicator: dict[str, list[str | None]] = {}
    for line in lines:
        per_indicator.setdefault(line.indicator_id, []).append(line.status)
    support = dict.fromkeys(SUPPORT_WORDS, 0)
    for statuses in per_indicator.values():
        support[indicator_verdict(statuses)] += 1
    return support


def suggest_assessment(support: dict[str, int], rule: str = "alla") -> str | None:
    """The suggested samlad bedömning of a goal from its support (``docs/goal-assessment.md``).

    No indicators: None.  *Kan inte bedömas* when fewer than half of the
    assessable indicators (all but *Redovisas*) have a status.  Otherwise, of
    those with a status: every one met (``alla``) or more than half met
    (``majoritet``) -> Uppfyllt; some met or partly met -> Delvis uppfyllt;
    else Ej uppfyllt.  Indicators waiting for a manual assessment count as
    assessable without a status — never as not met.
    """
    if not any(support.values()):
        return None
    assessable = sum(n for w, n in support.items() if w != REPORTED)
    met, partly, known = support.get(FULFILLED, 0), support.get(PARTLY, 0), sum(support.get(w, 0) for w in _KNOWN)
    if not assessable or known * 2 < assessable:
        return CANNOT_ASSESS
    if (rule == "majoritet" and met * 2 > known) or (rule != "majoritet" and met == known):
        return FULFILLED
    if met or partly:
        return PARTLY
    return NOT_FULFILLED


def goal_summary(goal_id: str, priority_goal: str | None, goal_text: str, lines: Iterable[IndicatorLine],
                 rule: str = "alla") -> GoalSummary:
    """The support (over distinct indicators) and suggested assessment of one goal."""
    sup = goal_support(lines)
    return GoalSummary(goal_id, priority_goal, goal_text, sup[FULFILLED], sup[PARTLY], sup[NOT_FULFILLED],
                       sup[CANNOT_ASSESS], sup[REPORTED], sup[MANUAL], suggest_assessment(sup, rule))


def sorted_indicators(data: CommitteeData, indicator_order: Sequence[str] = ()) -> tuple[IndicatorLine, ...]:
    """Indicator lines by goal (the goals' order), then indicator, then department (the submissions' order).

    Indicators follow *indicator_order* (the plan's), then first-seen order.
    Stable, so a department's series keep their order; committee-level lines
    come after the departments' lines of their indicator.
    """
    lines = data.indicators
    goals = {g.goal_id: i for i, g in enumerate(data.goals)}
    inds = {ind: i for i, ind in enumerate(dict.fromkeys(indicator_order))}
    deps = {s.department_id: i for i, s in enumerate(data.submissions)}
    for x in lines:
        goals.setdefault(x.goal_id, len(goals))
        inds.setdefault(x.indicator_id, len(inds))
        if x.department_id is not None:
            deps.setdefault(x.department_id, len(deps))
    return tuple(sorted(lines, key=lambda x: (goals[x.goal_id], inds[x.indicator_id],
                                               len(deps) if x.department_id is None else deps[x.department_id])))


def is_frame_line(line: EconomyLine) -> bool:
    """A line of the committee's own budget frame (Avdelnings-id ``NÄMND`` in the plan).

    The frame is shown as adopted: it holds its own subtotals (verksamhetens kostnader,
    nettokostnader, kommunbidrag …), so it is never added into the departments' totals.
    """
    return line.department_id.casefold() == COMMITTEE_ID.casefold()


def economy_totals(lines: Iterable[EconomyLine]) -> list[EconomyLine]:
    """Total rows over the departments' lines: one per item and one overall, in first-seen item order."""
    lines = [x for x in lines if not is_frame_line(x)]
    items = list(dict.fromkeys(line.item for line in lines))
    totals = [_sum_lines([x for x in lines if x.item == item], item) for item in items]
    if lines:
        totals.append(_sum_lines(lines, TOTAL_ROW))
    return totals


def department_totals(lines: Iterable[EconomyLine]) -> list[EconomyLine]:
    """One line per department (all its items summed), in first-seen order; the frame is left out."""
    lines = [x for x in lines if not is_frame_line(x)]
    deps = list(dict.fromkeys((x.department_id, x.department) for x in lines))
    out = []
    for dep_id, name in deps:
        total = _sum_lines([x for x in lines if x.department_id == dep_id], TOTAL_ROW)
        out.append(EconomyLine(dep_id, name, TOTAL_ROW, total.budget, total.outcome,
                               total.forecast, total.deviation, total.year_share))
    return out


def is_frame_investment(line: InvestmentLine) -> bool:
    """A row of the committee's adopted investment budget (plan rows ``NÄMND``, shown as adopted), not a
    project followed up in a file (a plan may have a department ``NÄMND`` whose own file reports them)."""
    return line.department_id.casefold() == COMMITTEE_ID.casefold() and line.department == FRAME_NAME


def investment_totals(lines: Iterable[InvestmentLine]) -> list[InvestmentLine]:
    """One total row over the followed-up projects (the committee's adopted frame left out: it holds its own
    group and total rows), or none when no department has a project."""
    lines = [x for x in lines if not is_frame_investment(x)]
    if not lines:
        return []

    def total(attr: str) -> float | None:
        values = [getattr(x, attr) for x in lines if getattr(x, attr) is not None]
        return sum(values) if values else None

    return [InvestmentLine("", "Nämnden totalt", TOTAL_ROW, total("budget"), total("outcome"), total("forecast"),
                           total("deviation"))]


def _sum_lines(lines: list[EconomyLine], item: str) -> EconomyLine:
    def total(attr: str) -> float | None:
        values = [getattr(x, attr) for x in lines if getattr(x, attr) is not None]
        return sum(values) if values else None

    share = next((x.year_share for x in lines if x.year_share is not None), None)
    return EconomyLine("", "Nämnden totalt", item, total("budget"), total("outcome"),
                       total("forecast"), total("deviation"), share)


# ---------------------------------------------------------------- sheet layout


@dataclass(frozen=True)
class Column:
    header: str
    attr: str
    kind: str = "text"  # text | int | float | datetime
    width: float = 14
    number_format: str | None = None  # VALUE: by the value's decimals (display_decimals)
    technical: bool = False  # hidden, last, outside the print area
    words: dict[str, str] | None = None  # stored value -> the Swedish word shown
    aliases: tuple[str, ...] = ()  # headers of earlier versions, still read
    added: bool = False  # added after format 1: a file of an earlier version may lack it (read as empty)
    derived: bool = False  # shown from a property of the record (Problem.fix), not read back


@dataclass(frozen=True)
class SheetSpec:
    name: str
    record: type
    columns: tuple[Column, ...]
    status_column: str | None = None  # header of a column coloured by status
    colours: dict[str, Colours] = field(default_factory=dict)

    @property
    def ordered(self) -> tuple[Column, ...]:
        """Columns as written: the visible ones, then the technical ones."""
        return tuple(c for c in self.columns if not c.technical) + tuple(c for c in self.columns if c.technical)


TKR = "#,##0;-#,##0"
DATETIME = "yyyy-mm-dd hh:mm"
VALUE = "value"  # number format chosen per value: grouped thousands, the decimals it is shown with


def _c(header: str, attr: str, kind: str = "text", width: float = 14, fmt: str | None = None,
       **kw: Any) -> Column:
    return Column(header, attr, kind, width, fmt, **kw)


SUBMISSIONS = SheetSpec("Inlämning", Submission, (
    _c("Avdelnings-id", "department_id", width=12), _c("Avdelning", "department", width=28),
    _c("Fil", "file", width=36), _c("Status", "state", width=16),
    _c("Senast sparad av", "saved_by", width=20),
    _c("Senast sparad", "saved_at", "datetime", 17, DATETIME),
    _c("Filens kontrollsumma", "file_hash", width=20, technical=True),
    _c("Antal problem", "problem_count", "int", 10, "0"),
    _c("Status satt av", "state_by", width=20, added=True),
    _c("Status satt", "state_at", "datetime", 17, DATETIME, added=True),
    _c("Controllerns kommentar", "state_comment", width=40, added=True),
))
GOALS = SheetSpec("Måluppfyllelse", GoalSummary, (
    _c("Mål-id", "goal_id", width=8), _c("Prioriterat mål", "priority_goal", width=28),
    _c("Nämndens mål", "goal_text", width=48),
    _c(FULFILLED, "fulfilled", "int", 11, "0"), _c(PARTLY, "partly", "int", 11, "0"),
    _c(NOT_FULFILLED, "not_fulfilled", "int", 11, "0"),
    _c(CANNOT_ASSESS, "outcome_missing", "int", 11, "0", aliases=(OUTCOME_MISSING,)),
    _c(REPORTED, "target_missing", "int", 11, "0", aliases=(TARGET_MISSING,)), _c(MANUAL, "manual", "int", 11, "0"),
    _c("Förslag till bedömning", "assessment", width=18, aliases=("Samlad bedömning",)),
), status_column="Förslag till bedömning", colours=STATUS_COLOURS)
INDICATORS = SheetSpec("Indikatorer", IndicatorLine, (  # the goal's texts are on Måluppfyllelse: hidden here
    _c("Mål-id", "goal_id", width=8), _c("Prioriterat mål", "priority_goal", width=22, technical=True),
    _c("Nämndens mål", "goal_text", width=36, technical=True), _c("Indikator-id", "indicator_id", width=11),
    _c("Indikator", "indicator", width=30), _c("Avdelnings-id", "department_id", width=12),
    _c("Avdelning", "department", width=18), _c("Serie", "series", width=12),
    _c("Enhet", "unit", width=8), _c("Nuläge", "baseline", width=12),
    _c("Nulägesår", "baseline_year", "int", 10, "0"), _c("Målvärde", "target", width=16),
    _c("Målvärde (tal)", "target_value", "float", 12, VALUE, technical=True),
    _c("Utfall", "outcome", "float", 10, VALUE), _c("Status", "status", width=15),
    _c("Egen bedömning", "assessment", width=15), _c("Analys", "comment", width=40),
    _c("Åtgärder", "actions", width=32), _c("Ursprung", "provenance", width=20),
    _c("Kolada-id", "kolada_id", width=10),
), status_column="Status", colours=STATUS_COLOURS)
ACTIVITIES = SheetSpec("Aktiviteter", ActivityLine, (
    _c("Aktivitets-id", "activity_id", width=12), _c("Avdelnings-id", "department_id", width=12),
    _c("Avdelning", "department", width=22), _c("Mål-id", "goal_id", width=8),
    _c("Rubrik", "heading", width=18), _c("Aktivitet", "text", width=48),
    _c("Ansvarig", "responsible", width=18), _c("Klart senast", "deadline", width=14),
    _c("Status", "status", width=13), _c("Kommentar", "comment", width=48),
), status_column="Status", colours=ACTIVITY_COLOURS)
ECONOMY = SheetSpec("Ekonomi", EconomyLine, (
    _c("Avdelnings-id", "department_id", width=12), _c("Avdelning", "department", width=24),
    _c("Post", "item", width=24), _c("Budget (tkr)", "budget", "float", 14, TKR),
    _c("Utfall hittills (tkr)", "outcome", "float", 16, TKR),
    _c("Prognos helår (tkr)", "forecast", "float", 16, TKR),
    _c("Avvikelse (tkr)", "deviation", "float", 14, TKR),
    _c("Andel av året", "year_share", "float", 10, "0\\ %", added=True),  # 67 %: a fraction, shown as percent
))
INVESTMENTS = SheetSpec("Investeringar", InvestmentLine, (
    _c("Avdelnings-id", "department_id", width=12), _c("Avdelning", "department", width=24),
    _c("Projekt", "project", width=28, derived=True), _c("Budget (tkr)", "budget", "float", 14, TKR),
    _c("Utfall hittills (tkr)", "outcome", "float", 16, TKR),
    _c("Prognos helår (tkr)", "forecast", "float", 16, TKR),
    _c("Avvikelse (tkr)", "deviation", "float", 14, TKR), _c("Kommentar", "comment", width=48),
    _c("Post", "item", width=28, technical=True),  # the plan's Post verbatim (Investering: …)
))
PERSONNEL = SheetSpec("Personal", PersonnelLine, (
    _c("Avdelnings-id", "department_id", width=12), _c("Avdelning", "department", width=24),
    _c("Nyckeltal", "name", width=28), _c("Enhet", "unit", width=8), _c("Nuvärde", "current", width=12),
    _c("Målvärde", "target", width=14), _c("Utfall", "outcome", "float", 10, VALUE),
    _c("Status", "status", width=15), _c("Kommentar", "comment", width=40),
    _c("Ursprung / beräkning", "basis", width=36),
), status_column="Status", colours=STATUS_COLOURS)
COMMENTS = SheetSpec("Kommentarer", CommentLine, (
    _c("Mål-id", "goal_id", width=8), _c("Avdelnings-id", "department_id", width=12),
    _c("Avdelning", "department", width=22), _c("Indikator-id", "indicator_id", width=11),
    _c("Kommentar", "text", width=90),
))
CONTROLS = SheetSpec("Internkontroll", ControlResult, (
    _c("Kontroll-id", "control_id", width=10), _c("Avdelnings-id", "department_id", width=12),
    _c("Avdelning", "department", width=22), _c("Risk", "risk", width=36),
    _c("Kontrollmoment", "control", width=30), _c("Sannolikhet", "probability", "int", 11, "0"),
    _c("Konsekvens", "consequence", "int", 11, "0"), _c("Riskvärde", "risk_value", "int", 10, "0"),
    _c("Resultat", "result", width=40), _c("Kommentar", "comment", width=40),
))
COMPARISONS = SheetSpec("Jämförelser", Comparison, (
    _c("Kolada-id", "kolada_id", width=10), _c("Nyckeltal", "kpi_title", width=48),
    _c("Kommun-id", "municipality_id", width=10), _c("Kommun/jämförelse", "municipality", width=22),
    _c("År", "year", "int", 7, "0"), _c("Kön", "gender", width=6),
    _c("Värde", "value", "float", 10, VALUE), _c("Status", "status", width=10),
    _c("Hämtat", "fetched_at", "datetime", 17, DATETIME), _c("Källa", "source", width=36),
))
PROBLEMS = SheetSpec("Kontroll", Problem, (
    _c("Fil", "file", width=30), _c("Blad", "sheet", width=18), _c("Cell", "cell", width=8),
    _c("Allvar", "severity", width=11, words=SEVERITY_WORDS),
    _c("Meddelande", "message", width=70), _c("Åtgärd", "action", width=30),
    _c("Så gör du", "fix", width=50, derived=True),  # the code's fix (xlplan.core.codes), as in the JSON report
    _c("Kod", "code", width=18, technical=True),
), status_column="Allvar", colours={SEVERITY_WORDS[s]: c for s, c in SEVERITY_COLOURS.items()})

ANSWERS = SheetSpec("Frågor", AnswerLine, (
    _c("Mål-id", "goal_id", width=8), _c("Fråga-id", "question_id", width=10), _c("Fråga", "question", width=48),
    _c("Avdelnings-id", "department_id", width=12), _c("Avdelning", "department", width=22),
    _c("Svar", "answer", width=90),
))
GOAL_LEVELS = SheetSpec("Målnivåer", GoalLevels, (
    _c("Mål-id", "goal_id", width=8), _c("Målområde", "level1", width=24),
    _c("Beskrivning målområde", "level1_description", width=40), _c("Kommunmål", "priority_goal", width=28),
    _c("Beskrivning kommunmål", "priority_description", width=40),
    _c("Beskrivning nämndens mål", "description", width=48),
))
HISTORY = SheetSpec("Historik", HistoryValue, (
    _c("Indikator-id", "indicator_id", width=11), _c("Indikator", "indicator", width=36),
    _c("Serie", "series", width=12), _c("År", "year", "int", 7, "0"),
    _c("Utfall", "value", "float", 10, VALUE), _c("Som i planen", "text", width=16),
))
SHEETS: tuple[tuple[str, SheetSpec], ...] = (
    ("submissions", SUBMISSIONS), ("goals", GOALS), ("indicators", INDICATORS),
    ("activities", ACTIVITIES), ("economy", ECONOMY), ("investments", INVESTMENTS), ("personnel", PERSONNEL),
    ("comments", COMMENTS), ("controls", CONTROLS), ("comparisons", COMPARISONS), ("problems", PROBLEMS),
    ("answers", ANSWERS), ("goal_levels", GOAL_LEVELS), ("history", HISTORY),
)
# Values of one indicator (or one Kolada KPI) are shown with the same decimals: the most any of them needs.
VALUE_GROUPS: dict[type, str] = {IndicatorLine: "indicator_id", Comparison: "kolada_id", PersonnelLine: "name"}
#: Sheets written only when they have rows, and read as empty when absent (workbooks of earlier versions).
OPTIONAL_SHEETS = frozenset({"personnel", "answers", "goal_levels", "history", "investments"})
ROW_KIND = "Radtyp"
TEXTS_SHEET = "Texter"
HEADER_ROW = 2  # 0-based: a title row and a period row above every table


# ---------------------------------------------------------------- as pandas DataFrames


def committee_frames(data: CommitteeData) -> dict[str, Any]:
    """The committee workbook's tables as pandas DataFrames, one per sheet name (Inlämning,
    Måluppfyllelse, Indikatorer …), with the sheet's Swedish column headers and typed values, for
    controllers who script their analyses.  pandas is imported only here."""
    import pandas as pd

    frames = {}
    for attr, spec in SHEETS:
        rows = [[getattr(record, c.attr) for c in spec.columns] for record in getattr(data, attr)]
        frames[spec.name] = pd.DataFrame(rows, columns=[c.header for c in spec.columns])
    return frames


# ---------------------------------------------------------------- writing

HEADER_FILL = "D9E1F2"
INPUT_FILL = "FFF2CC"  # the cells a person types in (as in the department workbooks)
_BASE = {"valign": "top"}


class Formats:
    """XlsxWriter formats of one workbook, made once per distinct set of properties."""

    def __init__(self, wb: Workbook) -> None:
        self.wb = wb
        self._cache: dict[tuple[tuple[str, Any], ...], Any] = {}

    def get(self, **props: Any) -> Any:
        props = {k: v for k, v in {**_BASE, **props}.items() if v is not None}
        key = tuple(sorted(props.items()))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format(props)
        return self._cache[key]

    def header(self) -> Any:
        return self.get(bold=True, bg_color=HEADER_FILL, text_wrap=True)

    def conditional(self, fill: str, font: str) -> Any:
        key = (("cf", fill), ("font", font))
        if key not in self._cache:
            self._cache[key] = self.wb.add_format({"bg_color": fill, "font_color": font})
        return self._cache[key]


def new_workbook(path: Path, created: dt.datetime | None = None, inline_strings: bool = False) -> Workbook:
    """An XlsxWriter workbook that writes every text as text (never a formula, number or link).

    Writers here set a row's height before its cells and write rows in order,
    so either mode works: shared strings (faster when texts repeat, as status
    words and names do) or, with *inline_strings*, each row flushed as it is
    written with its texts inline (``constant_memory``).
    """
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False, "constant_memory": inline_strings})
    if created is not None:  # the same data gives the same file
        wb.set_properties({"created": _local(created)})
    return wb


def _local(value: dt.datetime) -> dt.datetime:
    return value.astimezone().replace(tzinfo=None) if value.tzinfo is not None else value


def cell_value(value: Any) -> Any:
    """*value* as a cell takes it: text without illegal characters, local time."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    if isinstance(value, dt.datetime):
        return _local(value)  # Excel has no time zones: local time
    return value


def value_decimals(value: float) -> int:
    """The decimals *value* is shown with: as typed up to two, one for longer ones (Kolada's raw shares)."""
    decimals = display_decimals(float(value)) if math.isfinite(value) else 0
    if decimals is None:
        decimals = next(d for d in (0, 1, 2) if round(value, d) == value)
    return decimals


def decimals_format(decimals: int) -> str:
    return "#,##0" + ("." + "0" * decimals if decimals else "")


def value_format(value: Any) -> str:
    """The number format that shows *value* as people read it: ``#,##0`` with its decimals (at most two)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "General"
    return decimals_format(value_decimals(value))


def value_formats(spec: SheetSpec, records: Sequence[Any]) -> list[str | None]:
    """Per record, the number format of its :data:`VALUE` columns (shared by its group), or None."""
    group = VALUE_GROUPS.get(spec.record)
    attrs = [c.attr for c in spec.columns if c.number_format == VALUE]
    if group is None or not attrs:
        return [None] * len(records)
    get_group = attrgetter(group)
    most: dict[Any, int] = {}
    decimals: dict[float, int] = {}  # values repeat (targets, shares): each is looked at once
    for attr in attrs:
        get = attrgetter(attr)
        for r in records:
            value = get(r)
            if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
                continue
            d = decimals.get(value)
            if d is None:
                d = decimals[value] = value_decimals(value)
            key = get_group(r)
            if d > most.get(key, -1):
                most[key] = d
    shown = {key: decimals_format(d) for key, d in most.items()}
    return [shown.get(get_group(r)) for r in records]


def write_cell(ws: Worksheet, row: int, col: int, value: Any, fmt: Any) -> None:
    """Write one value as data: text is always a text cell; NaN and infinities are left empty."""
    value = cell_value(value)
    if value is None:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, str):
        ws.write_string(row, col, value, fmt)
    elif isinstance(value, bool):
        ws.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float)):
        if math.isfinite(value):
            ws.write_number(row, col, value, fmt)
    elif isinstance(value, (dt.datetime, dt.date)):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def title_rows(ws: Worksheet, fm: Formats, title: str, meta: CommitteeMeta) -> None:
    """Row 1: the title; row 2: kommun, period and when the data was gathered (to the minute)."""
    ws.set_row(0, 21)
    ws.write_string(0, 0, title, fm.get(bold=True, font_size=14, valign=None))
    ws.write_string(1, 0, period_line(meta), fm.get(italic=True, font_color="595959", valign=None))


def period_line(meta: CommitteeMeta) -> str:
    when = _local(meta.generated_at).strftime("%Y-%m-%d %H:%M")
    parts = [p for p in (meta.municipality, meta.administration, meta.period_label) if p]
    return " · ".join(parts + [f"sammanställd {when}"])


def print_setup(ws: Worksheet, header_row: int, last_row: int, last_col: int) -> None:
    """Landscape A4, one page wide, title and header rows on every page, print area over the columns shown."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0, header_row)
    ws.print_area(0, 0, max(last_row, header_row), last_col)
    ws.set_footer("&L&A&RSida &P av &N")


def write_table(ws: Worksheet, fm: Formats, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                widths: Sequence[float], formats: Sequence[str | None], *, header_row: int = HEADER_ROW,
                autofilter: bool = True, hidden: int = 0, bold_rows: Sequence[bool] | None = None,
                cell_formats: dict[int, Callable[[Any], dict[str, Any]]] | None = None,
                row_value_formats: Sequence[str | None] | None = None) -> int:
    """Write a header row at *header_row* and data rows below it; returns the last row (0-based).

    The last *hidden* columns are hidden (technical).  ``formats`` are number
    formats per column (:data:`VALUE`: chosen per value); ``cell_formats``
    may add properties (a fill …) to a column's cells by their value (column -> function of the value);
    ``row_value_formats`` gives a row's :data:`VALUE` format (see :func:`value_formats`).

    A text longer than its column (or with a line break) wraps, and its row is
    made high enough for it; the other cells of the row do not wrap.  An
    empty cell (None) is left out, except in a bold row and where
    ``cell_formats`` gives it properties: there it keeps its format.  NaN and
    infinities are always left empty.
    """
    head = fm.header()
    if any(len(h) > w for h, w in zip(headers, widths)):
        ws.set_row(header_row, 30)  # room for headers wrapped over two lines
    for col, header in enumerate(headers):
        write_cell(ws, header_row, col, header, head)
    columns = _TableColumns(fm, widths, formats, cell_formats or {})
    write_string, write_number, set_row = ws.write_string, ws.write_number, ws.set_row
    isfinite = math.isfinite
    cols = columns.cols
    last = header_row
    for i, row in enumerate(rows):
        last = header_row + 1 + i
        bold = 1 if bold_rows and bold_rows[i] else 0
        shared = row_value_formats[i] if row_value_formats else None
        lines = 1
        # Decided per column once (columns.cols); per cell only what the value changes: its kind, wrapping.
        for col, value, (width, per_line, slots, special) in zip(range(len(row)), row, cols):
            cls = value.__class__
            if cls is str:
                if value.isprintable():
                    text, wrap = value, 0
                    if len(value) > width:
                        wrap = 2
                        n = -(-len(value) // per_line)
                        if n > lines:
                            lines = n
                else:  # a line break, or a character no cell may hold
                    wrap = 2 if len(value) > width or "\n" in value else 0
                    if wrap:
                        lines = max(lines, wrapped_lines(value, width))
                    text = ILLEGAL_CHARACTERS_RE.sub("", value)
                if special:
                    fmt = columns.special(col, value, wrap, bold, shared)
                else:
                    fmt = slots[wrap + bold] or columns.plain(col, wrap + bold)
                write_string(last, col, text, fmt)
            elif cls is float or cls is int:
                if special:
                    fmt = columns.special(col, value, 0, bold, shared)
                else:
                    fmt = slots[bold] or columns.plain(col, bold)
                if isfinite(value):
                    write_number(last, col, value, fmt)
            elif value is None:
                if special:
                    fmt = columns.special(col, None, 0, bold, shared)
                    if fmt is not None:
                        ws.write_blank(last, col, None, fmt)
                elif bold:
                    ws.write_blank(last, col, None, slots[1] or columns.plain(col, 1))
            else:  # bool, datetime, a text of a str subclass (an enum) …
                wrap = 2 if isinstance(value, str) and (len(value) > width or "\n" in value) else 0
                if wrap:
                    lines = max(lines, wrapped_lines(value, width))
                if special:
                    fmt = columns.special(col, value, wrap, bold, shared)
                else:
                    fmt = slots[wrap + bold] or columns.plain(col, wrap + bold)
                write_cell(ws, last, col, value, fmt)
        if lines > 1:  # not every reader fits rows to wrapped text by itself
            set_row(last, min(15 * lines + 2, 409))  # Excel's largest row height
    for col, width in enumerate(widths):
        technical = col >= len(widths) - hidden
        ws.set_column(col, col, width, None, {"hidden": True} if technical else None)
    ws.freeze_panes(header_row + 1, 0)
    if autofilter:  # over every column, so sorting moves the technical ones along
        ws.autofilter(header_row, 0, max(last, header_row + 1), len(headers) - 1)
    return last


class _TableColumns:
    """What :func:`write_table` decides per column once: width, characters per line, cell formats.

    A column with a fixed number format gets at most four formats (wrapped or
    not, bold or not), made when first used, so a workbook's formats come in
    the order its cells need them.  :data:`VALUE` columns and columns with
    ``cell_formats`` are *special*: their format depends on the value.
    """

    def __init__(self, fm: Formats, widths: Sequence[float], formats: Sequence[str | None],
                 cell_formats: dict[int, Callable[[Any], dict[str, Any]]]) -> None:
        self.fm = fm
        self.formats = formats
        self.cell_formats = cell_formats
        self.slots: list[list[Any]] = [[None] * 4 for _ in widths]  # by wrap (0/2) + bold (0/1)
        self.seen: dict[tuple[Any, ...], Any] = {}
        self.cols = [(width, chars_per_line(width), self.slots[col],
                      formats[col] == VALUE or col in cell_formats) for col, width in enumerate(widths)]

    def plain(self, col: int, code: int) -> Any:
        """The format of a cell of a fixed-format column: *code* is 2 when it wraps, + 1 when bold."""
        fmt = self.slots[col][code] = self.fm.get(num_format=self.formats[col], text_wrap=(code >= 2) or None,
                                                  bold=(code % 2 == 1) or None)
        return fmt

    def special(self, col: int, value: Any, wrap: int, bold: int, shared: str | None) -> Any:
        """The format of a cell whose format depends on its value; None for an empty cell that has none."""
        num = self.formats[col]
        if num == VALUE:
            num = None if value is None else shared or value_format(value)
        style = self.cell_formats.get(col)
        extra = style(value) if style is not None else None
        if value is None and not extra and not bold:
            return None
        key = (num, wrap, bold, tuple(extra.items()) if extra else None)
        fmt = self.seen.get(key)
        if fmt is None:
            fmt = self.seen[key] = self.fm.get(num_format=num, text_wrap=bool(wrap) or None, bold=bool(bold) or None,
                                               **(extra or {}))
        return fmt


def chars_per_line(width: float) -> int:
    """About how many characters fit on one line of a column *width* characters wide."""
    return max(int(width * 1.15), 1)


def wrapped_lines(text: str, width: float) -> int:
    """About how many lines *text* takes in a column *width* characters wide."""
    per_line = chars_per_line(width)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in text.split("\n"))


def add_status_colours(ws: Worksheet, fm: Formats, column: int, first_row: int, last_row: int,
                       colours: dict[str, Colours]) -> None:
    """Colour a status column by its value (conditional formatting, so edits recolour)."""
    for label, (fill, font) in colours.items():
        ws.conditional_format(first_row, column, max(last_row, first_row), column, {
            "type": "cell", "criteria": "equal to", "value": f'"{label}"', "format": fm.conditional(fill, font)})


def shown_rows(columns: Sequence[Column], records: Iterable[Any]) -> list[list[Any]]:
    """The rows of *records* as shown: one list per record, one value per column (a stored word as the
    column's Swedish word, :attr:`Column.words`)."""
    get: Callable[[Any], Any] = attrgetter(*(c.attr for c in columns))
    rows: list[list[Any]] = [list(get(r)) for r in records] if len(columns) > 1 else [[get(r)] for r in records]
    for col, column in enumerate(columns):
        if column.words:
            words = column.words
            for row in rows:
                value = row[col]
                if isinstance(value, str):
                    row[col] = words.get(value, value)
    return rows


def write_spec(ws: Worksheet, fm: Formats, spec: SheetSpec, records: Sequence[Any], meta: CommitteeMeta,
               marks: list[str] | None = None, title: str | None = None) -> int:
    """One record sheet: title rows, table (technical columns last and hidden), status colours, print setup."""
    columns = spec.ordered
    hidden = sum(c.technical for c in columns)
    headers = [c.header for c in columns]
    rows = shown_rows(columns, records)
    widths = [c.width for c in columns]
    formats = [c.number_format for c in columns]
    if marks is not None:  # a marker column (Ekonomi: Radtyp), before the technical ones
        at = len(columns) - hidden
        headers.insert(at, ROW_KIND)
        widths.insert(at, 10)
        formats.insert(at, None)
        for row, mark in zip(rows, marks):
            row.insert(at, mark)
    title_rows(ws, fm, title or f"{meta.committee} – {spec.name}", meta)
    last = write_table(ws, fm, headers, rows, widths, formats, hidden=hidden,
                       bold_rows=[m == TOTAL_ROW for m in marks] if marks else None,
                       row_value_formats=value_formats(spec, records))
    if spec.status_column:
        add_status_colours(ws, fm, headers.index(spec.status_column), HEADER_ROW + 1, last, spec.colours)
    print_setup(ws, HEADER_ROW, last, len(headers) - hidden - 1)
    return last


def _meta_rows(meta: CommitteeMeta) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("kind", KIND), ("format_version", FORMAT_VERSION)]
    for f in fields(meta):
        value = getattr(meta, f.name)
        rows.append((f.name, value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else value))
    return rows


TEXTS_INTRO = ("Skriv nämndens texter och samlade bedömningar i de gula cellerna. De följer med till "
               "nämndrapporten och finns kvar när sammanställningen görs om.")
GOAL_HEADERS = ("Mål-id", "Nämndens mål", *SUPPORT_WORDS, "Förslag", "Samlad bedömning", "Motivering")
GOAL_WIDTHS = (20, 40, 10, 10, 10, 10, 10, 10, 16, 18, 60)
SECTION_HEADER = "Avsnitt"
GONE_GOAL = "(målet finns inte längre i planen)"


def write_texts_sheet(ws: Worksheet, fm: Formats, data: CommitteeData) -> None:
    """Texter: one input cell per report section, one row per goal with support, suggestion and inputs."""
    meta = data.meta
    title_rows(ws, fm, f"{meta.committee} – texter och samlad bedömning", meta)
    last_col = len(GOAL_HEADERS) - 1
    ws.write_string(2, 0, TEXTS_INTRO, fm.get(valign=None))
    head = fm.header()
    locked_wrap = fm.get(text_wrap=True)
    text_input = fm.get(locked=False, bg_color=INPUT_FILL, text_wrap=True, num_format="@", border=1,
                        border_color="BFBFBF")
    row = 4
    ws.write_string(row, 0, SECTION_HEADER, head)
    ws.merge_range(row, 1, row, last_col, "Text", head)
    for key, label in TEXT_SECTIONS:
        row += 1
        if key not in ("diarienummer", "sammantradesdatum"):
            ws.set_row(row, 90)
        ws.write_string(row, 0, label, locked_wrap)
        ws.merge_range(row, 1, row, last_col, "", text_input)
        write_cell(ws, row, 1, data.texts.get(key), text_input)
    row += 2
    goal_header = row
    ws.set_row(row, 30)
    for col, header in enumerate(GOAL_HEADERS):
        ws.write_string(row, col, header, head)
    goals = list(data.goals)
    known = {g.goal_id for g in goals}
    goals += [GoalSummary(gid, None, GONE_GOAL) for gid in data.goal_assessments if gid not in known]
    word_input = fm.get(locked=False, bg_color=INPUT_FILL, border=1, border_color="BFBFBF")
    for goal in goals:
        row += 1
        ws.set_row(row, 60)
        word, motivation = data.goal_assessments.get(goal.goal_id, (None, None))
        ws.write_string(row, 0, goal.goal_id, fm.get())
        write_cell(ws, row, 1, goal.goal_text, locked_wrap)
        for col, count in enumerate(goal.support().values(), start=2):
            ws.write_number(row, col, count, fm.get(num_format="0"))
        write_cell(ws, row, 8, goal.assessment or "–", fm.get())
        write_cell(ws, row, 9, word, word_input)
        write_cell(ws, row, 10, motivation, text_input)
    if goals:
        ws.data_validation(goal_header + 1, 9, row, 9, {
            "validate": "list", "source": list(GOAL_WORDS), "error_title": "Samlad bedömning",
            "error_message": "Välj " + ", ".join(GOAL_WORDS[:-1]) + " eller " + GOAL_WORDS[-1] + "."})
    for col, width in enumerate(GOAL_WIDTHS):
        ws.set_column(col, col, width)
    ws.protect("", {"format_columns": True, "format_rows": True})
    print_setup(ws, 1, row, last_col)


def build_committee_workbook(data: CommitteeData, path: str | os.PathLike[str]) -> Path:
    """Write *data* as a committee workbook at *path* (not atomically: see :func:`write_committee_workbook`)."""
    path = Path(path)
    wb = new_workbook(path, data.meta.generated_at, inline_strings=has_escape_like_text(data))
    fm = Formats(wb)
    write_texts_sheet(wb.add_worksheet(TEXTS_SHEET), fm, data)
    for attr, spec in SHEETS:
        records = list(sorted_indicators(data) if spec is INDICATORS else getattr(data, attr))
        if attr in OPTIONAL_SHEETS and not records:
            continue
        ws = wb.add_worksheet(spec.name)
        if spec is ECONOMY:
            totals = economy_totals(records)
            marks = ["Avdelning"] * len(records) + [TOTAL_ROW] * len(totals)
            write_spec(ws, fm, spec, records + totals, data.meta, marks)
        elif spec is INVESTMENTS:
            totals_i = investment_totals(records)
            marks = ["Projekt"] * len(records) + [TOTAL_ROW] * len(totals_i)
            write_spec(ws, fm, spec, records + totals_i, data.meta, marks)
        else:
            write_spec(ws, fm, spec, records, data.meta)
    meta = wb.add_worksheet(META_SHEET)
    write_table(meta, fm, ["Nyckel", "Värde"], _meta_rows(data.meta), [18, 40], [None, None], header_row=0,
                autofilter=False)
    meta.hide()
    wb.close()
    return path


def has_escape_like_text(data: CommitteeData) -> bool:
    """Whether a text of *data* looks like OOXML's ``_xHHHH_`` escape (see :mod:`xlplan.io.xmltext`).

    XlsxWriter escapes such texts correctly either way, but openpyxl's reader
    of shared strings strips ``x005F_`` from them; written inline they read
    back as typed in every reader.  Shared strings are faster (texts repeat),
    so they are used whenever no text needs this.
    """
    small = [*vars(data.meta).values(), *data.texts.values(), *(v for p in data.goal_assessments.values() for v in p)]
    if any(isinstance(v, str) and escape_cell_text(v) != v for v in small):
        return True
    return any(_escape_like(getattr(data, attr)) for attr, _spec in SHEETS)


_ESCAPE_LIKE = re.compile(r"_x[0-9A-Fa-f]{4}_")  # what xlplan.io.xmltext.escape_cell_text escapes
_NOT_TEXT = frozenset({"int", "float", "bool", "dt.datetime", "dt.date", int, float, bool, dt.datetime, dt.date})


def _escape_like(records: Sequence[Any]) -> bool:
    """Whether a text field of *records* (records of one dataclass) looks like an escape: one search over all."""
    if not records:
        return False
    names = [f.name for f in fields(records[0]) if str(f.type).removesuffix(" | None") not in _NOT_TEXT
             and f.type not in _NOT_TEXT]
    if not names:
        return False
    try:
        get: Callable[[Any], Any] = attrgetter(*names)
        values: Iterable[Any] = chain.from_iterable(map(get, records)) if len(names) > 1 else map(get, records)
        text = "\n".join(filter(None, values))  # a match cannot span the line break
    except (TypeError, AttributeError):  # a value that is no text, another kind of record: look at each
        return any(isinstance(v, str) and escape_cell_text(v) != v for r in records for v in vars(r).values())
    return "_x" in text and _ESCAPE_LIKE.search(text) is not None


def write_committee_workbook(data: CommitteeData, path: str | os.PathLike[str]) -> Path:
    """Write *data* as a committee workbook at *path* (atomically); returns the path."""
    path = Path(path)
    with atomic_path(path) as tmp:
        build_committee_workbook(data, tmp)
    return path


def keep_controller_inputs(data: CommitteeData, path: str | os.PathLike[str]) -> CommitteeData:
    """*data* with the texts and goal assessments typed into the committee workbook already at *path*.

    What *data* itself holds wins; nothing typed is dropped (an assessment of a
    goal no longer in the plan is kept and shown as such).  A file at *path*
    that cannot be read, or is no committee workbook, is refused rather than
    overwritten.
    """
    path = Path(path)
    if not path.exists():
        return data
    try:
        texts, assessments = read_controller_inputs(path)
    except XlplanError as exc:
        raise WorkbookRefused(path.name, f"den befintliga sammanställningen kan inte läsas ({_reason(exc)}). "
                                         "Den skrivs inte över, så att nämndens texter och bedömningar i bladet "
                                         f"'{TEXTS_SHEET}' inte går förlorade. Stäng filen om den är öppen, "
                                         "eller flytta den och sammanställ igen.") from exc
    return replace(data, texts={**texts, **data.texts}, goal_assessments={**assessments, **data.goal_assessments})


def _reason(exc: Exception) -> str:
    text = str(exc)
    return text.split(": ", 1)[1] if ": " in text else text


# ---------------------------------------------------------------- reading


def read_committee_workbook(path: str | os.PathLike[str]) -> CommitteeData:
    """Read a committee workbook written by :func:`write_committee_workbook`.

    Raises :class:`WorkbookUnreadable` for a file that is not a readable
    workbook, :class:`WorkbookRefused` for a workbook that is not an xlplan
    committee workbook (or whose sheets lack columns or hold bad values).
    """
    path = Path(path)
    wb = open_workbook(path)
    name = path.name
    if META_SHEET not in wb.sheet_names:
        raise WorkbookRefused(name, "arbetsboken är ingen nämndsammanställning från xlplan "
                                    f"(det dolda bladet '{META_SHEET}' saknas). Välj den fil som "
                                    "xlplan consolidate skrev.")
    meta = _read_meta(wb, path)
    records: dict[str, tuple[Any, ...]] = {}
    for attr, spec in SHEETS:
        if spec.name not in wb.sheet_names:
            if attr in OPTIONAL_SHEETS:
                records[attr] = ()
                continue
            raise WorkbookRefused(name, f"bladet '{spec.name}' saknas i nämndsammanställningen.")
        records[attr] = tuple(_read_spec(read_sheet_rows(wb, path, spec.name), spec, name))
    texts, assessments = _read_texts(wb, path)
    return CommitteeData(meta=meta, **records, texts=texts, goal_assessments=assessments)


def read_controller_inputs(path: str | os.PathLike[str]) -> tuple[dict[str, str],
                                                                  dict[str, tuple[str | None, str | None]]]:
    """The texts and goal assessments typed on Texter of the committee workbook at *path*.

    A committee workbook of an earlier version (no Texter) gives none; a file
    that is not a committee workbook is refused (:class:`WorkbookRefused`).
    """
    path = Path(path)
    wb = open_workbook(path)
    if META_SHEET not in wb.sheet_names:
        raise WorkbookRefused(path.name, "arbetsboken är ingen nämndsammanställning från xlplan "
                                         f"(det dolda bladet '{META_SHEET}' saknas)")
    _read_meta(wb, path)
    return _read_texts(wb, path)


def _read_texts(wb: Any, path: Path) -> tuple[dict[str, str], dict[str, tuple[str | None, str | None]]]:
    if TEXTS_SHEET not in wb.sheet_names:
        return {}, {}
    rows = read_sheet_rows(wb, path, TEXTS_SHEET)
    labels = {norm_header(label): key for key, label in TEXT_SECTIONS}
    words = {norm_header(w): w for w in GOAL_WORDS}
    texts: dict[str, str] = {}
    assessments: dict[str, tuple[str | None, str | None]] = {}
    goal_cols: dict[str, int] | None = None
    for raw in rows:
        first = norm_header(_input_text(raw[0])) if raw else ""
        if goal_cols is None and first == norm_header(GOAL_HEADERS[0]):
            goal_cols = {norm_header(h): i for i, h in enumerate(raw) if norm_header(h)}
            continue
        if goal_cols is None:
            text = _input_text(raw[1]) if len(raw) > 1 else None
            if first in labels and text:
                texts[labels[first]] = text
            continue
        goal_id = _input_text(raw[0])
        word = _input_text(_at(raw, goal_cols.get(norm_header("Samlad bedömning"))))
        motivation = _input_text(_at(raw, goal_cols.get(norm_header("Motivering"))))
        if goal_id and (word or motivation):
            word = words.get(norm_header(word), word) if word else None
            assessments[goal_id] = (word, motivation)
    return texts, assessments


def _at(raw: list[Any], col: int | None) -> Any:
    return raw[col] if col is not None and col < len(raw) else None


def _input_text(value: Any) -> str | None:
    """What a person typed, as text: a date typed into a text cell reads as 2024-10-15."""
    value = clean(value)
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date):
        return value.isoformat()
    return _to_text(value).strip() or None


def _read_meta(wb: Any, path: Path) -> CommitteeMeta:
    rows = read_sheet_rows(wb, path, META_SHEET)
    values = {str(r[0]).strip(): clean(r[1]) for r in rows[1:] if len(r) >= 2 and r[0] not in (None, "")}
    kind = values.get("kind")
    if kind != KIND:
        what = f"en arbetsbok av slaget '{kind}'" if kind else "en okänd arbetsbok"
        raise WorkbookRefused(path.name, f"arbetsboken är {what} från xlplan, inte en nämndsammanställning.")
    version = values.get("format_version")
    if not isinstance(version, int) or version > FORMAT_VERSION:
        raise WorkbookRefused(path.name, f"nämndsammanställningens format ({version}) är nyare än "
                                         "denna version av xlplan kan läsa; uppdatera xlplan.")
    try:
        kwargs: dict[str, Any] = {f.name: values.get(f.name) for f in fields(CommitteeMeta)}
        kwargs["generated_at"] = dt.datetime.fromisoformat(str(kwargs["generated_at"]))
        for key in ("plan_id", "plan_version", "municipality", "municipality_id", "committee",
                    "period", "period_label", "goal_rule"):
            kwargs[key] = "" if kwargs[key] is None else str(kwargs[key])
        return CommitteeMeta(**kwargs)
    except (TypeError, ValueError) as exc:
        raise WorkbookRefused(path.name, f"bladet '{META_SHEET}' är skadat ({exc}).") from exc


def _header_row(rows: list[list[Any]], spec: SheetSpec) -> int:
    """The row holding the headers: the first of the first rows naming the first column (title rows above)."""
    first = norm_header(spec.columns[0].header)
    for r0, raw in enumerate(rows[:10]):
        if any(norm_header(v) == first for v in raw if isinstance(v, str)):
            return r0
    return 0


def _read_spec(rows: list[list[Any]], spec: SheetSpec, file: str) -> list[Any]:
    if not rows:
        raise WorkbookRefused(file, f"blad '{spec.name}': rubrikraden saknas.")
    top = _header_row(rows, spec)
    header = {norm_header(h): i for i, h in enumerate(rows[top]) if norm_header(h)}
    where: dict[str, int] = {}
    missing = []
    for c in spec.columns:
        col = next((header[norm_header(h)] for h in (c.header, *c.aliases) if norm_header(h) in header), None)
        if c.derived:
            continue
        if col is not None:
            where[c.attr] = col
        elif not c.added:
            missing.append(c.header)
    if missing:
        raise WorkbookRefused(file, f"blad '{spec.name}': kolumnen/kolumnerna {', '.join(missing)} saknas.")
    kind_col = header.get(norm_header(ROW_KIND))
    back = {c.attr: {norm_header(w): v for v, w in c.words.items()} for c in spec.columns if c.words}
    out = []
    for r0 in range(top + 1, len(rows)):
        raw = rows[r0]
        if kind_col is not None and kind_col < len(raw) and clean(raw[kind_col]) == TOTAL_ROW:
            continue
        cells = {c.attr: _cell(raw, where[c.attr]) if c.attr in where else None for c in spec.columns}
        if all(v is None for v in cells.values()):
            continue
        for attr, words in back.items():
            if isinstance(cells[attr], str):
                cells[attr] = words.get(norm_header(cells[attr]), cells[attr])
        values = {c.attr: _convert(cells[c.attr], c, file, spec.name, cell_ref(r0, where[c.attr]))
                  for c in spec.columns if c.attr in where}
        out.append(_build(spec, values, file, r0))
    return out


def _cell(raw: list[Any], col: int) -> Any:
    return clean(raw[col]) if col < len(raw) else None


def _build(spec: SheetSpec, values: dict[str, Any], file: str, r0: int) -> Any:
    for f in fields(spec.record):
        if values.get(f.name) is None:
            if f.default is not MISSING:
                values[f.name] = f.default
            elif f.type == "str":
                values[f.name] = ""
    try:
        return spec.record(**values)
    except (TypeError, ValueError) as exc:  # a required column left empty, an unknown problem code
        raise WorkbookRefused(file, f"blad '{spec.name}', rad {r0 + 1}: raden är ofullständig ({exc}).") from exc


def _convert(value: Any, column: Column, file: str, sheet: str, ref: str) -> Any:
    if value is None:
        return None
    try:
        return _CONVERTERS[column.kind](value)
    except (TypeError, ValueError) as exc:
        raise WorkbookRefused(file, f"blad '{sheet}', cell {ref} ({column.header}): "
                                    f"'{value}' är inte {_KIND_WORDS[column.kind]}.") from exc


def _to_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or float(value) != int(value):
        raise ValueError(value)
    return int(value)


def _to_float(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(value)
    return float(value)


def _to_datetime(value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):  # Excel keeps about a millisecond
        millis = round(value.microsecond / 1000)
        return value.replace(microsecond=0) + dt.timedelta(milliseconds=millis)
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    return dt.datetime.fromisoformat(str(value))


_CONVERTERS: dict[str, Callable[[Any], Any]] = {
    "text": _to_text, "int": _to_int, "float": _to_float, "datetime": _to_datetime,
}
_KIND_WORDS = {"text": "en text", "int": "ett heltal", "float": "ett tal", "datetime": "en tidpunkt"}
