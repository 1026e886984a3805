"""The committee writer's cell rules, which it decides per column once and per cell by the value:
wrapping and row heights, empty cells in total rows, NaN, control characters, shared decimals,
the status fill of the bilaga, and when texts are written inline."""

from __future__ import annotations

import dataclasses
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from openpyxl.worksheet.worksheet import Worksheet

from xlplan.books.bilaga import write_bilaga
from xlplan.books.committee import (
    HEADER_ROW,
    PROBLEMS,
    STATUS_COLOURS,
    TOTAL_ROW,
    CommitteeData,
    EconomyLine,
    has_escape_like_text,
    read_committee_workbook,
    shown_rows,
    sorted_indicators,
    wrapped_lines,
    write_committee_workbook,
)
from xlplan.core.codes import SEVERITY_WORDS
from xlplan.export.sample import sample_committee_data

FIRST = HEADER_ROW + 2  # 1-based: the first data row under the title rows and the header row


def _col(ws: Worksheet, header: str, header_row: int = HEADER_ROW + 1) -> int:
    """1-based column of *header* in the header row."""
    return next(c.column for c in ws[header_row] if c.value == header)


def _written(data: CommitteeData, tmp_path: Path, name: str = "nämnd.xlsx") -> Any:
    return openpyxl.load_workbook(write_committee_workbook(data, tmp_path / name))


def test_a_long_text_wraps_and_its_row_grows_for_it_alone(tmp_path: Path) -> None:
    base = sample_committee_data()
    long = "Upphandlingen av tekniken överprövades och arbetet har därför skjutits fram. " * 4
    broken = "Första raden\nAndra raden"
    huge = "x" * 20000
    acts = list(base.activities)
    acts[0] = dataclasses.replace(acts[0], comment=long)
    acts[1] = dataclasses.replace(acts[1], comment=broken)
    acts[2] = dataclasses.replace(acts[2], comment=huge)
    ws = _written(dataclasses.replace(base, activities=tuple(acts)), tmp_path)["Aktiviteter"]
    comment, text = _col(ws, "Kommentar"), _col(ws, "Aktivitet")
    heights = {r: ws.row_dimensions[r].height for r in range(FIRST, FIRST + 4)}
    # 15 points a line and 2 to spare (stored in whole pixels, so within half a point)
    assert heights[FIRST] == pytest.approx(15 * wrapped_lines(long, 48) + 2, abs=0.5)
    assert wrapped_lines(long, 48) > 4
    assert heights[FIRST + 1] == pytest.approx(15 * 2 + 2, abs=0.5)  # a line break wraps a short text too
    assert heights[FIRST + 2] == pytest.approx(409, abs=0.5)  # Excel's largest row height
    assert heights[FIRST + 3] is None  # short texts: the row keeps its height
    for r in range(FIRST, FIRST + 3):
        assert ws.cell(r, comment).alignment.wrap_text
        assert not ws.cell(r, text).alignment.wrap_text  # the other cells of the row do not wrap
    assert not ws.cell(FIRST + 3, comment).alignment.wrap_text
    assert ws.cell(FIRST + 1, comment).value == broken


def test_empty_cells_of_a_total_row_stay_bold_and_other_empty_cells_are_left_out(tmp_path: Path) -> None:
    base = sample_committee_data()
    lines = [EconomyLine("ABO", "Avdelning A", "Intäkter", None, 10.0, 12.0, None),
             EconomyLine("KVA", "Avdelning B", "Intäkter", None, 5.0, 6.0, None)]
    path = write_committee_workbook(dataclasses.replace(base, economy=tuple(lines)), tmp_path / "nämnd.xlsx")
    ws = openpyxl.load_workbook(path)["Ekonomi"]
    budget, kind = _col(ws, "Budget (tkr)"), _col(ws, "Radtyp")
    totals = [r for r in range(FIRST, ws.max_row + 1) if ws.cell(r, kind).value == TOTAL_ROW]
    assert len(totals) == 2  # the item's total and the overall total
    for r in totals:
        cell = ws.cell(r, budget)
        assert cell.value is None and cell.font.bold and cell.number_format == "#,##0;-#,##0"
        assert ws.cell(r, budget + 1).value == 15 and ws.cell(r, budget + 1).font.bold
    assert ws.cell(FIRST, budget).value is None and not ws.cell(FIRST, budget).has_style
    assert not ws.cell(FIRST, budget + 1).font.bold
    assert read_committee_workbook(path).economy == tuple(lines)


def test_nan_and_infinity_are_left_empty_and_control_characters_removed(tmp_path: Path) -> None:
    base = sample_committee_data()
    lines = list(sorted_indicators(base))
    lines[0] = dataclasses.replace(lines[0], outcome=float("nan"), comment="rad ett\x07\nrad två\tmed tabb")
    lines[1] = dataclasses.replace(lines[1], outcome=float("inf"))
    path = write_committee_workbook(dataclasses.replace(base, indicators=tuple(lines)), tmp_path / "nämnd.xlsx")
    ws = openpyxl.load_workbook(path)["Indikatorer"]
    outcome, analysis = _col(ws, "Utfall"), _col(ws, "Analys")
    assert ws.cell(FIRST, outcome).value is None and ws.cell(FIRST + 1, outcome).value is None
    assert ws.cell(FIRST + 2, outcome).value == lines[2].outcome
    assert ws.cell(FIRST, analysis).value == "rad ett\nrad två\tmed tabb"
    assert ws.cell(FIRST, analysis).alignment.wrap_text
    with zipfile.ZipFile(path) as zf:
        assert not any(b"#NUM!" in zf.read(n) for n in zf.namelist())


def test_the_values_of_one_indicator_share_their_decimals(tmp_path: Path) -> None:
    base = sample_committee_data()
    lines = [dataclasses.replace(x, outcome=None, target_value=None) for x in sorted_indicators(base)]
    ids = [x.indicator_id for x in lines]
    first = max(ids, key=ids.count)  # an indicator with several lines: the first shows two decimals, the rest none
    lead = lines[ids.index(first)]
    assert ids.count(first) > 1
    lines = [dataclasses.replace(x, outcome=12.25 if x is lead else 3) if x.indicator_id == first
             else dataclasses.replace(x, target_value=1000, outcome=float("nan")) for x in lines]
    ws = _written(dataclasses.replace(base, indicators=tuple(lines)), tmp_path)["Indikatorer"]
    outcome, target = _col(ws, "Utfall"), _col(ws, "Målvärde (tal)")
    for r, line in enumerate(lines, start=FIRST):
        if line.indicator_id == first:
            assert ws.cell(r, outcome).number_format == "#,##0.00"
        else:
            assert ws.cell(r, target).number_format == "#,##0" and ws.cell(r, target).value == 1000
            assert ws.cell(r, outcome).value is None


def test_the_bilaga_fills_the_status_column_only(tmp_path: Path) -> None:
    base = sample_committee_data()
    lines = list(sorted_indicators(base))
    word = lines[0].status
    lines[0] = dataclasses.replace(lines[0], comment=word)  # the same word in a text column stays unfilled
    ws = openpyxl.load_workbook(write_bilaga(dataclasses.replace(base, indicators=tuple(lines)),
                                             tmp_path / "bilaga.xlsx"))["Indikatorer"]
    status, analysis = _col(ws, "Status", 1), _col(ws, "Analys", 1)
    fill, font = STATUS_COLOURS[word]
    assert ws.cell(2, status).value == word and ws.cell(2, status).fill.fgColor.rgb.endswith(fill)
    assert ws.cell(2, status).font.color.rgb.endswith(font)
    assert ws.cell(2, analysis).value == word and ws.cell(2, analysis).fill.fill_type is None


def test_escape_like_texts_are_found_in_any_text_field(tmp_path: Path) -> None:
    base = sample_committee_data()
    assert not has_escape_like_text(base)
    lines = list(base.indicators)
    lines[-1] = dataclasses.replace(lines[-1], provenance="fil_x0041_.csv")
    assert has_escape_like_text(dataclasses.replace(base, indicators=tuple(lines)))
    # A number where a text is expected is looked at value by value, and still found.
    odd = dataclasses.replace(lines[0], baseline=83)  # type: ignore[arg-type]
    assert has_escape_like_text(dataclasses.replace(base, indicators=(odd, *lines[1:])))
    assert not has_escape_like_text(dataclasses.replace(base, indicators=(odd, *base.indicators[1:])))
    assert not has_escape_like_text(dataclasses.replace(base, comments=base.comments + (
        dataclasses.replace(base.comments[0], text="x_x004\n1_"),)))  # a line break is no part of an escape
    assert has_escape_like_text(dataclasses.replace(base, problems=base.problems + (
        dataclasses.replace(base.problems[0], message="se _x000D_"),)))
    tricky = dataclasses.replace(base, indicators=tuple(lines))
    path = write_committee_workbook(tricky, tmp_path / "knepig.xlsx")
    assert read_committee_workbook(path) == tricky


def test_rows_show_a_stored_word_as_its_swedish_word() -> None:
    problems = sample_committee_data().problems
    severity = next(c for c in PROBLEMS.columns if c.attr == "severity")
    assert shown_rows([severity], problems) == [[SEVERITY_WORDS[p.severity]] for p in problems]
    rows = shown_rows(PROBLEMS.ordered, problems)
    assert [row[-1] for row in rows] == [p.code for p in problems]  # the technical column last
    assert [row[3] for row in rows] == [SEVERITY_WORDS[p.severity] for p in problems]
