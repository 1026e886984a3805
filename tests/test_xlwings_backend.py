"""One layout, two writers: the xlwings backend (through the remote engine) vs the openpyxl backend."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook
from openpyxl.utils import range_boundaries

from xlplan.books.spec import (
    AreaSpec,
    ColumnSpec,
    Formula,
    Protection,
    RowSpec,
    SheetSpec,
    TitleRow,
    WorkbookSpec,
)
from xlplan.core.errors import WorkbookRefused
from xlplan.io.backends import openpyxl_backend
from xlplan.io.backends.xlwings_backend import NO_FILL, Write, _rectangles, excel_text, plan_sheet, write_workbook
from xlremote import RemoteActionError, apply_actions, open_remote_book, vba_client_problems

xw = pytest.importorskip("xlwings")

TRICKY = ["0012", "2024-03-31", "=inte en formel", "TRUE", "88 %", "#N/A", "Målvärde 2024", "-"]


def _columns() -> list[ColumnSpec]:
    return [
        ColumnSpec("row_id", "Rad-id", hidden=True),
        ColumnSpec("name", "Indikator"),
        ColumnSpec("outcome", "Utfall", input=True, number_format="#,##0.0"),
        ColumnSpec("date", "Datum", number_format="yyyy-mm-dd"),
        ColumnSpec("note", "Kommentar", input=True),
        ColumnSpec("status", "Status"),
    ]


def _indicator_rows(n: int, *, outcome: float = 10.0) -> list[RowSpec]:
    rows = [RowSpec("", {"name": "Mål 1"}, style="section")]
    for i in range(n):
        rows.append(RowSpec(
            f"I|{i}", {"name": TRICKY[i % len(TRICKY)], "outcome": outcome + i, "date": dt.date(2024, 3, 1) + dt.timedelta(days=i),
                       "status": Formula(f'=IF(C{7 + i}>12,"Uppfyllt","Ej uppfyllt")')},
            number_formats={"outcome": '0.0" %"'} if i < n // 2 else {},
        ))
    rows.append(RowSpec("S|tot", {"name": "Summa", "outcome": Formula(f"=SUM(C7:C{6 + n})")}, style="total"))
    rows.append(RowSpec("", {"name": "Not: preliminära siffror."}, style="note"))
    return rows


def _spec(n: int, *, outcome: float = 10.0, protected: bool = True) -> WorkbookSpec:
    protection = Protection(protected)
    indicators = SheetSpec("Mål och indikatorer", _columns(), 5,
                           [TitleRow("Mål och indikatorer – Äldreomsorg"), TitleRow("Uppföljning 2024", "subtitle")],
                           _indicator_rows(n, outcome=outcome), protection=protection)
    overview = SheetSpec("Översikt", [ColumnSpec("row_id", "Rad-id", hidden=True), ColumnSpec("label", "Fält"),
                                      ColumnSpec("value", "Värde", input=True)], 5,
                         [TitleRow("Uppföljning")], protection=protection)
    for i in range(n):
        overview.rows.append(RowSpec(f"O|{i}", {"label": f"Fält {i}", "value": i * 1.5}))
    overview.areas.append(AreaSpec("xlplan_flaggor", "Översikt", "Flaggor", overview.last_data_row + 2, 2, 4,
                                   "Inga flaggor ännu."))
    meta = SheetSpec("_xlplan", [ColumnSpec("row_id", "Rad-id"), ColumnSpec("value", "Värde")], 1,
                     rows=[RowSpec("template_version", {"value": "1"})], visibility="veryHidden",
                     protection=protection)
    return WorkbookSpec([overview, indicators, meta], active="Översikt")


def _build(spec: WorkbookSpec, path: Path, flags: list[str] = ()) -> Path:
    wb = openpyxl_backend.build_workbook(spec)
    area = spec.sheet("Översikt").areas[0]
    for i, text in enumerate(flags):
        wb["Översikt"].cell(area.start_row + i, area.start_column, text)
    wb.save(path)
    return path


def _through_xlwings(base: Path, spec: WorkbookSpec, out: Path, **kwargs: Any) -> list[dict[str, Any]]:
    book = open_remote_book(base)
    write_workbook(book, spec)
    actions = book.json()["actions"]
    assert vba_client_problems(actions) == []
    apply_actions(base, actions, out, **kwargs)
    return actions


def _fill(cell: Any) -> str | None:
    """The solid fill of a cell; white counts as none (see NO_FILL in the backend)."""
    rgb = cell.fill.fgColor.rgb[-6:].upper() if cell.fill.fill_type == "solid" else None
    return None if rgb == NO_FILL else rgb


def _differences(expected: Path, actual: Path, spec: WorkbookSpec) -> list[str]:
    """Every cell where values, number formats or fills differ (empty: none)."""
    exp_wb, act_wb = load_workbook(expected), load_workbook(actual)
    found = []
    for sheet in spec.sheets:
        exp, act = exp_wb[sheet.name], act_wb[sheet.name]
        for r in range(1, max(exp.max_row, act.max_row) + 1):
            for c in range(1, max(exp.max_column, act.max_column) + 1):
                e, a = exp.cell(r, c), act.cell(r, c)
                for what, ev, av in (("value", e.value if e.value != "" else None, a.value),
                                     ("number format", e.number_format, a.number_format),
                                     ("fill", _fill(e), _fill(a))):
                    if ev != av:
                        found.append(f"{sheet.name}!{e.coordinate} {what}: {ev!r} != {av!r}")
    return found


def test_a_grown_table_matches_the_openpyxl_backend(tmp_path: Path) -> None:
    spec = _spec(9)
    base = _build(_spec(0), tmp_path / "bas.xlsx")
    _build(spec, tmp_path / "facit.xlsx")
    _through_xlwings(base, spec, tmp_path / "ut.xlsx", enforce_protection=False)
    assert _differences(tmp_path / "facit.xlsx", tmp_path / "ut.xlsx", spec) == []
    wb = load_workbook(tmp_path / "ut.xlsx")
    assert wb.defined_names["xlplan_flaggor"].attr_text == "'Översikt'!$B$16"
    assert wb["Mål och indikatorer"]["B7"].value == "0012"  # text stays text
    assert wb["Mål och indikatorer"]["B9"].data_type == "s"  # "=inte en formel" is no formula


def test_a_shrunk_table_clears_the_rows_left_over(tmp_path: Path) -> None:
    spec = _spec(3)
    base = _build(_spec(9), tmp_path / "bas.xlsx", flags=["I|2: utfall saknas"])
    _build(spec, tmp_path / "facit.xlsx")
    _through_xlwings(base, spec, tmp_path / "ut.xlsx", enforce_protection=False)
    assert _differences(tmp_path / "facit.xlsx", tmp_path / "ut.xlsx", spec) == []


def test_a_rewrite_in_place_keeps_the_flag_list(tmp_path: Path) -> None:
    spec = _spec(5, outcome=20.0)
    base = _build(_spec(5), tmp_path / "bas.xlsx", flags=["I|1: utfall saknas", "I|3: under målvärdet"])
    _build(spec, tmp_path / "facit.xlsx", flags=["I|1: utfall saknas", "I|3: under målvärdet"])
    actions = _through_xlwings(base, spec, tmp_path / "ut.xlsx", enforce_protection=False)
    assert _differences(tmp_path / "facit.xlsx", tmp_path / "ut.xlsx", spec) == []
    assert load_workbook(tmp_path / "ut.xlsx")["Mål och indikatorer"]["C7"].value == 20
    colours = {a["args"][0] for a in actions if a["func"] == "setRangeColor"}
    assert "#" + NO_FILL not in colours  # rows in place: no fill needs neutralising


def test_the_department_workbook_round_trips(tiny_plan, tmp_path: Path) -> None:
    from xlplan.books.department.layout import department_workbook
    from xlplan.core.periods import parse_period

    spec = department_workbook(tiny_plan, tiny_plan.departments[0], parse_period("2024-delår"),
                               generated_at="2024-09-01T08:00:00+00:00")
    empty = copy.deepcopy(spec)
    for sheet in empty.sheets:
        sheet.rows.clear()
    base = _build_plain(empty, tmp_path / "bas.xlsx")
    _build_plain(spec, tmp_path / "facit.xlsx")
    _through_xlwings(base, spec, tmp_path / "ut.xlsx", enforce_protection=False)
    assert _differences(tmp_path / "facit.xlsx", tmp_path / "ut.xlsx", spec) == []


def _build_plain(spec: WorkbookSpec, path: Path) -> Path:
    openpyxl_backend.build_workbook(spec).save(path)
    return path


def test_protected_sheets_refuse_the_writes_as_excel_does(tmp_path: Path) -> None:
    base = _build(_spec(0), tmp_path / "bas.xlsx")
    with pytest.raises(RemoteActionError, match="sheet 'Översikt' is protected"):
        _through_xlwings(base, _spec(2), tmp_path / "ut.xlsx")
    assert not (tmp_path / "ut.xlsx").exists()


def test_an_unprotected_book_needs_no_exemption(tmp_path: Path) -> None:
    spec = _spec(4, protected=False)
    base = _build(_spec(1, protected=False), tmp_path / "bas.xlsx")
    _build(spec, tmp_path / "facit.xlsx")
    _through_xlwings(base, spec, tmp_path / "ut.xlsx")
    assert _differences(tmp_path / "facit.xlsx", tmp_path / "ut.xlsx", spec) == []


def test_the_plan_is_a_few_range_writes_whatever_the_row_count() -> None:
    small = plan_sheet(_spec(6).sheet("Mål och indikatorer"))
    large = plan_sheet(_spec(600).sheet("Mål och indikatorer"))
    kinds = lambda ws: sorted(w.kind for w in ws)  # noqa: E731
    assert kinds(small) == kinds(large)
    assert len(large) < 20
    assert Write("color", "A5:F5", "#1F4E78") in large


def test_missing_sheet_is_refused_in_swedish(tmp_path: Path) -> None:
    spec = _spec(2)
    wb = openpyxl_backend.build_workbook(spec)
    wb.remove(wb["Mål och indikatorer"])
    wb.save(tmp_path / "bas.xlsx")
    with pytest.raises(WorkbookRefused, match="bladet/bladen 'Mål och indikatorer' saknas"):
        write_workbook(open_remote_book(tmp_path / "bas.xlsx"), spec)


@pytest.mark.parametrize(
    ("text", "written"),
    [("Indikator", "Indikator"), ("0012", "'0012"), ("=A1", "'=A1"), ("true", "'true"), ("Sant", "'Sant"),
     ("#N/A", "'#N/A"), ("1 jan", "'1 jan"), ("-", "'-"), ("", ""), ("a\x07b", "ab")],
)
def test_excel_text(text: str, written: str) -> None:
    assert excel_text(text) == written


@given(st.dictionaries(st.tuples(st.integers(1, 8), st.integers(1, 6)), st.sampled_from(["a", "b", None]),
                      max_size=40))
def test_rectangles_cover_each_cell_once_with_its_value(grid: dict[tuple[int, int], Any]) -> None:
    covered: dict[tuple[int, int], Any] = {}
    for address, value in _rectangles(grid):
        min_col, min_row, max_col, max_row = range_boundaries(address)
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                assert (r, c) not in covered
                covered[(r, c)] = value
    assert covered == grid
