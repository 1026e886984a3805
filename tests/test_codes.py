"""Problem and flag codes: one enum (xlplan.core.codes.Code), documented in docs/problem-codes.md.

Each code has one meaning, a severity and a fix; every problem carries a Code;
the Kontroll sheet, the JSON report and the CLI show the code's fix.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Callable

import openpyxl
import pytest
from typer.testing import CliRunner

from xlplan.actions.flag import FLAG_LABELS
from xlplan.books.committee import write_committee_workbook
from xlplan.cli import app
from xlplan.core.codes import SEVERITY_WORDS, Code, markdown_table
from xlplan.core.errors import Problem, blocking, fix_lines
from xlplan.core.status import FLAGS
from xlplan.export.sample import sample_committee_data

REPO = Path(__file__).resolve().parents[1]
DOC = REPO / "docs" / "problem-codes.md"


def test_the_document_is_the_enum() -> None:
    """docs/problem-codes.md is generated from the enum; regenerate with python -m xlplan.core.codes."""
    assert DOC.read_text(encoding="utf-8") == markdown_table()
    rows = [line for line in DOC.read_text(encoding="utf-8").splitlines() if line.startswith("| `")]
    assert [re.match(r"\| `([^`]+)`", r).group(1) for r in rows] == [c.value for c in Code]  # type: ignore[union-attr]


def test_each_code_is_one_entry_with_severity_label_and_fix() -> None:
    values = [c.value for c in Code]
    assert len(values) == len(set(values))
    for c in Code:
        assert re.fullmatch(r"[a-zåäö_]+", c.value), c
        assert c.severity in SEVERITY_WORDS and c.label and c.fix.endswith("."), c
    labels = [c.label for c in Code]
    assert len(labels) == len(set(labels)), "two codes with one label would read as one meaning"


def test_the_codes_that_meant_several_things_are_split() -> None:
    assert {Code.RAD_SAKNAS, Code.PLANRAD_SAKNAS, Code.EXPORT_RAD_SAKNAS} <= set(Code)
    assert {Code.DUBBLETT, Code.FIL_KOPIA, Code.PLAN_DUBBLETT} <= set(Code)
    assert {Code.KOLUMN_SAKNAS, Code.KOLUMN_NY_SAKNAS, Code.EXPORT_KOLUMN_SAKNAS, Code.HAMTKOLUMNER_SAKNAS,
            Code.PLAN_KOLUMN_SAKNAS} <= set(Code)
    assert Code.KOLUMN_SAKNAS.severity == "fel" and Code.KOLUMN_NY_SAKNAS.severity == "info"


def test_every_flag_and_flag_label_is_a_code() -> None:
    assert all(Code.of(f) for f in FLAGS)
    assert all(Code.of(f).label == label for f, label in FLAG_LABELS.items())


def test_problem_takes_a_code_and_shows_its_fix() -> None:
    p = Problem(Code.DUBBLETT, "Rad-id 'I|I1|' finns redan på rad 6.", "a.xlsx", "Mål och indikatorer", "A9")
    assert p.severity == "fel" and p.fix == Code.DUBBLETT.fix and blocking([p])
    assert Problem(Code.FIL_KOPIA, "Kopia.").severity == "varning"
    assert Problem(Code.FIL_KOPIA, "Kopia.", severity="fel").severity == "fel"  # a site may raise it
    doc = json.loads(json.dumps(p.to_json()))
    assert doc["code"] == "dubblett" and doc["fix"] == Code.DUBBLETT.fix and doc["severity"] == "fel"
    assert Problem("dubblett", "x").code is Code.DUBBLETT  # type: ignore[arg-type]  # read back from a report
    assert Problem("fel_plan", "x").code is Code.ANNAN_PLAN  # type: ignore[arg-type]  # an earlier name
    with pytest.raises(ValueError, match="xlplan.core.codes"):
        Problem("ingen_sådan_kod", "x")  # type: ignore[arg-type]
    assert f"{Code.DUBBLETT}" == str(Code.DUBBLETT) == "dubblett"
    assert "dubblett" in {Code.DUBBLETT} and Code.DUBBLETT in {"dubblett"} and {"dubblett": 1}[Code.DUBBLETT] == 1
    assert fix_lines([p, p, Problem(Code.FIL_KOPIA, "y")]) == [
        "Så gör du:", f"  Rad-id finns två gånger (dubblett): {Code.DUBBLETT.fix}",
        f"  Exakt kopia av en annan fil (fil_kopia): {Code.FIL_KOPIA.fix}"]


def test_no_code_is_written_as_a_bare_string_in_src() -> None:
    bare = re.compile(r"\b(Problem|Flag|AssessFlag)\(\s*[\"']")
    found = [f"{p.relative_to(REPO)}:{n}" for p in sorted((REPO / "src" / "xlplan").rglob("*.py"))
             for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1) if bare.search(line)]
    assert found == []


def test_the_kontroll_sheet_shows_the_fix_of_each_problem(tmp_path: Path) -> None:
    data = sample_committee_data()
    assert data.problems
    ws = openpyxl.load_workbook(write_committee_workbook(data, tmp_path / "n.xlsx"))["Kontroll"]
    rows = [[c.value for c in row] for row in ws.iter_rows()]
    header = next(i for i, r in enumerate(rows) if "Så gör du" in r)
    fix_at, code_at = rows[header].index("Så gör du"), rows[header].index("Kod")
    shown = [(r[code_at], r[fix_at]) for r in rows[header + 1:] if r[code_at]]
    assert shown == [(p.code.value, p.code.fix) for p in data.problems]


def test_the_cli_prints_the_fix_of_a_plan_problem(tiny_tables: dict[str, Any],
                                                   write_tables: Callable[..., Path]) -> None:
    tiny_tables["Mål"].append(dict(tiny_tables["Mål"][0]))  # M1 twice
    path = write_tables(tiny_tables)
    res = CliRunner().invoke(app, ["plan", "check", str(path)])
    assert res.exit_code == 2
    assert f"Id eller värde finns två gånger i planen (plan_dubblett): {Code.PLAN_DUBBLETT.fix}" in res.output
    res = CliRunner().invoke(app, ["plan", "check", str(path), "--json"])
    (problem,) = [p for p in json.loads(res.output)["problem"] if p["code"] == "plan_dubblett"]
    assert problem["fix"] == Code.PLAN_DUBBLETT.fix and problem["severity"] == "fel"
