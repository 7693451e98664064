"""The ``fourp1000`` command line: a thin layer over the library.

Commands parse options, call library functions and format results. Computation lives in
the library modules (:mod:`fourp1000.stocks.layers`, :mod:`fourp1000.stocks.depth`, ...).

Each command lives in a module of its own and is imported only when it runs (or its help
is shown): ``fourp1000 --version`` and ``fourp1000 --help`` load neither pandas nor the
science, and ``fourp1000 rothc`` does not load the ESM code.
"""

from __future__ import annotations

import atexit
import contextlib
import functools
import gc
import importlib
import os
from collections.abc import Iterator

import click

from .. import __version__
from ..engine import STREAM_BYTES
from ..io import prefetch
from .common import CONTEXT_SETTINGS
from .config import CONFIG_NAME, apply_config

# One OpenBLAS thread, set before a command imports numpy (OpenBLAS reads it when loaded;
# a value set by the user is kept). The commands' matrix products are small, and the
# extra thread of each BLAS library loaded (numpy's, and SciPy's, which numba loads) spins
# for its first moments, taking a core from numba's and Arrow's threads (about 0.3 s of a
# two-core machine's time in `project --model rothc` on 100,000 plots).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
# No transparent huge pages for numpy's arrays (numpy reads it when imported; a value set
# by the user is kept): a command is a short process that touches its large arrays a few
# times, and the kernel zeroes each huge page in full at first touch. Measured on 2 cores:
# `estimate` of 1 M rows and `project --model rothc` of 100,000 plots about 10 % faster.
os.environ.setdefault("NUMPY_MADVISE_HUGEPAGE", "0")

#: Every command: name -> (``module:attribute`` that defines it, the first paragraph of its
#: help). The summary is what ``fourp1000 --help`` lists without importing the command;
#: ``tests/test_api.py`` keeps it equal to the command's own docstring. Add new commands here.
COMMANDS: dict[str, tuple[str, str]] = {
    "compare": ("fourp1000.cli.compare:compare",
                "Measured SOC change between samplings, on an equivalent soil mass basis, against 4 per 1000."),
    "estimate": ("fourp1000.cli.estimate:estimate",
                 "Estimate SOC stocks (t C/ha, t CO2e/ha) per plot over a standard depth."),
    "plan": ("fourp1000.cli.plan:plan",
             "What would it take? The practices and carbon input each plot needs for 4 per 1000."),
    "practices": ("fourp1000.cli.project:practices",
                  "List the practice catalogue: IPCC effect, meta-analysis rate, and sources."),
    "project": ("fourp1000.cli.project:project", "Project SOC stocks under practices and check 4 per 1000, per plot."),
    "report": ("fourp1000.cli.report:report", "Write an HTML report: farms, stock trajectories, plot rates, methods."),
    "rothc": ("fourp1000.cli.rothc:rothc",
              "Run RothC-26.3 on FILE, a site in the official RothC input format (v1 or v2)."),
    "schema": ("fourp1000.cli.schema:schema",
               "Print the input model: every column, its unit, valid range and meaning."),
    "score": ("fourp1000.cli.project:score",
              "Score farms against 4 per 1000: area-weighted totals per farm, for batch work."),
    "template": ("fourp1000.cli.template:template",
                 "Write a starter input file: every column named with its unit, two example plots."),
}


#: Commands whose first argument, FILE, is read whole when smaller than ``STREAM_BYTES``.
READS_INPUT = ("compare", "estimate", "plan", "project", "report", "score")
# Options after which FILE is streamed, read by another engine or maybe not as CSV, or not read at all.
_NOT_READ_WHOLE = ("--chunk-rows", "--engine", "--input-format", "--help", "-h")


def _parses_ahead(args: list[str]) -> bool:
    """Whether the command line ``args`` (command name first) reads FILE, given right after the
    command, whole as CSV: then it is worth parsing while the command is imported."""
    return (len(args) > 1 and args[0] in READS_INPUT and not args[1].startswith("-")
            and not any(a.startswith(_NOT_READ_WHOLE) for a in args[2:]))


class LazyGroup(click.Group):
    """A click group whose commands are imported on first use, from ``module:attribute`` paths.

    Parameters
    ----------
    lazy_commands : dict
        Command name -> (``module:attribute``, summary); the summary is listed by ``--help``.
    """

    def __init__(self, *args, lazy_commands: dict[str, tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        """The command of ``args``; a large CSV FILE right after a command that reads it whole
        starts being parsed now, while the command's modules are imported (:mod:`fourp1000.io.prefetch`)."""
        if _parses_ahead(args):
            prefetch.start(args[1], STREAM_BYTES)
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy_commands:
            module_name, attribute = self.lazy_commands[cmd_name][0].split(":")
            _keep_freed_memory()
            with _imports_without_collections():
                self.add_command(getattr(importlib.import_module(module_name), attribute), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """List every command with its short help, as click does, without importing them."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)  # click's own layout
        rows = [(name, self.command_summary(name, limit)) for name in names]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def command_summary(self, name: str, limit: int) -> str:
        """The command's one-line help, from its summary where it is not imported yet."""
        if name in self.lazy_commands:
            return click.Command(name, help=self.lazy_commands[name][1]).get_short_help_str(limit)
        return self.commands[name].get_short_help_str(limit)


@click.group(cls=LazyGroup, lazy_commands=COMMANDS, context_settings=CONTEXT_SETTINGS)
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
    _freeze_at_exit()


# mallopt(3) parameters of glibc's allocator.
_M_TRIM_THRESHOLD, _M_TOP_PAD, _M_MMAP_THRESHOLD = -1, -2, -3


@functools.cache  # once per process, before the command's modules make their first arrays
def _keep_freed_memory() -> None:
    """Have glibc's allocator keep the memory a command frees for the arrays it makes next.

    By default glibc maps each array of more than a few hundred kB from the kernel and
    unmaps it when freed; the kernel then hands zeroed pages again to the next array, one
    page fault per 4 kB. A command makes dozens of arrays of a million numbers: measured on
    `estimate` of 1 M rows, 0.1 s less system time and 4 % less wall time with arrays of up
    to 32 MB taken from the heap and up to 1 GB of freed heap kept; the peak memory of a
    streamed `score` grew by 4 %. Nothing changes where the C library has no ``mallopt``
    (musl, macOS), nor when the user tunes the allocator (``MALLOC_*_`` variables or
    ``glibc.malloc`` tunables).
    """
    if any(name.startswith("MALLOC_") for name in os.environ) or "glibc.malloc" in os.environ.get("GLIBC_TUNABLES", ""):
        return
    try:
        import ctypes

        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError, ImportError):
        return
    for option, value in ((_M_MMAP_THRESHOLD, 32 << 20), (_M_TRIM_THRESHOLD, 1 << 30), (_M_TOP_PAD, 64 << 20)):
        mallopt(option, value)


@contextlib.contextmanager
def _imports_without_collections() -> Iterator[None]:
    """No garbage collection while a command's modules are imported, and the objects alive
    after it set aside from later collections (``gc.freeze``).

    Importing pandas, pyarrow and the science makes about a million objects that live as
    long as the process: the collector, run every 700 new objects, walks them about 170
    times (0.04-0.07 s of each command) and finds next to nothing to free. Set aside, they
    are not walked again by the collections of the command's own work.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


@functools.cache  # once per process
def _freeze_at_exit() -> None:
    """Set the objects alive at exit aside from the interpreter's last garbage collections.

    Tearing its modules down, the interpreter walks every object of the imported libraries
    (pandas, numba, ...) in collections, again and again: about 0.2 s of each command, to
    reclaim memory the process hands back anyway. Registered before the command runs, the
    handler runs after the command's own exit handlers; objects freed by reference counting
    are still freed (and finalised) as before.
    """
    atexit.register(gc.freeze)
