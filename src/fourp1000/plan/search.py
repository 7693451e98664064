"""Project every candidate practice set of every plot with ``project``'s own models, and choose.

Each (plot, set) pair becomes one row of a plot table: the plot's row with the set as its
``practices``. Each model then projects all the rows at once (in chunks that bound memory)
through the same :class:`~fourp1000.projection.models.ProjectionModel` functions that
``project`` calls, so the additionality, combination rules, depth rule, storage cap and
caveats are those of ``project``, not a copy of them.

The chosen set of a plot (:func:`choose`) is the smallest set that meets 4 per 1000;
among sets of that size the cheapest (with costs), then the least disruptive
(:mod:`fourp1000.plan.sets`). When no set meets it, the set with the highest rate is
reported (ties: fewer practices, cost, disruption) and the plot is not ``reachable``.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import ContextManager

import numpy as np
import pandas as pd

from ..errors import FourP1000Error
from ..rothc.model import use_compiled
from ..projection.models import MODELS
from ..projection.rothc_inputs import MONTHS
from ..projection.table import ProjectOptions
from .sets import CandidateSets

#: Rows projected at once (RothC holds a few (12, rows) arrays).
CHUNK_ROWS = 50_000
#: Result columns of each pair kept by :func:`evaluate`.
PAIR_COLUMNS = ("annual_change_t_ha_yr", "rate_per_mille", "meets_4p1000", "final_stock_t_ha", "caveats",
                "credited_practices")
# Rates equal to this many decimals count as a tie (the same effect through different sets).
_RATE_DECIMALS = 9


def pair_table(plots: pd.DataFrame, sets: CandidateSets, start: int = 0, stop: int | None = None) -> pd.DataFrame:
    """The plot table of the pairs ``start:stop``: each pair's plot row, with the set as
    ``practices`` and the pair's index as ``plot_id`` and ``source_row`` (errors then name pairs)."""
    sel = slice(start, stop)
    table = plots.iloc[sets.plot[sel]].reset_index(drop=True)
    index = np.arange(start, start + len(table))
    table["practices"] = sets.combos[sets.combo[sel]]
    table["plot_id"] = index
    table["source_row"] = index
    return table


def _project(model_name: str, table: pd.DataFrame, opts: ProjectOptions, baselines: object = None
             ) -> tuple[pd.DataFrame, list[int]]:
    """One model's result of a pair table, and the pairs it refused (``project``'s validation).

    ``baselines``: the model's baselines of the table's rows (``ProjectionModel.baselines``).
    """
    model = MODELS[model_name]
    refused: list[int] = []
    try:
        run = model.project(table, opts, **({} if baselines is None else {"baselines": baselines}))
    except FourP1000Error as exc:
        if exc.rows is None:
            raise
        errors = model.validate(table, opts)
        if any(e.rows is None for e in errors):
            raise next(e for e in errors if e.rows is None) from None
        refused = sorted({int(r) for e in errors for r in e.rows})
        keep = ~table["source_row"].isin(refused).to_numpy()
        extra = {} if baselines is None else {"baselines": baselines.take(np.flatnonzero(keep))}
        run = model.project(table[keep].reset_index(drop=True), opts, **extra)
    refused += [int(r) for e in run.problems for r in (e.rows or [])]
    return run.plots, refused


def _one_kernel(model_name: str, plot_months: int) -> ContextManager[None]:
    """RothC's kernel for every chunk: compiled where all the pairs together make a large run
    (or as an enclosing :func:`~fourp1000.projection.rothc.batch_kernel` block says)."""
    if model_name != "rothc":
        return contextlib.nullcontext()
    from ..projection.rothc import batch_kernel, current_batch_kernel

    return batch_kernel("numba" if use_compiled(current_batch_kernel(), plot_months) else "numpy")


def _baselines(model_name: str, plots: pd.DataFrame, opts: ProjectOptions) -> object:
    """The model's baselines of ``plots`` (``ProjectionModel.baselines``); None where the model
    has none or cannot resolve them for every plot (each pair is then resolved with its set)."""
    hook = MODELS[model_name].baselines
    if hook is None:
        return None
    try:
        return hook(plots, opts)
    except FourP1000Error:  # some plot refused: the pairs meet the same refusal, each with its row
        return None


def evaluate(plots: pd.DataFrame, sets: CandidateSets, opts: ProjectOptions, model_name: str) -> pd.DataFrame:
    """Rate and verdict of every (plot, set) pair under one model.

    Parameters
    ----------
    plots : pandas.DataFrame
        The plot table ``project`` projected (:attr:`~fourp1000.projection.table.ProjectResult.plot_inputs`).
    sets : CandidateSets
    opts : ProjectOptions
        ``project``'s options (its global practices are not used).
    model_name : str
        A name of :data:`~fourp1000.projection.models.MODELS`.

    Returns
    -------
    pandas.DataFrame
        One row per pair, in pair order: ``pair``, ``plot``, ``combo`` and
        :data:`PAIR_COLUMNS`; pairs the model refused have ``rate_per_mille`` NaN and
        ``meets_4p1000`` False (``refused`` True).
    """
    opts = replace(opts, practices=(), models=(model_name,))
    m = sets.plot.size
    parts, refused = [], []
    with _one_kernel(model_name, m * MONTHS * int(opts.years)):
        shared = _baselines(model_name, plots, opts) if m else None  # each plot resolved once, not once per set
        for start in range(0, m, CHUNK_ROWS):  # chunks of pairs, each vectorised
            stop = min(start + CHUNK_ROWS, m)
            result, bad = _project(model_name, pair_table(plots, sets, start, stop), opts,
                                   None if shared is None else shared.take(sets.plot[start:stop]))
            parts.append(result[["plot_id", *PAIR_COLUMNS]])
            refused += bad
    frame = (pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["plot_id", *PAIR_COLUMNS]))
    out = pd.DataFrame({"pair": np.arange(m), "plot": sets.plot, "combo": sets.combo})
    at = pd.Index(frame["plot_id"].astype(np.int64)).get_indexer(out["pair"])
    found = at >= 0
    for col in PAIR_COLUMNS:
        values = frame[col].to_numpy()
        if col == "meets_4p1000":
            out[col] = np.where(found, values[np.maximum(at, 0)] if len(values) else False, False).astype(bool)
        elif col in ("caveats", "credited_practices"):
            out[col] = np.where(found, values[np.maximum(at, 0)] if len(values) else "", "").astype(object)
        else:
            out[col] = np.where(found, values[np.maximum(at, 0)].astype(float) if len(values) else np.nan, np.nan)
    out["refused"] = ~found
    return out


def choose(pairs: pd.DataFrame, sets: CandidateSets, n_plots: int, *, meets: np.ndarray | None = None,
           score: np.ndarray | None = None) -> pd.DataFrame:
    """The chosen pair of each plot: the smallest set that meets, else the highest score.

    Parameters
    ----------
    pairs : pandas.DataFrame
        From :func:`evaluate` (``plot``, ``combo``, ``rate_per_mille``, ``meets_4p1000``).
    sets : CandidateSets
    n_plots : int
    meets : numpy.ndarray of bool, optional
        The verdict to meet (default ``meets_4p1000``; with uncertainty the verdict at
        confidence).
    score : numpy.ndarray, optional
        What "best" means when nothing meets (default ``rate_per_mille``; with
        uncertainty the probability of meeting).

    Returns
    -------
    pandas.DataFrame
        One row per plot position: ``pair`` (-1 for a plot without any evaluated set),
        ``reachable`` (bool), ``n_sets`` (sets evaluated).
    """
    ok = pairs["meets_4p1000"].to_numpy(bool) if meets is None else np.asarray(meets, bool)
    value = pairs["rate_per_mille"].to_numpy(float) if score is None else np.asarray(score, float)
    evaluated = np.flatnonzero(np.isfinite(pairs["rate_per_mille"].to_numpy(float)))
    ok, value = ok[evaluated], np.round(np.where(np.isfinite(value), value, -np.inf)[evaluated], _RATE_DECIMALS)
    plot, combo = pairs["plot"].to_numpy(np.int64)[evaluated], pairs["combo"].to_numpy(np.int64)[evaluated]
    size, cost, disruption = sets.size[combo], sets.cost_per_ha[combo], sets.disruption[combo]
    # Meeting pairs first, the fewest practices first among them; otherwise the best score first.
    order = np.lexsort((disruption, cost, size, np.where(ok, 0.0, -value), ~ok, plot))
    first = np.ones(order.size, bool)
    first[1:] = plot[order][1:] != plot[order][:-1]
    pick = order[first]
    chosen = np.full(n_plots, -1, dtype=np.int64)
    chosen[plot[pick]] = pairs["pair"].to_numpy(np.int64)[evaluated][pick]
    reachable = np.zeros(n_plots, bool)
    reachable[plot[pick]] = ok[pick]
    return pd.DataFrame({"pair": chosen, "reachable": reachable, "n_sets": np.bincount(plot, minlength=n_plots)})
