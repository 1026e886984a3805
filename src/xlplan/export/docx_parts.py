"""Small python-docx helpers: styles that may be missing, fields, tables, shading, placeholders."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING

from docx.document import Document as DocumentObject
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph

from xlplan.core.status import SEVERITY_COLOURS

if TYPE_CHECKING:
    from docx.oxml.styles import CT_Style
    from docx.oxml.xmlchemy import BaseOxmlElement

# Placeholders a template may use anywhere (body, headers, footers).
PLACEHOLDERS = ("{kommun}", "{nämnd}", "{förvaltning}", "{period}", "{datum}")
# Styles xlplan uses; a template lacking one gets a plain one based on these.
HEADING_LEVELS = {"Heading 1": 0, "Heading 2": 1, "Heading 3": 2}
CUSTOM_STYLES = {
    "Tabelltext": ("Normal", 9, False, False),
    "Tabellrubrik": ("Normal", 9, True, False),
    "Källhänvisning": ("Normal", 8, False, True),
    "Innehållsrubrik": ("Normal", 16, True, False),
}


def has_style(doc: DocumentObject, name: str) -> bool:
    try:
        doc.styles[name]
    except KeyError:
        return False
    return True


def ensure_styles(doc: DocumentObject) -> None:
    """Add the styles xlplan needs when the template lacks them (keeps those it has)."""
    for name, level in HEADING_LEVELS.items():
        if not has_style(doc, name):
            style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = doc.styles["Normal"]
            style.font.bold = True
            style.font.size = Pt((16, 13, 11)[level])
            style.paragraph_format.keep_with_next = True
            _outline_level(style.element, level)
    for name in ("Title", "Subtitle", "Caption", "TOC 1", "TOC 2"):
        if not has_style(doc, name):
            style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = doc.styles["Normal"]
    for name, (base, size, bold, italic) in CUSTOM_STYLES.items():
        if not has_style(doc, name):
            style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = doc.styles[base]
            style.font.size = Pt(size)
            style.font.bold = bold
            style.font.italic = italic
            style.paragraph_format.space_after = Pt(0 if name.startswith("Tabell") else 6)


def _outline_level(style_element: CT_Style, level: int) -> None:
    ppr = style_element.get_or_add_pPr()
    lvl = OxmlElement("w:outlineLvl")
    lvl.set(qn("w:val"), str(level))
    ppr.insert_element_before(lvl, "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")


def clear_body(doc: DocumentObject) -> None:
    """Remove the template's body content, keeping the final section properties."""
    body = doc.element.body
    for child in list(body):
        if child.tag != qn("w:sectPr"):
            body.remove(child)


def all_paragraphs(doc: DocumentObject) -> Iterator[Paragraph]:
    """Paragraphs of the body, its tables and every header and footer."""
    yield from _paragraphs_in(doc)
    for section in doc.sections:
        for part in (section.header, section.first_page_header, section.even_page_header,
                     section.footer, section.first_page_footer, section.even_page_footer):
            if not part.is_linked_to_previous:
                yield from _paragraphs_in(part)


def _paragraphs_in(container: object) -> Iterator[Paragraph]:
    yield from container.paragraphs  # type: ignore[attr-defined]
    for table in container.tables:  # type: ignore[attr-defined]
        for row in table.rows:
            for cell in row.cells:
                yield from _paragraphs_in(cell)


def replace_placeholders(doc: DocumentObject, values: dict[str, str]) -> None:
    for paragraph in all_paragraphs(doc):
        replace_in_paragraph(paragraph, values)


def replace_in_paragraph(paragraph: Paragraph, values: dict[str, str]) -> None:
    if not any(key in paragraph.text for key in values):
        return
    runs = paragraph.runs
    for run in runs:  # a placeholder inside one run keeps that run's formatting
        for key, value in values.items():
            if key in run.text:
                run.text = run.text.replace(key, value)
    texts = [run for run in runs if run.text and not _has_drawing(run)]
    if any(key in paragraph.text for key in values) and texts:  # split over runs: merge the text runs
        text = "".join(run.text for run in texts)
        for key, value in values.items():
            text = text.replace(key, value)
        texts[0].text = text
        for run in texts[1:]:
            run.text = ""


def _has_drawing(run: object) -> bool:
    """A run holding a picture (a logo): its content must not be replaced by text."""
    element = run._r  # type: ignore[attr-defined]
    return element.find(qn("w:drawing")) is not None or element.find(qn("w:pict")) is not None


def add_field(paragraph: Paragraph, instruction: str, result: str = "") -> None:
    """A complex field (PAGE, TOC …) with a cached result text."""
    _fld_char(paragraph, "begin")
    run = paragraph.add_run()
    instr = OxmlElement("w:instrText")
    instr.set(qn("xml:space"), "preserve")
    instr.text = f" {instruction} "
    run._r.append(instr)
    _fld_char(paragraph, "separate")
    if result:
        paragraph.add_run(result)
    _fld_char(paragraph, "end")


def _fld_char(paragraph: Paragraph, kind: str) -> None:
    run = paragraph.add_run()
    char = OxmlElement("w:fldChar")
    char.set(qn("w:fldCharType"), kind)
    run._r.append(char)


def shade(cell: _Cell, fill: str) -> None:
    tcpr = cell._tc.get_or_add_tcPr()
    for old in tcpr.findall(qn("w:shd")):
        tcpr.remove(old)
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    tcpr.insert_element_before(shd, "w:noWrap", "w:tcMar", "w:textDirection", "w:tcFitText", "w:vAlign",
                               "w:hideMark", "w:headers", "w:cellIns", "w:cellDel", "w:cellMerge", "w:tcPrChange")


def _borders(table: Table) -> None:
    tblpr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for edge in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{edge}")
        el.set(qn("w:val"), "single")
        el.set(qn("w:sz"), "4")
        el.set(qn("w:space"), "0")
        el.set(qn("w:color"), "8C8C8C")
        borders.append(el)
    tblpr.insert_element_before(borders, "w:shd", "w:tblLayout", "w:tblCellMar", "w:tblLook", "w:tblCaption",
                                "w:tblDescription", "w:tblPrChange")  # schema order matters to Word


def _repeat_header(table: Table) -> None:
    """Rows never split over pages; the header row repeats (cantSplit before tblHeader, as the schema says)."""
    for row in table.rows:
        trpr = row._tr.get_or_add_trPr()
        trpr.insert_element_before(OxmlElement("w:cantSplit"), "w:trHeight", "w:tblHeader", "w:tblCellSpacing",
                                   "w:jc", "w:hidden", "w:ins", "w:del", "w:trPrChange")
    header = OxmlElement("w:tblHeader")
    header.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().insert_element_before(header, "w:tblCellSpacing", "w:jc", "w:hidden",
                                                               "w:ins", "w:del", "w:trPrChange")


def text_width_cm(doc: DocumentObject) -> float:
    """The width between the margins of the document's last section, in cm."""
    section = doc.sections[-1]
    width = (section.page_width or Cm(21)) - (section.left_margin or 0) - (section.right_margin or 0)
    return max(width / 360000, 5.0)  # EMU per cm


def add_table(doc: DocumentObject, headers: Sequence[str], rows: Iterable[Sequence[str]],
              widths_cm: Sequence[float], numeric: Sequence[int] = (), header_fill: str = "D9E1F2") -> Table:
    """A bordered table: header row shaded and repeated on each page, numbers right-aligned."""
    rows = list(rows)
    scale = min(1.0, text_width_cm(doc) / sum(widths_cm))  # a template with wider margins
    widths_cm = [w * scale for w in widths_cm]
    table = doc.add_table(rows=1 + len(rows), cols=len(headers))
    table.alignment = WD_TABLE_ALIGNMENT.LEFT
    table.autofit = False
    _borders(table)
    for c, width in enumerate(widths_cm):
        table.columns[c].width = Cm(width)  # the grid: LibreOffice lays out by it
    styles = (doc.styles["Tabellrubrik"].style_id, doc.styles["Tabelltext"].style_id)  # resolved once
    widths = [Cm(w) for w in widths_cm]
    for r, (row, values) in enumerate(zip(table.rows, [list(headers)] + [list(x) for x in rows])):
        for c, (cell, text) in enumerate(zip(row.cells, values)):  # row.cells, not table.cell(): linear
            cell.width = widths[c]
            para = cell.paragraphs[0]
            para._p.style = styles[0 if r == 0 else 1]  # by id: python-docx resolves names slowly
            para.text = text
            if c in numeric and r > 0:
                para.alignment = WD_ALIGN_PARAGRAPH.RIGHT
            if r == 0:
                shade(cell, header_fill)
    _repeat_header(table)
    return table


def group_rows(table: Table, rows: Iterable[int], fill: str = "F2F2F2") -> None:
    """Merge each of *rows* across the table into one bold, shaded group heading."""
    last = len(table.columns) - 1
    for r in rows:
        cells = table.rows[r].cells
        merged = cells[0].merge(cells[last])
        for extra in merged.paragraphs[1:]:
            extra._p.getparent().remove(extra._p)
        for run in merged.paragraphs[0].runs:
            run.bold = True
        merged.paragraphs[0].paragraph_format.keep_with_next = True  # not alone at the foot of a page
        shade(merged, fill)


def cell_at(table: Table, row: int, col: int) -> _Cell:
    """A cell by position (python-docx's ``table.cell`` walks the whole grid each call)."""
    return table.rows[row].cells[col]


def bold_row(table: Table, index: int) -> None:
    for cell in table.rows[index].cells:
        for para in cell.paragraphs:
            for run in para.runs:
                run.bold = True


def remove_update_fields(doc: DocumentObject) -> None:
    """No ``w:updateFields``: the contents already hold their page numbers, so Word must not ask on open."""
    settings = doc.settings.element
    for old in settings.findall(qn("w:updateFields")):
        settings.remove(old)


def set_language(doc: DocumentObject, lang: str) -> None:
    """The document's language (spelling, hyphenation, screen readers): the default run properties, every
    style that names a language of its own, and the theme font language in the settings."""
    styles = doc.styles.element
    defaults = styles.find(qn("w:docDefaults"))
    if defaults is None:
        defaults = OxmlElement("w:docDefaults")
        styles.insert(0, defaults)
    rpr_default = defaults.find(qn("w:rPrDefault"))
    if rpr_default is None:
        rpr_default = OxmlElement("w:rPrDefault")
        defaults.insert(0, rpr_default)
    rpr = rpr_default.find(qn("w:rPr"))
    if rpr is None:
        rpr = OxmlElement("w:rPr")
        rpr_default.append(rpr)
    _set_lang(rpr, lang)
    for style_rpr in styles.iter(qn("w:rPr")):
        if style_rpr is not rpr and style_rpr.find(qn("w:lang")) is not None:
            _set_lang(style_rpr, lang)
    settings = doc.settings.element
    theme = settings.find(qn("w:themeFontLang"))
    if theme is None:
        theme = OxmlElement("w:themeFontLang")
        settings.insert_element_before(theme, *_SETTINGS_AFTER_THEME_FONT_LANG)
    theme.set(qn("w:val"), lang)


def _set_lang(rpr: BaseOxmlElement, lang: str) -> None:
    el = rpr.find(qn("w:lang"))
    if el is None:
        el = OxmlElement("w:lang")
        rpr.insert_element_before(el, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    el.set(qn("w:val"), lang)


# Elements that follow w:themeFontLang in w:settings (ECMA-376 CT_Settings sequence).
_SETTINGS_AFTER_THEME_FONT_LANG = tuple(f"w:{name}" for name in (
    "clrSchemeMapping", "doNotIncludeSubdocsInStats", "doNotAutoCompressPictures", "forceUpgrade", "captions",
    "readModeInkLockDown", "smartTagType", "schemaLibrary", "shapeDefaults", "doNotEmbedSmartTags",
    "decimalSymbol", "listSeparator"))


def add_header_line(doc: DocumentObject, text: str, colour: str = SEVERITY_COLOURS["fel"].font) -> None:
    """A bold line on top of every page header of every section (the cover's too)."""
    for n, section in enumerate(doc.sections):
        headers = [section.header] + ([section.first_page_header] if section.different_first_page_header_footer
                                      else [])
        for header in headers:
            if n > 0 and header.is_linked_to_previous:
                continue
            first = header.paragraphs[0] if header.paragraphs else header.add_paragraph()
            para = first.insert_paragraph_before() if first.text or first.runs else first
            run = para.add_run(text)
            run.bold = True
            run.font.size = Pt(9)
            run.font.color.rgb = RGBColor.from_string(colour)


def set_alt_text(run: object, title: str, description: str) -> None:
    """Alternative text of the picture in *run* (``wp:docPr`` title and descr)."""
    for doc_pr in run._r.iter(qn("wp:docPr")):  # type: ignore[attr-defined]
        doc_pr.set("title", safe_text(title)[:250])
        doc_pr.set("descr", safe_text(description))


CELL_PADDING_CM = 0.5  # the cell's left and right margins and a little air
# Widths of 9 pt table text in cm per character, measured on DejaVu Sans (the widest of the fonts a
# template's Arial/Calibri falls back to), so a width that fits here fits in Word too.
_NARROW = set("ijlI.,:;'|! ")
_SLIM = set("rtf()[]-/")
_WIDE = set("mwMWÅÄÖ%—–−")


def _text_cm(text: str, bold: bool = False) -> float:
    width = sum(0.1 if ch in _NARROW else 0.14 if ch in _SLIM else 0.28 if ch in _WIDE
                else 0.24 if ch.isupper() else 0.2 for ch in text)
    return width * (1.15 if bold else 1.0) + CELL_PADDING_CM


def _words(text: str) -> list[str]:
    """Where a line may break: at ordinary spaces and line breaks (not at no-break spaces)."""
    return [w for w in re.split(r"[ \n]+", text) if w]


def content_widths(headers: Sequence[str], rows: Sequence[Sequence[str]], total_cm: float,
                   flexible: int | None = 0) -> list[float]:
    """Column widths from the content: each column as wide as its longest line when that fits, never
    narrower than its longest word (no word is broken); the *flexible* column (a long text) takes what
    is left.  With ``flexible=None`` the table is only as wide as its content."""
    cols = len(headers)
    cells = [[str(c) for c in row] for row in rows if any(row[1:])]  # group rows span the table
    longest = [max([_text_cm(line) for r in cells for line in r[c].split("\n")]
                   + [_text_cm(w, True) for w in str(headers[c]).split()]) for c in range(cols)]
    word = [max([_text_cm(w) for r in cells for w in _words(r[c])]
                + [_text_cm(w, True) for w in _words(str(headers[c]))]) for c in range(cols)]
    widths = [min(longest[c], max(word[c], 4.5)) for c in range(cols)]
    if flexible is None:
        if sum(longest) <= total_cm:
            return longest
        flexible = max(range(cols), key=lambda c: longest[c])
    others = sum(w for c, w in enumerate(widths) if c != flexible)
    rest = total_cm - others
    if rest >= word[flexible]:
        widths[flexible] = rest
        return widths
    # too wide: shrink the other columns towards their longest word, then scale
    widths = [max(word[c], min(widths[c], 3.0)) if c != flexible else word[flexible] for c in range(cols)]
    scale = min(1.0, total_cm / sum(widths))
    widths = [w * scale for w in widths]
    widths[flexible] += total_cm - sum(widths)
    return widths


def safe_text(text: str | None) -> str:
    """Text without characters XML cannot hold (control characters)."""
    if not text:
        return ""
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", text)
