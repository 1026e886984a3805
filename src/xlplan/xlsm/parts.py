"""Edits of the OPC parts of a workbook package: content types, relationships, code names.

``[Content_Types].xml`` and ``.rels`` parts are re-serialised (one default
namespace, nothing else to keep); workbook and sheet parts are edited in place
on their start tags so that prefixes, ``mc:Ignorable`` and everything else stay
byte for byte.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from defusedxml import ElementTree as safe_xml

_ATTR_ESCAPES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\n", "&#10;"), ("\r", "&#13;"), ("\t", "&#9;"))


def quoteattr(value: str) -> str:
    """An XML attribute value with its quotes, as ``xml.sax.saxutils.quoteattr`` writes it.

    Local: importing ``xml.sax.saxutils`` loads ``urllib.request`` and ``http.client``,
    a tenth of a second for every flag and pull that saves an .xlsm.
    """
    for char, entity in _ATTR_ESCAPES:
        value = value.replace(char, entity)
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    return '"' + value.replace('"', "&quot;") + '"'


CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"

REL_OFFICE_DOCUMENT = DOC_REL_NS + "/officeDocument"
REL_WORKSHEET = DOC_REL_NS + "/worksheet"
REL_CHARTSHEET = DOC_REL_NS + "/chartsheet"
REL_VBA_PROJECT = "http://schemas.microsoft.com/office/2006/relationships/vbaProject"
REL_RIBBON = "http://schemas.microsoft.com/office/2007/relationships/ui/extensibility"

CT_MACRO_WORKBOOK = "application/vnd.ms-excel.sheet.macroEnabled.main+xml"
CT_VBA_PROJECT = "application/vnd.ms-office.vbaProject"
CT_XML = "application/xml"


@dataclass(frozen=True)
class Relationship:
    id: str
    type: str
    target: str  # part name inside the package, without a leading "/"


@dataclass(frozen=True)
class SheetRef:
    name: str
    part: str
    kind: str  # "worksheet" or "chartsheet"


def rels_part(part: str) -> str:
    """The relationships part of *part* ("" is the package)."""
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", name + ".rels")


def resolve(source_part: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(source_part), target))


def read_rels(xml: bytes | None, source_part: str) -> list[Relationship]:
    if xml is None:
        return []
    root = safe_xml.fromstring(xml)
    return [
        Relationship(el.get("Id", ""), el.get("Type", ""), resolve(source_part, el.get("Target", "")))
        for el in root.iter(f"{{{REL_NS}}}Relationship")
        if el.get("TargetMode") != "External"
    ]


def ensure_relationship(xml: bytes | None, source_part: str, rel_type: str, target_part: str,
                        preferred_id: str) -> tuple[bytes, str]:
    """Add a relationship of *rel_type* unless one exists; return the part and the target used."""
    for rel in read_rels(xml, source_part):
        if rel.type == rel_type:
            return xml or b"", rel.target
    rows = _children(xml, REL_NS, "Relationship")
    used = {attrs.get("Id") for _, attrs in rows}
    rel_id, n = preferred_id, 1
    while rel_id in used:
        n += 1
        rel_id = f"{preferred_id}{n}"
    folder = posixpath.dirname(source_part)
    target = posixpath.relpath(target_part, folder) if folder else target_part
    rows.append(("Relationship", {"Id": rel_id, "Type": rel_type, "Target": target}))
    return _serialise("Relationships", REL_NS, rows), target_part


def set_content_types(xml: bytes, overrides: dict[str, str]) -> bytes:
    """Set an Override for each part name (no leading "/") -> content type."""
    rows = _children(xml, CT_NS, None)
    todo = dict(overrides)
    for tag, attrs in rows:
        part = attrs.get("PartName", "").lstrip("/")
        if tag == "Override" and part in todo:
            attrs["ContentType"] = todo.pop(part)
    rows += [("Override", {"PartName": "/" + part, "ContentType": ct}) for part, ct in todo.items()]
    return _serialise("Types", CT_NS, rows)


def content_type_defaults(xml: bytes) -> dict[str, str]:
    return {a.get("Extension", "").lower(): a.get("ContentType", "")
            for tag, a in _children(xml, CT_NS, "Default")}


def _children(xml: bytes | None, namespace: str, local: str | None) -> list[tuple[str, dict[str, str]]]:
    """(local name, attributes) of the root's children in *namespace* (all, or those named *local*)."""
    if xml is None:
        return []
    rows = []
    for el in safe_xml.fromstring(xml):
        ns, _, tag = el.tag[1:].partition("}")
        if ns == namespace and (local is None or tag == local):
            rows.append((tag, dict(el.attrib)))
    return rows


def _serialise(root: str, namespace: str, rows: list[tuple[str, dict[str, str]]]) -> bytes:
    """A flat OPC part (relationships, content types) written the way Office writes it."""
    body = "".join(
        f"<{tag}" + "".join(f" {k}={quoteattr(v)}" for k, v in attrs.items()) + "/>" for tag, attrs in rows
    )
    text = f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<{root} xmlns="{namespace}">{body}</{root}>'
    return text.encode("utf-8")


def workbook_sheets(workbook_xml: bytes, rels: list[Relationship]) -> list[SheetRef]:
    """The workbook's sheets in tab order with their parts (worksheets and chart sheets only)."""
    by_id = {r.id: r for r in rels}
    kinds = {REL_WORKSHEET: "worksheet", REL_CHARTSHEET: "chartsheet"}
    sheets = []
    for el in safe_xml.fromstring(workbook_xml).iter(f"{{{MAIN_NS}}}sheet"):
        rel = by_id.get(el.get(f"{{{DOC_REL_NS}}}id", ""))
        if rel is not None and rel.type in kinds:
            sheets.append(SheetRef(el.get("name", ""), rel.target, kinds[rel.type]))
    return sheets


def _start_tag(xml: str, local: str) -> re.Match[str] | None:
    return re.search(rf"<((?:[A-Za-z_][\w.-]*:)?{local})(?=[\s/>])([^>]*?)(/?)>", xml)


def get_code_name(xml: bytes, element: str) -> str | None:
    """The ``codeName`` on the first *element* (``workbookPr``, ``sheetPr``), if any."""
    match = _start_tag(xml.decode("utf-8"), element)
    if not match:
        return None
    attr = re.search(r'\scodeName\s*=\s*(["\'])(.*?)\1', match.group(2))
    return attr.group(2) if attr else None


def set_code_name(xml: bytes, element: str, code_name: str, after: tuple[str, ...]) -> bytes:
    """Put ``codeName`` on *element*, creating the element after the last of *after* present
    (or as the root's first child) when it is missing."""
    text = xml.decode("utf-8")
    match = _start_tag(text, element)
    if match:
        if re.search(r"\scodeName\s*=", match.group(2)):
            raise ValueError(f"{element} already has a codeName")
        at = match.end(1)
        text = text[:at] + f' codeName="{code_name}"' + text[at:]
        return text.encode("utf-8")
    at = _insert_position(text, after)
    prefix = _root_prefix(text)
    return (text[:at] + f'<{prefix}{element} codeName="{code_name}"/>' + text[at:]).encode("utf-8")


def _root_prefix(text: str) -> str:
    match = re.search(r"<(?![?!])([A-Za-z_][\w.-]*:)?[A-Za-z_][\w.-]*[\s/>]", text)
    return (match.group(1) or "") if match else ""


def _insert_position(text: str, after: tuple[str, ...]) -> int:
    position = -1
    for local in after:
        match = _start_tag(text, local)
        if not match:
            continue
        end = match.end()
        if not match.group(3):  # not self-closing: skip to the end tag
            close = re.compile(rf"</{re.escape(match.group(1))}\s*>").search(text, end)
            end = close.end() if close else end
        position = max(position, end)
    if position >= 0:
        return position
    root = re.search(r"<(?![?!])[^>]*>", text)
    if root is None:
        raise ValueError("no root element")
    return root.end()
