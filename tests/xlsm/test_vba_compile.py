"""The VBA project compiles on Excel for Mac too, checked by reading it back (no Excel here).

``xlwings.bas`` declares ``Dim d As Dictionary`` under ``#If Mac``; the project must hold
a ``Dictionary`` class module as xlwings' standalone template does.  Every type named in an
``As`` clause must be declared in the project or be a type of the libraries the project sees.
"""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import Path

import olefile
import openpyxl
import pytest
from oletools.olevba import VBA_Parser, decompress_stream

from xlplan.xlsm import make_xlsm, read_vba_modules
from xlplan.xlsm.sources import cls_module, dictionary_module, xlwings_file

# Types of VBA itself and of the libraries every Excel project references (VBA, Excel, Office, stdole).
BUILTIN_TYPES = frozenset(t.upper() for t in (
    "Boolean", "Byte", "Currency", "Date", "Decimal", "Double", "Integer", "Long", "LongLong", "LongPtr",
    "Object", "Single", "String", "Variant", "Any", "Collection", "ErrObject", "VbCompareMethod",
    "Application", "Workbook", "Worksheet", "Worksheets", "Sheets", "Range", "Name", "Names", "Chart",
    "Window", "Shape", "ListObject", "IRibbonControl", "IRibbonUI", "CommandBar", "FileDialog",
))
_STRING = re.compile(r'"(?:[^"]|"")*"')
_AS_TYPE = re.compile(r"\bAs\s+(?:New\s+)?([A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)?)", re.IGNORECASE)
_DECLARED = re.compile(r"^\s*(?:(?:Public|Private)\s+)?(?:Enum|Type)\s+([A-Za-z][A-Za-z0-9_]*)\s*$",
                       re.IGNORECASE | re.MULTILINE)


def code_lines(code: str) -> list[str]:
    """Lines of VBA code without string literals, comments and attribute lines."""
    out = []
    for line in code.replace("\r\n", "\n").split("\n"):
        line = _STRING.sub('""', line)
        line = line.split("'", 1)[0]
        if re.match(r"\s*(Rem\b|Attribute\b)", line, re.IGNORECASE):
            continue
        out.append(line)
    return out


def declared_types(code: str) -> set[str]:
    """The ``As`` types of every declaration in *code* (``Dim x As T``, parameters, return types)."""
    types = set()
    for line in code_lines(code):
        if re.match(r"\s*Open\b", line, re.IGNORECASE):  # Open f For Output As fileNumber
            continue
        types |= {m.group(1) for m in _AS_TYPE.finditer(line)}
    return types


def unknown_types(modules: dict[str, str]) -> dict[str, set[str]]:
    """Module -> types it uses that neither the project nor a referenced library declares."""
    known = set(BUILTIN_TYPES) | {name.upper() for name in modules}
    for code in modules.values():
        known |= {m.group(1).upper() for m in _DECLARED.finditer("\n".join(code_lines(code)))}
    out = {}
    for name, code in modules.items():
        missing = {t for t in declared_types(code)
                   if t.upper() not in known and t.split(".")[-1].upper() not in known}
        if missing:
            out[name] = missing
    return out


@pytest.fixture(scope="module")
def xlsm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("vba")
    wb = openpyxl.Workbook()
    wb.active.title = "Översikt"
    wb.save(tmp / "book.xlsx")
    make_xlsm(tmp / "book.xlsx", tmp / "book.xlsm")
    return tmp / "book.xlsm"


def project_streams(xlsm: Path) -> olefile.OleFileIO:
    with zipfile.ZipFile(xlsm) as zf:
        return olefile.OleFileIO(io.BytesIO(zf.read("xl/vbaProject.bin")))


def test_every_declared_type_exists_in_the_project_or_a_library(xlsm: Path) -> None:
    modules = read_vba_modules(xlsm)
    assert "Dictionary" in modules and "xlwings" in modules
    assert "Dictionary" in declared_types(modules["xlwings"])
    assert unknown_types(modules) == {}


def test_the_check_finds_a_missing_class(xlsm: Path) -> None:
    modules = read_vba_modules(xlsm)
    del modules["Dictionary"]
    assert unknown_types(modules) == {"xlwings": {"Dictionary"}}
    broken = {"Modul1": 'Dim s As String \' As Kommentar\r\nDim t As "As Text"\r\nDim w As Arbetsbok\r\n'
                        "Open f For Output As nr\r\n"}
    assert unknown_types(broken) == {"Modul1": {"Arbetsbok"}}


def test_dictionary_is_a_class_module_of_the_project(xlsm: Path) -> None:
    ole = project_streams(xlsm)
    try:
        project = ole.openstream("PROJECT").read().decode("cp1252").split("\r\n")
        dir_stream = decompress_stream(bytearray(ole.openstream("VBA/dir").read()))
    finally:
        ole.close()
    assert "Class=Dictionary" in project and "Module=xlwings" in project
    # MODULENAME "Dictionary" ... MODULETYPE 0x0022 (class), before the next module's terminator.
    at = dir_stream.index(b"\x19\x00\x0a\x00\x00\x00Dictionary")
    kind = dir_stream.index(b"\x2b\x00\x00\x00\x00\x00", at)
    assert dir_stream[kind - 6:kind] == b"\x22\x00\x00\x00\x00\x00"
    parser = VBA_Parser(str(xlsm), relaxed=False)
    try:
        names = {Path(filename).name for _, _, filename, _ in parser.extract_macros()}
    finally:
        parser.close()
    assert "Dictionary.cls" in names  # oletools names class modules .cls


def test_dictionary_is_stored_as_xlwings_standalone_template_stores_it() -> None:
    template = xlwings_file("quickstart_standalone.xlsm")
    parser = VBA_Parser("quickstart_standalone.xlsm", data=template, relaxed=False)
    try:
        stored = {Path(f).stem: code for _, _, f, code in parser.extract_macros()}["Dictionary"]
    finally:
        parser.close()
    ours = dictionary_module().code
    # The VBA editor also changes the case of identifiers it knows (err -> Err); nothing else differs.
    assert ours.lower() == stored.lower()
    assert ours.split("\r\n")[:8] == stored.split("\r\n")[:8]
    assert ours.startswith('Attribute VB_Name = "Dictionary"\r\nAttribute VB_Base = "0{FCFB3D2A-')


def test_cls_module_drops_the_export_header() -> None:
    text = ('VERSION 1.0 CLASS\r\nBEGIN\r\n  MultiUse = -1  \'True\r\nEND\r\nAttribute VB_Name = "Klass"\r\n'
            "Attribute VB_GlobalNameSpace = False\r\nAttribute VB_Creatable = False\r\n"
            "Attribute VB_PredeclaredId = False\r\nAttribute VB_Exposed = False\r\nOption Explicit\r\n")
    module = cls_module(text)
    assert module.kind == "class" and module.name == "Klass"
    assert module.code.split("\r\n")[1] == 'Attribute VB_Base = "0{FCFB3D2A-A0FA-1068-A738-08002B3371B5}"'
    assert "VERSION" not in module.code and module.code.endswith("Option Explicit\r\n")
    assert module.code.count("Attribute VB_Customizable = False") == 1
    with pytest.raises(ValueError):
        cls_module("VERSION 1.0 CLASS\r\nOption Explicit\r\n")
