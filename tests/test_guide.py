"""The user guide: built from docs/anvandarguide.md into a PDF, shipped beside the controller's workbook and
opened by the Användarguide button (whose Python side finds it, also from a department file saved alone)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from xlplan.core.naming import GUIDE_PDF
from xlplan.export.guide import (
    build_guide,
    column_widths,
    find_guide,
    guide_headings,
    guide_source,
    inline_runs,
    parse_markdown,
    shipped_guide,
)

REPO = Path(__file__).resolve().parents[1]
needs_poppler = pytest.mark.skipif(shutil.which("pdftotext") is None or shutil.which("pdftoppm") is None,
                                   reason="poppler (pdftotext, pdftoppm) saknas")
needs_soffice = pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) saknas")


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True)
    return " ".join(out.stdout.split())


def test_markdown_blocks() -> None:
    blocks = parse_markdown("# Titel\n\nEtt stycke\nsom fortsätter.\n\n1. **Ett** steg\n   som fortsätter\n"
                            "2. Två\n\n- punkt\n\n| A | B |\n|---|---|\n| 1 | *två* |\n\n## Del\n")
    assert [(b.kind, b.level) for b in blocks] == [("heading", 1), ("paragraph", 0), ("numbers", 0),
                                                  ("bullets", 0), ("table", 0), ("heading", 2)]
    assert blocks[1].text == "Ett stycke som fortsätter."
    assert blocks[2].items == ["**Ett** steg som fortsätter", "Två"]
    assert blocks[4].rows == [["A", "B"], ["1", "*två*"]]
    assert inline_runs("a **b** *c* `d` [e](f.md)") == [("plain", "a "), ("bold", "b"), ("plain", " "),
                                                        ("italic", "c"), ("plain", " "), ("code", "d"),
                                                        ("plain", " "), ("plain", "e")]


def test_table_columns_fit_their_longest_word() -> None:
    widths = column_widths([["Status", "Betyder"], ["Delvis uppfyllt", "lång " * 40]], 16.0)
    assert sum(widths) == pytest.approx(16.0)
    assert widths[0] >= 0.4 + 0.21 * len("uppfyllt") and widths[1] > widths[0]


def test_the_guide_covers_every_role_and_the_statuses() -> None:
    headings = guide_headings()
    for wanted in ("Arbetsgången i korthet", "För avdelningen", "Vad statusen betyder", "För ekonomin",
                   "För controllern", "Vanliga fel"):
        assert wanted in headings
    text = guide_source().read_text(encoding="utf-8")
    from xlplan.books.department.columns import SUBMISSION_STATES
    from xlplan.core.status import Status

    for status in Status:
        assert f"| {status.label} |" in text, status.label
    for state in SUBMISSION_STATES:
        assert f"| {state} |" in text, state


@needs_poppler
def test_shipped_pdf_is_current_and_has_the_headings() -> None:
    shipped = shipped_guide()
    assert shipped == REPO / "workbook" / GUIDE_PDF  # ships with the workbook/ folder (setup.py)
    text = pdf_text(shipped)
    for heading in guide_headings():
        assert heading in text, f"{heading!r} saknas i {GUIDE_PDF}: bygg om med xlplan build-workbook"
    assert "controllern (Skapa avdelningsfiler)" in text  # a late edit of the source made it into the PDF


@needs_soffice
@needs_poppler
def test_build_guide_makes_a_pdf_with_every_heading(tmp_path: Path) -> None:
    pdf = build_guide(tmp_path)
    assert pdf == tmp_path / GUIDE_PDF and pdf.read_bytes().startswith(b"%PDF")
    text = pdf_text(pdf)
    assert all(h in text for h in guide_headings())
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "sida")], check=True)
    pages = sorted(tmp_path.glob("sida*.png"))
    assert len(pages) >= 4 and all(p.stat().st_size > 5000 for p in pages)


def test_find_guide_order(tmp_path: Path) -> None:
    assert find_guide(tmp_path, "https://intranat.example.se/guide") == "https://intranat.example.se/guide"
    assert find_guide(tmp_path, "saknas.pdf") is None  # a configured path that is not there: said so
    (tmp_path / "egen.pdf").write_bytes(b"%PDF")
    assert find_guide(tmp_path, "egen.pdf") == str(tmp_path / "egen.pdf")
    assert find_guide(tmp_path, "") == str(shipped_guide())  # nothing beside: the one shipped with xlplan
    (tmp_path / GUIDE_PDF).write_bytes(b"%PDF")
    assert find_guide(tmp_path, "") == str(tmp_path / GUIDE_PDF)


def test_the_button_finds_the_guide_for_a_department_file_saved_alone(tiny_plan_path: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("xlwings")
    import xlplan.excel as excel
    from xlplan.actions.fill import fill
    from xlremote import run_with_caller

    monkeypatch.setenv("XLWINGS_LICENSE_KEY", "noncommercial")
    (made,) = fill(tiny_plan_path, "2024-delår", ["ALD"], tmp_path / "ut", fmt="xlsm").written
    alone = tmp_path / "Hämtade filer"
    alone.mkdir()
    path = Path(shutil.copy(made, alone / made.name))
    monkeypatch.chdir(alone)
    run = run_with_caller(path.name, lambda: excel.guide_target(excel.caller()))
    assert run.result is not None and Path(run.result).is_file() and Path(run.result).name == GUIDE_PDF
