"""Equivalent soil mass (ESM) methods on arrays of many cores: one function per method.

Each function takes per-core cumulative arrays (one core per row, padded; see
:func:`fourp1000.esm.build_profiles` for building them from a horizon table) and returns
the SOC stock, in t C/ha, at the standard depths or in the reference soil masses:

- :func:`fixed_depth_stock`: no mass correction (IPCC 2006);
- :func:`esm_spline`: monotone cubic spline of cumulative SOC against cumulative mass
  (von Haden et al. 2020; Wendt & Hauser 2013);
- :func:`esm_linear`: the same, linear (exact for uniform layers);
- :func:`esm_ellert_bettany`: Ellert & Bettany's (1995) correction at the standard depth;
- :func:`esm_fowler`: Fowler et al.'s (2023) simple soil mass correction;
- :func:`esm_elementary_layers`: SimpleESM's thin elementary layers.

Units: soil and SOC masses in t/ha (1 g cm-2 = 100 t/ha), depths in cm.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .hyman import spline_rows
from .knots import (
    MASS_TOLERANCE_T_HA,
    Array,
    check_knots,
    interp_rows,
    knot_interval,
    last_knot,
    query_rows,
    take_columns,
)

__all__ = [
    "fixed_depth_stock",
    "esm_spline",
    "esm_linear",
    "esm_ellert_bettany",
    "esm_fowler",
    "esm_elementary_layers",
]


def fixed_depth_stock(
    boundary_cm: ArrayLike, cum_soc_t_ha: ArrayLike, n_knots: ArrayLike, depth_cm: ArrayLike
) -> Array:
    """SOC stock from the surface to fixed depths.

    Parameters
    ----------
    boundary_cm : array (m, K) [cm]
        Per core: 0, then the lower boundary of each contiguous layer (first ``n_knots``
        columns valid).
    cum_soc_t_ha : array (m, K) [t C ha-1]
        Cumulative SOC stock at those boundaries (0 at the surface).
    n_knots : int array (m,)
        Number of layers + 1, per core.
    depth_cm : array (q,) or (m, q) [cm]
        Standard depths.

    Returns
    -------
    array (m, q) [t C ha-1]
        NaN where the core is shallower than the depth.

    Notes
    -----
    Stock of a layer = SOC [g kg-1] × 10^-3 × fine-earth mass [t ha-1], with fine-earth
    mass = BD [g cm-3] × thickness [cm] × (1 − coarse fragments [vol %]/100) × 100. A
    depth inside a layer takes the layer's share in proportion to thickness (uniform
    concentration and density within a layer).

    References
    ----------
    .. [1] IPCC (2006). 2006 IPCC Guidelines for National Greenhouse Gas Inventories,
       Vol. 4, Ch. 2, Eq. 2.25 (SOC stock of mineral soils to a fixed depth).
    """
    (boundary, cum_soc), counts = check_knots(boundary_cm, cum_soc_t_ha, n_knots=n_knots)
    depth = query_rows(depth_cm, boundary.shape[0])
    stock = interp_rows(boundary, cum_soc, counts, depth)
    return np.where(depth > last_knot(boundary, counts)[:, None], np.nan, stock)


def esm_spline(
    cum_mass_t_ha: ArrayLike, cum_soc_t_ha: ArrayLike, n_knots: ArrayLike, reference_mass_t_ha: ArrayLike
) -> Array:
    """ESM stock by a monotone cubic spline of cumulative SOC against cumulative soil mass.

    Parameters
    ----------
    cum_mass_t_ha : array (m, K) [t ha-1]
        Per core: 0, then the cumulative (mineral or total) soil mass at each layer's lower
        boundary.
    cum_soc_t_ha : array (m, K) [t C ha-1]
        Cumulative SOC at the same boundaries.
    n_knots : int array (m,)
        Number of layers + 1, per core.
    reference_mass_t_ha : array (q,) or (m, q) [t ha-1]
        Cumulative reference masses.

    Returns
    -------
    array (m, q) [t C ha-1]
        Cumulative SOC stock in the reference masses.

    Notes
    -----
    Interpolant: R's ``spline(method = "hyman")`` (FMM cubic spline + Hyman filter,
    :mod:`fourp1000.esm.hyman`) through (0, 0) and the cumulative points, as in von Haden et
    al.'s script and SimpleESM's "ESM2"; masses beyond the core's are extrapolated with
    the last cubic piece (flag them, see :func:`fourp1000.esm.core_stocks`). With one layer the
    interpolation is linear; von Haden et al. designed the method for cores cut into
    three or more segments. Wendt & Hauser (2013) introduced the cumulative-mass spline.

    References
    ----------
    .. [1] von Haden, A. C., Yang, W. H. & DeLucia, E. H. (2020). Soils' dirty little
       secret: Depth-based comparisons can be inadequate for quantifying changes in soil
       organic carbon and other mineral soil properties. Glob. Change Biol. 26,
       3759–3770. doi:10.1111/gcb.15124
    .. [2] Wendt, J. W. & Hauser, S. (2013). An equivalent soil mass procedure for
       monitoring soil organic carbon in multiple soil layers. Eur. J. Soil Sci. 64,
       58–65. doi:10.1111/ejss.12002
    """
    (cum_mass, cum_soc), counts = check_knots(cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    reference = query_rows(reference_mass_t_ha, cum_mass.shape[0])
    return spline_rows(cum_mass, cum_soc, counts, reference, method="hyman")


def esm_linear(
    cum_mass_t_ha: ArrayLike, cum_soc_t_ha: ArrayLike, n_knots: ArrayLike, reference_mass_t_ha: ArrayLike
) -> Array:
    """ESM stock by linear interpolation of cumulative SOC against cumulative soil mass.

    Parameters
    ----------
    cum_mass_t_ha, cum_soc_t_ha, n_knots, reference_mass_t_ha
        As in :func:`esm_spline`.

    Returns
    -------
    array (m, q) [t C ha-1]

    Notes
    -----
    Within a layer of uniform concentration and density, cumulative SOC is linear in
    cumulative mass, so this is the exact stock in the reference mass under that
    assumption; beyond the deepest layer the deepest layer's SOC per unit mass is
    extended. It is the layer-wise form of Ellert & Bettany's (1995) correction; von
    Haden et al. (2020) compare it with the cubic spline.

    References
    ----------
    .. [1] Ellert, B. H. & Bettany, J. R. (1995). Calculation of organic matter and
       nutrients stored in soils under contrasting management regimes. Can. J. Soil Sci.
       75, 529–538. doi:10.4141/cjss95-075
    .. [2] von Haden, A. C., Yang, W. H. & DeLucia, E. H. (2020). Glob. Change Biol. 26,
       3759–3770. doi:10.1111/gcb.15124
    """
    (cum_mass, cum_soc), counts = check_knots(cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    reference = query_rows(reference_mass_t_ha, cum_mass.shape[0])
    return interp_rows(cum_mass, cum_soc, counts, reference)


def esm_ellert_bettany(
    boundary_cm: ArrayLike,
    cum_mass_t_ha: ArrayLike,
    cum_soc_t_ha: ArrayLike,
    n_knots: ArrayLike,
    depth_cm: ArrayLike,
    reference_mass_t_ha: ArrayLike,
) -> Array:
    """ESM stock by Ellert & Bettany's (1995) correction at the standard depth.

    ``S_ESM = S_FD(0–D) − (M(0–D) − M_ref) × c``, where ``c`` is the SOC per unit soil mass
    of the layer adjoining depth D on the side where soil is removed (the layer above D
    when the core holds more than the reference mass) or added (the layer below D, or
    the deepest layer when there is none).

    Parameters
    ----------
    boundary_cm : array (m, K) [cm]
        Layer boundaries per core (0 first).
    cum_mass_t_ha, cum_soc_t_ha : arrays (m, K) [t ha-1], [t C ha-1]
        Cumulative soil mass and SOC at the boundaries.
    n_knots : int array (m,)
    depth_cm : array (q,) [cm]
        Standard depths D.
    reference_mass_t_ha : array (q,) or (m, q) [t ha-1]
        Reference (equivalent) cumulative masses to each D.

    Returns
    -------
    array (m, q) [t C ha-1]
        NaN where the core is shallower than D.

    Notes
    -----
    Ellert & Bettany chose the lightest profile as the reference ("minimum equivalent
    mass") so that mass is only ever removed, from the deepest layer; use
    ``reference="minimum"`` in :func:`fourp1000.esm.core_stocks` for that setting. The whole excess (or
    deficit) takes the concentration of one adjoining layer even if it is larger than
    that layer, which is where this differs from :func:`esm_linear`.

    References
    ----------
    .. [1] Ellert, B. H. & Bettany, J. R. (1995). Calculation of organic matter and
       nutrients stored in soils under contrasting management regimes. Can. J. Soil Sci.
       75, 529–538. doi:10.4141/cjss95-075
    """
    (boundary, cum_mass, cum_soc), counts = check_knots(boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    m = boundary.shape[0]
    depth = query_rows(depth_cm, m)
    reference = query_rows(reference_mass_t_ha, m)
    mass_d = interp_rows(boundary, cum_mass, counts, depth)
    soc_d = interp_rows(boundary, cum_soc, counts, depth)
    excess = mass_d - reference
    above = knot_interval(boundary, counts, depth, strict=True)
    below = knot_interval(boundary, counts, depth)
    layer = np.where(excess >= 0, above, below)
    conc = (take_columns(cum_soc, layer + 1) - take_columns(cum_soc, layer)) / (take_columns(cum_mass, layer + 1) - take_columns(cum_mass, layer))
    stock = soc_d - excess * conc
    return np.where(depth > last_knot(boundary, counts)[:, None], np.nan, stock)


def esm_fowler(
    boundary_cm: ArrayLike,
    cum_mass_t_ha: ArrayLike,
    cum_soc_t_ha: ArrayLike,
    n_knots: ArrayLike,
    depth_cm: ArrayLike,
    reference_mass_t_ha: ArrayLike,
) -> Array:
    """Simple soil mass correction of Fowler et al. (2023).

    The sampling depth is rescaled by the mass ratio, ``D' = D × M_ref / M(0–D)``, and
    the fixed-depth stock is corrected by the SOC of the depth difference:
    ``S = S_FD(0–D) + (D' − D) × SOC × BD`` of the layer containing D' (the deepest
    layer when D' is below the core).

    Parameters
    ----------
    boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots, depth_cm, reference_mass_t_ha
        As in :func:`esm_ellert_bettany`.

    Returns
    -------
    array (m, q) [t C ha-1]
        NaN where the core is shallower than D.

    Notes
    -----
    Designed for a single 0–30 cm sample per time point: for one uniform layer it equals
    ``S_FD × M_ref / M``. The depth rescaling assumes the mass is spread uniformly over
    0–D, so with layered cores it is only approximately mass-equivalent. Fowler et al.
    use mineral soil mass (SOM from SOC); the mass basis is an option here.

    References
    ----------
    .. [1] Fowler, A. F., Basso, B., Millar, N. & Brinton, W. F. (2023). A simple soil
       mass correction for a more accurate determination of soil carbon stock changes.
       Sci. Rep. 13. doi:10.1038/s41598-023-29289-2
    """
    (boundary, cum_mass, cum_soc), counts = check_knots(boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    m = boundary.shape[0]
    depth = query_rows(depth_cm, m)
    reference = query_rows(reference_mass_t_ha, m)
    mass_d = interp_rows(boundary, cum_mass, counts, depth)
    soc_d = interp_rows(boundary, cum_soc, counts, depth)
    new_depth = depth * reference / mass_d
    layer = knot_interval(boundary, counts, new_depth)
    soc_per_cm = (take_columns(cum_soc, layer + 1) - take_columns(cum_soc, layer)) / (
        take_columns(boundary, layer + 1) - take_columns(boundary, layer)
    )
    stock = soc_d + (new_depth - depth) * soc_per_cm
    return np.where(depth > last_knot(boundary, counts)[:, None], np.nan, stock)


def esm_elementary_layers(
    boundary_cm: ArrayLike,
    cum_mass_t_ha: ArrayLike,
    cum_soc_t_ha: ArrayLike,
    n_knots: ArrayLike,
    reference_mass_t_ha: ArrayLike,
    *,
    step_cm: float = 0.1,
) -> tuple[Array, Array]:
    """ESM stock by stacking thin elementary layers up to the reference mass (SimpleESM).

    The core is cut into slices of ``step_cm`` from the surface; slices are added while
    the cumulative mass stays within the reference mass, and the stock of those slices is
    the ESM stock (SimpleESM's "ESM" method, 1-mm slices by default).

    Parameters
    ----------
    boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots
        As in :func:`esm_ellert_bettany`.
    reference_mass_t_ha : array (q,) or (m, q) [t ha-1]
    step_cm : float [cm]
        Slice thickness (0.1 cm = 1 mm).

    Returns
    -------
    stock : array (m, q) [t C ha-1]
    depth_cm : array (m, q) [cm]
        Lower depth of the last slice kept (the equivalent depth, to the slice).

    Notes
    -----
    Below the deepest layer, slices take the deepest layer's density and concentration.
    The result is :func:`esm_linear` evaluated at the mass of a whole number of slices, so
    it is low by up to one slice's SOC. Computed in closed form per layer, not slice by
    slice. SimpleESM works on total (not mineral) soil mass.

    References
    ----------
    .. [1] Ferchaud, F. & Chlebowski, F. SimpleESM, R code for SOC and N stocks at fixed
       depth and equivalent soil mass (INRAE, 2022; https://github.com/fabienferchaud/SimpleESM,
       documentation https://hal.science/hal-04013158).
    .. [2] Ellert, B. H. & Bettany, J. R. (1995). Can. J. Soil Sci. 75, 529–538.
       doi:10.4141/cjss95-075
    """
    (boundary, cum_mass, cum_soc), counts = check_knots(boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    reference = query_rows(reference_mass_t_ha, boundary.shape[0])
    depth = interp_rows(cum_mass, boundary, counts, reference)
    n_slices = np.floor(depth / step_cm)
    # Rounding in the depth can put a slice whose mass equals the reference just outside.
    next_mass = interp_rows(boundary, cum_mass, counts, (n_slices + 1) * step_cm)
    n_slices = np.where(next_mass <= reference + MASS_TOLERANCE_T_HA, n_slices + 1, n_slices)
    kept_mass = interp_rows(boundary, cum_mass, counts, n_slices * step_cm)
    n_slices = np.where(kept_mass > reference + MASS_TOLERANCE_T_HA, n_slices - 1, n_slices)
    depth_kept = n_slices * step_cm
    return interp_rows(boundary, cum_soc, counts, depth_kept), depth_kept

