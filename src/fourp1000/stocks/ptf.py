"""Bulk-density pedotransfer functions (PTFs), for layers whose bulk density was not measured.

Each PTF predicts the fine-earth (< 2 mm) bulk density [g cm-3] from organic carbon and,
for some, texture. Coefficients live in ``data/bd_ptf.csv`` with their sources; the
equation forms are coded here. PTF estimates carry a much larger error than measurements
(typically RMSE 0.1-0.2 g cm-3), so every estimated value is flagged in the output.

Choices (``--bd-ptf``):

``auto`` (default)
    Hollis et al. (2012): the organic-horizon equation where OC >= 12 %, the cultivated
    topsoil equation for cropland layers starting above 30 cm, the mineral-horizon equation
    elsewhere; where sand or clay is unknown, Manrique & Jones (1991, square-root form).
``hollis_2012``
    As ``auto`` but never falls back: texture is required for mineral horizons.
``manrique_jones_1991``, ``manrique_jones_1991_linear``, ``alexander_1980_a``
    OC only.
``adams_1973``
    Organic matter only (OM = OC x SOM factor), mineral BD 1.64 g cm-3 (Post & Kwon 2000).

References
----------
.. [1] Hollis J.M., Hannam J., Bellamy P.H. (2012) Eur. J. Soil Sci. 63:96-109,
   doi:10.1111/j.1365-2389.2011.01412.x
.. [2] Manrique L.A., Jones C.A. (1991) Soil Sci. Soc. Am. J. 55:476-481,
   doi:10.2136/sssaj1991.03615995005500020030x
.. [3] Alexander E.B. (1980) Soil Sci. Soc. Am. J. 44:689-692
.. [4] Adams W.A. (1973) J. Soil Sci. 24:10-17, doi:10.1111/j.1365-2389.1973.tb00737.x
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from ..errors import UnknownFactorError
from ..io.schema import VAN_BEMMELEN
from ..tables import read_csv_table

# Organic horizons: OC of at least 12 % (the lower limit of organic soil material in the
# USDA and WRB definitions for clay-free material) switch to Hollis's organic equation.
ORGANIC_OC_PCT = 12.0
CULTIVATED_LAND_USES = ("cropland",)
CULTIVATED_TOPSOIL_CM = 30.0

PTF_CHOICES = (
    "auto",
    "hollis_2012",
    "manrique_jones_1991",
    "manrique_jones_1991_linear",
    "alexander_1980_a",
    "adams_1973",
)
#: Every equation a layer can be estimated with, sorted by name, "" (none) first:
#: :attr:`PTFResult.ptf_code` indexes it.
PTF_NAMES = ("",) + tuple(sorted((
    "hollis_2012_organic", "hollis_2012_cultivated", "hollis_2012_mineral", "manrique_jones_1991",
    "manrique_jones_1991_linear", "alexander_1980_a", "adams_1973")))


@lru_cache(maxsize=1)
def ptf_table() -> pd.DataFrame:
    """The PTF coefficient table (``data/bd_ptf.csv``), indexed by PTF id."""
    return read_csv_table("bd_ptf.csv", required=["ptf", "a", "b"]).set_index("ptf")


def _coef(ptf: str) -> pd.Series:
    return ptf_table().loc[ptf]


def sqrt_oc(oc_pct: np.ndarray, ptf: str = "manrique_jones_1991") -> np.ndarray:
    """BD = a - b * OC^0.5 [g cm-3], OC in mass % (Alexander 1980; Manrique & Jones 1991)."""
    c = _coef(ptf)
    return c.a - c.b * np.sqrt(oc_pct)


def linear_oc(oc_pct: np.ndarray, ptf: str = "manrique_jones_1991_linear") -> np.ndarray:
    """BD = a - b * OC [g cm-3], OC in mass % (Manrique & Jones 1991)."""
    c = _coef(ptf)
    return c.a - c.b * oc_pct


def hollis(oc_pct: np.ndarray, sand_pct: np.ndarray, clay_pct: np.ndarray, ptf: str) -> np.ndarray:
    """BD = a + b exp(-c OC) + d sand - e clay [g cm-3] (Hollis et al. 2012, mineral horizons)."""
    c = _coef(ptf)
    return c.a + c.b * np.exp(-c.c * oc_pct) + c.d * sand_pct - c.e * clay_pct


def hollis_organic(oc_pct: np.ndarray) -> np.ndarray:
    """BD = a - b ln(OC) [g cm-3] (Hollis et al. 2012, organic horizons)."""
    c = _coef("hollis_2012_organic")
    with np.errstate(divide="ignore", invalid="ignore"):
        return c.a - c.b * np.log(oc_pct)


def adams(om_pct: np.ndarray, mineral_bd_g_cm3: float | None = None) -> np.ndarray:
    """BD = 100 / (OM/0.244 + (100 - OM)/MBD) [g cm-3] (Adams 1973).

    0.244 g cm-3 is the bulk density of pure organic matter; MBD that of the mineral
    fraction (1.64 g cm-3 after Post & Kwon 2000). Note that the soilptf R package codes
    this as ``100/(OM/0.224 + (100 - OM/1.27))``, a miscoding not reproduced here.
    """
    c = _coef("adams_1973")
    mbd = c.b if mineral_bd_g_cm3 is None else mineral_bd_g_cm3
    return 100.0 / (om_pct / c.a + (100.0 - om_pct) / mbd)


@dataclass
class PTFResult:
    """Estimated bulk density [g cm-3] and the PTF used per row ("" where none applied);
    ``ptf_code``: the same as an index into :data:`PTF_NAMES` (no Python string per row)."""

    bulk_density_g_cm3: np.ndarray
    ptf: np.ndarray
    ptf_code: np.ndarray | None = None


def estimate_bulk_density(
    soc_g_kg: np.ndarray,
    *,
    method: str = "auto",
    sand_pct: np.ndarray | None = None,
    clay_pct: np.ndarray | None = None,
    top_cm: np.ndarray | None = None,
    land_use: np.ndarray | None = None,
    som_factor: float = VAN_BEMMELEN,
) -> PTFResult:
    """Predict fine-earth bulk density [g cm-3] for each layer with the chosen PTF.

    Parameters
    ----------
    soc_g_kg : array [g kg-1]
        Soil organic carbon.
    method : str
        One of :data:`PTF_CHOICES`.
    sand_pct, clay_pct : array [%], optional
        Texture, needed by Hollis et al. (2012) for mineral horizons.
    top_cm : array [cm], optional
        Upper depth, to recognise cultivated topsoils.
    land_use : array of str, optional
        ``cropland`` layers above 30 cm use Hollis's cultivated-topsoil equation.
    som_factor : float
        SOM/SOC ratio for Adams (1973).

    Returns
    -------
    PTFResult
        NaN where the PTF cannot be applied (inputs missing) or predicts a value outside
        0.1-2.2 g cm-3 (outside its domain, e.g. peat with a mineral-soil PTF).
    """
    if method not in PTF_CHOICES:
        raise UnknownFactorError(f"unknown bulk density PTF {method!r}; valid: {', '.join(PTF_CHOICES)}")
    oc = np.asarray(soc_g_kg, dtype=float) / 10.0
    n = oc.shape[0]
    sand = np.full(n, np.nan) if sand_pct is None else np.asarray(sand_pct, dtype=float)
    clay = np.full(n, np.nan) if clay_pct is None else np.asarray(clay_pct, dtype=float)
    bd = np.full(n, np.nan)
    used = np.zeros(n, dtype=np.int8)  # index into PTF_NAMES

    def put(mask: np.ndarray, equation, name: str) -> None:
        at = np.flatnonzero(mask)
        if at.size:  # the equation on its rows only
            bd[at] = equation(at)
            used[at] = PTF_NAMES.index(name)

    with np.errstate(invalid="ignore"):
        if method in ("manrique_jones_1991", "alexander_1980_a"):
            put(~np.isnan(oc), lambda at: sqrt_oc(oc[at], method), method)
        elif method == "manrique_jones_1991_linear":
            put(~np.isnan(oc), lambda at: linear_oc(oc[at], method), method)
        elif method == "adams_1973":
            put(~np.isnan(oc), lambda at: adams(oc[at] * som_factor), method)
        else:
            organic = oc >= ORGANIC_OC_PCT
            has_texture = ~np.isnan(sand) & ~np.isnan(clay)
            cultivated = np.zeros(n, dtype=bool)
            if land_use is not None and top_cm is not None:
                lu = pd.Series(land_use, dtype="string").str.strip().str.lower()
                cultivated = lu.isin(CULTIVATED_LAND_USES).to_numpy() & (np.asarray(top_cm, float) < CULTIVATED_TOPSOIL_CM)
            mineral = ~organic & ~np.isnan(oc)
            put(organic, lambda at: hollis_organic(oc[at]), "hollis_2012_organic")
            put(mineral & has_texture & cultivated, lambda at: hollis(oc[at], sand[at], clay[at], "hollis_2012_cultivated"),
                "hollis_2012_cultivated")
            put(mineral & has_texture & ~cultivated, lambda at: hollis(oc[at], sand[at], clay[at], "hollis_2012_mineral"),
                "hollis_2012_mineral")
            if method == "auto":
                put(mineral & ~has_texture, lambda at: sqrt_oc(oc[at], "manrique_jones_1991"), "manrique_jones_1991")
        outside = (bd < 0.1) | (bd > 2.2)
    bd[outside] = np.nan
    used[outside] = 0
    return PTFResult(bd, np.asarray(PTF_NAMES, dtype=object)[used], used)
