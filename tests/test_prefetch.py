"""The input parsed while the program starts (fourp1000.io.prefetch): taken only when it is
the same file, unchanged, read the same way; the results are those of a read made then."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from fourp1000.cli import _parses_ahead, main
from fourp1000.io import prefetch

HEADER = "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\n"


@pytest.fixture
def small_files_too(monkeypatch):
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    yield
    with prefetch._lock:  # nothing left for the next test
        leftover = list(prefetch._pending.values())
        prefetch._pending.clear()
    for read in leftover:
        read.join()


def plots_csv(path, n_plots=50, sep=","):
    rows = [sep.join([f"p{i}", str(top), str(top + 10), "1.2", "1.3"]) for i in range(n_plots) for top in (0, 10, 20)]
    path.write_text(HEADER.replace(",", sep) + "\n".join(rows) + "\n")
    return path


def test_a_started_read_is_taken_once(tmp_path, small_files_too):
    path = plots_csv(tmp_path / "plots.csv")
    prefetch.start(str(path), 1 << 30)
    assert len(prefetch._pending) == 1
    table = prefetch.read_csv_table(path, ",")
    assert not prefetch._pending and table.equals(prefetch.parse_csv(path, ","))
    assert table.schema.field("plot_id").type == "string" and table.num_rows == 150


def test_a_changed_file_is_read_again(tmp_path, small_files_too):
    path = plots_csv(tmp_path / "plots.csv")
    prefetch.start(str(path), 1 << 30)
    prefetch._pending[next(iter(prefetch._pending))].join()
    plots_csv(tmp_path / "new.csv", n_plots=60)
    os.replace(tmp_path / "new.csv", path)  # another file under the same name
    assert prefetch.read_csv_table(path, ",").num_rows == 180


def test_another_separator_is_read_again(tmp_path, small_files_too):
    path = plots_csv(tmp_path / "plots.csv", sep=";")
    prefetch.start(str(path), 1 << 30)
    assert prefetch.read_csv_table(path, ",").num_columns == 1  # what a read with "," gives
    assert len(prefetch._pending) == 1  # the ";" read is not the one asked for


@pytest.mark.parametrize("case", ["small", "large", "fifo", "excel", "missing", "no separator"])
def test_what_is_not_read_ahead(tmp_path, monkeypatch, case):
    path = plots_csv(tmp_path / "plots.csv")
    below = 1 << 30
    if case == "small":
        monkeypatch.setattr(prefetch, "MIN_BYTES", path.stat().st_size + 1)
    else:
        monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    if case == "large":
        below = path.stat().st_size  # streamed from this size
    elif case == "fifo":
        path = tmp_path / "fifo.csv"
        os.mkfifo(path)
    elif case == "excel":
        path = path.rename(tmp_path / "plots.xlsx")
    elif case == "missing":
        path = tmp_path / "none.csv"
    elif case == "no separator":
        path.write_text("plot_id\n" + "p1\n" * 10)
    prefetch.start(str(path), below)
    assert not prefetch._pending


@pytest.mark.parametrize("args, expected", [
    (["estimate", "plots.csv", "-o", "out.csv"], True),
    (["score", "plots.csv", "--practice", "cover_crops"], True),
    (["estimate", "-q", "plots.csv"], False),  # FILE not first: not looked for
    (["estimate", "-"], False),
    (["estimate", "plots.csv", "--chunk-rows", "1000"], False),
    (["estimate", "plots.csv", "--engine=dask"], False),
    (["estimate", "plots.csv", "--input-format", "jsonl"], False),
    (["estimate", "plots.csv", "--help"], False),
    (["rothc", "site.dat"], False),
    (["template", "plots.csv"], False),
])
def test_which_command_lines_read_ahead(args, expected):
    assert _parses_ahead(args) is expected


@pytest.mark.parametrize("content", ["plain", "ragged"])
def test_command_output_is_the_same_read_ahead_or_not(tmp_path, monkeypatch, content):
    path = plots_csv(tmp_path / "plots.csv")
    if content == "ragged":  # Arrow refuses it; pandas' reader then says what is wrong
        path.write_text(path.read_text() + "p9,0,10,1.2,1.3,extra\n")
    runner = CliRunner()
    before = runner.invoke(main, ["estimate", str(path), "-f", "csv"])
    monkeypatch.setattr(prefetch, "MIN_BYTES", 0)
    taken = []
    monkeypatch.setattr(prefetch._Read, "outcome", lambda self, f=prefetch._Read.outcome: taken.append(1) or f(self))
    after = runner.invoke(main, ["estimate", str(path), "-f", "csv"])
    assert taken == [1] and not prefetch._pending
    assert (after.exit_code, after.stdout, after.stderr) == (before.exit_code, before.stdout, before.stderr)
