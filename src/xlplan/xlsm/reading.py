"""Read the VBA modules of an .xlsm's ``vbaProject.bin`` (the inverse of :mod:`xlplan.xlsm.vbaproject`).

Used by refill to keep a department's own modules. The ``VBA/dir`` stream is walked record by
record ([MS-OVBA] §2.3.4.2) for each module's name, stream, source offset and kind; the source is
the decompressed tail of the module stream. Only olefile (a dependency) is needed.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

from xlplan.xlsm.ovba import decompress
from xlplan.xlsm.vbaproject import CLASS_BASE, ENCODING, VbaModule

VBA_PART = "xl/vbaProject.bin"
_PROJECTVERSION = 0x0009  # its size field says 4, but 6 bytes follow
_CODEPAGE, _NAME, _NAME_UNICODE, _STREAM, _STREAM_UNICODE = 0x0003, 0x0019, 0x0047, 0x001A, 0x0032
_OFFSET, _PROCEDURAL, _OTHER, _MODULE_END = 0x0031, 0x0021, 0x0022, 0x002B


def vba_modules(path: Path) -> list[VbaModule]:
    """The modules of the .xlsm at *path* ([] when it has no VBA project); ValueError when unreadable."""
    import olefile

    try:
        with zipfile.ZipFile(path) as zf:
            if VBA_PART not in zf.namelist():
                return []
            data = zf.read(VBA_PART)
        ole = olefile.OleFileIO(io.BytesIO(data))
    except (OSError, zipfile.BadZipFile, KeyError) as exc:
        raise ValueError(f"VBA-projektet kan inte läsas: {exc}") from exc
    try:
        entries = _dir_entries(decompress(ole.openstream("VBA/dir").read()))
        out = []
        for name, stream, offset, procedural, codepage in entries:
            raw = ole.openstream(f"VBA/{stream}").read()
            code = decompress(raw[offset:]).decode(codepage, errors="replace")
            kind = "standard" if procedural else ("class" if CLASS_BASE in code[:400] else "document")
            out.append(VbaModule(name, code, kind))  # type: ignore[arg-type]
        return out
    except (OSError, ValueError, IndexError, LookupError) as exc:
        raise ValueError(f"VBA-projektet kan inte läsas: {exc}") from exc
    finally:
        ole.close()


def _dir_entries(dir_stream: bytes) -> list[tuple[str, str, int, bool, str]]:
    """(name, stream name, source offset, procedural?, codec) of each module in a decompressed dir stream."""
    pos, codec = 0, ENCODING
    out: list[tuple[str, str, int, bool, str]] = []
    current: dict[str, object] = {}
    while pos + 6 <= len(dir_stream):
        rec = int.from_bytes(dir_stream[pos:pos + 2], "little")
        size = int.from_bytes(dir_stream[pos + 2:pos + 6], "little")
        if rec == _PROJECTVERSION:
            size = 6
        body = dir_stream[pos + 6:pos + 6 + size]
        pos += 6 + size
        if rec == _CODEPAGE and len(body) >= 2:
            codec = f"cp{int.from_bytes(body[:2], 'little')}"
        elif rec == _NAME:
            current = {"name": body.decode(codec, errors="replace")}
        elif rec == _NAME_UNICODE:
            current["name"] = body.decode("utf-16-le", errors="replace")
        elif rec == _STREAM:
            current["stream"] = body.decode(codec, errors="replace")
        elif rec == _STREAM_UNICODE:
            current["stream"] = body.decode("utf-16-le", errors="replace")
        elif rec == _OFFSET and len(body) >= 4:
            current["offset"] = int.from_bytes(body[:4], "little")
        elif rec in (_PROCEDURAL, _OTHER):
            current["procedural"] = rec == _PROCEDURAL
        elif rec == _MODULE_END and "name" in current:
            out.append((str(current["name"]), str(current.get("stream", current["name"])),
                        int(current.get("offset", 0)), bool(current.get("procedural", False)), codec))  # type: ignore[call-overload]
            current = {}
    return out


_ATTRIBUTE = re.compile(r"^\s*(Attribute\s|Option\s|'|$)", re.IGNORECASE)


def has_code(module: VbaModule) -> bool:
    """Whether a module holds more than attributes, options and comments."""
    return any(not _ATTRIBUTE.match(line) for line in module.code.splitlines())
