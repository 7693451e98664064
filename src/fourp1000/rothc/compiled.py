"""The month loop of :func:`~fourp1000.rothc.run` compiled with numba: every month of every
plot in one fused loop (internal; :func:`run` chooses it with ``kernel``).

The numpy loop of :mod:`~fourp1000.rothc.decomposition` advances all plots one month at a
time with dozens of array operations per month, each a pass over the plots in memory. Here
a plot-month is one exponential (the decay plan of
:func:`~fourp1000.rothc.decomposition.retained_fraction`) and a few dozen arithmetic
operations on values in cache, and blocks of plots run on all cores. Drivers that repeat
(a monthly climatology cycled) make each plot's months repeat too once its soil moisture
deficit has settled into its cycle (usually within a year or two): from then on the loop
reads back the values of the previous cycle instead of computing the exponential again, and
where a run records only the pools at the ends of cycles (a projection's yearly SOC), a
block of settled plots goes on a whole cycle at a time (one affine map per cycle, the same
numbers to about 1e-14 relative). Month by month, the arithmetic is that of
``advance_month``, operation for operation and in the same order, so the two loops agree
to the last bit except where the exponentials of numpy and of the C library differ in the
last unit (about 1e-13 relative after 50 years); a test holds them to 1e-9.

Importing this module imports numba (an optional dependency, ``pip install fourp1000[fast]``).
The loop is compiled on first use and the machine code cached on disk (``cache=True``), so
later processes only load it (a fixed cost of about half a second, numba's start-up).
"""

from __future__ import annotations

import math
import threading

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
# numba's thread pool must not be entered from two Python threads at once (its workqueue
# layer aborts the process): callers of the parallel loop take turns.
_LOCK = threading.Lock()
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

    pools = np.array(np.broadcast_to(initial.pools_t_c_ha, (4, n)), dtype=float, order="C")  # one signature
    smd = np.array(np.broadcast_to(initial.smd_mm, (n,)), dtype=float)
    activity = (np.array(np.broadcast_to(initial.c14_activity_t_c_ha, (4, n)), dtype=float, order="C") if radiocarbon
                else np.zeros((4, 0)))
    drivers = _driver_arrays(drv)
    rows, wide = _driver_rows(drivers, n_months)
    cycle = _memo_cycle(drivers, n_months)
    by_cycle = _by_whole_cycles(cycle, months, wanted, radiocarbon)
    with _LOCK:
        _fused_run(drivers, rows, wide, cycle, by_cycle, _site_arrays(site, n), _constants(p, site),
                   pools, smd, activity, radiocarbon, record_at, slots, out)
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
    floats = tuple(_writable(a[name], float) for name in names)
    return (_writable(temp, float), temp_is_factor) + floats + (_writable(a["covered"], np.bool_),)


def _writable(values, dtype) -> NDArray:
    """``values`` as a C-contiguous array that numba types as writable.

    A broadcast view is read-only, and numba compiles (and caches) a kernel once per
    combination of read-only and writable arguments: the arrays handed to a kernel are
    always writable, so that every run, whatever the shapes of its inputs, reuses the one
    machine code loaded in the process (and cached on disk).
    """
    arr = np.ascontiguousarray(values, dtype=dtype)
    return arr if arr.flags.writeable else arr.copy()


def _driver_rows(drivers: tuple, n_months: int) -> tuple[NDArray, tuple[int, ...]]:
    """Row of each driver in each month (read cyclically), and 1 where a driver varies by plot.

    The table saves a division per driver and plot-month in the kernel.
    """
    arrays = (drivers[0],) + drivers[2:]
    months = np.arange(n_months)
    rows = np.stack([months % a.shape[0] for a in arrays], axis=1).astype(np.int64)
    wide = tuple(int(a.shape[1] > 1) for a in arrays)  # a tuple: held in registers, like the constants
    return np.ascontiguousarray(rows), wide


# Longest cycle of months the kernel keeps values for (a rotation of up to ten years).
_MEMO_MAX_MONTHS = 120


def _memo_cycle(drivers: tuple, n_months: int) -> int:
    """Months after which every driver repeats, where the run lasts at least two such
    cycles and the cycle is short enough to keep in memory; else 0 (no memo)."""
    cycle = 1
    for a in (drivers[0],) + drivers[2:]:
        cycle = math.lcm(cycle, a.shape[0])
    return cycle if cycle <= _MEMO_MAX_MONTHS and 2 * cycle <= n_months else 0


#: Outputs a run by whole cycles records (those of the pools alone).
_CYCLE_OUTPUTS = frozenset(OUTPUTS[:6])


def _by_whole_cycles(cycle: int, months: NDArray, wanted: tuple[str, ...], radiocarbon: bool) -> bool:
    """Whether settled blocks of plots may advance a whole cycle at a time (:func:`_whole_cycles`):
    drivers that repeat, no radiocarbon, records only at the ends of cycles (yearly records of
    a 12-month cycle) and only of the pools, IOM and SOC."""
    months = np.asarray(months)
    return bool(cycle > 0 and not radiocarbon and set(wanted) <= _CYCLE_OUTPUTS
                and np.all((months + 1) % cycle == 0))


def _site_arrays(site: SiteConstants, n: int) -> tuple:
    """Per-plot constants as contiguous (n,) arrays."""
    values = (site.limits.max_mm, site.limits.bare_mm, site.smd_span_mm, site.to_co2, site.to_bio,
              site.to_hum, site.iom_t_c_ha)
    return tuple(_writable(np.broadcast_to(v, (n,)), float) for v in values)


def _constants(p: RothCParameters, site: SiteConstants) -> tuple[float, ...]:
    """The coefficients, at the positions :func:`_fused_run` reads them.

    A tuple, not an array: the compiled loop holds its values in registers (an array element
    would be loaded again after every store, since a store could change it).
    """
    plan = decay_plan(p)
    base, multiples = plan if plan is not None else (0.0, (0, 0, 0, 0))
    k = p.k_per_yr
    return tuple(float(v) for v in (
        p.rm_temp_a, p.rm_temp_b, p.rm_temp_c, p.rm_temp_min_c,                      # 0-3
        p.pan_coefficient, p.rm_moist_min, p.rm_moist_max,                           # 4-6
        p.rm_cover_covered, p.rm_cover_bare, p.tstep_yr,                             # 7-9
        p.fym_dpm_fraction, p.fym_rpm_fraction, p.fym_hum_fraction,                  # 10-12
        site.c14_month_decay, p.c14_decay_per_yr, p.iom_radiocarbon_age_yr, p.c14_mean_life_yr,  # 13-16
        1.0 if plan is not None else 0.0, base, *multiples, *k,                     # 17, 18, 19-22, 23-26
    ))


@numba.njit(cache=True)
def _rm_temperature(t_c: float, a: float, b: float, c: float, t_min: float) -> float:
    """Temperature factor, in the operation order of ``temperature_rate_modifier``."""
    if t_c < t_min:
        return 0.0
    return a / (math.exp(b / (max(t_c, t_min) + c)) + 1.0)


@numba.njit(cache=True)
def _power(unit: float, multiple: int) -> float:
    """``unit ** multiple`` as ``retained_fraction`` computes it: the product, in ascending
    order, of the squarings ``unit ** (2 ** b)`` of the bits b set in ``multiple``."""
    acc, square = 1.0, unit
    while multiple:
        if multiple & 1:
            acc = acc * square  # 1.0 * x is x exactly: the first factor is taken as it is
        multiple >>= 1
        if multiple:
            square = square * square
    return acc


@numba.njit(cache=True)
def _delta14c(soc: float, activity_total: float, decay_per_yr: float, mean_life_yr: float) -> float:
    """Δ14C [‰] of the soil from its radiocarbon activity (IOM included), as
    ``delta14c_of_pools`` computes it."""
    age = math.log(soc / activity_total) / decay_per_yr if soc > 0 else 0.0
    return (math.exp(-age / mean_life_yr) - 1.0) * 1000.0


@numba.njit(cache=True, parallel=True)
def _fused_run(drivers, rows, wide, cycle, by_cycle, site, c, pools, smd, activity, radiocarbon, record_at, slots,
               out):
    """Run every plot through all months; ``pools``, ``smd``, ``activity`` are updated in place.

    Blocks of plots run in parallel (plots are independent: the result does not depend on
    the number of threads). Within a block, small enough to stay in cache, the month loop is
    outside and the plot loop inside, so that the processor overlaps consecutive plots (a
    plot's months form one chain of dependent operations). ``drivers`` holds (period,
    n_plots or 1) arrays: temperature (or its factor), rain, evaporation, plant C, manure C,
    DPM/RPM, % modern, cover; ``rows[t, k]`` is the row of driver k in month t, ``wide[k]``
    1 where driver k has a column per plot, else 0. The arithmetic is that of
    ``advance_month``, in its order. One function on purpose: numba counts references to the
    arrays passed to a call, with atomic operations that cost more than the month itself.

    ``cycle`` (> 0) is the number of months after which every driver repeats. A plot whose
    deficit at the start of a month equals its deficit ``cycle`` months earlier repeats
    that cycle's months exactly from then on (same drivers, same deficit): its deficit,
    rate modifiers, retained fractions and inputs are then read from the values kept for
    the previous cycle (``memo``) instead of computed again: the same numbers, without the
    exponential. ``cycle`` = 0: no memo (a series that does not repeat within the run).
    With ``by_cycle``, a block whose plots have all settled goes on a whole cycle at a time
    (:func:`_whole_cycles`).
    """
    temp, temp_is_factor, rain, evap, plant, fym, ratio, modern, covered = drivers
    max_mm, bare_mm, span, to_co2, to_bio, to_hum, iom = site
    n = pools.shape[1]
    co2 = np.zeros(n)
    period = max(cycle, 1)
    planned, iom_activity = c[17] != 0.0, math.exp(-c[14] * c[15])
    for block in numba.prange((n + _BLOCK - 1) // _BLOCK):
        lo, hi = block * _BLOCK, min(n, (block + 1) * _BLOCK)
        # per month of the cycle and plot: deficit before and after, modifiers, fractions, inputs
        memo = np.empty((period, 12, hi - lo if cycle > 0 else 0))
        settled = np.zeros(hi - lo, dtype=np.bool_)
        all_settled = False
        for t in range(record_at.shape[0]):
            r0, r1, r2, r3, r4, r5, r6, r7 = (rows[t, 0], rows[t, 1], rows[t, 2], rows[t, 3], rows[t, 4],
                                              rows[t, 5], rows[t, 6], rows[t, 7])
            rec, j = record_at[t], t % period
            if cycle > 0 and not all_settled and j == 0 and t >= cycle:
                all_settled = settled.all()
                if all_settled and by_cycle:
                    _whole_cycles(memo, pools, smd, to_bio, to_hum, iom, t, record_at, slots, out, lo, hi)
                    break
            if all_settled and rec < 0 and not radiocarbon:  # the common month, without branches
                _settled_month(memo[j], pools, smd, co2, to_bio, to_hum, to_co2, lo, hi)
                continue
            for i in range(lo, hi):
                k = i - lo
                if cycle > 0 and not settled[k] and t >= cycle and smd[i] == memo[j, 0, k]:
                    settled[k] = True
                if settled[k]:
                    s, rm_t, rm_m, rm_c = memo[j, 1, k], memo[j, 2, k], memo[j, 3, k], memo[j, 4, k]
                    f0, f1, f2, f3 = memo[j, 5, k], memo[j, 6, k], memo[j, 7, k], memo[j, 8, k]
                    in0, in1, in3 = memo[j, 9, k], memo[j, 10, k], memo[j, 11, k]
                else:
                    s, rm_t, rm_m, rm_c, f0, f1, f2, f3, in0, in1, in3 = _month(
                        temp[r0, i * wide[0]], temp_is_factor, rain[r1, i * wide[1]], evap[r2, i * wide[2]],
                        plant[r3, i * wide[3]], fym[r4, i * wide[4]], ratio[r5, i * wide[5]],
                        covered[r7, i * wide[7]], smd[i], max_mm[i], bare_mm[i], span[i], c, planned)
                    if cycle > 0:
                        memo[j, 0, k], memo[j, 1, k], memo[j, 2, k], memo[j, 3, k] = smd[i], s, rm_t, rm_m
                        memo[j, 4, k], memo[j, 5, k], memo[j, 6, k], memo[j, 7, k] = rm_c, f0, f1, f2
                        memo[j, 8, k], memo[j, 9, k], memo[j, 10, k], memo[j, 11, k] = f3, in0, in1, in3
                smd[i] = s
                d, r, b, h = pools[0, i], pools[1, i], pools[2, i], pools[3, i]
                k0, k1, k2, k3 = d * f0, r * f1, b * f2, h * f3
                lost = (((d - k0) + (r - k1)) + (b - k2)) + (h - k3)
                d, r = k0 + in0, k1 + in1
                b = (k2 + 0.0) + to_bio[i] * lost  # + 0.0: the (no) input to BIO, as advance_month adds it
                h = (k3 + in3) + to_hum[i] * lost
                pools[0, i], pools[1, i], pools[2, i], pools[3, i] = d, r, b, h
                co2[i] = co2[i] + lost * to_co2[i]
                total = 0.0
                if radiocarbon:  # the tracer follows the flows, decays; inputs bring their % modern
                    a0, a1, a2, a3 = activity[0, i], activity[1, i], activity[2, i], activity[3, i]
                    q0, q1, q2, q3 = a0 * f0, a1 * f1, a2 * f2, a3 * f3
                    moved = (((a0 - q0) + (a1 - q1)) + (a2 - q2)) + (a3 - q3)
                    fraction = modern[r6, i * wide[6]] / 100.0
                    a0, a1 = q0 * c[13] + fraction * in0, q1 * c[13] + fraction * in1
                    a2 = (q2 + to_bio[i] * moved) * c[13] + fraction * 0.0
                    a3 = (q3 + to_hum[i] * moved) * c[13] + fraction * in3
                    activity[0, i], activity[1, i], activity[2, i], activity[3, i] = a0, a1, a2, a3
                    total = a0 + a1 + a2 + a3 + iom[i] * iom_activity
                if rec >= 0:  # the variables of OUTPUTS, in its order, where wanted
                    soc = d + r + b + h + iom[i]
                    values = (d, r, b, h, iom[i], soc, co2[i], s, rm_t, rm_m, rm_c,
                              _delta14c(soc, total, c[14], c[16]) if slots[11] >= 0 else 0.0)
                    for v in range(12):
                        if slots[v] >= 0:
                            out[slots[v], rec, i] = values[v]


@numba.njit(cache=True)
def _whole_cycles(memo, pools, smd, to_bio, to_hum, iom, t0, record_at, slots, out, lo, hi):
    """The plots ``lo:hi``, all settled in their cycle, from month ``t0`` (a cycle's first) to
    the end of the run, a whole cycle at a time.

    A settled cycle repeats the same months, so it is one affine map of the pools,
    ``C -> A C + b``, composed from the kept fractions and inputs of its months (``memo``) as
    :func:`_settled_equilibria` composes it: one 4 x 4 product per cycle instead of each
    month's steps (a twelfth of the operations over a run of years). The same numbers in
    another order: they agree with the month-by-month loop to about 1e-14 relative.
    Records (pools, IOM and SOC; ``slots`` 0-5) fall at the ends of cycles. The run is a
    whole number of cycles (every driver's period divides it: ``Drivers.check_months``).
    """
    period, n_months = memo.shape[0], record_at.shape[0]
    whole = (n_months - t0) // period
    a, m, tmp, b, v = np.empty((4, 4)), np.zeros((4, 4)), np.empty((4, 4)), np.empty((1, 4)), np.empty(4)
    for i in range(lo, hi):
        k = i - lo
        a[:, :] = 0.0
        for q in range(4):
            a[q, q] = 1.0
        b[:, :] = 0.0
        for j in range(period):
            _month_map(m, memo[j, 5, k], memo[j, 6, k], memo[j, 7, k], memo[j, 8, k], to_bio[i], to_hum[i])
            _compose(m, a, tmp)
            _advance_offset(m, b, 0, v, memo[j, 9, k], memo[j, 10, k], memo[j, 11, k])
        d, r, bb, h = pools[0, i], pools[1, i], pools[2, i], pools[3, i]
        for done in range(1, whole + 1):
            d, r, bb, h = (a[0, 0] * d + a[0, 1] * r + a[0, 2] * bb + a[0, 3] * h + b[0, 0],
                           a[1, 0] * d + a[1, 1] * r + a[1, 2] * bb + a[1, 3] * h + b[0, 1],
                           a[2, 0] * d + a[2, 1] * r + a[2, 2] * bb + a[2, 3] * h + b[0, 2],
                           a[3, 0] * d + a[3, 1] * r + a[3, 2] * bb + a[3, 3] * h + b[0, 3])
            rec = record_at[t0 + done * period - 1]
            if rec >= 0:
                values = (d, r, bb, h, iom[i], d + r + bb + h + iom[i])
                for s in range(6):
                    if slots[s] >= 0:
                        out[slots[s], rec, i] = values[s]
        pools[0, i], pools[1, i], pools[2, i], pools[3, i] = d, r, bb, h
        smd[i] = memo[(n_months - 1) % period, 1, k]


@numba.njit(cache=True, inline="always")
def _settled_month(memo, pools, smd, co2, to_bio, to_hum, to_co2, lo, hi):
    """One month of the plots ``lo:hi``, all settled in their cycle: the pools move with the
    kept fractions and inputs (``memo`` of this month of the cycle), as in the general loop."""
    for i in range(lo, hi):
        k = i - lo
        f0, f1, f2, f3 = memo[5, k], memo[6, k], memo[7, k], memo[8, k]
        d, r, b, h = pools[0, i], pools[1, i], pools[2, i], pools[3, i]
        k0, k1, k2, k3 = d * f0, r * f1, b * f2, h * f3
        lost = (((d - k0) + (r - k1)) + (b - k2)) + (h - k3)
        pools[0, i] = k0 + memo[9, k]
        pools[1, i] = k1 + memo[10, k]
        pools[2, i] = (k2 + 0.0) + to_bio[i] * lost
        pools[3, i] = (k3 + memo[11, k]) + to_hum[i] * lost
        co2[i] = co2[i] + lost * to_co2[i]
        smd[i] = memo[1, k]


@numba.njit(cache=True, inline="always")
def _month(tc, temp_is_factor, rain, evap, pl, fy, ra, cov, smd, max_mm, bare_mm, span, c, planned):
    """One plot-month before the pools move: the deficit at the end of the month, the three
    rate modifiers, the retained fractions of the four pools and the inputs to DPM, RPM and
    HUM, in the operations of ``update_smd``, ``combined_rate_modifier``, ``retained_fraction``
    and ``month_pool_inputs``."""
    rm_t = tc if temp_is_factor else _rm_temperature(tc, c[0], c[1], c[2], c[3])
    wb = rain - c[4] * evap
    in0 = ra / (ra + 1.0) * pl + c[10] * fy
    in1 = 1.0 / (ra + 1.0) * pl + c[11] * fy
    in3 = c[12] * fy
    # The deficit, then the moisture factor from it (update_smd, combined_rate_modifier).
    wetter = min(smd + wb, 0.0)
    s = max(wetter, max_mm) if cov else max(min(bare_mm, smd), wetter)
    rm_m = min((max_mm - s) * (c[6] - c[5]) / span + c[5], c[6])
    rm_c = c[7] if cov else c[8]
    rate = rm_t * rm_m * rm_c
    step = -c[9]
    if planned:  # retained_fraction: powers of one exponential
        f0, f1, f2, f3 = _planned_decay(rate * c[18] * step, c[19], c[20], c[21], c[22])
    else:
        f0, f1, f2, f3 = (math.exp(c[23] * rate * step), math.exp(c[24] * rate * step),
                          math.exp(c[25] * rate * step), math.exp(c[26] * rate * step))
    return s, rm_t, rm_m, rm_c, f0, f1, f2, f3, in0, in1, in3


@numba.njit(cache=True)
def _planned_decay(exponent: float, m0: float, m1: float, m2: float, m3: float) -> tuple[float, float, float, float]:
    """Retained fractions ``exp(exponent) ** m`` of the four pools, as ``retained_fraction``
    computes them when the rate constants are integer multiples ``m`` of the slowest."""
    unit = math.exp(exponent)
    if m0 == 500.0 and m1 == 15.0 and m2 == 33.0 and m3 == 1.0:  # the shipped constants, unrolled
        u2 = unit * unit
        u4 = u2 * u2
        u8 = u4 * u4
        u16 = u8 * u8
        u32 = u16 * u16
        u64 = u32 * u32
        u128 = u64 * u64
        u256 = u128 * u128
        # the products of the squarings of each multiple's bits, in ascending order
        return ((((u4 * u16) * u32) * u64) * u128) * u256, ((unit * u2) * u4) * u8, unit * u32, unit
    return _power(unit, int(m0)), _power(unit, int(m1)), _power(unit, int(m2)), _power(unit, int(m3))


def settled_equilibria(drv: Drivers, site: SiteConstants, length: int, p: RothCParameters, split: bool = False
                       ) -> tuple[NDArray, NDArray, list[NDArray]]:
    """The periodic steady state of a repeated cycle of ``length`` months, compiled: what
    :func:`~fourp1000.rothc.cycle.settled_cycle`, :func:`~fourp1000.rothc.cycle.cycle_map` and
    :func:`~fourp1000.rothc.cycle.fixed_point` compute in numpy (carbon only).

    For each plot: the deficit cycle reached from field capacity (the cycle of deficits
    iterated until it repeats, the same numbers as numpy's), the month's retained fractions
    and inputs along it (the operations of :func:`_month`), the cycle's map ``C -> A C + b``
    composed month by month and ``(I - A) C = b`` solved by Gaussian elimination with
    partial pivoting. Batched matrix products and LAPACK's solve round in their own order:
    the pools agree with numpy's to about 1e-13 relative (a test holds them to 1e-9).

    Parameters
    ----------
    split : bool
        Solve for the plant input and the manure apart (two components), as
        :func:`~fourp1000.rothc.fit_plant_input` needs; else for all inputs together.

    Returns
    -------
    smd_start : array (n,) [mm]
        Deficit at the start of the periodic deficit cycle.
    dead : array of bool (n,)
        Plots where nothing decomposes during the cycle (no equilibrium).
    pools : list of arrays (4, n) [t C ha-1]
        Equilibrium pools: ``[all inputs]``, or ``[plant, manure]`` with ``split``.
    """
    n = site.iom_t_c_ha.shape[0]
    drivers = _driver_arrays(drv)
    rows, wide = _driver_rows(drivers, length)
    smd_start, dead = np.empty(n), np.empty(n, dtype=np.bool_)
    out = np.empty((2 if split else 1, 4, n))
    with _LOCK:
        _settled_equilibria(drivers, rows, wide, _site_arrays(site, n), _constants(p, site), split, smd_start, dead, out)
    return smd_start, dead, list(out)


@numba.njit(cache=True, parallel=True)
def _settled_equilibria(drivers, rows, wide, site, c, split, smd_start, dead, out):
    """Per plot (blocks of plots in parallel): the periodic deficit start, then the cycle's map
    (``a``, offsets ``b``) composed month by month, then its fixed point (see
    :func:`settled_equilibria`)."""
    temp, temp_is_factor, rain, evap, plant, fym, ratio, modern, covered = drivers
    max_mm, bare_mm, span, to_co2, to_bio, to_hum, iom = site
    n, length, n_comp = smd_start.shape[0], rows.shape[0], out.shape[0]
    planned = c[17] != 0.0
    for block in numba.prange((n + _BLOCK - 1) // _BLOCK):
        a, m, tmp, g = np.empty((4, 4)), np.zeros((4, 4)), np.empty((4, 4)), np.empty((4, 5))
        b, v = np.empty((n_comp, 4)), np.empty(4)
        for i in range(block * _BLOCK, min(n, (block + 1) * _BLOCK)):
            start = 0.0  # field capacity; the deficit cycle is reached within a few cycles
            for _ in range(1000):
                s = start
                for t in range(length):
                    wetter = min(s + (rain[rows[t, 1], i * wide[1]] - c[4] * evap[rows[t, 2], i * wide[2]]), 0.0)
                    s = max(wetter, max_mm[i]) if covered[rows[t, 7], i * wide[7]] else max(min(bare_mm[i], s), wetter)
                if s == start:
                    break
                start = s
            smd_start[i] = start
            a[:, :] = 0.0
            for q in range(4):
                a[q, q] = 1.0
            b[:, :] = 0.0
            s, alive = start, False
            for t in range(length):
                s, rm_t, rm_m, rm_c, f0, f1, f2, f3, in0, in1, in3 = _month(
                    temp[rows[t, 0], i * wide[0]], temp_is_factor, rain[rows[t, 1], i * wide[1]],
                    evap[rows[t, 2], i * wide[2]], plant[rows[t, 3], i * wide[3]], fym[rows[t, 4], i * wide[4]],
                    ratio[rows[t, 5], i * wide[5]], covered[rows[t, 7], i * wide[7]], s, max_mm[i], bare_mm[i],
                    span[i], c, planned)
                alive = alive or rm_t * rm_m * rm_c > 0.0
                _month_map(m, f0, f1, f2, f3, to_bio[i], to_hum[i])
                _compose(m, a, tmp)
                if split:  # plant (to DPM and RPM) and manure (DPM, RPM, HUM) apart
                    fy, ra, pl = fym[rows[t, 4], i * wide[4]], ratio[rows[t, 5], i * wide[5]], plant[rows[t, 3], i * wide[3]]
                    _advance_offset(m, b, 0, v, ra / (ra + 1.0) * pl, 1.0 / (ra + 1.0) * pl, 0.0)
                    _advance_offset(m, b, 1, v, c[10] * fy, c[11] * fy, c[12] * fy)
                else:
                    _advance_offset(m, b, 0, v, in0, in1, in3)
            dead[i] = not alive
            for j in range(n_comp):
                _solve_fixed_point(a, b, j, g, v)
                for q in range(4):
                    out[j, q, i] = v[q]


@numba.njit(cache=True, inline="always")
def _advance_offset(m, b, j, v, to_dpm, to_rpm, to_hum):
    """Offset ``b[j]`` after one more month: ``m @ b[j]`` plus the month's inputs (none to BIO);
    rows 0 and 1 of ``m`` diagonal (see :func:`_compose`)."""
    v[0], v[1] = m[0, 0] * b[j, 0], m[1, 1] * b[j, 1]
    for q in range(2, 4):
        v[q] = m[q, 0] * b[j, 0] + m[q, 1] * b[j, 1] + m[q, 2] * b[j, 2] + m[q, 3] * b[j, 3]
    b[j, 0], b[j, 1], b[j, 2], b[j, 3] = v[0] + to_dpm, v[1] + to_rpm, v[2] + 0.0, v[3] + to_hum


@numba.njit(cache=True, inline="always")
def _month_map(m, f0, f1, f2, f3, to_bio, to_hum):
    """The month's map of the active pools (see ``cycle_map``) into ``m``."""
    f = (f0, f1, f2, f3)
    for k in range(4):
        m[0, k] = f0 if k == 0 else 0.0
        m[1, k] = f1 if k == 1 else 0.0
        m[2, k] = (f2 if k == 2 else 0.0) + to_bio * (1.0 - f[k])
        m[3, k] = (f3 if k == 3 else 0.0) + to_hum * (1.0 - f[k])


@numba.njit(cache=True, inline="always")
def _compose(m, a, tmp):
    """``a`` becomes ``m @ a`` (``tmp``: work array).

    Rows 0 and 1 (DPM and RPM, which only decay) of ``m``, hence of ``a``, are diagonal: the
    products leave out the terms with their zeros, and give the numbers of the full row
    by column products to the last bit (every term left out is + 0.0 on non-negative values).
    """
    for p in range(2, 4):
        tmp[p, 0] = (m[p, 0] * a[0, 0] + m[p, 2] * a[2, 0]) + m[p, 3] * a[3, 0]
        tmp[p, 1] = (m[p, 1] * a[1, 1] + m[p, 2] * a[2, 1]) + m[p, 3] * a[3, 1]
        tmp[p, 2] = m[p, 2] * a[2, 2] + m[p, 3] * a[3, 2]
        tmp[p, 3] = m[p, 2] * a[2, 3] + m[p, 3] * a[3, 3]
    a[0, 0], a[1, 1] = m[0, 0] * a[0, 0], m[1, 1] * a[1, 1]
    for p in range(2, 4):
        for q in range(4):
            a[p, q] = tmp[p, q]


@numba.njit(cache=True, inline="always")
def _solve_fixed_point(a, b, j, g, x):
    """``x`` with (I - a) x = b[j], by Gaussian elimination with partial pivoting (``g``: work array)."""
    for r in range(4):
        for k in range(4):
            g[r, k] = (1.0 if r == k else 0.0) - a[r, k]
        g[r, 4] = b[j, r]
    for col in range(4):
        piv = col
        for r in range(col + 1, 4):
            if abs(g[r, col]) > abs(g[piv, col]):
                piv = r
        if piv != col:
            for k in range(5):
                g[col, k], g[piv, k] = g[piv, k], g[col, k]
        for r in range(col + 1, 4):
            fac = g[r, col] / g[col, col]
            for k in range(col, 5):
                g[r, k] -= fac * g[col, k]
    for r in range(3, -1, -1):
        acc = g[r, 4]
        for k in range(r + 1, 4):
            acc -= g[r, k] * x[k]
        x[r] = acc / g[r, r]
