"""Reading a large table in parts, each plot's rows kept together.

A first pass (:func:`scan`) reads the file once with pyarrow's streaming readers (CSV and
JSON Lines in blocks, Parquet by row groups) and learns what a whole-file read would: the
type of every column over the whole file (a column whose later values do not fit the type
of its first block is widened, as pyarrow's whole-file reader widens it), which integer
columns hold a missing value somewhere (a whole-file read makes them floats), the number of
records, and whether each plot's rows form one run.

Then :func:`parts` yields the parts, as Arrow tables with the records' positions in the
file and the row numbers a user sees:

* **plots contiguous** (the usual export order): blocks are streamed directly and a part is
  cut at the last plot boundary before ``chunk_rows`` rows; the rows of the plot that
  straddles the cut go to the next part;
* **plots scattered**: the blocks are first partitioned by a hash of the plot id into
  ``ceil(rows / chunk_rows)`` temporary Arrow files (all of a plot's rows land in one), each
  then read as one part, its rows in file order.

The first pass keeps the batches it parsed from a CSV or JSON Lines file, with their plot
keys, in a temporary Arrow file (lz4-compressed: about half the CSV's size), which the
second pass reads back instead of parsing the text again.

Memory is bounded by the part size (and 8 bytes per plot for the contiguity check), not by
the file size.
"""

from __future__ import annotations

import math
import queue
import re
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import InputError
from ..io.readers import ID_COLUMNS

#: Bytes per block of the streaming CSV / JSON readers (a block is the unit of reading).
BLOCK_BYTES = 4 << 20
#: Types a column is widened through when a later block does not fit (pyarrow's order).
_WIDER = {pa.null(): pa.int64(), pa.int64(): pa.float64()}
_CONVERSION = re.compile(r"In CSV column #(\d+): .*CSV conversion error")


class NotStreamable(Exception):
    """The file cannot be streamed faithfully (the in-memory reader decides how to read it)."""


@dataclass
class Source:
    """Where the records come from: one file or several (a glob, a Parquet dataset)."""

    files: list[Path]
    kind: str  # "csv", "jsonl" or "parquet"
    label: str  # for messages: the file name, or the pattern / folder as given
    sep: str = ","
    dialect: dict = field(default_factory=dict)  # as the in-memory reader records it

    @property
    def n_bytes(self) -> int:
        return sum(f.stat().st_size for f in self.files)

    def first_row(self) -> int:
        """User-visible number of the first record: 2 under a CSV header, else 1 (several files
        are numbered through, in name order, as if they were one file)."""
        return 2 if self.kind == "csv" else 1


@dataclass
class Layout:
    """What the first pass learned (see :func:`scan`)."""

    source: Source
    schema: pa.Schema  # the column types of the whole file
    float_columns: tuple[str, ...]  # integer columns with a missing value somewhere
    n_rows: int
    contiguous: bool
    key_columns: list[str]  # the user's columns whose values identify a plot
    cache: BatchCache | None = None  # the first pass's batches of CSV / JSON Lines files


@dataclass
class Part:
    """Records of whole plots: an Arrow table, their 0-based positions in the input and row numbers."""

    table: pa.Table
    positions: np.ndarray
    rows: np.ndarray
    label: str


def _batches(source: Source, path: Path, schema: pa.Schema | None, block_bytes: int | None = None
             ) -> Iterator[pa.RecordBatch]:
    """The file's record batches, with the column types of ``schema`` where given (CSV and
    JSON Lines parsed in blocks of ``block_bytes``, default :data:`BLOCK_BYTES`)."""
    block_bytes = block_bytes or BLOCK_BYTES
    if source.kind == "parquet":
        import pyarrow.parquet as pq

        yield from pq.ParquetFile(path).iter_batches(batch_size=1 << 16)
        return
    if source.kind == "jsonl":
        import pyarrow.json as pajson

        reader = pajson.open_json(path, read_options=pajson.ReadOptions(block_size=block_bytes),
                                  parse_options=pajson.ParseOptions(explicit_schema=schema))
    else:
        import pyarrow.csv as pacsv

        types = dict(zip(schema.names, schema.types)) if schema is not None else {}
        types.update({c: pa.string() for c in ID_COLUMNS})
        reader = pacsv.open_csv(path, read_options=pacsv.ReadOptions(block_size=block_bytes),
                                parse_options=pacsv.ParseOptions(delimiter=source.sep),
                                convert_options=pacsv.ConvertOptions(column_types=types, strings_can_be_null=True))
    yield from reader


#: Column of a cached batch holding its records' plot keys (:func:`plot_keys`).
_KEY = "__fourp1000_plot_key"


class BatchCache:
    """The batches of the first pass, as parsed, with their plot keys, one Arrow file per input file.

    Parsing text is most of a pass over a CSV file; reading Arrow back is a small part of
    it. If the disk fills up, the cache is dropped and the second pass parses the text.
    """

    def __init__(self) -> None:
        self._folder = tempfile.TemporaryDirectory(prefix="fourp1000-scan-")  # removed with this object
        self._files: dict[Path, Path] = {}
        self._writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._sink: pa.NativeFile | None = None
        self.usable = True

    def keep(self, path: Path, batch: pa.RecordBatch, keys: np.ndarray) -> None:
        """Add ``batch`` (of input file ``path``) and its plot keys."""
        if not self.usable:
            return
        batch = batch.append_column(_KEY, pa.array(keys, type=pa.uint64()))
        try:
            if path not in self._files:
                self._close_writer()
                self._files[path] = Path(self._folder.name) / f"{len(self._files)}.arrows"
                self._sink = pa.OSFile(str(self._files[path]), "wb")
                self._writer = pa.ipc.new_stream(self._sink, batch.schema,
                                                 options=pa.ipc.IpcWriteOptions(compression="lz4"))
            self._writer.write_batch(batch)
        except OSError:  # e.g. no space left: parse the text again instead
            self.drop()

    def done(self) -> None:
        """The first pass is over: close the last file."""
        try:
            self._close_writer()
        except OSError:
            self.drop()

    def batches(self, path: Path) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
        """The batches of input file ``path`` and their plot keys, as the first pass read them."""
        with pa.OSFile(str(self._files[path]), "rb") as fh:  # read, not mapped: memory stays a batch's
            for batch in pa.ipc.open_stream(fh):
                keys = batch.column(batch.num_columns - 1).to_numpy()
                yield batch.drop_columns([_KEY]), keys

    def drop(self) -> None:
        """Give the cache up (its files removed)."""
        self.usable = False
        try:
            self._close_writer()
        except OSError:
            pass
        self._files.clear()
        self._folder.cleanup()

    def _close_writer(self) -> None:
        writer, sink, self._writer, self._sink = self._writer, self._sink, None, None
        if writer is not None:
            writer.close()
        if sink is not None:
            sink.close()


def read_ahead(items: Iterator, depth: int = 2) -> Iterator:
    """``items``, the next ``depth`` of them produced meanwhile in a thread.

    pyarrow parses and decompresses without holding the GIL, so the caller's work on one
    batch runs beside the reading of the next (two cores: the first pass takes about the
    time of the parsing alone). An error of the thread is raised here; closing the
    iterator stops the thread after the item it is reading.
    """
    out: queue.Queue = queue.Queue(depth)
    stop = threading.Event()
    end = object()

    def put(item) -> bool:
        while not stop.is_set():
            try:
                out.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not put((item, None)):
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put((end, exc))
            return
        put((end, None))

    thread = threading.Thread(target=produce, name="fourp1000-read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = out.get()
            if exc is not None:
                raise exc
            if item is end:
                return
            yield item
    finally:
        stop.set()
        thread.join()


def header(source: Source) -> list[str]:
    """The column names of the (first) file, stripped as the readers strip them (from a small
    first block: a whole block parsed for its names would cost a tenth of a second)."""
    small = 1 << 16 if source.kind == "csv" else None  # JSON Lines: the names of a whole block's records
    try:
        first = next(iter(_batches(source, source.files[0], None, block_bytes=small)), None)
    except pa.ArrowInvalid:  # a first row longer than the small block
        first = next(iter(_batches(source, source.files[0], None)), None)
    return [] if first is None else [str(c).strip().lstrip("\ufeff") for c in first.schema.names]


def _nothing(source: Source) -> str:
    """What a file without records holds, as the in-memory reader words it."""
    if source.kind == "csv":
        with open(source.files[0], "rb") as fh:
            if fh.readline().strip():
                return "header only"
    return "empty file"


def plot_keys(batch: pa.RecordBatch | pa.Table, columns: list[str]) -> np.ndarray:
    """A 64-bit hash per record of its plot id (stripped text; several columns joined).

    Equal ids give equal hashes; the engine uses them only to keep a plot's rows together
    (a collision would put two plots in one part, which changes nothing).
    """
    if not columns:
        return np.zeros(batch.num_rows, dtype=np.uint64)
    parts = [pc.utf8_trim_whitespace(pc.cast(batch.column(c), pa.string())) for c in columns]
    key = parts[0] if len(parts) == 1 else pc.binary_join_element_wise(
        *parts, "\x1f", null_handling="replace", null_replacement="")
    encoded = pc.dictionary_encode(pc.fill_null(key, ""))
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    words = pd.util.hash_array(encoded.dictionary.to_numpy(zero_copy_only=False).astype(object))
    return words[encoded.indices.to_numpy(zero_copy_only=False)]


def scan(source: Source, key_columns: list[str]) -> Layout:
    """The first pass: column types, integer columns with gaps, records, plot contiguity.

    Raises
    ------
    NotStreamable
        pyarrow cannot read the file as it stands (ragged rows, bad JSON): the in-memory
        reader then reads it and words the problem.
    """
    schema = None
    for _ in range(64):  # each retry widens one column; a few at most in practice
        try:
            return _scan_once(source, key_columns, schema)
        except pa.ArrowInvalid as exc:
            schema = _widened(source, schema, exc)
    raise NotStreamable("column types keep changing")  # pragma: no cover


def _widened(source: Source, schema: pa.Schema | None, exc: Exception) -> pa.Schema:
    """``schema`` with the column a later block did not fit made wider (CSV only)."""
    found = _CONVERSION.search(str(exc))
    if source.kind != "csv" or not found:
        raise NotStreamable(str(exc).splitlines()[0]) from exc
    if schema is None:
        schema = next(_batches(source, source.files[0], None)).schema
    i = int(found.group(1))
    wider = _WIDER.get(schema.types[i], pa.string())
    return schema.set(i, pa.field(schema.names[i], wider))


def _scan_once(source: Source, key_columns: list[str], schema: pa.Schema | None) -> Layout:
    n_rows, nulls, run_starts, first = 0, set(), [], None
    cache = BatchCache() if source.kind != "parquet" else None  # Parquet is quick to read again
    last_key = None
    for path in source.files:
        last_key = None  # a plot continued in the next file is a second run
        if schema is None and first is not None and source.kind != "parquet":
            schema = first  # the next files are read with the first one's types (widened where they differ)
        for batch in read_ahead(_batches(source, path, schema)):
            if first is None:
                first = batch.schema
            elif batch.schema != (schema or first) and source.kind != "parquet":
                raise NotStreamable("the files do not have the same columns")
            n_rows += batch.num_rows
            nulls.update(name for name, col in zip(batch.schema.names, batch.columns) if col.null_count)
            keys = plot_keys(batch, key_columns)
            if cache is not None:
                cache.keep(path, batch, keys)
            if keys.size:
                starts = np.ones(keys.size, dtype=bool)
                starts[1:] = keys[1:] != keys[:-1]
                starts[0] = last_key is None or keys[0] != last_key
                run_starts.append(keys[starts])
                last_key = keys[-1]
    schema = schema or first
    if schema is None:
        raise InputError(f"{source.label}: no data rows ({_nothing(source)})")
    starts = np.concatenate(run_starts) if run_starts else np.zeros(0, dtype=np.uint64)
    contiguous = np.unique(starts).size == starts.size
    ints = {f.name for f in schema if pa.types.is_integer(f.type)}
    if cache is not None:
        cache.done()
    cache = cache if cache is not None and cache.usable else None
    return Layout(source, schema, tuple(sorted(ints & nulls)), n_rows, contiguous, key_columns, cache)


def parts(layout: Layout, chunk_rows: int, progress=None) -> Iterator[Part]:
    """The input as parts of whole plots, about ``chunk_rows`` records each (see the module)."""
    if layout.contiguous:
        yield from _contiguous_parts(layout, chunk_rows, progress)
    else:
        yield from _partitioned_parts(layout, chunk_rows, progress)


def _located(layout: Layout, progress) -> Iterator[tuple[pa.RecordBatch, np.ndarray, np.ndarray, str, np.ndarray]]:
    """Every batch with its records' positions, row numbers, file label and plot keys."""
    source, position = layout.source, 0
    label = source.label
    for path in layout.source.files:
        for batch, keys in read_ahead(_keyed_batches(layout, path)):
            n = batch.num_rows
            pos = np.arange(position, position + n, dtype=np.int64)
            rows = pos + source.first_row()  # several files: numbered through them, as if one file
            position += n
            if progress is not None:
                progress.advance(n)
            yield batch, pos, rows, label, keys


def _keyed_batches(layout: Layout, path: Path) -> Iterator[tuple[pa.RecordBatch, np.ndarray]]:
    """The batches of input file ``path`` with their plot keys: from the first pass's cache if kept."""
    if layout.cache is not None:
        yield from layout.cache.batches(path)
        return
    source = layout.source
    for batch in _batches(source, path, layout.schema if source.kind != "parquet" else None):
        yield batch, plot_keys(batch, layout.key_columns)


def _contiguous_parts(layout: Layout, chunk_rows: int, progress) -> Iterator[Part]:
    held: list = []  # (batch, pos, rows, keys) of the current file not yet emitted
    held_label = None
    for batch, pos, rows, label, keys in _located(layout, progress):
        if held and label != held_label:  # a part never spans two files
            yield _part(held, held_label)
            held = []
        held.append((pa.Table.from_batches([batch]), pos, rows, keys))
        held_label = label
        if sum(h[0].num_rows for h in held) >= chunk_rows:
            head, held = _cut_at_last_plot(held)
            if head:
                yield _part(head, label)
    if held:
        yield _part(held, held_label)


def _cut_at_last_plot(held: list) -> tuple[list, list]:
    """Split the held batches before the run of the last plot (kept for the next part)."""
    keys = np.concatenate([h[3] for h in held])
    change = np.flatnonzero(keys[1:] != keys[:-1])
    if change.size == 0:  # one plot so far: hold on
        return [], held
    cut = int(change[-1]) + 1
    table = pa.concat_tables([h[0] for h in held])
    pos, rows = np.concatenate([h[1] for h in held]), np.concatenate([h[2] for h in held])
    head = [(table.slice(0, cut), pos[:cut], rows[:cut], keys[:cut])]
    tail = [(table.slice(cut), pos[cut:], rows[cut:], keys[cut:])]
    return head, tail


def _part(held: list, label: str) -> Part:
    tables = [h[0] for h in held]
    table = pa.concat_tables(tables).combine_chunks() if len(tables) > 1 else tables[0]
    return Part(table, np.concatenate([h[1] for h in held]), np.concatenate([h[2] for h in held]), label)


def _partitioned_parts(layout: Layout, chunk_rows: int, progress) -> Iterator[Part]:
    """Partition by plot into temporary Arrow files, then yield each partition in file order."""
    k = max(1, math.ceil(layout.n_rows / max(chunk_rows, 1)))
    label = layout.source.label
    with tempfile.TemporaryDirectory(prefix="fourp1000-parts-") as tmp:
        writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        for batch, pos, rows, _, keys in _located(layout, progress):
            table = pa.Table.from_batches([batch]).append_column("__pos", pa.array(pos)).append_column(
                "__row", pa.array(rows))
            bucket = (keys % np.uint64(k)).astype(np.int64)
            order = np.argsort(bucket, kind="stable")
            bounds = np.searchsorted(bucket[order], np.arange(k + 1))
            for b in np.flatnonzero(np.diff(bounds)):
                piece = table.take(pa.array(order[bounds[b]:bounds[b + 1]]))
                if b not in writers:
                    writers[b] = pa.ipc.new_file(str(Path(tmp) / f"{b}.arrow"), piece.schema)
                writers[b].write_table(piece)
        for writer in writers.values():
            writer.close()
        for b in sorted(writers):
            with pa.OSFile(str(Path(tmp) / f"{b}.arrow"), "rb") as fh:  # read into memory: the file goes
                table = pa.ipc.open_file(fh).read_all()
            pos = table.column("__pos").to_numpy()
            rows = table.column("__row").to_numpy()
            table = table.drop_columns(["__pos", "__row"])
            yield Part(table, pos, rows, label)
            del table
