"""Per-part functions of the commands: a library call on one part, and what to keep of it.

Each function takes a part as the reader gives it (a :class:`~fourp1000.io.readers.RawTable`
of whole plots) and the input positions of its records, calls the same library functions
as the in-memory run (``normalise`` + ``estimate_stocks``, ``load_plots_or_horizons`` +
``project_table``, ``normalise`` + ``compare_tables``) and returns a :class:`~fourp1000.engine.local.PartOutput`: result
tables keyed by input position, problems, methods and counts. Nothing here computes a
stock or a projection.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..esm.campaigns import CompareOptions, compare_tables, plot_verdicts, undated_note
from ..io.horizons import normalise
from ..io.readers import RawTable
from ..projection.table import ProjectOptions, load_plots_or_horizons, project_table
from ..stocks.estimate import EstimateOptions, estimate_stocks, group_codes
from .local import PartOutput, row_keys

#: Columns of the per-plot digest kept for farm totals and summary lines (farms need all their plots).
ESTIMATE_DIGEST = ("farm_id", "plot_id", "sampled_on", "core_id", "soc_stock_t_ha", "area_ha")
PROJECT_DIGEST = ("model", "plot_id", "farm_id", "area_ha", "sampled_on", "baseline_stock_t_ha",
                  "final_stock_t_ha", "annual_change_t_ha_yr", "meets_4p1000", "caveats", "source_row")
#: Columns of a problem record (:class:`fourp1000.errors.Problem`) in a spilled table.
PROBLEM_FIELDS = ("file", "row", "column", "rule", "message", "plot_id", "severity")
#: Sort key of problems without a row (after every row's, as the in-memory run sorts them).
NO_ROW_KEY = 1 << 60
#: Digest columns with few distinct values, kept as categories (a byte or four per plot, not the text).
_CATEGORIES = ("model", "farm_id", "sampled_on", "caveats")


def problem_keys(raw: RawTable, positions: np.ndarray, problems: pd.DataFrame) -> np.ndarray:
    """Input position of each problem's record (-1 for a problem of the whole file)."""
    if not len(problems):
        return np.zeros(0, dtype=np.int64)
    pos = problems["position"].to_numpy(dtype=np.int64) if "position" in problems else np.full(len(problems), -1)
    by_row = row_keys(raw, positions, problems["row"])
    return np.where(pos >= 0, positions[np.clip(pos, 0, max(len(positions) - 1, 0))], by_row)


def record_keys(frame: pd.DataFrame, positions: np.ndarray, plots: pd.DataFrame,
                plot_codes: np.ndarray | None = None) -> np.ndarray:
    """Input position of the first row of each record of ``plots`` (plot x sampling x core);
    ``plot_codes``: the table's codes of ``plot_id`` when known (:meth:`HorizonTable.plot_codes`)."""
    codes, keys = group_codes(frame, plot_codes)
    first = np.full(len(keys), len(codes), dtype=np.int64)
    np.minimum.at(first, codes, np.arange(len(codes)))
    cols = list(keys.columns)
    key_frame = keys.astype("string").fillna("\x00").assign(__first=positions[first])
    found = plots[cols].astype("string").fillna("\x00").merge(key_frame, on=cols, how="left")
    return found["__first"].to_numpy(dtype=np.int64)


def estimate_part(raw: RawTable, positions: np.ndarray, *, read_options: dict, options: EstimateOptions,
                  digest: bool) -> PartOutput:
    """``normalise`` and ``estimate_stocks`` on one part (``on_error`` skip: every problem kept)."""
    table = normalise(raw, **read_options)
    result = estimate_stocks(table, replace(options, on_error="skip"))
    keys = record_keys(table.frame, positions, result.plots, table.plot_codes())
    tables = {"plots": (result.plots, keys),
              "rejects": (result.rejects, row_keys(raw, positions, result.rejects["row"])),
              "problems": (result.problems, problem_keys(raw, positions, result.problems))}
    if digest:
        tables["digest"] = (result.plots[[c for c in ESTIMATE_DIGEST if c in result.plots]], keys)
    counts = {"rows": result.n_rows, "plots": len(result.plots), "rejected": len(result.rejects),
              "errors": int((result.problems["severity"] == "error").sum()) if len(result.problems) else 0}
    return PartOutput(tables, result.methods, counts, table.columns,
                      extra={"source_columns": table.source_columns, "first": _first(positions)})


def project_part(raw: RawTable, positions: np.ndarray, *, read_options: dict, options: ProjectOptions,
                 n_input: int) -> PartOutput:
    """``load_plots_or_horizons`` and ``project_table`` on one part.

    With ``on_error="fail"`` a part that fails gives its problems (the run fails at the end,
    listing those of every part, and writes nothing).
    """
    table = load_plots_or_horizons(raw, **read_options)
    try:
        result = project_table(table, options)
    except ValidationError as exc:
        return PartOutput({}, [], {"rows": len(table.frame)}, table.columns, failure=exc,
                          extra={"source_columns": table.source_columns, "first": _first(positions)})
    plots = result.plots
    rank = pd.Series(plots["model"]).map({m: i for i, m in enumerate(options.models)}).to_numpy(dtype=np.int64) \
        if "model" in plots else np.zeros(len(plots), dtype=np.int64)
    keys = rank * (n_input + 1) + row_keys(raw, positions, plots["source_row"]) if "source_row" in plots \
        else np.arange(len(plots), dtype=np.int64)
    tables = {"plots": (plots, keys),
              "digest": (_digest(plots), keys),
              "rejects": (result.rejects, row_keys(raw, positions, result.rejects["row"])
                          if len(result.rejects) else np.zeros(0, dtype=np.int64)),
              "problems": (result.problems, problem_keys(raw, positions, result.problems))}
    counts = {"rows": result.n_rows, "rejected": len(result.rejects), "not_needed": len(result.not_needed)}
    return PartOutput(tables, result.methods, counts, table.columns,
                      extra={"source_columns": table.source_columns, "sampling_label": result.sampling_label,
                             "first": _first(positions)})


def _first(positions: np.ndarray) -> int:
    """The part's first input position: parts' statements are merged in input order."""
    return int(positions.min()) if len(positions) else 0


def _digest(plots: pd.DataFrame) -> pd.DataFrame:
    """The columns of every plot that farm totals and the summary line need, compactly."""
    digest = plots[[c for c in PROJECT_DIGEST if c in plots]].copy()
    for col in _CATEGORIES:
        if col in digest:
            digest[col] = digest[col].astype("category")
    return digest


def compare_part(raw: RawTable, positions: np.ndarray, *, read_options: dict, options: CompareOptions) -> PartOutput:
    """``normalise`` and ``compare_tables`` on one part of a file holding every sampling of its plots.

    Runs with ``on_error="skip"`` (every problem kept; the caller fails at the end with
    ``on_error="fail"``). Plots, cores and the digest are keyed by the input position of
    each plot's first row compared (the order of the in-memory run's plot codes); the
    note on labelled samplings, which counts plots over the whole file, is left to the
    caller (:func:`fourp1000.esm.campaigns.undated_note` on the digest).
    """
    table = normalise(raw, **read_options)
    result = compare_tables(table, None, replace(options, on_error="skip"))
    first = pd.Series(row_keys(raw, positions, result.first_rows.to_numpy()), index=result.first_rows.index)
    plot_keys = result.plots["plot_id"].astype(str).map(first).to_numpy(dtype=np.int64)
    digest = _compare_digest(result.plots)
    problems = problem_frame(result.problems)
    problem_rows = row_keys(raw, positions, problems["row"])
    seen = table.frame[table.frame["plot_id"].notna()].drop_duplicates("plot_id")
    seen_keys = pd.Series(row_keys(raw, positions, seen["source_row"]), index=seen["plot_id"].astype(str).to_numpy())
    wv = result.without_verdict
    ids = pd.Index(result.plots["plot_id"].astype(str).to_numpy(dtype=object)).unique()  # hashed, not a set
    compared = ids.get_indexer(wv["plot_id"].astype(str).to_numpy(dtype=object)) >= 0
    tables = {"plots": (result.plots, plot_keys),
              "cores": (result.cores, row_keys(raw, positions, result.core_rows)),
              "digest": (digest, digest["plot_id"].astype(str).map(first).to_numpy(dtype=np.int64)),
              "rejects": (result.rejects, row_keys(raw, positions, result.rejects["row"])),
              "problems": (problems, np.where(problems["row"].isna().to_numpy(), NO_ROW_KEY, problem_rows)),
              "missing": (wv[~compared], wv["plot_id"][~compared].astype(str).map(seen_keys).to_numpy(dtype=np.int64)),
              "open": (wv[compared], wv["plot_id"][compared].astype(str).map(first).to_numpy(dtype=np.int64))}
    undated = set(undated_note(result.plots, options))
    counts = {"rows": result.n_rows, "used": result.n_used, "not_needed": len(result.not_needed),
              "rejected": len(result.rejects), "errors": sum(p.severity == "error" for p in result.problems)}
    return PartOutput(tables, [m for m in result.methods if m not in undated], counts, table.columns,
                      extra={"source_columns": table.source_columns, "first": _first(positions)})


def _compare_digest(plots: pd.DataFrame) -> pd.DataFrame:
    """One row per compared plot: ``plot_id``, its baseline sampling and its verdict (what the
    summary line, ``--check`` and the note on labelled samplings need of every plot)."""
    first = plots.drop_duplicates("plot_id")
    return pd.DataFrame({"plot_id": first["plot_id"].to_numpy(),
                         "baseline_sampled_on": first["baseline_sampled_on"].astype("category").array,
                         "meets_4p1000": plot_verdicts(plots).array})


def problem_frame(problems: list[Problem]) -> pd.DataFrame:
    """Problem records as a table (``row`` kept as object: None where the problem has no row)."""
    return pd.DataFrame([[getattr(p, f) for f in PROBLEM_FIELDS] for p in problems], columns=list(PROBLEM_FIELDS),
                        dtype=object)


def problem_records(frame: pd.DataFrame) -> list[Problem]:
    """The :class:`~fourp1000.errors.Problem` records of :func:`problem_frame`'s table."""
    return [Problem(**dict(zip(PROBLEM_FIELDS, values))) for values in frame[list(PROBLEM_FIELDS)].itertuples(
        index=False, name=None)]
