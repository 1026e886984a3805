"""The ribbon and VBA text sources in src/xlplan/excel_src."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any, Callable

import pytest
from defusedxml import ElementTree as safe_xml

from xlplan.xlsm import default_modules, ribbon_xml
from xlplan.xlsm.sources import department_ribbon_xml, missing_actions, our_modules, ribbon_actions, vba_subs

UI = "{http://schemas.microsoft.com/office/2009/07/customui}"

EXPECTED = {
    "Nämnd": [("Skapa avdelningsfiler", "XlplanFill"), ("Sammanställ", "XlplanConsolidate"),
              ("Exportera nämndrapport", "XlplanExport")],
    "Granskning": [("Godkänn", "XlplanApprove"), ("Skicka tillbaka", "XlplanReturn")],
    "Hjälp": [("Om xlplan", "XlplanAbout"), ("Användarguide", "XlplanGuide")],
}
#: A department workbook's ribbon: only the department's own buttons (no button fails for being in the wrong file).
DEPARTMENT_EXPECTED = {
    "Avdelning": [("Hämta värden", "XlplanPull"), ("Flagga avvikelser", "XlplanFlag"),
                  ("Kontrollera och lämna in", "XlplanSubmit"), ("Användarguide", "XlplanGuide")],
}
PYTHON_CALLS = {"XlplanPull": "pull", "XlplanFlag": "flag", "XlplanSubmit": "submit", "XlplanFill": "fill",
                "XlplanConsolidate": "consolidate", "XlplanExport": "export", "XlplanAbout": "about",
                "XlplanApprove": "approve", "XlplanReturn": "send_back"}
RIBBONS = {"nämnd": ribbon_xml, "avdelning": department_ribbon_xml}


@pytest.mark.parametrize("xml, expected", [(ribbon_xml, EXPECTED), (department_ribbon_xml, DEPARTMENT_EXPECTED)])
def test_ribbon_tab_groups_and_buttons(xml: Callable[[], str], expected: dict[str, Any]) -> None:
    root = safe_xml.fromstring(xml().encode("utf-8"))
    assert root.tag == UI + "customUI"
    tabs = list(root.iter(UI + "tab"))
    assert [t.get("label") for t in tabs] == ["Uppföljning"]
    groups = {g.get("label"): [(b.get("label"), b.get("onAction")) for b in g.iter(UI + "button")]
              for g in tabs[0].iter(UI + "group")}
    assert groups == expected


@pytest.mark.parametrize("role", sorted(RIBBONS))
def test_every_button_is_large_with_icon_and_swedish_tips(role: str) -> None:
    root = safe_xml.fromstring(RIBBONS[role]().encode("utf-8"))
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids))
    for button in root.iter(UI + "button"):
        assert button.get("size") == "large"
        assert re.fullmatch(r"[A-Za-z0-9]+", button.get("imageMso") or "")
        assert button.get("screentip")
        assert len(button.get("supertip") or "") > 20


def test_vba_sources_are_ascii() -> None:
    folder = resources.files("xlplan").joinpath("excel_src/vba")
    files = [f for f in folder.iterdir() if f.name.endswith(".bas")]
    assert files
    for f in files:
        f.read_bytes().decode("ascii")


@pytest.mark.parametrize("sub, function", sorted(PYTHON_CALLS.items()))
def test_each_button_sub_runs_its_python_function(sub: str, function: str) -> None:
    code = "\n".join(m.code for m in our_modules())
    body = re.search(rf"Public Sub {sub}\(control As Object\)\n(.*?)\nEnd Sub", code, re.S)
    assert body, sub
    assert f'RunPython "import xlplan.excel as x; x.{function}()"' in body.group(1)
    assert "On Error GoTo Failed" in body.group(1)


def test_guide_opens_a_hyperlink() -> None:
    code = "\n".join(m.code for m in our_modules())
    body = re.search(r"Public Sub XlplanGuide\(control As Object\)\n(.*?)\nEnd Sub", code, re.S)
    assert body and "ThisWorkbook.FollowHyperlink" in body.group(1)


def test_all_actions_have_subs_and_a_missing_one_is_found() -> None:
    modules = default_modules()
    for xml in RIBBONS.values():
        assert missing_actions(xml(), modules) == []
        assert set(ribbon_actions(xml())) <= {s for m in modules for s in vba_subs(m.code)}
    broken = ribbon_xml().replace('onAction="XlplanFill"', 'onAction="XlplanFyll"')
    assert missing_actions(broken, modules) == ["XlplanFyll"]


# Control ids of Excel (buttons) from Microsoft's published list: excelcontrols.xlsx, "Microsoft 365/Current
# Channel", github.com/OfficeDev/office-fluent-ui-command-identifiers (checked 2026-11).  "Info" is not in it.
EXCEL_CONTROL_IDS = frozenset({
    "RefreshAll", "Refresh", "DataValidationCircleInvalid", "FileSendAsAttachment", "FileNewDefault",
    "Consolidate", "FileSaveAsPdfOrXps", "FileProperties", "Help", "FileMarkAsFinal",
})


@pytest.mark.parametrize("xml", [ribbon_xml, department_ribbon_xml], ids=["nämnd", "avdelning"])
def test_every_icon_is_an_excel_control_id(xml: Callable[[], str]) -> None:
    root = safe_xml.fromstring(xml().encode("utf-8"))
    icons = [el.get("imageMso") for el in root.iter() if el.get("imageMso")]
    assert icons
    assert [i for i in icons if i not in EXCEL_CONTROL_IDS] == []
