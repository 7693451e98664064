"""Farm totals of a plan, through the one area-weighted aggregation (:mod:`fourp1000.stocks.farms`).

Per farm (and model): the farm's rate if every plot adopts its chosen set (the best
reachable one where none meets 4 per 1000), the share of plots and of area that can reach
4 per 1000 with the available practices, and the extra RothC input at farm scale.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..stocks.farms import farm_totals
from ..targets import meets_target, rate_per_mille

#: Farm columns of :func:`plan_farms` after ``model``, ``farm_id``, ``n_plots``,
#: ``n_plots_without_area`` and ``area_ha``.
FARM_COLUMNS = ("baseline_stock_t_c", "annual_change_t_c_yr", "rate_per_mille", "meets_4p1000",
                "n_plots_reachable", "share_plots_reachable", "area_reachable_ha", "share_area_reachable")
# Farm totals [per year] of per-hectare plot columns, when the plan has them.
_EXTRA_TOTALS = {"extra_plant_input_t_c_yr": "extra_plant_input_t_c_ha_yr",
                 "extra_manure_c_t_yr": "extra_manure_c_t_ha_yr",
                 "practice_set_cost": "practice_set_cost_per_ha"}


def plan_farms(plots: pd.DataFrame) -> pd.DataFrame:
    """Area-weighted farm results of a plan.

    Parameters
    ----------
    plots : pandas.DataFrame
        :attr:`fourp1000.plan.PlanResult.plots`: ``model``, ``farm_id`` (plots without one
        form the farm ``"all"``), ``area_ha`` [ha], ``baseline_stock_t_ha``,
        ``practice_set_annual_change_t_ha_yr``, ``reachable`` and, where present,
        ``extra_plant_input_t_c_ha_yr``, ``extra_manure_c_t_ha_yr`` [t C ha-1 yr-1] and
        ``practice_set_cost_per_ha``.

    Returns
    -------
    pandas.DataFrame
        One row per model and farm: ``model``, ``farm_id``, ``n_plots``,
        ``n_plots_without_area``, ``area_ha`` and :data:`FARM_COLUMNS`; with RothC
        ``extra_plant_input_t_c_yr`` and ``extra_manure_c_t_yr`` [t C yr-1] (the extra input
        the whole farm needs, NaN where a plot's is unknown); with costs
        ``practice_set_cost`` (per year, in the costs' currency).
    """
    frame = pd.DataFrame({
        "model": plots["model"].to_numpy(dtype=object),
        "farm_id": (plots["farm_id"].astype(object).where(plots["farm_id"].notna(), "all").to_numpy(dtype=object)
                    if "farm_id" in plots else np.full(len(plots), "all", dtype=object)),
        "area_ha": pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float),
        "baseline_stock_t_ha": plots["baseline_stock_t_ha"].to_numpy(dtype=float),
        "annual_change_t_ha_yr": plots["practice_set_annual_change_t_ha_yr"].to_numpy(dtype=float),
        "reachable_share": plots["reachable"].to_numpy(dtype=float),
    })
    per_ha = {"baseline_stock_t_c": "baseline_stock_t_ha", "annual_change_t_c_yr": "annual_change_t_ha_yr",
              "area_reachable_ha": "reachable_share"}
    extra = {total: col for total, col in _EXTRA_TOTALS.items() if col in plots.columns}
    for total, col in extra.items():
        frame[col] = pd.to_numeric(plots[col], errors="coerce").to_numpy(dtype=float)
        frame[f"_missing_{col}"] = ~np.isfinite(frame[col].to_numpy())
    farms = farm_totals(frame, ["model", "farm_id"], {**per_ha, **extra})
    groups = frame.groupby(["model", "farm_id"], sort=False, dropna=False)
    counts = groups.agg(n_plots_reachable=("reachable_share", "sum"),
                        **{f"_missing_{c}": (f"_missing_{c}", "sum") for c in extra.values()}).reset_index()
    farms = farms.merge(counts, on=["model", "farm_id"], how="left", sort=False)
    for total, col in extra.items():  # an unknown plot makes the farm total unknown
        farms[total] = farms[total].where(farms.pop(f"_missing_{col}") == 0)
    farms["rate_per_mille"] = rate_per_mille(farms["annual_change_t_c_yr"], farms["baseline_stock_t_c"])
    farms["meets_4p1000"] = meets_target(farms["rate_per_mille"])
    farms["n_plots_reachable"] = farms["n_plots_reachable"].astype(int)
    farms["share_plots_reachable"] = farms["n_plots_reachable"] / farms["n_plots"]
    with np.errstate(invalid="ignore", divide="ignore"):
        farms["share_area_reachable"] = np.where(farms["area_ha"] > 0, farms["area_reachable_ha"] / farms["area_ha"],
                                                 np.nan)
    head = ["model", "farm_id", "n_plots", "n_plots_without_area", "area_ha"]
    return farms[head + list(FARM_COLUMNS) + list(extra)]
