"""Benchmark: `fourp1000 score` vs `fourp1000 estimate` on the same 250,000 plots.

Target (issue 3): score within 3x the time of estimate on the same file. Both are run as
subprocesses (as users run them), measured in the same run; prints both times and the ratio.

Run by hand: ``python benchmarks/bench_score.py [n_plots]``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from bench_estimate import make_plots  # noqa: E402

ZONES = ["cool_temperate_moist", "warm_temperate_moist", "warm_temperate_dry", "tropical_moist"]
PRACTICES = ["no_till", "cover_crops", "reduced_tillage;residue_retention", "manure", "agroforestry"]


def with_management(n_plots: int):
    frame = make_plots(n_plots)
    rng = np.random.default_rng(2)
    plot = frame["plot_id"].astype(int).to_numpy()
    frame["climate_zone"] = np.array(ZONES)[rng.integers(0, len(ZONES), n_plots)][plot]
    frame["soil_class"] = np.array(["HAC", "LAC"])[rng.integers(0, 2, n_plots)][plot]
    frame["land_use"] = "cropland"
    frame["tillage"] = "full"
    frame["input_level"] = "medium"
    frame["practices"] = np.array(PRACTICES)[rng.integers(0, len(PRACTICES), n_plots)][plot]
    return frame


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main(n_plots: int = 250_000) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plots.csv"
        with_management(n_plots).to_csv(path, index=False)
        base = [sys.executable, "-m", "fourp1000"]
        t_est = timed(base + ["estimate", str(path), "-q", "-o", str(Path(tmp) / "e.csv")])
        t_score = timed(base + ["score", str(path), "-q", "-o", str(Path(tmp) / "s.csv")])
    print(f"{n_plots:,} plots, {n_plots * 4:,} layer rows")
    print(f"fourp1000 estimate: {t_est:7.2f} s")
    print(f"fourp1000 score:    {t_score:7.2f} s")
    print(f"ratio score/estimate: {t_score / t_est:5.2f} x (target <= 3)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 250_000)
