"""CLI tests for `fourp1000 estimate` and `fourp1000 schema`: exact output and exit codes."""

import json
import subprocess
import sys

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000 import __version__
from fourp1000.cli import main

WORKED = "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3,coarse_fragments_pct\nP1,0,30,1.2,1.35,10\n"
HEADER = ("plot_id,top_cm,bottom_cm,soc_stock_t_ha,co2e_t_ha,target_4p1000_t_ha_yr,bd_estimated,extrapolated,"
          "extrapolated_cm,extrapolated_share,n_layers,soil_mass_t_ha,bd_ptf,depth_method")


@pytest.fixture
def runner():
    return CliRunner()


def test_worked_example_csv_on_stdin(runner):
    result = runner.invoke(main, ["estimate", "-", "--format", "csv"], input=WORKED)
    assert result.exit_code == 0, result.output
    assert result.stdout == HEADER + "\nP1,0,30,43.74,160.38,0.17496,false,false,0,0,1,3645,,proportional\n"
    assert result.stderr.strip().splitlines()[-1] == "1 rows read, 1 plots scored, 0 rows rejected"


def test_quiet_leaves_stderr_empty(runner):
    result = runner.invoke(main, ["estimate", "-", "-q", "-f", "jsonl"], input=WORKED)
    assert result.exit_code == 0
    assert result.stderr == ""
    record = json.loads(result.stdout)
    assert record["soc_stock_t_ha"] == 43.74 and record["bd_estimated"] is False


def test_json_carries_methods(runner):
    result = runner.invoke(main, ["estimate", "-", "-f", "json"], input=WORKED)
    doc = json.loads(result.stdout)
    assert doc["plots"][0]["target_4p1000_t_ha_yr"] == 0.17496
    assert doc["meta"]["rows_read"] == 1
    assert any("44/12" in m for m in doc["meta"]["methods"])


def test_output_file_written(runner, tmp_path):
    out = tmp_path / "stocks.json"
    result = runner.invoke(main, ["estimate", "-", "-o", str(out)], input=WORKED)
    assert result.exit_code == 0 and result.stdout == ""
    assert json.loads(out.read_text())["plots"][0]["soc_stock_t_ha"] == 43.74


def test_bad_input_fails_with_every_problem(runner, tmp_path):
    path = tmp_path / "plots.csv"
    path.write_text("plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nP1,0,30,1.2,3.4\nP2,0,30,x,1.2\n")
    result = runner.invoke(main, ["estimate", str(path)])
    assert result.exit_code == 1
    assert result.stdout == ""
    # the plots' "no usable SOC layer" is a knock-on of the row errors: folded under them
    assert result.stderr.splitlines() == [
        "Error: 2 problems in input:",
        f"  {path}: row 2, column bulk_density_g_cm3: value 3.4 is outside 0.1–2.2 g/cm3; "
        "knock-on: no usable SOC layer between 0 and 30 cm",
        f"  {path}: row 3, column soc_pct: 'x' is not a number; knock-on: no usable SOC layer between 0 and 30 cm",
    ]
    assert "Traceback" not in result.output


def test_skip_writes_rejects_and_accounts_for_rows(runner, tmp_path):
    path = tmp_path / "plots.csv"
    path.write_text("plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nP1,0,30,1.2,3.4\nP2,0,30,1.0,1.2\n")
    rej = tmp_path / "rejects.csv"
    result = runner.invoke(main, ["estimate", str(path), "--on-error", "skip", "--rejects", str(rej), "-f", "csv"])
    assert result.exit_code == 0
    assert pd.read_csv(pd.io.common.StringIO(result.stdout))["plot_id"].tolist() == ["P2"]
    rejects = pd.read_csv(rej)
    assert rejects["row"].tolist() == [2]
    assert rejects["reason"].iloc[0].startswith("value 3.4 is outside 0.1–2.2 g/cm3")
    assert result.stderr.splitlines()[-1] == "2 rows read, 1 plots scored, 1 rows rejected"


def test_missing_file_is_one_line(runner):
    result = runner.invoke(main, ["estimate", "nope.csv"])
    assert result.exit_code == 1
    assert result.stderr == "Error: nope.csv: no such file\n"


def test_usage_error_exit_2(runner):
    result = runner.invoke(main, ["estimate", "-", "--depth-method", "cubic"], input=WORKED)
    assert result.exit_code == 2


def test_bad_depth_is_a_usage_error(runner):
    result = runner.invoke(main, ["estimate", "-", "--depth", "40-30"], input=WORKED)
    assert result.exit_code == 2
    assert "Invalid value for '--depth': invalid depth '40-30'" in result.stderr


def test_european_csv_example(runner, examples_dir):
    result = runner.invoke(main, ["estimate", str(examples_dir / "plots_eu.csv"), "-f", "csv", "-q"])
    assert result.exit_code == 0
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    assert frame["farm_id"].iloc[0] == "Ferme du Château"
    # CH-01: 14.5 g/kg x 1.31 x 15 x 0.96 / 10 + 10.2 x 1.44 x 15 x 0.96 / 10
    assert frame["soc_stock_t_ha"].iloc[0] == pytest.approx(14.5 * 1.31 * 15 * 0.96 / 10 + 10.2 * 1.44 * 15 * 0.96 / 10, abs=1e-6)


def test_examples_all_score(runner, examples_dir):
    for name in ("plots.csv", "farm.yaml", "plots_eu.csv"):
        result = runner.invoke(main, ["estimate", str(examples_dir / name), "-f", "json"])
        assert result.exit_code == 0, (name, result.stderr)
        doc = json.loads(result.stdout)
        assert doc["meta"]["rows_rejected"] == 0
        assert all(p["soc_stock_t_ha"] > 0 for p in doc["plots"])


def test_every_command_has_help_with_an_example(runner):
    for name in main.list_commands(click.Context(main)):
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, name
        assert "Example" in result.output, f"{name} --help has no example"


def test_version(runner):
    result = runner.invoke(main, ["--version"])
    assert result.output.strip() == f"fourp1000, version {__version__}"


def test_schema_lists_every_core_column(runner):
    result = runner.invoke(main, ["schema", "-f", "csv"])
    frame = pd.read_csv(pd.io.common.StringIO(result.stdout))
    for col in ("plot_id", "top_cm", "bottom_cm", "soc_pct", "soc_g_kg", "som_pct", "bulk_density_g_cm3",
                "coarse_fragments_pct", "clay_pct", "silt_pct", "sand_pct", "area_ha", "farm_id", "sampled_on"):
        assert col in frame["column"].tolist()


def test_python_dash_m():
    done = subprocess.run([sys.executable, "-m", "fourp1000", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and __version__ in done.stdout
