"""Shell conventions shared by all commands: stdout/stderr, config file, column maps, template, xlsx."""

import io

import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

WORKED = "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3,coarse_fragments_pct\nP1,0,30,1.2,1.35,10\n"


@pytest.fixture
def runner():
    return CliRunner()


def test_config_file_feeds_defaults_and_columns(runner, tmp_path, monkeypatch):
    (tmp_path / "fourp1000.yaml").write_text(
        "depth: 0-40\nestimate:\n  depth_method: spline\ncolumns:\n  Corg: {column: soc, unit: g/kg}\n")
    data = "plot_id,top_cm,bottom_cm,Corg,bulk_density_g_cm3\nA,0,20,12,1.3\nA,20,40,8,1.4\n"
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["estimate", "-", "-f", "csv", "-q"], input=data)
    assert result.exit_code == 0, result.stderr
    row = pd.read_csv(io.StringIO(result.stdout)).iloc[0]
    assert (row["bottom_cm"], row["depth_method"]) == (40, "spline")
    # The command line wins over the config file.
    result = runner.invoke(main, ["estimate", "-", "-f", "csv", "-q", "--depth", "30"], input=data)
    assert pd.read_csv(io.StringIO(result.stdout)).iloc[0]["bottom_cm"] == 30


def test_unknown_config_key_is_an_error(runner, tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("dept: 40\n")
    result = runner.invoke(main, ["--config", str(cfg), "estimate", "-"], input=WORKED)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"Error: {cfg}: unknown option(s) dept"


def test_columns_map_option(runner, tmp_path):
    cmap = tmp_path / "map.yaml"
    cmap.write_text("Profile: plot_id\nFrom: top_cm\nTo: bottom_cm\nOC: {column: soc, unit: '%'}\nBD: {column: bulk_density, unit: kg/m3}\n")
    data = "Profile,From,To,OC,BD\nX,0,30,1.2,1350\n"
    result = runner.invoke(main, ["estimate", "-", "--columns", str(cmap), "-f", "csv", "-q"], input=data)
    assert result.exit_code == 0, result.stderr
    assert pd.read_csv(io.StringIO(result.stdout)).iloc[0]["soc_stock_t_ha"] == pytest.approx(48.6)


def test_template_round_trip(runner, tmp_path):
    for name in ("t.csv", "t.yaml"):
        path = tmp_path / name
        assert runner.invoke(main, ["template", "-o", str(path)]).exit_code == 0
        result = runner.invoke(main, ["estimate", str(path), "-f", "csv", "-q"])
        assert result.exit_code == 0, result.stderr
        assert len(pd.read_csv(io.StringIO(result.stdout))) == 2


def test_xlsx_output_has_a_sheet_per_table(runner, examples_dir, tmp_path):
    out = tmp_path / "stocks.xlsx"
    result = runner.invoke(main, ["estimate", str(examples_dir / "plots.csv"), "-o", str(out), "-q"])
    assert result.exit_code == 0 and result.stdout == ""
    sheets = pd.read_excel(out, sheet_name=None)
    assert set(sheets) == {"plots", "farms"}
    assert len(sheets["plots"]) == 10


def test_results_only_on_stdout(runner):
    result = runner.invoke(main, ["estimate", "-", "-f", "csv"], input=WORKED)
    assert result.stdout.startswith("plot_id,")
    assert "rows read" in result.stderr and "rows read" not in result.stdout


def test_dash_output_is_stdout(runner):
    result = runner.invoke(main, ["estimate", "-", "-o", "-", "-f", "jsonl", "-q"], input=WORKED)
    assert result.stdout.startswith('{"plot_id": "P1"')


def test_output_files_get_normal_permissions(runner, tmp_path):
    import os
    import stat

    out = tmp_path / "s.csv"
    runner.invoke(main, ["estimate", "-", "-o", str(out), "-q"], input=WORKED)
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(out.stat().st_mode) == 0o666 & ~mask


@pytest.mark.parametrize("command, sheets", [
    (["project"], {"plots", "farms"}),
    (["score"], {"farms", "plots"}),
    (["compare", "--on-error", "skip"], {"plots", "farms", "cores"}),
])
def test_xlsx_round_trip_for_every_command(runner, examples_dir, tmp_path, command, sheets):
    out = tmp_path / "out.xlsx"
    if command[0] == "compare":
        src = tmp_path / "campaigns.csv"
        src.write_text("farm_id,plot_id,area_ha,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\n"
                       "F,A,2,2020,0,30,1.2,1.3\nF,A,2,2024,0,30,1.3,1.35\n")
        args = command + [str(src)]
    else:
        args = command + [str(examples_dir / "plots.csv")]
    result = runner.invoke(main, args + ["-o", str(out), "-q"])
    assert result.exit_code == 0, result.stderr
    book = pd.read_excel(out, sheet_name=None)
    assert set(book) == sheets
    # The spreadsheet reads back: the main table loads with its units in the headers.
    first = book[next(iter(sheets))] if command[0] != "score" else book["farms"]
    assert any(c.endswith(("_t_ha", "_t_c", "_t_ha_yr")) for c in first.columns)
