"""Benchmark: how long each button's Python side and each command takes, next to its floor.

Every case runs as a fresh interpreter (``sys.executable``), as a command or a button
does, N times; the rounds are interleaved (each round runs every case once) so that the
cases and their floors share the same machine load.  Reported per case: the median wall
time and the median CPU time (user + system of the child process; steadier than wall
time on a shared machine), and the ratio to the floor measured in the same rounds.

Floors:

* **tom tolk**: ``python -c pass``;
* **openpyxl 1 fil**: a fresh interpreter that loads one department workbook with
  openpyxl (``keep_vba=True``) and saves it — what any button that reads and writes
  the department file must at least do;
* **openpyxl alla filer**: the same for every department workbook (the floor of
  ``fill --all``, ``pull`` and ``flag`` on the folder);
* **calamine alla filer**: python-calamine reading every sheet of every file.

Cases (the 2024 example plan with the demo's local export, six departments, ``.xlsm``;
Kolada is the local stand-in):

* buttons, Python side without Excel (:data:`BUTTON_SIDE`): *Flagga avvikelser*,
  *Hämta värden* (the local export and Kolada) and *Kontrollera och lämna in* — what
  ``xlplan.excel.flag/pull/submit`` do in Python, with the values xlwings would read
  from the open book read from the file instead;
* the same on one file from the command line: ``xlplan flag FIL``, ``xlplan pull FIL``
  (these also write the file with openpyxl);
* commands: ``plan check``, ``fill --all`` (into a new folder each time), ``pull`` and
  ``flag`` on the folder.

``--scale`` adds fill and flag of plans with 6, 60 and 600 departments (every indicator
of the example for every department), in one process, printing the time per department.

Run: ``.venv/bin/python benchmarks/latency.py [--runs 5] [--scale] [--sizes 6,60,600]``
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAN_ID = "alingsas-von-2024"
PERIOD = "2024-delår"
PY = sys.executable


@dataclass
class Case:
    name: str
    argv: list[str]
    floor: str | None = None  # name of the floor case
    target: str = ""
    cwd: Path | None = None
    env: dict[str, str] = field(default_factory=dict)  # added to the environment ("{run}": the round)
    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def timed_run(case: Case, env: dict[str, str], argv: list[str] | None = None, run: int = 0) -> None:
    env = {**env, **{k: v.replace("{run}", str(run)) for k, v in case.env.items()}}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(argv or case.argv, cwd=case.cwd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{case.name} failed ({done.returncode}):\n{done.stderr[-2000:]}")
    case.walls.append(wall)
    case.cpus.append((after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime))


def xlplan(*args: str) -> list[str]:
    return [PY, "-c", "import sys; from xlplan.cli import main; sys.argv[0] = 'xlplan'; main()", *args]


def script(code: str) -> list[str]:
    return [PY, "-c", code]


# The Python side of a department button (xlplan.excel.flag/pull/submit) without Excel: the
# values xlwings would read from the open book are read from the file (openpyxl, read-only),
# then everything the button does in Python runs as in the button: the snapshot file, reading
# it, finding and reading the plan, the status formulas of the file, flagging (or pulling) and
# the writes and message it would hand to xlwings.
BUTTON_SIDE = """
import sys, types
from pathlib import Path
import xlplan.excel as x  # the macro's statement (xlwings' own import is measured apart)
from openpyxl import Workbook, load_workbook
from xlplan.books.department.reader import read_department_workbook

mode, path = sys.argv[1], Path(sys.argv[2])
source = load_workbook(path, read_only=True)
snap = Workbook()
snap.remove(snap.active)
for ws in source.worksheets:
    out = snap.create_sheet(ws.title)
    for r, row in enumerate(ws.iter_rows(values_only=True), start=1):
        for c, value in enumerate(row, start=1):
            if value is not None and value != "":
                cell = out.cell(r, c, value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"
source.close()
snap.save("{SCRATCH}/snapshot.xlsm")
dbook = read_department_workbook(Path("{SCRATCH}/snapshot.xlsm"))
book = types.SimpleNamespace(fullname=str(path), name=path.name)
choice = x.find_department_plan(book, dbook)
ctx = x.DepartmentContext(book, dbook, choice.plan, choice.path, choice.folder, choice.note)
if mode == "pull":
    result, url = x.pull_changes(ctx)
    x.pull_writes(result.changes)
    x._save_comparisons(ctx, result)
    x.pull_summary(result.changes, result.problems, url)
else:
    from xlplan.actions.flag import flag_list_rows
    report, formula_cells = x.flag_report(ctx)
    flag_list_rows(report)
    x.flag_summary(report)
    if mode == "submit":
        x.submission_blockers(dbook, report)
"""


# ---------------------------------------------------------------- set-up (not timed)


def prepare(root: Path, kolada_url: str) -> dict[str, Path]:
    """The demo's copy of the example plan (with its local export), filled for every department."""
    from xlplan.actions.fill import fill
    from xlplan.actions.pull import demo_plan_copy

    plan = demo_plan_copy(PLAN_ID, root)
    assert plan is not None, "the example plan is missing (templates/src)"
    deps = plan.parent / "Avdelningsfiler"
    fill(plan, PERIOD, None, deps, fmt="xlsm")
    files = sorted(deps.glob("*.xlsm"))
    one = files[0]
    return {"plan": plan, "deps": deps, "one": one, "scratch": root / "scratch"}


def cases(p: dict[str, Path], kolada_url: str) -> list[Case]:
    deps, one, plan, scratch = p["deps"], p["one"], p["plan"], p["scratch"]
    scratch.mkdir(exist_ok=True)
    load_save = ("import sys, glob, openpyxl\n"
                 "for i, f in enumerate(sys.argv[1:]):\n"
                 "    openpyxl.load_workbook(f, keep_vba=True).save(f'{SCRATCH}/floor-{i}.xlsm')\n")
    load_save = load_save.replace("{SCRATCH}", str(scratch))
    calamine = ("import sys\nfrom python_calamine import CalamineWorkbook\n"
                "for f in sys.argv[1:]:\n"
                "    wb = CalamineWorkbook.from_path(f)\n"
                "    [wb.get_sheet_by_name(n).to_python() for n in wb.sheet_names]\n")
    button = BUTTON_SIDE.replace("{SCRATCH}", str(scratch))
    all_files = [str(f) for f in sorted(deps.glob("*.xlsm"))]
    out = [
        Case("tom tolk", script("pass")),
        Case("openpyxl 1 fil", script(load_save) + [str(one)]),
        Case("openpyxl alla filer", script(load_save) + all_files),
        Case("calamine alla filer", script(calamine) + all_files),
        Case("import xlwings (bron i Excel)", script("import xlwings")),
        Case("knapp Flagga avvikelser", script(button) + ["flag", str(one)], "openpyxl 1 fil", "≤ 1,5× golvet"),
        Case("knapp Hämta värden", script(button) + ["pull", str(one)], "openpyxl 1 fil", "≤ 1,5× golvet"),
        Case("knapp Hämta värden, tom cache", script(button) + ["pull", str(one)], "openpyxl 1 fil", "≤ 1,5× golvet",
             env={"XLPLAN_CACHE_DIR": str(scratch / "cache-{run}")}),
        Case("knapp Kontrollera och lämna in", script(button) + ["submit", str(one)], "openpyxl 1 fil",
             "≤ 1,5× golvet"),
        Case("xlplan flag FIL", xlplan("flag", str(one)), "openpyxl 1 fil", "≤ 1,5× golvet"),
        Case("xlplan pull FIL", xlplan("pull", str(one), "--kolada-url", kolada_url), "openpyxl 1 fil",
             "≤ 1,5× golvet"),
        Case("plan check", xlplan("plan", "check", str(plan)), "tom tolk", "≤ 0,15 s"),
        Case("fill --all", xlplan("fill", str(plan), "--period", PERIOD, "--all", "--out", "{fill_out}"),
             "openpyxl alla filer", "≤ 1,5× golvet"),
        Case("pull (mappen)", xlplan("pull", str(deps), "--kolada-url", kolada_url), "openpyxl alla filer",
             "≤ 1,5× golvet"),
        Case("flag (mappen)", xlplan("flag", str(deps)), "openpyxl alla filer", "≤ 1,5× golvet"),
    ]
    return out


def with_before(all_cases: list[Case], before: Path) -> list[Case]:
    """Each measured case (one with a floor) followed by the same case run by the code in *before*."""
    out = []
    for c in all_cases:
        out.append(c)
        if c.floor is not None:
            out.append(Case(f"{c.name} (före)", c.argv, c.floor, c.target, c.cwd, {**c.env, "PYTHONPATH": str(before)}))
    return out


def run_rounds(all_cases: list[Case], runs: int, env: dict[str, str], scratch: Path) -> None:
    """One warm-up round (bytecode, disk cache; not counted), then *runs* counted rounds."""
    for r in range(-1, runs):
        for i, case in enumerate(all_cases):
            argv = [a.replace("{fill_out}", str(scratch / f"fill-{r + 1}-{i}")) for a in case.argv]
            timed_run(case, env, argv, r + 1)
            if r < 0:
                case.walls.clear()
                case.cpus.clear()
        print(f"  omgång {r + 1}/{runs} klar" if r >= 0 else "  uppvärmning klar", file=sys.stderr)


def sv(x: float, decimals: int = 2) -> str:
    """A number with a decimal comma, as in the rest of the documentation."""
    return f"{x:.{decimals}f}".replace(".", ",")


def report(all_cases: list[Case], runs: int) -> None:
    by_name = {c.name: c for c in all_cases}
    print(f"\nMedian av {runs} körningar i nya tolkar (vägg / CPU = användare + system):\n")
    print("| fall | vägg | CPU | golv | golv vägg | golv CPU | kvot vägg | kvot CPU | mål |")
    print("|---|---:|---:|---|---:|---:|---:|---:|---|")
    for c in all_cases:
        f = by_name.get(c.floor or "")
        if f is None:
            print(f"| {c.name} | {sv(c.wall)} s | {sv(c.cpu)} s | | | | | | |")
            continue
        print(f"| {c.name} | {sv(c.wall)} s | {sv(c.cpu)} s | {f.name} | {sv(f.wall)} s | {sv(f.cpu)} s | "
              f"{sv(c.wall / f.wall)}× | {sv(c.cpu / f.cpu)}× | {c.target} |")


# ---------------------------------------------------------------- scale


def scale(sizes: list[int], root: Path) -> None:
    """fill (xlsm) and flag for plans with N departments, in this process: time per department."""
    spec = importlib.util.spec_from_file_location("bench_consolidate", REPO / "benchmarks" / "consolidate.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    import openpyxl

    from xlplan.actions.fill import fill
    from xlplan.actions.flag import flag
    from xlplan.books.plan import write_plan_tables

    print("\nfill (xlsm) och flag i en process, tid per avdelning (vägg / CPU):\n")
    print("| avdelningar | fill | flag | openpyxl läs+spara | fill / golv (CPU) | flag / golv (CPU) |")
    print("|---:|---:|---:|---:|---:|---:|")
    rows: dict[int, tuple[float, float, float, float, float, float]] = {}
    for n in sizes:
        folder = root / f"scale-{n}"
        folder.mkdir()
        plan = folder / "plan.xlsx"
        write_plan_tables(gen.plan_tables(n), plan)
        out = folder / "Avdelningsfiler"
        w0, c0 = time.perf_counter(), time.process_time()
        fill(plan, PERIOD, None, out, fmt="xlsm")
        w1, c1 = time.perf_counter(), time.process_time()
        flag(out, plan)
        w2, c2 = time.perf_counter(), time.process_time()
        sample = sorted(out.glob("*.xlsm"))[:min(n, 20)]
        for f in sample:
            openpyxl.load_workbook(f, keep_vba=True).save(folder / "floor.xlsm")
        w3, c3 = time.perf_counter(), time.process_time()
        k = len(sample)
        row = ((w1 - w0) / n, (c1 - c0) / n, (w2 - w1) / n, (c2 - c1) / n, (w3 - w2) / k, (c3 - c2) / k)
        rows[n] = row
        print(f"| {n} | {row[0] * 1000:.0f} / {row[1] * 1000:.0f} ms | {row[2] * 1000:.0f} / {row[3] * 1000:.0f} ms"
              f" | {row[4] * 1000:.0f} / {row[5] * 1000:.0f} ms | {sv(row[1] / row[5])}× | {sv(row[3] / row[5])}× |",
              flush=True)
        shutil.rmtree(folder)
    if len(rows) > 1:
        ns = sorted(rows)
        for a, b in zip(ns, ns[1:]):
            print(f"\nPer avdelning vid {b} mot {a}: fill {sv(rows[b][1] / rows[a][1])}×, "
                  f"flag {sv(rows[b][3] / rows[a][3])}× (CPU; mål ≤ 1,3× från 60 till 600).")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scale", action="store_true", help="även fill och flag vid 6, 60 och 600 avdelningar")
    parser.add_argument("--sizes", default="6,60,600", help="storlekar för --scale, t.ex. 6,60")
    parser.add_argument("--only-scale", action="store_true", help="bara --scale")
    parser.add_argument("--before", type=Path, help="src-mappen med en äldre version: varje knapp och kommando "
                        "körs också med den, i samma omgångar ('… (före)')")
    args = parser.parse_args()

    from xlplan.kolada import KoladaStandin

    with tempfile.TemporaryDirectory(prefix="xlplan-latency-") as tmp:
        root = Path(tmp)
        # Bytecode is cached as in an installed package (in a folder of its own, nothing is written
        # in the repository); PYTHONDONTWRITEBYTECODE would compile every module on every run.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        env.update({"XLPLAN_CACHE_DIR": str(root / "cache"), "PYTHONPYCACHEPREFIX": str(root / "pycache"),
                    "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"), os.environ.get("PYTHONPATH")]))})
        if not args.only_scale:
            with KoladaStandin() as srv:
                env["XLPLAN_KOLADA_URL"] = srv.url  # the department buttons' Kolada address
                paths = prepare(root, srv.url)
                all_cases = cases(paths, srv.url)
                if args.before is not None:
                    all_cases = with_before(all_cases, args.before.resolve())
                run_rounds(all_cases, args.runs, env, paths["scratch"])
            report(all_cases, args.runs)
        if args.scale or args.only_scale:
            scale([int(s) for s in args.sizes.split(",")], root)


if __name__ == "__main__":
    main()
