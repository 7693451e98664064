"""Option bundles and error handling shared by every command.

Exit codes (documented in docs/cli.md):

* 0 - success
* 1 - data or runtime error (bad input, unknown unit/factor, unreadable file)
* 2 - usage error (bad option or argument; click's own code)
* 3 - ran, but the 4 per 1000 check failed (``--check`` on ``score``/``project``/``compare``)
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable

import click

from ..errors import FourP1000Error, ValidationError

EXIT_OK = 0
EXIT_DATA_ERROR = 1
EXIT_USAGE = 2
EXIT_TARGET_MISSED = 3

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def echo_err(message: str) -> None:
    """Print a line on stderr (never on stdout: stdout carries results only)."""
    click.echo(message, err=True)


def report_error(exc: FourP1000Error, *, max_lines: int = 1000) -> None:
    """Print a library error as ``Error: ...`` lines on stderr."""
    if isinstance(exc, ValidationError) and exc.problems:
        n = len(exc.problems)
        echo_err(f"Error: {n} problem{'s' if n != 1 else ''} in input:")
        for problem in exc.problems[:max_lines]:
            echo_err(f"  {problem}")
        if n > max_lines:
            echo_err(f"  ... and {n - max_lines} more (use --on-error skip --rejects FILE to get them all)")
    else:
        echo_err(f"Error: {exc}")


def handle_errors(func: Callable) -> Callable:
    """Map library exceptions to a one-line error and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except FourP1000Error as exc:
            report_error(exc)
            sys.exit(exc.exit_code)
        except OSError as exc:  # "path: reason", not "[Errno 2] ...: 'path'"
            where = f"{exc.filename}: " if exc.filename else ""
            echo_err(f"Error: {where}{exc.strerror}" if exc.strerror else f"Error: {exc}")
            sys.exit(EXIT_DATA_ERROR)
        except UnicodeError as exc:
            echo_err(f"Error: {exc}")
            sys.exit(EXIT_DATA_ERROR)
        except (click.exceptions.Exit, click.ClickException, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # a bug: still one line, never a traceback for users
            if os.environ.get("FOURP1000_DEBUG"):
                raise
            echo_err(f"Error: internal error ({type(exc).__name__}: {exc}); set FOURP1000_DEBUG=1 for details "
                     "and please report it")
            sys.exit(EXIT_DATA_ERROR)

    return wrapper


def _set_sanitize(ctx: click.Context, param: click.Parameter, no_sanitize: bool) -> None:
    from ..io.writers import sanitizing  # pandas: loaded with the command, not with `fourp1000 --help`

    # For the command's run only: the setting is restored when its context closes.
    ctx.with_resource(sanitizing(not no_sanitize))


def output_options(func: Callable) -> Callable:
    """``--format``, ``-o/--output``, ``-q/--quiet``, ``-v/--verbose``, ``--no-sanitize``.

    ``--no-sanitize`` is not passed to the command: it sets the writers' setting for the
    command's run (:func:`fourp1000.io.writers.sanitizing`), which every table and rejects
    file honours.
    """
    from ..io.writers import FORMATS  # pandas: loaded with the command, not with `fourp1000 --help`

    func = click.option(
        "--no-sanitize", is_flag=True, expose_value=False, callback=_set_sanitize,
        help="Write text cells verbatim in csv/xlsx (and --rejects) files. By default a cell starting with = + - @ "
             "or a tab gets a leading ' so spreadsheets never run it as a formula. For trusted pipelines only.",
    )(func)
    func = click.option(
        "-v", "--verbose", is_flag=True, help="More detail on stderr (methods, per-plot notes)."
    )(func)
    func = click.option("-q", "--quiet", is_flag=True, help="No progress or summary on stderr; errors only.")(func)
    func = click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, allow_dash=True),
        default=None,
        help="Write results to FILE instead of stdout ('-' is stdout): a regular file is replaced atomically, "
             "a device or FIFO written in place.",
    )(func)
    func = click.option(
        "-f",
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=None,
        help="Output format. Default: table on a terminal, csv in a pipe or file (xlsx for *.xlsx).",
    )(func)
    return func


def input_options(func: Callable) -> Callable:
    """``--sep``, ``--decimal``, ``--encoding``, ``--sheet``, ``--columns`` for reading tables."""
    func = click.option(
        "--columns",
        "columns_file",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="YAML map from your file's headers to ours, with units: {'Corg': {column: soc, unit: g/kg}}.",
    )(func)
    func = click.option("--sheet", default=None, help="Excel sheet name (default: the first sheet).")(func)
    func = click.option(
        "--encoding", default=None, help="Text encoding of CSV input (default: sniffed; UTF-8, UTF-8-BOM or latin-1)."
    )(func)
    func = click.option(
        "--decimal", default=None, type=click.Choice([".", ","]), help="Decimal mark of CSV input (default: sniffed)."
    )(func)
    func = click.option("--sep", default=None, help="CSV field separator (default: sniffed from , ; tab |).")(func)
    return func


def resolve_format(fmt: str | None, output: str | None) -> str:
    """Default format: from the output file's extension, else table on a terminal, else csv."""
    if fmt:
        return fmt
    if output not in (None, "-"):
        suffix = output.rsplit(".", 1)[-1].lower() if "." in output else ""
        return {"json": "json", "jsonl": "jsonl", "xlsx": "xlsx", "csv": "csv", "txt": "table"}.get(suffix, "csv")
    return "table" if sys.stdout.isatty() else "csv"


def load_horizons(file: str, *, sep=None, decimal=None, encoding=None, sheet=None, som_factor=None,
                  bd_basis="fine_earth", columns_file=None):
    """Read and normalise a horizon table (raises library errors; the caller maps them).

    The column map comes from ``--columns FILE``, else from the config file's ``columns:``.
    """
    from .. import read

    return read(file, columns=column_map_for(columns_file), som_factor=som_factor, bd_basis=bd_basis, sep=sep,
                decimal=decimal, encoding=encoding, sheet=sheet)


def column_map_for(columns_file: str | None) -> dict | None:
    """The column map of ``--columns FILE``, else the config file's ``columns:`` (else None)."""
    from ..io.horizons import load_column_map

    if columns_file:
        return load_column_map(columns_file)
    ctx = click.get_current_context(silent=True)
    return (ctx.find_root().obj or {}).get("column_map") if ctx else None


def report_warnings(problems, table, *, quiet: bool, verbose: bool, limit: int = 10) -> None:
    """Print warnings (problems that do not reject rows) on stderr."""
    if quiet or problems is None or not len(problems):
        return
    warnings = problems[problems["severity"] == "warning"]
    if not len(warnings):
        return
    items = table.problem_list(warnings)
    shown = items if verbose else items[:limit]
    for item in shown:
        echo_err(f"Warning: {item}")
    if len(items) > len(shown):
        echo_err(f"Warning: ... and {len(items) - len(shown)} more warnings (-v shows all)")


def write_rejects(rejects, path: str) -> None:
    """Write rejected rows (as read, plus row and reason) to a CSV file, atomically.

    Text cells are neutralised for spreadsheets unless ``--no-sanitize`` (the rows are the
    user's input, the likeliest place for a formula).
    """
    from ..io.rejects import rejects_csv_text
    from ..io.writers import atomic_write, sanitize_frame, sanitizing_enabled

    frame = sanitize_frame(rejects) if sanitizing_enabled() else rejects
    atomic_write(path, rejects_csv_text(frame))


class status:
    """A progress bar for one stage of a run, on stderr, only on a terminal and when not quiet.

    The work inside a stage is vectorised (no per-row loop to count), so the bar pulses
    and shows the stage and the elapsed time; it disappears when the stage ends.
    """

    def __init__(self, message: str, quiet: bool = False):
        self.message = message
        self.active = not quiet and sys.stderr.isatty()
        self._progress = None

    def __enter__(self):
        if self.active:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self._progress = Progress(
                SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                console=Console(stderr=True), transient=True,
            )
            self._progress.add_task(self.message, total=None)
            self._progress.start()
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            self._progress.stop()
        return False
