"""Excel cell addresses: column letters and A1 references, 1-based as Excel counts (pure)."""

from __future__ import annotations

import re

__all__ = ["column_letter", "column_number", "a1", "split_a1", "A1"]

A1 = re.compile(r"^(\$?)([A-Za-z]{1,3})(\$?)([0-9]+)$")  # a cell reference, absolute marks included


def column_letter(index: int) -> str:
    """1-based column number -> letters (1 -> A, 28 -> AB)."""
    letters = ""
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_number(letters: str) -> int:
    """Column letters -> 1-based number (A -> 1, AB -> 28); case and ``$`` ignored."""
    number = 0
    for ch in letters.replace("$", "").upper():
        number = number * 26 + ord(ch) - 64
    return number


def a1(row: int, col: int) -> str:
    """1-based row and column -> ``B3``."""
    return f"{column_letter(col)}{row}"


def split_a1(ref: str) -> tuple[int, int]:
    """``B3`` or ``$B$3`` -> (column, row), 1-based; ValueError when *ref* is not one cell."""
    m = A1.match(ref.strip())
    if m is None:
        raise ValueError(ref)
    return column_number(m.group(2)), int(m.group(4))
