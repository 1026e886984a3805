"""Read a plan workbook into a validated :class:`~xlplan.core.model.Plan`; write one from tables.

All problems of a plan are collected and reported at once (:class:`PlanInvalid`),
each naming sheet, cell and what is wrong, in Swedish.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from xlplan.books.spec import HEADER_FILL, HEADER_FONT
from xlplan.core.codes import Code
from xlplan.core.errors import PlanInvalid, Problem, XlplanError
from xlplan.core.model import (
    COMMITTEE_ID,
    DEFAULT_PERIOD_KINDS,
    PERIOD_KINDS,
    AccountRange,
    Activity,
    BudgetLine,
    ControlItem,
    Department,
    FileSource,
    Goal,
    HrSource,
    Indicator,
    LedgerSettings,
    PersonnelTarget,
    Plan,
    Question,
    Settings,
)
from xlplan.core.numbers import format_number, is_percent_format, parse_number
from xlplan.core.periods import PERIOD_HINT, period_kinds
from xlplan.io.tables import (
    Row,
    cell_number_formats,
    cell_ref,
    norm_header,
    open_workbook,
    read_package,
    read_sheet_rows,
    sheet_xml,
    table,
)

SHEETS = ("Inställningar", "Avdelningar", "Mål", "Indikatorer", "Aktiviteter", "Ekonomi",
          "Personal", "Internkontroll", "Filkällor", "Frågor", "Personalkällor", "Kontoplan")
REQUIRED_SHEETS = ("Inställningar", "Avdelningar", "Mål", "Indikatorer")
REQUIRED_COLUMNS = {
    "Avdelningar": ("Avdelnings-id", "Avdelning"),
    "Mål": ("Mål-id", "Nämndens mål"),
    "Indikatorer": ("Indikator-id", "Mål-id", "Indikator"),
    "Aktiviteter": ("Aktivitets-id", "Avdelnings-id", "Aktivitet"),
    "Ekonomi": ("Avdelnings-id", "Post", "År", "Budget (tkr)"),
    "Personal": ("Avdelnings-id", "Nyckeltal"),
    "Internkontroll": ("Kontroll-id", "Risk"),
    "Filkällor": ("Indikator-id", "Fil", "Värdekolumn"),
    "Frågor": ("Fråga-id", "Mål-id", "Fråga"),
    "Personalkällor": ("Fil", "Avdelningskolumn", "Måttkolumn", "Värdekolumn"),
    "Kontoplan": ("Post", "Konton"),
    "Inställningar": ("Inställning", "Värde"),
}
TARGET_COLUMN = re.compile(r"^målvärde\s*(\d{4})$")
HISTORY_COLUMN = re.compile(r"^(?:(?:utfall|historik)\s*)?((?:19|20)\d\d)$")  # 'Utfall 2021', '2021'

KPI_ID = re.compile(r"^[A-Z]\d{5}$")
PLAN_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")
_POLARITIES = {"högre": "higher", "hogre": "higher", "lägre": "lower", "lagre": "lower"}


@dataclass
class Collector:
    """Gathers problems while reading; each helper returns a usable value or None."""

    file: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, sheet: str | None, cell: str | None, code: Code, message: str) -> None:
        self.problems.append(Problem(code, message, self.file, sheet, cell))

    def text(self, row: Row, col: str, required: bool = False) -> str | None:
        v = row.get(col)
        if v is None:
            if required:
                self.add(row.sheet, row.ref(col), Code.SAKNAS, f"'{col}' måste fyllas i.")
            return None
        return str(v).strip() if not isinstance(v, str) else v

    def number(self, row: Row, col: str, required: bool = False) -> float | None:
        v = row.get(col)
        if v is None:
            if required:
                self.add(row.sheet, row.ref(col), Code.SAKNAS, f"'{col}' måste fyllas i.")
            return None
        n = parse_number(v)
        if n is None:
            self.add(row.sheet, row.ref(col), Code.PLAN_INTE_TAL,
                     f"'{v}' är inte ett tal. Skriv t.ex. 50 eller 48,5.")
        return n

    def integer(self, row: Row, col: str, required: bool = False, lo: int | None = None,
                hi: int | None = None) -> int | None:
        n = self.number(row, col, required)
        if n is None:
            return None
        if not float(n).is_integer() or (lo is not None and n < lo) or (hi is not None and n > hi):
            rng = f" mellan {lo} och {hi}" if lo is not None and hi is not None else ""
            self.add(row.sheet, row.ref(col), Code.INTE_HELTAL, f"'{row.get(col)}' ska vara ett heltal{rng}.")
            return None
        return int(n)


def split_list(text: str | None, sep: str = ",") -> tuple[str, ...]:
    if not text:
        return ()
    return tuple(p.strip() for p in str(text).split(sep) if p.strip())


# ---------------------------------------------------------------- settings

_SETTING_KEYS = {
    "plan-id": "plan_id", "kommun": "municipality", "kommun-id": "municipality_id",
    "nämnd": "committee", "förvaltning": "administration", "planår": "year", "slutår": "end_year",
    "rapporteringsperioder": "periods", "liknande kommuner": "similar_group",
    "tolerans delvis uppfyllt": "partial_tolerance_pct", "målbedömning": "goal_rule",
    "lösenord bladskydd": "sheet_password", "kolada-adress": "kolada_url",
    "huvudbok fil": "ledger", "huvudbok kolumner": "ledger", "huvudbok enhet": "ledger",
    "huvudbok tecken": "ledger", "kommentarsgräns ekonomi (tkr)": "economy_comment_threshold",
}
_REQUIRED_SETTINGS = ("plan-id", "kommun", "kommun-id", "nämnd", "planår")


def read_settings(rows: list[Row], c: Collector) -> Settings | None:
    raw: dict[str, tuple[Any, Row]] = {}
    for row in rows:
        key = norm_header(row.get("Inställning"))
        if key in _SETTING_KEYS:
            raw[key] = (row.get("Värde"), row)
        elif key:
            c.add("Inställningar", row.ref("Inställning"), Code.OKAND_INSTALLNING,
                  f"Okänd inställning '{row.get('Inställning')}'. Se docs/plan-format.md.")
    for key in _REQUIRED_SETTINGS:
        if raw.get(key, (None,))[0] is None:
            c.add("Inställningar", raw[key][1].ref("Värde") if key in raw else None, Code.SAKNAS,
                  f"Inställningen '{key.capitalize()}' måste fyllas i.")

    def val(key: str) -> Any:
        return raw.get(key, (None, None))[0]

    def ref(key: str) -> str | None:
        return raw[key][1].ref("Värde") if key in raw else None

    plan_id = str(val("plan-id") or "")
    if plan_id and not PLAN_ID.match(plan_id):
        c.add("Inställningar", ref("plan-id"), Code.OGILTIGT_ID,
              f"Plan-id '{plan_id}' får bara innehålla a–z, 0–9 och bindestreck.")
    mun_id = val("kommun-id")
    mun_id = f"{int(mun_id):04d}" if isinstance(mun_id, (int, float)) else (str(mun_id) if mun_id else "")
    if mun_id and not re.fullmatch(r"\d{4}", mun_id):
        c.add("Inställningar", ref("kommun-id"), Code.OGILTIGT_ID,
              f"Kommun-id '{mun_id}' ska vara Koladas kommunkod med fyra siffror, t.ex. 1489.")
    year = _year(val("planår"), c, ref("planår"))
    end_year = _year(val("slutår"), c, ref("slutår")) if val("slutår") is not None else year
    periods = DEFAULT_PERIOD_KINDS
    if val("rapporteringsperioder"):
        kinds = []
        for part, kind in period_kinds(str(val("rapporteringsperioder"))):
            if kind is None:
                c.add("Inställningar", ref("rapporteringsperioder"), Code.OGILTIG_PERIOD,
                      f"'{part}' är ingen rapporteringsperiod. {PERIOD_HINT}")
            elif kind not in kinds:
                kinds.append(kind)
        periods = tuple(k for k in PERIOD_KINDS if k in kinds) or DEFAULT_PERIOD_KINDS
    tol = val("tolerans delvis uppfyllt")
    tol_n = parse_number(tol) if tol is not None else None
    if tol is not None and (tol_n is None or tol_n < 0):
        c.add("Inställningar", ref("tolerans delvis uppfyllt"), Code.PLAN_INTE_TAL,
              f"Toleransen '{tol}' ska vara ett tal ≥ 0 (procent av målvärdet).")
    rule = str(val("målbedömning") or "alla").strip().casefold()
    if rule not in ("alla", "majoritet"):
        c.add("Inställningar", ref("målbedömning"), Code.OGILTIGT_VARDE,
              f"Målbedömning '{val('målbedömning')}' ska vara 'alla' eller 'majoritet'.")
        rule = "alla"
    if year is None or not plan_id:
        return None
    if end_year is not None and end_year < year:
        c.add("Inställningar", ref("slutår"), Code.OGILTIGT_VARDE, "Slutår får inte vara före Planår.")
    return Settings(
        plan_id=plan_id, municipality=str(val("kommun") or ""), municipality_id=mun_id,
        committee=str(val("nämnd") or ""), year=year, end_year=end_year or year,
        administration=_str(val("förvaltning")), periods=periods,
        similar_group=_str(val("liknande kommuner")), partial_tolerance_pct=tol_n,
        goal_rule=rule,  # type: ignore[arg-type]
        sheet_password=_str(val("lösenord bladskydd")), kolada_url=_str(val("kolada-adress")),
        ledger=read_ledger_settings(val, ref, c), economy_comment_threshold=_threshold(val, ref, c),
    )


LEDGER_COLUMN_KEYS = {"ansvar": "unit_column", "konto": "account_column", "belopp": "amount_column",
                      "period": "period_column", "projekt": "project_column"}
LEDGER_SIGNS = {"kostnader positiva": True, "kostnader negativa": False}


def read_ledger_settings(val: Callable[[str], Any], ref: Callable[[str], str | None],
                         c: Collector) -> LedgerSettings | None:
    """The Huvudbok settings (file, columns, unit, sign), or None when the plan names no ledger file."""
    file = _str(val("huvudbok fil"))
    if not file:
        for key in ("huvudbok kolumner", "huvudbok enhet", "huvudbok tecken"):
            if val(key) is not None:
                c.add("Inställningar", ref(key), Code.SAKNAS, f"'{key.capitalize()}' är ifylld men 'Huvudbok fil' "
                      "saknas: ange vilken fil huvudboksexporten är, t.ex. exporter/huvudbok_{år}*.csv.")
        return None
    columns: dict[str, Any] = {}
    for part in split_list(_str(val("huvudbok kolumner")), ";"):
        key, eq, column = part.partition("=")
        attr = LEDGER_COLUMN_KEYS.get(key.strip().casefold())
        if not eq or attr is None or not column.strip():
            c.add("Inställningar", ref("huvudbok kolumner"), Code.OGILTIGT_VARDE,
                  f"'{part}' ska skrivas Ansvar=kolumn, Konto=kolumn, Belopp=kolumn, Period=kolumn eller "
                  "Projekt=kolumn, "
                  "t.ex. Ansvar=Ansvar; Konto=Konto; Belopp=Belopp (kr); Period=Period.")
            continue
        columns[attr] = column.strip()
    unit = str(val("huvudbok enhet") or "kr").strip().casefold()
    if unit not in ("kr", "tkr"):
        c.add("Inställningar", ref("huvudbok enhet"), Code.OGILTIGT_VARDE,
              f"Huvudbok enhet '{val('huvudbok enhet')}' ska vara 'kr' eller 'tkr'.")
        unit = "kr"
    sign_text = " ".join(str(val("huvudbok tecken") or "kostnader positiva").split()).casefold()
    if sign_text not in LEDGER_SIGNS:
        c.add("Inställningar", ref("huvudbok tecken"), Code.OGILTIGT_VARDE,
              f"Huvudbok tecken '{val('huvudbok tecken')}' ska vara 'kostnader positiva' (debet positivt, som de "
              "flesta ekonomisystem exporterar) eller 'kostnader negativa'.")
        sign_text = "kostnader positiva"
    return LedgerSettings(file=file, unit=unit, costs_positive=LEDGER_SIGNS[sign_text],  # type: ignore[arg-type]
                          **columns)


def _threshold(val: Callable[[str], Any], ref: Callable[[str], str | None], c: Collector) -> float | None:
    raw = val("kommentarsgräns ekonomi (tkr)")
    n = parse_number(raw) if raw is not None else None
    if raw is not None and (n is None or n < 0):
        c.add("Inställningar", ref("kommentarsgräns ekonomi (tkr)"), Code.PLAN_INTE_TAL,
              f"Kommentarsgränsen '{raw}' ska vara ett belopp i tkr ≥ 0, t.ex. 500.")
        return None
    return n


def _str(v: Any) -> str | None:
    return None if v is None else str(v)


def _year(v: Any, c: Collector, ref: str | None) -> int | None:
    if v is None:
        return None
    n = parse_number(v)
    if n is None or not float(n).is_integer() or not 1990 <= n <= 2100:
        c.add("Inställningar", ref, Code.OGILTIGT_AR, f"'{v}' är inget år. Skriv t.ex. 2024.")
        return None
    return int(n)


# ---------------------------------------------------------------- rows → records

def read_departments(rows: list[Row], c: Collector) -> list[Department]:
    return [Department(c.text(r, "Avdelnings-id", True) or "", c.text(r, "Avdelning", True) or "",
                       c.text(r, "Verksamhetsområde"), c.text(r, "Kontaktperson"),
                       split_list(c.text(r, "Ansvar"), ";")) for r in rows]


def read_goals(rows: list[Row], c: Collector) -> list[Goal]:
    """Mål: the committee goal, its kommun goal (*Prioriterat mål* or *Kommunmål*) and målområde, with texts."""
    return [Goal(c.text(r, "Mål-id", True) or "", c.text(r, "Nämndens mål", True) or "",
                 c.text(r, "Prioriterat mål") or c.text(r, "Kommunmål"), c.text(r, "Agenda 2030"),
                 c.text(r, "Målområde"), c.text(r, "Beskrivning målområde"),
                 c.text(r, "Beskrivning prioriterat mål") or c.text(r, "Beskrivning kommunmål"),
                 c.text(r, "Beskrivning")) for r in rows]


def parse_kolada(text: str | None, series: tuple[str, ...], c: Collector, row: Row) -> tuple[tuple[str | None, str], ...]:
    if not text:
        return ()
    out: list[tuple[str | None, str]] = []
    for part in re.split(r"[;,]", text):
        part = part.strip()
        if not part:
            continue
        name, _, kpi = part.rpartition(":")
        kpi = kpi.strip().upper()
        name_s = name.strip() or None
        if not KPI_ID.match(kpi):
            c.add(row.sheet, row.ref("Kolada-id"), Code.OGILTIGT_KOLADA_ID,
                  f"'{part}' är inget Kolada-id. Skriv t.ex. U00413 eller 'Serie: U00413'.")
            continue
        if name_s and series and name_s.casefold() not in {s.casefold() for s in series}:
            c.add(row.sheet, row.ref("Kolada-id"), Code.OKAND_SERIE,
                  f"Serien '{name_s}' finns inte bland indikatorns serier ({'; '.join(series)}).")
        out.append((name_s, kpi))
    unnamed = [k for n, k in out if n is None]
    if len(unnamed) > 1 and len(unnamed) != len(series):
        c.add(row.sheet, row.ref("Kolada-id"), Code.KOLADA_SERIER,
              f"{len(unnamed)} Kolada-id men {len(series) or 1} serier: ange 'Serie: id' för varje serie.")
    return tuple(out)


def read_indicators(rows: list[Row], c: Collector, headers: dict[str, int]) -> list[Indicator]:
    target_cols = [(int(m.group(1)), h) for h in headers if (m := TARGET_COLUMN.match(h))]
    history_cols = [(int(m.group(1)), h) for h in headers if (m := HISTORY_COLUMN.match(h))]
    out = []
    for r in rows:
        series = split_list(c.text(r, "Serier"), ";")
        pol = c.text(r, "Polaritet")
        polarity = None
        if pol:
            polarity = _POLARITIES.get(pol.casefold())
            if polarity is None:
                c.add(r.sheet, r.ref("Polaritet"), Code.OGILTIG_POLARITET,
                      f"Polaritet '{pol}' ska vara 'högre' eller 'lägre' (eller tom).")
        periods = _periods(r, c)
        deps = split_list(c.text(r, "Avdelningar"))
        if len(deps) == 1 and deps[0].casefold() == "alla":
            deps = ()
        gender = (c.text(r, "Kön") or "T").upper()
        if gender not in ("T", "K", "M"):
            c.add(r.sheet, r.ref("Kön"), Code.OGILTIGT_VARDE, f"Kön '{gender}' ska vara T, K eller M.")
            gender = "T"
        targets = tuple((y, str(r.values[h]).strip()) for y, h in sorted(target_cols)
                        if r.values.get(h) is not None)
        committee = (c.text(r, "Nämndnivå") or "").casefold() in ("ja", "j", "x", "1", "true")
        reporter = c.text(r, "Rapporteras av")
        if reporter is not None and reporter.strip().casefold() == COMMITTEE_ID.casefold():
            reporter = COMMITTEE_ID
        out.append(Indicator(
            id=c.text(r, "Indikator-id", True) or "", goal_id=c.text(r, "Mål-id", True) or "",
            name=c.text(r, "Indikator", True) or "", targets=targets,
            description=c.text(r, "Uppföljning"),
            kolada=parse_kolada(c.text(r, "Kolada-id"), series, c, r),
            source=c.text(r, "Källa"), unit=c.text(r, "Enhet"), polarity_text=polarity,  # type: ignore[arg-type]
            series=series, baseline=c.text(r, "Nuläge"),
            baseline_year=c.integer(r, "Nulägesår", lo=1990, hi=2100), departments=deps,
            periods=tuple(periods), committee_level=committee, gender=gender,
            minimum=c.number(r, "Min"), maximum=c.number(r, "Max"),
            reporter=reporter.strip() if reporter else None,
            history=tuple((y, _history_text(r.values[h])) for y, h in sorted(history_cols)
                          if r.values.get(h) is not None),
        ))
        _check_gender_series(out[-1], c, r)
    return out


def _history_text(value: Any) -> str:
    """A history cell as text (a number typed as a number keeps its digits: 85.5 -> '85,5')."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return format_min(float(value))
    return str(value).strip()


def _check_gender_series(ind: Indicator, c: Collector, r: Row) -> None:
    """Refuse a Kolada mapping that would write the total into a row of a gender-split indicator."""
    for name in ind.series:
        if ind.kpi_for(name) is not None and ind.gender_for(name) is None:
            kpi = ind.kpi_for(name)
            genders = "; ".join(n for n in ind.series if n != name and ind.kpi_for(n) == kpi)
            c.add(r.sheet, r.ref("Kolada-id"), Code.KOLADA_KON_OKANT,
                  f"Serien '{name}' har samma Kolada-id {kpi} som serierna {genders}, som är kön, men "
                  f"'{name}' är inget kön: Koladas värde för serien kan inte väljas. Byt namn på serien till "
                  "Totalt, Kvinnor eller Män, eller ange ett eget Kolada-id för den ('Serie: id').")


def _check_reporters(inds: list[Indicator], dep_ids: set[str], rows: list[Row], c: Collector) -> None:
    """*Rapporteras av* names one department of the plan, or NÄMND when the plan has that department."""
    for ind, row in zip(inds, rows):
        if ind.reporter is None:
            continue
        if ind.committee_level:
            c.add(row.sheet, row.ref("Rapporteras av"), Code.OGILTIGT_VARDE,
                  "Fyll i antingen Nämndnivå eller Rapporteras av, inte båda: Rapporteras av ger indikatorn "
                  "en enda rad för den som rapporterar.")
        if ind.reporter == COMMITTEE_ID and COMMITTEE_ID not in dep_ids:
            c.add(row.sheet, row.ref("Rapporteras av"), Code.OKAND_REFERENS,
                  f"Indikatorn rapporteras av {COMMITTEE_ID} (hela nämnden), men bladet Avdelningar har ingen "
                  f"avdelning med id {COMMITTEE_ID}. Lägg till en rad med Avdelnings-id {COMMITTEE_ID} (t.ex. "
                  "Förvaltningsledningen), som får filen där nämndens siffror skrivs in, eller ange en avdelning.")
        elif ind.reporter != COMMITTEE_ID and ind.reporter not in dep_ids:
            c.add(row.sheet, row.ref("Rapporteras av"), Code.OKAND_REFERENS,
                  f"'{ind.reporter}' finns inte på bladet Avdelningar (skriv ett Avdelnings-id eller "
                  f"{COMMITTEE_ID} för hela nämnden).")


def _periods(r: Row, c: Collector) -> tuple[Any, ...]:
    """The column *Perioder* of a row: period kinds as written, each once; words that are no period reported."""
    kinds: list[Any] = []
    for p, kind in period_kinds(c.text(r, "Perioder") or ""):
        if kind is None:
            c.add(r.sheet, r.ref("Perioder"), Code.OGILTIG_PERIOD, f"'{p}' är ingen rapporteringsperiod. {PERIOD_HINT}")
        elif kind not in kinds:
            kinds.append(kind)
    return tuple(kinds)


def read_questions(rows: list[Row], c: Collector) -> list[Question]:
    """Frågor: qualitative report questions, per goal, for some or all departments and periods."""
    out = []
    for r in rows:
        deps = split_list(c.text(r, "Avdelningar"))
        if len(deps) == 1 and deps[0].casefold() == "alla":
            deps = ()
        out.append(Question(c.text(r, "Fråga-id", True) or "", c.text(r, "Fråga", True) or "",
                            c.text(r, "Mål-id", True), deps, _periods(r, c)))
    return out


def read_activities(rows: list[Row], c: Collector) -> list[Activity]:
    return [Activity(c.text(r, "Aktivitets-id", True) or "", c.text(r, "Avdelnings-id", True) or "",
                     c.text(r, "Aktivitet", True) or "", c.text(r, "Mål-id"), c.text(r, "Rubrik"),
                     c.text(r, "Ansvarig"), c.text(r, "Klart senast"), c.text(r, "Beslut")) for r in rows]


def read_budget(rows: list[Row], c: Collector, dep_ids: set[str] | None = None) -> list[BudgetLine]:
    """Budget lines; a row with a bad value is reported and left out, its department checked here."""
    out = []
    for r in rows:
        dep, item = c.text(r, "Avdelnings-id", True), c.text(r, "Post", True)
        year, budget = c.integer(r, "År", True, 1990, 2100), c.number(r, "Budget (tkr)", True)
        if dep and dep_ids is not None and dep not in dep_ids | {COMMITTEE_ID}:
            c.add(r.sheet, r.ref("Avdelnings-id"), Code.OKAND_REFERENS,
                  f"'{dep}' finns inte på bladet Avdelningar (eller skriv {COMMITTEE_ID} för hela nämnden).")
        if dep and item and year is not None and budget is not None:
            out.append(BudgetLine(dep, item, year, budget))
    return out


def read_accounts(rows: list[Row], c: Collector) -> list[AccountRange]:
    """Kontoplan: which ledger accounts make which budget line."""
    return [AccountRange(c.text(r, "Post", True) or "", c.text(r, "Konton", True) or "", c.text(r, "Projekt") or "")
            for r in rows]


def read_personnel(rows: list[Row], c: Collector) -> list[PersonnelTarget]:
    out = []
    for r in rows:
        pol = c.text(r, "Polaritet")
        polarity = _POLARITIES.get(pol.casefold()) if pol else None
        if pol and polarity is None:
            c.add(r.sheet, r.ref("Polaritet"), Code.OGILTIG_POLARITET,
                  f"Polaritet '{pol}' ska vara 'högre' eller 'lägre' (eller tom).")
        out.append(PersonnelTarget(c.text(r, "Avdelnings-id", True) or "", c.text(r, "Nyckeltal", True) or "",
                                   c.text(r, "Nuvärde"), c.text(r, "Målvärde"), c.text(r, "Enhet"),
                                   split_list(c.text(r, "HR-mått"), ";"), polarity))  # type: ignore[arg-type]
    return out



def read_hr_sources(rows: list[Row], c: Collector) -> list[HrSource]:
    """Personalkällor: one row per HR export (file pattern and the columns that hold what)."""
    out = []
    for r in rows:
        shares = (c.text(r, "Andelar") or "procent").strip().casefold()
        if shares not in ("procent", "kvot", "bråk"):
            c.add(r.sheet, r.ref("Andelar"), Code.OGILTIGT_VARDE,
                  f"Andelar '{r.get('Andelar')}' ska vara 'procent' (5,3 betyder 5,3 %) eller 'kvot' "
                  "(0,053 betyder 5,3 %).")
        out.append(HrSource(c.text(r, "Fil", True) or "", c.text(r, "Avdelningskolumn", True) or "",
                            c.text(r, "Måttkolumn", True) or "", c.text(r, "Värdekolumn", True) or "",
                            c.text(r, "Periodkolumn"), c.text(r, "Blad"), c.text(r, "Timkolumn"),
                            c.text(r, "Antalkolumn"), shares in ("kvot", "bråk")))
    return out


def read_controls(rows: list[Row], c: Collector) -> list[ControlItem]:
    return [ControlItem(c.text(r, "Kontroll-id", True) or "", c.text(r, "Risk", True) or "",
                        c.text(r, "Avdelnings-id"), c.text(r, "Process"), c.text(r, "Kontrollmoment"),
                        c.integer(r, "Sannolikhet", lo=1, hi=4), c.integer(r, "Konsekvens", lo=1, hi=4),
                        c.text(r, "Ansvarig"), c.text(r, "Metod")) for r in rows]


def read_file_sources(rows: list[Row], c: Collector) -> list[FileSource]:
    out = []
    for r in rows:
        keys = []
        for part in split_list(c.text(r, "Nyckelkolumner"), ";"):
            col, eq, value = part.partition("=")
            if not eq or not col.strip():
                c.add(r.sheet, r.ref("Nyckelkolumner"), Code.OGILTIGT_VARDE,
                      f"'{part}' ska skrivas Kolumn=värde, t.ex. Period={{period}}.")
                continue
            keys.append((col.strip(), value.strip()))
        out.append(FileSource(c.text(r, "Indikator-id", True) or "", c.text(r, "Fil", True) or "",
                              c.text(r, "Värdekolumn", True) or "", c.text(r, "Serie"),
                              c.text(r, "Blad"), tuple(keys)))
    return out


# ---------------------------------------------------------------- cross checks

def _unique(items: Iterable[Any], key: Callable[[Any], str], sheet: str, col: str, rows: list[Row], c: Collector) -> None:
    seen: dict[str, int] = {}
    for item, row in zip(items, rows):
        k = key(item)
        if not k:
            continue
        if k in seen:
            c.add(sheet, row.ref(col), Code.PLAN_DUBBLETT,
                  f"{col} '{k}' finns redan på rad {seen[k]}; id måste vara unika.")
        else:
            seen[k] = row.number


def _duplicate_rows(rows: list[Row], cols: tuple[str, ...], col: str, label: str, scope: str,
                    c: Collector) -> None:
    """Rows with the same values in *cols* (text compared without case and spacing) are an error."""
    seen: dict[tuple[str, ...], int] = {}
    for row in rows:
        parts = [row.get(k) for k in cols]
        if any(p is None for p in parts):
            continue
        key = tuple(" ".join(str(p).split()).casefold() for p in parts)
        if key in seen:
            c.add(row.sheet, row.ref(col), Code.PLAN_DUBBLETT,
                  f"{label} '{row.get(col)}' finns redan på rad {seen[key]} "
                  f"{scope}; slå ihop raderna eller ta bort den ena.")
        else:
            seen[key] = row.number


def format_min(x: float) -> str:
    return f"{x:g}".replace(".", ",")


def _no_bar(deps: list[Department], acts: list[Activity], ctrls: list[ControlItem], goals: list[Goal],
            inds: list[Indicator], rows: dict[str, list[Row]], c: Collector) -> None:
    """'|' separates the parts of a row's Rad-id ("I|id|serie"), so no id, series or post may hold one."""
    checks: list[tuple[str, str, list[Row]]] = [
        ("Avdelningar", "Avdelnings-id", rows["Avdelningar"]), ("Mål", "Mål-id", rows["Mål"]),
        ("Indikatorer", "Indikator-id", rows["Indikatorer"]), ("Indikatorer", "Serier", rows["Indikatorer"]),
        ("Aktiviteter", "Aktivitets-id", rows["Aktiviteter"]), ("Internkontroll", "Kontroll-id", rows["Internkontroll"]),
        ("Frågor", "Fråga-id", rows["Frågor"]),
        ("Ekonomi", "Post", rows["Ekonomi"]), ("Personal", "Nyckeltal", rows["Personal"]),
    ]
    for sheet, col, sheet_rows in checks:
        for row in sheet_rows:
            value = row.get(col)
            if isinstance(value, str) and "|" in value:
                c.add(sheet, row.ref(col), Code.OGILTIGT_TECKEN, f"'{value}' innehåller tecknet '|', som xlplan "
                      "använder i radernas id. Byt det mot t.ex. '/' eller '-'.")


_UNSAFE = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


def _long_names(settings: Settings, deps: list[Department], rows: list[Row], c: Collector) -> None:
    """A department's file name (kommun_nämnd_avdelning_period) must stay short enough for every system."""
    from xlplan.core.naming import file_stem

    for dep, row in zip(deps, rows):
        stem = file_stem(settings.municipality, settings.committee, dep.name, "2024-helår")
        if len(stem) > MAX_FILE_STEM:
            room = max(10, MAX_FILE_STEM - (len(stem) - len(dep.name)))
            c.add("Avdelningar", row.ref("Avdelning"), Code.FOR_LANGT_NAMN,
                  f"Avdelningens namn är {len(dep.name)} tecken, så filnamnet blir {len(stem) + 5} tecken, längre "
                  f"än de {MAX_FILE_STEM} som fungerar överallt. Korta namnet till högst {room} tecken.")


def _refs(items: Iterable[Any], key: Callable[[Any], Iterable[str | None]], known: set[str], sheet: str,
          col: str, target_sheet: str, rows: list[Row], c: Collector) -> None:
    for item, row in zip(items, rows):
        for k in key(item):
            if k and k not in known:
                c.add(sheet, row.ref(col), Code.OKAND_REFERENS, f"'{k}' finns inte på bladet {target_sheet}.")


def plan_from_workbook(path: Path) -> tuple[Plan | None, list[Problem]]:
    """Read and validate; return the plan (None when it has errors) and every problem found."""
    path = Path(path)
    package = read_package(path)  # read once: calamine's values and the XML's number formats
    wb = package.workbook()
    names = {n.strip().casefold(): n for n in wb.sheet_names}
    percent = {names[s.casefold()]: s for s in PERCENT_SHEETS if s.casefold() in names}

    def rows_of(sheet: str) -> list[list[Any]]:
        raw = read_sheet_rows(wb, path, sheet)
        if sheet in percent:
            read_percent_cells(raw, lambda cells: cell_number_formats(
                package.parts, sheet_xml(package.parts).get(sheet, b""), cells))
        return raw

    return plan_from_grids(list(wb.sheet_names), rows_of, path.name)


def plan_from_grids(sheet_names: list[str], rows_of: Callable[[str], list[list[Any]]],
                    file: str) -> tuple[Plan | None, list[Problem]]:
    """Validate a plan from its sheets' grids (a file's, or an open book's: ``xlplan.excel.BookGrids``);
    the plan (None when it has errors) and every problem found, named in *file*."""
    c = Collector(file)
    names = {n.strip().casefold(): n for n in sheet_names}  # 'Indikatorer ' is the sheet Indikatorer
    raws = {sheet: rows_of(names[sheet.casefold()]) for sheet in SHEETS if sheet.casefold() in names}
    swapped = swapped_sheets(raws)
    tabs: dict[str, tuple[dict[str, int], list[Row]]] = {}
    for sheet in SHEETS:
        if sheet not in raws:
            if sheet in REQUIRED_SHEETS:
                c.add(sheet, None, Code.PLAN_BLAD_SAKNAS, f"Bladet '{sheet}' saknas i planen.")
            tabs[sheet] = ({}, [])
            continue
        if sheet in swapped:
            c.add(sheet, None, Code.FEL_BLAD, f"Bladet '{sheet}' har rubrikerna för bladet '{swapped[sheet]}'. Har "
                  "bladen bytt namn? Ge varje blad rätt namn (se docs/plan-format.md).")
            tabs[sheet] = ({}, [])
            continue
        raw = raws[sheet]
        header_row = find_header_row(raw, sheet)
        if header_row > 0:
            c.add(sheet, f"rad {header_row + 1}", Code.RUBRIKRAD,
                  f"Rubrikraden ska vara rad 1 på bladet '{sheet}', men "
                  f"rubrikerna står på rad {header_row + 1}. Ta bort raderna ovanför rubrikraden.")
        headers, rows = table(raw, sheet, header_row)
        for col in REQUIRED_COLUMNS.get(sheet, ()):
            if norm_header(col) not in headers and (rows or sheet in REQUIRED_SHEETS):
                c.add(sheet, f"rad {header_row + 1}", Code.PLAN_KOLUMN_SAKNAS,
                      f"Kolumnen '{col}' saknas på bladet '{sheet}'.")
        long_texts(rows, c)
        tabs[sheet] = (headers, rows)
    return build_plan(tabs, c)


PERCENT_SHEETS = ("Indikatorer", "Personal")  # sheets whose targets and values may be typed as Excel percentages


def read_percent_cells(raw: list[list[Any]], formats: Callable[[set[str]], dict[str, str]]) -> None:
    """Numbers in percent-formatted cells become the text a person sees: a target typed ``98%`` in Excel is
    stored as 0,98 and read as ``98 %``, not as 0,98 (calamine gives no formats; only cells holding a number
    up to 10 (1 000 %) other than 0 are looked up in *formats*, and only when there are any)."""
    cells = {cell_ref(r, c): (r, c) for r, row in enumerate(raw) for c, v in enumerate(row)
             if isinstance(v, (int, float)) and not isinstance(v, bool) and 0 < abs(v) <= 10}
    if not cells:
        return
    for ref, fmt in formats(set(cells)).items():
        if is_percent_format(fmt):
            r, c = cells[ref]
            raw[r][c] = f"{format_number(float(f'{raw[r][c] * 100:.10g}'))} %"


MAX_CELL_TEXT = 32_767  # Excel's limit for the text in one cell
MAX_FILE_STEM = 100  # a department file's name (without extension); longer names fail on Windows paths
HEADER_SEARCH_ROWS = 10


def _has_required(row: list[Any], sheet: str) -> bool:
    found = {norm_header(v) for v in row}
    return all(norm_header(col) in found for col in REQUIRED_COLUMNS.get(sheet, ()))


def find_header_row(raw: list[list[Any]], sheet: str) -> int:
    """The 0-based row holding *sheet*'s required headers: 0, or a later one below a title row."""
    if not raw or _has_required(raw[0], sheet):
        return 0
    return next((i for i, row in enumerate(raw[1:HEADER_SEARCH_ROWS], start=1) if _has_required(row, sheet)), 0)


def swapped_sheets(raws: dict[str, list[list[Any]]]) -> dict[str, str]:
    """Sheets whose first rows hold another sheet's headers and not their own: sheet -> the other."""
    out = {}
    for sheet, raw in raws.items():
        head = raw[:HEADER_SEARCH_ROWS]
        if any(_has_required(r, sheet) for r in head):
            continue
        other = next((o for o in SHEETS if o != sheet and any(_has_required(r, o) for r in head)), None)
        if other is not None:
            out[sheet] = other
    return out


def long_texts(rows: list[Row], c: Collector) -> None:
    for row in rows:
        for key, value in row.values.items():
            if isinstance(value, str) and len(value) > MAX_CELL_TEXT:
                c.add(row.sheet, row.ref(key), Code.FOR_LANG_TEXT, f"Texten är {len(value):,} tecken; en cell i Excel "
                      f"rymmer högst {MAX_CELL_TEXT:,}. Korta den.".replace(",", " "))


def build_plan(tabs: dict[str, tuple[dict[str, int], list[Row]]], c: Collector) -> tuple[Plan | None, list[Problem]]:
    settings = read_settings(tabs["Inställningar"][1], c)
    deps = read_departments(tabs["Avdelningar"][1], c)
    goals = read_goals(tabs["Mål"][1], c)
    inds = read_indicators(tabs["Indikatorer"][1], c, tabs["Indikatorer"][0])
    acts = read_activities(tabs["Aktiviteter"][1], c)
    budget = read_budget(tabs["Ekonomi"][1], c, {d.id for d in deps})
    pers = read_personnel(tabs["Personal"][1], c)
    ctrls = read_controls(tabs["Internkontroll"][1], c)
    files = read_file_sources(tabs["Filkällor"][1], c)
    questions = read_questions(tabs["Frågor"][1], c)
    hr = read_hr_sources(tabs["Personalkällor"][1], c)
    accounts = read_accounts(tabs["Kontoplan"][1], c)

    rows = {s: tabs[s][1] for s in tabs}
    _unique(deps, lambda d: d.id, "Avdelningar", "Avdelnings-id", rows["Avdelningar"], c)
    _unique(goals, lambda g: g.id, "Mål", "Mål-id", rows["Mål"], c)
    _unique(inds, lambda i: i.id, "Indikatorer", "Indikator-id", rows["Indikatorer"], c)
    _unique(acts, lambda a: a.id, "Aktiviteter", "Aktivitets-id", rows["Aktiviteter"], c)
    _unique(ctrls, lambda k: k.id, "Internkontroll", "Kontroll-id", rows["Internkontroll"], c)
    dep_ids, goal_ids, ind_ids = {d.id for d in deps}, {g.id for g in goals}, {i.id for i in inds}
    _refs(inds, lambda i: [i.goal_id], goal_ids, "Indikatorer", "Mål-id", "Mål", rows["Indikatorer"], c)
    _refs(inds, lambda i: i.departments, dep_ids, "Indikatorer", "Avdelningar", "Avdelningar", rows["Indikatorer"], c)
    _refs(acts, lambda a: [a.department_id], dep_ids, "Aktiviteter", "Avdelnings-id", "Avdelningar", rows["Aktiviteter"], c)
    _refs(acts, lambda a: [a.goal_id], goal_ids, "Aktiviteter", "Mål-id", "Mål", rows["Aktiviteter"], c)
    _refs(pers, lambda p: [p.department_id], dep_ids | {COMMITTEE_ID}, "Personal", "Avdelnings-id", "Avdelningar",
          rows["Personal"], c)
    _refs(ctrls, lambda k: [k.department_id], dep_ids, "Internkontroll", "Avdelnings-id", "Avdelningar", rows["Internkontroll"], c)
    _refs(files, lambda f: [f.indicator_id], ind_ids, "Filkällor", "Indikator-id", "Indikatorer", rows["Filkällor"], c)
    _unique(questions, lambda q: q.id, "Frågor", "Fråga-id", rows["Frågor"], c)
    _refs(questions, lambda q: [q.goal_id], goal_ids, "Frågor", "Mål-id", "Mål", rows["Frågor"], c)
    _refs(questions, lambda q: q.departments, dep_ids | {d.casefold() for d in dep_ids} | {COMMITTEE_ID},
          "Frågor", "Avdelningar", "Avdelningar", rows["Frågor"], c)
    _no_bar(deps, acts, ctrls, goals, inds, rows, c)
    _check_reporters(inds, dep_ids, rows["Indikatorer"], c)
    _duplicate_rows(rows["Ekonomi"], ("Avdelnings-id", "Post", "År"), "Post", "Posten", "för samma avdelning och år", c)
    _duplicate_rows(rows["Personal"], ("Avdelnings-id", "Nyckeltal"), "Nyckeltal", "Nyckeltalet",
                    "för samma avdelning", c)
    for ind, row in zip(inds, rows["Indikatorer"]):
        seen_series: set[str] = set()
        for name in ind.series:
            if name.casefold() in seen_series:
                c.add(row.sheet, row.ref("Serier"), Code.PLAN_DUBBLETT, f"Serien '{name}' står två gånger i Serier.")
            seen_series.add(name.casefold())
        if ind.minimum is not None and ind.maximum is not None and ind.minimum > ind.maximum:
            c.add(row.sheet, row.ref("Min"), Code.MIN_OVER_MAX,
                  f"Min ({format_min(ind.minimum)}) är större än Max ({format_min(ind.maximum)}).")
    if settings is not None:
        _long_names(settings, deps, rows["Avdelningar"], c)
    if not deps and tabs["Avdelningar"][0]:
        c.add("Avdelningar", None, Code.TOMT, "Planen har inga avdelningar.")
    items = {b.item.casefold() for b in budget}
    for acc, row in zip(accounts, rows["Kontoplan"]):
        if acc.item and acc.item.casefold() not in items:
            c.add("Kontoplan", row.ref("Post"), Code.OKAND_REFERENS,
                  f"Posten '{acc.item}' finns inte på bladet Ekonomi.")
    if settings is not None and settings.ledger is not None and not accounts:
        c.add("Kontoplan", None, Code.SAKNAS, "Planen anger en huvudboksfil men bladet Kontoplan (vilka konton som "
              "hör till vilken post) saknas eller är tomt.")
    if settings is None or c.problems:
        return None, c.problems
    plan = Plan(settings, tuple(deps), tuple(goals), tuple(inds), tuple(acts), tuple(budget),
                tuple(pers), tuple(ctrls), tuple(files), questions=tuple(questions), hr_sources=tuple(hr),
                accounts=tuple(accounts))
    return plan, c.problems


def read_plan(path: str | Path) -> Plan:
    """Read a plan workbook; raise :class:`PlanInvalid` listing every problem."""
    plan, problems = plan_from_workbook(Path(path))
    if plan is None:
        raise PlanInvalid(Path(path).name, problems)
    return plan


def find_plans(near: Path, plan_id: str | None) -> list[Path]:
    """Plan workbooks (a plan, or the controller's uppfoljning.xlsm) in *near*'s folder or the folder
    above it, whose Plan-id is *plan_id* (any, when None) and which read without errors."""
    near = Path(near)
    start = near if near.is_dir() else near.parent
    found = []
    for folder in dict.fromkeys([start, start.parent]):
        for path in sorted(folder.glob("*.xls[xm]")):
            if path.name.startswith(("~$", ".")):
                continue
            try:
                if "inställningar" not in {n.strip().casefold() for n in open_workbook(path).sheet_names}:
                    continue
                plan, _ = plan_from_workbook(path)
            except XlplanError:
                continue
            if plan is not None and (plan_id is None or plan.id == plan_id):
                found.append(path)
    return found


# ---------------------------------------------------------------- writing (example plans, tests)

def write_plan_tables(tables: dict[str, list[dict[str, Any]]], out: str | Path) -> None:
    """Write plan tables (sheet -> rows keyed by header) as a plan workbook, atomically.

    Used to build the bundled example plans from ``templates/src/*.json`` and by tests.
    Deterministic: the same tables give the same cell content.
    """
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    from xlplan.io.atomic import atomic_path

    wb = Workbook()
    wb.remove(wb.worksheets[0])  # a new Workbook() holds exactly one sheet
    for sheet in SHEETS:
        rows = tables.get(sheet)
        if rows is None:
            continue
        ws = wb.create_sheet(sheet)
        headers: list[str] = list(REQUIRED_COLUMNS.get(sheet, ()))
        for row in rows:
            for key in row:
                if key not in headers:
                    headers.append(key)
        ws.append(headers)
        for cell in ws[1]:
            cell.font = Font(bold=True, color=HEADER_FONT)
            cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
        for row in rows:
            ws.append([row.get(h) for h in headers])
        for i, h in enumerate(headers, start=1):
            longest = max([len(str(h))] + [len(str(r.get(h) or "")) for r in rows])
            ws.column_dimensions[ws.cell(1, i).column_letter].width = min(60, max(10, longest + 2))
        for row_cells in ws.iter_rows(min_row=2):
            for cell in row_cells:
                cell.alignment = Alignment(wrap_text=True, vertical="top")
        ws.freeze_panes = "A2"
    wb.properties.creator = "xlplan"
    with atomic_path(out) as tmp:
        wb.save(tmp)


def load_tables_json(path: str | Path) -> dict[str, list[dict[str, Any]]]:
    return json.loads(Path(path).read_text(encoding="utf-8"))
