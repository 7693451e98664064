"""Equivalent soil mass (ESM): SOC stocks over the same soil mass, and measured change.

Tillage, compaction and organic-matter gains change bulk density, so a fixed sampling depth
holds a different mass of soil at each sampling and fixed-depth stocks change even where
the carbon did not. ESM methods compare the SOC held in the same (mineral or total) soil
mass instead. This module has one function per published method, on arrays of many cores
at once, and a DataFrame layer on the canonical horizon table:

- :func:`core_stocks`: per core and standard depth, the reference mass, the fixed-depth
  stock and the ESM stock (t C/ha), with a flag where the method extrapolated;
- :func:`compare_samplings`: pairs follow-up samplings with the baseline by plot and gives
  the change, its annual rate in per mille of the baseline stock, the 4 per 1000 verdict
  and a bootstrap over cores.

Units: soil and SOC masses in t/ha (1 g cm-2 = 100 t/ha), depths in cm, SOC in g/kg.
Bad input never raises here: it comes back as :class:`fourp1000.errors.Problem` records
beside the results, and the affected cores or plots are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from .errors import InputError, Problem
from .hyman import spline_rows
from .stocks import STONE_DENSITY_G_CM3, fine_earth_density
from .targets import meets_target, rate_per_mille

Array = NDArray[np.float64]

__all__ = [
    "DEFAULT_SOM_FACTOR",
    "METHODS",
    "Profiles",
    "CoreStocks",
    "Comparison",
    "fixed_depth_stock",
    "esm_spline",
    "esm_linear",
    "esm_ellert_bettany",
    "esm_fowler",
    "esm_elementary_layers",
    "build_profiles",
    "core_stocks",
    "compare_samplings",
]

#: SOM / SOC ratio used where ``som_pct`` is not measured. Pribyl (2010,
#: doi:10.1016/j.geoderma.2010.02.003) found a median of 1.9 (empirical studies) and 2
#: (theory) and concluded that 2 "would in almost all cases be more accurate" than the
#: conventional van Bemmelen factor 1.724 (:data:`fourp1000.schema.VAN_BEMMELEN`, SOM taken
#: as 58 % C); 2 is also the default of the R ESM packages.
DEFAULT_SOM_FACTOR = 2.0

METHODS = ("spline", "linear", "ellert_bettany", "fowler", "elementary_layers", "fixed_depth")
MASS_BASES = ("mineral", "total")

# Cumulative masses meet a reference mass "exactly" within this tolerance [t/ha]; SimpleESM
# compares masses rounded to 10 decimals.
_MASS_TOLERANCE_T_HA = 1e-9


# --------------------------------------------------------------------------------------
# Row-wise helpers on padded knot arrays (one core per row, first n_knots columns valid)
# --------------------------------------------------------------------------------------


def _valid(n_knots: NDArray[np.int64], width: int) -> NDArray[np.bool_]:
    return np.arange(width)[None, :] < n_knots[:, None]


def _count_le(knots: Array, n_knots: NDArray[np.int64], query: Array, *, strict: bool = False) -> NDArray[np.int64]:
    """Number of valid knots ``<= query`` (``< query`` if strict), per row and query."""
    padded = np.where(_valid(n_knots, knots.shape[1]), knots, np.inf)
    cmp = padded[:, None, :] < query[:, :, None] if strict else padded[:, None, :] <= query[:, :, None]
    return cmp.sum(axis=2)


def _take(values: Array, idx: NDArray[np.int64]) -> Array:
    return np.take_along_axis(values, idx, axis=1)


def _interval(knots: Array, n_knots: NDArray[np.int64], query: Array, *, strict: bool = False) -> NDArray[np.int64]:
    """Index i of the knot interval [i, i+1] used for each query (end intervals extend)."""
    idx = _count_le(knots, n_knots, query, strict=strict) - 1
    return np.clip(idx, 0, (n_knots - 2)[:, None])


def _interp_rows(x: Array, y: Array, n_knots: NDArray[np.int64], query: Array) -> Array:
    """Piecewise-linear interpolation per row; the end segments continue beyond the knots."""
    i = _interval(x, n_knots, query)
    x0, x1 = _take(x, i), _take(x, i + 1)
    y0, y1 = _take(y, i), _take(y, i + 1)
    return y0 + (query - x0) * (y1 - y0) / (x1 - x0)


def _last_knot(values: Array, n_knots: NDArray[np.int64]) -> Array:
    return values[np.arange(values.shape[0]), n_knots - 1]


def _rows(query: ArrayLike, m: int) -> Array:
    arr = np.asarray(query, dtype=float)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    return np.broadcast_to(arr, (m, arr.shape[-1])).astype(float) if arr.ndim == 1 else arr.astype(float)


def _check_knots(*arrays: Array, n_knots: ArrayLike) -> tuple[list[Array], NDArray[np.int64]]:
    out = [np.atleast_2d(np.asarray(a, dtype=float)) for a in arrays]
    counts = np.asarray(n_knots, dtype=np.int64).reshape(-1)
    if np.any(counts < 2):
        raise InputError("every core needs at least one layer (two knots including the surface)")
    return out, counts


# --------------------------------------------------------------------------------------
# The methods, on arrays of many cores
# --------------------------------------------------------------------------------------


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
    (boundary, cum_soc), counts = _check_knots(boundary_cm, cum_soc_t_ha, n_knots=n_knots)
    depth = _rows(depth_cm, boundary.shape[0])
    stock = _interp_rows(boundary, cum_soc, counts, depth)
    return np.where(depth > _last_knot(boundary, counts)[:, None], np.nan, stock)


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
    :mod:`fourp1000.hyman`) through (0, 0) and the cumulative points, as in von Haden et
    al.'s script and SimpleESM's "ESM2"; masses beyond the core's are extrapolated with
    the last cubic piece (flag them, see :func:`core_stocks`). With one layer the
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
    (cum_mass, cum_soc), counts = _check_knots(cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    reference = _rows(reference_mass_t_ha, cum_mass.shape[0])
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
    (cum_mass, cum_soc), counts = _check_knots(cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    reference = _rows(reference_mass_t_ha, cum_mass.shape[0])
    return _interp_rows(cum_mass, cum_soc, counts, reference)


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
    ``reference="minimum"`` in :func:`core_stocks` for that setting. The whole excess (or
    deficit) takes the concentration of one adjoining layer even if it is larger than
    that layer, which is where this differs from :func:`esm_linear`.

    References
    ----------
    .. [1] Ellert, B. H. & Bettany, J. R. (1995). Calculation of organic matter and
       nutrients stored in soils under contrasting management regimes. Can. J. Soil Sci.
       75, 529–538. doi:10.4141/cjss95-075
    """
    (boundary, cum_mass, cum_soc), counts = _check_knots(boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    m = boundary.shape[0]
    depth = _rows(depth_cm, m)
    reference = _rows(reference_mass_t_ha, m)
    mass_d = _interp_rows(boundary, cum_mass, counts, depth)
    soc_d = _interp_rows(boundary, cum_soc, counts, depth)
    excess = mass_d - reference
    above = _interval(boundary, counts, depth, strict=True)
    below = _interval(boundary, counts, depth)
    layer = np.where(excess >= 0, above, below)
    conc = (_take(cum_soc, layer + 1) - _take(cum_soc, layer)) / (_take(cum_mass, layer + 1) - _take(cum_mass, layer))
    stock = soc_d - excess * conc
    return np.where(depth > _last_knot(boundary, counts)[:, None], np.nan, stock)


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
    (boundary, cum_mass, cum_soc), counts = _check_knots(boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    m = boundary.shape[0]
    depth = _rows(depth_cm, m)
    reference = _rows(reference_mass_t_ha, m)
    mass_d = _interp_rows(boundary, cum_mass, counts, depth)
    soc_d = _interp_rows(boundary, cum_soc, counts, depth)
    new_depth = depth * reference / mass_d
    layer = _interval(boundary, counts, new_depth)
    soc_per_cm = (_take(cum_soc, layer + 1) - _take(cum_soc, layer)) / (
        _take(boundary, layer + 1) - _take(boundary, layer)
    )
    stock = soc_d + (new_depth - depth) * soc_per_cm
    return np.where(depth > _last_knot(boundary, counts)[:, None], np.nan, stock)


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
    (boundary, cum_mass, cum_soc), counts = _check_knots(boundary_cm, cum_mass_t_ha, cum_soc_t_ha, n_knots=n_knots)
    reference = _rows(reference_mass_t_ha, boundary.shape[0])
    depth = _interp_rows(cum_mass, boundary, counts, reference)
    n_slices = np.floor(depth / step_cm)
    # Rounding in the depth can put a slice whose mass equals the reference just outside.
    next_mass = _interp_rows(boundary, cum_mass, counts, (n_slices + 1) * step_cm)
    n_slices = np.where(next_mass <= reference + _MASS_TOLERANCE_T_HA, n_slices + 1, n_slices)
    kept_mass = _interp_rows(boundary, cum_mass, counts, n_slices * step_cm)
    n_slices = np.where(kept_mass > reference + _MASS_TOLERANCE_T_HA, n_slices - 1, n_slices)
    depth_kept = n_slices * step_cm
    return _interp_rows(boundary, cum_soc, counts, depth_kept), depth_kept


# --------------------------------------------------------------------------------------
# From the horizon table to per-core profiles
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Profiles:
    """Valid cores as padded arrays, one core per row (see :func:`build_profiles`).

    ``cores`` has one row per core: ``plot_id``, ``sampled_on``, ``core_id``,
    ``source_row`` (first row of the core), ``file`` and ``farm_id`` where given.
    Knot arrays hold the surface (0) then each layer's lower boundary; columns beyond
    ``n_knots`` are NaN.
    """

    cores: pd.DataFrame
    boundary_cm: Array
    cum_mass_t_ha: Array
    cum_soc_t_ha: Array
    n_knots: NDArray[np.int64]
    mass_basis: str


_REQUIRED = ("plot_id", "top_cm", "bottom_cm", "soc_g_kg", "bulk_density_g_cm3")


def _problem(file: str, row: object, column: str | None, rule: str, message: str, plot_id: object) -> Problem:
    return Problem(
        file=str(file),
        row=None if row is None or pd.isna(row) else int(row),
        column=column,
        rule=rule,
        message=message,
        plot_id=None if plot_id is None or pd.isna(plot_id) else str(plot_id),
    )


def _sampling_codes(frame: pd.DataFrame) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Integer codes of the plot and of the (plot, sampling) pair of each row."""
    if "_plot" in frame and "_pair" in frame:  # computed once by the caller
        return frame["_plot"].to_numpy(dtype=np.int64), frame["_pair"].to_numpy(dtype=np.int64)
    plot = pd.factorize(frame["plot_id"])[0].astype(np.int64)
    if "sampled_on" in frame:
        sampling = pd.factorize(frame["sampled_on"].astype(object).where(frame["sampled_on"].notna(), None))[0]
    else:
        sampling = np.zeros(len(frame), dtype=np.int64)
    return plot, plot * (int(sampling.max(initial=0)) + 2) + sampling + 1


def _describe(rows: pd.DataFrame) -> pd.Series:
    label = "plot " + rows["plot_id"].astype(str)
    if rows["sampled_on"].notna().any():
        label = label + ", sampling " + rows["sampled_on"].astype(str)
    if rows["core_id"].notna().any():
        label = label + ", core " + rows["core_id"].astype(str)
    return label


def build_profiles(
    horizons: pd.DataFrame,
    *,
    mass_basis: Literal["mineral", "total"] = "mineral",
    som_factor: float = DEFAULT_SOM_FACTOR,
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3,
    file: str = "<input>",
) -> tuple[Profiles, list[Problem]]:
    """Check the horizon table core by core and stack the valid cores as padded arrays.

    Parameters
    ----------
    horizons : DataFrame
        Canonical horizon table: ``plot_id``, ``top_cm``, ``bottom_cm``, ``soc_g_kg``,
        ``bulk_density_g_cm3`` [g cm-3]; optional ``sampled_on`` (sampling identifier:
        date or year), ``core_id`` (replicate cores), ``som_pct`` [%],
        ``coarse_fragments_pct`` [vol %], ``coarse_fragments_mass_pct`` [mass %],
        ``bd_basis`` (default ``fine_earth``), ``farm_id``, ``source_row``. A core is one
        (plot_id, sampled_on, core_id). Soil mass is the fine-earth (< 2 mm) mass.
    mass_basis : {"mineral", "total"}
        Soil mass to equate: mineral (soil minus SOM; von Haden et al. 2020) or total
        fine-earth mass (SimpleESM; Ellert & Bettany 1995).
    som_factor : float
        SOM/SOC ratio where ``som_pct`` is missing (default :data:`DEFAULT_SOM_FACTOR`).
    stone_density_g_cm3 : float [g cm-3]
        Particle density of coarse fragments, used only to convert between volume and
        mass % of stones (see :func:`fourp1000.stocks.fine_earth_density`).
    file : str
        File name for problem reports (a ``_file`` column, if present, wins per row).

    Returns
    -------
    Profiles, list of Problem
        Cores with any problem are left out of the profiles and reported: missing or
        out-of-range values, a first layer not starting at 0 cm, gaps or overlaps between
        layers.

    Raises
    ------
    InputError
        If a required column is missing (nothing can be computed).
    """
    if mass_basis not in MASS_BASES:
        raise InputError(f"unknown mass basis {mass_basis!r}; valid: {', '.join(MASS_BASES)}")
    if not np.isfinite(som_factor) or som_factor <= 0:
        raise InputError(f"SOM factor must be a positive number, got {som_factor!r}")
    missing = [c for c in _REQUIRED if c not in horizons.columns]
    if missing:
        raise InputError(f"horizon table lacks column(s) {', '.join(missing)} needed for ESM")

    n = len(horizons)

    def column(name: str, default: object = None) -> ArrayLike:
        # .array keeps string columns as they are (no conversion to Python objects).
        return horizons[name].array if name in horizons.columns else np.full(n, default, dtype=object)

    def number(name: str) -> Array | None:
        if name not in horizons.columns:
            return None
        return pd.to_numeric(horizons[name], errors="coerce").to_numpy(dtype=float)

    plot_code, pair_code = _sampling_codes(horizons)
    core_code = pd.factorize(horizons["core_id"])[0] if "core_id" in horizons else np.zeros(n, dtype=np.int64)
    df = pd.DataFrame({
        "plot_id": column("plot_id"), "sampled_on": column("sampled_on"), "core_id": column("core_id"),
        "source_row": horizons["source_row"].to_numpy() if "source_row" in horizons else np.arange(1, n + 1),
        "file": column("_file", file), "_plot": plot_code, "_pair": pair_code,
        "_core": pd.factorize(pair_code * (int(core_code.max(initial=0)) + 2) + core_code + 1)[0],
    })
    if "farm_id" in horizons.columns:
        df["farm_id"] = horizons["farm_id"].array
    for name in ("top_cm", "bottom_cm", "soc_g_kg", "bulk_density_g_cm3"):
        df[name] = number(name)
    cf_vol = number("coarse_fragments_pct")
    basis: object = "fine_earth"
    if "bd_basis" in horizons:
        basis = horizons["bd_basis"].astype(object).fillna("fine_earth").to_numpy()
    # Fine-earth mass per whole-soil volume, with the bulk-density and stone conventions
    # of the fixed-depth stocks of the estimate pipeline.
    df["fine_earth_g_cm3"] = fine_earth_density(
        df["bulk_density_g_cm3"].to_numpy(), cf_vol if cf_vol is not None else 0.0, basis=basis,
        coarse_fragments_mass_pct=number("coarse_fragments_mass_pct"), stone_density_g_cm3=stone_density_g_cm3,
    )
    som_pct = number("som_pct")
    som_pct = np.full(n, np.nan) if som_pct is None else som_pct
    # SOM mass fraction: measured, else SOC [g/kg] / 1000 x factor.
    df["som_fraction"] = np.where(np.isnan(som_pct), df["soc_g_kg"] / 1000.0 * som_factor, som_pct / 100.0)

    order = np.lexsort((df["bottom_cm"].to_numpy(), df["top_cm"].to_numpy(), df["_core"].to_numpy()))
    df = df.iloc[order].reset_index(drop=True)
    top = df["top_cm"].to_numpy()
    first = np.r_[True, df["_core"].to_numpy()[1:] != df["_core"].to_numpy()[:-1]]
    prev_bottom = np.r_[np.nan, df["bottom_cm"].to_numpy()[:-1]]

    findings: list[pd.DataFrame] = []

    def flag(
        mask: ArrayLike, column_name: str | None, rule: str, message: str | Callable[[pd.DataFrame], pd.Series]
    ) -> None:
        mask = np.asarray(mask, dtype=bool)
        if mask.any():
            rows = df[mask]
            text = message(rows) if callable(message) else message
            findings.append(rows[["_core", "file", "source_row", "plot_id"]].assign(
                column=column_name, rule=rule, message=text))

    for name in ("plot_id", "top_cm", "bottom_cm", "soc_g_kg", "bulk_density_g_cm3"):
        flag(df[name].isna(), name, "missing_value", f"{name} is missing: the core is left out")
    if "sampled_on" in horizons:
        flag(df["sampled_on"].isna(), "sampled_on", "missing_value", "sampled_on is missing: the core is left out")
    with np.errstate(invalid="ignore"):
        flag(df["bottom_cm"].to_numpy() <= top, "bottom_cm", "depth_order", "bottom_cm must be greater than top_cm")
        flag(df["bulk_density_g_cm3"] <= 0, "bulk_density_g_cm3", "value_range", "bulk density must be positive")
        flag(df["soc_g_kg"] < 0, "soc_g_kg", "value_range", "SOC must not be negative")
        flag((df["bulk_density_g_cm3"] > 0) & ~(df["fine_earth_g_cm3"] > 0), "coarse_fragments_pct", "inconsistent",
             "coarse fragments leave no fine earth for this bulk density")
        som = df["som_fraction"]
        flag((som < 0) | (som >= 1), "som_pct", "value_range",
             "SOM (measured, or SOC x factor) must be in [0, 100) % for a positive mineral mass")
    flag(first & (top != 0) & ~np.isnan(top), "top_cm", "core_not_from_surface",
         lambda r: _describe(r) + " starts at " + r["top_cm"].map("{:g}".format) + " cm, not 0 cm: left out")
    gap = ~first & (top != prev_bottom) & ~np.isnan(top) & ~np.isnan(prev_bottom)
    flag(gap, "top_cm", "non_contiguous",
         lambda r: _describe(r) + ": layer starts at " + r["top_cm"].map("{:g}".format)
         + " cm, the layer above ends at " + pd.Series(prev_bottom[gap], index=r.index).map("{:g}".format)
         + " cm (gap or overlap): left out")

    problems: list[Problem] = []
    if findings:
        found = pd.concat(findings, ignore_index=True).sort_values(["source_row", "rule"], kind="stable")
        problems = [
            _problem(r.file, r.source_row, r.column, r.rule, r.message, r.plot_id)
            for r in found.itertuples(index=False)
        ]
        df = df[~np.isin(df["_core"].to_numpy(), found["_core"].unique())].reset_index(drop=True)
    return _stack(df, mass_basis), problems


def _stack(df: pd.DataFrame, mass_basis: str) -> Profiles:
    """Padded cumulative arrays from validated, sorted, contiguous layers."""
    core = df["_core"].to_numpy()
    codes, core_idx = np.unique(core, return_inverse=True)
    m = len(codes)
    pos = df.groupby("_core", sort=False).cumcount().to_numpy()
    n_layers = np.bincount(core_idx, minlength=m)
    width = int(n_layers.max()) + 1 if m else 1

    thickness = (df["bottom_cm"] - df["top_cm"]).to_numpy()
    fine_earth_t_ha = df["fine_earth_g_cm3"].to_numpy() * thickness * 100.0
    soc_t_ha = fine_earth_t_ha * df["soc_g_kg"].to_numpy() / 1000.0
    basis_t_ha = fine_earth_t_ha * (1.0 - df["som_fraction"].to_numpy()) if mass_basis == "mineral" else fine_earth_t_ha

    def cumulative(values: Array) -> Array:
        out = np.zeros((m, width))
        out[core_idx, pos + 1] = values
        out = np.cumsum(out, axis=1)
        out[~_valid(n_layers + 1, width)] = np.nan
        return out

    boundary = np.full((m, width), np.nan)
    boundary[:, 0] = 0.0
    boundary[core_idx, pos + 1] = df["bottom_cm"].to_numpy()
    first = df.drop_duplicates("_core")
    keep = ("plot_id", "sampled_on", "core_id", "source_row", "file", "farm_id", "_plot", "_pair")
    cores = first[[c for c in keep if c in first]]
    return Profiles(
        cores=cores.reset_index(drop=True),
        boundary_cm=boundary,
        cum_mass_t_ha=cumulative(basis_t_ha),
        cum_soc_t_ha=cumulative(soc_t_ha),
        n_knots=(n_layers + 1).astype(np.int64),
        mass_basis=mass_basis,
    )


# --------------------------------------------------------------------------------------
# Samplings, reference masses and per-core stocks
# --------------------------------------------------------------------------------------


def _decimal_year(values: pd.Series) -> Array:
    """Sampling time in decimal years (year numbers or dates); NaN where neither."""
    values = pd.Series(values).reset_index(drop=True)
    if pd.api.types.is_datetime64_any_dtype(values):
        return 1970.0 + (values - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float) / 365.2425
    years = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float, copy=True)
    rest = np.isnan(years) & values.notna().to_numpy()
    if rest.any():
        dates = pd.to_datetime(values[rest].astype(str), errors="coerce", format="mixed")
        years[rest] = 1970.0 + (dates - pd.Timestamp("1970-01-01")).dt.days.to_numpy(dtype=float) / 365.2425
    return years


def _samplings(
    horizons: pd.DataFrame, candidates: NDArray[np.bool_] | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Samplings (plot, sampled_on) with their time, and each plot's baseline.

    Returns ``(samplings, baselines)``: ``samplings`` indexed by pair code with
    ``_plot``, ``sampled_on`` and ``_year`` (decimal year); ``baselines`` indexed by plot
    code with the ``_pair`` and ``sampled_on`` of the plot's earliest sampling among the
    ``candidates`` rows. Chosen on the input rows, before validation, so that a baseline
    whose cores are all invalid is reported rather than replaced by the next sampling.
    """
    plot, pair = _sampling_codes(horizons)
    sampled = horizons["sampled_on"].array if "sampled_on" in horizons else np.full(len(horizons), None)
    rows = pd.DataFrame({"_plot": plot, "_pair": pair, "sampled_on": sampled})
    unique = ~rows["_pair"].duplicated().to_numpy()
    samplings = rows[unique].copy()
    samplings["_year"] = _decimal_year(samplings["sampled_on"])
    samplings["_label"] = samplings["sampled_on"].astype(str)
    candidate_pairs = samplings if candidates is None else samplings[samplings["_pair"].isin(rows["_pair"][candidates])]
    first = candidate_pairs.sort_values(["_plot", "_year", "_label"], na_position="last", kind="stable")
    baselines = first.drop_duplicates("_plot").set_index("_plot")[["_pair", "sampled_on"]]
    return samplings.set_index("_pair")[["_plot", "sampled_on", "_year"]], baselines


def _reference_masses(
    profiles: Profiles,
    depth_cm: Array,
    is_baseline: NDArray[np.bool_],
    reference: str | Sequence[float] | pd.DataFrame,
) -> Array:
    """Reference cumulative mass per core and depth, (m, q) [t/ha]."""
    m, q = len(profiles.cores), len(depth_cm)
    if isinstance(reference, pd.DataFrame):
        need = {"plot_id", "depth_cm", "reference_mass_t_ha"}
        if not need <= set(reference.columns):
            raise InputError(f"reference mass table needs columns {', '.join(sorted(need))}")
        table = reference.assign(plot_id=reference["plot_id"].astype(str)).pivot_table(
            index="plot_id", columns="depth_cm", values="reference_mass_t_ha", aggfunc="first"
        )
        plot_ids = profiles.cores["plot_id"].astype(str).to_numpy()
        return table.reindex(index=plot_ids, columns=depth_cm).to_numpy(dtype=float)
    if not isinstance(reference, str):
        masses = np.asarray(reference, dtype=float).reshape(-1)
        if masses.shape != (q,):
            raise InputError(f"give one reference mass per depth: {q} depth(s), {masses.size} mass(es)")
        return np.broadcast_to(masses, (m, q)).copy()
    if reference not in ("baseline_mean", "minimum"):
        raise InputError(f"unknown reference {reference!r}; valid: 'baseline_mean', 'minimum', or masses")
    mass_at = _interp_rows(profiles.boundary_cm, profiles.cum_mass_t_ha, profiles.n_knots, _rows(depth_cm, m))
    mass_at[depth_cm[None, :] > _last_knot(profiles.boundary_cm, profiles.n_knots)[:, None]] = np.nan
    plot = profiles.cores["_plot"].to_numpy()
    frame = pd.DataFrame(mass_at)
    frame["_plot"] = plot
    if reference == "baseline_mean":
        # Mean over the baseline cores that reach the depth (von Haden et al. 2020).
        per_plot = frame[is_baseline].groupby("_plot").mean()
    else:
        # Lightest core of the plot, any sampling (Ellert & Bettany 1995).
        per_plot = frame.groupby("_plot").min()
    return per_plot.reindex(plot).to_numpy(dtype=float)


def _evaluate(
    profiles: Profiles, depth_cm: Array, reference_t_ha: Array, method: str, extrapolate: bool
) -> dict[str, Array]:
    """All per-core quantities, (m, q) each, for one method."""
    b, mass, soc, n = profiles.boundary_cm, profiles.cum_mass_t_ha, profiles.cum_soc_t_ha, profiles.n_knots
    depth = _rows(depth_cm, len(n))
    bottom = _last_knot(b, n)[:, None]
    too_shallow = depth > bottom
    no_ref = np.isnan(reference_t_ha)
    ref = np.where(no_ref, 0.0, reference_t_ha)  # NaN-free for the methods; masked below
    core_mass = np.where(too_shallow, np.nan, _interp_rows(b, mass, n, depth))
    fd = fixed_depth_stock(b, soc, n, depth_cm)
    esm_depth = _interp_rows(mass, b, n, ref)
    extrapolated = ref > _last_knot(mass, n)[:, None] + _MASS_TOLERANCE_T_HA
    if method == "spline":
        esm = esm_spline(mass, soc, n, ref)
    elif method == "linear":
        esm = esm_linear(mass, soc, n, ref)
    elif method == "ellert_bettany":
        esm = esm_ellert_bettany(b, mass, soc, n, depth_cm, ref)
    elif method == "fowler":
        esm = esm_fowler(b, mass, soc, n, depth_cm, ref)
        esm_depth = depth * ref / core_mass
        extrapolated = esm_depth > bottom + 1e-9  # not on rounding when D' = D
    elif method == "elementary_layers":
        esm, esm_depth = esm_elementary_layers(b, mass, soc, n, ref)
    else:  # fixed_depth: no mass correction
        esm, esm_depth, extrapolated = fd.copy(), depth.copy(), np.zeros_like(too_shallow)
    extrapolated = extrapolated & ~too_shallow & ~no_ref
    unusable = too_shallow | no_ref | (extrapolated if not extrapolate else False)
    return {
        "reference_mass_t_ha": reference_t_ha,
        "core_mass_t_ha": core_mass,
        "fixed_depth_stock_t_ha": fd,
        "esm_stock_t_ha": np.where(unusable, np.nan, esm),
        "esm_depth_cm": np.where(unusable, np.nan, esm_depth),
        "extrapolated": extrapolated,
        "too_shallow": too_shallow,
        "no_reference": no_ref & ~too_shallow,
    }


_CORE_VALUES = (
    "reference_mass_t_ha", "core_mass_t_ha", "fixed_depth_stock_t_ha", "esm_stock_t_ha", "esm_depth_cm", "extrapolated",
)


def _core_table(
    profiles: Profiles,
    is_baseline: NDArray[np.bool_],
    depth_cm: Array,
    reference: str | Sequence[float] | pd.DataFrame,
    method: str,
    extrapolate: bool,
) -> tuple[pd.DataFrame, list[Problem]]:
    """Long table (core x depth) and the problems of cores too shallow or without reference."""
    ref = _reference_masses(profiles, depth_cm, is_baseline, reference)
    result = _evaluate(profiles, depth_cm, ref, method, extrapolate)
    m, q = ref.shape
    cores = profiles.cores
    table = cores.loc[np.repeat(np.arange(m), q)].reset_index(drop=True)
    table.insert(3, "is_baseline", np.repeat(is_baseline, q))
    table.insert(4, "depth_cm", np.tile(depth_cm, m))
    for name in _CORE_VALUES:
        table[name] = result[name].reshape(-1)

    problems: list[Problem] = []
    bottom = _last_knot(profiles.boundary_cm, profiles.n_knots)
    for rule, mask, text in (
        ("core_too_shallow", result["too_shallow"], "core reaches {bottom:g} cm only: no stock at {depths} cm"),
        ("no_reference_mass", result["no_reference"], "no reference mass at {depths} cm (no baseline core that deep)"),
    ):
        for i in np.flatnonzero(mask.any(axis=1)):
            depths = ", ".join(f"{d:g}" for d in depth_cm[mask[i]])
            problems.append(_problem(cores["file"].iat[i], cores["source_row"].iat[i], "bottom_cm", rule,
                                     text.format(bottom=bottom[i], depths=depths), cores["plot_id"].iat[i]))
    return table, problems


_INTERNAL = ["file", "_plot", "_pair"]


def _check_options(method: str, depths_cm: Sequence[float]) -> Array:
    if method not in METHODS:
        raise InputError(f"unknown ESM method {method!r}; valid: {', '.join(METHODS)}")
    depth = np.asarray(depths_cm, dtype=float).reshape(-1)
    if depth.size == 0 or np.any(~np.isfinite(depth)) or np.any(depth <= 0):
        raise InputError("standard depths must be positive numbers of cm")
    if np.any(np.diff(depth) <= 0):
        raise InputError("standard depths must be given in increasing order")
    return depth


@dataclass(frozen=True)
class CoreStocks:
    """Result of :func:`core_stocks`: one row per core and depth, and the problems found."""

    cores: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def core_stocks(
    horizons: pd.DataFrame,
    depths_cm: Sequence[float] = (30.0,),
    *,
    method: str = "spline",
    mass_basis: Literal["mineral", "total"] = "mineral",
    som_factor: float = DEFAULT_SOM_FACTOR,
    reference: str | Sequence[float] | pd.DataFrame = "baseline_mean",
    baseline_sampling: object = None,
    extrapolate: bool = True,
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3,
    file: str = "<input>",
) -> CoreStocks:
    """Fixed-depth and equivalent-soil-mass SOC stocks per core and standard depth.

    Parameters
    ----------
    horizons : DataFrame
        Canonical horizon table (see :func:`build_profiles`).
    depths_cm : sequence of float [cm]
        Standard depths, increasing; stocks are cumulative from the surface to each.
    method : {"spline", "linear", "ellert_bettany", "fowler", "elementary_layers", "fixed_depth"}
        ESM method: :func:`esm_spline` (default), :func:`esm_linear`,
        :func:`esm_ellert_bettany`, :func:`esm_fowler`, :func:`esm_elementary_layers`, or
        no mass correction.
    mass_basis : {"mineral", "total"}
        Soil mass to equate.
    som_factor : float
        SOM/SOC ratio where ``som_pct`` is missing.
    reference : "baseline_mean", "minimum", sequence of float [t ha-1] or DataFrame
        Reference cumulative masses (surface to each depth): the mean over the plot's
        baseline cores (von Haden et al. 2020), the plot's lightest core at each depth,
        any sampling (Ellert & Bettany 1995), one mass per depth for all plots, or a
        table with columns ``plot_id, depth_cm, reference_mass_t_ha``.
    baseline_sampling : optional
        ``sampled_on`` value of the baseline; default the earliest per plot.
    extrapolate : bool
        If False, stocks needing mass beyond a core's sampled mass are NaN (they are
        flagged in ``extrapolated`` either way). A standard depth below a core's bottom
        is never extrapolated (von Haden et al.'s ``extrapolation = TRUE`` setting).
    stone_density_g_cm3 : float [g cm-3]
        See :func:`build_profiles`.
    file : str
        File name used in problem reports.

    Returns
    -------
    CoreStocks
        ``cores``: ``plot_id, sampled_on, core_id, is_baseline, depth_cm, source_row``
        (first row of the core), [``farm_id``], ``reference_mass_t_ha``,
        ``core_mass_t_ha`` (the core's own mass to the depth),
        ``fixed_depth_stock_t_ha``, ``esm_stock_t_ha``, ``esm_depth_cm`` (depth holding
        the reference mass), ``extrapolated``. ``problems``: list of Problem.

    Notes
    -----
    A core is one (``plot_id``, ``sampled_on``, ``core_id``); cores must start at 0 cm and
    be contiguous. Without ``sampled_on`` every plot is one sampling, its own baseline.

    References
    ----------
    .. [1] von Haden, A. C., Yang, W. H. & DeLucia, E. H. (2020). Glob. Change Biol. 26,
       3759–3770. doi:10.1111/gcb.15124
    .. [2] Ellert, B. H. & Bettany, J. R. (1995). Can. J. Soil Sci. 75, 529–538.
       doi:10.4141/cjss95-075
    """
    depth = _check_options(method, depths_cm)
    profiles, problems = build_profiles(
        horizons, mass_basis=mass_basis, som_factor=som_factor, stone_density_g_cm3=stone_density_g_cm3, file=file
    )
    if baseline_sampling is not None:
        is_baseline = (profiles.cores["sampled_on"].astype(str) == str(baseline_sampling)).to_numpy()
    else:
        is_baseline = np.isin(profiles.cores["_pair"].to_numpy(), _samplings(horizons)[1]["_pair"].to_numpy())
    table, more = _core_table(profiles, is_baseline, depth, reference, method, extrapolate)
    return CoreStocks(cores=table.drop(columns=_INTERNAL), problems=problems + more)


# --------------------------------------------------------------------------------------
# Change between samplings, per plot
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """Result of :func:`compare_samplings`: per plot, per core, and the problems found."""

    plots: pd.DataFrame
    cores: pd.DataFrame
    problems: list[Problem] = field(default_factory=list)


def _combine_files(horizons: pd.DataFrame, baseline: pd.DataFrame, file: str, baseline_file: str) -> pd.DataFrame:
    parts = []
    for frame, name, label, is_base in (
        (baseline, baseline_file, "baseline", True), (horizons, file, "follow-up", False)
    ):
        part = frame.copy()
        sampled = part["sampled_on"] if "sampled_on" in part else pd.Series(label, index=part.index)
        part["sampled_on"] = sampled.astype(object)
        part["_file"] = name
        part["_from_baseline"] = is_base
        if "source_row" not in part:
            part["source_row"] = np.arange(1, len(part) + 1)
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def _plot_problems(
    data: pd.DataFrame, cores: pd.DataFrame, is_baseline: NDArray[np.bool_], baselines: pd.DataFrame, two_files: bool
) -> tuple[NDArray[np.bool_], list[Problem]]:
    """Which cores' plots can be compared, and a problem for each plot that cannot."""
    plot, pair = _sampling_codes(data)
    rows = pd.DataFrame({"_plot": plot, "_pair": pair, "_from_baseline": data["_from_baseline"].to_numpy(dtype=bool),
                         "plot_id": data["plot_id"].array, "sampled_on": data["sampled_on"].array,
                         "file": data["_file"].array, "source_row": data["source_row"].array})
    rows = rows[rows["_plot"] >= 0]  # rows without plot_id are reported by build_profiles
    plots = rows.groupby("_plot").agg(
        plot_id=("plot_id", "first"), sampled_on=("sampled_on", "first"), file=("file", "first"),
        source_row=("source_row", "first"), in_baseline=("_from_baseline", "any"), n_samplings=("_pair", "nunique"),
    )
    core_plot = cores["_plot"].to_numpy()
    plots["has_base"] = pd.Series(is_baseline).groupby(core_plot).any().reindex(plots.index, fill_value=False)
    plots["has_follow"] = pd.Series(~is_baseline).groupby(core_plot).any().reindex(plots.index, fill_value=False)
    rule = np.select(
        [
            two_files & ~plots["in_baseline"].to_numpy(dtype=bool),
            plots["n_samplings"].to_numpy() < 2,
            ~plots["has_base"].to_numpy(dtype=bool),
            ~plots["has_follow"].to_numpy(dtype=bool),
        ],
        ["not_in_baseline", "one_sampling", "no_valid_baseline", "no_valid_follow_up"],
        default="",
    )
    messages = {
        "not_in_baseline": "plot is not in the baseline file: left out",
        "one_sampling": "plot has one sampling only ({sampled_on}): nothing to compare",
        "no_valid_baseline": "the baseline sampling ({baseline}) has no valid core: plot left out",
        "no_valid_follow_up": "no follow-up sampling has a valid core: plot left out",
    }
    problems = []
    for i in np.flatnonzero(rule != ""):
        code = plots.index[i]
        baseline = baselines["sampled_on"].get(code, "?")
        text = messages[str(rule[i])].format(sampled_on=plots["sampled_on"].iat[i], baseline=baseline)
        problems.append(_problem(plots["file"].iat[i], plots["source_row"].iat[i], "plot_id", str(rule[i]), text,
                                 plots["plot_id"].iat[i]))
    return np.isin(core_plot, plots.index[rule == ""].to_numpy()), problems


def compare_samplings(
    horizons: pd.DataFrame,
    depths_cm: Sequence[float] = (30.0,),
    *,
    baseline: pd.DataFrame | None = None,
    method: str = "spline",
    mass_basis: Literal["mineral", "total"] = "mineral",
    som_factor: float = DEFAULT_SOM_FACTOR,
    reference: str | Sequence[float] | pd.DataFrame = "baseline_mean",
    extrapolate: bool = True,
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3,
    n_bootstrap: int = 1000,
    confidence: float = 0.95,
    seed: int | None = 0,
    file: str = "<input>",
    baseline_file: str = "<baseline>",
) -> Comparison:
    """Measured SOC change between the baseline and each follow-up sampling, per plot.

    Parameters
    ----------
    horizons : DataFrame
        Canonical horizon table. Alone, it holds several samplings per plot
        (``sampled_on``: a year or a date) and the earliest of each plot is the baseline.
        With ``baseline``, it holds the follow-up sampling(s).
    depths_cm : sequence of float [cm]
        Standard depths (the 4 per 1000 target is defined on 0–30 cm).
    baseline : DataFrame, optional
        Baseline horizon table (two-file mode): each plot's earliest sampling in it is
        the baseline; every other sampling, in either table, is a follow-up. A table
        without ``sampled_on`` is one sampling, labelled "baseline" or "follow-up" (then
        ``years`` and the rates are unknown).
    method, mass_basis, som_factor, reference, extrapolate, stone_density_g_cm3
        As in :func:`core_stocks`.
    n_bootstrap : int
        Bootstrap resamples over cores (0 to skip).
    confidence : float
        Confidence level of the interval of the change.
    seed : int or None
        Seed of the bootstrap; a given seed gives the same result.
    file, baseline_file : str
        File names for problem reports.

    Returns
    -------
    Comparison
        ``plots``: one row per plot, follow-up sampling and depth: ``plot_id``,
        [``farm_id``], ``depth_cm``, ``baseline_sampled_on``, ``sampled_on``, ``years``,
        ``n_baseline_cores``, ``n_cores``, ``reference_mass_t_ha``,
        ``baseline_stock_t_ha`` (ESM basis), ``baseline_stock_sd_t_ha``,
        ``baseline_fixed_depth_stock_t_ha``, ``fixed_depth_stock_t_ha``,
        ``fixed_depth_stock_sd_t_ha``, ``esm_stock_t_ha``, ``esm_stock_sd_t_ha``,
        ``fixed_depth_change_t_ha``, ``esm_change_t_ha``, ``esm_change_se_t_ha``,
        ``change_ci_low_t_ha``, ``change_ci_high_t_ha``, ``annual_change_t_ha_yr``,
        ``rate_per_mille``, ``meets_4p1000``, ``p_meets_4p1000``, ``extrapolated`` (any
        core of either sampling), ``method``, ``mass_basis``. ``cores``: the per-core
        table of :func:`core_stocks`. ``problems``: bad cores, plots with one sampling,
        follow-up plots missing from the baseline, ...; those are left out, the rest is
        computed.

    Notes
    -----
    Stocks of a sampling are means over its cores, sd over cores (ddof 1); the standard
    error of the change is ``sqrt(sd_b²/n_b + sd_f²/n_f)``. ``rate_per_mille`` = ESM
    change / years / baseline ESM stock × 1000, and ``meets_4p1000`` is
    ``rate_per_mille >= 4`` (:mod:`fourp1000.targets`). The bootstrap resamples the
    baseline and the follow-up cores independently, with replacement, the reference
    masses held fixed; it gives the percentile interval of the change of the mean stock
    and ``p_meets_4p1000``, the share of resamples whose rate reaches 4 per mille. Both
    need two or more cores in each sampling (NaN otherwise); ``p_meets_4p1000`` also
    needs ``years > 0``.

    References
    ----------
    .. [1] von Haden, A. C., Yang, W. H. & DeLucia, E. H. (2020). Glob. Change Biol. 26,
       3759–3770. doi:10.1111/gcb.15124
    .. [2] Minasny, B. et al. (2017). Soil carbon 4 per mille. Geoderma 292, 59–86.
       doi:10.1016/j.geoderma.2017.01.002
    .. [3] Efron, B. & Tibshirani, R. J. (1993). An Introduction to the Bootstrap.
       Chapman & Hall, New York. Ch. 13 (percentile intervals).
    """
    depth = _check_options(method, depths_cm)
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, got {confidence!r}")
    two_files = baseline is not None
    if two_files:
        data = _combine_files(horizons, baseline, file, baseline_file)
    else:
        if "sampled_on" not in horizons:
            raise InputError("comparing samplings needs a sampled_on column, or a separate baseline table")
        data = horizons.assign(_file=file, _from_baseline=False)
        if "source_row" not in data:
            data["source_row"] = np.arange(1, len(data) + 1)
    data = data.drop(columns=["_plot", "_pair"], errors="ignore")
    data["_plot"], data["_pair"] = _sampling_codes(data)
    samplings, baselines = _samplings(data, data["_from_baseline"].to_numpy(dtype=bool) if two_files else None)
    profiles, problems = build_profiles(
        data, mass_basis=mass_basis, som_factor=som_factor, stone_density_g_cm3=stone_density_g_cm3, file=file
    )
    is_baseline = np.isin(profiles.cores["_pair"].to_numpy(), baselines["_pair"].to_numpy())
    keep, plot_problems = _plot_problems(data, profiles.cores, is_baseline, baselines, two_files)
    kept = Profiles(
        cores=profiles.cores[keep].reset_index(drop=True),
        boundary_cm=profiles.boundary_cm[keep],
        cum_mass_t_ha=profiles.cum_mass_t_ha[keep],
        cum_soc_t_ha=profiles.cum_soc_t_ha[keep],
        n_knots=profiles.n_knots[keep],
        mass_basis=mass_basis,
    )
    table, more = _core_table(kept, is_baseline[keep], depth, reference, method, extrapolate)
    plots = _plot_table(table, depth, samplings["_year"], n_bootstrap, confidence, np.random.default_rng(seed))
    plots["method"] = method
    plots["mass_basis"] = mass_basis
    return Comparison(plots=plots, cores=table.drop(columns=_INTERNAL), problems=problems + plot_problems + more)


def _padded(values: Array, group: NDArray[np.int64], n_groups: int) -> tuple[Array, NDArray[np.int64]]:
    """Non-NaN values of each group as a row of a NaN-padded matrix, and the group sizes."""
    keep = ~np.isnan(values)
    vals, grp = values[keep], group[keep]
    order = np.argsort(grp, kind="stable")
    vals, grp = vals[order], grp[order]
    counts = np.bincount(grp, minlength=n_groups)
    pos = np.arange(len(grp)) - np.concatenate([[0], np.cumsum(counts)[:-1]])[grp]
    out = np.full((n_groups, max(int(counts.max(initial=0)), 1)), np.nan)
    out[grp, pos] = vals
    return out, counts


def _resampled_means(values: Array, counts: NDArray[np.int64], n_bootstrap: int, rng: np.random.Generator) -> Array:
    """Means of ``n_bootstrap`` resamples (with replacement) of each row's ``counts`` values.

    Rows are grouped by their number of values k (a loop over distinct core counts) and
    each resample sums k random draws (a loop over k), so no padding or masking is needed.
    """
    means = np.empty((values.shape[0], n_bootstrap))
    for k in (int(c) for c in np.unique(counts)):
        rows = np.flatnonzero(counts == k)
        block = values[rows, :k]
        step = max(1, 4_000_000 // (n_bootstrap * k))  # bound the working arrays
        for start in range(0, rows.size, step):
            part = block[start : start + step]
            flat = part.ravel()
            offset = (np.arange(part.shape[0]) * k)[:, None]
            total = np.zeros((part.shape[0], n_bootstrap))
            for _ in range(k):
                total += flat[rng.integers(0, k, size=total.shape) + offset]
            means[rows[start : start + step]] = total / k
    return means


def _percentiles(samples: Array, probabilities: Sequence[float]) -> list[Array]:
    """Row-wise percentiles with linear interpolation (numpy's default method), via one sort."""
    ordered = np.sort(samples, axis=1)
    n = ordered.shape[1]
    out = []
    for prob in probabilities:
        pos = prob * (n - 1)
        lo = int(np.floor(pos))
        hi = min(lo + 1, n - 1)
        out.append(ordered[:, lo] + (pos - lo) * (ordered[:, hi] - ordered[:, lo]))
    return out


def _bootstrap(
    base: Array, n_base: NDArray[np.int64], follow: Array, n_follow: NDArray[np.int64], years: Array,
    *, n_bootstrap: int, confidence: float, rng: np.random.Generator,
) -> tuple[Array, Array, Array]:
    """Percentile interval of the change of mean stock, and share of resamples meeting 4 per 1000."""
    low, high, p_meets = (np.full(base.shape[0], np.nan) for _ in range(3))
    ok = np.flatnonzero((n_base >= 2) & (n_follow >= 2))
    if ok.size == 0 or n_bootstrap <= 0:
        return low, high, p_meets
    tail = (1.0 - confidence) / 2.0
    step = max(1, 2_000_000 // n_bootstrap)
    for start in range(0, ok.size, step):
        rows = ok[start : start + step]
        base_mean = _resampled_means(base[rows], n_base[rows], n_bootstrap, rng)
        change = _resampled_means(follow[rows], n_follow[rows], n_bootstrap, rng) - base_mean
        low[rows], high[rows] = _percentiles(change, [tail, 1.0 - tail])
        yrs = years[rows][:, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = rate_per_mille(change / np.where(yrs > 0, yrs, np.nan), base_mean)
        p_meets[rows] = np.where(years[rows] > 0, meets_target(rate).mean(axis=1), np.nan)
    return low, high, p_meets


_PLOT_COLUMNS = (
    "plot_id", "depth_cm", "baseline_sampled_on", "sampled_on", "years", "n_baseline_cores", "n_cores",
    "reference_mass_t_ha", "baseline_stock_t_ha", "baseline_stock_sd_t_ha", "baseline_fixed_depth_stock_t_ha",
    "fixed_depth_stock_t_ha", "fixed_depth_stock_sd_t_ha", "esm_stock_t_ha", "esm_stock_sd_t_ha",
    "fixed_depth_change_t_ha", "esm_change_t_ha", "esm_change_se_t_ha", "change_ci_low_t_ha",
    "change_ci_high_t_ha", "annual_change_t_ha_yr", "rate_per_mille", "meets_4p1000", "p_meets_4p1000",
    "extrapolated",
)


def _plot_table(
    table: pd.DataFrame, depth_cm: Array, year_of_pair: pd.Series, n_bootstrap: int, confidence: float,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """Aggregate cores to (plot, sampling, depth) and pair each follow-up with the baseline."""
    t = table.assign(_group=table.groupby(["_pair", "depth_cm"], sort=False).ngroup())
    stats = t.groupby("_group").agg(
        plot_id=("plot_id", "first"),
        _plot=("_plot", "first"),
        _pair=("_pair", "first"),
        depth_cm=("depth_cm", "first"),
        sampled_on=("sampled_on", "first"),
        is_baseline=("is_baseline", "first"),
        n=("esm_stock_t_ha", "count"),
        esm=("esm_stock_t_ha", "mean"),
        esm_sd=("esm_stock_t_ha", "std"),
        fd=("fixed_depth_stock_t_ha", "mean"),
        fd_sd=("fixed_depth_stock_t_ha", "std"),
        reference_mass_t_ha=("reference_mass_t_ha", "first"),
        extrapolated=("extrapolated", "any"),
    ).reset_index()
    values, counts = _padded(t["esm_stock_t_ha"].to_numpy(dtype=float), t["_group"].to_numpy(), len(stats))

    base = stats[stats["is_baseline"]].rename(columns={
        "sampled_on": "baseline_sampled_on", "n": "n_baseline_cores", "esm": "baseline_stock_t_ha",
        "esm_sd": "baseline_stock_sd_t_ha", "fd": "baseline_fixed_depth_stock_t_ha",
        "extrapolated": "_base_extrapolated", "_group": "_base_group", "_pair": "_base_pair",
    })[["_plot", "_base_pair", "depth_cm", "baseline_sampled_on", "n_baseline_cores", "baseline_stock_t_ha",
        "baseline_stock_sd_t_ha", "baseline_fixed_depth_stock_t_ha", "_base_extrapolated", "_base_group"]]
    out = stats[~stats["is_baseline"]].merge(base, on=["_plot", "depth_cm"], how="inner")
    out = out.rename(columns={"n": "n_cores", "esm": "esm_stock_t_ha", "esm_sd": "esm_stock_sd_t_ha",
                              "fd": "fixed_depth_stock_t_ha", "fd_sd": "fixed_depth_stock_sd_t_ha"})

    out["_year"] = year_of_pair.reindex(out["_pair"]).to_numpy()
    years = out["_year"].to_numpy() - year_of_pair.reindex(out["_base_pair"]).to_numpy()
    out["years"] = years
    out["esm_change_t_ha"] = out["esm_stock_t_ha"] - out["baseline_stock_t_ha"]
    out["fixed_depth_change_t_ha"] = out["fixed_depth_stock_t_ha"] - out["baseline_fixed_depth_stock_t_ha"]
    out["esm_change_se_t_ha"] = np.sqrt(
        out["esm_stock_sd_t_ha"] ** 2 / out["n_cores"] + out["baseline_stock_sd_t_ha"] ** 2 / out["n_baseline_cores"]
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        annual = out["esm_change_t_ha"].to_numpy(dtype=float) / np.where(years > 0, years, np.nan)
    out["annual_change_t_ha_yr"] = annual
    rate = rate_per_mille(annual, out["baseline_stock_t_ha"].to_numpy(dtype=float))
    out["rate_per_mille"] = rate
    out["meets_4p1000"] = pd.array(np.where(np.isnan(rate), None, meets_target(rate)), dtype="boolean")

    bg, fg = out["_base_group"].to_numpy(), out["_group"].to_numpy()
    low, high, p_meets = _bootstrap(values[bg], counts[bg], values[fg], counts[fg], years,
                                    n_bootstrap=n_bootstrap, confidence=confidence, rng=rng)
    out["change_ci_low_t_ha"], out["change_ci_high_t_ha"], out["p_meets_4p1000"] = low, high, p_meets
    out["extrapolated"] = out["extrapolated"] | out["_base_extrapolated"]

    columns = list(_PLOT_COLUMNS)
    if "farm_id" in table:
        out["farm_id"] = out["_plot"].map(table.drop_duplicates("_plot").set_index("_plot")["farm_id"])
        columns.insert(1, "farm_id")
    out["_depth_order"] = out["depth_cm"].map({d: i for i, d in enumerate(depth_cm)})
    out = out.sort_values(["_plot", "_year", "_depth_order"], kind="stable")
    return out[columns].reset_index(drop=True)
