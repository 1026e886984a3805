"""Live status formulas: LibreOffice must compute the label Python's evaluate() gives."""

from __future__ import annotations

import random
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import openpyxl
import pytest

from xlplan.core.formulas import excel_number, status_formula
from xlplan.core.status import ASSESSMENT_TEXTS, Status, StatusSettings, evaluate
from xlplan.core.targets import parse_series_values, parse_target
from xlplan.io.lo import LibreOfficeFailed, convert, recalc_xlsx, soffice_path

ALLOWED = {"IF", "AND", "OR", "NOT", "ISNUMBER", "TRIM", "LOWER", "SUBSTITUTE", "CHAR", "FALSE"}


@dataclass(frozen=True)
class Case:
    target: str
    polarity: str | None = None
    series: tuple[str, ...] = ()
    baseline: str | None = None
    previous: tuple[float | None, ...] | None = None
    tolerance: float | None = None
    centre: float = 50.0  # outcomes are drawn around this value
    plan_series: tuple[str, ...] | None = None  # the indicator's series when the case is one row of them

    @property
    def parse_series(self) -> tuple[str, ...]:
        return self.series if self.plan_series is None else self.plan_series


CASES = [
    Case(">48 %", centre=48),
    Case("Äldre  och Funktionsstöd (Handikapp) >48 %", "higher", ("Äldre", "Funktionsstöd (Handikapp)"),
         "Äldre 50 %, Funktionsstöd (Handikapp) 0 %", centre=48),
    Case("Äldre  och Funktionsstöd (Handikapp) >69 %", None, (), "Äldre 83 %, Funktionsstöd (Handikapp) 67 %",
         centre=69),
    Case("Särskilt boende 88 %, hemtjänst 94%", "higher", ("Särskilt boende", "Hemtjänst"),
         "Särskilt boende 88 %, hemtjänst 94 %", centre=91),
    Case("86 %", "higher", (), "86 %", centre=86),
    Case("86 %", "higher", (), "84 %", tolerance=5, centre=84),
    Case("Sammantagen nettokostnadsavvikelse ska understiga 0", "lower", ("Äldreomsorg", "LSS"),
         "Äldreomsorg 2018 + 1,9 %, LSS 2018 - 4,4 %", centre=0),
    Case("3,0%", "lower", (), "3,3%", centre=3.1),
    Case("3,0%", "lower", (), "3,3%", tolerance=10, centre=3.2),
    Case("4,0", "higher", (), "4,0", centre=4),
    Case("65 (90)", "lower", (), "65", centre=70),
    Case("65 (90)", None, (), None, tolerance=7.5, centre=68),
    Case("minst 70 %", None, (), "63%", centre=68),
    Case("högst 5", None, (), "6", centre=5),
    Case("Max 120", None, (), None, tolerance=2.5, centre=121),
    Case("= 100", None, (), "90", tolerance=3, centre=100),
    Case("= 100", None, (), "110", centre=100),
    Case("= 0", None, (), "-2", tolerance=10, centre=0),
    Case("90% resp 85%", "higher", ("0-12 år", "13-20 år"), "88 % resp 86 %", centre=87),
    Case("Äldre minst 50 %, LSS minst 60 %, Hemtjänst minst 70", None, ("Äldre", "LSS", "Hemtjänst"),
         "Äldre 45 %, LSS 65 %, Hemtjänst 70", tolerance=4, centre=60),
    Case("Öka", None, (), "50 %", centre=50),
    Case("Öka", None, (), "50 %", previous=(52,), centre=51),
    Case("Minska", "lower", ("Äldre", "LSS"), "Äldre 5, LSS 7", centre=6),
    Case("Bibehålla", None, (), "86 %", centre=86),
    Case("Bibehålla", "lower", (), "3,3%", centre=3.3),
    Case("Bibehålla", None, ("A", "B"), "A 10, B 20", centre=15),
    Case("Öka", None, (), None, centre=1),  # nothing to compare with: Jämförelsevärde saknas
    Case("Systematisk analys", centre=1),
    Case("Färdigställa 28 nya äldreboendeplatser i Bjärke", "higher", centre=28),
    Case("", centre=1),
    Case("I.U", None, ("Äldre", "LSS"), centre=1),
    # one row of an indicator with series: a target naming no series applies to the total only
    Case("85 %", "higher", ("Totalt",), "80 %", centre=84, plan_series=("Totalt", "Kvinnor", "Män")),
    Case("85 %", "higher", ("Kvinnor",), "80 %", centre=84, plan_series=("Totalt", "Kvinnor", "Män")),
    Case("85 %", "higher", ("Män",), None, centre=84, plan_series=("Kvinnor", "Män")),
    Case("Öka", None, ("Totalt",), None, previous=(50,), centre=50, plan_series=("Totalt", "Kvinnor", "Män")),
    Case("Öka", None, ("Män",), None, previous=(50,), centre=50, plan_series=("Totalt", "Kvinnor", "Män")),
    Case("Kvinnor minst 85 %", None, ("Män",), None, centre=84, plan_series=("Totalt", "Kvinnor", "Män")),
    # balance targets: met in a range, neither more nor less is better
    Case("100 % ± 5", None, (), "90 %", centre=100),
    Case("100 ± 5 %", None, (), "104", tolerance=4, centre=103),
    Case("1,0 ± 0,1", None, (), "0,8", centre=1.0),
    Case("mellan 95 och 105", None, (), "110", centre=100),
    Case("Mellan 0,95 och 1,05", None, (), None, tolerance=10, centre=1.0),
    Case("Avvikelse högst ±2 %", None, (), "-3 %", centre=0),
    Case("Budget i balans", None, (), "-1,5", centre=0),
    Case("mellan 95 och 105", None, ("Totalt",), "Totalt 100", centre=100, plan_series=("Totalt", "Kvinnor")),
    Case("mellan 95 och 105", None, ("Kvinnor",), None, centre=100, plan_series=("Totalt", "Kvinnor")),
]

ASSESSMENTS = [None, "", "   ", "kanske", "Bedöms manuellt", "Utfall saknas", "uppfyllt?", "delvis-uppfyllt"]


def _outcome(rng: random.Random, centre: float):
    roll = rng.random()
    if roll < 0.06:
        return None
    if roll < 0.09:
        return rng.choice(["ca 50", "50", "-", "I.U", " "])
    spread = max(abs(centre) * 0.15, 2.0)
    value = round(centre + rng.uniform(-spread, spread), rng.choice([0, 1, 1, 2]))
    return value


def _assessment(rng: random.Random):
    if rng.random() < 0.3:
        return rng.choice(ASSESSMENTS)
    word = rng.choice(list(ASSESSMENT_TEXTS))
    word = "".join(c.upper() if rng.random() < 0.3 else c for c in word)
    word = word.replace(" ", rng.choice([" ", "  ", " \n"]))
    return rng.choice(["", " ", "  ", "\n"]) + word + rng.choice(["", " ", "\n", "  ", "\t"])


def _python_label(case: Case, cells: list, assessment) -> str:
    names = list(case.series) or [None]
    outcomes = {n: (v if isinstance(v, (int, float)) else None) for n, v in zip(names, cells)}
    previous = dict(zip(names, case.previous)) if case.previous else None
    result = evaluate(parse_target(case.target, case.polarity, case.parse_series), outcomes,
                      series_names=case.series,
                      baseline=parse_series_values(case.baseline, case.parse_series) if case.baseline else None,
                      previous=previous, polarity=case.polarity, settings=StatusSettings(case.tolerance),
                      assessment=assessment)
    return result.status.label


def _formula(case: Case, row: int) -> str | None:
    names = list(case.series) or [None]
    cells = {n: f"{'BCD'[i]}{row}" for i, n in enumerate(names)}
    previous = dict(zip(names, case.previous)) if case.previous else None
    return status_formula(parse_target(case.target, case.polarity, case.parse_series), cells,
                          series_names=case.series,
                          baseline=parse_series_values(case.baseline, case.parse_series) if case.baseline else None,
                          polarity=case.polarity, settings=StatusSettings(case.tolerance),
                          assessment_cell=f"E{row}", previous=previous)


def _build(path: Path, rows_per_case: int, seed: int) -> list[tuple[int, Case, list, object, str]]:
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["fall", "utfall 1", "utfall 2", "utfall 3", "bedömning", "formel", "python"])
    expected = []
    row = 2
    for case in CASES:
        for _ in range(rows_per_case):
            cells = [_outcome(rng, case.centre) for _ in (case.series or (None,))]
            assessment = _assessment(rng)
            formula = _formula(case, row)
            assert formula is not None and formula.startswith("=")
            label = _python_label(case, cells, assessment)
            ws.cell(row, 1, case.target)
            for i, v in enumerate(cells):
                ws.cell(row, 2 + i, v)
            ws.cell(row, 5, assessment)
            ws.cell(row, 6, formula)
            ws.cell(row, 7, label)
            expected.append((row, case, cells, assessment, label))
            row += 1
    wb.save(path)
    return expected


needs_lo = pytest.mark.skipif(soffice_path() is None or shutil.which("soffice") is None,
                              reason="LibreOffice (soffice) is not installed")


@needs_lo
def test_libreoffice_agrees_with_python_on_thousands_of_outcomes(tmp_path):
    src = tmp_path / "status.xlsx"
    expected = _build(src, rows_per_case=120, seed=20240101)
    assert len(expected) > 3000
    out = recalc_xlsx(src, tmp_path / "out")
    ws = openpyxl.load_workbook(out, data_only=True).active
    mismatches = [(row, case.target, cells, assessment, label, ws.cell(row, 6).value)
                  for row, case, cells, assessment, label in expected if ws.cell(row, 6).value != label]
    assert not mismatches, mismatches[:10]
    seen = {label for *_, label in expected}
    assert seen == {s.label for s in Status}  # every status occurs


def test_formula_uses_only_common_functions():
    for i, case in enumerate(CASES):
        formula = _formula(case, 10 + i)
        assert formula is not None and formula.startswith("=")
        assert set(re.findall(r"([A-Z]+)\(", formula)) <= ALLOWED
        assert formula.count("(") == formula.count(")")


def test_formula_shapes():
    t = parse_target("65 (90)", "lower")
    f = status_formula(t, {None: "H12"}, baseline=parse_series_values("70"))
    assert f == ('=IF(NOT(ISNUMBER(H12)),"Utfall saknas",IF(H12<=65,"Uppfyllt",'
                 'IF(H12<70,"Delvis uppfyllt","Ej uppfyllt")))')
    assert status_formula(parse_target(""), {None: "H12"}) == '="Målvärde saknas"'
    assert status_formula(parse_target("Systematisk analys"), {None: "H12"}) == '="Bedöms manuellt"'
    assert status_formula(parse_target(">48 %"), {"Äldre": "H12"}, series_names=["Äldre", "LSS"]) == \
        '="Utfall saknas"'  # LSS has no cell: it can never be reported


def test_formula_refers_to_cells_in_other_sheets():
    f = status_formula(parse_target(">48 %"), {None: "'Mål och indikatorer'!H12"})
    assert f is not None and "ISNUMBER('Mål och indikatorer'!H12)" in f


@pytest.mark.parametrize("x, text", [(48.0, "48"), (-0.5, "-0.5"), (1e-7, "0.0000001"), (1012779.0, "1012779"),
                                     (81.7, "81.7"), (-0.0, "0")])
def test_excel_number(x, text):
    assert excel_number(x) == text
    assert float(text) == x


@needs_lo
def test_convert_reports_a_missing_file(tmp_path):
    with pytest.raises(LibreOfficeFailed, match="finns inte"):
        convert(tmp_path / "nope.xlsx", "pdf", tmp_path)


@needs_lo
def test_convert_to_pdf(tmp_path):
    wb = openpyxl.Workbook()
    wb.active["A1"] = "Uppföljning"
    wb.save(tmp_path / "a.xlsx")
    pdf = convert(tmp_path / "a.xlsx", "pdf", tmp_path / "pdf")
    assert pdf == tmp_path / "pdf" / "a.pdf"
    assert pdf.read_bytes().startswith(b"%PDF")


@needs_lo
def test_convert_gives_up_after_its_time_limit(tmp_path):
    wb = openpyxl.Workbook()
    wb.save(tmp_path / "a.xlsx")
    with pytest.raises(LibreOfficeFailed, match="sekunder"):
        convert(tmp_path / "a.xlsx", "pdf", tmp_path / "pdf", timeout=0.05)
    assert not (tmp_path / "pdf" / "a.pdf").exists()


@needs_lo
def test_recalc_many_in_one_run(tmp_path):
    from xlplan.io.lo import recalc_many

    paths = []
    for i in range(3):
        wb = openpyxl.Workbook()
        wb.active["A1"] = i
        wb.active["B1"] = "=A1*2"
        paths.append(tmp_path / f"b{i}.xlsx")
        wb.save(paths[-1])
    out = recalc_many(paths, tmp_path / "out")
    assert out == [tmp_path / "out" / f"b{i}.xlsx" for i in range(3)]
    assert [openpyxl.load_workbook(p, data_only=True).active["B1"].value for p in out] == [0, 2, 4]
    assert recalc_many([], tmp_path / "out") == []
    (tmp_path / "sub").mkdir()
    openpyxl.Workbook().save(tmp_path / "sub" / "b0.xlsx")
    with pytest.raises(LibreOfficeFailed, match="samma namn"):
        recalc_many([paths[0], tmp_path / "sub" / "b0.xlsx"], tmp_path / "out")


def test_formula_too_long_for_excel_is_none():
    names = [f"Enhet {chr(65 + i // 26)}{chr(65 + i % 26)}" for i in range(300)]
    t = parse_target(">48 %", None)  # read without the plan's series: applies to every series
    cells = {n: f"'Mål och indikatorer'!H{i + 2}" for i, n in enumerate(names)}
    assert status_formula(t, cells, series_names=names) is None
    assert status_formula(t, dict(list(cells.items())[:3]), series_names=names[:3]) is not None


# ---------------------------------------------------------------- comparison values in cells

# Direction, threshold, multi-series and second-limit targets, each row with comparison cells
# (the previous period's or the previous year's value, typed or missing): the formula reads
# the cells, Python gets the numbers in them.
COMPARISON_CASES = [
    Case("Öka", None, (), "50 %", centre=50),
    Case("Öka", None, (), None, centre=50),
    Case("Minska", "lower", (), "8,1", centre=7.5),
    Case("Minska", None, (), None, centre=7.5),
    Case("Minska", "lower", ("Äldre", "LSS"), "Äldre 5, LSS 7", centre=6),
    Case("Öka", None, ("Kvinnor", "Män"), None, centre=80),
    Case("Bibehålla", None, (), "86 %", centre=86),
    Case("Bibehålla", None, (), None, centre=86),
    Case("Bibehålla", "lower", ("A", "B"), None, centre=15),
    Case(">48 %", centre=48),
    Case("65 (90)", "lower", (), "65", centre=70),
    Case("Särskilt boende 88 %, hemtjänst 94%", "higher", ("Särskilt boende", "Hemtjänst"),
         "Särskilt boende 88 %, hemtjänst 94 %", tolerance=3, centre=91),
    Case("Systematisk analys", centre=1),
]


def _comparison(rng: random.Random, centre: float):
    roll = rng.random()
    if roll < 0.2:
        return None
    if roll < 0.25:
        return rng.choice(["-", "7,0", "ca 7"])  # text is no comparison value, as for an outcome
    spread = max(abs(centre) * 0.1, 1.0)
    return round(centre + rng.uniform(-spread, spread), rng.choice([0, 1, 1, 2]))


def _number_or_none(v):
    return v if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _build_with_comparisons(path: Path, rows_per_case: int, seed: int) -> list[tuple[int, Case, list, list, object, str]]:
    rng = random.Random(seed)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["fall", "utfall 1", "utfall 2", "utfall 3", "bedömning", "formel", "python", "jmf 1", "jmf 2",
               "jmf 3"])
    expected = []
    row = 2
    for case in COMPARISON_CASES:
        names = list(case.series) or [None]
        for _ in range(rows_per_case):
            cells = [_outcome(rng, case.centre) for _ in names]
            comparisons = [_comparison(rng, case.centre) for _ in names]
            assessment = _assessment(rng)
            target = parse_target(case.target, case.polarity, case.series)
            baseline = parse_series_values(case.baseline, case.series) if case.baseline else None
            formula = status_formula(target, {n: f"{'BCD'[i]}{row}" for i, n in enumerate(names)},
                                     series_names=case.series, baseline=baseline, polarity=case.polarity,
                                     settings=StatusSettings(case.tolerance), assessment_cell=f"E{row}",
                                     comparison_cells={n: f"{'HIJ'[i]}{row}" for i, n in enumerate(names)})
            assert formula is not None and set(re.findall(r"([A-Z]+)\(", formula)) <= ALLOWED
            result = evaluate(target, {n: _number_or_none(v) for n, v in zip(names, cells)},
                              series_names=case.series, baseline=baseline,
                              previous={n: _number_or_none(v) for n, v in zip(names, comparisons)},
                              polarity=case.polarity, settings=StatusSettings(case.tolerance),
                              assessment=assessment)
            ws.cell(row, 1, case.target)
            for i, v in enumerate(cells):
                ws.cell(row, 2 + i, v)
            for i, v in enumerate(comparisons):
                ws.cell(row, 8 + i, v)
            ws.cell(row, 5, assessment)
            ws.cell(row, 6, formula)
            ws.cell(row, 7, result.status.label)
            expected.append((row, case, cells, comparisons, assessment, result.status.label))
            row += 1
    wb.save(path)
    return expected


def _agree_with_comparisons(tmp_path: Path, rows_per_case: int, seed: int) -> set[str]:
    src = tmp_path / "status_jmf.xlsx"
    expected = _build_with_comparisons(src, rows_per_case, seed)
    ws = openpyxl.load_workbook(recalc_xlsx(src, tmp_path / "out"), data_only=True).active
    mismatches = [(row, case.target, cells, comparisons, assessment, label, ws.cell(row, 6).value)
                  for row, case, cells, comparisons, assessment, label in expected if ws.cell(row, 6).value != label]
    assert not mismatches, mismatches[:10]
    return {label for *_, label in expected}


@needs_lo
def test_libreoffice_agrees_with_python_with_comparison_values(tmp_path):
    seen = _agree_with_comparisons(tmp_path, rows_per_case=25, seed=20241)
    assert {"Uppfyllt", "Ej uppfyllt", "Utfall saknas", "Bedöms manuellt", "Delvis uppfyllt",
            "Jämförelsevärde saknas"} <= seen


@pytest.mark.slow
@needs_lo
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_libreoffice_agrees_with_python_with_comparison_values_many_rounds(tmp_path, seed):
    _agree_with_comparisons(tmp_path, rows_per_case=400, seed=seed)


def test_formula_reads_the_comparison_cell():
    t = parse_target("Minska", "lower")
    f = status_formula(t, {None: "M6"}, baseline=parse_series_values("8,1"), comparison_cells={None: "K6"})
    assert f == ('=IF(NOT(ISNUMBER(M6)),"Utfall saknas",IF(M6<IF(ISNUMBER(K6),K6,8.1),"Uppfyllt",'
                 '"Ej uppfyllt"))')
    f = status_formula(parse_target("Öka"), {None: "M6"}, comparison_cells={None: "K6"}, assessment_cell="O6")
    assert f == ('=IF(NOT(ISNUMBER(M6)),"Utfall saknas",IF(ISNUMBER(K6),IF(M6>K6,"Uppfyllt","Ej uppfyllt"),'
                 '"Jämförelsevärde saknas"))')  # the own assessment (O6) does not replace the missing value
    assert status_formula(parse_target("Öka"), {None: "M6"}, assessment_cell="O6") == \
        '=IF(NOT(ISNUMBER(M6)),"Utfall saknas","Jämförelsevärde saknas")'  # Utfall saknas first


# A direction target without baseline: an empty comparison cell gives Jämförelsevärde saknas, a typed
# number the computed status, an empty outcome Utfall saknas first; text in the cell is no number.
DIRECTION_ROWS = [
    # target, polarity, outcome, comparison cell, own assessment
    ("Öka", None, 55, None, None), ("Öka", None, 55, None, "Uppfyllt"), ("Öka", None, 55, 50, None),
    ("Öka", None, 45, 50, "Uppfyllt"), ("Öka", None, None, None, None), ("Öka", None, None, 50, None),
    ("Öka", None, 55, "ca 50", None), ("Minska", "lower", 3.1, None, None), ("Minska", "lower", 3.1, 3.3, None),
    ("Bibehålla", None, 86, None, None), ("Bibehålla", None, 86, 86, None), ("Bibehålla", "lower", 4, 3.5, None),
]


@needs_lo
def test_libreoffice_gives_comparison_missing_until_a_number_is_typed(tmp_path):
    wb = openpyxl.Workbook()
    ws = wb.active
    expected = {}
    for row, (text, polarity, outcome, comparison, assessment) in enumerate(DIRECTION_ROWS, start=2):
        target = parse_target(text, polarity)
        ws.cell(row, 2, outcome)
        ws.cell(row, 5, assessment)
        ws.cell(row, 8, comparison)
        ws.cell(row, 6, status_formula(target, {None: f"B{row}"}, polarity=polarity, assessment_cell=f"E{row}",
                                       comparison_cells={None: f"H{row}"}))
        previous = {None: comparison} if isinstance(comparison, (int, float)) else None
        expected[row] = evaluate(target, {None: outcome}, previous=previous, polarity=polarity,
                                 assessment=assessment).status.label
    wb.save(tmp_path / "jmf.xlsx")
    out = openpyxl.load_workbook(recalc_xlsx(tmp_path / "jmf.xlsx", tmp_path / "out"), data_only=True).active
    assert {row: out.cell(row, 6).value for row in expected} == expected
    assert list(expected.values()) == [
        "Jämförelsevärde saknas", "Jämförelsevärde saknas", "Uppfyllt", "Ej uppfyllt", "Utfall saknas",
        "Utfall saknas", "Jämförelsevärde saknas", "Jämförelsevärde saknas", "Uppfyllt",
        "Jämförelsevärde saknas", "Uppfyllt", "Ej uppfyllt"]
