"""Live status in Excel: a formula that gives the same label as :func:`evaluate`.

The formula is built from the very comparisons :func:`xlplan.core.status.status_rules`
produces (outcome cell against constants; baselines are embedded as
constants; the comparison value of a direction target is referenced as its
cell, ``comparison_cells``, so a value the department types there counts at
once), so Python and the workbook cannot disagree.  Only functions Excel and LibreOffice both have are used:
``IF``, ``AND``, ``OR``, ``NOT``, ``ISNUMBER``, ``TRIM``, ``LOWER``,
``SUBSTITUTE``, ``CHAR``.

An outcome cell counts as an outcome only when it holds a number: an empty
cell, text (even ``"50"`` typed as text) or a logical value gives
*Utfall saknas*, exactly as :func:`evaluate` does for a missing (None)
outcome.  Callers reading such cells for Python must pass None for them.
(A logical TRUE/FALSE is no number in Excel but is 1/0 in LibreOffice; the
workbooks restrict outcome cells to numbers.)

An assessment is read as :func:`xlplan.core.status.normalise_label` reads it:
case ignored, line breaks as spaces, spaces trimmed and collapsed (a tab is
not a space: LibreOffice keeps a tab in a multi-line cell as U+0001).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from xlplan.core.status import (
    ASSESSMENT_TEXTS,
    Condition,
    Ref,
    Status,
    StatusRules,
    StatusSettings,
    lookup_series,
    status_rules,
)
from xlplan.core.targets import Polarity, SeriesValues, Target

__all__ = ["status_formula", "excel_number", "excel_text"]

_MAX_FORMULA = 8000  # Excel's limit is 8192 characters


def excel_number(x: float) -> str:
    """A number literal Excel and LibreOffice read back as the same float (no exponent)."""
    text = format(Decimal(repr(float(x))), "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def excel_text(text: str) -> str:
    """A string literal: ``"…"`` with inner quotes doubled."""
    return '"' + text.replace('"', '""') + '"'


def _operand(c: float | Ref) -> str:
    if isinstance(c, Ref):
        if c.fallback is None:
            return c.cell
        return f"IF(ISNUMBER({c.cell}),{c.cell},{excel_number(c.fallback)})"
    return excel_number(c)


def _cmp(cell: str, op: str, c: float | Ref) -> str:
    return f"{cell}{op}{_operand(c)}"


def _unguarded_refs(rules: StatusRules) -> list[str]:
    """Comparison cells with no fallback: without a number there, the row is *Jämförelsevärde saknas*."""
    cells: list[str] = []
    for r in rules.rules:
        for cond in (r.met, r.partial, r.worse):
            for conj in cond:
                for _, c in conj:
                    if isinstance(c, Ref) and c.fallback is None and c.cell not in cells:
                        cells.append(c.cell)
    return cells


def _condition(cell: str, cond: Condition) -> str | None:
    terms = []
    for conj in cond:
        parts = [_cmp(cell, op, c) for op, c in conj]
        terms.append(parts[0] if len(parts) == 1 else f"AND({','.join(parts)})")
    if not terms:
        return None
    return terms[0] if len(terms) == 1 else f"OR({','.join(terms)})"


def _join(fn: str, parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{fn}({','.join(parts)})"


def _label(status: Status) -> str:
    return excel_text(status.label)


def _assessment_formula(cell: str | None) -> str:
    if cell is None:
        return _label(Status.MANUELL)
    norm = f'TRIM(LOWER(SUBSTITUTE(SUBSTITUTE({cell},CHAR(10)," "),CHAR(13)," ")))'
    expr = _label(Status.MANUELL)
    for status in (Status.EJ, Status.DELVIS, Status.UPPFYLLT):
        words = [w for w, s in ASSESSMENT_TEXTS.items() if s is status]
        test = _join("OR", [f"{norm}={excel_text(w)}" for w in words])
        expr = f"IF({test},{_label(status)},{expr})"
    return expr


def _series_formula(rules: StatusRules, cells: list[str | None]) -> str:
    if any(c is None for c in cells):
        return _label(Status.UTFALL_SAKNAS)
    present = [c for c in cells if c is not None]
    missing = _join("OR", [f"NOT(ISNUMBER({c}))" for c in present])
    met = [m for r, c in zip(rules.rules, present) if (m := _condition(c, r.met))]
    partial = [p for r, c in zip(rules.rules, present) if (p := _condition(c, r.partial))]
    # Past "all met", a single series' own met test is false: only partial tests can help it.
    good = (met if len(rules.rules) > 1 else []) + partial
    not_met = f"IF({_join('OR', good)},{_label(Status.DELVIS)},{_label(Status.EJ)})" if good else _label(Status.EJ)
    all_met = _join("AND", met or ["FALSE()"])
    body = f"IF({all_met},{_label(Status.UPPFYLLT)},{not_met})"
    guard = _unguarded_refs(rules)
    if guard:
        have = _join("AND", [f"ISNUMBER({c})" for c in guard])
        body = f"IF({have},{body},{_label(Status.JAMFORELSEVARDE_SAKNAS)})"
    return f"IF({missing},{_label(Status.UTFALL_SAKNAS)},{body})"


def _missing_test(cells: Sequence[str | None]) -> str | None:
    present = [c for c in cells if c is not None]
    if len(present) < len(cells) or not present:
        return None
    return _join("OR", [f"NOT(ISNUMBER({c}))" for c in present])


def status_formula(target: Target, outcome_cells: Mapping[str | None, str], *, series_names: Sequence[str] = (),
                   baseline: SeriesValues | None = None, polarity: Polarity | None = None,
                   settings: StatusSettings = StatusSettings(), assessment_cell: str | None = None,
                   previous: Mapping[str | None, float | None] | None = None,
                   comparison_cells: Mapping[str | None, str] | None = None) -> str | None:
    """An Excel formula (``=…``) giving the label :func:`evaluate` gives; None if it cannot be written.

    ``outcome_cells`` maps series names to A1 references (``"H12"``,
    ``"'Blad 1'!H12"``); an unnamed entry applies to every series.
    ``comparison_cells`` (same keys) are the cells holding the comparison
    value of a direction target; the formula reads them, so it gives what
    :func:`evaluate` gives with ``previous`` = the numbers in those cells.
    Without them, ``previous`` is embedded as constants, like the baseline.
    Qualitative targets read ``assessment_cell``; without one the formula is
    the constant *Bedöms manuellt*.  A direction target with neither a number
    in its comparison cell nor a baseline gives *Jämförelsevärde saknas*
    (after *Utfall saknas*).
    """
    prev: Mapping[str | None, float | Ref | None] | None = previous
    if comparison_cells:
        prev = {k: Ref(v) for k, v in comparison_cells.items()}
    rules = status_rules(target, series_names=series_names, outcome_keys=list(outcome_cells), baseline=baseline,
                         previous=prev, polarity=polarity, settings=settings)
    if rules.fixed is Status.JAMFORELSEVARDE_SAKNAS:  # a direction target without comparison value
        missing = _missing_test([lookup_series(outcome_cells, n) for n in rules.series_names])
        body = (f"IF({missing},{_label(Status.UTFALL_SAKNAS)},{_label(rules.fixed)})" if missing is not None
                else _label(Status.UTFALL_SAKNAS))
    elif rules.mode == "fixed":
        assert rules.fixed is not None
        body = _label(rules.fixed)
    elif rules.mode == "assessment":
        body = _assessment_formula(assessment_cell)
    else:
        body = _series_formula(rules, [lookup_series(outcome_cells, r.name) for r in rules.rules])
    formula = "=" + body
    return formula if len(formula) <= _MAX_FORMULA else None
