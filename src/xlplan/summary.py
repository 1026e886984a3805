"""Summaries of a plan, for ``xlplan plan check``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from xlplan.model import Plan


def plan_summary(plan: Plan) -> dict[str, Any]:
    s = plan.settings
    kinds: Counter[str] = Counter()
    by_year: dict[int, Counter[str]] = {}
    for year in range(s.year, s.end_year + 1):
        c: Counter[str] = Counter()
        for ind in plan.indicators:
            t = ind.target(year, plan.goal(ind.goal_id))
            c[t.kind] += 1
        by_year[year] = c
    kinds = by_year[s.year]
    ind_list = []
    for ind in plan.indicators:
        goal = plan.goal(ind.goal_id)
        picked = ind.target_text(s.year)
        t = ind.target(s.year, goal)
        ind_list.append({"id": ind.id, "namn": ind.name, "mal_id": ind.goal_id,
                         "avdelningar": list(ind.departments) or ["alla"],
                         "kolada": [k for _, k in ind.kolada], "serier": list(ind.series),
                         "nulage": ind.baseline, "malvarde": picked[1] if picked else None,
                         "polaritet": ind.polarity(goal), "tolkning": t.to_json()})
    return {
        "plan_id": plan.id,
        "version": plan.version,
        "kommun": s.municipality,
        "kommun_id": s.municipality_id,
        "namnd": s.committee,
        "ar": [s.year, s.end_year],
        "perioder": list(s.periods),
        "avdelningar": [{"id": d.id, "namn": d.name,
                         "indikatorer": len(plan.indicators_for(d.id)),
                         "aktiviteter": len(plan.activities_for(d.id))} for d in plan.departments],
        "mal": len(plan.goals),
        "indikatorer": len(plan.indicators),
        "aktiviteter": len(plan.activities),
        "ekonomirader": len(plan.budget),
        "personal": len(plan.personnel),
        "internkontroll": len(plan.controls),
        "malvarden": {
            "tolkade": kinds["threshold"] + kinds["direction"],
            "troskel": kinds["threshold"],
            "riktning": kinds["direction"],
            "kvalitativa": kinds["qualitative"],
            "saknas": kinds["none"],
        },
        "malvarden_per_ar": {str(y): dict(c) for y, c in by_year.items()},
        "indikatorlista": ind_list,
    }


def format_summary(summary: dict[str, Any]) -> str:
    m = summary["malvarden"]
    lines = [
        f"Plan {summary['plan_id']} (version {summary['version']})",
        f"{summary['namnd']}, {summary['kommun']} (Kolada {summary['kommun_id']}), "
        f"år {summary['ar'][0]}" + (f"–{summary['ar'][1]}" if summary['ar'][1] != summary['ar'][0] else ""),
        f"Perioder: {', '.join(summary['perioder'])}",
        f"Avdelningar: {len(summary['avdelningar'])}",
    ]
    for d in summary["avdelningar"]:
        lines.append(f"  {d['id']:<10} {d['namn']} — {d['indikatorer']} indikatorer, {d['aktiviteter']} aktiviteter")
    lines += [
        f"Mål: {summary['mal']}   Indikatorer: {summary['indikatorer']}   Aktiviteter: {summary['aktiviteter']}",
        f"Ekonomirader: {summary['ekonomirader']}   Personalmål: {summary['personal']}   "
        f"Internkontroll: {summary['internkontroll']}",
        f"Målvärden {summary['ar'][0]}: {m['tolkade']} tolkade ({m['troskel']} gränsvärden, {m['riktning']} riktningar), "
        f"{m['kvalitativa']} kvalitativa (bedöms manuellt), {m['saknas']} saknas",
    ]
    lines.append("Indikatorer och hur målvärdet läses:")
    for i in summary["indikatorlista"]:
        lines.append(f"  {i['id']:<10} {_short(i['namn'], 60)}")
        lines.append(f"             målvärde {i['malvarde']!r} → {reading(i['tolkning'])}")
    return "\n".join(lines)


_OPS = {">": ">", ">=": "≥", "<": "<", "<=": "≤", "=": "="}
_DIRS = {"increase": "ska öka", "decrease": "ska minska", "maintain": "bibehålla (inte sämre än nuläget)"}


def reading(t: dict[str, Any]) -> str:
    """One Swedish line for a target's reading (``Target.to_json()`` form)."""
    if t["kind"] == "none":
        return "målvärde saknas"
    if t["kind"] == "qualitative":
        return "kvalitativt (bedöms manuellt)"
    if t["kind"] == "direction":
        return "riktning: " + _DIRS.get(t["direction"] or "", str(t["direction"]))
    parts = []
    for s in t["series"]:
        value = f"{s['value']:g}".replace(".", ",")
        part = f"{s['name'] + ' ' if s['name'] else ''}{_OPS[s['op']]} {value}"
        if s["limit"] is not None:
            part += f" (andra gräns {s['limit']:g})".replace(".", ",")
        parts.append(part)
    return "; ".join(parts)


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
