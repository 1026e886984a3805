"""The department workbook layout, written through the openpyxl backend."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from xlplan.books.department.columns import (
    ACTIVITIES,
    ACTIVITY_STATES,
    CONTROLS,
    ECONOMY,
    INDICATORS,
    META,
    OVERVIEW,
    PERSONNEL,
    STATUS_WORDS,
    SUBMISSION_CHOICES,
)
from xlplan.books.department.layout import FLAGS_AREA, META_KEYS, department_workbook, included_indicators
from xlplan.books.spec import TEMPLATE_VERSION, ColumnSpec, Formula, RowSpec, SheetSpec
from xlplan.core.periods import parse_period
from xlplan.core.status import Status
from xlplan.io.backends.openpyxl_backend import write_workbook

STAMP = "2026-11-23T20:00:00+00:00"


@pytest.fixture
def spec(tiny_plan):
    return department_workbook(tiny_plan, tiny_plan.department("ALD"), parse_period("2024-delår"), STAMP)


@pytest.fixture
def book(spec, tmp_path: Path):
    path = tmp_path / "ald.xlsx"
    write_workbook(spec, path)
    return openpyxl.load_workbook(path)


def validation_for(ws, address: str):
    return [dv for dv in ws.data_validations.dataValidation if address in dv.sqref]


def test_status_words_are_the_status_labels() -> None:
    assert set(STATUS_WORDS) == {s.label for s in Status}


def test_sheets_in_order(spec) -> None:
    assert [s.name for s in spec.sheets] == [OVERVIEW, INDICATORS, ACTIVITIES, ECONOMY, PERSONNEL, CONTROLS, META,
                                             "_xlplan_plan"]


def test_department_without_personnel_rows_has_no_personnel_sheet(tiny_plan) -> None:
    lss = department_workbook(tiny_plan, tiny_plan.department("LSS"), parse_period("2024-delår"), STAMP)
    assert not lss.has_sheet(PERSONNEL) and lss.has_sheet(CONTROLS)


def test_indicator_rows_per_series_with_stable_ids(spec) -> None:
    ids = spec.sheet(INDICATORS).row_ids()
    assert ids == ["I|I1|", "I|I2|Äldre", "I|I2|Funktionsstöd", "I|I3|"]


def test_indicator_periods_filter(tiny_tables, write_tables) -> None:
    from xlplan.books.plan import read_plan

    tiny_tables["Indikatorer"][0]["Perioder"] = "helår"
    plan = read_plan(write_tables(tiny_tables))
    ids = [i.id for _, i in included_indicators(plan, "ALD", parse_period("2024-delår"))]
    assert "I1" not in ids
    assert "I1" in [i.id for _, i in included_indicators(plan, "ALD", parse_period("2024-helår"))]


def test_address_maps_row_id_and_key(spec) -> None:
    sheet = spec.sheet(INDICATORS)
    assert sheet.header_row == 5
    assert sheet.address("I|I1|", "outcome") == f"{sheet.letter('outcome')}6"
    assert spec.address(INDICATORS, "I|I3|", "row_id") == "A9"
    with pytest.raises(KeyError):
        sheet.address("I|nope|", "outcome")


def test_status_cell_is_a_formula_on_the_rows_outcome(spec) -> None:
    sheet = spec.sheet(INDICATORS)
    status = sheet.row("I|I2|Funktionsstöd").values["status"]
    assert isinstance(status, Formula)
    assert sheet.address("I|I2|Funktionsstöd", "outcome") in status.text
    assert sheet.address("I|I2|Äldre", "outcome") not in status.text


def test_qualitative_target_reads_the_assessment(tiny_plan) -> None:
    lss = department_workbook(tiny_plan, tiny_plan.department("LSS"), parse_period("2024-delår"), STAMP)
    sheet = lss.sheet(INDICATORS)
    status = sheet.row("I|I4|").values["status"]
    assert isinstance(status, Formula) and sheet.address("I|I4|", "assessment") in status.text


def test_spec_requires_row_id_column() -> None:
    with pytest.raises(ValueError):
        SheetSpec("x", [ColumnSpec("a", "A")])
    with pytest.raises(ValueError):
        Formula("SUM(A1)")


def test_protection_locks_all_but_inputs(book, spec) -> None:
    ws = book[INDICATORS]
    sheet = spec.sheet(INDICATORS)
    assert ws.protection.sheet
    assert ws[sheet.address("I|I1|", "outcome")].protection.locked is False
    assert ws[sheet.address("I|I1|", "comment")].protection.locked is False
    assert ws[sheet.address("I|I1|", "target")].protection.locked is True
    assert ws[sheet.address("I|I1|", "status")].protection.locked is True
    assert ws["B5"].protection.locked is True
    assert ws[sheet.address("I|I1|", "outcome")].fill.fgColor.rgb.endswith("FFF2CC")
    for name in book.sheetnames:
        assert book[name].protection.sheet, name


def test_password_from_plan_settings(tiny_tables, write_tables, tmp_path) -> None:
    from xlplan.books.plan import read_plan

    tiny_tables["Inställningar"].append({"Inställning": "Lösenord bladskydd", "Värde": "hemligt"})
    plan = read_plan(write_tables(tiny_tables))
    spec = department_workbook(plan, plan.department("ALD"), parse_period("2024-delår"), STAMP)
    write_workbook(spec, tmp_path / "p.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "p.xlsx")[INDICATORS]
    assert ws.protection.sheet and ws.protection.password


def test_drop_downs_hold_the_lists(book, spec) -> None:
    ov, act = spec.sheet(OVERVIEW), spec.sheet(ACTIVITIES)
    (dv,) = validation_for(book[OVERVIEW], ov.address("O|inlamning", "value"))
    assert dv.type == "list" and dv.formula1 == '"ej påbörjad,pågår"' == '"' + ",".join(SUBMISSION_CHOICES) + '"'
    assert dv.showErrorMessage and "Välj" in dv.error
    (dv,) = validation_for(book[ACTIVITIES], act.address("A|A1", "status"))
    assert dv.formula1 == '"' + ",".join(ACTIVITY_STATES) + '"'
    (dv,) = validation_for(book[INDICATORS], spec.address(INDICATORS, "I|I1|", "assessment"))
    assert dv.formula1 == '"Uppfyllt,Delvis uppfyllt,Ej uppfyllt"'
    (dv,) = validation_for(book[CONTROLS], spec.address(CONTROLS, "K|IK1", "result"))
    assert "med anmärkning" in dv.formula1


def test_outcome_validation_uses_min_and_max(book, spec) -> None:
    (dv,) = validation_for(book[INDICATORS], spec.address(INDICATORS, "I|I1|", "outcome"))
    assert dv.type == "decimal" and dv.formula1 == "0" and dv.formula2 == "100"
    assert "mellan 0 och 100" in dv.error and dv.allow_blank
    (dv,) = validation_for(book[INDICATORS], spec.address(INDICATORS, "I|I3|", "outcome"))
    assert dv.type == "decimal" and "ett tal" in dv.error


def test_metadata_sheet_hidden_and_properties(book) -> None:
    ws = book[META]
    assert ws.sheet_state == "veryHidden" and ws.protection.sheet
    meta = {r[0]: r[1] for r in ws.iter_rows(min_row=2, values_only=True) if not str(r[0]).startswith("rad.")}
    assert tuple(meta) == META_KEYS
    assert meta["plan_id"] == "testkommun-von-2024" and meta["period"] == "2024-delår"
    assert meta["template_version"] == TEMPLATE_VERSION and meta["generated_at"] == STAMP
    props = {p.name: p.value for p in book.custom_doc_props.props}
    assert props["department_id"] == "ALD" and props["plan_version"] == meta["plan_version"]


def test_print_setup_freeze_and_widths(book, spec) -> None:
    ws = book[INDICATORS]
    assert ws.page_setup.orientation == "landscape"
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
    assert ws.print_title_rows == "$5:$5"
    assert ws.freeze_panes == "E6"
    assert ws.column_dimensions["A"].hidden
    assert ws.column_dimensions[spec.sheet(INDICATORS).letter("provenance")].hidden
    assert ws.column_dimensions["D"].width == spec.sheet(INDICATORS).columns[3].width


def test_conditional_formats_on_status(book) -> None:
    rules = [r for cf in book[INDICATORS].conditional_formatting for r in cf.rules]
    words = {r.formula[0].strip('"') for r in rules}
    assert words == set(STATUS_WORDS)


def test_overview_counts_statuses_and_has_flag_area(book, spec) -> None:
    ws = book[OVERVIEW]
    ov = spec.sheet(OVERVIEW)
    cell = ws[ov.address("S|I|Uppfyllt", "value")].value
    assert cell.startswith("=COUNTIF('Mål och indikatorer'!" + spec.sheet(INDICATORS).column_range("status"))
    assert ws[ov.address("O|kontakt", "value")].value == "Anna Andersson"
    assert ws[ov.address("O|kontakt", "value")].protection.locked is False
    (area,) = spec.areas()
    assert area.name == FLAGS_AREA
    assert book.defined_names[FLAGS_AREA].attr_text == f"'Översikt'!$B${area.start_row}"
    assert ws.cell(area.start_row - 1, 2).value == "Flaggor"


def test_flag_area_start_is_the_same_for_every_department(tiny_plan) -> None:
    starts = {department_workbook(tiny_plan, d, parse_period("2024-K1"), STAMP).areas()[0].start_cell
              for d in tiny_plan.departments}
    assert len(starts) == 1


def test_economy_deviation_and_total(book, spec) -> None:
    ws = book[ECONOMY]
    eco = spec.sheet(ECONOMY)
    assert ws[eco.address("E|Intäkter", "deviation")].value == '=IF(ISBLANK(E6),"",E6-C6)'
    assert ws[eco.address("T|summa", "budget")].value == "=SUM(C6:C7)"
    assert ws[eco.address("E|Intäkter", "budget")].number_format == "#,##0"
    assert ws[eco.address("T|summa", "actual")].protection.locked is True


def test_control_risk_value_formula(book, spec) -> None:
    assert book[CONTROLS][spec.address(CONTROLS, "K|IK1", "risk_value")].value == '=IF(OR(E6="",F6=""),"",E6*F6)'


def test_text_is_never_written_as_a_formula(tmp_path) -> None:
    from xlplan.books.spec import WorkbookSpec

    sheet = SheetSpec("S", [ColumnSpec("row_id", "Rad-id"), ColumnSpec("v", "V")], header_row=1,
                      rows=[RowSpec("r", {"v": "=HYPERLINK(\"x\")"}), RowSpec("f", {"v": Formula("=1+1")})])
    write_workbook(WorkbookSpec([sheet]), tmp_path / "s.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "s.xlsx")["S"]
    assert ws["B2"].data_type == "s" and ws["B3"].data_type == "f"


def test_empty_tables_say_why(tiny_tables, write_tables) -> None:
    from xlplan.books.plan import read_plan

    tiny_tables["Ekonomi"] = [r for r in tiny_tables["Ekonomi"] if r["Avdelnings-id"] != "LSS"]
    tiny_tables["Aktiviteter"] = [r for r in tiny_tables["Aktiviteter"] if r["Avdelnings-id"] != "LSS"]
    plan = read_plan(write_tables(tiny_tables))
    spec = department_workbook(plan, plan.department("LSS"), parse_period("2024-delår"), STAMP)
    eco, act = spec.sheet(ECONOMY), spec.sheet(ACTIVITIES)
    assert eco.row_ids() == [] and "ingen budget" in eco.rows[0].values["item"]
    assert act.row_ids() == [] and "inga aktiviteter" in act.rows[0].values["goal"]
    ov = spec.sheet(OVERVIEW)
    assert ov.row("S|A|ej ifylld").values["value"] == 0 and ov.row("S|A|Totalt").values["value"] == 0
