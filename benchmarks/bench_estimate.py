"""Benchmark: `fourp1000 estimate` on 1,000,000 layer rows (250,000 plots).

Prints the wall time of the CLI (a subprocess, as users run it, output to a file) beside
that of a bare ``pandas.read_csv`` of the same file measured in the same run, their ratio
(target <= 2x) and the CLI's peak memory (target <= 1 GiB).

Run by hand: ``python benchmarks/bench_estimate.py [n_plots]``.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd


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


def main(n_plots: int = 250_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plots.csv"
        make_plots(n_plots).to_csv(path, index=False)
        size_mb = path.stat().st_size / 1e6
        t0 = time.perf_counter()
        frame = pd.read_csv(path)
        t_read = time.perf_counter() - t0
        rows = len(frame)
        del frame
        out = Path(tmp) / "stocks.csv"
        cmd = [sys.executable, "-m", "fourp1000", "estimate", str(path), "-o", str(out), "-q"]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True)
        t_cli = time.perf_counter() - t0
        peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        scored = sum(1 for _ in open(out)) - 1
        stages = in_process_stages(path, Path(tmp) / "stocks2.csv")
    print(f"input: {rows:,} layer rows, {n_plots:,} plots, {size_mb:.1f} MB CSV")
    print(f"pandas.read_csv:     {t_read:7.2f} s")
    print(f"fourp1000 estimate:  {t_cli:7.2f} s  ({scored:,} plots scored; includes interpreter start-up and writing)")
    print(f"ratio estimate/read: {t_cli / t_read:7.2f} x   (target <= 2)")
    print(f"peak memory (RSS):   {peak_mib:7.0f} MiB (target <= 1024)")
    total = sum(stages.values())
    detail = ", ".join(f"{k} {v:.2f} s" for k, v in stages.items())
    print(f"in-process library:  {total:7.2f} s  ({total / t_read:.2f} x read_csv; {detail})")
    print("  (the CLI figure adds interpreter and library start-up, about 1 s here, mostly importing pandas)")


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
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 250_000)
