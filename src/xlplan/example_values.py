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

from xlplan.books.department.columns import INDICATORS
from xlplan.books.department.reader import BookRow, read_department_workbook
from xlplan.core.errors import WorkbookRefused
from xlplan.core.model import Indicator, Plan
from xlplan.core.periods import Period
from xlplan.io.resave import load_for_edit, save_edited

__all__ = ["EXAMPLE_SOURCE", "example_outcome", "type_example_values", "example_ledger_rows",
           "write_example_ledger", "type_example_forecasts", "EXAMPLE_LEDGER_NOTE", "EXAMPLE_COMMENT"]

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


# ---------------------------------------------------------------- economy (the demo's ledger and forecasts)

EXAMPLE_LEDGER_NOTE = "PÅHITTAT DEMOVÄRDE – inte verklig data"
EXAMPLE_COMMENT = "Exempelkommentar (demo): prognosen är utfallet hittills uppräknat till helår."
# One made-up account per budget line (and two for personnel: salaries and social fees), Kommun-Bas style.
_EXAMPLE_ACCOUNTS = (("intäkter", (("3510", 1.0),)), ("köp av tjänster", (("4610", 1.0),)),
                     ("personalkostnader", (("5011", 0.72), ("5611", 0.28))), ("lokalhyror", (("6110", 1.0),)),
                     ("övriga kostnader", (("7010", 1.0),)))


def _variation(*parts: str) -> float:
    """A deterministic made-up deviation from the budget's pace, between −6 % and +6 %."""
    import hashlib

    digest = hashlib.sha256("|".join(parts).encode("utf-8")).digest()
    return (digest[0] / 255 - 0.5) * 0.12


def example_ledger_rows(plan: Plan, period: Period) -> list[tuple[str, str, str, str, float]]:
    """(Ansvar, Ansvarsnamn, Konto, Period, Belopp in kr with costs positive) per department, line and month
    up to the period's end: the department's budget at an even pace, off by a made-up few per cent.
    Investment projects are booked on the first account of their Kontoplan row."""
    out = []
    for dep in plan.departments:
        unit = dep.codes[0].split("-")[0].strip() if dep.codes else None
        if unit is None:
            continue
        for line in plan.budget_for(dep.id, period.year):
            # an investment's budget is an expenditure (positive) booked on the account its Kontoplan row names
            accounts = (_plan_account(plan, line.item) if line.is_investment else
                        next((a for key, a in _EXAMPLE_ACCOUNTS if key in line.item.casefold()), None))
            if accounts is None:
                continue
            sign = 1 if line.is_investment else -1  # the export's costs (and expenditures) are positive
            pace = 1 + _variation(dep.id, line.item)
            for month in range(1, period.end_month + 1):
                for account, share in accounts:
                    kr = round(sign * line.budget * 1000 / 12 * pace * share
                               * (1 + _variation(account, str(month)) / 6), 2)
                    out.append((unit, dep.name, account, f"{period.year}{month:02d}", kr))
    return out


def _plan_account(plan: Plan, item: str) -> tuple[tuple[str, float], ...] | None:
    """The first account of the plan's Kontoplan row for *item* (``1221`` of ``1221-1229; 1240``), or None."""
    row = next((a for a in plan.accounts if a.item.casefold() == item.casefold()), None)
    if row is None:
        return None
    first = row.accounts.replace(",", ";").split(";")[0].split("-")[0].strip().rstrip("*")
    return ((first, 1.0),) if first else None


def write_example_ledger(path: Path, plan: Plan, period: Period) -> Path:
    """The demo's ledger export as a finance system writes it: Windows-1252, semicolons, decimal commas,
    every row marked as made up."""
    from xlplan.io.atomic import atomic_path

    lines = ["Ansvar;Ansvarsnamn;Konto;Period;Belopp;Anmärkning"]
    for unit, name, account, month, kr in example_ledger_rows(plan, period):
        amount = f"{kr:.2f}".replace(".", ",")
        lines.append(f"{unit};{name};{account};{month};{amount};{EXAMPLE_LEDGER_NOTE}")
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    return path


def type_example_forecasts(book_path: str | Path, plan: Plan) -> int:
    """Type a full-year forecast where the Ekonomi sheet has none: the outturn so far at the same pace
    for the whole year (the budget where there is no outturn), with a marked example comment where the
    deviation passes the plan's comment limit.  The number of forecasts typed."""
    from xlplan.books.department.columns import ECONOMY
    from xlplan.core.numbers import parse_number
    from xlplan.core.periods import parse_period
    from xlplan.core.rowids import ECONOMY_ROW, make_row_id

    path = Path(book_path)
    book = read_department_workbook(path)
    sheet = book.sheets.get(ECONOMY)
    if sheet is None or book.department_id is None or book.period is None:
        return 0
    period = parse_period(book.period)
    limit = plan.settings.economy_comment_threshold
    planned = []
    for line in plan.budget_for(book.department_id, period.year):
        row = sheet.rows.get(make_row_id(ECONOMY_ROW, line.item))
        if row is None or "forecast" not in row.cells or row.raw.get("forecast") is not None:
            continue
        actual = parse_number(row.raw.get("actual"))
        forecast = round(actual / period.year_share) if actual is not None else round(line.budget)
        comment = EXAMPLE_COMMENT if (limit is not None and abs(forecast - line.budget) > limit
                                      and row.raw.get("comment") is None) else None
        planned.append((row, forecast, comment))
    if not planned:
        return 0
    wb = load_for_edit(path)
    ws = wb[sheet.actual_name]
    for row, forecast, comment in planned:
        _set(ws, row.cells["forecast"], forecast)
        if comment is not None:
            _set(ws, row.cells.get("comment"), comment)
    save_edited(wb, path)
    return len(planned)
