"""``fourp1000 project``, ``fourp1000 score`` and ``fourp1000 practices``."""

from __future__ import annotations

import sys

import click

from ..projection import ipcc
from ..io.writers import write_tables
from ..practices import TILLAGE_CREDITS, list_practices, practice_names
from ..projection.tier1 import METHODS
from ..io.schema import VAN_BEMMELEN
from ..projection.models import MODELS
from ..projection.table import SAMPLING_CHOICES, ProjectOptions, load_plots_or_horizons, project_table
from .common import (
    checked_by,
    EXIT_DATA_ERROR,
    FiniteRange,
    EXIT_TARGET_MISSED,
    columns_meta,
    echo_err,
    handle_errors,
    input_options,
    output_options,
    read_input,
    report_columns,
    report_warnings,
    resolve_format,
    status,
    write_rejects,
)
from ..stocks.estimate import MAX_EXTRAPOLATE_CM, MAX_EXTRAPOLATE_SHARE
from .estimate import options_from_cli, rows_meta, rows_summary, stock_options
from .streaming import engine_options
from .uncertainty_options import (
    uncertainty_from_cli,
    uncertainty_meta,
    uncertainty_options,
    uncertainty_summary,
    verdict_view,
    with_interval_columns,
)

PLOT_VIEW = ["model", "plot_id", "farm_id", "practices", "baseline_stock_t_ha", "final_stock_t_ha",
             "annual_change_t_ha_yr", "rate_per_mille", "meets_4p1000", "not_credited", "caveats",
             "saturation_deficit_t_ha"]
FARM_VIEW = ["model", "farm_id", "n_plots", "area_ha", "baseline_stock_t_c", "final_stock_t_c",
             "annual_change_t_c_yr", "rate_per_mille", "meets_4p1000"]
# With --observed the terminal table adds the measured rate over all samplings.
OBSERVED_VIEW = ["n_samplings", "observed_rate_per_mille", "observed_meets_4p1000"]


def plot_view(observed: bool) -> list[str]:
    """Columns of the terminal table of plots."""
    return PLOT_VIEW[:-1] + OBSERVED_VIEW + PLOT_VIEW[-1:] if observed else PLOT_VIEW


# With --uncertainty the terminal table adds the 95 % interval of the rate and the verdict at confidence.
INTERVAL_VIEW = ["rate_per_mille_p2_5", "rate_per_mille_p97_5", "p_meets_4p1000", "p_meets_4p1000_se",
                 "verdict_at_confidence"]


def projection_options(func):
    """Options shared by ``project``, ``score`` and ``report``: ``--practice`` and :func:`scenario_options`."""
    func = scenario_options(func)
    return click.option("--practice", "practices", multiple=True, metavar="NAME", callback=check_practice_names,
                        help="Practice applied to every plot (repeatable, or ';'-separated names); see "
                             "`fourp1000 practices`.")(func)


def scenario_options(func):
    """Horizon, tables, method, credits and sampling: shared by ``project``, ``score``, ``report`` and ``plan``."""
    options = [
        click.option("--years", type=click.IntRange(1, 500), default=20, show_default=True,
                     help="Projection horizon in years."),
        click.option("--ipcc-version", type=click.Choice(ipcc.IPCC_VERSIONS), default=ipcc.DEFAULT_IPCC_VERSION,
                     show_default=True, help="IPCC tables: 2019 Refinement or 2006 Guidelines."),
        click.option("--method", type=click.Choice(METHODS), default="ipcc", show_default=True,
                     help="IPCC Tier 1 stock change factors, or meta-analysis rates of the practices."),
        click.option("--rate-years", type=FiniteRange(0, 1000, min_open=True), default=None,
                     help="With --method rates: years the rates apply (default: the catalogue's duration)."),
        click.option("--check", is_flag=True,
                     help=f"Exit with code {EXIT_TARGET_MISSED} when any plot (project) or farm (score) misses 4 per 1000."),
        click.option("--tillage-credit", type=click.Choice(TILLAGE_CREDITS), default="ipcc", show_default=True,
                     help="Credit reduced/no tillage as IPCC Tier 1 does (ipcc, the inventory convention), or not "
                          "(none: its 0-30 cm gain is largely carbon moved within the profile)."),
        click.option("--cap-at-capacity", is_flag=True,
                     help="Cap each plot's gain at its saturation deficit (mineral-associated carbon capacity "
                          "from clay and silt, Hassink 1997)."),
        click.option("--sampling", default="latest", show_default=True, metavar="latest|first|all|DATE",
                     callback=_parse_sampling,
                     help="Which sampling of each plot gives the measured stock: the latest, the first, every one "
                          "(one row per plot and sampling), or that of a date (a sampled_on value or a year). Rows "
                          "of the other samplings are counted as not used."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def check_practice_names(ctx, param, values) -> tuple[str, ...]:
    """Every unknown practice of a repeatable option (``--practice``, ``plan --candidate``),
    with a suggestion, as one usage error (exit 2)."""
    from ..practices import SEPARATOR, unknown_practices

    # a ';'-separated list (a plan's practice_set) counts as its names
    values = tuple(name.strip() for value in values for name in str(value).split(SEPARATOR) if name.strip())
    unknown = unknown_practices(values)
    if unknown:
        raise click.BadParameter("; ".join(unknown) + f" (valid: {', '.join(practice_names())})")
    return values


def _parse_sampling(ctx, param, value) -> str:
    text = str(value).strip()
    if text.lower() in SAMPLING_CHOICES:
        return text.lower()
    if not text:
        raise click.BadParameter("give latest, first, all or a date")
    return text


def observed_option(func):
    """``--observed`` (``project`` and ``score``)."""
    return click.option(
        "--observed", is_flag=True,
        help="With two or more dated samplings of a plot, add the measured rate over all of them: the "
             "least-squares slope of the fixed-depth stock on time (observed_rate_t_ha_yr, its standard error, "
             "observed_rate_per_mille of the first sampling's stock, n_samplings) and observed_meets_4p1000 at "
             "--confidence. See docs/esm.md for the equivalent-soil-mass rate (compare).")(func)


def model_options(func):
    """``--model`` and ``--climate`` (``project`` and ``score``)."""
    func = click.option("--climate", "climate_file", type=click.Path(allow_dash=False, dir_okay=False), default=None,
                        metavar="FILE",
                        help="Monthly climate table for --model rothc: climate_id (or plot_id), month, temperature_c, "
                             "rain_mm, evaporation_mm (open pan) or pet_mm.")(func)
    func = click.option("--model", "model", default="ipcc", show_default=True, metavar="MODEL[,MODEL]",
                        callback=checked_by(MODELS.parse, parsed=True), help=MODELS.help())(func)
    return func


def run_projection(file, *, quiet, **options):
    """Read FILE and project it (shared by project, score and report); ``options``: those of
    :func:`read_projection_input`."""
    table, opts = read_projection_input(file, quiet=quiet, **options)
    with status("Projecting", quiet):
        result = project_table(table, opts)
    # The rows of the chosen samplings: what the stocks (and any Monte Carlo) come from.
    return (result.used_table if result.used_table is not None else table), result


def read_projection_input(file, *, depth, depth_method, spline_lambda, extrapolate, bd_ptf, bd_basis, som_factor,
                          stone_density, on_error, sep, decimal, encoding, sheet, columns_file, practices, years,
                          ipcc_version, method, rate_years, quiet, model=("ipcc",), climate=None, stdin=None,
                          max_extrapolate_cm=MAX_EXTRAPOLATE_CM, max_extrapolate_share=MAX_EXTRAPOLATE_SHARE,
                          depth_tolerance=0.0, strict=False, tillage_credit="ipcc", cap_at_capacity=False,
                          sampling="latest", observed=False, observed_confidence=0.9):
    """The table of FILE and the :class:`ProjectOptions` of a command's flags (``project``, ``score``,
    ``report``, ``plan``)."""
    from .common import column_map_for

    opts = project_options_from_cli(
        depth=depth, depth_method=depth_method, spline_lambda=spline_lambda, extrapolate=extrapolate, bd_ptf=bd_ptf,
        som_factor=som_factor, stone_density=stone_density, on_error=on_error, practices=practices, years=years,
        ipcc_version=ipcc_version, method=method, rate_years=rate_years, quiet=quiet, model=model, climate=climate,
        max_extrapolate_cm=max_extrapolate_cm, max_extrapolate_share=max_extrapolate_share,
        depth_tolerance=depth_tolerance, strict=strict, tillage_credit=tillage_credit,
        cap_at_capacity=cap_at_capacity, sampling=sampling, observed=observed, observed_confidence=observed_confidence)
    column_map = column_map_for(columns_file)
    with status("Reading input", quiet):
        raw = read_input(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, stdin=stdin)
        table = load_plots_or_horizons(raw, som_factor=som_factor or VAN_BEMMELEN, bd_basis=bd_basis,
                                       column_map=column_map)
    return table, opts


def project_options_from_cli(*, depth, depth_method, spline_lambda, extrapolate, bd_ptf, som_factor, stone_density,
                            on_error, practices, years, ipcc_version, method, rate_years, quiet, model=("ipcc",),
                            climate=None, max_extrapolate_cm=MAX_EXTRAPOLATE_CM,
                            max_extrapolate_share=MAX_EXTRAPOLATE_SHARE, depth_tolerance=0.0, strict=False,
                            tillage_credit="ipcc", cap_at_capacity=False, sampling="latest", observed=False,
                            observed_confidence=0.9, **_) -> ProjectOptions:
    """The library's projection options from the flags (the climate table read for the models that need it)."""
    models = tuple(model)
    needing = [m for m in models if MODELS[m].needs_climate]
    if needing and not climate:
        raise click.UsageError(f"--model {needing[0]} needs a monthly climate table: --climate FILE")
    climate_table = None
    if climate and needing:
        from ..io.climate import read_climate

        with status("Reading climate", quiet):
            climate_table = read_climate(climate)
    est = options_from_cli(depth, depth_method, spline_lambda, extrapolate, bd_ptf, som_factor, stone_density, on_error,
                           max_extrapolate_cm=max_extrapolate_cm, max_extrapolate_share=max_extrapolate_share,
                           depth_tolerance=depth_tolerance, strict=strict)
    return ProjectOptions(practices=tuple(practices), years=years, ipcc_version=ipcc_version, method=method,
                          rate_years=rate_years, models=models, climate=climate_table, estimate=est,
                          tillage_credit=tillage_credit, cap_at_capacity=cap_at_capacity, sampling=sampling,
                          observed=observed, observed_confidence=observed_confidence)


def report_run(result, table, *, quiet, verbose, rejects, fmt, what: str):
    report_columns(table, quiet=quiet, verbose=verbose)
    report_warnings(result.problems, table, quiet=quiet, verbose=verbose)
    if rejects:
        write_rejects(result.rejects, rejects)
    if not quiet:
        if verbose or fmt == "table":
            for line in result.methods:
                echo_err(f"Method: {line}")
        errs = result.problems[result.problems["severity"] == "error"] if len(result.problems) else result.problems
        for problem in table.problem_list(errs)[:20] if len(errs) else []:
            echo_err(f"  rejected: {problem}")


def rows_line(result, n_plots: int) -> str:
    """Rows read and how they were used; with dated samplings, the sampling used and the rows not used."""
    label = getattr(result, "sampling_label", "")
    if not label:
        return rows_summary(result.n_rows, n_plots, len(result.rejects), result.problems)
    sampling = result.options.sampling
    other = {"latest": "earlier", "first": "later"}.get(sampling, "other")
    scored = (f"{n_plots} plot samplings scored (all samplings)" if sampling == "all"
              else f"{n_plots} plots scored from their {label}")
    if result.options.observed and sampling != "all":
        not_used = f"{result.observed_rows} rows of {other} samplings used for the observed rate only"
    else:
        not_used = f"{len(result.not_needed)} rows of {other} samplings not used"
    return f"{result.n_rows} rows read: {scored}, {not_used}, {len(result.rejects)} rejected"


def summary_line(result, farms=None) -> str:
    if "model" in result.plots.columns:
        return _model_summary(result, farms)
    n_met = int(result.plots["meets_4p1000"].sum()) if len(result.plots) else 0
    line = f"{rows_line(result, len(result.plots))}; {n_met} of {len(result.plots)} plots meet 4 per 1000"
    if farms is not None:
        line += f"; {int(farms['meets_4p1000'].sum())} of {len(farms)} farms"
    return line


def sampling_meta(result) -> dict:
    """The sampling used, for the JSON meta (empty without dated samplings)."""
    if not result.sampling_label:
        return {}
    meta = {"sampling": result.options.sampling, "sampling_used": result.sampling_label,
            "rows_not_needed": len(result.not_needed) - result.observed_rows}
    if result.options.observed:
        meta["rows_used_for_observed_rate_only"] = result.observed_rows
    return meta


def _model_summary(result, farms=None) -> str:
    """Summary line with the verdicts of each model (``--model ipcc,rothc`` or ``rothc``)."""
    plots = result.plots
    n_plots = plots["plot_id"].nunique()
    parts = []
    for model in dict.fromkeys(plots["model"]):  # one or two models
        sel = plots[plots["model"] == model]
        part = f"{model}: {int(sel['meets_4p1000'].sum())} of {len(sel)} plots meet 4 per 1000"
        if farms is not None and "model" in farms.columns:
            f = farms[farms["model"] == model]
            part += f", {int(f['meets_4p1000'].sum())} of {len(f)} farms"
        parts.append(part)
    return f"{rows_line(result, n_plots)}; " + "; ".join(parts)


@click.command()
@click.argument("file", type=click.Path(allow_dash=True))  # a folder: a Parquet dataset (streamed)
@projection_options
@model_options
@observed_option
@click.option("--trajectory", "with_trajectory", is_flag=True,
              help="Output the yearly stock trajectory (long format: plot_id, year, stock_t_ha) instead of the summary.")
@stock_options
@input_options
@output_options
@uncertainty_options
@engine_options
@handle_errors
def project(file, practices, years, ipcc_version, method, rate_years, check, sampling, tillage_credit, cap_at_capacity,
            with_trajectory, depth, depth_method, spline_lambda, extrapolate, max_extrapolate_cm, max_extrapolate_share,
            depth_tolerance, strict, bd_ptf, bd_basis, som_factor, stone_density, on_error, rejects, sep, decimal,
            encoding, sheet, columns_file, fmt, output, quiet, verbose, uncertainty, draws, seed, confidence, model,
            climate_file, observed, chunk_rows, engine, scheduler):
    """Project SOC stocks under practices and check 4 per 1000, per plot.

    FILE is a horizon table (the measured 0-30 cm stock is the baseline) or a plot table
    with climate_zone, soil_class, land_use, tillage and input_level (the IPCC default
    stock is the baseline). Practices come from a `practices` column (';'-separated)
    and/or --practice. IPCC Tier 1: linear change over 20 years, then constant.
    --model rothc runs RothC-26.3 from the stock as equilibrium, with a monthly --climate
    table and clay_pct; --model ipcc,rothc gives both, one row per plot and model.

    \b
    Examples:
      fourp1000 project examples/plots.csv
      fourp1000 project examples/plots.csv --practice no_till --practice cover_crops --years 30 --on-error skip
      fourp1000 project examples/plots.csv --trajectory -f csv -o trajectory.csv
      fourp1000 project examples/plots.csv --check -q -f json   # exit 3 if a plot misses 4 per 1000
      fourp1000 project examples/plots.csv --uncertainty --confidence 0.9 -f csv
      fourp1000 project examples/plots.csv --model rothc --climate examples/climate.csv
      fourp1000 project examples/plots.csv --model ipcc,rothc --climate examples/climate.csv -f csv
      fourp1000 project examples/plots.csv --tillage-credit none --cap-at-capacity
      fourp1000 project examples/plots.csv --depth 0-40 --extrapolate --on-error skip
      fourp1000 project examples/plots.csv --chunk-rows 5 -o projected.parquet
    """
    fmt = resolve_format(fmt, output)
    if with_trajectory and sampling == "all":
        raise click.UsageError("--trajectory needs one sampling per plot: use --sampling latest, first or a date")
    params = click.get_current_context().params
    whole = "--trajectory" if with_trajectory else None
    if _streamed("project", file, fmt, output, params, whole=whole):
        return
    table, result, unc = _project_from_options(file, params)
    result = with_uncertainty(table, result, unc, quiet)
    report_run(result, table, quiet=quiet, verbose=verbose, rejects=rejects, fmt=fmt, what="plots")
    meta = {"command": "project", "input": table.label, "methods": result.methods,
            **rows_meta(result.n_rows, len(result.rejects), len(result.not_needed)),
            "plots_scored": len(result.plots), **sampling_meta(result),
            **uncertainty_meta(unc), **columns_meta(table)}
    if with_trajectory:
        write_tables({"trajectory": result.trajectory()}, fmt, output, meta=meta)
    else:
        tables = {"plots": result.plots}
        if result.farms is not None:
            tables["farms"] = result.farms
        write_tables(tables, fmt, output, meta=meta, table_columns=with_interval_columns(
            {"plots": plot_view(observed), "farms": FARM_VIEW}, unc, {"plots": INTERVAL_VIEW, "farms": INTERVAL_VIEW}))
    if not quiet:
        print_summary(result, unc)
    exit_with_verdict(verdict_view(result.plots, unc), check)


@click.command()
@click.argument("file", type=click.Path(allow_dash=True))  # a folder: a Parquet dataset (streamed)
@projection_options
@model_options
@observed_option
@stock_options
@input_options
@output_options
@uncertainty_options
@engine_options
@handle_errors
def score(file, practices, years, ipcc_version, method, rate_years, check, sampling, tillage_credit, cap_at_capacity, depth,
          depth_method, spline_lambda, extrapolate, max_extrapolate_cm, max_extrapolate_share, depth_tolerance, strict,
          bd_ptf, bd_basis, som_factor, stone_density, on_error, rejects, sep, decimal, encoding, sheet,
          columns_file, fmt, output, quiet, verbose, uncertainty, draws, seed, confidence, model, climate_file,
          observed, chunk_rows, engine, scheduler):
    """Score farms against 4 per 1000: area-weighted totals per farm, for batch work.

    Same input and options as `project`; every plot needs farm_id and area_ha. Output:
    one row per farm (farm_id, area_ha, baseline_stock_t_c, final_stock_t_c,
    annual_change_t_c_yr, rate_per_mille, meets_4p1000, n_plots) and a summary line on
    stderr. With --check, exits 3 when any farm misses 4 per 1000 (for CI).

    \b
    Examples:
      fourp1000 score examples/plots.csv
      fourp1000 score farms.parquet --on-error skip --rejects rejected.csv -o scores.csv
      fourp1000 score examples/plots.csv --practice cover_crops --on-error skip --check -q   # exit 3 if a farm misses
      fourp1000 score examples/plots.csv --uncertainty --draws 5000 --check   # exit 3 unless P(meet) >= 0.9
      fourp1000 score examples/plots.csv --model ipcc,rothc --climate examples/climate.csv
      fourp1000 score examples/campaigns.csv --observed --set land_use=cropland --set climate_zone=cool_temperate_moist --set soil_class=HAC --set tillage=full --set input_level=medium
      fourp1000 score examples/plots.csv --engine dask -o scores.parquet
    """
    fmt = resolve_format(fmt, output)
    params = click.get_current_context().params
    if _streamed("score", file, fmt, output, params):
        return
    table, result, unc = _project_from_options(file, params)
    if result.farms is None:
        from ..errors import InputError

        raise InputError(f"{table.label}: score needs area_ha for every plot (and farm_id to group plots); "
                         "use `fourp1000 project` for per-plot results")
    result = with_uncertainty(table, result, unc, quiet)
    report_run(result, table, quiet=quiet, verbose=verbose, rejects=rejects, fmt=fmt, what="farms")
    meta = {"command": "score", "input": table.label, "methods": result.methods,
            **rows_meta(result.n_rows, len(result.rejects), len(result.not_needed)),
            "plots_scored": len(result.plots), **sampling_meta(result),
            **uncertainty_meta(unc), **columns_meta(table)}
    write_tables({"farms": result.farms, "plots": result.plots}, fmt, output, meta=meta,
                 table_columns=with_interval_columns({"farms": FARM_VIEW, "plots": plot_view(observed)}, unc,
                                                     {"farms": INTERVAL_VIEW, "plots": INTERVAL_VIEW}))
    if not quiet:
        print_summary(result, unc)
    exit_with_verdict(verdict_view(result.farms, unc), check)


# Options of `project`/`score` handed to run_projection unchanged.
_RUN_OPTIONS = ("depth", "depth_method", "spline_lambda", "extrapolate", "bd_ptf", "bd_basis", "som_factor",
                "stone_density", "on_error", "sep", "decimal", "encoding", "sheet", "columns_file", "practices",
                "years", "ipcc_version", "method", "rate_years", "quiet", "model", "max_extrapolate_cm",
                "max_extrapolate_share", "depth_tolerance", "strict", "tillage_credit", "cap_at_capacity",
                "sampling", "observed")


def _project_from_options(file: str, params: dict):
    """Read and project FILE with a command's options; Monte Carlo only for the IPCC model."""
    unc = uncertainty_from_cli(params["uncertainty"], params["draws"], params["seed"], params["confidence"])
    if unc is not None and not all(MODELS[m].supports_uncertainty for m in params["model"]):
        supported = [name for name, m in MODELS.items() if m.supports_uncertainty]
        raise click.UsageError(f"--uncertainty applies to --model {', '.join(supported)} only")
    table, result = run_projection(file, climate=params["climate_file"], observed_confidence=params["confidence"],
                                   **{k: params[k] for k in _RUN_OPTIONS})
    return table, result, unc


def caveat_line(plots) -> str | None:
    """One stderr line counting the plots under each caveat keyword (None when there are none)."""
    if "caveats" not in plots or not len(plots):
        return None
    keys = plots["caveats"].dropna().astype(str).str.split(";").explode()
    counts = keys[keys != ""].value_counts()
    if counts.empty:
        return None
    what = ", ".join(f"{key} {int(n)}" for key, n in counts.items())
    return f"caveats (plot rows): {what}; see the caveats column and docs/methods.md"


def print_summary(result, unc) -> None:
    """The caveat line, the summary line and (with --uncertainty) the verdicts at confidence, on stderr."""
    line = caveat_line(result.plots)
    if line:  # before the summary line, which stays second to last (last with --uncertainty)
        echo_err(line)
    echo_err(summary_line(result, result.farms))
    if unc is not None:
        echo_err(uncertainty_summary(result.plots, result.farms, unc))


def with_uncertainty(table, result, unc, quiet: bool):
    """Add Monte Carlo statistics (``--uncertainty``) to a projection result."""
    if unc is None:
        return result
    if result.options.sampling == "all":
        raise click.UsageError("--uncertainty needs one sampling per plot: use --sampling latest, first or a date")
    from ..uncertainty import project_uncertainty

    with status("Monte Carlo", quiet):
        return project_uncertainty(table, result, unc)


def exit_with_verdict(frame, check: bool) -> None:
    """Exit 1 when nothing was scored; with ``--check``, 3 when a row of ``frame`` misses 4 per 1000."""
    if len(frame) == 0:
        echo_err("Error: nothing could be scored")
        sys.exit(EXIT_DATA_ERROR)
    if check and not frame["meets_4p1000"].all():
        sys.exit(EXIT_TARGET_MISSED)


@click.command()
@click.option("--ipcc-version", type=click.Choice(ipcc.IPCC_VERSIONS), default=ipcc.DEFAULT_IPCC_VERSION,
              show_default=True)
@click.option("--climate-zone", type=click.Choice(ipcc.CLIMATE_ZONES), default=None,
              help="Also show each practice's relative change of the equilibrium stock in this zone.")
@output_options
@handle_errors
def practices(ipcc_version, climate_zone, fmt, output, quiet, verbose):
    """List the practice catalogue: IPCC effect, meta-analysis rate, and sources.

    \b
    Examples:
      fourp1000 practices
      fourp1000 practices --climate-zone warm_temperate_moist -f csv
    """
    table = list_practices(ipcc_version, climate_zone)
    view = ["practice", "applies_to", "ipcc_effect", "rate_t_c_ha_yr", "rate_duration_yr"]
    if climate_zone:
        view.append("ipcc_relative_change")
    write_tables({"practices": table}, resolve_format(fmt, output), output,
                 table_columns={"practices": view})
    if not quiet and resolve_format(fmt, output) == "table":
        echo_err(f"{len(practice_names())} practices; full sources with -f csv or -f json")


def _streamed(command: str, file: str, fmt: str, output, params: dict, whole: str | None = None) -> bool:
    """Run ``project``/``score`` on a streamed input (or with ``--engine dask``); False: run in memory."""
    from .project_stream import run_streamed

    return run_streamed(command, file, fmt, output, params, whole=whole)
