"""The CLI face of the core: target, status, plan check — JSON shapes and exit codes."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from xlplan.cli import app

runner = CliRunner()


def run(*args: str):
    return runner.invoke(app, list(args))


def test_target_json_shape():
    r = run("target", "65 (90)", "--polarity", "lower", "--json")
    assert r.exit_code == 0
    assert json.loads(r.output) == {"kind": "threshold", "direction": None, "series": [
        {"name": None, "op": "<=", "value": 65.0, "unit": None, "limit": 90.0}]}


def test_target_direction_and_qualitative():
    assert json.loads(run("target", "Öka", "--json").output)["kind"] == "direction"
    assert json.loads(run("target", "Öka", "--json").output)["direction"] == "increase"
    assert json.loads(run("target", "Månatlig uppföljning", "--json").output)["kind"] == "qualitative"
    assert json.loads(run("target", "", "--json").output)["kind"] == "none"


def test_target_explained_in_swedish():
    r = run("target", "Äldre och Funktionsstöd (Handikapp) >48 %", "--series", "Äldre; Funktionsstöd (Handikapp)")
    assert "Äldre: över 48 %" in r.output and "Funktionsstöd (Handikapp): över 48 %" in r.output


def test_status_json_and_flags():
    r = run("status", "--target", "65 (90)", "--outcome", "95", "--polarity", "lower", "--json")
    assert r.exit_code == 0
    data = json.loads(r.output)
    assert data["status"] == "ej_uppfyllt"
    assert "andra_gransen_passerad" in data["flags"]
    assert data["series"][0]["outcome"] == 95


def test_status_series_partial():
    r = run("status", "--target", "Särskilt boende 88 %, hemtjänst 94%", "--outcome",
            "Särskilt boende 90 %, hemtjänst 80 %", "--series", "Särskilt boende; hemtjänst",
            "--polarity", "higher", "--json")
    data = json.loads(r.output)
    assert data["status"] == "delvis_uppfyllt"
    assert [s["status"] for s in data["series"]] == ["uppfyllt", "ej_uppfyllt"]


def test_status_missing_outcome_and_target():
    assert json.loads(run("status", "--target", ">48 %", "--outcome", "I.U", "--json").output)["status"] == "utfall_saknas"
    assert json.loads(run("status", "--target", "", "--outcome", "50", "--json").output)["status"] == "malvarde_saknas"


def test_status_of_a_direction_target_without_anything_to_compare_with():
    r = run("status", "--target", "Öka", "--outcome", "50")
    assert r.exit_code == 0 and r.output.startswith("Status: Jämförelsevärde saknas")
    assert "--previous" in r.output and "--baseline" in r.output  # says how to give the missing value
    data = json.loads(run("status", "--target", "Öka", "--outcome", "50", "--json").output)
    assert (data["status"], data["flags"]) == ("jamforelsevarde_saknas", ["jamforelsevarde_saknas"])
    assert json.loads(run("status", "--target", "Öka", "--outcome", "50", "--previous", "45",
                          "--json").output)["status"] == "uppfyllt"


def test_bad_input_exit_2_with_swedish_line():
    r = run("status", "--target", ">48 %", "--outcome", "ca 50")
    assert r.exit_code == 2
    assert "'ca 50' är inte ett tal" in r.output
    r = run("target", "5", "--polarity", "uppåt")
    assert r.exit_code == 2 and "Polaritet" in r.output


def test_plan_check_reports_errors_exit_2(tiny_tables, write_tables):
    tiny_tables["Indikatorer"][0]["Mål-id"] = "M9"
    r = run("plan", "check", str(write_tables(tiny_tables)))
    assert r.exit_code == 2
    assert "'M9' finns inte på bladet Mål" in r.output


def test_plan_check_lists_every_indicator_it_cannot_assess_and_why(tiny_tables, write_tables):
    t = tiny_tables
    i1, i2, i3, _ = t["Indikatorer"]
    i1.update({"Målvärde 2024": "Öka", "Nuläge": None, "Nulägesår": None})  # Kolada has last year: fine
    i2["Målvärde 2024"] = "Äldre och LSS >69 %"  # LSS is not one of the series
    i3.update({"Målvärde 2024": "Minska", "Nuläge": None, "Nulägesår": None})  # nothing to compare with
    t["Mål"].append({"Mål-id": "M3", "Nämndens mål": "Trygg vård"})
    t["Indikatorer"] += [
        {"Indikator-id": "I5", "Mål-id": "M3", "Indikator": "Trygghet, medelvärde", "Målvärde 2024": "8"},
        {"Indikator-id": "I6", "Mål-id": "M3", "Indikator": "Besök per brukare", "Målvärde 2024": "Öka"},
        {"Indikator-id": "I7", "Mål-id": "M3", "Indikator": "Trygghet, index", "Målvärde 2024": "8",
         "Polaritet": "högre"},
    ]
    t["Filkällor"] = [{"Indikator-id": "I6", "Fil": "exporter/besok_*.csv", "Värdekolumn": "Besök",
                       "Nyckelkolumner": "Enhet={avdelningsnamn}"}]
    path = write_tables(t)
    r = run("plan", "check", str(path), "--json")
    assert r.exit_code == 0, r.output
    found = {(w["id"], w["serie"], w["kod"]): w for w in json.loads(r.output)["kan_inte_bedomas"]}
    assert set(found) == {("I2", None, "okand_serie_i_malvarde"), ("I3", None, "jamforelsevarde_saknas"),
                          ("I5", None, "polaritet_saknas")}
    assert "'LSS'" in found[("I2", None, "okand_serie_i_malvarde")]["orsak"]
    assert "skriver in ett jämförelsevärde" in found[("I3", None, "jamforelsevarde_saknas")]["orsak"]
    assert found[("I5", None, "polaritet_saknas")]["ar"] == [2024]
    text = run("plan", "check", str(path)).output
    assert "VARNING: 3 indikatorrader kan inte bedömas automatiskt:" in text
    assert "  I3: riktningsmålet 'Minska' har inget nuläge" in text
    # no file is written: the folder holds the plan only
    assert sorted(p.name for p in path.parent.iterdir()) == [path.name]


def test_target_naming_no_series_applies_to_the_total():
    r = run("target", "85 %", "--series", "Kvinnor; Män; Totalt", "--polarity", "higher")
    assert "gäller Totalt (totalen); övriga serier redovisas" in r.output
    data = json.loads(run("target", "Öka", "--series", "Totalt; Kvinnor", "--json").output)
    assert data["scope"] == "Totalt"
    r = run("status", "--target", "85 %", "--outcome", "Totalt 80 %, Kvinnor 90 %, Män 70 %", "--series",
            "Totalt; Kvinnor; Män", "--polarity", "higher", "--json")
    data = json.loads(r.output)
    assert data["status"] == "ej_uppfyllt" and [s["name"] for s in data["series"]] == ["Totalt"]
