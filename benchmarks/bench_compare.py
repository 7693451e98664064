"""Benchmark: `fourp1000 compare` on 100,000 plots x 2 samplings x 4 segments.

Prints the wall time of `compare` (equivalent soil mass, hyman spline) beside that of
`estimate` on the same 800,000 rows, both run as subprocesses in the same run (issue 5),
and the wall time and peak RSS of `compare` in memory and streamed (`--chunk-rows`), with
whether their outputs are identical (issue 14).

Run by hand: ``python benchmarks/bench_compare.py [n_plots]``.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from bench_scale import timed as timed_rss  # noqa: E402
from bench_score import timed  # noqa: E402


def make_campaigns(n_plots: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tops, bottoms = np.array([0, 10, 30, 60]), np.array([10, 30, 60, 100])
    n = n_plots * 2 * 4
    plot = np.repeat(np.arange(n_plots), 8)
    year = np.tile(np.repeat([2020, 2025], 4), n_plots)
    soc = rng.uniform(0.8, 2.5, n_plots)[plot] * np.tile([1.0, 0.7, 0.45, 0.3], 2 * n_plots)
    soc *= np.where(year == 2025, rng.uniform(0.97, 1.06, n), 1.0)
    return pd.DataFrame({
        "plot_id": plot.astype(str),
        "sampled_on": year,
        "top_cm": np.tile(tops, 2 * n_plots),
        "bottom_cm": np.tile(bottoms, 2 * n_plots),
        "soc_pct": np.round(soc, 3),
        "bulk_density_g_cm3": np.round(rng.uniform(1.15, 1.55, n), 3),
    })


def main(n_plots: int = 100_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "campaigns.csv"
        make_campaigns(n_plots).to_csv(path, index=False)
        base = [sys.executable, "-m", "fourp1000"]
        t_est = timed(base + ["estimate", str(path), "-q", "-o", str(Path(tmp) / "e.csv")])
        t_cmp = timed(base + ["compare", str(path), "-q", "-o", str(Path(tmp) / "c.csv")])
        t_cmp0 = timed(base + ["compare", str(path), "-q", "--bootstrap", "0", "-o", str(Path(tmp) / "c0.csv")])
        memory = timed_rss(["compare", str(path), "-q", "-o", str(Path(tmp) / "m.csv")])
        streamed = {n: timed_rss(["compare", str(path), "-q", "--chunk-rows", str(n),
                                  "-o", str(Path(tmp) / f"s{n}.csv")]) for n in (250_000, 50_000)}
        same = all((Path(tmp) / f"s{n}.csv").read_bytes() == (Path(tmp) / "m.csv").read_bytes() for n in streamed)
    print(f"{n_plots:,} plots x 2 samplings x 4 segments = {n_plots * 8:,} rows")
    print(f"fourp1000 estimate:                {t_est:7.2f} s")
    print(f"fourp1000 compare (bootstrap 1000): {t_cmp:7.2f} s  ({t_cmp / t_est:.2f} x estimate)")
    print(f"fourp1000 compare --bootstrap 0:    {t_cmp0:7.2f} s  ({t_cmp0 / t_est:.2f} x estimate)")
    print(f"compare in memory:                  {memory[0]:7.2f} s  peak RSS {memory[1]:7.0f} MiB")
    for n, (wall, peak) in streamed.items():
        print(f"compare --chunk-rows {n:<7}:        {wall:7.2f} s  peak RSS {peak:7.0f} MiB  "
              f"({wall / memory[0]:.2f} x in memory)")
    print(f"streamed outputs identical to the in-memory output: {same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
