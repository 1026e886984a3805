"""``nämndrapport.docx``: the board pack as a Swedish delårsrapport / verksamhetsberättelse.

Written with python-docx into a Word template: the template's body is cleared;
its sections (page set-up, header, footer, logo) and named styles are kept.

Order: cover (kommun, nämnd, period, diarienummer, sammanträdesdatum, förslag
till beslut, UTKAST when something is not approved), contents, sammanfattning,
viktiga händelser, måluppfyllelse (per goal: the committee's samlad bedömning
and motivering, one compact indicator table, the missed indicators' analyses,
a small-multiples chart), aktiviteter (counts and exceptions only), ekonomi,
personal, internkontroll, framtid, om underlaget.  A section without data
keeps its heading and one line saying why.

The controller's texts and per-goal assessments are read with ``getattr`` from
the committee data (``texts``, ``goal_assessments``) so a workbook without the
input sheet still exports.
"""

from __future__ import annotations

import io
import os
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

from xlplan.books.committee import (
    COMPARISON_MISSING,
    FULFILLED,
    NOT_FULFILLED,
    OUTCOME_MISSING,
    PARTLY,
    STATUS_COLOURS,
    SUPPORT_WORDS,
    ActivityLine,
    CommentLine,
    CommitteeData,
    GoalSummary,
    IndicatorLine,
    PersonnelLine,
    department_totals,
    economy_totals,
    investment_totals,
    is_frame_investment,
    is_frame_line,
)
from xlplan.core.errors import ExportFailed
from xlplan.core.targets import parse_target
from xlplan.export import docx_parts as parts
from xlplan.export.charts import (
    Chart,
    ReportCharts,
    baseline_number,
    is_text_target,
    previous_value,
    series_part,
    target_number,
    text_numbers,
)
from xlplan.export.make_template import template_bytes

TEXT_WIDTH_CM = 16.0
HEADING_STYLES = ("Heading 1", "Heading 2")
LANGUAGE = "sv-SE"
APPROVED = "godkänd"
MINUS = "\u2212"
NBSP = "\u00a0"
TEXT_KEYS = ("diarienummer", "sammantradesdatum", "forslag_till_beslut", "sammanfattning", "viktiga_handelser",
             "ekonomi", "personal", "framtid")
WHERE_TEXTS = "nämndens sammanställning (bladet Texter)"
# Activity states that are reported as they are (counts only); any other state is an exception.
ROUTINE_ACTIVITY_STATES = ("klar", "pågår", "ej påbörjad")
COUNT_UNITS = ("antal", "st", "personer", "boendeplatser", "platser", "dagar")
ARROWS = {1: "↑", -1: "↓", 0: "→"}


# ---------------------------------------------------------------- numbers


def _decimals(value: float, unit: str | None) -> int:
    """Decimals for a value shown to people: none for counts and whole numbers, else at most one
    (two for values below 1, e.g. 0,25)."""
    if value == int(value) or (unit and unit.casefold() in COUNT_UNITS and abs(value) >= 10):
        return 0
    if abs(value) < 1:
        return 2
    return 1


def cell_unit(unit: str | None) -> str | None:
    """The unit shown beside a number in a cell: short ones only ('%', 'dagar', 'kr'); a longer unit
    ('boendeplatser') is named once in the indicator's row instead, counts ('antal', 'st') never."""
    if not unit or unit.casefold() in ("antal", "st") or len(unit) > 5:
        return None
    return unit


def fmt(value: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    """Swedish number for a table cell: U+2212 minus, no-break spaces (thousands and unit); '–' for none."""
    if value is None:
        return "–"
    shown_unit = cell_unit(unit)
    if decimals is None:
        decimals = _decimals(value, unit)
    rounded = Decimal(repr(abs(value))).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)  # as Excel
    digits, _, frac = f"{rounded:f}".partition(".")
    head = len(digits) % 3 or 3
    grouped = NBSP.join([digits[:head]] + [digits[i:i + 3] for i in range(head, len(digits), 3)])
    body = grouped + ("," + frac if frac and rounded != 0 else "")
    if value < 0 and rounded != 0:
        body = MINUS + body
    return f"{body}{NBSP}{shown_unit}" if shown_unit else body


def swedish_text(text: str) -> str:
    """A typed text with a hyphen used as minus before a number written as the minus sign."""
    return re.sub(r"(?<![\w\d])-\s?(?=\d)", MINUS, text)


# ---------------------------------------------------------------- template


def open_template(template: Path | None) -> DocumentObject:
    if template is None:
        return Document(io.BytesIO(template_bytes()))
    try:
        return Document(str(template))
    except Exception as exc:  # python-docx raises zip, XML and value errors
        raise ExportFailed(f"{Path(template).name}: Word-mallen kan inte öppnas ({exc}). "
                           "Välj en .docx-fil (inte .dotx eller .doc).") from exc


# ---------------------------------------------------------------- draft state


@dataclass(frozen=True)
class DraftState:
    """What keeps the pack a draft: departments not approved, lines without an outcome, and lines of a
    direction target without a comparison value (*Jämförelsevärde saknas*)."""

    not_approved: tuple[tuple[str, str], ...] = ()  # (department, state)
    departments: int = 0
    missing_outcomes: int = 0
    missing_comparisons: int = 0

    @property
    def is_draft(self) -> bool:
        return bool(self.not_approved or self.missing_outcomes or self.missing_comparisons)

    def reason(self) -> str:
        parts_: list[str] = []
        if self.not_approved:
            parts_.append(f"{len(self.not_approved)} av {self.departments} avdelningar är inte godkända")
        if self.missing_outcomes:
            n = self.missing_outcomes
            parts_.append(f"utfall saknas för {n} indikator{'rad' if n == 1 else 'rader'}")
        if self.missing_comparisons:
            n = self.missing_comparisons
            parts_.append(f"jämförelsevärde saknas för {n} indikator{'rad' if n == 1 else 'rader'}")
        return " och ".join(parts_)


def draft_state(data: CommitteeData) -> DraftState:
    pending = tuple((s.department, s.state) for s in data.submissions if s.state.strip().casefold() != APPROVED)
    missing = sum(1 for x in data.indicators if x.status == OUTCOME_MISSING)
    no_comparison = sum(1 for x in data.indicators if x.status == COMPARISON_MISSING)
    return DraftState(pending, len(data.submissions), missing, no_comparison)


# ---------------------------------------------------------------- the report


@dataclass
class _Context:
    data: CommitteeData
    charts: ReportCharts
    texts: dict[str, str]
    assessments: dict[str, tuple[str | None, str | None]]
    draft: DraftState
    figures: int = 0
    headings: list[str] = field(default_factory=list)


def report_title(data: CommitteeData) -> str:
    """'Delårsrapport 2024', 'Verksamhetsberättelse 2024' or 'Uppföljning kvartal 1 2024'."""
    year, _, kind = data.meta.period.partition("-")
    if kind == "delår":
        return f"Delårsrapport {year}"
    if kind == "helår":
        return f"Verksamhetsberättelse {year}"
    return f"Uppföljning {data.meta.period_label}"


def controller_texts(data: CommitteeData) -> dict[str, str]:
    raw = getattr(data, "texts", None) or {}
    return {k: str(v).strip() for k, v in raw.items() if v is not None and str(v).strip()}


def goal_assessments(data: CommitteeData) -> dict[str, tuple[str | None, str | None]]:
    return dict(getattr(data, "goal_assessments", None) or {})


def build_report(data: CommitteeData, charts: ReportCharts, out: Path, template: Path | None = None,
                 toc_pages: Sequence[int | None] | None = None) -> list[str]:
    """Write the report to *out*; returns the heading texts (in order) that the contents list."""
    doc = open_template(template)
    parts.clear_body(doc)
    parts.ensure_styles(doc)
    parts.set_language(doc, LANGUAGE)
    m = data.meta
    title = report_title(data)
    parts.replace_placeholders(doc, {
        "{kommun}": m.municipality, "{nämnd}": m.committee, "{förvaltning}": m.administration or "",
        "{period}": m.period_label, "{datum}": m.generated_at.date().isoformat(),
    })
    doc.core_properties.title = f"{title} – {m.committee}, {m.municipality}"
    doc.core_properties.subject = f"{m.committee}: uppföljning {m.period_label}"
    doc.core_properties.language = LANGUAGE
    ctx = _Context(data, charts, controller_texts(data), goal_assessments(data), draft_state(data))
    if ctx.draft.is_draft:
        parts.add_header_line(doc, f"UTKAST – {ctx.draft.reason()}")
    _cover(doc, ctx, title)
    _page_break(doc)
    toc_anchor = doc.add_paragraph()
    _page_break(doc)
    _summary(doc, ctx)
    _events(doc, ctx)
    _goals(doc, ctx)
    _activities(doc, ctx)
    _economy(doc, ctx)
    _personnel(doc, ctx)
    _controls(doc, ctx)
    _future(doc, ctx)
    _material(doc, ctx)
    headings = _insert_toc(doc, toc_anchor, toc_pages)
    parts.remove_update_fields(doc)
    doc.save(str(out))
    return headings


def set_toc_pages(docx: Path, pages: Sequence[int | None]) -> None:
    """Put page numbers into the contents of a built report, in place: only ``word/document.xml`` is
    rewritten (the run after each contents entry's tab); nothing is rebuilt."""
    from lxml import etree

    with zipfile.ZipFile(docx) as zf:
        items = [(info, zf.read(info.filename)) for info in zf.infolist()]
    styles = etree.fromstring(next(data for info, data in items if info.filename == "word/styles.xml"))
    toc_ids = {el.get(qn("w:styleId")) for el in styles.iter(qn("w:style"))
               if (el.find(qn("w:name")) is not None
                   and el.find(qn("w:name")).get(qn("w:val"), "").casefold() in ("toc 1", "toc 2"))}
    index = next(n for n, (info, _data) in enumerate(items) if info.filename == "word/document.xml")
    root = etree.fromstring(items[index][1])
    entries = [p for p in root.iter(qn("w:p")) if p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}") is not None
               and p.find(f"{qn('w:pPr')}/{qn('w:pStyle')}").get(qn("w:val")) in toc_ids]
    for para, page in zip(entries, pages):
        runs = para.findall(qn("w:r"))
        tabs = [n for n, run in enumerate(runs) if run.find(qn("w:tab")) is not None]
        if not tabs or tabs[-1] + 1 >= len(runs):
            continue
        number = runs[tabs[-1] + 1]
        target = number.find(qn("w:t"))
        if target is None:
            target = etree.SubElement(number, qn("w:t"))
        target.text = str(page) if page is not None else ""
    items[index] = (items[index][0], etree.tostring(root, xml_declaration=True, encoding="UTF-8",
                                                    standalone=True))
    tmp = docx.with_name(docx.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as out:
        for info, data in items:
            out.writestr(info, data)
    os.replace(tmp, docx)


# ---------------------------------------------------------------- helpers


def _style_id(doc: DocumentObject, name: str) -> str:
    """A style's id, looked up once per document (python-docx resolves names slowly)."""
    cache: dict[str, str] = doc.__dict__.setdefault("_xlplan_style_ids", {})
    if name not in cache:
        cache[name] = doc.styles[name].style_id
    return cache[name]


def _add(doc: DocumentObject, text: str = "", style: str | None = None) -> Paragraph:
    para = doc.add_paragraph(text)
    if style:
        para._p.style = _style_id(doc, style)
    return para


def _page_break(doc: DocumentObject) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _heading(doc: DocumentObject, text: str, level: int, new_page: bool = False) -> Paragraph:
    para = _add(doc, parts.safe_text(text), f"Heading {level}")
    if new_page:
        para.paragraph_format.page_break_before = True
    return para


def _text(doc: DocumentObject, text: str | None) -> None:
    for block in parts.safe_text(text).split("\n"):
        if block.strip():
            doc.add_paragraph(block.strip())


def _why(doc: DocumentObject, text: str) -> None:
    """The one line that says why a section has no content."""
    doc.add_paragraph().add_run(text).italic = True


def _figure(doc: DocumentObject, ctx: _Context, chart: Chart) -> None:
    ctx.figures += 1
    pic = doc.add_paragraph()
    pic.paragraph_format.keep_with_next = True
    width = min(chart.width_cm, parts.text_width_cm(doc))
    run = pic.add_run()
    run.add_picture(str(chart.path), width=Cm(width))
    parts.set_alt_text(run, chart.caption, chart.alt_text or chart.caption)
    caption = _add(doc, f"Figur {ctx.figures}. {chart.caption}", "Caption")
    if chart.source:
        caption.paragraph_format.keep_with_next = True  # the source stays under its figure
        _add(doc, chart.source, "Källhänvisning")


def _status_label(status: str | None) -> str:
    return status or "–"


def _shade_status(table: object, row: int, col: int, status: str | None) -> None:
    colours = STATUS_COLOURS.get(status or "")
    if colours:
        parts.shade(parts.cell_at(table, row, col), colours[0])  # type: ignore[arg-type]


def _table(doc: DocumentObject, headers: Sequence[str], rows: Sequence[Sequence[str]],
           numeric: Sequence[int] = (), flexible: int | None = 0) -> Table:
    widths = parts.content_widths(headers, rows, parts.text_width_cm(doc), flexible=flexible)
    body = doc.element.body
    before = body[-2] if len(body) > 1 and body[-1].tag == qn("w:sectPr") else body[-1]
    if before.tag == qn("w:p"):  # the heading or line that introduces the table stays with it
        Paragraph(before, doc._body).paragraph_format.keep_with_next = True
    return parts.add_table(doc, headers, rows, widths, numeric=numeric)


# ---------------------------------------------------------------- cover and contents


def _cover(doc: DocumentObject, ctx: _Context, title: str) -> None:
    m, texts = ctx.data.meta, ctx.texts
    for _ in range(3):
        doc.add_paragraph()
    _add(doc, title, "Title")
    _add(doc, m.committee, "Subtitle")
    _add(doc, m.municipality + (f" · {m.administration}" if m.administration else ""), "Subtitle")
    doc.add_paragraph()
    facts = [("Period", m.period_label)]
    if texts.get("diarienummer"):
        facts.append(("Diarienummer", texts["diarienummer"]))
    if texts.get("sammantradesdatum"):
        facts.append(("Sammanträdesdatum", texts["sammantradesdatum"]))
    facts.append(("Sammanställd", m.generated_at.date().isoformat()))
    for label, value in facts:
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{label}: ").bold = True
        para.add_run(parts.safe_text(value))
    if ctx.draft.is_draft:
        para = doc.add_paragraph()
        para.paragraph_format.space_before = Pt(18)
        run = para.add_run("UTKAST")
        run.bold, run.font.size, run.font.color.rgb = True, Pt(22), RGBColor(0x9C, 0x00, 0x06)
        doc.add_paragraph(f"Rapporten är inte slutlig: {ctx.draft.reason()}.")
        if ctx.draft.not_approved:
            pending = "; ".join(f"{d} ({s})" for d, s in ctx.draft.not_approved)
            _add(doc, parts.safe_text(f"Inte godkända: {pending}."), "Källhänvisning")
    para = doc.add_paragraph()
    para.paragraph_format.space_before = Pt(18)
    para.paragraph_format.keep_with_next = True
    para.add_run("Förslag till beslut").bold = True
    proposal = texts.get("forslag_till_beslut") or (
        f"{m.committee} godkänner {title[0].lower() + title[1:]} och överlämnar den till kommunstyrelsen.")
    _text(doc, proposal)


def _insert_toc(doc: DocumentObject, anchor: Paragraph, pages: Sequence[int | None] | None) -> list[str]:
    """A TOC field whose cached result lists the headings (with page numbers when known)."""
    ids = {doc.styles[name].style_id: name for name in HEADING_STYLES}
    entries = [(ids[p._p.style], p.text) for p in doc.paragraphs if p._p.style in ids]
    title = anchor.insert_paragraph_before("Innehåll", style="Innehållsrubrik")
    title.paragraph_format.keep_with_next = True
    for i, (style, text) in enumerate(entries):
        para = anchor.insert_paragraph_before()
        para._p.style = _style_id(doc, "TOC 1" if style == "Heading 1" else "TOC 2")
        if i == 0:
            _field_start(para, 'TOC \\o "1-2" \\h \\z \\u')
        page = pages[i] if pages is not None and i < len(pages) else None
        para.add_run(text)
        para.add_run("\t")
        para.add_run(str(page) if page is not None else "")
        if i == len(entries) - 1:
            _field_end(para)
    anchor._p.getparent().remove(anchor._p)
    return [text for _style, text in entries]


def _field_start(para: Paragraph, instruction: str) -> None:
    for kind, instr in (("begin", None), (None, instruction), ("separate", None)):
        run = para.add_run()
        if kind:
            el = OxmlElement("w:fldChar")
            el.set(qn("w:fldCharType"), kind)
        else:
            el = OxmlElement("w:instrText")
            el.set(qn("xml:space"), "preserve")
            el.text = f" {instr} "
        run._r.append(el)


def _field_end(para: Paragraph) -> None:
    el = OxmlElement("w:fldChar")
    el.set(qn("w:fldCharType"), "end")
    para.add_run()._r.append(el)


# ---------------------------------------------------------------- sammanfattning


def _goal_assessment(ctx: _Context, goal: GoalSummary) -> tuple[str | None, str | None, bool]:
    """(word, motivation, given by the committee)."""
    word, motivation = ctx.assessments.get(goal.goal_id, (None, None))
    if word or motivation:
        return word or goal.assessment, motivation, bool(word)
    return goal.assessment, None, False


# The fulfilment words as adjectives agreeing with what is counted: (singular, plural) for
# "en indikator" (common gender) and "ett mål" (neuter); other status words are verbs ("kan inte bedömas").
_AGREEING: dict[str, dict[bool, tuple[str, str]]] = {
    FULFILLED: {False: ("uppfylld", "uppfyllda"), True: ("uppfyllt", "uppfyllda")},
    PARTLY: {False: ("delvis uppfylld", "delvis uppfyllda"), True: ("delvis uppfyllt", "delvis uppfyllda")},
    NOT_FULFILLED: {False: ("ej uppfylld", "ej uppfyllda"), True: ("ej uppfyllt", "ej uppfyllda")},
}


def _counted(word: str, n: int, neuter: bool) -> str:
    """'1 uppfylld', '3 uppfyllda', '2 kan inte bedömas' (neuter: counting goals, 'ett mål')."""
    forms = _AGREEING.get(word)
    return f"{n} {forms[neuter][n != 1] if forms else word.lower()}"


def _joined(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " och " + parts[-1]


def _counts_text(counts: dict[str, int], neuter: bool = False) -> str:
    shown = [_counted(s, n, neuter) for s, n in counts.items() if n]
    return _joined(shown) if shown else "inga indikatorer"


def _summary(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Sammanfattning", 1)
    data = ctx.data
    if ctx.texts.get("sammanfattning"):
        _text(doc, ctx.texts["sammanfattning"])
    words = [(g, _goal_assessment(ctx, g)[0]) for g in data.goals]
    if not data.goals:
        _why(doc, "Planen har inga mål för perioden.")
        return
    by_word = {w: sum(1 for _g, a in words if a == w) for w in (FULFILLED, PARTLY, NOT_FULFILLED)}
    told = _counts_text(by_word, neuter=True) if any(by_word.values()) else ""
    unknown = sum(1 for _g, a in words if a not in by_word)
    sentence = f"{data.meta.committee} följer {len(data.goals)} mål under {data.meta.period_label}."
    if told:
        sentence += f" Enligt den samlade bedömningen är {told}"
        sentence += f"; {unknown} kan ännu inte bedömas." if unknown else "."
    else:
        sentence += " Inget mål kan ännu bedömas."
    # The goals' support counts distinct indicators (a committee-level figure once), not department rows.
    total = {w: sum(g.support()[w] for g in data.goals) for w in SUPPORT_WORDS}
    sentence += f" Av {sum(total.values())} indikatorer är {_counts_text(total)}."
    doc.add_paragraph(sentence)
    rows = []
    for goal, word in words:
        counts = goal.counts()
        lines = sum(counts.values())
        rows.append([goal.goal_id, parts.safe_text(goal.goal_text), _status_label(word),
                     f"{counts[FULFILLED]}{NBSP}av{NBSP}{lines}" if lines else "–"])
    table = _table(doc, ["Mål", "Målformulering", "Samlad bedömning", "Uppfyllda indikatorer"], rows,
                   numeric=[3], flexible=1)
    for r, (_goal, word) in enumerate(words, start=1):
        _shade_status(table, r, 2, word)


def _events(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Viktiga händelser", 1)
    general = [c for c in ctx.data.comments if c.goal_id is None and c.indicator_id is None
               and not c.text.casefold().startswith(("ekonomi", "personal"))]
    if ctx.texts.get("viktiga_handelser"):
        _text(doc, ctx.texts["viktiga_handelser"])
    elif not general:
        _why(doc, f"Inga viktiga händelser har skrivits in i {WHERE_TEXTS}.")
    if general:
        para = doc.add_paragraph()
        para.paragraph_format.keep_with_next = True
        para.add_run("Avdelningarnas kommentarer").bold = True
        _comment_list(doc, general)


# ---------------------------------------------------------------- måluppfyllelse


def _goal_lines(data: CommitteeData, goal: GoalSummary) -> list[IndicatorLine]:
    return [x for x in data.indicators if x.goal_id == goal.goal_id]


def _goals(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Måluppfyllelse", 1, new_page=True)
    if not ctx.data.goals:
        _why(doc, "Planen har inga mål för perioden.")
        return
    _add(doc, "Per mål: nämndens samlade bedömning, indikatorerna (nuläge, utfall, målvärde och status; pilen "
              "visar utvecklingen mot föregående år eller nuläget: ↑ högre, ↓ lägre, → oförändrad) och analyserna "
              "av de indikatorer som inte är uppfyllda.", "Källhänvisning")
    for goal in ctx.data.goals:
        _goal_section(doc, ctx, goal)


def _goal_section(doc: DocumentObject, ctx: _Context, goal: GoalSummary) -> None:
    first = len(doc.paragraphs)
    _heading(doc, f"Mål {goal.goal_id}: {goal.goal_text}", 2)
    levels = ctx.data.levels_of(goal.goal_id)
    if levels is not None and levels.level1:
        doc.add_paragraph().add_run(parts.safe_text(f"Målområde: {levels.level1}")).italic = True
        _text(doc, levels.level1_description)
    if goal.priority_goal:
        doc.add_paragraph().add_run(f"Kommunens prioriterade mål: {goal.priority_goal}").italic = True
    if levels is not None:
        _text(doc, levels.priority_description)
        _text(doc, levels.description)
    word, motivation, given = _goal_assessment(ctx, goal)
    para = doc.add_paragraph()
    para.add_run("Samlad bedömning: ").bold = True
    para.add_run(_status_label(word) + ("" if given or not word else " (beräknad från indikatorerna)"))
    if motivation:
        _text(doc, motivation)
    for intro in doc.paragraphs[first:]:  # the heading and its introduction stay with the goal's table
        intro.paragraph_format.keep_with_next = True
    lines = _goal_lines(ctx.data, goal)
    if lines:
        indicator_table(doc, ctx.data, lines)
        _not_fulfilled(doc, lines)
    else:
        _why(doc, "Målet har inga indikatorer.")
    _goal_comments(doc, ctx.data, goal, lines)
    _goal_answers(doc, ctx.data, goal)
    chart = ctx.charts.goal_trends.get(goal.goal_id)
    if chart:
        _figure(doc, ctx, chart)


def _goal_answers(doc: DocumentObject, data: CommitteeData, goal: GoalSummary) -> None:
    """The plan's qualitative questions of the goal, each with the departments' answers (or that none came)."""
    answers = [a for a in data.answers if a.goal_id == goal.goal_id]
    for question in dict.fromkeys(a.question for a in answers):
        para = doc.add_paragraph()
        para.paragraph_format.space_before = Pt(4)
        para.paragraph_format.keep_with_next = True
        para.add_run(parts.safe_text(f"Fråga: {' '.join(question.split())}")).bold = True
        for a in (x for x in answers if x.question == question):
            line = doc.add_paragraph()
            line.add_run(parts.safe_text(f"{a.department}: ")).italic = True
            line.add_run(parts.safe_text(a.answer) if a.answer else "inget svar lämnat.")


def baseline_text(line: IndicatorLine) -> str:
    """The baseline for this line's series: its number with unit when one can be read, else the text."""
    if not line.baseline:
        return "–"
    number = baseline_number(line)
    if number is not None:
        own = series_part(line.baseline, line.series)
        years = [int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", own)]
        other_year = next((y for y in years if y != line.baseline_year), None)
        return fmt(number, line.unit) + (f" ({other_year})" if other_year else "")
    return swedish_text(" ".join(series_part(line.baseline, line.series).split()))


def target_text(line: IndicatorLine) -> str:
    if not line.target:
        return "–"
    if any(st.range is not None for st in parse_target(line.target).series):  # '100 % ± 5': as written
        return swedish_text(" ".join(line.target.split()))
    number = target_number(line)
    own = series_part(line.target, line.series)
    if not text_numbers(own):  # 'Äldre och LSS >48 %': the series' part holds no number of its own
        own = line.target
    if number is None or is_text_target(line):
        return swedish_text(" ".join(own.split()))
    sign = next((s for s in ("≥", "≤", ">", "<") if s in own), "")
    if not sign and re.search(r"\b(minst|över)\b", own, re.IGNORECASE):
        sign = "≥"
    if not sign and re.search(r"\b(högst|under|understiga)\b", own, re.IGNORECASE):
        sign = "≤" if "högst" in own.casefold() else "<"
    return f"{sign}{NBSP if sign else ''}{fmt(number, line.unit)}"


def trend_arrow(line: IndicatorLine, previous: float | None) -> str:
    before = previous if previous is not None else baseline_number(line)
    if before is None or line.outcome is None:
        return ""
    diff = line.outcome - before
    scale = max(abs(before), abs(line.outcome), 1.0)
    return ARROWS[0 if abs(diff) < 0.005 * scale else (1 if diff > 0 else -1)]


def _short_status(line: IndicatorLine) -> str:
    status = line.status
    if line.assessment and line.assessment != line.status:
        status = f"{line.assessment} (avdelningens bedömning)"
    return status


def indicator_table(doc: DocumentObject, data: CommitteeData, lines: Sequence[IndicatorLine]) -> None:
    """One compact table: a group row per indicator, then one row per department and series."""
    year = _period_year(data)
    previous = {id(x): previous_value(data, x) for x in lines}
    # a previous year's column only when it says more than the baseline (which is usually that year)
    show_previous = any(v is not None and x.baseline_year != year - 1 for x in lines
                        for v in [previous[id(x)]])
    base_years = {x.baseline_year for x in lines if x.baseline}
    base_head = f"Nuläge {base_years.pop()}" if len(base_years) == 1 and None not in base_years else "Nuläge"
    headers = ["Avdelning", base_head] + ([f"{year - 1}"] if show_previous else []) + \
              [f"Utfall {year}", "Målvärde", "Status"]
    rows: list[list[str]] = []
    groups: list[int] = []
    statuses: dict[int, str] = {}
    for name in dict.fromkeys(x.indicator for x in lines):
        group = [x for x in lines if x.indicator == name]
        groups.append(len(rows) + 1)
        title = " ".join(parts.safe_text(name).split())
        texts = {" ".join((x.target or "").split()) for x in group}
        long_target = (swedish_text(next(iter(texts))) if len(texts) == 1 and group[0].target
                       and all(is_text_target(x) for x in group) else None)
        unit = next((x.unit for x in group if x.unit), None)
        if unit and cell_unit(unit) is None and unit.casefold() not in ("antal", "st") \
                and unit.casefold() not in title.casefold():
            title += f" ({unit})"
        rows.append([title + (f". Målvärde: {long_target}" if long_target else "")] + [""] * (len(headers) - 1))
        for x in group:
            who = x.department + (f", {x.series}" if x.series else "")
            prev = previous[id(x)]
            row = [parts.safe_text(who), baseline_text(x)]
            if show_previous:
                row.append(fmt(prev, x.unit))
            arrow = trend_arrow(x, prev)
            row += [fmt(x.outcome, x.unit), "se ovan" if long_target else target_text(x),
                    _short_status(x) + (f" {arrow}" if arrow else "")]
            statuses[len(rows) + 1] = x.status
            rows.append(row)
    numeric = list(range(1, len(headers) - 1))
    table = _table(doc, headers, rows, numeric=numeric, flexible=0)
    parts.group_rows(table, groups)
    for r, status in statuses.items():
        _shade_status(table, r, len(headers) - 1, status)


def _period_year(data: CommitteeData) -> int:
    head = data.meta.period.split("-", 1)[0]
    return int(head) if head.isdigit() else data.meta.generated_at.year


def _missed(lines: Sequence[IndicatorLine]) -> list[IndicatorLine]:
    """Lines that are not fulfilled (a manual line assessed as fulfilled counts as fulfilled)."""
    return [x for x in lines if x.status != FULFILLED and x.assessment != FULFILLED]


def _not_fulfilled(doc: DocumentObject, lines: Sequence[IndicatorLine]) -> None:
    """The analyses and actions of the missed indicators; the lines without any are counted in one line."""
    missed = _missed(lines)
    written = [x for x in missed if x.comment or x.actions]
    for x in written:
        para = doc.add_paragraph()
        para.paragraph_format.space_before = Pt(4)
        para.add_run(parts.safe_text(f"{x.indicator} – {x.department}" + (f", {x.series}" if x.series else "")
                                     + f" ({x.status.lower()}): ")).bold = True
        para.add_run(parts.safe_text(x.comment) or "ingen analys lämnad.")
        if x.actions:
            para.add_run(" Åtgärder: ").bold = True
            para.add_run(parts.safe_text(x.actions))
    silent = [x for x in missed if x not in written and x.status in (NOT_FULFILLED, PARTLY)]
    if silent:
        names = list(dict.fromkeys(x.department for x in silent))
        doc.add_paragraph(parts.safe_text(
            f"Ingen analys lämnad för {len(silent)} indikatorrad{'er' if len(silent) > 1 else ''} som inte "
            f"är uppfyllda ({', '.join(names)})."), style="Källhänvisning")


def _goal_comments(doc: DocumentObject, data: CommitteeData, goal: GoalSummary,
                   lines: Sequence[IndicatorLine]) -> None:
    """The departments' analyses of the goal; one already shown with its missed indicator is not repeated."""
    shown = [x for x in _missed(lines) if x.comment]
    comments = [c for c in data.comments if c.goal_id == goal.goal_id and not any(
        (c.indicator_id, c.department_id) == (x.indicator_id, x.department_id) and c.text.endswith(x.comment or "")
        for x in shown)]
    if comments:
        para = doc.add_paragraph()
        para.paragraph_format.keep_with_next = True
        para.add_run("Avdelningarnas analys").bold = True
        _comment_list(doc, comments)


# ---------------------------------------------------------------- aktiviteter


def _activity_state(a: ActivityLine) -> str:
    return (a.status or "").strip() or "Ej rapporterad"


def is_exception(a: ActivityLine) -> bool:
    """Late, stopped or changed: any reported state other than done, in progress or not started."""
    state = (a.status or "").strip().casefold()
    return bool(state) and state not in ROUTINE_ACTIVITY_STATES


def _activities(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Aktiviteter", 1)
    acts = ctx.data.activities
    if not acts:
        _why(doc, "Planen har inga aktiviteter för perioden.")
        return
    states = list(dict.fromkeys(_activity_state(a) for a in acts))
    order = ["Klar", "Pågår", "Ej påbörjad", "Försenad", "Avbruten", "Ej rapporterad"]
    states.sort(key=lambda s: order.index(s.capitalize()) if s.capitalize() in order else len(order) - 1)
    goals = list(dict.fromkeys(a.goal_id or "–" for a in sorted(acts, key=lambda a: a.goal_id or "~")))
    rows = []
    for goal in goals + ["Totalt"]:
        mine = [a for a in acts if goal == "Totalt" or (a.goal_id or "–") == goal]
        rows.append([goal if goal != "–" else "Utan mål"] + [str(sum(1 for a in mine if _activity_state(a) == s)) for s in states]
                    + [str(len(mine))])
    doc.add_paragraph(f"{len(acts)} aktiviteter. Antal per status och mål; hela listan finns i bilagan.")
    table = _table(doc, ["Mål"] + states + ["Totalt"], rows, numeric=range(1, len(states) + 2), flexible=None)
    parts.bold_row(table, len(rows))
    exceptions = [a for a in acts if is_exception(a)]
    if not exceptions:
        _why(doc, "Ingen aktivitet är försenad, avbruten eller ändrad.")
        return
    _heading(doc, "Försenade, avbrutna och ändrade aktiviteter", 3)
    rows = [[parts.safe_text(a.department), parts.safe_text(a.text), a.status or "", parts.safe_text(a.comment) or
             "ingen kommentar"] for a in exceptions]
    _table(doc, ["Avdelning", "Aktivitet", "Status", "Kommentar"], rows, flexible=1)


# ---------------------------------------------------------------- ekonomi, personal


def _comment_list(doc: DocumentObject, comments: Sequence[CommentLine]) -> None:
    for c in comments:
        para = doc.add_paragraph()
        para.add_run(f"{c.department or 'Nämnden'}: ").bold = True
        para.add_run(swedish_text(parts.safe_text(c.text)))


def _topic_comments(data: CommitteeData, topic: str) -> list[CommentLine]:
    return [c for c in data.comments if c.goal_id is None and c.indicator_id is None
            and c.text.casefold().startswith(topic)]


def _money(line: object) -> list[str]:
    return [fmt(getattr(line, a), decimals=0) for a in ("budget", "outcome", "forecast", "deviation")]


def _economy(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Ekonomi", 1)
    data = ctx.data
    comments = _topic_comments(data, "ekonomi")
    if ctx.texts.get("ekonomi"):
        _text(doc, ctx.texts["ekonomi"])
    if not data.economy and not comments:
        if not ctx.texts.get("ekonomi"):
            _why(doc, "Ingen ekonomisk uppföljning har rapporterats för perioden.")
        _investments(doc, data)
        return
    headers = ["Budget", "Utfall hittills", "Prognos helår", "Avvikelse"]
    frame = [x for x in data.economy if is_frame_line(x)]
    if data.economy:
        doc.add_paragraph("Belopp i tkr. Intäkter är positiva och kostnader negativa; avvikelse = prognos − "
                          "budget, så ett positivt tal är ett överskott mot budget.", style="Källhänvisning")
    if frame:
        _heading(doc, "Nämndens budgetram", 3)
        reported = any(getattr(x, a) is not None for x in frame for a in ("outcome", "forecast", "deviation"))
        if reported:
            _table(doc, ["Post"] + headers, [[x.item] + _money(x) for x in frame], numeric=range(1, 5))
        else:
            _table(doc, ["Post", "Budget"], [[x.item, fmt(x.budget, decimals=0)] for x in frame], numeric=[1],
                   flexible=None)
    if len(frame) < len(data.economy):
        _heading(doc, "Per avdelning", 3)
        deps = department_totals(data.economy)
        totals = economy_totals(data.economy)
        rows = [[d.department] + _money(d) for d in deps] + [["Nämnden totalt"] + _money(totals[-1])]
        parts.bold_row(_table(doc, ["Avdelning"] + headers, rows, numeric=range(1, 5)), len(rows))
        if ctx.charts.economy is not None:
            _figure(doc, ctx, ctx.charts.economy)
        _heading(doc, "Per post", 3)
        rows = [[x.item if x is not totals[-1] else "Totalt"] + _money(x) for x in totals]
        parts.bold_row(_table(doc, ["Post"] + headers, rows, numeric=range(1, 5)), len(rows))
    elif frame:
        _why(doc, "Avdelningarna har inte rapporterat något ekonomiskt utfall eller någon prognos.")
    _investments(doc, data)
    if comments:
        _heading(doc, "Avdelningarnas kommentarer", 3)
        _comment_list(doc, comments)


def _investments(doc: DocumentObject, data: CommitteeData) -> None:
    """The investment table: per department and project when the departments follow projects up, else the
    committee's adopted investment budget; one line when the period has no investment budget."""
    lines = [x for x in data.investments if not is_frame_investment(x)]
    frame = [x for x in data.investments if is_frame_investment(x)]
    if not lines and not frame:
        _why(doc, "Nämnden har ingen investeringsbudget för perioden.")
        return
    _heading(doc, "Investeringar", 3)
    doc.add_paragraph("Belopp i tkr. Budgeten är årets utgift; avvikelse = prognos − budget, så ett positivt tal är "
                      "en högre utgift än budgeten.", style="Källhänvisning")
    if not lines:
        _table(doc, ["Projekt", "Budget"], [[swedish_text(x.project), fmt(x.budget, decimals=0)] for x in frame],
               numeric=[1], flexible=None)
        return
    rows = [[swedish_text(x.project), x.department] + _money(x) for x in lines]
    rows += [["Totalt", ""] + _money(t) for t in investment_totals(lines)]
    headers = ["Projekt", "Avdelning", "Budget", "Utfall hittills", "Prognos helår", "Avvikelse"]
    parts.bold_row(_table(doc, headers, rows, numeric=range(2, 6)), len(rows))


def _personnel(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Personal", 1)
    comments = _topic_comments(ctx.data, "personal")
    if ctx.texts.get("personal"):
        _text(doc, ctx.texts["personal"])
    if ctx.data.personnel:  # the values are in the tables: only what the departments wrote is listed
        _personnel_tables(doc, ctx.data.personnel)
        comments = [CommentLine(None, x.department_id, x.department, None, f"{x.name}: {x.comment}")
                    for x in ctx.data.personnel if x.comment]
    if comments:
        if ctx.data.personnel:
            _heading(doc, "Avdelningarnas kommentarer", 3)
        _comment_list(doc, comments)
    if not comments and not ctx.texts.get("personal") and not ctx.data.personnel:
        _why(doc, "Ingen uppföljning av personal (sjukfrånvaro, personalomsättning) har rapporterats för "
                  "perioden.")


def plan_text(text: str | None) -> str:
    """A verbatim value or target of the plan (``8,1 %``, ``<10 %``) with Swedish typography: the minus
    sign, a no-break space before % and after a comparison sign; '–' for none."""
    if not text:
        return "–"
    shown = swedish_text(" ".join(text.split()))
    shown = re.sub(r"(\d)\s?%", "\\1" + NBSP + "%", shown)
    return re.sub(r"([<>≤≥])\s*(?=[\d" + MINUS + "])", "\\1" + NBSP, shown)


def _personnel_tables(doc: DocumentObject, lines: Sequence[PersonnelLine]) -> None:
    """The committee's key figures against its targets (status words), then each department's outcomes
    (a row per department, a column per key figure, shaded by the status against its own target)."""
    names = list(dict.fromkeys(x.name for x in lines))
    committee = [x for x in lines if x.department_id is None]
    if committee:
        _heading(doc, "Nämnden", 3)
        rows = [[x.name, plan_text(x.current), plan_text(x.target), fmt(x.outcome, x.unit), _status_label(x.status)]
                for x in committee]
        table = _table(doc, ["Nyckeltal", "Nuvärde", "Målvärde", "Utfall", "Status"], rows, numeric=[3])
        for i, x in enumerate(committee, start=1):
            _shade_status(table, i, 4, x.status)
        bases: dict[str, list[str]] = {}
        for x in committee:
            if x.basis:
                bases.setdefault(x.basis, []).append(x.name)
        if bases:
            how = "; ".join(f"{', '.join(n)}: {b}" for b, n in bases.items())
            doc.add_paragraph(f"Så har nämndens värden tagits fram – {how}.", style="Källhänvisning")
    departments = list(dict.fromkeys((x.department_id, x.department) for x in lines if x.department_id is not None))
    if not departments:
        return
    _heading(doc, "Per avdelning", 3)
    cells = {(x.department_id, x.name): x for x in lines if x.department_id is not None}
    ids = [d for d, _ in departments]
    rows = [[n] + [fmt(cells[(d, n)].outcome, cells[(d, n)].unit) if (d, n) in cells else "" for d in ids]
            for n in names]
    table = _table(doc, ["Nyckeltal"] + [d or "" for d in ids], rows, numeric=range(1, len(ids) + 1))
    for r, n in enumerate(names, start=1):
        for c, d in enumerate(ids, start=1):
            if (d, n) in cells:
                _shade_status(table, r, c, cells[(d, n)].status)
    legend = "; ".join(f"{d} = {name}" for d, name in departments)
    doc.add_paragraph(f"{legend}. Färgen visar status mot avdelningens målvärde: grön uppfyllt, gul delvis "
                      "uppfyllt, röd ej uppfyllt, grå utan utfall eller målvärde. Målvärden och status per "
                      "avdelning står på bladet Personal i nämndens sammanställning.", style="Källhänvisning")


# ---------------------------------------------------------------- internkontroll, framtid, underlag


def _controls(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Internkontroll", 1)
    controls = ctx.data.controls
    if not controls:
        _why(doc, "Nämndens internkontrollplan har inga kontroller för perioden.")
        return
    done = sum(1 for c in controls if c.result)
    doc.add_paragraph(f"{len(controls)} kontrollmoment, {done} med rapporterat resultat. "
                      "Riskvärde = sannolikhet × konsekvens (1–4 vardera).")
    rows: list[list[str]] = []
    groups: list[int] = []
    for risk in dict.fromkeys(c.risk for c in controls):
        mine = [c for c in controls if c.risk == risk]
        value = mine[0].risk_value
        groups.append(len(rows) + 1)
        rows.append([parts.safe_text(risk) + (f" (riskvärde {value})" if value is not None else ""), "", ""])
        for c in mine:
            result = c.result or "ej rapporterat"
            rows.append([parts.safe_text(c.control or c.risk), c.department or "Nämnden",
                         parts.safe_text(result + (f": {c.comment}" if c.comment else ""))])
    table = _table(doc, ["Kontrollmoment", "Avdelning", "Resultat"], rows, flexible=0)
    parts.group_rows(table, groups)


def _future(doc: DocumentObject, ctx: _Context) -> None:
    _heading(doc, "Framtid", 1)
    if ctx.texts.get("framtid"):
        _text(doc, ctx.texts["framtid"])
    else:
        _why(doc, f"Ingen framtidsbedömning har skrivits in i {WHERE_TEXTS}.")


def _source_kind(provenance: str | None) -> str:
    text = (provenance or "").strip()
    if not text or text.casefold().startswith("ingen"):
        return "inget utfall"
    if text.casefold().startswith("källa: kolada"):
        return "Kolada"
    if text.casefold().startswith("exempelvärde"):
        return "exempelvärden (demo), inte verkliga utfall"
    if text.casefold().startswith("källa:"):
        return "lokala exporter (" + text[6:].split(",")[0].strip() + ")"
    return "avdelningarnas egna uppgifter"


def _material(doc: DocumentObject, ctx: _Context) -> None:
    data = ctx.data
    _heading(doc, "Om underlaget", 1)
    doc.add_paragraph(f"Sammanställningen gjordes {data.meta.generated_at:%Y-%m-%d %H:%M} från "
                      f"{len(data.submissions)} avdelningars uppföljningsfiler.")
    kinds: dict[str, int] = {}
    for x in data.indicators:
        kind = _source_kind(x.provenance)
        kinds[kind] = kinds.get(kind, 0) + 1
    merged: dict[str, int] = {}
    for kind, n in kinds.items():
        key = "lokala exporter" if kind.startswith("lokala exporter") else kind
        merged[key] = merged.get(key, 0) + n
    if merged:
        doc.add_paragraph("Utfallens ursprung (indikatorrader): " + ", ".join(
            f"{k} {n}" for k, n in merged.items()) + ". Varje rads källa står i bilagan.")
    if data.submissions:
        rows = [[parts.safe_text(s.department), s.state,
                 f"{s.saved_at:%Y-%m-%d %H:%M}" if s.saved_at else "–"] for s in data.submissions]
        _table(doc, ["Avdelning", "Inlämning", "Senast sparad"], rows, flexible=None)


__all__ = ["build_report", "set_toc_pages", "draft_state", "DraftState", "fmt", "open_template", "report_title"]
