"""``fourp1000 schema``: the input model, every column with its unit, range and meaning."""

from __future__ import annotations

import click

from .common import handle_errors, output_options, resolve_format


@click.command()
@output_options
@handle_errors
def schema(fmt, output, quiet, verbose):
    """Print the input model: every column, its unit, valid range and meaning.

    \b
    Examples:
      fourp1000 schema
      fourp1000 schema --format csv -o columns.csv
    """
    from ..io.schema import schema_frame
    from ..io.writers import write_tables

    write_tables({"columns": schema_frame()}, resolve_format(fmt, output), output)
