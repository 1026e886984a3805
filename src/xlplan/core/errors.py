"""Errors and problems.

Expected problems are *data* (:class:`Problem`); validators return lists of
them and only an orchestrator (``fill``, ``consolidate`` …) raises, once, with
all of them.  Foreign exceptions are translated at the adapter edge and always
chained (``raise … from exc``).

Hierarchy::

    XlplanError                      base: a message in Swedish for the user
    ├── PlanInvalid                  a plan workbook with one or more problems
    ├── WorkbookUnreadable           a file that is not a readable workbook
    ├── WorkbookRefused              a readable workbook that is not ours / not this one
    ├── BadInput                     a bad argument (period, target text …)
    ├── KoladaUnavailable            Kolada could not be reached or answered badly
    └── ExportFailed                 the board pack could not be written
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from xlplan.core.codes import Code, Severity

__all__ = ["Code", "Severity", "Problem", "KOLADA_DOWN", "XlplanError", "PlanInvalid", "WorkbookUnreadable",
           "WorkbookRefused", "RowsSorted", "BadInput", "KoladaUnavailable", "ExportFailed", "LOG_DIR_ENV",
           "log_dir", "log_exception", "unexpected_message", "report_unexpected", "file_problem", "fix_lines",
           "blocking"]

KOLADA_DOWN = Code.KOLADA_OTILLGANGLIG  # Kolada could not be reached; only its rows wait


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where, what (a :class:`~xlplan.core.codes.Code`), and a Swedish message.

    The severity is the code's unless given; the fix (*Åtgärd*) is the code's.
    """

    code: Code
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    severity: Severity = None  # type: ignore[assignment]  # None: the code's severity
    action: str | None = None  # what xlplan did about it ("raden hoppades över" …)

    def __post_init__(self) -> None:
        code = Code.of(self.code)  # a code string from a report reads back as its Code; an unknown one is a bug
        object.__setattr__(self, "code", code)
        if self.severity is None:
            object.__setattr__(self, "severity", code.severity)

    @property
    def fix(self) -> str:
        """What to do about it (Swedish), the same for every problem of this code."""
        return self.code.fix

    def where(self) -> str:
        parts = []
        if self.file:
            parts.append(self.file)
        if self.sheet:
            parts.append(f"blad '{self.sheet}'")
        if self.cell:
            parts.append(f"cell {self.cell}")
        return ", ".join(parts)

    def __str__(self) -> str:
        w = self.where()
        return f"{w}: {self.message}" if w else self.message

    def to_json(self) -> dict[str, object]:
        return {**asdict(self), "code": self.code.value, "fix": self.fix}


class XlplanError(Exception):
    """Base class; ``str(err)`` is a Swedish message fit for a user."""


class PlanInvalid(XlplanError):
    def __init__(self, path: str, problems: Iterable[Problem]):
        self.path = path
        self.problems = list(problems)
        n = len(self.problems)
        head = f"Planen {path} har {n} fel" if n != 1 else f"Planen {path} har 1 fel"
        lines = [head + ":"] + [f"  - {p}" for p in self.problems]
        super().__init__("\n".join(lines))


class WorkbookUnreadable(XlplanError):
    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: filen kan inte läsas som en arbetsbok: {reason}")


class WorkbookRefused(XlplanError):
    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: {reason}")


class RowsSorted(WorkbookRefused):
    """Rows were sorted without their hidden Rad-id: what was typed now sits on other rows' Rad-ids."""


class BadInput(XlplanError):
    """A bad argument or value given by the user."""


class KoladaUnavailable(XlplanError):
    """Kolada did not answer, or answered with something unusable."""


class ExportFailed(XlplanError):
    """The board pack could not be written."""


# ---------------------------------------------------------------- the unexpected (faces only)

LOG_DIR_ENV = "XLPLAN_LOG_DIR"


def log_dir() -> Path:
    """Where tracebacks go: ``$XLPLAN_LOG_DIR``, else ``~/.xlplan/logs``."""
    import os

    given = os.environ.get(LOG_DIR_ENV)
    return Path(given) if given else Path.home() / ".xlplan" / "logs"


def log_exception(exc: BaseException, context: str) -> Path | None:
    """Append *exc*'s traceback to today's log file (``xlplan-YYYYMMDD.log``); its path, or None.

    Falls back to the system's temporary folder when the log folder cannot be written.
    """
    import datetime as dt
    import tempfile
    import traceback

    from xlplan.core.naming import log_file

    now = dt.datetime.now()
    text = (f"==== {now.isoformat(timespec='seconds')} {context}\n"
            + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)) + "\n")
    for folder in (log_dir(), Path(tempfile.gettempdir()) / "xlplan-logs"):
        path = folder / log_file(now)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            with open(path, "a", encoding="utf-8") as fh:
                fh.write(text)
        except OSError:
            continue
        return path
    return None


def _os_reason(exc: OSError) -> str:
    import errno

    if exc.errno == errno.ENAMETOOLONG:
        return "namnet är för långt för filsystemet; korta avdelningens eller mappens namn"
    if isinstance(exc, PermissionError):
        return "åtkomst nekad: filen är öppen i ett annat program, skrivskyddad, eller du saknar skrivrätt i mappen"
    if isinstance(exc, FileNotFoundError):
        return "filen eller mappen finns inte"
    if exc.errno == errno.ENOSPC:
        return "disken är full"
    return exc.strerror or str(exc)


def unexpected_message(exc: BaseException, context: str, file: str | None = None,
                       log: Path | None = None) -> str:
    """A Swedish message for an error xlplan did not expect: what failed, where, and what to do."""

    if isinstance(exc, OSError):
        where = exc.filename or file
        name = f"{Path(str(where)).name}: " if where else ""
        head = f"{context} kunde inte köras klart. {name}{_os_reason(exc)}."
        todo = ("Gör så här: stäng filen om den är öppen, kontrollera namnet och att du får skriva i mappen, "
                "och försök igen.")
    else:
        where = f" (fil: {Path(file).name})" if file else ""
        head = f"{context} stoppades av ett oväntat fel{where}: {type(exc).__name__}: {exc}"
        todo = ("Gör så här: kontrollera att filen är en fil från xlplan och inte är skadad, och försök igen. "
                "Händer det igen, skicka loggfilen till den som förvaltar xlplan.")
    lines = [head, "Filer som xlplan skriver byts bara ut när de skrivits klart, så ingen fil lämnades halvskriven.",
             todo]
    if log is not None:
        lines.append(f"Tekniska detaljer finns i loggfilen {log}")
    return "\n".join(lines)


def report_unexpected(exc: BaseException, context: str, file: str | None = None) -> str:
    """Log *exc*'s traceback and return the Swedish message (with the log's path) for the user."""
    return unexpected_message(exc, context, file, log_exception(exc, context))


def file_problem(path: str | Path, exc: BaseException, action: str = "filen hoppades över") -> Problem:
    """One file's failure in a folder run as a :class:`Problem` naming the file (the run goes on)."""
    name = Path(path).name
    if isinstance(exc, WorkbookUnreadable):
        return Problem(Code.OLASBAR, f"Filen kan inte läsas: {exc.reason}.", name, action=action)
    if isinstance(exc, WorkbookRefused):
        reason = exc.reason[:1].upper() + exc.reason[1:]
        return Problem(Code.AVVISAD, reason if reason.endswith((".", "!", ")")) else reason + ".", name, action=action)
    if isinstance(exc, XlplanError):
        return Problem(Code.AVVISAD, str(exc), name, action=action)
    if isinstance(exc, OSError):
        return Problem(Code.FILFEL, _os_reason(exc)[:1].upper() + _os_reason(exc)[1:] + ".", name, action=action)
    return Problem(Code.INTERNT_FEL, f"Oväntat fel: {type(exc).__name__}: {exc}.", name, action=action)


def fix_lines(problems: Iterable[Problem]) -> list[str]:
    """'Så gör du' for a printed list of problems: each code's fix once, in the order the codes first appear."""
    codes = list(dict.fromkeys(p.code for p in problems))
    return ["Så gör du:"] + [f"  {c.label} ({c.value}): {c.fix}" for c in codes] if codes else []


def blocking(problems: Iterable[Problem]) -> bool:
    """True when a problem means a file was skipped or not written (exit code 1 in the CLI)."""
    return any(p.severity == "fel" for p in problems)
