"""Read a department follow-up workbook back: rows by Rad-id, cells by column key.

Used by flag, pull, consolidate and refill. A workbook is read once into
sheet grids (:class:`Grids`): from a file with python-calamine (fast, never
modifies the file; formula cells give their cached values; :class:`FileGrids`),
or from the book open in Excel with xlwings ranges (``xlplan.excel.BookGrids``);
the parser (:func:`parse_department_grids`) works on the grids only. Columns are
found by their header text and rows by the Rad-id in column A, so a moved
column or an inserted row is still read right; what cannot be read becomes a
:class:`~xlplan.core.errors.Problem` naming file, sheet and cell.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from xlplan.books.department.columns import (
    ACTIVITIES,
    ADDED_COLUMNS,
    COLUMNS,
    CONTACT_ROW_ID,
    ECONOMY,
    FIXED_TEXTS,
    HEADER_ROW,
    INDICATORS,
    META,
    OVERVIEW,
    REMOVED,
    SUBMISSION_ROW_ID,
    row_checksum,
    sheet_of_row,
)
from xlplan.books.spec import ROW_ID_KEY, ColumnSpec
from xlplan.core.cells import column_letter
from xlplan.core.codes import Code
from xlplan.core.errors import Problem, RowsSorted, WorkbookRefused
from xlplan.core.numbers import format_number, is_percent_format, read_outcome
from xlplan.core.rowids import CONTEXT_ROW
from xlplan.io.atomic import BACKUP_DIR
from xlplan.io.tables import (
    XML_NS,
    Package,
    cell_number_formats,
    clean,
    norm_header,
    read_package,
    read_sheet_rows,
    scan_cells,
    sheet_xml,
)

LAYOUT_FORMULA_ROWS = ("S", "T")  # Rad-id prefixes of rows whose formulas xlplan writes (summaries, totals)
ALWAYS = (OVERVIEW, INDICATORS, ACTIVITIES, ECONOMY)
HEADER_SEARCH_ROWS = 25
_NS = XML_NS


@dataclass
class BookRow:
    sheet: str
    row_id: str
    number: int  # 1-based Excel row
    values: dict[str, Any]  # key -> cleaned value (numbers read as numbers; unreadable -> None)
    raw: dict[str, Any]  # key -> the value as stored in the cell ('' -> None)
    cells: dict[str, str]  # key -> A1 address
    formats: dict[str, str] = field(default_factory=dict)  # key -> number format, where it matters (percent)
    formulas: dict[str, str] = field(default_factory=dict)  # key -> formula typed in an input cell ('=10+5')

    def has_content(self, keys: list[str]) -> bool:
        return any(self.raw.get(k) is not None for k in keys)


@dataclass
class BookSheet:
    name: str  # the layout's name
    actual_name: str  # the name in the file
    header_row: int
    columns: dict[str, int]  # key -> 1-based column
    rows: dict[str, BookRow] = field(default_factory=dict)
    loose_rows: list[BookRow] = field(default_factory=list)  # rows with input but no (or a repeated) Rad-id
    # cells below the header row outside the table: in no layout column, or in a row without a Rad-id
    # (A1, value); what the layout itself writes there (section rows) is sorted out by the refill
    outside: list[tuple[str, Any]] = field(default_factory=list)

    def address(self, row_id: str, key: str) -> str | None:
        row = self.rows.get(row_id)
        col = self.columns.get(key)
        return f"{column_letter(col)}{row.number}" if row and col else None


@dataclass
class DepartmentBook:
    path: Path
    metadata: dict[str, str]
    expected_rows: list[str]
    sheets: dict[str, BookSheet]
    problems: list[Problem]
    sort_checked: bool = False  # whether row checksums (the file's, else from the plan inside it) were compared

    @property
    def plan_id(self) -> str | None:
        return self.metadata.get("plan_id")

    @property
    def department_id(self) -> str | None:
        return self.metadata.get("department_id")

    @property
    def period(self) -> str | None:
        return self.metadata.get("period")

    @property
    def submission(self) -> str | None:
        return _text(self.value(OVERVIEW, SUBMISSION_ROW_ID, "value"))

    @property
    def contact(self) -> str | None:
        return _text(self.value(OVERVIEW, CONTACT_ROW_ID, "value"))

    def row(self, sheet: str, row_id: str) -> BookRow | None:
        s = self.sheets.get(sheet)
        return s.rows.get(row_id) if s else None

    def value(self, sheet: str, row_id: str, key: str) -> Any:
        row = self.row(sheet, row_id)
        return row.values.get(key) if row else None

    def address(self, sheet: str, row_id: str, key: str) -> str | None:
        """A1 address of (row_id, column key) as found in the file."""
        s = self.sheets.get(sheet)
        return s.address(row_id, key) if s else None

    def actual_sheet_name(self, sheet: str) -> str | None:
        s = self.sheets.get(sheet)
        return s.actual_name if s else None


def _text(v: Any) -> str | None:
    return None if v is None else str(v)


class Grids(Protocol):
    """A workbook read into sheet grids: what the parsers read, whatever the workbook came from.

    ``rows(sheet)``: the sheet's values from A1 as a list of equally long rows
    (calamine's shape: ``''`` for an empty cell, numbers as float, dates as
    datetime, a cell showing an error as ``''``); each sheet is read at most
    once.  ``errors(sheet)``: ``{A1: '#DIV/0!'}`` of the cells showing an error;
    ``formulas(sheet)``: ``{A1: '=10+5'}`` of the cells holding a formula, where
    the source knows them (an open book's values are already calculated);
    ``number_formats(sheet, cells)``: the number format code of the given cells
    (those with the default format left out).
    """

    path: Path  # the file (or the open book's name): messages name it
    sheet_names: list[str]

    def rows(self, sheet: str) -> list[list[Any]]: ...

    def errors(self, sheet: str) -> dict[str, str]: ...

    def formulas(self, sheet: str) -> dict[str, str]: ...

    def number_formats(self, sheet: str, cells: set[str]) -> dict[str, str]: ...


class FileGrids:
    """The grids of a workbook file, from one read of it: values through calamine (each sheet once),
    errors, formulas and number formats from the same unpacked sheet XML (:func:`scan_cells`)."""

    def __init__(self, path: str | Path, package: Package | None = None):
        self.path = Path(path)
        self._package = package if package is not None else read_package(self.path)
        self._wb = self._package.workbook()
        self.sheet_names: list[str] = list(self._wb.sheet_names)
        self.rows = sheet_reader(self._wb, self.path)
        self._xml: dict[str, bytes] | None = None
        self._scanned: dict[str, tuple[dict[str, str], dict[str, str]]] = {}

    def xml(self, sheet: str) -> bytes:
        if self._xml is None:
            self._xml = sheet_xml(self._package.parts)
        return self._xml.get(sheet, b"")

    def _scan(self, sheet: str) -> tuple[dict[str, str], dict[str, str]]:
        if sheet not in self._scanned:
            self._scanned[sheet] = scan_cells(self.xml(sheet))
        return self._scanned[sheet]

    def errors(self, sheet: str) -> dict[str, str]:
        return self._scan(sheet)[0]

    def formulas(self, sheet: str) -> dict[str, str]:
        return self._scan(sheet)[1]

    def number_formats(self, sheet: str, cells: set[str]) -> dict[str, str]:
        return cell_number_formats(self._package.parts, self.xml(sheet), cells)


def read_department_workbook(path: str | Path, package: Package | None = None) -> DepartmentBook:
    """Read a department workbook file; raise WorkbookRefused when it is not one of ours.

    One pass over the file: it is read and unpacked once (:func:`xlplan.io.tables.read_package`;
    or *package*, the file already read so), calamine reads each sheet once, and formulas, error
    values and the number formats of outcome cells come from the same unpacked sheet XML (:func:`scan_cells`).
    """
    return parse_department_grids(FileGrids(path, package))


def parse_department_grids(grids: Grids) -> DepartmentBook:
    """Parse a department workbook from its grids; raise WorkbookRefused when it is not one of ours."""
    path = grids.path
    if META not in grids.sheet_names:
        raise WorkbookRefused(str(path), "är ingen avdelningsfil från xlplan (det dolda bladet _xlplan saknas).")
    meta_rows = grids.rows(META)
    metadata, expected = read_meta(meta_rows)
    problems: list[Problem] = []
    found = find_sheets(grids.sheet_names, expected, grids.rows, path.name, problems)
    sheets = {}
    for name, actual in found.items():
        raw = grids.rows(actual)
        sheets[name] = parse_sheet(name, actual, raw, path.name, dict(grids.errors(actual)), problems,
                                   grids.formulas(actual))
    if INDICATORS in sheets:
        add_percent_formats(grids, sheets[INDICATORS])
    check_rows(sheets, expected, path.name, problems)
    check_context_rows(sheets, path.name, problems)
    checksums = read_checksums(meta_rows) or embedded_checksums(grids, metadata)
    check_not_sorted(sheets, checksums, path)
    return DepartmentBook(path, metadata, expected, sheets, problems, sort_checked=bool(checksums))


def sheet_reader(wb: Any, path: Path) -> Callable[[str], list[list[Any]]]:
    """Rows of a sheet by name, each sheet read by calamine once however often it is asked for."""
    read: dict[str, list[list[Any]]] = {}

    def rows_of(sheet: str) -> list[list[Any]]:
        if sheet not in read:
            read[sheet] = read_sheet_rows(wb, path, sheet)
        return read[sheet]

    return rows_of


def read_meta(rows: list[list[Any]]) -> tuple[dict[str, str], list[str]]:
    metadata: dict[str, str] = {}
    expected: list[str] = []
    for row in rows[1:]:
        if len(row) < 2 or row[0] in (None, ""):
            continue
        key, value = str(row[0]), "" if row[1] is None else str(row[1])
        if key.startswith("rad."):
            expected.append(value)
        else:
            metadata[key] = value
    return metadata, expected


def read_checksums(rows: list[list[Any]]) -> dict[str, str]:
    """Rad-id -> checksum of its fixed texts (:func:`xlplan.books.department.columns.row_checksum`), where the file has them."""
    out = {}
    for row in rows[1:]:
        if len(row) >= 3 and str(row[0] or "").startswith("rad.") and row[1] and row[2]:
            out[str(row[1])] = str(row[2])
    return out


def embedded_checksums(grids: Grids, metadata: dict[str, str]) -> dict[str, str]:
    """For a file filled before the checksums were written: the checksums of the rows as the plan inside
    the file (:mod:`xlplan.books.department.embedded`) lays them out; empty when the file has no readable plan inside."""
    from xlplan.books.department.embedded import SHEET, parse_embedded
    from xlplan.core.errors import XlplanError

    if SHEET not in grids.sheet_names:
        return {}
    try:
        inside = parse_embedded(grids.rows(SHEET), grids.path.name)
        if inside.plan.id != metadata.get("plan_id"):
            return {}
        return plan_checksums(inside.plan, metadata.get("department_id", ""), metadata.get("period", ""))
    except XlplanError:
        return {}


def plan_checksums(plan: Any, department_id: str, period: str) -> dict[str, str]:
    """Rad-id -> checksum of the fixed texts *plan* gives the row of the department's file for *period*
    (what the file's _xlplan sheet holds when filled from *plan*); empty when the plan lacks them."""
    from xlplan.books.department.columns import CHECKSUM_KEY
    from xlplan.books.department.layout import department_workbook
    from xlplan.core.errors import XlplanError
    from xlplan.core.periods import parse_period

    dep = plan.department(department_id)
    if dep is None:
        return {}
    try:
        spec = department_workbook(plan, dep, parse_period(period), "")
    except (XlplanError, ValueError):
        return {}
    return {str(r.values["value"]): str(r.values[CHECKSUM_KEY]) for r in spec.sheet(META).rows
            if r.row_id.startswith("rad.") and r.values.get(CHECKSUM_KEY)}


def check_not_sorted(sheets: dict[str, BookSheet], checksums: dict[str, str], path: Path) -> None:
    """Refuse a file whose rows were sorted without the hidden Rad-id column: a row whose fixed texts are
    those of another Rad-id (its inputs would be read as that row's)."""
    if not checksums:
        return
    for sheet in sheets.values():
        owners: dict[str, list[str]] = {}
        for row_id in sheet.rows:
            if row_id in checksums:
                owners.setdefault(checksums[row_id], []).append(row_id)
        moved = []
        for row_id, row in sheet.rows.items():
            want = checksums.get(row_id)
            if want is None:
                continue
            have = _row_checksum(sheet.name, row.raw)
            if have is None or have == want or have not in owners:
                continue
            moved.append((row, owners[have][0]))
        if moved:
            raise RowsSorted(str(path), sorted_message(sheet, moved))


def _row_checksum(sheet: str, raw: dict[str, Any]) -> str | None:
    """:func:`xlplan.books.department.columns.row_checksum` of a row, remembered by its fixed texts (and
    their types): the rows of the files of one plan have the same texts."""
    keys = FIXED_TEXTS.get(sheet)
    if not keys:
        return None
    return _checksum_of(sheet, tuple((type(v), v) for v in map(raw.get, keys)))


@functools.lru_cache(maxsize=8192)
def _checksum_of(sheet: str, texts: tuple[tuple[type, Any], ...]) -> str | None:
    return row_checksum(sheet, {key: value for key, (_, value) in zip(FIXED_TEXTS[sheet], texts, strict=True)})


def sorted_message(sheet: BookSheet, moved: list[tuple[BookRow, str]]) -> str:
    row, other = moved[0]
    more = f" (och {len(moved) - 1} rader till)" if len(moved) > 1 else ""
    return (f"raderna på bladet '{sheet.actual_name}' har sorterats utan den dolda kolumnen A (Rad-id). Rad "
            f"{row.number} har texterna för Rad-id '{other}' men Rad-id '{row.row_id}'{more}, så det som fyllts i "
            "skulle läsas på fel rad. Filen används inte. Gör så här: ångra sorteringen (Ctrl+Z i Excel) och spara, "
            f"eller hämta den senaste versionen ur mappen {BACKUP_DIR} bredvid filen. Sortera sedan bara med hela "
            "tabellen markerad, också den dolda kolumnen A.")


def locate(path: str | Path, sheet: str, row_id: str, key: str) -> str | None:
    """A1 address of (sheet, Rad-id, column key) in the file as it is now (None if absent)."""
    return read_department_workbook(path).address(sheet, row_id, key)


# ---------------------------------------------------------------- sheets

def wanted_sheets(expected: list[str]) -> list[str]:
    extra = {sheet_of_row(prefix) for prefix in {r.split("|", 1)[0] for r in expected}}  # once per Rad-id prefix
    return [s for s in COLUMNS if s in ALWAYS or s in extra or s == REMOVED]


def find_sheets(names: list[str], expected: list[str], rows_of: Any, file: str,
                problems: list[Problem]) -> dict[str, str]:
    """Layout sheet name -> name in the file; renamed sheets are recognised by their Rad-ids."""
    by_fold = {n.strip().casefold(): n for n in names}  # 'Översikt ' (a trailing space) is Översikt
    found: dict[str, str] = {}
    wanted = wanted_sheets(expected)
    for sheet in wanted:
        actual = by_fold.get(sheet.casefold())
        if actual is not None and not holds_another_sheet(sheet, actual, rows_of):
            found[sheet] = actual
    unclaimed = [n for n in names if n not in found.values() and n != META]
    for sheet in wanted:
        if sheet in found:
            continue
        actual = recognise(sheet, unclaimed, rows_of)
        if actual is not None:
            found[sheet] = actual
            unclaimed.remove(actual)
            problems.append(Problem(Code.BLAD_OMDOPT, f"Bladet '{sheet}' har bytt namn till '{actual}'. "
                                    f"Det läses ändå; byt gärna tillbaka namnet.", file, actual, None, "varning"))
        elif sheet != REMOVED:
            problems.append(Problem(Code.BLAD_SAKNAS, f"Bladet '{sheet}' saknas. Fyll filen på nytt med "
                                    "xlplan fill --update.", file, sheet))
    return found


def holds_another_sheet(sheet: str, actual: str, rows_of: Any) -> bool:
    """True when the sheet named like *sheet* holds another layout sheet's table (names swapped)."""
    if sheet not in COLUMNS or recognise(sheet, [actual], rows_of) is not None:
        return False
    return any(other != sheet and recognise(other, [actual], rows_of) is not None for other in COLUMNS)


def recognise(sheet: str, candidates: list[str], rows_of: Any) -> str | None:
    """The first candidate sheet with a row among its first rows holding (nearly) all of *sheet*'s headers."""
    headers = _layout_headers(sheet)
    enough = max(2, len(headers) - 1)
    for name in candidates:
        rows = rows_of(name)[:HEADER_SEARCH_ROWS]
        if len(rows) >= HEADER_ROW and len(headers & _row_headers(rows[HEADER_ROW - 1])) >= enough:
            return name  # the template's header row, looked at first: where the headers nearly always are
        if any(len(headers & _row_headers(row)) >= enough for row in rows):
            return name
    return None


@functools.cache
def layout_columns(sheet: str) -> list[ColumnSpec]:
    """The layout's columns of *sheet*, built once per process (the specs are frozen; do not change the list)."""
    return COLUMNS[sheet]()


@functools.cache
def _layout_headers(sheet: str) -> frozenset[str]:
    return frozenset(norm_header(c.header) for c in layout_columns(sheet))


def find_header(raw: list[list[Any]], columns: list[ColumnSpec]) -> int | None:
    """0-based index of the row holding most of the headers (prefers the template's row)."""
    wanted = {_norm_text(c.header) for c in columns}
    if len(wanted) > 1 and len(raw) >= HEADER_ROW and wanted <= _row_headers(raw[HEADER_ROW - 1]):
        return HEADER_ROW - 1  # all headers in the template's row: no row has more, and it wins a tie
    best, best_hits = None, 1
    for i, row in enumerate(raw[:HEADER_SEARCH_ROWS]):
        hits = len(wanted & _row_headers(row))
        if hits > best_hits or (hits == best_hits and i == HEADER_ROW - 1 and best is not None):
            best, best_hits = i, hits
    return best


def _row_headers(row: list[Any]) -> set[str]:
    """The normalised texts of a row (a header is text: numbers, dates and empty cells are skipped)."""
    return {_norm_text(v) for v in row if isinstance(v, str) and v}


@functools.lru_cache(maxsize=4096)
def _norm_text(text: str) -> str:
    """:func:`xlplan.io.tables.norm_header` of a text, remembered: the same headers and labels recur in
    every file, and the header search looks at the first rows of every sheet."""
    return norm_header(text)


def parse_sheet(name: str, actual: str, raw: list[list[Any]], file: str, errors: dict[str, str],
                problems: list[Problem], formulas: dict[str, str] | None = None) -> BookSheet:
    columns = layout_columns(name)
    h = find_header(raw, columns)
    if h is None:
        problems.append(Problem(Code.RUBRIKRAD_SAKNAS, f"Rubrikraden (rad {HEADER_ROW}) hittas inte; bladet läses "
                                "inte.", file, actual, f"A{HEADER_ROW}"))
        return BookSheet(name, actual, HEADER_ROW, {})
    if h != HEADER_ROW - 1:
        problems.append(Problem(Code.RUBRIKRAD_FLYTTAD, f"Rubrikraden står på rad {h + 1} i stället för rad "
                                f"{HEADER_ROW}; bladet läses ändå.", file, actual, f"A{h + 1}", "varning"))
    mapping = map_columns(columns, raw[h], h + 1, file, actual, problems, name)
    sheet = BookSheet(name, actual, h + 1, mapping)
    if ROW_ID_KEY not in mapping:
        return sheet
    fields = _layout_row_fields(name, tuple(mapping.items()))
    special = {_row_number(cell) for cell in (*errors, *(formulas or {}))}  # rows never skipped as empty
    for i in range(h + 1, len(raw)):
        row = raw[i]
        if i + 1 not in special and row.count("") + row.count(None) == len(row):
            continue  # an empty row is no row of the table, no loose row and holds nothing outside it
        _read_row(sheet, fields, row, i + 1, file, errors, problems, formulas or {})
    sheet.outside = outside_cells(sheet, columns, raw)
    return sheet


def outside_cells(sheet: BookSheet, columns: list[ColumnSpec], raw: list[list[Any]]) -> list[tuple[str, Any]]:
    """Cells from the header row down that the table does not hold: in a column no header claims, or
    in a row without a Rad-id (besides the inputs of loose rows, which the refill moves anyway)."""
    table = set(sheet.columns.values())
    id_col = sheet.columns.get(ROW_ID_KEY)
    rows_with_id = {r.number for r in sheet.rows.values()}
    loose = {r.number: r for r in sheet.loose_rows}
    preserved = {sheet.columns[c.key] for c in columns if c.preserved and c.key in sheet.columns}
    last = max(rows_with_id, default=sheet.header_row)
    width = max((len(row) for row in raw[sheet.header_row - 1:]), default=0)
    # the columns to look at (1-based, in order): in a table row only those outside the table
    every = [col for col in range(1, width + 1) if col != id_col]
    beside_table = [col for col in every if col not in table]
    beside_loose = [col for col in every if col not in table or col not in preserved]
    out = []
    for i in range(sheet.header_row - 1, len(raw)):
        number = i + 1
        if sheet.name == OVERVIEW and number > last:
            break  # the flag list (xlplan_flaggor) is written below the Översikt table
        row = raw[i]
        if number == sheet.header_row or number in rows_with_id:
            wanted = beside_table
        elif number in loose:
            wanted = beside_loose  # loose: the inputs are moved by refill
        else:
            wanted = every
        size = len(row)
        for col in wanted:
            if col > size:
                break
            value = row[col - 1]
            if value is not None and value != "":
                out.append((f"{column_letter(col)}{number}", value))
    return out


def map_columns(columns: list[ColumnSpec], header: list[Any], row: int, file: str, sheet: str,
                problems: list[Problem], layout_name: str = "") -> dict[str, int]:
    positions: dict[str, int] = {}
    for i, v in enumerate(header, start=1):
        positions.setdefault(_norm_text(v) if isinstance(v, str) else norm_header(v), i)
    mapping = {}
    for expected, col in enumerate(columns, start=1):
        at = positions.get(_norm_text(col.header))
        if at is None:
            cell = f"{column_letter(expected)}{row}"
            added = col.key in ADDED_COLUMNS.get(layout_name, ())
            problems.append(Problem(Code.KOLUMN_NY_SAKNAS if added else Code.KOLUMN_SAKNAS,
                                    f"Kolumnen '{col.header}' saknas (rubriken ska stå i {cell}). Fyll filen på "
                                    "nytt med xlplan fill --update.", file, sheet, cell))
            continue
        if at != expected:
            problems.append(Problem(Code.KOLUMN_FLYTTAD, f"Kolumnen '{col.header}' står i kolumn "
                                    f"{column_letter(at)} i stället för {column_letter(expected)}; den läses ändå.",
                                    file, sheet, f"{column_letter(at)}{row}", "varning"))
        mapping[col.key] = at
    return mapping


def _row_number(cell: str) -> int:
    """12 for 'N12' (0 for a cell without a reference)."""
    digits = cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ$").lstrip("$")
    return int(digits) if digits.isdigit() else 0


@dataclass(frozen=True)
class _RowFields:
    """What reading a row of a sheet needs of its columns, worked out once for the sheet: (key, 0-based
    column, column letter, the column spec when its value goes through :func:`read_value` else None,
    whether a unit typed in it is checked) of each layout column found, in layout order; the keys of
    the preserved (input) columns found."""

    fields: list[tuple[str, int, str, ColumnSpec | None, bool]]
    preserved: list[str]
    width: int  # a row at least this long holds every column found

    @classmethod
    def of(cls, name: str, mapping: dict[str, int], columns: list[ColumnSpec]) -> _RowFields:
        """The fields of layout sheet *name* whose columns (key -> 1-based column) are *mapping*."""
        fields = []
        for col in columns:
            at = mapping.get(col.key)
            if at is None:
                continue
            checked = col if col.validation is not None and col.validation.kind != "list" else None
            fields.append((col.key, at - 1, column_letter(at), checked, name == INDICATORS and col.key == "outcome"))
        preserved = [c.key for c in columns if c.preserved and c.key in mapping]
        return cls(fields, preserved, max((f[1] + 1 for f in fields), default=0))


@functools.lru_cache(maxsize=256)
def _layout_row_fields(name: str, mapping: tuple[tuple[str, int], ...]) -> _RowFields:
    """The row fields of a layout sheet, once per column mapping (the files of a folder share it; do not
    change the result)."""
    return _RowFields.of(name, dict(mapping), layout_columns(name))


def _read_row(sheet: BookSheet, fields: _RowFields, raw_row: list[Any], number: int, file: str,
              errors: dict[str, str], problems: list[Problem], formulas: dict[str, str]) -> None:
    """Read one row of *sheet* (1-based Excel row *number*) into its rows, or its loose rows."""
    row_text = str(number)
    cells = {key: letter + row_text for key, _, letter, _, _ in fields.fields}
    if len(raw_row) >= fields.width:
        raw = {key: None if (v := raw_row[at]) == "" else v for key, at, _, _, _ in fields.fields}
    else:
        width = len(raw_row)
        raw = {key: (None if (v := raw_row[at]) == "" else v) if at < width else None
               for key, at, _, _, _ in fields.fields}
    typed = {}
    if formulas and str(raw.get(ROW_ID_KEY) or "").split("|", 1)[0] not in LAYOUT_FORMULA_ROWS:
        typed = {key: formulas[cells[key]] for key in fields.preserved if cells[key] in formulas}
    unit = raw.get("unit") if sheet.name == INDICATORS else None
    unit_text = str(unit) if unit is not None else None
    for key, formula in typed.items():
        if cells[key] in errors:
            raw[key] = None
        elif raw[key] is None:
            raw[key] = formula_value(formula, cells[key], file, sheet.actual_name, errors, problems)
    actual = sheet.actual_name
    values: dict[str, Any]
    if not errors:  # the common case in one comprehension (text cleaned as clean does it, without the call)
        values = {key: None if (v := raw[key]) is None
                  else ((v.strip() or None) if type(v) is str else clean(v)) if checked is None
                  else read_value(checked, v, cells[key], file, actual, problems, unit=unit_text, check_unit=unit_check)
                  for key, _, _, checked, unit_check in fields.fields}
    else:
        values = {}
        for key, _, _, checked, unit_check in fields.fields:
            stored = raw[key]
            if stored is None:
                values[key] = None
            elif checked is None:
                values[key] = clean(stored)
            else:
                values[key] = read_value(checked, stored, cells[key], file, actual, problems, unit=unit_text,
                                         check_unit=unit_check)
            if cells[key] in errors:
                values[key] = None
                problems.append(Problem(Code.FORMELFEL, f"Cellen visar felet {errors[cells[key]]}. Kontrollera "
                                        "formeln och värdena den räknar med.", file, actual, cells[key]))
    row_id = raw.get(ROW_ID_KEY)
    row = BookRow(sheet.name, str(row_id).strip() if row_id is not None else "", number, values, raw, cells,
                  formulas=typed)
    if not row.row_id:
        if row.has_content(fields.preserved):
            sheet.loose_rows.append(row)
            problems.append(Problem(Code.RAD_UTAN_ID, "Raden har inget Rad-id (kolumn A) och hör inte till planen; "
                                    "den läses inte.", file, sheet.actual_name, f"A{number}", "varning"))
        return
    if row.row_id in sheet.rows:
        problems.append(Problem(Code.DUBBLETT, f"Rad-id '{row.row_id}' finns redan på rad "
                                f"{sheet.rows[row.row_id].number}; den här raden läses inte.",
                                file, sheet.actual_name, f"A{number}"))
        sheet.loose_rows.append(row)
        return
    sheet.rows[row.row_id] = row


def formula_value(formula: str, cell: str, file: str, sheet: str, errors: dict[str, str],
                  problems: list[Problem]) -> float | None:
    """The value of a formula typed in an input cell whose value the file does not store (openpyxl
    re-saves drop it): plain arithmetic is computed here; anything else waits for Excel (a problem)."""
    try:
        return arithmetic(formula)
    except ZeroDivisionError:
        errors[cell] = "#DIV/0!"
        return None
    except ValueError:
        pass
    shown = f" ({formula})" if formula else ""
    problems.append(Problem(Code.FORMEL_RAKNAS_I_EXCEL, f"Cellen har en formel{shown} vars värde räknas om i Excel; "
                            "xlplan kan inte räkna ut den och läser inget värde. Öppna filen i Excel, spara den och "
                            "kör igen (formeln behålls).", file, sheet, cell, "varning"))
    return None


def arithmetic(formula: str) -> float:
    """The value of a formula of plain arithmetic: numbers (decimal point or comma), ``+ - * /`` and
    parentheses; no cell references or functions (ValueError). Parsed, never ``eval``-ed."""
    tokens = _ARITH_TOKEN.findall(formula.strip().removeprefix("="))
    if "".join(tokens).replace(" ", "") != formula.strip().removeprefix("=").replace(" ", "") or not tokens:
        raise ValueError(formula)
    tokens = [t for t in tokens if not t.isspace()]
    value, rest = _sum(tokens)
    if rest:
        raise ValueError(formula)
    return value


_ARITH_TOKEN = re.compile(r"\d+(?:[.,]\d*)?(?:[eE][+-]?\d+)?|[-+*/()]|\s+")


def _sum(tokens: list[str]) -> tuple[float, list[str]]:
    value, tokens = _product(tokens)
    while tokens and tokens[0] in "+-":
        op, (right, tokens) = tokens[0], _product(tokens[1:])
        value = value + right if op == "+" else value - right
    return value, tokens


def _product(tokens: list[str]) -> tuple[float, list[str]]:
    value, tokens = _unary(tokens)
    while tokens and tokens[0] in "*/":
        op, (right, tokens) = tokens[0], _unary(tokens[1:])
        value = value * right if op == "*" else value / right
    return value, tokens


def _unary(tokens: list[str]) -> tuple[float, list[str]]:
    if not tokens:
        raise ValueError("end of formula")
    if tokens[0] in "+-":
        value, rest = _unary(tokens[1:])
        return (-value if tokens[0] == "-" else value), rest
    if tokens[0] == "(":
        value, rest = _sum(tokens[1:])
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced parentheses")
        return value, rest[1:]
    if tokens[0][0].isdigit():
        return float(tokens[0].replace(",", ".")), tokens[1:]
    raise ValueError(tokens[0])


def read_value(col: ColumnSpec, stored: Any, cell: str, file: str, sheet: str, problems: list[Problem], *,
               unit: str | None = None, check_unit: bool = False) -> Any:
    """A cell's value: number columns through the one outcome reader (:func:`xlplan.core.numbers.read_outcome`).

    No-value markers (``-``, ``I.U`` …) are no value, not an error; a note or
    a year after the number is allowed; a typed unit is checked against the
    indicator's (*unit*) in Utfall cells.  The value of an outcome typed in a
    percent-formatted cell is corrected by :func:`add_percent_formats`.
    """
    if col.validation is None or col.validation.kind == "list" or stored is None:
        return clean(stored)
    reading = read_outcome(stored, unit, check_unit=check_unit)
    if reading.problem is not None:
        problems.append(Problem(reading.problem, reading.message or reading.problem, file, sheet, cell))
    return reading.value


def check_rows(sheets: dict[str, BookSheet], expected: list[str], file: str, problems: list[Problem]) -> None:
    for row_id in expected:
        name = sheet_of_row(row_id)
        sheet = sheets.get(name) if name else None
        if sheet is None or not sheet.columns.get(ROW_ID_KEY) or row_id in sheet.rows:
            continue
        problems.append(Problem(Code.RAD_SAKNAS, f"Raden med Rad-id '{row_id}' saknas (borttagen?). Fyll filen på "
                                "nytt med xlplan fill --update.", file, sheet.actual_name))


def context_row_inputs(sheet: BookSheet) -> list[tuple[BookRow, str]]:
    """(row, key) of each value typed into an input column of a read-only context row (``R|…``: an
    indicator someone else reports; the sheet protection has no password).  Such values are never read."""
    inputs = [c.key for c in layout_columns(sheet.name) if c.input] if sheet.name in COLUMNS else []
    return [(row, key) for row_id, row in sheet.rows.items() if row_id.startswith(f"{CONTEXT_ROW}|")
            for key in inputs if row.raw.get(key) not in (None, "") and key in row.cells]


def check_context_rows(sheets: dict[str, BookSheet], file: str, problems: list[Problem]) -> None:
    sheet = sheets.get(INDICATORS)
    for row, key in context_row_inputs(sheet) if sheet else []:
        who = str(row.values.get("status") or "Rapporteras av någon annan")
        raw = row.raw[key]
        shown = format_number(raw) if isinstance(raw, (int, float)) and not isinstance(raw, bool) else str(raw)
        problems.append(Problem(
            Code.KANNEDOM_INMATAT, f"Cell {row.cells[key]} har värdet '{shown}' på en rad för kännedom "
            f"({row.values.get('indicator')}). {who[0].upper()}{who[1:]}; raden läses inte och värdet räknas inte.",
            file, sheet.actual_name if sheet else None, row.cells[key]))


# ---------------------------------------------------------------- number formats of outcome cells

def add_percent_formats(grids: Grids, sheet: BookSheet) -> None:
    """Mark outcome cells with a percent number format and read their numbers as percent (0,58 → 58).

    Grids hold no formats, so they are asked for the number formats of the
    outcome cells holding numbers (from a file's XML, or the open book's cells).
    """
    col = sheet.columns.get("outcome")
    if col is None:
        return
    wanted = {row.cells["outcome"]: row for row in sheet.rows.values()
              if isinstance(row.raw.get("outcome"), (int, float)) and not isinstance(row.raw.get("outcome"), bool)}
    if not wanted:
        return
    formats = grids.number_formats(sheet.actual_name, set(wanted))
    for cell, fmt in formats.items():
        if not is_percent_format(fmt):
            continue
        row = wanted[cell]
        row.formats["outcome"] = fmt
        unit = row.raw.get("unit")
        reading = read_outcome(row.raw.get("outcome"), str(unit) if unit is not None else None, number_format=fmt)
        row.values["outcome"] = reading.value
