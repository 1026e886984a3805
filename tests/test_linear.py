"""Filling and flagging stay linear in the number of departments: calls are counted, never timed.

A plan with N departments (copies of the tiny plan's) is filled and flagged at two sizes;
every counted call must cost the same per department at both sizes (or be made once per
run): the plan's version hash, openpyxl's range containment checks (data validation cell
by cell), the style registrations, the data validations and the VBA project build.
"""

from __future__ import annotations

import copy
import dataclasses
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable

import pytest
from openpyxl.worksheet import datavalidation
from openpyxl.worksheet.cell_range import MultiCellRange

import xlplan.core.model
from conftest import TINY
from xlplan.actions.fill import fill
from xlplan.actions.flag import flag
from xlplan.books.plan import read_plan, write_plan_tables
from xlplan.io.backends import openpyxl_backend
from xlplan.xlsm import package

PERIOD = "2024-delår"
SMALL, LARGE = 3, 12


def tables_with(n: int) -> dict[str, list[dict[str, Any]]]:
    """The tiny plan with *n* departments, each like ALD (indicators for all, one activity, budget)."""
    t = copy.deepcopy(TINY)
    ids = [f"E{i:03d}" for i in range(1, n + 1)]
    t["Avdelningar"] = [{"Avdelnings-id": d, "Avdelning": f"Enhet {d}"} for d in ids]
    t["Indikatorer"] = [{**r, "Avdelningar": None} for r in t["Indikatorer"]]
    t["Aktiviteter"] = [{**TINY["Aktiviteter"][0], "Aktivitets-id": f"A-{d}", "Avdelnings-id": d} for d in ids]
    t["Ekonomi"] = [{**r, "Avdelnings-id": d} for d in ids for r in TINY["Ekonomi"][:2]]
    t["Personal"] = [{**TINY["Personal"][0], "Avdelnings-id": d} for d in ids]
    return t


class Calls:
    """Counts calls of functions and methods patched with :meth:`count`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.n: Counter[str] = Counter()

    def count(self, owner: Any, name: str, label: str) -> None:
        original = getattr(owner, name)

        def counted(*args: Any, **kwargs: Any) -> Any:
            self.n[label] += 1
            return original(*args, **kwargs)

        self.monkeypatch.setattr(owner, name, counted)


def run_counted(tmp: Path, n: int, fmt: str, action: Callable[[Path, Path], Any],
                monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    plan = tmp / f"plan-{n}.xlsx"
    write_plan_tables(tables_with(n), plan)
    out = tmp / f"avd-{n}"
    if action is not fill_action:
        fill(plan, PERIOD, None, out, fmt=fmt)  # set-up, not counted
    with monkeypatch.context() as m:
        calls = Calls(m)
        calls.count(xlplan.core.model, "_content_of", "plan version hashes")
        calls.count(MultiCellRange, "__contains__", "range containment checks")
        calls.count(openpyxl_backend, "style_cell", "styles made")
        calls.count(datavalidation.DataValidation, "__init__", "data validations")
        calls.count(package, "write_compound_file", "VBA project builds")
        package._built_project.cache_clear()
        action(plan, out)
    return calls.n


def fill_action(plan: Path, out: Path, fmt: str = "xlsm") -> None:
    result = fill(plan, PERIOD, None, out, fmt=fmt)  # type: ignore[arg-type]
    assert len(result.written) > 0


def flag_action(plan: Path, out: Path) -> None:
    outcomes = flag(out, plan)
    assert outcomes and all(o.report.rows for o in outcomes)


def per_department(calls: Counter[str], n: int) -> dict[str, float]:
    return {k: v / n for k, v in calls.items()}


def test_fill_costs_the_same_calls_per_department(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = run_counted(tmp_path, SMALL, "xlsm", fill_action, monkeypatch)
    large = run_counted(tmp_path, LARGE, "xlsm", fill_action, monkeypatch)
    once = ("plan version hashes", "VBA project builds")
    assert {k: small[k] for k in once} == {k: large[k] for k in once} == {k: 1 for k in once}
    rest = ("range containment checks", "styles made", "data validations")
    assert {k: small[k] / SMALL for k in rest} == {k: large[k] / LARGE for k in rest}
    assert small["data validations"] > 0 and small["styles made"] > 0
    # A style is made once per distinct look, not per cell: far fewer than the cells written.
    assert small["styles made"] / SMALL < 120


def test_flag_costs_the_same_calls_per_department(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = run_counted(tmp_path, SMALL, "xlsx", flag_action, monkeypatch)
    large = run_counted(tmp_path, LARGE, "xlsx", flag_action, monkeypatch)
    assert small["plan version hashes"] == large["plan version hashes"] == 1
    assert per_department(small, SMALL) == per_department(large, LARGE) | {"plan version hashes": 1 / SMALL}


def test_the_plan_version_is_computed_once_per_plan(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "plan.xlsx"
    write_plan_tables(copy.deepcopy(TINY), path)
    plan = read_plan(path)
    with monkeypatch.context() as m:
        calls = Calls(m)
        calls.count(xlplan.core.model, "_content_of", "hashes")
        first = plan.version
        assert [plan.version for _ in range(5)] == [first] * 5
        assert calls.n["hashes"] == 1
        changed = dataclasses.replace(plan, goals=plan.goals[:1])
        assert changed.version != first and calls.n["hashes"] == 2
        assert dataclasses.replace(changed, goals=plan.goals).version == first


def test_the_vba_project_is_built_once_for_equal_modules(monkeypatch: pytest.MonkeyPatch) -> None:
    from xlplan.xlsm import VbaModule, build_vba_project, default_modules

    with monkeypatch.context() as m:
        calls = Calls(m)
        calls.count(package, "write_compound_file", "builds")
        package._built_project.cache_clear()
        first = build_vba_project(default_modules())
        assert build_vba_project(list(default_modules())) == first
        assert calls.n["builds"] == 1
        other = build_vba_project([*default_modules(), VbaModule("Extra", "Sub X()\r\nEnd Sub\r\n", "standard")])
        assert other != first and calls.n["builds"] == 2


def test_validation_cells_become_column_ranges() -> None:
    cells = [(3, 5), (3, 6), (3, 7), (3, 9), (5, 5), (3, 8), (5, 6), (5, 6), (12, 2)]
    assert openpyxl_backend.cell_ranges(cells) == "C5:C9 E5:E6 L2"
    assert openpyxl_backend.cell_ranges([]) == ""


def tables_with_indicators(k: int) -> dict[str, list[dict[str, Any]]]:
    """The tiny plan with each indicator repeated *k* times (one department: ALD)."""
    t = copy.deepcopy(TINY)
    t["Indikatorer"] = [{**r, "Indikator-id": f"{r['Indikator-id']}-{j}", "Avdelningar": None}
                        for j in range(k) for r in TINY["Indikatorer"]]
    return t


def test_a_workbook_costs_the_same_calls_per_indicator_row(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counts = {}
    for k in (2, 8):
        plan = tmp_path / f"plan-{k}.xlsx"
        write_plan_tables(tables_with_indicators(k), plan)
        with monkeypatch.context() as m:
            calls = Calls(m)
            calls.count(MultiCellRange, "__contains__", "range containment checks")
            calls.count(openpyxl_backend, "style_cell", "styles made")
            calls.count(datavalidation.DataValidation, "__init__", "data validations")
            fill(plan, PERIOD, ["ALD"], tmp_path / f"avd-{k}", fmt="xlsx")
        counts[k] = calls.n
    # Cell by cell, openpyxl checks each new cell against every range of its validation: rows².
    assert counts[2]["range containment checks"] == counts[8]["range containment checks"] == 0
    assert counts[2]["styles made"] == counts[8]["styles made"] > 0
    assert counts[2]["data validations"] == counts[8]["data validations"] > 0


# ---------------------------------------------------------------- consolidation: one read of each file


def test_consolidation_reads_each_department_file_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each file is opened and unpacked once (its facts, the checks before it is parsed and the reading
    share one read of its bytes and one read of its zip directory), each of its sheets read by calamine
    once, no sheet XML goes through an XML parser (formulas and errors come from a scan of the same
    bytes), and each indicator row is assessed once although the file check and the committee line
    both need it."""
    import builtins
    import io
    import zipfile

    import xlplan.actions.consolidate
    import xlplan.actions.validate
    import xlplan.books.department.reader
    import xlplan.io.tables
    from xlplan.actions.consolidate import consolidate

    plan = tmp_path / "plan.xlsx"
    write_plan_tables(tables_with(SMALL), plan)
    out = tmp_path / "avd"
    fill(plan, PERIOD, None, out, fmt="xlsx")
    files = sorted(out.glob("*.xlsx"))
    packages: Counter[str] = Counter()
    sheets: Counter[tuple[str, str]] = Counter()
    parsed: list[bytes] = []
    opened: Counter[str] = Counter()  # file name -> times the file was opened
    directories: Counter[str] = Counter()  # file name -> times its zip directory was read
    contents = {f.read_bytes(): f.name for f in files}
    original_package = xlplan.io.tables.unpack_package
    original_open = builtins.open
    original_directory = zipfile.ZipFile._RealGetContents  # type: ignore[attr-defined]
    original_rows = xlplan.books.department.reader.read_sheet_rows
    original_parse = xlplan.io.tables.ElementTree.fromstring

    def unpack_package(path: Path, *args: Any) -> Any:
        packages[Path(path).name] += 1
        return original_package(path, *args)

    def open_file(file: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(file, (str, Path)):
            opened[Path(file).name] += 1
        return original_open(file, *args, **kwargs)

    def read_directory(self: zipfile.ZipFile) -> None:
        name = Path(self.filename).name if self.filename else contents.get(getattr(self.fp, "getvalue", bytes)())
        directories[name or "?"] += 1
        original_directory(self)

    def read_sheet_rows(wb: Any, path: Path, sheet: str) -> Any:
        sheets[(Path(path).name, sheet)] += 1
        return original_rows(wb, path, sheet)

    def fromstring(xml: bytes, *args: Any, **kwargs: Any) -> Any:
        parsed.append(bytes(xml[:400]))
        return original_parse(xml, *args, **kwargs)

    with monkeypatch.context() as m:
        calls = Calls(m)
        calls.count(xlplan.actions.consolidate, "assess", "assessments")
        m.setattr(xlplan.io.tables, "unpack_package", unpack_package)
        m.setattr(xlplan.actions.validate, "unpack_package", unpack_package)
        m.setattr(builtins, "open", open_file)
        m.setattr(io, "open", open_file)
        m.setattr(zipfile.ZipFile, "_RealGetContents", read_directory)
        m.setattr(xlplan.books.department.reader, "read_sheet_rows", read_sheet_rows)
        m.setattr(xlplan.io.tables.ElementTree, "fromstring", fromstring)
        xlplan.io.tables.sheet_parts.cache_clear()
        result = consolidate(out, plan, PERIOD, tmp_path / "namnd.xlsx")
    assert len(result.included) == SMALL
    assert {f.name: packages[f.name] for f in files} == {f.name: 1 for f in files}
    assert {f.name: opened[f.name] for f in files} == {f.name: 1 for f in files}
    assert {f.name: directories[f.name] for f in files} == {f.name: 1 for f in files}
    assert sheets and set(sheets.values()) == {1}, sheets
    assert {name for name, _ in sheets} == {f.name for f in files}
    sheet_roots = [x for x in parsed if re.match(rb"\s*(<\?xml[^>]*\?>)?\s*<(\w+:)?worksheet\b", x)]
    assert parsed and not sheet_roots, "a sheet's XML went through an XML parser"
    lines = [line for line in result.data.indicators if line.department_id is not None]
    parsed_plan = read_plan(plan)  # personnel key figures go through the same assessment, once each
    figures = sum(len(parsed_plan.personnel_for(d.id)) for d in parsed_plan.departments)
    assert 0 < calls.n["assessments"] <= len(lines) + figures


# ---------------------------------------------------------------- consolidation: per indicator once per run


def test_consolidation_works_out_each_indicator_once_per_run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A target text is parsed once per indicator (and key figure) and run, whatever the number of
    departments; each indicator row and key figure is assessed once; the status rules of an indicator
    are made once, not per department; no full garbage collection runs during the consolidation."""
    import gc

    import xlplan.actions.consolidate
    import xlplan.core.assess
    import xlplan.core.status
    from xlplan.actions.consolidate import consolidate

    counts: dict[int, Counter[str]] = {}
    for n in (SMALL, LARGE):
        path = tmp_path / f"plan-{n}.xlsx"
        write_plan_tables(tables_with(n), path)
        out = tmp_path / f"avd-{n}"
        fill(path, PERIOD, None, out, fmt="xlsx")
        plan = read_plan(path)
        plan.version  # noqa: B018 - computed before counting, as the plan is read before
        thresholds: list[tuple[int, ...]] = []
        before = gc.get_threshold()
        with monkeypatch.context() as m:
            calls = Calls(m)
            calls.count(xlplan.core.model, "parse_target", "targets parsed")
            calls.count(xlplan.core.assess, "parse_target", "targets parsed")
            calls.count(xlplan.core.status, "status_rules", "status rules made")
            calls.count(xlplan.actions.consolidate, "assess", "assessments")
            result = consolidate(out, plan, PERIOD, tmp_path / f"namnd-{n}.xlsx",
                                 progress=lambda *_, seen=thresholds: seen.append(gc.get_threshold()))
        assert gc.get_threshold() == before
        assert thresholds and all(t[2] >= 1_000_000 for t in thresholds)
        assert len(result.included) == n
        rows = [x for x in result.data.indicators if x.department_id is not None]
        figures = sum(len(plan.personnel_for(d.id)) for d in plan.departments)
        assert 0 < calls.n["assessments"] <= len(rows) + figures
        texts = sum(1 + len(i.targets) for i in plan.indicators)  # the period's target; all years for Min/Max
        assert 0 < calls.n["targets parsed"] <= texts + len({(p.name, p.target) for p in plan.personnel})
        counts[n] = calls.n
    assert counts[SMALL]["targets parsed"] == counts[LARGE]["targets parsed"]
    assert counts[SMALL]["status rules made"] == counts[LARGE]["status rules made"] > 0
    assert counts[SMALL]["assessments"] / SMALL < counts[LARGE]["assessments"] / LARGE * 1.5


def test_full_collections_stay_deferred_until_the_last_run_ends() -> None:
    """Runs that nest or overlap (threads) leave the collector as they found it, whatever the order they end in."""
    import gc

    from xlplan.actions.consolidate import full_collections_deferred

    before = gc.get_threshold()
    first, second = full_collections_deferred(), full_collections_deferred()
    first.__enter__()
    assert gc.get_threshold()[2] >= 1_000_000
    second.__enter__()
    first.__exit__(None, None, None)  # the first run ends while the second goes on
    assert gc.get_threshold()[2] >= 1_000_000
    second.__exit__(None, None, None)
    assert gc.get_threshold() == before
    with pytest.raises(ValueError), full_collections_deferred():
        raise ValueError("a run that fails")
    assert gc.get_threshold() == before
