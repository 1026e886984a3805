"""``xlplan fill``: one follow-up workbook per department, new or refilled.

Plan, then apply: :func:`plan_fill` works out every file's description and
what changes (reading existing files, refusing foreign ones) without writing;
:func:`apply_fill` writes them, atomically, each replaced file kept in the hidden
backup folder ``.xlplan-backup/``. :func:`fill` does both. A department's existing
file is found by its hidden metadata, so a renamed department or a file saved as
.xlsx is refilled in place; one file that cannot be refilled never stops the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from xlplan.actions.workflow import carry_history, lock_if_approved
from xlplan.books.department.columns import (
    ADDED_COLUMNS,
    COLUMNS,
    HEADER_ROW,
    INDICATORS,
    META,
    NOTES,
    REMOVED,
    fixed_text,
    notes_columns,
)
from xlplan.books.department.layout import PreviousOutcomes, department_workbook, notes_sheet, removed_sheet
from xlplan.books.department.reader import (
    BookSheet,
    DepartmentBook,
    check_not_sorted,
    context_row_inputs,
    plan_checksums,
    read_department_workbook,
)
from xlplan.books.plan import read_plan
from xlplan.books.spec import ROW_ID_KEY, Formula, RowSpec, SheetSpec, WorkbookSpec
from xlplan.core.assess import COMPARISON_TYPED
from xlplan.core.cells import A1, column_letter, column_number
from xlplan.core.codes import Code
from xlplan.core.errors import (
    BadInput,
    Problem,
    WorkbookRefused,
    WorkbookUnreadable,
    XlplanError,
    blocking,
    file_problem,
)
from xlplan.core.model import Department, Plan
from xlplan.core.naming import department_file
from xlplan.core.numbers import format_number
from xlplan.core.periods import Period, parse_period
from xlplan.core.rowids import DATA_PREFIXES, indicator_of, key_of
from xlplan.io.atomic import BACKUP_DIR, atomic_path, check_writable, move_to_backup
from xlplan.io.backends.openpyxl_backend import write_workbook
from xlplan.io.storedvalues import store_formula_values
from xlplan.io.tables import norm_header, open_workbook, read_sheet_rows
from xlplan.xlsm.vbaproject import VbaModule

Format = Literal["xlsx", "xlsm"]


@dataclass(frozen=True)
class RowChange:
    sheet: str
    row_id: str
    kind: Literal["tillagd", "borttagen", "ändrad"]
    text: str  # what the row is, for people
    details: tuple[str, ...] = ()


@dataclass
class FileReport:
    path: Path
    department: str
    created: bool
    changes: list[RowChange] = field(default_factory=list)
    kept_inputs: int = 0
    moved_inputs: int = 0
    previous: Path | None = None  # the earlier file (previous period, else last year's helår) compared with
    replaced: Path | None = None  # the department's file under another name or format, now in the backup folder
    notes: list[str] = field(default_factory=list)  # 'Blad!A1' of text found outside the tables, now on Anteckningar
    vba_kept: list[str] = field(default_factory=list)  # the department's own VBA modules, carried into the new file
    vba_lost: list[str] = field(default_factory=list)  # own VBA code that could not be carried (why, in words)

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def lines(self) -> list[str]:
        compared = ([f"  Öka/Minska jämförs med {self.previous.name} (kolumnen Jämförelsevärde)"]
                    if self.previous else [])
        if self.created:
            return [f"{self.department}: {self.path.name} (ny)"] + compared
        added, removed, changed = self.count("tillagd"), self.count("borttagen"), self.count("ändrad")
        head = (f"{self.department}: {self.path.name} (uppdaterad): "
                f"{_n(added, 'rad tillagd', 'rader tillagda')}, {_n(removed, 'borttagen', 'borttagna')}, "
                f"{_n(changed, 'ändrad', 'ändrade')}; {_n(self.kept_inputs, 'inmatat värde behållet', 'inmatade värden behållna')}")
        if self.moved_inputs:
            head += f", {self.moved_inputs} flyttade till bladet '{REMOVED}'"
        marks = {"tillagd": "+", "borttagen": "-", "ändrad": "~"}
        out = [head] + compared
        if self.replaced is not None:
            out.append(f"  Ersätter {self.replaced.name} (avdelningens fil med annat namn eller format); den "
                       f"flyttades till mappen {BACKUP_DIR}")
        if self.notes:
            shown = ", ".join(self.notes[:5]) + (" …" if len(self.notes) > 5 else "")
            out.append(f"  {_n(len(self.notes), 'cell', 'celler')} utanför tabellerna flyttades till bladet "
                       f"'{NOTES}': {shown}")
        if self.vba_kept:
            out.append(f"  Avdelningens egna VBA-moduler behölls: {', '.join(self.vba_kept)}")
        if self.vba_lost:
            out.append(f"  VBA-kod som inte kom med i den nya filen: {'; '.join(self.vba_lost)}. Den tidigare filen "
                       f"finns kvar i mappen {BACKUP_DIR}; kopiera koden därifrån i VBA-redigeraren.")
        for c in self.changes:
            extra = ("; " + "; ".join(c.details)) if c.details else ""
            out.append(f"  {marks[c.kind]} {c.sheet}: {c.text}{extra}")
        return out


def _n(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


@dataclass
class FillJob:
    department: Department
    target: Path
    spec: WorkbookSpec
    report: FileReport
    fmt: Format
    replaces: Path | None = None  # the department's existing file when its name or format differs from target
    own_modules: list[VbaModule] = field(default_factory=list)  # the department's own VBA modules, kept


@dataclass
class FillResult:
    written: list[Path]
    reports: list[FileReport]  # of the files written
    problems: list[Problem] = field(default_factory=list)  # departments whose file was not written, and why

    def lines(self) -> list[str]:
        out = [line for r in self.reports for line in r.lines()]
        return out + [f"Skrevs inte: {p}" if p.severity == "fel" else str(p) for p in self.problems]


# ---------------------------------------------------------------- names

def workbook_name(plan: Plan, department: Department, period: Period, fmt: Format = "xlsx") -> str:
    """``Alingsås_Vård-_och_omsorgsnämnden_Äldreomsorg_2024-delår.xlsx`` (the scheme of :mod:`xlplan.core.naming`)"""
    return department_file(plan, department, period, fmt)


# ---------------------------------------------------------------- plan

def choose_departments(plan: Plan, departments: list[str] | None) -> list[Department]:
    if not departments:
        return list(plan.departments)
    chosen, unknown = [], []
    for dep_id in departments:
        d = plan.department(dep_id)
        if d:
            chosen.append(d)
        else:
            unknown.append(dep_id)
    if unknown:
        known = ", ".join(d.id for d in plan.departments)
        raise BadInput(f"Avdelningen {', '.join(unknown)} finns inte i planen. Avdelningar: {known}.")
    return chosen


def check_period(plan: Plan, period: Period) -> None:
    s = plan.settings
    if period.kind not in s.periods:
        raise BadInput(f"Planen följs inte upp vid {period.kind} (rapporteringsperioder: {', '.join(s.periods)}).")
    if not s.year <= period.year <= s.end_year:
        span = str(s.year) if s.year == s.end_year else f"{s.year}–{s.end_year}"
        raise BadInput(f"Perioden {period} ligger utanför planens år ({span}).")


def plan_fill(plan: Plan, period: Period, departments: list[str] | None, out_dir: Path,
              update: bool = False, fmt: Format = "xlsx", generated_at: str | None = None,
              problems: list[Problem] | None = None) -> list[FillJob]:
    """Work out every file to write, without writing.

    A department's existing file is found by its hidden metadata (plan, department, period),
    whatever its name or format. Without *problems*, the first refused file raises before
    anything is written; with it, each refused department is noted there and the rest planned.
    """
    check_period(plan, period)
    stamp = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    existing, unreadable = department_files(Path(out_dir), plan, period)
    if update and problems is not None:
        problems += unreadable
        known = {d.id for d in plan.departments}
        problems += [Problem(Code.AVDELNING_BORTTAGEN, f"Avdelningen '{dep_id}' finns inte längre i planen; filen "
                             "lämnades orörd (flytta den ur mappen när dess värden inte behövs).", p.name,
                             severity="varning", action="filen lämnades orörd")
                     for dep_id, paths in existing.items() if dep_id not in known for p in paths]
    jobs = []
    for dep in choose_departments(plan, departments):
        target = Path(out_dir) / workbook_name(plan, dep, period, fmt)
        try:
            jobs.append(plan_one(plan, period, dep, target, existing.get(dep.id, []), update, fmt, stamp))
        except (XlplanError, OSError) as exc:
            if problems is None:
                raise
            where = getattr(exc, "path", None) or getattr(exc, "filename", None) or target
            problems.append(file_problem(where, exc, action="filen skrevs inte"))
    return jobs


def department_files(out_dir: Path, plan: Plan, period: Period) -> tuple[dict[str, list[Path]], list[Problem]]:
    """This plan's and period's department files in *out_dir*, by department id (found by their
    hidden metadata, not their names), and a problem for each workbook that cannot be read."""
    from xlplan.actions.flag import scan_department_workbooks

    if not out_dir.is_dir():
        return {}, []
    metas, problems = scan_department_workbooks(out_dir)
    found: dict[str, list[Path]] = {}
    for path, meta in metas.items():
        if meta.get("plan_id") == plan.id and meta.get("period") == str(period) and meta.get("department_id"):
            found.setdefault(meta["department_id"], []).append(path)
    unreadable = [replace(p, severity="varning", action="filen lämnades orörd; är det en avdelningsfil fylls den "
                          "inte på") for p in problems if p.severity == "fel"]
    return found, unreadable


def plan_one(plan: Plan, period: Period, dep: Department, target: Path, found: list[Path], update: bool,
             fmt: Format, stamp: str) -> FillJob:
    """The job for one department: a new file, or its existing file refilled (raise if refused)."""
    if len(found) > 1:
        names = " och ".join(p.name for p in found)
        raise WorkbookRefused(str(found[0]), f"två filer gäller {dep.name} ({dep.id}) {period}: {names}. Ingen av "
                              "dem fylldes på. Flytta bort den som inte gäller (jämför dem i Excel) och kör igen.")
    old_path = found[0] if found else (target if target.exists() else None)
    if old_path is not None and old_path != target and target.exists():
        raise WorkbookRefused(str(target), f"filnamnet är upptaget av en fil som inte är {dep.name}s fil för "
                              f"{period} (avdelningens fil är {old_path.name}). Flytta bort {target.name} och kör igen.")
    before, before_path = previous_outcomes(plan, dep, period, target.parent)
    spec = department_workbook(plan, dep, period, stamp, previous=before)
    report = FileReport(target, dep.name, created=old_path is None, previous=before_path)
    replaces = None
    if old_path is not None:
        if not update:
            raise WorkbookRefused(str(old_path), "finns redan. Kör igen med --update för att föra in planens "
                                  "ändringar och behålla det som fyllts i.")
        old = read_department_workbook(old_path)
        check_identity(old, plan, dep, period)
        if not old.sort_checked:  # an old file without row checksums or a plan inside: the plan's texts tell
            check_not_sorted(old.sheets, plan_checksums(plan, dep.id, str(period)), old.path)
        check_readable_inputs(old)
        check_writable(old_path)
        check_writable(target)
        merge_inputs(spec, old, report, stamp[:10])
        carry_notes(spec, old, report, stamp[:10])
        carry_history(spec, old)  # the recorded Inlämningsstatus changes (xlplan.actions.workflow)
        if old_path != target:
            replaces = report.replaced = old_path
        own = own_modules(old_path, fmt, report)
        return FillJob(dep, target, spec, report, fmt, replaces, own)
    return FillJob(dep, target, spec, report, fmt, replaces)


def own_modules(old: Path, fmt: Format, report: FileReport) -> list[VbaModule]:
    """The VBA modules of *old* that xlplan did not write (kept when the new file is an .xlsm); what
    cannot be kept (code in a sheet's or the workbook's module, or a new .xlsx) is named in *report*."""
    from xlplan.xlsm.reading import has_code, vba_modules
    from xlplan.xlsm.sources import default_modules

    if old.suffix.casefold() != ".xlsm":
        return []
    try:
        modules = vba_modules(old)
    except ValueError as exc:
        report.vba_lost.append(str(exc))
        return []
    ours = {m.name.casefold() for m in default_modules()}
    kept = []
    for m in modules:
        if m.name.casefold() in ours or not has_code(m):
            continue
        if m.kind == "document":
            report.vba_lost.append(f"{m.name} (kod i ett blads eller arbetsbokens modul)")
        elif fmt != "xlsm":
            report.vba_lost.append(f"{m.name} (den nya filen är en .xlsx)")
        else:
            kept.append(m)
    report.vba_kept = [m.name for m in kept]
    return kept


def previous_outcomes(plan: Plan, dep: Department, period: Period,
                      out_dir: Path) -> tuple[PreviousOutcomes, Path | None]:
    """Comparison values from earlier files of the department in *out_dir*, with their sources.

    Per row: the outcome of the previous period's file ("Utfall K1 2024
    (avdelningsfil)"), else of last year's helår file ("Utfall helår 2023
    (avdelningsfil)").  The path is the first file that gave a value.
    """
    earlier = [p for p in (period.previous(plan.settings.periods), Period(period.year - 1, "helår")) if p]
    out: PreviousOutcomes = {}
    first: Path | None = None
    for before in dict.fromkeys(earlier):
        found = _earlier_book(plan, dep, before, out_dir)
        if found is None:
            continue
        book, path = found
        values = outcomes_of(book, f"Utfall {before.label.replace('kvartal 1', 'K1')} (avdelningsfil)")
        for key, value in values.items():
            out.setdefault(key, value)
        first = first or (path if values else None)
    return out, first


def _earlier_book(plan: Plan, dep: Department, before: Period, out_dir: Path) -> tuple[DepartmentBook, Path] | None:
    """The department's file for an earlier period in *out_dir* (last year's may come from last year's plan)."""
    for fmt in ("xlsx", "xlsm"):
        path = out_dir / workbook_name(plan, dep, before, fmt)
        if not path.exists():
            continue
        try:
            book = read_department_workbook(path)
        except (WorkbookRefused, WorkbookUnreadable):
            return None
        same_plan = book.plan_id == plan.id or before.year < plan.settings.year
        if not same_plan or book.department_id != dep.id or book.period != str(before):
            return None
        return book, path
    return None


def outcomes_of(book: DepartmentBook, source: str) -> PreviousOutcomes:
    out: PreviousOutcomes = {}
    sheet = book.sheets.get(INDICATORS)
    for row_id, row in (sheet.rows.items() if sheet else ()):
        value = row.values.get("outcome")
        ind = indicator_of(row_id)
        if ind is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[ind] = (float(value), source)
    return out


def check_readable_inputs(old: DepartmentBook) -> None:
    """Refuse to refill a file whose inputs cannot all be found (they would be lost)."""
    lost = []
    for p in old.problems:
        if p.code is Code.RUBRIKRAD_SAKNAS:
            lost.append(str(p))
        elif p.code in (Code.KOLUMN_SAKNAS, Code.KOLUMN_NY_SAKNAS) and p.sheet in COLUMNS:
            added = ADDED_COLUMNS.get(p.sheet, ())
            header = next((c.header for c in COLUMNS[p.sheet]() if c.preserved and c.key not in added
                           and f"'{c.header}'" in p.message), None)
            if header:
                lost.append(str(p))
    if lost:
        lines = "\n".join(f"  - {m.replace(REFILL_ADVICE, '').rstrip()}" for m in lost)
        raise WorkbookRefused(str(old.path), "det som fyllts i kan inte läsas säkert, så filen skrivs inte över:\n"
                              f"{lines}\nGör så här: lägg tillbaka kolumnen eller rubrikraden (Ångra i Excel), "
                              f"eller hämta den senaste versionen ur mappen {BACKUP_DIR}, och kör sedan "
                              "påfyllningen igen.")


REFILL_ADVICE = " Fyll filen på nytt med xlplan fill --update."  # the reader's advice, wrong when refill refuses


def check_identity(old: DepartmentBook, plan: Plan, dep: Department, period: Period) -> None:
    checks = (("plan_id", plan.id, "planen"), ("department_id", dep.id, "avdelningen"),
              ("period", str(period), "perioden"))
    for key, want, what in checks:
        have = old.metadata.get(key)
        if have != want:
            raise WorkbookRefused(str(old.path), f"filen hör till {what} '{have}', inte '{want}'; den skrivs inte över.")


# ---------------------------------------------------------------- refill

def merge_inputs(spec: WorkbookSpec, old: DepartmentBook, report: FileReport, today: str) -> None:
    """Carry every input of *old* into *spec* by Rad-id; inputs of rows gone from the plan go to
    'Borttagna rader'. Records what changed in *report*."""
    moved: list[RowSpec] = []
    new_ids = set()
    for sheet in spec.sheets:
        if sheet.name in (META, REMOVED):
            continue
        new_ids |= set(sheet.row_ids())
        old_sheet = old.sheets.get(sheet.name)
        for row in sheet.rows:
            old_row = old_sheet.rows.get(row.row_id) if old_sheet and row.row_id else None
            if old_row is None:
                if row.row_id.startswith(DATA_PREFIXES):
                    report.changes.append(RowChange(sheet.name, row.row_id, "tillagd", describe(sheet, row)))
                continue
            report.kept_inputs += carry_row(sheet, row, old_row.raw)
            if sheet.name == INDICATORS:
                report.kept_inputs += carry_comparison(row, old_row.raw)
            report.kept_inputs += carry_formulas(sheet, row, old_row.formulas, old_sheet)
            details = changed_fields(sheet, row, old_row.values)
            if details and row.row_id.startswith(DATA_PREFIXES):
                report.changes.append(RowChange(sheet.name, row.row_id, "ändrad", describe(sheet, row), details))
    for name, old_sheet in old.sheets.items():
        if name == REMOVED:
            continue
        for row_id, old_row in old_sheet.rows.items():
            if row_id in new_ids or not row_id.startswith(DATA_PREFIXES):
                continue
            entries = removed_entries(name, row_id, old_row.raw, old_row.values, today, old_row.formulas)
            moved += entries
            report.changes.append(RowChange(name, row_id, "borttagen", old_text(old_row.values, row_id),
                                            (f"{len(entries)} inmatade värden flyttade till '{REMOVED}'",)
                                            if entries else ()))
        for loose in old_sheet.loose_rows:
            moved += removed_entries(name, f"rad {loose.number} (utan Rad-id)", loose.raw, loose.values, today,
                                     loose.formulas)
    report.moved_inputs = len(moved)
    add_removed_sheet(spec, old, moved)


def carry_notes(spec: WorkbookSpec, old: DepartmentBook, report: FileReport, today: str) -> None:
    """Text of *old* outside its tables (an inserted column, notes below or beside a table, a sheet of the
    department's own) goes to the visible sheet 'Anteckningar' with where it stood; earlier notes stay."""
    found: list[tuple[str, str, Any]] = []
    for name, sheet in old.sheets.items():
        known = layout_texts(spec.sheet(name)) if spec.has_sheet(name) else set()
        found += [(sheet.actual_name, cell, v) for cell, v in sheet.outside if fixed_text(v) not in known]
        # values typed into a read-only context row: the row is written anew, the values kept here
        found += [(sheet.actual_name, row.cells[key], row.raw[key]) for row, key in context_row_inputs(sheet)]
    from xlplan.books.controller import CONF

    ours = {s.actual_name for s in old.sheets.values()} | {s.name for s in spec.sheets} | {META, CONF}
    kept: list[dict[str, Any]] = []
    wb = open_workbook(old.path)
    for name in wb.sheet_names:
        if name in ours or name.startswith(META):  # _xlplan, _xlplan_plan (xlplan.books.department.embedded): written anew
            continue
        rows = read_sheet_rows(wb, old.path, name)
        if name == NOTES:
            kept += earlier_notes(rows)
            continue
        found += [(name, f"{column_letter(c)}{r}", v) for r, row in enumerate(rows, start=1)
                  for c, v in enumerate(row, start=1) if v not in (None, "")]
    if not found and not kept:
        return
    notes = notes_sheet()
    for values in kept:
        notes.rows.append(RowSpec(f"N|{len(notes.rows) + 1}", values))
    for where, cell, value in found:
        notes.rows.append(RowSpec(f"N|{len(notes.rows) + 1}", {"sheet": where, "cell": cell, "value": value,
                                                               "moved": today}))
    report.notes = [f"{where}!{cell}" for where, cell, _ in found]
    spec.sheets.insert(len(spec.sheets) - 1, notes)


def layout_texts(sheet: SheetSpec) -> set[str]:
    """Every text the layout itself writes on *sheet* (titles, headers, section rows, the flag area)."""
    texts = {t.text for t in sheet.title_rows} | {c.header for c in sheet.columns}
    texts |= {a.title for a in sheet.areas} | {a.placeholder for a in sheet.areas}
    texts |= {str(v) for row in sheet.rows for v in row.values.values() if not isinstance(v, Formula)}
    return {fixed_text(t) for t in texts}


def earlier_notes(rows: list[list[Any]]) -> list[dict[str, Any]]:
    """The rows of an earlier 'Anteckningar' sheet (read by its headers), kept on the next refill."""
    keys = {norm_header(c.header): c.key for c in notes_columns() if c.key != ROW_ID_KEY}
    for i, header in enumerate(rows[:HEADER_ROW + 5]):
        at = {keys[norm_header(v)]: j for j, v in enumerate(header) if norm_header(v) in keys}
        if len(at) >= 3:
            return [{k: row[j] if j < len(row) else None for k, j in at.items()}
                    for row in rows[i + 1:] if any(row[j] not in (None, "") for j in at.values() if j < len(row))]
    return []


def preserved_keys(sheet: SheetSpec, row: RowSpec) -> list[str]:
    return [c.key for c in sheet.columns if c.key != ROW_ID_KEY and (row.is_input(c) or c.keep)
            and row.style == "data"]


def carry_comparison(row: RowSpec, raw: dict[str, Any]) -> int:
    """A comparison value typed by the department is kept (and marked so); one written by pull from Kolada is
    kept when no earlier file gives one now; otherwise the fresh value (or none) is written."""
    old, source = raw.get("comparison"), raw.get("comparison_source")
    source = str(source).strip() if source is not None else ""
    if old is None:
        return 0
    if row.inputs is not None and "comparison" not in row.inputs:
        row.values["comparison"] = old  # not used by this row's target, but never lost
        return 1
    if source in ("", COMPARISON_TYPED):
        row.values["comparison"], row.values["comparison_source"] = old, COMPARISON_TYPED
        return 1
    if source.startswith("Kolada") and row.values.get("comparison") is None:
        row.values["comparison"], row.values["comparison_source"] = old, source
    return 0


def carry_row(sheet: SheetSpec, row: RowSpec, raw: dict[str, Any]) -> int:
    kept = 0
    for key in preserved_keys(sheet, row):
        if key not in raw or key == "comparison":
            continue
        row.values[key] = raw[key]
        kept += raw[key] is not None
    return kept


def carry_formulas(sheet: SheetSpec, row: RowSpec, formulas: dict[str, str], old: BookSheet | None = None) -> int:
    """A formula a person typed in an input cell is kept as the formula (not its value), its references
    to the table moved with the rows they point at (:func:`moved_references`); counted only where the
    cell gave no value (carry_row counted the others)."""
    kept = 0
    keys = set(preserved_keys(sheet, row)) | ({"comparison"} if sheet.name == INDICATORS else set())
    for key, text in formulas.items():
        if key in keys and text:
            kept += row.values.get(key) is None
            row.values[key] = Formula(moved_references(text, old, sheet) if old is not None else text)
    return kept




def moved_references(formula: str, old: BookSheet, new: SheetSpec) -> str:
    """*formula* with its references to cells of the same sheet's table moved to where the refill puts
    those cells: the row found by its Rad-id, the column by its header. A formula typed as ``=M9+1``
    still adds 1 to the same indicator's Utfall when the plan put a row above it. References outside
    the table, to other sheets or to rows gone from the plan are left as typed."""
    from openpyxl.formula import Tokenizer
    from openpyxl.formula.tokenizer import TokenizerError

    try:
        tokens = Tokenizer(formula)
    except TokenizerError:
        return formula
    row_ids = {r.number: rid for rid, r in old.rows.items()}
    keys = {col: key for key, col in old.columns.items()}
    new_rows = {r.row_id: new.first_data_row + i for i, r in enumerate(new.rows) if r.row_id}
    new_cols = {c.key: i for i, c in enumerate(new.columns, start=1)}

    def move(ref: str) -> str:
        m = A1.match(ref)
        if m is None:
            return ref
        fixed_col, letters, fixed_row, number = m.groups()
        col = new_cols.get(keys.get(column_number(letters), ""))
        at = new_rows.get(row_ids.get(int(number), ""))
        return (f"{fixed_col}{column_letter(col) if col else letters}{fixed_row}{at or number}")

    changed = False
    for token in tokens.items:
        if token.type == "OPERAND" and token.subtype == "RANGE" and "!" not in token.value:
            moved = ":".join(move(part) for part in token.value.split(":"))
            changed |= moved != token.value
            token.value = moved
    return str(tokens.render()) if changed else formula


def _norm(v: Any) -> Any:
    if isinstance(v, str):
        v = v.strip() or None
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return float(v)
    return v


def changed_fields(sheet: SheetSpec, row: RowSpec, old_values: dict[str, Any]) -> tuple[str, ...]:
    out = []
    for col in sheet.columns:
        if col.key == ROW_ID_KEY or col.preserved or row.is_input(col) or col.key not in old_values:
            continue
        new = row.values.get(col.key)
        if isinstance(new, Formula):
            continue
        if _norm(new) != _norm(old_values[col.key]):
            out.append(f"{col.header}: '{_show(old_values[col.key])}' → '{_show(new)}'")
    return tuple(out)


def _show(v: Any) -> str:
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return format_number(float(v))
    return "" if v is None else str(v)


def describe(sheet: SheetSpec, row: RowSpec) -> str:
    return old_text(row.values, row.row_id)


def old_text(values: dict[str, Any], row_id: str) -> str:
    for key in ("indicator", "activity", "item", "name", "risk"):
        if values.get(key):
            text = str(values[key])
            series = values.get("series") if key == "indicator" else None
            ident = key_of(row_id)
            return f"{ident} {text}" + (f" ({series})" if series else "")
    return row_id


def removed_entries(sheet_name: str, row_id: str, raw: dict[str, Any], values: dict[str, Any],
                    today: str, formulas: dict[str, str] | None = None) -> list[RowSpec]:
    """The inputs of a row gone from the plan, one entry each: the value, and a typed formula as text
    (its references pointed into the old table, so it is shown, not recomputed)."""
    out = []
    formulas = formulas or {}
    for col in COLUMNS[sheet_name]():
        formula = formulas.get(col.key) or None
        if col.key == ROW_ID_KEY or not col.preserved or (raw.get(col.key) is None and formula is None):
            continue
        out.append(RowSpec("", {"sheet": sheet_name, "source_row": row_id, "row_text": old_text(values, row_id),
                                "column": col.header, "value": raw.get(col.key), "formula": formula,
                                "moved": today}))
    return out


def add_removed_sheet(spec: WorkbookSpec, old: DepartmentBook, moved: list[RowSpec]) -> None:
    kept = list(old.sheets[REMOVED].rows.values()) if REMOVED in old.sheets else []
    if not kept and not moved:
        return
    password = spec.sheets[0].protection.password
    sheet = removed_sheet(password, "Inmatade värden från rader som inte längre finns i planen. "
                                    "Inget har raderats; kopiera det som ska användas.")
    for i, r in enumerate(kept, start=1):
        sheet.rows.append(RowSpec(f"B|{i}", {k: v for k, v in r.raw.items() if k != ROW_ID_KEY}))
    for spec_row in moved:
        sheet.rows.append(RowSpec(f"B|{len(sheet.rows) + 1}", spec_row.values))
    spec.sheets.insert(len(spec.sheets) - 1, sheet)


# ---------------------------------------------------------------- apply

def apply_fill(jobs: list[FillJob], problems: list[Problem] | None = None) -> list[Path]:
    """Write every job; with *problems*, a file that cannot be written is noted and the rest written
    (when none can be, the first error is raised: the command could not run)."""
    written = []
    first: BaseException | None = None
    for job in jobs:
        try:
            write_job(job)
        except (XlplanError, OSError) as exc:
            if problems is None:
                raise
            first = first or exc
            problems.append(file_problem(job.target, exc, action="filen skrevs inte"))
            continue
        if not job.report.created:
            lock_if_approved(job.target)  # an approved file stays locked (xlplan.actions.workflow)
        written.append(job.target)
    if first is not None and not written:
        raise first
    return written


def write_job(job: FillJob) -> None:
    """Write one file atomically (the replaced version kept in the backup folder); a department's
    file under another name or format is then moved to the backup folder."""
    _write_file(job)
    if job.replaces is not None and job.replaces.exists():
        move_to_backup(job.replaces)


def _write_file(job: FillJob) -> None:
    with atomic_path(job.target, backup=True) as tmp:
        if job.fmt == "xlsx":
            write_workbook(job.spec, tmp)
            store_formula_values(tmp)  # previews show the status without Excel calculating
            return
        from xlplan.books.controller import add_conf_sheet
        from xlplan.io.backends.openpyxl_backend import build_workbook
        from xlplan.xlsm.package import make_xlsm_from_workbook
        from xlplan.xlsm.sources import department_ribbon_xml

        wb = build_workbook(job.spec)
        add_conf_sheet(wb)  # the ribbon's RunPython finds Python through this hidden sheet
        from xlplan.xlsm.sources import default_modules

        modules = [*default_modules(), *job.own_modules] if job.own_modules else None
        make_xlsm_from_workbook(wb, tmp, modules=modules,
                                ribbon_xml=department_ribbon_xml())  # the department's buttons only
        store_formula_values(tmp)


def fill(plan_path: str | Path | Plan, period: str | Period, departments: list[str] | None = None,
         out_dir: str | Path = ".", update: bool = False, fmt: Format = "xlsx",
         generated_at: str | None = None, kolada_url: str | None = None) -> FillResult:
    """Write (or with *update* refill) the follow-up workbook of each department.

    *kolada_url* (default: Kolada-adress on the sheet Val of a controller workbook *plan_path*) goes into
    the plan each file carries (:mod:`xlplan.books.department.embedded`).  *plan_path* may be a plan already read (the
    ribbon reads it from the open controller workbook).
    """
    from xlplan.books.department.embedded import with_kolada_url
    from xlplan.excel import controller_setting

    if fmt not in ("xlsx", "xlsm"):
        raise BadInput(f"Formatet '{fmt}' stöds inte; välj xlsx eller xlsm.")
    if Path(out_dir).exists() and not Path(out_dir).is_dir():
        raise BadInput(f"{out_dir} är en fil, inte en mapp; ange en mapp för avdelningsfilerna.")
    if isinstance(plan_path, Plan):
        plan = with_kolada_url(plan_path, kolada_url)
    else:
        plan = with_kolada_url(read_plan(plan_path), kolada_url or controller_setting(Path(plan_path), "kolada_url"))
    per = period if isinstance(period, Period) else parse_period(period)
    problems: list[Problem] = []  # only a refill goes on past a refused file; a first fill is all or nothing
    jobs = plan_fill(plan, per, departments, Path(out_dir), update, fmt, generated_at, problems if update else None)
    if not jobs and blocking(problems):  # nothing can be written: the command could not run, say why
        plan_fill(plan, per, departments, Path(out_dir), update, fmt, generated_at)
    written = apply_fill(jobs, problems)
    return FillResult(written, [j.report for j in jobs if j.target in written], problems)


# ---------------------------------------------------------------- the demo step

def demo_period(plan: Plan) -> Period:
    """The period the demo follows up: the plan's first year, at delår when the plan reports then."""
    kinds = plan.settings.periods
    return Period(plan.settings.year, "delår" if "delår" in kinds else kinds[-1])


def demo_step(out: Path, echo: Any = print) -> list[FillResult]:
    """``xlplan demo``: every department of each example plan into ``out/avdelningar/<plan>/``."""
    from xlplan.actions.pull import demo_plan_copy
    from xlplan.examples import EXAMPLES, example_plan_path

    results = []
    for name in EXAMPLES:
        if not example_plan_path(name).exists():
            continue
        # the demo's copy of the plan (its example personnel targets, made-up exports): pull, flag and
        # consolidate use the same copy
        path = demo_plan_copy(name, Path(out)) or example_plan_path(name)
        plan = read_plan(path)
        result = fill(path, demo_period(plan), None, Path(out) / "avdelningar" / name, update=True, fmt="xlsm")
        echo(f"Avdelningsfiler för {plan.settings.committee} {plan.settings.year} i {Path(out) / 'avdelningar' / name}:")
        echo("\n".join(result.lines()))
        results.append(result)
    return results
