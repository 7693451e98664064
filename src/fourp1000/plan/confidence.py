"""The practice set that meets 4 per 1000 with a requested probability (``plan --uncertainty``).

Each candidate set is projected again with ``project``'s Monte Carlo
(:func:`fourp1000.uncertainty.project_uncertainty`: IPCC table values and, for measured
baselines, the measurement errors of the layers), on the plots it is a candidate for; a
set meets 4 per 1000 *at confidence* when the probability of meeting it is at least
``confidence``. The chosen set is then the smallest that does (ties as without
uncertainty), else the one with the highest probability. The same seed is used for every
set, so that two sets of one plot see the same drawn table values.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..projection.models import MODELS
from ..projection.table import ProjectOptions, ProjectResult
from ..uncertainty import UncertaintyOptions, project_uncertainty
from .search import choose
from .sets import CandidateSets

#: Columns of :func:`at_confidence`.
CONFIDENCE_COLUMNS = ("practice_set_at_confidence", "p_meets_4p1000", "reachable_at_confidence")


def pair_probabilities(base: ProjectResult, plots: pd.DataFrame, sets: CandidateSets, pairs: pd.DataFrame,
                       opts: ProjectOptions, unc: UncertaintyOptions) -> np.ndarray:
    """Probability that each (plot, set) pair meets 4 per 1000 under the IPCC model (NaN where not evaluated)."""
    popts = replace(opts, practices=(), models=("ipcc",))
    prob = np.full(len(pairs), np.nan)
    evaluated = np.isfinite(pairs["rate_per_mille"].to_numpy(float))
    combo = pairs["combo"].to_numpy(np.int64)
    for k in np.unique(combo[evaluated]):  # each distinct set once, vectorised over its plots
        at = np.flatnonzero(evaluated & (combo == k))
        table = plots.iloc[pairs["plot"].to_numpy(np.int64)[at]].reset_index(drop=True)
        table["practices"] = sets.combos[k]
        run = MODELS["ipcc"].project(table, popts)
        result = ProjectResult(run.plots, None, base.problems.iloc[:0], base.rejects.iloc[:0], len(table), [], popts)
        stats = project_uncertainty(base.used_table, result, unc).plots
        where = pd.Index(table["plot_id"].astype(str)).get_indexer(stats["plot_id"].astype(str))
        prob[at[where]] = stats["p_meets_4p1000"].to_numpy(float)
    return prob


def at_confidence(base: ProjectResult, plots: pd.DataFrame, sets: CandidateSets, pairs: pd.DataFrame,
                  opts: ProjectOptions, unc: UncertaintyOptions) -> pd.DataFrame:
    """The set of each plot that meets 4 per 1000 with probability >= ``unc.confidence``.

    Returns
    -------
    pandas.DataFrame
        One row per plot: ``practice_set_at_confidence`` (``;``-separated; the set with
        the highest probability where none reaches the confidence), ``p_meets_4p1000``
        (of that set) and ``reachable_at_confidence``.
    """
    prob = pair_probabilities(base, plots, sets, pairs, opts, unc)
    picked = choose(pairs, sets, len(plots), meets=prob >= unc.confidence, score=prob)
    at = picked["pair"].to_numpy(np.int64)
    has = at >= 0
    pick = np.maximum(at, 0)
    combos = sets.combos[sets.combo[pick]] if len(sets.combo) else np.full(len(plots), "", dtype=object)
    return pd.DataFrame({
        "practice_set_at_confidence": np.where(has, combos, "").astype(object),
        "p_meets_4p1000": np.where(has, prob[pick] if len(prob) else np.nan, np.nan),
        "reachable_at_confidence": picked["reachable"].to_numpy(bool),
    })
