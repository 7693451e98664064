"""RothC-26.3, the Rothamsted soil carbon model, vectorised over plots.

The monthly model as the official Rothamsted code computes it (Fortran ``RothC.for``, the R
and Python ports): temperature, topsoil-moisture-deficit and soil-cover rate modifiers, an
exact exponential decay of four active pools over each month, a clay-dependent split of
the decayed carbon into CO2, microbial biomass (BIO) and humus (HUM), plant inputs split
by a DPM/RPM ratio, farmyard manure split 49/49/2, and an optional radiocarbon tracer.

Every plot is an element of the state arrays (shape ``(n_plots,)``; the four active pools
are stacked as ``(4, n_plots)``); the only Python loop runs over months. Monthly drivers are
arrays of shape ``(n_months, n_plots)`` or anything that broadcasts to it, read cyclically,
so a 12-month climatology of shape ``(12, n_plots)`` drives a 50-year run without being
repeated in memory.

Public functions
----------------
* rate modifiers: :func:`temperature_rate_modifier`, :func:`smd_limits`,
  :func:`update_smd`, :func:`moisture_rate_modifier`, :func:`cover_rate_modifier`,
  :func:`co2_bio_hum_ratio`; :func:`falloon_iom` for the inert pool;
  :func:`dpm_rpm_ratio_for`, :func:`pan_evaporation_from_pet`, :func:`delta14c`;
* :func:`run`: the monthly model from a given state;
* :func:`spinup`: the equilibrium (periodic steady state) for a repeated climate and
  management cycle, analytically (default) or by the reference's iterative loop;
* :func:`fit_plant_input`: the inverse mode, the plant C input whose equilibrium SOC
  equals a measured stock.

Coefficients come from ``data/rothc_parameters.csv`` (:func:`load_parameters`).
"""

from __future__ import annotations

import functools
import io
import math
from dataclasses import dataclass, fields, replace
from importlib import resources
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .errors import InputError, ReferenceDataError, UnknownFactorError

POOLS = ("dpm", "rpm", "bio", "hum")
"""The four active pools, in the order of the first axis of pool arrays."""

OUTPUTS = (
    "dpm_t_c_ha",
    "rpm_t_c_ha",
    "bio_t_c_ha",
    "hum_t_c_ha",
    "iom_t_c_ha",
    "soc_t_c_ha",
    "co2_t_c_ha",
    "smd_mm",
    "rm_temperature",
    "rm_moisture",
    "rm_cover",
    "delta14c_permil",
)
"""Variables :func:`run` can record (``delta14c_permil`` only with radiocarbon)."""

BareSoilLimit = Literal["classic", "wilting_point"]
SpinupMethod = Literal["analytic", "reference"]
Record = Literal["monthly", "yearly", "final"]

_PARAMETERS_FILE = "rothc_parameters.csv"


# --------------------------------------------------------------------------------------
# Parameters
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RothCParameters:
    """RothC-26.3 coefficients, as listed (with units and sources) in ``rothc_parameters.csv``.

    Use :func:`load_parameters` to get the shipped values, with optional overrides.
    """

    months_per_year: float
    k_dpm_per_yr: float
    k_rpm_per_yr: float
    k_bio_per_yr: float
    k_hum_per_yr: float
    rm_temp_a: float
    rm_temp_b: float
    rm_temp_c: float
    rm_temp_min_c: float
    smd_a_mm: float
    smd_b_mm_per_pct: float
    smd_c_mm_per_pct2: float
    smd_reference_depth_cm: float
    smd_1bar_fraction: float
    smd_bare_fraction: float
    pan_coefficient: float
    rm_moist_min: float
    rm_moist_max: float
    rm_cover_covered: float
    rm_cover_bare: float
    partition_scale: float
    partition_a: float
    partition_b: float
    partition_clay_per_pct: float
    bio_fraction: float
    hum_fraction: float
    fym_dpm_fraction: float
    fym_rpm_fraction: float
    fym_hum_fraction: float
    iom_coefficient: float
    iom_exponent: float
    c14_half_life_yr: float
    c14_mean_life_yr: float
    iom_radiocarbon_age_yr: float
    spinup_tolerance_t_c_ha: float
    dpm_rpm_crop: float
    dpm_rpm_unimproved_grassland: float
    dpm_rpm_woodland: float

    @property
    def k_per_yr(self) -> NDArray[np.float64]:
        """Rate constants of DPM, RPM, BIO, HUM [yr-1], shape (4,)."""
        return np.array([self.k_dpm_per_yr, self.k_rpm_per_yr, self.k_bio_per_yr, self.k_hum_per_yr])

    @property
    def tstep_yr(self) -> float:
        """Length of one time step [yr] (1/12)."""
        return 1.0 / self.months_per_year

    @property
    def c14_decay_per_yr(self) -> float:
        """Radiocarbon decay constant ln 2 / half-life [yr-1] (``conr`` of the reference)."""
        return math.log(2.0) / self.c14_half_life_yr


@functools.lru_cache(maxsize=1)
def _shipped_parameters() -> RothCParameters:
    text = resources.files("fourp1000").joinpath("data", _PARAMETERS_FILE).read_text(encoding="utf-8")
    table = pd.read_csv(io.StringIO(text))
    names = [f.name for f in fields(RothCParameters)]
    found = list(table["name"])
    missing = sorted(set(names) - set(found))
    extra = sorted(set(found) - set(names))
    if missing or extra or table["name"].duplicated().any():
        raise ReferenceDataError(
            f"{_PARAMETERS_FILE}: parameter names do not match the model (missing {missing}, unexpected {extra})"
        )
    if table["source"].isna().any():
        raise ReferenceDataError(f"{_PARAMETERS_FILE}: every parameter needs a source")
    values = dict(zip(table["name"], table["value"].astype(float)))
    return RothCParameters(**{name: values[name] for name in names})


def load_parameters(overrides: dict[str, float] | None = None) -> RothCParameters:
    """RothC-26.3 coefficients from the shipped table, with optional overrides.

    Parameters
    ----------
    overrides : dict, optional
        ``{name: value}`` to replace shipped values (e.g. for a sensitivity analysis).

    Returns
    -------
    RothCParameters

    Raises
    ------
    UnknownFactorError
        An override names no parameter; the message lists the valid names.
    """
    params = _shipped_parameters()
    if not overrides:
        return params
    valid = [f.name for f in fields(RothCParameters)]
    unknown = [key for key in overrides if key not in valid]
    if unknown:
        raise UnknownFactorError(
            f"unknown RothC parameter {', '.join(repr(k) for k in unknown)}; valid: {', '.join(valid)}"
        )
    return replace(params, **{key: float(value) for key, value in overrides.items()})


def _params(params: RothCParameters | None) -> RothCParameters:
    return _shipped_parameters() if params is None else params


_VEGETATION_DPM_RPM = {
    "crop": "dpm_rpm_crop",
    "improved_grassland": "dpm_rpm_crop",
    "unimproved_grassland": "dpm_rpm_unimproved_grassland",
    "scrub": "dpm_rpm_unimproved_grassland",
    "savanna": "dpm_rpm_unimproved_grassland",
    "woodland": "dpm_rpm_woodland",
}


def dpm_rpm_ratio_for(vegetation: str, params: RothCParameters | None = None) -> float:
    """DPM/RPM ratio of incoming plant material for a vegetation type.

    Parameters
    ----------
    vegetation : str
        One of ``crop``, ``improved_grassland`` (1.44), ``unimproved_grassland``, ``scrub``,
        ``savanna`` (0.67), ``woodland`` (deciduous or tropical, 0.25).
    params : RothCParameters, optional

    Returns
    -------
    float
        DPM/RPM ratio [-].

    Raises
    ------
    UnknownFactorError
        ``vegetation`` is not one of the listed types.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. In: Powlson, D.S. et al. (eds) Evaluation of Soil Organic Matter
       Models. NATO ASI Series I 38, Springer, 237-246. :doi:`10.1007/978-3-642-61094-3_17`
    """
    key = _VEGETATION_DPM_RPM.get(vegetation)
    if key is None:
        raise UnknownFactorError(
            f"unknown vegetation {vegetation!r} for the DPM/RPM ratio; valid: {', '.join(_VEGETATION_DPM_RPM)}"
        )
    return getattr(_params(params), key)


# --------------------------------------------------------------------------------------
# Rate modifiers, partition, IOM
# --------------------------------------------------------------------------------------


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
    p = _params(params)
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
        return SMDLimits(*(_take(a, index) for a in (self.max_mm, self.one_bar_mm, self.bare_mm)))


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
    p = _params(params)
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
    p = _params(params)
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
    p = _params(params)
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
    p = _params(params)
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
    p = _params(params)
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
    p = _params(params)
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
    return np.asarray(pet_mm, dtype=float) / _params(params).pan_coefficient


# --------------------------------------------------------------------------------------
# State and drivers
# --------------------------------------------------------------------------------------


def _take(array: NDArray, index: NDArray) -> NDArray:
    """Select plots along the last axis, leaving plot-independent (size-1) axes alone."""
    return array if array.shape[-1] == 1 else array[..., index]


@dataclass
class RothCState:
    """The state of many plots at the end of a month.

    Attributes
    ----------
    pools_t_c_ha : array (4, n_plots) [t C ha-1]
        DPM, RPM, BIO, HUM.
    iom_t_c_ha : array (n_plots,) [t C ha-1]
        Inert organic matter (constant).
    smd_mm : array (n_plots,) [mm]
        Accumulated topsoil moisture deficit (0 = field capacity).
    c14_activity_t_c_ha : array (4, n_plots), optional [t C ha-1]
        Radiocarbon activity of each pool, in t C of modern-equivalent carbon
        (pool × exp(-ln2/5568 · radiocarbon age)); ``None`` when radiocarbon is not modelled.
    """

    pools_t_c_ha: NDArray
    iom_t_c_ha: NDArray
    smd_mm: NDArray
    c14_activity_t_c_ha: NDArray | None = None

    @classmethod
    def from_pools(
        cls,
        dpm_t_c_ha: ArrayLike,
        rpm_t_c_ha: ArrayLike,
        bio_t_c_ha: ArrayLike,
        hum_t_c_ha: ArrayLike,
        iom_t_c_ha: ArrayLike,
        smd_mm: ArrayLike = 0.0,
    ) -> RothCState:
        """A state from pool sizes [t C ha-1] (broadcast to a common number of plots)."""
        arrays = np.broadcast_arrays(
            *(np.atleast_1d(np.asarray(a, dtype=float)) for a in (dpm_t_c_ha, rpm_t_c_ha, bio_t_c_ha, hum_t_c_ha))
        )
        pools = np.stack(arrays).astype(float)
        n = pools.shape[1]
        iom = np.broadcast_to(np.asarray(iom_t_c_ha, dtype=float), (n,)).copy()
        smd = np.broadcast_to(np.asarray(smd_mm, dtype=float), (n,)).copy()
        return cls(pools, iom, smd)

    @property
    def n_plots(self) -> int:
        return self.pools_t_c_ha.shape[1]

    @property
    def dpm_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[0]

    @property
    def rpm_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[1]

    @property
    def bio_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[2]

    @property
    def hum_t_c_ha(self) -> NDArray:
        return self.pools_t_c_ha[3]

    @property
    def active_t_c_ha(self) -> NDArray:
        """DPM + RPM + BIO + HUM [t C ha-1]."""
        p = self.pools_t_c_ha
        return p[0] + p[1] + p[2] + p[3]

    @property
    def soc_t_c_ha(self) -> NDArray:
        """Total SOC = active pools + IOM [t C ha-1]."""
        p = self.pools_t_c_ha
        return p[0] + p[1] + p[2] + p[3] + self.iom_t_c_ha

    def copy(self) -> RothCState:
        act = None if self.c14_activity_t_c_ha is None else self.c14_activity_t_c_ha.copy()
        return RothCState(self.pools_t_c_ha.copy(), self.iom_t_c_ha.copy(), self.smd_mm.copy(), act)


@dataclass(frozen=True)
class MonthlyInputs:
    """Monthly drivers of RothC for many plots.

    Every field is an array of shape ``(n_months, n_plots)`` or anything that broadcasts
    to it by numpy's rules: a scalar (same every month and plot), a 1-D array of length
    ``n_plots`` (constant per plot), ``(n_months, 1)`` (one series for all plots). The
    first axis is read **cyclically**: a field of ``T`` rows gives month ``t`` the row
    ``t % T``, so a ``(12, n_plots)`` climatology drives any number of whole years. ``T``
    must be 1 or divide the number of months run.

    Attributes
    ----------
    temperature_c : array [°C]
        Mean monthly air temperature.
    rain_mm : array [mm]
        Monthly rainfall.
    evaporation_mm : array [mm]
        Monthly open-pan evaporation (PET / 0.75 if only PET is known).
    plant_c_t_ha : array [t C ha-1 month-1]
        Plant carbon input of the month.
    fym_c_t_ha : array [t C ha-1 month-1]
        Farmyard-manure carbon input of the month.
    covered : array of bool
        Soil covered by vegetation (PC = 1) this month.
    dpm_rpm_ratio : array [-], optional
        DPM/RPM ratio of this month's plant input; default 1.44 (crops, improved grassland).
    modern_c_pct : array [% modern]
        Radiocarbon content of this month's inputs (100 before 1860); used only when
        radiocarbon is modelled.
    """

    temperature_c: ArrayLike
    rain_mm: ArrayLike
    evaporation_mm: ArrayLike
    plant_c_t_ha: ArrayLike = 0.0
    fym_c_t_ha: ArrayLike = 0.0
    covered: ArrayLike = True
    dpm_rpm_ratio: ArrayLike | None = None
    modern_c_pct: ArrayLike = 100.0

    def replace(self, **changes) -> MonthlyInputs:
        """A copy with some fields replaced."""
        return replace(self, **changes)


# Open-pan evaporation may be slightly negative (net condensation): the Rothamsted example
# data have such months, and the reference code uses them as they are.
_NONNEGATIVE = ("rain_mm", "plant_c_t_ha", "fym_c_t_ha", "dpm_rpm_ratio")


def _as_monthly(name: str, value: ArrayLike) -> NDArray:
    arr = np.asarray(value)
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = arr.reshape(1, -1)  # numpy broadcasting: a 1-D array runs along plots
    elif arr.ndim > 2:
        raise InputError(f"{name}: expected an array of shape (n_months, n_plots), got {arr.ndim} dimensions")
    if arr.size == 0:
        raise InputError(f"{name}: empty array")
    if name == "covered":
        if arr.dtype != bool:
            num = arr.astype(float)
            if not np.isin(num, (0.0, 1.0)).all():
                raise InputError(f"{name}: expected 0/1 (bare/covered) values")
            arr = num.astype(bool)
        return arr
    try:
        arr = np.asarray(arr, dtype=float)  # no copy when already float64
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name}: expected numbers ({exc})") from None
    if not np.isfinite(arr).all():
        raise InputError(f"{name}: values must be finite numbers")
    if name in _NONNEGATIVE and (arr < 0).any():
        raise InputError(f"{name}: values must be >= 0")
    if name == "modern_c_pct" and (arr <= 0).any():
        raise InputError(f"{name}: values must be > 0")
    return arr


class _Drivers:
    """Validated monthly drivers, 2-D (period, n_plots or 1), read cyclically."""

    _FIELDS = ("temperature_c", "rain_mm", "evaporation_mm", "plant_c_t_ha", "fym_c_t_ha", "covered",
               "dpm_rpm_ratio", "modern_c_pct")

    # Precompute the temperature factor for short (cyclic) temperature series only; for a
    # long series it costs the same month by month and saves a copy of the whole array.
    _PRECOMPUTE_MAX_MONTHS = 120

    def __init__(self, arrays: dict[str, NDArray], params: RothCParameters) -> None:
        self.arrays = arrays
        self.params = params
        temperature = arrays["temperature_c"]
        self.rm_temp = (
            temperature_rate_modifier(temperature, params)
            if temperature.shape[0] <= self._PRECOMPUTE_MAX_MONTHS
            else None
        )

    @classmethod
    def build(cls, inputs: MonthlyInputs, params: RothCParameters) -> _Drivers:
        arrays = {}
        for name in cls._FIELDS:
            value = getattr(inputs, name)
            if name == "dpm_rpm_ratio" and value is None:
                value = params.dpm_rpm_crop
            arrays[name] = _as_monthly(name, value)
        return cls(arrays, params)

    @property
    def periods(self) -> list[int]:
        return [a.shape[0] for a in self.arrays.values()]

    @property
    def n_plots(self) -> int:
        widths = {a.shape[1] for a in self.arrays.values()} - {1}
        if len(widths) > 1:
            raise InputError(f"monthly inputs have different numbers of plots: {sorted(widths)}")
        return widths.pop() if widths else 1

    def check_months(self, n_months: int) -> None:
        for name, a in self.arrays.items():
            period = a.shape[0]
            if period != 1 and n_months % period != 0:
                raise InputError(
                    f"{name} has {period} months; expected 1 or a divisor of the {n_months} months run"
                )

    def at(self, name: str, month: int) -> NDArray:
        a = self.arrays[name]
        return a[month % a.shape[0]]

    def rm_temp_at(self, month: int) -> NDArray:
        if self.rm_temp is None:
            return temperature_rate_modifier(self.at("temperature_c", month), self.params)
        return self.rm_temp[month % self.rm_temp.shape[0]]


@dataclass
class _Site:
    """Per-plot constants: moisture limits, partition fractions, IOM."""

    limits: SMDLimits
    smd_span_mm: NDArray
    to_co2: NDArray
    to_bio: NDArray
    to_hum: NDArray
    iom_t_c_ha: NDArray
    k_col: NDArray
    c14_month_decay: float

    @classmethod
    def build(
        cls,
        clay_pct: ArrayLike,
        depth_cm: ArrayLike,
        iom_t_c_ha: ArrayLike,
        n_plots: int,
        params: RothCParameters,
        bare_soil_limit: BareSoilLimit,
    ) -> _Site:
        clay = _per_plot("clay_pct", clay_pct, n_plots)
        depth = _per_plot("depth_cm", depth_cm, n_plots)
        iom = _per_plot("iom_t_c_ha", iom_t_c_ha, n_plots)
        if ((clay < 0) | (clay > 100)).any():
            raise InputError("clay_pct: values must be between 0 and 100")
        if (depth <= 0).any():
            raise InputError("depth_cm: values must be > 0")
        if (iom < 0).any():
            raise InputError("iom_t_c_ha: values must be >= 0")
        x = co2_bio_hum_ratio(clay, params)
        limits = smd_limits(clay, depth, params, bare_soil_limit=bare_soil_limit)
        return cls(
            limits=limits,
            smd_span_mm=limits.max_mm - limits.one_bar_mm,
            to_co2=x / (x + 1.0),
            to_bio=params.bio_fraction / (x + 1.0),
            to_hum=params.hum_fraction / (x + 1.0),
            iom_t_c_ha=iom,
            k_col=params.k_per_yr[:, None],
            c14_month_decay=math.exp(-params.c14_decay_per_yr * params.tstep_yr),
        )

    def take(self, index: NDArray) -> _Site:
        return _Site(
            self.limits.take(index),
            self.smd_span_mm[index],
            self.to_co2[index],
            self.to_bio[index],
            self.to_hum[index],
            self.iom_t_c_ha[index],
            self.k_col,
            self.c14_month_decay,
        )


def _per_plot(name: str, value: ArrayLike, n_plots: int) -> NDArray:
    arr = np.asarray(value, dtype=float)
    if arr.ndim > 1 or (arr.ndim == 1 and arr.shape[0] not in (1, n_plots)):
        raise InputError(f"{name}: expected a scalar or an array of {n_plots} plots, got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name}: values must be finite numbers")
    return np.broadcast_to(arr, (n_plots,)).astype(float)


def _n_plots(drivers: _Drivers, *per_plot: ArrayLike) -> int:
    sizes = {drivers.n_plots} | {np.size(v) for v in per_plot if v is not None}
    sizes.discard(1)
    if len(sizes) > 1:
        raise InputError(f"inputs describe different numbers of plots: {sorted(sizes)}")
    return sizes.pop() if sizes else 1


# --------------------------------------------------------------------------------------
# One month
# --------------------------------------------------------------------------------------


@dataclass
class _Forcing:
    """What one month brings to every plot, derived from the drivers.

    ``inputs`` holds the C added to DPM, RPM, BIO, HUM after the decay (plant C split by
    the DPM/RPM ratio, manure 49/49/0/2), shape (4, n_plots or 1).
    """

    rm_temperature: NDArray
    covered: NDArray
    rm_cover: NDArray
    water_balance_mm: NDArray
    inputs: NDArray
    modern_fraction: NDArray

    @property
    def cover_mode(self) -> int:
        """1 if every plot is covered this month, 0 if none is, -1 if mixed."""
        mode = self.__dict__.get("_cover_mode")
        if mode is None:
            mode = 1 if self.covered.all() else (0 if not self.covered.any() else -1)
            self.__dict__["_cover_mode"] = mode
        return mode

    @classmethod
    def of(cls, drv: _Drivers, month: int, p: RothCParameters, management: tuple | None = None) -> _Forcing:
        covered, rm_cover, inputs, modern = management or _management(drv, month, p)
        return cls(
            rm_temperature=drv.rm_temp_at(month),
            covered=covered,
            rm_cover=rm_cover,
            water_balance_mm=drv.at("rain_mm", month) - p.pan_coefficient * drv.at("evaporation_mm", month),
            inputs=inputs,
            modern_fraction=modern,
        )

    def take(self, index: NDArray) -> _Forcing:
        return _Forcing(*(_take(getattr(self, f.name), index) for f in fields(self)))


_MANAGEMENT = ("covered", "plant_c_t_ha", "fym_c_t_ha", "dpm_rpm_ratio", "modern_c_pct")


def _management(drv: _Drivers, month: int, p: RothCParameters) -> tuple:
    """Cover, its rate factor, the pool inputs (4, n) and the fraction modern of a month."""
    covered = drv.at("covered", month)
    plant = drv.at("plant_c_t_ha", month)
    fym = drv.at("fym_c_t_ha", month)
    ratio = drv.at("dpm_rpm_ratio", month)
    inputs = np.zeros((4, max(plant.shape[-1], fym.shape[-1], ratio.shape[-1])))
    inputs[0] = ratio / (ratio + 1.0) * plant + p.fym_dpm_fraction * fym
    inputs[1] = 1.0 / (ratio + 1.0) * plant + p.fym_rpm_fraction * fym
    inputs[3] = p.fym_hum_fraction * fym
    rm_cover = np.where(covered, p.rm_cover_covered, p.rm_cover_bare)
    return covered, rm_cover, inputs, drv.at("modern_c_pct", month) / 100.0


class _ForcingSource:
    """Month-by-month forcing for :func:`run`.

    Management (cover, inputs, DPM/RPM, % modern) usually repeats with a short period while
    the weather does not: its derived arrays are kept for reuse, within a memory budget.
    """

    def __init__(self, drv: _Drivers, p: RothCParameters, n_plots: int, budget_bytes: int = 64 * 2**20) -> None:
        self.drv, self.p = drv, p
        self.periods = [drv.arrays[name].shape[0] for name in _MANAGEMENT]
        self.max_entries = max(1, budget_bytes // (8 * 7 * max(n_plots, 1)))
        self.cache: dict[tuple[int, ...], tuple] = {}

    def __call__(self, month: int) -> _Forcing:
        key = tuple(month % period for period in self.periods)
        management = self.cache.get(key)
        if management is None:
            management = _management(self.drv, month, self.p)
            if len(self.cache) < self.max_entries:
                self.cache[key] = management
        return _Forcing.of(self.drv, month, self.p, management)


@functools.lru_cache(maxsize=8)
def _decay_plan(p: RothCParameters) -> tuple[float, tuple[int, ...]] | None:
    """Integer multiples of the slowest rate constant, when the rate constants are such.

    The shipped constants are 500, 15, 33 and 1 times k_HUM = 0.02 yr-1, so the four
    monthly retention factors exp(-r k tstep) are integer powers of exp(-r k_HUM tstep):
    one exponential and 17 multiplications per plot instead of four exponentials (exp is
    the costliest operation of the hot loop). The powers agree with direct exponentials to
    about 5e-14 relative (500 times the rounding of one exp).
    """
    k = p.k_per_yr
    base = float(k.min())
    if base <= 0:
        return None
    ratios = k / base
    multiples = np.round(ratios)
    if np.all(np.abs(ratios - multiples) <= 1e-12 * ratios) and multiples.max() <= 4096:
        return base, tuple(int(m) for m in multiples)
    return None


def _retained(rate: NDArray, p: RothCParameters) -> NDArray:
    """Fraction of each pool left after a month at combined rate modifier ``rate``, (4, n)."""
    plan = _decay_plan(p)
    if plan is None:
        out = p.k_per_yr[:, None] * rate
        out *= -p.tstep_yr
        return np.exp(out, out=out)
    base, multiples = plan
    unit = rate * base
    unit *= -p.tstep_yr
    np.exp(unit, out=unit)
    powers = {1: unit}  # unit ** (2 ** i), by repeated squaring
    power = 1
    while power * 2 <= max(multiples):
        unit = unit * unit
        power *= 2
        powers[power] = unit
    out = np.empty((4,) + np.shape(rate))
    for j, multiple in enumerate(multiples):
        bits = [powers[b] for b in powers if multiple & b]
        if len(bits) == 1:
            out[j] = bits[0]
        else:
            np.multiply(bits[0], bits[1], out=out[j])
            for factor in bits[2:]:
                out[j] *= factor
    return out


@dataclass
class _Month:
    """Rate modifiers and CO2 of one month (for recording)."""

    rm_temperature: NDArray
    rm_moisture: NDArray
    rm_cover: NDArray
    co2_t_c_ha: NDArray


def _step(
    pools: NDArray,
    smd: NDArray,
    activity: NDArray | None,
    f: _Forcing,
    site: _Site,
    p: RothCParameters,
) -> tuple[NDArray, NDArray, NDArray | None, _Month]:
    """Advance every plot by one month (subroutines RothC + decomp of the reference).

    Order of operations as in the reference: the temperature factor; the new deficit, then
    the moisture factor from it; the cover factor; decay of each pool over the month with
    the product of the three; the decayed C split into CO2/BIO/HUM; the month's inputs added
    after the decay (they do not decay in the month they arrive). :func:`update_smd` and
    :func:`moisture_rate_modifier` are inlined with in-place operations: this is the hot
    loop. ``pools`` and ``activity`` are consumed (their buffers are reused).
    """
    lim = site.limits
    wetter = smd + f.water_balance_mm
    np.minimum(wetter, 0.0, out=wetter)
    mode = f.cover_mode  # skip the per-plot choice when all plots are alike this month
    if mode == 1:
        smd = np.maximum(wetter, lim.max_mm, out=wetter)
    else:
        floor = np.minimum(lim.bare_mm, smd)
        if mode == -1:
            np.copyto(floor, lim.max_mm, where=f.covered)
        smd = np.maximum(floor, wetter, out=floor)
    # b = lo + (hi - lo) (max - SMD) / (max - one_bar), in the reference's operation order.
    rm_m = lim.max_mm - smd
    rm_m *= p.rm_moist_max - p.rm_moist_min
    rm_m /= site.smd_span_mm
    rm_m += p.rm_moist_min
    # The line reaches 1 at the -1 bar deficit and exceeds it above: b = min(line, 1).
    np.minimum(rm_m, p.rm_moist_max, out=rm_m)
    rate = f.rm_temperature * rm_m
    rate *= f.rm_cover

    # Exact exponential decay over the month with piecewise-constant modifiers.
    retained = _retained(rate, p)
    decayed = pools * retained
    np.subtract(pools, decayed, out=pools)
    lost_total = pools.sum(axis=0)
    decayed += f.inputs
    decayed[2] += site.to_bio * lost_total
    decayed[3] += site.to_hum * lost_total
    lost_total *= site.to_co2

    if activity is not None:
        # The radiocarbon tracer follows the carbon flows; what is already in the soil also
        # decays radioactively over the month; new inputs arrive at the month's % modern.
        kept = activity * retained
        np.subtract(activity, kept, out=activity)
        moved_total = activity.sum(axis=0)
        kept[2] += site.to_bio * moved_total
        kept[3] += site.to_hum * moved_total
        kept *= site.c14_month_decay
        kept += f.modern_fraction * f.inputs
        activity = kept
    return decayed, smd, activity, _Month(f.rm_temperature, rm_m, f.rm_cover, lost_total)


def delta14c(state: RothCState, params: RothCParameters | None = None) -> NDArray:
    """Δ14C of the whole soil (all pools and IOM) [‰].

    Parameters
    ----------
    state : RothCState
        With ``c14_activity_t_c_ha`` (run or spun up with ``radiocarbon=True``).
    params : RothCParameters, optional

    Returns
    -------
    array [‰]
        ``(exp(-age / 8035) - 1) · 1000`` with ``age = ln(SOC / activity) / (ln 2 / 5568)``;
        IOM is 50 000 years old (-998.02 ‰ on its own).

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    """
    p = _params(params)
    if state.c14_activity_t_c_ha is None:
        raise InputError("delta14c needs a state with radiocarbon (run or spin up with radiocarbon=True)")
    return _delta14c(state.pools_t_c_ha, state.c14_activity_t_c_ha, state.iom_t_c_ha, p)


def _delta14c(pools: NDArray, activity: NDArray, iom: NDArray, p: RothCParameters) -> NDArray:
    conr = p.c14_decay_per_yr
    soc = pools[0] + pools[1] + pools[2] + pools[3] + iom
    total = activity[0] + activity[1] + activity[2] + activity[3] + iom * math.exp(-conr * p.iom_radiocarbon_age_yr)
    with np.errstate(divide="ignore", invalid="ignore"):
        age = np.where(soc > 0, np.log(soc / total) / conr, 0.0)
    return (np.exp(-age / p.c14_mean_life_yr) - 1.0) * 1000.0


# --------------------------------------------------------------------------------------
# Forward run
# --------------------------------------------------------------------------------------


@dataclass
class RothCRun:
    """Result of :func:`run`.

    Attributes
    ----------
    month_index : array of int (n_records,)
        0-based month of each record (the state at the end of that month).
    outputs : dict of str to array (n_records, n_plots)
        Recorded variables (see :data:`OUTPUTS`): pools, IOM and SOC [t C ha-1],
        cumulative CO2 since the start of the run [t C ha-1], the deficit [mm], the three
        rate modifiers of the month [-] and, with radiocarbon, Δ14C [‰].
    final_state : RothCState
        State at the end of the last month (start of a continuation run).
    """

    month_index: NDArray
    outputs: dict[str, NDArray]
    final_state: RothCState


def run(
    inputs: MonthlyInputs,
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    initial: RothCState,
    *,
    n_months: int | None = None,
    record: Record = "monthly",
    variables: tuple[str, ...] | None = None,
    radiocarbon: bool | None = None,
    bare_soil_limit: BareSoilLimit = "classic",
    params: RothCParameters | None = None,
) -> RothCRun:
    """Run RothC-26.3 month by month for many plots at once.

    Parameters
    ----------
    inputs : MonthlyInputs
        Drivers, shape ``(n_months, n_plots)`` or broadcastable, read cyclically.
    clay_pct : array (n_plots,) [%]
        Clay content.
    depth_cm : array (n_plots,) [cm]
        Depth of the layer (enters the moisture deficit only).
    initial : RothCState
        State at the start (e.g. ``spinup(...).state``); its deficit carries on.
    n_months : int, optional
        Months to run; default: the longest input period.
    record : {"monthly", "yearly", "final"}
        Record every month, every 12th month (the end of each year of the run), or only
        the last month.
    variables : tuple of str, optional
        Subset of :data:`OUTPUTS` to record (saves memory for large batches).
    radiocarbon : bool, optional
        Track radiocarbon; default: when the initial state carries it.
    bare_soil_limit : {"classic", "wilting_point"}
        See :func:`smd_limits`.
    params : RothCParameters, optional

    Returns
    -------
    RothCRun

    Raises
    ------
    InputError
        Inputs of the wrong shape, non-finite or negative where they must not be.

    Notes
    -----
    Pools are in t C ha-1 for the layer the inputs and IOM refer to; the model has no depth
    or bulk-density conversion of SOC. CO2 is accumulated from 0 at the start of the run.
    The model applies to non-waterlogged topsoils.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Rothamsted Research (2024). RothC_Code, RothC_R, RothC_Py: official
       implementations of RothC (Apache-2.0), github.com/Rothamsted-Models.
    """
    p = _params(params)
    drv = _Drivers.build(inputs, p)
    n = _n_plots(drv, clay_pct, depth_cm, initial.iom_t_c_ha)
    if initial.n_plots not in (1, n):
        raise InputError(f"initial state has {initial.n_plots} plots, inputs have {n}")
    if n_months is None:
        n_months = max(drv.periods)
    if n_months < 1:
        raise InputError("n_months must be >= 1")
    drv.check_months(n_months)
    if radiocarbon is None:
        radiocarbon = initial.c14_activity_t_c_ha is not None
    if radiocarbon and initial.c14_activity_t_c_ha is None:
        raise InputError("radiocarbon needs an initial state with radiocarbon (spinup(..., radiocarbon=True))")
    site = _Site.build(clay_pct, depth_cm, initial.iom_t_c_ha, n, p, bare_soil_limit)

    wanted = tuple(v for v in (variables or OUTPUTS) if radiocarbon or v != "delta14c_permil")
    unknown = [v for v in wanted if v not in OUTPUTS]
    if unknown:
        raise UnknownFactorError(f"unknown output {', '.join(unknown)}; valid: {', '.join(OUTPUTS)}")
    if record == "monthly":
        months = np.arange(n_months)
    elif record == "yearly":
        per_year = int(p.months_per_year)
        months = np.arange(per_year - 1, n_months, per_year)
    elif record == "final":
        months = np.array([n_months - 1])
    else:
        raise UnknownFactorError(f"unknown record {record!r}; valid: monthly, yearly, final")
    outputs = {v: np.empty((len(months), n)) for v in wanted}
    record_at = np.full(n_months, -1)
    record_at[months] = np.arange(len(months))

    pools = np.broadcast_to(initial.pools_t_c_ha, (4, n)).astype(float)
    smd = np.broadcast_to(initial.smd_mm, (n,)).astype(float)
    activity = None
    if radiocarbon:
        activity = np.broadcast_to(initial.c14_activity_t_c_ha, (4, n)).astype(float)
    co2_total = np.zeros(n)
    forcing = _ForcingSource(drv, p, n)
    for t in range(n_months):
        pools, smd, activity, month = _step(pools, smd, activity, forcing(t), site, p)
        co2_total = co2_total + month.co2_t_c_ha
        r = record_at[t]
        if r >= 0:
            _record(outputs, r, pools, smd, activity, co2_total, month, site, p)
    final = RothCState(pools, site.iom_t_c_ha.copy(), smd, activity)
    return RothCRun(months, outputs, final)


def _record(outputs, r, pools, smd, activity, co2_total, month: _Month, site: _Site, p) -> None:
    values = {
        "dpm_t_c_ha": lambda: pools[0],
        "rpm_t_c_ha": lambda: pools[1],
        "bio_t_c_ha": lambda: pools[2],
        "hum_t_c_ha": lambda: pools[3],
        "iom_t_c_ha": lambda: site.iom_t_c_ha,
        "soc_t_c_ha": lambda: pools[0] + pools[1] + pools[2] + pools[3] + site.iom_t_c_ha,
        "co2_t_c_ha": lambda: co2_total,
        "smd_mm": lambda: smd,
        "rm_temperature": lambda: month.rm_temperature,
        "rm_moisture": lambda: month.rm_moisture,
        "rm_cover": lambda: month.rm_cover,
        "delta14c_permil": lambda: _delta14c(pools, activity, site.iom_t_c_ha, p),
    }
    for name, out in outputs.items():
        out[r] = values[name]()


# --------------------------------------------------------------------------------------
# Spin-up
# --------------------------------------------------------------------------------------


@dataclass
class Spinup:
    """Result of :func:`spinup`.

    Attributes
    ----------
    state : RothCState
        Equilibrium state at the end of the cycle (a December for a 12-month cycle).
    n_months : array of int (n_plots,)
        Months iterated by the reference loop (0 for the analytic solution).
    method : str
        ``analytic`` or ``reference``.
    """

    state: RothCState
    n_months: NDArray
    method: str


def _cycle_length(drv: _Drivers, params: RothCParameters) -> int:
    length = int(params.months_per_year)
    for period in drv.periods:
        length = math.lcm(length, period)
    return length


def spinup(
    inputs: MonthlyInputs,
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    iom_t_c_ha: ArrayLike,
    *,
    method: SpinupMethod = "analytic",
    radiocarbon: bool = False,
    bare_soil_limit: BareSoilLimit = "classic",
    max_years: int = 50_000,
    params: RothCParameters | None = None,
) -> Spinup:
    """Equilibrium pools for a repeated cycle of climate and management.

    Parameters
    ----------
    inputs : MonthlyInputs
        The cycle: usually 12 months (a representative year: mean weather, mean monthly C
        inputs, cover, DPM/RPM, FYM), shape ``(12, n_plots)`` or broadcastable. Longer
        cycles (a multiple of 12 months, e.g. a rotation) are allowed.
    clay_pct : array (n_plots,) [%]
    depth_cm : array (n_plots,) [cm]
    iom_t_c_ha : array (n_plots,) [t C ha-1]
        Inert organic matter (e.g. :func:`falloon_iom` of the measured SOC).
    method : {"analytic", "reference"}
        ``analytic`` (default): the exact periodic steady state. The deficit cycle is
        found by iterating the water balance from field capacity until it repeats, then
        the cycle's affine map ``C -> A C + b`` of the active pools is built per plot and
        ``(I - A) C = b`` solved (a batched 4 x 4 solve).
        ``reference``: the official loop, from empty pools and a zero deficit, cycling
        until active C changes by no more than 1e-6 t C/ha between consecutive year ends
        (checked every 12 months), as the reference code. It steps month by month until
        the deficit cycle repeats, then applies the (then fixed) yearly affine map once a
        year: the same states up to rounding (~1e-13 t C/ha), the same stopping year.
    radiocarbon : bool
        Also bring the radiocarbon tracer to equilibrium (inputs at ``modern_c_pct``).
    bare_soil_limit : {"classic", "wilting_point"}
    max_years : int
        ``reference`` only: give up after this many years (the reference would loop
        forever where nothing decomposes).
    params : RothCParameters, optional

    Returns
    -------
    Spinup

    Raises
    ------
    InputError
        Nothing decomposes during the cycle (temperature below -5 °C all year), so no
        equilibrium exists; or the reference loop did not converge within ``max_years``.

    Notes
    -----
    The reference loop stops before exact convergence: the exact steady state is higher
    by about 1.4e-4 t C/ha (almost all HUM) for the Rothamsted examples. Use
    ``reference`` to reproduce the official output files; ``analytic`` is exact and needs
    no iteration (one batched 4 x 4 solve).

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Rothamsted Research (2024). RothC_Code (Shell.for), RothC_R, RothC_Py: the
       spin-up loop, github.com/Rothamsted-Models (Apache-2.0).
    """
    p = _params(params)
    drv = _Drivers.build(inputs, p)
    n = _n_plots(drv, clay_pct, depth_cm, iom_t_c_ha)
    site = _Site.build(clay_pct, depth_cm, iom_t_c_ha, n, p, bare_soil_limit)
    length = _cycle_length(drv, p)
    if method == "analytic":
        return _spinup_analytic(drv, site, n, length, radiocarbon, p)
    if method == "reference":
        return _spinup_reference(drv, site, n, length, radiocarbon, max_years, p)
    raise UnknownFactorError(f"unknown spin-up method {method!r}; valid: analytic, reference")


def _smd_orbit(forcing: list[_Forcing], site: _Site, start: NDArray, max_cycles: int = 1000) -> NDArray:
    """Deficit at the start of the periodic cycle reached from ``start``.

    The cycle map of the deficit is monotone and 1-Lipschitz, so iterating it from field
    capacity gives a non-increasing sequence that reaches a fixed point after a finite
    number of cycles (usually one or two): the deficit cycle the reference spin-up settles
    into.
    """
    for _ in range(max_cycles):
        smd = start
        for f in forcing:
            smd = _next_smd(smd, f, site)
        if np.array_equal(smd, start):
            break
        start = smd
    return start


def _next_smd(smd: NDArray, f: _Forcing, site: _Site) -> NDArray:
    lim = site.limits
    wetter = np.minimum(smd + f.water_balance_mm, 0.0)
    return np.maximum(np.where(f.covered, lim.max_mm, np.minimum(lim.bare_mm, smd)), wetter)


def _cycle_rates(forcing: list[_Forcing], site: _Site, start: NDArray, p: RothCParameters) -> NDArray:
    """Combined rate modifier a·b·c of each month of the cycle from a start deficit, (length, n).

    Same operations, in the same order, as :func:`_step`.
    """
    rates = np.empty((len(forcing), start.shape[0]))
    smd = start
    for t, f in enumerate(forcing):
        smd = _next_smd(smd, f, site)
        rm_m = site.limits.max_mm - smd
        rm_m *= p.rm_moist_max - p.rm_moist_min
        rm_m /= site.smd_span_mm
        rm_m += p.rm_moist_min
        np.minimum(rm_m, p.rm_moist_max, out=rm_m)
        rate = f.rm_temperature * rm_m
        rate *= f.rm_cover
        rates[t] = rate
    return rates


def _monthly_inputs_split(drv: _Drivers, t: int, p: RothCParameters) -> tuple[NDArray, NDArray]:
    """Pool inputs of month t, shape (4, n|1), separately for plant C and FYM."""
    plant = drv.at("plant_c_t_ha", t)
    fym = drv.at("fym_c_t_ha", t)
    ratio = drv.at("dpm_rpm_ratio", t)
    plant_dpm = ratio / (ratio + 1.0) * plant
    plant_rpm = 1.0 / (ratio + 1.0) * plant
    zero = np.zeros_like(plant_dpm)
    u_plant = np.stack(np.broadcast_arrays(plant_dpm, plant_rpm, zero, zero))
    u_fym = np.stack(
        np.broadcast_arrays(p.fym_dpm_fraction * fym, p.fym_rpm_fraction * fym, 0.0 * fym, p.fym_hum_fraction * fym)
    )
    return u_plant, u_fym


def _cycle_map(
    rates: NDArray, site: _Site, p: RothCParameters, offsets: list[NDArray], tracer_decay: float = 1.0
) -> tuple[NDArray, list[NDArray]]:
    """Affine map of the active pools over one cycle, batched over plots.

    Month m maps C to ``s (M_m C) + u_m`` with ``M_m = diag(f) + e_BIO (to_bio (1-f))ᵀ +
    e_HUM (to_hum (1-f))ᵀ`` (f = retained fraction of each pool), s = 1 for carbon and the
    radioactive decay over a month for the radiocarbon tracer. ``offsets[j]`` has shape
    (length, 4, n) and holds the inputs u_m of input component j.

    Returns A (n, 4, 4) and, per component, b (n, 4) with ``C_end = A C_start + sum_j b_j``.
    """
    length, n = rates.shape
    a_map = np.broadcast_to(np.eye(4), (n, 4, 4)).copy()
    b_maps = [np.zeros((n, 4)) for _ in offsets]
    for t in range(length):
        retained = _retained(rates[t], p).T  # (n, 4)
        lost = 1.0 - retained
        m = np.zeros((n, 4, 4))
        idx = np.arange(4)
        m[:, idx, idx] = retained
        m[:, 2, :] += site.to_bio[:, None] * lost
        m[:, 3, :] += site.to_hum[:, None] * lost
        m *= tracer_decay
        a_map = np.matmul(m, a_map)
        for j, u in enumerate(offsets):
            b_maps[j] = np.einsum("nij,nj->ni", m, b_maps[j]) + np.broadcast_to(u[t].T, (n, 4))
    return a_map, b_maps


def _fixed_point(a_map: NDArray, b: NDArray) -> NDArray:
    n = a_map.shape[0]
    lhs = np.broadcast_to(np.eye(4), (n, 4, 4)) - a_map
    return np.linalg.solve(lhs, b[..., None])[..., 0].T  # (4, n)


def _check_decomposes(rates: NDArray) -> None:
    dead = ~(rates.sum(axis=0) > 0)
    if dead.any():
        plots = np.flatnonzero(dead)
        shown = ", ".join(str(i) for i in plots[:10]) + (" ..." if plots.size > 10 else "")
        raise InputError(
            f"no equilibrium: nothing decomposes during the spin-up cycle of plot(s) {shown} "
            "(temperature below -5 °C in every month?)"
        )


def _cycle_offsets(drv: _Drivers, length: int, n: int, p: RothCParameters) -> tuple[NDArray, NDArray]:
    plant = np.empty((length, 4, n))
    fym = np.empty((length, 4, n))
    for t in range(length):
        u_plant, u_fym = _monthly_inputs_split(drv, t, p)
        plant[t] = np.broadcast_to(u_plant, (4, n))
        fym[t] = np.broadcast_to(u_fym, (4, n))
    return plant, fym


def _forcing_offsets(forcing: list[_Forcing], n: int, tracer: bool = False) -> NDArray:
    """Monthly pool inputs of the cycle, (length, 4, n); times % modern for the tracer."""
    return np.stack(
        [np.broadcast_to(f.inputs * f.modern_fraction if tracer else f.inputs, (4, n)) for f in forcing]
    )


def _spinup_analytic(drv, site, n, length, radiocarbon, p) -> Spinup:
    forcing = [_Forcing.of(drv, t, p) for t in range(length)]
    smd_start = _smd_orbit(forcing, site, np.zeros(n))
    rates = _cycle_rates(forcing, site, smd_start, p)
    _check_decomposes(rates)
    a_map, (b,) = _cycle_map(rates, site, p, [_forcing_offsets(forcing, n)])
    pools = _fixed_point(a_map, b)
    activity = None
    if radiocarbon:
        a14, (b14,) = _cycle_map(
            rates, site, p, [_forcing_offsets(forcing, n, tracer=True)], tracer_decay=site.c14_month_decay
        )
        activity = _fixed_point(a14, b14)
    state = RothCState(pools, site.iom_t_c_ha.copy(), smd_start, activity)
    return Spinup(state, np.zeros(n, dtype=int), "analytic")


def _spinup_reference(drv, site, n, length, radiocarbon, max_years, p) -> Spinup:
    """The reference loop: from empty pools and field capacity, year after year until the
    active C of consecutive year ends differs by no more than the tolerance.

    Phase 1 steps month by month, exactly as the reference, until the deficit cycle of
    every remaining plot repeats (usually after one or two years). From then on the year
    is the same affine map ``C -> A C + b`` every time, so phase 2 applies that map once per
    year (the same states up to rounding, about 1e-13 t C/ha) with the same stopping test.
    """
    per_year = int(p.months_per_year)
    tol = p.spinup_tolerance_t_c_ha
    forcing = [_Forcing.of(drv, t, p) for t in range(length)]  # the same every year
    out_pools = np.zeros((4, n))
    out_smd = np.zeros(n)
    out_act = np.zeros((4, n)) if radiocarbon else None
    out_months = np.zeros(n, dtype=int)

    active = np.arange(n)
    pools = np.zeros((4, n))
    smd = np.zeros(n)
    activity = np.zeros((4, n)) if radiocarbon else None
    toc_prev = np.zeros(n)
    smd_prev = np.full(n, np.nan)
    a_site = site
    month = 0

    def finish(done: NDArray) -> None:
        ids = active[done]
        out_pools[:, ids] = pools[:, done]
        out_smd[ids] = smd[done]
        out_months[ids] = month
        if radiocarbon:
            out_act[:, ids] = activity[:, done]

    def check_years() -> None:
        if active.size and month // per_year >= max_years:
            shown = ", ".join(str(i) for i in active[:10]) + (" ..." if active.size > 10 else "")
            raise InputError(
                f"reference spin-up did not reach equilibrium within {max_years} years for plot(s) {shown}; "
                "decomposition is too slow (use the analytic spin-up)"
            )

    # Phase 1: month by month.
    while active.size:
        for _ in range(per_year):
            pools, smd, activity, _m = _step(pools, smd, activity, forcing[month % length], a_site, p)
            month += 1
        toc = pools[0] + pools[1] + pools[2] + pools[3]
        done = ~(np.abs(toc - toc_prev) > tol)
        periodic = smd == smd_prev
        toc_prev, smd_prev = toc, smd.copy()
        if done.any():
            finish(done)
            keep = np.flatnonzero(~done)
            active, pools, smd = active[keep], pools[:, keep], smd[keep]
            toc_prev, smd_prev, periodic = toc_prev[keep], smd_prev[keep], periodic[keep]
            if radiocarbon:
                activity = activity[:, keep]
            forcing = [f.take(keep) for f in forcing]
            a_site = a_site.take(keep)
        check_years()
        if length == per_year and periodic.all():
            break
    if not active.size:
        return Spinup(RothCState(out_pools, site.iom_t_c_ha.copy(), out_smd, out_act), out_months, "reference")

    # Phase 2: one affine map per year.
    m = active.size
    rates = _cycle_rates(forcing, a_site, smd, p)
    a_map, (b,) = _cycle_map(rates, a_site, p, [_forcing_offsets(forcing, m)])
    state = pools.T.copy()  # (m, 4)
    if radiocarbon:
        a14, (b14,) = _cycle_map(
            rates, a_site, p, [_forcing_offsets(forcing, m, tracer=True)], tracer_decay=a_site.c14_month_decay
        )
        tracer = activity.T.copy()
    while active.size:
        state = np.einsum("nij,nj->ni", a_map, state) + b
        if radiocarbon:
            tracer = np.einsum("nij,nj->ni", a14, tracer) + b14
        month += per_year
        toc = state[:, 0] + state[:, 1] + state[:, 2] + state[:, 3]
        done = ~(np.abs(toc - toc_prev) > tol)
        toc_prev = toc
        if done.any():
            pools = state.T
            activity = tracer.T if radiocarbon else None
            finish(done)
            keep = np.flatnonzero(~done)
            active, state, smd, toc_prev = active[keep], state[keep], smd[keep], toc_prev[keep]
            a_map, b = a_map[keep], b[keep]
            if radiocarbon:
                tracer, a14, b14 = tracer[keep], a14[keep], b14[keep]
        check_years()
    return Spinup(RothCState(out_pools, site.iom_t_c_ha.copy(), out_smd, out_act), out_months, "reference")


# --------------------------------------------------------------------------------------
# Inverse mode
# --------------------------------------------------------------------------------------


@dataclass
class EquilibriumFit:
    """Result of :func:`fit_plant_input`.

    Attributes
    ----------
    plant_c_t_ha_yr : array (n_plots,) [t C ha-1 yr-1]
        Annual plant C input that makes the equilibrium SOC equal the target (NaN where
        no non-negative input can, with ``strict=False``).
    inputs : MonthlyInputs
        The cycle with the fitted monthly plant inputs (shape (cycle, n_plots)).
    spinup : Spinup
        The equilibrium with those inputs (analytic): the initial state of a projection.
    iom_t_c_ha : array (n_plots,) [t C ha-1]
        IOM used (given, or Falloon et al. 1998 from the target SOC).
    """

    plant_c_t_ha_yr: NDArray
    inputs: MonthlyInputs
    spinup: Spinup
    iom_t_c_ha: NDArray


def fit_plant_input(
    inputs: MonthlyInputs,
    clay_pct: ArrayLike,
    depth_cm: ArrayLike,
    soc_t_c_ha: ArrayLike,
    iom_t_c_ha: ArrayLike | None = None,
    *,
    radiocarbon: bool = False,
    bare_soil_limit: BareSoilLimit = "classic",
    strict: bool = True,
    params: RothCParameters | None = None,
) -> EquilibriumFit:
    """Inverse mode: the plant C input whose equilibrium SOC equals a measured stock.

    With the weather, cover, DPM/RPM ratio and manure of the cycle fixed, the equilibrium
    active carbon is affine in the plant input: ``C_eq = s · C_plant + C_fym``, where
    ``C_plant`` is the equilibrium for 1 t C/ha/yr distributed over the months like
    ``inputs.plant_c_t_ha`` and ``C_fym`` the equilibrium from manure alone. So
    ``s = (SOC - IOM - ΣC_fym) / ΣC_plant`` in one batched solve, no iteration.

    Parameters
    ----------
    inputs : MonthlyInputs
        The cycle (as for :func:`spinup`). ``plant_c_t_ha`` gives only the monthly
        distribution of the plant input (its total is ignored); manure (``fym_c_t_ha``)
        is kept as given.
    clay_pct : array (n_plots,) [%]
    depth_cm : array (n_plots,) [cm]
    soc_t_c_ha : array (n_plots,) [t C ha-1]
        Measured SOC stock of the layer, taken as the equilibrium stock.
    iom_t_c_ha : array (n_plots,), optional [t C ha-1]
        Inert organic matter; default Falloon et al. (1998) from ``soc_t_c_ha``.
    radiocarbon : bool
        Also return the radiocarbon equilibrium.
    bare_soil_limit : {"classic", "wilting_point"}
    strict : bool
        Raise when a plot's target cannot be reached with a non-negative plant input
        (target below IOM plus the manure-only equilibrium); with False those plots get NaN.
    params : RothCParameters, optional

    Returns
    -------
    EquilibriumFit

    Raises
    ------
    InputError
        A plot's monthly plant-input pattern is all zero, nothing decomposes, or (strict)
        the target is unreachable.

    Notes
    -----
    Assumes the soil is at equilibrium with the cycle, as RothC users do when initialising
    from a measured stock. The reference code has no such solver; users adjusted C_inp by
    hand until the spin-up matched.

    References
    ----------
    .. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
       carbon in soil. NATO ASI Series I 38, Springer, 237-246.
       :doi:`10.1007/978-3-642-61094-3_17`
    .. [2] Falloon, P., Smith, P., Coleman, K., Marshall, S. (1998). Soil Biology and
       Biochemistry 30(8), 1207-1211. :doi:`10.1016/S0038-0717(97)00256-3`
    """
    p = _params(params)
    drv = _Drivers.build(inputs, p)
    n = _n_plots(drv, clay_pct, depth_cm, soc_t_c_ha, iom_t_c_ha)
    target = _per_plot("soc_t_c_ha", soc_t_c_ha, n)
    iom = falloon_iom(target, p) if iom_t_c_ha is None else _per_plot("iom_t_c_ha", iom_t_c_ha, n)
    site = _Site.build(clay_pct, depth_cm, iom, n, p, bare_soil_limit)
    length = _cycle_length(drv, p)

    pattern = np.empty((length, n))
    for t in range(length):
        pattern[t] = np.broadcast_to(drv.at("plant_c_t_ha", t), (n,))
    total = pattern.sum(axis=0)
    if (total <= 0).any():
        shown = ", ".join(str(i) for i in np.flatnonzero(total <= 0)[:10])
        raise InputError(f"plant_c_t_ha: the monthly pattern of plot(s) {shown} is all zero; give the months of input")
    years = length / p.months_per_year
    unit_pattern = pattern / (total / years)  # 1 t C/ha/yr, same monthly shape

    forcing = [_Forcing.of(drv, t, p) for t in range(length)]
    smd_start = _smd_orbit(forcing, site, np.zeros(n))
    rates = _cycle_rates(forcing, site, smd_start, p)
    _check_decomposes(rates)
    unit_drv = _Drivers({**drv.arrays, "plant_c_t_ha": unit_pattern}, p)
    u_plant, u_fym = _cycle_offsets(unit_drv, length, n, p)
    a_map, (b_plant, b_fym) = _cycle_map(rates, site, p, [u_plant, u_fym])
    eq_plant = _fixed_point(a_map, b_plant)
    eq_fym = _fixed_point(a_map, b_fym)
    active_plant = eq_plant.sum(axis=0)
    active_fym = eq_fym.sum(axis=0)
    scale = (target - iom - active_fym) / active_plant
    bad = ~(scale >= 0)
    if bad.any():
        if strict:
            shown = ", ".join(str(i) for i in np.flatnonzero(bad)[:10])
            raise InputError(
                f"SOC target below IOM plus the manure-only equilibrium for plot(s) {shown}: "
                "no non-negative plant input reaches it"
            )
        scale = np.where(bad, np.nan, scale)
    fitted = inputs.replace(plant_c_t_ha=unit_pattern * np.where(bad, 0.0, scale))
    result = spinup(fitted, clay_pct, depth_cm, iom, method="analytic", radiocarbon=radiocarbon,
                    bare_soil_limit=bare_soil_limit, params=p)
    if bad.any():
        result.state.pools_t_c_ha[:, bad] = np.nan
    return EquilibriumFit(scale, fitted, result, iom)
