"""Edit a department workbook in place with openpyxl: the one way flag, pull and the demo do it.

openpyxl keeps an .xlsm's VBA project (``keep_vba``) and the customUI part, but drops the
package relationship to the ribbon when it saves; :func:`save_edited` puts it back. The
write is atomic (temporary file, then rename).
"""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from pathlib import Path
from typing import Any

from xlplan.io.atomic import atomic_path


def is_xlsm(path: Path) -> bool:
    return Path(path).suffix.casefold() == ".xlsm"


def load_for_edit(path: Path) -> Any:
    """The workbook, opened to be changed and saved back (VBA and external links kept)."""
    from openpyxl import load_workbook

    return load_workbook(path, keep_vba=is_xlsm(path), keep_links=True)


def save_edited(wb: Any, path: Path) -> None:
    """Save *wb* over *path* atomically; for an .xlsm put back what openpyxl dropped.

    One pass: the package relationships (the ribbon's) are added while openpyxl
    writes them, instead of rewriting the saved file.
    """
    path = Path(path)
    kept = kept_relationships(wb, path) if is_xlsm(path) and path.exists() else []
    from xlplan.io.storedvalues import store_formula_values

    with atomic_path(path) as tmp:
        if not kept:
            wb.save(tmp)
            store_formula_values(tmp)  # openpyxl drops every stored formula result
            return
        from openpyxl.writer.excel import ExcelWriter

        wb.properties.modified = dt.datetime.now(tz=dt.UTC).replace(tzinfo=None)  # as Workbook.save
        with _RelationshipsKept(tmp, kept) as archive:
            ExcelWriter(wb, archive).write_data()
        with zipfile.ZipFile(tmp) as written:
            names = set(written.namelist())
        if any(r.target not in names for r in kept):  # openpyxl did not carry the part over
            wb.save(tmp)
            restore_package_relationships(path, tmp)
        store_formula_values(tmp)


def kept_relationships(wb: Any, original: Path) -> list[Any]:
    """Package relationships of *original* that openpyxl does not write but whose part it copies
    from the VBA archive (the ribbon's customUI)."""
    from xlplan.xlsm import parts

    archive = getattr(wb, "vba_archive", None)
    if archive is None:
        return []
    with zipfile.ZipFile(original) as zf:
        if "_rels/.rels" not in zf.namelist():
            return []
        old = parts.read_rels(zf.read("_rels/.rels"), "")
    copied = set(archive.namelist())
    return [r for r in old if r.type not in _OPENPYXL_ROOT_RELS and r.target in copied
            and r.target.startswith("customUI")]


_OPENPYXL_ROOT_RELS = frozenset({
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument",
    "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/extended-properties",
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/custom-properties",
})


class _RelationshipsKept(zipfile.ZipFile):
    """A zip being written by openpyxl that adds *kept* relationships to ``_rels/.rels``."""

    def __init__(self, file: Path, kept: list[Any]) -> None:
        super().__init__(file, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
        self.kept = kept

    def writestr(self, zinfo_or_arcname: Any, data: Any, *args: Any, **kwargs: Any) -> None:
        if zinfo_or_arcname == "_rels/.rels":
            from xlplan.xlsm import parts

            rels = data.encode("utf-8") if isinstance(data, str) else data
            for r in self.kept:
                rels, _ = parts.ensure_relationship(rels, "", r.type, r.target, r.id or "rIdXlplan")
            data = rels
        super().writestr(zinfo_or_arcname, data, *args, **kwargs)


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
