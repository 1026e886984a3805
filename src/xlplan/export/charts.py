"""Charts for the board pack (matplotlib, Agg canvas, PNG at 150 dpi, DejaVu Sans).

Every chart reads in grey-scale print: statuses differ by hatch as well as
colour, comparison lines by marker and line style.  Figures are drawn on their
own Agg canvas (no pyplot, no global backend switch).
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import matplotlib
import matplotlib.ticker
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from xlplan.books.committee import (
    COMPARISON_MISSING,
    FULFILLED,
    MANUAL,
    NOT_FULFILLED,
    OUTCOME_MISSING,
    PARTLY,
    REPORTED,
    TARGET_MISSING,
    CommitteeData,
    Comparison,
    GoalSummary,
    IndicatorLine,
)
from xlplan.core.model import series_gender
from xlplan.core.numbers import NUMBER_PATTERN, display_decimals, format_number, number_from_match
from xlplan.core.status import Status

if TYPE_CHECKING:
    from matplotlib.typing import RcKeyType

DPI = 150
WIDTH_IN = 6.3  # fits a 16 cm text column
RC: dict[RcKeyType, Any] = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
    "svg.fonttype": "none",
}
# Hatch per status: the statuses differ in grey-scale print even where they share a colour.
STATUS_HATCH: dict[str, str] = {
    FULFILLED: "", PARTLY: "///", NOT_FULFILLED: "xxx", OUTCOME_MISSING: "...", TARGET_MISSING: "---",
    MANUAL: "\\\\\\", REPORTED: "+++", COMPARISON_MISSING: "|||",
}
# (face colour, hatch) per status; the colour is the status's own (xlplan.core.status).
STATUS_STYLE: dict[str, tuple[str, str]] = {
    s.label: (s.colours.hex(), STATUS_HATCH[s.label]) for s in Status}
# Comparison series: (colour, marker, line style, line width, hatch).
# A line style: a matplotlib name ("-", "--" …) or (offset, (on, off, …)) dashes.
LineStyle = str | tuple[int, tuple[int, ...]]
SERIES_STYLES: tuple[tuple[str, str, LineStyle, float, str], ...] = (
    ("#08306B", "o", "-", 2.4, ""),
    ("#6A6A6A", "s", "--", 1.5, "///"),
    ("#C2571A", "^", ":", 1.7, "xxx"),
    ("#41AB5D", "D", "-.", 1.5, "..."),
    ("#807DBA", "v", (0, (5, 1, 1, 1, 1, 1)), 1.5, "\\\\\\"),
    ("#8C6D31", "P", (0, (1, 1)), 1.5, "+++"),
    ("#CE1256", "X", (0, (3, 1, 1, 1)), 1.5, "ooo"),
    ("#252525", "*", (0, (8, 2)), 1.5, "**"),
)
# Genders in a panel split by gender: (colour, marker), apart in colour and in grey-scale print.
GENDER_STYLES = {"T": ("#08306B", "o"), "K": ("#D95F02", "^"), "M": ("#7570B3", "s")}
# Riket and similar municipalities beside a gender split: grey-ish, markers no gender uses.
OTHER_UNIT_STYLES: tuple[tuple[str, str, LineStyle], ...] = (
    ("#6A6A6A", "D", ":"), ("#8C6D31", "P", (0, (1, 1))), ("#252525", "*", (0, (8, 2))))
MAX_LINES = len(SERIES_STYLES)  # lines per panel at most (each with its own style)
GENDER_WORDS = {"T": "totalt", "K": "kvinnor", "M": "män"}


@dataclass(frozen=True)
class Chart:
    path: Path
    caption: str
    source: str | None = None  # "Källa: Kolada" … shown under the chart
    width_cm: float = WIDTH_IN * 2.54  # as drawn: embed at this width so text keeps its size
    alt_text: str | None = None  # what the chart shows, in words (the picture's alternative text)


def wrap(text: str, width: int = 70) -> str:
    """Wrap at spaces only (never inside a word); whitespace runs become one space."""
    return "\n".join(textwrap.wrap(" ".join(text.split()), width, break_long_words=False)) or text


def target_number(line: IndicatorLine) -> float | None:
    """The line's numeric target: the given value, or the one number in the target text."""
    if line.target_value is not None:
        return line.target_value
    if not line.target:
        return None
    matches = [m for m in re.finditer(NUMBER_PATTERN, line.target) if not _is_year(m.group(0))]
    return number_from_match(matches[0]) if len(matches) == 1 else None


_TARGET_WORDS = {"minst", "högst", "över", "under", "understiga", "överstiga", "andel", "antal"}


def is_text_target(line: IndicatorLine) -> bool:
    """A target written as a sentence ('Färdigställa 28 nya platser …'): read as text, not as a number."""
    words = [w for w in re.findall(r"[^\W\d_]+", line.target or "")
             if len(w) > 3 and w.casefold() not in _TARGET_WORDS]
    return target_number(line) is None or len(words) > 4


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", text.strip()))


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def _by_unit(values: Iterable[Comparison]) -> dict[str, list[Comparison]]:
    out: dict[str, list[Comparison]] = {}
    for v in values:
        out.setdefault(v.municipality_id, []).append(v)
    return out


def ordered_units(values: Sequence[Comparison], home_id: str) -> list[str]:
    """Municipality ids: the home municipality first, riket (0000) last, others as they come."""
    units = list(dict.fromkeys(v.municipality_id for v in values))
    return sorted(units, key=lambda u: (u != home_id, u == "0000", units.index(u)))


def one_gender(values: Iterable[Comparison]) -> list[Comparison]:
    """The values of one gender: totalt (T) when there are any, else the first gender seen."""
    values = list(values)
    genders = list(dict.fromkeys(v.gender for v in values))
    chosen = "T" if "T" in genders else (genders[0] if genders else "T")
    return [v for v in values if v.gender == chosen]


def source_note(values: Iterable[Comparison]) -> str:
    """'Källa: Kolada' for raw Kolada values only; derived values name their own source."""
    sources = list(dict.fromkeys(v.source for v in values))
    raw = [s for s in sources if s.strip().casefold() == "kolada"]
    other = [s for s in sources if s not in raw]
    parts = (["Källa: Kolada"] if raw else []) + other
    if raw and other:
        derived = sorted({v.municipality for v in values if not v.raw_kolada})
        parts = ["Källa: Kolada", f"{', '.join(derived)}: {'; '.join(other)}"]
    return ". ".join(parts)


def _period_year(data: CommitteeData) -> int:
    head = data.meta.period.split("-", 1)[0]
    return int(head) if head.isdigit() else data.meta.generated_at.year


def in_gender(values: Iterable[Comparison], gender: str | None) -> list[Comparison]:
    """The values of *gender* when there are any, else :func:`one_gender`'s choice."""
    values = list(values)
    own = [v for v in values if v.gender == gender]
    return own if own else one_gender(values)


def previous_value(data: CommitteeData, line: IndicatorLine) -> float | None:
    """The kommun's own Kolada value for the year before the period, when it was pulled (in the gender
    the line's series names: Kvinnor's row gets the women's value); else the plan's history value of that
    year when the indicator has this one line (the plan's figure is the indicator's, not one of several
    departments')."""
    year = _period_year(data) - 1
    if not line.kolada_id:
        same = [x for x in data.indicators if x.indicator_id == line.indicator_id and x.series == line.series]
        if len(same) != 1:
            return None
        return next((h.value for h in data.history if h.indicator_id == line.indicator_id and h.year == year
                     and (h.series or None) == (line.series or None)), None)
    values = in_gender((c for c in data.comparisons
                        if c.kolada_id == line.kolada_id and c.municipality_id == data.meta.municipality_id),
                       series_gender(line.series) if line.series else None)
    return next((c.value for c in values if c.year == year and c.value is not None), None)


def tick_text(value: float) -> str:
    """An axis tick in Swedish without float noise: '0,6', '1 200', '−5'."""
    text = f"{value:,.2f}".rstrip("0").rstrip(".").replace(",", " ").replace(".", ",")
    return text.replace("-", "\u2212") if text not in ("-0",) else "0"


def series_part(text: str, series: str | None) -> str:
    """The part of a per-series text ('Äldre 50 %, LSS 0 %') that belongs to *series*."""
    if not series:
        return text
    pieces = re.split(r",\s+(?=\D)|;| och ", text)  # not at a decimal comma
    own = [p for p in pieces if series.casefold() in p.casefold()]
    return own[0] if len(own) == 1 else text


def text_numbers(text: str) -> list[float]:
    """The numbers in a text, years left out; '- 4,4' (a spaced hyphen before the number) is negative."""
    out = []
    for m in re.finditer(NUMBER_PATTERN, text):
        if _is_year(m.group(0)):
            continue
        value = number_from_match(m)
        if value > 0 and re.search(r"(^|\s)[-−]\s*$", text[:m.start()]):
            value = -value
        out.append(value)
    return out


def baseline_number(line: IndicatorLine) -> float | None:
    """The line's baseline as a number: the one number in its series' part of the baseline text."""
    if not line.baseline:
        return None
    found = text_numbers(series_part(line.baseline, line.series))
    return found[0] if len(found) == 1 else None


_baseline_number = baseline_number


def baseline_year(line: IndicatorLine) -> int | None:
    """The year of the line's baseline: one written in its text ('74 % (2022)') over the Nulägesår column."""
    if line.baseline:
        years = {int(y) for y in re.findall(r"\b(?:19|20)\d\d\b", series_part(line.baseline, line.series))}
        if len(years) == 1:
            return years.pop()
    return line.baseline_year


@dataclass(frozen=True)
class _Trend:
    label: str
    points: tuple[tuple[int, float], ...]
    kind: str  # "utfall" (a department's line) or "jämförelse" (Kolada)
    gender: str | None = None  # T/K/M: a line of one gender (a series, or the kommun's Kolada value)


def _outcome_trends(lines: Sequence[IndicatorLine], year: int) -> list[_Trend]:
    """Baseline → this period per department and series; identical lines are drawn once."""
    by_points: dict[tuple[tuple[int, float], ...], list[IndicatorLine]] = {}
    for x in lines:
        points: list[tuple[int, float]] = []
        base, base_year = _baseline_number(x), baseline_year(x)
        if base is not None and base_year and base_year < year:
            points.append((base_year, base))
        if x.outcome is not None:
            points.append((year, x.outcome))
        if points:
            by_points.setdefault(tuple(points), []).append(x)
    trends = []
    for key, group in by_points.items():
        series = list(dict.fromkeys(x.series for x in group if x.series))
        departments = list(dict.fromkeys(x.department for x in group))
        if len(departments) > 2:
            label = (", ".join(series) + " – " if series else "") + f"{len(departments)} avdelningar"
        elif len(departments) == 2:
            label = " och ".join(departments) + (f", {', '.join(series)}" if series else "")
        else:
            label = departments[0] + (f", {', '.join(series)}" if series else "")
        genders = {series_gender(x.series) if x.series else None for x in group}
        trends.append(_Trend(label, key, "utfall", genders.pop() if len(genders) == 1 else None))
    return trends


def _history_trends(data: CommitteeData, lines: Sequence[IndicatorLine], year: int) -> list[_Trend]:
    """The plan's earlier years (*Utfall 2021* …) per series, up to the year before the period."""
    ids = list(dict.fromkeys(x.indicator_id for x in lines))
    trends = []
    for series in dict.fromkeys(x.series for x in lines):
        points = tuple(sorted((h.year, float(h.value)) for h in data.history if h.indicator_id in ids
                              and (h.series or None) == (series or None) and h.value is not None and h.year < year))
        if points:
            trends.append(_Trend("Tidigare år (planen)" + (f", {series}" if series else ""), points, "historik"))
    return trends


def _line_genders(lines: Sequence[IndicatorLine]) -> list[str]:
    """The Kolada genders the lines' series name (``Kvinnor`` -> ``K``), in the lines' order."""
    return [g for g in dict.fromkeys(series_gender(x.series) for x in lines if x.series) if g is not None]


def _unit_trend(values: Sequence[Comparison], label: str, gender: str | None = None) -> _Trend:
    points = tuple(sorted((v.year, float(v.value)) for v in values if v.value is not None))
    return _Trend(label + (" (Kolada)" if values[0].raw_kolada else ""), points, "jämförelse", gender)


def _comparison_trends(data: CommitteeData, kpi: str | None, lines: Sequence[IndicatorLine]) -> list[_Trend]:
    """The kommun, riket and similar municipalities over the years for *kpi* (Kolada's values).

    In the gender of the lines' series; when the series split the indicator by
    gender (Kvinnor/Män), the kommun has one line per gender and the other
    units their total."""
    if kpi is None:
        return []
    values = [c for c in data.comparisons if c.kolada_id == kpi and c.value is not None]
    genders = _line_genders(lines)
    home = data.meta.municipality_id
    by_unit = _by_unit(values)
    trends = []
    split = {"K", "M"} & set(genders)
    for unit in ordered_units(values, home):
        own = by_unit[unit]
        if split and unit == home:
            for g in genders:
                chosen = [v for v in own if v.gender == g]
                if chosen:
                    trends.append(_unit_trend(chosen, f"{chosen[0].municipality}, {GENDER_WORDS[g]}", g))
            continue
        chosen = ([v for v in own if v.gender == "T"] if split
                  else in_gender(own, genders[0] if len(genders) == 1 else None))
        if chosen:
            label = chosen[0].municipality + (", totalt" if split else "")
            trends.append(_unit_trend(chosen, label))
    return trends


def _alt_sentence(name: str, trends: Sequence[_Trend], target: float | None, unit: str | None,
                  genders: Sequence[str] = ()) -> str:
    shown_unit = None if unit and unit.strip().casefold() in ("antal", "st", "st.") else unit  # "1", not "1 antal"

    def value(v: float) -> str:
        return format_number(v, display_decimals(v), shown_unit)

    parts = [f"{t.label}: " + ", ".join(f"{y} {value(v)}" for y, v in t.points) for t in trends]
    split = ""
    if {"K", "M"} <= set(genders):
        words = [GENDER_WORDS[g] for g in genders]
        split = f"Uppdelat på kön ({', '.join(words[:-1])} och {words[-1]}), en linje per kön. "
    text = f"{' '.join(name.split()).rstrip('.')}. {split}" + "; ".join(parts)
    return text + (f"; målvärde {value(target)}." if target is not None else ".")


@dataclass(frozen=True)
class _Panel:
    indicator: str
    name: str
    trends: tuple[_Trend, ...]
    target: float | None
    unit: str | None
    genders: tuple[str, ...] = ()  # the Kolada genders the series name (("K", "M") when split by gender)


def _panel_parts(name: str, group: Sequence[IndicatorLine]) -> list[tuple[str, list[IndicatorLine], str | None]]:
    """(title, lines, KPI) per panel of one indicator: one panel, or one per Kolada id when
    its series have different Kolada ids (each compared with its own KPI)."""
    kolada = list(dict.fromkeys(x.kolada_id for x in group if x.kolada_id))
    if len(kolada) <= 1:
        return [(name, list(group), kolada[0] if kolada else None)]
    parts: list[tuple[str, list[IndicatorLine], str | None]] = []
    for kpi in [*kolada, None]:
        lines = [x for x in group if x.kolada_id == kpi]
        if lines:
            series = list(dict.fromkeys(x.series for x in lines if x.series))
            parts.append((f"{name} – {', '.join(series)}" if series else name, lines, kpi))
    return parts


def _panels(data: CommitteeData, lines: Sequence[IndicatorLine], year: int) -> list[_Panel]:
    panels = []
    for name in dict.fromkeys(x.indicator for x in lines):
        for title, group, kpi in _panel_parts(name, [x for x in lines if x.indicator == name]):
            trends = (_outcome_trends(group, year) + _history_trends(data, group, year)
                      + _comparison_trends(data, kpi, group))
            trends = [t for t in trends if t.points]
            if not any(len(t.points) >= 2 for t in trends):
                continue
            targets = {target_number(x) for x in group if not is_text_target(x)} - {None}
            unit = next((x.unit for x in group if x.unit), None)
            panels.append(_Panel(name, title, tuple(trends[:MAX_LINES]), targets.pop() if len(targets) == 1 else None,
                                 unit, tuple(_line_genders(group))))
    return panels


def goal_trend_chart(data: CommitteeData, goal: GoalSummary, path: Path) -> Chart | None:
    """Small multiples for one goal: per indicator, baseline → this period per department and series,
    the kommun beside riket and similar municipalities (Kolada) over the years, the target as a line.
    An indicator whose series have different Kolada ids gets a panel per id, each with its own
    comparisons; one split by gender (Kvinnor/Män) a line per gender.
    Indicators with no line of at least two points get no panel (no one-point charts)."""
    year = _period_year(data)
    lines = [x for x in data.indicators if x.goal_id == goal.goal_id]
    panels = _panels(data, lines, year)
    if not panels:
        return None
    cols = 1 if len(panels) == 1 else 2
    width = 3.6 if cols == 1 else WIDTH_IN
    with matplotlib.rc_context(RC):
        fig = _panel_grid([(p.name, p.trends, p.target, p.unit) for p in panels], cols, width)
        _save(fig, path)
    per = "en ruta per indikator" + (", och per nyckeltal där seriernas Kolada-id skiljer sig"
                                     if len({p.indicator for p in panels}) < len(panels) else "")
    alt = f"Diagram för mål {goal.goal_id}, {per}. " + " ".join(
        _alt_sentence(p.name, p.trends, p.target, p.unit, p.genders) for p in panels)
    kpis = {x.kolada_id for x in lines if x.kolada_id}
    shown = [c for c in data.comparisons if c.kolada_id in kpis and c.value is not None]
    sources = [source_note(one_gender(shown))] if any(t.kind == "jämförelse" for p in panels for t in p.trends) else []
    what = per if len(panels) > 1 else " ".join(panels[0].name.split()).rstrip(".")
    return Chart(path, f"Mål {goal.goal_id}: utveckling från nuläget till {data.meta.period_label} ({what}).",
                 "; ".join(sources) or None, width_cm=width * 2.54, alt_text=alt)


# Panel geometry in inches: a fixed layout (no per-figure layout solving), computed from the
# number of title and legend lines, so titles and legends are never clipped nor overlap.
_AXES_H, _TICKS_H, _TITLE_LINE, _LEGEND_LINE, _LEFT, _GAP, _RIGHT = 1.0, 0.28, 0.14, 0.145, 0.55, 0.55, 0.1
_TITLE_WRAP, _LABEL_WRAP = 44, 34


def _legend_lines(trends: Sequence[_Trend], target: float | None) -> int:
    return sum(wrap(t.label, _LABEL_WRAP).count("\n") + 1 for t in trends) + (target is not None)


def _panel_grid(panels: Sequence[tuple[str, Sequence[_Trend], float | None, str | None]], cols: int,
                width: float) -> Figure:
    rows = [panels[i:i + cols] for i in range(0, len(panels), cols)]
    geometry = []
    for row in rows:
        title = max((wrap(p[0], _TITLE_WRAP).count("\n") + 1) * _TITLE_LINE + 0.08 for p in row)
        legend = max(_legend_lines(p[1], p[2]) * _LEGEND_LINE + 0.08 for p in row)
        geometry.append((title, legend))
    height = sum(t + _AXES_H + _TICKS_H + lg for t, lg in geometry) + 0.05
    fig = Figure(figsize=(width, height))
    panel_w = (width - _LEFT - _RIGHT - _GAP * (cols - 1)) / cols
    top = height - 0.05
    for row, (title_h, legend_h) in zip(rows, geometry):
        bottom = top - title_h - _AXES_H
        for c, (name, trends, target, unit) in enumerate(row):
            left = _LEFT + c * (panel_w + _GAP)
            ax = fig.add_axes((left / width, bottom / height, panel_w / width, _AXES_H / height))
            _draw_panel(ax, name, trends, target, unit)
            ax.legend(loc="upper left", bbox_to_anchor=((left - 0.3) / width, (bottom - _TICKS_H) / height),
                      bbox_transform=fig.transFigure, fontsize=6.5, frameon=False, ncol=1, borderaxespad=0,
                      handlelength=2.2)
        top = bottom - _TICKS_H - legend_h
    return fig


def _line_styles(trends: Sequence[_Trend]) -> list[tuple[str, str, LineStyle, float]]:
    """(colour, marker, line style, width) per trend.  A panel split by gender draws each gender
    in its own colour and marker (outcomes solid and thick, Kolada's values dashed), the other
    units in grey; otherwise each line takes the next of :data:`SERIES_STYLES`."""
    if not any(t.gender in ("K", "M") for t in trends):
        out = []
        for i, t in enumerate(trends):
            colour, marker, style, lw, _h = SERIES_STYLES[i % len(SERIES_STYLES)]
            out.append((colour, marker, style, lw if t.kind == "utfall" else 1.2))
        return out
    seen: dict[str | None, int] = {}
    others = iter(OTHER_UNIT_STYLES * 3)
    styles: list[tuple[str, str, LineStyle, float]] = []
    for t in trends:
        if t.gender is None:
            colour, marker, style = next(others)
            styles.append((colour, marker, style, 1.2))
            continue
        n = seen[t.gender] = seen.get(t.gender, -1) + 1
        colour, marker = GENDER_STYLES[t.gender]
        solid: LineStyle = ("-", "-.", (0, (5, 1, 1, 1, 1, 1)))[n % 3] if t.kind == "utfall" else (":" if n > 1 else "--")
        styles.append((colour, marker, solid, 2.2 if t.kind == "utfall" else 1.3))
    return styles


def _draw_panel(ax: Axes, name: str, trends: Sequence[_Trend], target: float | None, unit: str | None) -> None:
    own = [t for t in trends if t.kind == "utfall"]
    other = [t for t in trends if t.kind != "utfall"]
    ordered = own + other
    for t, (colour, marker, style, lw) in zip(ordered, _line_styles(ordered)):
        xs, ys = zip(*t.points)
        ax.plot(xs, ys, color=colour, marker=marker, linestyle=style, linewidth=lw,
                markersize=4, label=wrap(t.label, _LABEL_WRAP))
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=1.2, label="Målvärde")
    years = sorted({y for t in trends for y, _v in t.points})
    ax.set_xticks(years, [str(y) for y in years])
    if len(years) == 1:
        ax.set_xlim(years[0] - 1, years[0] + 1)
    ax.margins(y=0.12)  # no marker cut in half by the frame
    values = [v for t in trends for _y, v in t.points] + ([target] if target is not None else [])
    if values and all(float(v).is_integer() for v in values):  # counts: whole-number ticks, no '1,04'
        low, high = min(values), max(values)
        if high - low < 4:
            pad = (4 - (high - low)) / 2
            low, high = low - pad, high + pad
            if min(values) >= 0 > low:
                low, high = 0, high - low
            ax.set_ylim(low, high)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=5, integer=True))
    ax.yaxis.set_major_formatter(lambda v, _pos: tick_text(v))
    ax.grid(axis="y", linewidth=0.4, color="#BBBBBB")
    ax.set_title(wrap(name, _TITLE_WRAP), loc="left", fontsize=7.5)
    if unit:
        ax.set_ylabel(unit, fontsize=7.5)
    ax.tick_params(labelsize=7)


def economy_chart(data: CommitteeData, path: Path) -> Chart | None:
    """Net cost per department: budget beside full-year forecast (tkr), for departments with a forecast.

    Drawn as net cost (costs minus income, positive), the way a committee speaks of it; the forecast bar
    is hatched so the pair reads in grey-scale print too."""
    from xlplan.books.committee import department_totals

    deps = [d for d in department_totals(data.economy) if d.forecast is not None and d.budget is not None]
    if not deps:
        return None
    names = [wrap(d.department, 26) for d in deps]
    budget = [-(d.budget or 0.0) for d in deps]
    forecast = [-(d.forecast or 0.0) for d in deps]
    height = 0.9 + 0.42 * len(deps) + 0.2 * sum(n.count("\n") for n in names)
    with matplotlib.rc_context(RC):
        fig = Figure(figsize=(WIDTH_IN, height))
        ax = fig.add_axes((0.3, 0.9 / height * 0.9, 0.66, 1 - 1.1 / height))
        ys = list(range(len(deps)))
        ax.barh([y - 0.2 for y in ys], budget, height=0.38, color="#BDBDBD", edgecolor="#4D4D4D", label="Budget")
        ax.barh([y + 0.2 for y in ys], forecast, height=0.38, color="#9ECAE1", edgecolor="#08306B",
                hatch="///", label="Prognos helår")
        ax.set_yticks(ys, names)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _p: format_number(v, 0)))
        ax.set_xlabel("Nettokostnad, tkr")
        ax.legend(loc="lower right", frameon=False)
        _save(fig, path)
    alt = "Stapeldiagram, nettokostnad per avdelning i tkr, budget och helårsprognos. " + " ".join(
        f"{' '.join(d.department.split())}: budget {format_number(b, 0)}, prognos {format_number(f, 0)}."
        for d, b, f in zip(deps, budget, forecast))
    return Chart(path, f"Nettokostnad per avdelning: budget och helårsprognos, {data.meta.period_label} (tkr).",
                 "Källa: avdelningarnas prognoser och planens budget.", alt_text=alt)


@dataclass(frozen=True)
class ReportCharts:
    goal_trends: dict[str, Chart] = field(default_factory=dict)  # goal id -> small multiples
    economy: Chart | None = None  # budget and forecast per department


def report_charts(data: CommitteeData, folder: Path) -> ReportCharts:
    """Draw every chart the report shows into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    trends: dict[str, Chart] = {}
    for n, goal in enumerate(data.goals, start=1):
        chart = goal_trend_chart(data, goal, folder / f"mal_{n:03d}.png")
        if chart:
            trends[goal.goal_id] = chart
    return ReportCharts(trends, economy_chart(data, folder / "ekonomi.png"))
