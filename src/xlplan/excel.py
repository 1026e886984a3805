"""The Python behind the ribbon buttons of the follow-up workbooks (tab *Uppföljning*).

Each button's VBA macro runs ``RunPython "import xlplan.excel as x; x.<fn>()"``.
Every function here is thin: it takes ``xw.Book.caller()``, reads what it
needs from the open book, calls the same library functions as the command
line, writes the result back into the open book and ends with a short Swedish
message (``app.alert``).

* Department workbook buttons — :func:`pull`, :func:`flag`, :func:`submit` —
  work on the calling department workbook as it is open now (unsaved edits
  included): its sheets are read as grids through xlwings ranges, one read
  per sheet (:class:`BookGrids`), and parsed by the same parser as a file
  (:func:`xlplan.books.department.reader.parse_department_grids`); no copy of the book is
  written.  The library works out the changes, and they are written into the
  open book through xlwings.  Python never saves the file; the user does.
* Controller buttons — :func:`fill`, :func:`consolidate`, :func:`export` —
  read the plan from the plan sheets of the calling workbook and the settings
  from the named cells on its sheet *Val* (:data:`xlplan.books.controller.SETTINGS`),
  and work on folders; they report counts.
* :func:`about` says which xlplan, plan and Python are in use.

At run time only values, number formats and fills are written (all that
xlwings Server's VBA client can execute, too): sheets are formatted when the
workbook is built or filled.  Department sheets are protected; on desktop
Excel for Windows the sheets written to are unprotected for the write and
protected again (:func:`unprotected`).
"""

from __future__ import annotations

import datetime as dt
import functools
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from xlplan.actions.workflow import BLOCKING_CODES, READY, submission_blockers  # noqa: F401 - part of this module's surface
from xlplan.core.errors import KOLADA_DOWN, BadInput, Problem, XlplanError, log_exception, report_unexpected
from xlplan.core.naming import CONTROLLER_WORKBOOK
from xlplan.core.status import SEVERITY_COLOURS, Status

if TYPE_CHECKING:
    import xlwings as xw

    from xlplan.actions.flag import FlagReport
    from xlplan.actions.pull import PullResult
    from xlplan.books.department.embedded import PlanChoice
    from xlplan.books.department.reader import DepartmentBook
    from xlplan.core.model import Plan

__all__ = [
    "pull", "flag", "submit", "fill", "consolidate", "export", "about", "approve", "send_back",
    "Write", "BookGrids", "BLOCKING_CODES", "unprotected", "submission_blockers",
]

TITLE = "xlplan"
PLAN_ENV = "XLPLAN_PLAN"
KOLADA_ENV = "XLPLAN_KOLADA_URL"
MAX_MESSAGE = 900  # Excel's MsgBox shows about 1,024 characters
FLAG_ROW_COLOURS = {severity: c.hex() for severity, c in SEVERITY_COLOURS.items()}  # xlwings takes '#RRGGBB'
F = TypeVar("F", bound=Callable[..., None])


# ---------------------------------------------------------------- the open book


@dataclass(frozen=True)
class Write:
    """One write into the open book: ``sheet.range(address).<kind> = value``.

    kind: "values" (a 2-D list), "color" ("#RRGGBB"), "number_format" or "clear_formats".
    """

    sheet: str
    address: str
    kind: str
    value: Any = None


def apply(book: "xw.Book", writes: Iterable[Write]) -> int:
    """Carry out *writes*; return how many there were."""
    n = 0
    for w in writes:
        rng = book.sheets[w.sheet].range(w.address)
        if w.kind == "values":
            rng.value = w.value
        elif w.kind == "color":
            rng.color = w.value
        elif w.kind == "clear_formats":
            rng.clear_formats()
        elif w.kind == "number_format":
            rng.number_format = w.value
        else:
            raise ValueError(f"unknown write {w.kind!r}")
        n += 1
    return n


def text(value: Any) -> Any:
    """A value as assigned through ``Range.Value`` so that text stays text."""
    from xlplan.io.backends.xlwings_backend import excel_text

    return excel_text(value) if isinstance(value, str) else value


def sheet_values(sheet: "xw.Sheet") -> list[list[Any]]:
    """A sheet's values from A1 to the end of its used range; errors as '#DIV/0!' text."""
    last = sheet.used_range.last_cell
    if last.row == 1 and last.column == 1 and sheet.range("A1").value is None:
        return []
    rng = sheet.range((1, 1), (last.row, last.column))
    if _engine(sheet.book) == "remote":
        # The remote engine turns any ISO-like text into a date and fails on an offset
        # ("…+00:00", as in _xlplan's generated_at): read what the client sent instead.
        return [[_wire_value(v) for v in row] for row in rng.raw_value]
    return rng.options(ndim=2, err_to_str=True).value


_WIRE_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def _wire_value(value: Any) -> Any:
    """A value as xlwings Server's VBA client sends it: dates as ISO text ending in Z."""
    if isinstance(value, str) and _WIRE_DATE.match(value):
        return dt.datetime.fromisoformat(value[:-1])
    return None if value == "" else value


def _engine(book: "xw.Book") -> str:
    return str(getattr(book.app.engine, "name", ""))


# What a cell showing an error reads as (``err_to_str``); the grids hold these as errors, not text.
EXCEL_ERRORS = frozenset(("#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
                          "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"))


class BookGrids:
    """The open book's sheets as grids (:class:`xlplan.books.department.reader.Grids`): read through xlwings, no file.

    Each sheet is read once, with one range read from A1 to the end of its
    used range (:func:`sheet_values`), into calamine's shape: ``''`` for an
    empty cell, a cell showing an error as ``''`` with the error in
    :meth:`errors`.  xlwings gives numbers as float and date cells as
    datetime, as calamine does.  Formulas are not read: an open book's values
    are calculated already.  Number formats are asked cell by cell, only for
    the cells a parser names (the outcome cells holding numbers); an engine
    that cannot tell them (xlwings Server) gives none.
    """

    def __init__(self, book: "xw.Book"):
        self.book = book
        self.path = book_path(book) or Path(Path(book.name).name or "arbetsbok.xlsx")
        self.sheet_names: list[str] = [s.name for s in book.sheets]
        self._rows: dict[str, list[list[Any]]] = {}
        self._errors: dict[str, dict[str, str]] = {}
        self.reads = 0  # range reads made (one per sheet read)

    def rows(self, sheet: str) -> list[list[Any]]:
        if sheet not in self._rows:
            self._rows[sheet], self._errors[sheet] = grid_from_values(sheet_values(self.book.sheets[sheet]))
            self.reads += 1
        return self._rows[sheet]

    def errors(self, sheet: str) -> dict[str, str]:
        self.rows(sheet)
        return self._errors[sheet]

    def formulas(self, sheet: str) -> dict[str, str]:
        return {}

    def number_formats(self, sheet: str, cells: set[str]) -> dict[str, str]:
        if _engine(self.book) == "remote":  # xlwings Server sends values only
            return {}
        out = {}
        rng = self.book.sheets[sheet]
        for cell in sorted(cells):
            code = rng.range(cell).number_format
            if isinstance(code, str) and code and code != "General":
                out[cell] = code
        return out


def grid_from_values(values: Sequence[Sequence[Any]]) -> tuple[list[list[Any]], dict[str, str]]:
    """xlwings values in calamine's shape (equally long rows, ``''`` for empty, every number a float: xlwings
    Server sends whole numbers as int), and the error cells by A1."""
    from xlplan.io.tables import cell_ref

    width = max((len(r) for r in values), default=0)
    grid: list[list[Any]] = []
    errors: dict[str, str] = {}
    for r, row in enumerate(values):
        out = []
        for c, value in enumerate([*row, *[None] * (width - len(row))]):
            if isinstance(value, str) and value in EXCEL_ERRORS:
                errors[cell_ref(r, c)] = value
                value = None
            elif isinstance(value, int) and not isinstance(value, bool):
                value = float(value)
            out.append("" if value is None else value)
        grid.append(out)
    return grid, errors


def book_path(book: "xw.Book") -> Path | None:
    """The file of the open book (a relative name is taken from the working folder); None for a URL."""
    full = book.fullname
    if "://" in full:
        return None
    path = Path(full)
    return path if path.is_absolute() else Path.cwd() / path


def book_folder(book: "xw.Book") -> Path:
    path = book_path(book)
    if path is None:
        raise BadInput(f"{book.name} är öppnad från en webbadress (OneDrive/SharePoint), så dess mapp är okänd. "
                       "Öppna filen från en synkroniserad mapp, eller ange fullständiga sökvägar på bladet Val "
                       f"(i en avdelningsfil: planens sökväg i miljövariabeln {PLAN_ENV}).")
    return path.parent


def setting(book: "xw.Book", key: str) -> str:
    """The value of a setting on Val, by its key in :data:`~xlplan.books.controller.SETTINGS` ('' if empty)."""
    from xlplan.books.controller import SETTINGS

    (s,) = [s for s in SETTINGS if s.key == key]
    try:
        value = book.names[s.name].refers_to_range.value
    except (KeyError, AttributeError, TypeError, ValueError) as exc:
        raise BadInput(f"{book.name}: namnet '{s.name}' ({s.label} på bladet Val) saknas. Bygg arbetsboken på "
                       "nytt med xlplan build-workbook eller lägg till namnet.") from exc
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def setting_path(book: "xw.Book", key: str) -> Path:
    """A path setting on Val; a relative path is taken from the workbook's folder."""
    from xlplan.books.controller import SETTINGS

    value = setting(book, key)
    if not value:
        (s,) = [s for s in SETTINGS if s.key == key]
        raise BadInput(f"{book.name}: fyll i '{s.label}' på bladet Val.")
    path = Path(os.path.expandvars(os.path.expanduser(value)))
    return path if path.is_absolute() else book_folder(book) / path


@contextmanager
def unprotected(book: "xw.Book", sheets: Iterable[str], password: str | None) -> Iterator[None]:
    """Unprotect *sheets* for the writes and protect them again, on desktop Excel for Windows.

    Elsewhere (xlwings Server's client, macOS) nothing is done: there the
    macro that calls Python must unprotect the sheets.
    """
    api_sheets: list[Any] = []  # COM Worksheet objects
    if _engine(book) == "excel" and sys.platform.startswith("win"):
        for name in dict.fromkeys(sheets):
            api = book.sheets[name].api
            if api.ProtectContents:
                api.Unprotect(password or "")
                api_sheets.append(api)
    try:
        yield
    finally:
        for api in api_sheets:
            # Password, DrawingObjects, Contents, Scenarios, UserInterfaceOnly, AllowFormattingCells,
            # AllowFormattingColumns, AllowFormattingRows: as the openpyxl backend protects them
            # (cell contents only; column widths and row heights may be changed).
            api.Protect(password or "", False, True, False, False, False, True, True)


def alert(book: "xw.Book", lines: Sequence[str], title: str, critical: bool = False) -> None:
    """Show *lines* in a message box, shortened to what a message box shows."""
    out: list[str] = []
    size = 0
    for i, line in enumerate(lines):
        if size + len(line) > MAX_MESSAGE:
            out.append(f"… och {len(lines) - i} rader till.")
            break
        out.append(line)
        size += len(line) + 1
    book.app.alert("\n".join(out), title=f"{TITLE} – {title}", mode="critical" if critical else "info")


def button(title: str) -> Callable[[F], F]:
    """Run a button function: library errors end in a Swedish message box, not a traceback."""
    def wrap(func: F) -> F:
        @functools.wraps(func)
        def run(*args: Any, **kwargs: Any) -> None:
            import xlwings as xw

            try:
                func(*args, **kwargs)
            except XlplanError as exc:
                alert(xw.Book.caller(), ["Det gick inte:"] + str(exc).splitlines(), title, critical=True)
            except OSError as exc:  # a locked, missing or read-only file or folder
                where = f"{exc.filename}: " if exc.filename else ""
                alert(xw.Book.caller(), ["Det gick inte:", f"{where}{exc.strerror or exc}",
                                         "Stäng filen om den är öppen, och kontrollera mappen på bladet Val."],
                      title, critical=True)
            except Exception as exc:  # noqa: BLE001 - never a traceback: a Swedish message naming the book, the log
                try:
                    book = xw.Book.caller()
                    name = book.fullname
                except Exception:  # noqa: BLE001 - not even the calling book: log and give up quietly
                    log_exception(exc, f"Knappen '{title}'")
                    return
                alert(book, report_unexpected(exc, f"Knappen '{title}'", name).splitlines(), title, critical=True)
        return run  # type: ignore[return-value]
    return wrap


def caller() -> "xw.Book":
    import xlwings as xw

    return xw.Book.caller()


# ---------------------------------------------------------------- department workbooks


@dataclass
class DepartmentContext:
    """A department workbook open in Excel, read by the library, with its plan."""

    book: "xw.Book"
    dbook: "DepartmentBook"
    plan: "Plan"
    plan_path: Path | None  # None: the plan inside the department workbook
    folder: Path | None = None  # where the plan's file sources are looked for
    plan_note: str = ""  # which plan is used, and why (xlplan.books.department.embedded.choose_plan)

    @property
    def password(self) -> str | None:
        return self.plan.settings.sheet_password


@contextmanager
def department(book: "xw.Book") -> Iterator[DepartmentContext]:
    from xlplan.actions.workflow import refuse_if_approved
    from xlplan.books.department.embedded import SHEET as EMBEDDED_SHEET
    from xlplan.books.department.reader import parse_department_grids

    grids = BookGrids(book)
    dbook = parse_department_grids(grids)
    if not dbook.department_id or not dbook.period:
        raise BadInput(f"{book.name}: avdelning eller period saknas i det dolda bladet _xlplan. Knappen "
                       "fungerar bara i en avdelningsfil från xlplan.")
    refuse_if_approved(dbook)
    inside = grids.rows(EMBEDDED_SHEET) if EMBEDDED_SHEET in grids.sheet_names else []
    choice = find_department_plan(book, dbook, inside)
    yield DepartmentContext(book, dbook, choice.plan, choice.path, choice.folder, choice.note)


def find_department_plan(book: "xw.Book", dbook: "DepartmentBook",
                         embedded_rows: list[list[Any]] | None = None) -> "PlanChoice":
    """The plan of the open department workbook: ``$XLPLAN_PLAN`` or a plan or controller workbook with
    its Plan-id in the workbook's folder or the folder above, when as new as the plan inside the
    workbook; else the plan inside it (:func:`xlplan.books.department.embedded.choose_plan`)."""
    from xlplan.books.department.embedded import choose_plan

    given = os.environ.get(PLAN_ENV)
    path = Path(given).expanduser() if given else None
    if path is not None and not path.is_file():
        raise BadInput(f"Planen {path} (miljövariabeln {PLAN_ENV}) finns inte.")
    own = book_path(book)
    return choose_plan(own or dbook.path, dbook.plan_id or "", dbook.department_id or "",
                       own.parent if own is not None else None, path, embedded_from=dbook.path,
                       embedded_rows=embedded_rows,
                       hint=f"Lägg nämndens arbetsbok ({CONTROLLER_WORKBOOK}) eller planens arbetsbok där, eller ange "
                            f"planens sökväg i miljövariabeln {PLAN_ENV}.")


def status_formula_cells(ctx: DepartmentContext) -> frozenset[str]:
    """Status cells that hold the live status formula: as in the file, else as fill makes them."""
    from xlplan.books.department.columns import INDICATORS
    from xlplan.books.spec import Formula

    sheet = ctx.dbook.sheets.get(INDICATORS)
    if sheet is None:
        return frozenset()
    path = book_path(ctx.book)
    if path is not None and path.is_file():
        from openpyxl import load_workbook

        wb = load_workbook(path, read_only=True)
        try:
            if sheet.actual_name in wb.sheetnames:
                ws = wb[sheet.actual_name]
                cells = [row.cells.get("status") for row in sheet.rows.values()]
                return frozenset(c for c in cells if c and _is_formula(ws[c].value))
        finally:
            wb.close()
    from xlplan.books.department.layout import department_workbook
    from xlplan.core.periods import parse_period

    dep = ctx.plan.department(ctx.dbook.department_id or "")
    spec = department_workbook(ctx.plan, dep, parse_period(ctx.dbook.period or ""), "")  # type: ignore[arg-type]
    with_formula = {r.row_id for r in spec.sheet(INDICATORS).rows if isinstance(r.values.get("status"), Formula)}
    return frozenset(c for rid, row in sheet.rows.items() if rid in with_formula
                     and (c := row.cells.get("status")) is not None)


def _is_formula(value: Any) -> bool:
    return isinstance(value, str) and value.startswith("=")


def flag_report(ctx: DepartmentContext) -> tuple["FlagReport", frozenset[str]]:
    """The library's flag report of the open workbook, and its status cells holding formulas."""
    from xlplan.actions.flag import flag_book

    formula_cells = status_formula_cells(ctx)
    return flag_book(ctx.plan, ctx.dbook, formula_cells), formula_cells


def flag_writes(book: "xw.Book", report: "FlagReport", formula_cells: frozenset[str]) -> list[Write]:
    """Status words (where no formula gives them), numbers typed as text, and the flag list."""
    from xlplan.books.spec import SECTION_FILL

    out: list[Write] = []
    for r in report.rows:
        if r.status_cell and r.status_cell not in formula_cells:
            out.append(Write(report.sheet, r.status_cell, "values", [[text(r.status.label)]]))
        if r.outcome_cell and r.outcome_to_write is not None:
            out.append(Write(report.sheet, r.outcome_cell, "values", [[r.outcome_to_write]]))
        if r.outcome_cell and r.outcome_format_to_write:  # a percent-formatted fraction stored as percent
            out.append(Write(report.sheet, r.outcome_cell, "number_format", r.outcome_format_to_write))
        if r.comment_cell and r.comment_to_write is not None:  # the outcome's typed text, kept
            out.append(Write(report.sheet, r.comment_cell, "values", [[text(r.comment_to_write)]]))
    area = flags_area(book)
    if area is None:
        return out
    from xlplan.actions.flag import FLAG_LIST_HEADERS, flag_list_rows

    sheet, first, col = area
    rows = [list(r) for r in flag_list_rows(report)]
    width = len(FLAG_LIST_HEADERS)
    old_last = _last_used_row(book.sheets[sheet], first, col, width)
    last = max(old_last, first + len(rows) - 1)
    rows += [[None] * width for _ in range(last - first + 1 - len(rows))]
    out.append(Write(sheet, _a1(first, col, last, col + width - 1), "values",
                     [[text(v) for v in row] for row in rows]))
    out.append(Write(sheet, _a1(first, col, last, col + width - 1), "clear_formats"))
    out.append(Write(sheet, _a1(first, col, first, col + width - 1), "color", "#" + SECTION_FILL))
    severity = _severity_by_row(report)
    label_at, cell_at = FLAG_LIST_HEADERS.index("Flagga"), FLAG_LIST_HEADERS.index("Cell")
    for i, row in enumerate(flag_list_rows(report)[1:], start=first + 1):
        colour = FLAG_ROW_COLOURS.get(severity.get((row[label_at], row[cell_at]), ""))
        if colour:
            out.append(Write(sheet, _a1(i, col, i, col + width - 1), "color", colour))
    return out


def _severity_by_row(report: "FlagReport") -> dict[tuple[Any, Any], str]:
    """(label, 'Sheet!A1') of a flag-list row -> the flag's severity (the worst, if several)."""
    rank = {"info": 0, "varning": 1, "fel": 2}
    out: dict[tuple[Any, Any], str] = {}
    for f in report.flags:
        key = (f.label, f"{f.sheet}!{f.cell}" if f.sheet and f.cell else f.sheet)
        if rank.get(f.severity, 0) >= rank.get(out.get(key, "info"), 0):
            out[key] = f.severity
    return out


def flags_area(book: "xw.Book") -> tuple[str, int, int] | None:
    """(sheet, first row, first column) of the flag list, by its workbook name."""
    from xlplan.books.department.layout import FLAGS_AREA

    try:
        rng = book.names[FLAGS_AREA].refers_to_range
    except (KeyError, AttributeError, TypeError, ValueError):
        return None
    return rng.sheet.name, rng.row, rng.column


def _last_used_row(sheet: "xw.Sheet", first: int, col: int, width: int) -> int:
    values = sheet_values(sheet)
    for r in range(len(values), first - 1, -1):
        row = values[r - 1][col - 1:col - 1 + width]
        if any(v not in (None, "") for v in row):
            return r
    return first


def _a1(r0: int, c0: int, r1: int, c1: int) -> str:
    from xlplan.core.cells import column_letter

    first = f"{column_letter(c0)}{r0}"
    return first if (r0, c0) == (r1, c1) else f"{first}:{column_letter(c1)}{r1}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def flag_summary(report: "FlagReport") -> list[str]:
    from collections import Counter

    statuses = Counter(r.status.label for r in report.rows)
    shown = [f for f in report.flags if f.severity != "info"]
    lines = [f"{_count(len(report.rows), 'indikatorrad', 'indikatorrader')}: "
             + ", ".join(f"{n} {word[:1].lower()}{word[1:]}" for word, n in statuses.most_common()) + "."]
    if not shown:
        lines.append("Inga flaggor.")
    else:
        lines.append(f"{_count(len(shown), 'flagga', 'flaggor')} (se Flaggor på bladet Översikt):")
        lines += [f"– {_where(f.problem(report.file))}{f.label}" for f in shown]
    return lines


@button("Flagga avvikelser")
def flag() -> None:
    """Status of every indicator row and the flag list on Översikt, written into the open book."""
    book = caller()
    with department(book) as ctx:
        report, formula_cells = flag_report(ctx)
        writes = flag_writes(book, report, formula_cells)
        with unprotected(book, {w.sheet for w in writes}, ctx.password):
            apply(book, writes)
    alert(book, flag_summary(report) + [ctx.plan_note], "Flagga avvikelser")


@button("Kontrollera och lämna in")
def submit() -> None:
    """Check the department workbook; mark it 'klar för granskning' only when nothing blocks."""
    from xlplan.books.department.columns import OVERVIEW, SUBMISSION_ROW_ID

    book = caller()
    with department(book) as ctx:
        report, formula_cells = flag_report(ctx)
        blockers = submission_blockers(ctx.dbook, report)
        writes = flag_writes(book, report, formula_cells)
        cell = ctx.dbook.address(OVERVIEW, SUBMISSION_ROW_ID, "value")
        sheet = ctx.dbook.actual_sheet_name(OVERVIEW)
        if not blockers:
            if cell is None or sheet is None:
                raise BadInput(f"{book.name}: cellen Inlämningsstatus på bladet {OVERVIEW} hittas inte. "
                               "Fyll filen på nytt med xlplan fill --update.")
            writes.append(Write(sheet, cell, "values", [[READY]]))
            writes += history_writes(book, ctx.dbook, READY)
        with unprotected(book, {w.sheet for w in writes}, ctx.password):
            apply(book, writes)
    if blockers:
        lines = [f"Filen kan inte lämnas in ännu: {_count(len(blockers), 'sak', 'saker')} att rätta."]
        lines += [f"– {_where(p)}{p.message}" for p in blockers]
        lines.append("Rätta och tryck på Kontrollera och lämna in igen.")
        alert(book, lines, "Kontrollera och lämna in", critical=True)
        return
    misses = sum(1 for r in report.rows if r.status in (Status.EJ, Status.DELVIS))
    lines = [f"Inlämningsstatus är nu '{READY}' ({OVERVIEW}!{cell}).",
             f"{_count(len(report.rows), 'indikatorrad', 'indikatorrader')} kontrollerade; "
             f"{misses} når inte målet helt (se Flaggor på {OVERVIEW}).",
             "Spara filen (Ctrl+S) och lämna den till nämndens controller.", ctx.plan_note]
    alert(book, lines, "Kontrollera och lämna in")


def history_writes(book: "xw.Book", dbook: "DepartmentBook", state: str, comment: str | None = None) -> list[Write]:
    """The new row of the department workbook's state history (sheet _xlplan), by whoever runs Excel."""
    from xlplan.actions.workflow import Event, current_user, event_row, now
    from xlplan.books.department.columns import META

    row = len(sheet_values(book.sheets[META])) + 1
    event = Event(now(), current_user(), state, comment)
    return [Write(META, f"A{row}:B{row}", "values", [[event_row(dbook.metadata), text(event.to_text())]])]


def _where(p: Problem) -> str:
    if p.sheet and p.cell:
        return f"{p.sheet}!{p.cell}: "
    return f"{p.sheet}: " if p.sheet else ""


@button("Hämta värden")
def pull() -> None:
    """Outcomes from Kolada and local exports into the open department workbook (typed values are kept)."""
    book = caller()
    with department(book) as ctx:
        result, url = pull_changes(ctx)
        writes = pull_writes(result.changes)
        with unprotected(book, {w.sheet for w in writes}, ctx.password):
            apply(book, writes)
        _save_comparisons(ctx, result)
    alert(book, pull_summary(result.changes, result.problems, url) + [ctx.plan_note], "Hämta värden",
          critical=any(p.code == KOLADA_DOWN for p in result.problems))


PULL_FRESH_SECONDS = 600.0  # Hämta värden reuses Kolada's answer from the last 10 minutes (next file, pressed again)


def pull_changes(ctx: DepartmentContext) -> tuple["PullResult", str]:
    """The library's pull decisions for the open workbook (:func:`xlplan.actions.pull.decide_pull`; nothing is written)."""
    from xlplan.actions.pull import PullResult, decide_pull, make_client

    on_val = controller_setting(ctx.plan_path, "kolada_url") if ctx.plan_path else ""
    url = os.environ.get(KOLADA_ENV) or on_val or None
    result = PullResult()
    with make_client(ctx.plan, url, False, None, fresh=PULL_FRESH_SECONDS) as client:
        decide_pull(ctx.plan, [ctx.dbook], ctx.folder, client, result)
    return result, client.base_url


def _save_comparisons(ctx: DepartmentContext, result: "PullResult") -> None:
    """Kolada's comparison rows go beside the workbook, as ``xlplan pull`` saves them (Jämförelser)."""
    from xlplan.actions.comparisons import COMPARISONS_FILE, save_comparisons
    from xlplan.core.periods import parse_period

    path = book_path(ctx.book)
    if result.comparisons and path is not None:
        save_comparisons(path.parent / COMPARISONS_FILE, result.comparisons, ctx.plan,
                         parse_period(ctx.dbook.period or ""))


def pull_writes(changes: Sequence[Any]) -> list[Write]:
    return [Write(ch.sheet, address, "values", [[text(value)]]) for ch in changes for address, value in ch.cell_values()]


def pull_summary(changes: Sequence[Any], problems: Sequence[Problem], url: str) -> list[str]:
    filled = [c for c in changes if c.writes]
    lines = [f"{_count(len(filled), 'utfall hämtat', 'utfall hämtade')} (Kolada: {url})."]
    lines += [f"– {c.cell}: {c.message}" for c in filled]
    other = [c for c in changes if not c.writes]
    if other:
        lines.append(f"{_count(len(other), 'rad', 'rader')} ändrades inte:")
        lines += [f"– {c.cell}: {c.message}" for c in other]
    lines += [f"– {p}" for p in problems]
    if filled:
        lines.append("Tryck på Flagga avvikelser för att se statusen, och spara filen.")
    return lines


def controller_setting(path: Path, key: str) -> str:
    """A setting on Val of a controller workbook file ('' when the file has none)."""
    import zipfile

    try:  # a workbook without xlplan's defined names (a plan workbook) has no setting: no openpyxl needed
        with zipfile.ZipFile(path) as zf:
            if b"xlplan_" not in zf.read("xl/workbook.xml"):
                return ""
    except (OSError, KeyError, zipfile.BadZipFile):
        return ""
    from openpyxl import load_workbook

    from xlplan.books.controller import SETTINGS

    (s,) = [s for s in SETTINGS if s.key == key]
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # noqa: BLE001 - a plan workbook that openpyxl cannot open simply has no setting
        return ""
    try:
        defined = wb.defined_names.get(s.name)
        if defined is None:
            return ""
        for sheet, ref in defined.destinations:
            value = wb[sheet][ref.replace("$", "")].value
            return "" if value is None else str(value).strip()
        return ""
    finally:
        wb.close()


# ---------------------------------------------------------------- controller workbook


def controller_plan(book: "xw.Book") -> "Plan":
    """The plan on the open controller workbook's plan sheets, read as grids (no copy of the book)."""
    from xlplan.books.plan import plan_from_grids
    from xlplan.core.errors import PlanInvalid

    grids = BookGrids(book)
    plan, problems = plan_from_grids(grids.sheet_names, grids.rows, grids.path.name)
    if plan is None:
        raise PlanInvalid(grids.path.name, problems)
    return plan


def _period(book: "xw.Book") -> str:
    period = setting(book, "period")
    if not period:
        raise BadInput(f"{book.name}: fyll i Period på bladet Val, t.ex. 2024-delår.")
    return period


@button("Skapa avdelningsfiler")
def fill() -> None:
    """One follow-up workbook (.xlsm, with this ribbon) per department, new or refilled."""
    from xlplan.actions.fill import fill as fill_books

    book = caller()
    period = _period(book)
    department_id = setting(book, "department")
    out_dir = setting_path(book, "department_folder")
    plan = controller_plan(book)
    result = fill_books(plan, period, [department_id] if department_id else None, out_dir,
                        update=True, fmt="xlsm", kolada_url=setting(book, "kolada_url") or None)
    new = sum(1 for r in result.reports if r.created)
    lines = [f"{_count(len(result.reports), 'avdelningsfil', 'avdelningsfiler')} för {period} i {out_dir}: "
             f"{new} nya, {len(result.reports) - new} uppdaterade (plan {plan.id}, version {plan.version})."]
    lines += result.lines()
    alert(book, lines, "Skapa avdelningsfiler")


@button("Sammanställ")
def consolidate() -> None:
    """The department workbooks in the folder on Val → the committee workbook named on Val."""
    from xlplan.actions.consolidate import consolidate as consolidate_folder

    book = caller()
    period = _period(book)
    folder = setting_path(book, "consolidate_folder")
    out = setting_path(book, "committee_workbook")
    result = consolidate_folder(folder, controller_plan(book), period, out, plan_dir=Path(book.fullname).parent)
    n = result.counts()
    lines = [f"Nämndens arbetsbok: {out}",
             f"{n['inkluderade']} av {n['avdelningar']} avdelningar med; {n['saknas']} saknas, "
             f"{n['konflikter']} i konflikt, {n['avvisade']} avvisade; {n['filer']} filer i mappen; "
             f"{n['godkända']} godkända.",
             f"{n['indikatorrader']} indikatorrader. Problem: {n['fel']} fel, {n['varningar']} varningar "
             "(se bladet Kontroll i nämndens arbetsbok)."]
    lines += [f"– {s.department}: {s.state}" + (f" ({s.state_by}, {s.state_at:%Y-%m-%d})" if s.state_by and s.state_at else "")
              for s in result.data.submissions]
    alert(book, lines, "Sammanställ", critical=bool(n["fel"]))


@button("Exportera nämndrapport")
def export() -> None:
    """The board pack (Word, PDF, appendix) from the committee workbook named on Val."""
    from xlplan.export import export as export_pack

    book = caller()
    committee = setting_path(book, "committee_workbook")
    out_dir = setting_path(book, "export_folder")
    result = export_pack(committee, out_dir)
    files = [p for p in (result.docx, result.pdf, result.bilaga) if p is not None]
    lines = [f"Nämndrapporten är skapad i {out_dir}:"] + [f"– {p.name}" for p in files]
    lines += [f"Obs: {w}" for w in result.warnings]
    alert(book, lines, "Exportera nämndrapport")


@button("Godkänn")
def approve() -> None:
    """The controller approves the submitted department file for Avdelning and Period on Val."""
    from xlplan.actions.workflow import approve_file

    book = caller()
    result = approve_file(review_target(book, "Godkänn"))
    alert(book, result.lines() + ["Avdelningens knappar ändrar inte filen förrän den skickas tillbaka."], "Godkänn")


@button("Skicka tillbaka")
def send_back() -> None:
    """The controller returns the department file for Avdelning and Period on Val, with the comment on Val."""
    from xlplan.actions.workflow import return_file

    book = caller()
    path = review_target(book, "Skicka tillbaka")
    comment = setting(book, "return_comment")
    if not comment:
        raise BadInput(f"{book.name}: skriv vad som ska kompletteras i 'Kommentar till avdelningen' på bladet Val.")
    result = return_file(path, comment)
    alert(book, result.lines() + ["Skicka filen till avdelningen igen; kommentaren står i filens logg."],
          "Skicka tillbaka")


def review_target(book: "xw.Book", action: str) -> Path:
    """The department file the controller reviews: Avdelning and Period on Val, in the folder to consolidate."""
    from xlplan.actions.workflow import find_department_file
    from xlplan.books.department.columns import META

    if META in [s.name for s in book.sheets]:
        raise BadInput(f"{action} görs av nämndens controller i nämndens arbetsbok ({CONTROLLER_WORKBOOK}), inte i en "
                       "avdelningsfil: en avdelning kan inte godkänna eller skicka tillbaka sin egen fil.")
    department_id = setting(book, "department")
    if not department_id:
        raise BadInput(f"{book.name}: välj avdelningen vars fil ska granskas i 'Avdelning' på bladet Val.")
    return find_department_file(setting_path(book, "consolidate_folder"), department_id, _period(book))


@button("Användarguide")
def guide() -> None:
    """Open the user guide (:func:`xlplan.export.guide.find_guide`); say where to set it when there is none."""
    import webbrowser

    from xlplan.core.naming import GUIDE_PDF

    book = caller()
    target = guide_target(book)
    if target is None:
        alert(book, ["Användarguiden hittades inte.", f"Lägg {GUIDE_PDF} i arbetsbokens mapp, eller ange sökväg "
                     "eller webbadress under Användarguide på bladet Val i nämndens arbetsbok."],
              "Användarguide", critical=True)
        return
    url = target if "://" in target else Path(target).resolve().as_uri()
    if not webbrowser.open(url):
        alert(book, ["Användarguiden kunde inte öppnas automatiskt. Öppna den här:", target], "Användarguide")


def guide_target(book: "xw.Book") -> str | None:
    """What the guide button opens for *book*: the path or address on Val, the PDF beside the workbook,
    or the guide shipped with xlplan (a department file saved alone has only the last)."""
    from xlplan.export.guide import find_guide

    try:
        configured = setting(book, "guide")
    except BadInput:  # a department workbook has no Val sheet
        configured = ""
    path = book_path(book)
    return find_guide(path.parent if path is not None else None, configured)


@button("Om xlplan")
def about() -> None:
    """Versions, the plan or department of the open workbook, and where Python runs."""
    book = caller()
    alert(book, about_lines(book), "Om xlplan")


def about_lines(book: "xw.Book") -> list[str]:
    from importlib.metadata import PackageNotFoundError, version

    try:
        ours = version("xlplan")
    except PackageNotFoundError:
        ours = "okänd (inte installerad som paket)"
    import xlwings as xw

    lines = [f"xlplan {ours}, xlwings {xw.__version__}",
             f"Python {sys.version.split()[0]}: {sys.executable}"]
    names = [s.name for s in book.sheets]
    if "_xlplan" in names:
        meta = _metadata(book.sheets["_xlplan"])
        lines.append(f"Avdelningsfil: {meta.get('department_name', '?')} ({meta.get('department_id', '?')}), "
                     f"period {meta.get('period', '?')}")
        lines.append(f"Plan: {meta.get('plan_id', '?')}, version {meta.get('plan_version', '?')}")
        from xlplan.actions.workflow import last_event

        last = last_event(meta)
        if last is not None:
            lines.append(f"Inlämningsstatus: {last.line()}")
    elif "Inställningar" in names:
        lines += _plan_lines(book)
    lines.append(f"Arbetsbok: {book.fullname}")
    return lines


def _metadata(sheet: "xw.Sheet") -> dict[str, str]:
    from xlplan.books.department.reader import read_meta

    return read_meta(sheet_values(sheet))[0]


def _plan_lines(book: "xw.Book") -> list[str]:
    from xlplan.core.errors import PlanInvalid

    try:
        plan = controller_plan(book)
        return [f"Plan: {plan.id}, version {plan.version} ({plan.settings.committee}, "
                f"{plan.settings.municipality}); {len(plan.departments)} avdelningar, "
                f"{len(plan.indicators)} indikatorer"]
    except PlanInvalid as exc:
        return [f"Planen på bladen har fel: {str(exc).splitlines()[0]}"]
