"""Measurement errors per layer: the default error table and the layers behind each stock.

Default errors are package data (``data/measurement_errors.csv``, one standard deviation
each, with sources); per-layer columns ``soc_sd_pct``, ``bulk_density_sd_pct`` and
``coarse_fragments_sd_pct`` override them. :func:`layer_errors` takes, for every record
of an ``estimate`` result, the layers the pipeline summed (``EstimateResult.layers``) and
gives each its contribution to the stock and its relative errors
(:class:`fourp1000.uncertainty.layers.LayerErrors`).
Sampling and laboratory errors of different samples are independent [1]_.

References
----------
.. [1] Goidts E., van Wesemael B., Crucifix M. (2009) Magnitude and sources of uncertainties
   in soil organic carbon (SOC) stock assessments at various scales. Eur. J. Soil Sci.
   60:723-739, doi:10.1111/j.1365-2389.2009.01157.x
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import InputError, ReferenceDataError
from ..tables import read_csv_table
from ..stocks.estimate import EstimateOptions, EstimateResult
from ..stocks.ptf import ptf_table
from .layers import LayerErrors

#: Per-layer columns that override the default relative errors [% of the value, 1 sd].
OVERRIDE_COLUMNS = {"soc": "soc_sd_pct", "bulk_density": "bulk_density_sd_pct",
                    "coarse_fragments": "coarse_fragments_sd_pct"}
ERRORS_FILE = "measurement_errors.csv"


@lru_cache(maxsize=1)
def measurement_error_table() -> pd.DataFrame:
    """Default measurement errors (``data/measurement_errors.csv``), one row per quantity
    and method: ``quantity``, ``method``, ``sd``, ``sd_unit`` (``pct`` of the value or
    ``g_cm3``), ``status``, ``source``, ``doi``, ``note``. Every bulk-density PTF of
    ``data/bd_ptf.csv`` has a row."""
    table = read_csv_table(ERRORS_FILE, required=["quantity", "method", "sd", "sd_unit"])
    _check_error_table(table, ERRORS_FILE)
    return table


def _check_error_table(table: pd.DataFrame, label: str) -> None:
    need = {"quantity", "method", "sd", "sd_unit"}
    if not need <= set(table.columns):
        raise ReferenceDataError(f"{label} lacks columns {sorted(need - set(table.columns))}")
    keys = set(zip(table["quantity"], table["method"]))
    wanted = {("soc", "measured"), ("soc", "from_som"), ("bulk_density", "measured"),
              ("coarse_fragments", "measured")} | {("bulk_density", p) for p in ptf_table().index}
    if not wanted <= keys:
        raise ReferenceDataError(f"{label} has no row for {sorted(wanted - keys)}")
    if (pd.to_numeric(table["sd"], errors="coerce") < 0).any() or table["sd"].isna().any():
        raise ReferenceDataError(f"{label}: sd must be a non-negative number in every row")


def _default_error(table: pd.DataFrame, quantity: str, method: str) -> tuple[float, str]:
    row = table[(table["quantity"] == quantity) & (table["method"] == method)].iloc[0]
    return float(row["sd"]), str(row["sd_unit"])


def _override(frame: pd.DataFrame, column: str, rows: np.ndarray, label: str) -> np.ndarray:
    """Per-layer relative error [-] from an override column (NaN where not given)."""
    if column not in frame.columns:
        return np.full(rows.size, np.nan)
    values = pd.to_numeric(frame[column].iloc[rows], errors="coerce").to_numpy(dtype=float)
    raw = frame[column].iloc[rows]
    bad = (values < 0) | (np.isnan(values) & raw.notna().to_numpy() & (raw.astype("string").str.strip() != ""))
    if bad.any():
        first = np.flatnonzero(bad)[0]
        where = f" in row {int(frame['source_row'].iloc[rows[first]])}" if "source_row" in frame else ""
        raise InputError(f"{label}: {column} must be a non-negative number (% of the value, one standard "
                         f"deviation){where}, got {str(raw.iloc[first])!r}")
    return values / 100.0


def layer_errors(table, result: EstimateResult, options: EstimateOptions | None = None,
                 errors: pd.DataFrame | None = None) -> LayerErrors:
    """The layers behind each record of an ``estimate`` result, with their errors.

    Parameters
    ----------
    table : fourp1000.io.horizons.HorizonTable
        The table ``result`` was computed from (for the ``*_sd_pct`` override columns).
    result : fourp1000.stocks.estimate.EstimateResult
        Deterministic stocks (records in ``result.plots``, layers in ``result.layers``).
    options : EstimateOptions
        The options of that run.
    errors : pandas.DataFrame, optional
        Error table; default :func:`measurement_error_table`.

    Returns
    -------
    LayerErrors
        ``unit`` is the row of ``result.plots``.

    Notes
    -----
    The layers, their bulk densities (measured, from bulk-density-only rows, or predicted
    with a PTF) and their fine-earth densities are the pipeline's own
    (:attr:`fourp1000.stocks.estimate.EstimateResult.layers`); each layer contributes carbon
    density x its overlap with the depth interval. With the proportional depth method this
    is the pipeline's stock exactly. The spline (a linear smoother with other weights), gap
    filling and the exponential extension below the deepest layer are not reproduced layer
    by layer: the contributions of such records are rescaled to the pipeline's stock, i.e.
    their errors are propagated with the proportional weights (noted in ``notes``). The
    dependence of a PTF's prediction on the drawn SOC is ignored (second order beside the
    PTF's own error).
    """
    opts = options or EstimateOptions()
    errors = measurement_error_table() if errors is None else errors
    _check_error_table(errors, "measurement error table")
    layers = result.layers
    if layers is None:
        raise InputError("the estimate result has no layer table; compute it with estimate_stocks")
    unit = layers["record"].to_numpy(dtype=np.int64)
    contribution = layers["carbon_density_t_c_ha_cm"].to_numpy(dtype=float) * layers["overlap_cm"].to_numpy(dtype=float)
    notes: list[str] = []
    contribution = rescale_to_stock(unit, contribution, result.plots["soc_stock_t_ha"].to_numpy(dtype=float), notes,
                                    exact=opts.depth_method == "proportional" and not opts.extrapolate,
                                    what="records")
    bd = layers["bulk_density_g_cm3"].to_numpy(dtype=float)
    soc_cv, bd_cv, cf_cv = _relative_errors(table, layers, errors, notes)
    return LayerErrors(unit, contribution, soc_cv, bd_cv, cf_cv, bd,
                       layers["coarse_fragments_pct"].to_numpy(dtype=float),
                       layers["coarse_fragments_mass_pct"].to_numpy(dtype=float),
                       layers["bd_basis"].to_numpy(dtype=object), opts.stone_density_g_cm3, notes)


def _relative_errors(table, layers: pd.DataFrame, errors: pd.DataFrame, notes: list[str]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative errors [-] of SOC, BD and coarse fragments per layer: the override columns,
    else the defaults by kind of value (a PTF's error for predicted bulk densities)."""
    frame = table.frame
    rows = layers["position"].to_numpy(dtype=np.int64)
    label = getattr(table, "label", "input")
    soc_cv = _override(frame, OVERRIDE_COLUMNS["soc"], rows, label)
    bd_cv = _override(frame, OVERRIDE_COLUMNS["bulk_density"], rows, label)
    cf_cv = _override(frame, OVERRIDE_COLUMNS["coarse_fragments"], rows, label)
    from_som = (frame["soc_from"].to_numpy(dtype=object)[rows] == "som_pct") if "soc_from" in frame else \
        np.zeros(rows.size, dtype=bool)
    soc_cv = np.where(np.isnan(soc_cv), np.where(from_som, _pct(errors, "soc", "from_som"),
                                                 _pct(errors, "soc", "measured")), soc_cv)
    ptf_rows = layers["bd_ptf"].to_numpy(dtype=object).astype(str)
    predicted = ptf_rows != ""
    bd = layers["bulk_density_g_cm3"].to_numpy(dtype=float)
    bd_cv = np.where(np.isnan(bd_cv), _pct(errors, "bulk_density", "measured"), bd_cv)
    for name in np.unique(ptf_rows[predicted]):  # a handful of PTFs
        sd, sd_unit = _default_error(errors, "bulk_density", name)
        sel = ptf_rows == name
        # A PTF's RMSE is absolute [g cm-3]; it replaces any measured-BD error given for the row.
        bd_cv[sel] = sd / bd[sel] if sd_unit == "g_cm3" else sd / 100.0
    cf_cv = np.where(np.isnan(cf_cv), _pct(errors, "coarse_fragments", "measured"), cf_cv)
    if predicted.any():
        notes.append(f"{int(predicted.sum())} layers with PTF bulk density drawn with the PTF's error "
                     f"({', '.join(sorted(set(ptf_rows[predicted])))})")
    return soc_cv, bd_cv, cf_cv


def _pct(errors: pd.DataFrame, quantity: str, method: str) -> float:
    sd, sd_unit = _default_error(errors, quantity, method)
    if sd_unit != "pct":
        raise ReferenceDataError(f"measurement error of {quantity} ({method}) must be in pct, got {sd_unit!r}")
    return sd / 100.0


def rescale_to_stock(unit: np.ndarray, contribution: np.ndarray, target: np.ndarray, notes: list[str], *, exact: bool,
             what: str) -> np.ndarray:
    """Scale each unit's layer contributions [t C ha-1] so they add up to its deterministic
    stock ``target`` [t C ha-1]; a note says how far they were off (or why, when not ``exact``)."""
    total = np.bincount(unit, weights=contribution, minlength=target.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > 0, target / total, 1.0)
    off = np.abs(scale - 1.0) > 1e-9
    if off.any():
        worst = float(np.nanmax(np.abs(scale[off] - 1.0)))
        if exact:
            notes.append(f"layer contributions of {int(off.sum())} {what} differed from the pipeline's stock by up to "
                         f"{worst:.2%} and were rescaled to it")
        else:
            notes.append(f"measurement errors of {int(off.sum())} {what} (spline, gap filling or extrapolation) "
                         "propagated with proportional layer weights, rescaled to the pipeline's stock")
    return contribution * np.nan_to_num(scale[unit], nan=1.0)
