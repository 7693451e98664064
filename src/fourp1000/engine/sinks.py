"""Writing a streamed result: CSV, JSON Lines or Parquet, one key range at a time.

The bytes are those :func:`fourp1000.io.writers.write_tables` writes for the whole table
(CSV quoting decided over the whole table, floats rounded the same way, the same header);
a regular file is replaced atomically at the end (:func:`fourp1000.io.writers.open_atomic`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

from ..io.rejects import needs_quote_all, rejects_csv_text
from ..io.writers import (csv_quoting, open_atomic, round_floats, sanitize_frame, sanitizing_enabled, to_csv_bytes,
                          to_jsonl_text)
from .spill import Spill

DECIMALS = 6  # as write_tables


def write_table(spill: Spill, name: str, fmt: str, output: str | None) -> None:
    """Table ``name`` of ``spill`` to ``output`` (None or "-": stdout) in ``fmt`` (csv, jsonl, parquet)."""
    if is_dataset(output):
        write_dataset(spill, name, output)
        return
    if fmt == "parquet":
        _write_parquet(spill, name, output)
        return
    quoting = None
    if fmt == "csv":
        needed = any(csv_quoting(frame) == "needed" for frame in spill.frames(name))
        quoting = "needed" if needed or csv_quoting(spill.templates[name]) == "needed" else "none"
    with open_atomic(output) as fh:
        first = True
        for frame in spill.frames(name):
            fh.write(_encoded(frame, fmt, quoting, first))
            first = False
        if first:
            fh.write(_encoded(spill.templates[name], fmt, quoting, True))


def _encoded(frame: pd.DataFrame, fmt: str, quoting: str | None, header: bool) -> bytes:
    """A key range in UTF-8 (CSV as pyarrow writes it: no round trip through str)."""
    frame = round_floats(frame, DECIMALS)
    if fmt == "csv":
        return to_csv_bytes(frame, quoting=quoting, header=header)
    return to_jsonl_text(frame).encode("utf-8")


def _write_parquet(spill: Spill, name: str, output: str | None) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    schemas = [pa.Schema.from_pandas(round_floats(f, DECIMALS), preserve_index=False) for f in spill.frames(name)]
    schema = pa.unify_schemas(schemas, promote_options="permissive") if schemas else \
        pa.Schema.from_pandas(spill.templates[name], preserve_index=False)
    # the pandas metadata of the first range: read back, the columns get the in-memory dtypes
    schema = schema.with_metadata(schemas[0].metadata if schemas else schema.metadata)
    with open_atomic(output, binary_what="parquet") as fh:
        with pq.ParquetWriter(fh, schema) as writer:
            for frame in spill.frames(name):
                table = pa.Table.from_pandas(round_floats(frame, DECIMALS), preserve_index=False)
                writer.write_table(table.select(schema.names).cast(schema))


def write_rejects(spill: Spill, path: str) -> None:
    """The rejected rows, as :func:`fourp1000.cli.common.write_rejects` writes them (CSV)."""
    template = spill.templates.get("rejects", pd.DataFrame(columns=["row", "reason"]))
    quote_all = needs_quote_all(template) or any(needs_quote_all(f) for f in _sanitized(spill.frames("rejects")))
    with open_atomic(path) as fh:
        first = True
        for frame in _sanitized(spill.frames("rejects")):
            fh.write(rejects_csv_text(frame, quote_all=quote_all, header=first).encode("utf-8"))
            first = False
        if first:
            fh.write(rejects_csv_text(next(_sanitized([template])), quote_all=quote_all).encode("utf-8"))


def _sanitized(frames):
    for frame in frames:
        yield sanitize_frame(frame) if sanitizing_enabled() else frame


def is_dataset(output: str | None) -> bool:
    """Whether ``-o`` names a folder for a Parquet dataset (a path ending with a slash)."""
    return bool(output) and output not in ("-",) and output.endswith(("/", os.sep))


def write_dataset(spill: Spill, name: str, folder: str) -> None:
    """Table ``name`` as a Parquet dataset: ``part-00000.parquet``, ... in input order (a new folder).

    Raises
    ------
    OutputError
        The folder exists and holds files, or cannot be created.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from ..io.writers import OutputError

    target = Path(folder)
    if target.exists() and any(target.iterdir()):
        raise OutputError(f"{folder}: the folder exists and is not empty (a Parquet dataset needs a new folder)")
    try:
        target.mkdir(parents=True, exist_ok=True)
        frames = list(spill.frames(name)) or [spill.templates[name]]
        for i, frame in enumerate(frames):  # one file per key range: a reader reads them in name order
            table = pa.Table.from_pandas(round_floats(frame, DECIMALS), preserve_index=False)
            pq.write_table(table, target / f"part-{i:05d}.parquet")
    except OSError as exc:
        raise OutputError(f"{folder}: {exc.strerror or exc}") from exc
