"""RothC-26.3, the Rothamsted soil carbon model, vectorised over plots.

The monthly model as the official Rothamsted code computes it (Fortran ``RothC.for``, the R
and Python ports): temperature, topsoil-moisture-deficit and soil-cover rate modifiers, an
exact exponential decay of four active pools over each month, a clay-dependent split of
the decayed carbon into CO2, microbial biomass (BIO) and humus (HUM), plant inputs split
by a DPM/RPM ratio, farmyard manure split 49/49/2, and an optional radiocarbon tracer.

Every plot is an element of the state arrays (shape ``(n_plots,)``; the four active pools
are stacked as ``(4, n_plots)``); the only Python loop runs over months. Monthly drivers are
arrays of shape ``(n_months, n_plots)`` or anything that broadcasts to it, read cyclically,
so a 12-month climatology of shape ``(12, n_plots)`` drives a 50-year run without being
repeated in memory.

Public functions
----------------
* rate modifiers: :func:`temperature_rate_modifier`, :func:`smd_limits`,
  :func:`update_smd`, :func:`moisture_rate_modifier`, :func:`cover_rate_modifier`,
  :func:`co2_bio_hum_ratio`; :func:`falloon_iom` for the inert pool;
  :func:`dpm_rpm_ratio_for`, :func:`pan_evaporation_from_pet`, :func:`delta14c`;
* :func:`run`: the monthly model from a given state;
* :func:`spinup`: the equilibrium (periodic steady state) for a repeated climate and
  management cycle, analytically (default) or by the reference's iterative loop;
* :func:`fit_plant_input`: the inverse mode, the plant C input whose equilibrium SOC
  equals a measured stock.

Coefficients come from ``data/rothc_parameters.csv`` (:func:`load_parameters`).

Modules
-------
Everything public is importable from ``fourp1000.rothc`` itself. The modules, from the
bottom up; a module uses only those above it, through their public names (the modules
marked internal offer theirs to their siblings, not to users):

* ``parameters``: :class:`RothCParameters`, :func:`load_parameters`, :func:`dpm_rpm_ratio_for`,
  ``parameters_or_shipped`` (the default every function applies);
* ``state``: :class:`RothCState`, :class:`MonthlyInputs`, :data:`POOLS`, ``take_plots``
  (selecting plots of an array that may be plot-independent);
* ``modifiers``: the rate modifiers, :class:`SMDLimits`, the CO2/(BIO+HUM) partition,
  :func:`falloon_iom`, :func:`pan_evaporation_from_pet`;
* ``drivers`` (internal): validation and broadcasting of drivers (``Drivers``) and of the
  per-plot constants (``SiteConstants``, ``per_plot_values``, ``plot_count``);
* ``decomposition`` (internal): one month for every plot, the hot loop: the month's
  ``Forcing`` (``ForcingSource`` for a run, ``month_pool_inputs``), ``advance_month``,
  ``combined_rate_modifier``, ``retained_fraction``;
* ``radiocarbon``: :func:`delta14c` (``delta14c_of_pools`` on the arrays of a run);
* ``model``: :func:`run`, :class:`RothCRun`, :data:`OUTPUTS`;
* ``compiled`` (internal, needs numba): the month loop of :func:`run` fused and compiled
  (``kernel="numba"``), the same arithmetic as ``decomposition``;
* ``cycle`` (internal): a repeated cycle as an affine map of the pools (``settled_cycle``,
  ``cycle_map``), and its ``fixed_point``;
* ``equilibrium``: :func:`spinup`, :class:`Spinup` (analytic and reference spin-up);
* ``inverse``: :func:`fit_plant_input`, :class:`EquilibriumFit`.
"""

from .equilibrium import Spinup, SpinupMethod, spinup
from .inverse import EquilibriumFit, fit_plant_input
from .model import OUTPUTS, Record, RothCRun, run
from .modifiers import (
    BareSoilLimit,
    SMDLimits,
    co2_bio_hum_ratio,
    cover_rate_modifier,
    falloon_iom,
    moisture_rate_modifier,
    pan_evaporation_from_pet,
    smd_limits,
    temperature_rate_modifier,
    update_smd,
)
from .parameters import RothCParameters, dpm_rpm_ratio_for, load_parameters
from .radiocarbon import delta14c
from .state import POOLS, MonthlyInputs, RothCState

__all__ = [
    "OUTPUTS",
    "POOLS",
    "BareSoilLimit",
    "EquilibriumFit",
    "MonthlyInputs",
    "Record",
    "RothCParameters",
    "RothCRun",
    "RothCState",
    "SMDLimits",
    "Spinup",
    "SpinupMethod",
    "co2_bio_hum_ratio",
    "cover_rate_modifier",
    "delta14c",
    "dpm_rpm_ratio_for",
    "falloon_iom",
    "fit_plant_input",
    "load_parameters",
    "moisture_rate_modifier",
    "pan_evaporation_from_pet",
    "run",
    "smd_limits",
    "spinup",
    "temperature_rate_modifier",
    "update_smd",
]
