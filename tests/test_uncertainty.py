"""Monte Carlo uncertainty (:mod:`fourp1000.uncertainty`) and the --uncertainty flags.

Reference figures are analytic: lognormal quantiles, IPCC Approach 1 (2006 Vol. 1 Ch. 3,
Eq. 3.1) and hand-computed stocks. Monte Carlo tolerances are a few standard errors of the
estimated percentile, sqrt(p (1 - p) / n) / f(x_p) for a density f.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from fourp1000 import uncertainty as unc
from fourp1000.cli import main
from fourp1000.errors import InputError
from fourp1000.io.horizons import normalise
from fourp1000.stocks.estimate import EstimateOptions, estimate_stocks
from fourp1000.stocks.ptf import ptf_table
from fourp1000.io.readers import read_table
from fourp1000.io.schema import VAN_BEMMELEN
from fourp1000.projection.table import ProjectOptions, load_plots_or_horizons, project_table

Z975 = stats.norm.ppf(0.975)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "input.csv"
    path.write_text(text)
    return path


def _horizons(tmp_path, text):
    return normalise(read_table(_write(tmp_path, text)))


def _plots_or_horizons(tmp_path, text):
    return load_plots_or_horizons(read_table(_write(tmp_path, text)), som_factor=VAN_BEMMELEN,
                                  bd_basis="fine_earth", column_map=None)


def _estimate(tmp_path, text, **kw):
    table = _horizons(tmp_path, text)
    opts = EstimateOptions()
    result = estimate_stocks(table, opts)
    return unc.estimate_uncertainty(table, result, opts, unc.UncertaintyOptions(**kw))


def _project(tmp_path, text, popts=None, **kw):
    table = _plots_or_horizons(tmp_path, text)
    result = project_table(table, popts or ProjectOptions())
    return unc.project_uncertainty(table, result, unc.UncertaintyOptions(**kw))


def _lognormal_quantile(mean, cv, p):
    """Analytic quantile of a lognormal with the given mean and coefficient of variation."""
    s = np.sqrt(np.log1p(cv ** 2))
    return mean * np.exp(s * stats.norm.ppf(p) - s * s / 2)


def _quantile_se(dist, p, n):
    """Standard error of the sample p-quantile of n draws from a scipy distribution."""
    return np.sqrt(p * (1 - p) / n) / dist.pdf(dist.ppf(p))


def _lognormal_dist(mean, cv):
    s = np.sqrt(np.log1p(cv ** 2))
    return stats.lognorm(s=s, scale=mean * np.exp(-s * s / 2))


HEADER = "farm_id,plot_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,grassland_condition,practices\n"


# --- distributions and published formulas ----------------------------------------------


@pytest.mark.parametrize("mean,cv", [(1.0, 0.05), (0.69, 0.08), (64.0, 0.45), (2.0, 1.2)])
def test_lognormal_draws_have_the_tabled_mean_and_sd(mean, cv):
    """E[x] and sd[x] by Gauss-Hermite quadrature (exact for a smooth integrand to 1e-10)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(120)
    weights = weights / weights.sum()
    x = unc.lognormal_draws(mean, mean * cv, nodes)
    m = float(np.sum(weights * x))
    sd = float(np.sqrt(np.sum(weights * (x - m) ** 2)))
    assert m == pytest.approx(mean, rel=1e-10)
    assert sd == pytest.approx(mean * cv, rel=1e-8)
    assert (x > 0).all()


def test_ipcc_approach1_worked_values():
    """Eq. 3.1 is the root sum of squares of the percentage uncertainties."""
    assert float(unc.ipcc_approach1_product(3.0, 4.0)) == 5.0
    assert float(unc.ipcc_approach1_product(5.0, 15.68, 3.92, 9.8)) == pytest.approx(19.552, abs=1e-3)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2 ** 32 - 1), st.integers(0, 40), st.integers(1, 30), st.integers(0, 90), st.integers(1, 50))
def test_streams_are_addressed_by_draw_and_position(seed, d0, nd, start, count):
    """Any window of draws and positions returns exactly the numbers of one full pass."""
    streams = unc.DrawStreams(seed)
    width = 160
    full = streams.normals(unc.DrawStreams.MEASUREMENTS, 0, d0 + nd, width, 0, width)
    part = streams.normals(unc.DrawStreams.MEASUREMENTS, d0, d0 + nd, width, start, min(count, width - start))
    assert np.array_equal(part, full[d0:, start:start + part.shape[1]])


def test_streams_are_standard_normal_and_independent():
    z = unc.DrawStreams(7).normals(unc.DrawStreams.FACTORS, 0, 4000, 5, 0, 5)
    assert abs(z.mean()) < 4 / np.sqrt(z.size)
    assert z.std() == pytest.approx(1.0, abs=0.02)
    assert np.abs(np.corrcoef(z.T) - np.eye(5)).max() < 0.06
    other = unc.DrawStreams(7).normals(unc.DrawStreams.MEASUREMENTS, 0, 4000, 5, 0, 5)
    assert abs(np.corrcoef(z[:, 0], other[:, 0])[0, 1]) < 0.06


def test_measurement_error_table_covers_every_ptf_with_a_source():
    table = unc.measurement_error_table()
    for ptf in ptf_table().index:
        row = table[(table.quantity == "bulk_density") & (table.method == ptf)]
        assert len(row) == 1 and row.sd_unit.iloc[0] == "g_cm3" and row.sd.iloc[0] > 0
    assert table["source"].notna().all()
    # PTF bulk density is less certain than a measured one (0.22 g/cm3 is 17 % of 1.3 g/cm3).
    measured = table[(table.quantity == "bulk_density") & (table.method == "measured")].sd.iloc[0]
    assert 0.22 / 1.3 * 100 > measured


def test_options_are_checked():
    with pytest.raises(InputError, match="confidence"):
        unc.UncertaintyOptions(confidence=1.0).check()
    with pytest.raises(InputError, match="draws"):
        unc.UncertaintyOptions(draws=0).check()


# --- acceptance: single factor, Approach 1, correlation, determinism -------------------


def test_single_plot_single_factor_matches_the_analytic_interval(tmp_path):
    """Nominal grassland, warm temperate moist, spodic: F_LU = F_MG = 1 (definitions), no
    F_I, so the default stock is SOC_REF alone, 143 t C/ha +/- 30 % (95 % half-width,
    2019 Table 2.3) -> lognormal with mean 143 and cv 0.30 / 1.96."""
    n = 20000
    r = _project(tmp_path, HEADER + "F,P,1,warm_temperate_moist,spodic,grassland,,,nominal,\n", draws=n)
    row = r.plots.iloc[0]
    assert row.baseline_stock_t_ha == 143.0
    cv = 0.30 / 1.959964
    dist = _lognormal_dist(143.0, cv)
    for col, p in (("p2_5", 0.025), ("median", 0.5), ("p97_5", 0.975)):
        want = _lognormal_quantile(143.0, cv, p)
        assert abs(row[f"baseline_stock_t_ha_{col}"] - want) < 4 * _quantile_se(dist, p, n), col
    assert abs(row.baseline_stock_t_ha_mean - 143.0) < 4 * 143.0 * cv / np.sqrt(n)
    # Nothing changes, so every draw's rate is exactly 0 and the target is never met.
    assert row.rate_per_mille_p2_5 == row.rate_per_mille_p97_5 == 0.0
    assert row.p_meets_4p1000 == 0.0


def test_product_of_factors_agrees_with_ipcc_approach1(tmp_path):
    """Default stock, cropland WTM HAC, no-till, high input (2019): SOC_REF 64 +/- 5 % (95 %),
    F_LU 0.69 +/- 16 %, F_MG 1.10 +/- 4 %, F_I 1.11 +/- 10 % (Table 5.5 errors are two sd,
    so U = 1.96 x half of them). Eq. 3.1: U = sqrt(5^2 + 15.68^2 + 3.92^2 + 9.80^2) = 19.55 %;
    the Monte Carlo 95 % half-width over the mean agrees within a few per cent of itself."""
    n = 20000
    r = _project(tmp_path, HEADER + "F,P,1,warm_temperate_moist,HAC,cropland,none,high,,\n", draws=n)
    row = r.plots.iloc[0]
    assert row.baseline_stock_t_ha == pytest.approx(64 * 0.69 * 1.10 * 1.11)
    z = 1.959964
    u_approach1 = float(unc.ipcc_approach1_product(5.0, z * 8, z * 2, z * 5))
    assert u_approach1 == pytest.approx(19.55, abs=0.01)
    half_width = (row.baseline_stock_t_ha_p97_5 - row.baseline_stock_t_ha_p2_5) / 2
    u_mc = 100 * half_width / row.baseline_stock_t_ha_mean
    assert u_mc == pytest.approx(u_approach1, rel=0.04)
    assert row.baseline_stock_t_ha_mean == pytest.approx(row.baseline_stock_t_ha, rel=4 * 0.1 / np.sqrt(n))


def test_farm_of_identical_plots_keeps_the_relative_interval_of_one_plot(tmp_path):
    """Factor errors are shared: 25 identical plots give a farm total exactly 25 x one plot
    in every draw, so the relative interval does not shrink (independent draws would shrink
    it by 1/sqrt(25) = 1/5)."""
    rows = "".join(f"F,P{i},2,warm_temperate_moist,HAC,cropland,full,medium,,no_till;cover_crops\n" for i in range(25))
    r = _project(tmp_path, HEADER + rows, draws=2000)
    plot, farm = r.plots.iloc[0], r.farms.iloc[0]
    for q in ("baseline_stock", "final_stock"):
        for s in ("p2_5", "median", "p97_5", "mean"):
            assert farm[f"{q}_t_c_{s}"] / farm[f"{q}_t_c"] == pytest.approx(plot[f"{q}_t_ha_{s}"] / plot[f"{q}_t_ha"],
                                                                            rel=1e-12)
    for s in ("p2_5", "median", "p97_5"):
        assert farm[f"rate_per_mille_{s}"] == pytest.approx(plot[f"rate_per_mille_{s}"], rel=1e-12)
    assert farm.p_meets_4p1000 == plot.p_meets_4p1000
    assert (r.plots["rate_per_mille_p2_5"] == plot.rate_per_mille_p2_5).all()


def test_independent_measurement_errors_average_out_over_plots(tmp_path):
    """Measurement errors are independent per sample: with coefficients held fixed, the farm
    total of 16 identical one-layer plots has 1/sqrt(16) = 1/4 of a plot's relative spread.
    Plot: SOC 12 g/kg, BD 1.3 g/cm3 (cv 3 % and 5 %), no stones -> stock cv
    sqrt(exp(ln(1.0009) + ln(1.0025)) - 1) = 5.83 %."""
    head = ("farm_id,plot_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,top_cm,bottom_cm,soc_g_kg,"
            "bulk_density_g_cm3\n")
    rows = "".join(f"F,P{i},1,warm_temperate_moist,HAC,cropland,full,medium,0,30,12,1.3\n" for i in range(16))
    n = 4000
    r = _project(tmp_path, head + rows, draws=n, factors=False)
    plot, farm = r.plots.iloc[0], r.farms.iloc[0]
    assert plot.baseline_stock_t_ha == pytest.approx(12 * 1.3 * 30 / 10)
    cv_plot = np.sqrt(np.expm1(np.log1p(0.03 ** 2) + np.log1p(0.05 ** 2)))
    width = (plot.baseline_stock_t_ha_p97_5 - plot.baseline_stock_t_ha_p2_5) / plot.baseline_stock_t_ha / (2 * Z975)
    assert width == pytest.approx(cv_plot, rel=0.08)
    farm_width = (farm.baseline_stock_t_c_p97_5 - farm.baseline_stock_t_c_p2_5) / farm.baseline_stock_t_c / (2 * Z975)
    assert farm_width == pytest.approx(cv_plot / 4, rel=0.08)
    # With factors fixed, the IPCC rate does not depend on the (measured) baseline at all.
    assert plot.rate_per_mille_p2_5 == plot.rate_per_mille_p97_5 == pytest.approx(plot.rate_per_mille)


SCORE_TEXT = (
    "farm_id,plot_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,practices,top_cm,bottom_cm,"
    "soc_pct,bulk_density_g_cm3,coarse_fragments_pct,clay_pct,sand_pct\n"
    "A,A1,4,cool_temperate_moist,HAC,cropland,full,medium,no_till;cover_crops,0,10,1.6,1.28,5,24,28\n"
    "A,A1,4,cool_temperate_moist,HAC,cropland,full,medium,no_till;cover_crops,10,30,1.1,,5,25,28\n"
    "A,A2,6,cool_temperate_moist,HAC,cropland,full,medium,manure,0,30,1.3,1.36,0,19,29\n"
    "B,B1,3,warm_temperate_dry,LAC,cropland,full,low,agroforestry,0,30,0.8,1.46,15,18,52\n"
    "A,A3,2,cool_temperate_moist,HAC,grassland,,medium,improved_grassland,0,30,3.0,1.1,0,30,20\n"
    "B,B2,5,warm_temperate_dry,LAC,cropland,full,medium,cover_crops,,,,,,,\n"
)


def test_results_identical_for_any_chunk_size_and_run(tmp_path):
    """Same seed -> same numbers, bit for bit, whatever the number of draws per chunk."""
    runs = [_project(tmp_path, SCORE_TEXT, draws=150, chunk_draws=c) for c in (1, 7, 1000)]
    runs.append(_project(tmp_path, SCORE_TEXT, draws=150))
    for other in runs[1:]:
        pd.testing.assert_frame_equal(runs[0].plots, other.plots, check_exact=True)
        pd.testing.assert_frame_equal(runs[0].farms, other.farms, check_exact=True)
    different = _project(tmp_path, SCORE_TEXT, draws=150, seed=1)
    assert not np.array_equal(different.plots["rate_per_mille_p2_5"], runs[0].plots["rate_per_mille_p2_5"])


def test_small_memory_blocks_split_farms_without_changing_results(tmp_path):
    """Blocks of one plot (farms spanning blocks) give the same statistics as one block."""
    one = _project(tmp_path, SCORE_TEXT, draws=200)
    tiny = _project(tmp_path, SCORE_TEXT, draws=200, memory_mib=200 * 8 * 9 / 2 ** 20)
    cols = [c for c in one.farms.columns if c.endswith(("_mean", "_median", "_p2_5", "_p97_5"))]
    np.testing.assert_allclose(tiny.farms[cols].to_numpy(float), one.farms[cols].to_numpy(float), rtol=1e-12)
    pd.testing.assert_frame_equal(one.plots, tiny.plots, check_exact=True)


def test_without_uncertainty_every_statistic_is_the_deterministic_value(tmp_path):
    r = _project(tmp_path, SCORE_TEXT, draws=5, factors=False, measurement=False)
    for q in ("baseline_stock_t_ha", "final_stock_t_ha", "annual_change_t_ha_yr", "rate_per_mille"):
        for s in unc.STAT_SUFFIXES:
            np.testing.assert_allclose(r.plots[f"{q}_{s}"], r.plots[q], rtol=1e-12)
    for q in ("baseline_stock_t_c", "final_stock_t_c", "annual_change_t_c_yr", "rate_per_mille"):
        np.testing.assert_allclose(r.farms[f"{q}_median"], r.farms[q], rtol=1e-12)
    assert (r.plots["p_meets_4p1000"] == r.plots["meets_4p1000"].astype(float)).all()


def test_rates_method_draws_the_catalogued_rate(tmp_path):
    """Method rates, cover crops: 0.32 +/- 0.08 t C/ha/yr (read as one sd) for 20 yr; over a
    20-year horizon the annual change is the drawn rate itself: 0.32 +/- 1.96 x 0.08.
    Manure (0.409, no published +/-) is held fixed."""
    head = "farm_id,plot_id,area_ha,land_use,practices,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3\n"
    text = head + "F,C,1,cropland,cover_crops,0,30,12,1.3\nF,M,1,cropland,manure,0,30,12,1.3\n"
    n = 20000
    r = _project(tmp_path, text, ProjectOptions(method="rates"), draws=n, measurement=False)
    c, m = r.plots.set_index("plot_id").loc["C"], r.plots.set_index("plot_id").loc["M"]
    dist = stats.norm(0.32, 0.08)
    for col, p in (("p2_5", 0.025), ("median", 0.5), ("p97_5", 0.975)):
        assert abs(c[f"annual_change_t_ha_yr_{col}"] - dist.ppf(p)) < 4 * _quantile_se(dist, p, n)
    assert m.annual_change_t_ha_yr_p2_5 == m.annual_change_t_ha_yr_p97_5 == pytest.approx(0.409)
    # 4 per mille of 46.8 t C/ha is 0.1872 t C/ha/yr: P(N(0.32, 0.08) >= 0.1872) = 0.9519.
    assert c.p_meets_4p1000 == pytest.approx(dist.sf(0.004 * 46.8), abs=4 * np.sqrt(0.05 * 0.95 / n))
    assert "manure" in r.methods[-1]


# --- measurement errors ------------------------------------------------------------------


ONE_LAYER = ("plot_id,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3,coarse_fragments_pct{extra_head}\n"
             "P,0,30,12,{bd},{cf}{extra}\n")


def _one_layer(tmp_path, bd="1.3", cf="0", extra_head="", extra="", **kw):
    return _estimate(tmp_path, ONE_LAYER.format(bd=bd, cf=cf, extra_head=extra_head, extra=extra), **kw).plots.iloc[0]


def test_soc_error_override_gives_the_analytic_lognormal_interval(tmp_path):
    """soc_sd_pct 10, BD and stones exact: stock 46.8 t C/ha, lognormal with cv 0.10."""
    n = 20000
    row = _one_layer(tmp_path, extra_head=",soc_sd_pct,bulk_density_sd_pct", extra=",10,0", draws=n)
    assert row.soc_stock_t_ha == pytest.approx(46.8)
    dist = _lognormal_dist(46.8, 0.10)
    for col, p in (("p2_5", 0.025), ("median", 0.5), ("p97_5", 0.975)):
        assert abs(row[f"soc_stock_t_ha_{col}"] - _lognormal_quantile(46.8, 0.10, p)) < 4 * _quantile_se(dist, p, n)


def test_zero_errors_give_a_zero_width_interval(tmp_path):
    row = _one_layer(tmp_path, cf="10", extra_head=",soc_sd_pct,bulk_density_sd_pct,coarse_fragments_sd_pct",
                     extra=",0,0,0", draws=50)
    assert row.soc_stock_t_ha == pytest.approx(12 * 1.3 * 30 * 0.9 / 10)
    assert row.soc_stock_t_ha_p2_5 == row.soc_stock_t_ha_p97_5 == pytest.approx(row.soc_stock_t_ha, rel=1e-12)


def test_negative_override_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match=r"soc_sd_pct must be a non-negative number .* in row 2, got .-3."):
        _one_layer(tmp_path, extra_head=",soc_sd_pct", extra=",-3", draws=10)


def test_ptf_bulk_density_carries_the_ptf_error(tmp_path):
    """No BD, no texture: Manrique & Jones (1991), BD = 1.66 - 0.318 sqrt(1.2) = 1.3116 g/cm3,
    error 0.22 g/cm3 -> cv 0.1677; with SOC 3 %: stock cv sqrt((1 + 0.03^2)(1 + 0.1677^2) - 1)."""
    n = 20000
    row = _one_layer(tmp_path, bd="", draws=n)
    bd = 1.66 - 0.318 * np.sqrt(1.2)
    assert row.soc_stock_t_ha == pytest.approx(12 * bd * 30 / 10)
    cv = np.sqrt((1 + 0.03 ** 2) * (1 + (0.22 / bd) ** 2) - 1)
    dist = _lognormal_dist(row.soc_stock_t_ha, cv)
    for col, p in (("p2_5", 0.025), ("p97_5", 0.975)):
        want = _lognormal_quantile(row.soc_stock_t_ha, cv, p)
        assert abs(row[f"soc_stock_t_ha_{col}"] - want) < 4 * _quantile_se(dist, p, n)


def test_coarse_fragment_error_propagates_through_the_stone_correction(tmp_path):
    """CF 20 % (cv 20 %, lognormal), SOC and BD exact: stock = 46.8 x (100 - CF) / 100 is
    decreasing in CF, so its 2.5 % quantile is 46.8 x (1 - q97.5(CF) / 100)."""
    n = 20000
    row = _one_layer(tmp_path, cf="20", extra_head=",soc_sd_pct,bulk_density_sd_pct", extra=",0,0", draws=n)
    assert row.soc_stock_t_ha == pytest.approx(46.8 * 0.8)
    cf = _lognormal_dist(20.0, 0.20)
    lo = 46.8 * (1 - cf.ppf(0.975) / 100)
    hi = 46.8 * (1 - cf.ppf(0.025) / 100)
    assert abs(row.soc_stock_t_ha_p2_5 - lo) < 4 * 46.8 / 100 * _quantile_se(cf, 0.975, n)
    assert abs(row.soc_stock_t_ha_p97_5 - hi) < 4 * 46.8 / 100 * _quantile_se(cf, 0.025, n)


def test_estimate_farm_totals_average_cores_and_divide_by_area(tmp_path):
    """Two cores of plot P1 (2 ha) are averaged before the farm total; P2 (3 ha) adds; the
    farm's t/ha figures are its t C totals over 5 ha."""
    text = ("farm_id,plot_id,core_id,area_ha,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3\n"
            "F,P1,a,2,0,30,10,1.2\nF,P1,b,2,0,30,14,1.2\nF,P2,a,3,0,30,12,1.4\n")
    r = _estimate(tmp_path, text, draws=400, seed=3)
    farm = r.farms.iloc[0]
    assert farm.soc_stock_t_c == pytest.approx(2 * (36 + 50.4) / 2 + 3 * 50.4)
    for s in unc.STAT_SUFFIXES:
        assert farm[f"soc_stock_t_ha_{s}"] == pytest.approx(farm[f"soc_stock_t_c_{s}"] / 5.0, rel=1e-12)
    assert farm.soc_stock_t_c_p2_5 < farm.soc_stock_t_c < farm.soc_stock_t_c_p97_5
    # Zero errors reproduce the deterministic farm total exactly.
    zero = _estimate(tmp_path, text, draws=3, measurement=False).farms.iloc[0]
    assert zero.soc_stock_t_c_median == pytest.approx(zero.soc_stock_t_c, rel=1e-12)


def test_spline_records_are_rescaled_and_noted(tmp_path):
    text = ("plot_id,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3\n"
            "P,0,10,20,1.1\nP,10,25,12,1.3\nP,25,50,6,1.45\n")
    table = _horizons(tmp_path, text)
    opts = EstimateOptions(depth_method="spline")
    result = estimate_stocks(table, opts)
    r = unc.estimate_uncertainty(table, result, opts, unc.UncertaintyOptions(draws=3, measurement=False))
    assert r.plots.soc_stock_t_ha_median.iloc[0] == pytest.approx(result.plots.soc_stock_t_ha.iloc[0], rel=1e-12)
    assert "proportional layer weights" in r.methods[-1]


RICH = (
    "farm_id,plot_id,sampled_on,core_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,practices,"
    "top_cm,bottom_cm,soc_pct,som_pct,bulk_density_g_cm3,coarse_fragments_pct,bd_basis,clay_pct,sand_pct\n"
    "F,P1,2019,a,2,warm_temperate_moist,HAC,cropland,full,medium,no_till,0,10,1.5,,1.2,5,fine_earth,20,30\n"
    "F,P1,2019,a,2,warm_temperate_moist,HAC,cropland,full,medium,no_till,10,30,1.0,,1.35,8,fine_earth,22,30\n"
    "F,P1,2021,a,2,warm_temperate_moist,HAC,cropland,full,medium,no_till,0,15,1.6,,,5,fine_earth,20,30\n"
    "F,P1,2021,a,2,warm_temperate_moist,HAC,cropland,full,medium,no_till,15,30,1.1,,1.3,5,fine_earth,20,30\n"
    "F,P1,2021,b,2,warm_temperate_moist,HAC,cropland,full,medium,no_till,0,20,1.4,,1.25,0,fine_earth,20,30\n"
    "F,P1,2021,b,2,warm_temperate_moist,HAC,cropland,full,medium,no_till,20,40,0.9,,1.4,10,fine_earth,20,30\n"
    "F,P2,2021,a,3,warm_temperate_moist,HAC,cropland,full,low,cover_crops,0,25,,2.4,1.3,12,whole_soil,25,40\n"
    "F,P2,2021,a,3,warm_temperate_moist,HAC,cropland,full,low,cover_crops,25,35,,1.5,1.45,20,whole_soil,25,40\n"
    "G,P3,2021,a,1,cool_temperate_moist,HAC,grassland,,medium,improved_grassland,0,12,3.1,,1.05,0,fine_earth,30,20\n"
    "G,P3,2021,a,1,cool_temperate_moist,HAC,grassland,,medium,improved_grassland,12,24,2.0,,1.2,0,fine_earth,30,20\n"
    "G,P4,2021,a,1,cool_temperate_dry,HAC,cropland,reduced,medium,,,,,,,,,,\n"
)


@pytest.mark.parametrize("options", [{}, {"depth_method": "spline"}, {"extrapolate": True}])
def test_rebuilt_layers_reproduce_the_pipeline(tmp_path, options):
    """Sampling dates (latest one used), two cores, a PTF layer, SOM input, whole-soil bulk
    density (the non-separable path) and a plot without layers: with errors switched off,
    every statistic equals the deterministic figure; the proportional method needs no
    rescaling (the layer reconstruction is exact)."""
    est = EstimateOptions(top_cm=0, bottom_cm=30, on_error="skip", **options)
    r = _project(tmp_path, RICH, ProjectOptions(estimate=est), draws=4, factors=False, measurement=False)
    np.testing.assert_allclose(r.plots["baseline_stock_t_ha_median"], r.plots["baseline_stock_t_ha"], rtol=1e-12)
    np.testing.assert_allclose(r.farms["baseline_stock_t_c_p97_5"], r.farms["baseline_stock_t_c"], rtol=1e-12)
    assert ("rescaled" in r.methods[-1]) == bool(options)
    table = _horizons(tmp_path, RICH)
    result = estimate_stocks(table, est)
    e = unc.estimate_uncertainty(table, result, est, unc.UncertaintyOptions(draws=4, measurement=False))
    np.testing.assert_allclose(e.plots["soc_stock_t_ha_mean"], e.plots["soc_stock_t_ha"], rtol=1e-12)
    np.testing.assert_allclose(e.farms["soc_stock_t_c_p2_5"], e.farms["soc_stock_t_c"], rtol=1e-12)
    assert list(e.farms["sampled_on"].astype(str)) == ["2019", "2021", "2021"][:len(e.farms)]
    # With errors on, P2 (whole-soil BD, SOC from SOM at 16 %) is the least certain stock.
    on = _project(tmp_path, RICH, ProjectOptions(estimate=est), draws=200, factors=False)
    width = (on.plots["baseline_stock_t_ha_p97_5"] - on.plots["baseline_stock_t_ha_p2_5"]) / on.plots[
        "baseline_stock_t_ha"]
    assert width.idxmax() == on.plots.index[on.plots["plot_id"] == "P2"][0]


def test_other_model_rows_get_no_statistics(tmp_path):
    """A multi-model result (``model`` column): IPCC rows get the single-model figures,
    other rows stay empty (NA verdicts, NaN statistics)."""
    import dataclasses

    table = _plots_or_horizons(tmp_path, SCORE_TEXT)
    single = project_table(table, ProjectOptions())
    plots = pd.concat([single.plots.assign(model="ipcc"), single.plots.assign(model="other")], ignore_index=True)
    farms = pd.concat([single.farms.assign(model="ipcc"), single.farms.assign(model="other")], ignore_index=True)
    multi = dataclasses.replace(single, plots=plots, farms=farms)
    opts = unc.UncertaintyOptions(draws=100)
    a = unc.project_uncertainty(table, single, opts)
    b = unc.project_uncertainty(table, multi, opts)
    n = len(single.plots)
    np.testing.assert_array_equal(b.plots["rate_per_mille_p2_5"][:n], a.plots["rate_per_mille_p2_5"])
    assert b.plots["rate_per_mille_p2_5"][n:].isna().all()
    assert b.plots["meets_4p1000_at_confidence"][n:].isna().all()
    assert list(b.plots["meets_4p1000_at_confidence"][:n]) == list(a.plots["meets_4p1000_at_confidence"])
    assert b.farms["p_meets_4p1000"][len(single.farms):].isna().all()


# --- CLI -----------------------------------------------------------------------------------


@pytest.fixture
def runner():
    return CliRunner()


def _csv(result):
    return pd.read_csv(io.StringIO(result.stdout))


def test_cli_estimate_uncertainty_columns_match_the_library(runner, tmp_path):
    path = _write(tmp_path, SCORE_TEXT)
    res = runner.invoke(main, ["estimate", str(path), "--uncertainty", "--draws", "200", "--seed", "5", "-f", "csv",
                               "-v", "--on-error", "skip"])
    assert res.exit_code == 0, res.stderr
    out = _csv(res)
    table = normalise(read_table(path))
    opts = EstimateOptions(on_error="skip")
    lib = unc.estimate_uncertainty(table, estimate_stocks(table, opts), opts, unc.UncertaintyOptions(draws=200, seed=5))
    assert [c for c in out.columns if c.startswith("soc_stock_t_ha_")] == [f"soc_stock_t_ha_{s}" for s in
                                                                        unc.STAT_SUFFIXES]
    np.testing.assert_allclose(out["soc_stock_t_ha_p97_5"], lib.plots["soc_stock_t_ha_p97_5"], rtol=1e-6)
    assert "Method: Monte Carlo uncertainty: 200 draws (seed 5)" in res.stderr
    plain = runner.invoke(main, ["estimate", str(path), "-f", "csv", "--on-error", "skip"])
    assert not any(c.endswith("_p97_5") for c in _csv(plain).columns)


def test_cli_score_uncertainty_verdict_check_and_meta(runner, tmp_path):
    path = _write(tmp_path, SCORE_TEXT)
    base = ["score", str(path), "--uncertainty", "--draws", "300"]
    res = runner.invoke(main, base + ["-f", "csv"])
    assert res.exit_code == 0, res.stderr
    farms = _csv(res)
    assert {"p_meets_4p1000", "meets_4p1000_at_confidence", "rate_per_mille_p2_5"} <= set(farms.columns)
    line = res.stderr.splitlines()[-1]
    assert line.startswith("with uncertainty (300 draws): ") and "probability >= 0.9" in line
    # --check uses the verdict at confidence: just above the least likely farm's probability
    # fails (exit 3), at it passes.
    p_min = farms["p_meets_4p1000"].min()
    assert 0 < p_min < 0.995
    assert (farms["meets_4p1000_at_confidence"] == (farms["p_meets_4p1000"] >= 0.9)).all()
    fail = runner.invoke(main, base + ["--confidence", str(p_min + 0.005), "--check", "-q", "-f", "csv"])
    assert fail.exit_code == 3
    # The CSV rounds p to 6 decimals, possibly up (296/300 is written 0.986667): 1e-6 below it.
    ok = runner.invoke(main, base + ["--confidence", str(p_min - 1e-6), "--check", "-q", "-f", "csv"])
    assert ok.exit_code == 0
    js = runner.invoke(main, base + ["-f", "json", "-q"])
    assert json.loads(js.stdout)["meta"]["uncertainty"] == {"draws": 300, "seed": 0, "confidence": 0.9}


def test_cli_same_seed_same_output_other_seed_differs(runner, tmp_path):
    path = _write(tmp_path, SCORE_TEXT)
    args = ["project", str(path), "--uncertainty", "--draws", "100", "-f", "csv", "-q"]
    a, b = runner.invoke(main, args), runner.invoke(main, args)
    c = runner.invoke(main, args + ["--seed", "9"])
    assert a.exit_code == b.exit_code == c.exit_code == 0
    assert a.stdout == b.stdout and a.stdout != c.stdout


@pytest.mark.parametrize("flag,value", [("--confidence", "1.5"), ("--draws", "0"), ("--seed", "-1")])
def test_cli_rejects_bad_uncertainty_flags(runner, tmp_path, flag, value):
    path = _write(tmp_path, SCORE_TEXT)
    res = runner.invoke(main, ["project", str(path), "--uncertainty", flag, value])
    assert res.exit_code == 2
    assert flag in res.stderr


def test_cli_help_documents_the_flags(runner):
    for command in ("estimate", "project", "score"):
        text = runner.invoke(main, [command, "--help"]).stdout
        for flag in ("--uncertainty", "--draws", "--seed", "--confidence"):
            assert flag in text
