"""The target language: what a target (målvärde) or a baseline text means.

The text is kept verbatim; :func:`parse_target` derives a structured meaning
(see ``/work/shared/domain/TARGETS.md``).  Where no safe meaning can be
derived the target is *qualitative* (assessed by hand) — never guessed:

* a threshold, per series or for all series: ``>48 %``, ``minst 70 %``,
  ``Inom 3 månader``, ``Särskilt boende 88 %, hemtjänst 94%``,
  ``Äldre och Funktionsstöd (Handikapp) >69 %``, ``90% resp 85%``,
  ``Sammantagen nettokostnadsavvikelse ska understiga 0``, ``65 (90)``
  (90 is a second, harder limit);
* a direction: ``Öka``, ``Minska``, ``Bibehålla``, ``Andelen ska öka``;
* qualitative: any other text, including a sentence with a number in it;
* none: empty, ``-``, ``I.U`` …

A bare number takes its comparator from the polarity (≥ when higher is
better, ≤ when lower is better).  Without a polarity a bare number is read
only when a second limit shows the direction (``65 (90)`` → ≤ 65); otherwise
the target is qualitative.

Series names given by the plan are matched case-insensitively and
returned in the plan's spelling; when names are given, a name in the text
that is not one of them makes the text unreadable (qualitative / no values).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from xlplan.core.numbers import (
    NUMBER_PATTERN,
    Quantity,
    format_number,
    is_no_value,
    normalise_space,
    normalise_unit,
    number_from_match,
    parse_number,
    parse_quantity,
)

__all__ = [
    "Polarity",
    "Op",
    "SeriesTarget",
    "Target",
    "SeriesValues",
    "parse_target",
    "parse_series_values",
    "infer_polarity",
    "target_for_year",
    "total_series",
]

Polarity = Literal["higher", "lower"]
Op = Literal[">", ">=", "<", "<=", "="]
Kind = Literal["threshold", "direction", "qualitative", "none"]
Direction = Literal["increase", "decrease", "maintain"]


@functools.lru_cache(maxsize=4096)
def _fold(name: str | None) -> str | None:
    return None if name is None else normalise_space(name).casefold()


@dataclass(frozen=True)
class SeriesTarget:
    """One series' threshold: ``name op value``; ``limit`` is a second, harder limit."""

    name: str | None
    op: Op
    value: float
    unit: str | None = None
    limit: float | None = None
    # A balance target (op "="): met anywhere in value ± tolerance (``100 % ± 5``, ``mellan 95 och 105``).
    tolerance: float | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"name": self.name, "op": self.op, "value": self.value, "unit": self.unit,
                                  "limit": self.limit}
        if self.tolerance is not None:
            out["tolerance"] = self.tolerance
            out["range"] = list(self.range or ())
        return out

    @property
    def range(self) -> tuple[float, float] | None:
        """The closed range a balance target is met in, (low, high); None for other targets."""
        if self.tolerance is None:
            return None
        return _snap(self.value - self.tolerance), _snap(self.value + self.tolerance)


def _snap(x: float) -> float:
    """Rounded to 12 significant digits, so that Excel reads the same number back."""
    return float(f"{x:.12g}")


@dataclass(frozen=True)
class Target:
    """A target text and its meaning."""

    text: str
    kind: Kind
    direction: Direction | None = None
    series: tuple[SeriesTarget, ...] = ()
    # The one series a target naming no series applies to (the total, see total_series);
    # None: the indicator has no series.  Other series are reported without a target.
    scope: str | None = None

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {
            "kind": self.kind,
            "direction": self.direction,
            "series": [s.to_json() for s in self.series],
        }
        if self.scope is not None:
            out["scope"] = self.scope
        return out

    def applies_to(self, name: str | None) -> bool:
        """Whether a target naming no series (a direction, an unnamed threshold) applies to series ``name``."""
        return self.scope is None or name is None or _fold(name) == _fold(self.scope)

    def for_series(self, name: str | None) -> SeriesTarget | None:
        """The threshold for series ``name`` (case-insensitive).

        An unnamed threshold applies to the total (:attr:`scope`) only, or
        to every series when the plan names none.  Asked for ``None`` (an
        indicator without series), the answer is the unnamed threshold, or
        the one threshold all named series share.
        """
        key = _fold(name)
        if key is not None:
            for s in self.series:
                if _fold(s.name) == key:
                    return s
        for s in self.series:
            if s.name is None:
                return s if self.applies_to(name) else None
        if key is None and self.series:
            first = self.series[0]
            same = {(s.op, s.value, s.unit, s.limit) for s in self.series}
            if len(same) == 1:
                return first
        return None


@dataclass(frozen=True)
class SeriesValues:
    """A baseline or outcome text read into series values."""

    text: str
    values: tuple[tuple[str | None, Quantity], ...] = field(default=())

    def get(self, name: str | None) -> Quantity | None:
        """The value of series ``name`` (case-insensitive); an unnamed value applies to all."""
        key = _fold(name)
        if key is not None:
            for n, q in self.values:
                if _fold(n) == key:
                    return q
        unnamed = [q for n, q in self.values if n is None]
        if unnamed:
            return unnamed[0]
        if key is None and len(self.values) == 1:
            return self.values[0][1]
        return None


# --------------------------------------------------------------------------
# Words
# --------------------------------------------------------------------------

_OP_WORDS: dict[str, Op] = {
    "över": ">", "överstiga": ">", "överstiger": ">", "överskrida": ">", "mer än": ">",
    "fler än": ">", "större än": ">", "högre än": ">",
    "minst": ">=", "lägst": ">=", "min": ">=", "min.": ">=", "minimum": ">=", "som minst": ">=",
    "inte under": ">=", "inte understiga": ">=", "inte lägre än": ">=", "inte mindre än": ">=",
    "under": "<", "understiga": "<", "understiger": "<", "underskrida": "<", "mindre än": "<",
    "färre än": "<", "lägre än": "<",
    "högst": "<=", "max": "<=", "max.": "<=", "maximalt": "<=", "maximum": "<=", "som mest": "<=",
    "som högst": "<=", "inom": "<=", "inte över": "<=", "inte överstiga": "<=",
    "inte högre än": "<=", "inte mer än": "<=", "inte fler än": "<=",
    "lika med": "=", "exakt": "=",
}
_SYMBOLS: dict[str, Op] = {">=": ">=", "=>": ">=", "≥": ">=", "<=": "<=", "=<": "<=", "≤": "<=",
                           ">": ">", "<": "<", "=": "="}
# "öka till 50" -> >= 50; "minska till 3" -> <= 3
# "nå till 50": the polarity decides.
_TOWARD: dict[str, Op | None] = {"öka": ">=", "ökas": ">=", "höja": ">=", "höjas": ">=", "nå": None,
                                 "minska": "<=", "minskas": "<=", "sänka": "<=", "sänkas": "<=",
                                 "korta": "<=", "kortas": "<=", "reducera": "<=", "reduceras": "<="}
# Words that leave the comparator to the polarity ("Bibehålla 86 %" -> >= 86 by default).
_BARE = {"nå", "uppnå", "nås", "uppnås", "bibehålla", "behålla", "bibehållas", "ligga på", "vara",
         "ligga", "uppgå till", "hålla", "hålla sig på"}
_MAINTAIN_BARE = {"bibehålla", "behålla", "bibehållas"}
_MODALS = {"ska", "skall", "bör", "måste"}

# Words that make a "name" a sentence: verbs and function words.
_SENTENCE_WORDS = {
    "ska", "skall", "bör", "måste", "är", "var", "blir", "vara", "att", "som", "har", "kan", "kommer",
    "färdigställa", "påbörja", "genomföra", "införa", "utreda", "ta", "arbeta", "starta", "öppna",
    "bygga", "anställa", "rekrytera", "erbjuda", "skapa", "utveckla", "implementera", "utbilda",
    "öka", "minska", "höja", "sänka", "bibehålla", "behålla", "nå", "uppnå", "korta", "förbättra",
    "minst", "högst", "max", "under", "över", "inom", "ca", "cirka", "ungefär", "drygt", "knappt",
    "ökning", "minskning", "höjning", "sänkning", "förbättring", "försämring", "procentenheter",
    "nivå", "nivån", "års",
}
_PREPOSITIONS = {"i", "på", "av", "för", "till", "från", "med", "inom", "per", "under", "över", "vid",
                 "efter", "om", "mot", "än", "och", "samt", "eller"}
_MAX_NAME_WORDS = 5

_DIRECTION_VERBS: dict[str, Direction] = {
    "öka": "increase", "ökas": "increase", "ökning": "increase", "ökad": "increase", "ökat": "increase",
    "höja": "increase", "höjas": "increase", "höjning": "increase",
    "minska": "decrease", "minskas": "decrease", "minskning": "decrease", "minskad": "decrease",
    "minskat": "decrease", "sänka": "decrease", "sänkas": "decrease", "sänkning": "decrease",
    "reducera": "decrease", "reduceras": "decrease", "korta": "decrease", "kortas": "decrease",
    "bibehålla": "maintain", "bibehållas": "maintain", "bibehållen": "maintain", "bibehållet": "maintain",
    "behålla": "maintain", "upprätthålla": "maintain", "oförändrad": "maintain", "oförändrat": "maintain",
    "bibehållen nivå": "maintain", "hålla nivån": "maintain", "i nivå med": "maintain",
    "högre än": "increase", "lägre än": "decrease", "fler än": "increase", "färre än": "decrease",
}
_REFERENCES = ("föregående år", "fg år", "föregående period", "föregående mätning",
               "nuläget", "nuläge", "utgångsvärdet", "utgångsläget", "basåret", "tidigare år", "förra året")
_COMPARE_WORDS = ("jämfört med", "jmf med", "jmf.", "jmf", "jfr", "jfr.", "från", "mot", "än",
                  "i förhållande till")


def _alternation(words: Sequence[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


_DIRECTION_RE = re.compile(
    r"^(?:(?P<subject>[^\d]{1,80}?) (?P<modal>ska|skall|bör) |(?:ska|skall|bör) )?(?P<verb>"
    + _alternation(list(_DIRECTION_VERBS))
    + r")(?P<object>(?: [^\d\s]+){1,8}?)??(?P<ref> (?:(?:"
    + _alternation(_COMPARE_WORDS)
    + r") )?(?:"
    + _alternation(_REFERENCES)
    + r"))?$"
)
# Comparatives need a reference ("Högre än föregående år"); "Högre än riket" is qualitative.
_COMPARATIVES = {"högre än", "lägre än", "fler än", "färre än", "i nivå med"}
# "Öka andelen nöjda" is a direction, "Öka med en tredjedel" / "Öka till riksnivå" are not.
_OBJECT_REFUSED_FIRST = {"med", "till", "från", "än", "upp", "ner", "över", "under"}

_TRAILING_OP = re.compile(
    r"(?:^|(?<=\s))"
    r"(?:(?P<modal>" + _alternation(sorted(_MODALS)) + r")\s+)?"
    r"(?:(?P<copula>vara|ligga|uppgå|hålla sig)\s+)?"
    r"(?:(?P<bare>" + _alternation(sorted(_BARE)) + r")(?!\w)\s*)?"
    r"(?:(?P<toward>" + _alternation(list(_TOWARD)) + r")\s+till\s+)?"
    r"(?:(?P<word>" + _alternation(list(_OP_WORDS)) + r")(?!\w)\s*)?"
    r"(?P<symbol>>=|=>|<=|=<|≥|≤|>|<|=)?\s*$",
    re.IGNORECASE,
)

# "50 % eller mer" -> >= 50
_SUFFIX_OPS: dict[str, Op] = {"mer": ">=", "högre": ">=", "fler": ">=", "större": ">=",
                              "mindre": "<=", "lägre": "<=", "färre": "<=", "kortare": "<="}
_SUFFIX_OP = re.compile(r" eller (" + _alternation(list(_SUFFIX_OPS)) + r")$", re.IGNORECASE)

_BRACKET = r"\((?:år )?[^()]*\d[^()]*\)"
_SEGMENT = re.compile(
    r"^(?P<pre>[^\d]*?)"
    r"(?:(?P<pre_year>(?:19|20)\d\d)(?: ?: ?| (?=[+\-\u2212\u2013])))?"
    + NUMBER_PATTERN
    + r"(?: ?(?P<br1>" + _BRACKET + r"))?"
    r"(?: ?(?P<unit>%|[^\W\d_][^\s\d()]*))?"
    r"(?: ?(?P<br2>" + _BRACKET + r"))?"
    r"(?: (?P<post>[^\d]+))?$"
)
_SPLIT = re.compile(
    r"\s*;\s*|(?<!\d),\s*|,(?!\d)\s*|(?<!-) (?:och|samt|&) |(?P<resp> (?:resp\.?|respektive) )",
    re.IGNORECASE,
)
_PLACEHOLDER_BASE = 0xE000


# --------------------------------------------------------------------------
# Segments: "[name] [op] number [unit] [(limit|year)] [name]"
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Segment:
    names: tuple[str, ...]
    op: Op | None  # None = take it from the polarity
    maintain_default: bool  # "Bibehålla 86 %": higher unless told otherwise
    value: float
    unit: str | None
    limit: float | None
    year: int | None


class _Unreadable(Exception):
    """Internal: the text does not follow the language."""


def _protect(text: str, names: Sequence[str]) -> tuple[str, dict[str, str]]:
    """Replace known series names with one private-use character each."""
    mapping: dict[str, str] = {}
    text = "".join("\ufffd" if _is_placeholder(c) else c for c in text)  # the text's own never count
    order = sorted(range(len(names)), key=lambda i: len(names[i]), reverse=True)
    for i in order:
        name = normalise_space(names[i])
        if not name:
            continue
        token = chr(_PLACEHOLDER_BASE + i)
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in name.split(" ")) + r"(?!\w)"
        text = re.sub(pattern, token, text, flags=re.IGNORECASE)
        mapping[token] = names[i]
    return text, mapping


def _is_placeholder(ch: str) -> bool:
    return len(ch) == 1 and _PLACEHOLDER_BASE <= ord(ch) < _PLACEHOLDER_BASE + 0x1000


def _clean_name(raw: str) -> str:
    return raw.strip().strip(":").strip().rstrip("-\u2013").strip()


def _read_name(raw: str, known: dict[str, str], strict: bool) -> str | None:
    """A series name from a text fragment; None for an empty fragment."""
    name = _clean_name(raw)
    if not name:
        return None
    if len(name) == 1 and _is_placeholder(name):
        return known[name]
    if any(_is_placeholder(c) for c in name) or strict:
        raise _Unreadable(name)
    words = name.casefold().split(" ")
    if len(words) > _MAX_NAME_WORDS or words[0] in _PREPOSITIONS or words[-1] in _PREPOSITIONS:
        raise _Unreadable(name)
    if any(w in _SENTENCE_WORDS for w in words) or not any(c.isalpha() for c in name):
        raise _Unreadable(name)
    return name


def _bracket(raw: str | None) -> Quantity | None:
    if raw is None:
        return None
    inner = raw[1:-1].strip()
    if inner.casefold().startswith("år "):
        inner = inner[3:]
    q = parse_quantity(inner)
    if q is None or (q.year is not None and not _is_year(q)):
        raise _Unreadable(raw)  # "(2022: 85 %)" is an earlier value, not a limit
    return q


def _is_year(q: Quantity) -> bool:
    return q.unit is None and q.value.is_integer() and 1900 <= q.value <= 2099


def _read_op(pre: str) -> tuple[str, Op | None, bool, bool]:
    """Split ``pre`` into (subject, op, maintain_default, had_modal)."""
    m = _TRAILING_OP.search(pre)
    if m is None or not any(m.group(g) for g in ("modal", "copula", "toward", "word", "bare", "symbol")):
        return pre, None, False, False
    op: Op | None = None
    if m.group("toward"):
        op = _TOWARD[m.group("toward").casefold()]
    if m.group("word"):
        op = _OP_WORDS[m.group("word").casefold()]
    if m.group("symbol"):
        if m.group("word"):
            raise _Unreadable(pre)
        op = _SYMBOLS[m.group("symbol")]
    bare = (m.group("bare") or "").casefold()
    return pre[: m.start()], op, bare in _MAINTAIN_BARE, bool(m.group("modal"))


def _read_segment(seg: str, known: dict[str, str], strict: bool, allow_ops: bool) -> _Segment | str | None:
    """A numbered segment, or a name (a segment without a number), or None if empty."""
    suffix = _SUFFIX_OP.search(seg)
    m = _SEGMENT.match(seg[: suffix.start()] if suffix else seg)
    if m is None:
        if suffix is not None or any(c.isdigit() for c in seg):
            raise _Unreadable(seg)
        return _read_name(seg, known, strict)
    subject, op, maintain, modal = _read_op(m.group("pre"))
    if suffix is not None:
        if op is not None or maintain:
            raise _Unreadable(seg)
        op = _SUFFIX_OPS[suffix.group(1).casefold()]
    if (op is not None or maintain or modal) and not allow_ops:
        raise _Unreadable(seg)
    name, unit = _segment_name(m, subject, modal, known, strict)
    limit, year = _limit_and_year(m.group("br1"), m.group("br2"), m.group("pre_year"))
    return _Segment((name,) if name else (), op, maintain, number_from_match(m), unit, limit, year)


def _segment_name(m: re.Match[str], subject: str, modal: bool, known: dict[str, str],
                  strict: bool) -> tuple[str | None, str | None]:
    """The segment's series name (before or after the number, not both) and its unit."""
    if modal:  # "X ska understiga 0": X is a subject, a series only if it is one of the plan's
        subject = _clean_name(subject)
        pre_name = known[subject] if len(subject) == 1 and _is_placeholder(subject) else None
    else:
        pre_name = _read_name(subject, known, strict)
    unit = normalise_unit(m.group("unit"))  # never a placeholder: those are not word characters
    post_name = _read_name(m.group("post") or "", known, strict)
    if pre_name is not None and post_name is not None:
        raise _Unreadable(m.string)
    return (pre_name if pre_name is not None else post_name), unit


def _limit_and_year(br1: str | None, br2: str | None, pre_year: str | None) -> tuple[float | None, int | None]:
    limit: float | None = None
    year = int(pre_year) if pre_year else None
    for q in (_bracket(br1), _bracket(br2)):
        if q is None:
            continue
        if _is_year(q) and year is None:
            year = int(q.value)
        elif limit is None and not _is_year(q):
            limit = q.value
        else:
            raise _Unreadable(str(q))
    return limit, year


def _split(text: str) -> tuple[list[str], bool]:
    parts: list[str] = []
    resp = False
    pos = 0
    for m in _SPLIT.finditer(text):
        parts.append(text[pos : m.start()])
        resp = resp or bool(m.group("resp"))
        pos = m.end()
    parts.append(text[pos:])
    return [p.strip() for p in parts], resp


def _segments(text: str, series_names: Sequence[str], allow_ops: bool) -> list[_Segment]:
    """Read a text into numbered segments, each with the names it applies to."""
    body = normalise_space(text).rstrip(".!").strip()
    body, known = _protect(body, series_names)
    parts, resp = _split(body)
    strict = bool(series_names)
    pending: list[str] = []
    out: list[_Segment] = []
    for part in parts:
        if not part:
            raise _Unreadable(text)
        item = _read_segment(part, known, strict, allow_ops)
        if isinstance(item, _Segment):
            if pending and not item.names:
                raise _Unreadable(text)
            out.append(_with_names(item, tuple(pending) + item.names))
            pending = []
        elif item is not None:
            pending.append(item)
    if pending or not out:
        raise _Unreadable(text)
    if resp:
        out = _respectively(out, series_names)
    return _share_unit(out)


def _with_names(seg: _Segment, names: tuple[str, ...]) -> _Segment:
    return _Segment(names, seg.op, seg.maintain_default, seg.value, seg.unit, seg.limit, seg.year)


def _respectively(segs: list[_Segment], series_names: Sequence[str]) -> list[_Segment]:
    """``90% resp 85%``: unnamed values given to the plan's series in order."""
    if any(s.names for s in segs) or len(segs) != len(series_names):
        raise _Unreadable("resp")
    return [_with_names(s, (n,)) for s, n in zip(segs, series_names)]


def _share_unit(segs: list[_Segment]) -> list[_Segment]:
    units = {s.unit for s in segs if s.unit is not None}
    if len(units) != 1:
        return segs
    (unit,) = units
    return [s if s.unit else _Segment(s.names, s.op, s.maintain_default, s.value, unit, s.limit, s.year)
            for s in segs]


def _check_names(segs: list[_Segment]) -> None:
    if sum(1 for s in segs if not s.names) > 1:
        raise _Unreadable("several unnamed values")
    seen = [n.casefold() for s in segs for n in s.names]
    if len(seen) != len(set(seen)):
        raise _Unreadable("a series named twice")
    if len(segs) > 1 and any(not s.names for s in segs):
        raise _Unreadable("named and unnamed values mixed")


# --------------------------------------------------------------------------
# Targets
# --------------------------------------------------------------------------


def _text_of(text: object) -> str:
    if text is None:
        return ""
    if isinstance(text, str):
        return text
    number = parse_number(text)
    return format_number(number) if number is not None else str(text)


def _direction(text: str) -> Direction | None:
    m = _DIRECTION_RE.match(normalise_space(text).rstrip(".!").strip().casefold())
    if m is None:
        return None
    verb, obj = m.group("verb"), (m.group("object") or "").split()
    if verb in _COMPARATIVES and (obj or not m.group("ref")):
        return None
    if obj and (obj[0] in _OBJECT_REFUSED_FIRST or any(w in _DIRECTION_VERBS or w in _MODALS for w in obj)):
        return None  # a magnitude, a level, or a second direction: not a plain direction
    return _DIRECTION_VERBS[verb]


def _resolve_op(seg: _Segment, polarity: Polarity | None) -> Op:
    if seg.op is not None:
        return seg.op
    if polarity is None and seg.maintain_default:
        polarity = "higher"
    if polarity is None and seg.limit is not None and seg.limit != seg.value:
        polarity = "lower" if seg.limit > seg.value else "higher"
    if polarity is None:
        raise _Unreadable("no comparator: polarity unknown")
    return ">=" if polarity == "higher" else "<="


def _series_targets(seg: _Segment, polarity: Polarity | None) -> list[SeriesTarget]:
    op = _resolve_op(seg, polarity)
    if seg.limit is not None:
        harder_above = op in ("<", "<=") and seg.limit > seg.value
        harder_below = op in (">", ">=") and seg.limit < seg.value
        if not (harder_above or harder_below):
            raise _Unreadable("second limit on the wrong side")
    names: tuple[str | None, ...] = seg.names or (None,)
    return [SeriesTarget(n, op, seg.value, seg.unit, seg.limit) for n in names]


TOTAL_NAMES = ("totalt", "total")


def total_series(series_names: Sequence[str]) -> str | None:
    """The series a target naming no series applies to: the one named Totalt/Total (its sub-rows, e.g.
    Kvinnor and Män, are reported without a target of their own).  Without a total series (parallel
    series such as Äldreomsorg; LSS) there is no single series to pick: None, the target applies to
    every series, as the plan's text reads."""
    for name in series_names:
        if _fold(name) in TOTAL_NAMES:
            return name
    return None


# Balance targets: neither more nor less is better; the outcome should lie in a range.
_B_NUM = r"[+\-\u2212\u2013]?\s?(?:\d{1,3}(?: \d{3})+|\d+)(?:[,.]\d+)?"
_B_PM = r"(?:±|\+/-|\+-|\+/\u2212|\+/\u2013|plus/minus|plus minus)"
_B_UNIT = r"(?:\s?(?P<%s>%%|procent(?:enheter)?|[a-zåäö][a-zåäö/.]*))?"
_B_LEAD = r"(?:(?:ska|skall|bör)\s+)?(?:(?:ligga|vara|hållas)\s+)?(?:(?:på|inom|kring)\s+)?"
_BALANCE_WORDS = r"(?:(?:budget(?:en)?|ekonomi(?:n)?|ekonomisk|resultat(?:et)?)\s+)?i\s+balans"
_BALANCE_ONLY = re.compile(r"^(?:(?:ska|skall|bör)\s+(?:vara\s+)?)?" + _BALANCE_WORDS + r"$")
_DEVIATION = re.compile(
    r"^(?:" + _BALANCE_WORDS + r"\s*[,;:]?\s*(?:med\s+)?)?(?:(?:budget)?avvikelse(?:n)?\s+(?:ska\s+(?:vara\s+)?)?)?"
    r"(?:(?:på|inom)\s+)?(?:högst|max\.?|maximalt|som mest|inom)?\s*" + _B_PM + r"\s*(?P<t>" + _B_NUM + r")"
    + _B_UNIT % "tu" + r"$")
_PLUS_MINUS = re.compile(
    r"^(?:kvot(?:en)?\s+)?" + _B_LEAD + r"(?P<v>" + _B_NUM + r")" + _B_UNIT % "vu" + r"\s*" + _B_PM
    + r"\s*(?P<t>" + _B_NUM + r")" + _B_UNIT % "tu" + r"$")
_BETWEEN = re.compile(
    r"^(?:kvot(?:en)?\s+)?" + _B_LEAD + r"(?:mellan|i intervallet|intervallet)\s+(?P<a>" + _B_NUM + r")"
    + _B_UNIT % "au" + r"\s*(?:och|till|[-\u2013])\s*(?P<b>" + _B_NUM + r")" + _B_UNIT % "bu" + r"$")


def _balance_unit(*units: str | None) -> str | None:
    """The one unit the parts of a balance target share (None when none is written)."""
    given = {normalise_unit(u) for u in units if u}
    if len(given) > 1:
        raise _Unreadable("two units")
    return given.pop() if given else None


def _balance(text: str) -> tuple[SeriesTarget, ...] | None:
    """A balance target: ``Budget i balans`` (≥ 0), ``Avvikelse högst ±2 %`` (0 ± 2), ``100 % ± 5``,
    ``1,0 ± 0,1``, ``mellan 95 och 105 %``.  None when the text is not one."""
    body = normalise_space(text).rstrip(".!").strip().casefold()
    if _BALANCE_ONLY.match(body):
        return (SeriesTarget(None, ">=", 0.0),)
    try:
        if (m := _DEVIATION.match(body)) is not None:
            tol = parse_number(m.group("t"))
            if tol is None or tol < 0:
                return None
            return (SeriesTarget(None, "=", 0.0, _balance_unit(m.group("tu")), tolerance=abs(tol)),)
        if (m := _PLUS_MINUS.match(body)) is not None:
            value, tol = parse_number(m.group("v")), parse_number(m.group("t"))
            unit = _balance_unit(m.group("vu"), m.group("tu"))
            if value is None or tol is None or tol < 0 or (m.group("tu") and not m.group("vu")
                                                            and unit == "%" and value != 0 and abs(value) <= tol):
                return None  # '1,0 ± 5 %' (5 % of the value?) is not read: it would be a guess
            return (SeriesTarget(None, "=", value, unit, tolerance=tol),)
        if (m := _BETWEEN.match(body)) is not None:
            a, b = parse_number(m.group("a")), parse_number(m.group("b"))
            unit = _balance_unit(m.group("au"), m.group("bu"))
            if a is None or b is None or b < a:
                return None
            return (SeriesTarget(None, "=", _snap((a + b) / 2), unit, tolerance=_snap((b - a) / 2)),)
    except _Unreadable:
        return None
    return None


def unread_balance(text: object) -> bool:
    """Whether *text* is written as a balance target but not read as one (``1,0 ± 5 %``: 5 % of the value,
    or 5 percentage points?), so that it is assessed by hand; ``plan check`` says so."""
    verbatim = _text_of(text)
    body = normalise_space(verbatim).rstrip(".!").strip().casefold()
    return _balance(verbatim) is None and any(p.match(body) for p in (_DEVIATION, _PLUS_MINUS, _BETWEEN))


def parse_target(text: object, polarity: Polarity | None = None, series_names: Sequence[str] = ()) -> Target:
    """The meaning of a target text; never raises (unreadable text is qualitative).

    A target that names no series (``Öka``, ``85 %``) applies to the total
    (:func:`total_series`) of an indicator with series, not to every series.
    A balance target (``100 % ± 5``, ``mellan 95 och 105``, ``Avvikelse högst ±2 %``, ``Budget i balans``)
    is a threshold whose one series target is met in a range (:attr:`SeriesTarget.range`).
    """
    verbatim = _text_of(text)
    if is_no_value(text) or is_no_value(verbatim):
        return Target(verbatim, "none")
    balance = _balance(verbatim)
    if balance is not None:
        return Target(verbatim, "threshold", None, balance, total_series(series_names))
    direction = _direction(verbatim)
    if direction is not None:
        return Target(verbatim, "direction", direction, scope=total_series(series_names))
    try:
        segs = _segments(verbatim, series_names, allow_ops=True)
        _check_names(segs)
        series = tuple(st for seg in segs for st in _series_targets(seg, polarity))
    except _Unreadable:
        return Target(verbatim, "qualitative")
    unnamed = any(st.name is None for st in series)
    return Target(verbatim, "threshold", None, series, total_series(series_names) if unnamed else None)


def parse_series_values(text: object, series_names: Sequence[str] = ()) -> SeriesValues:
    """A baseline/outcome text read into series; unreadable or empty text gives no values."""
    verbatim = _text_of(text)
    if is_no_value(text) or is_no_value(verbatim):
        return SeriesValues(verbatim)
    if not isinstance(text, str):
        number = parse_number(text)
        return SeriesValues(verbatim, ((None, Quantity(number)),) if number is not None else ())
    try:
        segs = _segments(verbatim, series_names, allow_ops=False)
        _check_names(segs)
        if any(s.limit is not None for s in segs):
            raise _Unreadable("a limit in a value")
    except _Unreadable:
        return SeriesValues(verbatim)
    values = tuple(
        (name, Quantity(s.value, s.unit, s.year)) for s in segs for name in (s.names or (None,))
    )
    return SeriesValues(verbatim, values)


# --------------------------------------------------------------------------
# Polarity and multi-year targets
# --------------------------------------------------------------------------

_HIGHER_VERBS = ("öka", "höja", "förbättra", "stärka", "utöka", "främja", "överstiga")
_LOWER_VERBS = ("minska", "sänka", "understiga", "korta", "reducera", "begränsa")
_HIGHER_WORDS = ("bibehåll", "behålla", "nöjd", "trivs", "trivsel", "bemötande", "tillgänglighet")
_LOWER_WORDS = ("väntetid", "kötid", "sjukfrånvaro", "korttidssjukfrånvaro", "långtidssjukfrånvaro",
                "handläggningstid", "utredningstid", "verkställighetstid", "ledtid", "personalomsättning",
                "kostnadsavvikelse", "nettokostnadsavvikelse")


@functools.cache
def _stems(stems: tuple[str, ...]) -> re.Pattern[str]:
    """A word starting with one of *stems* (compiled once per list of stems)."""
    return re.compile(r"(?<!\w)(?:" + _alternation(stems) + r")")


def _words_hit(text: str, stems: tuple[str, ...]) -> bool:
    return _stems(stems).search(text) is not None


def infer_polarity(*texts: str | None) -> Polarity | None:
    """Whether more is better, from the goal's or indicator's words.

    Texts are read in order.  A verb (``öka``, ``höja`` … / ``minska``,
    ``understiga``, ``korta`` …) decides first: the first text whose verbs all
    point one way wins (a text whose verbs pull both ways is skipped
    altogether).  Failing that, nouns decide (``väntetid``,
    ``sjukfrånvaro`` → lower; ``Bibehålla``, ``nöjd``, ``trivs`` → higher,
    where a lower noun in the same text beats ``Bibehålla``).  None when
    nothing is clear.
    """
    folded = [normalise_space(t).casefold() for t in texts if isinstance(t, str) and t.strip()]
    clear = []
    for text in folded:
        higher, lower = _words_hit(text, _HIGHER_VERBS), _words_hit(text, _LOWER_VERBS)
        if higher and lower:
            continue  # verbs pulling both ways: this text says nothing safe
        if higher or lower:
            return "higher" if higher else "lower"
        clear.append(text)
    for text in clear:
        lower = _words_hit(text, _LOWER_WORDS)
        if lower:
            return "lower"
        if _words_hit(text, _HIGHER_WORDS):
            return "higher"
    return None


def target_for_year(targets: Mapping[int, str], year: int) -> tuple[int, str] | None:
    """The target that applies in ``year``: (year it was set for, its text).

    The year's own target if the plan has one; if that is missing or empty
    (``-``, ``I.U`` …), the latest earlier year's target.  Targets for later
    years never apply to an earlier year.  None when no target applies.
    """
    usable = [(y, t) for y, t in targets.items() if y <= year and not is_no_value(t)]
    if not usable:
        return None
    return max(usable, key=lambda item: item[0])
