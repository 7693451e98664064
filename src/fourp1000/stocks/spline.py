"""Mass-preserving (equal-area) quadratic spline of soil properties with depth.

The spline of Bishop, McBratney & Laslett (1999) [1]_ fits a smooth depth function to
horizon (layer) means such that the mean of the function over each horizon stays close to
the observed value -- exactly equal to it as the smoothing parameter ``lam`` goes to 0.
It is the usual way to harmonise soil profiles sampled at irregular depths onto standard
depth intervals (Malone et al. 2009 [2]_; GlobalSoilMap 0-5-15-30-60-100-200 cm).

This module reproduces the R package mpspline2 (obrl-soil, v0.1.9), which is the
reference implementation its results are checked against; the code here is written from
the published algorithm (see ``docs/spline.md``), not translated from mpspline2.

Two entry points:

- :func:`mpspline_profile` -- one profile, every output mpspline2 gives (fitted horizon
  means, 1-cm values, standard-depth means, RMSE) plus the spline coefficients.
- :func:`spline_interval_means` -- many profiles at once (vectorised, no loop over
  profiles), the mean of each profile's spline over one depth interval.

References
----------
.. [1] Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Modelling soil attribute
   depth functions with equal-area quadratic smoothing splines. Geoderma 91, 27-45.
   doi:10.1016/S0016-7061(99)00003-8
.. [2] Malone, B.P., McBratney, A.B., Minasny, B., Laslett, G.M. (2009). Mapping
   continuous depth functions of soil carbon storage and available water capacity.
   Geoderma 154, 138-152. doi:10.1016/j.geoderma.2009.10.007
.. [3] O'Brien, L. mpspline2: Mass-Preserving Spline Functions for Soil Data, R package
   v0.1.9. https://github.com/obrl-soil/mpspline2
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, NamedTuple

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError

__all__ = [
    "DEFAULT_DEPTHS_CM",
    "IntervalMeans",
    "MassPreservingSpline",
    "OverlappingHorizonsError",
    "mpspline_profile",
    "spline_interval_means",
]

#: GlobalSoilMap standard depth boundaries [cm], the mpspline2 default ``d``.
DEFAULT_DEPTHS_CM: tuple[int, ...] = (0, 5, 15, 30, 60, 100, 200)

#: Depth given to a last horizon whose bottom is missing: top + 10 cm (mpspline2's repair).
_MISSING_BOTTOM_THICKNESS_CM = 10.0

#: Overlap of adjacent horizons [cm] still taken as a shared boundary (rounding error).
_DEPTH_TOLERANCE_CM = 1e-6


class OverlappingHorizonsError(InputError):
    """Horizons of one or more profiles overlap; the spline cannot be fitted to them.

    ``profile_codes`` lists the offending profiles (integer codes as passed in), so a
    caller can map them back to plot identifiers.
    """

    def __init__(self, message: str, profile_codes: Sequence[int]) -> None:
        super().__init__(message)
        self.profile_codes = list(profile_codes)


# ---------------------------------------------------------------------------------------
# Data checks (shared by the single-profile and the batch functions)
# ---------------------------------------------------------------------------------------


class _Horizons(NamedTuple):
    codes: NDArray[np.int64]
    top_cm: NDArray[np.float64]
    bottom_cm: NDArray[np.float64]
    values: NDArray[np.float64]


def _clean_horizons(
    codes: ArrayLike,
    top_cm: ArrayLike,
    bottom_cm: ArrayLike,
    values: ArrayLike,
    fill_missing_depths: bool,
) -> _Horizons:
    """Apply mpspline2's pre-spline data checks to the rows of many profiles at once.

    Returns the kept rows sorted by profile, top and bottom depth. Raises
    :class:`OverlappingHorizonsError` when any profile has overlapping horizons.
    """
    codes_a = np.asarray(codes)
    top = np.asarray(top_cm, dtype=float).copy()
    bottom = np.asarray(bottom_cm, dtype=float).copy()
    vals = np.asarray(values, dtype=float)
    n_rows = codes_a.shape[0] if codes_a.ndim == 1 else -1
    if codes_a.ndim != 1 or any(a.shape != (n_rows,) for a in (top, bottom, vals)):
        raise InputError(
            "profile codes, top depths, bottom depths and values must be 1-D arrays of the "
            f"same length (got shapes {codes_a.shape}, {top.shape}, {bottom.shape}, {vals.shape})"
        )
    if n_rows and not np.issubdtype(codes_a.dtype, np.integer):
        raise InputError("profile codes must be integers 0..n_profiles-1")
    codes_a = codes_a.astype(np.int64)
    if n_rows and codes_a.min() < 0:
        raise InputError("profile codes must be non-negative integers")
    if np.isinf(vals).any() or np.isinf(top).any() or np.isinf(bottom).any():
        raise InputError("depths and values must be finite (infinite value found)")

    # 1. Horizons without a value carry no information: drop them (mpspline2).
    keep = ~np.isnan(vals)
    codes_a, top, bottom, vals = codes_a[keep], top[keep], bottom[keep], vals[keep]

    # 2. mpspline2 repairs a missing top of the first horizon (-> 0 cm) and a missing
    #    bottom of the last one (-> top + 10 cm), "first"/"last" in the order given.
    if np.any(codes_a[1:] < codes_a[:-1]):
        order = np.argsort(codes_a, kind="stable")
        codes_a, top, bottom, vals = codes_a[order], top[order], bottom[order], vals[order]
    if fill_missing_depths and codes_a.size:
        first = np.r_[True, codes_a[1:] != codes_a[:-1]]
        last = np.r_[codes_a[1:] != codes_a[:-1], True]
        top[first & np.isnan(top)] = 0.0
        fill_bottom = last & np.isnan(bottom)
        bottom[fill_bottom] = top[fill_bottom] + _MISSING_BOTTOM_THICKNESS_CM
    missing = np.isnan(top) | np.isnan(bottom)
    if missing.any():
        bad = np.unique(codes_a[missing])
        raise InputError(
            f"missing top or bottom depth in {bad.size} profile(s) (profile codes "
            f"{_list_codes(bad)}); the spline needs both depths of every horizon with a value"
        )

    # 3. Drop horizons above the mineral surface (negative depths, e.g. organic layers
    #    recorded upwards from 0) and those of zero or negative thickness (mpspline2).
    keep = (top >= 0) & (bottom >= 0) & (bottom > top)
    codes_a, top, bottom, vals = codes_a[keep], top[keep], bottom[keep], vals[keep]

    same = codes_a[1:] == codes_a[:-1]
    unsorted = same & ((top[1:] < top[:-1]) | ((top[1:] == top[:-1]) & (bottom[1:] < bottom[:-1])))
    if unsorted.any():  # the usual input is already sorted; skip the O(N log N) sort then
        order = np.lexsort((bottom, top, codes_a))
        codes_a, top, bottom, vals = codes_a[order], top[order], bottom[order], vals[order]

    # 4. Overlapping horizons have no equal-area spline: reject the profile (mpspline2
    #    returns NA for it; we raise so the user can fix the data).
    same = codes_a[1:] == codes_a[:-1]
    # Depths converted from other units (mm, inches) can miss by rounding error; an
    # "overlap" that small is a contiguous boundary, so snap the top onto the bottom.
    rounding = same & (top[1:] < bottom[:-1]) & (bottom[:-1] - top[1:] <= _DEPTH_TOLERANCE_CM)
    top[1:][rounding] = bottom[:-1][rounding]
    overlap = same & (top[1:] < bottom[:-1])
    if overlap.any():
        bad = np.unique(codes_a[1:][overlap])
        i = int(np.flatnonzero(overlap)[0])
        raise OverlappingHorizonsError(
            f"overlapping horizons in {bad.size} profile(s) (profile codes {_list_codes(bad)}); "
            f"e.g. {_fmt_cm(top[i])}-{_fmt_cm(bottom[i])} cm overlaps "
            f"{_fmt_cm(top[i + 1])}-{_fmt_cm(bottom[i + 1])} cm in profile {codes_a[i]}. "
            "The mass-preserving spline needs non-overlapping horizons (gaps are allowed)",
            bad.tolist(),
        )
    return _Horizons(codes_a, top, bottom, vals)


def _list_codes(codes: NDArray[np.int64], limit: int = 10) -> str:
    shown = ", ".join(str(c) for c in codes[:limit])
    return shown + (", ..." if codes.size > limit else "")


def _fmt_cm(x: float) -> str:
    return f"{x:g}"


# ---------------------------------------------------------------------------------------
# Batched fit and evaluation; every array has a leading "profile" axis of length k and
# all profiles in a call have the same number n of horizons.
# ---------------------------------------------------------------------------------------


class _Coefficients(NamedTuple):
    top_cm: NDArray[np.float64]  # (k, n)
    bottom_cm: NDArray[np.float64]  # (k, n)
    s_bar: NDArray[np.float64]  # (k, n) fitted horizon means
    b0: NDArray[np.float64]  # (k, n) slope at the top of each horizon
    b1: NDArray[np.float64]  # (k, n) slope at the bottom of each horizon
    gamma: NDArray[np.float64]  # (k, n) quadratic coefficient
    alpha: NDArray[np.float64]  # (k, n) value at the top of each horizon


def _r_and_q(top: NDArray, bottom: NDArray) -> tuple[NDArray, NDArray]:
    """Matrices R (k, n-1, n-1) and Q (n-1, n) of Bishop et al. (1999), eqs. 5-7."""
    k, n = top.shape
    th = bottom - top
    gap = top[:, 1:] - bottom[:, :-1]
    r = np.zeros((k, n - 1, n - 1))
    idx = np.arange(n - 1)
    r[:, idx, idx] = 2.0 * th[:, :-1] + 2.0 * th[:, 1:] + 6.0 * gap
    r[:, idx[:-1], idx[:-1] + 1] = th[:, 1:-1]
    r[:, idx[:-1] + 1, idx[:-1]] = th[:, 1:-1]
    q = np.zeros((n - 1, n))
    q[idx, idx] = -1.0
    q[idx, idx + 1] = 1.0
    return r, q


def _z_matrix(top: NDArray, bottom: NDArray, lam: float) -> tuple[NDArray, NDArray]:
    """Z = I + 6 n lam Q' R^-1 Q (k, n, n) and R^-1 Q (k, n-1, n), the dense form of
    Bishop et al. (1999) as mpspline2 builds it; kept to check :func:`_fit` against."""
    k, n = top.shape
    r, q = _r_and_q(top, bottom)
    r_inv_q = np.linalg.solve(r, np.broadcast_to(q, (k, n - 1, n)))
    z = np.eye(n) + 6.0 * n * lam * np.einsum("ji,kjl->kil", q, r_inv_q)
    return z, r_inv_q


def _solve_tridiagonal(diag: NDArray, off: NDArray, rhs: NDArray) -> NDArray:
    """Solve k symmetric tridiagonal systems at once (Thomas algorithm).

    ``diag`` (k, m), ``off`` (k, m-1) the sub/super-diagonal, ``rhs`` (k, m). The loop
    runs over the m unknowns, vectorised over profiles; no pivoting is needed because
    the matrices here are symmetric positive definite.
    """
    m = diag.shape[1]
    c_prime = np.empty_like(off)
    x = np.empty_like(rhs)
    denom = diag[:, 0]
    x[:, 0] = rhs[:, 0] / denom
    for i in range(1, m):
        c_prime[:, i - 1] = off[:, i - 1] / denom
        denom = diag[:, i] - off[:, i - 1] * c_prime[:, i - 1]
        x[:, i] = (rhs[:, i] - off[:, i - 1] * x[:, i - 1]) / denom
    for i in range(m - 2, -1, -1):
        x[:, i] -= c_prime[:, i] * x[:, i + 1]
    return x


def _fit(top: NDArray, bottom: NDArray, y: NDArray, lam: float) -> _Coefficients:
    """Fit the spline to k profiles of n horizons each (rows sorted, no overlaps)."""
    k, n = top.shape
    th = bottom - top
    if n == 1:
        # One horizon: nothing to smooth, the "spline" is the constant observed value.
        zeros = np.zeros_like(y)
        return _Coefficients(top, bottom, y.copy(), zeros, zeros, zeros, y.copy())
    # s_bar = Z^-1 y with Z = I + c Q' R^-1 Q, c = 6 n lam (Bishop et al. 1999, eq. 11),
    # rewritten without inverses: with w = R^-1 Q s_bar, (R + c Q Q') w = Q y and
    # s_bar = y - c Q' w. R + c Q Q' is tridiagonal, so one O(n) solve per profile
    # replaces two dense ones; the result equals the dense route (see tests).
    c = 6.0 * n * lam
    gap = top[:, 1:] - bottom[:, :-1]
    diag = 2.0 * th[:, :-1] + 2.0 * th[:, 1:] + 6.0 * gap + 2.0 * c
    off = th[:, 1:-1] - c
    w = _solve_tridiagonal(diag, off, np.diff(y, axis=1))
    zero = np.zeros((k, 1))
    w_top = np.concatenate([zero, w], axis=1)  # w at the top of each horizon
    w_bottom = np.concatenate([w, zero], axis=1)  # w at the bottom of each horizon
    s_bar = y - c * (w_top - w_bottom)
    b0 = 6.0 * w_top  # slopes of the fitted function at the horizon boundaries
    b1 = 6.0 * w_bottom
    gamma = (b1 - b0) / (2.0 * th)
    alpha = s_bar - b0 * th / 2.0 - gamma * th**2 / 3.0
    return _Coefficients(top, bottom, s_bar, b0, b1, gamma, alpha)


class _Located(NamedTuple):
    """Where depths x (k,) fall: flat indices of horizon h (the last whose top <= x) and
    of the next horizon into the (k, n) coefficient arrays, and whether x is inside h
    (else in the gap below it). Beyond the last bottom, x counts as inside the last
    horizon (callers mask it)."""

    here: NDArray[np.intp]
    below: NDArray[np.intp]
    inside: NDArray[np.bool_]


def _at(a: NDArray, flat_index: NDArray) -> NDArray:
    """Elements of a (k, n) array at flat indices (faster than take_along_axis)."""
    return np.ascontiguousarray(a).ravel().take(flat_index)


def _locate(c: _Coefficients, x: NDArray) -> _Located:
    k, n = c.top_cm.shape
    h = np.zeros(k, dtype=np.intp)
    for i in range(1, n):  # horizon index loop; tops are sorted
        h += c.top_cm[:, i] <= x
    here = np.arange(k) * n + h
    below = here + (h < n - 1)
    inside = (x < c.bottom_cm.ravel().take(here)) | (h == n - 1)
    return _Located(here, below, inside)


def _evaluate(c: _Coefficients, x: NDArray) -> NDArray:
    """Spline value at depths x (k,) [cm], one depth per profile: quadratic in
    horizons, linear in gaps.

    Outside the sampled range it extrapolates the first or last horizon's quadratic;
    callers mask those depths.
    """
    loc = _locate(c, x)

    t = x - _at(c.top_cm, loc.here)
    in_horizon = _at(c.alpha, loc.here) + t * (_at(c.b0, loc.here) + _at(c.gamma, loc.here) * t)
    bot = _at(c.bottom_cm, loc.here)
    b1 = _at(c.b1, loc.here)
    # In a gap the spline is the straight line with the slope b1 of the horizon above
    # that meets the next horizon's top value alpha (Bishop et al. 1999, section 2.3).
    phi = _at(c.alpha, loc.below) - b1 * (_at(c.top_cm, loc.below) - bot)
    in_gap = phi + b1 * (x - bot)
    return np.where(loc.inside, in_horizon, in_gap)


def _cumulative_integral(c: _Coefficients, x: NDArray) -> NDArray:
    """Integral of the spline from the first top to each column of x (k, m) [value x cm];
    x is clipped to the sampled range [first top, last bottom]."""
    x = np.clip(x, c.top_cm[:, :1], c.bottom_cm[:, -1:])
    th = c.bottom_cm - c.top_cm
    gap = c.top_cm[:, 1:] - c.bottom_cm[:, :-1]
    horizon_area = th * c.s_bar  # mass preservation: integral over a horizon = th * s_bar
    # Gap j: line from alpha_{j+1} - b1_j * gap up to alpha_{j+1}; trapezoid area.
    gap_area = gap * (c.alpha[:, 1:] - c.b1[:, :-1] * gap / 2.0)
    steps = horizon_area.copy()
    steps[:, :-1] += gap_area
    area_to_top = np.cumsum(steps, axis=1) - steps  # area above each horizon's top

    out = np.empty_like(x)
    for j in range(x.shape[1]):  # a couple of depths (interval top and bottom)
        xj = x[:, j]
        loc = _locate(c, xj)
        t = xj - _at(c.top_cm, loc.here)
        a0, b0, g = _at(c.alpha, loc.here), _at(c.b0, loc.here), _at(c.gamma, loc.here)
        partial_horizon = t * (a0 + t * (b0 / 2.0 + g * t / 3.0))
        bot = _at(c.bottom_cm, loc.here)
        s = xj - bot
        b1 = _at(c.b1, loc.here)
        phi = _at(c.alpha, loc.below) - b1 * (_at(c.top_cm, loc.below) - bot)
        partial_gap = _at(horizon_area, loc.here) + s * (phi + b1 * s / 2.0)
        out[:, j] = _at(area_to_top, loc.here) + np.where(loc.inside, partial_horizon, partial_gap)
    return out


def _repeat(c: _Coefficients, m: int) -> _Coefficients:
    """One profile's coefficients repeated for m depths (to reuse the batched code)."""
    return _Coefficients(*(np.repeat(a, m, axis=0) for a in c))


def _last_slice_cm(bottom_cm: NDArray) -> NDArray:
    """Number of 1-cm slices mpspline2 evaluates down a profile: floor(max bottom)."""
    return np.floor(bottom_cm)


# ---------------------------------------------------------------------------------------
# Single profile
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MassPreservingSpline:
    """A fitted mass-preserving spline of one profile and mpspline2's outputs.

    Attributes
    ----------
    top_cm, bottom_cm : ndarray [cm]
        Horizon depths used in the fit, after the data checks (sorted by depth).
    values : ndarray [unit of the property]
        Observed horizon values used in the fit.
    lam : float
        Smoothing parameter.
    depths_cm : ndarray [cm]
        Standard depth boundaries of ``est_dcm``.
    est_icm : ndarray [unit of the property]
        Fitted horizon means (``s_bar``), one per horizon used. Not clipped to
        ``[vlow, vhigh]``.
    est_1cm : ndarray [unit of the property]
        Length ``max(depths_cm)``; element k is the spline value at depth k cm, standing
        for the slice [k, k+1) cm, clipped to ``[vlow, vhigh]``. NaN above the first top
        and from ``floor(max bottom)`` down (no extrapolation).
    est_dcm : ndarray [unit of the property]
        Mean of ``est_1cm`` over each standard interval ``[d_j, d_j+1)``, NaN values
        ignored; NaN where the interval has no 1-cm value.
    rmse : float [unit of the property]
        Root mean squared difference between observed and fitted horizon means (NaN for a
        single horizon).
    rmse_iqr : float [-]
        ``rmse`` divided by the interquartile range of the observed values.
    alpha, b0, b1, gamma : ndarray
        Coefficients per horizon i: value f(x) = alpha_i + b0_i (x - top_i) +
        gamma_i (x - top_i)^2 inside horizon i; b1_i is the slope at its bottom.
    """

    top_cm: NDArray[np.float64]
    bottom_cm: NDArray[np.float64]
    values: NDArray[np.float64]
    lam: float
    depths_cm: NDArray[np.float64]
    est_icm: NDArray[np.float64]
    est_1cm: NDArray[np.float64]
    est_dcm: NDArray[np.float64]
    rmse: float
    rmse_iqr: float
    alpha: NDArray[np.float64]
    b0: NDArray[np.float64]
    b1: NDArray[np.float64]
    gamma: NDArray[np.float64]

    def _coefficients(self) -> _Coefficients:
        def row(a: NDArray) -> NDArray:
            return np.asarray(a, dtype=float)[None, :]

        return _Coefficients(
            row(self.top_cm), row(self.bottom_cm), row(self.est_icm),
            row(self.b0), row(self.b1), row(self.gamma), row(self.alpha),
        )

    def evaluate(self, depth_cm: ArrayLike) -> NDArray[np.float64]:
        """Unclipped spline value at ``depth_cm`` [cm]; NaN outside [first top, last bottom]."""
        x = np.atleast_1d(np.asarray(depth_cm, dtype=float))
        flat = x.ravel()
        out = _evaluate(_repeat(self._coefficients(), flat.size), flat).reshape(x.shape)
        outside = (x < self.top_cm[0]) | (x > self.bottom_cm[-1])
        return np.where(outside, np.nan, out)

    def interval_mean(self, top_cm: float, bottom_cm: float) -> float:
        """Exact mean of the unclipped spline over [top_cm, bottom_cm] ∩ sampled range.

        NaN when the interval does not overlap the sampled depth range.
        """
        a = max(float(top_cm), float(self.top_cm[0]))
        b = min(float(bottom_cm), float(self.bottom_cm[-1]))
        if not b > a:
            return float("nan")
        area = _cumulative_integral(self._coefficients(), np.array([[a, b]]))
        return float((area[0, 1] - area[0, 0]) / (b - a))


def mpspline_profile(
    top_cm: ArrayLike,
    bottom_cm: ArrayLike,
    values: ArrayLike,
    lam: float = 0.1,
    depths_cm: Sequence[float] = DEFAULT_DEPTHS_CM,
    vlow: float = 0.0,
    vhigh: float = 1000.0,
) -> MassPreservingSpline:
    """Fit the mass-preserving (equal-area) quadratic spline to one soil profile.

    Reproduces ``mpspline2::mpspline_one()`` [3]_: fitted horizon means, 1-cm values,
    means over standard depth intervals and the RMSE of the fit.

    Parameters
    ----------
    top_cm, bottom_cm : array_like [cm]
        Upper and lower depth of each horizon (depth increases downwards from the
        mineral surface at 0). Gaps between horizons are allowed; overlaps are not.
    values : array_like [unit of the property]
        Horizon mean of the property (e.g. SOC [g kg-1]); NaN marks a missing value.
    lam : float, default 0.1
        Smoothing parameter lambda [-]: 0 interpolates the horizon means exactly, larger
        values give a smoother curve that departs further from them.
    depths_cm : sequence of int [cm], default (0, 5, 15, 30, 60, 100, 200)
        Boundaries of the standard depth intervals (whole cm, increasing, >= 0).
    vlow, vhigh : float [unit of the property], default 0 and 1000
        Bounds the 1-cm values (and so the standard-depth means) are clipped to.

    Returns
    -------
    MassPreservingSpline
        Outputs and coefficients; see its attributes.

    Raises
    ------
    InputError
        No horizon left after the data checks, bad ``depths_cm`` or ``lam``, a horizon
        with a value but no depth that cannot be repaired.
    OverlappingHorizonsError
        Two horizons overlap (a subclass of :class:`~fourp1000.errors.InputError`).

    Notes
    -----
    Data checks, as mpspline2 applies them: horizons with a missing value are dropped; a
    missing top of the first horizon becomes 0 cm and a missing bottom of the last one
    becomes top + 10 cm; horizons with a negative depth, zero thickness or the bottom
    above the top are dropped; horizons are sorted by depth; overlapping horizons reject
    the profile (mpspline2 returns NA, here an exception is raised).

    A single horizon is not splined: the function is the observed value over the
    horizon, ``rmse`` and ``rmse_iqr`` are NaN. (mpspline2 copies the value into its
    1-cm and standard-depth vectors with off-by-one indexing; here the constant is
    treated like any other spline, so ``est_dcm`` is NaN outside the horizon.)

    Fit (Bishop et al. 1999 [1]_, eqs. 5-11): with n horizons, thicknesses th_i and gaps
    g_i, the tridiagonal R has R_ii = 2 th_i + 2 th_i+1 + 6 g_i and
    R_i,i+1 = th_i+1; Q has -1, +1 on its two diagonals; the fitted horizon means are
    s_bar = (I + 6 n lam Q' R^-1 Q)^-1 y. In horizons the function is quadratic, in gaps
    linear; it is continuous with a continuous slope.

    The 1-cm value of slice [k, k+1) is the spline at depth k (as mpspline2 and
    splinetool.exe do), not the slice mean. There is no extrapolation above the first
    top or below the last bottom.

    References
    ----------
    .. [1] Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Geoderma 91, 27-45.
       doi:10.1016/S0016-7061(99)00003-8
    .. [2] Malone, B.P., McBratney, A.B., Minasny, B., Laslett, G.M. (2009). Geoderma
       154, 138-152. doi:10.1016/j.geoderma.2009.10.007
    .. [3] O'Brien, L. mpspline2 R package v0.1.9, https://github.com/obrl-soil/mpspline2

    Examples
    --------
    >>> fit = mpspline_profile([0, 20, 40, 60], [10, 30, 50, 70], [6, 4, 3, 10])
    >>> fit.est_dcm.round(6).tolist()  # 0-5, 5-15, 15-30, 30-60, 60-100, 100-200 cm
    [6.10516, 5.618341, 4.316876, 4.192058, 9.7324, nan]
    """
    lam = _check_lam(lam)
    d = _check_depths(depths_cm)
    top = np.atleast_1d(np.asarray(top_cm, dtype=float))
    hz = _clean_horizons(np.zeros(top.shape[0], dtype=np.int64), top, bottom_cm, values, True)
    if hz.values.size == 0:
        raise InputError("no horizon with a value and valid depths left to spline")

    c = _fit(hz.top_cm[None, :], hz.bottom_cm[None, :], hz.values[None, :], lam)
    est_1cm = _one_cm_values(c, hz, int(d[-1]), vlow, vhigh)
    est_dcm = _slice_means(est_1cm, d)
    rmse, rmse_iqr = _fit_rmse(hz.values, c.s_bar[0])
    return MassPreservingSpline(
        top_cm=hz.top_cm, bottom_cm=hz.bottom_cm, values=hz.values, lam=lam,
        depths_cm=d, est_icm=c.s_bar[0], est_1cm=est_1cm, est_dcm=est_dcm,
        rmse=rmse, rmse_iqr=rmse_iqr,
        alpha=c.alpha[0], b0=c.b0[0], b1=c.b1[0], gamma=c.gamma[0],
    )


def _one_cm_values(c: _Coefficients, hz: _Horizons, max_depth_cm: int, vlow: float,
                   vhigh: float) -> NDArray[np.float64]:
    """Spline at each whole depth k [cm] (the value of slice [k, k+1)), clipped; NaN outside the horizons."""
    n_slices = int(min(_last_slice_cm(hz.bottom_cm[-1:])[0], max_depth_cm))
    est_1cm = np.full(max_depth_cm, np.nan)
    k = np.arange(max(n_slices, 0), dtype=float)
    k = k[k >= hz.top_cm[0]]
    if k.size:
        est_1cm[k.astype(int)] = np.clip(_evaluate(_repeat(c, k.size), k), vlow, vhigh)
    return est_1cm


def _fit_rmse(values: NDArray, fitted: NDArray) -> tuple[float, float]:
    """RMSE of the fitted horizon means and RMSE / IQR of the values (NaN for one horizon)."""
    if values.size <= 1:
        return float("nan"), float("nan")
    rmse = float(np.sqrt(np.mean((values - fitted) ** 2)))
    q25, q75 = np.percentile(values, [25, 75])  # linear = R's default type 7
    with np.errstate(divide="ignore", invalid="ignore"):
        return rmse, float(np.float64(rmse) / np.float64(q75 - q25))


def _slice_means(est_1cm: NDArray, d: NDArray) -> NDArray:
    """Mean of the 1-cm values in [d_j, d_j+1) for each j, NaN ignored (mpspline2)."""
    out = np.full(d.size - 1, np.nan)
    for j in range(d.size - 1):  # a handful of standard depths
        v = est_1cm[int(d[j]) : int(d[j + 1])]
        v = v[~np.isnan(v)]
        if v.size:
            out[j] = v.mean()
    return out


def _check_lam(lam: float) -> float:
    lam = float(lam)
    if not np.isfinite(lam) or lam < 0:
        raise InputError(f"spline smoothing parameter lam must be a finite number >= 0, got {lam}")
    return lam


def _check_depths(depths_cm: Sequence[float]) -> NDArray[np.float64]:
    d = np.asarray(depths_cm, dtype=float)
    if (
        d.ndim != 1 or d.size < 2 or not np.all(np.isfinite(d)) or np.any(d < 0)
        or np.any(np.diff(d) <= 0) or np.any(d != np.round(d))
    ):
        raise InputError(
            "standard depths must be at least two increasing whole numbers of cm >= 0, "
            f"got {list(np.atleast_1d(d))}"
        )
    return d


# ---------------------------------------------------------------------------------------
# Many profiles
# ---------------------------------------------------------------------------------------


class IntervalMeans(NamedTuple):
    """Result of :func:`spline_interval_means`, one element per profile.

    Attributes
    ----------
    mean : ndarray [unit of the property]
        Mean of the fitted spline over the part of the requested interval that lies within
        the sampled depth range; NaN where there is no such part or no usable horizon.
    covered_top_cm, covered_bottom_cm : ndarray [cm]
        That part: ``max(interval_top, first top)`` and ``min(interval_bottom, last
        bottom)``; NaN where the profile has no usable horizon.
    beyond_sampled_depth : ndarray of bool
        True where the interval starts above the first top or ends below the last bottom
        (or the profile has no usable horizon), i.e. where the caller must extrapolate.
    n_horizons : ndarray of int
        Horizons used in the fit after the data checks.
    """

    mean: NDArray[np.float64]
    covered_top_cm: NDArray[np.float64]
    covered_bottom_cm: NDArray[np.float64]
    beyond_sampled_depth: NDArray[np.bool_]
    n_horizons: NDArray[np.int64]


def spline_interval_means(
    profile_codes: ArrayLike,
    top_cm: ArrayLike,
    bottom_cm: ArrayLike,
    values: ArrayLike,
    interval_top_cm: ArrayLike,
    interval_bottom_cm: ArrayLike,
    lam: float = 0.1,
    discretisation: Literal["1cm", "exact"] = "1cm",
    vlow: float = 0.0,
    vhigh: float = np.inf,
    n_profiles: int | None = None,
) -> IntervalMeans:
    """Mean of each profile's mass-preserving spline over a depth interval, vectorised.

    Fits the spline of Bishop et al. (1999) [1]_ to many profiles at once -- the linear
    systems of all profiles with the same number of horizons are solved in one batched
    call -- and averages each fit over ``[interval_top_cm, interval_bottom_cm]``.

    Parameters
    ----------
    profile_codes : array_like of int
        Profile of each row, coded 0..n_profiles-1 (e.g. ``pandas.factorize(plot_id)``).
        Rows need not be sorted; they are sorted by profile and depth here.
    top_cm, bottom_cm : array_like [cm]
        Horizon depths, one per row.
    values : array_like [unit of the property]
        Horizon values, one per row; NaN rows are ignored.
    interval_top_cm, interval_bottom_cm : float or array_like [cm]
        Interval to average over: scalars, or one value per profile.
    lam : float, default 0.1
        Smoothing parameter [-].
    discretisation : {"1cm", "exact"}, default "1cm"
        ``"1cm"``: mean of mpspline2's 1-cm values (spline at each whole depth k,
        clipped to ``[vlow, vhigh]``) for k in [interval_top, interval_bottom) -- equals
        mpspline2's standard-depth value; interval bounds must be whole cm.
        ``"exact"``: exact integral of the piecewise quadratic (linear in gaps) divided by
        the covered thickness; the mean (not the function) is clipped.
    vlow, vhigh : float [unit of the property], default 0 and inf
        Clipping bounds.
    n_profiles : int, optional
        Number of profiles; defaults to ``max(profile_codes) + 1``.

    Returns
    -------
    IntervalMeans
        ``mean``, the covered part of the interval, a ``beyond_sampled_depth`` flag and
        the number of horizons used, one element per profile.

    Raises
    ------
    InputError
        Inconsistent array lengths, bad codes, interval bottom not below its top,
        non-whole-cm intervals with ``"1cm"``, missing depths.
    OverlappingHorizonsError
        Any profile has overlapping horizons (lists their codes).

    Notes
    -----
    The data checks of :func:`mpspline_profile` apply, except that missing depths are
    not repaired (they raise). A profile with one horizon is treated as constant.

    Where the interval reaches beyond the sampled depth range, ``mean`` is the mean over
    the covered part only (with ``"1cm"`` this is what mpspline2 reports, e.g. its
    60-100 cm value of a 70 cm deep profile is the 60-70 cm mean) and
    ``beyond_sampled_depth`` is set: extrapolation is left to the caller, who gets
    ``covered_top_cm``/``covered_bottom_cm`` to do it. With ``"1cm"`` the 1-cm values
    stop at ``floor(last bottom)`` as in mpspline2.

    Splining a concentration and a bulk density separately does not preserve the mass
    of their product; spline the stock density if mass of carbon is what must be kept.

    References
    ----------
    .. [1] Bishop, T.F.A., McBratney, A.B., Laslett, G.M. (1999). Geoderma 91, 27-45.
       doi:10.1016/S0016-7061(99)00003-8
    .. [2] Malone, B.P., McBratney, A.B., Minasny, B., Laslett, G.M. (2009). Geoderma
       154, 138-152. doi:10.1016/j.geoderma.2009.10.007
    .. [3] O'Brien, L. mpspline2 R package v0.1.9, https://github.com/obrl-soil/mpspline2
    """
    lam = _check_lam(lam)
    if discretisation not in ("1cm", "exact"):
        raise InputError(f"unknown discretisation {discretisation!r}; valid: '1cm', 'exact'")
    hz = _clean_horizons(profile_codes, top_cm, bottom_cm, values, fill_missing_depths=False)

    n_profiles = _profile_count(profile_codes, n_profiles)
    int_top, int_bot = _check_intervals(interval_top_cm, interval_bottom_cm, n_profiles, discretisation)
    counts = np.bincount(hz.codes, minlength=n_profiles)
    mean, covered_top, covered_bot = _batched_interval_means(hz, counts, int_top, int_bot, lam, discretisation,
                                                             vlow, vhigh)
    empty = counts == 0
    beyond = empty | (int_top < covered_top) | (int_bot > covered_bot)
    # The covered range may be empty (interval wholly above/below the data).
    no_overlap = ~empty & ~(covered_bot > covered_top)
    covered_top[no_overlap] = np.nan
    covered_bot[no_overlap] = np.nan
    return IntervalMeans(mean, covered_top, covered_bot, beyond, counts.astype(np.int64))


def _profile_count(profile_codes: ArrayLike, n_profiles: int | None) -> int:
    """``n_profiles``, by default max(code) + 1; a code not below it raises."""
    codes = np.asarray(profile_codes)
    if n_profiles is None:
        n_profiles = int(codes.max()) + 1 if codes.size else 0
    if codes.size and int(codes.max()) >= n_profiles:
        raise InputError(f"profile code {int(codes.max())} is not below n_profiles={n_profiles}")
    return n_profiles


def _check_intervals(interval_top_cm, interval_bottom_cm, n_profiles: int, discretisation: str
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The interval [cm] of each profile, checked (finite, bottom below top, whole cm for "1cm")."""
    try:
        int_top = np.broadcast_to(np.asarray(interval_top_cm, dtype=float), (n_profiles,))
        int_bot = np.broadcast_to(np.asarray(interval_bottom_cm, dtype=float), (n_profiles,))
    except ValueError:
        raise InputError(
            f"interval depths must be scalars or have one value per profile ({n_profiles})"
        ) from None
    if not (np.all(np.isfinite(int_top)) and np.all(np.isfinite(int_bot))):
        raise InputError("interval depths must be finite")
    if np.any(int_bot <= int_top):
        raise InputError("interval bottom depth must be below (greater than) its top depth")
    if discretisation == "1cm" and (
        np.any(int_top != np.round(int_top)) or np.any(int_bot != np.round(int_bot))
    ):
        raise InputError(
            "interval depths must be whole cm with discretisation='1cm'; use 'exact' otherwise"
        )
    return int_top, int_bot


def _batched_interval_means(hz: _Horizons, counts: NDArray, int_top: NDArray, int_bot: NDArray, lam: float,
                            discretisation: str, vlow: float, vhigh: float
                            ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Interval mean and covered interval [cm] per profile, one batched fit per horizon count."""
    n_profiles = counts.size
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    mean = np.full(n_profiles, np.nan)
    covered_top = np.full(n_profiles, np.nan)
    covered_bot = np.full(n_profiles, np.nan)

    for n in np.unique(counts[counts > 0]):  # one batched solve per horizon count
        prof = np.flatnonzero(counts == n)
        rows = starts[prof][:, None] + np.arange(n)
        c = _fit(hz.top_cm[rows], hz.bottom_cm[rows], hz.values[rows], lam)
        t, b = int_top[prof], int_bot[prof]
        ct = np.maximum(t, c.top_cm[:, 0])
        cb = np.minimum(b, c.bottom_cm[:, -1])
        covered_top[prof], covered_bot[prof] = ct, cb
        if discretisation == "exact":
            area = _cumulative_integral(c, np.stack([ct, cb], axis=1))
            with np.errstate(invalid="ignore", divide="ignore"):
                m = np.where(cb > ct, (area[:, 1] - area[:, 0]) / (cb - ct), np.nan)
            mean[prof] = np.clip(m, vlow, vhigh)
        else:
            mean[prof] = _one_cm_means(c, t, b, vlow, vhigh)
    return mean, covered_top, covered_bot


def _one_cm_means(
    c: _Coefficients, t: NDArray, b: NDArray, vlow: float, vhigh: float
) -> NDArray[np.float64]:
    """Mean of clipped 1-cm values (spline at depth k) for k in [t, b), mpspline2-style."""
    first_top = c.top_cm[:, 0]
    end = _last_slice_cm(c.bottom_cm[:, -1])
    n_cm = (b - t).astype(np.int64)
    total = np.zeros(t.shape)
    count = np.zeros(t.shape)
    for j in range(int(n_cm.max())):  # loop over depth (cm), vectorised over profiles
        k = t + j
        use = (j < n_cm) & (k >= first_top) & (k < end)
        if not use.any():
            continue
        v = np.clip(_evaluate(c, k), vlow, vhigh)
        total += np.where(use, v, 0.0)
        count += use
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / count, np.nan)
