"""``--engine dask``: a command's parts computed on a Dask cluster (:mod:`fourp1000.engine.dask`)."""

from __future__ import annotations

import functools
from pathlib import Path

import click

from .streaming import chunk_size


def run_dask(command: str, file: str, *, fmt: str, output, chunk_rows, read_options: dict, options,
             params: dict) -> None:
    """Run ``command`` (estimate, project, score or compare) on FILE with the Dask engine; report as the others do."""
    from ..engine import dask as engine
    from ..engine.commands import compare_part, estimate_part, project_part
    from ..engine.local import collect, open_source, plot_key_columns, temporary_folder
    from ..engine.sinks import is_dataset
    from ..engine.sources import Layout, header
    from ..errors import InputError
    from ..io.writers import STREAM_FORMATS

    engine.require_dask()
    if fmt not in STREAM_FORMATS and not is_dataset(output):
        raise click.UsageError(f"--engine dask writes csv, jsonl or parquet (or a Parquet dataset: -o DIR/), "
                               f"not {fmt}")
    source = open_source(file, sep=params.get("sep"), decimal=params.get("decimal"),
                         encoding=params.get("encoding"), sheet=params.get("sheet"))
    if source is None:
        raise InputError(f"{file}: --engine dask reads CSV (UTF-8, '.' decimal mark), JSON Lines or Parquet")
    keys = plot_key_columns(header(source), source.label, read_options["column_map"])
    layout = Layout(source, None, (), 0, False, keys)
    if command == "estimate":
        part = functools.partial(estimate_part, read_options=read_options, options=options,
                                 digest=bool(params.get("farm_summary")))
    elif command == "compare":
        part = functools.partial(compare_part, read_options=read_options, options=options)
    else:
        part = functools.partial(project_part, read_options=read_options, options=options,
                                 n_input=engine.RANK_SPAN - 1)
    size = chunk_size(chunk_rows)
    with engine.client_for(params.get("scheduler")) as client, temporary_folder() as tmp:
        ddf = engine.frame_of(source, keys, size, client)
        run = collect(engine.outputs(client, ddf, part, source.label, source.dialect), layout, Path(tmp), size)
        _finish(command, run, options, fmt, output, params)


def _finish(command: str, run, options, fmt: str, output, params: dict) -> None:
    if command == "estimate":
        from .estimate import finish_streamed

        finish_streamed(run, opts=options, fmt=fmt, output=output, quiet=params["quiet"],
                        verbose=params["verbose"], rejects=params["rejects"],
                        farm_summary=params.get("farm_summary"))
        return
    if command == "compare":
        from .compare_stream import finish_streamed as finish_compare

        finish_compare(run, options, fmt, output, params)
        return
    from .project_stream import finish_streamed

    finish_streamed(command, run, options, fmt, output, params)
