"""One naming scheme for every file xlplan writes (xlplan.core.naming), used by every writer; old names still read."""

from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

from typer.testing import CliRunner

from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.books.committee import read_committee_workbook
from xlplan.cli import app
from xlplan.core import naming
from xlplan.core.periods import parse_period

SRC = Path(__file__).resolve().parents[1] / "src" / "xlplan"


def test_names_follow_the_scheme(tiny_plan) -> None:
    period = parse_period("2024-delår")
    dep = tiny_plan.department("ALD")
    assert naming.department_file(tiny_plan, dep, period, "xlsm") == \
        "Alingsås_Vård-_och_omsorgsnämnden_Äldreomsorg_2024-delår.xlsm"
    committee = naming.committee_file("Alingsås", "Vård- och omsorgsnämnden", period)
    assert committee == "Alingsås_Vård-_och_omsorgsnämnden_Sammanställning_2024-delår.xlsx"
    assert naming.control_report_file(committee) == "Alingsås_Vård-_och_omsorgsnämnden_Sammanställning_2024-delår_kontroll.json"
    assert naming.file_stem('Vård/ och "omsorg": <A|B>?*.', "2024-K1") == "Vård_och_omsorg_AB_2024-K1"
    assert naming.log_file(dt.date(2024, 10, 31)) == "xlplan-20241031.log"


def test_every_literal_file_name_is_defined_only_in_the_naming_module() -> None:
    names = [naming.REPORT_DOCX, naming.REPORT_PDF, naming.REPORT_BILAGA, naming.CONTROLLER_WORKBOOK,
             naming.GUIDE_PDF, naming.BACKUP_DIR, naming.TEMP_PREFIX, naming.EXPORT_TMP_PREFIX,
             naming.EXPORT_JOURNAL, naming.PLAN_CHECK, naming.COMPARISONS_FILE, "_kontroll.json", "Sammanställning_"]
    offenders = []
    for path in SRC.rglob("*.py"):
        if path.name == "naming.py":
            continue
        code = path.read_text(encoding="utf-8")
        for name in names:
            # a string literal holding the name (docstrings and comments may mention it)
            for m in re.finditer(r'(?<![\w"])f?"([^"\n]*)"', code):
                if name in m.group(1) and not _in_docstring(code, m.start()):
                    offenders.append(f"{path.relative_to(SRC)}: {m.group(0)}")
    assert offenders == []


def _in_docstring(code: str, at: int) -> bool:
    return code.count('"""', 0, at) % 2 == 1


def test_fill_and_consolidate_write_the_schemes_names(tiny_plan_path: Path, tiny_plan, tmp_path: Path) -> None:
    period = parse_period("2024-delår")
    written = fill(tiny_plan_path, period, None, tmp_path / "avd").written
    assert sorted(p.name for p in written) == sorted(naming.department_file(tiny_plan, d, period)
                                                     for d in tiny_plan.departments)
    result = CliRunner().invoke(app, ["consolidate", str(tmp_path / "avd"), "--plan", str(tiny_plan_path),
                                      "--period", "2024-Delår", "--out", str(tmp_path / "namnd")])
    assert result.exit_code == 0, result.output
    expected = tmp_path / "namnd" / "Alingsås_Vård-_och_omsorgsnämnden_Sammanställning_2024-delår.xlsx"
    assert expected.is_file()
    assert read_committee_workbook(expected).meta.period == "2024-delår"


def test_files_under_old_names_are_still_read(tiny_plan_path: Path, tmp_path: Path) -> None:
    written = fill(tiny_plan_path, "2024-delår", None, tmp_path / "ny").written
    old = tmp_path / "gamla"
    old.mkdir()
    for i, path in enumerate(written):  # named as older versions (and people) did
        shutil.copy(path, old / f"Uppföljning_{i}_2024-delar{path.suffix}")
    result = consolidate(old, tiny_plan_path, "2024-delår", tmp_path / "sammanstallning.xlsx")
    data = read_committee_workbook(tmp_path / "sammanstallning.xlsx")
    assert len(result.included) == len(written) == len(data.submissions)
