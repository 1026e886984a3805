"""Rad-id: the hidden key of every row of a department workbook (column A), defined once.

``I|<indicator id>|<series or empty>`` (Mål och indikatorer), ``A|<activity id>``
(Aktiviteter), ``E|<post>`` (Ekonomi), ``P|<key figure>`` (Personal),
``K|<control id>`` (Internkontroll): the rows a department fills in.  ``S|…`` are
summary rows and ``T|…`` total rows that xlplan writes itself; ``R|<indicator id>|<series>`` is a
read-only row of an indicator another department reports (shown for context, never read).  ``|`` therefore
never appears in an id, series or post (``books.plan`` refuses it).
"""

from __future__ import annotations

SEP = "|"
INDICATOR_ROW, ACTIVITY_ROW, ECONOMY_ROW, PERSONNEL_ROW, CONTROL_ROW = "I", "A", "E", "P", "K"
QUESTION_ROW = "F"  # a qualitative report question (Frågor): ``F|<question id>``
SUMMARY_ROW, TOTAL_ROW, CONTEXT_ROW = "S", "T", "R"
#: Prefixes of the rows a department fills in (the rest are written by xlplan).
DATA_PREFIXES: tuple[str, ...] = tuple(k + SEP for k in (INDICATOR_ROW, ACTIVITY_ROW, ECONOMY_ROW, PERSONNEL_ROW,
                                                          CONTROL_ROW, QUESTION_ROW))


def indicator_row_id(indicator_id: str, series: str | None) -> str:
    return f"{INDICATOR_ROW}{SEP}{indicator_id}{SEP}{series or ''}"


def context_row_id(indicator_id: str, series: str | None) -> str:
    """The Rad-id of a read-only context row (an indicator reported by another department or the committee)."""
    return f"{CONTEXT_ROW}{SEP}{indicator_id}{SEP}{series or ''}"


def make_row_id(kind: str, key: str) -> str:
    """The Rad-id of an activity, economy post, key figure or control (``A|A1``, ``E|Intäkter`` …)."""
    return f"{kind}{SEP}{key}"


def indicator_of(rid: str) -> tuple[str, str | None] | None:
    """``(indicator id, series or None)`` of an indicator row's Rad-id, else None."""
    parts = rid.split(SEP, 2)
    if len(parts) < 2 or parts[0] != INDICATOR_ROW:
        return None
    return parts[1], (parts[2] if len(parts) > 2 and parts[2] else None)


def key_of(rid: str) -> str:
    """The id part of a Rad-id (the indicator id, activity id, post …); the text itself when it has none."""
    parts = rid.split(SEP, 2)
    return parts[1] if len(parts) > 1 else rid


def is_data_row(rid: str) -> bool:
    """Whether the row is one a department fills in (not a summary or total row)."""
    return rid.startswith(DATA_PREFIXES)
