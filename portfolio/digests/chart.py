"""The executive digest's chart: pilots per phase, stacked by status, as a small PNG.

PNG rather than SVG because mail clients do not show SVG reliably; it travels inside
the mail as an inline (CID) image. Drawn with the object-oriented ``Figure`` API only:
pyplot keeps global state that a long-running worker must not accumulate.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence

from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from .content import PhaseBar

# The palette of static/css/app.css: colour only where it means something.
ACTIVE = "#1f5fbf"
ON_HOLD = "#f0a500"
KILLED = "#9aa4ae"
TEXT = "#1f2328"
MUTED = "#59636e"
GRID = "#e6eaef"

WIDTH_INCHES = 6.0
DPI = 150  # twice the width it is shown at, so it stays sharp on high-density screens


def phase_chart_png(bars: Sequence[PhaseBar]) -> bytes:
    """PNG bytes of a horizontal stacked bar per phase; the same bars give the same bytes (cached)."""
    return _draw(tuple(bars))


@functools.lru_cache(maxsize=32)
def _draw(bars: tuple[PhaseBar, ...]) -> bytes:
    height = 0.75 + 0.42 * max(len(bars), 1)
    figure = Figure(figsize=(WIDTH_INCHES, height), dpi=DPI, facecolor="white")
    axes = figure.add_subplot()
    labels = [bar.label for bar in bars][::-1]
    rows = list(reversed(bars))
    positions = range(len(rows))
    left = [0] * len(rows)
    for name, colour, values in (
        ("Active", ACTIVE, [bar.active for bar in rows]),
        ("On hold", ON_HOLD, [bar.on_hold for bar in rows]),
        ("Killed", KILLED, [bar.killed for bar in rows]),
    ):
        axes.barh(positions, values, left=left, color=colour, height=0.62, label=name, edgecolor="white", linewidth=1)
        left = [start + value for start, value in zip(left, values, strict=True)]
    widest = max(left, default=0) or 1
    for position, total in zip(positions, left, strict=True):
        axes.text(total + widest * 0.015, position, str(total), va="center", ha="left", fontsize=9, color=TEXT)

    axes.set_yticks(list(positions), labels, fontsize=9, color=TEXT)
    axes.set_xlim(0, widest * 1.08)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.tick_params(axis="x", labelsize=8, colors=MUTED, length=0)
    axes.tick_params(axis="y", length=0)
    axes.grid(axis="x", color=GRID, linewidth=0.8)
    axes.set_axisbelow(True)
    for side in ("top", "right", "left", "bottom"):
        axes.spines[side].set_visible(False)
    axes.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncols=3,
        frameon=False,
        fontsize=8.5,
        handlelength=1.0,
        handleheight=1.0,
        labelcolor=TEXT,
    )
    figure.tight_layout(pad=0.4)
    buffer = io.BytesIO()
    # No timestamp or software name in the file: the same data gives the same bytes.
    figure.savefig(buffer, format="png", metadata={"Software": None})
    return buffer.getvalue()
