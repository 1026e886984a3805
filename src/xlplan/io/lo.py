"""LibreOffice (``soffice --headless``) as a converter: recalculate a workbook, make a PDF.

Every call runs in its own temporary user profile (so parallel calls and a
running LibreOffice never lock each other out) with a time limit.  The
profile is set to recalculate formulas on load, so the cached values in a
converted ``.xlsx`` are LibreOffice's own results.  The result is written to
a temporary folder first and then moved into ``out_dir`` atomically.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

from xlplan.core.errors import XlplanError

__all__ = ["LibreOfficeFailed", "soffice_path", "convert", "convert_many", "recalc_xlsx", "recalc_many",
           "DEFAULT_TIMEOUT"]

DEFAULT_TIMEOUT = 180.0

_RECALC_ON_LOAD = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" \
xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">\
<value>0</value></prop></item>
</oor:items>
"""


class LibreOfficeFailed(XlplanError):
    """LibreOffice is missing, timed out, or did not produce the file."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path}: LibreOffice kunde inte konvertera filen: {reason}")


def soffice_path() -> str | None:
    """The LibreOffice executable (``$XLPLAN_SOFFICE``, ``soffice`` or ``libreoffice`` on PATH), or None."""
    configured = os.environ.get("XLPLAN_SOFFICE")
    if configured and Path(configured).is_file():
        return configured
    return shutil.which("soffice") or shutil.which("libreoffice")


def _profile(root: Path) -> str:
    user = root / "user"
    user.mkdir(parents=True)
    (user / "registrymodifications.xcu").write_text(_RECALC_ON_LOAD, encoding="utf-8")
    return root.as_uri()


def _run(cmd: list[str], timeout: float, path: Path) -> subprocess.CompletedProcess[str]:
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise LibreOfficeFailed(str(path), f"ingen färdig fil inom {timeout:g} sekunder") from None
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def convert(path: Path | str, fmt: str, out_dir: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """Convert ``path`` with LibreOffice to ``fmt`` (``pdf``, ``xlsx``, ``pdf:calc_pdf_Export`` …).

    Returns the new file in ``out_dir`` (named like the input, with the
    format's extension); an existing file there is replaced.  Raises
    :class:`LibreOfficeFailed` with the reason in Swedish.
    """
    return convert_many([path], fmt, out_dir, timeout=timeout)[0]


def convert_many(paths: Sequence[Path | str], fmt: str, out_dir: Path | str, *,
                 timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """Convert several files in one LibreOffice run (one start-up); results in the order given.

    All or nothing: if any file is not produced, :class:`LibreOfficeFailed`
    names the first one and no result is moved into ``out_dir``.
    """
    sources = [Path(p) for p in paths]
    if not sources:
        return []
    _check_sources(sources)
    exe = soffice_path()
    if exe is None:
        raise LibreOfficeFailed(str(sources[0]), "LibreOffice (soffice) är inte installerat")
    ext = fmt.split(":", 1)[0]
    target_dir = Path(out_dir)
    target_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlplan-lo-") as tmp:
        tmp_dir = Path(tmp)
        cmd = [exe, f"-env:UserInstallation={_profile(tmp_dir / 'profile')}", "--headless", "--norestore",
               "--nolockcheck", "--nodefault", "--convert-to", fmt, "--outdir", str(tmp_dir / "out"),
               *(str(src.resolve()) for src in sources)]
        result = _run(cmd, timeout, sources[0])
        produced = [tmp_dir / "out" / f"{src.stem}.{ext}" for src in sources]
        for src, made in zip(sources, produced):
            if not made.is_file():
                detail = (result.stderr or result.stdout or "").strip().splitlines()
                reason = detail[-1] if detail else f"avslutades med kod {result.returncode}"
                raise LibreOfficeFailed(str(src), f"ingen {ext}-fil skapades ({reason})")
        return [_move_into(made, target_dir) for made in produced]


def _check_sources(sources: list[Path]) -> None:
    stems: set[str] = set()
    for src in sources:
        if not src.is_file():
            raise LibreOfficeFailed(str(src), "filen finns inte")
        if src.stem in stems:
            raise LibreOfficeFailed(str(src), "två filer med samma namn kan inte konverteras i samma körning")
        stems.add(src.stem)


def _move_into(made: Path, target_dir: Path) -> Path:
    final = target_dir / made.name
    tmp_final = target_dir / f".{made.name}.xlplan-tmp"
    shutil.move(str(made), tmp_final)
    os.replace(tmp_final, final)
    return final


def recalc_xlsx(path: Path | str, out_dir: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> Path:
    """A copy of the workbook in ``out_dir`` with every formula recalculated by LibreOffice."""
    return convert(path, "xlsx:Calc MS Excel 2007 XML", out_dir, timeout=timeout)


def recalc_many(paths: Sequence[Path | str], out_dir: Path | str, *, timeout: float = DEFAULT_TIMEOUT) -> list[Path]:
    """Recalculated copies of several workbooks, in one LibreOffice run."""
    return convert_many(paths, "xlsx:Calc MS Excel 2007 XML", out_dir, timeout=timeout)
