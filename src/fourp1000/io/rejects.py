"""Rejected rows: input rows as the user wrote them, with their row number and the reason.

Every command that sets rows aside (``estimate``, ``project``/``score``, ``compare``) returns
them in this one shape, so ``--rejects FILE`` can be fixed and fed back in: ``row`` (the row
number as the user sees it), the user's own columns as read, then ``reason``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from .horizons import HorizonTable


def rejected_rows(table: HorizonTable, positions: np.ndarray, reasons: str | Sequence[str] | np.ndarray
                  ) -> pd.DataFrame:
    """The input rows at ``positions`` with ``row`` and ``reason`` columns.

    Parameters
    ----------
    table : HorizonTable
        The table the positions index (``table.raw`` holds the rows as read).
    positions : array of int
        0-based positions of the rejected rows.
    reasons : str or sequence of str
        Why each row was rejected (one for all, or one per position).

    Returns
    -------
    pandas.DataFrame
        ``row``, the raw columns, ``reason``; with no position, an empty frame with the raw
        columns, ``row`` and ``reason``.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if positions.size == 0:
        return pd.DataFrame(columns=list(table.raw.columns) + ["row", "reason"])
    out = table.raw.iloc[positions].reset_index(drop=True).copy()
    out.insert(0, "row", table.frame["source_row"].to_numpy()[positions])
    out["reason"] = reasons
    return out


__all__ = ["rejected_rows"]
