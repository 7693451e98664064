"""The numbers behind the report, as data: summaries, ranked farms, trajectories, rate histograms.

Nothing here is a new estimate. Plot results are those of the projection
(:func:`fourp1000.projection.table.project_table`); farm results are the library's one
aggregation, :func:`fourp1000.projection.tier1.aggregate_farms` (area-weighted totals), for
the horizon and for every year of the trajectory; the 4 per 1000 path and the shortfall
use :func:`fourp1000.targets.four_per_mille`. Where some plot has no ``area_ha`` there are
no farm totals, and the report shows plots only: it never falls back to unweighted means.

With several projection models (``model`` column, ``--model ipcc,rothc``) every function
takes the ``model`` whose rows it uses.

Notes
-----
The 95 % band of a trajectory (when the result carries Monte Carlo percentiles, see
:mod:`fourp1000.uncertainty`) is known at year 0 and at the horizon only
(``baseline_stock_*_p2_5`` ... ``final_stock_*_p97_5``). In between it is moved along
the model's yearly path: at year t the lower bound is ``lo_0 + w(t) (lo_T - lo_0)`` with
``w(t) = (S(t) - S(0)) / (S(T) - S(0))`` the share of the projected change reached by
year t (``t / T`` on a flat path). So the band rises with an IPCC Tier 1 transition and
stays flat after it, and bends with a curved path; it is exact at year 0, at the horizon
and wherever the path has reached its final stock, and an approximation in between
(quantiles of intermediate years are not recomputed).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..esm.samplings import campaign_codes
from ..io.horizons import is_in
from ..projection.tier1 import aggregate_farms
from ..stocks import co2e
from ..stocks.farms import farm_totals, per_hectare
from ..stocks.trend import observed_rate
from ..targets import TARGET_PER_MILLE, four_per_mille, meets_target

#: Suffixes of the Monte Carlo percentile columns (2.5 % and 97.5 %).
LOW, HIGH = "_p2_5", "_p97_5"
#: Share of Monte Carlo draws meeting 4 per 1000, and the verdict at the asked confidence.
P_MEETS = "p_meets_4p1000"
CONFIDENT = "meets_4p1000_at_confidence"
#: Decimals of a rate [per mille yr-1] when binned: rates equal but for float noise share a bar.
RATE_DECIMALS = 9


def verdict_column(frame: pd.DataFrame | None) -> str:
    """The verdict a page shows: at the Monte Carlo confidence when the frame has it, else the deterministic one."""
    return CONFIDENT if frame is not None and CONFIDENT in frame.columns else "meets_4p1000"


def verdicts(frame: pd.DataFrame) -> np.ndarray:
    """The shown verdict of every row (:func:`verdict_column`) as booleans (a missing verdict is False)."""
    return frame[verdict_column(frame)].fillna(False).to_numpy(dtype=bool)


def measurement_flags(result) -> pd.DataFrame:
    """Per plot, what makes its measured stock less certain: ``bd_estimated`` and ``extrapolated_cm``.

    Read from the stocks behind the baselines (``result.stocks``, the records of
    :func:`fourp1000.stocks.estimate.estimate_stocks`): ``bd_estimated`` is True when the bulk
    density of some layer of some record (sampling, core) came from a pedotransfer function,
    ``extrapolated_cm`` [cm] is the deepest extrapolation (0 when none). Index ``plot_id``;
    plots without layers (IPCC default baseline) are absent.
    """
    stocks = getattr(result, "stocks", None)
    if stocks is None or not len(stocks) or "plot_id" not in stocks:
        return pd.DataFrame({"bd_estimated": pd.Series(dtype=bool), "extrapolated_cm": pd.Series(dtype=float)},
                            index=pd.Index([], name="plot_id", dtype=object))
    flags = pd.DataFrame({
        "plot_id": stocks["plot_id"].to_numpy(dtype=object),
        "bd_estimated": (stocks["bd_estimated"].fillna(False).to_numpy(dtype=bool) if "bd_estimated" in stocks
                         else np.zeros(len(stocks), bool)),
        "extrapolated_cm": (pd.to_numeric(stocks["extrapolated_cm"], errors="coerce").fillna(0.0).to_numpy(float)
                            if "extrapolated_cm" in stocks else np.zeros(len(stocks))),
    })
    return flags.groupby("plot_id", sort=False).agg(bd_estimated=("bd_estimated", "any"),
                                                     extrapolated_cm=("extrapolated_cm", "max"))


def with_flags(plots: pd.DataFrame, flags: pd.DataFrame) -> pd.DataFrame:
    """Plots with ``bd_estimated``, ``extrapolated_cm`` and ``default_baseline`` (no measured stock).

    Columns the projection already carries are kept as they are.
    """
    ids = plots["plot_id"]
    add = {}
    if "bd_estimated" not in plots:
        add["bd_estimated"] = is_in(ids, flags.index[flags["bd_estimated"].to_numpy(dtype=bool)])
    if "extrapolated_cm" not in plots:
        add["extrapolated_cm"] = ids.map(flags["extrapolated_cm"]).astype(float).fillna(0.0).to_numpy()
    if "default_baseline" not in plots:
        source = plots["baseline_source"] if "baseline_source" in plots else pd.Series("measured", index=plots.index)
        add["default_baseline"] = (source.astype(str) != "measured").to_numpy(dtype=bool)
    return plots.assign(**add)


def flag_counts(plots: pd.DataFrame, key: str | None = None) -> pd.DataFrame | dict[str, int]:
    """Plots with an estimated bulk density, an extrapolated depth, a default baseline: in all, or per ``key``."""
    marks = pd.DataFrame({"n_plots_bd_estimated": plots["bd_estimated"].to_numpy(dtype=int),
                          "n_plots_extrapolated": (plots["extrapolated_cm"].to_numpy(float) > 0).astype(int),
                          "n_plots_default_baseline": plots["default_baseline"].to_numpy(dtype=int)})
    if key is None:
        return {name: int(values.sum()) for name, values in marks.items()}
    return marks.groupby(plots[key].to_numpy(dtype=object), sort=False).sum()


def model_rows(frame: pd.DataFrame | None, model: str | None) -> pd.DataFrame | None:
    """Rows of one projection model (every row when the frame has no ``model`` column)."""
    if frame is None or model is None or "model" not in frame.columns:
        return frame
    return frame[frame["model"].to_numpy() == model].reset_index(drop=True)


def model_label(model: str, options: object) -> str:
    """How the page names a model: ``IPCC Tier 1 (2019)``, the rates method, or ``RothC-26.3``."""
    if model == "rothc":
        return "RothC-26.3"
    if getattr(options, "method", "ipcc") == "rates":
        return "meta-analysis rates of the practices"
    return f"IPCC Tier 1 ({getattr(options, 'ipcc_version', '')})"


@dataclass(frozen=True)
class Summary:
    """Headline figures of one model's projection (areas [ha]; NaN where plots lack an area).

    ``n_farms_meeting`` is None when farms have no area-weighted totals (some plot has no
    ``area_ha``). With Monte Carlo results (``meets_4p1000_at_confidence``) the counts of
    plots, area and farms meeting 4 per 1000 are those at the confidence asked
    (``at_confidence`` True) and ``n_plots_meeting_central``, ``n_farms_meeting_central``
    keep the deterministic verdict. ``change_t_c`` [t C] is the change of every farm's
    stock over the horizon, summed (NaN without farm totals); ``n_plots_bd_estimated``,
    ``n_plots_extrapolated``, ``n_plots_default_baseline`` count plots whose baseline rests
    on an estimated bulk density, an extrapolated depth or the IPCC default stock.
    """

    n_rows: int
    n_rows_rejected: int
    n_plots: int
    n_plots_meeting: int
    n_farms: int
    n_farms_meeting: int | None
    area_ha: float
    area_meeting_ha: float
    years: int
    at_confidence: bool = False
    n_plots_meeting_central: int = 0
    n_farms_meeting_central: int | None = None
    change_t_c: float = math.nan
    n_plots_bd_estimated: int = 0
    n_plots_extrapolated: int = 0
    n_plots_default_baseline: int = 0

    @property
    def change_co2e_t(self) -> float:
        """Change of the farms' stock over the horizon as CO2 [t CO2e] (x 44/12)."""
        return float(co2e(self.change_t_c))

    @property
    def annual_change_t_c_yr(self) -> float:
        """Mean yearly change of the farms' stock [t C yr-1]."""
        return self.change_t_c / self.years if self.years else math.nan

    @property
    def annual_change_co2e_t_yr(self) -> float:
        """Mean yearly change of the farms' stock as CO2 [t CO2e yr-1]."""
        return float(co2e(self.annual_change_t_c_yr))

    @property
    def share_plots_meeting(self) -> float:
        """Share of plots meeting 4 per 1000 [0-1] (NaN without plots)."""
        return self.n_plots_meeting / self.n_plots if self.n_plots else math.nan

    @property
    def share_area_meeting(self) -> float:
        """Share of the area in plots meeting 4 per 1000 [0-1] (NaN without areas)."""
        return self.area_meeting_ha / self.area_ha if self.area_ha > 0 else math.nan


def summarise(result, model: str | None = None) -> Summary:
    """Headline figures of a :class:`~fourp1000.projection.table.ProjectResult` (one model)."""
    plots = with_flags(model_rows(result.plots, model), measurement_flags(result))
    farms = model_rows(result.farms, model)
    meets = verdicts(plots)
    area = (pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float) if "area_ha" in plots
            else np.full(len(plots), np.nan))
    has_area = bool(len(area)) and bool(np.isfinite(area).all())
    if farms is not None:
        n_farms = len(farms)
    else:  # farms without totals are still counted: plots without farm_id make one
        n_farms = plots["farm_id"].nunique(dropna=False) if "farm_id" in plots else int(len(plots) > 0)
    return Summary(
        n_rows=int(result.n_rows),
        n_rows_rejected=int(len(result.rejects)),
        n_plots=int(len(plots)),
        n_plots_meeting=int(meets.sum()),
        n_farms=int(n_farms),
        n_farms_meeting=None if farms is None else int(verdicts(farms).sum()),
        area_ha=float(area.sum()) if has_area else math.nan,
        area_meeting_ha=float(area[meets].sum()) if has_area else math.nan,
        years=int(result.options.years),
        at_confidence=verdict_column(plots) == CONFIDENT,
        n_plots_meeting_central=int(plots["meets_4p1000"].to_numpy(dtype=bool).sum()),
        n_farms_meeting_central=None if farms is None else int(farms["meets_4p1000"].to_numpy(dtype=bool).sum()),
        change_t_c=(math.nan if farms is None else
                    float((farms["final_stock_t_c"].to_numpy(float) - farms["baseline_stock_t_c"].to_numpy(float)).sum())),
        **flag_counts(plots),
    )


def rank_by_rate(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows ranked by ``rate_per_mille`` (highest first, rates that are NaN last), with a ``rank``."""
    rate = np.nan_to_num(frame["rate_per_mille"].to_numpy(float), nan=-np.inf)
    ranked = frame.iloc[np.argsort(-rate, kind="stable")].reset_index(drop=True)
    ranked.insert(0, "rank", np.arange(1, len(ranked) + 1))
    return ranked


def farm_table(result, model: str | None = None) -> pd.DataFrame | None:
    """The farms of :func:`~fourp1000.projection.tier1.aggregate_farms` (``result.farms``), ranked by rate.

    Returns None when the projection has no farm totals (some plot has no ``area_ha``).
    """
    farms = model_rows(result.farms, model)
    return None if farms is None else rank_by_rate(farms)


def shortfall(plots: pd.DataFrame) -> pd.DataFrame:
    """Plots that miss 4 per 1000, largest shortfall first, with ``gap_t_ha_yr`` and ``gap_co2e_t_ha_yr``.

    ``gap_t_ha_yr`` [t C ha-1 yr-1] is the extra mean yearly gain the plot would need:
    ``four_per_mille(baseline) - annual change`` (the deterministic verdict and change);
    ``gap_co2e_t_ha_yr`` [t CO2e ha-1 yr-1] is the same as CO2.
    """
    short = plots[~plots["meets_4p1000"].to_numpy(dtype=bool)]
    gap = (four_per_mille(short["baseline_stock_t_ha"].to_numpy(float))
           - short["annual_change_t_ha_yr"].to_numpy(float))
    short = short.assign(gap_t_ha_yr=gap, gap_co2e_t_ha_yr=co2e(gap))
    return short.iloc[np.argsort(-gap, kind="stable")].reset_index(drop=True)


def with_co2e(frame: pd.DataFrame | None, columns: dict[str, str]) -> pd.DataFrame | None:
    """``frame`` with each CO2e column of ``columns`` (CO2e name -> carbon name), computed where missing."""
    if frame is None:
        return None
    add = {name: co2e(frame[carbon].to_numpy(float)) for name, carbon in columns.items()
           if name not in frame and carbon in frame}
    return frame.assign(**add) if add else frame


@dataclass(frozen=True)
class Trajectories:
    """Yearly stocks of farms or plots, long format, with the 4 per 1000 path and the band.

    Attributes
    ----------
    frame : pandas.DataFrame
        ``key`` column (``farm_id`` or ``plot_id``), ``year`` [yr], ``scenario`` (stock under
        the practices, the model's yearly values), ``no_change`` (the baseline stock kept),
        ``path_4p1000`` (baseline + 4 per 1000 of it each year), ``lower`` and ``upper``
        (95 % band, NaN without Monte Carlo percentiles), all in ``unit``.
    key : str
        ``"farm_id"`` or ``"plot_id"``.
    unit : str
        ``"t C"`` (farm totals) or ``"t C ha-1"`` (plots).
    has_band : bool
    """

    frame: pd.DataFrame
    key: str
    unit: str
    has_band: bool


def yearly_plot_stocks(result, model: str | None = None) -> pd.DataFrame:
    """The model's yearly stocks [t C ha-1], one row per plot (in ``result.plots`` order), one column per year."""
    plots = model_rows(result.plots, model)
    yearly = model_rows(result.trajectory(), model)
    wide = yearly.pivot(index="plot_id", columns="year", values="stock_t_ha")
    return wide.reindex(plots["plot_id"].to_numpy())


def farm_trajectories(result, model: str | None = None) -> Trajectories:
    """Area-weighted stock of every farm, year by year [t C], with the 4 per 1000 path and band.

    Each year's farm stocks are :func:`~fourp1000.projection.tier1.aggregate_farms` of the
    plots' stocks that year, so year 0 and the horizon equal ``baseline_stock_t_c`` and
    ``final_stock_t_c`` of ``result.farms``.

    Raises
    ------
    ValueError
        If the result has no farm totals (some plot has no ``area_ha``).
    """
    farms = model_rows(result.farms, model)
    if farms is None:
        raise ValueError("farm trajectories need farm totals: every plot needs area_ha")
    plots = model_rows(result.plots, model)
    stocks = yearly_plot_stocks(result, model)
    needed = ["plot_id", "farm_id", "area_ha", "baseline_stock_t_ha", "annual_change_t_ha_yr"]
    slim = plots[[c for c in needed if c in plots.columns]]
    # One aggregation per year (not per plot): the farm totals come from the library's one rule.
    per_year = [aggregate_farms(slim.assign(final_stock_t_ha=stocks[year].to_numpy(float)))
                for year in stocks.columns]
    ids = per_year[0]["farm_id"].to_numpy(dtype=object) if per_year else np.array([], dtype=object)
    totals = np.column_stack([p["final_stock_t_c"].to_numpy(float) for p in per_year]) if per_year else None
    frame = _long(ids, stocks.columns.to_numpy(int), totals, "farm_id")
    return _with_path_and_band(frame, "farm_id", farms, "baseline_stock_t_c", "final_stock_t_c", "t C")


def plot_trajectories(result, model: str | None = None) -> Trajectories:
    """Stock of every plot, year by year [t C ha-1], with the 4 per 1000 path and band."""
    plots = model_rows(result.plots, model)
    stocks = yearly_plot_stocks(result, model)
    frame = _long(plots["plot_id"].to_numpy(dtype=object), stocks.columns.to_numpy(int),
                  stocks.to_numpy(float), "plot_id")
    return _with_path_and_band(frame, "plot_id", plots, "baseline_stock_t_ha", "final_stock_t_ha", "t C ha-1")


def _long(ids: np.ndarray, years: np.ndarray, stocks: np.ndarray | None, key: str) -> pd.DataFrame:
    """Long frame (key, year, scenario) from a (units x years) matrix."""
    if stocks is None or not len(ids):
        return pd.DataFrame({key: pd.Series(dtype=object), "year": pd.Series(dtype=int),
                             "scenario": pd.Series(dtype=float)})
    return pd.DataFrame({key: np.repeat(ids, years.size), "year": np.tile(years, len(ids)),
                         "scenario": np.asarray(stocks, dtype=float).ravel()})


def _with_path_and_band(frame: pd.DataFrame, key: str, units: pd.DataFrame, baseline: str, final: str,
                        unit: str) -> Trajectories:
    """Add the no-change line, the 4 per 1000 path and the 95 % band (see the module notes)."""
    grouped = frame.groupby(key, sort=False)["scenario"]
    first = grouped.transform("first").to_numpy(float)
    last = grouped.transform("last").to_numpy(float)
    year = frame["year"].to_numpy(float)
    out = frame.assign(no_change=first, path_4p1000=first + four_per_mille(first) * year, lower=np.nan, upper=np.nan)
    needed = [f"{c}{s}" for c in (baseline, final) for s in (LOW, HIGH)]
    if len(out) and all(c in units for c in needed):
        per_unit = units.set_index(key)
        lo_0, hi_0, lo_t, hi_t = (out[key].map(per_unit[c]).to_numpy(float) for c in needed)
        horizon = max(float(year.max()), 1.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            moved = np.abs(last - first) > 1e-12 * np.maximum(np.abs(first), 1.0)
            reached = np.where(moved, (out["scenario"].to_numpy(float) - first) / (last - first), year / horizon)
        out["lower"] = lo_0 + reached * (lo_t - lo_0)
        out["upper"] = hi_0 + reached * (hi_t - hi_0)
    has_band = bool(np.isfinite(out["lower"].to_numpy(float)).any())
    return Trajectories(out.reset_index(drop=True), key, unit, has_band)


def _nice_width(span: float, target_bins: int = 12) -> float:
    """A round bin width (1, 2, 4, 5 or 10 x 10^k) giving about ``target_bins`` bins.

    4 rather than 2.5 keeps 4 per mille on a bin edge for every width up to 4.
    """
    raw = max(span, 1.0) / target_bins  # at least 1 per mille wide: all-equal rates get readable bins
    power = 10.0 ** math.floor(math.log10(raw))
    for step in (1.0, 2.0, 4.0, 5.0):
        if raw <= step * power:
            return step * power
    return 10.0 * power


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
    # Rounded, so that 0.2 x 3 is the 0.6 a rate rounded to RATE_DECIMALS is compared with.
    return np.round(width * np.arange(k_lo, k_hi + 1), RATE_DECIMALS + 3)


@dataclass(frozen=True)
class RateHistogram:
    """Plot rates [per mille yr-1] binned on :func:`rate_edges`, split by verdict.

    ``n_short`` and ``n_meets`` count plots per bin (``len(edges) - 1`` bins);
    ``n_without_rate`` counts plots with no rate (zero baseline stock).
    """

    edges: np.ndarray
    n_short: np.ndarray
    n_meets: np.ndarray
    n_without_rate: int

    @property
    def n_with_rate(self) -> int:
        return int(self.n_short.sum() + self.n_meets.sum())


def binned_rates(rates_per_mille: np.ndarray) -> np.ndarray:
    """Rates as the histogram bins them [per mille yr-1]: rounded to :data:`RATE_DECIMALS`.

    Rates equal but for float noise (5.000000000000001 and 4.999999999999999 from the same
    factors) fall in one bar, and a rate that meets 4 per 1000 within the verdict's float
    tolerance (:func:`fourp1000.targets.meets_target`) sits on the 4 per mille edge, right of the line.
    """
    rates = np.round(np.asarray(rates_per_mille, dtype=float), RATE_DECIMALS)
    return np.where(meets_target(rates) & (rates < TARGET_PER_MILLE), TARGET_PER_MILLE, rates)


def rate_histogram(rates_per_mille: np.ndarray, meets: np.ndarray) -> RateHistogram:
    """Bin plot rates [per mille yr-1] (:func:`binned_rates`) by verdict (``meets``: 4 per 1000 met)."""
    rates = binned_rates(rates_per_mille)
    meets = np.asarray(meets, dtype=bool)
    ok = np.isfinite(rates)
    edges = rate_edges(rates[ok])
    n_short, _ = np.histogram(rates[ok & ~meets], bins=edges)
    n_meets, _ = np.histogram(rates[ok & meets], bins=edges)
    return RateHistogram(edges, n_short, n_meets, int((~ok).sum()))


@dataclass(frozen=True)
class ModelNumbers:
    """Everything the page shows for one projection model."""

    model: str
    label: str
    summary: Summary
    plots: pd.DataFrame
    farms: pd.DataFrame | None
    trajectories: Trajectories
    histogram: RateHistogram
    short_plots: pd.DataFrame


#: CO2 equivalents the tables show beside carbon (CO2e column -> carbon column).
PLOT_CO2E = {"baseline_co2e_t_ha": "baseline_stock_t_ha", "annual_change_co2e_t_ha_yr": "annual_change_t_ha_yr"}
FARM_CO2E = {"baseline_co2e_t": "baseline_stock_t_c", "final_co2e_t": "final_stock_t_c",
             "annual_change_co2e_t_yr": "annual_change_t_c_yr"}


def model_numbers(result, model: str) -> ModelNumbers:
    """The numbers of one model: farm trajectories with farm totals, else plot trajectories.

    Plots carry the CO2 equivalents (:data:`PLOT_CO2E`) and their measurement flags
    (:func:`with_flags`); farms the CO2 equivalents (:data:`FARM_CO2E`) and the number of
    their plots with each flag (:func:`flag_counts`). The histogram and the summary use the
    verdict at the Monte Carlo confidence when there is one (:func:`verdict_column`).
    """
    plots = with_co2e(with_flags(model_rows(result.plots, model), measurement_flags(result)), PLOT_CO2E)
    farms = with_co2e(farm_table(result, model), FARM_CO2E)
    if farms is not None and "farm_id" in plots:
        counts = flag_counts(plots, "farm_id")
        farms = farms.assign(**{c: farms["farm_id"].map(counts[c]).fillna(0).to_numpy(int) for c in counts})
    trajectories = farm_trajectories(result, model) if farms is not None else plot_trajectories(result, model)
    return ModelNumbers(
        model=model,
        label=model_label(model, result.options),
        summary=summarise(result, model),
        plots=plots,
        farms=farms,
        trajectories=trajectories,
        histogram=rate_histogram(plots["rate_per_mille"].to_numpy(float), verdicts(plots)),
        short_plots=shortfall(plots),
    )


def report_numbers(result) -> list[ModelNumbers]:
    """The numbers of every model of the projection, in the order asked (``--model``)."""
    return [model_numbers(result, model) for model in result.options.models]


# --------------------------------------------------------------------------------------
# `report --plan`: what each plot would need (fourp1000.plan)
# --------------------------------------------------------------------------------------


@dataclass
class PlanNumbers:
    """One model's plan for the report: counts and the rows of the plan table."""

    model: str
    n_plots: int
    n_reachable: int
    n_unreachable: int
    median_extra_input_t_c_ha_yr: float
    rows: pd.DataFrame
    farms: pd.DataFrame | None


def plan_numbers(plan_plots: pd.DataFrame, plan_farms: pd.DataFrame | None) -> list[PlanNumbers]:
    """Per model, what the plan (:func:`fourp1000.plan.plan_table`) says: how many plots can
    reach 4 per 1000 with the catalogue, the median extra RothC input, and the rows to list
    (plots that cannot reach it first, then by the size of their set)."""
    out = []
    for model in pd.unique(plan_plots["model"]):  # one or two models
        sel = plan_plots[plan_plots["model"] == model].copy()
        extra = (sel["extra_plant_input_t_c_ha_yr"].to_numpy(float) if "extra_plant_input_t_c_ha_yr" in sel
                 else np.full(len(sel), np.nan))
        sel["practice_set"] = sel["practice_set"].fillna("").astype(str)
        within = (sel["input_within_ceiling"] if "input_within_ceiling" in sel
                  else pd.Series(pd.NA, index=sel.index, dtype="boolean"))
        sel["above_ceiling"] = (within.astype("boolean") == False).fillna(False).astype(bool)  # noqa: E712
        rows = sel.sort_values(["reachable", "practice_set_size", "plot_id"], kind="stable")
        farms = None if plan_farms is None else plan_farms[plan_farms["model"] == model]
        reachable = int(sel["reachable"].astype(bool).sum())
        out.append(PlanNumbers(str(model), len(sel), reachable, len(sel) - reachable,
                               float(np.nanmedian(extra)) if np.isfinite(extra).any() else float("nan"), rows, farms))
    return out


@dataclass(frozen=True)
class MeasuredStocks:
    """Measured stocks over time (several samplings), per farm or per plot.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per unit and sampling, in time order: ``key`` (``farm_id`` or ``plot_id``),
        ``sampled_on`` (the campaign's first date), ``year`` [yr] (decimal), ``n_plots``
        (plots measured then), ``stock_t_ha`` [t C ha-1] (a farm: the area-weighted mean of
        its plots' stocks), ``se_t_ha`` (standard error of that mean from the spread over
        each plot's cores; NaN where a plot has one core), ``path_4p1000`` (the first
        sampling's stock growing by 4 per mille of itself each year since).
    rates : pandas.DataFrame
        Per unit (indexed by ``key``): :data:`~fourp1000.stocks.trend.TREND_COLUMNS`, the
        least-squares rate over the points of ``frame``.
    key : str
    unit : str
        ``"t C ha-1"``.
    """

    frame: pd.DataFrame
    rates: pd.DataFrame
    key: str
    unit: str = "t C ha-1"


def measured_stocks(result, confidence: float = 0.9) -> MeasuredStocks | None:
    """The measured stock of every farm (plots, without farm totals) at each dated sampling.

    From ``result.samplings`` (the per-plot, per-sampling stocks of ``--observed``,
    :func:`fourp1000.stocks.trend.sampling_stocks`). A farm's campaign gathers its plots'
    samplings less than half a year apart (:func:`fourp1000.esm.samplings.campaign_codes`)
    and its stock is the area-weighted mean of theirs (:func:`fourp1000.stocks.farms.farm_totals`),
    with the standard error sqrt(sum (a_i se_i)^2) / sum a_i (plots independent). Units with
    fewer than two dated samplings are left out; None when no unit has two.
    """
    samplings = getattr(result, "samplings", None)
    if samplings is None or not len(samplings):
        return None
    points = samplings[np.isfinite(samplings["year"].to_numpy(float))]
    if result.farms is not None and "farm_id" in points and "area_ha" in points:
        frame, key = _farm_campaigns(points), "farm_id"
    else:
        frame = points.rename(columns={"stock_se_t_ha": "se_t_ha"}).assign(n_plots=1)
        frame, key = frame[["plot_id", "sampled_on", "year", "n_plots", "stock_t_ha", "se_t_ha"]], "plot_id"
    frame = frame[frame.groupby(key, sort=False)["year"].transform("size").to_numpy() >= 2]
    if frame.empty:
        return None
    frame = frame.sort_values([key, "year"], kind="stable").reset_index(drop=True)
    by = frame.groupby(key, sort=False)
    first, since = by["stock_t_ha"].transform("first"), frame["year"] - by["year"].transform("first")
    frame["path_4p1000"] = first + four_per_mille(first) * since
    rates = observed_rate(frame[key].to_numpy(dtype=object), frame["year"].to_numpy(float),
                          frame["stock_t_ha"].to_numpy(float), confidence=confidence)
    return MeasuredStocks(frame, rates, key)


def _farm_campaigns(points: pd.DataFrame) -> pd.DataFrame:
    """Per farm and campaign: area-weighted mean stock of the plots sampled, its standard error."""
    farm = pd.factorize(points["farm_id"])[0].astype(np.int64)
    visit = pd.factorize(pd.Series(list(zip(farm, points["sampled_on"].astype(str)))))[0].astype(np.int64)
    campaign = campaign_codes(farm, visit, points["year"].to_numpy(float))
    work = points.assign(_campaign=campaign, _se2=points["stock_se_t_ha"] ** 2 * points["area_ha"])
    totals = farm_totals(work, ["farm_id", "_campaign"], {"stock_t_c": "stock_t_ha", "var_t2": "_se2"})
    first = work.sort_values("year", kind="stable").groupby("_campaign", sort=False)[["sampled_on", "year"]].first()
    return pd.DataFrame({
        "farm_id": totals["farm_id"].to_numpy(dtype=object),
        "sampled_on": totals["_campaign"].map(first["sampled_on"]).to_numpy(dtype=object),
        "year": totals["_campaign"].map(first["year"]).to_numpy(float),
        "n_plots": totals["n_plots"].to_numpy(dtype=np.int64),
        "stock_t_ha": per_hectare(totals["stock_t_c"], totals["area_ha"]),
        "se_t_ha": np.sqrt(totals["var_t2"].to_numpy(float)) / totals["area_ha"].to_numpy(float),
    })


__all__ = ["CONFIDENT", "FARM_CO2E", "HIGH", "LOW", "MeasuredStocks", "ModelNumbers", "PLOT_CO2E", "P_MEETS",
           "PlanNumbers", "RATE_DECIMALS", "RateHistogram", "Summary", "Trajectories", "binned_rates",
           "farm_table", "farm_trajectories", "flag_counts", "measured_stocks", "measurement_flags",
           "model_label", "model_numbers", "model_rows", "plan_numbers", "plot_trajectories", "rank_by_rate",
           "rate_edges", "rate_histogram", "report_numbers", "shortfall", "summarise", "verdict_column",
           "verdicts", "with_co2e", "with_flags", "yearly_plot_stocks"]
