"""Build macro-enabled workbooks (.xlsm) on any platform: VBA project, ribbon, code names."""

from xlplan.xlsm.package import (
    VbaModule,
    build_vba_project,
    default_modules,
    make_xlsm,
    read_vba_modules,
    ribbon_xml,
)

__all__ = ["VbaModule", "build_vba_project", "default_modules", "make_xlsm", "read_vba_modules", "ribbon_xml"]
