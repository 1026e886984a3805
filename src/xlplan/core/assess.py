"""One assessment of one indicator row: status, flags and a Swedish explanation.

Everything a row's status depends on goes in (:class:`RowInputs`): the
target for the period, the outcome cell as stored (with its number format),
the baseline, the comparison value and its source, polarity, unit,
plausible range, the department's own assessment and the committee's status
settings.  :func:`assess` reads the outcome with the one outcome reader
(:func:`xlplan.core.numbers.read_outcome`), applies the rules of
:func:`xlplan.core.status.evaluate` and returns an :class:`Assessment`.

``flag``, ``consolidate`` and the live formula of the department sheet
(:func:`xlplan.books.department.layout.status_cell`) all start from the same
inputs (:func:`row_inputs`), so they cannot disagree.  Pure: no file I/O.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from xlplan.core.codes import Code
from xlplan.core.model import Goal, Indicator, PersonnelTarget
from xlplan.core.numbers import OutcomeReading, format_number, is_no_value, normalise_unit, read_outcome
from xlplan.core.status import Status, StatusResult, StatusSettings, evaluate, reference
from xlplan.core.targets import Polarity, SeriesTarget, SeriesValues, Target, parse_target

__all__ = ["RowInputs", "Assessment", "AssessFlag", "assess", "row_inputs", "plausible_range", "is_share",
           "personnel_inputs",
           "uses_comparison",
           "COMPARISON_TYPED", "READER_CODES"]

Severity = Literal["fel", "varning", "info"]
CellKey = Literal["outcome", "assessment", "comparison", "status", "target"]

COMPARISON_TYPED = "Inskrivet av avdelningen"
# Flags that come from reading the outcome cell (the department reader reports them too).
READER_CODES = (Code.INTE_TAL, Code.UTFALL_ENHET)
_OPS = {">": "över", ">=": "minst", "<": "under", "<=": "högst", "=": "exakt"}
_NOT_SHARE_WORDS = ("avvikelse", "förändring", "ökning", "minskning", "skillnad", "differens", "tillväxt",
                    "utveckling", "avkastning", "resultat")


@dataclass(frozen=True)
class RowInputs:
    """Everything the status of one indicator row (one series) depends on."""

    target: Target
    series: str | None = None
    outcome: object = None  # the outcome cell as stored (number, text or None)
    outcome_format: str | None = None  # the cell's number format, when known
    outcome_error: str | None = None  # a formula error shown in the cell (reported by the reader)
    baseline: SeriesValues | None = None
    comparison: float | None = None
    comparison_source: str | None = None
    comparison_text: str | None = None  # text typed in the comparison cell: no comparison value
    polarity: Polarity | None = None
    unit: str | None = None
    plausible: tuple[float | None, float | None] = (None, None)
    share: bool = False
    assessment: str | None = None
    settings: StatusSettings = field(default_factory=StatusSettings)
    period_label: str = "perioden"
    year: int | None = None
    cells: Mapping[str, str] = field(default_factory=dict)  # column key -> A1, for messages only
    kolada: bool = False  # the row's series has a Kolada id (Kolada's previous year can be its comparison value)


@dataclass(frozen=True)
class AssessFlag:
    code: Code
    severity: Severity
    message: str  # Swedish, without location
    cell: CellKey = "outcome"  # the column the flag points at


@dataclass(frozen=True)
class Assessment:
    status: Status
    result: StatusResult
    reading: OutcomeReading
    reference: float | None  # what a direction target was compared with
    reference_source: str | None
    # What the cells hold: the outcome read with a conversion, a year or a percent format, outside its
    # plausible range or a share typed as a fraction; text in the comparison cell.  Part of flags.
    value_flags: tuple[AssessFlag, ...]
    inputs: RowInputs = field(repr=False, compare=False)  # what was assessed (flags and explanation)

    @property
    def _value(self) -> float | None:
        """The outcome the rules saw (None when empty or not read)."""
        return None if self.inputs.outcome_error or self.reading.problem is not None else self.reading.value

    @functools.cached_property
    def flags(self) -> tuple[AssessFlag, ...]:
        """Every flag of the row, in order: the outcome cell not read, the value flags about the outcome, the
        status's own (target or outcome missing, target not met, second limit passed, wrong direction,
        assessment missing or invalid, comparison value missing), text as comparison value.

        The status's flags are written when asked for (``flag``); consolidation reports only value_flags."""
        x, r = self.inputs, self.reading
        first = (AssessFlag(r.problem, "fel", r.message or r.problem),) if r.problem is not None else ()
        about_outcome = tuple(f for f in self.value_flags if f.code != Code.JAMFORELSEVARDE_TEXT)
        comparison = tuple(f for f in self.value_flags if f.code == Code.JAMFORELSEVARDE_TEXT)
        bad_input = bool(x.outcome_error) or r.problem is not None
        status = _status_flags(x, self.result, self._value, self.reference, self.reference_source, bad_input)
        return first + about_outcome + tuple(status) + comparison

    @functools.cached_property
    def explanation(self) -> str:
        """Why the status is what it is, in Swedish (written when asked for: consolidation never shows it)."""
        return _explanation(self.inputs, self.result, self.reading, self._value, self.reference,
                            self.reference_source)

    @property
    def outcome(self) -> float | None:
        """The outcome used (None when empty, unreadable or in a wrong unit)."""
        return self.result.series[0].outcome if len(self.result.series) == 1 else self.reading.value

    @property
    def bad_input(self) -> bool:
        return self.reading.problem is not None


# ---------------------------------------------------------------- inputs from the plan and a row


def is_share(ind: Indicator) -> bool:
    """A share (andel, 0–100 %): unit % unless the name speaks of a change or deviation.

    A cost deviation or a change in per cent may well be negative or above 100.
    """
    words = f"{ind.name} {ind.description or ''}".casefold()
    unit = normalise_unit((ind.unit or "").strip())
    return unit == "%" and not any(w in words for w in _NOT_SHARE_WORDS)


def plausible_range(ind: Indicator) -> tuple[float | None, float | None]:
    """The indicator's Min/Max; a share (unit %) lies within 0–100 unless the plan says otherwise.

    The plan says otherwise with Min/Max, or with a target outside 0–100: a beläggning of
    ``100 % ± 5`` may well be 104 %, so the default range reaches the target's bounds.
    """
    lo, hi = ind.minimum, ind.maximum
    if is_share(ind):
        bounds = [b for _, text in ind.targets for st in parse_target(text, "higher", ind.series).series
                  for b in (st.range or (st.value,))]
        lo = min([0.0, *bounds]) if lo is None else lo
        hi = max([100.0, *bounds]) if hi is None else hi
    return lo, hi


def _number(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    return float(v) if math.isfinite(v) else None


def _text(v: Any) -> str | None:
    if v is None:
        return None
    text = str(v).strip()
    return text or None


def row_inputs(ind: Indicator, goal: Goal | None, year: int, series: str | None, row: Mapping[str, Any], *,
               settings: StatusSettings, period_label: str = "perioden", outcome_format: str | None = None,
               outcome_error: str | None = None, cells: Mapping[str, str] | None = None,
               target: Target | None = None, polarity: Polarity | None = None,
               baseline: SeriesValues | None = None, plausible: tuple[float | None, float | None] | None = None,
               share: bool | None = None) -> RowInputs:
    """The inputs of one department-sheet row: the plan's meaning and the row's cells as stored.

    *row* maps column keys to the cells' stored values (``outcome``,
    ``comparison``, ``comparison_source``, ``assessment``).  *target*,
    *polarity*, *baseline*, *plausible* and *share* may be passed when already
    worked out once per indicator (they must be the indicator's for *year*:
    :func:`plausible_range`, :func:`is_share`).
    """
    stored = row.get("comparison")
    # Like the live formula, only a number in the cell counts (text there is flagged).
    comparison = _number(stored)
    source = _text(row.get("comparison_source"))
    if comparison is not None and source is None:
        source = COMPARISON_TYPED
    assessment = row.get("assessment")
    return RowInputs(
        target=target if target is not None else ind.target(year, goal), series=series, outcome=row.get("outcome"),
        outcome_format=outcome_format, outcome_error=outcome_error,
        baseline=baseline if baseline is not None else ind.baseline_values(), comparison=comparison,
        comparison_source=source if comparison is not None else None,
        comparison_text=str(stored).strip() if comparison is None and _text(stored) else None,
        polarity=polarity if target is not None else ind.polarity(goal),
        unit=ind.unit, plausible=plausible if plausible is not None else plausible_range(ind),
        share=share if share is not None else is_share(ind),
        assessment=assessment if isinstance(assessment, str) else None, settings=settings,
        period_label=period_label, year=year, cells=dict(cells or {}), kolada=ind.kpi_for(series) is not None)


def personnel_inputs(p: PersonnelTarget, outcome: object, *, settings: StatusSettings, period_label: str = "perioden",
                     year: int | None = None, outcome_format: str | None = None, target: Target | None = None,
                     polarity: Polarity | None = None, baseline: SeriesValues | None = None) -> RowInputs:
    """The inputs of a personnel key figure (Personal): its target and Nuvärde in the one target language,
    a share (%) within 0–100 unless it is a count (headcount).  *target*, *polarity* and *baseline* may be
    passed when already parsed once (they must be *p*'s: ``parsed_target``, ``polarity``, ``baseline_values``)."""
    unit = p.unit or (None if p.is_count else "%")
    share = not p.is_count
    return RowInputs(target=target if target is not None else p.parsed_target(), outcome=outcome,
                     outcome_format=outcome_format,
                     baseline=baseline if baseline is not None else p.baseline_values(),
                     polarity=polarity if target is not None else p.polarity(), unit=unit,
                     plausible=(0.0, 100.0) if share else (0.0, None), share=share, settings=settings,
                     period_label=period_label, year=year)


def uses_comparison(target: Target, baseline: SeriesValues | None, series: str | None) -> bool:
    """Whether a row's status depends on its comparison value: a direction target (``Öka``, ``Minska``,
    or ``Bibehålla`` without a baseline for the series)."""
    if target.kind != "direction" or not target.applies_to(series):
        return False
    return target.direction != "maintain" or baseline is None or baseline.get(series) is None


# ---------------------------------------------------------------- the assessment


def assess(x: RowInputs) -> Assessment:
    """Status, per-series results, flags and explanation of one row."""
    reading = OutcomeReading(x.outcome) if x.outcome_error else read_outcome(x.outcome, x.unit,
                                                                            number_format=x.outcome_format)
    bad_input = bool(x.outcome_error) or reading.problem is not None
    flags: list[AssessFlag] = []
    value = None if bad_input else reading.value
    if value is not None:
        flags += _reading_notes(x, reading, value) + _range_flags(x, value)
    name = x.series
    previous = {name: x.comparison} if x.comparison is not None else None
    result = evaluate(x.target, {name: value}, series_names=(name,) if name else (), baseline=x.baseline,
                      previous=previous, polarity=x.polarity, settings=x.settings, assessment=x.assessment)
    ref, ref_source = _reference(x)
    if x.comparison_text is not None and uses_comparison(x.target, x.baseline, x.series):
        flags.append(AssessFlag(Code.JAMFORELSEVARDE_TEXT, "varning", f"'{x.comparison_text}' i kolumnen "
                                "Jämförelsevärde är inget tal och räknas inte. Skriv bara talet, t.ex. 48,5.",
                                "comparison"))
    return Assessment(result.status, result, reading, ref, ref_source, tuple(flags), x)


def _reference(x: RowInputs) -> tuple[float | None, str | None]:
    if x.target.kind != "direction":
        return None, None
    previous = {x.series: x.comparison} if x.comparison is not None else None
    ref = reference(x.target.direction or "maintain", x.series, x.baseline, previous)
    if ref is None or not isinstance(ref, (int, float)):
        return None, None
    if x.comparison is not None and ref == x.comparison and (
            x.target.direction != "maintain" or x.baseline is None or x.baseline.get(x.series) is None):
        return float(ref), x.comparison_source or COMPARISON_TYPED
    return float(ref), "nuläget i planen"


def _show(x: RowInputs, v: float | None) -> str:
    return format_number(v, unit=x.unit) if v is not None else "—"


def _reading_notes(x: RowInputs, r: OutcomeReading, value: float) -> list[AssessFlag]:
    out = []
    if r.converted:
        out.append(AssessFlag(Code.UTFALL_OMRAKNAT, "info", f"'{str(r.raw).strip()}' räknades om till "
                              f"{_show(x, value)} (indikatorns enhet)."))
    if r.year is not None:
        out.append(AssessFlag(Code.UTFALL_AR, "info", f"Utfallet {format_number(value)} gäller år {r.year}."))
    if r.percent_format:
        out.append(AssessFlag(Code.UTFALL_PROCENTFORMAT, "info", f"Cellen är formaterad som procent och visar "
                              f"{format_number(value)} %; det lästes som {format_number(value)}."))
    return out


def _range_flags(x: RowInputs, v: float) -> list[AssessFlag]:
    lo, hi = x.plausible
    if lo is not None and v < lo:
        shown = _show(x, v)
        text = (f"En andel kan inte vara negativ: {shown}." if x.share and lo == 0 and v < 0 else
                f"Utfallet {shown} är lägre än det rimliga minimivärdet {format_number(lo)}.")
    elif hi is not None and v > hi:
        shown = _show(x, v)
        text = (f"En andel kan inte vara över 100 %: {shown}." if x.share and hi == 100 else
                f"Utfallet {shown} är högre än det rimliga maxvärdet {format_number(hi)}.")
    else:
        return _fraction_flags(x, v) if x.share else []
    return [AssessFlag(Code.UTFALL_ORIMLIGT, "fel", text + " Kontrollera värdet (Min/Max i planen).")]


def _levels(x: RowInputs) -> list[float]:
    levels = [q.value for _, q in x.baseline.values] if x.baseline else []
    levels += [st.value for st in x.target.series]
    if x.comparison is not None:
        levels.append(x.comparison)
    return levels


def _fraction_flags(x: RowInputs, v: float) -> list[AssessFlag]:
    """A share typed as ``58%`` in Excel is stored as 0,58: flag it unless every known level is below 1."""
    levels = _levels(x)
    if not (0 < v < 1) or (levels and max(levels) <= 1):
        return []
    known = f" (nuläge, målvärde eller jämförelsevärde upp till {format_number(max(levels))})" if levels else ""
    return [AssessFlag(Code.ANDEL_SOM_BRAK, "varning", f"Utfallet {format_number(v)} ser ut som en andel skriven som "
                       f"bråk{known}. Skrevs det som procent i Excel (t.ex. 58%)? Skriv talet i procent, "
                       "t.ex. 58.")]


def _status_flags(x: RowInputs, result: StatusResult, value: float | None, ref: float | None,
                  ref_source: str | None, bad_input: bool) -> list[AssessFlag]:
    out: list[AssessFlag] = []
    st = x.target.for_series(x.series)
    cell = x.cells.get
    if result.status is Status.MALVARDE_SAKNAS:
        year = f" för {x.year}" if x.year else ""
        out.append(AssessFlag(Code.MALVARDE_SAKNAS, "varning", f"Indikatorn har inget målvärde{year} i planen; "
                              "statusen kan inte räknas fram.", "target"))
    if (result.status is Status.UTFALL_SAKNAS or (result.status in (Status.MALVARDE_SAKNAS, Status.REDOVISAS)
                                                 and value is None)) \
            and not bad_input:
        if isinstance(x.outcome, str) and is_no_value(x.outcome):  # typed: there is no value (–, i.u. …)
            out.append(AssessFlag(Code.UTFALL_UPPGIFT_SAKNAS, "varning", f"Utfall saknas för {x.period_label}: "
                                  f"cell {cell('outcome', '')} säger '{x.outcome.strip()}' (uppgift saknas). Skriv "
                                  "utfallet om det finns; annars förklara i Kommentar / analys varför."))
        else:
            out.append(AssessFlag(Code.UTFALL_SAKNAS, "varning", f"Utfall saknas för {x.period_label}. Skriv utfallet "
                                  f"i cell {cell('outcome', '')} (bara talet, t.ex. 48,5)."))
    if result.status in (Status.EJ, Status.DELVIS):
        missed = Code.MAL_EJ_UPPFYLLT if result.status is Status.EJ else Code.MAL_DELVIS_UPPFYLLT
        out.append(AssessFlag(missed, "varning", _missed_text(x, st, value, result, ref, ref_source), "status"))
    for flag in result.flags:
        out.append(_rule_flag(Code.of(flag), x, st, value, ref, ref_source))
    return out


def _threshold_text(st: SeriesTarget, unit: str | None = None) -> str:
    if st.range is not None:
        lo, hi = st.range
        return f"mellan {format_number(lo)} och {format_number(hi, unit=st.unit or unit)}"
    return f"{_OPS[st.op]} {format_number(st.value, unit=st.unit or unit)}"


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _improved(st: SeriesTarget, base: float, v: float | None) -> bool:
    if v is None:
        return False
    if st.op == "=":
        return abs(v - st.value) < abs(base - st.value)
    return v > base if st.op in (">", ">=") else v < base


def _ref_text(x: RowInputs, ref: float | None, source: str | None) -> str:
    if ref is None:
        return "jämförelsevärdet"
    if source == "nuläget i planen":
        return f"nuläget {_show(x, ref)}"
    return f"jämförelsevärdet {_show(x, ref)} ({source})"


def _missed_text(x: RowInputs, st: SeriesTarget | None, value: float | None, result: StatusResult,
                 ref: float | None, ref_source: str | None) -> str:
    status = result.status.label
    if x.target.kind == "qualitative":
        return f"Egen bedömning: {status}. Beskriv orsaker och åtgärder i kommentaren."
    shown = _show(x, value)
    if x.target.kind == "direction":
        return f"{status}: utfallet {shown} når inte målet '{_short(x.target.text)}' jämfört med " \
               f"{_ref_text(x, ref, ref_source)}."
    if st is None:
        return f"{status}: utfallet {shown} når inte målet '{_short(x.target.text)}'."
    text = f"{status}: utfallet {shown} når inte målvärdet ({_threshold_text(st, x.unit)})"
    if result.status is Status.DELVIS:
        base = x.baseline.get(x.series) if x.baseline else None
        text += (f", men har förbättrats jämfört med nuläget {_show(x, base.value)}"
                 if base is not None and _improved(st, base.value, value) else ", men ligger inom nämndens "
                 "toleransband")
    return text + "."


def _missing_comparison(x: RowInputs) -> str:
    """Which value a direction target lacks, in Swedish (one sentence)."""
    of = f" för {x.series}" if x.series else ""
    sources = ("föregående period, förra årets helårsfil eller Kolada (året innan)" if x.kolada
               else "föregående period eller förra årets helårsfil")
    return (f"jämförelsevärde{of} saknas – planen har inget nuläge och varken {sources} gav något värde att "
            "jämföra utfallet med.")


def _rule_flag(code: Code, x: RowInputs, st: SeriesTarget | None, value: float | None, ref: float | None,
               ref_source: str | None) -> AssessFlag:
    cell = x.cells.get
    shown = _show(x, value) if value is not None else ""
    if code == "andra_gransen_passerad" and st is not None and st.limit is not None:
        return AssessFlag(code, "varning", f"Utfallet {shown} passerar den andra, hårdare gränsen "
                          f"{format_number(st.limit, unit=st.unit)} (målvärde '{x.target.text}').")
    if code == "fel_riktning":
        if x.target.kind == "direction":
            return AssessFlag(code, "varning", f"Utfallet {shown} har gått åt fel håll jämfört med "
                              f"{_ref_text(x, ref, ref_source)}.")
        base = x.baseline.get(x.series) if x.baseline else None
        where = f"nuläget {_show(x, base.value)}" if base else "nuläget"
        return AssessFlag(code, "varning", f"Utfallet {shown} har gått åt fel håll jämfört med {where}.")
    if code == "bedomning_saknas":
        return AssessFlag(code, "varning", f"Målet '{_short(x.target.text)}' bedöms manuellt, men egen bedömning "
                          f"saknas. Välj Uppfyllt, Delvis uppfyllt eller Ej uppfyllt i cell "
                          f"{cell('assessment', '')}.", "assessment")
    if code == "bedomning_ogiltig":
        return AssessFlag(code, "varning", f"'{x.assessment}' är ingen bedömning. Välj Uppfyllt, Delvis uppfyllt "
                          "eller Ej uppfyllt.", "assessment")
    if code == "jamforelsevarde_saknas":
        where = f" (cell {cell('comparison')})" if cell("comparison") else ""
        return AssessFlag(code, "varning", f"Riktningsmålet '{_short(x.target.text)}' kan inte bedömas: "
                          f"{_missing_comparison(x)} Skriv föregående utfall i kolumnen Jämförelsevärde{where}, "
                          "så räknas statusen. Annars: be controllern skriva Nuläge i planen, "
                          + ("hämta Koladas värde för året innan med Hämta värden (xlplan pull), " if x.kolada else "")
                          + "eller lägg förra årets helårsfil i mappen och fyll filen igen (xlplan fill --update).",
                          "comparison")
    return AssessFlag(code, "varning", code)


# ---------------------------------------------------------------- explanation


_DIRECTION_WORDS = {"increase": "vara högre än", "decrease": "vara lägre än", "maintain": "inte vara sämre än"}


def _explanation(x: RowInputs, result: StatusResult, reading: OutcomeReading, value: float | None,
                 ref: float | None, ref_source: str | None) -> str:
    parts = [f"Status: {result.status.label}."]
    if reading.problem:
        parts.append(reading.message or "")
    elif value is None and x.outcome_error:
        parts.append(f"Utfallscellen visar felet {x.outcome_error}.")
    elif value is not None:
        extra = f" (år {reading.year})" if reading.year else ""
        extra += f" – kommentar: {reading.comment}" if reading.comment else ""
        parts.append(f"Utfall {_show(x, value)}{extra}.")
    t = x.target
    if t.kind == "none":
        parts.append("Inget målvärde i planen.")
    elif result.status is Status.REDOVISAS:
        owner = f"gäller {t.scope}" if t.scope else "gäller andra serier"
        parts.append(f"Serien {x.series} har inget eget målvärde (målet '{_short(t.text)}' {owner}); "
                     "värdet redovisas utan bedömning.")
    elif "jamforelsevarde_saknas" in result.flags:
        parts.append(f"Målet '{_short(t.text)}' jämförs med ett tidigare värde, men {_missing_comparison(x)} "
                     "Skriv föregående utfall i kolumnen Jämförelsevärde (eller Nuläge i planen).")
    elif t.kind == "qualitative":
        parts.append("Avdelningens egen bedömning: " + (x.assessment.strip() if x.assessment and x.assessment.strip()
                                                       else "saknas") + ".")
    elif t.kind == "direction":
        parts.append(f"Målet '{_short(t.text)}': utfallet ska {_DIRECTION_WORDS[t.direction or 'maintain']} "
                     f"{_ref_text(x, ref, ref_source)}.")
    else:
        st = t.for_series(x.series)
        if st is not None:
            parts.append(f"Målvärde: {_threshold_text(st, x.unit)}.")
    return " ".join(p for p in parts if p)


