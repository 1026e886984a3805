"""What a person typed in a department file is kept as typed, or refused with a way out (issue 13, 1, 5-7).

Real files: a tiny plan is filled, a person's edit is made with openpyxl (or by writing the cell
XML Excel would write), and flag, pull and fill --update run on them.
"""

from __future__ import annotations

import copy
import re
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from excel_typing import type_cells
from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.flag import flag
from xlplan.actions.pull import pull
from xlplan.books.department.columns import HEADER_ROW, INDICATORS, META, NOTES, REMOVED
from xlplan.books.department.embedded import SHEET as EMBEDDED_SHEET
from xlplan.books.department.reader import arithmetic, read_department_workbook
from xlplan.core.errors import RowsSorted
from xlplan.io.atomic import BACKUP_DIR
from xlplan.xlsm.package import build_vba_project, read_vba_modules
from xlplan.xlsm.reading import VBA_PART, has_code, vba_modules
from xlplan.xlsm.sources import bas_module
from xlplan.xlsm.vbaproject import VbaModule

PERIOD = "2024-helår"
PULLED = "I|I3|"  # read from sjuk.csv by pull
TYPED = "I|I2|Äldre"


@pytest.fixture
def tables(local_export_tables: dict[str, Any]) -> dict[str, Any]:
    return local_export_tables


@pytest.fixture
def setup(tables: dict[str, Any], write_tables: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    """(plan, the Äldreomsorg file)."""
    plan = write_tables(tables, "plan.xlsx")
    (tmp_path / "sjuk.csv").write_text(f"Enhet;Period;Värde\nALD;{PERIOD};7,5\n", encoding="utf-8")
    out = tmp_path / "avd"
    fill(plan, PERIOD, ["ALD"], out, generated_at="2026-01-01T00:00:00+00:00")
    (path,) = out.glob("*.xls[xm]")
    return plan, path


def cell_of(path: Path, row_id: str, key: str = "outcome") -> str:
    address = read_department_workbook(path).address(INDICATORS, row_id, key)
    assert address is not None
    return address


def type_in(path: Path, row_id: str, value: Any, key: str = "outcome") -> str:
    cell = cell_of(path, row_id, key)
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    wb[INDICATORS][cell] = value
    wb.save(path)
    return cell


def store_cached(path: Path, cell: str, value: str, error: bool = False) -> None:
    """Write the value Excel stores with a formula into *cell* of the indicator sheet (openpyxl stores none)."""
    with zipfile.ZipFile(path) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    part = next(n for n, data in entries.items() if n.startswith("xl/worksheets/sheet") and
                f'r="{cell}"'.encode() in data and b"<f>" in data and INDICATORS_MARK in sheet_name(entries, n))
    xml = entries[part].decode("utf-8")
    pattern = re.compile(rf'<c r="{cell}"([^>]*)>(<f>[^<]*</f>)(?:<v\s*/>|<v>[^<]*</v>)?</c>')
    match = pattern.search(xml)
    assert match is not None, xml[:200]
    attrs = re.sub(r'\s+t="[^"]*"', "", match.group(1)) + (' t="e"' if error else "")
    entries[part] = pattern.sub(f'<c r="{cell}"{attrs}>{match.group(2)}<v>{value}</v></c>', xml).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


INDICATORS_MARK = INDICATORS


def sheet_name(entries: dict[str, bytes], part: str) -> str:
    book = entries["xl/workbook.xml"].decode("utf-8")
    rels = entries["xl/_rels/workbook.xml.rels"].decode("utf-8")
    target = part.removeprefix("xl/")
    rid = re.search(rf'Id="([^"]+)"[^>]*Target="/?(?:xl/)?{re.escape(target)}"', rels) or \
        re.search(rf'Target="/?(?:xl/)?{re.escape(target)}"[^>]*Id="([^"]+)"', rels)
    assert rid is not None
    m = re.search(rf'<sheet [^>]*name="([^"]+)"[^>]*r:id="{rid.group(1)}"', book)
    return m.group(1) if m else ""


def formula_in(path: Path, cell: str) -> Any:
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    return wb[INDICATORS][cell].value


# ---------------------------------------------------------------- 1. formulas typed into input cells


def test_arithmetic_is_computed_without_eval() -> None:
    assert arithmetic("=10+5") == 15
    assert arithmetic("=(1+2)*3-4/8") == 8.5
    assert arithmetic("=-1,5+2") == 0.5
    for text in ("=A1+1", "=SUM(1;2)", "=__import__('os')", "=1+", "=(1", "=", "=2**3"):
        with pytest.raises(ValueError):
            arithmetic(text)
    with pytest.raises(ZeroDivisionError):
        arithmetic("=1/0")


def test_a_formula_is_read_by_its_stored_value_else_computed(setup: tuple[Path, Path]) -> None:
    _, path = setup
    cell = type_in(path, TYPED, "=10+5")  # openpyxl stores no value: computed by xlplan
    book = read_department_workbook(path)
    row = book.row(INDICATORS, TYPED)
    assert row is not None and row.values["outcome"] == 15 and row.formulas == {"outcome": "=10+5"}
    assert not [p for p in book.problems if p.cell == cell]
    store_cached(path, cell, "16")  # Excel's stored value wins (it may know more than the text says)
    assert read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 16


def test_a_formula_xlplan_cannot_compute_is_named_never_empty(setup: tuple[Path, Path]) -> None:
    _, path = setup
    cell = type_in(path, TYPED, "=ROUND(10/3,1)")
    book = read_department_workbook(path)
    (p,) = [p for p in book.problems if p.cell == cell]
    assert p.code == "formel_raknas_i_excel" and p.sheet == INDICATORS and p.file == path.name
    assert "räknas om i Excel" in p.message and "=ROUND(10/3,1)" in p.message
    store_cached(path, cell, "3.3")
    book = read_department_workbook(path)
    assert book.value(INDICATORS, TYPED, "outcome") == 3.3 and not [p for p in book.problems if p.cell == cell]


def test_pull_never_writes_over_a_formula(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    cell = type_in(path, PULLED, "=2+3")
    result = pull(path, plan)
    assert formula_in(path, cell) == "=2+3"
    (change,) = [c for c in result.changes if c.row_id == PULLED]
    assert change.action == "behåll_inskrivet" and "=2+3" in change.message
    # a formula xlplan cannot compute is no empty cell either
    type_in(path, PULLED, "=ROUND(2.25,1)")
    pull(path, plan)
    assert formula_in(path, cell) == "=ROUND(2.25,1)"


def test_flag_resave_keeps_the_formula_and_its_value_is_still_read(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    cell = type_in(path, TYPED, "=40+2")
    store_cached(path, cell, "42")
    flag(path, plan)
    assert formula_in(path, cell) == "=40+2"
    assert read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 42


def test_refill_keeps_the_formula(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    typed = type_in(path, TYPED, "=10+5")
    other = type_in(path, PULLED, "=ROUND(7.46,1)")
    fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert formula_in(path, cell_of(path, TYPED)) == "=10+5"
    assert formula_in(path, cell_of(path, PULLED)) == "=ROUND(7.46,1)"
    assert (typed, other) == (cell_of(path, TYPED), cell_of(path, PULLED))
    assert read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 15


def test_a_formula_showing_an_error_is_reported_and_kept(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    cell = type_in(path, PULLED, "=1/0")  # no stored value: xlplan finds the division by zero itself
    book = read_department_workbook(path)
    (p,) = [p for p in book.problems if p.cell == cell]
    assert p.code == "formelfel" and "#DIV/0!" in p.message
    assert book.value(INDICATORS, PULLED, "outcome") is None
    pull(path, plan)
    assert formula_in(path, cell) == "=1/0"
    store_cached(path, cell, "#DIV/0!", error=True)  # as Excel stores it
    book = read_department_workbook(path)
    assert [p.code for p in book.problems if p.cell == cell] == ["formelfel"]
    pull(path, plan)
    fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert formula_in(path, cell_of(path, PULLED)) == "=1/0"


SERIES = ("I|I2|Äldre", "I|I2|Funktionsstöd")  # two rows one under the other


def fill_down(path: Path, formula: str, value: Any) -> tuple[str, str]:
    """Type *formula* in the first series row's Utfall and fill it down to the second, as Excel stores it:
    one shared formula (the text in the first cell only) with each cell's computed value."""
    first, second = cell_of(path, SERIES[0]), cell_of(path, SERIES[1])
    assert int(second[1:]) == int(first[1:]) + 1
    type_cells(path, INDICATORS, [(first, ("shared", formula, value(first), f"{first}:{second}", 0)),
                                  (second, ("shares", 0, value(second)))])
    return first, second


def test_a_formula_filled_down_is_read_in_every_cell_with_its_stored_value(setup: tuple[Path, Path]) -> None:
    _, path = setup
    year = cell_of(path, SERIES[0], "baseline_year")[0]  # Nulägesår: 2023 on both rows
    first, second = fill_down(path, f"{year}{cell_of(path, SERIES[0])[1:]}/100+1", lambda cell: 21.23)
    with zipfile.ZipFile(path) as zf:  # the file is as Excel writes it
        assert b'<f t="shared" si="0"/>' in zf.read("xl/worksheets/sheet2.xml")
    book = read_department_workbook(path)
    rows = [book.row(INDICATORS, r) for r in SERIES]
    assert [r.formulas["outcome"] for r in rows if r] == [f"={year}{first[1:]}/100+1", f"={year}{second[1:]}/100+1"]
    assert [r.values["outcome"] for r in rows if r] == [21.23, 21.23]  # the stored values
    assert not [p for p in book.problems if p.cell in (first, second)]


def test_refill_keeps_a_filled_down_formula_in_every_cell(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    year = cell_of(path, SERIES[0], "baseline_year")[0]
    first, second = fill_down(path, f"{year}{cell_of(path, SERIES[0])[1:]}*2", lambda cell: 4046)
    result = fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert formula_in(path, first) == f"={year}{first[1:]}*2"
    assert formula_in(path, second) == f"={year}{second[1:]}*2"  # its own formula, not the value 4046
    assert result.reports[0].kept_inputs >= 2
    # the same after a re-save by openpyxl (flag), which drops the stored values
    fill_down(path, "10+5", lambda cell: 15)
    flag(path, plan)
    book = read_department_workbook(path)
    assert [book.value(INDICATORS, r, "outcome") for r in SERIES] == [15, 15]  # computed by xlplan
    fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert [formula_in(path, cell_of(path, r)) for r in SERIES] == ["=10+5", "=10+5"]
    assert [read_department_workbook(path).value(INDICATORS, r, "outcome") for r in SERIES] == [15, 15]


def test_refill_moves_a_formulas_references_with_the_rows_they_point_at(
        setup: tuple[Path, Path], tables: dict[str, Any], write_tables: Callable[..., Path]) -> None:
    plan, path = setup
    target, year = cell_of(path, PULLED), cell_of(path, SERIES[0], "baseline_year")
    type_in(path, TYPED, f"={target}+1")  # I3's Utfall plus one
    type_in(path, SERIES[1], f"=${year[0]}${year[1:]}/100+SUM({target}:{target})+ROUND(A1,0)")
    t = copy.deepcopy(tables)  # a new indicator above: every row moves down
    t["Indikatorer"].insert(0, {"Indikator-id": "I0", "Mål-id": "M1", "Indikator": "Ny indikator", "Enhet": "%",
                                "Målvärde 2024": "50 %", "Avdelningar": "ALD"})
    fill(write_tables(t, "plan.xlsx"), PERIOD, ["ALD"], path.parent, update=True)
    moved, new_year = cell_of(path, PULLED), cell_of(path, SERIES[0], "baseline_year")
    assert int(moved[1:]) == int(target[1:]) + 1
    assert formula_in(path, cell_of(path, TYPED)) == f"={moved}+1"
    assert formula_in(path, cell_of(path, SERIES[1])) == \
        f"=${new_year[0]}${new_year[1:]}/100+SUM({moved}:{moved})+ROUND(A1,0)"  # A1: a title, not the table


def removed_rows(path: Path) -> list[dict[str, Any]]:
    """The rows of 'Borttagna rader' by header, as openpyxl reads them (a formula stays its text)."""
    ws = openpyxl.load_workbook(path)[REMOVED]
    rows = list(ws.iter_rows(min_row=HEADER_ROW, values_only=True))
    return [dict(zip(rows[0], r)) for r in rows[1:]]


def test_a_formula_on_a_row_gone_from_the_plan_is_kept_as_text_with_its_value(
        setup: tuple[Path, Path], tables: dict[str, Any], write_tables: Callable[..., Path]) -> None:
    plan, path = setup
    comment = cell_of(path, PULLED, "comment")
    type_in(path, SERIES[0], "=ROUND(10/3,1)")  # no value stored (openpyxl), none computed: the text only
    type_cells(path, INDICATORS, [(cell_of(path, PULLED), ("f", "10+5", 15)),  # as Excel stores them
                                  (comment, ("f", f'"sjuk "&{cell_of(path, PULLED)}', "sjuk 15"))])
    t = copy.deepcopy(tables)
    t["Indikatorer"] = [i for i in t["Indikatorer"] if i["Indikator-id"] not in ("I3", "I2")]
    t["Filkällor"] = []
    smaller = write_tables(t, "plan.xlsx")
    result = fill(smaller, PERIOD, ["ALD"], path.parent, update=True)
    assert result.reports[0].moved_inputs == 3
    wanted = [("I|I3|", "Utfall", 15, "=10+5"), ("I|I3|", "Kommentar / analys", "sjuk 15", f'="sjuk "&M{comment[1:]}'),
              (SERIES[0], "Utfall", None, "=ROUND(10/3,1)")]
    got = [(r["Rad-id (tidigare)"], r["Kolumn"], r["Värde"], r["Formel"]) for r in removed_rows(path)]
    assert sorted(got, key=str) == sorted(wanted, key=str), got
    ws = openpyxl.load_workbook(path)[REMOVED]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)  # shown as text, not recomputed
    fill(smaller, PERIOD, ["ALD"], path.parent, update=True)  # kept as they are on the next refill
    assert sorted([(r["Rad-id (tidigare)"], r["Kolumn"], r["Värde"], r["Formel"]) for r in removed_rows(path)],
                  key=str) == sorted(wanted, key=str)


def test_a_removed_rows_sheet_from_before_the_formula_column_is_read_and_kept(
        setup: tuple[Path, Path], tables: dict[str, Any], write_tables: Callable[..., Path]) -> None:
    plan, path = setup
    type_in(path, PULLED, 7.5, "outcome")
    t = copy.deepcopy(tables)
    t["Indikatorer"] = [i for i in t["Indikatorer"] if i["Indikator-id"] != "I3"]
    t["Filkällor"] = []
    smaller = write_tables(t, "plan.xlsx")
    fill(smaller, PERIOD, ["ALD"], path.parent, update=True)
    wb = openpyxl.load_workbook(path)  # as an older file: no column Formel
    ws = wb[REMOVED]
    (at,) = [c.column for c in ws[HEADER_ROW] if c.value == "Formel"]
    ws.delete_cols(at)
    wb.save(path)
    book = read_department_workbook(path)
    assert [(p.severity, p.code) for p in book.problems if p.sheet == REMOVED] == [("info", "kolumn_ny_saknas")]
    fill(smaller, PERIOD, ["ALD"], path.parent, update=True)
    assert [(r["Rad-id (tidigare)"], r["Värde"], r["Formel"]) for r in removed_rows(path)] == [("I|I3|", 7.5, None)]


# ---------------------------------------------------------------- 5. sorting the visible columns only


def sort_visible_only(path: Path, first: str, second: str) -> tuple[int, int]:
    """Swap two indicator rows' visible cells (columns B and on) but not column A, as a sort of B:Z does."""
    book = read_department_workbook(path)
    a, b = book.row(INDICATORS, first), book.row(INDICATORS, second)
    assert a is not None and b is not None
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    ws = wb[INDICATORS]
    for col in range(2, ws.max_column + 1):
        ca, cb = ws.cell(a.number, col), ws.cell(b.number, col)
        ca.value, cb.value = cb.value, ca.value
    wb.save(path)
    return a.number, b.number


def test_a_sort_that_left_the_rad_id_behind_is_refused_everywhere(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    type_in(path, TYPED, 61.5)
    assert read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 61.5  # unsorted: read
    sort_visible_only(path, TYPED, PULLED)
    with pytest.raises(RowsSorted) as caught:
        read_department_workbook(path)
    message = str(caught.value)
    assert path.name in message and f"'{INDICATORS}'" in message and "Ctrl+Z" in message
    assert BACKUP_DIR in message and "kolumnen A" in message
    before = path.read_bytes()
    with pytest.raises(RowsSorted):
        flag(path, plan)
    with pytest.raises(RowsSorted):
        pull(path, plan)
    with pytest.raises(RowsSorted):
        fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    result = fill(plan, PERIOD, None, path.parent, update=True)  # the other departments are filled
    assert [p.file for p in result.problems if "sorterats" in p.message] == [path.name], result.problems
    assert path not in result.written and result.written
    assert path.read_bytes() == before  # nothing written into the sorted file
    folder = pull(path.parent, plan)
    assert [p.code for p in folder.problems if p.file == path.name] == ["rader_sorterade"]
    committee = consolidate(path.parent, plan, PERIOD, path.parent.parent / "nämnd.xlsx")
    assert "rader_sorterade" in [p.code for p in committee.problems if p.file == path.name]
    assert path.read_bytes() == before


def test_a_sort_with_the_rad_id_column_is_fine(setup: tuple[Path, Path]) -> None:
    _, path = setup
    type_in(path, TYPED, 61.5)
    book = read_department_workbook(path)
    a, b = book.row(INDICATORS, TYPED), book.row(INDICATORS, PULLED)
    assert a is not None and b is not None
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATORS]
    for col in range(1, ws.max_column + 1):  # the whole row, column A too
        ca, cb = ws.cell(a.number, col), ws.cell(b.number, col)
        ca.value, cb.value = cb.value, ca.value
    wb.save(path)
    book = read_department_workbook(path)
    assert book.value(INDICATORS, TYPED, "outcome") == 61.5 and book.row(INDICATORS, TYPED).number == b.number


def as_filled_before_checksums(path: Path, *, plan_inside: bool = True) -> None:
    """Make *path* look like a file filled before the row checksums existed: _xlplan has no third column
    (Kontroll); with *plan_inside* False also no plan slice (_xlplan_plan), as the oldest files."""
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    meta = wb[META]
    assert meta.cell(1, 3).value == "Kontroll"
    meta.delete_cols(3)
    if not plan_inside:
        del wb[EMBEDDED_SHEET]
    wb.save(path)


def has_checksums(path: Path) -> bool:
    meta = openpyxl.load_workbook(path)[META]
    return meta.cell(1, 3).value == "Kontroll" and all(
        r[2] for r in meta.iter_rows(min_row=2, values_only=True) if str(r[0]).startswith("rad."))


def test_a_sort_in_a_file_without_checksums_is_found_by_the_plan_inside_it(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    type_in(path, TYPED, 61.5)
    as_filled_before_checksums(path)
    assert not has_checksums(path) and read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 61.5
    original = path.read_bytes()
    sort_visible_only(path, TYPED, PULLED)
    before = path.read_bytes()
    for step in (lambda: read_department_workbook(path), lambda: flag(path, plan), lambda: pull(path, plan),
                 lambda: fill(plan, PERIOD, ["ALD"], path.parent, update=True)):
        with pytest.raises(RowsSorted) as caught:
            step()
        message = str(caught.value)
        assert path.name in message and f"'{INDICATORS}'" in message and "Ctrl+Z" in message and BACKUP_DIR in message
    assert path.read_bytes() == before
    path.write_bytes(original)  # undone: the refill adds the checksums and keeps the value
    fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert has_checksums(path) and read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 61.5


def test_a_sort_in_a_file_without_checksums_or_plan_inside_is_found_by_the_plan(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    type_in(path, TYPED, 61.5)
    as_filled_before_checksums(path, plan_inside=False)
    original = path.read_bytes()
    sort_visible_only(path, TYPED, PULLED)
    before = path.read_bytes()
    with pytest.raises(RowsSorted) as caught:
        fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert path.name in str(caught.value) and "Ctrl+Z" in str(caught.value)
    result = fill(plan, PERIOD, None, path.parent, update=True)  # the others are filled, this one named
    assert [p.file for p in result.problems if "sorterats" in p.message] == [path.name]
    assert path.read_bytes() == before
    path.write_bytes(original)
    fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert has_checksums(path) and read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 61.5


# ---------------------------------------------------------------- 6. text outside the tables


def notes_of(path: Path) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(path)
    if NOTES not in wb.sheetnames:
        return []
    ws = wb[NOTES]
    assert ws.sheet_state == "visible"
    return [tuple(r[1:4]) for r in ws.iter_rows(min_row=HEADER_ROW + 1, values_only=True) if any(r[1:4])]


def test_a_clean_refill_makes_no_notes(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    type_in(path, TYPED, 20)  # flags are written on Översikt, pull writes its columns
    pull(path, plan)
    flag(path, plan)
    result = fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    assert notes_of(path) == [] and not any(NOTES in line for line in result.lines())


def test_text_outside_the_tables_is_kept_on_a_notes_sheet_and_reported(setup: tuple[Path, Path]) -> None:
    plan, path = setup
    typed = type_in(path, TYPED, 61.5)
    row = int(typed[1:])
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATORS]
    last = ws.max_row
    extra = ws.max_column + 2
    ws.cell(HEADER_ROW, extra, "Egen kolumn")
    ws.cell(row, extra, "fråga Eva")
    ws.cell(last + 3, 2, "Anteckning under tabellen")
    wb.create_sheet("Egna siffror")["C4"] = 1234
    wb.save(path)
    letter = openpyxl.utils.get_column_letter(extra)
    result = fill(plan, PERIOD, ["ALD"], path.parent, update=True)
    expected = {(INDICATORS, f"{letter}{HEADER_ROW}", "Egen kolumn"), (INDICATORS, f"{letter}{row}", "fråga Eva"),
                (INDICATORS, f"B{last + 3}", "Anteckning under tabellen"), ("Egna siffror", "C4", 1234)}
    assert set(notes_of(path)) == expected
    report = "\n".join(result.lines())
    assert f"4 celler utanför tabellerna flyttades till bladet '{NOTES}'" in report
    assert f"{INDICATORS}!{letter}{row}" in report
    assert read_department_workbook(path).value(INDICATORS, TYPED, "outcome") == 61.5
    again = fill(plan, PERIOD, ["ALD"], path.parent, update=True)  # the notes stay, once
    assert sorted(map(str, notes_of(path))) == sorted(map(str, expected))
    assert not any("utanför tabellerna" in line for line in again.lines())


# ---------------------------------------------------------------- 7. the department's own VBA module

OWN = 'Attribute VB_Name = "Egna"\r\nOption Explicit\r\n\r\nSub Summera()\r\n    MsgBox "Hej från ekonomen"\r\nEnd Sub\r\n'


def add_own_module(path: Path, *, sheet_code: bool = False) -> None:
    """Put a standard module of the department's own (and optionally code in a sheet's module) into the
    .xlsm's VBA project, as the VBA editor would."""
    modules = vba_modules(path)
    modules.append(bas_module(OWN))
    if sheet_code:
        modules = [VbaModule(m.name, m.code + "Private Sub Worksheet_Activate()\r\nEnd Sub\r\n", m.kind)
                   if m.kind == "document" and m.name != "ThisWorkbook" and not has_code(m) else m
                   for m in modules]
    with zipfile.ZipFile(path) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    entries[VBA_PART] = build_vba_project(modules)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


@pytest.fixture
def xlsm(tables: dict[str, Any], write_tables: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    plan = write_tables(tables, "plan.xlsx")
    out = tmp_path / "avd"
    fill(plan, PERIOD, ["ALD"], out, fmt="xlsm", generated_at="2026-01-01T00:00:00+00:00")
    (path,) = out.glob("*.xlsm")
    return plan, path


def test_the_reader_reads_what_xlplan_writes(xlsm: tuple[Path, Path]) -> None:
    _, path = xlsm
    add_own_module(path)
    mine = {m.name: m for m in vba_modules(path)}
    assert mine["Egna"].kind == "standard" and "Hej från ekonomen" in mine["Egna"].code
    theirs = read_vba_modules(path)  # oletools agrees on every module's text
    assert {n: c.replace("\r\n", "\n").strip() for n, c in theirs.items()} == \
        {n: m.code.replace("\r\n", "\n").strip() for n, m in mine.items()}


def test_refill_keeps_the_departments_own_module(xlsm: tuple[Path, Path]) -> None:
    plan, path = xlsm
    add_own_module(path)
    result = fill(plan, PERIOD, ["ALD"], path.parent, update=True, fmt="xlsm")
    modules = read_vba_modules(path)
    assert "Egna" in modules and "Hej från ekonomen" in modules["Egna"]
    assert "XlplanRibbon" in modules  # xlplan's own modules are written fresh beside it
    assert "Avdelningens egna VBA-moduler behölls: Egna" in "\n".join(result.lines())
    again = fill(plan, PERIOD, ["ALD"], path.parent, update=True, fmt="xlsm")
    assert "Egna" in read_vba_modules(path) and "behölls: Egna" in "\n".join(again.lines())


def test_own_code_that_cannot_be_kept_is_named_and_backed_up(xlsm: tuple[Path, Path]) -> None:
    plan, path = xlsm
    add_own_module(path, sheet_code=True)
    result = fill(plan, PERIOD, ["ALD"], path.parent, update=True, fmt="xlsx")  # the file becomes an .xlsx
    report = "\n".join(result.lines())
    assert "Egna (den nya filen är en .xlsx)" in report and "kod i ett blads" in report and BACKUP_DIR in report
    backups = list((path.parent / BACKUP_DIR).rglob("*.xlsm"))
    assert any("Egna" in read_vba_modules(b) for b in backups)
