"""The report's figures, drawn with matplotlib as inline SVG fragments.

Figures only draw numbers computed in :mod:`fourp1000.report.numbers`. Output is
deterministic: a fixed ``svg.hashsalt`` for element ids, no date or tool in the metadata,
glyphs as paths (DejaVu Sans, shipped with matplotlib), so the same data give the same
bytes on every machine.

Matplotlib is used through its object API (:class:`matplotlib.figure.Figure`), never
pyplot: no window or GUI backend is touched and the caller's backend is left alone.

References
----------
.. [1] Okabe M., Ito K. (2008) Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
"""

from __future__ import annotations

import io
import math
import re

import numpy as np
import pandas as pd
from markupsafe import escape

from ..targets import TARGET_PER_MILLE
from .numbers import RateHistogram

#: Okabe-Ito colours (colour-blind safe) [1]_.
COLOURS = {"scenario": "#0072B2", "band": "#56B4E9", "target": "#D55E00", "baseline": "#555555",
           "meets": "#0072B2", "short": "#D55E00"}
#: Salt of the SVG element ids: fixed, so the same figure gives the same bytes.
SVG_HASH_SALT = "fourp1000-report"

STYLE = {
    "svg.hashsalt": SVG_HASH_SALT,
    "svg.fonttype": "path",           # glyphs as paths: same look everywhere, no font to fetch
    "font.family": "DejaVu Sans",     # ships with matplotlib: identical bytes on every machine
    "font.size": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#8c959f",
    "axes.labelcolor": "#24292f",
    "axes.grid": True,
    "grid.color": "#e6e9ed",
    "grid.linewidth": 0.8,
    "xtick.color": "#57606a",
    "ytick.color": "#57606a",
    "legend.frameon": False,
    "legend.fontsize": 9,
    "path.simplify": True,
}
# No date, creator or format: the SVG depends on the data only.
_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def inline_svg(fig, prefix: str, label: str) -> str:
    """A figure as an SVG fragment for an HTML page.

    Ids carry ``prefix`` (several SVGs share one document), the metadata, comments and
    style block are dropped (the page CSS styles every chart) and the root element gets
    ``class="chart"``, ``role="img"`` and ``aria-label`` = ``label`` (escaped).
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(STYLE):  # the SVG backend reads the hash salt and font type when saving
        fig.savefig(buf, format="svg", metadata=_SVG_METADATA)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.S)
    text = re.sub(r'<style type="text/css">.*?</style>\s*', "", text, flags=re.S)
    text = re.sub(r'(\bid="|href="#|url\(#)([^"\)]+)', lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    text = text.replace("xlink:href=", "href=")
    view_box = re.search(r'viewBox="([^"]+)"', text).group(1)
    text = re.sub(r"<svg[^>]*>", f'<svg class="chart" viewBox="{view_box}" role="img" '
                                 f'aria-label="{escape(label)}">', text, count=1)
    return text.strip()


def _figure(width_in: float, height_in: float, *, left_in: float = 0.95, bottom_in: float = 0.5,
            top_in: float = 0.12, right_in: float = 0.15):
    """A figure with fixed margins [in]: room for 9-character tick labels and the axis labels.

    Fixed margins rather than constrained layout: the layout pass costs as much as drawing.
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width_in, height_in))
    fig.subplots_adjust(left=left_in / width_in, right=1 - right_in / width_in, bottom=bottom_in / height_in,
                        top=1 - top_in / height_in)
    return fig


def _readable_y_ticks(ax) -> None:
    """Enough decimals on the (autoscaled) y ticks to tell neighbouring ticks apart."""
    from matplotlib.ticker import StrMethodFormatter

    ticks = ax.get_yticks()
    step = float(np.min(np.diff(ticks))) if ticks.size > 1 else 1.0
    decimals = max(0, math.ceil(-math.log10(step))) if step > 0 else 0
    ax.yaxis.set_major_formatter(StrMethodFormatter(f"{{x:,.{decimals}f}}"))


def trajectory_figure(traj: pd.DataFrame, *, unit: str, depth_label: str):
    """One farm's (or plot's) trajectory: rows of :attr:`~fourp1000.report.numbers.Trajectories.frame`.

    Draws the stock under the practices year by year, no change, the 4 per 1000 path and,
    where ``lower``/``upper`` are finite, the 95 % band. The stock axis starts at zero, so a
    gain looks as large as it is relative to the stock (a 4 per 1000 path rises 8 % in 20
    years, not across the whole panel); the legend goes where it hides least (usually the
    empty space under the lines).
    """
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    year = traj["year"].to_numpy(float)
    with matplotlib.rc_context(STYLE):
        fig = _figure(5.4, 3.1)
        ax = fig.add_subplot()
        if np.isfinite(traj["lower"].to_numpy(float)).any():
            ax.fill_between(year, traj["lower"].to_numpy(float), traj["upper"].to_numpy(float),
                            color=COLOURS["band"], alpha=0.35, linewidth=0, label="95 % interval")
        ax.plot(year, traj["no_change"].to_numpy(float), color=COLOURS["baseline"], linestyle=(0, (1.5, 2.0)),
                linewidth=1.4, label="no change (baseline)")
        ax.plot(year, traj["path_4p1000"].to_numpy(float), color=COLOURS["target"], linestyle=(0, (5.0, 2.5)),
                linewidth=1.6, label="4 ‰ path")
        ax.plot(year, traj["scenario"].to_numpy(float), color=COLOURS["scenario"], linewidth=2.2,
                label="with practices")
        ax.set_xlim(0, max(year.max(), 1.0))
        ax.set_ylim(*_zero_based(traj))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("years from baseline")
        ax.set_ylabel(f"SOC stock {depth_label} [{unit.replace('ha-1', 'ha⁻¹')}]")
        _readable_y_ticks(ax)
        ax.legend(loc="best")  # from zero, the space under the lines is usually free
        return fig


def _zero_based(traj: pd.DataFrame) -> tuple[float, float]:
    """Stock axis limits from zero to a little above the highest value drawn (band included)."""
    values = traj[["scenario", "no_change", "path_4p1000", "lower", "upper"]].to_numpy(float)
    values = values[np.isfinite(values)]
    low = min(0.0, float(values.min())) if values.size else 0.0
    high = max(float(values.max()), 0.0) if values.size else 1.0
    span = high - low if high > low else 1.0
    return low, high + 0.06 * span


def trajectory_svg(traj: pd.DataFrame, *, unit: str, depth_label: str, prefix: str, label: str) -> str:
    """:func:`trajectory_figure` as an inline SVG fragment (see :func:`inline_svg`)."""
    return inline_svg(trajectory_figure(traj, unit=unit, depth_label=depth_label), prefix, label)


#: Legend labels of the histogram's two stacks: (short, meets).
VERDICT_LABELS = ("short of 4 ‰", "meets 4 ‰")


def rate_histogram_figure(hist: RateHistogram, *, labels: tuple[str, str] = VERDICT_LABELS):
    """Stacked histogram of plot rates [per mille yr-1]: plots short of 4 per 1000 in vermillion.

    ``labels`` name the two stacks (short, meets); a stack without plots is left out of the
    legend, so it never names a verdict no plot has. The legend sits above the axes, clear of
    the 4 per mille line and its label.
    """
    import matplotlib
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    edges = hist.edges
    with matplotlib.rc_context(STYLE):
        fig = _figure(5.4, 3.1, left_in=0.6, top_in=0.42)
        ax = fig.add_subplot()
        style = {"width": np.diff(edges), "align": "edge", "edgecolor": "white", "linewidth": 0.8}
        for counts, bottom, colour, label in ((hist.n_short, 0, COLOURS["short"], labels[0]),
                                              (hist.n_meets, hist.n_short, COLOURS["meets"], labels[1])):
            ax.bar(edges[:-1], counts, bottom=bottom, color=colour, label=label if counts.sum() else None, **style)
        ax.axvline(TARGET_PER_MILLE, color="#24292f", linewidth=1.2, linestyle=(0, (4.0, 2.0)))
        top = max(int((hist.n_short + hist.n_meets).max()) if edges.size > 1 else 1, 1)
        ax.text(TARGET_PER_MILLE, top * 1.04, " 4 ‰ yr⁻¹", color="#24292f", va="bottom", ha="left", fontsize=9)
        ax.set_ylim(0, top * 1.18)
        ax.set_xlim(edges[0], edges[-1])
        if edges.size <= 13:
            ax.set_xticks(edges)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}".replace("-", "−")))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("rate: yearly change as ‰ of the baseline stock [‰ yr⁻¹]")
        ax.set_ylabel("plots")
        if ax.get_legend_handles_labels()[1]:
            ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.01), ncol=2, borderaxespad=0.0)
        return fig


def rate_histogram_svg(hist: RateHistogram, *, prefix: str, label: str,
                       labels: tuple[str, str] = VERDICT_LABELS) -> str:
    """:func:`rate_histogram_figure` as an inline SVG fragment (see :func:`inline_svg`)."""
    return inline_svg(rate_histogram_figure(hist, labels=labels), prefix, label)



def measured_figure(points: pd.DataFrame, *, unit: str, depth_label: str):
    """One farm's (or plot's) measured stocks over time: rows of :attr:`~fourp1000.report.numbers.MeasuredStocks.frame`.

    The stock of each sampling as a point with its ± 1 standard error bar (where known),
    the first sampling's stock kept (no change) and the 4 per 1000 path from it. The stock
    axis starts at zero, as the trajectories' do.
    """
    import matplotlib
    from matplotlib.ticker import MaxNLocator

    year = points["year"].to_numpy(float)
    stock = points["stock_t_ha"].to_numpy(float)
    se = points["se_t_ha"].to_numpy(float)
    with matplotlib.rc_context(STYLE):
        fig = _figure(5.4, 3.1)
        ax = fig.add_subplot()
        span = np.array([year.min(), year.max()])
        ax.plot(span, [stock[0], stock[0]], color=COLOURS["baseline"], linestyle=(0, (1.5, 2.0)), linewidth=1.4,
                label="no change (first sampling)")
        ax.plot(year, points["path_4p1000"].to_numpy(float), color=COLOURS["target"], linestyle=(0, (5.0, 2.5)),
                linewidth=1.6, label="4 ‰ path")
        ax.errorbar(year, stock, yerr=np.where(np.isfinite(se), se, 0.0), fmt="o", color=COLOURS["scenario"],
                    ecolor=COLOURS["scenario"], elinewidth=1.2, capsize=3, markersize=5, label="measured (± 1 SE)")
        values = np.r_[stock + np.nan_to_num(se), points["path_4p1000"].to_numpy(float)]
        ax.set_ylim(0, float(np.nanmax(values)) * 1.06 if np.isfinite(values).any() else 1.0)
        pad = max((span[1] - span[0]) * 0.05, 0.5)
        ax.set_xlim(span[0] - pad, span[1] + pad)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("year of sampling")
        ax.set_ylabel(f"SOC stock {depth_label} [{unit.replace('ha-1', 'ha⁻¹')}]")
        _readable_y_ticks(ax)
        ax.legend(loc="lower right")
        return fig


def measured_svg(points: pd.DataFrame, *, unit: str, depth_label: str, prefix: str, label: str) -> str:
    """:func:`measured_figure` as an inline SVG fragment (see :func:`inline_svg`)."""
    return inline_svg(measured_figure(points, unit=unit, depth_label=depth_label), prefix, label)


__all__ = ["COLOURS", "STYLE", "SVG_HASH_SALT", "VERDICT_LABELS", "inline_svg", "measured_figure", "measured_svg", "rate_histogram_figure",
           "rate_histogram_svg", "trajectory_figure", "trajectory_svg"]
