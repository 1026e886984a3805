"""The one assessment: the same status in the sheet formula, flag and consolidate (issue 11's case)."""

from __future__ import annotations

from dataclasses import replace

import ast
import shutil
from pathlib import Path

import openpyxl
import pytest

from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.flag import flag_workbook
from xlplan.books.department.columns import INDICATORS
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import read_plan
from xlplan.core.assess import COMPARISON_TYPED, RowInputs, assess
from xlplan.core.numbers import read_outcome
from xlplan.core.status import Status
from xlplan.core.targets import parse_series_values, parse_target
from xlplan.io.lo import recalc_xlsx, soffice_path

CORE = Path(__file__).resolve().parents[1] / "src" / "xlplan" / "core"
FORBIDDEN = {"openpyxl", "python_calamine", "calamine", "zipfile", "httpx", "xlwings", "pandas", "docx",
             "matplotlib", "xlsxwriter", "socket", "urllib", "subprocess"}


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", sorted(CORE.glob("*.py")), ids=lambda p: p.stem)
def test_the_pure_core_does_no_file_io(path: Path) -> None:
    """Everything in ``xlplan.core`` imports only the standard library's pure parts and ``xlplan.core``."""
    for imported in _imports(path):
        top = imported.split(".")[0]
        assert top not in FORBIDDEN, f"xlplan.core.{path.stem} imports {imported}"
        if top == "xlplan":
            assert imported.startswith("xlplan.core"), f"xlplan.core.{path.stem} imports {imported}, outside the core"


def test_the_core_holds_the_rules() -> None:
    names = {p.stem for p in CORE.glob("*.py")}
    assert {"assess", "status", "targets", "numbers", "formulas", "model", "periods", "errors", "rowids", "codes", "cells", "naming"} <= names


# ---------------------------------------------------------------- the assessment, pure


def _row(target: str, outcome: object, *, baseline: str | None = None, comparison: float | None = None,
         source: str | None = None, unit: str | None = None, polarity: str | None = None, share: bool = False,
         outcome_format: str | None = None, assessment: str | None = None) -> RowInputs:
    return RowInputs(parse_target(target, polarity), outcome=outcome, outcome_format=outcome_format,
                     baseline=parse_series_values(baseline) if baseline else None, comparison=comparison,
                     comparison_source=source, polarity=polarity, unit=unit, share=share,
                     plausible=(0.0, 100.0) if share else (None, None), assessment=assessment,
                     cells={"outcome": "M6", "comparison": "K6", "assessment": "O6"})


def codes(a) -> list[str]:
    return [f.code for f in a.flags]


def test_issue_case_compares_with_the_comparison_value_not_the_baseline() -> None:
    a = assess(_row("Minska", 7.5, baseline="8,1", comparison=7.0, source="Utfall K1 2024 (avdelningsfil)"))
    assert a.status is Status.EJ
    assert (a.reference, a.reference_source) == (7.0, "Utfall K1 2024 (avdelningsfil)")
    wrong = next(f for f in a.flags if f.code == "fel_riktning")
    assert "jämförelsevärdet 7 (Utfall K1 2024 (avdelningsfil))" in wrong.message
    assert "lägre än jämförelsevärdet 7" in a.explanation
    # without a comparison value the baseline counts
    b = assess(_row("Minska", 7.5, baseline="8,1"))
    assert b.status is Status.UPPFYLLT and b.reference_source == "nuläget i planen"


def test_direction_without_any_comparison_value_says_which_value_is_missing() -> None:
    a = assess(_row("Öka", 50))
    assert a.status is Status.JAMFORELSEVARDE_SAKNAS and a.status.label == "Jämförelsevärde saknas"
    missing = next(f for f in a.flags if f.code == "jamforelsevarde_saknas")
    assert "jämförelsevärde saknas" in missing.message and "inget nuläge" in missing.message
    assert "Skriv föregående utfall i kolumnen Jämförelsevärde (cell K6)" in missing.message
    assert "Nuläge i planen" in missing.message and "förra årets helårsfil" in missing.message
    assert "Kolada" not in missing.message  # a local figure: Kolada has no earlier value to offer
    kolada = next(f for f in assess(replace(_row("Öka", 50), kolada=True)).flags if f.code == "jamforelsevarde_saknas")
    assert "Kolada (året innan)" in kolada.message and "Hämta värden (xlplan pull)" in kolada.message
    assert missing.cell == "comparison"
    assert not [f for f in a.flags if f.code in ("bedomning_saknas", "mal_ej_uppfyllt", "mal_delvis_uppfyllt")]
    assert a.explanation.startswith("Status: Jämförelsevärde saknas.")
    assert "Skriv föregående utfall i kolumnen Jämförelsevärde" in a.explanation
    # a typed own assessment does not hide the missing value
    b = assess(_row("Öka", 50, assessment="Uppfyllt"))
    assert b.status is Status.JAMFORELSEVARDE_SAKNAS
    # an empty or unreadable outcome is Utfall saknas, never hidden as Jämförelsevärde saknas
    for outcome in (None, "-", "ca 50"):
        assert assess(_row("Öka", outcome)).status is Status.UTFALL_SAKNAS, outcome
    # a typed comparison value makes it computable
    assert assess(_row("Öka", 50, comparison=48, source=COMPARISON_TYPED)).status is Status.UPPFYLLT


@pytest.mark.parametrize("raw, unit, value, flag", [
    (None, "%", None, "utfall_saknas"), ("-", "%", None, "utfall_uppgift_saknas"),
    ("I.U", "%", None, "utfall_uppgift_saknas"), ("i.u.", "%", None, "utfall_uppgift_saknas"),
    ("Uppgift saknas", "%", None, "utfall_uppgift_saknas"), ("Ej aktuellt", "%", None, "utfall_uppgift_saknas"),
    ("–", "%", None, "utfall_uppgift_saknas"), ("4 512 (2023)", "antal", 4512, "utfall_ar"),
    ("82 enl. brukarenkäten", "%", 82, None), ("ca 75", "%", None, "inte_tal"),
    ("74 dagar", "månader", None, "utfall_enhet"), ("2 timmar", "minuter", 120, "utfall_omraknat"),
    ("50 procent", "%", 50, None), ("3 tkr", "kr", 3000, "utfall_omraknat"),
])
def test_one_outcome_reader(raw, unit, value, flag) -> None:
    a = assess(_row(">10", raw, unit=unit))
    assert a.outcome == value
    if flag:
        assert flag in codes(a)
    if value is None:
        assert a.status is Status.UTFALL_SAKNAS
    assert read_outcome(raw, unit).value == value
    # a cell left empty and a cell that says there is no value are told apart, never both
    assert not {"utfall_saknas", "utfall_uppgift_saknas"} <= set(codes(a))


def test_percent_formatted_fraction_means_percent() -> None:
    a = assess(_row(">90 %", 0.95, unit="%", share=True, outcome_format="0%"))
    assert a.outcome == 95 and a.status is Status.UPPFYLLT
    assert assess(_row(">90 %", 0.95, unit="%", share=True, outcome_format='0.0" %"')).outcome == 0.95


def test_share_as_fraction_is_flagged_with_or_without_numeric_target() -> None:
    for target in (">90 %", "Öka", "Systematisk analys"):
        a = assess(_row(target, 0.58, unit="%", share=True, comparison=50))
        assert "andel_som_brak" in codes(a), target
    assert "andel_som_brak" not in codes(assess(_row("<0,8 %", 0.5, unit="%", share=True)))


def test_plausible_range_of_a_share() -> None:
    a = assess(_row(">90 %", 150, unit="%", share=True))
    assert [f.severity for f in a.flags if f.code == "utfall_orimligt"] == ["fel"]


def test_a_shares_range_reaches_the_plans_own_targets() -> None:
    from xlplan.core.assess import plausible_range
    from xlplan.core.model import Indicator

    def ind(*targets: str, **kw: float) -> Indicator:
        return Indicator("B1", "M1", "Beläggningsgrad (%)", targets=tuple((2022 + i, t) for i, t in enumerate(targets)),
                         unit="%", **kw)

    assert plausible_range(ind("minst 95 %")) == (0.0, 100.0)
    assert plausible_range(ind("100 % ± 5")) == (0.0, 105.0)  # 104 % is a plausible beläggning
    assert plausible_range(ind("Öka", "mellan 98 och 110")) == (0.0, 110.0)  # any year's target
    assert plausible_range(ind("100 % ± 5", maximum=102.0)) == (0.0, 102.0)  # Max in the plan wins


# ---------------------------------------------------------------- end to end on real files

needs_lo = pytest.mark.skipif(soffice_path() is None or shutil.which("soffice") is None,
                              reason="LibreOffice (soffice) is not installed")


def _type(path: Path, row_id: str, key: str, value: object) -> None:
    address = read_department_workbook(path).address(INDICATORS, row_id, key)
    wb = openpyxl.load_workbook(path)
    wb[INDICATORS][address] = value
    wb.save(path)


@needs_lo
def test_issue_case_end_to_end(tiny_tables, write_tables, tmp_path) -> None:
    tiny_tables["Indikatorer"].append({"Indikator-id": "I6", "Mål-id": "M2", "Indikator": "Korttidssjukfrånvaro",
                                       "Nuläge": "8,1", "Nulägesår": 2023, "Målvärde 2024": "Minska",
                                       "Avdelningar": "ALD"})
    plan_path = write_tables(tiny_tables)
    folder = tmp_path / "avd"
    (k1,) = fill(plan_path, "2024-K1", ["ALD"], folder).written
    _type(k1, "I|I6|", "outcome", 7.0)
    (delar,) = fill(plan_path, "2024-delår", ["ALD"], folder).written
    _type(delar, "I|I6|", "outcome", 7.5)
    book = read_department_workbook(delar)
    assert book.value(INDICATORS, "I|I6|", "comparison") == 7.0

    # the sheet, after LibreOffice has recalculated it
    out = recalc_xlsx(delar, tmp_path / "lo")
    cell = book.address(INDICATORS, "I|I6|", "status")
    assert openpyxl.load_workbook(out, data_only=True)[INDICATORS][cell].value == "Ej uppfyllt"

    # flag, on the recalculated file: same status, and the cached formula result agrees
    plan = read_plan(plan_path)
    report = flag_workbook(out, plan).report
    assert report.status_of("I6") is Status.EJ
    assert not [f for f in report.flags if f.code == "status_avviker"]
    assert any(f.code == "fel_riktning" and "Utfall K1 2024" in f.message for f in report.flags)

    # consolidate
    result = consolidate(folder, plan_path, "2024-delår", tmp_path / "namnd.xlsx")
    (line,) = [x for x in result.data.indicators if x.indicator_id == "I6" and x.department_id == "ALD"]
    assert (line.status, line.outcome) == ("Ej uppfyllt", 7.5)

    # a value the department types into the comparison cell counts at once in the sheet and in flag
    _type(delar, "I|I6|", "comparison", 8.0)
    out = recalc_xlsx(delar, tmp_path / "lo2")
    assert openpyxl.load_workbook(out, data_only=True)[INDICATORS][cell].value == "Uppfyllt"
    assert flag_workbook(out, plan).report.status_of("I6") is Status.UPPFYLLT


def test_wrong_unit_is_never_used_by_consolidate(tiny_tables, write_tables, tmp_path) -> None:
    tiny_tables["Indikatorer"].append({"Indikator-id": "I6", "Mål-id": "M2", "Indikator": "Väntetid",
                                       "Enhet": "månader", "Målvärde 2024": "högst 3", "Avdelningar": "ALD"})
    plan_path = write_tables(tiny_tables)
    folder = tmp_path / "avd"
    (path,) = fill(plan_path, "2024-delår", ["ALD"], folder).written
    _type(path, "I|I6|", "outcome", "74 dagar")
    _type(path, "I|I1|", "outcome", "-")
    result = consolidate(folder, plan_path, "2024-delår", tmp_path / "namnd.xlsx")
    (line,) = [x for x in result.data.indicators if x.indicator_id == "I6" and x.department_id == "ALD"]
    assert (line.outcome, line.status) == (None, "Utfall saknas")
    assert any(p.code == "utfall_enhet" and "74 dagar" in p.message for p in result.problems)
    assert not any(p.code == "inte_tal" for p in result.problems)  # '-' is no value, not an error
    report = flag_workbook(path, read_plan(plan_path)).report
    assert report.status_of("I6") is Status.UTFALL_SAKNAS
    assert [f.code for f in report.flags if f.indicator_id == "I6"] == ["utfall_enhet"]


@needs_lo
def test_flag_stores_text_outcomes_as_numbers_and_keeps_the_text(tiny_tables, write_tables, tmp_path) -> None:
    plan_path = write_tables(tiny_tables)
    (path,) = fill(plan_path, "2024-delår", ["ALD"], tmp_path / "avd").written
    _type(path, "I|I1|", "outcome", "92 enl. brukarenkäten")
    _type(path, "I|I3|", "outcome", 0.072)
    book = read_department_workbook(path)
    wb = openpyxl.load_workbook(path)
    wb[INDICATORS][book.address(INDICATORS, "I|I3|", "outcome")].number_format = "0.0%"  # '7,2%' typed in Excel
    wb.save(path)
    assert read_department_workbook(path).value(INDICATORS, "I|I3|", "outcome") == 7.2
    plan = read_plan(plan_path)
    first = flag_workbook(path, plan)
    assert first.report.status_of("I1") is Status.UPPFYLLT and first.report.status_of("I3") is Status.UPPFYLLT
    book = read_department_workbook(path)
    assert book.value(INDICATORS, "I|I1|", "outcome") == 92
    assert book.row(INDICATORS, "I|I1|").raw["comment"] == "Utfallet skrevs som '92 enl. brukarenkäten'."
    assert book.row(INDICATORS, "I|I3|").raw["outcome"] == 7.2 and "outcome" not in book.row(INDICATORS, "I|I3|").formats
    # the live formula now reads what flag read
    out = recalc_xlsx(path, tmp_path / "lo")
    ws = openpyxl.load_workbook(out, data_only=True)[INDICATORS]
    assert ws[book.address(INDICATORS, "I|I1|", "status")].value == "Uppfyllt"
    assert ws[book.address(INDICATORS, "I|I3|", "status")].value == "Uppfyllt"
    assert not flag_workbook(path, plan).written  # a second run changes nothing


def test_a_gender_row_under_a_total_target_is_reported_without_flags() -> None:
    series = ("Totalt", "Kvinnor", "Män")
    t = parse_target("85 %", "higher", series)
    total = assess(RowInputs(t, "Totalt", 80, polarity="higher", unit="%"))
    assert total.status is Status.EJ
    women = assess(RowInputs(t, "Kvinnor", 80, polarity="higher", unit="%"))
    assert women.status is Status.REDOVISAS and women.flags == ()
    assert "Serien Kvinnor har inget eget målvärde" in women.explanation and "gäller Totalt" in women.explanation
    empty = assess(RowInputs(t, "Män", None, polarity="higher", unit="%"))
    assert empty.status is Status.REDOVISAS and [f.code for f in empty.flags] == ["utfall_saknas"]
    # a direction target of the total: the gender rows need no comparison value
    d = parse_target("Öka", "higher", series)
    assert assess(RowInputs(d, "Män", 70, polarity="higher", unit="%")).status is Status.REDOVISAS
    assert assess(RowInputs(d, "Totalt", 70, comparison=60, polarity="higher", unit="%")).status is Status.UPPFYLLT
