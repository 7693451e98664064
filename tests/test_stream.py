"""Streaming (``--chunk-rows``): the same bytes out, the same lines on stderr, as in memory.

Every test runs a command twice on the same file, in memory and streamed in parts of a few
rows (so that plots straddle part boundaries), and compares stdout, stderr, the exit code
and the rejects file byte for byte. The files have bad rows, implausible values, blank rows,
an integer column with gaps, rows without a plot id, and (shuffled) plots scattered through
the file, which the engine partitions by plot before computing.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main
from fourp1000.engine.local import open_source, plan
from fourp1000.engine.merge import merge_methods
from fourp1000.engine.sources import parts

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
from bench_score import with_management  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def messy(n_plots: int, *, shuffle: bool = False, seed: int = 0, missing_ids: bool = True) -> pd.DataFrame:
    """Layer rows of ``n_plots`` plots with the problems real files have."""
    f = with_management(n_plots)
    rng = np.random.default_rng(seed)
    f["plot_id"] = "P" + f["plot_id"].astype(str)
    f.loc[rng.random(len(f)) < 0.03, "soc_pct"] = -1  # out of range: row rejected, plot too short
    f.loc[rng.random(len(f)) < 0.01, "bottom_cm"] = np.nan
    f.loc[rng.random(len(f)) < 0.02, "bulk_density_g_cm3"] = 2.9
    f["lab_code"] = rng.integers(0, 100, len(f)).astype(float)  # an integer column with gaps
    f.loc[rng.random(len(f)) < 0.3, "lab_code"] = np.nan
    f["note"] = np.where(rng.random(len(f)) < 0.02, "re-run, lab B", "")  # quoted cells
    if missing_ids:
        f.loc[rng.random(len(f)) < 0.01, "plot_id"] = None
    return f.sample(frac=1, random_state=seed) if shuffle else f


def run(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def both(args: list[str], tmp_path: Path, chunk_rows: int = 23) -> tuple[tuple, tuple]:
    """The command in memory and streamed; rejects files (``REJECTS`` in ``args``) read back too."""
    out = []
    for name, extra in (("memory", []), ("stream", ["--chunk-rows", str(chunk_rows)])):
        rejects = tmp_path / f"rejects_{name}.csv"
        code, stdout, stderr = run([str(rejects) if a == "REJECTS" else a for a in args] + extra)
        out.append((code, stdout, stderr, rejects.read_bytes() if rejects.exists() else None))
    return out[0], out[1]


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("stream")
    paths = {}
    for name, frame in (("ordered", messy(120, missing_ids=False)), ("shuffled", messy(120, shuffle=True)),
                        ("gaps", messy(120))):
        paths[name] = folder / f"{name}.csv"
        text = frame.to_csv(index=False, float_format="%g")
        lines = text.splitlines(keepends=True)
        lines.insert(41, "," * (frame.shape[1] - 1) + "\n")  # a blank row between two plots
        paths[name].write_text("".join(lines))
    climate = pd.read_csv(EXAMPLES / "climate.csv")
    extra = climate[climate["climate_id"] == "warm_temperate_dry"].assign(climate_id="warm_temperate_moist")
    paths["climate"] = folder / "climate.csv"  # every zone of the plots, so that no plot is refused
    pd.concat([climate, extra]).to_csv(paths["climate"], index=False)
    frame = messy(120, missing_ids=False)
    paths["parquet"] = folder / "plots.parquet"
    frame.to_parquet(paths["parquet"], row_group_size=50)
    paths["jsonl"] = folder / "plots.jsonl"
    paths["jsonl"].write_text(frame.to_json(orient="records", lines=True))
    return paths


def test_layout_knows_contiguous_and_scattered_plots(files):
    ordered = plan(open_source(str(files["ordered"])), None)
    scattered = plan(open_source(str(files["shuffled"])), None)
    assert ordered.contiguous and not scattered.contiguous
    assert ordered.n_rows == 481 and scattered.n_rows == 481  # 480 layers and a blank row
    assert "lab_code" in ordered.float_columns  # integers with a gap: floats, as a whole-file read gives


@pytest.mark.parametrize("name", ["ordered", "shuffled"])
def test_parts_hold_whole_plots(files, name):
    layout = plan(open_source(str(files[name])), None)
    seen: dict[str, int] = {}
    total = 0
    for i, part in enumerate(parts(layout, 23)):
        ids = part.table.column("plot_id").to_pandas().dropna().unique()
        for plot in ids:
            assert seen.setdefault(plot, i) == i, f"plot {plot} in two parts"
        assert np.all(np.diff(part.positions) > 0)  # rows of a part in file order
        total += part.table.num_rows
    assert total == layout.n_rows and len(seen) == 120


@pytest.mark.parametrize("name", ["ordered", "shuffled", "gaps", "parquet", "jsonl"])
@pytest.mark.parametrize("options", [["--on-error", "skip", "--rejects", "REJECTS"], []])
def test_estimate_streamed_is_identical(files, tmp_path, name, options):
    memory, streamed = both(["estimate", str(files[name]), "-f", "csv", *options], tmp_path)
    assert memory[0] == (0 if options else 1)
    assert streamed == memory


@pytest.mark.parametrize("fmt", ["jsonl", "parquet"])
def test_estimate_streamed_formats(files, tmp_path, fmt):
    outputs = []
    for extra in ([], ["--chunk-rows", "31"]):
        out = tmp_path / f"out{len(outputs)}.{fmt}"
        code, _, _ = run(["estimate", str(files["shuffled"]), "--on-error", "skip", "-o", str(out), *extra])
        assert code == 0
        outputs.append(out)
    if fmt == "jsonl":
        assert outputs[0].read_bytes() == outputs[1].read_bytes()
    else:  # the same table (a file written in parts has other row groups)
        pd.testing.assert_frame_equal(pd.read_parquet(outputs[0]), pd.read_parquet(outputs[1]))


@pytest.mark.parametrize("command", ["project", "score"])
@pytest.mark.parametrize("options", [
    ["--on-error", "skip", "--rejects", "REJECTS", "-v"],
    ["--on-error", "skip", "--sampling", "all"],
    ["--on-error", "skip", "--model", "ipcc,rothc", "--climate", "CLIMATE", "--check"],
    [],
])
def test_projection_streamed_is_identical(files, tmp_path, command, options):
    options = [str(files["climate"]) if o == "CLIMATE" else o for o in options]
    memory, streamed = both([command, str(files["shuffled"]), "-f", "csv", *options], tmp_path)
    assert streamed == memory


def test_refused_plots_streamed_give_the_same_results(files, tmp_path):
    """Plots in a zone the climate table lacks are rejected in both runs; the results are the same
    (the message that counts the plots concerned counts them in its part: docs/scale.md)."""
    args = ["project", str(files["shuffled"]), "-f", "csv", "--on-error", "skip", "--model", "rothc",
            "--climate", str(EXAMPLES / "climate.csv")]
    memory, streamed = both(args, tmp_path)
    assert streamed[:2] == memory[:2]
    assert streamed[2].splitlines()[-1] == memory[2].splitlines()[-1]


def test_farm_summary_streamed(files, tmp_path):
    farms = [tmp_path / "farms_memory.csv", tmp_path / "farms_stream.csv"]
    for path, extra in zip(farms, ([], ["--chunk-rows", "17"])):
        code, _, _ = run(["estimate", str(files["shuffled"]), "--on-error", "skip", "--farm-summary", str(path),
                          "-o", str(tmp_path / "plots.csv"), *extra])
        assert code == 0
    assert farms[0].read_bytes() == farms[1].read_bytes()
    assert len(pd.read_csv(farms[0])) > 1


def test_examples_streamed_with_rows_and_parts_of_one_plot(tmp_path):
    memory, streamed = both(["estimate", str(EXAMPLES / "plots.csv"), "-f", "csv"], tmp_path, chunk_rows=1)
    assert streamed == memory and memory[0] == 0


def test_whole_result_formats_are_read_whole_and_say_so(files):
    code, stdout, stderr = run(["estimate", str(files["ordered"]), "-f", "json", "--on-error", "skip",
                                "--chunk-rows", "10"])
    assert code == 0 and stdout.startswith("{")
    assert f"Note: {files['ordered']} is read whole: -f json needs the whole result" in stderr


def test_glob_of_files_is_streamed(files, tmp_path):
    frame = messy(60, missing_ids=False)
    for i, part in enumerate(np.array_split(np.arange(60), 3)):
        frame[frame["plot_id"].isin([f"P{p}" for p in part])].to_csv(tmp_path / f"part-{i}.csv", index=False)
    frame.to_csv(tmp_path / "whole.csv", index=False)
    _, whole, _ = run(["estimate", str(tmp_path / "whole.csv"), "-f", "csv", "--on-error", "skip", "-q"])
    code, globbed, _ = run(["estimate", str(tmp_path / "part-*.csv"), "-f", "csv", "--on-error", "skip", "-q"])
    assert code == 0 and globbed == whole
    code, _, stderr = run(["estimate", str(tmp_path / "part-*.csv"), "-f", "json"])
    assert code == 2 and "names several files, which are streamed" in stderr


def test_merge_methods_sums_counts_and_unites_names():
    parts_methods = [["SOC stock ...", "bulk density estimated for 3 layers with a (--bd-ptf auto)"],
                     ["SOC stock ...", "bulk density of 2 layers taken from bulk-density-only rows overlapping them",
                      "bulk density estimated for 4 layers with a, b (--bd-ptf auto)"]]
    assert merge_methods(parts_methods) == [
        "SOC stock ...", "bulk density of 2 layers taken from bulk-density-only rows overlapping them",
        "bulk density estimated for 7 layers with a, b (--bd-ptf auto)"]


def test_column_types_of_the_whole_file(tmp_path, monkeypatch):
    """A column whose later blocks do not fit its first block's type is typed as a whole-file read
    types it: rejected rows show every cell as the in-memory run shows it."""
    import fourp1000.engine.sources as sources

    monkeypatch.setattr(sources, "BLOCK_BYTES", 4096)  # many blocks in a small file
    frame = messy(200, missing_ids=False, seed=3)
    frame["lab_code"] = np.arange(len(frame)).astype(object)
    frame.loc[700:, "lab_code"] = "see note"  # integers, then text
    frame["depth_code"] = np.nan
    frame.loc[650:, "depth_code"] = 1.5  # empty, then numbers
    path = tmp_path / "typed.csv"
    frame.to_csv(path, index=False)
    layout = plan(open_source(str(path)), None)
    assert str(layout.schema.field("lab_code").type) == "string"
    assert str(layout.schema.field("depth_code").type) == "double"
    memory, streamed = both(["estimate", str(path), "-f", "csv", "--on-error", "skip", "--rejects", "REJECTS"],
                            tmp_path, chunk_rows=100)
    assert streamed == memory and memory[3].count(b"see note") > 0


def test_parquet_output_to_a_binary_stdout_reads_back():
    import io

    result = CliRunner().invoke(main, ["estimate", str(EXAMPLES / "plots.csv"), "-f", "parquet", "-q"])
    assert result.exit_code == 0
    plots = pd.read_parquet(io.BytesIO(result.stdout_bytes))
    assert len(plots) == 10 and "soc_stock_t_ha" in plots


def test_second_pass_reads_the_first_pass_batches_back(tmp_path, monkeypatch):
    """The text is parsed once: the parts come from the first pass's cache, the same records."""
    import fourp1000.engine.sources as sources

    monkeypatch.setattr(sources, "BLOCK_BYTES", 4096)
    path = tmp_path / "plots.csv"
    messy(150, seed=4).to_csv(path, index=False)
    layout = plan(open_source(str(path)), None)
    assert layout.cache is not None
    parsed = []
    real = sources._batches
    monkeypatch.setattr(sources, "_batches", lambda *a: parsed.append(a) or real(*a))
    cached = pa_concat(parts(layout, 100))
    assert parsed == []  # nothing parsed again
    layout.cache = None  # as when the cache was dropped: the text is parsed again
    reparsed = pa_concat(parts(layout, 100))
    assert parsed and cached.equals(reparsed) and cached.num_rows == 600


def test_a_cache_that_cannot_be_written_is_dropped(tmp_path, monkeypatch):
    """No space left for the cache: the run parses the text twice, with the same result."""
    import pyarrow as pa

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pa.ipc, "new_stream", full)
    path = tmp_path / "plots.csv"
    messy(60, seed=5).to_csv(path, index=False)
    assert plan(open_source(str(path)), None).cache is None
    memory, streamed = both(["estimate", str(path), "-f", "csv", "--on-error", "skip", "--rejects", "REJECTS"],
                            tmp_path)
    assert streamed == memory


def test_read_ahead_hands_on_items_and_errors_in_order():
    from fourp1000.engine.sources import read_ahead

    assert list(read_ahead(iter(range(50)), depth=2)) == list(range(50))

    def failing():
        yield 1
        raise ValueError("bad block")

    got = []
    with pytest.raises(ValueError, match="bad block"):
        for item in read_ahead(failing()):
            got.append(item)
    assert got == [1]
    endless = read_ahead(iter(range(10**9)))
    assert next(endless) == 0
    endless.close()  # stops the thread (else this test would not end)


def pa_concat(found) -> "pa.Table":
    import pyarrow as pa

    return pa.concat_tables([p.table for p in found]).combine_chunks()


def test_header_of_a_file_whose_first_rows_are_longer_than_a_small_block(tmp_path):
    from fourp1000.engine.sources import header

    names = [f"lab_column_with_a_long_name_{i:05d}" for i in range(3000)]  # a header of ~100 kB
    path = tmp_path / "wide.csv"
    path.write_text(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    assert header(open_source(str(path))) == names
