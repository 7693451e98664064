"""Equilibrium (periodic steady state) of RothC-26.3 for a repeated climate and management
cycle: the exact analytic solution, or the official iterative loop of the reference code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError, UnknownFactorError
from .cycle import check_alive, cycle_inputs, cycle_length, cycle_map, cycle_rates, fixed_point, settled_cycle
from .decomposition import Forcing, advance_month
from .drivers import Drivers, SiteConstants, plot_count
from .model import COMPILED_MIN_PLOTS, Kernel, use_compiled
from .modifiers import BareSoilLimit
from .parameters import RothCParameters, parameters_or_shipped
from .state import MonthlyInputs, RothCState

SpinupMethod = Literal["analytic", "reference"]


@dataclass
class Spinup:
    """Result of :func:`spinup`.

    Attributes
    ----------
    state : RothCState
        Equilibrium state at the end of the cycle (a December for a 12-month cycle).
    n_months : array of int (n_plots,)
        Months iterated by the reference loop (0 for the analytic solution).
    method : str
        ``analytic`` or ``reference``.
    """

    state: RothCState
    n_months: NDArray
    method: str


def spinup(
    inputs: MonthlyInputs,
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    iom_t_c_ha: ArrayLike,
    *,
    method: SpinupMethod = "analytic",
    radiocarbon: bool = False,
    bare_soil_limit: BareSoilLimit = "classic",
    max_years: int = 50_000,
    params: RothCParameters | None = None,
    kernel: Kernel = "auto",
) -> Spinup:
    """Equilibrium pools for a repeated cycle of climate and management.

    Parameters
    ----------
    inputs : MonthlyInputs
        The cycle: usually 12 months (a representative year: mean weather, mean monthly C
        inputs, cover, DPM/RPM, FYM), shape ``(12, n_plots)`` or broadcastable. Longer
        cycles (a multiple of 12 months, e.g. a rotation) are allowed.
    clay_pct : array (n_plots,) [%]
    depth_cm : array (n_plots,) [cm]
    iom_t_c_ha : array (n_plots,) [t C ha-1]
        Inert organic matter (e.g. :func:`falloon_iom` of the measured SOC).
    method : {"analytic", "reference"}
        ``analytic`` (default): the exact periodic steady state. The deficit cycle is
        found by iterating the water balance from field capacity until it repeats, then
        the cycle's affine map ``C -> A C + b`` of the active pools is built per plot and
        ``(I - A) C = b`` solved (a batched 4 x 4 solve).
        ``reference``: the official loop, from empty pools and a zero deficit, cycling
        until active C changes by no more than 1e-6 t C/ha between consecutive year ends
        (checked every 12 months), as the reference code. It steps month by month until
        the deficit cycle repeats, then applies the (then fixed) yearly affine map once a
        year: the same states up to rounding (~1e-13 t C/ha), the same stopping year.
    radiocarbon : bool
        Also bring the radiocarbon tracer to equilibrium (inputs at ``modern_c_pct``).
    bare_soil_limit : {"classic", "wilting_point"}
    max_years : int
        ``reference`` only: give up after this many years (the reference would loop
        forever where nothing decomposes).
    params : RothCParameters, optional
    kernel : {"auto", "numpy", "numba"}
        ``analytic`` without radiocarbon: the cycle's map and its 4 x 4 solve in numpy (the
        reference) or compiled (numba; the pools agree to about 1e-13 relative); ``auto``:
        compiled where numba is installed for :data:`~fourp1000.rothc.model.COMPILED_MIN_PLOTS`
        plots or more (see :func:`run` for the environment variable).

    Returns
    -------
    Spinup

    Raises
    ------
    InputError
        Nothing decomposes during the cycle (temperature below -5 °C all year), so no
        equilibrium exists; or the reference loop did not converge within ``max_years``.

    Notes
    -----
    The reference loop stops before exact convergence: the exact steady state is higher
    by about 1.4e-4 t C/ha (almost all HUM) for the Rothamsted examples. Use
    ``reference`` to reproduce the official output files; ``analytic`` is exact and needs
    no iteration (one batched 4 x 4 solve).

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Rothamsted Research (2024). RothC_Code (Shell.for), RothC_R, RothC_Py: the
       spin-up loop, github.com/Rothamsted-Models (Apache-2.0).
    """
    p = parameters_or_shipped(params)
    drv = Drivers.build(inputs, p)
    n = plot_count(drv, clay_pct, depth_cm, iom_t_c_ha)
    site = SiteConstants.build(clay_pct, depth_cm, iom_t_c_ha, n, p, bare_soil_limit)
    length = cycle_length(drv, p)
    if method == "analytic":
        compiled = not radiocarbon and use_compiled(kernel, n, COMPILED_MIN_PLOTS)
        return _spinup_analytic(drv, site, n, length, radiocarbon, p, compiled)
    if method == "reference":
        return _spinup_reference(drv, site, n, length, radiocarbon, max_years, p)
    raise UnknownFactorError(f"unknown spin-up method {method!r}; valid: analytic, reference")


def _spinup_analytic(
    drv: Drivers, site: SiteConstants, n: int, length: int, radiocarbon: bool, p: RothCParameters,
    compiled: bool = False,
) -> Spinup:
    """The exact periodic steady state: one batched 4 x 4 solve per plot (numpy or ``compiled``)."""
    if compiled:
        from . import compiled as kernel  # imports numba: only when it runs

        smd_start, dead, (pools,) = kernel.settled_equilibria(drv, site, length, p)
        check_alive(dead)
        return Spinup(RothCState(pools, site.iom_t_c_ha.copy(), smd_start, None), np.zeros(n, dtype=int), "analytic")
    cycle = settled_cycle(drv, site, length, n, p)
    a_map, (b,) = cycle_map(cycle.rates, site, p, [cycle_inputs(cycle.forcing, n)])
    pools = fixed_point(a_map, b)
    activity = None
    if radiocarbon:
        a14, (b14,) = cycle_map(
            cycle.rates, site, p, [cycle_inputs(cycle.forcing, n, tracer=True)], tracer_decay=site.c14_month_decay
        )
        activity = fixed_point(a14, b14)
    state = RothCState(pools, site.iom_t_c_ha.copy(), cycle.smd_start_mm, activity)
    return Spinup(state, np.zeros(n, dtype=int), "analytic")


def _spinup_reference(
    drv: Drivers, site: SiteConstants, n: int, length: int, radiocarbon: bool, max_years: int, p: RothCParameters
) -> Spinup:
    """The reference loop: from empty pools and field capacity, year after year until the
    active C of consecutive year ends differs by no more than the tolerance.

    Phase 1 steps month by month, exactly as the reference, until the deficit cycle of
    every remaining plot repeats (usually after one or two years). From then on the year
    is the same affine map ``C -> A C + b`` every time, so phase 2 applies that map once per
    year (the same states up to rounding, about 1e-13 t C/ha) with the same stopping test.
    """
    forcing = [Forcing.of(drv, t, p) for t in range(length)]  # the same every year
    loop = _ReferenceLoop(forcing, site, n, radiocarbon, max_years, p)
    loop.monthly_phase()
    if loop.active.size:
        loop.yearly_phase()
    state = RothCState(loop.out_pools, site.iom_t_c_ha.copy(), loop.out_smd, loop.out_activity)
    return Spinup(state, loop.out_months, "reference")


class _ReferenceLoop:
    """State of the reference spin-up loop: the plots still iterating (``active``, their
    pools, deficit and active C at the last year end) and the results of those done.
    """

    def __init__(self, forcing: list[Forcing], site: SiteConstants, n: int, radiocarbon: bool, max_years: int,
                 p: RothCParameters) -> None:
        self.forcing, self.site, self.radiocarbon, self.max_years, self.p = forcing, site, radiocarbon, max_years, p
        self.per_year = int(p.months_per_year)
        self.month = 0
        self.active = np.arange(n)
        self.pools = np.zeros((4, n))
        self.smd = np.zeros(n)
        self.activity = np.zeros((4, n)) if radiocarbon else None
        self.toc_prev = np.zeros(n)
        self.out_pools = np.zeros((4, n))
        self.out_smd = np.zeros(n)
        self.out_activity = np.zeros((4, n)) if radiocarbon else None
        self.out_months = np.zeros(n, dtype=int)

    def converged(self, toc: NDArray) -> NDArray:
        """Plots whose active C changed by no more than the tolerance since the last year end."""
        return ~(np.abs(toc - self.toc_prev) > self.p.spinup_tolerance_t_c_ha)

    def finish(self, done: NDArray) -> None:
        """Store the results of the active plots ``done`` (a mask over the active plots)."""
        ids = self.active[done]
        self.out_pools[:, ids] = self.pools[:, done]
        self.out_smd[ids] = self.smd[done]
        self.out_months[ids] = self.month
        if self.radiocarbon:
            self.out_activity[:, ids] = self.activity[:, done]

    def check_years(self) -> None:
        """Raise :class:`InputError` when plots are still iterating after ``max_years``."""
        active = self.active
        if active.size and self.month // self.per_year >= self.max_years:
            shown = ", ".join(str(i) for i in active[:10]) + (" ..." if active.size > 10 else "")
            raise InputError(
                f"reference spin-up did not reach equilibrium within {self.max_years} years for plot(s) {shown}; "
                "decomposition is too slow (use the analytic spin-up)"
            )

    def monthly_phase(self) -> None:
        """Phase 1: month by month until every plot is done or, for a one-year cycle, the
        deficit cycle of every remaining plot repeats.
        """
        length, p = len(self.forcing), self.p
        smd_prev = np.full(self.active.size, np.nan)
        while self.active.size:
            for _ in range(self.per_year):
                self.pools, self.smd, self.activity, _m = advance_month(
                    self.pools, self.smd, self.activity, self.forcing[self.month % length], self.site, p
                )
                self.month += 1
            pools = self.pools
            toc = pools[0] + pools[1] + pools[2] + pools[3]
            done = self.converged(toc)
            periodic = self.smd == smd_prev
            self.toc_prev, smd_prev = toc, self.smd.copy()
            if done.any():
                self.finish(done)
                keep = np.flatnonzero(~done)
                self.active, self.pools, self.smd = self.active[keep], self.pools[:, keep], self.smd[keep]
                self.toc_prev, smd_prev, periodic = self.toc_prev[keep], smd_prev[keep], periodic[keep]
                if self.radiocarbon:
                    self.activity = self.activity[:, keep]
                self.forcing = [f.take(keep) for f in self.forcing]
                self.site = self.site.take(keep)
            self.check_years()
            if length == self.per_year and periodic.all():
                break

    def yearly_phase(self) -> None:
        """Phase 2: the (now fixed) yearly affine map of the pools, once a year, until every
        plot is done.
        """
        m, p, site, radiocarbon = self.active.size, self.p, self.site, self.radiocarbon
        rates = cycle_rates(self.forcing, site, self.smd, p)
        a_map, (b,) = cycle_map(rates, site, p, [cycle_inputs(self.forcing, m)])
        state = self.pools.T.copy()  # (m, 4)
        if radiocarbon:
            a14, (b14,) = cycle_map(
                rates, site, p, [cycle_inputs(self.forcing, m, tracer=True)], tracer_decay=site.c14_month_decay
            )
            tracer = self.activity.T.copy()
        while self.active.size:
            state = np.einsum("nij,nj->ni", a_map, state) + b
            if radiocarbon:
                tracer = np.einsum("nij,nj->ni", a14, tracer) + b14
            self.month += self.per_year
            toc = state[:, 0] + state[:, 1] + state[:, 2] + state[:, 3]
            done = self.converged(toc)
            self.toc_prev = toc
            if done.any():
                self.pools = state.T
                self.activity = tracer.T if radiocarbon else None
                self.finish(done)
                keep = np.flatnonzero(~done)
                self.active, state, self.smd, self.toc_prev = self.active[keep], state[keep], self.smd[keep], toc[keep]
                a_map, b = a_map[keep], b[keep]
                if radiocarbon:
                    tracer, a14, b14 = tracer[keep], a14[keep], b14[keep]
            self.check_years()
