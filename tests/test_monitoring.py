"""Monitoring data: `score/project --observed`, `compare --depth-tolerance/--strict/--baseline-sampling`,
and real monitoring files (von Haden et al. 2020) through the command line with a column map."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from fourp1000.cli import main
from fourp1000.stocks.trend import plot_observed_rates, sampling_stocks

ATTRS = "climate_zone,soil_class,land_use,tillage,input_level"
ATTR_VALUES = "cool_temperate_moist,high_activity_clay,cropland,full,medium"


@pytest.fixture
def runner():
    return CliRunner()


def csv_of(result, skip_farms: bool = False) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.stdout))


def long_series(n_cores: int = 2) -> pd.DataFrame:
    """3 plots x 6 samplings 1960-2015, ``n_cores`` cores of one 0-30 cm layer each, known BD."""
    rng = np.random.default_rng(7)
    rows = []
    for plot, slope, area in (("LT-1", 0.30, 1.0), ("LT-2", 0.05, 2.0), ("LT-3", -0.10, 1.5)):
        for year in range(1960, 2016, 11):
            for core in range(1, n_cores + 1):
                stock = 48.0 + slope * (year - 1960) + rng.normal(0, 0.7)
                bd = round(1.30 + rng.normal(0, 0.02), 3)
                rows.append({"plot_id": plot, "farm_id": "Station", "area_ha": area, "sampled_on": year,
                             "core_id": core, "top_cm": 0, "bottom_cm": 30,
                             "soc_g_kg": round(stock / (bd * 3.0), 4), "bulk_density_g_cm3": bd,
                             **dict(zip(ATTRS.split(","), ATTR_VALUES.split(","))), "input_level": "medium"})
    return pd.DataFrame(rows)


@pytest.fixture
def series_csv(tmp_path):
    path = tmp_path / "series.csv"
    long_series().to_csv(path, index=False)
    return path


def hand_points(frame: pd.DataFrame) -> pd.DataFrame:
    """Per plot and year: the mean over cores of SOC x BD x 30 cm / 10 [t C/ha], computed here."""
    stock = frame["soc_g_kg"] * frame["bulk_density_g_cm3"] * 30 / 10
    return frame.assign(stock=stock).groupby(["plot_id", "sampled_on"], as_index=False)["stock"].mean()


# ---------------------------------------------------------------------------------------------
# score / project --observed
# ---------------------------------------------------------------------------------------------

def test_score_observed_matches_linregress_on_the_sampling_means(runner, series_csv):
    """The observed rate is the least-squares slope over the sampling means (scipy.stats.linregress),
    its standard error, per mille of the first sampling's stock and the verdict at --confidence."""
    result = runner.invoke(main, ["score", str(series_csv), "--observed", "--confidence", "0.8", "-f", "json"])
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)
    plots = pd.DataFrame(doc["plots"]).set_index("plot_id")
    points = hand_points(long_series())
    for plot, rows in points.groupby("plot_id"):
        fit = stats.linregress(rows["sampled_on"].to_numpy(float), rows["stock"].to_numpy(float))
        got = plots.loc[plot]
        assert got["n_samplings"] == 6
        assert got["observed_rate_t_ha_yr"] == pytest.approx(fit.slope, rel=1e-4)
        assert got["observed_rate_se_t_ha_yr"] == pytest.approx(fit.stderr, rel=1e-3)
        first = rows["stock"].iloc[0]
        assert got["observed_rate_per_mille"] == pytest.approx(fit.slope / first * 1000, rel=1e-4)
        lower = fit.slope - stats.t.ppf(0.8, 4) * fit.stderr
        assert got["observed_meets_4p1000"] == bool(lower >= 0.004 * first)
    assert plots.loc["LT-1", "observed_meets_4p1000"] and not plots.loc["LT-3", "observed_meets_4p1000"]
    # The projection still starts from the latest sampling only, and says so.
    assert (plots["sampled_on"].astype(str) == "2015").all()
    assert doc["meta"]["rows_used_for_observed_rate_only"] == 30 and doc["meta"]["rows_not_needed"] == 0
    assert any(m.startswith("observed rate (--observed)") for m in doc["meta"]["methods"])
    assert result.stderr.splitlines()[-1].startswith(
        "36 rows read: 3 plots scored from their latest sampling (2015), 30 rows of earlier samplings used for the "
        "observed rate only, 0 rejected;")


def test_without_observed_nothing_changes(runner, series_csv):
    result = runner.invoke(main, ["project", str(series_csv), "-f", "csv", "-q"])
    assert "observed_rate_t_ha_yr" not in csv_of(result).columns
    assert "30 rows of earlier samplings not used" in runner.invoke(main, ["project", str(series_csv), "-f", "csv"]).stderr


def test_observed_with_two_samplings_has_a_rate_but_no_verdict_at_confidence(runner, tmp_path):
    frame = long_series(n_cores=1)
    frame = frame[frame["sampled_on"].isin([1960, 2015])]
    path = tmp_path / "two.csv"
    frame.to_csv(path, index=False)
    plots = csv_of(runner.invoke(main, ["project", str(path), "--observed", "-f", "csv", "-q"]))
    assert (plots["n_samplings"] == 2).all()
    points = hand_points(frame)
    change = points.groupby("plot_id")["stock"].agg(lambda s: (s.iloc[1] - s.iloc[0]) / 55)
    np.testing.assert_allclose(plots.set_index("plot_id")["observed_rate_t_ha_yr"], change, rtol=1e-4)
    assert plots["observed_rate_se_t_ha_yr"].isna().all() and plots["observed_meets_4p1000"].isna().all()


def test_cores_of_one_campaign_on_different_days_are_one_sampling(runner, tmp_path):
    frame = long_series()
    frame["sampled_on"] = frame["sampled_on"].astype(str) + np.where(frame["core_id"] == 1, "-03-02", "-04-20")
    path = tmp_path / "days.csv"
    frame.to_csv(path, index=False)
    plots = csv_of(runner.invoke(main, ["project", str(path), "--observed", "-f", "csv", "-q"]))
    assert (plots["n_samplings"] == 6).all()


def test_a_bad_row_of_an_earlier_sampling_is_rejected_and_counted(runner, tmp_path):
    frame = long_series()
    frame.loc[0, "bulk_density_g_cm3"] = -1.0  # LT-1, 1960, core 1
    path, rejects = tmp_path / "bad.csv", tmp_path / "rejects.csv"
    frame.to_csv(path, index=False)
    failed = runner.invoke(main, ["project", str(path), "--observed", "-f", "csv"])
    assert failed.exit_code == 1 and "row 2" in failed.stderr
    result = runner.invoke(main, ["project", str(path), "--observed", "-f", "csv", "--on-error", "skip",
                                  "--rejects", str(rejects)])
    assert result.exit_code == 0, result.stderr
    rejected = pd.read_csv(rejects)
    assert rejected["row"].tolist() == [2]
    assert rejected["reason"].iloc[0].startswith("left out of the observed rate: ")
    assert "29 rows of earlier samplings used for the observed rate only, 1 rejected" in result.stderr
    plots = csv_of(result).set_index("plot_id")
    assert plots.loc["LT-1", "n_samplings"] == 6  # the 1960 sampling keeps its other core


def test_observed_with_every_sampling_projected(runner, series_csv):
    plots = csv_of(runner.invoke(main, ["project", str(series_csv), "--observed", "--sampling", "all", "-f", "csv",
                                        "-q"]))
    assert len(plots) == 18 and (plots["n_samplings"] == 6).all()
    assert plots.groupby("plot_id")["observed_rate_t_ha_yr"].nunique().eq(1).all()


def test_sampling_stocks_and_rates_units():
    """Per-core stocks -> per-sampling means (sd, se over cores) -> one rate per plot; undated samplings
    are points without a time."""
    rec = pd.DataFrame({"plot_id": ["A"] * 5 + ["B"], "sampled_on": ["2000", "2000", "2010", "2020", "x", "2000"],
                        "soc_stock_t_ha": [40.0, 42.0, 43.0, 45.0, 50.0, 30.0], "farm_id": "F"})
    s = sampling_stocks(rec)
    assert s["plot_id"].tolist() == ["A", "A", "A", "A", "B"]
    assert s.loc[0, "stock_t_ha"] == 41.0 and s.loc[0, "stock_sd_t_ha"] == pytest.approx(np.sqrt(2.0))
    assert s.loc[0, "stock_se_t_ha"] == pytest.approx(1.0)
    assert np.isnan(s.loc[3, "year"])  # "x"
    rates = plot_observed_rates(s).set_index("plot_id")
    fit = stats.linregress([2000.0, 2010.0, 2020.0], [41.0, 43.0, 45.0])
    assert rates.loc["A", "n_samplings"] == 3
    assert rates.loc["A", "observed_rate_t_ha_yr"] == pytest.approx(fit.slope)
    assert rates.loc["B", "n_samplings"] == 1 and np.isnan(rates.loc["B", "observed_rate_t_ha_yr"])


# ---------------------------------------------------------------------------------------------
# compare: depth tolerance, plausibility, baseline sampling
# ---------------------------------------------------------------------------------------------

GAPPY = """plot_id,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3
A,2020,0,10,2.5,1.25
A,2020,11,30,1.5,1.30
A,2025,0,10,2.6,1.25
A,2025,10,30,1.6,1.32
"""


def test_compare_depth_tolerance_closes_the_gap_with_a_warning(runner):
    failed = runner.invoke(main, ["compare", "-", "-f", "csv"], input=GAPPY)
    assert failed.exit_code == 1 and "layer starts at 11 cm" in failed.stderr
    result = runner.invoke(main, ["compare", "-", "-f", "csv", "--depth-tolerance", "1"], input=GAPPY)
    assert result.exit_code == 0, result.stderr
    assert ("warning: <stdin>: row 3, column top_cm: gap of 1 cm with the layer above closed at 10.5 cm "
            "(--depth-tolerance 1)") in result.stderr
    row = csv_of(result).iloc[0]
    # 0-10.5 cm at 2.5 % and 10.5-30 cm at 1.5 %: the fixed-depth stock of the adjoined core.
    assert row["baseline_fixed_depth_stock_t_ha"] == pytest.approx(25 * 1.25 * 10.5 / 10 + 15 * 1.30 * 19.5 / 10)
    assert result.stderr.splitlines()[-1].startswith("4 rows read: 4 used, 0 not needed, 0 rejected")


IMPLAUSIBLE = GAPPY.replace("A,2020,11,30", "A,2020,10,30") + "B,2020,0,30,1.2,1.30\nB,2025,0,30,25,1.30\n"


def test_compare_plausibility_warns_and_strict_rejects(runner, tmp_path):
    result = runner.invoke(main, ["compare", "-", "-f", "csv"], input=IMPLAUSIBLE)
    assert result.exit_code == 0, result.stderr
    assert "warning: <stdin>: row 7, column soc_pct: SOC 25 % is organic material" in result.stderr
    assert result.stderr.splitlines()[-1].endswith("; 1 plausibility warning (--strict rejects them)")
    meta = json.loads(runner.invoke(main, ["compare", "-", "-f", "json", "-q"], input=IMPLAUSIBLE).stdout)["meta"]
    assert meta["plausibility_warnings"] == 1
    assert runner.invoke(main, ["compare", "-", "--strict"], input=IMPLAUSIBLE).exit_code == 1
    rejects = tmp_path / "r.csv"
    strict = runner.invoke(main, ["compare", "-", "-f", "csv", "--strict", "--on-error", "skip", "--rejects",
                                  str(rejects)], input=IMPLAUSIBLE)
    assert strict.exit_code == 0
    assert csv_of(strict)["plot_id"].tolist() == ["A"]
    table = pd.read_csv(rejects).set_index("row")
    assert table.loc[7, "reason"].startswith("SOC 25 % is organic material")
    assert strict.stderr.splitlines()[-1].startswith("6 rows read: 4 used, 0 not needed, 2 rejected")


LABELLED = """plot_id,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3
A,before,0,30,1.5,1.30
A,after,0,30,1.7,1.30
"""


def test_labelled_samplings_baseline_is_said_and_can_be_named(runner):
    guessed = runner.invoke(main, ["compare", "-", "-f", "csv", "--years", "10"], input=LABELLED)
    assert "each plot's baseline is its first label in text order (e.g. after)" in guessed.stderr
    assert csv_of(guessed).iloc[0]["baseline_sampled_on"] == "after"
    named = runner.invoke(main, ["compare", "-", "-f", "csv", "--years", "10", "--baseline-sampling", "before"],
                          input=LABELLED)
    row = csv_of(named).iloc[0]
    assert (row["baseline_sampled_on"], row["sampled_on"]) == ("before", "after")
    assert row["fixed_depth_change_t_ha"] == pytest.approx((17 - 15) * 1.3 * 30 / 10)
    assert row["annual_change_t_ha_yr"] == pytest.approx(row["esm_change_t_ha"] / 10)
    assert "text order" not in named.stderr
    missing = runner.invoke(main, ["compare", "-", "--years", "10", "--baseline-sampling", "T0"], input=LABELLED)
    assert missing.exit_code == 1 and "--baseline-sampling" in missing.stderr


# ---------------------------------------------------------------------------------------------
# von Haden et al. (2020) example files as published, through the command line
# ---------------------------------------------------------------------------------------------

#: Their headers to ours, with units as their metadata sheet defines them. A core is (Ref_ID,
#: ID, Rep); Ref_ID names the cores whose masses are the reference: our plot.
VON_HADEN_MAP = """\
Ref_ID: plot_id
ID: sampled_on
Rep: core_id
Upper_cm: {column: top, unit: cm}
Lower_cm: {column: bottom, unit: cm}
SOC_pct: {column: soc, unit: "%"}
SOM_pct: {column: som, unit: "%"}
BD_g_cm3: {column: bulk_density, unit: g/cm3}
"""


@pytest.mark.reference
@pytest.mark.parametrize(("sheet", "options"), [
    ("a_temporal_paired", ["--years", "5"]),
    ("c_comparative", []),
    ("d_protocol", ["--baseline-sampling", "PROTOCOL_1"]),
])
def test_von_haden_files_through_the_cli_reproduce_their_outputs(runner, reference_dir, tmp_path, sheet, options):
    """``compare FILE --columns MAP --depth 10,30,50,100 --cores CORES`` on the published example sheets
    gives the FD and ESM stock of every core and depth of von Haden et al.'s own R output
    (FD_ESM_output_<sheet>__{FD,ESM}.csv, g cm-2 x 100 = t C/ha) within 0.01 t C/ha, and accounts
    for every row."""
    folder = reference_dir / "esm" / "vonhaden2020"
    columns, cores = tmp_path / "map.yaml", tmp_path / "cores.csv"
    columns.write_text(VON_HADEN_MAP)
    result = runner.invoke(main, ["compare", str(folder / f"Example_datasets__{sheet}.csv"), "--columns", str(columns),
                                  "--depth", "10,30,50,100", "--cores", str(cores), "-f", "csv", *options])
    assert result.exit_code == 0, result.stderr
    n = 28 if sheet == "d_protocol" else 24
    assert result.stderr.splitlines()[-1].startswith(f"{n} rows read: {n} used, 0 not needed, 0 rejected")
    ours = pd.read_csv(cores)
    for kind, column in (("ESM", "esm_stock_t_ha"), ("FD", "fixed_depth_stock_t_ha")):
        expected = pd.read_csv(folder / f"FD_ESM_output_{sheet}__{kind}.csv")
        merged = expected.merge(ours, left_on=["ID", "Rep", "Lower_cm"], right_on=["sampled_on", "core_id", "depth_cm"],
                                validate="one_to_one")
        assert len(merged) == len(expected) == n
        np.testing.assert_allclose(merged[column], merged["Cum_SOC_g_cm2"] * 100, atol=0.01, rtol=0)
    # The plot rows: each follow-up sampling's mean over its cores, against the baseline's.
    esm = pd.read_csv(folder / f"FD_ESM_output_{sheet}__ESM.csv")
    plots = csv_of(result)
    for row in plots.itertuples():
        follow = esm[(esm["ID"] == row.sampled_on) & (esm["Lower_cm"] == row.depth_cm)]["Cum_SOC_g_cm2"].mean() * 100
        base = esm[(esm["ID"] == row.baseline_sampled_on) & (esm["Lower_cm"] == row.depth_cm)]["Cum_SOC_g_cm2"]
        assert row.esm_stock_t_ha == pytest.approx(follow, abs=0.01)
        assert row.esm_change_t_ha == pytest.approx(follow - base.mean() * 100, abs=0.01)


@pytest.mark.reference
def test_von_haden_random_design_through_the_cli(runner, reference_dir, tmp_path):
    """Sheet b (three random cores per year, its R output kept back): every row used; compaction
    without carbon change gives a fixed-depth gain that the ESM change does not show."""
    folder = reference_dir / "esm" / "vonhaden2020"
    columns = tmp_path / "map.yaml"
    columns.write_text(VON_HADEN_MAP)
    result = runner.invoke(main, ["compare", str(folder / "Example_datasets__b_temporal_random.csv"), "--columns",
                                  str(columns), "--years", "5", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    assert result.stderr.splitlines()[-1].startswith("24 rows read: 24 used, 0 not needed, 0 rejected; 1 plots")
    row = csv_of(result).iloc[0]
    assert (row["n_baseline_cores"], row["n_cores"], row["years"]) == (3, 3, 5)
    assert row["fixed_depth_change_t_ha"] > 1.5 and abs(row["esm_change_t_ha"]) < 0.5


# ---------------------------------------------------------------------------------------------
# report: measured stocks over time
# ---------------------------------------------------------------------------------------------

def test_report_draws_measured_stocks_per_farm(runner, tmp_path):
    """Two farms with several samplings: one figure each; a farm's point is the area-weighted mean
    of its plots' means over cores, with the standard error sqrt(sum (a se)^2) / sum a."""
    from fourp1000 import read
    from fourp1000.projection.table import ProjectOptions, project_table
    from fourp1000.report.numbers import measured_stocks

    frame = long_series()
    north = frame[frame["plot_id"] != "LT-3"].assign(farm_id="North", plot_id=lambda f: "N-" + f["plot_id"])
    path = tmp_path / "farms.csv"
    pd.concat([frame, north]).to_csv(path, index=False)
    out = tmp_path / "r.html"
    result = runner.invoke(main, ["report", str(path), "-o", str(out)], env={"SOURCE_DATE_EPOCH": "0"})
    assert result.exit_code == 0, result.stderr
    html = out.read_text()
    assert html.count('<figure class="measured"') == 2 and 'data-farm="North"' in html
    again = tmp_path / "r2.html"
    runner.invoke(main, ["report", str(path), "-o", str(again)], env={"SOURCE_DATE_EPOCH": "0"})
    assert again.read_text() == html  # deterministic SVG

    measured = measured_stocks(project_table(read(str(path)), ProjectOptions(observed=True)))
    assert measured.key == "farm_id"
    station = measured.frame[measured.frame["farm_id"] == "Station"].reset_index(drop=True)
    stock = frame["soc_g_kg"] * frame["bulk_density_g_cm3"] * 3.0
    by = frame.assign(stock=stock).groupby(["sampled_on", "plot_id"])["stock"]
    mean, se = by.mean().unstack(), (by.std() / np.sqrt(2)).unstack()
    area = frame.groupby("plot_id")["area_ha"].first()
    np.testing.assert_allclose(station["stock_t_ha"], (mean * area).sum(axis=1) / area.sum(), rtol=1e-4)
    np.testing.assert_allclose(station["se_t_ha"], np.sqrt(((se * area) ** 2).sum(axis=1)) / area.sum(), rtol=1e-3)
    first = station["stock_t_ha"].iloc[0]
    np.testing.assert_allclose(station["path_4p1000"], first * (1 + 0.004 * (station["year"] - station["year"][0])))


def test_report_without_several_samplings_has_no_measured_section(runner, examples_dir, tmp_path):
    out = tmp_path / "r.html"
    assert runner.invoke(main, ["report", str(examples_dir / "plots.csv"), "-o", str(out), "-q"]).exit_code == 0
    assert 'id="measured"' not in out.read_text()
