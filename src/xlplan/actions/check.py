"""Summaries of a plan, for ``xlplan plan check``."""

from __future__ import annotations

from collections import Counter
from typing import Any

from xlplan.core.assess import uses_comparison
from xlplan.core.model import Indicator, Plan
from xlplan.core.numbers import format_number
from xlplan.core.targets import parse_target, unread_balance


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
                         "polaritet": ind.polarity(goal), "tolkning": t.to_json(),
                         "rapporteras_av": ind.reporter})
    return {
        "kan_inte_bedomas": unassessable(plan),
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
        "budgetfordelning": budget_distribution(plan),
        "personal": len(plan.personnel),
        "internkontroll": len(plan.controls),
        "fragor": [{"id": q.id, "mal_id": q.goal_id, "avdelningar": list(q.departments) or ["alla"],
                    "perioder": list(q.periods) or list(s.periods)} for q in plan.questions],
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


def budget_distribution(plan: Plan) -> list[dict[str, Any]]:
    """Per distributed frame line and year: the frame, the departments' sum and the difference (tkr)."""
    return [{"post": item, "ar": year, "ram": frame, "avdelningar": spread, "skillnad": spread - frame}
            for year in sorted({b.year for b in plan.budget})
            for item, frame, spread in plan.frame_distribution(year)]


def _has_file_source(plan: Plan, ind: Indicator, series: str | None) -> bool:
    return any(fs.indicator_id == ind.id and (fs.series is None or series is None
                                              or fs.series.casefold() == series.casefold())
               for fs in plan.file_sources)


def _reasons(plan: Plan, ind: Indicator, year: int) -> list[tuple[str | None, str, str]]:
    """(series, code, Swedish reason) for each way an indicator's rows cannot be assessed in *year*."""
    goal = plan.goal(ind.goal_id)
    picked = ind.target_text(year)
    text = picked[1] if picked else None
    t = ind.target(year, goal)
    if t.kind == "none":
        return [(None, "malvarde_saknas", f"inget målvärde för {year} i planen: statusen blir Målvärde saknas")]
    if t.kind == "qualitative":
        loose = parse_target(text, ind.polarity(goal))  # read without the plan's series names
        unknown = sorted({st.name for st in loose.series if st.name is not None}
                         - set(ind.series), key=str.casefold) if loose.kind == "threshold" else []
        unknown = [n for n in unknown if n.casefold() not in {x.casefold() for x in ind.series}]
        if unknown:
            have = "; ".join(ind.series) if ind.series else "inga serier"
            return [(None, "okand_serie_i_malvarde", f"målvärdet '{text}' nämner serien "
                     f"{', '.join(repr(n) for n in unknown)}, som indikatorn inte har ({have}): målet bedöms "
                     "manuellt. Rätta seriens namn i målvärdet eller i kolumnen Serier")]
        if unread_balance(text):
            return [(None, "malvarde_tvetydigt", f"målvärdet '{text}' är skrivet som ett balansmål men kan inte "
                     "läsas säkert (är ± 5 % fem procent av värdet eller fem procentenheter?): målet bedöms "
                     "manuellt. Skriv toleransen i målvärdets enhet, t.ex. '1,0 ± 0,05', eller gränserna: "
                     "'mellan 0,95 och 1,05'")]
        if ind.polarity(goal) is None and parse_target(text, "higher", ind.series).kind == "threshold":
            return [(None, "polaritet_saknas", f"målvärdet '{text}' är ett tal utan 'minst'/'högst', och planen "
                     "säger inte om högre eller lägre är bättre: målet bedöms manuellt. Fyll i kolumnen "
                     "Polaritet (högre/lägre) eller skriv t.ex. 'minst …'")]
        return []
    out: list[tuple[str | None, str, str]] = []
    for series in ind.series_names():
        if not uses_comparison(t, ind.baseline_values(), series):
            continue
        if ind.kpi_for(series) is not None or _has_file_source(plan, ind, series):
            continue
        if ind.baseline_values().get(series) is not None:
            continue  # compared with the Nuläge when no newer comparison value comes
        out.append((series, "jamforelsevarde_saknas", f"riktningsmålet '{text}' har inget nuläge och ingen källa "
                    "för förra årets värde (inget Kolada-id, ingen rad i Filkällor): kan bara bedömas om "
                    "avdelningen skriver in ett jämförelsevärde (eller om förra periodens fil finns i mappen)"))
    return out


def unassessable(plan: Plan) -> list[dict[str, Any]]:
    """Every indicator (and series) whose status cannot be computed from the plan alone, and why.

    Per the plan's years; a reason that holds for several years is listed
    once with those years.
    """
    s = plan.settings
    found: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for ind in plan.indicators:
        for year in range(s.year, s.end_year + 1):
            for series, code, reason in _reasons(plan, ind, year):
                key = (ind.id, series, code)
                if key in found:
                    found[key]["ar"].append(year)
                else:
                    found[key] = {"id": ind.id, "namn": ind.name, "serie": series, "kod": code,
                                  "orsak": reason, "ar": [year]}
    return list(found.values())


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
    if summary.get("fragor"):
        lines.append(f"Frågor: {len(summary['fragor'])} (" + "; ".join(
            f"{q['id']} {', '.join(q['perioder'])}" for q in summary["fragor"]) + ")")
    once = [i for i in summary["indikatorlista"] if i.get("rapporteras_av")]
    if once:
        lines.append(f"Rapporteras en gång: {len(once)} (" + "; ".join(
            f"{i['id']} av {i['rapporteras_av']}" for i in once) + ")")
    spread = summary.get("budgetfordelning", [])
    off = [d for d in spread if abs(d["skillnad"]) >= 0.5]
    if spread and not off:
        lines.append(f"Budgetfördelning: avdelningarnas budget summerar till nämndens ram ({len(spread)} poster).")
    if off:
        lines.append(f"VARNING: avdelningarnas budget summerar inte till nämndens ram för {len(off)} poster:")
        for d in off:
            lines.append(f"  {d['post']} {d['ar']}: ram {format_number(d['ram'], 0)} tkr, avdelningarna "
                         f"{format_number(d['avdelningar'], 0)} tkr, skillnad {format_number(d['skillnad'], 0)} tkr.")
    problems = summary.get("kan_inte_bedomas", [])
    if problems:
        lines.append(f"VARNING: {len(problems)} indikatorrader kan inte bedömas automatiskt:")
        for w in problems:
            years = "" if len(summary["ar"]) == 2 and summary["ar"][0] == summary["ar"][1] else \
                f" ({', '.join(str(y) for y in w['ar'])})"
            serie = f" serie {w['serie']}" if w["serie"] else ""
            lines.append(f"  {w['id']}{serie}{years}: {w['orsak']}.")
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
    scope = f" (gäller {t['scope']}; övriga serier redovisas)" if t.get("scope") else ""
    if t["kind"] == "direction":
        return "riktning: " + _DIRS.get(t["direction"] or "", str(t["direction"])) + scope
    parts = []
    for s in t["series"]:
        value = f"{s['value']:g}".replace(".", ",")
        part = f"{s['name'] + ' ' if s['name'] else ''}{_OPS[s['op']]} {value}"
        if s.get("range"):
            lo, hi = (f"{x:g}".replace(".", ",") for x in s["range"])
            part = f"{s['name'] + ' ' if s['name'] else ''}mellan {lo} och {hi} (balans)"
        if s["limit"] is not None:
            part += f" (andra gräns {s['limit']:g})".replace(".", ",")
        parts.append(part)
    return "; ".join(parts) + scope


def _short(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
