"""Benchmark: `fourp1000 estimate` on 1,000,000 layer rows (250,000 plots).

Prints the wall time and peak memory of three processes run on the same file in the same
run, as users run them: the CLI (output to a file), a bare
``python -c "import pandas; pandas.read_csv(FILE)"`` and the same with ``pyarrow.csv``; the
ratio of the CLI to the pandas process (target <= 2x, goal 1.5x) and the CLI's peak RSS
(target <= 1 GiB). Each is the best of a few interleaved runs. The package is byte-compiled
first, as an install does. Then the library's stages in this process (read, validate,
compute, write; start-up excluded).

Run by hand: ``python benchmarks/bench_estimate.py [n_plots [repeats]]``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_rothc import byte_compile_package  # noqa: E402


def make_plots(n_plots: int, seed: int = 1) -> pd.DataFrame:
    """Four layers per plot (0-10-30-60-100 cm), 20 % of layers without bulk density."""
    rng = np.random.default_rng(seed)
    tops = np.array([0, 10, 30, 60])
    bottoms = np.array([10, 30, 60, 100])
    n = n_plots * 4
    plot = np.repeat(np.arange(n_plots), 4)
    bd = np.round(rng.uniform(1.1, 1.6, n), 3)
    bd[rng.random(n) < 0.2] = np.nan
    return pd.DataFrame({
        "farm_id": (plot // 50).astype(str),
        "plot_id": plot.astype(str),
        "area_ha": np.round(rng.uniform(0.5, 20, n_plots), 2)[plot],
        "top_cm": np.tile(tops, n_plots),
        "bottom_cm": np.tile(bottoms, n_plots),
        "soc_pct": np.round(rng.uniform(0.3, 3.0, n) * np.tile([1.0, 0.7, 0.45, 0.3], n_plots), 3),
        "bulk_density_g_cm3": bd,
        "coarse_fragments_pct": np.round(rng.uniform(0, 20, n), 1),
        "clay_pct": np.round(rng.uniform(5, 50, n), 1),
        "sand_pct": np.round(rng.uniform(10, 60, n), 1),
    })


# Runs COMMAND and prints its wall time [s] and peak RSS [KiB]. This launcher is a fresh, small
# process: ``ru_maxrss`` of a child starts from its parent's size at the fork, so measured from
# the benchmark itself (which holds the generated data) the figure would be the benchmark's.
LAUNCHER = """
import resource, subprocess, sys, time
t0 = time.perf_counter()
subprocess.run(sys.argv[1:], check=True)
wall = time.perf_counter() - t0
print(wall, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
"""


def timed(cmd: list[str]) -> tuple[float, float]:
    """Wall time [s] and peak RSS [MiB] of the process ``cmd``, measured by a fresh launcher."""
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *cmd], check=True, capture_output=True, text=True)
    wall, kib = out.stdout.split()
    return float(wall), int(kib) / 1024


def main(n_plots: int = 250_000, repeats: int = 3) -> None:
    byte_compile_package()  # timed as installed (pip writes the bytecode)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plots.csv"
        make_plots(n_plots).to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6
        out = Path(tmp) / "stocks.csv"
        commands = {
            "pandas.read_csv": [sys.executable, "-c", f"import pandas; pandas.read_csv({str(path)!r})"],
            "pyarrow.csv.read_csv": [sys.executable, "-c",
                                     f"import pyarrow.csv; pyarrow.csv.read_csv({str(path)!r})"],
            "fourp1000 estimate": [sys.executable, "-m", "fourp1000", "estimate", str(path), "-o", str(out), "-q"],
        }
        runs: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(repeats):  # interleaved, so a change of machine load touches all alike
            for name, cmd in commands.items():
                runs[name].append(timed(cmd))
        rows = sum(1 for _ in open(path)) - 1
        scored = sum(1 for _ in open(out)) - 1
        stages = in_process_stages(path, Path(tmp) / "stocks2.csv")
    best = {name: min(r[0] for r in v) for name, v in runs.items()}
    peak = {name: max(r[1] for r in v) for name, v in runs.items()}
    print(f"input: {rows:,} layer rows, {n_plots:,} plots, {size_mb:.1f} MB CSV; "
          f"processes, best of {repeats} interleaved runs; load average {os.getloadavg()[0]:.2f}")
    for name in commands:
        print(f"{name + ':':22} {best[name]:6.2f} s  peak RSS {peak[name]:6.0f} MiB  "
              f"({', '.join(f'{r[0]:.2f}' for r in runs[name])} s)")
    t_est = best["fourp1000 estimate"]
    print(f"  ({scored:,} plots scored; each process includes interpreter start-up, imports and writing)")
    print(f"ratio estimate / pandas.read_csv process:  {t_est / best['pandas.read_csv']:5.2f} x  "
          "(target <= 2, goal 1.5)")
    print(f"ratio estimate / pyarrow.csv process:      {t_est / best['pyarrow.csv.read_csv']:5.2f} x")
    print(f"peak RSS of estimate:                      {peak['fourp1000 estimate']:5.0f} MiB (target <= 1024)")
    total = sum(stages.values())
    detail = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
    print(f"in-process library:  {total:6.2f} s  ({detail}; start-up excluded)")


def in_process_stages(path: Path, out: Path) -> dict[str, float]:
    """The same job through the library, timed by stage (start-up excluded)."""
    from fourp1000.io.horizons import normalise
    from fourp1000.io.writers import write_tables
    from fourp1000.stocks.estimate import EstimateOptions, estimate_stocks
    from fourp1000.io.readers import read_table

    stages = {}
    t0 = time.perf_counter()
    raw = read_table(path)
    stages["read"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = normalise(raw)
    stages["validate"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    result = estimate_stocks(table, EstimateOptions())
    stages["compute"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    write_tables({"plots": result.plots}, "csv", str(out))
    stages["write"] = time.perf_counter() - t0
    return stages


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
