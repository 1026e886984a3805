"""The committee workbook: writer and reader round-trip, layout, and refusal of other files."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook, load_workbook

from xlplan.books.committee import (
    FORMAT_VERSION,
    META_SHEET,
    SHEETS,
    CommentLine,
    CommitteeData,
    EconomyLine,
    complete_goals,
    department_totals,
    economy_totals,
    goal_status_counts,
    read_committee_workbook,
    write_committee_workbook,
)
from xlplan.core.errors import WorkbookRefused, WorkbookUnreadable
from xlplan.export.sample import sample_committee_data
from xlplan.io import lo

REPO = Path(__file__).resolve().parents[1]
FOREIGN = REPO.parent / "shared" / "testdata" / "foreign-workbooks"


@pytest.fixture
def data() -> CommitteeData:
    return sample_committee_data()


@pytest.fixture
def written(tmp_path: Path, data: CommitteeData) -> Path:
    return write_committee_workbook(data, tmp_path / "nämnden_2024-delar.xlsx")


def editable(data: CommitteeData, tmp_path: Path) -> Workbook:
    """The workbook written for *data*, opened with openpyxl to be changed as a person would."""
    return load_workbook(write_committee_workbook(data, tmp_path / "original.xlsx"))


def sheet_xml(path: Path, sheet: str) -> str:
    """The XML of a sheet, found by name through workbook.xml and its relationships."""
    with zipfile.ZipFile(path) as zf:
        workbook = zf.read("xl/workbook.xml").decode()
        rels = zf.read("xl/_rels/workbook.xml.rels").decode()
        rid = re.search(rf'<sheet [^>]*name="{re.escape(sheet)}"[^>]*r:id="(rId\d+)"', workbook)
        assert rid, f"sheet {sheet} not in workbook.xml"
        target = re.search(rf'<Relationship [^>]*Id="{rid.group(1)}"[^>]*Target="([^"]+)"', rels) or \
            re.search(rf'<Relationship [^>]*Target="([^"]+)"[^>]*Id="{rid.group(1)}"', rels)
        assert target
        name = target.group(1).lstrip("/")
        return zf.read(name if name.startswith("xl/") else f"xl/{name}").decode()


NS = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}


def xml_cells(xml: str) -> dict[str, tuple[str | None, bool, str]]:
    """Cell reference -> (type attribute, has a formula, text) from a sheet's XML."""
    out = {}
    for c in ElementTree.fromstring(xml).iter(f"{{{NS['m']}}}c"):
        text = "".join(t.text or "" for t in c.iter(f"{{{NS['m']}}}t"))
        value = c.find("m:v", NS)
        out[c.get("r")] = (c.get("t"), c.find("m:f", NS) is not None, text or (value.text if value is not None else ""))
    return out


def test_round_trip_gives_the_same_data(written: Path, data: CommitteeData) -> None:
    back = read_committee_workbook(written)
    for f in dataclasses.fields(CommitteeData):
        assert getattr(back, f.name) == getattr(data, f.name), f.name
    assert back == data


def test_empty_committee_round_trips(tmp_path: Path, data: CommitteeData) -> None:
    empty = CommitteeData(data.meta)
    path = write_committee_workbook(empty, tmp_path / "tom.xlsx")
    assert read_committee_workbook(path) == empty


def test_sheets_are_swedish_in_order_with_hidden_meta(written: Path) -> None:
    wb = load_workbook(written)
    assert wb.sheetnames == ["Texter", "Inlämning", "Måluppfyllelse", "Indikatorer", "Aktiviteter", "Ekonomi",
                             "Kommentarer", "Internkontroll", "Jämförelser", "Kontroll", META_SHEET]
    assert wb[META_SHEET].sheet_state == "hidden"
    assert all(wb[name].sheet_state == "visible" for name in wb.sheetnames[:-1])
    meta = {r[0]: r[1] for r in wb[META_SHEET].iter_rows(min_row=2, values_only=True)}
    assert meta["kind"] == "committee" and meta["format_version"] == FORMAT_VERSION
    assert meta["municipality"] == "Alingsås" and meta["period"] == "2024-delår"


def test_headers_bold_frozen_filtered_and_status_coloured(written: Path) -> None:
    wb = load_workbook(written)
    ws = wb["Indikatorer"]
    assert [c.value for c in ws[3]][:3] == ["Mål-id", "Indikator-id", "Indikator"]
    assert all(c.font.bold for c in ws[3])
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref and ws.auto_filter.ref.startswith("A3:")
    rules = [r for cf in ws.conditional_formatting for r in cf.rules]
    assert {'"Uppfyllt"', '"Ej uppfyllt"', '"Delvis uppfyllt"'} <= {r.formula[0] for r in rules}
    status_col = [c.value for c in ws[3]].index("Status") + 1
    letter = ws.cell(row=3, column=status_col).column_letter
    assert all(str(cf.sqref).startswith(letter) for cf in ws.conditional_formatting)
    assert ws.column_dimensions["C"].width >= 30
    assert wb["Ekonomi"]["D4"].number_format == "#,##0;-#,##0"


def test_formula_like_text_is_stored_as_text(written: Path) -> None:
    cells = {**xml_cells(sheet_xml(written, "Indikatorer")), **{
        "akt" + ref: v for ref, v in xml_cells(sheet_xml(written, "Aktiviteter")).items()}}
    assert not any(has_formula for _t, has_formula, _text in cells.values())
    wb = load_workbook(written)
    texts = [c for name in ("Indikatorer", "Aktiviteter") for row in wb[name].iter_rows() for c in row
             if isinstance(c.value, str)]
    for start in ("=SUMMA(A1)", "-5 % mot budget", "@Kvalitetsrådet", "+2 handläggare"):
        found = [c for c in texts if c.value.startswith(start)]
        assert found, start
        assert all(c.data_type == "s" and cells[c.coordinate][0] == "s" for c in found
                   if c.parent.title == "Indikatorer"), start  # a shared string, never a formula


def test_economy_sheet_shows_totals_that_reading_skips(written: Path, data: CommitteeData) -> None:
    wb = load_workbook(written)
    rows = list(wb["Ekonomi"].iter_rows(min_row=4, values_only=True))
    totals = [r for r in rows if r[-1] == "Summa"]
    by_item = {r[2]: r for r in totals}
    assert by_item["Intäkter"][3] == 42_300 + 18_900
    assert by_item["Summa"][3] == pytest.approx(sum(x.budget for x in data.economy if x.budget))
    assert by_item["Summa"][6] == pytest.approx(-2_750.5)
    assert len(rows) == len(data.economy) + len(totals)
    assert read_committee_workbook(written).economy == data.economy


def test_economy_totals_per_item_and_department() -> None:
    lines = [EconomyLine("A", "Avd A", "Intäkter", 10, 5, 11, 1), EconomyLine("A", "Avd A", "Personal", -50, -30, -52, -2),
             EconomyLine("B", "Avd B", "Personal", -20, None, -19, 1)]
    totals = economy_totals(lines)
    assert [(t.item, t.budget, t.outcome, t.forecast, t.deviation) for t in totals] == [
        ("Intäkter", 10, 5, 11, 1), ("Personal", -70, -30, -71, -1), ("Summa", -60, -25, -60, 0)]
    assert [(d.department_id, d.budget) for d in department_totals(lines)] == [("A", -40), ("B", -20)]
    assert economy_totals([]) == []


def test_a_plan_workbook_is_refused_with_its_name(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active.title = "Inställningar"
    wb.active.append(["Inställning", "Värde"])
    path = tmp_path / "plan_2024.xlsx"
    wb.save(path)
    with pytest.raises(WorkbookRefused) as err:
        read_committee_workbook(path)
    assert str(err.value).startswith("plan_2024.xlsx: arbetsboken är ingen nämndsammanställning")


def test_another_xlplan_kind_is_refused(tmp_path: Path, data: CommitteeData) -> None:
    wb = editable(data, tmp_path)
    meta = wb[META_SHEET]
    meta["B2"] = "department"
    path = tmp_path / "Uppföljning_ABO.xlsx"
    wb.save(path)
    with pytest.raises(WorkbookRefused, match="Uppföljning_ABO.xlsx: arbetsboken är en arbetsbok av slaget "
                                              "'department' från xlplan, inte en nämndsammanställning"):
        read_committee_workbook(path)


def test_a_newer_format_is_refused(tmp_path: Path, data: CommitteeData) -> None:
    wb = editable(data, tmp_path)
    wb[META_SHEET]["B3"] = FORMAT_VERSION + 1
    path = tmp_path / "ny.xlsx"
    wb.save(path)
    with pytest.raises(WorkbookRefused, match="nyare än denna version"):
        read_committee_workbook(path)


def test_text_in_a_number_column_names_sheet_and_cell(tmp_path: Path, data: CommitteeData) -> None:
    wb = editable(data, tmp_path)
    ws = wb["Ekonomi"]
    ws["D5"] = "ca 50"
    path = tmp_path / "ändrad.xlsx"
    wb.save(path)
    with pytest.raises(WorkbookRefused) as err:
        read_committee_workbook(path)
    assert str(err.value) == ("ändrad.xlsx: blad 'Ekonomi', cell D5 (Budget (tkr)): 'ca 50' är inte ett tal.")


def test_a_missing_column_is_named(tmp_path: Path, data: CommitteeData) -> None:
    wb = editable(data, tmp_path)
    ws = wb["Indikatorer"]
    ws.delete_cols([c.value for c in ws[3]].index("Status") + 1)
    path = tmp_path / "utan_status.xlsx"
    wb.save(path)
    with pytest.raises(WorkbookRefused, match="blad 'Indikatorer': kolumnen/kolumnerna Status saknas"):
        read_committee_workbook(path)


def test_not_a_workbook_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "rapport.xlsx"
    path.write_text("inte en arbetsbok", encoding="utf-8")
    with pytest.raises(WorkbookUnreadable, match="rapport.xlsx"):
        read_committee_workbook(path)


@pytest.mark.parametrize("name", ["any_sheets.xlsx", "vba.xlsm", "pass_protected.xlsx", "any_sheets.ods",
                                  "date.xls", "errors.xlsx", "empty_sheet.xlsx", "picture.xlsb"])
def test_foreign_files_are_refused_cleanly(name: str) -> None:
    path = FOREIGN / name
    if not path.exists():
        pytest.skip(f"{path} finns inte")
    with pytest.raises((WorkbookRefused, WorkbookUnreadable)):
        read_committee_workbook(path)


_TEXT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=40).map(str.strip).filter(bool)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=_TEXT, outcome=st.one_of(st.none(), st.floats(-1e9, 1e9, allow_nan=False)))
def test_any_text_and_number_round_trip(tmp_path: Path, text: str, outcome: float | None) -> None:
    base = sample_committee_data()
    if outcome is not None:  # a cell holds 15 significant digits, as in Excel
        outcome = float(f"{outcome:.15g}")
    line = dataclasses.replace(base.indicators[0], comment=text, outcome=outcome)
    data = CommitteeData(base.meta, indicators=(line,), comments=(CommentLine(None, None, None, None, text),))
    path = write_committee_workbook(data, tmp_path / "prop.xlsx")
    assert read_committee_workbook(path) == data


def test_datetimes_round_trip_to_the_millisecond(tmp_path: Path, data: CommitteeData) -> None:
    when = dt.datetime(2024, 9, 12, 15, 40, 12, 345000)
    sub = dataclasses.replace(data.submissions[0], saved_at=when)
    path = write_committee_workbook(CommitteeData(data.meta, submissions=(sub,)), tmp_path / "t.xlsx")
    assert read_committee_workbook(path).submissions[0].saved_at == when


def test_every_sheet_spec_covers_its_record() -> None:
    for _attr, spec in SHEETS:
        names = {f.name for f in dataclasses.fields(spec.record)}
        assert {c.attr for c in spec.columns if not c.derived} == names, spec.name
        assert all(isinstance(getattr(spec.record, c.attr, None), property) for c in spec.columns if c.derived)


@pytest.mark.skipif(lo.soffice_path() is None, reason="LibreOffice (soffice) är inte installerat")
def test_a_workbook_saved_again_by_another_program_reads_the_same(written: Path, tmp_path: Path,
                                                                    data: CommitteeData) -> None:
    """A controller may open and save the file: shared strings, LibreOffice's own styles and dates."""
    resaved = lo.recalc_xlsx(written, tmp_path / "sparad")
    assert read_committee_workbook(resaved) == data


def test_export_public_surface() -> None:
    import xlplan.export as export_module

    assert sorted(export_module.__all__) == sorted(["BILAGA_NAME", "DOCX_NAME", "PDF_NAME", "PACK_NAMES", "ExportResult",
                                                   "export"])
    assert all(hasattr(export_module, name) for name in export_module.__all__)


def test_complete_goals_adds_a_goal_only_indicators_name(data: CommitteeData) -> None:
    assert complete_goals(data) == data
    partial = dataclasses.replace(data, goals=data.goals[:1])
    completed = complete_goals(partial)
    assert [g.goal_id for g in completed.goals] == ["M1", "M2", "M3"]
    m2 = completed.goals[1]
    # distinct indicators: I4 (one met, one partly, one missing) and I5 (partly) are both partly met
    assert (m2.goal_text, m2.fulfilled, m2.partly, m2.outcome_missing, m2.assessment) == (
        "Sjukfrånvaron bland medarbetarna ska minska.", 0, 2, 0, "Delvis uppfyllt")
    assert goal_status_counts(data.indicators)["M3"]["Ej uppfyllt"] == 1


def test_frames_are_the_workbook_tables_as_dataframes(written: Path, data: CommitteeData) -> None:
    from xlplan.books.committee import SHEETS, committee_frames

    frames = committee_frames(read_committee_workbook(written))
    assert list(frames) == [spec.name for _, spec in SHEETS]
    ind = frames["Indikatorer"]
    assert len(ind) == len(data.indicators) and "Status" in ind.columns
    assert list(ind["Indikator-id"]) == [line.indicator_id for line in data.indicators]
    assert ind["Utfall"].dtype.kind == "f"  # numbers stay numbers
