"""``fourp1000 compare``: measured SOC change between samplings, equivalent soil mass basis."""

from __future__ import annotations

import sys

import click

from .. import esm
from ..errors import InputError
from ..esm.campaigns import CompareOptions, compare_tables, plot_verdicts
from ..esm.checks import plausibility_warnings
from ..esm.prepare import NO_PTF
from ..io.horizons import BD_BASES
from ..io.writers import write_tables
from ..stocks.estimate import parse_depth
from ..stocks.ptf import PTF_CHOICES
from .common import (
    checked_by,
    EXIT_DATA_ERROR,
    EXIT_TARGET_MISSED,
    SOM_FACTOR_RANGE,
    FiniteRange,
    bounded,
    columns_meta,
    echo_err,
    handle_errors,
    input_options,
    load_horizons,
    output_options,
    report_columns,
    resolve_format,
    status,
    write_rejects,
)
from .streaming import engine_options

PLOT_VIEW = ["plot_id", "farm_id", "depth_cm", "baseline_sampled_on", "sampled_on", "years", "baseline_stock_t_ha",
             "fixed_depth_stock_t_ha", "esm_stock_t_ha", "esm_change_t_ha", "annual_change_t_ha_yr", "rate_per_mille",
             "meets_4p1000", "p_meets_4p1000", "observed_rate_per_mille", "n_samplings", "extrapolated",
             "bd_estimated", "no_verdict_reason"]


def parse_depths(values: tuple[str, ...]) -> tuple[float, ...]:
    """``--depth 30 --depth 10,50`` or ``0-30`` -> sorted bottom depths [cm] (ESM depths start at 0)."""
    out: list[float] = []
    for value in values:
        for part in str(value).split(","):
            top, bottom = parse_depth(part)
            if top != 0:
                raise InputError(f"invalid depth {part!r}: equivalent soil mass depths start at the surface (0-{bottom:g})")
            out.append(bottom)
    return tuple(sorted(set(out)))


@click.command()
@click.argument("file", type=click.Path(allow_dash=True))  # a folder: a Parquet dataset (streamed)
@click.argument("file2", type=click.Path(dir_okay=False), required=False)
@click.option("--esm-method", type=click.Choice(esm.METHODS), default="spline", show_default=True,
              help="spline: cumulative SOC vs mineral mass, R's monotone 'hyman' spline (von Haden et al. 2020); "
                   "linear; ellert_bettany (minimum mass, 1995); fowler (Fowler et al. 2023); elementary_layers "
                   "(SimpleESM 1-mm method); fixed_depth.")
@click.option("--depth", "depths", multiple=True, default=("30",), show_default=True,
              callback=checked_by(parse_depths),
              help="Standard depth(s) in cm from the surface: 30, 0-30, or several (--depth 10 --depth 30 or 10,30,50).")
@click.option("--mass-basis", type=click.Choice(esm.MASS_BASES), default="mineral", show_default=True,
              help="Equivalent mineral soil mass (von Haden) or total soil mass (SimpleESM).")
@click.option("--som-factor", type=FiniteRange(*SOM_FACTOR_RANGE), default=esm.DEFAULT_SOM_FACTOR, show_default=True,
              help="SOM = factor x SOC where som_pct is not given (2.0 after Pribyl 2010, as the ESM R packages).")
@click.option("--reference", type=click.Choice(["baseline_mean", "minimum"]), default="baseline_mean",
              show_default=True, help="Reference masses: mean over the baseline cores, or the lightest core.")
@click.option("--extrapolate/--no-extrapolate", default=True, show_default=True,
              help="Extrapolate cores whose sampled mass is short of the reference mass (flagged).")
@click.option("--bootstrap", "n_bootstrap", type=click.IntRange(0, None), default=1000, show_default=True,
              callback=bounded("MAX_BOOTSTRAP"),
              help="Bootstrap resamples over cores for the interval of the change and p_meets_4p1000 (0: off).")
@click.option("--seed", type=click.IntRange(0, None), default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--confidence", type=FiniteRange(0.5, 0.999), default=0.95, show_default=True,
              help="Confidence level of the interval of the change.")
@click.option("--bd-ptf", type=click.Choice(PTF_CHOICES + (NO_PTF,)), default="auto", show_default=True,
              help="Pedotransfer function for missing bulk density, as in estimate (flagged in bd_estimated); "
                   "none: measured bulk density only.")
@click.option("--bd-basis", type=click.Choice(BD_BASES), default="fine_earth", show_default=True,
              help="What bulk_density_g_cm3 means where rows have no bd_basis column.")
@click.option("--years", type=FiniteRange(0, 1000, min_open=True), default=None,
              help="Years between baseline and follow-up when the samplings are not dated (e.g. two files "
                   "without sampled_on).")
@click.option("--baseline-sampling", default=None, metavar="LABEL",
              help="The sampled_on value of every plot's baseline sampling (default: the earliest date; samplings "
                   "labelled rather than dated are otherwise taken in text order, which is said).")
@click.option("--depth-tolerance", type=click.FloatRange(0, None), default=0.0, show_default=True, metavar="CM",
              help="Close gaps and overlaps between the layers of a core up to CM at their midpoint (e.g. 0-10, "
                   "11-20 sampling), as in estimate; each is reported as a warning.")
@click.option("--strict", is_flag=True,
              help="Plausibility warnings (g/kg written as %, mm depths, BD implausible for its SOC, ...) become "
                   "errors: the rows are rejected.")
@click.option("--check", is_flag=True, help=f"Exit with code {EXIT_TARGET_MISSED} when any plot misses 4 per 1000.")
@click.option("--on-error", type=click.Choice(["fail", "skip"]), default="fail", show_default=True,
              help="fail: report every problem and stop; skip: compare what can be compared, report the rest.")
@click.option("--rejects", type=click.Path(dir_okay=False), default=None,
              help="With --on-error skip: write the rows not used, with a reason column, to this CSV.")
@click.option("--cores", "cores_file", type=click.Path(dir_okay=False), default=None,
              help="Also write the per-core, per-depth stocks to this file.")
@engine_options
@input_options
@output_options
@handle_errors
def compare(file, file2, esm_method, depths, mass_basis, som_factor, reference, extrapolate, n_bootstrap, seed,
            confidence, bd_ptf, bd_basis, years, baseline_sampling, depth_tolerance, strict, check, on_error, rejects,
            cores_file, chunk_rows, engine, scheduler, sep, decimal, encoding, sheet, columns_file, fmt, output, quiet,
            verbose):
    """Measured SOC change between samplings, on an equivalent soil mass basis, against 4 per 1000.

    Either FILE holds several samplings per plot (`sampled_on`: a date or year; the
    earliest is the baseline), or FILE is the follow-up and FILE2 the baseline. Optional
    `core_id` for replicate cores: reference masses are the mean over the baseline cores,
    results the mean over cores with their spread, a bootstrap interval of the change and
    `p_meets_4p1000`. Fixed-depth stocks are reported beside the ESM ones. Bulk density
    is filled as in `estimate` (bulk-density-only rows, then --bd-ptf; flagged). With
    several dated samplings, the observed rate is the least-squares slope of the stock on
    time. Every row is counted: used, not needed, or rejected (--rejects).

    \b
    Examples:
      fourp1000 compare examples/campaigns.csv
      fourp1000 compare followup_2025.csv baseline_2020.csv --depth 10,30,50
      fourp1000 compare examples/campaigns.csv --esm-method linear --on-error skip --rejects rejected.csv
      fourp1000 compare followup.csv baseline.csv --years 10 --bd-ptf none
      fourp1000 compare examples/campaigns.csv --depth-tolerance 1 --strict
      fourp1000 compare examples/campaigns.csv --chunk-rows 10 --bootstrap 0 -f csv

    A large FILE (or any with --chunk-rows) is compared in parts of whole plots, as
    `estimate` streams (docs/scale.md); two files, and replicate cores with --bootstrap,
    are read whole (said on stderr).
    """
    depths_cm = parse_depths(depths)
    opts = CompareOptions(depths_cm=depths_cm, method=esm_method, mass_basis=mass_basis, som_factor=som_factor,
                          reference=reference, extrapolate=extrapolate, n_bootstrap=n_bootstrap,
                          confidence=confidence, seed=seed, on_error=on_error, bd_ptf=bd_ptf, years=years,
                          depth_tolerance_cm=depth_tolerance, strict=strict, baseline_sampling=baseline_sampling)
    fmt = resolve_format(fmt, output)
    from .compare_stream import run_streamed

    params = {"bd_basis": bd_basis, "columns_file": columns_file, "cores_file": cores_file, "rejects": rejects,
              "engine": engine, "scheduler": scheduler, "chunk_rows": chunk_rows, "sep": sep, "decimal": decimal,
              "encoding": encoding, "sheet": sheet, "quiet": quiet, "verbose": verbose, "check": check}
    if run_streamed(file, file2, fmt, output, opts, params):
        return
    with status("Reading input", quiet):
        table = load_horizons(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, som_factor=som_factor,
                              bd_basis=bd_basis, columns_file=columns_file)
        baseline = (load_horizons(file2, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet,
                                  som_factor=som_factor, bd_basis=bd_basis, columns_file=columns_file)
                    if file2 else None)
    if baseline is not None and baseline.label == table.label:  # the same file twice: keep their rows apart
        baseline.label = f"{baseline.label} (baseline)"
    for read in (table, baseline):
        if read is not None:
            report_columns(read, quiet=quiet, verbose=verbose)
    with status("Comparing samplings", quiet):
        result = compare_tables(table, baseline, opts)
    if rejects:
        write_rejects(result.rejects, rejects)
    tables = {"plots": result.plots}
    if result.farms is not None:
        tables["farms"] = result.farms
    if fmt in ("json", "xlsx"):
        tables["cores"] = result.cores
    n_plots = int(result.plots["plot_id"].nunique()) if len(result.plots) else 0
    meta = {"command": "compare", "input": [table.label] + ([baseline.label] if baseline else []),
            "methods": [_method_statement(opts)] + result.methods, "rows_read": result.n_rows,
            "rows_used": result.n_used, "rows_not_needed": len(result.not_needed), "rows_rejected": len(result.rejects),
            "plots_compared": n_plots, "plausibility_warnings": plausibility_warnings(result.problems),
            "plots_without_verdict": result.without_verdict["reason"].value_counts(sort=False).to_dict(),
            **columns_meta(table, baseline)}
    write_tables(tables, fmt, output, meta=meta, table_columns={"plots": PLOT_VIEW})
    if cores_file:
        write_tables({"cores": result.cores}, resolve_format(None, cores_file), cores_file)
    finish(result, opts, fmt, {"quiet": quiet, "verbose": verbose, "check": check})


def finish(result, opts: CompareOptions, fmt: str, params: dict) -> None:
    """The summary on stderr, then the exit code: 1 when no plot was compared, 3 with ``--check`` when
    a plot misses 4 per 1000 or has no verdict (in memory and streamed alike)."""
    n_plots = int(result.plots["plot_id"].nunique()) if len(result.plots) else 0
    if not params["quiet"]:
        _print_summary(result, opts, params["verbose"] or fmt == "table", n_plots)
    if len(result.plots) == 0:
        echo_err("Error: no plot could be compared")
        sys.exit(EXIT_DATA_ERROR)
    if params["check"] and not plot_verdicts(result.plots).fillna(False).all():  # no verdict fails the check
        sys.exit(EXIT_TARGET_MISSED)


def _print_summary(result, opts: CompareOptions, methods: bool, n_plots: int) -> None:
    """Problems, notes and the accounting of rows and plots, on stderr."""
    if methods:
        echo_err(f"Method: {_method_statement(opts)}")
    for note in result.methods:
        echo_err(f"Note: {note}")
    for problem in result.problems[:20]:
        echo_err(f"  {'rejected' if problem.severity == 'error' else 'warning'}: {problem}")
    if len(result.problems) > 20:
        echo_err(f"  ... and {len(result.problems) - 20} more (--rejects FILE lists every rejected row)")
    verdict = plot_verdicts(result.plots)
    line = (f"{result.n_rows} rows read: {result.n_used} used, {len(result.not_needed)} not needed, "
            f"{len(result.rejects)} rejected; {n_plots} plots compared, {int(verdict.fillna(False).sum())} of "
            f"{n_plots} meet 4 per 1000")
    if len(result.without_verdict):
        counts = result.without_verdict["reason"].value_counts(sort=False)
        line += (f"; {len(result.without_verdict)} plots without a verdict ("
                 + ", ".join(f"{reason}: {n}" for reason, n in counts.items()) + ")")
    n_warn = plausibility_warnings(result.problems)
    if n_warn:
        line += f"; {n_warn} plausibility warning{'s' if n_warn != 1 else ''} (--strict rejects them)"
    echo_err(line)


def _method_statement(opts: CompareOptions) -> str:
    names = {
        "spline": "equivalent soil mass: cumulative SOC vs cumulative {basis} soil mass, R's monotone 'hyman' cubic "
                  "spline (von Haden, Yang & DeLucia 2020, Glob. Change Biol. 26:3759)",
        "linear": "equivalent soil mass: cumulative SOC vs cumulative {basis} soil mass, linear interpolation",
        "ellert_bettany": "equivalent soil mass: minimum/reference mass correction (Ellert & Bettany 1995, "
                          "Can. J. Soil Sci. 75:529)",
        "fowler": "simple mass correction (Fowler et al. 2023, Sci. Rep. 13)",
        "elementary_layers": "equivalent soil mass: 1-mm elementary layers (SimpleESM, Ferchaud et al.)",
        "fixed_depth": "fixed depth (no mass correction)",
    }
    text = names[opts.method].format(basis=opts.mass_basis)
    return (f"{text}; reference masses: {opts.reference.replace('_', ' ')} at {', '.join(f'0-{d:g}' for d in opts.depths_cm)} cm; "
            f"SOM = {opts.som_factor:g} x SOC where not measured; rate per mille = ESM change per year / baseline stock "
            f"x 1000; bootstrap over cores: {opts.n_bootstrap} resamples, seed {opts.seed}; observed rate: "
            f"least-squares slope of the stock on time over all samplings (Draper & Smith 1998), meets 4 per 1000 "
            f"when its one-sided {opts.confidence:g} lower bound does; dates less than half a year apart are one "
            f"campaign" + (f"; undated samplings taken {opts.years:g} years apart" if opts.years else ""))
