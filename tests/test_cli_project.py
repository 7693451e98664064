"""CLI tests for `fourp1000 project`, `score` and `practices` (exact figures and exit codes)."""

import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

PLOTS = (
    "farm_id,plot_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,practices\n"
    "F1,A,10,warm_temperate_moist,HAC,cropland,full,medium,no_till;cover_crops\n"
    "F2,B,5,cool_temperate_dry,HAC,cropland,full,medium,reduced_tillage\n"
)


@pytest.fixture
def runner():
    return CliRunner()


def csv_out(result):
    return pd.read_csv(io.StringIO(result.stdout))


def test_project_ipcc_worked_example_from_a_plot_table(runner):
    """Issue acceptance: 2019 WTM HAC, full + medium -> no-till + cover crops: 44.16 -> 53.919, 11.05 per mille."""
    result = runner.invoke(main, ["project", "-", "-f", "csv"], input=PLOTS)
    assert result.exit_code == 0, result.stderr
    r = csv_out(result).set_index("plot_id")
    assert r.loc["A", "baseline_stock_t_ha"] == pytest.approx(44.16)
    assert r.loc["A", "final_stock_t_ha"] == pytest.approx(53.919, abs=5e-4)
    assert r.loc["A", "annual_change_t_ha_yr"] == pytest.approx(0.488, abs=5e-4)
    assert r.loc["A", "rate_per_mille"] == pytest.approx(11.05, abs=5e-3)
    assert bool(r.loc["A", "meets_4p1000"])
    # Cool temperate dry: reduced tillage factor 0.98 (2019) is a small loss.
    assert r.loc["B", "annual_change_t_ha_yr"] < 0 and not bool(r.loc["B", "meets_4p1000"])
    assert result.stderr.splitlines()[-1] == ("2 rows read, 2 plots scored, 0 rows rejected; 1 of 2 plots meet "
                                              "4 per 1000; 1 of 2 farms")


def test_project_check_exit_code(runner):
    result = runner.invoke(main, ["project", "-", "--check", "-q", "-f", "csv"], input=PLOTS)
    assert result.exit_code == 3
    only_a = PLOTS.splitlines()[0] + "\n" + PLOTS.splitlines()[1] + "\n"
    assert runner.invoke(main, ["project", "-", "--check", "-q", "-f", "csv"], input=only_a).exit_code == 0


def test_measured_stock_is_scaled_by_factor_ratio(runner):
    horizons = ("plot_id,climate_zone,soil_class,land_use,tillage,input_level,top_cm,bottom_cm,soc_g_kg,"
                "bulk_density_g_cm3\nM,warm_temperate_moist,HAC,cropland,full,medium,0,30,12.5,1.2\n")
    result = runner.invoke(main, ["project", "-", "--practice", "no_till", "--practice", "cover_crops", "-f", "csv"],
                           input=horizons)
    r = csv_out(result).iloc[0]
    assert r["baseline_stock_t_ha"] == pytest.approx(45.0)
    assert r["final_stock_t_ha"] == pytest.approx(45.0 * 1.10 * 1.11, rel=1e-6)


def test_trajectory_long_format(runner):
    result = runner.invoke(main, ["project", "-", "--trajectory", "--years", "25", "-f", "csv"], input=PLOTS)
    t = csv_out(result)
    a = t[t["plot_id"] == "A"].set_index("year")["stock_t_ha"]
    assert list(a.index) == list(range(0, 26))
    assert a[0] == pytest.approx(44.16) and a[10] == pytest.approx((44.16 + 53.919) / 2, abs=1e-3)
    assert a[20] == pytest.approx(a[25])  # constant after the 20-year transition


def test_unknown_zone_is_reported_by_row_and_skip_scores_the_rest(runner, tmp_path):
    bad = PLOTS + "F2,C,1,tropical_humid,HAC,cropland,full,medium,\n"
    result = runner.invoke(main, ["project", "-", "-f", "csv"], input=bad)
    assert result.exit_code == 1
    assert "row 4" in result.stderr and "tropical_humid" in result.stderr and "tropical_wet" in result.stderr
    rej = tmp_path / "rej.csv"
    result = runner.invoke(main, ["project", "-", "-f", "csv", "--on-error", "skip", "--rejects", str(rej)], input=bad)
    assert result.exit_code == 0
    assert sorted(csv_out(result)["plot_id"]) == ["A", "B"]
    assert pd.read_csv(rej)["row"].tolist() == [4]


def test_score_farms_area_weighted(runner):
    result = runner.invoke(main, ["score", "-", "-f", "json"], input=PLOTS)
    assert result.exit_code == 0
    farms = {f["farm_id"]: f for f in json.loads(result.stdout)["farms"]}
    assert farms["F1"]["baseline_stock_t_c"] == pytest.approx(441.6)
    assert farms["F1"]["n_plots"] == 1 and farms["F1"]["meets_4p1000"] is True
    assert farms["F2"]["meets_4p1000"] is False
    assert runner.invoke(main, ["score", "-", "--check", "-q"], input=PLOTS).exit_code == 3


def test_score_needs_area(runner):
    result = runner.invoke(main, ["score", "-"], input="plot_id,climate_zone,soil_class,land_use,tillage,input_level\n"
                                                      "A,warm_temperate_moist,HAC,cropland,full,medium\n")
    assert result.exit_code == 1 and "needs area_ha" in result.stderr


def test_score_example_file(runner, examples_dir):
    result = runner.invoke(main, ["score", str(examples_dir / "plots.csv"), "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    farms = csv_out(result)
    assert sorted(farms["farm_id"]) == ["beaulieu", "campo-alto", "shamba-moja"]
    assert farms["n_plots"].sum() == 10


def test_rates_method(runner):
    plot = "plot_id,climate_zone,soil_class,land_use,tillage,input_level\nA,warm_temperate_moist,HAC,cropland,full,medium\n"
    result = runner.invoke(main, ["project", "-", "--method", "rates", "--practice", "manure", "-f", "csv"], input=plot)
    r = csv_out(result).iloc[0]
    assert r["annual_change_t_ha_yr"] == pytest.approx(0.409, abs=1e-6)  # Bolinder et al. 2020


def test_practices_lists_catalogue(runner):
    result = runner.invoke(main, ["practices", "-f", "csv"])
    names = csv_out(result)["practice"].tolist()
    for name in ("reduced_tillage", "no_till", "cover_crops", "residue_retention", "manure", "agroforestry",
                 "improved_grassland", "set_aside"):
        assert name in names


def test_climate_zone_derived_from_climate_columns(runner):
    """Without climate_zone, the IPCC 2019 classification scheme derives it from mat_c, map_mm, pet_mm, elevation_m."""
    plots = ("plot_id,mat_c,map_mm,pet_mm,elevation_m,soil_class,land_use,tillage,input_level\n"
             "W,14.0,1200,800,200,HAC,cropland,full,medium\n")
    result = runner.invoke(main, ["project", "-", "-f", "csv", "-v"], input=plots)
    assert result.exit_code == 0, result.stderr
    r = csv_out(result).iloc[0]
    assert r["baseline_stock_t_ha"] == pytest.approx(44.16)  # warm temperate moist, HAC: 64 x 0.69
    assert "climate zone derived for 1 plots" in result.stderr
