"""Charts of the dashboard and the pilot page: matplotlib's ``Figure`` API, SVG, cached by the data shown.

No pyplot: a ``Figure`` is a plain object, so a web request never touches global figure
state. Each chart is keyed by a hash of exactly the data it draws, so it is drawn once and
served from the cache until that data changes; a change of look bumps ``STYLE_VERSION``.
Text stays text in the SVG (selectable, crisp, and checkable by tests).
"""

from __future__ import annotations

import hashlib
import io
import logging
import math
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib
from django.core.cache import cache
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from matplotlib import rcParams
from matplotlib.axes import Axes
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.textpath import text_to_path
from matplotlib.ticker import FuncFormatter, MaxNLocator

from portfolio.dashboard import Funnel, PhaseTime, WeekFlags
from portfolio.models import Comparator, Direction, Source
from portfolio.templatetags.portfolio_format import day, number

if TYPE_CHECKING:
    from portfolio.selectors_dashboard import KpiSeries

logger = logging.getLogger(__name__)

STYLE_VERSION = "7"
CACHE_SECONDS = 7 * 24 * 3600

# The palette of static/css/app.css, so a chart and the badges beside it agree.
TEXT = "#1f2328"
MUTED = "#59636e"
GRID = "#e6eaef"
ACCENT = "#1f5fbf"
PHASE_COLOURS = {"poc": "#4f46e5", "pilot": "#0284c7", "production": "#16a34a", "scaled": "#0d9488"}
WENT_ON = "#2da44e"
STILL_THERE = "#6e9fe0"
KILLED = "#57606a"
CRITICAL = "#cf222e"
WARNING = "#d4a72c"
BASELINE = "#59636e"
TARGET = "#1a7f37"
KILL_LINE = "#a40e26"

_STYLE = {
    "svg.fonttype": "none",
    # Stable ids in the SVG: the same data gives the same bytes.
    "svg.hashsalt": "pilot-portfolio",
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans", "Verdana", "Arial", "Liberation Sans"],
    "font.size": 10,
    # KPI names are user text: a "$" must stay a dollar, not start mathtext.
    "text.parse_math": False,
    "text.color": TEXT,
    "axes.edgecolor": "#d1d9e0",
    "axes.labelcolor": MUTED,
    "xtick.color": MUTED,
    "ytick.color": MUTED,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.S)
# rcParams are process-wide and matplotlib's renderers are not thread-safe; a threaded
# server draws one chart at a time (a cache miss is rare, a cache hit never draws).
_draw_lock = threading.Lock()


@dataclass(frozen=True)
class Chart:
    svg: bytes
    digest: str


def digest(kind: str, data: Any) -> str:
    """A hash of the chart's kind, look and data: the cache key and the ETag.

    ``data`` is frozen dataclasses, lists, tuples, numbers, strings and dates, whose repr is
    exact and stable, so it stands for the data (and is many times faster than JSON).
    """
    return hashlib.sha256(f"{kind}|{STYLE_VERSION}|{data!r}".encode()).hexdigest()[:32]


def _svg(figure: Figure, prefix: str = "") -> bytes:
    """The figure as an SVG element ready to stand alone or sit in a page beside other charts.

    No XML prologue or metadata, and every id (clip paths, markers) carries ``prefix`` so
    several charts can share a page. Done once, when the chart is drawn, not on every view.
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="svg", metadata={"Date": None})
    text = buffer.getvalue().decode()
    text = _METADATA.sub("", text[text.index("<svg") :], count=1)
    text = text.replace(' id="', f' id="{prefix}').replace('="url(#', f'="url(#{prefix}')
    text = text.replace('xlink:href="#', f'xlink:href="#{prefix}')
    return text.encode()


def _lookup(wanted: Sequence[tuple[str, Any]]) -> list[tuple[str, str, bytes | None]]:
    """Each (kind, data) as its digest, its cache key and its SVG if drawn: one cache round trip.

    A broken cache finds nothing.
    """
    keys = [digest(kind, data) for kind, data in wanted]
    cache_keys = [f"chart:{kind}:{key}" for (kind, _), key in zip(wanted, keys, strict=True)]
    try:
        found = cache.get_many(cache_keys)
    except Exception:
        logger.warning("Chart cache unavailable; drawing every chart", exc_info=True)
        found = {}
    return [(key, cache_key, found.get(cache_key)) for key, cache_key in zip(keys, cache_keys, strict=True)]


def in_cache(wanted: Sequence[tuple[str, Any]]) -> list[Chart | None]:
    """Each (kind, data) as the chart already drawn, or None; nothing is drawn."""
    return [Chart(svg=svg, digest=key) if svg else None for key, _, svg in _lookup(wanted)]


def cached_many(wanted: Sequence[tuple[str, Any, Callable[[Any], Figure]]]) -> list[Chart]:
    """Each (kind, data, draw) as a chart: one cache round trip for all, drawing only the missing.

    A broken cache costs a redraw, never an error.
    """
    looked_up = _lookup([(kind, data) for kind, data, _ in wanted])
    drawn: dict[str, bytes] = {}
    for (_, data, draw), (_, cache_key, svg) in zip(wanted, looked_up, strict=True):
        if svg is None and cache_key not in drawn:
            with _draw_lock, matplotlib.rc_context(_STYLE):
                drawn[cache_key] = _svg(draw(data), prefix=f"c{cache_key[-12:]}-")
    if drawn:
        try:
            cache.set_many(drawn, CACHE_SECONDS)
        except Exception:
            logger.warning("Chart cache unavailable; charts not cached", exc_info=True)
    return [Chart(svg=svg or drawn[cache_key], digest=key) for key, cache_key, svg in looked_up]


def cached(kind: str, data: Any, draw: Callable[[Any], Figure]) -> Chart:
    """The chart of ``data``, from the cache or drawn now and cached."""
    return cached_many([(kind, data, draw)])[0]


def inline(chart: Chart, label: str) -> SafeString:
    """The chart as markup to put in a page, labelled for screen readers (CSS sizes it).

    The markup is matplotlib's, whose writer escapes every text it draws (KPI names are user
    text); nothing in it runs. The label is escaped here.
    """
    opening = format_html('<svg role="img" aria-label="{}" class="chart__svg"', label)
    return mark_safe(chart.svg.decode().replace("<svg", opening, 1))  # noqa: S308 - see above


def _figure(width: float, height: float) -> Figure:
    # Constrained layout makes room for whatever the labels need, user text included.
    return Figure(figsize=(width, height), dpi=100, facecolor="white", layout="constrained")


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _days(value: float | None) -> str:
    return "—" if value is None else _plural(round(value), "day")


# -- the phase funnel ---------------------------------------------------------------------------


def draw_funnel(funnel: Funnel) -> Figure:
    """One bar per phase of the pilots that entered it: went on, still there, killed."""
    figure = _figure(5.0, 2.5)
    ax = figure.add_subplot()
    stages = funnel.stages
    widest = max((stage.entered for stage in stages), default=0) or 1
    rows = list(range(len(stages)))[::-1]
    parts = (("went_on", "Went on", WENT_ON), ("still_there", "Still there", STILL_THERE), ("killed", "Killed", KILLED))
    for y, stage in zip(rows, stages, strict=True):
        left = 0
        for attr, _, colour in parts:
            width = getattr(stage, attr)
            if not width:
                continue
            ax.barh(y, width, left=left, height=0.62, color=colour, edgecolor="white", linewidth=1)
            if width / widest >= 0.07:
                ax.text(left + width / 2, y, str(width), ha="center", va="center", color="white", fontweight="bold")
            left += width
        summary = f"{stage.entered} entered"
        if stage.conversion is not None:
            summary += f" · {stage.conversion:.0%} went on"
        ax.text(stage.entered + widest * 0.02, y, summary, va="center", ha="left", color=MUTED, fontsize=9)
    ax.set_yticks(rows, labels=[stage.label for stage in stages])
    ax.tick_params(axis="y", length=0, labelsize=10, labelcolor=TEXT)
    # The counts are written on the bars, so no x axis: room for the labels instead.
    ax.set_xlim(0, widest * 1.75)
    ax.set_xticks([])
    for side in ("left", "bottom"):
        ax.spines[side].set_visible(False)
    ax.legend(
        handles=[Patch(color=colour, label=label) for _, label, colour in parts],
        loc="lower right",
        frameon=False,
        fontsize=9,
        ncols=3,
        bbox_to_anchor=(1.0, 1.0),
        borderaxespad=0.2,
    )
    return figure


def funnel_chart(funnel: Funnel) -> Chart:
    return cached("funnel", funnel, draw_funnel)


def funnel_alt(funnel: Funnel) -> str:
    parts = [f"{stage.label}: {stage.entered} entered" for stage in funnel.stages]
    text = "Phase funnel. " + "; ".join(parts) + "."
    if funnel.total:
        text += f" {funnel.reached_production} of {funnel.total} reached production."
    return text


# -- time in phase ------------------------------------------------------------------------------


def draw_time_in_phase(times: Sequence[PhaseTime]) -> Figure:
    """Median days in phase per phase as bars, the longest as a dot, the phase limit as a red mark."""
    figure = _figure(5.0, 2.5)
    ax = figure.add_subplot()
    rows = list(range(len(times)))[::-1]
    reach = max([t.longest_days or 0 for t in times] + [t.limit_days or 0 for t in times] + [1])
    for y, row in zip(rows, times, strict=True):
        colour = PHASE_COLOURS.get(row.phase, ACCENT)
        if row.pilots:
            ax.barh(y, row.median_days or 0, height=0.55, color=colour)
            ax.plot([row.median_days or 0, row.longest_days], [y, y], color=colour, linewidth=1.2, alpha=0.6)
            ax.plot(row.longest_days, y, "o", color=colour, markersize=6, markeredgecolor="white")
            right = max(row.longest_days or 0, row.limit_days or 0) + reach * 0.03
            label = f"median {round(row.median_days or 0)} · longest {row.longest_days}"
            if row.past_limit:
                ax.text(right, y + 0.16, label, va="center", color=MUTED, fontsize=8.5)
                ax.text(right, y - 0.2, f"{row.past_limit} past the limit", va="center", color=KILL_LINE, fontsize=8.5)
            else:
                ax.text(right, y, label, va="center", color=MUTED, fontsize=8.5)
        else:
            ax.text(reach * 0.01, y, "no live pilots", va="center", color=MUTED, fontsize=9, style="italic")
        if row.limit_days:
            ax.plot([row.limit_days, row.limit_days], [y - 0.4, y + 0.4], color=KILL_LINE, linewidth=2)
    ax.set_yticks(rows, labels=[t.label for t in times])
    ax.tick_params(axis="y", length=0, labelsize=10, labelcolor=TEXT)
    ax.set_xlim(0, reach * 1.9)
    ax.set_xlabel("Days in current phase")
    ax.spines["left"].set_visible(False)
    ax.grid(axis="x", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(
        handles=[
            Patch(color=MUTED, label="Median"),
            Line2D([], [], marker="o", linestyle="", color=MUTED, label="Longest"),
            Line2D([], [], color=KILL_LINE, linewidth=2, label="Phase limit"),
        ],
        loc="lower right",
        frameon=False,
        fontsize=9,
        ncols=3,
        bbox_to_anchor=(1.0, 1.0),
        borderaxespad=0.2,
    )
    return figure


def time_in_phase_chart(times: Sequence[PhaseTime]) -> Chart:
    return cached("time-in-phase", list(times), draw_time_in_phase)


def time_in_phase_alt(times: Sequence[PhaseTime]) -> str:
    parts = []
    for row in times:
        if not row.pilots:
            parts.append(f"{row.label}: no live pilots")
            continue
        text = f"{row.label}: median {_days(row.median_days)}, longest {_days(row.longest_days)}"
        if row.limit_days:
            text += f", limit {row.limit_days} days, {row.past_limit} past it"
        parts.append(text)
    return "Days in current phase. " + "; ".join(parts) + "."


# -- flags over the last weeks ------------------------------------------------------------------


def draw_flags(weeks: Sequence[WeekFlags]) -> Figure:
    """Open flags at the end of each week, critical under warning, the total on top."""
    figure = _figure(5.0, 2.5)
    ax = figure.add_subplot()
    xs = list(range(len(weeks)))
    critical = [w.critical for w in weeks]
    warning = [w.warning for w in weeks]
    ax.bar(xs, critical, width=0.66, color=CRITICAL, label="Critical")
    ax.bar(xs, warning, width=0.66, bottom=critical, color=WARNING, label="Warning")
    top = max([w.total for w in weeks] + [1])
    for x, week in zip(xs, weeks, strict=True):
        if week.total:
            ax.text(x, week.total + top * 0.02, str(week.total), ha="center", va="bottom", fontsize=9, color=TEXT)
    # Every other week is labelled, counting back from the latest, so the dates never collide.
    last = len(weeks) - 1
    labels = [f"{week.on.day} {week.on:%b}" if (last - x) % 2 == 0 else "" for x, week in enumerate(weeks)]
    ax.set_xticks(xs, labels=labels)
    ax.tick_params(axis="x", labelsize=8, length=0)
    ax.set_ylim(0, top * 1.18)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("Open flags")
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    ax.legend(loc="lower right", frameon=False, fontsize=9, ncols=2, bbox_to_anchor=(1.0, 1.0), borderaxespad=0.2)
    return figure


def flags_chart(weeks: Sequence[WeekFlags]) -> Chart:
    return cached("flags", list(weeks), draw_flags)


def flags_alt(weeks: Sequence[WeekFlags]) -> str:
    if not weeks:
        return "Open flags by week: no data."
    first, last = weeks[0], weeks[-1]
    return (
        f"Open flags at the end of each of the last {len(weeks)} weeks: {first.total} on {day(first.on)}, "
        f"{last.total} on {day(last.on)} ({last.critical} critical, {last.warning} warning); "
        f"the most was {max(w.total for w in weeks)}."
    )


# -- a KPI's readings ---------------------------------------------------------------------------


def _quantity(value: float, unit: str) -> str:
    return f"{number(value)} {unit}".strip()


KPI_SIZE = (5.4, 2.6)  # inches
TITLE_PAD = 18  # points between the axes and the title, room for the legend
TITLE_SIZE = 10  # points
# A unit longer than this stays on the y axis only, not after every line's value at the right:
# "Target 1,250,000 tickets per agent-hour" would leave the readings little room.
SHORT_UNIT = 8


def _line_quantity(value: float, unit: str) -> str:
    return _quantity(value, unit if len(unit) <= SHORT_UNIT else "")


def tick_places(step: float) -> int:
    """Decimals that tell ticks ``step`` apart: 0 for 50,000 or 5, 1 for 0.5, 2 for 0.05."""
    if step <= 0 or not math.isfinite(step):
        return 2
    return max(0, math.ceil(-math.log10(step) - 1e-9))


def tick_label(value: float, places: int) -> str:
    """A y tick: thousands separators, the same decimals on every tick (0.85, 0.90, 0.95)."""
    text = f"{value:,.{places}f}"
    # -0 is 0 (a tick just below zero by rounding).
    return text[1:] if text.startswith("-") and float(text.replace(",", "")) == 0 else text


def fitted(text: str, size: float, width: float, *, keep: str = "") -> str:
    """``text`` then ``keep``, the text cut short with "…" if both would be wider than ``width`` points."""
    if _text_size(text + keep, size)[0] <= width:
        return text + keep
    low, high = 0, len(text)
    # The longest start of the text that fits with its ellipsis.
    while low < high:
        middle = (low + high + 1) // 2
        if _text_size(text[:middle].rstrip() + "…" + keep, size)[0] <= width:
            low = middle
        else:
            high = middle - 1
    return text[:low].rstrip() + "…" + keep


def draw_kpi(series: KpiSeries) -> Figure:
    """Readings over time with the baseline, the target and any kill thresholds drawn as lines.

    System-fed readings are filled dots, self-reported ones hollow.
    """
    # Laid out by _fit_axes, not by constrained layout: a third of the drawing time saved.
    figure = Figure(figsize=KPI_SIZE, dpi=100, facecolor="white")
    ax = figure.add_subplot()
    dates = [reading[0] for reading in series.readings]
    values = [reading[1] for reading in series.readings]
    levels: list[tuple[float, str, str, str]] = []
    if series.baseline is not None:
        levels.append((series.baseline, f"Baseline {_line_quantity(series.baseline, series.unit)}", BASELINE, "--"))
    levels.append((series.target, f"Target {_line_quantity(series.target, series.unit)}", TARGET, "--"))
    for comparator, threshold in series.kill_thresholds:
        word = "below" if comparator == Comparator.BELOW else "above"
        levels.append((threshold, f"Kill if {word} {_line_quantity(threshold, series.unit)}", KILL_LINE, ":"))
    for level, _, colour, style in levels:
        ax.axhline(level, color=colour, linestyle=style, linewidth=1.4)
    if dates:
        ax.plot(dates, values, color=ACCENT, linewidth=1.6, zorder=3)
        fed = [(d, v) for d, v, source in series.readings if source == Source.API]
        own = [(d, v) for d, v, source in series.readings if source != Source.API]
        for points, face, label in ((own, "white", "Self-reported"), (fed, ACCENT, "System feed")):
            if points:
                ax.plot(
                    [p[0] for p in points],
                    [p[1] for p in points],
                    "o",
                    color=ACCENT,
                    markerfacecolor=face,
                    markersize=4 if len(dates) > 40 else 5,
                    zorder=4,
                    label=label,
                )
        locator = AutoDateLocator(minticks=3, maxticks=7)
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator, show_offset=False))
        ax.legend(loc="lower left", frameon=False, fontsize=8, ncols=2, bbox_to_anchor=(0.0, 1.0), borderaxespad=0.2)
    else:
        ax.set_xticks([])
        ax.text(0.5, 0.5, "No readings yet", transform=ax.transAxes, ha="center", va="center", color=MUTED)
    everything = values + [level[0] for level in levels]
    low, high = min(everything), max(everything)
    pad = (high - low) * 0.12 or abs(high) * 0.1 or 1.0
    ax.set_ylim(low - pad, high + pad)
    # Whole figures with thousands separators, never a "1e6" offset above the axis (it would
    # sit on the legend, and nobody reads 1.2 as 1,200,000).
    ticks = ax.yaxis.get_majorticklocs()
    places = tick_places(ticks[1] - ticks[0] if len(ticks) > 1 else 0)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: tick_label(value, places)))
    # Labels of the lines sit in the right margin, nudged apart when two lines are close.
    placed: list[float] = []
    span = (high - low + 2 * pad) or 1.0
    for level, label, colour, _ in sorted(levels, key=lambda item: item[0]):
        y = level
        for other in placed:
            if abs(y - other) < span * 0.09:
                y = other + span * 0.09
        placed.append(y)
        ax.annotate(
            label,
            xy=(1.0, level),
            xycoords=("axes fraction", "data"),
            xytext=(1.02, y),
            textcoords=("axes fraction", "data"),
            va="center",
            fontsize=8.5,
            color=colour,
        )
    direction = "lower is better" if series.direction == Direction.DECREASE else "higher is better"
    ax.set_ylabel(series.unit or "value")
    ax.grid(axis="y", color=GRID, linewidth=0.8)
    ax.set_axisbelow(True)
    _fit_axes(figure, ax, right_labels=[label for _, label, _, _ in levels], title_pad=TITLE_PAD)
    # The title starts at the axes' left edge: a long name is cut short to the room right of
    # it (the page and the alt text carry the name whole).
    width = KPI_SIZE[0] * 72
    room = width * (1 - ax.get_position().x0) - _MARGIN
    title = fitted(series.name, TITLE_SIZE, room, keep=f" ({direction})")
    ax.set_title(title, loc="left", fontsize=TITLE_SIZE, color=TEXT, pad=TITLE_PAD)
    return figure


_MARGIN = 3.0  # points around the drawing, as constrained layout's default pad


def _text_size(text: str, size: float) -> tuple[float, float]:
    """The width and height (with descent) of a line of text, in points."""
    width, height, descent = text_to_path.get_text_width_height_descent(text, FontProperties(size=size), ismath=False)
    return width, height + descent


def _fit_axes(figure: Figure, ax: Axes, *, right_labels: Sequence[str], title_pad: float) -> None:
    """Place the axes so its tick labels, axis label, a one-line title and the labels right of it fit the figure.

    What constrained layout would do for this one-axes chart, measuring only the few texts
    that decide the margins instead of drawing the whole figure once more.
    """
    width, height = (inches * 72 for inches in figure.get_size_inches())
    low, high = ax.get_ylim()
    locations = [y for y in ax.yaxis.get_majorticklocs() if low <= y <= high]
    tick_labels = ax.yaxis.get_major_formatter().format_ticks(locations)
    tick_room = rcParams["ytick.major.size"] + rcParams["ytick.major.pad"]
    label_size = float(FontProperties(size=rcParams["axes.labelsize"]).get_size_in_points())
    tick_size = float(FontProperties(size=rcParams["ytick.labelsize"]).get_size_in_points())
    left = (
        _MARGIN
        + _text_size(ax.get_ylabel(), label_size)[1]
        + rcParams["axes.labelpad"]
        + max((_text_size(label, tick_size)[0] for label in tick_labels), default=0)
        + tick_room
    )
    # The labels start 2% of the axes' width right of it: solved for the right margin.
    widest = max((_text_size(label, 8.5)[0] for label in right_labels), default=0)
    right = (_MARGIN + widest + 0.02 * (width - left)) / 1.02
    # The title is set once the axes are placed (its room depends on them): one line, as tall as "Ag".
    top = _MARGIN + _text_size("Ag", TITLE_SIZE)[1] + title_pad
    bottom = _MARGIN
    if ax.get_xticks().size:
        bottom += _text_size("Jul", tick_size)[1] + tick_room
    ax.set_position((left / width, bottom / height, 1 - (left + right) / width, 1 - (top + bottom) / height))


def kpi_chart(series: KpiSeries) -> Chart:
    return cached("kpi", series, draw_kpi)


def kpi_alt(series: KpiSeries) -> str:
    """What a KPI's chart shows, in words: its readings beside the baseline, the target and kill thresholds."""
    parts = []
    if series.readings:
        first, last = series.readings[0], series.readings[-1]
        parts.append(
            f"{len(series.readings)} readings of {series.name} from {day(first[0])} to {day(last[0])}, "
            f"latest {_quantity(last[1], series.unit)}"
        )
    else:
        parts.append(f"No readings of {series.name} yet")
    if series.baseline is not None:
        parts.append(f"baseline {_quantity(series.baseline, series.unit)}")
    parts.append(f"target {_quantity(series.target, series.unit)}")
    for comparator, threshold in series.kill_thresholds:
        parts.append(f"kill if {comparator} {_quantity(threshold, series.unit)}")
    return "; ".join(parts) + "."


@dataclass(frozen=True)
class ShownChart:
    """A chart ready for a page: inline markup (None: not drawn yet, the page loads it from
    ``url``), its description, and where to download it."""

    svg: SafeString | None
    alt: str
    url: str
    # The drawn size in CSS pixels, so the page keeps the room of a chart still loading.
    width: int = 0
    height: int = 0


def kpi_charts(series_list: Sequence[KpiSeries]) -> list[ShownChart]:
    """The pilot page's KPI charts: inline those already drawn, in one cache round trip.

    Nothing is drawn here. A chart not in the cache (new data, or a pilot nobody opened
    since) is left to its own URL, which the page loads as an image: the page answers at
    once and the charts are drawn in their own requests, each cached for the next page.
    """
    found = in_cache([("kpi", series) for series in series_list])
    shown = []
    for series, chart in zip(series_list, found, strict=True):
        alt = kpi_alt(series)
        url = reverse("kpi_chart", args=[series.pilot_key, series.kpi_key])
        svg = inline(chart, alt) if chart else None
        shown.append(
            ShownChart(svg=svg, alt=alt, url=url, width=round(KPI_SIZE[0] * 96), height=round(KPI_SIZE[1] * 96))
        )
    return shown


def dashboard_charts(
    funnel: Funnel, times: Sequence[PhaseTime], weeks: Sequence[WeekFlags], *, query: str = ""
) -> dict[str, ShownChart]:
    """The dashboard's three charts, inline, in one cache round trip; ``query`` is the filters in use."""
    wanted = {
        "funnel": (funnel, draw_funnel, funnel_alt(funnel)),
        "time-in-phase": (list(times), draw_time_in_phase, time_in_phase_alt(times)),
        "flags": (list(weeks), draw_flags, flags_alt(weeks)),
    }
    drawn = cached_many([(kind, data, draw) for kind, (data, draw, _) in wanted.items()])
    shown = {}
    for (kind, (_, _, alt)), chart in zip(wanted.items(), drawn, strict=True):
        url = reverse("dashboard_chart", args=[kind]) + (f"?{query}" if query else "")
        shown[kind.replace("-", "_")] = ShownChart(svg=inline(chart, alt), alt=alt, url=url)
    return shown
