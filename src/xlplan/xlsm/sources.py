"""The text sources of the workbook's VBA project and ribbon, and checks between them."""

from __future__ import annotations

import re
from importlib import resources

import xlwings
from defusedxml import ElementTree as safe_xml

from xlplan.xlsm.vbaproject import ENCODING, VbaModule

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


def xlwings_module() -> VbaModule:
    """xlwings' standalone VBA module (``xlwings.bas``) of the installed xlwings package."""
    code = resources.files("xlwings").joinpath("xlwings.bas").read_bytes().decode(ENCODING)
    version = xlwings_vba_version(code)
    if version != xlwings.__version__:
        raise ValueError(f"xlwings.bas has version {version}, Python has xlwings {xlwings.__version__}")
    return bas_module(code)


def default_modules() -> list[VbaModule]:
    """Our modules from ``excel_src/vba`` followed by xlwings' standalone module."""
    return our_modules() + [xlwings_module()]


def bas_module(code: str) -> VbaModule:
    """A standard module from the text of an exported ``.bas`` file."""
    match = _VB_NAME_RE.match(code)
    if not match:
        raise ValueError("a .bas file must start with Attribute VB_Name")
    return VbaModule(name=match.group(1), code=code, kind="standard")


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
