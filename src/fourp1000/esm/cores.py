"""Equivalent-soil-mass SOC stocks per core: samplings, reference masses, the method run.

:func:`core_stocks` builds the per-core profiles (:mod:`fourp1000.esm.profiles`), finds
each plot's baseline sampling, sets the reference cumulative soil mass of each plot and
standard depth, and runs one method of :mod:`fourp1000.esm.methods` on all cores at
once: per core and depth, the reference mass, the fixed-depth stock and the ESM stock
(t C/ha), with a flag where the method extrapolated. Cores too shallow for a depth, or
without a reference mass, come back as :class:`fourp1000.errors.Problem` records.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ..errors import InputError, Problem
from ..stocks.layers import STONE_DENSITY_G_CM3
from .knots import MASS_TOLERANCE_T_HA, Array, interp_rows, last_knot, query_rows
from .methods import (
    esm_elementary_layers,
    esm_ellert_bettany,
    esm_fowler,
    esm_linear,
    esm_spline,
    fixed_depth_stock,
)
from .profiles import DEFAULT_SOM_FACTOR, Profiles, build_profiles, table_problem
from .samplings import samplings_and_baselines

__all__ = ["METHODS", "CoreStocks", "core_stocks"]

METHODS = ("spline", "linear", "ellert_bettany", "fowler", "elementary_layers", "fixed_depth")


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
    mass_at = interp_rows(profiles.boundary_cm, profiles.cum_mass_t_ha, profiles.n_knots, query_rows(depth_cm, m))
    mass_at[depth_cm[None, :] > last_knot(profiles.boundary_cm, profiles.n_knots)[:, None]] = np.nan
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
    depth = query_rows(depth_cm, len(n))
    bottom = last_knot(b, n)[:, None]
    too_shallow = depth > bottom
    no_ref = np.isnan(reference_t_ha)
    ref = np.where(no_ref, 0.0, reference_t_ha)  # NaN-free for the methods; masked below
    core_mass = np.where(too_shallow, np.nan, interp_rows(b, mass, n, depth))
    fd = fixed_depth_stock(b, soc, n, depth_cm)
    esm_depth = interp_rows(mass, b, n, ref)
    extrapolated = ref > last_knot(mass, n)[:, None] + MASS_TOLERANCE_T_HA
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


def core_table(
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
    table["_too_shallow"] = result["too_shallow"].reshape(-1)

    problems: list[Problem] = []
    bottom = last_knot(profiles.boundary_cm, profiles.n_knots)
    for rule, mask, text in (
        ("core_too_shallow", result["too_shallow"], "core reaches {bottom:g} cm only: no stock at {depths} cm"),
        ("no_reference_mass", result["no_reference"], "no reference mass at {depths} cm (no baseline core that deep)"),
        ("extrapolation_off", result["extrapolated"] & ~np.isfinite(result["esm_stock_t_ha"]),
         "core holds less than the reference mass at {depths} cm and extrapolation is off: no stock there"),
    ):
        for i in np.flatnonzero(mask.any(axis=1)):
            depths = ", ".join(f"{d:g}" for d in depth_cm[mask[i]])
            problems.append(table_problem(cores["file"].iat[i], cores["source_row"].iat[i], "bottom_cm", rule,
                                     text.format(bottom=bottom[i], depths=depths), cores["plot_id"].iat[i]))
    return table, problems


INTERNAL_COLUMNS = ["file", "_plot", "_pair", "_core", "_too_shallow"]
"""Columns of :func:`core_table` used between modules, dropped from the results."""


def check_method_and_depths(method: str, depths_cm: Sequence[float]) -> Array:
    """The standard depths as a float array; raises :class:`InputError` on an unknown method
    or depths that are not positive and increasing.
    """
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
        Canonical horizon table (see :func:`fourp1000.esm.build_profiles`).
    depths_cm : sequence of float [cm]
        Standard depths, increasing; stocks are cumulative from the surface to each.
    method : {"spline", "linear", "ellert_bettany", "fowler", "elementary_layers", "fixed_depth"}
        ESM method: :func:`~fourp1000.esm.esm_spline` (default), :func:`~fourp1000.esm.esm_linear`,
        :func:`~fourp1000.esm.esm_ellert_bettany`, :func:`~fourp1000.esm.esm_fowler`,
        :func:`~fourp1000.esm.esm_elementary_layers`, or
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
        See :func:`fourp1000.esm.build_profiles`.
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
    depth = check_method_and_depths(method, depths_cm)
    profiles, problems = build_profiles(
        horizons, mass_basis=mass_basis, som_factor=som_factor, stone_density_g_cm3=stone_density_g_cm3, file=file
    )
    if baseline_sampling is not None:
        is_baseline = (profiles.cores["sampled_on"].astype(str) == str(baseline_sampling)).to_numpy()
    else:
        is_baseline = np.isin(profiles.cores["_pair"].to_numpy(), samplings_and_baselines(horizons)[1]["_pair"].to_numpy())
    table, more = core_table(profiles, is_baseline, depth, reference, method, extrapolate)
    return CoreStocks(cores=table.drop(columns=INTERNAL_COLUMNS), problems=problems + more)
