"""Time ``xlplan export`` of the demo committee workbooks against one LibreOffice conversion.

Usage (after ``xlplan demo --out DIR``)::

    .venv/bin/python benchmarks/export_pack.py DIR [--repeat 3]

For each committee workbook under ``DIR/namnd``: the export (docx + pdf + bilaga),
then the floor: one LibreOffice conversion of the finished ``nämndrapport.docx``.
Prints the best of *repeat* runs of each, side by side, measured in turns.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

from xlplan.export import DOCX_NAME, export
from xlplan.io import lo


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("demo", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    books = sorted((args.demo / "namnd").glob("*/Sammanst*.xlsx"))
    if not books:
        print(f"Inga sammanställningar under {args.demo / 'namnd'}; kör xlplan demo först.", file=sys.stderr)
        return 2
    print("| sammanställning | export | en LibreOffice-konvertering (golv) | export / golv | sidor |")
    print("|---|---:|---:|---:|---:|")
    for book in books:
        exports: list[float] = []
        floors: list[float] = []
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "pack"
            for _ in range(args.repeat):
                t0 = time.perf_counter()
                result = export(book, out)
                exports.append(time.perf_counter() - t0)
                t0 = time.perf_counter()
                lo.convert(out / DOCX_NAME, "pdf", Path(tmp) / "floor")
                floors.append(time.perf_counter() - t0)
            pages = _pages(result.pdf) if result.pdf else "–"
        e, f = min(exports), min(floors)
        print(f"| {book.parent.name} | {e:.2f} s | {f:.2f} s | {e / f:.2f}× | {pages} |")
    return 0


def _pages(pdf: Path) -> str:
    import subprocess

    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return next((line.split()[-1] for line in info.splitlines() if line.startswith("Pages:")), "?")


if __name__ == "__main__":
    raise SystemExit(main())
