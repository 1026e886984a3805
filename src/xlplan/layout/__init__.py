"""Sheet descriptions: what each workbook looks like, as data (see :mod:`xlplan.layout.spec`)."""

from xlplan.layout.spec import (
    TEMPLATE_VERSION,
    AreaSpec,
    ColumnSpec,
    ConditionalFormat,
    Formula,
    PrintSetup,
    Protection,
    RowSpec,
    SheetSpec,
    TitleRow,
    Validation,
    WorkbookSpec,
)

__all__ = [
    "TEMPLATE_VERSION", "AreaSpec", "ColumnSpec", "ConditionalFormat", "Formula", "PrintSetup",
    "Protection", "RowSpec", "SheetSpec", "TitleRow", "Validation", "WorkbookSpec",
]
