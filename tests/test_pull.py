"""xlplan pull over real HTTP against the Kolada stand-in on 127.0.0.1."""

from __future__ import annotations

import copy
import csv
import datetime as dt
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any, Iterator

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from xlplan.actions.comparisons import read_comparisons
from xlplan.actions.fill import fill
from xlplan.actions.pull import PullResult, plan_pull, pull
from xlplan.books.department.columns import INDICATORS
from xlplan.books.department.reader import DepartmentBook, read_department_workbook
from xlplan.books.plan import write_plan_tables
from xlplan.cli import app
from xlplan.core.errors import KOLADA_DOWN
from xlplan.kolada import KoladaCache, KoladaClient, KoladaStandin
from xlplan.kolada.standin_data import SAMPLES_DIR, STANDIN_GROUP_ID

PERIOD = "2022-helår"


def sample(kpi: str, unit: str, year: int) -> float | None:
    """The stand-in's source value, read straight from the real sample CSV."""
    path = SAMPLES_DIR / f"datapoints_{kpi.lower()}_by_geo_year_subset.csv"
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["geo"] == unit and int(row["year"]) == year:
                return float(row[kpi.lower()]) if row[kpi.lower()] else None
    return None


def plan_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    for s in t["Inställningar"]:
        if s["Inställning"] == "Planår":
            s["Värde"] = 2022
    t["Inställningar"].append({"Inställning": "Liknande kommuner", "Värde": STANDIN_GROUP_ID})
    t["Avdelningar"].append({"Avdelnings-id": "HSL", "Avdelning": "Hälso- och sjukvård"})
    i1, i2, i3, _ = t["Indikatorer"]
    i1.update({"Nulägesår": 2020, "Målvärde 2022": ">90 %"})
    i2.update({"Kolada-id": "Äldre: U23471; Funktionsstöd: U28524", "Målvärde 2022": ">69 %"})
    i3.update({"Målvärde 2022": "7,5 %"})
    t["Filkällor"] = [{"Indikator-id": "I3", "Fil": "exporter/sjuk_*.csv", "Värdekolumn": "Sjukfrånvaro %",
                       "Nyckelkolumner": "Enhet={avdelningsnamn}; Period={år}"}]
    return t


SICK = "Enhet;Period;Sjukfrånvaro %;Anställda\nÄldreomsorg;2022;8,4 %;1 012\nFunktionsstöd;2022;12 %;87\n"


@pytest.fixture
def folder(tmp_path: Path, tiny_tables: dict[str, Any]) -> Path:
    write_plan_tables(plan_tables(tiny_tables), tmp_path / "plan.xlsx")
    (tmp_path / "exporter").mkdir()
    (tmp_path / "exporter" / "sjuk_2022.csv").write_bytes(SICK.encode("cp1252"))
    fill(tmp_path / "plan.xlsx", PERIOD, None, tmp_path / "avd")
    return tmp_path


@pytest.fixture
def srv() -> Iterator[KoladaStandin]:
    with KoladaStandin(timeout_delay=2.0) as s:
        yield s


def client(srv: KoladaStandin, tmp_path: Path, **kw: Any) -> KoladaClient:
    opts: dict[str, Any] = {"timeout": 0.5, "max_retries": 1, "sleep": lambda s: None}
    opts.update(kw)
    return KoladaClient(base_url=srv.url, cache=KoladaCache(tmp_path / "cache"), **opts)


def run(folder: Path, srv: KoladaStandin, **kw: Any) -> PullResult:
    with client(srv, folder, offline=kw.pop("offline", False)) as c:
        return pull(folder / "avd", folder / "plan.xlsx", client=c, **kw)


def book(folder: Path, dep: str) -> DepartmentBook:
    (path,) = [p for p in (folder / "avd").glob("*.xlsx") if dep in p.name]
    return read_department_workbook(path)


def cell(b: DepartmentBook, row_id: str, key: str) -> Any:
    return b.row(INDICATORS, row_id).raw.get(key)  # type: ignore[union-attr]


def digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted((folder / "avd").glob("*.xlsx"))}


def set_outcome(folder: Path, dep: str, row_id: str, value: Any) -> None:
    b = book(folder, dep)
    wb = load_workbook(b.path)
    wb[INDICATORS][b.address(INDICATORS, row_id, "outcome")].value = value  # type: ignore[index]
    wb.save(b.path)


# ---------------------------------------------------------------- values land, with provenance


def test_values_land_in_the_right_cells_with_provenance(folder: Path, srv: KoladaStandin) -> None:
    result = run(folder, srv)
    ald, lss = book(folder, "Äldreomsorg"), book(folder, "Funktionsstöd")
    expected = sample("U21468", "1489", 2022)
    assert expected is not None
    assert cell(ald, "I|I1|", "outcome") == expected == cell(ald, "I|I1|", "fetched_value")
    today = srv_date(result)
    assert cell(ald, "I|I1|", "outcome_source") == (
        f"Källa: Kolada, U21468, Alingsås (1489), 2022, totalt, hämtad {today}, slutligt värde")
    prov = json.loads(cell(ald, "I|I1|", "provenance"))
    assert prov["source"] == "Kolada" and prov["kpi"] == "U21468" and prov["municipality"] == "1489"
    assert prov["year"] == 2022 and prov["gender"] == "T" and prov["from_cache"] is False
    assert prov["preliminary"] is False and prov["final"] is True and prov["fetched_at"]
    # per-series KPIs, in both departments
    for b in (ald, lss):
        assert cell(b, "I|I2|Äldre", "outcome") == sample("U23471", "1489", 2022)
        assert cell(b, "I|I2|Funktionsstöd", "outcome") == sample("U28524", "1489", 2022)
    # I1 is only reported by ALD
    assert lss.row(INDICATORS, "I|I1|") is None
    assert result.count("fyll") == 4 + 3 + 2 and sorted(p.name for p in result.written) == sorted(digests(folder))


def srv_date(result: PullResult) -> str:
    (c,) = [c for c in result.changes if c.row_id == "I|I1|"]
    assert c.source is not None
    return dt.datetime.fromisoformat(str(c.source.provenance["fetched_at"])).astimezone().date().isoformat()


def test_local_csv_with_swedish_numbers_lands_with_file_provenance(folder: Path, srv: KoladaStandin) -> None:
    run(folder, srv)
    ald, lss = book(folder, "Äldreomsorg"), book(folder, "Funktionsstöd")
    assert cell(ald, "I|I3|", "outcome") == 8.4 and cell(lss, "I|I3|", "outcome") == 12
    assert cell(ald, "I|I3|", "outcome_source") == "Källa: sjuk_2022.csv, rad 2"
    assert cell(lss, "I|I3|", "outcome_source") == "Källa: sjuk_2022.csv, rad 3"
    prov = json.loads(cell(lss, "I|I3|", "provenance"))
    assert prov["source"] == "fil" and prov["file"] == "exporter/sjuk_2022.csv" and prov["text"] == "12 %"
    assert prov["row"] == 3 and prov["column"] == "Sjukfrånvaro %"


def test_a_bad_export_row_is_named_and_the_rest_goes_on(folder: Path, srv: KoladaStandin) -> None:
    bad = "Enhet;Period;Sjukfrånvaro %\nÄldreomsorg;2022;ca 8\nFunktionsstöd;2022;1 012,5\n"
    (folder / "exporter" / "sjuk_2022.csv").write_text(bad, encoding="utf-8")
    result = run(folder, srv)
    msgs = [str(p) for p in result.problems]
    assert any("sjuk_2022.csv" in m and "Rad 2" in m and "Sjukfrånvaro %" in m and "ca 8" in m for m in msgs)
    ald, lss = book(folder, "Äldreomsorg"), book(folder, "Funktionsstöd")
    assert cell(ald, "I|I3|", "outcome") is None and cell(lss, "I|I3|", "outcome") == 1012.5
    assert cell(ald, "I|I1|", "outcome") == sample("U21468", "1489", 2022)


# ---------------------------------------------------------------- people's values


def test_typed_values_survive_and_differences_are_reported(folder: Path, srv: KoladaStandin) -> None:
    set_outcome(folder, "Äldreomsorg", "I|I1|", 90)
    set_outcome(folder, "Äldreomsorg", "I|I2|Äldre", sample("U23471", "1489", 2022))  # typed, same value
    result = run(folder, srv)
    ald = book(folder, "Äldreomsorg")
    assert cell(ald, "I|I1|", "outcome") == 90
    assert cell(ald, "I|I1|", "outcome_source") is None and cell(ald, "I|I1|", "provenance") is None
    kept = [c for c in result.changes if c.action == "behåll_inskrivet"]
    assert [(c.row_id, c.cell) for c in kept] == [("I|I1|", ald.address(INDICATORS, "I|I1|", "outcome"))]
    assert "90" in kept[0].message and "94" in kept[0].message
    problem = kept[0].problem()
    assert (problem.file, problem.sheet, problem.cell, problem.severity) == (
        ald.path.name, INDICATORS, kept[0].cell, "varning")
    assert not [c for c in result.changes if c.row_id == "I|I2|Äldre" and c.file == ald.path]
    assert any("Inskrivet utfall 90 behålls" in line for line in result.lines())


def test_repull_without_changes_changes_nothing(folder: Path, srv: KoladaStandin) -> None:
    run(folder, srv)
    before = digests(folder)
    again = run(folder, srv)
    assert digests(folder) == before
    assert again.written == [] and not [c for c in again.changes if c.writes]


def test_revised_value_is_reported_and_refreshed_only_with_overwrite(folder: Path, srv: KoladaStandin) -> None:
    run(folder, srv)
    srv.data.set_value("U21468", "1489", 2022, "T", 77.0)
    before = digests(folder)
    kept = run(folder, srv)
    assert digests(folder) == before
    (c,) = [c for c in kept.changes if c.row_id == "I|I1|"]
    assert c.action == "behåll_hämtat" and "--overwrite-pulled" in c.message
    assert any(r.kpi == "U21468" and r.new == 77.0 for r in kept.revisions)
    assert any("ändrat ett värde" in line for line in kept.lines())
    refreshed = run(folder, srv, overwrite_pulled=True)
    ald = book(folder, "Äldreomsorg")
    assert cell(ald, "I|I1|", "outcome") == 77 == cell(ald, "I|I1|", "fetched_value")
    assert [c.action for c in refreshed.changes if c.row_id == "I|I1|"] == ["uppdatera"]


def test_overwrite_pulled_never_touches_typed_values(folder: Path, srv: KoladaStandin) -> None:
    set_outcome(folder, "Äldreomsorg", "I|I1|", 50)
    run(folder, srv, overwrite_pulled=True)
    assert cell(book(folder, "Äldreomsorg"), "I|I1|", "outcome") == 50


def test_missing_year_is_said_and_left_empty(folder: Path, srv: KoladaStandin) -> None:
    srv.data.remove_row("U21468", "1489", 2022)
    result = run(folder, srv)
    (c,) = [c for c in result.changes if c.row_id == "I|I1|"]
    last = next(y for y in range(2021, 2010, -1) if sample("U21468", "1489", y) is not None)
    assert c.action == "saknas" and "Inget värde för år 2022" in c.message
    assert f"Senast publicerat: {last} = " in c.message
    assert cell(book(folder, "Äldreomsorg"), "I|I1|", "outcome") is None


# ---------------------------------------------------------------- Kolada failing


@pytest.mark.parametrize("fail", ["500", "timeout", "malformed"])
def test_failing_kolada_leaves_every_workbook_byte_identical(folder: Path, srv: KoladaStandin, fail: str) -> None:
    before = digests(folder)
    srv.set_failure(fail)
    result = run(folder, srv)
    assert_only_local_rows_filled(result, folder, before)


def assert_only_local_rows_filled(result: Any, folder: Path, before: dict[str, str], words: str = "") -> None:
    """Kolada failed: its rows wait (one warning, nothing written from Kolada, no "no value in Kolada"),
    the rows from local exports fill, and no comparisons are saved."""
    (down,) = [p for p in result.problems if p.code == KOLADA_DOWN]
    assert down.severity == "varning" and "Raderna med Kolada som källa hämtades inte" in down.message
    assert words in down.message
    written = [c for c in result.changes if c.writes]
    assert written and all(c.source.text.startswith("Källa: sjuk_2022.csv") for c in written)
    assert not [c for c in result.changes if c.action == "saknas"]
    assert {r.file.name for r in written} == {n for n, d in digests(folder).items() if before.get(n) != d}
    assert cell(book(folder, "Äldreomsorg"), "I|I1|", "outcome") is None  # the Kolada row waits
    assert not (folder / "avd" / "comparisons.json").exists()


def test_cli_failing_kolada_says_so_and_exits_1(folder: Path, srv: KoladaStandin) -> None:
    srv.set_failure("malformed")
    args = ["pull", str(folder / "avd"), "--plan", str(folder / "plan.xlsx"), "--kolada-url", srv.url,
            "--cache-dir", str(folder / "cache")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 1, result.output  # done, with a problem: Kolada's rows wait
    assert "Traceback" not in result.output
    assert "JSON" in result.output and "Raderna med Kolada som källa hämtades inte" in result.output
    assert cell(book(folder, "Äldreomsorg"), "I|I1|", "outcome") is None


def test_cli_pull_prints_report(folder: Path, srv: KoladaStandin) -> None:
    args = ["pull", str(folder / "avd"), "--plan", str(folder / "plan.xlsx"), "--kolada-url", srv.url,
            "--cache-dir", str(folder / "cache")]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Kolada:" in result.output and "Källa: Kolada, U21468" in result.output


# ---------------------------------------------------------------- batching, offline


def test_one_batched_fetch_request_count_grows_with_chunks(tmp_path: Path, tiny_tables: dict[str, Any],
                                                           srv: KoladaStandin) -> None:
    t = plan_tables(tiny_tables)
    t["Filkällor"] = []
    base = t["Indikatorer"][0]
    kpis = ["U21468", "U23471", "U28524", "N00640"] + [f"U9{n:04d}" for n in range(26)]
    t["Indikatorer"] = [dict(base, **{"Indikator-id": f"K{n}", "Kolada-id": k, "Avdelningar": ""})
                        for n, k in enumerate(kpis)]
    write_plan_tables(t, tmp_path / "plan.xlsx")
    fill(tmp_path / "plan.xlsx", PERIOD, None, tmp_path / "avd")
    with client(srv, tmp_path) as c:
        result = pull(tmp_path / "avd", tmp_path / "plan.xlsx", client=c)
    data_paths = [p for p in srv.paths if p.startswith("/v3/data/")]
    # 30 KPIs x 3 departments x 4 years: 2 chunks of KPIs -> 2 data requests (+ 2 metadata)
    assert len(data_paths) == 2 and c.request_count == len(srv.paths) == 4
    assert result.count("fyll") == 3 * 4


def test_few_kpis_three_departments_at_most_two_requests(folder: Path, srv: KoladaStandin) -> None:
    assert len(digests(folder)) == 3
    with client(srv, folder) as c:
        pull(folder / "avd", folder / "plan.xlsx", client=c)
    assert c.request_count <= 2 and len([p for p in srv.paths if "/data/" in p]) == 1


def test_offline_from_cache(folder: Path, srv: KoladaStandin, tmp_path: Path) -> None:
    run(folder, srv, dry_run=True)  # fills the cache, writes nothing
    assert all(cell(book(folder, d), "I|I2|Äldre", "outcome") is None for d in ("Äldreomsorg", "Funktionsstöd"))
    srv.set_failure("500")
    asked = len(srv.paths)
    result = run(folder, srv, offline=True)
    assert result.offline and result.lines()[0].startswith("Offline")
    ald = book(folder, "Äldreomsorg")
    assert cell(ald, "I|I1|", "outcome") == sample("U21468", "1489", 2022)
    assert json.loads(cell(ald, "I|I1|", "provenance"))["from_cache"] is True
    assert len(srv.paths) == asked


def test_offline_without_cache_fills_only_local_rows(folder: Path, srv: KoladaStandin) -> None:
    before = digests(folder)
    assert_only_local_rows_filled(run(folder, srv, offline=True), folder, before, "cachen")


# ---------------------------------------------------------------- comparisons, workbook integrity


def test_comparisons_for_riket_and_group_saved_next_to_the_workbooks(folder: Path, srv: KoladaStandin) -> None:
    result = run(folder, srv)
    rows = read_comparisons(folder / "avd", "testkommun-von-2024")
    assert rows and result.comparisons_path == folder / "avd" / "comparisons.json"
    by = {(r.kolada_id, r.municipality_id, r.year): r for r in rows}
    assert by[("U21468", "0000", 2022)].value == sample("U21468", "0000", 2022)
    assert by[("U21468", "0000", 2022)].municipality == "Riket"
    assert by[("U21468", "1489", 2020)].value == sample("U21468", "1489", 2020)  # baseline year
    group = by[("U21468", STANDIN_GROUP_ID, 2022)]
    members = [sample("U21468", m, 2022) for m in ("0580", "0581")]
    assert group.value == pytest.approx(sum(members) / 2)  # type: ignore[arg-type]
    assert all(r.source == "Kolada" and r.kpi_title for r in rows)


def _integrity(path: Path) -> dict[str, Any]:
    wb = load_workbook(path)
    ws = wb[INDICATORS]
    return {
        "sheets": [(s.title, s.sheet_state, s.protection.sheet) for s in wb.worksheets],
        "validations": sorted((dv.type, str(dv.sqref), dv.formula1) for dv in ws.data_validations.dataValidation),
        "conditional": sorted((str(r.sqref), len(r.rules)) for r in ws.conditional_formatting),
        "hidden": sorted(k for k, d in ws.column_dimensions.items() if d.hidden),
        "formats": [c.number_format for c in ws["K"]],
        "locked": [c.protection.locked for c in ws["K"]],
        "props": sorted((p.name, p.value) for p in wb.custom_doc_props.props),
        "names": sorted(wb.defined_names),
    }


def test_formats_validations_protection_survive(folder: Path, srv: KoladaStandin) -> None:
    path = book(folder, "Äldreomsorg").path
    before = _integrity(path)
    assert before["validations"] and before["conditional"] and before["hidden"]
    run(folder, srv)
    assert _integrity(path) == before


def test_xlsm_keeps_ribbon_relationship(folder: Path, srv: KoladaStandin) -> None:
    fill(folder / "plan.xlsx", PERIOD, None, folder / "xlsm", fmt="xlsm")
    with client(srv, folder) as c:
        pull(folder / "xlsm", folder / "plan.xlsx", client=c)
    (path,) = [p for p in (folder / "xlsm").glob("*Äldre*.xlsm")]
    with zipfile.ZipFile(path) as zf:
        rels = zf.read("_rels/.rels").decode()
        names = zf.namelist()
    assert "ui/extensibility" in rels and "customUI/customUI14.xml" in names and "xl/vbaProject.bin" in names
    assert cell(read_department_workbook(path), "I|I1|", "outcome") == sample("U21468", "1489", 2022)


def test_dry_run_and_open_workbooks_write_nothing(folder: Path, srv: KoladaStandin) -> None:
    before = digests(folder)
    result = run(folder, srv, dry_run=True)
    assert digests(folder) == before and result.count("fyll") == 9 and result.written == []
    ald = book(folder, "Äldreomsorg").path
    (ald.parent / ("~$" + ald.name)).write_bytes(b"lock")
    result = run(folder, srv)
    assert any(p.code == "fil_oppen" and p.file == ald.name for p in result.problems)
    assert digests(folder)[ald.name] == before[ald.name]


def test_plan_pull_is_pure(folder: Path, srv: KoladaStandin) -> None:
    books = [read_department_workbook(p) for p in sorted((folder / "avd").glob("*.xlsx"))]
    with client(srv, folder) as c:
        values = c.fetch(["U21468"], ["1489"], [2022]).values
    from xlplan.books.plan import read_plan

    plan = read_plan(folder / "plan.xlsx")
    before = digests(folder)
    changes = plan_pull(plan, books, values, [])
    assert digests(folder) == before
    assert [(c.row_id, c.action) for c in changes if c.writes] == [("I|I1|", "fyll")]
    saknas = {c.row_id for c in changes if c.action == "saknas"}
    assert saknas == {"I|I2|Äldre", "I|I2|Funktionsstöd"}


def test_demo_step_pulls_from_the_stand_in_and_the_made_up_export(tmp_path: Path) -> None:
    from xlplan.actions.pull import demo_step
    from xlplan.examples import example_plan_path, templates_dir

    fill(example_plan_path("alingsas-von-2024"), "2024-delår", ["HEMT", "MYND"], tmp_path / "avdelningar")
    lines: list[str] = []
    (result,) = demo_step(tmp_path, lines.append)
    hemt = next(read_department_workbook(p) for p in result.books if "hemtjänst" in p.name)
    assert cell(hemt, "I|AM-I01|", "outcome") == 63.2
    assert cell(hemt, "I|AM-I01|", "outcome_source").startswith("Källa: demo_pulsmatning_2024.csv, rad ")
    assert any("Senast publicerat: 2022" in line for line in "\n".join(lines).splitlines())
    assert "PÅHITTAT" in (templates_dir() / "exporter" / "demo_pulsmatning_2024.csv").read_bytes().decode("cp1252")
    assert not (templates_dir() / "src" / "alingsas-von-2024.json").read_text(encoding="utf-8").count("demo_")


def test_plan_found_beside_the_folder_and_single_workbook_target(folder: Path, srv: KoladaStandin) -> None:
    ald = book(folder, "Äldreomsorg").path
    before = digests(folder)
    with client(srv, folder) as c:
        result = pull(ald, client=c)  # no --plan: plan.xlsx in the folder above is found by its Plan-id
    after = digests(folder)
    assert result.written == [ald] and after[ald.name] != before[ald.name]
    assert {k: v for k, v in after.items() if k != ald.name} == {k: v for k, v in before.items() if k != ald.name}
    assert (ald.parent / "comparisons.json").exists()


def test_a_file_that_is_not_a_department_workbook_is_refused(folder: Path, srv: KoladaStandin) -> None:
    from xlplan.core.errors import WorkbookRefused

    with client(srv, folder) as c, pytest.raises(WorkbookRefused, match="_xlplan"):
        pull(folder / "plan.xlsx", folder / "plan.xlsx", client=c)
    (folder / "avd" / "annan.xlsx").write_bytes((folder / "plan.xlsx").read_bytes())
    result = run(folder, srv)  # in a folder it is skipped and noted
    assert any(p.code == "hoppades_over" and p.file == "annan.xlsx" for p in result.problems)
    assert result.count("fyll") == 9


def test_base_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    from xlplan.actions.pull import make_client
    from xlplan.books.plan import read_plan

    t = plan_tables(tiny_tables)
    t["Inställningar"].append({"Inställning": "Kolada-adress", "Värde": "http://plan.example/v3"})
    write_plan_tables(t, tmp_path / "p.xlsx")
    plan = read_plan(tmp_path / "p.xlsx")
    monkeypatch.delenv("XLPLAN_KOLADA_URL", raising=False)
    with make_client(plan, None, False, tmp_path) as c:
        assert c.base_url == "http://plan.example/v3"
    monkeypatch.setenv("XLPLAN_KOLADA_URL", "http://env.example/v3")
    with make_client(plan, None, False, tmp_path) as c:
        assert c.base_url == "http://env.example/v3"
    with make_client(plan, "http://flag.example/v3/", True, tmp_path) as c:
        assert c.base_url == "http://flag.example/v3" and c.offline and c.cache.folder == tmp_path  # type: ignore[union-attr]


def test_preliminary_values_say_so(folder: Path, srv: KoladaStandin) -> None:
    srv.data.update_kpi("U21468", prel_publication_date="2022-06-01", publication_date="2099-10-04",
                        publ_period="2022")
    run(folder, srv)
    ald = book(folder, "Äldreomsorg")
    assert cell(ald, "I|I1|", "outcome_source").endswith(", preliminärt värde")
    prov = json.loads(cell(ald, "I|I1|", "provenance"))
    assert prov["preliminary"] is True and prov["final"] is False
    assert cell(ald, "I|I2|Äldre", "outcome_source").endswith(", slutligt värde")


def test_a_workbook_changed_while_pulling_is_left_alone(folder: Path, srv: KoladaStandin,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    import xlplan.actions.pull as pull_module

    ald = book(folder, "Äldreomsorg").path
    real = pull_module.plan_pull

    def plan_then_touch(*args: Any, **kw: Any) -> Any:
        out = real(*args, **kw)
        ald.write_bytes(ald.read_bytes() + b"")  # same bytes, new mtime: a person saved it
        import os
        os.utime(ald, ns=(1, 1))
        return out

    monkeypatch.setattr(pull_module, "plan_pull", plan_then_touch)
    before = digests(folder)
    result = run(folder, srv)
    assert digests(folder)[ald.name] == before[ald.name] and ald not in result.written
    assert any(p.code == "skrivfel" and p.file == ald.name and "ändrades" in p.message for p in result.problems)
    assert len(result.written) == 2


def test_a_workbook_without_the_pull_columns_is_skipped(folder: Path, srv: KoladaStandin) -> None:
    ald = book(folder, "Äldreomsorg")
    wb = load_workbook(ald.path)
    ws = wb[INDICATORS]
    ws.delete_cols(ws[ald.address(INDICATORS, "I|I1|", "provenance")].column)  # type: ignore[index]
    wb.save(ald.path)
    result = run(folder, srv)
    assert any(p.code == "hamtkolumner_saknas" and p.file == ald.path.name for p in result.problems)
    assert ald.path not in result.written and len(result.written) == 2


def test_kolada_previous_year_lands_in_an_empty_comparison_cell(tmp_path: Path, tiny_tables: dict[str, Any],
                                                                 srv: KoladaStandin) -> None:
    t = plan_tables(tiny_tables)
    i1, i2 = t["Indikatorer"][0], t["Indikatorer"][1]
    i1.update({"Målvärde 2022": "Öka", "Nuläge": None, "Nulägesår": None})  # direction target, no baseline
    # a target naming no series applies to the first series (here Funktionsstöd); Äldre is reported only
    i2.update({"Målvärde 2022": "Öka", "Nuläge": None, "Nulägesår": None, "Serier": "Funktionsstöd; Äldre"})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    fill(tmp_path / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "avd")
    b = book(tmp_path, "Äldreomsorg")
    wb = load_workbook(b.path)
    wb[INDICATORS][b.address(INDICATORS, "I|I2|Äldre", "comparison")].value = 42  # typed by the department
    wb.save(b.path)
    result = run(tmp_path, srv)
    b = book(tmp_path, "Äldreomsorg")
    expected = sample("U28524", "1489", 2021)
    assert expected is not None and sample("U21468", "1489", 2021) is None
    assert (cell(b, "I|I2|Funktionsstöd", "comparison"), cell(b, "I|I2|Funktionsstöd", "comparison_source")) == (
        expected, "Kolada 2021")
    assert cell(b, "I|I2|Funktionsstöd", "outcome") == sample("U28524", "1489", 2022)  # the outcome as before
    assert cell(b, "I|I2|Äldre", "comparison") == 42 and cell(b, "I|I2|Äldre", "comparison_source") is None
    assert cell(b, "I|I1|", "comparison") is None  # Kolada has no value for 2021
    assert cell(b, "I|I3|", "comparison") is None  # a threshold target compares with no value
    (changed,) = [c for c in result.changes if c.action == "jämförelsevärde"]
    assert changed.row_id == "I|I2|Funktionsstöd"
    assert changed.cell == b.address(INDICATORS, changed.row_id, "comparison")
    # the next refill keeps what pull wrote (no earlier file gives a value) and the typed value
    fill(tmp_path / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "avd", update=True)
    b = book(tmp_path, "Äldreomsorg")
    assert (cell(b, "I|I2|Funktionsstöd", "comparison"), cell(b, "I|I2|Funktionsstöd", "comparison_source")) == (
        expected, "Kolada 2021")
    assert cell(b, "I|I2|Äldre", "comparison") == 42  # kept, though the reported row compares with nothing


def sample_gender(kpi: str, unit: str, year: int, gender: str) -> float | None:
    """The stand-in's K/M value, read straight from the real gender sample CSV."""
    path = SAMPLES_DIR / f"datapoints_{kpi.lower()}_by_geo_gender_year_subset.csv"
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["geo"] == unit and int(row["year"]) == year and row["gender"] == gender:
                return float(row[kpi.lower()]) if row[kpi.lower()] else None
    return None


def test_gender_series_on_one_kpi_pull_their_own_gender(tmp_path: Path, tiny_tables: dict[str, Any],
                                                         srv: KoladaStandin) -> None:
    t = plan_tables(tiny_tables)
    i2 = t["Indikatorer"][1]
    i2.update({"Kolada-id": "U23471", "Serier": "Totalt; kvinnor; Män", "Målvärde 2022": ">69 %",
               "Nuläge": None, "Nulägesår": None})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    fill(tmp_path / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "avd")
    result = run(tmp_path, srv)
    b = book(tmp_path, "Äldreomsorg")
    total, women, men = (sample("U23471", "1489", 2022), sample_gender("U23471", "1489", 2022, "K"),
                         sample_gender("U23471", "1489", 2022, "M"))
    assert None not in (total, women, men) and len({total, women, men}) == 3
    assert cell(b, "I|I2|Totalt", "outcome") == total
    assert cell(b, "I|I2|kvinnor", "outcome") == women and cell(b, "I|I2|Män", "outcome") == men
    assert ", kvinnor, " in cell(b, "I|I2|kvinnor", "outcome_source")
    assert json.loads(cell(b, "I|I2|Män", "provenance"))["gender"] == "M"
    assert {c.row_id for c in result.changes if c.row_id.startswith("I|I2|")} == {
        "I|I2|Totalt", "I|I2|kvinnor", "I|I2|Män"}
    # (a series that names no gender on the same KPI is refused by the plan check: test_planio)


def test_the_previous_year_of_a_gender_series_is_its_own_gender(tmp_path: Path, tiny_tables: dict[str, Any],
                                                                  srv: KoladaStandin) -> None:
    t = plan_tables(tiny_tables)
    t["Indikatorer"][1].update({"Kolada-id": "U28524", "Serier": "Kvinnor; Män", "Målvärde 2022": "Öka",
                                "Nuläge": None, "Nulägesår": None})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    fill(tmp_path / "plan.xlsx", PERIOD, ["ALD"], tmp_path / "avd")
    run(tmp_path, srv)
    b = book(tmp_path, "Äldreomsorg")
    women_2021 = sample_gender("U28524", "1489", 2021, "K")
    assert women_2021 is not None and women_2021 != sample("U28524", "1489", 2021)
    # "Öka" names no series and there is no Totalt: it applies to each series, each compared with its own
    # gender's previous year (never the total)
    assert (cell(b, "I|I2|Kvinnor", "comparison"), cell(b, "I|I2|Kvinnor", "comparison_source")) == (
        women_2021, "Kolada 2021")
    assert cell(b, "I|I2|Män", "comparison") == sample_gender("U28524", "1489", 2021, "M")
    assert cell(b, "I|I2|Män", "outcome") == sample_gender("U28524", "1489", 2022, "M")
