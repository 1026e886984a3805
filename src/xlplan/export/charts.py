"""Charts for the board pack (matplotlib, Agg canvas, PNG at 150 dpi, DejaVu Sans).

Every chart reads in grey-scale print: statuses differ by hatch as well as
colour, comparison lines by marker and line style.  Figures are drawn on their
own Agg canvas (no pyplot, no global backend switch).
"""

from __future__ import annotations

import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import matplotlib
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch

from xlplan.committee import (
    FULFILLED,
    MANUAL,
    NOT_FULFILLED,
    OUTCOME_MISSING,
    PARTLY,
    STATUSES,
    TARGET_MISSING,
    CommitteeData,
    Comparison,
    GoalSummary,
    IndicatorLine,
)
from xlplan.numbers import NUMBER_PATTERN, display_decimals, format_number, number_from_match

DPI = 150
WIDTH_IN = 6.3  # fits a 16 cm text column
RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "axes.titlesize": 9.5,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
    "svg.fonttype": "none",
}
# (face colour, hatch) per status: distinct in colour and in grey-scale.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    FULFILLED: ("#5AAE61", ""),
    PARTLY: ("#F1C232", "///"),
    NOT_FULFILLED: ("#D6604D", "xxx"),
    OUTCOME_MISSING: ("#D9D9D9", "..."),
    TARGET_MISSING: ("#BDBDBD", "---"),
    MANUAL: ("#92C5DE", "\\\\\\"),
}
# Comparison series: (colour, marker, line style, line width, hatch).
SERIES_STYLES: tuple[tuple[str, str, str, float, str], ...] = (
    ("#08306B", "o", "-", 2.4, ""),
    ("#6A6A6A", "s", "--", 1.5, "///"),
    ("#C2571A", "^", ":", 1.7, "xxx"),
    ("#41AB5D", "D", "-.", 1.5, "..."),
    ("#807DBA", "v", (0, (5, 1, 1, 1, 1, 1)), 1.5, "\\\\\\"),  # type: ignore[dict-item]
    ("#8C6D31", "P", (0, (1, 1)), 1.5, "+++"),  # type: ignore[dict-item]
)


@dataclass(frozen=True)
class Chart:
    path: Path
    caption: str
    source: str | None = None  # "Källa: Kolada" … shown under the chart
    width_cm: float = WIDTH_IN * 2.54  # as drawn: embed at this width so text keeps its size


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


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", text.strip()))


def _save(fig: Figure, path: Path) -> Path:
    FigureCanvasAgg(fig)
    fig.savefig(path, dpi=DPI, format="png", metadata={"Software": None})
    return path


def _new_figure(height: float, width: float = WIDTH_IN) -> tuple[Figure, Axes]:
    fig = Figure(figsize=(width, height), layout="constrained")
    return fig, fig.add_subplot()


def bar_label(line: IndicatorLine) -> str:
    parts = [line.department]
    if line.series:
        parts.append(line.series)
    return wrap(", ".join(parts), 18)


def outcome_chart(lines: Sequence[IndicatorLine], path: Path) -> Chart | None:
    """Outcome against target per department/series for one indicator (bars + target marks)."""
    lines = [x for x in lines if x.outcome is not None or target_number(x) is not None]
    if not any(x.outcome is not None for x in lines):
        return None
    width = min(WIDTH_IN, 2.6 + 1.25 * len(lines))
    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(2.6, width)
        _draw_outcomes(ax, lines)
        ax.set_title(wrap(lines[0].indicator, int(width * 11)), loc="left")
        _save(fig, path)
    first = lines[0]
    what = "avdelning och serie" if any(x.series for x in lines) else "avdelning"
    return Chart(path, f"{first.indicator}: utfall mot målvärde per {what}.", width_cm=width * 2.54)


def _draw_outcomes(ax: Axes, lines: Sequence[IndicatorLine]) -> None:
    xs = range(len(lines))
    unit = next((x.unit for x in lines if x.unit), None)
    for x, line in zip(xs, lines):
        colour, hatch = STATUS_STYLE.get(line.status, ("#D9D9D9", ""))
        value = line.outcome if line.outcome is not None else 0
        ax.bar(x, value, 0.6, color=colour, hatch=hatch, edgecolor="black", linewidth=0.7)
        label = (format_number(line.outcome, display_decimals(line.outcome), unit)
                 if line.outcome is not None else "utfall saknas")
        ax.annotate(label, (x, value), xytext=(0, 3), textcoords="offset points", ha="center", va="bottom",
                    bbox={"boxstyle": "square,pad=0.15", "facecolor": "white", "edgecolor": "none"})
        target = target_number(line)
        if target is not None:
            ax.hlines(target, x - 0.42, x + 0.42, colors="black", linestyles="--", linewidth=2)
    ax.set_xticks(list(xs), [bar_label(x) for x in lines])
    ax.set_xlim(-0.7, len(lines) - 0.3)
    ax.set_ylabel(unit or "värde")
    top = max([x.outcome or 0 for x in lines] + [target_number(x) or 0 for x in lines])
    ax.set_ylim(0, top * 1.18 if top > 0 else 1)
    ax.yaxis.set_major_formatter(lambda v, _pos: format_number(v))
    handles = [Line2D([], [], color="black", linestyle="--", linewidth=2, label="Målvärde")]
    seen = list(dict.fromkeys(x.status for x in lines if x.outcome is not None))
    handles += [_status_patch(s) for s in seen]
    ax.figure.legend(handles=handles, loc="outside lower center", ncol=min(len(handles), 4), frameon=False)


def _status_patch(status: str) -> Patch:
    colour, hatch = STATUS_STYLE.get(status, ("#D9D9D9", ""))
    return Patch(facecolor=colour, hatch=hatch, edgecolor="black", label=status)


def goal_summary_chart(goals: Sequence[GoalSummary], path: Path) -> Chart | None:
    """Stacked bars: how many indicator lines of each goal have each status."""
    if not goals or not any(sum(g.counts().values()) for g in goals):
        return None
    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(1.3 + 0.32 * len(goals))
        names = [g.goal_id for g in goals][::-1]  # the goals' texts stand beside the chart in the report
        left = [0] * len(goals)
        for status in STATUSES:
            counts = [g.counts()[status] for g in goals][::-1]
            if not any(counts):
                continue
            colour, hatch = STATUS_STYLE[status]
            ax.barh(names, counts, left=left, color=colour, hatch=hatch, edgecolor="black",
                    linewidth=0.7, label=status)
            left = [a + b for a, b in zip(left, counts)]
        ax.set_xlabel("antal indikatorer (per avdelning och serie)")
        ax.xaxis.get_major_locator().set_params(integer=True)
        fig.legend(loc="outside lower center", ncol=3, frameon=False)
        _save(fig, path)
    return Chart(path, "Måluppfyllelse per mål: antal indikatorer per status.")


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


def trend_chart(values: Sequence[Comparison], home_id: str, path: Path) -> Chart | None:
    """The KPI over the years: the municipality beside riket and the comparison groups."""
    values = [v for v in one_gender(values) if v.value is not None]
    if len({v.year for v in values}) < 2:
        return None
    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(3.0)
        by_unit = _by_unit(values)
        for i, unit in enumerate(ordered_units(values, home_id)):
            colour, marker, style, width, _hatch = SERIES_STYLES[i % len(SERIES_STYLES)]
            points = sorted(by_unit[unit], key=lambda v: v.year)
            ax.plot([p.year for p in points], [p.value for p in points], color=colour, marker=marker,
                    linestyle=style, linewidth=width, markersize=5, label=points[0].municipality)
        years = sorted({v.year for v in values})
        ax.set_xticks(years, [str(y) for y in years])
        ax.yaxis.set_major_formatter(lambda v, _pos: format_number(v))
        ax.set_title("Utveckling över tid", loc="left")
        ax.grid(axis="y", linewidth=0.4, color="#BBBBBB")
        count = len(by_unit)
        fig.legend(loc="outside lower center", ncol=min(count, 3), frameon=False)
        _save(fig, path)
    title = " ".join(values[0].kpi_title.split())
    return Chart(path, f"{title} ({values[0].kolada_id}) över tid{_gender_word(values)}.", source_note(values))


def comparison_chart(values: Sequence[Comparison], home_id: str, path: Path) -> Chart | None:
    """The latest year: the municipality beside riket and the comparison groups (bars)."""
    values = [v for v in one_gender(values) if v.value is not None]
    if not values:
        return None
    year = max(v.year for v in values)
    latest = {v.municipality_id: v for v in values if v.year == year}
    units = [u for u in ordered_units(values, home_id) if u in latest]
    with matplotlib.rc_context(RC):
        fig, ax = _new_figure(1.0 + 0.38 * len(units))
        for i, unit in enumerate(units):
            colour, _m, _s, _w, hatch = SERIES_STYLES[i % len(SERIES_STYLES)]
            v = latest[unit]
            ax.barh(i, v.value, 0.6, color=colour, hatch=hatch, edgecolor="black", linewidth=0.7)
            ax.annotate(format_number(v.value, display_decimals(v.value or 0)), (v.value or 0, i), xytext=(3, 0), textcoords="offset points",
                        va="center")
        ax.set_yticks(range(len(units)), [wrap(latest[u].municipality, 26) for u in units])
        ax.invert_yaxis()
        ax.set_xlim(0, max(latest[u].value or 0 for u in units) * 1.15 or 1)
        ax.xaxis.set_major_formatter(lambda v, _pos: format_number(v))
        ax.set_title(f"Jämförelse {year}", loc="left")
        _save(fig, path)
    title = " ".join(values[0].kpi_title.split())
    return Chart(path, f"{title} ({values[0].kolada_id}) {year}{_gender_word(values)}: jämförelse.",
                 source_note([latest[u] for u in units]))


@dataclass(frozen=True)
class ReportCharts:
    goals: Chart | None = None
    indicators: dict[str, Chart] = field(default_factory=dict)  # indicator id -> chart
    comparisons: dict[str, list[Chart]] = field(default_factory=dict)  # Kolada id -> charts


def report_charts(data: CommitteeData, folder: Path) -> ReportCharts:
    """Draw every chart the report shows into *folder*."""
    folder.mkdir(parents=True, exist_ok=True)
    indicators: dict[str, Chart] = {}
    for n, ind_id in enumerate(dict.fromkeys(x.indicator_id for x in data.indicators), start=1):
        lines = [x for x in data.indicators if x.indicator_id == ind_id]
        chart = outcome_chart(lines, folder / f"indikator_{n:03d}.png")
        if chart:
            indicators[ind_id] = chart
    comparisons: dict[str, list[Chart]] = {}
    home = data.meta.municipality_id
    for n, kpi in enumerate(dict.fromkeys(c.kolada_id for c in data.comparisons), start=1):
        values = [c for c in data.comparisons if c.kolada_id == kpi]
        made = [trend_chart(values, home, folder / f"trend_{n:03d}.png"),
                comparison_chart(values, home, folder / f"jamforelse_{n:03d}.png")]
        comparisons[kpi] = [c for c in made if c is not None]
    return ReportCharts(goal_summary_chart(data.goals, folder / "maluppfyllelse.png"), indicators, comparisons)


def _gender_word(values: Sequence[Comparison]) -> str:
    gender = values[0].gender if values else "T"
    return {"T": ", totalt", "K": ", kvinnor", "M": ", män"}.get(gender, "")
