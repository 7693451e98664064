"""Measured change between sampling campaigns (the library behind ``fourp1000 compare``).

Wraps :func:`fourp1000.esm.compare_samplings` for one or two horizon tables: row-level
problems from the loader, plot-level problems from the comparison, rejected rows (every
input row is either used or rejected), and farm summaries (area-weighted, as in
``score``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import Problem, ValidationError
from ..io.horizons import HorizonTable
from ..io.rejects import rejected_rows
from ..stocks.farms import farm_totals, has_area
from ..targets import meets_target, rate_per_mille
from .compare import Comparison, compare_samplings
from .profiles import DEFAULT_SOM_FACTOR


@dataclass
class CompareOptions:
    """Options of :func:`compare_tables` (the CLI's flags map one to one)."""

    depths_cm: tuple[float, ...] = (30.0,)
    method: str = "spline"
    mass_basis: str = "mineral"
    som_factor: float = DEFAULT_SOM_FACTOR
    reference: str = "baseline_mean"
    extrapolate: bool = True
    n_bootstrap: int = 1000
    confidence: float = 0.95
    seed: int | None = 0
    on_error: str = "fail"


@dataclass
class MonitoringResult:
    """Result of :func:`compare_tables`: per plot and per core (as
    :func:`~fourp1000.esm.compare_samplings`), farm totals (None without ``farm_id`` and
    ``area_ha``), every problem, the rejected input rows with a reason, and the number of
    input rows.
    """

    plots: pd.DataFrame
    cores: pd.DataFrame
    farms: pd.DataFrame | None
    problems: list[Problem]
    rejects: pd.DataFrame
    n_rows: int


def compare_tables(table: HorizonTable, baseline: HorizonTable | None = None,
                   options: CompareOptions | None = None) -> MonitoringResult:
    """Compare samplings on an equivalent-soil-mass basis and score the change against 4 per 1000.

    Raises
    ------
    ValidationError
        With ``on_error="fail"``, when any row, core or plot has a problem (all of them).
    """
    opts = options or CompareOptions()
    tables = [table] + ([baseline] if baseline is not None else [])
    row_problems: list[Problem] = []
    clean: list[pd.DataFrame] = []
    for t in tables:
        errs = t.problems[t.problems["severity"] == "error"] if len(t.problems) else t.problems
        row_problems.extend(t.problem_list(errs) if len(errs) else [])
        bad = np.zeros(len(t.frame), dtype=bool)
        if len(errs):
            bad[errs["position"].to_numpy(dtype=np.int64)] = True
        clean.append(t.frame[~bad])
    comparison = compare_samplings(
        clean[0], opts.depths_cm, baseline=clean[1] if baseline is not None else None, method=opts.method,
        mass_basis=opts.mass_basis, som_factor=opts.som_factor, reference=opts.reference,
        extrapolate=opts.extrapolate, n_bootstrap=opts.n_bootstrap, confidence=opts.confidence, seed=opts.seed,
        file=table.label, baseline_file=baseline.label if baseline is not None else "<baseline>",
    )
    problems = sorted(row_problems + list(comparison.problems) + _close_samplings(comparison.plots, table.label),
                      key=lambda p: (p.file, p.row is None, p.row or 0))
    errors = [p for p in problems if p.severity == "error"]
    if errors and opts.on_error == "fail":
        raise ValidationError(errors)
    rejects = _rejects(tables, comparison, row_problems)
    farms = compare_farm_summary(comparison.plots, tables)
    n_rows = sum(len(t.frame) for t in tables)
    return MonitoringResult(comparison.plots, comparison.cores, farms, problems, rejects, n_rows)


# Follow-ups closer than this to the baseline are probably cores of the same campaign
# taken on different days; a yearly rate over so short a span is meaningless.
MIN_YEARS_BETWEEN_SAMPLINGS = 0.5


def _close_samplings(plots: pd.DataFrame, label: str) -> list[Problem]:
    """Warnings for follow-ups less than half a year after the baseline."""
    if plots.empty or "years" not in plots:
        return []
    close = plots[(plots["years"] > 0) & (plots["years"] < MIN_YEARS_BETWEEN_SAMPLINGS)]
    close = close.drop_duplicates(subset=["plot_id", "sampled_on"])
    return [
        Problem(label, None, "sampled_on", "close_samplings",
                f"plot {r.plot_id}: sampling {r.sampled_on} is only {r.years * 365.25:.0f} days after the baseline "
                f"{r.baseline_sampled_on}; if these are cores of one campaign, give them the same sampled_on",
                str(r.plot_id), severity="warning")
        for r in close.itertuples()
    ]


def _rejects(tables: list[HorizonTable], comparison: Comparison, row_problems: list[Problem]) -> pd.DataFrame:
    """Rows not used: rows with problems, and every row of a plot that was not compared."""
    compared = set(comparison.plots["plot_id"].astype(str)) if len(comparison.plots) else set()
    used_cores = _used_cores(comparison.cores)
    parts = []
    for t in tables:
        frame = t.frame
        own = {(p.row): p.message for p in row_problems if p.file == t.label and p.row is not None}
        rows = frame["source_row"].to_numpy()
        own_mask = np.isin(rows, list(own)) if own else np.zeros(len(frame), dtype=bool)
        plot = frame["plot_id"].astype("string")
        not_compared = ~plot.isin(compared).fillna(False).to_numpy()
        core_dropped = np.zeros(len(frame), dtype=bool)
        if used_cores is not None:
            key = _core_key(frame)
            core_dropped = ~key.isin(used_cores).to_numpy() & ~not_compared
        mask = own_mask | not_compared | core_dropped
        if not mask.any():
            continue
        plot_reason = pd.Series({p.plot_id: p.message for p in reversed(list(comparison.problems)) if p.plot_id},
                                dtype=object)
        reason_of_plot = plot.map(plot_reason)
        reasons = pd.Series(rows, index=frame.index).map(pd.Series(own, dtype=object)).where(own_mask)
        reasons = reasons.where(own_mask, np.where(
            not_compared,
            "plot not compared: " + reason_of_plot.fillna("plot has no valid comparison").astype(str),
            "core left out: " + reason_of_plot.fillna("invalid core").astype(str),
        ))
        out = rejected_rows(t, np.flatnonzero(mask), reasons[mask].to_numpy())
        out.insert(0, "file", t.label)
        parts.append(out)
    if not parts:
        return pd.DataFrame(columns=["file", "row", "reason"])
    return pd.concat(parts, ignore_index=True)


def _core_key(frame: pd.DataFrame) -> pd.Series:
    """One string per row identifying its core: plot, sampling and core ids."""
    parts = [frame["plot_id"].astype("string").fillna("")]
    for col in ("sampled_on", "core_id"):  # missing columns count as empty, as in the cores table
        parts.append(frame[col].astype("string").fillna("") if col in frame
                     else pd.Series("", index=frame.index, dtype="string"))
    key = parts[0]
    for p in parts[1:]:
        key = key + "\x1f" + p
    return key


def _used_cores(cores: pd.DataFrame) -> set[str] | None:
    """Keys of the cores in the results; None when cores cannot be told apart by key."""
    if cores is None or not len(cores) or "plot_id" not in cores:
        return None
    frame = cores.copy()
    if "sampled_on" in frame and frame["sampled_on"].isin(["baseline", "follow-up"]).all():
        return None  # two files without dates: cores are not identified by date
    return set(_core_key(frame))


def compare_farm_summary(plots: pd.DataFrame, tables: list[HorizonTable]) -> pd.DataFrame | None:
    """Area-weighted farm totals per depth and follow-up sampling (as ``score`` does for projections).

    Columns: ``farm_id``, ``depth_cm``, ``sampled_on``, ``n_plots``, ``area_ha``,
    ``baseline_stock_t_c``, ``esm_change_t_c``, ``annual_change_t_c_yr``, ``rate_per_mille``,
    ``meets_4p1000``. None without ``farm_id`` and ``area_ha``.
    """
    if plots.empty or "farm_id" not in plots:
        return None
    area = _plot_area(tables)
    if area is None:
        return None
    frame = plots.assign(area_ha=plots["plot_id"].astype(str).map(area))
    frame = frame[has_area(frame["area_ha"])]  # farms only of plots with an area
    if frame.empty:
        return None
    farms = farm_totals(frame, ["farm_id", "depth_cm", "sampled_on"], {
        "baseline_stock_t_c": "baseline_stock_t_ha", "esm_change_t_c": "esm_change_t_ha",
        "annual_change_t_c_yr": "annual_change_t_ha_yr",
    }).drop(columns="n_plots_without_area")
    farms["rate_per_mille"] = rate_per_mille(farms["annual_change_t_c_yr"], farms["baseline_stock_t_c"])
    farms["meets_4p1000"] = meets_target(farms["rate_per_mille"])
    return farms


def _plot_area(tables: list[HorizonTable]) -> dict | None:
    """Area [ha] of each plot id, from the tables that give ``area_ha``; None if none does."""
    parts = [t.frame[["plot_id", "area_ha"]] for t in tables if "area_ha" in t.source_columns]
    if not parts:
        return None
    frame = pd.concat(parts).dropna()
    return frame.groupby(frame["plot_id"].astype(str))["area_ha"].first().to_dict()
