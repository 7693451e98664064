"""The streaming engine on one machine: the library's functions mapped over parts of whole plots.

:func:`stream` reads the input in parts (:mod:`fourp1000.engine.sources`), turns each
part into the table a reader would give (:func:`raw_part`), calls the command's part
function (a library call, e.g. :func:`fourp1000.stocks.estimate.estimate_stocks`) and
keeps what it returns: result tables on disk by input order (:class:`~fourp1000.engine.spill.Spill`),
the rest (counts, methods, column reports) merged in memory (:class:`StreamRun`).
"""

from __future__ import annotations

import glob
import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError, ValidationError
from ..io.columns import ColumnReport, resolve
from ..io.horizons import HorizonTable
from ..io.readers import RawTable, detect_dialect, detect_encoding, frame_from_arrow, skip_blank_rows
from . import STREAM_BYTES, is_many  # noqa: F401 - re-exported: part of this module's interface
from .merge import merge_methods, merge_reports
from .progress import Progress
from .sources import Layout, NotStreamable, Part, Source, header, parts, scan
from .spill import Spill

#: Default rows per part: about 300 MB of working memory for a layer table (measured, score).
CHUNK_ROWS = 250_000
_SUFFIXES = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl",
             ".parquet": "parquet", ".pq": "parquet"}


def source_files(file: str) -> list[Path]:
    """The files FILE names: itself, the files a glob matches, or a dataset folder's data files (sorted)."""
    if os.path.isdir(file):
        found = [p for p in sorted(Path(file).rglob("*")) if p.is_file() and p.suffix.lower() in _SUFFIXES
                 and not any(part.startswith((".", "_")) for part in p.relative_to(file).parts)]
    elif any(ch in file for ch in "*?["):
        found = [Path(p) for p in sorted(glob.glob(file, recursive=True)) if Path(p).is_file()]
    else:
        found = [Path(file)]
    if not found:
        raise InputError(f"{file}: no CSV, JSON Lines or Parquet file found")
    kinds = {_SUFFIXES.get(p.suffix.lower(), "csv") for p in found}
    if len(kinds) > 1:
        raise InputError(f"{file}: mixes {' and '.join(sorted(kinds))} files; give one kind")
    return found


def open_source(file: str, *, sep=None, decimal=None, encoding=None, sheet=None, thousands=None,
                header_row=None) -> Source | None:
    """The source to stream FILE from, or None when FILE is read whole.

    Streamed: CSV in UTF-8 with a ``.`` decimal mark (what pyarrow reads; as the in-memory
    fast path), JSON Lines and Parquet. Read whole: stdin, Excel, YAML, and CSV in another
    encoding, with a decimal comma, a thousands separator or a header row below a title.
    """
    if file == "-" or sheet is not None:
        return None
    files = source_files(file)
    kind = _SUFFIXES.get(files[0].suffix.lower(), "csv" if files[0].suffix.lower() not in (
        ".xlsx", ".xlsm", ".xls", ".yaml", ".yml") else None)
    if kind is None:
        return None
    label = str(file)  # as given, like the in-memory readers (two plots.csv in two folders stay apart)
    if kind != "csv":
        return Source(files, kind, label)
    with open(files[0], "rb") as fh:
        sample = fh.read(256 * 1024)
    if not sample.strip():
        return None
    enc = encoding or detect_encoding(sample)
    if enc in ("utf-8", "utf-8-sig") and not _all_utf8(files, label, encoding):
        return None  # read whole: the reader says how it decodes the file, or names the mixed rows
    try:
        sep_, dec = detect_dialect(sample.decode(enc, errors="replace"), sep, decimal)
    except InputError:
        return None
    if dec != "." or thousands is not None or header_row is not None or enc not in ("utf-8", "utf-8-sig") \
            or len(sep_) != 1:
        return None
    dialect = {"sep": sep_, "decimal": dec, "decimal_given": decimal is not None, "thousands": None,
               "encoding": enc}
    return Source(files, "csv", label, sep_, dialect)


def _all_utf8(files, label: str, encoding: str | None) -> bool:
    """Whether every file decodes as UTF-8 to its end (a latin-1 byte past the sniffed start
    would otherwise stop the streaming reader mid-file)."""
    from ..io.text import sniff_file

    for path in files:
        with open(path, "rb") as fh:
            found = sniff_file(fh, label, encoding)
        if found.name not in ("utf-8", "utf-8-sig") or found.note:
            return False
    return True


def plot_key_columns(names: list[str], label: str, column_map) -> list[str]:
    """The user's columns that make the plot id (a header, or headers joined), as the reader resolves them."""
    res = resolve(names, label, column_map)
    if "plot_id" in res.joined:
        return [h for h in res.joined["plot_id"][0] if h in names]
    return [h for h, (canonical, _) in res.mapping.items() if canonical == "plot_id"]


def plan(source: Source, column_map) -> Layout:
    """The first pass over ``source`` (:func:`fourp1000.engine.sources.scan`)."""
    names = header(source)
    if source.kind == "csv" and len(names) == 1 and source.sep == "," and (";" in names[0] or "\t" in names[0]):
        raise NotStreamable("one column: wrong separator")  # the reader words it
    return scan(source, plot_key_columns(names, source.label, column_map))


@dataclass
class PartOutput:
    """What one part gives: result tables with sort keys, problems, methods and counts."""

    tables: dict[str, tuple[pd.DataFrame, np.ndarray]]
    methods: list[str]
    counts: dict[str, int]
    report: ColumnReport
    failure: ValidationError | None = None  # with --on-error fail: the part's problems
    extra: dict = field(default_factory=dict)


@dataclass
class StreamRun:
    """A streamed run put back together (see :func:`stream`)."""

    spill: Spill
    layout: Layout
    methods: list[str]
    report: ColumnReport
    counts: dict[str, int]
    failures: list = field(default_factory=list)
    extras: list = field(default_factory=list)
    source_columns: dict = field(default_factory=dict)

    def table(self) -> HorizonTable:
        """A table standing for the input in messages (label, column report; no rows)."""
        empty = pd.DataFrame()
        return HorizonTable(empty, pd.DataFrame(columns=["row"]), self.layout.source.label, empty,
                            source_columns=self.source_columns, columns=self.report)


def raw_part(part: Part, layout: Layout) -> tuple[RawTable | None, np.ndarray, int]:
    """The part as the reader gives a table (types of the whole file, blank rows skipped).

    Returns the table (None when every row is blank), the input positions of its records,
    and the number of blank rows skipped.
    """
    frame = frame_from_arrow(part.table, layout.float_columns)
    return raw_table(frame, part.rows, part.positions, part.label, layout.source.dialect)


def raw_table(frame: pd.DataFrame, rows: np.ndarray, positions: np.ndarray, label: str, dialect: dict
              ) -> tuple[RawTable | None, np.ndarray, int]:
    """A frame of records as read (``rows`` as the user sees them) as a reader's table, blank rows skipped."""
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    local = RawTable(frame, label, np.arange(len(frame), dtype=np.int64), dict(dialect))
    try:
        kept = skip_blank_rows(local)
    except InputError:
        return None, np.zeros(0, dtype=np.int64), len(frame)
    dialect = {k: v for k, v in kept.dialect.items() if k != "blank_rows"}
    raw = RawTable(kept.frame, label, np.asarray(rows)[kept.rows], dialect)
    return raw, np.asarray(positions)[kept.rows], len(frame) - len(kept.rows)


def row_keys(raw: RawTable, positions: np.ndarray, rows) -> np.ndarray:
    """Input positions of user-visible row numbers ``rows`` of a part (-1 where none)."""
    rows = pd.to_numeric(pd.Series(rows), errors="coerce").to_numpy(dtype=float)
    index = pd.Index(raw.rows)
    if not index.is_unique:  # a part of several files: row numbers repeat, keep the first
        index = index.drop_duplicates()
        positions = positions[~pd.Index(raw.rows).duplicated()]
    at = index.get_indexer(np.where(np.isnan(rows), -1, rows).astype(np.int64))
    return np.where(at >= 0, positions[np.maximum(at, 0)], -1)


def stream(source: Source, layout: Layout, part_fn: Callable[[RawTable, np.ndarray], PartOutput], *,
           chunk_rows: int, folder: Path, quiet: bool = False) -> StreamRun:
    """Map ``part_fn`` over the parts of ``source``; results spilled to ``folder`` in input order."""
    def outputs():
        with Progress(layout.n_rows, source.n_bytes, quiet=quiet) as progress:
            for part in parts(layout, chunk_rows, progress):
                raw, positions, n_blank = raw_part(part, layout)
                yield n_blank, (part_fn(raw, positions) if raw is not None else None)

    return collect(outputs(), layout, folder, chunk_rows)


def collect(outputs, layout: Layout, folder: Path, range_rows: int) -> StreamRun:
    """Keep the parts' outputs: tables spilled by key, counts summed, methods and reports merged.

    ``outputs`` yields ``(blank rows skipped, PartOutput or None)`` in any order (the Dask
    engine yields them as its workers finish).
    """
    spill = Spill(folder, max(range_rows, 1))
    methods, reports, counts, failures, extras = [], [], {}, [], []
    blank = 0
    source_columns: dict = {}
    for n_blank, out in outputs:
        blank += n_blank
        if out is None:
            continue
        for name, (frame, keys) in out.tables.items():
            spill.add(name, frame, keys)
        first = out.extra.get("first", len(methods))  # merged in input order, whatever the order of arrival
        methods.append((first, out.methods))
        reports.append((first, out.report))
        for key, n in out.counts.items():
            counts[key] = counts.get(key, 0) + n
        if out.failure is not None:
            failures.append(out.failure)
        extras.append(out.extra)
        source_columns = source_columns or out.extra.get("source_columns", {})
    if not reports:
        raise InputError(f"{layout.source.label}: no data rows (header only)")
    methods = [m for _, m in sorted(methods, key=lambda x: x[0])]
    reports = [r for _, r in sorted(reports, key=lambda x: x[0])]
    extras.sort(key=lambda e: e.get("first", 0))
    return StreamRun(spill, layout, merge_methods(methods), merge_reports(reports, blank), counts, failures,
                     extras, source_columns)


def temporary_folder() -> tempfile.TemporaryDirectory:
    """A private folder for the spilled results (``TMPDIR`` sets where; it needs about the output's size)."""
    return tempfile.TemporaryDirectory(prefix="fourp1000-stream-")
