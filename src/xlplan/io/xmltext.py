"""Text for a cell of an .xlsx file: OOXML's ``_xHHHH_`` escape.

In a workbook's XML, ``_xHHHH_`` (four hex digits) stands for the character
U+HHHH; Excel, LibreOffice and python-calamine decode it when they read a
text.  A text that itself contains such a sequence (a file named
``has_x000D_.xlsx``) must therefore be written with its underscore escaped,
``_x005F_x000D_``, or readers show a carriage return.  openpyxl writes texts as
they are, so every writer of texts calls :func:`escape_cell_text` first.

openpyxl does not decode the escape when it reads either: its raw value is
turned back into the text with :func:`unescape_cell_text`.
"""

from __future__ import annotations

import re

__all__ = ["escape_cell_text", "unescape_cell_text"]

_LITERAL = re.compile(r"_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_UNDERSCORE = "_x005F_"


def escape_cell_text(text: str) -> str:
    """*text* with the underscore of every ``_xHHHH_`` written as ``_x005F_`` (unchanged otherwise)."""
    if "_x" not in text:
        return text
    return _LITERAL.sub(_UNDERSCORE, text)


def unescape_cell_text(raw: str) -> str:
    """The text a cell's raw XML value *raw* stands for (``_xHHHH_`` decoded, left to right)."""
    if "_x" not in raw:
        return raw
    return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), raw)
