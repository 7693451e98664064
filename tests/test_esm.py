"""Tests of the equivalent-soil-mass methods and the comparison of samplings (fourp1000.esm)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.errors import InputError
from fourp1000.esm import (
    compare_samplings,
    core_stocks,
    esm_elementary_layers,
    esm_ellert_bettany,
    esm_fowler,
    esm_linear,
    fixed_depth_stock,
)

DEPTHS = (10.0, 30.0, 50.0, 100.0)


def horizons(rows, **extra) -> pd.DataFrame:
    """Horizon table from (plot_id, sampled_on, core_id, top, bottom, soc_g_kg, bd) tuples."""
    frame = pd.DataFrame(
        rows, columns=["plot_id", "sampled_on", "core_id", "top_cm", "bottom_cm", "soc_g_kg", "bulk_density_g_cm3"]
    )
    frame["source_row"] = np.arange(1, len(frame) + 1)
    for name, value in extra.items():
        frame[name] = value
    return frame


def one_core(layers):
    """Knot arrays of one core from (top, bottom, soc_g_kg, bd) layers, total mass basis."""
    bottom = np.array([layer[1] for layer in layers], dtype=float)
    thick = np.diff(np.r_[0.0, bottom])
    mass = np.array([layer[3] for layer in layers]) * thick * 100.0
    soc = mass * np.array([layer[2] for layer in layers]) / 1000.0
    return (np.r_[0.0, bottom][None], np.r_[0.0, np.cumsum(mass)][None], np.r_[0.0, np.cumsum(soc)][None],
            np.array([len(layers) + 1]))


# ----------------------------------------------------------------------------------------
# Reference implementations: von Haden et al. (2020) and SimpleESM
# ----------------------------------------------------------------------------------------


def von_haden_horizons(reference_dir, sheet: str) -> pd.DataFrame:
    """Example input sheet in our columns: plot = Ref_ID, sampling = ID, core = Rep."""
    raw = pd.read_csv(reference_dir / "esm" / "vonhaden2020" / f"Example_datasets__{sheet}.csv")
    return pd.DataFrame({
        "plot_id": raw["Ref_ID"], "sampled_on": raw["ID"], "core_id": raw["Rep"].astype(str),
        "top_cm": raw["Upper_cm"], "bottom_cm": raw["Lower_cm"], "soc_g_kg": raw["SOC_pct"] * 10.0,
        "som_pct": raw["SOM_pct"], "bulk_density_g_cm3": raw["BD_g_cm3"], "source_row": np.arange(1, len(raw) + 1),
    })


@pytest.mark.reference
@pytest.mark.parametrize(
    ("sheet", "baseline"),
    [("a_temporal_paired", None), ("c_comparative", "T1_P1"), ("d_protocol", "PROTOCOL_1")],
)
def test_reproduces_von_haden(reference_dir, sheet, baseline):
    """von Haden et al. (2020) ESM_FD_Calculation.R outputs, sheets a, c and d.

    R script run unchanged with extrapolation = TRUE and ESM depths 10/30/50/100 cm
    (``esm/vonhaden2020/FD_ESM_output_<sheet>__{FD,ESM}.csv``, g cm-2 x 100 = t ha-1).
    Sheet a: each Y5 core against its own Y0 core; c: three reps against the mean of the
    three T1 reps; d: all cores against the PROTOCOL_1 standard masses (the 100 cm masses
    exceed some cores': extrapolated). Within 0.01 t C/ha per core and depth.
    """
    data = von_haden_horizons(reference_dir, sheet)
    assert len(data) == (28 if sheet == "d_protocol" else 24)
    result = core_stocks(data, DEPTHS, baseline_sampling=baseline)
    assert result.problems == []
    folder = reference_dir / "esm" / "vonhaden2020"
    for kind, column in (("ESM", "esm_stock_t_ha"), ("FD", "fixed_depth_stock_t_ha")):
        expected = pd.read_csv(folder / f"FD_ESM_output_{sheet}__{kind}.csv")
        merged = expected.merge(
            result.cores.assign(Rep=result.cores["core_id"].astype(int)),
            left_on=["ID", "Rep", "Lower_cm"], right_on=["sampled_on", "Rep", "depth_cm"], validate="one_to_one",
        )
        assert len(merged) == len(expected)
        np.testing.assert_allclose(merged[column], merged["Cum_SOC_g_cm2"] * 100, atol=0.01, rtol=0)
        if kind == "ESM":
            np.testing.assert_allclose(merged["reference_mass_t_ha"], merged["Cum_Min_Soil_g_cm2"] * 100, atol=0.01)
    if sheet == "d_protocol":
        assert result.cores["extrapolated"].sum() > 0


@pytest.mark.reference
def test_worked_case_compaction_without_carbon_change(reference_dir):
    """Y5_T1_P1_S1 against Y0_T1_P1_S1, 0–30 cm (METHODS.md §3.6; von Haden et al. 2020).

    Surface compaction makes the fixed-depth stock rise from 70.30 to 72.54 t C/ha; on
    the mineral mass of Y0 (3730.65 t/ha) the Y5 core holds 70.31 t C/ha: no real change.
    """
    data = von_haden_horizons(reference_dir, "a_temporal_paired")
    pair = data[data["plot_id"] == "Y0_T1_P1_S1"].assign(sampled_on=lambda d: d["sampled_on"].str[1].astype(int))
    result = compare_samplings(pair, (30.0,), n_bootstrap=0)
    row = result.plots.iloc[0]
    assert row["baseline_fixed_depth_stock_t_ha"] == pytest.approx(70.30, abs=0.01)
    assert row["fixed_depth_stock_t_ha"] == pytest.approx(72.54, abs=0.01)
    assert row["esm_stock_t_ha"] == pytest.approx(70.31, abs=0.01)
    assert row["reference_mass_t_ha"] == pytest.approx(3730.65, abs=0.01)
    assert row["fixed_depth_change_t_ha"] == pytest.approx(2.24, abs=0.01)
    assert row["esm_change_t_ha"] == pytest.approx(0.01, abs=0.005)
    assert row["years"] == 5
    assert not row["meets_4p1000"]
    assert np.isnan(row["p_meets_4p1000"])  # one core per sampling: no bootstrap


def simpleesm_horizons(reference_dir, split: bool) -> pd.DataFrame:
    """SimpleESM test data in our columns. BD comes on 5-cm layers, SOC on other layers.

    ``split=False``: one row per concentration layer with the thickness-weighted BD (same
    layer masses as SimpleESM computes). ``split=True``: rows cut at every BD and SOC
    boundary, as SimpleESM's 1-mm slices see the profile.
    """
    folder = reference_dir / "esm" / "simpleesm"
    conc = pd.read_csv(folder / "Test_SimpleESM__Concentrations.csv")
    bd = pd.read_csv(folder / "Test_SimpleESM__BD.csv")
    rows = []
    for (campaign, plot, point), layers in conc.groupby(["Campaign", "Plot", "Point"], sort=False):
        dens = bd[(bd.Campaign == campaign) & (bd.Plot == plot) & (bd.Point == point)]
        for layer in layers.itertuples():
            top, bottom = -layer.Upper_cm, -layer.Lower_cm
            pieces = [(max(top, -d.Upper_cm), min(bottom, -d.Lower_cm), d.BD_g_cm3) for d in dens.itertuples()
                      if -d.Lower_cm > top and -d.Upper_cm < bottom]
            if split:
                rows += [(plot, campaign, point, t, b, layer.SOC_g_kg, v) for t, b, v in pieces]
            else:
                mean_bd = sum((b - t) * v for t, b, v in pieces) / (bottom - top)
                rows.append((plot, campaign, point, top, bottom, layer.SOC_g_kg, mean_bd))
    return horizons(rows)


@pytest.mark.reference
@pytest.mark.parametrize(
    ("output", "method", "split", "column"),
    [
        ("Output_ESM2", "spline", False, "SOC_stock_cum_ESM2"),
        ("Output_ESM", "elementary_layers", True, "SOC_stock_cum_ESM"),
        ("Output_FD", "fixed_depth", False, "SOC_stock_cum_FD"),
    ],
)
def test_reproduces_simpleesm(reference_dir, output, method, split, column):
    """SimpleESM (Ferchaud & Chlebowski) outputs on its test file, RefM_option "manual".

    Total (not mineral) soil mass; reference layer masses 1380, 1380, 2140, 740, 2960 t/ha
    (0–10, 10–20, 20–35, 35–40, 40–60 cm; sheet Ref_soil_mass). ESM2 = hyman spline,
    ESM = 1-mm elementary layers, FD = fixed depth. 12 cores x 5 layers, within 0.01 t C/ha.
    """
    folder = reference_dir / "esm" / "simpleesm"
    ref = pd.read_csv(folder / "Test_SimpleESM__Ref_soil_mass.csv")
    assert ref["Ref_soil_mass_t_ha"].tolist() == [1380, 1380, 2140, 740, 2960]
    depths = -ref["Lower_cm"].to_numpy(dtype=float)
    result = core_stocks(simpleesm_horizons(reference_dir, split), depths, method=method, mass_basis="total",
                         reference=ref["Ref_soil_mass_t_ha"].cumsum().to_numpy())
    assert result.problems == []
    expected = pd.read_csv(folder / f"{output}.csv", sep=";")
    expected["depth_cm"] = depths[expected["Layer"] - 1]
    merged = expected.merge(result.cores, left_on=["Campaign", "Plot", "Point", "depth_cm"],
                            right_on=["sampled_on", "plot_id", "core_id", "depth_cm"], validate="one_to_one")
    assert len(merged) == len(expected) == 60
    value = merged["fixed_depth_stock_t_ha" if method == "fixed_depth" else "esm_stock_t_ha"]
    np.testing.assert_allclose(value, merged[column], atol=0.01, rtol=0)
    # The check value of METHODS.md: Year_0_P01_i1, 0–20 cm, 27.9446 t C/ha.
    first = merged[(merged.Campaign == "Year_0") & (merged.Point == "i1") & (merged.depth_cm == 20)]
    assert float(value[first.index[0]]) == pytest.approx(27.9446, abs=1e-4)


# ----------------------------------------------------------------------------------------
# The methods on hand-computed cores
# ----------------------------------------------------------------------------------------


def test_fixed_depth_stock_by_hand():
    """12 g/kg x 1.35 g cm-3 x 30 cm / 10 = 48.6 t C/ha; 20 cm of a 0–40 layer: 2/3 of it."""
    b, _, soc, n = one_core([(0, 30, 12.0, 1.35)])
    assert fixed_depth_stock(b, soc, n, [30.0])[0, 0] == pytest.approx(48.6)
    b, _, soc, n = one_core([(0, 10, 20.0, 1.2), (10, 40, 10.0, 1.5)])
    # 20*1.2*10/10 = 24, plus 10 cm of 10*1.5: 15 -> 39; below 40 cm: not sampled.
    np.testing.assert_allclose(fixed_depth_stock(b, soc, n, [20.0, 40.0, 50.0])[0], [39.0, 69.0, np.nan])


def test_linear_esm_by_hand():
    """Layers 0–10 (1200 t/ha, 24 t C) and 10–40 (4500 t/ha, 45 t C): 3000 t/ha holds
    24 + 1800 x 0.01 = 42 t C; 6000 t/ha (beyond 5700) extends the deepest layer: 72."""
    b, mass, soc, n = one_core([(0, 10, 20.0, 1.2), (10, 40, 10.0, 1.5)])
    np.testing.assert_allclose(esm_linear(mass, soc, n, [3000.0, 6000.0])[0], [42.0, 72.0])


def test_ellert_bettany_by_hand():
    """One 0–30 cm layer, BD 1.5, SOC 10 g/kg: 4500 t/ha, 45 t C/ha.

    Reference 4000 t/ha: remove 500 t at 10 g/kg -> 40. With a layer 30–50 cm at 5 g/kg
    below, reference 5000 t/ha adds 500 t from that layer: 45 + 2.5 = 47.5 (the layer
    above would have given 50).
    """
    b, mass, soc, n = one_core([(0, 30, 10.0, 1.5)])
    assert esm_ellert_bettany(b, mass, soc, n, [30.0], [4000.0])[0, 0] == pytest.approx(40.0)
    b, mass, soc, n = one_core([(0, 30, 10.0, 1.5), (30, 50, 5.0, 1.5)])
    assert esm_ellert_bettany(b, mass, soc, n, [30.0], [5000.0])[0, 0] == pytest.approx(47.5)


def test_fowler_by_hand():
    """Fowler et al. (2023) hypothetical 30-cm samples (METHODS.md §3.4), SOM = 2 x SOC.

    t0: SOC 1.4 %, BD 1.5 -> 63.0 t C/ha, mineral mass 4500 x 0.972 = 4374 t/ha.
    t2: SOC 1.6 %, BD 1.1 -> 52.8 t C/ha, mineral mass 3300 x 0.968 = 3194.4 t/ha.
    D' = 30 x 4374 / 3194.4 = 41.078 cm; corrected 52.8 + 11.078 x 1.6 x 1.1 = 72.30.
    """
    data = horizons([("p", 2020, "1", 0, 30, 14.0, 1.5), ("p", 2025, "1", 0, 30, 16.0, 1.1)])
    result = compare_samplings(data, (30.0,), method="fowler", n_bootstrap=0)
    row = result.plots.iloc[0]
    assert row["reference_mass_t_ha"] == pytest.approx(4374.0)
    assert row["baseline_stock_t_ha"] == pytest.approx(63.0)
    assert row["fixed_depth_stock_t_ha"] == pytest.approx(52.8)
    assert row["esm_stock_t_ha"] == pytest.approx(72.297, abs=1e-3)
    assert row["fixed_depth_change_t_ha"] == pytest.approx(-10.2)
    assert row["esm_change_t_ha"] == pytest.approx(9.297, abs=1e-3)
    assert bool(row["extrapolated"])  # D' is below the 30-cm sample
    # For one uniform layer it is S_FD x M_ref / M.
    b, mass, soc, n = one_core([(0, 30, 16.0, 1.1)])
    assert esm_fowler(b, mass, soc, n, [30.0], [4000.0])[0, 0] == pytest.approx(52.8 * 4000 / 3300)


def test_elementary_layers_by_hand():
    """BD 1.0: one 1-mm slice holds 10 t/ha. 55 t/ha -> 5 slices, 0.5 cm; 50 t/ha -> 5 too."""
    b, mass, soc, n = one_core([(0, 10, 20.0, 1.0)])
    stock, depth = esm_elementary_layers(b, mass, soc, n, [55.0, 50.0, 49.9])
    np.testing.assert_allclose(depth[0], [0.5, 0.5, 0.4])
    np.testing.assert_allclose(stock[0], [1.0, 1.0, 0.8])  # 10 t/ha x 20 g/kg per slice


def test_extrapolation_is_flagged_and_can_be_refused():
    """A reference mass beyond the core's sampled mass is extrapolated, and flagged."""
    data = horizons([
        ("p", 2020, "1", 0, 30, 10.0, 1.5),  # 4500 t/ha
        ("p", 2025, "1", 0, 30, 10.0, 1.2),  # 3600 t/ha: needs 900 t/ha more
    ])
    for method in ("spline", "linear", "ellert_bettany", "elementary_layers"):
        cores = core_stocks(data, (30.0,), method=method, mass_basis="total").cores
        assert cores["extrapolated"].tolist() == [False, True], method
        assert cores["esm_stock_t_ha"].iloc[1] == pytest.approx(45.0), method  # uniform: 10 g/kg x 4500 t
        refused = core_stocks(data, (30.0,), method=method, mass_basis="total", extrapolate=False).cores
        assert np.isnan(refused["esm_stock_t_ha"].iloc[1]) and refused["extrapolated"].iloc[1]


def test_mineral_basis_uses_som_and_the_factor():
    """Mineral mass = soil x (1 - SOM). SOM 5 % -> 4500 x 0.95; without som_pct, SOC x 2.0."""
    data = horizons([("p", 2020, "1", 0, 30, 10.0, 1.5)], som_pct=5.0)
    cores = core_stocks(data, (30.0,)).cores
    assert cores["core_mass_t_ha"].iloc[0] == pytest.approx(4500 * 0.95)
    cores = core_stocks(data.drop(columns="som_pct"), (30.0,)).cores
    assert cores["core_mass_t_ha"].iloc[0] == pytest.approx(4500 * (1 - 0.02))
    cores = core_stocks(data.drop(columns="som_pct"), (30.0,), som_factor=1.724).cores
    assert cores["core_mass_t_ha"].iloc[0] == pytest.approx(4500 * (1 - 0.01724))
    cores = core_stocks(data, (30.0,), mass_basis="total").cores
    assert cores["core_mass_t_ha"].iloc[0] == pytest.approx(4500)


def test_coarse_fragments_reduce_the_soil_mass():
    """Fine earth only: 20 vol % stones leave 80 % of BD x t of fine earth (fine_earth basis)."""
    data = horizons([("p", 2020, "1", 0, 30, 10.0, 1.5)], coarse_fragments_pct=20.0)
    cores = core_stocks(data, (30.0,), mass_basis="total").cores
    assert cores["core_mass_t_ha"].iloc[0] == pytest.approx(3600.0)
    assert cores["fixed_depth_stock_t_ha"].iloc[0] == pytest.approx(36.0)


def test_reference_options():
    """Baseline mean (default), minimum over all cores (Ellert & Bettany), given masses."""
    data = horizons([
        ("p", 2020, "a", 0, 30, 10.0, 1.4), ("p", 2020, "b", 0, 30, 10.0, 1.6),
        ("p", 2025, "a", 0, 30, 10.0, 1.2),
    ])
    kw = {"mass_basis": "total", "method": "linear"}
    assert core_stocks(data, (30.0,), **kw).cores["reference_mass_t_ha"].unique().tolist() == [4500.0]
    lightest = core_stocks(data, (30.0,), reference="minimum", **kw).cores
    assert lightest["reference_mass_t_ha"].unique().tolist() == [3600.0]
    given_masses = core_stocks(data, (30.0,), reference=[4000.0], **kw).cores
    np.testing.assert_allclose(given_masses["esm_stock_t_ha"], 40.0)
    table = pd.DataFrame({"plot_id": ["p"], "depth_cm": [30.0], "reference_mass_t_ha": [3000.0]})
    np.testing.assert_allclose(core_stocks(data, (30.0,), reference=table, **kw).cores["esm_stock_t_ha"], 30.0)
    with pytest.raises(InputError, match="one reference mass per depth"):
        core_stocks(data, (10.0, 30.0), reference=[4000.0])
    with pytest.raises(InputError, match="unknown ESM method"):
        core_stocks(data, (30.0,), method="cubic")


# ----------------------------------------------------------------------------------------
# Comparison of samplings: rates, verdict, bootstrap, bad input
# ----------------------------------------------------------------------------------------


def test_rate_per_mille_and_verdict_by_hand():
    """Baseline 50 t C/ha (0–30 cm, 12.5 g/kg at 1.3333 g cm-3 ~ 4000 t/ha), follow-up 51
    after 5 years at the same BD: +1 t in 5 years = 0.2 t/yr = 4 per mille: meets."""
    bd = 4000.0 / 3000.0
    data = horizons([("p", 2015, "1", 0, 30, 12.5, bd), ("p", 2020, "1", 0, 30, 12.75, bd)])
    row = compare_samplings(data, (30.0,), mass_basis="total", n_bootstrap=0).plots.iloc[0]
    assert row["baseline_stock_t_ha"] == pytest.approx(50.0)
    assert row["esm_change_t_ha"] == pytest.approx(1.0)
    assert row["years"] == 5.0
    assert row["annual_change_t_ha_yr"] == pytest.approx(0.2)
    assert row["rate_per_mille"] == pytest.approx(4.0)
    assert bool(row["meets_4p1000"])
    # With dates the period is 1827 days (two 29 Februaries) = 5.0022 years: just short.
    dated = data.assign(sampled_on=["2015-06-01", "2020-06-01"])
    row = compare_samplings(dated, (30.0,), mass_basis="total", n_bootstrap=0).plots.iloc[0]
    assert row["years"] == pytest.approx(1827 / 365.2425)
    assert row["rate_per_mille"] == pytest.approx(4.0 * 5 / (1827 / 365.2425))
    assert not row["meets_4p1000"]


OFFSETS = np.array([-0.61, -0.17, 0.05, 0.73])  # SOC of four cores around 10 g/kg (mean 10)


def paired_plot(change: float, spread: float) -> pd.DataFrame:
    """Four cores per sampling, BD 1.5, 0–30 cm (4.5 t C/ha per g/kg); follow-up + change."""
    rows = []
    for i, offset in enumerate(OFFSETS):
        soc = 10.0 + spread * offset
        rows.append(("p", 2015, str(i), 0, 30, soc, 1.5))
        rows.append(("p", 2020, str(i), 0, 30, soc + change, 1.5))
    return horizons(rows)


def test_bootstrap_is_seeded_and_brackets_the_change():
    data = paired_plot(change=0.1, spread=1.0)
    one = compare_samplings(data, (30.0,), mass_basis="total", seed=7).plots.iloc[0]
    again = compare_samplings(data, (30.0,), mass_basis="total", seed=7).plots.iloc[0]
    other = compare_samplings(data, (30.0,), mass_basis="total", seed=8).plots.iloc[0]
    assert one["change_ci_low_t_ha"] == again["change_ci_low_t_ha"]
    assert one["p_meets_4p1000"] == again["p_meets_4p1000"]
    assert one["change_ci_low_t_ha"] != other["change_ci_low_t_ha"]
    assert one["esm_change_t_ha"] == pytest.approx(0.45)
    assert one["change_ci_low_t_ha"] < one["esm_change_t_ha"] < one["change_ci_high_t_ha"]
    assert 0.0 < one["p_meets_4p1000"] < 1.0  # 0.45 t in 5 yr on 45 t: 2 per mille, noisy
    assert one["n_cores"] == one["n_baseline_cores"] == 4
    sd = np.std(4.5 * OFFSETS, ddof=1)  # the same spread at both samplings
    assert one["esm_stock_sd_t_ha"] == pytest.approx(sd)
    assert one["esm_change_se_t_ha"] == pytest.approx(np.sqrt(2 * sd**2 / 4))


def test_bootstrap_without_spread_is_degenerate():
    """Identical cores: every resample gives the same change, so the interval is a point
    and p_meets_4p1000 is 0 or 1 (here +2.25 t in 5 yr on 45 t = 10 per mille: 1)."""
    row = compare_samplings(paired_plot(change=0.5, spread=0.0), (30.0,), mass_basis="total").plots.iloc[0]
    assert row["change_ci_low_t_ha"] == pytest.approx(2.25)
    assert row["change_ci_high_t_ha"] == pytest.approx(2.25)
    assert row["p_meets_4p1000"] == 1.0
    assert row["rate_per_mille"] == pytest.approx(10.0)


def test_problems_are_reported_and_the_rest_computed():
    good = [("ok", 2015, "1", 0, 30, 10.0, 1.5), ("ok", 2020, "1", 0, 30, 11.0, 1.5)]
    data = horizons(good + [
        ("late", 2015, "1", 5, 30, 10.0, 1.5), ("late", 2015, "2", 0, 30, 10.0, 1.5),   # core 1 starts at 5 cm
        ("late", 2020, "1", 0, 30, 10.0, 1.5),
        ("gap", 2015, "1", 0, 10, 10.0, 1.5), ("gap", 2015, "1", 20, 30, 10.0, 1.5),    # 10-20 cm missing
        ("gap", 2020, "1", 0, 30, 10.0, 1.5),
        ("once", 2015, "1", 0, 30, 10.0, 1.5),                                            # one sampling
        ("nobd", 2015, "1", 0, 30, 10.0, np.nan), ("nobd", 2020, "1", 0, 30, 10.0, 1.4),
    ])
    result = compare_samplings(data, (30.0,), file="plots.csv")
    found = {(p.plot_id, p.rule, p.row) for p in result.problems}
    assert found == {
        ("late", "core_not_from_surface", 3),
        ("gap", "non_contiguous", 7),
        ("gap", "no_valid_baseline", 6),
        ("once", "one_sampling", 9),
        ("nobd", "missing_value", 10),
        ("nobd", "no_valid_baseline", 10),
    }
    assert all(p.file == "plots.csv" for p in result.problems)
    assert sorted(result.plots["plot_id"]) == ["late", "ok"]  # 'late' keeps its valid core 2
    assert result.plots.set_index("plot_id").at["late", "n_baseline_cores"] == 1


def test_two_files_and_missing_baseline_plots():
    """Follow-up plots absent from the baseline file are reported and left out."""
    base = horizons([("a", 2015, "1", 0, 30, 10.0, 1.5), ("b", 2015, "1", 0, 30, 10.0, 1.5)])
    follow = horizons([("a", 2021, "1", 0, 30, 10.6, 1.5), ("c", 2021, "1", 0, 30, 10.0, 1.5)])
    result = compare_samplings(
        follow, (30.0,), baseline=base, mass_basis="total", file="t1.csv", baseline_file="t0.csv"
    )
    rules = {(p.plot_id, p.rule, p.file, p.row) for p in result.problems}
    assert rules == {("c", "not_in_baseline", "t1.csv", 2), ("b", "one_sampling", "t0.csv", 2)}
    row = result.plots.iloc[0]
    assert (row["plot_id"], row["years"]) == ("a", 6.0)
    assert row["esm_change_t_ha"] == pytest.approx(2.7)
    # Without sampled_on the samplings are labelled and the time is unknown.
    result = compare_samplings(follow.drop(columns="sampled_on"), (30.0,), baseline=base.drop(columns="sampled_on"))
    row = result.plots.iloc[0]
    assert (row["baseline_sampled_on"], row["sampled_on"]) == ("baseline", "follow-up")
    assert np.isnan(row["rate_per_mille"]) and row["meets_4p1000"] is pd.NA


def test_needs_a_sampling_column():
    with pytest.raises(InputError, match="sampled_on"):
        compare_samplings(horizons([("p", 2015, "1", 0, 30, 10.0, 1.5)]).drop(columns="sampled_on"))


# ----------------------------------------------------------------------------------------
# Properties
# ----------------------------------------------------------------------------------------

layer_lists = st.lists(
    st.tuples(st.integers(1, 40), st.floats(1.0, 40.0), st.floats(0.9, 1.7)), min_size=1, max_size=5
)


def profile_rows(plot, year, layers):
    rows, top = [], 0
    for thickness, soc, bd in layers:
        rows.append((plot, year, "1", top, top + thickness, soc, bd))
        top += thickness
    return rows


@settings(max_examples=30, deadline=None)
@given(base=layer_lists, follow=layer_lists, which=st.integers(0, 4), share=st.floats(0.1, 0.9),
       depth=st.floats(1.0, 30.0), method=st.sampled_from(["linear", "ellert_bettany", "fowler", "elementary_layers",
                                                           "fixed_depth"]))
def test_splitting_a_layer_changes_nothing(base, follow, which, share, depth, method):
    """Property: cutting a follow-up layer in two with the same SOC and BD leaves its stock.

    Holds for every method that treats a layer as uniform. It does not hold for the cubic
    spline, whose shape depends on where the knots are (see docs/esm.md).
    """
    which = which % len(follow)
    thickness, soc, bd = follow[which]
    upper = max(1, min(thickness - 1, round(thickness * share)))
    split = follow[:which] + [(upper, soc, bd), (thickness - upper, soc, bd)] + follow[which + 1:]
    if thickness < 2:
        split = follow
    kw = {"method": method, "mass_basis": "total"}
    whole = core_stocks(horizons(profile_rows("p", 1, base) + profile_rows("p", 2, follow)), (depth,), **kw).cores
    cut = core_stocks(horizons(profile_rows("p", 1, base) + profile_rows("p", 2, split)), (depth,), **kw).cores
    np.testing.assert_allclose(cut["esm_stock_t_ha"], whole["esm_stock_t_ha"], rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(cut["fixed_depth_stock_t_ha"], whole["fixed_depth_stock_t_ha"], rtol=1e-9, atol=1e-9)


@settings(max_examples=30, deadline=None)
@given(layers=layer_lists, factors=st.lists(st.floats(0.5, 1.5), min_size=5, max_size=5),
       method=st.sampled_from(["spline", "linear", "ellert_bettany", "fowler", "elementary_layers"]),
       basis=st.sampled_from(["total", "mineral"]))
def test_unchanged_density_gives_fixed_depth(layers, factors, method, basis):
    """Property: with the same BD (and SOM) at both samplings, ESM stock = fixed-depth stock.

    SOC may change; the soil mass to each depth does not, so the reference masses are the
    follow-up core's own masses. Standard depths are layer boundaries (between boundaries
    the cubic spline is not the layer-uniform fixed-depth stock).
    """
    follow = [(t, soc * f, bd) for (t, soc, bd), f in zip(layers, factors)]
    depths = np.cumsum([t for t, _, _ in layers]).astype(float)
    data = horizons(profile_rows("p", 2000, layers) + profile_rows("p", 2010, follow), som_pct=3.0)
    cores = core_stocks(data, depths, method=method, mass_basis=basis).cores
    follow_cores = cores[~cores["is_baseline"]]
    np.testing.assert_allclose(follow_cores["esm_stock_t_ha"], follow_cores["fixed_depth_stock_t_ha"], rtol=1e-9)
    assert not follow_cores["extrapolated"].any()


def test_percentiles_match_numpy():
    """The one-sort percentile used for the bootstrap interval equals numpy's linear method."""
    from fourp1000.esm.bootstrap import percentiles

    samples = np.random.default_rng(5).normal(size=(7, 999))
    low, high = percentiles(samples, [0.025, 0.975])
    np.testing.assert_allclose(np.c_[low, high], np.quantile(samples, [0.025, 0.975], axis=1).T, rtol=1e-12)
