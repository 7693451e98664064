"""``fourp1000 estimate``: SOC stocks per plot over a standard depth."""

from __future__ import annotations

import sys

import click

from ..io.horizons import BD_BASES
from ..io.writers import write_tables
from ..stocks.estimate import (DEPTH_METHODS, MAX_DEPTH_CM, MAX_EXTRAPOLATE_CM, MAX_EXTRAPOLATE_SHARE, EstimateOptions,
                               estimate_stocks, parse_depth)
from ..stocks.plausibility import count as plausibility_count
from ..stocks.ptf import PTF_CHOICES
from ..io.schema import VAN_BEMMELEN
from ..stocks.layers import STONE_DENSITY_G_CM3
from .common import (
    checked_by,
    EXIT_DATA_ERROR,
    SOM_FACTOR_RANGE,
    STONE_DENSITY_RANGE,
    FiniteRange,
    columns_meta,
    echo_err,
    handle_errors,
    input_options,
    load_horizons,
    output_options,
    report_columns,
    report_warnings,
    resolve_format,
    status,
    write_rejects,
)
from .streaming import chunk_size, engine_options, streamed_source
from .uncertainty_options import uncertainty_from_cli, uncertainty_meta, uncertainty_options, with_interval_columns


# Columns shown in the terminal table (csv/json carry them all).
TABLE_VIEW = {
    "plots": ["plot_id", "farm_id", "sampled_on", "core_id", "top_cm", "bottom_cm", "soc_stock_t_ha", "co2e_t_ha",
              "target_4p1000_t_ha_yr", "bd_estimated", "extrapolated", "area_ha"],
}


def stock_options(func):
    """Options shared by every command that computes stocks from horizons."""
    options = [
        click.option("--depth", default="30", show_default=True, callback=checked_by(parse_depth),
                     help="Standard depth interval in cm: 30 means 0-30; or TOP-BOTTOM, e.g. 0-40."),
        click.option("--depth-method", type=click.Choice(DEPTH_METHODS), default="proportional", show_default=True,
                     help="How layers are cut to the interval: by overlap, or mass-preserving spline (Bishop et al. 1999)."),
        click.option("--spline-lambda", type=FiniteRange(0, 1e6, min_open=True), default=0.1, show_default=True,
                     help="Smoothing parameter of the spline."),
        click.option("--extrapolate", is_flag=True,
                     help="Extrapolate profiles shorter than the interval and fill gaps, within the bounds below "
                          "(exponential decline; one-layer profiles: Jobbagy & Jackson 2000 depth distribution); "
                          "extrapolated_cm and extrapolated_share in the output."),
        click.option("--max-extrapolate-cm", type=FiniteRange(0, MAX_DEPTH_CM), default=MAX_EXTRAPOLATE_CM,
                     show_default=True, help="With --extrapolate: at most this depth below the deepest layer [cm]; "
                                             "deeper, the plot is rejected."),
        click.option("--max-extrapolate-share", type=FiniteRange(0, 1), default=MAX_EXTRAPOLATE_SHARE,
                     show_default=True, help="With --extrapolate: at most this share of the interval invented "
                                             "(gaps and extension); more, the plot is rejected."),
        click.option("--depth-tolerance", type=FiniteRange(0, 100), default=0.0, show_default=True,
                     metavar="CM", help="Close gaps and overlaps between layers up to CM at their midpoint "
                                        "(e.g. 0-10, 11-20 sampling); each is reported as a warning."),
        click.option("--strict", is_flag=True,
                     help="Plausibility warnings (g/kg written as %, mm depths, BD implausible for its SOC, ...) "
                          "become errors: the rows or plots are rejected."),
        click.option("--bd-ptf", type=click.Choice(PTF_CHOICES), default="auto", show_default=True,
                     help="Pedotransfer function for missing bulk density (see docs/methods.md)."),
        click.option("--bd-basis", type=click.Choice(BD_BASES), default="fine_earth", show_default=True,
                     help="What bulk_density_g_cm3 means where rows have no bd_basis column."),
        click.option("--som-factor", type=FiniteRange(*SOM_FACTOR_RANGE), default=VAN_BEMMELEN,
                     show_default=True,
                     help="SOM/SOC ratio for som_pct input (van Bemmelen 1.724; 1-3, Pribyl 2010)."),
        click.option("--stone-density", type=FiniteRange(*STONE_DENSITY_RANGE), default=STONE_DENSITY_G_CM3,
                     show_default=True,
                     help="Particle density of coarse fragments [g/cm3], to convert mass % to volume % (0.5-6)."),
        click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
                     help="fail: report every problem and stop; skip: score valid plots, report and reject the others."),
        click.option("--rejects", type=click.Path(dir_okay=False), default=None,
                     help="With --on-error skip: write rejected rows, with a reason column, to this CSV."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def options_from_cli(depth, depth_method, spline_lambda, extrapolate, bd_ptf, som_factor, stone_density, on_error,
                     *, max_extrapolate_cm=MAX_EXTRAPOLATE_CM, max_extrapolate_share=MAX_EXTRAPOLATE_SHARE,
                     depth_tolerance=0.0, strict=False):
    top, bottom = parse_depth(depth)
    return EstimateOptions(
        top_cm=top, bottom_cm=bottom, depth_method=depth_method, spline_lambda=spline_lambda, bd_ptf=bd_ptf,
        extrapolate=extrapolate, som_factor=som_factor, stone_density_g_cm3=stone_density, on_error=on_error,
        depth_tolerance_cm=depth_tolerance, max_extrapolate_cm=max_extrapolate_cm,
        max_extrapolate_share=max_extrapolate_share, strict=strict,
    )


def rows_meta(n_rows: int, n_rejected: int, n_not_needed: int = 0) -> dict:
    """The row accounting of the JSON meta: ``rows_read == rows_used + rows_not_needed + rows_rejected``."""
    return {"rows_read": int(n_rows), "rows_used": int(n_rows - n_rejected - n_not_needed),
            "rows_not_needed": int(n_not_needed), "rows_rejected": int(n_rejected)}


def rows_summary(n_rows: int, n_plots: int, n_rejected: int, problems, n_not_needed: int = 0) -> str:
    """The end-of-run line: rows read, plots scored, rows rejected (and not needed), plausibility warnings."""
    from ..stocks.plausibility import count

    line = f"{n_rows} rows read, {n_plots} plots scored, {n_rejected} rows rejected"
    if n_not_needed:  # organic layers above the mineral surface
        line += f", {n_not_needed} rows not needed (organic layers above the mineral surface)"
    n_warn = count(problems)
    return line + (f", {n_warn} plausibility warning{'s' if n_warn != 1 else ''} (--strict rejects them)"
                   if n_warn else "")


@click.command()
@click.argument("file", type=click.Path(allow_dash=True))  # a folder: a Parquet dataset (streamed)
@stock_options
@input_options
@output_options
@click.option("--farm-summary", type=click.Path(dir_okay=False), default=None,
              help="Also write the per-farm summary to this file (csv/json/xlsx by extension).")
@uncertainty_options
@engine_options
@handle_errors
def estimate(file, depth, depth_method, spline_lambda, extrapolate, max_extrapolate_cm, max_extrapolate_share,
             depth_tolerance, strict, bd_ptf, bd_basis, som_factor, stone_density, on_error, rejects, sep, decimal,
             encoding, sheet, columns_file, fmt, output, quiet, verbose, farm_summary, uncertainty, draws, seed,
             confidence, chunk_rows, engine, scheduler):
    """Estimate SOC stocks (t C/ha, t CO2e/ha) per plot over a standard depth.

    FILE is a horizon table (CSV, Excel, Parquet or YAML; '-' reads stdin): one row per
    layer, with plot_id, top_cm, bottom_cm and soc_g_kg / soc_pct / som_pct; see
    `fourp1000 schema`. Each plot also gets its 4 per 1000 target: the yearly gain
    (0.004 x stock) that would meet the 4 per 1000 rate.

    \b
    Examples:
      fourp1000 estimate examples/plots.csv
      fourp1000 estimate examples/plots.csv --depth 0-40 --depth-method spline --extrapolate -f json -o stocks.json
      fourp1000 estimate examples/plots_eu.csv --on-error skip --rejects rejected.csv
      fourp1000 estimate examples/plots_eu.csv --depth-tolerance 1 --strict
      fourp1000 estimate examples/plots.csv --depth 0-50 --extrapolate --max-extrapolate-cm 20
      cat examples/farm.yaml | fourp1000 estimate - --format csv
      fourp1000 estimate examples/plots.csv --uncertainty --draws 2000 -o stocks.csv
      fourp1000 estimate examples/plots.csv --chunk-rows 5 -o stocks.parquet

    Files of 128 MB or more are streamed in parts of whole plots (csv, jsonl and
    parquet output); see docs/scale.md.
    """
    opts = options_from_cli(depth, depth_method, spline_lambda, extrapolate, bd_ptf, som_factor, stone_density, on_error,
                            max_extrapolate_cm=max_extrapolate_cm, max_extrapolate_share=max_extrapolate_share,
                            depth_tolerance=depth_tolerance, strict=strict)
    unc = uncertainty_from_cli(uncertainty, draws, seed, confidence)
    fmt = resolve_format(fmt, output)
    from .common import column_map_for

    read_options = {"som_factor": som_factor or VAN_BEMMELEN, "bd_basis": bd_basis,
                    "column_map": column_map_for(columns_file)}
    if engine == "dask":
        from .dask_engine import run_dask

        if unc is not None:
            raise click.UsageError("--engine dask streams the input, but --uncertainty needs every plot at once")
        return run_dask("estimate", file, fmt=fmt, output=output, chunk_rows=chunk_rows, read_options=read_options,
                        options=opts, params={"quiet": quiet, "verbose": verbose, "rejects": rejects,
                                              "farm_summary": farm_summary, "scheduler": scheduler})
    streamed = streamed_source(file, fmt, chunk_rows=chunk_rows, column_map=read_options["column_map"], quiet=quiet,
                               whole="--uncertainty needs every plot at once" if unc is not None else None,
                               sep=sep, decimal=decimal, encoding=encoding, sheet=sheet)
    if streamed is not None:
        return _estimate_streamed(*streamed, opts=opts, read_options=read_options, fmt=fmt, output=output,
                                  quiet=quiet, verbose=verbose, rejects=rejects, farm_summary=farm_summary,
                                  chunk_rows=chunk_size(chunk_rows))
    with status("Reading input", quiet):
        table = load_horizons(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet,
                              som_factor=som_factor, bd_basis=bd_basis, columns_file=columns_file)
    report_columns(table, quiet=quiet, verbose=verbose)
    if farm_summary:
        _check_farm_summary(table)
    with status("Estimating stocks", quiet):
        result = estimate_stocks(table, opts)
    if unc is not None:
        from ..uncertainty import estimate_uncertainty

        with status("Monte Carlo", quiet):
            result = estimate_uncertainty(table, result, opts, unc)
    report_warnings(result.problems, table, quiet=quiet, verbose=verbose)
    if rejects:
        write_rejects(result.rejects, rejects)
    tables = {"plots": result.plots}
    if result.farms is not None:
        tables["farms"] = result.farms
    meta = {"command": "estimate", "input": table.label, "methods": result.methods,
            **rows_meta(result.n_rows, len(result.rejects), len(result.not_needed)), "plots_scored": len(result.plots),
            "plausibility_warnings": plausibility_count(result.problems), **uncertainty_meta(unc), **columns_meta(table)}
    view = with_interval_columns(TABLE_VIEW, unc, {"plots": ["soc_stock_t_ha_p2_5", "soc_stock_t_ha_p97_5"]})
    write_tables(tables, fmt, output, meta=meta, table_columns=view)
    if farm_summary and result.farms is not None:
        write_tables({"farms": result.farms}, resolve_format(None, farm_summary), farm_summary)
    if not quiet:
        if verbose or fmt == "table":
            for line in result.methods:
                echo_err(f"Method: {line}")
        if on_error == "skip" and len(result.rejects):
            for problem in table.problem_list(result.problems[result.problems["severity"] == "error"])[:20]:
                echo_err(f"  rejected: {problem}")
        echo_err(rows_summary(result.n_rows, len(result.plots), len(result.rejects), result.problems,
                              len(result.not_needed)))
    if len(result.plots) == 0 and result.n_rows > 0:
        echo_err("Error: no plot could be scored")
        sys.exit(EXIT_DATA_ERROR)


def _check_farm_summary(table) -> None:
    """--farm-summary needs farm_id and area_ha: say so before anything is written."""
    from ..errors import InputError

    missing = [c for c in ("farm_id", "area_ha") if c not in table.source_columns]
    if missing:
        raise InputError(f"{table.label}: --farm-summary needs {' and '.join(missing)} (farm totals are "
                         "area-weighted); add the column(s), map them with --columns, or --set area_ha=... "
                         "when every plot has the same area")


def _estimate_streamed(source, layout, *, opts, read_options, fmt, output, quiet, verbose, rejects, farm_summary,
                       chunk_rows) -> None:
    """``estimate`` over a streamed input: the same lines on stderr and the same bytes out as in memory."""
    import functools
    from pathlib import Path

    from ..engine.commands import estimate_part
    from ..engine.local import stream, temporary_folder

    with temporary_folder() as tmp:
        part = functools.partial(estimate_part, read_options=read_options, options=opts, digest=bool(farm_summary))
        run = stream(source, layout, part, chunk_rows=chunk_rows, folder=Path(tmp), quiet=quiet)
        finish_streamed(run, opts=opts, fmt=fmt, output=output, quiet=quiet, verbose=verbose, rejects=rejects,
                        farm_summary=farm_summary)


def finish_streamed(run, *, opts, fmt, output, quiet, verbose, rejects, farm_summary) -> None:
    """Report and write a streamed (or Dask) ``estimate`` run as the in-memory run does; exit 1 if nothing scored."""
    from ..engine.sinks import write_rejects as write_streamed_rejects, write_table
    from ..errors import ValidationError
    from ..stocks.estimate import farm_summary as farm_totals_of

    table = run.table()
    report_columns(table, quiet=quiet, verbose=verbose)
    if farm_summary:
        _check_farm_summary(table)
    problems = run.spill.whole("problems")
    if opts.on_error == "fail" and run.counts.get("errors", 0):
        raise ValidationError(table.problem_list(problems))
    report_warnings(problems, table, quiet=quiet, verbose=verbose)
    if rejects:
        write_streamed_rejects(run.spill, rejects)
    write_table(run.spill, "plots", fmt, output)
    farms = farm_totals_of(run.spill.whole("digest")) if farm_summary else None
    if farms is not None:
        write_tables({"farms": farms}, resolve_format(None, farm_summary), farm_summary)
    n_rows, n_plots, n_rejected = run.counts["rows"], run.counts["plots"], run.counts["rejected"]
    if not quiet:
        if verbose:
            for line in run.methods:
                echo_err(f"Method: {line}")
        if opts.on_error == "skip" and n_rejected:
            errors = problems[problems["severity"] == "error"]
            for problem in table.problem_list(errors)[:20]:
                echo_err(f"  rejected: {problem}")
        echo_err(rows_summary(n_rows, n_plots, n_rejected, problems))
    if n_plots == 0 and n_rows > 0:
        echo_err("Error: no plot could be scored")
        sys.exit(EXIT_DATA_ERROR)
