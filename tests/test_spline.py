"""Tests of the mass-preserving (equal-area) spline, :mod:`fourp1000.stocks.spline`.

Reference values come from mpspline2 (obrl-soil, R package v0.1.9): its own test suite and
README, and outputs generated with it for several profiles, lambdas and depth sets
(``../shared/reference/spline/``, README there).
"""

from __future__ import annotations

import csv

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.errors import InputError
from fourp1000.stocks.spline import (
    DEFAULT_DEPTHS_CM,
    OverlappingHorizonsError,
    _fit,
    _z_matrix,
    mpspline_profile,
    spline_interval_means,
)

TOL = {"rtol": 1e-9, "atol": 1e-8}  # goldens are printed to 12 significant digits

PROFILES = ["readme_gaps", "contiguous4", "est1_case", "soc_pct_irregular"]
LAMS = [0.1, 1.0, 0.01]
DEPTH_SETS = ["0|5|15|30|60|100|200", "0|10|20|30|50|100"]
CASES = [(p, lam, d) for p in PROFILES for lam in LAMS for d in DEPTH_SETS]


# ---------------------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------------------


def _read_generated(reference_dir, name: str) -> pd.DataFrame:
    df = pd.read_csv(reference_dir / "spline" / "generated" / name, na_values=["NA"])
    return df


def _case(reference_dir, profile: str, lam: float, d: str):
    inputs = _read_generated(reference_dir, "input_profiles.csv")
    prof = inputs[inputs["SID"] == profile]

    def pick(name: str) -> pd.DataFrame:
        df = _read_generated(reference_dir, name)
        return df[(df["profile"] == profile) & np.isclose(df["lam"], lam) & (df["d"] == d)]

    return prof, pick


def _gauss_mean(fit, top: float, bottom: float, n_points: int = 5) -> float:
    """Mean of ``fit.evaluate`` over [top, bottom] by Gauss-Legendre quadrature.

    Independent of the module's analytic integration; exact for the quadratic pieces.
    """
    nodes, weights = np.polynomial.legendre.leggauss(n_points)
    x = (bottom - top) / 2 * nodes + (bottom + top) / 2
    return float(np.sum(weights * fit.evaluate(x)) / 2)


def _random_profiles(rng: np.random.Generator, n_profiles: int, max_horizons: int = 7):
    """Random non-overlapping profiles with whole-cm depths and random gaps."""
    codes, tops, bottoms, values = [], [], [], []
    for p in range(n_profiles):
        n = int(rng.integers(1, max_horizons + 1))
        depth = float(rng.integers(0, 4)) if rng.random() < 0.3 else 0.0
        for _ in range(n):
            if rng.random() < 0.3:
                depth += float(rng.integers(1, 10))  # a gap
            th = float(rng.integers(2, 30))
            codes.append(p)
            tops.append(depth)
            bottoms.append(depth + th)
            values.append(float(rng.uniform(0.2, 40.0)))
            depth += th
    return np.array(codes), np.array(tops), np.array(bottoms), np.array(values)


# ---------------------------------------------------------------------------------------
# mpspline2 expectations (typed from its test suite and README; always run)
# ---------------------------------------------------------------------------------------


def test_coefficients_match_mpspline2_test_suite():
    """mpspline2 tests/testthat/test_mpspline.R, ``mpspline_est1`` on 0-10/10-20/20-30/
    30-40 cm = 5.4/5.3/5.6/7.0, lam 0.1: first elements of s_bar, b0, b1, gamma, alfa
    and Z[1, 1]."""
    top, bottom, y = [0, 10, 20, 30], [10, 20, 30, 40], [5.4, 5.3, 5.6, 7.0]
    fit = mpspline_profile(top, bottom, y, lam=0.1)
    assert fit.est_icm[0] == pytest.approx(5.3938765799840498, rel=1e-12)
    assert fit.b0[0] == 0.0
    assert fit.b1[0] == pytest.approx(-0.015308550039877671, rel=1e-10)
    assert fit.gamma[0] == pytest.approx(-0.00076542750199388358, rel=1e-10)
    assert fit.alpha[0] == pytest.approx(5.4193908300505127, rel=1e-12)
    z, _ = _z_matrix(np.array([top], float), np.array([bottom], float), 0.1)
    assert z[0, 0, 0] == pytest.approx(1.064285714, abs=1e-9)


def test_rmse_matches_mpspline2_test_suite():
    """mpspline2 tests: 0-20/20-30/30-50/50-70 cm = 6/4/3/10, lam 0.1, vhigh 14:
    RMSE 0.19001524938836459, RMSE_IQR 0.058466230581035256; the 200-cm 1-cm vector
    has 130 NA (70 values) and only the 100-200 cm interval is NA."""
    fit = mpspline_profile([0, 20, 30, 50], [20, 30, 50, 70], [6, 4, 3, 10], lam=0.1, vhigh=14)
    assert fit.rmse == pytest.approx(0.19001524938836459, rel=1e-12)
    assert fit.rmse_iqr == pytest.approx(0.058466230581035256, rel=1e-12)
    assert fit.est_1cm.size == 200
    assert np.isnan(fit.est_1cm).sum() == 130
    assert np.all(np.isfinite(fit.est_1cm[:70]))
    assert np.isnan(fit.est_dcm).sum() == 1 and np.isnan(fit.est_dcm[-1])


def test_readme_gap_profile_standard_depths():
    """mpspline2 README.md: 0-10/20-30/40-50/60-70 cm = 6/4/3/10, default lam and depths
    -> 0-5: 6.105160, 5-15: 5.618341, 15-30: 4.316876, 30-60: 4.192058, 60-100: 9.732400
    (printed to 6 dp)."""
    fit = mpspline_profile([0, 20, 40, 60], [10, 30, 50, 70], [6, 4, 3, 10])
    np.testing.assert_allclose(
        fit.est_dcm[:5], [6.105160, 5.618341, 4.316876, 4.192058, 9.732400], atol=5e-7
    )
    assert np.isnan(fit.est_dcm[5])


def test_starts_below_surface_no_extrapolation():
    """mpspline2 tests: 20-30/30-50/50-70 cm = 4/3/10, d up to 100 -> est_1cm[1:20] and
    [71:100] (1-based) are NA: no extrapolation above the first top or below the last
    bottom."""
    fit = mpspline_profile(
        [20, 30, 50], [30, 50, 70], [4, 3, 10], depths_cm=(0, 5, 15, 30, 60, 100)
    )
    assert np.all(np.isnan(fit.est_1cm[:20]))
    assert np.all(np.isnan(fit.est_1cm[70:100]))
    assert np.all(np.isfinite(fit.est_1cm[20:70]))
    assert np.isnan(fit.est_dcm[0]) and np.isnan(fit.est_dcm[1])  # 0-5, 5-15 cm


def test_single_horizon_returned_unsplined():
    """mpspline2 tests: a single 0-10 cm horizon of 5.4 is not splined, its value is
    copied. Here: 5.4 over 0-10 cm, and 5-15 cm averages the covered 5-10 cm."""
    fit = mpspline_profile([0], [10], [5.4], vhigh=14)
    np.testing.assert_array_equal(fit.est_1cm[:10], 5.4)
    assert np.all(np.isnan(fit.est_1cm[10:]))
    np.testing.assert_array_equal(fit.est_dcm[:2], 5.4)
    assert np.all(np.isnan(fit.est_dcm[2:]))
    assert fit.est_icm.tolist() == [5.4]
    assert np.isnan(fit.rmse) and np.isnan(fit.rmse_iqr)


# ---------------------------------------------------------------------------------------
# Generated goldens (every profile x lambda x depth set)
# ---------------------------------------------------------------------------------------


@pytest.mark.reference
def test_golden_case_list_is_complete(reference_dir):
    """The parametrised cases below cover every case in the generated goldens."""
    rmse = _read_generated(reference_dir, "expected_rmse.csv")
    keys = rmse[["profile", "lam", "d"]].itertuples(index=False)
    found = {(p, float(lam), d) for p, lam, d in keys}
    assert found == set(CASES)


@pytest.mark.reference
@pytest.mark.parametrize(("profile", "lam", "d"), CASES)
def test_mpspline_profile_matches_golden(reference_dir, profile, lam, d):
    """est_icm, est_1cm, est_dcm, RMSE and RMSE_IQR equal mpspline2's ``mpspline_one``
    (R 4.2.2, vlow 0, vhigh 1000) for this profile, lambda and depth set."""
    prof, pick = _case(reference_dir, profile, lam, d)
    depths = [int(x) for x in d.split("|")]
    fit = mpspline_profile(prof["UD"], prof["LD"], prof["VAL"], lam=lam, depths_cm=depths)

    icm = pick("expected_est_icm.csv")
    assert len(icm) == len(prof)
    np.testing.assert_allclose(fit.est_icm, icm["est_icm"], **TOL)

    one = pick("expected_est_1cm.csv")  # NA rows dropped there
    assert fit.est_1cm.size == depths[-1]
    np.testing.assert_array_equal(np.flatnonzero(np.isfinite(fit.est_1cm)), one["UD"])
    assert (one["LD"] - one["UD"] == 1).all()
    np.testing.assert_allclose(fit.est_1cm[one["UD"].to_numpy()], one["est_1cm"], **TOL)

    dcm = pick("expected_est_dcm.csv")
    np.testing.assert_array_equal(dcm["UD"], depths[:-1])
    np.testing.assert_allclose(fit.est_dcm, dcm["est_dcm"], equal_nan=True, **TOL)

    rm = pick("expected_rmse.csv")
    assert fit.rmse == pytest.approx(rm["RMSE"].iloc[0], rel=1e-9)
    assert fit.rmse_iqr == pytest.approx(rm["RMSE_IQR"].iloc[0], rel=1e-9)


@pytest.mark.reference
@pytest.mark.parametrize(("lam", "d"), [(lam, d) for lam in LAMS for d in DEPTH_SETS])
def test_batch_1cm_matches_golden_standard_depths(reference_dir, lam, d):
    """The batch function (discretisation "1cm") gives mpspline2's est_dcm for all four
    golden profiles and every standard interval in one call: each profile is repeated
    once per interval, so profiles of 4 and 5 horizons are solved as two groups."""
    depths = [int(x) for x in d.split("|")]
    inputs = _read_generated(reference_dir, "input_profiles.csv")
    dcm = _read_generated(reference_dir, "expected_est_dcm.csv")
    codes, top, bottom, vals, int_top, int_bot, expected = [], [], [], [], [], [], []
    code = 0
    for profile in PROFILES:
        prof = inputs[inputs["SID"] == profile]
        exp = dcm[(dcm["profile"] == profile) & np.isclose(dcm["lam"], lam) & (dcm["d"] == d)]
        for ud, ld, value in exp[["UD", "LD", "est_dcm"]].itertuples(index=False):
            codes += [code] * len(prof)
            top += prof["UD"].tolist()
            bottom += prof["LD"].tolist()
            vals += prof["VAL"].tolist()
            int_top.append(ud)
            int_bot.append(ld)
            expected.append(value)
            code += 1
    assert code == len(PROFILES) * (len(depths) - 1)
    res = spline_interval_means(
        np.array(codes), np.array(top), np.array(bottom), np.array(vals),
        np.array(int_top), np.array(int_bot), lam=lam, vhigh=1000.0,
    )
    np.testing.assert_allclose(res.mean, expected, equal_nan=True, **TOL)


@pytest.mark.reference
def test_all_transcribed_expectations(reference_dir):
    """Every numeric row of mpspline2_expectations/expected_values_from_mpspline2_tests.csv
    (mpspline2 test suite and README) is reproduced."""
    path = (
        reference_dir / "spline" / "mpspline2_expectations"
        / "expected_values_from_mpspline2_tests.csv"
    )
    with open(path, newline="") as fh:
        header, *rows = csv.reader(fh)
    # The quantity "Z[1,1]" is written unquoted, splitting it in two fields: rejoin it.
    q = header.index("quantity")
    rows = [r[:q] + [",".join(r[q : q + 2])] + r[q + 2 :] if len(r) == len(header) + 1 else r
            for r in rows]
    assert all(len(r) == len(header) for r in rows)
    df = pd.DataFrame(rows, columns=header).replace("", None)
    checked = 0
    for row in df.itertuples(index=False):
        top = [float(x) for x in row.profile_UD.split("|")]
        bottom = [float(x) for x in row.profile_LD.split("|")]
        y = [float(x) for x in row.profile_VAL.split("|")]
        depths = [int(x) for x in row.d.split("|")] if isinstance(row.d, str) else DEFAULT_DEPTHS_CM
        vhigh = float(row.vhigh) if isinstance(row.vhigh, str) else 1000.0
        fit = mpspline_profile(top, bottom, y, lam=float(row.lam), depths_cm=depths, vhigh=vhigh)
        q = row.quantity
        try:
            expected = float(row.expected_value)
        except ValueError:
            expected = None
        if q in {"s_bar", "b0", "b1", "gamma", "alfa"}:
            got = {"s_bar": fit.est_icm, "b0": fit.b0, "b1": fit.b1, "gamma": fit.gamma,
                   "alfa": fit.alpha}[q][int(row.index) - 1]
            assert got == pytest.approx(expected, rel=1e-10, abs=1e-15), q
        elif q == "Z[1,1]":
            z, _ = _z_matrix(np.array([top]), np.array([bottom]), float(row.lam))
            assert z[0, 0, 0] == pytest.approx(expected, abs=1e-9)
        elif q in {"RMSE", "RMSE_IQR"}:
            assert (fit.rmse if q == "RMSE" else fit.rmse_iqr) == pytest.approx(expected, rel=1e-12)
        elif q == "n_est_1cm_NA":
            assert np.isnan(fit.est_1cm).sum() == int(expected)
        elif q == "n_est_dcm_NA":
            assert np.isnan(fit.est_dcm).sum() == int(expected)
        elif q == "est_dcm":
            lo, hi = (int(x) for x in row.index.split("-"))
            j = list(depths).index(lo)
            assert depths[j + 1] == hi
            assert fit.est_dcm[j] == pytest.approx(expected, abs=5e-7)
        elif q == "est_1cm/est_dcm":  # single horizon: value copied
            assert np.nanmax(np.abs(fit.est_1cm - 5.4)) == 0.0
            assert fit.est_dcm[0] == 5.4
        elif q.startswith("est_1cm["):  # starts below surface: NA outside the data
            assert np.all(np.isnan(fit.est_1cm[:20])) and np.all(np.isnan(fit.est_1cm[70:100]))
        else:
            raise AssertionError(f"untested expectation {q}")
        checked += 1
    assert checked == len(df) == 17


# ---------------------------------------------------------------------------------------
# Properties of the spline
# ---------------------------------------------------------------------------------------


def test_tridiagonal_fit_equals_dense_z_route():
    """The O(n) tridiagonal solve gives the same s_bar and knot slopes as the dense form
    s_bar = Z^-1 y, b = 6 R^-1 Q s_bar of Bishop et al. (1999) on random gap profiles."""
    rng = np.random.default_rng(1)
    for n in (2, 3, 5, 9):
        th = rng.uniform(1, 40, (50, n))
        gap = np.where(rng.random((50, n)) < 0.4, rng.uniform(0, 20, (50, n)), 0.0)
        bottom = np.cumsum(th + gap, axis=1)
        top = bottom - th
        y = rng.uniform(0, 50, (50, n))
        lam = float(rng.choice([0.001, 0.1, 3.0]))
        z, r_inv_q = _z_matrix(top, bottom, lam)
        s_bar = np.linalg.solve(z, y[..., None])[..., 0]
        b = 6 * np.einsum("kij,kj->ki", r_inv_q, s_bar)
        c = _fit(top, bottom, y, lam)
        np.testing.assert_allclose(c.s_bar, s_bar, rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(c.b0[:, 1:], b, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(c.b1[:, :-1], b, rtol=1e-8, atol=1e-10)


profile_strategy = st.lists(
    st.tuples(
        st.floats(0.5, 40.0),  # thickness [cm]
        st.one_of(st.just(0.0), st.floats(0.5, 20.0)),  # gap above the horizon [cm]
        st.floats(0.05, 60.0),  # value
    ),
    min_size=2,
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(profile_strategy)
def test_mass_preserving_with_small_lambda(layers):
    """With lam -> 0 the spline's mean over each horizon, by quadrature of its values,
    equals the observed value: the equal-area property (Bishop et al. 1999, eq. 1)."""
    th = np.array([t for t, _, _ in layers])
    gap = np.array([g for _, g, _ in layers])
    y = np.array([v for _, _, v in layers])
    bottom = np.cumsum(th + gap)
    top = bottom - th
    fit = mpspline_profile(top, bottom, y, lam=1e-9, depths_cm=(0, 500))
    means = [_gauss_mean(fit, u, l) for u, l in zip(top, bottom)]
    np.testing.assert_allclose(means, y, rtol=1e-5, atol=1e-6)
    # and for any lambda the horizon means of the function are the fitted s_bar
    fit = mpspline_profile(top, bottom, y, lam=0.5, depths_cm=(0, 500))
    means = [_gauss_mean(fit, u, l) for u, l in zip(top, bottom)]
    np.testing.assert_allclose(means, fit.est_icm, rtol=1e-9, atol=1e-9)


def test_spline_is_continuous_with_continuous_slope_across_gaps():
    """Values and slopes agree on both sides of each horizon boundary and gap end
    (README gap profile)."""
    fit = mpspline_profile([0, 20, 40, 60], [10, 30, 50, 70], [6, 4, 3, 10])
    eps = 1e-7
    for x in (10, 20, 30, 40, 50, 60):
        left, mid, right = fit.evaluate([x - eps, x, x + eps])
        assert left == pytest.approx(mid, abs=1e-6) and right == pytest.approx(mid, abs=1e-6)
        h = 1e-3
        slope_left = (fit.evaluate(x - h) - fit.evaluate(x - 2 * h)) / h
        slope_right = (fit.evaluate(x + 2 * h) - fit.evaluate(x + h)) / h
        assert slope_left[0] == pytest.approx(slope_right[0], abs=1e-3)


def test_gap_is_linear_and_exact_mean_is_trapezoid():
    """In the gap 10-20 cm of the README profile the function is a straight line, so its
    exact mean is the mean of its end values."""
    fit = mpspline_profile([0, 20, 40, 60], [10, 30, 50, 70], [6, 4, 3, 10])
    f10, f15, f20 = fit.evaluate([10, 15, 20])
    assert f15 == pytest.approx((f10 + f20) / 2, rel=1e-12)
    assert fit.interval_mean(10, 20) == pytest.approx((f10 + f20) / 2, rel=1e-12)
    res = spline_interval_means([0] * 4, [0, 20, 40, 60], [10, 30, 50, 70], [6, 4, 3, 10],
                                10, 20, discretisation="exact")
    assert res.mean[0] == pytest.approx((f10 + f20) / 2, rel=1e-12)


@pytest.mark.parametrize("discretisation", ["1cm", "exact"])
def test_constant_profile_gives_constant(discretisation):
    """A profile with the same value in every horizon (with gaps) is fitted exactly."""
    top, bottom, y = [0, 12, 30, 45], [12, 25, 45, 80], [3.7] * 4
    fit = mpspline_profile(top, bottom, y)
    np.testing.assert_allclose(fit.est_icm, 3.7, rtol=1e-13)
    np.testing.assert_allclose(fit.est_1cm[:80], 3.7, rtol=1e-13)
    np.testing.assert_allclose(fit.est_dcm[:5], 3.7, rtol=1e-13)
    assert fit.rmse == pytest.approx(0.0, abs=1e-13)
    res = spline_interval_means([0] * 4 + [1] * 4, top * 2, bottom * 2, y * 2, [0, 7], [30, 63],
                                discretisation=discretisation)
    np.testing.assert_allclose(res.mean, 3.7, rtol=1e-13)


def test_clipping_to_vlow_vhigh():
    """1-cm values are clipped to [vlow, vhigh] (mpspline2); the fitted horizon means
    are not."""
    fit = mpspline_profile([0, 20, 30, 50], [20, 30, 50, 70], [6, 4, 3, 10], vlow=3.5, vhigh=9.0)
    assert np.nanmin(fit.est_1cm) == 3.5 and np.nanmax(fit.est_1cm) == 9.0
    assert fit.est_icm.max() > 9.0
    res = spline_interval_means([0] * 4, [0, 20, 30, 50], [20, 30, 50, 70], [6, 4, 3, 10], 0, 70,
                                vlow=3.5, vhigh=9.0)
    assert res.mean[0] == pytest.approx(np.mean(fit.est_1cm[:70]), rel=1e-12)


# ---------------------------------------------------------------------------------------
# Batch vs single profile
# ---------------------------------------------------------------------------------------


def test_batch_matches_single_profile_on_random_profiles():
    """Random profiles (1-7 horizons, gaps, some starting below 0 cm) and per-profile
    intervals: "1cm" equals mpspline_profile's standard-depth mean, "exact" equals
    quadrature of the single-profile spline over the covered part; rows shuffled."""
    rng = np.random.default_rng(42)
    codes, top, bottom, vals = _random_profiles(rng, 150)
    n = codes.max() + 1
    it = rng.integers(0, 40, n).astype(float)
    ib = it + rng.integers(1, 120, n)
    lam = 0.3
    perm = rng.permutation(codes.size)
    r1 = spline_interval_means(codes[perm], top[perm], bottom[perm], vals[perm], it, ib, lam=lam)
    rx = spline_interval_means(codes, top, bottom, vals, it, ib, lam=lam, discretisation="exact",
                               vlow=-np.inf)
    for p in range(n):
        rows = codes == p
        fit = mpspline_profile(top[rows], bottom[rows], vals[rows], lam=lam,
                               depths_cm=(it[p], ib[p]), vhigh=np.inf)
        assert r1.mean[p] == pytest.approx(fit.est_dcm[0], rel=1e-10, nan_ok=True)
        a, b = max(it[p], top[rows][0]), min(ib[p], bottom[rows][-1])
        if b > a:
            edges = np.unique(np.clip(np.r_[top[rows], bottom[rows]], a, b))
            area = sum(_gauss_mean(fit, u, l) * (l - u) for u, l in zip(edges[:-1], edges[1:]))
            assert rx.mean[p] == pytest.approx(area / (b - a), rel=1e-9)
            assert (rx.covered_top_cm[p], rx.covered_bottom_cm[p]) == (a, b)
        else:
            assert np.isnan(rx.mean[p]) and np.isnan(r1.mean[p])
        assert rx.beyond_sampled_depth[p] == (it[p] < top[rows][0] or ib[p] > bottom[rows][-1])
        assert rx.n_horizons[p] == rows.sum()


def test_beyond_sampled_depth_flag_and_covered_part():
    """0-30 cm on a 0-20 cm profile: mean over 0-20 cm, flagged, covered 0-20 cm; a
    profile without usable horizons gives NaN and is flagged."""
    res = spline_interval_means(
        [0, 0, 2], [0, 10, 0], [10, 20, 30], [2.0, 1.0, np.nan], 0, 30, discretisation="exact",
        n_profiles=4,
    )
    assert res.mean[0] == pytest.approx(1.5, rel=1e-12)  # exact mean of 0-20 = mean of s_bar
    assert res.covered_top_cm[0] == 0 and res.covered_bottom_cm[0] == 20
    assert res.beyond_sampled_depth.tolist() == [True, True, True, True]
    assert np.isnan(res.mean[1:]).all()
    assert res.n_horizons.tolist() == [2, 0, 0, 0]
    deep = spline_interval_means([0, 0], [0, 10], [10, 40], [2.0, 1.0], 5, 30)
    assert not deep.beyond_sampled_depth[0]


# ---------------------------------------------------------------------------------------
# Data checks
# ---------------------------------------------------------------------------------------


def test_data_checks_drop_unusable_horizons():
    """NA values, negative depths, zero-thickness and upside-down horizons are dropped
    (mpspline2 ``mpspline_datchk``); the rest is fitted as if they were absent."""
    clean = mpspline_profile([0, 20, 30, 50], [20, 30, 50, 70], [6, 4, 3, 10])
    dirty = mpspline_profile(
        [50, -5, 0, 20, 25, 30, 40, 60],
        [70, 0, 20, 30, 25, 50, 35, 65],
        [10, 9, 6, 4, 1, 3, 1, np.nan],
    )
    np.testing.assert_array_equal(dirty.top_cm, [0, 20, 30, 50])
    np.testing.assert_allclose(dirty.est_icm, clean.est_icm, rtol=1e-14)
    np.testing.assert_allclose(dirty.est_1cm, clean.est_1cm, rtol=1e-14, equal_nan=True)


def test_missing_surface_and_bottom_depths_repaired():
    """mpspline2: missing top of the first horizon -> 0 cm, missing bottom of the last
    -> top + 10 cm."""
    fit = mpspline_profile([np.nan, 10, 30], [10, 30, np.nan], [3, 2, 1])
    np.testing.assert_array_equal(fit.top_cm, [0, 10, 30])
    np.testing.assert_array_equal(fit.bottom_cm, [10, 30, 40])
    with pytest.raises(InputError, match="missing top or bottom depth"):
        spline_interval_means([0, 0], [0, np.nan], [10, 30], [3, 2], 0, 30)


def test_overlapping_horizons_rejected():
    with pytest.raises(OverlappingHorizonsError, match="0-20 cm overlaps 15-30 cm"):
        mpspline_profile([0, 15], [20, 30], [1, 2])
    with pytest.raises(OverlappingHorizonsError) as err:
        spline_interval_means([0, 0, 1, 1, 2, 2], [0, 10, 0, 5, 0, 10], [10, 20, 10, 20, 10, 20],
                              [1, 2, 1, 2, 1, 2], 0, 30)
    assert err.value.profile_codes == [1]
    assert isinstance(err.value, InputError)


def test_rounding_overlap_is_a_shared_boundary():
    """Depths converted from inches can miss by rounding; 1e-9 cm is not an overlap."""
    a = mpspline_profile([0, 10.16 - 1e-9], [10.16, 30], [2, 1])
    np.testing.assert_array_equal(a.top_cm, [0, 10.16])


def test_invalid_arguments():
    with pytest.raises(InputError, match="no horizon"):
        mpspline_profile([0], [10], [np.nan])
    with pytest.raises(InputError, match="whole numbers"):
        mpspline_profile([0], [10], [1], depths_cm=(0, 7.5))
    with pytest.raises(InputError, match="lam"):
        mpspline_profile([0], [10], [1], lam=-1)
    with pytest.raises(InputError, match="whole cm"):
        spline_interval_means([0], [0], [10], [1], 0, 7.5)
    with pytest.raises(InputError, match="valid: '1cm', 'exact'"):
        spline_interval_means([0], [0], [10], [1], 0, 10, discretisation="trapezoid")
    with pytest.raises(InputError, match="below"):
        spline_interval_means([0], [0], [10], [1], 10, 10)
    with pytest.raises(InputError, match="same length"):
        spline_interval_means([0, 0], [0], [10], [1], 0, 10)
    with pytest.raises(InputError, match="one value per profile"):
        spline_interval_means([0, 1], [0, 0], [10, 10], [1, 1], [0, 0, 0], 10)
