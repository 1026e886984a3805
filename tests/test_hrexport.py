"""Personnel key figures: the plan's Personal and Personalkällor sheets, the HR export reader, the pull
into the departments' Personal sheets, the committee's Personal sheet and the board pack's section.

Real files throughout: plan workbooks, CSV/XLSX exports in every format, filled department workbooks.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from docx import Document

from xlplan.actions.consolidate import consolidate
from xlplan.actions.fill import fill
from xlplan.actions.pull import pull
from xlplan.books.committee import read_committee_workbook
from xlplan.books.department.columns import PERSONNEL
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import plan_from_workbook, read_plan, write_plan_tables
from xlplan.core.model import PersonnelTarget
from xlplan.core.periods import parse_period
from xlplan.export.charts import ReportCharts
from xlplan.export.docx_report import build_report
from xlplan.io.hrexport import committee_value, period_matches, read_hr_values

PERIOD = parse_period("2024-delår")
MEASURE = "Sjukfrånvaro total"


def hr_tables(tiny: dict[str, Any], **source: Any) -> dict[str, Any]:
    """The tiny plan without Kolada ids, with committee key figures and one HR export mapped."""
    t = copy.deepcopy(tiny)
    for ind in t["Indikatorer"]:
        ind.pop("Kolada-id", None)
    t["Avdelningar"][0]["Ansvar"] = "3100; 3110"
    t["Personal"][0]["HR-mått"] = MEASURE  # ALD's own target: 8 %
    t["Personal"] += [
        {"Avdelnings-id": "NÄMND", "Nyckeltal": "Sjukfrånvaro totalt", "Nuvärde": "8,1 %", "Målvärde": "7,5 %",
         "HR-mått": MEASURE},
        {"Avdelnings-id": "NÄMND", "Nyckeltal": "Personalomsättning", "Målvärde": "<10 %"},
        {"Avdelnings-id": "NÄMND", "Nyckeltal": "Antal anställda", "Enhet": "antal"},
    ]
    row = {"Fil": "hr/hr_{år}.csv", "Avdelningskolumn": "Ansvar", "Periodkolumn": "Period",
           "Måttkolumn": "Nyckeltal", "Värdekolumn": "Värde", "Timkolumn": "Arbetad tid"}
    row.update(source)
    t["Personalkällor"] = [row]
    return t


EXPORT = [
    ("Ansvar", "Period", "Nyckeltal", "Värde", "Arbetad tid"),
    ("3100", "2024-08", MEASURE, "8,4 %", "120 000"),
    ("3110", "2024-08", "Personalomsättning", "11,2 %", "120 000"),
    ("3100", "2024-08", "Antal anställda", "312", ""),
    ("Funktionsstöd", "2024-08", MEASURE, "6,0 %", "40 000"),
    ("Funktionsstöd", "2024-08", "Friskvårdstimmar", "1", ""),
    ("9999", "2024-08", MEASURE, "5", ""),
    ("Funktionsstöd", "2024-04", MEASURE, "6,5 %", "10 000"),
]


def write_csv(path: Path, rows: list[tuple[str, ...]], sep: str = ";", encoding: str = "cp1252") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    quoted = [[f'"{c}"' if sep == "," and "," in c else c for c in r] for r in rows]
    path.write_bytes("\r\n".join(sep.join(r) for r in quoted).encode(encoding) + b"\r\n")
    return path


@pytest.fixture
def setup(tmp_path: Path, tiny_tables: dict[str, Any]) -> Path:
    write_plan_tables(hr_tables(tiny_tables), tmp_path / "plan.xlsx")
    write_csv(tmp_path / "hr" / "hr_2024.csv", EXPORT)
    fill(tmp_path / "plan.xlsx", PERIOD, None, tmp_path / "avd")
    return tmp_path


def values_of(folder: Path) -> dict[tuple[str, str], float]:
    got, _ = read_hr_values(read_plan(folder / "plan.xlsx"), folder, PERIOD)
    return {(v.department_id, v.name): v.value for v in got}


def dep_book(folder: Path, name: str) -> Any:
    (path,) = [p for p in (folder / "avd").glob("*.xlsx") if name in p.name]
    return read_department_workbook(path)


def personnel_cell(book: Any, name: str, key: str) -> Any:
    return book.row(PERSONNEL, f"P|{name}").raw.get(key)


# ---------------------------------------------------------------- the plan


def test_the_plan_reads_personnel_targets_and_the_hr_mapping(setup: Path) -> None:
    plan = read_plan(setup / "plan.xlsx")
    ald = {p.name: p for p in plan.personnel_for("ALD")}
    assert ald["Sjukfrånvaro totalt"].target == "8 %"  # the department's own row wins over NÄMND's
    assert plan.personnel_for("LSS")[0].target == "7,5 %"  # the committee's target holds for LSS
    assert ald["Antal anställda"].is_count and not ald["Personalomsättning"].is_count
    assert ald["Sjukfrånvaro totalt"].polarity() == "lower"
    (source,) = plan.hr_sources
    assert (source.department_column, source.hours_column, source.fractions) == ("Ansvar", "Arbetad tid", False)
    assert plan.department("ALD").codes == ("3100", "3110")


def test_a_plan_without_the_new_columns_keeps_its_version(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    """Fields added for personnel are left out of the version while empty: no needless refill."""
    plain = read_plan(write_plan(tmp_path / "a.xlsx", tiny_tables))
    content = dataclasses.asdict(plain)
    for key in ("_version", "hr_sources", "questions", "accounts"):
        content.pop(key)
    added = {"departments": ("codes",), "personnel": ("unit", "measures", "polarity_text"),
             "indicators": ("reporter", "history"),
             "goals": ("level1", "description", "level1_description", "priority_description")}
    for key in ("ledger", "economy_comment_threshold"):
        content["settings"].pop(key)
    for table, keys in added.items():
        for record in content[table]:
            for key in keys:
                record.pop(key, None)
    blob = json.dumps(content, sort_keys=True, ensure_ascii=False, default=str)
    assert plain.version == hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]  # as before these fields
    with_codes = copy.deepcopy(tiny_tables)
    with_codes["Avdelningar"][0]["Ansvar"] = "3100"
    assert read_plan(write_plan(tmp_path / "b.xlsx", with_codes)).version != plain.version


def write_plan(path: Path, tables: dict[str, Any]) -> Path:
    write_plan_tables(tables, path)
    return path


def test_bad_personalkallor_rows_are_named(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    t = hr_tables(tiny_tables, Andelar="decimaler")
    del t["Personalkällor"][0]["Måttkolumn"]
    t["Personal"].append({"Avdelnings-id": "XYZ", "Nyckeltal": "Sjukfrånvaro män", "Polaritet": "bättre"})
    plan, problems = plan_from_workbook(write_plan(tmp_path / "plan.xlsx", t))
    assert plan is None
    text = "\n".join(str(p) for p in problems)
    assert "'Måttkolumn' måste fyllas i" in text
    assert "Andelar 'decimaler' ska vara 'procent'" in text
    assert "'XYZ' finns inte på bladet Avdelningar" in text
    assert "Polaritet 'bättre'" in text


# ---------------------------------------------------------------- the reader


@pytest.mark.parametrize("sep", [";", ",", "\t"])
@pytest.mark.parametrize("encoding", ["cp1252", "utf-8", "utf-8-sig"])
def test_every_separator_and_encoding_reads_the_same(setup: Path, sep: str, encoding: str) -> None:
    write_csv(setup / "hr" / "hr_2024.csv", EXPORT, sep, encoding)
    assert values_of(setup) == {("ALD", "Sjukfrånvaro totalt"): 8.4, ("ALD", "Personalomsättning"): 11.2,
                                ("ALD", "Antal anställda"): 312.0, ("LSS", "Sjukfrånvaro totalt"): 6.0}


def test_fractions_are_read_as_percent_when_the_plan_says_so(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    write_plan_tables(hr_tables(tiny_tables, Andelar="kvot"), tmp_path / "plan.xlsx")
    rows = [EXPORT[0], ("3100", "2024-08", MEASURE, "0,084", "1"), ("3100", "2024-08", "Personalomsättning",
                                                                  "11,2 %", "1"),
            ("3100", "2024-08", "Antal anställda", "312", "")]
    write_csv(tmp_path / "hr" / "hr_2024.csv", rows)
    assert values_of(tmp_path) == {("ALD", "Sjukfrånvaro totalt"): 8.4, ("ALD", "Personalomsättning"): 11.2,
                                   ("ALD", "Antal anställda"): 312.0}  # a count is never scaled


def test_an_xlsx_export_with_numbers_and_a_named_sheet(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    write_plan_tables(hr_tables(tiny_tables, Fil="hr/hr.xlsx", Blad="Sjukfrånvaro", Andelar="kvot",
                                Periodkolumn=None), tmp_path / "plan.xlsx")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Sjukfrånvaro"
    for r in [("Ansvar", "Nyckeltal", "Värde", "Arbetad tid"), ("3100", MEASURE, 0.053, 1000),
              ("Funktionsstöd", MEASURE, 0.071, 3000)]:
        ws.append(r)
    (tmp_path / "hr").mkdir()
    wb.save(tmp_path / "hr" / "hr.xlsx")
    got = values_of(tmp_path)
    assert got == {("ALD", "Sjukfrånvaro totalt"): pytest.approx(5.3), ("LSS", "Sjukfrånvaro totalt"): 7.1}


def test_rows_that_map_to_nothing_are_reported_with_file_rows_and_column(setup: Path) -> None:
    got, problems = read_hr_values(read_plan(setup / "plan.xlsx"), setup, PERIOD)
    assert len(got) == 4
    by_code = {p.code: p for p in problems}
    dep, measure = by_code["hr_okand_enhet"], by_code["hr_okant_matt"]
    assert dep.file == "hr_2024.csv" and "'9999' i kolumnen 'Ansvar' (rad 7)" in dep.message
    assert measure.file == "hr_2024.csv" and "'Friskvårdstimmar' i kolumnen 'Nyckeltal' (rad 6)" in measure.message
    assert "2024-04" not in " ".join(p.message for p in problems)  # another period's row is no problem


def test_a_missing_column_an_unreadable_value_and_conflicting_rows(setup: Path) -> None:
    rows = [EXPORT[0], ("3100", "2024-08", MEASURE, "åtta", "1"), ("Funktionsstöd", "2024-08", MEASURE, "6", "1"),
            ("LSS", "2024-08", MEASURE, "7", "1")]
    write_csv(setup / "hr" / "hr_2024.csv", rows)
    got, problems = read_hr_values(read_plan(setup / "plan.xlsx"), setup, PERIOD)
    assert got == []
    text = "\n".join(str(p) for p in problems)
    assert "Rad 2, kolumn 'Värde': 'åtta' är inte ett tal" in text
    assert "Flera rader ger olika värden för Sjukfrånvaro totalt, LSS: hr_2024.csv rad 3 (6), hr_2024.csv rad 4 (7)" \
        in text
    write_csv(setup / "hr" / "hr_2024.csv", [("Enhet", "Period", "Nyckeltal", "Värde")])
    _, problems = read_hr_values(read_plan(setup / "plan.xlsx"), setup, PERIOD)
    (p,) = problems
    assert p.code == "hr_kolumn_saknas" and "'Ansvar', 'Arbetad tid'" in p.message and "'Enhet'" in p.message


def test_period_cells() -> None:
    assert period_matches("2024-delår", PERIOD) and period_matches("2024 delår", PERIOD)
    assert period_matches("2024-08", PERIOD) and period_matches("202408", PERIOD) and period_matches(202408, PERIOD)
    assert not period_matches("2024-06", PERIOD) and not period_matches("2024", PERIOD)
    assert period_matches("2024", parse_period("2024-helår")) and period_matches(2024.0, parse_period("2024-helår"))
    assert period_matches("2024-03", parse_period("2024-K1")) and not period_matches(None, PERIOD)


def test_the_committee_value_says_how_it_was_computed() -> None:
    share, count = PersonnelTarget("NÄMND", "Sjukfrånvaro"), PersonnelTarget("NÄMND", "Antal anställda", unit="antal")
    assert committee_value(share, [(8.4, 120_000.0, None), (6.0, 40_000.0, None)]) == (
        pytest.approx(7.8), "vägt med arbetad tid (timmar) ur HR-exporten, 2 avdelningar")
    assert committee_value(share, [(8.0, None, 300.0), (4.0, None, 100.0)], 3) == (
        7.0, "vägt med antal anställda ur HR-exporten, 2 av 3 avdelningar")
    value, how = committee_value(share, [(8.0, 10.0, None), (4.0, None, None)])
    assert value == 6.0 and how.startswith("medelvärde av 2 avdelningar, ovägt")
    assert committee_value(count, [(300.0, None, None), (12.0, None, None)]) == (312.0, "summa av 2 avdelningar")
    assert committee_value(share, []) == (None, "inget avdelningsutfall")


# ---------------------------------------------------------------- pull, typed values, consolidation, pack


def test_pull_fills_the_personal_sheet_with_provenance_and_keeps_typed_values(setup: Path) -> None:
    ald = dep_book(setup, "Äldreomsorg").path
    wb = openpyxl.load_workbook(ald)
    book = read_department_workbook(ald)
    wb[PERSONNEL][book.address(PERSONNEL, "P|Personalomsättning", "outcome")] = 10.9  # typed by a person
    wb.save(ald)
    result = pull(setup / "avd", setup / "plan.xlsx")
    ald_book = dep_book(setup, "Äldreomsorg")
    assert personnel_cell(ald_book, "Sjukfrånvaro totalt", "outcome") == 8.4
    assert personnel_cell(ald_book, "Sjukfrånvaro totalt", "outcome_source") == "Källa: hr_2024.csv, rad 2"
    assert '"hours": 120000.0' in personnel_cell(ald_book, "Sjukfrånvaro totalt", "provenance")
    assert personnel_cell(ald_book, "Personalomsättning", "outcome") == 10.9  # never overwritten
    assert personnel_cell(ald_book, "Personalomsättning", "fetched_value") is None
    kept = [c for c in result.changes if c.action == "behåll_inskrivet"]
    assert len(kept) == 1 and "Inskrivet utfall 10,9 behålls; källan har 11,2" in kept[0].message
    assert "bladet Personal, Personalomsättning" in kept[0].message
    assert any("'9999' i kolumnen 'Ansvar'" in line for line in result.lines())
    # a second pull writes nothing, and a new export value does not replace a pulled one without the option
    before = {p.name: p.read_bytes() for p in (setup / "avd").glob("*.xlsx")}
    again = pull(setup / "avd", setup / "plan.xlsx")
    assert again.written == [] and before == {p.name: p.read_bytes() for p in (setup / "avd").glob("*.xlsx")}
    rows = [r if r[1:3] != ("2024-08", MEASURE) or r[0] != "3100" else ("3100", "2024-08", MEASURE, "8,6 %", "1")
            for r in EXPORT]
    write_csv(setup / "hr" / "hr_2024.csv", rows)
    later = pull(setup / "avd", setup / "plan.xlsx")
    assert [c.action for c in later.changes if c.writes] == []
    assert personnel_cell(dep_book(setup, "Äldreomsorg"), "Sjukfrånvaro totalt", "outcome") == 8.4
    updated = pull(setup / "avd", setup / "plan.xlsx", overwrite_pulled=True)
    assert [c.action for c in updated.changes if c.writes] == ["uppdatera"]
    assert personnel_cell(dep_book(setup, "Äldreomsorg"), "Personalomsättning", "outcome") == 10.9


def test_typed_personnel_values_survive_a_refill(setup: Path) -> None:
    pull(setup / "avd", setup / "plan.xlsx")
    lss = dep_book(setup, "Funktionsstöd").path
    wb = openpyxl.load_workbook(lss)
    book = read_department_workbook(lss)
    wb[PERSONNEL][book.address(PERSONNEL, "P|Personalomsättning", "outcome")] = 4.2
    wb[PERSONNEL][book.address(PERSONNEL, "P|Personalomsättning", "comment")] = "Få har slutat."
    wb.save(lss)
    fill(setup / "plan.xlsx", PERIOD, None, setup / "avd", update=True)
    pull(setup / "avd", setup / "plan.xlsx")
    book = dep_book(setup, "Funktionsstöd")
    assert personnel_cell(book, "Personalomsättning", "outcome") == 4.2
    assert personnel_cell(book, "Personalomsättning", "comment") == "Få har slutat."
    assert personnel_cell(book, "Sjukfrånvaro totalt", "outcome") == 6.0


def test_the_committee_workbook_and_the_pack_show_personnel_against_targets(setup: Path) -> None:
    pull(setup / "avd", setup / "plan.xlsx")
    out = setup / "namnd" / "sammanstallning.xlsx"
    consolidate(setup / "avd", setup / "plan.xlsx", PERIOD, out)
    data = read_committee_workbook(out)
    lines = {(x.department, x.name): x for x in data.personnel}
    ald = lines[("Äldreomsorg", "Sjukfrånvaro totalt")]
    assert (ald.target, ald.outcome, ald.status, ald.basis) == ("8 %", 8.4, "Delvis uppfyllt",
                                                               "Källa: hr_2024.csv, rad 2")
    assert lines[("Funktionsstöd", "Sjukfrånvaro totalt")].status == "Uppfyllt"
    total = lines[("Nämnden", "Sjukfrånvaro totalt")]
    assert total.outcome == pytest.approx(7.8) and total.target == "7,5 %" and total.status == "Delvis uppfyllt"
    assert total.basis == "vägt med arbetad tid (timmar) ur HR-exporten, 2 avdelningar"
    staff = lines[("Nämnden", "Antal anställda")]
    assert (staff.outcome, staff.unit, staff.basis) == (312.0, "antal", "summa av 1 av 2 avdelningar")
    assert lines[("Nämnden", "Personalomsättning")].status == "Ej uppfyllt"
    assert "Personal" in openpyxl.load_workbook(out, read_only=True).sheetnames

    build_report(data, ReportCharts(), setup / "rapport.docx")
    doc = Document(str(setup / "rapport.docx"))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Nyckeltal" and len(t.columns) == 5)
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[1] == ["Sjukfrånvaro totalt", "8,1\u00a0%", "7,5\u00a0%", "7,8\u00a0%", "Delvis uppfyllt"]
    assert rows[2][2] == "<\u00a010\u00a0%" and rows[3][3:] == ["312", "Målvärde saknas"]
    per_dep = next(t for t in doc.tables if [c.text for c in t.rows[0].cells] == ["Nyckeltal", "ALD", "LSS"])
    assert [c.text for c in per_dep.rows[1].cells] == ["Sjukfrånvaro totalt", "8,4\u00a0%", "6\u00a0%"]
    texts = "\n".join(p.text for p in doc.paragraphs)
    assert "Sjukfrånvaro totalt: vägt med arbetad tid (timmar) ur HR-exporten, 2 avdelningar;" in texts
    assert "Ingen uppföljning av personal" not in texts


def test_nothing_reported_keeps_the_sheet_out_and_the_pack_says_why(setup: Path) -> None:
    out = setup / "namnd.xlsx"
    t = read_plan(setup / "plan.xlsx")
    assert t.hr_sources  # the plan has a source, but without any export file nothing is reported
    (setup / "hr" / "hr_2024.csv").unlink()
    consolidate(setup / "avd", setup / "plan.xlsx", PERIOD, out)
    data = read_committee_workbook(out)
    assert data.personnel == ()
    assert "Personal" not in openpyxl.load_workbook(out, read_only=True).sheetnames
    build_report(data, ReportCharts(), setup / "rapport.docx")
    texts = "\n".join(p.text for p in Document(str(setup / "rapport.docx")).paragraphs)
    assert "Ingen uppföljning av personal (sjukfrånvaro, personalomsättning) har rapporterats" in texts


def test_the_exports_own_committee_row_is_the_committees_value_and_comments_reach_the_pack(setup: Path) -> None:
    rows = EXPORT + [("Vård- och omsorgsnämnden", "2024-08", MEASURE, "7,9 %", "")]
    write_csv(setup / "hr" / "hr_2024.csv", rows)
    pull(setup / "avd", setup / "plan.xlsx")
    lss = dep_book(setup, "Funktionsstöd").path
    wb = openpyxl.load_workbook(lss)
    book = read_department_workbook(lss)
    wb[PERSONNEL][book.address(PERSONNEL, "P|Sjukfrånvaro totalt", "comment")] = "Färre långa sjukskrivningar."
    wb.save(lss)
    out = setup / "namnd.xlsx"
    data = consolidate(setup / "avd", setup / "plan.xlsx", PERIOD, out).data
    total = next(x for x in data.personnel if x.department_id is None and x.name == "Sjukfrånvaro totalt")
    assert (total.outcome, total.basis) == (7.9, "HR-exportens rad för hela nämnden (hr_2024.csv, rad 9)")
    build_report(read_committee_workbook(out), ReportCharts(), setup / "rapport.docx")
    texts = [p.text for p in Document(str(setup / "rapport.docx")).paragraphs]
    assert "Funktionsstöd: Sjukfrånvaro totalt: Färre långa sjukskrivningar." in texts
    assert not any(t.startswith("Funktionsstöd: Personal, Sjukfrånvaro totalt: utfall") for t in texts)
