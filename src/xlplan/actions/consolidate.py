"""``xlplan consolidate``: the department workbooks of a folder → the committee workbook.

Every file in the folder is accounted for: each candidate workbook is read
(read-only) and checked — readable, an xlplan department workbook, of this
plan and period, of a department in the plan — and everything else (old
formats, lock files, CSV …) is reported with a reason.  One bad file never
stops the others; every finding is a :class:`~xlplan.core.errors.Problem` shown on
the Kontroll sheet and in the JSON report.

Choices, stated once:

* Two different files for one department: **neither is included**; both are
  listed (Kontroll and Inlämning, status ``konflikt``) and the department's rows
  show *Utfall saknas* until someone removes the wrong file.  Two byte-identical
  copies are one submission: the first by name is used, with a warning.
* Status is re-evaluated here from the plan's target and the file's outcome
  (:func:`xlplan.core.status.evaluate`); the status cell in the file is not trusted
  (a different one is reported).
* A committee-level line (plan column ``Nämndnivå``) takes its value from the
  department ``NÄMND`` when the plan has one and its file reports the
  indicator; otherwise it stays empty — never an average of the departments.
  An indicator with *Rapporteras av* has exactly one line: the reporting
  department's, or the committee's (``NÄMND``); the departments that see it
  read-only add none, so it counts once.
* A department without an included file still gets its rows (``Utfall saknas``)
  so the committee sees what is missing.
* Comparison values (the municipality, riket, liknande kommuner) come from the
  ``comparisons.json`` that ``xlplan pull`` saves in the folder
  (:func:`comparison_rows`): the KPIs of the plan's indicators followed up in the
  period, years up to the period's year.  No file, no comparisons; a file of
  another plan or one that cannot be read is reported and left out.
"""

from __future__ import annotations

import datetime as dt
import functools
import gc
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from xlplan.actions.comparisons import COMPARISONS_FILE, RIKET, comparison_kpis, read_comparisons
from xlplan.actions.validate import FileFacts, read_candidate, scan_folder
from xlplan.actions.workflow import APPROVED, last_event, unrecorded_state
from xlplan.books.committee import (
    FRAME_NAME,
    REPORTED,
    ActivityLine,
    AnswerLine,
    CommentLine,
    CommitteeData,
    CommitteeMeta,
    Comparison,
    ControlResult,
    EconomyLine,
    GoalLevels,
    GoalSummary,
    HistoryValue,
    IndicatorLine,
    InvestmentLine,
    PersonnelLine,
    Submission,
    goal_summary,
    indicator_verdict,
    is_frame_investment,
    is_frame_line,
    keep_controller_inputs,
    sorted_indicators,
    suggest_assessment,
    write_committee_workbook,
)
from xlplan.books.department.columns import (
    ACTIVITIES,
    ACTIVITY_STATES,
    ASSESSMENTS,
    CONTROL_RESULTS,
    CONTROLS,
    ECONOMY,
    INDICATORS,
    OVERVIEW,
    PERSONNEL,
    QUESTIONS,
    SUBMISSION_ROW_ID,
    SUBMISSION_STATES,
)
from xlplan.books.department.layout import included_indicators, indicator_row_id
from xlplan.books.department.reader import BookRow, DepartmentBook, read_department_workbook
from xlplan.books.plan import read_plan
from xlplan.core.assess import Assessment, assess, is_share, personnel_inputs, plausible_range, row_inputs
from xlplan.core.codes import Code
from xlplan.core.errors import BadInput, Problem, RowsSorted, WorkbookRefused, WorkbookUnreadable
from xlplan.core.model import (
    COMMITTEE_ID,
    Activity,
    BudgetLine,
    ControlItem,
    Department,
    Goal,
    Indicator,
    PersonnelTarget,
    Plan,
    is_investment,
)
from xlplan.core.numbers import format_number
from xlplan.core.periods import Period, parse_period
from xlplan.core.rowids import (
    ACTIVITY_ROW,
    CONTROL_ROW,
    ECONOMY_ROW,
    PERSONNEL_ROW,
    QUESTION_ROW,
    is_data_row,
    make_row_id,
)
from xlplan.core.status import Status, normalise_label
from xlplan.core.targets import Polarity, SeriesValues, Target, parse_series_values
from xlplan.io.atomic import write_bytes_atomic

Progress = Callable[[int, int, str], None]  # (files done, files in all, file name)

NOT_INCLUDED = "filen togs inte med"
READY_STATES = ("klar för granskning", "godkänd")
COMMITTEE_NAME = "Nämnden"


# ---------------------------------------------------------------- records

@dataclass
class FileRead:
    """One candidate workbook after reading and checking."""

    path: Path
    facts: FileFacts | None
    book: DepartmentBook | None = None
    department_id: str | None = None  # the plan's id, when the file names a known department
    problems: list[Problem] = field(default_factory=list)
    accepted: bool = False  # of this plan, period and a known department

    @property
    def name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class Choice:
    """What was decided for one department of the plan."""

    department: Department
    state: str  # inlämningsstatus, "saknas", "konflikt", "avvisad"
    file: FileRead | None = None  # the file included, if any
    candidates: tuple[FileRead, ...] = ()  # every file naming this department


@dataclass(frozen=True)
class ConsolidationResult:
    out_path: Path
    report_path: Path | None
    data: CommitteeData
    files: tuple[str, ...]  # every entry of the folder, by name
    included: tuple[str, ...]  # department ids whose file was included

    @property
    def problems(self) -> tuple[Problem, ...]:
        return self.data.problems

    def frames(self) -> dict[str, Any]:
        """The committee workbook's tables as pandas DataFrames by sheet name (see
        :func:`xlplan.books.committee.committee_frames`)."""
        from xlplan.books.committee import committee_frames

        return committee_frames(self.data)

    def counts(self) -> dict[str, int]:
        sev = [p.severity for p in self.problems]
        states = [s.state for s in self.data.submissions]
        return {
            "filer": len(self.files),
            "avdelningar": len(self.data.submissions),
            "inkluderade": len(self.included),
            "saknas": states.count("saknas"),
            "konflikter": states.count("konflikt"),
            "avvisade": states.count("avvisad"),
            "godkända": states.count(APPROVED),
            "fel": sev.count("fel"),
            "varningar": sev.count("varning"),
            "info": sev.count("info"),
            "indikatorrader": len(self.data.indicators),
        }


class PlanIndex:
    """A plan and the period followed up, with per-department lookups computed once.

    A plan may name thousands of departments (units): :class:`Plan`'s own
    lookups scan, and ``Plan.version`` hashes the whole plan on every call.
    """

    def __init__(self, plan: Plan, period: Period) -> None:
        self.plan, self.period = plan, period
        self.version = plan.version
        self.settings = plan.settings.status_settings
        self._exact = {d.id: d for d in plan.departments}
        self._folded = {d.id.casefold(): d for d in reversed(plan.departments)}
        self._activities = _group(plan.activities, lambda a: a.department_id)
        self._budget = _group([b for b in plan.budget if b.year == period.year], lambda b: b.department_id)
        self._personnel = {d.id: list(plan.personnel_for(d.id)) for d in plan.departments}
        self._indicators: dict[str, list[tuple[Goal | None, Indicator]]] = {}
        self._meaning: dict[str, Meaning] = {}
        self._personnel_meaning: dict[tuple[str, str | None, str | None, str | None], Meaning] = {}
        self.assessed: dict[tuple[int, str, str | None], tuple[BookRow, Assessment]] = {}  # see assess_row

    @property
    def id(self) -> str:
        return self.plan.id

    def department(self, dep_id: str) -> Department | None:
        return self._exact.get(dep_id) or self._folded.get(dep_id.casefold())

    def indicators(self, dep_id: str) -> list[tuple[Goal | None, Indicator]]:
        if dep_id not in self._indicators:
            self._indicators[dep_id] = included_indicators(self.plan, dep_id, self.period)
        return self._indicators[dep_id]

    def meaning(self, ind: Indicator, goal: Goal | None) -> "Meaning":
        """The indicator's parsed target, polarity, baseline and plausible range for the period (worked out
        once per indicator and run: every department's row of it shares them)."""
        if ind.id not in self._meaning:
            picked = ind.target_text(self.period.year)
            self._meaning[ind.id] = Meaning(ind.target(self.period.year, goal), ind.polarity(goal),
                                            ind.baseline_values(), picked[1] if picked else None,
                                            plausible_range(ind), is_share(ind))
        return self._meaning[ind.id]

    def personnel_meaning(self, p: PersonnelTarget) -> "Meaning":
        """A key figure's parsed target, polarity and Nuvärde: parsed once per run for every department
        row with the same name, texts and polarity (a plan may give each of thousands of units the same)."""
        key = (p.name, p.target, p.current, p.polarity_text)
        if key not in self._personnel_meaning:
            self._personnel_meaning[key] = Meaning(p.parsed_target(), p.polarity(), p.baseline_values(), p.target)
        return self._personnel_meaning[key]

    def activities(self, dep_id: str) -> list[Activity]:
        return self._activities.get(dep_id, [])

    def budget(self, dep_id: str) -> list[BudgetLine]:
        return self._budget.get(dep_id, [])

    def personnel(self, dep_id: str) -> list[PersonnelTarget]:
        return self._personnel.get(dep_id, [])

    def controls(self, dep_id: str) -> tuple[ControlItem, ...]:
        return self.plan.controls_for(dep_id)


@dataclass(frozen=True)
class Meaning:
    target: Target
    polarity: Polarity | None
    baseline: SeriesValues
    target_text: str | None  # verbatim, as the plan gives it for the period's year
    plausible: tuple[float | None, float | None] = (None, None)  # an indicator's (assess.plausible_range)
    share: bool = False  # an indicator's (assess.is_share)


def _group(items: Any, key: Callable[[Any], str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


# ---------------------------------------------------------------- orchestration

_DEFERRING: list[tuple[int, int, int]] = []  # the thresholds saved by the first of the runs under way
_DEFERRING_LOCK = threading.Lock()


@contextmanager
def full_collections_deferred() -> Iterator[None]:
    """No full (oldest-generation) garbage collection while consolidating; the young ones go on.

    A consolidation keeps every department file's rows alive until the committee workbook is
    written: hundreds of thousands of objects that are garbage only at the end.  Python's
    cyclic collector traverses all of them in each full collection, which it starts whenever a
    quarter more objects have survived: about a tenth of a 500-file run went to that.
    The first run under way (runs may nest or overlap in threads) raises the threshold, the
    last one to end restores it.
    """
    with _DEFERRING_LOCK:
        if not _DEFERRING:
            before = gc.get_threshold()
            gc.set_threshold(before[0], before[1], max(before[2], 1_000_000))
            _DEFERRING.append(before)
        else:
            _DEFERRING.append(_DEFERRING[0])
    try:
        yield
    finally:
        with _DEFERRING_LOCK:
            before = _DEFERRING.pop()
            if not _DEFERRING:
                gc.set_threshold(*before)


@full_collections_deferred()
def consolidate(folder: str | Path, plan_path: str | Path | Plan, period: str | Period, out_path: str | Path,
                report_path: str | Path | None = None, progress: Progress | None = None,
                plan_dir: str | Path | None = None) -> ConsolidationResult:
    """Read every department workbook in *folder* and write the committee workbook at *out_path*.

    The plan's exports (ledger, HR) are found relative to *plan_dir*: by default the plan file's folder,
    or *folder* when the plan is given as a :class:`Plan` (the controller workbook passes its own folder).
    Raises only for bad arguments (no such folder, an invalid plan, a bad
    period); every problem with a department file is reported, not raised.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"Mappen '{folder}' finns inte.")
    per = period if isinstance(period, Period) else parse_period(period)
    ix = PlanIndex(plan_path if isinstance(plan_path, Plan) else read_plan(plan_path), per)
    scan = scan_folder(folder)
    out_path, report = Path(out_path), Path(report_path) if report_path else None
    reads = read_all([p for p in scan.workbooks if not _is_output(p, out_path, report)], ix, progress)
    choices = choose(ix.plan, reads)
    skipped = [p for p in scan.skipped if not _is_output(folder / (p.file or ""), out_path, report)]
    comparisons, found = comparison_rows(folder, ix)
    skipped = [found if p.file == COMPARISONS_FILE and found else p for p in skipped]
    problems = skipped + [p for r in reads for p in r.problems]
    problems += period_problems(ix.plan, per) + choice_problems(choices)
    exports = Path(plan_dir) if plan_dir is not None else (folder if isinstance(plan_path, Plan) else
                                                            Path(plan_path).parent)
    totals = hr_committee_totals(ix, exports)
    data = build_committee_data(ix, choices, problems, comparisons, totals)
    checks = economy_checks(ix.plan, per, data.economy, exports, data.investments)
    data = keep_controller_inputs(replace(data, problems=data.problems + tuple(checks)), out_path)
    write_committee_workbook(data, out_path)
    files = tuple(p.file or "" for p in skipped) + tuple(r.name for r in reads)
    included = tuple(c.department.id for c in choices if c.file is not None)
    result = ConsolidationResult(out_path, report, data, tuple(sorted(files, key=str.casefold)), included)
    if report is not None:
        write_report(result, folder, report)
    return result


def _is_output(path: Path, *outputs: Path | None) -> bool:
    """The committee workbook or report written into the folder itself is not a department file."""
    return any(o is not None and o.exists() and path.resolve() == o.resolve() for o in outputs)


def read_all(paths: list[Path], ix: PlanIndex, progress: Progress | None) -> list[FileRead]:
    reads = []
    for i, path in enumerate(paths, start=1):
        reads.append(read_file(path, ix))
        if progress is not None:
            progress(i, len(paths), path.name)
    return reads


def read_file(path: Path, ix: PlanIndex) -> FileRead:
    """Read and check one candidate; never raises for what is in the file."""
    try:
        return _read_file(path, ix)
    except Exception as exc:  # noqa: BLE001 - one bad file never stops the others: report it with what we know
        return FileRead(path, None, problems=[Problem(
            Code.INTERNT_FEL, f"Filen kunde inte läsas: {type(exc).__name__}: {exc}. Rapportera gärna felet.",
            path.name, action=NOT_INCLUDED)])


def _read_file(path: Path, ix: PlanIndex) -> FileRead:
    candidate = read_candidate(path)  # file_facts and preflight, and the package read, from one read of the file
    read = FileRead(path, candidate.facts)
    reason = candidate.refused
    if reason is not None:
        read.problems.append(Problem(Code.OLASBAR, _capital(reason) + ".", path.name, action=NOT_INCLUDED))
        return read
    try:
        book = read_department_workbook(path, candidate.opened())
    except WorkbookUnreadable as exc:
        read.problems.append(Problem(Code.OLASBAR, f"Filen kan inte läsas som en arbetsbok: {exc.reason}",
                                     path.name, action=NOT_INCLUDED))
        return read
    except RowsSorted as exc:
        read.problems.append(Problem(Code.RADER_SORTERADE, _capital(exc.reason), path.name, action=NOT_INCLUDED))
        return read
    except WorkbookRefused as exc:
        read.problems.append(Problem(Code.INTE_AVDELNINGSFIL, f"Filen {exc.reason}", path.name, action=NOT_INCLUDED))
        return read
    read.book = book
    identity = identity_problems(book, ix, path.name)
    read.department_id = _known_department(book, ix)
    read.accepted = not any(p.severity == "fel" for p in identity)
    read.problems += identity
    if read.accepted:
        read.problems += list(book.problems) + content_problems(book, ix, read.department_id or "")
    return read


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _known_department(book: DepartmentBook, ix: PlanIndex) -> str | None:
    dep = ix.department(book.department_id) if book.department_id else None
    return dep.id if dep else None


# ---------------------------------------------------------------- comparisons saved by xlplan pull

def comparison_rows(folder: Path, ix: PlanIndex) -> tuple[list[Comparison], Problem | None]:
    """The Kolada comparison rows ``xlplan pull`` saved in *folder* (``comparisons.json``), for this report.

    Only rows of a Kolada KPI of an indicator followed up in the period, and of
    a year up to the period's year, are taken; they are ordered KPI by KPI: the
    municipality, riket, then the comparison groups, year by year.  The
    Problem (None when there is no file) says what became of the file: it is
    the folder's account of it, in place of the "not a workbook" warning.
    """
    path = folder / COMPARISONS_FILE
    if not path.is_file():
        return [], None
    try:
        rows = read_comparisons(path, ix.id)
        other = [] if rows else read_comparisons(path)
    except WorkbookRefused as exc:
        return [], Problem(Code.JAMFORELSER_OLASBAR, f"Jämförelsefilen från xlplan pull kan inte läsas: {exc.reason}",
                           path.name, severity="varning", action="jämförelser saknas i sammanställningen")
    if other:
        return [], Problem(Code.JAMFORELSER_ANNAN_PLAN, f"Jämförelsefilen hör inte till planen '{ix.id}'. Kör "
                           "xlplan pull för avdelningsfilerna i mappen igen.", path.name, severity="varning",
                           action="jämförelser saknas i sammanställningen")
    kpis = {kpi for _, kpi in comparison_kpis(ix.plan, [ix.period])}
    chosen = sorted((c for c in rows if c.kolada_id in kpis and c.year <= ix.period.year),
                    key=_comparison_order(ix.plan.settings.municipality_id))
    return chosen, Problem(Code.JAMFORELSER, f"Jämförelsevärden från Kolada (sparade av xlplan pull): {len(chosen)} "
                           f"av filens {len(rows)} rader gäller planens nyckeltal till och med {ix.period.year} "
                           "och står på bladet Jämförelser.", path.name, severity="info",
                           action="jämförelserna togs med")


def _comparison_order(home: str) -> Callable[[Comparison], tuple[Any, ...]]:
    def key(c: Comparison) -> tuple[Any, ...]:
        rank = 0 if c.municipality_id == home else 1 if c.municipality_id == RIKET else 2
        return (c.kolada_id, c.gender, rank, c.municipality_id, c.year)
    return key


# ---------------------------------------------------------------- checks of one file

def identity_problems(book: DepartmentBook, ix: PlanIndex, name: str) -> list[Problem]:
    """Is the file of this plan, this period and a department of the plan? Is the plan version the same?"""
    plan, period = ix.plan, ix.period
    kind = book.metadata.get("kind")
    if kind and "department_id" not in book.metadata:
        what = "en nämndsammanställning" if kind == "committee" else f"en arbetsbok av slaget '{kind}'"
        return [Problem(Code.INTE_AVDELNINGSFIL, f"Filen är {what} från xlplan, ingen avdelningsfil.", name,
                        action=NOT_INCLUDED)]
    out = []
    if book.plan_id != plan.id:
        out.append(Problem(Code.ANNAN_PLAN, f"Filen hör till planen '{book.plan_id or '?'}', inte till '{plan.id}'.",
                           name, action=NOT_INCLUDED))
    if _period_of(book.period) != period:
        out.append(Problem(Code.ANNAN_PERIOD, f"Filen gäller perioden '{book.period or '?'}', inte '{period}'. "
                           "Fyll en fil för rätt period med xlplan fill.", name, action=NOT_INCLUDED))
    if not book.department_id or ix.department(book.department_id) is None:
        out.append(Problem(Code.OKAND_AVDELNING, f"Avdelningen '{book.department_id or '?'}' finns inte i planen "
                           f"(avdelningar: {_some(d.id for d in plan.departments)}).", name,
                           action=NOT_INCLUDED))
    version = book.metadata.get("plan_version")
    if not out and version != ix.version:
        out.append(Problem(Code.ANNAN_PLANVERSION, f"Filen fylldes från en annan version av planen ({version or '?'}; "
                           f"aktuell version {ix.version}). Raderna matchas mot den aktuella planen med "
                           "sina id; fyll gärna på nytt med xlplan fill --update.", name, severity="varning",
                           action="raderna matchades med id"))
    return out


def _some(items: Any, most: int = 12) -> str:
    items = list(items)
    return ", ".join(items[:most]) + (f" … ({len(items)} i allt)" if len(items) > most else "")


def _period_of(text: str | None) -> Period | None:
    try:
        return parse_period(text) if text else None
    except BadInput:
        return None


def expected_rows(ix: PlanIndex, dep_id: str) -> list[tuple[str, str]]:
    """(sheet, Rad-id) of every row the plan expects in the department's file for the period."""
    out = [(INDICATORS, indicator_row_id(i.id, s)) for _, i in ix.indicators(dep_id) for s in i.series_names()]
    out += [(ACTIVITIES, make_row_id(ACTIVITY_ROW, a.id)) for a in ix.activities(dep_id)]
    out += [(ECONOMY, make_row_id(ECONOMY_ROW, b.item)) for b in ix.budget(dep_id)]
    out += [(PERSONNEL, make_row_id(PERSONNEL_ROW, p.name)) for p in ix.personnel(dep_id)]
    out += [(CONTROLS, make_row_id(CONTROL_ROW, k.id)) for k in ix.controls(dep_id)]
    out += [(QUESTIONS, make_row_id(QUESTION_ROW, q.id)) for q in ix.plan.questions_for(dep_id, ix.period.kind)]
    return out


def content_problems(book: DepartmentBook, ix: PlanIndex, dep_id: str) -> list[Problem]:
    """Cross-checks against the plan: deleted rows, rows the plan no longer has, values outside rules."""
    name = book.path.name
    expected = expected_rows(ix, dep_id)
    out = missing_rows(book, ix, expected, name)
    out += unknown_rows(book, {row_id for _, row_id in expected}, name)
    out += value_problems(book, ix, dep_id, name)
    return out


def missing_rows(book: DepartmentBook, ix: PlanIndex, expected: list[tuple[str, str]], name: str) -> list[Problem]:
    out = []
    known = set(book.expected_rows)
    for sheet, row_id in expected:
        if book.row(sheet, row_id) is not None or row_id in known:
            continue  # present, or already reported by the reader as deleted
        if sheet not in book.sheets:
            continue  # the whole sheet is missing: reported by the reader
        if book.metadata.get("plan_version") == ix.version:
            code = Code.RAD_SAKNAS
            msg = f"Raden med Rad-id '{row_id}' saknas (borttagen?). Fyll filen på nytt med xlplan fill --update."
        else:
            code = Code.PLANRAD_SAKNAS
            msg = (f"Planen har raden '{row_id}' men filen saknar den (planen har ändrats sedan filen fylldes). "
                   "Fyll filen på nytt med xlplan fill --update.")
        out.append(Problem(code, msg, name, book.actual_sheet_name(sheet), None,
                           action="raden visas som Utfall saknas" if sheet == INDICATORS else "raden saknas"))
    return out


def unknown_rows(book: DepartmentBook, expected: set[str], name: str) -> list[Problem]:
    """Rows in the file the plan does not expect (an older plan): reported with their values, not lost."""
    out = []
    for sheet_name in (INDICATORS, ACTIVITIES, ECONOMY, PERSONNEL, CONTROLS):
        sheet = book.sheets.get(sheet_name)
        if sheet is None:
            continue
        for row_id, row in sheet.rows.items():
            if row_id in expected or not is_data_row(row_id):
                continue
            typed = {k: v for k, v in row.raw.items() if v is not None and k in _INPUT_KEYS}
            shown = "; ".join(f"{k} = {v}" for k, v in typed.items()) or "inga ifyllda värden"
            out.append(Problem(Code.RAD_EJ_I_PLANEN, f"Raden '{row_id}' finns inte i den aktuella planen för "
                               f"perioden ({shown}).", name, sheet.actual_name, f"A{row.number}", "varning",
                               "raden togs inte med"))
    return out


_INPUT_KEYS = ("outcome", "assessment", "comment", "actions", "status", "actual", "forecast", "result")
_LISTS: dict[tuple[str, str], tuple[str, ...]] = {
    (INDICATORS, "assessment"): ASSESSMENTS, (ACTIVITIES, "status"): ACTIVITY_STATES,
    (CONTROLS, "result"): CONTROL_RESULTS, (OVERVIEW, "value"): SUBMISSION_STATES,
}


_VALUE_CODES = ("utfall_orimligt", "andel_som_brak", "utfall_omraknat", "utfall_ar", "utfall_procentformat",
                "jamforelsevarde_text")


def value_problems(book: DepartmentBook, ix: PlanIndex, dep_id: str, name: str) -> list[Problem]:
    """Values outside their validation: outcomes the one assessment finds implausible (the plan's Min/Max,
    0–100 for shares, a share typed as a fraction) or converted, words not in a drop-down list."""
    out = []
    for goal, ind in ix.indicators(dep_id):
        for series in ind.series_names():
            row = book.row(INDICATORS, indicator_row_id(ind.id, series))
            if row is None:
                continue
            a = assess_row(ix, goal, ind, series, row, book)
            for f in a.value_flags:
                if f.code in _VALUE_CODES:
                    out.append(Problem(f.code, f"{f.message} ('{ind.name}')", name, book.actual_sheet_name(INDICATORS),
                                       row.cells.get(f.cell), f.severity, action="värdet togs med som det står"))
    for (sheet_name, key), options in _LISTS.items():
        sheet = book.sheets.get(sheet_name)
        if sheet is None:
            continue
        for row_id, row in sheet.rows.items():
            if sheet_name == OVERVIEW and row_id != SUBMISSION_ROW_ID:
                continue
            out += _list_problem(row.raw.get(key), options, name, sheet.actual_name, row.cells.get(key))
    return out


@functools.cache
def _normalised(options: tuple[str, ...]) -> frozenset[str]:
    return frozenset(normalise_label(o) for o in options)


def _list_problem(value: Any, options: tuple[str, ...], name: str, sheet: str, cell: str | None) -> list[Problem]:
    if value is None or not str(value).strip():
        return []
    if normalise_label(str(value)) in _normalised(options):
        return []
    return [Problem(Code.OGILTIGT_VAL, f"'{value}' finns inte i listan för cellen. Välj något av: "
                    f"{', '.join(options)}.", name, sheet, cell, action="värdet togs med som det står")]


# ---------------------------------------------------------------- choosing one file per department

def choose(plan: Plan, reads: list[FileRead]) -> list[Choice]:
    by_department = _group([r for r in reads if r.department_id], lambda r: r.department_id)
    return [choose_for(dep, by_department.get(dep.id, [])) for dep in plan.departments]


STRUCTURAL = frozenset({Code.BLAD_SAKNAS, Code.RUBRIKRAD_SAKNAS, Code.KOLUMN_SAKNAS, Code.RAD_SAKNAS,
                        Code.PLANRAD_SAKNAS, Code.OLASBAR})


def broken(read: FileRead) -> Problem | None:
    """The first problem that makes a file of the right department unusable as a whole (a sheet,
    header row, column or planned row missing), or None."""
    return next((p for p in read.problems if p.severity == "fel" and p.code in STRUCTURAL), None)


def candidates(reads: Sequence[FileRead]) -> list[FileRead]:
    """The files that compete for a department: the accepted ones that pass validation, or, when
    none does, every accepted one. A broken copy never pushes out a valid file."""
    accepted = [r for r in reads if r.accepted]
    return [r for r in accepted if broken(r) is None] or accepted


def choose_for(dep: Department, reads: list[FileRead]) -> Choice:
    accepted = candidates(reads)
    if not accepted:
        return Choice(dep, "avvisad" if reads else "saknas", None, tuple(reads))
    hashes = {r.facts.sha256 if r.facts else r.name for r in accepted}
    if len(accepted) > 1 and len(hashes) > 1:
        return Choice(dep, "konflikt", None, tuple(reads))
    chosen = accepted[0]
    state = (chosen.book.submission if chosen.book else None) or "inlämnad"
    return Choice(dep, state, chosen, tuple(reads))


def choice_problems(choices: list[Choice]) -> list[Problem]:
    out = []
    for c in choices:
        label = f"{c.department.name} ({c.department.id})"
        accepted = candidates(c.candidates)
        for r in c.candidates:
            why = broken(r) if r.accepted and r not in accepted else None
            if why is not None:
                used = f"{c.file.name} användes" if c.file is not None else "de andra filerna prövades"
                out.append(Problem(Code.SKADAD_KOPIA, f"Filen gäller {label} men kan inte användas ({why.message}); "
                                   f"{used}. Ta bort den skadade filen ur mappen.", r.name, action=NOT_INCLUDED))
        if c.state == "saknas":
            out.append(Problem(Code.INLAMNING_SAKNAS, f"Ingen fil från {label} finns i mappen.", None,
                               severity="varning", action="avdelningens rader visas som Utfall saknas"))
        elif c.state == "avvisad":
            names = ", ".join(r.name for r in c.candidates)
            out.append(Problem(Code.INLAMNING_AVVISAD, f"Ingen godkänd fil från {label}: {names} kunde inte tas med "
                               "(se filens problem).", None, severity="varning",
                               action="avdelningens rader visas som Utfall saknas"))
        elif c.state == "konflikt":
            names = ", ".join(r.name for r in accepted)
            for r in accepted:
                out.append(Problem(Code.KONFLIKT, f"Två eller fler olika filer gäller {label}: {names}. Ingen av dem "
                                   "togs med; ta bort den som inte gäller och sammanställ igen.", r.name,
                                   action=NOT_INCLUDED))
        elif len(accepted) > 1 and c.file is not None:
            for r in accepted:
                if r is not c.file:
                    out.append(Problem(Code.FIL_KOPIA, f"Filen är en exakt kopia av {c.file.name} ({label}); "
                                       "den räknas en gång.", r.name, severity="varning",
                                       action=f"{c.file.name} användes"))
        if c.file is not None and c.file.book is not None:
            out += [p for p in [unrecorded_state(c.file.book)] if p is not None]
            state = c.file.book.submission
            if state and normalise_label(state) not in READY_STATES:
                out.append(Problem(Code.INTE_KLAR, f"Inlämningsstatus är '{state}': avdelningen har inte markerat "
                                   "filen som klar för granskning.", c.file.name,
                                   c.file.book.actual_sheet_name(OVERVIEW),
                                   c.file.book.address(OVERVIEW, SUBMISSION_ROW_ID, "value"), "info",
                                   "filen togs med"))
    return out


def period_problems(plan: Plan, period: Period) -> list[Problem]:
    if period.kind in plan.settings.periods and plan.settings.year <= period.year <= plan.settings.end_year:
        return []
    return [Problem(Code.PERIOD_UTANFOR_PLANEN, f"Perioden {period} ingår inte i planens rapporteringsperioder "
                    f"({', '.join(plan.settings.periods)}, {plan.settings.year}–{plan.settings.end_year}).",
                    None, severity="varning")]


# ---------------------------------------------------------------- the committee data

def build_committee_data(ix: PlanIndex, choices: list[Choice], problems: list[Problem],
                         comparisons: list[Comparison] | None = None,
                         export_totals: dict[str, tuple[float, str]] | None = None) -> CommitteeData:
    plan, period = ix.plan, ix.period
    s = plan.settings
    meta = CommitteeMeta(s.plan_id, ix.version, s.municipality, s.municipality_id, s.committee, str(period),
                         period.label, dt.datetime.now(dt.UTC).replace(microsecond=0), s.goal_rule,
                         s.administration)
    problems = list(problems)
    indicators = indicator_lines(ix, choices, problems)
    per_file = Counter(p.file for p in problems)
    data = CommitteeData(
        meta=meta,
        submissions=tuple(submission(c, per_file) for c in choices),
        goals=tuple(goal_summaries(plan, indicators)),
        indicators=tuple(indicators),
        activities=tuple(line for c in choices for line in activity_lines(ix, c)),
        economy=tuple(frame_lines(ix)) + tuple(line for c in choices for line in economy_lines(ix, c)),
        investments=tuple(frame_investments(ix)) + tuple(x for c in choices for x in investment_lines(ix, c)),
        comments=tuple(comment_lines(ix, choices, indicators)),
        answers=tuple(answer_lines(ix, choices)),
        goal_levels=tuple(GoalLevels(g.id, g.level1, g.level1_description, g.priority_goal, g.priority_description,
                                     g.description) for g in plan.goals if g.has_levels),
        history=tuple(history_values(plan)),
        personnel=tuple(personnel_lines(ix, choices, export_totals or {})),
        controls=tuple(line for c in choices for line in control_lines(ix, c)),
        comparisons=tuple(comparisons or ()),
        problems=tuple(problems),
    )
    return replace(data, indicators=sorted_indicators(data, [i.id for i in plan.indicators]))  # as written


def history_values(plan: Plan) -> list[HistoryValue]:
    """The plan's earlier years per indicator and series (*Utfall 2021* …): the number when one can be read."""
    out = []
    for ind in plan.indicators:
        for year, text in sorted(ind.history):
            for series in ind.series_names():
                q = parse_series_values(text, ind.series).get(series)
                out.append(HistoryValue(ind.id, ind.name, series, year, q.value if q else None, text))
    return out


def answer_lines(ix: PlanIndex, choices: list[Choice]) -> list[AnswerLine]:
    """Every question of the period, per department that answers it, in the plan's order (None: no answer)."""
    order = {g.id: i for i, g in enumerate(ix.plan.goals)}
    lines = []
    for q in sorted(ix.plan.questions, key=lambda q: order.get(q.goal_id or "", len(order))):
        if not q.asked_in(ix.period.kind):
            continue
        for c in choices:
            if q.asked_of(c.department.id):
                answer = _text(_row_values(c, QUESTIONS, make_row_id(QUESTION_ROW, q.id)).get("answer"))
                lines.append(AnswerLine(q.goal_id, q.id, q.text, c.department.id, c.department.name, answer))
    return lines


def submission(c: Choice, per_file: Mapping[str | None, int]) -> Submission:
    """The Inlämning line of a department; *per_file*: the number of problems by file name."""
    shown = c.file or (c.candidates[0] if len(c.candidates) == 1 else None)
    names = [r.name for r in c.candidates] if c.file is None else [c.file.name]
    files = {c.file.name} if c.file else {r.name for r in c.candidates}
    count = sum(per_file.get(name, 0) for name in files)
    facts = shown.facts if shown else None
    last = last_event(c.file.book.metadata) if c.file and c.file.book else None
    return Submission(c.department.id, c.department.name, "; ".join(names) or None, c.state,
                      facts.saved_by if facts else None, facts.saved_at if facts else None,
                      facts.sha256 if facts else None, count, last.who if last else None,
                      last.local_time if last else None, last.comment if last else None)


_NO_VALUES: Mapping[str, Any] = MappingProxyType({})


def _row_values(c: Choice, sheet: str, row_id: str) -> Mapping[str, Any]:
    """The row's cleaned values (read only: the book's own), none when the row or the file is missing."""
    row = _book_row(c, sheet, row_id)
    return row.values if row else _NO_VALUES


def _absent(c: Choice) -> str | None:
    """Why a department's rows have no values (None when its file is included)."""
    return None if c.file else {"saknas": "ingen fil inlämnad", "konflikt": "flera filer (konflikt), ingen togs med",
                                "avvisad": "filen kunde inte tas med"}.get(c.state, "ingen fil")


def indicator_lines(ix: PlanIndex, choices: list[Choice], problems: list[Problem]) -> list[IndicatorLine]:
    plan, period = ix.plan, ix.period
    lines = []
    committee_values: dict[tuple[str, str | None], tuple[Choice | None, Mapping[str, Any], BookRow | None]] = {}
    for c in choices:
        for goal, ind in ix.indicators(c.department.id):
            for series in ind.series_names():
                row = _book_row(c, INDICATORS, indicator_row_id(ind.id, series))
                values = row.values if row else _NO_VALUES
                if ind.has_committee_line and c.department.id.casefold() == COMMITTEE_ID.casefold():
                    committee_values[(ind.id, series)] = (c, values, row)
                    continue
                line = indicator_line(ix, goal, ind, series, c.department, values, _absent(c), row,
                                      c.file.book if c.file else None)
                _check_status(line, values, c, problems, row)
                lines.append(line)
    for goal, ind in ((plan.goal(i.goal_id), i) for i in plan.indicators if i.has_committee_line):
        if ind.periods and period.kind not in ind.periods:
            continue
        for series in ind.series_names():
            by, values, row = committee_values.get((ind.id, series), (None, _NO_VALUES, None))
            lines.append(indicator_line(ix, goal, ind, series, None, values,
                                        None if values else "ingen nämndsiffra inlämnad", row,
                                        by.file.book if by is not None and by.file else None))
    return lines


def _book_row(c: Choice, sheet: str, row_id: str) -> BookRow | None:
    if c.file is None or c.file.book is None:
        return None
    return c.file.book.row(sheet, row_id)


def assess_row(ix: PlanIndex, goal: Goal | None, ind: Indicator, series: str | None, row: BookRow | None,
               book: DepartmentBook | None) -> Assessment:
    """The one assessment of a row of a department file (:func:`xlplan.core.assess.assess`); no row: nothing typed.
    A row is assessed once per run (the file check and the committee line ask for the same row)."""
    key = (id(row), ind.id, series)
    if row is not None and key in ix.assessed and ix.assessed[key][0] is row:
        return ix.assessed[key][1]
    m = ix.meaning(ind, goal)
    error = None
    if row is not None and book is not None:
        cell = row.cells.get("outcome")
        error = next((p.message for p in book.problems if p.code == "formelfel" and p.cell == cell
                      and p.sheet == book.actual_sheet_name(INDICATORS)), None)
    result = assess(row_inputs(ind, goal, ix.period.year, series, row.raw if row else {},
                               settings=ix.settings, period_label=ix.period.label,
                               outcome_format=row.formats.get("outcome") if row else None, outcome_error=error,
                               cells=row.cells if row else {}, target=m.target, polarity=m.polarity,
                               baseline=m.baseline, plausible=m.plausible, share=m.share))
    if row is not None:
        ix.assessed[key] = (row, result)
    return result


def indicator_line(ix: PlanIndex, goal: Goal | None, ind: Indicator, series: str | None,
                   dep: Department | None, values: Mapping[str, Any], absent: str | None,
                   row: BookRow | None = None, book: DepartmentBook | None = None) -> IndicatorLine:
    """One line of Indikatorer: the plan's texts, the file's inputs, the status from the one assessment."""
    m = ix.meaning(ind, goal)
    a = assess_row(ix, goal, ind, series, row, book)
    outcome = a.outcome
    assessment = _text(values.get("assessment"))
    result = a.result
    threshold = m.target.for_series(series)
    return IndicatorLine(
        goal_id=ind.goal_id, priority_goal=goal.priority_goal if goal else None,
        goal_text=goal.text if goal else ind.goal_id, indicator_id=ind.id, indicator=ind.name,
        department_id=dep.id if dep else None, department=dep.name if dep else COMMITTEE_NAME,
        series=series, unit=ind.unit, baseline=ind.baseline, baseline_year=ind.baseline_year,
        target=m.target_text, target_value=threshold.value if threshold else None,
        outcome=float(outcome) if outcome is not None else None, status=result.status.label,
        assessment=assessment, comment=_text(values.get("comment")), actions=_text(values.get("actions")),
        provenance=_provenance(values, outcome, absent), kolada_id=ind.kpi_for(series),
    )


def _text(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _provenance(values: Mapping[str, Any], outcome: float | None, absent: str | None) -> str | None:
    if absent:
        return absent
    source = _text(values.get("outcome_source")) or _text(values.get("provenance"))
    if outcome is None:
        return source
    return source or "inmatat av avdelningen"


def _check_status(line: IndicatorLine, values: Mapping[str, Any], c: Choice, problems: list[Problem],
                  row: BookRow | None = None) -> None:
    """Report a status cell in the file that disagrees with the status computed from the plan.

    Not when the outcome was typed as text or in a percent format: the formula reads only numbers
    as they stand (``xlplan flag`` stores them as numbers), so it cannot agree yet.
    """
    shown = _text(values.get("status"))
    if c.file is None or c.file.book is None or shown is None:
        return
    if row is not None and (isinstance(row.raw.get("outcome"), str) or "outcome" in row.formats):
        return
    if Status.from_label(shown) is Status.from_label(line.status):
        return
    book = c.file.book
    row_id = indicator_row_id(line.indicator_id, line.series)
    problems.append(Problem(Code.STATUS_OMRAKNAD, f"Status i filen är '{shown}' men räknat ur utfall och målvärde blir "
                            f"den '{line.status}'. Statusformeln kan vara överskriven.", c.file.name,
                            book.actual_sheet_name(INDICATORS), book.address(INDICATORS, row_id, "status"),
                            action="den räknade statusen används"))


def goal_summaries(plan: Plan, lines: list[IndicatorLine]) -> list[GoalSummary]:
    """Per goal of the plan: the support over its distinct indicators and the suggested assessment."""
    by_goal: dict[str, list[IndicatorLine]] = {}
    for line in lines:
        by_goal.setdefault(line.goal_id, []).append(line)
    return [goal_summary(g.id, g.priority_goal, g.text, by_goal.get(g.id, []), plan.settings.goal_rule)
            for g in plan.goals]


def goal_assessment(statuses: list[Status | None], rule: str) -> str | None:
    """The suggested assessment of a goal whose indicators have *statuses* (one each; None: no target).

    See :func:`xlplan.books.committee.suggest_assessment` and ``docs/goal-assessment.md``.
    """
    support: dict[str, int] = {}
    for s in statuses:
        word = REPORTED if s is None else indicator_verdict([s.label])
        support[word] = support.get(word, 0) + 1
    return suggest_assessment(support, rule)


def _state_word(value: Any) -> str | None:
    text = _text(value)
    return text[:1].upper() + text[1:] if text else None


def activity_lines(ix: PlanIndex, c: Choice) -> list[ActivityLine]:
    out = []
    for a in ix.activities(c.department.id):
        values = _row_values(c, ACTIVITIES, make_row_id(ACTIVITY_ROW, a.id))
        out.append(ActivityLine(c.department.id, c.department.name, a.goal_id, a.heading, a.text, a.responsible,
                                a.deadline, _state_word(values.get("status")), _text(values.get("comment")), a.id))
    return out


def frame_lines(ix: PlanIndex) -> list[EconomyLine]:
    """The committee's adopted frame for the period's year (plan rows with Avdelnings-id NÄMND), as written.

    When the plan has a department with that id, its own workbook reports those rows instead.
    """
    if ix.plan.department(COMMITTEE_ID) is not None:
        return []
    return [EconomyLine(COMMITTEE_ID, FRAME_NAME, b.item, b.budget)
            for b in ix.plan.budget_for(COMMITTEE_ID, ix.period.year) if not b.is_investment]


def frame_investments(ix: PlanIndex) -> list[InvestmentLine]:
    """The committee's adopted investment budget for the period's year (NÄMND rows ``Investering: …``)."""
    if ix.plan.department(COMMITTEE_ID) is not None:
        return []
    return [InvestmentLine(COMMITTEE_ID, FRAME_NAME, b.item, b.budget)
            for b in ix.plan.budget_for(COMMITTEE_ID, ix.period.year) if b.is_investment]


def investment_lines(ix: PlanIndex, c: Choice) -> list[InvestmentLine]:
    """A department's investment projects as reported on its Ekonomi sheet (outturn, forecast, comment)."""
    out = []
    for b in ix.budget(c.department.id):
        if not b.is_investment:
            continue
        values = _row_values(c, ECONOMY, make_row_id(ECONOMY_ROW, b.item))
        actual, forecast = _number(values.get("actual")), _number(values.get("forecast"))
        deviation = forecast - b.budget if forecast is not None else None
        out.append(InvestmentLine(c.department.id, c.department.name, b.item, b.budget, actual, forecast, deviation,
                                  _text(values.get("comment"))))
    return out


def economy_lines(ix: PlanIndex, c: Choice) -> list[EconomyLine]:
    out = []
    for b in ix.budget(c.department.id):
        if b.is_investment:
            continue
        values = _row_values(c, ECONOMY, make_row_id(ECONOMY_ROW, b.item))
        actual, forecast = _number(values.get("actual")), _number(values.get("forecast"))
        deviation = forecast - b.budget if forecast is not None else None
        out.append(EconomyLine(c.department.id, c.department.name, b.item, b.budget, actual, forecast, deviation,
                               ix.period.year_share))
    return out


def economy_checks(plan: Plan, period: Period, lines: Sequence[EconomyLine], plan_folder: Path,
                   investments: Sequence[InvestmentLine] = ()) -> list[Problem]:
    """Kontroll: the departments' budget against the committee's frame, and the departments' outturn
    against the ledger export's total (when the plan names one); a difference is a warning with its size.
    The investment projects' outturn is checked against the export on its own (expenditure positive)."""
    from xlplan.io.ledger import ledger_files, read_ledger

    def tkr(x: float) -> str:
        return f"{format_number(x, 0)} tkr"

    out = []
    for item, frame, spread in plan.frame_distribution(period.year):
        if abs(spread - frame) >= 0.5:
            out.append(Problem(Code.BUDGET_EJ_RAM, f"Avdelningarnas budget för '{item}' är {tkr(spread)} men nämndens "
                               f"ram är {tkr(frame)}: skillnad {tkr(spread - frame)} (planens blad Ekonomi).",
                               severity="varning"))
    if plan.settings.ledger is None:
        return out
    mapped = {a.item.casefold() for a in plan.accounts}
    deps = [x for x in lines if not is_frame_line(x) and x.item.casefold() in mapped]
    projects = [x for x in investments if not is_frame_investment(x) and x.item.casefold() in mapped]
    files = ledger_files(plan, plan_folder, period)
    if not files or not (deps or projects):
        return out
    try:
        ledgers = [read_ledger(f, plan, period) for f in files]
    except WorkbookRefused as exc:
        return out + [Problem(Code.HUVUDBOK_OLASLIG, f"Huvudboksexporten kan inte läsas: {exc.reason}",
                              Path(exc.path).name, severity="varning")]
    names = ", ".join(f.name for f in files)
    # the export's rows on investment projects (their amounts are expenditure, positive) are not operating costs
    invested = sum(v for o in ledgers for k, v in o.amounts.items() if is_investment(k[1]))
    total = sum(o.total for o in ledgers) + invested
    left = sum(u.amount for o in ledgers for u in o.unmapped)

    def tie(group: Sequence[EconomyLine | InvestmentLine], what: str) -> bool:
        """Whether *group*'s outturn equals the export's (a warning naming the lines that differ when not)."""
        reported = sum(x.outcome or 0.0 for x in group)
        keys = {(x.department_id, x.item) for x in group}
        expected = sum(v for o in ledgers for k, v in o.amounts.items() if k in keys)
        off = [f"{x.department} {x.item}" for x in group
               if abs((x.outcome or 0.0) - sum(o.amounts.get((x.department_id, x.item), 0.0) for o in ledgers)) >= 0.5]
        if abs(reported - expected) >= 0.5:
            out.append(Problem(Code.UTFALL_EJ_HUVUDBOK, f"{what} är {tkr(reported)} men huvudboksexporten ({names}) "
                               f"har {tkr(expected)} för samma poster: skillnad {tkr(reported - expected)} "
                               f"({'; '.join(off[:6])}{' …' if len(off) > 6 else ''}).", names, "Ekonomi",
                               severity="varning"))
            return False
        return True

    if deps and tie(deps, "Avdelningarnas utfall hittills"):
        reported = sum(x.outcome or 0.0 for x in deps)
        without = " utan investeringar" if abs(invested) >= 0.5 else ""
        out.append(Problem(Code.UTFALL_HUVUDBOK, f"Avdelningarnas utfall hittills ({tkr(reported)}) stämmer med "
                           f"huvudboksexporten ({names}), vars summa för perioden{without} är {tkr(total)}.",
                           names, "Ekonomi", severity="info"))
    if projects and tie(projects, "Avdelningarnas investeringsutgifter hittills"):
        out.append(Problem(Code.INVESTERING_HUVUDBOK, "Avdelningarnas investeringsutgifter hittills "
                           f"({tkr(sum(x.outcome or 0.0 for x in projects))}) stämmer med huvudboksexportens rader "
                           f"för investeringsprojekten ({names}).", names, "Investeringar", severity="info"))
    if abs(left) >= 0.5:
        out.append(Problem(Code.HUVUDBOK_OMAPPAD, f"{tkr(left)} i huvudboksexporten hör inte till någon avdelning eller "
                           "post och finns inte i sammanställningen; se xlplan pull för vilka konton och ansvar.",
                           names, "Ekonomi", severity="varning"))
    return out


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def control_lines(ix: PlanIndex, c: Choice) -> list[ControlResult]:
    out = []
    for k in ix.controls(c.department.id):
        values = _row_values(c, CONTROLS, make_row_id(CONTROL_ROW, k.id))
        out.append(ControlResult(c.department.id, c.department.name, k.risk, k.control, k.probability,
                                 k.consequence, k.risk_value, _text(values.get("result")),
                                 _text(values.get("comment")), k.id))
    return out


def comment_lines(ix: PlanIndex, choices: list[Choice], lines: list[IndicatorLine]) -> list[CommentLine]:
    """Indicator analyses by goal, then economy and personnel comments (with their values)."""
    out = []
    for x in lines:
        if x.comment:
            text = f"({x.series}) {x.comment}" if x.series else x.comment
            out.append(CommentLine(x.goal_id, x.department_id, x.department, x.indicator_id, text))
    for c in choices:
        for b in ix.budget(c.department.id):
            comment = _text(_row_values(c, ECONOMY, make_row_id(ECONOMY_ROW, b.item)).get("comment"))
            if comment:
                out.append(CommentLine(None, c.department.id, c.department.name, None, f"Ekonomi, {b.item}: {comment}"))
        for p in ix.personnel(c.department.id):
            values = _row_values(c, PERSONNEL, make_row_id(PERSONNEL_ROW, p.name))
            summary = _personnel_text(p.name, p.target, values)
            if summary:
                out.append(CommentLine(None, c.department.id, c.department.name, None, summary))
    return out


def hr_committee_totals(ix: PlanIndex, plan_folder: Path) -> dict[str, tuple[float, str]]:
    """Key figure -> (value, where) of the HR export's own row for the whole committee, when it has one."""
    if not ix.plan.hr_sources:
        return {}
    from xlplan.io.hrexport import read_hr_values

    values, _ = read_hr_values(ix.plan, plan_folder, ix.period)  # problems: reported by xlplan pull
    return {v.name: (v.value, f"HR-exportens rad för hela nämnden ({v.file_name}, rad {v.row})")
            for v in values if v.department_id == COMMITTEE_ID}


def personnel_lines(ix: PlanIndex, choices: list[Choice],
                    export_totals: dict[str, tuple[float, str]]) -> list[PersonnelLine]:
    """Every department's key figures against their targets, then the committee's line per key figure
    (the HR export's own total when it has one, else computed from the departments, saying how); none
    when no key figure has an outcome anywhere (nothing is followed up)."""
    from xlplan.io.hrexport import committee_value, weights_of

    settings, label, year = ix.settings, ix.period.label, ix.period.year

    def status(p: PersonnelTarget, outcome: object) -> str:
        m = ix.personnel_meaning(p)
        return assess(personnel_inputs(p, outcome, settings=settings, period_label=label, year=year,
                                       target=m.target, polarity=m.polarity, baseline=m.baseline)).status.label

    lines: list[PersonnelLine] = []
    reported: dict[str, list[tuple[float, float | None, float | None]]] = {}
    for c in choices:
        for p in ix.personnel(c.department.id):
            row = _book_row(c, PERSONNEL, make_row_id(PERSONNEL_ROW, p.name))
            values = row.values if row else _NO_VALUES
            outcome = _number(values.get("outcome"))
            if outcome is not None:
                reported.setdefault(p.name, []).append((outcome, *weights_of(values.get("provenance"))))
            lines.append(PersonnelLine(c.department.id, c.department.name, p.name, _unit(p), p.current, p.target,
                                       outcome, status(p, row.raw.get("outcome") if row else None),
                                       _text(values.get("comment")), _provenance(values, outcome, _absent(c))))
    if not reported and not export_totals:
        return []
    for name in ix.plan.personnel_names():
        own = next((p for p in ix.plan.personnel if p.name == name and p.department_id == COMMITTEE_ID), None)
        any_row = own or next(p for p in ix.plan.personnel if p.name == name)
        shown = own or PersonnelTarget(COMMITTEE_ID, name, unit=any_row.unit, measures=any_row.measures)
        value: float | None
        if name in export_totals:
            value, basis = export_totals[name]
        else:
            having = sum(1 for c in choices if any(p.name == name for p in ix.personnel(c.department.id)))
            value, basis = committee_value(any_row, reported.get(name, []), having)
        lines.append(PersonnelLine(None, COMMITTEE_NAME, name, _unit(any_row), shown.current, shown.target,
                                   value, status(shown, value), None, basis))
    return lines


def _unit(p: PersonnelTarget) -> str:
    return p.unit or ("antal" if p.is_count else "%")


def _personnel_text(name: str, target: str | None, values: Mapping[str, Any]) -> str | None:
    outcome, comment = _number(values.get("outcome")), _text(values.get("comment"))
    if outcome is None and comment is None:
        return None
    parts = [f"Personal, {name}:"]
    if outcome is not None:
        parts.append(f"utfall {format_number(outcome)}" + (f" (målvärde {target})" if target else "") + ".")
    if comment:
        parts.append(comment)
    return " ".join(parts)


# ---------------------------------------------------------------- the JSON report

def report_json(result: ConsolidationResult, folder: Path) -> dict[str, Any]:
    meta = result.data.meta
    return {
        "plan_id": meta.plan_id, "plan_version": meta.plan_version, "period": meta.period,
        "generated_at": meta.generated_at.isoformat(), "folder": str(folder), "output": str(result.out_path),
        "counts": result.counts(),
        "submissions": [_submission_json(s) for s in result.data.submissions],
        "problems": [p.to_json() for p in result.problems],
    }


def _submission_json(s: Submission) -> dict[str, Any]:
    return {"department_id": s.department_id, "department": s.department, "file": s.file, "state": s.state,
            "saved_by": s.saved_by, "saved_at": s.saved_at.isoformat() if s.saved_at else None,
            "sha256": s.file_hash, "problems": s.problem_count, "state_by": s.state_by,
            "state_at": s.state_at.isoformat() if s.state_at else None,
            "state_comment": s.state_comment}


def write_report(result: ConsolidationResult, folder: Path, path: Path) -> None:
    text = json.dumps(report_json(result, folder), ensure_ascii=False, indent=2) + "\n"
    write_bytes_atomic(path, text.encode("utf-8"))


def summary_lines(result: ConsolidationResult) -> list[str]:
    """A few Swedish lines for the terminal."""
    n = result.counts()
    lines = [f"Sammanställning: {result.out_path}",
             f"  {n['inkluderade']} av {n['avdelningar']} avdelningar med; {n['saknas']} saknas, "
             f"{n['konflikter']} i konflikt, {n['avvisade']} avvisade; {n['filer']} filer i mappen; "
             f"{n['godkända']} godkända.",
             f"  Problem: {n['fel']} fel, {n['varningar']} varningar, {n['info']} info (se bladet Kontroll)."]
    if result.report_path:
        lines.append(f"  Rapport: {result.report_path}")
    return lines




# ---------------------------------------------------------------- the demo step

def demo_step(out: Path, echo: Callable[[str], None] = print) -> list[ConsolidationResult]:
    """``xlplan demo``: consolidate ``out/avdelningar/`` (or each of its sub-folders) into ``out/namnd/``.

    Plan and period are taken from the department files' metadata and matched
    with the bundled example plans; does nothing when there are no department files.
    """
    from xlplan.examples import EXAMPLES, demo_plan_path, example_plan_path

    source = Path(out) / "avdelningar"
    folders = [source] + sorted(p for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    if not folders:
        return []
    from xlplan.core.naming import committee_file, control_report_file

    plans = {(plan := read_plan(demo_plan_path(n, Path(out)))).id: (demo_plan_path(n, Path(out)), plan)
             for n in EXAMPLES
             if example_plan_path(n).exists()}
    results = []
    for folder in folders:
        found = _first_department_book(folder)
        if found is None or found.plan_id not in plans:
            continue
        target = Path(out) / "namnd" / (folder.name if folder != source else "")
        period = _period_of(found.period)
        if period is None:
            continue
        plan_path, plan = plans[found.plan_id]
        name = committee_file(plan.settings.municipality, plan.settings.committee, period)
        result = consolidate(folder, plan_path, period, target / name, target / control_report_file(name))
        echo("\n".join(summary_lines(result)))
        results.append(result)
    return results


def _first_department_book(folder: Path) -> DepartmentBook | None:
    for path in sorted(folder.glob("*.xls[xm]")):
        if path.name.startswith("~$"):
            continue
        try:
            return read_department_workbook(path)
        except (WorkbookUnreadable, WorkbookRefused):
            continue
    return None


__all__ = ["ConsolidationResult", "Choice", "FileRead", "consolidate", "demo_step", "goal_assessment",
           "read_file", "report_json", "summary_lines"]
