"""Run xlwings-bound code on Linux through xlwings' remote engine (a test harness).

xlwings' remote engine (the engine behind xlwings Server) builds a ``Book`` from
a JSON snapshot of a workbook, lets Python code use the ordinary xlwings API on
it, and queues every change as an *action* that the client in Excel executes
afterwards.  This module plays the part of that client for tests:

* :func:`payload_from_file` builds the snapshot the VBA client of xlwings
  Server (``RunServerPython`` in ``xlwings/addin/Remote.bas``) would send for a
  real .xlsx/.xlsm: ``client``, ``version``, ``book`` {name,
  active_sheet_index, selection}, ``names`` (named ranges) and ``sheets``
  [{name, pictures, tables, values}] — every worksheet, hidden ones included.
* :func:`open_remote_book` turns it into an ``xw.Book``; :func:`mock_caller`
  makes ``xw.Book.caller()`` return that book.
* :func:`apply_actions` does with openpyxl what the VBA client would do in
  Excel, on a copy of the file, and returns the alerts the user would have seen.
  An action the VBA client cannot execute, or that this harness does not
  emulate, raises :class:`UnsupportedAction` — nothing is skipped silently.
* :func:`run_with_caller` ties these together for one button function.

The remote engine reads values only: formats, colours and formulas are not in
the snapshot (``recalculate=True`` fills in formula results via LibreOffice),
and a value written in a call reads back as the old value until the actions
have been applied.

Testing a button function::

    run = run_with_caller(book_path, xlplan.excel.flag, out=tmp_path / "after.xlsm",
                          enforce_protection=False)  # the macro unprotects first
    assert vba_client_problems(run.actions) == []
    assert run.alerts[0].prompt.startswith("Klart")
    ws = openpyxl.load_workbook(run.out)["Mål och indikatorer"]
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from openpyxl import load_workbook
from openpyxl.cell.cell import Cell, MergedCell
from openpyxl.styles import PatternFill
from openpyxl.styles.cell_style import StyleArray
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.core.errors import BadInput, WorkbookUnreadable
from xlplan.io.atomic import atomic_path

if TYPE_CHECKING:
    import xlwings as xw

__all__ = [
    "Alert",
    "RemoteRun",
    "RemoteActionError",
    "UnsupportedAction",
    "VBA_CLIENT_ACTIONS",
    "EMULATED_ACTIONS",
    "apply_actions",
    "mock_caller",
    "open_remote_book",
    "payload_from_file",
    "run_with_caller",
    "vba_client_problems",
]

LICENSE_ENV = "XLWINGS_LICENSE_KEY"
#: What the VBA client of xlwings Server sends as ``client``.
CLIENT = "VBA"

#: The actions ``xlwings/addin/Remote.bas`` (the VBA client) has a Sub for.
VBA_CLIENT_ACTIONS = frozenset(
    """activateSheet addHyperlink addPicture addSheet addTable alert copyRange
    deletePicture nameDelete namesAdd rangeClear rangeClearContents
    rangeClearFormats rangeDelete rangeInsert rangeSelect resizeTable runMacro setAutofit
    setNumberFormat setPictureHeight setPictureName setPictureWidth
    setRangeColor setRangeName setSheetName setTableName setTableStyle
    setValues sheetClear sheetClearContents sheetClearFormats sheetDelete
    showAutofilterTable showHeadersTable showTotalsTable updatePicture""".split()
)

EXCEL_EPOCH = dt.datetime(1899, 12, 30)
MAX_ROWS = 1_048_576
MAX_COLUMNS = 16_384
#: Formatting a range larger than this touches only existing cells plus the
#: row/column styles (what Excel stores for whole rows and columns).
_CELL_LIMIT = 200_000


class RemoteActionError(Exception):
    """An action could not be applied the way Excel would apply it."""


class UnsupportedAction(RemoteActionError):
    """An action the VBA client cannot execute, or that this harness does not emulate."""


@dataclass(frozen=True)
class Alert:
    """A message box the VBA client would show (``App.alert`` in xlwings)."""

    prompt: str
    title: str = ""
    buttons: str = ""
    mode: str = ""
    callback: str = ""


@dataclass
class RemoteRun:
    """The outcome of running one function against a remote book."""

    actions: list[dict[str, Any]]
    alerts: list[Alert] = field(default_factory=list)
    result: Any = None
    out: Path | None = None


# ---------------------------------------------------------------- payload


def payload_from_file(
    path: str | os.PathLike[str],
    *,
    active_sheet: str | None = None,
    selection: str | None = None,
    recalculate: bool = False,
) -> dict[str, Any]:
    """The JSON payload the VBA client of xlwings Server would send for *path*.

    Values are the cached results the file holds (openpyxl ``data_only``): a
    file written by openpyxl has none for its formulas, so they read as empty.
    With ``recalculate=True`` the values come from a copy LibreOffice has
    recalculated — what Excel would show (needs ``soffice``).
    ``active_sheet`` (a sheet name) and ``selection`` ("B2", "A1:C3") override
    what the file says.
    """
    path = Path(path)
    wb = _load_for_reading(path)
    try:
        sheets = wb.worksheets
        active_ix = _active_index(wb, active_sheet, path)
        values = _recalculated_values(path) if recalculate else {ws.title: _values(ws) for ws in sheets}
        payload = {
            "client": CLIENT,
            "version": _xlwings_version(),
            "book": {
                "name": path.name,
                "active_sheet_index": active_ix,
                "selection": selection if selection is not None else _selection(sheets[active_ix]),
            },
            "names": _names_payload(wb),
            "sheets": [_sheet_payload(ws, values[ws.title]) for ws in sheets],
        }
    finally:
        wb.close()
    # What travels is JSON: round-trip so the book sees exactly the wire form.
    return json.loads(json.dumps(payload))


def _recalculated_values(path: Path) -> dict[str, list[list[Any]]]:
    from tempfile import TemporaryDirectory

    from xlplan.io.lo import recalc_xlsx

    with TemporaryDirectory(prefix="xlplan-xlremote-") as tmp:
        wb = _load_for_reading(recalc_xlsx(path, tmp))
        try:
            return {ws.title: _values(ws) for ws in wb.worksheets}
        finally:
            wb.close()


def _load_for_reading(path: Path) -> Workbook:
    try:
        return load_workbook(path, data_only=True, keep_links=False)
    except FileNotFoundError as exc:
        raise WorkbookUnreadable(str(path), "filen finns inte") from exc
    except Exception as exc:  # openpyxl raises many kinds for broken files
        raise WorkbookUnreadable(str(path), str(exc) or type(exc).__name__) from exc


def _xlwings_version() -> str:
    from importlib.metadata import version

    return version("xlwings")


def _active_index(wb: Workbook, active_sheet: str | None, path: Path) -> int:
    names = [ws.title for ws in wb.worksheets]
    if active_sheet is not None:
        if active_sheet not in names:
            raise BadInput(f"{path.name}: bladet '{active_sheet}' finns inte i arbetsboken.")
        return names.index(active_sheet)
    active = wb.active
    return names.index(active.title) if active is not None and active.title in names else 0


def _selection(ws: Worksheet) -> str | None:
    views = ws.views.sheetView
    if not views or not views[0].selection:
        return "A1"
    sqref = views[0].selection[0].sqref or views[0].selection[0].activeCell or "A1"
    return str(sqref).split()[0]


def _sheet_payload(ws: Worksheet, values: list[list[Any]]) -> dict[str, Any]:
    return {
        "name": ws.title,
        "pictures": _pictures(ws),
        "tables": [_table_payload(t) for t in ws.tables.values()],
        "values": values,
    }


def _values(ws: Worksheet) -> list[list[Any]]:
    """Values from A1 to the end of the used range, as the VBA client sends them."""
    if not ws._cells:
        return [[]]
    rows = ws.iter_rows(min_row=1, min_col=1, max_row=ws.max_row, max_col=ws.max_column, values_only=True)
    return [[_wire_value(v) for v in row] for row in rows]


def _wire_value(value: Any) -> Any:
    """A cell value as VBA-JSON serialises ``Range.Value`` (dates as ISO text)."""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    if isinstance(value, dt.date):
        return f"{value.isoformat()}T00:00:00.000Z"
    if isinstance(value, dt.time):
        return _wire_value(dt.datetime.combine(EXCEL_EPOCH.date(), value))
    if isinstance(value, dt.timedelta):
        return _wire_value(EXCEL_EPOCH + value)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)  # VBA-JSON writes the Double 5 as 5
    return value


def _pictures(ws: Worksheet) -> list[dict[str, Any]]:
    # openpyxl keeps neither picture names nor sizes in points; Excel's
    # defaults are "Picture n", and 96 px = 72 pt.
    return [
        {"name": f"Picture {i}", "height": img.height * 0.75, "width": img.width * 0.75}
        for i, img in enumerate(ws._images, start=1)
    ]


def _table_payload(table: Any) -> dict[str, Any]:
    min_col, min_row, max_col, max_row = range_boundaries(table.ref)
    headers = table.headerRowCount != 0
    totals = bool(table.totalsRowCount)
    body_first = min_row + (1 if headers else 0)
    body_last = max_row - (1 if totals else 0)
    style = table.tableStyleInfo
    return {
        "name": table.displayName,
        "range_address": _abs(min_col, min_row, max_col, max_row),
        "header_row_range_address": _abs(min_col, min_row, max_col, min_row) if headers else None,
        "data_body_range_address": (
            _abs(min_col, body_first, max_col, body_last) if body_last >= body_first else None
        ),
        "total_row_range_address": _abs(min_col, max_row, max_col, max_row) if totals else None,
        "show_headers": headers,
        "show_totals": totals,
        "table_style": style.name if style is not None and style.name else "",
        "show_autofilter": table.autoFilter is not None,
    }


def _abs(min_col: int, min_row: int, max_col: int, max_row: int) -> str:
    first = f"${get_column_letter(min_col)}${min_row}"
    if (min_col, min_row) == (max_col, max_row):
        return first
    return f"{first}:${get_column_letter(max_col)}${max_row}"


_NAME_REF = re.compile(
    r"^(?:'(?P<quoted>(?:[^']|'')+)'|(?P<plain>[^'!]+))!"
    r"(?P<ref>\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)$"
)


def _names_payload(wb: Workbook) -> list[dict[str, Any]]:
    """Named ranges as the VBA client lists them; constants and formulas are left out."""
    sheets = [ws.title for ws in wb.worksheets]
    entries = [(name, None) for name in wb.defined_names.values()]
    for scope_ix, ws in enumerate(wb.worksheets):
        entries += [(name, scope_ix) for name in ws.defined_names.values()]
    result = []
    for name, scope_ix in entries:
        target = _name_target(name.attr_text or "", sheets)
        if target is None:
            continue
        sheet_ix, address = target
        book_scope = scope_ix is None
        result.append(
            {
                "name": name.name if book_scope else f"{_quoted(sheets[scope_ix])}!{name.name}",
                "sheet_index": sheet_ix,
                "address": address,
                "book_scope": book_scope,
                "scope_sheet_name": None if book_scope else sheets[scope_ix],
                "scope_sheet_index": scope_ix,
            }
        )
    return result


def _name_target(attr_text: str, sheets: list[str]) -> tuple[int, str] | None:
    match = _NAME_REF.match(attr_text.strip().lstrip("="))
    if match is None:
        return None
    sheet = match["plain"] or match["quoted"].replace("''", "'")
    if sheet not in sheets:
        return None
    return sheets.index(sheet), match["ref"].replace("$", "")


def _quoted(sheet: str) -> str:
    if re.fullmatch(r"[^\W\d][\w.]*", sheet):
        return sheet
    return "'" + sheet.replace("'", "''") + "'"


# ---------------------------------------------------------------- remote book


def _ensure_remote_engine() -> None:
    """Make xlwings' remote engine available in this process.

    The remote engine is part of xlwings PRO, which is dual-licensed; under the
    PolyForm Noncommercial License 1.0.0 (key ``noncommercial``) use by a
    government institution — a Swedish municipality here — is a permitted
    purpose, so the key is set when the environment has none.  xlwings
    registers its engines on import: if it was imported before the key was
    set, the engine is registered here.
    """
    os.environ.setdefault(LICENSE_ENV, "noncommercial")
    import xlwings as xw

    if "remote" in [engine.name for engine in xw.engines]:
        return
    from xlwings.pro import _xlremote

    xw.engines.add(xw.main.Engine(impl=_xlremote.engine))


def open_remote_book(
    path: str | os.PathLike[str],
    *,
    active_sheet: str | None = None,
    selection: str | None = None,
    recalculate: bool = False,
) -> "xw.Book":
    """``xw.Book(json=payload_from_file(path))``: a remote book over the file's values."""
    payload = payload_from_file(path, active_sheet=active_sheet, selection=selection, recalculate=recalculate)
    _ensure_remote_engine()
    import xlwings as xw

    return xw.Book(json=payload)


@contextmanager
def mock_caller(book: "xw.Book") -> Iterator["xw.Book"]:
    """Within the block ``xw.Book.caller()`` returns *book*; afterwards it no longer does."""
    import xlwings as xw

    book.set_mock_caller()
    try:
        yield book
    finally:
        if "_mock_caller" in vars(xw.Book):
            del xw.Book._mock_caller


def run_with_caller(
    path: str | os.PathLike[str],
    func: Callable[..., Any],
    *args: Any,
    out: str | os.PathLike[str] | None = None,
    active_sheet: str | None = None,
    selection: str | None = None,
    recalculate: bool = False,
    enforce_protection: bool = True,
    **kwargs: Any,
) -> RemoteRun:
    """Call *func* as a button would, with ``xw.Book.caller()`` over *path*.

    The queued actions are returned; with *out* they are also applied to a copy
    of *path* written there, and the alerts the user would see are returned.
    """
    book = open_remote_book(path, active_sheet=active_sheet, selection=selection, recalculate=recalculate)
    try:
        with mock_caller(book):
            result = func(*args, **kwargs)
        actions = json.loads(json.dumps(book.json()["actions"]))
    finally:
        book.close()
    run = RemoteRun(actions=actions, result=result)
    if out is not None:
        run.out = Path(out)
        run.alerts = apply_actions(Path(path), actions, run.out, enforce_protection=enforce_protection)
    return run


# ---------------------------------------------------------------- applying actions


def vba_client_problems(actions: list[dict[str, Any]]) -> list[str]:
    """Why the VBA client of xlwings Server would fail on *actions* (empty: it would not)."""
    problems = []
    for i, action in enumerate(actions):
        func = action.get("func")
        if func not in VBA_CLIENT_ACTIONS:
            problems.append(
                f"action {i} '{func}': the VBA client of xlwings Server has no Sub for it "
                "(only values, number formats, colours, names, sheets, pictures and tables)"
            )
        elif func == "setRangeColor" and action["args"][0] is None:
            problems.append(
                f"action {i} 'setRangeColor' with no colour: the VBA client passes Null to "
                "HexToRgb(String) and fails; use clear_formats() or an explicit colour"
            )
    return problems


def apply_actions(
    path: str | os.PathLike[str],
    actions: list[dict[str, Any]],
    out: str | os.PathLike[str],
    *,
    enforce_protection: bool = True,
) -> list[Alert]:
    """Apply *actions* to a copy of *path* written atomically to *out*; return the alerts.

    Raises :class:`UnsupportedAction` before anything is written if an action
    is one the VBA client cannot execute or this harness does not emulate, and
    :class:`RemoteActionError` (nothing written) if one fails as it would in
    Excel — e.g. a locked cell on a protected sheet.  ``enforce_protection=False``
    stands for a caller that unprotects the sheets first (``ws.Unprotect`` in
    the VBA macro before ``RunServerPython``).
    """
    path, out = Path(path), Path(out)
    problems = vba_client_problems(actions)
    missing = sorted({a["func"] for a in actions if a["func"] in VBA_CLIENT_ACTIONS} - EMULATED_ACTIONS)
    if missing:
        problems.append(f"not emulated by xlremote: {', '.join(missing)}")
    if problems:
        raise UnsupportedAction("; ".join(problems))
    wb = _load_for_writing(path)
    alerts: list[Alert] = []
    for i, action in enumerate(actions):
        try:
            if enforce_protection:
                _check_protection(wb, action)
            _APPLY[action["func"]](wb, action, alerts)
        except RemoteActionError as exc:
            raise type(exc)(f"action {i} '{action['func']}': {exc}") from exc
    with atomic_path(out) as tmp:
        wb.save(tmp)
    wb.close()
    return alerts


def _load_for_writing(path: Path) -> Workbook:
    try:
        return load_workbook(path, keep_vba=path.suffix.lower() in (".xlsm", ".xltm", ".xlam"))
    except Exception as exc:
        raise WorkbookUnreadable(str(path), str(exc) or type(exc).__name__) from exc


def _sheet(wb: Workbook, position: int | None) -> Worksheet:
    if position is None or not 0 <= position < len(wb.worksheets):
        raise RemoteActionError(f"no worksheet at position {position}")
    return wb.worksheets[position]


def _bounds(action: dict[str, Any]) -> tuple[int, int, int, int]:
    """1-based first row, first column, last row, last column of the action's range."""
    r0, c0 = action["start_row"] + 1, action["start_column"] + 1
    return r0, c0, r0 + action["row_count"] - 1, c0 + action["column_count"] - 1


def _a1(row: int, col: int) -> str:
    return f"{get_column_letter(col)}{row}"


def _range_cells(ws: Worksheet, action: dict[str, Any], *, existing_only: bool = False) -> Iterator[Cell]:
    r0, c0, r1, c1 = _bounds(action)
    if existing_only or (r1 - r0 + 1) * (c1 - c0 + 1) > _CELL_LIMIT:
        for (row, col), cell in list(ws._cells.items()):
            if r0 <= row <= r1 and c0 <= col <= c1:
                yield cell
        return
    for row in range(r0, r1 + 1):
        for col in range(c0, c1 + 1):
            yield ws.cell(row, col)


def _style_lines(ws: Worksheet, action: dict[str, Any], attr: str, value: Any) -> None:
    """Whole columns/rows keep their format on the column/row, as Excel stores it."""
    r0, c0, r1, c1 = _bounds(action)
    if r0 == 1 and r1 == MAX_ROWS:
        for col in range(c0, c1 + 1):
            setattr(ws.column_dimensions[get_column_letter(col)], attr, value)
    elif c0 == 1 and c1 == MAX_COLUMNS:
        for row in range(r0, r1 + 1):
            setattr(ws.row_dimensions[row], attr, value)


def _writable(ws: Worksheet, cell: Cell) -> Cell:
    if isinstance(cell, MergedCell):
        raise RemoteActionError(
            f"sheet '{ws.title}', cell {cell.coordinate} is inside a merged range; "
            "write to its top-left cell"
        )
    return cell


# ------ protection

_VALUE_ACTIONS = frozenset({"setValues", "rangeClearContents", "rangeClear", "addHyperlink"})
_FORMAT_ACTIONS = frozenset({"setNumberFormat", "setRangeColor", "rangeClearFormats", "rangeClear"})
_SHEET_CONTENT_ACTIONS = frozenset({"sheetClear", "sheetClearContents", "sheetClearFormats"})
_STRUCTURE_ACTIONS = frozenset({"addSheet", "setSheetName", "sheetDelete"})


def _check_protection(wb: Workbook, action: dict[str, Any]) -> None:
    """Fail where Excel fails with run-time error 1004 on a protected sheet or book."""
    func = action["func"]
    if func in _STRUCTURE_ACTIONS and wb.security is not None and wb.security.lockStructure:
        raise RemoteActionError("the workbook structure is protected: Excel refuses to add, rename or delete sheets")
    if func not in _VALUE_ACTIONS | _FORMAT_ACTIONS | _SHEET_CONTENT_ACTIONS:
        return
    ws = _sheet(wb, action["sheet_position"])
    if not ws.protection.sheet:
        return
    if func in _SHEET_CONTENT_ACTIONS:
        raise RemoteActionError(f"sheet '{ws.title}' is protected: Excel refuses to clear it")
    if func in _FORMAT_ACTIONS and ws.protection.formatCells:
        raise RemoteActionError(
            f"sheet '{ws.title}' is protected without 'format cells' allowed: Excel refuses to format "
            f"{_bounds_a1(action)}; unprotect the sheet first"
        )
    if func in _VALUE_ACTIONS and (locked := _first_locked(ws, action)) is not None:
        raise RemoteActionError(
            f"sheet '{ws.title}' is protected and cell {locked} is locked: Excel refuses to change it; "
            "unprotect the sheet first or write only unlocked cells"
        )


def _first_locked(ws: Worksheet, action: dict[str, Any]) -> str | None:
    r0, c0, r1, c1 = _bounds(action)
    if (r1 - r0 + 1) * (c1 - c0 + 1) > _CELL_LIMIT:
        return _a1(r0, c0)  # cells that do not exist yet are locked by default
    for row in range(r0, r1 + 1):
        for col in range(c0, c1 + 1):
            cell = ws._cells.get((row, col))
            if cell is None or cell.protection.locked:
                return _a1(row, col)
    return None


def _bounds_a1(action: dict[str, Any]) -> str:
    r0, c0, r1, c1 = _bounds(action)
    return _a1(r0, c0) if (r0, c0) == (r1, c1) else f"{_a1(r0, c0)}:{_a1(r1, c1)}"


# ------ values

_ISO = re.compile(
    r"^(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:[T ](\d{1,2}):(\d{2})(?::(\d{2}))?(?:\.\d+)?Z?)?$"
)
_INTEGER = re.compile(r"^[+-]?\d{1,15}$")


def _excel_value(raw: Any, number_format: str) -> tuple[Any, bool]:
    """What Excel stores when the VBA client assigns *raw* to ``Range.Value``.

    Returns (value, quote_prefix). Like typing: "=…" is a formula, ISO dates
    become dates (the client's ``ParseIso`` and Excel's own parsing), integers
    written as text become numbers unless the cell is formatted as text ("@"),
    TRUE/FALSE become booleans, and a leading apostrophe keeps the rest as
    text. Decimal text is left as text: how Excel reads "1.5" depends on the
    user's locale (Swedish Excel may even read it as a date).
    """
    if raw is None or raw == "":
        return None, False
    if not isinstance(raw, str):
        return raw, False
    if number_format == "@":
        return raw, False
    if raw.startswith("'"):
        return raw[1:], True
    if (m := _ISO.match(raw)) is not None:
        parts = [int(p) if p else 0 for p in m.groups()]
        try:
            value = dt.datetime(*parts)
        except ValueError:
            return raw, False
        return (value.date() if m.group(4) is None else value), False
    if _INTEGER.match(raw):
        return int(raw), False
    if raw.upper() in ("TRUE", "FALSE"):
        return raw.upper() == "TRUE", False
    return raw, False


def _set_values(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    ws = _sheet(wb, action["sheet_position"])
    values = action["values"]
    shape = (len(values), max((len(row) for row in values), default=0))
    if shape != (action["row_count"], action["column_count"]) or any(len(r) != shape[1] for r in values):
        raise RemoteActionError(
            f"values of shape {shape} for a range of {action['row_count']}x{action['column_count']}"
        )
    r0, c0, _, _ = _bounds(action)
    for i, row in enumerate(values):
        for j, raw in enumerate(row):
            cell = _writable(ws, ws.cell(r0 + i, c0 + j))
            old_format = cell.number_format
            value, quote = _excel_value(raw, old_format)
            cell.value = value
            if old_format != "General":
                cell.number_format = old_format  # Excel formats dates only in General cells
            if quote:
                cell.quotePrefix = True
                if value.startswith("="):
                    cell.data_type = "s"  # text, not a formula


# ------ formats


def _set_number_format(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    ws = _sheet(wb, action["sheet_position"])
    fmt = action["args"][0]
    for cell in _range_cells(ws, action):
        if not isinstance(cell, MergedCell):
            cell.number_format = fmt
    _style_lines(ws, action, "number_format", fmt)


def _fill(hex_colour: str) -> PatternFill:
    rgb = hex_colour.lstrip("#").upper()
    if not re.fullmatch(r"[0-9A-F]{6}", rgb):
        raise RemoteActionError(f"'{hex_colour}' is not a #RRGGBB colour")
    return PatternFill(fill_type="solid", fgColor="FF" + rgb, bgColor="FF" + rgb)


def _set_range_color(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    ws = _sheet(wb, action["sheet_position"])
    fill = _fill(action["args"][0])
    for cell in _range_cells(ws, action):
        cell.fill = fill
    _style_lines(ws, action, "fill", fill)


# ------ clearing


def _clear_cell(cell: Cell, *, contents: bool, formats: bool) -> None:
    if isinstance(cell, MergedCell):
        return
    if contents:
        cell.value = None
    if formats:
        cell._style = StyleArray()
    if contents and formats:
        cell.hyperlink = None
        cell.comment = None


def _clearer(scope: str, *, contents: bool, formats: bool) -> Callable[..., None]:
    def apply(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
        ws = _sheet(wb, action["sheet_position"])
        cells = ws._cells.values() if scope == "sheet" else _range_cells(ws, action, existing_only=True)
        for cell in list(cells):
            _clear_cell(cell, contents=contents, formats=formats)

    return apply


# ------ sheets


def _add_sheet(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    position, name = action["args"][0], action["args"][1]
    if name is None:
        taken = {ws.title for ws in wb.worksheets}
        name = next(f"Sheet{n}" for n in range(1, len(taken) + 2) if f"Sheet{n}" not in taken)
    if name in wb.sheetnames:
        raise RemoteActionError(f"a sheet named '{name}' already exists")
    sheets = wb.worksheets
    index = wb._sheets.index(sheets[position]) if position < len(sheets) else len(wb._sheets)
    wb.create_sheet(name, index)


def _set_sheet_name(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    ws = _sheet(wb, action["sheet_position"])
    name = action["args"][0]
    if name != ws.title and name in wb.sheetnames:
        raise RemoteActionError(f"a sheet named '{name}' already exists")
    ws.title = name


def _sheet_delete(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    """Delete the sheet; like Excel, the active sheet stays active, or its neighbour takes over."""
    if len(wb.worksheets) == 1:
        raise RemoteActionError("a workbook must keep at least one sheet")
    doomed = _sheet(wb, action["sheet_position"])
    active = wb.active
    if active is doomed:
        sheets = wb.worksheets
        ix = sheets.index(doomed)
        active = sheets[ix + 1] if ix + 1 < len(sheets) else sheets[ix - 1]
    wb.remove(doomed)
    if active is not None:
        _activate(wb, active)


def _activate_sheet(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    _activate(wb, _sheet(wb, action["args"][0]))


def _activate(wb: Workbook, target: Any) -> None:
    for ws in wb.worksheets:
        ws.sheet_view.tabSelected = ws is target
    wb.active = target


def _no_op(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    """Selection and autofit change only what the user sees, not the file's content."""


# ------ messages, names, links


def _alert(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    args = [("" if a is None else str(a)) for a in action["args"]] + [""] * 5
    alerts.append(Alert(*args[:5]))


def _refers_to(text: str) -> str:
    return text[1:] if text.startswith("=") else text


def _names_add(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    name, refers_to = action["args"][0], action["args"][1]
    scope = wb.defined_names if action["sheet_position"] is None else _sheet(wb, action["sheet_position"]).defined_names
    scope[name] = DefinedName(name, attr_text=_refers_to(refers_to))


def _set_range_name(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    ws = _sheet(wb, action["sheet_position"])
    r0, c0, r1, c1 = _bounds(action)
    ref = _abs(c0, r0, c1, r1)
    wb.defined_names[action["args"][0]] = DefinedName(action["args"][0], attr_text=f"{_quoted(ws.title)}!{ref}")


def _name_delete(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    """Like the VBA client: delete the name whose Name and RefersTo both match."""
    full_name, refers_to, plain, _, book_scope, scope_ix = action["args"][:6]
    scope = wb.defined_names if book_scope else _sheet(wb, scope_ix).defined_names
    found = scope.get(plain)
    wanted = _refers_to(refers_to or "").replace("$", "")
    if found is None or (found.attr_text or "").replace("$", "") != wanted:
        raise RemoteActionError(
            f"no name '{full_name}' referring to '{refers_to}'; the VBA client would silently keep it"
        )
    del scope[plain]


def _add_hyperlink(wb: Workbook, action: dict[str, Any], alerts: list[Alert]) -> None:
    ws = _sheet(wb, action["sheet_position"])
    address, text, tip = (list(action["args"]) + [None, None, None])[:3]
    for cell in _range_cells(ws, action):
        _writable(ws, cell)
        cell.hyperlink = address
        if tip:
            cell.hyperlink.tooltip = tip
        cell.value = text if text is not None else address
        cell.style = "Hyperlink"


_APPLY: dict[str, Callable[[Workbook, dict[str, Any], list[Alert]], None]] = {
    "setValues": _set_values,
    "setNumberFormat": _set_number_format,
    "setRangeColor": _set_range_color,
    "rangeClearContents": _clearer("range", contents=True, formats=False),
    "rangeClearFormats": _clearer("range", contents=False, formats=True),
    "rangeClear": _clearer("range", contents=True, formats=True),
    "sheetClearContents": _clearer("sheet", contents=True, formats=False),
    "sheetClearFormats": _clearer("sheet", contents=False, formats=True),
    "sheetClear": _clearer("sheet", contents=True, formats=True),
    "addSheet": _add_sheet,
    "setSheetName": _set_sheet_name,
    "sheetDelete": _sheet_delete,
    "activateSheet": _activate_sheet,
    "rangeSelect": _no_op,
    "setAutofit": _no_op,
    "alert": _alert,
    "namesAdd": _names_add,
    "setRangeName": _set_range_name,
    "nameDelete": _name_delete,
    "addHyperlink": _add_hyperlink,
}

#: The actions :func:`apply_actions` can apply.
EMULATED_ACTIONS = frozenset(_APPLY)
