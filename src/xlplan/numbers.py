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
    text = format(_decimal(float(value), decimals), "f")
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


