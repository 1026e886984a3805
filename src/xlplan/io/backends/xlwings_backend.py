"""Write a :class:`~xlplan.books.spec.WorkbookSpec` into an open xlwings ``Book``.

The openpyxl backend builds a workbook with everything (fonts, borders,
validation, protection, conditional formats). At run time a button may only
do what xlwings Server's VBA client can execute, so this backend writes
**values** (formulas as ``"=…"`` text), **number formats** and **fills** —
into sheets that were formatted when the workbook was built.

Writing is planned first (:func:`plan_sheet`, pure: a list of :class:`Write`)
and then applied (:func:`apply_writes`), a few range-sized calls per sheet:

* rows left over below the table from an earlier, longer version are cleared
  (``Range.clear()``), keeping a named area (e.g. the flag list) that is
  already in place;
* title rows, the header row and the data rows are written as value blocks;
* every data cell gets its number format ("General" where the layout has none);
* cells the layout fills get their fill. A cell the layout leaves unfilled is
  left as it is — unless another row stood there before (a row id that does
  not match), then it is filled white: the VBA client cannot remove a fill
  (``color = None`` fails in its ``HexToRgb``). Fonts and borders of such a
  row stay those of the old row; a workbook whose rows moved looks right
  only after a rebuild with the openpyxl backend.

Text that Excel would read as something else when it is assigned to a cell
(a number, a date, a formula, a boolean, an error) is written with a leading
apostrophe, so it stays the text the openpyxl backend writes.

Protected sheets refuse these writes in Excel: the calling macro unprotects
them before and protects them after the Python call.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import TYPE_CHECKING, Any, Literal

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from xlplan.books.spec import (
    HEADER_FILL,
    INPUT_FILL,
    SECTION_FILL,
    TOTAL_FILL,
    AreaSpec,
    ColumnSpec,
    Formula,
    RowSpec,
    SheetSpec,
    WorkbookSpec,
    quote_sheet,
)
from xlplan.core.cells import column_letter
from xlplan.core.errors import WorkbookRefused

if TYPE_CHECKING:
    import xlwings as xw

__all__ = [
    "NO_FILL",
    "Write",
    "apply_writes",
    "cell_fill",
    "current_values",
    "excel_text",
    "plan_sheet",
    "write_sheet",
    "write_workbook",
]

WriteKind = Literal["clear", "values", "number_format", "color", "name"]
GENERAL = "General"
#: What an unfilled cell gets where a moved row may have left a fill: the VBA
#: client cannot remove a fill, and white looks the same on a bordered cell.
NO_FILL = "FFFFFF"
_BOOLEAN_WORDS = frozenset({"TRUE", "FALSE", "SANT", "FALSKT"})
_FORMULA_LIKE = tuple("=+-@#'")


@dataclass(frozen=True)
class Write:
    """One range-sized call on a sheet: ``sheet.range(address).<kind> = value``.

    ``values`` carries a 2-D list, ``number_format`` a format code, ``color``
    ``"#RRGGBB"``; ``clear`` has no value; ``name`` defines ``value`` (a
    workbook name) to refer to ``address``.
    """

    kind: WriteKind
    address: str
    value: Any = None


# ---------------------------------------------------------------- cell rules


def cell_fill(row: RowSpec, column: ColumnSpec) -> str | None:
    """The fill (RRGGBB) a data-area cell has when the workbook is built, or None."""
    if row.style == "section":
        return SECTION_FILL
    if row.style == "total":
        return TOTAL_FILL
    if row.style == "data" and row.is_input(column):
        return INPUT_FILL
    return None


def number_format(row: RowSpec, column: ColumnSpec) -> str:
    return row.number_formats.get(column.key, column.number_format) or GENERAL


def excel_text(text: str) -> str:
    """*text* as assigned through ``Range.Value`` so that Excel keeps it as text.

    Excel parses assigned text like typed input: "=…" becomes a formula, "0012"
    a number, "2024-03-31" or "1/2" a date, "TRUE" a boolean, "#N/A" an error.
    A leading apostrophe prevents that and is not part of the value.
    """
    text = ILLEGAL_CHARACTERS_RE.sub("", text)
    if not text:
        return text
    if text.startswith(_FORMULA_LIKE) or any(ch.isdigit() for ch in text) or text.strip().upper() in _BOOLEAN_WORDS:
        return "'" + text
    return text


def cell_value(value: Any) -> Any:
    """A layout value as xlwings writes it: formulas as their text, None as empty."""
    if isinstance(value, Formula):
        return value.text
    if isinstance(value, str):
        return excel_text(value)
    return value


# ---------------------------------------------------------------- planning


def plan_sheet(sheet: SheetSpec, current: Sequence[Sequence[Any]] = ()) -> list[Write]:
    """The writes that make a built sheet show *sheet*.

    *current* is the sheet's values from A1 (as the book has them now); it
    tells which rows below the table are left over and whether the named
    areas are already in place.
    """
    writes = _clear_leftovers(sheet, current)
    writes += _title_writes(sheet)
    writes.append(Write("values", f"A{sheet.header_row}", _table_values(sheet)))
    writes += _format_writes(sheet)
    writes += _fill_writes(sheet, current)
    for area in sheet.areas:
        writes += _area_writes(area, moved=_area_row(sheet, area, current) != area.start_row - 1)
    return writes


def _title_writes(sheet: SheetSpec) -> list[Write]:
    if not sheet.title_rows:
        return []
    return [Write("values", f"B1:B{len(sheet.title_rows)}", [[cell_value(t.text)] for t in sheet.title_rows])]


def _table_values(sheet: SheetSpec) -> list[list[Any]]:
    rows = [[cell_value(c.header) for c in sheet.columns]]
    for row in sheet.rows:
        rows.append([cell_value(row.values.get(c.key, row.row_id if c.key == "row_id" else None))
                     for c in sheet.columns])
    return rows


def _data_grid(sheet: SheetSpec, rule: Any) -> dict[tuple[int, int], Any]:
    return {
        (sheet.first_data_row + i, c): rule(row, col)
        for i, row in enumerate(sheet.rows)
        for c, col in enumerate(sheet.columns, start=1)
    }


def _format_writes(sheet: SheetSpec) -> list[Write]:
    grid = _data_grid(sheet, number_format)
    return [Write("number_format", address, fmt) for address, fmt in _rectangles(grid)]


def _fill_writes(sheet: SheetSpec, current: Sequence[Sequence[Any]]) -> list[Write]:
    last = column_letter(len(sheet.columns))
    writes = [Write("color", f"A{sheet.header_row}:{last}{sheet.header_row}", "#" + HEADER_FILL)]
    grid = _data_grid(sheet, cell_fill)
    for r, c in _replaced_cells(sheet, current):
        grid[(r, c)] = grid[(r, c)] or NO_FILL
    return writes + [Write("color", address, "#" + fill) for address, fill in _rectangles(grid) if fill]


def _replaced_cells(sheet: SheetSpec, current: Sequence[Sequence[Any]]) -> Iterable[tuple[int, int]]:
    """Cells of rows that held another row before: they may carry that row's fill."""
    for i, row in enumerate(sheet.rows):
        r = sheet.first_data_row + i
        old = list(current[r - 1]) if r <= len(current) else []
        if all(v in (None, "") for v in old) or _same_row(row, sheet, old):
            continue
        yield from ((r, c) for c in range(1, len(sheet.columns) + 1))


def _same_row(row: RowSpec, sheet: SheetSpec, old: list[Any]) -> bool:
    old_id = old[0] if old else None
    if row.row_id:
        return old_id == row.row_id
    label = row.values.get(sheet.columns[1].key) if len(sheet.columns) > 1 else None
    return old_id in (None, "") and len(old) > 1 and old[1] == label


def _area_writes(area: AreaSpec, *, moved: bool) -> list[Write]:
    col = column_letter(area.start_column)
    writes = [Write("values", f"{col}{area.start_row - 1}", [[cell_value(area.title)]])]
    if moved:
        if area.placeholder:
            writes.append(Write("values", area.start_cell, [[cell_value(area.placeholder)]]))
        ref = f"{quote_sheet(area.sheet)}!${col}${area.start_row}"
        writes.append(Write("name", ref, area.name))
    return writes


def _clear_leftovers(sheet: SheetSpec, current: Sequence[Sequence[Any]]) -> list[Write]:
    """Clear rows below the new table that an earlier version left, up to an area in place."""
    used_rows = _last_used_row(current)
    stop = used_rows
    for area in sheet.areas:
        row = _area_row(sheet, area, current)
        if row == area.start_row - 1:
            stop = min(stop, row - 1)
    first = sheet.last_data_row + 1
    if stop < first:
        return []
    width = max(len(sheet.columns), max((len(r) for r in current), default=0))
    return [Write("clear", f"A{first}:{column_letter(width)}{stop}")]


def _last_used_row(current: Sequence[Sequence[Any]]) -> int:
    for r in range(len(current), 0, -1):
        if any(v not in (None, "") for v in current[r - 1]):
            return r
    return 0


def _area_row(sheet: SheetSpec, area: AreaSpec, current: Sequence[Sequence[Any]]) -> int | None:
    """The row of the area's title below the header in *current*, if it is there."""
    c = area.start_column - 1
    for r in range(sheet.header_row + 1, len(current) + 1):
        row = current[r - 1]
        if c < len(row) and row[c] == area.title:
            return r
    return None


def _rectangles(grid: dict[tuple[int, int], Any]) -> list[tuple[str, Any]]:
    """Cover *grid* with few A1 rectangles of equal value: runs along rows, merged down."""
    runs: list[tuple[int, int, int, Any]] = []  # (row, first col, last col, value)
    for r, cells in groupby(sorted(grid), key=lambda rc: rc[0]):
        cols = [c for _, c in cells]
        start = prev = cols[0]
        for c in cols[1:] + [None]:
            if c is None or c != prev + 1 or grid[(r, c)] != grid[(r, start)]:
                runs.append((r, start, prev, grid[(r, start)]))
                start = c if c is not None else start
            prev = c if c is not None else prev
    open_blocks: dict[tuple[int, int, Any], int] = {}  # (c0, c1, value) -> first row
    blocks: list[tuple[int, int, int, int, Any]] = []
    last_row: dict[tuple[int, int, Any], int] = {}
    for r, c0, c1, value in runs:
        key = (c0, c1, value)
        if key in open_blocks and last_row[key] == r - 1:
            last_row[key] = r
            continue
        if key in open_blocks:
            blocks.append((open_blocks[key], c0, last_row[key], c1, value))
        open_blocks[key], last_row[key] = r, r
    blocks += [(first, c0, last_row[(c0, c1, v)], c1, v) for (c0, c1, v), first in open_blocks.items()]
    return [(_address(r0, c0, r1, c1), v) for r0, c0, r1, c1, v in sorted(blocks, key=lambda b: b[:2])]


def _address(r0: int, c0: int, r1: int, c1: int) -> str:
    first = f"{column_letter(c0)}{r0}"
    return first if (r0, c0) == (r1, c1) else f"{first}:{column_letter(c1)}{r1}"


# ---------------------------------------------------------------- applying


def apply_writes(sheet: "xw.Sheet", writes: Iterable[Write]) -> None:
    """Carry out *writes* on an xlwings sheet (any engine)."""
    for w in writes:
        if w.kind == "name":
            sheet.book.names.add(w.value, "=" + w.address)
            continue
        rng = sheet.range(w.address)
        if w.kind == "clear":
            rng.clear()
        elif w.kind == "values":
            rng.value = w.value
        elif w.kind == "number_format":
            rng.number_format = w.value
        elif w.kind == "color":
            rng.color = w.value
        else:
            raise ValueError(f"unknown write {w.kind!r}")


def current_values(sheet: "xw.Sheet") -> list[list[Any]]:
    """The sheet's values from A1 to the end of its used range."""
    last = sheet.used_range.last_cell
    if last.row == 1 and last.column == 1 and sheet.range("A1").value is None:
        return []
    return sheet.range((1, 1), (last.row, last.column)).options(ndim=2).value


def write_sheet(sheet: "xw.Sheet", spec: SheetSpec) -> list[Write]:
    """Write *spec* into *sheet*; return what was written."""
    writes = plan_sheet(spec, current_values(sheet))
    apply_writes(sheet, writes)
    return writes


def write_workbook(book: "xw.Book", spec: WorkbookSpec, sheets: Iterable[str] | None = None) -> list[Write]:
    """Write the sheets of *spec* (or only those named in *sheets*) into *book*.

    Every sheet must already exist: this backend fills in a built workbook, it
    does not build one.
    """
    wanted = [spec.sheet(name) for name in sheets] if sheets is not None else spec.sheets
    present = {s.name for s in book.sheets}
    missing = [s.name for s in wanted if s.name not in present]
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        raise WorkbookRefused(
            book.name,
            f"bladet/bladen {names} saknas. Arbetsboken är inte byggd för den här mallen; "
            "skapa den på nytt med xlplan fill.",
        )
    done: list[Write] = []
    for sheet_spec in wanted:
        done += write_sheet(book.sheets[sheet_spec.name], sheet_spec)
    return done
