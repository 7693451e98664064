"""``compare`` streamed (``--chunk-rows``): the same bytes out, the same lines on stderr, as in memory.

Each test runs ``compare`` on one monitoring file (every sampling of each plot in it) in
memory and streamed in parts of a few rows, and compares stdout, stderr, the exit code,
the rejects file and the cores file byte for byte. The files have replicate cores, plots
sampled once, dates of one campaign, bad rows, layers without bulk density (PTF), rows
below the comparison depth, rows without a plot id, a blank row and, shuffled, plots
scattered through the file. Replicate cores with a bootstrap, and two files, are read
whole, with a note.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_stream import EXAMPLES, run

from fourp1000.engine.local import open_source, plan
from fourp1000.engine.sources import parts


def monitoring(n_plots: int, *, cores: int = 3, shuffle: bool = False, seed: int = 0) -> pd.DataFrame:
    """Layer rows of ``n_plots`` plots, two or three samplings each, with the problems real files have."""
    rng = np.random.default_rng(seed)
    tops, bottoms = np.array([0, 10, 30, 60]), np.array([10, 30, 60, 100])
    dates = np.array(["2015-04-02", "2020-04-20", "2020-06-01", "2025-04-11"])
    rows = []
    for p in range(n_plots):
        level = rng.uniform(0.8, 2.5)
        samplings = dates[[0, 1, 3]] if p % 3 else dates[[0, 3]]
        if p % 11 == 5:
            samplings = dates[[1, 2, 3]]  # two dates of one campaign
        if p % 13 == 7:
            samplings = dates[[1]]  # sampled once: no verdict
        for s, date in enumerate(samplings):
            for core in range(1, cores + 1):
                soc = level * np.array([1.0, 0.7, 0.45, 0.3]) * (1 + 0.01 * s) * rng.uniform(0.95, 1.05, 4)
                for k in range(4):
                    rows.append((f"farm-{p % 4}", f"P{p:03d}", 2.0 + p % 5, core, date, tops[k], bottoms[k],
                                 round(float(soc[k]), 3), round(float(rng.uniform(1.15, 1.55)), 3),
                                 round(float(rng.uniform(10, 40)), 1)))
    f = pd.DataFrame(rows, columns=["farm_id", "plot_id", "area_ha", "core_id", "sampled_on", "top_cm", "bottom_cm",
                                    "soc_pct", "bulk_density_g_cm3", "clay_pct"])
    f.loc[rng.random(len(f)) < 0.03, "soc_pct"] = -1  # out of range: row rejected, core left out
    f.loc[rng.random(len(f)) < 0.05, "bulk_density_g_cm3"] = np.nan  # filled by a PTF
    deep = f["top_cm"].to_numpy() == 60
    f.loc[deep & (rng.random(len(f)) < 0.3), "soc_pct"] = np.nan  # below the depth: not needed
    f.loc[rng.random(len(f)) < 0.005, "plot_id"] = None
    f.loc[f["plot_id"] == "P004", "soc_pct"] = -1  # every row of a plot rejected
    return f.sample(frac=1, random_state=seed) if shuffle else f


def write(frame: pd.DataFrame, path: Path) -> Path:
    lines = frame.to_csv(index=False, float_format="%g").splitlines(keepends=True)
    lines.insert(30, "," * (frame.shape[1] - 1) + "\n")  # a blank row
    path.write_text("".join(lines))
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("compare_stream")
    one_core = monitoring(24, cores=1, seed=2).drop(columns="core_id")
    labelled = monitoring(12, cores=1, seed=4).drop(columns="core_id")
    labelled["sampled_on"] = labelled["sampled_on"].map({"2015-04-02": "before", "2020-04-20": "middle",
                                                         "2020-06-01": "middle", "2025-04-11": "after"})
    return {"ordered": write(monitoring(24), folder / "ordered.csv"),
            "shuffled": write(monitoring(24, shuffle=True, seed=1), folder / "shuffled.csv"),
            "one_core": write(one_core.sample(frac=1, random_state=3), folder / "one_core.csv"),
            "labelled": write(labelled, folder / "labelled.csv")}


def both(args: list[str], tmp_path: Path, chunk_rows: int = 100) -> tuple[tuple, tuple]:
    """``compare`` in memory and streamed: exit code, stdout, stderr, rejects and cores files."""
    out = []
    for name, extra in (("memory", []), ("stream", ["--chunk-rows", str(chunk_rows)])):
        paths = {"REJECTS": tmp_path / f"rejects_{name}.csv", "CORES": tmp_path / f"cores_{name}.csv"}
        code, stdout, stderr = run(["compare"] + [str(paths.get(a, a)) for a in args] + extra)
        out.append((code, stdout, stderr) + tuple(p.read_bytes() if p.exists() else None for p in paths.values()))
    return out[0], out[1]


def test_parts_cut_plots_apart_nowhere(files):
    source = open_source(str(files["shuffled"]))
    layout = plan(source, None)
    assert not layout.contiguous
    seen: dict[str, int] = {}
    for i, part in enumerate(parts(layout, 100, None)):
        for plot in set(part.table.column("plot_id").to_pylist()) - {None}:
            assert seen.setdefault(plot, i) == i
    assert len(seen) == 24


@pytest.mark.parametrize("name, options", [
    ("ordered", ["--bootstrap", "0", "--on-error", "skip", "--rejects", "REJECTS", "--cores", "CORES", "--check"]),
    ("shuffled", ["--bootstrap", "0", "--on-error", "skip", "--rejects", "REJECTS", "--cores", "CORES", "--check"]),
    ("shuffled", ["--bootstrap", "0", "--on-error", "skip", "--depth", "10,30,50", "--esm-method", "linear", "-v",
                  "--baseline-sampling", "2020-04-20", "--cores", "CORES"]),
    ("shuffled", ["--bootstrap", "0"]),  # --on-error fail: every problem listed, exit 1
])
def test_compare_streamed_is_identical(files, tmp_path, name, options):
    memory, streamed = both([str(files[name]), "-f", "csv"] + options, tmp_path)
    assert streamed == memory
    assert memory[0] in (0, 1, 3) and memory[2]


def test_several_parts_and_every_outcome_are_exercised(files, tmp_path):
    """The files hold what the tests are meant to compare: rejects, PTF, campaigns, no verdict, not needed."""
    code, _, stderr = run(["compare", str(files["shuffled"]), "--bootstrap", "0", "--on-error", "skip", "-f", "csv",
                           "--chunk-rows", "100", "-v"])
    assert code == 0
    for text in ("rejected", "bulk density estimated for", "less than half a year apart", "one sampling only",
                 "every row rejected", "not needed", "blank row"):
        assert text in stderr, text


def test_bootstrap_without_replicate_cores_streams(files, tmp_path):
    memory, streamed = both([str(files["one_core"]), "-f", "jsonl", "--on-error", "skip", "--check"], tmp_path)
    assert streamed == memory
    assert "read whole" not in streamed[2]


def test_labelled_samplings_streamed(files, tmp_path):
    memory, streamed = both([str(files["labelled"]), "-f", "csv", "--on-error", "skip", "--years", "5"], tmp_path,
                            chunk_rows=30)
    assert streamed == memory
    assert "are labels, not dates" in memory[2]


def test_parquet_output_streamed_reads_back_the_same(files, tmp_path):
    args = ["compare", str(files["shuffled"]), "--bootstrap", "0", "--on-error", "skip", "-f", "parquet"]
    run(args + ["-o", str(tmp_path / "memory.parquet")])
    run(args + ["-o", str(tmp_path / "stream.parquet"), "--chunk-rows", "100"])
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "stream.parquet"),
                                  pd.read_parquet(tmp_path / "memory.parquet"))


def test_examples_streamed(tmp_path):
    memory, streamed = both([str(EXAMPLES / "campaigns.csv"), "--bootstrap", "0", "-f", "csv"], tmp_path,
                            chunk_rows=5)
    assert streamed == memory and memory[0] == 0


@pytest.mark.parametrize("args, note", [
    ([], "the bootstrap over replicate cores"),
    (["--bootstrap", "0", "--cores", "CORES.xlsx"], "--cores"),
    (["--bootstrap", "0", "-f", "json"], "-f json needs the whole result"),
    (["CAMPAIGNS", "--years", "5"], "compare FILE FILE2 reads both files whole"),
])
def test_read_whole_cases_say_so(tmp_path, args, note):
    campaigns = str(EXAMPLES / "campaigns.csv")
    args = [campaigns if a == "CAMPAIGNS" else str(tmp_path / a) if a.startswith("CORES") else a for a in args]
    _, stdout, stderr = run(["compare", campaigns, "--chunk-rows", "5", "-f", "csv"] + args)
    _, memory_out, memory_err = run(["compare", campaigns, "-f", "csv"] + args)
    assert stdout == memory_out
    assert f"Note: {note}" in stderr or f"is read whole: {note}" in stderr
    assert stderr.replace(next(line for line in stderr.splitlines(True) if note in line), "") == memory_err


def test_folder_with_replicate_cores_and_bootstrap_is_a_usage_error(tmp_path):
    (tmp_path / "in").mkdir()
    pd.read_csv(EXAMPLES / "campaigns.csv").to_parquet(tmp_path / "in" / "part-0.parquet")
    code, _, stderr = run(["compare", str(tmp_path / "in"), "-f", "csv"])
    assert code == 2 and "--bootstrap 0 streams" in stderr


@pytest.mark.parametrize("suffix", ["parquet", "jsonl"])
def test_parquet_and_json_lines_inputs_streamed(tmp_path, suffix):
    frame = monitoring(12, shuffle=True, seed=6)
    path = tmp_path / f"monitoring.{suffix}"
    if suffix == "parquet":
        frame.to_parquet(path, row_group_size=50)
    else:
        frame.to_json(path, orient="records", lines=True)
    memory, streamed = both([str(path), "-f", "csv", "--bootstrap", "0", "--on-error", "skip", "--rejects", "REJECTS"],
                            tmp_path, chunk_rows=80)
    assert streamed == memory and memory[0] == 0


def test_replicate_cores_found_through_the_column_map(tmp_path):
    """``core_id`` under another name, mapped by --columns: read whole with the bootstrap too."""
    text = (EXAMPLES / "campaigns.csv").read_text().replace("core_id", "rep_no", 1)
    (tmp_path / "campaigns.csv").write_text(text)
    (tmp_path / "columns.yaml").write_text("rep_no: core_id\n")
    code, _, stderr = run(["compare", str(tmp_path / "campaigns.csv"), "--columns", str(tmp_path / "columns.yaml"),
                           "--chunk-rows", "5", "-f", "csv"])
    assert code == 0 and "is read whole: the bootstrap over replicate cores" in stderr


def test_merge_of_compare_method_lines():
    from fourp1000.engine.merge import merge_methods

    ptf = "bulk density estimated for {} layers with {} (--bd-ptf auto): their soil masses are estimates"
    below = "{} rows below the comparison depth (30 cm) not needed: cores end there"
    merged = merge_methods([[below.format(3)], [ptf.format(2, "a"), below.format(4)], [ptf.format(5, "b, c")]])
    assert merged == [ptf.format(7, "a, b, c"), below.format(7)]  # the order of each part's lines kept


def test_header_only_file_is_worded_as_in_memory(tmp_path):
    path = tmp_path / "header.csv"
    path.write_text((EXAMPLES / "campaigns.csv").read_text().splitlines()[0] + "\n")
    memory, streamed = both([str(path), "-f", "csv", "--bootstrap", "0"], tmp_path, chunk_rows=5)
    assert streamed == memory and "no data rows (header only)" in memory[2]
