"""Reading a department workbook back: rows by Rad-id, columns by header, problems."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlplan.actions.fill import fill
from xlplan.books.department.columns import ACTIVITIES, ECONOMY, INDICATORS, OVERVIEW, PERSONNEL
from xlplan.books.department.reader import locate, read_department_workbook
from xlplan.core.errors import WorkbookRefused, WorkbookUnreadable

STAMP = "2026-11-23T20:00:00+00:00"


@pytest.fixture
def ald(tiny_plan_path, tmp_path) -> Path:
    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path / "ut", generated_at=STAMP).written
    return path


def edit(path: Path, change) -> None:
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)


def codes(book) -> list[str]:
    return [p.code for p in book.problems]


def test_round_trip(ald) -> None:
    book = read_department_workbook(ald)
    assert book.problems == []
    assert book.plan_id == "testkommun-von-2024" and book.department_id == "ALD" and book.period == "2024-delår"
    assert book.metadata["generated_at"] == STAMP
    assert book.submission == "ej påbörjad" and book.contact == "Anna Andersson"
    assert list(book.sheets[INDICATORS].rows) == ["I|I1|", "I|I2|Äldre", "I|I2|Funktionsstöd", "I|I3|"]
    row = book.row(INDICATORS, "I|I2|Äldre")
    assert row.values["series"] == "Äldre" and row.values["target"] == "Äldre och Funktionsstöd >69 %"
    assert row.values["baseline_year"] == 2023
    assert book.value(ECONOMY, "E|Personalkostnader", "budget") == -35400
    assert book.value(PERSONNEL, "P|Sjukfrånvaro totalt", "target") == "8 %"
    assert book.address(INDICATORS, "I|I1|", "outcome") == "M6"
    assert locate(ald, ACTIVITIES, "A|A1", "status") == "G6"
    assert "I|I3|" in book.expected_rows


def test_swedish_numbers_are_read_and_the_rest_flagged(ald) -> None:
    book = read_department_workbook(ald)
    a1, a2, a3 = (book.address(INDICATORS, r, "outcome") for r in ("I|I1|", "I|I2|Äldre", "I|I3|"))
    e = book.address(ECONOMY, "E|Intäkter", "forecast")

    def change(wb):
        wb[INDICATORS][a1] = "48,5"
        wb[INDICATORS][a2] = "50 %"
        wb[INDICATORS][a3] = "ca 50"
        wb[ECONOMY][e] = "1 250"
    edit(ald, change)
    book = read_department_workbook(ald)
    assert book.value(INDICATORS, "I|I1|", "outcome") == 48.5
    assert book.value(INDICATORS, "I|I2|Äldre", "outcome") == 50
    assert book.value(INDICATORS, "I|I3|", "outcome") is None
    assert book.row(INDICATORS, "I|I3|").raw["outcome"] == "ca 50"
    assert book.value(ECONOMY, "E|Intäkter", "forecast") == 1250
    (p,) = book.problems
    assert (p.code, p.sheet, p.cell) == ("inte_tal", INDICATORS, a3)
    assert str(p) == f"{ald.name}, blad 'Mål och indikatorer', cell {a3}: 'ca 50' är en uppskattning, inget utfall. Ange siffran (bara talet, t.ex. 48,5); lämna tomt om utfall saknas."


def test_renamed_sheet_is_recognised(ald) -> None:
    edit(ald, lambda wb: setattr(wb[ACTIVITIES], "title", "Våra aktiviteter"))
    book = read_department_workbook(ald)
    assert codes(book) == ["blad_omdopt"]
    assert book.actual_sheet_name(ACTIVITIES) == "Våra aktiviteter"
    assert book.value(ACTIVITIES, "A|A1", "activity") == "Införa digital tillsyn."


def test_missing_sheet(ald) -> None:
    edit(ald, lambda wb: wb.remove(wb[PERSONNEL]))
    book = read_department_workbook(ald)
    assert codes(book) == ["blad_saknas"] and book.problems[0].sheet == PERSONNEL


def test_deleted_header_and_moved_column(ald) -> None:
    def change(wb):
        ws = wb[INDICATORS]
        ws["P5"] = None  # Kommentar / analys
        ws.move_range("Q5:Q9", cols=2)  # Åtgärder moved two columns right (over R and S)
    edit(ald, change)
    book = read_department_workbook(ald)
    assert "kolumn_saknas" in codes(book) and "kolumn_flyttad" in codes(book)
    missing = next(p for p in book.problems if p.code == "kolumn_saknas" and "Kommentar" in p.message)
    assert missing.cell == "P5"
    assert book.address(INDICATORS, "I|I1|", "actions") == "S6"
    assert "comment" not in book.row(INDICATORS, "I|I1|").values


def test_inserted_row_moves_addresses(ald) -> None:
    edit(ald, lambda wb: wb[INDICATORS].insert_rows(3))
    book = read_department_workbook(ald)
    assert codes(book) == ["rubrikrad_flyttad"]
    assert book.address(INDICATORS, "I|I1|", "outcome") == "M7"


def test_deleted_row_is_a_problem(ald) -> None:
    edit(ald, lambda wb: wb[INDICATORS].delete_rows(7))  # I|I2|Äldre
    book = read_department_workbook(ald)
    (p,) = book.problems
    assert p.code == "rad_saknas" and "I|I2|Äldre" in p.message


def test_row_without_id_and_duplicates(ald) -> None:
    def change(wb):
        ws = wb[INDICATORS]
        ws["P12"] = "en egen rad"
        ws["A11"] = "I|I1|"
        ws["P11"] = "kopia"
    edit(ald, change)
    book = read_department_workbook(ald)
    assert sorted(codes(book)) == ["dubblett", "rad_utan_id"]
    assert [r.raw["comment"] for r in book.sheets[INDICATORS].loose_rows] == ["kopia", "en egen rad"]


def test_formula_errors_are_reported(ald) -> None:
    book = read_department_workbook(ald)
    cell = book.address(ECONOMY, "E|Intäkter", "deviation")

    def change(wb):
        wb[ECONOMY][cell] = "#DIV/0!"
        wb[ECONOMY][cell].data_type = "e"
    edit(ald, change)
    book = read_department_workbook(ald)
    (p,) = book.problems
    assert (p.code, p.cell) == ("formelfel", cell) and "#DIV/0!" in p.message


def test_not_ours_and_unreadable(tmp_path) -> None:
    foreign = tmp_path / "annan.xlsx"
    openpyxl.Workbook().save(foreign)
    with pytest.raises(WorkbookRefused):
        read_department_workbook(foreign)
    broken = tmp_path / "trasig.xlsx"
    broken.write_bytes(b"inte en zip")
    with pytest.raises(WorkbookUnreadable):
        read_department_workbook(broken)


def test_overview_inputs(ald) -> None:
    book = read_department_workbook(ald)
    addr = book.address(OVERVIEW, "O|kontakt", "value")
    edit(ald, lambda wb: wb[OVERVIEW].__setitem__(addr, "Bo Berg"))
    assert read_department_workbook(ald).contact == "Bo Berg"


# ---------------------------------------------------------------- the reader's short cuts and their fallbacks

def test_swapped_sheet_names_are_each_recognised(ald) -> None:
    """A sheet named like a layout sheet is first checked at the template's header row; a sheet holding
    another sheet's table (names swapped) is still found by the full search."""
    def change(wb):
        wb[ACTIVITIES].title = "tmp"
        wb[ECONOMY].title = ACTIVITIES
        wb["tmp"].title = ECONOMY
    edit(ald, change)
    book = read_department_workbook(ald)
    assert sorted(codes(book)) == ["blad_omdopt", "blad_omdopt"]
    assert book.actual_sheet_name(ACTIVITIES) == ECONOMY and book.actual_sheet_name(ECONOMY) == ACTIVITIES
    assert book.value(ACTIVITIES, "A|A1", "activity") == "Införa digital tillsyn."
    assert book.value(ECONOMY, "E|Personalkostnader", "budget") == -35400


def test_renamed_sheet_with_its_header_moved_down_is_recognised(ald) -> None:
    """The header row is looked for in the template's row first, then in the rows around it."""
    def change(wb):
        wb[ACTIVITIES].title = "Våra aktiviteter"
        wb["Våra aktiviteter"].insert_rows(2, 3)
    edit(ald, change)
    book = read_department_workbook(ald)
    assert sorted(codes(book)) == ["blad_omdopt", "rubrikrad_flyttad"]
    assert book.sheets[ACTIVITIES].header_row == 8
    assert book.value(ACTIVITIES, "A|A1", "activity") == "Införa digital tillsyn."


def test_a_copy_of_the_header_above_the_table_leaves_the_template_row_the_header(ald) -> None:
    def change(wb):
        ws = wb[INDICATORS]
        for cell in ws[5]:
            ws.cell(2, cell.column, cell.value)
    edit(ald, change)
    book = read_department_workbook(ald)
    assert "rubrikrad_flyttad" not in codes(book)
    assert book.sheets[INDICATORS].header_row == 5
    assert book.address(INDICATORS, "I|I1|", "outcome") == "M6"


def test_ragged_grids_read_like_the_file(ald) -> None:
    """Grids whose rows end at their last value (an open book's ranges may) are read as the file's
    equally long rows are: the reader's fast path for full rows and its fallback give the same book."""
    from xlplan.books.department.reader import FileGrids, parse_department_grids

    def change(wb):
        ws = wb[INDICATORS]
        ws["M6"] = "ca 50"
        ws["Z7"] = "anteckning"  # outside the table, beyond the other rows' last values
        ws["P14"] = "en egen rad"

    edit(ald, change)

    def trimmed(row: list[object]) -> list[object]:
        row = list(row)
        while row and row[-1] in ("", None):
            row.pop()
        return row

    grids = FileGrids(ald)
    whole = grids.rows
    grids.rows = lambda sheet: [trimmed(row) for row in whole(sheet)]  # type: ignore[method-assign]
    full = read_department_workbook(ald)
    ragged = parse_department_grids(grids)
    assert ragged.sheets == full.sheets and ragged.problems == full.problems
    assert ragged.metadata == full.metadata and ragged.sort_checked == full.sort_checked
    assert ("Z7", "anteckning") in full.sheets[INDICATORS].outside
    assert [p.code for p in full.problems] == ["inte_tal", "rad_utan_id"]
    rows = grids.rows(INDICATORS)
    assert len(rows[6]) == 26 and any(0 < len(row) < 20 for row in rows)


@pytest.mark.parametrize("value", [1, 1.0, True, "1", " 1 ", None, 2.5])
def test_remembered_row_checksums_tell_types_apart(value) -> None:
    from xlplan.books.department.columns import row_checksum
    from xlplan.books.department.reader import _row_checksum

    for v in (value, 1, True):  # the memory holds 1, 1.0 and True (equal as keys) apart
        raw = {"indicator": v, "series": "Äldre", "source": None, "target": 3}
        assert _row_checksum(INDICATORS, raw) == row_checksum(INDICATORS, raw)
