"""``xlplan pull``: outcome values from Kolada and local exports into department workbooks.

Plan, then apply.  :func:`plan_pull` (pure) decides, for every indicator row
that has a source, what happens to its Utfall cell; :func:`apply_pull` writes
the decisions that write; :func:`pull` does everything for one workbook or a
folder of them.

Rules (documented for users in the README):

* **One batched Kolada fetch** for the whole folder: every Kolada KPI of the
  plan × (the municipality, riket ``0000``, the "liknande kommuner" group) ×
  (the years followed up, the two years before the period's year, the
  baseline years).  The client chunks ids by 25, so the number of requests grows with
  chunks, not with indicators × years.  The same fetch gives the comparison
  rows (:mod:`xlplan.actions.comparisons`), saved as ``comparisons.json``.
* **Which year:** Utfall gets the value for the *period's year* (a follow-up
  of 2024 gets Kolada's 2024 value, also for K1 and delår).  Kolada usually
  publishes a year's value in the following year, so for K1 and delår it is
  often missing: the cell is then left empty and reported as "inget värde för
  år X", naming the latest published year and value (the two years before are
  fetched for that).  An earlier year's value is never put in Utfall.
* **Which source:** a Filkällor row is more specific than the Kolada id, so a
  value from a local export wins; Kolada is used when the export gives none.
* **Never overwrite a person:** an empty Utfall cell is filled.  A cell whose
  Utfall equals Hämtat värde holds an earlier pull; it is refreshed only with
  ``overwrite_pulled=True`` (``--overwrite-pulled``), otherwise a new source
  value is reported.  Any other value was typed by a person: it is kept, and
  reported when it differs from the source.
* **Provenance:** every written value gets visible text in Utfallets källa
  (``Källa: Kolada, U21468, Alingsås (1489), 2022, totalt, hämtad
  2026-11-23, slutligt värde``; ``Källa: sjukfranvaro.csv, rad 5`` for a file)
  and JSON in the hidden Proveniens column; Hämtat värde gets the value.
* **All or nothing on Kolada failure:** Kolada is asked before anything is
  written; a :class:`~xlplan.core.errors.KoladaUnavailable` leaves every workbook
  as it was.  Problems with a local export name the file, row and column and
  the rest goes on.
* **Writing:** each changed workbook is loaded with openpyxl, the cells are
  set, and it is saved atomically (temporary file + rename); formats, data
  validations, conditional formats, protection, hidden columns and sheets
  are kept (tested).  openpyxl drops the package relationship of the ribbon
  in an ``.xlsm``; it is put back.  Excel recalculates formulas on opening.
  A workbook that is open in Excel (a ``~$`` lock file beside it) is skipped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlplan.actions.comparisons import (
    COMPARISONS_FILE,
    Unit,
    build_comparisons,
    comparison_kpis,
    comparison_years,
    resolve_group,
    save_comparisons,
    units_for,
)
from xlplan.actions.workflow import APPROVED
from xlplan.books.committee import Comparison
from xlplan.books.department.columns import ECONOMY, INDICATORS
from xlplan.books.department.embedded import choose_plan
from xlplan.books.department.reader import BookRow, DepartmentBook, read_department_workbook
from xlplan.books.plan import find_plans, read_plan
from xlplan.core.codes import Code
from xlplan.core.errors import (
    KOLADA_DOWN,
    BadInput,
    KoladaUnavailable,
    Problem,
    RowsSorted,
    Severity,
    WorkbookRefused,
    WorkbookUnreadable,
    XlplanError,
    file_problem,
)
from xlplan.core.model import Indicator, Plan
from xlplan.core.numbers import format_number, parse_number
from xlplan.core.periods import Period, parse_period
from xlplan.core.rowids import ECONOMY_ROW, indicator_of, key_of, make_row_id
from xlplan.io.atomic import check_writable
from xlplan.io.filesources import FileValue, read_file_values
from xlplan.io.ledger import LedgerOutturn, ledger_files, read_ledger
from xlplan.io.resave import load_for_edit, save_edited
from xlplan.kolada import KoladaCache, KoladaClient, KoladaValue, Revision

__all__ = ["Change", "PullResult", "Source", "apply_pull", "plan_pull", "pull", "kolada_source",
           "file_source", "fetch_years", "find_plan", "workbook_paths", "demo_step", "demo_plan_copy"]

Action = Literal["fyll", "uppdatera", "behåll_inskrivet", "behåll_hämtat", "saknas", "jämförelsevärde"]
WRITE_ACTIONS = ("fyll", "uppdatera", "jämförelsevärde")
CELL_KEYS = ("outcome", "outcome_source", "fetched_value", "provenance")
GENDER_WORDS = {"T": "totalt", "K": "kvinnor", "M": "män"}
BOOK_SUFFIXES = (".xlsx", ".xlsm")


# ---------------------------------------------------------------- sources


@dataclass(frozen=True)
class Source:
    """A value ready to land in an Utfall cell, with its provenance."""

    value: float
    text: str  # visible: "Källa: Kolada, U21468, …"
    provenance: dict[str, Any]  # the hidden JSON

    def provenance_json(self) -> str:
        return json.dumps(self.provenance, ensure_ascii=False, sort_keys=True)


def _date(when: dt.datetime | None) -> str:
    """The local calendar date of a timestamp (as the person reading the workbook counts days)."""
    return when.astimezone().date().isoformat() if when else "okänt datum"


def kolada_source(v: KoladaValue, municipality_name: str) -> Source:
    """The Source of a Kolada value (``v.value`` must be a number)."""
    assert v.value is not None
    stage = "preliminärt värde" if v.preliminary else "slutligt värde"
    gender = GENDER_WORDS.get(v.gender, v.gender)
    text = (f"Källa: Kolada, {v.kpi}, {municipality_name} ({v.municipality}), {v.period}, {gender}, "
            f"hämtad {_date(v.fetched_at)}, {stage}")
    prov = {"source": "Kolada", "kpi": v.kpi, "municipality": v.municipality,
            "municipality_name": municipality_name, "year": v.period, "gender": v.gender, "value": v.value,
            "status": v.status, "fetched_at": v.fetched_at.isoformat() if v.fetched_at else None,
            "preliminary": v.preliminary, "final": not v.preliminary, "from_cache": v.from_cache}
    return Source(v.value, text, prov)


def file_source(fv: FileValue) -> Source:
    sheet = f", blad {fv.sheet}" if fv.sheet and fv.file_name.casefold().endswith((".xlsx", ".xlsm")) else ""
    text = f"Källa: {fv.file_name}{sheet}, rad {fv.row}"
    prov = {"source": "fil", "file": fv.file, "sheet": fv.sheet, "row": fv.row, "column": fv.column,
            "text": fv.text, "value": fv.value,
            "file_modified": fv.modified.isoformat() if fv.modified else None}
    return Source(fv.value, text, prov)


# ---------------------------------------------------------------- decisions


@dataclass(frozen=True)
class Change:
    """The decision about one Utfall cell (only ``fyll`` and ``uppdatera`` write).

    ``fyll``: an empty cell gets the value; ``uppdatera``: an earlier pulled
    value is replaced (``--overwrite-pulled``); ``behåll_inskrivet``: a typed
    value differs from the source and is kept; ``behåll_hämtat``: the source
    changed since the earlier pull and the cell is kept; ``saknas``: the cell
    is empty and the source has no value.
    """

    file: Path
    sheet: str  # the sheet's name in the file
    row_id: str
    cells: dict[str, str]  # column key -> A1 address
    action: Action
    message: str  # Swedish, for the report
    source: Source | None = None
    old: Any = None  # Utfall as it was

    @property
    def writes(self) -> bool:
        return self.action in WRITE_ACTIONS and self.source is not None

    @property
    def cell(self) -> str | None:
        return self.cells.get("comparison" if self.action == "jämförelsevärde" else "outcome")

    def cell_values(self) -> list[tuple[str, Any]]:
        """What this change writes: (A1 address, value) pairs; the CLI and the ribbon both apply these."""
        if not self.writes:
            return []
        assert self.source is not None
        src = self.source
        if self.action == "jämförelsevärde":
            keyed = [("comparison", src.value), ("comparison_source", src.text)]
        else:
            keyed = [("outcome", src.value), ("fetched_value", src.value), ("outcome_source", src.text),
                     ("provenance", src.provenance_json())]
        return [(self.cells[key], value) for key, value in keyed]

    def problem(self) -> Problem:
        severity: Severity = (
            "info" if self.action in ("fyll", "uppdatera", "saknas", "jämförelsevärde") else "varning")
        return Problem(Code.of(f"pull_{self.action}"), self.message, self.file.name, self.sheet, self.cell, severity)


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _show(v: Any) -> str:
    number = parse_number(v) if v is not None else None
    return format_number(number) if number is not None else repr(str(v))


def decide(book: DepartmentBook, sheet: str, row: BookRow, source: Source, overwrite_pulled: bool) -> Change | None:
    """What to do with one row's Utfall given a source value (None: nothing to do or say)."""
    raw = row.raw.get("outcome")
    outcome = parse_number(raw) if raw is not None else None
    fetched = parse_number(row.raw.get("fetched_value"))

    def change(action: Action, message: str) -> Change:
        return Change(file=book.path, sheet=sheet, row_id=row.row_id, cells=row.cells, action=action,
                      message=message, source=source, old=raw)

    new = format_number(source.value)
    formula = row.formulas.get("outcome")
    if formula is not None:  # typed by a person: never written over
        if _same(outcome, source.value):
            return None
        return change("behåll_inskrivet", f"Utfallet är en formel{f' ({formula})' if formula else ''} som "
                      f"behålls; källan har {new} ({source.text}).")
    if raw is None:
        return change("fyll", f"{new} ({source.text}).")
    if _same(outcome, fetched):
        if _same(outcome, source.value):
            return None
        if overwrite_pulled:
            return change("uppdatera", f"{_show(raw)} → {new} ({source.text}).")
        return change("behåll_hämtat",
                      f"Källan har nu {new} men cellen har det tidigare hämtade {_show(raw)}; "
                      f"kör med --overwrite-pulled för att uppdatera ({source.text}).")
    if _same(outcome, source.value):
        return None
    return change("behåll_inskrivet", f"Inskrivet utfall {_show(raw)} behålls; källan har {new} ({source.text}).")


def _missing(book: DepartmentBook, sheet: str, row: BookRow, message: str) -> Change | None:
    if row.raw.get("outcome") is not None or "outcome" in row.formulas:
        return None
    return Change(book.path, sheet, row.row_id, row.cells, "saknas", message)


def _kolada_missing_text(kpi: str, name: str, year: int, by_key: dict[tuple[str, str, int, str], KoladaValue],
                         municipality: str, gender: str) -> str:
    got = by_key.get((kpi, municipality, year, gender))
    why = f" (Kolada: {got.status})" if got is not None and got.status else ""
    text = f"Inget värde för år {year} i Kolada ({kpi}, {name}){why}; cellen lämnas tom."
    earlier = sorted((v for v in by_key.values() if v.kpi == kpi and v.municipality == municipality
                      and v.gender == gender and v.period < year and v.value is not None and not v.isdeleted),
                     key=lambda v: v.period)
    if earlier:
        last = earlier[-1]
        text += f" Senast publicerat: {last.period} = {format_number(last.value)}."
    return text


def _file_value(file_values: Sequence[FileValue], dep: str, ind: Indicator, series: str | None) -> FileValue | None:
    for fv in file_values:
        if fv.department_id != dep or fv.indicator_id != ind.id:
            continue
        if fv.series is None or (series is not None and fv.series.casefold() == series.casefold()):
            return fv
    return None


def plan_pull(plan: Plan, books: Sequence[DepartmentBook], values: Iterable[KoladaValue],
              file_values: Sequence[FileValue], *, overwrite_pulled: bool = False) -> list[Change]:
    """Every decision about the books' Utfall cells (pure; nothing is written).

    *values* are Kolada values (any units and years; the plan's municipality
    and each book's period year are used); *file_values* come from
    :func:`xlplan.io.filesources.read_file_values` for the books' period.
    """
    by_key = {v.key: v for v in values}
    indicators = {i.id: i for i in plan.indicators}
    s = plan.settings
    changes: list[Change] = []
    for book in books:
        sheet = book.sheets.get(INDICATORS)
        if sheet is None or book.period is None or book.department_id is None:
            continue
        year = parse_period(book.period).year
        for row in sheet.rows.values():
            parts = indicator_of(row.row_id)
            ind = indicators.get(parts[0]) if parts else None
            if ind is None or parts is None or any(k not in row.cells for k in CELL_KEYS):
                continue
            series = parts[1]
            fv = _file_value(file_values, book.department_id, ind, series)
            kpi = ind.kpi_for(series)
            # None: a series on the KPI of gender-named series that names no gender: never the total
            gender = ind.gender_for(series)
            change: Change | None = None
            if fv is not None:
                change = decide(book, sheet.actual_name, row, file_source(fv), overwrite_pulled)
            elif kpi is not None and gender is not None:
                v = by_key.get((kpi, s.municipality_id, year, gender))
                if v is not None and v.value is not None and not v.isdeleted:
                    change = decide(book, sheet.actual_name, row, kolada_source(v, s.municipality), overwrite_pulled)
                else:
                    text = _kolada_missing_text(kpi, s.municipality, year, by_key, s.municipality_id, gender)
                    change = _missing(book, sheet.actual_name, row, text)
            if change is not None:
                changes.append(change)
            if kpi is not None and fv is None:
                previous = comparison_change(book, sheet.actual_name, row, plan, ind, series, kpi, year, by_key)
                if previous is not None:
                    changes.append(previous)
    return changes


def comparison_change(book: DepartmentBook, sheet: str, row: BookRow, plan: Plan, ind: Indicator,
                      series: str | None, kpi: str, year: int,
                      by_key: dict[tuple[str, str, int, str], KoladaValue]) -> Change | None:
    """Kolada's previous-year value into an empty Jämförelsevärde cell of a direction-target row."""
    from xlplan.core.assess import uses_comparison

    if ("comparison" not in row.cells or "comparison_source" not in row.cells or row.raw.get("comparison") is not None
            or "comparison" in row.formulas):
        return None
    goal = plan.goal(ind.goal_id)
    if not uses_comparison(ind.target(year, goal), ind.baseline_values(), series):
        return None
    gender = ind.gender_for(series)
    if gender is None:
        return None
    v = by_key.get((kpi, plan.settings.municipality_id, year - 1, gender))
    if v is None or v.value is None or v.isdeleted:
        return None
    src = kolada_source(v, plan.settings.municipality)
    label = f"Kolada {year - 1}"
    return Change(book.path, sheet, row.row_id, row.cells, "jämförelsevärde",
                  f"Jämförelsevärde {format_number(v.value)} ({label}; {src.text}).", Source(v.value, label, src.provenance))


# ---------------------------------------------------------------- the ledger (Ekonomi sheet)


def ledger_source(outturns: Sequence[LedgerOutturn], dep_id: str, item: str) -> Source:
    """Utfall hittills of one department's budget line from the ledger export(s), with provenance."""
    amount = sum(o.amounts.get((dep_id, item), 0.0) for o in outturns)
    rows = sum(o.row_counts.get((dep_id, item), 0) for o in outturns)
    files = ", ".join(o.file.name for o in outturns)
    period = outturns[0].period
    text = f"Källa: {files}, huvudbok t.o.m. månad {period.end_month} {period.year}, {rows} rader"
    prov = {"source": "huvudbok", "files": [str(o.file.name) for o in outturns], "department": dep_id,
            "item": item, "year": period.year, "to_month": period.end_month, "rows": rows, "value": amount,
            "file_modified": [dt.datetime.fromtimestamp(o.file.stat().st_mtime, dt.UTC).replace(microsecond=0)
                              .isoformat() for o in outturns]}
    return Source(round(amount, 1), text, prov)


def economy_row_view(row: BookRow) -> BookRow:
    """An Ekonomi row seen as an outcome row (Utfall hittills as ``outcome``), so :func:`decide`'s rule
    for what a person typed is the one rule for both sheets."""
    from dataclasses import replace

    def renamed(d: dict[str, Any]) -> dict[str, Any]:
        out = {k: v for k, v in d.items() if k != "outcome"}
        if "actual" in d:
            out["outcome"] = d["actual"]
        return out

    return replace(row, values=renamed(row.values), raw=renamed(row.raw), cells=renamed(row.cells),
                   formulas=renamed(row.formulas))


def ledger_pull(plan: Plan, books: Sequence[DepartmentBook], folder: Path, period: Period,
                problems: list[Problem], overwrite_pulled: bool = False) -> list[Change]:
    """Decisions for the Ekonomi sheets' Utfall hittills from the plan's ledger export (nothing written).

    Every budget line that the plan's Kontoplan maps gets the ledger's sum for the department (0 when the
    export has no rows for it); rows of the export that map to nothing are reported with their sum.
    """
    files = ledger_files(plan, folder, period)
    ledger = plan.settings.ledger
    if not files:
        assert ledger is not None
        problems.append(Problem(Code.HUVUDBOK_SAKNAS, f"Ingen huvudboksexport hittades för {period.label} "
                                f"('{ledger.file}' i {folder}); Utfall hittills på bladet Ekonomi hämtades inte.",
                                severity="info"))
        return []
    outturns = []
    for path in files:
        try:
            outturns.append(read_ledger(path, plan, period))
        except WorkbookRefused as exc:
            problems.append(Problem(Code.HUVUDBOK_OLASLIG, f"Huvudboksexporten kan inte läsas: {exc.reason}", path.name,
                                    action="inga ekonomiska utfall hämtades ur filen"))
    if not outturns:
        return []
    for o in outturns:
        problems.extend(o.problems())
    mapped = {a.item.casefold() for a in plan.accounts}
    changes: list[Change] = []
    for book in books:
        sheet = book.sheets.get(ECONOMY)
        if sheet is None or book.department_id is None:
            continue
        if any(k not in sheet.columns for k in ("actual", "outcome_source", "fetched_value", "provenance")):
            problems.append(Problem(Code.EKONOMIKOLUMNER_SAKNAS, "Kolumnerna Utfallets källa, Hämtat värde och Proveniens "
                                    "saknas på bladet Ekonomi. Fyll filen på nytt med xlplan fill --update.",
                                    book.path.name, ECONOMY, severity="varning", action="ekonomin hämtades inte"))
            continue
        for line in plan.budget_for(book.department_id, period.year):
            row = sheet.rows.get(make_row_id(ECONOMY_ROW, line.item))
            if row is None or line.item.casefold() not in mapped:
                continue
            change = decide(book, sheet.actual_name, economy_row_view(row),
                            ledger_source(outturns, book.department_id, line.item), overwrite_pulled)
            if change is not None:
                changes.append(change)
    return changes


# ---------------------------------------------------------------- applying


def apply_pull(changes: Sequence[Change], problems: list[Problem] | None = None,
               stamps: dict[Path, tuple[int, int]] | None = None) -> list[Path]:
    """Write the changes that write, one atomic save per workbook; return the files written.

    With *problems*, a workbook that cannot be written (or, with *stamps*
    ``path -> (mtime_ns, size)`` from when it was read, has changed since) is
    noted there and skipped; without, the error is raised.
    """
    by_file: dict[Path, list[Change]] = defaultdict(list)
    for ch in changes:
        if ch.writes:
            by_file[ch.file].append(ch)
    written = []
    for path, items in by_file.items():
        try:
            if stamps is not None and path in stamps and _stamp(path) != stamps[path]:
                raise WorkbookRefused(path.name, "filen ändrades medan värdena hämtades; kör xlplan pull igen.")
            write_book(path, items)
        except (OSError, WorkbookUnreadable, WorkbookRefused) as exc:
            if problems is None:
                raise
            reason = exc.reason if isinstance(exc, (WorkbookUnreadable, WorkbookRefused)) else str(exc)
            problems.append(Problem(Code.SKRIVFEL, f"Filen skrevs inte: {reason}", path.name,
                                    action="filen lämnades orörd"))
            continue
        written.append(path)
    return written


def _stamp(path: Path) -> tuple[int, int]:
    st = path.stat()
    return st.st_mtime_ns, st.st_size


def write_book(path: Path, changes: Sequence[Change]) -> None:
    try:
        wb = load_for_edit(path)
    except Exception as exc:  # openpyxl raises many types for broken files
        raise WorkbookUnreadable(str(path), f"kan inte öppnas för skrivning ({exc})") from exc
    for ch in changes:
        ws = wb[ch.sheet]
        for address, value in ch.cell_values():
            ws[address].value = value
    wb.calculation.fullCalcOnLoad = True
    save_edited(wb, path)


# ---------------------------------------------------------------- the whole command


@dataclass
class PullResult:
    changes: list[Change] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    books: list[Path] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    comparisons_path: Path | None = None
    request_count: int = 0
    kolada_values: int = 0
    offline: bool = False
    dry_run: bool = False

    def count(self, action: str) -> int:
        return sum(1 for c in self.changes if c.action == action)

    def lines(self) -> list[str]:
        """The report, in Swedish, one line each."""
        out = [self._kolada_line()]
        for path in self.books:
            mine = [c for c in self.changes if c.file == path]
            n_fill = sum(1 for c in mine if c.action == "fyll")
            n_upd = sum(1 for c in mine if c.action == "uppdatera")
            new = f"{n_fill} nytt utfall" if n_fill == 1 else f"{n_fill} nya utfall"
            upd = f"{n_upd} uppdaterat" if n_upd == 1 else f"{n_upd} uppdaterade"
            verb = " (torrkörning, inget skrevs)" if self.dry_run else ""
            out.append(f"{path.name}: {new}, {upd}{verb}.")
            out += [f"  {_where(c)}: {c.message}" for c in mine]
        out += [f"Kolada har ändrat ett värde sedan förra hämtningen: {r}" for r in self.revisions]
        out += [f"{p}" for p in self.problems]
        if self.comparisons_path is not None:
            out.append(f"Jämförelser ({len(self.comparisons)} rader): {self.comparisons_path}")
        return out

    def _kolada_line(self) -> str:
        if self.offline:
            return (f"Offline: {self.kolada_values} värden ur cachen (inga anrop till Kolada).")
        return f"Kolada: {self.kolada_values} värden i {self.request_count} anrop."


def _where(c: Change) -> str:
    """The cell as the report names it: Ekonomi cells with their sheet and post (``Ekonomi!D7 (Lokalhyror)``)."""
    if c.row_id.startswith(ECONOMY_ROW + "|"):
        return f"{c.sheet}!{c.cell} ({key_of(c.row_id)})"
    return str(c.cell)


def workbook_paths(target: Path) -> list[Path]:
    """The workbooks to pull into: the file itself, or the folder's .xlsx/.xlsm files."""
    if target.is_file():
        return [target]
    if not target.is_dir():
        raise BadInput(f"{target} finns inte. Ange en avdelningsfil eller en mapp med avdelningsfiler.")
    return sorted(p for p in target.iterdir() if p.is_file() and p.suffix.casefold() in BOOK_SUFFIXES
                  and not p.name.startswith(("~$", ".~")))


def _is_open(path: Path) -> bool:
    return path.with_name("~$" + path.name).exists()


def load_books(paths: Sequence[Path], problems: list[Problem]) -> list[DepartmentBook]:
    """Read every department workbook; other files are skipped and noted (a single file raises)."""
    books = []
    for path in paths:
        try:
            book = read_department_workbook(path)
        except WorkbookUnreadable as exc:  # truncated or damaged: an error, named, never skipped silently
            if len(paths) == 1:
                raise
            problems.append(file_problem(path, exc))
            continue
        except RowsSorted as exc:  # a department file whose inputs no longer sit on their rows: an error
            if len(paths) == 1:
                raise
            problems.append(Problem(Code.RADER_SORTERADE, exc.reason, path.name, action="filen hoppades över"))
            continue
        except WorkbookRefused as exc:  # a workbook that is not a department file (the plan, an export …)
            if len(paths) == 1:
                raise
            problems.append(Problem(Code.HOPPADES_OVER, str(exc), path.name, severity="info",
                                    action="filen hoppades över"))
            continue
        if book.department_id is None or book.period is None:
            problems.append(Problem(Code.HOPPADES_OVER, "Filen är ingen avdelningsfil (avdelning eller period saknas "
                                    "i _xlplan).", path.name, severity="info", action="filen hoppades över"))
            continue
        books.append(book)
    return books


def _has_pull_columns(book: DepartmentBook) -> bool:
    sheet = book.sheets.get(INDICATORS)
    return sheet is not None and all(k in sheet.columns for k in CELL_KEYS)


def usable_books(books: Sequence[DepartmentBook], plan_id: str, problems: list[Problem],
                 department_ids: Iterable[str] | None = None) -> list[DepartmentBook]:
    """The books of this plan (and, given *department_ids*, of a department still in it) that can be
    written: not open in Excel, not read-only."""
    known = set(department_ids) if department_ids is not None else None
    out = []
    for book in books:
        if book.plan_id != plan_id:
            problems.append(Problem(Code.ANNAN_PLAN, f"Filen hör till planen '{book.plan_id}', inte '{plan_id}'.",
                                    book.path.name, action="filen hoppades över"))
        elif known is not None and book.department_id not in known:
            problems.append(Problem(Code.OKAND_AVDELNING, f"Avdelningen '{book.department_id}' finns inte längre i "
                                    f"planen '{plan_id}'; inga värden hämtades till filen.", book.path.name,
                                    action="filen hoppades över"))
        elif not _has_pull_columns(book):
            problems.append(Problem(Code.HAMTKOLUMNER_SAKNAS, "Kolumnerna Utfallets källa, Hämtat värde och Proveniens "
                                    "saknas på bladet Mål och indikatorer. Fyll filen på nytt med xlplan fill "
                                    "--update.", book.path.name, INDICATORS, action="filen hoppades över"))
        elif (book.submission or "").strip() == APPROVED:
            problems.append(Problem(Code.GODKAND, "Filen är godkänd och låst; den ändras inte förrän controllern "
                                    "skickar tillbaka den.", book.path.name, action="filen hoppades över"))
        elif _is_open(book.path):
            problems.append(Problem(Code.FIL_OPPEN, "Filen är öppen i Excel (låsfil ~$ finns). Stäng den och kör "
                                    "igen.", book.path.name, action="filen hoppades över"))
        else:
            try:
                check_writable(book.path)
            except WorkbookRefused as exc:
                problems.append(file_problem(book.path, exc))
                continue
            out.append(book)
    return out


def find_plan(folder: Path, plan_id: str | None) -> Path:
    """The plan workbook for *plan_id*: in the folder or its parent (raise BadInput if not exactly one)."""
    candidates = find_plans(folder, plan_id)
    if len(candidates) != 1:
        found = ", ".join(c.name for c in candidates) or "ingen"
        raise BadInput(f"Ange planen med --plan PLAN.xlsx (hittade {found} för planen '{plan_id}' i {folder} "
                       "och mappen ovanför).")
    return candidates[0]


def fetch_years(plan: Plan, periods: Iterable[Period]) -> list[int]:
    """Years to fetch: followed up, the two years before each period's year, and baseline years."""
    years: set[int] = set()
    for p in periods:
        years.update(comparison_years(plan, p))
        years.update((p.year - 1, p.year - 2))
    years.update(i.baseline_year for i in plan.indicators if i.kolada and i.baseline_year is not None)
    return sorted(y for y in years if 1900 <= y <= 2200)


def make_client(plan: Plan, kolada_url: str | None, offline: bool, cache_dir: Path | None,
                fresh: float = 0.0) -> KoladaClient:
    """Base URL: *kolada_url* > ``$XLPLAN_KOLADA_URL`` > the plan's Kolada-adress > the default.
    *fresh*: seconds within which a cached answer is reused without asking Kolada (0: always ask)."""
    url = kolada_url or os.environ.get("XLPLAN_KOLADA_URL") or plan.settings.kolada_url
    return KoladaClient(base_url=url, cache=KoladaCache(cache_dir), offline=offline, fresh=fresh)


def pull(target: str | Path, plan_path: str | Path | None = None, *, kolada_url: str | None = None,
         offline: bool = False, overwrite_pulled: bool = False, cache_dir: str | Path | None = None,
         dry_run: bool = False, client: KoladaClient | None = None) -> PullResult:
    """Pull outcome values into one department workbook or every one in a folder.

    When Kolada fails only its rows wait (a warning); local export rows still fill.  Raises BadInput /
    WorkbookRefused for a wrong target or plan.  *client* is the test seam.
    """
    target = Path(target)
    paths = workbook_paths(target)
    folder = target if target.is_dir() else target.parent
    result = PullResult(offline=offline if client is None else client.offline, dry_run=dry_run)
    found = load_books(paths, result.problems)
    chosen = _choose_plan(found, folder, plan_path)
    if chosen is None:
        plan_file = Path(plan_path) if plan_path else find_plan(folder, None)
        plan, plan_folder = read_plan(plan_file), plan_file.parent
    else:  # the plan beside the files when it is as new as the one inside them (xlplan.books.department.embedded)
        first, choice = chosen
        if choice.embedded and len(found) > 1:  # each file carries only its own department's plan
            return merged([pull(b.path, plan_path, kolada_url=kolada_url, offline=offline,
                                overwrite_pulled=overwrite_pulled, cache_dir=cache_dir, dry_run=dry_run,
                                client=client) for b in found], result)
        plan, plan_folder = choice.plan, choice.folder or folder
        result.problems.append(Problem(Code.PLAN, choice.note, first.path.name, severity="info"))
    books = usable_books(found, plan.id, result.problems, [d.id for d in plan.departments])
    stamps = {b.path: _stamp(b.path) for b in books}
    result.books = [b.path for b in books]
    if not books:
        result.problems.append(Problem(Code.INGA_FILER, f"Inga avdelningsfiler för planen '{plan.id}' i {target}.",
                                       str(target), severity="varning"))
        return result
    own = client is None
    client = client or make_client(plan, kolada_url, offline, Path(cache_dir) if cache_dir else None)
    try:
        periods, comparisons = decide_pull(plan, books, plan_folder, client, result, overwrite_pulled)
    finally:
        if own:
            client.close()
    result.comparisons = comparisons
    if not dry_run:
        result.written = apply_pull(result.changes, result.problems, stamps)
        if comparisons:
            result.comparisons_path = save_comparisons(folder / COMPARISONS_FILE, comparisons, plan, periods[-1])
    return result


def _choose_plan(found: Sequence[DepartmentBook], folder: Path,
                 plan_path: str | Path | None) -> tuple[DepartmentBook, Any] | None:
    """The plan for the files of *found*, chosen by the first file it can be chosen for (a file of a
    department no longer in the plan is left to :func:`usable_books` to name); None when no file has a
    plan id.  When no file can be given a plan, the first file's reason is raised."""
    first_error: XlplanError | None = None
    for book in (b for b in found if b.plan_id):
        try:
            return book, choose_plan(book.path, book.plan_id or "", book.department_id or "", folder,
                                     Path(plan_path) if plan_path else None)
        except XlplanError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    return None


def merged(results: Sequence[PullResult], into: PullResult) -> PullResult:
    """The results of pulling file by file, as one."""
    for r in results:
        for name in ("changes", "problems", "revisions", "written", "books", "comparisons"):
            getattr(into, name).extend(getattr(r, name))
        into.request_count += r.request_count
        into.kolada_values += r.kolada_values
        into.comparisons_path = r.comparisons_path or into.comparisons_path
    return into


def decide_pull(plan: Plan, books: Sequence[DepartmentBook], plan_folder: Path | None, client: KoladaClient,
           result: PullResult, overwrite_pulled: bool = False) -> tuple[list[Period], list[Comparison]]:
    """Every pull decision for *books* into ``result.changes`` (nothing is written): the one path for
    ``xlplan pull`` and the ribbon's *Hämta värden*.  When Kolada cannot be reached only the Kolada rows
    wait (a ``kolada_otillganglig`` warning); values from local exports in *plan_folder* still fill."""
    periods = sorted({parse_period(b.period or "") for b in books})
    try:
        with client.within_deadline():
            values, comparisons = _kolada(plan, periods, client, result)
        down = False
    except KoladaUnavailable as exc:
        values, comparisons, down = [], [], True
        result.problems.append(Problem(KOLADA_DOWN, f"{exc} Raderna med Kolada som källa hämtades inte; försök "
                                       "igen senare. Värden ur lokala exporter fylldes.", severity="varning"))
    result.problems += [Problem(Code.KOLADA_VARNING, w, severity="varning") for w in client.warnings]
    for period in periods:
        group = [b for b in books if b.period and parse_period(b.period) == period]
        file_values, problems = ([], []) if plan_folder is None else read_file_values(
            plan, plan_folder, [b.department_id or "" for b in group], period)
        result.problems += problems
        changes = plan_pull(plan, group, values, file_values, overwrite_pulled=overwrite_pulled)
        if plan.hr_sources and plan_folder is not None:  # personnel key figures from the HR export
            from xlplan.io.hrexport import plan_personnel_pull, read_hr_values

            hr_values, hr_problems = read_hr_values(plan, plan_folder, period)
            hr_changes, hr_book_problems = plan_personnel_pull(plan, group, hr_values,
                                                               overwrite_pulled=overwrite_pulled)
            result.problems += hr_problems + hr_book_problems
            changes += hr_changes
        if plan_folder is not None and plan.settings.ledger is not None:
            changes += ledger_pull(plan, group, plan_folder, period, result.problems, overwrite_pulled)
        if down:  # no answer from Kolada is not "no value in Kolada"
            changes = [c for c in changes if c.action != "saknas"]
        result.changes += changes
    result.comparisons = comparisons
    return periods, comparisons


def _kolada(plan: Plan, periods: Sequence[Period], client: KoladaClient,
            result: PullResult) -> tuple[list[KoladaValue], list[Comparison]]:
    kpis = list(dict.fromkeys(kpi for _, kpi in comparison_kpis(plan, periods)))
    if not kpis:
        return [], []
    s = plan.settings
    try:
        group, problem = resolve_group(s.similar_group, s.municipality, client.municipality_groups)
    except KoladaUnavailable as exc:  # without the group the comparison lacks one column, nothing more
        group, problem = None, Problem(Code.GRUPP_OKAND, str(exc), sheet="Inställningar", cell="Liknande kommuner",
                                       severity="varning")
    if problem is not None:
        result.problems.append(problem)
    units: list[Unit] = units_for(plan, group)
    fetched = client.fetch(kpis, [u.id for u in units], fetch_years(plan, periods))
    result.request_count = client.request_count
    result.kolada_values = len(fetched.values)
    result.revisions = [r for r in fetched.revisions if r.municipality == s.municipality_id]
    comparisons: list[Comparison] = []
    for period in periods:
        comparisons += build_comparisons(plan, period, fetched.values, fetched.metadata, units)
    return fetched.values, _unique(comparisons)


def _unique(rows: list[Comparison]) -> list[Comparison]:
    seen: dict[tuple[str, str, int, str], Comparison] = {}
    for c in rows:
        seen.setdefault((c.kolada_id, c.municipality_id, c.year, c.gender), c)
    return list(seen.values())


# ---------------------------------------------------------------- the demo step


def demo_plan_copy(plan_id: str, out: Path) -> Path | None:
    """Write the demo's copy of a bundled example plan, with the Filkällor rows and settings of
    ``templates/exporter/demo_plan_additions.json``, and copy the made-up exports beside it."""
    import shutil

    from xlplan.books.plan import load_tables_json, write_plan_tables
    from xlplan.examples import templates_dir

    source = templates_dir() / "src" / f"{plan_id}.json"
    exports = templates_dir() / "exporter"
    if not source.exists():
        return None
    tables = load_tables_json(source)
    additions = json.loads((exports / "demo_plan_additions.json").read_text(encoding="utf-8")).get(plan_id, {})
    for sheet, rows in additions.items():
        if sheet == "Avdelningar":  # more columns (Ansvar) for the plan's own departments, by id
            extra = {r["Avdelnings-id"]: r for r in rows}
            tables[sheet] = [{**r, **extra.get(r["Avdelnings-id"], {})} for r in tables.get(sheet, [])]
            continue
        tables[sheet] = list(tables.get(sheet, [])) + list(rows)
    folder = out / "planer"
    (folder / "exporter").mkdir(parents=True, exist_ok=True)
    for csv_file in exports.glob("demo_*.csv"):
        shutil.copy2(csv_file, folder / "exporter" / csv_file.name)
    path = folder / f"{plan_id}.xlsx"
    write_plan_tables(tables, path)
    from xlplan.actions.fill import demo_period
    from xlplan.example_values import write_example_ledger

    plan = read_plan(path)
    if plan.settings.ledger is not None:  # a made-up ledger export for the demo's period (marked as such)
        period = demo_period(plan)
        write_example_ledger(folder / plan.settings.ledger.file.replace("{år}", str(period.year)).replace("*", ""),
                             plan, period)
    return path


def demo_step(out: Path, echo: Any = print) -> list[PullResult]:
    """``xlplan demo``: pull into ``out/avdelningar/`` (or each sub-folder) from the local Kolada
    stand-in (sample data, offline) and the made-up demo exports; nothing when there are no files."""
    from xlplan.kolada import KoladaStandin

    source = Path(out) / "avdelningar"
    folders = [source] + sorted(p for p in source.iterdir() if p.is_dir()) if source.is_dir() else []
    results = []
    with KoladaStandin() as srv:
        for folder in folders:
            found = load_books(workbook_paths(folder), [])
            plan_path = demo_plan_copy(found[0].plan_id or "", Path(out)) if found else None
            if plan_path is None:
                continue
            with KoladaClient(base_url=srv.url, cache=KoladaCache(Path(out) / "kolada-cache")) as client:
                result = pull(folder, plan_path, client=client)
            echo(f"Hämtning till {folder} (Kolada-ersättare med exempeldata på {srv.url}):")
            echo("\n".join(result.lines()))
            results.append(result)
    return results
