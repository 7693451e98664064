"""Validation and broadcasting of the drivers (cyclic monthly arrays) and of the per-plot
site constants (moisture limits, CO2/BIO/HUM fractions, IOM) that :func:`run`,
:func:`spinup` and :func:`fit_plant_input` share.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError
from .modifiers import (
    BareSoilLimit,
    SMDLimits,
    co2_bio_hum_ratio,
    smd_limits,
    temperature_rate_modifier,
)
from .parameters import RothCParameters
from .state import MonthlyInputs

# Open-pan evaporation may be slightly negative (net condensation): the Rothamsted example
# data have such months, and the reference code uses them as they are.
_NONNEGATIVE = ("rain_mm", "plant_c_t_ha", "fym_c_t_ha", "dpm_rpm_ratio")


def _as_monthly(name: str, value: ArrayLike) -> NDArray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)  # numpy broadcasting: a 1-D array runs along plots
    elif arr.ndim > 2:
        raise InputError(f"{name}: expected an array of shape (n_months, n_plots), got {arr.ndim} dimensions")
    if arr.size == 0:
        raise InputError(f"{name}: empty array")
    if name == "covered":
        if arr.dtype != bool:
            num = arr.astype(float)
            if not np.isin(num, (0.0, 1.0)).all():
                raise InputError(f"{name}: expected 0/1 (bare/covered) values")
            arr = num.astype(bool)
        return arr
    try:
        arr = np.asarray(arr, dtype=float)  # no copy when already float64
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers ({exc})") from None
    if not np.isfinite(arr).all():
        raise InputError(f"{name}: values must be finite numbers")
    if name in _NONNEGATIVE and (arr < 0).any():
        raise InputError(f"{name}: values must be >= 0")
    if name == "modern_c_pct" and (arr <= 0).any():
        raise InputError(f"{name}: values must be > 0")
    return arr


class Drivers:
    """Validated monthly drivers, 2-D (period, n_plots or 1), read cyclically.

    ``arrays`` maps each field of :class:`MonthlyInputs` to its array; month ``t`` of a
    field of period ``T`` is row ``t % T`` (:meth:`at`).
    """

    _FIELDS = ("temperature_c", "rain_mm", "evaporation_mm", "plant_c_t_ha", "fym_c_t_ha", "covered",
               "dpm_rpm_ratio", "modern_c_pct")

    # Precompute the temperature factor for short (cyclic) temperature series only; for a
    # long series it costs the same month by month and saves a copy of the whole array.
    _PRECOMPUTE_MAX_MONTHS = 120

    def __init__(self, arrays: dict[str, NDArray], params: RothCParameters) -> None:
        self.arrays = arrays
        self.params = params
        temperature = arrays["temperature_c"]
        self.rm_temp = (
            temperature_rate_modifier(temperature, params)
            if temperature.shape[0] <= self._PRECOMPUTE_MAX_MONTHS
            else None
        )

    @classmethod
    def build(cls, inputs: MonthlyInputs, params: RothCParameters) -> Drivers:
        """Check and shape the user's inputs; raises :class:`InputError` on bad values."""
        arrays = {}
        for name in cls._FIELDS:
            value = getattr(inputs, name)
            if name == "dpm_rpm_ratio" and value is None:
                value = params.dpm_rpm_crop
            arrays[name] = _as_monthly(name, value)
        return cls(arrays, params)

    def with_array(self, name: str, value: NDArray) -> Drivers:
        """The same drivers with one (already valid, 2-D) field replaced (the temperature
        factor kept, not computed again, unless the temperature is the field replaced)."""
        if name == "temperature_c":
            return Drivers({**self.arrays, name: value}, self.params)
        out = copy.copy(self)
        out.arrays = {**self.arrays, name: value}
        return out

    @property
    def periods(self) -> list[int]:
        """Number of rows (the period, in months) of each field."""
        return [a.shape[0] for a in self.arrays.values()]

    @property
    def n_plots(self) -> int:
        """Common number of plots of the fields (1 when every field is plot-independent)."""
        widths = {a.shape[1] for a in self.arrays.values()} - {1}
        if len(widths) > 1:
            raise InputError(f"monthly inputs have different numbers of plots: {sorted(widths)}")
        return widths.pop() if widths else 1

    def check_months(self, n_months: int) -> None:
        """Raise unless every field's period is 1 or divides ``n_months``."""
        for name, a in self.arrays.items():
            period = a.shape[0]
            if period != 1 and n_months % period != 0:
                raise InputError(
                    f"{name} has {period} months; expected 1 or a divisor of the {n_months} months run"
                )

    def at(self, name: str, month: int) -> NDArray:
        """Row of field ``name`` for month ``month`` (0-based, read cyclically)."""
        a = self.arrays[name]
        return a[month % a.shape[0]]

    def rm_temp_at(self, month: int) -> NDArray:
        """Temperature rate modifier of month ``month`` [-]."""
        if self.rm_temp is None:
            return temperature_rate_modifier(self.at("temperature_c", month), self.params)
        return self.rm_temp[month % self.rm_temp.shape[0]]


@dataclass
class SiteConstants:
    """Per-plot constants: moisture limits, partition fractions, IOM.

    ``to_co2``, ``to_bio``, ``to_hum`` are the shares of decomposed C going to CO2, BIO and
    HUM; ``k_col`` the rate constants as a column (4, 1) [yr-1]; ``c14_month_decay`` the
    radioactive decay factor of one month [-].
    """

    limits: SMDLimits
    smd_span_mm: NDArray
    to_co2: NDArray
    to_bio: NDArray
    to_hum: NDArray
    iom_t_c_ha: NDArray
    k_col: NDArray
    c14_month_decay: float

    @classmethod
    def build(
        cls,
        clay_pct: ArrayLike,
        depth_cm: ArrayLike,
        iom_t_c_ha: ArrayLike,
        n_plots: int,
        params: RothCParameters,
        bare_soil_limit: BareSoilLimit,
    ) -> SiteConstants:
        """Check the per-plot soil values and derive the constants; raises :class:`InputError`."""
        clay = per_plot_values("clay_pct", clay_pct, n_plots)
        depth = per_plot_values("depth_cm", depth_cm, n_plots)
        iom = per_plot_values("iom_t_c_ha", iom_t_c_ha, n_plots)
        if ((clay < 0) | (clay > 100)).any():
            raise InputError("clay_pct: values must be between 0 and 100")
        if (depth <= 0).any():
            raise InputError("depth_cm: values must be > 0")
        if (iom < 0).any():
            raise InputError("iom_t_c_ha: values must be >= 0")
        x = co2_bio_hum_ratio(clay, params)
        limits = smd_limits(clay, depth, params, bare_soil_limit=bare_soil_limit)
        return cls(
            limits=limits,
            smd_span_mm=limits.max_mm - limits.one_bar_mm,
            to_co2=x / (x + 1.0),
            to_bio=params.bio_fraction / (x + 1.0),
            to_hum=params.hum_fraction / (x + 1.0),
            iom_t_c_ha=iom,
            k_col=params.k_per_yr[:, None],
            c14_month_decay=math.exp(-params.c14_decay_per_yr * params.tstep_yr),
        )

    def take(self, index: NDArray) -> SiteConstants:
        """The constants of the plots ``index`` only."""
        return SiteConstants(
            self.limits.take(index),
            self.smd_span_mm[index],
            self.to_co2[index],
            self.to_bio[index],
            self.to_hum[index],
            self.iom_t_c_ha[index],
            self.k_col,
            self.c14_month_decay,
        )


def per_plot_values(name: str, value: ArrayLike, n_plots: int) -> NDArray:
    """A scalar or per-plot input as a finite float array (n_plots,); raises :class:`InputError`."""
    arr = np.asarray(value, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n_plots)):
        raise InputError(f"{name}: expected a scalar or an array of {n_plots} plots, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name}: values must be finite numbers")
    return np.broadcast_to(arr, (n_plots,)).astype(float)


def plot_count(drivers: Drivers, *per_plot: ArrayLike) -> int:
    """Number of plots the drivers and per-plot inputs (None ignored) describe together.

    Raises
    ------
    InputError
        They describe different numbers of plots (other than 1, which broadcasts).
    """
    sizes = {drivers.n_plots} | {np.size(v) for v in per_plot if v is not None}
    sizes.discard(1)
    if len(sizes) > 1:
        raise InputError(f"inputs describe different numbers of plots: {sorted(sizes)}")
    return sizes.pop() if sizes else 1
