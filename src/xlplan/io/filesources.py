"""Values from local exports (CSV or XLSX) as the plan's Filkällor sheet describes them.

One Filkällor row names an indicator (and optionally a series), a file pattern
relative to the plan's folder, an optional sheet (XLSX), the value column and
key columns (``Enhet={avdelningsnamn}; Period={period}``).  For every
department that reports the indicator, :func:`read_file_values` finds the one
row whose key columns match and reads its value.

Rules:

* Placeholders: ``{avdelning}`` (department id), ``{avdelningsnamn}``,
  ``{period}`` (``2024-delår``) and ``{år}`` (``2024``).
* A key cell matches when it is the same text (case and spacing ignored), the
  same number (``2022`` = ``2022,0``) or the same period (``2024-delar`` =
  ``2024 delår``).
* Several files may match the pattern; all are read (in name order).  Rows
  with the same value in several files count once; different values for the
  same key are a problem and nothing is read for that department.
* Numbers are Swedish (``48,5``, ``1 012``, ``12 %``), read by
  :func:`xlplan.core.numbers.parse_number`.
* CSV: the encoding is UTF-16 when the file starts with its BOM, else UTF-8 (with or
  without BOM), else cp1252; the
  delimiter is sniffed among ``;``, ``,``, tab and ``|`` (``;`` when unsure).
  The first non-empty line is the header.  A comma-separated file whose rows have more
  fields than the header because of unquoted decimal commas (``61,5 %``) is refused,
  naming the row: it is never read as 61.  XLSX: the named sheet (else the
  first) and its first non-empty row as header.

Problems (missing file, column, key row, a value that is not a number) are
returned as :class:`~xlplan.core.errors.Problem` naming file, row and column; they
never stop the other sources.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from xlplan.core.codes import Code
from xlplan.core.errors import BadInput, Problem, WorkbookUnreadable
from xlplan.core.model import Department, FileSource, Indicator, Plan
from xlplan.core.numbers import is_no_value, normalise_space, parse_number
from xlplan.core.periods import Period, parse_period
from xlplan.io.tables import norm_header, open_workbook, read_sheet_rows

__all__ = ["FileValue", "FileTable", "cells_match", "decode", "read_file_values", "read_table", "sniff_delimiter",
           "substitute"]

CSV_DELIMITERS = ";,\t|"
_DECIMAL_SPLIT = re.compile(r"^\s*-?\d+\s*$")  # "61" of "61,5 %" split at its decimal comma
_DECIMAL_TAIL = re.compile(r"^\d+\s*%?\s*$")  # "5 %"
ENCODINGS = ("utf-8-sig", "cp1252")
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class FileValue:
    """One value read from a local export, with where it came from."""

    indicator_id: str
    series: str | None  # None: every series of the indicator (or its only one)
    department_id: str
    value: float
    file: str  # path relative to the plan's folder, as shown to people
    row: int  # 1-based line (CSV) or row (XLSX) in the file
    column: str  # the value column's header
    text: str  # the cell as written in the export
    sheet: str | None = None
    modified: dt.datetime | None = None  # the file's modification time (UTC)

    @property
    def file_name(self) -> str:
        return Path(self.file).name


@dataclass(frozen=True)
class FileTable:
    """A read export: header, data rows with their 1-based row numbers."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[Any]]]
    sheet: str | None = None

    def column(self, name: str) -> int | None:
        wanted = norm_header(name)
        for i, h in enumerate(self.header):
            if norm_header(h) == wanted:
                return i
        return None


# ---------------------------------------------------------------- reading files


def read_table(path: Path, sheet: str | None = None) -> FileTable:
    """Read a CSV or XLSX export; raise WorkbookUnreadable with a Swedish reason."""
    if path.suffix.casefold() in (".xlsx", ".xlsm"):
        return _read_xlsx(path, sheet)
    return _read_csv(path)


def decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Excel's "Unicode text" export
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    for encoding in ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("cp1252", errors="replace")  # pragma: no cover - cp1252 maps almost all bytes


def sniff_delimiter(text: str) -> str:
    sample = "\n".join(line for line in text.splitlines()[:20] if line.strip())
    try:
        return csv.Sniffer().sniff(sample, delimiters=CSV_DELIMITERS).delimiter
    except csv.Error:
        first = sample.splitlines()[0] if sample else ""
        counts = {d: first.count(d) for d in CSV_DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ";"


def _read_csv(path: Path) -> FileTable:
    try:
        text = decode(path.read_bytes())
    except OSError as exc:
        raise WorkbookUnreadable(str(path), f"filen kan inte öppnas ({exc.strerror or exc})") from exc
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    try:
        for record in reader:
            if not any(c.strip() for c in record):
                continue
            if header is None:
                header = [c.strip() for c in record]
            else:
                split = _decimal_split(record) if reader.dialect.delimiter == "," and len(record) > len(header) else None
                if split is not None:
                    raise WorkbookUnreadable(str(path), f"rad {reader.line_num} har {len(record)} fält men "
                                             f"rubrikraden {len(header)}: filen är kommaseparerad och talet "
                                             f"'{split}' har decimalkomma utan citattecken, så värdena kan inte "
                                             "läsas säkert (61,5 skulle bli 61). Exportera med semikolon som "
                                             "avgränsare, eller med citattecken runt talen")
                rows.append((reader.line_num, record))
    except csv.Error as exc:
        raise WorkbookUnreadable(str(path), f"CSV-filen är felaktig på rad {reader.line_num} ({exc})") from exc
    return FileTable(path, header or [], rows)


def _decimal_split(record: list[str]) -> str | None:
    """'61,5 %' when a comma-separated row split a number at its decimal comma, else None."""
    for a, b in zip(record, record[1:]):
        if _DECIMAL_SPLIT.match(a) and _DECIMAL_TAIL.match(b):
            return f"{a.strip()},{b.strip()}"
    return None


def _read_xlsx(path: Path, sheet: str | None) -> FileTable:
    wb = open_workbook(path)
    names = list(wb.sheet_names)
    actual = names[0] if sheet is None and names else _sheet_name(names, sheet)
    if actual is None:
        raise WorkbookUnreadable(str(path), f"bladet '{sheet}' finns inte (bladen heter {', '.join(names)})")
    raw = read_sheet_rows(wb, path, actual)
    header: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    for i, record in enumerate(raw, start=1):
        if all(c is None or str(c).strip() == "" for c in record):
            continue
        if header is None:
            header = ["" if c is None else str(c).strip() for c in record]
        else:
            rows.append((i, record))
    return FileTable(path, header or [], rows, actual)


def _sheet_name(names: list[str], wanted: str | None) -> str | None:
    if wanted is None:
        return None
    return next((n for n in names if n.casefold() == wanted.strip().casefold()), None)


# ---------------------------------------------------------------- matching


def substitute(template: str, department: Department | None, period: Period) -> str:
    """Replace ``{avdelning}``, ``{avdelningsnamn}`` (empty without a *department*), ``{period}`` and ``{år}``;
    unknown names stay."""
    values = {"avdelning": department.id if department else "", "avdelningsnamn": department.name if department else "",
              "period": str(period), "år": str(period.year), "ar": str(period.year)}

    def repl(m: re.Match[str]) -> str:
        return values.get(m.group(1).strip().casefold(), m.group(0))

    return _PLACEHOLDER.sub(repl, template)


def cells_match(cell: Any, wanted: str) -> bool:
    """Same text (case/spacing ignored), same number, or same period."""
    if cell is None:
        return wanted.strip() == ""
    text = normalise_space(str(cell)).casefold()
    if text == normalise_space(wanted).casefold():
        return True
    a, b = parse_number(cell), parse_number(wanted)
    if a is not None and b is not None:
        return a == b
    pa, pb = _period(text), _period(wanted)
    return pa is not None and pa == pb


def _period(text: str) -> Period | None:
    try:
        return parse_period(text)
    except BadInput:
        return None


# ---------------------------------------------------------------- the Filkällor rows


@dataclass(frozen=True)
class _Hit:
    value: FileValue | None
    problem: Problem | None = None


def read_file_values(
    plan: Plan,
    plan_dir: Path,
    department_ids: Iterable[str],
    period: Period,
) -> tuple[list[FileValue], list[Problem]]:
    """Every value the plan's file sources give for these departments and period."""
    values: list[FileValue] = []
    problems: list[Problem] = []
    cache: dict[tuple[Path, str | None], FileTable | Problem] = {}
    wanted = [d for d in (plan.department(i) for i in department_ids) if d is not None]
    for source in plan.file_sources:
        indicator = next((i for i in plan.indicators if i.id == source.indicator_id), None)
        if indicator is None:
            continue
        deps = [d for d in wanted if indicator.reported_by(d.id)]
        if not deps:
            continue
        files = matching_files(plan_dir, source.pattern)
        if not files:
            problems.append(Problem(Code.FIL_SAKNAS, f"Ingen fil matchar mönstret '{source.pattern}' "
                                    f"(Filkällor, indikator {source.indicator_id}); inga värden lästes därifrån.",
                                    source.pattern, severity="varning"))
            continue
        tables = [_table(cache, f, source.sheet, problems) for f in files]
        readable = [t for t in tables if t is not None]
        if not readable:  # each unreadable file is already a problem; "no row in (nothing)" adds nothing
            continue
        for dep in deps:
            hit = _value_for(source, indicator, readable, dep, period, plan_dir)
            if hit.problem is not None:
                problems.append(hit.problem)
            if hit.value is not None:
                values.append(hit.value)
    return values, list(dict.fromkeys(problems))


def matching_files(plan_dir: Path, pattern: str) -> list[Path]:
    """The files *pattern* (a glob, relative to *plan_dir* or absolute) names; Excel's lock files left out."""
    pattern = pattern.strip().replace("\\", "/")
    if Path(pattern).is_absolute():
        base, rel = Path(Path(pattern).anchor), str(Path(pattern).relative_to(Path(pattern).anchor))
    else:
        base, rel = plan_dir, pattern
    found = [p for p in base.glob(rel) if p.is_file() and not p.name.startswith(("~$", ".~"))]
    return sorted(found, key=lambda p: str(p))


def _table(cache: dict[tuple[Path, str | None], FileTable | Problem], path: Path, sheet: str | None,
           problems: list[Problem]) -> FileTable | None:
    key = (path, sheet)
    if key not in cache:
        try:
            cache[key] = read_table(path, sheet)
        except WorkbookUnreadable as exc:
            problem = Problem(Code.FIL_OLASLIG, f"Exporten kan inte läsas: {exc.reason}.", path.name,
                              sheet, severity="varning", action="filen hoppades över")
            cache[key] = problem
            problems.append(problem)
    got = cache[key]
    return got if isinstance(got, FileTable) else None


def _value_for(source: FileSource, indicator: Indicator, tables: Sequence[FileTable], dep: Department,
               period: Period, plan_dir: Path) -> _Hit:
    keys = [(col, substitute(v, dep, period)) for col, v in source.keys]
    found: list[tuple[FileTable, int, Any]] = []
    for table in tables:
        located = _columns(table, source, keys)
        if isinstance(located, Problem):
            return _Hit(None, located)
        value_col, key_cols = located
        for number, record in table.rows:
            if all(cells_match(cell_at(record, c), want) for c, (_, want) in zip(key_cols, keys)):
                found.append((table, number, cell_at(record, value_col)))
    where = "; ".join(f"{c}={v}" for c, v in keys) or "(inga nyckelkolumner)"
    if not found:
        files = ", ".join(t.path.name for t in tables)
        return _Hit(None, Problem(Code.EXPORT_RAD_SAKNAS, f"Ingen rad med {where} i {files} (indikator "
                                  f"{indicator.id}, {dep.name}).", files, severity="varning"))
    distinct = {str(v).strip() if v is not None else "" for _, _, v in found}
    if len(distinct) > 1:
        rows = ", ".join(f"{t.path.name} rad {n}" for t, n, _ in found)
        return _Hit(None, Problem(Code.FLERA_RADER, f"Flera rader med {where} har olika värden ({rows}); "
                                  f"inget värde lästes för {indicator.id}, {dep.name}. Ange fler "
                                  "nyckelkolumner i Filkällor.", found[0][0].path.name, severity="varning"))
    table, number, raw = found[0]
    return _parsed(source, indicator, table, number, raw, dep, plan_dir)


def _columns(table: FileTable, source: FileSource,
             keys: list[tuple[str, str]]) -> tuple[int, list[int]] | Problem:
    value_col = table.column(source.value_column)
    missing = [source.value_column] if value_col is None else []
    key_cols = []
    for col, _ in keys:
        at = table.column(col)
        if at is None:
            missing.append(col)
        key_cols.append(at if at is not None else -1)
    if missing or value_col is None:
        names = ", ".join(f"'{m}'" for m in missing)
        have = ", ".join(f"'{h}'" for h in table.header if h)
        return Problem(Code.EXPORT_KOLUMN_SAKNAS, f"Kolumnen {names} finns inte i exporten (rubrikerna är {have}).",
                       table.path.name, table.sheet, severity="varning", action="filen hoppades över")
    return value_col, key_cols


def cell_at(record: list[Any], index: int | None) -> Any:
    """The cell at *index* of a record, None when the record is shorter or there is no such column."""
    return record[index] if index is not None and 0 <= index < len(record) else None


def _parsed(source: FileSource, indicator: Indicator, table: FileTable, number: int, raw: Any,
            dep: Department, plan_dir: Path) -> _Hit:
    shown = relative_name(table.path, plan_dir)
    text = "" if raw is None else str(raw).strip()
    if is_no_value(raw if not isinstance(raw, str) else text):
        return _Hit(None, Problem(Code.VARDE_SAKNAS, f"Rad {number}, kolumn '{source.value_column}': värde saknas "
                                  f"för {indicator.id}, {dep.name}.", table.path.name, table.sheet,
                                  severity="info"))
    value = parse_number(raw)
    if value is None:
        return _Hit(None, Problem(Code.EXPORT_INTE_TAL,
                                  f"Rad {number}, kolumn '{source.value_column}': '{text}' är inte "
                                  "ett tal (skriv t.ex. 48,5 eller 1 012).", table.path.name, table.sheet,
                                  severity="varning", action="värdet lästes inte"))
    modified = dt.datetime.fromtimestamp(table.path.stat().st_mtime, dt.UTC).replace(microsecond=0)
    return _Hit(FileValue(indicator.id, source.series, dep.id, value, shown, number, source.value_column, text,
                          table.sheet, modified))


def relative_name(path: Path, base: Path) -> str:
    """*path* as shown to users: relative to *base* where it lies below it."""
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)
