"""RothC-26.3 coefficients: the shipped table ``data/rothc_parameters.csv``, overrides, and
the DPM/RPM ratio of incoming plant material by vegetation type.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, fields, replace

import numpy as np
from numpy.typing import NDArray

from ..errors import ReferenceDataError, UnknownFactorError
from ..tables import read_csv_table

_PARAMETERS_FILE = "rothc_parameters.csv"


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
    table = read_csv_table(_PARAMETERS_FILE, required=["name", "value", "source"])
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


def parameters_or_shipped(params: RothCParameters | None) -> RothCParameters:
    """``params``, or the shipped coefficients when it is None (every model function's default)."""
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
    return getattr(parameters_or_shipped(params), key)
