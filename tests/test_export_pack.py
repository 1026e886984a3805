"""The board pack as the committee reads it: structure, language, alt text, UTKAST, page budget, all or nothing.

The page budget and the structure are checked on the demo's two packs (the whole
workflow on the bundled example plans, real LibreOffice) and on the sample data.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from docx import Document
from docx.oxml.ns import qn

from xlplan.books.committee import OUTCOME_MISSING, CommitteeData, write_committee_workbook
from xlplan.core.errors import ExportFailed
from xlplan.export import BILAGA_NAME, DOCX_NAME, PDF_NAME, export, recover_interrupted
from xlplan.export.charts import ReportCharts
from xlplan.export.docx_report import build_report
from xlplan.export.sample import sample_committee_data
from xlplan.io import lo

HAS_SOFFICE = lo.soffice_path() is not None
SECTIONS = ["Sammanfattning", "Viktiga händelser", "Måluppfyllelse", "Aktiviteter", "Ekonomi", "Personal",
            "Internkontroll", "Framtid", "Om underlaget"]
PAGE_BUDGET = {"alingsas-von-2020": 20, "alingsas-von-2024": 12}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo run (fill, pull, flag, consolidate, export) on both example plans."""
    from xlplan.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    run_demo(out, echo=lambda _text: None)
    return out


def all_texts(doc: object) -> list[str]:
    """Every paragraph text of the body, its tables and the headers."""
    out = [p.text for p in doc.paragraphs]  # type: ignore[attr-defined]
    for table in doc.tables:  # type: ignore[attr-defined]
        for row in table.rows:
            out += [c.text for c in row.cells]
    for section in doc.sections:  # type: ignore[attr-defined]
        for header in (section.header, section.first_page_header):
            out += [p.text for p in header.paragraphs]
    return out


def check_structure(docx: Path, draft: bool) -> None:
    doc = Document(str(docx))
    level1 = [p.text for p in doc.paragraphs if p.style.name == "Heading 1"]
    assert level1 == SECTIONS
    styles = [p.style.name for p in doc.paragraphs if p.style.name in ("Heading 1", "Heading 2")]
    goals_at = styles.index("Heading 1", level1.index("Måluppfyllelse"))
    assert all(s == "Heading 1" for s in styles[:goals_at + 1])  # goals (level 2) only under Måluppfyllelse
    # language: the default run properties, and the settings
    lang = doc.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang.get(qn("w:val")) == "sv-SE"
    assert doc.settings.element.find(qn("w:themeFontLang")).get(qn("w:val")) == "sv-SE"
    assert doc.settings.element.find(qn("w:updateFields")) is None
    # alternative text on every picture
    pictures = list(doc.element.body.iter(qn("wp:docPr")))
    assert len(pictures) == len(list(doc.element.body.iter(qn("w:drawing"))))
    assert all(p.get("descr") and len(p.get("descr")) > 40 for p in pictures)
    texts = all_texts(doc)
    joined = "\n".join(texts)
    assert not re.search(r"\d[.,]\d{3,}", joined.replace("\u00a0", "")), "a number with more than 2 decimals"
    assert not re.search(r"\d\.0\b", joined), "a float written as 142.0"
    assert "Status: ." not in joined and ") (" not in joined and "Plan:" not in joined
    assert ("UTKAST" in joined) == draft
    if draft:
        header = [p.text for p in doc.sections[0].header.paragraphs]
        assert header[0].startswith("UTKAST – ")
        cover = [p.text for p in doc.paragraphs[:40]]
        assert "UTKAST" in cover


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) är inte installerat")
@pytest.mark.parametrize("plan", sorted(PAGE_BUDGET))
def test_demo_packs_fit_their_page_budget_and_read_right(demo: Path, plan: str) -> None:
    pack = demo / "namndrapport" / plan
    info = subprocess.run(["pdfinfo", str(pack / PDF_NAME)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages <= PAGE_BUDGET[plan]
    assert re.search(r"^Tagged:\s+yes$", info, re.MULTILINE)
    check_structure(pack / DOCX_NAME, draft=True)  # the demo's departments never approve
    text = subprocess.run(["pdftotext", str(pack / PDF_NAME), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "UTKAST – " in text.split("\f")[3]  # a page header inside the pack


def test_activities_by_exception(demo: Path) -> None:
    doc = Document(str(demo / "namndrapport" / "alingsas-von-2020" / DOCX_NAME))
    counts = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mål" and t.rows[0].cells[-1].text == "Totalt")
    assert [c.text for c in counts.rows[-1].cells][-1] == "181"
    assert not any(t.rows[0].cells[1].text == "Aktivitet" for t in doc.tables)  # nothing late: no list


def approved(data: CommitteeData) -> CommitteeData:
    """The sample with every department approved and every outcome in."""
    subs = tuple(dataclasses.replace(s, state="godkänd") for s in data.submissions)
    lines = tuple(dataclasses.replace(x, outcome=x.outcome if x.outcome is not None else 1.0,
                                      status=x.status if x.status != OUTCOME_MISSING else "Uppfyllt")
                  for x in data.indicators)
    return dataclasses.replace(data, submissions=subs, indicators=lines)


def test_sample_pack_structure_draft_and_final(tmp_path: Path) -> None:
    data = sample_committee_data()
    build_report(data, ReportCharts(), tmp_path / "utkast.docx")
    check_structure(tmp_path / "utkast.docx", draft=True)
    build_report(approved(data), ReportCharts(), tmp_path / "slutlig.docx")
    check_structure(tmp_path / "slutlig.docx", draft=False)


def test_one_department_not_approved_makes_a_draft_saying_which(tmp_path: Path) -> None:
    data = approved(sample_committee_data())
    subs = (dataclasses.replace(data.submissions[0], state="klar för granskning"),) + data.submissions[1:]
    build_report(dataclasses.replace(data, submissions=subs), ReportCharts(), tmp_path / "r.docx")
    texts = all_texts(Document(str(tmp_path / "r.docx")))
    assert "UTKAST – 1 av 4 avdelningar är inte godkända" in texts
    assert f"Inte godkända: {subs[0].department} (klar för granskning)." in texts


@dataclasses.dataclass(frozen=True)
class WithTexts(CommitteeData):
    """Committee data with the controller's texts, as the committee workbook's input sheet gives them."""

    texts: dict = dataclasses.field(default_factory=dict)  # type: ignore[type-arg]
    goal_assessments: dict = dataclasses.field(default_factory=dict)  # type: ignore[type-arg]


def test_controllers_texts_and_goal_assessments_are_used(tmp_path: Path) -> None:
    base = sample_committee_data()
    texts = {"diarienummer": "VON 2024/117", "sammantradesdatum": "2024-10-16",
             "forslag_till_beslut": "Nämnden godkänner delårsrapporten.", "sammanfattning": "Ett stabilt halvår.",
             "viktiga_handelser": "Bjärke öppnade i maj.", "ekonomi": "Prognosen visar underskott.",
             "personal": "Sjukfrånvaron minskar.", "framtid": "Fler äldre de kommande åren."}
    given = {f.name: getattr(base, f.name) for f in dataclasses.fields(CommitteeData)
             if f.name not in ("texts", "goal_assessments")}  # once the committee data has them itself
    data = WithTexts(**given, texts=texts,
                     goal_assessments={"M1": ("Uppfyllt", "Brukarna är nöjdare än målet.")})
    build_report(data, ReportCharts(), tmp_path / "r.docx")
    doc = Document(str(tmp_path / "r.docx"))
    paragraphs = [p.text for p in doc.paragraphs]
    assert "Diarienummer: VON 2024/117" in paragraphs and "Sammanträdesdatum: 2024-10-16" in paragraphs
    for key in ("forslag_till_beslut", "sammanfattning", "viktiga_handelser", "ekonomi", "personal", "framtid"):
        assert texts[key] in paragraphs, key
    m1 = paragraphs.index("Mål M1: Brukarnas nöjdhet med vård och omsorg ska öka.")
    assert paragraphs[m1 + 2:m1 + 4] == ["Samlad bedömning: Uppfyllt", "Brukarna är nöjdare än målet."]
    summary = next(t for t in doc.tables if t.rows[0].cells[0].text == "Mål")
    assert summary.rows[1].cells[2].text == "Uppfyllt"
    assert not any("Inga viktiga händelser" in p for p in paragraphs)


# ---------------------------------------------------------------- all or nothing


@pytest.fixture
def committee(tmp_path: Path) -> Path:
    return write_committee_workbook(sample_committee_data(), tmp_path / "nämnden.xlsx")


@pytest.fixture
def no_soffice(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lo, "soffice_path", lambda: None)


def old_pack(out: Path) -> dict[str, bytes]:
    out.mkdir(parents=True, exist_ok=True)
    files = {DOCX_NAME: b"gammal docx", PDF_NAME: b"gammal pdf", BILAGA_NAME: b"gammal bilaga"}
    for name, content in files.items():
        (out / name).write_bytes(content)
    return files


def contents(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}


def test_an_open_pack_file_stops_the_export_before_anything_is_replaced(committee: Path, tmp_path: Path,
                                                                        no_soffice: None) -> None:
    out = tmp_path / "ut"
    files = old_pack(out)
    (out / ".~lock.nämndrapport_bilaga.xlsx#").write_text("lock", encoding="utf-8")
    with pytest.raises(ExportFailed, match="nämndrapport_bilaga.xlsx: filen är öppen"):
        export(committee, out)
    assert {k: v for k, v in contents(out).items() if not k.startswith(".~lock")} == files
    assert not list(out.glob(".xlplan-export-*"))


def test_a_failure_while_swapping_puts_the_old_pack_back(committee: Path, tmp_path: Path, no_soffice: None,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import xlplan.export as export_module

    out = tmp_path / "ut"
    files = old_pack(out)
    real_replace = export_module.os.replace

    def failing(src: object, dst: object) -> None:
        if Path(str(src)).name == BILAGA_NAME and Path(str(src)).parent.name == "ny":
            raise OSError(13, "Permission denied")
        real_replace(src, dst)

    monkeypatch.setattr(export_module.os, "replace", failing)
    with pytest.raises(ExportFailed, match="den tidigare nämndrapporten är kvar"):
        export(committee, out)
    monkeypatch.undo()
    assert contents(out) == files
    assert not list(out.glob(".xlplan-export-*"))


def test_without_libreoffice_an_old_pdf_goes_with_the_old_pack(committee: Path, tmp_path: Path,
                                                               no_soffice: None) -> None:
    out = tmp_path / "ut"
    old_pack(out)
    (out / "egen anteckning.txt").write_text("kvar", encoding="utf-8")
    result = export(committee, out)
    assert result.pdf is None
    assert sorted(contents(out)) == sorted([DOCX_NAME, BILAGA_NAME, "egen anteckning.txt"])


def dead_pid() -> int:
    proc = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True,
                          check=True)
    return int(proc.stdout)


def test_an_interrupted_swap_is_rolled_back_by_the_next_run(tmp_path: Path) -> None:
    out = tmp_path / "ut"
    files = old_pack(out)
    left = out / f".xlplan-export-{dead_pid()}-abc"
    (left / "gammal").mkdir(parents=True)
    (left / "ny").mkdir()
    for name in (DOCX_NAME, PDF_NAME):  # killed after moving two old files aside and one new file in
        (out / name).rename(left / "gammal" / name)
    (out / DOCX_NAME).write_bytes(b"ny docx")
    (left / "ny" / BILAGA_NAME).write_bytes(b"ny bilaga")
    (left / "journal.json").write_text(json.dumps({"out": str(out), "state": "byter",
                                                   "new": [DOCX_NAME, PDF_NAME, BILAGA_NAME]}), encoding="utf-8")
    running = out / f".xlplan-export-{__import__('os').getppid()}-def"  # a live process's folder is left alone
    running.mkdir()
    assert recover_interrupted(out) == [left]
    assert contents(out) == files
    assert not left.exists() and running.exists()


def test_leftovers_are_cleaned_at_the_next_export(committee: Path, tmp_path: Path, no_soffice: None) -> None:
    out = tmp_path / "ut"
    out.mkdir()
    left = out / f".xlplan-export-{dead_pid()}-xyz"
    (left / "figurer").mkdir(parents=True)
    export(committee, out)
    assert not left.exists()
    assert sorted(p.name for p in out.iterdir()) == sorted([DOCX_NAME, BILAGA_NAME])


def test_no_chart_without_a_trend(tmp_path: Path) -> None:
    """An indicator with only this period's value (no baseline, no history) gets no one-point chart."""
    from xlplan.export.charts import goal_trend_chart

    base = sample_committee_data()
    goal = base.goals[0]
    lines = tuple(dataclasses.replace(x, baseline=None, kolada_id=None) for x in base.indicators
                  if x.goal_id == goal.goal_id)
    data = dataclasses.replace(base, indicators=lines, comparisons=())
    assert goal_trend_chart(data, goal, tmp_path / "mal.png") is None
    assert not (tmp_path / "mal.png").exists()
    chart = goal_trend_chart(base, goal, tmp_path / "mal.png")
    assert chart is not None and chart.alt_text and (tmp_path / "mal.png").exists()


@pytest.mark.skipif(not HAS_SOFFICE, reason="LibreOffice (soffice) är inte installerat")
def test_libreoffice_started_early_is_stopped_when_the_report_fails(committee: Path, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import xlplan.books.bilaga as bilaga_module
    from xlplan.export.pdf import PdfRun

    runs: list[PdfRun] = []
    real_cancel = PdfRun.cancel

    def cancel(self: PdfRun) -> None:
        runs.append(self)
        real_cancel(self)

    def broken(*_args: object, **_kw: object) -> None:
        raise ExportFailed("bilagan kunde inte skrivas")

    monkeypatch.setattr(PdfRun, "cancel", cancel)
    monkeypatch.setattr(bilaga_module, "write_bilaga", broken)
    with pytest.raises(ExportFailed, match="bilagan"):
        export(committee, tmp_path / "ut")
    assert len(runs) == 1
    assert runs[0].proc.returncode is not None and not runs[0].tmp.exists()
    assert not (tmp_path / "ut").exists()
