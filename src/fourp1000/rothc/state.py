"""What a user gives RothC: the state of many plots (:class:`RothCState`) and their monthly
drivers (:class:`MonthlyInputs`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
from numpy.typing import ArrayLike, NDArray

POOLS = ("dpm", "rpm", "bio", "hum")
"""The four active pools, in the order of the first axis of pool arrays."""


def take_plots(array: NDArray, index: NDArray) -> NDArray:
    """Select plots along the last axis, leaving a plot-independent (size-1) axis alone.

    Drivers and site constants hold either one value per plot or one value for all plots
    (last axis of size 1); selecting the plots still in play keeps that distinction.
    """
    return array if array.shape[-1] == 1 else array[..., index]


@dataclass
class RothCState:
    """The state of many plots at the end of a month.

    Attributes
    ----------
    pools_t_c_ha : array (4, n_plots) [t C ha-1]
        DPM, RPM, BIO, HUM.
    iom_t_c_ha : array (n_plots,) [t C ha-1]
        Inert organic matter (constant).
    smd_mm : array (n_plots,) [mm]
        Accumulated topsoil moisture deficit (0 = field capacity).
    c14_activity_t_c_ha : array (4, n_plots), optional [t C ha-1]
        Radiocarbon activity of each pool, in t C of modern-equivalent carbon
        (pool × exp(-ln2/5568 · radiocarbon age)); ``None`` when radiocarbon is not modelled.
    """

    pools_t_c_ha: NDArray
    iom_t_c_ha: NDArray
    smd_mm: NDArray
    c14_activity_t_c_ha: NDArray | None = None

    @classmethod
    def from_pools(
        cls,
        dpm_t_c_ha: ArrayLike,
        rpm_t_c_ha: ArrayLike,
        bio_t_c_ha: ArrayLike,
        hum_t_c_ha: ArrayLike,
        iom_t_c_ha: ArrayLike,
        smd_mm: ArrayLike = 0.0,
    ) -> RothCState:
        """A state from pool sizes [t C ha-1] (broadcast to a common number of plots)."""
        arrays = np.broadcast_arrays(
            *(np.atleast_1d(np.asarray(a, dtype=float)) for a in (dpm_t_c_ha, rpm_t_c_ha, bio_t_c_ha, hum_t_c_ha))
        )
        pools = np.stack(arrays).astype(float)
        n = pools.shape[1]
        iom = np.broadcast_to(np.asarray(iom_t_c_ha, dtype=float), (n,)).copy()
        smd = np.broadcast_to(np.asarray(smd_mm, dtype=float), (n,)).copy()
        return cls(pools, iom, smd)

    @property
    def n_plots(self) -> int:
        return self.pools_t_c_ha.shape[1]

    @property
    def dpm_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[0]

    @property
    def rpm_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[1]

    @property
    def bio_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[2]

    @property
    def hum_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[3]

    @property
    def active_t_c_ha(self) -> NDArray:
        """DPM + RPM + BIO + HUM [t C ha-1]."""
        p = self.pools_t_c_ha
        return p[0] + p[1] + p[2] + p[3]

    @property
    def soc_t_c_ha(self) -> NDArray:
        """Total SOC = active pools + IOM [t C ha-1]."""
        p = self.pools_t_c_ha
        return p[0] + p[1] + p[2] + p[3] + self.iom_t_c_ha

    def copy(self) -> RothCState:
        act = None if self.c14_activity_t_c_ha is None else self.c14_activity_t_c_ha.copy()
        return RothCState(self.pools_t_c_ha.copy(), self.iom_t_c_ha.copy(), self.smd_mm.copy(), act)


@dataclass(frozen=True)
class MonthlyInputs:
    """Monthly drivers of RothC for many plots.

    Every field is an array of shape ``(n_months, n_plots)`` or anything that broadcasts
    to it by numpy's rules: a scalar (same every month and plot), a 1-D array of length
    ``n_plots`` (constant per plot), ``(n_months, 1)`` (one series for all plots). The
    first axis is read **cyclically**: a field of ``T`` rows gives month ``t`` the row
    ``t % T``, so a ``(12, n_plots)`` climatology drives any number of whole years. ``T``
    must be 1 or divide the number of months run.

    Attributes
    ----------
    temperature_c : array [°C]
        Mean monthly air temperature.
    rain_mm : array [mm]
        Monthly rainfall.
    evaporation_mm : array [mm]
        Monthly open-pan evaporation (PET / 0.75 if only PET is known).
    plant_c_t_ha : array [t C ha-1 month-1]
        Plant carbon input of the month.
    fym_c_t_ha : array [t C ha-1 month-1]
        Farmyard-manure carbon input of the month.
    covered : array of bool
        Soil covered by vegetation (PC = 1) this month.
    dpm_rpm_ratio : array [-], optional
        DPM/RPM ratio of this month's plant input; default 1.44 (crops, improved grassland).
    modern_c_pct : array [% modern]
        Radiocarbon content of this month's inputs (100 before 1860); used only when
        radiocarbon is modelled.
    """

    temperature_c: ArrayLike
    rain_mm: ArrayLike
    evaporation_mm: ArrayLike
    plant_c_t_ha: ArrayLike = 0.0
    fym_c_t_ha: ArrayLike = 0.0
    covered: ArrayLike = True
    dpm_rpm_ratio: ArrayLike | None = None
    modern_c_pct: ArrayLike = 100.0

    def replace(self, **changes) -> MonthlyInputs:
        """A copy with some fields replaced."""
        return replace(self, **changes)
