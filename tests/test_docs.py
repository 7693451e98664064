"""Docs stay in step with the code."""

import re
from pathlib import Path

from fourp1000.schema import schema_markdown

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
    for name, cmd in main.commands.items():
        assert cmd.help and len(cmd.help) > 40, f"{name} has no help text"
        assert "Example" in command_help(name), f"{name} --help has no example"
        assert f"## fourp1000 {name}" in reference, f"{name} missing from docs/cli-reference.md"
