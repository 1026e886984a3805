"""xlplan: follow-up of a Swedish municipal committee's plan, in Excel.

The public surface. The actions behind the CLI commands and ribbon buttons live in
submodules of the same name — ``xlplan.fill.fill``, ``xlplan.pull.pull``,
``xlplan.flag.flag``, ``xlplan.consolidate.consolidate``, ``xlplan.export.export`` —
so they are not re-exported here (a submodule import would shadow the function).
Imports are lazy so that a ribbon button (``RunPython``) only loads what its action needs.
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
    "read_plan": "xlplan.planio",
    "plan_from_workbook": "xlplan.planio",
    "parse_target": "xlplan.targets",
    "parse_number": "xlplan.numbers",
    "evaluate": "xlplan.status",
    "Status": "xlplan.status",
    "parse_period": "xlplan.periods",
    "build_workbook": "xlplan.workbook_build",
    "Problem": "xlplan.errors",
    "XlplanError": "xlplan.errors",
}

__all__ = sorted(_EXPORTS) + ["__version__"]


__getattr__ = lazy_getattr("xlplan", _EXPORTS, globals())


def __dir__() -> list[str]:
    return __all__
