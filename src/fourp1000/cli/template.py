"""``fourp1000 template``: a starter input file with every column and its unit."""

from __future__ import annotations

import click

from ..io.writers import atomic_write
from ..io.template import template_csv, template_yaml
from .common import handle_errors


@click.command()
@click.option("-f", "--format", "fmt", type=click.Choice(["csv", "yaml"]), default=None,
              help="csv (a horizon table) or yaml (a farm document). Default: from -o's extension, else csv.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default=None,
              help="Write to FILE instead of stdout.")
@click.option("--all-columns", is_flag=True, help="Include every optional column, not only the common ones.")
@handle_errors
def template(fmt, output, all_columns):
    """Write a starter input file: every column named with its unit, two example plots.

    Fill it in and run `fourp1000 estimate` on it. Column meanings: `fourp1000 schema`.

    \b
    Examples:
      fourp1000 template -o plots.csv
      fourp1000 template -f yaml -o farm.yaml
    """
    if fmt is None:
        fmt = "yaml" if output and output.lower().endswith((".yaml", ".yml")) else "csv"
    text = template_yaml(all_columns) if fmt == "yaml" else template_csv(all_columns)
    if output in (None, "-"):
        click.echo(text, nl=False)
    else:
        atomic_write(output, text)
