"""RothC projections with practices (fourp1000.projection.rothc) and the CLI's --model.

Hand-checked cases use a constant climate (every month alike, moist, covered), for which
the monthly RothC-26.3 map is the same every month, C -> M C + u, and the equilibrium is
(I - M)^-1 u: computed here with the published equations of Coleman & Jenkinson (1996,
doi:10.1007/978-3-642-61094-3_17) in a few lines of numpy, not with the code under test:

* rate modifiers a = 47.91 / (exp(106.06 / (T + 18.27)) + 1), b = 1 (soil at field
  capacity: rain > 0.75 x pan evaporation), c = 0.6 (covered);
* retained fraction of pool j over a month exp(-k_j a b c / 12), k = 10, 0.3, 0.66, 0.02;
* decomposed C to BIO 0.46/(x+1), to HUM 0.54/(x+1), x = 1.67 (1.85 + 1.60 exp(-0.0786 clay));
* plant input split DPM/RPM by r/(1+r), 1/(1+r); farmyard manure 0.49/0.49/0/0.02;
* IOM = 0.049 SOC^1.139 (Falloon et al. 1998).
"""

from __future__ import annotations

import io
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.projection import tier1 as projection
from fourp1000.cli import main
from fourp1000.io.climate import climate_from_frame
from fourp1000.errors import InputError, UnknownFactorError
from fourp1000.practices import practice_names
from fourp1000.projection.rothc import land_use_defaults, practice_effects, project_rothc
from fourp1000.projection.rothc_inputs import format_cover_months, parse_cover_months

T_CONST, CLAY = 12.0, 25.0


def hand_unit_equilibrium(temperature_c: float, clay_pct: float, *, ratio: float = 1.44, fym: bool = False) -> float:
    """Active C at equilibrium [t C/ha] per 1 t C/ha/yr spread evenly over a constant, moist, covered year."""
    a = 47.91 / (math.exp(106.06 / (temperature_c + 18.27)) + 1.0)
    rate = a * 1.0 * 0.6
    f = np.exp(-np.array([10.0, 0.3, 0.66, 0.02]) * rate / 12.0)
    x = 1.67 * (1.85 + 1.60 * math.exp(-0.0786 * clay_pct))
    m = np.diag(f)
    m[2, :] += 0.46 / (x + 1.0) * (1.0 - f)
    m[3, :] += 0.54 / (x + 1.0) * (1.0 - f)
    u = np.array([0.49, 0.49, 0.0, 0.02]) if fym else np.array([ratio / (1 + ratio), 1 / (1 + ratio), 0.0, 0.0])
    return float(np.linalg.solve(np.eye(4) - m, u / 12.0).sum())


def falloon(soc: float) -> float:
    return 0.049 * soc ** 1.139


@pytest.fixture(scope="module")
def climate():
    """'const': every month 12 °C, 100 mm rain, 50 mm pan evaporation; 'season': a seasonal year."""
    months = np.arange(1, 13)
    const = pd.DataFrame({"climate_id": "const", "month": months, "temperature_c": T_CONST, "rain_mm": 100.0,
                          "evaporation_mm": 50.0})
    season = pd.DataFrame({"climate_id": "season", "month": months,
                           "temperature_c": 10 + 8 * np.sin((months - 4) / 12 * 2 * np.pi),
                           "rain_mm": [60, 50, 50, 45, 55, 50, 45, 50, 55, 65, 70, 65],
                           "evaporation_mm": [8, 15, 35, 60, 90, 110, 120, 100, 65, 35, 15, 8]})
    return climate_from_frame(pd.concat([const, season], ignore_index=True), label="clim.csv")


def _plots(**columns) -> pd.DataFrame:
    base = {"plot_id": ["p"], "land_use": ["perennial"], "clay_pct": [CLAY], "measured_stock_t_c_ha": [40.0],
            "climate_id": ["const"], "input_level": ["medium"], "cover_months": ["1-12"], "practices": [""]}
    base.update(columns)
    n = max(len(v) for v in base.values() if isinstance(v, list))
    frame = pd.DataFrame({k: (v * n if len(v) == 1 else v) if isinstance(v, list) else [v] * n
                          for k, v in base.items()})
    if "plot_id" not in columns:
        frame["plot_id"] = [f"p{i}" for i in range(n)]
    return frame


# --------------------------------------------------------------------------------------
# Coefficient tables
# --------------------------------------------------------------------------------------


def test_land_use_table_values_and_sources():
    """DPM/RPM of Coleman & Jenkinson (1996) section 1.3 and GSOCseq Table 6.1."""
    t = land_use_defaults()
    assert t.loc["cropland", "dpm_rpm_ratio"] == 1.44 and t.loc["perennial", "dpm_rpm_ratio"] == 1.44
    assert t.loc["grassland", "dpm_rpm_ratio"] == 0.67 and t.loc["set_aside", "dpm_rpm_ratio"] == 0.67
    assert not bool(t.loc["paddy", "supported"])
    assert t["source"].notna().all() and t["source"].str.contains("Coleman|GSOCseq").all()
    assert t.loc["cropland", "cover_months"] == "4-9" and t.loc["grassland", "cover_months"] == "1-12"


def test_every_catalogue_practice_has_a_sourced_rothc_mapping():
    t = practice_effects()
    assert set(t["practice"]) == set(practice_names())
    assert t["source"].notna().all()
    by = t.set_index(["practice", "effect"])["value"]
    # Typed from the sources cited in the table: Ruis et al. 2019 (3.37 t DM x 0.45), Poulton et al. 2018
    # (3.2 t C per 35 t FYM, 10 t applied), GSOCseq SSM high scenario (+20 %).
    # Seitz et al. (2022) via SoilManageR: shoots 1.253 t C at 180 days, 1.916 at 240, shoot:root 3.67,
    # exudates 0.31 of root C; the amount follows the plot's stand duration
    assert ("cover_crops", "plant_input_cover_crop") in by.index
    from fourp1000.projection.rothc_inputs import cover_crop_parameters
    assert cover_crop_parameters() == {"shoot_c_180_days": 1.253, "shoot_c_240_days": 1.916, "shoot_root_ratio": 3.67,
                                       "root_exudate_factor": 0.31, "stand_days_lost_per_spell": 30.44}
    assert by["manure", "fym_c_t_ha_yr"] == pytest.approx(10 * 3.2 / 35, abs=5e-4)
    assert by["improved_grassland", "plant_input_fraction"] == 0.20
    assert set(t.loc[t["practice"].isin(["no_till", "reduced_tillage"]), "effect"]) == {"none"}


# --------------------------------------------------------------------------------------
# Cover months
# --------------------------------------------------------------------------------------


def test_cover_month_specifications():
    cov, given_ = parse_cover_months(["4-9", "10-3", "1;2;3", "1,5-7", "all", "none", None, " "])
    as_months = [list(np.flatnonzero(cov[:, i]) + 1) for i in range(cov.shape[1])]
    assert as_months[:6] == [[4, 5, 6, 7, 8, 9], [1, 2, 3, 10, 11, 12], [1, 2, 3], [1, 5, 6, 7], list(range(1, 13)), []]
    assert given_.tolist() == [True] * 6 + [False, False]
    assert format_cover_months(cov[:, :6]).tolist() == ["4-9", "1-3;10-12", "1-3", "1;5-7", "1-12", "none"]


def test_unreadable_cover_months_name_the_rows():
    with pytest.raises(InputError) as info:
        parse_cover_months(["4-9", "4-13", "spring", "4-13"], source_row=[2, 3, 4, 5])
    assert str(info.value).startswith("cannot read cover_months '4-13' in row 3:")
    assert info.value.rows == [3, 4, 5]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=12, max_size=12))
def test_cover_months_format_round_trip(months):
    mask = np.asarray(months)[:, None]
    text = format_cover_months(mask)
    np.testing.assert_array_equal(parse_cover_months(text)[0], mask)


# --------------------------------------------------------------------------------------
# Hand-checked equilibria
# --------------------------------------------------------------------------------------


def test_fitted_input_matches_hand_computed_equilibrium(climate):
    """Inverse mode on a constant year: s = (SOC - IOM) / (equilibrium per unit input)."""
    r = project_rothc(_plots(measured_stock_t_c_ha=[40.0, 55.0], clay_pct=[25.0, 10.0]), climate).plots
    for stock, clay, row in zip((40.0, 55.0), (25.0, 10.0), r.itertuples()):
        iom = falloon(stock)
        assert row.iom_t_c_ha == pytest.approx(iom, rel=1e-12)
        expected = (stock - iom) / hand_unit_equilibrium(T_CONST, clay, ratio=1.44)
        assert row.plant_c_input_t_ha_yr == pytest.approx(expected, rel=1e-9)


def test_no_practice_keeps_the_measured_stock(climate):
    """Equilibrium initialisation: without practices every year ends at the measured stock (1e-6)."""
    plots = _plots(land_use=["cropland", "grassland", "perennial", "set_aside", "cropland"],
                   climate_id=["season", "season", "const", "season", "season"],
                   cover_months=[None, None, "1-12", None, "11-6"],
                   input_level=["low", "medium", "high", "medium", "high_manure"],
                   measured_stock_t_c_ha=[35.0, 80.0, 40.0, 50.0, 60.0], clay_pct=[5.0, 20.0, 25.0, 35.0, 50.0],
                   practices=["", "", "no_till", "", "reduced_tillage"])
    run = project_rothc(plots, climate, years=30)
    np.testing.assert_allclose(run.plots["final_stock_t_ha"], plots["measured_stock_t_c_ha"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(run.plots["equilibrium_stock_t_ha"], plots["measured_stock_t_c_ha"], rtol=0, atol=1e-6)
    traj = run.trajectory.pivot(index="year", columns="plot_id", values="stock_t_ha")
    assert traj.shape == (31, 5)
    np.testing.assert_allclose(traj.to_numpy() - plots["measured_stock_t_c_ha"].to_numpy(), 0.0, atol=1e-6)
    assert run.plots["meets_4p1000"].tolist() == [False] * 5
    assert run.plots["practices_without_rothc_effect"].tolist() == ["", "", "no_till", "", "reduced_tillage"]
    # The manured baseline carries 10 t FYM/ha/yr = 0.914 t C in its cycle (Poulton et al. 2018 ratio).
    assert run.plots["fym_c_input_t_ha_yr"].tolist() == [0, 0, 0, 0, 0.914]


def test_extra_input_moves_equilibrium_by_input_times_unit_equilibrium(climate):
    """improved_grassland adds 0.2 x the fitted input I with the same shape and ratio, so the
    equilibrium rises by dI x (SOC - IOM) / I = 0.2 (SOC - IOM); a 1500-year run gets there."""
    plots = _plots(land_use=["grassland"], practices=["improved_grassland"], measured_stock_t_c_ha=[60.0])
    short = project_rothc(plots, climate).plots.iloc[0]
    iom = falloon(60.0)
    assert short["added_c_input_t_ha_yr"] == pytest.approx(0.2 * short["plant_c_input_t_ha_yr"], rel=1e-12)
    per_unit = hand_unit_equilibrium(T_CONST, CLAY, ratio=0.67)
    assert short["equilibrium_stock_t_ha"] == pytest.approx(60.0 + short["added_c_input_t_ha_yr"] * per_unit, rel=1e-9)
    assert short["equilibrium_stock_t_ha"] == pytest.approx(60.0 + 0.2 * (60.0 - iom), rel=1e-9)
    long = project_rothc(plots, climate, years=1500).plots.iloc[0]
    assert long["final_stock_t_ha"] == pytest.approx(short["equilibrium_stock_t_ha"], abs=1e-3)
    # The approach is gradual: after 20 years the stock is between baseline and equilibrium.
    assert 60.0 < short["final_stock_t_ha"] < short["equilibrium_stock_t_ha"]


def test_manure_and_plant_input_differ_as_the_model_says(climate):
    """The same carbon as FYM (49 % DPM, 49 % RPM, 2 % HUM) or as crop input (DPM/RPM 1.44, 59 % DPM):
    the equilibrium rises by dI x the hand-computed unit equilibrium of each, FYM keeping more."""
    plots = _plots(practices=["manure"], input_level=["medium"])
    fym = project_rothc(plots, climate).plots.iloc[0]
    effects = practice_effects().copy()
    row = (effects["practice"] == "manure") & (effects["effect"] == "fym_c_t_ha_yr")
    effects.loc[row, ["effect", "months", "dpm_rpm_ratio"]] = ["plant_input_t_c_ha_yr", "all", 1.44]
    plant = project_rothc(plots, climate, effects=effects).plots.iloc[0]
    assert fym["added_fym_c_t_ha_yr"] == pytest.approx(0.914) and plant["added_plant_c_t_ha_yr"] == pytest.approx(0.914)
    per_fym = hand_unit_equilibrium(T_CONST, CLAY, fym=True)
    per_plant = hand_unit_equilibrium(T_CONST, CLAY, ratio=1.44)
    assert fym["equilibrium_stock_t_ha"] - 40.0 == pytest.approx(0.914 * per_fym, rel=1e-9)
    assert plant["equilibrium_stock_t_ha"] - 40.0 == pytest.approx(0.914 * per_plant, rel=1e-9)
    assert per_fym / per_plant > 1.1 and fym["final_stock_t_ha"] > plant["final_stock_t_ha"]


def test_set_aside_changes_cover_and_ratio(climate):
    """set_aside: permanent cover and DPM/RPM 0.67 for the same (fitted) input: more resistant
    material, a higher equilibrium, exactly IOM + I x unit equilibrium at 0.67."""
    plots = _plots(land_use=["cropland"], cover_months=["1-12"], practices=["set_aside"])
    r = project_rothc(plots, climate).plots.iloc[0]
    expected = falloon(40.0) + r["plant_c_input_t_ha_yr"] * hand_unit_equilibrium(T_CONST, CLAY, ratio=0.67)
    assert r["equilibrium_stock_t_ha"] == pytest.approx(expected, rel=1e-9)
    assert (r["land_use_new"], r["added_c_input_t_ha_yr"]) == ("set_aside", 0.0)
    assert r["dpm_rpm_ratio_new"] == pytest.approx(0.67, rel=1e-12)


def test_agroforestry_reaches_the_catalogue_factor(climate):
    """Tree litter is sized so the equilibrium is 1.25 x (cropland) or 1.19 x (grassland) the stock
    without trees (Cardinael et al. 2018); its DPM/RPM 0.25 lowers the mixture's ratio."""
    plots = _plots(land_use=["cropland", "grassland", "cropland"], climate_id=["season", "const", "season"],
                   cover_months=[None, None, None], practices=["agroforestry", "agroforestry", "agroforestry;manure"],
                   measured_stock_t_c_ha=[40.0, 70.0, 40.0])
    r = project_rothc(plots, climate).plots
    assert r["equilibrium_stock_t_ha"].iloc[0] == pytest.approx(1.25 * 40.0, rel=1e-9)
    assert r["equilibrium_stock_t_ha"].iloc[1] == pytest.approx(1.19 * 70.0, rel=1e-9)
    assert (r["tree_litter_c_t_ha_yr"] > 0).all()
    assert 0.25 < r["dpm_rpm_ratio_new"].iloc[0] < 1.44 and 0.25 < r["dpm_rpm_ratio_new"].iloc[1] < 0.67
    # With manure, trees scale the manured equilibrium: combinations multiply, as in the IPCC path.
    manure_only = project_rothc(plots.iloc[[2]].assign(practices="manure"), climate).plots.iloc[0]
    assert r["equilibrium_stock_t_ha"].iloc[2] == pytest.approx(1.25 * manure_only["equilibrium_stock_t_ha"], rel=1e-9)


def test_cover_crops_cover_only_the_grown_inner_fallow_months(climate):
    """Cover crop on a 4-9 crop: bare 10-3; sown in October, destroyed in March (inner months
    11-2); of those only November (6 °C) reaches the 5 °C growth threshold in 'season'."""
    plots = _plots(land_use=["cropland", "perennial"], climate_id=["season", "const"], cover_months=[None, "1-12"],
                   practices=["cover_crops", "cover_crops"])
    r = project_rothc(plots, climate).plots
    assert r["cover_months"].tolist() == ["4-9", "1-12"] and r["cover_months_new"].tolist() == ["4-9;11", "1-12"]
    # Bare October-March: the crop stands 6 months less one (sown and destroyed mid-month), under 180 days,
    # so its shoots are 1.253 t C x days / 180; roots / 3.67, exudates 0.31 x roots.
    days = 6 * 365.25 / 12 - 30.44
    c_input = 1.253 * days / 180 * (1 + 1.31 / 3.67)
    assert r["added_plant_c_t_ha_yr"].iloc[0] == pytest.approx(c_input, rel=1e-9)
    assert r["final_stock_t_ha"].iloc[0] > 40.0
    # Covered all year: no window for a cover crop; nothing changes, and the output says so.
    assert r["added_plant_c_t_ha_yr"].iloc[1] == 0.0 and r["final_stock_t_ha"].iloc[1] == pytest.approx(40.0, abs=1e-9)
    assert r["practices_without_rothc_effect"].iloc[1] == "cover_crops"


def test_cover_crop_input_follows_the_stand_duration():
    """A longer bare window (crop 5-8: bare September-April, 8 months) grows a longer stand
    (213 days, between Seitz et al.'s 180 and 240 days); two windows grow two crops."""
    from fourp1000.projection.rothc_inputs import cover_crop_c_input, parse_cover_months

    covered, _ = parse_cover_months(["5-8", "4-6;9-10", "none"])
    whole = 1 + 1.31 / 3.67
    month = 365.25 / 12
    long_stand = 8 * month - 30.44
    shoot_long = 1.253 + (long_stand - 180) * (1.916 - 1.253) / 60
    two = (2 * month - 30.44 + 5 * month - 30.44) * 1.253 / 180  # spells of 2 and 5 months, both < 180 days
    assert cover_crop_c_input(covered).tolist() == pytest.approx([shoot_long * whole, two * whole, 1.916 * whole],
                                                                 rel=1e-9)


def test_inner_fallow_months_wrap_around_the_new_year():
    from fourp1000.projection.rothc_inputs import inner_fallow, parse_cover_months

    covered, _ = parse_cover_months(["4-9", "3-10", "1-12", "none", "2-11"])
    inner = inner_fallow(covered)
    assert [np.flatnonzero(inner[:, j]).tolist() for j in range(5)] == [[0, 1, 10, 11], [0, 11], [], list(range(12)),
                                                                        []]


def test_residue_retention_only_where_residues_were_removed(climate):
    plots = _plots(land_use=["cropland", "cropland"], input_level=["low", "medium"],
                   practices=["residue_retention", "residue_retention"])
    r = project_rothc(plots, climate).plots
    assert r["added_plant_c_t_ha_yr"].iloc[0] == pytest.approx(0.5 * r["plant_c_input_t_ha_yr"].iloc[0], rel=1e-12)
    assert r["added_plant_c_t_ha_yr"].iloc[1] == 0.0 and r["final_stock_t_ha"].iloc[1] == pytest.approx(40.0, abs=1e-6)
    # residues already returned on a medium-input plot: not additional, not credited
    assert r["credited_practices"].tolist() == ["residue_retention", ""]
    assert r["not_credited"].tolist() == ["", "residue_retention (already in place: input_level medium)"]


def test_ipcc_default_stock_without_measurement(climate):
    plots = _plots(land_use=["cropland", "cropland"], measured_stock_t_c_ha=[np.nan, 40.0],
                   climate_zone="warm_temperate_moist", soil_class="HAC", tillage="full", input_level="medium",
                   practices=["cover_crops", "cover_crops"], cover_months=[None, None])
    r = project_rothc(plots, climate).plots
    ipcc = projection.project(plots, method="ipcc")
    assert r["baseline_source"].tolist() == ["ipcc_default", "measured"]
    # The worked example: 2019 warm temperate moist HAC, full tillage, medium input: 44.16 t C/ha.
    assert r["baseline_stock_t_ha"].iloc[0] == pytest.approx(ipcc["baseline_stock_t_ha"].iloc[0])
    assert r["baseline_stock_t_ha"].iloc[0] == pytest.approx(44.16)
    assert r["rate_per_mille"].iloc[0] < r["rate_per_mille"].iloc[1]  # the same cover crop on a larger stock


def test_batch_equals_plot_by_plot(climate):
    """Vectorised over plots: a batch gives each plot the result it gets alone."""
    plots = _plots(land_use=["cropland", "grassland", "cropland", "perennial"],
                   climate_id=["season", "const", "season", "const"], cover_months=[None, None, "3-10", None],
                   input_level=["low", "medium", "high_manure", "medium"],
                   practices=["cover_crops;residue_retention", "improved_grassland", "agroforestry", "manure;no_till"],
                   measured_stock_t_c_ha=[30.0, 75.0, 45.0, 52.0], clay_pct=[12.0, 30.0, 22.0, 41.0])
    batch = project_rothc(plots, climate)
    for i in range(len(plots)):
        alone = project_rothc(plots.iloc[[i]].reset_index(drop=True), climate)
        pd.testing.assert_frame_equal(batch.plots.iloc[[i]].reset_index(drop=True), alone.plots, rtol=1e-12)


def test_errors_name_rows_and_columns(climate):
    rows = {"source_row": [2, 3, 4]}
    with pytest.raises(InputError) as info:
        project_rothc(_plots(land_use=["perennial", "paddy", "paddy"], **rows), climate)
    assert str(info.value) == ("RothC-26.3 does not apply to flooded (paddy) soils in row 3 (and 1 more plots); "
                               "project them with --model ipcc")
    assert info.value.rows == [3, 4] and info.value.column == "land_use"
    with pytest.raises(InputError) as info:
        project_rothc(_plots(clay_pct=[20.0, np.nan, 120.0], **rows), climate)
    assert info.value.rows == [3, 4] and info.value.column == "clay_pct"
    with pytest.raises(UnknownFactorError) as info:
        project_rothc(_plots(climate_id=["const", "mars", "const"], **rows), climate)
    assert str(info.value) == "climate_id 'mars' is not in clim.csv in row 3; valid: const, season"
    with pytest.raises(InputError, match="whole number"):
        project_rothc(_plots(), climate, years=2.5)


def test_trajectory_starts_at_baseline_and_ends_at_final(climate):
    run = project_rothc(_plots(practices=["manure"]), climate, years=7)
    t = run.trajectory
    assert list(t.columns) == ["plot_id", "year", "stock_t_ha"] and t["year"].tolist() == list(range(8))
    assert t["stock_t_ha"].iloc[0] == 40.0 and t["stock_t_ha"].iloc[-1] == run.plots["final_stock_t_ha"].iloc[0]
    assert run.plots["annual_change_t_ha_yr"].iloc[0] == pytest.approx((t["stock_t_ha"].iloc[-1] - 40.0) / 7)
    assert np.all(np.diff(t["stock_t_ha"]) > 0)


# --------------------------------------------------------------------------------------
# CLI
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def runner():
    return CliRunner()


def _csv(result) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.stdout))


@pytest.fixture(scope="module")
def example_args(examples_dir):
    return [str(examples_dir / "plots.csv"), "--climate", str(examples_dir / "climate.csv")]


def test_cli_model_rothc_on_the_examples(runner, example_args):
    result = runner.invoke(main, ["project", *example_args, "--model", "rothc", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    r = _csv(result).set_index("plot_id")
    assert len(r) == 10 and set(r["model"]) == {"rothc"}
    ipcc = _csv(runner.invoke(main, ["project", example_args[0], "-f", "csv"])).set_index("plot_id")
    # Same measured baselines as the IPCC path; every example plot has a measured stock.
    pd.testing.assert_series_equal(r["baseline_stock_t_ha"], ipcc["baseline_stock_t_ha"])
    assert set(r["baseline_source"]) == {"measured"}
    assert r.loc["BL-01", "practices_without_rothc_effect"] == "no_till"
    assert r.loc["BL-01", "clay_pct"] == pytest.approx((24 * 10 + 25 * 20) / 30)  # 0-30 cm, thickness-weighted
    assert r.loc["SM-02", "not_credited"] == "residue_retention (already in place: input_level medium)"
    assert r.loc["CA-04", "equilibrium_stock_t_ha"] == pytest.approx(1.25 * r.loc["CA-04", "baseline_stock_t_ha"])
    # CA-03: an orchard covered all year leaves no window for a cover crop to add anything
    assert r.loc["CA-03", "practices_without_rothc_effect"] == "cover_crops" and r.loc["CA-03", "rate_per_mille"] == 0
    assert result.stderr.splitlines()[-1] == ("21 rows read, 10 plots scored, 0 rows rejected; rothc: 8 of 10 plots "
                                              "meet 4 per 1000, 3 of 3 farms")


def test_cli_both_models_side_by_side(runner, example_args):
    result = runner.invoke(main, ["project", *example_args, "--model", "ipcc,rothc", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    both = _csv(result)
    assert both["model"].tolist() == ["ipcc"] * 10 + ["rothc"] * 10
    ipcc_only = _csv(runner.invoke(main, ["project", example_args[0], "-f", "csv"]))
    ipcc_rows = both[both["model"] == "ipcc"][ipcc_only.columns].reset_index(drop=True)
    pd.testing.assert_frame_equal(ipcc_rows, ipcc_only, check_dtype=False)
    assert result.stderr.splitlines()[-1] == (
        "21 rows read, 10 plots scored, 0 rows rejected; ipcc: 8 of 10 plots meet 4 per 1000, 3 of 3 farms; "
        "rothc: 8 of 10 plots meet 4 per 1000, 3 of 3 farms")
    traj = _csv(runner.invoke(main, ["project", *example_args, "--model", "ipcc,rothc", "--trajectory", "-f", "csv"]))
    assert list(traj.columns) == ["model", "plot_id", "year", "stock_t_ha"] and len(traj) == 2 * 10 * 21
    final = traj[traj["year"] == 20].set_index(["model", "plot_id"])["stock_t_ha"]
    assert final.loc["rothc"].to_numpy() == pytest.approx(both[both["model"] == "rothc"]["final_stock_t_ha"].to_numpy())


def test_cli_score_aggregates_per_model(runner, example_args):
    result = runner.invoke(main, ["score", *example_args, "--model", "ipcc,rothc", "-f", "json", "-q"])
    assert result.exit_code == 0, result.stderr
    farms = pd.DataFrame(json.loads(result.stdout)["farms"])
    assert list(zip(farms["model"], farms["farm_id"])) == [
        (m, f) for m in ("ipcc", "rothc") for f in ("beaulieu", "campo-alto", "shamba-moja")]
    plots = pd.DataFrame(json.loads(result.stdout)["plots"])
    rothc_plots = plots[plots["model"] == "rothc"]
    beaulieu = rothc_plots[rothc_plots["farm_id"] == "beaulieu"]
    expected = (beaulieu["annual_change_t_ha_yr"] * beaulieu["area_ha"]).sum()
    assert farms.iloc[3]["annual_change_t_c_yr"] == pytest.approx(expected)


def test_cli_usage_errors(runner, example_args, tmp_path):
    result = runner.invoke(main, ["project", example_args[0], "--model", "rothc"])
    assert result.exit_code == 2 and "--model rothc needs a monthly climate table: --climate FILE" in result.stderr
    result = runner.invoke(main, ["project", *example_args, "--model", "century"])
    assert result.exit_code == 2 and "give ipcc, rothc or ipcc,rothc" in result.stderr
    bad = tmp_path / "clim.csv"
    text = Path(example_args[2]).read_text(encoding="utf-8").splitlines()
    bad.write_text("\n".join(t for i, t in enumerate(text) if i != 5) + "\n")  # drop month 5 of the first id
    result = runner.invoke(main, ["project", example_args[0], "--climate", str(bad), "--model", "rothc"])
    assert result.exit_code == 1
    assert "clim.csv: row 2, column month: climate_id 'cool_temperate_moist' lacks month 5" in result.stderr


def test_cli_skip_rejects_plots_rothc_cannot_run(runner, example_args, tmp_path):
    data = ("plot_id,land_use,climate_zone,soil_class,tillage,input_level,clay_pct,practices\n"
            "A,cropland,tropical_moist,LAC,full,medium,30,cover_crops\n"
            "B,paddy,tropical_moist,LAC,full,medium,30,\n"
            "C,cropland,boreal_moist,HAC,full,medium,20,\n")
    rej = tmp_path / "rej.csv"
    result = runner.invoke(main, ["project", "-", "--climate", example_args[2], "--model", "rothc", "-f", "csv",
                                  "--on-error", "skip", "--rejects", str(rej)], input=data)
    assert result.exit_code == 0, result.stderr
    assert _csv(result)["plot_id"].tolist() == ["A"]
    assert pd.read_csv(rej)["row"].tolist() == [3, 4]
    result = runner.invoke(main, ["project", "-", "--climate", example_args[2], "--model", "rothc"], input=data)
    assert result.exit_code == 1 and "row 3" in result.stderr


def test_result_columns_and_empty_input(climate):
    from fourp1000.projection.rothc import RESULT_COLUMNS

    plots = _plots(farm_id="F", area_ha=2.0, source_row=[7])
    r = project_rothc(plots, climate).plots
    assert list(r.columns) == ["plot_id", "farm_id", "area_ha", *RESULT_COLUMNS, "source_row"]
    empty = project_rothc(plots.iloc[:0], climate)
    assert list(empty.plots.columns) == list(r.columns) and len(empty.plots) == 0 and len(empty.trajectory) == 0
