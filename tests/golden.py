"""Compare two workbooks by meaning, and name the first difference.

What a person or a reader of the file can see counts: sheet names, order
and visibility; cell values with their type, number format, boldness, fill,
wrapping and locking; merged cells; data validation; sheet protection;
conditional formatting; defined names, print titles and print area; page
setup; frozen panes and filters; column widths and hidden columns; row
heights.  What changes from one run to the next does not (creation time in
docProps, zip entry dates, the order of parts and of style records): the
files are read through openpyxl, which resolves shared strings and style
indices, so two writers that produce the same workbook compare equal.  The
idea follows XlsxWriter's own test helpers (``test/helperfunctions.py``:
normalised XML with volatile bits stripped), one level up.

Use::

    from golden import first_difference  # tests/ is on the path under pytest
    assert first_difference(got, golden) is None
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

Item = tuple[str, Any]  # (where, what)


def _colour(fill: Any) -> str | None:
    if fill is None or fill.fill_type is None:
        return None
    colour = fill.fgColor
    return str(colour.rgb) if colour is not None and colour.type == "rgb" else str(colour.value)


def _dxf_colour(fill: Any) -> str | None:
    """A conditional format's fill colour: openpyxl writes it as fgColor, XlsxWriter (as Excel) as bgColor."""
    if fill is None:
        return None
    for colour in (fill.fgColor, fill.bgColor):
        if colour is not None and colour.type == "rgb" and colour.rgb not in ("00000000", "FF000000"):
            return str(colour.rgb)[-6:]
    return None


def _sheet_items(ws: Worksheet) -> Iterator[Item]:
    name = ws.title
    yield f"{name}: synlighet", ws.sheet_state
    yield f"{name}: låsta rutor", ws.freeze_panes
    yield f"{name}: filter", ws.auto_filter.ref
    yield f"{name}: skydd", (bool(ws.protection.sheet), bool(ws.protection.formatColumns),
                             bool(ws.protection.formatRows))
    yield f"{name}: utskriftsrubriker", ws.print_title_rows
    yield f"{name}: utskriftsområde", ws.print_area
    ps = ws.page_setup
    yield f"{name}: utskrift", (ps.orientation, str(ps.paperSize), ps.fitToWidth, ps.fitToHeight,
                                bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage))
    yield f"{name}: sidhuvud och sidfot", (ws.oddHeader.left.text, ws.oddHeader.center.text, ws.oddHeader.right.text,
                                           ws.oddFooter.left.text, ws.oddFooter.center.text, ws.oddFooter.right.text)
    yield f"{name}: sammanfogade celler", sorted(str(r) for r in ws.merged_cells.ranges)
    yield f"{name}: dataverifiering", sorted(
        (str(dv.sqref), dv.type, dv.formula1, bool(dv.allow_blank)) for dv in ws.data_validations.dataValidation)
    rules = []
    for cf in ws.conditional_formatting:
        for rule in cf.rules:
            fill = _dxf_colour(rule.dxf.fill) if rule.dxf is not None else None
            font = str(rule.dxf.font.color.rgb)[-6:] if rule.dxf is not None and rule.dxf.font is not None \
                and rule.dxf.font.color is not None else None
            rules.append((str(cf.sqref), rule.type, rule.operator, tuple(rule.formula or ()), fill, font))
    yield f"{name}: villkorsstyrd formatering", sorted(rules)
    for col in range(1, ws.max_column + 1):
        letter = get_column_letter(col)
        dim = ws.column_dimensions.get(letter)
        width = round(dim.width, 2) if dim is not None and dim.width else None
        yield f"{name}!{letter}: kolumnbredd", (width, bool(dim is not None and dim.hidden))
    heights = {r: round(d.height, 2) for r, d in ws.row_dimensions.items() if d.height is not None}
    yield f"{name}: radhöjder", sorted(heights.items())
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is None and not cell.has_style:
                continue
            value = cell.value
            yield f"{name}!{cell.coordinate}", (
                type(value).__name__, value, cell.number_format, bool(cell.font.bold), _colour(cell.fill),
                bool(cell.alignment.wrap_text), bool(cell.protection.locked))


def workbook_items(path: str | Path) -> list[Item]:
    """Everything :func:`first_difference` compares, in a stable order."""
    wb = load_workbook(path)
    items: list[Item] = [("blad", wb.sheetnames)]
    items.append(("definierade namn", sorted((n, str(d.attr_text)) for n, d in wb.defined_names.items())))
    for ws in wb.worksheets:
        items.extend(_sheet_items(ws))
    return items


def first_difference(got: str | Path, expected: str | Path) -> str | None:
    """None when the two workbooks mean the same; else a Swedish line naming the first difference."""
    a, b = workbook_items(got), workbook_items(expected)
    where_a = {w for w, _ in a}
    for (wa, va), (wb_, vb) in zip(a, b):
        if wa != wb_:
            missing = wb_ if wb_ not in where_a else wa
            return f"{missing}: finns bara i den ena arbetsboken"
        if va != vb:
            return f"{wa}: {va!r} i stället för {vb!r}"
    if len(a) != len(b):
        extra = a[len(b)] if len(a) > len(b) else b[len(a)]
        return f"{extra[0]}: finns bara i den ena arbetsboken"
    return None
