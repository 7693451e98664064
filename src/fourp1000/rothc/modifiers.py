"""Monthly rate modifiers of RothC-26.3 (temperature, topsoil moisture deficit, soil cover),
the clay-dependent CO2 / (BIO + HUM) partition, inert organic matter from total SOC
(Falloon et al. 1998), and the open-pan equivalent of a potential evapotranspiration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..errors import UnknownFactorError
from .parameters import RothCParameters, parameters_or_shipped
from .state import take_plots

BareSoilLimit = Literal["classic", "wilting_point"]


def temperature_rate_modifier(temperature_c: ArrayLike, params: RothCParameters | None = None) -> NDArray:
    """Temperature rate modifier *a* of RothC-26.3.

    ``a = 47.91 / (exp(106.06 / (T + 18.27)) + 1)``, and 0 below -5 °C.

    Parameters
    ----------
    temperature_c : array [°C]
        Mean monthly air temperature (a proxy for soil temperature).
    params : RothCParameters, optional

    Returns
    -------
    array [-]
        Rate modifier, 0 below -5 °C, about 0.0162 at -5 °C, 1 at about 9.25 °C, 2.82 at 20 °C.

    Notes
    -----
    The cut-off makes a small jump from 0.0162 to 0 below -5 °C, as in the reference code.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Jenkinson, D.S., Hart, P.B.S., Rayner, J.H., Parry, L.C. (1987). Modelling the
       turnover of organic matter in long-term experiments at Rothamsted. INTECOL
       Bulletin 15, 1-8.
    """
    p = parameters_or_shipped(params)
    t = np.asarray(temperature_c, dtype=float)
    # Clip before the formula so that T <= -18.27 never divides by zero; same operation
    # order as the reference: a / (exp(b / (T + c)) + 1).
    a = np.maximum(t, p.rm_temp_min_c, out=np.empty_like(t))
    a += p.rm_temp_c
    np.divide(p.rm_temp_b, a, out=a)
    np.exp(a, out=a)
    a += 1.0
    np.divide(p.rm_temp_a, a, out=a)
    cold = t < p.rm_temp_min_c
    if cold.any():
        np.copyto(a, 0.0, where=cold)
    return a


@dataclass(frozen=True)
class SMDLimits:
    """Topsoil moisture deficits that shape the moisture rate modifier [mm, <= 0].

    Attributes
    ----------
    max_mm : array [mm]
        Maximum deficit of the layer (-15 bar), scaled to the layer depth.
    one_bar_mm : array [mm]
        Deficit at which moisture starts to slow decomposition (-1 bar).
    bare_mm : array [mm]
        Deficit below which a bare soil cannot dry.
    """

    max_mm: NDArray
    one_bar_mm: NDArray
    bare_mm: NDArray

    def take(self, index: NDArray) -> SMDLimits:
        """The limits of the plots ``index`` (see :func:`~fourp1000.rothc.state.take_plots`)."""
        return SMDLimits(*(take_plots(a, index) for a in (self.max_mm, self.one_bar_mm, self.bare_mm)))


def smd_limits(
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    params: RothCParameters | None = None,
    *,
    bare_soil_limit: BareSoilLimit = "classic",
) -> SMDLimits:
    """Maximum, -1 bar and bare-soil topsoil moisture deficits of RothC-26.3.

    ``max = -(20 + 1.3 clay - 0.01 clay²) · depth / 23``, ``one_bar = 0.444 max``,
    ``bare = 0.556 max`` (the classic model, options ``opt_RMmoist = 1, opt_SMDbare = 1``
    of RothC v2).

    Parameters
    ----------
    clay_pct : array [%]
        Clay content of the layer.
    depth_cm : array [cm]
        Layer depth; the deficit of the 0-23 cm reference layer is scaled by depth/23.
    params : RothCParameters, optional
    bare_soil_limit : {"classic", "wilting_point"}
        ``classic``: a bare soil dries to 0.556 of the maximum deficit (1/1.8).
        ``wilting_point``: to the full -15 bar deficit (``opt_SMDbare = 2`` of RothC v2,
        Farina et al. 2013).

    Returns
    -------
    SMDLimits
        Deficits [mm], negative numbers.

    Notes
    -----
    Check for Rothamsted (clay 23.4 %, 23 cm): max -44.94, -1 bar -19.96, bare -24.99 mm.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Farina, R., Coleman, K., Whitmore, A.P. (2013). Modification of the RothC model
       for simulations of soil organic C dynamics in dryland regions. Geoderma 200-201,
       18-30. :doi:`10.1016/j.geoderma.2013.01.021`
    """
    p = parameters_or_shipped(params)
    clay = np.asarray(clay_pct, dtype=float)
    depth = np.asarray(depth_cm, dtype=float)
    smd_15bar = -(p.smd_a_mm + p.smd_b_mm_per_pct * clay - p.smd_c_mm_per_pct2 * (clay * clay))
    smd_max = smd_15bar * depth / p.smd_reference_depth_cm
    one_bar = p.smd_1bar_fraction * smd_max
    if bare_soil_limit == "classic":
        bare = p.smd_bare_fraction * smd_max
    elif bare_soil_limit == "wilting_point":
        bare = smd_max
    else:
        raise UnknownFactorError(f"unknown bare_soil_limit {bare_soil_limit!r}; valid: classic, wilting_point")
    return SMDLimits(smd_max, one_bar, bare)


def update_smd(
    smd_mm: ArrayLike,
    rain_mm: ArrayLike,
    evaporation_mm: ArrayLike,
    covered: ArrayLike,
    limits: SMDLimits,
    params: RothCParameters | None = None,
) -> NDArray:
    """Accumulated topsoil moisture deficit at the end of a month.

    ``DF = rain - 0.75 · open-pan evaporation``; a covered soil follows
    ``max(max_deficit, min(0, SMD + DF))``; a bare soil cannot dry past the bare-soil
    limit, and if it is already drier (it dried while covered) it stays where it is:
    ``max(min(bare, SMD), min(0, SMD + DF))``.

    Parameters
    ----------
    smd_mm : array [mm]
        Deficit at the start of the month (0 = field capacity, negative = drier).
    rain_mm : array [mm]
        Monthly rainfall.
    evaporation_mm : array [mm]
        Monthly **open-pan** evaporation (divide a potential evapotranspiration by 0.75
        first, see :func:`pan_evaporation_from_pet`).
    covered : array of bool
        Soil covered by vegetation this month.
    limits : SMDLimits
        From :func:`smd_limits`.
    params : RothCParameters, optional

    Returns
    -------
    array [mm]
        Deficit at the end of the month, in [limits.max_mm, 0].

    Notes
    -----
    Rewetting is capped at field capacity (no surplus is carried over). The deficit
    depends on history, so months cannot be computed independently.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    p = parameters_or_shipped(params)
    smd = np.asarray(smd_mm, dtype=float)
    df = np.asarray(rain_mm, dtype=float) - p.pan_coefficient * np.asarray(evaporation_mm, dtype=float)
    wetter = np.minimum(0.0, smd + df)
    floor = np.where(np.asarray(covered, dtype=bool), limits.max_mm, np.minimum(limits.bare_mm, smd))
    return np.maximum(floor, wetter)


def moisture_rate_modifier(
    smd_mm: ArrayLike, limits: SMDLimits, params: RothCParameters | None = None
) -> NDArray:
    """Moisture rate modifier *b* of RothC-26.3 from this month's deficit.

    ``b = 1`` while the deficit is above the -1 bar deficit, then falls linearly to 0.2
    at the maximum deficit.

    Parameters
    ----------
    smd_mm : array [mm]
        Deficit at the end of the month (from :func:`update_smd`).
    limits : SMDLimits
    params : RothCParameters, optional

    Returns
    -------
    array [-]
        In [0.2, 1]; a bare soil that never dried while covered stays >= 0.8388.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    p = parameters_or_shipped(params)
    smd = np.asarray(smd_mm, dtype=float)
    lo, hi = p.rm_moist_min, p.rm_moist_max
    # Same operation order as the reference code, for bit-level agreement.
    limited = lo + (hi - lo) * (limits.max_mm - smd) / (limits.max_mm - limits.one_bar_mm)
    return np.where(smd > limits.one_bar_mm, hi, limited)


def cover_rate_modifier(covered: ArrayLike, params: RothCParameters | None = None) -> NDArray:
    """Soil cover rate modifier *c*: 0.6 under vegetation, 1.0 for bare soil.

    Parameters
    ----------
    covered : array of bool
    params : RothCParameters, optional

    Returns
    -------
    array [-]

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    p = parameters_or_shipped(params)
    return np.where(np.asarray(covered, dtype=bool), p.rm_cover_covered, p.rm_cover_bare)


def co2_bio_hum_ratio(clay_pct: ArrayLike, params: RothCParameters | None = None) -> NDArray:
    """Ratio x = CO2 / (BIO + HUM) of decomposed carbon, from clay.

    ``x = 1.67 (1.85 + 1.60 exp(-0.0786 clay))``; of each tonne decomposed, x/(x+1) goes
    to CO2, 0.46/(x+1) to BIO and 0.54/(x+1) to HUM.

    Parameters
    ----------
    clay_pct : array [%]
    params : RothCParameters, optional

    Returns
    -------
    array [-]
        3.514 at 23.4 % clay (Rothamsted).

    Notes
    -----
    Clay acts on the model only through this partition (there is no clay rate modifier).

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    p = parameters_or_shipped(params)
    clay = np.asarray(clay_pct, dtype=float)
    return p.partition_scale * (p.partition_a + p.partition_b * np.exp(-p.partition_clay_per_pct * clay))


def falloon_iom(soc_t_c_ha: ArrayLike, params: RothCParameters | None = None) -> NDArray:
    """Inert organic matter from total SOC (Falloon et al. 1998).

    ``IOM = 0.049 · SOC^1.139``.

    Parameters
    ----------
    soc_t_c_ha : array [t C ha-1]
        Total soil organic carbon of the layer.
    params : RothCParameters, optional

    Returns
    -------
    array [t C ha-1]
        IOM; 3.0041 for 37.10 t C/ha (the Rothamsted example input).

    Notes
    -----
    A "very rough approximation" for surface soils, to use when no radiocarbon data
    exist; with 14C data IOM and inputs are fitted together.

    References
    ----------
    .. [1] Falloon, P., Smith, P., Coleman, K., Marshall, S. (1998). Estimating the size of
       the inert organic matter pool from total soil organic carbon content for use in the
       Rothamsted carbon model. Soil Biology and Biochemistry 30(8), 1207-1211.
       :doi:`10.1016/S0038-0717(97)00256-3`
    """
    p = parameters_or_shipped(params)
    soc = np.asarray(soc_t_c_ha, dtype=float)
    return p.iom_coefficient * np.power(np.maximum(soc, 0.0), p.iom_exponent)


def pan_evaporation_from_pet(pet_mm: ArrayLike, params: RothCParameters | None = None) -> NDArray:
    """Open-pan evaporation equivalent of a potential evapotranspiration: PET / 0.75.

    Parameters
    ----------
    pet_mm : array [mm]
    params : RothCParameters, optional

    Returns
    -------
    array [mm]
        The open-pan evaporation RothC expects.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    return np.asarray(pet_mm, dtype=float) / parameters_or_shipped(params).pan_coefficient
