"""xlplan fill: files per department, names, refusals, refill with --update."""

from __future__ import annotations

import copy
import shutil
import tempfile
from pathlib import Path

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from conftest import TINY
from xlplan.actions.fill import fill, workbook_name
from xlplan.books.department.columns import COLUMNS, INDICATORS, OVERVIEW, REMOVED
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import write_plan_tables
from xlplan.cli import app
from xlplan.core.errors import BadInput, WorkbookRefused
from xlplan.core.naming import safe_name_part
from xlplan.core.periods import parse_period
from xlplan.io.atomic import backups_of

STAMP = "2026-11-23T20:00:00+00:00"
ALD = "Alingsås_Vård-_och_omsorgsnämnden_Äldreomsorg_2024-delår.xlsx"


def test_fill_writes_one_workbook_per_department(tiny_plan_path, tmp_path) -> None:
    result = fill(tiny_plan_path, "2024-delar", out_dir=tmp_path / "ut", generated_at=STAMP)
    names = sorted(p.name for p in result.written)
    assert names == ["Alingsås_Vård-_och_omsorgsnämnden_Funktionsstöd_2024-delår.xlsx", ALD]
    for path in result.written:
        openpyxl.load_workbook(path)
        assert "Mål och indikatorer" in CalamineWorkbook.from_path(str(path)).sheet_names
    assert all(r.created for r in result.reports)


def test_fill_one_department(tiny_plan_path, tmp_path) -> None:
    result = fill(tiny_plan_path, "2024-K1", ["lss"], tmp_path)
    assert [p.name for p in result.written] == ["Alingsås_Vård-_och_omsorgsnämnden_Funktionsstöd_2024-K1.xlsx"]


def test_unknown_department_and_period_are_refused(tiny_plan_path, tmp_path) -> None:
    out = tmp_path / "ut"
    with pytest.raises(BadInput, match="XX finns inte"):
        fill(tiny_plan_path, "2024-K1", ["XX"], out)
    with pytest.raises(BadInput, match="utanför planens år"):
        fill(tiny_plan_path, "2031-K1", None, out)
    with pytest.raises(BadInput):
        fill(tiny_plan_path, "2024-Q9", None, out)
    assert not out.exists()


def test_safe_names() -> None:
    assert safe_name_part('Vård/ och "omsorg": <A|B>?*.') == "Vård_och_omsorg_AB"
    assert safe_name_part("Äldreomsorg  Syd") == "Äldreomsorg_Syd"


def test_workbook_name(tiny_plan) -> None:
    name = workbook_name(tiny_plan, tiny_plan.department("ALD"), parse_period("2024-helår"))
    assert name == "Alingsås_Vård-_och_omsorgsnämnden_Äldreomsorg_2024-helår.xlsx"


def test_existing_file_refused_without_update(tiny_plan_path, tmp_path) -> None:
    fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path)
    before = (tmp_path / ALD).read_bytes()
    with pytest.raises(WorkbookRefused, match="--update"):
        fill(tiny_plan_path, "2024-delår", None, tmp_path)
    assert (tmp_path / ALD).read_bytes() == before
    assert not (tmp_path / "Alingsås_Vård-_och_omsorgsnämnden_Funktionsstöd_2024-delår.xlsx").exists()


def test_update_refuses_foreign_files(tiny_plan_path, tmp_path) -> None:
    target = tmp_path / ALD
    wb = openpyxl.Workbook()
    wb.save(target)
    with pytest.raises(WorkbookRefused, match="_xlplan saknas"):
        fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, update=True)
    other = tmp_path / "annan"
    fill(tiny_plan_path, "2024-delår", ["LSS"], other)
    shutil.copy(other / "Alingsås_Vård-_och_omsorgsnämnden_Funktionsstöd_2024-delår.xlsx", target)
    before = target.read_bytes()
    with pytest.raises(WorkbookRefused, match="avdelningen 'LSS'"):
        fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, update=True)
    assert target.read_bytes() == before and not backups_of(target)


def test_update_refuses_other_period(tiny_plan_path, tmp_path) -> None:
    fill(tiny_plan_path, "2024-K1", ["ALD"], tmp_path)
    k1 = tmp_path / ALD.replace("delår", "K1")
    shutil.copy(k1, tmp_path / ALD)
    with pytest.raises(WorkbookRefused, match="perioden '2024-K1'"):
        fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, update=True)


def type_into(path: Path, sheet: str, address: str, value) -> None:
    wb = openpyxl.load_workbook(path)
    wb[sheet][address] = value
    wb.save(path)


def test_update_keeps_inputs_and_reports_changes(tiny_tables, write_tables, tmp_path) -> None:
    plan_path = write_tables(tiny_tables)
    fill(plan_path, "2024-delår", ["ALD"], tmp_path)
    target = tmp_path / ALD
    book = read_department_workbook(target)
    wb = openpyxl.load_workbook(target)
    wb[INDICATORS][book.address(INDICATORS, "I|I1|", "outcome")] = 91.5
    wb[INDICATORS][book.address(INDICATORS, "I|I3|", "comment")] = "Hög sjukfrånvaro i vintras."
    wb[OVERVIEW][book.address(OVERVIEW, "O|inlamning", "value")] = "pågår"
    wb.save(target)

    tiny_tables["Indikatorer"][0]["Målvärde 2024"] = ">92 %"
    del tiny_tables["Indikatorer"][2]
    tiny_tables["Indikatorer"].append({"Indikator-id": "I5", "Mål-id": "M1", "Indikator": "Ny", "Avdelningar": "ALD"})
    write_tables(tiny_tables)
    result = fill(plan_path, "2024-delår", ["ALD"], tmp_path, update=True)

    (report,) = result.reports
    kinds = {(c.kind, c.row_id) for c in report.changes}
    assert kinds == {("ändrad", "I|I1|"), ("tillagd", "I|I5|"), ("borttagen", "I|I3|")}
    assert report.moved_inputs == 1
    assert any("'>90 %' → '>92 %'" in line for line in result.lines())
    after = read_department_workbook(target)
    assert after.value(INDICATORS, "I|I1|", "outcome") == 91.5
    assert after.value(INDICATORS, "I|I1|", "target") == ">92 %"
    assert after.submission == "pågår"
    (moved,) = after.sheets[REMOVED].rows.values()
    assert moved.values["value"] == "Hög sjukfrånvaro i vintras." and moved.values["source_row"] == "I|I3|"
    assert len(backups_of(target)) == 1 and not target.with_name(target.name + ".bak").exists()
    assert not [p for p in after.problems if p.severity == "fel"]


def test_cli_fill(tiny_plan_path, tmp_path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["fill", str(tiny_plan_path), "--period", "2024-delår", "--all", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Äldreomsorg" in res.output and (tmp_path / ALD).with_suffix(".xlsm").exists()  # the CLI's default
    res = runner.invoke(app, ["fill", str(tiny_plan_path), "--period", "2024-delår", "--all", "--out",
                              str(tmp_path / "x"), "--format", "xlsx"])
    assert res.exit_code == 0 and (tmp_path / "x" / ALD).exists()
    res = runner.invoke(app, ["fill", str(tiny_plan_path), "--period", "2024-delår", "--out", str(tmp_path)])
    assert res.exit_code == 2


# ---------------------------------------------------------------- property: refill keeps every input


_TEXT = st.text(alphabet=st.sampled_from(list("abcåäöÅÄÖ xyz019,.-%()!?\n")), min_size=1, max_size=30)
VALUES = st.one_of(st.none(), _TEXT, st.integers(-10**9, 10**9),
                   # what a person can type: Excel (and openpyxl) keep about 15 significant digits
                   st.floats(-1e9, 1e9, allow_nan=False, allow_infinity=False).map(lambda x: float(f"{x:.12g}")))


def input_cells(book) -> list[tuple[str, str, str, str]]:
    """(sheet, row_id, key, address) of every cell a person or pull may write."""
    out = []
    for name, sheet in book.sheets.items():
        columns = {c.key: c for c in COLUMNS[name]()}
        for row_id, row in sheet.rows.items():
            for key, address in row.cells.items():
                col = columns[key]
                overview_input = name == OVERVIEW and row_id in ("O|inlamning", "O|kontakt") and key == "value"
                if (col.preserved and not row_id.startswith("T|")) or overview_input:
                    out.append((name, row_id, key, address))
    return out


def same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return float(a) == float(b)
    return a == b


def changed_plan() -> dict:
    t = copy.deepcopy(TINY)
    t["Indikatorer"][0]["Målvärde 2024"] = "minst 91 %"  # reworded target
    t["Indikatorer"] = [i for i in t["Indikatorer"] if i["Indikator-id"] != "I3"]  # removed
    t["Indikatorer"].append({"Indikator-id": "I9", "Mål-id": "M2", "Indikator": "Ny indikator",
                             "Målvärde 2024": "högst 5"})  # added
    t["Aktiviteter"] = [a for a in t["Aktiviteter"] if a["Aktivitets-id"] != "A2"]
    return t


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_refill_keeps_every_input(data) -> None:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        write_plan_tables(TINY, root / "plan.xlsx")
        paths = fill(root / "plan.xlsx", "2024-delår", None, root / "ut").written
        typed: dict[Path, list[tuple[str, str, str, object]]] = {}
        for path in paths:
            cells = input_cells(read_department_workbook(path))
            wb = openpyxl.load_workbook(path)
            typed[path] = []
            for sheet, row_id, key, address in cells:
                value = data.draw(VALUES, label=f"{path.stem[-20:]} {row_id} {key}")
                wb[sheet][address] = value
                typed[path].append((sheet, row_id, key, value))
            wb.save(path)
        write_plan_tables(changed_plan(), root / "plan.xlsx")
        fill(root / "plan.xlsx", "2024-delår", None, root / "ut", update=True)
        for path, entries in typed.items():
            check_kept(path, entries)


def check_kept(path: Path, entries: list[tuple[str, str, str, object]]) -> None:
    book = read_department_workbook(path)
    wb = openpyxl.load_workbook(path)
    removed = [r.raw for r in book.sheets[REMOVED].rows.values()] if REMOVED in book.sheets else []
    headers = {(name, c.key): c.header for name in COLUMNS for c in COLUMNS[name]()}
    for sheet, row_id, key, value in entries:
        address = book.address(sheet, row_id, key)
        if address is not None:
            assert same(wb[sheet][address].value, value), (sheet, row_id, key)
        elif value is not None:
            hits = [r for r in removed if r["source_row"] == row_id and r["column"] == headers[(sheet, key)]]
            assert len(hits) == 1 and same(hits[0]["value"], value), (sheet, row_id, key, value)
        else:
            assert row_id in ("I|I3|", "A|A2")


# ---------------------------------------------------------------- LibreOffice: renders and calculates

needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) saknas")


@needs_soffice
def test_libreoffice_converts_a_filled_workbook_to_pdf(tiny_plan_path, tmp_path) -> None:
    from xlplan.io.lo import convert

    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path / "ut").written
    pdf = convert(path, "pdf", tmp_path / "pdf")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 5000


@needs_soffice
def test_formulas_calculate_the_status_and_summary(tiny_plan_path, tmp_path) -> None:
    from xlplan.io.lo import recalc_xlsx

    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path / "ut").written
    book = read_department_workbook(path)
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATORS]
    ws[book.address(INDICATORS, "I|I1|", "outcome")] = 91.5  # >90 %: met
    ws[book.address(INDICATORS, "I|I2|Äldre", "outcome")] = 60  # >69 %, worse than 83: not met
    ws[book.address(INDICATORS, "I|I3|", "outcome")] = 7.9  # 7,5 % (lower is better), better than 8,1: partly
    wb["Ekonomi"][book.address("Ekonomi", "E|Intäkter", "forecast")] = 1500
    wb.save(path)
    calc = read_department_workbook(recalc_xlsx(path, tmp_path / "calc"))
    status = {r: calc.value(INDICATORS, r, "status") for r in calc.sheets[INDICATORS].rows}
    assert status == {"I|I1|": "Uppfyllt", "I|I2|Äldre": "Ej uppfyllt", "I|I2|Funktionsstöd": "Utfall saknas",
                      "I|I3|": "Delvis uppfyllt"}
    assert calc.value(OVERVIEW, "S|I|Uppfyllt", "value") == 1
    assert calc.value(OVERVIEW, "S|I|Utfall saknas", "value") == 1
    assert calc.value(OVERVIEW, "S|A|ej ifylld", "value") == 1
    assert calc.value("Ekonomi", "E|Intäkter", "deviation") == 300
    assert calc.value("Ekonomi", "T|summa", "deviation") == 300
    assert calc.value("Internkontroll", "K|IK1", "risk_value") == 9
    assert calc.problems == []


def test_xlsm_format_is_read_and_refilled(tiny_plan_path, tmp_path) -> None:
    import zipfile

    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, fmt="xlsm").written
    assert path.suffix == ".xlsm"
    with zipfile.ZipFile(path) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()
    book = read_department_workbook(path)
    assert book.problems == [] and book.department_id == "ALD"
    wb = openpyxl.load_workbook(path, keep_vba=True)
    wb[INDICATORS][book.address(INDICATORS, "I|I1|", "outcome")] = 77
    wb.save(path)
    fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, update=True, fmt="xlsm")
    assert read_department_workbook(path).value(INDICATORS, "I|I1|", "outcome") == 77
    with zipfile.ZipFile(path) as zf:
        assert "xl/vbaProject.bin" in zf.namelist()
        assert "customUI/customUI14.xml" in zf.namelist()
    conf = openpyxl.load_workbook(path, keep_vba=True)["xlwings.conf"]
    assert conf.sheet_state == "hidden"
    assert conf["A1"].value == "Interpreter_Win" and "pythonw.exe" in conf["B1"].value


def test_unknown_format_is_refused(tiny_plan_path, tmp_path) -> None:
    with pytest.raises(BadInput, match="xlsx eller xlsm"):
        fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, fmt="ods")  # type: ignore[arg-type]


def test_direction_targets_compare_with_the_previous_period_file(tiny_tables, write_tables, tmp_path) -> None:
    tiny_tables["Indikatorer"].append({"Indikator-id": "I6", "Mål-id": "M1", "Indikator": "Antal besök",
                                       "Målvärde 2024": "Öka", "Avdelningar": "ALD"})
    plan_path = write_tables(tiny_tables)
    (k1,) = fill(plan_path, "2024-K1", ["ALD"], tmp_path).written
    book = read_department_workbook(k1)
    type_into(k1, INDICATORS, book.address(INDICATORS, "I|I6|", "outcome"), 120)
    result = fill(plan_path, "2024-delår", ["ALD"], tmp_path)
    assert result.reports[0].previous == k1
    assert any("jämförs med" in line for line in result.lines())
    book = read_department_workbook(result.written[0])
    wb = openpyxl.load_workbook(result.written[0])
    status = wb[INDICATORS][book.address(INDICATORS, "I|I6|", "status")].value
    comparison = book.address(INDICATORS, "I|I6|", "comparison")
    assert book.value(INDICATORS, "I|I6|", "comparison") == 120
    assert book.value(INDICATORS, "I|I6|", "comparison_source") == "Utfall K1 2024 (avdelningsfil)"
    # the formula reads the comparison cell, so a value the department types there counts at once
    assert status.startswith("=") and comparison in status and "120" not in status
    assert wb[INDICATORS][comparison].protection.locked is False
    # a threshold row has no comparison value and its comparison cell is protected
    assert book.value(INDICATORS, "I|I1|", "comparison") is None
    assert wb[INDICATORS][book.address(INDICATORS, "I|I1|", "comparison")].protection.locked is True


def test_comparison_comes_from_last_years_helar_file_and_a_typed_one_is_kept(tiny_tables, write_tables,
                                                                              tmp_path) -> None:
    tiny_tables["Indikatorer"].append({"Indikator-id": "I6", "Mål-id": "M1", "Indikator": "Antal besök",
                                       "Målvärde 2024": "Minska", "Målvärde 2023": "Minska", "Avdelningar": "ALD"})
    tiny_tables["Indikatorer"].append({"Indikator-id": "I7", "Mål-id": "M1", "Indikator": "Antal klagomål",
                                       "Målvärde 2024": "Minska", "Målvärde 2023": "Minska", "Avdelningar": "ALD"})
    settings = {r["Inställning"]: r for r in tiny_tables["Inställningar"]}
    settings["Planår"]["Värde"] = 2023
    plan_path = write_tables(tiny_tables)
    (helar,) = fill(plan_path, "2023-helår", ["ALD"], tmp_path).written
    book = read_department_workbook(helar)
    type_into(helar, INDICATORS, book.address(INDICATORS, "I|I6|", "outcome"), 8.1)
    settings["Planår"]["Värde"] = 2024
    write_tables(tiny_tables)
    (k1,) = fill(plan_path, "2024-K1", ["ALD"], tmp_path).written
    book = read_department_workbook(k1)
    assert book.value(INDICATORS, "I|I6|", "comparison") == 8.1
    assert book.value(INDICATORS, "I|I6|", "comparison_source") == "Utfall helår 2023 (avdelningsfil)"
    assert book.value(INDICATORS, "I|I7|", "comparison") is None
    type_into(k1, INDICATORS, book.address(INDICATORS, "I|I7|", "comparison"), 12)
    result = fill(plan_path, "2024-K1", ["ALD"], tmp_path, update=True)
    book = read_department_workbook(k1)
    assert book.value(INDICATORS, "I|I7|", "comparison") == 12
    assert book.value(INDICATORS, "I|I7|", "comparison_source") == "Inskrivet av avdelningen"
    assert book.value(INDICATORS, "I|I6|", "comparison") == 8.1
    assert result.reports[0].kept_inputs >= 1


def test_removed_rows_survive_later_refills(tiny_tables, write_tables, tmp_path) -> None:
    plan_path = write_tables(tiny_tables)
    (path,) = fill(plan_path, "2024-delår", ["ALD"], tmp_path).written
    book = read_department_workbook(path)
    type_into(path, "Aktiviteter", book.address("Aktiviteter", "A|A1", "comment"), "Klar i maj.")
    tiny_tables["Aktiviteter"] = [a for a in tiny_tables["Aktiviteter"] if a["Aktivitets-id"] != "A1"]
    write_tables(tiny_tables)
    fill(plan_path, "2024-delår", ["ALD"], tmp_path, update=True)
    tiny_tables["Ekonomi"][0]["Budget (tkr)"] = 1300
    write_tables(tiny_tables)
    result = fill(plan_path, "2024-delår", ["ALD"], tmp_path, update=True)
    assert [(c.kind, c.row_id) for c in result.reports[0].changes] == [("ändrad", "E|Intäkter")]
    assert "Budget (tkr): '1 200' → '1 300'" in result.reports[0].changes[0].details[0]
    rows = list(read_department_workbook(path).sheets[REMOVED].rows.values())
    assert [(r.values["source_row"], r.values["column"], r.values["value"]) for r in rows] == [
        ("A|A1", "Kommentar", "Klar i maj.")]


def test_refill_refuses_when_an_input_column_is_lost(tiny_plan_path, tmp_path) -> None:
    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path).written
    book = read_department_workbook(path)
    comment = book.address(INDICATORS, "I|I1|", "comment")
    header = f"{comment[0]}5"

    def change(wb):
        wb[INDICATORS][comment] = "viktig kommentar"
        wb[INDICATORS][header] = None
    wb = openpyxl.load_workbook(path)
    change(wb)
    wb.save(path)
    before = path.read_bytes()
    with pytest.raises(WorkbookRefused, match="Kommentar / analys"):
        fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, update=True)
    assert path.read_bytes() == before


def test_refill_moves_duplicated_rows_to_removed(tiny_plan_path, tmp_path) -> None:
    (path,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path).written
    wb = openpyxl.load_workbook(path)
    ws = wb[INDICATORS]
    ws["A12"], ws["P12"] = "I|I1|", "kopierad rad"
    wb.save(path)
    fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path, update=True)
    rows = list(read_department_workbook(path).sheets[REMOVED].rows.values())
    assert [r.values["value"] for r in rows] == ["kopierad rad"]
