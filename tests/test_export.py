"""The board pack: docx from the template, charts, values-only bilaga, PDF, and refusals."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest
from docx import Document
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from openpyxl import Workbook, load_workbook
from PIL import Image

import xlplan.books.bilaga as bilaga_module
from xlplan.books.committee import (
    FULFILLED,
    NOT_FULFILLED,
    STATUS_COLOURS,
    read_committee_workbook,
    write_committee_workbook,
)
from xlplan.core.errors import ExportFailed, WorkbookRefused
from xlplan.export import BILAGA_NAME, DOCX_NAME, PDF_NAME, ExportResult, export
from xlplan.export.charts import STATUS_STYLE, source_note, target_number
from xlplan.export.docx_report import baseline_text, fmt, target_text
from xlplan.export.make_template import build_template, template_bytes
from xlplan.export.pdf import toc_pages
from xlplan.export.sample import sample_committee_data
from xlplan.io import lo

REPO = Path(__file__).resolve().parents[1]
HAS_SOFFICE = lo.soffice_path() is not None
MINUS = "\u2212"
M = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


@pytest.fixture(scope="module")
def committee(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_committee_workbook(sample_committee_data(), tmp_path_factory.mktemp("in") / "nämnden.xlsx")


@pytest.fixture(scope="module")
def full_export(committee: Path, tmp_path_factory: pytest.TempPathFactory) -> ExportResult:
    """One export with the default template (and PDF when LibreOffice is installed)."""
    return export(committee, tmp_path_factory.mktemp("ut") / "nämndrapport")


@pytest.fixture
def no_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo, "soffice_path", lambda: None)


def indicator_tables(doc: object) -> list[object]:
    """The goals' indicator tables (Avdelning, Nuläge …, Utfall <år>, Målvärde, Status)."""
    return [t for t in doc.tables if (lambda h: h[0] == "Avdelning" and h[-1] == "Status"  # type: ignore
                                      and any(x.startswith("Utfall ") for x in h))([c.text for c in t.rows[0].cells])]


def shading(cell: object) -> str | None:
    shd = cell._tc.tcPr.find(qn("w:shd")) if cell._tc.tcPr is not None else None  # type: ignore[attr-defined]
    return shd.get(qn("w:fill")) if shd is not None else None


# ---------------------------------------------------------------- docx


def test_one_indicator_table_per_goal_with_the_workbooks_values(full_export: ExportResult, committee: Path) -> None:
    data = read_committee_workbook(committee)
    doc = Document(str(full_export.docx))
    tables = indicator_tables(doc)
    assert len(tables) == len(data.goals)
    for goal, table in zip(data.goals, tables):
        lines = [x for x in data.indicators if x.goal_id == goal.goal_id]
        rows = [[c.text for c in r.cells] for r in table.rows[1:]]
        groups = [r[0] for r in rows if len(set(r)) == 1]  # merged indicator rows
        assert [g.split(". Målvärde: ")[0] for g in groups] == list(dict.fromkeys(x.indicator for x in lines))
        data_rows = [r for r in rows if len(set(r)) > 1]
        assert len(data_rows) == len(lines)
        headers = [c.text for c in table.rows[0].cells]
        for row, line in zip(data_rows, sorted(lines, key=lambda x: [g.split(". M")[0] for g in groups].index(
                x.indicator))):
            assert row[0] == line.department + (f", {line.series}" if line.series else "")
            assert row[1] == baseline_text(line)
            assert row[headers.index("Utfall 2024")] == fmt(line.outcome, line.unit)
            assert row[headers.index("Målvärde")] in (target_text(line), "se ovan")
            status = line.status if not line.assessment or line.assessment == line.status else line.assessment
            assert row[-1].startswith(status)


def test_numbers_are_swedish_and_statuses_are_coloured_words(full_export: ExportResult) -> None:
    doc = Document(str(full_export.docx))
    cells = {(r.cells[0].text, r.cells[2].text): r.cells[-1] for t in indicator_tables(doc) for r in t.rows[1:]}
    assert ("Myndighetsavdelningen, Funktionsstöd", "68,5\u00a0%") in cells
    assert ("Nämnden", "71\u00a0dagar") in cells
    assert ("Avdelningen för funktionsstöd", "–") in cells  # no outcome
    ej = cells[("Kvarboendeavdelningen", "92\u00a0%")]  # 94 % -> 92 %: the word, then the arrow as text
    assert ej.text == f"{NOT_FULFILLED} ↓" and shading(ej) == STATUS_COLOURS[NOT_FULFILLED][0]
    ok = cells[("Äldreboendeavdelningen", "87\u00a0%")]
    assert ok.text == f"{FULFILLED} ↑" and shading(ok) == STATUS_COLOURS[FULFILLED][0]


def test_economy_table_in_tkr_with_total(full_export: ExportResult) -> None:
    doc = Document(str(full_export.docx))
    table = next(t for t in doc.tables if t.rows[0].cells[0].text == "Avdelning"
                 and t.rows[0].cells[1].text == "Budget")
    last = [c.text for c in table.rows[-1].cells]
    assert last == ["Nämnden totalt", f"{MINUS}469\u00a0000", f"{MINUS}312\u00a0400", f"{MINUS}471\u00a0751",
                    f"{MINUS}2\u00a0751"]
    first = [c.text for c in table.rows[1].cells]
    assert first == ["Äldreboendeavdelningen", f"{MINUS}168\u00a0600", f"{MINUS}116\u00a0400", f"{MINUS}173\u00a0000",
                     f"{MINUS}4\u00a0400"]


def test_report_holds_every_part(full_export: ExportResult) -> None:
    doc = Document(str(full_export.docx))
    text = "\n".join(p.text for p in doc.paragraphs)
    headings = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert headings == ["Sammanfattning", "Viktiga händelser", "Måluppfyllelse", "Aktiviteter", "Ekonomi",
                        "Personal", "Internkontroll", "Framtid", "Om underlaget"]
    goals = [p.text for p in doc.paragraphs if p.style.name == "Heading 2"]
    assert goals[0] == "Mål M1: Brukarnas nöjdhet med vård och omsorg ska öka."
    assert "Delårsrapport 2024" in text and "Vård- och omsorgsnämnden" in text
    assert "Förslag till beslut" in text
    assert "(ej uppfyllt): =SUMMA(A1) Åtgärder: Kontinuiteten" in text  # an analysis shown as written
    assert "Plan:" not in text and "Utfallens ursprung:" not in text
    assert "Källa: Kolada" in text
    assert "{" not in text
    instr = " ".join(el.text for el in doc.element.body.iter(qn("w:instrText")))
    assert "TOC" in instr


def test_kolada_source_only_on_raw_values() -> None:
    data = sample_committee_data()
    raw = [c for c in data.comparisons if c.kolada_id == "U23471"]
    mixed = [c for c in data.comparisons if c.kolada_id == "U21468"]
    assert source_note(raw) == "Källa: Kolada"
    note = source_note(mixed)
    assert note.startswith("Källa: Kolada. Liknande kommuner (medel): Egen bearbetning av data från Kolada")
    derived = [c for c in mixed if not c.raw_kolada]
    assert "Källa: Kolada" not in source_note(derived)


def test_header_and_footer_placeholders_are_filled(full_export: ExportResult) -> None:
    doc = Document(str(full_export.docx))
    section = doc.sections[0]
    assert section.header.paragraphs[0].text.startswith("UTKAST – ")  # the sample is not approved
    assert section.header.paragraphs[1].text == "Alingsås · Vård- och omsorgsnämnden"
    assert section.footer.paragraphs[0].text.startswith("Uppföljning delår 2024 · sida ")
    assert section.page_width == build_template().sections[0].page_width


def test_charts_are_embedded_png_at_150_dpi_with_alt_text(full_export: ExportResult) -> None:
    with zipfile.ZipFile(full_export.docx) as zf:
        media = [n for n in zf.namelist() if n.startswith("word/media/")]
        images = [Image.open(io.BytesIO(zf.read(n))) for n in media]
    assert len(media) == 4  # one small-multiples chart per goal, and the economy's budget against forecast
    for image in images:
        assert image.format == "PNG"
        assert round(image.info["dpi"][0]) == 150
    doc = Document(str(full_export.docx))
    described = [el.get("descr") for el in doc.element.body.iter(qn("wp:docPr"))]
    assert len(described) == 4 and all(described)
    assert described[3].startswith("Stapeldiagram, nettokostnad per avdelning")
    assert "Kvarboendeavdelningen: 2022 94 %, 2024 92 %" in described[0]  # the values, in words
    assert "Riket (Kolada)" in described[0] and "målvärde" in described[0]


def test_status_styles_differ_in_grey_scale() -> None:
    hatches = [hatch for _colour, hatch in STATUS_STYLE.values()]
    assert len(set(hatches)) == len(hatches)


def test_target_number_from_value_or_single_number_text() -> None:
    line = sample_committee_data().indicators[0]
    assert target_number(line) == 85
    import dataclasses

    assert target_number(dataclasses.replace(line, target_value=None, target="minst 92,5 %")) == 92.5
    assert target_number(dataclasses.replace(line, target_value=None, target="Äldre 50 %, LSS 40 %")) is None
    assert target_number(dataclasses.replace(line, target_value=None, target="Systematisk analys")) is None


def test_swedish_cell_numbers() -> None:
    assert fmt(1234567.0, decimals=0) == "1\u00a0234\u00a0567"
    assert fmt(-2750.5, decimals=0) == f"{MINUS}2\u00a0751"
    assert fmt(68.5, "%") == "68,5\u00a0%"
    assert fmt(82.14285714, "%") == "82,1\u00a0%"
    assert fmt(142.0, "boendeplatser") == "142"  # a long unit is named in the indicator's row
    assert fmt(12, "antal") == "12"
    assert fmt(-0.001) == "0"
    assert fmt(None) == "–"


# ---------------------------------------------------------------- template


def kommun_template(path: Path) -> Path:
    """A municipality's own template: serif red headings, its own header text split over runs."""
    doc = Document()
    heading = doc.styles["Heading 1"]
    heading.font.name, heading.font.size = "DejaVu Serif", Pt(20)
    heading.font.color.rgb = RGBColor(0xAA, 0x00, 0x00)
    header = doc.sections[0].header.paragraphs[0]
    logo = path.with_name("logga.png")
    Image.new("RGB", (120, 40), (0, 90, 160)).save(logo)
    header.add_run().add_picture(str(logo))
    header.add_run("Testkommunens logga – {kom")
    header.add_run("mun}")
    doc.add_paragraph("Mallens egen text som ska bort.")
    doc.sections[0].left_margin = doc.sections[0].right_margin = Cm(3.5)
    doc.save(str(path))
    return path


def test_a_kommuns_template_is_honoured(committee: Path, tmp_path: Path, no_soffice: None) -> None:
    template = kommun_template(tmp_path / "kommunens_mall.docx")
    result = export(committee, tmp_path / "ut", template=template)
    doc = Document(str(result.docx))
    heading = doc.styles["Heading 1"]
    assert heading.font.name == "DejaVu Serif" and heading.font.size == Pt(20)
    assert heading.font.color.rgb == RGBColor(0xAA, 0x00, 0x00)
    assert doc.sections[0].header.paragraphs[1].text == "Testkommunens logga – Alingsås"
    header_part = doc.sections[0].header.part
    assert any("image" in rel.reltype for rel in header_part.rels.values())  # the logo is kept
    assert header_part.element.find(".//" + qn("w:drawing")) is not None
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Mallens egen text" not in text
    assert "Tabelltext" in [s.name for s in doc.styles]  # added where the template lacks it
    assert len(indicator_tables(doc)) == 3
    section = doc.sections[-1]
    text_width = section.page_width - section.left_margin - section.right_margin
    for table in doc.element.body.iter(qn("w:tbl")):  # tables fit the template's narrower text column
        grid = sum(int(col.get(qn("w:w"))) for col in table.iter(qn("w:gridCol")))
        assert grid * 635 <= text_width + 635 * len(list(table.iter(qn("w:gridCol"))))  # twips -> EMU
    assert result.pdf is None and any("LibreOffice" in w for w in result.warnings)


def test_committed_template_is_up_to_date() -> None:
    committed = REPO / "templates" / "namndrapport.docx"
    with zipfile.ZipFile(committed) as old, zipfile.ZipFile(io.BytesIO(template_bytes())) as new:
        names = sorted(n for n in new.namelist() if n != "docProps/core.xml")
        assert sorted(n for n in old.namelist() if n != "docProps/core.xml") == names
        for name in names:
            assert old.read(name) == new.read(name), (
                f"{name} differs: run python -m xlplan.export.make_template templates/namndrapport.docx")


# ---------------------------------------------------------------- bilaga


def test_bilaga_is_values_only(full_export: ExportResult) -> None:
    with zipfile.ZipFile(full_export.bilaga) as zf:
        names = zf.namelist()
        assert not [n for n in names if "vbaProject" in n or "externalLink" in n]
        workbook = ElementTree.fromstring(zf.read("xl/workbook.xml"))
        sheets = [s.get("name") for s in workbook.iter(f"{M}sheet")]
        assert all(s.get("state") in (None, "visible") for s in workbook.iter(f"{M}sheet"))
        for name in workbook.iter(f"{M}definedName"):
            assert name.get("name") == "_xlnm.Print_Titles", name.get("name")
            assert "[" not in (name.text or "") and (name.text or "").split("!")[0].strip("'") in sheets
        cells = {}
        for part in (n for n in names if n.startswith("xl/worksheets/sheet")):
            for c in ElementTree.fromstring(zf.read(part)).iter(f"{M}c"):
                assert c.find(f"{M}f") is None, f"{part} {c.get('r')} has a formula"
                text = "".join(t.text or "" for t in c.iter(f"{M}t"))
                if text:
                    cells[text] = c.get("t")
    assert cells["=SUMMA(A1)"] == "inlineStr"
    assert cells["-5 % mot budget för tekniken; upphandlingen överprövades."] == "inlineStr"
    assert "_xlplan" not in sheets and "Inlämning" not in sheets


def test_bilaga_has_the_committees_tables(full_export: ExportResult, committee: Path) -> None:
    data = read_committee_workbook(committee)
    wb = load_workbook(full_export.bilaga)
    assert wb.sheetnames == ["Om bilagan", "Måluppfyllelse", "Indikatorer", "Aktiviteter", "Ekonomi",
                             "Internkontroll", "Jämförelser"]
    ind = wb["Indikatorer"]
    header = [c.value for c in ind[1]]
    assert "Målvärde (tal)" not in header and ind.freeze_panes == "A2"
    outcome = header.index("Utfall")
    assert [r[outcome] for r in ind.iter_rows(min_row=2, values_only=True)] == [x.outcome for x in data.indicators]
    assert all(c.font.bold for c in ind[1])
    assert wb["Om bilagan"]["B2"].value == "Alingsås"
    assert ind.page_setup.orientation == "landscape"


# ---------------------------------------------------------------- refusal and atomicity


def test_a_non_committee_workbook_is_refused_and_dir_untouched(tmp_path: Path) -> None:
    wb = Workbook()
    wb.active["A1"] = "Budget"
    other = tmp_path / "budget.xlsx"
    wb.save(other)
    out = tmp_path / "ut"
    out.mkdir()
    (out / "gammal.txt").write_text("kvar", encoding="utf-8")
    with pytest.raises(WorkbookRefused) as err:
        export(other, out)
    assert str(err.value).startswith("budget.xlsx: arbetsboken är ingen nämndsammanställning")
    assert [p.name for p in out.iterdir()] == ["gammal.txt"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".xlplan-export-")]


def test_refused_export_does_not_create_dir(tmp_path: Path) -> None:
    other = tmp_path / "inte.xlsx"
    other.write_bytes(b"PK not really")
    with pytest.raises(Exception):
        export(other, tmp_path / "ny")
    assert not (tmp_path / "ny").exists()


def test_a_failing_part_leaves_nothing(committee: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       no_soffice: None) -> None:
    def broken(*_args: object, **_kw: object) -> None:
        raise ExportFailed("bilagan kunde inte skrivas")

    monkeypatch.setattr(bilaga_module, "write_bilaga", broken)
    out = tmp_path / "ut"
    with pytest.raises(ExportFailed):
        export(committee, out)
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".xlplan-export-")]


def test_missing_template_is_refused(committee: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportFailed, match="saknas.docx: Word-mallen finns inte"):
        export(committee, tmp_path / "ut", template=tmp_path / "saknas.docx")
    assert not (tmp_path / "ut").exists()


def test_a_broken_template_is_refused(committee: Path, tmp_path: Path, no_soffice: None) -> None:
    bad = tmp_path / "trasig.docx"
    bad.write_text("ingen docx", encoding="utf-8")
    with pytest.raises(ExportFailed, match="trasig.docx: Word-mallen kan inte öppnas"):
        export(committee, tmp_path / "ut", template=bad)
    assert not (tmp_path / "ut").exists()


def test_without_soffice_docx_and_bilaga_are_written(committee: Path, tmp_path: Path, no_soffice: None) -> None:
    result = export(committee, tmp_path / "ut")
    assert result.pdf is None
    assert sorted(p.name for p in (tmp_path / "ut").iterdir()) == sorted([DOCX_NAME, BILAGA_NAME])
    assert result.warnings == [f"LibreOffice (soffice) saknas: {PDF_NAME} skapades inte; {DOCX_NAME} och "
                               f"{BILAGA_NAME} skrevs."]


def test_cli_export_refuses_with_exit_2(tmp_path: Path) -> None:
    exe = shutil.which("xlplan", path=str(Path(__file__).resolve().parents[1] / ".venv" / "bin"))
    if exe is None:
        pytest.skip("xlplan-kommandot är inte installerat i .venv")
    wb = Workbook()
    wb.save(tmp_path / "plan.xlsx")
    run = subprocess.run([exe, "export", str(tmp_path / "plan.xlsx"), "--out", str(tmp_path / "ut")],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2
    assert "plan.xlsx: arbetsboken är ingen nämndsammanställning" in run.stderr
    assert not (tmp_path / "ut").exists()


# ---------------------------------------------------------------- PDF


def test_toc_pages_match_headings_in_order() -> None:
    lines = ["Sammanfattning\t3", "Mål M1: Lång\u00a0rubrik\t4", "Ekonomi\t7", "Ekonomi\t9", "Trasig rad"]
    assert toc_pages(lines, ["Sammanfattning", "Mål M1: Lång rubrik", "Ekonomi", "Ekonomi", "Saknas"]) \
        == [3, 4, 7, 9, None]


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) är inte installerat")
def test_pdf_has_pages_charts_and_page_numbers_in_contents(full_export: ExportResult) -> None:
    assert full_export.pdf is not None and full_export.pdf.name == PDF_NAME
    assert full_export.warnings == []
    info = subprocess.run(["pdfinfo", str(full_export.pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert 6 <= pages <= 10
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE)
    assert re.search(r"^Title:\s+Delårsrapport 2024 – Vård- och omsorgsnämnden, Alingsås$", info, re.MULTILINE)
    listing = subprocess.run(["pdfimages", "-list", str(full_export.pdf)], capture_output=True, text=True,
                             check=True).stdout.splitlines()[2:]
    assert len([line for line in listing if " image " in line]) >= 3
    texts = subprocess.run(["pdftotext", str(full_export.pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    contents = texts[1]
    entry = re.search(r"^Ekonomi\.*\s*(\d+)$", contents, re.MULTILINE)
    assert entry, contents
    page = int(entry.group(1))
    assert texts[page - 1].splitlines()[0:3].count("Ekonomi") == 1 or "\nEkonomi\n" in texts[page - 1]
    doc = Document(str(full_export.docx))  # the docx's contents hold the same numbers, and Word is not asked
    toc = {p.text.split("\t")[0]: p.text.split("\t")[-1] for p in doc.paragraphs if p.style.name == "TOC 1"}
    assert toc["Ekonomi"] == str(page)
    assert all(v.isdigit() for v in toc.values())
    assert doc.settings.element.find(qn("w:updateFields")) is None


@pytest.mark.skipif(shutil.which("pdftoppm") is None or not HAS_SOFFICE, reason="pdftoppm/soffice saknas")
def test_pdf_pages_render(full_export: ExportResult, tmp_path: Path) -> None:
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "3", str(full_export.pdf),
                    str(tmp_path / "sida")], check=True, timeout=120)
    rendered = sorted(tmp_path.glob("sida-*.png"))
    assert len(rendered) == 3
    for page in rendered:
        with Image.open(page) as image:
            assert image.size[1] > image.size[0]  # A4 portrait


def section_texts(doc: object, heading: str, level: int = 1) -> list[str]:
    """Paragraph texts after the heading *heading* up to the next heading of its level or above."""
    out, inside = [], False
    for p in doc.paragraphs:  # type: ignore[attr-defined]
        if p.style.name in [f"Heading {n}" for n in range(1, level + 1)]:
            inside = p.text == heading
        elif inside and p.text:
            out.append(p.text)
    return out


def test_comments_land_where_they_belong_once(full_export: ExportResult) -> None:
    doc = Document(str(full_export.docx))
    m1 = section_texts(doc, "Mål M1: Brukarnas nöjdhet med vård och omsorg ska öka.", level=2)
    assert sum("två vakanta handläggartjänster" in t for t in m1) == 1  # with the missed indicator only
    assert any(t.endswith("(delvis uppfyllt): Ökning från 67 % men målet nås inte; två vakanta handläggartjänster "
                          "under sommaren. Åtgärder: +2 handläggare från oktober; funktionsbrevlåda bemannas dagligen.")
               for t in m1)
    economy = section_texts(doc, "Ekonomi")
    assert any(t.startswith("Äldreboendeavdelningen: Ekonomi, Personalkostnader: Underskottet") for t in economy)
    personnel = section_texts(doc, "Personal")
    assert personnel == ["Kvarboendeavdelningen: Personal, Sjukfrånvaro totalt: 7,6 % (mål 8 %)."]


def test_cli_export_without_soffice_warns_and_writes(committee: Path, tmp_path: Path) -> None:
    exe = shutil.which("xlplan", path=str(REPO / ".venv" / "bin"))
    if exe is None:
        pytest.skip("xlplan-kommandot är inte installerat i .venv")
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    run = subprocess.run([exe, "export", str(committee), "--out", str(tmp_path / "ut")], capture_output=True,
                         text=True, timeout=300, env={"PATH": str(empty_bin), "HOME": str(tmp_path)})
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [f"Skrev {tmp_path / 'ut' / DOCX_NAME}", f"Skrev {tmp_path / 'ut' / BILAGA_NAME}"]
    assert run.stderr.strip() == (f"Varning: LibreOffice (soffice) saknas: {PDF_NAME} skapades inte; "
                                  f"{DOCX_NAME} och {BILAGA_NAME} skrevs.")


def test_table_properties_in_schema_order(full_export: ExportResult) -> None:
    """Word refuses (asks to repair) elements out of the schema's sequence."""
    doc = Document(str(full_export.docx))
    tbl_order = ["tblStyle", "tblW", "jc", "tblBorders", "shd", "tblLayout", "tblCellMar", "tblLook"]
    tr_order = ["cantSplit", "trHeight", "tblHeader"]
    for table in doc.element.body.iter(qn("w:tbl")):
        names = [child.tag.split("}")[1] for child in table.find(qn("w:tblPr"))]
        assert names == sorted(names, key=tbl_order.index), names
        for trpr in table.iter(qn("w:trPr")):
            names = [child.tag.split("}")[1] for child in trpr]
            assert names == sorted(names, key=tr_order.index), names
    settings = [child.tag.split("}")[1] for child in doc.settings.element]
    assert "updateFields" not in settings  # Word must not ask to update fields on opening
    assert settings.index("themeFontLang") > settings.index("compat")


def test_a_large_committee_keeps_every_line(tmp_path: Path) -> None:
    """300 indicator lines and 300 activities all reach the report (speed: benchmarks/, not tests)."""
    import dataclasses

    from xlplan.export.charts import ReportCharts
    from xlplan.export.docx_report import build_report

    base = sample_committee_data()
    lines = tuple(dataclasses.replace(base.indicators[1], indicator_id=f"I{n // 6}", department=f"Enhet {n}")
                  for n in range(300))
    activities = tuple(dataclasses.replace(base.activities[0], department=f"Enhet {n}") for n in range(300))
    data = dataclasses.replace(base, indicators=lines, activities=activities)
    build_report(data, ReportCharts(), tmp_path / "stor.docx")
    assert len(indicator_tables(Document(str(tmp_path / "stor.docx")))[0].rows) == 1 + 300 + 1  # one indicator


def test_out_that_is_a_file_is_refused(committee: Path, tmp_path: Path) -> None:
    target = tmp_path / "rapport"
    target.write_text("en fil", encoding="utf-8")
    with pytest.raises(ExportFailed, match="finns redan och är ingen mapp"):
        export(committee, target)
    assert target.read_text(encoding="utf-8") == "en fil"


def test_an_unwritable_place_gives_a_swedish_error(committee: Path, tmp_path: Path, no_soffice: None,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*_args: object, **_kw: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bilaga_module, "write_bilaga", full_disk)
    with pytest.raises(ExportFailed, match="nämndrapporten kunde inte skrivas \\(No space left on device\\)"):
        export(committee, tmp_path / "ut")
    assert not (tmp_path / "ut").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".xlplan-export-")]


def test_a_failing_libreoffice_is_a_warning(committee: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo, "soffice_path", lambda: "/bin/false")  # starts, exits, makes no PDF
    result = export(committee, tmp_path / "ut")
    assert result.pdf is None and result.docx.exists() and result.bilaga.exists()
    assert result.warnings == [f"{PDF_NAME} skapades inte: ingen pdf-fil skapades (avslutades med kod 1). "
                               f"{DOCX_NAME} och {BILAGA_NAME} skrevs."]


def test_committee_frame_gets_its_own_table(tmp_path: Path) -> None:
    import dataclasses

    from xlplan.books.committee import EconomyLine
    from xlplan.export.charts import ReportCharts
    from xlplan.export.docx_report import build_report

    base = sample_committee_data()
    frame = (EconomyLine("NÄMND", "Nämndens budgetram", "Verksamhetens nettokostnader", -966333.0),
             EconomyLine("NÄMND", "Nämndens budgetram", "Kommunbidrag", 966333.0))
    data = dataclasses.replace(base, economy=frame + tuple(base.economy))
    build_report(data, ReportCharts(), tmp_path / "r.docx")
    doc = Document(str(tmp_path / "r.docx"))
    texts = [p.text for p in doc.paragraphs]
    assert "Nämndens budgetram" in texts
    tables = [[[c.text for c in r.cells] for r in t.rows] for t in doc.tables]
    framed = next(t for t in tables if any(r[0] == "Kommunbidrag" for r in t))
    assert framed[1][:2] == ["Verksamhetens nettokostnader", fmt(-966333.0, decimals=0)]
    by_department = next(t for t in tables if t[0][0] == "Avdelning" and t[-1][0] == "Nämnden totalt")
    expected = sum(x.budget for x in base.economy if x.budget is not None)
    assert by_department[-1][1] == fmt(expected, decimals=0)


def test_summary_counts_agree_with_what_is_counted() -> None:
    """'en indikator' is common gender, 'ett mål' neuter; one or several: Swedish a controller would write."""
    from xlplan.export.docx_report import _counts_text

    counts = {"Uppfyllt": 1, "Delvis uppfyllt": 2, "Ej uppfyllt": 0, "Kan inte bedömas": 1}
    assert _counts_text(counts) == "1 uppfylld, 2 delvis uppfyllda och 1 kan inte bedömas"
    assert _counts_text(counts, neuter=True) == "1 uppfyllt, 2 delvis uppfyllda och 1 kan inte bedömas"
    assert _counts_text({"Ej uppfyllt": 3}) == "3 ej uppfyllda"
    assert _counts_text({"Uppfyllt": 0}) == "inga indikatorer"
