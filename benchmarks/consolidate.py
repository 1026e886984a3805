"""Benchmark: ``xlplan.actions.consolidate`` vs a naive openpyxl loop vs the calamine reading floor.

Generates N department workbooks (generation is not timed): a plan with N
units is built from the example plan (``templates/src/alingsas-von-2024.json``;
the tiny test plan when the examples are missing) — every indicator for every
unit, plus four activities, five budget items and two personnel figures per
unit.  One unit's workbook is filled with ``xlplan.actions.fill``, a few variants of it
get random inputs (outcomes, statuses, amounts, comments) with openpyxl, and
the N files are copies of the variants with the unit id patched in the XML.

Then, in the same run and on the same folder:

* **xlplan**: ``consolidate(folder, plan, period, out)`` — reading the plan,
  checking and reading every file, re-evaluating every status, writing the
  committee workbook;
* **naive**: open each file with openpyxl (``data_only=True``) and copy every
  cell of every sheet into one new workbook, saved once;
* **floor**: python-calamine merely reading every sheet of every file.
* **writer floor**: XlsxWriter merely writing the committee workbook's cells
  (every non-empty cell of the workbook xlplan wrote, read back first and not
  timed; one format, shared strings, then ``close``).  Floor + writer floor is
  the least any consolidation that reads with calamine and writes with
  XlsxWriter can take.

The xlplan column is broken down into reading and checking the files (until
the last file is read) and, measured separately after the run, writing the
committee workbook from the consolidated data (XlsxWriter).

Run: ``.venv/bin/python benchmarks/consolidate.py [--sizes 50,500] [--with-2000]``
(2000 files add about two minutes, mostly generation and the naive loop).
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
from python_calamine import CalamineWorkbook

from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.books.committee import write_committee_workbook
from xlplan.books.department.columns import (
    ACTIVITIES,
    ACTIVITY_STATES,
    ECONOMY,
    INDICATORS,
    OVERVIEW,
    SUBMISSION_ROW_ID,
)
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import write_plan_tables

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "templates" / "src" / "alingsas-von-2024.json"
PERIOD = "2024-delår"
TOKEN = "X0001"  # the unit id in the filled template; patched per copy (same length)
VARIANTS = 8
WORDS = ("Arbetet fortsätter enligt plan.", "Lägre utfall än väntat; analys pågår.",
         "Ny rutin infördes under våren.", "Personalomsättningen påverkade resultatet.")


# ---------------------------------------------------------------- generation (not timed)

def base_tables() -> dict[str, list[dict[str, Any]]]:
    if EXAMPLE.exists():
        return json.loads(EXAMPLE.read_text(encoding="utf-8"))
    sys.path.insert(0, str(REPO / "tests"))
    from conftest import TINY  # noqa: E402

    return copy.deepcopy(TINY)


def unit_id(i: int) -> str:
    return f"X{i:04d}"


def plan_tables(n: int) -> dict[str, list[dict[str, Any]]]:
    base = base_tables()
    year = int(next(r["Värde"] for r in base["Inställningar"] if r["Inställning"] == "Planår"))
    units = [unit_id(i) for i in range(1, n + 1)]
    t: dict[str, list[dict[str, Any]]] = {
        "Inställningar": base["Inställningar"], "Mål": base["Mål"],
        "Indikatorer": [{**r, "Avdelningar": None} for r in base["Indikatorer"]],
        "Internkontroll": [{**r, "Avdelnings-id": None} for r in base.get("Internkontroll", [])],
        "Avdelningar": [{"Avdelnings-id": u, "Avdelning": f"Enhet {u}"} for u in units],
        "Aktiviteter": [], "Ekonomi": [], "Personal": [],
    }
    goals = [g["Mål-id"] for g in base["Mål"]]
    items = ("Intäkter", "Personalkostnader", "Lokalhyror", "Köp av tjänster", "Övriga kostnader")
    for u in units:
        t["Aktiviteter"] += [{"Aktivitets-id": f"{u}-A{k}", "Avdelnings-id": u, "Mål-id": goals[k % len(goals)],
                              "Rubrik": "Uppdrag", "Aktivitet": f"Aktivitet {k} för enheten.",
                              "Klart senast": f"{year} kvartal {k}"} for k in range(1, 5)]
        t["Ekonomi"] += [{"Avdelnings-id": u, "Post": item, "År": year, "Budget (tkr)": (k + 1) * -1000}
                         for k, item in enumerate(items)]
        t["Personal"] += [{"Avdelnings-id": u, "Nyckeltal": "Sjukfrånvaro totalt", "Nuvärde": "8,5 %",
                           "Målvärde": "7 %"},
                          {"Avdelnings-id": u, "Nyckeltal": "Andel heltid", "Nuvärde": "70 %", "Målvärde": "80 %"}]
    return t


def variant(template: Path, out: Path, rng: random.Random) -> None:
    """A copy of the filled template with random inputs, typed like a user (openpyxl)."""
    book = read_department_workbook(template)
    wb = openpyxl.load_workbook(template)
    for sheet, key, value in inputs(book, rng):
        wb[sheet][book.address(sheet, *key)] = value
    wb.save(out)


def inputs(book: Any, rng: random.Random) -> list[tuple[str, tuple[str, str], Any]]:
    out: list[tuple[str, tuple[str, str], Any]] = []
    for row_id in book.sheets[INDICATORS].rows:
        out.append((INDICATORS, (row_id, "outcome"), round(rng.uniform(0, 100), 1)))
        out.append((INDICATORS, (row_id, "comment"), rng.choice(WORDS)))
    for row_id in book.sheets[ACTIVITIES].rows:
        out.append((ACTIVITIES, (row_id, "status"), rng.choice(ACTIVITY_STATES)))
    for row_id in book.sheets[ECONOMY].rows:
        if row_id.startswith("E|"):
            out.append((ECONOMY, (row_id, "actual"), rng.randint(-3000, 0)))
            out.append((ECONOMY, (row_id, "forecast"), rng.randint(-6000, 0)))
    out.append((OVERVIEW, (SUBMISSION_ROW_ID, "value"), "klar för granskning"))
    return out


def patched(data: bytes, unit: str) -> bytes:
    """The workbook *data* with the template's unit id replaced in every XML part."""
    import io

    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                body = body.replace(TOKEN.encode(), unit.encode())
            dst.writestr(info.filename, body)
    return buf.getvalue()


def generate(root: Path, n: int, seed: int = 7) -> tuple[Path, Path]:
    """Write the plan and N department workbooks under *root*; returns (plan, folder)."""
    rng = random.Random(seed)
    plan = root / "plan.xlsx"
    write_plan_tables(plan_tables(n), plan)
    (template,) = fill(plan, PERIOD, [TOKEN], root / "mall").written
    variants = []
    for k in range(VARIANTS):
        path = root / "mall" / f"variant{k}.xlsx"
        variant(template, path, rng)
        variants.append(path.read_bytes())
    folder = root / "avdelningar"
    folder.mkdir()
    for i in range(1, n + 1):
        u = unit_id(i)
        (folder / f"Enhet_{u}_{PERIOD}.xlsx").write_bytes(patched(variants[i % VARIANTS], u))
    return plan, folder


# ---------------------------------------------------------------- the three contenders (timed)

def run_xlplan(plan: Path, folder: Path, out: Path) -> tuple[float, float, int, float]:
    """(total seconds, seconds until every file was read and checked, units included,
    seconds to write the committee workbook alone, measured once more after the run)."""
    read_done: list[float] = []

    def progress(done: int, total: int, name: str) -> None:
        if done == total:
            read_done.append(time.perf_counter())

    start = time.perf_counter()
    result = consolidate(folder, plan, PERIOD, out, progress=progress)
    elapsed = time.perf_counter() - start
    again = out.with_name("skrivning.xlsx")
    t0 = time.perf_counter()
    write_committee_workbook(result.data, again)
    writing = time.perf_counter() - t0
    return elapsed, read_done[0] - start, len(result.included), writing


def run_naive(folder: Path, out: Path) -> tuple[float, int]:
    start = time.perf_counter()
    target = openpyxl.Workbook()
    target.remove(target.active)
    sheets: dict[str, Any] = {}
    files = sorted(folder.glob("*.xlsx"))
    for path in files:
        wb = openpyxl.load_workbook(path, data_only=True)
        for ws in wb.worksheets:
            dst = sheets.get(ws.title) or sheets.setdefault(ws.title, target.create_sheet(ws.title[:31]))
            for row in ws.iter_rows(values_only=True):
                dst.append([path.name, *row])
        wb.close()
    target.save(out)
    return time.perf_counter() - start, len(files)


def run_floor(folder: Path) -> tuple[float, int]:
    start = time.perf_counter()
    cells = 0
    for path in sorted(folder.glob("*.xlsx")):
        wb = CalamineWorkbook.from_path(str(path))
        for name in wb.sheet_names:
            cells += sum(len(r) for r in wb.get_sheet_by_name(name).to_python())
    return time.perf_counter() - start, cells


def committee_cells(path: Path) -> list[tuple[str, list[list[Any]]]]:
    """Every sheet of the workbook at *path* with its rows (calamine), to be written again by the writer floor."""
    wb = CalamineWorkbook.from_path(str(path))
    return [(name, wb.get_sheet_by_name(name).to_python()) for name in wb.sheet_names]


def run_writer_floor(sheets: list[tuple[str, list[list[Any]]]], out: Path) -> float:
    """Seconds for XlsxWriter alone to write *sheets* (non-empty cells, one format, shared strings)."""
    import xlsxwriter

    start = time.perf_counter()
    wb = xlsxwriter.Workbook(str(out))
    fmt = wb.add_format({"text_wrap": True})
    for name, rows in sheets:
        ws = wb.add_worksheet(name)
        for r, row in enumerate(rows):
            for c, v in enumerate(row):
                if isinstance(v, str):
                    if v:
                        ws.write_string(r, c, v, fmt)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v, fmt)
                elif v is not None:
                    ws.write_string(r, c, str(v), fmt)
    wb.close()
    return time.perf_counter() - start


def bench(n: int, keep: bool = False) -> dict[str, float]:
    root = Path(tempfile.mkdtemp(prefix=f"xlplan-bench-{n}-"))
    try:
        t0 = time.perf_counter()
        plan, folder = generate(root, n)
        gen = time.perf_counter() - t0
        floor, cells = run_floor(folder)
        xl, reading, included, writing = run_xlplan(plan, folder, root / "namnd.xlsx")
        writer_floor = run_writer_floor(committee_cells(root / "namnd.xlsx"), root / "skrivgolv.xlsx")
        naive, files = run_naive(folder, root / "naive.xlsx")
        if included != n or files != n:
            raise SystemExit(f"fel: {included} av {n} enheter kom med ({files} filer)")
        return {"n": n, "generate": gen, "xlplan": xl, "reading": reading, "naive": naive, "floor": floor,
                "cells": cells, "writing": writing, "writer_floor": writer_floor}
    finally:
        if not keep:
            shutil.rmtree(root, ignore_errors=True)


def report(row: dict[str, float]) -> str:
    n = row["n"]
    per = {k: row[k] / n * 1000 for k in ("xlplan", "naive", "floor")}
    return (f"{int(n):>6} | {row['xlplan']:8.2f} s | {row['naive']:8.2f} s | {row['floor']:7.2f} s | "
            f"{per['xlplan']:6.1f} / {per['naive']:6.1f} / {per['floor']:5.1f} ms | "
            f"{row['naive'] / row['xlplan']:5.1f}x | {row['xlplan'] / row['floor']:5.1f}x | "
            f"{row['reading']:6.2f} s | {row['writing']:6.2f} s | {row['writer_floor']:6.2f} s | "
            f"{(row['floor'] + row['writer_floor']) / row['floor']:4.1f}x | (generering {row['generate']:.0f} s)")


# ---------------------------------------------------------------- side by side: two versions and the floor

_CHILD_XLPLAN = """
import json, sys, time
from xlplan.actions.consolidate import consolidate
wall, cpu = time.perf_counter(), time.process_time()
result = consolidate(sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4])
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu,
                  "included": len(result.included)}))
"""
_CHILD_FLOOR = """
import json, sys, time
from pathlib import Path
from python_calamine import CalamineWorkbook
wall, cpu = time.perf_counter(), time.process_time()
for path in sorted(Path(sys.argv[1]).glob("*.xlsx")):
    wb = CalamineWorkbook.from_path(str(path))
    for name in wb.sheet_names:
        wb.get_sheet_by_name(name).to_python()
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""

_CHILD_WRITER_FLOOR = """
import json, sys, time
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from consolidate import committee_cells, run_writer_floor
sheets = committee_cells(Path(sys.argv[1]))
wall, cpu = time.perf_counter(), time.process_time()
run_writer_floor(sheets, Path(sys.argv[2]))
print(json.dumps({"wall": time.perf_counter() - wall, "cpu": time.process_time() - cpu}))
"""


def child(code: str, src: Path | None, *args: str) -> dict[str, float]:
    """*code* in a fresh interpreter (xlplan from *src*); its wall and CPU seconds (imports not counted)."""
    import os
    import subprocess

    env = dict(os.environ)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    run = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return json.loads(run.stdout.strip().splitlines()[-1])


def side_by_side(n: int, before: Path, rounds: int) -> None:
    """Consolidation by the code in *before* (a src folder) and by this checkout, and the calamine floor,
    each in a fresh interpreter, alternating, *rounds* times on the same generated folder."""
    root = Path(tempfile.mkdtemp(prefix=f"xlplan-bench-ab-{n}-"))
    try:
        plan, folder = generate(root, n)
        for r in range(1, rounds + 1):
            floor = child(_CHILD_FLOOR, None, str(folder))
            row = {"golv": floor}
            for label, src in (("före", before), ("efter", REPO / "src")):
                got = child(_CHILD_XLPLAN, src, str(folder), str(plan), PERIOD, str(root / f"namnd-{label}.xlsx"))
                if got["included"] != n:
                    raise SystemExit(f"fel: {got['included']} av {n} enheter kom med ({label})")
                row[label] = got
            writer = child(_CHILD_WRITER_FLOOR, None, str(root / "namnd-efter.xlsx"), str(root / "skrivgolv.xlsx"),
                           str(Path(__file__).resolve().parent))
            print(f"{n:>6} | omgång {r} | golv {floor['wall']:6.2f} s / {floor['cpu']:6.2f} s CPU | " + " | ".join(
                f"{label} {row[label]['wall']:6.2f} s / {row[label]['cpu']:6.2f} s CPU = "
                f"{row[label]['wall'] / floor['wall']:4.1f}× / {row[label]['cpu'] / floor['cpu']:4.1f}× golvet"
                for label in ("före", "efter")) + f" | skrivgolv {writer['wall']:6.2f} s / {writer['cpu']:6.2f} s CPU "
                f"(golv+skrivgolv = {(floor['cpu'] + writer['cpu']) / floor['cpu']:4.1f}× golvet, CPU)", flush=True)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="50,500", help="antal avdelningsfiler, kommaseparerat (standard 50,500)")
    ap.add_argument("--with-2000", action="store_true", help="lägg till 2000 filer (några minuter)")
    ap.add_argument("--before", type=Path, help="src-mappen med en äldre version: kör den och den här sida vid "
                    "sida med golvet, var och en i en ny tolk (vägg- och CPU-tid)")
    ap.add_argument("--rounds", type=int, default=2, help="omgångar för --before (standard 2)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    if args.with_2000 and 2000 not in sizes:
        sizes.append(2000)
    if args.before is not None:
        for n in sizes:
            side_by_side(n, args.before.resolve(), args.rounds)
        return
    print("     N |   xlplan   |   naiv     |  golv     | per arbetsbok xlplan/naiv/golv | naiv/xlplan | "
          "xlplan/golv | xlplan varav läsning+kontroll | skrivning av nämndens arbetsbok | skrivgolv (XlsxWriter) | "
          "(golv+skrivgolv)/golv")
    for n in sizes:
        print(report(bench(n)), flush=True)


if __name__ == "__main__":
    main()
