"""Example outcomes for the demo, typed into department workbooks and marked as such.

The demo has no real outcomes for indicators without a source (Kolada
stand-in, local export).  :func:`type_example_values` types one in where the
outcome cell is empty and nothing has been fetched: the plan's own baseline
(Nuläge) for that series — deterministic, and it gives meaningful statuses
(a target equal to the baseline is met, a higher one is missed).  Where the
plan has no baseline the cell stays empty (→ *Utfall saknas*).

Every typed value is marked, visibly, in the column *Utfallets källa*
(:data:`EXAMPLE_SOURCE`) and in the hidden *Proveniens* column, so nobody
takes it for a real outcome.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from xlplan.deptbook import BookRow, read_department_workbook
from xlplan.errors import WorkbookRefused
from xlplan.layout.columns import INDICATORS
from xlplan.model import Indicator, Plan
from xlplan.resave import load_for_edit, save_edited

__all__ = ["EXAMPLE_SOURCE", "example_outcome", "type_example_values"]

EXAMPLE_SOURCE = "Exempelvärde (demo) – inte ett verkligt utfall"
EXAMPLE_PROVENANCE = "exempelvärde: planens nuläge"


def example_outcome(indicator: Indicator, series: str | None) -> float | None:
    """The example outcome of one series: the plan's baseline for it, or None."""
    q = indicator.baseline_values().get(series)
    return q.value if q is not None else None


def _free(row: BookRow) -> bool:
    """No outcome typed, fetched or sourced yet."""
    return all(row.raw.get(k) is None for k in ("outcome", "outcome_source", "fetched_value", "provenance"))


def _indicator_of(plan: Plan, row_id: str) -> tuple[Indicator | None, str | None]:
    parts = row_id.split("|", 2)
    if len(parts) < 3 or parts[0] != "I":
        return None, None
    ind = next((i for i in plan.indicators if i.id == parts[1]), None)
    return ind, parts[2] or None


def _planned(plan: Plan, rows: dict[str, BookRow]) -> list[tuple[BookRow, float]]:
    out = []
    for row_id, row in rows.items():
        ind, series = _indicator_of(plan, row_id)
        value = example_outcome(ind, series) if ind is not None and _free(row) else None
        if value is not None and "outcome" in row.cells:
            out.append((row, value))
    return out


def type_example_values(book_path: str | Path, plan: Plan) -> int:
    """Type the example outcomes into a department workbook; the number of outcomes typed."""
    path = Path(book_path)
    book = read_department_workbook(path)
    if book.plan_id != plan.id:
        raise WorkbookRefused(str(path), f"filen hör till planen '{book.plan_id}', inte till '{plan.id}'.")
    sheet = book.sheets.get(INDICATORS)
    planned = _planned(plan, sheet.rows) if sheet else []
    if not planned or sheet is None:
        return 0
    wb = load_for_edit(path)
    ws = wb[sheet.actual_name]
    for row, value in planned:
        _set(ws, row.cells["outcome"], value)
        _set(ws, row.cells.get("outcome_source"), EXAMPLE_SOURCE)
        _set(ws, row.cells.get("provenance"), EXAMPLE_PROVENANCE)
    save_edited(wb, path)
    return len(planned)


def _set(ws: Any, cell: str | None, value: Any) -> None:
    if cell is not None:
        ws[cell].value = value
