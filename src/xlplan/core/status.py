"""The status of an indicator for a period (Uppfyllt, Delvis uppfyllt …).

Rules (``TARGETS.md``), in order:

1. no target → *Målvärde saknas*; a series the target does not apply to
   (a target naming no series applies to the total, ``Target.scope``; a
   target naming series applies to those) → *Redovisas*: reported without
   a target, not flagged and not counted in goal totals;
2. qualitative target → the department's assessment (Uppfyllt / Delvis /
   Ej uppfyllt) counts; without one → *Bedöms manuellt*, flagged
   ``bedomning_saknas`` (an unrecognised text is flagged ``bedomning_ogiltig``);
3. an outcome missing for any series that has a target → *Utfall saknas*
   (text in an outcome cell is no outcome);
4. per series: *Uppfyllt* when the target is met; *Delvis uppfyllt* when it
   is missed but the outcome moved from the baseline in the good direction,
   or lies within the committee's tolerance band; else *Ej uppfyllt*;
5. overall: every series met → Uppfyllt; some met or partly met → Delvis
   uppfyllt; else Ej uppfyllt.

Direction targets (``Öka``/``Minska``) compare with the previous period's
outcome, else the baseline; ``Bibehålla`` alone means not worse than the
baseline (else the previous outcome).  The "previous outcome" is the row's
comparison value (previous period, last year, Kolada's previous year, or
typed by the department).  Without anything to compare with, a direction
target cannot be assessed: *Jämförelsevärde saknas*, flagged
``jamforelsevarde_saknas`` (the department's own assessment does not count) —
but a missing outcome is still *Utfall saknas*.

For the live formula the comparison value may be a :class:`Ref` (a cell):
the rules then compare with the cell, falling back to the baseline when the
cell holds no number (without a baseline: *Jämförelsevärde saknas*).

Every rule is first turned into comparisons of an outcome with constants
(:func:`status_rules`); :func:`evaluate` applies them in Python and
:mod:`xlplan.core.formulas` writes the very same comparisons as an Excel formula,
so both always agree.  Constants derived by arithmetic are rounded to 12
significant digits so that Excel reads the same number back.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Literal, NamedTuple, TypeVar

from xlplan.core import words
from xlplan.core.targets import Op, Polarity, SeriesTarget, SeriesValues, Target

__all__ = [
    "Status",
    "Colours",
    "STATUS_COLOURS",
    "ACTIVITY_COLOURS",
    "activity_colours",
    "SEVERITY_COLOURS",
    "StatusSettings",
    "SeriesStatus",
    "StatusResult",
    "SeriesRule",
    "StatusRules",
    "Condition",
    "evaluate",
    "status_rules",
    "holds",
    "lookup_series",
    "normalise_label",
    "ASSESSMENT_TEXTS",
    "FLAGS",
    "Ref",
    "reference",
]


class Status(str, Enum):
    UPPFYLLT = "uppfyllt"
    DELVIS = "delvis_uppfyllt"
    EJ = "ej_uppfyllt"
    UTFALL_SAKNAS = "utfall_saknas"
    JAMFORELSEVARDE_SAKNAS = "jamforelsevarde_saknas"
    MALVARDE_SAKNAS = "malvarde_saknas"
    MANUELL = "bedoms_manuellt"
    REDOVISAS = "redovisas"

    @property
    def label(self) -> str:
        """The Swedish word shown to users."""
        return _LABELS[self]

    @property
    def colours(self) -> Colours:
        """How the word is shown: cell fill and font colour (every writer uses these)."""
        return STATUS_COLOURS[self]

    @classmethod
    def from_label(cls, text: str | None) -> Status | None:
        """Read a status word tolerantly (case, spaces, ``delvis``, ``ej uppfyllt`` …)."""
        if not isinstance(text, str):
            return None
        return _FROM_TEXT.get(normalise_label(text))


_LABELS = {
    Status.UPPFYLLT: words.UPPFYLLT,
    Status.DELVIS: words.DELVIS,
    Status.EJ: words.EJ,
    Status.UTFALL_SAKNAS: words.UTFALL_SAKNAS,
    Status.JAMFORELSEVARDE_SAKNAS: words.JAMFORELSEVARDE_SAKNAS,
    Status.MALVARDE_SAKNAS: words.MALVARDE_SAKNAS,
    Status.MANUELL: words.MANUELL,
    Status.REDOVISAS: words.REDOVISAS,
}


class Colours(NamedTuple):
    """A status word's cell fill and font colour, ``RRGGBB`` without ``#``.

    openpyxl and python-docx take the plain form; XlsxWriter and matplotlib
    the ``#`` form (:meth:`hex`).
    """

    fill: str
    font: str

    def hex(self, which: Literal["fill", "font"] = "fill") -> str:
        return "#" + (self.fill if which == "fill" else self.font)


# The one palette: green met, yellow partly, red not met, blue assessed by hand, and one grey for
# every word without a verdict (no outcome, no target, nothing to compare with, reported without target,
# not started).
GREEN = Colours("C6EFCE", "006100")
YELLOW = Colours("FFEB9C", "7F6000")
RED = Colours("FFC7CE", "9C0006")
BLUE = Colours("DDEBF7", "1F4E78")
GREY = Colours("E7E6E6", "3A3838")

STATUS_COLOURS: dict[Status, Colours] = {
    Status.UPPFYLLT: GREEN,
    Status.DELVIS: YELLOW,
    Status.EJ: RED,
    Status.MANUELL: BLUE,
    Status.UTFALL_SAKNAS: GREY,
    Status.JAMFORELSEVARDE_SAKNAS: GREY,
    Status.MALVARDE_SAKNAS: GREY,
    Status.REDOVISAS: GREY,
}
# An activity's state (``layout.columns.ACTIVITY_STATES``, lower case) in the colour of the
# indicator status it corresponds to.
ACTIVITY_COLOURS: dict[str, Colours] = {
    "klar": GREEN,
    "pågår": YELLOW,
    "försenad": RED,
    "ej påbörjad": GREY,
    "avbruten": GREY,
}


# A problem's severity (``errors.Severity``) in the colour of the verdict it resembles: the Kontroll
# sheet and the flag list on the department workbook's Översikt.
SEVERITY_COLOURS: dict[str, Colours] = {"fel": RED, "varning": YELLOW}


def activity_colours(word: str | None) -> Colours | None:
    """The colours of an activity state, read tolerantly (``Klar``, `` pågår ``); None for other text."""
    return ACTIVITY_COLOURS.get(normalise_label(word)) if isinstance(word, str) else None


# Words a department may write as its own assessment (normalised form).
ASSESSMENT_TEXTS: dict[str, Status] = {
    "uppfyllt": Status.UPPFYLLT, "uppfylld": Status.UPPFYLLT, "uppfyllda": Status.UPPFYLLT,
    "helt uppfyllt": Status.UPPFYLLT, "grön": Status.UPPFYLLT, "ja": Status.UPPFYLLT,
    "delvis uppfyllt": Status.DELVIS, "delvis uppfylld": Status.DELVIS, "delvis": Status.DELVIS,
    "delvis_uppfyllt": Status.DELVIS, "gul": Status.DELVIS,
    "ej uppfyllt": Status.EJ, "ej uppfylld": Status.EJ, "inte uppfyllt": Status.EJ,
    "inte uppfylld": Status.EJ, "ej": Status.EJ, "ej_uppfyllt": Status.EJ, "röd": Status.EJ,
    "nej": Status.EJ,
}
_FROM_TEXT: dict[str, Status] = {
    **ASSESSMENT_TEXTS,
    **{label.lower(): s for s, label in _LABELS.items()},
    **{s.value: s for s in Status},
    "utfall saknas": Status.UTFALL_SAKNAS, "målvärde saknas": Status.MALVARDE_SAKNAS,
    "malvarde saknas": Status.MALVARDE_SAKNAS, "jamforelsevarde saknas": Status.JAMFORELSEVARDE_SAKNAS,
    "bedöms manuellt": Status.MANUELL,
    "manuell": Status.MANUELL, "manuellt": Status.MANUELL,
}

FLAGS = ("andra_gransen_passerad", "fel_riktning", "bedomning_saknas", "bedomning_ogiltig",
         "jamforelsevarde_saknas")


@functools.lru_cache(maxsize=2048)  # a few words (drop-down choices, statuses) read in every row
def normalise_label(text: str) -> str:
    """Lower case; line breaks become spaces; spaces (U+0020 only) trimmed and collapsed.

    Mirrors Excel's ``TRIM(LOWER(SUBSTITUTE(…CHAR(10)…)))`` so formulas read
    an assessment exactly as Python does.
    """
    for ch in "\n\r":
        text = text.replace(ch, " ")
    return " ".join(part for part in text.lower().split(" ") if part)


@dataclass(frozen=True)
class StatusSettings:
    """A committee's adjustments of the default rules."""

    partial_tolerance_pct: float | None = None  # tolerance band for Delvis, percent of the target value

    def __post_init__(self) -> None:
        tol = self.partial_tolerance_pct
        if tol is not None and (not math.isfinite(tol) or tol < 0):
            raise ValueError(f"partial_tolerance_pct must be a non-negative number, not {tol!r}")


@dataclass(frozen=True)
class SeriesStatus:
    name: str | None
    status: Status
    outcome: float | None
    target: SeriesTarget | None

    def to_json(self) -> dict[str, object]:
        return {"name": self.name, "status": self.status.value, "outcome": self.outcome,
                "target": self.target.to_json() if self.target else None}


@dataclass(frozen=True)
class StatusResult:
    status: Status
    series: tuple[SeriesStatus, ...] = ()
    flags: tuple[str, ...] = ()

    def to_json(self) -> dict[str, object]:
        return {"status": self.status.value, "series": [s.to_json() for s in self.series],
                "flags": list(self.flags)}


# --------------------------------------------------------------------------
# Rules as comparisons with constants
# --------------------------------------------------------------------------

V = TypeVar("V")


@dataclass(frozen=True)
class Ref:
    """A comparison value that lives in a cell (formulas only).

    ``fallback`` is what the rule compares with when the cell holds no
    number (the baseline); None: the row's status is then *Jämförelsevärde saknas*.
    """

    cell: str
    fallback: float | None = None


Cmp = tuple[Op, "float | Ref"]  # "outcome <op> constant (or comparison cell)"
Condition = tuple[tuple[Cmp, ...], ...]  # OR of ANDs; () is never true


@dataclass(frozen=True)
class SeriesRule:
    """When one series meets its target, partly meets it, got worse, passed its second limit."""

    name: str | None
    target: SeriesTarget | None
    met: Condition
    partial: Condition = ()
    worse: Condition = ()
    limit_passed: Condition = ()


@dataclass(frozen=True)
class StatusRules:
    """What decides the status: a fixed status, the assessment, or per-series rules."""

    mode: Literal["fixed", "assessment", "series"]
    series_names: tuple[str | None, ...]
    fixed: Status | None = None
    rules: tuple[SeriesRule, ...] = ()
    flags: tuple[str, ...] = field(default=())


def _snap(x: float) -> float:
    return float(f"{x:.12g}")


def _compare(x: float, op: Op, c: float) -> bool:
    if op == ">":
        return x > c
    if op == ">=":
        return x >= c
    if op == "<":
        return x < c
    if op == "<=":
        return x <= c
    return x == c


def holds(cond: Condition, x: float) -> bool:
    """Whether outcome ``x`` satisfies a condition (of constants; a :class:`Ref` is for formulas only)."""
    for conj in cond:  # any(all(...)) written out: called for every row of a consolidation
        for op, c in conj:
            if not _compare(x, op, _constant(c)):
                break
        else:
            return True
    return False


def _constant(c: float | Ref) -> float:
    if isinstance(c, Ref):
        raise TypeError("a comparison cell can only be written into a formula, not evaluated")
    return c


def lookup_series(mapping: Mapping[str | None, V], name: str | None) -> V | None:
    """A series' entry, matched case-insensitively; an unnamed entry applies to every series."""
    if name is not None:
        key = name.casefold()
        for k, v in mapping.items():
            if k is not None and k.casefold() == key:
                return v
    if None in mapping:
        return mapping[None]
    if name is None and len(mapping) == 1:
        return next(iter(mapping.values()))
    return None


def _series_list(target: Target, series_names: Sequence[str], keys: Sequence[str | None]) -> tuple[str | None, ...]:
    if series_names:
        return tuple(series_names)
    named = [s.name for s in target.series if s.name is not None]
    if named:
        return tuple(named)
    named_keys = [k for k in keys if k is not None]
    return tuple(named_keys) if named_keys and None not in keys else (None,)


def _higher(op: Op) -> bool:
    return op in (">", ">=")


def _band(st: SeriesTarget, tol: float | None) -> Condition:
    if not tol or st.value == 0:
        return ()
    band = abs(st.value) * tol / 100
    if st.range is not None:  # a balance target: the committee's band widens its range
        lo, hi = st.range
        return (((">=", _snap(lo - band)), ("<=", _snap(hi + band))),)
    if st.op == "=":
        return ((( ">=", _snap(st.value - band)), ("<=", _snap(st.value + band))),)
    if _higher(st.op):
        return (((">=", _snap(st.value - band)),),)
    return ((("<=", _snap(st.value + band)),),)


def _improved_and_worse(st: SeriesTarget, base: float | None) -> tuple[Condition, Condition]:
    if base is None:
        return (), ()
    if st.op == "=":
        if base == st.value:
            return (), (((">", base),), (("<", base),))
        lo, hi = (base, _snap(2 * st.value - base)) if base < st.value else (_snap(2 * st.value - base), base)
        return (((">", lo), ("<", hi)),), ((("<", lo),), ((">", hi),))
    if _higher(st.op):
        return (((">", base),),), ((("<", base),),)
    return ((("<", base),),), (((">", base),),)


def _threshold_rule(name: str | None, st: SeriesTarget, base: float | None, settings: StatusSettings) -> SeriesRule:
    improved, worse = _improved_and_worse(st, base)
    limit: Condition = ()
    if st.limit is not None:
        limit = (((">", st.limit),),) if st.op in ("<", "<=") else ((("<", st.limit),),)
    met: Condition = (((st.op, st.value),),)
    if st.range is not None:  # a balance target (100 % ± 5): met anywhere in its closed range
        met = (((">=", st.range[0]), ("<=", st.range[1])),)
        worse = () if base is not None and st.range[0] <= base <= st.range[1] else worse
    return SeriesRule(name, st, met, improved + _band(st, settings.partial_tolerance_pct), worse, limit)


def _direction_rule(name: str | None, direction: str, ref: float | Ref, polarity: Polarity | None) -> SeriesRule:
    if direction == "increase":
        return SeriesRule(name, None, (((">", ref),),), (), ((("<", ref),),))
    if direction == "decrease":
        return SeriesRule(name, None, ((("<", ref),),), (), (((">", ref),),))
    if polarity == "lower":
        return SeriesRule(name, None, ((("<=", ref),),), (), (((">", ref),),))
    return SeriesRule(name, None, (((">=", ref),),), (), ((("<", ref),),))


def _value(values: SeriesValues | None, name: str | None) -> float | None:
    if values is None:
        return None
    q = values.get(name)
    return q.value if q is not None else None


def reference(direction: str, name: str | None, baseline: SeriesValues | None,
              previous: Mapping[str | None, float | Ref | None] | None) -> float | Ref | None:
    """What a direction target's series is compared with.

    ``Öka``/``Minska``: the comparison value (*previous*), else the baseline;
    ``Bibehålla``: the baseline, else the comparison value.
    """
    prev = lookup_series(previous, name) if previous else None
    if isinstance(prev, bool) or not isinstance(prev, (int, float, Ref)) or not isinstance(prev, Ref) and not math.isfinite(prev):
        prev = None
    base = _value(baseline, name)
    if direction == "maintain":
        if base is not None:
            return base
        return prev
    if isinstance(prev, Ref):
        return Ref(prev.cell, base)
    return prev if prev is not None else base


def status_rules(target: Target, *, series_names: Sequence[str] = (), outcome_keys: Sequence[str | None] = (),
                 baseline: SeriesValues | None = None,
                 previous: Mapping[str | None, float | Ref | None] | None = None,
                 polarity: Polarity | None = None, settings: StatusSettings = StatusSettings()) -> StatusRules:
    """Turn a target and its comparison values into comparisons with constants (or comparison cells)."""
    names = _series_list(target, series_names, outcome_keys)
    if target.kind == "none":
        return StatusRules("fixed", names, Status.MALVARDE_SAKNAS)
    if target.kind == "qualitative":
        return StatusRules("assessment", names)
    if target.kind == "direction":
        names = tuple(n for n in names if target.applies_to(n)) or names
        if not any(target.applies_to(n) for n in names):
            return StatusRules("fixed", names, Status.REDOVISAS)
        refs = [reference(target.direction or "maintain", n, baseline, previous) for n in names]
        if any(r is None for r in refs):  # nothing to compare with: cannot be assessed (once there is an outcome)
            return StatusRules("fixed", names, Status.JAMFORELSEVARDE_SAKNAS, flags=("jamforelsevarde_saknas",))
        rules = tuple(_direction_rule(n, target.direction or "maintain", r, polarity)
                      for n, r in zip(names, refs) if r is not None)
        return StatusRules("series", names, rules=rules)
    rules = tuple(_threshold_rule(n, st, _value(baseline, n), settings)
                  for n in names if (st := target.for_series(n)) is not None)
    if not rules:
        # the target is another series' (the total's, or the series it names)
        return StatusRules("fixed", names, Status.REDOVISAS if target.series else Status.MALVARDE_SAKNAS)
    return StatusRules("series", names, rules=rules)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------


def _number(x: object) -> float | None:
    if isinstance(x, bool) or not isinstance(x, (int, float)):
        return None
    return float(x) if math.isfinite(x) else None


def _assessed(rules: StatusRules, assessment: str | None) -> tuple[Status, tuple[str, ...]]:
    text = normalise_label(assessment) if isinstance(assessment, str) else ""
    if not text:
        return Status.MANUELL, rules.flags + ("bedomning_saknas",)
    status = ASSESSMENT_TEXTS.get(text)
    if status is None:
        return Status.MANUELL, rules.flags + ("bedomning_ogiltig",)
    return status, rules.flags


def _series_status(rule: SeriesRule, x: float) -> Status:
    if holds(rule.met, x):
        return Status.UPPFYLLT
    return Status.DELVIS if holds(rule.partial, x) else Status.EJ


def _overall(statuses: Sequence[Status]) -> Status:
    if all(s is Status.UPPFYLLT for s in statuses):
        return Status.UPPFYLLT
    if any(s in (Status.UPPFYLLT, Status.DELVIS) for s in statuses):
        return Status.DELVIS
    return Status.EJ


# status_rules by (target, baseline) object and the rest of their arguments: see _shared_rules.
_RULES: dict[tuple[object, ...], tuple[Target, SeriesValues | None, StatusRules]] = {}
_RULES_KEPT = 4096


def _shared_rules(target: Target, series_names: Sequence[str], keys: tuple[str | None, ...],
                  baseline: SeriesValues | None, previous: Mapping[str | None, float | None] | None,
                  polarity: Polarity | None, settings: StatusSettings) -> StatusRules:
    """:func:`status_rules` of a row without comparison values, made once for every row that shares the
    target and baseline objects (one indicator's rows in every department file of a consolidation).

    Keyed by the objects' identity, which the cache keeps alive, so an equal but different target (an
    ``int`` where the other has a ``float``) never receives another's rules."""
    if previous:
        return status_rules(target, series_names=series_names, outcome_keys=keys, baseline=baseline,
                            previous=previous, polarity=polarity, settings=settings)
    key = (id(target), id(baseline), tuple(series_names), keys, polarity, settings)
    hit = _RULES.get(key)
    if hit is not None and hit[0] is target and hit[1] is baseline:
        return hit[2]
    rules = status_rules(target, series_names=series_names, outcome_keys=keys, baseline=baseline,
                         polarity=polarity, settings=settings)
    if len(_RULES) >= _RULES_KEPT:
        _RULES.clear()
    _RULES[key] = (target, baseline, rules)
    return rules


def evaluate(target: Target, outcomes: Mapping[str | None, float | None], *, series_names: Sequence[str] = (),
             baseline: SeriesValues | None = None, previous: Mapping[str | None, float | None] | None = None,
             polarity: Polarity | None = None, settings: StatusSettings = StatusSettings(),
             assessment: str | None = None) -> StatusResult:
    """The status of one indicator for one period (see the module docstring for the rules)."""
    rules = _shared_rules(target, series_names, tuple(outcomes), baseline, previous, polarity, settings)
    if rules.fixed is Status.JAMFORELSEVARDE_SAKNAS and any(
            _number(lookup_series(outcomes, n)) is None for n in rules.series_names):
        # a direction target without comparison value still needs its outcome first (rule 3)
        series = tuple(SeriesStatus(n, Status.UTFALL_SAKNAS, _number(lookup_series(outcomes, n)),
                                    target.for_series(n)) for n in rules.series_names)
        return StatusResult(Status.UTFALL_SAKNAS, series, rules.flags)
    if rules.mode != "series":
        status, flags = (rules.fixed, rules.flags) if rules.fixed else _assessed(rules, assessment)
        assert status is not None
        series = tuple(SeriesStatus(n, status, _number(lookup_series(outcomes, n)), target.for_series(n))
                       for n in rules.series_names)
        return StatusResult(status, series, flags)
    # One pass over the series (every row of a consolidation comes here): each series' status, and
    # whether any present outcome passed its second, harder limit or went the wrong way.
    done: list[SeriesStatus] = []
    missing = limit = worse = False
    for r in rules.rules:
        x = _number(lookup_series(outcomes, r.name))
        if x is None:
            missing = True
            done.append(SeriesStatus(r.name, Status.UTFALL_SAKNAS, None, r.target))
            continue
        done.append(SeriesStatus(r.name, _series_status(r, x), x, r.target))
        limit = limit or holds(r.limit_passed, x)
        worse = worse or holds(r.worse, x)
    overall = Status.UTFALL_SAKNAS if missing else _overall([s.status for s in done])
    flags = (("andra_gransen_passerad",) if limit else ()) + (("fel_riktning",) if worse else ())
    return StatusResult(overall, tuple(done), flags)
