"""The streams of a VBA project storage ([MS-OVBA] §2.3), written without p-code.

``_VBA_PROJECT`` has version 0xFFFF and every MODULEOFFSET is 0, so the host
(Excel) ignores performance caches and compiles the modules from their source.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from xlplan.xlsm.ovba import compress, encrypt

CODEPAGE = 1252
ENCODING = "cp1252"
LCID = 0x0409
SYSKIND_WIN64 = 3
_NAME_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,30}$")
_VB_NAME_RE = re.compile(r'^Attribute VB_Name = "([^"]*)"', re.IGNORECASE)

WORKBOOK_BASE = "0{00020819-0000-0000-C000-000000000046}"
WORKSHEET_BASE = "0{00020820-0000-0000-C000-000000000046}"
CHARTSHEET_BASE = "0{00020821-0000-0000-C000-000000000046}"
#: The base of a class module (``VB_Base`` of a class the VBA editor imported).
CLASS_BASE = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"

# (name, libid) of the registered type libraries the project references.
REFERENCES: tuple[tuple[str, str], ...] = (
    ("stdole", r"*\G{00020430-0000-0000-C000-000000000046}#2.0#0#"
               r"C:\Windows\System32\stdole2.tlb#OLE Automation"),
    ("Office", r"*\G{2DF8D04C-5BFA-101B-BDE5-00AA0044DE52}#2.0#0#"
               r"C:\Program Files\Common Files\Microsoft Shared\OFFICE16\MSO.DLL"
               r"#Microsoft Office 16.0 Object Library"),
)
# Libraries every Excel VBA project sees; modules and the project may not take their names.
_LIBRARIES = frozenset({"VBA", "EXCEL", "STDOLE", "OFFICE"})


@dataclass(frozen=True)
class VbaModule:
    """One VBA module: a standard module, a class module, or a document module
    (ThisWorkbook, a sheet's code name).

    *code* is the module text as exported to a ``.bas`` file (it may start with
    ``Attribute VB_Name``) or just its body; see :func:`module_source`.  A class
    module's code holds its attribute header as the VBA editor stores it (see
    :func:`xlplan.xlsm.sources.cls_module`).
    """

    name: str
    code: str
    kind: Literal["standard", "document", "class"]


def document_header(name: str, base: str = WORKSHEET_BASE) -> str:
    """The attribute lines Excel keeps at the top of a document module."""
    return (
        f'Attribute VB_Name = "{name}"\r\n'
        f'Attribute VB_Base = "{base}"\r\n'
        "Attribute VB_GlobalNameSpace = False\r\n"
        "Attribute VB_Creatable = False\r\n"
        "Attribute VB_PredeclaredId = True\r\n"
        "Attribute VB_Exposed = True\r\n"
        "Attribute VB_TemplateDerived = False\r\n"
        "Attribute VB_Customizable = True\r\n"
    )


def class_header(name: str) -> str:
    """The attribute lines the VBA editor keeps at the top of a (private, not creatable) class module."""
    return (
        f'Attribute VB_Name = "{name}"\r\n'
        f'Attribute VB_Base = "{CLASS_BASE}"\r\n'
        "Attribute VB_GlobalNameSpace = False\r\n"
        "Attribute VB_Creatable = False\r\n"
        "Attribute VB_PredeclaredId = False\r\n"
        "Attribute VB_Exposed = False\r\n"
        "Attribute VB_TemplateDerived = False\r\n"
        "Attribute VB_Customizable = False\r\n"
    )


def module_source(module: VbaModule) -> str:
    """The exact text stored for *module*: CRLF line ends, attribute header ensured.

    Code that already starts with ``Attribute VB_Name`` is kept as it is (line
    ends aside); otherwise the header is added (``ThisWorkbook`` gets the
    workbook base class, other document modules the worksheet one).
    """
    text = re.sub(r"\r\n|\r|\n", "\r\n", module.code)
    match = _VB_NAME_RE.match(text)
    if match:
        if match.group(1) != module.name:
            raise ValueError(f"module {module.name}: Attribute VB_Name is {match.group(1)!r}")
        return text
    if module.kind == "document":
        base = WORKBOOK_BASE if module.name == "ThisWorkbook" else WORKSHEET_BASE
        return document_header(module.name, base) + text
    if module.kind == "class":
        return class_header(module.name) + text
    return f'Attribute VB_Name = "{module.name}"\r\n' + text


def validate_modules(modules: Sequence[VbaModule], project_name: str) -> None:
    """Refuse names VBA would refuse: not identifiers, duplicates, clashes with the project or a library."""
    if not _NAME_RE.match(project_name) or project_name.upper() in _LIBRARIES:
        raise ValueError(f"invalid VBA project name: {project_name!r}")
    seen: set[str] = set(_LIBRARIES) | {project_name.upper()}
    for m in modules:
        if not _NAME_RE.match(m.name):
            raise ValueError(f"invalid VBA module name: {m.name!r}")
        if m.name.upper() in seen:
            raise ValueError(f"VBA module name already used by a module, the project or a library: {m.name}")
        if m.kind not in ("standard", "document", "class"):
            raise ValueError(f"module {m.name}: unknown kind {m.kind!r}")
        seen.add(m.name.upper())
        try:
            module_source(m).encode(ENCODING)
        except UnicodeEncodeError as exc:
            raise ValueError(f"module {m.name}: text is not in code page {CODEPAGE}") from exc


def project_streams(modules: Sequence[VbaModule], project_name: str) -> dict[str, bytes]:
    """All streams of the project, keyed by compound-file path."""
    validate_modules(modules, project_name)
    project_id = "{" + str(uuid.uuid5(uuid.NAMESPACE_URL, "xlplan-vba:" + project_name)).upper() + "}"
    streams = {
        "PROJECT": project_text(modules, project_name, project_id).encode(ENCODING),
        "PROJECTwm": project_name_map(modules),
        "VBA/_VBA_PROJECT": b"\xCC\x61\xFF\xFF\x00\x01\x00",
        "VBA/dir": compress(dir_stream(modules, project_name)),
    }
    for m in modules:
        streams["VBA/" + m.name] = compress(module_source(m).encode(ENCODING))
    return streams


def project_text(modules: Sequence[VbaModule], project_name: str, project_id: str) -> str:
    """The PROJECT stream (§2.3.1): properties, host extenders and workspace."""
    cmg = encrypt(bytes(4), project_id, "CMG")    # not protected
    dpb = encrypt(bytes(1), project_id, "DPB")    # no password
    gc = encrypt(bytes([0xFF]), project_id, "GC")  # visible
    lines = [f'ID="{project_id}"']
    for m in modules:
        lines.append(_project_module_line(m))
    lines += [
        f'Name="{project_name}"',
        'HelpContextID="0"',
        'VersionCompatible32="393222000"',
        f'CMG="{cmg}"',
        f'DPB="{dpb}"',
        f'GC="{gc}"',
        "",
        "[Host Extender Info]",
        "&H00000001={3832D640-CF90-11CF-8E43-00A0C911005A};VBE;&H00000000",
        "",
        "[Workspace]",
    ]
    lines += [f"{m.name}=0, 0, 0, 0, C" for m in modules]
    return "\r\n".join(lines) + "\r\n"


def _project_module_line(m: VbaModule) -> str:
    if m.kind == "document":
        return f"Document={m.name}/&H00000000"
    return f"Class={m.name}" if m.kind == "class" else f"Module={m.name}"


def project_name_map(modules: Sequence[VbaModule]) -> bytes:
    """The PROJECTwm stream (§2.3.3): each module name in MBCS and UTF-16."""
    out = bytearray()
    for m in modules:
        out += m.name.encode(ENCODING) + b"\x00" + m.name.encode("utf-16-le") + b"\x00\x00"
    return bytes(out + b"\x00\x00")


def _rec(rec_id: int, payload: bytes) -> bytes:
    return rec_id.to_bytes(2, "little") + len(payload).to_bytes(4, "little") + payload


def _u16(v: int) -> bytes:
    return v.to_bytes(2, "little")


def _u32(v: int) -> bytes:
    return v.to_bytes(4, "little")


def _text_pair(rec_id: int, unicode_id: int, text: str) -> bytes:
    return _rec(rec_id, text.encode(ENCODING)) + _rec(unicode_id, text.encode("utf-16-le"))


def dir_stream(modules: Sequence[VbaModule], project_name: str) -> bytes:
    """The uncompressed dir stream (§2.3.4.2)."""
    return _information(project_name) + _references() + _modules(modules) + _u16(0x0010) + _u32(0)


def _information(project_name: str) -> bytes:
    return b"".join([
        _rec(0x0001, _u32(SYSKIND_WIN64)),
        _rec(0x0002, _u32(LCID)),
        _rec(0x0014, _u32(LCID)),
        _rec(0x0003, _u16(CODEPAGE)),
        _rec(0x0004, project_name.encode(ENCODING)),
        _text_pair(0x0005, 0x0040, ""),             # doc string
        _text_pair(0x0006, 0x003D, ""),             # help file path
        _rec(0x0007, _u32(0)),                      # help context
        _rec(0x0008, _u32(0)),                      # lib flags
        _u16(0x0009) + _u32(4) + _u32(1) + _u16(0),  # version 1.0
        _text_pair(0x000C, 0x003C, ""),             # conditional-compilation constants
    ])


def _references() -> bytes:
    out = bytearray()
    for name, libid in REFERENCES:
        out += _text_pair(0x0016, 0x003E, name)
        raw = libid.encode(ENCODING)
        out += _rec(0x000D, _u32(len(raw)) + raw + _u32(0) + _u16(0))
    return bytes(out)


def _modules(modules: Sequence[VbaModule]) -> bytes:
    out = bytearray(_rec(0x000F, _u16(len(modules))) + _rec(0x0013, _u16(0xFFFF)))
    for m in modules:
        out += _text_pair(0x0019, 0x0047, m.name)
        out += _text_pair(0x001A, 0x0032, m.name)   # stream name
        out += _text_pair(0x001C, 0x0048, "")       # doc string
        out += _rec(0x0031, _u32(0))                # offset of the source in the stream
        out += _rec(0x001E, _u32(0))                # help context
        out += _rec(0x002C, _u16(0xFFFF))           # cookie
        out += _rec(0x0021 if m.kind == "standard" else 0x0022, b"")  # procedural / class or document
        out += _rec(0x002B, b"")                    # terminator
    return bytes(out)
