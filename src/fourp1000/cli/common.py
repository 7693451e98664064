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
    """Print a library error as ``Error: ...`` lines on stderr.

    When most problems share one cause, a leading line names it and its fix; problems that
    follow from others (a plot without a usable layer after its values failed) are folded
    into one line under them (:func:`fourp1000.io.problems.summarise`).
    """
    if isinstance(exc, ValidationError) and exc.problems:
        from ..io.problems import summarise

        n = len(exc.problems)
        echo_err(f"Error: {n} problem{'s' if n != 1 else ''} in input:")
        summary = summarise(exc.problems)
        for line in summary.lead:
            echo_err(f"  {line}")
        for problem in summary.shown[:max_lines]:
            echo_err(f"  {problem}")
        if len(summary.shown) > max_lines:
            echo_err(f"  ... and {len(summary.shown) - max_lines} more (use --on-error skip --rejects FILE to get "
                     "them all)")
        for line in summary.folded:
            echo_err(f"  {line}")
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


INPUT_META = "fourp1000.input"  # ctx.meta key of --thousands, --header-row and --set


def _store_input(ctx: click.Context, param: click.Parameter, value):
    """Keep --thousands, --header-row and --set for the input readers (not passed to commands)."""
    if param.name == "assignments":
        value = _parse_assignments(value)
    ctx.meta.setdefault(INPUT_META, {})[param.name] = value
    return value


def _parse_assignments(values) -> dict[str, str]:
    out = {}
    for item in values or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise click.BadParameter(f"expected COLUMN=VALUE, got {item!r}", param_hint="--set")
        out[name.strip()] = value.strip()
    return out


def input_options(func: Callable) -> Callable:
    """``--sep``, ``--decimal``, ``--thousands``, ``--encoding``, ``--sheet``, ``--header-row``,
    ``--columns``, ``--set`` for reading tables.

    ``--thousands``, ``--header-row`` and ``--set`` are not passed to the command: they are
    kept in the click context and read by :func:`load_horizons` and :func:`read_input`.
    """
    func = click.option(
        "--set", "assignments", multiple=True, metavar="COLUMN=VALUE", expose_value=False, callback=_store_input,
        help="A value for every row, e.g. --set land_use=cropland --set bottom_cm=23 (repeatable; wins over the "
             "file's column and the --columns map's constants).",
    )(func)
    func = click.option(
        "--columns",
        "columns_file",
        type=click.Path(exists=True, dir_okay=False),
        default=None,
        help="YAML map from your file's headers to ours, with units: {'Corg': {column: soc, unit: g/kg}}; also "
             "plot_id: [col1, col2], constants: {land_use: cropland}, ignore: [pedon_id] (docs/input-format.md).",
    )(func)
    func = click.option(
        "--header-row", type=click.IntRange(1, None), default=None, expose_value=False, callback=_store_input,
        help="Row number of the header (1 = first), for a title block above it (default: 1 for CSV, detected for "
             "Excel).",
    )(func)
    func = click.option("--sheet", default=None,
                        help="Excel sheet name or number, 1 = first (default: the first sheet).")(func)
    func = click.option(
        "--encoding", default=None, help="Text encoding of CSV input (default: sniffed; UTF-8, UTF-8-BOM or latin-1)."
    )(func)
    func = click.option(
        "--thousands", default=None, type=click.Choice([".", ",", " ", "'"]), expose_value=False,
        callback=_store_input,
        help="Thousands separator of numbers written as text (default: none, or judged per column).",
    )(func)
    func = click.option(
        "--decimal", default=None, type=click.Choice([".", ","]),
        help="Decimal mark of numbers written as text, CSV or Excel text cells (default: judged per column).",
    )(func)
    func = click.option("--sep", default=None, help="CSV field separator (default: sniffed from , ; tab |).")(func)
    return func


def input_extras() -> dict:
    """``thousands``, ``header_row`` and ``assignments`` (``--set``) of the running command."""
    ctx = click.get_current_context(silent=True)
    extras = {"thousands": None, "header_row": None, "assignments": {}}
    if ctx is not None:  # ctx.meta is shared by the nested contexts of one run
        extras.update(ctx.meta.get(INPUT_META, {}))
    return extras


def read_input(file: str, *, sep=None, decimal=None, encoding=None, sheet=None, stdin=None):
    """Read FILE as published (``io.readers.read_table``) with every input option of the command."""
    from ..io.readers import read_table

    extras = input_extras()
    return read_table(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, stdin=stdin,
                      thousands=extras["thousands"], header_row=extras["header_row"])


def resolve_format(fmt: str | None, output: str | None) -> str:
    """Default format: from the output file's extension, else table on a terminal, else csv."""
    if fmt:
        return fmt
    if output not in (None, "-"):
        suffix = output.rsplit(".", 1)[-1].lower() if "." in output else ""
        return {"json": "json", "jsonl": "jsonl", "xlsx": "xlsx", "csv": "csv", "txt": "table",
                "parquet": "parquet", "pq": "parquet"}.get(suffix, "csv")
    return "table" if sys.stdout.isatty() else "csv"


def load_horizons(file: str, *, sep=None, decimal=None, encoding=None, sheet=None, som_factor=None,
                  bd_basis="fine_earth", columns_file=None):
    """Read and normalise a horizon table (raises library errors; the caller maps them).

    The column map comes from ``--columns FILE``, else from the config file's ``columns:``.
    """
    from ..io.horizons import normalise
    from ..io.schema import VAN_BEMMELEN

    raw = read_input(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet)
    return normalise(raw, som_factor=som_factor or VAN_BEMMELEN, bd_basis=bd_basis,
                     column_map=column_map_for(columns_file))


def column_map_for(columns_file: str | None) -> dict | None:
    """The column map of ``--columns FILE``, else the config file's ``columns:`` (else None),
    with the ``--set`` constants added."""
    from ..io.columns import load_column_map, with_constants

    if columns_file:
        column_map = load_column_map(columns_file)
    else:
        ctx = click.get_current_context(silent=True)
        column_map = (ctx.find_root().obj or {}).get("column_map") if ctx else None
    return with_constants(column_map, input_extras()["assignments"])


def report_columns(table, *, quiet: bool, verbose: bool) -> None:
    """What became of the input columns, on stderr: ignored columns, warnings and notes
    always (unless quiet); with -v also the columns used and mapped."""
    if quiet:
        return
    report = getattr(table, "columns", None)
    if report is None:
        return
    if verbose:
        if report.used:
            echo_err(f"Columns used: {', '.join(report.used)}")
        if report.mapped:
            echo_err("Columns mapped: " + ", ".join(f"{k!r} -> {v}" for k, v in report.mapped.items()))
        if report.constants:
            echo_err("Constants: " + ", ".join(f"{k}={v}" for k, v in report.constants.items()))
    by_reason: dict[str, list[str]] = {}
    for column, why in report.ignored.items():
        by_reason.setdefault(why, []).append(column)
    for why, columns in by_reason.items():
        echo_err(f"Columns ignored ({why}): {', '.join(columns)}")
    for line in report.warnings:
        echo_err(f"Warning: {line}")
    for line in report.notes:
        echo_err(f"Note: {line}")


def columns_meta(*tables) -> dict:
    """The JSON ``meta`` entry ``columns``: used, mapped, ignored, constants, warnings, notes."""
    reports = [t.columns.as_dict() for t in tables if t is not None and getattr(t, "columns", None) is not None]
    if len(reports) == 1:
        return {"columns": reports[0]}
    return {"columns": reports}


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
