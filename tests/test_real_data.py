"""Real, messy published profiles load: every problem by row, valid plots scored, rows accounted.

Data: ISRIC ISIS reference profiles (via GSIF) and aqp's Sierra Nevada transect, mapped to our
columns (../shared/reference/profiles/README.md).
"""

import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main
from fourp1000.errors import ValidationError
from fourp1000.io.horizons import normalise
from fourp1000.stocks.estimate import EstimateOptions, estimate_stocks
from fourp1000.io.readers import read_table

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module")
def isis(reference_dir):
    path = reference_dir / "profiles" / "isis" / "isis_mapped.csv"
    return path, normalise(read_table(path))


def test_isis_skip_accounts_for_every_row(isis, tmp_path):
    path, table = isis
    res = estimate_stocks(table, EstimateOptions(on_error="skip"))
    assert res.n_rows == 5602
    assert res.n_rows_used + len(res.rejects) == res.n_rows
    assert 400 < len(res.plots) < 675  # 675 profiles have SOC at all
    assert (res.plots["soc_stock_t_ha"] > 0).all()
    assert res.rejects["reason"].str.len().min() > 0
    # Each scored plot's rows are all either used or rejected individually; no plot is both scored and fully rejected.
    rejected_plots = set(res.rejects["plot_id"].dropna())
    fully_rejected = {p for p in rejected_plots
                      if (table.frame["plot_id"] == p).sum() == (res.rejects["plot_id"] == p).sum()}
    assert not fully_rejected & set(res.plots["plot_id"])


def test_isis_known_messy_cases_are_reported_by_row(isis):
    _, table = isis
    with pytest.raises(ValidationError) as err:
        estimate_stocks(table, EstimateOptions())
    problems = err.value.problems
    by_rule = pd.Series([p.rule for p in problems]).value_counts()
    # 65 rows without depths, 13 above the surface, 2 inverted and 22 zero-thickness rows (README counts).
    assert by_rule["above_surface"] == 13
    # 2 inverted + 22 zero-thickness rows; IE12 and IT6 (-1/-1) count as above the surface instead.
    # KE15 has a forest-floor layer written 3-0 cm: its reversed row is said to be measured upward.
    assert by_rule["depth_order"] == 2 + 22 - 2 - 1 and by_rule["depth_upward"] == 1
    assert [p.plot_id for p in problems if p.rule == "depth_upward"] == ["KE15"]
    depthless = {p.row for p in problems if p.rule == "missing_value" and p.column == "top_cm"}
    assert len(depthless) == 65
    ie12 = [p for p in problems if p.plot_id == "IE12" and p.rule == "out_of_range"]
    assert any("600 is outside 0–580 g/kg" in p.message for p in ie12)
    assert all(p.row is not None for p in problems if p.rule != "missing_column")


def test_isis_cli_fails_with_full_report_and_skip_succeeds(reference_dir, tmp_path):
    path = str(reference_dir / "profiles" / "isis" / "isis_mapped.csv")
    runner = CliRunner()
    fail = runner.invoke(main, ["estimate", path, "-f", "csv"])
    assert fail.exit_code == 1 and fail.stdout == ""
    lines = fail.stderr.splitlines()
    error = next(i for i, ln in enumerate(lines) if ln.startswith("Error: "))
    assert all(ln.startswith(("Columns ignored", "Warning: ", "Note: ")) for ln in lines[:error])
    n = int(lines[error].split()[1])
    listed = len([ln for ln in lines if ln.startswith(f"  {path}: row ")])
    folded = sum(int(ln.split()[2]) for ln in lines if ln.startswith("  ... and ") and "knock-on" in ln)
    assert n > 100 and listed + folded == n
    rejects = tmp_path / "rejects.csv"
    ok = runner.invoke(main, ["estimate", path, "--on-error", "skip", "--rejects", str(rejects), "-f", "csv"])
    assert ok.exit_code == 0
    scored = pd.read_csv(pd.io.common.StringIO(ok.stdout))
    rej = pd.read_csv(rejects)
    summary = ok.stderr.splitlines()[-1]
    assert summary.startswith(f"5602 rows read, {len(scored)} plots scored, {len(rej)} rows rejected, ")
    assert summary.endswith(" plausibility warnings (--strict rejects them)")
    assert set(rej.columns) >= {"row", "reason", "plot_id", "source_row"}


def test_isis_single_horizon_cross_check(isis):
    """GSIF OCSKGM form (kg/m2 = ORCDRC/1000 x HSIZE/100 x BLD x (100 - CRF)/100) on rows with SOC and BD."""
    _, table = isis
    f = table.frame
    both = f[f["soc_g_kg"].notna() & f["bulk_density_g_cm3"].notna() & (f["top_cm"] == 0)]
    assert len(both) >= 1
    for row in both.itertuples():
        kg_m2 = row.soc_g_kg / 1000 * (row.bottom_cm - row.top_cm) / 100 * row.bulk_density_g_cm3 * 1000
        from fourp1000.stocks.layers import layer_stock
        assert layer_stock(row.soc_g_kg, row.bulk_density_g_cm3, row.bottom_cm - row.top_cm) == pytest.approx(kg_m2 * 10)


def test_sierra_transect_extrapolates_to_100cm(reference_dir):
    path = reference_dir / "profiles" / "sierra_transect" / "sierraTransect_mapped.csv"
    table = normalise(read_table(path))
    res = estimate_stocks(table, EstimateOptions(bottom_cm=100, extrapolate=True, on_error="skip"))
    assert res.n_rows_used + len(res.rejects) == 70
    # the 7 andesite profiles carry C and BD; 3 reach only 42-62 cm: past the default bound
    # (30 cm below the deepest layer), they are rejected with the reason
    assert len(res.plots) == 4 and res.plots["extrapolated"].any()
    bound = res.problems[res.problems["rule"] == "extrapolation_bound"]
    assert sorted(bound["plot_id"]) == ["Inks", "Nobu", "Top"]
    wide = estimate_stocks(table, EstimateOptions(bottom_cm=100, extrapolate=True, on_error="skip",
                                                  max_extrapolate_cm=60, max_extrapolate_share=0.6))
    assert len(wide.plots) == 7 and wide.plots["extrapolated_share"].max() <= 0.6


def test_gsif_ocskgm_documented_example():
    """GSIF man/OCSKGM.Rd: ORCDRC 50 g/kg, BLD 1500 kg/m3, CRFVOL 10 %, HSIZE 30 cm -> 20.25 kg/m2."""
    from fourp1000.stocks.layers import layer_stock

    assert layer_stock(50.0, 1.5, 30.0, 10.0) == pytest.approx(202.5)


def test_isis_with_original_isric_headers_and_a_column_map(reference_dir, examples_dir):
    """Issue 7: the published file, original ISRIC column names, loads with a --columns map and
    gives the same stocks as the file mapped to our names."""
    runner = CliRunner()
    original = str(reference_dir / "profiles" / "isis" / "isis_horizons.csv")
    mapped = str(reference_dir / "profiles" / "isis" / "isis_mapped.csv")
    cmap = str(examples_dir / "columns_isric.yaml")
    a = runner.invoke(main, ["estimate", original, "--columns", cmap, "--on-error", "skip", "-f", "csv", "-q"])
    b = runner.invoke(main, ["estimate", mapped, "--on-error", "skip", "-f", "csv", "-q"])
    assert a.exit_code == 0 and b.exit_code == 0, a.stderr
    fa = pd.read_csv(pd.io.common.StringIO(a.stdout)).set_index("plot_id").sort_index()
    fb = pd.read_csv(pd.io.common.StringIO(b.stdout)).set_index("plot_id").sort_index()
    assert len(fa) == len(fb) > 400
    assert (fa["soc_stock_t_ha"] - fb["soc_stock_t_ha"]).abs().max() < 1e-9
    # Without the map, the unit-less ISRIC headers are not guessed: a clear error listing what is expected.
    c = runner.invoke(main, ["estimate", original])
    assert c.exit_code == 1 and "required column plot_id is missing" in c.stderr
