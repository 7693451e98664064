"""Benchmark: how `fourp1000 score` scales with rows, streamed, in memory and on Dask.

For each size (layer rows; four layers per plot) the script writes a CSV once in a temporary
folder and runs, as users run them (subprocesses, output to a file):

* ``score FILE --chunk-rows N`` (streamed) — wall time, rows/s and peak RSS (and the same
  for ``estimate``, streamed and in memory, printed below the table);
* ``score FILE`` in memory, at sizes up to ``--memory-max`` rows — the streamed/in-memory ratio
  of throughput (target: streaming within 1.5x);
* ``score FILE.parquet --engine dask`` on a 2-worker local cluster (started here, passed
  with ``--scheduler``) at sizes from ``--dask-min`` rows, beside ``score FILE.parquet``
  streamed: the ratio Dask/streaming.

Every figure and ratio is measured in the same run. Peak RSS is that of each command's
process (its ``VmHWM``, Linux); Dask's workers are separate processes, not counted there.

Run by hand: ``python benchmarks/bench_scale.py [--rows 1e5,1e6,1e7]`` (10 M rows take a few
minutes to write and about ten to score on two cores).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_score import with_management  # noqa: E402

CHUNK_ROWS = 250_000


def write_layers(path: Path, n_rows: int, parquet: Path | None = None) -> None:
    """``n_rows`` layer rows (n_rows / 4 plots), written in blocks of plots to bound memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n_plots, block, first = n_rows // 4, 250_000, True
    writer = None
    with open(path, "w") as fh:
        for start in range(0, n_plots, block):
            frame = with_management(min(block, n_plots - start))
            frame["plot_id"] = (frame["plot_id"].astype(int) + start).astype(str)
            frame["farm_id"] = (frame["plot_id"].astype(int) // 50).astype(str)
            frame.to_csv(fh, index=False, header=first)
            if parquet is not None:
                table = pa.Table.from_pandas(frame, preserve_index=False)
                writer = writer or pq.ParquetWriter(parquet, table.schema)
                writer.write_table(table, row_group_size=CHUNK_ROWS)
            first = False
    if writer is not None:
        writer.close()


def timed(args: list[str]) -> tuple[float, float]:
    """Wall time [s] and peak RSS [MiB] of ``fourp1000 ARGS`` (exit 0 expected).

    The peak is the child's own high-water mark (``VmHWM``, polled): ``ru_maxrss`` of a child
    starts from this process's size at the fork, which the generated data inflates.
    """
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "fourp1000", *args])
    peak = 0.0
    while proc.poll() is None:
        peak = max(peak, _hwm_mib(proc.pid))
        time.sleep(0.05)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"fourp1000 {' '.join(args)} failed")
    return wall, peak


def _hwm_mib(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:  # gone between poll() and open()
        pass
    return 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1e5,1e6,1e7", help="layer rows, comma-separated")
    parser.add_argument("--memory-max", type=float, default=2e6, help="largest size also run in memory")
    parser.add_argument("--dask-min", type=float, default=1e6, help="smallest size also run on Dask")
    args = parser.parse_args()
    sizes = [int(float(x)) for x in args.rows.split(",")]
    cluster = _cluster() if any(n >= args.dask_min for n in sizes) else None
    estimates = []
    print(f"{'rows':>12} {'MB':>7} {'streamed s':>10} {'rows/s':>10} {'RSS MiB':>8} {'memory s':>9} "
          f"{'RSS MiB':>8} {'str/mem':>8} {'pq str s':>9} {'dask s':>8} {'dask/str':>9}")
    for n in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            csv, pq_file, out = Path(tmp) / "layers.csv", Path(tmp) / "layers.parquet", Path(tmp) / "farms.csv"
            write_layers(csv, n, pq_file if cluster and n >= args.dask_min else None)
            mb = csv.stat().st_size / 1e6
            t_s, rss_s = timed(["score", str(csv), "-q", "-o", str(out), "--chunk-rows", str(CHUNK_ROWS)])
            t_e, rss_e = timed(["estimate", str(csv), "-q", "-o", str(Path(tmp) / "stocks.csv"),
                                "--chunk-rows", str(CHUNK_ROWS)])
            estimates.append(f"estimate streamed, {n:,} rows: {t_e:.1f} s, {n / t_e:,.0f} rows/s, "
                             f"peak RSS {rss_e:.0f} MiB")
            if n <= args.memory_max:
                t_em, rss_em = timed(["estimate", str(csv), "-q", "-o", str(Path(tmp) / "stocks_mem.csv")])
                same = (Path(tmp) / "stocks_mem.csv").read_bytes() == (Path(tmp) / "stocks.csv").read_bytes()
                estimates[-1] += (f"; in memory {t_em:.1f} s, peak RSS {rss_em:.0f} MiB; streamed/in-memory "
                                  f"{t_e / t_em:.2f}x" + ("" if same else " (DIFFERENT OUTPUT)"))
            line = f"{n:>12,} {mb:>7.0f} {t_s:>10.1f} {n / t_s:>10,.0f} {rss_s:>8.0f}"
            if n <= args.memory_max:
                t_m, rss_m = timed(["score", str(csv), "-q", "-o", str(Path(tmp) / "farms_mem.csv")])
                same = (Path(tmp) / "farms_mem.csv").read_bytes() == out.read_bytes()
                line += f" {t_m:>9.1f} {rss_m:>8.0f} {t_s / t_m:>7.2f}x" + ("" if same else " (DIFFERENT OUTPUT)")
            else:
                line += f" {'-':>9} {'-':>8} {'-':>8}"
            if cluster and n >= args.dask_min:
                t_p, _ = timed(["score", str(pq_file), "-q", "-o", str(out), "--chunk-rows", str(CHUNK_ROWS)])
                t_d, _ = timed(["score", str(pq_file), "-q", "-o", str(Path(tmp) / "farms_dask.csv"),
                                "--engine", "dask", "--scheduler", cluster.scheduler_address,
                                "--chunk-rows", str(CHUNK_ROWS)])
                same = (Path(tmp) / "farms_dask.csv").read_bytes() == out.read_bytes()
                line += f" {t_p:>9.1f} {t_d:>8.1f} {t_d / t_p:>8.2f}x" + ("" if same else " (DIFFERENT OUTPUT)")
            print(line, flush=True)
    if cluster is not None:
        cluster.close()
    print("\n".join(estimates))
    print(f"streamed in parts of {CHUNK_ROWS:,} rows; targets: peak RSS <= 1024 MiB, streamed/in-memory <= 1.5x; "
          "Dask: 2 workers x 1 thread on this machine")


def _cluster():
    try:
        from distributed import LocalCluster
    except ImportError:
        print("(dask not installed: pip install 'fourp1000[dask]' for the Dask column)")
        return None
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None)


if __name__ == "__main__":
    main()
