"""Project SOC stocks under practices with RothC-26.3, plot by plot, and score them against 4 per 1000.

The process-model counterpart of :mod:`fourp1000.projection.tier1` (IPCC Tier 1). For every plot:

1. **Baseline cycle.** A representative year: the plot's monthly climate (a
   :class:`~fourp1000.io.climate.ClimateTable`), its soil cover (``cover_months`` or the land
   use default), the DPM/RPM ratio of its land use (or a ``dpm_rpm_ratio`` column), plant C
   input spread over the input months of the land use (over the covered months where
   ``cover_months`` is given) and, on ``high_manure`` plots, farmyard manure.
   Defaults by land use are data: ``data/rothc_land_use.csv``.
2. **Initial state (inverse mode).** The measured 0-30 cm stock - or, where a plot has none,
   the IPCC default stock SOC_REF x F_LU x F_MG x F_I (``baseline_source``) - is taken as
   the equilibrium of the baseline cycle: :func:`fourp1000.rothc.fit_plant_input` finds the
   annual plant C input that sustains it (IOM by Falloon et al. 1998) and the pool sizes.
3. **Practices** change the cycle (``data/rothc_practices.csv``, each entry with its
   source): extra plant C input (cover crops, residues, improved grassland, tree litter),
   cover in the fallow months, farmyard manure, a DPM/RPM ratio. Combinations add. Tillage
   practices change nothing: RothC has no tillage term.
4. **Forward run.** The changed cycle is run month by month for ``years`` years from the
   equilibrium state; the stock at the end of each December is the yearly trajectory.

All plots are computed at once (arrays of shape ``(12, n_plots)``; the only loops run over
months, practices and distinct practice combinations). The result has the columns and the
4 per 1000 verdict of :func:`fourp1000.projection.tier1.project`, with ``model = "rothc"``.

Notes
-----
* **Equilibrium assumption.** Initialising from a single measured stock assumes the soil is
  at steady state with its baseline management and climate (as GSOCseq and most RothC
  studies do, Smith et al. 2005). A soil still losing or gaining carbon would continue to do
  so; the projection shows only the effect of the practices relative to that equilibrium.
  Without any practice a plot stays at its measured stock (to rounding).
* **Depth.** Stocks are 0-30 cm (as the measured stock and IPCC SOC_REF); the RothC layer
  depth is therefore 30 cm (``depth_cm``). In RothC the depth only scales the maximum
  topsoil moisture deficit (depth/23 of the 0-23 cm calibration layer); the pools are t C/ha
  of the layer.
* The climate is a repeated monthly climatology: no trend, no inter-annual variability.
* Clay: the 0-30 cm mean of the plot (``clay_pct``); RothC uses it in the CO2/(BIO+HUM)
  partition and the moisture deficit.

References
----------
.. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of carbon
   in soil. In: Evaluation of Soil Organic Matter Models, NATO ASI Series I 38, Springer,
   237-246. :doi:`10.1007/978-3-642-61094-3_17`
.. [2] Falloon, P., Smith, P., Coleman, K., Marshall, S. (1998). Soil Biol. Biochem. 30(8),
   1207-1211. :doi:`10.1016/S0038-0717(97)00256-3`
.. [3] Smith, J. et al. (2005). Projected changes in mineral soil carbon of European
   croplands and grasslands, 1990-2080. Glob. Change Biol. 11, 2141-2152.
   :doi:`10.1111/j.1365-2486.2005.001075.x`
.. [4] FAO (2020). GSOCseq - Technical manual for the Global Soil Organic Carbon
   Sequestration Potential Map (RothC initialisation, DPM/RPM by land cover, cover, SSM
   scenarios), FAO-SID/GSOCseq.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from dataclasses import dataclass, field
from typing import Iterable, Iterator

import numpy as np
import pandas as pd

from . import ipcc, tier1
from .. import rothc
from ..io.climate import ClimateTable
from ..rothc.model import use_compiled
from ..errors import FourP1000Error, InputError, ReferenceDataError
from ..practices import SEPARATOR, catalogue, practice_names
from ..tables import read_csv_table
from ..targets import change_columns
from .models import Prepared
from .verdict import caveat_text
from .yearly import YearlyStocks
from .rothc_inputs import (
    MONTHS,
    WEIGHT_COLUMNS,
    BaselineFit,
    ChangedCycle,
    PlotDrivers,
    PracticeInputs,
    adoption_masks,
    changed_cycle,
    cover_month_patterns,
    fit_baseline,
    format_cover_months,
    parse_condition,
    parse_cover_months,
    plot_drivers,
    plot_error,
    practice_inputs,
)

MODEL = "rothc"
#: Depth of the RothC layer [cm]: the depth of the stocks it starts from (0-30 cm).
MODEL_DEPTH_CM = 30.0
LAND_USE_FILE = "rothc_land_use.csv"
PRACTICES_FILE = "rothc_practices.csv"
EFFECTS = ("none", "plant_input_fraction", "plant_input_t_c_ha_yr", "plant_input_cover_crop", "cover", "fym_c_t_ha_yr",
           "tree_litter_equilibrium", "dpm_rpm_ratio")
MONTH_RULES = ("baseline", "fallow", "fallow_inner", "fallow_growing", "all")
#: Optional plot columns read by the RothC projection (besides the IPCC ones).
PLOT_COLUMNS = ("clay_pct", "climate_id", "cover_months", "dpm_rpm_ratio")
#: Result columns of :func:`project_rothc` after ``plot_id`` (and ``farm_id``, ``area_ha``):
#: ``model`` (``"rothc"``), ``practices``, ``years``, ``baseline_source`` (``measured`` or
#: ``ipcc_default``), ``baseline_stock_t_ha``, ``final_stock_t_ha``, ``annual_change_t_ha_yr``
#: (mean over the horizon), ``rate_per_mille``, ``meets_4p1000``, ``baseline_co2e_t_ha``,
#: ``final_co2e_t_ha``, ``annual_change_co2e_t_ha_yr``, ``equilibrium_stock_t_ha`` (steady
#: state under the practices), ``plant_c_input_t_ha_yr`` (fitted baseline plant input),
#: ``fym_c_input_t_ha_yr`` (baseline manure), ``added_c_input_t_ha_yr`` (all C added by the
#: practices) and its parts ``added_plant_c_t_ha_yr`` (tree litter included),
#: ``added_fym_c_t_ha_yr``, ``tree_litter_c_t_ha_yr``; ``iom_t_c_ha``, ``clay_pct``,
#: ``depth_cm``, ``climate_id``, ``evaporation_source``, ``land_use_new``,
#: ``cover_months``/``cover_months_new``, ``dpm_rpm_ratio``/``dpm_rpm_ratio_new``
#: (input-weighted), ``practices_without_rothc_effect``, ``plant_c_input_ceiling_t_ha_yr`` (the
#: climatic ceiling of plant input: the Miami NPP as carbon), ``rothc_confidence``
#: (``low`` where the fitted input exceeds the ceiling), ``credited_practices``, ``not_credited``
#: and ``caveats`` (``implausible_input``). Stocks in t C ha-1 for 0-30 cm.
RESULT_COLUMNS = (
    "model", "practices", "years", "baseline_source", "baseline_stock_t_ha", "final_stock_t_ha",
    "annual_change_t_ha_yr", "rate_per_mille", "meets_4p1000", "baseline_co2e_t_ha", "final_co2e_t_ha",
    "annual_change_co2e_t_ha_yr", "equilibrium_stock_t_ha", "plant_c_input_t_ha_yr", "fym_c_input_t_ha_yr",
    "added_c_input_t_ha_yr", "added_plant_c_t_ha_yr", "added_fym_c_t_ha_yr", "tree_litter_c_t_ha_yr", "iom_t_c_ha",
    "clay_pct", "depth_cm", "climate_id", "evaporation_source", "land_use_new", "cover_months", "cover_months_new",
    "dpm_rpm_ratio", "dpm_rpm_ratio_new", "practices_without_rothc_effect", "plant_c_input_ceiling_t_ha_yr",
    "rothc_confidence", "credited_practices", "not_credited", "caveats",
)



# --------------------------------------------------------------------------------------
# Coefficient tables
# --------------------------------------------------------------------------------------


def _read(name: str) -> pd.DataFrame:
    return read_csv_table(name, dtype={"applies_when": "string", "months": "string"})


@functools.lru_cache(maxsize=1)
def land_use_defaults() -> pd.DataFrame:
    """RothC defaults by land use (``data/rothc_land_use.csv``), indexed by ``land_use``.

    Columns: ``supported``, ``vegetation``, ``dpm_rpm_ratio`` [-], ``cover_months``,
    ``input_weight_01`` ... ``input_weight_12`` (relative plant C input by month),
    ``status``, ``source``, ``note``.

    Raises
    ------
    ReferenceDataError
        The table misses a land use of :data:`fourp1000.projection.ipcc.LAND_USES`, a source, or has
        invalid values (a packaging bug).
    """
    table = _read(LAND_USE_FILE).set_index("land_use")
    missing = sorted(set(ipcc.LAND_USES) - set(table.index))
    if missing or table["source"].isna().any():
        raise ReferenceDataError(f"{LAND_USE_FILE}: land uses {missing} missing, or a row without source")
    ok = table[table["supported"].astype(bool)]
    weights = ok[list(WEIGHT_COLUMNS)].to_numpy(dtype=float)
    ratios = ok["dpm_rpm_ratio"].to_numpy(dtype=float)
    if (ratios <= 0).any() or (weights < 0).any() or (weights.sum(axis=1) <= 0).any():
        raise ReferenceDataError(f"{LAND_USE_FILE}: DPM/RPM ratios must be > 0 and input weights >= 0, not all 0")
    parse_cover_months(ok["cover_months"].to_numpy(dtype=object), column=f"{LAND_USE_FILE} cover_months")
    return table


@functools.lru_cache(maxsize=1)
def practice_effects() -> pd.DataFrame:
    """How each catalogue practice changes the RothC inputs (``data/rothc_practices.csv``).

    One row per practice and effect: ``effect`` (one of :data:`EFFECTS`), ``value`` and
    ``unit``, ``months`` (``baseline``: like the fitted plant input; ``fallow``: the bare
    months of the baseline, or the whole year where there are none; ``all``: evenly over
    the year), ``dpm_rpm_ratio`` of the added plant material (empty: the plot's ratio),
    ``applies_when`` (a condition on the baseline ``input_level``: ``input_level=low``,
    ``input_level!=high_manure``; empty: always), ``status``, ``source``, ``note``.

    Raises
    ------
    ReferenceDataError
        A practice of the catalogue is missing, an effect or month rule is unknown, or a
        row has no source.
    """
    return checked_effects(_read(PRACTICES_FILE), PRACTICES_FILE, ReferenceDataError)


def checked_effects(table: pd.DataFrame, label: str, error: type[Exception]) -> pd.DataFrame:
    names = set(practice_names())
    needed = {"practice", "effect", "value", "months", "dpm_rpm_ratio", "applies_when", "source"}
    if needed - set(table.columns):
        raise error(f"{label}: missing columns {sorted(needed - set(table.columns))}")
    table = table.astype({"applies_when": "string", "months": "string"})
    problems = sorted(names - set(table["practice"])) + sorted(set(table["practice"]) - names)
    problems += [e for e in table["effect"] if e not in EFFECTS]
    problems += [m for m in table["months"].dropna() if m not in MONTH_RULES]
    for cond in table["applies_when"].dropna():
        if parse_condition(cond) is None:
            problems.append(cond)
    if problems or table["source"].isna().any():
        raise error(f"{label}: invalid or missing entries {problems} (every row needs a source); "
                    f"valid effects: {', '.join(EFFECTS)}; months: {', '.join(MONTH_RULES)}")
    return table


# --------------------------------------------------------------------------------------
# Projection
# --------------------------------------------------------------------------------------


@dataclass
class RothCProjection:
    """Result of :func:`project_rothc`.

    Attributes
    ----------
    plots : pandas.DataFrame
        One row per plot (columns of :func:`project_rothc`).
    stocks_t_ha : YearlyStocks, shape (years + 1, n_plots) [t C ha-1]
        Yearly stocks: row 0 the baseline, then the end of each year (``numpy.asarray``
        builds the array).
    problems : list of FourP1000Error
        With ``skip_unreachable``: the error naming the plots left out because no plant
        input reaches their stock.
    """

    plots: pd.DataFrame
    stocks_t_ha: YearlyStocks
    problems: list[FourP1000Error] = field(default_factory=list)

    @property
    def trajectory(self) -> pd.DataFrame:
        """Yearly stocks, long format: ``plot_id``, ``year`` (0 = baseline), ``stock_t_ha``
        (built when asked: 5 million rows for 100,000 plots x 50 years)."""
        return trajectory_table(self.plots["plot_id"], self.stocks_t_ha)


def project_rothc(
    plots: pd.DataFrame,
    climate: ClimateTable,
    *,
    practices: Iterable[str] = (),
    years: int = tier1.DEFAULT_YEARS,
    ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION,
    depth_cm: float = MODEL_DEPTH_CM,
    effects: pd.DataFrame | None = None,
    params: rothc.RothCParameters | None = None,
    skip_unreachable: bool = False,
    prepared: PreparedPlots | None = None,
    kernel: str | None = None,
    baselines: PlotBaselines | None = None,
) -> RothCProjection:
    """Project each plot's 0-30 cm SOC stock under its practices with RothC-26.3.

    Parameters
    ----------
    plots : pandas.DataFrame
        One row per plot: ``plot_id``, ``land_use``, ``clay_pct`` [%, 0-30 cm mean],
        ``practices`` (``;``-separated), ``measured_stock_t_c_ha`` [t C ha-1, 0-30 cm]
        where measured, else ``climate_zone``, ``soil_class``, ``tillage`` and
        ``input_level`` for the IPCC default stock; ``input_level`` (``low`` means residues
        removed, ``high_manure`` a manured baseline); optional ``climate_id`` (else the
        ``climate_zone`` is looked up in the climate table), ``cover_months`` (e.g. ``4-9``),
        ``dpm_rpm_ratio`` [-], ``farm_id``, ``area_ha``, ``source_row``.
    climate : ClimateTable
        Monthly climatologies (:func:`fourp1000.io.climate.read_climate`), keyed by
        ``climate_id`` or by ``plot_id``.
    practices : iterable of str
        Practices applied to every plot, in addition to the ``practices`` column.
    years : int, default 20
        Projection horizon T [yr] (whole years).
    ipcc_version : {"2019", "2006"}
        IPCC tables for the default stock of plots without a measured stock.
    depth_cm : float, default 30
        Depth of the RothC layer [cm] (scales the topsoil moisture deficit only).
    effects : pandas.DataFrame, optional
        A table like :func:`practice_effects` with other amounts (sensitivity analyses,
        local data); default the shipped ``data/rothc_practices.csv``.
    params : RothCParameters, optional
        RothC coefficients (default: the shipped ones).
    skip_unreachable : bool, default False
        Leave out the plots whose stock no plant input reaches (listed in
        ``problems``) instead of raising.
    prepared : PreparedPlots, optional
        The inputs :func:`prepare_plots` resolved for these ``plots`` (with the same
        ``climate``, ``practices``, ``ipcc_version`` and ``params``): not parsed again
        (resolved again if they are another table's).
    kernel : {"auto", "numpy", "numba"}, optional
        The equilibrium solves and month loop (:func:`fourp1000.rothc.run`); ``auto``:
        compiled where the run has :data:`~fourp1000.rothc.model.COMPILED_MIN_PLOT_MONTHS`
        plot-months or more and numba is installed. Default: that of an enclosing
        :func:`batch_kernel` block, else ``auto``.
    baselines : PlotBaselines, optional
        The drivers and fitted baselines of these plots, row for row (:func:`plot_baselines`
        of the plots, :meth:`PlotBaselines.take` of each row's plot), with the same
        ``climate``, ``ipcc_version``, ``depth_cm``, ``effects``, ``params`` and kernel: not
        resolved and fitted again (``plan`` projects each plot under many practice sets).

    Returns
    -------
    RothCProjection
        ``plots``: one row per plot, ``plot_id`` (``farm_id``, ``area_ha``), the columns of
        :data:`RESULT_COLUMNS` and ``source_row``; ``trajectory``: yearly stocks.

    Raises
    ------
    InputError, UnknownFactorError
        Naming the row: unknown practices or classes, missing or out-of-range clay, a
        climate id not in the table, paddy plots (RothC does not apply to flooded soils),
        a stock that the baseline manure alone would exceed, a climate in which nothing
        decomposes. The error's ``rows`` lists every plot concerned.

    Notes
    -----
    4 per 1000 is met when the mean yearly change over the horizon, (S(T) - S(0)) / T, is at
    least 4 per mille of the baseline stock, as for the IPCC path. RothC approaches the new
    equilibrium exponentially (the HUM pool turns over in about 50 years), so after 20 years
    the stock is usually well short of ``equilibrium_stock_t_ha``.

    Examples
    --------
    >>> from fourp1000.io.climate import climate_from_frame
    >>> clim = climate_from_frame(pd.DataFrame({"climate_id": "x", "month": range(1, 13),
    ...     "temperature_c": 10.0, "rain_mm": 60.0, "evaporation_mm": 50.0}))
    >>> plots = pd.DataFrame({"plot_id": ["a"], "land_use": ["cropland"], "clay_pct": [20.0],
    ...     "measured_stock_t_c_ha": [40.0], "climate_id": ["x"], "input_level": ["medium"]})
    >>> r = project_rothc(plots, clim)
    >>> round(float(r.plots.final_stock_t_ha[0]), 6)
    40.0
    """
    n_years = _whole_years(years)
    if not float(depth_cm) > 0:
        raise InputError(f"depth_cm must be positive, got {depth_cm!r}")
    p = params if params is not None else rothc.load_parameters()
    if len(plots) == 0:  # every plot rejected upstream
        return _empty_projection(plots)
    if baselines is not None:  # the plots' own drivers and fit: only the practices to resolve
        inp, drivers = tier1.prepare(plots, practices, ipcc_version, method="rates"), baselines.drivers
    elif prepared is None or not prepared.covers(plots):
        # Practices, measured stocks and IPCC defaults: the same parsing and checks as the IPCC path.
        inp = tier1.prepare(plots, practices, ipcc_version, method="rates")
        drivers, errors = plot_drivers(plots, climate, land_use_defaults(), inp.baseline_stock(), inp.source_row, p)
        if errors:
            raise errors[0]
    else:
        inp, drivers = prepared.inputs, prepared.drivers
    effects = practice_effects() if effects is None else checked_effects(effects, "effects", InputError)
    # one choice for the whole projection: compiled solves and month loop where the run is large
    kernel = _BATCH_KERNEL.get() if kernel is None else kernel
    kernel = "numba" if use_compiled(kernel, len(plots) * MONTHS * n_years) else "numpy"
    base = baselines.base if baselines is not None else fit_baseline(drivers, effects, depth_cm, p, kernel)
    problems = []
    if base.unreachable.any():
        problems.append(plot_error(
            "the baseline stock{where} is below what the baseline manure alone sustains in RothC (inert organic "
            "matter plus the manure equilibrium); check input_level and the stock",
            base.unreachable, inp.source_row, "input_level"))
        if not skip_unreachable:
            raise problems[0]
    result = _forward(plots, inp, climate, drivers, base, effects, n_years, depth_cm, p, kernel)
    keep = ~base.unreachable
    if keep.all():
        return result
    # plots are independent: leaving one out changes nobody else's numbers
    return RothCProjection(result.plots[keep].reset_index(drop=True), result.stocks_t_ha.take(keep), problems)


def _forward(plots: pd.DataFrame, inp: tier1.ProjectionInputs, climate: ClimateTable, drivers: PlotDrivers,
             base: BaselineFit, effects: pd.DataFrame, n_years: int, depth_cm: float,
             p: rothc.RothCParameters, kernel: str = "auto") -> RothCProjection:
    """Run the changed cycle from the baseline equilibrium and score each plot."""
    changes = practice_inputs(effects, inp.change, drivers, base, p)
    cycle = changed_cycle(drivers, base, changes, depth_cm, p, kernel)
    run = rothc.run(cycle.inputs, drivers.clay_pct, depth_cm, base.fit.spinup.state, n_months=MONTHS * n_years,
                    record="yearly", variables=("soc_t_c_ha",), params=p, kernel=kernel)
    stock_years = run.outputs["soc_t_c_ha"]  # (years, n), end of each December
    equilibrium = rothc.spinup(cycle.inputs, drivers.clay_pct, depth_cm, base.fit.iom_t_c_ha,
                               params=p, kernel=kernel).state.soc_t_c_ha
    out = _result_frame(plots, inp, climate, drivers, base, changes, cycle, stock_years, equilibrium, n_years,
                        depth_cm)
    return RothCProjection(out, YearlyStocks(inp.baseline_stock(), stock_years))


@dataclass(frozen=True)
class PlotBaselines:
    """What projecting a plot needs that its practices do not change: its drivers and its
    fitted baseline (:func:`plot_baselines`), for :func:`project_rothc`'s ``baselines``.

    Attributes
    ----------
    drivers : PlotDrivers
    base : BaselineFit
    """

    drivers: PlotDrivers
    base: BaselineFit

    def take(self, index: np.ndarray) -> PlotBaselines:
        """The baselines of the plots at positions ``index`` (one row per (plot, practice set) pair)."""
        return PlotBaselines(self.drivers.take(index), self.base.take(index))


def plot_baselines(plots: pd.DataFrame, climate: ClimateTable, *, years: int = tier1.DEFAULT_YEARS,
                   ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION, depth_cm: float = MODEL_DEPTH_CM,
                   effects: pd.DataFrame | None = None, params: rothc.RothCParameters | None = None,
                   kernel: str | None = None) -> PlotBaselines:
    """Each plot's drivers and baseline fit, as :func:`project_rothc` resolves them, once.

    For projecting the same plots under many practice sets (``plan``): the drivers and the
    fitted baseline depend on the plot, its climate and its baseline management, not on the
    practices adopted. ``kernel`` as in :func:`project_rothc` (for ``years`` of these plots);
    the fit of a plot does not depend on the other plots fitted with it.

    Raises
    ------
    FourP1000Error
        What :func:`project_rothc` raises for these plots before fitting (:func:`check_plots`).
    """
    p = params if params is not None else rothc.load_parameters()
    inp = tier1.prepare(plots, (), ipcc_version, method="rates")
    drivers, errors = plot_drivers(plots, climate, land_use_defaults(), inp.baseline_stock(), inp.source_row, p)
    if errors:
        raise errors[0]
    effects = practice_effects() if effects is None else checked_effects(effects, "effects", InputError)
    kernel = _BATCH_KERNEL.get() if kernel is None else kernel
    kernel = "numba" if use_compiled(kernel, len(plots) * MONTHS * _whole_years(years)) else "numpy"
    return PlotBaselines(drivers, fit_baseline(drivers, effects, depth_cm, p, kernel))


_BATCH_KERNEL: contextvars.ContextVar[str] = contextvars.ContextVar("rothc_batch_kernel", default="auto")


@contextlib.contextmanager
def batch_kernel(kernel: str) -> Iterator[None]:
    """Within the block, :func:`project_rothc` uses ``kernel`` (``auto``, ``numpy`` or
    ``numba``) unless given one.

    For callers that project one large job in chunks (``plan``: its plot-set pairs): each
    chunk alone may be below the size from which ``auto`` compiles, while the job as a whole
    pays numba's start-up once and gains in every chunk.
    """
    token = _BATCH_KERNEL.set(kernel)
    try:
        yield
    finally:
        _BATCH_KERNEL.reset(token)


def current_batch_kernel() -> str:
    """The kernel of the enclosing :func:`batch_kernel` block (``auto`` outside any)."""
    return _BATCH_KERNEL.get()


def _empty_projection(plots: pd.DataFrame) -> RothCProjection:
    """The result of no plots: the empty tables with their columns."""
    ids = [c for c in ("plot_id", "farm_id", "area_ha") if c in plots.columns or c == "plot_id"]
    extra = ["source_row"] if "source_row" in plots.columns else []
    return RothCProjection(pd.DataFrame(columns=ids + list(RESULT_COLUMNS) + extra),
                           YearlyStocks(np.zeros(0), np.zeros((0, 0))))


def _whole_years(years: object) -> int:
    try:
        n_years = int(years)
    except (TypeError, ValueError):
        raise InputError(f"years must be a whole number, got {years!r}") from None
    if n_years != years or n_years < 1:
        raise InputError(f"years must be a whole number >= 1, got {years!r}")
    return n_years


@dataclass(frozen=True)
class PreparedPlots:
    """The plots :func:`project_rothc` can project, resolved once (:func:`prepare_plots`).

    Attributes
    ----------
    inputs : fourp1000.projection.tier1.ProjectionInputs
        Practices, measured stocks and IPCC defaults (method ``rates``).
    drivers : PlotDrivers
        Climate, cover, DPM/RPM and input shape of each plot.
    """

    inputs: tier1.ProjectionInputs
    drivers: PlotDrivers

    def covers(self, plots: pd.DataFrame) -> bool:
        """Whether these are the inputs of ``plots`` (the same plot ids, in order)."""
        mine = self.inputs.plots["plot_id"].to_numpy()
        return len(mine) == len(plots) and bool((mine == plots["plot_id"].to_numpy()).all())


def check_plots(plots: pd.DataFrame, climate: ClimateTable, practices: Iterable[str] = (),
                ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION, params: rothc.RothCParameters | None = None
                ) -> list[FourP1000Error]:
    """Every reason :func:`project_rothc` would refuse a plot, each error naming all its rows.

    The checks of :func:`fourp1000.projection.tier1.check_plots` (method ``rates``), then, on
    the plots that pass them, the RothC checks of
    :func:`fourp1000.projection.rothc_inputs.plot_drivers`. Plots whose stock no plant input
    reaches are found only by the fit (:func:`project_rothc` with ``skip_unreachable``).

    Returns
    -------
    list of FourP1000Error
        Errors with ``rows``, or one without rows that concerns the whole table.
    """
    return prepare_plots(plots, climate, practices, ipcc_version, params).errors


def prepare_plots(plots: pd.DataFrame, climate: ClimateTable, practices: Iterable[str] = (),
                  ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION, params: rothc.RothCParameters | None = None
                  ) -> Prepared:
    """:func:`check_plots` keeping what it resolved: a
    :class:`~fourp1000.projection.models.Prepared` whose ``errors`` are those of
    :func:`check_plots` and whose ``inputs`` (a :class:`PreparedPlots`, None where a plot is
    refused) :func:`project_rothc` takes as ``prepared``.
    """
    inp, errors = tier1.checked_inputs(plots, practices, ipcc_version, method="rates")
    if any(e.rows is None for e in errors) or "source_row" not in plots.columns:
        return Prepared(errors)
    ok = plots
    if errors:
        rejected = [r for e in errors for r in e.rows]
        ok = plots[~plots["source_row"].isin(rejected)].reset_index(drop=True)
        inp = tier1.prepare(ok, practices, ipcc_version, method="rates") if len(ok) else None
    if not len(ok):
        return Prepared(errors)
    p = params if params is not None else rothc.load_parameters()
    try:
        drivers, more = plot_drivers(ok, climate, land_use_defaults(), inp.baseline_stock(), inp.source_row, p)
    except FourP1000Error as exc:  # a problem of the whole table
        return Prepared(errors + [exc])
    reusable = not errors and not more
    return Prepared(errors + more, PreparedPlots(inp, drivers) if reusable else None)


def _result_frame(plots: pd.DataFrame, inp: tier1.ProjectionInputs, climate: ClimateTable, drivers: PlotDrivers,
                  base: BaselineFit, changes: PracticeInputs, cycle: ChangedCycle, stock_years: np.ndarray,
                  equilibrium: np.ndarray, n_years: int, depth_cm: float) -> pd.DataFrame:
    """One row per plot: the verdict against 4 per 1000 and the inputs behind it (:data:`RESULT_COLUMNS`)."""
    baseline = inp.baseline_stock()
    added_plant = cycle.plant_t_c_ha.sum(axis=0) - base.plant_t_c_ha.sum(axis=0)
    added_fym = changes.fym_t_c_ha.sum(axis=0) - base.fym_t_c_ha.sum(axis=0)
    # one DataFrame of the columns at the end; text columns from codes into their few labels
    # (_text), text identifiers as they are: no 100,000 strings to Python objects and back
    out: dict[str, object] = {"plot_id": _as_given(plots["plot_id"])}
    for col in ("farm_id", "area_ha"):
        if col in plots.columns:
            out[col] = _as_given(plots[col])
    out["model"] = _text([MODEL], np.zeros(len(plots), np.intp))
    out["practices"] = inp.change.practices
    out["years"] = float(n_years)
    out["baseline_source"] = _text(["ipcc_default", "measured"], np.isfinite(inp.measured_stock_t_c_ha))
    for name, values in change_columns(baseline, stock_years[-1], n_years).items():
        out[name] = values
    out["equilibrium_stock_t_ha"] = equilibrium
    out["plant_c_input_t_ha_yr"] = base.fit.plant_c_t_ha_yr
    out["fym_c_input_t_ha_yr"] = base.fym_t_c_ha_yr
    out["added_c_input_t_ha_yr"] = added_plant + added_fym
    out["added_plant_c_t_ha_yr"] = added_plant
    out["added_fym_c_t_ha_yr"] = added_fym
    out["tree_litter_c_t_ha_yr"] = cycle.tree_litter_t_c_ha_yr
    out["iom_t_c_ha"] = base.fit.iom_t_c_ha
    out["clay_pct"] = drivers.clay_pct
    out["depth_cm"] = float(depth_cm)
    out["climate_id"] = _text(climate.ids, drivers.climate_index)
    out["evaporation_source"] = _text(climate.evaporation_source, drivers.climate_index)
    out["land_use_new"] = inp.change.land_use
    out["cover_months"] = _text(*cover_month_patterns(drivers.covered)[::-1])
    out["cover_months_new"] = _text(*cover_month_patterns(changes.covered)[::-1])
    out["dpm_rpm_ratio"] = drivers.dpm_rpm_ratio
    total_new = cycle.plant_t_c_ha.sum(axis=0)
    dpm_total = cycle.dpm_t_c_ha.sum(axis=0)
    out["dpm_rpm_ratio_new"] = np.where(total_new > dpm_total, dpm_total / np.maximum(total_new - dpm_total, 1e-300),
                                        changes.dpm_rpm_ratio)
    out["practices_without_rothc_effect"] = _practice_labels(changes.no_effect)
    ceiling = input_ceiling(drivers)
    implausible = base.fit.plant_c_t_ha_yr > ceiling
    out["plant_c_input_ceiling_t_ha_yr"] = ceiling
    out["rothc_confidence"] = _text(["normal", "low"], implausible)
    out["credited_practices"] = inp.change.credited
    out["not_credited"] = inp.change.not_credited
    out["caveats"] = caveat_text({"implausible_input": implausible,
                                  "stacked_effects": _stacked(inp.change.credited, changes.no_effect,
                                                              np.asarray(out["annual_change_t_ha_yr"], dtype=float))},
                                 len(plots))
    if inp.source_row is not None:
        out["source_row"] = inp.source_row
    return pd.DataFrame(out)


def _as_given(column: pd.Series) -> object:
    """A column of the text dtype pandas infers: its own array (no conversion); another text
    column with some text: cast to that dtype (string to string, no Python objects); else its
    values as numpy gives them (pandas infers the column again, as before)."""
    inferred = pd.Series(np.array([""], dtype=object)).dtype
    if inferred == object:
        return column.to_numpy()
    if column.dtype == inferred:
        return column.array
    if isinstance(column.dtype, pd.StringDtype) and column.notna().any():  # what inference gives such values
        return column.astype(inferred).array
    return column.to_numpy()


def _text(labels: Iterable[str], codes: np.ndarray) -> pd.api.extensions.ExtensionArray:
    """``labels[codes]`` as the text column pandas makes of them, converting only the labels."""
    column = pd.Series(np.asarray(labels, dtype=object)).array
    return column.take(np.asarray(codes, dtype=np.intp))


def input_ceiling(drivers: PlotDrivers) -> np.ndarray:
    """Plausible ceiling of each plot's plant C input [t C ha-1 yr-1]: its climate's NPP.

    The Miami-model net primary production of the plot's climatology (Lieth 1975; mean
    annual temperature and annual rain) as carbon, 0.48 g C per g dry matter (FAO 2020
    GSOCseq Eqs. 6.6-6.9; :func:`fourp1000.projection.npp.miami_t_c_ha`). No more plant
    carbon can enter the soil than the vegetation fixes; a fitted equilibrium input above
    it means the stock is not at equilibrium with this climate and management (or the
    climate is wrong), and the RothC result is of low confidence.
    """
    from .npp import c_input_ceiling_t_c_ha

    return c_input_ceiling_t_c_ha(drivers.temperature_c.mean(axis=0), drivers.rain_mm.sum(axis=0))


def _stacked(credited: np.ndarray, no_effect: dict[str, np.ndarray], annual_t_ha_yr: np.ndarray) -> np.ndarray:
    """Plots where two or more practices act in RothC and the mean yearly gain exceeds the
    largest meta-analysis rate of the catalogue (the largest published single-practice effect)."""
    masks = adoption_masks(credited)
    acting = sum((masks[name] & ~no_effect[name]).astype(int) for name in practice_names())
    largest = max(float(p.rate["t_c_ha_yr"]) for p in catalogue().values() if p.rate)
    return (acting >= 2) & (annual_t_ha_yr > largest)


def _practice_labels(flags: dict[str, np.ndarray]) -> pd.api.extensions.ExtensionArray:
    """``;``-joined names of the practices flagged for each plot (distinct patterns joined once)."""
    names = np.asarray(practice_names(), dtype=object)
    bits = sum(flags[name].astype(np.int64) << j for j, name in enumerate(names))
    codes, uniques = pd.factorize(bits)
    labels = [SEPARATOR.join(names[[(int(u) >> j) & 1 == 1 for j in range(len(names))]]) for u in uniques]
    return _text(labels, codes)


def trajectory_table(plot_id: pd.Series, stocks_t_ha: YearlyStocks | np.ndarray) -> pd.DataFrame:
    """Yearly stocks (years + 1, n) as a long table: ``plot_id``, ``year`` (0 = baseline), ``stock_t_ha``."""
    years_axis = np.arange(stocks_t_ha.shape[0])
    # take keeps the column's dtype (no object round trip: 3x faster on 100,000 plots x 50 years)
    ids = plot_id.take(np.repeat(np.arange(len(plot_id)), years_axis.size)).reset_index(drop=True)
    return pd.DataFrame({"plot_id": ids, "year": np.tile(years_axis, len(plot_id)),
                         "stock_t_ha": np.asarray(stocks_t_ha, dtype=float).T.ravel()})


def method_statement(years: int, depth_cm: float = MODEL_DEPTH_CM) -> str:
    """One line describing the RothC projection, for the CLI's ``Method:`` lines."""
    return (f"RothC-26.3: measured 0-30 cm stock (else the IPCC default) taken as the equilibrium of the baseline "
            f"cycle; plant C input fitted to it (inverse mode, IOM by Falloon et al. 1998); practices change the "
            f"inputs and cover (data/rothc_practices.csv); monthly climatology repeated; layer depth {depth_cm:g} cm; "
            f"horizon {years} yr; 4 per 1000 met when the mean yearly change >= 4 per mille of the baseline")


__all__ = ["project_rothc", "plot_baselines", "PlotBaselines", "batch_kernel", "current_batch_kernel", "prepare_plots", "PreparedPlots", "RothCProjection", "land_use_defaults", "practice_effects", "parse_cover_months",
           "format_cover_months", "method_statement", "MODEL", "MODEL_DEPTH_CM", "RESULT_COLUMNS"]
