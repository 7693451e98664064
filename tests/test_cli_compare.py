"""CLI tests for `fourp1000 compare` (equivalent soil mass monitoring)."""

import io
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

CAMPAIGNS = """plot_id,farm_id,area_ha,core_id,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3
A,F,2,1,2020,0,10,2.5,1.25
A,F,2,1,2020,10,30,1.5,1.30
A,F,2,2,2020,0,10,2.4,1.20
A,F,2,2,2020,10,30,1.6,1.32
A,F,2,1,2025,0,10,2.6,1.40
A,F,2,1,2025,10,30,1.55,1.32
A,F,2,2,2025,0,10,2.5,1.38
A,F,2,2,2025,10,30,1.5,1.33
B,F,3,1,2020,0,30,1.2,1.30
"""


@pytest.fixture
def runner():
    return CliRunner()


def read(result):
    return pd.read_csv(io.StringIO(result.stdout))


def test_one_sampling_plot_fails_the_strict_run(runner):
    result = runner.invoke(main, ["compare", "-", "-f", "csv"], input=CAMPAIGNS)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "Error: 1 problem in input:",
        "  <stdin>: row 10, column plot_id: plot has one sampling only (2020): nothing to compare"]


def test_skip_compares_the_rest_and_accounts_for_rows(runner, tmp_path):
    rej = tmp_path / "r.csv"
    result = runner.invoke(main, ["compare", "-", "-f", "csv", "--on-error", "skip", "--rejects", str(rej)],
                           input=CAMPAIGNS)
    assert result.exit_code == 0, result.stderr
    plots = read(result)
    assert plots["plot_id"].tolist() == ["A"]
    row = plots.iloc[0]
    assert row["years"] == 5 and row["depth_cm"] == 30
    assert row["annual_change_t_ha_yr"] == pytest.approx(row["esm_change_t_ha"] / 5)
    assert row["rate_per_mille"] == pytest.approx(row["annual_change_t_ha_yr"] / row["baseline_stock_t_ha"] * 1000)
    assert 0 <= row["p_meets_4p1000"] <= 1
    assert pd.read_csv(rej)["row"].tolist() == [10]
    assert result.stderr.splitlines()[-1] == ("9 rows read: 8 used, 0 not needed, 1 rejected; 1 plots compared, "
                                              "1 of 1 meet 4 per 1000; 1 plots without a verdict "
                                              "(one sampling only: 1)")


def test_json_has_farms_and_cores(runner):
    result = runner.invoke(main, ["compare", "-", "-f", "json", "--on-error", "skip", "-q"], input=CAMPAIGNS)
    doc = json.loads(result.stdout)
    assert {"plots", "farms", "cores", "meta"} <= set(doc)
    farm = doc["farms"][0]
    plot = doc["plots"][0]
    assert farm["baseline_stock_t_c"] == pytest.approx(plot["baseline_stock_t_ha"] * 2)
    assert len(doc["cores"]) == 4


def test_depth_must_start_at_surface(runner):
    result = runner.invoke(main, ["compare", "-", "--depth", "10-30"], input=CAMPAIGNS)
    assert result.exit_code == 2 and "start at the surface" in result.stderr  # a bad option value: usage


@pytest.mark.reference
def test_von_haden_worked_case_through_the_cli(runner, reference_dir, tmp_path):
    """Y5_T1_P1_S1 against Y0_T1_P1_S1, 0-30 cm: fixed depth 72.54 vs ESM 70.31 t C/ha (von Haden et al. 2020)."""
    src = pd.read_csv(reference_dir / "esm" / "vonhaden2020" / "Example_datasets__a_temporal_paired.csv")
    ours = pd.DataFrame({
        "plot_id": src["ID"].str[3:], "sampled_on": src["ID"].str[1].astype(int) + 2000,
        "top_cm": src["Upper_cm"], "bottom_cm": src["Lower_cm"], "soc_pct": src["SOC_pct"],
        "som_pct": src["SOM_pct"], "bulk_density_g_cm3": src["BD_g_cm3"],
    })
    path = tmp_path / "a.csv"
    ours.to_csv(path, index=False)
    result = runner.invoke(main, ["compare", str(path), "-f", "csv", "--depth", "10,30", "-q"])
    assert result.exit_code == 0, result.stderr
    plots = read(result).set_index(["plot_id", "depth_cm"])
    case = plots.loc[("T1_P1_S1", 30)]
    assert case["fixed_depth_stock_t_ha"] == pytest.approx(72.54, abs=0.005)
    assert case["esm_stock_t_ha"] == pytest.approx(70.31, abs=0.005)
    assert case["baseline_stock_t_ha"] == pytest.approx(70.297, abs=0.005)


def test_cores_of_one_campaign_on_different_days_are_one_sampling(runner):
    """Cores of one campaign taken on different days are one sampling (dated by its first day), said."""
    text = CAMPAIGNS.replace("A,F,2,2,2020", "A,F,2,2,2020-01-20").replace("A,F,2,1,2020", "A,F,2,1,2020-01-10")
    result = runner.invoke(main, ["compare", "-", "-f", "csv", "--on-error", "skip"], input=text)
    assert result.exit_code == 0
    assert ("plot A: samplings 2020-01-10, 2020-01-20 are less than half a year apart: taken as one campaign, "
            "dated 2020-01-10") in result.stderr
    row = read(result).iloc[0]
    assert (row["baseline_sampled_on"], row["n_baseline_cores"], row["n_samplings"]) == ("2020-01-10", 2, 2)
    days = (pd.Timestamp("2020-01-10") - pd.Timestamp("1970-01-01")).days
    assert row["years"] == pytest.approx(2025 - (1970 + days / 365.2425), abs=1e-6)
    assert "one campaign" in row["notes"]


def test_campaigns_example(runner, examples_dir):
    result = runner.invoke(main, ["compare", str(examples_dir / "campaigns.csv"), "-f", "csv", "-q"])
    assert result.exit_code == 0, result.stderr
    plots = read(result).set_index("plot_id")
    # FS-01: topsoil compacted under reduced tillage, so fixed depth overstates the gain.
    assert plots.loc["FS-01", "fixed_depth_change_t_ha"] > plots.loc["FS-01", "esm_change_t_ha"] > 0
    assert plots.loc["FS-01", "n_cores"] == 3


def test_two_files_with_dates(runner, tmp_path):
    base = tmp_path / "base.csv"
    follow = tmp_path / "follow.csv"
    base.write_text("plot_id,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nA,2020,0,10,2.5,1.25\nA,2020,10,30,1.5,1.3\n")
    follow.write_text("plot_id,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nA,2025,0,10,2.45,1.41\nA,2025,10,30,1.44,1.32\n")
    result = runner.invoke(main, ["compare", str(follow), str(base), "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    row = read(result).iloc[0]
    assert (row["baseline_sampled_on"], row["sampled_on"], row["years"]) == (2020, 2025, 5)
    # von Haden's worked core, rounded: compaction makes fixed depth gain 2.3 t C/ha, ESM much less.
    assert row["fixed_depth_change_t_ha"] == pytest.approx(2.311, abs=1e-3)
    assert 0 < row["esm_change_t_ha"] < 1
    assert result.stderr.splitlines()[-1] == ("4 rows read: 4 used, 0 not needed, 0 rejected; 1 plots compared, "
                                              "0 of 1 meet 4 per 1000")


def test_two_files_without_dates_give_no_verdict(runner, tmp_path):
    base = tmp_path / "base.csv"
    follow = tmp_path / "follow.csv"
    base.write_text("plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nA,0,30,1.2,1.3\nB,0,30,1.2,1.3\n")
    follow.write_text("plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nA,0,30,1.3,1.3\nC,0,30,1,1.2\n")
    rej = tmp_path / "rej.csv"
    result = runner.invoke(main, ["compare", str(follow), str(base), "--on-error", "skip", "--rejects", str(rej),
                                  "--check", "-f", "csv"])
    assert result.exit_code == 3  # no verdict fails --check
    assert result.stderr.splitlines()[-1] == (
        "4 rows read: 2 used, 0 not needed, 2 rejected; 1 plots compared, 0 of 1 meet 4 per 1000; 3 plots without a "
        "verdict (not in the baseline file: 1, one sampling only: 1, sampling dates unknown (give the years between "
        "samplings): 1)")
    rejects = pd.read_csv(rej)
    # Files are named as given (two files of one name in two folders stay apart).
    assert sorted(zip(rejects["file"], rejects["row"])) == [(str(base), 3), (str(follow), 3)]
    assert read(result)["no_verdict_reason"].tolist() == ["sampling dates unknown (give the years between samplings)"]
    # --years N dates the pair: a verdict, and the reason is gone.
    result = runner.invoke(main, ["compare", str(follow), str(base), "--on-error", "skip", "--years", "10",
                                  "-f", "csv"])
    row = read(result).iloc[0]
    assert row["years"] == 10 and pd.isna(row["no_verdict_reason"])
    assert row["annual_change_t_ha_yr"] == pytest.approx(row["esm_change_t_ha"] / 10)
    assert row["observed_rate_t_ha_yr"] == pytest.approx(row["annual_change_t_ha_yr"])
    assert "undated samplings taken 10 years apart" in json.loads(runner.invoke(
        main, ["compare", str(follow), str(base), "--on-error", "skip", "--years", "10", "-f", "json"]
    ).stdout)["meta"]["methods"][0]
