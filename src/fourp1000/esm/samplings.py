"""Plots and samplings of a horizon table: integer codes, sampling times, baselines.

A sampling is one (``plot_id``, ``sampled_on``); its ``sampled_on`` is a year or a date.
Each plot's baseline is its earliest sampling.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from .knots import Array

__all__ = ["decimal_year", "sampling_codes", "samplings_and_baselines"]


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
    unique = ~rows["_pair"].duplicated().to_numpy()
    samplings = rows[unique].copy()
    samplings["_year"] = decimal_year(samplings["sampled_on"])
    samplings["_label"] = samplings["sampled_on"].astype(str)
    candidate_pairs = samplings if candidates is None else samplings[samplings["_pair"].isin(rows["_pair"][candidates])]
    first = candidate_pairs.sort_values(["_plot", "_year", "_label"], na_position="last", kind="stable")
    baselines = first.drop_duplicates("_plot").set_index("_plot")[["_pair", "sampled_on"]]
    return samplings.set_index("_pair")[["_plot", "sampled_on", "_year"]], baselines
