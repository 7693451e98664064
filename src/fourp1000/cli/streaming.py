"""``--chunk-rows``, ``--engine``, ``--scheduler``: when a command streams its input, and how.

A file of at least ``STREAM_BYTES`` (or any file with ``--chunk-rows N``, or a folder or
glob naming several files) is read in parts of whole plots and its results written as they
come (:mod:`fourp1000.engine`), when the output is csv, jsonl or parquet. Otherwise, or for
what needs the whole result at once (json, xlsx, the terminal table, Monte Carlo), the file
is read whole, with a note on stderr when it was large enough to stream.
"""

from __future__ import annotations

import os

import click

from .common import echo_err

ENGINES = ("pandas", "dask")


def engine_options(func):
    """``--chunk-rows``, ``--engine`` and ``--scheduler``."""
    func = click.option("--scheduler", default=None, metavar="ADDRESS",
                        help="With --engine dask: the address of a running Dask scheduler (e.g. "
                             "tcp://10.0.0.5:8786); default: a local cluster on this machine.")(func)
    func = click.option("--engine", type=click.Choice(ENGINES), default="pandas", show_default=True,
                        help="pandas: this process (files too large for memory are streamed); dask: Dask "
                             "DataFrame partitions on a local or remote cluster (pip install 'fourp1000[dask]').")(func)
    func = click.option("--chunk-rows", type=click.IntRange(1, None), default=None, metavar="N",
                        help="Stream the input in parts of about N rows, each plot's rows kept together "
                             "(default: files of 128 MB or more, in parts of 250000 rows); see docs/scale.md.")(func)
    return func


def note(message: str, quiet: bool) -> None:
    if not quiet:
        echo_err(f"Note: {message}")


def streamed_source(file: str, fmt: str, *, chunk_rows, whole: str | None, column_map, quiet: bool,
                    sep=None, decimal=None, encoding=None, sheet=None, whole_for=None):
    """``(source, layout)`` to stream FILE from, or None to read it whole (said on stderr when large).

    ``whole`` names a feature of the run that needs the whole result (e.g. ``--uncertainty``);
    ``whole_for(columns)``, given the columns the file gives (after the column map), names one
    that depends on them (compare: the bootstrap over replicate cores), or None.
    A folder or glob is always streamed: what would need it whole is then a usage error.
    """
    from ..engine import STREAM_BYTES, is_many  # the engine itself only when it streams

    if file == "-":
        if chunk_rows is not None:
            note("standard input is read whole (streaming reads files: it reads them twice)", quiet)
        return None
    many = is_many(file)
    if not many and chunk_rows is None and (not os.path.isfile(file) or os.path.getsize(file) < STREAM_BYTES):
        return None
    from ..engine.local import open_source, plan
    from ..engine.sources import NotStreamable
    from ..io.writers import STREAM_FORMATS
    from .common import input_extras

    reason = whole or (None if fmt in STREAM_FORMATS else f"-f {fmt} needs the whole result")
    if reason:
        if many:
            raise click.UsageError(f"{file} names several files, which are streamed, but {reason}: use -f csv, "
                                   "jsonl or parquet")
        note(f"{file} is read whole: {reason} (csv, jsonl and parquet output are streamed)", quiet)
        return None
    extras = input_extras()
    source = open_source(file, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet,
                         thousands=extras["thousands"], header_row=extras["header_row"])
    why = "streaming reads UTF-8 CSV with a '.' decimal mark, JSON Lines and Parquet"
    reason = whole_for(columns_of(source, column_map)) if source is not None and whole_for else None
    if reason:
        if many:
            raise click.UsageError(f"{file} names several files, which are streamed, but {reason}")
        note(f"{file} is read whole: {reason}", quiet)
        return None
    if source is not None:
        from .common import status

        try:
            with status("Reading the input once: column types, rows, plot order", quiet):
                return source, plan(source, column_map)
        except NotStreamable as exc:
            why = str(exc)
    if many:
        from ..errors import InputError

        raise InputError(f"{file}: cannot stream these files ({why})")
    note(f"{file} is read whole ({why})", quiet)
    return None


def columns_of(source, column_map) -> set[str]:
    """Our columns that ``source``'s header gives (mapped, joined or constant), as the reader resolves them."""
    from ..engine.sources import header
    from ..io.columns import resolve

    return resolve(header(source), source.label, column_map).present()


def chunk_size(chunk_rows: int | None) -> int:
    from ..engine.local import CHUNK_ROWS

    return chunk_rows or CHUNK_ROWS
