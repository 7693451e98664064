"""Climatic net primary production: a plausibility ceiling for plant carbon inputs.

The Miami model (Lieth 1975) predicts annual net primary production (NPP) from mean
annual temperature and annual precipitation: the smaller of a temperature-limited and a
precipitation-limited value. FAO's GSOCseq protocol uses it as the standard NPP estimate
and converts it to carbon with 0.48 g C per g dry matter; a practice whose assumed plant
carbon input to the soil exceeds the climatic NPP (or the share of it left on site) is
implausible. Coefficients are in ``data/miami_npp.csv``.

References
----------
.. [1] Lieth H. (1975) Modeling the primary productivity of the world. In: Lieth H.,
   Whittaker R.H. (eds) Primary productivity of the biosphere. Springer, New York,
   pp 237-264
.. [2] FAO (2020) Technical specifications and country guidelines for Global Soil Organic
   Carbon Sequestration Potential Map (GSOCseq). Rome. Eqs. 6.6-6.12.
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from ..errors import InputError, UnknownFactorError

LAND_USES = ("cropland", "grassland", "forest")


@lru_cache(maxsize=1)
def miami_parameters() -> dict[str, float]:
    """Miami-model coefficients and conversions (``data/miami_npp.csv``), by parameter name."""
    with (files("fourp1000") / "data" / "miami_npp.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh)
    return dict(zip(table["parameter"], table["value"].astype(float)))


def miami_temperature(temperature_c) -> np.ndarray:
    """Temperature-limited NPP of the Miami model [g DM m-2 yr-1].

    NPP_T = 3000 / (1 + exp(1.315 - 0.119 T)), T the mean annual air temperature [degC].
    """
    p = miami_parameters()
    t = np.asarray(temperature_c, dtype=float)
    return p["npp_max_temperature"] / (1.0 + np.exp(p["temperature_offset"] - p["temperature_rate"] * t))


def miami_precipitation(precipitation_mm) -> np.ndarray:
    """Precipitation-limited NPP of the Miami model [g DM m-2 yr-1].

    NPP_P = 3000 (1 - exp(-0.000664 P)), P the annual precipitation [mm].
    """
    p = miami_parameters()
    rain = np.asarray(precipitation_mm, dtype=float)
    if np.any(rain < 0):
        raise InputError("precipitation_mm must be >= 0")
    return p["npp_max_precipitation"] * (1.0 - np.exp(-p["precipitation_rate"] * rain))


def miami(temperature_c, precipitation_mm) -> np.ndarray:
    """Annual net primary production by the Miami model (Lieth 1975).

    Parameters
    ----------
    temperature_c : array_like
        Mean annual air temperature [degC].
    precipitation_mm : array_like
        Annual precipitation [mm] (add irrigation water for irrigated land).

    Returns
    -------
    numpy.ndarray
        NPP [g DM m-2 yr-1] = min(NPP_T, NPP_P), at most 3000.

    Notes
    -----
    A climatic potential for natural vegetation: it ignores soil, nutrients, CO2,
    management and crop type, and was fitted to annual means. Use it as a ceiling, not an
    estimate of a field's inputs.

    References
    ----------
    .. [1] Lieth H. (1975) In: Primary productivity of the biosphere, Springer, pp 237-264
    .. [2] FAO (2020) GSOCseq technical manual, Eqs. 6.6-6.8
    """
    return np.minimum(miami_temperature(temperature_c), miami_precipitation(precipitation_mm))


def miami_t_c_ha(temperature_c, precipitation_mm, carbon_fraction=None) -> np.ndarray:
    """Miami-model NPP as carbon [t C ha-1 yr-1].

    NPP [t C ha-1 yr-1] = NPP [g DM m-2 yr-1] x 0.01 x carbon_fraction (FAO 2020 Eq. 6.9).

    Parameters
    ----------
    temperature_c, precipitation_mm : array_like
        As for :func:`miami`.
    carbon_fraction : float, optional
        Carbon content of dry matter [g C g-1]; default 0.48 (FAO 2020 Eq. 6.9).
    """
    fraction = miami_parameters()["carbon_fraction"] if carbon_fraction is None else float(carbon_fraction)
    if not 0.0 < fraction <= 1.0:
        raise InputError("carbon_fraction must be in (0, 1]")
    return miami(temperature_c, precipitation_mm) * 0.01 * fraction


def retained_fraction(land_use) -> np.ndarray:
    """Share of NPP left on site by land use (FAO 2020 Eqs. 6.10-6.12, after Schulze et al. 2010).

    forest 0.88, grassland 0.72, cropland 0.53.
    """
    p = miami_parameters()
    uses = np.asarray(land_use, dtype=object)
    out = np.empty(uses.shape, dtype=float)
    for i, use in np.ndenumerate(uses):
        key = f"retained_fraction_{str(use).strip().lower()}"
        if key not in p:
            raise UnknownFactorError(f"unknown land use {use!r}; valid: {', '.join(LAND_USES)}")
        out[i] = p[key]
    return out


def c_input_ceiling_t_c_ha(temperature_c, precipitation_mm, land_use=None, carbon_fraction=None) -> np.ndarray:
    """Plausible upper bound of plant carbon input to the soil [t C ha-1 yr-1].

    The Miami NPP in carbon (:func:`miami_t_c_ha`), times the share of NPP left on site
    for ``land_use`` (:func:`retained_fraction`) when one is given. Inputs of manure or
    other imported carbon are not plant inputs of the site and come on top.
    """
    ceiling = miami_t_c_ha(temperature_c, precipitation_mm, carbon_fraction)
    if land_use is None:
        return ceiling
    return ceiling * retained_fraction(land_use)
