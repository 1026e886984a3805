"""Read a workbook's sheets as header-keyed tables (thin adapter over python-calamine).

Foreign exceptions become :class:`~xlplan.core.errors.WorkbookUnreadable` here, so the
core never sees calamine's or zipfile's errors.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
import struct
import zipfile
import zlib
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

from defusedxml import ElementTree
from python_calamine import CalamineWorkbook

from xlplan.core.cells import a1
from xlplan.core.errors import WorkbookUnreadable

XML_NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
          "r": "http://schemas.openxmlformats.org/officeDocument/2006/relationships",
          "rel": "http://schemas.openxmlformats.org/package/2006/relationships"}
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
        return self.values.get(_norm_key(key))

    def ref(self, key: str) -> str:
        col = self.columns.get(_norm_key(key))
        return a1(self.number, col + 1) if col is not None else f"rad {self.number}"


def norm_header(text: object) -> str:
    return " ".join(str(text or "").split()).casefold()


@functools.lru_cache(maxsize=1024)
def _norm_key(key: str) -> str:
    """:func:`norm_header` of a header name the code asks a row for (a few dozen names, asked for every row)."""
    return norm_header(key)


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


@dataclass(frozen=True)
class Package:
    """A workbook file read once: its bytes and every part unpacked (checksums checked).

    :func:`read_package` is the one place a workbook's zip is opened and checked;
    :func:`open_workbook` gives calamine the same bytes, and readers that need what
    calamine does not expose (formulas, error values, number formats) take the
    part's XML from :attr:`parts` instead of opening the file again.
    """

    path: Path
    data: bytes
    parts: dict[str, bytes]  # part name -> unpacked bytes

    def workbook(self) -> CalamineWorkbook:
        """calamine over the bytes already read (the file is not opened again)."""
        try:
            return CalamineWorkbook.from_filelike(io.BytesIO(self.data))
        except Exception as exc:  # calamine raises several of its own types
            raise WorkbookUnreadable(str(self.path), f"arbetsboken är skadad ({exc})") from exc


def read_package(path: Path) -> Package:
    """Read a workbook file once; refuse what is not an xlsx/xlsm zip, a zip bomb, a part with a bad
    checksum or an XML part with a DTD (:class:`~xlplan.core.errors.WorkbookUnreadable`, in Swedish).

    Excel never writes a DTD; one in ``docProps/core.xml`` (billion laughs) would make an
    XML reader expand entities without end, so such a file is refused before any reader sees it.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise WorkbookUnreadable(str(path), "filen finns inte") from exc
    except OSError as exc:
        raise WorkbookUnreadable(str(path), f"filen kan inte öppnas ({exc.strerror or exc})") from exc
    if not data:
        raise WorkbookUnreadable(str(path), "filen är tom")
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise WorkbookUnreadable(
            str(path),
            "filen är krypterad (lösenordsskyddad) eller i det gamla .xls-formatet; spara den som .xlsx utan lösenord",
        )
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return unpack_package(path, data, zf)
    except zipfile.BadZipFile as exc:
        raise WorkbookUnreadable(str(path), "filen är inte en Excel-arbetsbok (.xlsx/.xlsm) eller är skadad") from exc
    except (zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise WorkbookUnreadable(str(path), _DAMAGED.format(exc)) from exc


_DAMAGED = ("filen är skadad och kan inte packas upp ({}); öppna den i Excel och spara om den, eller använd en "
            "säkerhetskopia")


def unpack_package(path: Path, data: bytes, zf: zipfile.ZipFile) -> Package:
    """The package of a file whose bytes *data* are read and whose zip directory *zf* (over the same bytes)
    is open: the part of :func:`read_package` after the file is read, for a caller that has already looked
    at the zip (``consolidate``'s file checks) and would otherwise open it twice."""
    try:
        infos = zf.infolist()
        if sum(info.file_size for info in infos) > MAX_UNCOMPRESSED:
            raise WorkbookUnreadable(str(path), "filen packas upp till orimligt mycket data (zip-bomb?) och "
                                     "läses inte")
        if "xl/workbook.xml" not in {info.filename for info in infos}:
            raise WorkbookUnreadable(str(path), "zip-filen är ingen Excel-arbetsbok (xl/workbook.xml saknas)")
        parts = {info.filename: _unpack(zf, info, path, data) for info in infos if not info.is_dir()}
    except WorkbookUnreadable:
        raise
    except zipfile.BadZipFile as exc:
        raise WorkbookUnreadable(str(path), "filen är inte en Excel-arbetsbok (.xlsx/.xlsm) eller är skadad") from exc
    except (zlib.error, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise WorkbookUnreadable(str(path), _DAMAGED.format(exc)) from exc
    return Package(path, data, parts)


def _unpack(zf: zipfile.ZipFile, info: zipfile.ZipInfo, path: Path, data: bytes) -> bytes:
    """One part, its CRC checked."""
    try:
        body = _inflate(data, info)
        if body is None:  # encrypted, or a method other than deflate/stored: zipfile's own reader
            body = zf.read(info)
        elif zlib.crc32(body) != info.CRC:
            raise zipfile.BadZipFile(f"Bad CRC-32 for file {info.filename!r}")
    except zipfile.BadZipFile as exc:
        raise WorkbookUnreadable(str(path), f"delen {info.filename} i filen är skadad (fel kontrollsumma); "
                                 "öppna filen i Excel och spara om den, eller använd en säkerhetskopia") from exc
    if info.filename.casefold().endswith((".xml", ".rels", ".vml")):
        head = body[:4096]
        if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
            raise WorkbookUnreadable(str(path), f"delen {info.filename} innehåller en DTD (XML-entiteter), "
                                     "vilket Excel aldrig skriver; filen kan vara skadlig och läses inte")
    return body


_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")  # a zip's local file header (zipfile.structFileHeader)
_NAME_LENGTH, _EXTRA_LENGTH = 10, 11  # its fields: the lengths of the name and the extra field after it


def _inflate(data: bytes, info: zipfile.ZipInfo) -> bytes | None:
    """A deflated or stored part straight from the file's bytes (zipfile's reader costs about ten times
    as much per part); at most its declared size is unpacked. None: let zipfile read it."""
    if info.flag_bits & 0x1 or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return None
    header = data[info.header_offset:info.header_offset + _LOCAL_HEADER.size]
    if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
        raise zipfile.BadZipFile(f"Bad magic number for file header of {info.filename!r}")
    fields = _LOCAL_HEADER.unpack(header)
    start = info.header_offset + _LOCAL_HEADER.size + fields[_NAME_LENGTH] + fields[_EXTRA_LENGTH]
    packed = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return packed[:info.file_size]
    return zlib.decompressobj(-15).decompress(packed, info.file_size)


def check_zip(path: Path) -> None:
    """Refuse files that are not xlsx/xlsm zips, that would unpack to something huge, or whose parts
    are damaged or declare a DTD (see :func:`read_package`)."""
    read_package(path)


def check_parts(path: Path) -> None:
    """Every part unpacks with the right checksum, and no XML part declares a DTD or entities."""
    read_package(path)


def open_workbook(path: Path) -> CalamineWorkbook:
    return read_package(Path(path)).workbook()


def read_sheet_rows(wb: CalamineWorkbook, path: Path, sheet: str) -> list[list[Any]]:
    """A sheet's rows as new lists (calamine's own when it gives lists, which it makes anew for each call)."""
    try:
        rows = wb.get_sheet_by_name(sheet).to_python(skip_empty_area=False)
        if type(rows) is list and all(type(r) is list for r in rows):
            return rows
        return [list(r) for r in rows]
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


# ---------------------------------------------------------------- what calamine does not give: formulas, errors, formats
# Read from the package's unpacked XML, once per file (read_package): a sheet has thousands of cells and a
# few dozen formulas, so the bytes are scanned for them rather than parsed whole.

_PERCENT_BUILTIN = {9: "0%", 10: "0.00%"}  # the built-in number formats that matter to xlplan (percent)


def cell_number_formats(parts: dict[str, bytes], xml: bytes, cells: set[str]) -> dict[str, str]:
    """A1 -> number format code of the given cells (cells with the default format are left out)."""
    styles_xml = parts.get("xl/styles.xml")
    if not xml or styles_xml is None:
        return {}
    styles_of = {cell: style for cell in cells if (style := _cell_style(xml, cell)) is not None}
    if not styles_of:
        return {}
    codes, xfs = style_number_formats(styles_xml)
    out = {}
    for cell, style in styles_of.items():
        code = codes.get(xfs[style]) if style < len(xfs) else None
        if code:
            out[cell] = code
    return out


_NUM_FMT = re.compile(rb"<(?:\w+:)?numFmt\b([^>]*)>")
_CELL_XFS = re.compile(rb"<((?:\w+:)?)cellXfs\b[^>]*?(?:/>|>(.*?)</\1cellXfs>)", re.S)
_XF = re.compile(rb"<(?:\w+:)?xf\b([^>]*)>")
_NUM_FMT_ID = re.compile(rb"""\snumFmtId\s*=\s*["'](\d+)["']""")
_ATTR = re.compile(rb"""([\w:]+)\s*=\s*(?:"([^"]*)"|'([^']*)')""")


@functools.lru_cache(maxsize=16)
def style_number_formats(styles_xml: bytes) -> tuple[dict[int, str], list[int]]:
    """(number format id -> code, the number format id of each cell format ``s``) from ``xl/styles.xml``:
    the built-in percent formats plus the file's own ``numFmt`` codes, and ``cellXfs`` in order.
    Remembered by content: the files of one folder come from the same template (do not change the result)."""
    codes = dict(_PERCENT_BUILTIN)
    for match in _NUM_FMT.finditer(styles_xml):
        attrs = _attributes(match.group(1))
        if attrs.get("numFmtId", "").isdigit():
            codes[int(attrs["numFmtId"])] = attrs.get("formatCode", "")
    block = _CELL_XFS.search(styles_xml)
    xfs = []
    for match in _XF.finditer(block.group(2) or b"") if block else ():
        number = _NUM_FMT_ID.search(match.group(1))
        xfs.append(int(number.group(1)) if number else 0)
    return codes, xfs


def _attributes(tag: bytes) -> dict[str, str]:
    return {m.group(1).decode("ascii", "replace"): unescape((m.group(2) if m.group(2) is not None else m.group(3))
                                                            .decode("utf-8", "replace"))
            for m in _ATTR.finditer(tag)}



def sheet_xml(parts: dict[str, bytes]) -> dict[str, bytes]:
    """Sheet name -> the sheet's unpacked XML (sheets whose part is missing are left out)."""
    try:
        names = sheet_parts(parts["xl/workbook.xml"], parts["xl/_rels/workbook.xml.rels"])
    except (KeyError, ValueError, ElementTree.ParseError):
        return {}
    return {name: parts[part] for name, part in names.items() if part in parts}


@functools.lru_cache(maxsize=16)
def sheet_parts(workbook_xml: bytes, rels_xml: bytes) -> dict[str, str]:
    """Sheet name -> its part name in the package (``xl/worksheets/sheet1.xml``), from ``xl/workbook.xml``
    and its relationships; remembered by content (do not change the result)."""
    book = ElementTree.fromstring(workbook_xml)
    rels = ElementTree.fromstring(rels_xml)
    targets = {r.get("Id"): r.get("Target", "") for r in rels.findall("rel:Relationship", XML_NS)}
    out = {}
    for s in book.findall("m:sheets/m:sheet", XML_NS):
        target = targets.get(s.get(f"{{{XML_NS['r']}}}id"), "")
        out[s.get("name", "")] = target.lstrip("/") if target.startswith("/") else "xl/" + target
    return out


_ROOT = re.compile(rb"<(\w+:)?worksheet[\s>]")
_REF = re.compile(rb"""\sr\s*=\s*["']([^"']*)["']""")
_STYLE = re.compile(rb"""\ss\s*=\s*["'](\d+)["']""")
_ERROR_TYPE = re.compile(rb"""\st\s*=\s*["']e["']""")
_NAME_END = frozenset(b" \t\r\n>/")
_NAME_END_BYTES = frozenset(bytes([c]) for c in _NAME_END)


def scan_cells(xml: bytes) -> tuple[dict[str, str], dict[str, str]]:
    """(errors, formulas) of one sheet's XML: {A1: '#DIV/0!'} for cells whose cached value is an
    error (calamine hides them) and {A1: '=10+5'} for cells holding a formula (a cell sharing a
    formula written in another cell gets it translated to itself: :func:`shared_formula`).

    A scan of the bytes, not an XML parse: only the ``<f>`` elements and the ``t="e"``
    cells are looked at (a sheet has thousands of cells and a few dozen formulas), each
    with the start tag of the cell it sits in (``tests/test_deptbook_scan.py`` checks it
    against a full XML parse on files written by xlplan, openpyxl and LibreOffice).
    """
    errors: dict[str, str] = {}
    formulas: dict[str, str] = {}
    root = _ROOT.search(xml)
    if root is None:
        return errors, formulas
    prefix = root.group(1) or b""
    cell_tag, formula_tag = b"<" + prefix + b"c", b"<" + prefix + b"f"
    end_tag = b"</" + prefix + b"f>"
    masters: dict[str, tuple[str, str]] = {}  # si -> (formula, the cell holding its text)
    sharing: list[tuple[str, str]] = []  # (cell, si): Excel's fill-down writes the text in the first cell only
    for found in _formula_starts(prefix).finditer(xml):
        at = found.start()
        start = _cell_start(xml, cell_tag, at)
        if start is None:
            continue
        close = xml.find(b">", at)
        text = b"" if xml[close - 1] == ord("/") else xml[close + 1:xml.find(end_tag, close)]
        ref = _cell_ref(xml, start)
        formulas[ref] = ("=" + (unescape(text.decode("utf-8")) if b"&" in text else text.decode("utf-8"))
                         if text else "")
        tag = xml[at + len(formula_tag):close]
        if b"si" in tag:  # a shared formula has an si attribute (attributes are parsed only then)
            attrs = _attributes(tag)
            if attrs.get("t") == "shared" and "si" in attrs:
                if text:
                    masters[attrs["si"]] = (formulas[ref], ref)
                else:
                    sharing.append((ref, attrs["si"]))
    for ref, si in sharing:
        if si in masters:
            formulas[ref] = shared_formula(*masters[si], ref)
    if b'"e"' in xml or b"'e'" in xml:
        for match in _ERROR_TYPE.finditer(xml):
            start = _cell_start(xml, cell_tag, match.start())
            if start is None or xml.find(b">", start) < match.start():
                continue  # t="e" on something other than a cell's start tag
            errors[_cell_ref(xml, start)] = _error_value(xml, start, prefix)
    return errors, formulas


@functools.cache
def _formula_starts(prefix: bytes) -> re.Pattern[bytes]:
    """Where the start tags of ``<f>`` elements (with *prefix*) begin: ``<f`` followed by the end of the name."""
    return re.compile(b"<" + re.escape(prefix) + rb"f(?=[ \t\r\n>/])")


def _cell_start(xml: bytes, cell_tag: bytes, before: int) -> int | None:
    """Where the start tag of the cell holding position *before* begins (``<c `` not ``<col``)."""
    at = xml.rfind(cell_tag, 0, before)
    while at != -1 and xml[at + len(cell_tag):at + len(cell_tag) + 1] not in _NAME_END_BYTES:
        at = xml.rfind(cell_tag, 0, at)
    return None if at == -1 else at


def _cell_ref(xml: bytes, start: int) -> str:
    ref = _REF.search(xml, start, xml.find(b">", start))
    return ref.group(1).decode("ascii", "replace") if ref else ""


def shared_formula(formula: str, origin: str, cell: str) -> str:
    """The formula of *cell* sharing *formula* written in *origin* (relative references moved along)."""
    from openpyxl.formula.translate import Translator, TranslatorError

    try:
        return str(Translator(formula, origin=origin).translate_formula(cell))
    except TranslatorError:
        return ""


def _cell_style(xml: bytes, cell: str) -> int | None:
    """The style index (``s``) of cell *cell* (A1), or None."""
    for quote in (b'"', b"'"):
        at = xml.find(b" r=" + quote + cell.encode("ascii") + quote)
        if at != -1:
            start = xml.rfind(b"<", 0, at)
            style = _STYLE.search(xml, start, xml.find(b">", at))
            return int(style.group(1)) if style else None
    return None


def _error_value(xml: bytes, start: int, prefix: bytes) -> str:
    tag_end = xml.find(b">", start)
    if xml[tag_end - 1] == ord("/"):
        return "#FEL"
    end = xml.find(b"</" + prefix + b"c>", tag_end)
    body = xml[tag_end + 1:end if end != -1 else len(xml)]
    value = re.search(rb"<" + re.escape(prefix) + rb"v>([^<]*)</", body)
    return unescape(value.group(1).decode("utf-8")) if value and value.group(1) else "#FEL"
