"""A repeated cycle of months as one affine map of the active pools, batched over plots:
the periodic deficit cycle, the monthly rate modifiers along it, the map ``C -> A C + b``
and its fixed point. Shared by :func:`spinup` and :func:`fit_plant_input`.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError
from .decomposition import _Forcing, _rate_modifier, _retained
from .drivers import _Drivers, _Site
from .parameters import RothCParameters


def _cycle_length(drv: _Drivers, params: RothCParameters) -> int:
    length = int(params.months_per_year)
    for period in drv.periods:
        length = math.lcm(length, period)
    return length


def _smd_orbit(forcing: list[_Forcing], site: _Site, start: NDArray, max_cycles: int = 1000) -> NDArray:
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


def _next_smd(smd: NDArray, f: _Forcing, site: _Site) -> NDArray:
    lim = site.limits
    wetter = np.minimum(smd + f.water_balance_mm, 0.0)
    return np.maximum(np.where(f.covered, lim.max_mm, np.minimum(lim.bare_mm, smd)), wetter)


def _cycle_rates(forcing: list[_Forcing], site: _Site, start: NDArray, p: RothCParameters) -> NDArray:
    """Combined rate modifier a·b·c of each month of the cycle from a start deficit, (length, n).

    Same operations, in the same order, as :func:`_step`.
    """
    rates = np.empty((len(forcing), start.shape[0]))
    smd = start
    for t, f in enumerate(forcing):
        smd = _next_smd(smd, f, site)
        rates[t] = _rate_modifier(smd, f, site, p)[0]
    return rates


def _monthly_inputs_split(drv: _Drivers, t: int, p: RothCParameters) -> tuple[NDArray, NDArray]:
    """Pool inputs of month t, shape (4, n|1), separately for plant C and FYM."""
    plant = drv.at("plant_c_t_ha", t)
    fym = drv.at("fym_c_t_ha", t)
    ratio = drv.at("dpm_rpm_ratio", t)
    plant_dpm = ratio / (ratio + 1.0) * plant
    plant_rpm = 1.0 / (ratio + 1.0) * plant
    zero = np.zeros_like(plant_dpm)
    u_plant = np.stack(np.broadcast_arrays(plant_dpm, plant_rpm, zero, zero))
    u_fym = np.stack(
        np.broadcast_arrays(p.fym_dpm_fraction * fym, p.fym_rpm_fraction * fym, 0.0 * fym, p.fym_hum_fraction * fym)
    )
    return u_plant, u_fym


def _cycle_map(
    rates: NDArray, site: _Site, p: RothCParameters, offsets: list[NDArray], tracer_decay: float = 1.0
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
        retained = _retained(rates[t], p).T  # (n, 4)
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


def _fixed_point(a_map: NDArray, b: NDArray) -> NDArray:
    n = a_map.shape[0]
    lhs = np.broadcast_to(np.eye(4), (n, 4, 4)) - a_map
    return np.linalg.solve(lhs, b[..., None])[..., 0].T  # (4, n)


def _check_decomposes(rates: NDArray) -> None:
    dead = ~(rates.sum(axis=0) > 0)
    if dead.any():
        plots = np.flatnonzero(dead)
        shown = ", ".join(str(i) for i in plots[:10]) + (" ..." if plots.size > 10 else "")
        raise InputError(
            f"no equilibrium: nothing decomposes during the spin-up cycle of plot(s) {shown} "
            "(temperature below -5 °C in every month?)"
        )


def _cycle_offsets(drv: _Drivers, length: int, n: int, p: RothCParameters) -> tuple[NDArray, NDArray]:
    plant = np.empty((length, 4, n))
    fym = np.empty((length, 4, n))
    for t in range(length):
        u_plant, u_fym = _monthly_inputs_split(drv, t, p)
        plant[t] = np.broadcast_to(u_plant, (4, n))
        fym[t] = np.broadcast_to(u_fym, (4, n))
    return plant, fym


def _forcing_offsets(forcing: list[_Forcing], n: int, tracer: bool = False) -> NDArray:
    """Monthly pool inputs of the cycle, (length, 4, n); times % modern for the tracer."""
    return np.stack(
        [np.broadcast_to(f.inputs * f.modern_fraction if tracer else f.inputs, (4, n)) for f in forcing]
    )
