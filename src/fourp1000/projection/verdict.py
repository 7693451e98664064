"""What a projection credits, and what a soil scientist would say about it, per plot.

Applied by every projection model after it has projected the 0-30 cm stock (the depth of
IPCC Tier 1 and of the RothC layer), in this order:

1. **Depth** (:func:`depth_share`): the 4 per 1000 target is on the 0-30/40 cm stock
   (Minasny et al. 2017). For another depth the practice effect applies only to the part
   of the requested interval within 0-30 cm, in proportion to its stock, and the rate is
   expressed on the stock of the requested interval.
2. **Storage potential** (:func:`capacity_columns`): mineral-associated carbon capacity of
   the stock's depth from its texture (Hassink 1997, < 20 um fraction; Georgiou et al.
   2022 for the maximum) and the saturation deficit; a projected gain above the deficit is
   flagged ``above_capacity`` (and capped with ``cap_at_capacity``).
3. **Caveats** (:data:`CAVEATS`): ';'-separated keywords that qualify the verdict.

References
----------
.. [1] Minasny B. et al. (2017) Soil carbon 4 per mille. Geoderma 292:59-86,
   doi:10.1016/j.geoderma.2017.01.002
.. [2] Hassink J. (1997) Plant and Soil 191:77-87, doi:10.1023/A:1004213929699
.. [3] Georgiou K. et al. (2022) Nature Communications 13:3797, doi:10.1038/s41467-022-31540-9
.. [4] Powlson D.S. et al. (2014) Limited potential of no-till agriculture for climate
   change mitigation. Nature Climate Change 4:678-683
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..practices import SEPARATOR
from ..stocks import capacity
from ..targets import change_columns, meets_target
from .yearly import DepthRule, YearlyStocks

#: Caveat keywords, in the order they are listed in the ``caveats`` column.
CAVEATS = {
    "tillage_redistribution": "a tillage change is credited; in 0-30 cm it is largely carbon moved within the "
                              "profile (Powlson et al. 2014), not a net gain",
    "meets_only_through_tillage": "the plot meets 4 per 1000 only with the tillage credit",
    "stacked_effects": "the combined effect exceeds the largest single-practice effect for this climate and land use",
    "above_capacity": "the projected gain exceeds the saturation deficit of the mineral-associated carbon",
    "capped_at_capacity": "the gain was capped at the saturation deficit (--cap-at-capacity)",
    "implausible_input": "the fitted RothC plant input exceeds the climatic ceiling (Miami NPP): low confidence",
    "unconfirmed_factor": "a table value used is unconfirmed (see least_confirmed)",
    "depth_0_30_only": "no stock was measured over the requested depth: the 0-30 cm stock is used",
}
#: Share of SOC that is mineral-associated, for the saturation deficit: Georgiou et al.
#: (2022), global topsoil (``data/maoc_share.csv``).
MAOC_SOURCE = "georgiou_2022"
#: Upper limit of the silt fraction assumed when converting clay + silt to < 20 um [um].
SILT_UPPER_UM = 50.0
# IPCC soil classes whose clay mineralogy is known (Georgiou et al. 2022 slopes).
_MINERAL_OF_SOIL_CLASS = {"HAC": "high_activity", "LAC": "low_activity"}
#: Plot-table columns filled by :func:`fourp1000.projection.table.plot_table` for this module.
DEPTH_STOCK_COLUMN = "stock_depth_t_c_ha"
OVERLAP_STOCK_COLUMN = "stock_overlap_0_30_t_c_ha"
FINE_EARTH_COLUMN = "fine_earth_t_ha"
#: Result column a model may add: its final 0-30 cm stock without the tillage credit.
WITHOUT_TILLAGE_COLUMN = "final_stock_without_tillage_t_ha"


def caveat_text(flags: dict[str, np.ndarray], n: int) -> np.ndarray:
    """``;``-joined caveat keywords of each plot, in :data:`CAVEATS` order ("" for none)."""
    keys = [key for key in CAVEATS if flags.get(key) is not None]
    bits = np.zeros(n, dtype=np.int64)
    for j, key in enumerate(keys):
        bits |= np.broadcast_to(np.asarray(flags[key], bool), (n,)).astype(np.int64) << j
    codes, uniques = pd.factorize(bits)
    # a handful of distinct combinations, each joined once (not a string operation per plot)
    labels = [SEPARATOR.join(key for j, key in enumerate(keys) if (int(u) >> j) & 1) for u in uniques]
    return np.asarray(labels + [""], dtype=object)[codes]


def add_caveats(existing: np.ndarray, flags: dict[str, np.ndarray]) -> np.ndarray:
    """Caveats of ``existing`` plus ``flags``, re-ordered as :data:`CAVEATS`."""
    existing = np.asarray(existing, dtype=object)
    codes, uniques = pd.factorize(pd.Series(existing, dtype=object).fillna(""))
    merged = {key: np.asarray([key in str(u).split(SEPARATOR) for u in uniques], bool)[codes]
              for key in CAVEATS}  # a handful of distinct caveat lists, not one per plot
    for key, mask in flags.items():
        merged[key] = merged[key] | np.asarray(mask, bool)
    return caveat_text(merged, existing.size)


def _float(plots: pd.DataFrame, name: str) -> np.ndarray:
    if name not in plots.columns:
        return np.full(len(plots), np.nan)
    return pd.to_numeric(plots[name], errors="coerce").to_numpy(dtype=float)


def depth_share(plots: pd.DataFrame, stock_0_30_t_ha: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Stock of the requested depth and the share of the 0-30 cm change it receives.

    Parameters
    ----------
    plots : pandas.DataFrame
        Plot table with :data:`DEPTH_STOCK_COLUMN` and :data:`OVERLAP_STOCK_COLUMN` [t C ha-1]
        (absent or NaN: the requested depth is 0-30 cm, or the plot has no layers).
    stock_0_30_t_ha : array [t C ha-1]
        The 0-30 cm stock the model projected.

    Returns
    -------
    stock_t_ha : numpy.ndarray [t C ha-1]
        Baseline stock over the requested depth (the 0-30 cm stock where none).
    share : numpy.ndarray [-]
        Part of the 0-30 cm change inside the requested interval: stock of the overlap of
        the interval with 0-30 cm over the 0-30 cm stock (1 for 0-30 and 0-40 cm).
    fallback : numpy.ndarray of bool
        Plots without a stock over the requested depth.

    Notes
    -----
    Tier 1 factors and the RothC layer describe 0-30 cm; below 30 cm no change is credited,
    and within 0-30 cm the change is spread in proportion to the stock.
    """
    s30 = np.asarray(stock_0_30_t_ha, dtype=float)
    depth_stock = _float(plots, DEPTH_STOCK_COLUMN)
    overlap = _float(plots, OVERLAP_STOCK_COLUMN)
    given = np.isfinite(depth_stock)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(given & np.isfinite(overlap) & (s30 > 0), overlap / s30, 1.0)
    return np.where(given, depth_stock, s30), share, ~given


def capacity_columns(plots: pd.DataFrame, stock_t_ha: np.ndarray) -> dict[str, np.ndarray]:
    """Mineral-associated carbon capacity of each plot's stock depth and its saturation deficit.

    Parameters
    ----------
    plots : pandas.DataFrame
        Plot table: ``clay_pct``, ``silt_pct`` [%] (means over the depth), ``soil_class``,
        ``land_use`` and :data:`FINE_EARTH_COLUMN` [t ha-1], the fine-earth mass of the depth.
    stock_t_ha : array [t C ha-1]
        The baseline stock of the same depth.

    Returns
    -------
    dict
        ``mineral_c_capacity_t_ha`` (Hassink 1997 on the < 20 um fraction, interpolated
        log-linearly from clay and silt < 50 um), ``mineral_c_capacity_max_t_ha``
        (Georgiou et al. 2022, HAC and LAC soils only) and ``saturation_deficit_t_ha``
        (Hassink capacity minus the mineral-associated share of the stock, 0.66 after
        Georgiou et al. 2022) [t C ha-1]; NaN where texture or fine-earth mass is missing.
    """
    n = len(plots)
    clay, silt, mass = _float(plots, "clay_pct"), _float(plots, "silt_pct"), _float(plots, FINE_EARTH_COLUMN)
    ok = np.isfinite(clay) & np.isfinite(silt) & np.isfinite(mass) & (clay >= 0) & (silt >= 0) & (clay + silt <= 100)
    hassink = np.full(n, np.nan)
    maximum = np.full(n, np.nan)
    if ok.any():
        fine = capacity.fine_fraction_loglinear_pct(clay[ok], silt[ok], SILT_UPPER_UM)
        hassink[ok] = capacity.hassink_1997(fine) * mass[ok] / 1000.0  # g kg-1 x t ha-1 -> t C ha-1
        soil = (plots["soil_class"].astype(str).str.upper().to_numpy() if "soil_class" in plots
                else np.full(n, "", dtype=object))
        mineral = np.asarray([_MINERAL_OF_SOIL_CLASS.get(s, "") for s in soil], dtype=object)  # a handful of classes
        known = ok & (mineral != "")
        if known.any():
            maximum[known] = (capacity.georgiou_2022(clay[known] + silt[known], mineral[known])
                              * mass[known] / 1000.0)
    share = capacity.maoc_share("cropland", "topsoil", MAOC_SOURCE)
    stock = np.asarray(stock_t_ha, dtype=float)
    deficit = np.full(n, np.nan)
    valid = np.isfinite(hassink) & np.isfinite(stock) & (stock >= 0)
    deficit[valid] = capacity.saturation_deficit_t_ha(hassink[valid], stock[valid], share)
    return {"mineral_c_capacity_t_ha": hassink, "mineral_c_capacity_max_t_ha": maximum,
            "saturation_deficit_t_ha": deficit}


def rescale(plots: pd.DataFrame, result: pd.DataFrame, stocks_0_30: YearlyStocks | np.ndarray, *, cap: bool,
            years: float) -> tuple[pd.DataFrame, YearlyStocks]:
    """A model's result on the requested depth, with capacity columns, cap and caveats.

    Parameters
    ----------
    plots : pandas.DataFrame
        The plot table the model projected (same rows as ``result``).
    result : pandas.DataFrame
        The model's per-plot result on 0-30 cm (``baseline_stock_t_ha``,
        ``final_stock_t_ha``, ``equilibrium_stock_t_ha``, ``caveats``...).
    stocks_0_30 : YearlyStocks or numpy.ndarray, shape (n,) [t C ha-1]
        Stocks over time on 0-30 cm (the final stock: the last year), to carry to the
        requested depth with the same rule (trajectory); an array: the final stocks alone.
    cap : bool
        Cap the gain at the saturation deficit.
    years : float
        Projection horizon [yr].

    Returns
    -------
    result : pandas.DataFrame
        Stocks and verdict columns on the requested depth, plus ``stock_0_30_t_ha``,
        ``depth_share``, the capacity columns and updated ``caveats``.
    stocks : YearlyStocks
        ``stocks_0_30`` read through the depth rule and cap (:class:`DepthRule`): the rule
        is applied to the last year here, to every year only when the array is asked for.
    """
    out = result.copy()
    base30 = out["baseline_stock_t_ha"].to_numpy(dtype=float)
    if not isinstance(stocks_0_30, YearlyStocks):  # the final stocks alone
        stocks_0_30 = YearlyStocks(base30, np.asarray(stocks_0_30, dtype=float)[None, :])
    base, share, fallback = depth_share(plots, base30)
    rule = DepthRule(base30, share, base)
    eq = base + share * (out["equilibrium_stock_t_ha"].to_numpy(dtype=float) - base30)
    cap_cols = capacity_columns(plots, base)
    deficit = cap_cols["saturation_deficit_t_ha"]
    final = rule(stocks_0_30.final)
    gain = final - base
    above = np.isfinite(deficit) & (gain > deficit + 1e-9)
    capped = np.zeros(len(out), bool)
    if cap:
        limit = np.where(np.isfinite(deficit), base + deficit, np.inf)
        capped = above
        rule = DepthRule(base30, share, base, limit)
        final = rule(stocks_0_30.final)
        eq = np.where(eq > limit, limit, eq)
    stocks = stocks_0_30.with_rule(rule)
    for name, values in change_columns(base, final, years).items():
        out[name] = values
    only_tillage = np.zeros(len(out), bool)
    if WITHOUT_TILLAGE_COLUMN in out:
        # the same depth rule and cap for the projection without the tillage credit
        alt = base + share * (out[WITHOUT_TILLAGE_COLUMN].to_numpy(dtype=float) - base30)
        if cap:
            alt = np.minimum(alt, np.where(np.isfinite(deficit), base + deficit, np.inf))
        alt_rate = change_columns(base, alt, years)["rate_per_mille"]
        out = out.drop(columns=WITHOUT_TILLAGE_COLUMN)
        out["rate_per_mille_without_tillage"] = alt_rate
        only_tillage = out["meets_4p1000"].to_numpy(bool) & ~meets_target(alt_rate)
    out["equilibrium_stock_t_ha"] = eq
    out["stock_0_30_t_ha"] = base30
    out["depth_share"] = share
    for name, values in cap_cols.items():
        out[name] = values
    flags = {"above_capacity": above, "capped_at_capacity": capped, "meets_only_through_tillage": only_tillage,
             "depth_0_30_only": fallback & (DEPTH_STOCK_COLUMN in plots.columns)}
    out["caveats"] = add_caveats(out["caveats"].to_numpy(dtype=object) if "caveats" in out
                                 else np.full(len(out), "", dtype=object), flags)
    if "source_row" in out:  # last, as in every result
        out = out[[c for c in out.columns if c != "source_row"] + ["source_row"]]
    return out, stocks
