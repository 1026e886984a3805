"""In-place edits of workbook parts: code names, relationships, content types."""

from __future__ import annotations

import pytest
from defusedxml import ElementTree as safe_xml
from hypothesis import given
from hypothesis import strategies as st

from xlplan.xlsm import parts

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def test_code_name_added_to_an_existing_element_keeps_everything_else() -> None:
    xml = (f'<workbook xmlns="{MAIN}" xmlns:mc="x" mc:Ignorable="x15"><fileVersion appName="xl"/>'
           '<workbookPr date1904="1"/><workbookProtection/></workbook>').encode()
    out = parts.set_code_name(xml, "workbookPr", "ThisWorkbook", ("fileVersion", "fileSharing"))
    assert out == xml.replace(b"<workbookPr ", b'<workbookPr codeName="ThisWorkbook" ')
    assert parts.get_code_name(out, "workbookPr") == "ThisWorkbook"
    assert parts.get_code_name(out, "workbookProtection") is None


def test_missing_workbook_pr_goes_after_file_sharing() -> None:
    xml = (f'<workbook xmlns="{MAIN}"><fileVersion appName="xl"/><fileSharing readOnlyRecommended="1">'
           '</fileSharing><bookViews/></workbook>').encode()
    out = parts.set_code_name(xml, "workbookPr", "ThisWorkbook", ("fileVersion", "fileSharing"))
    children = [el.tag.split("}")[1] for el in safe_xml.fromstring(out)]
    assert children == ["fileVersion", "fileSharing", "workbookPr", "bookViews"]


def test_missing_sheet_pr_becomes_the_first_child_with_the_root_prefix() -> None:
    xml = f'<?xml version="1.0"?>\n<x:worksheet xmlns:x="{MAIN}"><x:dimension ref="A1"/></x:worksheet>'.encode()
    out = parts.set_code_name(xml, "sheetPr", "Sheet1", ())
    root = safe_xml.fromstring(out)
    assert root[0].tag == f"{{{MAIN}}}sheetPr" and root[0].get("codeName") == "Sheet1"
    assert parts.get_code_name(out, "sheetPr") == "Sheet1"


def test_sheet_pr_with_children_and_prefix() -> None:
    xml = f'<x:worksheet xmlns:x="{MAIN}"><x:sheetPr filterMode="0"><x:tabColor rgb="FF0000FF"/></x:sheetPr></x:worksheet>'
    out = parts.set_code_name(xml.encode(), "sheetPr", "Blad1", ())
    assert b'<x:sheetPr codeName="Blad1" filterMode="0">' in out


def test_an_existing_code_name_is_not_overwritten() -> None:
    xml = f"<worksheet xmlns='{MAIN}'><sheetPr codeName='Mine'/></worksheet>".encode()
    assert parts.get_code_name(xml, "sheetPr") == "Mine"
    with pytest.raises(ValueError):
        parts.set_code_name(xml, "sheetPr", "Sheet1", ())


def test_relationship_ids_stay_unique_and_targets_relative() -> None:
    rels = (b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            b'<Relationship Id="rIdVbaProject" Type="t" Target="/xl/styles.xml"/></Relationships>')
    out, target = parts.ensure_relationship(rels, "xl/workbook.xml", parts.REL_VBA_PROJECT,
                                            "xl/vbaProject.bin", "rIdVbaProject")
    found = parts.read_rels(out, "xl/workbook.xml")
    assert [(r.id, r.target) for r in found] == [("rIdVbaProject", "xl/styles.xml"),
                                                 ("rIdVbaProject2", "xl/vbaProject.bin")]
    assert b'Target="vbaProject.bin"' in out and target == "xl/vbaProject.bin"
    again, target2 = parts.ensure_relationship(out, "xl/workbook.xml", parts.REL_VBA_PROJECT, "elsewhere", "x")
    assert again == out and target2 == "xl/vbaProject.bin"


def test_relationships_part_is_created_when_missing() -> None:
    out, target = parts.ensure_relationship(None, "", parts.REL_RIBBON, "customUI/customUI14.xml", "rId1")
    assert [(r.type, r.target) for r in parts.read_rels(out, "")] == [(parts.REL_RIBBON, "customUI/customUI14.xml")]


def test_content_type_override_replaced_or_added() -> None:
    ct = (b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
          b'<Default Extension="xml" ContentType="application/xml"/>'
          b'<Override PartName="/xl/workbook.xml" ContentType="old"/></Types>')
    out = parts.set_content_types(ct, {"xl/workbook.xml": parts.CT_MACRO_WORKBOOK,
                                       "xl/vbaProject.bin": parts.CT_VBA_PROJECT})
    root = safe_xml.fromstring(out)
    got = [(el.tag.split("}")[1], dict(el.attrib)) for el in root]
    assert got == [
        ("Default", {"Extension": "xml", "ContentType": "application/xml"}),
        ("Override", {"PartName": "/xl/workbook.xml", "ContentType": parts.CT_MACRO_WORKBOOK}),
        ("Override", {"PartName": "/xl/vbaProject.bin", "ContentType": parts.CT_VBA_PROJECT}),
    ]
    assert parts.content_type_defaults(out) == {"xml": "application/xml"}


@pytest.mark.parametrize("source, target, expected", [
    ("xl/workbook.xml", "worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
    ("xl/workbook.xml", "/xl/worksheets/sheet1.xml", "xl/worksheets/sheet1.xml"),
    ("xl/worksheets/sheet1.xml", "../drawings/drawing1.xml", "xl/drawings/drawing1.xml"),
    ("", "xl/workbook.xml", "xl/workbook.xml"),
])
def test_resolve(source: str, target: str, expected: str) -> None:
    assert parts.resolve(source, target) == expected


@given(st.text())
def test_quoteattr_writes_what_saxutils_writes(value: str) -> None:
    from xml.sax.saxutils import quoteattr as sax_quoteattr

    from xlplan.xlsm.parts import quoteattr

    assert quoteattr(value) == sax_quoteattr(value)
