"""The month loop of :func:`~fourp1000.rothc.run` compiled with numba: every month of every
plot in one fused loop (internal; :func:`run` chooses it with ``kernel``).

The numpy loop of :mod:`~fourp1000.rothc.decomposition` advances all plots one month at a
time with dozens of array operations per month, each a pass over memory. Here one plot's
state stays in registers for the whole run: per plot-month one exponential (the decay plan
of :func:`~fourp1000.rothc.decomposition.retained_fraction`), a few dozen arithmetic
operations, and a store when the month is recorded. The arithmetic is that of
``advance_month``, operation for operation and in the same order, so the two loops agree to
the last bits but those of the exponential function (numpy's and the C library's may differ
in the last unit); a test holds them to 1e-9 relative.

Importing this module imports numba (an optional dependency, ``pip install fourp1000[fast]``)
and compiles the loop on first use; ``cache=True`` keeps the machine code on disk, so later
processes load it in milliseconds.
"""

from __future__ import annotations

import math

import numba
import numpy as np
from numpy.typing import NDArray

from .decomposition import decay_plan
from .drivers import Drivers, SiteConstants
from .model import OUTPUTS
from .parameters import RothCParameters
from .state import RothCState

# Plots per block of the kernel: the state of a block stays in the processor's cache.
_BLOCK = 256
# Slots of the recorded variables in the kernel's output array (order of OUTPUTS).
_SLOT = {name: i for i, name in enumerate(OUTPUTS)}


def simulate(
    drv: Drivers,
    site: SiteConstants,
    initial: RothCState,
    n_months: int,
    months: NDArray,
    wanted: tuple[str, ...],
    radiocarbon: bool,
    p: RothCParameters,
) -> tuple[dict[str, NDArray], RothCState]:
    """The month loop of :func:`~fourp1000.rothc.run` on validated inputs, compiled.

    Returns the recorded outputs (name to array (n_records, n_plots)) and the final state.
    """
    n = site.iom_t_c_ha.shape[0]
    record_at = np.full(n_months, -1, dtype=np.int64)
    record_at[months] = np.arange(len(months))
    slots = np.full(len(OUTPUTS), -1, dtype=np.int64)
    slots[[_SLOT[v] for v in wanted]] = np.arange(len(wanted))
    out = np.empty((len(wanted), len(months), n))

    pools = np.array(np.broadcast_to(initial.pools_t_c_ha, (4, n)), dtype=float)
    smd = np.array(np.broadcast_to(initial.smd_mm, (n,)), dtype=float)
    activity = (np.array(np.broadcast_to(initial.c14_activity_t_c_ha, (4, n)), dtype=float) if radiocarbon
                else np.zeros((4, 0)))
    drivers = _driver_arrays(drv)
    rows, wide = _driver_rows(drivers, n_months)
    _fused_run(drivers, rows, wide, _site_arrays(site, n), _constants(p, site), _decay_bits(p), pools, smd,
               activity, radiocarbon, record_at, slots, out)
    outputs = {name: out[j] for j, name in enumerate(wanted)}
    final = RothCState(pools, site.iom_t_c_ha.copy(), smd, activity if radiocarbon else None)
    return outputs, final


def _driver_arrays(drv: Drivers) -> tuple:
    """The drivers as 2-D arrays (period, n_plots or 1), the temperature factor first.

    The temperature factor is taken precomputed (numpy's, for a short cyclic series) where
    :class:`Drivers` has it; otherwise the kernel computes it from the temperature.
    """
    a = drv.arrays
    temp_is_factor = drv.rm_temp is not None
    temp = drv.rm_temp if temp_is_factor else a["temperature_c"]
    names = ("rain_mm", "evaporation_mm", "plant_c_t_ha", "fym_c_t_ha", "dpm_rpm_ratio", "modern_c_pct")
    floats = tuple(np.ascontiguousarray(a[name], dtype=float) for name in names)
    covered = np.ascontiguousarray(a["covered"], dtype=np.bool_)
    return (np.ascontiguousarray(temp, dtype=float), temp_is_factor) + floats + (covered,)


def _driver_rows(drivers: tuple, n_months: int) -> tuple[NDArray, NDArray]:
    """Row of each driver in each month (read cyclically), and 1 where a driver varies by plot.

    The table saves a division per driver and plot-month in the kernel.
    """
    arrays = (drivers[0],) + drivers[2:]
    months = np.arange(n_months)
    rows = np.stack([months % a.shape[0] for a in arrays], axis=1).astype(np.int64)
    wide = np.array([a.shape[1] > 1 for a in arrays], dtype=np.int64)
    return np.ascontiguousarray(rows), wide


def _decay_bits(p: RothCParameters) -> NDArray:
    """For each pool, the exponents b (ascending, -1 after the last) of the powers
    ``unit ** (2 ** b)`` whose product gives its multiple of the slowest rate constant.

    Without a decay plan, a dummy table (the kernel then takes four exponentials).
    """
    plan = decay_plan(p)
    if plan is None:
        return np.zeros((4, 1), dtype=np.int64)
    multiples = plan[1]
    width = max(m.bit_count() for m in multiples)
    bits = np.full((4, width), -1, dtype=np.int64)
    for j, m in enumerate(multiples):
        exps = [b for b in range(m.bit_length()) if (m >> b) & 1]
        bits[j, : len(exps)] = exps
    return bits


def _site_arrays(site: SiteConstants, n: int) -> tuple:
    """Per-plot constants as contiguous (n,) arrays."""
    values = (site.limits.max_mm, site.limits.bare_mm, site.smd_span_mm, site.to_co2, site.to_bio,
              site.to_hum, site.iom_t_c_ha)
    return tuple(np.ascontiguousarray(np.broadcast_to(v, (n,)), dtype=float) for v in values)


def _constants(p: RothCParameters, site: SiteConstants) -> NDArray:
    """Scalar coefficients, packed in the order :func:`_month` and :func:`_record` read them."""
    plan = decay_plan(p)
    base, multiples = plan if plan is not None else (0.0, (0, 0, 0, 0))
    k = p.k_per_yr
    return np.array([
        p.rm_temp_a, p.rm_temp_b, p.rm_temp_c, p.rm_temp_min_c,                      # 0-3
        p.pan_coefficient, p.rm_moist_min, p.rm_moist_max,                           # 4-6
        p.rm_cover_covered, p.rm_cover_bare, p.tstep_yr,                             # 7-9
        p.fym_dpm_fraction, p.fym_rpm_fraction, p.fym_hum_fraction,                  # 10-12
        site.c14_month_decay, p.c14_decay_per_yr, p.iom_radiocarbon_age_yr, p.c14_mean_life_yr,  # 13-16
        1.0 if plan is not None else 0.0, base, *multiples, *k,                     # 17, 18, 19-22, 23-26
    ], dtype=float)


# The kernel is one function on purpose: numba counts references to every array passed to
# a function, with atomic operations that would cost more than the month's arithmetic; the
# helpers take scalars only.


@numba.njit(cache=True)
def _rm_temperature(t_c: float, a: float, b: float, c: float, t_min: float) -> float:
    """Temperature factor, in the operation order of ``temperature_rate_modifier``."""
    if t_c < t_min:
        return 0.0
    return a / (math.exp(b / (max(t_c, t_min) + c)) + 1.0)


@numba.njit(cache=True)
def _delta14c(soc: float, activity_total: float, c: NDArray) -> float:
    """Δ14C [‰] of the soil, as ``delta14c_of_pools`` computes it (IOM included)."""
    age = math.log(soc / activity_total) / c[14] if soc > 0 else 0.0
    return (math.exp(-age / c[16]) - 1.0) * 1000.0


@numba.njit(cache=True)
def _fused_run(drivers, rows, wide, site, c, bits, pools, smd, activity, radiocarbon, record_at, slots, out):
    """Run every plot through all months; ``pools``, ``smd``, ``activity`` are updated in place.

    By blocks of plots small enough to stay in cache; within a block the month loop is
    outside and the plot loop inside, so the processor overlaps consecutive plots (a plot's
    months form one chain of dependent operations). ``drivers`` holds (period, n_plots or 1)
    arrays: temperature (or its factor), rain, evaporation, plant C, manure C, DPM/RPM,
    % modern, cover; ``rows[t, k]`` is the row of driver k in month t, ``wide[k]`` 1 where
    driver k has a column per plot, else 0. The arithmetic is that of ``advance_month``, in
    its order.
    """
    temp, temp_is_factor, rain, evap, plant, fym, ratio, modern, covered = drivers
    max_mm, bare_mm, span, to_co2, to_bio, to_hum, iom = site
    n = pools.shape[1]
    co2 = np.zeros(n)
    powers = np.empty(bits.max() + 1)
    retained = np.empty(4)
    iom_activity = math.exp(-c[14] * c[15])
    # Coefficients in locals: loads from arrays could not be hoisted out of the loop (the
    # compiler must assume any store may change them).
    pan, lo, hi, covered_rm, bare_rm, tstep = c[4], c[5], c[6], c[7], c[8], c[9]
    fym_dpm, fym_rpm, fym_hum, base, planned = c[10], c[11], c[12], c[18], c[17] != 0.0
    w0, w1, w2, w3, w4, w5, w6, w7 = wide[0], wide[1], wide[2], wide[3], wide[4], wide[5], wide[6], wide[7]
    for start in range(0, n, _BLOCK):
        for t in range(record_at.shape[0]):
            rec = record_at[t]
            r0, r1, r2, r3, r4, r5, r6, r7 = rows[t, 0], rows[t, 1], rows[t, 2], rows[t, 3], rows[t, 4], rows[t, 5], rows[t, 6], rows[t, 7]
            for i in range(start, min(n, start + _BLOCK)):
                tc = temp[r0, i * w0]
                rm_t = tc if temp_is_factor else _rm_temperature(tc, c[0], c[1], c[2], c[3])
                wb = rain[r1, i * w1] - pan * evap[r2, i * w2]
                pl, fy, ra = plant[r3, i * w3], fym[r4, i * w4], ratio[r5, i * w5]
                cov = covered[r7, i * w7]
                inputs = (ra / (ra + 1.0) * pl + fym_dpm * fy, 1.0 / (ra + 1.0) * pl + fym_rpm * fy, 0.0, fym_hum * fy)
                # The deficit, then the moisture factor from it (update_smd, combined_rate_modifier).
                wetter = min(smd[i] + wb, 0.0)
                s = max(wetter, max_mm[i]) if cov else max(min(bare_mm[i], smd[i]), wetter)
                smd[i] = s
                rm_m = min((max_mm[i] - s) * (hi - lo) / span[i] + lo, hi)
                rm_c = covered_rm if cov else bare_rm
                rate = rm_t * rm_m * rm_c
                if not planned:  # one exponential per pool
                    for j in range(4):
                        retained[j] = math.exp(c[23 + j] * rate * -tstep)
                else:  # retained_fraction: powers of one exponential, by repeated squaring
                    powers[0] = math.exp(rate * base * -tstep)
                    for b in range(1, powers.shape[0]):
                        powers[b] = powers[b - 1] * powers[b - 1]
                    for j in range(4):
                        acc = powers[bits[j, 0]]
                        for m in range(1, bits.shape[1]):
                            if bits[j, m] >= 0:
                                acc = acc * powers[bits[j, m]]
                        retained[j] = acc
                lost = 0.0
                for j in range(4):
                    kept = pools[j, i] * retained[j]
                    lost += pools[j, i] - kept
                    pools[j, i] = kept + inputs[j]
                pools[2, i] += to_bio[i] * lost
                pools[3, i] += to_hum[i] * lost
                co2[i] = co2[i] + lost * to_co2[i]
                if radiocarbon:  # the tracer follows the flows, decays, and inputs bring % modern
                    moved = 0.0
                    for j in range(4):
                        kept = activity[j, i] * retained[j]
                        moved += activity[j, i] - kept
                        activity[j, i] = kept
                    activity[2, i] += to_bio[i] * moved
                    activity[3, i] += to_hum[i] * moved
                    fraction = modern[r6, i * w6] / 100.0
                    for j in range(4):
                        activity[j, i] = activity[j, i] * c[13] + fraction * inputs[j]
                if rec >= 0:
                    soc = pools[0, i] + pools[1, i] + pools[2, i] + pools[3, i] + iom[i]
                    values = (pools[0, i], pools[1, i], pools[2, i], pools[3, i], iom[i], soc, co2[i], s,
                              rm_t, rm_m, rm_c)
                    for v in range(11):
                        if slots[v] >= 0:
                            out[slots[v], rec, i] = values[v]
                    if slots[11] >= 0:
                        total = activity[0, i] + activity[1, i] + activity[2, i] + activity[3, i]
                        out[slots[11], rec, i] = _delta14c(soc, total + iom[i] * iom_activity, c)
