"""Turn an ``.xlsx`` into a macro-enabled ``.xlsm`` with our VBA project and ribbon.

Public interface::

    VbaModule(name, code, kind)                      # kind: "standard" | "document" | "class"
    build_vba_project(modules, project_name="xlplan") -> bytes   # xl/vbaProject.bin
    make_xlsm(xlsx_path, out_path, *, modules=None, ribbon_xml=None) -> None
    make_xlsm_from_workbook(openpyxl_workbook, out_path, *, modules=None, ribbon_xml=None) -> None
    default_modules() -> list[VbaModule]
    ribbon_xml() -> str
    read_vba_modules(xlsm_path) -> dict[str, str]

The build is deterministic: the same inputs give byte-identical output.
"""

from __future__ import annotations

import functools
import io
import posixpath
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException

from xlplan.core.errors import WorkbookUnreadable
from xlplan.io.atomic import write_bytes_atomic
from xlplan.xlsm import parts
from xlplan.xlsm.cfb import write_compound_file
from xlplan.xlsm.sources import default_modules, missing_actions, ribbon_xml
from xlplan.xlsm.vbaproject import (
    CHARTSHEET_BASE,
    WORKBOOK_BASE,
    WORKSHEET_BASE,
    VbaModule,
    document_header,
    module_source,
    project_streams,
)

__all__ = ["VbaModule", "build_vba_project", "make_xlsm", "make_xlsm_from_workbook", "default_modules",
           "ribbon_xml", "read_vba_modules"]

_default_ribbon = ribbon_xml  # make_xlsm's parameter of the same name shadows it
RIBBON_PART = "customUI/customUI14.xml"
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_WORKBOOK_PR_AFTER = ("fileVersion", "fileSharing")


def build_vba_project(modules: Sequence[VbaModule], project_name: str = "xlplan") -> bytes:
    """The ``vbaProject.bin`` bytes for *modules* (source only; Excel compiles on open).

    The same modules give the same bytes, so a project is built once per process
    and reused (``fill`` writes many workbooks with the same sheets and modules).
    """
    return _built_project(tuple(modules), project_name)


@functools.lru_cache(maxsize=8)
def _built_project(modules: tuple[VbaModule, ...], project_name: str) -> bytes:
    return write_compound_file(project_streams(list(modules), project_name))


@dataclass(frozen=True)
class _Host:
    """A document module's host: the workbook or one sheet, with its part and code name."""

    part: str
    element: str
    code_name: str
    is_new: bool
    base: str


def make_xlsm(xlsx_path: Path, out_path: Path, *, modules: Sequence[VbaModule] | None = None,
              ribbon_xml: str | None = None) -> None:
    """Write *out_path*: *xlsx_path* plus code names, VBA project and ribbon.

    *modules* defaults to :func:`default_modules`; document modules in it give
    code to ``ThisWorkbook`` or a sheet's code name, every other host gets an
    empty document module.  *ribbon_xml* defaults to our ribbon; ``""`` leaves
    the ribbon out.  Every ``onAction`` must name a Sub of the modules.
    """
    xlsx_path = Path(xlsx_path)
    _write_xlsm(_read_zip(xlsx_path), Path(out_path), modules, ribbon_xml, str(xlsx_path))


def make_xlsm_from_workbook(wb: Any, out_path: Path, *, modules: Sequence[VbaModule] | None = None,
                            ribbon_xml: str | None = None) -> None:
    """:func:`make_xlsm` for an openpyxl workbook in memory: its parts are compressed once.

    The workbook is written as ``Workbook.save`` writes it, but uncompressed into
    memory, instead of saving an .xlsx that :func:`make_xlsm` decompresses again.
    """
    import datetime as dt

    from openpyxl.writer.excel import ExcelWriter

    wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)  # as Workbook.save
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).write_data()
    with zipfile.ZipFile(buffer) as zf:
        entries = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    out_path = Path(out_path)
    _write_xlsm(entries, out_path, modules, ribbon_xml, out_path.name)


def _write_xlsm(entries: dict[str, bytes], out_path: Path, modules: Sequence[VbaModule] | None,
                ribbon_xml: str | None, source: str) -> None:
    if out_path.suffix.lower() != ".xlsm":
        raise ValueError(f"{out_path}: a macro-enabled workbook must be named .xlsm")
    chosen = list(default_modules() if modules is None else modules)
    ribbon = _default_ribbon() if ribbon_xml is None else ribbon_xml
    if ribbon and (missing := missing_actions(ribbon, chosen)):
        raise ValueError(f"ribbon actions without a VBA Sub: {', '.join(missing)}")
    out = _transform(entries, chosen, ribbon, source)
    write_bytes_atomic(out_path, _write_zip(out))


def _read_zip(path: Path) -> dict[str, bytes]:
    try:
        with zipfile.ZipFile(path) as zf:
            return {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}
    except (OSError, zipfile.BadZipFile) as exc:
        raise WorkbookUnreadable(str(path), str(exc)) from exc


def _write_zip(entries: dict[str, bytes]) -> bytes:
    names = sorted(entries, key=lambda n: (n != "[Content_Types].xml",))
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0
            info.external_attr = 0
            zf.writestr(info, entries[name], compresslevel=6)
    return buffer.getvalue()


def _transform(entries: dict[str, bytes], modules: list[VbaModule], ribbon: str, source: str) -> dict[str, bytes]:
    out = dict(entries)
    if "[Content_Types].xml" not in out:
        raise WorkbookUnreadable(source, "[Content_Types].xml saknas")
    try:
        workbook = _workbook_part(out, source)
        hosts = _hosts(out, workbook, {m.name.upper() for m in modules if m.kind != "document"})
    except (ParseError, DefusedXmlException, KeyError, UnicodeDecodeError) as exc:
        raise WorkbookUnreadable(source, f"trasig arbetsboksdel: {exc}") from exc
    for host in hosts:
        if host.is_new:
            after = _WORKBOOK_PR_AFTER if host.element == "workbookPr" else ()
            out[host.part] = parts.set_code_name(out[host.part], host.element, host.code_name, after)
    overrides = _add_vba_project(out, workbook, _project_modules(hosts, modules))
    if ribbon:
        overrides.update(_add_ribbon(out, ribbon))
    out["[Content_Types].xml"] = parts.set_content_types(out["[Content_Types].xml"], overrides)
    return out


def _add_vba_project(out: dict[str, bytes], workbook: str, project: list[VbaModule]) -> dict[str, str]:
    """Write the VBA project part and its relationship; return the content types to set."""
    wb_rels = parts.rels_part(workbook)
    out[wb_rels], vba_part = parts.ensure_relationship(
        out.get(wb_rels), workbook, parts.REL_VBA_PROJECT,
        posixpath.join(posixpath.dirname(workbook), "vbaProject.bin"), "rIdVbaProject")
    out[vba_part] = build_vba_project(project)
    return {workbook: parts.CT_MACRO_WORKBOOK, vba_part: parts.CT_VBA_PROJECT}


def _add_ribbon(out: dict[str, bytes], ribbon: str) -> dict[str, str]:
    """Write the customUI part (last: openpyxl drops its relationship); return content types to set."""
    data = ribbon.encode("utf-8")
    parts.safe_xml.fromstring(data)  # well-formed, or raises
    out["_rels/.rels"], ribbon_part = parts.ensure_relationship(
        out.get("_rels/.rels"), "", parts.REL_RIBBON, RIBBON_PART, "rIdXlplanRibbon")
    out[ribbon_part] = data
    if parts.content_type_defaults(out["[Content_Types].xml"]).get("xml") != parts.CT_XML:
        return {ribbon_part: parts.CT_XML}
    return {}


def _workbook_part(entries: dict[str, bytes], source: str) -> str:
    rels = parts.read_rels(entries.get("_rels/.rels"), "")
    for rel in rels:
        if rel.type == parts.REL_OFFICE_DOCUMENT and rel.target in entries:
            return rel.target
    raise WorkbookUnreadable(source, "arbetsboksdelen (xl/workbook.xml) saknas")


def _hosts(entries: dict[str, bytes], workbook: str, reserved: set[str]) -> list[_Host]:
    """The workbook and its sheets with existing or newly chosen code names."""
    rels = parts.read_rels(entries.get(parts.rels_part(workbook)), workbook)
    sheets = parts.workbook_sheets(entries[workbook], rels)
    found = [(workbook, "workbookPr", parts.get_code_name(entries[workbook], "workbookPr"), WORKBOOK_BASE)]
    for sheet in sheets:
        base = CHARTSHEET_BASE if sheet.kind == "chartsheet" else WORKSHEET_BASE
        found.append((sheet.part, "sheetPr", parts.get_code_name(entries[sheet.part], "sheetPr"), base))
    taken = reserved | {name.upper() for _, _, name, _ in found if name}
    hosts = []
    for index, (part, element, found_name, base) in enumerate(found):
        new = found_name is None
        if found_name is None:
            name = "ThisWorkbook" if index == 0 else _free_name(index, taken)
            taken.add(name.upper())
        else:
            name = found_name
        hosts.append(_Host(part, element, name, new, base))
    if len(taken) != len(reserved) + len(hosts):
        raise ValueError("code names of the workbook collide with each other or with a VBA module")
    return hosts


def _free_name(index: int, taken: set[str]) -> str:
    n = index
    while f"SHEET{n}" in taken:
        n += 1
    return f"Sheet{n}"


def _project_modules(hosts: list[_Host], modules: list[VbaModule]) -> list[VbaModule]:
    documents = {m.name: m for m in modules if m.kind == "document"}
    unknown = set(documents) - {h.code_name for h in hosts}
    if unknown:
        raise ValueError(f"document modules without a sheet or workbook: {', '.join(sorted(unknown))}")
    project = []
    for host in hosts:
        given = documents.get(host.code_name)
        code = given.code if given else ""
        if not code.startswith("Attribute VB_Name"):
            code = document_header(host.code_name, host.base) + code
        project.append(VbaModule(host.code_name, code, "document"))
    return project + [m for m in modules if m.kind != "document"]


def read_vba_modules(xlsm_path: Path) -> dict[str, str]:
    """Module name -> source text, as oletools' olevba reads them (strict parsing)."""
    from oletools.olevba import VBA_Parser

    parser = VBA_Parser(str(xlsm_path), relaxed=False)
    try:
        return {Path(filename).stem: code for _, _, filename, code in parser.extract_macros()}
    finally:
        parser.close()


def stored_sources(modules: Sequence[VbaModule]) -> dict[str, str]:
    """Module name -> the exact text :func:`build_vba_project` stores (for comparisons)."""
    return {m.name: module_source(m) for m in modules}
