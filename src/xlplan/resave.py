"""Edit a department workbook in place with openpyxl: the one way flag, pull and the demo do it.

openpyxl keeps an .xlsm's VBA project (``keep_vba``) and the customUI part, but drops the
package relationship to the ribbon when it saves; :func:`save_edited` puts it back. The
write is atomic (temporary file, then rename).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path
from typing import Any

from xlplan.atomic import atomic_path


def is_xlsm(path: Path) -> bool:
    return Path(path).suffix.casefold() == ".xlsm"


def load_for_edit(path: Path) -> Any:
    """The workbook, opened to be changed and saved back (VBA and external links kept)."""
    from openpyxl import load_workbook

    return load_workbook(path, keep_vba=is_xlsm(path), keep_links=True)


def save_edited(wb: Any, path: Path) -> None:
    """Save *wb* over *path* atomically; for an .xlsm put back what openpyxl dropped."""
    path = Path(path)
    with atomic_path(path) as tmp:
        wb.save(tmp)
        if is_xlsm(path) and path.exists():
            restore_package_relationships(path, tmp)


def restore_package_relationships(original: Path, saved: Path) -> None:
    """Put back package-level relationships openpyxl dropped (the ribbon's customUI)."""
    from xlplan.xlsm import parts

    with zipfile.ZipFile(original) as zf:
        old_rels = parts.read_rels(zf.read("_rels/.rels"), "") if "_rels/.rels" in zf.namelist() else []
    with zipfile.ZipFile(saved) as zf:
        entries = {i.filename: zf.read(i) for i in zf.infolist()}
    rels = entries.get("_rels/.rels")
    have = {r.type for r in parts.read_rels(rels, "")}
    lost = [r for r in old_rels if r.type not in have and r.target in entries]
    if not lost:
        return
    for r in lost:
        rels, _ = parts.ensure_relationship(rels, "", r.type, r.target, r.id or "rIdXlplan")
    entries["_rels/.rels"] = rels or b""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as out:
        for name, data in entries.items():
            out.writestr(name, data)
    saved.write_bytes(buffer.getvalue())
