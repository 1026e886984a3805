"""Backend-agnostic description of a workbook: sheets, columns, rows, styles.

A :class:`WorkbookSpec` is plain data (no openpyxl or xlwings objects). Each
layout module builds one; each backend writes one. Cells are found by stable
ids — ``(sheet, row_id, column key)`` — never by position:
:meth:`SheetSpec.address` maps them to A1 addresses for the description, and
:mod:`xlplan.books.department.reader` does the same for a file on disk.

Formulas are final Excel text (``Formula("=E7*F7")``): the layout resolves
addresses while it builds rows, so every backend writes the same formula.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from xlplan.core.cells import column_letter
from xlplan.core.status import Colours

TEMPLATE_VERSION = "1"
ROW_ID_KEY = "row_id"
ROW_ID_HEADER = "Rad-id"

Style = Literal["data", "total", "section", "note", "blank"]
TitleStyle = Literal["title", "subtitle", "note"]
Visibility = Literal["visible", "hidden", "veryHidden"]

# Colours as RRGGBB hex, shared by every backend.
INPUT_FILL = "FFF2CC"
HEADER_FILL = "1F4E78"
HEADER_FONT = "FFFFFF"
SECTION_FILL = "DDEBF7"
TOTAL_FILL = "F2F2F2"
BORDER_COLOUR = "A6A6A6"


@dataclass(frozen=True)
class Formula:
    """An Excel formula, English function names, comma separators: ``=SUM(C6:C9)``."""

    text: str

    def __post_init__(self) -> None:
        if not self.text.startswith("="):
            raise ValueError(f"a formula starts with '=': {self.text!r}")


@dataclass(frozen=True)
class Validation:
    """A data validation on a cell: a drop-down list or a number range."""

    kind: Literal["list", "decimal", "whole"]
    options: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    allow_blank: bool = True
    error_title: str = "Ogiltigt värde"
    error: str = ""
    prompt: str | None = None


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    header: str
    width: float = 12
    input: bool = False
    number_format: str | None = None
    validation: Validation | None = None
    hidden: bool = False
    wrap: bool = True
    keep: bool = False  # written by pull etc.: kept on refill like an input

    @property
    def preserved(self) -> bool:
        """Whether a refill carries this column's values over from the old file."""
        return self.input or self.keep


@dataclass(frozen=True)
class RowSpec:
    row_id: str  # "" for rows that carry no data (section headings, notes)
    values: dict[str, Any] = field(default_factory=dict)  # key -> value | Formula
    style: Style = "data"
    inputs: frozenset[str] | None = None  # overrides the columns' input flags for this row
    number_formats: dict[str, str] = field(default_factory=dict)
    validations: dict[str, Validation] = field(default_factory=dict)

    def is_input(self, column: ColumnSpec) -> bool:
        return column.key in self.inputs if self.inputs is not None else column.input


@dataclass(frozen=True)
class TitleRow:
    text: str
    style: TitleStyle = "title"


@dataclass(frozen=True)
class ConditionalFormat:
    """Colour a column's data cells by the word they hold (the word stays for grey-scale print)."""

    column: str
    fills: tuple[tuple[str, Colours], ...]  # (exact cell text, its fill and font: xlplan.core.status)


@dataclass(frozen=True)
class PrintSetup:
    landscape: bool = True
    fit_to_width: bool = True
    repeat_header: bool = True
    paper: Literal["A4", "A3"] = "A4"
    footer: str = "Sida &P av &N"


@dataclass(frozen=True)
class Protection:
    enabled: bool = True
    password: str | None = None


@dataclass(frozen=True)
class AreaSpec:
    """A named block another command writes later (e.g. the flag list on Översikt)."""

    name: str  # workbook defined name, e.g. "xlplan_flaggor"
    sheet: str
    title: str
    start_row: int  # first row the writer may fill
    start_column: int  # 1-based
    width: int  # number of columns the area may use
    placeholder: str = ""

    @property
    def start_cell(self) -> str:
        return f"{column_letter(self.start_column)}{self.start_row}"


@dataclass
class SheetSpec:
    """One sheet: optional title rows, a header row, one row per record.

    Column A is always the (usually hidden) Rad-id column; data rows follow the
    header row in order, so the description fixes every address.
    """

    name: str
    columns: list[ColumnSpec]
    header_row: int = 5
    title_rows: list[TitleRow] = field(default_factory=list)
    rows: list[RowSpec] = field(default_factory=list)
    freeze_column: str = "B"
    print_setup: PrintSetup = field(default_factory=PrintSetup)
    conditional_formats: list[ConditionalFormat] = field(default_factory=list)
    protection: Protection = field(default_factory=Protection)
    visibility: Visibility = "visible"
    areas: list[AreaSpec] = field(default_factory=list)

    def __post_init__(self) -> None:
        if not self.columns or self.columns[0].key != ROW_ID_KEY:
            raise ValueError(f"sheet {self.name!r}: the first column must be the Rad-id column")
        if len(self.title_rows) >= self.header_row:
            raise ValueError(f"sheet {self.name!r}: title rows overlap the header row")

    # -- addressing ---------------------------------------------------------
    def column_index(self, key: str) -> int:
        """1-based column number of *key*."""
        for i, col in enumerate(self.columns, start=1):
            if col.key == key:
                return i
        raise KeyError(f"sheet {self.name!r} has no column {key!r}")

    def column(self, key: str) -> ColumnSpec:
        return self.columns[self.column_index(key) - 1]

    def letter(self, key: str) -> str:
        return column_letter(self.column_index(key))

    @property
    def first_data_row(self) -> int:
        return self.header_row + 1

    @property
    def last_data_row(self) -> int:
        """Last row of the table (the header row when there are no rows)."""
        return self.header_row + len(self.rows)

    def row_number(self, row_id: str) -> int:
        for i, row in enumerate(self.rows):
            if row.row_id == row_id and row_id:
                return self.first_data_row + i
        raise KeyError(f"sheet {self.name!r} has no row {row_id!r}")

    def address(self, row_id: str, key: str) -> str:
        """A1 address of the cell in row *row_id*, column *key*."""
        return f"{self.letter(key)}{self.row_number(row_id)}"

    def column_range(self, key: str, absolute: bool = True) -> str:
        """The data cells of one column, e.g. ``$L$6:$L$40`` (one cell when there are no rows)."""
        col = self.letter(key)
        last = max(self.last_data_row, self.first_data_row)
        d = "$" if absolute else ""
        return f"{d}{col}{d}{self.first_data_row}:{d}{col}{d}{last}"

    def row(self, row_id: str) -> RowSpec | None:
        return next((r for r in self.rows if r.row_id == row_id and row_id), None)

    def row_ids(self) -> list[str]:
        return [r.row_id for r in self.rows if r.row_id]


@dataclass
class WorkbookSpec:
    sheets: list[SheetSpec]
    properties: dict[str, str] = field(default_factory=dict)  # custom document properties
    active: str | None = None

    def sheet(self, name: str) -> SheetSpec:
        for s in self.sheets:
            if s.name == name:
                return s
        raise KeyError(f"no sheet {name!r}")

    def has_sheet(self, name: str) -> bool:
        return any(s.name == name for s in self.sheets)

    def address(self, sheet: str, row_id: str, key: str) -> str:
        return self.sheet(sheet).address(row_id, key)

    def areas(self) -> list[AreaSpec]:
        return [a for s in self.sheets for a in s.areas]


def quote_sheet(name: str) -> str:
    """A sheet name as it stands in a formula: ``'Mål och indikatorer'``."""
    return "'" + name.replace("'", "''") + "'"
