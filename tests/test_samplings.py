"""Samplings over time (issue 12): `compare` on monitoring data, several samplings in `project`/`score`.

The data sets are built here, in the shapes of real monitoring data: a resampled network
whose first campaign has no bulk density and whose follow-up cores sometimes carry a
layer without SOC below the comparison depth, and a long-term experiment sampled eight
times.
"""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

import fourp1000
from fourp1000.cli import main
from fourp1000.stocks.ptf import estimate_bulk_density

LAYERS = ((0, 10), (10, 20), (20, 30))


def network() -> pd.DataFrame:
    """48 points sampled in 2008 (SOC only, no bulk density) and 2018 (with bulk density).

    Points 0-7 of 2018 carry a 30-50 cm layer without SOC; points 8-11 of 2018 give their
    bulk density on rows of their own (0-15 and 15-30 cm) rather than on the SOC rows.
    """
    rng = np.random.default_rng(12)
    rows = []
    for i in range(48):
        soc = 18.0 - 4.0 * np.arange(3) + rng.normal(0, 1.0, 3)
        bd = 1.25 + 0.08 * np.arange(3) + rng.normal(0, 0.03, 3)
        gain = rng.normal(0.6, 0.4)
        for (top, bottom), s in zip(LAYERS, soc):
            rows.append({"plot_id": f"N{i:02d}", "sampled_on": "2008-05-20", "top_cm": top, "bottom_cm": bottom,
                         "soc_g_kg": round(s, 2), "bulk_density_g_cm3": np.nan})
        for (top, bottom), s, b in zip(LAYERS, soc, bd):
            rows.append({"plot_id": f"N{i:02d}", "sampled_on": "2018-05-22", "top_cm": top, "bottom_cm": bottom,
                         "soc_g_kg": round(s + gain, 2), "bulk_density_g_cm3": np.nan if 8 <= i < 12 else round(b, 3)})
        if i < 8:
            rows.append({"plot_id": f"N{i:02d}", "sampled_on": "2018-05-22", "top_cm": 30, "bottom_cm": 50,
                         "soc_g_kg": np.nan, "bulk_density_g_cm3": np.nan})
        if 8 <= i < 12:
            for top, bottom, b in ((0, 15, 1.3), (15, 30, 1.4)):
                rows.append({"plot_id": f"N{i:02d}", "sampled_on": "2018-05-22", "top_cm": top, "bottom_cm": bottom,
                             "soc_g_kg": np.nan, "bulk_density_g_cm3": b})
    return pd.DataFrame(rows)


@pytest.fixture
def runner():
    return CliRunner()


@pytest.fixture
def network_csv(tmp_path):
    path = tmp_path / "network.csv"
    network().to_csv(path, index=False)
    return path


def csv(result) -> pd.DataFrame:
    return pd.read_csv(io.StringIO(result.stdout))


def test_resampled_network_is_compared(runner, network_csv, tmp_path):
    """The first campaign lacks bulk density and some follow-up cores have a SOC-less layer
    below 20 cm: before, "171 rows read, 0 plots compared"; now every plot is compared, the
    baseline bulk density estimated and flagged, the SOC-less layers not needed."""
    rej = tmp_path / "rej.csv"
    result = runner.invoke(main, ["compare", str(network_csv), "--depth", "20", "--on-error", "skip",
                                  "--rejects", str(rej), "-f", "csv", "--bootstrap", "0"])
    assert result.exit_code == 0, result.stderr
    plots = csv(result)
    n_rows = len(network())
    assert n_rows == 48 * 6 + 8 + 8
    assert len(plots) == 48 and plots["bd_estimated"].all()
    assert result.stderr.splitlines()[-1].startswith(
        f"{n_rows} rows read: {n_rows - 8} used, 8 not needed, 0 rejected; 48 plots compared")
    assert "Note: bulk density estimated for 144 layers with manrique_jones_1991 (--bd-ptf auto)" in result.stderr
    assert "Note: bulk density of 12 layers taken from bulk-density-only rows" in result.stderr
    assert plots.loc[plots["plot_id"] == "N00", "notes"].item() == (
        "bulk density of 3 layers estimated (PTF); 1 rows below the comparison depth ignored (no SOC or bulk density)")
    assert pd.read_csv(rej).empty
    assert plots["no_verdict_reason"].isna().all() and plots["meets_4p1000"].notna().all()


def test_network_changes_match_the_fixed_depth_stocks_of_estimate(runner, network_csv):
    """Same machinery: with no mass correction, the change is the difference of `estimate`'s
    0-20 cm stocks of the two campaigns (the 2008 bulk density from the same PTF)."""
    plots = fourp1000.compare(str(network_csv), depth=20, esm_method="fixed_depth", on_error="skip",
                              bootstrap=0).plots.set_index("plot_id")
    est = fourp1000.estimate(str(network_csv), depth=20).plots.pivot(index="plot_id", columns="sampled_on",
                                                                     values="soc_stock_t_ha")
    change = est["2018-05-22"] - est["2008-05-20"]
    np.testing.assert_allclose(plots["esm_change_t_ha"], change.reindex(plots.index), rtol=1e-9)
    # One baseline stock by hand: Manrique & Jones (1991) bulk density from SOC.
    layers = network().query("plot_id == 'N05' and sampled_on == '2008-05-20' and top_cm < 20")
    bd = estimate_bulk_density(layers["soc_g_kg"].to_numpy(), method="manrique_jones_1991").bulk_density_g_cm3
    by_hand = float(np.sum(layers["soc_g_kg"].to_numpy() * bd * 10 / 10))
    assert plots.at["N05", "baseline_stock_t_ha"] == pytest.approx(by_hand)


def test_measured_bulk_density_only_leaves_the_network_out(runner, network_csv, tmp_path):
    """--bd-ptf none: the 2008 cores have no bulk density; every row is rejected, with its reason."""
    rej = tmp_path / "rej.csv"
    result = runner.invoke(main, ["compare", str(network_csv), "--depth", "20", "--on-error", "skip", "--bd-ptf",
                                  "none", "--rejects", str(rej), "-f", "csv"])
    assert result.exit_code == 1
    rejects = pd.read_csv(rej)
    # Not needed: the 8 SOC-less layers, and the 2008 20-30 cm layers (no bulk density, below 20 cm).
    assert len(rejects) + 8 + 48 == len(network())
    assert "0 plots compared" in result.stderr
    assert set(rejects["reason"].str.split(":").str[0]) >= {"bulk_density_g_cm3 is missing", "plot not compared"}
    assert "48 plots without a verdict (no valid baseline core: 48)" in result.stderr


def test_too_shallow_follow_up_is_counted_rejected_and_explained(runner, tmp_path):
    """A follow-up core reaching 15 cm of a 20 cm comparison: its rows are rejected (counted, in
    --rejects), the plot has no empty row, the reason is the real one (not "dates unknown")."""
    data = network().query("plot_id in ['N20', 'N21']").copy()
    shallow = (data["plot_id"] == "N21") & (data["sampled_on"] == "2018-05-22")
    data = data[~shallow | (data["top_cm"] < 10)]
    data.loc[shallow & (data["top_cm"] == 0), "bottom_cm"] = 15
    path, rej = tmp_path / "two.csv", tmp_path / "rej.csv"
    data.to_csv(path, index=False)
    result = runner.invoke(main, ["compare", str(path), "--depth", "20", "--on-error", "skip", "--rejects", str(rej),
                                  "-f", "csv", "--bootstrap", "0"])
    assert result.exit_code == 0, result.stderr
    assert csv(result)["plot_id"].tolist() == ["N20"]
    rejects = pd.read_csv(rej)
    assert len(rejects) == 4  # N21: three baseline rows and the shallow core
    assert set(rejects["reason"]) == {"core reaches 15 cm only: no stock at 20 cm",
                                      "plot not compared: no core of the follow-up 2018-05-22 reaches 20 cm"}
    assert result.stderr.splitlines()[-1] == (
        "10 rows read: 6 used, 0 not needed, 4 rejected; 1 plots compared, 0 of 1 meet 4 per 1000; "
        "1 plots without a verdict (follow-up too shallow: 1)")


def test_no_extrapolate_gives_the_real_reason(runner, tmp_path):
    """--no-extrapolate: a follow-up lighter than the reference mass has no ESM stock; the plot is
    not compared "because extrapolation is off", not because "sampling dates unknown"."""
    rows = [("P", 2010, 0, 30, 12.0, 1.5), ("P", 2020, 0, 30, 13.0, 1.2), ("Q", 2010, 0, 30, 12.0, 1.3),
            ("Q", 2020, 0, 30, 13.0, 1.4)]
    path = tmp_path / "x.csv"
    pd.DataFrame(rows, columns=["plot_id", "sampled_on", "top_cm", "bottom_cm", "soc_g_kg",
                                "bulk_density_g_cm3"]).to_csv(path, index=False)
    result = runner.invoke(main, ["compare", str(path), "--no-extrapolate", "--on-error", "skip", "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    assert csv(result)["plot_id"].tolist() == ["Q"]
    assert "1 plots without a verdict (follow-up cores need extrapolation (off): 1)" in result.stderr
    assert "dates unknown" not in result.stderr


def test_skip_with_a_plot_of_invalid_rows_only_does_not_crash(runner, tmp_path):
    """Was: internal error ArrowInvalid "Could not convert 'plot has no valid comparison'"."""
    text = ("plot_id,sampled_on,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3\n"
            "A,2010,0,30,12,1.3\nA,2020,0,30,13,1.3\nB,2010,0,30,-5,1.3\nB,2020,0,30,x,1.3\n")
    path, rej = tmp_path / "bad.csv", tmp_path / "rej.csv"
    path.write_text(text)
    result = runner.invoke(main, ["compare", str(path), "--on-error", "skip", "--rejects", str(rej), "-f", "csv"])
    assert result.exit_code == 0, result.stderr
    assert "internal error" not in result.stderr
    assert pd.read_csv(rej)["row"].tolist() == [4, 5]  # lines of the file, the header is line 1
    assert result.stderr.splitlines()[-1].startswith("4 rows read: 2 used, 0 not needed, 2 rejected; 1 plots compared")


# ----------------------------------------------------------------------------------------
# A long-term experiment: 4 plots x 8 samplings, 1959-2014
# ----------------------------------------------------------------------------------------

YEARS = (1959, 1966, 1972, 1980, 1988, 1996, 2005, 2014)
TRENDS = {"LT-1": 0.02, "LT-2": 0.10, "LT-3": 0.25, "LT-4": -0.05}  # t C/ha/yr


def long_term() -> pd.DataFrame:
    """One 0-30 cm layer per plot and sampling (32 rows), IPCC attributes, bulk density measured."""
    rng = np.random.default_rng(59)
    rows = []
    for k, (plot, slope) in enumerate(TRENDS.items()):
        for year in YEARS:
            stock = 45.0 + slope * (year - 1959) + rng.normal(0, 0.8)
            bd = 1.35 + rng.normal(0, 0.02)
            rows.append({"plot_id": plot, "farm_id": "Station", "area_ha": 0.5, "sampled_on": year,
                         "climate_zone": "cool_temperate_moist", "soil_class": "hac", "land_use": "cropland",
                         "tillage": "full", "input_level": "medium" if k < 2 else "high",
                         "top_cm": 0, "bottom_cm": 30, "soc_g_kg": round(stock / (bd * 30 / 10), 3),
                         "bulk_density_g_cm3": round(bd, 3)})
    return pd.DataFrame(rows)


@pytest.fixture
def long_term_csv(tmp_path):
    path = tmp_path / "long_term.csv"
    long_term().to_csv(path, index=False)
    return path


def fixed_depth_stocks(frame: pd.DataFrame) -> pd.Series:
    return frame["soc_g_kg"] * frame["bulk_density_g_cm3"] * (frame["bottom_cm"] - frame["top_cm"]) / 10


@pytest.mark.parametrize("method", ["fixed_depth", "spline"])
def test_observed_rate_is_the_least_squares_slope(runner, long_term_csv, method):
    """Slope and standard error match scipy.stats.linregress (and numpy.polyfit) on the same points."""
    plots = fourp1000.compare(str(long_term_csv), esm_method=method, bootstrap=0).plots
    assert len(plots) == 4 * 7 and (plots["n_samplings"] == 8).all()
    data = long_term()
    for plot, rows in plots.groupby("plot_id"):
        if method == "fixed_depth":
            stocks = fixed_depth_stocks(data[data["plot_id"] == plot]).to_numpy()
            np.testing.assert_allclose(rows["esm_stock_t_ha"], stocks[1:], rtol=1e-12)
        else:  # the method's own stocks, the baseline's first
            stocks = np.r_[rows["baseline_stock_t_ha"].iloc[0], rows["esm_stock_t_ha"]]
        fit = stats.linregress(np.array(YEARS, dtype=float), stocks)
        (slope, _), cov = np.polyfit(np.array(YEARS, dtype=float), stocks, 1, cov=True)
        assert rows["observed_rate_t_ha_yr"].iloc[0] == pytest.approx(fit.slope, rel=1e-9)
        assert rows["observed_rate_t_ha_yr"].iloc[0] == pytest.approx(slope, rel=1e-9)
        assert rows["observed_rate_se_t_ha_yr"].iloc[0] == pytest.approx(fit.stderr, rel=1e-9)
        assert rows["observed_rate_se_t_ha_yr"].iloc[0] == pytest.approx(np.sqrt(cov[0, 0]), rel=1e-9)
        assert rows["observed_rate_per_mille"].iloc[0] == pytest.approx(fit.slope / stocks[0] * 1000, rel=1e-9)
        lower = fit.slope - stats.t.ppf(0.95, 6) * fit.stderr
        assert bool(rows["observed_meets_4p1000"].iloc[0]) == (lower >= 0.004 * stocks[0])
    verdicts = plots.groupby("plot_id")["observed_meets_4p1000"].first()
    assert verdicts["LT-3"] and not verdicts["LT-4"]


def test_long_term_project_uses_the_latest_sampling_and_says_so(runner, long_term_csv):
    """Before: "32 rows read, 4 plots scored, 0 rows rejected", silently the 2014 stock,
    source_row pointing at 1959 rows, no date."""
    result = runner.invoke(main, ["project", str(long_term_csv), "-f", "csv"])
    assert result.exit_code in (0, 3), result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "32 rows read: 4 plots scored from their latest sampling (2014), 28 rows of earlier samplings not used, "
        "0 rejected")
    plots = csv(result)
    data = long_term()
    assert plots["sampled_on"].astype(str).tolist() == ["2014"] * 4
    latest = data[data["sampled_on"] == 2014]
    assert plots["source_row"].tolist() == (latest.index + 2).tolist()  # file lines, header first
    np.testing.assert_allclose(plots["baseline_stock_t_ha"], fixed_depth_stocks(latest).to_numpy())


@pytest.mark.parametrize(("choice", "year", "unused"), [("first", "1959", "later"), ("1988", "1988", "other")])
def test_sampling_choice(runner, long_term_csv, choice, year, unused):
    result = runner.invoke(main, ["score", str(long_term_csv), "--sampling", choice, "-f", "json"])
    assert result.exit_code in (0, 3), result.stderr
    doc = json.loads(result.stdout)
    assert doc["meta"]["sampling"] == choice
    assert {str(p["sampled_on"]) for p in doc["plots"]} == {year}
    assert f"4 plots scored from their {choice if choice == 'first' else ''}" in result.stderr or year in result.stderr
    assert f"28 rows of {unused} samplings not used, 0 rejected" in result.stderr
    data = long_term()
    chosen = data[data["sampled_on"] == int(year)]
    np.testing.assert_allclose([p["baseline_stock_t_ha"] for p in doc["plots"]], fixed_depth_stocks(chosen))


def test_every_sampling_scored(runner, long_term_csv):
    """--sampling all: one row per plot and sampling, each projected from its own stock."""
    result = runner.invoke(main, ["project", str(long_term_csv), "--sampling", "all", "-f", "csv"])
    assert result.exit_code in (0, 3), result.stderr
    plots = csv(result)
    assert len(plots) == 32
    assert sorted(plots["source_row"]) == list(range(2, 34))
    np.testing.assert_allclose(plots.sort_values("source_row")["baseline_stock_t_ha"], fixed_depth_stocks(long_term()))
    assert result.stderr.splitlines()[-1].startswith("32 rows read: 32 plot samplings scored (all samplings), "
                                                     "0 rows of other samplings not used, 0 rejected")


def test_a_date_no_plot_has_is_an_error(runner, long_term_csv, tmp_path):
    rej = tmp_path / "rej.csv"
    result = runner.invoke(main, ["project", str(long_term_csv), "--sampling", "2000", "--on-error", "skip",
                                  "--rejects", str(rej), "-f", "csv"])
    assert result.exit_code == 1
    assert "no sampling on 2000" in pd.read_csv(rej)["reason"].iloc[0]


def test_python_api_takes_the_same_choices(long_term_csv, network_csv):
    first = fourp1000.project(str(long_term_csv), sampling="first")
    assert set(first.plots["sampled_on"].astype(str)) == {"1959"} and len(first.not_needed) == 28
    assert first.sampling_label == "first sampling (1959)"
    assert first.n_rows == len(first.plots) + len(first.not_needed) + len(first.rejects)  # one row per plot and sampling
    result = fourp1000.compare(str(network_csv), depth=20, bootstrap=0, bd_ptf="none", on_error="skip")
    assert result.n_rows == result.n_used + len(result.not_needed) + len(result.rejects)
    assert result.plots.empty and set(result.without_verdict["reason"]) == {"no valid baseline core"}
