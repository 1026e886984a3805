"""Read a workbook's sheets as header-keyed tables (thin adapter over python-calamine).

Foreign exceptions become :class:`~xlplan.errors.WorkbookUnreadable` here, so the
core never sees calamine's or zipfile's errors.
"""

from __future__ import annotations

import datetime as dt
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

from xlplan.cells import a1
from xlplan.errors import WorkbookUnreadable

XML_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
_BUILTIN_FORMATS = {9: "0%", 10: "0.00%"}  # the built-in number formats that matter to xlplan (percent)
MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a department workbook is a few hundred kB; refuse zip bombs


def cell_ref(row0: int, col0: int) -> str:
    return a1(row0 + 1, col0 + 1)


@dataclass(frozen=True)
class Row:
    """One data row: values keyed by normalised header, with where each came from."""

    sheet: str
    number: int  # 1-based Excel row number
    values: dict[str, Any]
    columns: dict[str, int]  # normalised header -> 0-based column

    def get(self, key: str) -> Any:
        return self.values.get(norm_header(key))

    def ref(self, key: str) -> str:
        col = self.columns.get(norm_header(key))
        return a1(self.number, col + 1) if col is not None else f"rad {self.number}"


def norm_header(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


def clean(value: Any) -> Any:
    """Strip text, turn empty strings into None, and whole floats from Excel into ints."""
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
        return value
    return value


def check_zip(path: Path) -> None:
    """Refuse files that are not xlsx/xlsm zips, or that would unpack to something huge."""
    try:
        with zipfile.ZipFile(path) as zf:
            total = sum(info.file_size for info in zf.infolist())
            names = set(zf.namelist())
    except zipfile.BadZipFile as exc:
        raise WorkbookUnreadable(str(path), "filen är inte en Excel-arbetsbok (.xlsx/.xlsm) eller är skadad") from exc
    except OSError as exc:
        raise WorkbookUnreadable(str(path), f"filen kan inte öppnas ({exc.strerror or exc})") from exc
    if total > MAX_UNCOMPRESSED:
        raise WorkbookUnreadable(str(path), "filen packas upp till orimligt mycket data (zip-bomb?) och läses inte")
    if "xl/workbook.xml" not in names:
        raise WorkbookUnreadable(str(path), "zip-filen är ingen Excel-arbetsbok (xl/workbook.xml saknas)")
    check_parts(path)


def check_parts(path: Path) -> None:
    """Every part unpacks with the right checksum, and no XML part declares a DTD or entities.

    Excel never writes a DTD; one in ``docProps/core.xml`` (billion laughs) would make an
    XML reader expand entities without end, so such a file is refused before any reader sees it.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise WorkbookUnreadable(str(path), f"delen {bad} i filen är skadad (fel kontrollsumma); "
                                         "öppna filen i Excel och spara om den, eller använd en säkerhetskopia")
            for info in zf.infolist():
                if not info.filename.casefold().endswith((".xml", ".rels", ".vml")):
                    continue
                with zf.open(info) as fh:
                    head = fh.read(4096)
                if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                    raise WorkbookUnreadable(str(path), f"delen {info.filename} innehåller en DTD (XML-entiteter), "
                                             "vilket Excel aldrig skriver; filen kan vara skadlig och läses inte")
    except WorkbookUnreadable:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, NotImplementedError) as exc:
        raise WorkbookUnreadable(str(path), f"filen är skadad och kan inte packas upp ({exc}); öppna den i Excel "
                                 "och spara om den, eller använd en säkerhetskopia") from exc
    except OSError as exc:
        raise WorkbookUnreadable(str(path), f"filen kan inte öppnas ({exc.strerror or exc})") from exc


def open_workbook(path: Path) -> CalamineWorkbook:
    path = Path(path)
    if not path.exists():
        raise WorkbookUnreadable(str(path), "filen finns inte")
    if path.stat().st_size == 0:
        raise WorkbookUnreadable(str(path), "filen är tom")
    head = path.read_bytes()[:8]
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookUnreadable(
            str(path),
            "filen är krypterad (lösenordsskyddad) eller i det gamla .xls-formatet; spara den som .xlsx utan lösenord",
        )
    check_zip(path)
    try:
        return CalamineWorkbook.from_path(str(path))
    except Exception as exc:  # calamine raises several of its own types
        raise WorkbookUnreadable(str(path), f"arbetsboken är skadad ({exc})") from exc


def read_sheet_rows(wb: CalamineWorkbook, path: Path, sheet: str) -> list[list[Any]]:
    try:
        return [list(r) for r in wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)]
    except Exception as exc:
        raise WorkbookUnreadable(str(path), f"bladet '{sheet}' kan inte läsas ({exc})") from exc


def table(rows: list[list[Any]], sheet: str, header_row: int = 0) -> tuple[dict[str, int], list[Row]]:
    """Split raw rows into (header -> column, data rows) skipping empty rows."""
    if len(rows) <= header_row:
        return {}, []
    headers: dict[str, int] = {}
    for i, h in enumerate(rows[header_row]):
        key = norm_header(h)
        if key and key not in headers:
            headers[key] = i
    out = []
    for r_index in range(header_row + 1, len(rows)):
        raw = rows[r_index]
        values = {k: clean(raw[c]) if c < len(raw) else None for k, c in headers.items()}
        if all(v is None for v in values.values()):
            continue
        out.append(Row(sheet, r_index + 1, values, headers))
    return headers, out


# ---------------------------------------------------------------- what calamine does not give: number formats


def sheet_parts(zf: zipfile.ZipFile) -> dict[str, str]:
    """Sheet name -> its part in the package (``xl/worksheets/sheet1.xml``)."""
    book = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", XML_NS)}
    parts = {}
    for s in book.findall("m:sheets/m:sheet", XML_NS):
        target = targets.get(s.get(f"{{{XML_NS['r']}}}id"), "")
        parts[s.get("name", "")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return parts


def number_formats(path: Path, sheet_name: str, cells: set[str]) -> dict[str, str]:
    """A1 -> number format code of the given *cells* of a sheet (cells with the default format are left
    out). calamine gives values only; a percent format (``0%``) changes what a number means (0,98 is
    98 %), so the few cells where that matters are looked up in the file's XML."""
    if not cells:
        return {}
    try:
        with zipfile.ZipFile(path) as zf:
            part = sheet_parts(zf).get(sheet_name)
            if part is None or part not in zf.namelist() or "xl/styles.xml" not in zf.namelist():
                return {}
            styles = ElementTree.fromstring(zf.read("xl/styles.xml"))
            codes = dict(_BUILTIN_FORMATS)
            for nf in styles.iterfind("m:numFmts/m:numFmt", XML_NS):
                codes[int(nf.get("numFmtId", "0"))] = nf.get("formatCode", "")
            xfs = [int(xf.get("numFmtId", "0")) for xf in styles.iterfind("m:cellXfs/m:xf", XML_NS)]
            root = ElementTree.fromstring(zf.read(part))
    except (zipfile.BadZipFile, KeyError, ValueError, ElementTree.ParseError):
        return {}
    out = {}
    for c in root.iter(f"{{{XML_NS['m']}}}c"):
        ref, style = c.get("r", ""), c.get("s")
        if ref in cells and style is not None and style.isdigit() and int(style) < len(xfs):
            code = codes.get(xfs[int(style)])
            if code:
                out[ref] = code
    return out
