"""Imports on demand: a command or button loads a heavy library only when it uses it.

Each case runs in a fresh interpreter (``sys.executable``) on real files and reports
which heavy libraries ended up in ``sys.modules``; the test names the one that should
not be there.  xlwings, numpy, pandas and matplotlib cost about a second together;
python-docx and httpx a tenth each.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any, Iterator

import pytest

from conftest import TINY
from xlplan.actions.fill import fill
from xlplan.books.controller import build_workbook
from xlplan.books.plan import write_plan_tables
from xlplan.kolada import KoladaStandin

HEAVY = ("xlwings", "numpy", "pandas", "matplotlib", "docx", "httpx")
PERIOD = "2024-delår"

_PROBE = textwrap.dedent("""
    import json, sys
    HEAVY = {heavy!r}

    def heavy():
        return sorted({{m.split(".")[0] for m in sys.modules}} & set(HEAVY))

    result = {{}}
    {body}
    result["heavy"] = heavy()
    with open({out!r}, "w", encoding="utf-8") as f:
        json.dump(result, f)
""")


def probe(body: str, tmp: Path, cwd: Path | None = None, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run *body* in a fresh interpreter; its ``result`` dict plus ``heavy``: the heavy modules loaded."""
    out = tmp / "probe.json"
    out.unlink(missing_ok=True)
    code = _PROBE.format(heavy=HEAVY, body=textwrap.dedent(body).strip(), out=str(out))
    run = subprocess.run([sys.executable, "-c", code], cwd=cwd or tmp, capture_output=True, text=True,
                         timeout=300, env=env)
    assert run.returncode == 0 and out.is_file(), run.stderr[-3000:]
    return json.loads(out.read_text(encoding="utf-8"))


def run_cli(args: list[str], tmp: Path) -> dict[str, Any]:
    """``xlplan ARGS`` in a fresh interpreter: its exit code and the heavy modules it loaded."""
    body = f"""
        sys.argv = ["xlplan", *{args!r}]
        from xlplan.cli import main
        try:
            main()
            result["rc"] = 0
        except SystemExit as exc:
            result["rc"] = exc.code or 0
    """
    return probe(body, tmp, env={**os.environ, "XLPLAN_CACHE_DIR": str(tmp / "cache")})


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("imports")
    plan = tmp / "plan.xlsx"
    write_plan_tables(copy.deepcopy(TINY), plan)
    deps = tmp / "Avdelningsfiler"
    fill(plan, PERIOD, None, deps, fmt="xlsm")
    (tmp / "plan.json").write_text(json.dumps(TINY, ensure_ascii=False), encoding="utf-8")
    controller = build_workbook(tmp / "uppfoljning.xlsm", plan_source=tmp / "plan.json")
    return {"tmp": tmp, "plan": plan, "deps": deps, "controller": controller}


@pytest.fixture(scope="module")
def kolada() -> Iterator[str]:
    with KoladaStandin() as server:
        yield server.url


def unexpected(loaded: list[str], allowed: set[str]) -> set[str]:
    return set(loaded) - allowed


@pytest.mark.parametrize("name, args, allowed", [
    ("plan check", ["plan", "check", "{plan}"], set()),
    ("fill --all", ["fill", "{plan}", "--period", PERIOD, "--all", "--out", "{tmp}/fyllda"], set()),
    ("flag", ["flag", "{deps}"], set()),
    ("consolidate", ["consolidate", "{deps}", "--plan", "{plan}", "--period", PERIOD, "--out", "{tmp}/namnd.xlsx"],
     set()),
    ("pull", ["pull", "{deps}", "--plan", "{plan}", "--kolada-url", "{kolada}", "--dry-run"], {"httpx"}),
])
def test_commands_load_only_what_they_use(files: dict[str, Path], kolada: str, name: str, args: list[str],
                                          allowed: set[str]) -> None:
    given = {**{k: str(v) for k, v in files.items()}, "kolada": kolada}
    result = run_cli([a.format(**given) for a in args], files["tmp"])
    assert result["rc"] in (0, 1), name
    assert unexpected(result["heavy"], allowed) == set(), f"xlplan {name} loaded {result['heavy']}"


def test_the_check_sees_a_heavy_import(files: dict[str, Path]) -> None:
    result = probe("import xlplan.books.plan\nimport docx", files["tmp"])
    assert unexpected(result["heavy"], set()) == {"docx"}


def test_openpyxl_gets_numpy_when_something_else_loaded_it(files: dict[str, Path]) -> None:
    before = probe("import xlplan, openpyxl\nfrom openpyxl.compat.numbers import NUMPY\nresult['numpy'] = NUMPY",
                   files["tmp"])
    assert before == {"numpy": False, "heavy": []}
    after = probe("import numpy, xlplan, openpyxl\nfrom openpyxl.compat.numbers import NUMPY\n"
                  "result['numpy'] = NUMPY", files["tmp"])
    assert after == {"numpy": True, "heavy": ["numpy"]}


def test_the_xlwings_vba_module_is_read_without_importing_xlwings(files: dict[str, Path]) -> None:
    result = probe("from xlplan.xlsm import default_modules\nresult['names'] = [m.name for m in default_modules()]",
                   files["tmp"])
    assert result == {"names": ["XlplanRibbon", "xlwings", "Dictionary"], "heavy": []}


def test_department_buttons_library_side_is_lean(files: dict[str, Path]) -> None:
    """What flag and submit do besides talking to Excel: read the file and the plan, flag, list blockers."""
    dep = sorted(files["deps"].glob("*.xlsm"))[0]
    body = f"""
        import xlplan.excel as x
        from xlplan.books.department.reader import read_department_workbook
        from xlplan.actions.flag import flag_book
        from xlplan.books.plan import read_plan
        book = read_department_workbook({str(dep)!r})
        plan = read_plan({str(files["plan"])!r})
        report = flag_book(plan, book, frozenset())
        result["rows"] = len(report.rows)
        result["blockers"] = len(x.submission_blockers(book, report))
        result["summary"] = x.flag_summary(report)[0]
    """
    result = probe(body, files["tmp"])
    assert result["rows"] > 0 and result["blockers"] > 0  # nothing is filled in yet
    assert result["heavy"] == []


@pytest.mark.parametrize("button, allowed, book", [
    ("flag", set(), "department"), ("submit", set(), "department"), ("about", set(), "department"),
    ("pull", {"httpx"}, "department"), ("fill", set(), "controller"), ("consolidate", set(), "controller"),
])
def test_buttons_load_nothing_heavy_beyond_xlwings(files: dict[str, Path], kolada: str, button: str,
                                                   allowed: set[str], book: str) -> None:
    """A button runs where xlwings is loaded (it brings numpy, pandas and matplotlib); nothing else heavy."""
    pytest.importorskip("xlwings")
    dep = sorted(files["deps"].glob("*.xlsm"))[0] if book == "department" else files["controller"]
    body = f"""
        import xlwings
        from xlremote import run_with_caller
        base = set(heavy())
        import xlplan.excel as x
        run = run_with_caller({dep.name!r}, x.{button}, out={str(files["tmp"] / ("after-" + button + ".xlsm"))!r},
                              enforce_protection=False)
        result["alerts"] = [a.prompt for a in run.alerts]
        result["new"] = sorted(set(heavy()) - base)
    """
    tests = str(Path(__file__).resolve().parent)  # the xlremote test harness lives beside the tests
    env = {**os.environ, "XLWINGS_LICENSE_KEY": "noncommercial", "XLPLAN_CACHE_DIR": str(files["tmp"] / "cache"),
           "XLPLAN_KOLADA_URL": kolada,
           "PYTHONPATH": os.pathsep.join(p for p in (tests, os.environ.get("PYTHONPATH")) if p)}
    result = probe(body, files["tmp"], cwd=dep.parent, env=env)
    assert result["alerts"], f"{button}: the button ended without a message"
    assert not result["alerts"][0].startswith("Det gick inte"), result["alerts"]
    assert unexpected(result["new"], allowed) == set(), f"button {button} loaded {result['new']}"


def test_plan_check_loads_neither_pydantic_nor_openpyxl(files: dict[str, Path]) -> None:
    """typer 0.29 validates parameters with pydantic; plain str/Path/bool parameters skip it
    (xlplan.cli.plain_coercion), and checking a plan needs no writer (openpyxl, fill)."""
    body = f"""
        sys.argv = ["xlplan", "plan", "check", {str(files["plan"])!r}]
        from xlplan.cli import main
        try:
            main()
        except SystemExit as exc:
            result["rc"] = exc.code or 0
        result["loaded"] = sorted({{m.split(".")[0] for m in sys.modules}} & {{"pydantic", "openpyxl"}})
        result["fill"] = "xlplan.actions.fill" in sys.modules
    """
    result = probe(body, files["tmp"])
    assert result["rc"] == 0 and result["loaded"] == [] and result["fill"] is False, result


def test_cli_parameters_arrive_with_their_types_without_pydantic(files: dict[str, Path], tmp_path: Path) -> None:
    """The light coercion gives what typer's gives: a Path, a str, a bool; a bad value is still refused."""
    body = f"""
        import typer
        from pathlib import Path
        from typer.testing import CliRunner
        from xlplan.cli import XlplanGroup
        app = typer.Typer(cls=XlplanGroup)
        seen = {{}}
        @app.command("a")
        def a(path: Path = typer.Argument(...), name: str = typer.Option("x", "--name"),
              flag: bool = typer.Option(False, "--flag")) -> None:
            seen.update(path=isinstance(path, Path), name=name, flag=flag)
        @app.command("b")
        def b(port: int = typer.Option(1, "--port")) -> None:
            seen.update(port=port)
        runner = CliRunner()
        first = runner.invoke(app, ["a", "some/file.xlsx", "--name", "Åsa", "--flag"])
        result["a"] = [first.exit_code, seen.copy()]
        result["pydantic_after_a"] = "pydantic" in sys.modules
        result["b"] = [runner.invoke(app, ["b", "--port", "80"]).exit_code, seen.get("port")]
        result["bad"] = runner.invoke(app, ["b", "--port", "x"]).exit_code
    """
    result = probe(body, tmp_path)
    assert result["a"] == [0, {"path": True, "name": "Åsa", "flag": True}]
    assert result["pydantic_after_a"] is False
    assert result["b"] == [0, 80] and result["bad"] == 2


def test_every_setting_name_has_the_prefix_the_button_looks_for() -> None:
    """``excel.controller_setting`` skips openpyxl for a workbook whose ``xl/workbook.xml`` has no
    ``xlplan_`` name (a plan workbook): every setting on Val must carry that prefix."""
    from xlplan.books.controller import SETTINGS

    assert SETTINGS and all(s.name.startswith("xlplan_") for s in SETTINGS)
