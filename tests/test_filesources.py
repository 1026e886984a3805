"""Local exports per Filkällor: CSV/XLSX, Swedish numbers, key substitution, problems."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
from openpyxl import Workbook

from xlplan.books.plan import read_plan
from xlplan.core.model import Department
from xlplan.core.periods import Period, parse_period
from xlplan.io.filesources import cells_match, read_file_values, read_table, sniff_delimiter, substitute

PERIOD = parse_period("2024-delår")
HEROMA = (
    "Enhet;Period;Sjukfrånvaro %;Antal anställda\r\n"
    "Äldreomsorg;2024-delår;48,5;1 012\r\n"
    "Funktionsstöd;2024-delår;12 %;87\r\n"
    "Äldreomsorg;2024-K1;7,9;1 000\r\n"
)


def _plan_with_sources(write_tables: Callable[..., Path], tables: dict[str, Any],
                       sources: list[dict[str, Any]]) -> Any:
    tables["Filkällor"] = sources
    return read_plan(write_tables(tables))


def _source(pattern: str, column: str = "Sjukfrånvaro %", keys: str = "Enhet={avdelningsnamn}; Period={period}",
            **extra: Any) -> dict[str, Any]:
    return {"Indikator-id": "I3", "Fil": pattern, "Värdekolumn": column, "Nyckelkolumner": keys, **extra}


def test_csv_cp1252_semicolons_swedish_numbers(tmp_path: Path, write_tables: Callable[..., Path],
                                                tiny_tables: dict[str, Any]) -> None:
    (tmp_path / "exporter").mkdir()
    (tmp_path / "exporter" / "sjuk_2024.csv").write_bytes(HEROMA.encode("cp1252"))
    plan = _plan_with_sources(write_tables, tiny_tables, [_source("exporter/sjuk_*.csv")])
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], PERIOD)
    assert problems == []
    got = {v.department_id: v for v in values}
    assert got["ALD"].value == 48.5 and got["ALD"].row == 2 and got["ALD"].text == "48,5"
    assert got["LSS"].value == 12.0 and got["LSS"].row == 3
    assert got["ALD"].file == "exporter/sjuk_2024.csv" and got["ALD"].file_name == "sjuk_2024.csv"
    assert got["ALD"].column == "Sjukfrånvaro %" and got["ALD"].modified is not None


def test_thousands_with_space_utf8_bom_and_commas(tmp_path: Path, write_tables: Callable[..., Path],
                                                   tiny_tables: dict[str, Any]) -> None:
    text = "\ufeffAvdelning,År,Antal\nALD,2024,\"1 012\"\nLSS,2024,\"2 001,5\"\n"
    (tmp_path / "antal.csv").write_text(text, encoding="utf-8")
    plan = _plan_with_sources(write_tables, tiny_tables,
                              [_source("antal.csv", "Antal", "Avdelning={avdelning}; År={år}")])
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], PERIOD)
    assert problems == []
    assert sorted((v.department_id, v.value) for v in values) == [("ALD", 1012.0), ("LSS", 2001.5)]


def test_xlsx_export_with_sheet_and_title_rows(tmp_path: Path, write_tables: Callable[..., Path],
                                               tiny_tables: dict[str, Any]) -> None:
    wb = Workbook()
    wb.active.title = "Info"
    ws = wb.create_sheet("Data")
    ws.append([])
    ws.append(["Enhet", "Period", "Sjukfrånvaro %"])
    ws.append(["Äldreomsorg", "2024-delar", 6.25])
    ws.append(["Funktionsstöd", "2024 delår", "5,5"])
    wb.save(tmp_path / "sjuk.xlsx")
    plan = _plan_with_sources(write_tables, tiny_tables, [_source("sjuk.xlsx", Blad="data")])
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], PERIOD)
    assert problems == []
    got = {v.department_id: (v.value, v.row, v.sheet) for v in values}
    assert got == {"ALD": (6.25, 3, "Data"), "LSS": (5.5, 4, "Data")}


def test_problems_name_file_row_and_column_and_the_rest_goes_on(
        tmp_path: Path, write_tables: Callable[..., Path], tiny_tables: dict[str, Any]) -> None:
    bad = "Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2024-delår;ca 50\nFunktionsstöd;2024-delår;4,5\n"
    (tmp_path / "sjuk.csv").write_text(bad, encoding="utf-8")
    plan = _plan_with_sources(write_tables, tiny_tables, [
        _source("sjuk.csv"),
        _source("saknas/*.csv"),
        _source("sjuk.csv", "Sjukfrånvaro (%)"),
    ])
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], PERIOD)
    assert [(v.department_id, v.value) for v in values] == [("LSS", 4.5)]
    texts = [str(p) for p in problems]
    assert any("sjuk.csv" in t and "Rad 2" in t and "'Sjukfrånvaro %'" in t and "'ca 50'" in t for t in texts)
    assert any("saknas/*.csv" in t for t in texts)
    assert any("'Sjukfrånvaro (%)'" in t and "sjuk.csv" in t for t in texts)


def test_missing_row_and_conflicting_rows(tmp_path: Path, write_tables: Callable[..., Path],
                                          tiny_tables: dict[str, Any]) -> None:
    (tmp_path / "a.csv").write_text("Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2024-delår;5\n", encoding="utf-8")
    (tmp_path / "b.csv").write_text("Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2024-delår;6\n", encoding="utf-8")
    plan = _plan_with_sources(write_tables, tiny_tables, [_source("*.csv")])
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], PERIOD)
    assert values == []
    codes = sorted(p.code for p in problems)
    assert codes == ["export_rad_saknas", "flera_rader"]
    assert any("a.csv rad 2" in p.message and "b.csv rad 2" in p.message for p in problems)


def test_same_row_in_two_files_counts_once(tmp_path: Path, write_tables: Callable[..., Path],
                                           tiny_tables: dict[str, Any]) -> None:
    row = "Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2024-delår;5,0\n"
    (tmp_path / "a.csv").write_text(row, encoding="utf-8")
    (tmp_path / "b.csv").write_text(row, encoding="utf-8")
    plan = _plan_with_sources(write_tables, tiny_tables, [_source("*.csv")])
    values, _ = read_file_values(plan, tmp_path, ["ALD"], PERIOD)
    assert [(v.value, v.file) for v in values] == [(5.0, "a.csv")]


def test_only_departments_that_report_the_indicator(tmp_path: Path, write_tables: Callable[..., Path],
                                                    tiny_tables: dict[str, Any]) -> None:
    (tmp_path / "x.csv").write_text("Värde\n3\n", encoding="utf-8")
    plan = _plan_with_sources(write_tables, tiny_tables,
                              [{"Indikator-id": "I1", "Fil": "x.csv", "Värdekolumn": "Värde"}])
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], PERIOD)
    assert [(v.indicator_id, v.department_id, v.value) for v in values] == [("I1", "ALD", 3.0)]
    assert problems == []


def test_substitute_and_match() -> None:
    dep = Department("ALD", "Äldreomsorg")
    assert substitute("{avdelning}/{avdelningsnamn}/{period}/{år}/{okänd}", dep, Period(2024, "K1")) == \
        "ALD/Äldreomsorg/2024-K1/2024/{okänd}"
    assert cells_match(2024.0, "2024") and cells_match(" äldreomsorg ", "Äldreomsorg")
    assert cells_match("2024-delar", "2024-delår") and not cells_match("2024-K1", "2024-delår")
    assert not cells_match(None, "x") and cells_match(None, "")


@pytest.mark.parametrize("text,expected", [
    ("a;b;c\n1,5;2;3\n", ";"), ("a,b,c\n1,2,3\n", ","), ("a\tb\n1\t2\n", "\t"), ("ensam\n1\n", ";"),
])
def test_sniff_delimiter(text: str, expected: str) -> None:
    assert sniff_delimiter(text) == expected


def test_read_table_line_numbers_skip_blank_lines(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_text("\nA;B\n\n1;2\n", encoding="utf-8")
    table = read_table(p)
    assert table.header == ["A", "B"] and table.rows == [(4, ["1", "2"])]
