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

import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from xml.sax.saxutils import escape

from xlplan.io import lo

__all__ = ["soffice_available", "PdfRun", "export_pdf", "toc_pages"]

_MACRO = r"""
Sub ExportPack
  On Error GoTo Failed
  ' LibreOffice starts while xlplan still builds the docx: wait for the go-ahead file
  files = createUnoService("com.sun.star.ucb.SimpleFileAccess")
  waited = 0
  Do While Not files.exists("{ready}")
    If waited > {wait_ms} Then
      WriteText("{error}", "docx-filen blev aldrig klar")
      Exit Sub
    End If
    Wait 20
    waited = waited + 20
  Loop
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
    uri = lo._profile(root)  # the converter's profile (recalculation settings), shared with xlplan.io.lo
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


class PdfRun:
    """One LibreOffice run, started before the docx exists (its start-up overlaps the building of the
    report): :meth:`go` once the docx is written, then :meth:`result`; :meth:`cancel` on failure.

    LibreOffice runs in its own temporary profile and process group, with a time limit.
    """

    def __init__(self, docx: Path, pdf: Path, *, timeout: float = lo.DEFAULT_TIMEOUT):
        exe = lo.soffice_path()
        if exe is None:
            raise lo.LibreOfficeFailed(str(docx), "LibreOffice (soffice) är inte installerat")
        self.docx, self.pdf, self.timeout = Path(docx), Path(pdf), timeout
        self.tmp = Path(tempfile.mkdtemp(prefix="xlplan-lo-"))
        self.made, self.toc, self.error = self.tmp / "out.pdf", self.tmp / "toc.txt", self.tmp / "fel.txt"
        self.ready = self.tmp / "klar"
        # file: URLs are percent-encoded, so they never hold a quote that could end the Basic string
        macro = _MACRO.format(docx=self.docx.resolve().as_uri(), pdf=self.made.as_uri(), toc=self.toc.as_uri(),
                              error=self.error.as_uri(), ready=self.ready.as_uri(), wait_ms=int(timeout * 1000))
        uri = _write_profile(self.tmp / "profile", macro)
        cmd = [exe, f"-env:UserInstallation={uri}", "--headless", "--norestore", "--nolockcheck",
               "macro:///Standard.Xlplan.ExportPack"]
        self.started = time.monotonic()
        try:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                         start_new_session=True)
        except OSError as exc:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise lo.LibreOfficeFailed(str(docx), f"LibreOffice kunde inte startas ({exc.strerror or exc})") from exc

    def go(self) -> None:
        """The docx is written: let LibreOffice open it."""
        self.ready.write_text("klar", encoding="utf-8")

    def result(self) -> list[str]:
        """Wait for the PDF; returns the contents' lines ("heading<TAB>page") as LibreOffice laid them out.

        Raises :class:`xlplan.io.lo.LibreOfficeFailed` (reason in Swedish) when no PDF is made in time.
        """
        try:
            remaining = max(self.timeout - (time.monotonic() - self.started), 0.1)
            try:
                _out, err = self.proc.communicate(timeout=remaining)
            except subprocess.TimeoutExpired:
                self._kill()
                raise lo.LibreOfficeFailed(str(self.docx), f"ingen färdig fil inom {self.timeout:g} sekunder") \
                    from None
            if not self.made.is_file():
                detail = self.error.read_text(encoding="utf-8", errors="replace") if self.error.is_file() else ""
                detail = detail or (err or "").strip() or f"avslutades med kod {self.proc.returncode}"
                raise lo.LibreOfficeFailed(str(self.docx), f"ingen pdf-fil skapades ({detail.splitlines()[-1]})")
            lines = self.toc.read_text(encoding="utf-8").splitlines() if self.toc.is_file() else []
            self.pdf.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(self.made), self.pdf)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
        return [line for line in lines if line.strip()]

    def cancel(self) -> None:
        """Stop LibreOffice (the report could not be built) and remove its profile."""
        self._kill()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def _kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                pass
        self.proc.communicate()


def export_pdf(docx: Path, pdf: Path, *, timeout: float = lo.DEFAULT_TIMEOUT) -> list[str]:
    """Write *pdf* from an existing *docx* in one LibreOffice run; returns the contents' lines."""
    run = PdfRun(docx, pdf, timeout=timeout)
    run.go()
    return run.result()


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
