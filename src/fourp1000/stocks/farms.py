"""Farm totals from plots: the one area-weighted aggregation.

Per-hectare quantities of plots [t ha-1] become farm totals [t] by multiplying each by the
plot's area and summing over the plots of a farm; a farm's per-hectare value is its total
over its area (an area-weighted mean). Plots without a positive area are counted apart
(``n_plots_without_area``) and add nothing to the area or the totals.

Used by ``estimate`` (:func:`fourp1000.stocks.estimate.farm_summary`), ``project``/``score``
(:func:`fourp1000.projection.tier1.aggregate_farms`) and ``compare``
(:func:`fourp1000.esm.campaigns.compare_farm_summary`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

AREA_COLUMN = "area_ha"


def has_area(area_ha: pd.Series | np.ndarray) -> np.ndarray:
    """True where a plot has a positive area [ha] (NaN and 0 count as no area)."""
    area = np.asarray(area_ha, dtype=float)
    with np.errstate(invalid="ignore"):
        return ~np.isnan(area) & (area > 0)


def farm_totals(plots: pd.DataFrame, keys: Sequence[str], per_ha: Mapping[str, str]) -> pd.DataFrame:
    """Area-weighted totals of per-hectare plot quantities, one row per farm.

    Parameters
    ----------
    plots : pandas.DataFrame
        One row per plot, with the ``keys`` columns, ``area_ha`` [ha] and the per-hectare
        columns named in ``per_ha``.
    keys : sequence of str
        Columns that identify a farm (e.g. ``["farm_id"]`` or ``["farm_id", "sampled_on"]``);
        missing values form a group of their own.
    per_ha : mapping of str to str
        ``{total column: per-hectare column}``, e.g. ``{"soc_stock_t_c": "soc_stock_t_ha"}``.

    Returns
    -------
    pandas.DataFrame
        The ``keys``, ``n_plots``, ``n_plots_without_area``, ``area_ha`` [ha] (sum over the
        plots with an area) and each total [t] (sum of per-hectare value x area), farms in
        order of first appearance.
    """
    keys = list(keys)
    with_area = has_area(plots[AREA_COLUMN])
    area = np.where(with_area, plots[AREA_COLUMN].to_numpy(dtype=float), 0.0)
    columns = {key: plots[key] for key in keys}  # built at once: no copy per added column
    columns.update(_with_area=with_area, _area=area)
    for total, column in per_ha.items():
        columns[total] = np.where(with_area, plots[column].to_numpy(dtype=float) * area, 0.0)
    frame = pd.DataFrame(columns)
    grouped = frame.groupby(keys, sort=False, dropna=False)
    farms = grouped[["_with_area", "_area", *per_ha]].sum().reset_index()  # the sums in one pass
    n_plots = grouped.size().to_numpy()
    farms.insert(len(keys), "n_plots", n_plots)
    farms.insert(len(keys) + 1, "n_plots_without_area", n_plots - farms.pop("_with_area"))
    return farms.rename(columns={"_area": AREA_COLUMN})


def per_hectare(total: pd.Series | np.ndarray, area_ha: pd.Series | np.ndarray) -> np.ndarray:
    """Area-weighted mean [t ha-1]: a farm total [t] over its area [ha] (NaN without area)."""
    total = np.asarray(total, dtype=float)
    area = np.asarray(area_ha, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(area > 0, total / area, np.nan)


__all__ = ["AREA_COLUMN", "farm_totals", "has_area", "per_hectare"]
