"""Row-wise helpers on padded knot arrays, shared by the ESM modules.

The ESM code holds many cores at once as padded arrays, one core per row: the first
``n_knots`` columns of a row are valid (the surface, then each layer's lower boundary),
the rest is NaN. These helpers count, locate and interpolate within each row at once.
They are the shared vocabulary of the modules of :mod:`fourp1000.esm` (not re-exported
by the package).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError

Array = NDArray[np.float64]

MASS_TOLERANCE_T_HA = 1e-9
"""Cumulative masses meet a reference mass "exactly" within this tolerance [t ha-1]
(SimpleESM compares masses rounded to 10 decimals)."""


def valid_knots(n_knots: NDArray[np.int64], width: int) -> NDArray[np.bool_]:
    """Mask (m, width) of the valid columns: the first ``n_knots`` of each row."""
    return np.arange(width)[None, :] < n_knots[:, None]


def _count_le(knots: Array, n_knots: NDArray[np.int64], query: Array, *, strict: bool = False) -> NDArray[np.int64]:
    """Number of valid knots ``<= query`` (``< query`` if strict), per row and query."""
    padded = np.where(valid_knots(n_knots, knots.shape[1]), knots, np.inf)
    cmp = padded[:, None, :] < query[:, :, None] if strict else padded[:, None, :] <= query[:, :, None]
    return cmp.sum(axis=2)


def take_columns(values: Array, idx: NDArray[np.int64]) -> Array:
    """``values[r, idx[r, j]]`` for every row r and query j, shape of ``idx``."""
    return np.take_along_axis(values, idx, axis=1)


def knot_interval(knots: Array, n_knots: NDArray[np.int64], query: Array, *, strict: bool = False) -> NDArray[np.int64]:
    """Index i of the knot interval [i, i+1] used for each query (end intervals extend)."""
    idx = _count_le(knots, n_knots, query, strict=strict) - 1
    return np.clip(idx, 0, (n_knots - 2)[:, None])


def interp_rows(x: Array, y: Array, n_knots: NDArray[np.int64], query: Array) -> Array:
    """Piecewise-linear interpolation per row; the end segments continue beyond the knots."""
    i = knot_interval(x, n_knots, query)
    x0, x1 = take_columns(x, i), take_columns(x, i + 1)
    y0, y1 = take_columns(y, i), take_columns(y, i + 1)
    return y0 + (query - x0) * (y1 - y0) / (x1 - x0)


def last_knot(values: Array, n_knots: NDArray[np.int64]) -> Array:
    """Value at the last valid knot of each row (the core's bottom), (m,)."""
    return values[np.arange(values.shape[0]), n_knots - 1]


def query_rows(query: ArrayLike, m: int) -> Array:
    """Query points as a float array (m, q): one row shared by every core, or one per core."""
    arr = np.asarray(query, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return np.broadcast_to(arr, (m, arr.shape[-1])).astype(float) if arr.ndim == 1 else arr.astype(float)


def check_knots(*arrays: Array, n_knots: ArrayLike) -> tuple[list[Array], NDArray[np.int64]]:
    """Knot arrays as 2-D floats and the knot counts as int (m,).

    Raises
    ------
    InputError
        A core has fewer than two knots (no layer).
    """
    out = [np.atleast_2d(np.asarray(a, dtype=float)) for a in arrays]
    counts = np.asarray(n_knots, dtype=np.int64).reshape(-1)
    if np.any(counts < 2):
        raise InputError("every core needs at least one layer (two knots including the surface)")
    return out, counts


