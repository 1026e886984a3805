"""The committee workbook as the committee uses it: Texter inputs that survive re-consolidation,
the goal support over distinct indicators, print setup, and the golden workbook.

Regenerate the golden workbook (after reviewing the change) with::

    PYTHONPATH=src python tests/test_committee_print.py --write-golden
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import openpyxl
import pytest

from conftest import TINY
from golden import first_difference, workbook_items
from test_committee import sheet_xml
from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.books.committee import (
    CANNOT_ASSESS,
    COMPARISON_MISSING,
    FULFILLED,
    GOAL_WORDS,
    MANUAL,
    NOT_FULFILLED,
    OUTCOME_MISSING,
    PARTLY,
    REPORTED,
    TARGET_MISSING,
    TEXT_SECTIONS,
    TEXTS_SHEET,
    CommitteeData,
    IndicatorLine,
    goal_status_counts,
    goal_support,
    has_escape_like_text,
    indicator_verdict,
    read_committee_workbook,
    sorted_indicators,
    suggest_assessment,
    write_committee_workbook,
)
from xlplan.books.department.columns import INDICATORS, OVERVIEW, SUBMISSION_ROW_ID
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import write_plan_tables
from xlplan.core.errors import WorkbookRefused
from xlplan.export.sample import sample_committee_data
from xlplan.io import lo

GOLDEN = Path(__file__).parent / "golden" / "nämnden_liten_2024-delår.xlsx"
STAMP = "2026-11-23T20:00:00+00:00"
FIXED = dt.datetime(2024, 9, 14, 9, 30)  # naive: the same golden file in every time zone
PERIOD = "2024-delår"
C = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}c"


def _line(ind: str, dep: str | None, status: str, goal: str = "M1") -> IndicatorLine:
    return IndicatorLine(goal, None, "Mål", ind, ind, dep, dep or "Nämnden", status=status)


# ---------------------------------------------------------------- the suggestion rule


def test_an_indicator_is_one_verdict_however_many_departments_report_it() -> None:
    lines = [_line("I1", d, FULFILLED) for d in "ABCDEF"] + [_line("I2", d, NOT_FULFILLED) for d in "AB"]
    support = goal_support(lines)
    assert (support[FULFILLED], support[NOT_FULFILLED]) == (1, 1)  # not 6 and 2
    assert suggest_assessment(support) == PARTLY


def test_indicator_verdicts() -> None:
    assert indicator_verdict([FULFILLED, FULFILLED, OUTCOME_MISSING]) == FULFILLED
    assert indicator_verdict([FULFILLED, OUTCOME_MISSING, OUTCOME_MISSING]) == CANNOT_ASSESS  # 1 of 3 known
    assert indicator_verdict([FULFILLED, NOT_FULFILLED]) == PARTLY
    assert indicator_verdict([NOT_FULFILLED, OUTCOME_MISSING]) == NOT_FULFILLED
    assert indicator_verdict([MANUAL, MANUAL]) == MANUAL  # waits for a person, is not "not met"
    assert indicator_verdict([TARGET_MISSING, "Redovisas"]) == REPORTED
    assert indicator_verdict([FULFILLED, TARGET_MISSING]) == FULFILLED  # a series without target does not count
    # nothing to compare a direction target with: counted, without a status, like a missing outcome
    assert indicator_verdict([COMPARISON_MISSING]) == CANNOT_ASSESS
    assert indicator_verdict([COMPARISON_MISSING, MANUAL]) == MANUAL
    assert indicator_verdict([FULFILLED, COMPARISON_MISSING, COMPARISON_MISSING]) == CANNOT_ASSESS
    assert indicator_verdict([NOT_FULFILLED, COMPARISON_MISSING]) == NOT_FULFILLED
    support = goal_support([_line("I1", "A", COMPARISON_MISSING), _line("I2", "A", FULFILLED)])
    assert (support[CANNOT_ASSESS], support[FULFILLED], support[MANUAL]) == (1, 1, 0)
    assert goal_status_counts([_line("I1", "A", COMPARISON_MISSING)])["M1"][COMPARISON_MISSING] == 1


def test_too_little_known_cannot_be_assessed() -> None:
    # 2 met, 2 missing, 1 manual: 2 of 5 assessable indicators have a status -> fewer than half
    lines = [_line("I1", "A", FULFILLED), _line("I2", "A", FULFILLED), _line("I3", "A", OUTCOME_MISSING),
             _line("I4", "A", OUTCOME_MISSING), _line("I5", "A", MANUAL)]
    support = goal_support(lines)
    assert (support[FULFILLED], support[CANNOT_ASSESS], support[MANUAL]) == (2, 2, 1)
    assert suggest_assessment(support) == CANNOT_ASSESS
    # half known is enough; reported indicators are not assessable
    lines += [_line("I6", "A", FULFILLED), _line("I7", "A", TARGET_MISSING)]
    assert suggest_assessment(goal_support(lines)) == FULFILLED
    assert suggest_assessment(goal_support([_line("I1", "A", TARGET_MISSING)])) == CANNOT_ASSESS
    assert suggest_assessment(goal_support([])) is None


def test_the_rule_setting_decides_when_a_goal_is_met() -> None:
    support = goal_support([_line("I1", "A", FULFILLED), _line("I2", "A", FULFILLED), _line("I3", "A", NOT_FULFILLED)])
    assert suggest_assessment(support, "alla") == PARTLY
    assert suggest_assessment(support, "majoritet") == FULFILLED
    assert suggest_assessment(goal_support([_line("I1", "A", NOT_FULFILLED)])) == NOT_FULFILLED


def test_indicators_are_sorted_by_goal_indicator_department() -> None:
    base = sample_committee_data()
    shuffled = dataclasses.replace(base, indicators=tuple(reversed(base.indicators)))
    plan_order = [f"I{n}" for n in range(1, 9)]
    order = [(x.goal_id, x.indicator_id) for x in sorted_indicators(shuffled, plan_order)]
    assert order == sorted(order, key=lambda k: (["M1", "M2", "M3"].index(k[0]), plan_order.index(k[1])))
    assert [x.indicator_id for x in sorted_indicators(shuffled)][:2] == ["I3", "I3"]  # else first seen
    deps = [x.department_id for x in sorted_indicators(shuffled) if x.indicator_id == "I4"]
    assert deps == [s.department_id for s in base.submissions if s.department_id in deps]


# ---------------------------------------------------------------- Texter


def test_texts_and_assessments_round_trip(tmp_path: Path) -> None:
    base = sample_committee_data()
    data = dataclasses.replace(base, texts={"diarienummer": "VON 2024/118", "framtid": "=Rad ett\nRad två"},
                               goal_assessments={"M1": (PARTLY, "Två av tre indikatorer."), "M3": (None, "Oklart.")})
    path = write_committee_workbook(data, tmp_path / "n.xlsx")
    assert read_committee_workbook(path) == data
    ws = openpyxl.load_workbook(path)[TEXTS_SHEET]
    assert ws.protection.sheet
    inputs = [c for row in ws.iter_rows() for c in row if c.protection.locked is False]
    assert {c.coordinate for c in inputs if c.value} >= {"B6", "B13"}
    (dv,) = ws.data_validations.dataValidation
    assert dv.type == "list" and dv.formula1 == '"' + ",".join(GOAL_WORDS) + '"'
    labels = [ws.cell(row=r, column=1).value for r in range(6, 6 + len(TEXT_SECTIONS))]
    assert labels == [label for _key, label in TEXT_SECTIONS]


def _type_texts(path: Path, texts: dict[str, Any], goals: dict[str, tuple[str, str]]) -> None:
    """Type into Texter as a controller would (openpyxl, like Excel, keeps the rest)."""
    wb = openpyxl.load_workbook(path)
    ws = wb[TEXTS_SHEET]
    labels = {label: key for key, label in TEXT_SECTIONS}
    for row in ws.iter_rows():
        key = labels.get(row[0].value)
        if key in texts:
            row[1].value = texts[key]
        if row[0].value in goals:
            row[9].value, row[10].value = goals[row[0].value]
    wb.save(path)


def _fixed_consolidation(root: Path) -> Path:
    """The tiny plan, two departments' typed values, consolidated with fixed timestamps."""
    plan = root / "plan.xlsx"
    write_plan_tables(TINY, plan)
    written = fill(plan, PERIOD, None, root / "avd", generated_at=STAMP).written
    files = {read_department_workbook(p).department_id: p for p in written}
    for dep, cells in {"ALD": {(INDICATORS, "I|I1|", "outcome"): 91.5, (INDICATORS, "I|I3|", "outcome"): 7.24},
                       "LSS": {(INDICATORS, "I|I2|Äldre", "outcome"): 68.14285714, (INDICATORS, "I|I3|", "outcome"): 8.9,
                               (OVERVIEW, SUBMISSION_ROW_ID, "value"): "godkänd"}}.items():
        book = read_department_workbook(files[dep])
        wb = openpyxl.load_workbook(files[dep])
        for (sheet, row_id, key), value in cells.items():
            wb[book.actual_sheet_name(sheet) or sheet][book.address(sheet, row_id, key)] = value
        wb.save(files[dep])
    return plan


def _consolidate(root: Path, plan: Path, out: Path) -> CommitteeData:
    result = consolidate(root / "avd", plan, PERIOD, out)
    return result.data


def test_typed_texts_survive_a_second_consolidation(tmp_path: Path) -> None:
    plan = _fixed_consolidation(tmp_path)
    out = tmp_path / "namnd" / "sammanstallning.xlsx"
    first = _consolidate(tmp_path, plan, out)
    assert first.texts == {} and first.goal_assessments == {}
    goal = first.goals[0].goal_id
    _type_texts(out, {"sammanfattning": "Året präglades av …", "sammantradesdatum": dt.datetime(2024, 10, 15)},
                {goal: ("Delvis uppfyllt", "Nöjdheten ökar men målet nås inte i LSS.")})
    second = _consolidate(tmp_path, plan, out)
    expected_texts = {"sammanfattning": "Året präglades av …", "sammantradesdatum": "2024-10-15"}
    assert second.texts == expected_texts
    assert second.goal_assessments == {goal: ("Delvis uppfyllt", "Nöjdheten ökar men målet nås inte i LSS.")}
    back = read_committee_workbook(out)
    assert back.texts == expected_texts and back.goal_assessments == second.goal_assessments
    assert back.indicators == second.indicators


def test_an_unreadable_old_workbook_is_not_overwritten(tmp_path: Path) -> None:
    plan = _fixed_consolidation(tmp_path)
    out = tmp_path / "namnd" / "sammanstallning.xlsx"
    out.parent.mkdir()
    out.write_bytes(b"PK\x03\x04 trasig")
    with pytest.raises(WorkbookRefused) as err:
        _consolidate(tmp_path, plan, out)
    assert str(err.value).startswith("sammanstallning.xlsx: den befintliga sammanställningen kan inte läsas")
    assert "Texter" in str(err.value)
    assert out.read_bytes() == b"PK\x03\x04 trasig"


def test_another_workbook_at_the_output_path_is_not_overwritten(tmp_path: Path) -> None:
    plan = _fixed_consolidation(tmp_path)
    out = tmp_path / "budget.xlsx"
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Budget 2025"
    wb.save(out)
    with pytest.raises(WorkbookRefused, match="ingen nämndsammanställning"):
        _consolidate(tmp_path, plan, out)
    assert openpyxl.load_workbook(out).active["A1"].value == "Budget 2025"


# ---------------------------------------------------------------- printing


def test_every_sheet_prints_with_title_and_repeated_header(tmp_path: Path) -> None:
    path = write_committee_workbook(sample_committee_data(), tmp_path / "n.xlsx")
    wb = openpyxl.load_workbook(path)
    for ws in wb.worksheets:
        if ws.sheet_state != "visible":
            continue
        assert ws["A1"].value.startswith("Vård- och omsorgsnämnden – "), ws.title
        assert "delår 2024" in ws["A2"].value and "sammanställd 2024-09" in ws["A2"].value, ws.title
        assert ws.page_setup.orientation == "landscape" and ws.page_setup.fitToWidth in (None, 1), ws.title
        assert ws.page_setup.fitToHeight == 0 and ws.sheet_properties.pageSetUpPr.fitToPage, ws.title
        assert ws.print_title_rows and ws.print_area, ws.title
    ws = wb["Kontroll"]
    header = [c.value for c in ws[3]]
    assert header[-2:] == ["Så gör du", "Kod"] and ws.column_dimensions["H"].hidden  # the code's fix is shown
    assert "$A$1:$G$" in str(ws.print_area)  # the code is outside the print area
    severities = {r[header.index("Allvar")] for r in ws.iter_rows(min_row=4, values_only=True)}
    assert severities <= {"Fel", "Varning", "Information"}
    sub = wb["Inlämning"]
    assert [c.value for c in sub[3]][-1] == "Filens kontrollsumma"
    assert sub.column_dimensions[openpyxl.utils.get_column_letter(sub.max_column)].hidden


def test_values_are_formatted_by_their_decimals(tmp_path: Path) -> None:
    base = sample_committee_data()
    line = dataclasses.replace(base.indicators[0], outcome=82.14285714)
    path = write_committee_workbook(dataclasses.replace(base, indicators=(line, *base.indicators[1:])),
                                   tmp_path / "n.xlsx")
    ws = openpyxl.load_workbook(path)["Indikatorer"]
    col = [c.value for c in ws[3]].index("Utfall")
    cells = {r[col].value: r[col].number_format for r in ws.iter_rows(min_row=4) if r[col].value is not None}
    assert cells[82.14285714] == "#,##0.0"  # the value is kept, it is shown with one decimal
    assert cells[12] == "#,##0" and cells[9.8] == "#,##0.0"
    assert read_committee_workbook(path).indicators[0].outcome == 82.14285714


def test_texts_are_shared_unless_one_looks_like_an_escape(tmp_path: Path) -> None:
    """Shared strings are faster; openpyxl's reader of them mangles ``_x005F_``, so such a workbook is inline."""
    base = sample_committee_data()
    assert not has_escape_like_text(base)
    tricky = dataclasses.replace(base, texts={"framtid": "se fil_x000D_.txt"})
    assert has_escape_like_text(tricky)
    kinds = {}
    for name, data in (("vanlig", base), ("knepig", tricky)):
        path = write_committee_workbook(data, tmp_path / f"{name}.xlsx")
        kinds[name] = {c.get("t") for c in ElementTree.fromstring(sheet_xml(path, "Indikatorer")).iter(C)} - {None}
        assert read_committee_workbook(path) == data
    assert kinds == {"vanlig": {"s"}, "knepig": {"inlineStr"}}
    assert openpyxl.load_workbook(tmp_path / "knepig.xlsx")[TEXTS_SHEET]["B13"].value == "se fil_x005F_x000D_.txt"


@pytest.mark.skipif(lo.soffice_path() is None or shutil.which("pdftotext") is None,
                    reason="LibreOffice (soffice) eller poppler (pdftotext) är inte installerat")
def test_each_sheet_prints_on_the_pages_its_rows_need(tmp_path: Path) -> None:
    """The golden workbook's sheets are short: one page each, titled, and the hidden sheet not printed."""
    pdf = lo.convert(GOLDEN, "pdf", tmp_path)
    pages = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    pages = [p for p in pages if p.strip()]
    visible = [ws.title for ws in openpyxl.load_workbook(GOLDEN).worksheets if ws.sheet_state == "visible"]
    assert len(pages) == len(visible)
    for page, name in zip(pages, visible):
        assert "Vård- och omsorgsnämnden – " in page and "delår 2024 · sammanställd 2024-09-14" in page, name
    assert not any("0" * 64 in p or "inte_klar" in p for p in pages)  # technical columns are not printed
    assert "Information" in pages[-1]


def test_a_workbook_of_the_previous_format_still_reads() -> None:
    """Written by xlplan before XlsxWriter (openpyxl, headers in row 1, no Texter): read as before."""
    old = read_committee_workbook(Path(__file__).parent / "golden" / "format1_openpyxl.xlsx")
    new = sample_committee_data()
    for f in dataclasses.fields(CommitteeData):
        if f.name != "goals":  # the old file counts department lines; the same columns are read
            assert getattr(old, f.name) == getattr(new, f.name), f.name
    assert [(g.goal_id, g.assessment) for g in old.goals] == [(g.goal_id, g.assessment) for g in new.goals]
    assert old.texts == {} and old.goal_assessments == {}


# ---------------------------------------------------------------- the golden workbook


def golden_workbook(root: Path) -> Path:
    """The committee workbook of the fixed consolidation, texts typed once and consolidated again."""
    plan = _fixed_consolidation(root)
    out = root / "namnd" / "sammanstallning.xlsx"
    _consolidate(root, plan, out)
    _type_texts(out, {"diarienummer": "VON 2024/118", "forslag_till_beslut": "Nämnden godkänner delårsrapporten."},
                {"M1": ("Delvis uppfyllt", "Två avdelningar har rapporterat; LSS når inte målet.")})
    data = _consolidate(root, plan, out)
    # what differs between runs: when it was made, when and how the department files were saved
    subs = tuple(dataclasses.replace(s, saved_at=FIXED if s.saved_at else None,
                                     file_hash="0" * 64 if s.file_hash else None) for s in data.submissions)
    fixed = dataclasses.replace(data, meta=dataclasses.replace(data.meta, generated_at=FIXED), submissions=subs)
    return write_committee_workbook(fixed, root / "golden.xlsx")


def test_the_committee_workbook_equals_the_golden_one(tmp_path: Path) -> None:
    got = golden_workbook(tmp_path)
    assert first_difference(got, GOLDEN) is None


def test_the_golden_comparison_names_a_difference(tmp_path: Path) -> None:
    got = golden_workbook(tmp_path)
    wb = openpyxl.load_workbook(got)
    wb["Indikatorer"]["N4"].number_format = "0.00000000"
    wb["Texter"].protection.sheet = False
    changed = tmp_path / "ändrad.xlsx"
    wb.save(changed)
    assert (first_difference(changed, GOLDEN) or "").startswith("Texter: skydd: (False, ")
    wb["Texter"].protection.sheet = True
    wb.save(changed)
    assert (first_difference(changed, GOLDEN) or "").startswith("Indikatorer!N4: ")
    assert len(workbook_items(GOLDEN)) > 500


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(golden_workbook(Path(tmp)).read_bytes())
    print(f"Skrev {GOLDEN}")
