"""Monotone cubic interpolation exactly as R's ``spline(method = "hyman")`` does it.

R builds a Forsythe–Malcolm–Moler (FMM) cubic spline, clips its knot slopes with Hyman's
(1983) monotonicity filter, recomputes the cubic coefficients from the clipped slopes and
evaluates the piecewise cubic, continuing the first and last pieces beyond the knots.
The equivalent-soil-mass (ESM) scripts of von Haden et al. (2020) and SimpleESM use this
interpolant, so matching their results needs this algorithm, not scipy's PCHIP (a
different choice of slopes: Fritsch & Butland's harmonic mean).

Every function works on many curves at once: ``x`` and ``y`` are 2-D arrays with one
curve per row. :func:`spline_rows` also accepts rows of different lengths (padded with
NaN) and groups the rows by knot count, so the only Python loops are over knot indices
and distinct knot counts, never over curves.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

Array = NDArray[np.float64]

__all__ = [
    "fmm_coefficients",
    "hyman_filter",
    "hermite_coefficients",
    "evaluate_cubic",
    "spline",
    "spline_rows",
]


def _as_rows(values: ArrayLike) -> Array:
    arr = np.asarray(values, dtype=float)
    return arr[np.newaxis, :] if arr.ndim == 1 else arr


def fmm_coefficients(x: ArrayLike, y: ArrayLike) -> tuple[Array, Array, Array]:
    """Cubic spline coefficients with Forsythe, Malcolm & Moler's end conditions.

    The spline on ``[x[i], x[i+1]]`` is ``y[i] + b[i]*t + c[i]*t**2 + d[i]*t**3`` with
    ``t = u - x[i]``; ``b, c, d`` at the last knot continue the last piece (R's layout).

    Parameters
    ----------
    x : array (m, n) or (n,)
        Knot abscissae, strictly increasing along each row; n >= 2.
    y : array (m, n) or (n,)
        Knot ordinates.

    Returns
    -------
    b, c, d : arrays (m, n)
        First-, second- and third-order coefficients (``c`` is s''/2, ``d`` is s'''/6).

    Notes
    -----
    The end conditions match the third derivative of the spline at each end to that of
    the cubic through the four knots nearest that end (Forsythe et al. 1977, p. 76), so
    any cubic polynomial is reproduced exactly from four or more knots. With three knots
    the third derivative is set to zero at both ends, which yields the interpolating
    parabola; with two knots the straight line. The tridiagonal system is solved with
    the same elimination order as R's ``fmm_spline`` (``src/library/stats/src/splines.c``),
    so results agree with R to rounding.

    References
    ----------
    .. [1] Forsythe, G. E., Malcolm, M. A. & Moler, C. B. (1977). Computer Methods for
       Mathematical Computations. Prentice-Hall, Englewood Cliffs, NJ. Sect. 4.4.
    .. [2] R Core Team. R: A language and environment for statistical computing,
       function ``stats::spline``. https://www.R-project.org/
    """
    x = _as_rows(x)
    y = _as_rows(y)
    m, n = x.shape
    if n < 2:
        raise ValueError("a spline needs at least two knots")
    b = np.zeros((m, n))
    c = np.zeros((m, n))
    d = np.zeros((m, n))
    if n == 2:
        slope = (y[:, 1] - y[:, 0]) / (x[:, 1] - x[:, 0])
        b[:, 0] = slope
        b[:, 1] = slope
        return b, c, d

    # Tridiagonal system in sigma (= s''/6 at the knots): b holds the diagonal, d the
    # off-diagonal, c the right-hand side, as in the reference algorithm.
    d[:, 0] = x[:, 1] - x[:, 0]
    c[:, 1] = (y[:, 1] - y[:, 0]) / d[:, 0]
    for i in range(1, n - 1):
        d[:, i] = x[:, i + 1] - x[:, i]
        b[:, i] = 2.0 * (d[:, i - 1] + d[:, i])
        c[:, i + 1] = (y[:, i + 1] - y[:, i]) / d[:, i]
        c[:, i] = c[:, i + 1] - c[:, i]

    b[:, 0] = -d[:, 0]
    b[:, n - 1] = -d[:, n - 2]
    c[:, 0] = 0.0
    c[:, n - 1] = 0.0
    if n > 3:
        # Third derivatives at the ends from divided differences of the end knots.
        c0 = c[:, 2] / (x[:, 3] - x[:, 1]) - c[:, 1] / (x[:, 2] - x[:, 0])
        cn = c[:, n - 2] / (x[:, n - 1] - x[:, n - 3]) - c[:, n - 3] / (x[:, n - 2] - x[:, n - 4])
        c[:, 0] = c0 * d[:, 0] * d[:, 0] / (x[:, 3] - x[:, 0])
        c[:, n - 1] = -cn * d[:, n - 2] * d[:, n - 2] / (x[:, n - 1] - x[:, n - 4])

    for i in range(1, n):  # forward elimination
        t = d[:, i - 1] / b[:, i - 1]
        b[:, i] = b[:, i] - t * d[:, i - 1]
        c[:, i] = c[:, i] - t * c[:, i - 1]
    c[:, n - 1] = c[:, n - 1] / b[:, n - 1]
    for i in range(n - 2, -1, -1):  # back substitution
        c[:, i] = (c[:, i] - d[:, i] * c[:, i + 1]) / b[:, i]

    b[:, n - 1] = (y[:, n - 1] - y[:, n - 2]) / d[:, n - 2] + d[:, n - 2] * (c[:, n - 2] + 2.0 * c[:, n - 1])
    h = d[:, : n - 1].copy()
    b[:, : n - 1] = (y[:, 1:] - y[:, :-1]) / h - h * (c[:, 1:] + 2.0 * c[:, :-1])
    d[:, : n - 1] = (c[:, 1:] - c[:, :-1]) / h
    c *= 3.0
    d[:, n - 1] = d[:, n - 2]
    return b, c, d


def hyman_filter(x: ArrayLike, y: ArrayLike, b: ArrayLike) -> Array:
    """Clip knot slopes so that the Hermite cubic is monotone on monotone data.

    Parameters
    ----------
    x, y : arrays (m, n)
        Knots; ``y`` monotone along each row.
    b : array (m, n)
        Knot slopes (first derivatives), e.g. from :func:`fmm_coefficients`.

    Returns
    -------
    array (m, n)
        Filtered slopes: each slope has the sign of the neighbouring secants (zero where
        they disagree or one is zero) and magnitude at most three times the smaller
        neighbouring secant slope.

    Notes
    -----
    This is Hyman's (1983) filter in the form R applies it (``stats:::hyman_filter``):
    the end knots use their single secant twice. Slopes within ``[0, 3*min(S0, S1)]``
    satisfy Fritsch & Carlson's (1980) sufficient condition for monotonicity, so the
    resulting piecewise cubic is monotone between the knots.

    References
    ----------
    .. [1] Hyman, J. M. (1983). Accurate monotonicity preserving cubic interpolation.
       SIAM J. Sci. Stat. Comput. 4(4), 645–654. doi:10.1137/0904045
    .. [2] Fritsch, F. N. & Carlson, R. E. (1980). Monotone piecewise cubic
       interpolation. SIAM J. Numer. Anal. 17(2), 238–246. doi:10.1137/0717021
    """
    x = _as_rows(x)
    y = _as_rows(y)
    b = _as_rows(b).copy()
    secant = np.diff(y, axis=1) / np.diff(x, axis=1)
    s0 = np.concatenate([secant[:, :1], secant], axis=1)
    s1 = np.concatenate([secant, secant[:, -1:]], axis=1)
    limit = 3.0 * np.minimum(np.abs(s0), np.abs(s1))
    sign_ref = np.where(s0 * s1 > 0, s1, b)
    up = sign_ref >= 0
    b = np.where(up, np.minimum(np.maximum(0.0, b), limit), np.maximum(np.minimum(0.0, b), -limit))
    return b


def hermite_coefficients(x: ArrayLike, y: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    """Second- and third-order coefficients of the cubic Hermite spline with slopes ``b``.

    Parameters
    ----------
    x, y, b : arrays (m, n)
        Knots and knot slopes.

    Returns
    -------
    c, d : arrays (m, n)
        Coefficients in R's layout; at the last knot ``c`` is half the second derivative of
        the last piece there and ``d`` repeats the last piece's, so evaluation beyond the
        last knot continues the last cubic piece.

    Notes
    -----
    Same arithmetic as R's ``stats:::spl_coef_conv`` (contributed by S. N. Wood).

    References
    ----------
    .. [1] R Core Team. R: A language and environment for statistical computing,
       function ``stats::spline``. https://www.R-project.org/
    """
    x = _as_rows(x)
    y = _as_rows(y)
    b = _as_rows(b)
    h = np.diff(x, axis=1)
    neg_dy = -np.diff(y, axis=1)
    b0 = b[:, :-1]
    b1 = b[:, 1:]
    c_inner = -(3.0 * neg_dy + (2.0 * b0 + b1) * h) / h**2
    c_last = (3.0 * neg_dy[:, -1] + (b0[:, -1] + 2.0 * b1[:, -1]) * h[:, -1]) / h[:, -1] ** 2
    d_inner = (2.0 * neg_dy / h + b0 + b1) / h**2
    c = np.concatenate([c_inner, c_last[:, None]], axis=1)
    d = np.concatenate([d_inner, d_inner[:, -1:]], axis=1)
    return c, d


def evaluate_cubic(x: ArrayLike, y: ArrayLike, b: ArrayLike, c: ArrayLike, d: ArrayLike, xout: ArrayLike) -> Array:
    """Evaluate a piecewise cubic in R's layout at ``xout``, row by row.

    Parameters
    ----------
    x, y, b, c, d : arrays (m, n)
        Knots and coefficients (see :func:`fmm_coefficients`).
    xout : array (m, q)
        Points at which to evaluate each row's curve.

    Returns
    -------
    array (m, q)

    Notes
    -----
    Like R's ``spline_eval``: the piece used is that of the last knot ``x[i] <= u``;
    points left of the first knot use the first piece, points right of the last knot use
    the last knot's coefficients (a cubic continuation). NaN in ``xout`` gives NaN.
    """
    x = _as_rows(x)
    y = _as_rows(y)
    b = _as_rows(b)
    c = _as_rows(c)
    d = _as_rows(d)
    u = _as_rows(xout)
    n = x.shape[1]
    idx = np.clip((x[:, None, :] <= u[:, :, None]).sum(axis=2) - 1, 0, n - 1)
    take = np.take_along_axis
    dx = u - take(x, idx, axis=1)
    return take(y, idx, axis=1) + dx * (take(b, idx, axis=1) + dx * (take(c, idx, axis=1) + dx * take(d, idx, axis=1)))


def spline(
    x: ArrayLike, y: ArrayLike, xout: ArrayLike, *, method: Literal["hyman", "fmm"] = "hyman"
) -> Array:
    """Interpolate like R's ``spline(x, y, xout = xout, method = method)$y``, many rows at once.

    Parameters
    ----------
    x : array (m, n) or (n,)
        Knot abscissae, strictly increasing along each row; n >= 2.
    y : array (m, n) or (n,)
        Knot ordinates; for ``method="hyman"`` monotone along each row.
    xout : array (m, q) or (q,)
        Evaluation points (per row).
    method : {"hyman", "fmm"}
        ``"fmm"``: the FMM cubic spline; ``"hyman"``: the same after Hyman's monotonicity
        filter (R's ``method = "hyman"``).

    Returns
    -------
    array, same shape as ``xout`` (2-D if ``x`` is 2-D)

    Raises
    ------
    ValueError
        If a row's ``x`` is not strictly increasing, or ``y`` is not monotone for
        ``method="hyman"`` (R stops with "'y' must be increasing or decreasing").

    Notes
    -----
    R first sorts the knots and averages ties (``regularize.values``); here knots must
    already be strictly increasing, which cumulative masses of layers with positive mass
    are. Extrapolation continues the end cubic pieces, as in R.

    References
    ----------
    .. [1] Forsythe, G. E., Malcolm, M. A. & Moler, C. B. (1977). Computer Methods for
       Mathematical Computations. Prentice-Hall, Englewood Cliffs, NJ.
    .. [2] Hyman, J. M. (1983). Accurate monotonicity preserving cubic interpolation.
       SIAM J. Sci. Stat. Comput. 4(4), 645–654. doi:10.1137/0904045
    """
    if method not in ("hyman", "fmm"):
        raise ValueError(f"unknown spline method {method!r}; valid: 'hyman', 'fmm'")
    one_d = np.asarray(x).ndim == 1
    xr = _as_rows(x)
    yr = _as_rows(y)
    ur = _as_rows(xout)
    if xr.shape != yr.shape or ur.shape[0] != xr.shape[0]:
        raise ValueError("x and y must have the same shape, and xout one row per curve")
    if not np.all(np.diff(xr, axis=1) > 0):
        raise ValueError("x must be strictly increasing along each row")
    b, c, d = fmm_coefficients(xr, yr)
    if method == "hyman":
        dy = np.diff(yr, axis=1)
        if not np.all(np.all(dy >= 0, axis=1) | np.all(dy <= 0, axis=1)):
            raise ValueError("'y' must be increasing or decreasing along each row for method 'hyman'")
        b = hyman_filter(xr, yr, b)
        c, d = hermite_coefficients(xr, yr, b)
    out = evaluate_cubic(xr, yr, b, c, d, ur)
    return out[0] if one_d and np.asarray(xout).ndim == 1 else out


def spline_rows(
    x: ArrayLike,
    y: ArrayLike,
    n_knots: ArrayLike,
    xout: ArrayLike,
    *,
    method: Literal["hyman", "fmm"] = "hyman",
) -> Array:
    """:func:`spline` for rows with different numbers of knots (ragged, padded arrays).

    Parameters
    ----------
    x, y : arrays (m, K)
        Knots of each row in the first ``n_knots[r]`` columns; later columns are ignored.
    n_knots : int array (m,)
        Number of valid knots per row (>= 2).
    xout : array (m, q)
        Evaluation points per row.
    method : {"hyman", "fmm"}

    Returns
    -------
    array (m, q)

    Notes
    -----
    Padding a row with extra knots would change its spline, so rows are grouped by knot
    count and each group is computed as one dense block (a loop over distinct counts).
    """
    xr = _as_rows(x)
    yr = _as_rows(y)
    ur = _as_rows(xout)
    counts = np.asarray(n_knots, dtype=int)
    out = np.full(ur.shape, np.nan)
    for k in np.unique(counts):
        rows = np.flatnonzero(counts == k)
        out[rows] = spline(xr[rows, :k], yr[rows, :k], ur[rows], method=method)
    return out
