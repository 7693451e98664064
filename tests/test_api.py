"""The Python API (``fourp1000.read/estimate/project/score/compare``) and start-up cost.

The API and the CLI share their reading step and library calls, so the same input and
options give the same tables; the CLI's csv output is the oracle here.
"""

from __future__ import annotations

import gc
import io
import os
import re
import subprocess
import sys
from pathlib import Path

import click
import pandas as pd
import pytest
from click.testing import CliRunner

import fourp1000
from fourp1000.cli import COMMANDS, main

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def cli_csv(*args: str) -> pd.DataFrame:
    result = CliRunner().invoke(main, [*args, "-f", "csv", "-q"])
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout), dtype={"plot_id": str, "farm_id": str})


def same(api: pd.DataFrame, cli: pd.DataFrame, columns: list[str]) -> None:
    pd.testing.assert_frame_equal(api[columns].reset_index(drop=True), cli[columns], check_dtype=False, rtol=0,
                                  atol=1e-6)  # csv carries 6 decimals


def test_estimate_from_a_path_matches_the_cli(examples_dir):
    path = str(examples_dir / "plots.csv")
    api = fourp1000.estimate(path, depth="10-30", depth_method="spline").plots
    cli = cli_csv("estimate", path, "--depth", "10-30", "--depth-method", "spline")
    same(api, cli, ["plot_id", "soc_stock_t_ha", "co2e_t_ha", "target_4p1000_t_ha_yr"])


def test_estimate_from_a_dataframe_equals_from_its_file(examples_dir):
    path = examples_dir / "plots.csv"
    frame = pd.read_csv(path)
    from_frame = fourp1000.estimate(frame).plots
    from_file = fourp1000.estimate(path).plots
    pd.testing.assert_frame_equal(from_frame, from_file)


def test_project_and_score_match_the_cli(examples_dir):
    path = str(examples_dir / "plots.csv")
    plots = fourp1000.project(path, years=30, ipcc_version="2006").plots
    same(plots, cli_csv("project", path, "--years", "30", "--ipcc-version", "2006"),
         ["plot_id", "final_stock_t_ha", "rate_per_mille", "meets_4p1000"])
    farms = fourp1000.score(path, practices=["no_till"], on_error="skip").farms
    cli = cli_csv("score", path, "--practice", "no_till", "--on-error", "skip")
    same(farms, cli, ["farm_id", "final_stock_t_c", "rate_per_mille", "n_plots"])


def test_project_with_rothc_and_uncertainty(examples_dir):
    path = str(examples_dir / "plots.csv")
    both = fourp1000.project(path, model="ipcc,rothc", climate=examples_dir / "climate.csv").plots
    assert set(both["model"]) == {"ipcc", "rothc"}
    unc = fourp1000.project(path, uncertainty=True, draws=50, seed=1).plots
    assert {"rate_per_mille_p2_5", "p_meets_4p1000"} <= set(unc.columns)
    with pytest.raises(fourp1000.InputError, match="climate"):
        fourp1000.project(path, model="rothc")


def test_compare_matches_the_cli(examples_dir):
    path = str(examples_dir / "campaigns.csv")
    api = fourp1000.compare(path, depth=[30, 10], bootstrap=100).plots
    cli = cli_csv("compare", path, "--depth", "10,30", "--bootstrap", "100")
    same(api, cli, ["plot_id", "depth_cm", "esm_stock_t_ha", "esm_change_t_ha", "rate_per_mille"])


def test_errors_are_library_exceptions(examples_dir, tmp_path):
    with pytest.raises(fourp1000.InputError, match="no such file"):
        fourp1000.estimate(tmp_path / "absent.csv")
    with pytest.raises(fourp1000.InputError, match="invalid depth"):
        fourp1000.estimate(examples_dir / "plots.csv", depth="40-10")
    with pytest.raises(TypeError, match="depth_methd"):
        fourp1000.project(examples_dir / "plots.csv", depth_methd="spline")
    plots = pd.DataFrame({"plot_id": ["P1"], "climate_zone": ["cool_temperate_moist"], "soil_class": ["hac"],
                          "land_use": ["cropland"], "tillage": ["full"], "input_level": ["medium"]})
    with pytest.raises(fourp1000.InputError, match="area_ha"):
        fourp1000.score(plots)


def test_read_takes_a_column_map(tmp_path):
    frame = pd.DataFrame({"Plot": ["A"], "top_cm": [0], "bottom_cm": [30], "Corg": [1.5]})
    columns = {"Plot": "plot_id", "Corg": {"column": "soc", "unit": "%"}}
    table = fourp1000.read(frame, columns=columns)
    assert table.frame.loc[0, "soc_g_kg"] == pytest.approx(15.0)
    map_file = tmp_path / "columns.yaml"
    map_file.write_text("Plot: plot_id\nCorg: {column: soc, unit: g/kg}\n")
    assert fourp1000.read(frame, columns=map_file).frame.loc[0, "soc_g_kg"] == pytest.approx(1.5)


def test_readme_python_example_runs(monkeypatch):
    readme = (ROOT / "README.md").read_text()
    block = re.search(r"From Python:\n\n```python\n(.*?)```", readme, re.S).group(1)
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert len(namespace["stocks"].plots) == 10
    assert namespace["scores"].farms["meets_4p1000"].all()


def test_help_shows_the_api():
    text = __import__("pydoc").render_doc(fourp1000, renderer=__import__("pydoc").plaintext)
    for name in ("read(", "estimate(", "project(", "score(", "compare(", "class InputError"):
        assert name in text, name


def test_listed_summaries_are_the_commands_own():
    ctx = click.Context(main)
    assert main.list_commands(ctx) == sorted(COMMANDS)
    for name, (_, summary) in COMMANDS.items():
        cmd = main.get_command(ctx, name)
        assert " ".join(cmd.help.partition("\n\n")[0].split()) == summary, name


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_as_it_was_once_a_command_is_imported(enabled):
    """Off while a command's modules are imported (they live as long as the process), then as before."""
    group = type(main)(lazy_commands={"schema": COMMANDS["schema"]})
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        assert group.get_command(click.Context(group), "schema") is not None
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()


@pytest.mark.parametrize("case", ["no mallopt", "user's setting"])
def test_allocator_left_alone(monkeypatch, case):
    import ctypes

    from fourp1000.cli import _keep_freed_memory

    calls = []

    class Libc:
        def mallopt(self, option, value):
            calls.append(option)

    monkeypatch.setattr(ctypes, "CDLL", lambda name: object() if case == "no mallopt" else Libc())
    for name in [n for n in os.environ if n.startswith("MALLOC_")] + ["GLIBC_TUNABLES"]:
        monkeypatch.delenv(name, raising=False)
    if case == "user's setting":
        monkeypatch.setenv("MALLOC_ARENA_MAX", "2")
    _keep_freed_memory.__wrapped__()  # no error, no change
    assert calls == []
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    if case == "user's setting":
        _keep_freed_memory.__wrapped__()
        assert sorted(calls) == [-3, -2, -1]


def imported_modules(*args: str) -> set[str]:
    """Modules imported by ``fourp1000 ARGS`` in a fresh interpreter (this checkout first)."""
    code = ("import sys\nfrom fourp1000.cli import main\n"
            "try:\n    main(sys.argv[1:], prog_name='fourp1000')\nexcept SystemExit:\n    pass\n"
            "sys.stderr.write(' '.join(sys.modules))")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    return set(done.stderr.split())


@pytest.mark.parametrize("args", [("--version",), ("--help",)])
def test_start_up_imports_no_science(args):
    heavy = {"pandas", "numpy", "scipy", "matplotlib", "pint", "yaml"}
    assert not heavy & imported_modules(*args)


def test_a_command_imports_only_what_it_uses():
    modules = imported_modules("rothc", "--help")
    assert "fourp1000.rothc" in modules
    assert not {"fourp1000.esm", "fourp1000.report", "matplotlib"} & modules


@pytest.mark.parametrize("command", ["estimate", "compare"])
def test_runs_import_no_statistics_module(tmp_path, examples_dir, command):
    # scipy.stats (0.4 s of imports) is not needed: a trend's t quantile comes from scipy.special
    data = examples_dir / ("plots.csv" if command == "estimate" else "campaigns.csv")
    streamed = ["--chunk-rows", "5"] + (["--bootstrap", "0"] if command == "compare" else [])
    modules = imported_modules(command, str(data), *streamed, "-f", "csv", "-q", "-o", str(tmp_path / "out.csv"))
    assert "fourp1000.engine.commands" in modules
    assert "scipy.stats" not in modules
