"""A self-contained HTML report of a projection: farms, trajectories, rates, methods, provenance.

:func:`build_report` turns a :class:`fourp1000.projection.table.ProjectResult` into one HTML page that
opens offline: the CSS is inline, figures are inline SVG drawn with matplotlib, text uses the
reader's system fonts, and nothing is fetched (no scripts, web fonts, stylesheets or links
to other sites). The page holds

* a summary: farms, plots, area and the share of plots, area and farms meeting 4 per 1000;
* the farm table, ranked by rate;
* one trajectory figure per farm: the area-weighted farm stock under the practices, the
  no-change baseline, and the 4 per 1000 path ``S_0 x (1 + 0.004 t)``, with a 95 % band
  when the result carries Monte Carlo percentiles;
* the distribution of plot rates [per mille yr-1] against the 4 per mille line;
* the plots that fall short, with the extra yearly gain they would need, and every plot;
* the methods (``result.methods``), the sources of the practices used and the weakest
  confirmation status of the table values;
* the input file's name, size and SHA-256 checksum, the tool version, the options and the
  time of generation.

Uncertainty columns are optional: ``<column>_p2_5`` and ``<column>_p97_5`` (2.5 and 97.5
percentiles of Monte Carlo draws) and ``p_meets_4p1000`` (share of draws meeting
4 per 1000) in ``result.plots`` / ``result.farms``. Without them the report shows the
deterministic projection only.

Notes
-----
* The farm trajectory is the sum over the farm's plots of ``area_ha x stock(t)``, which
  at the horizon equals ``final_stock_t_c`` of :func:`fourp1000.projection.tier1.aggregate_farms`.
  Where some plot has no ``area_ha`` every plot weighs the same and farm stocks are means
  [t C ha-1]; the report says so.
* The 95 % band is drawn from the farm's percentiles at year 0 and at the horizon only
  (``baseline_stock_t_c_p2_5`` ... ``final_stock_t_c_p97_5``), moved along the projected
  path: at year t the band is ``lo_0 + w(t) (lo_T - lo_0)`` with
  ``w(t) = (S(t) - S(0)) / (S(T) - S(0))`` of the deterministic farm path (``t / T`` where
  that path is flat). Percentiles of intermediate years are not recomputed.
* The page is deterministic: SVG element ids come from a fixed hash salt and carry no
  date; the time shown is ``SOURCE_DATE_EPOCH`` when that variable is set
  (reproducible-builds convention, [3]_), else the current time.
* Matplotlib is used through its object API (:class:`matplotlib.figure.Figure` and the
  SVG canvas), never pyplot: no window or GUI backend is touched, and the caller's
  backend is left alone.

References
----------
.. [1] Minasny B. et al. (2017) Soil carbon 4 per mille. Geoderma 292:59-86,
   doi:10.1016/j.geoderma.2017.01.002
.. [2] Okabe M., Ito K. (2008) Color Universal Design (CUD): how to make figures and
   presentations that are friendly to colorblind people. https://jfly.uni-koeln.de/color/
.. [3] Reproducible Builds (2017) SOURCE_DATE_EPOCH specification, version 1.1.
"""

from __future__ import annotations

import dataclasses
import hashlib
import html
import io
import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..targets import RATE_PER_YEAR, TARGET_PER_MILLE

if TYPE_CHECKING:
    from ..projection.table import ProjectResult

#: Okabe-Ito colours (colour-blind safe) [2]_.
COLOURS = {"scenario": "#0072B2", "band": "#56B4E9", "target": "#D55E00", "baseline": "#555555",
           "meets": "#0072B2", "short": "#D55E00"}
#: Suffixes of the Monte Carlo percentile columns (2.5 % and 97.5 %).
LOW, HIGH = "_p2_5", "_p97_5"
P_MEETS = "p_meets_4p1000"
CONFIDENT = "meets_4p1000_at_confidence"
_SVG_SALT = "fourp1000-report"


@dataclass(frozen=True)
class InputFile:
    """The input file as the report names it: name, size [bytes] and SHA-256 (hex)."""

    name: str
    size_bytes: int
    sha256: str

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> InputFile:
        return cls(name, len(data), hashlib.sha256(data).hexdigest())

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> InputFile:
        """Hash a file in 1 MiB chunks (large files are never held in memory)."""
        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
                size += len(chunk)
        return cls(Path(path).name, size, digest.hexdigest())


def report_time(environ: Mapping[str, str] | None = None) -> datetime:
    """Time of generation (UTC): ``SOURCE_DATE_EPOCH`` [s since 1970] when set, else now.

    Raises
    ------
    ValueError
        If ``SOURCE_DATE_EPOCH`` is set but not an integer.
    """
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except ValueError:
            raise ValueError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, got {epoch!r}") from None
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


# ---------------------------------------------------------------------------------------
# Numbers: summary, farm table, farm trajectories
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Summary:
    """Headline figures of a projection (areas [ha]; NaN where plots have no area)."""

    n_rows: int
    n_rows_rejected: int
    n_plots: int
    n_plots_meeting: int
    n_farms: int
    n_farms_meeting: int
    area_ha: float
    area_meeting_ha: float
    years: int

    @property
    def share_plots_meeting(self) -> float:
        """Share of plots meeting 4 per 1000 [0-1] (NaN without plots)."""
        return self.n_plots_meeting / self.n_plots if self.n_plots else math.nan

    @property
    def share_area_meeting(self) -> float:
        """Share of the area in plots meeting 4 per 1000 [0-1] (NaN without areas)."""
        return self.area_meeting_ha / self.area_ha if self.area_ha > 0 else math.nan


def _area_ha(plots: pd.DataFrame) -> np.ndarray:
    if "area_ha" not in plots:
        return np.full(len(plots), np.nan)
    return pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float)


def _farm_keys(plots: pd.DataFrame) -> np.ndarray:
    # Same convention as aggregate_farms: plots without farm_id form the farm "all".
    if "farm_id" not in plots:
        return np.full(len(plots), "all", dtype=object)
    return plots["farm_id"].astype(object).where(plots["farm_id"].notna(), "all").to_numpy(dtype=object)


def summarise(result: ProjectResult) -> Summary:
    """Headline figures of a :class:`~fourp1000.projection.table.ProjectResult`."""
    plots = result.plots
    meets = plots["meets_4p1000"].to_numpy(dtype=bool) if len(plots) else np.zeros(0, bool)
    area = _area_ha(plots)
    farms = farm_table(result)
    has_area = bool(len(area)) and bool(np.isfinite(area).all())
    return Summary(
        n_rows=int(result.n_rows),
        n_rows_rejected=int(len(result.rejects)),
        n_plots=int(len(plots)),
        n_plots_meeting=int(meets.sum()),
        n_farms=int(len(farms)),
        n_farms_meeting=int(farms["meets_4p1000"].sum()) if len(farms) else 0,
        area_ha=float(area.sum()) if has_area else math.nan,
        area_meeting_ha=float(area[meets].sum()) if has_area else math.nan,
        years=int(result.options.years),
    )


def farm_table(result: ProjectResult) -> pd.DataFrame:
    """Farms ranked by rate (highest first), with a ``rank`` column.

    ``result.farms`` (area-weighted totals [t C]) where every plot has an area; otherwise
    per-farm means over plots [t C ha-1] with the same column names, and
    ``weighted_by_area`` False in ``frame.attrs``.
    """
    if result.farms is not None:
        farms = result.farms.copy()
        farms.attrs["weighted_by_area"] = True
    else:
        from ..targets import meets_target, rate_per_mille

        plots = result.plots
        frame = pd.DataFrame({
            "farm_id": _farm_keys(plots),
            "baseline_stock_t_c": plots["baseline_stock_t_ha"].to_numpy(float),
            "final_stock_t_c": plots["final_stock_t_ha"].to_numpy(float),
            "annual_change_t_c_yr": plots["annual_change_t_ha_yr"].to_numpy(float),
        })
        farms = frame.groupby("farm_id", sort=False).agg(
            baseline_stock_t_c=("baseline_stock_t_c", "mean"), final_stock_t_c=("final_stock_t_c", "mean"),
            annual_change_t_c_yr=("annual_change_t_c_yr", "mean"), n_plots=("baseline_stock_t_c", "size"),
        ).reset_index()
        farms["rate_per_mille"] = rate_per_mille(farms["annual_change_t_c_yr"], farms["baseline_stock_t_c"])
        farms["meets_4p1000"] = meets_target(farms["rate_per_mille"])
        farms.attrs["weighted_by_area"] = False
    order = np.argsort(-np.nan_to_num(farms["rate_per_mille"].to_numpy(float), nan=-np.inf), kind="stable")
    farms = farms.iloc[order].reset_index(drop=True)
    farms.insert(0, "rank", np.arange(1, len(farms) + 1))
    return farms


@dataclass(frozen=True)
class FarmTrajectories:
    """Yearly farm stocks, long format.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``farm_id``, ``year`` [yr], ``scenario`` (with practices), ``no_change`` (the
        baseline stock kept), ``path_4p1000`` (baseline x (1 + 0.004 year)), ``lower``,
        ``upper`` (95 % band, NaN without uncertainty columns), all in ``unit``.
    unit : str
        ``"t C"`` (area-weighted totals) or ``"t C ha-1"`` (unweighted means).
    has_band : bool
    """

    frame: pd.DataFrame
    unit: str
    has_band: bool


def farm_trajectories(result: ProjectResult, farms: pd.DataFrame | None = None) -> FarmTrajectories:
    """Area-weighted stock of every farm, year by year, with the 4 per 1000 path.

    Parameters
    ----------
    result : fourp1000.projection.table.ProjectResult
    farms : pandas.DataFrame, optional
        Output of :func:`farm_table` (computed when not given).

    Returns
    -------
    FarmTrajectories
    """
    farms = farm_table(result) if farms is None else farms
    weighted = bool(farms.attrs.get("weighted_by_area", result.farms is not None))
    plots = result.plots
    traj = result.trajectory()
    weight = _area_ha(plots) if weighted else np.ones(len(plots))
    per_plot = pd.DataFrame({"plot_id": plots["plot_id"].to_numpy(), "farm_id": _farm_keys(plots), "w": weight})
    long = traj.merge(per_plot, on="plot_id", how="left", sort=False)
    long["ws"] = long["stock_t_ha"].to_numpy(float) * long["w"].to_numpy(float)
    grouped = long.groupby(["farm_id", "year"], sort=False).agg(ws=("ws", "sum"), w=("w", "sum")).reset_index()
    scenario = grouped["ws"].to_numpy(float)
    if not weighted:
        scenario = scenario / grouped["w"].to_numpy(float)
    out = pd.DataFrame({"farm_id": grouped["farm_id"].to_numpy(dtype=object),
                        "year": grouped["year"].to_numpy(dtype=int), "scenario": scenario})
    out = out.sort_values(["farm_id", "year"], kind="stable").reset_index(drop=True)
    first = out.groupby("farm_id", sort=False)["scenario"].transform("first").to_numpy(float)
    last = out.groupby("farm_id", sort=False)["scenario"].transform("last").to_numpy(float)
    year = out["year"].to_numpy(float)
    horizon = float(out["year"].max()) if len(out) else 0.0
    out["no_change"] = first
    out["path_4p1000"] = first * (1.0 + RATE_PER_YEAR * year)
    out["lower"], out["upper"] = np.nan, np.nan
    band = weighted and all(f"{c}{s}" in farms for c in ("final_stock_t_c",) for s in (LOW, HIGH))
    if band and len(out):
        per_farm = farms.set_index("farm_id")
        keys = out["farm_id"]
        lo_t = keys.map(per_farm[f"final_stock_t_c{LOW}"]).to_numpy(float)
        hi_t = keys.map(per_farm[f"final_stock_t_c{HIGH}"]).to_numpy(float)
        has_base = all(f"baseline_stock_t_c{s}" in farms for s in (LOW, HIGH))
        lo_0 = keys.map(per_farm[f"baseline_stock_t_c{LOW}"]).to_numpy(float) if has_base else first
        hi_0 = keys.map(per_farm[f"baseline_stock_t_c{HIGH}"]).to_numpy(float) if has_base else first
        # Fraction of the farm's projected change reached by each year (t / T on a flat path).
        with np.errstate(invalid="ignore", divide="ignore"):
            moved = np.abs(last - first) > 1e-12 * np.maximum(np.abs(first), 1.0)
            w = np.where(moved, (out["scenario"].to_numpy(float) - first) / (last - first),
                         year / max(horizon, 1.0))
        out["lower"] = lo_0 + w * (lo_t - lo_0)
        out["upper"] = hi_0 + w * (hi_t - hi_0)
    return FarmTrajectories(out, "t C" if weighted else "t C ha-1", bool(band))


# ---------------------------------------------------------------------------------------
# Figures (matplotlib object API -> inline SVG)
# ---------------------------------------------------------------------------------------

_RC = {
    "svg.hashsalt": _SVG_SALT,
    "svg.fonttype": "path",           # glyphs as paths: same look everywhere, no font to fetch
    "font.family": "DejaVu Sans",     # ships with matplotlib: identical bytes on every machine
    "font.size": 9,
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
    "legend.fontsize": 8,
    "path.simplify": True,
}
_SVG_METADATA = {"Date": None, "Creator": None, "Format": None, "Type": None}


def _svg(fig, prefix: str, label: str) -> str:
    """A figure as an SVG fragment for inline use: ids prefixed, no metadata or comments."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata=_SVG_METADATA)
    text = buf.getvalue()
    text = text[text.index("<svg"):]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    text = re.sub(r"<!--.*?-->\s*", "", text, flags=re.S)
    text = re.sub(r'<style type="text/css">.*?</style>\s*', "", text, flags=re.S)  # moved to the page CSS
    # Several SVGs share one document: every id must be unique in it.
    text = re.sub(r'(\bid="|href="#|url\(#)([^"\)]+)', lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", text)
    text = text.replace("xlink:href=", "href=")
    view_box = re.search(r'viewBox="([^"]+)"', text).group(1)
    text = re.sub(r"<svg[^>]*>", f'<svg class="chart" viewBox="{view_box}" role="img" '
                                 f'aria-label="{html.escape(label)}">', text, count=1)
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


def trajectory_svg(traj: pd.DataFrame, *, unit: str, depth_label: str, prefix: str, label: str) -> str:
    """One farm's trajectory figure (rows of :attr:`FarmTrajectories.frame` for that farm)."""
    import matplotlib
    from matplotlib.ticker import MaxNLocator, StrMethodFormatter

    year = traj["year"].to_numpy(float)
    with matplotlib.rc_context(_RC):
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
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_xlabel("years from baseline")
        ax.set_ylabel(f"SOC stock {depth_label} [{unit.replace('ha-1', 'ha⁻¹')}]")
        ticks = ax.get_yticks()  # autoscaled: enough decimals to tell neighbouring ticks apart
        step = float(np.min(np.diff(ticks))) if ticks.size > 1 else 1.0
        decimals = max(0, math.ceil(-math.log10(step))) if step > 0 else 0
        ax.yaxis.set_major_formatter(StrMethodFormatter(f"{{x:,.{decimals}f}}"))
        ax.legend(loc="best")
        return _svg(fig, prefix, label)


def _nice_width(span: float, target_bins: int = 12) -> float:
    """A round bin width (1, 2, 4, 5 or 10 x 10^k) giving about ``target_bins`` bins.

    4 rather than 2.5 keeps 4 per mille on a bin edge for every width up to 4.
    """
    raw = max(span, 1.0) / target_bins  # at least 1 per mille wide: all-equal rates get readable bins
    power = 10.0 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 4.0, 5.0, 10.0):
        if raw <= step * power:
            return step * power
    return 10.0 * power  # pragma: no cover - the loop always returns


def rate_edges(rates_per_mille: np.ndarray) -> np.ndarray:
    """Histogram bin edges [per mille yr-1]: round numbers, covering every rate and 4 per mille."""
    rates = np.asarray(rates_per_mille, dtype=float)
    rates = rates[np.isfinite(rates)]
    lo = min(float(rates.min()), TARGET_PER_MILLE) if rates.size else 0.0
    hi = max(float(rates.max()), TARGET_PER_MILLE) if rates.size else 8.0
    width = _nice_width(hi - lo)
    k_lo = math.floor(lo / width)
    k_lo -= width * k_lo > lo  # lo / width may underflow to 0 for tiny negative lo
    k_hi = max(math.floor(hi / width) + 1, k_lo + 1)
    return width * np.arange(k_lo, k_hi + 1)


def rate_histogram_svg(rates_per_mille: np.ndarray, meets: np.ndarray, *, prefix: str, label: str) -> str:
    """Stacked histogram of plot rates [per mille yr-1]: plots short of 4 per 1000 in vermillion."""
    import matplotlib
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    rates = np.asarray(rates_per_mille, dtype=float)
    meets = np.asarray(meets, dtype=bool)
    ok = np.isfinite(rates)
    rates, meets = rates[ok], meets[ok]
    edges = rate_edges(rates)
    n_short, _ = np.histogram(rates[~meets], bins=edges)
    n_meets, _ = np.histogram(rates[meets], bins=edges)
    with matplotlib.rc_context(_RC):
        fig = _figure(9.0, 3.0, left_in=0.6)
        ax = fig.add_subplot()
        widths = np.diff(edges)
        style = {"width": widths, "align": "edge", "edgecolor": "white", "linewidth": 0.8}
        ax.bar(edges[:-1], n_short, color=COLOURS["short"], label="short of 4 ‰", **style)
        ax.bar(edges[:-1], n_meets, bottom=n_short, color=COLOURS["meets"], label="meets 4 ‰", **style)
        ax.axvline(TARGET_PER_MILLE, color="#24292f", linewidth=1.2, linestyle=(0, (4.0, 2.0)))
        top = max(int((n_short + n_meets).max()) if edges.size > 1 else 1, 1)
        ax.text(TARGET_PER_MILLE, top * 1.04, " 4 ‰ yr⁻¹", color="#24292f", va="bottom", ha="left", fontsize=8)
        ax.set_ylim(0, top * 1.18)
        ax.set_xlim(edges[0], edges[-1])
        if edges.size <= 16:
            ax.set_xticks(edges)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:g}".replace("-", "−")))
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(axis="x", visible=False)
        ax.set_xlabel("mean yearly change over the horizon, as ‰ of the baseline stock [‰ yr⁻¹]")
        ax.set_ylabel("plots")
        ax.legend(loc="upper right")
        return _svg(fig, prefix, label)


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------

_CSS = """
:root{--fg:#1f2328;--muted:#57606a;--line:#d0d7de;--soft:#eaeef2;--panel:#f6f8fa;--ok:#0072B2;
--short:#D55E00;--short-bg:#fdf0e8;color-scheme:light}
*{box-sizing:border-box}
body{margin:0;background:#fff;color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","Helvetica Neue",Arial,"Liberation Sans",sans-serif}
main{max-width:1140px;margin:0 auto;padding:28px 28px 56px}
header{border-bottom:3px solid var(--ok);padding-bottom:14px;margin-bottom:8px}
h1{font-size:1.75rem;line-height:1.2;margin:0 0 6px}
h2{font-size:1.25rem;margin:36px 0 12px;padding-bottom:6px;border-bottom:1px solid var(--line)}
h3{font-size:1rem;margin:22px 0 8px}
figure h3{margin:0 0 2px}
.id{white-space:nowrap}
p{margin:8px 0}
.sub,.muted,figcaption{color:var(--muted)}
.sub{margin:0;font-size:.92rem}
.lead{font-size:1.05rem;margin:16px 0}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(165px,1fr));gap:12px;margin:0;padding:0}
.card{background:var(--panel);border:1px solid var(--line);border-radius:10px;padding:12px 16px}
.card dt{font-size:.75rem;letter-spacing:.05em;text-transform:uppercase;color:var(--muted)}
.card dd{margin:2px 0 0;font-size:1.65rem;font-weight:650;font-variant-numeric:tabular-nums}
.card dd small{display:block;font-size:.8rem;font-weight:400;color:var(--muted)}
.table-wrap{overflow-x:auto;border:1px solid var(--line);border-radius:10px}
table{border-collapse:collapse;width:100%;font-size:.86rem;font-variant-numeric:tabular-nums}
th{background:var(--panel);text-align:left;font-weight:600;vertical-align:bottom;padding:8px 10px;
border-bottom:1px solid var(--line)}
th .unit{display:block;font-weight:400;color:var(--muted);font-size:.78rem}
td{padding:6px 10px;border-bottom:1px solid var(--soft);vertical-align:top}
tbody tr:last-child td{border-bottom:none}
.num{text-align:right;white-space:nowrap}
.ci{display:block;font-size:.78rem;color:var(--muted)}
tr.short td{background:var(--short-bg)}
tr.short td:first-child{box-shadow:inset 4px 0 0 var(--short)}
.badge{display:inline-block;padding:1px 9px;border-radius:999px;font-size:.8rem;font-weight:600;white-space:nowrap}
.badge.ok{background:#e1eef8;color:#00527f}
.badge.short{background:#fadccb;color:#9a3a00}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(460px,1fr));gap:18px}
figure{margin:0;border:1px solid var(--line);border-radius:10px;padding:12px 14px;background:#fff;break-inside:avoid}
figcaption{font-size:.85rem;margin-top:4px}
svg.chart{display:block;width:100%;height:auto}
svg.chart *{stroke-linejoin:round;stroke-linecap:butt}
.key{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:.85rem;color:var(--muted);margin:0 0 12px}
.mono{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"Liberation Mono",monospace;font-size:.85rem;
word-break:break-all}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:4px 18px;margin:0}
dl.meta dt{color:var(--muted)}
dl.meta dd{margin:0}
ul.methods li{margin:4px 0}
.note{background:var(--panel);border-left:4px solid var(--line);padding:8px 12px;border-radius:4px}
footer{margin-top:40px;font-size:.8rem;color:var(--muted)}
@media print{main{max-width:none;padding:0}.grid{grid-template-columns:1fr 1fr}h2{break-after:avoid}
.table-wrap{overflow:visible;border:none}}
"""


def _esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _isnan(value: object) -> bool:
    try:
        return value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:
        return False


def _num(value: object, decimals: int = 1, *, sign: bool = False) -> str:
    if _isnan(value):
        return "–"
    text = f"{float(value):{'+' if sign else ''},.{decimals}f}"
    return text.replace("-", "−")


def _pct(share: float, decimals: int = 0) -> str:
    return "–" if _isnan(share) else f"{100.0 * share:.{decimals}f} %"


def _data(value: object) -> str:
    """A machine-readable value for ``data-value`` (full precision, for tests and scrapers)."""
    if _isnan(value):
        return "nan"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def _badge(meets: bool) -> str:
    return ('<span class="badge ok">✓ meets</span>' if meets
            else '<span class="badge short">✗ short</span>')


@dataclass(frozen=True)
class _Col:
    key: str
    header: str
    unit: str = ""
    fmt: object = None  # callable(value, row) -> html
    numeric: bool = True


def _table(frame: pd.DataFrame, cols: Sequence[_Col], *, row_class=None, table_class: str = "") -> str:
    head = "".join(
        ('<th scope="col" class="num">' if c.numeric else '<th scope="col">') + c.header
        + (f'<span class="unit">[{c.unit}]</span>' if c.unit else "") + "</th>" for c in cols)
    body = []
    records = frame.to_dict("records")
    for rec in records:
        cls = row_class(rec) if row_class else ""
        cells = "".join(
            ('<td class="num">' if c.numeric else "<td>")
            + (c.fmt(rec.get(c.key), rec) if c.fmt else _esc(rec.get(c.key))) + "</td>"
            for c in cols)
        body.append((f'<tr class="{cls}">' if cls else "<tr>") + cells + "</tr>")
    return (f'<div class="table-wrap"><table class="{table_class}"><thead><tr>{head}</tr></thead>'
            f'<tbody>{"".join(body)}</tbody></table></div>')


def _interval(frame: pd.DataFrame, column: str) -> bool:
    return f"{column}{LOW}" in frame.columns and f"{column}{HIGH}" in frame.columns


def _rate_col(frame: pd.DataFrame) -> _Col:
    """Rate [per mille yr-1], with its 95 % interval below it when the frame has one."""
    if not _interval(frame, "rate_per_mille"):
        return _Col("rate_per_mille", "Rate", "‰ yr<sup>−1</sup>", lambda v, r: _num(v, 1, sign=True))

    def fmt(value, rec):
        lo, hi = rec.get(f"rate_per_mille{LOW}"), rec.get(f"rate_per_mille{HIGH}")
        band = "" if _isnan(lo) or _isnan(hi) else f'<span class="ci">{_num(lo, 1)} to {_num(hi, 1)}</span>'
        return _num(value, 1, sign=True) + band

    return _Col("rate_per_mille", "Rate<span class=\"unit\">(95 % interval)</span>", "‰ yr<sup>−1</sup>", fmt)


def _confident_col(frame: pd.DataFrame, confidence: float | None) -> list[_Col]:
    """The Monte Carlo verdict (4 per 1000 met with probability >= confidence) and that probability."""
    if CONFIDENT not in frame:
        return []
    header = "4 ‰ at P ≥ " + (f"{confidence:g}" if confidence is not None else "confidence")

    def fmt(value, rec):
        if _isnan(value):
            return "–"
        p = rec.get(P_MEETS)
        return _badge(bool(value)) + ("" if _isnan(p) else f'<span class="ci">P = {100.0 * float(p):.0f} %</span>')

    return [_Col(CONFIDENT, header, "", fmt, numeric=False)]


def _p_cell(value, _rec) -> str:
    return "–" if _isnan(value) else f"{100.0 * float(value):.0f}"


def _farm_section(farms: pd.DataFrame, years: int, confidence: float | None) -> str:
    weighted = farms.attrs.get("weighted_by_area", True)
    unit = "t C" if weighted else "t C ha<sup>−1</sup>"
    cols = [_Col("rank", "#"),
            _Col("farm_id", "Farm", numeric=False, fmt=lambda v, r: f'<strong class="id">{_esc(v)}</strong>'),
            _Col("n_plots", "Plots")]
    if weighted:
        cols.append(_Col("area_ha", "Area", "ha", lambda v, r: _num(v, 1)))
    cols += [
        _Col("baseline_stock_t_c", "Baseline stock", unit, lambda v, r: _num(v, 0 if weighted else 1)),
        _Col("final_stock_t_c", f"Stock after {years} yr", unit, lambda v, r: _num(v, 0 if weighted else 1)),
        _Col("annual_change_t_c_yr", "Mean change", f"{unit} yr<sup>−1</sup>",
             lambda v, r: _num(v, 2, sign=True)),
        _rate_col(farms),
    ]
    if P_MEETS in farms and CONFIDENT not in farms:
        cols.append(_Col(P_MEETS, "P(≥ 4 ‰)", "%", _p_cell))
    cols.append(_Col("meets_4p1000", "4 ‰", "", lambda v, r: _badge(bool(v)), numeric=False))
    cols += _confident_col(farms, confidence)
    note = "" if weighted else (
        '<p class="note">Not every plot has an <code>area_ha</code>: farm figures are plain means over '
        "their plots [t C ha<sup>−1</sup>], not area-weighted totals.</p>")
    return note + _table(farms, cols, row_class=lambda r: "" if r["meets_4p1000"] else "short",
                         table_class="farms")


def _plot_columns(plots: pd.DataFrame, confidence: float | None, *, gap: bool = False) -> list[_Col]:
    cols = [_Col("plot_id", "Plot", numeric=False, fmt=lambda v, r: f'<strong class="id">{_esc(v)}</strong>')]
    if "farm_id" in plots:
        cols.append(_Col("farm_id", "Farm", numeric=False, fmt=lambda v, r: f'<span class="id">{_esc(v)}</span>'))
    cols.append(_Col("practices", "Practices", numeric=False,
                     fmt=lambda v, r: _esc(str(v).replace(";", ", ")) if not _isnan(v) and v else "–"))
    if "area_ha" in plots:
        cols.append(_Col("area_ha", "Area", "ha", lambda v, r: _num(v, 1)))
    cols += [
        _Col("baseline_stock_t_ha", "Baseline", "t C ha<sup>−1</sup>", lambda v, r: _num(v, 1)),
        _Col("final_stock_t_ha", "Final", "t C ha<sup>−1</sup>", lambda v, r: _num(v, 1)),
        _Col("annual_change_t_ha_yr", "Mean change", "t C ha<sup>−1</sup> yr<sup>−1</sup>",
             lambda v, r: _num(v, 3, sign=True)),
        _rate_col(plots),
    ]
    if gap:
        cols.append(_Col("gap_t_ha_yr", "Extra gain needed", "t C ha<sup>−1</sup> yr<sup>−1</sup>",
                         lambda v, r: _num(v, 3)))
    if P_MEETS in plots and CONFIDENT not in plots:
        cols.append(_Col(P_MEETS, "P(≥ 4 ‰)", "%", _p_cell))
    if not gap:  # the shortfall table holds short plots only
        cols.append(_Col("meets_4p1000", "4 ‰", "", lambda v, r: _badge(bool(v)), numeric=False))
    return cols + _confident_col(plots, confidence)


def _summary_cards(s: Summary) -> str:
    def card(key: str, title: str, value: str, data: object, small: str = "") -> str:
        return (f'<div class="card"><dt>{title}</dt><dd data-key="{key}" data-value="{_data(data)}">{value}'
                f'{f"<small>{small}</small>" if small else ""}</dd></div>')

    area_small = "" if _isnan(s.area_ha) else f"{_pct(s.share_area_meeting)} of it in plots meeting 4 ‰"
    return "".join([
        '<dl class="cards">',
        card("n_farms", "Farms", f"{s.n_farms:,}", s.n_farms, f"{s.n_farms_meeting} meeting 4 ‰"),
        card("n_plots", "Plots", f"{s.n_plots:,}", s.n_plots,
             f"{_plural(s.n_rows, 'row')} read, {s.n_rows_rejected:,} rejected"),
        card("area_ha", "Area", "–" if _isnan(s.area_ha) else f"{_num(s.area_ha, 1)} ha", s.area_ha, area_small),
        card("share_plots_meeting", "Plots meeting 4 ‰", _pct(s.share_plots_meeting), s.share_plots_meeting,
             f"{s.n_plots_meeting} of {s.n_plots}"),
        card("share_area_meeting", "Area meeting 4 ‰", _pct(s.share_area_meeting), s.share_area_meeting,
             "" if _isnan(s.area_meeting_ha) else f"{_num(s.area_meeting_ha, 1)} ha"),
        "</dl>",
    ])


def _practice_sources(plots: pd.DataFrame, ipcc_version: str, method: str) -> str:
    from ..practices import list_practices

    if "practices" not in plots:
        return ""
    used = {p for text in plots["practices"].dropna().astype(str) for p in text.split(";") if p}
    table = list_practices(ipcc_version)
    table = table[table["practice"].isin(used)]
    if table.empty:
        return ""
    cols = [_Col("practice", "Practice", numeric=False, fmt=lambda v, r: f'<strong class="id">{_esc(v)}</strong>')]
    if method == "rates":
        cols += [_Col("rate_t_c_ha_yr", "Meta-analysis rate", "t C ha<sup>−1</sup> yr<sup>−1</sup>",
                      lambda v, r: _num(v, 3)),
                 _Col("rate_duration_yr", "Applies for", "yr", lambda v, r: _num(v, 0)),
                 _Col("rate_source", "Source", numeric=False)]
    else:
        cols += [_Col("ipcc_effect", "IPCC Tier 1 effect", numeric=False),
                 _Col("ipcc_source", "Source", numeric=False)]
    return "<h3>Practices used</h3>" + _table(table, cols, table_class="sources")


def _statuses(plots: pd.DataFrame) -> str:
    if "least_confirmed" not in plots or not len(plots):
        return ""
    counts = plots["least_confirmed"].astype(str).value_counts(sort=False)
    parts = ", ".join(f"<code>{_esc(k)}</code>: {int(v)} plot{'s' if v != 1 else ''}"
                      for k, v in sorted(counts.items()))
    return (f"<p>Weakest confirmation status of the table values each plot used: {parts}. "
            "<span class=muted>(<code>unconfirmed</code> values are shipped but not yet checked against "
            "the published table; see <code>data/ipcc_sources.md</code>.)</span></p>")


def _options_rows(options: object) -> list[tuple[str, str]]:
    rows: list[tuple[str, str]] = []
    if options is None or not dataclasses.is_dataclass(options):
        return rows
    for f in dataclasses.fields(options):
        value = getattr(options, f.name)
        if dataclasses.is_dataclass(value):
            rows += [(f"{f.name}.{k}", v) for k, v in _options_rows(value)]
        else:
            rows.append((f.name, ", ".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)))
    return rows


_REFERENCES = (
    "IPCC (2006) 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 4, Ch. 2 (Eq. 2.25), "
    "Ch. 5 (Table 5.5), Ch. 6 (Table 6.2).",
    "IPCC (2019) 2019 Refinement to the 2006 IPCC Guidelines, Vol. 4, Ch. 2, 5 and 6.",
    "Minasny B. et al. (2017) Soil carbon 4 per mille. Geoderma 292:59–86, doi:10.1016/j.geoderma.2017.01.002",
    "Soussana J.-F. et al. (2019) Matching policy and science: rationale for the ‘4 per 1000 – soils for food "
    "security and climate’ initiative. Soil Tillage Res. 188:3–15, doi:10.1016/j.still.2017.12.002",
)


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def _head(title: str, source_name: str, version: str, summary: Summary, method: str, depth: str, when: str) -> str:
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta name="generator" content="fourp1000 {_esc(version)}">',
        f"<title>{_esc(title)} – {_esc(source_name)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f"<header><h1>{_esc(title)}</h1>",
        f'<p class="sub">Input <strong>{_esc(source_name)}</strong> · horizon {_plural(summary.years, "year")}'
        f" · {_esc(method)}"
        f" · SOC {depth} · generated {when} by fourp1000 {_esc(version)}</p></header>",
    ])


def _summary_section(summary: Summary, plots: pd.DataFrame, farms: pd.DataFrame, confidence: float | None) -> str:
    area = "" if _isnan(summary.area_ha) else f" ({_pct(summary.share_area_meeting)} of the area)"
    verdict = (f"{summary.n_plots_meeting} of {_plural(summary.n_plots, 'plot')}{area} and "
               f"{summary.n_farms_meeting} of {_plural(summary.n_farms, 'farm')} reach 4 per 1000: a mean yearly "
               f"gain of at least 4 ‰ of the baseline stock over {_plural(summary.years, 'year')}.")
    if CONFIDENT in plots:
        sure = f"probability ≥ {confidence:g}" if confidence is not None else "the confidence asked"
        verdict += (f" With Monte Carlo uncertainty, {int(plots[CONFIDENT].fillna(False).astype(bool).sum())} of "
                    f"{summary.n_plots} plots")
        if CONFIDENT in farms:
            verdict += f" and {int(farms[CONFIDENT].fillna(False).astype(bool).sum())} of {summary.n_farms} farms"
        verdict += f" reach it with {sure}."
    return ('<section id="summary"><h2>Summary</h2>' + _summary_cards(summary)
            + f'<p class="lead">{_esc(verdict)}</p></section>')


def _trajectory_section(result: ProjectResult, farms: pd.DataFrame, depth: str, years: int, max_figures: int) -> str:
    traj = farm_trajectories(result, farms)
    shown = farms.head(max_figures)
    intro = ("Farm SOC stock under the practices (solid blue) against no change (dotted grey) and the 4 per 1000 "
             "path, the baseline stock growing by 0.4 % of itself each year (dashed vermillion).")
    if traj.has_band:
        intro += (" The shaded band is the 95 % Monte Carlo interval, drawn from the intervals at year 0 and at "
                  "the horizon along the projected path.")
    if not farms.attrs.get("weighted_by_area", True):
        intro += " Stocks are means over the farm's plots [t C ha⁻¹]."
    parts = ['<section id="trajectories"><h2>Stock trajectories</h2>', f'<p class="muted">{intro}</p>',
             '<div class="grid">']
    by_farm = dict(tuple(traj.frame.groupby("farm_id", sort=False)))
    for i, rec in enumerate(shown.to_dict("records")):
        farm = rec["farm_id"]
        svg = trajectory_svg(by_farm[farm], unit=traj.unit, depth_label=depth, prefix=f"t{i}",
                             label=f"Stock trajectory of farm {farm}")
        parts.append(
            f'<figure class="trajectory" data-farm="{_esc(farm)}">'
            f'<h3>{_esc(farm)} {_badge(bool(rec["meets_4p1000"]))}</h3>{svg}'
            f"<figcaption>{_plural(int(rec['n_plots']), 'plot')}; mean rate "
            f"{_num(rec['rate_per_mille'], 1, sign=True)} ‰ yr⁻¹ over {_plural(years, 'year')}."
            "</figcaption></figure>")
    parts.append("</div>")
    if len(farms) > len(shown):
        parts.append(f'<p class="note">Figures for the first {len(shown)} of {len(farms)} farms by rate; '
                     "the farm table lists them all.</p>")
    return "\n".join(parts) + "</section>"


def _rates_section(plots: pd.DataFrame) -> str:
    rates = plots["rate_per_mille"].to_numpy(float)
    n_nan = int((~np.isfinite(rates)).sum())
    caption = (f"{_plural(int(np.isfinite(rates).sum()), 'plot')}, stacked: vermillion plots fall short of "
               "4 ‰ yr⁻¹ (dashed line), blue plots meet it.")
    if n_nan:
        caption += f" {_plural(n_nan, 'plot')} with a zero baseline stock have no rate."
    svg = rate_histogram_svg(rates, plots["meets_4p1000"].to_numpy(dtype=bool), prefix="r",
                             label="Histogram of plot rates in per mille per year")
    return ('<section id="rates"><h2>Distribution of plot rates</h2><figure class="rate-distribution">'
            f"{svg}<figcaption>{caption}</figcaption></figure></section>")


def _plot_sections(plots: pd.DataFrame, max_rows: int, confidence: float | None) -> str:
    plots = plots.copy()
    # Extra yearly gain [t C ha-1 yr-1] a plot would need to reach 4 per 1000 of its baseline.
    plots["gap_t_ha_yr"] = (RATE_PER_YEAR * plots["baseline_stock_t_ha"].to_numpy(float)
                            - plots["annual_change_t_ha_yr"].to_numpy(float))
    short = plots[~plots["meets_4p1000"].to_numpy(dtype=bool)]
    short = short.iloc[np.argsort(-short["gap_t_ha_yr"].to_numpy(float), kind="stable")]
    parts = ['<section id="short"><h2>Plots that fall short</h2>']
    if len(short):
        parts.append(f"<p>{_plural(len(short), 'plot')} would need a larger yearly gain to reach 4 ‰ of the "
                     "baseline stock; “extra gain needed” is 0.004 × baseline − mean change.</p>")
        parts.append(_table(short.head(max_rows), _plot_columns(plots, confidence, gap=True),
                            row_class=lambda r: "short", table_class="short-plots"))
        if len(short) > max_rows:
            parts.append(f'<p class="note">First {max_rows:,} of {len(short):,} shown; '
                         "<code>fourp1000 project</code> lists them all.</p>")
    else:
        parts.append("<p>Every plot reaches 4 per 1000.</p>")
    parts.append('</section><section id="plots"><h2>All plots</h2>')
    if len(plots) <= max_rows:
        parts.append('<p class="muted">Plots falling short are shaded.</p>')
        parts.append(_table(plots, _plot_columns(plots, confidence), table_class="plots",
                            row_class=lambda r: "" if r["meets_4p1000"] else "short"))
    else:
        parts.append(f'<p class="note">{len(plots):,} plots: too many for a page; '
                     "<code>fourp1000 project</code> writes them all (csv, json or xlsx).</p>")
    return "\n".join(parts) + "</section>"


def _methods_section(result: ProjectResult) -> str:
    opts = result.options
    return "\n".join([
        '<section id="methods"><h2>Methods and sources</h2><ul class="methods">',
        *(f"<li>{_esc(m)}</li>" for m in result.methods), "</ul>",
        _statuses(result.plots), _practice_sources(result.plots, opts.ipcc_version, opts.method),
        "<h3>References</h3><ol>", *(f"<li>{_esc(r)}</li>" for r in _REFERENCES), "</ol></section>",
    ])


def _provenance_section(result: ProjectResult, summary: Summary, input_file: InputFile | None, version: str,
                        generated: datetime) -> str:
    utc = generated.astimezone(timezone.utc)
    meta = [("Input file", f"<strong>{_esc(input_file.name if input_file else '(not given)')}</strong>")]
    if input_file:
        meta += [("Size", f"{input_file.size_bytes:,} bytes"),
                 ("SHA-256", f'<span class="mono" data-key="sha256">{_esc(input_file.sha256)}</span>')]
    meta += [("Rows", f"{summary.n_rows:,} read, {summary.n_rows_rejected:,} rejected"),
             ("Tool", f"fourp1000 {_esc(version)}"),
             ("Generated", f'<time datetime="{utc.isoformat()}">{utc:%Y-%m-%d %H:%M} UTC</time>')]
    meta += [(f"Option {k}", f"<code>{_esc(v)}</code>") for k, v in _options_rows(result.options)]
    return "\n".join(['<section id="provenance"><h2>Input and provenance</h2><dl class="meta">',
                      *(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in meta), "</dl></section>"])


def build_report(
    result: ProjectResult,
    *,
    input_file: InputFile | None = None,
    generated: datetime | None = None,
    title: str | None = None,
    notes: Iterable[str] = (),
    version: str | None = None,
    max_plot_rows: int = 500,
    max_farm_figures: int = 60,
    confidence: float | None = None,
) -> str:
    """The HTML report of a projection, as text (UTF-8, self-contained).

    Parameters
    ----------
    result : fourp1000.projection.table.ProjectResult
        Output of :func:`fourp1000.projection.table.project_table`; uncertainty columns are used
        when present (see the module notes).
    input_file : InputFile, optional
        Name, size and checksum of the input, shown in the provenance block.
    generated : datetime, optional
        Time of generation; default :func:`report_time` (``SOURCE_DATE_EPOCH`` or now).
    title : str, optional
        Page title; default "Soil carbon and the 4 per 1000 target".
    notes : iterable of str
        Data notes to list (warnings, rejected rows), as plain text.
    version : str, optional
        Tool version; default :data:`fourp1000.__version__`.
    max_plot_rows : int, default 500
        The table of all plots is left out above this many plots (the shortfall table is
        cut to the same length); figures and the summary always cover every plot.
    max_farm_figures : int, default 60
        Trajectory figures for at most this many farms (the best-ranked first); the
        farm table always lists them all.
    confidence : float, optional
        Probability behind ``meets_4p1000_at_confidence`` (Monte Carlo), shown in the
        tables' header when that column is present.

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    InputError
        If the result has no plot.
    """
    from .. import __version__
    from ..errors import InputError

    if not len(result.plots):
        raise InputError("no plot was projected; nothing to report")
    version = __version__ if version is None else version
    generated = report_time() if generated is None else generated
    title = title or "Soil carbon and the 4 per 1000 target"
    opts = result.options
    summary = summarise(result)
    farms = farm_table(result)
    depth = f"{opts.estimate.top_cm:g}–{opts.estimate.bottom_cm:g} cm"
    method = (f"IPCC Tier 1 ({opts.ipcc_version})" if opts.method == "ipcc"
              else "meta-analysis rates of the practices")
    when = f"{generated.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC"
    notes = [n for n in notes if n]
    parts = [
        _head(title, input_file.name if input_file else "(input not given)", version, summary, method, depth, when),
        _summary_section(summary, result.plots, farms, confidence),
        '<section id="farms"><h2>Farms, ranked by rate</h2>' + _farm_section(farms, summary.years, confidence)
        + "</section>",
        _trajectory_section(result, farms, depth, summary.years, max_farm_figures),
        _rates_section(result.plots),
        _plot_sections(result.plots, max_plot_rows, confidence),
    ]
    if notes:
        parts.append('<section id="notes"><h2>Data notes</h2><ul>' + "".join(f"<li>{_esc(n)}</li>" for n in notes)
                     + "</ul></section>")
    parts += [
        _methods_section(result),
        _provenance_section(result, summary, input_file, version, generated),
        "<footer>Made with fourp1000. Figures use the Okabe–Ito colour-blind-safe palette; verdicts carry a "
        "symbol as well as a colour.</footer>",
        "</main></body></html>\n",
    ]
    return "\n".join(parts)


__all__ = ["InputFile", "Summary", "FarmTrajectories", "build_report", "farm_table", "farm_trajectories",
           "rate_edges", "rate_histogram_svg", "report_time", "summarise", "trajectory_svg"]
