"""Benchmark: `fourp1000 score --uncertainty` with 1,000 draws on 100,000 plots.

Prints the wall time and peak memory of the CLI (a subprocess, as users run it, output to a
file) with ``--uncertainty --draws 1000``, beside one deterministic ``score`` run on the same
plots measured in the same run, and their ratio (targets: <= 10x the deterministic time,
peak memory < 2 GiB).

The plots are those of ``bench_estimate.py`` (four layers to 1 m, 20 % of layers without
bulk density, coarse fragments 0-20 %, 50 plots per farm) with Tier 1 attributes drawn from
four climate zones, two tillage and two input classes and five practice combinations.

Run by hand: ``python benchmarks/bench_uncertainty.py [n_plots] [draws]``.
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

from bench_estimate import make_plots

ZONES = ("cool_temperate_moist", "warm_temperate_dry", "tropical_moist", "warm_temperate_moist")
PRACTICES = ("no_till;cover_crops", "cover_crops", "manure", "agroforestry", "")


def make_scored_plots(n_plots: int, seed: int = 2) -> pd.DataFrame:
    """Layers of :func:`bench_estimate.make_plots` plus the plot attributes ``score`` needs."""
    frame = make_plots(n_plots)
    rng = np.random.default_rng(seed)
    plot = frame["plot_id"].astype(int).to_numpy()

    def per_plot(choices: tuple[str, ...]) -> np.ndarray:
        return np.asarray(choices, dtype=object)[rng.integers(0, len(choices), n_plots)][plot]

    frame["climate_zone"] = per_plot(ZONES)
    frame["soil_class"] = "HAC"
    frame["land_use"] = "cropland"
    frame["tillage"] = per_plot(("full", "reduced"))
    frame["input_level"] = per_plot(("low", "medium"))
    frame["practices"] = per_plot(PRACTICES)
    return frame


def _run(cmd: list[str]) -> tuple[float, float]:
    """Wall time [s] of a command, and the peak RSS [MiB] of all children so far."""
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    elapsed = time.perf_counter() - t0
    return elapsed, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def main(n_plots: int = 100_000, draws: int = 1000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plots.csv"
        make_scored_plots(n_plots).to_csv(path, index=False)
        base = [sys.executable, "-m", "fourp1000", "score", str(path), "-q"]
        t_det, peak_det = _run(base + ["-o", str(Path(tmp) / "det.csv")])
        out = Path(tmp) / "mc.csv"
        t_mc, peak_all = _run(base + ["-o", str(out), "--uncertainty", "--draws", str(draws)])
        farms = pd.read_csv(out)
    print(f"input: {n_plots:,} plots ({4 * n_plots:,} layer rows), {len(farms):,} farms, {draws:,} draws")
    print(f"fourp1000 score:                {t_det:7.2f} s   peak {peak_det:6.0f} MiB")
    print(f"fourp1000 score --uncertainty:  {t_mc:7.2f} s   peak {max(peak_all, peak_det):6.0f} MiB "
          "(max over both runs; the Monte Carlo run is the larger)")
    print(f"ratio uncertainty/deterministic: {t_mc / t_det:6.2f} x  (target <= 10)")
    print(f"peak memory target: < 2048 MiB: {'met' if peak_all < 2048 else 'MISSED'}")
    met = farms["meets_4p1000_at_confidence"].astype(str).str.lower().eq("true")
    print(f"farms meeting 4 per 1000 at 90 % confidence: {int(met.sum()):,} of {len(farms):,} "
          f"(deterministic verdict: {int(farms['meets_4p1000'].astype(str).str.lower().eq('true').sum()):,})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000, int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
