"""``xlplan consolidate``: the department workbooks of a folder → the committee workbook.

Every file in the folder is accounted for: each candidate workbook is read
(read-only) and checked — readable, an xlplan department workbook, of this
plan and period, of a department in the plan — and everything else (old
formats, lock files, CSV …) is reported with a reason.  One bad file never
stops the others; every finding is a :class:`~xlplan.errors.Problem` shown on
the Kontroll sheet and in the JSON report.

Choices, stated once:

* Two different files for one department: **neither is included**; both are
  listed (Kontroll and Inlämning, status ``konflikt``) and the department's rows
  show *Utfall saknas* until someone removes the wrong file.  Two byte-identical
  copies are one submission: the first by name is used, with a warning.
* Status is re-evaluated here from the plan's target and the file's outcome
  (:func:`xlplan.status.evaluate`); the status cell in the file is not trusted
  (a different one is reported).
* A committee-level line (plan column ``Nämndnivå``) takes its value from the
  department ``NÄMND`` when the plan has one and its file reports the
  indicator; otherwise it stays empty — never an average of the departments.
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
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xlplan.assess import Assessment, assess, row_inputs
from xlplan.atomic import write_bytes_atomic
from xlplan.committee import (
    REPORTED,
    ActivityLine,
    CommentLine,
    CommitteeData,
    CommitteeMeta,
    Comparison,
    ControlResult,
    EconomyLine,
    GoalSummary,
    IndicatorLine,
    Submission,
    goal_summary,
    indicator_verdict,
    keep_controller_inputs,
    sorted_indicators,
    suggest_assessment,
    write_committee_workbook,
)
from xlplan.comparisons import COMPARISONS_FILE, RIKET, comparison_kpis, read_comparisons
from xlplan.deptbook import BookRow, DepartmentBook, read_department_workbook
from xlplan.errors import BadInput, Problem, RowsSorted, WorkbookRefused, WorkbookUnreadable
from xlplan.layout.columns import (
    ACTIVITIES,
    ACTIVITY_STATES,
    ASSESSMENTS,
    CONTROL_RESULTS,
    CONTROLS,
    ECONOMY,
    INDICATORS,
    OVERVIEW,
    PERSONNEL,
    SUBMISSION_ROW_ID,
    SUBMISSION_STATES,
)
from xlplan.layout.department import included_indicators, indicator_row_id
from xlplan.model import (
    COMMITTEE_ID,
    Activity,
    BudgetLine,
    ControlItem,
    Department,
    Goal,
    Indicator,
    PersonnelTarget,
    Plan,
)
from xlplan.numbers import format_number
from xlplan.periods import Period, parse_period
from xlplan.planio import read_plan
from xlplan.rowids import ACTIVITY_ROW, CONTROL_ROW, ECONOMY_ROW, PERSONNEL_ROW, is_data_row, make_row_id
from xlplan.status import Status, normalise_label
from xlplan.targets import Polarity, SeriesValues, Target
from xlplan.validate import FileFacts, file_facts, preflight, scan_folder
from xlplan.workflow import APPROVED, last_event, unrecorded_state

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
        :func:`xlplan.committee.committee_frames`)."""
        from xlplan.committee import committee_frames

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
        self._exact = {d.id: d for d in plan.departments}
        self._folded = {d.id.casefold(): d for d in reversed(plan.departments)}
        self._activities = _group(plan.activities, lambda a: a.department_id)
        self._budget = _group([b for b in plan.budget if b.year == period.year], lambda b: b.department_id)
        self._personnel = _group(plan.personnel, lambda p: p.department_id)
        self._indicators: dict[str, list[tuple[Goal | None, Indicator]]] = {}
        self._meaning: dict[str, Meaning] = {}
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
        """The indicator's parsed target, polarity and baseline for the period (parsed once)."""
        if ind.id not in self._meaning:
            picked = ind.target_text(self.period.year)
            self._meaning[ind.id] = Meaning(ind.target(self.period.year, goal), ind.polarity(goal),
                                            ind.baseline_values(), picked[1] if picked else None)
        return self._meaning[ind.id]

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


def _group(items: Any, key: Callable[[Any], str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for item in items:
        out.setdefault(key(item), []).append(item)
    return out


# ---------------------------------------------------------------- orchestration

def consolidate(folder: str | Path, plan_path: str | Path, period: str | Period, out_path: str | Path,
                report_path: str | Path | None = None, progress: Progress | None = None) -> ConsolidationResult:
    """Read every department workbook in *folder* and write the committee workbook at *out_path*.

    Raises only for bad arguments (no such folder, an invalid plan, a bad
    period); every problem with a department file is reported, not raised.
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise BadInput(f"Mappen '{folder}' finns inte.")
    per = period if isinstance(period, Period) else parse_period(period)
    ix = PlanIndex(read_plan(plan_path), per)
    scan = scan_folder(folder)
    out_path, report = Path(out_path), Path(report_path) if report_path else None
    reads = read_all([p for p in scan.workbooks if not _is_output(p, out_path, report)], ix, progress)
    choices = choose(ix.plan, reads)
    skipped = [p for p in scan.skipped if not _is_output(folder / (p.file or ""), out_path, report)]
    comparisons, found = comparison_rows(folder, ix)
    skipped = [found if p.file == COMPARISONS_FILE and found else p for p in skipped]
    problems = skipped + [p for r in reads for p in r.problems]
    problems += period_problems(ix.plan, per) + choice_problems(choices)
    data = keep_controller_inputs(build_committee_data(ix, choices, problems, comparisons), out_path)
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
            "internt_fel", f"Filen kunde inte läsas: {type(exc).__name__}: {exc}. Rapportera gärna felet.",
            path.name, action=NOT_INCLUDED)])


def _read_file(path: Path, ix: PlanIndex) -> FileRead:
    facts = file_facts(path)
    read = FileRead(path, facts)
    reason = preflight(path)
    if reason is not None:
        read.problems.append(Problem("olasbar", _capital(reason) + ".", path.name, action=NOT_INCLUDED))
        return read
    try:
        book = read_department_workbook(path)
    except WorkbookUnreadable as exc:
        read.problems.append(Problem("olasbar", f"Filen kan inte läsas som en arbetsbok: {exc.reason}",
                                     path.name, action=NOT_INCLUDED))
        return read
    except RowsSorted as exc:
        read.problems.append(Problem("rader_sorterade", _capital(exc.reason), path.name, action=NOT_INCLUDED))
        return read
    except WorkbookRefused as exc:
        read.problems.append(Problem("inte_avdelningsfil", f"Filen {exc.reason}", path.name, action=NOT_INCLUDED))
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
        return [], Problem("jamforelser_olasbar", f"Jämförelsefilen från xlplan pull kan inte läsas: {exc.reason}",
                           path.name, severity="varning", action="jämförelser saknas i sammanställningen")
    if other:
        return [], Problem("jamforelser_annan_plan", f"Jämförelsefilen hör inte till planen '{ix.id}'. Kör "
                           "xlplan pull för avdelningsfilerna i mappen igen.", path.name, severity="varning",
                           action="jämförelser saknas i sammanställningen")
    kpis = {kpi for _, kpi in comparison_kpis(ix.plan, [ix.period])}
    chosen = sorted((c for c in rows if c.kolada_id in kpis and c.year <= ix.period.year),
                    key=_comparison_order(ix.plan.settings.municipality_id))
    return chosen, Problem("jamforelser", f"Jämförelsevärden från Kolada (sparade av xlplan pull): {len(chosen)} "
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
        return [Problem("inte_avdelningsfil", f"Filen är {what} från xlplan, ingen avdelningsfil.", name,
                        action=NOT_INCLUDED)]
    out = []
    if book.plan_id != plan.id:
        out.append(Problem("annan_plan", f"Filen hör till planen '{book.plan_id or '?'}', inte till '{plan.id}'.",
                           name, action=NOT_INCLUDED))
    if _period_of(book.period) != period:
        out.append(Problem("annan_period", f"Filen gäller perioden '{book.period or '?'}', inte '{period}'. "
                           "Fyll en fil för rätt period med xlplan fill.", name, action=NOT_INCLUDED))
    if not book.department_id or ix.department(book.department_id) is None:
        out.append(Problem("okand_avdelning", f"Avdelningen '{book.department_id or '?'}' finns inte i planen "
                           f"(avdelningar: {_some(d.id for d in plan.departments)}).", name,
                           action=NOT_INCLUDED))
    version = book.metadata.get("plan_version")
    if not out and version != ix.version:
        out.append(Problem("annan_planversion", f"Filen fylldes från en annan version av planen ({version or '?'}; "
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
            msg = f"Raden med Rad-id '{row_id}' saknas (borttagen?). Fyll filen på nytt med xlplan fill --update."
        else:
            msg = (f"Planen har raden '{row_id}' men filen saknar den (planen har ändrats sedan filen fylldes). "
                   "Fyll filen på nytt med xlplan fill --update.")
        out.append(Problem("rad_saknas", msg, name, book.actual_sheet_name(sheet), None,
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
            out.append(Problem("rad_ej_i_planen", f"Raden '{row_id}' finns inte i den aktuella planen för "
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
            for f in a.flags:
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


def _list_problem(value: Any, options: tuple[str, ...], name: str, sheet: str, cell: str | None) -> list[Problem]:
    if value is None or not str(value).strip():
        return []
    if normalise_label(str(value)) in {normalise_label(o) for o in options}:
        return []
    return [Problem("ogiltigt_val", f"'{value}' finns inte i listan för cellen. Välj något av: "
                    f"{', '.join(options)}.", name, sheet, cell, action="värdet togs med som det står")]


# ---------------------------------------------------------------- choosing one file per department

def choose(plan: Plan, reads: list[FileRead]) -> list[Choice]:
    by_department = _group([r for r in reads if r.department_id], lambda r: r.department_id)
    return [choose_for(dep, by_department.get(dep.id, [])) for dep in plan.departments]


STRUCTURAL = frozenset({"blad_saknas", "rubrikrad_saknas", "kolumn_saknas", "rad_saknas", "olasbar"})


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
                out.append(Problem("skadad_kopia", f"Filen gäller {label} men kan inte användas ({why.message}); "
                                   f"{used}. Ta bort den skadade filen ur mappen.", r.name, action=NOT_INCLUDED))
        if c.state == "saknas":
            out.append(Problem("inlamning_saknas", f"Ingen fil från {label} finns i mappen.", None,
                               severity="varning", action="avdelningens rader visas som Utfall saknas"))
        elif c.state == "avvisad":
            names = ", ".join(r.name for r in c.candidates)
            out.append(Problem("inlamning_avvisad", f"Ingen godkänd fil från {label}: {names} kunde inte tas med "
                               "(se filens problem).", None, severity="varning",
                               action="avdelningens rader visas som Utfall saknas"))
        elif c.state == "konflikt":
            names = ", ".join(r.name for r in accepted)
            for r in accepted:
                out.append(Problem("konflikt", f"Två eller fler olika filer gäller {label}: {names}. Ingen av dem "
                                   "togs med; ta bort den som inte gäller och sammanställ igen.", r.name,
                                   action=NOT_INCLUDED))
        elif len(accepted) > 1 and c.file is not None:
            for r in accepted:
                if r is not c.file:
                    out.append(Problem("dubblett", f"Filen är en exakt kopia av {c.file.name} ({label}); "
                                       "den räknas en gång.", r.name, severity="varning",
                                       action=f"{c.file.name} användes"))
        if c.file is not None and c.file.book is not None:
            out += [p for p in [unrecorded_state(c.file.book)] if p is not None]
            state = c.file.book.submission
            if state and normalise_label(state) not in READY_STATES:
                out.append(Problem("inte_klar", f"Inlämningsstatus är '{state}': avdelningen har inte markerat "
                                   "filen som klar för granskning.", c.file.name,
                                   c.file.book.actual_sheet_name(OVERVIEW),
                                   c.file.book.address(OVERVIEW, SUBMISSION_ROW_ID, "value"), "info",
                                   "filen togs med"))
    return out


def period_problems(plan: Plan, period: Period) -> list[Problem]:
    if period.kind in plan.settings.periods and plan.settings.year <= period.year <= plan.settings.end_year:
        return []
    return [Problem("period_utanfor_planen", f"Perioden {period} ingår inte i planens rapporteringsperioder "
                    f"({', '.join(plan.settings.periods)}, {plan.settings.year}–{plan.settings.end_year}).",
                    None, severity="varning")]


# ---------------------------------------------------------------- the committee data

def build_committee_data(ix: PlanIndex, choices: list[Choice], problems: list[Problem],
                         comparisons: list[Comparison] | None = None) -> CommitteeData:
    plan, period = ix.plan, ix.period
    s = plan.settings
    meta = CommitteeMeta(s.plan_id, ix.version, s.municipality, s.municipality_id, s.committee, str(period),
                         period.label, dt.datetime.now(dt.UTC).replace(microsecond=0), s.goal_rule,
                         s.administration)
    problems = list(problems)
    indicators = indicator_lines(ix, choices, problems)
    data = CommitteeData(
        meta=meta,
        submissions=tuple(submission(c, problems) for c in choices),
        goals=tuple(goal_summaries(plan, indicators)),
        indicators=tuple(indicators),
        activities=tuple(line for c in choices for line in activity_lines(ix, c)),
        economy=tuple(frame_lines(ix)) + tuple(line for c in choices for line in economy_lines(ix, c)),
        comments=tuple(comment_lines(ix, choices, indicators)),
        controls=tuple(line for c in choices for line in control_lines(ix, c)),
        comparisons=tuple(comparisons or ()),
        problems=tuple(problems),
    )
    return replace(data, indicators=sorted_indicators(data, [i.id for i in plan.indicators]))  # as written


def submission(c: Choice, problems: list[Problem]) -> Submission:
    shown = c.file or (c.candidates[0] if len(c.candidates) == 1 else None)
    names = [r.name for r in c.candidates] if c.file is None else [c.file.name]
    files = {c.file.name} if c.file else {r.name for r in c.candidates}
    count = sum(1 for p in problems if p.file in files)
    facts = shown.facts if shown else None
    last = last_event(c.file.book.metadata) if c.file and c.file.book else None
    return Submission(c.department.id, c.department.name, "; ".join(names) or None, c.state,
                      facts.saved_by if facts else None, facts.saved_at if facts else None,
                      facts.sha256 if facts else None, count, last.who if last else None,
                      last.local_time if last else None, last.comment if last else None)


def _row_values(c: Choice, sheet: str, row_id: str) -> dict[str, Any]:
    if c.file is None or c.file.book is None:
        return {}
    row = c.file.book.row(sheet, row_id)
    return dict(row.values) if row else {}


def _absent(c: Choice) -> str | None:
    """Why a department's rows have no values (None when its file is included)."""
    return None if c.file else {"saknas": "ingen fil inlämnad", "konflikt": "flera filer (konflikt), ingen togs med",
                                "avvisad": "filen kunde inte tas med"}.get(c.state, "ingen fil")


def indicator_lines(ix: PlanIndex, choices: list[Choice], problems: list[Problem]) -> list[IndicatorLine]:
    plan, period = ix.plan, ix.period
    lines = []
    committee_values: dict[tuple[str, str | None], tuple[Choice | None, dict[str, Any], BookRow | None]] = {}
    for c in choices:
        for goal, ind in ix.indicators(c.department.id):
            for series in ind.series_names():
                values = _row_values(c, INDICATORS, indicator_row_id(ind.id, series))
                row = _book_row(c, INDICATORS, indicator_row_id(ind.id, series))
                if ind.committee_level and c.department.id.casefold() == COMMITTEE_ID.casefold():
                    committee_values[(ind.id, series)] = (c, values, row)
                    continue
                line = indicator_line(ix, goal, ind, series, c.department, values, _absent(c), row,
                                      c.file.book if c.file else None)
                _check_status(line, values, c, problems, row)
                lines.append(line)
    for goal, ind in ((plan.goal(i.goal_id), i) for i in plan.indicators if i.committee_level):
        if ind.periods and period.kind not in ind.periods:
            continue
        for series in ind.series_names():
            by, values, row = committee_values.get((ind.id, series), (None, {}, None))
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
    """The one assessment of a row of a department file (:func:`xlplan.assess.assess`); no row: nothing typed.
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
                               settings=ix.plan.settings.status_settings, period_label=ix.period.label,
                               outcome_format=row.formats.get("outcome") if row else None, outcome_error=error,
                               cells=row.cells if row else {}, target=m.target, polarity=m.polarity,
                               baseline=m.baseline))
    if row is not None:
        ix.assessed[key] = (row, result)
    return result


def indicator_line(ix: PlanIndex, goal: Goal | None, ind: Indicator, series: str | None,
                   dep: Department | None, values: dict[str, Any], absent: str | None,
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


def _provenance(values: dict[str, Any], outcome: float | None, absent: str | None) -> str | None:
    if absent:
        return absent
    source = _text(values.get("outcome_source")) or _text(values.get("provenance"))
    if outcome is None:
        return source
    return source or "inmatat av avdelningen"


def _check_status(line: IndicatorLine, values: dict[str, Any], c: Choice, problems: list[Problem],
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
    problems.append(Problem("status_avviker", f"Status i filen är '{shown}' men räknat ur utfall och målvärde blir "
                            f"den '{line.status}'. Statusformeln kan vara överskriven.", c.file.name,
                            book.actual_sheet_name(INDICATORS), book.address(INDICATORS, row_id, "status"),
                            "varning", "den räknade statusen används"))


def goal_summaries(plan: Plan, lines: list[IndicatorLine]) -> list[GoalSummary]:
    """Per goal of the plan: the support over its distinct indicators and the suggested assessment."""
    by_goal: dict[str, list[IndicatorLine]] = {}
    for line in lines:
        by_goal.setdefault(line.goal_id, []).append(line)
    return [goal_summary(g.id, g.priority_goal, g.text, by_goal.get(g.id, []), plan.settings.goal_rule)
            for g in plan.goals]


def goal_assessment(statuses: list[Status | None], rule: str) -> str | None:
    """The suggested assessment of a goal whose indicators have *statuses* (one each; None: no target).

    See :func:`xlplan.committee.suggest_assessment` and ``docs/goal-assessment.md``.
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


FRAME_NAME = "Nämndens budgetram"


def frame_lines(ix: PlanIndex) -> list[EconomyLine]:
    """The committee's adopted frame for the period's year (plan rows with Avdelnings-id NÄMND), as written.

    When the plan has a department with that id, its own workbook reports those rows instead.
    """
    if ix.plan.department(COMMITTEE_ID) is not None:
        return []
    return [EconomyLine(COMMITTEE_ID, FRAME_NAME, b.item, b.budget)
            for b in ix.plan.budget_for(COMMITTEE_ID, ix.period.year)]


def economy_lines(ix: PlanIndex, c: Choice) -> list[EconomyLine]:
    out = []
    for b in ix.budget(c.department.id):
        values = _row_values(c, ECONOMY, make_row_id(ECONOMY_ROW, b.item))
        actual, forecast = _number(values.get("actual")), _number(values.get("forecast"))
        deviation = forecast - b.budget if forecast is not None else None
        out.append(EconomyLine(c.department.id, c.department.name, b.item, b.budget, actual, forecast, deviation))
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


def _personnel_text(name: str, target: str | None, values: dict[str, Any]) -> str | None:
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
    from xlplan.examples import EXAMPLES, example_plan_path

    source = Path(out) / "avdelningar"
    folders = [source] + sorted(p for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    if not folders:
        return []
    plans = {read_plan(example_plan_path(n)).id: example_plan_path(n) for n in EXAMPLES
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
        stem = f"Sammanställning_{found.plan_id}_{period.ascii}"
        result = consolidate(folder, plans[found.plan_id], period, target / f"{stem}.xlsx",
                             target / f"{stem}_kontroll.json")
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
