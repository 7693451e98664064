"""The Monte Carlo statistics joined to a deterministic result: columns and methods line."""

from __future__ import annotations

import numpy as np
import pandas as pd

from .factors import FactorModel
from .options import UncertaintyOptions


def append_statistics(frame: pd.DataFrame, columns: dict[str, np.ndarray],
                      rows: np.ndarray | None = None) -> pd.DataFrame:
    """``frame`` with new columns; with ``rows``, the values go to those rows, NaN/NA elsewhere."""
    out = frame.copy()
    partial = rows is not None and len(rows) < len(frame)
    for name, values in columns.items():
        if not partial:
            out[name] = values
        elif values.dtype == bool:
            full = pd.array([pd.NA] * len(frame), dtype="boolean")
            full[rows] = values
            out[name] = full
        elif values.dtype == object:
            full = np.full(len(frame), None, dtype=object)
            full[rows] = values
            out[name] = full
        else:
            full = np.full(len(frame), np.nan)
            full[rows] = values
            out[name] = full
    return out


def methods_line(unc: UncertaintyOptions, notes: list[str], factors: FactorModel | None) -> str:
    """The methods statement of a Monte Carlo run: draws, distributions, what was held fixed, notes."""
    parts = [f"Monte Carlo uncertainty: {unc.draws} draws (seed {unc.seed}); mean, median and 2.5-97.5 percentiles"]
    if factors is not None:
        if unc.factors:
            parts.append("SOC_REF, stock change factors and practice factors lognormal (mean = table value, sd "
                         "from the tabled +/-), one draw per table cell shared by all plots; practice rates normal")
            fixed = factors.without_uncertainty()
            if fixed:
                parts.append(f"rates without published uncertainty held fixed: {', '.join(fixed)}")
        else:
            parts.append("coefficients held at their table values")
        parts.append(f"verdict at confidence {unc.confidence:g} (p_meets_4p1000 >= {unc.confidence:g}; "
                     "'uncertain' where p_meets_4p1000 is within 2 Monte Carlo standard errors of it)")
    if unc.measurement:
        parts.append("measurement errors lognormal, independent per layer (data/measurement_errors.csv and "
                     "*_sd_pct columns)")
    else:
        parts.append("measurements held at their values")
    return "; ".join(parts + notes)
