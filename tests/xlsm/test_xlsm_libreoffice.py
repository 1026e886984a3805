"""LibreOffice as a second, independent reader of the built .xlsm and its VBA modules."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import openpyxl
import pytest
from defusedxml import ElementTree as safe_xml

from xlplan.xlsm import default_modules, make_xlsm
from xlplan.xlsm.package import stored_sources

SCRIPT = "{http://openoffice.org/2000/script}"
LIBRARY = "{http://openoffice.org/2000/library}"
TABLE = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"

pytestmark = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")


@pytest.fixture(scope="module")
def ods(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("lo")
    wb = openpyxl.Workbook()
    wb.active.title = "Översikt"
    wb.active["A1"] = "Hej"
    wb.create_sheet("xlwings.conf")
    wb.save(tmp / "book.xlsx")
    make_xlsm(tmp / "book.xlsx", tmp / "book.xlsm")
    subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={(tmp / 'profile').as_uri()}",
         "--convert-to", "ods", "--outdir", str(tmp), str(tmp / "book.xlsm")],
        check=True, capture_output=True, timeout=180,
    )
    return tmp / "book.ods"


def basic_modules(ods: Path) -> dict[str, tuple[str, str]]:
    """Module name -> (module type, text) of the Basic library LibreOffice made from the VBA project."""
    with zipfile.ZipFile(ods) as zf:
        library = safe_xml.fromstring(zf.read("Basic/xlplan/script-lb.xml"))
        names = [el.get(LIBRARY + "name") for el in library.iter(LIBRARY + "element")]
        out = {}
        for name in names:
            module = safe_xml.fromstring(zf.read(f"Basic/xlplan/{name}.xml"))
            out[name] = (module.get(SCRIPT + "moduleType"), module.text or "")
    return out


def without_attributes(source: str) -> str:
    lines = source.replace("\r\n", "\n").split("\n")
    return "\n".join(ln for ln in lines if not re.match(r"Attribute (\w+\.)?VB_", ln))


def test_libreoffice_reads_every_module(ods: Path) -> None:
    modules = basic_modules(ods)
    assert set(modules) == {"ThisWorkbook", "Sheet1", "Sheet2", "XlplanRibbon", "xlwings", "Dictionary"}
    assert {n for n, (kind, _) in modules.items() if kind == "document"} == {"ThisWorkbook", "Sheet1", "Sheet2"}
    assert {n for n, (kind, _) in modules.items() if kind == "class"} == {"Dictionary"}


def test_libreoffice_sees_the_same_source(ods: Path) -> None:
    modules = basic_modules(ods)
    kinds = {m.name: m.kind for m in default_modules()}
    for name, source in stored_sources(default_modules()).items():
        kind, text = modules[name]
        if kinds[name] == "class":
            assert kind == "class"
            header, _, body = text.partition("Option VBASupport 1\nOption ClassModule\n")
            assert header == "Rem Attribute VBA_ModuleType=VBAClassModule\n"
        else:
            assert kind == "normal"
            header, _, body = text.partition("Option VBASupport 1\n")
            assert header == "Rem Attribute VBA_ModuleType=VBAModule\n"
        assert body.rstrip("\n") == without_attributes(source).rstrip("\n")


def test_libreoffice_reads_the_sheets(ods: Path) -> None:
    with zipfile.ZipFile(ods) as zf:
        content = safe_xml.fromstring(zf.read("content.xml"))
    assert [t.get(TABLE + "name") for t in content.iter(TABLE + "table")] == ["Översikt", "xlwings.conf"]
