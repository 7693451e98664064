"""The Dask engine: the library's part functions over Dask DataFrame partitions.

Dask (https://docs.dask.org) is the engine here, not code of ours: a Dask DataFrame is
built from the input files (:func:`frame_of`; a partition per CSV or JSON Lines file, per
group of Parquet row groups; records numbered through the files as the streaming engine
numbers them), shuffled by a hash of the plot id so that each plot's rows
are in one partition, and each partition is handed to the same part function the
streaming engine calls (:mod:`fourp1000.engine.commands`), on the cluster's workers. The
client gathers each partition's results (a fraction of the input: one row per plot, the
rejected rows, the problems), keeps them on disk by input order
(:func:`fourp1000.engine.local.collect`) and writes them as the other engines do.

Install with ``pip install 'fourp1000[dask]'``. ``--scheduler ADDRESS`` connects to a
running cluster (every worker needs fourp1000 installed and the input path readable);
without it a local cluster of this machine's cores is started for the run.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.readers import ID_COLUMNS, frame_from_arrow
from .sources import Source, plot_keys

#: Multiplier of a model's rank in the keys of ``project`` (above every record key).
RANK_SPAN = 1 << 56
_HIDDEN = ["__key", "__row", "__plot"]


def require_dask():
    """Import dask.dataframe and distributed, or say how to install them (exit 1)."""
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("--engine dask needs Dask: pip install 'fourp1000[dask]' "
                         "(dask[dataframe] and distributed)") from None


@contextlib.contextmanager
def client_for(scheduler: str | None) -> Iterator:
    """A Dask client: of the scheduler at ``scheduler``, else of a local cluster for the run."""
    import logging

    from distributed import Client, LocalCluster

    # Dask's own notices (shuffle started, ...) are not for the user's stderr; its errors are.
    logging.getLogger("distributed").setLevel(logging.ERROR)
    if scheduler:
        with Client(scheduler) as client:
            yield client
        return
    with LocalCluster(processes=True, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:
        yield client


def pieces(source: Source, chunk_rows: int, client) -> list[tuple]:
    """The partitions to read: ``(path, row groups or None, input position of its first record)``.

    Records are numbered through the files as the streaming engine numbers them (Parquet
    row counts from the files' metadata; CSV and JSON Lines files counted on the cluster).
    """
    out = []
    if source.kind != "parquet":
        counts = client.gather(client.map(count_records, [str(p) for p in source.files], kind=source.kind,
                                          sep=source.sep))
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        return [(str(p), None, int(s)) for p, s in zip(source.files, starts)]
    import pyarrow.parquet as pq

    start = 0
    for path in source.files:
        meta = pq.ParquetFile(path).metadata
        groups, first, rows = [], start, 0
        for g in range(meta.num_row_groups):
            groups.append(g)
            rows += meta.row_group(g).num_rows
            if rows >= chunk_rows or g == meta.num_row_groups - 1:
                out.append((str(path), groups, first))
                first, groups, rows = first + rows, [], 0
        start += meta.num_rows
    return out


def count_records(path: str, kind: str, sep: str) -> int:
    """Records of a CSV or JSON Lines file (on a worker)."""
    return _read(path, None, kind, sep).num_rows


def _read(path: str, groups, kind: str, sep: str):
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).read_row_groups(groups)
    if kind == "jsonl":
        import pyarrow.json as pajson

        return pajson.read_json(path)
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.read_csv(path, parse_options=pacsv.ParseOptions(delimiter=sep),
                          convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in ID_COLUMNS},
                                                               strings_can_be_null=True))


def read_piece(piece: tuple, kind: str, sep: str, key_columns: list[str]) -> pd.DataFrame:
    """One partition: its records as the reader types them, with key, row number and plot hash."""
    path, groups, start = piece
    table = _read(path, groups, kind, sep)
    frame = frame_from_arrow(table)
    frame["__key"] = np.arange(start, start + len(frame), dtype=np.int64)
    frame["__row"] = frame["__key"] + (2 if kind == "csv" else 1)
    frame["__plot"] = plot_keys(table, key_columns).view(np.int64)
    return frame


def frame_of(source: Source, key_columns: list[str], chunk_rows: int, client):
    """The input as a Dask DataFrame, each plot's rows in one partition."""
    import dask.dataframe as dd

    ddf = dd.from_map(read_piece, pieces(source, chunk_rows, client), kind=source.kind, sep=source.sep,
                      key_columns=key_columns, enforce_metadata=False)
    if ddf.npartitions > 1:
        ddf = ddf.shuffle(on="__plot", npartitions=ddf.npartitions)
    return ddf


def run_partition(frame: pd.DataFrame, part_fn: Callable, label: str, dialect: dict):
    """A partition through ``part_fn``: ``(blank rows skipped, PartOutput or None)`` (on a worker)."""
    from .local import raw_table

    frame = frame.sort_values("__key", kind="stable").reset_index(drop=True)
    keys, rows = frame["__key"].to_numpy(), frame["__row"].to_numpy()
    frame = frame.drop(columns=_HIDDEN)
    raw, positions, blank = raw_table(frame, rows, keys, label, dialect)
    return blank, (part_fn(raw, positions) if raw is not None else None)


def outputs(client, ddf, part_fn: Callable, label: str, dialect: dict) -> Iterator:
    """Each partition's output, as the workers finish them."""
    import dask
    from distributed import as_completed

    tasks = [dask.delayed(run_partition)(part, part_fn, label, dialect) for part in ddf.to_delayed()]
    futures = client.compute(tasks)
    for future in as_completed(futures):
        yield future.result()
        future.release()
