"""The example plans' department workbooks: readable by openpyxl and python-calamine, and
converted to PDF by LibreOffice without errors."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from xlplan.actions.fill import fill
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import read_plan
from xlplan.examples import example_plan_path

SHEETS = {"Översikt", "Mål och indikatorer", "Aktiviteter", "Ekonomi"}


@pytest.fixture(scope="module")
def books_2020(tmp_path_factory) -> list[Path]:
    out = tmp_path_factory.mktemp("avd2020")
    return fill(example_plan_path("alingsas-von-2020"), "2020-delår", None, out, fmt="xlsm").written


def test_all_six_departments_open_in_openpyxl_and_calamine(books_2020):
    plan = read_plan(example_plan_path("alingsas-von-2020"))
    assert len(books_2020) == 6
    seen = set()
    for path in books_2020:
        wb = openpyxl.load_workbook(path, keep_vba=True)
        assert SHEETS <= set(wb.sheetnames)
        cal = CalamineWorkbook.from_path(str(path))
        assert SHEETS <= set(cal.sheet_names)
        book = read_department_workbook(path)
        assert book.problems == []
        seen.add(book.department_id)
        expected = {f"I|{i.id}|{s or ''}" for i in plan.indicators_for(book.department_id)
                    for s in i.series_names()}
        assert set(book.sheets["Mål och indikatorer"].rows) == expected
        acts = {f"A|{a.id}" for a in plan.activities_for(book.department_id)}
        assert set(book.sheets["Aktiviteter"].rows) == acts
    assert seen == {d.id for d in plan.departments}


def test_libreoffice_converts_all_six_to_pdf(books_2020, tmp_path):
    from xlplan.io.lo import convert_many, soffice_path

    if soffice_path() is None:
        pytest.skip("LibreOffice (soffice) saknas: PDF-konvertering kan inte provas här")
    pdfs = convert_many(books_2020, "pdf", tmp_path)
    assert len(pdfs) == 6
    for pdf in pdfs:
        assert pdf.exists() and pdf.stat().st_size > 10_000
        if shutil.which("pdfinfo"):
            info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
            pages = int(next(line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")))
            assert pages >= 4  # Översikt, indicators, activities, economy at the least
