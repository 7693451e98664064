"""What a comparison of samplings used, and why the rest was not: reasons per row, core and plot.

Every input row of :func:`fourp1000.esm.compare_samplings` ends up in a stock of the
result or has a reason; every follow-up without a change, and every change without a
4 per 1000 verdict, has one too:

- :func:`comparable` keeps the (plot, follow-up, depth) rows with a stock on both sides and
  says why the others have none (no baseline core reaches the depth, the follow-up cores
  are too shallow, extrapolation is off, ...);
- :func:`no_verdict_reasons`: why a change has no rate (dates unknown, ...);
- :func:`used_cores`, :func:`settle_severity`, :func:`row_accounting`: which cores are in
  a result, whether a core's problem rejects it (error) or only concerns one depth
  (warning), and the reason of every row not used.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from ..errors import Problem
from .profiles import table_problem

__all__ = ["PLOT_RULES", "comparable", "dropped_problems", "no_verdict_reasons", "row_accounting",
           "settle_severity", "used_cores"]

#: Rules of problems about a whole plot (its rows are rejected with "plot not compared").
PLOT_RULES = frozenset({"not_in_baseline", "one_sampling", "no_valid_baseline", "no_valid_follow_up",
                        "baseline_too_shallow", "baseline_not_extrapolated", "no_baseline_stock",
                        "follow_up_too_shallow", "follow_up_not_extrapolated", "no_follow_up_stock"})


def comparable(paired: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split paired (follow-up, baseline) rows into those with a stock on both sides and the others.

    The others get ``rule`` and ``message``: which side has no stock, and why.
    """
    ok = (paired["n_cores"] > 0) & (paired["n_baseline_cores"] > 0)
    dropped = paired[~ok].copy()
    base = dropped["n_baseline_cores"] == 0
    n_all = np.where(base, dropped["_base_n_all"], dropped["n_all"])
    shallow = np.where(base, dropped["_base_n_shallow"], dropped["n_shallow"]) == n_all
    refused = np.where(base, dropped["_base_n_refused"], dropped["n_refused"]) > 0
    side = np.where(base, "baseline", "follow_up")
    cause = np.where(shallow, "too_shallow", np.where(refused, "not_extrapolated", "stock"))
    dropped["rule"] = np.where(cause == "stock", "no_" + side + "_stock", side + "_" + cause)
    which = np.where(base, "baseline " + dropped["baseline_sampled_on"].astype(str),
                     "follow-up " + dropped["sampled_on"].astype(str))
    depth = dropped["depth_cm"].map("{:g}".format).to_numpy(dtype=object)
    dropped["message"] = np.select(
        [shallow, refused],
        ["no core of the " + which + " reaches " + depth + " cm",
         "the cores of the " + which + " hold less than the reference mass at " + depth
         + " cm and extrapolation is off"],
        default="no core of the " + which + " has a stock at " + depth + " cm")
    return paired[ok].reset_index(drop=True), dropped


def dropped_problems(dropped: pd.DataFrame, compared_plots: set) -> list[Problem]:
    """A problem per follow-up and depth without a change: an error when the plot has no change at
    all (it is not compared), a warning otherwise.
    """
    problems = []
    for r in dropped.drop_duplicates(["_plot", "_pair", "depth_cm"]).to_dict("records"):
        at_base = r["n_baseline_cores"] == 0
        problem = table_problem(r["_base_file"] if at_base else r["file"],
                                r["_base_source_row"] if at_base else r["source_row"], "bottom_cm", r["rule"],
                                r["message"], r["plot_id"])
        problems.append(problem if r["_plot"] not in compared_plots else replace(problem, severity="warning"))
    return problems


def no_verdict_reasons(paired: pd.DataFrame) -> np.ndarray:
    """Why a change has no 4 per 1000 verdict ("" where it has one)."""
    years = paired["years"].to_numpy(dtype=float)
    rate = paired["rate_per_mille"].to_numpy(dtype=float)
    return np.select(
        [np.isnan(years), years <= 0, np.isnan(rate)],
        ["sampling dates unknown (give the years between samplings)", "follow-up not after the baseline",
         "baseline stock is zero"],
        default="",
    ).astype(object)


def used_cores(table: pd.DataFrame, paired: pd.DataFrame) -> np.ndarray:
    """Codes (``_core``) of the cores with a stock in a row of ``paired``, on either side
    (``table`` carries the (sampling, depth) group of each core in ``_group``).
    """
    group = table["_group"].to_numpy()
    groups = np.union1d(paired["_group"].to_numpy(), paired["_base_group"].to_numpy())
    has = np.isin(group, groups) & table["esm_stock_t_ha"].notna().to_numpy()
    return np.unique(table["_core"].to_numpy()[has])


def _core_of(data: pd.DataFrame) -> pd.Series:
    """Core code by (file, source_row)."""
    index = pd.MultiIndex.from_arrays([data["_file"].astype(str).to_numpy(), data["source_row"].to_numpy()])
    return pd.Series(data["_core"].to_numpy(), index=index)


def settle_severity(problems: list[Problem], data: pd.DataFrame, used: np.ndarray) -> list[Problem]:
    """Core problems at one depth are warnings for a core used at another depth."""
    if not problems:
        return []
    core_of = _core_of(data)
    used_set = set(used.tolist())
    out = []
    for p in problems:
        core = core_of.get((p.file, p.row))
        out.append(replace(p, severity="warning") if core is not None and int(core) in used_set else p)
    return out


def row_accounting(data: pd.DataFrame, used: np.ndarray, problems: list[Problem]) -> pd.DataFrame:
    """Per input row: used in a result, or the reason it is not (its own problem, its core's, its plot's)."""
    is_used = np.isin(data["_core"].to_numpy(), used)
    errors = [p for p in problems if p.severity == "error" and p.row is not None]
    if not errors:
        reason = np.full(len(data), "", dtype=object)
        reason[~is_used] = "core left out: no stock at the comparison depths"
        return pd.DataFrame({"file": data["_file"].to_numpy(dtype=object), "source_row": data["source_row"].to_numpy(),
                             "from_baseline": data["_from_baseline"].to_numpy(dtype=bool), "used": is_used,
                             "reason": reason})
    where = pd.MultiIndex.from_arrays([data["_file"].astype(str).to_numpy(), data["source_row"].to_numpy()])
    core_of, plot_of = _core_of(data), pd.Series(data["_plot"].to_numpy(), index=where)
    own, core, plot = {}, {}, {}
    for p in errors:
        key = (p.file, p.row)
        if p.rule in PLOT_RULES:
            if key in plot_of.index:
                plot.setdefault(int(plot_of[key]), p.message)
            continue
        own.setdefault(key, p.message)
        if key in core_of.index:
            core.setdefault(int(core_of[key]), p.message)
    own_reason = (pd.Series(list(own.values()), index=pd.MultiIndex.from_tuples(list(own)), dtype=object)
                  .reindex(where) if own else pd.Series(np.full(len(data), None), dtype=object))
    own_reason = pd.Series(own_reason.to_numpy(dtype=object), dtype=object)
    core_reason = "core left out: " + data["_core"].map(core).astype(object)
    plot_reason = "plot not compared: " + data["_plot"].map(plot).astype(object)
    reason = (own_reason.fillna(pd.Series(core_reason.to_numpy(), dtype=object))
              .fillna(pd.Series(plot_reason.to_numpy(), dtype=object))
              .fillna("core left out: no stock at the comparison depths"))
    return pd.DataFrame({
        "file": data["_file"].astype(str).to_numpy(), "source_row": data["source_row"].to_numpy(),
        "from_baseline": data["_from_baseline"].to_numpy(dtype=bool), "used": is_used,
        "reason": np.where(is_used, "", reason.to_numpy(dtype=object)).astype(object),
    })
