"""Δ14C of the whole soil from the radiocarbon tracer of a RothC state."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from ..errors import InputError
from .parameters import RothCParameters, parameters_or_shipped
from .state import RothCState


def delta14c(state: RothCState, params: RothCParameters | None = None) -> NDArray:
    """Δ14C of the whole soil (all pools and IOM) [‰].

    Parameters
    ----------
    state : RothCState
        With ``c14_activity_t_c_ha`` (run or spun up with ``radiocarbon=True``).
    params : RothCParameters, optional

    Returns
    -------
    array [‰]
        ``(exp(-age / 8035) - 1) · 1000`` with ``age = ln(SOC / activity) / (ln 2 / 5568)``;
        IOM is 50 000 years old (-998.02 ‰ on its own).

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    p = parameters_or_shipped(params)
    if state.c14_activity_t_c_ha is None:
        raise InputError("delta14c needs a state with radiocarbon (run or spin up with radiocarbon=True)")
    return delta14c_of_pools(state.pools_t_c_ha, state.c14_activity_t_c_ha, state.iom_t_c_ha, p)


def delta14c_of_pools(pools: NDArray, activity: NDArray, iom: NDArray, p: RothCParameters) -> NDArray:
    """Δ14C [‰] from the pools (4, n), their radiocarbon activity (4, n) and IOM (n,) [t C ha-1].

    The arithmetic of :func:`delta14c`, on the arrays of a run in progress.
    """
    conr = p.c14_decay_per_yr
    soc = pools[0] + pools[1] + pools[2] + pools[3] + iom
    total = activity[0] + activity[1] + activity[2] + activity[3] + iom * math.exp(-conr * p.iom_radiocarbon_age_yr)
    with np.errstate(divide="ignore", invalid="ignore"):
        age = np.where(soc > 0, np.log(soc / total) / conr, 0.0)
    return (np.exp(-age / p.c14_mean_life_yr) - 1.0) * 1000.0
