"""numba's start-up ahead of a large run: the compiled kernels loaded in a background thread.

A process's first call of a compiled kernel costs about half a second before any plot is
computed: numba initialises its code generator (importing its array library and, through
it, ``scipy.linalg``) and loads the kernel's machine code from the disk cache. None of it
depends on the data, so a command that knows early that it will run the compiled kernels
(a large input) starts :func:`start_warm_up` before reading its files: the start-up then
runs while the files are read, on a processor the reading leaves idle.
"""

from __future__ import annotations

import threading

import numpy as np

from ..errors import FourP1000Error
from .equilibrium import spinup
from .inverse import fit_plant_input
from .model import COMPILED_MIN_PLOT_MONTHS, run, use_compiled
from .parameters import RothCParameters
from .state import MonthlyInputs


def warm_up_compiled(params: RothCParameters | None = None) -> None:
    """Call the compiled equilibrium solves and month loop once, on one plot.

    Each compiled kernel is loaded (or, the first time on a machine, compiled and cached)
    with the argument types every run gives it: :func:`fit_plant_input`, :func:`spinup` and
    :func:`run` with ``kernel="numba"``, as the RothC projection calls them.
    """
    one = np.ones((12, 1))
    cycle = MonthlyInputs(temperature_c=10.0 * one, rain_mm=60.0 * one, evaporation_mm=40.0 * one,
                          plant_c_t_ha=one / 12.0, fym_c_t_ha=np.zeros((1, 1)), covered=one > 0,
                          dpm_rpm_ratio=np.full((1, 1), 1.44))
    fit = fit_plant_input(cycle, [20.0], 30.0, [40.0], strict=False, params=params, kernel="numba")
    spinup(fit.inputs, [20.0], 30.0, fit.iom_t_c_ha, params=params, kernel="numba")
    run(fit.inputs, [20.0], 30.0, fit.spinup.state, n_months=24, record="yearly", variables=("soc_t_c_ha",),
        params=params, kernel="numba")


def start_warm_up(plot_months: int, params: RothCParameters | None = None) -> threading.Thread | None:
    """:func:`warm_up_compiled` in a background thread, when ``kernel="auto"`` compiles
    ``plot_months`` of work (numba installed, :data:`~fourp1000.rothc.model.KERNEL_ENV` not
    ``numpy``, at least :data:`~fourp1000.rothc.model.COMPILED_MIN_PLOT_MONTHS`).

    Returns the started thread (not a daemon: the process waits for it before exiting, so
    that the interpreter never stops inside numba), or None when nothing is started. A
    failure in the thread is ignored: the run's own call meets it and reports it.
    """
    try:
        wanted = use_compiled("auto", plot_months, COMPILED_MIN_PLOT_MONTHS)
    except FourP1000Error:  # a wrong kernel setting: the run reports it
        return None
    if not wanted:
        return None
    thread = threading.Thread(target=_quietly, args=(params,), name="fourp1000-rothc-warm-up")
    thread.start()
    return thread


def _quietly(params: RothCParameters | None) -> None:
    try:
        warm_up_compiled(params)
    except Exception:  # noqa: BLE001 - the run's own call raises it where it can be reported
        pass
