"""The forward model: :func:`run` advances RothC-26.3 month by month for many plots from a
given state and records the chosen variables.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError, UnknownFactorError
from .decomposition import ForcingSource, MonthRecord, advance_month
from .drivers import Drivers, SiteConstants, plot_count
from .modifiers import BareSoilLimit
from .parameters import RothCParameters, parameters_or_shipped
from .radiocarbon import delta14c_of_pools
from .state import MonthlyInputs, RothCState

OUTPUTS = (
    "dpm_t_c_ha",
    "rpm_t_c_ha",
    "bio_t_c_ha",
    "hum_t_c_ha",
    "iom_t_c_ha",
    "soc_t_c_ha",
    "co2_t_c_ha",
    "smd_mm",
    "rm_temperature",
    "rm_moisture",
    "rm_cover",
    "delta14c_permil",
)
"""Variables :func:`run` can record (``delta14c_permil`` only with radiocarbon)."""


Record = Literal["monthly", "yearly", "final"]
Kernel = Literal["auto", "numpy", "numba"]

#: Environment variable that overrides ``kernel="auto"`` (``numpy`` or ``numba``).
KERNEL_ENV = "FOURP1000_ROTHC_KERNEL"
#: ``kernel="auto"`` takes the compiled loop from this many plot-months on (about 33,000 plots
#: x 50 years). Below it numba's start-up (about 0.4 s to import it and load the cached
#: machine code) costs more than the compiled loop saves (15-25 ns per plot-month).
COMPILED_MIN_PLOT_MONTHS = 20_000_000
#: ``kernel="auto"`` solves equilibria (:func:`spinup`, :func:`fit_plant_input`) with the
#: compiled code from this many plots on: the numpy solve costs about 7 µs per plot, the
#: compiled one under 1 µs, after numba's start-up.
COMPILED_MIN_PLOTS = 100_000


@dataclass
class RothCRun:
    """Result of :func:`run`.

    Attributes
    ----------
    month_index : array of int (n_records,)
        0-based month of each record (the state at the end of that month).
    outputs : dict of str to array (n_records, n_plots)
        Recorded variables (see :data:`OUTPUTS`): pools, IOM and SOC [t C ha-1],
        cumulative CO2 since the start of the run [t C ha-1], the deficit [mm], the three
        rate modifiers of the month [-] and, with radiocarbon, Δ14C [‰].
    final_state : RothCState
        State at the end of the last month (start of a continuation run).
    """

    month_index: NDArray
    outputs: dict[str, NDArray]
    final_state: RothCState


def run(
    inputs: MonthlyInputs,
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    initial: RothCState,
    *,
    n_months: int | None = None,
    record: Record = "monthly",
    variables: tuple[str, ...] | None = None,
    radiocarbon: bool | None = None,
    bare_soil_limit: BareSoilLimit = "classic",
    params: RothCParameters | None = None,
    kernel: Kernel = "auto",
) -> RothCRun:
    """Run RothC-26.3 month by month for many plots at once.

    Parameters
    ----------
    inputs : MonthlyInputs
        Drivers, shape ``(n_months, n_plots)`` or broadcastable, read cyclically.
    clay_pct : array (n_plots,) [%]
        Clay content.
    depth_cm : array (n_plots,) [cm]
        Depth of the layer (enters the moisture deficit only).
    initial : RothCState
        State at the start (e.g. ``spinup(...).state``); its deficit carries on.
    n_months : int, optional
        Months to run; default: the longest input period.
    record : {"monthly", "yearly", "final"}
        Record every month, every 12th month (the end of each year of the run), or only
        the last month.
    variables : tuple of str, optional
        Subset of :data:`OUTPUTS` to record (saves memory for large batches).
    radiocarbon : bool, optional
        Track radiocarbon; default: when the initial state carries it.
    bare_soil_limit : {"classic", "wilting_point"}
        See :func:`smd_limits`.
    params : RothCParameters, optional
    kernel : {"auto", "numpy", "numba"}
        The month loop: ``numpy`` (all plots one month at a time, the reference), ``numba``
        (one compiled loop over plots and months, on all cores; needs numba, ``pip install
        'fourp1000[fast]'``), or ``auto``: numba where installed and the run has at least
        :data:`COMPILED_MIN_PLOT_MONTHS` plot-months, else numpy. The environment variable
        ``FOURP1000_ROTHC_KERNEL`` (``numpy``/``numba``) overrides ``auto``. Both do the same
        arithmetic in the same order; where the exponentials of numpy and of the C library
        differ in the last bit, results differ by about 1e-13 relative after 50 years.

    Returns
    -------
    RothCRun

    Raises
    ------
    InputError
        Inputs of the wrong shape, non-finite or negative where they must not be.
    UnknownFactorError
        ``kernel="numba"`` without numba installed, or an unknown kernel.

    Notes
    -----
    Pools are in t C ha-1 for the layer the inputs and IOM refer to; the model has no depth
    or bulk-density conversion of SOC. CO2 is accumulated from 0 at the start of the run.
    The model applies to non-waterlogged topsoils.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Rothamsted Research (2024). RothC_Code, RothC_R, RothC_Py: official
       implementations of RothC (Apache-2.0), github.com/Rothamsted-Models.
    """
    p = parameters_or_shipped(params)
    drv = Drivers.build(inputs, p)
    n = plot_count(drv, clay_pct, depth_cm, initial.iom_t_c_ha)
    if initial.n_plots not in (1, n):
        raise InputError(f"initial state has {initial.n_plots} plots, inputs have {n}")
    if n_months is None:
        n_months = max(drv.periods)
    if n_months < 1:
        raise InputError("n_months must be >= 1")
    drv.check_months(n_months)
    if radiocarbon is None:
        radiocarbon = initial.c14_activity_t_c_ha is not None
    if radiocarbon and initial.c14_activity_t_c_ha is None:
        raise InputError("radiocarbon needs an initial state with radiocarbon (spinup(..., radiocarbon=True))")
    site = SiteConstants.build(clay_pct, depth_cm, initial.iom_t_c_ha, n, p, bare_soil_limit)
    wanted = _wanted_outputs(variables, radiocarbon)
    months = _recorded_months(record, n_months, p)
    if use_compiled(kernel, n * n_months):
        from . import compiled  # imports numba: only when it runs

        outputs, final = compiled.simulate(drv, site, initial, n_months, months, wanted, radiocarbon, p)
        return RothCRun(months, outputs, final)
    return _simulate(drv, site, initial, n_months, months, wanted, radiocarbon, p)


def numba_available() -> bool:
    """Whether numba is installed (without importing it)."""
    return importlib.util.find_spec("numba") is not None


def use_compiled(kernel: Kernel, plot_months: int, threshold: int = COMPILED_MIN_PLOT_MONTHS) -> bool:
    """Whether :func:`run` takes the compiled loop (see its ``kernel`` parameter); with
    ``threshold``, whether ``auto`` chooses it for that much work."""
    where = ""
    if kernel == "auto" and os.environ.get(KERNEL_ENV, "").strip():
        kernel, where = os.environ[KERNEL_ENV].strip().lower(), f" (environment variable {KERNEL_ENV})"
    if kernel == "numpy":
        return False
    if kernel == "numba":
        if not numba_available():
            raise UnknownFactorError(f"RothC kernel 'numba'{where} needs numba: pip install 'fourp1000[fast]'")
        return True
    if kernel != "auto":
        raise UnknownFactorError(f"unknown RothC kernel {kernel!r}{where}; valid: auto, numpy, numba")
    return plot_months >= threshold and numba_available()


def _wanted_outputs(variables: tuple[str, ...] | None, radiocarbon: bool) -> tuple[str, ...]:
    """The outputs to record (Δ14C only with radiocarbon); raises on an unknown name."""
    wanted = tuple(v for v in (variables or OUTPUTS) if radiocarbon or v != "delta14c_permil")
    unknown = [v for v in wanted if v not in OUTPUTS]
    if unknown:
        raise UnknownFactorError(f"unknown output {', '.join(unknown)}; valid: {', '.join(OUTPUTS)}")
    return wanted


def _recorded_months(record: Record, n_months: int, p: RothCParameters) -> NDArray:
    """0-based months whose end state is recorded."""
    if record == "monthly":
        return np.arange(n_months)
    if record == "yearly":
        per_year = int(p.months_per_year)
        return np.arange(per_year - 1, n_months, per_year)
    if record == "final":
        return np.array([n_months - 1])
    raise UnknownFactorError(f"unknown record {record!r}; valid: monthly, yearly, final")


def _simulate(
    drv: Drivers,
    site: SiteConstants,
    initial: RothCState,
    n_months: int,
    months: NDArray,
    wanted: tuple[str, ...],
    radiocarbon: bool,
    p: RothCParameters,
) -> RothCRun:
    """The month loop of :func:`run` on validated inputs."""
    n = site.iom_t_c_ha.shape[0]
    outputs = {v: np.empty((len(months), n)) for v in wanted}
    record_at = np.full(n_months, -1)
    record_at[months] = np.arange(len(months))

    pools = np.broadcast_to(initial.pools_t_c_ha, (4, n)).astype(float)
    smd = np.broadcast_to(initial.smd_mm, (n,)).astype(float)
    activity = None
    if radiocarbon:
        activity = np.broadcast_to(initial.c14_activity_t_c_ha, (4, n)).astype(float)
    co2_total = np.zeros(n)
    forcing = ForcingSource(drv, p, n)
    for t in range(n_months):
        pools, smd, activity, month = advance_month(pools, smd, activity, forcing(t), site, p)
        co2_total = co2_total + month.co2_t_c_ha
        r = record_at[t]
        if r >= 0:
            _record(outputs, r, pools, smd, activity, co2_total, month, site, p)
    final = RothCState(pools, site.iom_t_c_ha.copy(), smd, activity)
    return RothCRun(months, outputs, final)


def _record(
    outputs: dict[str, NDArray],
    r: int,
    pools: NDArray,
    smd: NDArray,
    activity: NDArray | None,
    co2_total: NDArray,
    month: MonthRecord,
    site: SiteConstants,
    p: RothCParameters,
) -> None:
    """Write the wanted variables of this month into row ``r`` of ``outputs``."""
    values = {
        "dpm_t_c_ha": lambda: pools[0],
        "rpm_t_c_ha": lambda: pools[1],
        "bio_t_c_ha": lambda: pools[2],
        "hum_t_c_ha": lambda: pools[3],
        "iom_t_c_ha": lambda: site.iom_t_c_ha,
        "soc_t_c_ha": lambda: pools[0] + pools[1] + pools[2] + pools[3] + site.iom_t_c_ha,
        "co2_t_c_ha": lambda: co2_total,
        "smd_mm": lambda: smd,
        "rm_temperature": lambda: month.rm_temperature,
        "rm_moisture": lambda: month.rm_moisture,
        "rm_cover": lambda: month.rm_cover,
        "delta14c_permil": lambda: delta14c_of_pools(pools, activity, site.iom_t_c_ha, p),
    }
    for name, out in outputs.items():
        out[r] = values[name]()
