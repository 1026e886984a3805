"""Write a :class:`~xlplan.books.spec.WorkbookSpec` to an .xlsx file with openpyxl.

Linear in the cells written: each distinct cell style is made once per workbook and
copied to the cells that share it, and each data validation gets its cells as column
ranges in one assignment (openpyxl's ``DataValidation.add`` checks every range it has).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from copy import copy
from pathlib import Path
from typing import Any, cast

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.styles import Protection as CellProtection
from openpyxl.styles.cell_style import StyleArray
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.books.spec import (
    BORDER_COLOUR,
    HEADER_FILL,
    HEADER_FONT,
    INPUT_FILL,
    SECTION_FILL,
    TOTAL_FILL,
    ColumnSpec,
    Formula,
    RowSpec,
    SheetSpec,
    Validation,
    WorkbookSpec,
    quote_sheet,
)
from xlplan.core.cells import column_letter
from xlplan.io.xmltext import escape_cell_text

_THIN = Side(style="thin", color=BORDER_COLOUR)
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_TITLE_FONTS = {"title": Font(bold=True, size=14), "subtitle": Font(bold=True, size=11),
                "note": Font(italic=True, size=9, color="595959")}


def build_workbook(spec: WorkbookSpec) -> Workbook:
    """The openpyxl workbook for *spec* (not saved)."""
    wb = Workbook()
    wb.remove(wb.worksheets[0])  # a new Workbook() holds exactly one sheet
    for sheet in spec.sheets:
        write_sheet(wb.create_sheet(sheet.name), sheet)
    for sheet in spec.sheets:
        for area in sheet.areas:
            ref = f"{quote_sheet(area.sheet)}!${column_letter(area.start_column)}${area.start_row}"
            wb.defined_names[area.name] = DefinedName(area.name, attr_text=ref)
    for name, value in spec.properties.items():
        wb.custom_doc_props.append(  # type: ignore[attr-defined]  # stubs lack Workbook.custom_doc_props
            StringProperty(name=name, value=str(value)))
    wb.properties.creator = "xlplan"
    if spec.active and spec.has_sheet(spec.active):
        wb.active = [s.name for s in spec.sheets].index(spec.active)
    return wb


def write_workbook(spec: WorkbookSpec, path: str | Path) -> None:
    """Save *spec* to *path* (the caller makes the write atomic)."""
    build_workbook(spec).save(path)


def _cell(ws: Worksheet, row: int, column: int) -> Cell:
    """``ws.cell`` as a plain Cell: the stubs allow a MergedCell, but this module never merges cells."""
    return cast(Cell, ws.cell(row, column))


def write_sheet(ws: Worksheet, sheet: SheetSpec) -> None:
    for i, title in enumerate(sheet.title_rows, start=1):
        cell = _cell(ws, i, 2)
        set_value(cell, title.text)
        cell.font = _TITLE_FONTS[title.style]
        cell.protection = CellProtection(locked=True)
    write_header(ws, sheet)
    validations: dict[Validation, list[tuple[int, int]]] = {}
    styles: dict[tuple[Any, ...], StyleArray] = {}
    for i, row in enumerate(sheet.rows):
        write_row(ws, sheet, row, sheet.first_data_row + i, validations, styles)
    for validation, cells in validations.items():
        dv = data_validation(validation)
        dv.sqref = cell_ranges(cells)
        ws.add_data_validation(dv)
    for area in sheet.areas:
        write_area(ws, area)
    apply_conditional_formats(ws, sheet)
    apply_sheet_settings(ws, sheet)


def write_header(ws: Worksheet, sheet: SheetSpec) -> None:
    for c, col in enumerate(sheet.columns, start=1):
        cell = _cell(ws, sheet.header_row, c)
        set_value(cell, col.header)
        cell.font = Font(bold=True, color=HEADER_FONT)
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        cell.border = _BORDER
        letter = column_letter(c)
        ws.column_dimensions[letter].width = col.width
        ws.column_dimensions[letter].hidden = col.hidden


def estimated_lines(sheet: SheetSpec, row: RowSpec) -> int:
    """How many text lines the row's wrapped cells need (Excel does not size rows of a new file)."""
    lines = 1
    for col in sheet.columns:
        value = row.values.get(col.key)
        if col.hidden or not col.wrap or value is None or isinstance(value, Formula):
            continue
        per_line = max(1.0, col.width * 1.2)
        n = sum(math.ceil(max(1, len(part)) / per_line) for part in str(value).split("\n"))
        lines = max(lines, n)
    return min(lines, 15)


def write_row(ws: Worksheet, sheet: SheetSpec, row: RowSpec, r: int,
              validations: dict[Validation, list[tuple[int, int]]],
              styles: dict[tuple[Any, ...], StyleArray] | None = None) -> None:
    """Write one row; its validated input cells are added to *validations* as (column, row).

    *styles* caches each distinct style (see :func:`style_key`) for the sheet.
    """
    lines = estimated_lines(sheet, row)
    if lines > 1:
        ws.row_dimensions[r].height = 15 * lines
    styles = {} if styles is None else styles
    for c, col in enumerate(sheet.columns, start=1):
        cell = _cell(ws, r, c)
        value = row.values.get(col.key, row.row_id if col.key == "row_id" else None)
        set_value(cell, value)
        key = style_key(col, row)
        made = styles.get(key)
        if made is None:
            style_cell(cell, col, row)
            styles[key] = copy(cell._style)  # type: ignore[attr-defined]  # stubs name _style only in __slots__
        else:
            cell._style = copy(made)  # type: ignore[attr-defined]  # as above
        validation = row.validations.get(col.key, col.validation)
        if validation is not None and row.is_input(col):
            validations.setdefault(validation, []).append((c, r))


def style_key(col: ColumnSpec, row: RowSpec) -> tuple[Any, ...]:
    """Everything :func:`style_cell` looks at: cells with the same key get the same style."""
    return (row.is_input(col), row.style, row.number_formats.get(col.key, col.number_format), col.wrap)


def cell_ranges(cells: Iterable[tuple[int, int]]) -> str:
    """(column, row) cells as space-separated A1 ranges: one per run of consecutive rows in a column."""
    out: list[str] = []
    run: list[int] = []  # column, first row, last row
    for c, r in sorted(set(cells)):
        if run and c == run[0] and r == run[2] + 1:
            run[2] = r
            continue
        if run:
            out.append(_run_ref(*run))
        run = [c, r, r]
    if run:
        out.append(_run_ref(*run))
    return " ".join(out)


def _run_ref(c: int, first: int, last: int) -> str:
    letter = column_letter(c)
    return f"{letter}{first}" if first == last else f"{letter}{first}:{letter}{last}"


def set_value(cell: Cell, value: Any) -> None:
    """Write a value; plain text is never taken for a formula, and a literal ``_xHHHH_`` in it is escaped."""
    if isinstance(value, Formula):
        cell.value = value.text
        return
    if isinstance(value, str):
        value = escape_cell_text(ILLEGAL_CHARACTERS_RE.sub("", value))
        cell.value = value
        if value.startswith("="):
            cell.data_type = "s"
        return
    cell.value = value


def style_cell(cell: Cell, col: ColumnSpec, row: RowSpec) -> None:
    is_input = row.is_input(col) and row.style == "data"
    cell.protection = CellProtection(locked=not is_input)
    fmt = row.number_formats.get(col.key, col.number_format)
    if fmt:
        cell.number_format = fmt
    cell.alignment = Alignment(wrap_text=col.wrap, vertical="top")
    if row.style == "section":
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=SECTION_FILL)
        return
    if row.style in ("note", "blank"):
        if row.style == "note":
            cell.font = Font(italic=True, size=9, color="595959")
            cell.alignment = Alignment(wrap_text=False, vertical="top")
        return
    cell.border = _BORDER
    if row.style == "total":
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor=TOTAL_FILL)
    elif is_input:
        cell.fill = PatternFill("solid", fgColor=INPUT_FILL)


def data_validation(v: Validation) -> DataValidation:
    if v.kind == "list":
        dv = DataValidation(type="list", formula1='"' + ",".join(v.options) + '"', allow_blank=v.allow_blank)
    else:
        lo = v.minimum if v.minimum is not None else -1e15
        hi = v.maximum if v.maximum is not None else 1e15
        dv = DataValidation(type=v.kind, operator="between", formula1=_num(lo), formula2=_num(hi),
                            allow_blank=v.allow_blank)
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.errorTitle = v.error_title[:32]
    dv.error = v.error[:255]
    if v.prompt:
        dv.showInputMessage = True
        dv.prompt = v.prompt[:255]
    return dv


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(float(x))


def write_area(ws: Worksheet, area: Any) -> None:
    title = _cell(ws, area.start_row - 1, area.start_column)
    set_value(title, area.title)
    title.font = Font(bold=True, size=12)
    if area.placeholder:
        note = _cell(ws, area.start_row, area.start_column)
        set_value(note, area.placeholder)
        note.font = Font(italic=True, color="595959")


def apply_conditional_formats(ws: Worksheet, sheet: SheetSpec) -> None:
    if not sheet.rows:
        return
    for cf in sheet.conditional_formats:
        ref = sheet.column_range(cf.column, absolute=False)
        for word, colours in cf.fills:
            fill = PatternFill("solid", fgColor=colours.fill, bgColor=colours.fill)
            ws.conditional_formatting.add(
                ref, CellIsRule(operator="equal", formula=['"' + word.replace('"', '""') + '"'], fill=fill,
                                font=Font(color=colours.font)))


def apply_sheet_settings(ws: Worksheet, sheet: SheetSpec) -> None:
    ws.sheet_state = sheet.visibility
    ws.freeze_panes = f"{sheet.freeze_column}{sheet.first_data_row}"
    ws.row_dimensions[sheet.header_row].height = 32
    ps = sheet.print_setup
    ws.page_setup.orientation = "landscape" if ps.landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A3 if ps.paper == "A3" else ws.PAPERSIZE_A4
    if ps.fit_to_width:
        setup = ws.sheet_properties.pageSetUpPr
        if setup is None:  # openpyxl makes one with every sheet; the stubs allow None
            setup = ws.sheet_properties.pageSetUpPr = PageSetupProperties()
        setup.fitToPage = True
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
    if ps.repeat_header:
        ws.print_title_rows = f"{sheet.header_row}:{sheet.header_row}"
    ws.print_options.gridLines = False
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    footer = ws.oddFooter
    if footer is None:  # openpyxl makes one with every sheet; the stubs allow None
        footer = ws.oddFooter = HeaderFooterItem()
    footer.center.text = ps.footer
    footer.left.text = "&A"
    if sheet.protection.enabled:
        protect(ws, sheet.protection.password)


def protect(ws: Worksheet, password: str | None) -> None:
    sp = ws.protection
    sp.sheet = True
    if password:
        sp.password = password
    # True means "not allowed"; let people resize columns and rows and select cells.
    sp.formatColumns = False
    sp.formatRows = False
    sp.selectLockedCells = False
    sp.selectUnlockedCells = False
