"""``nämndrapport.pdf`` in one LibreOffice run, with the table of contents' page numbers.

LibreOffice does not update a Word TOC field when it merely converts, so the
report is opened by a small LibreOffice Basic macro (written into the run's
own temporary profile) that updates every index, writes the index texts
(heading, tab, page) to a file and exports a tagged PDF/A-2b with the
document's title — one start of LibreOffice per export.  The caller then puts
those page numbers into the docx's TOC result, so Word shows the same numbers
without asking to update fields.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Sequence
from xml.sax.saxutils import escape

from xlplan import lo

__all__ = ["soffice_available", "export_pdf", "toc_pages"]

_MACRO = r"""
Sub ExportPack
  On Error GoTo Failed
  Dim props(0) As New com.sun.star.beans.PropertyValue
  props(0).Name = "Hidden" : props(0).Value = True
  doc = StarDesktop.loadComponentFromURL("{docx}", "_blank", 0, props())
  indexes = doc.getDocumentIndexes()
  For i = 0 To indexes.getCount() - 1
    indexes.getByIndex(i).update()
  Next
  text = ""
  For i = 0 To indexes.getCount() - 1
    text = text & indexes.getByIndex(i).getAnchor().getString() & Chr(10)
  Next
  WriteText("{toc}", text)
  Dim fd(4) As New com.sun.star.beans.PropertyValue
  fd(0).Name = "UseTaggedPDF" : fd(0).Value = True
  fd(1).Name = "SelectPdfVersion" : fd(1).Value = 2
  fd(2).Name = "ExportBookmarks" : fd(2).Value = True
  fd(3).Name = "DisplayPDFDocumentTitle" : fd(3).Value = True
  fd(4).Name = "ExportFormFields" : fd(4).Value = False
  Dim ex(1) As New com.sun.star.beans.PropertyValue
  ex(0).Name = "FilterName" : ex(0).Value = "writer_pdf_Export"
  ex(1).Name = "FilterData" : ex(1).Value = fd()
  doc.storeToURL("{pdf}", ex())
  doc.close(True)
  Exit Sub
Failed:
  WriteText("{error}", "Fel " & Err & ": " & Error$ & " (rad " & Erl & ")")
  If Not IsNull(doc) And Not IsEmpty(doc) Then doc.close(True)
End Sub

Sub WriteText(url As String, text As String)
  sfa = createUnoService("com.sun.star.ucb.SimpleFileAccess")
  If sfa.exists(url) Then sfa.kill(url)
  stream = createUnoService("com.sun.star.io.TextOutputStream")
  stream.setOutputStream(sfa.openFileWrite(url))
  stream.setEncoding("UTF-8")
  stream.writeString(text)
  stream.closeOutput()
End Sub
"""

_LIBRARY = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:library PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "library.dtd">
<library:library xmlns:library="http://openoffice.org/2000/library" library:name="Standard" \
library:readonly="false" library:passwordprotected="false">{elements}</library:library>
"""
_LIBRARIES = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE library:libraries PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "libraries.dtd">
<library:libraries xmlns:library="http://openoffice.org/2000/library" xmlns:xlink="http://www.w3.org/1999/xlink">
 <library:library library:name="Standard" library:link="false"/>
</library:libraries>
"""
_MODULE = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE script:module PUBLIC "-//OpenOffice.org//DTD OfficeDocument 1.0//EN" "module.dtd">
<script:module xmlns:script="http://openoffice.org/2000/script" script:name="Xlplan" \
script:language="StarBasic">{code}</script:module>
"""
# A profile marked as installed: LibreOffice then does not copy its presets over our Basic library.
_INSTALLED = ('<item oor:path="/org.openoffice.Setup/Office"><prop oor:name="ooSetupInstCompleted" '
              'oor:op="fuse"><value>true</value></prop></item>\n</oor:items>')


def soffice_available() -> bool:
    return lo.soffice_path() is not None


def _write_profile(root: Path, macro: str) -> str:
    uri = lo._profile(root)  # the converter's profile (recalculation settings), shared with xlplan.lo
    user = root / "user"
    xcu = user / "registrymodifications.xcu"
    xcu.write_text(xcu.read_text(encoding="utf-8").replace("</oor:items>", _INSTALLED), encoding="utf-8")
    basic = user / "basic"
    (basic / "Standard").mkdir(parents=True)
    for name in ("script.xlc", "dialog.xlc"):
        (basic / name).write_text(_LIBRARIES, encoding="utf-8")
    (basic / "Standard" / "script.xlb").write_text(
        _LIBRARY.format(elements='<library:element library:name="Xlplan"/>'), encoding="utf-8")
    (basic / "Standard" / "dialog.xlb").write_text(_LIBRARY.format(elements=""), encoding="utf-8")
    (basic / "Standard" / "Xlplan.xba").write_text(_MODULE.format(code=escape(macro)), encoding="utf-8")
    return uri


def export_pdf(docx: Path, pdf: Path, *, timeout: float = lo.DEFAULT_TIMEOUT) -> list[str]:
    """Write *pdf* from *docx* in one LibreOffice run; returns the updated contents' lines.

    Each line is "heading<TAB>page" as LibreOffice laid the document out.  Raises
    :class:`xlplan.lo.LibreOfficeFailed` (reason in Swedish) when no PDF is made.
    """
    exe = lo.soffice_path()
    if exe is None:
        raise lo.LibreOfficeFailed(str(docx), "LibreOffice (soffice) är inte installerat")
    with tempfile.TemporaryDirectory(prefix="xlplan-lo-") as tmp_name:
        tmp = Path(tmp_name)
        made, toc, error = tmp / "out.pdf", tmp / "toc.txt", tmp / "fel.txt"
        # file: URLs are percent-encoded, so they never hold a quote that could end the Basic string
        macro = _MACRO.format(docx=Path(docx).resolve().as_uri(), pdf=made.as_uri(), toc=toc.as_uri(),
                              error=error.as_uri())
        uri = _write_profile(tmp / "profile", macro)
        cmd = [exe, f"-env:UserInstallation={uri}", "--headless", "--norestore", "--nolockcheck",
               "macro:///Standard.Xlplan.ExportPack"]
        result = lo._run(cmd, timeout, Path(docx))
        if not made.is_file():
            detail = error.read_text(encoding="utf-8", errors="replace") if error.is_file() else ""
            detail = detail or (result.stderr or "").strip() or f"avslutades med kod {result.returncode}"
            raise lo.LibreOfficeFailed(str(docx), f"ingen pdf-fil skapades ({detail.splitlines()[-1]})")
        lines = toc.read_text(encoding="utf-8").splitlines() if toc.is_file() else []
        pdf.parent.mkdir(parents=True, exist_ok=True)
        made.replace(pdf)
    return [line for line in lines if line.strip()]


def _norm(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split()).casefold()


def toc_pages(lines: Sequence[str], headings: Sequence[str]) -> list[int | None]:
    """The page of each heading, read from LibreOffice's contents lines (matched in order)."""
    entries: list[tuple[str, int | None]] = []
    for line in lines:
        text, _tab, page = line.rpartition("\t")
        entries.append((_norm(text), int(page) if page.strip().isdigit() else None))
    found: list[int | None] = []
    start = 0
    for heading in headings:
        want = _norm(heading)
        hit = next((i for i in range(start, len(entries)) if entries[i][0] == want), None)
        found.append(entries[hit][1] if hit is not None else None)
        if hit is not None:
            start = hit + 1
    return found
