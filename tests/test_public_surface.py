"""The package's public surface: every name in ``__all__`` resolves, and the wheel is complete."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from importlib.metadata import version
from pathlib import Path

import xlplan

REPO = Path(__file__).resolve().parents[1]


def test_every_exported_name_resolves():
    for name in xlplan.__all__:
        assert getattr(xlplan, name) is not None, name
    assert callable(xlplan.read_plan) and callable(xlplan.build_workbook)
    from xlplan.export import export

    actions = (xlplan.fill, xlplan.pull, xlplan.flag, xlplan.consolidate, xlplan.submit_file,
               xlplan.approve_file, xlplan.return_file, xlplan.plan_summary, export)
    assert all(map(callable, actions))


def test_the_actions_stay_functions_after_their_modules_are_imported():
    import xlplan.actions.consolidate
    import xlplan.actions.fill
    import xlplan.actions.flag
    import xlplan.actions.pull  # noqa: F401

    assert xlplan.fill is xlplan.actions.fill.fill and xlplan.pull is xlplan.actions.pull.pull
    assert xlplan.flag is xlplan.actions.flag.flag
    assert xlplan.consolidate is xlplan.actions.consolidate.consolidate


def test_all_is_exact():
    assert xlplan.__all__ == sorted(xlplan.__all__)
    assert set(xlplan.__all__) == {
        "Problem", "Status", "XlplanError", "__version__", "approve_file", "build_workbook", "consolidate",
        "evaluate", "fill", "flag", "parse_number", "parse_period", "parse_target", "plan_from_workbook",
        "plan_summary", "pull", "read_plan", "return_file", "submit_file"}


def test_version_matches_the_distribution():
    assert xlplan.__version__ == version("xlplan")


def test_importing_xlplan_is_lean():
    code = "import sys, xlplan; print(sorted(m for m in sys.modules if m.startswith(('pandas', 'openpyxl', 'matplotlib'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_wheel_holds_every_package_and_data_file(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
                    "-w", str(tmp_path), str(REPO)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("xlplan-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for required in ("xlplan/__init__.py", "xlplan/cli.py", "xlplan/kolada/client.py", "xlplan/books/spec.py",
                     "xlplan/export/__init__.py", "xlplan/xlsm/package.py", "xlplan/py.typed",
                     "xlplan/excel_src/customUI14.xml", "xlplan/excel_src/vba/XlplanRibbon.bas"):
        assert required in names, required
    assert any(n.startswith("xlplan/data/kolada/") and n.endswith(".csv") for n in names)
