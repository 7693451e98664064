"""Docs stay in step with the code."""

import re
from pathlib import Path

import click

from fourp1000.io.schema import schema_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"
README = Path(__file__).resolve().parents[1] / "README.md"


def test_input_format_table_matches_schema():
    text = (DOCS / "input-format.md").read_text()
    block = re.search(r"<!-- schema:start -->\n(.*)<!-- schema:end -->", text, re.S).group(1)
    assert block == schema_markdown()


def test_readme_has_the_two_commands_and_ci_runs_the_test_one():
    readme = README.read_text()
    assert "python -m pip install . && fourp1000 estimate examples/plots.csv" in readme
    test_cmd = "python -m pip install '.[test]' && python -m pytest -q"
    assert test_cmd in readme
    assert test_cmd in (README.parent / ".ci" / "run").read_text()


def test_cli_reference_is_generated_from_help():
    from fourp1000.cli.reference import markdown

    assert (DOCS / "cli-reference.md").read_text() == markdown(), (
        "docs/cli-reference.md is stale: python -m fourp1000.cli.reference > docs/cli-reference.md")


def test_every_command_has_help_and_docs():
    from fourp1000.cli import main
    from fourp1000.cli.reference import command_help

    reference = (DOCS / "cli-reference.md").read_text()
    ctx = click.Context(main)
    for name in main.list_commands(ctx):
        cmd = main.get_command(ctx, name)
        assert cmd.help and len(cmd.help) > 40, f"{name} has no help text"
        assert "Example" in command_help(name), f"{name} --help has no example"
        assert f"## fourp1000 {name}" in reference, f"{name} missing from docs/cli-reference.md"


def test_tutorial_figures_match_the_commands(examples_dir):
    """The tutorial quotes real output; re-run its commands and check the figures it quotes."""
    import io
    import json

    import pandas as pd
    from click.testing import CliRunner

    from fourp1000.cli import main

    text = (DOCS / "tutorial.md").read_text()
    run = CliRunner().invoke
    farm = str(examples_dir / "farm.yaml")
    est = pd.read_csv(io.StringIO(run(main, ["estimate", farm, "-f", "csv", "-q"]).stdout)).set_index("plot_id")
    proj = pd.read_csv(io.StringIO(run(main, ["project", farm, "-f", "csv", "-q"]).stdout)).set_index("plot_id")
    score = json.loads(run(main, ["score", farm, "--uncertainty", "-f", "json", "-q"]).stdout)["farms"][0]
    quoted = {
        f"| FS-01 | {est.loc['FS-01', 'soc_stock_t_ha']:.2f} |", f"| FS-02 | {est.loc['FS-02', 'soc_stock_t_ha']:.2f} |",
        f"| {proj.loc['FS-01', 'final_stock_t_ha']:.2f} | {proj.loc['FS-01', 'annual_change_t_ha_yr']:.3f} |",
        f"**{score['rate_per_mille']:.2f} ‰ a year**",
        f"interval of {score['rate_per_mille_p2_5']:.1f}–{score['rate_per_mille_p97_5']:.1f} ‰",
        f"{100 * score['p_meets_4p1000']:.1f} % of the draws",
    }
    for snippet in quoted:
        assert snippet in text, snippet
    cmp_ = pd.read_csv(io.StringIO(run(main, ["compare", str(examples_dir / "campaigns.csv"), "-f", "csv", "-q"]).stdout))
    fs01 = cmp_.set_index("plot_id").loc["FS-01"]
    assert f"| FS-01 | {fs01['fixed_depth_change_t_ha']:.2f} | {fs01['esm_change_t_ha']:.2f} |" in text


def test_tutorial_plan_figures_match_the_command(examples_dir):
    """Section 8 of the tutorial quotes `plan` on the farm: re-run it and check every figure."""
    import io

    import pandas as pd
    from click.testing import CliRunner

    from fourp1000.cli import main

    text = (DOCS / "tutorial.md").read_text()
    out = CliRunner().invoke(main, ["plan", str(examples_dir / "farm.yaml"), "--model", "ipcc,rothc", "--climate",
                                    str(examples_dir / "climate.csv"), "-f", "csv", "-q"])
    assert out.exit_code == 0, out.stderr
    plan = pd.read_csv(io.StringIO(out.stdout))
    for _, row in plan.iterrows():
        cells = f"| {row['model']} | {row['plot_id']} | {row['practice_set']} | {row['practice_set_rate_per_mille']:.2f} |"
        if row["model"] == "rothc":
            cells += (f" {row['extra_plant_input_t_c_ha_yr']:.2f} | {row['extra_input_pct']:.0f} % |")
            assert bool(row["input_within_ceiling"])
        assert cells in text, cells
    fs02 = plan[(plan["model"] == "rothc") & (plan["plot_id"] == "FS-02")].iloc[0]
    assert f"{fs02['extra_plant_input_t_c_ha_yr']:.2f} t C/ha" in text
