"""The bundled example plans: committed workbooks match their JSON sources and read cleanly."""

from __future__ import annotations

import json
from pathlib import Path

from openpyxl import load_workbook
from typer.testing import CliRunner

from xlplan.books.plan import read_plan
from xlplan.cli import app
from xlplan.examples import EXAMPLES, build_example_plans, example_plan_path, templates_dir


def _cells(path: Path) -> dict[str, list[tuple]]:
    wb = load_workbook(path, read_only=True)
    return {ws.title: [tuple(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}


def test_committed_example_workbooks_are_up_to_date(tmp_path):
    built = build_example_plans(tmp_path)
    assert len(built) == len(EXAMPLES)
    for path in built:
        committed = templates_dir() / path.name
        assert committed.exists(), f"{committed} saknas: kör xlplan.examples.build_example_plans()"
        assert _cells(path) == _cells(committed), f"{committed.name} är inte byggd från sin JSON-källa"


def test_2020_plan_check_lists_all_departments_and_indicators():
    src = json.loads((templates_dir() / "src" / "alingsas-von-2020.json").read_text(encoding="utf-8"))
    result = CliRunner().invoke(app, ["plan", "check", str(example_plan_path("alingsas-von-2020")), "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert [d["namn"] for d in summary["avdelningar"]] == [
        "Planeringsavdelningen", "Myndighetsavdelningen", "Äldreboendeavdelningen",
        "Kvarboendeavdelningen", "Avdelningen för funktionsstöd", "Hälso- och sjukvårdsavdelningen"]
    assert summary["indikatorer"] == len(src["Indikatorer"])
    assert summary["malvarden"]["saknas"] == 0


def test_2020_targets_read_as_targets_md_says():
    plan = read_plan(example_plan_path("alingsas-von-2020"))
    by_text = {}
    for ind in plan.indicators:
        t = ind.target(2020, plan.goal(ind.goal_id))
        by_text[" ".join(ind.target_text(2020)[1].split())] = t
    t = by_text["Äldre och Funktionsstöd (Handikapp) >48 %"]
    assert t.kind == "threshold" and {(s.name, s.op, s.value) for s in t.series} == {
        ("Äldre", ">", 48), ("Funktionsstöd (Handikapp)", ">", 48)}
    t = by_text["Särskilt boende 88 %, hemtjänst 94%"]
    assert {(s.name, s.op, s.value) for s in t.series} == {("Särskilt boende", ">=", 88), ("hemtjänst", ">=", 94)}
    assert [(s.op, s.value) for s in by_text["86 %"].series] == [(">=", 86)]
    assert [(s.op, s.value) for s in by_text["Sammantagen nettokostnadsavvikelse ska understiga 0"].series] == [("<", 0)]
    assert next(t for k, t in by_text.items() if k.startswith("Färdigställa 28")).kind == "qualitative"


def test_2024_second_limit_and_missing_target():
    plan = read_plan(example_plan_path("alingsas-von-2024"))
    wait = next(i for i in plan.indicators if i.kpi_for(None) == "U23401")
    t = wait.target(2024, plan.goal(wait.goal_id))
    assert [(s.op, s.value, s.limit) for s in t.series] == [("<=", 65, 90)]
    n640 = next(i for i in plan.indicators if i.kpi_for(None) == "N00640")
    assert n640.target(2024).kind == "none"
    assert plan.settings.end_year == 2026


def test_plan_check_text_lists_every_indicator_with_its_reading():
    src = json.loads((templates_dir() / "src" / "alingsas-von-2020.json").read_text(encoding="utf-8"))
    out = CliRunner().invoke(app, ["plan", "check", str(example_plan_path("alingsas-von-2020"))]).output
    for row in src["Indikatorer"]:
        assert f"  {row['Indikator-id']} " in out
    assert "→ Äldre > 48; Funktionsstöd (Handikapp) > 48" in out
    assert "→ Särskilt boende ≥ 88; hemtjänst ≥ 94" in out
    assert "→ kvalitativt (bedöms manuellt)" in out
