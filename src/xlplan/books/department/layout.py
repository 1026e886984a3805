"""The department follow-up workbook, described once as data.

:func:`department_workbook` turns (plan, department, period) into a
:class:`~xlplan.books.spec.WorkbookSpec`; a backend writes it. Every
department gets the same sheets and columns; only the rows differ.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from xlplan.books.department.columns import (
    ACTIVITIES,
    ACTIVITY_STATES,
    AMOUNT,
    CHECKSUM_KEY,
    CONTACT_ROW_ID,
    CONTROLS,
    DECIMAL,
    ECONOMY,
    HEADER_ROW,
    INDICATORS,
    META,
    NOTES,
    OVERVIEW,
    PERCENT,
    PERSONNEL,
    QUESTIONS,
    REMOVED,
    STATUS_WORDS,
    SUBMISSION_CHOICES,
    SUBMISSION_ROW_ID,
    SUBMISSION_STATES,
    activity_columns,
    checksum_column,
    choice,
    control_columns,
    economy_columns,
    indicator_columns,
    meta_columns,
    notes_columns,
    number_validation,
    overview_columns,
    personnel_columns,
    question_columns,
    removed_columns,
    row_checksum,
)
from xlplan.books.spec import (
    TEMPLATE_VERSION,
    AreaSpec,
    ConditionalFormat,
    Formula,
    PrintSetup,
    Protection,
    RowSpec,
    SheetSpec,
    TitleRow,
    WorkbookSpec,
    quote_sheet,
)
from xlplan.core.model import Activity, BudgetLine, ControlItem, Department, Goal, Indicator, Plan, Question
from xlplan.core.numbers import format_number
from xlplan.core.periods import Period
from xlplan.core.rowids import (
    ACTIVITY_ROW,
    CONTROL_ROW,
    ECONOMY_ROW,
    PERSONNEL_ROW,
    QUESTION_ROW,
    context_row_id,
    indicator_row_id,
    is_data_row,
    make_row_id,
)
from xlplan.core.status import ACTIVITY_COLOURS, STATUS_COLOURS, Status

FLAGS_AREA = "xlplan_flaggor"
STATUS_FILLS = tuple((s.label, colours) for s, colours in STATUS_COLOURS.items())
ACTIVITY_FILLS = tuple(ACTIVITY_COLOURS.items())
META_KEYS = ("plan_id", "plan_version", "kommun", "kommun_id", "nämnd", "department_id",
             "department_name", "period", "template_version", "generated_at")


# (indicator id, series name or None) -> (comparison value, its source in Swedish), e.g.
# (7.0, "Utfall K1 2024 (avdelningsfil)"): what a direction target is compared with.
PreviousOutcomes = dict[tuple[str, str | None], tuple[float, str]]


@dataclass(frozen=True)
class Context:
    plan: Plan
    department: Department
    period: Period
    generated_at: str
    previous: PreviousOutcomes = field(default_factory=dict)

    @property
    def protection(self) -> Protection:
        return Protection(True, self.plan.settings.sheet_password)

    def titles(self, heading: str, note: str) -> list[TitleRow]:
        s = self.plan.settings
        return [TitleRow(f"{heading} – {self.department.name}", "title"),
                TitleRow(f"{s.committee}, {s.municipality} · Uppföljning {self.period.label}", "subtitle"),
                TitleRow(note, "note")]


def department_workbook(plan: Plan, department: Department, period: Period,
                        generated_at: str | None = None, *,
                        previous: PreviousOutcomes | None = None) -> WorkbookSpec:
    """The whole follow-up workbook of one department for one period.

    *previous* (comparison values with their sources: the period before, last
    year) is written into the Jämförelsevärde column, which direction targets
    (``Öka``, ``Minska``) compare with; without one they compare with the baseline.
    """
    stamp = generated_at or dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    ctx = Context(plan, department, period, stamp, previous or {})
    indicators = indicator_sheet(ctx)
    activities = activity_sheet(ctx)
    sheets = [overview_sheet(ctx, indicators, activities), indicators, activities, economy_sheet(ctx)]
    if plan.personnel_for(department.id):
        sheets.append(personnel_sheet(ctx))
    if plan.controls_for(department.id):
        sheets.append(control_sheet(ctx))
    if plan.questions_for(department.id, period.kind):
        sheets.append(question_sheet(ctx))
    meta = metadata(ctx)
    sheets.append(meta_sheet(ctx, meta, sheets))
    from xlplan.books.department.embedded import (
        embedded_sheet,  # the department's slice of the plan travels in the file
    )

    sheets.append(embedded_sheet(plan, department.id, stamp, plan.settings.sheet_password))
    return WorkbookSpec(sheets=sheets, properties=meta, active=OVERVIEW)


def metadata(ctx: Context) -> dict[str, str]:
    s = ctx.plan.settings
    values = (s.plan_id, ctx.plan.version, s.municipality, s.municipality_id, s.committee, ctx.department.id,
              ctx.department.name, str(ctx.period), TEMPLATE_VERSION, ctx.generated_at)
    return dict(zip(META_KEYS, values))


# ---------------------------------------------------------------- Mål och indikatorer

def included_indicators(plan: Plan, dep_id: str, period: Period) -> list[tuple[Goal | None, Indicator]]:
    """The indicators the department reports for this period, in goal order."""
    order = {g.id: i for i, g in enumerate(plan.goals)}
    chosen = [i for i in plan.indicators_for(dep_id) if not i.periods or period.kind in i.periods]
    chosen.sort(key=lambda i: order.get(i.goal_id, len(order)))
    return [(plan.goal(i.goal_id), i) for i in chosen]


def indicator_sheet(ctx: Context) -> SheetSpec:
    sheet = SheetSpec(
        INDICATORS, indicator_columns(), HEADER_ROW,
        ctx.titles("Mål och indikatorer",
                   "Fyll i de gula cellerna: utfall (bara talet, t.ex. 48,5), egen bedömning för mål som "
                   "bedöms manuellt, kommentar och åtgärder. Status räknas fram ur utfall och målvärde."),
        freeze_column="E", protection=ctx.protection, print_setup=PrintSetup(paper="A3"),
        conditional_formats=[ConditionalFormat("status", STATUS_FILLS)],
    )
    for goal, ind in included_indicators(ctx.plan, ctx.department.id, ctx.period):
        for series in ind.series_names():
            sheet.rows.append(indicator_row(ctx, sheet, goal, ind, series))
    if not sheet.rows:
        sheet.rows.append(note_row("priority_goal", f"Avdelningen har inga indikatorer att följa upp vid "
                                                    f"{ctx.period.label}."))
    context = context_indicators(ctx.plan, ctx.department.id, ctx.period)
    if context:
        sheet.rows.append(RowSpec("", {"priority_goal": CONTEXT_HEADING}, style="section"))
        for goal, ind in context:
            for series in ind.series_names():
                sheet.rows.append(context_row(ctx, goal, ind, series))
    return sheet


CONTEXT_HEADING = "För kännedom: indikatorer som rapporteras av någon annan (fylls inte i här)"


def context_indicators(plan: Plan, dep_id: str, period: Period) -> list[tuple[Goal | None, Indicator]]:
    """The indicators the department sees read-only for this period (reported once by another), in goal order."""
    order = {g.id: i for i, g in enumerate(plan.goals)}
    chosen = [i for i in plan.context_indicators_for(dep_id) if not i.periods or period.kind in i.periods]
    chosen.sort(key=lambda i: order.get(i.goal_id, len(order)))
    return [(plan.goal(i.goal_id), i) for i in chosen]


def reporter_name(plan: Plan, ind: Indicator) -> str:
    """Who reports a committee-level indicator, in Swedish (the department's name, or Nämnden)."""
    dep = plan.department(ind.reporter or "")
    if ind.reported_by_committee:
        return f"Nämnden ({dep.name})" if dep is not None else "Nämnden"
    return dep.name if dep is not None else (ind.reporter or "")


def context_row(ctx: Context, goal: Goal | None, ind: Indicator, series: str | None) -> RowSpec:
    """A locked row of an indicator another department reports: the plan's texts and who reports it, no
    input cells and no status (it is not counted for this department)."""
    picked = ind.target_text(ctx.period.year)
    values: dict[str, object] = {
        "priority_goal": goal.priority_goal if goal else None,
        "goal": goal.text if goal else ind.goal_id,
        "indicator": ind.name, "series": series, "source": source_text(ind, series), "unit": ind.unit,
        "baseline": ind.baseline, "baseline_year": ind.baseline_year,
        "target": picked[1] if picked else None,
        "status": f"Rapporteras av {reporter_name(ctx.plan, ind)}",
    }
    return RowSpec(context_row_id(ind.id, series), values, inputs=frozenset())


def note_row(key: str, text: str) -> RowSpec:
    """A row saying why a table is empty (no Rad-id: readers skip it)."""
    return RowSpec("", {key: text}, style="note")


def indicator_row(ctx: Context, sheet: SheetSpec, goal: Goal | None, ind: Indicator, series: str | None) -> RowSpec:
    r = sheet.first_data_row + len(sheet.rows)
    picked = ind.target_text(ctx.period.year)
    target_text = None
    if picked:
        year, text = picked
        target_text = text if year == ctx.period.year else f"{text} (målvärde {year})"
    values: dict[str, object] = {
        "priority_goal": goal.priority_goal if goal else None,
        "goal": goal.text if goal else ind.goal_id,
        "indicator": ind.name,
        "series": series,
        "source": source_text(ind, series),
        "unit": ind.unit,
        "baseline": ind.baseline,
        "baseline_year": ind.baseline_year,
        "target": target_text,
        "status": status_cell(ctx, sheet, goal, ind, series, r),
    }
    compared = uses_comparison(ctx, goal, ind, series)
    before = ctx.previous.get((ind.id, series)) if compared else None
    if before is not None:
        values["comparison"], values["comparison_source"] = before
    inputs = frozenset(c.key for c in sheet.columns if c.input and (c.key != "comparison" or compared))
    fmt = outcome_format(ind.unit)
    return RowSpec(indicator_row_id(ind.id, series), values, inputs=inputs,
                   number_formats={"outcome": fmt, "fetched_value": fmt, "comparison": fmt},
                   validations={"outcome": number_validation(ind.minimum, ind.maximum)})


def uses_comparison(ctx: Context, goal: Goal | None, ind: Indicator, series: str | None) -> bool:
    """Whether the row's status depends on its Jämförelsevärde: a direction target (Öka, Minska, or
    Bibehålla without a baseline)."""
    from xlplan.core.assess import uses_comparison as uses

    return uses(ind.target(ctx.period.year, goal), ind.baseline_values(), series)


def source_text(ind: Indicator, series: str | None) -> str | None:
    kpi = ind.kpi_for(series)
    if kpi and ind.source and ind.source.casefold() != "kolada":
        return f"{kpi} ({ind.source})"
    return kpi or ind.source


def outcome_format(unit: str | None) -> str:
    u = (unit or "").strip().casefold()
    if u in ("%", "procent"):
        return PERCENT
    if u in ("kr", "tkr", "mnkr", "antal", "st", "st.", "platser"):
        return AMOUNT
    return DECIMAL


def status_cell(ctx: Context, sheet: SheetSpec, goal: Goal | None, ind: Indicator, series: str | None,
                r: int) -> Formula | str:
    """The status formula of one row, or the status word when no formula expresses it."""
    comparison = f"{sheet.letter('comparison')}{r}" if uses_comparison(ctx, goal, ind, series) else None
    formula = row_status_formula(ctx.plan, ctx.period.year, goal, ind, series, f"{sheet.letter('outcome')}{r}",
                                 f"{sheet.letter('assessment')}{r}", comparison)
    if formula is not None:
        return Formula(formula if formula.startswith("=") else "=" + formula)
    return static_status(ind.target(ctx.period.year, goal).kind)


def row_status_formula(plan: Plan, year: int, goal: Goal | None, ind: Indicator, series: str | None,
                       outcome: str, assessment: str, comparison: str | None) -> str | None:
    """The live status formula of one indicator row whose cells are at the given addresses (None: no formula
    expresses it). The stored result of the formula is written by :mod:`xlplan.io.storedvalues`."""
    from xlplan.core.formulas import status_formula

    return status_formula(ind.target(year, goal), {series: outcome}, series_names=(series,) if series else (),
                          baseline=ind.baseline_values(), polarity=ind.polarity(goal),
                          settings=plan.settings.status_settings, assessment_cell=assessment,
                          comparison_cells={series: comparison} if comparison else None)


def static_status(kind: str) -> str:
    """The status of a row without a formula and without an outcome (words of ``Status.label``)."""
    if kind == "qualitative":
        return Status.MANUELL.label
    if kind == "none":
        return Status.MALVARDE_SAKNAS.label
    return Status.UTFALL_SAKNAS.label


# ---------------------------------------------------------------- Aktiviteter

def activity_sheet(ctx: Context) -> SheetSpec:
    sheet = SheetSpec(
        ACTIVITIES, activity_columns(), HEADER_ROW,
        ctx.titles("Aktiviteter", "Välj status för varje aktivitet och kommentera kort vad som gjorts."),
        freeze_column="E", protection=ctx.protection,
        conditional_formats=[ConditionalFormat("status", ACTIVITY_FILLS)],
    )
    for a in ctx.plan.activities_for(ctx.department.id):
        sheet.rows.append(activity_row(ctx.plan, a))
    if not sheet.rows:
        sheet.rows.append(note_row("goal", "Planen har inga aktiviteter för avdelningen."))
    return sheet


def activity_row(plan: Plan, a: Activity) -> RowSpec:
    goal = plan.goal(a.goal_id) if a.goal_id else None
    return RowSpec(make_row_id(ACTIVITY_ROW, a.id), {"goal": goal.text if goal else None, "heading": a.heading, "activity": a.text,
                                 "responsible": a.responsible, "deadline": a.deadline})


# ---------------------------------------------------------------- Frågor

def question_sheet(ctx: Context) -> SheetSpec:
    """The plan's qualitative questions for this department and period, each with a yellow answer cell."""
    sheet = SheetSpec(
        QUESTIONS, question_columns(), HEADER_ROW,
        ctx.titles("Frågor", f"Svara med text i de gula cellerna. Frågorna gäller {ctx.period.label}; nämndens "
                             "sammanställning och rapport visar svaren under sitt mål."),
        protection=ctx.protection,
    )
    order = {g.id: i for i, g in enumerate(ctx.plan.goals)}
    questions = sorted(ctx.plan.questions_for(ctx.department.id, ctx.period.kind),
                       key=lambda q: order.get(q.goal_id or "", len(order)))
    for q in questions:
        sheet.rows.append(question_row(ctx.plan, q))
    return sheet


def question_row(plan: Plan, q: Question) -> RowSpec:
    goal = plan.goal(q.goal_id) if q.goal_id else None
    return RowSpec(make_row_id(QUESTION_ROW, q.id), {"goal": goal.text if goal else q.goal_id, "question": q.text})


# ---------------------------------------------------------------- Ekonomi

def economy_sheet(ctx: Context) -> SheetSpec:
    s = ctx.plan.settings
    extra = ""
    if s.ledger is not None:
        extra += (" Utfall hittills hämtas ur huvudboken (källan står i Utfallets källa); ett utfall du skriver in "
                  "skrivs aldrig över.")
    if s.economy_comment_threshold is not None:
        extra += (f" Skriv helårsprognosen för varje post; en avvikelse större än "
                  f"{format_number(s.economy_comment_threshold, 0)} tkr förklaras i Kommentar.")
    sheet = SheetSpec(
        ECONOMY, economy_columns(), HEADER_ROW,
        ctx.titles("Ekonomi (tkr)",
                   "Belopp i tkr med tecken som i budgeten: intäkter positiva, kostnader negativa. "
                   "Avvikelse = helårsprognos − budget; en positiv avvikelse är bättre än budget. "
                   "Summans avvikelse räknar raderna som har en prognos." + extra),
        protection=ctx.protection,
    )
    lines = ctx.plan.budget_for(ctx.department.id, ctx.period.year)
    operating = [line for line in lines if not line.is_investment]
    investments = [line for line in lines if line.is_investment]
    if not lines:
        sheet.rows.append(note_row("item", f"Planen har ingen budget för avdelningen {ctx.period.year}."))
        return sheet
    if operating:
        _economy_block(sheet, operating, "T|summa", "Summa")
    if investments:  # below the operating lines, with their own sum: an expenditure is not a cost of the year
        sheet.rows.append(note_row("item", "Investeringar (tkr): budgeten är årets utgift, positiv; en positiv "
                                           "avvikelse är en högre utgift än budgeten."))
        _economy_block(sheet, investments, "T|investeringar", "Summa investeringar")
    return sheet


def _economy_block(sheet: SheetSpec, lines: Sequence[BudgetLine], total_id: str, total_label: str) -> None:
    """Budget lines with a live deviation each, then their sum row (row id *total_id*)."""
    first = sheet.first_data_row + len(sheet.rows)
    for line in lines:
        r = sheet.first_data_row + len(sheet.rows)
        sheet.rows.append(RowSpec(make_row_id(ECONOMY_ROW, line.item), {"item": line.item, "budget": line.budget,
                                                      "deviation": deviation(sheet, r)}))
    last = sheet.first_data_row + len(sheet.rows) - 1
    dev = f"{sheet.letter('deviation')}{first}:{sheet.letter('deviation')}{last}"
    # the sum of the rows' deviations: rows without a forecast count as no deviation, not as −budget
    total_dev = Formula(f'=IF(COUNT({dev})=0,"",SUM({dev}))')
    total: dict[str, object] = {"item": total_label, "deviation": total_dev}
    for key in ("budget", "actual", "forecast"):
        col = sheet.letter(key)
        total[key] = Formula(f"=SUM({col}{first}:{col}{last})")
    sheet.rows.append(RowSpec(total_id, total, style="total", inputs=frozenset()))


def deviation(sheet: SheetSpec, r: int) -> Formula:
    f, b = f"{sheet.letter('forecast')}{r}", f"{sheet.letter('budget')}{r}"
    return Formula(f'=IF(ISBLANK({f}),"",{f}-{b})')


# ---------------------------------------------------------------- Personal, Internkontroll

def personnel_sheet(ctx: Context) -> SheetSpec:
    sheet = SheetSpec(PERSONNEL, personnel_columns(), HEADER_ROW,
                      ctx.titles("Personal", "Fyll i periodens utfall (bara talet) och kommentera."),
                      freeze_column="C", protection=ctx.protection)
    for p in ctx.plan.personnel_for(ctx.department.id):
        sheet.rows.append(RowSpec(make_row_id(PERSONNEL_ROW, p.name), {"name": p.name, "current": p.current, "target": p.target}))
    return sheet


def control_sheet(ctx: Context) -> SheetSpec:
    sheet = SheetSpec(CONTROLS, control_columns(), HEADER_ROW,
                      ctx.titles("Internkontroll", "Riskvärde = sannolikhet × konsekvens (1–4 vardera). "
                                 "Välj kontrollresultat och kommentera avvikelser."),
                      freeze_column="D", protection=ctx.protection)
    for item in ctx.plan.controls_for(ctx.department.id):
        sheet.rows.append(control_row(sheet, item, sheet.first_data_row + len(sheet.rows)))
    return sheet


def control_row(sheet: SheetSpec, k: ControlItem, r: int) -> RowSpec:
    p, c = f"{sheet.letter('probability')}{r}", f"{sheet.letter('consequence')}{r}"
    return RowSpec(make_row_id(CONTROL_ROW, k.id), {
        "process": k.process, "risk": k.risk, "control": k.control, "probability": k.probability,
        "consequence": k.consequence, "risk_value": Formula(f'=IF(OR({p}="",{c}=""),"",{p}*{c})'),
        "responsible": k.responsible, "method": k.method})


# ---------------------------------------------------------------- Översikt

OVERVIEW_FIELDS = (("O|kommun", "Kommun"), ("O|namnd", "Nämnd"), ("O|avdelning", "Avdelning"),
                   ("O|period", "Period"), ("O|planversion", "Planversion"))
SUBMISSION_ROW = SUBMISSION_ROW_ID
CONTACT_ROW = CONTACT_ROW_ID


def overview_sheet(ctx: Context, indicators: SheetSpec, activities: SheetSpec) -> SheetSpec:
    sheet = SheetSpec(
        OVERVIEW, overview_columns(), HEADER_ROW,
        ctx.titles("Uppföljning " + ctx.period.label,
                   "Gula celler fylls i av avdelningen. Sammanställningen nedan räknas fram ur bladen."),
        protection=ctx.protection, print_setup=PrintSetup(landscape=False),
    )
    s = ctx.plan.settings
    facts = (s.municipality, s.committee, ctx.department.name, ctx.period.label, ctx.plan.version)
    for (row_id, label), value in zip(OVERVIEW_FIELDS, facts):
        sheet.rows.append(RowSpec(row_id, {"label": label, "value": value}))
    sheet.rows.append(RowSpec(SUBMISSION_ROW, {"label": "Inlämningsstatus", "value": SUBMISSION_STATES[0]},
                              inputs=frozenset({"value"}),
                              validations={"value": choice(SUBMISSION_CHOICES, "inlämningsstatus")}))
    sheet.rows.append(RowSpec(CONTACT_ROW, {"label": "Kontaktperson", "value": ctx.department.contact},
                              inputs=frozenset({"value"})))
    sheet.rows += summary_rows("Indikatorrader per status", "S|I|", STATUS_WORDS, indicators, "status")
    sheet.rows += summary_rows("Aktiviteter per status", "S|A|", ACTIVITY_STATES, activities, "status",
                               blank_label="ej ifylld")
    sheet.rows.append(RowSpec("", style="blank"))
    start = sheet.last_data_row + 2
    sheet.areas.append(AreaSpec(FLAGS_AREA, OVERVIEW, "Flaggor", start, 2, 6,
                                "Inga flaggor ännu. Kommandot xlplan flag skriver dem här."))
    return sheet


def summary_rows(title: str, prefix: str, words: tuple[str, ...], source: SheetSpec, key: str,
                 blank_label: str | None = None) -> list[RowSpec]:
    rng = f"{quote_sheet(source.name)}!{source.column_range(key)}"
    rows = [RowSpec("", {"label": title}, style="section")]
    for word in words:
        rows.append(RowSpec(prefix + word, {"label": word, "value": Formula(f'=COUNTIF({rng},"{word}")')},
                            number_formats={"value": "0"}))
    if blank_label and source.row_ids():
        rows.append(RowSpec(prefix + blank_label, {"label": blank_label,
                                                   "value": Formula(f"=COUNTBLANK({rng})")},
                            number_formats={"value": "0"}))
    elif blank_label:
        rows.append(RowSpec(prefix + blank_label, {"label": blank_label, "value": 0}))
    counted = sum(1 for r in source.row_ids() if is_data_row(r))  # not the read-only context rows
    rows.append(RowSpec(prefix + "Totalt", {"label": "Totalt", "value": counted}, style="total"))
    return rows


# ---------------------------------------------------------------- _xlplan, Borttagna rader

def meta_sheet(ctx: Context, meta: dict[str, str], sheets: list[SheetSpec]) -> SheetSpec:
    sheet = SheetSpec(META, [*meta_columns(), checksum_column()], header_row=1, visibility="veryHidden",
                      protection=ctx.protection, print_setup=PrintSetup(repeat_header=False))
    for key, value in meta.items():
        sheet.rows.append(RowSpec(key, {"value": value}))
    n = 0
    for s in sheets:
        for row in s.rows:
            if is_data_row(row.row_id):
                n += 1
                sheet.rows.append(RowSpec(f"rad.{n:04d}", {"value": row.row_id,
                                                           CHECKSUM_KEY: row_checksum(s.name, row.values)}))
    return sheet


def notes_sheet() -> SheetSpec:
    """'Anteckningar': what stood outside the tables of the file a refill replaced (editable)."""
    return SheetSpec(NOTES, notes_columns(), HEADER_ROW,
                     [TitleRow("Anteckningar", "title"),
                      TitleRow("Text som stod utanför tabellerna (en egen kolumn, anteckningar under eller bredvid "
                               "tabellen, egna blad) när filen fylldes på nytt. Inget har raderats; kopiera "
                               "tillbaka det som behövs.", "note")],
                     protection=Protection(False))


def removed_sheet(ctx_password: str | None, header_note: str) -> SheetSpec:
    return SheetSpec(REMOVED, removed_columns(), HEADER_ROW,
                     [TitleRow("Borttagna rader", "title"), TitleRow(header_note, "note")],
                     protection=Protection(True, ctx_password))
