"""The ``fourp1000`` command line: a thin layer over the library.

Commands parse options, call library functions and format results. Computation lives in
the library modules (:mod:`fourp1000.stocks`, :mod:`fourp1000.depth`, ...).
"""

from __future__ import annotations

import click

from .. import __version__
from .common import CONTEXT_SETTINGS


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "-V", "--version", prog_name="fourp1000")
def main() -> None:
    """Soil organic carbon stocks and the 4 per 1000 target, plot by plot and farm by farm.

    \b
    Example:
      fourp1000 estimate examples/plots.csv
    """


# Each command lives in a module of its own; registering them here keeps the modules
# independent of one another. Add new commands to this list.
from .estimate import estimate, schema  # noqa: E402

for _command in (estimate, schema):
    main.add_command(_command)
