"""``fourp1000 report``: one self-contained HTML page of a projection."""

from __future__ import annotations

import io
import sys

import click

from ..errors import InputError
from ..io.writers import atomic_write
from .common import EXIT_TARGET_MISSED, echo_err, handle_errors, input_options, status
from .estimate import stock_options
from .project import model_options, projection_options, report_run, run_projection, summary_line, with_uncertainty
from .uncertainty_options import uncertainty_from_cli, uncertainty_options, uncertainty_summary, verdict_view


@click.command()
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False))
@projection_options
@model_options
@stock_options
@input_options
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True), default="report.html",
              show_default=True, help="HTML file to write (atomically); '-' is stdout.")
@click.option("--title", default=None, help="Page title (default: 'Soil carbon and the 4 per 1000 target').")
@click.option("--max-farm-figures", type=click.IntRange(0, 10_000), default=60, show_default=True,
              help="Trajectory figures for at most this many farms (best-ranked first).")
@click.option("--max-plot-rows", type=click.IntRange(0, 1_000_000), default=500, show_default=True,
              help="Leave the table of all plots out above this many plots.")
@click.option("--plan", "with_plan", is_flag=True,
              help="Add a section 'What would it take?': the fewest catalogue practices that would get each plot "
                   "to 4 per 1000 (and, with RothC, the extra carbon input), as `fourp1000 plan` finds them.")
@click.option("--observed/--no-observed", default=True, show_default=True,
              help="Draw each farm's measured stocks over time against the 4 per 1000 path when the input has "
                   "several dated samplings (the observed rate's verdict at --confidence); --no-observed skips it.")
@click.option("-q", "--quiet", is_flag=True, help="No summary on stderr; errors only.")
@click.option("-v", "--verbose", is_flag=True, help="Methods on stderr too.")
@uncertainty_options
@handle_errors
def report(file, output, title, max_farm_figures, max_plot_rows, with_plan, quiet, verbose, check, rejects, uncertainty,
           draws, seed, confidence, model, climate_file, **options):
    """Write an HTML report: farms, stock trajectories, plot rates, methods.

    Same input and options as `project`/`score`. The page is one self-contained file
    that opens offline (inline SVG figures, no scripts, fonts or links to fetch) and
    reads on a phone: a summary with the carbon stored (t C and t CO2e), farms ranked by
    rate, a trajectory figure per farm against the 4 per 1000 path, the distribution of
    plot rates, the plots that fall short (plots with an estimated bulk density or an
    extrapolated depth marked), then appendices with the methods, sources, settings and
    the input file's SHA-256. Set SOURCE_DATE_EPOCH for a reproducible page. With
    --uncertainty, the page adds 95 % intervals, a band around each trajectory and the
    probability of meeting 4 per 1000, and counts plots and farms meeting it at
    --confidence. --model rothc (with a monthly --climate table)
    reports RothC-26.3 projections; --model ipcc,rothc shows both models, each labelled.
    With --check, exits 3 when any farm (any plot, where plots lack area_ha) misses
    4 per 1000 (at --confidence with --uncertainty); the report is still written.

    \b
    Examples:
      fourp1000 report examples/plots.csv -o report.html
      fourp1000 report examples/plots.csv --practice cover_crops --years 30 --on-error skip -o cc.html
      fourp1000 report examples/plots.csv --uncertainty --draws 2000 -o report.html
      fourp1000 report examples/plots.csv --model ipcc,rothc --climate examples/climate.csv -o r.html
      fourp1000 report examples/plots.csv --plan -o report.html
      SOURCE_DATE_EPOCH=0 fourp1000 report examples/plots.csv -o report.html
    """
    from .. import report as lib

    unc = uncertainty_from_cli(uncertainty, draws, seed, confidence)
    if unc is not None and tuple(model) != ("ipcc",):
        raise click.UsageError("--uncertainty applies to --model ipcc only")
    # Read stdin (or a FIFO, <(...)) once, so the report hashes exactly what the projection reads.
    data = _read_once(file)
    table, result = run_projection(file, quiet=quiet, stdin=io.BytesIO(data) if data is not None else None,
                                   model=model, climate=climate_file, observed_confidence=confidence, **options)
    # Hashed after reading, so a missing file gets the reader's own error message.
    input_file = (lib.InputFile.from_bytes("<stdin>" if file == "-" else file, data) if data is not None
                  else lib.InputFile.from_path(file))
    climate = lib.InputFile.from_path(climate_file) if climate_file and "rothc" in model else None
    if len(result.plots) == 0:
        raise InputError(f"{table.label}: no plot could be projected; nothing to report")
    result = with_uncertainty(table, result, unc, quiet)
    # Warnings, rejected rows and (-v) methods on stderr, as `project` and `score` print them.
    report_run(result, table, quiet=quiet, verbose=verbose, rejects=rejects, fmt="html", what="farms")
    notes = _notes(table, result)
    plan = None
    if with_plan:
        from ..plan import PlanOptions, plan_table

        with status("Planning", quiet):
            plan = plan_table(table, PlanOptions(result.options))
    html_text = lib.build_report(result, input_file=input_file, climate_file=climate, title=title, notes=notes,
                                 max_plot_rows=max_plot_rows, max_farm_figures=max_farm_figures,
                                 confidence=None if unc is None else unc.confidence, plan=plan)
    if output == "-":
        sys.stdout.write(html_text)
        sys.stdout.flush()
    else:
        atomic_write(output, html_text)
    if not quiet:
        where = "stdout" if output == "-" else output
        echo_err(f"{summary_line(result, result.farms)}; report written to {where}")
        if unc is not None:
            echo_err(uncertainty_summary(result.plots, result.farms, unc))
    if check:
        # Farms are scored where they have area-weighted totals; otherwise plots are.
        scored = verdict_view(result.farms if result.farms is not None else result.plots, unc)
        if len(scored) and not scored["meets_4p1000"].all():
            sys.exit(EXIT_TARGET_MISSED)


def _read_once(file: str) -> bytes | None:
    """The bytes of stdin or of a file that can be read only once (a FIFO, ``<(...)``); None
    for a regular file (read, then hashed, from its path) or a missing one (the reader says so)."""
    import os

    from ..io.readers import read_stream

    if file == "-":
        return read_stream(sys.stdin.buffer, "<stdin>")
    if os.path.exists(file) and not os.path.isfile(file) and not os.path.isdir(file):
        with open(file, "rb") as fh:
            return read_stream(fh, file)
    return None


def _notes(table, result, limit: int = 200) -> list[str]:
    """Warnings and rejected rows, one line each, for the report's data notes."""
    problems = result.problems
    if problems is None or not len(problems):
        return []
    items = table.problem_list(problems)
    lines = [str(p) for p in items[:limit]]
    if len(items) > limit:
        lines.append(f"... and {len(items) - limit} more problems (`fourp1000 project -v` lists them all)")
    if len(result.rejects):
        n = len(result.rejects)
        lines.append(f"{n} row{'s' if n != 1 else ''} rejected (--on-error skip); --rejects FILE writes them")
    return lines


__all__ = ["report"]
