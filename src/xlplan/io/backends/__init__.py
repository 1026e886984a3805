"""Writers of a :class:`~xlplan.books.spec.WorkbookSpec`.

``openpyxl_backend`` writes a new file; an xlwings backend writes the same
description into an open workbook.
"""
