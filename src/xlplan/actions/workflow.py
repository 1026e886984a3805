"""The submission workflow of a department workbook: who may set which Inlämningsstatus, and the record.

States (:data:`~xlplan.books.department.columns.SUBMISSION_STATES`) and who moves a file between them::

    ej påbörjad, pågår, åter för komplettering --submit (checks pass)-----> klar för granskning
    klar för granskning                        --approve (controller)-----> godkänd
    klar för granskning, godkänd               --return (controller, with
                                                 a comment)-------------> åter för komplettering

* The department chooses *ej påbörjad* or *pågår* itself (the drop-down).
* *klar för granskning* is set only by submit (the button *Kontrollera och
  lämna in* or ``xlplan submit``), and only when :func:`submission_blockers`
  finds nothing.
* *godkänd* and *åter för komplettering* are set by the controller
  (``xlplan approve|return``, or *Godkänn* / *Skicka tillbaka* in
  ``uppfoljning.xlsm``), only on a file that was submitted, and never by the
  person who submitted it.
* Every change is recorded in the hidden sheet ``_xlplan`` as a row
  ``logg.NNNN`` whose value is JSON ``{"tid", "vem", "status", "kommentar"}``
  (:class:`Event`).  An approved file's input cells are locked (their
  addresses kept under ``låsta_celler``) until it is returned; the
  department's actions refuse to change it (:func:`refuse_if_approved`).

Rules here are pure; :func:`submit_file`, :func:`approve_file` and
:func:`return_file` are the file faces used by the command line and the
controller's buttons.
"""

from __future__ import annotations

import datetime as dt
import getpass
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from xlplan.books.department.columns import META, OVERVIEW, SUBMISSION_ROW_ID, SUBMISSION_STATES
from xlplan.core.cells import a1, column_letter, split_a1
from xlplan.core.codes import Code
from xlplan.core.errors import BadInput, Problem, WorkbookRefused

if TYPE_CHECKING:
    from xlplan.actions.flag import FlagReport
    from xlplan.books.department.reader import DepartmentBook

__all__ = ["NOT_STARTED", "IN_PROGRESS", "READY", "APPROVED", "RETURNED", "BLOCKING_CODES", "Event", "history",
           "last_event", "current_user", "submission_blockers", "refuse_if_approved", "check_review",
           "event_row", "SubmitResult", "ReviewResult", "submit_file", "approve_file", "return_file",
           "LOG_PREFIX", "LOCKED_KEY", "carry_history", "unrecorded_state", "lock_if_approved",
           "find_department_file"]

NOT_STARTED, IN_PROGRESS, READY, APPROVED, RETURNED = SUBMISSION_STATES
LOG_PREFIX = "logg."
LOCKED_KEY = "låsta_celler"
#: Flags and reader problems that stop a submission.  Missed targets do not:
#: a department may report that a target was not reached.  Nor does a missing comparison value
#: (``jamforelsevarde_saknas``): the department is told which value is missing, but a new local
#: figure may have no earlier value at all, and the row then reaches the committee as
#: *Jämförelsevärde saknas*.  An outcome the department wrote has no value (``–``, ``i.u.``:
#: ``utfall_uppgift_saknas``) is an answer, not a forgotten cell: named, not blocking.
BLOCKING_CODES = frozenset({
    Code.UTFALL_SAKNAS, Code.BEDOMNING_SAKNAS, Code.BEDOMNING_OGILTIG, Code.INTE_TAL, Code.FORMELFEL,
    Code.UTFALL_ENHET, Code.UTFALL_ORIMLIGT, Code.STATUS_AVVIKER, Code.RAD_SAKNAS, Code.PLANRAD_SAKNAS,
    Code.BLAD_SAKNAS, Code.KOLUMN_SAKNAS, Code.RUBRIKRAD_SAKNAS, Code.DUBBLETT,
})


# ---------------------------------------------------------------- the record


@dataclass(frozen=True)
class Event:
    """One recorded change of Inlämningsstatus."""

    when: str  # ISO 8601, UTC, seconds
    who: str
    state: str
    comment: str | None = None

    def to_text(self) -> str:
        doc = {"tid": self.when, "vem": self.who, "status": self.state, "kommentar": self.comment}
        return json.dumps(doc, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_text(cls, text: str) -> "Event | None":
        try:
            doc = json.loads(text)
        except ValueError:
            return None
        if not isinstance(doc, dict) or not doc.get("status"):
            return None
        return cls(str(doc.get("tid") or ""), str(doc.get("vem") or ""), str(doc["status"]),
                   doc.get("kommentar") or None)

    @property
    def local_time(self) -> dt.datetime | None:
        """:attr:`when` in this computer's time zone, without zone (as Excel shows times); None if unreadable."""
        try:
            when = dt.datetime.fromisoformat(self.when)
        except ValueError:
            return None
        return (when.astimezone() if when.tzinfo else when).replace(tzinfo=None)

    def line(self) -> str:
        """'godkänd 2026-11-28 21:40 av anna' (+ the comment)."""
        when = self.when.replace("T", " ")[:16]
        text = f"{self.state} {when} av {self.who}"
        return f"{text}: {self.comment}" if self.comment else text


def history(metadata: Mapping[str, str]) -> list[Event]:
    """The recorded changes, oldest first (rows ``logg.NNNN`` of ``_xlplan``)."""
    keys = sorted(k for k in metadata if k.startswith(LOG_PREFIX))
    return [e for k in keys if (e := Event.from_text(metadata[k])) is not None]


def last_event(metadata: Mapping[str, str]) -> Event | None:
    events = history(metadata)
    return events[-1] if events else None


def event_row(metadata: Mapping[str, str]) -> str:
    """The key of the next history row."""
    numbers = [int(k[len(LOG_PREFIX):]) for k in metadata if k.startswith(LOG_PREFIX) and k[len(LOG_PREFIX):].isdigit()]
    return f"{LOG_PREFIX}{max(numbers, default=0) + 1:04d}"


def current_user() -> str:
    """Who is running xlplan: ``USERNAME`` (Windows), else the login name."""
    name = os.environ.get("USERNAME") or ""
    if not name:
        try:
            name = getpass.getuser()
        except (KeyError, OSError):
            name = "okänd"
    return name


def now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


# ---------------------------------------------------------------- rules


def submission_blockers(dbook: "DepartmentBook", report: "FlagReport") -> list[Problem]:
    """What stops a submission: errors, missing outcomes, unassessed qualitative targets.

    Targets that are not met do not block (that is what the follow-up reports).
    """
    out: list[Problem] = []
    seen: set[tuple[str, str | None, str | None]] = set()
    for p in list(dbook.problems) + report.problems():
        key = (p.code, p.sheet, p.cell)
        if key in seen:
            continue
        seen.add(key)
        if p.code in BLOCKING_CODES or p.severity == "fel":
            out.append(p)
    return out


def _state(dbook: "DepartmentBook") -> str:
    return (dbook.submission or NOT_STARTED).strip()


def refuse_if_approved(dbook: "DepartmentBook") -> None:
    """Raise when the file is approved: the department's actions do not change it until it is returned."""
    if _state(dbook) != APPROVED:
        return
    last = last_event(dbook.metadata)
    by = f" ({last.line()})" if last and last.state == APPROVED else ""
    raise WorkbookRefused(dbook.path.name, f"filen är godkänd{by} och låst. Be nämndens controller skicka "
                          "tillbaka den (Skicka tillbaka) om något ska ändras.")


def unrecorded_state(dbook: "DepartmentBook") -> Problem | None:
    """A warning when Inlämningsstatus says submitted, approved or returned but the file's log does not.

    Such a state was typed or pasted into the cell (or the file was filled before states were
    recorded): only submit and the controller set those states.
    """
    state = _state(dbook)
    if state not in (READY, APPROVED, RETURNED):
        return None
    last = last_event(dbook.metadata)
    if last is not None and last.state == state:
        return None
    recorded = f"senast registrerat: {last.line()}" if last else "ingen ändring är registrerad"
    return Problem(Code.STATUS_EJ_REGISTRERAD, f"Inlämningsstatus '{state}' är inte satt med Kontrollera och lämna in "
                   f"eller av controllern ({recorded}).", dbook.path.name, dbook.actual_sheet_name(OVERVIEW),
                   dbook.address(OVERVIEW, SUBMISSION_ROW_ID, "value"), "varning")


def check_review(dbook: "DepartmentBook", who: str, action: str) -> Event | None:
    """Raise unless the controller *who* may approve or return the file now; return the submission event."""
    name = dbook.path.name
    state = _state(dbook)
    if state != READY:
        raise WorkbookRefused(name, f"Inlämningsstatus är '{state}', inte '{READY}'. Bara en inlämnad fil kan "
                              f"{action}s; avdelningen lämnar in med Kontrollera och lämna in.")
    last = last_event(dbook.metadata)
    if last is None or last.state != READY:
        raise WorkbookRefused(name, f"Inlämningsstatus '{READY}' är inte satt med Kontrollera och lämna in (det "
                              "finns ingen inlämning i filens logg). Be avdelningen lämna in filen med knappen.")
    if last.who and last.who.casefold() == who.casefold():
        raise WorkbookRefused(name, f"{who} lämnade in filen och kan inte själv {action} den; det gör nämndens "
                              "controller.")
    return last


def carry_history(spec: Any, old: "DepartmentBook") -> None:
    """Keep the recorded changes of a refilled file: its history rows go into the new ``_xlplan`` sheet."""
    from xlplan.books.spec import RowSpec

    rows = [(k, v) for k, v in sorted(old.metadata.items()) if k.startswith(LOG_PREFIX)]
    if rows and spec.has_sheet(META):
        spec.sheet(META).rows += [RowSpec(k, {"value": v}) for k, v in rows]


# ---------------------------------------------------------------- files


@dataclass
class SubmitResult:
    path: Path
    ready: bool
    blockers: list[Problem]
    event: Event | None
    plan_note: str = ""

    def lines(self) -> list[str]:
        head = [f"{self.path.name}: {self.plan_note}"] if self.plan_note else []
        if self.ready:
            return head + [f"{self.path.name}: Inlämningsstatus är nu '{READY}' (lämnad av "
                           f"{self.event.who if self.event else '?'})."]
        return head + [f"{self.path.name} kan inte lämnas in ännu: {len(self.blockers)} att rätta:"] + [
            f"  - {p}" for p in self.blockers]


@dataclass
class ReviewResult:
    path: Path
    event: Event
    locked_cells: int

    def lines(self) -> list[str]:
        what = (f"{self.locked_cells} inmatningsceller låsta" if self.event.state == APPROVED
                else f"{self.locked_cells} inmatningsceller upplåsta")
        return [f"{self.path.name}: {self.event.line()} ({what})."]


def _state_cell(dbook: "DepartmentBook") -> tuple[str, str]:
    cell = dbook.address(OVERVIEW, SUBMISSION_ROW_ID, "value")
    sheet = dbook.actual_sheet_name(OVERVIEW)
    if cell is None or sheet is None:
        raise BadInput(f"{dbook.path.name}: cellen Inlämningsstatus på bladet {OVERVIEW} hittas inte. Fyll filen "
                       "på nytt med xlplan fill --update.")
    return sheet, cell


def _record(wb: Any, dbook: "DepartmentBook", event: Event) -> None:
    """Set Inlämningsstatus and add the history row (in an openpyxl workbook)."""
    sheet, cell = _state_cell(dbook)
    wb[sheet][cell] = event.state
    _put_meta(wb, event_row(dbook.metadata), event.to_text())


def _put_meta(wb: Any, key: str, value: str | None) -> None:
    from xlplan.io.xmltext import escape_cell_text

    ws = wb[META]
    for row in ws.iter_rows(min_row=2):
        if row[0].value == key:
            row[1].value = None if value is None else escape_cell_text(value)
            return
    if value is not None:
        r = ws.max_row + 1
        ws.cell(r, 1, key)
        ws.cell(r, 2, escape_cell_text(value))


def _read(path: Path) -> "DepartmentBook":
    from xlplan.books.department.reader import read_department_workbook

    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path} finns inte eller är ingen fil. Ange en avdelningsfil (.xlsm eller .xlsx).")
    if path.with_name("~$" + path.name).exists():
        raise WorkbookRefused(path.name, f"filen är öppen i Excel (låsfilen ~${path.name} finns). Stäng den och "
                              "försök igen.")
    dbook = read_department_workbook(path)
    if not dbook.department_id or not dbook.period:
        raise WorkbookRefused(path.name, "är ingen avdelningsfil från xlplan (avdelning eller period saknas).")
    return dbook


def find_department_file(folder: Path, department_id: str, period: str) -> Path:
    """The one department workbook for *department_id* and *period* in *folder*."""
    from xlplan.actions.flag import department_workbooks
    from xlplan.books.department.reader import read_meta
    from xlplan.core.periods import parse_period
    from xlplan.io.tables import open_workbook, read_sheet_rows

    folder, period = Path(folder), str(parse_period(period))
    if not folder.is_dir():
        raise BadInput(f"Mappen {folder} finns inte.")
    found = []
    for path in department_workbooks(folder):
        meta = read_meta(read_sheet_rows(open_workbook(path), path, META))[0]
        if (meta.get("department_id") or "").casefold() == department_id.casefold() and meta.get("period") == period:
            found.append(path)
    if not found:
        raise BadInput(f"Ingen avdelningsfil för {department_id} och {period} finns i {folder}.")
    if len(found) > 1:
        raise BadInput(f"Flera avdelningsfiler för {department_id} och {period} finns i {folder}: "
                       f"{', '.join(p.name for p in found)}. Ta bort kopiorna och försök igen.")
    return found[0]


def submit_file(path: str | Path, plan_path: str | Path | None = None, who: str | None = None) -> SubmitResult:
    """``xlplan submit``: flag the file, and when nothing blocks set it 'klar för granskning' (recorded)."""
    from xlplan.actions.flag import flag
    from xlplan.io.resave import load_for_edit, save_edited

    path = Path(path)
    refuse_if_approved(_read(path))
    (outcome,) = flag(path, plan_path)
    dbook = _read(path)
    blockers = submission_blockers(dbook, outcome.report)
    if blockers:
        return SubmitResult(path, False, blockers, None, outcome.plan_note)
    event = Event(now(), who or current_user(), READY)
    wb = load_for_edit(path)
    _record(wb, dbook, event)
    save_edited(wb, path)
    return SubmitResult(path, True, [], event, outcome.plan_note)


def approve_file(path: str | Path, who: str | None = None) -> ReviewResult:
    """``xlplan approve``: a submitted file becomes 'godkänd' (recorded) and its input cells are locked."""
    from xlplan.io.resave import load_for_edit, save_edited

    path = Path(path)
    dbook = _read(path)
    who = who or current_user()
    check_review(dbook, who, "godkänna")
    event = Event(now(), who, APPROVED)
    wb = load_for_edit(path)
    _record(wb, dbook, event)
    locked = _lock_inputs(wb)
    _put_meta(wb, LOCKED_KEY, json.dumps(locked, ensure_ascii=False, sort_keys=True))
    save_edited(wb, path)
    return ReviewResult(path, event, sum(len(_cells(r)) for refs in locked.values() for r in refs))


def return_file(path: str | Path, comment: str, who: str | None = None) -> ReviewResult:
    """``xlplan return``: a submitted or approved file goes back to the department with the comment."""
    from xlplan.io.resave import load_for_edit, save_edited

    path = Path(path)
    comment = (comment or "").strip()
    if not comment:
        raise BadInput("Skriv en kommentar till avdelningen om vad som ska kompletteras (--kommentar).")
    dbook = _read(path)
    who = who or current_user()
    if _state(dbook) != APPROVED:
        check_review(dbook, who, "skicka tillbaka")
    event = Event(now(), who, RETURNED, comment)
    wb = load_for_edit(path)
    _record(wb, dbook, event)
    unlocked = _unlock_inputs(wb, dbook.metadata.get(LOCKED_KEY) or "")
    _put_meta(wb, LOCKED_KEY, None)
    save_edited(wb, path)
    return ReviewResult(path, event, unlocked)


def lock_if_approved(path: str | Path) -> int:
    """Lock the inputs of an approved file again after it was refilled (``fill --update``); return how many."""
    from xlplan.books.department.reader import read_department_workbook
    from xlplan.io.resave import load_for_edit, save_edited

    path = Path(path)
    if _state(read_department_workbook(path)) != APPROVED:
        return 0
    wb = load_for_edit(path)
    locked = _lock_inputs(wb)
    _put_meta(wb, LOCKED_KEY, json.dumps(locked, ensure_ascii=False, sort_keys=True))
    save_edited(wb, path)
    return sum(len(_cells(r)) for refs in locked.values() for r in refs)


# ---------------------------------------------------------------- locking


def _lock_inputs(wb: Any) -> dict[str, list[str]]:
    """Lock every unlocked cell of the protected sheets; return them as ranges per sheet."""
    from openpyxl.styles import Protection

    out: dict[str, list[str]] = {}
    for ws in wb.worksheets:
        if not ws.protection.sheet or ws.title == META:
            continue
        cells = sorted((c.column, c.row) for c in ws._cells.values() if not c.protection.locked)
        for col, row in cells:
            ws.cell(row, col).protection = Protection(locked=True)
        if cells:
            out[ws.title] = _ranges(cells)
    return out


def _unlock_inputs(wb: Any, record: str) -> int:
    from openpyxl.styles import Protection

    try:
        locked = json.loads(record) if record else {}
    except ValueError:
        locked = {}
    n = 0
    for sheet, refs in locked.items():
        if sheet not in wb.sheetnames:
            continue
        ws = wb[sheet]
        for ref in refs:
            for coordinate in _cells(ref):
                ws[coordinate].protection = Protection(locked=False)
                n += 1
    return n


def _ranges(cells: list[tuple[int, int]]) -> list[str]:
    """(column, row) pairs sorted by column then row → 'K6:K9'-style ranges down each column."""
    out: list[str] = []
    start = prev = cells[0]
    for cell in cells[1:] + [(0, 0)]:
        if cell[0] == prev[0] and cell[1] == prev[1] + 1:
            prev = cell
            continue
        letter = column_letter(start[0])
        out.append(f"{letter}{start[1]}" if start == prev else f"{letter}{start[1]}:{letter}{prev[1]}")
        start = prev = cell
    return out


def _cells(ref: str) -> list[str]:
    first, _, last = ref.partition(":")
    (c0, r0), (c1, r1) = split_a1(first), split_a1(last or first)  # a stored cell range: every bound is set
    return [a1(r, c) for c in range(c0, c1 + 1) for r in range(r0, r1 + 1)]
