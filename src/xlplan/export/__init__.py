"""The board pack: ``export(committee_path, out_dir)`` → nämndrapport.docx, .pdf and bilaga.xlsx.

All or nothing: the three files are built in a temporary folder
``.xlplan-export-<pid>-…`` inside *out_dir*; before anything is replaced, a
pack file that is open (a Word, Excel or LibreOffice lock file beside it) or
not writable stops the export.  Then the old pack files are moved aside and
the new ones moved in, with a journal in the temporary folder; a failure
moves the old files back, and a run that was killed half-way is rolled back
by the next export (it finds the journal of a process that no longer runs).
Without LibreOffice the PDF is skipped with a warning (and an old PDF is
removed with the rest of the old pack, so the pack never mixes versions).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from xlplan.core import naming
from xlplan.core.errors import ExportFailed

if TYPE_CHECKING:
    from xlplan.books.committee import CommitteeData
    from xlplan.export.pdf import PdfRun

__all__ = ["DOCX_NAME", "PDF_NAME", "BILAGA_NAME", "PACK_NAMES", "ExportResult", "export"]

# The board pack's file names (xlplan.core.naming defines every file name xlplan writes).
DOCX_NAME, PDF_NAME, BILAGA_NAME = naming.REPORT_DOCX, naming.REPORT_PDF, naming.REPORT_BILAGA
PACK_NAMES = naming.REPORT_FILES
TMP_PREFIX = naming.EXPORT_TMP_PREFIX
JOURNAL = naming.EXPORT_JOURNAL


@dataclass(frozen=True)
class ExportResult:
    docx: Path
    pdf: Path | None
    bilaga: Path
    warnings: list[str] = field(default_factory=list)


def export(committee_path: str | os.PathLike[str], out_dir: str | os.PathLike[str],
           template: str | os.PathLike[str] | None = None) -> ExportResult:
    """Write the board pack for the committee workbook *committee_path* into *out_dir*.

    Raises :class:`~xlplan.core.errors.WorkbookRefused` / ``WorkbookUnreadable`` for a
    file that is not an xlplan committee workbook and :class:`ExportFailed` when
    the template is missing, a pack file is open, or a part cannot be written;
    *out_dir* then holds the pack it held before.
    """
    from xlplan.books.committee import complete_goals, read_committee_workbook  # here: matplotlib, docx are slow

    data = complete_goals(read_committee_workbook(committee_path))
    template_path = _template(template)
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ExportFailed(f"{out}: finns redan och är ingen mapp; ange en mapp för nämndrapporten.")
    created = not out.exists()
    tmp: Path | None = None
    try:
        out.mkdir(parents=True, exist_ok=True)
        recover_interrupted(out)
        recover_interrupted(out.resolve().parent)  # earlier versions built beside the folder
        tmp = Path(tempfile.mkdtemp(prefix=f"{TMP_PREFIX}{os.getpid()}-", dir=out))
        built, warnings = _build_all(data, tmp / "ny", template_path)
        check_unlocked(out)
        moved = _swap(tmp, out, built)
    except OSError as exc:  # no room, no permission …
        raise ExportFailed(f"{out}: nämndrapporten kunde inte skrivas ({exc.strerror or exc}).") from exc
    finally:
        if tmp is not None and not _swapping(tmp):  # killed mid-swap: the next export rolls it back
            shutil.rmtree(tmp, ignore_errors=True)
        if created and out.is_dir() and not any(out.iterdir()):
            out.rmdir()
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


def _build_all(data: CommitteeData, folder: Path, template: Path | None) -> tuple[list[Path], list[str]]:
    from xlplan.books.bilaga import write_bilaga
    from xlplan.export.charts import report_charts
    from xlplan.export.docx_report import build_report

    folder.mkdir(parents=True)
    docx = folder / DOCX_NAME
    run, warnings = _start_pdf(docx, folder / PDF_NAME)  # LibreOffice starts up while the report is built
    try:
        charts = report_charts(data, folder.parent / "figurer")
        headings = build_report(data, charts, docx, template)
        if run is not None:
            run.go()
        bilaga = write_bilaga(data, folder / BILAGA_NAME)  # written while LibreOffice works
    except BaseException:
        if run is not None:
            run.cancel()
        raise
    pdf, more = _finish_pdf(run, docx, headings, folder / PDF_NAME)
    return [p for p in (docx, pdf, bilaga) if p is not None], warnings + more


def _failed(reason: str) -> str:
    return f"{PDF_NAME} skapades inte: {reason}. {DOCX_NAME} och {BILAGA_NAME} skrevs."


def _start_pdf(docx: Path, target: Path) -> tuple[PdfRun | None, list[str]]:
    from xlplan.export.pdf import PdfRun, soffice_available
    from xlplan.io.lo import LibreOfficeFailed

    if not soffice_available():
        return None, [f"LibreOffice (soffice) saknas: {PDF_NAME} skapades inte; {DOCX_NAME} och "
                      f"{BILAGA_NAME} skrevs."]
    try:
        return PdfRun(docx, target), []
    except LibreOfficeFailed as exc:
        return None, [_failed(exc.reason)]


def _finish_pdf(run: PdfRun | None, docx: Path, headings: list[str], target: Path) -> tuple[Path | None, list[str]]:
    """Wait for the PDF; its contents' page numbers are written into the docx."""
    from xlplan.export.docx_report import set_toc_pages
    from xlplan.export.pdf import toc_pages
    from xlplan.io.lo import LibreOfficeFailed

    if run is None:
        return None, []
    try:
        lines = run.result()
    except LibreOfficeFailed as exc:
        return None, [_failed(exc.reason)]
    pages = toc_pages(lines, headings)
    set_toc_pages(docx, pages)
    missing = [h for h, p in zip(headings, pages) if p is None]
    return target, [f"Sidnummer för rubriken '{h}' saknas i innehållsförteckningen." for h in missing]


# ---------------------------------------------------------------- all or nothing


def lock_files(folder: Path, name: str) -> list[Path]:
    """The lock files Word/Excel (``~$name``) and LibreOffice (``.~lock.name#``) keep beside an open file."""
    candidates = [folder / f"~${name}", folder / f"~${name[2:]}", folder / f".~lock.{name}#"]
    return [p for p in candidates if p.exists()]


def check_unlocked(out: Path) -> None:
    """Refuse (before anything is replaced) when a pack file is open or cannot be replaced."""
    for name in PACK_NAMES:
        target = out / name
        if lock_files(out, name):
            raise ExportFailed(f"{target}: filen är öppen (i Word, Excel eller LibreOffice). Stäng den och "
                               "exportera igen; ingen fil i nämndrapporten har ändrats.")
        if target.exists():
            try:
                fd = os.open(target, os.O_RDWR | os.O_APPEND)
            except OSError as exc:
                raise ExportFailed(f"{target}: filen kan inte ersättas ({exc.strerror or exc}). Stäng den om "
                                   "den är öppen och exportera igen; ingen fil i nämndrapporten har ändrats.") \
                    from exc
            os.close(fd)
    if not os.access(out, os.W_OK):
        raise ExportFailed(f"{out}: mappen är skrivskyddad; ingen fil i nämndrapporten har ändrats.")


def _swap(tmp: Path, out: Path, built: list[Path]) -> dict[str, Path]:
    """Move the old pack aside and the new one in; on failure the old pack is put back."""
    old = tmp / "gammal"
    old.mkdir()
    journal = tmp / JOURNAL
    names = [p.name for p in built]
    journal.write_text(json.dumps({"out": str(out), "state": "byter", "new": names}), encoding="utf-8")
    default_mode = _file_mode()
    modes = {name: (out / name).stat().st_mode & 0o777 for name in PACK_NAMES if (out / name).exists()}
    try:
        for name in PACK_NAMES:
            if (out / name).exists():
                os.replace(out / name, old / name)
        moved: dict[str, Path] = {}
        for f in built:
            os.chmod(f, modes.get(f.name, default_mode))  # temporary files are private; keep the old mode
            os.replace(f, out / f.name)
            moved[f.name] = out / f.name
    except OSError as exc:
        _roll_back(tmp, out)
        raise ExportFailed(f"{out}: filerna kunde inte flyttas dit ({exc.strerror or exc}); den tidigare "
                           "nämndrapporten är kvar. Stäng nämndrapporten om den är öppen och försök igen.") from exc
    journal.write_text(json.dumps({"out": str(out), "state": "klar", "new": names}), encoding="utf-8")
    return moved


def _roll_back(tmp: Path, out: Path) -> None:
    """Put the old pack back: new files that were moved in are removed, the old ones restored."""
    journal = json.loads((tmp / JOURNAL).read_text(encoding="utf-8"))
    old = tmp / "gammal"
    for name in journal.get("new", []):
        if not (tmp / "ny" / name).exists() and (out / name).exists():
            (out / name).unlink()  # it was moved in by the interrupted swap
    for saved in old.iterdir() if old.is_dir() else []:
        os.replace(saved, out / saved.name)
    journal["state"] = "återställd"
    (tmp / JOURNAL).write_text(json.dumps(journal), encoding="utf-8")


def _swapping(tmp: Path) -> bool:
    try:
        return json.loads((tmp / JOURNAL).read_text(encoding="utf-8")).get("state") == "byter"
    except (OSError, ValueError):
        return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


def recover_interrupted(out: Path) -> list[Path]:
    """Clean up after an export that was killed: roll back a half-done swap, remove its temporary folder.

    Folders of exports still running (their process is alive) are left alone.  Returns the folders removed.
    """
    removed = []
    for tmp in sorted(out.glob(f"{TMP_PREFIX}*")):
        pid_text = tmp.name[len(TMP_PREFIX):].split("-", 1)[0]
        if not tmp.is_dir() or (pid_text.isdigit() and int(pid_text) != os.getpid() and _alive(int(pid_text))):
            continue
        try:
            if _swapping(tmp):
                _roll_back(tmp, out)
        except (OSError, ValueError):
            pass  # a broken journal: nothing can be restored from it
        shutil.rmtree(tmp, ignore_errors=True)
        removed.append(tmp)
    return removed


def _file_mode() -> int:
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask
