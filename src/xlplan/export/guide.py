"""The user guide (*Användarguide*): ``docs/anvandarguide.md`` built into a PDF and opened by the button.

The guide's source is the Markdown file in ``docs/``. :func:`build_guide` turns it into a Word
document (python-docx: headings, paragraphs, lists, tables) and LibreOffice into the PDF
:data:`xlplan.core.naming.GUIDE_PDF`. ``xlplan build-workbook`` writes it beside the controller's
workbook (``workbook/`` in the repository, which the wheel ships as package data), so the
button finds it beside ``uppfoljning.xlsm`` and, in a department file saved anywhere, in the
installed package (:func:`shipped_guide`). :func:`find_guide` is the button's choice.
"""

from __future__ import annotations

import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from xlplan.core.naming import GUIDE_PDF

__all__ = ["GUIDE_SOURCE", "Block", "parse_markdown", "guide_source", "build_guide", "shipped_guide",
           "find_guide", "guide_headings", "write_guide", "copy_guide_beside"]

GUIDE_SOURCE = "anvandarguide.md"
BlockKind = Literal["heading", "paragraph", "bullets", "numbers", "table"]


@dataclass
class Block:
    kind: BlockKind
    text: str = ""
    level: int = 0
    items: list[str] = field(default_factory=list)
    rows: list[list[str]] = field(default_factory=list)  # a table: header row first


# ---------------------------------------------------------------- Markdown (the subset the guide uses)

_BULLET = re.compile(r"^\s*[-*]\s+(.*)$")
_NUMBER = re.compile(r"^\s*\d+\.\s+(.*)$")
_HEADING = re.compile(r"^(#{1,4})\s+(.*?)\s*#*\s*$")


def parse_markdown(text: str) -> list[Block]:
    """Headings, paragraphs, bullet and numbered lists (continued on indented lines) and pipe tables."""
    blocks: list[Block] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(Block("paragraph", " ".join(para)))
            para.clear()

    for line in text.splitlines():
        stripped = line.strip()
        heading = _HEADING.match(line)
        bullet, number = _BULLET.match(line), _NUMBER.match(line)
        if not stripped:
            flush()
        elif heading:
            flush()
            blocks.append(Block("heading", heading.group(2), level=len(heading.group(1))))
        elif stripped.startswith("|"):
            flush()
            cells = [c.strip() for c in stripped.strip("|").split("|")]
            if all(re.fullmatch(r":?-{2,}:?", c) for c in cells):
                continue  # the separator under the header
            if not blocks or blocks[-1].kind != "table":
                blocks.append(Block("table"))
            blocks[-1].rows.append(cells)
        elif bullet or number:
            flush()
            kind: BlockKind = "bullets" if bullet else "numbers"
            item = (bullet or number).group(1)  # type: ignore[union-attr]  # one of them matched
            if not blocks or blocks[-1].kind != kind:
                blocks.append(Block(kind))
            blocks[-1].items.append(item)
        elif line.startswith((" ", "\t")) and blocks and blocks[-1].kind in ("bullets", "numbers") and not para:
            blocks[-1].items[-1] += " " + stripped  # a list item continued
        else:
            para.append(stripped)
    flush()
    return blocks


_INLINE = re.compile(r"(\*\*[^*]+\*\*|\*[^*\s][^*]*\*|`[^`]+`|\[[^\]]+\]\([^)]+\))")


def inline_runs(text: str) -> list[tuple[str, str]]:
    """(style, text) runs of a line: ``bold``, ``italic``, ``code`` or ``plain``; a link keeps its text."""
    out: list[tuple[str, str]] = []
    for part in _INLINE.split(text):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**") and len(part) > 4:
            out.append(("bold", part[2:-2]))
        elif part.startswith("*") and part.endswith("*") and len(part) > 2:
            out.append(("italic", part[1:-1]))
        elif part.startswith("`") and part.endswith("`"):
            out.append(("code", part[1:-1]))
        elif part.startswith("[") and "](" in part:
            out.append(("plain", part[1:part.index("](")]))
        else:
            out.append(("plain", part))
    return out


def plain(text: str) -> str:
    return "".join(t for _, t in inline_runs(text))


# ---------------------------------------------------------------- Word and PDF

def guide_source() -> Path:
    """``docs/anvandarguide.md`` of the repository."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "docs" / GUIDE_SOURCE
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"docs/{GUIDE_SOURCE} hittades inte: användarguiden byggs från repositoriet.")


def guide_headings(source: Path | None = None) -> list[str]:
    """The headings of the guide, as the PDF shows them."""
    text = (source or guide_source()).read_text(encoding="utf-8")
    return [plain(b.text) for b in parse_markdown(text) if b.kind == "heading"]


def guide_docx(text: str, out: Path) -> Path:
    """The guide as a Word document (Swedish, A4)."""
    from docx import Document
    from docx.shared import Pt

    from xlplan.export.docx_parts import add_table, ensure_styles, set_language, text_width_cm

    doc = Document()
    ensure_styles(doc)
    set_language(doc, "sv-SE")
    doc.core_properties.title = "Användarguide – uppföljning i Excel (xlplan)"
    doc.core_properties.language = "sv-SE"
    for block in parse_markdown(text):
        if block.kind == "heading":
            doc.add_heading(plain(block.text), level=0 if block.level == 1 else min(block.level - 1, 3))
        elif block.kind == "paragraph":
            _runs(doc.add_paragraph(), block.text, Pt)
        elif block.kind in ("bullets", "numbers"):
            style = "List Bullet" if block.kind == "bullets" else "List Number"
            for item in block.items:
                _runs(doc.add_paragraph(style=style), item, Pt)
        elif block.rows:
            header, *rows = block.rows
            widths = column_widths([[plain(c) for c in r] for r in block.rows], text_width_cm(doc))
            add_table(doc, [plain(h) for h in header],
                      [[plain(r[c]) if c < len(r) else "" for c in range(len(header))] for r in rows], widths)
            doc.add_paragraph()
    doc.save(str(out))
    return out


def column_widths(rows: list[list[str]], total_cm: float) -> list[float]:
    """Column widths (cm) summing to *total_cm*: each wide enough for its longest word (no word broken),
    the rest shared by how much text the column holds."""
    n = max(len(r) for r in rows)
    cols = [[r[c] if c < len(r) else "" for r in rows] for c in range(n)]
    least = [0.4 + 0.21 * max((len(w) for text in col for w in text.split()), default=1) for col in cols]
    text = [min(max((len(t) for t in col), default=1), 60) for col in cols]
    spare = max(0.0, total_cm - sum(least))
    return [lo + spare * t / sum(text) for lo, t in zip(least, text)]


def _runs(paragraph: object, text: str, pt: type) -> None:
    for style, part in inline_runs(text):
        run = paragraph.add_run(part)  # type: ignore[attr-defined]  # a docx Paragraph
        run.bold = style == "bold" or None
        run.italic = style == "italic" or None
        if style == "code":
            run.font.name = "DejaVu Sans Mono"
            run.font.size = pt(9)


def build_guide(out_dir: str | Path, source: str | Path | None = None) -> Path:
    """Write :data:`GUIDE_PDF` into *out_dir* from the Markdown *source* (default ``docs/anvandarguide.md``).

    Needs LibreOffice (raises :class:`xlplan.io.lo.LibreOfficeFailed` without it).
    """
    from xlplan.io import lo

    text = Path(source or guide_source()).read_text(encoding="utf-8")
    with tempfile.TemporaryDirectory(prefix="xlplan-guide-") as tmp:
        docx = guide_docx(text, Path(tmp) / (Path(GUIDE_PDF).stem + ".docx"))
        return lo.convert(docx, "pdf:writer_pdf_Export", out_dir)


def shipped_guide() -> Path | None:
    """The PDF that comes with xlplan: beside ``workbook/uppfoljning.xlsm`` in the repository, or its copy
    in the installed package's data; None when neither exists."""
    here = Path(__file__).resolve()
    candidates = [here.parent / "data" / "workbook" / GUIDE_PDF]
    candidates += [parent / "workbook" / GUIDE_PDF for parent in here.parents]
    return next((c for c in candidates if c.is_file()), None)


def find_guide(folder: Path | None, configured: str = "") -> str | None:
    """What the *Användarguide* button opens: the configured path or web address (a relative path from
    *folder*), else :data:`GUIDE_PDF` in *folder*, else the shipped guide; None when there is none."""
    configured = configured.strip()
    if re.match(r"^[a-z][a-z0-9+.-]*://", configured, re.I):
        return configured
    if configured:
        path = Path(configured).expanduser()
        path = path if path.is_absolute() or folder is None else folder / path
        return str(path) if path.is_file() else None
    beside = folder / GUIDE_PDF if folder is not None else None
    if beside is not None and beside.is_file():
        return str(beside)
    shipped = shipped_guide()
    return str(shipped) if shipped is not None else None


def copy_guide_beside(workbook: Path) -> Path | None:
    """Copy the shipped guide beside *workbook* (when it is not there already); the copy, or None."""
    shipped = shipped_guide()
    target = workbook.parent / GUIDE_PDF
    if shipped is None or target.resolve() == shipped.resolve():
        return target if target.is_file() else None
    shutil.copyfile(shipped, target)
    return target


def write_guide(folder: Path) -> Path | None:
    """Put the guide PDF into *folder* (beside the controller's workbook): built from ``docs/`` when this is
    the repository and LibreOffice is installed, else copied from the package; None when neither can be."""
    from xlplan.io import lo

    try:
        source = guide_source()
    except FileNotFoundError:
        source = None
    if source is not None and lo.soffice_path() is not None:
        return build_guide(folder, source)
    return copy_guide_beside(folder / GUIDE_PDF)
