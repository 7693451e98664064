"""Inverse mode of RothC-26.3: the plant C input whose equilibrium SOC equals a measured stock."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError
from .cycle import check_alive, cycle_length, cycle_map, fixed_point, plant_and_manure_inputs, settled_cycle
from .drivers import Drivers, SiteConstants, per_plot_values, plot_count
from .equilibrium import Spinup, spinup
from .model import COMPILED_MIN_PLOTS, Kernel, use_compiled
from .modifiers import BareSoilLimit, falloon_iom
from .parameters import RothCParameters, parameters_or_shipped
from .state import MonthlyInputs, RothCState


@dataclass
class EquilibriumFit:
    """Result of :func:`fit_plant_input`.

    Attributes
    ----------
    plant_c_t_ha_yr : array (n_plots,) [t C ha-1 yr-1]
        Annual plant C input that makes the equilibrium SOC equal the target (NaN where
        no non-negative input can, with ``strict=False``).
    inputs : MonthlyInputs
        The cycle with the fitted monthly plant inputs (shape (cycle, n_plots)).
    spinup : Spinup
        The equilibrium with those inputs (analytic): the initial state of a projection.
    iom_t_c_ha : array (n_plots,) [t C ha-1]
        IOM used (given, or Falloon et al. 1998 from the target SOC).
    """

    plant_c_t_ha_yr: NDArray
    inputs: MonthlyInputs
    spinup: Spinup
    iom_t_c_ha: NDArray


def fit_plant_input(
    inputs: MonthlyInputs,
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    soc_t_c_ha: ArrayLike,
    iom_t_c_ha: ArrayLike | None = None,
    *,
    radiocarbon: bool = False,
    bare_soil_limit: BareSoilLimit = "classic",
    strict: bool = True,
    params: RothCParameters | None = None,
    kernel: Kernel = "auto",
) -> EquilibriumFit:
    """Inverse mode: the plant C input whose equilibrium SOC equals a measured stock.

    With the weather, cover, DPM/RPM ratio and manure of the cycle fixed, the equilibrium
    active carbon is affine in the plant input: ``C_eq = s · C_plant + C_fym``, where
    ``C_plant`` is the equilibrium for 1 t C/ha/yr distributed over the months like
    ``inputs.plant_c_t_ha`` and ``C_fym`` the equilibrium from manure alone. So
    ``s = (SOC - IOM - ΣC_fym) / ΣC_plant`` in one batched solve, no iteration.

    Parameters
    ----------
    inputs : MonthlyInputs
        The cycle (as for :func:`spinup`). ``plant_c_t_ha`` gives only the monthly
        distribution of the plant input (its total is ignored); manure (``fym_c_t_ha``)
        is kept as given.
    clay_pct : array (n_plots,) [%]
    depth_cm : array (n_plots,) [cm]
    soc_t_c_ha : array (n_plots,) [t C ha-1]
        Measured SOC stock of the layer, taken as the equilibrium stock.
    iom_t_c_ha : array (n_plots,), optional [t C ha-1]
        Inert organic matter; default Falloon et al. (1998) from ``soc_t_c_ha``.
    radiocarbon : bool
        Also return the radiocarbon equilibrium.
    bare_soil_limit : {"classic", "wilting_point"}
    strict : bool
        Raise when a plot's target cannot be reached with a non-negative plant input
        (target below IOM plus the manure-only equilibrium); with False those plots get NaN.
    params : RothCParameters, optional
    kernel : {"auto", "numpy", "numba"}
        The equilibrium solves in numpy or compiled (see :func:`spinup`).

    Returns
    -------
    EquilibriumFit

    Raises
    ------
    InputError
        A plot's monthly plant-input pattern is all zero, nothing decomposes, or (strict)
        the target is unreachable.

    Notes
    -----
    Assumes the soil is at equilibrium with the cycle, as RothC users do when initialising
    from a measured stock. The reference code has no such solver; users adjusted C_inp by
    hand until the spin-up matched.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Falloon, P., Smith, P., Coleman, K., Marshall, S. (1998). Soil Biology and
       Biochemistry 30(8), 1207-1211. :doi:`10.1016/S0038-0717(97)00256-3`
    """
    p = parameters_or_shipped(params)
    drv = Drivers.build(inputs, p)
    n = plot_count(drv, clay_pct, depth_cm, soc_t_c_ha, iom_t_c_ha)
    target = per_plot_values("soc_t_c_ha", soc_t_c_ha, n)
    iom = falloon_iom(target, p) if iom_t_c_ha is None else per_plot_values("iom_t_c_ha", iom_t_c_ha, n)
    site = SiteConstants.build(clay_pct, depth_cm, iom, n, p, bare_soil_limit)
    length = cycle_length(drv, p)
    unit_pattern = _unit_plant_pattern(drv, length, n, p)
    compiled = use_compiled(kernel, n, COMPILED_MIN_PLOTS)
    if compiled and not radiocarbon:
        return _fit_compiled(inputs, drv, unit_pattern, site, length, target, strict, p)
    active_plant, active_fym = _equilibrium_active_c(drv, unit_pattern, site, length, n, p)
    scale = _reachable((target - iom - active_fym) / active_plant, strict)
    bad = np.isnan(scale)
    fitted = inputs.replace(plant_c_t_ha=unit_pattern * np.where(bad, 0.0, scale))
    result = spinup(fitted, clay_pct, depth_cm, iom, method="analytic", radiocarbon=radiocarbon,
                    bare_soil_limit=bare_soil_limit, params=p, kernel="numpy")
    if bad.any():
        result.state.pools_t_c_ha[:, bad] = np.nan
    return EquilibriumFit(scale, fitted, result, iom)


def _unit_plant_pattern(drv: Drivers, length: int, n: int, p: RothCParameters) -> NDArray:
    """The cycle's monthly plant inputs scaled to 1 t C ha-1 yr-1, (length, n).

    Raises
    ------
    InputError
        A plot's monthly pattern is all zero (it gives no distribution to scale).
    """
    pattern = np.empty((length, n))
    for t in range(length):
        pattern[t] = np.broadcast_to(drv.at("plant_c_t_ha", t), (n,))
    total = pattern.sum(axis=0)
    if (total <= 0).any():
        shown = ", ".join(str(i) for i in np.flatnonzero(total <= 0)[:10])
        raise InputError(f"plant_c_t_ha: the monthly pattern of plot(s) {shown} is all zero; give the months of input")
    years = length / p.months_per_year
    return pattern / (total / years)


def _equilibrium_active_c(
    drv: Drivers, unit_pattern: NDArray, site: SiteConstants, length: int, n: int, p: RothCParameters
) -> tuple[NDArray, NDArray]:
    """Equilibrium active C [t C ha-1] from 1 t C ha-1 yr-1 of plant input alone and from
    the manure alone, (n,) each: the equilibrium is affine in the inputs.
    """
    cycle = settled_cycle(drv, site, length, n, p)
    u_plant, u_fym = plant_and_manure_inputs(drv.with_array("plant_c_t_ha", unit_pattern), length, n, p)
    a_map, (b_plant, b_fym) = cycle_map(cycle.rates, site, p, [u_plant, u_fym])
    return fixed_point(a_map, b_plant).sum(axis=0), fixed_point(a_map, b_fym).sum(axis=0)


def _fit_compiled(inputs: MonthlyInputs, drv: Drivers, unit_pattern: NDArray, site: SiteConstants, length: int,
                  target: NDArray, strict: bool, p: RothCParameters) -> EquilibriumFit:
    """:func:`fit_plant_input` with the compiled solve: the equilibrium pools from the plant
    input and from the manure, apart, give both the scale and (affine) the fitted pools."""
    from . import compiled as kernel  # imports numba: only when it runs

    smd_start, dead, (c_plant, c_fym) = kernel.settled_equilibria(
        drv.with_array("plant_c_t_ha", unit_pattern), site, length, p, split=True)
    check_alive(dead)
    iom = site.iom_t_c_ha
    scale = _reachable((target - iom - c_fym.sum(axis=0)) / c_plant.sum(axis=0), strict)
    bad = np.isnan(scale)
    used = np.where(bad, 0.0, scale)
    pools = used * c_plant + c_fym
    pools[:, bad] = np.nan
    fitted = inputs.replace(plant_c_t_ha=unit_pattern * used)
    state = RothCState(pools, iom.copy(), smd_start, None)
    return EquilibriumFit(scale, fitted, Spinup(state, np.zeros(iom.size, dtype=int), "analytic"), iom)


def _reachable(scale: NDArray, strict: bool) -> NDArray:
    """``scale``, NaN where negative (no non-negative plant input reaches the target).

    Raises
    ------
    InputError
        ``strict`` and some plot's target is unreachable.
    """
    bad = ~(scale >= 0)
    if not bad.any():
        return scale
    if strict:
        shown = ", ".join(str(i) for i in np.flatnonzero(bad)[:10])
        raise InputError(
            f"SOC target below IOM plus the manure-only equilibrium for plot(s) {shown}: "
            "no non-negative plant input reaches it"
        )
    return np.where(bad, np.nan, scale)
