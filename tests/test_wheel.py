"""The wheel holds everything ``xlplan demo`` needs: built from this checkout, installed into a fresh
virtual environment outside the repository, ``xlplan demo --out DIR`` runs the whole workflow."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _run(args: list[str], cwd: Path, env: dict[str, str] | None = None, timeout: int = 600) -> str:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{args[:3]} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    build = tmp_path_factory.mktemp("build")
    env = {**os.environ, "PIP_NO_INPUT": "1"}
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out),
          str(REPO)], cwd=build, env=env)
    wheels = list(out.glob("xlplan-*.whl"))
    assert len(wheels) == 1
    return wheels[0]


def test_wheel_holds_the_example_plans_and_workbook(wheel: Path) -> None:
    import zipfile

    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("alingsas-von-2020.xlsx", "alingsas-von-2024.xlsx", "namndrapport.docx",
                 "src/alingsas-von-2024.json", "exporter/demo_plan_additions.json"):
        assert f"xlplan/data/templates/{name}" in names, name
    assert "xlplan/data/workbook/uppfoljning.xlsm" in names
    assert "xlplan/data/workbook/xlplan-anvandarguide.pdf" in names  # the guide the Användarguide button opens
    assert not any(n.endswith((".bak", ".pyc")) or "/~$" in n for n in names)


def test_demo_runs_from_the_installed_wheel(wheel: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    fresh_site = Path(subprocess.run([str(env_dir / "bin" / "python"), "-c",
                                      "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                                     capture_output=True, text=True, check=True).stdout.strip())
    # The dependencies come from the test run's environment (no network needed); xlplan itself only
    # from the wheel: paths added by a .pth file are not scanned for further .pth files, so this
    # checkout's editable install is not visible in the fresh environment.
    (fresh_site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    _run([sys.executable, "-m", "pip", "--python", str(env_dir / "bin" / "python"), "install", "--no-deps",
          "--no-index", "-q", str(wheel)], cwd=tmp_path, env=env)
    where = _run([str(env_dir / "bin" / "python"), "-c", "import xlplan, sys; print(xlplan.__file__)"],
                 cwd=tmp_path, env=env)
    assert str(env_dir) in where, where
    out = tmp_path / "demo"
    printed = _run([str(env_dir / "bin" / "xlplan"), "demo", "--out", str(out)], cwd=tmp_path, env=env)
    assert "Klart." in printed
    for plan in ("alingsas-von-2020", "alingsas-von-2024"):
        assert list((out / "avdelningar" / plan).glob("*.xlsm")), plan
        assert (out / "namndrapport" / plan / "nämndrapport.docx").is_file() or \
            list((out / "namndrapport" / plan).glob("*.docx")), plan
