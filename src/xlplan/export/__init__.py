"""The board pack: ``export(committee_path, out_dir)`` → nämndrapport.docx, .pdf and bilaga.xlsx.

Everything is built in a temporary folder beside *out_dir* and moved in only
when all parts succeeded; a refused or failed export leaves *out_dir* as it was.
Without LibreOffice the PDF is skipped with a warning and the rest is written.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from typing import TYPE_CHECKING

from xlplan.errors import ExportFailed

if TYPE_CHECKING:
    from xlplan.committee import CommitteeData
    from xlplan.export.charts import ReportCharts

__all__ = ["DOCX_NAME", "PDF_NAME", "BILAGA_NAME", "ExportResult", "export"]

DOCX_NAME = "nämndrapport.docx"
PDF_NAME = "nämndrapport.pdf"
BILAGA_NAME = "nämndrapport_bilaga.xlsx"


@dataclass(frozen=True)
class ExportResult:
    docx: Path
    pdf: Path | None
    bilaga: Path
    warnings: list[str] = field(default_factory=list)


def export(committee_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
           template: str | os.PathLike[str] | None = None) -> ExportResult:
    """Write the board pack for the committee workbook *committee_path* into *out_dir*.

    Raises :class:`~xlplan.errors.WorkbookRefused` / ``WorkbookUnreadable`` for a
    file that is not an xlplan committee workbook and :class:`ExportFailed` when
    the template is missing or a part cannot be written; *out_dir* is then untouched.
    """
    from xlplan.committee import complete_goals, read_committee_workbook  # here: matplotlib, docx are slow

    data = complete_goals(read_committee_workbook(committee_path))
    template_path = _template(template)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportFailed(f"{out}: finns redan och är ingen mapp; ange en mapp för nämndrapporten.")
    try:
        parent = out.resolve().parent
        parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix=".xlplan-export-", dir=parent) as tmp_name:
            tmp = Path(tmp_name)
            built, warnings = _build_all(data, tmp, template_path)
            moved = _move_in(built, out)
    except OSError as exc:  # no room, no permission …: the temporary folder is already gone
        raise ExportFailed(f"{out}: nämndrapporten kunde inte skrivas ({exc.strerror or exc}).") from exc
    return ExportResult(moved[DOCX_NAME], moved.get(PDF_NAME), moved[BILAGA_NAME], warnings)


def _template(template: str | os.PathLike[str] | None) -> Path | None:
    if template is None:
        return None
    from xlplan.export.docx_report import open_template

    path = Path(template)
    if not path.is_file():
        raise ExportFailed(f"{path.name}: Word-mallen finns inte ({path}).")
    open_template(path)  # refuse a broken template before any work
    return path


def _build_all(data: CommitteeData, tmp: Path, template: Path | None) -> tuple[list[Path], list[str]]:
    from xlplan.export.bilaga import write_bilaga
    from xlplan.export.charts import report_charts
    from xlplan.export.docx_report import build_report

    charts = report_charts(data, tmp / "figurer")
    docx = tmp / DOCX_NAME
    headings = build_report(data, charts, docx, template)
    bilaga = write_bilaga(data, tmp / BILAGA_NAME)
    pdf, warnings = _pdf(data, charts, docx, template, headings, tmp)
    return [p for p in (docx, pdf, bilaga) if p is not None], warnings


def _pdf(data: CommitteeData, charts: ReportCharts, docx: Path, template: Path | None, headings: list[str],
         tmp: Path) -> tuple[Path | None, list[str]]:
    from xlplan.export.docx_report import build_report
    from xlplan.export.pdf import pdf_with_page_numbers, soffice_available
    from xlplan.lo import LibreOfficeFailed

    if not soffice_available():
        return None, [f"LibreOffice (soffice) saknas: {PDF_NAME} skapades inte; {DOCX_NAME} och "
                      f"{BILAGA_NAME} skrevs."]

    def rebuild(pages: list[int | None]) -> None:
        build_report(data, charts, docx, template, toc_pages=pages)

    try:
        pdf, warnings = pdf_with_page_numbers(docx, headings, rebuild, tmp / "pdf")
    except LibreOfficeFailed as exc:
        return None, [f"{PDF_NAME} skapades inte: {exc.reason}. {DOCX_NAME} och {BILAGA_NAME} skrevs."]
    final = tmp / PDF_NAME
    os.replace(pdf, final)
    return final, warnings


def _move_in(files: list[Path], out: Path) -> dict[str, Path]:
    """Move the finished files into *out* (each by an atomic rename on the same disk)."""
    out.mkdir(parents=True, exist_ok=True)
    mode = _file_mode()
    moved: dict[str, Path] = {}
    try:
        for f in files:
            target = out / f.name
            os.chmod(f, mode)  # temporary files are private; the results are ordinary files
            os.replace(f, target)
            moved[f.name] = target
    except OSError as exc:
        raise ExportFailed(f"{out}: filerna kunde inte flyttas dit ({exc.strerror or exc}). "
                           "Stäng nämndrapporten om den är öppen i Word eller Excel och försök igen.") from exc
    return moved


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
