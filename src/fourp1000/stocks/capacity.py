"""Storage capacity of mineral-associated organic carbon, and the saturation deficit.

Soils protect organic carbon on the surfaces of fine mineral particles; the amount they
can hold this way is limited and scales with the fine fraction. Two published capacities:

``hassink_1997``
    C_sat [g C kg-1 soil] = 4.09 + 0.37 x (particles < 20 um [%]) (Hassink 1997, fitted on
    temperate grassland and arable soils).
``georgiou_2022``
    MOC_max [g C kg-1 soil] = slope x (clay + silt [%]), slope 0.86 for soils dominated by
    high-activity (2:1) minerals and 0.48 for low-activity (1:1) minerals (Georgiou et al.
    2022, slopes as in the authors' published code).

Coefficients live in ``data/mineral_c_capacity.csv`` with their sources; the documented
shares of SOC that is mineral-associated are in ``data/maoc_share.csv``.

Which fine fraction
-------------------
Hassink's fraction is < 20 um (clay + *fine* silt). A routine texture analysis reports
silt up to 50 um or 63 um depending on the national system, so clay + silt
overstates the < 20 um fraction. How published users handle it:

* Use a measured < 20 um fraction (clay + fine silt 2-20 um) when the laboratory reports
  it (some national systems split silt at 20 um). Chen et al. (2019)
  compare the Hassink capacity with the SOC of the fine fraction of French topsoils (the
  fine-fraction definition and the texture input they used were not confirmed here).
* Georgiou et al. (2022) fitted their own slopes against clay + silt as reported by the
  studies they synthesised and applied them to the HWSD texture maps (silt 2-50 um); their
  capacity therefore takes ordinary clay + silt and needs no conversion.
* Where only clay and silt (< 50 or < 63 um) are known, :func:`fine_fraction_loglinear_pct`
  interpolates the cumulative particle-size curve linearly in log(diameter) between the
  clay and silt limits, the common interpolation for converting between texture systems
  (Shang 2013 evaluates it against log-cubic and log-spline curves; log-linear had larger
  cross-validation errors than log-cubic). This is an approximation and is flagged.

References
----------
.. [1] Hassink J. (1997) The capacity of soils to preserve organic C and N by their
   association with clay and silt particles. Plant and Soil 191:77-87,
   doi:10.1023/A:1004213929699
.. [2] Georgiou K., Jackson R.B., Vindušková O., Abramoff R.Z., Ahlström A., Feng W.,
   Harden J.W., Pellegrini A.F.A., Polley H.W., Soong J.L., Riley W.J., Torn M.S. (2022)
   Global stocks and capacity of mineral-associated soil organic carbon. Nature
   Communications 13:3797, doi:10.1038/s41467-022-31540-9; code and data
   doi:10.5281/zenodo.5987414
.. [3] Chen S., Arrouays D., Angers D.A., Martin M.P., Walter C. (2019) Soil carbon stocks
   under different land uses and the applicability of the soil carbon saturation concept.
   Soil & Tillage Research 188:53-58
.. [4] Shang S. (2013) Log-cubic method for generation of soil particle size distribution
   curve. The Scientific World Journal 2013:579460, doi:10.1155/2013/579460
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from ..errors import InputError, UnknownFactorError

CLAY_LIMIT_UM = 2.0
HASSINK_FRACTION_UM = 20.0

# Accepted spellings of the mineral type, mapped to the table's keys.
MINERAL_TYPES = {
    "high_activity": "high_activity",
    "high": "high_activity",
    "hac": "high_activity",
    "2:1": "high_activity",
    "low_activity": "low_activity",
    "low": "low_activity",
    "lac": "low_activity",
    "1:1": "low_activity",
}


@lru_cache(maxsize=1)
def capacity_table() -> pd.DataFrame:
    """The capacity coefficients (``data/mineral_c_capacity.csv``)."""
    with (files("fourp1000") / "data" / "mineral_c_capacity.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh)


@lru_cache(maxsize=1)
def maoc_share_table() -> pd.DataFrame:
    """Published shares of SOC that is mineral-associated (``data/maoc_share.csv``)."""
    with (files("fourp1000") / "data" / "maoc_share.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh)


def _coefficients(method: str, mineral_type: str = "all") -> tuple[float, float]:
    table = capacity_table()
    row = table[(table["method"] == method) & (table["mineral_type"] == mineral_type)]
    if row.empty:
        raise UnknownFactorError(f"no capacity coefficients for {method!r}, mineral type {mineral_type!r}")
    return float(row["intercept_g_kg"].iloc[0]), float(row["slope_g_kg_per_pct"].iloc[0])


def _percent(values, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=float)
    if np.any((arr < 0) | (arr > 100)):
        raise InputError(f"{name} must be between 0 and 100 %")
    return arr


def hassink_1997(fine_fraction_pct) -> np.ndarray:
    """Capacity of a soil to protect organic carbon on particles < 20 um (Hassink 1997).

    Parameters
    ----------
    fine_fraction_pct : array_like
        Mass fraction of mineral particles < 20 um (clay + fine silt) [%].

    Returns
    -------
    numpy.ndarray
        C_sat, the maximum carbon associated with the < 20 um fraction [g C kg-1 soil].

    Notes
    -----
    C_sat = 4.09 + 0.37 x fine_fraction_pct. Fitted on temperate grassland and arable soils;
    the coefficients are taken from ``data/mineral_c_capacity.csv`` (status there: not
    confirmed against a stored copy of the paper). Pass the < 20 um fraction, not clay +
    silt from a < 50 or < 63 um analysis (see the module notes and
    :func:`fine_fraction_loglinear_pct`).

    References
    ----------
    .. [1] Hassink J. (1997) Plant and Soil 191:77-87, doi:10.1023/A:1004213929699
    """
    fine = _percent(fine_fraction_pct, "fine_fraction_pct")
    intercept, slope = _coefficients("hassink_1997")
    return intercept + slope * fine


def georgiou_2022(silt_clay_pct, mineral_type) -> np.ndarray:
    """Mineralogical capacity of mineral-associated organic carbon (Georgiou et al. 2022).

    Parameters
    ----------
    silt_clay_pct : array_like
        Clay + silt content [%] as reported by a texture analysis.
    mineral_type : str or array_like of str
        Dominant clay mineral activity: ``high_activity`` (2:1 clays: smectite, illite,
        vermiculite, chlorite) or ``low_activity`` (1:1 clays and oxides: kaolinite,
        gibbsite); aliases ``high``/``low``, ``HAC``/``LAC``, ``2:1``/``1:1``.

    Returns
    -------
    numpy.ndarray
        MOC_max [g C kg-1 soil].

    Notes
    -----
    MOC_max = slope x silt_clay_pct with slope 0.86 (high activity) or 0.48 (low
    activity) [g C kg-1 soil per % clay + silt], the values in the authors' published code
    (``global_analysis.py``, cell "Calculating MOCmax"). The authors applied them to
    HWSD clay + silt (silt 2-50 um) for topsoil 0-30 cm and subsoil 30-100 cm alike.

    References
    ----------
    .. [1] Georgiou K. et al. (2022) Nature Communications 13:3797,
       doi:10.1038/s41467-022-31540-9
    """
    texture = _percent(silt_clay_pct, "silt_clay_pct")
    kinds = np.asarray(mineral_type, dtype=object)
    keys = np.vectorize(lambda k: MINERAL_TYPES.get(str(k).strip().lower(), ""), otypes=[object])(kinds)
    unknown = sorted({str(k) for k, key in zip(np.ravel(kinds), np.ravel(keys)) if not key})
    if unknown:
        raise UnknownFactorError(
            f"unknown mineral type {unknown[0]!r}; valid: {', '.join(sorted(MINERAL_TYPES))}"
        )
    _, slope_high = _coefficients("georgiou_2022", "high_activity")
    _, slope_low = _coefficients("georgiou_2022", "low_activity")
    slope = np.where(keys == "high_activity", slope_high, slope_low).astype(float)
    return texture * slope


def fine_fraction_loglinear_pct(clay_pct, silt_pct, silt_upper_um=50.0, target_um=HASSINK_FRACTION_UM) -> np.ndarray:
    """Particles finer than ``target_um`` [%] by log-linear interpolation of the texture.

    The cumulative particle-size curve passes through (2 um, clay) and (silt_upper_um,
    clay + silt); between them it is taken as linear in log(diameter), the common
    interpolation used to convert texture between classification systems [1]_.

    Parameters
    ----------
    clay_pct : array_like
        Clay (< 2 um) [%].
    silt_pct : array_like
        Silt (2 um to ``silt_upper_um``) [%].
    silt_upper_um : float or array_like, default 50
        Upper limit of the silt fraction of the analysis [um] (50 or 63 in most national
        systems; with 20 the result is simply clay + silt).
    target_um : float, default 20
        Diameter whose passing fraction is wanted [um] (Hassink's 20 um).

    Returns
    -------
    numpy.ndarray
        Estimated particles < ``target_um`` [%]. An approximation: flag it in outputs.

    References
    ----------
    .. [1] Shang S. (2013) The Scientific World Journal 2013:579460,
       doi:10.1155/2013/579460
    """
    clay = _percent(clay_pct, "clay_pct")
    silt = _percent(silt_pct, "silt_pct")
    upper = np.asarray(silt_upper_um, dtype=float)
    if np.any(upper <= CLAY_LIMIT_UM):
        raise InputError("silt_upper_um must be above the 2 um clay limit")
    if np.any(clay + silt > 100.0 + 1e-9):
        raise InputError("clay_pct + silt_pct exceeds 100 %")
    weight = np.clip(np.log(target_um / CLAY_LIMIT_UM) / np.log(upper / CLAY_LIMIT_UM), 0.0, 1.0)
    return clay + silt * weight


def mineral_c_capacity_t_ha(capacity_g_kg, bulk_density_g_cm3, thickness_cm) -> np.ndarray:
    """Capacity of a layer as a stock [t C ha-1].

    Parameters
    ----------
    capacity_g_kg : array_like
        Capacity concentration [g C kg-1 soil], e.g. from :func:`hassink_1997` or
        :func:`georgiou_2022`.
    bulk_density_g_cm3 : array_like
        Fine-earth bulk density [g cm-3] (fine-earth mass per layer volume in stony soils,
        so that the coarse fragments hold no carbon).
    thickness_cm : array_like
        Layer thickness [cm].

    Returns
    -------
    numpy.ndarray
        Stock [t C ha-1] = capacity_g_kg x bulk_density_g_cm3 x thickness_cm / 10.
    """
    capacity = np.asarray(capacity_g_kg, dtype=float)
    bd = np.asarray(bulk_density_g_cm3, dtype=float)
    thickness = np.asarray(thickness_cm, dtype=float)
    if np.any(capacity < 0) or np.any(bd <= 0) or np.any(thickness < 0):
        raise InputError("capacity and thickness must be >= 0 and bulk density > 0")
    return capacity * bd * thickness / 10.0


def maoc_share(land_use: str, layer: str = "topsoil", source: str = "chen_2019") -> float:
    """A published share of SOC that is mineral-associated (``data/maoc_share.csv``).

    ``source="chen_2019"`` gives the French topsoil shares by land use (cropland 0.85,
    grassland 0.69, forest 0.66; SOC of the fine fraction); ``source="georgiou_2022"`` the
    global shares (0.66 topsoil, 0.70 subsoil; ``land_use`` is ignored).
    """
    table = maoc_share_table()
    if source == "georgiou_2022":
        rows = table[table["source"].str.startswith("Georgiou") & (table["layer"] == layer)]
    elif source == "chen_2019":
        rows = table[table["source"].str.startswith("Chen") & (table["land_use"] == land_use)]
    else:
        raise UnknownFactorError(f"unknown MAOC share source {source!r}; valid: chen_2019, georgiou_2022")
    if rows.empty:
        raise UnknownFactorError(f"no MAOC share for land use {land_use!r}, layer {layer!r} in {source}")
    return float(rows["maoc_share"].iloc[0])


def saturation_deficit_t_ha(capacity_t_ha, soc_stock_t_ha, maoc_share=1.0) -> np.ndarray:
    """Carbon a layer could still store in mineral-associated form [t C ha-1].

    Parameters
    ----------
    capacity_t_ha : array_like
        Capacity stock [t C ha-1] (:func:`mineral_c_capacity_t_ha`).
    soc_stock_t_ha : array_like
        Current SOC stock of the same layer [t C ha-1].
    maoc_share : float or array_like, default 1.0
        Share of the current SOC that is mineral-associated [0-1].

    Returns
    -------
    numpy.ndarray
        max(capacity - maoc_share x soc_stock, 0) [t C ha-1].

    Notes
    -----
    The default ``maoc_share=1`` treats all SOC as mineral-associated, an upper bound of
    the protected carbon, so the deficit is a lower bound (conservative for credits).
    Measured fractions are best; otherwise :func:`maoc_share` gives published shares
    (Chen et al. 2019: cropland 0.85, grassland 0.69, forest 0.66 in French topsoils;
    Georgiou et al. 2022: 0.66 of topsoil and 0.70 of subsoil SOC globally). The deficit
    bounds the *mineral-associated* gain only: particulate organic carbon can accumulate
    beyond it, and a capacity is reached over decades to centuries, not within a
    crediting period.
    """
    capacity = np.asarray(capacity_t_ha, dtype=float)
    stock = np.asarray(soc_stock_t_ha, dtype=float)
    share = np.asarray(maoc_share, dtype=float)
    if np.any((share < 0) | (share > 1)):
        raise InputError("maoc_share must be between 0 and 1")
    if np.any(stock < 0):
        raise InputError("soc_stock_t_ha must be >= 0")
    return np.maximum(capacity - share * stock, 0.0)
