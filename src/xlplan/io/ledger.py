"""The ledger export (huvudbok): outturn per department and budget line, read the way the plan says.

A finance system's export is a table with one row per ansvar/kostnadsställe, konto (and often
period) and an amount, as CSV or XLSX.  The plan says which columns to read, which account ranges
make which budget line (sheet *Kontoplan*), which ansvar codes belong to which department
(*Avdelningar*: Ansvar), the export's unit (kr or tkr) and sign (costs positive, as most ledgers
export debet, or negative).  :func:`read_ledger` turns one export into tkr with the plan's sign
(income positive, costs negative; an investment project's expenditure positive, as its budget) for one
period:

* CSV in UTF-8 (with or without BOM), UTF-16 or Windows-1252; separated by ``;``, ``,`` or tab
  (the encoding and separator are found the same way as for other exports, :mod:`xlplan.io.filesources`);
  read with the csv module, every cell as text, so nothing is guessed twice; XLSX with calamine.
* Amounts in Swedish or English form: ``-1 234,50``, ``1.234,50``, ``1234.5``, ``1 234,50-``,
  ``(1 234)``, a Unicode minus.
* Rows whose ansvar or account maps to nothing are not dropped: they are summed and reported
  (:attr:`LedgerOutturn.unmapped`), so the export's total always ties.
* A file that cannot be read right is refused (:class:`~xlplan.core.errors.WorkbookRefused`) with a
  Swedish message naming the file, the row and the column.

This module only reads; :mod:`xlplan.actions.pull` writes the result into the departments' Ekonomi sheets.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.core.codes import Code
from xlplan.core.errors import Problem, WorkbookRefused, WorkbookUnreadable
from xlplan.core.model import LedgerSettings, Plan, is_investment
from xlplan.core.numbers import format_number
from xlplan.core.periods import Period
from xlplan.io.tables import norm_header

__all__ = ["LedgerOutturn", "Unmapped", "ledger_files", "parse_amount", "read_ledger", "read_ledger_table"]

_MINUS = "-\u2212\u2013"
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009']+")
_PLAIN = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class Unmapped:
    """Export rows that map to no department or no budget line, summed (tkr, the plan's sign)."""

    reason: str  # Swedish: "okänt ansvar", "okänt konto", "utan ansvar eller konto"
    code: str  # the ansvar or account as exported
    amount: float
    rows: int
    first_row: int


@dataclass
class LedgerOutturn:
    """One export read for one period: tkr per (department id, budget line), with what was left over."""

    file: Path
    period: Period
    amounts: dict[tuple[str, str], float] = field(default_factory=dict)
    row_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    unmapped: list[Unmapped] = field(default_factory=list)
    total: float = 0.0  # every row of the period, tkr, the plan's sign
    mapped_total: float = 0.0  # the rows that reached a department and at least one budget line
    rows_read: int = 0
    rows_outside_period: int = 0

    def problems(self) -> list[Problem]:
        """The unmapped rows as warnings (with their sums), so nothing disappears silently."""
        out = []
        for u in self.unmapped:
            out.append(Problem(Code.HUVUDBOK_OMAPPAD, f"{u.rows} rader med {u.reason} {u.code!s} (första på rad "
                               f"{u.first_row}) summerar till {format_number(u.amount, 1)} tkr och hör inte till "
                               "någon avdelning eller post; lägg till koden på bladet Avdelningar (Ansvar) eller "
                               "Kontoplan i planen.", self.file.name, severity="varning",
                               action="beloppet räknades inte in hos någon avdelning"))
        return out


# ---------------------------------------------------------------- numbers and periods


def parse_amount(value: Any) -> float | None:
    """An amount as finance systems write it, or None when the text is no amount.

    ``-1 234,50``, ``1.234,50``, ``1,234.50``, ``1234.5``, ``1 234,50-`` (minus after), ``(1 234)``.
    A single comma is a decimal comma; a single point a decimal point.
    """
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return float(value) if value == value and abs(value) != float("inf") else None
    text = _SPACES.sub("", str(value))
    if not text:
        return None
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1]
    if text and text[0] in _MINUS:
        negative, text = not negative, text[1:]
    elif text.startswith("+"):
        text = text[1:]
    if text and text[-1] in _MINUS:
        negative, text = not negative, text[:-1]
    if "," in text and "." in text:
        decimal = "," if text.rfind(",") > text.rfind(".") else "."
        text = text.replace("." if decimal == "," else ",", "").replace(",", ".")
    elif text.count(",") == 1:
        text = text.replace(",", ".")
    elif text.count(",") > 1 or text.count(".") > 1:
        text = text.replace(",", "").replace(".", "")
    if not _PLAIN.match(text):
        return None
    number = float(text)
    return -number if negative else number


def _year_month(value: Any, year: int) -> tuple[int, int] | None:
    """(year, month) of a period cell: 202408, 2024-08, 2024/08, 2024-08-31, a date, or a month 1–12."""
    if isinstance(value, (dt.date, dt.datetime)):
        return value.year, value.month
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    m = re.fullmatch(r"(\d{4})\s*[-/. ]?\s*(\d{1,2})(?:[-/.]\d{1,2})?(?:[ T].*)?", text)
    if m and 1 <= int(m.group(2)) <= 12:
        return int(m.group(1)), int(m.group(2))
    if re.fullmatch(r"\d{1,2}", text) and 1 <= int(text) <= 12:
        return year, int(text)
    return None


# ---------------------------------------------------------------- reading the table


def read_ledger_table(path: Path) -> tuple[list[str], list[tuple[int, list[Any]]]]:
    """(headers, [(row number as a person counts it, cells)]) of a CSV or XLSX export.

    An XLSX export is read with calamine (its first sheet), a CSV one with the standard
    library's csv reader after its encoding and delimiter are worked out; every CSV cell
    stays text, so nothing is guessed twice.  A row with more fields than the header row
    is refused (:func:`_check_field_counts`); shorter rows are padded with empty cells.
    """
    path = Path(path)
    try:
        if path.suffix.casefold() in (".xlsx", ".xlsm", ".xls"):
            from xlplan.io.tables import open_workbook, read_sheet_rows

            wb = open_workbook(path)
            records: list[list[Any]] = read_sheet_rows(wb, path, wb.sheet_names[0]) if wb.sheet_names else []
        else:
            from xlplan.io.filesources import decode, sniff_delimiter

            text = decode(path.read_bytes())
            sep = sniff_delimiter(text)
            _check_field_counts(path, text, sep)
            records = list(csv.reader(io.StringIO(text, newline=""), delimiter=sep))
    except OSError as exc:
        raise WorkbookRefused(str(path), f"huvudboksexporten kan inte öppnas ({exc.strerror or exc}).") from exc
    except (WorkbookUnreadable, csv.Error) as exc:
        raise WorkbookRefused(str(path), f"huvudboksexporten kan inte läsas ({exc}).") from exc
    if not records or not any(_blank(c) is not None for c in records[0]):
        raise WorkbookRefused(str(path), "huvudboksexporten kan inte läsas (rubrikraden saknas eller filen är tom).")
    headers = [str(h).strip() for h in records[0]]
    rows = []
    for number, record in enumerate(records[1:], start=2):
        cells = [_blank(c) for c in record[:len(headers)]]
        cells += [None] * (len(headers) - len(cells))
        if any(c is not None for c in cells):
            rows.append((number, cells))
    return headers, rows


def _blank(cell: Any) -> Any:
    """None for an empty cell (nothing, blanks, NaN), else the cell."""
    if cell is None or (isinstance(cell, float) and cell != cell) or (isinstance(cell, str) and not cell.strip()):
        return None
    return cell


def _check_field_counts(path: Path, text: str, sep: str) -> None:
    """Refuse a CSV whose rows have more fields than its header (a comma-separated export with decimal
    commas: the amounts would be split over two columns and the columns shift silently)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    width: int | None = None
    for record in reader:
        if not any(c.strip() for c in record):
            continue
        if width is None:
            width = len(record)
        elif len(record) > width:
            raise WorkbookRefused(str(path), f"rad {reader.line_num} har {len(record)} fält men rubrikraden {width}. "
                                  "Är filen kommaseparerad med decimalkomma i beloppen utan citattecken? Exportera "
                                  "med semikolon eller tabb som avgränsare.")


def _column(headers: list[str], wanted: str, path: Path, setting: str) -> int:
    for i, h in enumerate(headers):
        if norm_header(h) == norm_header(wanted):
            return i
    raise WorkbookRefused(str(path), f"rad 1: kolumnen '{wanted}' saknas (rubrikerna är {', '.join(headers)}). "
                          f"Ange rätt kolumn i planens inställning 'Huvudbok kolumner' ({setting}=…).")


def _code(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip() if value is not None else ""


# ---------------------------------------------------------------- the outturn


def read_ledger(path: str | Path, plan: Plan, period: Period) -> LedgerOutturn:
    """The outturn of *period* (its year, months up to the period's end) in one export, by the plan."""
    path = Path(path)
    ledger = plan.settings.ledger
    if ledger is None:
        raise WorkbookRefused(str(path), "planen anger ingen huvudboksexport (inställningen 'Huvudbok fil').")
    headers, rows = read_ledger_table(path)
    cols = _columns(headers, ledger, path)
    out = LedgerOutturn(path, period)
    left: dict[tuple[str, str], list[float]] = defaultdict(list)
    first: dict[tuple[str, str], int] = {}
    deps: dict[str, str | None] = {}
    for number, cells in rows:
        raw_amount = cells[cols["amount"]] if cols["amount"] < len(cells) else None
        amount = parse_amount(raw_amount)
        if amount is None:
            if raw_amount is None:
                continue
            raise WorkbookRefused(str(path), f"rad {number}, kolumn '{ledger.amount_column}': '{raw_amount}' är "
                                  "inget belopp. Skriv t.ex. -1 234,50 eller 1234.50.")
        if "period" in cols:
            raw_period = cells[cols["period"]] if cols["period"] < len(cells) else None
            ym = _year_month(raw_period, period.year) if raw_period is not None else None
            if ym is None:
                raise WorkbookRefused(str(path), f"rad {number}, kolumn '{ledger.period_column}': '{raw_period}' är "
                                      "ingen period. Skriv år och månad, t.ex. 202408 eller 2024-08.")
            if ym[0] != period.year or ym[1] > period.end_month:
                out.rows_outside_period += 1
                continue
        value = amount * ledger.factor
        out.rows_read += 1
        out.total += value
        unit, account = _code(cells[cols["unit"]]), _code(cells[cols["account"]])
        project = _code(cells[cols["project"]]) if "project" in cols and cols["project"] < len(cells) else ""
        if unit not in deps:
            dep = plan.department_of_unit(unit) if unit else None
            deps[unit] = dep.id if dep else None
        items = [a.item for a in plan.accounts if account and a.matches(account, project)]
        key: tuple[str, str] | None = None
        if not unit or not account:
            key = ("utan ansvar eller konto", unit or account or "–")
        elif deps[unit] is None:
            key = ("okänt ansvar", unit)
        elif not items:
            key = ("okänt konto", f"{account} (projekt {project})" if project else account)
        if key is not None:
            left[key].append(value)
            first.setdefault(key, number)
            continue
        dep_id = deps[unit]
        assert dep_id is not None
        out.mapped_total += value
        for item in dict.fromkeys(items):
            # an investment project's budget is its expenditure, positive: the ledger's cost sign turned round
            amount_of_item = -value if is_investment(item) else value
            out.amounts[(dep_id, item)] = out.amounts.get((dep_id, item), 0.0) + amount_of_item
            out.row_counts[(dep_id, item)] = out.row_counts.get((dep_id, item), 0) + 1
    out.unmapped = [Unmapped(reason, code, sum(values), len(values), first[(reason, code)])
                    for (reason, code), values in left.items()]
    return out


def _columns(headers: list[str], ledger: LedgerSettings, path: Path) -> dict[str, int]:
    cols = {"unit": _column(headers, ledger.unit_column, path, "Ansvar"),
            "account": _column(headers, ledger.account_column, path, "Konto"),
            "amount": _column(headers, ledger.amount_column, path, "Belopp")}
    if ledger.period_column:
        cols["period"] = _column(headers, ledger.period_column, path, "Period")
    if ledger.project_column:
        cols["project"] = _column(headers, ledger.project_column, path, "Projekt")
    return cols


def ledger_files(plan: Plan, folder: Path, period: Period) -> list[Path]:
    """The export files the plan's *Huvudbok fil* names (``{år}`` is the period's year), in *folder*."""
    from xlplan.io.filesources import matching_files

    ledger = plan.settings.ledger
    if ledger is None:
        return []
    pattern = ledger.file.replace("{år}", str(period.year)).replace("{period}", period.ascii)
    return [p for p in matching_files(Path(folder), pattern) if p.suffix.casefold() in (".csv", ".txt", ".xlsx",
                                                                                         ".xlsm", ".tsv")]
