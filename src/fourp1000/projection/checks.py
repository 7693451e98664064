"""Find every faulty plot of a table in one pass, from checks that raise on the first fault.

The library's checks raise a :class:`~fourp1000.errors.FourP1000Error` naming every row
that shares the first fault they meet. :func:`errors_by_group` runs such a check once on
each group of plots that are alike in the inputs the check reads: within a group the check
accepts or refuses every plot together, so one call per group finds every fault, with no
re-run after dropping rows.
"""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np
import pandas as pd

from ..errors import FourP1000Error


def group_codes(keys: Sequence[pd.Series | np.ndarray], n: int) -> np.ndarray:
    """Group number of each of ``n`` plots: plots with equal ``keys`` (missing values equal too) share one.

    Groups are numbered in order of first appearance.
    """
    codes = np.zeros(n, dtype=np.int64)
    for key in keys:
        # each key's own codes (a column keeps its dtype: no object copy), folded into the
        # codes so far; numbered again at each step, so the numbers stay below n x n
        values = key if isinstance(key, pd.Series) else np.asarray(key)
        if not isinstance(values, pd.Series) and values.dtype.kind not in "biufM":
            values = pd.Series(values.astype(object))  # text and mixed values, compared as Python objects
        own, uniques = pd.factorize(values, use_na_sentinel=False)
        codes = pd.factorize(codes * max(len(uniques), 1) + own)[0].astype(np.int64)
    return codes


def errors_by_group(check: Callable[[pd.DataFrame], object], plots: pd.DataFrame,
                    keys: Sequence[pd.Series | np.ndarray]) -> list[FourP1000Error]:
    """Run ``check`` once on each group of plots alike in ``keys`` and collect what it raises.

    Parameters
    ----------
    check : callable
        Takes a subset of ``plots`` (index reset); raises a ``FourP1000Error`` whose
        ``rows`` name the faulty plots.
    plots : pandas.DataFrame
        One row per plot, with ``source_row``.
    keys : sequence of array-like
        One value per plot each: the inputs that decide whether ``check`` accepts a plot.

    Returns
    -------
    list of FourP1000Error
        One per faulty group, in order of the groups' first plots.
    """
    codes = group_codes(keys, len(plots))
    errors = []
    for code in range(int(codes.max()) + 1 if len(codes) else 0):  # distinct inputs, not plots
        try:
            check(plots[codes == code].reset_index(drop=True))
        except FourP1000Error as exc:
            errors.append(exc)
    return errors
