"""Tests of the R-compatible FMM spline and Hyman filter (:mod:`fourp1000.esm.hyman`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import PchipInterpolator

from fourp1000.esm.hyman import fmm_coefficients, hyman_filter, spline, spline_rows


def test_three_knots_give_the_parabola():
    """Hand check: with three knots FMM sets s''' = 0 at both ends, i.e. one parabola.

    Through (0, 0), (1, 1), (2, 4) that is y = x²; its slopes 0, 2, 4 are within Hyman's
    bounds (3 × the smaller secant: 3, 3, 9), so the filter leaves it alone. Extrapolation
    continues the end pieces, so the parabola holds outside [0, 2] too.
    """
    x = np.array([0.0, 1.0, 2.0])
    y = x**2
    u = np.array([-1.0, 0.5, 1.5, 3.0])
    b, c, d = fmm_coefficients(x, y)
    np.testing.assert_allclose(b[0], [0.0, 2.0, 4.0], atol=1e-12)
    np.testing.assert_allclose(c[0], [1.0, 1.0, 1.0], atol=1e-12)
    np.testing.assert_allclose(d[0], 0.0, atol=1e-12)
    for method in ("fmm", "hyman"):
        np.testing.assert_allclose(spline(x, y, u, method=method), u**2, atol=1e-12)


def test_two_knots_give_the_line():
    """One layer: the interpolation is linear (von Haden et al. README)."""
    np.testing.assert_allclose(spline([0.0, 4.0], [0.0, 2.0], [1.0, 3.0, 6.0]), [0.5, 1.5, 3.0])


def test_hyman_equals_fmm_where_the_filter_is_inactive():
    """On y = x + 0.1 x³ at x = 0..4 FMM reproduces the cubic (s''' matched at the ends).

    Its slopes 1 + 0.3 x² = 1, 1.3, 2.2, 3.7, 5.8 are below 3 × the smaller adjacent
    secant (3.3, 3.3, 5.1, 8.7, 14.1), so the Hyman filter changes nothing and both
    methods return the cubic, inside and outside the knots.
    """
    x = np.arange(5.0)
    y = x + 0.1 * x**3
    u = np.linspace(-0.5, 4.5, 41)
    b, _, _ = fmm_coefficients(x, y)
    np.testing.assert_allclose(hyman_filter(x, y, b), b, atol=1e-12)
    np.testing.assert_allclose(spline(x, y, u, method="hyman"), u + 0.1 * u**3, atol=1e-10)
    np.testing.assert_allclose(spline(x, y, u, method="hyman"), spline(x, y, u, method="fmm"), atol=1e-12)


def test_filter_flattens_a_step():
    """Hand check: next to a flat segment the filter zeroes the slopes.

    Data (0,0), (1,1), (2,1), (3,2): both knots of [1, 2] touch a zero secant, so their
    slopes become 0 and the Hermite cubic between equal values with zero slopes is the
    constant 1. Unfiltered, FMM with four knots is the interpolating cubic
    x³/3 − 1.5 x² + 13x/6, which overshoots (1.015625 at 1.25) and undershoots (0.984375
    at 1.75): not monotone.
    """
    x = np.array([0.0, 1.0, 2.0, 3.0])
    y = np.array([0.0, 1.0, 1.0, 2.0])
    u = np.array([1.25, 1.5, 1.75])
    np.testing.assert_allclose(spline(x, y, u, method="hyman"), 1.0, atol=1e-12)
    np.testing.assert_allclose(spline(x, y, u, method="fmm"), [1.015625, 1.0, 0.984375], atol=1e-12)


def test_slopes_are_clipped_to_three_secants():
    """Fritsch–Carlson bound as Hyman applies it: |b| <= 3 × min(adjacent secants), same sign."""
    x = np.array([0.0, 1.0, 1.1, 3.0, 3.2])
    y = np.array([0.0, 0.1, 3.0, 3.05, 9.0])
    b, _, _ = fmm_coefficients(x, y)
    filtered = hyman_filter(x, y, b)[0]
    secant = np.diff(y) / np.diff(x)
    bound = 3 * np.minimum(np.r_[secant[0], secant], np.r_[secant, secant[-1]])
    assert np.all(filtered >= 0) and np.all(filtered <= bound + 1e-12)
    assert np.any(np.abs(filtered - b[0]) > 1e-6)  # this data does need the filter


@pytest.mark.reference
def test_matches_r_on_von_haden_cores(reference_dir):
    """R's spline(method = "hyman") of cumulative SOC vs cumulative mineral mass.

    von Haden et al. (2020) example, sheet a_temporal_paired: each Y5 core is evaluated at
    its Y0 core's cumulative masses (file ``FD_ESM_output_a_temporal_paired__ESM.csv``,
    produced with R 4.2.2). Agreement to rounding (1e-10 g cm-2 = 1e-8 t ha-1).
    """
    folder = reference_dir / "esm" / "vonhaden2020"
    fd = pd.read_csv(folder / "FD_ESM_output_a_temporal_paired__FD.csv")
    esm = pd.read_csv(folder / "FD_ESM_output_a_temporal_paired__ESM.csv")
    ids = fd["ID"].unique()
    assert len(ids) == 6
    x = np.array([np.r_[0.0, fd.loc[fd.ID == i, "Cum_Min_Soil_g_cm2"]] for i in ids])
    y = np.array([np.r_[0.0, fd.loc[fd.ID == i, "Cum_SOC_g_cm2"]] for i in ids])
    u = np.array([esm.loc[esm.ID == i, "Cum_Min_Soil_g_cm2"].to_numpy() for i in ids])
    expected = np.array([esm.loc[esm.ID == i, "Cum_SOC_g_cm2"].to_numpy() for i in ids])
    np.testing.assert_allclose(spline(x, y, u), expected, rtol=0, atol=1e-10)
    # The worked case of METHODS.md: Y5_T1_P1_S1 to 37.3065 g cm-2 holds 0.703065 g C cm-2.
    assert spline(x[3], y[3], [u[3, 1]])[0] == pytest.approx(0.703065, abs=5e-7)


@pytest.mark.reference
def test_scipy_pchip_is_not_the_same(reference_dir):
    """PCHIP picks other slopes: on Y5_T1_P1_S1 it misses R's 0-30 cm value by 0.12 t C/ha."""
    fd = pd.read_csv(reference_dir / "esm" / "vonhaden2020" / "FD_ESM_output_a_temporal_paired__FD.csv")
    core = fd[fd.ID == "Y5_T1_P1_S1"]
    x = np.r_[0.0, core.Cum_Min_Soil_g_cm2] * 100
    y = np.r_[0.0, core.Cum_SOC_g_cm2] * 100
    ref_mass = 3730.64509907335  # Y0_T1_P1_S1 to 30 cm [t/ha]
    ours = spline(x, y, [ref_mass])[0]
    assert ours == pytest.approx(70.3065, abs=1e-4)
    assert abs(float(PchipInterpolator(x, y)(ref_mass)) - ours) > 0.1


def test_rejects_bad_knots():
    with pytest.raises(ValueError, match="strictly increasing"):
        spline([0.0, 1.0, 1.0], [0.0, 1.0, 2.0], [0.5])
    with pytest.raises(ValueError, match="increasing or decreasing"):
        spline([0.0, 1.0, 2.0], [0.0, 1.0, 0.5], [0.5])
    with pytest.raises(ValueError, match="unknown spline method"):
        spline([0.0, 1.0], [0.0, 1.0], [0.5], method="natural")


knots = st.lists(st.floats(0.05, 10.0), min_size=1, max_size=7)


@settings(max_examples=60, deadline=None)
@given(dx=knots, dy=st.lists(st.floats(0.0, 10.0), min_size=7, max_size=7))
def test_monotone_data_stay_monotone(dx, dy):
    """Property: on non-decreasing data the Hyman spline is non-decreasing and hits the knots."""
    x = np.r_[0.0, np.cumsum(dx)]
    y = np.r_[0.0, np.cumsum(dy[: len(dx)])]
    u = np.linspace(0.0, x[-1], 400)
    v = spline(x, y, u)
    assert np.all(np.diff(v) >= -1e-9 * max(1.0, y[-1]))
    np.testing.assert_allclose(spline(x, y, x), y, atol=1e-9 * max(1.0, y[-1]))


@settings(max_examples=40, deadline=None)
@given(
    dx=st.lists(st.floats(0.2, 5.0), min_size=3, max_size=7),
    coef=st.lists(st.floats(-2, 2), min_size=4, max_size=4),
)
def test_fmm_reproduces_cubics(dx, coef):
    """Property: FMM end conditions make any cubic exact from four or more knots."""
    x = np.r_[0.0, np.cumsum(dx)]
    poly = np.polynomial.Polynomial(coef)
    u = np.linspace(-1.0, x[-1] + 1.0, 50)
    expected = poly(u)
    assert np.all(np.abs(spline(x, poly(x), u, method="fmm") - expected) <= 1e-7 * (1 + np.abs(expected)))


def test_ragged_rows_equal_one_by_one():
    """spline_rows (grouped by knot count) gives what each row gives alone."""
    rng = np.random.default_rng(3)
    n_knots = np.array([2, 5, 3, 5, 4, 2])
    width = n_knots.max()
    x = np.full((6, width), np.nan)
    y = np.full((6, width), np.nan)
    for r, k in enumerate(n_knots):
        x[r, :k] = np.r_[0.0, np.cumsum(rng.uniform(0.5, 2.0, k - 1))]
        y[r, :k] = np.r_[0.0, np.cumsum(rng.uniform(0.0, 3.0, k - 1))]
    u = rng.uniform(0.0, 8.0, (6, 4))
    together = spline_rows(x, y, n_knots, u)
    for r, k in enumerate(n_knots):
        np.testing.assert_array_equal(together[r], spline(x[r, :k], y[r, :k], u[r]))
