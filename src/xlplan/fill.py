"""``xlplan fill``: one follow-up workbook per department, new or refilled.

Plan, then apply: :func:`plan_fill` works out every file's description and
what changes (reading existing files, refusing foreign ones) without writing;
:func:`apply_fill` writes them, atomically, each replaced file kept as
``.bak``. :func:`fill` does both.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from xlplan.atomic import atomic_path
from xlplan.backends.openpyxl_backend import write_workbook
from xlplan.deptbook import DepartmentBook, read_department_workbook
from xlplan.errors import BadInput, WorkbookRefused, WorkbookUnreadable
from xlplan.layout.columns import COLUMNS, INDICATORS, META, REMOVED
from xlplan.layout.department import PreviousOutcomes, department_workbook, removed_sheet
from xlplan.layout.spec import ROW_ID_KEY, Formula, RowSpec, SheetSpec, WorkbookSpec
from xlplan.model import Department, Plan
from xlplan.numbers import format_number
from xlplan.periods import Period, parse_period
from xlplan.planio import read_plan

Format = Literal["xlsx", "xlsm"]
_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')
DATA_PREFIXES = ("I|", "A|", "E|", "P|", "K|")


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
    previous: Path | None = None  # the previous period's file direction targets compare with

    def count(self, kind: str) -> int:
        return sum(1 for c in self.changes if c.kind == kind)

    def lines(self) -> list[str]:
        compared = [f"  Öka/Minska jämförs med {self.previous.name}"] if self.previous else []
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


@dataclass
class FillResult:
    written: list[Path]
    reports: list[FileReport]

    def lines(self) -> list[str]:
        return [line for r in self.reports for line in r.lines()]


# ---------------------------------------------------------------- names

def safe_name_part(text: str) -> str:
    """A piece of a file name safe on Windows; Swedish letters are kept."""
    text = unicodedata.normalize("NFC", text)
    text = _UNSAFE.sub("", text)
    text = re.sub(r"\s+", "_", text.strip())
    return text.rstrip(". ") or "_"


def workbook_name(plan: Plan, department: Department, period: Period, fmt: Format = "xlsx") -> str:
    """``Alingsås_Vård-_och_omsorgsnämnden_Äldreomsorg_2024-delår.xlsx``"""
    s = plan.settings
    parts = (s.municipality, s.committee, department.name, str(period))
    return "_".join(safe_name_part(p) for p in parts) + "." + fmt


# ---------------------------------------------------------------- plan

def choose_departments(plan: Plan, departments: list[str] | None) -> list[Department]:
    if not departments:
        return list(plan.departments)
    chosen, unknown = [], []
    for dep_id in departments:
        d = plan.department(dep_id)
        (chosen.append(d) if d else unknown.append(dep_id))  # type: ignore[func-returns-value]
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
              update: bool = False, fmt: Format = "xlsx", generated_at: str | None = None) -> list[FillJob]:
    """Work out every file to write; raise before anything is written if one is refused."""
    check_period(plan, period)
    stamp = generated_at or dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat()
    jobs = []
    for dep in choose_departments(plan, departments):
        target = Path(out_dir) / workbook_name(plan, dep, period, fmt)
        before, before_path = previous_outcomes(plan, dep, period, Path(out_dir))
        spec = department_workbook(plan, dep, period, stamp, previous=before)
        report = FileReport(target, dep.name, created=not target.exists(), previous=before_path)
        if target.exists():
            if not update:
                raise WorkbookRefused(str(target), "finns redan. Kör igen med --update för att föra in planens "
                                      "ändringar och behålla det som fyllts i.")
            old = read_department_workbook(target)
            check_identity(old, plan, dep, period)
            check_readable_inputs(old)
            merge_inputs(spec, old, report, stamp[:10])
        jobs.append(FillJob(dep, target, spec, report, fmt))
    return jobs


def previous_outcomes(plan: Plan, dep: Department, period: Period,
                      out_dir: Path) -> tuple[PreviousOutcomes, Path | None]:
    """Outcomes of the department's file for the period before, when it is in *out_dir*."""
    before = period.previous(plan.settings.periods)
    if before is None:
        return {}, None
    for fmt in ("xlsx", "xlsm"):
        path = out_dir / workbook_name(plan, dep, before, fmt)  # type: ignore[arg-type]
        if not path.exists():
            continue
        try:
            book = read_department_workbook(path)
        except (WorkbookRefused, WorkbookUnreadable):
            return {}, None
        if book.plan_id != plan.id or book.department_id != dep.id or book.period != str(before):
            return {}, None
        return outcomes_of(book), path
    return {}, None


def outcomes_of(book: DepartmentBook) -> PreviousOutcomes:
    out: PreviousOutcomes = {}
    sheet = book.sheets.get(INDICATORS)
    for row_id, row in (sheet.rows.items() if sheet else ()):
        value = row.values.get("outcome")
        parts = row_id.split("|")
        if len(parts) == 3 and isinstance(value, (int, float)) and not isinstance(value, bool):
            out[(parts[1], parts[2] or None)] = float(value)
    return out


def check_readable_inputs(old: DepartmentBook) -> None:
    """Refuse to refill a file whose inputs cannot all be found (they would be lost)."""
    lost = []
    for p in old.problems:
        if p.code == "rubrikrad_saknas":
            lost.append(str(p))
        elif p.code == "kolumn_saknas" and p.sheet in COLUMNS:
            header = next((c.header for c in COLUMNS[p.sheet]() if c.preserved and f"'{c.header}'" in p.message), None)
            if header:
                lost.append(str(p))
    if lost:
        raise WorkbookRefused(str(old.path), "det som fyllts i kan inte läsas säkert, så filen skrivs inte över. "
                              "Rätta först:\n" + "\n".join(f"  - {m}" for m in lost))


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
            details = changed_fields(sheet, row, old_row.values)
            if details and row.row_id.startswith(DATA_PREFIXES):
                report.changes.append(RowChange(sheet.name, row.row_id, "ändrad", describe(sheet, row), details))
    for name, old_sheet in old.sheets.items():
        if name == REMOVED:
            continue
        for row_id, old_row in old_sheet.rows.items():
            if row_id in new_ids or not row_id.startswith(DATA_PREFIXES):
                continue
            entries = removed_entries(name, row_id, old_row.raw, old_row.values, today)
            moved += entries
            report.changes.append(RowChange(name, row_id, "borttagen", old_text(old_row.values, row_id),
                                            (f"{len(entries)} inmatade värden flyttade till '{REMOVED}'",)
                                            if entries else ()))
        for loose in old_sheet.loose_rows:
            moved += removed_entries(name, f"rad {loose.number} (utan Rad-id)", loose.raw, loose.values, today)
    report.moved_inputs = len(moved)
    add_removed_sheet(spec, old, moved)


def preserved_keys(sheet: SheetSpec, row: RowSpec) -> list[str]:
    return [c.key for c in sheet.columns if c.key != ROW_ID_KEY and (row.is_input(c) or c.keep)
            and row.style == "data"]


def carry_row(sheet: SheetSpec, row: RowSpec, raw: dict[str, Any]) -> int:
    kept = 0
    for key in preserved_keys(sheet, row):
        if key not in raw:
            continue
        row.values[key] = raw[key]
        kept += raw[key] is not None
    return kept


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
            ident = row_id.split("|")[1] if "|" in row_id else row_id
            return f"{ident} {text}" + (f" ({series})" if series else "")
    return row_id


def removed_entries(sheet_name: str, row_id: str, raw: dict[str, Any], values: dict[str, Any],
                    today: str) -> list[RowSpec]:
    out = []
    for col in COLUMNS[sheet_name]():
        if col.key == ROW_ID_KEY or not col.preserved or raw.get(col.key) is None:
            continue
        out.append(RowSpec("", {"sheet": sheet_name, "source_row": row_id, "row_text": old_text(values, row_id),
                                "column": col.header, "value": raw[col.key], "moved": today}))
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
    for r in moved:
        sheet.rows.append(RowSpec(f"B|{len(sheet.rows) + 1}", r.values))
    spec.sheets.insert(len(spec.sheets) - 1, sheet)


# ---------------------------------------------------------------- apply

def apply_fill(jobs: list[FillJob]) -> list[Path]:
    written = []
    for job in jobs:
        write_job(job)
        written.append(job.target)
    return written


def write_job(job: FillJob) -> None:
    with atomic_path(job.target, backup=True) as tmp:
        if job.fmt == "xlsx":
            write_workbook(job.spec, tmp)
            return
        from xlplan.backends.openpyxl_backend import build_workbook
        from xlplan.workbook_build import add_conf_sheet
        from xlplan.xlsm.package import make_xlsm_from_workbook

        wb = build_workbook(job.spec)
        add_conf_sheet(wb)  # the ribbon's RunPython finds Python through this hidden sheet
        make_xlsm_from_workbook(wb, tmp)


def fill(plan_path: str | Path, period: str | Period, departments: list[str] | None = None,
         out_dir: str | Path = ".", update: bool = False, fmt: Format = "xlsx",
         generated_at: str | None = None) -> FillResult:
    """Write (or with *update* refill) the follow-up workbook of each department."""
    if fmt not in ("xlsx", "xlsm"):
        raise BadInput(f"Formatet '{fmt}' stöds inte; välj xlsx eller xlsm.")
    plan = read_plan(plan_path)
    per = period if isinstance(period, Period) else parse_period(period)
    jobs = plan_fill(plan, per, departments, Path(out_dir), update, fmt, generated_at)
    return FillResult(apply_fill(jobs), [j.report for j in jobs])


# ---------------------------------------------------------------- the demo step

def demo_period(plan: Plan) -> Period:
    """The period the demo follows up: the plan's first year, at delår when the plan reports then."""
    kinds = plan.settings.periods
    return Period(plan.settings.year, "delår" if "delår" in kinds else kinds[-1])


def demo_step(out: Path, echo: Any = print) -> list[FillResult]:
    """``xlplan demo``: every department of each example plan into ``out/avdelningar/<plan>/``."""
    from xlplan.examples import EXAMPLES, example_plan_path

    results = []
    for name in EXAMPLES:
        path = example_plan_path(name)
        if not path.exists():
            continue
        plan = read_plan(path)
        result = fill(path, demo_period(plan), None, Path(out) / "avdelningar" / name, update=True, fmt="xlsm")
        echo(f"Avdelningsfiler för {plan.settings.committee} {plan.settings.year} i {Path(out) / 'avdelningar' / name}:")
        echo("\n".join(result.lines()))
        results.append(result)
    return results
