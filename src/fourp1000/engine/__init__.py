"""Execution engines: the library's per-plot functions mapped over parts of the input.

An engine never computes a stock or a projection itself. It reads the input in parts that
each hold whole plots, calls the functions the in-memory run calls on each part
(:func:`fourp1000.io.horizons.normalise`, :func:`fourp1000.stocks.estimate.estimate_stocks`,
:func:`fourp1000.projection.table.project_table`), and puts the results back in the
order of the input, so that a streamed run writes what the in-memory run writes.

- :mod:`~fourp1000.engine.sources`: the first pass over the input and its parts
  (pyarrow's streaming CSV and JSON readers, Parquet row groups);
- :mod:`~fourp1000.engine.local`: the streaming engine of one process;
- :mod:`~fourp1000.engine.commands`: what each command calls on a part;
- :mod:`~fourp1000.engine.spill`, :mod:`~fourp1000.engine.sinks`: results on disk, then
  written in order (CSV, JSON Lines, Parquet);
- :mod:`~fourp1000.engine.merge`: methods and column reports of the parts merged;
- :mod:`~fourp1000.engine.dask`: the same part functions over Dask DataFrame partitions.

See docs/scale.md.
"""

import os

#: Inputs at least this large are streamed without being asked (``--chunk-rows`` streams any size).
#: Here, not in :mod:`~fourp1000.engine.local`, so that deciding not to stream imports nothing.
STREAM_BYTES = 128 << 20


def is_many(file: str) -> bool:
    """Whether FILE names several files: a glob pattern or a folder (a partitioned Parquet dataset)."""
    return file != "-" and (any(ch in file for ch in "*?[") or os.path.isdir(file))
