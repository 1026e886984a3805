"""xlplan: follow-up of a Swedish municipal committee's plan, in Excel.

The public surface: the actions behind the commands and ribbon buttons — ``xlplan.fill``,
``xlplan.pull``, ``xlplan.flag``, ``xlplan.consolidate``, ``xlplan.submit_file``,
``xlplan.approve_file``, ``xlplan.return_file``, ``xlplan.plan_summary`` (the board pack is
``xlplan.export.export``) — and the plan and status basics.  The package is laid out as the
workflow: ``core/`` (pure rules), ``books/`` (one module per workbook kind), ``io/`` (every byte in
and out), ``kolada/``, ``xlsm/``, ``export/``, ``actions/`` and the faces ``cli``, ``excel`` and
``demo`` (see ``docs/architecture.md``).  Imports are lazy so that a ribbon button
(``RunPython``) only loads what its action needs.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from xlplan._lazy import lazy_getattr

if TYPE_CHECKING:
    from types import FrameType

__version__ = "0.1.0"


class _OpenpyxlWithoutNumpy:
    """Keeps openpyxl from importing numpy when nothing else has (a meta-path finder).

    openpyxl imports numpy only to accept numpy scalars as cell values
    (``openpyxl.compat.numbers``); xlplan never writes them, and numpy costs
    about a third of a second of every command and button that touches a
    workbook.  Once numpy is loaded by anything else (pandas, matplotlib,
    xlwings), openpyxl gets it as usual.
    """

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> None:
        if name != "numpy" or "numpy" in sys.modules:
            return None
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            if frame.f_globals.get("__name__") == "openpyxl.compat.numbers":
                raise ModuleNotFoundError("xlplan: openpyxl works without numpy", name="numpy")
            frame = frame.f_back
        return None


if not any(isinstance(f, _OpenpyxlWithoutNumpy) for f in sys.meta_path):
    sys.meta_path.insert(0, _OpenpyxlWithoutNumpy())

_EXPORTS = {
    "fill": "xlplan.actions.fill",
    "pull": "xlplan.actions.pull",
    "flag": "xlplan.actions.flag",
    "consolidate": "xlplan.actions.consolidate",
    "submit_file": "xlplan.actions.workflow",
    "approve_file": "xlplan.actions.workflow",
    "return_file": "xlplan.actions.workflow",
    "plan_summary": "xlplan.actions.check",
    "read_plan": "xlplan.books.plan",
    "plan_from_workbook": "xlplan.books.plan",
    "parse_target": "xlplan.core.targets",
    "parse_number": "xlplan.core.numbers",
    "evaluate": "xlplan.core.status",
    "Status": "xlplan.core.status",
    "parse_period": "xlplan.core.periods",
    "build_workbook": "xlplan.books.controller",
    "Problem": "xlplan.core.errors",
    "XlplanError": "xlplan.core.errors",
}

__all__ = sorted([*_EXPORTS, "__version__"])


__getattr__ = lazy_getattr("xlplan", _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
