"""``fourp1000 plan``: what each plot would need to reach 4 per 1000."""

from __future__ import annotations

import sys

import click

from ..io.writers import write_tables
from .common import (
    EXIT_DATA_ERROR,
    EXIT_TARGET_MISSED,
    columns_meta,
    echo_err,
    handle_errors,
    input_options,
    output_options,
    resolve_format,
    status,
)
from .estimate import stock_options
from .project import (caveat_line, check_practice_names, model_options, read_projection_input, report_run,
                      rows_line, sampling_meta, scenario_options)
from .uncertainty_options import uncertainty_from_cli, uncertainty_meta, uncertainty_options

PLAN_VIEW = ["model", "plot_id", "farm_id", "plan_status", "practice_set", "practice_set_rate_per_mille", "reachable",
             "extra_plant_input_t_c_ha_yr", "extra_input_pct", "extra_manure_c_t_ha_yr", "target_within_capacity",
             "practice_set_at_confidence", "p_meets_4p1000"]
FARM_VIEW = ["model", "farm_id", "n_plots", "area_ha", "rate_per_mille", "meets_4p1000", "share_plots_reachable",
             "share_area_reachable", "extra_plant_input_t_c_yr", "extra_manure_c_t_yr"]
# Options of `plan` handed to read_projection_input unchanged.
_READ_OPTIONS = ("depth", "depth_method", "spline_lambda", "extrapolate", "bd_ptf", "bd_basis", "som_factor",
                 "stone_density", "on_error", "sep", "decimal", "encoding", "sheet", "columns_file", "years",
                 "ipcc_version", "method", "rate_years", "quiet", "model", "max_extrapolate_cm",
                 "max_extrapolate_share", "depth_tolerance", "strict", "tillage_credit", "cap_at_capacity", "sampling")


@click.command()
@click.argument("file", type=click.Path(allow_dash=True, dir_okay=False))
@scenario_options
@model_options
@click.option("--candidate", "candidates", multiple=True, metavar="NAME", callback=check_practice_names,
              help="Consider only these practices (repeatable, or ';'-separated; default: the whole catalogue).")
@click.option("--costs", "costs_file", type=click.Path(exists=True, dir_okay=False), default=None, metavar="FILE",
              help="YAML file of practices with their cost_per_ha: only those practices are available, and sets of "
                   "equal size are ranked by total cost (then disruption).")
@stock_options
@input_options
@output_options
@uncertainty_options
@handle_errors
def plan(file, years, ipcc_version, method, rate_years, check, sampling, tillage_credit, cap_at_capacity, model,
         climate_file, candidates, costs_file, depth, depth_method, spline_lambda, extrapolate, max_extrapolate_cm,
         max_extrapolate_share, depth_tolerance, strict, bd_ptf, bd_basis, som_factor, stone_density, on_error,
         rejects, sep, decimal, encoding, sheet, columns_file, fmt, output, quiet, verbose, uncertainty, draws, seed,
         confidence):
    """What would it take? The practices and carbon input each plot needs for 4 per 1000.

    Same input as `project` (its practices column is not used: the plan starts from the
    current management). Per plot: the smallest set of catalogue practices whose
    projected rate meets 4 per 1000 (practice_set, ';'-separated, usable as-is with
    `project --practice`; ties broken by cost with --costs, else by disruption), or the
    best reachable rate when none does (reachable false); whether the 4 per 1000 gain
    fits in the saturation deficit; with --model rothc, the extra plant C input (or
    manure C) that gives 4 per 1000, solved from RothC, beside the current fitted input
    and the climatic ceiling. Per farm: the area-weighted rate of the plan, the share of
    plots and of area that can reach 4 per 1000, and the extra input in t C/yr. With
    --uncertainty (IPCC): the set that meets 4 per 1000 with probability >= --confidence.
    With --check, exits 3 when a plot cannot reach 4 per 1000.

    \b
    Examples:
      fourp1000 plan examples/plots.csv
      fourp1000 plan examples/plots.csv --model rothc --climate examples/climate.csv
      fourp1000 plan examples/plots.csv --model ipcc,rothc --climate examples/climate.csv -f csv -o plan.csv
      fourp1000 plan examples/plots.csv --costs examples/costs.yaml
      fourp1000 plan examples/plots.csv --candidate cover_crops --candidate manure --check   # exit 3: BL-03 cannot
      fourp1000 plan examples/plots.csv --uncertainty --draws 200 --confidence 0.8
    """
    from ..plan import PlanOptions, plan_table, read_costs

    params = click.get_current_context().params
    unc = uncertainty_from_cli(uncertainty, draws, seed, confidence)
    if unc is not None and "ipcc" not in model:
        raise click.UsageError("--uncertainty applies to --model ipcc (the set at confidence is an IPCC result)")
    fmt = resolve_format(fmt, output)
    costs = read_costs(costs_file) if costs_file else None
    table, popts = read_projection_input(file, practices=(), climate=climate_file,
                                         **{k: params[k] for k in _READ_OPTIONS})
    with status("Planning", quiet):
        result = plan_table(table, PlanOptions(popts, tuple(candidates), costs, unc))
    used = result.baseline.used_table if result.baseline.used_table is not None else table
    report_run(result.baseline, used, quiet=quiet, verbose=verbose, rejects=rejects, fmt=fmt, what="plots")
    meta = {"command": "plan", "input": used.label, "methods": result.methods, "rows_read": result.baseline.n_rows,
            "plots_planned": int(result.plots["plot_id"].nunique()) if len(result.plots) else 0,
            "rows_rejected": len(result.baseline.rejects), "practices_available": list(result.practices),
            **({"costs": costs} if costs is not None else {}), **sampling_meta(result.baseline),
            **uncertainty_meta(unc), **columns_meta(used)}
    tables = {"plots": result.plots}
    if result.farms is not None:
        tables["farms"] = result.farms
    write_tables(tables, fmt, output, meta=meta, table_columns={"plots": PLAN_VIEW, "farms": FARM_VIEW})
    if not quiet:
        _print_summary(result, fmt, verbose)
    _exit(result.plots, check)


def summary_line(result) -> str:
    """Rows read and, per model, how many plots can reach 4 per 1000 and with how many practices."""
    plots = result.plots
    n_plots = plots["plot_id"].nunique() if len(plots) else 0
    parts = []
    for model in dict.fromkeys(plots["model"]) if len(plots) else ():  # one or two models
        sel = plots[plots["model"] == model]
        counts = sel["plan_status"].value_counts()
        part = (f"{model}: {int(sel['reachable'].sum())} of {len(sel)} plots can reach 4 per 1000 "
                f"({int(counts.get('none_needed', 0))} without a practice, {int(counts.get('none_in_catalogue', 0))} "
                "not with the catalogue)")
        if "extra_plant_input_t_c_ha_yr" in sel and sel["extra_plant_input_t_c_ha_yr"].notna().any():
            part += f", median extra plant input {sel['extra_plant_input_t_c_ha_yr'].median():.2f} t C/ha/yr"
        parts.append(part)
    return f"{rows_line(result.baseline, n_plots)}; " + "; ".join(parts)


def _print_summary(result, fmt: str, verbose: bool) -> None:
    for note in result.notes:
        echo_err(f"Note: {note}")
    if verbose or fmt == "table":
        echo_err(f"Method: {result.methods[-1]}")
    line = caveat_line(result.plots)
    if line:
        echo_err(line)
    echo_err(summary_line(result))


def _exit(plots, check: bool) -> None:
    if len(plots) == 0:
        echo_err("Error: nothing could be planned")
        sys.exit(EXIT_DATA_ERROR)
    if check and not plots["reachable"].all():
        sys.exit(EXIT_TARGET_MISSED)
