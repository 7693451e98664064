"""``compare FILE`` over a streamed input (:mod:`fourp1000.engine`).

A file holding every sampling of its plots is compared part by part, each part holding
whole plots (:func:`fourp1000.engine.commands.compare_part`), with the same lines on
stderr, the same bytes out, the same rejects and cores files and the same exit code as
the in-memory run (:mod:`fourp1000.cli.compare`). Read whole instead, with a note: two
files (a plot's rows are in both), and replicate cores with ``--bootstrap`` (the
resamples of every plot come from one generator, in plot order).
"""

from __future__ import annotations

import functools
from pathlib import Path
from types import SimpleNamespace

import click
import pandas as pd

from .common import report_columns, resolve_format
from .streaming import chunk_size, note, streamed_source


def bootstrap_reason(n_bootstrap: int):
    """``whole_for`` of :func:`~fourp1000.cli.streaming.streamed_source`: replicate cores and a bootstrap
    need the whole file (one generator draws every plot's resamples, in plot order)."""
    def whole_for(columns: set[str]) -> str | None:
        if n_bootstrap > 0 and "core_id" in columns:
            return ("the bootstrap over replicate cores draws every plot's resamples from one generator "
                    "(--bootstrap 0 streams)")
        return None

    return whole_for


def run_streamed(file: str, file2: str | None, fmt: str, output, opts, params: dict) -> bool:
    """Stream FILE through ``compare``; False when it is to be read whole (nothing done then)."""
    from .common import column_map_for

    if file2 is not None:
        _two_files(file, file2, params)
        return False
    read_options = {"som_factor": opts.som_factor, "bd_basis": params["bd_basis"],
                    "column_map": column_map_for(params["columns_file"])}
    cores = params["cores_file"]
    whole = f"--cores {cores} needs every core at once" if cores and _whole_format(cores) else None
    if params["engine"] == "dask":
        _run_dask(file, fmt, output, opts, params, read_options, whole)
        return True
    streamed = streamed_source(file, fmt, chunk_rows=params["chunk_rows"], whole=whole,
                               column_map=read_options["column_map"], quiet=params["quiet"], sep=params["sep"],
                               decimal=params["decimal"], encoding=params["encoding"], sheet=params["sheet"],
                               whole_for=bootstrap_reason(opts.n_bootstrap))
    if streamed is None:
        return False
    from ..engine.commands import compare_part
    from ..engine.local import stream, temporary_folder

    source, layout = streamed
    part = functools.partial(compare_part, read_options=read_options, options=opts)
    with temporary_folder() as tmp:
        run = stream(source, layout, part, chunk_rows=chunk_size(params["chunk_rows"]), folder=Path(tmp),
                     quiet=params["quiet"])
        finish_streamed(run, opts, fmt, output, params)
    return True


def _two_files(file: str, file2: str, params: dict) -> None:
    """Two files are read whole: each plot's baseline and follow-up rows are in different files."""
    from ..engine.local import STREAM_BYTES, is_many

    why = "compare FILE FILE2 reads both files whole (each plot's rows are in both files)"
    if params["engine"] == "dask" or is_many(file) or is_many(file2):
        raise click.UsageError(f"{why}: give one file holding every sampling (sampled_on) to stream or use Dask")
    large = any(f != "-" and Path(f).is_file() and Path(f).stat().st_size >= STREAM_BYTES for f in (file, file2))
    if params["chunk_rows"] is not None or large:
        note(why, params["quiet"])


def _whole_format(path: str) -> bool:
    from ..engine.sinks import is_dataset
    from ..io.writers import STREAM_FORMATS

    return not is_dataset(path) and resolve_format(None, path) not in STREAM_FORMATS


def _run_dask(file: str, fmt: str, output, opts, params: dict, read_options: dict, whole: str | None) -> None:
    from ..engine.local import open_source
    from .dask_engine import run_dask
    from .streaming import columns_of

    source = None if file == "-" else open_source(file, sep=params["sep"], decimal=params["decimal"],
                                                   encoding=params["encoding"], sheet=params["sheet"])
    reason = whole or (bootstrap_reason(opts.n_bootstrap)(columns_of(source, read_options["column_map"]))
                       if source is not None else None)
    if reason:
        raise click.UsageError(f"--engine dask streams the input, but {reason}")
    run_dask("compare", file, fmt=fmt, output=output, chunk_rows=params["chunk_rows"], read_options=read_options,
             options=opts, params=params)


def finish_streamed(run, opts, fmt: str, output, params: dict) -> None:
    """Fail with every part's problems, or write and report the run as the in-memory run does; exit."""
    from ..engine.commands import problem_records
    from ..engine.sinks import write_rejects, write_table
    from ..errors import ValidationError
    from ..esm.campaigns import undated_note
    from .compare import finish

    report_columns(run.table(), quiet=params["quiet"], verbose=params["verbose"])
    problems = problem_records(run.spill.whole("problems"))
    if opts.on_error == "fail" and run.counts.get("errors", 0):
        raise ValidationError([p for p in problems if p.severity == "error"])
    if params["rejects"]:
        write_rejects(run.spill, params["rejects"])
    write_table(run.spill, "plots", fmt, output)
    if params["cores_file"]:
        write_table(run.spill, "cores", resolve_format(None, params["cores_file"]), params["cores_file"])
    digest = run.spill.whole("digest")
    without = [run.spill.whole(name) for name in ("missing", "open")]
    counts = run.counts
    result = SimpleNamespace(
        plots=digest, problems=problems, methods=run.methods + undated_note(digest, opts),
        n_rows=counts.get("rows", 0), n_used=counts.get("used", 0), not_needed=range(counts.get("not_needed", 0)),
        rejects=range(counts.get("rejected", 0)),
        without_verdict=pd.concat([w for w in without if len(w)] or [pd.DataFrame(columns=["plot_id", "reason"])],
                                  ignore_index=True))
    finish(result, opts, fmt, params)
