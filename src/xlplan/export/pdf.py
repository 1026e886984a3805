"""``nämndrapport.pdf`` via LibreOffice (:func:`xlplan.lo.convert`), with page numbers in the contents.

LibreOffice does not update a Word TOC field when it converts, so the report
is converted once, the page of each heading is read from the PDF's text
(``pdftotext``, poppler), the report is rebuilt with those page numbers in the
TOC's cached result, and converted again.  The TOC is still a real field:
Word updates it on opening (``updateFields``).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Callable, Sequence

from xlplan import lo

PDFTOTEXT_TIMEOUT = 60.0


def soffice_available() -> bool:
    return lo.soffice_path() is not None


def convert_to_pdf(docx: Path, out_dir: Path) -> Path:
    """The PDF of *docx* in *out_dir*; raises :class:`xlplan.lo.LibreOfficeFailed`."""
    return lo.convert(docx, "pdf", out_dir)


def page_texts(pdf: Path) -> list[str] | None:
    """The text of each page, or None when pdftotext is missing or fails."""
    exe = shutil.which("pdftotext")
    if exe is None:
        return None
    try:
        result = subprocess.run([exe, "-enc", "UTF-8", str(pdf), "-"], capture_output=True,
                                timeout=PDFTOTEXT_TIMEOUT, check=True)
    except (subprocess.SubprocessError, OSError):
        return None
    return result.stdout.decode("utf-8", errors="replace").split("\f")


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def _is_heading_line(line: str, heading: str) -> bool:
    """A line that is the heading, or its first part when the heading wraps."""
    line, heading = _norm(line), _norm(heading)
    return bool(line) and (line == heading or (len(line) >= 12 and heading.startswith(line)))


def heading_pages(pages: Sequence[str], headings: Sequence[str], first_page: int = 2) -> list[int | None]:
    """The 1-based page of each heading, found in order (a heading is a line of its own).

    Pages before *first_page* (the cover) are skipped; a contents line holds the
    page number too, so it never matches a heading line.
    """
    found: list[int | None] = []
    current = first_page - 1
    for heading in headings:
        page = next((i for i in range(current, len(pages))
                     if any(_is_heading_line(line, heading) for line in pages[i].splitlines())), None)
        found.append(page + 1 if page is not None else None)
        if page is not None:
            current = page
    return found


def pdf_with_page_numbers(docx: Path, headings: Sequence[str], rebuild: Callable[[list[int | None]], None],
                          out_dir: Path) -> tuple[Path, list[str]]:
    """Convert, read heading pages, rebuild the docx with them, convert again.

    *rebuild* rewrites *docx* in place with the given page numbers.  Returns the
    PDF and any warnings (Swedish).
    """
    first = convert_to_pdf(docx, out_dir / "pass1")
    texts = page_texts(first)
    if texts is None:
        return first, ["pdftotext (poppler-utils) saknas: innehållsförteckningen i PDF:en saknar sidnummer."]
    pages = heading_pages(texts, headings)
    rebuild(pages)
    final = convert_to_pdf(docx, out_dir / "pass2")
    missing = [h for h, p in zip(headings, pages) if p is None]
    warnings = [f"Sidnummer för rubriken '{h}' hittades inte i PDF:en." for h in missing]
    return final, warnings
