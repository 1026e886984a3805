"""The committee workbook (nämndens sammanställning): data model, writer and reader.

``consolidate`` gathers the department workbooks into a :class:`CommitteeData`
and writes it with :func:`write_committee_workbook`; ``export`` reads it back
with :func:`read_committee_workbook`.  One sheet per record type, Swedish
headers, one record per row; a hidden ``_xlplan`` sheet carries the meta data
(``kind = committee``) by which the file is recognised.

Sheets (in order): Inlämning, Måluppfyllelse, Indikatorer, Aktiviteter,
Ekonomi, Kommentarer, Internkontroll, Jämförelser, Kontroll, _xlplan.

The Ekonomi sheet also shows total rows (per item and overall, column
``Radtyp`` = ``Summa``); they are computed by :func:`economy_totals` when
writing and skipped when reading, so the data holds department lines only.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from dataclasses import MISSING, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.atomic import atomic_path
from xlplan.errors import Problem, WorkbookRefused, WorkbookUnreadable
from xlplan.model import COMMITTEE_ID
from xlplan.tables import cell_ref, clean, norm_header, open_workbook, read_sheet_rows
from xlplan.xmltext import escape_cell_text

KIND = "committee"
FORMAT_VERSION = 1
META_SHEET = "_xlplan"
COMMITTEE_LEVEL = "Nämnden"  # department name of a committee-level indicator line
TOTAL_ROW = "Summa"

# Indicator statuses as shown (TARGETS.md) and their colours (fill, font).
FULFILLED = "Uppfyllt"
PARTLY = "Delvis uppfyllt"
NOT_FULFILLED = "Ej uppfyllt"
OUTCOME_MISSING = "Utfall saknas"
TARGET_MISSING = "Målvärde saknas"
MANUAL = "Bedöms manuellt"
STATUSES = (FULFILLED, PARTLY, NOT_FULFILLED, OUTCOME_MISSING, TARGET_MISSING, MANUAL)
STATUS_COLOURS: dict[str, tuple[str, str]] = {
    FULFILLED: ("C6EFCE", "006100"),
    PARTLY: ("FFEB9C", "7F6000"),
    NOT_FULFILLED: ("FFC7CE", "9C0006"),
    OUTCOME_MISSING: ("E7E6E6", "3A3838"),
    TARGET_MISSING: ("E7E6E6", "3A3838"),
    MANUAL: ("DDEBF7", "1F4E78"),
}
ACTIVITY_COLOURS: dict[str, tuple[str, str]] = {
    "Klar": ("C6EFCE", "006100"),
    "Pågår": ("FFEB9C", "7F6000"),
    "Försenad": ("FFC7CE", "9C0006"),
    "Ej påbörjad": ("E7E6E6", "3A3838"),
}


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
    # The last recorded change of Inlämningsstatus in the file (xlplan.workflow): who, when, comment.
    state_by: str | None = None
    state_at: dt.datetime | None = None  # local time
    state_comment: str | None = None


@dataclass(frozen=True)
class GoalSummary:
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
        """Counts keyed by the Swedish status label, in :data:`STATUSES` order."""
        values = (self.fulfilled, self.partly, self.not_fulfilled,
                  self.outcome_missing, self.target_missing, self.manual)
        return dict(zip(STATUSES, values))


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


@dataclass(frozen=True)
class CommentLine:
    goal_id: str | None
    department_id: str | None
    department: str | None
    indicator_id: str | None
    text: str


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


@dataclass(frozen=True)
class CommitteeData:
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
    counts = goal_status_counts(data.indicators)
    extra = []
    for goal_id, per_status in counts.items():
        if goal_id not in known:
            first = next(x for x in data.indicators if x.goal_id == goal_id)
            values = [per_status.get(s, 0) for s in STATUSES]
            extra.append(GoalSummary(goal_id, first.priority_goal, first.goal_text, *values))
    return replace(data, goals=data.goals + tuple(extra)) if extra else data


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
                               total.forecast, total.deviation))
    return out


def _sum_lines(lines: list[EconomyLine], item: str) -> EconomyLine:
    def total(attr: str) -> float | None:
        values = [getattr(x, attr) for x in lines if getattr(x, attr) is not None]
        return sum(values) if values else None

    return EconomyLine("", "Nämnden totalt", item, total("budget"), total("outcome"),
                       total("forecast"), total("deviation"))


# ---------------------------------------------------------------- sheet layout


@dataclass(frozen=True)
class Column:
    header: str
    attr: str
    kind: str = "text"  # text | int | float | datetime
    width: float = 14
    number_format: str | None = None


@dataclass(frozen=True)
class SheetSpec:
    name: str
    record: type
    columns: tuple[Column, ...]
    status_column: str | None = None  # header of a column coloured by status
    colours: dict[str, tuple[str, str]] = field(default_factory=dict)


TKR = "#,##0;-#,##0"
DATETIME = "yyyy-mm-dd hh:mm"
NUMBER = "General"


def _c(header: str, attr: str, kind: str = "text", width: float = 14, fmt: str | None = None) -> Column:
    return Column(header, attr, kind, width, fmt)


SUBMISSIONS = SheetSpec("Inlämning", Submission, (
    _c("Avdelnings-id", "department_id", width=12), _c("Avdelning", "department", width=28),
    _c("Fil", "file", width=36), _c("Status", "state", width=16),
    _c("Senast sparad av", "saved_by", width=20),
    _c("Senast sparad", "saved_at", "datetime", 17, DATETIME),
    _c("Filens kontrollsumma", "file_hash", width=20),
    _c("Antal problem", "problem_count", "int", 10, "0"),
    _c("Status satt av", "state_by", width=20), _c("Status satt", "state_at", "datetime", 17, DATETIME),
    _c("Controllerns kommentar", "state_comment", width=40),
))
GOALS = SheetSpec("Måluppfyllelse", GoalSummary, (
    _c("Mål-id", "goal_id", width=8), _c("Prioriterat mål", "priority_goal", width=28),
    _c("Nämndens mål", "goal_text", width=48),
    _c(FULFILLED, "fulfilled", "int", 11, "0"), _c(PARTLY, "partly", "int", 11, "0"),
    _c(NOT_FULFILLED, "not_fulfilled", "int", 11, "0"),
    _c(OUTCOME_MISSING, "outcome_missing", "int", 11, "0"),
    _c(TARGET_MISSING, "target_missing", "int", 11, "0"), _c(MANUAL, "manual", "int", 11, "0"),
    _c("Samlad bedömning", "assessment", width=18),
), status_column="Samlad bedömning", colours=STATUS_COLOURS)
INDICATORS = SheetSpec("Indikatorer", IndicatorLine, (
    _c("Mål-id", "goal_id", width=8), _c("Prioriterat mål", "priority_goal", width=22),
    _c("Nämndens mål", "goal_text", width=36), _c("Indikator-id", "indicator_id", width=11),
    _c("Indikator", "indicator", width=36), _c("Avdelnings-id", "department_id", width=12),
    _c("Avdelning", "department", width=22), _c("Serie", "series", width=16),
    _c("Enhet", "unit", width=8), _c("Nuläge", "baseline", width=16),
    _c("Nulägesår", "baseline_year", "int", 10, "0"), _c("Målvärde", "target", width=22),
    _c("Målvärde (tal)", "target_value", "float", 12, NUMBER),
    _c("Utfall", "outcome", "float", 10, NUMBER), _c("Status", "status", width=16),
    _c("Egen bedömning", "assessment", width=16), _c("Analys", "comment", width=48),
    _c("Åtgärder", "actions", width=40), _c("Ursprung", "provenance", width=30),
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
))
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
    _c("Värde", "value", "float", 10, NUMBER), _c("Status", "status", width=10),
    _c("Hämtat", "fetched_at", "datetime", 17, DATETIME), _c("Källa", "source", width=36),
))
PROBLEMS = SheetSpec("Kontroll", Problem, (
    _c("Fil", "file", width=30), _c("Blad", "sheet", width=18), _c("Cell", "cell", width=8),
    _c("Kod", "code", width=18), _c("Allvar", "severity", width=9),
    _c("Meddelande", "message", width=70), _c("Åtgärd", "action", width=30),
), status_column="Allvar", colours={"fel": ("FFC7CE", "9C0006"), "varning": ("FFEB9C", "7F6000")})

SHEETS: tuple[tuple[str, SheetSpec], ...] = (
    ("submissions", SUBMISSIONS), ("goals", GOALS), ("indicators", INDICATORS),
    ("activities", ACTIVITIES), ("economy", ECONOMY), ("comments", COMMENTS),
    ("controls", CONTROLS), ("comparisons", COMPARISONS), ("problems", PROBLEMS),
)
ROW_KIND = "Radtyp"


# ---------------------------------------------------------------- writing

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="D9E1F2")
HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(wrap_text=False, vertical="top")
TOP_WRAPPED = Alignment(wrap_text=True, vertical="top")


def cell_value(value: Any) -> Any:
    """*value* as a cell takes it: text without illegal characters and with ``_xHHHH_`` escaped, local time."""
    if isinstance(value, str):
        return escape_cell_text(ILLEGAL_CHARACTERS_RE.sub("", value))
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone().replace(tzinfo=None)  # Excel has no time zones: local time
    return value


def set_value(cell: Any, value: Any) -> None:
    """Assign a value as data: text is always a text cell, never a formula."""
    cell.value = cell_value(value)
    if isinstance(value, str):
        cell.data_type = "s"


class ColumnStyles:
    """The two cell styles (plain, wrapped) of each column of a table, made once.

    openpyxl registers a style object every time one is assigned to a cell
    (hashing it to find its index); here each column's style is registered
    once, on a detached prototype cell, and every data cell is created with a
    copy of the prototype's style array.
    """

    def __init__(self, ws: Worksheet, formats: Sequence[str | None]) -> None:
        self._styles = [(self._make(ws, TOP, fmt), self._make(ws, TOP_WRAPPED, fmt)) for fmt in formats]

    @staticmethod
    def _make(ws: Worksheet, alignment: Alignment, fmt: str | None) -> Any:
        proto = Cell(ws)
        proto.alignment = alignment
        if fmt:
            proto.number_format = fmt
        return proto._style  # openpyxl's style array (ids into the workbook's style tables)

    def cell(self, ws: Worksheet, col: int, value: Any, wrap: bool) -> Cell:
        """A new cell of column *col* (0-based) holding *value*, styled; for :meth:`Worksheet.append`."""
        cell = Cell(ws, value=None, style_array=self._styles[col][wrap])
        set_value(cell, value)
        return cell


def write_table(ws: Worksheet, headers: Sequence[str], rows: Iterable[Sequence[Any]],
                widths: Sequence[float], formats: Sequence[str | None], autofilter: bool = True) -> int:
    """Write a header row and data rows (values only) on an empty sheet; returns the last row number."""
    if ws.max_row > 1 or ws.max_column > 1 or ws.cell(row=1, column=1).value is not None:
        raise ValueError(f"write_table: bladet '{ws.title}' är inte tomt")
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=1, column=col)
        set_value(cell, header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = HEADER_ALIGNMENT
    styles = ColumnStyles(ws, formats)
    last = 1
    for last, row in enumerate(rows, start=2):
        lines = 1
        cells = []
        for col, value in enumerate(row):
            wrap = isinstance(value, str) and (len(value) > widths[col] or "\n" in value)
            cells.append(styles.cell(ws, col, value, wrap))
            if wrap:
                lines = max(lines, wrapped_lines(value, widths[col]))
        ws.append(cells)
        if lines > 1:  # not every reader fits rows to wrapped text by itself
            ws.row_dimensions[last].height = min(13 * lines + 2, 409)  # Excel's largest row height
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width
    if any(len(h) > w for h, w in zip(headers, widths)):
        ws.row_dimensions[1].height = 30  # room for headers wrapped over two lines
    ws.freeze_panes = "A2"
    if autofilter:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(headers))}{max(last, 2)}"
    return last


def wrapped_lines(text: str, width: float) -> int:
    """About how many lines *text* takes in a column *width* characters wide."""
    per_line = max(int(width * 1.15), 1)
    return sum(max(math.ceil(len(part) / per_line), 1) for part in text.split("\n"))


def add_status_colours(ws: Worksheet, column: int, last_row: int,
                       colours: dict[str, tuple[str, str]]) -> None:
    """Colour a status column by its value (conditional formatting, so edits recolour)."""
    letter = get_column_letter(column)
    area = f"{letter}2:{letter}{max(last_row, 2)}"
    for label, (fill, font) in colours.items():
        rule = CellIsRule(operator="equal", formula=[f'"{label}"'],
                          fill=PatternFill("solid", fgColor=fill, bgColor=fill), font=Font(color=font))
        ws.conditional_formatting.add(area, rule)


def _spec_rows(spec: SheetSpec, records: Iterable[Any]) -> list[list[Any]]:
    return [[getattr(r, c.attr) for c in spec.columns] for r in records]


def _write_spec(ws: Worksheet, spec: SheetSpec, records: Sequence[Any],
                extra: tuple[str, list[Any]] | None = None) -> None:
    headers = [c.header for c in spec.columns]
    rows = _spec_rows(spec, records)
    if extra is not None:  # a trailing marker column (Ekonomi: Radtyp)
        headers.append(extra[0])
        rows = [row + [mark] for row, mark in zip(rows, extra[1])]
    widths = [c.width for c in spec.columns] + ([10] if extra else [])
    formats = [c.number_format for c in spec.columns] + ([None] if extra else [])
    last = write_table(ws, headers, rows, widths, formats)
    if spec.status_column:
        add_status_colours(ws, headers.index(spec.status_column) + 1, last, spec.colours)


def _meta_rows(meta: CommitteeMeta) -> list[tuple[str, Any]]:
    rows: list[tuple[str, Any]] = [("kind", KIND), ("format_version", FORMAT_VERSION)]
    for f in fields(meta):
        value = getattr(meta, f.name)
        rows.append((f.name, value.isoformat(timespec="seconds") if isinstance(value, dt.datetime) else value))
    return rows


def build_committee_workbook(data: CommitteeData) -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    for attr, spec in SHEETS:
        records = list(getattr(data, attr))
        ws = wb.create_sheet(spec.name)
        if spec is ECONOMY:
            totals = economy_totals(records)
            marks = ["Avdelning"] * len(records) + [TOTAL_ROW] * len(totals)
            _write_spec(ws, spec, records + totals, extra=(ROW_KIND, marks))
        else:
            _write_spec(ws, spec, records)
    meta = wb.create_sheet(META_SHEET)
    write_table(meta, ["Nyckel", "Värde"], _meta_rows(data.meta), [18, 40], [None, None], autofilter=False)
    meta.sheet_state = "hidden"
    wb.active = 0
    return wb


def write_committee_workbook(data: CommitteeData, path: str | os.PathLike[str]) -> Path:
    """Write *data* as a committee workbook at *path* (atomically); returns the path."""
    path = Path(path)
    wb = build_committee_workbook(data)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


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
            raise WorkbookRefused(name, f"bladet '{spec.name}' saknas i nämndsammanställningen.")
        records[attr] = tuple(_read_spec(read_sheet_rows(wb, path, spec.name), spec, name))
    return CommitteeData(meta=meta, **records)


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
        kwargs = {f.name: values.get(f.name) for f in fields(CommitteeMeta)}
        kwargs["generated_at"] = dt.datetime.fromisoformat(str(kwargs["generated_at"]))
        for key in ("plan_id", "plan_version", "municipality", "municipality_id", "committee",
                    "period", "period_label", "goal_rule"):
            kwargs[key] = "" if kwargs[key] is None else str(kwargs[key])
        return CommitteeMeta(**kwargs)
    except (TypeError, ValueError) as exc:
        raise WorkbookRefused(path.name, f"bladet '{META_SHEET}' är skadat ({exc}).") from exc


def _read_spec(rows: list[list[Any]], spec: SheetSpec, file: str) -> list[Any]:
    if not rows:
        raise WorkbookRefused(file, f"blad '{spec.name}': rubrikraden saknas.")
    header = {norm_header(h): i for i, h in enumerate(rows[0]) if norm_header(h)}
    missing = [c.header for c in spec.columns if norm_header(c.header) not in header]
    if missing:
        raise WorkbookRefused(file, f"blad '{spec.name}': kolumnen/kolumnerna {', '.join(missing)} saknas.")
    kind_col = header.get(norm_header(ROW_KIND))
    out = []
    for r0 in range(1, len(rows)):
        raw = rows[r0]
        if kind_col is not None and kind_col < len(raw) and clean(raw[kind_col]) == TOTAL_ROW:
            continue
        cells = {c.attr: _cell(raw, header[norm_header(c.header)]) for c in spec.columns}
        if all(v is None for v in cells.values()):
            continue
        values = {c.attr: _convert(cells[c.attr], c, file, spec.name, cell_ref(r0, header[norm_header(c.header)]))
                  for c in spec.columns}
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
    except TypeError as exc:  # a required column left empty
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
