"""Personnel key figures from an HR export (CSV or XLSX), as the plan's Personalkällor sheet maps them.

A Personalkällor row names a file pattern (relative to the plan's folder, with
``{år}`` and ``{period}``), and the export's columns that hold the department
(ansvar), the period, the measure and the value; optionally the worked hours
and the number of employees per row.  The plan's Personal sheet says which
measure names make which key figure (column *HR-mått*; empty: the key figure's
own name).  See ``docs/plan-format.md``.

Rules:

* The export is read by the one export reader (:func:`xlplan.io.filesources.read_table`):
  UTF-8 or Windows-1252, ``;`` ``,`` or tab, Swedish numbers (``5,3 %``, ``1 012``).
* **Department:** the department cell is matched (case and spacing ignored) with
  each department's id, name and *Ansvar* codes (Avdelningar); the committee's
  id ``NÄMND``, the committee's name and the administration's name give the
  committee's own value.
* **Period:** without a period column every row is for the period followed up.
  Otherwise a row counts when its period cell is the period (``2024-delår``),
  the period's last month (``2024-08``, ``202408``; K1 ends in March, delår in
  August, helår in December) or, for helår, the year alone.  The value must be
  the whole period's (accumulated from January), as HR systems report sick leave.
* **Shares:** ``5,3 %`` and ``5,3`` are 5,3 %; with *Andelar* = ``kvot`` a value
  without ``%`` is a fraction (``0,053`` is 5,3 %).  Counts are never scaled.
* **Nothing disappears:** a row whose department or measure maps to nothing is
  reported, per distinct value, naming file, rows and column; two rows giving
  different values for the same department and key figure are reported and
  neither is used.

:func:`plan_personnel_pull` turns the values into pull decisions for the
departments' Personal sheets with the one decision rule of :mod:`xlplan.actions.pull`
(never over what a person typed).  Pure except :func:`read_hr_values`, which reads the files.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from xlplan.core.codes import Code
from xlplan.core.errors import Problem, WorkbookUnreadable
from xlplan.core.model import COMMITTEE_ID, HrSource, PersonnelTarget, Plan
from xlplan.core.numbers import is_no_value, normalise_space, parse_number
from xlplan.core.periods import Period
from xlplan.io.filesources import FileTable, cell_at, cells_match, matching_files, read_table, relative_name, substitute

__all__ = ["HrValue", "read_hr_values", "hr_source", "plan_personnel_pull", "period_matches"]

#: The last month of each reporting period (tertial 2 = the delårsrapport to 31 August).
_MONTH = re.compile(r"^(\d{4})\s*[-/ .]?\s*(\d{1,2})$")


@dataclass(frozen=True)
class HrValue:
    """One key figure for one department (or ``NÄMND``) read from an HR export, with where it came from."""

    department_id: str
    name: str  # the key figure (Nyckeltal) of the plan
    value: float  # % for shares, as written for counts
    file: str  # relative to the plan's folder
    row: int
    column: str
    text: str  # the cell as written
    sheet: str | None = None
    hours: float | None = None
    headcount: float | None = None
    modified: dt.datetime | None = None

    @property
    def file_name(self) -> str:
        return Path(self.file).name


def _key(value: Any) -> str:
    return normalise_space(str(value)).casefold() if value is not None else ""


def period_matches(cell: Any, period: Period) -> bool:
    """Whether an export's period cell names *period* (see the module's rules)."""
    if cell is None:
        return False
    if isinstance(cell, (dt.date, dt.datetime)):
        return cell.year == period.year and cell.month == period.end_month
    if cells_match(cell, str(period)):
        return True
    text = normalise_space(str(cell))
    if isinstance(cell, float) and cell.is_integer():
        text = str(int(cell))
    if text == str(period.year):
        return period.kind == "helår"
    m = _MONTH.match(text)
    return m is not None and int(m.group(1)) == period.year and int(m.group(2)) == period.end_month


def _departments(plan: Plan) -> dict[str, str]:
    """Department cell (folded) -> department id; the committee's names -> NÄMND."""
    out: dict[str, str] = {}
    for name in (COMMITTEE_ID, plan.settings.committee, plan.settings.administration):
        if name:
            out.setdefault(_key(name), COMMITTEE_ID)
    for d in plan.departments:
        for name in (d.id, d.name, *d.codes):
            out.setdefault(_key(name), d.id)
    return out


def _department_id(plan: Plan, deps: dict[str, str], cell: object) -> str | None:
    """The department a department cell names: by id, name or code, else by an Ansvar range (``3100-3199``)."""
    found = deps.get(_key(cell))
    if found is None and cell is not None:
        dep = plan.department_of_unit(normalise_space(str(cell)))
        found = dep.id if dep is not None else None
    return found


def _measures(plan: Plan) -> dict[str, str]:
    """Measure name in the export (folded) -> key figure name."""
    out: dict[str, str] = {}
    for p in plan.personnel:
        for m in p.measure_names():
            out.setdefault(_key(m), p.name)
    return out


def _is_count(plan: Plan, name: str) -> bool:
    return any(p.is_count for p in plan.personnel if p.name == name)


@dataclass(frozen=True)
class _Columns:
    department: int
    measure: int
    value: int
    period: int | None
    hours: int | None
    headcount: int | None


def _columns(table: FileTable, source: HrSource) -> _Columns | Problem:
    wanted = {"department": source.department_column, "measure": source.measure_column,
              "value": source.value_column, "period": source.period_column, "hours": source.hours_column,
              "headcount": source.headcount_column}
    found: dict[str, int | None] = {}
    missing = []
    for key, header in wanted.items():
        at = table.column(header) if header else None
        if header and at is None:
            missing.append(header)
        found[key] = at
    if missing:
        names = ", ".join(f"'{m}'" for m in missing)
        have = ", ".join(f"'{h}'" for h in table.header if h)
        return Problem(Code.HR_KOLUMN_SAKNAS, f"Kolumnen {names} finns inte i HR-exporten (rubrikerna är {have}). "
                       "Rätta kolumnnamnen på bladet Personalkällor i planen.", table.path.name, table.sheet,
                       severity="varning", action="filen hoppades över")
    return _Columns(found["department"] or 0, found["measure"] or 0, found["value"] or 0, found["period"],
                    found["hours"], found["headcount"])


def _rows_text(rows: Sequence[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:8])
    return ("rad " if len(rows) == 1 else "raderna ") + shown + (f" … ({len(rows)} rader)" if len(rows) > 8 else "")


def _them(rows: Sequence[int]) -> str:
    return "raden" if len(rows) == 1 else "raderna"


def read_hr_values(plan: Plan, plan_dir: Path, period: Period) -> tuple[list[HrValue], list[Problem]]:
    """Every key figure value the plan's HR exports give for *period*, and every problem (Swedish)."""
    values: list[HrValue] = []
    problems: list[Problem] = []
    deps, measures = _departments(plan), _measures(plan)
    for source in plan.hr_sources:
        pattern = substitute(source.pattern, None, period)
        files = matching_files(plan_dir, pattern)
        if not files:
            problems.append(Problem(Code.HR_FIL_SAKNAS, f"Ingen fil matchar mönstret '{pattern}' (Personalkällor); inga "
                                    "personalnyckeltal lästes därifrån.", pattern, "Personalkällor",
                                    severity="varning"))
            continue
        for path in files:
            try:
                table = read_table(path, source.sheet)
            except WorkbookUnreadable as exc:
                problems.append(Problem(Code.FIL_OLASLIG, f"HR-exporten kan inte läsas: {exc.reason}.", path.name,
                                        source.sheet, severity="varning", action="filen hoppades över"))
                continue
            got, found = _read_table(plan, table, source, period, deps, measures, relative_name(path, plan_dir))
            values += got
            problems += found
    return _distinct(values, problems)


def _read_table(plan: Plan, table: FileTable, source: HrSource, period: Period, deps: dict[str, str],
                measures: dict[str, str], shown: str) -> tuple[list[HrValue], list[Problem]]:
    cols = _columns(table, source)
    if isinstance(cols, Problem):
        return [], [cols]
    name = table.path.name
    header = table.header
    values: list[HrValue] = []
    problems: list[Problem] = []
    unknown_deps: dict[str, list[int]] = defaultdict(list)
    unknown_measures: dict[str, list[int]] = defaultdict(list)
    in_period = 0
    modified = dt.datetime.fromtimestamp(table.path.stat().st_mtime, dt.UTC).replace(microsecond=0)
    for number, record in table.rows:
        if cols.period is not None and not period_matches(cell_at(record, cols.period), period):
            continue
        in_period += 1
        dep_cell, measure_cell = cell_at(record, cols.department), cell_at(record, cols.measure)
        dep, figure = _department_id(plan, deps, dep_cell), measures.get(_key(measure_cell))
        if dep is None:
            unknown_deps[normalise_space(str(dep_cell or ""))].append(number)
        if figure is None:
            unknown_measures[normalise_space(str(measure_cell or ""))].append(number)
        if dep is None or figure is None:
            continue
        raw = cell_at(record, cols.value)
        text = "" if raw is None else str(raw).strip()
        if is_no_value(raw if not isinstance(raw, str) else text):
            problems.append(Problem(Code.VARDE_SAKNAS, f"Rad {number}, kolumn '{header[cols.value]}': värde saknas för "
                                    f"{figure} ({dep_cell}).", name, table.sheet, severity="info"))
            continue
        value = parse_number(raw)
        if value is None:
            problems.append(Problem(Code.EXPORT_INTE_TAL, f"Rad {number}, kolumn '{header[cols.value]}': '{text}' är inte ett "
                                    "tal (skriv t.ex. 5,3 eller 5,3 %).", name, table.sheet, severity="varning",
                                    action="värdet lästes inte"))
            continue
        if source.fractions and not _is_count(plan, figure) and "%" not in text:
            value = round(value * 100, 10)
        values.append(HrValue(dep, figure, value, shown, number, header[cols.value], text, table.sheet,
                              _weight(record, cols.hours, header, number, name, table, problems),
                              _weight(record, cols.headcount, header, number, name, table, problems), modified))
    for cell, rows in unknown_deps.items():
        col = header[cols.department]
        problems.append(Problem(Code.HR_OKAND_ENHET, f"'{cell}' i kolumnen '{col}' ({_rows_text(rows)}) är ingen "
                                f"avdelning i planen; {_them(rows)} lästes inte. Skriv koden i kolumnen Ansvar på bladet "
                                "Avdelningar i planen om den hör till en avdelning.", name, table.sheet,
                                severity="varning", action=f"{_them(rows)} lästes inte"))
    for cell, rows in unknown_measures.items():
        col = header[cols.measure]
        problems.append(Problem(Code.HR_OKANT_MATT, f"'{cell}' i kolumnen '{col}' ({_rows_text(rows)}) motsvarar inget "
                                f"personalnyckeltal i planen; {_them(rows)} lästes inte. Ange måttet i kolumnen HR-mått "
                                "på bladet Personal i planen om det ska följas upp.", name, table.sheet,
                                severity="varning", action=f"{_them(rows)} lästes inte"))
    if in_period == 0:
        problems.append(Problem(Code.HR_PERIOD_SAKNAS, f"HR-exporten har inga rader för {period.label} (kolumnen "
                                f"'{source.period_column}'); skriv t.ex. {period} eller {period.year}-"
                                f"{period.end_month:02d}.", name, table.sheet, severity="varning"))
    return values, problems


def _weight(record: list[Any], index: int | None, header: list[str], number: int, name: str, table: FileTable,
            problems: list[Problem]) -> float | None:
    raw = cell_at(record, index)
    if index is None or raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    value = parse_number(raw)
    if value is None or value < 0:
        problems.append(Problem(Code.EXPORT_INTE_TAL, f"Rad {number}, kolumn '{header[index]}': '{raw}' är inget tal ≥ 0; "
                                "raden vägs inte.", name, table.sheet, severity="varning"))
        return None
    return value


def _distinct(values: list[HrValue], problems: list[Problem]) -> tuple[list[HrValue], list[Problem]]:
    """One value per (department, key figure): the same value twice counts once, different values none."""
    by_key: dict[tuple[str, str], list[HrValue]] = defaultdict(list)
    for v in values:
        by_key[(v.department_id, v.name)].append(v)
    out = []
    for (dep, figure), found in by_key.items():
        if len({v.value for v in found}) > 1:
            rows = ", ".join(f"{v.file_name} rad {v.row} ({v.text})" for v in found)
            problems.append(Problem(Code.HR_FLERA_RADER, f"Flera rader ger olika värden för {figure}, {dep}: {rows}; "
                                    "inget värde lästes.", found[0].file_name, found[0].sheet, severity="varning"))
            continue
        out.append(found[0])
    return out, list(dict.fromkeys(problems))


# ---------------------------------------------------------------- into the department workbooks


def hr_source(v: HrValue) -> Any:
    """The :class:`xlplan.actions.pull.Source` of an HR value (visible text, hidden JSON with the weights)."""
    from xlplan.actions.pull import Source

    sheet = f", blad {v.sheet}" if v.sheet and v.file_name.casefold().endswith((".xlsx", ".xlsm")) else ""
    text = f"Källa: {v.file_name}{sheet}, rad {v.row}"
    prov = {"source": "HR-export", "file": v.file, "sheet": v.sheet, "row": v.row, "column": v.column,
            "text": v.text, "value": v.value, "hours": v.hours, "headcount": v.headcount,
            "file_modified": v.modified.isoformat() if v.modified else None}
    return Source(v.value, text, prov)


def weights_of(provenance: Any) -> tuple[float | None, float | None]:
    """(hours, headcount) kept in a pulled row's Proveniens, or Nones."""
    if not isinstance(provenance, str) or not provenance.strip().startswith("{"):
        return None, None
    try:
        doc = json.loads(provenance)
    except ValueError:
        return None, None
    if not isinstance(doc, dict) or doc.get("source") != "HR-export":
        return None, None
    hours, headcount = doc.get("hours"), doc.get("headcount")
    return (float(hours) if isinstance(hours, (int, float)) else None,
            float(headcount) if isinstance(headcount, (int, float)) else None)


def plan_personnel_pull(plan: Plan, books: Sequence[Any], hr_values: Iterable[HrValue], *,
                        overwrite_pulled: bool = False) -> tuple[list[Any], list[Problem]]:
    """Pull decisions (:class:`xlplan.actions.pull.Change`) for the books' Personal rows, and problems (pure)."""
    from xlplan.actions.pull import CELL_KEYS, Change, decide
    from xlplan.books.department.columns import PERSONNEL
    from xlplan.core.rowids import PERSONNEL_ROW, key_of

    by_key = {(v.department_id, v.name): v for v in hr_values}
    changes: list[Change] = []
    problems: list[Problem] = []
    for book in books:
        sheet = book.sheets.get(PERSONNEL)
        if sheet is None or book.department_id is None:
            continue
        if any(k not in sheet.columns for k in CELL_KEYS):
            problems.append(Problem(Code.PERSONALKOLUMNER_SAKNAS, "Kolumnerna Utfallets källa, Hämtat värde och Proveniens saknas "
                                    "på bladet Personal, så inga personalnyckeltal hämtades. Fyll filen på nytt "
                                    "med xlplan fill --update.", book.path.name, sheet.actual_name,
                                    severity="varning", action="bladet hoppades över"))
            continue
        for row in sheet.rows.values():
            if not row.row_id.startswith(PERSONNEL_ROW + "|"):
                continue
            name = key_of(row.row_id)
            v = by_key.get((book.department_id, name))
            if v is not None:
                change = decide(book, sheet.actual_name, row, hr_source(v), overwrite_pulled)
            elif row.raw.get("outcome") is None and "outcome" not in row.formulas:
                change = Change(book.path, sheet.actual_name, row.row_id, row.cells, "saknas",
                                "Inget värde i HR-exporten; cellen lämnas tom.")
            else:
                change = None
            if change is not None:  # the report names the sheet and key figure, not only the cell
                changes.append(replace(change, message=f"bladet {sheet.actual_name}, {name}: {change.message}"))
    return changes, problems


def committee_value(target: PersonnelTarget | None, values: Sequence[tuple[float, float | None, float | None]],
                    departments: int | None = None) -> tuple[float | None, str]:
    """The committee's value of a key figure from the departments' (value, hours, headcount), and how it was
    computed (Swedish, shown beside it): a count is summed; a share is weighted by hours when every
    department has them, else by headcount, else the plain mean of the departments."""
    if not values:
        return None, "inget avdelningsutfall"
    n = len(values)
    deps = _count(n, departments)
    if target is not None and target.is_count:
        return sum(v for v, _, _ in values), f"summa av {deps}"
    for index, word in ((1, "arbetad tid (timmar)"), (2, "antal anställda")):
        weights = [w[index] for w in values]
        known = [w for w in weights if w is not None]
        if len(known) == n and sum(known) > 0:
            total = sum(v * w for (v, _, _), w in zip(values, known))
            return total / sum(known), f"vägt med {word} ur HR-exporten, {deps}"
    mean = sum(v for v, _, _ in values) / n
    return mean, (f"medelvärde av {deps}, ovägt (utfallen saknar arbetad tid och antal anställda ur HR-exporten)"
                  if n > 1 else f"utfallet från {deps}")


def _count(n: int, of: int | None) -> str:
    word = "avdelning" if (of or n) == 1 else "avdelningar"
    return f"{n} av {of} {word}" if of is not None and of != n else f"{n} {word}"
