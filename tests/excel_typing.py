"""Type into a workbook's cells the way Excel stores them, by writing the sheet XML directly.

openpyxl writes a formula without its value and never writes a shared formula; Excel stores the
value it computed beside every formula (``<f>10+5</f><v>15</v>``) and a formula filled down as
one *shared* formula: the first cell holds the text, the others point to it
(``<f t="shared" si="0"/>``). These helpers make exactly that XML, so tests read what a file
saved by Excel holds.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

Cell = tuple[str, Any]  # (A1, what to store: see cell_xml)


def sheet_part(entries: dict[str, bytes], sheet: str) -> str:
    """The zip part of the sheet named *sheet*."""
    book = entries["xl/workbook.xml"].decode("utf-8")
    rels = entries["xl/_rels/workbook.xml.rels"].decode("utf-8")
    m = re.search(rf'<sheet [^>]*name="{re.escape(escape(sheet))}"[^>]*r:id="([^"]+)"', book)
    assert m is not None, f"no sheet {sheet}"
    rel = re.search(rf'<Relationship [^>]*Id="{m.group(1)}"[^>]*/>', rels)
    assert rel is not None
    target = re.search(r'Target="([^"]+)"', rel.group(0))
    assert target is not None
    name = target.group(1)
    return name.lstrip("/") if name.startswith("/") else "xl/" + name


def cell_xml(ref: str, style: str, content: Any) -> str:
    """One ``<c>``: *content* is a number or text (typed value), ``("f", "10+5", 15)`` (a formula with its
    stored value, None: none stored), ``("shared", "I7*2", 4046, "M7:M8", si)`` (the first cell of a
    shared formula) or ``("shares", si, value)`` (a cell sharing it)."""
    s = f' s="{style}"' if style else ""
    if isinstance(content, tuple):
        kind = content[0]
        if kind == "f":
            _, text, value = content
            f = f"<f>{escape(text)}</f>"
        elif kind == "shared":
            _, text, value, span, si = content
            f = f'<f t="shared" ref="{span}" si="{si}">{escape(text)}</f>'
        else:
            _, si, value = content
            f = f'<f t="shared" si="{si}"/>'
        v = "" if value is None else f"<v>{value!r}</v>" if isinstance(value, float) else f"<v>{escape(str(value))}</v>"
        t = ' t="str"' if isinstance(value, str) else ""  # a formula giving text
        return f'<c r="{ref}"{s}{t}>{f}{v}</c>'
    if content is None:
        return f'<c r="{ref}"{s}/>'
    if isinstance(content, (int, float)) and not isinstance(content, bool):
        return f'<c r="{ref}"{s}><v>{content!r}</v></c>'
    return f'<c r="{ref}"{s} t="inlineStr"><is><t xml:space="preserve">{escape(str(content))}</t></is></c>'


def type_cells(path: Path, sheet: str, cells: list[Cell]) -> None:
    """Store each (A1, content) in *sheet* of *path* as Excel would; the cells must exist in the XML
    (xlplan writes every table cell, inputs with their style)."""
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        entries = {i.filename: zf.read(i) for i in infos}
    part = sheet_part(entries, sheet)
    xml = entries[part].decode("utf-8")
    for ref, content in cells:
        pattern = re.compile(rf'<c r="{ref}"(?P<attrs>[^>]*?)(?:/>|>.*?</c>)', re.S)
        m = pattern.search(xml)
        assert m is not None, f"{sheet}!{ref} is not in the sheet XML"
        style = re.search(r'\ss="(\d+)"', m.group("attrs"))
        new = cell_xml(ref, style.group(1) if style else "", content)
        xml = xml[:m.start()] + new + xml[m.end():]
    entries[part] = xml.encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in infos:
            out.writestr(info, entries[info.filename])
