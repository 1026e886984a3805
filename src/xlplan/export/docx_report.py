"""``nämndrapport.docx``: the board pack, written with python-docx into a Word template.

The template's body is cleared; its sections (page set-up, header, footer,
logo) and named styles are kept and used.  Order: cover, table of contents,
summary of goal fulfilment, one chapter per goal, activities, economy,
comparisons, internal control, and a note on the material.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Sequence

from docx import Document
from docx.document import Document as DocumentObject
from docx.enum.text import WD_BREAK
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt
from docx.text.paragraph import Paragraph

from xlplan.committee import (
    ACTIVITY_COLOURS,
    FULFILLED,
    OUTCOME_MISSING,
    STATUS_COLOURS,
    STATUSES,
    TARGET_MISSING,
    CommentLine,
    CommitteeData,
    Comparison,
    GoalSummary,
    IndicatorLine,
    department_totals,
    is_frame_line,
    economy_totals,
)
from xlplan.errors import ExportFailed
from xlplan.export import docx_parts as parts
from xlplan.export.charts import Chart, ReportCharts, one_gender, ordered_units, source_note
from xlplan.export.make_template import template_bytes
from xlplan.numbers import display_decimals, format_number

TEXT_WIDTH_CM = 16.0
MAX_YEARS = 6
HEADING_STYLES = ("Heading 1", "Heading 2")


def fmt(value: float | None, unit: str | None = None, decimals: int | None = None) -> str:
    """Swedish number for a table cell; no-break spaces so a number never wraps; '–' for none."""
    if value is None:
        return "–"
    shown_unit = unit if unit and unit.casefold() not in ("antal", "st") else None
    if decimals is None:
        decimals = display_decimals(value)
    return format_number(value, decimals, shown_unit).replace(" ", "\u00a0")


def open_template(template: Path | None) -> DocumentObject:
    if template is None:
        return Document(io.BytesIO(template_bytes()))
    try:
        return Document(str(template))
    except Exception as exc:  # python-docx raises zip, XML and value errors
        raise ExportFailed(f"{Path(template).name}: Word-mallen kan inte öppnas ({exc}). "
                           "Välj en .docx-fil (inte .dotx eller .doc).") from exc


def build_report(data: CommitteeData, charts: ReportCharts, out: Path, template: Path | None = None,
                 toc_pages: Sequence[int | None] | None = None) -> list[str]:
    """Write the report to *out*; returns the heading texts (in order) that the contents list."""
    doc = open_template(template)
    parts.clear_body(doc)
    parts.ensure_styles(doc)
    m = data.meta
    parts.replace_placeholders(doc, {
        "{kommun}": m.municipality, "{nämnd}": m.committee, "{förvaltning}": m.administration or "",
        "{period}": m.period_label, "{datum}": m.generated_at.date().isoformat(),
    })
    _cover(doc, data)
    _page_break(doc)
    toc_anchor = doc.add_paragraph()
    _page_break(doc)
    figures = _Figures()
    _summary(doc, data, charts, figures)
    for goal in data.goals:
        _goal_chapter(doc, data, goal, charts, figures)
    _activities(doc, data)
    _economy(doc, data)
    _comparisons(doc, data, charts, figures)
    _controls(doc, data)
    _other_comments(doc, data)
    _material(doc, data)
    headings = _insert_toc(doc, toc_anchor, toc_pages)
    parts.set_update_fields(doc)
    doc.save(str(out))
    return headings


# ---------------------------------------------------------------- structure


class _Figures:
    def __init__(self) -> None:
        self.count = 0

    def add(self, doc: DocumentObject, chart: Chart) -> None:
        self.count += 1
        pic = doc.add_paragraph()
        pic.paragraph_format.keep_with_next = True
        width = min(chart.width_cm, parts.text_width_cm(doc))
        pic.add_run().add_picture(str(chart.path), width=Cm(width))
        doc.add_paragraph(f"Figur {self.count}. {chart.caption}", style="Caption")
        if chart.source:
            doc.add_paragraph(chart.source, style="Källhänvisning")


def _page_break(doc: DocumentObject) -> None:
    doc.add_paragraph().add_run().add_break(WD_BREAK.PAGE)


def _heading(doc: DocumentObject, text: str, level: int, new_page: bool = False) -> Paragraph:
    para = doc.add_paragraph(parts.safe_text(text), style=f"Heading {level}")
    if new_page:
        para.paragraph_format.page_break_before = True
    return para


def _text(doc: DocumentObject, text: str | None, style: str | None = None, italic_if_empty: str = "") -> None:
    if text:
        for block in parts.safe_text(text).split("\n"):
            if block.strip():
                doc.add_paragraph(block.strip(), style=style)
    elif italic_if_empty:
        doc.add_paragraph().add_run(italic_if_empty).italic = True


def _cover(doc: DocumentObject, data: CommitteeData) -> None:
    m = data.meta
    for _ in range(6):
        doc.add_paragraph()
    doc.add_paragraph(f"Uppföljning {m.period_label}", style="Title")
    doc.add_paragraph(m.committee, style="Subtitle")
    doc.add_paragraph(m.municipality + (f" · {m.administration}" if m.administration else ""), style="Subtitle")
    doc.add_paragraph()
    doc.add_paragraph(f"Datum: {m.generated_at.date().isoformat()}")
    doc.add_paragraph(f"Plan: {m.plan_id} (version {m.plan_version})", style="Källhänvisning")


def _insert_toc(doc: DocumentObject, anchor: Paragraph, pages: Sequence[int | None] | None) -> list[str]:
    """A TOC field whose cached result lists the headings (with page numbers when known)."""
    ids = {doc.styles[name].style_id: name for name in HEADING_STYLES}
    entries = [(ids[p._p.style], p.text) for p in doc.paragraphs if p._p.style in ids]
    title = anchor.insert_paragraph_before("Innehåll", style="Innehållsrubrik")
    title.paragraph_format.keep_with_next = True
    for i, (style, text) in enumerate(entries):
        para = anchor.insert_paragraph_before(style="TOC 1" if style == "Heading 1" else "TOC 2")
        if i == 0:
            _field_start(para, 'TOC \\o "1-2" \\h \\z \\u')
        page = pages[i] if pages is not None and i < len(pages) else None
        para.add_run(f"{text}\t{page if page is not None else ''}")
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


# ---------------------------------------------------------------- sections


def _status_cell(table: object, row: int, col: int, status: str | None) -> None:
    colours = STATUS_COLOURS.get(status or "") or ACTIVITY_COLOURS.get(status or "")
    if colours:
        parts.shade(parts.cell_at(table, row, col), colours[0])  # type: ignore[attr-defined]


def _summary(doc: DocumentObject, data: CommitteeData, charts: ReportCharts, figures: _Figures) -> None:
    _heading(doc, "Sammanfattning av måluppfyllelse", 1)
    total = {s: sum(g.counts()[s] for g in data.goals) for s in STATUSES}
    lines = sum(total.values())
    shown = [s for s in STATUSES if total[s]]
    doc.add_paragraph(
        f"Nämnden följer {len(data.goals)} mål med {len(data.indicators)} indikatorrader "
        f"(per avdelning och serie). " + ", ".join(f"{total[s]} {s.lower()}" for s in shown) + "."
        if lines else "Inga indikatorer har rapporterats.")
    for goal in data.goals:
        para = doc.add_paragraph()
        para.paragraph_format.space_after = Pt(2)
        para.add_run(f"{goal.goal_id} ").bold = True
        para.add_run(parts.safe_text(goal.goal_text))
    goal_ids = [g.goal_id for g in data.goals]
    rows = [[s] + [str(g.counts()[s]) for g in data.goals] + [str(total[s])] for s in shown]
    rows.append(["Samlad bedömning"] + [g.assessment or "–" for g in data.goals] + [""])
    width = (TEXT_WIDTH_CM - 4.0) / (len(goal_ids) + 1)
    table = parts.add_table(doc, ["Status"] + goal_ids + ["Totalt"], rows, [4.0] + [width] * (len(goal_ids) + 1),
                            numeric=range(1, len(goal_ids) + 2))
    for r, status in enumerate(shown, start=1):
        _status_cell(table, r, 0, status)
    for c, goal in enumerate(data.goals, start=1):
        _status_cell(table, len(rows), c, goal.assessment)
    parts.bold_row(table, len(rows))
    doc.add_paragraph()
    if charts.goals:
        figures.add(doc, charts.goals)


def _goal_lines(data: CommitteeData, goal: GoalSummary) -> list[IndicatorLine]:
    return [x for x in data.indicators if x.goal_id == goal.goal_id]


def _goal_chapter(doc: DocumentObject, data: CommitteeData, goal: GoalSummary, charts: ReportCharts,
                  figures: _Figures) -> None:
    _heading(doc, f"Mål {goal.goal_id}: {goal.goal_text}", 1, new_page=True)
    if goal.priority_goal:
        doc.add_paragraph().add_run(f"Prioriterat mål: {goal.priority_goal}").italic = True
    if goal.assessment:
        doc.add_paragraph(f"Samlad bedömning: {goal.assessment}.")
    lines = _goal_lines(data, goal)
    _heading(doc, "Indikatorer", 3)
    if lines:
        indicator_table(doc, lines)
        _provenance(doc, lines)
        for ind_id in dict.fromkeys(x.indicator_id for x in lines):
            if ind_id in charts.indicators:
                figures.add(doc, charts.indicators[ind_id])
    else:
        _text(doc, None, italic_if_empty="Målet har inga indikatorer.")
    _analysis(doc, data, goal)
    _not_fulfilled(doc, lines)


def indicator_table(doc: DocumentObject, lines: Sequence[IndicatorLine]) -> None:
    """One group row per indicator, then one row per department and series."""
    headers = ["Avdelning", "Nuläge", "Målvärde", "Utfall", "Status"]
    rows: list[list[str]] = []
    groups: list[int] = []
    for ind_id in dict.fromkeys(x.indicator_id for x in lines):
        group = [x for x in lines if x.indicator_id == ind_id]
        groups.append(len(rows) + 1)
        rows.append([f"{ind_id}. {group[0].indicator}", "", "", "", ""])
        rows += [indicator_row(x) for x in group]
    table = parts.add_table(doc, headers, rows, [4.6, 3.3, 3.3, 1.9, 2.9], numeric=[3])
    parts.group_rows(table, groups)
    for r, row in enumerate(rows, start=1):
        if r not in groups:
            _status_cell(table, r, 4, row[4])


def indicator_row(line: IndicatorLine) -> list[str]:
    name = line.department + (f", {line.series}" if line.series else "")
    baseline = line.baseline or "–"
    if line.baseline and line.baseline_year and str(line.baseline_year) not in line.baseline:
        baseline += f" ({line.baseline_year})"
    status = line.status
    if line.assessment and line.assessment != line.status:
        status += f" ({line.assessment.lower()})"
    return [name, baseline, line.target or "–", fmt(line.outcome, line.unit), status]


def _provenance(doc: DocumentObject, lines: Sequence[IndicatorLine]) -> None:
    sources = list(dict.fromkeys(f"{x.indicator_id}: {x.provenance}" for x in lines if x.provenance))
    if sources:
        doc.add_paragraph("Utfallens ursprung: " + "; ".join(sources) + ".", style="Källhänvisning")


def _analysis(doc: DocumentObject, data: CommitteeData, goal: GoalSummary) -> None:
    """The goal's comments; an analysis of a missed indicator is shown with it further on instead."""
    shown_later = [x for x in _missed(_goal_lines(data, goal)) if x.comment]
    comments = [c for c in data.comments if c.goal_id == goal.goal_id and not any(
        (c.indicator_id, c.department_id) == (x.indicator_id, x.department_id) and c.text.endswith(x.comment or "")
        for x in shown_later)]
    _heading(doc, "Avdelningarnas analys", 3)
    if not comments:
        text = "Se analyserna under indikatorerna nedan." if shown_later else "Ingen analys har lämnats för målet."
        _text(doc, None, italic_if_empty=text)
    _comment_list(doc, comments)


def _comment_list(doc: DocumentObject, comments: Sequence[CommentLine]) -> None:
    for c in comments:
        who = c.department or "Nämnden"
        about = f" (indikator {c.indicator_id})" if c.indicator_id else ""
        para = doc.add_paragraph()
        para.add_run(f"{who}{about}: ").bold = True
        para.add_run(parts.safe_text(c.text))


def _missed(lines: Sequence[IndicatorLine]) -> list[IndicatorLine]:
    """Lines that are not fulfilled (a manual line assessed as fulfilled counts as fulfilled)."""
    return [x for x in lines if x.status != FULFILLED and x.assessment != FULFILLED]


def _economy_comment(c: CommentLine) -> bool:
    return c.goal_id is None and c.indicator_id is None and c.text.casefold().startswith("ekonomi")


def _other_comments(doc: DocumentObject, data: CommitteeData) -> None:
    other = [c for c in data.comments if c.goal_id is None and c.indicator_id is None and not _economy_comment(c)]
    if other:
        _heading(doc, "Övriga kommentarer", 1, new_page=True)
        _comment_list(doc, other)


def _not_fulfilled(doc: DocumentObject, lines: Sequence[IndicatorLine]) -> None:
    """Each missed indicator with its analysis and actions; lines only lacking an outcome or a
    target (and with nothing written) are listed together so they do not drown the analyses."""
    missed = _missed(lines)
    if not missed:
        return
    _heading(doc, "Indikatorer som inte är uppfyllda", 3)
    quiet = [x for x in missed if x.status in (OUTCOME_MISSING, TARGET_MISSING) and not (x.comment or x.actions)]
    for x in missed:
        if x not in quiet:
            _missed_block(doc, x)
    for status in (OUTCOME_MISSING, TARGET_MISSING):
        group = [x for x in quiet if x.status == status]
        if group:
            para = doc.add_paragraph()
            para.paragraph_format.space_before = Pt(8)
            para.paragraph_format.keep_with_next = True
            para.add_run(f"{status}, ingen analys lämnad ({len(group)}):").bold = True
            for indicator in dict.fromkeys(x.indicator for x in group):
                para = doc.add_paragraph(style="Tabelltext")
                para.paragraph_format.left_indent = Cm(0.5)
                para.paragraph_format.space_after = Pt(2)
                para.add_run(parts.safe_text(indicator) + ": ").italic = True
                para.add_run(_departments([x for x in group if x.indicator == indicator]) + ".")


def _departments(lines: Sequence[IndicatorLine]) -> str:
    """'Avd A (Äldre, LSS); Avd B' — each department once, with its series."""
    names = dict.fromkeys(x.department for x in lines)
    out = []
    for name in names:
        series = [x.series for x in lines if x.department == name and x.series]
        out.append(name + (f" ({', '.join(series)})" if series else ""))
    return parts.safe_text("; ".join(out))


def _line_name(x: IndicatorLine) -> str:
    return parts.safe_text(f"{x.indicator} – {x.department}" + (f", {x.series}" if x.series else ""))


def _missed_block(doc: DocumentObject, x: IndicatorLine) -> None:
    para = doc.add_paragraph()
    para.paragraph_format.keep_with_next = True
    para.paragraph_format.space_before = Pt(8)
    para.add_run(_line_name(x)).bold = True
    status = doc.add_paragraph(f"Status: {x.status}. Utfall {fmt(x.outcome, x.unit)}, målvärde {x.target or '–'}.")
    status.paragraph_format.keep_with_next = True
    para = doc.add_paragraph()
    para.add_run("Analys: ").bold = True
    para.add_run(parts.safe_text(x.comment) or "ingen analys lämnad.").italic = not x.comment
    para = doc.add_paragraph()
    para.add_run("Åtgärder: ").bold = True
    para.add_run(parts.safe_text(x.actions) or "inga åtgärder angivna.").italic = not x.actions


def _activities(doc: DocumentObject, data: CommitteeData) -> None:
    _heading(doc, "Aktiviteter", 1, new_page=True)
    if not data.activities:
        _text(doc, None, italic_if_empty="Inga aktiviteter har rapporterats.")
        return
    counts = {s: sum(1 for a in data.activities if a.status == s) for s in ACTIVITY_COLOURS}
    doc.add_paragraph("Status: " + ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) + ".")
    goal_texts = {g.goal_id: g.goal_text for g in data.goals}
    rows: list[list[str]] = []
    groups: list[int] = []
    shaded: list[tuple[int, str | None]] = []
    for goal_id in dict.fromkeys(a.goal_id for a in sorted(data.activities, key=lambda a: a.goal_id or "~")):
        groups.append(len(rows) + 1)
        title = f"{goal_id}. {goal_texts.get(goal_id, '')}".rstrip(". ") if goal_id else "Utan koppling till mål"
        rows.append([title] + [""] * 4)
        for a in sorted((a for a in data.activities if a.goal_id == goal_id), key=lambda a: a.department):
            shaded.append((len(rows) + 1, a.status))
            text = parts.safe_text(a.text) + (f" ({a.heading})" if a.heading else "")
            rows.append([a.department, text, a.deadline or "–", a.status or "–", parts.safe_text(a.comment)])
    table = parts.add_table(doc, ["Avdelning", "Aktivitet", "Klart senast", "Status", "Kommentar"],
                            rows, [3.3, 5.2, 2.3, 2.2, 3.0])
    parts.group_rows(table, groups)
    for r, status in shaded:
        _status_cell(table, r, 3, status)


def _economy(doc: DocumentObject, data: CommitteeData) -> None:
    _heading(doc, "Ekonomi", 1, new_page=True)
    if not data.economy:
        _text(doc, None, italic_if_empty="Ingen ekonomisk uppföljning har rapporterats.")
        return
    doc.add_paragraph("Belopp i tkr. Intäkter är positiva och kostnader negativa; avvikelse = prognos − budget, "
                      "så ett positivt tal är ett överskott mot budget.")
    headers = ["", "Budget", "Utfall hittills", "Prognos helår", "Avvikelse"]
    widths = [5.6, 2.6, 2.6, 2.6, 2.6]
    frame = [x for x in data.economy if is_frame_line(x)]
    if frame:
        _heading(doc, "Nämndens budgetram", 3)
        rows = [[x.item] + _money(x) for x in frame]
        parts.add_table(doc, ["Post"] + headers[1:], rows, widths, numeric=range(1, 5))
    if len(frame) == len(data.economy):
        _text(doc, None, italic_if_empty="Avdelningarna har inte rapporterat någon ekonomi per avdelning.")
    else:
        _heading(doc, "Per avdelning", 3)
        deps = department_totals(data.economy)
        total = economy_totals(data.economy)[-1]
        rows = [[d.department] + _money(d) for d in deps] + [["Nämnden totalt"] + _money(total)]
        parts.bold_row(parts.add_table(doc, ["Avdelning"] + headers[1:], rows, widths, numeric=range(1, 5)),
                       len(rows))
        _heading(doc, "Per post", 3)
        items = economy_totals(data.economy)
        rows = [[x.item if x is not items[-1] else "Totalt"] + _money(x) for x in items]
        parts.bold_row(parts.add_table(doc, ["Post"] + headers[1:], rows, widths, numeric=range(1, 5)), len(rows))
    comments = [c for c in data.comments if _economy_comment(c)]
    if comments:
        _heading(doc, "Avdelningarnas kommentarer", 3)
        _comment_list(doc, comments)


def _money(line: object) -> list[str]:
    return [fmt(getattr(line, a), decimals=0) for a in ("budget", "outcome", "forecast", "deviation")]


def _comparisons(doc: DocumentObject, data: CommitteeData, charts: ReportCharts, figures: _Figures) -> None:
    kpis = list(dict.fromkeys(c.kolada_id for c in data.comparisons))
    if not kpis:
        return
    _heading(doc, "Jämförelser med andra kommuner", 1, new_page=True)
    doc.add_paragraph(f"Nyckeltal från Kolada för {data.meta.municipality} jämfört med riket och "
                      "jämförbara kommuner.")
    for kpi in kpis:
        values = [c for c in data.comparisons if c.kolada_id == kpi]
        _heading(doc, f"{' '.join(values[0].kpi_title.split())} ({kpi})", 2)
        comparison_table(doc, values, data.meta.municipality_id)
        doc.add_paragraph(source_note(one_gender(values)), style="Källhänvisning")
        for chart in charts.comparisons.get(kpi, []):
            figures.add(doc, chart)


def comparison_table(doc: DocumentObject, values: Sequence[Comparison], home_id: str) -> None:
    values = one_gender(values)
    years = sorted({v.year for v in values})[-MAX_YEARS:]
    units = ordered_units(values, home_id)
    cell = {(v.municipality_id, v.year): v for v in values}
    rows = []
    for unit in units:
        name = next(v.municipality for v in values if v.municipality_id == unit)
        rows.append([name] + [fmt(cell[(unit, y)].value) if (unit, y) in cell else "–" for y in years])
    width = (TEXT_WIDTH_CM - 5.0) / max(len(years), 1)
    table = parts.add_table(doc, ["Kommun/jämförelse"] + [str(y) for y in years], rows,
                            [5.0] + [width] * len(years), numeric=range(1, len(years) + 1))
    if home_id in units:
        parts.bold_row(table, units.index(home_id) + 1)


def _risk_fill(value: int | None) -> str | None:
    if value is None:
        return None
    return "FFC7CE" if value >= 9 else "FFEB9C" if value >= 5 else "C6EFCE"


def _controls(doc: DocumentObject, data: CommitteeData) -> None:
    _heading(doc, "Internkontroll", 1, new_page=True)
    if not data.controls:
        _text(doc, None, italic_if_empty="Inga resultat av internkontroll har rapporterats.")
        return
    doc.add_paragraph("Riskvärde = sannolikhet × konsekvens (1–4 vardera).")
    rows = [[c.department or "Nämnden", _joined(c.risk, "Kontroll", c.control),
             str(c.risk_value) if c.risk_value is not None else "–", _joined(c.result or "–", "Kommentar", c.comment)]
            for c in data.controls]
    table = parts.add_table(doc, ["Avdelning", "Risk och kontrollmoment", "Riskvärde", "Resultat"],
                            rows, [3.4, 5.2, 2.3, 5.1], numeric=[2])
    for r, c in enumerate(data.controls, start=1):
        fill = _risk_fill(c.risk_value)
        if fill:
            parts.shade(parts.cell_at(table, r, 2), fill)


def _joined(first: str, label: str, second: str | None) -> str:
    """Two texts in one cell, the second on its own line after a label."""
    first = parts.safe_text(first)
    return f"{first}\n{label}: {parts.safe_text(second)}" if second else first


def _material(doc: DocumentObject, data: CommitteeData) -> None:
    if not data.submissions:
        return
    _heading(doc, "Om underlaget", 1, new_page=True)
    doc.add_paragraph(f"Sammanställningen gjordes {data.meta.generated_at:%Y-%m-%d %H:%M} från avdelningarnas "
                      "uppföljningsfiler.")
    rows = [[s.department, s.state, f"{s.saved_at:%Y-%m-%d %H:%M}" if s.saved_at else "–", str(s.problem_count)]
            for s in data.submissions]
    parts.add_table(doc, ["Avdelning", "Inlämning", "Senast sparad", "Antal problem"], rows,
                    [6.0, 3.6, 3.8, 2.6], numeric=[3])
