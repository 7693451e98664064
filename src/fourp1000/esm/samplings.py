"""Plots and samplings of a horizon table: integer codes, sampling times, baselines.

A sampling is one (``plot_id``, ``sampled_on``); its ``sampled_on`` is a year or a date.
Each plot's baseline is its earliest sampling. Cores of one campaign are sometimes taken on
different days: :func:`campaign_codes` makes the dates of a plot that fall within
:data:`CAMPAIGN_WINDOW_YEARS` of the campaign's first date one sampling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .knots import Array

__all__ = ["CAMPAIGN_WINDOW_YEARS", "campaign_codes", "decimal_year", "sampling_codes", "samplings_and_baselines"]

#: Dates of one plot less than this many years after the first date of a campaign belong
#: to that campaign (cores taken over a few days or weeks). Half a year: a SOC stock change
#: is measured over years, and a yearly rate over a shorter span is meaningless.
CAMPAIGN_WINDOW_YEARS = 0.5


def sampling_codes(frame: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Integer codes of the plot and of the (plot, sampling) pair of each row.

    Codes already in the ``_plot`` and ``_pair`` columns (computed once by the caller) are
    used as they are. Rows without ``plot_id`` get plot code -1.
    """
    if "_plot" in frame and "_pair" in frame:
        return frame["_plot"].to_numpy(dtype=np.int64), frame["_pair"].to_numpy(dtype=np.int64)
    plot = pd.factorize(frame["plot_id"])[0].astype(np.int64)
    if "sampled_on" in frame:
        sampling = pd.factorize(frame["sampled_on"].astype(object).where(frame["sampled_on"].notna(), None))[0]
    else:
        sampling = np.zeros(len(frame), dtype=np.int64)
    return plot, plot * (int(sampling.max(initial=0)) + 2) + sampling + 1


def decimal_year(values: pd.Series) -> Array:
    """Sampling time in decimal years (year numbers or dates); NaN where neither."""
    values = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        return 1970.0 + (values - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float) / 365.2425
    years = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    rest = np.isnan(years) & values.notna().to_numpy()
    if rest.any():
        dates = pd.to_datetime(values[rest].astype(str), errors="coerce", format="mixed")
        years[rest] = 1970.0 + (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float) / 365.2425
    return years


def samplings_and_baselines(
    horizons: pd.DataFrame, candidates: NDArray[np.bool_] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Samplings (plot, sampled_on) with their time, and each plot's baseline.

    Returns ``(samplings, baselines)``: ``samplings`` indexed by pair code with
    ``_plot``, ``sampled_on`` and ``_year`` (decimal year); ``baselines`` indexed by plot
    code with the ``_pair`` and ``sampled_on`` of the plot's earliest sampling among the
    ``candidates`` rows. Chosen on the input rows, before validation, so that a baseline
    whose cores are all invalid is reported rather than replaced by the next sampling.
    """
    plot, pair = sampling_codes(horizons)
    sampled = horizons["sampled_on"].array if "sampled_on" in horizons else np.full(len(horizons), None)
    rows = pd.DataFrame({"_plot": plot, "_pair": pair, "sampled_on": sampled})
    # One row per date (``_visit``) of each sampling; a campaign of several dates is labelled
    # and timed by its first date.
    visit = horizons["_visit"].to_numpy() if "_visit" in horizons else pair
    samplings = rows[~pd.Series(visit).duplicated().to_numpy()].copy()
    samplings["_year"] = decimal_year(samplings["sampled_on"])
    samplings = samplings.sort_values("_year", kind="stable", na_position="last").drop_duplicates("_pair")
    samplings["_label"] = samplings["sampled_on"].astype(str)
    candidate_pairs = samplings if candidates is None else samplings[samplings["_pair"].isin(rows["_pair"][candidates])]
    first = candidate_pairs.sort_values(["_plot", "_year", "_label"], na_position="last", kind="stable")
    baselines = first.drop_duplicates("_plot").set_index("_plot")[["_pair", "sampled_on"]]
    return samplings.set_index("_pair")[["_plot", "sampled_on", "_year"]], baselines


def campaign_codes(plot: NDArray[np.int64], pair: NDArray[np.int64], year: Array,
                   window_years: float = CAMPAIGN_WINDOW_YEARS) -> NDArray[np.int64]:
    """Sampling codes with the dates of one campaign merged: the code of the campaign's first date.

    Parameters
    ----------
    plot, pair : array of int
        Plot and (plot, sampling) code of each row (:func:`sampling_codes`).
    year : array [yr]
        Decimal year of each row's sampling (NaN where unknown: never merged).
    window_years : float [yr]
        A date less than this after the first date of the plot's current campaign joins it.

    Returns
    -------
    array of int
        The pair code of each row, that of its campaign's first date.

    Examples
    --------
    >>> campaign_codes(np.array([0, 0, 0, 0]), np.array([1, 2, 3, 4]), np.array([2020.0, 2020.03, 2025.0, 2025.1]))
    array([1, 1, 3, 3])
    """
    table = pd.DataFrame({"plot": plot, "pair": pair, "year": np.asarray(year, dtype=float)})
    samplings = table.drop_duplicates("pair").sort_values(["plot", "year"], kind="stable")
    rank = samplings.groupby("plot", sort=False).cumcount().to_numpy()
    yr = samplings["year"].to_numpy()
    code = samplings["pair"].to_numpy().copy()
    start = yr.copy()  # first date of the campaign each sampling belongs to
    # Vectorised over plots, stepping through each plot's samplings in time order (few per plot).
    for k in range(1, int(rank.max(initial=0)) + 1):
        at = np.flatnonzero(rank == k)
        before = at - 1  # same plot: sorted by plot, then time
        joins = (yr[at] - start[before] < window_years) & np.isfinite(yr[at]) & np.isfinite(start[before])
        code[at] = np.where(joins, code[before], code[at])
        start[at] = np.where(joins, start[before], yr[at])
    return pd.Series(code, index=samplings["pair"].to_numpy()).reindex(np.asarray(pair)).to_numpy(dtype=np.int64)
