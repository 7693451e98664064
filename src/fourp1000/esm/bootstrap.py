"""Bootstrap over cores: percentile interval of the change of mean stock between two
samplings, and the share of resamples that meet the 4 per 1000 target.

Many plots at once: each plot's cores are a row of a NaN-padded matrix
(:func:`padded_groups`), and resamples are drawn for all rows with the same number of
cores together.

References
----------
.. [1] Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
   Chapman & Hall, New York. Ch. 13 (percentile intervals).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

from ..targets import meets_target, rate_per_mille
from .knots import Array

__all__ = ["bootstrap_change", "padded_groups", "percentiles", "resampled_means"]


def padded_groups(values: Array, group: NDArray[np.int64], n_groups: int) -> tuple[Array, NDArray[np.int64]]:
    """Non-NaN values of each group as a row of a NaN-padded matrix, and the group sizes."""
    keep = ~np.isnan(values)
    vals, grp = values[keep], group[keep]
    order = np.argsort(grp, kind="stable")
    vals, grp = vals[order], grp[order]
    counts = np.bincount(grp, minlength=n_groups)
    pos = np.arange(len(grp)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[grp]
    out = np.full((n_groups, max(int(counts.max(initial=0)), 1)), np.nan)
    out[grp, pos] = vals
    return out, counts


def resampled_means(values: Array, counts: NDArray[np.int64], n_bootstrap: int, rng: np.random.Generator) -> Array:
    """Means of ``n_bootstrap`` resamples (with replacement) of each row's ``counts`` values.

    Rows are grouped by their number of values k (a loop over distinct core counts) and
    each resample sums k random draws (a loop over k), so no padding or masking is needed.
    """
    means = np.empty((values.shape[0], n_bootstrap))
    for k in (int(c) for c in np.unique(counts)):
        rows = np.flatnonzero(counts == k)
        block = values[rows, :k]
        step = max(1, 4_000_000 // (n_bootstrap * k))  # bound the working arrays
        for start in range(0, rows.size, step):
            part = block[start : start + step]
            flat = part.ravel()
            offset = (np.arange(part.shape[0]) * k)[:, None]
            total = np.zeros((part.shape[0], n_bootstrap))
            for _ in range(k):
                total += flat[rng.integers(0, k, size=total.shape) + offset]
            means[rows[start : start + step]] = total / k
    return means


def percentiles(samples: Array, probabilities: Sequence[float]) -> list[Array]:
    """Row-wise percentiles with linear interpolation (numpy's default method), via one sort."""
    ordered = np.sort(samples, axis=1)
    n = ordered.shape[1]
    out = []
    for prob in probabilities:
        pos = prob * (n - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        out.append(ordered[:, lo] + (pos - lo) * (ordered[:, hi] - ordered[:, lo]))
    return out


def bootstrap_change(
    base: Array, n_base: NDArray[np.int64], follow: Array, n_follow: NDArray[np.int64], years: Array,
    *, n_bootstrap: int, confidence: float, rng: np.random.Generator,
) -> tuple[Array, Array, Array]:
    """Percentile interval of the change of mean stock, and share of resamples meeting 4 per 1000.

    Baseline and follow-up cores are resampled independently, with replacement.

    Parameters
    ----------
    base, follow : arrays (n, K) [t C ha-1]
        Per plot (row), the stocks of the baseline and of the follow-up cores, NaN-padded
        (see :func:`padded_groups`).
    n_base, n_follow : int arrays (n,)
        Number of cores in each row.
    years : array (n,) [yr]
        Time from the baseline to the follow-up.
    n_bootstrap : int
        Resamples (0 to skip).
    confidence : float
        Confidence level of the interval.
    rng : numpy.random.Generator

    Returns
    -------
    low, high : arrays (n,) [t C ha-1]
        Percentile interval of the change of the mean stock.
    p_meets : array (n,) [-]
        Share of resamples whose rate reaches 4 per mille (NaN unless ``years > 0``).
        All three are NaN where a sampling has fewer than two cores.
    """
    low, high, p_meets = (np.full(base.shape[0], np.nan) for _ in range(3))
    ok = np.flatnonzero((n_base >= 2) & (n_follow >= 2))
    if ok.size == 0 or n_bootstrap <= 0:
        return low, high, p_meets
    tail = (1.0 - confidence) / 2.0
    step = max(1, 2_000_000 // n_bootstrap)
    for start in range(0, ok.size, step):
        rows = ok[start : start + step]
        base_mean = resampled_means(base[rows], n_base[rows], n_bootstrap, rng)
        change = resampled_means(follow[rows], n_follow[rows], n_bootstrap, rng) - base_mean
        low[rows], high[rows] = percentiles(change, [tail, 1.0 - tail])
        yrs = years[rows][:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = rate_per_mille(change / np.where(yrs > 0, yrs, np.nan), base_mean)
        p_meets[rows] = np.where(years[rows] > 0, meets_target(rate).mean(axis=1), np.nan)
    return low, high, p_meets
