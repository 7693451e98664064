"""``project`` and ``score`` over a streamed input (:mod:`fourp1000.engine`).

The same lines on stderr, the same bytes out and the same exit code as the in-memory run
(:mod:`fourp1000.cli.project`); farms are totalled at the end from a digest of every plot
(:func:`fourp1000.projection.table.farm_table`), since a farm needs all its plots.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from types import SimpleNamespace

import click
import pandas as pd

from ..io.schema import VAN_BEMMELEN
from .common import echo_err, report_columns, report_warnings
from .streaming import chunk_size, streamed_source

_LABEL = re.compile(r"^(.*?) \((.+?)(?: to (.+))?\)$")


def run_streamed(command: str, file: str, fmt: str, output, params: dict, *, whole: str | None = None) -> bool:
    """Stream FILE through ``command``; False when it is to be read whole (nothing done then)."""
    from .common import column_map_for
    from .project import project_options_from_cli

    unc = "--uncertainty needs every plot at once" if params["uncertainty"] else None
    read_options = {"som_factor": params["som_factor"] or VAN_BEMMELEN, "bd_basis": params["bd_basis"],
                    "column_map": column_map_for(params["columns_file"])}
    if params["engine"] == "dask":
        if whole or unc:
            raise click.UsageError(f"--engine dask streams the input, but {whole or unc} needs every plot at once"
                                   if whole else f"--engine dask streams the input, but {unc}")
        from .dask_engine import run_dask

        opts = project_options_from_cli(**params, climate=params["climate_file"])
        run_dask(command, file, fmt=fmt, output=output, chunk_rows=params["chunk_rows"], read_options=read_options,
                 options=opts, params=params)
        return True
    streamed = streamed_source(file, fmt, chunk_rows=params["chunk_rows"], whole=whole or unc,
                               column_map=read_options["column_map"], quiet=params["quiet"], sep=params["sep"],
                               decimal=params["decimal"], encoding=params["encoding"], sheet=params["sheet"])
    if streamed is None:
        return False
    opts = project_options_from_cli(**params, climate=params["climate_file"])
    from ..engine.local import temporary_folder

    with temporary_folder() as tmp:
        run = _stream(streamed, opts, read_options, params, Path(tmp))
        finish_streamed(command, run, opts, fmt, output, params)
    return True


def finish_streamed(command: str, run, opts, fmt: str, output, params: dict) -> None:
    """Fail with every part's problems, or report and write the run; then the exit code of ``--check``."""
    from ..errors import ValidationError
    from .project import exit_with_verdict

    if run.failures:
        problems = [p for exc in run.failures for p in exc.problems]
        raise ValidationError(sorted(problems, key=lambda q: (q.row is not None, q.row or 0)))
    exit_with_verdict(_finish(command, run, opts, fmt, output, params), params["check"])


def _stream(streamed, opts, read_options, params, folder: Path):
    from ..engine.commands import project_part
    from ..engine.local import stream

    source, layout = streamed
    part = functools.partial(project_part, read_options=read_options, options=opts, n_input=layout.n_rows)
    return stream(source, layout, part, chunk_rows=chunk_size(params["chunk_rows"]), folder=folder,
                  quiet=params["quiet"])


def _finish(command: str, run, opts, fmt: str, output, params: dict) -> pd.DataFrame:
    """Report, write and summarise a streamed run as the in-memory run does; the frame --check reads."""
    from ..engine.sinks import write_rejects, write_table
    from ..errors import InputError
    from ..io.writers import write_tables
    from ..projection.table import farm_table
    from .project import print_summary

    quiet, verbose = params["quiet"], params["verbose"]
    table = run.table()
    digest = run.spill.whole("digest")
    every = opts.sampling == "all" and "sampled_on" in digest
    farms = farm_table(digest, every_sampling=every)
    if command == "score" and farms is None:
        raise InputError(f"{table.label}: score needs area_ha for every plot (and farm_id to group plots); "
                         "use `fourp1000 project` for per-plot results")
    problems = run.spill.whole("problems")
    report_columns(table, quiet=quiet, verbose=verbose)
    report_warnings(problems, table, quiet=quiet, verbose=verbose)
    if params["rejects"]:
        write_rejects(run.spill, params["rejects"])
    if not quiet:
        if verbose:
            for line in run.methods:
                echo_err(f"Method: {line}")
        errs = problems[problems["severity"] == "error"] if len(problems) else problems
        for problem in table.problem_list(errs)[:20] if len(errs) else []:
            echo_err(f"  rejected: {problem}")
    if command == "score":
        write_tables({"farms": farms}, fmt, output)
    else:
        write_table(run.spill, "plots", fmt, output)
    result = SimpleNamespace(plots=digest, farms=farms, n_rows=run.counts.get("rows", 0), problems=problems,
                             rejects=range(run.counts.get("rejected", 0)),
                             not_needed=range(run.counts.get("not_needed", 0)), options=opts,
                             sampling_label=merge_sampling_labels([e.get("sampling_label", "") for e in run.extras]))
    if not quiet:
        print_summary(result, None)
    return farms if command == "score" else digest


def merge_sampling_labels(labels: list[str]) -> str:
    """The label of the samplings used over the whole file, from the parts' ("latest sampling (2014 to 2019)")."""
    from ..projection.table import sampling_order

    phrase, dates = "", []
    for label in labels:
        found = _LABEL.match(label) if label else None
        phrase = phrase or (found.group(1) if found else label)
        if found:
            dates += [d for d in found.groups()[1:] if d]
    if not dates:
        return phrase
    order = sampling_order(pd.Series(dates)).argsort(kind="stable").to_numpy()
    first, last = dates[order[0]], dates[order[-1]]
    return f"{phrase} ({first if first == last else f'{first} to {last}'})"
