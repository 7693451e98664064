"""``--engine dask`` on a 2-worker local cluster gives what the pandas engine gives.

Skipped where Dask is not installed (``pip install 'fourp1000[dask]'``); the ``test`` extra
installs it, so CI runs these. One cluster serves every test of the module.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")

from test_stream import messy  # noqa: E402


@pytest.fixture(scope="module")
def scheduler():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield cluster.scheduler_address


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> dict[str, Path]:
    """The same layers as one CSV, as a CSV glob of three files (plots across them) and a Parquet dataset."""
    folder = tmp_path_factory.mktemp("dask")
    frame = messy(90, shuffle=True, missing_ids=False)
    frame.to_csv(folder / "whole.csv", index=False)
    parts = np.array_split(np.arange(len(frame)), 3)
    (folder / "csv").mkdir()
    (folder / "pq").mkdir()
    for i, rows in enumerate(parts):  # rows in file order: a plot's layers are spread over the files
        frame.iloc[rows].to_csv(folder / "csv" / f"part-{i}.csv", index=False)
        frame.iloc[rows].to_parquet(folder / "pq" / f"part-{i}.parquet", row_group_size=40)
    return {"whole": folder / "whole.csv", "glob": folder / "csv" / "part-*.csv", "dataset": folder / "pq"}


def run(args):
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("command", ["estimate", "score", "project"])
@pytest.mark.parametrize("source", ["glob", "dataset"])
def test_dask_equals_pandas_engine(dataset, scheduler, tmp_path, command, source):
    args = [command, str(dataset[source]), "-f", "csv", "--on-error", "skip"]
    pandas_run = run(args + ["--rejects", str(tmp_path / "r_pandas.csv")])
    dask_run = run(args + ["--engine", "dask", "--scheduler", scheduler, "--chunk-rows", "50",
                           "--rejects", str(tmp_path / "r_dask.csv")])
    assert pandas_run.exit_code == dask_run.exit_code == 0
    assert dask_run.stdout == pandas_run.stdout
    assert (tmp_path / "r_dask.csv").read_bytes() == (tmp_path / "r_pandas.csv").read_bytes()
    assert dask_run.stderr.splitlines()[-1] == pandas_run.stderr.splitlines()[-1]  # the summary line


def test_dask_results_are_the_in_memory_results(dataset, scheduler):
    """The plots of a file read whole, in memory, are those of its parts on the cluster."""
    whole = run(["estimate", str(dataset["whole"]), "-f", "csv", "--on-error", "skip", "-q"])
    on_cluster = run(["estimate", str(dataset["dataset"]), "-f", "csv", "--on-error", "skip", "-q",
                      "--engine", "dask", "--scheduler", scheduler])
    key = ["plot_id"]
    a = pd.read_csv(pd.io.common.StringIO(whole.stdout)).sort_values(key).reset_index(drop=True)
    b = pd.read_csv(pd.io.common.StringIO(on_cluster.stdout)).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)  # the same plots and stocks (the order is the files' order)
    assert len(a) > 50


def test_dask_writes_a_parquet_dataset(dataset, scheduler, tmp_path):
    out = tmp_path / "stocks"
    result = run(["estimate", str(dataset["dataset"]), "--on-error", "skip", "-q", "--engine", "dask",
                  "--scheduler", scheduler, "-o", f"{out}/"])
    assert result.exit_code == 0
    files = sorted(out.glob("part-*.parquet"))
    assert files
    flat = run(["estimate", str(dataset["dataset"]), "--on-error", "skip", "-q", "-f", "csv"])
    got = pd.read_parquet(out)
    assert len(got) == len(pd.read_csv(pd.io.common.StringIO(flat.stdout)))


def test_dask_refuses_whole_result_formats(dataset, scheduler):
    result = run(["estimate", str(dataset["glob"]), "-f", "json", "--engine", "dask", "--scheduler", scheduler])
    assert result.exit_code == 2 and "--engine dask writes csv, jsonl or parquet" in result.stderr


def test_dask_compare_equals_pandas_engine(scheduler, tmp_path):
    """``compare FILE`` (every sampling in it): the same plots, cores and rejects as the streaming engine."""
    from test_stream_compare import monitoring

    frame = monitoring(18, shuffle=True, seed=5)
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_csv(tmp_path / f"part-{i}.csv", index=False)
    args = ["compare", str(tmp_path / "part-*.csv"), "-f", "csv", "--on-error", "skip", "--bootstrap", "0"]
    out = {}
    for name, extra in (("pandas", []), ("dask", ["--engine", "dask", "--scheduler", scheduler, "--chunk-rows", "60"])):
        result = run(args + extra + ["--rejects", str(tmp_path / f"r_{name}.csv"),
                                     "--cores", str(tmp_path / f"c_{name}.csv")])
        out[name] = (result.exit_code, result.stdout, result.stderr, (tmp_path / f"r_{name}.csv").read_bytes(),
                     (tmp_path / f"c_{name}.csv").read_bytes())
    assert out["dask"] == out["pandas"]
    assert out["pandas"][0] == 0 and "rejected" in out["pandas"][2]
