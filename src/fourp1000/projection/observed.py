"""The measured rate over all samplings, beside the projected one (``project``/``score --observed``).

A projection starts from one sampling of each plot (``--sampling``, the latest by default).
With two or more dated samplings of a plot, :func:`add_observed` adds what the samplings
themselves say: the least-squares slope of the stock on time
(:func:`fourp1000.stocks.trend.observed_rate`), its standard error, the rate in per mille of
the first sampling's stock and the verdict at a one-sided confidence.

The stock of each sampling is the **fixed-depth** stock over the projection's interval
(0-30 cm by default), computed by :func:`fourp1000.stocks.estimate.estimate_stocks` with the
projection's own options (bulk-density filling, depth method, extrapolation, tolerance),
as the mean over the sampling's cores; cores of one campaign taken on different days are
one sampling (:func:`fourp1000.stocks.trend.sampling_stocks`). Fixed depth, because the
projected rate starts from that very stock (IPCC Tier 1 is defined on a fixed 0-30 cm
layer): both rates are then on one basis. Where bulk density changed between samplings
(tillage, compaction) a fixed-depth change is biased; ``fourp1000 compare`` gives the rate on
an equivalent soil mass.

References
----------
.. [1] Draper, N. R. & Smith, H. (1998). Applied Regression Analysis, 3rd ed. Wiley. Ch. 1.
.. [2] von Haden, A. C., Yang, W. H. & DeLucia, E. H. (2020). Glob. Change Biol. 26,
   3759-3770. doi:10.1111/gcb.15124 (why fixed-depth changes can mislead).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from ..errors import ValidationError
from ..io.horizons import HorizonTable
from ..io.rejects import rejected_rows
from ..stocks.estimate import EstimateOptions, estimate_stocks
from ..stocks.trend import TREND_COLUMNS, plot_observed_rates, sampling_stocks

__all__ = ["ObservedRates", "add_observed", "observed_rates", "method_statement"]

#: Reason given to a row of another sampling that the observed rate could not use.
LEFT_OUT = "left out of the observed rate: "


@dataclasses.dataclass(frozen=True)
class ObservedRates:
    """Result of :func:`observed_rates`.

    ``samplings``: :func:`~fourp1000.stocks.trend.sampling_stocks` of every plot;
    ``rates``: ``plot_id`` and :data:`~fourp1000.stocks.trend.TREND_COLUMNS`;
    ``problems`` and ``rejects``: those of the stock estimate over all samplings.
    """

    samplings: pd.DataFrame
    rates: pd.DataFrame
    problems: pd.DataFrame
    rejects: pd.DataFrame


def observed_rates(table: HorizonTable, options: EstimateOptions, *, confidence: float = 0.9) -> ObservedRates:
    """Fixed-depth stock of every plot at every sampling and the observed rate per plot.

    Rows with a problem are left out (as ``estimate --on-error skip`` does) and returned in
    ``rejects``; the caller decides what ``--on-error fail`` makes of them.
    """
    est = estimate_stocks(table, dataclasses.replace(options, on_error="skip"))
    samplings = sampling_stocks(est.plots)
    rates = plot_observed_rates(samplings, confidence=confidence)
    return ObservedRates(samplings, rates, est.problems, est.rejects)


def add_observed(table: HorizonTable, result, confidence: float) -> None:
    """Add the observed rate to a :class:`~fourp1000.projection.table.ProjectResult` (in place).

    ``table`` holds every sampling (the input of the projection). Adds the
    :data:`~fourp1000.stocks.trend.TREND_COLUMNS` to ``result.plots`` (by ``plot_id``),
    the per-sampling stocks as ``result.samplings``, and accounts for the rows of the
    samplings the projection did not use: those the observed rate uses are counted in
    ``result.observed_rows``; those it cannot use move from ``result.not_needed`` to
    ``result.rejects`` with their reason (``--on-error fail``: a ValidationError).
    """
    obs = observed_rates(table, result.options.estimate, confidence=confidence)
    other = result.not_needed["row"].to_numpy() if len(result.not_needed) else np.array([], dtype=np.int64)
    bad = obs.problems[obs.problems["row"].isin(other) & (obs.problems["severity"] == "error")]
    if len(bad) and result.options.estimate.on_error == "fail":
        raise ValidationError(table.problem_list(bad))
    left_out = obs.rejects[obs.rejects["row"].isin(other)]
    if len(left_out):
        positions = np.flatnonzero(table.frame["source_row"].isin(left_out["row"]).to_numpy())
        reasons = table.frame["source_row"].iloc[positions].map(left_out.drop_duplicates("row").set_index("row")["reason"])
        moved = rejected_rows(table, positions, LEFT_OUT + reasons.astype(str).to_numpy(dtype=object))
        result.rejects = pd.concat([result.rejects, moved], ignore_index=True).sort_values("row", kind="stable")
        result.rejects = result.rejects.reset_index(drop=True)
        result.not_needed = result.not_needed[~result.not_needed["row"].isin(left_out["row"])].reset_index(drop=True)
    found = obs.problems[obs.problems["row"].isin(other)]
    prefix = np.where(found["severity"] == "error", "sampling not projected, " + LEFT_OUT,
                      "sampling not projected (observed rate): ")
    found = found.assign(message=prefix + found["message"].astype(str).to_numpy(dtype=object))
    if len(found):
        result.problems = pd.concat([result.problems, found], ignore_index=True)
    result.observed_rows = len(result.not_needed)
    result.samplings = obs.samplings
    rates = obs.rates.set_index("plot_id")
    plots = result.plots.drop(columns=[c for c in TREND_COLUMNS if c in result.plots.columns])
    for column in TREND_COLUMNS:
        plots[column] = plots["plot_id"].map(rates[column]).to_numpy()
    plots["n_samplings"] = plots["n_samplings"].fillna(0).astype(np.int64)
    plots["observed_meets_4p1000"] = plots["observed_meets_4p1000"].astype("boolean")
    result.plots = plots
    if (obs.rates["n_samplings"] >= 2).any():
        result.methods.append(method_statement(result.options.estimate, confidence))


def method_statement(options: EstimateOptions, confidence: float) -> str:
    """What the observed rate is, for the methods statement."""
    return (f"observed rate (--observed): least-squares slope of the fixed-depth {options.top_cm:g}-"
            f"{options.bottom_cm:g} cm stock (mean over each sampling's cores) on time over all dated samplings "
            "(Draper & Smith 1998), in per mille of the first sampling's stock; observed_meets_4p1000 when its "
            f"one-sided {confidence:g} lower bound reaches 4 per mille (needs three samplings); dates less than half "
            "a year apart are one campaign; fixed depth as the projected baseline, so a bulk-density change between "
            "samplings biases it: `fourp1000 compare` gives the equivalent-soil-mass rate")
