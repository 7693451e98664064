"""Monte Carlo statistics of the SOC stocks of an ``estimate`` result (measurement errors).

Entry point :func:`estimate_uncertainty`; the engine is :mod:`fourp1000.uncertainty.engine`
and the layers' errors come from :mod:`fourp1000.uncertainty.measurement`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import pandas as pd

from ..stocks.estimate import EstimateOptions, EstimateResult
from ..stocks.farms import has_area
from .draws import DrawStreams
from .engine import SimulationPlan, processing_order, simulate
from .layers import block_stocks, sort_by_processing_rank
from .measurement import layer_errors
from .options import UncertaintyOptions
from .results import append_statistics, methods_line


def estimate_uncertainty(table, result: EstimateResult, options: EstimateOptions | None = None,
                         uncertainty: UncertaintyOptions | None = None) -> EstimateResult:
    """Add Monte Carlo statistics of the SOC stocks to an ``estimate`` result.

    Parameters
    ----------
    table : fourp1000.io.horizons.HorizonTable
        The input of ``result``.
    result : fourp1000.stocks.estimate.EstimateResult
        From :func:`fourp1000.stocks.estimate.estimate_stocks` with ``options``.
    options : EstimateOptions
    uncertainty : UncertaintyOptions

    Returns
    -------
    EstimateResult
        ``plots`` with ``soc_stock_t_ha_{mean,median,p2_5,p97_5}`` [t C ha-1]; ``farms``
        with ``soc_stock_t_c_*`` [t C] and ``soc_stock_t_ha_*`` [t C ha-1]; a methods line.

    Notes
    -----
    Only measurement errors enter a stock estimate (no coefficient is involved). Farm
    totals average replicate cores per plot, as :func:`fourp1000.stocks.estimate.farm_summary`.
    """
    unc = uncertainty or UncertaintyOptions()
    unc.check()
    opts = options or EstimateOptions()
    plots = result.plots
    layers = layer_errors(table, result, opts, unc.measurement_errors)
    farm_code, farm_weight, farm_area, farm_rows = _estimate_farms(plots, result.farms)
    order = processing_order(len(plots), farm_code)
    canon, rank_sorted = sort_by_processing_rank(layers, order)
    streams = DrawStreams(unc.seed)
    n_total = len(layers)

    def make_block(block: np.ndarray, start: int) -> Callable[[int, int], dict[str, np.ndarray]]:
        part = block_stocks(canon, rank_sorted, start, start + block.size, streams, n_total, unc.measurement)

        def evaluate(d0: int, d1: int) -> dict[str, np.ndarray]:
            stock = np.zeros((d1 - d0, block.size))
            if part is not None:
                cols, values = part(d0, d1)
                stock[:, cols] = values
            return {"soc_stock_t_ha": stock}

        return evaluate

    def derived(sums: dict[str, np.ndarray], ids: np.ndarray) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            area = farm_area[ids][:, None]
            return {"soc_stock_t_ha": np.where(area > 0, sums["soc_stock_t_c"] / area, np.nan)}

    plan = SimulationPlan(len(plots), ("soc_stock_t_ha",), make_block, None, farm_code,
                 0 if farm_area is None else farm_area.size, farm_weight,
                 (("soc_stock_t_c", "soc_stock_t_ha"),), derived, ("soc_stock_t_c", "soc_stock_t_ha"))
    counts = np.bincount(layers.unit, minlength=len(plots)) if len(layers) else np.zeros(len(plots), int)
    summary = simulate(plan, unc, layers_per_unit=counts)
    new_plots = append_statistics(plots, summary.units)
    new_farms = result.farms
    if result.farms is not None and farm_rows is not None:
        new_farms = append_statistics(result.farms, {k: v[farm_rows] for k, v in summary.farms.items()})
    methods = list(result.methods) + [methods_line(unc, layers.notes, None)]
    return dataclasses.replace(result, plots=new_plots, farms=new_farms, methods=methods)


def _estimate_farms(plots: pd.DataFrame, farms: pd.DataFrame | None):
    """Farm group of each record and its weight in the farm total (area / cores), as
    :func:`fourp1000.stocks.estimate.farm_summary` groups them (plots without an area,
    :func:`fourp1000.stocks.farms.has_area`, weigh nothing)."""
    if farms is None or "farm_id" not in plots or "area_ha" not in plots or plots.empty:
        return None, None, None, None
    date = ["sampled_on"] if "sampled_on" in plots else []
    keys = plots[["farm_id", "plot_id"] + date].astype("string").fillna("\x00")
    group = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    cores = np.bincount(group)[group]
    area = pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float)
    first_area = pd.Series(area).groupby(group).first().to_numpy()[group]
    weight = np.where(has_area(first_area), first_area / cores, 0.0)
    fkeys = keys[["farm_id"] + date]
    farm_code = fkeys.groupby(list(fkeys.columns), sort=False).ngroup().to_numpy()
    table_keys = farms[["farm_id"] + date].astype("string").fillna("\x00")
    uniq = fkeys.drop_duplicates().reset_index(drop=True)
    rows = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(table_keys))
    area_of_farm = np.zeros(len(uniq))
    area_of_farm[rows[rows >= 0]] = farms["area_ha"].to_numpy(dtype=float)[rows >= 0]
    return farm_code, weight, area_of_farm, rows
