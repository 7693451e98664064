"""Benchmark of RothC-26.3 in fourp1000: the command line and the library, against a scalar loop.

Run by hand (not part of the tests)::

    python benchmarks/bench_rothc.py                 # the command line (issue 14 acceptance)
    python benchmarks/bench_rothc.py --cli-plots 20000 --repeats 1
    python benchmarks/bench_rothc.py --library       # also the library sections below

What is measured (figures and ratios from the same run; best of ``--repeats``)
-----------------------------------------------------------------------------
A. ``fourp1000 project plots.csv --model rothc --climate climate.csv --years 50`` on 100,000
   plots, the whole process (a subprocess, as users run it: start-up, reading a 1.2-million
   row per-plot climate table, validation, fit, projection, writing), against a plain-Python
   scalar RothC loop doing only the 50 forward years of each plot (``scalar_month``, one plot
   and one month at a time, timed on a sample of plots and scaled). Acceptance: >= 30x,
   goal 100x. The command runs with the compiled month loop where numba is installed
   (``kernel="auto"``) and again with ``FOURP1000_ROTHC_KERNEL=numpy``. The package is
   byte-compiled first, as an install does (``byte_compile_package``).
B. The month loop alone, 100,000 plots x 50 years (``rothc.run``, 12-month climate cycled):
   ns per plot-month of the numpy loop and of the compiled loop (with numba), month by month
   (CO2 recorded too) and as a projection runs it (yearly SOC: settled plots a year at a time).
C. ``fourp1000 --version`` against a bare ``python -c "import click"`` process
   (acceptance: <= 3x).

With ``--library``:

1. 10,000 plots x 50 years monthly, spin-up included: per-plot weather that differs every
   month (arrays of 600 x n_plots), a per-plot 12-month spin-up year, per-plot plant input,
   cover, DPM/RPM and manure. Vectorised: ``rothc.spinup`` (analytic) + ``rothc.run``.
2. The same model as a plain-Python scalar loop (``math`` only, one plot at a time, the way
   the official codes run), timed in the same process on a subset of plots and scaled:
   (a) with the same analytic spin-up (a 4 x 4 solve per plot), (b) with the reference's
   iterative spin-up (month by month until active C changes by <= 1e-6 t C/ha per year).
   The scalar and vectorised SOC are compared on the subset. Both sides report the best
   of ``--repeats`` timings (the vectorised run repeated; the scalar loop on as many
   disjoint batches of plots), since the machine may be shared.
3. 100,000 plots x 50 years (per-plot 12-month climate cycled, yearly records of all pools)
   in a child process: time and peak memory (tracemalloc peak of numpy allocations and the
   process's maximum resident set size).
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from fourp1000 import rothc
from fourp1000.rothc import model as rothc_model

YEARS = 50
BASE_TEMP_C = np.array([3.7, 3.1, 5.5, 7.4, 10.9, 14.4, 16.3, 16.2, 13.8, 9.5, 6.2, 4.1])
BASE_EVAP_MM = np.array([6.6, 17.3, 40.7, 70.5, 103.5, 117.3, 130.1, 106.9, 61.9, 29.5, 8.8, 3.9])


def make_sites(n: int, seed: int = 1, full_series: bool = True) -> dict:
    """Synthetic but plausible plots: temperate to warm, clay 5-60 %, various inputs."""
    rng = np.random.default_rng(seed)
    warm = rng.uniform(-4, 12, n)
    temp12 = BASE_TEMP_C[:, None] + warm
    rain12 = rng.gamma(4.0, 15.0, (12, n))
    evap12 = BASE_EVAP_MM[:, None] * rng.uniform(0.6, 2.5, n)
    plant12 = np.zeros((12, n))
    harvest = rng.integers(5, 10, n)
    plant12[harvest, np.arange(n)] = rng.uniform(0.5, 4.0, n)
    covered12 = np.ones((12, n), dtype=bool)
    covered12[(harvest + 1) % 12, np.arange(n)] = False
    fym12 = np.zeros((12, n))
    manured = rng.uniform(size=n) < 0.3
    fym12[2, manured] = rng.uniform(0.5, 3.0, manured.sum())
    ratio = rng.choice([1.44, 0.67, 0.25], n)
    sites = dict(
        spin=rothc.MonthlyInputs(temp12, rain12, evap12, plant12, fym12, covered12, ratio),
        clay=rng.uniform(5, 60, n),
        depth=rng.uniform(20, 30, n),
        iom=rng.uniform(0.5, 4.0, n),
    )
    if full_series:
        months = 12 * YEARS
        temp = np.tile(temp12, (YEARS, 1))
        temp += rng.normal(0, 1.5, (months, n))
        rain = rng.gamma(4.0, 15.0, (months, n))
        evap = np.tile(evap12, (YEARS, 1))
        evap *= rng.uniform(0.8, 1.2, (months, n))
        sites["forward"] = rothc.MonthlyInputs(temp, rain, evap, plant12, fym12, covered12, ratio)
    else:
        sites["forward"] = sites["spin"]
    return sites


# ------------------------------------------------------------------------------------
# Plain-Python scalar RothC (one plot, one month at a time), same equations and order
# ------------------------------------------------------------------------------------

K = (10.0, 0.3, 0.66, 0.02)


def _site_constants(clay: float, depth: float):
    smd_max = -(20.0 + 1.3 * clay - 0.01 * (clay * clay)) * depth / 23.0
    x = 1.67 * (1.85 + 1.60 * math.exp(-0.0786 * clay))
    return smd_max, 0.444 * smd_max, 0.556 * smd_max, x / (x + 1.0), 0.46 / (x + 1.0), 0.54 / (x + 1.0)


def _rm_temp(t: float) -> float:
    return 0.0 if t < -5.0 else 47.91 / (math.exp(106.06 / (t + 18.27)) + 1.0)


def _smd_and_rate(smd, t, rain, evap, covered, c):
    smd_max, one_bar, bare = c[0], c[1], c[2]
    wet = min(0.0, smd + (rain - 0.75 * evap))
    smd = max(smd_max, wet) if covered else max(min(bare, smd), wet)
    b = 1.0 if smd > one_bar else 0.2 + 0.8 * (smd_max - smd) / (smd_max - one_bar)
    return smd, _rm_temp(t) * b * (0.6 if covered else 1.0)


def scalar_month(pools, smd, t, rain, evap, covered, plant, fym, ratio, c):
    smd, rate = _smd_and_rate(smd, t, rain, evap, covered, c)
    dpm, rpm, bio, hum = pools
    d1 = dpm * math.exp(-rate * K[0] / 12.0)
    r1 = rpm * math.exp(-rate * K[1] / 12.0)
    b1 = bio * math.exp(-rate * K[2] / 12.0)
    h1 = hum * math.exp(-rate * K[3] / 12.0)
    lost = (dpm - d1) + (rpm - r1) + (bio - b1) + (hum - h1)
    new = [
        d1 + ratio / (ratio + 1.0) * plant + 0.49 * fym,
        r1 + 1.0 / (ratio + 1.0) * plant + 0.49 * fym,
        b1 + c[4] * lost,
        h1 + c[5] * lost + 0.02 * fym,
    ]
    return new, smd, c[3] * lost


def scalar_spinup_analytic(months, c):
    """months: 12 tuples (t, rain, evap, covered, plant, fym, ratio)."""
    smd = 0.0
    for _ in range(1000):  # the deficit cycle reached from field capacity
        end = smd
        for t, rain, evap, covered, *_ in months:
            end, _r = _smd_and_rate(end, t, rain, evap, covered, c)
        if end == smd:
            break
        smd = end
    a = [[float(i == j) for j in range(4)] for i in range(4)]
    b = [0.0] * 4
    s = smd
    for t, rain, evap, covered, plant, fym, ratio in months:
        s, rate = _smd_and_rate(s, t, rain, evap, covered, c)
        f = [math.exp(-rate * k / 12.0) for k in K]
        m = [[f[j] if i == j else 0.0 for j in range(4)] for i in range(4)]
        for j in range(4):
            m[2][j] += c[4] * (1.0 - f[j])
            m[3][j] += c[5] * (1.0 - f[j])
        u = [ratio / (ratio + 1.0) * plant + 0.49 * fym, 1.0 / (ratio + 1.0) * plant + 0.49 * fym, 0.0, 0.02 * fym]
        a = [[sum(m[i][k] * a[k][j] for k in range(4)) for j in range(4)] for i in range(4)]
        b = [sum(m[i][k] * b[k] for k in range(4)) + u[i] for i in range(4)]
    # Solve (I - A) x = b by Gaussian elimination with partial pivoting.
    g = [[float(i == j) - a[i][j] for j in range(4)] + [b[i]] for i in range(4)]
    for col in range(4):
        piv = max(range(col, 4), key=lambda r: abs(g[r][col]))
        g[col], g[piv] = g[piv], g[col]
        for r in range(col + 1, 4):
            fac = g[r][col] / g[col][col]
            for k in range(col, 5):
                g[r][k] -= fac * g[col][k]
    x = [0.0] * 4
    for r in range(3, -1, -1):
        x[r] = (g[r][4] - sum(g[r][k] * x[k] for k in range(r + 1, 4))) / g[r][r]
    return x, smd


def scalar_spinup_reference(months, c):
    pools, smd, toc_prev, test = [0.0] * 4, 0.0, 0.0, 100.0
    while test > 1e-6:
        for t, rain, evap, covered, plant, fym, ratio in months:
            pools, smd, _co2 = scalar_month(pools, smd, t, rain, evap, covered, plant, fym, ratio, c)
        toc = pools[0] + pools[1] + pools[2] + pools[3]
        test, toc_prev = abs(toc - toc_prev), toc
    return pools, smd


def scalar_plot(sites: dict, i: int, spinup: str) -> float:
    """Spin up and run one plot; returns its final SOC."""
    spin, fwd = sites["spin"], sites["forward"]
    c = _site_constants(float(sites["clay"][i]), float(sites["depth"][i]))
    ratio = float(spin.dpm_rpm_ratio[i])

    def month_tuple(inp, m, cyc):
        return (
            float(inp.temperature_c[m % inp.temperature_c.shape[0], i]),
            float(inp.rain_mm[m % inp.rain_mm.shape[0], i]),
            float(inp.evaporation_mm[m % inp.evaporation_mm.shape[0], i]),
            bool(inp.covered[m % 12, i]),
            float(inp.plant_c_t_ha[m % 12, i]),
            float(inp.fym_c_t_ha[m % 12, i]),
            ratio,
        )

    months12 = [month_tuple(spin, m, 12) for m in range(12)]
    if spinup == "analytic":
        pools, smd = scalar_spinup_analytic(months12, c)
    else:
        pools, smd = scalar_spinup_reference(months12, c)
    for m in range(12 * YEARS):
        pools, smd, _co2 = scalar_month(pools, smd, *month_tuple(fwd, m, 12), c)
    return pools[0] + pools[1] + pools[2] + pools[3] + float(sites["iom"][i])


# ------------------------------------------------------------------------------------


def vectorised(sites: dict, spinup: str = "analytic", variables=None):
    spun = rothc.spinup(sites["spin"], sites["clay"], sites["depth"], sites["iom"], method=spinup)
    result = rothc.run(
        sites["forward"], sites["clay"], sites["depth"], spun.state, n_months=12 * YEARS, record="yearly",
        variables=variables,
    )
    return spun, result


def _best_of(repeats: int, func) -> tuple[float, object]:
    """Smallest wall time of ``repeats`` calls (the machine may be shared), and a result."""
    best, result = math.inf, None
    for _ in range(repeats):
        t0 = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - t0)
    return best, result


def bench_speed(n: int, n_scalar: int, n_scalar_ref: int, with_reference: bool, repeats: int) -> None:
    sites = make_sites(n)
    months = n * 12 * YEARS
    print(f"RothC-26.3, {n:,} plots x {YEARS} years monthly (per-plot weather every month), spin-up included; "
          f"best of {repeats} runs")
    t_vec, (spun, result) = _best_of(repeats, lambda: vectorised(sites))
    t_spin, _ = _best_of(repeats, lambda: rothc.spinup(sites["spin"], sites["clay"], sites["depth"], sites["iom"]))
    print(f"  vectorised, analytic spin-up : {t_vec:8.2f} s  (spin-up {t_spin:.2f} s)  "
          f"{t_vec / months * 1e9:.0f} ns per plot-month")

    # The scalar loop on `repeats` disjoint batches of plots; the fastest batch, scaled.
    idx = np.linspace(0, n - 1, n_scalar).astype(int)
    batches = np.array_split(idx, repeats)
    per_plot, soc_scalar = math.inf, []
    for batch in batches:
        t0 = time.perf_counter()
        soc_scalar += [scalar_plot(sites, int(i), "analytic") for i in batch]
        per_plot = min(per_plot, (time.perf_counter() - t0) / len(batch))
    t_sc = per_plot * n
    diff = np.abs(np.array(soc_scalar) - result.outputs["soc_t_c_ha"][-1, idx]).max()
    print(f"  scalar loop, analytic spin-up: {t_sc:8.2f} s  ({n_scalar} plots timed, scaled to {n:,})"
          f"  -> speed-up {t_sc / t_vec:6.1f}x   [max |SOC diff| vectorised vs scalar {diff:.1e} t C/ha]")

    idx_ref = np.linspace(0, n - 1, n_scalar_ref).astype(int)
    t0 = time.perf_counter()
    for i in idx_ref:
        scalar_plot(sites, int(i), "reference")
    t_sc_ref = (time.perf_counter() - t0) / n_scalar_ref * n
    print(f"  scalar loop, iterative spin-up as in the official codes: {t_sc_ref:8.1f} s "
          f"({n_scalar_ref} plots timed, scaled)  -> speed-up {t_sc_ref / t_vec:7.0f}x")
    if with_reference:
        t_ref, (ref_spun, _) = _best_of(1, lambda: vectorised(sites, spinup="reference"))
        gap = np.abs(ref_spun.state.soc_t_c_ha - spun.state.soc_t_c_ha).max()
        print(f"  vectorised, reference spin-up: {t_ref:8.2f} s  (median {int(np.median(ref_spun.n_months))} "
              f"months iterated; max |SOC gap| to analytic {gap:.1e} t C/ha)")


def bench_memory(n: int) -> None:
    tracemalloc.start()
    sites = make_sites(n, full_series=False)
    t0 = time.perf_counter()
    _, result = vectorised(sites, variables=rothc.OUTPUTS[:7])
    elapsed = time.perf_counter() - t0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    maxrss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"RothC-26.3, {n:,} plots x {YEARS} years (per-plot 12-month climate cycled, yearly records of "
          f"{len(result.outputs)} variables)")
    print(f"  time {elapsed:.2f} s; peak traced memory {peak / 2**30:.2f} GiB; "
          f"max resident set {maxrss_kib / 2**20:.2f} GiB (limit 2 GiB)")


# ------------------------------------------------------------------------------------
# A-C: the command line and the month loop
# ------------------------------------------------------------------------------------

ZONES = ["cool_temperate_moist", "warm_temperate_moist", "warm_temperate_dry", "tropical_moist"]
PRACTICES = ["no_till", "cover_crops", "reduced_tillage;residue_retention", "manure", "agroforestry", ""]


def write_project_inputs(n: int, folder: Path, seed: int = 3) -> tuple[Path, Path]:
    """A plot table (IPCC attributes, clay, practices; the IPCC default stock is the baseline)
    and a per-plot monthly climate table (``plot_id``, 12 rows per plot)."""
    rng = np.random.default_rng(seed)
    ids = np.array([f"P{i:07d}" for i in range(n)], dtype=object)
    plots = pd.DataFrame({
        "plot_id": ids, "farm_id": [f"F{i // 50:06d}" for i in range(n)], "area_ha": rng.uniform(1, 20, n).round(2),
        "climate_zone": np.array(ZONES)[rng.integers(0, len(ZONES), n)], "soil_class": "HAC",
        "land_use": "cropland", "tillage": "full", "input_level": "medium",
        "practices": np.array(PRACTICES)[rng.integers(0, len(PRACTICES), n)],
        "clay_pct": rng.uniform(5, 50, n).round(1),
    })
    temp = (BASE_TEMP_C[None, :] + rng.uniform(-3, 8, n)[:, None]).round(1)
    rain = rng.gamma(4.0, 15.0, (n, 12)).round(1)
    evap = (BASE_EVAP_MM[None, :] * rng.uniform(0.6, 2.0, n)[:, None]).round(1)
    climate = pd.DataFrame({"plot_id": np.repeat(ids, 12), "month": np.tile(np.arange(1, 13), n),
                            "temperature_c": temp.ravel(), "rain_mm": rain.ravel(), "evaporation_mm": evap.ravel()})
    plots_path, climate_path = folder / "plots.csv", folder / "climate.csv"
    plots.to_csv(plots_path, index=False)
    climate.to_csv(climate_path, index=False)
    return plots_path, climate_path


def _timed_process(cmd: list[str], repeats: int, env: dict | None = None) -> float:
    """Best wall time [s] of ``repeats`` runs of a process."""
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, env=env, stdout=subprocess.DEVNULL)
        best = min(best, time.perf_counter() - t0)
    return best


def scalar_forward_years(climate: pd.DataFrame, clay: np.ndarray, plots: np.ndarray) -> float:
    """Seconds per plot of the plain scalar loop over the 50 forward years only (no spin-up,
    no input or output): the plot's 12-month climate cycled, crop inputs in the covered months."""
    t0 = time.perf_counter()
    for i in plots:
        rows = climate.iloc[12 * i:12 * i + 12]
        months = list(zip(rows["temperature_c"].tolist(), rows["rain_mm"].tolist(), rows["evaporation_mm"].tolist()))
        c = _site_constants(float(clay[i]), 30.0)
        pools, smd = [0.1, 5.0, 0.7, 30.0], 0.0
        for m in range(12 * YEARS):
            t, rain, evap = months[m % 12]
            covered = 3 <= m % 12 <= 8
            pools, smd, _co2 = scalar_month(pools, smd, t, rain, evap, covered, 0.3 if covered else 0.0, 0.0, 1.44, c)
    return (time.perf_counter() - t0) / len(plots)


def byte_compile_package() -> None:
    """Write the package's bytecode (``__pycache__``), as ``pip install`` does and as any run
    does where Python may write it: the command is timed as installed. Under
    ``PYTHONDONTWRITEBYTECODE`` a source checkout would otherwise compile its modules from
    source at every start (about 0.1 s of each run)."""
    import compileall

    import fourp1000

    compileall.compile_dir(Path(fourp1000.__file__).parent, quiet=1)


def bench_cli(n: int, n_scalar: int, repeats: int) -> None:
    byte_compile_package()
    with tempfile.TemporaryDirectory() as tmp:
        plots_path, climate_path = write_project_inputs(n, Path(tmp))
        cmd = [sys.executable, "-m", "fourp1000", "project", str(plots_path), "--model", "rothc", "--climate",
               str(climate_path), "--years", str(YEARS), "-q", "-o", str(Path(tmp) / "out.csv")]
        kernels = ["numpy", "auto"] if rothc_model.numba_available() else ["numpy"]
        env = {k: v for k, v in os.environ.items() if k != rothc_model.KERNEL_ENV}
        times = {}
        for kernel in kernels:
            run_env = env if kernel == "auto" else {**env, rothc_model.KERNEL_ENV: kernel}
            times[kernel] = _timed_process(cmd, repeats, run_env)
        climate = pd.read_csv(climate_path)
        clay = pd.read_csv(plots_path, usecols=["clay_pct"])["clay_pct"].to_numpy()
    sample = np.linspace(0, n - 1, n_scalar).astype(int)
    t_scalar = min(scalar_forward_years(climate, clay, part) for part in np.array_split(sample, repeats)) * n
    print(f"A. fourp1000 project --model rothc, {n:,} plots x {YEARS} years, whole process "
          f"(per-plot climate table of {12 * n:,} rows); best of {repeats}")
    print(f"   plain scalar loop, {YEARS} forward years only: {t_scalar:8.1f} s ({n_scalar} plots timed, scaled)")
    for kernel, t in times.items():
        label = "compiled month loop (numba)" if kernel == "auto" else "numpy month loop"
        print(f"   command, {label:28s}: {t:8.2f} s  -> {t_scalar / t:6.1f}x the scalar loop "
              "(acceptance >= 30x, goal 100x)")
    if len(kernels) == 1:
        print("   (numba is not installed: pip install fourp1000[fast] for the compiled loop)")


def bench_loop(n: int, repeats: int) -> None:
    sites = make_sites(n, full_series=False)
    spun = rothc.spinup(sites["spin"], sites["clay"], sites["depth"], sites["iom"])
    months = 12 * YEARS
    # (kernel, recorded variables): yearly SOC alone lets settled plots go a whole year at a
    # time; recording the cumulative CO2 too keeps the compiled loop month by month.
    runs = [("numpy", ("soc_t_c_ha",))]
    if rothc_model.numba_available():
        runs += [("numba", ("soc_t_c_ha", "co2_t_c_ha")), ("numba", ("soc_t_c_ha",))]
    print(f"B. rothc.run, {n:,} plots x {YEARS} years (12-month climate cycled), yearly SOC; best of {repeats}")
    per = {}
    for kernel, variables in runs:
        def once(kernel=kernel, variables=variables):
            return rothc.run(sites["spin"], sites["clay"], sites["depth"], spun.state, n_months=months,
                             record="yearly", variables=variables, kernel=kernel)
        once()  # the compiled loop's first call loads (or compiles) its machine code
        t, _ = _best_of(repeats, once)
        label = kernel if kernel == "numpy" else ("numba, month by month" if len(variables) > 1
                                                  else "numba, by whole years once settled")
        per[label] = t / (n * months) * 1e9
        print(f"   {label:34s}: {t:6.2f} s, {per[label]:5.1f} ns per plot-month")
    if len(per) > 1:
        import numba

        print(f"   compiled / numpy: {per['numpy'] / min(per.values()):.1f}x faster ({numba.get_num_threads()} threads)")


def bench_version(repeats: int) -> None:
    t_version = _timed_process([sys.executable, "-m", "fourp1000", "--version"], repeats)
    t_click = _timed_process([sys.executable, "-c", "import click"], repeats)
    print(f"C. fourp1000 --version {t_version * 1000:6.0f} ms; python -c 'import click' {t_click * 1000:6.0f} ms "
          f"-> {t_version / t_click:.2f}x (acceptance <= 3x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli-plots", type=int, default=100_000, help="plots of the command-line run (A, B)")
    parser.add_argument("--scalar-forward-plots", type=int, default=200, help="plots timed with the scalar loop (A)")
    parser.add_argument("--library", action="store_true", help="also the library sections 1-3")
    parser.add_argument("--plots", type=int, default=10_000)
    parser.add_argument("--scalar-plots", type=int, default=100, help="plots timed with the scalar loop")
    parser.add_argument("--scalar-ref-plots", type=int, default=3, help="plots timed with the iterative spin-up")
    parser.add_argument("--with-reference", action="store_true", help="also time the vectorised reference spin-up")
    parser.add_argument("--repeats", type=int, default=3, help="timing repeats (best is reported)")
    parser.add_argument("--big", type=int, default=100_000, help="plots for the memory run")
    parser.add_argument("--no-memory", action="store_true")
    parser.add_argument("--memory-only", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_only:
        bench_memory(args.memory_only)
        return
    bench_cli(args.cli_plots, args.scalar_forward_plots, args.repeats)
    bench_loop(args.cli_plots, args.repeats)
    bench_version(max(5, args.repeats))
    if not args.library:
        return
    bench_speed(args.plots, args.scalar_plots, args.scalar_ref_plots, args.with_reference, args.repeats)
    if not args.no_memory:
        # A fresh process, so that its maximum resident set is this run's alone.
        subprocess.run([sys.executable, __file__, "--memory-only", str(args.big)], check=True)


if __name__ == "__main__":
    main()
