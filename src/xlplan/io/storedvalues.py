"""Stored (cached) results for the formulas xlplan writes into a department workbook.

openpyxl writes a formula as ``<f>`` with an empty ``<v>``: Excel recalculates on open
(``fullCalcOnLoad``), but a previewer (Explorer, Outlook, mobile viewers, anything that does
not calculate) shows the cell blank, and Excel asks to save a file nobody changed.
:func:`store_formula_values` runs on a saved workbook (the I/O edge, after openpyxl has
written it) and puts each known formula's result into its ``<v>``:

- a status cell (``Mål och indikatorer``): the label of the one assessment
  (:func:`xlplan.core.assess.assess`), read as the formula reads its cells (only a number is an
  outcome or a comparison value); stored only when the cell holds exactly the formula
  :func:`xlplan.books.department.layout.row_status_formula` makes for that row;
- the summary and total formulas of the layout (``COUNTIF``, ``COUNTBLANK``, ``SUM``, the
  budget deviation and the risk value), computed from the cells they read with Excel's rules.

A formula xlplan does not know (one a person wrote, a status formula edited by hand, one that
reads a cell holding text where Excel would give ``#VALUE!``) keeps its empty ``<v>``: Excel
computes it on open: the workbook's ``<calcPr>`` asks for a full calculation on open only then
(:func:`calc_settings`); when every result is stored Excel shows them and asks nothing on close.
Pure computation (:func:`formula_values`) and the XML edit
(:func:`patch_sheet_xml`) are separate; :func:`store_formula_values` reads and rewrites the file.
"""

from __future__ import annotations

import io
import math
import re
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from defusedxml import ElementTree

from xlplan.core.cells import a1, split_a1

__all__ = ["store_formula_values", "formula_values", "patch_sheet_xml", "read_cells", "SheetCells"]

_M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


class _Unknown:
    """A result xlplan does not know (Excel computes it)."""

    def __repr__(self) -> str:
        return "UNKNOWN"


UNKNOWN: Any = _Unknown()


@dataclass(frozen=True)
class _Error:
    code: str  # '#DIV/0!'


@dataclass
class SheetCells:
    """One sheet's cells as stored, by A1 address: literal values, formula texts (``=…``) and the
    formulas' stored results (absent when the file has none)."""

    values: dict[str, Any]
    formulas: dict[str, str]
    cached: dict[str, Any]


# ---------------------------------------------------------------- reading the package

def read_cells(zf: zipfile.ZipFile) -> tuple[dict[str, SheetCells], dict[str, str]]:
    """Every sheet's cells (by sheet name) and each sheet's part name."""
    from xlplan.io.tables import sheet_parts

    strings = _shared_strings(zf)
    parts = sheet_parts(zf.read("xl/workbook.xml"), zf.read("xl/_rels/workbook.xml.rels"))
    names = set(zf.namelist())
    cells = {name: _sheet_cells(zf.read(part), strings) for name, part in parts.items() if part in names}
    return cells, parts


def _shared_strings(zf: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in zf.namelist():
        return []
    root = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{_M}t")) for si in root.findall(f"{_M}si")]


def _sheet_cells(xml: bytes, strings: list[str]) -> SheetCells:
    out = SheetCells({}, {}, {})
    root = ElementTree.fromstring(xml)
    for c in root.iter(f"{_M}c"):
        ref = c.get("r", "")
        f = c.find(f"{_M}f")
        if f is not None:
            out.formulas[ref] = "=" + f.text if f.text else ""
        value = _stored(c, strings)
        if value is not UNKNOWN:
            (out.cached if f is not None else out.values)[ref] = value
    return out


def _stored(c: Any, strings: list[str]) -> Any:
    """A cell element's stored value (UNKNOWN: none)."""
    kind = c.get("t", "n")
    v = c.find(f"{_M}v")
    text = v.text if v is not None else None
    if kind == "inlineStr":
        return "".join(t.text or "" for t in c.iter(f"{_M}t"))
    if kind == "str":
        return text or ""  # a formula's "" is stored as an empty <v>
    if text is None:
        return UNKNOWN
    if kind == "s":
        return strings[int(text)]
    if kind == "d":
        return text
    if kind == "b":
        return text == "1"
    if kind == "e":
        return _Error(text)
    return float(text)


# ---------------------------------------------------------------- computing

_REF = r"(?:(?:'(?:[^']|'')+'|[A-Za-z0-9_.]+)!)?\$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?"
_CELL_REF = r"\$?[A-Z]{1,3}\$?\d+"
_PATTERNS: list[tuple[re.Pattern[str], str]] = [(re.compile(p + r"\Z"), kind) for p, kind in (
    (rf'=COUNTIF\(({_REF}),"((?:[^"]|"")*)"\)', "countif"),
    (rf"=COUNTBLANK\(({_REF})\)", "countblank"),
    (rf"=SUM\(({_REF})\)", "sum"),
    (rf'=IF\(COUNT\(({_REF})\)=0,"",SUM\(({_REF})\)\)', "sum_or_blank"),
    (rf'=IF\(ISBLANK\(({_CELL_REF})\),"",({_CELL_REF})-({_CELL_REF})\)', "deviation"),
    (rf'=IF\(OR\(({_CELL_REF})="",({_CELL_REF})=""\),"",({_CELL_REF})\*({_CELL_REF})\)', "product"),
)]


_MAX_RANGE = 100_000


def _split_ref(ref: str, sheet: str) -> tuple[str, list[str]]:
    """(sheet name, the cells of the range in A1) of ``'Blad 1'!$A$1:$B$2`` read on *sheet*."""
    if "!" in ref:
        prefix, ref = ref.rsplit("!", 1)
        sheet = prefix[1:-1].replace("''", "'") if prefix.startswith("'") else prefix
    ref = ref.replace("$", "")
    first, _, last = ref.partition(":")
    last = last or first
    c0, r0 = split_a1(first)
    c1, r1 = split_a1(last)
    if (abs(r1 - r0) + 1) * (abs(c1 - c0) + 1) > _MAX_RANGE:
        return sheet, [first] * (_MAX_RANGE + 1)  # too large to be the layout's: the caller gives up
    return sheet, [a1(r, c) for r in range(min(r0, r1), max(r0, r1) + 1)
                   for c in range(min(c0, c1), max(c0, c1) + 1)]


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


class _Book:
    """Cell values of a workbook with the known formulas computed on demand (memoised)."""

    def __init__(self, cells: Mapping[str, SheetCells], known: Mapping[tuple[str, str], Any]):
        self.cells = cells
        self.memo: dict[tuple[str, str], Any] = dict(known)
        self.busy: set[tuple[str, str]] = set()

    def has_formula(self, sheet: str, a1: str) -> bool:
        s = self.cells.get(sheet)
        return s is not None and a1 in s.formulas

    def value(self, sheet: str, a1: str) -> Any:
        s = self.cells.get(sheet)
        if s is None:
            return UNKNOWN
        if a1 not in s.formulas:
            v = s.values.get(a1)
            return UNKNOWN if isinstance(v, _Error) else v
        key = (sheet, a1)
        if key not in self.memo:
            if key in self.busy:  # a circular reference: Excel's business
                return UNKNOWN
            self.busy.add(key)
            self.memo[key] = self.compute(sheet, s.formulas[a1])
            self.busy.discard(key)
        return self.memo[key]

    def values(self, sheet: str, ref: str) -> list[Any]:
        name, cells = _split_ref(ref, sheet)
        if len(cells) > _MAX_RANGE:  # not a range the layout writes: left to Excel
            return [UNKNOWN]
        return [self.value(name, a1) for a1 in cells]

    def compute(self, sheet: str, formula: str) -> Any:
        for pattern, kind in _PATTERNS:
            m = pattern.match(formula)
            if m is not None:
                return _KINDS[kind](self, sheet, m.groups())
        return UNKNOWN


def _countif(book: _Book, sheet: str, groups: tuple[str, ...]) -> Any:
    ref, word = groups[0], groups[1].replace('""', '"')
    if not word or any(ch in word for ch in "*?~<>=") or _number_text_like(word):
        return UNKNOWN  # criteria with wildcards, operators or numbers: not what the layout writes
    values = book.values(sheet, ref)
    if any(v is UNKNOWN for v in values):
        return UNKNOWN
    return float(sum(1 for v in values if isinstance(v, str) and v.casefold() == word.casefold()))


def _number_text_like(word: str) -> bool:
    try:
        float(word.replace(",", "."))
    except ValueError:
        return False
    return True


def _countblank(book: _Book, sheet: str, groups: tuple[str, ...]) -> Any:
    values = book.values(sheet, groups[0])
    if any(v is UNKNOWN for v in values):
        return UNKNOWN
    return float(sum(1 for v in values if v is None or v == ""))


def _sum_of(values: list[Any]) -> Any:
    if any(v is UNKNOWN for v in values):
        return UNKNOWN
    return math.fsum(v for v in values if _is_number(v)) + 0.0


def _sum(book: _Book, sheet: str, groups: tuple[str, ...]) -> Any:
    return _sum_of(book.values(sheet, groups[0]))


def _sum_or_blank(book: _Book, sheet: str, groups: tuple[str, ...]) -> Any:
    if groups[0] != groups[1]:
        return UNKNOWN
    values = book.values(sheet, groups[0])
    total = _sum_of(values)
    if total is UNKNOWN:
        return UNKNOWN
    return "" if not any(_is_number(v) for v in values) else total


def _deviation(book: _Book, sheet: str, groups: tuple[str, ...]) -> Any:
    tested, minuend, subtrahend = (g.replace("$", "") for g in groups)
    if tested != minuend:
        return UNKNOWN
    a = book.value(sheet, minuend)
    if a is None and not book.has_formula(sheet, minuend):
        return ""  # ISBLANK: an empty cell (a formula's "" is not blank)
    b = book.value(sheet, subtrahend)
    b = 0.0 if b is None else b
    return float(a) - float(b) if _is_number(a) and _is_number(b) else UNKNOWN


def _product(book: _Book, sheet: str, groups: tuple[str, ...]) -> Any:
    p, c, p2, c2 = (g.replace("$", "") for g in groups)
    if (p, c) != (p2, c2):
        return UNKNOWN
    a, b = book.value(sheet, p), book.value(sheet, c)
    if a is UNKNOWN or b is UNKNOWN:
        return UNKNOWN
    if a in (None, "") or b in (None, ""):
        return ""
    return float(a) * float(b) if _is_number(a) and _is_number(b) else UNKNOWN


_KINDS: dict[str, Callable[[_Book, str, tuple[str, ...]], Any]] = {
    "countif": _countif, "countblank": _countblank, "sum": _sum, "sum_or_blank": _sum_or_blank,
    "deviation": _deviation, "product": _product,
}


def formula_values(cells: Mapping[str, SheetCells],
                   status: Mapping[tuple[str, str], Any] | None = None) -> dict[str, dict[str, Any]]:
    """The known result of each formula cell, by sheet and A1 (unknown ones left out).

    *status* gives results already known (the status cells, from the assessment);
    the other formulas are computed from the cells they read.
    """
    book = _Book(cells, status or {})
    out: dict[str, dict[str, Any]] = {}
    for sheet, s in cells.items():
        for ref in s.formulas:
            v = book.value(sheet, ref)
            if v is not UNKNOWN:
                out.setdefault(sheet, {})[ref] = v
    return out


def status_values(path: Path, cells: Mapping[str, SheetCells]) -> dict[tuple[str, str], Any]:
    """(sheet, A1) -> status label for each status cell holding the formula xlplan makes for its row,
    from the one assessment; a cell with another formula, or a row reading a formula, is UNKNOWN."""
    from xlplan.books.department.columns import INDICATORS
    from xlplan.books.department.embedded import read_embedded
    from xlplan.books.department.layout import row_status_formula
    from xlplan.books.department.reader import read_department_workbook
    from xlplan.core.assess import assess, row_inputs, uses_comparison
    from xlplan.core.errors import XlplanError
    from xlplan.core.periods import parse_period
    from xlplan.core.rowids import indicator_of

    try:
        book = read_department_workbook(path)
        embedded = read_embedded(path)
        period = parse_period(book.period or "")
    except (XlplanError, ValueError, OSError, zipfile.BadZipFile):
        return {}
    sheet = book.sheets.get(INDICATORS)
    if embedded is None or sheet is None:
        return {}
    plan = embedded.plan
    indicators = {i.id: i for i in plan.indicators}
    formulas = cells[sheet.actual_name].formulas if sheet.actual_name in cells else {}
    out: dict[tuple[str, str], Any] = {}
    for row in sheet.rows.values():
        found = indicator_of(row.row_id)
        cell = row.cells.get("status")
        if found is None or cell is None or cell not in formulas:
            continue
        key = (sheet.actual_name, cell)
        out[key] = UNKNOWN
        ind = indicators.get(found[0])
        outcome, assessment = row.cells.get("outcome"), row.cells.get("assessment")
        if ind is None or outcome is None or assessment is None or set(row.formulas) & {
                "outcome", "comparison", "assessment"}:
            continue
        series = found[1]
        goal = plan.goal(ind.goal_id)
        target = ind.target(period.year, goal)
        compared = uses_comparison(target, ind.baseline_values(), series)
        if compared and "comparison" not in row.cells:
            continue
        expected = row_status_formula(plan, period.year, goal, ind, series, outcome, assessment,
                                      row.cells["comparison"] if compared else None)
        if expected is None or expected != formulas[cell]:
            continue  # edited by hand or from another plan version: Excel computes it
        # As the formula reads the row: only a number is an outcome or a comparison value.
        seen = {"outcome": row.raw.get("outcome") if _is_number(row.raw.get("outcome")) else None,
                "comparison": row.raw.get("comparison") if _is_number(row.raw.get("comparison")) else None,
                "assessment": row.raw.get("assessment"),
                "comparison_source": row.raw.get("comparison_source")}
        a = assess(row_inputs(ind, goal, period.year, series, seen, settings=plan.settings.status_settings,
                              target=target, polarity=ind.polarity(goal), baseline=ind.baseline_values()))
        out[key] = a.status.label
    return out


# ---------------------------------------------------------------- writing

_CELL_XML = re.compile(r"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_F_XML = re.compile(r"<f\b[^>]*/>|<f\b[^>]*>.*?</f>", re.S)
_R_ATTR = re.compile(r'\br="([A-Z]+\d+)"')
_T_ATTR = re.compile(r'\s+t="[^"]*"')


def _v_xml(value: Any) -> tuple[str, str]:
    """(t attribute, <v> element) of a result."""
    if isinstance(value, bool):
        return ' t="b"', f"<v>{int(value)}</v>"
    if isinstance(value, str):
        return ' t="str"', f"<v>{escape(value)}</v>"
    x = float(value)
    text = str(int(x)) if x.is_integer() and abs(x) < 1e15 else repr(x)
    return "", f"<v>{text}</v>"


def patch_sheet_xml(xml: str, values: Mapping[str, Any]) -> tuple[str, int]:
    """The sheet XML with each formula cell in *values* (A1 -> result) given that stored result;
    and how many cells were given one. Cells without a formula are left alone."""
    count = 0

    def one(m: re.Match[str]) -> str:
        nonlocal count
        attrs, inner = m.group(1), m.group(2)
        ref = _R_ATTR.search(attrs)
        if inner is None or ref is None or ref.group(1) not in values:
            return m.group(0)
        f = _F_XML.search(inner)
        if f is None:
            return m.group(0)
        t, v = _v_xml(values[ref.group(1)])
        count += 1
        return f"<c{_T_ATTR.sub('', attrs)}{t}>{f.group(0)}{v}</c>"

    return _CELL_XML.sub(one, xml), count


def store_formula_values(path: str | Path) -> int:
    """Give the formula cells xlplan knows in the workbook *path* their stored results, in place.

    Returns how many cells got one. A file that is no xlplan department workbook still gets the
    results of the layout's summary formulas it holds; a file that cannot be read is left as it is.
    Call it on the file just written (e.g. the temporary file of :func:`xlplan.io.atomic.atomic_path`).
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as zf:
            cells, parts = read_cells(zf)
            entries = [(info, zf.read(info)) for info in zf.infolist()]
        if not any(s.formulas for s in cells.values()):
            return 0
        values = formula_values(cells, status_values(path, cells))
    except (zipfile.BadZipFile, KeyError, IndexError, ValueError, ElementTree.ParseError, OSError):
        return 0  # a package xlplan cannot read this way: left as written (Excel computes on open)
    by_part = {parts[name]: v for name, v in values.items() if v}
    every = all(a1 in values.get(name, {}) for name, s in cells.items() for a1 in s.formulas)
    total = 0
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in entries:
            if info.filename in by_part:
                xml, n = patch_sheet_xml(data.decode("utf-8"), by_part[info.filename])
                data, total = xml.encode("utf-8"), total + n
            elif info.filename == "xl/workbook.xml":
                data = calc_settings(data.decode("utf-8"), every).encode("utf-8")
            out.writestr(info, data)
    path.write_bytes(buffer.getvalue())
    return total


# Excel 365's calculation engine. A file calculated by an older engine (openpyxl writes 124519, Excel
# 2007) or marked fullCalcOnLoad is recalculated on open, and Excel then asks to save it on close.
CURRENT_CALC_ID = "191029"
_CALC_PR = re.compile(r"<calcPr\b[^>]*?/>")
_CALC_ATTRS = re.compile(r'\s+(?:calcId|fullCalcOnLoad)="[^"]*"')


def calc_settings(workbook_xml: str, every_result_stored: bool) -> str:
    """``<calcPr>`` of the workbook: when every formula has its stored result, the current engine's id
    and no full calculation on open (Excel shows the stored results and asks nothing on close; it still
    recalculates a cell's dependents when someone types); otherwise ``fullCalcOnLoad`` (Excel computes
    the formulas xlplan does not know when the file is opened)."""
    def one(m: re.Match[str]) -> str:
        rest = _CALC_ATTRS.sub("", m.group(0)[len("<calcPr"):])  # other settings (calcMode …) kept
        full = "" if every_result_stored else ' fullCalcOnLoad="1"'
        return f'<calcPr calcId="{CURRENT_CALC_ID}"{full}{rest}'

    return _CALC_PR.sub(one, workbook_xml, count=1)
