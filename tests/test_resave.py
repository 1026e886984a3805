"""Editing a department workbook in place keeps its VBA project and ribbon, in one write."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from xlplan.actions.fill import fill
from xlplan.io import resave
from xlplan.xlsm import parts

PERIOD = "2024-delår"


@pytest.fixture
def xlsm(tiny_plan_path: Path, tmp_path: Path) -> Path:
    (path,) = fill(tiny_plan_path, PERIOD, ["ALD"], tmp_path / "avd", fmt="xlsm").written
    return path


def ribbon_rels(path: Path) -> list[Any]:
    with zipfile.ZipFile(path) as zf:
        rels = parts.read_rels(zf.read("_rels/.rels"), "")
        names = set(zf.namelist())
    return [r for r in rels if r.type == parts.REL_RIBBON and r.target in names]


def test_save_edited_keeps_ribbon_and_vba_without_a_second_pass(xlsm: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    second_pass: list[Path] = []
    monkeypatch.setattr(resave, "restore_package_relationships", lambda old, new: second_pass.append(new))
    assert len(ribbon_rels(xlsm)) == 1
    for text in ("första", "andra"):
        wb = resave.load_for_edit(xlsm)
        wb.worksheets[0]["A1"] = text
        resave.save_edited(wb, xlsm)
    assert second_pass == []
    assert [r.target for r in ribbon_rels(xlsm)] == ["customUI/customUI14.xml"]
    with zipfile.ZipFile(xlsm) as zf:
        assert zf.testzip() is None and "xl/vbaProject.bin" in zf.namelist()
    assert load_workbook(xlsm).worksheets[0]["A1"].value == "andra"


def test_an_xlsx_is_saved_as_openpyxl_saves_it(tiny_plan_path: Path, tmp_path: Path) -> None:
    (path,) = fill(tiny_plan_path, PERIOD, ["ALD"], tmp_path / "avd", fmt="xlsx").written
    wb = resave.load_for_edit(path)
    assert resave.kept_relationships(wb, path) == []
    wb.worksheets[0]["A1"] = "x"
    resave.save_edited(wb, path)
    assert load_workbook(path).worksheets[0]["A1"].value == "x"
