"""Swedish explanations of parsed targets and statuses (for the CLI and messages)."""

from __future__ import annotations

from collections.abc import Sequence

from xlplan.core.errors import BadInput
from xlplan.core.numbers import format_number, is_no_value
from xlplan.core.status import Status, StatusResult, evaluate
from xlplan.core.targets import Polarity, Target, parse_series_values, parse_target

_OPS = {">": "över", ">=": "minst", "<": "under", "<=": "högst", "=": "exakt"}
_DIR = {"increase": "öka jämfört med jämförelsevärdet (föregående period, förra året, Kolada eller "
                    "inskrivet av avdelningen; annars nuläget)",
        "decrease": "minska jämfört med jämförelsevärdet (föregående period, förra året, Kolada eller "
                    "inskrivet av avdelningen; annars nuläget)",
        "maintain": "inte bli sämre än nuläget (utan nuläge: jämförelsevärdet)"}


def explain_target(t: Target) -> str:
    head = f"Målvärde: {t.text!r}"
    if t.scope is not None and t.kind in ("direction", "threshold"):
        head += (f"\nMålet nämner ingen serie och gäller {t.scope} (totalen); övriga serier redovisas utan "
                 "målvärde.")
    if t.kind == "none":
        return head + "\nInget målvärde: flaggas som 'Målvärde saknas'."
    if t.kind == "qualitative":
        return head + "\nKvalitativt mål: bedöms manuellt av avdelningen (Uppfyllt / Delvis / Ej uppfyllt)."
    if t.kind == "direction":
        return head + (f"\nRiktningsmål: utfallet ska {_DIR[t.direction or 'maintain']}. Finns inget att jämföra "
                       f"med blir statusen '{Status.JAMFORELSEVARDE_SAKNAS.label}'.")
    lines = [head, "Gränsvärde:"]
    for s in t.series:
        name = s.name or t.scope or "utfallet"
        line = f"  {name}: {_OPS[s.op]} {format_number(s.value, unit=s.unit)}"
        if s.range is not None:
            line = (f"  {name}: i balans, mellan {format_number(s.range[0])} och "
                    f"{format_number(s.range[1], unit=s.unit)} ({format_number(s.value)} ± "
                    f"{format_number(s.tolerance or 0)}; varken mer eller mindre är bättre)")
        if s.limit is not None:
            line += f" (andra gräns {format_number(s.limit, unit=s.unit)} flaggas för sig)"
        lines.append(line)
    return "\n".join(lines)


def status_of_texts(target: str, outcome: str, *, baseline: str | None = None, previous: str | None = None,
                    polarity: str | None = None, series_names: Sequence[str] = (),
                    assessment: str | None = None) -> StatusResult:
    pol: Polarity | None = polarity  # type: ignore[assignment]
    t = parse_target(target, pol, series_names)
    outs = parse_series_values(None if is_no_value(outcome) else outcome, series_names)
    if not is_no_value(outcome) and not outs.values:
        raise BadInput(f"Utfallet '{outcome}' är inte ett tal. Skriv t.ex. 50, 48,5 eller 50 %.")
    names: list[str | None] = list(series_names) or [None]
    outcomes = {n: (q.value if (q := outs.get(n)) else None) for n in names}
    prev = None
    if previous is not None:
        pv = parse_series_values(previous, series_names)
        prev = {n: (q.value if (q := pv.get(n)) else None) for n in names}
    base = parse_series_values(baseline, series_names) if baseline else None
    return evaluate(t, outcomes, series_names=series_names, baseline=base, previous=prev,
                    polarity=pol, assessment=assessment)


def explain_status(r: StatusResult) -> str:
    lines = [f"Status: {r.status.label}"]
    for s in r.series:
        if s.name is not None or len(r.series) > 1:
            out = format_number(s.outcome) if s.outcome is not None else "—"
            lines.append(f"  {s.name or 'utfall'}: {s.status.label} (utfall {out})")
    flag_text = {"andra_gransen_passerad": "den andra, hårdare gränsen är passerad",
                 "fel_riktning": "utfallet har gått åt fel håll jämfört med jämförelsevärdet eller nuläget",
                 "bedomning_saknas": "mål som bedöms manuellt utan egen bedömning",
                 "jamforelsevarde_saknas": "jämförelsevärde saknas (inget nuläge, ingen tidigare period, inget "
                                           "värde från Kolada); ge föregående utfall med --previous (i "
                                           "avdelningsfilen: kolumnen Jämförelsevärde) eller nuläget med "
                                           "--baseline"}
    for f in r.flags:
        lines.append(f"  Flagga: {flag_text.get(f, f)}")
    return "\n".join(lines)
