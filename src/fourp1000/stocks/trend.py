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

from ..targets import meets_target, rate_per_mille

__all__ = ["SAMPLING_COLUMNS", "TREND_COLUMNS", "observed_rate", "plot_observed_rates", "sampling_stocks"]

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
        t = _t_quantile(confidence, np.where(count > 2, count - 2, 1))
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


#: Columns of :func:`sampling_stocks`, in order (``farm_id`` and ``area_ha`` where given).
SAMPLING_COLUMNS = ("plot_id", "sampled_on", "year", "n_cores", "stock_t_ha", "stock_sd_t_ha", "stock_se_t_ha")


def sampling_stocks(records: pd.DataFrame, stock_column: str = "soc_stock_t_ha") -> pd.DataFrame:
    """Mean stock of each plot at each sampling, over its cores: the points of :func:`observed_rate`.

    Cores of one campaign taken on different days are one sampling, dated by its first day
    (:func:`fourp1000.esm.samplings.campaign_codes`, the rule of ``compare``).

    Parameters
    ----------
    records : DataFrame
        One row per core (or per plot and sampling): ``plot_id``, ``sampled_on`` (a year or
        a date; absent: one sampling per plot), the stock in ``stock_column`` [t C ha-1],
        optional ``farm_id`` and ``area_ha`` (kept, first value of the plot). Rows without
        a stock are left out.
    stock_column : str
        Column of the stock, e.g. ``soc_stock_t_ha`` of
        :func:`fourp1000.stocks.estimate.estimate_stocks`.

    Returns
    -------
    DataFrame
        One row per plot and sampling, in plot order then time: ``plot_id``, ``sampled_on``
        (the campaign's first date as given), ``year`` [yr] (decimal; NaN where the
        sampling is not a date or a year), ``n_cores``, ``stock_t_ha`` (mean over cores),
        ``stock_sd_t_ha`` (standard deviation over cores, ddof 1; NaN with one core),
        ``stock_se_t_ha`` (sd / sqrt(n_cores)), then ``farm_id`` and ``area_ha`` where
        ``records`` has them.

    Examples
    --------
    >>> rec = pd.DataFrame({"plot_id": ["A"] * 4, "sampled_on": ["2020-03-01", "2020-03-20", "2025", "2025"],
    ...                     "soc_stock_t_ha": [50.0, 52.0, 54.0, 55.0]})
    >>> out = sampling_stocks(rec)
    >>> out[["sampled_on", "n_cores", "stock_t_ha"]].values.tolist()
    [['2020-03-01', 2, 51.0], ['2025', 2, 54.5]]
    """
    from ..esm.samplings import campaign_codes, decimal_year, sampling_codes  # esm imports this module

    frame = records[records[stock_column].notna() & records["plot_id"].notna()].reset_index(drop=True)
    plot, visit = sampling_codes(frame[[c for c in ("plot_id", "sampled_on") if c in frame]])
    when = frame["sampled_on"] if "sampled_on" in frame else pd.Series(np.nan, index=frame.index)
    codes, dates = pd.factorize(when)  # each distinct date parsed once
    year = np.full(len(frame), np.nan)
    if len(dates):
        year[codes >= 0] = decimal_year(pd.Series(dates))[codes[codes >= 0]]
    work = pd.DataFrame({"plot": plot, "pair": campaign_codes(plot, visit, year), "year": year,
                         "stock": frame[stock_column].to_numpy(dtype=float)})
    work["sampled_on"] = when.to_numpy(dtype=object)
    first = work.sort_values("year", kind="stable", na_position="last").groupby("pair", sort=False).first()
    by = work.groupby("pair", sort=False)["stock"]
    out = pd.DataFrame({"plot": by.size().index.map(first["plot"]), "n_cores": by.size(), "stock_t_ha": by.mean(),
                        "stock_sd_t_ha": by.std(ddof=1)})
    out["sampled_on"] = first["sampled_on"].reindex(out.index)
    out["year"] = first["year"].reindex(out.index)
    out["stock_se_t_ha"] = out["stock_sd_t_ha"] / np.sqrt(out["n_cores"])
    ids = frame.groupby(plot, sort=False).first()
    out["plot_id"] = out["plot"].map(ids["plot_id"])
    columns = list(SAMPLING_COLUMNS)
    for extra in ("farm_id", "area_ha"):
        if extra in ids:
            out[extra] = out["plot"].map(ids[extra])
            columns.append(extra)
    out = out.sort_values(["plot", "year"], kind="stable", na_position="last")
    return out[columns].reset_index(drop=True)


def plot_observed_rates(samplings: pd.DataFrame, *, confidence: float = 0.95) -> pd.DataFrame:
    """:func:`observed_rate` of every plot over its samplings (a :func:`sampling_stocks` table).

    Returns
    -------
    DataFrame
        ``plot_id`` and :data:`TREND_COLUMNS`, one row per plot of ``samplings`` (plots with
        one dated sampling: ``n_samplings`` 1 and NaN rates).
    """
    ids = pd.unique(samplings["plot_id"])
    trend = observed_rate(samplings["plot_id"].to_numpy(dtype=object), samplings["year"].to_numpy(dtype=float),
                          samplings["stock_t_ha"].to_numpy(dtype=float), confidence=confidence)
    out = trend.reindex(ids)
    out["n_samplings"] = out["n_samplings"].fillna(0).astype(np.int64)
    out["observed_meets_4p1000"] = out["observed_meets_4p1000"].astype("boolean")
    return out.rename_axis("plot_id").reset_index()


def _t_quantile(p: float, df: np.ndarray) -> np.ndarray:
    """Student's t quantile (what ``scipy.stats.t.ppf`` computes, with ``scipy.special.stdtrit``:
    scipy.stats would add 0.4 s of imports to every run), imported when a trend is fitted."""
    from scipy.special import stdtrit

    return stdtrit(df, p)
