"""The ``fourp1000`` command line: a thin layer over the library.

Commands parse options, call library functions and format results. Computation lives in
the library modules (:mod:`fourp1000.stocks.layers`, :mod:`fourp1000.stocks.depth`, ...).
"""

from __future__ import annotations

import click

from .. import __version__
from .common import CONTEXT_SETTINGS
from .config import CONFIG_NAME, apply_config


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="fourp1000")
@click.option("--config", "config_file", type=click.Path(dir_okay=False), default=None,
              help=f"YAML file of option defaults (default: ./{CONFIG_NAME} if present).")
@click.pass_context
def main(ctx: click.Context, config_file: str | None) -> None:
    """Soil organic carbon stocks and the 4 per 1000 target, plot by plot and farm by farm.

    Option defaults can be set in a config file (./fourp1000.yaml or --config): top-level
    keys apply to every command that has the option, a section per command overrides
    them, and a `columns:` mapping renames input headers (see docs/cli.md).

    \b
    Example:
      fourp1000 estimate examples/plots.csv
    """
    apply_config(ctx, config_file)


# Each command lives in a module of its own; registering them here keeps the modules
# independent of one another. Add new commands to this list.
from .compare import compare  # noqa: E402
from .estimate import estimate, schema  # noqa: E402
from .project import practices, project, score  # noqa: E402
from .report import report  # noqa: E402
from .rothc import rothc  # noqa: E402
from .template import template  # noqa: E402

for _command in (estimate, project, score, compare, report, practices, rothc, schema, template):
    main.add_command(_command)
