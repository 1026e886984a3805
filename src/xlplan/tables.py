"""Read a workbook's sheets as header-keyed tables (thin adapter over python-calamine).

Foreign exceptions become :class:`~xlplan.errors.WorkbookUnreadable` here, so the
core never sees calamine's or zipfile's errors.
"""

from __future__ import annotations

import datetime as dt
import io
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook

from xlplan.errors import WorkbookUnreadable

MAX_UNCOMPRESSED = 200 * 1024 * 1024  # a department workbook is a few hundred kB; refuse zip bombs


def column_letter(index: int) -> str:
    """0-based column index -> Excel letters (0 -> A, 27 -> AB)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell_ref(row0: int, col0: int) -> str:
    return f"{column_letter(col0)}{row0 + 1}"


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
        return f"{column_letter(col)}{self.number}" if col is not None else f"rad {self.number}"


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
    checksum or an XML part with a DTD (:class:`~xlplan.errors.WorkbookUnreadable`, in Swedish).

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
        raise WorkbookUnreadable(str(path), f"filen är skadad och kan inte packas upp ({exc}); öppna den i Excel "
                                 "och spara om den, eller använd en säkerhetskopia") from exc
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
