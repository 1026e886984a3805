"""The department workbook as ``fill`` writes it, compared with a reviewed golden one.

The golden file is the follow-up workbook of Äldreomsorg (ALD) for delår 2024
of the small test plan (``conftest.TINY``: series, a qualitative target,
activities, budget, personnel key figures, internal control), written with a
fixed timestamp, so the same file comes out on every machine and in every
time zone.
:func:`golden.first_difference` compares the two by meaning (sheets,
protection, validations, conditional formats, formulas, values, formats …)
and names the first difference.

Regenerate the golden workbook (after reviewing the change) with::

    PYTHONPATH=src python tests/test_golden_department.py --write-golden
"""

from __future__ import annotations

import sys
from pathlib import Path

import openpyxl

from conftest import TINY
from golden import first_difference, workbook_items
from xlplan.actions.fill import fill
from xlplan.books.plan import write_plan_tables

GOLDEN = Path(__file__).parent / "golden" / "äldreomsorg_2024-delår.xlsx"
DEPARTMENT = "ALD"
PERIOD = "2024-delår"
STAMP = "2024-09-02T08:00:00+00:00"  # when the file was made: fixed, so the file is the same every run


def golden_department_workbook(root: Path) -> Path:
    """The department workbook of the fixed plan, department and period."""
    plan = root / "plan.xlsx"
    write_plan_tables(TINY, plan)
    result = fill(plan, PERIOD, [DEPARTMENT], root / "avdelningar", generated_at=STAMP)
    (path,) = result.written
    return path


def test_the_department_workbook_equals_the_golden_one(tmp_path: Path) -> None:
    got = golden_department_workbook(tmp_path)
    assert first_difference(got, GOLDEN) is None


def test_the_golden_department_workbook_is_what_was_reviewed() -> None:
    """What the review checked, so that regenerating the golden file cannot silently drop it."""
    wb = openpyxl.load_workbook(GOLDEN)
    assert wb.sheetnames == ["Översikt", "Mål och indikatorer", "Aktiviteter", "Ekonomi", "Personal",
                             "Internkontroll", "_xlplan", "_xlplan_plan"]
    assert [ws.sheet_state for ws in wb][-2:] == ["veryHidden", "veryHidden"]
    assert all(ws.protection.sheet for ws in wb)
    ind = wb["Mål och indikatorer"]
    headers = [c.value for c in ind[5]]
    assert headers[:4] == ["Rad-id", "Prioriterat mål", "Nämndens mål", "Indikator"]
    status, outcome = headers.index("Status") + 1, headers.index("Utfall") + 1
    rows = range(6, ind.max_row + 1)
    assert all(str(ind.cell(r, 1).value).startswith("I|") for r in rows)
    # the status is a live formula of the outcome cell on the same row; the outcome is typed (unlocked)
    formulas = [ind.cell(r, status).value for r in rows]
    assert all(isinstance(f, str) and f.startswith("=") for f in formulas)
    assert sum(f"M{r}" in f for r, f in zip(rows, formulas)) >= 3
    assert all(not ind.cell(r, outcome).protection.locked for r in rows)
    assert all(ind.cell(r, status).protection.locked for r in rows)
    assert ind.data_validations.dataValidation and ind.conditional_formatting
    # every sheet with typed cells has some, and nothing else is unlocked
    typed = {ws.title: [c.coordinate for row in ws.iter_rows() for c in row if not c.protection.locked]
             for ws in wb}
    assert typed["Översikt"] == ["C11", "C12"] and typed["Aktiviteter"] == ["G6", "H6"]
    assert typed["Ekonomi"] == ["D6", "E6", "G6", "D7", "E7", "G7"] and typed["_xlplan"] == []
    assert len(workbook_items(GOLDEN)) > 300


def test_the_golden_comparison_names_a_difference_in_a_department_workbook(tmp_path: Path) -> None:
    got = golden_department_workbook(tmp_path)
    wb = openpyxl.load_workbook(got)
    wb["Mål och indikatorer"]["N7"] = '="Uppfyllt"'
    changed = tmp_path / "ändrad.xlsx"
    wb.save(changed)
    assert (first_difference(changed, GOLDEN) or "").startswith("Mål och indikatorer!N7: ")


if __name__ == "__main__" and "--write-golden" in sys.argv:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_bytes(golden_department_workbook(Path(tmp)).read_bytes())
    print(f"Skrev {GOLDEN}")
