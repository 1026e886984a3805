"""Comparison values for the committee's Jämförelser sheet: own municipality, riket, similar municipalities.

For every Kolada indicator of the plan, the same KPI (per series: in the
series' gender, and in the total too when the indicator is split by gender,
see :func:`comparison_genders`) for

* the plan's municipality (``Kommun-id``),
* riket (``0000``),
* the "liknande kommuner" group of the plan setting ``Liknande kommuner``:
  a ``G…`` id is used as it is; any other text is a title, looked up with
  Kolada's title search (:func:`resolve_group`),

for the years followed up (Planår up to the period's year), the two years
before the period's year (history for the trend; ``xlplan pull`` fetches
them anyway) and the indicator's baseline year (Nulägesår).  Values are Kolada's own, including
the group mean Kolada computes, so the source is "Kolada".

Only combinations Kolada has a row for become rows (a row may have no value:
``value=None`` with Kolada's status).  The rows are
:class:`xlplan.books.committee.Comparison` records, saved as ``comparisons.json``
next to the department workbooks (:func:`save_comparisons`), where
``consolidate`` reads them (:func:`read_comparisons`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from xlplan.books.committee import Comparison
from xlplan.core.codes import Code
from xlplan.core.errors import Problem, WorkbookRefused
from xlplan.core.model import Indicator, Plan, series_gender
from xlplan.core.naming import COMPARISONS_FILE  # the names of every file xlplan writes: one place
from xlplan.core.periods import Period
from xlplan.io.atomic import write_bytes_atomic
from xlplan.kolada.models import KoladaValue, KpiMeta, MunicipalityGroup

__all__ = [
    "COMPARISONS_FILE", "RIKET", "Unit", "build_comparisons", "comparison_genders", "comparison_kpis",
    "comparison_years",
    "merge_comparisons", "read_comparisons", "resolve_group", "save_comparisons", "units_for",
]

FORMAT = "xlplan-jamforelser"
FORMAT_VERSION = 1
RIKET = "0000"
_GROUP_ID = re.compile(r"^G\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class Unit:
    """A municipality, riket or a group, as shown in the comparison table."""

    id: str
    name: str
    kind: str  # "kommun" | "riket" | "grupp"


def resolve_group(setting: str | None, municipality: str,
                  search: Callable[[str], list[MunicipalityGroup]]) -> tuple[Unit | None, Problem | None]:
    """The plan's ``Liknande kommuner`` setting as a unit (a G-id, or a title looked up by *search*)."""
    if setting is None or not setting.strip():
        return None, None
    text = setting.strip()
    if _GROUP_ID.match(text):
        return Unit(text.upper(), f"Liknande kommuner ({text.upper()})", "grupp"), None
    found = search(text)
    pick = _pick_group(found, text, municipality)
    if pick is not None:
        return Unit(pick.id, pick.title, "grupp"), None
    if not found:
        msg = (f"Ingen kommungrupp i Kolada har '{text}' i namnet; jämförelse med liknande kommuner "
               "saknas. Ange gruppens id (G…) eller en del av titeln i planens inställning Liknande kommuner.")
    else:
        names = "; ".join(f"{g.title} ({g.id})" for g in found[:5])
        msg = (f"Flera kommungrupper matchar '{text}': {names}. Ange gruppens id (G…) i planens "
               "inställning Liknande kommuner.")
    return None, Problem(Code.GRUPP_OKAND, msg, sheet="Inställningar", cell="Liknande kommuner", severity="varning")


def _pick_group(found: list[MunicipalityGroup], text: str, municipality: str) -> MunicipalityGroup | None:
    exact = [g for g in found if g.title.casefold() == text.casefold()]
    if len(exact) == 1:
        return exact[0]
    if len(found) == 1:
        return found[0]
    own = [g for g in found if municipality.casefold() in g.title.casefold()]
    return own[0] if len(own) == 1 else None


def units_for(plan: Plan, group: Unit | None) -> list[Unit]:
    s = plan.settings
    units = [Unit(s.municipality_id, s.municipality, "kommun"), Unit(RIKET, "Riket", "riket")]
    return units + ([group] if group is not None else [])


def comparison_years(plan: Plan, period: Period) -> list[int]:
    """The years followed up: Planår up to the period's year."""
    first = min(plan.settings.year, period.year)
    return list(range(first, period.year + 1))


HISTORY_YEARS = 2  # years before the period's year kept as history (pull fetches them too)


def _indicator_years(ind: Indicator, followed: Sequence[int], period: Period) -> list[int]:
    years = set(followed) | {period.year - n for n in range(1, HISTORY_YEARS + 1)}
    if ind.baseline_year is not None:
        years.add(ind.baseline_year)
    return sorted(years)


def comparison_kpis(plan: Plan, periods: Iterable[Period]) -> list[tuple[Indicator, str]]:
    """(indicator, KPI) for every Kolada KPI of an indicator followed up in one of *periods*."""
    kinds = {p.kind for p in periods}
    out: list[tuple[Indicator, str]] = []
    for ind in plan.indicators:
        if ind.periods and not kinds & set(ind.periods):
            continue
        for _, kpi in ind.kolada:
            if (ind, kpi) not in out:
                out.append((ind, kpi))
    return out


def comparison_genders(ind: Indicator) -> list[tuple[str, str]]:
    """(KPI, Kolada gender) pairs an indicator is compared in, per series.

    Each series is compared in its own KPI and gender (``Kvinnor: U21468`` in
    ``K``; a series that names no gender in the indicator's *Kön*).  An
    indicator split by gender is also compared in the total (``T``), the line
    riket and similar municipalities are shown with.  A KPI no series maps to
    is compared in the indicator's *Kön*.
    """
    out: list[tuple[str, str]] = []
    for series in ind.series_names():
        kpi = ind.kpi_for(series)
        gender = ind.gender_for(series) if kpi is not None else None
        if kpi is not None and gender is not None and (kpi, gender) not in out:
            out.append((kpi, gender))
    split = [ind.kpi_for(s) for s in ind.series if series_gender(s) in ("K", "M")]
    for kpi in [k for k in dict.fromkeys(split) if k is not None]:
        if (kpi, "T") not in out:
            out.append((kpi, "T"))
    for _, kpi in ind.kolada:
        if not any(k == kpi for k, _ in out):
            out.append((kpi, ind.gender))
    return out


def build_comparisons(plan: Plan, period: Period, values: Iterable[KoladaValue], metadata: dict[str, KpiMeta],
                      units: Sequence[Unit]) -> list[Comparison]:
    """The comparison rows (pure): per KPI and gender (per series, see :func:`comparison_genders`),
    per unit, per year Kolada has a row for."""
    by_key = {v.key: v for v in values}
    followed = comparison_years(plan, period)
    rows: dict[tuple[str, str, int, str], Comparison] = {}
    pairs = [(ind, kpi, gender) for ind in dict.fromkeys(i for i, _ in comparison_kpis(plan, [period]))
             for kpi, gender in comparison_genders(ind)]
    for ind, kpi, gender in pairs:
        title = metadata[kpi].title if kpi in metadata else kpi
        for unit in units:
            for year in _indicator_years(ind, followed, period):
                key = (kpi, unit.id, year, gender)
                v = by_key.get(key)
                if v is None or key in rows:
                    continue
                value = None if v.isdeleted else v.value
                rows[key] = Comparison(kpi, title, unit.id, unit.name, year, gender, value,
                                       v.status or None, v.fetched_at, "Kolada")
    return sorted(rows.values(), key=_order(units))


def _order(units: Sequence[Unit]) -> Callable[[Comparison], tuple[Any, ...]]:
    rank = {u.id: i for i, u in enumerate(units)}
    return lambda c: (c.kolada_id, c.gender, rank.get(c.municipality_id, len(rank)), c.year)


def merge_comparisons(old: Iterable[Comparison], new: Iterable[Comparison]) -> list[Comparison]:
    """*new* replaces rows of *old* with the same KPI, unit, year and gender; the rest of *old* stays."""
    merged = {(c.kolada_id, c.municipality_id, c.year, c.gender): c for c in old}
    merged.update({(c.kolada_id, c.municipality_id, c.year, c.gender): c for c in new})
    return list(merged.values())


# ---------------------------------------------------------------- comparisons.json


def _to_json(c: Comparison) -> dict[str, Any]:
    d = asdict(c)
    d["fetched_at"] = c.fetched_at.isoformat() if c.fetched_at else None
    return d


def _from_json(d: dict[str, Any]) -> Comparison:
    fetched = d.get("fetched_at")
    return Comparison(
        kolada_id=str(d["kolada_id"]), kpi_title=str(d.get("kpi_title") or d["kolada_id"]),
        municipality_id=str(d["municipality_id"]), municipality=str(d.get("municipality") or ""),
        year=int(d["year"]), gender=str(d.get("gender") or "T"),
        value=None if d.get("value") is None else float(d["value"]), status=d.get("status"),
        fetched_at=dt.datetime.fromisoformat(fetched) if fetched else None, source=str(d.get("source") or "Kolada"),
    )


def save_comparisons(path: Path, rows: Sequence[Comparison], plan: Plan, period: Period,
                     now: dt.datetime | None = None) -> Path:
    """Write *rows* to *path* (atomically), merged with what a file for the same plan already holds."""
    old: list[Comparison] = []
    if path.exists():
        try:
            old_plan, old_rows = _load(path)
            old = old_rows if old_plan == plan.id else []
        except WorkbookRefused:
            old = []
    merged = sorted(merge_comparisons(old, rows), key=lambda c: (c.kolada_id, c.gender, c.municipality_id, c.year))
    doc = {
        "format": FORMAT, "version": FORMAT_VERSION, "plan_id": plan.id, "period": str(period),
        "written_at": (now or dt.datetime.now(dt.UTC)).replace(microsecond=0).isoformat(),
        "note": "Källa: Kolada. Skrivs av xlplan pull; läses av xlplan consolidate.",
        "comparisons": [_to_json(c) for c in merged],
    }
    write_bytes_atomic(path, (json.dumps(doc, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return path


def read_comparisons(path: str | Path, plan_id: str | None = None) -> list[Comparison]:
    """The rows of a ``comparisons.json``; [] when the file is absent or belongs to another plan."""
    path = Path(path)
    if path.is_dir():
        path = path / COMPARISONS_FILE
    if not path.exists():
        return []
    file_plan, rows = _load(path)
    if plan_id is not None and file_plan != plan_id:
        return []
    return rows


def _load(path: Path) -> tuple[str | None, list[Comparison]]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise ValueError("okänt format")
        return doc.get("plan_id"), [_from_json(d) for d in doc.get("comparisons", [])]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkbookRefused(path.name, f"jämförelsefilen kan inte läsas ({exc}). Kör xlplan pull igen.") from exc
