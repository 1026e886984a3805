"""The text sources of the workbook's VBA project and ribbon, and checks between them."""

from __future__ import annotations

import functools
import re
from importlib import resources
from pathlib import Path

from defusedxml import ElementTree as safe_xml

from xlplan.xlsm.vbaproject import CLASS_BASE, ENCODING, VbaModule

_VB_NAME_RE = re.compile(r'^Attribute VB_Name = "([^"]+)"', re.IGNORECASE)
_SUB_RE = re.compile(
    r"^[ \t]*(?:(?:Public|Private|Friend)[ \t]+)?(?:Static[ \t]+)?Sub[ \t]+([A-Za-z][A-Za-z0-9_]*)",
    re.IGNORECASE | re.MULTILINE,
)
_VERSION_RE = re.compile(r"^'Version: (\S+)", re.MULTILINE)


def _excel_src() -> resources.abc.Traversable:
    return resources.files("xlplan").joinpath("excel_src")


def ribbon_xml() -> str:
    """The controller workbook's ribbon (``excel_src/customUI14.xml``) as text."""
    return _excel_src().joinpath("customUI14.xml").read_bytes().decode("utf-8")


def department_ribbon_xml() -> str:
    """The department workbooks' ribbon (``excel_src/customUI14_avdelning.xml``): only their own buttons."""
    return _excel_src().joinpath("customUI14_avdelning.xml").read_bytes().decode("utf-8")


def our_modules() -> list[VbaModule]:
    """Our standard modules, one per ``excel_src/vba/*.bas``, sorted by file name."""
    folder = _excel_src().joinpath("vba")
    files = sorted((f for f in folder.iterdir() if f.name.endswith(".bas")), key=lambda f: f.name)
    return [bas_module(f.read_bytes().decode(ENCODING)) for f in files]


def xlwings_version() -> str:
    """The installed xlwings' version, from its distribution metadata (xlwings is not imported)."""
    from importlib import metadata

    return metadata.version("xlwings")


def xlwings_file(name: str) -> bytes:
    """A file of the installed xlwings package, e.g. ``xlwings.bas`` or ``addin/Dictionary.cls``.

    Read from the distribution's files: importing xlwings would load numpy,
    pandas and matplotlib (about a second) only to find a text file.
    """
    from importlib import metadata

    path = Path(str(metadata.distribution("xlwings").locate_file(f"xlwings/{name}")))
    return path.read_bytes()


def xlwings_module() -> VbaModule:
    """xlwings' standalone VBA module (``xlwings.bas``) of the installed xlwings package."""
    code = xlwings_file("xlwings.bas").decode(ENCODING)
    version, installed = xlwings_vba_version(code), xlwings_version()
    if version != installed:
        raise ValueError(f"xlwings.bas has version {version}, Python has xlwings {installed}")
    return bas_module(code)


def dictionary_module() -> VbaModule:
    """xlwings' ``Dictionary`` class module: ``xlwings.bas`` declares ``As Dictionary`` on macOS.

    The same text xlwings' standalone quickstart workbook holds (Tim Hall's
    VBA-Dictionary, MIT licence), so the project compiles on Excel for Mac.
    """
    return cls_module(xlwings_file("addin/Dictionary.cls").decode(ENCODING))


@functools.lru_cache(maxsize=1)
def _default_modules() -> tuple[VbaModule, ...]:
    return (*our_modules(), xlwings_module(), dictionary_module())


def default_modules() -> list[VbaModule]:
    """Our modules from ``excel_src/vba``, xlwings' standalone module and its Dictionary class.

    Read once per process (the files do not change while it runs).
    """
    return list(_default_modules())


def bas_module(code: str) -> VbaModule:
    """A standard module from the text of an exported ``.bas`` file."""
    match = _VB_NAME_RE.match(code)
    if not match:
        raise ValueError("a .bas file must start with Attribute VB_Name")
    return VbaModule(name=match.group(1), code=code, kind="standard")


def cls_module(code: str) -> VbaModule:
    """A class module from the text of an exported ``.cls`` file, as the VBA editor stores it.

    The export's ``VERSION 1.0 CLASS … END`` block is not part of the module
    stream; the editor adds the class base and two attributes on import.
    """
    code = re.sub(r"\r\n|\r|\n", "\r\n", code)
    start = code.find("Attribute VB_Name")
    if start < 0:
        raise ValueError("a .cls file must have Attribute VB_Name")
    lines = code[start:].split("\r\n")
    match = _VB_NAME_RE.match(lines[0])
    if not match:
        raise ValueError("a .cls file must have Attribute VB_Name")
    out = [lines[0], f'Attribute VB_Base = "{CLASS_BASE}"']
    for line in lines[1:]:
        if line.startswith(("Attribute VB_Base ", "Attribute VB_TemplateDerived ", "Attribute VB_Customizable ")):
            continue
        out.append(line)
        if line.startswith("Attribute VB_Exposed "):
            out += ["Attribute VB_TemplateDerived = False", "Attribute VB_Customizable = False"]
    return VbaModule(name=match.group(1), code="\r\n".join(out), kind="class")


def xlwings_vba_version(code: str) -> str | None:
    """The ``'Version: x.y.z`` comment of an xlwings VBA module."""
    match = _VERSION_RE.search(code)
    return match.group(1) if match else None


def vba_subs(code: str) -> set[str]:
    """Names of the Subs declared in VBA *code*."""
    return {m.group(1) for m in _SUB_RE.finditer(code)}


def ribbon_actions(xml: str) -> list[str]:
    """Every ``onAction`` macro name in a customUI document, in order."""
    root = safe_xml.fromstring(xml.encode("utf-8"))
    return [el.attrib["onAction"] for el in root.iter() if "onAction" in el.attrib]


def missing_actions(xml: str, modules: list[VbaModule]) -> list[str]:
    """``onAction`` names with no matching Sub in *modules* (VBA names ignore case)."""
    subs = {name.upper() for m in modules for name in vba_subs(m.code)}
    return [a for a in ribbon_actions(xml) if a.split(".")[-1].split("!")[-1].upper() not in subs]
