"""Option bundles and error handling shared by every command.

Exit codes (documented in docs/cli.md):

* 0 - success
* 1 - data or runtime error (bad input, unknown unit/factor, unreadable file)
* 2 - usage error (bad option or argument; click's own code)
* 3 - ran, but the 4 per 1000 check failed (``--check`` on ``score``/``project``/``compare``)
"""

from __future__ import annotations

import functools
import math
import os
import sys
import warnings
from collections.abc import Callable

import click

from ..errors import FourP1000Error, ValidationError
from ..io.text import printable

EXIT_OK = 0
EXIT_DATA_ERROR = 1
EXIT_USAGE = 2
EXIT_TARGET_MISSED = 3

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def echo_err(message: str) -> None:
    """Print one line on stderr (never on stdout: stdout carries results only); control
    characters in it are escaped (:func:`printable`)."""
    click.echo(printable(message), err=True)


def report_error(exc: FourP1000Error, *, max_lines: int = 1000) -> None:
    """Print a library error as ``Error: ...`` lines on stderr.

    When most problems share one cause, a leading line names it and its fix
    (:func:`fourp1000.io.problems.summarise`); knock-on problems come folded under their cause.
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
    else:
        echo_err(f"Error: {exc}")


# Parameters naming files a command reads, and those naming files it writes (with their flag).
_INPUT_PARAMS = ("file", "file2", "climate_file", "columns_file")
_OUTPUT_PARAMS = {"output": "-o", "rejects": "--rejects", "farm_summary": "--farm-summary", "cores_file": "--cores"}


def check_outputs(params: dict) -> None:
    """Refuse (exit 2) an output file that is an input file or another output of the run:
    replacing it would destroy the input before anyone saw the results."""
    inputs = [(name, params[name]) for name in _INPUT_PARAMS if params.get(name) not in (None, "-")]
    outputs = [(flag, params[name]) for name, flag in _OUTPUT_PARAMS.items() if params.get(name) not in (None, "-")]
    for i, (flag, out) in enumerate(outputs):
        if any(os.path.normpath(out) == os.path.normpath(p) for _, p in outputs[i + 1:]) and os.path.normpath(out) \
                not in ("/dev/null", "/dev/stdout", "/dev/stderr"):
            raise click.UsageError(f"{flag} {out} is given for two outputs: write them to two files")
        if not os.path.isfile(out):
            continue  # new files, devices and pipes cannot be an input file
        for other, path in inputs + [(f, p) for f, p in outputs[i + 1:]]:
            try:
                same = os.path.samefile(out, path)
            except OSError:
                continue
            if same:
                what = "the input file" if other in _INPUT_PARAMS else f"also the {other} file"
                raise click.UsageError(f"{flag} {out} is {what} {path}: write it elsewhere")


def handle_errors(func: Callable) -> Callable:
    """Map library exceptions to a one-line error and exit code 1 (no traceback)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        check_outputs(kwargs)
        try:
            with warnings.catch_warnings():
                if not os.environ.get("FOURP1000_DEBUG"):  # library warnings are not messages for users
                    warnings.simplefilter("ignore")
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
        except MemoryError:
            echo_err("Error: out of memory; the input (or --draws, --bootstrap) is too large for this machine: "
                     "split the input or lower the option")
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


#: --som-factor: SOM contains its carbon, so the ratio is at least 1; Pribyl (2010, Geoderma 156:75,
#: doi:10.1016/j.geoderma.2010.02.003) finds 1.4-2.5 from composition, a median of 1.9 in empirical studies.
SOM_FACTOR_RANGE = (1.0, 3.0)
#: --stone-density [g cm-3]: a sanity range for the particle density of rock fragments (the 2.65 default
#: is quartz); outside it the value is not a rock's.
STONE_DENSITY_RANGE = (0.5, 6.0)


class FiniteRange(click.FloatRange):
    """A float option within a range that, unlike ``click.FloatRange``, refuses ``nan`` and
    ``inf`` (``nan`` compares false with every bound, so a plain range lets it through)."""

    name = "float"

    def convert(self, value, param, ctx):
        number = click.FLOAT.convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return super().convert(number, param, ctx)


def bounded(limit_name: str) -> Callable:
    """An option callback refusing a whole number above limit ``limit_name`` (:mod:`fourp1000.limits`),
    read when the command runs, so ``FOURP1000_<NAME>`` raises it."""

    def check(ctx: click.Context, param: click.Parameter, value):
        from ..errors import InputError
        from ..limits import DEFAULTS, limit

        try:
            bound = limit(limit_name)
        except InputError as exc:
            raise click.BadParameter(str(exc)) from None
        if value is not None and value > bound:
            raise click.BadParameter(f"{value:,} is above the limit of {bound:,} {DEFAULTS[limit_name][1]} "
                                     f"(set FOURP1000_{limit_name} to raise it)")
        return value

    return check


def checked_by(parse: Callable, *, parsed: bool = False) -> Callable:
    """An option callback running ``parse`` on the value when the command line is parsed: a
    library :class:`~fourp1000.errors.InputError` becomes a usage error (exit 2). Returns the
    value as given, or what ``parse`` returns with ``parsed=True``; None passes unchecked."""

    def check(ctx: click.Context, param: click.Parameter, value):
        from ..errors import InputError

        if value is None:
            return value
        try:
            result = parse(value)
        except InputError as exc:
            raise click.BadParameter(str(exc)) from None
        return result if parsed else value

    return check


def _check_encoding_name(value: str) -> None:
    from ..io.text import check_encoding_name

    check_encoding_name(value)


def _check_sep(ctx: click.Context, param: click.Parameter, value):
    """One character (``tab`` or ``\\t`` for a tab), not a quote or a line break."""
    if value is None:
        return value
    value = {"tab": "\t", "\\t": "\t"}.get(value.lower(), value)
    if len(value) != 1 or value in "\"\r\n\x00":
        raise click.BadParameter(f"expected one character (or 'tab'), not a quote or a line break; got {value!r}")
    return value


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
    """Keep --thousands, --header-row, --input-format and --set for the input readers (not passed to commands)."""
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
    ``--input-format``, ``--columns``, ``--set`` for reading tables.

    ``--thousands``, ``--header-row``, ``--input-format`` and ``--set`` are not passed to the command: they are
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
        "--input-format", type=click.Choice(["csv", "xlsx", "parquet", "yaml"]), default=None, expose_value=False,
        callback=_store_input,
        help="Format of FILE whatever its name (default: by extension, else sniffed; for '-', FIFOs and <(...)).",
    )(func)
    func = click.option(
        "--header-row", type=click.IntRange(1, 1_048_576), default=None, expose_value=False, callback=_store_input,
        help="Row number of the header (1 = first), for a title block above it (default: 1 for CSV, detected for "
             "Excel).",
    )(func)
    func = click.option("--sheet", default=None,
                        help="Excel sheet name or number, 1 = first (default: the first sheet).")(func)
    func = click.option(
        "--encoding", default=None, callback=checked_by(_check_encoding_name),
        help="Text encoding of CSV input (default: sniffed on the whole file; UTF-8, UTF-8-BOM, UTF-16 with BOM or "
             "latin-1, stated).",
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
    func = click.option("--sep", default=None, callback=_check_sep,
                        help="CSV field separator, one character or 'tab' (default: sniffed from , ; tab |).")(func)
    return func


def input_extras() -> dict:
    """``thousands``, ``header_row``, ``input_format`` and ``assignments`` (``--set``) of the running command."""
    ctx = click.get_current_context(silent=True)
    extras = {"thousands": None, "header_row": None, "input_format": None, "assignments": {}}
    if ctx is not None:  # ctx.meta is shared by the nested contexts of one run
        extras.update(ctx.meta.get(INPUT_META, {}))
    return extras


def read_input(file: str, *, sep=None, decimal=None, encoding=None, sheet=None, stdin=None):
    """Read FILE as published (``io.readers.read_table``) with every input option of the command."""
    from ..io.readers import read_table

    extras = input_extras()
    return read_table(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, stdin=stdin,
                      thousands=extras["thousands"], header_row=extras["header_row"],
                      input_format=extras["input_format"])


def resolve_format(fmt: str | None, output: str | None) -> str:
    """Default format: from the output file's extension, else table on a terminal, else csv.

    ``-o DIR/`` (a path ending with a slash) is a folder for a Parquet dataset: another
    ``--format`` with it is a usage error rather than a format silently replaced.
    """
    if output not in (None, "-") and output.endswith(("/", os.sep)):
        if fmt not in (None, "parquet"):
            raise click.UsageError(f"-o {output} names a folder, which takes a Parquet dataset: use -f parquet, "
                                   "or a file name for -f " + fmt)
        return "parquet"
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
