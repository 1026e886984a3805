"""``xlplan flag``: the authoritative status of every indicator row, and a flag list.

Plan, then apply.  :func:`flag_book` is pure: from the plan and a read
department workbook (:class:`~xlplan.books.department.reader.DepartmentBook`) it computes,
for every indicator row (one row per series), the status by the rules of
``TARGETS.md`` (:func:`xlplan.core.status.evaluate`, with the committee's settings)
and the flags: target missed (Ej / Delvis uppfyllt), target missing, outcome
missing, qualitative target not assessed, second limit passed, outcome moved
the wrong way, and bad input in outcome cells (text, formula errors, values
outside the indicator's plausible range).  :func:`flag_workbook` writes the
result into the file: the status word into status cells that hold a value
(formula cells stay formulas — they are the live status — but their cached
result, when the file has one, must agree with Python's), unambiguous
numbers typed as text (``48,5``, ``50 %``) as numbers, and the flag list into
the area ``xlplan_flaggor`` on Översikt.  The file is written only when a
cell's content changes, so flagging twice leaves the file as it was.

Comparison values: direction targets (``Öka``, ``Minska``) compare with the
row's Jämförelsevärde cell (written by fill or pull, or typed by the
department), else the plan's baseline (Nuläge), exactly as the live status
formula does: both come from the one assessment (:mod:`xlplan.core.assess`).

The plan: ``--plan`` names it; without it the plan workbook whose Plan-id the
department workbook carries is looked for in the workbook's folder and the
folder above it; either is used when it is as new as the plan inside the
file, else the plan inside the file (:func:`xlplan.books.department.embedded.choose_plan`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from xlplan.books.department.columns import ECONOMY, INDICATORS, META, OVERVIEW, QUESTIONS
from xlplan.books.department.layout import FLAGS_AREA, included_indicators, indicator_row_id, outcome_format
from xlplan.books.department.reader import BookRow, BookSheet, DepartmentBook, read_department_workbook
from xlplan.core.assess import READER_CODES, assess, is_share, plausible_range, row_inputs
from xlplan.core.codes import Code
from xlplan.core.errors import (
    BadInput,
    Problem,
    Severity,
    WorkbookRefused,
    WorkbookUnreadable,
    XlplanError,
    file_problem,
)
from xlplan.core.model import Goal, Indicator, Plan
from xlplan.core.numbers import format_number
from xlplan.core.periods import Period, parse_period
from xlplan.core.rowids import ECONOMY_ROW, QUESTION_ROW, indicator_of, make_row_id
from xlplan.core.status import Status, StatusResult
from xlplan.io.resave import load_for_edit, save_edited

__all__ = [
    "Flag", "RowStatus", "FlagReport", "FlagOutcome", "FLAG_LABELS", "FLAG_LIST_HEADERS",
    "flag_book", "flag_workbook", "flag", "FlagOutcomes", "department_workbooks", "scan_department_workbooks",
    "read_metadata",
    "planned_changes", "flag_list_rows", "flags_area", "plausible_range", "is_share", "demo_step",
]

# The flags of an indicator row in the order the flag list shows them, with their labels (xlplan.core.codes).
FLAG_LABELS: dict[str, str] = {c.value: c.label for c in (
    Code.MAL_EJ_UPPFYLLT, Code.MAL_DELVIS_UPPFYLLT, Code.MALVARDE_SAKNAS, Code.UTFALL_SAKNAS,
    Code.UTFALL_UPPGIFT_SAKNAS, Code.BEDOMNING_SAKNAS,
    Code.BEDOMNING_OGILTIG, Code.JAMFORELSEVARDE_SAKNAS, Code.ANDRA_GRANSEN_PASSERAD, Code.FEL_RIKTNING,
    Code.INTE_TAL, Code.FORMELFEL, Code.UTFALL_ENHET, Code.UTFALL_ORIMLIGT, Code.ANDEL_SOM_BRAK,
    Code.UTFALL_OMRAKNAT, Code.UTFALL_AR, Code.UTFALL_PROCENTFORMAT, Code.JAMFORELSEVARDE_TEXT, Code.UTFALL_TEXT,
    Code.STATUS_AVVIKER, Code.PLANRAD_SAKNAS, Code.RAD_OKAND, Code.ANNAN_PLANVERSION, Code.SVAR_SAKNAS,
    Code.PROGNOS_SAKNAS, Code.EKONOMIKOMMENTAR_SAKNAS)}
FLAG_LIST_HEADERS = ("Indikator", "Förklaring", "Serie", "Flagga", "Status", "Cell")
_FLAG_LIST_WIDTHS = (34, 60, 16, 22, 16, 24)
NO_FLAGS = "Inga flaggor."


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Flag:
    """One thing the department or the committee should look at."""

    code: Code
    message: str  # Swedish, without the location (see :meth:`problem`)
    indicator_id: str | None = None
    series: str | None = None
    sheet: str | None = None
    cell: str | None = None
    severity: Severity = "varning"

    @property
    def label(self) -> str:
        return FLAG_LABELS.get(self.code, self.code)

    def problem(self, file: str | None) -> Problem:
        return Problem(self.code, self.message, file, self.sheet, self.cell, self.severity)


@dataclass(frozen=True)
class RowStatus:
    """The status of one indicator row (one series) as Python computes it."""

    row_id: str
    indicator_id: str
    series: str | None
    status: Status
    result: StatusResult
    outcome: float | None
    status_cell: str | None
    outcome_cell: str | None
    outcome_to_write: float | None = None  # a number typed as text (or as a percent-formatted fraction), to store
    explanation: str = ""  # Swedish, from the one assessment
    comment_to_write: str | None = None  # the comment with the outcome's text kept (note, year, unit)
    comment_cell: str | None = None
    outcome_format_to_write: str | None = None  # the layout's format for a cell that had a percent format


@dataclass(frozen=True)
class FlagReport:
    file: str
    department_id: str
    period: Period
    sheet: str  # the indicator sheet's name in the file
    rows: tuple[RowStatus, ...]
    flags: tuple[Flag, ...]
    indicator_names: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def flagged(self) -> bool:
        """Whether anything needs attention (information notes do not count)."""
        return any(f.severity != "info" for f in self.flags)

    def problems(self) -> list[Problem]:
        return [f.problem(self.file) for f in self.flags]

    def status_of(self, indicator_id: str, series: str | None = None) -> Status | None:
        for r in self.rows:
            if r.indicator_id == indicator_id and (r.series or None) == (series or None):
                return r.status
        return None


# ---------------------------------------------------------------- the pure part


@dataclass(frozen=True)
class _Ctx:
    plan: Plan
    book: DepartmentBook
    period: Period
    sheet: str
    formula_cells: frozenset[str] | None


def flag_book(plan: Plan, book: DepartmentBook, formula_cells: Iterable[str] | None = None) -> FlagReport:
    """Status and flags of every indicator row of a department workbook.

    ``formula_cells`` are the A1 addresses of status cells on the indicator
    sheet that hold a formula; their cached results (when the file has them)
    are checked against Python's status.  None: not checked.
    """
    period = _book_period(book)
    sheet = book.sheets.get(INDICATORS)
    actual = sheet.actual_name if sheet else INDICATORS
    ctx = _Ctx(plan, book, period, actual, frozenset(formula_cells) if formula_cells is not None else None)
    planned = {indicator_row_id(ind.id, s) for _, ind in included_indicators(plan, book.department_id or "", period)
               for s in ind.series_names()}
    flags: list[Flag] = list(_book_flags(ctx, planned))
    rows: list[RowStatus] = []
    for goal, ind in included_indicators(plan, book.department_id or "", period):
        for series in ind.series_names():
            row_id = indicator_row_id(ind.id, series)
            row = sheet.rows.get(row_id) if sheet else None
            if row is None:
                flags += _missing_row(ctx, ind, series, row_id)
                continue
            status, row_flags = _flag_row(ctx, goal, ind, series, row)
            rows.append(status)
            flags += row_flags
    flags += _unknown_rows(ctx, sheet, planned)
    flags += _unanswered(plan, book, period)
    flags += economy_flags(plan, book, period)
    names = {i.id: i.name for i in plan.indicators}
    return FlagReport(book.path.name, book.department_id or "", period, actual, tuple(rows),
                      tuple(_ordered(flags, sheet)), names)


def _book_period(book: DepartmentBook) -> Period:
    try:
        return parse_period(book.period or "")
    except BadInput as exc:
        raise WorkbookRefused(str(book.path), f"perioden i det dolda bladet {META} ('{book.period}') kan "
                              "inte läsas. Fyll filen på nytt med xlplan fill --update.") from exc


def _book_flags(ctx: _Ctx, planned: set[str]) -> list[Flag]:
    """The reader's problems, each tied to its indicator row where it has one."""
    rows_by_cell = _rows_by_cell(ctx.book.sheets.get(INDICATORS))
    out = []
    for p in ctx.book.problems:
        row = rows_by_cell.get(p.cell or "") if p.sheet == ctx.sheet else None
        if row is not None and p.code in READER_CODES and p.cell == row.cells.get("outcome") and \
                row.row_id in planned:
            continue  # the assessment reads the outcome cell and reports it
        ind, series = (indicator_of(row.row_id) or (None, None)) if row else (None, None)
        out.append(Flag(p.code, p.message, ind, series, p.sheet, p.cell, p.severity))
    version = ctx.book.metadata.get("plan_version")
    if version and version != ctx.plan.version:
        out.append(Flag(Code.ANNAN_PLANVERSION, f"Filen fylldes från planversion {version}, men planen har nu version "
                        f"{ctx.plan.version}. Statusen räknas med planens nuvarande målvärden; fyll filen på "
                        "nytt med xlplan fill --update så att formlerna följer med.", severity="varning"))
    return out


def _rows_by_cell(sheet: BookSheet | None) -> dict[str, BookRow]:
    if sheet is None:
        return {}
    return {cell: row for row in sheet.rows.values() for cell in row.cells.values()}


def _missing_row(ctx: _Ctx, ind: Indicator, series: str | None, row_id: str) -> list[Flag]:
    if row_id in ctx.book.expected_rows:
        return []  # the reader has already said so
    return [Flag(Code.PLANRAD_SAKNAS,
                 f"Indikatorn '{_name(ind, series)}' finns i planen men saknas i filen. Fyll filen "
                 "på nytt med xlplan fill --update.", ind.id, series, ctx.sheet)]


def _unanswered(plan: Plan, book: DepartmentBook, period: Period) -> list[Flag]:
    """A question of the period (bladet Frågor) without an answer (a missing row is the reader's rad_saknas)."""
    sheet = book.sheets.get(QUESTIONS)
    out = []
    for q in plan.questions_for(book.department_id or "", period.kind):
        row = sheet.rows.get(make_row_id(QUESTION_ROW, q.id)) if sheet else None
        if row is None or str(row.values.get("answer") or "").strip():
            continue
        text = " ".join(q.text.split())
        text = text if len(text) <= 80 else text[:79].rstrip() + "…"
        cell = row.cells.get("answer")
        out.append(Flag(Code.SVAR_SAKNAS, f"Frågan '{text}' har inget svar för {period.label}. Skriv svaret i cell "
                        f"{cell} på bladet {sheet.actual_name if sheet else QUESTIONS}.", None, None,
                        sheet.actual_name if sheet else QUESTIONS, cell))
    return out


def _unknown_rows(ctx: _Ctx, sheet: BookSheet | None, planned: set[str]) -> list[Flag]:
    if sheet is None:
        return []
    out = []
    for row_id, row in sheet.rows.items():
        if indicator_of(row_id) is not None and row_id not in planned:
            ind, series = indicator_of(row_id) or (None, None)
            out.append(Flag(Code.RAD_OKAND, f"Raden '{row_id}' hör inte till planens indikatorer för avdelningen och "
                            f"perioden; den får ingen status. Fyll filen på nytt med xlplan fill --update.",
                            ind, series, ctx.sheet, f"A{row.number}"))
    return out


def _ordered(flags: list[Flag], sheet: BookSheet | None) -> list[Flag]:
    order = {row.row_id: row.number for row in sheet.rows.values()} if sheet else {}
    codes = list(FLAG_LABELS)

    def key(f: Flag) -> tuple[int, int, int, str]:
        number = order.get(indicator_row_id(f.indicator_id, f.series), 0) if f.indicator_id else 0
        general = 0 if f.indicator_id is None else 1
        rank = codes.index(f.code) if f.code in codes else len(codes)
        return (general, number, rank, f.cell or "")

    return sorted(flags, key=key)


def economy_flags(plan: Plan, book: DepartmentBook, period: Period) -> list[Flag]:
    """Ekonomi: a budget line without a full-year forecast, and a forecast whose deviation from the
    budget passes the plan's *Kommentarsgräns ekonomi (tkr)* without a comment.

    Only a plan that follows up its economy (a *Huvudbok fil* or a *Kommentarsgräns ekonomi*) asks for
    forecasts; a plan that only carries its budget flags nothing here.
    """
    sheet = book.sheets.get(ECONOMY)
    s = plan.settings
    if sheet is None or book.department_id is None or (s.ledger is None and s.economy_comment_threshold is None):
        return []
    limit = plan.settings.economy_comment_threshold
    out = []
    for line in plan.budget_for(book.department_id, period.year):
        row = sheet.rows.get(make_row_id(ECONOMY_ROW, line.item))
        if row is None or "forecast" not in row.cells:
            continue
        forecast = row.values.get("forecast")
        if row.raw.get("forecast") is None and "forecast" not in row.formulas:
            out.append(Flag(Code.PROGNOS_SAKNAS, f"Ekonomi, {line.item}: skriv helårsprognosen i tkr (budget "
                            f"{format_number(line.budget, 0)} tkr).", sheet=sheet.actual_name,
                            cell=row.cells["forecast"]))
            continue
        if not isinstance(forecast, (int, float)) or not _is_number(forecast) or limit is None:
            continue
        deviation = float(forecast) - line.budget
        if abs(deviation) > limit and row.raw.get("comment") is None and "comment" in row.cells:
            out.append(Flag(Code.EKONOMIKOMMENTAR_SAKNAS, f"Ekonomi, {line.item}: avvikelsen "
                            f"{format_number(deviation, 0)} tkr är större än planens gräns {format_number(limit, 0)} "
                            "tkr; förklara den i kommentaren.", sheet=sheet.actual_name, cell=row.cells["comment"]))
    return out


# ---------------------------------------------------------------- one row


def _flag_row(ctx: _Ctx, goal: Goal | None, ind: Indicator, series: str | None,
              row: BookRow) -> tuple[RowStatus, list[Flag]]:
    """The row's status and flags from the one assessment (:func:`xlplan.core.assess.assess`)."""
    outcome_cell = row.cells.get("outcome")
    error = next((p.message for p in _book_flags_for(ctx, row) if p.code == "formelfel" and p.cell == outcome_cell),
                 None)
    inputs = row_inputs(ind, goal, ctx.period.year, series, row.raw, settings=ctx.plan.settings.status_settings,
                        period_label=ctx.period.label, outcome_format=row.formats.get("outcome"),
                        outcome_error=error, cells=row.cells)
    a = assess(inputs)
    reading = a.reading
    readable = reading.value is not None and not a.bad_input and not error
    # The live formula reads numbers only: a number typed as text (or a percent-formatted fraction) is
    # stored as the number; any note, year or unit typed with it is kept in the comment.
    to_write = reading.value if readable and (reading.as_text or reading.percent_format) else None
    comment, fmt = None, None
    if to_write is not None and reading.as_text and not reading.plain:
        comment = _kept_text(row.raw.get("comment"), f"Utfallet skrevs som '{str(reading.raw).strip()}'.")
    if to_write is not None and reading.percent_format:
        fmt = outcome_format(ind.unit)
    flags = [Flag(f.code, f.message, ind.id, series, ctx.sheet, row.cells.get(f.cell), f.severity) for f in a.flags]
    if to_write is not None and reading.as_text:
        kept = "; texten sparades i kommentaren" if comment is not None else ""
        flags.insert(0, Flag(Code.UTFALL_TEXT, f"'{reading.raw}' var skrivet som text och lästes som talet "
                             f"{format_number(to_write)}; det sparades som tal{kept}.", ind.id, series, ctx.sheet,
                             outcome_cell, "info"))
    status = RowStatus(row.row_id, ind.id, series, a.status, a.result, a.outcome, row.cells.get("status"),
                       outcome_cell, to_write, a.explanation, comment, row.cells.get("comment"), fmt)
    flags += _formula_check(ctx, ind, series, row, status)
    return status, flags


def _kept_text(old: Any, note: str) -> str | None:
    """The comment with *note* added (None: it is there already)."""
    text = "" if old is None else str(old).strip()
    if note in text:
        return None
    return f"{text} {note}".strip()


def _book_flags_for(ctx: _Ctx, row: BookRow) -> list[Problem]:
    cells = set(row.cells.values())
    return [p for p in ctx.book.problems if p.sheet == ctx.sheet and p.cell in cells]


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _formula_check(ctx: _Ctx, ind: Indicator, series: str | None, row: BookRow, status: RowStatus) -> list[Flag]:
    """A formula's cached result must say what Python says."""
    cell = status.status_cell
    if ctx.formula_cells is None or cell is None or cell not in ctx.formula_cells:
        return []
    cached = row.raw.get("status")
    if cached is None or status.outcome_to_write is not None:
        return []
    if isinstance(cached, str) and cached.strip() == status.status.label:
        return []
    return [Flag(Code.STATUS_AVVIKER, f"Statusformeln visar '{cached}', men enligt planens regler är statusen "
                 f"'{status.status.label}'. Fyll filen på nytt med xlplan fill --update.", ind.id, series,
                 ctx.sheet, cell, "fel")]


def _name(ind: Indicator, series: str | None) -> str:
    return f"{ind.name} – {series}" if series else ind.name


# ---------------------------------------------------------------- the file


@dataclass(frozen=True)
class FlagOutcome:
    path: Path
    report: FlagReport
    written: bool  # False: every cell already held what flag would write
    changed_cells: int
    plan_note: str = ""  # which plan was used (xlplan.books.department.embedded.choose_plan)

    def lines(self) -> list[str]:
        r = self.report
        n = sum(1 for f in r.flags if f.severity != "info")
        state = f"{self.changed_cells} celler ändrade" if self.written else "oförändrad"
        head = (f"{self.path.name}: {len(r.rows)} indikatorrader, "
                f"{n} {'flagga' if n == 1 else 'flaggor'} ({state})")
        return [head] + ([f"  {self.plan_note}"] if self.plan_note else []) + [f"  - {p}" for p in r.problems()]


def flag_workbook(path: str | Path, plan: Plan) -> FlagOutcome:
    """Flag one department workbook and write the result into it (only if a cell changes)."""
    path = Path(path)
    _refuse_open_file(path)
    book = read_department_workbook(path)
    _check_plan(book, plan)
    wb = load_for_edit(path)
    formulas = _formula_cells(wb, book)
    report = flag_book(plan, book, formulas)
    changes = planned_changes(wb, report)
    if changes:
        _apply(wb, report, changes)
        save_edited(wb, path)
    return FlagOutcome(path, report, bool(changes), len(changes))


def _refuse_open_file(path: Path) -> None:
    lock = path.with_name("~$" + path.name)
    if lock.exists():
        raise WorkbookRefused(str(path), f"filen är öppen i Excel (låsfilen {lock.name} finns). Stäng den och "
                              "försök igen.")


def _check_plan(book: DepartmentBook, plan: Plan) -> None:
    if book.plan_id != plan.id:
        raise WorkbookRefused(str(book.path), f"filen hör till planen '{book.plan_id}', inte till '{plan.id}'. "
                              "Ange rätt plan med --plan.")
    if not book.department_id or plan.department(book.department_id) is None:
        raise WorkbookRefused(str(book.path), f"avdelningen '{book.department_id}' finns inte i planen "
                              f"'{plan.id}'.")


def _formula_cells(wb: Any, book: DepartmentBook) -> frozenset[str]:
    sheet = book.sheets.get(INDICATORS)
    if sheet is None or sheet.actual_name not in wb.sheetnames:
        return frozenset()
    ws = wb[sheet.actual_name]
    cells = (row.cells.get("status") for row in sheet.rows.values())
    return frozenset(c for c in cells if c and _is_formula(ws[c]))


def _is_formula(cell: Any) -> bool:
    return cell.data_type == "f" or (isinstance(cell.value, str) and cell.value.startswith("="))


Change = tuple[str, str, Any]  # (sheet, A1, new value)


def planned_changes(wb: Any, report: FlagReport) -> list[Change]:
    """Every cell whose content flag would change (empty: the file already says it all)."""
    wanted: list[Change] = []
    if report.sheet in wb.sheetnames:
        ws = wb[report.sheet]
        for r in report.rows:
            if r.status_cell and not _is_formula(ws[r.status_cell]):
                wanted.append((report.sheet, r.status_cell, r.status.label))
            if r.outcome_cell and r.outcome_to_write is not None:
                wanted.append((report.sheet, r.outcome_cell, r.outcome_to_write))
            if r.comment_cell and r.comment_to_write is not None:
                wanted.append((report.sheet, r.comment_cell, r.comment_to_write))
    wanted += _flag_list_cells(wb, report)
    return [(s, c, v) for s, c, v in wanted if _differs(wb[s][c].value, v)]


def _differs(old: Any, new: Any) -> bool:
    old = None if old == "" else old
    if _is_number(old) and _is_number(new):
        return float(old) != float(new)
    if _is_number(old) != _is_number(new):
        return True
    return bool(old != new)


def flags_area(wb: Any) -> tuple[str, int, int] | None:
    """(sheet, first row, first column) of the flag list: the defined name, else the 'Flaggor' title."""
    from openpyxl.utils.cell import column_index_from_string, coordinate_from_string

    defined = wb.defined_names.get(FLAGS_AREA)
    if defined is not None:
        for sheet, ref in defined.destinations:
            if sheet in wb.sheetnames:
                letters, number = coordinate_from_string(ref.replace("$", "").split(":")[0])
                return sheet, number, column_index_from_string(letters)
    if OVERVIEW in wb.sheetnames:
        ws = wb[OVERVIEW]
        for row in ws.iter_rows():
            for cell in row:
                if cell.value == "Flaggor":
                    return OVERVIEW, cell.row + 1, cell.column
    return None


def flag_list_rows(report: FlagReport) -> list[tuple[Any, ...]]:
    """The rows of the flag list on Översikt: a header, then one row per flag.

    Information notes (a number typed as text and stored as a number) are
    left out: they describe this run's change, and the next run would not
    repeat them.
    """
    rows: list[tuple[Any, ...]] = [FLAG_LIST_HEADERS]
    # keyed as it is looked up: a flag's indicator id may be None (nothing found then)
    status: dict[tuple[str | None, str | None], str] = {
        (r.indicator_id, r.series): r.status.label for r in report.rows}
    listed = [f for f in report.flags if f.severity != "info"]
    for f in listed:
        name = report.indicator_names.get(f.indicator_id or "")
        ind = f"{f.indicator_id} {name}" if f.indicator_id and name else f.indicator_id
        where = f"{f.sheet}!{f.cell}" if f.sheet and f.cell else f.sheet
        rows.append((ind, f.message, f.series, f.label, status.get((f.indicator_id, f.series)), where))
    if not listed:
        rows.append((NO_FLAGS,) + (None,) * (len(FLAG_LIST_HEADERS) - 1))
    return rows


def _flag_list_cells(wb: Any, report: FlagReport) -> list[Change]:
    from openpyxl.utils.cell import get_column_letter

    area = flags_area(wb)
    if area is None:
        return []
    sheet, first, col = area
    ws = wb[sheet]
    rows = flag_list_rows(report)
    last = max(ws.max_row, first + len(rows) - 1)
    out: list[Change] = []
    for i in range(last - first + 1):
        values = rows[i] if i < len(rows) else (None,) * len(FLAG_LIST_HEADERS)
        for j, v in enumerate(values):
            out.append((sheet, f"{get_column_letter(col + j)}{first + i}", v))
    return out


def _apply(wb: Any, report: FlagReport, changes: Sequence[Change]) -> None:
    for sheet, cell, value in changes:
        target = wb[sheet][cell]
        target.value = value
        if isinstance(value, str) and value.startswith("="):
            target.data_type = "s"
    for r in report.rows:
        if r.outcome_cell and r.outcome_format_to_write and report.sheet in wb.sheetnames:
            wb[report.sheet][r.outcome_cell].number_format = r.outcome_format_to_write
    _style_flag_list(wb, report)


def _style_flag_list(wb: Any, report: FlagReport) -> None:
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils.cell import get_column_letter

    from xlplan.books.spec import BORDER_COLOUR, SECTION_FILL

    area = flags_area(wb)
    if area is None:
        return
    sheet, first, col = area
    ws = wb[sheet]
    n = len(flag_list_rows(report))
    thin = Side(style="thin", color=BORDER_COLOUR)
    for j, width in enumerate(_FLAG_LIST_WIDTHS):
        dim = ws.column_dimensions[get_column_letter(col + j)]
        dim.width = max(dim.width or 0, width)
    for i in range(first, max(ws.max_row, first + n - 1) + 1):
        for j in range(col, col + len(FLAG_LIST_HEADERS)):
            cell = ws.cell(i, j)
            inside = i < first + n
            cell.font = Font(bold=(i == first))
            cell.fill = PatternFill("solid", fgColor=SECTION_FILL) if i == first else PatternFill()
            cell.border = Border(left=thin, right=thin, top=thin, bottom=thin) if inside else Border()
            cell.alignment = Alignment(wrap_text=inside, vertical="top")


# ---------------------------------------------------------------- folders and the plan


class FlagOutcomes(list[FlagOutcome]):
    """The outcome of each file flagged (a list of :class:`FlagOutcome`), and ``problems``: the
    files of the folder that were skipped, each named with why (one file never stops the others)."""

    def __init__(self, outcomes: Iterable[FlagOutcome] = (), problems: Iterable[Problem] = ()) -> None:
        super().__init__(outcomes)
        self.problems: list[Problem] = list(problems)

    def lines(self) -> list[str]:
        out = [line for o in self for line in o.lines()]
        return out + [f"Hoppades över: {p}" if p.severity == "fel" else str(p) for p in self.problems]


def department_workbooks(folder: Path) -> list[Path]:
    """The department workbooks in a folder (files with the hidden sheet _xlplan and a department)."""
    return list(scan_department_workbooks(folder)[0])


def scan_department_workbooks(folder: Path) -> tuple[dict[Path, dict[str, str]], list[Problem]]:
    """The folder's department workbooks (path -> hidden metadata), by content, whatever their
    names, and a problem for each other workbook: an unreadable (truncated, damaged) one is an
    error, a workbook that is not a department file is noted."""
    out: dict[Path, dict[str, str]] = {}
    problems: list[Problem] = []
    for p in sorted(Path(folder).iterdir()):
        if p.suffix.casefold() not in (".xlsx", ".xlsm") or p.name.startswith(("~$", ".")) or not p.is_file():
            continue
        try:
            meta = read_metadata(p)
        except WorkbookUnreadable as exc:
            problems.append(file_problem(p, exc))
            continue
        if meta is None or not meta.get("department_id"):
            problems.append(Problem(Code.ANNAN_ARBETSBOK, "Ingen avdelningsfil från xlplan (det dolda bladet "
                                    f"{META} saknas eller anger ingen avdelning).", p.name,
                                    action="filen hoppades över"))
            continue
        out[p] = meta
    return out, problems


def read_metadata(path: Path) -> dict[str, str] | None:
    """A workbook's hidden metadata (plan_id, department_id, period …), None without the sheet
    _xlplan; raises WorkbookUnreadable for a file that is not a readable workbook."""
    from xlplan.books.department.reader import read_meta
    from xlplan.io.tables import open_workbook, read_sheet_rows

    wb = open_workbook(path)
    if META not in wb.sheet_names:
        return None
    return read_meta(read_sheet_rows(wb, path, META))[0]


def flag(target: str | Path, plan_path: str | Path | None = None) -> FlagOutcomes:
    """Flag a department workbook, or every department workbook in a folder.

    Each file's plan is chosen by :func:`xlplan.books.department.embedded.choose_plan` (a plan given or found nearby
    when it is as new as the one the file carries, else the one inside the file). For a folder, a
    file that cannot be flagged (open, read-only, unreadable, of another plan or of a department no
    longer in the plan) is noted in ``problems`` and the others are flagged; only when none could
    be, the first file's error is raised.
    """
    from xlplan.books.department.embedded import choose_plan

    target = Path(target)
    if not target.exists():
        raise BadInput(f"{target} finns inte.")
    folder = target.is_dir()
    metas, skipped = scan_department_workbooks(target) if folder else ({}, [])
    books = list(metas) if folder else [target]
    if not books:
        why = "".join(f"\n  - {p}" for p in skipped if p.severity == "fel")
        raise BadInput(f"Mappen {target} innehåller inga avdelningsfiler från xlplan som kan läsas.{why}")
    outcomes = FlagOutcomes(problems=skipped)
    first_error: BaseException | None = None
    cache: dict[object, object] = {}
    for path in books:
        try:
            meta = metas.get(path) or read_metadata(path) or {}
            choice = choose_plan(path, meta.get("plan_id") or "", meta.get("department_id") or "", path.parent,
                                 Path(plan_path) if plan_path is not None else None, cache=cache)
            outcomes.append(replace(flag_workbook(path, choice.plan), plan_note=choice.note))
        except (XlplanError, OSError) as exc:
            if not folder:
                raise
            first_error = first_error or exc
            outcomes.problems.append(file_problem(path, exc))
    if not outcomes and first_error is not None:
        raise first_error
    return outcomes


# ---------------------------------------------------------------- the demo


def demo_step(out: Path, echo: Any = print) -> list[FlagOutcome]:
    """``xlplan demo``: example outcomes where no source gave one, then flag every department file.

    Works on ``out/avdelningar/<plan>/`` (written by the fill step); the
    full flag lists go to ``out/flaggor-<plan>.txt``.
    """
    from xlplan.books.plan import read_plan
    from xlplan.example_values import type_example_forecasts, type_example_values
    from xlplan.examples import EXAMPLES, demo_plan_path

    results: list[FlagOutcome] = []
    for name in EXAMPLES:
        folder, plan_path = Path(out) / "avdelningar" / name, demo_plan_path(name, Path(out))
        if not folder.is_dir() or not plan_path.exists():
            continue
        plan = read_plan(plan_path)
        books = department_workbooks(folder)
        typed = sum(type_example_values(p, plan) for p in books)
        forecasts = sum(type_example_forecasts(p, plan) for p in books)
        outcomes = flag(folder, plan_path) if books else []
        report = Path(out) / f"flaggor-{name}.txt"
        report.write_text("\n".join(line for o in outcomes for line in o.lines()) + "\n", encoding="utf-8")
        echo(f"Flaggning i {folder}: {typed} exempelvärden inskrivna (märkta 'Exempelvärde (demo)'); "
             f"flagglistor i {report}:")
        echo("\n".join(o.lines()[0] for o in outcomes))
        if forecasts:
            echo(f"Ekonomi i {folder}: {forecasts} helårsprognoser inskrivna (exempel, märkta i kommentaren där "
                 "avvikelsen kräver en: utfallet hittills uppräknat till helår).")
        results += outcomes
    return results
