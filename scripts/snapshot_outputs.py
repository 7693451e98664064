"""Record every command's output, then compare two recordings byte for byte.

A refactor proves itself by leaving results unchanged. This script runs a fixed list of
command lines (on ``examples/`` and on data made by the benchmark generators at a small
size) as subprocesses and stores, per command line, its stdout, stderr, exit code and every
file it writes.

Usage::

    python scripts/snapshot_outputs.py record DIR     # before the change
    python scripts/snapshot_outputs.py record DIR2    # after the change
    python scripts/snapshot_outputs.py compare DIR DIR2

``compare`` prints each differing output and exits 1 when any differs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EX = ROOT / "examples"
REF = (ROOT.parent / "shared" / "reference").resolve()  # one path for every checkout (../shared may be a link)
sys.path.insert(0, str(ROOT / "benchmarks"))


def make_data(data: Path) -> None:
    """Benchmark-generator data at a size that runs in seconds."""
    from bench_compare import make_campaigns
    from bench_estimate import make_plots
    from bench_score import with_management
    from bench_uncertainty import make_scored_plots

    data.mkdir(parents=True, exist_ok=True)
    make_plots(3000).to_csv(data / "bench_plots.csv", index=False)
    with_management(3000).to_csv(data / "bench_managed.csv", index=False)
    make_scored_plots(1000).to_csv(data / "bench_scored.csv", index=False)
    make_campaigns(1000).to_csv(data / "bench_campaigns.csv", index=False)
    managed = with_management(300)
    managed["climate_zone"] = "cool_temperate_moist"
    managed.to_csv(data / "bench_rothc.csv", index=False)


def command_lines(data: Path) -> dict[str, list[str]]:
    """Name -> argument list (after ``fourp1000``). ``OUT`` is replaced by an output folder."""
    plots, farm, eu = str(EX / "plots.csv"), str(EX / "farm.yaml"), str(EX / "plots_eu.csv")
    camp, clim = str(EX / "campaigns.csv"), str(EX / "climate.csv")
    isric = str(EX / "columns_isric.yaml")
    d = {k: str(data / f"{k}.csv") for k in ("bench_plots", "bench_managed", "bench_scored",
                                            "bench_campaigns", "bench_rothc")}
    fmts = ["csv", "json", "jsonl", "table"]
    c: dict[str, list[str]] = {
        "version": ["--version"], "help": ["--help"],
        "schema": ["schema", "-f", "csv"], "schema_json": ["schema", "-f", "json"],
        "template": ["template"], "template_yaml": ["template", "-f", "yaml"],
        "template_all": ["template", "--all-columns"],
        "practices": ["practices", "-f", "csv"], "practices_2006": ["practices", "--ipcc-version", "2006", "-f", "json"],
        "practices_zone": ["practices", "--climate-zone", "tropical_moist", "-f", "csv"],
    }
    for name in ("estimate", "project", "score", "compare", "report", "rothc", "practices", "schema", "template"):
        c[f"help_{name}"] = [name, "--help"]
    for f in fmts:
        c[f"estimate_{f}"] = ["estimate", plots, "-f", f]
        c[f"project_{f}"] = ["project", plots, "-f", f]
        c[f"score_{f}"] = ["score", plots, "-f", f]
        c[f"compare_{f}"] = ["compare", camp, "-f", f]
    c.update({
        "estimate_xlsx": ["estimate", plots, "-o", "OUT/est.xlsx"],
        "estimate_v": ["estimate", plots, "-v", "-f", "csv"],
        "estimate_farm": ["estimate", farm, "-f", "csv", "--farm-summary", "OUT/farms.csv"],
        "estimate_eu": ["estimate", eu, "-f", "csv", "-v"],
        "estimate_spline": ["estimate", plots, "--depth", "0-40", "--depth-method", "spline", "--extrapolate", "-f", "json"],
        "estimate_extrap": ["estimate", plots, "--depth", "0-100", "--extrapolate", "-f", "csv"],
        "estimate_depth60": ["estimate", plots, "--depth", "60", "--on-error", "skip", "--rejects", "OUT/rej.csv", "-f", "csv"],
        "estimate_ptf": ["estimate", plots, "--bd-ptf", "hollis_2012", "-f", "csv"],
        "estimate_basis": ["estimate", plots, "--bd-basis", "whole_soil", "-f", "csv"],
        "estimate_unc": ["estimate", plots, "--uncertainty", "--draws", "200", "-f", "csv"],
        "estimate_unc_farm": ["estimate", farm, "--uncertainty", "--draws", "200", "-f", "json"],
        "project_traj": ["project", plots, "--trajectory", "-f", "csv"],
        "project_cc": ["project", plots, "--practice", "cover_crops", "--years", "30", "-f", "csv", "--on-error", "skip"],
        "project_2006": ["project", plots, "--ipcc-version", "2006", "-f", "csv"],
        "project_rates": ["project", plots, "--method", "rates", "-f", "csv"],
        "project_rates_years": ["project", plots, "--method", "rates", "--rate-years", "10", "-f", "csv"],
        "project_rothc": ["project", plots, "--model", "rothc", "--climate", clim, "-f", "csv"],
        "project_both": ["project", plots, "--model", "ipcc,rothc", "--climate", clim, "-f", "json"],
        "project_rothc_traj": ["project", plots, "--model", "rothc", "--climate", clim, "--trajectory", "-f", "csv"],
        "project_depth40": ["project", plots, "--depth", "0-40", "--extrapolate", "-f", "csv"],
        "project_unc": ["project", plots, "--uncertainty", "--draws", "200", "-f", "csv"],
        "project_unc_rothc": ["project", plots, "--model", "rothc", "--climate", clim, "--uncertainty", "--draws", "100", "-f", "csv"],
        "project_farm": ["project", farm, "-f", "csv"],
        "project_check": ["project", plots, "--check", "-f", "csv"],
        "score_farm": ["score", farm, "-f", "json"],
        "score_unc": ["score", farm, "--uncertainty", "-f", "json"],
        "score_unc_check": ["score", plots, "--uncertainty", "--draws", "300", "--check", "-f", "csv"],
        "score_rothc": ["score", plots, "--model", "ipcc,rothc", "--climate", clim, "-f", "csv"],
        "score_rates": ["score", plots, "--method", "rates", "-f", "csv"],
        "compare_linear": ["compare", camp, "--esm-method", "linear", "-f", "csv", "--cores", "OUT/cores.csv"],
        "compare_all_methods": ["compare", camp, "--depth", "10,30", "--esm-method", "ellert_bettany", "-f", "csv"],
        "compare_fowler": ["compare", camp, "--esm-method", "fowler", "-f", "csv"],
        "compare_elem": ["compare", camp, "--esm-method", "elementary_layers", "--mass-basis", "total", "-f", "csv"],
        "compare_fd": ["compare", camp, "--esm-method", "fixed_depth", "-f", "csv"],
        "compare_boot": ["compare", camp, "--bootstrap", "200", "--seed", "3", "--check", "-f", "json"],
        "compare_min": ["compare", camp, "--reference", "minimum", "-f", "csv"],
        "report": ["report", plots, "-o", "OUT/report.html"],
        "report_farm": ["report", farm, "-o", "-"],
        "report_unc": ["report", farm, "--uncertainty", "--draws", "200", "-o", "OUT/report.html"],
        "report_cc": ["report", plots, "--practice", "cover_crops", "--years", "30", "--on-error", "skip", "-o", "OUT/report.html"],
        # bad input
        "bad_missing": ["estimate", "nonexistent.csv"],
        "bad_practice": ["project", plots, "--practice", "bogus"],
        "bad_depth": ["estimate", plots, "--depth", "abc"],
        "bad_rothc_noclimate": ["project", plots, "--model", "rothc"],
        "bad_model": ["project", plots, "--model", "century"],
        # benchmark-generator data
        "bench_estimate": ["estimate", d["bench_plots"], "-o", "OUT/est.csv"],
        "bench_estimate_spline": ["estimate", d["bench_plots"], "--depth-method", "spline", "-o", "OUT/est.csv"],
        "bench_estimate_farm": ["estimate", d["bench_plots"], "--farm-summary", "OUT/farm.csv", "-o", "OUT/est.csv"],
        "bench_score": ["score", d["bench_managed"], "-o", "OUT/score.csv"],
        "bench_project": ["project", d["bench_managed"], "-o", "OUT/project.csv"],
        "bench_score_unc": ["score", d["bench_scored"], "--uncertainty", "--draws", "200", "-o", "OUT/score.csv"],
        "bench_project_unc": ["project", d["bench_scored"], "--uncertainty", "--draws", "100", "-o", "OUT/p.csv"],
        "bench_compare": ["compare", d["bench_campaigns"], "-o", "OUT/cmp.csv"],
        "bench_compare_boot0": ["compare", d["bench_campaigns"], "--bootstrap", "0", "-o", "OUT/cmp.csv"],
        "bench_rothc": ["project", d["bench_rothc"], "--model", "rothc", "--climate", clim, "-o", "OUT/r.csv"],
        "bench_report": ["report", d["bench_scored"], "-o", "OUT/report.html"],
    })
    if (REF / "rothc").is_dir():
        for sub in sorted(p for p in (REF / "rothc").iterdir() if (p / "RothC_input.dat").exists()):
            inp = str(sub / "RothC_input.dat")
            c[f"rothc_{sub.name}"] = ["rothc", inp, "-f", "csv"]
            c[f"rothc_{sub.name}_monthly"] = ["rothc", inp, "--monthly", "-f", "csv"]
            c[f"rothc_{sub.name}_ref"] = ["rothc", inp, "--spinup", "reference", "-f", "csv"]
    isis = REF / "profiles" / "isis" / "isis_horizons.csv"
    if isis.exists():
        c["isis"] = ["estimate", str(isis), "--columns", isric, "--on-error", "skip", "--rejects", "OUT/rej.csv", "-f", "csv"]
        mapped = REF / "profiles" / "isis" / "isis_mapped.csv"
        c["isis_mapped"] = ["estimate", str(mapped), "--on-error", "skip", "--rejects", "OUT/rej.csv", "-f", "csv"]
        c["isis_strict"] = ["estimate", str(mapped)]
    for name, path in (("vonhaden_a", "esm/vonhaden2020/Example_datasets__a_temporal_paired.csv"),):
        if (REF / path).exists():
            c[name] = ["compare", str(REF / path), "--on-error", "skip", "-f", "csv"]
    return c


def run_one(name: str, args: list[str], dest: Path) -> None:
    out = dest / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    work = out / "files"
    work.mkdir()
    args = [a.replace("OUT/", str(work) + "/") for a in args]
    env = dict(os.environ, SOURCE_DATE_EPOCH="1700000000", COLUMNS="120", PYTHONHASHSEED="0")
    proc = subprocess.run([sys.executable, "-m", "fourp1000", *args], capture_output=True,
                          env=env, cwd=ROOT, timeout=600)
    (out / "stdout").write_bytes(proc.stdout)
    (out / "stderr").write_bytes(proc.stderr.replace(str(work).encode(), b"OUT"))
    (out / "exit").write_text(str(proc.returncode))


def record(dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    (dest / "_root").write_text(str(ROOT))  # masked when comparing recordings of two checkouts
    data = dest / "_data"
    make_data(data)
    lines = command_lines(data)
    # data paths vary with DEST; record them relative so two recordings compare
    (dest / "commands.json").write_text(json.dumps(
        {k: [a.replace(str(dest), "DEST") for a in v] for k, v in lines.items()}, indent=1))
    with ThreadPoolExecutor(max_workers=2) as pool:
        for _ in pool.map(lambda kv: run_one(kv[0], kv[1], dest), lines.items()):
            pass
    print(f"recorded {len(lines)} command lines in {dest}")


def _content(path: Path, root: Path) -> bytes | None:
    """File bytes with the recording's folder masked; xlsx compared by members, less timestamps."""
    if not path.exists():
        return None
    if path.suffix == ".xlsx":
        import zipfile

        with zipfile.ZipFile(path) as z:
            return b"".join(n.encode() + z.read(n) for n in sorted(z.namelist()) if n != "docProps/core.xml")
    checkout = (root / "_root").read_text() if (root / "_root").exists() else str(ROOT)
    return path.read_bytes().replace(str(root).encode(), b"DEST").replace(checkout.encode(), b"ROOT")


def compare(a: Path, b: Path) -> int:
    names = sorted(p.name for p in a.iterdir() if p.is_dir() and not p.name.startswith("_"))
    differ, files = [], 0
    for name in names:
        for fa in sorted(p for p in (a / name).rglob("*") if p.is_file()):
            fb = b / fa.relative_to(a)
            files += 1
            if _content(fa, a) != _content(fb, b):
                differ.append(str(fa.relative_to(a)))
    for d in differ:
        print("DIFFERS:", d)
    print(f"{len(names)} command lines, {files} outputs compared, {len(differ)} differ")
    return 1 if differ else 0


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "record":
        record(Path(sys.argv[2]).resolve())
    elif len(sys.argv) == 4 and sys.argv[1] == "compare":
        sys.exit(compare(Path(sys.argv[2]).resolve(), Path(sys.argv[3]).resolve()))
    else:
        sys.exit(__doc__)
