"""One file never stops the others; files are written atomically, tidily and only when allowed.

A folder of department files with one odd file each time (open in Excel, read-only,
truncated, foreign, of a department removed from the plan, refused by the system on
rename as Windows does for an open file): flag, pull, fill --all --update and consolidate
name it and process the rest. Tests run as root, so read-only is set with chmod and xlplan
must check the mode bits itself; Windows' refusal is simulated by making os.replace raise.
"""

from __future__ import annotations

import copy
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from typer.testing import CliRunner

import xlplan.io.atomic as atomic
from excel_typing import type_cells
from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.flag import flag
from xlplan.actions.pull import pull
from xlplan.books.department.columns import INDICATORS
from xlplan.books.department.reader import read_department_workbook
from xlplan.cli import app
from xlplan.core.errors import WorkbookRefused
from xlplan.io.atomic import BACKUP_DIR, BACKUPS_KEPT, atomic_path, backups_of, clean_leftovers, write_bytes_atomic

PERIOD = "2024-helår"
NAMES = {"ALD": "Äldreomsorg", "LSS": "Funktionsstöd", "HEM": "Hemtjänst", "BEM": "Bemanning"}


@pytest.fixture(autouse=True)
def _umask_and_logs(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XLPLAN_LOG_DIR", str(tmp_path / "logs"))
    old = os.umask(0o022)
    yield
    os.umask(old)


@pytest.fixture
def tables(local_export_tables: dict[str, Any]) -> dict[str, Any]:
    t = local_export_tables
    t["Avdelningar"] += [{"Avdelnings-id": "HEM", "Avdelning": "Hemtjänst"},
                         {"Avdelnings-id": "BEM", "Avdelning": "Bemanning"}]
    return t


@pytest.fixture
def folder(tables: dict[str, Any], write_tables: Callable[..., Path], tmp_path: Path) -> tuple[Path, Path]:
    """(plan, folder of four department files); the plan and its export lie in the folder above."""
    plan = write_tables(tables, "plan.xlsx")
    (tmp_path / "sjuk.csv").write_text("Enhet;Period;Värde\n" + "".join(
        f"{d};{PERIOD};{7 + i},5\n" for i, d in enumerate(NAMES)), encoding="utf-8")
    out = tmp_path / "avd"
    fill(plan, PERIOD, None, out, generated_at="2026-01-01T00:00:00+00:00")
    return plan, out


def book(out: Path, dep: str) -> Path:
    return next(p for p in out.glob("*.xls[xm]") if f"_{NAMES[dep]}_" in p.name)


def digest(path: Path) -> bytes:
    return path.read_bytes()


def outcome(path: Path, row_id: str = "I|I3|") -> Any:
    return read_department_workbook(path).value(INDICATORS, row_id, "outcome")


def type_outcome(path: Path, value: Any, row_id: str = "I|I2|Äldre") -> None:
    cell = read_department_workbook(path).address(INDICATORS, row_id, "outcome")
    wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
    wb[INDICATORS][cell] = value
    wb.save(path)


def odd_files(out: Path, tmp_path: Path, tables: dict[str, Any], write_tables: Callable[..., Path]) -> dict[str, Path]:
    """Make one file of each odd kind; return them by kind (the HEM file stays normal)."""
    locked, readonly, gone = book(out, "ALD"), book(out, "LSS"), book(out, "BEM")
    (out / ("~$" + locked.name)).write_bytes(b"lock")
    readonly.chmod(0o444)
    truncated = out / "Trasig_2024-helår.xlsx"
    truncated.write_bytes(book(out, "HEM").read_bytes()[:3000])
    foreign = out / "Egen_lista.xlsx"
    openpyxl.Workbook().save(foreign)
    (out / "~$Stängd_för_länge_sedan.xlsx").write_bytes(b"stale lock without its file")
    return {"locked": locked, "readonly": readonly, "truncated": truncated, "foreign": foreign, "gone": gone}


def without_bem(tables: dict[str, Any], write_tables: Callable[..., Path]) -> Path:
    t = copy.deepcopy(tables)
    t["Avdelningar"] = [d for d in t["Avdelningar"] if d["Avdelnings-id"] != "BEM"]
    return write_tables(t, "plan.xlsx")


# ---------------------------------------------------------------- one file never stops the others


def test_flag_folder_names_each_odd_file_and_flags_the_rest(folder: tuple[Path, Path], tmp_path: Path,
                                                           tables: dict[str, Any],
                                                           write_tables: Callable[..., Path]) -> None:
    _, out = folder
    odd = odd_files(out, tmp_path, tables, write_tables)
    plan = without_bem(tables, write_tables)
    before = {k: digest(p) for k, p in odd.items() if p.suffix == ".xlsx" and k != "truncated"}
    res = CliRunner().invoke(app, ["flag", str(out), "--plan", str(plan)])
    assert res.exit_code == 1, res.output
    skipped = [line for line in res.output.splitlines() if line.startswith("Hoppades över: ")]
    named = {k for k, p in odd.items() if any(line.startswith(f"Hoppades över: {p.name}: ") for line in skipped)}
    assert named == {"locked", "readonly", "truncated", "gone"}, res.output
    assert "låsfilen ~$" in res.output and "skrivskyddad" in res.output and "Filen kan inte läsas" in res.output
    assert "Bemanning" in res.output or "'BEM' finns inte" in res.output
    assert f"{book(out, 'HEM').name}: " in res.output and "celler ändrade" in res.output
    assert {k: digest(odd[k]) for k in before} == before  # nothing written to the odd files
    assert f"{odd['foreign'].name}: Ingen avdelningsfil" in res.output  # noted, not an error


def test_pull_folder_names_each_odd_file_and_pulls_into_the_rest(folder: tuple[Path, Path], tmp_path: Path,
                                                                 tables: dict[str, Any],
                                                                 write_tables: Callable[..., Path]) -> None:
    _, out = folder
    odd = odd_files(out, tmp_path, tables, write_tables)
    plan = without_bem(tables, write_tables)
    before = {k: digest(p) for k, p in odd.items() if k != "truncated"}
    result = pull(out, plan)
    by_file = {p.file: p for p in result.problems if p.severity == "fel"}
    assert {odd[k].name for k in ("locked", "readonly", "truncated", "gone")} <= set(by_file), result.problems
    assert by_file[odd["gone"].name].code == "okand_avdelning"
    assert by_file[odd["readonly"].name].code == "avvisad" and "skrivskyddad" in by_file[odd["readonly"].name].message
    assert by_file[odd["truncated"].name].code == "olasbar"
    assert outcome(book(out, "HEM")) == 9.5
    assert {k: digest(odd[k]) for k in before} == before
    res = CliRunner().invoke(app, ["pull", str(out), "--plan", str(plan), "--offline",
                                   "--cache-dir", str(tmp_path / "cache")])
    assert res.exit_code == 1, res.output


def test_fill_all_update_refills_the_rest_past_odd_files(folder: tuple[Path, Path], tmp_path: Path) -> None:
    plan, out = folder
    locked, readonly, hem = book(out, "ALD"), book(out, "LSS"), book(out, "HEM")
    (out / ("~$" + locked.name)).write_bytes(b"lock")
    readonly.chmod(0o444)
    bem = book(out, "BEM")
    bem.write_bytes(bem.read_bytes()[:2000])  # truncated: its name is the department's file name
    type_outcome(hem, 42)
    before = {p: digest(p) for p in (locked, readonly, bem)}
    res = CliRunner().invoke(app, ["fill", str(plan), "--period", PERIOD, "--all", "--out", str(out), "--update",
                                   "--format", "xlsx"])
    assert res.exit_code == 1, res.output
    for path, words in ((locked, "låsfilen"), (readonly, "skrivskyddad"), (bem, "kan inte läsas")):
        (line,) = [ln for ln in res.output.splitlines() if ln.startswith(f"Skrevs inte: {path.name}: ")]
        assert words in line
    assert f"{hem.name} (uppdaterad)" in res.output
    assert outcome(hem, "I|I2|Äldre") == 42 and len(backups_of(hem)) == 1
    assert {p: digest(p) for p in before} == before


def _refuse_replace_onto(name_part: str, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Make os.replace refuse (as Windows does for a file open in Excel) onto files whose name has *name_part*."""
    real = os.replace
    refused: list[str] = []

    def replace(src: Any, dst: Any, *a: Any, **kw: Any) -> None:
        if name_part in Path(dst).name:
            refused.append(Path(dst).name)
            raise PermissionError(13, "The process cannot access the file because it is being used by another "
                                  "process", str(dst))
        real(src, dst, *a, **kw)

    monkeypatch.setattr(atomic.os, "replace", replace)
    return refused


def test_windows_refusal_on_rename_is_a_swedish_per_file_problem(folder: tuple[Path, Path],
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plan, out = folder
    lss, hem = book(out, "LSS"), book(out, "HEM")
    before = digest(lss)
    refused = _refuse_replace_onto("Funktionsstöd", monkeypatch)
    flagged = flag(out, plan)
    assert refused and digest(lss) == before
    (problem,) = flagged.problems
    assert problem.file == lss.name and "öppen i Excel eller skrivskyddad" in problem.message
    assert {o.path for o in flagged} == {book(out, d) for d in ("ALD", "HEM", "BEM")}
    pulled = pull(out, plan)
    assert [p.code for p in pulled.problems if p.file == lss.name] == ["skrivfel"]
    assert outcome(hem) == 9.5 and outcome(lss) is None
    filled = fill(plan, PERIOD, None, out, update=True)
    assert [p.file for p in filled.problems] == [lss.name] and len(filled.written) == 3
    assert not list(out.glob(".~xlplan-*")) and digest(lss) == before


def test_consolidate_open_committee_workbook_is_one_swedish_line(folder: tuple[Path, Path], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    plan, out = folder
    target = tmp_path / "nämnden.xlsx"
    args = ["consolidate", str(out), "--plan", str(plan), "--period", PERIOD, "--out", str(target)]
    assert CliRunner().invoke(app, args).exit_code in (0, 1)  # a committee workbook of the earlier run
    old = target.read_bytes()
    _refuse_replace_onto("nämnden", monkeypatch)
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "nämnden.xlsx: filen kunde inte ersättas" in res.stderr and target.read_bytes() == old


def test_consolidate_broken_copy_never_pushes_out_the_valid_file(folder: tuple[Path, Path]) -> None:
    plan, out = folder
    ald = book(out, "ALD")
    type_outcome(ald, 93, "I|I1|")
    copy_path = out / "Kopia av äldreomsorg.xlsx"
    wb = openpyxl.load_workbook(ald)
    del wb[INDICATORS]
    wb.save(copy_path)
    result = consolidate(out, plan, PERIOD, out.parent / "nämnden.xlsx")
    assert "ALD" in result.included
    (bad,) = [p for p in result.problems if p.code == "skadad_kopia"]
    assert bad.file == copy_path.name and ald.name in bad.message
    assert not [p for p in result.problems if p.code == "konflikt"]
    line = next(i for i in result.data.indicators if i.department_id == "ALD" and i.indicator_id == "I1")
    assert line.outcome == 93


# ---------------------------------------------------------------- atomic and tidy


def test_files_keep_their_mode_and_new_files_follow_the_umask(tmp_path: Path) -> None:
    new = tmp_path / "ny.json"
    write_bytes_atomic(new, b"1")
    assert stat.S_IMODE(new.stat().st_mode) == 0o644
    new.chmod(0o660)
    write_bytes_atomic(new, b"2")
    assert stat.S_IMODE(new.stat().st_mode) == 0o660 and new.read_bytes() == b"2"


def test_read_only_and_open_files_are_refused_before_writing(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"orig")
    path.chmod(0o444)
    with pytest.raises(WorkbookRefused, match="skrivskyddad"):
        write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"orig"  # root could have written it: the mode bits decide
    path.chmod(0o644)
    (tmp_path / ".~lock.a.xlsx#").write_text("LibreOffice")
    with pytest.raises(WorkbookRefused, match="öppen"):
        write_bytes_atomic(path, b"new")
    assert path.read_bytes() == b"orig" and not list(tmp_path.glob(".~xlplan-*"))


def test_leftovers_of_an_interrupted_run_are_cleaned_at_the_next_run(tmp_path: Path) -> None:
    dead = tmp_path / ".~xlplan-999999999-abc.xlsm"  # no such process
    dead.write_bytes(b"half")
    alive = tmp_path / f".~xlplan-{os.getppid()}-def.xlsm"  # a running process: maybe another xlplan
    alive.write_bytes(b"busy")
    old = tmp_path / ".~xlplan-ghi.xlsm"  # the older naming, without a process id
    old.write_bytes(b"old")
    os.utime(old, (1, 1))
    fresh = tmp_path / ".~xlplan-jkl.xlsm"
    fresh.write_bytes(b"new")
    write_bytes_atomic(tmp_path / "x.json", b"{}")
    assert not dead.exists() and not old.exists() and alive.exists() and fresh.exists()
    assert clean_leftovers(tmp_path) == []


def test_interrupted_write_leaves_no_temp_and_the_target_untouched(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_bytes(b"orig")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_bytes(b"half")
            raise RuntimeError("killed")
    assert target.read_bytes() == b"orig" and [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_backups_go_to_one_hidden_folder_and_keep_the_last_five(tmp_path: Path) -> None:
    target = tmp_path / "Avd_2024-delår.xlsm"
    for i in range(BACKUPS_KEPT + 3):
        write_bytes_atomic(target, str(i).encode(), backup=True)
    kept = backups_of(target)
    assert len(kept) == BACKUPS_KEPT and all(p.parent.name == BACKUP_DIR for p in kept)
    assert [p.read_bytes() for p in kept] == [str(i).encode() for i in range(2, BACKUPS_KEPT + 2)]
    assert all(p.suffix == ".xlsm" for p in kept) and not list(tmp_path.glob("*.bak"))
    assert sorted(p.name for p in tmp_path.iterdir()) == [BACKUP_DIR, target.name]


def test_consolidate_ignores_the_backup_folder_and_old_bak_files(folder: tuple[Path, Path]) -> None:
    plan, out = folder
    fill(plan, PERIOD, None, out, update=True)
    ald = book(out, "ALD")
    (out / (ald.name + ".bak")).write_bytes(ald.read_bytes())
    result = consolidate(out, plan, PERIOD, out.parent / "nämnden.xlsx")
    notes = {p.file: p.code for p in result.problems if p.code == "sakerhetskopia"}
    assert notes == {BACKUP_DIR: "sakerhetskopia", ald.name + ".bak": "sakerhetskopia"}
    assert len(result.included) == 4 and not [p for p in result.problems if p.code == "konflikt"]


# ---------------------------------------------------------------- a department file found by its metadata


def test_renamed_department_is_refilled_in_place(folder: tuple[Path, Path], tables: dict[str, Any],
                                                 write_tables: Callable[..., Path]) -> None:
    plan, out = folder
    old = book(out, "HEM")
    type_outcome(old, 77)
    t = copy.deepcopy(tables)
    next(d for d in t["Avdelningar"] if d["Avdelnings-id"] == "HEM")["Avdelning"] = "Hemtjänst och larm"
    renamed_plan = write_tables(t, "plan.xlsx")
    result = fill(renamed_plan, PERIOD, None, out, update=True)
    new = next(p for p in out.glob("*Hemtjänst_och_larm*"))
    assert not old.exists() and [p.name for p in (out / BACKUP_DIR).glob("*Hemtjänst_2024*")]
    assert outcome(new, "I|I2|Äldre") == 77
    assert any(f"Ersätter {old.name}" in line for line in result.lines())
    assert len(list(out.glob("*.xlsx"))) == 4


def test_file_saved_as_xlsx_is_refilled_as_xlsm_keeping_typed_values(tables: dict[str, Any],
                                                                    write_tables: Callable[..., Path],
                                                                    tmp_path: Path) -> None:
    plan = write_tables(tables, "plan.xlsx")
    out = tmp_path / "xlsm"
    fill(plan, PERIOD, ["HEM"], out, fmt="xlsm")
    xlsm = next(out.glob("*.xlsm"))
    type_outcome(xlsm, 55)
    saved_as = xlsm.with_suffix(".xlsx")  # Excel "Spara som" .xlsx: the macros go, the values stay
    wb = openpyxl.load_workbook(xlsm)
    wb.save(saved_as)
    xlsm.unlink()
    res = CliRunner().invoke(app, ["fill", str(plan), "--period", PERIOD, "--department", "HEM", "--out", str(out),
                                   "--update"])
    assert res.exit_code == 0, res.output
    assert xlsm.exists() and not saved_as.exists() and outcome(xlsm, "I|I2|Äldre") == 55
    assert f"Ersätter {saved_as.name}" in res.output
    assert [p.suffix for p in (out / BACKUP_DIR).iterdir()] == [".xlsx"]


def test_two_files_for_one_department_are_a_conflict_naming_both(folder: tuple[Path, Path]) -> None:
    plan, out = folder
    hem = book(out, "HEM")
    twin = out / "Hemtjänst (2).xlsx"
    twin.write_bytes(hem.read_bytes())
    type_outcome(twin, 12)
    before = {p: digest(p) for p in (hem, twin)}
    result = fill(plan, PERIOD, None, out, update=True)
    (problem,) = result.problems
    assert hem.name in problem.message and twin.name in problem.message and "Två filer" in problem.message
    assert {p: digest(p) for p in before} == before and len(result.written) == 3


def test_refill_after_a_deleted_column_says_what_to_do_not_the_same_command(folder: tuple[Path, Path]) -> None:
    plan, out = folder
    hem = book(out, "HEM")
    cell = read_department_workbook(hem).address(INDICATORS, "I|I2|Äldre", "outcome")
    wb = openpyxl.load_workbook(hem)
    wb[INDICATORS].delete_cols(openpyxl.utils.column_index_from_string(cell.rstrip("0123456789")))
    wb.save(hem)
    result = fill(plan, PERIOD, None, out, update=True)
    (problem,) = [p for p in result.problems if p.file == hem.name]
    assert "Kolumnen 'Utfall" in problem.message and "fill --update" not in problem.message
    assert "lägg tillbaka kolumnen" in problem.message and BACKUP_DIR in problem.message


def test_refill_names_the_file_of_a_department_removed_from_the_plan(folder: tuple[Path, Path],
                                                                     tables: dict[str, Any],
                                                                     write_tables: Callable[..., Path]) -> None:
    _, out = folder
    bem = book(out, "BEM")
    before = digest(bem)
    result = fill(without_bem(tables, write_tables), PERIOD, None, out, update=True)
    (problem,) = result.problems
    assert problem.file == bem.name and "'BEM' finns inte längre i planen" in problem.message
    assert problem.severity == "varning" and digest(bem) == before and len(result.written) == 3


def test_a_killed_run_leaves_a_temp_file_the_next_run_removes(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys

    target = tmp_path / "Avd_2024-delår.xlsm"
    target.write_bytes(b"orig")
    code = ("import sys, time; from xlplan.io.atomic import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_bytes(b'half'); print(tmp, flush=True); time.sleep(60)\n")
    env = dict(os.environ, PYTHONPATH=str(Path(atomic.__file__).parents[2]))
    with subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE, text=True,
                          env=env) as proc:
        assert proc.stdout is not None
        leftover = Path(proc.stdout.readline().strip())
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert leftover.exists() and leftover.name.startswith(f".~xlplan-{proc.pid}-") and target.read_bytes() == b"orig"
    write_bytes_atomic(tmp_path / "other.json", b"{}")  # the next run in that folder
    assert not leftover.exists() and target.read_bytes() == b"orig"


def test_consolidate_exit_code_says_a_file_was_left_out(folder: tuple[Path, Path], tmp_path: Path) -> None:
    plan, out = folder
    args = ["consolidate", str(out), "--plan", str(plan), "--period", PERIOD, "--out", str(tmp_path / "n.xlsx")]
    openpyxl.Workbook().save(out / "Egen_lista.xlsx")  # a foreign workbook is noted, not a failure
    assert CliRunner().invoke(app, args).exit_code == 0
    truncated = out / "Trasig.xlsx"
    truncated.write_bytes(book(out, "HEM").read_bytes()[:3000])
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 1 and "Trasig.xlsx" in res.output


# ---------------------------------------------------------------- random cycles

CYCLE_ROWS = ("I|I2|Äldre", "I|I2|Funktionsstöd", "I|I3|")  # every department has them; I2's two rows adjacent


@dataclass
class Typed:
    """What a person typed into one cell: a value, or a formula and what Excel computes for it."""

    value: Any = None  # a typed number or text; for a formula of plain arithmetic, its value
    formula: str | None = None  # '=10.5+3.2', '=M7+3' (another typed Utfall), '=I7/100+2' (Nulägesår)
    refers: tuple[str, str] | None = None  # (Rad-id, key) of the typed cell a formula adds *plus* to
    plus: float = 0.0
    year: bool = False  # the formula is Nulägesår/100 + plus
    group: int | None = None  # cells of one formula filled down, which Excel stores as one shared formula


@dataclass
class Person:
    """Types into the department files of *out* as a person in Excel (the sheet XML Excel writes, with each
    formula's computed value) or with another tool (openpyxl: formulas without values); remembers it all."""

    rng: Any
    out: Path
    paths: dict[str, Path] = field(default_factory=dict)
    cells: dict[str, dict[tuple[str, str], str]] = field(default_factory=dict)  # dep -> (Rad-id, key) -> A1
    year_col: dict[str, str] = field(default_factory=dict)  # dep -> column letter of Nulägesår
    typed: dict[str, dict[tuple[str, str], Typed]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("värden", "formler", "delade formler", "i Excel", "med annat verktyg", "kontroller", "värden behållna",
         "formler behållna", "förlorade"), 0))
    groups: int = 0

    def find_files(self) -> None:
        from xlplan.actions.flag import scan_department_workbooks

        metas, problems = scan_department_workbooks(self.out)
        assert not [p for p in problems if p.severity == "fel"], problems
        by_dep: dict[str, list[Path]] = {}
        for path, meta in metas.items():
            by_dep.setdefault(meta["department_id"], []).append(path)
        assert all(len(v) == 1 for v in by_dep.values()), by_dep
        self.paths = {d: v[0] for d, v in by_dep.items()}
        for dep, path in self.paths.items():
            if dep not in self.cells:
                book = read_department_workbook(path)
                self.cells[dep] = {(r, k): str(book.address(INDICATORS, r, k)) for r in CYCLE_ROWS
                                   for k in ("outcome", "comment", "baseline_year")}
                self.year_col[dep] = self.cells[dep][(CYCLE_ROWS[0], "baseline_year")].rstrip("0123456789")
                self.typed[dep] = {}

    def expected(self, dep: str, t: Typed) -> Any:
        """The value Excel shows for *t* (an empty cell counts 0, as in Excel)."""
        if t.formula is None or (t.refers is None and not t.year):
            return t.value
        if t.year:
            return 2023 / 100 + t.plus
        assert t.refers is not None
        target = self.typed[dep].get(t.refers)
        return (self.expected(dep, target) if target is not None else 0) + t.plus

    def forget_groups(self, dep: str) -> None:
        """A file saved by another tool (or refilled) holds each cell's own formula, no shared ones."""
        for t in self.typed[dep].values():
            t.group = None

    def new_entry(self, dep: str, cycle: int) -> dict[tuple[str, str], Typed]:
        rng, typed, n = self.rng, self.typed[dep], len(self.typed[dep])
        row = rng.choice(CYCLE_ROWS)
        r = rng.random()
        if r < 0.3:
            self.counts["värden"] += 1
            return {(row, "outcome"): Typed(round(rng.uniform(1, 60), 1))}
        if r < 0.42:
            self.counts["värden"] += 1
            return {(row, "comment"): Typed(f"Kommentar {cycle}.{n} {rng.choice(['ökar', '=inte formel', 'ok'])}")}
        self.counts["formler"] += 1
        a, b, plus = round(rng.uniform(1, 30), 1), round(rng.uniform(1, 30), 1), float(rng.randint(1, 9))
        if r < 0.62:
            op = rng.choice("+-*")
            value = a + b if op == "+" else a - b if op == "-" else a * b
            return {(row, "outcome"): Typed(value, f"={a}{op}{b}")}
        number = int(self.cells[dep][(row, "outcome")].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
        targets = [k for k, t in typed.items() if k[1] == "outcome" and k[0] != row and t.formula is None]
        if r < 0.8 and targets:  # a reference to another typed Utfall cell
            target = rng.choice(sorted(targets))
            return {(row, "outcome"): Typed(None, f"={self.cells[dep][target]}+{plus:g}", refers=target, plus=plus)}
        if r < 0.9:
            return {(row, "outcome"): Typed(None, f"={self.year_col[dep]}{number}/100+{plus:g}", year=True,
                                            plus=plus)}
        self.counts["delade formler"] += 1  # filled down over the two I2 rows
        self.groups += 1
        out = {}
        for i, rid in enumerate(CYCLE_ROWS[:2]):
            at = int(self.cells[dep][(rid, "outcome")].lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
            if r < 0.95:
                out[(rid, "outcome")] = Typed(None, f"={self.year_col[dep]}{at}/100+{plus:g}", year=True, plus=plus,
                                              group=self.groups)
            else:
                out[(rid, "outcome")] = Typed(a + b, f"={a}+{b}", group=self.groups)
            self.counts["formler"] += i  # the second cell is a formula too
        return out

    def type(self, dep: str, cycle: int) -> None:
        entries = self.new_entry(dep, cycle)
        typed = self.typed[dep]
        for key in entries:  # typing into a cell of a filled-down formula ends the sharing
            old = typed.get(key)
            if old is not None and old.group is not None:
                for t in typed.values():
                    t.group = None if t.group == old.group else t.group
        typed.update(entries)
        path = self.paths[dep]
        if self.rng.random() < 0.8:
            self.counts["i Excel"] += 1
            type_cells(path, INDICATORS, self.as_excel_stores(dep))  # Excel recomputes and stores every formula
            return
        self.counts["med annat verktyg"] += 1
        wb = openpyxl.load_workbook(path, keep_vba=path.suffix == ".xlsm")
        for key, t in entries.items():
            wb[INDICATORS][self.cells[dep][key]] = t.formula or t.value
        wb.save(path)
        self.forget_groups(dep)

    def as_excel_stores(self, dep: str) -> list[tuple[str, Any]]:
        cells: list[tuple[str, Any]] = []
        masters: dict[int, str] = {}
        spans: dict[int, list[str]] = {}
        for key, t in self.typed[dep].items():
            if t.group is not None:
                spans.setdefault(t.group, []).append(self.cells[dep][key])
        for key, t in sorted(self.typed[dep].items(), key=lambda kv: int(self.cells[dep][kv[0]].lstrip(
                "ABCDEFGHIJKLMNOPQRSTUVWXYZ"))):
            cell, value = self.cells[dep][key], self.expected(dep, t)
            if t.formula is None:
                cells.append((cell, t.value))
            elif t.group is None or len(spans[t.group]) == 1:
                cells.append((cell, ("f", t.formula[1:], value)))
            elif t.group not in masters:
                masters[t.group] = cell
                cells.append((cell, ("shared", t.formula[1:], value, f"{cell}:{spans[t.group][-1]}", t.group)))
            else:
                cells.append((cell, ("shares", t.group, value)))
        return cells

    def lost(self, dep: str) -> list[str]:
        """What of the typed cells of *dep* is not in its file as typed (empty: nothing lost)."""
        book = read_department_workbook(self.paths[dep])
        self.counts["kontroller"] += 1
        waiting = {p.cell for p in book.problems if p.code == "formel_raknas_i_excel"}
        out = []
        for (rid, key), t in self.typed[dep].items():
            row = book.row(INDICATORS, rid)
            assert row is not None
            cell, got, formula = row.cells[key], row.values.get(key), row.formulas.get(key)
            want = self.expected(dep, t)
            if t.formula is None:
                ok = formula is None and (got == want if key == "comment" else got is not None and
                                          abs(got - want) < 1e-9)
            else:  # the formula; its value stored or computed, or named 'räknas om i Excel' (never another)
                computed = t.refers is None and not t.year
                ok = formula == t.formula and (
                    (isinstance(got, float) and abs(got - want) < 1e-9)
                    or (not computed and got is None and cell in waiting))
            self.counts["förlorade" if not ok else "värden behållna" if t.formula is None else "formler behållna"] += 1
            if not ok:
                out.append(f"{self.paths[dep].name} {rid} {key} {cell}: skrevs {t.formula or t.value!r}, "
                           f"läses {formula or got!r}")
        return out

    def summary(self) -> str:
        kept = sum(len(v) for v in self.typed.values())
        formulas = sum(1 for v in self.typed.values() for t in v.values() if t.formula)
        return (f"inmatat: {self.counts['värden']} värden, {self.counts['formler']} formler (varav "
                f"{self.counts['delade formler']} ifyllda nedåt); {self.counts['i Excel']} gånger i Excel, "
                f"{self.counts['med annat verktyg']} med annat verktyg; {self.counts['kontroller']} filer kontrollerade: "
                f"{self.counts['värden behållna']} värden och {self.counts['formler behållna']} formler behållna, "
                f"{self.counts['förlorade']} förlorade; i filerna nu: {kept - formulas} värden och {formulas} formler")


@pytest.mark.parametrize("cycles", [pytest.param(int(os.environ.get("XLPLAN_CYCLES", "10")), id="kort"),
                                    pytest.param(int(os.environ.get("XLPLAN_LONG_CYCLES", "1000")), id="lang",
                                                 marks=pytest.mark.slow)])
def test_random_cycles_of_typing_renames_resaves_refill_pull_and_flag_lose_nothing(
        tables: dict[str, Any], write_tables: Callable[..., Path], tmp_path: Path, cycles: int) -> None:
    """Seeded random cycles: a person types values and formulas (plain arithmetic, references to other
    typed cells and to Nulägesår, formulas filled down that Excel stores as one shared formula), in Excel or
    another tool; departments are renamed, files re-saved as .xlsx; each cycle refills, pulls or flags one
    file or the folder. Every typed value and formula is still in the department's one file, as typed,
    with its value (10 cycles in ``make test``, 1,000 in ``make test-all``; ``XLPLAN_CYCLES`` /
    ``XLPLAN_LONG_CYCLES`` set the counts)."""
    import random

    rng = random.Random(13)
    t = copy.deepcopy(tables)
    plan = write_tables(t, "plan.xlsx")
    (tmp_path / "sjuk.csv").write_text("Enhet;Period;Värde\n" + "".join(
        f"{d};{PERIOD};{7 + i},5\n" for i, d in enumerate(NAMES)), encoding="utf-8")
    out = tmp_path / "cykler"
    fill(plan, PERIOD, None, out, fmt="xlsm")
    person = Person(rng, out)
    person.find_files()
    lost: list[str] = []
    steps = ["refill", "flag", "pull", "refill_all", "flag_all", "pull_all", "none"]
    for cycle in range(cycles):
        touched = set()
        for _ in range(rng.choice((1, 1, 2))):
            dep = rng.choice(sorted(person.paths))
            person.type(dep, cycle)
            touched.add(dep)
        if rng.random() < 0.04:  # a department renamed in the plan
            d = rng.choice(t["Avdelningar"])
            d["Avdelning"] = f"{d['Avdelning'].split(' v')[0]} v{cycle}"
            plan = write_tables(t, "plan.xlsx")
        xlsm = sorted(d for d, path in person.paths.items() if path.suffix == ".xlsm")
        if rng.random() < 0.04 and xlsm:  # Spara som .xlsx
            dep = rng.choice(xlsm)
            path = person.paths[dep]
            openpyxl.load_workbook(path).save(path.with_suffix(".xlsx"))
            path.unlink()
            person.paths[dep] = path.with_suffix(".xlsx")
            person.forget_groups(dep)
            touched.add(dep)
        step = rng.choices(steps, weights=(26, 22, 18, 5, 5, 4, 20))[0]
        dep = rng.choice(sorted(person.paths))
        if step.startswith("refill"):
            result = fill(plan, PERIOD, None if step == "refill_all" else [dep], out, update=True, fmt="xlsm")
            assert result.problems == [], result.problems
            person.find_files()
            done = set(person.paths) if step == "refill_all" else {dep}
            assert all(person.paths[d].suffix == ".xlsm" for d in done)
        elif step.startswith("flag"):
            flag(out if step == "flag_all" else person.paths[dep], plan)
            done = set(person.paths) if step == "flag_all" else {dep}
        elif step.startswith("pull"):
            result = pull(out if step == "pull_all" else person.paths[dep], plan)
            assert not [p for p in result.problems if p.severity == "fel"], result.problems
            done = set(person.paths) if step == "pull_all" else {dep}
        else:
            done = set()
        for d in done:
            person.forget_groups(d)
        for d in sorted(touched | done) if cycle < cycles - 1 else sorted(person.paths):
            lost += [f"omgång {cycle} ({step}): {line}" for line in person.lost(d)]
    print(person.summary())
    assert not lost, "\n".join(lost[:10])
    assert sum(len(v) for v in person.typed.values()) >= min(cycles, 8)


def test_on_windows_leftovers_go_by_age_and_no_process_is_signalled(tmp_path: Path,
                                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(atomic, "WINDOWS", True)
    monkeypatch.setattr(atomic.os, "kill", lambda *a: pytest.fail("os.kill ends a process on Windows"))
    young = tmp_path / ".~xlplan-999999999-a.xlsm"
    young.write_bytes(b"x")
    old = tmp_path / ".~xlplan-999999998-b.xlsm"
    old.write_bytes(b"x")
    os.utime(old, (1, 1))
    assert clean_leftovers(tmp_path) == [old] and young.exists()
