"""``fourp1000 rothc``: run RothC-26.3 on a site file in the official Rothamsted format."""

from __future__ import annotations

import sys

import click

from ..io import rothc_files as rothc_io
from ..io.writers import write_tables
from .common import CONTEXT_SETTINGS, echo_err, handle_errors, output_options, resolve_format


@click.command("rothc", context_settings=CONTEXT_SETTINGS)
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--spinup",
    "spinup_method",
    type=click.Choice(["analytic", "reference"]),
    default="analytic",
    show_default=True,
    help="Equilibrium before the run: the exact periodic steady state (fast), or the official "
    "iterative loop and its stopping rule (reproduces the reference output files).",
)
@click.option("--monthly", is_flag=True, help="Write month results instead of year results.")
@click.option(
    "--radiocarbon", is_flag=True, help="Model radiocarbon and add the deltaC column (soil Delta14C, permil)."
)
@output_options
@handle_errors
def rothc(
    file: str,
    spinup_method: str,
    monthly: bool,
    radiocarbon: bool,
    fmt: str | None,
    output: str | None,
    quiet: bool,
    verbose: bool,
) -> None:
    """Run RothC-26.3 on FILE, a site in the official RothC input format (v1 or v2).

    The first 12 monthly rows are the spin-up year; the model is brought to equilibrium on
    them, then run over the other rows. Year results have the columns of the reference
    year_results (Year, Month, DPM_t_C_ha, RPM_t_C_ha, Bio_t_C_ha, Hum_t_C_ha, IOM_t_C_ha,
    SOC_t_C_ha, CO2_t_C_ha): the state after the spin-up (Month = months iterated, 0 for
    the analytic spin-up), then every December. FILE '-' reads stdin.

    \b
    Examples:
      fourp1000 rothc RothC_input.dat
      fourp1000 rothc RothC_input.dat --spinup reference --monthly -o months.csv
      fourp1000 rothc RothC_input.dat --format json --radiocarbon
    """
    if file == "-":
        from ..io.readers import read_stream
        from ..io.text import decode

        site = rothc_io.parse_site(decode(read_stream(sys.stdin.buffer, "<stdin>"), "<stdin>")[0], "<stdin>")
    else:
        site = rothc_io.read_site(file)
    result = rothc_io.run_site(site, spinup=spinup_method, radiocarbon=radiocarbon)
    name = "month_results" if monthly else "year_results"
    table = result.month_results if monthly else result.year_results
    meta = {
        "model": "RothC-26.3",
        "file": site.source,
        "layout": site.layout,
        "clay_pct": site.clay_pct,
        "depth_cm": site.depth_cm,
        "iom_t_c_ha": site.iom_t_c_ha,
        "spinup": spinup_method,
        "spinup_months": int(result.spinup.n_months[0]),
    }
    # Full double precision, like the R and Python reference outputs.
    write_tables({name: table}, resolve_format(fmt, output), output, meta=meta, decimals=None)
    if verbose and not quiet:
        echo_err(
            "Method: RothC-26.3 monthly (Coleman & Jenkinson 1996), as the Rothamsted reference code; "
            + (
                "reference spin-up: the official loop, stopped when active C changes by <= 1e-6 t C/ha/yr"
                if spinup_method == "reference"
                else "analytic spin-up: the exact periodic steady state (~1e-4 t C/ha above the reference loop's)"
            )
        )
    if not quiet:
        years = result.year_results
        span = f"{years['Year'].iat[1]}-{years['Year'].iat[-1]}" if len(years) > 1 else "no forward run"
        spun = f"{result.spinup.n_months[0]} months" if spinup_method == "reference" else "analytic"
        echo_err(
            f"RothC: {site.source} ({site.layout}): clay {site.clay_pct:g} %, depth {site.depth_cm:g} cm, "
            f"IOM {site.iom_t_c_ha:g} t C/ha; spin-up {spun}; SOC {years['SOC_t_C_ha'].iat[0]:.4f} -> "
            f"{years['SOC_t_C_ha'].iat[-1]:.4f} t C/ha ({span})"
        )
