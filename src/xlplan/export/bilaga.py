"""``nämndrapport_bilaga.xlsx``: the committee's tables as values only, to go out with the papers.

No formulas, no macros, no hidden sheets, no external links, no defined names
other than each sheet's print titles; every text is a text cell (so
``=SUMMA(A1)`` or ``-5 % mot budget`` stay text); statuses are coloured with
plain fills (no conditional formatting); sheets print landscape, one page wide.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Sequence

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.atomic import atomic_path
from xlplan.committee import (
    ACTIVITIES,
    ACTIVITY_COLOURS,
    COMPARISONS,
    CONTROLS,
    ECONOMY,
    GOALS,
    INDICATORS,
    ROW_KIND,
    STATUS_COLOURS,
    TOTAL_ROW,
    CommitteeData,
    SheetSpec,
    economy_totals,
    write_table,
)

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


def build_bilaga(data: CommitteeData) -> Workbook:
    wb = Workbook()
    about = wb.active
    about.title = "Om bilagan"
    _about(about, data)
    for attr, spec in BILAGA_SHEETS:
        records: list[Any] = list(getattr(data, attr))
        ws = wb.create_sheet(spec.name)
        marks = None
        if spec is ECONOMY:
            totals = economy_totals(records)
            marks = ["Avdelning"] * len(records) + [TOTAL_ROW] * len(totals)
            records += totals
        _sheet(ws, spec, records, marks)
    return wb


def write_bilaga(data: CommitteeData, path: Path) -> Path:
    wb = build_bilaga(data)
    with atomic_path(path) as tmp:
        wb.save(tmp)
    return path


def _about(ws: Worksheet, data: CommitteeData) -> None:
    m = data.meta
    rows = [
        ("Kommun", m.municipality), ("Nämnd", m.committee), ("Förvaltning", m.administration or "–"),
        ("Period", m.period_label), ("Sammanställd", m.generated_at.strftime("%Y-%m-%d %H:%M")),
        ("Plan", f"{m.plan_id} (version {m.plan_version})"),
        ("Innehåll", "Måluppfyllelse, indikatorer, aktiviteter, ekonomi (tkr), internkontroll och jämförelser."),
        ("Källor", "Jämförelsevärden med Källa = Kolada är hämtade från Kolada (Källa: Kolada). "
                   "Värden med annan källa är egen bearbetning."),
    ]
    write_table(ws, ["Uppgift", "Värde"], rows, [16, 90], [None, None], autofilter=False)
    _print_setup(ws)


def _sheet(ws: Worksheet, spec: SheetSpec, records: Sequence[Any], marks: list[str] | None) -> None:
    columns = [c for c in spec.columns if c.attr not in OMITTED.get(spec.name, set())]
    headers = [c.header for c in columns] + ([ROW_KIND] if marks else [])
    rows = [[getattr(r, c.attr) for c in columns] for r in records]
    if marks:
        rows = [row + [mark] for row, mark in zip(rows, marks)]
    widths = [min(c.width, PRINT_WIDTHS.get(c.attr, c.width)) for c in columns] + ([10] if marks else [])
    formats = [c.number_format for c in columns] + ([None] if marks else [])
    write_table(ws, headers, rows, widths, formats, autofilter=False)
    if spec.status_column:
        _fill_status(ws, headers.index(spec.status_column) + 1, len(rows))
    if marks:
        for r, mark in enumerate(marks, start=2):
            if mark == TOTAL_ROW:
                for cell in ws[r]:
                    cell.font = TOTAL_FONT
    _print_setup(ws)


# One style object per status and one for total rows, shared by every cell that shows it.
STATUS_STYLES: dict[str, tuple[PatternFill, Font]] = {
    label: (PatternFill("solid", fgColor=fill), Font(color=font))
    for label, (fill, font) in {**STATUS_COLOURS, **ACTIVITY_COLOURS}.items()
}
TOTAL_FONT = Font(bold=True)


def _fill_status(ws: Worksheet, column: int, count: int) -> None:
    for r in range(2, count + 2):
        cell = ws.cell(row=r, column=column)
        if isinstance(cell.value, str) and cell.value in STATUS_STYLES:
            cell.fill, cell.font = STATUS_STYLES[cell.value]


def _print_setup(ws: Worksheet) -> None:
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_title_rows = "1:1"

