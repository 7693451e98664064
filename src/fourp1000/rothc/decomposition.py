"""One month of RothC-26.3 for every plot: the month's forcing (rate modifiers, pool inputs),
the exact exponential decay of the four active pools, the CO2/BIO/HUM split and the
radiocarbon tracer. This is the hot loop.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, fields

import numpy as np
from numpy.typing import NDArray

from .drivers import Drivers, SiteConstants
from .state import take_plots
from .parameters import RothCParameters


@dataclass
class Forcing:
    """What one month brings to every plot, derived from the drivers.

    ``inputs`` holds the C added to DPM, RPM, BIO, HUM after the decay (plant C split by
    the DPM/RPM ratio, manure 49/49/0/2), shape (4, n_plots or 1).
    """

    rm_temperature: NDArray
    covered: NDArray
    rm_cover: NDArray
    water_balance_mm: NDArray
    inputs: NDArray
    modern_fraction: NDArray

    @property
    def cover_mode(self) -> int:
        """1 if every plot is covered this month, 0 if none is, -1 if mixed."""
        mode = self.__dict__.get("_cover_mode")
        if mode is None:
            mode = 1 if self.covered.all() else (0 if not self.covered.any() else -1)
            self.__dict__["_cover_mode"] = mode
        return mode

    @classmethod
    def of(cls, drv: Drivers, month: int, p: RothCParameters, management: tuple | None = None) -> Forcing:
        """The forcing of month ``month``; ``management`` reuses that month's cached part."""
        covered, rm_cover, inputs, modern = management or _management(drv, month, p)
        return cls(
            rm_temperature=drv.rm_temp_at(month),
            covered=covered,
            rm_cover=rm_cover,
            water_balance_mm=drv.at("rain_mm", month) - p.pan_coefficient * drv.at("evaporation_mm", month),
            inputs=inputs,
            modern_fraction=modern,
        )

    def take(self, index: NDArray) -> Forcing:
        """The forcing of the plots ``index`` only."""
        return Forcing(*(take_plots(getattr(self, f.name), index) for f in fields(self)))


_MANAGEMENT = ("covered", "plant_c_t_ha", "fym_c_t_ha", "dpm_rpm_ratio", "modern_c_pct")


def month_pool_inputs(drv: Drivers, month: int, p: RothCParameters) -> tuple[NDArray, NDArray]:
    """C added to DPM, RPM, BIO, HUM in month ``month``, from plants and from manure apart.

    Plant C is split by the month's DPM/RPM ratio r (r/(r+1) to DPM, 1/(r+1) to RPM),
    farmyard manure 49/49/0/2 (Coleman & Jenkinson 1996). Each of shape (4, n_plots or 1)
    [t C ha-1].
    """
    plant = drv.at("plant_c_t_ha", month)
    fym = drv.at("fym_c_t_ha", month)
    ratio = drv.at("dpm_rpm_ratio", month)
    plant_dpm = ratio / (ratio + 1.0) * plant
    plant_rpm = 1.0 / (ratio + 1.0) * plant
    zero = np.zeros_like(plant_dpm)
    from_plants = np.stack(np.broadcast_arrays(plant_dpm, plant_rpm, zero, zero))
    from_manure = np.stack(
        np.broadcast_arrays(p.fym_dpm_fraction * fym, p.fym_rpm_fraction * fym, 0.0 * fym, p.fym_hum_fraction * fym)
    )
    return from_plants, from_manure


def _management(drv: Drivers, month: int, p: RothCParameters) -> tuple:
    """Cover, its rate factor, the pool inputs (4, n) and the fraction modern of a month."""
    covered = drv.at("covered", month)
    from_plants, from_manure = month_pool_inputs(drv, month, p)
    rm_cover = np.where(covered, p.rm_cover_covered, p.rm_cover_bare)
    return covered, rm_cover, from_plants + from_manure, drv.at("modern_c_pct", month) / 100.0


class ForcingSource:
    """Month-by-month forcing for :func:`run`.

    Management (cover, inputs, DPM/RPM, % modern) usually repeats with a short period while
    the weather does not: its derived arrays are kept for reuse, within a memory budget.
    """

    def __init__(self, drv: Drivers, p: RothCParameters, n_plots: int, budget_bytes: int = 64 * 2**20) -> None:
        self.drv, self.p = drv, p
        self.periods = [drv.arrays[name].shape[0] for name in _MANAGEMENT]
        self.max_entries = max(1, budget_bytes // (8 * 7 * max(n_plots, 1)))
        self.cache: dict[tuple[int, ...], tuple] = {}

    def __call__(self, month: int) -> Forcing:
        key = tuple(month % period for period in self.periods)
        management = self.cache.get(key)
        if management is None:
            management = _management(self.drv, month, self.p)
            if len(self.cache) < self.max_entries:
                self.cache[key] = management
        return Forcing.of(self.drv, month, self.p, management)


def combined_rate_modifier(smd: NDArray, f: Forcing, site: SiteConstants, p: RothCParameters) -> tuple[NDArray, NDArray]:
    """RateM = a x b x c for this month, and b, from the month's new deficit ``smd`` [mm]."""
    # b = lo + (hi - lo) (max - SMD) / (max - one_bar), in the reference's operation order.
    rm_m = site.limits.max_mm - smd
    rm_m *= p.rm_moist_max - p.rm_moist_min
    rm_m /= site.smd_span_mm
    rm_m += p.rm_moist_min
    # The line reaches 1 at the -1 bar deficit and exceeds it above: b = min(line, 1).
    np.minimum(rm_m, p.rm_moist_max, out=rm_m)
    rate = f.rm_temperature * rm_m
    rate *= f.rm_cover
    return rate, rm_m


@functools.lru_cache(maxsize=8)
def decay_plan(p: RothCParameters) -> tuple[float, tuple[int, ...]] | None:
    """Integer multiples of the slowest rate constant, when the rate constants are such.

    The shipped constants are 500, 15, 33 and 1 times k_HUM = 0.02 yr-1, so the four
    monthly retention factors exp(-r k tstep) are integer powers of exp(-r k_HUM tstep):
    one exponential and 17 multiplications per plot instead of four exponentials (exp is
    the costliest operation of the hot loop). The powers agree with direct exponentials to
    about 5e-14 relative (500 times the rounding of one exp).
    """
    k = p.k_per_yr
    base = float(k.min())
    if base <= 0:
        return None
    ratios = k / base
    multiples = np.round(ratios)
    if np.all(np.abs(ratios - multiples) <= 1e-12 * ratios) and multiples.max() <= 4096:
        return base, tuple(int(m) for m in multiples)
    return None


def retained_fraction(rate: NDArray, p: RothCParameters) -> NDArray:
    """Fraction of each pool left after a month at combined rate modifier ``rate``, (4, n)."""
    plan = decay_plan(p)
    if plan is None:
        out = p.k_per_yr[:, None] * rate
        out *= -p.tstep_yr
        return np.exp(out, out=out)
    base, multiples = plan
    unit = rate * base
    unit *= -p.tstep_yr
    np.exp(unit, out=unit)
    powers = {1: unit}  # unit ** (2 ** i), by repeated squaring
    power = 1
    while power * 2 <= max(multiples):
        unit = unit * unit
        power *= 2
        powers[power] = unit
    out = np.empty((4,) + np.shape(rate))
    for j, multiple in enumerate(multiples):
        bits = [powers[b] for b in powers if multiple & b]
        if len(bits) == 1:
            out[j] = bits[0]
        else:
            np.multiply(bits[0], bits[1], out=out[j])
            for factor in bits[2:]:
                out[j] *= factor
    return out


@dataclass
class MonthRecord:
    """Rate modifiers and CO2 of one month (for recording)."""

    rm_temperature: NDArray
    rm_moisture: NDArray
    rm_cover: NDArray
    co2_t_c_ha: NDArray


def advance_month(
    pools: NDArray,
    smd: NDArray,
    activity: NDArray | None,
    f: Forcing,
    site: SiteConstants,
    p: RothCParameters,
) -> tuple[NDArray, NDArray, NDArray | None, MonthRecord]:
    """Advance every plot by one month (subroutines RothC + decomp of the reference).

    Order of operations as in the reference: the temperature factor; the new deficit, then
    the moisture factor from it; the cover factor; decay of each pool over the month with
    the product of the three; the decayed C split into CO2/BIO/HUM; the month's inputs added
    after the decay (they do not decay in the month they arrive). :func:`update_smd` and
    :func:`moisture_rate_modifier` are inlined with in-place operations: this is the hot
    loop. ``pools`` and ``activity`` are consumed (their buffers are reused).
    """
    lim = site.limits
    wetter = smd + f.water_balance_mm
    np.minimum(wetter, 0.0, out=wetter)
    mode = f.cover_mode  # skip the per-plot choice when all plots are alike this month
    if mode == 1:
        smd = np.maximum(wetter, lim.max_mm, out=wetter)
    else:
        floor = np.minimum(lim.bare_mm, smd)
        if mode == -1:
            np.copyto(floor, lim.max_mm, where=f.covered)
        smd = np.maximum(floor, wetter, out=floor)
    rate, rm_m = combined_rate_modifier(smd, f, site, p)

    # Exact exponential decay over the month with piecewise-constant modifiers.
    retained = retained_fraction(rate, p)
    decayed = pools * retained
    np.subtract(pools, decayed, out=pools)
    lost_total = pools.sum(axis=0)
    decayed += f.inputs
    decayed[2] += site.to_bio * lost_total
    decayed[3] += site.to_hum * lost_total
    lost_total *= site.to_co2

    if activity is not None:
        # The radiocarbon tracer follows the carbon flows; what is already in the soil also
        # decays radioactively over the month; new inputs arrive at the month's % modern.
        kept = activity * retained
        np.subtract(activity, kept, out=activity)
        moved_total = activity.sum(axis=0)
        kept[2] += site.to_bio * moved_total
        kept[3] += site.to_hum * moved_total
        kept *= site.c14_month_decay
        kept += f.modern_fraction * f.inputs
        activity = kept
    return decayed, smd, activity, MonthRecord(f.rm_temperature, rm_m, f.rm_cover, lost_total)
