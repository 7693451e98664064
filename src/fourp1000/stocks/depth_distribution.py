"""Depth distribution of SOC: the share of a profile's stock in any depth interval.

For a profile known over one shallow layer (e.g. 0-20 cm), the stock over a deeper
interval is extrapolated with the asymptotic cumulative model of Gale & Grigal (1987),
used for SOC by Jobbágy & Jackson (2000):

    Y(d) = 1 - beta^d

Y is the cumulative fraction of the stock above depth d [cm] and 0 < beta < 1 (beta closer
to 1 puts more carbon at depth). The fraction of the 0-R cm stock in [top, bottom] is
(beta^top - beta^bottom) / (1 - beta^R), and a 0-d stock extends to 0-D by the factor
(1 - beta^D) / (1 - beta^d).

Vegetation defaults
-------------------
Jobbágy & Jackson (2000) report the share of the first metre's SOC that lies in the top
20 cm: 33 % under shrublands, 42 % under grasslands, 50 % under forests
(``data/soc_depth_distribution.csv``). :func:`beta_from_share` solves the beta that puts
exactly that share in 0-20 cm of 0-100 cm; these betas are derived here from the published
shares, not the paper's own fitted betas (not found in the stored copies searched). Only
the three plant functional types are tabulated: no share for cropland was confirmed.

Land uses map to a plant functional type with :func:`vegetation_for_land_use`: forest
and shrubland to their own type, every other land use (cropland, paddy, perennial,
set-aside, a missing land use) to grassland, the herbaceous type. For cropland this is a
documented fallback, not a published cropland figure: no cropland share was found in the
sources searched (the abstract of Jobbágy & Jackson 2000 gives only the three types).

The single-beta curve matched to the 0-20 cm share puts little carbon below 1 m (e.g. the
forest beta gives about 4 % of the first metre's stock in 100-300 cm, where Jobbágy &
Jackson report 56 %), so it is defined here for depths to 100 cm only.

References
----------
.. [1] Jobbágy E.G., Jackson R.B. (2000) The vertical distribution of soil organic carbon
   and its relation to climate and vegetation. Ecological Applications 10:423-436,
   doi:10.2307/2641104 (also doi:10.1890/1051-0761(2000)010[0423:TVDOSO]2.0.CO;2)
.. [2] Gale M.R., Grigal D.F. (1987), the root-distribution model Y = 1 - beta^d, as cited
   by Jobbágy & Jackson (2000)
"""

from __future__ import annotations

from functools import lru_cache
from importlib.resources import files

import numpy as np
import pandas as pd

from ..errors import InputError, UnknownFactorError

REFERENCE_DEPTH_CM = 100.0
SHARE_DEPTH_CM = 20.0
_BISECTION_STEPS = 80


@lru_cache(maxsize=1)
def depth_distribution_table() -> pd.DataFrame:
    """The published depth-distribution figures (``data/soc_depth_distribution.csv``)."""
    with (files("fourp1000") / "data" / "soc_depth_distribution.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh)


def gale_grigal_cumulative(depth_cm, beta) -> np.ndarray:
    """Cumulative fraction of the stock above ``depth_cm``: Y = 1 - beta^depth_cm."""
    d = np.asarray(depth_cm, dtype=float)
    b = _check_beta(beta)
    if np.any(d < 0):
        raise InputError("depth_cm must be >= 0")
    return 1.0 - b**d


def beta_from_share(share, top_depth_cm=SHARE_DEPTH_CM, reference_depth_cm=REFERENCE_DEPTH_CM) -> np.ndarray:
    """Beta whose curve puts ``share`` of the 0-reference stock above ``top_depth_cm``.

    Solves (1 - beta^top) / (1 - beta^reference) = share by bisection (vectorised).

    Parameters
    ----------
    share : array_like
        Fraction of the 0-``reference_depth_cm`` stock in 0-``top_depth_cm`` [0-1]; must
        exceed top/reference (the uniform-profile limit beta -> 1).
    top_depth_cm, reference_depth_cm : float
        Depths [cm], 0 < top < reference.
    """
    s = np.asarray(share, dtype=float)
    top, ref = float(top_depth_cm), float(reference_depth_cm)
    if not 0.0 < top < ref:
        raise InputError("need 0 < top_depth_cm < reference_depth_cm")
    if np.any((s <= top / ref) | (s >= 1.0)):
        raise InputError(f"share must be between {top / ref:g} (uniform profile) and 1")
    lo = np.zeros_like(s)
    hi = np.ones_like(s)
    for _ in range(_BISECTION_STEPS):
        mid = 0.5 * (lo + hi)
        # The share above `top` falls as beta rises (carbon moves deeper).
        too_shallow = (1.0 - mid**top) / (1.0 - mid**ref) > s
        lo = np.where(too_shallow, mid, lo)
        hi = np.where(too_shallow, hi, mid)
    return 0.5 * (lo + hi)


def jobbagy_jackson_2000_beta(vegetation) -> np.ndarray:
    """Beta for a plant functional type from Jobbágy & Jackson's (2000) 0-20 cm share.

    Parameters
    ----------
    vegetation : str or array_like of str
        ``shrubland``, ``grassland`` or ``forest``.

    Returns
    -------
    numpy.ndarray
        Beta [cm-1 exponent base] such that 0-20 cm holds 33 %, 42 % or 50 % of 0-100 cm.
    """
    table = depth_distribution_table()
    shares = table[table["parameter"] == "share_0_20_of_0_100"].set_index("vegetation")["value"]
    kinds = np.asarray(vegetation, dtype=object)
    out = np.empty(kinds.shape, dtype=float)
    for i, kind in np.ndenumerate(kinds):
        key = str(kind).strip().lower()
        if key not in shares.index:
            raise UnknownFactorError(f"unknown vegetation {kind!r}; valid: {', '.join(shares.index)}")
        out[i] = shares[key]
    return beta_from_share(out)


def fraction_in_interval(top_cm, bottom_cm, beta, reference_depth_cm=REFERENCE_DEPTH_CM) -> np.ndarray:
    """Fraction of the 0-``reference_depth_cm`` stock lying in [top_cm, bottom_cm].

    (beta^top - beta^bottom) / (1 - beta^reference); with ``reference_depth_cm=None`` the
    fraction of the whole asymptotic profile (beta^top - beta^bottom).
    """
    top = np.asarray(top_cm, dtype=float)
    bottom = np.asarray(bottom_cm, dtype=float)
    b = _check_beta(beta)
    if np.any(top < 0) or np.any(bottom < top):
        raise InputError("need 0 <= top_cm <= bottom_cm")
    part = b**top - b**bottom
    if reference_depth_cm is None:
        return part
    if np.any(bottom > reference_depth_cm):
        raise InputError(f"bottom_cm beyond the reference depth {reference_depth_cm:g} cm")
    return part / (1.0 - b**reference_depth_cm)


def extend_stock_t_c_ha(stock_t_c_ha, measured_bottom_cm, target_bottom_cm, beta,
                        max_depth_cm=REFERENCE_DEPTH_CM) -> np.ndarray:
    """Extend a measured 0-d stock to 0-D [t C ha-1].

    stock(0-D) = stock(0-d) x (1 - beta^D) / (1 - beta^d). With D < d it truncates.

    Parameters
    ----------
    stock_t_c_ha : array_like
        Stock measured over 0-``measured_bottom_cm`` [t C ha-1].
    measured_bottom_cm, target_bottom_cm : array_like
        d and D [cm], both > 0 and at most ``max_depth_cm``.
    beta : array_like
        Depth-distribution parameter (e.g. :func:`jobbagy_jackson_2000_beta`).
    max_depth_cm : float, default 100
        Deepest depth accepted; the vegetation betas are matched on 0-100 cm.

    Notes
    -----
    Extrapolated stocks carry the error of the assumed curve, which is large for a single
    profile (the published shares are means over many profiles); flag them in outputs.
    """
    stock = np.asarray(stock_t_c_ha, dtype=float)
    d = np.asarray(measured_bottom_cm, dtype=float)
    target = np.asarray(target_bottom_cm, dtype=float)
    b = _check_beta(beta)
    if np.any(d <= 0) or np.any(target <= 0):
        raise InputError("depths must be > 0 cm")
    if np.any(d > max_depth_cm) or np.any(target > max_depth_cm):
        raise InputError(f"depths beyond {max_depth_cm:g} cm are outside the fitted range")
    if np.any(stock < 0):
        raise InputError("stock_t_c_ha must be >= 0")
    return stock * (1.0 - b**target) / (1.0 - b**d)


#: Land uses with a plant functional type of their own; every other land use takes
#: :data:`FALLBACK_VEGETATION` (see the module notes).
LAND_USE_VEGETATION = {"forest": "forest", "forest_land": "forest", "woodland": "forest", "shrubland": "shrubland",
                       "grassland": "grassland"}
FALLBACK_VEGETATION = "grassland"


def vegetation_for_land_use(land_use) -> np.ndarray:
    """Plant functional type (``shrubland``, ``grassland``, ``forest``) of each land use.

    Cropland and the other land uses without a published share take the grassland
    (herbaceous) share: a fallback, stated in the methods (see the module notes).
    """
    values = pd.Series(np.asarray(land_use, dtype=object).ravel(), dtype=object)
    keys = values.astype("string").str.strip().str.lower()
    return keys.map(LAND_USE_VEGETATION).fillna(FALLBACK_VEGETATION).to_numpy(dtype=object)


def extend_below_layer_t_c_ha(stock_t_c_ha, top_cm, bottom_cm, to_cm, beta) -> np.ndarray:
    """Stock [t C ha-1] between ``bottom_cm`` and ``to_cm`` given the stock of [top_cm, bottom_cm].

    Under the cumulative curve Y = 1 - beta^d the stock of [a, b] is proportional to
    beta^a - beta^b, so stock(bottom, to) = stock(top, bottom) x (beta^bottom - beta^to) /
    (beta^top - beta^bottom). Used to extend a profile known from a single layer; the
    curve is matched on 0-100 cm, so ``to_cm`` must not exceed 100 cm.

    Examples
    --------
    >>> b = float(jobbagy_jackson_2000_beta("grassland"))
    >>> round(float(extend_below_layer_t_c_ha(42.0, 0, 20, 100, b)), 6)  # 42 % of 0-100 cm in 0-20 cm
    58.0
    """
    stock = np.asarray(stock_t_c_ha, dtype=float)
    top, bottom, to = (np.asarray(v, dtype=float) for v in (top_cm, bottom_cm, to_cm))
    b = _check_beta(beta)
    if np.any(top < 0) or np.any(bottom <= top) or np.any(to < bottom):
        raise InputError("need 0 <= top_cm < bottom_cm <= to_cm")
    if np.any(to > REFERENCE_DEPTH_CM):
        raise InputError(f"to_cm beyond {REFERENCE_DEPTH_CM:g} cm is outside the fitted range")
    return stock * (b**bottom - b**to) / (b**top - b**bottom)


def _check_beta(beta) -> np.ndarray:
    b = np.asarray(beta, dtype=float)
    if np.any((b <= 0) | (b >= 1)):
        raise InputError("beta must be between 0 and 1 (exclusive)")
    return b
