"""Plan features of real plans, end to end: plan → plan check → department sheet → flag/consolidate → board pack.

Committee-level indicators (*Rapporteras av*), balance targets with a tolerance,
period-bound questions, goal levels and history years (``docs/plan-format.md``).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from docx import Document

from xlplan import lo
from xlplan.committee import read_committee_workbook
from xlplan.consolidate import consolidate
from xlplan.deptbook import read_department_workbook
from xlplan.export import export
from xlplan.fill import fill
from xlplan.flag import flag_book
from xlplan.layout.columns import INDICATORS, OVERVIEW
from xlplan.planio import plan_from_workbook, read_plan

STAMP = "2026-11-23T20:00:00+00:00"


def fill_folder(plan: Path, folder: Path, period: str) -> dict[str, Path]:
    written = fill(plan, period, None, folder, generated_at=STAMP).written
    return {read_department_workbook(p).department_id or "": p for p in written}


def set_cells(path: Path, cells: dict[tuple[str, str, str], Any]) -> None:
    book = read_department_workbook(path)
    wb = openpyxl.load_workbook(path)
    for (sheet, row_id, key), value in cells.items():
        wb[book.actual_sheet_name(sheet) or sheet][book.address(sheet, row_id, key)] = value
    wb.save(path)


def run(plan: Path, avd: Path, out: Path, period: str) -> Any:
    result = consolidate(avd, plan, period, out / "sammanstallning.xlsx", out / "rapport.json")
    return result, read_committee_workbook(result.out_path)


@pytest.fixture
def no_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo, "soffice_path", lambda: None)


def sheet_rows(path: Path, sheet: str) -> dict[str, dict[str, Any]]:
    """Rows by Rad-id (column A) -> {header: cell}, and the cells' protection, from the file itself."""
    ws = openpyxl.load_workbook(path)[sheet]
    header = [c.value for c in ws[5]]
    out = {}
    for row in ws.iter_rows(min_row=6):
        if row[0].value:
            out[str(row[0].value)] = {h: c for h, c in zip(header, row) if h}
    return out


# ---------------------------------------------------------------- committee-level indicators

def committee_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    t["Avdelningar"] += [{"Avdelnings-id": "HSL", "Avdelning": "Hälso- och sjukvård"},
                         {"Avdelnings-id": "NÄMND", "Avdelning": "Förvaltningsledningen"}]
    t["Indikatorer"] += [
        # one Kolada figure for the whole kommun, reported once by the committee; every department sees it
        {"Indikator-id": "K1", "Mål-id": "M1", "Indikator": "Nöjd medborgarindex, äldreomsorg",
         "Kolada-id": "U23471", "Källa": "Kolada", "Nuläge": "60", "Nulägesår": 2023, "Målvärde 2024": "minst 62",
         "Avdelningar": "ALD, LSS, HSL", "Rapporteras av": "nämnd"},
        # a figure for the whole committee that one named department reports
        {"Indikator-id": "K2", "Mål-id": "M2", "Indikator": "Sjukfrånvaro hela förvaltningen (%)", "Enhet": "%",
         "Nuläge": "8,4 %", "Nulägesår": 2023, "Målvärde 2024": "högst 8 %", "Rapporteras av": "HSL"},
    ]
    return t


def test_committee_level_indicator_is_reported_once(tiny_tables, write_tables, tmp_path, no_soffice) -> None:
    plan_path = write_tables(committee_tables(tiny_tables))
    plan = read_plan(plan_path)
    k1, k2 = (next(i for i in plan.indicators if i.id == k) for k in ("K1", "K2"))
    assert k1.reporter == "NÄMND" and k1.reported_by_committee and k2.reporter == "HSL"
    assert [d.id for d in plan.departments if k1.reported_by(d.id)] == ["NÄMND"]
    assert [d.id for d in plan.departments if k1.shown_to(d.id)] == ["ALD", "LSS", "HSL"]
    assert [d.id for d in plan.departments if k2.shown_to(d.id)] == ["ALD", "LSS", "NÄMND"]

    avd = tmp_path / "avd"
    files = fill_folder(plan_path, avd, "2024-helår")
    # the reporter has input cells; the others a locked row saying who reports, not counted for them
    assert "I|K1|" in sheet_rows(files["NÄMND"], INDICATORS)
    lss = sheet_rows(files["LSS"], INDICATORS)
    assert "I|K1|" not in lss and "I|K2|" not in lss
    for rid, who in (("R|K1|", "Rapporteras av Nämnden (Förvaltningsledningen)"),
                     ("R|K2|", "Rapporteras av Hälso- och sjukvård")):
        row = lss[rid]
        assert row["Status"].value == who
        assert all(c.protection.locked for c in row.values())  # no input cell
    overview = sheet_rows(files["LSS"], OVERVIEW)
    assert overview["S|I|Totalt"]["Värde"].value == 4  # I2 (two series), I3, I4: not the context rows
    assert "R|K2|" not in sheet_rows(files["HSL"], INDICATORS) and "I|K2|" in sheet_rows(files["HSL"], INDICATORS)

    flags = flag_book(plan, read_department_workbook(files["LSS"]))
    assert {r.indicator_id for r in flags.rows} == {"I2", "I3", "I4"}
    assert not [f for f in flags.flags if f.code == "rad_okand"]

    set_cells(files["NÄMND"], {(INDICATORS, "I|K1|", "outcome"): 63.0})
    set_cells(files["HSL"], {(INDICATORS, "I|K2|", "outcome"): 8.2})
    _, data = run(plan_path, avd, tmp_path / "namnd", "2024-helår")
    k1_lines = [x for x in data.indicators if x.indicator_id == "K1"]
    k2_lines = [x for x in data.indicators if x.indicator_id == "K2"]
    assert [(x.department_id, x.department, x.outcome, x.status) for x in k1_lines] == \
        [(None, "Nämnden", 63.0, "Uppfyllt")]
    assert [(x.department_id, x.outcome, x.status) for x in k2_lines] == [("HSL", 8.2, "Delvis uppfyllt")]
    m1 = next(g for g in data.goals if g.goal_id == "M1")
    # M1: I1 (ALD), I2 (two departments × two series) and K1 once: three indicators
    assert sum(m1.support().values()) == 3 and m1.fulfilled == 1

    result = export(tmp_path / "namnd" / "sammanstallning.xlsx", tmp_path / "ut")
    doc = Document(str(result.docx))
    cells = [c.text for t in doc.tables for r in t.rows for c in dict.fromkeys(r.cells)]  # merged once
    assert sum(1 for c in cells if c.startswith("Nöjd medborgarindex")) == 1
    assert sum(1 for c in cells if c == "Nämnden") == 1


def test_reporter_must_be_a_department_or_the_committee_department(tiny_tables, write_tables) -> None:
    t = committee_tables(tiny_tables)
    t["Avdelningar"] = [d for d in t["Avdelningar"] if d["Avdelnings-id"] != "NÄMND"]
    t["Indikatorer"][-1]["Rapporteras av"] = "XYZ"
    plan, problems = plan_from_workbook(write_tables(t))
    assert plan is None
    messages = [p.message for p in problems if p.code == "okand_referens"]
    assert any("ingen avdelning med id NÄMND" in m for m in messages)
    assert any("'XYZ' finns inte på bladet Avdelningar" in m for m in messages)
    assert all(p.sheet == "Indikatorer" and p.cell for p in problems)


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


Writer = Callable[..., Path]
