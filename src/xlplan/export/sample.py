"""A sample committee follow-up (fictitious department reports, real Kolada values).

Used by the tests and usable by a demo.  The Kolada comparison values are real
(``xlplan/data/kolada``: Alingsås 1489, Linköping 0580, Norrköping 0581, riket
0000); the department outcomes, texts and economy are made up but typical.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from xlplan.books.committee import (
    FULFILLED,
    MANUAL,
    NOT_FULFILLED,
    OUTCOME_MISSING,
    PARTLY,
    TARGET_MISSING,
    ActivityLine,
    CommentLine,
    CommitteeData,
    CommitteeMeta,
    Comparison,
    ControlResult,
    EconomyLine,
    GoalSummary,
    IndicatorLine,
    Submission,
    goal_status_counts,
)
from xlplan.core.codes import Code
from xlplan.core.errors import Problem

GOALS = {
    "M1": ("En trygg och meningsfull vardag", "Brukarnas nöjdhet med vård och omsorg ska öka."),
    "M2": ("Attraktiv arbetsgivare", "Sjukfrånvaron bland medarbetarna ska minska."),
    "M3": ("Delaktighet och kvalitet", "Det systematiska kvalitetsarbetet ska stärkas."),
}
DEPARTMENTS = {
    "ABO": "Äldreboendeavdelningen",
    "KVA": "Kvarboendeavdelningen",
    "FS": "Avdelningen för funktionsstöd",
    "MYN": "Myndighetsavdelningen",
}
SAVED = dt.datetime(2024, 9, 12, 15, 40)
FETCHED = dt.datetime(2024, 9, 13, 8, 5)


def _line(goal: str, ind: str, name: str, dep: str | None, **kw: object) -> IndicatorLine:
    prio, text = GOALS[goal]
    department = DEPARTMENTS[dep] if dep else "Nämnden"
    return IndicatorLine(goal, prio, text, ind, name, dep, department, **kw)  # type: ignore[arg-type]


def sample_indicators() -> tuple[IndicatorLine, ...]:
    sabo = "Brukarbedömning särskilt boende äldreomsorg – helhetssyn, andel (%)"
    htj = "Brukarbedömning hemtjänst äldreomsorg – helhetssyn, andel (%)"
    mail = "Svar på e-post inom en arbetsdag, andel (%)"
    sick = "Sjukfrånvaro, andel av ordinarie arbetstid (%)"
    wait = "Väntetid till särskilt boende, dagar (medelvärde)"
    return (
        _line("M1", "I1", sabo, "ABO", unit="%", baseline="83 %", baseline_year=2022, target=">85 %",
              target_value=85, outcome=87, status=FULFILLED, provenance="Kolada U23471, 2024",
              kolada_id="U23471", comment="Nöjdheten har ökat efter införandet av fasta omsorgsteam."),
        _line("M1", "I2", htj, "KVA", unit="%", baseline="94 %", baseline_year=2022, target="minst 95 %",
              target_value=95, outcome=92, status=NOT_FULFILLED, provenance="Kolada U21468, 2024",
              kolada_id="U21468", comment="=SUMMA(A1)",
              actions="Kontinuiteten ska öka genom mindre arbetslag; uppföljning i varje APT."),
        _line("M1", "I3", mail, "MYN", series="Äldre", unit="%", baseline="Äldre 83 %, Funktionsstöd 67 %",
              baseline_year=2023, target="Äldre och Funktionsstöd >69 %", target_value=69, outcome=85,
              status=FULFILLED, provenance="Egen mätning (stickprov v. 34)"),
        _line("M1", "I3", mail, "MYN", series="Funktionsstöd", unit="%",
              baseline="Äldre 83 %, Funktionsstöd 67 %", baseline_year=2023,
              target="Äldre och Funktionsstöd >69 %", target_value=69, outcome=68.5, status=PARTLY,
              provenance="Egen mätning (stickprov v. 34)",
              comment="Ökning från 67 % men målet nås inte; två vakanta handläggartjänster under sommaren.",
              actions="+2 handläggare från oktober; funktionsbrevlåda bemannas dagligen."),
        _line("M2", "I4", sick, "ABO", unit="%", baseline="10,2 %", baseline_year=2023, target="8,0 %",
              target_value=8.0, outcome=9.8, status=PARTLY, provenance="Heroma, jan–aug 2024",
              comment="Sjukfrånvaron har minskat något men ligger över målet.",
              actions="Hälsofrämjande insatser och tidig kontakt med företagshälsovården."),
        _line("M2", "I4", sick, "KVA", unit="%", baseline="8,4 %", baseline_year=2023, target="8,0 %",
              target_value=8.0, outcome=7.6, status=FULFILLED, provenance="Heroma, jan–aug 2024"),
        _line("M2", "I4", sick, "FS", unit="%", baseline="9,1 %", baseline_year=2023, target="8,0 %",
              target_value=8.0, outcome=None, status=OUTCOME_MISSING, provenance=None),
        _line("M2", "I5", wait, None, unit="dagar", baseline="74 dagar", baseline_year=2022, target="65 (90)",
              target_value=65, outcome=71, status=PARTLY, provenance="Kolada U23401 / Treserva",
              kolada_id="U23401", comment="Väntetiden har kortats men är längre än målet.",
              actions="Korttidsplatser omvandlas till permanenta platser i Bjärke under hösten."),
        _line("M3", "I6", "Systematiskt arbetsmiljöarbete", "FS", target="Systematisk analys",
              status=MANUAL, assessment=FULFILLED, comment="Analys genomförd på samtliga enheter."),
        _line("M3", "I7", "Antal genomförda egenkontroller", "ABO", unit="antal", outcome=12,
              status=TARGET_MISSING, provenance="Egen räkning"),
        _line("M3", "I8", "Avvikelser som återkopplats inom 14 dagar, andel (%)", "FS", unit="%",
              baseline="71 %", baseline_year=2023, target="minst 90 %", target_value=90, outcome=64,
              status=NOT_FULFILLED, provenance="Treserva",
              comment="-5 % mot föregående år; nytt avvikelsesystem har försenat återkopplingen.",
              actions=None),
    )


def sample_goals(lines: Iterable[IndicatorLine]) -> tuple[GoalSummary, ...]:
    counts = goal_status_counts(lines)
    assessment = {"M1": PARTLY, "M2": PARTLY, "M3": NOT_FULFILLED}
    out = []
    for goal_id, (prio, text) in GOALS.items():
        c = counts.get(goal_id, {})
        out.append(GoalSummary(goal_id, prio, text, fulfilled=c.get(FULFILLED, 0), partly=c.get(PARTLY, 0),
                               not_fulfilled=c.get(NOT_FULFILLED, 0), outcome_missing=c.get(OUTCOME_MISSING, 0),
                               target_missing=c.get(TARGET_MISSING, 0), manual=c.get(MANUAL, 0),
                               assessment=assessment[goal_id]))
    return tuple(out)


def sample_comparisons() -> tuple[Comparison, ...]:
    sabo = "Brukarbedömning särskilt boende äldreomsorg -  helhetssyn, andel (%)"
    htj = "Brukarbedömning hemtjänst äldreomsorg -  helhetssyn, andel (%)"
    units = {"1489": "Alingsås", "0580": "Linköping", "0581": "Norrköping", "0000": "Riket"}
    values = {
        ("U23471", sabo): {"1489": (86, 88, 86, 83), "0580": (81, 81, 78, 80), "0581": (83, 85, 82, 82),
                           "0000": (81, 81, 81, 77)},
        ("U21468", htj): {"1489": (94, 94, 95, 94), "0000": (88, 88, 88, 86)},
    }
    years = (2018, 2019, 2020, 2022)
    out = [Comparison(kpi, title, unit, units[unit], year, "T", float(v), None, FETCHED)
           for (kpi, title), by_unit in values.items() for unit, vals in by_unit.items()
           for year, v in zip(years, vals)]
    linkoping = (88, 88, 87, 87)
    norrkoping = (84, 85, 85, 83)
    out += [Comparison("U21468", htj, "G-LIKN", "Liknande kommuner (medel)", year, "T", (a + b) / 2, None,
                       FETCHED, "Egen bearbetning av data från Kolada (medel av Linköping och Norrköping)")
            for year, a, b in zip(years, linkoping, norrkoping)]
    return tuple(out)


def sample_economy() -> tuple[EconomyLine, ...]:
    rows = [
        ("ABO", "Intäkter", 42_300, 29_100, 43_000),
        ("ABO", "Personalkostnader", -198_400, -136_900, -203_100),
        ("ABO", "Köp av tjänster", -12_500, -8_600, -12_900),
        ("KVA", "Intäkter", 18_900, 12_700, 18_900),
        ("KVA", "Personalkostnader", -156_200, -101_300, -153_800),
        ("FS", "Personalkostnader", -121_700, -81_900, -123_450.5),
        ("FS", "Övriga kostnader", -9_800, -5_100, -9_300),
        ("MYN", "Personalkostnader", -31_600, -20_400, -31_100),
    ]
    return tuple(EconomyLine(d, DEPARTMENTS[d], item, b, o, f, f - b) for d, item, b, o, f in rows)


def sample_committee_data() -> CommitteeData:
    indicators = sample_indicators()
    meta = CommitteeMeta("alingsas-von-2024", "3f2a9c1b7d40", "Alingsås", "1489", "Vård- och omsorgsnämnden",
                         "2024-delår", "delår 2024", dt.datetime(2024, 9, 14, 9, 30), "alla",
                         "Vård- och omsorgsförvaltningen")
    submissions = tuple(
        Submission(d, name, f"Uppföljning_{d}_2024-delar.xlsx" if d != "FS" else None,
                   "Inlämnad" if d != "FS" else "saknas", "Anna Andersson" if d != "FS" else None,
                   SAVED if d != "FS" else None, "9b1c4e" + d.lower() if d != "FS" else None, 0)
        for d, name in DEPARTMENTS.items())
    activities = (
        ActivityLine("ABO", DEPARTMENTS["ABO"], "M1", "Uppdrag", "Införa fasta omsorgsteam på alla boenden.",
                     "Avdelningschef", "2024-06-30", "Klar", activity_id="A1"),
        ActivityLine("KVA", DEPARTMENTS["KVA"], "M1", "Uppdrag", "Införa digital tillsyn nattetid.",
                     "Enhetschef", "2024 kvartal 3", "Försenad",
                     "-5 % mot budget för tekniken; upphandlingen överprövades.", "A2"),
        ActivityLine("FS", DEPARTMENTS["FS"], "M3", "Grunduppdraget",
                     "Se över rutiner för genomförandeplaner.", None, "2024-12-31", "Pågår",
                     "@Kvalitetsrådet följer arbetet.", "A3"),
        ActivityLine("MYN", DEPARTMENTS["MYN"], "M2", "Personal", "Pilotprojekt med heltid som norm.",
                     "HR-strateg", "2025-03-31", "Ej påbörjad", activity_id="A4"),
    )
    comments = (
        CommentLine("M1", "ABO", DEPARTMENTS["ABO"], None,
                    "Brukarundersökningen visar ett förbättrat resultat, särskilt i bemötande."),
        CommentLine("M1", "KVA", DEPARTMENTS["KVA"], "I2",
                    "Många nya medarbetare under sommaren påverkade kontinuiteten."),
        CommentLine("M2", None, None, None, "Sjukfrånvaron minskar i hela förvaltningen jämfört med 2023."),
        CommentLine("M1", "MYN", DEPARTMENTS["MYN"], "I3", "(Funktionsstöd) Ökning från 67 % men målet nås inte; "
                    "två vakanta handläggartjänster under sommaren."),
        CommentLine(None, "ABO", DEPARTMENTS["ABO"], None,
                    "Ekonomi, Personalkostnader: Underskottet beror på sjukfrånvaro och inhyrd personal."),
        CommentLine(None, "KVA", DEPARTMENTS["KVA"], None, "Personal, Sjukfrånvaro totalt: 7,6 % (mål 8 %)."),
    )
    controls = (
        ControlResult("FS", DEPARTMENTS["FS"], "Genomförandeplaner saknas eller är inaktuella",
                      "Stickprov 20 akter", 3, 3, 9, "14 av 20 aktuella", "Åtgärdsplan upprättad.", "IK1"),
        ControlResult("ABO", DEPARTMENTS["ABO"], "Läkemedelshantering avviker från rutin",
                      "Egenkontroll", 2, 4, 8, "Inga avvikelser", None, "IK2"),
    )
    problems = (Problem(Code.INLAMNING_SAKNAS, "Avdelningens arbetsbok har inte lämnats in.",
                        file="Uppföljning_FS_2024-delar.xlsx", severity="varning",
                        action="avdelningens rader visas som Utfall saknas"),)
    return CommitteeData(meta, submissions, sample_goals(indicators), indicators, activities,
                         sample_economy(), comments, controls, sample_comparisons(), problems)
