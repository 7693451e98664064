"""The chunked Monte Carlo engine: blocks of units, chunks of draws, summary statistics.

:func:`simulate` runs a :class:`SimulationPlan` (what to draw for a block of units and how
to sum units into farms) in blocks of units, so that the per-unit draws kept for the
percentiles stay within ``UncertaintyOptions.memory_mib``, and in chunks of draws. It
reports, per unit and per farm, the mean, the median and the 2.5 and 97.5 percentiles of
every quantity and, with a 4 per 1000 rate, the share of draws meeting it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..targets import meets_target
from .options import UncertaintyOptions

#: Percentiles reported for every quantity, by column suffix: the median and a 95 % interval.
QUANTILES = {"median": 0.5, "p2_5": 0.025, "p97_5": 0.975}
#: Column suffixes, in output order.
STAT_SUFFIXES = ("mean",) + tuple(QUANTILES)
# Numbers per chunk of draws x layers (or plots): large enough to amortise numpy's call
# overhead, small enough to stay in cache-friendly, page-fault-free arrays.
_CHUNK_ELEMENTS = 1 << 19


@dataclass
class SimulationPlan:
    """What to simulate: units, their farms, the quantities and how to evaluate a block
    (the input of :func:`simulate`, so other commands can reuse the engine).

    ``make_block(units, start)`` gets the unit indices of a block (a slice of the
    processing order starting at position ``start``) and returns
    ``evaluate(draw_start, draw_stop) -> {quantity: array (n_draws, n_units)}``.
    """

    n_units: int
    unit_quantities: tuple[str, ...]
    make_block: Callable[[np.ndarray, int], Callable[[int, int], dict[str, np.ndarray]]]
    rate: str | None = None
    farm_code: np.ndarray | None = None
    n_farms: int = 0
    farm_weight: np.ndarray | None = None
    farm_sums: tuple[tuple[str, str], ...] = ()
    farm_derived: Callable[[dict[str, np.ndarray], np.ndarray], dict[str, np.ndarray]] | None = None
    farm_quantities: tuple[str, ...] = ()


@dataclass
class Summary:
    """Per-unit and per-farm statistics: ``{column name: array}`` in output order."""

    units: dict[str, np.ndarray]
    farms: dict[str, np.ndarray]


def processing_order(n_units: int, farm_code: np.ndarray | None) -> np.ndarray:
    """Units sorted by farm (units without a farm, code -1, first; stable otherwise)."""
    if farm_code is None:
        return np.arange(n_units)
    return np.argsort(farm_code, kind="stable")


def _stats(buffer: np.ndarray, prefix: str, out: dict[str, np.ndarray], where: np.ndarray, n: int) -> None:
    """Mean and percentiles of each row of ``buffer`` (units x draws) into ``out``.

    The buffer is sorted in place. Percentiles interpolate linearly between order
    statistics (Hyndman & Fan type 7, numpy's default): position q (n_draws - 1).
    """
    names = [f"{prefix}_{s}" for s in STAT_SUFFIXES]
    for name in names:
        out.setdefault(name, np.full(n, np.nan))
    if buffer.shape[0] == 0:
        return
    # Rows are contiguous: the sum over a row is the same whatever the number of rows.
    out[names[0]][where] = buffer.mean(axis=1)
    buffer.sort(axis=1)  # NaN sorts last
    nan_rows = np.isnan(buffer[:, -1])
    last = buffer.shape[1] - 1
    for name, q in zip(names[1:], QUANTILES.values()):
        pos = q * last
        lo = int(np.floor(pos))
        hi = min(lo + 1, last)
        frac = pos - lo
        a, b = buffer[:, lo], buffer[:, hi]
        values = a + (b - a) * frac
        out[name][where] = np.where(nan_rows, np.nan, values)


#: Values of ``verdict_at_confidence``.
VERDICTS = ("met", "not_met", "uncertain")
#: A probability within this many Monte Carlo standard errors of the confidence level is
#: ``uncertain``: another seed could put it on the other side.
UNCERTAIN_SE = 2.0


def verdict_at_confidence(p: np.ndarray, se: np.ndarray, confidence: float) -> np.ndarray:
    """``met``, ``not_met`` or ``uncertain`` (P within :data:`UNCERTAIN_SE` standard errors of the level).

    >>> verdict_at_confidence(np.array([0.95, 0.906, 0.5]), np.array([0.007, 0.009, 0.016]), 0.9).tolist()
    ['met', 'uncertain', 'not_met']
    """
    p = np.asarray(p, dtype=float)
    close = np.abs(p - confidence) <= UNCERTAIN_SE * np.asarray(se, dtype=float)
    return np.where(close, "uncertain", np.where(p >= confidence, "met", "not_met")).astype(object)


def _verdicts(rate: np.ndarray, out: dict[str, np.ndarray], where: np.ndarray, n: int, confidence: float) -> None:
    """P(meets 4 per 1000), its Monte Carlo standard error sqrt(P (1 - P) / draws) and the verdicts.

    ``meets_4p1000_at_confidence`` is True only where the verdict is ``met``.
    """
    out.setdefault("p_meets_4p1000", np.full(n, np.nan))
    out.setdefault("p_meets_4p1000_se", np.full(n, np.nan))
    out.setdefault("meets_4p1000_at_confidence", np.zeros(n, dtype=bool))
    out.setdefault("verdict_at_confidence", np.full(n, None, dtype=object))
    if rate.shape[0] == 0:
        return
    p = meets_target(rate).mean(axis=1)
    se = np.sqrt(p * (1.0 - p) / rate.shape[1])
    verdict = verdict_at_confidence(p, se, confidence)
    out["p_meets_4p1000"][where] = p
    out["p_meets_4p1000_se"][where] = se
    out["meets_4p1000_at_confidence"][where] = verdict == "met"
    out["verdict_at_confidence"][where] = verdict


def simulate(plan: SimulationPlan, opts: UncertaintyOptions, *, layers_per_unit: np.ndarray | None = None) -> Summary:
    """Run the Monte Carlo of ``plan`` in blocks of units and chunks of draws.

    Per-unit draws are kept for one block at a time (units x draws, for the percentiles);
    farm sums are accumulated per draw over the farm's units, carried over when a farm
    spans two blocks, and summarised when the farm is complete.
    """
    n_draws = int(opts.draws)
    n = plan.n_units
    order = processing_order(n, plan.farm_code)
    n_q = len(plan.unit_quantities) + len(plan.farm_quantities) + 1
    block_size = max(1, int(opts.memory_mib * 2 ** 20 // (8 * n_draws * n_q)))
    units: dict[str, np.ndarray] = {}
    farms: dict[str, np.ndarray] = {}
    carry: dict[str, np.ndarray] | None = None
    carry_farm = -1
    for b0 in range(0, n, block_size):
        b1 = min(n, b0 + block_size)
        block = order[b0:b1]
        nb = block.size
        evaluate = plan.make_block(block, b0)
        width = 1 if layers_per_unit is None else max(1, int(layers_per_unit[block].sum()))
        chunk = int(opts.chunk_draws) if opts.chunk_draws else max(1, _CHUNK_ELEMENTS // max(width, nb))
        buffers = {q: np.empty((nb, n_draws)) for q in plan.unit_quantities}
        farm_cols = farm_starts = farm_ids = None
        farm_buffers: dict[str, np.ndarray] = {}
        if plan.farm_code is not None:
            codes = plan.farm_code[block]
            farm_cols = np.flatnonzero(codes >= 0)
            if farm_cols.size:
                fc = codes[farm_cols]
                farm_starts = np.flatnonzero(np.r_[True, fc[1:] != fc[:-1]])
                farm_ids = fc[farm_starts]
                weights = plan.farm_weight[block][farm_cols]
                if farm_cols.size == nb:
                    farm_cols = slice(None)  # every unit has a farm: no gather needed
                farm_buffers = {fq: np.empty((farm_ids.size, n_draws)) for fq, _ in plan.farm_sums}
        for d0 in range(0, n_draws, chunk):
            d1 = min(n_draws, d0 + chunk)
            values = evaluate(d0, d1)
            for q in plan.unit_quantities:
                buffers[q][:, d0:d1] = values[q].T
            if farm_buffers:
                for fq, uq in plan.farm_sums:
                    weighted = values[uq][:, farm_cols] * weights
                    farm_buffers[fq][:, d0:d1] = np.add.reduceat(weighted, farm_starts, axis=1).T
        for q in plan.unit_quantities:
            _stats(buffers[q], q, units, block, n)  # sorts each row in place; counts below are unaffected
        if plan.rate is not None:
            _verdicts(buffers[plan.rate], units, block, n, opts.confidence)
        del buffers
        if not farm_buffers:
            continue
        if carry is not None and farm_ids[0] == carry_farm:
            for fq in farm_buffers:
                farm_buffers[fq][0] += carry[fq]
        carry = None
        done = np.ones(farm_ids.size, dtype=bool)
        if b1 < n and plan.farm_code[order[b1]] == farm_ids[-1]:
            carry = {fq: buf[-1].copy() for fq, buf in farm_buffers.items()}
            carry_farm = int(farm_ids[-1])
            done[-1] = False
        _finish_farms(plan, {fq: buf[done] for fq, buf in farm_buffers.items()}, farm_ids[done], farms, opts)
    return Summary(units, farms)


def _finish_farms(plan: SimulationPlan, sums: dict[str, np.ndarray], ids: np.ndarray, farms: dict[str, np.ndarray],
                  opts: UncertaintyOptions) -> None:
    values = dict(sums)
    if plan.farm_derived is not None:
        values.update(plan.farm_derived(sums, ids))
    for fq in plan.farm_quantities:
        _stats(values[fq], fq, farms, ids, plan.n_farms)
    if plan.rate is not None and plan.rate in values:
        _verdicts(values[plan.rate], farms, ids, plan.n_farms, opts.confidence)
