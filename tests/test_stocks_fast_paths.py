"""The fast paths of the stock pipeline give exactly what their plain formulas give.

``estimate`` runs on millions of layers, so several functions take a shortcut in the usual
case (plots together in the file, one target interval, no missing value) or work in place.
Each test below compares such a function, on random inputs that take both its usual and its
general branch, with the plain numpy/pandas expression it replaced, bit for bit (NaN and
-0.0 included), and checks the result's type.
"""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.stocks import depth, plausibility
from fourp1000.stocks.estimate import _first_rows, _first_valid
from fourp1000.stocks.farms import farm_totals, has_area
from fourp1000.stocks.layers import carbon_density, fine_earth_density
from fourp1000.stocks.ptf import PTF_CHOICES, PTF_NAMES, estimate_bulk_density


def same_bits(a, b) -> bool:
    """Equal values, dtype, shape and type (NaN equal to NaN, -0.0 different from 0.0)."""
    if type(a) is not type(b):
        return False
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


def profiles(seed: int, n: int, n_profiles: int, together: bool):
    rng = np.random.default_rng(seed)
    codes = rng.integers(0, n_profiles, n)
    if together:
        codes = np.sort(codes)
    top = np.round(rng.uniform(-5, 80, n), 1)
    top[rng.random(n) < 0.1] = -0.0
    bottom = top + np.round(rng.uniform(-5, 40, n), 1)
    return rng, codes, top, bottom


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40), together=st.booleans())
def test_first_rows_by_runs_or_not(seed, n, together):
    """The first row of each record: by run heads when each record is one run, else np.minimum.at."""
    _, codes, _, _ = profiles(seed, n, 6, together)
    codes = pd.factorize(codes)[0]  # numbered in order of first appearance, as group_codes does
    n_codes = int(codes.max()) + 1 if n else 0
    expected = np.full(n_codes, n, dtype=np.int64)
    np.minimum.at(expected, codes, np.arange(n))
    assert same_bits(_first_rows(codes, n_codes), expected)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 40), together=st.booleans(), share_nan=st.sampled_from([0, 0.3, 1]))
def test_first_valid_as_groupby_first(seed, n, together, share_nan):
    """First non-missing value per record, with and without missing values, as pandas' groupby().first()."""
    rng, codes, _, _ = profiles(seed, n, 6, together)
    codes = pd.factorize(codes)[0]
    values = rng.uniform(0, 10, n)
    values[rng.random(n) < share_nan] = np.nan
    n_codes = int(codes.max()) + 1
    expected = pd.Series(values).groupby(codes).first().to_numpy()
    assert same_bits(_first_valid(values, codes, _first_rows(codes, n_codes)), expected)


@settings(max_examples=80, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 40), one_interval=st.booleans(), as_int=st.booleans())
def test_depth_logic_as_plain_formulas(seed, n, one_interval, as_int):
    """depth_logic (one interval for all profiles, gaps and running max in place) against the plain expressions."""
    rng, codes, top, bottom = profiles(seed, n, 5, together=True)
    order = np.lexsort((top, codes))
    codes, top, bottom = codes[order], top[order], bottom[order]
    if as_int:
        top, bottom = np.floor(top).astype(np.int64), np.floor(bottom).astype(np.int64)
    lo = np.full(5, float(rng.choice([0.0, -0.0, 10.0]))) if one_interval else rng.choice([0.0, 5.0], 5)
    hi = np.full(5, 30.0) if one_interval else rng.choice([30.0, 60.0], 5)
    got = depth.depth_logic(codes, top, bottom, 5, lo, hi)

    first = np.ones(n, dtype=bool)
    first[1:] = codes[1:] != codes[:-1]
    group = np.cumsum(first) - 1
    span = np.nanmax(np.abs(bottom)) * 2.0 + 1.0 if n else 1.0
    running = np.maximum.accumulate(bottom + group * span * 2.0) - group * span * 2.0
    prev = np.full(n, -np.inf)
    prev[1:] = running[:-1]
    prev[first] = -np.inf
    gap_from = np.where(first, lo[codes], prev)
    gap = np.clip(np.minimum(top, hi[codes]) - np.maximum(gap_from, lo[codes]), 0.0, None)
    gap[gap <= depth.DEPTH_TOL_CM] = 0.0
    deepest = np.full(5, -np.inf)
    np.maximum.at(deepest, codes, bottom)
    assert same_bits(got.gap_before_cm, gap)
    assert same_bits(got.gap_from_cm, gap_from)
    assert same_bits(got.overlaps_previous, top < prev - depth.DEPTH_TOL_CM)
    assert same_bits(got.deepest_cm, deepest)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 30))
def test_overlap_and_proportional_stock(seed, n):
    """overlap_cm in place equals np.clip(min - max, 0, None); proportional_stock takes known overlaps."""
    rng, codes, top, bottom = profiles(seed, n, 4, together=True)
    lo, hi = np.full(4, 0.0), np.full(4, 30.0)
    plain = np.clip(np.minimum(bottom, 30.0) - np.maximum(top, 0.0), 0.0, None)
    assert same_bits(depth.overlap_cm(top, bottom, 0.0, 30.0), plain)
    assert same_bits(depth.overlap_cm(5.0, 20.0, 0.0, 30.0), np.clip(np.minimum(20.0, 30.0) - 5.0, 0.0, None))
    density = rng.uniform(0, 3, n)
    by_limits = depth.proportional_stock(codes, top, bottom, density, 4, lo, hi)
    assert same_bits(depth.proportional_stock(codes, None, None, density, 4, lo, hi, overlap=plain), by_limits)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 30), finite=st.booleans())
def test_fine_earth_density_common_case(seed, n, finite):
    """BD_fe x (1 - CF/100), NaN where negative: in place, with NaN/inf stones counted as numpy's nan_to_num."""
    rng = np.random.default_rng(seed)
    bd = rng.uniform(-0.5, 2.5, n)
    cf = rng.uniform(-10, 120, n)
    if not finite:
        cf[rng.random(n) < 0.3] = np.nan
        cf[rng.random(n) < 0.1] = np.inf
    for b, c in ((bd, cf), (1.2, cf), (bd, 5.0), (1.2, 5.0)):
        plain = np.asarray(b, dtype=float) * (1.0 - np.nan_to_num(np.asarray(c, dtype=float)) / 100.0)
        assert same_bits(fine_earth_density(b, c), np.where(plain < 0, np.nan, plain))
    soc = rng.uniform(0, 50, n)
    assert same_bits(carbon_density(soc, bd), soc * bd / 10.0)
    assert same_bits(carbon_density(12.0, 1.3), np.float64(12.0) * np.float64(1.3) / 10.0)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 30))
def test_adams_bound_in_place(seed, n):
    """The bulk-density bound in place equals 100 / (OM / 0.244 + (100 - OM) / 2.1); a number for a number."""
    soc = np.random.default_rng(seed).uniform(-10, 600, n)
    om = np.clip(soc / 10.0 * 1.724, 0.0, 100.0)
    organic = float(plausibility.ptf_table().loc["adams_1973", "a"])
    plain = 100.0 / (om / organic + (100.0 - om) / plausibility.MINERAL_FRACTION_BD_G_CM3)
    assert same_bits(plausibility.max_bulk_density_g_cm3(soc, 1.724), plain)
    one = plausibility.max_bulk_density_g_cm3(120.0)
    assert isinstance(one, np.float64) and one == plausibility.max_bulk_density_g_cm3(np.array([120.0]))[0]


@pytest.mark.parametrize("method", PTF_CHOICES)
def test_ptf_codes_name_the_ptf(method):
    """Each equation computed on its rows only; ptf_code indexes PTF_NAMES as ``ptf`` names it."""
    rng = np.random.default_rng(3)
    n = 400
    soc = rng.uniform(1, 500, n)
    soc[::17] = np.nan
    sand, clay = rng.uniform(0, 90, n), np.where(rng.random(n) < 0.3, np.nan, rng.uniform(0, 60, n))
    land_use = rng.choice(np.array(["cropland", " Cropland", "forest", None], dtype=object), n)
    top = rng.uniform(0, 60, n)
    est = estimate_bulk_density(soc, method=method, sand_pct=sand, clay_pct=clay, top_cm=top, land_use=land_use)
    assert list(est.ptf) == [PTF_NAMES[c] for c in est.ptf_code]
    assert list(PTF_NAMES) == sorted(PTF_NAMES)
    # the same rows one by one: each row's estimate does not depend on the others
    for i in rng.choice(n, 25, replace=False):
        one = estimate_bulk_density(soc[i:i + 1], method=method, sand_pct=sand[i:i + 1], clay_pct=clay[i:i + 1],
                                    top_cm=top[i:i + 1], land_use=land_use[i:i + 1])
        assert same_bits(one.bulk_density_g_cm3[0], est.bulk_density_g_cm3[i]) and one.ptf[0] == est.ptf[i]


@pytest.mark.parametrize("keys", [["farm_id"], ["farm_id", "depth_cm"], ["model", "farm_o"]])
def test_farm_totals_as_named_aggregation(keys):
    """farm_totals (sums in one groupby pass) equals the named aggregation, missing keys and areas included."""
    rng = np.random.default_rng(11)
    n = 300
    plots = pd.DataFrame({
        "farm_id": pd.array(rng.choice(["a", "b", None, "c"], n), dtype="str"),
        "farm_o": pd.Series(rng.choice(np.array(["a", None], dtype=object), n), dtype=object),
        "model": rng.choice(["tier1", "rothc"], n), "depth_cm": rng.choice([30.0, np.nan], n),
        "area_ha": np.where(rng.random(n) < 0.2, np.nan, rng.choice([0.0, 1.5, 2.25, 10.0], n)),
        "x_t_ha": rng.normal(50, 10, n)}, index=rng.permutation(n) + 7)
    with_area = has_area(plots["area_ha"])
    area = np.where(with_area, plots["area_ha"].to_numpy(dtype=float), 0.0)
    frame = plots[keys].assign(_w=with_area, _a=area, x_t=np.where(with_area, plots["x_t_ha"].to_numpy() * area, 0.0))
    expected = frame.groupby(keys, sort=False, dropna=False).agg(
        n_plots=("_a", "size"), _n=("_w", "sum"), area_ha=("_a", "sum"), x_t=("x_t", "sum")).reset_index()
    expected.insert(len(keys) + 1, "n_plots_without_area", expected["n_plots"] - expected.pop("_n"))
    for frame_in in (plots, plots.iloc[:0]):
        got = farm_totals(frame_in, keys, {"x_t": "x_t_ha"})
        want = expected if len(frame_in) else expected.iloc[:0]
        assert list(got.columns) == list(want.columns)
        pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_exact=True, check_dtype=len(frame_in) > 0)
