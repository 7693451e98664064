"""From the horizon table to per-core cumulative soil mass and SOC arrays, for ESM.

:func:`build_profiles` checks the canonical horizon table core by core (a core is one
``plot_id``, ``sampled_on``, ``core_id``) and stacks the valid cores as padded arrays of
cumulative (mineral or total) fine-earth mass and SOC at the layer boundaries, the input
of the methods of :mod:`fourp1000.esm.methods`. Bad cores are left out and reported as
:class:`fourp1000.errors.Problem` records, all of them at once.

Units: soil and SOC masses in t/ha, depths in cm, SOC in g/kg.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from ..errors import InputError, Problem
from ..stocks.layers import STONE_DENSITY_G_CM3, fine_earth_density
from .knots import Array, valid_knots
from .samplings import sampling_codes

__all__ = ["DEFAULT_SOM_FACTOR", "MASS_BASES", "Profiles", "build_profiles", "core_codes"]

#: SOM / SOC ratio used where ``som_pct`` is not measured. Pribyl (2010,
#: doi:10.1016/j.geoderma.2010.02.003) found a median of 1.9 (empirical studies) and 2
#: (theory) and concluded that 2 "would in almost all cases be more accurate" than the
#: conventional van Bemmelen factor 1.724 (:data:`fourp1000.io.schema.VAN_BEMMELEN`, SOM taken
#: as 58 % C); 2 is also the default of the R ESM packages.
DEFAULT_SOM_FACTOR = 2.0

MASS_BASES = ("mineral", "total")


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

    def subset(self, keep: NDArray[np.bool_]) -> Profiles:
        """The cores where ``keep`` is True, in the same order."""
        return Profiles(
            cores=self.cores[keep].reset_index(drop=True),
            boundary_cm=self.boundary_cm[keep],
            cum_mass_t_ha=self.cum_mass_t_ha[keep],
            cum_soc_t_ha=self.cum_soc_t_ha[keep],
            n_knots=self.n_knots[keep],
            mass_basis=self.mass_basis,
        )


_REQUIRED = ("plot_id", "top_cm", "bottom_cm", "soc_g_kg", "bulk_density_g_cm3")


def table_problem(file: str, row: object, column: str | None, rule: str, message: str, plot_id: object) -> Problem:
    """A :class:`Problem` about a row of the horizon table; a missing row or plot id is None."""
    return Problem(
        file=str(file),
        row=None if row is None or pd.isna(row) else int(row),
        column=column,
        rule=rule,
        message=message,
        plot_id=None if plot_id is None or pd.isna(plot_id) else str(plot_id),
    )


def core_codes(horizons: pd.DataFrame) -> np.ndarray:
    """Integer code of each row's core: one (plot_id, sampled_on, core_id).

    Where a ``_visit`` column is given (the sampling date of each row when several dates
    make one campaign), cores of different dates stay apart.
    """
    _, pair_code = sampling_codes(horizons)
    visit = horizons["_visit"].to_numpy(dtype=np.int64) if "_visit" in horizons else pair_code
    core_code = pd.factorize(horizons["core_id"])[0] if "core_id" in horizons else np.zeros(len(horizons), np.int64)
    return pd.factorize(visit * (int(core_code.max(initial=0)) + 2) + core_code + 1)[0]


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
        mass % of stones (see :func:`fourp1000.stocks.layers.fine_earth_density`).
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
    _check_arguments(horizons, mass_basis, som_factor)
    layers = _layer_table(horizons, som_factor, stone_density_g_cm3, file)
    found = _layer_problems(layers, check_sampled_on="sampled_on" in horizons)
    if found is None:
        return _stack(layers, mass_basis), []
    problems = [
        table_problem(r.file, r.source_row, r.column, r.rule, r.message, r.plot_id)
        for r in found.itertuples(index=False)
    ]
    valid = layers[~np.isin(layers["_core"].to_numpy(), found["_core"].unique())].reset_index(drop=True)
    return _stack(valid, mass_basis), problems


def _check_arguments(horizons: pd.DataFrame, mass_basis: str, som_factor: float) -> None:
    """Raise :class:`InputError` on options or a table that nothing can be computed from."""
    if mass_basis not in MASS_BASES:
        raise InputError(f"unknown mass basis {mass_basis!r}; valid: {', '.join(MASS_BASES)}")
    if not np.isfinite(som_factor) or som_factor <= 0:
        raise InputError(f"SOM factor must be a positive number, got {som_factor!r}")
    missing = [c for c in _REQUIRED if c not in horizons.columns]
    if missing:
        raise InputError(f"horizon table lacks column(s) {', '.join(missing)} needed for ESM")


def _layer_table(horizons: pd.DataFrame, som_factor: float, stone_density_g_cm3: float, file: str) -> pd.DataFrame:
    """One row per layer: ids, core codes, depths, SOC, fine-earth density and SOM fraction,
    sorted by core, then depth.
    """
    n = len(horizons)

    def column(name: str, default: object = None) -> ArrayLike:
        # .array keeps string columns as they are (no conversion to Python objects).
        return horizons[name].array if name in horizons.columns else np.full(n, default, dtype=object)

    def number(name: str) -> Array | None:
        if name not in horizons.columns:
            return None
        return pd.to_numeric(horizons[name], errors="coerce").to_numpy(dtype=float)

    plot_code, pair_code = sampling_codes(horizons)
    df = pd.DataFrame({
        "plot_id": column("plot_id"), "sampled_on": column("sampled_on"), "core_id": column("core_id"),
        "source_row": horizons["source_row"].to_numpy() if "source_row" in horizons else np.arange(1, n + 1),
        "file": column("_file", file), "_plot": plot_code, "_pair": pair_code,
        "_core": core_codes(horizons),
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
    return df.iloc[order].reset_index(drop=True)


def _layer_problems(df: pd.DataFrame, check_sampled_on: bool) -> pd.DataFrame | None:
    """Every problem of the sorted layers, one row each (``_core``, ``file``, ``source_row``,
    ``plot_id``, ``column``, ``rule``, ``message``), by row; None when there is none.
    """
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
    if check_sampled_on:
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
    if not findings:
        return None
    return pd.concat(findings, ignore_index=True).sort_values(["source_row", "rule"], kind="stable")


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
        out[~valid_knots(n_layers + 1, width)] = np.nan
        return out

    boundary = np.full((m, width), np.nan)
    boundary[:, 0] = 0.0
    boundary[core_idx, pos + 1] = df["bottom_cm"].to_numpy()
    first = df.drop_duplicates("_core")
    keep = ("plot_id", "sampled_on", "core_id", "source_row", "file", "farm_id", "_plot", "_pair", "_core")
    cores = first[[c for c in keep if c in first]]
    return Profiles(
        cores=cores.reset_index(drop=True),
        boundary_cm=boundary,
        cum_mass_t_ha=cumulative(basis_t_ha),
        cum_soc_t_ha=cumulative(soc_t_ha),
        n_knots=(n_layers + 1).astype(np.int64),
        mass_basis=mass_basis,
    )
