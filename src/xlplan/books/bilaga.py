"""``nämndrapport_bilaga.xlsx``: the committee's tables as values only, to go out with the papers.

No formulas, no macros, no hidden sheets, no external links, no defined names
other than each sheet's print titles; every text is a text cell (so
``=SUMMA(A1)`` or ``-5 % mot budget`` stay text); statuses are coloured with
plain fills (no conditional formatting); sheets print landscape, one page wide.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from xlsxwriter.worksheet import Worksheet

from xlplan.books.committee import (
    ACTIVITIES,
    ACTIVITY_COLOURS,
    COMPARISONS,
    CONTROLS,
    ECONOMY,
    GOALS,
    INDICATORS,
    INVESTMENTS,
    ROW_KIND,
    STATUS_COLOURS,
    TOTAL_ROW,
    CommitteeData,
    Formats,
    SheetSpec,
    economy_totals,
    investment_totals,
    new_workbook,
    period_line,
    shown_rows,
    sorted_indicators,
    value_formats,
    write_table,
)
from xlplan.core.status import Colours
from xlplan.io.atomic import atomic_path

# Columns left out of the bilaga (internal, or shown on another sheet), and narrower widths for print.
OMITTED: dict[str, set[str]] = {
    "Indikatorer": {"target_value", "priority_goal", "goal_text", "department_id"},
    "Aktiviteter": {"department_id"},
    "Internkontroll": {"department_id"},
    "Jämförelser": {"municipality_id"},
}
PRINT_WIDTHS: dict[str, float] = {"indicator": 30, "comment": 40, "actions": 32, "provenance": 22,
                                  "department": 20, "text": 40, "kpi_title": 40}
BILAGA_SHEETS: tuple[tuple[str, SheetSpec], ...] = (
    ("goals", GOALS), ("indicators", INDICATORS), ("activities", ACTIVITIES),
    ("economy", ECONOMY), ("controls", CONTROLS), ("comparisons", COMPARISONS),
)
# The fill and font of each status word, as plain cell formats (no conditional formatting).
STATUS_STYLES: dict[str, Colours] = {**STATUS_COLOURS, **ACTIVITY_COLOURS}


def build_bilaga(data: CommitteeData, path: Path) -> Path:
    """Write the bilaga at *path* (not atomically: see :func:`write_bilaga`)."""
    wb = new_workbook(path, data.meta.generated_at, inline_strings=True)
    fm = Formats(wb)
    _about(wb.add_worksheet("Om bilagan"), fm, data)
    for attr, spec in BILAGA_SHEETS:
        records: list[Any] = list(sorted_indicators(data) if spec is INDICATORS else getattr(data, attr))
        marks = None
        if spec is ECONOMY:
            totals = economy_totals(records)
            marks = ["Avdelning"] * len(records) + [TOTAL_ROW] * len(totals)
            records += totals
        _sheet(wb.add_worksheet(spec.name), fm, spec, records, marks, data)
        if spec is ECONOMY and data.investments:  # the investment projects beside the economy, when any
            projects: list[Any] = list(data.investments)
            totals_i = investment_totals(projects)
            _sheet(wb.add_worksheet(INVESTMENTS.name), fm, INVESTMENTS, projects + totals_i,
                   ["Projekt"] * len(projects) + [TOTAL_ROW] * len(totals_i), data)
    wb.close()
    return path


def write_bilaga(data: CommitteeData, path: Path) -> Path:
    with atomic_path(path) as tmp:
        build_bilaga(data, tmp)
    return path


def _about(ws: Worksheet, fm: Formats, data: CommitteeData) -> None:
    m = data.meta
    rows = [
        ("Kommun", m.municipality), ("Nämnd", m.committee), ("Förvaltning", m.administration or "–"),
        ("Period", m.period_label), ("Sammanställd", m.generated_at.strftime("%Y-%m-%d %H:%M")),
        ("Plan", f"{m.plan_id} (version {m.plan_version})"),
        ("Innehåll", "Måluppfyllelse, indikatorer, aktiviteter, ekonomi (tkr), internkontroll och jämförelser."),
        ("Källor", "Jämförelsevärden med Källa = Kolada är hämtade från Kolada (Källa: Kolada). "
                   "Värden med annan källa är egen bearbetning."),
    ]
    write_table(ws, fm, ["Uppgift", "Värde"], rows, [16, 90], [None, None], header_row=0, autofilter=False)
    _print_setup(ws, data)


def _sheet(ws: Worksheet, fm: Formats, spec: SheetSpec, records: Sequence[Any], marks: list[str] | None,
           data: CommitteeData) -> None:
    columns = [c for c in spec.columns if c.attr not in OMITTED.get(spec.name, set()) and not c.technical]
    headers = [c.header for c in columns] + ([ROW_KIND] if marks else [])
    rows = shown_rows(columns, records)
    if marks:
        rows = [row + [mark] for row, mark in zip(rows, marks)]
    widths = [min(c.width, PRINT_WIDTHS.get(c.attr, c.width)) for c in columns] + ([10] if marks else [])
    formats = [c.number_format for c in columns] + ([None] if marks else [])
    status = headers.index(spec.status_column) if spec.status_column else None

    def status_fill(value: Any) -> dict[str, Any]:
        if isinstance(value, str) and value in STATUS_STYLES:
            fill, font = STATUS_STYLES[value]
            return {"bg_color": fill, "font_color": font}
        return {}

    write_table(ws, fm, headers, rows, widths, formats, header_row=0, autofilter=False,
                bold_rows=[m == TOTAL_ROW for m in marks] if marks else None,
                cell_formats={status: status_fill} if status is not None else None,
                row_value_formats=value_formats(spec, records))
    _print_setup(ws, data)


def _print_setup(ws: Worksheet, data: CommitteeData) -> None:
    """Landscape A4, one page wide, the header row on every page; the page header names committee and period."""
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    header = f"{data.meta.committee} – {period_line(data.meta)}".replace("&", "&&")
    ws.set_header(f"&L&B&A&R{header}")
    ws.set_footer("&RSida &P av &N")
