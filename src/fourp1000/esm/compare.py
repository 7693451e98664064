"""Measured SOC change between samplings of the same plots, on an equivalent soil mass.

:func:`compare_samplings` pairs each plot's follow-up samplings with its baseline (the
earliest sampling of one table, or of a separate baseline table), averages the per-core
stocks of :func:`fourp1000.esm.core_stocks` over each sampling's cores, and gives per plot
and standard depth the change, its annual rate in per mille of the baseline stock, the
4 per 1000 verdict and a bootstrap over cores (percentile interval of the change and the
share of resamples meeting the target). Plots that cannot be compared are left out and
reported as :class:`fourp1000.errors.Problem` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InputError, Problem
from ..stocks.layers import STONE_DENSITY_G_CM3
from ..stocks.trend import TREND_COLUMNS, observed_rate
from ..targets import meets_target, rate_per_mille
from .accounting import (
    comparable,
    dropped_problems,
    no_verdict_reasons,
    row_accounting,
    settle_severity,
    used_cores,
)
from .bootstrap import bootstrap_change, padded_groups
from .cores import INTERNAL_COLUMNS, check_method_and_depths, core_table
from .knots import Array
from .profiles import DEFAULT_SOM_FACTOR, build_profiles, core_codes, table_problem
from .samplings import (
    campaign_codes,
    decimal_year,
    sampling_codes,
    samplings_and_baselines,
)

__all__ = ["Comparison", "compare_samplings"]


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare_samplings`: per plot, per core, and the problems found."""

    plots: pd.DataFrame
    cores: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)
    #: One row per input row (baseline table first in two-file mode): ``file``,
    #: ``source_row``, ``from_baseline``, ``used`` (in a stock of ``plots``) and ``reason``
    #: (why not, "" where used).
    rows: pd.DataFrame | None = None


def _sampling_rows(
    horizons: pd.DataFrame, baseline: pd.DataFrame | None, file: str, baseline_file: str
) -> pd.DataFrame:
    """The rows of one or both tables, with their file, row number, plot, date and campaign codes.

    ``_visit`` codes a (plot, sampled_on); ``_pair`` codes the campaign: dates of a plot less
    than half a year apart are one sampling (:func:`fourp1000.esm.samplings.campaign_codes`).
    """
    if baseline is None:
        data = _one_file(horizons, file)
    else:
        data = _combine_files(horizons, baseline, file, baseline_file)
    data = data.drop(columns=["_plot", "_pair", "_visit"], errors="ignore")
    plot, visit = sampling_codes(data)
    codes, dates = pd.factorize(data["sampled_on"])  # each distinct date parsed once
    year = np.full(len(data), np.nan)
    if len(dates):
        year[codes >= 0] = decimal_year(pd.Series(dates))[codes[codes >= 0]]
    data["_plot"], data["_visit"], data["_pair"] = plot, visit, campaign_codes(plot, visit, year)
    data["_core"] = core_codes(data)
    return data


def _one_file(horizons: pd.DataFrame, file: str) -> pd.DataFrame:
    """The rows of one table holding every sampling, with their file and row numbers."""
    if "sampled_on" not in horizons:
        raise InputError("comparing samplings needs a sampled_on column, or a separate baseline table")
    data = horizons.assign(_file=file, _from_baseline=False)
    if "source_row" not in data:
        data["source_row"] = np.arange(1, len(data) + 1)
    return data


def _combine_files(horizons: pd.DataFrame, baseline: pd.DataFrame, file: str, baseline_file: str) -> pd.DataFrame:
    """The rows of a baseline and a follow-up table as one, marked by ``_from_baseline``.

    A table without ``sampled_on`` is one sampling, labelled "baseline" or "follow-up".
    """
    parts = []
    for frame, name, label, is_base in (
        (baseline, baseline_file, "baseline", True), (horizons, file, "follow-up", False)
    ):
        part = frame.copy()
        sampled = part["sampled_on"] if "sampled_on" in part else pd.Series(label, index=part.index)
        part["sampled_on"] = sampled.astype(object)
        part["_file"] = name
        part["_from_baseline"] = is_base
        if "source_row" not in part:
            part["source_row"] = np.arange(1, len(part) + 1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _campaign_notes(data: pd.DataFrame, file: str) -> tuple[list[Problem], pd.Series]:
    """A warning, and a note per plot, for each campaign made of several dates."""
    visits = data[data["_plot"] >= 0].drop_duplicates("_visit")
    merged = visits[visits.duplicated("_pair", keep=False)]
    if merged.empty:
        return [], pd.Series(dtype=object)
    labels = merged["sampled_on"].astype(str)
    dates = labels.groupby(merged["_pair"].to_numpy()).agg(", ".join)
    first = merged.groupby("_pair").first()
    text = ("samplings " + dates + " are less than half a year apart: taken as one campaign, dated "
            + first["sampled_on"].astype(str).reindex(dates.index)).rename("text")
    problems = [table_problem(first.at[pair, "_file"] if "_file" in first else file, first.at[pair, "source_row"],
                              "sampled_on", "one_campaign", f"plot {first.at[pair, 'plot_id']}: {message}",
                              first.at[pair, "plot_id"]) for pair, message in text.items()]
    for problem in problems:
        problem.severity = "warning"
    notes = text.groupby(first["plot_id"].astype(str).reindex(text.index).to_numpy()).agg("; ".join)
    return problems, notes


def _plot_problems(
    data: pd.DataFrame, cores: pd.DataFrame, is_baseline: NDArray[np.bool_], baselines: pd.DataFrame, two_files: bool
) -> tuple[NDArray[np.bool_], list[Problem]]:
    """Which cores' plots can be compared, and a problem for each plot that cannot."""
    plot, pair = sampling_codes(data)
    rows = pd.DataFrame({"_plot": plot, "_pair": pair, "_from_baseline": data["_from_baseline"].to_numpy(dtype=bool),
                         "plot_id": data["plot_id"].array, "sampled_on": data["sampled_on"].array,
                         "file": data["_file"].array, "source_row": data["source_row"].array})
    rows = rows[rows["_plot"] >= 0]  # rows without plot_id are reported by build_profiles
    plots = rows.groupby("_plot").agg(
        plot_id=("plot_id", "first"), sampled_on=("sampled_on", "first"), file=("file", "first"),
        source_row=("source_row", "first"), in_baseline=("_from_baseline", "any"), n_samplings=("_pair", "nunique"),
    )
    core_plot = cores["_plot"].to_numpy()
    plots["has_base"] = pd.Series(is_baseline).groupby(core_plot).any().reindex(plots.index, fill_value=False)
    plots["has_follow"] = pd.Series(~is_baseline).groupby(core_plot).any().reindex(plots.index, fill_value=False)
    rule = np.select(
        [
            two_files & ~plots["in_baseline"].to_numpy(dtype=bool),
            plots["n_samplings"].to_numpy() < 2,
            ~plots["has_base"].to_numpy(dtype=bool),
            ~plots["has_follow"].to_numpy(dtype=bool),
        ],
        ["not_in_baseline", "one_sampling", "no_valid_baseline", "no_valid_follow_up"],
        default="",
    )
    messages = {
        "not_in_baseline": "plot is not in the baseline file: left out",
        "one_sampling": "plot has one sampling only ({sampled_on}): nothing to compare",
        "no_valid_baseline": "the baseline sampling ({baseline}) has no valid core: plot left out",
        "no_valid_follow_up": "no follow-up sampling has a valid core: plot left out",
    }
    problems = []
    for i in np.flatnonzero(rule != ""):
        code = plots.index[i]
        baseline = baselines["sampled_on"].get(code)
        text = messages[str(rule[i])].format(sampled_on=plots["sampled_on"].iat[i], baseline=baseline)
        if baseline is None and rule[i] == "no_valid_baseline":
            text = "no sampling of the plot is the one --baseline-sampling names: plot left out"
        problems.append(table_problem(plots["file"].iat[i], plots["source_row"].iat[i], "plot_id", str(rule[i]), text,
                                 plots["plot_id"].iat[i]))
    return np.isin(core_plot, plots.index[rule == ""].to_numpy()), problems


def compare_samplings(
    horizons: pd.DataFrame,
    depths_cm: Sequence[float] = (30.0,),
    *,
    baseline: pd.DataFrame | None = None,
    method: str = "spline",
    mass_basis: Literal["mineral", "total"] = "mineral",
    som_factor: float = DEFAULT_SOM_FACTOR,
    reference: str | Sequence[float] | pd.DataFrame = "baseline_mean",
    extrapolate: bool = True,
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    years: float | None = None,
    file: str = "<input>",
    baseline_file: str = "<baseline>",
    baseline_sampling: str | None = None,
) -> Comparison:
    """Measured SOC change between the baseline and each follow-up sampling, per plot.

    Parameters
    ----------
    horizons : DataFrame
        Canonical horizon table. Alone, it holds several samplings per plot
        (``sampled_on``: a year or a date) and the earliest of each plot is the baseline.
        With ``baseline``, it holds the follow-up sampling(s).
    depths_cm : sequence of float [cm]
        Standard depths (the 4 per 1000 target is defined on 0–30 cm).
    baseline : DataFrame, optional
        Baseline horizon table (two-file mode): each plot's earliest sampling in it is
        the baseline; every other sampling, in either table, is a follow-up. A table
        without ``sampled_on`` is one sampling, labelled "baseline" or "follow-up" (then
        ``years`` and the rates are unknown).
    method, mass_basis, som_factor, reference, extrapolate, stone_density_g_cm3
        As in :func:`fourp1000.esm.core_stocks`.
    n_bootstrap : int
        Bootstrap resamples over cores (0 to skip).
    confidence : float
        Confidence level of the interval of the change.
    seed : int or None
        Seed of the bootstrap; a given seed gives the same result.
    years : float, optional [yr]
        Years between a baseline and a follow-up whose dates are unknown (two undated
        tables, or sampling labels that are not dates).
    file, baseline_file : str
        File names for problem reports.
    baseline_sampling : str, optional
        The ``sampled_on`` value (as written) of the baseline sampling of every plot,
        instead of the earliest; a plot without a sampling of that value has no baseline
        (problem ``no_valid_baseline``). For samplings labelled rather than dated, whose
        "earliest" is the first in text order.

    Returns
    -------
    Comparison
        ``plots``: one row per plot, follow-up sampling and depth: ``plot_id``,
        [``farm_id``], ``depth_cm``, ``baseline_sampled_on``, ``sampled_on``, ``years``,
        ``n_baseline_cores``, ``n_cores``, ``reference_mass_t_ha``,
        ``baseline_stock_t_ha`` (ESM basis), ``baseline_stock_sd_t_ha``,
        ``baseline_fixed_depth_stock_t_ha``, ``fixed_depth_stock_t_ha``,
        ``fixed_depth_stock_sd_t_ha``, ``esm_stock_t_ha``, ``esm_stock_sd_t_ha``,
        ``fixed_depth_change_t_ha``, ``esm_change_t_ha``, ``esm_change_se_t_ha``,
        ``change_ci_low_t_ha``, ``change_ci_high_t_ha``, ``annual_change_t_ha_yr``,
        ``rate_per_mille``, ``meets_4p1000``, ``p_meets_4p1000``, ``extrapolated`` (any
        core of either sampling), ``no_verdict_reason`` ("" where there is a verdict),
        ``n_samplings``, ``observed_rate_t_ha_yr``, ``observed_rate_se_t_ha_yr``,
        ``observed_rate_per_mille``, ``observed_meets_4p1000`` (the least-squares rate over
        all samplings of the plot and depth, :func:`fourp1000.stocks.trend.observed_rate`),
        ``notes``, ``method``, ``mass_basis``; only rows with a stock on both sides. ``cores``: the per-core
        table of :func:`fourp1000.esm.core_stocks`. ``problems``: bad cores, plots with one sampling,
        follow-up plots missing from the baseline, ...; those are left out, the rest is
        computed. ``rows``: every input row, used or not, with the reason.

    Notes
    -----
    Stocks of a sampling are means over its cores, sd over cores (ddof 1); the standard
    error of the change is ``sqrt(sd_b²/n_b + sd_f²/n_f)``. ``rate_per_mille`` = ESM
    change / years / baseline ESM stock × 1000, and ``meets_4p1000`` is
    ``rate_per_mille >= 4`` (:mod:`fourp1000.targets`). The bootstrap resamples the
    baseline and the follow-up cores independently, with replacement, the reference
    masses held fixed; it gives the percentile interval of the change of the mean stock
    and ``p_meets_4p1000``, the share of resamples whose rate reaches 4 per mille. Both
    need two or more cores in each sampling (NaN otherwise); ``p_meets_4p1000`` also
    needs ``years > 0``.

    References
    ----------
    .. [1] von Haden, A. C., Yang, W. H. & DeLucia, E. H. (2020). Glob. Change Biol. 26,
       3759–3770. doi:10.1111/gcb.15124
    .. [2] Minasny, B. et al. (2017). Soil carbon 4 per mille. Geoderma 292, 59–86.
       doi:10.1016/j.geoderma.2017.01.002
    .. [3] Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
       Chapman & Hall, New York. Ch. 13 (percentile intervals).
    """
    depth = check_method_and_depths(method, depths_cm)
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}")
    if years is not None and not (np.isfinite(years) and years > 0):
        raise InputError(f"years between samplings must be a positive number, got {years!r}")
    two_files = baseline is not None
    data = _sampling_rows(horizons, baseline, file, baseline_file)
    candidates = data["_from_baseline"].to_numpy(dtype=bool) if two_files else None  # baselines: first file
    if baseline_sampling is not None:  # the sampling so labelled, in whichever file
        named = (data["sampled_on"].astype(str) == str(baseline_sampling)).to_numpy()
        candidates = named if candidates is None else candidates & named
    samplings, baselines = samplings_and_baselines(data, candidates)
    profiles, problems = build_profiles(
        data, mass_basis=mass_basis, som_factor=som_factor, stone_density_g_cm3=stone_density_g_cm3, file=file
    )
    is_baseline = np.isin(profiles.cores["_pair"].to_numpy(), baselines["_pair"].to_numpy())
    keep, plot_problems = _plot_problems(data, profiles.cores, is_baseline, baselines, two_files)
    table, core_problems = core_table(profiles.subset(keep), is_baseline[keep], depth, reference, method, extrapolate)
    table["_group"] = table.groupby(["_pair", "depth_cm"], sort=False).ngroup().to_numpy()
    paired, dropped = comparable(_with_baseline(_sampling_stats(table, samplings)))
    plots = _plot_table(paired, table, depth, samplings["_year"], years, n_bootstrap, confidence,
                        np.random.default_rng(seed))
    campaign_problems, notes = _campaign_notes(data, file)
    plots["notes"] = plots["plot_id"].astype(str).map(notes).astype(object).fillna("").to_numpy(dtype=object)
    plots["method"] = method
    plots["mass_basis"] = mass_basis
    used = used_cores(table, paired)
    found = problems + plot_problems + settle_severity(core_problems, data, used)
    found += dropped_problems(dropped, set(paired["_plot"]))
    rows = row_accounting(data, used, found)
    return Comparison(plots=plots, cores=table.drop(columns=INTERNAL_COLUMNS + ["_group"]),
                      problems=found + campaign_problems, rows=rows)


_PLOT_COLUMNS = (
    "plot_id", "depth_cm", "baseline_sampled_on", "sampled_on", "years", "n_baseline_cores", "n_cores",
    "reference_mass_t_ha", "baseline_stock_t_ha", "baseline_stock_sd_t_ha", "baseline_fixed_depth_stock_t_ha",
    "fixed_depth_stock_t_ha", "fixed_depth_stock_sd_t_ha", "esm_stock_t_ha", "esm_stock_sd_t_ha",
    "fixed_depth_change_t_ha", "esm_change_t_ha", "esm_change_se_t_ha", "change_ci_low_t_ha",
    "change_ci_high_t_ha", "annual_change_t_ha_yr", "rate_per_mille", "meets_4p1000", "p_meets_4p1000",
    "extrapolated", "no_verdict_reason", *TREND_COLUMNS,
)


def _plot_table(
    out: pd.DataFrame, table: pd.DataFrame, depth_cm: Array, year_of_pair: pd.Series, given_years: float | None,
    n_bootstrap: int, confidence: float, rng: np.random.Generator,
) -> pd.DataFrame:
    """Each comparable follow-up beside its baseline: change, rate, verdict, bootstrap, observed rate."""
    t = table  # cores with their (sampling, depth) group
    n_groups = int(t["_group"].max()) + 1 if len(t) else 0
    values, counts = padded_groups(t["esm_stock_t_ha"].to_numpy(dtype=float), t["_group"].to_numpy(), n_groups)
    out = out.copy()
    years = _add_changes(out, year_of_pair, given_years)
    bg, fg = out["_base_group"].to_numpy(), out["_group"].to_numpy()
    low, high, p_meets = bootstrap_change(values[bg], counts[bg], values[fg], counts[fg], years,
                                          n_bootstrap=n_bootstrap, confidence=confidence, rng=rng)
    out["change_ci_low_t_ha"], out["change_ci_high_t_ha"], out["p_meets_4p1000"] = low, high, p_meets
    out["extrapolated"] = out["extrapolated"] | out["_base_extrapolated"]
    out["no_verdict_reason"] = no_verdict_reasons(out)
    out = _with_observed_rate(out, confidence)

    columns = list(_PLOT_COLUMNS)
    if "farm_id" in table:
        out["farm_id"] = out["_plot"].map(table.drop_duplicates("_plot").set_index("_plot")["farm_id"])
        columns.insert(1, "farm_id")
    out["_depth_order"] = out["depth_cm"].map({d: i for i, d in enumerate(depth_cm)})
    out = out.sort_values(["_plot", "_year", "_depth_order"], kind="stable")
    return out[columns].reset_index(drop=True)


def _sampling_stats(table: pd.DataFrame, samplings: pd.DataFrame) -> pd.DataFrame:
    """One row per (sampling, depth) group ``_group``: counts, means and sd of the cores' stocks,
    and why no core has a stock (``n_all`` cores, ``n_shallow`` too shallow, ``n_refused`` not
    extrapolated).
    """
    t = table.assign(_refused=table["extrapolated"] & table["esm_stock_t_ha"].isna())
    stats = t.groupby("_group").agg(
        plot_id=("plot_id", "first"),
        _plot=("_plot", "first"),
        _pair=("_pair", "first"),
        depth_cm=("depth_cm", "first"),
        is_baseline=("is_baseline", "first"),
        n=("esm_stock_t_ha", "count"),
        n_all=("esm_stock_t_ha", "size"),
        n_shallow=("_too_shallow", "sum"),
        n_refused=("_refused", "sum"),
        esm=("esm_stock_t_ha", "mean"),
        esm_sd=("esm_stock_t_ha", "std"),
        fd=("fixed_depth_stock_t_ha", "mean"),
        fd_sd=("fixed_depth_stock_t_ha", "std"),
        reference_mass_t_ha=("reference_mass_t_ha", "first"),
        extrapolated=("extrapolated", "any"),
        source_row=("source_row", "first"),
        file=("file", "first"),
    ).reset_index()
    # The campaign's label: its first date (cores keep their own).
    stats.insert(5, "sampled_on", samplings["sampled_on"].reindex(stats["_pair"]).to_numpy())
    return stats


def _with_baseline(stats: pd.DataFrame) -> pd.DataFrame:
    """Each follow-up (sampling, depth) row beside its plot's baseline row at that depth."""
    base = stats[stats["is_baseline"]].rename(columns={
        "sampled_on": "baseline_sampled_on", "n": "n_baseline_cores", "esm": "baseline_stock_t_ha",
        "esm_sd": "baseline_stock_sd_t_ha", "fd": "baseline_fixed_depth_stock_t_ha",
        "extrapolated": "_base_extrapolated", "_group": "_base_group", "_pair": "_base_pair",
        "n_all": "_base_n_all", "n_shallow": "_base_n_shallow", "n_refused": "_base_n_refused",
        "source_row": "_base_source_row", "file": "_base_file",
    })[["_plot", "_base_pair", "depth_cm", "baseline_sampled_on", "n_baseline_cores", "baseline_stock_t_ha",
        "baseline_stock_sd_t_ha", "baseline_fixed_depth_stock_t_ha", "_base_extrapolated", "_base_group",
        "_base_n_all", "_base_n_shallow", "_base_n_refused", "_base_source_row", "_base_file"]]
    out = stats[~stats["is_baseline"]].merge(base, on=["_plot", "depth_cm"], how="inner")
    return out.rename(columns={"n": "n_cores", "esm": "esm_stock_t_ha", "esm_sd": "esm_stock_sd_t_ha",
                               "fd": "fixed_depth_stock_t_ha", "fd_sd": "fixed_depth_stock_sd_t_ha"})


def _add_changes(out: pd.DataFrame, year_of_pair: pd.Series, given_years: float | None) -> Array:
    """Add the years, changes, their standard error, the annual rate and the 4 per 1000
    verdict to the paired rows (in place); returns the years [yr].
    """
    out["_year"] = year_of_pair.reindex(out["_pair"]).to_numpy()
    years = out["_year"].to_numpy() - year_of_pair.reindex(out["_base_pair"]).to_numpy()
    if given_years is not None:  # undated samplings: the years the user gave
        years = np.where(np.isnan(years), float(given_years), years)
    out["years"] = years
    out["esm_change_t_ha"] = out["esm_stock_t_ha"] - out["baseline_stock_t_ha"]
    out["fixed_depth_change_t_ha"] = out["fixed_depth_stock_t_ha"] - out["baseline_fixed_depth_stock_t_ha"]
    out["esm_change_se_t_ha"] = np.sqrt(
        out["esm_stock_sd_t_ha"] ** 2 / out["n_cores"] + out["baseline_stock_sd_t_ha"] ** 2 / out["n_baseline_cores"]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        annual = out["esm_change_t_ha"].to_numpy(dtype=float) / np.where(years > 0, years, np.nan)
    out["annual_change_t_ha_yr"] = annual
    rate = rate_per_mille(annual, out["baseline_stock_t_ha"].to_numpy(dtype=float))
    out["rate_per_mille"] = rate
    out["meets_4p1000"] = pd.array(np.where(np.isnan(rate), None, meets_target(rate)), dtype="boolean")
    return years


def _with_observed_rate(out: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """The least-squares rate over all samplings of each plot and depth (the baseline at time 0)."""
    series = out.groupby(["_plot", "depth_cm"], sort=False).ngroup().to_numpy()
    first = ~pd.Series(series).duplicated().to_numpy()
    x = np.r_[np.zeros(int(first.sum())), out["years"].to_numpy(dtype=float)]
    y = np.r_[out["baseline_stock_t_ha"].to_numpy(dtype=float)[first], out["esm_stock_t_ha"].to_numpy(dtype=float)]
    trend = observed_rate(np.r_[series[first], series], x, y, confidence=confidence)
    return out.join(trend.reindex(series).reset_index(drop=True).set_axis(out.index))
