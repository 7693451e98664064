"""Equilibrium (periodic steady state) of RothC-26.3 for a repeated climate and management
cycle: the exact analytic solution, or the official iterative loop of the reference code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError, UnknownFactorError
from .cycle import (
    _check_decomposes,
    _cycle_length,
    _cycle_map,
    _cycle_rates,
    _fixed_point,
    _forcing_offsets,
    _smd_orbit,
)
from .decomposition import _Forcing, _step
from .drivers import _Drivers, _n_plots, _Site
from .modifiers import BareSoilLimit
from .parameters import RothCParameters, _params
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
    p = _params(params)
    drv = _Drivers.build(inputs, p)
    n = _n_plots(drv, clay_pct, depth_cm, iom_t_c_ha)
    site = _Site.build(clay_pct, depth_cm, iom_t_c_ha, n, p, bare_soil_limit)
    length = _cycle_length(drv, p)
    if method == "analytic":
        return _spinup_analytic(drv, site, n, length, radiocarbon, p)
    if method == "reference":
        return _spinup_reference(drv, site, n, length, radiocarbon, max_years, p)
    raise UnknownFactorError(f"unknown spin-up method {method!r}; valid: analytic, reference")


def _spinup_analytic(drv, site, n, length, radiocarbon, p) -> Spinup:
    forcing = [_Forcing.of(drv, t, p) for t in range(length)]
    smd_start = _smd_orbit(forcing, site, np.zeros(n))
    rates = _cycle_rates(forcing, site, smd_start, p)
    _check_decomposes(rates)
    a_map, (b,) = _cycle_map(rates, site, p, [_forcing_offsets(forcing, n)])
    pools = _fixed_point(a_map, b)
    activity = None
    if radiocarbon:
        a14, (b14,) = _cycle_map(
            rates, site, p, [_forcing_offsets(forcing, n, tracer=True)], tracer_decay=site.c14_month_decay
        )
        activity = _fixed_point(a14, b14)
    state = RothCState(pools, site.iom_t_c_ha.copy(), smd_start, activity)
    return Spinup(state, np.zeros(n, dtype=int), "analytic")


def _spinup_reference(drv, site, n, length, radiocarbon, max_years, p) -> Spinup:
    """The reference loop: from empty pools and field capacity, year after year until the
    active C of consecutive year ends differs by no more than the tolerance.

    Phase 1 steps month by month, exactly as the reference, until the deficit cycle of
    every remaining plot repeats (usually after one or two years). From then on the year
    is the same affine map ``C -> A C + b`` every time, so phase 2 applies that map once per
    year (the same states up to rounding, about 1e-13 t C/ha) with the same stopping test.
    """
    per_year = int(p.months_per_year)
    tol = p.spinup_tolerance_t_c_ha
    forcing = [_Forcing.of(drv, t, p) for t in range(length)]  # the same every year
    out_pools = np.zeros((4, n))
    out_smd = np.zeros(n)
    out_act = np.zeros((4, n)) if radiocarbon else None
    out_months = np.zeros(n, dtype=int)

    active = np.arange(n)
    pools = np.zeros((4, n))
    smd = np.zeros(n)
    activity = np.zeros((4, n)) if radiocarbon else None
    toc_prev = np.zeros(n)
    smd_prev = np.full(n, np.nan)
    a_site = site
    month = 0

    def finish(done: NDArray) -> None:
        ids = active[done]
        out_pools[:, ids] = pools[:, done]
        out_smd[ids] = smd[done]
        out_months[ids] = month
        if radiocarbon:
            out_act[:, ids] = activity[:, done]

    def check_years() -> None:
        if active.size and month // per_year >= max_years:
            shown = ", ".join(str(i) for i in active[:10]) + (" ..." if active.size > 10 else "")
            raise InputError(
                f"reference spin-up did not reach equilibrium within {max_years} years for plot(s) {shown}; "
                "decomposition is too slow (use the analytic spin-up)"
            )

    # Phase 1: month by month.
    while active.size:
        for _ in range(per_year):
            pools, smd, activity, _m = _step(pools, smd, activity, forcing[month % length], a_site, p)
            month += 1
        toc = pools[0] + pools[1] + pools[2] + pools[3]
        done = ~(np.abs(toc - toc_prev) > tol)
        periodic = smd == smd_prev
        toc_prev, smd_prev = toc, smd.copy()
        if done.any():
            finish(done)
            keep = np.flatnonzero(~done)
            active, pools, smd = active[keep], pools[:, keep], smd[keep]
            toc_prev, smd_prev, periodic = toc_prev[keep], smd_prev[keep], periodic[keep]
            if radiocarbon:
                activity = activity[:, keep]
            forcing = [f.take(keep) for f in forcing]
            a_site = a_site.take(keep)
        check_years()
        if length == per_year and periodic.all():
            break
    if not active.size:
        return Spinup(RothCState(out_pools, site.iom_t_c_ha.copy(), out_smd, out_act), out_months, "reference")

    # Phase 2: one affine map per year.
    m = active.size
    rates = _cycle_rates(forcing, a_site, smd, p)
    a_map, (b,) = _cycle_map(rates, a_site, p, [_forcing_offsets(forcing, m)])
    state = pools.T.copy()  # (m, 4)
    if radiocarbon:
        a14, (b14,) = _cycle_map(
            rates, a_site, p, [_forcing_offsets(forcing, m, tracer=True)], tracer_decay=a_site.c14_month_decay
        )
        tracer = activity.T.copy()
    while active.size:
        state = np.einsum("nij,nj->ni", a_map, state) + b
        if radiocarbon:
            tracer = np.einsum("nij,nj->ni", a14, tracer) + b14
        month += per_year
        toc = state[:, 0] + state[:, 1] + state[:, 2] + state[:, 3]
        done = ~(np.abs(toc - toc_prev) > tol)
        toc_prev = toc
        if done.any():
            pools = state.T
            activity = tracer.T if radiocarbon else None
            finish(done)
            keep = np.flatnonzero(~done)
            active, state, smd, toc_prev = active[keep], state[keep], smd[keep], toc_prev[keep]
            a_map, b = a_map[keep], b[keep]
            if radiocarbon:
                tracer, a14, b14 = tracer[keep], a14[keep], b14[keep]
        check_years()
    return Spinup(RothCState(out_pools, site.iom_t_c_ha.copy(), out_smd, out_act), out_months, "reference")
