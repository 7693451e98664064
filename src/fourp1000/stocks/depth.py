"""Depth harmonisation: stocks over a standard depth interval from layers of any depths.

All functions work on many profiles at once. Layers are given as flat arrays with an
integer profile code per layer (0 .. n_profiles - 1), sorted by profile and top depth;
quantities per profile come back as arrays of length ``n_profiles``.

Methods
-------
``proportional`` (:func:`proportional_stock`)
    A layer that straddles a limit of the interval counts in proportion to its overlap
    (uniform properties within a layer).
``spline`` (:func:`spline_stock`)
    Mass-preserving (equal-area) quadratic spline of Bishop et al. (1999), fitted to the
    carbon *density* of the layers (t C ha-1 cm-1) and integrated over the interval.
    Carbon density, not concentration, is splined because the stock is the integral of
    density: the spline then preserves each layer's carbon mass, whereas splining SOC %
    and bulk density separately does not (the product of two means is not the mean of
    the product).

Extrapolation (:func:`exponential_extension`) below the deepest layer assumes carbon
density declines exponentially with depth, C(z) = C_n exp(-k (z - z_n)), anchored at the
deepest layer's mid-depth z_n; k is fitted per profile by least squares on ln(density)
against mid-depth (k >= 0; k = 0, a constant extension, where fewer than two layers or no
decline). Extrapolated stocks are flagged in outputs.

References
----------
.. [1] Bishop T.F.A., McBratney A.B., Laslett G.M. (1999) Modelling soil attribute depth
   functions with equal-area quadratic smoothing splines. Geoderma 91:27-45,
   doi:10.1016/S0016-7061(99)00003-8
.. [2] Jobbagy E.G., Jackson R.B. (2000) The vertical distribution of soil organic carbon
   and its relation to climate and vegetation. Ecol. Appl. 10:423-436,
   doi:10.1890/1051-0761(2000)010[0423:TVDOSO]2.0.CO;2
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Depth tolerance [cm]: lab sheets round depths; 1 mm is below any sampling precision.
DEPTH_TOL_CM = 0.1
# Largest decline rate accepted from a fit [cm-1] (an e-folding depth of 5 cm).
MAX_DECLINE_PER_CM = 0.2


def overlap_cm(top_cm: np.ndarray, bottom_cm: np.ndarray, interval_top_cm, interval_bottom_cm) -> np.ndarray:
    """Length [cm] of each layer inside the interval (0 where they do not meet)."""
    length = np.minimum(bottom_cm, interval_bottom_cm) - np.maximum(top_cm, interval_top_cm)
    if isinstance(length, np.ndarray) and length.dtype == np.float64:
        return np.clip(length, 0.0, None, out=length)  # in place: millions of layers
    return np.clip(length, 0.0, None)


@dataclass
class DepthLogic:
    """Depth logic of the layers that meet the target interval, per layer and per profile.

    Per layer: ``gap_before_cm`` (uncovered depth between this layer and the deepest
    bottom above it, inside the interval), ``overlaps_previous`` (starts above the deepest
    bottom seen so far in its profile). Per profile: ``first_top_cm``, ``deepest_cm``
    (deepest bottom reached), ``n_layers``.
    """

    gap_before_cm: np.ndarray
    gap_from_cm: np.ndarray
    overlaps_previous: np.ndarray
    first_top_cm: np.ndarray
    deepest_cm: np.ndarray
    n_layers: np.ndarray


def depth_logic(codes: np.ndarray, top_cm: np.ndarray, bottom_cm: np.ndarray, n_profiles: int,
                interval_top_cm: np.ndarray, interval_bottom_cm: np.ndarray) -> DepthLogic:
    """Gaps, overlaps and depth reached, for layers sorted by profile code and top depth."""
    n = codes.shape[0]
    first = np.ones(n, dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    # Deepest bottom of the previous layers in the same profile (running max per profile).
    running = _grouped_running_max(bottom_cm, first)
    prev_deepest = np.full(n, -np.inf)
    prev_deepest[1:] = running[:-1]
    prev_deepest[first] = -np.inf
    overlaps = top_cm < prev_deepest - DEPTH_TOL_CM
    lo, hi = _per_layer(interval_top_cm, codes), _per_layer(interval_bottom_cm, codes)
    gap_from = np.where(first, lo, prev_deepest)
    gap = np.minimum(top_cm, hi, dtype=np.float64)
    gap -= np.maximum(gap_from, lo)
    np.clip(gap, 0.0, None, out=gap)  # in place: np.clip(np.minimum(...) - np.maximum(...), 0.0, None)
    gap[gap <= DEPTH_TOL_CM] = 0.0
    starts = np.flatnonzero(first)
    first_top = np.full(n_profiles, np.nan)
    first_top[codes[starts]] = top_cm[starts]
    n_layers = np.bincount(codes, minlength=n_profiles)
    deepest = np.full(n_profiles, -np.inf)
    np.maximum.at(deepest, codes, bottom_cm)
    return DepthLogic(gap, gap_from, overlaps, first_top, deepest, n_layers)


def _per_layer(per_profile: np.ndarray, codes: np.ndarray) -> np.ndarray | float:
    """``per_profile[codes]``; one number when every profile has the same (the usual interval)."""
    if per_profile.dtype == np.float64 and per_profile.size:
        bits = per_profile.view(np.int64)  # the same bits: -0.0 and NaN too
        if (bits == bits[0]).all():
            return per_profile[0]
    return per_profile[codes]


def _grouped_running_max(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Running maximum of ``values`` restarting where ``starts`` is True (vectorised)."""
    # Offset each group so a plain running max never carries across groups.
    span = np.nanmax(np.abs(values)) * 2.0 + 1.0 if values.size else 1.0
    # group * span * 2.0 in place; the group number as a float is exact (below 2**53)
    offset = np.cumsum(starts, dtype=np.float64)
    offset -= 1.0
    offset *= span
    offset *= 2.0
    shifted = values + offset
    np.maximum.accumulate(shifted, out=shifted)
    shifted -= offset
    return shifted


def proportional_stock(codes: np.ndarray, top_cm: np.ndarray, bottom_cm: np.ndarray, density: np.ndarray,
                       n_profiles: int, interval_top_cm: np.ndarray, interval_bottom_cm: np.ndarray, *,
                       overlap: np.ndarray | None = None) -> np.ndarray:
    """Stock [t C ha-1] over each profile's interval, layers counted by their overlap.

    Parameters
    ----------
    codes : array of int
        Profile code of each layer.
    top_cm, bottom_cm : array [cm], or None with ``overlap``
        Layer limits.
    density : array [t C ha-1 cm-1]
        Carbon density of each layer (see :func:`fourp1000.stocks.layers.carbon_density`).
    n_profiles : int
    interval_top_cm, interval_bottom_cm : array [cm], length n_profiles
        Target interval per profile.
    overlap : array [cm], optional
        Each layer's :func:`overlap_cm` with its profile's interval, when already known.

    Notes
    -----
    Layers are assumed uniform, so a layer contributes density x overlap. Gaps inside the
    interval contribute nothing here; detect them with :func:`depth_logic`.
    """
    ov = overlap_cm(top_cm, bottom_cm, interval_top_cm[codes], interval_bottom_cm[codes]) if overlap is None \
        else overlap
    return np.bincount(codes, weights=density * ov, minlength=n_profiles)


def gap_fill_stock(codes: np.ndarray, density: np.ndarray, logic: DepthLogic, n_profiles: int) -> np.ndarray:
    """Stock [t C ha-1] assigned to gaps between layers by linear interpolation of density.

    A gap of g cm between two layers contributes g x (density above + density below) / 2.
    """
    first = np.ones(codes.shape[0], dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    above = np.empty_like(density)
    above[1:] = density[:-1]
    above[first] = density[first]  # a gap at the top of the interval takes the first layer's density
    contribution = logic.gap_before_cm * (above + density) / 2.0
    return np.bincount(codes, weights=contribution, minlength=n_profiles)


def decline_rate(codes: np.ndarray, top_cm: np.ndarray, bottom_cm: np.ndarray, density: np.ndarray,
                 n_profiles: int) -> np.ndarray:
    """Exponential decline rate k [cm-1] of carbon density with depth, per profile.

    Least-squares slope of ln(density) on layer mid-depth, negated and clipped to
    [0, 0.2]; 0 where fewer than two layers with positive density.
    """
    mid = (top_cm + bottom_cm) / 2.0
    ok = density > 0
    y = np.where(ok, np.log(np.where(ok, density, 1.0)), 0.0)
    w = ok.astype(float)
    n = np.bincount(codes, weights=w, minlength=n_profiles)
    sx = np.bincount(codes, weights=w * mid, minlength=n_profiles)
    sy = np.bincount(codes, weights=w * y, minlength=n_profiles)
    sxx = np.bincount(codes, weights=w * mid * mid, minlength=n_profiles)
    sxy = np.bincount(codes, weights=w * mid * y, minlength=n_profiles)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = sxx - sx * sx / n
        slope = (sxy - sx * sy / n) / var
    k = np.where((n >= 2) & (var > 1e-12), -slope, 0.0)
    return np.clip(np.nan_to_num(k), 0.0, MAX_DECLINE_PER_CM)


def exponential_extension(deepest_density: np.ndarray, deepest_mid_cm: np.ndarray, from_cm: np.ndarray,
                          to_cm: np.ndarray, k_per_cm: np.ndarray) -> np.ndarray:
    """Stock [t C ha-1] between ``from_cm`` and ``to_cm`` under an exponential density decline.

    C(z) = C_n exp(-k (z - z_n)), integrated from ``from_cm`` to ``to_cm``; the limit
    k -> 0 is a constant extension C_n (to - from).
    """
    length = np.clip(to_cm - from_cm, 0.0, None)
    a = from_cm - deepest_mid_cm
    b = to_cm - deepest_mid_cm
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        exp_part = (np.exp(-k_per_cm * a) - np.exp(-k_per_cm * b)) / k_per_cm
    small = k_per_cm < 1e-9
    return deepest_density * np.where(small, length, np.where(length > 0, exp_part, 0.0))


@dataclass
class AdjoinedLayers:
    """Layer limits after :func:`adjoin_layers`, and which boundaries were moved.

    ``top_cm``, ``bottom_cm`` [cm]: the new limits; ``gap_closed_cm`` and
    ``overlap_closed_cm`` [cm], per layer: the gap or overlap between this layer and the one
    above it that was closed (0 where none).
    """

    top_cm: np.ndarray
    bottom_cm: np.ndarray
    gap_closed_cm: np.ndarray
    overlap_closed_cm: np.ndarray

    @property
    def moved(self) -> np.ndarray:
        """Layers whose top (and the bottom of the layer above) moved."""
        return (self.gap_closed_cm > 0) | (self.overlap_closed_cm > 0)


def adjoin_layers(codes: np.ndarray, top_cm: np.ndarray, bottom_cm: np.ndarray,
                  tolerance_cm: float) -> AdjoinedLayers:
    """Close gaps and overlaps up to ``tolerance_cm`` between consecutive layers, at the midpoint.

    Lab sheets that sample "0-10, 11-20, 21-30" (or "0-10.5, 10-20") leave 1 cm gaps or
    overlaps between layers that are meant to adjoin. Where the bottom of a layer and the
    top of the next layer of the same profile differ by more than :data:`DEPTH_TOL_CM`
    but at most ``tolerance_cm``, both are moved to their midpoint, so no depth is counted
    twice and none is left out. Larger gaps and overlaps are left as they are (they are
    reported by :func:`depth_logic`).

    Parameters
    ----------
    codes : array of int
        Profile code of each layer; layers sorted by code and top depth.
    top_cm, bottom_cm : array [cm]
        Layer limits.
    tolerance_cm : float
        Largest gap or overlap closed [cm]; 0 closes none.

    Returns
    -------
    AdjoinedLayers
        New limits (copies) and the gap or overlap closed above each layer.

    Examples
    --------
    >>> r = adjoin_layers(np.array([0, 0, 0]), np.array([0.0, 11.0, 20.0]), np.array([10.0, 20.5, 30.0]), 1.0)
    >>> r.top_cm.tolist(), r.bottom_cm.tolist()
    ([0.0, 10.5, 20.25], [10.5, 20.25, 30.0])
    >>> r.gap_closed_cm.tolist(), r.overlap_closed_cm.tolist()
    ([0.0, 1.0, 0.0], [0.0, 0.0, 0.5])
    """
    top = np.asarray(top_cm, dtype=float).copy()
    bottom = np.asarray(bottom_cm, dtype=float).copy()
    n = top.size
    gap = np.zeros(n)
    overlap = np.zeros(n)
    if n < 2 or not tolerance_cm > 0:
        return AdjoinedLayers(top, bottom, gap, overlap)
    codes = np.asarray(codes)
    same = codes[1:] == codes[:-1]
    diff = top[1:] - bottom[:-1]  # > 0 gap, < 0 overlap, between layer i and i + 1
    # A layer nested in the one above (or ending above its top) is not a boundary to move.
    ordered = bottom[1:] > bottom[:-1]
    close = same & ordered & (np.abs(diff) > DEPTH_TOL_CM) & (np.abs(diff) <= tolerance_cm + 1e-9)
    at = np.flatnonzero(close)
    mid = (top[at + 1] + bottom[at]) / 2.0
    gap[at + 1] = np.clip(diff[at], 0.0, None)
    overlap[at + 1] = np.clip(-diff[at], 0.0, None)
    bottom[at] = mid
    top[at + 1] = mid
    return AdjoinedLayers(top, bottom, gap, overlap)
