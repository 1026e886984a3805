"""Build the default Word template for the board pack (``templates/namndrapport.docx``).

The template holds what a municipality would change: page size and margins,
named styles (Title, Subtitle, Heading 1–3, Normal, Caption, TOC 1–2 and
xlplan's Tabelltext, Tabellrubrik, Källhänvisning, Innehållsrubrik), and a
header and footer with placeholders (``{kommun}``, ``{nämnd}``, ``{period}``,
``{datum}``, ``{förvaltning}``) that the export fills in.  The export clears the
template's body and writes the report with these styles, so a municipality's
own template (logo in the header, its fonts and colours) is used as it is.

``export`` builds this default in memory when no template is given, so an
installed xlplan never depends on a file beside it; the copy in
``templates/`` is for municipalities to start from, and a test checks that it
is what this module builds.  Rebuild it with::

    python -m xlplan.export.make_template templates/namndrapport.docx
"""

from __future__ import annotations

import datetime as dt
import io
import sys
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT, WD_TAB_LEADER
from docx.shared import Cm, Pt, RGBColor

from xlplan.export.docx_parts import CUSTOM_STYLES, add_field, ensure_styles, set_language
from xlplan.io.atomic import atomic_path

FONT = "Arial"
ACCENT = RGBColor(0x1F, 0x38, 0x64)
GREY = RGBColor(0x59, 0x59, 0x59)
TEXT_WIDTH_CM = 16.0
FIXED_DATE = dt.datetime(2024, 1, 1, 0, 0, 0)


def build_template() -> DocumentObject:
    doc = Document()
    _page(doc)
    _styles(doc)
    set_language(doc, "sv-SE")
    _header_footer(doc)
    _body(doc)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = "Nämndrapport", "xlplan", "xlplan"
    props.created = props.modified = FIXED_DATE
    props.revision = 1
    return doc


def template_bytes() -> bytes:
    buffer = io.BytesIO()
    build_template().save(buffer)
    return buffer.getvalue()


def _page(doc: DocumentObject) -> None:
    section = doc.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21.0), Cm(29.7)
    section.left_margin = section.right_margin = Cm(2.5)
    section.top_margin, section.bottom_margin = Cm(2.2), Cm(2.2)
    section.header_distance = section.footer_distance = Cm(1.0)
    section.different_first_page_header_footer = True  # no header on the cover


def _styles(doc: DocumentObject) -> None:
    styles = doc.styles
    normal = styles["Normal"]
    normal.font.name, normal.font.size = FONT, Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    normal.paragraph_format.line_spacing = 1.1
    for name, size, colour in (("Title", 28, ACCENT), ("Subtitle", 15, GREY), ("Heading 1", 16, ACCENT),
                               ("Heading 2", 13, ACCENT), ("Heading 3", 11, None)):
        style = styles[name]
        style.font.name, style.font.size, style.font.bold = FONT, Pt(size), name != "Subtitle"
        style.font.italic = False
        style.font.color.rgb = colour or RGBColor(0, 0, 0)
        style.paragraph_format.space_before = Pt(14 if name.startswith("Heading") else 0)
        style.paragraph_format.space_after = Pt(6)
    styles["Heading 1"].paragraph_format.page_break_before = False
    ensure_styles(doc)
    caption = styles["Caption"]
    caption.font.name, caption.font.size, caption.font.italic = FONT, Pt(8.5), True
    caption.font.bold = False
    caption.font.color.rgb = GREY
    for name in CUSTOM_STYLES:
        styles[name].font.name = FONT
    styles["Källhänvisning"].font.color.rgb = GREY
    styles["Innehållsrubrik"].font.color.rgb = ACCENT
    for level, name in enumerate(("TOC 1", "TOC 2")):
        style = styles[name]
        style.font.name, style.font.size, style.font.bold = FONT, Pt(10.5 if level == 0 else 10), level == 0
        fmt = style.paragraph_format
        fmt.left_indent = Cm(0.6 * level)
        fmt.space_after = Pt(3)
        fmt.tab_stops.add_tab_stop(Cm(TEXT_WIDTH_CM), WD_TAB_ALIGNMENT.RIGHT, WD_TAB_LEADER.DOTS)


def _header_footer(doc: DocumentObject) -> None:
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.text = "{kommun} · {nämnd}"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    header.runs[0].font.size, header.runs[0].font.color.rgb = Pt(8.5), GREY
    footer = section.footer.paragraphs[0]
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = footer.add_run("Uppföljning {period} · sida ")
    run.font.size = Pt(8.5)
    add_field(footer, "PAGE", "1")
    for run in footer.runs:
        run.font.size, run.font.color.rgb = Pt(8.5), GREY


def _body(doc: DocumentObject) -> None:
    doc.add_paragraph("Nämndrapport", style="Title")
    doc.add_paragraph(
        "Mall för xlplans nämndrapport. Innehållet ersätts vid export; sidhuvud, sidfot, "
        "sidformat och formatmallar (Title, Heading 1–3, Normal, Caption, Tabelltext, Tabellrubrik, "
        "Källhänvisning, Innehållsrubrik, TOC 1–2) används som de är. Platshållare: {kommun}, {nämnd}, "
        "{förvaltning}, {period}, {datum}.")


def write_template(path: str | Path) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(template_bytes())
    return path


if __name__ == "__main__":  # pragma: no cover - a build step
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("templates/namndrapport.docx")
    print(write_template(target))
