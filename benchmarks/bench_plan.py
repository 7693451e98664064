"""Benchmark: `fourp1000 plan` vs `fourp1000 score` on the same 10,000 plots.

`plan` projects every candidate practice set of every plot (all subsets of the catalogue
that apply to the plot and are additional there: 48 to 96 sets per cropland plot here),
vectorised over the (plot, set) pairs, through the same model functions as `score`. Both
commands run as subprocesses on one file, measured in the same run; prints both times,
the number of plot-set pairs and the ratio.

Run by hand: ``python benchmarks/bench_plan.py [n_plots] [--rothc]`` (``--rothc`` also
times ``plan --model rothc`` with the example climate, whose zones the plots use).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_score import with_management  # noqa: E402

CLIMATE = Path(__file__).resolve().parents[1] / "examples" / "climate.csv"


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True)
    return time.perf_counter() - t0


def main(n_plots: int = 10_000, rothc: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "plots.csv"
        frame = with_management(n_plots)
        if rothc:  # the example climate has three of the four zones
            frame["climate_zone"] = frame["climate_zone"].replace("warm_temperate_moist", "cool_temperate_moist")
        frame.to_csv(path, index=False)
        base = [sys.executable, "-m", "fourp1000"]
        t_score = timed(base + ["score", str(path), "-q", "-o", str(Path(tmp) / "s.csv")])
        out = Path(tmp) / "p.json"
        t_plan = timed(base + ["plan", str(path), "-q", "-f", "json", "-o", str(out)])
        methods = json.loads(out.read_text())["meta"]["methods"][-1]
        print(f"{n_plots:,} plots, {len(frame):,} layer rows")
        print(f"fourp1000 score: {t_score:7.2f} s")
        print(f"fourp1000 plan:  {t_plan:7.2f} s   ({methods.split('(')[2].split(')')[0]})")
        print(f"ratio plan/score: {t_plan / t_score:5.2f} x")
        if rothc:
            clim = ["--model", "rothc", "--climate", str(CLIMATE)]
            t_rs = timed(base + ["score", str(path), *clim, "-q", "-o", str(Path(tmp) / "rs.csv")])
            t_rp = timed(base + ["plan", str(path), *clim, "-q", "-o", str(Path(tmp) / "rp.csv")])
            print(f"fourp1000 score --model rothc: {t_rs:7.2f} s")
            print(f"fourp1000 plan --model rothc:  {t_rp:7.2f} s   (ratio {t_rp / t_rs:5.2f} x)")


if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    main(int(args[0]) if args else 10_000, rothc="--rothc" in sys.argv)
