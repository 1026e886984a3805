"""Texts that look like OOXML's ``_xHHHH_`` escape survive writing and reading (committee, bilaga, department)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook
from python_calamine import CalamineWorkbook

from xlplan.books.bilaga import write_bilaga
from xlplan.books.committee import CommentLine, CommitteeData, read_committee_workbook, write_committee_workbook
from xlplan.books.department.columns import INDICATORS
from xlplan.books.department.layout import department_workbook
from xlplan.books.plan import read_plan
from xlplan.core.periods import Period
from xlplan.export.sample import sample_committee_data
from xlplan.io.backends.openpyxl_backend import write_workbook
from xlplan.io.xmltext import escape_cell_text, unescape_cell_text

NAME = "has_x000D_.xlsx"
TRICKY = [NAME, "a_x005F_b", "_x000d_ och _X000D_", "x000D_", "__x0041__", "_x00E5_x_"]


@pytest.mark.parametrize("text,escaped", [
    (NAME, "has_x005F_x000D_.xlsx"), ("a_x005F_b", "a_x005F_x005F_b"), ("_x00e5_", "_x005F_x00e5_"),
    ("_X000D_", "_X000D_"), ("_x00G1_", "_x00G1_"), ("x000D_", "x000D_"), ("vanlig text", "vanlig text"),
])
def test_escape(text: str, escaped: str) -> None:
    assert escape_cell_text(text) == escaped
    assert unescape_cell_text(escaped) == text


_PIECES = st.sampled_from(["_", "x", "_x", "000D", "005F", "00e5", "_x000D_", "å", " ", "A"])


@given(st.lists(_PIECES, max_size=12).map("".join))
def test_unescape_undoes_escape(text: str) -> None:
    assert unescape_cell_text(escape_cell_text(text)) == text


def calamine_cells(path: Path, sheet: str) -> list[Any]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
    return [v for row in rows for v in row]


def openpyxl_cells(path: Path, sheet: str) -> list[Any]:
    """openpyxl hands back the XML text as it stands; decoded as every other reader does."""
    ws = load_workbook(path)[sheet]
    return [unescape_cell_text(v) if isinstance(v, str) else v for row in ws.iter_rows(values_only=True) for v in row]


def committee_with(texts: list[str]) -> CommitteeData:
    base = sample_committee_data()
    line = dataclasses.replace(base.indicators[0], comment=texts[0], indicator=texts[-1])
    comments = tuple(CommentLine(None, None, None, None, t) for t in texts)
    return CommitteeData(dataclasses.replace(base.meta, committee=NAME), indicators=(line,), comments=comments)


def test_committee_workbook_keeps_the_literal_text(tmp_path: Path) -> None:
    data = committee_with(TRICKY)
    path = write_committee_workbook(data, tmp_path / "nämnd.xlsx")
    assert read_committee_workbook(path) == data
    for read in (calamine_cells, openpyxl_cells):
        cells = read(path, "Kommentarer")
        assert all(t in cells for t in TRICKY), read.__name__
        assert not any(isinstance(v, str) and "\r" in v for v in cells), read.__name__
        assert NAME in read(path, "_xlplan")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@example(text="_x000D_x000D_")  # overlapping escapes (XlsxWriter searched without overlap)
@given(text=st.lists(_PIECES, min_size=1, max_size=10).map("".join).map(str.strip).filter(bool))
def test_any_escape_like_text_round_trips_the_committee_workbook(tmp_path: Path, text: str) -> None:
    data = committee_with([text])
    assert read_committee_workbook(write_committee_workbook(data, tmp_path / "p.xlsx")) == data


def test_bilaga_keeps_the_literal_text(tmp_path: Path) -> None:
    path = write_bilaga(committee_with(TRICKY), tmp_path / "bilaga.xlsx")
    for read in (calamine_cells, openpyxl_cells):
        assert TRICKY[0] in read(path, "Indikatorer") and TRICKY[-1] in read(path, "Indikatorer")
        assert NAME in read(path, "Om bilagan")


def test_department_workbook_keeps_the_literal_text(tiny_plan_path: Path, tmp_path: Path) -> None:
    plan = read_plan(tiny_plan_path)
    renamed = dataclasses.replace(plan.indicators[0], name=NAME)
    plan = dataclasses.replace(plan, indicators=(renamed, *plan.indicators[1:]))
    dep = next(d for d in plan.departments if d.id == "ALD")
    path = tmp_path / "avdelning.xlsx"
    write_workbook(department_workbook(plan, dep, Period(2024, "delår")), path)
    for read in (calamine_cells, openpyxl_cells):
        cells = read(path, INDICATORS)
        assert NAME in cells, read.__name__
        assert not any(isinstance(v, str) and "\r" in v for v in cells), read.__name__
