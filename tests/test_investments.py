"""The investment follow-up: projects in the plan, outturn from the ledger, forecast per department,
the committee's sheet Investeringar and the board pack's investment table."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document
from openpyxl import load_workbook

from conftest import TINY
from test_ledger import PERIOD, econ_tables, economy_rows, filled, write_csv
from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.pull import apply_pull, ledger_pull, load_books
from xlplan.books.committee import InvestmentLine, read_committee_workbook
from xlplan.books.department.columns import ECONOMY
from xlplan.books.plan import read_plan, write_plan_tables
from xlplan.io.ledger import read_ledger

GOLDEN_DEPARTMENT = Path(__file__).parent / "golden" / "äldreomsorg_2024-delår.xlsx"
BEDS, AIDS = "Investering: Sängar", "Investering: Vårdarhjälpmedel"
# (ansvar, konto, period, belopp in kr, costs and expenditure positive as the ledger writes them)
INVESTMENT_ROWS = [
    ("1100", "1223", "202403", "300 000"),  # ALD beds
    ("1100", "1223", "202406", "120 000,50"),  # ALD beds
    ("2100", "1222", "202405", "40 000"),  # LSS care aids
    ("1100", "1223", "202410", "99 000"),  # after August: not in the delår
]


def invest_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    """The ledger plan of test_ledger with two projects: beds at ALD, care aids at ALD and LSS (frame on NÄMND)."""
    t = econ_tables(tiny)
    t["Ekonomi"] += [
        {"Avdelnings-id": "NÄMND", "Post": BEDS, "År": 2024, "Budget (tkr)": 800},
        {"Avdelnings-id": "NÄMND", "Post": AIDS, "År": 2024, "Budget (tkr)": 300},
        {"Avdelnings-id": "ALD", "Post": BEDS, "År": 2024, "Budget (tkr)": 800},
        {"Avdelnings-id": "ALD", "Post": AIDS, "År": 2024, "Budget (tkr)": 200},
        {"Avdelnings-id": "LSS", "Post": AIDS, "År": 2024, "Budget (tkr)": 100},
    ]
    t["Kontoplan"] += [{"Post": BEDS, "Konton": "1223"}, {"Post": AIDS, "Konton": "1222"}]
    return t


@pytest.fixture
def invest_plan_path(tmp_path: Path, tiny_tables: dict[str, Any]) -> Path:
    path = tmp_path / "plan.xlsx"
    write_plan_tables(invest_tables(tiny_tables), path)
    return path


def ledger_with_investments(tmp_path: Path) -> Path:
    from test_ledger import ROWS

    return write_csv(tmp_path / "exporter" / "huvudbok_2024.csv", ROWS + INVESTMENT_ROWS)


# ---------------------------------------------------------------- the plan


def test_investment_lines_are_read_as_projects_and_a_plan_without_them_keeps_its_version(
        tmp_path: Path, invest_plan_path: Path) -> None:
    plan = read_plan(invest_plan_path)
    projects = [(b.department_id, b.item, b.budget) for b in plan.budget if b.is_investment]
    assert projects == [("NÄMND", BEDS, 800), ("NÄMND", AIDS, 300), ("ALD", BEDS, 800), ("ALD", AIDS, 200),
                        ("LSS", AIDS, 100)]
    assert not any(b.is_investment for b in plan.budget if b.item in ("Intäkter", "Personalkostnader"))
    # the frame check covers the projects like any other line: 200 + 100 = 300, 800 = 800
    assert {(i, f, s) for i, f, s in plan.frame_distribution(2024) if i.startswith("Investering")} == {
        (BEDS, 800, 800), (AIDS, 300, 300)}
    # the plan without investments has the version its department workbooks were made with (the golden file)
    write_plan_tables(copy.deepcopy(TINY), tmp_path / "tiny.xlsx")
    meta = dict(r[:2] for r in openpyxl.load_workbook(GOLDEN_DEPARTMENT)["_xlplan"].iter_rows(values_only=True))
    assert read_plan(tmp_path / "tiny.xlsx").version == meta["plan_version"]
    assert plan.version != meta["plan_version"]


def test_the_department_sheet_shows_its_projects_below_the_operating_sum(tmp_path: Path,
                                                                       invest_plan_path: Path) -> None:
    out = filled(tmp_path, invest_plan_path)
    ald = next(out.glob("*Äldreomsorg*"))
    ws = load_workbook(ald)[ECONOMY]
    ids = [(r[0].value, r[1].value) for r in ws.iter_rows(min_row=6) if r[0].value or r[1].value]
    assert [i for i, _ in ids] == ["E|Intäkter", "E|Personalkostnader", "T|summa", None, f"E|{BEDS}", f"E|{AIDS}",
                                   "T|investeringar"]
    assert "Investeringar (tkr)" in ids[3][1]
    by_id = {r[0].value: r for r in ws.iter_rows(min_row=6) if r[0].value}
    assert by_id["T|summa"][2].value == "=SUM(C6:C7)"  # the projects are not costs of the year
    assert by_id["T|investeringar"][2].value == "=SUM(C10:C11)"
    assert by_id[f"E|{BEDS}"][2].value == 800
    rows = economy_rows(ald)
    assert set(rows) >= {f"E|{BEDS}", f"E|{AIDS}"} and "forecast" in rows[f"E|{BEDS}"].cells


# ---------------------------------------------------------------- the ledger


def test_the_ledger_maps_project_accounts_with_expenditure_positive(tmp_path: Path, invest_plan_path: Path) -> None:
    plan = read_plan(invest_plan_path)
    got = read_ledger(ledger_with_investments(tmp_path), plan, PERIOD)
    assert got.amounts[("ALD", BEDS)] == pytest.approx(420.0005)
    assert got.amounts[("LSS", AIDS)] == pytest.approx(40.0)
    assert ("ALD", AIDS) not in got.amounts
    assert got.amounts[("ALD", "Personalkostnader")] == pytest.approx(-13500.0005)  # operating lines as before
    # the export's total keeps the ledger's sign on every row (an expenditure is a cost in the export)
    assert got.total == pytest.approx(400 - 13500.0005 - 7000 - 250 - 30 - 420.0005 - 40)


def test_pull_fills_project_outturn_and_never_writes_over_typed(tmp_path: Path, invest_plan_path: Path) -> None:
    plan = read_plan(invest_plan_path)
    out = filled(tmp_path, invest_plan_path)
    ledger_with_investments(tmp_path)
    ald = next(out.glob("*Äldreomsorg*"))
    wb = load_workbook(ald)
    wb[ECONOMY][economy_rows(ald)[f"E|{AIDS}"].cells["actual"]] = 15  # typed by the department
    wb.save(ald)
    changes = ledger_pull(plan, load_books(sorted(out.glob("*.xlsx")), []), tmp_path, PERIOD, [])
    by = {(c.file.stem.split("_")[-2], c.row_id): c for c in changes}
    assert by[("Äldreomsorg", f"E|{BEDS}")].action == "fyll"
    assert by[("Äldreomsorg", f"E|{AIDS}")].action == "behåll_inskrivet"
    apply_pull(changes)
    rows = economy_rows(ald)
    assert rows[f"E|{BEDS}"].values["actual"] == pytest.approx(420.0)
    assert rows[f"E|{BEDS}"].values["outcome_source"].startswith("Källa: huvudbok_2024.csv")
    assert rows[f"E|{AIDS}"].values["actual"] == 15


# ---------------------------------------------------------------- forecast, committee sheet


def test_typed_forecast_survives_refill_pull_and_consolidate_and_the_sheet_reads_back(
        tmp_path: Path, invest_plan_path: Path) -> None:
    plan = read_plan(invest_plan_path)
    out = filled(tmp_path, invest_plan_path)
    ledger_with_investments(tmp_path)
    ald = next(out.glob("*Äldreomsorg*"))
    wb = load_workbook(ald)
    row = economy_rows(ald)[f"E|{BEDS}"]
    wb[ECONOMY][row.cells["forecast"]] = 950
    wb[ECONOMY][row.cells["comment"]] = "Fler sängar byts i år efter besiktningen."
    wb.save(ald)
    apply_pull(ledger_pull(plan, load_books([ald], []), tmp_path, PERIOD, []))
    fill(invest_plan_path, PERIOD, None, out, update=True)
    apply_pull(ledger_pull(plan, load_books(sorted(out.glob("*.xlsx")), []), tmp_path, PERIOD, []))
    result = consolidate(out, invest_plan_path, PERIOD, tmp_path / "namnd.xlsx")
    values = economy_rows(ald)[f"E|{BEDS}"].values
    assert (values["forecast"], values["comment"]) == (950, "Fler sängar byts i år efter besiktningen.")
    assert values["actual"] == pytest.approx(420.0)
    got = {(x.department_id, x.item): x for x in result.data.investments}
    assert got[("ALD", BEDS)] == InvestmentLine("ALD", "Äldreomsorg", BEDS, 800, pytest.approx(420.0), 950, 150,
                                                "Fler sängar byts i år efter besiktningen.")
    assert got[("NÄMND", BEDS)].budget == 800 and got[("NÄMND", BEDS)].outcome is None  # the adopted frame
    assert got[("LSS", AIDS)].outcome == pytest.approx(40.0)
    # the projects are not in the operating economy, and they tie to the export on their own
    assert not any(x.item.startswith("Investering") for x in result.data.economy)
    codes = {p.code: p for p in result.problems}
    assert "utfall_ej_huvudbok" not in codes
    assert "460 tkr" in codes["investering_huvudbok"].message
    assert "utan investeringar är -20 380 tkr" in codes["utfall_huvudbok"].message
    # the committee workbook: one sheet, one total row over the departments, read back as written
    ws = load_workbook(tmp_path / "namnd.xlsx")["Investeringar"]
    table = [[c.value for c in r] for r in ws.iter_rows(min_row=3)]
    assert table[0][:8] == ["Avdelnings-id", "Avdelning", "Projekt", "Budget (tkr)", "Utfall hittills (tkr)",
                            "Prognos helår (tkr)", "Avvikelse (tkr)", "Kommentar"]
    assert table[-1][1:4] == ["Nämnden totalt", "Summa", 1100]
    back = read_committee_workbook(tmp_path / "namnd.xlsx")
    assert back.investments == result.data.investments
    # an outturn typed over the pulled one: Kontroll says by how much the projects no longer tie
    wb = load_workbook(ald)
    wb[ECONOMY][economy_rows(ald)[f"E|{BEDS}"].cells["actual"]] = 400
    wb.save(ald)
    result = consolidate(out, invest_plan_path, PERIOD, tmp_path / "namnd.xlsx")
    problem = next(p for p in result.problems if p.code == "utfall_ej_huvudbok")
    assert "investeringsutgifter" in problem.message and "skillnad -20 tkr" in problem.message
    assert "Äldreomsorg Investering: Sängar" in problem.message


def test_a_plan_without_investments_writes_no_investment_sheet(tmp_path: Path) -> None:
    from test_ledger import ROWS

    plan_path = tmp_path / "plan.xlsx"
    write_plan_tables(econ_tables(copy.deepcopy(TINY)), plan_path)
    out = filled(tmp_path, plan_path)
    write_csv(tmp_path / "exporter" / "huvudbok_2024.csv", ROWS)
    result = consolidate(out, plan_path, PERIOD, tmp_path / "namnd.xlsx")
    assert result.data.investments == ()
    assert "Investeringar" not in load_workbook(tmp_path / "namnd.xlsx").sheetnames
    assert read_committee_workbook(tmp_path / "namnd.xlsx").investments == ()


# ---------------------------------------------------------------- the board pack


def _economy_text(path: Path) -> tuple[list[str], list[list[list[str]]]]:
    """The paragraphs and tables between the headings Ekonomi and Personal."""
    from docx.table import Table

    doc = Document(str(path))
    paras: list[str] = []
    tables: list[list[list[str]]] = []
    inside = False
    for el in doc.element.body.iterchildren():
        if el.tag.endswith("}p"):
            text = "".join(t.text or "" for t in el.iter() if t.tag.endswith("}t"))
            inside = (inside or text == "Ekonomi") and text != "Personal"
            if inside:
                paras.append(text)
        elif el.tag.endswith("}tbl") and inside:
            tables.append([[c.text for c in r.cells] for r in Table(el, doc._body).rows])
    return paras, tables


def test_the_board_pack_has_an_investment_table_or_one_line(tmp_path: Path) -> None:
    from xlplan.export.charts import ReportCharts
    from xlplan.export.docx_report import build_report
    from xlplan.export.sample import sample_committee_data

    base = sample_committee_data()
    projects = (InvestmentLine("NÄMND", "Nämndens budgetram", BEDS, 800),
                InvestmentLine("ALD", "Äldreomsorg", BEDS, 800, 420.4, 1250.6, 450.6, "Fler sängar"),
                InvestmentLine("LSS", "Funktionsstöd", AIDS, 100, 40, None, None))
    build_report(dataclasses.replace(base, investments=projects), ReportCharts(), tmp_path / "r.docx")
    paras, tables = _economy_text(tmp_path / "r.docx")
    assert "Investeringar" in paras
    table = next(t for t in tables if t[0][0] == "Projekt")
    assert table == [["Projekt", "Avdelning", "Budget", "Utfall hittills", "Prognos helår", "Avvikelse"],
                     ["Sängar", "Äldreomsorg", "800", "420", "1\u00a0251", "451"],
                     ["Vårdarhjälpmedel", "Funktionsstöd", "100", "40", "–", "–"],
                     ["Totalt", "", "900", "460", "1\u00a0251", "451"]]  # thousands with a no-break space
    # only the adopted frame: the budget per project
    build_report(dataclasses.replace(base, investments=projects[:1]), ReportCharts(), tmp_path / "ram.docx")
    _, tables = _economy_text(tmp_path / "ram.docx")
    assert [["Projekt", "Budget"], ["Sängar", "800"]] in tables
    # none: one line, no table
    build_report(dataclasses.replace(base, investments=()), ReportCharts(), tmp_path / "inga.docx")
    paras, tables = _economy_text(tmp_path / "inga.docx")
    assert "Nämnden har ingen investeringsbudget för perioden." in paras and "Investeringar" not in paras
    assert not any(t[0][0] == "Projekt" for t in tables)


def test_projects_on_the_same_accounts_are_told_apart_by_the_project_column(tmp_path: Path,
                                                                           tiny_tables: dict[str, Any]) -> None:
    t = invest_tables(tiny_tables)
    cols = next(s for s in t["Inställningar"] if s["Inställning"] == "Huvudbok kolumner")
    cols["Värde"] += "; Projekt=Projekt"
    t["Kontoplan"] = [k for k in t["Kontoplan"] if not k["Post"].startswith("Investering")] + [
        {"Post": BEDS, "Konton": "1220-1229", "Projekt": "P200"},
        {"Post": AIDS, "Konton": "1220-1229", "Projekt": "P300-P309"}]
    write_plan_tables(t, tmp_path / "plan.xlsx")
    plan = read_plan(tmp_path / "plan.xlsx")
    assert plan.settings.ledger is not None and plan.settings.ledger.project_column == "Projekt"
    rows = [("1100", "5010", "202403", "1 000 000", ""),  # operating: no project, mapped as before
            ("1100", "1221", "202403", "200 000", "P200"),  # beds
            ("1100", "1221", "202404", "50 000", "P305"),  # care aids, same account
            ("1100", "1221", "202404", "7 000", "P999")]  # a project of no Post: reported, not dropped
    path = write_csv(tmp_path / "hb.csv", rows, header=["Ansvar", "Konto", "Period", "Belopp (kr)", "Projekt"])
    got = read_ledger(path, plan, PERIOD)
    assert got.amounts == {("ALD", "Personalkostnader"): pytest.approx(-1000.0), ("ALD", BEDS): pytest.approx(200.0),
                           ("ALD", AIDS): pytest.approx(50.0)}
    assert [(u.reason, u.code, u.amount) for u in got.unmapped] == [("okänt konto", "1221 (projekt P999)",
                                                                     pytest.approx(-7.0))]
    # the export lacks the project column the plan names: refused, naming the column
    from xlplan.core.errors import WorkbookRefused

    with pytest.raises(WorkbookRefused, match="kolumnen 'Projekt' saknas"):
        read_ledger(write_csv(tmp_path / "utan.csv", [r[:4] for r in rows]), plan, PERIOD)


def test_a_committee_file_reports_its_own_projects_and_they_count_in_the_total(tmp_path: Path,
                                                                             tiny_tables: dict[str, Any]) -> None:
    """With a department NÄMND (the committee's own file) its projects are followed up there, not a frame."""
    t = invest_tables(tiny_tables)
    t["Avdelningar"].append({"Avdelnings-id": "NÄMND", "Avdelning": "Nämndens kansli"})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    out = filled(tmp_path, tmp_path / "plan.xlsx")
    own = next(out.glob("*kansli*"))
    wb = load_workbook(own)
    wb[ECONOMY][economy_rows(own)[f"E|{BEDS}"].cells["forecast"]] = 820
    wb.save(own)
    result = consolidate(out, tmp_path / "plan.xlsx", PERIOD, tmp_path / "namnd.xlsx")
    mine = [x for x in result.data.investments if x.department_id == "NÄMND"]
    assert [(x.department, x.item, x.forecast) for x in mine] == [("Nämndens kansli", BEDS, 820),
                                                                   ("Nämndens kansli", AIDS, None)]
    from xlplan.books.committee import investment_totals

    assert investment_totals(result.data.investments)[0].budget == 800 + 300 + 800 + 200 + 100
