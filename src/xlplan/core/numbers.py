"""Numbers as Swedish plans write them.

``91,1`` is 91.1 (a point is accepted too), thousands are grouped with a
space or a no-break space (``1 012 779``), a sign may stand apart from the
number (``+ 1,9 %``, ``- 4,4 %``) and the minus may be ``-``, ``−`` (U+2212)
or ``–`` (U+2013).  A unit word after the number is kept (``procent`` is
normalised to ``%``); a year in brackets after the value is the year of that
value (``73 (2022)``).

:func:`parse_number` is strict: the whole text must be one number.  Anything
ambiguous (``ca 50``, ``50-60``, ``1,234.5``) gives ``None``; it never raises.

:func:`format_number` writes Swedish numbers: decimal comma, thousands grouped
with a normal space (U+0020, chosen so that texts can be typed and searched
as they look), and a space before the unit (``48,5 %``).  ``parse_number``
reads back everything ``format_number`` writes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from xlplan.core.codes import Code

__all__ = [
    "Quantity",
    "is_no_value",
    "parse_number",
    "parse_quantity",
    "format_number",
    "normalise_space",
    "normalise_unit",
    "NUMBER_PATTERN",
    "number_from_match",
    "OutcomeReading",
    "read_outcome",
    "unit_key",
    "unit_factor",
    "is_percent_format",
    "display_decimals",
]

# Space-like characters found in plans: NBSP, narrow NBSP, thin space, tabs.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
MINUS_CHARS = "-\u2212\u2013"
_SIGN_CLASS = r"[+\-\u2212\u2013]"
_NO_VALUE = {
    "",
    "-",
    "\u2212",
    "\u2013",
    "\u2014",
    "i.u",
    "i.u.",
    "iu",
    "i u",
    "i. u.",
    "ej aktuellt",
    "ej aktuell",
    "uppgift saknas",
    "saknas",
    "n/a",
    "..",
    "...",
}

# One number: optional detached sign, digits grouped by single spaces in threes
# (or plain digits), optional decimal part after a comma or a point.
NUMBER_PATTERN = (
    r"(?P<sign>" + _SIGN_CLASS + r"\s?)?"
    r"(?P<int>\d{1,3}(?: \d{3})+|\d+)"
    r"(?:[,.](?P<frac>\d+))?"
)
_UNIT = r"(?P<unit>%|[^\W\d_][^\s\d()]*)"
_STRICT = re.compile(r"^" + NUMBER_PATTERN + r"(?: ?" + _UNIT + r")?$")
_YEAR_BRACKET = r"\((?:år )?(?P<year>(?:19|20)\d\d)\)"
_QUANTITY = re.compile(
    r"^(?:(?P<pre_year>(?:19|20)\d\d)(?: ?: ?| (?=" + _SIGN_CLASS + r")))?"
    + NUMBER_PATTERN
    + r"(?: ?"
    + _UNIT
    + r")?(?: ?"
    + _YEAR_BRACKET
    + r")?$"
)


@dataclass(frozen=True)
class Quantity:
    """A value as read from a text: ``73 (2022)`` → value 73, year 2022."""

    value: float
    unit: str | None = None
    year: int | None = None


def normalise_space(text: str) -> str:
    """Collapse every run of space-like characters to one space and strip."""
    return _SPACES.sub(" ", text).strip()


def normalise_unit(unit: str | None) -> str | None:
    """``procent`` → ``%``; other units are kept as written (``dagar``, ``tkr`` …)."""
    if unit is None:
        return None
    return "%" if unit.casefold() in {"%", "procent"} else unit


def is_no_value(text: object) -> bool:
    """True for texts that say "no value": empty, ``-``, ``I.U``, ``Ej aktuellt`` …"""
    if text is None:
        return True
    if isinstance(text, float) and math.isnan(text):
        return True
    if not isinstance(text, str):
        return False
    return normalise_space(text).casefold() in _NO_VALUE


def number_from_match(m: re.Match[str]) -> float:
    """The float of a match of :data:`NUMBER_PATTERN` (groups sign/int/frac)."""
    digits = m.group("int").replace(" ", "")
    frac = m.group("frac")
    value = float(f"{digits}.{frac}" if frac else digits)
    sign = (m.group("sign") or "").strip()
    return -value if sign and sign in MINUS_CHARS else value


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def parse_number(text: object) -> float | None:
    """The number that *is* the whole text, or None.

    Ints and floats are returned as floats (NaN and infinities give None;
    booleans are not numbers).  A unit word or ``%`` may follow the number.
    """
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return _finite(float(text))
    if isinstance(text, Decimal):
        return _finite(float(text))
    if not isinstance(text, str):
        return None
    m = _STRICT.match(normalise_space(text))
    if m is None:
        return None
    return _finite(number_from_match(m))


def parse_quantity(text: object) -> Quantity | None:
    """A value with its unit and year: ``48,5 %``, ``73 (2022)``, ``2018 + 1,9 %``.

    A leading year is read as the value's year only when it is followed by a
    colon or by a sign (``2018 + 1,9 %``, ``2018: 1,9``); otherwise it would
    be a guess.
    """
    number = parse_number(text) if not isinstance(text, str) else None
    if number is not None:
        return Quantity(number)
    if not isinstance(text, str):
        return None
    m = _QUANTITY.match(normalise_space(text))
    if m is None:
        return None
    value = _finite(number_from_match(m))
    if value is None:
        return None
    year_text = m.group("year") or m.group("pre_year")
    return Quantity(value, normalise_unit(m.group("unit")), int(year_text) if year_text else None)


def _group(digits: str) -> str:
    head = len(digits) % 3 or 3
    parts = [digits[:head]] + [digits[i : i + 3] for i in range(head, len(digits), 3)]
    return " ".join(parts)


def _decimal(value: float, decimals: int | None) -> Decimal:
    exact = Decimal(repr(value))
    if decimals is None:
        return exact
    try:
        return exact.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        return exact


def format_number(value: float | None, decimals: int | None = None, unit: str | None = None) -> str:
    """Swedish text of a number: ``1 012 779``, ``48,5``, ``48,5 %``.

    ``decimals`` rounds half away from zero (as Excel shows numbers); None
    writes the shortest text that reads back to the same float.  None, NaN
    and infinities give ``""``.  Thousands are grouped with U+0020.
    """
    if value is None or isinstance(value, bool) or not math.isfinite(value):
        return ""
    value = float(value)
    text = repr(value) if decimals is None else ""
    if not text or "e" in text:  # repr is the shortest text that reads back, unless in exponent form
        text = format(_decimal(value, decimals), "f")
    negative = text.startswith("-")
    digits, _, frac = text.lstrip("-").partition(".")
    if decimals is None:
        frac = frac.rstrip("0")
    body = _group(digits) + ("," + frac if frac else "")
    if negative and set(body) - {"0", ",", " "}:
        body = "-" + body
    unit = normalise_unit(unit)
    return f"{body} {unit}" if unit else body


def display_decimals(value: float) -> int | None:
    """Decimals for showing a measured value to people: as typed when it has at most two
    decimals (``48,5``, ``0,25``), else one (``85,71428571`` -> ``85,7``) — Kolada's raw
    shares carry eight."""
    if not math.isfinite(value):
        return None
    if abs(value) >= 100 and not float(value).is_integer():
        return 1
    return None if round(value, 2) == value else 1




# --------------------------------------------------------------------------
# Outcomes as departments type them
# --------------------------------------------------------------------------

# Unit words, each to its normal form (a word after a number that is not here,
# and not the indicator's own unit, starts a comment: ``82 enl. brukarenkäten``).
_UNIT_WORDS = {
    "%": "%", "procent": "%", "procentenheter": "procentenheter", "p.e.": "procentenheter",
    "dag": "dagar", "dagar": "dagar", "dygn": "dygn", "vecka": "veckor", "veckor": "veckor",
    "månad": "månader", "månader": "månader", "mån": "månader", "mån.": "månader",
    "år": "år", "timme": "timmar", "timmar": "timmar", "tim": "timmar", "tim.": "timmar", "h": "timmar",
    "minut": "minuter", "minuter": "minuter", "min": "minuter", "min.": "minuter",
    "kr": "kr", "kronor": "kr", "kr.": "kr", "tkr": "tkr", "mnkr": "mnkr", "mkr": "mnkr", "msek": "mnkr",
    "st": "st", "st.": "st", "stycken": "st", "antal": "antal", "personer": "personer", "platser": "platser",
}
# Exact conversions: (typed unit, indicator unit) -> factor.
_FACTORS = {
    ("timmar", "minuter"): 60.0, ("minuter", "timmar"): 1 / 60,
    ("kr", "tkr"): 1e-3, ("tkr", "kr"): 1e3, ("tkr", "mnkr"): 1e-3, ("mnkr", "tkr"): 1e3,
    ("kr", "mnkr"): 1e-6, ("mnkr", "kr"): 1e6,
    ("veckor", "dagar"): 7.0, ("år", "månader"): 12.0,
}
_APPROX = re.compile(r"^(?:ca\.?|cirka|ungefär|omkring|runt|drygt|knappt|nästan|över|under|~|≈|<|>)\s*\d",
                     re.IGNORECASE)
_LEADING = re.compile(r"^" + NUMBER_PATTERN + r"(?P<tail>(?:\s.*)?|%.*)$")
_YEAR_ONLY = re.compile(r"^" + _YEAR_BRACKET + r"\s*(?P<rest>.*)$")


def unit_key(unit: str | None) -> str | None:
    """A unit's normal form for comparing units (``Procent`` → ``%``, ``dag`` → ``dagar``); None when empty."""
    if unit is None or not unit.strip():
        return None
    u = normalise_space(unit).casefold()
    return _UNIT_WORDS.get(u, u)


def unit_factor(typed: str | None, wanted: str | None) -> float | None:
    """The exact factor turning a value in *typed* units into *wanted* units (1 when the same), else None."""
    a, b = unit_key(typed), unit_key(wanted)
    if a == b:
        return 1.0
    if a is None or b is None:
        return None
    return _FACTORS.get((a, b))


def is_percent_format(number_format: str | None) -> bool:
    """Whether an Excel number format shows a percentage (``0%``, ``0.0%``), ignoring ``"%"`` in quotes."""
    if not number_format:
        return False
    text = re.sub(r'"[^"]*"|\\.|\[[^\]]*\]', "", number_format)
    return "%" in text


@dataclass(frozen=True)
class OutcomeReading:
    """An outcome cell as read: the number in the indicator's unit, or why there is none.

    ``problem`` is a code (``inte_tal``, ``utfall_enhet``) with a Swedish
    ``message``; no-value markers (``-``, ``I.U``, ``Ej aktuellt`` …) give no
    value and no problem.  ``plain`` says the text was just the number (and
    the indicator's unit), so it may be stored as a number without losing
    anything typed.
    """

    raw: object
    value: float | None = None
    year: int | None = None
    comment: str | None = None
    typed_unit: str | None = None
    converted: bool = False  # the value was converted from typed_unit
    percent_format: bool = False  # a fraction in a percent-formatted cell, read as percent
    as_text: bool = False
    plain: bool = False
    problem: Code | None = None
    message: str | None = None

    @property
    def no_value(self) -> bool:
        """Empty, or a marker that says there is no value (not an error)."""
        return self.value is None and self.problem is None


def _shown(raw: object) -> str:
    return str(raw).strip()


def read_outcome(raw: object, unit: str | None = None, *, number_format: str | None = None,
                 check_unit: bool = True) -> OutcomeReading:
    """Read an outcome cell: numbers, Swedish text, no-value markers, notes, years, units, percent formats.

    ``4 512 (2023)`` → 4512 of the year 2023; ``82 enl. brukarenkäten`` → 82
    with a comment; ``ca 75`` is rejected (an approximation is no outcome);
    ``2 timmar`` for an indicator in minuter → 120 (exact conversions only;
    ``74 dagar`` for månader is rejected); a fraction in a percent-formatted
    cell of a %-indicator (0,58 shown as 58 %) → 58.  With *check_unit*
    False a typed unit is not compared with *unit*.
    """
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return OutcomeReading(raw)
    if isinstance(raw, bool):
        return OutcomeReading(raw, problem=Code.INTE_TAL,
                              message=f"'{raw}' är inte ett tal. Skriv t.ex. 50 eller 48,5.")
    if isinstance(raw, (int, float, Decimal)):
        value = _finite(float(raw))
        if value is None:
            return OutcomeReading(raw)
        if is_percent_format(number_format) and unit_key(unit) == "%":
            return OutcomeReading(raw, float(f"{value * 100:.12g}"), percent_format=True, plain=True)
        return OutcomeReading(raw, value, plain=True)
    if not isinstance(raw, str):
        return OutcomeReading(raw, problem=Code.INTE_TAL,
                              message=f"'{raw}' är inte ett tal. Skriv t.ex. 50 eller 48,5.")
    text = normalise_space(raw)
    if is_no_value(text):
        return OutcomeReading(raw)
    if _APPROX.match(text):
        return OutcomeReading(raw, problem=Code.INTE_TAL, message=f"'{_shown(raw)}' är en uppskattning, inget utfall. "
                              "Ange siffran (bara talet, t.ex. 48,5); lämna tomt om utfall saknas.")
    m = _LEADING.match(text)
    if m is None:
        return OutcomeReading(raw, problem=Code.INTE_TAL,
                              message=f"'{_shown(raw)}' är inte ett tal. Skriv t.ex. 50 eller 48,5.")
    value = _finite(number_from_match(m))
    if value is None:
        return OutcomeReading(raw, problem=Code.INTE_TAL,
                              message=f"'{_shown(raw)}' är inte ett tal. Skriv t.ex. 50 eller 48,5.")
    typed_unit, year, rest = _split_tail(m.group("tail").strip(), unit)
    if rest and not any(ch.isalpha() for ch in rest):
        return OutcomeReading(raw, problem=Code.INTE_TAL, message=f"'{_shown(raw)}' är inte ett tal. Skriv ett tal, "
                              "t.ex. 50 eller 48,5 (ett intervall eller flera tal kan inte räknas).")
    comment = rest or None
    plain = year is None and comment is None
    if typed_unit is None or not check_unit:
        return OutcomeReading(raw, value, year, comment, typed_unit, as_text=True, plain=plain)
    factor = unit_factor(typed_unit, unit)
    if factor is None:
        wanted = f" i {unit}" if unit and unit.strip() else " utan enhet"
        return OutcomeReading(raw, None, year, comment, typed_unit, as_text=True, problem=Code.UTFALL_ENHET,
                              message=f"'{_shown(raw)}' har enheten '{typed_unit}', men indikatorn mäts{wanted}; "
                                      "enheterna kan inte räknas om exakt. Skriv talet i indikatorns enhet, t.ex. "
                                      "50 eller 48,5.")
    if factor == 1.0:
        return OutcomeReading(raw, value, year, comment, typed_unit, as_text=True, plain=plain)
    converted = float(f"{value * factor:.12g}")
    return OutcomeReading(raw, converted, year, comment, typed_unit, converted=True, as_text=True)


def _split_tail(tail: str, unit: str | None) -> tuple[str | None, int | None, str]:
    """(unit word, year in brackets, the rest) of what follows the number."""
    typed: str | None = None
    if tail.startswith("%"):
        typed, tail = "%", tail[1:].strip()
    else:
        word = tail.split(" ", 1)[0] if tail else ""
        known = word.casefold() in _UNIT_WORDS or (unit is not None and word.casefold() == unit.strip().casefold())
        if word and not word.startswith("(") and known:
            typed, tail = word, tail[len(word):].strip()
    year = None
    m = _YEAR_ONLY.match(tail)
    if m:
        year, tail = int(m.group("year")), m.group("rest").strip()
    return typed, year, tail
