"""The columns of every department sheet: fixed per template version, independent of the plan.

The reader (:mod:`xlplan.books.department.reader`) finds columns in a file by these headers.
"""

from __future__ import annotations

from xlplan.books.spec import ROW_ID_HEADER, ROW_ID_KEY, ColumnSpec, Validation
from xlplan.core.status import Status

HEADER_ROW = 5

OVERVIEW = "Översikt"
INDICATORS = "Mål och indikatorer"
ACTIVITIES = "Aktiviteter"
ECONOMY = "Ekonomi"
PERSONNEL = "Personal"
CONTROLS = "Internkontroll"
QUESTIONS = "Frågor"
REMOVED = "Borttagna rader"
NOTES = "Anteckningar"  # text found outside the tables on refill (not a table xlplan reads)
META = "_xlplan"

SUBMISSION_ROW_ID = "O|inlamning"
CONTACT_ROW_ID = "O|kontakt"
#: Inlämningsstatus, in workflow order (xlplan.actions.workflow); the last is set when the controller returns a file.
SUBMISSION_STATES = ("ej påbörjad", "pågår", "klar för granskning", "godkänd", "åter för komplettering")
#: What the department chooses itself (the drop-down); the rest are set by submit, approve and return.
SUBMISSION_CHOICES = SUBMISSION_STATES[:2]
ACTIVITY_STATES = ("ej påbörjad", "pågår", "klar", "försenad", "avbruten")
ASSESSMENTS = tuple(s.label for s in (Status.UPPFYLLT, Status.DELVIS, Status.EJ))
CONTROL_RESULTS = ("utan anmärkning", "med anmärkning", "ej genomförd")
# The status words, in summary order (the labels of xlplan.core.status.Status).
STATUS_WORDS = tuple(s.label for s in (Status.UPPFYLLT, Status.DELVIS, Status.EJ, Status.MANUELL,
                                       Status.UTFALL_SAKNAS, Status.JAMFORELSEVARDE_SAKNAS, Status.MALVARDE_SAKNAS,
                                       Status.REDOVISAS))

AMOUNT = "#,##0"
DEVIATION = "#,##0;[Red]-#,##0"
DECIMAL = "#,##0.0"
PERCENT = '0.0" %"'


def choice(options: tuple[str, ...], what: str) -> Validation:
    return Validation("list", options=options, error_title="Välj i listan",
                      error=f"Välj {what} i listan: {', '.join(options)}.")


def number_validation(minimum: float | None = None, maximum: float | None = None) -> Validation:
    if minimum is not None and maximum is not None:
        rule = f"ett tal mellan {_sv(minimum)} och {_sv(maximum)}"
    elif minimum is not None:
        rule = f"ett tal som är minst {_sv(minimum)}"
    elif maximum is not None:
        rule = f"ett tal som är högst {_sv(maximum)}"
    else:
        rule = "ett tal"
    return Validation("decimal", minimum=minimum, maximum=maximum, error_title="Skriv ett tal",
                      error=f"Skriv {rule}, t.ex. 48,5 (utan enhet eller %-tecken). Lämna tomt om utfall saknas.")


def _sv(x: float) -> str:
    return (str(int(x)) if float(x).is_integer() else str(x)).replace(".", ",")


def _id(hidden: bool = True) -> ColumnSpec:
    return ColumnSpec(ROW_ID_KEY, ROW_ID_HEADER, width=14, hidden=hidden, wrap=False)


def overview_columns() -> list[ColumnSpec]:
    return [_id(), ColumnSpec("label", "Uppgift", 34), ColumnSpec("value", "Värde", 46)]


def indicator_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("priority_goal", "Prioriterat mål", 16),
        ColumnSpec("goal", "Nämndens mål", 22),
        ColumnSpec("indicator", "Indikator", 24),
        ColumnSpec("series", "Serie", 12),
        ColumnSpec("source", "Kolada-id / källa", 11),
        ColumnSpec("unit", "Enhet", 6),
        ColumnSpec("baseline", "Nuläge", 13),
        ColumnSpec("baseline_year", "Nulägesår", 8, number_format="0"),
        ColumnSpec("target", "Målvärde", 13),
        # What a direction target (Öka/Minska/Bibehålla) is compared with; an input on such rows only.
        ColumnSpec("comparison", "Jämförelsevärde", 15, input=True, number_format=DECIMAL,
                   validation=number_validation()),
        ColumnSpec("comparison_source", "Jämförelsekälla", 16),
        ColumnSpec("outcome", "Utfall", 10, input=True, number_format=DECIMAL, validation=number_validation()),
        ColumnSpec("status", "Status", 16),
        ColumnSpec("assessment", "Egen bedömning", 15, input=True,
                   validation=Validation("list", options=ASSESSMENTS, error_title="Välj i listan",
                                         error="Välj Uppfyllt, Delvis uppfyllt eller Ej uppfyllt.",
                                         prompt="Fylls i när målet bedöms manuellt (kvalitativt mål).")),
        ColumnSpec("comment", "Kommentar / analys", 30, input=True),
        ColumnSpec("actions", "Åtgärder", 22, input=True),
        ColumnSpec("outcome_source", "Utfallets källa", 18, keep=True),
        ColumnSpec("fetched_value", "Hämtat värde", 12, hidden=True, keep=True, number_format=DECIMAL),
        ColumnSpec("provenance", "Proveniens", 20, hidden=True, keep=True, wrap=False),
    ]


# Columns added after template 1 was first used: an older file without them is still read and refilled.
ADDED_COLUMNS = {INDICATORS: ("comparison", "comparison_source"),
                 PERSONNEL: ("outcome_source", "fetched_value", "provenance"),
                 ECONOMY: ("outcome_source", "fetched_value", "provenance"),
                 REMOVED: ("formula",)}


def activity_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("goal", "Mål", 28),
        ColumnSpec("heading", "Rubrik", 16),
        ColumnSpec("activity", "Aktivitet", 44),
        ColumnSpec("responsible", "Ansvarig", 16),
        ColumnSpec("deadline", "Klart senast", 14),
        ColumnSpec("status", "Status", 14, input=True, validation=choice(ACTIVITY_STATES, "status")),
        ColumnSpec("comment", "Kommentar", 44, input=True),
    ]


def economy_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("item", "Post", 28),
        ColumnSpec("budget", "Budget (tkr)", 14, number_format=AMOUNT),
        ColumnSpec("actual", "Utfall hittills (tkr)", 14, input=True, number_format=AMOUNT,
                   validation=number_validation()),
        ColumnSpec("forecast", "Helårsprognos (tkr)", 14, input=True, number_format=AMOUNT,
                   validation=number_validation()),
        ColumnSpec("deviation", "Avvikelse (tkr)", 14, number_format=DEVIATION),
        ColumnSpec("comment", "Kommentar", 50, input=True),
        # where Utfall hittills came from (xlplan pull from the ledger export); the same keys as the
        # indicator sheet's, so pull's rule for what a person typed is the same
        ColumnSpec("outcome_source", "Utfallets källa", 24, keep=True),
        ColumnSpec("fetched_value", "Hämtat värde", 12, hidden=True, keep=True, number_format=AMOUNT),
        ColumnSpec("provenance", "Proveniens", 20, hidden=True, keep=True, wrap=False),
    ]


def personnel_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("name", "Nyckeltal", 30),
        ColumnSpec("current", "Nuvärde", 14),
        ColumnSpec("target", "Målvärde", 14),
        ColumnSpec("outcome", "Utfall", 12, input=True, number_format=DECIMAL, validation=number_validation()),
        ColumnSpec("comment", "Kommentar", 50, input=True),
        # Where a pulled outcome came from (xlplan.io.hrexport); an outcome equal to Hämtat värde was pulled.
        ColumnSpec("outcome_source", "Utfallets källa", 18, keep=True),
        ColumnSpec("fetched_value", "Hämtat värde", 12, hidden=True, keep=True, number_format=DECIMAL),
        ColumnSpec("provenance", "Proveniens", 20, hidden=True, keep=True, wrap=False),
    ]


def control_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("process", "Process", 16),
        ColumnSpec("risk", "Risk", 28),
        ColumnSpec("control", "Kontrollmoment", 22),
        ColumnSpec("probability", "Sannolikhet", 10, number_format="0"),
        ColumnSpec("consequence", "Konsekvens", 10, number_format="0"),
        ColumnSpec("risk_value", "Riskvärde", 9, number_format="0"),
        ColumnSpec("responsible", "Ansvarig", 14),
        ColumnSpec("method", "Metod", 16),
        ColumnSpec("result", "Kontrollresultat", 16, input=True, validation=choice(CONTROL_RESULTS, "resultat")),
        ColumnSpec("comment", "Kommentar", 36, input=True),
    ]


def question_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("goal", "Mål", 30),
        ColumnSpec("question", "Fråga", 48),
        ColumnSpec("answer", "Svar", 70, input=True),
    ]


def removed_columns() -> list[ColumnSpec]:
    return [
        _id(False),
        ColumnSpec("sheet", "Blad", 18),
        ColumnSpec("source_row", "Rad-id (tidigare)", 22),
        ColumnSpec("row_text", "Rad", 36),
        ColumnSpec("column", "Kolumn", 18),
        ColumnSpec("value", "Värde", 40),
        ColumnSpec("moved", "Flyttad hit", 18),
        # last, so the columns of files from before it stay where they were
        ColumnSpec("formula", "Formel", 30),  # the formula that gave the value, as text (it is not recomputed)
    ]


def notes_columns() -> list[ColumnSpec]:
    return [
        _id(),
        ColumnSpec("sheet", "Blad", 22),
        ColumnSpec("cell", "Cell", 10),
        ColumnSpec("value", "Värde", 60),
        ColumnSpec("moved", "Flyttad hit", 14),
    ]


def meta_columns() -> list[ColumnSpec]:
    return [ColumnSpec(ROW_ID_KEY, "Nyckel", 20), ColumnSpec("value", "Värde", 60)]


# ---------------------------------------------------------------- row checksums

CHECKSUM_KEY = "checksum"
#: The fixed texts that tell a person which row it is. Their checksum is kept beside each Rad-id in
#: _xlplan, so a sort that left the hidden Rad-id column behind is found (xlplan.books.department.reader).
FIXED_TEXTS = {INDICATORS: ("indicator", "series", "source", "target"), ACTIVITIES: ("goal", "heading", "activity"),
               ECONOMY: ("item",), PERSONNEL: ("name", "target"), CONTROLS: ("process", "risk", "control"),
               QUESTIONS: ("question",)}


def checksum_column() -> ColumnSpec:
    """The third column of _xlplan's rad.NNNN rows (files without it are not checked)."""
    return ColumnSpec(CHECKSUM_KEY, "Kontroll", 12)


def row_checksum(sheet: str, values: dict[str, object]) -> str | None:
    """A short checksum of a row's fixed texts as a person sees them (None: the sheet has none)."""
    import hashlib

    keys = FIXED_TEXTS.get(sheet)
    if not keys:
        return None
    texts = [fixed_text(values.get(k)) for k in keys]
    return hashlib.sha256("\x1f".join(texts).encode("utf-8")).hexdigest()[:10]


def fixed_text(value: object) -> str:
    """A cell's text as a person reads it (spaces collapsed, whole numbers without decimals)."""
    if value is None or isinstance(value, bool):
        return "" if value is None else str(value)
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    text = str(value)
    if not text.isprintable():  # only then is a character dropped (checked per character)
        text = "".join(ch for ch in text if ch.isprintable() or ch.isspace())
    return " ".join(text.split())


COLUMNS = {
    OVERVIEW: overview_columns, INDICATORS: indicator_columns, ACTIVITIES: activity_columns,
    ECONOMY: economy_columns, PERSONNEL: personnel_columns, CONTROLS: control_columns,
    QUESTIONS: question_columns, REMOVED: removed_columns,
}
# Row-id prefix -> sheet (row ids are "<prefix>|...").
ROW_PREFIX = {"O": OVERVIEW, "S": OVERVIEW, "I": INDICATORS, "A": ACTIVITIES, "E": ECONOMY, "T": ECONOMY,
              "P": PERSONNEL, "K": CONTROLS, "F": QUESTIONS, "B": REMOVED}


def sheet_of_row(row_id: str) -> str | None:
    return ROW_PREFIX.get(row_id.split("|", 1)[0])
