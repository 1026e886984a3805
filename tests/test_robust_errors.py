"""No traceback reaches a user: hostile and odd files give one Swedish message naming the file.

Covers the CLI's and the ribbon's last line of defence (message + log file), the read edge
(billion laughs, a bad CRC), the plan checks (long names, Min > Max, '|', long texts, duplicate
keys, swapped or space-padded sheet names, a title row) and local exports (UTF-16, decimal commas).
"""

from __future__ import annotations

import copy
import zipfile
from pathlib import Path
from typing import Any, Callable

import pytest
from typer.testing import CliRunner

import xlplan.actions.flag
from xlplan.actions.fill import fill
from xlplan.books.plan import plan_from_workbook, read_plan
from xlplan.cli import app
from xlplan.core.errors import WorkbookUnreadable, log_exception, unexpected_message
from xlplan.core.periods import parse_period
from xlplan.io.filesources import read_file_values, read_table
from xlplan.io.tables import open_workbook

PERIOD = "2024-helår"


@pytest.fixture(autouse=True)
def _logs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.setenv("XLPLAN_LOG_DIR", str(tmp_path / "logs"))
    return tmp_path / "logs"


@pytest.fixture
def books(tiny_plan_path: Path, tmp_path: Path) -> Path:
    out = tmp_path / "books"
    fill(tiny_plan_path, PERIOD, None, out, generated_at="2026-01-01T00:00:00+00:00")
    return out


def rezip(path: Path, change: Callable[[str, bytes], bytes]) -> None:
    with zipfile.ZipFile(path) as zf:
        entries = [(i.filename, zf.read(i)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries:
            out.writestr(name, change(name, data))


LAUGHS = ('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
          + "".join(f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10))
          + ']><cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties"'
          ' xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:creator>&lol9;</dc:creator></cp:coreProperties>')


def billion_laughs(path: Path) -> None:
    rezip(path, lambda name, data: LAUGHS.encode() if name == "docProps/core.xml" else data)


def bad_crc(path: Path) -> None:
    """Flip a byte inside the compressed data of the first worksheet (the zip's directory stays intact)."""
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("xl/worksheets/"))
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- the last line of defence


def test_cli_turns_an_unexpected_error_into_a_swedish_message_and_a_log(
        books: Path, tiny_plan_path: Path, monkeypatch: pytest.MonkeyPatch, _logs: Path) -> None:
    def boom(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("något oväntat")

    monkeypatch.setattr(xlplan.actions.flag, "flag", boom)
    res = CliRunner().invoke(app, ["flag", str(books), "--plan", str(tiny_plan_path)])
    assert res.exit_code == 2
    assert "Traceback" not in res.output
    assert "Kommandot 'xlplan flag' stoppades av ett oväntat fel" in res.stderr and "något oväntat" in res.stderr
    (log,) = _logs.glob("xlplan-*.log")
    assert f"loggfilen {log}" in res.stderr
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text and "RuntimeError: något oväntat" in text


def test_cli_oserror_names_the_file_in_swedish(books: Path, tiny_plan_path: Path,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    def denied(*args: Any, **kwargs: Any) -> None:
        raise PermissionError(13, "Permission denied", str(books / "Avd.xlsx"))

    monkeypatch.setattr(xlplan.actions.flag, "flag", denied)
    res = CliRunner().invoke(app, ["flag", str(books)])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Avd.xlsx: åtkomst nekad" in res.stderr and "stäng filen" in res.stderr


def test_nested_command_names_itself(tiny_plan_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import xlplan.books.plan

    monkeypatch.setattr(xlplan.books.plan, "plan_from_workbook", lambda p: 1 / 0)
    res = CliRunner().invoke(app, ["plan", "check", str(tiny_plan_path)])
    assert res.exit_code == 2 and "Kommandot 'xlplan plan check'" in res.stderr
    assert "ZeroDivisionError" in res.stderr


def test_log_falls_back_when_the_log_folder_cannot_be_written(tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    monkeypatch.setenv("XLPLAN_LOG_DIR", str(blocker / "logs"))
    try:
        raise ValueError("x")
    except ValueError as exc:
        log = log_exception(exc, "test")
    assert log is not None and log.exists() and blocker not in log.parents
    message = unexpected_message(ValueError("x"), "Knappen 'Flagga'", "C:/a/Avd.xlsm", log)
    assert "Avd.xlsm" in message and str(log) in message


def test_button_turns_an_unexpected_error_into_a_message_box(books: Path, tmp_path: Path, _logs: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xlwings")
    import xlplan.excel as excel
    from xlremote import run_with_caller

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    book = next(books.glob("*.xlsx"))
    monkeypatch.chdir(books)

    @excel.button("Flagga avvikelser")
    def broken() -> None:
        raise KeyError("Status")

    run = run_with_caller(book.name, broken, out=tmp_path / "after.xlsx", enforce_protection=False)
    (alert,) = run.alerts
    assert alert.mode == "critical"
    assert "Knappen 'Flagga avvikelser' stoppades av ett oväntat fel" in alert.prompt
    assert book.name in alert.prompt and "KeyError" in alert.prompt
    (log,) = _logs.glob("xlplan-*.log")
    assert str(log) in alert.prompt and "KeyError" in log.read_text(encoding="utf-8")


# ---------------------------------------------------------------- hostile files at the read edge


@pytest.mark.parametrize("damage, words", [(billion_laughs, "DTD"), (bad_crc, "skadad")])
def test_hostile_file_is_refused_at_the_read_edge(books: Path, damage: Callable[[Path], None], words: str) -> None:
    book = sorted(books.glob("*.xlsx"))[0]
    damage(book)
    with pytest.raises(WorkbookUnreadable, match=words):
        open_workbook(book)


@pytest.mark.parametrize("damage", [billion_laughs, bad_crc])
def test_flag_names_a_hostile_file_and_flags_the_others(books: Path, tiny_plan_path: Path,
                                                        damage: Callable[[Path], None]) -> None:
    bad, good = sorted(books.glob("*.xlsx"))
    damage(bad)
    single = CliRunner().invoke(app, ["flag", str(bad), "--plan", str(tiny_plan_path)])
    assert single.exit_code == 2 and "Traceback" not in single.output and bad.name in single.stderr
    folder = CliRunner().invoke(app, ["flag", str(books), "--plan", str(tiny_plan_path)])
    assert folder.exit_code == 1, folder.output
    assert f"Hoppades över: {bad.name}: Filen kan inte läsas" in folder.output
    assert f"{good.name}: 4 indikatorrader" in folder.output


# ---------------------------------------------------------------- plan check


def check(tables: dict[str, Any], write_tables: Callable[..., Path]) -> tuple[Any, list[Any]]:
    return plan_from_workbook(write_tables(tables, "p.xlsx"))


def test_plan_check_refuses_a_department_name_too_long_for_a_file(tiny_tables: dict[str, Any],
                                                                  write_tables: Callable[..., Path]) -> None:
    tiny_tables["Avdelningar"][1]["Avdelning"] = "Funktionsstöd " * 25 + "och annat."
    res = CliRunner().invoke(app, ["plan", "check", str(write_tables(tiny_tables, "p.xlsx"))])
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "Avdelningens namn är 360 tecken" in res.stderr and "blad 'Avdelningar', cell B3" in res.stderr


def test_plan_check_refuses_min_over_max_bars_and_long_texts(tiny_tables: dict[str, Any],
                                                             write_tables: Callable[..., Path]) -> None:
    tiny_tables["Indikatorer"][0].update({"Min": 100, "Max": 0})
    tiny_tables["Indikatorer"][2]["Indikator-id"] = "I|3"
    tiny_tables["Indikatorer"][1]["Serier"] = "Äldre; Funktions|stöd"
    tiny_tables["Mål"][0]["Nämndens mål"] = "x" * 32_767  # openpyxl cuts longer texts: lengthen it in the XML
    path = write_tables(tiny_tables, "p.xlsx")
    rezip(path, lambda name, data: data.replace(b"x" * 32_767, b"x" * 32_768))
    plan, problems = plan_from_workbook(path)
    assert plan is None
    (min_max,) = [p for p in problems if p.code == "min_over_max"]
    assert min_max.sheet == "Indikatorer" and "Min (100) är större än Max (0)" in min_max.message
    bars = [p for p in problems if p.code == "ogiltigt_tecken"]
    assert {p.message.split("'")[1] for p in bars} == {"I|3", "Äldre; Funktions|stöd"}
    (long,) = [p for p in problems if p.code == "for_lang_text"]
    assert long.sheet == "Mål" and "32 768 tecken" in long.message


def test_plan_check_refuses_duplicate_keys(tiny_tables: dict[str, Any], write_tables: Callable[..., Path]) -> None:
    tiny_tables["Ekonomi"].append({"Avdelnings-id": "ALD", "Post": "intäkter", "År": 2024, "Budget (tkr)": 5})
    tiny_tables["Ekonomi"].append({"Avdelnings-id": "ALD", "Post": "Intäkter", "År": 2025, "Budget (tkr)": 5})
    tiny_tables["Personal"].append({"Avdelnings-id": "ALD", "Nyckeltal": "Sjukfrånvaro totalt", "Målvärde": "7 %"})
    tiny_tables["Personal"].append({"Avdelnings-id": "LSS", "Nyckeltal": "Sjukfrånvaro totalt", "Målvärde": "7 %"})
    tiny_tables["Indikatorer"][1]["Serier"] = "Äldre; Funktionsstöd; äldre"
    plan, problems = check(tiny_tables, write_tables)
    assert plan is None
    dup = sorted((p.sheet, p.cell) for p in problems if p.code == "plan_dubblett")
    assert [s for s, _ in dup] == ["Ekonomi", "Indikatorer", "Personal"]
    messages = " ".join(p.message for p in problems if p.code == "plan_dubblett")
    assert "Posten 'intäkter' finns redan på rad 2 för samma avdelning och år" in messages
    assert "Nyckeltalet 'Sjukfrånvaro totalt' finns redan på rad 2 för samma avdelning" in messages
    assert "Serien 'äldre' står två gånger" in messages


def test_plan_sheet_name_with_trailing_space_is_accepted(tiny_tables: dict[str, Any],
                                                         write_tables: Callable[..., Path]) -> None:
    from openpyxl import load_workbook

    path = write_tables(tiny_tables, "p.xlsx")
    wb = load_workbook(path)
    wb["Indikatorer"].title = "Indikatorer "
    wb.save(path)
    plan = read_plan(path)
    assert [i.id for i in plan.indicators] == ["I1", "I2", "I3", "I4"]


def test_plan_swapped_sheet_names_get_one_clear_message(tiny_tables: dict[str, Any],
                                                        write_tables: Callable[..., Path]) -> None:
    from openpyxl import load_workbook

    path = write_tables(tiny_tables, "p.xlsx")
    wb = load_workbook(path)
    wb["Mål"].title, wb["Indikatorer"].title = "tmp", "Mål"
    wb["tmp"].title = "Indikatorer"
    wb.save(path)
    plan, problems = plan_from_workbook(path)
    assert plan is None
    swapped = [p for p in problems if p.code == "fel_blad"]
    assert {p.sheet for p in swapped} == {"Mål", "Indikatorer"}
    assert "har rubrikerna för bladet 'Indikatorer'" in next(p.message for p in swapped if p.sheet == "Mål")
    assert not [p for p in problems if p.code == "plan_kolumn_saknas"]


def test_plan_title_row_above_headers_is_one_message(tiny_tables: dict[str, Any],
                                                     write_tables: Callable[..., Path]) -> None:
    from openpyxl import load_workbook

    path = write_tables(tiny_tables, "p.xlsx")
    wb = load_workbook(path)
    wb["Indikatorer"].insert_rows(1)
    wb["Indikatorer"]["A1"] = "Indikatorer för Vård- och omsorgsnämnden 2024"
    wb.save(path)
    plan, problems = plan_from_workbook(path)
    assert plan is None
    (only,) = problems
    assert only.code == "rubrikrad" and only.sheet == "Indikatorer" and "rad 2" in only.message


# ---------------------------------------------------------------- local exports


def export_plan(tables: dict[str, Any], write_tables: Callable[..., Path], pattern: str) -> Path:
    tables = copy.deepcopy(tables)
    tables["Filkällor"] = [{"Indikator-id": "I3", "Fil": pattern, "Värdekolumn": "Värde",
                            "Nyckelkolumner": "Enhet={avdelning}; Period={period}"}]
    return write_tables(tables, "plan-export.xlsx")


def test_utf16_csv_is_read(tmp_path: Path, tiny_tables: dict[str, Any], write_tables: Callable[..., Path]) -> None:
    (tmp_path / "sjuk.csv").write_bytes("Enhet;Period;Värde\nALD;2024-helår;8,5\nLSS;2024-helår;6,1\n"
                                        .encode("utf-16"))
    plan = read_plan(export_plan(tiny_tables, write_tables, "sjuk.csv"))
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], parse_period(PERIOD))
    assert sorted((v.department_id, v.value) for v in values) == [("ALD", 8.5), ("LSS", 6.1)]
    assert problems == []


def test_comma_csv_with_unquoted_decimal_commas_is_refused_never_read_as_the_integer(
        tmp_path: Path, tiny_tables: dict[str, Any], write_tables: Callable[..., Path]) -> None:
    csv_path = tmp_path / "sjuk.csv"
    csv_path.write_text('Enhet,Period,Värde\nALD,2024-helår,"8,5"\nLSS,2024-helår,61,5 %\n', encoding="utf-8")
    with pytest.raises(WorkbookUnreadable, match="rad 3 har 4 fält"):
        read_table(csv_path)
    plan = read_plan(export_plan(tiny_tables, write_tables, "sjuk.csv"))
    values, problems = read_file_values(plan, tmp_path, ["ALD", "LSS"], parse_period(PERIOD))
    assert values == []
    (problem,) = problems
    assert problem.file == "sjuk.csv" and "rad 3" in problem.message and "61,5 %" in problem.message


# ---------------------------------------------------------------- department files with renamed sheets


def _rename(path: Path, renames: dict[str, str]) -> None:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    for i, old in enumerate(renames):
        wb[old].title = f"tmp{i}"
    for i, new in enumerate(renames.values()):
        wb[f"tmp{i}"].title = new
    wb.save(path)


def test_department_file_with_swapped_sheet_names_is_read_with_one_clear_warning(books: Path) -> None:
    from xlplan.books.department.columns import INDICATORS, OVERVIEW
    from xlplan.books.department.reader import read_department_workbook

    path = sorted(books.glob("*.xlsx"))[0]
    _rename(path, {INDICATORS: OVERVIEW, OVERVIEW: INDICATORS})
    book = read_department_workbook(path)
    assert book.actual_sheet_name(INDICATORS) == OVERVIEW and book.actual_sheet_name(OVERVIEW) == INDICATORS
    renamed = [p for p in book.problems if p.code == "blad_omdopt"]
    assert len(renamed) == 2 and not [p for p in book.problems if p.severity == "fel"]
    assert f"Bladet '{INDICATORS}' har bytt namn till '{OVERVIEW}'" in " ".join(p.message for p in renamed)


def test_department_sheet_name_with_trailing_space_is_the_sheet(books: Path) -> None:
    from xlplan.books.department.columns import INDICATORS
    from xlplan.books.department.reader import read_department_workbook

    path = sorted(books.glob("*.xlsx"))[0]
    _rename(path, {INDICATORS: INDICATORS + " "})
    book = read_department_workbook(path)
    assert book.actual_sheet_name(INDICATORS) == INDICATORS + " "
    assert not [p for p in book.problems if p.severity != "info"]
