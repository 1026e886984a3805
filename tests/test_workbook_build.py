"""The controller's workbook workbook/uppfoljning.xlsm: current, well-formed, a plan, wired to xlplan.excel."""

from __future__ import annotations

import importlib
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from defusedxml import ElementTree
from openpyxl import load_workbook
from typer.testing import CliRunner

from xlplan.books.controller import SETTINGS, XLWINGS_CONF, build_workbook, default_out
from xlplan.books.plan import plan_from_workbook, read_plan
from xlplan.cli import app
from xlplan.examples import example_plan_path
from xlplan.xlsm import read_vba_modules

COMMITTED = default_out()
REL_RIBBON = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"
REL_VBA = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
CT_MACRO = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA = "application/vnd.ms-office.vbaProject"
NS_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}"
NS_CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
NS_UI = "{http://schemas.microsoft.com/office/2009/07/customui}"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_workbook(tmp_path_factory.mktemp("wb") / "uppfoljning.xlsm")


def test_committed_workbook_is_what_the_build_makes(built: Path) -> None:
    assert COMMITTED.is_file(), "run: xlplan build-workbook"
    assert built.read_bytes() == COMMITTED.read_bytes(), "workbook/uppfoljning.xlsm is stale: xlplan build-workbook"


def test_build_is_byte_identical_and_has_fixed_times(built: Path, tmp_path: Path) -> None:
    again = build_workbook(tmp_path / "again.xlsm")
    assert again.read_bytes() == built.read_bytes()
    with zipfile.ZipFile(built) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode()
    assert "2024-01-01T00:00:00Z" in core and core.count("2024-01-01T00:00:00Z") == 2


def test_cli_builds_the_workbook(tmp_path: Path, built: Path) -> None:
    out = tmp_path / "cli.xlsm"
    result = CliRunner().invoke(app, ["build-workbook", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert out.read_bytes() == built.read_bytes()


def test_package_is_well_formed(built: Path) -> None:
    with zipfile.ZipFile(built) as zf:
        assert zf.testzip() is None
        names = set(zf.namelist())
        for name in names:
            if name.endswith((".xml", ".rels")):
                ElementTree.fromstring(zf.read(name))  # well-formed
        root_rels = ElementTree.fromstring(zf.read("_rels/.rels"))
        wb_rels = ElementTree.fromstring(zf.read("xl/_rels/workbook.xml.rels"))
        types = ElementTree.fromstring(zf.read("[Content_Types].xml"))
    ribbon = [r.get("Target") for r in root_rels.iter(f"{NS_REL}Relationship") if r.get("Type") == REL_RIBBON]
    assert ribbon == ["customUI/customUI14.xml"] and "customUI/customUI14.xml" in names
    vba = [r.get("Target") for r in wb_rels.iter(f"{NS_REL}Relationship") if r.get("Type") == REL_VBA]
    assert vba == ["vbaProject.bin"] and "xl/vbaProject.bin" in names
    overrides = {o.get("PartName"): o.get("ContentType") for o in types.iter(f"{NS_CT}Override")}
    assert overrides["/xl/workbook.xml"] == CT_MACRO
    assert overrides["/xl/vbaProject.bin"] == CT_VBA


def ribbon_actions(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        ui = ElementTree.fromstring(zf.read("customUI/customUI14.xml"))
    return [b.get("onAction") for b in ui.iter(f"{NS_UI}button")]


def test_every_ribbon_action_has_a_sub(built: Path) -> None:
    modules = read_vba_modules(built)
    subs = {m.group(1) for code in modules.values()
            for m in re.finditer(r"(?im)^\s*(?:Public\s+)?Sub\s+(\w+)\s*\(\s*control\s+As\s+Object\s*\)", code)}
    actions = ribbon_actions(built)
    assert len(actions) == 7
    assert set(actions) <= subs
    assert "xlwings" in modules and "XlplanRibbon" in modules


def test_every_runpython_target_is_a_function_of_xlplan_excel(built: Path) -> None:
    code = read_vba_modules(built)["XlplanRibbon"]
    calls = re.findall(r'RunPython "import (xlplan\.excel) as x; x\.(\w+)\(\)"', code)
    assert {fn for _, fn in calls} == {"pull", "flag", "submit", "fill", "consolidate", "export", "about",
                                       "approve", "send_back", "guide"}
    for module, fn in calls:
        target = getattr(importlib.import_module(module), fn)
        assert callable(target)


def test_embedded_plan_reads_as_the_example_plan(built: Path) -> None:
    plan, problems = plan_from_workbook(built)
    assert plan is not None, problems
    assert [p for p in problems if p.severity == "fel"] == []
    example = read_plan(example_plan_path())
    assert (plan.id, plan.version) == (example.id, example.version)
    assert [d.id for d in plan.departments] == [d.id for d in example.departments]


def test_sheets_names_and_settings(built: Path) -> None:
    wb = load_workbook(built)
    assert wb.sheetnames[:3] == ["Start", "Val", "Inställningar"]
    assert wb.sheetnames[-1] == "xlwings.conf" and wb["xlwings.conf"].sheet_state == "hidden"
    assert wb.active.title == "Start"
    for s in SETTINGS:
        name = wb.defined_names[s.name]
        ((sheet, ref),) = list(name.destinations)
        assert sheet == "Val"
        row = wb["Val"][ref.replace("$", "")].row
        assert wb["Val"].cell(row, 1).value == s.label
        assert (wb["Val"][ref.replace("$", "")].value or "") == s.default
    assert wb.defined_names["xlplan_guide"] is not None  # the Användarguide button's cell
    (dv,) = wb["Val"].data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == "Avdelningar!$A$2:$A$200"
    assert str(dv.sqref) == wb.defined_names["xlplan_avdelning"].attr_text.split("!")[1].replace("$", "")


def test_xlwings_conf_has_xlwings_keys_from_a1(built: Path) -> None:
    ws = load_workbook(built)["xlwings.conf"]
    rows = [(r[0], r[1]) for r in ws.iter_rows(values_only=True)]
    assert [k for k, _ in rows] == [k for k, _ in XLWINGS_CONF]  # contiguous from A1, nothing after
    conf = {k.upper(): v for k, v in rows}
    assert conf["INTERPRETER_WIN"].startswith("%LOCALAPPDATA%\\") and conf["INTERPRETER_WIN"].endswith(".exe")
    assert conf["USE UDF SERVER"] is False and conf["UDF MODULES"] is None
    # every key is one xlwings.bas actually asks for
    bas = read_vba_modules(built)["xlwings"]
    asked = {m.upper() for m in re.findall(r'GetConfig\("([^"]+)"', bas)}
    assert set(conf) <= asked


def test_libreoffice_opens_it(built: Path, tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        pytest.skip("LibreOffice (soffice) is not installed")
    subprocess.run(
        ["soffice", "--headless", "--norestore", f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
         "--convert-to", "ods", "--outdir", str(tmp_path), str(built)],
        check=True, capture_output=True, timeout=180,
    )
    with zipfile.ZipFile(tmp_path / "uppfoljning.ods") as zf:
        content = zf.read("content.xml").decode("utf-8")
        names = zf.namelist()
    tables = re.findall(r'<table:table table:name="([^"]+)"', content)
    assert tables[:4] == ["Start", "Val", "Inställningar", "Avdelningar"]
    assert "alingsas-von-2024" in content
    assert any(n.startswith("Basic/xlplan/XlplanRibbon") for n in names), names
