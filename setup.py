"""Build hook: the wheel carries ``templates/`` (the example plans, the report template and the demo
exports) and ``workbook/uppfoljning.xlsm`` as package data, so ``xlplan demo`` and
``xlplan build-workbook`` work from an installed wheel.  The repository keeps them at the top level
(the layout the design card fixes); they are copied into ``xlplan/data/`` at build time only."""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
SHIPPED = {"templates": ROOT / "templates", "workbook": ROOT / "workbook"}


class BuildWithTemplates(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install finds templates/ by walking up from the source
        for name, source in SHIPPED.items():
            target = Path(self.build_lib) / "xlplan" / "data" / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("~$*", "*.bak", ".~*"))


setup(cmdclass={"build_py": BuildWithTemplates})
