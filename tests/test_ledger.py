"""The ledger export (huvudbok): read as text (CSV) or with calamine (XLSX), mapped by the plan, pulled into the
Ekonomi sheets."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from xlplan.actions.check import format_summary, plan_summary
from xlplan.actions.fill import fill
from xlplan.actions.pull import ledger_pull, load_books
from xlplan.books.department.columns import ECONOMY
from xlplan.books.department.reader import read_department_workbook
from xlplan.books.plan import plan_from_workbook, read_plan, write_plan_tables
from xlplan.core.errors import WorkbookRefused
from xlplan.core.periods import parse_period
from xlplan.io.ledger import parse_amount, read_ledger

PERIOD = parse_period("2024-delår")
HEADER = ["Ansvar", "Konto", "Period", "Belopp (kr)"]
# (ansvar, konto, period, belopp in kr as the ledger writes it: costs positive)
ROWS = [
    ("1100", "3010", "202403", "-400 000,00"),  # ALD income
    ("1110", "5010", "202405", "12 000 000,50"),  # ALD personnel (ansvar in the range 1100-1199)
    ("1100", "5020", "202408", "1 500 000"),  # ALD personnel
    ("1100", "5010", "202409", "999 999"),  # after August: not in the delår
    ("2100", "5010", "202406", "7 000 000"),  # LSS personnel
    ("9999", "5010", "202402", "250 000"),  # an ansvar of no department
    ("1100", "8999", "202402", "30 000"),  # an account of no budget line
]


def econ_tables(tiny: dict[str, Any]) -> dict[str, Any]:
    t = copy.deepcopy(tiny)
    t["Avdelningar"][0]["Ansvar"] = "1100-1199"
    t["Avdelningar"][1]["Ansvar"] = "2100"
    t["Ekonomi"] += [
        {"Avdelnings-id": "NÄMND", "Post": "Intäkter", "År": 2024, "Budget (tkr)": 1200},
        {"Avdelnings-id": "NÄMND", "Post": "Personalkostnader", "År": 2024, "Budget (tkr)": -55000},
    ]
    t["Kontoplan"] = [{"Post": "Intäkter", "Konton": "3000-3999"},
                      {"Post": "Personalkostnader", "Konton": "5000-5999"}]
    t["Inställningar"] += [
        {"Inställning": "Huvudbok fil", "Värde": "exporter/huvudbok_{år}*"},
        {"Inställning": "Huvudbok kolumner", "Värde": "Ansvar=Ansvar; Konto=Konto; Belopp=Belopp (kr); Period=Period"},
        {"Inställning": "Kommentarsgräns ekonomi (tkr)", "Värde": 100},
    ]
    return t


def write_csv(path: Path, rows: list[tuple[str, ...]] = ROWS, sep: str = ";", encoding: str = "utf-8",
              header: list[str] = HEADER) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


@pytest.fixture
def econ_plan_path(tmp_path: Path, tiny_tables: dict[str, Any]) -> Path:
    path = tmp_path / "plan.xlsx"
    write_plan_tables(econ_tables(tiny_tables), path)
    return path


# ---------------------------------------------------------------- amounts


@pytest.mark.parametrize(("text", "value"), [
    ("-1 234,50", -1234.5), ("1.234,50", 1234.5), ("1,234.50", 1234.5), ("1234.5", 1234.5),
    ("1 234,50-", -1234.5), ("(1 234)", -1234.0), ("\u22121\u00a0000", -1000.0), ("12", 12.0), (7, 7.0),
    ("1.234.567", 1234567.0), ("abc", None), ("", None), ("12,3,4x", None),
])
def test_amounts_in_the_forms_finance_systems_write(text: Any, value: float | None) -> None:
    assert parse_amount(text) == value


# ---------------------------------------------------------------- reading exports


@pytest.mark.parametrize(("sep", "encoding"), [(";", "utf-8"), ("\t", "utf-8"), (";", "cp1252"), ("\t", "cp1252")])
def test_separators_and_encodings_read_the_same(tmp_path: Path, econ_plan_path: Path, sep: str, encoding: str) -> None:
    plan = read_plan(econ_plan_path)
    path = write_csv(tmp_path / "exporter" / "huvudbok_2024.csv", sep=sep, encoding=encoding)
    got = read_ledger(path, plan, PERIOD)
    # kr -> tkr, costs positive in the ledger -> negative as in the budget
    assert got.amounts == {("ALD", "Intäkter"): pytest.approx(400.0),
                           ("ALD", "Personalkostnader"): pytest.approx(-13500.0005),
                           ("LSS", "Personalkostnader"): pytest.approx(-7000.0)}
    assert got.rows_outside_period == 1
    assert got.total == pytest.approx(400 - 13500.0005 - 7000 - 250 - 30)
    assert sorted((u.reason, u.code, round(u.amount, 6), u.rows, u.first_row) for u in got.unmapped) == [
        ("okänt ansvar", "9999", -250.0, 1, 7), ("okänt konto", "8999", -30.0, 1, 8)]
    messages = [p.message for p in got.problems()]
    assert any("9999" in m and "-250,0 tkr" in m for m in messages), messages


@pytest.mark.parametrize(("period", "personnel", "outside"), [
    ("2024-K1", 0.0, 4),  # kvartal 1: January–March (the April and later rows are outside)
    ("2024-T1", -12000.0005, 3),  # tertial 1: January–April takes the April row too
])
def test_the_first_report_sums_to_march_for_kvartal_1_and_to_april_for_tertial_1(
        tmp_path: Path, econ_plan_path: Path, period: str, personnel: float, outside: int) -> None:
    plan = read_plan(econ_plan_path)
    rows = [*ROWS, ("1100", "5010", "202404", "12 000 000,50")]  # April: in tertial 1, not in kvartal 1
    path = write_csv(tmp_path / "exporter" / "huvudbok_2024.csv", rows=[r for r in rows if r[2] != "202405"])
    got = read_ledger(path, plan, parse_period(period))
    assert got.amounts.get(("ALD", "Personalkostnader"), 0.0) == pytest.approx(personnel)
    assert got.amounts[("ALD", "Intäkter")] == pytest.approx(400.0)  # March: in both
    assert got.rows_outside_period == outside


def test_windows_1252_text_in_headers_is_read(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    t = econ_tables(tiny_tables)
    next(s for s in t["Inställningar"] if s["Inställning"] == "Huvudbok kolumner")["Värde"] = \
        "Ansvar=Ansvar; Konto=Konto; Belopp=Belopp (kr); Period=Månad"
    write_plan_tables(t, tmp_path / "plan.xlsx")
    plan = read_plan(tmp_path / "plan.xlsx")
    raw = "Ansvar;Konto;Månad;Belopp (kr);Text\r\n1100;5010;2024-03;1 000,00;Lön för sjuksköterska på Ängen\r\n"
    path = tmp_path / "hb.csv"
    path.write_bytes(raw.encode("cp1252"))
    got = read_ledger(path, plan, PERIOD)
    assert got.amounts == {("ALD", "Personalkostnader"): pytest.approx(-1.0)}


def test_comma_separated_with_points_is_read(tmp_path: Path, econ_plan_path: Path) -> None:
    plan = read_plan(econ_plan_path)
    rows = [(a, k, p, b.replace(" ", "").replace(",", ".")) for a, k, p, b in ROWS]
    got = read_ledger(write_csv(tmp_path / "hb.csv", rows, sep=","), plan, PERIOD)
    assert got.amounts[("LSS", "Personalkostnader")] == pytest.approx(-7000.0)


def test_comma_separated_with_decimal_commas_is_refused_naming_the_row(tmp_path: Path, econ_plan_path: Path) -> None:
    plan = read_plan(econ_plan_path)
    path = write_csv(tmp_path / "hb.csv", [("1100", "5010", "202403", "1000"), ("1100", "5010", "202403", "12,50")],
                     sep=",")
    with pytest.raises(WorkbookRefused) as exc:
        read_ledger(path, plan, PERIOD)
    assert "hb.csv" in str(exc.value) and "rad 3" in exc.value.reason


def test_a_bad_amount_is_refused_naming_file_row_and_column(tmp_path: Path, econ_plan_path: Path) -> None:
    plan = read_plan(econ_plan_path)
    path = write_csv(tmp_path / "hb.csv", ROWS[:2] + [("1100", "5010", "202403", "12 kr x")])
    with pytest.raises(WorkbookRefused) as exc:
        read_ledger(path, plan, PERIOD)
    assert exc.value.path.endswith("hb.csv")
    assert "rad 4, kolumn 'Belopp (kr)'" in exc.value.reason and "'12 kr x'" in exc.value.reason


def test_a_missing_column_is_refused_naming_it(tmp_path: Path, econ_plan_path: Path) -> None:
    plan = read_plan(econ_plan_path)
    path = write_csv(tmp_path / "hb.csv", header=["Ansvar", "Konto", "Period", "Summa"])
    with pytest.raises(WorkbookRefused, match="kolumnen 'Belopp \\(kr\\)' saknas"):
        read_ledger(path, plan, PERIOD)


def test_tkr_and_costs_negative_convention(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    t = econ_tables(tiny_tables)
    t["Inställningar"] += [{"Inställning": "Huvudbok enhet", "Värde": "tkr"},
                           {"Inställning": "Huvudbok tecken", "Värde": "kostnader negativa"}]
    write_plan_tables(t, tmp_path / "plan.xlsx")
    plan = read_plan(tmp_path / "plan.xlsx")
    rows = [("1100", "3010", "202403", "400"), ("1100", "5010", "202403", "-13 500,5")]
    got = read_ledger(write_csv(tmp_path / "hb.csv", rows), plan, PERIOD)
    assert got.amounts == {("ALD", "Intäkter"): pytest.approx(400.0), ("ALD", "Personalkostnader"): pytest.approx(-13500.5)}


def test_xlsx_export_is_read(tmp_path: Path, econ_plan_path: Path) -> None:
    from openpyxl import Workbook

    plan = read_plan(econ_plan_path)
    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append([1100, 5010, 202403, 2500000])
    ws.append([2100, 5010, "2024-04", "-1 000,00"])
    wb.save(tmp_path / "hb.xlsx")
    got = read_ledger(tmp_path / "hb.xlsx", plan, PERIOD)
    assert got.amounts == {("ALD", "Personalkostnader"): pytest.approx(-2500.0),
                           ("LSS", "Personalkostnader"): pytest.approx(1.0)}


# ---------------------------------------------------------------- the plan


def test_bad_ledger_settings_are_named(tmp_path: Path, tiny_tables: dict[str, Any]) -> None:
    t = econ_tables(tiny_tables)
    t["Inställningar"] += [{"Inställning": "Huvudbok enhet", "Värde": "miljoner"},
                           {"Inställning": "Huvudbok tecken", "Värde": "debet"}]
    t["Kontoplan"].append({"Post": "Lokalhyror", "Konton": "6100-6199"})
    write_plan_tables(t, tmp_path / "plan.xlsx")
    plan, problems = plan_from_workbook(tmp_path / "plan.xlsx")
    assert plan is None
    texts = " ".join(str(p) for p in problems)
    assert "'miljoner'" in texts and "'debet'" in texts and "Posten 'Lokalhyror' finns inte" in texts


def test_plan_check_says_when_the_distribution_misses_the_frame(econ_plan_path: Path) -> None:
    summary = plan_summary(read_plan(econ_plan_path))
    by_item = {d["post"]: d for d in summary["budgetfordelning"]}
    assert by_item["Intäkter"]["skillnad"] == 0
    assert by_item["Personalkostnader"]["skillnad"] == pytest.approx(-35400 - 20100 + 55000)
    text = format_summary(summary)
    assert "summerar inte till nämndens ram för 1 poster" in text
    assert "Personalkostnader 2024: ram -55 000 tkr, avdelningarna -55 500 tkr, skillnad -500 tkr." in text


# ---------------------------------------------------------------- into the department workbooks


def filled(tmp_path: Path, plan_path: Path) -> Path:
    out = tmp_path / "avd"
    fill(plan_path, PERIOD, None, out)
    return out


def economy_rows(path: Path) -> dict[str, Any]:
    book = read_department_workbook(path)
    return book.sheets[ECONOMY].rows


def test_ledger_outturn_lands_with_provenance_and_never_over_typed(tmp_path: Path, econ_plan_path: Path) -> None:
    plan = read_plan(econ_plan_path)
    out = filled(tmp_path, econ_plan_path)
    write_csv(tmp_path / "exporter" / "huvudbok_2024_08.csv")
    ald = next(out.glob("*Äldreomsorg*"))
    # a person typed the income outturn before the pull
    wb = load_workbook(ald)
    ws = wb[ECONOMY]
    income = economy_rows(ald)["E|Intäkter"]
    ws[income.cells["actual"]] = 390
    wb.save(ald)
    problems: list[Any] = []
    books = load_books(sorted(out.glob("*.xlsx")), problems)
    changes = ledger_pull(plan, books, tmp_path, PERIOD, problems)
    by = {(c.file.stem.split("_")[-2], c.row_id): c for c in changes}
    assert by[("Äldreomsorg", "E|Intäkter")].action == "behåll_inskrivet"
    assert by[("Äldreomsorg", "E|Personalkostnader")].action == "fyll"
    assert by[("Funktionsstöd", "E|Personalkostnader")].source.value == -7000.0
    assert any(p.code == "huvudbok_omappad" and "9999" in p.message for p in problems)
    from xlplan.actions.pull import apply_pull

    apply_pull(changes)
    rows = economy_rows(ald)
    assert rows["E|Intäkter"].values["actual"] == 390  # typed: kept
    assert rows["E|Personalkostnader"].values["actual"] == pytest.approx(-13500.0)
    assert rows["E|Personalkostnader"].values["outcome_source"].startswith("Källa: huvudbok_2024_08.csv")
    assert '"source": "huvudbok"' in rows["E|Personalkostnader"].values["provenance"]
    # pulling again changes nothing
    again = ledger_pull(plan, load_books(sorted(out.glob("*.xlsx")), []), tmp_path, PERIOD, [])
    assert [c for c in again if c.writes] == []


def test_typed_forecast_survives_refill_pull_and_consolidate(tmp_path: Path, econ_plan_path: Path) -> None:
    from xlplan.actions.consolidate import consolidate
    from xlplan.actions.pull import apply_pull

    plan = read_plan(econ_plan_path)
    out = filled(tmp_path, econ_plan_path)
    write_csv(tmp_path / "exporter" / "huvudbok_2024.csv")
    ald = next(out.glob("*Äldreomsorg*"))
    wb = load_workbook(ald)
    ws = wb[ECONOMY]
    row = economy_rows(ald)["E|Personalkostnader"]
    ws[row.cells["forecast"]] = -36100
    ws[row.cells["comment"]] = "Högre sjukfrånvaro ger mer övertid."
    wb.save(ald)
    apply_pull(ledger_pull(plan, load_books([ald], []), tmp_path, PERIOD, []))
    fill(econ_plan_path, PERIOD, None, out, update=True)
    apply_pull(ledger_pull(plan, load_books([ald], []), tmp_path, PERIOD, []))
    result = consolidate(out, econ_plan_path, PERIOD, tmp_path / "namnd.xlsx")
    rows = economy_rows(ald)
    assert rows["E|Personalkostnader"].values["forecast"] == -36100
    assert rows["E|Personalkostnader"].values["comment"] == "Högre sjukfrånvaro ger mer övertid."
    assert rows["E|Personalkostnader"].values["actual"] == pytest.approx(-13500.0)
    line = next(x for x in result.data.economy if x.department_id == "ALD" and x.item == "Personalkostnader")
    assert (line.forecast, line.deviation, line.outcome) == (-36100, -36100 + 35400, pytest.approx(-13500.0))


def test_flag_asks_for_a_missing_forecast_and_a_comment_past_the_limit(tmp_path: Path, econ_plan_path: Path) -> None:
    from xlplan.actions.flag import FLAG_LABELS, flag_book

    plan = read_plan(econ_plan_path)
    out = filled(tmp_path, econ_plan_path)
    ald = next(out.glob("*Äldreomsorg*"))
    wb = load_workbook(ald)
    rows = economy_rows(ald)
    wb[ECONOMY][rows["E|Personalkostnader"].cells["forecast"]] = -35600  # 200 tkr over budget: past the 100 limit
    wb[ECONOMY][rows["E|Intäkter"].cells["forecast"]] = 1250  # 50 tkr: within the limit
    wb.save(ald)
    flags = [f for f in flag_book(plan, read_department_workbook(ald)).flags if f.sheet == ECONOMY]
    assert [(f.code, f.cell) for f in flags] == [("ekonomikommentar_saknas", rows["E|Personalkostnader"].cells["comment"])]
    assert "-200 tkr" in flags[0].message and FLAG_LABELS[flags[0].code] == "Kommentar till avvikelsen saknas"
    wb = load_workbook(ald)
    wb[ECONOMY][rows["E|Personalkostnader"].cells["comment"]] = "Fler timmar i nattpatrullen."
    wb[ECONOMY][rows["E|Intäkter"].cells["forecast"]] = None
    wb.save(ald)
    flags = [f for f in flag_book(plan, read_department_workbook(ald)).flags if f.sheet == ECONOMY]
    assert [(f.code, f.cell) for f in flags] == [("prognos_saknas", rows["E|Intäkter"].cells["forecast"])]


def test_committee_economy_ties_to_the_ledger_and_the_frame(tmp_path: Path, econ_plan_path: Path) -> None:
    from xlplan.actions.consolidate import consolidate
    from xlplan.actions.pull import apply_pull
    from xlplan.books.committee import read_committee_workbook

    plan = read_plan(econ_plan_path)
    out = filled(tmp_path, econ_plan_path)
    write_csv(tmp_path / "exporter" / "huvudbok_2024.csv")
    books = load_books(sorted(out.glob("*.xlsx")), [])
    apply_pull(ledger_pull(plan, books, tmp_path, PERIOD, []))
    result = consolidate(out, econ_plan_path, PERIOD, tmp_path / "namnd.xlsx")
    codes = {p.code: p for p in result.problems}
    assert "utfall_huvudbok" in codes and "utfall_ej_huvudbok" not in codes
    assert "-20 380 tkr" in codes["utfall_huvudbok"].message  # the export's period total (unmapped rows too)
    assert codes["huvudbok_omappad"].severity == "varning" and "-280 tkr" in codes["huvudbok_omappad"].message
    assert "skillnad -500 tkr" in codes["budget_ej_ram"].message
    lines = [x for x in result.data.economy if x.department_id == "LSS"]
    assert [(x.item, x.outcome, x.year_share) for x in lines] == [("Personalkostnader", -7000.0, pytest.approx(8 / 12))]
    back = read_committee_workbook(tmp_path / "namnd.xlsx")
    assert [x.year_share for x in back.economy if x.department_id == "LSS"] == [pytest.approx(8 / 12)]
    # a person types over the pulled outturn: the committee's Kontroll says by how much it no longer ties
    ald = next(out.glob("*Äldreomsorg*"))
    wb = load_workbook(ald)
    wb[ECONOMY][economy_rows(ald)["E|Intäkter"].cells["actual"]] = 390
    wb.save(ald)
    result = consolidate(out, econ_plan_path, PERIOD, tmp_path / "namnd.xlsx")
    problem = next(p for p in result.problems if p.code == "utfall_ej_huvudbok")
    assert "skillnad -10 tkr" in problem.message and "Äldreomsorg Intäkter" in problem.message


def test_board_pack_chart_of_forecast_against_budget_per_department(tmp_path: Path) -> None:
    import dataclasses

    from xlplan.books.committee import department_totals
    from xlplan.export.charts import economy_chart
    from xlplan.export.sample import sample_committee_data

    data = sample_committee_data()
    chart = economy_chart(data, tmp_path / "ekonomi.png")
    assert chart is not None and chart.path.read_bytes().startswith(b"\x89PNG")
    deps = [d for d in department_totals(data.economy) if d.forecast is not None]
    assert deps and all(" ".join(d.department.split()) in (chart.alt_text or "") for d in deps)
    first = deps[0]
    from xlplan.core.numbers import format_number

    assert f"budget {format_number(-(first.budget or 0), 0)}, prognos {format_number(-(first.forecast or 0), 0)}" \
        in (chart.alt_text or "")
    no_forecast = dataclasses.replace(data, economy=tuple(dataclasses.replace(x, forecast=None) for x in data.economy))
    assert economy_chart(no_forecast, tmp_path / "tom.png") is None and not (tmp_path / "tom.png").exists()


def test_the_demo_plan_copy_splits_the_real_frame_exactly_and_its_ledger_export_ties(tmp_path: Path) -> None:
    from xlplan.actions.fill import demo_period
    from xlplan.actions.pull import demo_plan_copy
    from xlplan.core.model import is_investment
    from xlplan.example_values import EXAMPLE_LEDGER_NOTE

    path = demo_plan_copy("alingsas-von-2024", tmp_path)
    assert path is not None
    plan = read_plan(path)
    spread = plan_summary(plan)["budgetfordelning"]
    assert len(spread) == 8 and all(d["skillnad"] == 0 for d in spread)  # 5 lines and 3 investment projects
    assert {d.id: d.codes for d in plan.departments}["HEMT"] == ("4100-4199",)
    period = demo_period(plan)
    export = tmp_path / "planer" / "exporter" / "demo_huvudbok_2024.csv"
    text = export.read_bytes().decode("cp1252")
    assert all(line.endswith(EXAMPLE_LEDGER_NOTE) for line in text.splitlines()[1:])
    got = read_ledger(export, plan, period)
    assert got.unmapped == [] and got.rows_outside_period == 0
    # an investment's amount is its expenditure (positive); in the export's total it is a cost
    assert got.total == pytest.approx(sum(-v if is_investment(item) else v for (_, item), v in got.amounts.items()))
    assert {dep for dep, _ in got.amounts} == {d.id for d in plan.departments}
    # the made-up pace: every department and line within a few per cent of the budget's even pace
    for (dep, item), amount in got.amounts.items():
        budget = next(b.budget for b in plan.budget_for(dep, period.year) if b.item == item)
        assert abs(amount / (budget * period.year_share) - 1) < 0.08, (dep, item)


def test_cli_pull_reports_the_ledger_lines_and_the_unmapped_rest(tmp_path: Path, econ_plan_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from xlplan.cli import app

    out = filled(tmp_path, econ_plan_path)
    write_csv(tmp_path / "exporter" / "huvudbok_2024.csv", encoding="cp1252")
    monkeypatch.setenv("XLPLAN_CACHE_DIR", str(tmp_path / "cache"))
    result = CliRunner().invoke(app, ["pull", str(out), "--plan", str(econ_plan_path), "--offline"])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    text = result.output
    assert "Ekonomi!D7 (Personalkostnader): -13 500 (Källa: huvudbok_2024.csv" in text, text
    assert "okänt ansvar 9999" in text and "-250,0 tkr" in text
    ald = next(out.glob("*Äldreomsorg*"))
    assert economy_rows(ald)["E|Intäkter"].values["actual"] == 400


def test_decimal_commas_on_every_row_of_a_comma_separated_file_are_refused(tmp_path: Path, econ_plan_path: Path) -> None:
    plan = read_plan(econ_plan_path)
    rows = [("1100", "5010", "202403", "1000,50"), ("2100", "5010", "202403", "12,50")]
    with pytest.raises(WorkbookRefused) as exc:
        read_ledger(write_csv(tmp_path / "hb.csv", rows, sep=","), plan, PERIOD)
    assert "rad 2 har 5 fält men rubrikraden 4" in exc.value.reason


def test_the_plan_a_department_file_carries_keeps_the_ledger_settings(econ_plan_path: Path) -> None:
    from xlplan.books.department.embedded import plan_from_json, plan_slice, plan_to_json

    plan = read_plan(econ_plan_path)
    part = plan_slice(plan, "ALD")
    back = plan_from_json(plan_to_json(part))
    assert back.settings.ledger == plan.settings.ledger and back.settings.ledger is not None
    assert back.settings.ledger.factor == -0.001 and back.settings.economy_comment_threshold == 100
    assert back.accounts == plan.accounts and back.departments[0].codes == ("1100-1199",)
    assert back.version == plan.version


def test_a_file_filled_before_the_source_columns_gets_them_on_refill_keeping_its_inputs(
        tmp_path: Path, econ_plan_path: Path) -> None:
    out = filled(tmp_path, econ_plan_path)
    ald = next(out.glob("*Äldreomsorg*"))
    rows = economy_rows(ald)
    wb = load_workbook(ald)
    ws = wb[ECONOMY]
    first = min(int(ws[rows["E|Intäkter"].cells[k]].column) for k in ("outcome_source", "fetched_value", "provenance"))
    ws.delete_cols(first, 3)  # as a file written before the columns were added
    ws[rows["E|Intäkter"].cells["actual"]] = 380
    ws[rows["E|Intäkter"].cells["forecast"]] = 1150
    wb.save(ald)
    old = read_department_workbook(ald)
    assert "outcome_source" not in old.sheets[ECONOMY].columns
    assert all(p.severity == "info" for p in old.problems if p.code == "kolumn_saknas")
    fill(econ_plan_path, PERIOD, None, out, update=True)
    again = economy_rows(ald)["E|Intäkter"]
    assert (again.values["actual"], again.values["forecast"]) == (380, 1150)
    assert {"outcome_source", "fetched_value", "provenance"} <= set(again.cells)


def test_the_ekonomi_sheet_tells_where_the_outturn_comes_from_and_when_a_comment_is_needed(
        tmp_path: Path, econ_plan_path: Path) -> None:
    out = filled(tmp_path, econ_plan_path)
    ws = load_workbook(next(out.glob("*Äldreomsorg*")))[ECONOMY]
    note = next(str(c.value) for row in ws.iter_rows(max_row=4) for c in row if "tkr med tecken" in str(c.value))
    assert "hämtas ur huvudboken" in note and "större än 100 tkr förklaras i Kommentar" in note


def test_reading_the_ledger_loads_no_pandas(tmp_path: Path, econ_plan_path: Path) -> None:
    """Hämta värden reads the ledger in a fresh Python at every click: pandas alone would cost about 0,35 s."""
    import subprocess
    import sys

    path = write_csv(tmp_path / "exporter" / "huvudbok_2024.csv")
    code = ("import sys; from xlplan.books.plan import read_plan; from xlplan.core.periods import parse_period; "
            "from xlplan.io.ledger import read_ledger; "
            f"got = read_ledger({str(path)!r}, read_plan({str(econ_plan_path)!r}), parse_period('2024-delår')); "
            "print(len(got.amounts), sorted(m for m in ('pandas', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["3", "[]"]
