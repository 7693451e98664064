"""Rejected rows: input rows as the user wrote them, with their row number and the reasons.

Every command that sets rows aside (``estimate``, ``project``/``score``, ``compare``) returns
them in this one shape, so ``--rejects FILE`` can be fixed and fed back in: ``row`` (the row
number as the user sees it), the user's own columns as read, then ``reason`` (the problem
that blocked the row) and ``all_reasons`` (every other problem of the row and of its plot,
``" | "``-separated; empty when there is none). :func:`rejects_csv_text` writes them as a
valid CSV whatever the cells hold.

The user's columns keep their names: where one is already called ``row``, ``reason``,
``all_reasons`` (or ``file``, for ``compare``), the rejects' own column of that name is
prefixed ``fourp1000_`` (:func:`own_column`), never written over the user's.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence

import numpy as np
import pandas as pd

from .horizons import HorizonTable

#: Separator of the problems listed in ``all_reasons`` (messages may contain ``;``).
REASON_SEPARATOR = " | "


def rejected_rows(table: HorizonTable, positions: np.ndarray, reasons: str | Sequence[str] | np.ndarray,
                  all_reasons: str | Sequence[str] | np.ndarray = "") -> pd.DataFrame:
    """The input rows at ``positions`` with ``row``, ``reason`` and ``all_reasons`` columns.

    Parameters
    ----------
    table : HorizonTable
        The table the positions index (``table.raw`` holds the rows as read).
    positions : array of int
        0-based positions of the rejected rows.
    reasons : str or sequence of str
        The problem that blocked each row (one for all, or one per position).
    all_reasons : str or sequence of str, default ""
        The row's (and its plot's) other problems, joined with :data:`REASON_SEPARATOR`.

    Returns
    -------
    pandas.DataFrame
        ``row``, the raw columns, ``reason``, ``all_reasons``; with no position, an empty
        frame with those columns.
    """
    positions = np.asarray(positions, dtype=np.int64)
    user = list(table.raw.columns)
    if positions.size == 0:
        return pd.DataFrame(columns=[own_column(user, "row")] + user
                            + [own_column(user, "reason"), own_column(user, "all_reasons")])
    out = table.raw.iloc[positions].reset_index(drop=True).copy()
    out.insert(0, own_column(user, "row"), table.frame["source_row"].to_numpy()[positions])
    out[own_column(user, "reason")] = reasons
    out[own_column(user, "all_reasons")] = all_reasons
    return out


def own_column(user_columns, name: str) -> str:
    """``name`` for a column the rejects add, or ``fourp1000_<name>`` when the user has a
    column called ``name`` (it is never written over).

    >>> own_column(["plot_id", "reason"], "reason"), own_column(["plot_id"], "reason")
    ('fourp1000_reason', 'reason')
    """
    columns = set(map(str, user_columns))
    candidate = name
    while candidate in columns:
        candidate = f"fourp1000_{candidate}"
    return candidate


def rejects_csv_text(frame: pd.DataFrame, *, quote_all: bool | None = None, header: bool = True) -> str:
    """CSV text of a rejects table that any CSV reader reads back cell for cell.

    Ids and notes as labs write them may hold a carriage return, a line feed, a quote or
    the separator; Python's minimal quoting leaves a lone carriage return unquoted (it
    quotes only the characters of the line terminator), which splits the record for most
    readers. Where any text cell or header holds one, every field is quoted
    (:func:`needs_quote_all`; a table written in parts passes ``quote_all`` of the whole
    and ``header=False`` after the first part).
    """
    quote_all = needs_quote_all(frame) if quote_all is None else quote_all
    quoting = csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL
    return frame.to_csv(index=False, lineterminator="\n", quoting=quoting, header=header)


def needs_quote_all(frame: pd.DataFrame) -> bool:
    """Whether a header or text cell of ``frame`` holds a carriage return."""
    text_cols = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    return any("\r" in str(c) for c in frame.columns) or any(
        frame[c].astype("string").str.contains("\r", regex=False).fillna(False).any() for c in text_cols)


__all__ = ["REASON_SEPARATOR", "needs_quote_all", "own_column", "rejected_rows", "rejects_csv_text"]
