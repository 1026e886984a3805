"""Build macro-enabled workbooks (.xlsm) on any platform: VBA project, ribbon, code names.

Names are imported on first use, so that ``xlplan.xlsm.parts`` (which flag and pull use
to keep the ribbon of a file they save) does not load the project builder.
"""

from __future__ import annotations

from xlplan._lazy import lazy_getattr

_EXPORTS = {
    "VbaModule": "xlplan.xlsm.vbaproject",
    "build_vba_project": "xlplan.xlsm.package",
    "default_modules": "xlplan.xlsm.sources",
    "make_xlsm": "xlplan.xlsm.package",
    "read_vba_modules": "xlplan.xlsm.package",
    "ribbon_xml": "xlplan.xlsm.sources",
}

__all__ = ["VbaModule", "build_vba_project", "default_modules", "make_xlsm", "read_vba_modules", "ribbon_xml"]


__getattr__ = lazy_getattr("xlplan.xlsm", _EXPORTS, globals())
