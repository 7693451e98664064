"""Why rows were rejected: the blocking problem, every other problem, knock-ons under their cause.

A plot is rejected for one problem that *blocks* it: a depth problem of the plot (a gap,
too shallow, past the extrapolation bound, ...), or a row error that left the plot
without the layers it needed. In the second case the plot's own problem ("no usable SOC
layer between 0 and 30 cm" after a bulk density out of range) is a *knock-on*: it is
folded under its cause (:func:`fold_knock_on`) rather than listed as a cause of its own.

:func:`rejects_with_reasons` builds the rejects table (:func:`fourp1000.io.rejects.rejected_rows`):
``reason`` is the problem that blocked the row (its own first error, else its plot's
blocking problem) and ``all_reasons`` every other problem of the row and of its plot.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.horizons import HorizonTable
from ..io.rejects import REASON_SEPARATOR, rejected_rows

#: Rules of problems that concern a whole plot (record): they block it.
PLOT_RULES = ("no_data", "overlap", "not_from_top", "gap", "too_shallow", "extrapolation_bound", "mineral_stock_high")


def fold_knock_on(problems: pd.DataFrame, codes: np.ndarray, knock_on: dict[int, str]) -> pd.DataFrame:
    """Append each record's knock-on problem to the first error of that record.

    Parameters
    ----------
    problems : DataFrame
        Problems in row order (``position`` indexes ``codes``; -1 for file-level ones).
    codes : array of int
        Record of each row.
    knock_on : dict
        Record -> the message of the plot problem its row errors caused.

    Returns
    -------
    DataFrame
        ``problems`` with ``"; knock-on: <message>"`` added to those errors.
    """
    if not knock_on or not len(problems):
        return problems
    pos = problems["position"].to_numpy(dtype=np.int64)
    is_err = (problems["severity"] == "error").to_numpy() & (pos >= 0)
    rec = np.where(is_err, codes[np.where(pos >= 0, pos, 0)], -1)
    hit = is_err & pd.Series(rec).isin(list(knock_on)).to_numpy()
    first = pd.Series(np.flatnonzero(hit)).groupby(rec[hit]).first()
    out = problems.copy()
    col = out.columns.get_loc("message")
    for r, i in first.items():  # one per knock-on record
        out.iat[int(i), col] = f"{out.iat[int(i), col]}; knock-on: {knock_on[int(r)]}"
    return out


def rejects_with_reasons(table: HorizonTable, problems: pd.DataFrame, rejected: np.ndarray, plot_bad: np.ndarray,
                         codes: np.ndarray) -> pd.DataFrame:
    """The rejected rows with ``reason`` (the blocking problem) and ``all_reasons`` (the rest).

    Parameters
    ----------
    table : HorizonTable
    problems : DataFrame
        Every problem, in row order (see :func:`fold_knock_on`).
    rejected : array of bool
        Rows rejected (their own errors, or their plot's).
    plot_bad : array of bool
        Records not scored.
    codes : array of int
        Record of each row.
    """
    positions = np.flatnonzero(rejected)
    if positions.size == 0:
        return rejected_rows(table, positions, [])
    errs = problems[(problems["severity"] == "error") & (problems["position"].to_numpy(dtype=np.int64) >= 0)]
    errs = errs.reset_index(drop=True).assign(pid=lambda f: np.arange(len(f)))
    errs["code"] = codes[errs["position"].to_numpy(dtype=np.int64)]
    errs["tagged"] = "row " + errs["row"].astype("Int64").astype(str) + ": " + errs["message"].astype(str)
    own = errs.groupby("position")["pid"].first()
    blocking = _blocking(errs, plot_bad)
    frame = pd.DataFrame({"position": positions, "code": codes[positions]})
    frame["pid"] = own.reindex(positions).to_numpy()
    from_plot = frame["pid"].isna().to_numpy()
    frame.loc[from_plot, "pid"] = blocking.reindex(frame.loc[from_plot, "code"]).to_numpy()
    reason = _reason_text(frame, errs, from_plot)
    return rejected_rows(table, positions, reason, _all_reasons(frame, errs, plot_bad))


def _blocking(errs: pd.DataFrame, plot_bad: np.ndarray) -> pd.Series:
    """Record -> problem id that blocked it: its first plot problem, else its first row error."""
    bad = errs[plot_bad[errs["code"].to_numpy()]]
    plot_level = bad[bad["rule"].isin(PLOT_RULES)].groupby("code")["pid"].first()
    return plot_level.combine_first(bad.groupby("code")["pid"].first())


def _reason_text(frame: pd.DataFrame, errs: pd.DataFrame, from_plot: np.ndarray) -> np.ndarray:
    pid = frame["pid"]
    known = pid.notna().to_numpy()
    ids = pid.fillna(0).astype(np.int64).to_numpy()
    own_text = errs["message"].to_numpy(dtype=object)[ids]
    # A plot blocked by another row's error names that row; by its own problem, just the problem.
    plot_rule = errs["rule"].isin(PLOT_RULES).to_numpy()[ids]
    plot_text = np.where(plot_rule, own_text, errs["tagged"].to_numpy(dtype=object)[ids])
    text = np.where(from_plot, "plot not scored: " + plot_text.astype(str), own_text)
    return np.where(known, text, "plot not scored: plot has errors")


def _all_reasons(frame: pd.DataFrame, errs: pd.DataFrame, plot_bad: np.ndarray) -> np.ndarray:
    """Every error of the row and (for rejected plots) of its plot, but the reason."""
    in_bad = plot_bad[frame["code"].to_numpy()]
    by_plot = frame[in_bad].merge(errs[["code", "pid", "position", "tagged", "message"]], on="code",
                                  suffixes=("", "_e"))
    by_row = frame[~in_bad].merge(errs[["position", "pid", "tagged", "message"]].rename(columns={"pid": "pid_e"}),
                                  on="position")
    by_row["position_e"] = by_row["position"]
    pairs = pd.concat([by_plot, by_row], ignore_index=True)
    pairs = pairs[pairs["pid_e"] != pairs["pid"]]
    text = np.where(pairs["position_e"] == pairs["position"], pairs["message"], pairs["tagged"])
    pairs = pairs.assign(text=text).sort_values(["position", "pid_e"], kind="stable")
    joined = pairs.groupby("position")["text"].agg(REASON_SEPARATOR.join)
    return joined.reindex(frame["position"]).fillna("").to_numpy(dtype=object)


__all__ = ["PLOT_RULES", "fold_knock_on", "rejects_with_reasons"]
