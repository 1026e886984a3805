"""The department's slice of the plan, carried inside its workbook, and which plan a file uses.

A department file must work where people keep it (Downloads, an e-mail
attachment) with no plan beside it.  :func:`embedded_sheet` writes
everything the department's own actions need — its part of the plan
(:func:`plan_slice`: settings with the kommun's Kolada id, comparison group,
Kolada address and status settings; the department; the goals, indicators
with targets per year, file sources and activities it reports on; its
budget, personnel and control rows) — into the very hidden, protected sheet
``_xlplan_plan``.  :func:`read_embedded` reads it back into a
:class:`~xlplan.core.model.Plan` whose ``version`` is the version of the plan it
was cut from, so statuses and version checks are the same as with the plan.

Format (``FORMAT`` = 1): column A keys, column B values, header row 1.
Rows ``format``, ``plan_id``, ``plan_version``, ``department_id``,
``embedded_at``, ``sha256`` (of the JSON text) and ``del.0001`` …: the JSON
document, zlib-compressed and base64 (URL alphabet, no padding) encoded,
split into cells of at most :data:`CHUNK` characters (Excel holds 32,767 per
cell).  The encoding keeps every chunk plain ASCII text that no reader takes
for a formula, a number or a date.

The one policy for which plan a department file uses is :func:`choose_plan`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import zlib
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path
from typing import Any

from xlplan.books.department.columns import meta_columns
from xlplan.books.spec import PrintSetup, Protection, RowSpec, SheetSpec
from xlplan.core.errors import BadInput, WorkbookRefused
from xlplan.core.model import (
    AccountRange,
    Activity,
    BudgetLine,
    ControlItem,
    Department,
    FileSource,
    Goal,
    HrSource,
    Indicator,
    LedgerSettings,
    PersonnelTarget,
    Plan,
    Question,
    Settings,
)

__all__ = ["FORMAT", "SHEET", "CHUNK", "Embedded", "PlanChoice", "plan_slice", "with_kolada_url", "plan_to_json", "plan_from_json",
           "embedded_sheet", "embedded_rows", "read_embedded", "parse_embedded", "choose_plan"]

SHEET = "_xlplan_plan"
FORMAT = 1
CHUNK = 32_000
_PART = "del."


# ---------------------------------------------------------------- the slice


def plan_slice(plan: Plan, department_id: str) -> Plan:
    """What one department's own actions need of *plan*; ``version`` stays the whole plan's."""
    dep = plan.department(department_id)
    if dep is None:
        raise BadInput(f"Avdelningen '{department_id}' finns inte i planen '{plan.id}'.")
    indicators = plan.indicators_for(dep.id)
    activities = plan.activities_for(dep.id)
    questions = tuple(q for q in plan.questions if q.asked_of(dep.id))
    goal_ids = {i.goal_id for i in indicators} | {a.goal_id for a in activities if a.goal_id}
    goal_ids |= {q.goal_id for q in questions if q.goal_id}
    ind_ids = {i.id for i in indicators}
    return Plan(
        settings=plan.settings,
        departments=(dep,),
        goals=tuple(g for g in plan.goals if g.id in goal_ids),
        indicators=indicators,
        activities=activities,
        budget=tuple(b for b in plan.budget if b.department_id == dep.id),
        personnel=plan.personnel_for(dep.id),
        controls=plan.controls_for(dep.id),
        file_sources=tuple(f for f in plan.file_sources if f.indicator_id in ind_ids),
        questions=questions,
        hr_sources=plan.hr_sources,
        accounts=plan.accounts,
        _version=plan.version,
    )


def with_kolada_url(plan: Plan, url: str | None) -> Plan:
    """*plan* reaching Kolada at *url* (the controller's Val setting wins over the plan's); same version."""
    if not url or url == plan.settings.kolada_url:
        return plan
    return replace(plan, settings=replace(plan.settings, kolada_url=url), _version=plan.version)


def plan_to_json(plan: Plan) -> dict[str, Any]:
    """*plan* as plain JSON data (lists for tuples); ``version`` under its own key."""
    content = asdict(plan)
    content.pop("_version", None)
    content["version"] = plan.version
    return content


_RECORDS: dict[str, type] = {
    "departments": Department, "goals": Goal, "indicators": Indicator, "activities": Activity,
    "budget": BudgetLine, "personnel": PersonnelTarget, "controls": ControlItem, "file_sources": FileSource,
    "questions": Question,
    "hr_sources": HrSource,
    "accounts": AccountRange,
}


def _tuples(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_tuples(v) for v in value)
    return value


def _record(cls: type, data: dict[str, Any]) -> Any:
    known = {f.name for f in fields(cls)}
    return cls(**{k: _tuples(v) for k, v in data.items() if k in known})


def plan_from_json(doc: dict[str, Any]) -> Plan:
    """The :class:`Plan` of :func:`plan_to_json` (unknown keys of a newer xlplan are ignored)."""
    lists = {key: tuple(_record(cls, item) for item in doc.get(key, ())) for key, cls in _RECORDS.items()}
    settings = dict(doc["settings"])
    if isinstance(settings.get("ledger"), dict):  # the one nested record of the settings
        settings["ledger"] = _record(LedgerSettings, settings["ledger"])
    return Plan(settings=_record(Settings, settings), _version=str(doc.get("version") or ""), **lists)


# ---------------------------------------------------------------- the sheet


@dataclass(frozen=True)
class Embedded:
    """The plan slice read from a department workbook."""

    plan: Plan
    department_id: str
    embedded_at: str  # when fill wrote it (ISO 8601, UTC)
    format: int = FORMAT

    @property
    def time(self) -> dt.datetime | None:
        return _parse_time(self.embedded_at)


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(zlib.compress(text.encode("utf-8"), 9)).decode("ascii").rstrip("=")


def _decode(data: str) -> str:
    padded = data + "=" * (-len(data) % 4)
    return zlib.decompress(base64.urlsafe_b64decode(padded.encode("ascii"))).decode("utf-8")


def embedded_rows(plan: Plan, department_id: str, embedded_at: str) -> list[tuple[str, str]]:
    """(key, value) rows of the sheet for *department_id*'s slice of *plan*."""
    sliced = plan_slice(plan, department_id)
    doc = {"format": FORMAT, "department_id": sliced.departments[0].id, "embedded_at": embedded_at,
           "plan": plan_to_json(sliced)}
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    data = _encode(text)
    head = [("format", str(FORMAT)), ("plan_id", plan.id), ("plan_version", plan.version),
            ("department_id", sliced.departments[0].id), ("embedded_at", embedded_at),
            ("sha256", hashlib.sha256(text.encode("utf-8")).hexdigest())]
    parts = [data[i:i + CHUNK] for i in range(0, len(data), CHUNK)] or [""]
    return head + [(f"{_PART}{n:04d}", part) for n, part in enumerate(parts, start=1)]


def embedded_sheet(plan: Plan, department_id: str, embedded_at: str, password: str | None) -> SheetSpec:
    """The very hidden, protected sheet holding the department's slice of *plan*."""
    sheet = SheetSpec(SHEET, meta_columns(), header_row=1, visibility="veryHidden",
                      protection=Protection(True, password), print_setup=PrintSetup(repeat_header=False))
    for key, value in embedded_rows(plan, department_id, embedded_at):
        sheet.rows.append(RowSpec(key, {"value": value}))
    return sheet


def parse_embedded(rows: list[list[Any]], file: str = "") -> Embedded:
    """The slice from the sheet's rows (header first); raise WorkbookRefused when it cannot be used."""
    values: dict[str, str] = {}
    for row in rows[1:]:
        if len(row) >= 2 and row[0] not in (None, ""):
            values[str(row[0])] = "" if row[1] is None else str(row[1])
    where = f"det dolda bladet {SHEET}"
    try:
        fmt = int(values.get("format", ""))
    except ValueError:
        raise WorkbookRefused(file, f"{where} saknar formatversion; planen i filen kan inte läsas.") from None
    if fmt > FORMAT:
        raise WorkbookRefused(file, f"planen i filen har format {fmt}, men den här versionen av xlplan läser "
                              f"format {FORMAT}. Uppdatera xlplan.")
    data = "".join(values[k] for k in sorted(k for k in values if k.startswith(_PART)))
    try:
        text = _decode(data)
        doc = json.loads(text)
    except (ValueError, zlib.error, UnicodeDecodeError) as exc:
        raise WorkbookRefused(file, f"{where} är skadat; planen i filen kan inte läsas.") from exc
    if hashlib.sha256(text.encode("utf-8")).hexdigest() != values.get("sha256"):
        raise WorkbookRefused(file, f"{where} är ändrat eller ofullständigt; planen i filen kan inte läsas.")
    try:
        plan = plan_from_json(doc["plan"])
    except (KeyError, TypeError) as exc:
        raise WorkbookRefused(file, f"{where} är skadat; planen i filen kan inte läsas.") from exc
    return Embedded(plan, str(doc.get("department_id") or ""), str(doc.get("embedded_at") or ""), fmt)


def read_embedded(path: Path) -> Embedded | None:
    """The plan slice in the workbook *path*; None when the file has none (made before xlplan embedded it)."""
    from xlplan.io.tables import open_workbook, read_sheet_rows

    path = Path(path)
    wb = open_workbook(path)
    if SHEET not in wb.sheet_names:
        return None
    return parse_embedded(read_sheet_rows(wb, path, SHEET), path.name)


# ---------------------------------------------------------------- which plan


@dataclass(frozen=True)
class PlanChoice:
    """The plan a department file's actions use, where it came from, and why (Swedish)."""

    plan: Plan
    path: Path | None  # the plan workbook used; None: the plan inside the department file
    folder: Path | None  # where the plan's file sources (exports) are looked for
    note: str

    @property
    def embedded(self) -> bool:
        return self.path is None


def _parse_time(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)


def choose_plan(book_path: Path, plan_id: str, department_id: str, near: Path | None,
                given: Path | None = None, *, embedded_from: Path | None = None,
                embedded_rows: list[list[Any]] | None = None,
                hint: str = "Ange planens arbetsbok med --plan.",
                cache: dict[Any, Any] | None = None) -> PlanChoice:
    """The plan for the department file *book_path* — the one rule for the CLI and the buttons.

    A plan workbook *given* (``--plan``, ``$XLPLAN_PLAN``) or found in *near*'s
    folder or the one above (:func:`xlplan.books.plan.find_plans`) is used when it
    is the same version as the plan inside the file, or newer (saved after the
    file was filled); otherwise, or when there is none, the plan inside the
    file.  A *given* plan of another Plan-id, or without the department, is an
    error.  *embedded_from* is the file to read the inside plan from (default
    *book_path*); *embedded_rows*, when given, are the rows of the sheet
    holding it as already read (the buttons read the open book's grids; ``[]``:
    the book has no such sheet) and no file is read; *hint*
    ends the message when there is no plan at all; *cache* (any dict, reused
    across the files of a folder) keeps plans read once.
    """
    from xlplan.books.plan import find_plans, read_plan

    cache = {} if cache is None else cache
    name = Path(book_path).name
    broken: WorkbookRefused | None = None
    try:
        if embedded_rows is not None:
            inside = parse_embedded(embedded_rows, name) if embedded_rows else None
        else:
            inside = read_embedded(embedded_from or book_path)
    except WorkbookRefused as exc:  # a damaged plan inside: a plan workbook may still do
        inside, broken = None, exc
    if inside is not None and (inside.plan.id != plan_id or inside.department_id != department_id):
        inside = None
    if given is not None:
        candidates = [Path(given)]
    elif near is not None:
        key = ("find", Path(near), plan_id)
        if key not in cache:
            cache[key] = find_plans(near, plan_id)
        candidates = cache[key]
    else:
        candidates = []
    older = ""
    for path in candidates:
        if ("read", path) not in cache:
            cache[("read", path)] = read_plan(path)
        plan: Plan = cache[("read", path)]
        if plan.id != plan_id:
            raise WorkbookRefused(name, f"filen hör till planen '{plan_id}', men {path.name} är planen "
                                  f"'{plan.id}'. {hint}")
        if plan.department(department_id) is None:
            if given is None and inside is not None:  # a plan nearby that no longer has the department
                older = f"{path.name} har inte avdelningen '{department_id}'; "
                continue
            raise WorkbookRefused(name, f"avdelningen '{department_id}' finns inte i planen {path.name}.")
        if inside is None:
            return PlanChoice(plan, path, path.parent, f"Planen {path.name} används.")
        if plan.version == inside.plan.version:
            return PlanChoice(plan, path, path.parent,
                              f"Planen {path.name} används (samma version, {plan.version}, som i filen).")
        filled = inside.time
        if filled is None or _mtime(path) > filled:
            return PlanChoice(plan, path, path.parent,
                              f"Planen {path.name} (version {plan.version}) är nyare än planen i filen (version "
                              f"{inside.plan.version}) och används.")
        older = f"{path.name} (version {plan.version}) är äldre än planen i filen; "
    if broken is not None:
        raise broken
    if inside is None:
        where = f"{near} eller mappen ovanför" if near is not None else "filens mapp"
        raise BadInput(f"Planen '{plan_id}' hittades inte i {where}, och {name} har ingen plan inbyggd "
                       f"(filen fylldes med en äldre xlplan). {hint}")
    text = f"{older}planen som finns i filen används (version {inside.plan.version})."
    return PlanChoice(inside.plan, None, near, text[:1].upper() + text[1:])
