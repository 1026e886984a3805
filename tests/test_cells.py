"""Cell addresses: one definition of column letters and A1 references (xlplan.core.cells)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl.utils.cell import column_index_from_string, get_column_letter

from xlplan.core.cells import a1, column_letter, column_number, split_a1


@given(st.integers(min_value=1, max_value=16384))
def test_column_letters_agree_with_openpyxl(n: int) -> None:
    assert column_letter(n) == get_column_letter(n)
    assert column_number(column_letter(n)) == n == column_index_from_string(get_column_letter(n))


@given(st.integers(min_value=1, max_value=1_048_576), st.integers(min_value=1, max_value=16384))
def test_a1_round_trip(row: int, col: int) -> None:
    assert split_a1(a1(row, col)) == (col, row)
    assert split_a1("$" + column_letter(col) + "$" + str(row)) == (col, row)


@pytest.mark.parametrize("bad", ["", "A", "12", "A1:B2", "Blad!A1"])
def test_split_a1_refuses_what_is_not_one_cell(bad: str) -> None:
    with pytest.raises(ValueError):
        split_a1(bad)
