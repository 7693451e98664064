"""Plausibility checks: values that are possible, but most often a unit slip.

A lab export with g/kg values under a ``%`` header, % under ``g/kg``, or depths in mm
under ``cm`` loads without a single out-of-range value, and gives stocks ten times too
large or too small. The rules below compare values with what soils can hold. Each finding
is a *warning* (``severity="warning"``): reported by file, row and column and counted in
the summary line, the row still used; with ``strict=True`` (``--strict``) it is an *error*
and the row (or, for a stock, the plot) is rejected.

Rules (thresholds in :data:`RULES`, with their sources, and in docs/methods.md):

``organic_soc_mineral_bd``
    SOC at or above 20 % (organic material in the WRB when not water-saturated) with a
    measured fine-earth bulk density more than 0.2 g cm-3 above the densest a soil of that
    organic matter can be (:func:`max_bulk_density_g_cm3`): g/kg written as %?
``bd_vs_soc``
    The same bound for SOC below 20 %: SOC or bulk density in another unit?
``soc_pct_as_g_kg``
    SOC below 1 g/kg in a g/kg column, in a plot whose top layer is below 2 g/kg (a
    profile of ordinary % values, 1-3 in the topsoil): % written as g/kg? One per plot.
``thick_layer``, ``deep_layer``
    A layer starting in the first metre and thicker than 100 cm, or a depth beyond 500 cm:
    depths in mm? (Thick layers deeper down are common in deep profiles.)
``coarse_fragments_all``
    Coarse fragments of 100 % (no fine earth) on a layer whose SOC was measured.
``depth_upward``
    ``top_cm > bottom_cm`` in a profile with a layer ending at 0 cm: depths measured upward
    from the mineral surface (forest-floor layers written e.g. 5-0 cm). The loader's
    "top_cm must be less than bottom_cm" error is then explained (:func:`explain_depth_order`).
``mineral_stock_high``
    A stock over the interval above what a mineral soil (all layers below 12 % SOC) can hold
    at the bulk-density bound: :func:`max_mineral_stock_t_c_ha` (294 t C/ha over 0-30 cm).

References
----------
.. [1] IUSS Working Group WRB (2022) World Reference Base for Soil Resources, 4th ed.,
   chapter 3: organic material (>= 20 % soil organic carbon where not saturated; 12-18 %
   by clay content where saturated).
.. [2] Soil Survey Staff, USDA Soil Taxonomy: organic soil material (the same 12-18 % and
   20 % limits).
.. [3] Adams W.A. (1973) The effect of organic matter on the bulk and true densities of
   some uncultivated podzolic soils. J. Soil Sci. 24:10-17,
   doi:10.1111/j.1365-2389.1973.tb00737.x (the organic-fraction density 0.244 g cm-3 of
   ``data/bd_ptf.csv``).
.. [4] Federer C.A., Turcotte D.E., Smith C.T. (1993) The organic fraction-bulk density
   relationship and the expression of nutrient content in forest soils. Can. J. For. Res.
   23:1026-1032, doi:10.1139/x93-131 (the same mixing rule; mineral bulk densities
   1.45-2.19 g cm-3).
.. [5] Ruehlmann J., Körschens M. (2009) Calculating the effect of soil organic matter
   concentration on soil bulk density. Soil Sci. Soc. Am. J. 73:876-885,
   doi:10.2136/sssaj2007.0149 (standardized bulk density of the organic-matter-free soil:
   0.7-2.1 Mg m-3).
.. [6] Arrouays D. et al. (2014) GlobalSoilMap: toward a fine-resolution global grid of
   soil properties. Adv. Agron. 125:93-134, doi:10.1016/B978-0-12-800137-0.00003-0
   (standard depths 0-5-15-30-60-100-200 cm: the thickest increment is 100 cm).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..io.horizons import PROBLEM_COLUMNS, HorizonTable
from ..io.schema import VAN_BEMMELEN
from .ptf import ptf_table

ORGANIC_MATERIAL_SOC_G_KG = 200.0  # WRB/USDA organic material where not saturated: >= 20 % SOC
ORGANIC_SOC_G_KG = 120.0  # lowest organic-material limit (saturated, clay-free): 12 % SOC
MINERAL_FRACTION_BD_G_CM3 = 2.1  # densest organic-matter-free soil (Ruehlmann & Körschens 2009)
LOW_SOC_G_KG = 1.0  # a g/kg value this low, in a profile of % -like values, is read as %
SURFACE_PERCENT_LIKE_G_KG = 2.0  # a top layer below 0.2 % SOC: 12 of 675 ISIS reference profiles
MAX_LAYER_THICKNESS_CM = 100.0  # thickest GlobalSoilMap standard increment (100-200 cm)
MAX_DEPTH_CM = 500.0  # 2.5 x the 200 cm of GlobalSoilMap profiles: beyond it, mm are likelier
FULL_COARSE_PCT = 100.0
# Bulk densities are flagged only this far above the mixing-rule bound [g cm-3]: about the
# prediction error of bulk-density models (RMSE 0.1-0.2 g cm-3, see stocks/ptf.py), since the
# organic fraction's density (0.244) is a fitted mean, not a ceiling.
BD_MARGIN_G_CM3 = 0.2

#: The rules: name -> (what is flagged, source of the threshold).
RULES: dict[str, tuple[str, str]] = {
    "organic_soc_mineral_bd": (
        f"SOC >= {ORGANIC_MATERIAL_SOC_G_KG / 10:g} % with a bulk density above max_bulk_density_g_cm3",
        "WRB 2022 ch. 3 / USDA Soil Taxonomy organic material; Adams (1973) mixing rule"),
    "bd_vs_soc": (f"measured bulk density more than {BD_MARGIN_G_CM3:g} g/cm3 above max_bulk_density_g_cm3 for its SOC",
                  "Adams (1973) organic fraction 0.244 g/cm3; Ruehlmann & Körschens (2009) mineral 2.1 g/cm3"),
    "soc_pct_as_g_kg": (f"SOC < {LOW_SOC_G_KG:g} g/kg in a plot whose top layer has < {SURFACE_PERCENT_LIKE_G_KG:g} g/kg",
                        "heuristic: top layers below 2 g/kg are 1.8 % of the ISRIC ISIS reference profiles "
                        "(12 of 675, deserts and sands), while % values read as g/kg give 1-3"),
    "thick_layer": (f"layer starting above {MAX_LAYER_THICKNESS_CM:g} cm and thicker than {MAX_LAYER_THICKNESS_CM:g} cm",
                    "GlobalSoilMap standard depths (Arrouays et al. 2014): thickest increment 100 cm"),
    "deep_layer": (f"depth beyond {MAX_DEPTH_CM:g} cm", "GlobalSoilMap profiles end at 200 cm; 2.5 x that"),
    "coarse_fragments_all": ("100 % coarse fragments on a layer with SOC measured",
                             "no fine earth is left to measure SOC on"),
    "depth_upward": ("top_cm > bottom_cm in a profile with a layer ending at 0 cm",
                     "forest-floor layers described upward from the mineral surface"),
    "mineral_stock_high": ("stock above max_mineral_stock_t_c_ha with every layer below 12 % SOC",
                           "carbon density at 12 % SOC and the bulk-density bound"),
}
STOCK_RULES = ("mineral_stock_high",)


@dataclass
class Columns:
    """The user's column of each canonical quantity (for messages)."""

    names: dict[str, str]

    def __call__(self, canonical: str) -> str:
        return self.names.get(canonical, canonical)


def max_bulk_density_g_cm3(soc_g_kg, som_factor: float = VAN_BEMMELEN,
                           mineral_g_cm3: float = MINERAL_FRACTION_BD_G_CM3) -> np.ndarray:
    """Densest bulk density [g cm-3] a soil of this SOC can have (Adams 1973 mixing rule).

    BD = 100 / (OM / rho_o + (100 - OM) / rho_m), OM = SOC [%] x ``som_factor``: the organic
    fraction at Adams's 0.244 g cm-3 (``data/bd_ptf.csv``) and the mineral fraction at the
    densest organic-matter-free soil, 2.1 g cm-3 (Ruehlmann & Körschens 2009).

    Examples
    --------
    >>> np.round(max_bulk_density_g_cm3([0.0, 120.0, 200.0]), 3).tolist()
    [2.1, 0.816, 0.58]
    """
    soc = np.asarray(soc_g_kg, dtype=float)
    # In place (millions of layers): the operations of 100 / (OM / rho_o + (100 - OM) / rho_m).
    om_pct = np.divide(soc, 10.0, out=np.empty(soc.shape))
    om_pct *= som_factor
    np.clip(om_pct, 0.0, 100.0, out=om_pct)
    organic = float(ptf_table().loc["adams_1973", "a"])
    volume = np.divide(om_pct, organic, out=np.empty(soc.shape))
    mineral = np.subtract(100.0, om_pct, out=om_pct)
    mineral /= mineral_g_cm3
    volume += mineral
    return np.divide(100.0, volume, out=volume)[()]  # [()]: a number for a number


def max_mineral_stock_t_c_ha(thickness_cm, som_factor: float = VAN_BEMMELEN) -> np.ndarray:
    """Largest stock [t C ha-1] a mineral soil (SOC < 12 %) can hold over ``thickness_cm``.

    Carbon density SOC x BD / 10 [t C ha-1 cm-1] rises with SOC along the bound of
    :func:`max_bulk_density_g_cm3`, so its mineral maximum is at 12 % SOC.

    >>> round(float(max_mineral_stock_t_c_ha(30.0)), 1)
    293.7
    """
    per_cm = ORGANIC_SOC_G_KG * max_bulk_density_g_cm3(ORGANIC_SOC_G_KG, som_factor) / 10.0
    return per_cm * np.asarray(thickness_cm, dtype=float)


def layer_problems(table: HorizonTable, *, som_factor: float = VAN_BEMMELEN, strict: bool = False) -> pd.DataFrame:
    """Every layer-level plausibility finding of ``table`` (see the module rules).

    Returns
    -------
    pandas.DataFrame
        Problems (:data:`fourp1000.io.horizons.PROBLEM_COLUMNS`), severity ``warning``, or
        ``error`` when ``strict``.
    """
    frame = table.frame
    cols = Columns(table.source_columns)
    parts = [
        _bd_for_soc(frame, cols, som_factor),
        _percent_as_g_kg(frame, cols),
        _depth_units(frame, cols),
        _coarse_fragments_all(frame, cols),
    ]
    out = pd.concat([p for p in parts if len(p)], ignore_index=True) if any(len(p) for p in parts) else _empty()
    out["severity"] = "error" if strict else "warning"
    return out


def _empty() -> pd.DataFrame:
    return pd.DataFrame(columns=PROBLEM_COLUMNS)


def _problems(frame: pd.DataFrame, mask: np.ndarray, column: str, rule: str, messages) -> pd.DataFrame:
    positions = np.flatnonzero(mask)
    if positions.size == 0:
        return _empty()
    return pd.DataFrame({
        "position": positions, "row": frame["source_row"].to_numpy()[positions],
        "plot_id": frame["plot_id"].iloc[positions].to_numpy(), "column": column, "rule": rule,
        "message": messages, "severity": "warning",
    })


def _bd_for_soc(frame: pd.DataFrame, cols: Columns, som_factor: float) -> pd.DataFrame:
    """Measured bulk densities above the Adams bound for their SOC."""
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    bd = frame["bulk_density_g_cm3"].to_numpy(dtype=float)
    bound = max_bulk_density_g_cm3(soc, som_factor)
    with np.errstate(invalid="ignore"):
        bad = bd > bound + BD_MARGIN_G_CM3
        bad &= soc > 0
        # A whole-soil density includes the stones (up to 2.65 g/cm3): the bound is for fine
        # earth. Only the rows found are looked up (text compared on few rows).
        if "bd_basis" in frame and bad.any():
            at = np.flatnonzero(bad)
            bad[at] = ~(frame["bd_basis"].iloc[at] == "whole_soil").to_numpy(dtype=bool)
        if not bad.any():
            return _empty()
        organic = bad & (soc >= ORGANIC_MATERIAL_SOC_G_KG)
    rest = bad & ~organic
    soc_col = cols(_soc_source(frame)) if organic.any() else None  # costly: only when named
    msgs_o = [f"SOC {s / 10:g} % is organic material (>= 20 %) but bulk density {b:g} g/cm3 is a mineral "
              f"soil's (at most about {m:.2f} g/cm3 for this SOC): g/kg values written as %?"
              for s, b, m in zip(soc[organic], bd[organic], bound[organic])]
    msgs_r = [f"bulk density {b:g} g/cm3 is implausible for SOC {s:g} g/kg (at most about {m:.2f} g/cm3 by "
              "the organic/mineral mixing rule): SOC or bulk density in another unit?"
              for s, b, m in zip(soc[rest], bd[rest], bound[rest])]
    return pd.concat([_problems(frame, organic, soc_col, "organic_soc_mineral_bd", msgs_o),
                      _problems(frame, rest, cols("bulk_density_g_cm3"), "bd_vs_soc", msgs_r)], ignore_index=True)


def _soc_source(frame: pd.DataFrame) -> str:
    """The canonical SOC column most rows came from (``soc_from``), for messages."""
    if "soc_from" not in frame or not len(frame):
        return "soc_g_kg"
    src = frame["soc_from"].replace("", np.nan).dropna()
    return str(src.mode().iloc[0]) if len(src) else "soc_g_kg"


def _percent_as_g_kg(frame: pd.DataFrame, cols: Columns) -> pd.DataFrame:
    """One warning per plot whose SOC (a g/kg column) reads like %: its shallowest layer below
    2 g/kg and a layer below 1 g/kg (named)."""
    if "soc_from" not in frame or not len(frame):
        return _empty()
    ok = (frame["soc_from"] == "soc_g_kg").to_numpy()
    if not ok.any():
        return _empty()
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    top = frame["top_cm"].to_numpy(dtype=float)
    ok = ok & ~np.isnan(soc) & ~np.isnan(top)
    at = np.flatnonzero(ok)
    sub = pd.DataFrame({"plot": frame["plot_id"].iloc[at].to_numpy(dtype=object), "top": top[ok], "soc": soc[ok],
                        "pos": at}).sort_values(["plot", "top"], kind="stable")
    if sub.empty:
        return _empty()
    g = sub.groupby("plot", sort=False)
    surface = g["soc"].transform("first").to_numpy()
    low = (sub["soc"].to_numpy() < LOW_SOC_G_KG) & (surface < SURFACE_PERCENT_LIKE_G_KG)
    hits = sub[low].groupby("plot", sort=False).head(1)
    mask = np.zeros(len(frame), dtype=bool)
    mask[hits["pos"].to_numpy(dtype=np.int64)] = True
    hits = hits.assign(surface=hits["plot"].map(g["soc"].first())).sort_values("pos")
    msgs = [f"SOC {s:g} g/kg here and {f:g} g/kg in the top layer of plot {p}: % written as g/kg? "
            f"({f:g} % would be {f * 10:g} g/kg)" for s, f, p in zip(hits["soc"], hits["surface"], hits["plot"])]
    return _problems(frame, mask, cols("soc_g_kg"), "soc_pct_as_g_kg", msgs)


def _depth_units(frame: pd.DataFrame, cols: Columns) -> pd.DataFrame:
    """Layers thicker than 100 cm or deeper than 500 cm."""
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        deep = (top > MAX_DEPTH_CM) | (bottom > MAX_DEPTH_CM)  # np.fmax(top, bottom) > MAX_DEPTH_CM
        thick = ~deep & (bottom - top > MAX_LAYER_THICKNESS_CM) & (top < MAX_LAYER_THICKNESS_CM)
    msgs_d = [f"depth {max(t, b):g} cm is beyond {MAX_DEPTH_CM:g} cm: depths in mm?" for t, b in
              zip(top[deep], bottom[deep])]
    msgs_t = [f"layer {t:g}-{b:g} cm is {b - t:g} cm thick (more than {MAX_LAYER_THICKNESS_CM:g} cm): depths in mm?"
              for t, b in zip(top[thick], bottom[thick])]
    if not msgs_d and not msgs_t:
        return _empty()
    return pd.concat([_problems(frame, deep, cols("bottom_cm"), "deep_layer", msgs_d),
                      _problems(frame, thick, cols("bottom_cm"), "thick_layer", msgs_t)], ignore_index=True)


def _coarse_fragments_all(frame: pd.DataFrame, cols: Columns) -> pd.DataFrame:
    """100 % coarse fragments (volume or mass) on a layer with SOC measured."""
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    out = []
    for name in ("coarse_fragments_pct", "coarse_fragments_mass_pct"):
        if name not in frame:
            continue
        cf = frame[name].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            bad = (cf >= FULL_COARSE_PCT) & ~np.isnan(soc)
        msg = (f"{FULL_COARSE_PCT:g} % coarse fragments leave no fine earth, yet SOC was measured: "
               "the fine-earth share written as coarse fragments?")
        out.append(_problems(frame, bad, cols(name), "coarse_fragments_all", msg))
    return pd.concat(out, ignore_index=True) if out else _empty()


def explain_depth_order(table: HorizonTable) -> pd.DataFrame:
    """``table.problems`` with the "top_cm must be less than bottom_cm" errors of profiles that
    look measured upward from the mineral surface explained (rule ``depth_upward``).

    A profile looks measured upward when one of its layers has ``top_cm > bottom_cm = 0``
    (a forest-floor layer written 5-0 cm): its reversed layers are then said to be so.
    """
    p = table.problems
    if not len(p) or not (p["rule"] == "depth_order").any():
        return p
    frame = table.frame
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    with np.errstate(invalid="ignore"):
        ends_at_surface = (top > bottom) & (bottom == 0)
    plot_upward = pd.Series(ends_at_surface).groupby(frame["plot_id"].to_numpy(), dropna=True).transform("any")
    upward = plot_upward.reindex(range(len(frame)), fill_value=False).to_numpy(dtype=bool)
    pos = p["position"].to_numpy(dtype=np.int64)
    hit = (p["rule"] == "depth_order").to_numpy() & upward[pos] & (top[pos] > bottom[pos])
    if not hit.any():
        return p
    p = p.copy()
    p.loc[hit, "rule"] = "depth_upward"
    p.loc[hit, "message"] = [
        f"layer {t:g}-{b:g} cm: depths look measured upward from the mineral surface (a forest-floor layer "
        f"written {t:g}-{b:g} cm?); give depths downward from the surface (organic layers above it as negative "
        "depths, which are not counted in the mineral-soil stock)" for t, b in zip(top[pos[hit]], bottom[pos[hit]])]
    return p


def stock_problems(table: HorizonTable, records: np.ndarray, first_positions: np.ndarray, stock_t_c_ha: np.ndarray,
                   thickness_cm: np.ndarray, max_soc_g_kg: np.ndarray, *, som_factor: float = VAN_BEMMELEN,
                   strict: bool = False) -> pd.DataFrame:
    """Mineral stocks above :func:`max_mineral_stock_t_c_ha` (rule ``mineral_stock_high``).

    Parameters
    ----------
    table : HorizonTable
    records : array of int
        The records (plots) to check.
    first_positions : array of int
        A row of each record, named in the message.
    stock_t_c_ha, thickness_cm, max_soc_g_kg : array
        Per record: stock [t C ha-1], interval thickness [cm], highest SOC of its layers [g/kg].
    """
    limit = max_mineral_stock_t_c_ha(thickness_cm, som_factor)
    with np.errstate(invalid="ignore"):
        bad = (max_soc_g_kg < ORGANIC_SOC_G_KG) & (stock_t_c_ha > limit)
    if not bad.any():
        return _empty()
    mask = np.zeros(len(table.frame), dtype=bool)
    mask[first_positions[bad]] = True
    order = np.argsort(first_positions[bad])
    msgs = [f"stock {s:.0f} t C/ha over {d:g} cm is above {m:.0f} t C/ha, the most a mineral soil (SOC < 12 %) "
            "holds at the densest bulk density for its SOC: a unit slip in SOC, bulk density or depths?"
            for s, d, m in zip(stock_t_c_ha[bad][order], thickness_cm[bad][order], limit[bad][order])]
    out = _problems(table.frame, mask, Columns(table.source_columns)(_soc_source(table.frame)), "mineral_stock_high",
                    msgs)
    out["severity"] = "error" if strict else "warning"
    return out


def count(problems: pd.DataFrame) -> int:
    """Number of plausibility warnings among ``problems`` (for the summary line)."""
    if problems is None or not len(problems):
        return 0
    return int((problems["rule"].isin(tuple(RULES)) & (problems["severity"] == "warning")).sum())


__all__ = ["RULES", "STOCK_RULES", "count", "explain_depth_order", "layer_problems", "max_bulk_density_g_cm3",
           "max_mineral_stock_t_c_ha", "stock_problems"]
