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
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from xlplan.committee import (
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
from xlplan.numbers import NUMBER_PATTERN, display_decimals, format_number, number_from_match
from xlplan.status import Status

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
    MANUAL: "\\\\\\", REPORTED: "+++",
}
# (face colour, hatch) per status; the colour is the status's own (xlplan.status).
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
)


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


def previous_value(data: CommitteeData, line: IndicatorLine) -> float | None:
    """The kommun's own Kolada value for the year before the period, when it was pulled."""
    if not line.kolada_id:
        return None
    year = _period_year(data) - 1
    values = one_gender(c for c in data.comparisons
                        if c.kolada_id == line.kolada_id and c.municipality_id == data.meta.municipality_id)
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


@dataclass(frozen=True)
class _Trend:
    label: str
    points: tuple[tuple[int, float], ...]
    kind: str  # "utfall" (a department's line) or "jämförelse" (Kolada)


def _outcome_trends(lines: Sequence[IndicatorLine], year: int) -> list[_Trend]:
    """Baseline → this period per department and series; identical lines are drawn once."""
    by_points: dict[tuple[tuple[int, float], ...], list[IndicatorLine]] = {}
    for x in lines:
        points: list[tuple[int, float]] = []
        base = _baseline_number(x)
        if base is not None and x.baseline_year and x.baseline_year < year:
            points.append((x.baseline_year, base))
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
        trends.append(_Trend(label, key, "utfall"))
    return trends


def _comparison_trends(data: CommitteeData, kolada_ids: Sequence[str]) -> list[_Trend]:
    values = [c for c in data.comparisons if c.kolada_id in kolada_ids and c.value is not None]
    if len(set(kolada_ids)) != 1:
        return []
    values = one_gender(values)
    by_unit = _by_unit(values)
    trends = []
    for unit in ordered_units(values, data.meta.municipality_id):
        points = tuple(sorted((v.year, float(v.value)) for v in by_unit[unit] if v.value is not None))
        first = by_unit[unit][0]
        trends.append(_Trend(first.municipality + (" (Kolada)" if first.raw_kolada else ""), points, "jämförelse"))
    return trends


def _alt_sentence(name: str, trends: Sequence[_Trend], target: float | None, unit: str | None) -> str:
    def value(v: float) -> str:
        return format_number(v, display_decimals(v), unit)

    parts = [f"{t.label}: " + ", ".join(f"{y} {value(v)}" for y, v in t.points) for t in trends]
    text = f"{' '.join(name.split())}. " + "; ".join(parts)
    return text + (f"; målvärde {value(target)}." if target is not None else ".")


def goal_trend_chart(data: CommitteeData, goal: GoalSummary, path: Path) -> Chart | None:
    """Small multiples for one goal: per indicator, baseline → this period per department and series,
    the kommun beside riket and similar municipalities (Kolada) over the years, the target as a line.
    Indicators with no line of at least two points get no panel (no one-point charts)."""
    year = _period_year(data)
    lines = [x for x in data.indicators if x.goal_id == goal.goal_id]
    panels = []
    for name in dict.fromkeys(x.indicator for x in lines):
        group = [x for x in lines if x.indicator == name]
        kolada = list(dict.fromkeys(x.kolada_id for x in group if x.kolada_id))
        trends = _outcome_trends(group, year) + _comparison_trends(data, kolada)
        trends = [t for t in trends if t.points]
        if not any(len(t.points) >= 2 for t in trends):
            continue
        targets = {target_number(x) for x in group if not is_text_target(x)} - {None}
        unit = next((x.unit for x in group if x.unit), None)
        panels.append((name, trends[:6], targets.pop() if len(targets) == 1 else None, unit))
    if not panels:
        return None
    cols = 1 if len(panels) == 1 else 2
    width = 3.6 if cols == 1 else WIDTH_IN
    with matplotlib.rc_context(RC):
        fig = _panel_grid(panels, cols, width)
        _save(fig, path)
    alt = f"Diagram för mål {goal.goal_id}, en ruta per indikator. " + " ".join(
        _alt_sentence(*p) for p in panels)
    kpis = {x.kolada_id for x in lines if x.kolada_id}
    shown = [c for c in data.comparisons if c.kolada_id in kpis and c.value is not None]
    sources = [source_note(one_gender(shown))] if any(t.kind == "jämförelse" for p in panels for t in p[1]) else []
    what = "en ruta per indikator" if len(panels) > 1 else " ".join(panels[0][0].split()).rstrip(".")
    return Chart(path, f"Mål {goal.goal_id}: utveckling från nuläget till {data.meta.period_label} ({what}).",
                 "; ".join(sources) or None, width_cm=width * 2.54, alt_text=alt)


# Panel geometry in inches: a fixed layout (no per-figure layout solving), computed from the
# number of title and legend lines, so titles and legends are never clipped nor overlap.
_AXES_H, _TICKS_H, _TITLE_LINE, _LEGEND_LINE, _LEFT, _GAP, _RIGHT = 1.2, 0.3, 0.14, 0.165, 0.55, 0.55, 0.1
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


def _draw_panel(ax: Axes, name: str, trends: Sequence[_Trend], target: float | None, unit: str | None) -> None:
    own = [t for t in trends if t.kind == "utfall"]
    other = [t for t in trends if t.kind != "utfall"]
    for i, t in enumerate(own + other):
        colour, marker, style, lw, _h = SERIES_STYLES[i % len(SERIES_STYLES)]
        xs, ys = zip(*t.points)
        ax.plot(xs, ys, color=colour, marker=marker, linestyle=style, linewidth=lw if t.kind == "utfall" else 1.2,
                markersize=4, label=wrap(t.label, _LABEL_WRAP))
    if target is not None:
        ax.axhline(target, color="black", linestyle="--", linewidth=1.2, label="Målvärde")
    years = sorted({y for t in trends for y, _v in t.points})
    ax.set_xticks(years, [str(y) for y in years])
    if len(years) == 1:
        ax.set_xlim(years[0] - 1, years[0] + 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: tick_text(v))
    ax.grid(axis="y", linewidth=0.4, color="#BBBBBB")
    ax.set_title(wrap(name, _TITLE_WRAP), loc="left", fontsize=7.5)
    if unit:
        ax.set_ylabel(unit, fontsize=7.5)
    ax.tick_params(labelsize=7)


@dataclass(frozen=True)
class ReportCharts:
    goal_trends: dict[str, Chart] = field(default_factory=dict)  # goal id -> small multiples


def report_charts(data: CommitteeData, folder: Path) -> ReportCharts:
    """Draw every chart the report shows into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    trends: dict[str, Chart] = {}
    for n, goal in enumerate(data.goals, start=1):
        chart = goal_trend_chart(data, goal, folder / f"mal_{n:03d}.png")
        if chart:
            trends[goal.goal_id] = chart
    return ReportCharts(trends)
