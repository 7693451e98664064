"""SOC stock of a soil layer, and the conversions between bulk-density definitions.

The stock of a layer is the mass of organic carbon in the fine earth (< 2 mm) per unit
area. With SOC in g kg-1, fine-earth bulk density BD in g cm-3 (fine-earth mass per
fine-earth volume), layer thickness t in cm and coarse fragments CF as a volume fraction,

    stock [t C ha-1] = SOC x BD x t x (1 - CF) / 10

(1 g cm-2 = 100 t ha-1; SOC in g kg-1 is 1/1000 of a mass fraction, so the constant is
100/1000 = 1/10). Because data sets define bulk density and coarse fragments differently,
every layer is first reduced to one quantity, the *fine-earth mass per unit of whole-soil
volume* [g cm-3], with the identities of Poeplau et al. (2017) and Hobley et al. (2018);
the stock is then SOC x that density x t / 10. Mixing bases (e.g. whole-soil BD with a
volumetric stone correction) overestimates stocks in stony soils, so the basis is always
explicit.

References
----------
.. [1] Poeplau C., Vos C., Don A. (2017) Soil organic carbon stocks are systematically
   overestimated by misuse of the parameters bulk density and rock fragment content.
   SOIL 3:61-66, doi:10.5194/soil-3-61-2017
.. [2] Hobley E.U., Murphy B., Simmons A. (2018) Comment on "Soil organic carbon stocks
   are systematically overestimated by misuse of the parameters bulk density and rock
   fragment content" by Poeplau et al. (2017). SOIL 4:169-171, doi:10.5194/soil-4-169-2018
"""

from __future__ import annotations

import numpy as np

# Molar mass ratio CO2 / C (44.0095 / 12.011 rounds to the conventional 44/12).
CO2_PER_C = 44.0 / 12.0
# Default particle density of coarse fragments [g cm-3] (quartz/feldspar rock).
STONE_DENSITY_G_CM3 = 2.65


def layer_stock(
    soc_g_kg: np.ndarray | float,
    bulk_density_g_cm3: np.ndarray | float,
    thickness_cm: np.ndarray | float,
    coarse_fragments_pct: np.ndarray | float = 0.0,
) -> np.ndarray:
    """SOC stock of a layer [t C ha-1] from fine-earth bulk density and volumetric stones.

    Parameters
    ----------
    soc_g_kg : array [g kg-1]
        Organic carbon concentration of the fine earth (< 2 mm).
    bulk_density_g_cm3 : array [g cm-3]
        Fine-earth bulk density: fine-earth mass per volume of fine earth.
    thickness_cm : array [cm]
        Layer thickness.
    coarse_fragments_pct : array [% volume], default 0
        Coarse fragments (> 2 mm) as a volume percentage of the whole soil.

    Returns
    -------
    array [t C ha-1]

    Examples
    --------
    SOC 1.2 % (12 g/kg), BD 1.35 g cm-3, 0-30 cm, 10 % stones:

    >>> float(layer_stock(12.0, 1.35, 30.0, 10.0))
    43.74
    """
    fine_earth = fine_earth_density(bulk_density_g_cm3, coarse_fragments_pct, basis="fine_earth")
    return soc_g_kg * fine_earth * np.asarray(thickness_cm, dtype=float) / 10.0


def fine_earth_density(
    bulk_density_g_cm3: np.ndarray | float,
    coarse_fragments_pct: np.ndarray | float | None = 0.0,
    *,
    basis: str | np.ndarray = "fine_earth",
    coarse_fragments_mass_pct: np.ndarray | float | None = None,
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3,
) -> np.ndarray:
    """Fine-earth mass per whole-soil volume [g cm-3] from any bulk-density definition.

    Parameters
    ----------
    bulk_density_g_cm3 : array [g cm-3]
        Bulk density as measured, of the kind named by ``basis``.
    coarse_fragments_pct : array [% volume], optional
        Coarse fragments by volume of the whole soil.
    basis : {"fine_earth", "fine_earth_total_volume", "whole_soil"} or array of these
        ``fine_earth``: fine-earth mass / fine-earth volume (BD_fe).
        ``fine_earth_total_volume``: fine-earth mass / whole-soil volume (already the
        answer; coarse fragments are not used again).
        ``whole_soil``: (fine earth + stones) mass / whole-soil volume.
    coarse_fragments_mass_pct : array [% mass], optional
        Coarse fragments by mass of the whole soil; used where the volume % is missing.
    stone_density_g_cm3 : float, default 2.65
        Particle density of coarse fragments, to convert between mass and volume %.

    Returns
    -------
    array [g cm-3]
        NaN where the inputs are inconsistent (e.g. stones heavier than the whole soil).

    Notes
    -----
    With V the sample volume, m_f the fine-earth mass, m_s the stone mass,
    CF_vol = m_s / (rho_s V) and CF_mass = m_s / (m_f + m_s):

    * fine_earth: m_f/V = BD_fe (1 - CF_vol); with CF_mass only,
      CF_vol = CF_mass BD_fe / (rho_s (1 - CF_mass) + CF_mass BD_fe);
    * whole_soil: m_f/V = BD_whole (1 - CF_mass) (Hobley et al. 2018, no stone density
      needed), or BD_whole - CF_vol rho_s with CF_vol only.

    References
    ----------
    .. [1] Poeplau et al. (2017) SOIL 3:61-66, doi:10.5194/soil-3-61-2017
    .. [2] Hobley et al. (2018) SOIL 4:169-171, doi:10.5194/soil-4-169-2018
    """
    bd = np.asarray(bulk_density_g_cm3, dtype=float)
    if coarse_fragments_mass_pct is None and isinstance(basis, str) and basis == "fine_earth":
        # The common case, kept cheap on millions of layers: BD_fe x (1 - CF_vol), in place.
        cf = np.asarray(coarse_fragments_pct if coarse_fragments_pct is not None else 0.0, dtype=float)
        if not np.isfinite(cf).all():
            cf = np.nan_to_num(cf)
        result = np.divide(cf, 100.0, out=np.empty(np.broadcast_shapes(bd.shape, cf.shape)))
        np.subtract(1.0, result, out=result)
        np.multiply(bd, result, out=result)
        result[result < 0] = np.nan
        return result
    shape = np.broadcast_shapes(bd.shape, np.shape(coarse_fragments_pct if coarse_fragments_pct is not None else 0))
    cf_vol = _fraction(coarse_fragments_pct, shape)
    cf_mass = _fraction(coarse_fragments_mass_pct, shape)
    if np.ndim(basis) == 0:  # one basis for all layers: compare once, not per element
        is_whole = basis == "whole_soil"
        is_total = basis == "fine_earth_total_volume"
    else:
        basis_arr = np.asarray(basis, dtype=object)
        is_whole = basis_arr == "whole_soil"
        is_total = basis_arr == "fine_earth_total_volume"

    # Fine-earth BD: convert a mass fraction to volume where only mass is known.
    cf_vol_from_mass = cf_mass * bd / (stone_density_g_cm3 * (1.0 - cf_mass) + cf_mass * bd)
    vol_fe = np.where(np.isnan(cf_vol), np.where(np.isnan(cf_mass), 0.0, cf_vol_from_mass), cf_vol)
    fine_earth = bd * (1.0 - vol_fe)

    # Whole-soil BD: prefer the mass fraction (no stone density needed).
    whole = np.where(
        ~np.isnan(cf_mass),
        bd * (1.0 - cf_mass),
        bd - np.where(np.isnan(cf_vol), 0.0, cf_vol) * stone_density_g_cm3,
    )
    result = np.where(is_whole, whole, np.where(is_total, bd, fine_earth))
    result = np.where(result < 0, np.nan, result)
    return result


def _fraction(pct, shape) -> np.ndarray:
    if pct is None:
        return np.full(shape, np.nan)
    return np.broadcast_to(np.asarray(pct, dtype=float) / 100.0, shape)


def carbon_density(soc_g_kg: np.ndarray, fine_earth_g_cm3: np.ndarray) -> np.ndarray:
    """Organic carbon per unit depth [t C ha-1 cm-1] (= SOC x fine-earth density / 10).

    Multiplying by a thickness in cm gives the stock in t C ha-1. One t C ha-1 cm-1 is
    10 kg C m-3.
    """
    density = np.asarray(soc_g_kg, dtype=float) * np.asarray(fine_earth_g_cm3, dtype=float)
    if isinstance(density, np.ndarray):
        density /= 10.0  # in place: millions of layers
        return density
    return density / 10.0


def soil_mass(fine_earth_g_cm3: np.ndarray, thickness_cm: np.ndarray) -> np.ndarray:
    """Fine-earth soil mass of a layer [t ha-1] (1 g cm-3 x 1 cm = 100 t ha-1)."""
    return np.asarray(fine_earth_g_cm3, dtype=float) * np.asarray(thickness_cm, dtype=float) * 100.0


def co2e(stock_t_c_ha: np.ndarray | float) -> np.ndarray:
    """Carbon [t C] expressed as CO2 equivalent [t CO2] (x 44/12)."""
    return np.asarray(stock_t_c_ha, dtype=float) * CO2_PER_C
