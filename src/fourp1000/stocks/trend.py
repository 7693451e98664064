"""The observed rate of change of a SOC stock over several samplings, and its 4 per 1000 verdict.

Monitoring data give the stock of a plot at several dates. The measured rate over all of
them is the ordinary least-squares slope of stock on time; with three or more samplings
its standard error comes from the scatter about the line, and the verdict "meets 4 per
1000 at confidence c" asks that the one-sided lower confidence bound of the slope reach
0.004 x the first sampling's stock per year (:mod:`fourp1000.targets`).

Every series is fitted at once (grouped sums, no loop over plots).

References
----------
.. [1] Draper, N. R. & Smith, H. (1998). Applied Regression Analysis, 3rd ed. Wiley,
   New York. Chapter 1: fitting a straight line by least squares; the variance of the
   slope, s² / Σ(x - x̄)², with s² the residual mean square on n - 2 degrees of freedom.
.. [2] Minasny, B. et al. (2017). Soil carbon 4 per mille. Geoderma 292, 59-86.
   doi:10.1016/j.geoderma.2017.01.002
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from ..targets import meets_target, rate_per_mille

__all__ = ["TREND_COLUMNS", "observed_rate"]

#: The columns :func:`observed_rate` returns, in order.
TREND_COLUMNS = ("n_samplings", "observed_rate_t_ha_yr", "observed_rate_se_t_ha_yr", "observed_rate_per_mille",
                 "observed_meets_4p1000")


def observed_rate(series: np.ndarray, year: np.ndarray, stock_t_ha: np.ndarray, *,
                  confidence: float = 0.95) -> pd.DataFrame:
    """Least-squares slope of stock on time for each series, its standard error and the 4 ‰ verdict.

    Parameters
    ----------
    series : array of int or str
        The series (plot, depth) each point belongs to.
    year : array [yr]
        Time of each point in decimal years; points with NaN time or stock are left out.
    stock_t_ha : array [t C ha-1]
        Stock at that time (one point per sampling, e.g. the mean over its cores).
    confidence : float
        One-sided confidence level of the verdict, in (0, 1).

    Returns
    -------
    DataFrame
        Indexed by series: ``n_samplings`` (points used), ``observed_rate_t_ha_yr``
        [t C ha-1 yr-1] (the slope; NaN with fewer than two distinct times),
        ``observed_rate_se_t_ha_yr`` (NaN with fewer than three points),
        ``observed_rate_per_mille`` (slope / stock of the first sampling x 1000),
        ``observed_meets_4p1000`` (nullable boolean: slope - t(c, n-2) x se >= 0.004 x first
        stock; NA where the standard error is unknown).

    Notes
    -----
    With two samplings the slope is the change divided by the years between them; no
    standard error can be estimated from two points, so the verdict at confidence is NA.

    Examples
    --------
    >>> out = observed_rate(np.array([0, 0, 0]), np.array([2000.0, 2005.0, 2010.0]),
    ...                     np.array([50.0, 51.0, 52.5]))
    >>> round(float(out.loc[0, "observed_rate_t_ha_yr"]), 3), int(out.loc[0, "n_samplings"])
    (0.25, 3)
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    frame = pd.DataFrame({"series": series, "x": np.asarray(year, dtype=float), "y": np.asarray(stock_t_ha, float)})
    frame = frame[np.isfinite(frame["x"]) & np.isfinite(frame["y"])]
    by = frame.groupby("series", sort=False)
    n = by["x"].transform("size").to_numpy()
    # Centred sums: no loss of precision from years around 2000.
    dx = frame["x"].to_numpy() - by["x"].transform("mean").to_numpy()
    dy = frame["y"].to_numpy() - by["y"].transform("mean").to_numpy()
    sums = pd.DataFrame({"series": frame["series"].to_numpy(), "sxx": dx * dx, "sxy": dx * dy, "syy": dy * dy,
                         "n": n}).groupby("series", sort=False).agg(sxx=("sxx", "sum"), sxy=("sxy", "sum"),
                                                                    syy=("syy", "sum"), n=("n", "first"))
    first = frame.sort_values("x", kind="stable").groupby("series", sort=False)["y"].first()
    sxx, sxy, syy, count = (sums[c].to_numpy(dtype=float) for c in ("sxx", "sxy", "syy", "n"))
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
        rss = np.maximum(syy - slope * sxy, 0.0)
        se = np.where(count > 2, np.sqrt(rss / (count - 2) / sxx), np.nan)
        t = stats.t.ppf(confidence, np.where(count > 2, count - 2, 1))
    base = first.reindex(sums.index).to_numpy(dtype=float)
    lower_per_mille = rate_per_mille(slope - t * se, base)
    known = np.isfinite(lower_per_mille)
    meets = pd.array(np.where(known, meets_target(np.where(known, lower_per_mille, 0.0)), False), dtype="boolean")
    meets[~known] = pd.NA
    return pd.DataFrame({
        "n_samplings": count.astype(np.int64),
        "observed_rate_t_ha_yr": slope,
        "observed_rate_se_t_ha_yr": se,
        "observed_rate_per_mille": rate_per_mille(slope, base),
        "observed_meets_4p1000": meets,
    }, index=sums.index.rename(None))
