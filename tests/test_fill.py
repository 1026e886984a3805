"""xlplan fill: files per department, names, refusals, refill with --update."""

from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook
from typer.testing import CliRunner

from xlplan.cli import app
from xlplan.deptbook import read_department_workbook
from xlplan.errors import BadInput, WorkbookRefused
from xlplan.fill import fill, safe_name_part, workbook_name
from xlplan.layout.columns import INDICATORS, OVERVIEW, REMOVED
from xlplan.periods import parse_period

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
    assert target.read_bytes() == before and not target.with_name(target.name + ".bak").exists()


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
    assert target.with_name(target.name + ".bak").exists()
    assert not [p for p in after.problems if p.severity == "fel"]


def test_cli_fill(tiny_plan_path, tmp_path) -> None:
    runner = CliRunner()
    res = runner.invoke(app, ["fill", str(tiny_plan_path), "--period", "2024-delår", "--all", "--out", str(tmp_path)])
    assert res.exit_code == 0, res.output
    assert "Äldreomsorg" in res.output and (tmp_path / ALD).exists()
    res = runner.invoke(app, ["fill", str(tiny_plan_path), "--period", "2024-delår", "--out", str(tmp_path)])
    assert res.exit_code == 2
