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

from dataclasses import asdict, dataclass
from typing import Iterable, Literal

Severity = Literal["fel", "varning", "info"]


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where, what (stable code), and a Swedish message."""

    code: str
    message: str
    file: str | None = None
    sheet: str | None = None
    cell: str | None = None
    severity: Severity = "fel"
    action: str | None = None  # what xlplan did about it ("raden hoppades över" …)

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
        return asdict(self)


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


class BadInput(XlplanError):
    """A bad argument or value given by the user."""


class KoladaUnavailable(XlplanError):
    """Kolada did not answer, or answered with something unusable."""


class ExportFailed(XlplanError):
    """The board pack could not be written."""
