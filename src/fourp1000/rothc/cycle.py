"""A repeated cycle of months as one affine map of the active pools, batched over plots:
the periodic deficit cycle, the monthly rate modifiers along it, the map ``C -> A C + b``
and its fixed point. Shared by :func:`spinup` and :func:`fit_plant_input`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError
from .decomposition import Forcing, combined_rate_modifier, month_pool_inputs, retained_fraction
from .drivers import Drivers, SiteConstants
from .parameters import RothCParameters


def cycle_length(drv: Drivers, params: RothCParameters) -> int:
    """Months of the shortest whole-year cycle after which every driver repeats."""
    length = int(params.months_per_year)
    for period in drv.periods:
        length = math.lcm(length, period)
    return length


def periodic_smd_start(forcing: list[Forcing], site: SiteConstants, start: NDArray, max_cycles: int = 1000) -> NDArray:
    """Deficit at the start of the periodic cycle reached from ``start``.

    The cycle map of the deficit is monotone and 1-Lipschitz, so iterating it from field
    capacity gives a non-increasing sequence that reaches a fixed point after a finite
    number of cycles (usually one or two): the deficit cycle the reference spin-up settles
    into.
    """
    for _ in range(max_cycles):
        smd = start
        for f in forcing:
            smd = _next_smd(smd, f, site)
        if np.array_equal(smd, start):
            break
        start = smd
    return start


def _next_smd(smd: NDArray, f: Forcing, site: SiteConstants) -> NDArray:
    lim = site.limits
    wetter = np.minimum(smd + f.water_balance_mm, 0.0)
    return np.maximum(np.where(f.covered, lim.max_mm, np.minimum(lim.bare_mm, smd)), wetter)


def cycle_rates(forcing: list[Forcing], site: SiteConstants, start: NDArray, p: RothCParameters) -> NDArray:
    """Combined rate modifier a·b·c of each month of the cycle from a start deficit, (length, n).

    Same operations, in the same order, as :func:`advance_month`.
    """
    rates = np.empty((len(forcing), start.shape[0]))
    smd = start
    for t, f in enumerate(forcing):
        smd = _next_smd(smd, f, site)
        rates[t] = combined_rate_modifier(smd, f, site, p)[0]
    return rates


def cycle_map(
    rates: NDArray, site: SiteConstants, p: RothCParameters, offsets: list[NDArray], tracer_decay: float = 1.0
) -> tuple[NDArray, list[NDArray]]:
    """Affine map of the active pools over one cycle, batched over plots.

    Month m maps C to ``s (M_m C) + u_m`` with ``M_m = diag(f) + e_BIO (to_bio (1-f))ᵀ +
    e_HUM (to_hum (1-f))ᵀ`` (f = retained fraction of each pool), s = 1 for carbon and the
    radioactive decay over a month for the radiocarbon tracer. ``offsets[j]`` has shape
    (length, 4, n) and holds the inputs u_m of input component j.

    Returns A (n, 4, 4) and, per component, b (n, 4) with ``C_end = A C_start + sum_j b_j``.
    """
    length, n = rates.shape
    a_map = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    b_maps = [np.zeros((n, 4)) for _ in offsets]
    for t in range(length):
        retained = retained_fraction(rates[t], p).T  # (n, 4)
        lost = 1.0 - retained
        m = np.zeros((n, 4, 4))
        idx = np.arange(4)
        m[:, idx, idx] = retained
        m[:, 2, :] += site.to_bio[:, None] * lost
        m[:, 3, :] += site.to_hum[:, None] * lost
        m *= tracer_decay
        a_map = np.matmul(m, a_map)
        for j, u in enumerate(offsets):
            b_maps[j] = np.einsum("nij,nj->ni", m, b_maps[j]) + np.broadcast_to(u[t].T, (n, 4))
    return a_map, b_maps


def fixed_point(a_map: NDArray, b: NDArray) -> NDArray:
    """Pools C with ``C = A C + b`` for every plot: A (n, 4, 4), b (n, 4); returns (4, n)."""
    n = a_map.shape[0]
    lhs = np.broadcast_to(np.eye(4), (n, 4, 4)) - a_map
    return np.linalg.solve(lhs, b[..., None])[..., 0].T  # (4, n)


def check_decomposes(rates: NDArray) -> None:
    """Raise :class:`InputError` for plots where nothing decomposes (no equilibrium exists)."""
    check_alive(~(rates.sum(axis=0) > 0))


def check_alive(dead: NDArray) -> None:
    """Raise :class:`InputError` naming the plots ``dead`` (nothing decomposes during the cycle)."""
    if dead.any():
        plots = np.flatnonzero(dead)
        shown = ", ".join(str(i) for i in plots[:10]) + (" ..." if plots.size > 10 else "")
        raise InputError(
            f"no equilibrium: nothing decomposes during the spin-up cycle of plot(s) {shown} "
            "(temperature below -5 °C in every month?)"
        )


def plant_and_manure_inputs(drv: Drivers, length: int, n: int, p: RothCParameters) -> tuple[NDArray, NDArray]:
    """Monthly pool inputs of the cycle from plants and from manure apart, (length, 4, n) each."""
    plant = np.empty((length, 4, n))
    fym = np.empty((length, 4, n))
    for t in range(length):
        u_plant, u_fym = month_pool_inputs(drv, t, p)
        plant[t] = np.broadcast_to(u_plant, (4, n))
        fym[t] = np.broadcast_to(u_fym, (4, n))
    return plant, fym


@dataclass
class Cycle:
    """A repeated cycle of months at its periodic deficit cycle.

    Attributes
    ----------
    forcing : list of Forcing
        One per month of the cycle.
    smd_start_mm : array (n_plots,) [mm]
        Deficit at the start of the periodic deficit cycle.
    rates : array (length, n_plots) [-]
        Combined rate modifier a·b·c of each month along that deficit cycle.
    """

    forcing: list[Forcing]
    smd_start_mm: NDArray
    rates: NDArray


def settled_cycle(drv: Drivers, site: SiteConstants, length: int, n: int, p: RothCParameters) -> Cycle:
    """The cycle of ``length`` months once its deficit cycle repeats (from field capacity).

    Raises
    ------
    InputError
        Nothing decomposes during the cycle for some plot: no equilibrium exists.
    """
    forcing = [Forcing.of(drv, t, p) for t in range(length)]
    smd_start = periodic_smd_start(forcing, site, np.zeros(n))
    rates = cycle_rates(forcing, site, smd_start, p)
    check_decomposes(rates)
    return Cycle(forcing, smd_start, rates)


def cycle_inputs(forcing: list[Forcing], n: int, tracer: bool = False) -> NDArray:
    """Monthly pool inputs of the cycle, (length, 4, n); times % modern for the tracer."""
    return np.stack(
        [np.broadcast_to(f.inputs * f.modern_fraction if tracer else f.inputs, (4, n)) for f in forcing]
    )
