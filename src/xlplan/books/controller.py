"""Build the controller's workbook ``workbook/uppfoljning.xlsm`` from text sources in the repo.

The workbook holds, in this order:

* **Start** – what the workbook is and what each ribbon button does (Swedish);
* **Val** – the settings the buttons read, each in a cell with a workbook
  name (:data:`SETTINGS`), so :mod:`xlplan.excel` finds them by name;
* the **plan sheets** of the bundled example plan (2024) in exactly the plan
  format, so ``plan_from_workbook(uppfoljning.xlsm)`` reads it as a plan and a
  controller edits the plan right here;
* a hidden **xlwings.conf** sheet: where Python is (:data:`XLWINGS_CONF`).

The build is deterministic: the same sources give a byte-identical file
(fixed document times; :func:`xlplan.xlsm.make_xlsm` writes fixed zip times).
"""

from __future__ import annotations

import datetime as dt
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.workbook.defined_name import DefinedName
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from xlplan.books.plan import load_tables_json, write_plan_tables
from xlplan.books.spec import HEADER_FILL
from xlplan.core.naming import CONTROLLER_WORKBOOK, GUIDE_PDF, committee_file
from xlplan.examples import templates_dir
from xlplan.xlsm import make_xlsm

__all__ = ["SETTINGS", "Setting", "XLWINGS_CONF", "build_workbook", "default_out"]

EXAMPLE = "alingsas-von-2024"
START, VAL, CONF = "Start", "Val", "xlwings.conf"
#: Fixed document times: the build must not depend on when it runs.
BUILD_TIME = dt.datetime(2024, 1, 1, 0, 0, 0)
INPUT_FILL = "FFF2CC"
FIRST_SETTING_ROW = 4


@dataclass(frozen=True)
class Setting:
    """One setting on Val: label, workbook name of its value cell, default value, help text."""

    key: str  # short key used by xlplan.excel
    label: str
    name: str  # workbook-level defined name of the value cell
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("department", "Avdelning", "xlplan_avdelning", "",
            "Avdelnings-id (välj i listan) som Skapa avdelningsfiler skapar en fil för. Tomt = alla avdelningar."),
    Setting("period", "Period", "xlplan_period", "2024-delår",
            "Uppföljningsperioden, t.ex. 2024-K1, 2024-T1, 2024-delår eller 2024-helår."),
    Setting("department_folder", "Mapp för avdelningsfiler", "xlplan_avdelningsmapp", "Avdelningsfiler",
            "Hit skriver Skapa avdelningsfiler en fil per avdelning. Relativ sökväg = från den här "
            "arbetsbokens mapp."),
    Setting("consolidate_folder", "Mapp för sammanställning", "xlplan_sammanstallningsmapp", "Avdelningsfiler",
            "Sammanställ läser avdelningarnas inlämnade filer i den här mappen."),
    Setting("committee_workbook", "Nämndens arbetsbok", "xlplan_namndbok",
            committee_file("Alingsås", "Vård- och omsorgsnämnden", "2024-delår"),  # the example plan's
            "Sammanställ skriver nämndens arbetsbok hit; Exportera nämndrapport läser den."),
    Setting("export_folder", "Exportmapp", "xlplan_exportmapp", "Nämndrapport",
            "Exportera nämndrapport skriver nämndrapporten (Word, PDF) och bilagan hit."),
    Setting("kolada_url", "Kolada-adress", "xlplan_kolada", "",
            "Adress till Kolada (API v3). Tomt = https://api.kolada.se/v3."),
    Setting("guide", "Användarguide", "xlplan_guide", "",
            f"Sökväg eller webbadress till användarguiden. Tomt = {GUIDE_PDF} i samma mapp "
            "som arbetsboken, annars guiden som följer med xlplan."),
    Setting("return_comment", "Kommentar till avdelningen", "xlplan_kommentar", "",
            "Skicka tillbaka skickar avdelningsfilen (Avdelning och Period ovan, i mappen för sammanställning) "
            "tillbaka med den här kommentaren: vad som ska kompletteras."),
)

#: The xlwings.conf sheet (keys from xlwings 0.37.8's ``xlwings.bas``, ``GetConfig``).
#: Environment variables such as %LOCALAPPDATA% are expanded by xlwings.
XLWINGS_CONF: tuple[tuple[str, str | bool], ...] = (
    ("Interpreter_Win", r"%LOCALAPPDATA%\xlplan\python\pythonw.exe"),
    ("Interpreter_Mac", ""),
    ("PYTHONPATH", ""),
    ("Conda Path", ""),
    ("Conda Env", ""),
    ("UDF Modules", ""),
    ("Debug UDFs", False),
    ("Use UDF Server", False),
    ("Show Console", False),
    ("ADD_WORKBOOK_TO_PYTHONPATH", False),
)

BUTTONS: tuple[tuple[str, str, str], ...] = (
    ("Avdelningsfilen", "Hämta värden",
     "Hämtar utfall från Kolada och lokala exporter och skriver dem i kolumnen Utfall på bladet "
     "Mål och indikatorer (bara tomma celler och tidigare hämtade värden skrivs över)."),
    ("Avdelningsfilen", "Flagga avvikelser",
     "Räknar ut status för varje indikator och skriver listan Flaggor på bladet Översikt."),
    ("Avdelningsfilen", "Kontrollera och lämna in",
     "Kontrollerar att allt är ifyllt. Är inget fel sätts Inlämningsstatus till 'klar för granskning'; "
     "annars visas vad som saknas. Spara sedan filen och lämna den till nämndens controller."),
    ("Nämnd", "Skapa avdelningsfiler",
     "Skapar en uppföljningsfil per avdelning (eller för avdelningen på bladet Val) för perioden på Val, "
     "i mappen för avdelningsfiler. Befintliga filer fylls på; det som fyllts i behålls."),
    ("Nämnd", "Sammanställ",
     "Läser avdelningarnas filer i mappen för sammanställning och skriver nämndens arbetsbok."),
    ("Nämnd", "Exportera nämndrapport",
     "Skapar nämndrapporten (Word och PDF) och bilagan ur nämndens arbetsbok, i exportmappen."),
    ("Granskning", "Godkänn",
     "Godkänner den inlämnade avdelningsfilen för Avdelning och Period på Val (i mappen för sammanställning). "
     "Vem och när sparas i filen och dess inmatningsceller låses."),
    ("Granskning", "Skicka tillbaka",
     "Skickar samma fil tillbaka för komplettering med kommentaren på Val; filen låses upp."),
    ("Hjälp", "Om xlplan", "Visar version av xlplan, planen och var Python körs."),
    ("Hjälp", "Användarguide", "Öppnar användarguiden (se Val)."),
)


def default_out() -> Path:
    """``workbook/uppfoljning.xlsm`` in the repository; ``uppfoljning.xlsm`` in the current folder
    when xlplan runs from an installed wheel (whose own copy is read-only package data)."""
    from xlplan.examples import in_repository

    if in_repository():
        return templates_dir().parent / "workbook" / CONTROLLER_WORKBOOK
    return Path.cwd() / CONTROLLER_WORKBOOK


def build_workbook(out: str | Path | None = None, plan_source: str | Path | None = None) -> Path:
    """Write the controller's workbook to *out* (default :func:`default_out`); return its path.

    *plan_source* is a plan tables JSON (default: the bundled 2024 example plan).
    """
    out = Path(out) if out is not None else default_out()
    source = Path(plan_source) if plan_source is not None else templates_dir() / "src" / f"{EXAMPLE}.json"
    tables = load_tables_json(source)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="xlplan-build-") as tmp_name:
        tmp = Path(tmp_name)
        plan_xlsx = tmp / "plan.xlsx"
        write_plan_tables(tables, plan_xlsx)
        wb = load_workbook(plan_xlsx)
        add_start_sheet(wb)
        add_settings_sheet(wb)
        add_conf_sheet(wb)
        for ws in wb.worksheets:
            if ws.sheet_state == "visible":
                fit_to_width(ws)
        wb.active = 0
        book_xlsx = tmp / "uppfoljning.xlsx"
        save_pinned(wb, book_xlsx)
        make_xlsm(book_xlsx, out)
    return out


# ---------------------------------------------------------------- sheets


def fit_to_width(ws: Worksheet) -> None:
    """Print landscape on A4, one page wide, header row repeated."""
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    setup = ws.sheet_properties.pageSetUpPr
    if setup is None:  # openpyxl makes one with every sheet; the stubs allow None
        setup = ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    setup.fitToPage = True
    if ws.title not in (START, VAL):
        ws.print_title_rows = "1:1"


def _title(ws: Worksheet, text: str, subtitle: str) -> None:
    ws["A1"] = text
    ws["A1"].font = Font(bold=True, size=16, color=HEADER_FILL)
    ws["A2"] = subtitle
    ws["A2"].font = Font(italic=True, color="595959")


def _header(ws: Worksheet, row: int, headers: tuple[str, ...]) -> None:
    for col, text in enumerate(headers, start=1):
        cell = ws.cell(row, col, text)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)


def add_start_sheet(wb: Workbook) -> Worksheet:
    ws = wb.create_sheet(START, 0)
    _title(ws, "Uppföljning av nämndens plan",
           "Nämndens arbetsbok för uppföljningen: planen, inställningarna och knapparna på menyfliken "
           "Uppföljning.")
    lines = (
        "Så här hänger det ihop:",
        "1. Planen står på bladen Inställningar, Avdelningar, Mål, Indikatorer och följande blad. "
        "Ändra planen här; formatet beskrivs i docs/plan-format.md.",
        "2. Välj period och mappar på bladet Val.",
        "3. Skapa avdelningsfiler – avdelningarna fyller i sina filer (Hämta värden, Flagga avvikelser, "
        "Kontrollera och lämna in) och lämnar tillbaka dem.",
        "4. Sammanställ – sedan Exportera nämndrapport.",
        "Knapparna kräver att makron är aktiverade och att xlplan är installerat (se docs/installation.md).",
    )
    for i, text in enumerate(lines, start=4):
        ws.cell(i, 1, text).alignment = Alignment(wrap_text=True, vertical="top")
    ws["A4"].font = Font(bold=True)
    first = 4 + len(lines) + 1
    _header(ws, first, ("Grupp", "Knapp", "Vad den gör"))
    for i, (group, button, what) in enumerate(BUTTONS, start=first + 1):
        for col, text in enumerate((group, button, what), start=1):
            ws.cell(i, col, text).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 60
    ws.column_dimensions["B"].width = 26
    ws.column_dimensions["C"].width = 90
    for row in range(4, 4 + len(lines)):
        ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
    return ws


def add_settings_sheet(wb: Workbook) -> Worksheet:
    ws = wb.create_sheet(VAL, 1)
    _title(ws, "Val", "Inställningar för knapparna på menyfliken Uppföljning. Gula celler ändras.")
    _header(ws, FIRST_SETTING_ROW - 1, ("Inställning", "Värde", "Förklaring"))
    for row, setting in enumerate(SETTINGS, start=FIRST_SETTING_ROW):
        ws.cell(row, 1, setting.label).font = Font(bold=True)
        cell = ws.cell(row, 2, setting.default or None)
        cell.number_format = "@"
        cell.fill = PatternFill("solid", fgColor=INPUT_FILL)
        ws.cell(row, 3, setting.help).alignment = Alignment(wrap_text=True, vertical="top")
        wb.defined_names[setting.name] = DefinedName(setting.name, attr_text=f"{VAL}!$B${row}")
    dep_row = FIRST_SETTING_ROW + [s.key for s in SETTINGS].index("department")
    choice = DataValidation(type="list", formula1="Avdelningar!$A$2:$A$200", allow_blank=True,
                            errorTitle="Välj i listan",
                            error="Välj ett avdelnings-id från bladet Avdelningar, eller lämna tomt för alla.")
    choice.add(f"B{dep_row}")
    ws.add_data_validation(choice)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 44
    ws.column_dimensions["C"].width = 80
    return ws


def add_conf_sheet(wb: Workbook) -> Worksheet:
    ws = wb.create_sheet(CONF)
    for row, (key, value) in enumerate(XLWINGS_CONF, start=1):
        ws.cell(row, 1, key)
        ws.cell(row, 2, None if value == "" else value)
    ws.column_dimensions["A"].width = 28
    ws.column_dimensions["B"].width = 48
    ws.sheet_state = "hidden"
    return ws


# ---------------------------------------------------------------- saving


def save_pinned(wb: Workbook, path: Path) -> None:
    """Save like ``Workbook.save`` but with fixed document times (openpyxl stamps 'now')."""
    wb.properties.creator = "xlplan"
    wb.properties.lastModifiedBy = None
    wb.properties.created = BUILD_TIME
    wb.properties.modified = BUILD_TIME
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        ExcelWriter(wb, archive).save()
