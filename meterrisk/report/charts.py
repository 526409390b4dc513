"""The report's charts: matplotlib figures drawn without a display (no pyplot, no GUI backend)
and embedded as inline SVG, text as paths so a page needs no font at all to show them.

Greyscale-safe: values on 'cividis' (lightness rises with kWh), gaps hatched white, lines told
apart by style and marker rather than colour.
"""

from __future__ import annotations

import io
import re
from contextlib import contextmanager
import matplotlib
import matplotlib.dates
import matplotlib.ticker
import numpy as np
from matplotlib import patheffects
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle

from meterrisk.report.data import Heatmap, Trend

#: Figure sizes in inches (SVG width/height are these x 72 pt; a browser shows pt x 4/3 px).
HEATMAP_SIZE = (7.5, 6.0)
TREND_PANEL = (7.5, 1.7)
CMAP = "cividis"
GAP_HATCH = "////"

_RC = {"svg.fonttype": "path", "svg.hashsalt": "meterrisk", "font.size": 9, "axes.titlesize": 9,
       "hatch.color": "0.55", "hatch.linewidth": 0.6}


@contextmanager
def style(font: str | None = None):
    rc = dict(_RC)
    if font:
        rc["font.family"] = [font, "DejaVu Sans"]
    with matplotlib.rc_context(rc):
        yield


def clock(h: float | None) -> str:
    """06:30 for 6.5; past midnight wrapped (24.5 -> 00:30); rounded to 5 minutes."""
    if h is None:
        return "n/a"
    m = int(round(h * 60 / 5)) * 5
    return f"{(m // 60) % 24:02d}:{m % 60:02d}"


#: Tick steps of a clock-time axis, in hours: 5, 10, 15, 30 minutes, 1, 2, 3 hours.
_CLOCK_STEPS = (5 / 60, 10 / 60, 0.25, 0.5, 1.0, 2.0, 3.0)


def _clock_step(low: float, high: float, most: int = 5) -> float:
    """A step whose ticks fall on whole clock minutes (the default locator's 0.2 h is 07:12,
    which :func:`clock` rounds to a misleading 07:10), at most ``most`` of them from low to high."""
    return next((s for s in _CLOCK_STEPS if (high - low) / s <= most), _CLOCK_STEPS[-1])


def heatmap_figure(grid: Heatmap, wake: float | None, bed: float | None, L: dict) -> Figure:
    """Days (rows, oldest at the top) x local clock half hours; NaN cells show the hatched
    background, so a gap never looks like 0 kWh (the darkest colour)."""
    fig = Figure(figsize=HEATMAP_SIZE, layout="constrained")
    ax = fig.add_subplot()
    n = len(grid.days)
    ax.add_patch(Rectangle((0, 0), 24, n, facecolor="white", edgecolor="0.55", hatch=GAP_HATCH, linewidth=0,
                           zorder=0))
    cmap = matplotlib.colormaps[CMAP].with_extremes(bad=(1, 1, 1, 0))  # gaps: transparent over the hatch
    finite = grid.kwh[np.isfinite(grid.kwh)]
    vmax = float(np.percentile(finite, 99)) if finite.size else 1.0
    im = ax.imshow(np.ma.masked_invalid(grid.kwh), aspect="auto", cmap=cmap, vmin=0, vmax=max(vmax, 0.01),
                   extent=(0, 24, n, 0), interpolation="nearest", zorder=1)
    halo = [patheffects.Stroke(linewidth=3, foreground="white"), patheffects.Normal()]
    handles = [Patch(facecolor="white", edgecolor="0.55", hatch=GAP_HATCH, label=L["gap"])]
    for h, key, ls in ((wake, "usual_wake", "--"), (bed, "usual_bed", ":")):
        if h is not None:
            handles.append(ax.axvline(h % 24, color="black", linestyle=ls, linewidth=1.6, path_effects=halo,
                                      label=L[key].format(t=clock(h)), zorder=2))
    ax.set_xlim(0, 24)
    ax.set_ylim(n, 0)
    ax.set_xticks(range(0, 25, 3), [f"{h:02d}:00" for h in range(0, 25, 3)])
    step = 7
    ax.set_yticks([i + 0.5 for i in range(0, n, step)], [grid.days[i].strftime("%Y-%m-%d") for i in range(0, n, step)])
    ax.set_xlabel(L["heatmap_x"])
    ax.set_ylabel(L["heatmap_y"])
    ax.set_title(L["heatmap"])
    fig.colorbar(im, ax=ax, label=L["heatmap_cbar"], shrink=0.8)
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.09), ncol=3, frameon=False, fontsize=8)
    return fig


def trends_figure(trends: list[Trend], topics: list[str], L: dict) -> Figure:
    """One panel per feature: weekly medians (solid, dots) against the earlier 12 weeks' median
    (dashed), with one legend for all panels above them."""
    ordered = sorted(trends, key=lambda t: (t.topic not in topics, topics.index(t.topic) if t.topic in topics else 0))
    fig = Figure(figsize=(TREND_PANEL[0], TREND_PANEL[1] * len(ordered)), layout="constrained")
    axes = fig.subplots(len(ordered), 1, sharex=True, squeeze=False)[:, 0]
    weekly = earlier = None
    for ax, t in zip(axes, ordered):
        x = np.array(t.week_ends, dtype="datetime64[D]")
        y = np.array([np.nan if v is None else v for v in t.weekly], dtype=float)
        title = L[t.column] + (" *" if t.topic in topics else "")
        if np.isfinite(y).any():
            (weekly,) = ax.plot(x, y, color="black", linestyle="-", marker="o", markersize=3.5, label=L["weekly"])
        else:
            ax.text(0.5, 0.5, L["no_data"], transform=ax.transAxes, ha="center", va="center", color="0.3")
        if t.baseline is not None:
            earlier = ax.axhline(t.baseline, color="0.45", linestyle="--", linewidth=1.2, label=L["earlier"])
        if t.column == "wake_time_h":
            ax.yaxis.set_major_locator(matplotlib.ticker.MultipleLocator(_clock_step(*ax.get_ylim())))
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: clock(v)))
        ax.set_title(title, loc="left")
        ax.grid(axis="y", color="0.85", linewidth=0.6)
    handles = [h for h in (weekly, earlier) if h is not None]
    if handles:
        fig.legend(handles=handles, loc="outside upper center", ncol=len(handles), frameon=False, fontsize=8)
    # Ticks at every other week's end: the weeks the medians are of (and AutoDateLocator's search
    # for "nice" dates was a tenth of the page's drawing time).
    if ordered and ordered[0].week_ends:
        ends = matplotlib.dates.date2num(np.array(ordered[0].week_ends, dtype="datetime64[D]"))
        axes[-1].xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ends[::-2][::-1]))
    axes[-1].set_xlabel(L["week_ending"])
    axes[-1].xaxis.set_major_formatter(matplotlib.dates.DateFormatter("%m-%d"))
    return fig


_PROLOG = re.compile(r"^.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
# Inline SVG in HTML needs no namespace declarations (the HTML parser knows svg and xlink:href),
# and without them the page holds no http(s) address at all, not even one never fetched.
_XMLNS = re.compile(r'\s+xmlns(:\w+)?="[^"]*"')


def to_svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element to inline in HTML (no XML prolog, DOCTYPE, metadata or
    namespace declarations); the heatmap's cells are an embedded data: PNG."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = _METADATA.sub("", _PROLOG.sub("", buf.getvalue(), count=1), count=1)
    return _XMLNS.sub("", svg)


def to_png(fig: Figure, path, dpi: int = 80) -> None:
    fig.savefig(path, format="png", dpi=dpi)
