"""Project SOC stocks under practices with RothC-26.3, plot by plot, and score them against 4 per 1000.

The process-model counterpart of :mod:`fourp1000.projection.tier1` (IPCC Tier 1). For every plot:

1. **Baseline cycle.** A representative year: the plot's monthly climate (a
   :class:`~fourp1000.io.climate.ClimateTable`), its soil cover (``cover_months`` or the land
   use default), the DPM/RPM ratio of its land use (or a ``dpm_rpm_ratio`` column), plant C
   input spread over the input months of the land use (over the covered months where
   ``cover_months`` is given) and, on ``high_manure`` plots, farmyard manure.
   Defaults by land use are data: ``data/rothc_land_use.csv``.
2. **Initial state (inverse mode).** The measured 0-30 cm stock - or, where a plot has none,
   the IPCC default stock SOC_REF x F_LU x F_MG x F_I (``baseline_source``) - is taken as
   the equilibrium of the baseline cycle: :func:`fourp1000.rothc.fit_plant_input` finds the
   annual plant C input that sustains it (IOM by Falloon et al. 1998) and the pool sizes.
3. **Practices** change the cycle (``data/rothc_practices.csv``, each entry with its
   source): extra plant C input (cover crops, residues, improved grassland, tree litter),
   cover in the fallow months, farmyard manure, a DPM/RPM ratio. Combinations add. Tillage
   practices change nothing: RothC has no tillage term.
4. **Forward run.** The changed cycle is run month by month for ``years`` years from the
   equilibrium state; the stock at the end of each December is the yearly trajectory.

All plots are computed at once (arrays of shape ``(12, n_plots)``; the only loops run over
months, practices and distinct practice combinations). The result has the columns and the
4 per 1000 verdict of :func:`fourp1000.projection.tier1.project`, with ``model = "rothc"``.

Notes
-----
* **Equilibrium assumption.** Initialising from a single measured stock assumes the soil is
  at steady state with its baseline management and climate (as GSOCseq and most RothC
  studies do, Smith et al. 2005). A soil still losing or gaining carbon would continue to do
  so; the projection shows only the effect of the practices relative to that equilibrium.
  Without any practice a plot stays at its measured stock (to rounding).
* **Depth.** Stocks are 0-30 cm (as the measured stock and IPCC SOC_REF); the RothC layer
  depth is therefore 30 cm (``depth_cm``). In RothC the depth only scales the maximum
  topsoil moisture deficit (depth/23 of the 0-23 cm calibration layer); the pools are t C/ha
  of the layer.
* The climate is a repeated monthly climatology: no trend, no inter-annual variability.
* Clay: the 0-30 cm mean of the plot (``clay_pct``); RothC uses it in the CO2/(BIO+HUM)
  partition and the moisture deficit.

References
----------
.. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of carbon
   in soil. In: Evaluation of Soil Organic Matter Models, NATO ASI Series I 38, Springer,
   237-246. :doi:`10.1007/978-3-642-61094-3_17`
.. [2] Falloon, P., Smith, P., Coleman, K., Marshall, S. (1998). Soil Biol. Biochem. 30(8),
   1207-1211. :doi:`10.1016/S0038-0717(97)00256-3`
.. [3] Smith, J. et al. (2005). Projected changes in mineral soil carbon of European
   croplands and grasslands, 1990-2080. Glob. Change Biol. 11, 2141-2152.
   :doi:`10.1111/j.1365-2486.2005.001075.x`
.. [4] FAO (2020). GSOCseq - Technical manual for the Global Soil Organic Carbon
   Sequestration Potential Map (RothC initialisation, DPM/RPM by land cover, cover, SSM
   scenarios), FAO-SID/GSOCseq.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from . import ipcc, tier1
from .. import rothc
from ..io.climate import ClimateTable
from ..errors import InputError, ReferenceDataError
from ..tables import read_csv_table
from ..practices import SEPARATOR, multiplier_table, practice_names
from ..targets import change_columns

MODEL = "rothc"
#: Depth of the RothC layer [cm]: the depth of the stocks it starts from (0-30 cm).
MODEL_DEPTH_CM = 30.0
MONTHS = 12
LAND_USE_FILE = "rothc_land_use.csv"
PRACTICES_FILE = "rothc_practices.csv"
EFFECTS = ("none", "plant_input_fraction", "plant_input_t_c_ha_yr", "cover", "fym_c_t_ha_yr",
           "tree_litter_equilibrium", "dpm_rpm_ratio")
MONTH_RULES = ("baseline", "fallow", "all")
#: Optional plot columns read by the RothC projection (besides the IPCC ones).
PLOT_COLUMNS = ("clay_pct", "climate_id", "cover_months", "dpm_rpm_ratio")
_WEIGHT_COLUMNS = tuple(f"input_weight_{m:02d}" for m in range(1, MONTHS + 1))
#: Result columns of :func:`project_rothc` after ``plot_id`` (and ``farm_id``, ``area_ha``).
RESULT_COLUMNS = (
    "model", "practices", "years", "baseline_source", "baseline_stock_t_ha", "final_stock_t_ha",
    "annual_change_t_ha_yr", "rate_per_mille", "meets_4p1000", "baseline_co2e_t_ha", "final_co2e_t_ha",
    "annual_change_co2e_t_ha_yr", "equilibrium_stock_t_ha", "plant_c_input_t_ha_yr", "fym_c_input_t_ha_yr",
    "added_c_input_t_ha_yr", "added_plant_c_t_ha_yr", "added_fym_c_t_ha_yr", "tree_litter_c_t_ha_yr", "iom_t_c_ha",
    "clay_pct", "depth_cm", "climate_id", "evaporation_source", "land_use_new", "cover_months", "cover_months_new",
    "dpm_rpm_ratio", "dpm_rpm_ratio_new", "practices_without_rothc_effect",
)


# --------------------------------------------------------------------------------------
# Coefficient tables
# --------------------------------------------------------------------------------------


def _read(name: str) -> pd.DataFrame:
    return read_csv_table(name, dtype={"applies_when": "string", "months": "string"})


@functools.lru_cache(maxsize=1)
def land_use_defaults() -> pd.DataFrame:
    """RothC defaults by land use (``data/rothc_land_use.csv``), indexed by ``land_use``.

    Columns: ``supported``, ``vegetation``, ``dpm_rpm_ratio`` [-], ``cover_months``,
    ``input_weight_01`` ... ``input_weight_12`` (relative plant C input by month),
    ``status``, ``source``, ``note``.

    Raises
    ------
    ReferenceDataError
        The table misses a land use of :data:`fourp1000.projection.ipcc.LAND_USES`, a source, or has
        invalid values (a packaging bug).
    """
    table = _read(LAND_USE_FILE).set_index("land_use")
    missing = sorted(set(ipcc.LAND_USES) - set(table.index))
    if missing or table["source"].isna().any():
        raise ReferenceDataError(f"{LAND_USE_FILE}: land uses {missing} missing, or a row without source")
    ok = table[table["supported"].astype(bool)]
    weights = ok[list(_WEIGHT_COLUMNS)].to_numpy(dtype=float)
    ratios = ok["dpm_rpm_ratio"].to_numpy(dtype=float)
    if (ratios <= 0).any() or (weights < 0).any() or (weights.sum(axis=1) <= 0).any():
        raise ReferenceDataError(f"{LAND_USE_FILE}: DPM/RPM ratios must be > 0 and input weights >= 0, not all 0")
    parse_cover_months(ok["cover_months"].to_numpy(dtype=object), column=f"{LAND_USE_FILE} cover_months")
    return table


@functools.lru_cache(maxsize=1)
def practice_effects() -> pd.DataFrame:
    """How each catalogue practice changes the RothC inputs (``data/rothc_practices.csv``).

    One row per practice and effect: ``effect`` (one of :data:`EFFECTS`), ``value`` and
    ``unit``, ``months`` (``baseline``: like the fitted plant input; ``fallow``: the bare
    months of the baseline, or the whole year where there are none; ``all``: evenly over
    the year), ``dpm_rpm_ratio`` of the added plant material (empty: the plot's ratio),
    ``applies_when`` (a condition on the baseline ``input_level``: ``input_level=low``,
    ``input_level!=high_manure``; empty: always), ``status``, ``source``, ``note``.

    Raises
    ------
    ReferenceDataError
        A practice of the catalogue is missing, an effect or month rule is unknown, or a
        row has no source.
    """
    return _checked_effects(_read(PRACTICES_FILE), PRACTICES_FILE, ReferenceDataError)


def _checked_effects(table: pd.DataFrame, label: str, error: type[Exception]) -> pd.DataFrame:
    names = set(practice_names())
    needed = {"practice", "effect", "value", "months", "dpm_rpm_ratio", "applies_when", "source"}
    if needed - set(table.columns):
        raise error(f"{label}: missing columns {sorted(needed - set(table.columns))}")
    table = table.astype({"applies_when": "string", "months": "string"})
    problems = sorted(names - set(table["practice"])) + sorted(set(table["practice"]) - names)
    problems += [e for e in table["effect"] if e not in EFFECTS]
    problems += [m for m in table["months"].dropna() if m not in MONTH_RULES]
    for cond in table["applies_when"].dropna():
        if _condition(cond) is None:
            problems.append(cond)
    if problems or table["source"].isna().any():
        raise error(f"{label}: invalid or missing entries {problems} (every row needs a source); "
                    f"valid effects: {', '.join(EFFECTS)}; months: {', '.join(MONTH_RULES)}")
    return table


def _condition(text: str) -> tuple[str, str, str] | None:
    """Parse ``input_level=low`` / ``input_level!=high_manure`` into (column, op, value)."""
    for op in ("!=", "="):
        if op in text:
            column, value = (part.strip() for part in text.split(op, 1))
            if column == "input_level" and value in ipcc.INPUT_LEVELS:
                return column, op, value
    return None


# --------------------------------------------------------------------------------------
# Cover months
# --------------------------------------------------------------------------------------


def _parse_month_spec(text: str) -> np.ndarray | None:
    """Months of ``"4-9"``, ``"10-3"`` (wraps), ``"1;2;3"``, ``"1,5-7"``, ``"all"``, ``"none"``."""
    spec = text.strip().lower()
    mask = np.zeros(MONTHS, bool)
    if spec in ("all", "1-12"):
        mask[:] = True
        return mask
    if spec in ("none", "0", "-"):
        return mask
    for part in spec.replace(",", ";").split(";"):
        part = part.strip()
        if not part:
            continue
        bounds = part.split("-")
        try:
            nums = [int(float(b)) if float(b) == int(float(b)) else None for b in bounds]
        except ValueError:
            return None
        if len(nums) not in (1, 2) or any(m is None or not 1 <= m <= MONTHS for m in nums):
            return None
        first, last = nums[0], nums[-1]
        span = range(first, last + 1) if first <= last else list(range(first, MONTHS + 1)) + list(range(1, last + 1))
        mask[[m - 1 for m in span]] = True
    return mask


def parse_cover_months(values: object, *, source_row: object = None, column: str = "cover_months"
                       ) -> tuple[np.ndarray, np.ndarray]:
    """Monthly soil cover of each plot from month specifications.

    Parameters
    ----------
    values : array-like of str
        One specification per plot: ranges ``"4-9"`` (April to September), ranges across
        the new year ``"10-7"`` (October to July), lists ``"1;2;3"`` or ``"1,5-7"``,
        ``"all"``/``"1-12"`` or ``"none"``. Empty or missing: not given.
    source_row : array-like of int, optional
        Row numbers for the error message.
    column : str
        Column name for the error message.

    Returns
    -------
    covered : numpy.ndarray of bool, shape (12, n)
        Soil covered by vegetation in month m (row m - 1); False where not given.
    given : numpy.ndarray of bool, shape (n,)
        Plots with a specification.

    Raises
    ------
    InputError
        A specification that cannot be read (names the row; ``rows`` holds every bad row).

    Examples
    --------
    >>> cov, given = parse_cover_months(["4-9", "11-2", None])
    >>> np.flatnonzero(cov[:, 1]).tolist(), given.tolist()
    ([0, 1, 10, 11], [True, True, False])
    """
    arr = pd.Series(np.asarray(values, dtype=object), dtype=object)
    text = arr.where(arr.isna(), arr.astype(str).str.strip())
    text = text.where(text != "", None)
    codes, uniques = pd.factorize(text, use_na_sentinel=True)
    masks = np.zeros((MONTHS, len(uniques) + 1), bool)  # last column: not given
    bad_unique = []
    for u, spec in enumerate(uniques):  # distinct specifications, not plots
        mask = _parse_month_spec(str(spec))
        if mask is None:
            bad_unique.append(u)
        else:
            masks[:, u] = mask
    if bad_unique:
        bad = np.isin(codes, bad_unique)
        rows = None if source_row is None else np.asarray(source_row)
        first = int(np.flatnonzero(bad)[0])
        where = f" in row {int(rows[first])}" if rows is not None else ""
        err = InputError(f"cannot read {column} {text.iloc[first]!r}{where}: give months 1-12 as ranges or lists, "
                         "e.g. 4-9, 10-7 (October to July), 1;2;3, all or none")
        err.column, err.rows = column, None if rows is None else [int(r) for r in rows[bad]]
        raise err
    index = np.where(codes < 0, len(uniques), codes)
    return masks[:, index], codes >= 0


def format_cover_months(covered: np.ndarray) -> np.ndarray:
    """Month specifications (``"4-9"``, ``"1-3;10-12"``, ``"1-12"``, ``"none"``) of (12, n) masks."""
    covered = np.asarray(covered, bool)
    bits = (covered.astype(np.int64) << np.arange(MONTHS)[:, None]).sum(axis=0)
    codes, uniques = pd.factorize(bits)
    out = []
    for code in uniques:  # distinct patterns, not plots
        months = [m + 1 for m in range(MONTHS) if (int(code) >> m) & 1]
        if not months:
            out.append("none")
            continue
        runs, start = [], months[0]
        for a, b in zip(months, months[1:] + [None]):
            if b != a + 1:
                runs.append(f"{start}-{a}" if a != start else f"{a}")
                start = b
        out.append(";".join(runs))
    return np.asarray(out, dtype=object)[codes]


# --------------------------------------------------------------------------------------
# Projection
# --------------------------------------------------------------------------------------


@dataclass
class RothCProjection:
    """Result of :func:`project_rothc`.

    Attributes
    ----------
    plots : pandas.DataFrame
        One row per plot (columns of :func:`project_rothc`).
    trajectory : pandas.DataFrame
        Yearly stocks, long format: ``plot_id``, ``year`` (0 = baseline), ``stock_t_ha``.
    """

    plots: pd.DataFrame
    trajectory: pd.DataFrame


def _plot_error(message: str, bad: np.ndarray, rows: np.ndarray | None, column: str | None,
                cls: type[InputError] = InputError) -> InputError:
    """An error naming the first bad plot's row; ``rows`` lists them all (for skip mode)."""
    positions = np.flatnonzero(bad)
    first = positions[0]
    where = f" in row {int(rows[first])}" if rows is not None else f" (plot {int(first)})"
    more = f" (and {positions.size - 1} more plots)" if positions.size > 1 else ""
    err = cls(message.format(where=where + more))
    err.column = column
    err.rows = None if rows is None else [int(r) for r in rows[positions]]
    return err


def _float_column(plots: pd.DataFrame, name: str) -> np.ndarray:
    if name not in plots.columns:
        return np.full(len(plots), np.nan)
    return pd.to_numeric(plots[name], errors="coerce").to_numpy(dtype=float)


def _climate_keys(plots: pd.DataFrame, climate: ClimateTable) -> tuple[np.ndarray, str]:
    """Each plot's key into the climate table, and the plot column it comes from."""
    if climate.key == "plot_id":
        return plots["plot_id"].to_numpy(dtype=object), "plot_id"
    ids = plots["climate_id"].astype(object) if "climate_id" in plots.columns else None
    zones = plots["climate_zone"].astype(object) if "climate_zone" in plots.columns else None
    if ids is None and zones is None:
        raise InputError("the plots have no climate_id column (nor a climate_zone) to find their climate in "
                         f"{climate.label}")
    if ids is None:
        return zones.to_numpy(dtype=object), "climate_zone"
    if zones is not None:
        # A plot without its own climate_id falls back to its climate zone's climatology.
        ids = ids.where(ids.notna() & (ids.astype(str).str.strip() != ""), zones)
    return ids.to_numpy(dtype=object), "climate_id"


def _combo_masks(combos: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean mask of the plots adopting each catalogue practice."""
    codes, uniques = pd.factorize(pd.Series(combos, dtype=object).fillna(""))
    out = {}
    for name in practice_names():
        has = np.asarray([name in str(u).split(SEPARATOR) for u in uniques], bool)  # distinct combinations
        out[name] = has[codes] if len(codes) else np.zeros(0, bool)
    return out


def _dpm_fraction(ratio: np.ndarray) -> np.ndarray:
    return ratio / (ratio + 1.0)


def project_rothc(
    plots: pd.DataFrame,
    climate: ClimateTable,
    *,
    practices: Iterable[str] = (),
    years: int = tier1.DEFAULT_YEARS,
    ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION,
    depth_cm: float = MODEL_DEPTH_CM,
    effects: pd.DataFrame | None = None,
    params: rothc.RothCParameters | None = None,
) -> RothCProjection:
    """Project each plot's 0-30 cm SOC stock under its practices with RothC-26.3.

    Parameters
    ----------
    plots : pandas.DataFrame
        One row per plot: ``plot_id``, ``land_use``, ``clay_pct`` [%, 0-30 cm mean],
        ``practices`` (``;``-separated), ``measured_stock_t_c_ha`` [t C ha-1, 0-30 cm]
        where measured, else ``climate_zone``, ``soil_class``, ``tillage`` and
        ``input_level`` for the IPCC default stock; ``input_level`` (``low`` means residues
        removed, ``high_manure`` a manured baseline); optional ``climate_id`` (else the
        ``climate_zone`` is looked up in the climate table), ``cover_months`` (e.g. ``4-9``),
        ``dpm_rpm_ratio`` [-], ``farm_id``, ``area_ha``, ``source_row``.
    climate : ClimateTable
        Monthly climatologies (:func:`fourp1000.io.climate.read_climate`), keyed by
        ``climate_id`` or by ``plot_id``.
    practices : iterable of str
        Practices applied to every plot, in addition to the ``practices`` column.
    years : int, default 20
        Projection horizon T [yr] (whole years).
    ipcc_version : {"2019", "2006"}
        IPCC tables for the default stock of plots without a measured stock.
    depth_cm : float, default 30
        Depth of the RothC layer [cm] (scales the topsoil moisture deficit only).
    effects : pandas.DataFrame, optional
        A table like :func:`practice_effects` with other amounts (sensitivity analyses,
        local data); default the shipped ``data/rothc_practices.csv``.
    params : RothCParameters, optional
        RothC coefficients (default: the shipped ones).

    Returns
    -------
    RothCProjection
        ``plots``: ``plot_id`` (``farm_id``, ``area_ha``), ``model`` (``"rothc"``),
        ``practices``, ``years``, ``baseline_source`` (``measured`` or ``ipcc_default``),
        ``baseline_stock_t_ha``, ``final_stock_t_ha``, ``annual_change_t_ha_yr`` (mean over
        the horizon), ``rate_per_mille``, ``meets_4p1000``, ``baseline_co2e_t_ha``,
        ``final_co2e_t_ha``, ``annual_change_co2e_t_ha_yr``, ``equilibrium_stock_t_ha``
        (steady state under the practices), ``plant_c_input_t_ha_yr`` (fitted baseline
        plant input), ``fym_c_input_t_ha_yr`` (baseline manure), ``added_c_input_t_ha_yr``
        (all C added by the practices) and its parts ``added_plant_c_t_ha_yr`` (including
        tree litter), ``added_fym_c_t_ha_yr``, ``tree_litter_c_t_ha_yr``; ``iom_t_c_ha``,
        ``clay_pct``, ``depth_cm``, ``climate_id``, ``evaporation_source``,
        ``cover_months``/``cover_months_new``, ``dpm_rpm_ratio``/``dpm_rpm_ratio_new``
        (input-weighted), ``land_use_new``, ``practices_without_rothc_effect``,
        ``source_row``. Stocks in t C ha-1 for 0-30 cm. ``trajectory``: yearly stocks.

    Raises
    ------
    InputError, UnknownFactorError
        Naming the row: unknown practices or classes, missing or out-of-range clay, a
        climate id not in the table, paddy plots (RothC does not apply to flooded soils),
        a stock that the baseline manure alone would exceed, a climate in which nothing
        decomposes. The error's ``rows`` lists every plot concerned.

    Notes
    -----
    4 per 1000 is met when the mean yearly change over the horizon, (S(T) - S(0)) / T, is at
    least 4 per mille of the baseline stock, as for the IPCC path. RothC approaches the new
    equilibrium exponentially (the HUM pool turns over in about 50 years), so after 20 years
    the stock is usually well short of ``equilibrium_stock_t_ha``.

    Examples
    --------
    >>> from fourp1000.io.climate import climate_from_frame
    >>> clim = climate_from_frame(pd.DataFrame({"climate_id": "x", "month": range(1, 13),
    ...     "temperature_c": 10.0, "rain_mm": 60.0, "evaporation_mm": 50.0}))
    >>> plots = pd.DataFrame({"plot_id": ["a"], "land_use": ["cropland"], "clay_pct": [20.0],
    ...     "measured_stock_t_c_ha": [40.0], "climate_id": ["x"], "input_level": ["medium"]})
    >>> r = project_rothc(plots, clim)
    >>> round(float(r.plots.final_stock_t_ha[0]), 6)
    40.0
    """
    try:
        n_years = int(years)
    except (TypeError, ValueError):
        raise InputError(f"years must be a whole number, got {years!r}") from None
    if n_years != years or n_years < 1:
        raise InputError(f"years must be a whole number >= 1, got {years!r}")
    if not float(depth_cm) > 0:
        raise InputError(f"depth_cm must be positive, got {depth_cm!r}")
    p = params if params is not None else rothc.load_parameters()
    n = len(plots)
    if n == 0:  # every plot rejected upstream: the empty table with its columns
        ids = [c for c in ("plot_id", "farm_id", "area_ha") if c in plots.columns or c == "plot_id"]
        extra = ["source_row"] if "source_row" in plots.columns else []
        return RothCProjection(pd.DataFrame(columns=ids + list(RESULT_COLUMNS) + extra),
                               pd.DataFrame(columns=["plot_id", "year", "stock_t_ha"]))

    # Practices, measured stocks and IPCC defaults: the same parsing and checks as the IPCC path.
    inp = tier1.prepare(plots, practices, ipcc_version, method="rates")
    rows = inp.source_row
    baseline = inp.baseline_stock()
    measured = np.isfinite(inp.measured_stock_t_c_ha)
    combos = inp.change.practices

    land_use = ipcc.normalise(plots["land_use"].to_numpy(dtype=object), "land_use", source_row=rows)
    lu_table = land_use_defaults()
    lu = lu_table.loc[list(land_use)] if n else lu_table.iloc[:0]
    unsupported = ~lu["supported"].to_numpy(dtype=bool)
    if unsupported.any():
        raise _plot_error("RothC-26.3 does not apply to flooded (paddy) soils{where}; project them with --model ipcc",
                          unsupported, rows, "land_use")

    clay = _float_column(plots, "clay_pct")
    bad_clay = ~((clay >= 0) & (clay <= 100))
    if bad_clay.any():
        raise _plot_error("clay_pct missing or outside 0-100 %{where}: RothC needs the 0-30 cm clay content",
                          bad_clay, rows, "clay_pct")
    no_stock = ~np.isfinite(baseline)
    if no_stock.any():
        raise _plot_error("no baseline stock{where}: give layers or the IPCC classes", no_stock, rows, None)

    # Monthly climate of each plot.
    keys, key_column = _climate_keys(plots, climate)
    index = climate.index_of(keys, source_row=rows, column=key_column)
    temperature, rain, evaporation = climate.monthly(index)
    frozen = (temperature < p.rm_temp_min_c).all(axis=0)
    if frozen.any():
        raise _plot_error("the climate{where} is below -5 °C in every month: nothing decomposes in RothC, "
                          "so no equilibrium exists", frozen, rows, key_column)

    # Baseline cycle: cover, DPM/RPM, monthly shape of the plant input, manure.
    covered, given = parse_cover_months(plots["cover_months"].to_numpy(dtype=object) if "cover_months" in plots
                                        else np.full(n, None, dtype=object), source_row=rows)
    default_cover, _ = parse_cover_months(lu["cover_months"].to_numpy(dtype=object))
    covered = np.where(given[None, :], covered, default_cover)
    weights = np.where(given[None, :], covered.astype(float), lu[list(_WEIGHT_COLUMNS)].to_numpy(dtype=float).T)
    never = weights.sum(axis=0) <= 0  # given as bare all year: inputs spread over the year
    weights[:, never] = 1.0
    ratio = _float_column(plots, "dpm_rpm_ratio")
    bad_ratio = np.isfinite(ratio) & ~(ratio > 0)
    if bad_ratio.any():
        raise _plot_error("dpm_rpm_ratio must be > 0{where}", bad_ratio, rows, "dpm_rpm_ratio")
    ratio = np.where(np.isfinite(ratio), ratio, lu["dpm_rpm_ratio"].to_numpy(dtype=float))
    input_level = (ipcc.normalise(plots["input_level"].to_numpy(dtype=object), "input_level", source_row=rows,
                                  allow_missing=True) if "input_level" in plots else np.full(n, None, dtype=object))
    effects = practice_effects() if effects is None else _checked_effects(effects, "effects", InputError)
    # A manured baseline (input_level high_manure) gets the manure practice's FYM in its cycle.
    fym_rows = effects.loc[(effects["practice"] == "manure") & (effects["effect"] == "fym_c_t_ha_yr"), "value"]
    manure_rate = float(fym_rows.iloc[0]) if len(fym_rows) else 0.0
    fym_base_yr = np.where(input_level == "high_manure", manure_rate, 0.0)
    fym_base = np.broadcast_to(fym_base_yr / MONTHS, (MONTHS, n))

    cycle = rothc.MonthlyInputs(temperature_c=temperature, rain_mm=rain, evaporation_mm=evaporation,
                                plant_c_t_ha=weights, fym_c_t_ha=fym_base, covered=covered,
                                dpm_rpm_ratio=ratio[None, :])
    fit = rothc.fit_plant_input(cycle, clay, depth_cm, baseline, strict=False, params=p)
    unreachable = ~np.isfinite(fit.plant_c_t_ha_yr)
    if unreachable.any():
        raise _plot_error("the baseline stock{where} is below what the baseline manure alone sustains in RothC "
                          "(inert organic matter plus the manure equilibrium); check input_level and the stock",
                          unreachable, rows, "input_level")
    base_plant = np.asarray(fit.inputs.plant_c_t_ha, dtype=float)  # (12, n) t C/ha per month

    # Practices: extra input streams, cover, manure, ratio.
    masks = _combo_masks(combos)
    fallow = ~covered
    has_fallow = fallow.any(axis=0)
    month_weights = {
        "fallow": np.where(has_fallow[None, :], fallow / np.maximum(fallow.sum(axis=0), 1), 1.0 / MONTHS),
        "all": np.full((MONTHS, n), 1.0 / MONTHS),
    }
    main_ratio = ratio.copy()
    extra_plant = np.zeros((MONTHS, n))
    extra_dpm = np.zeros((MONTHS, n))
    cover_new = covered.copy()
    fym_new = np.array(fym_base, dtype=float)
    tree_factor = np.ones(n)
    tree_ratio = p.dpm_rpm_woodland
    no_effect = {name: np.zeros(n, bool) for name in practice_names()}
    for _, eff in effects.iterrows():  # a dozen catalogue rows, each vectorised over plots
        name, kind = eff["practice"], eff["effect"]
        adopted = masks[name]
        if not adopted.any():
            continue
        applies = adopted.copy()
        if pd.notna(eff["applies_when"]):
            _, op, value = _condition(eff["applies_when"])
            match = input_level == value
            applies &= ~match if op == "!=" else match
        no_effect[name] |= adopted & ~applies
        if kind == "none":
            no_effect[name] |= adopted
            continue
        rule = eff["months"] if pd.notna(eff["months"]) else "all"
        sel = applies[None, :]
        eff_ratio = float(eff["dpm_rpm_ratio"]) if pd.notna(eff["dpm_rpm_ratio"]) else None
        if kind in ("plant_input_fraction", "plant_input_t_c_ha_yr"):
            if kind == "plant_input_fraction":
                added = float(eff["value"]) * base_plant
            else:
                added = float(eff["value"]) * (base_plant / fit.plant_c_t_ha_yr if rule == "baseline"
                                               else month_weights[rule])
            added = np.where(sel, added, 0.0)
            r = main_ratio if eff_ratio is None else eff_ratio
            extra_plant += added
            extra_dpm += added * _dpm_fraction(np.asarray(r, dtype=float))
        elif kind == "fym_c_t_ha_yr":
            fym_new += np.where(sel, float(eff["value"]) * month_weights[rule if rule != "baseline" else "all"], 0.0)
        elif kind == "cover":
            cover_new |= sel & (month_weights[rule] > 0)
        elif kind == "dpm_rpm_ratio":
            main_ratio = np.where(applies, float(eff["value"]), main_ratio)
        elif kind == "tree_litter_equilibrium":
            rows_in_table = inp.change.multiplier_index.get(name)
            values = multiplier_table().value
            factor = (np.where(rows_in_table >= 0, values[np.maximum(rows_in_table, 0)], 1.0)
                      if rows_in_table is not None else np.ones(n))
            tree_factor = np.where(applies, factor, tree_factor)
            tree_ratio = eff_ratio if eff_ratio is not None else p.dpm_rpm_woodland

    def cycle_with(plant: np.ndarray, dpm: np.ndarray) -> rothc.MonthlyInputs:
        rpm = plant - dpm
        month_ratio = np.where(plant > 0, dpm / np.where(rpm > 0, rpm, 1.0), main_ratio[None, :])
        return rothc.MonthlyInputs(temperature_c=temperature, rain_mm=rain, evaporation_mm=evaporation,
                                   plant_c_t_ha=plant, fym_c_t_ha=fym_new, covered=cover_new,
                                   dpm_rpm_ratio=month_ratio)

    plant_new = base_plant + extra_plant
    dpm_new = base_plant * _dpm_fraction(main_ratio)[None, :] + extra_dpm
    tree_yr = np.zeros(n)
    trees = tree_factor != 1.0
    if trees.any():
        # Tree litter T raises the equilibrium by (factor - 1) x the equilibrium without trees;
        # the equilibrium is affine in the input, so T = that rise / (equilibrium per unit T).
        sub = np.flatnonzero(trees)
        no_tree = rothc.spinup(_take(cycle_with(plant_new, dpm_new), sub), clay[sub], depth_cm,
                               fit.iom_t_c_ha[sub], params=p).state.soc_t_c_ha
        unit = rothc.MonthlyInputs(temperature_c=temperature[:, sub], rain_mm=rain[:, sub],
                                   evaporation_mm=evaporation[:, sub], plant_c_t_ha=1.0 / MONTHS, fym_c_t_ha=0.0,
                                   covered=cover_new[:, sub], dpm_rpm_ratio=tree_ratio)
        per_unit = rothc.spinup(unit, clay[sub], depth_cm, 0.0, params=p).state.active_t_c_ha
        tree_yr[sub] = (tree_factor[sub] - 1.0) * no_tree / per_unit
        tree_month = np.zeros((MONTHS, n))
        tree_month[:, sub] = tree_yr[sub] / MONTHS
        plant_new = plant_new + tree_month
        dpm_new = dpm_new + tree_month * _dpm_fraction(np.asarray(tree_ratio))
    final_cycle = cycle_with(plant_new, dpm_new)

    run = rothc.run(final_cycle, clay, depth_cm, fit.spinup.state, n_months=MONTHS * n_years, record="yearly",
                    variables=("soc_t_c_ha",), params=p)
    stock_years = run.outputs["soc_t_c_ha"]  # (years, n), end of each December
    equilibrium = rothc.spinup(final_cycle, clay, depth_cm, fit.iom_t_c_ha, params=p).state.soc_t_c_ha

    final = stock_years[-1]
    added_plant = plant_new.sum(axis=0) - base_plant.sum(axis=0)
    added_fym = fym_new.sum(axis=0) - fym_base.sum(axis=0)

    out = pd.DataFrame({"plot_id": plots["plot_id"].to_numpy()})
    for col in ("farm_id", "area_ha"):
        if col in plots.columns:
            out[col] = plots[col].to_numpy()
    out["model"] = MODEL
    out["practices"] = combos
    out["years"] = float(n_years)
    out["baseline_source"] = np.where(measured, "measured", "ipcc_default")
    for name, values in change_columns(baseline, final, n_years).items():
        out[name] = values
    out["equilibrium_stock_t_ha"] = equilibrium
    out["plant_c_input_t_ha_yr"] = fit.plant_c_t_ha_yr
    out["fym_c_input_t_ha_yr"] = fym_base_yr
    out["added_c_input_t_ha_yr"] = added_plant + added_fym
    out["added_plant_c_t_ha_yr"] = added_plant
    out["added_fym_c_t_ha_yr"] = added_fym
    out["tree_litter_c_t_ha_yr"] = tree_yr
    out["iom_t_c_ha"] = fit.iom_t_c_ha
    out["clay_pct"] = clay
    out["depth_cm"] = float(depth_cm)
    out["climate_id"] = climate.ids[index]
    out["evaporation_source"] = climate.evaporation_source[index]
    out["land_use_new"] = inp.change.land_use
    out["cover_months"] = format_cover_months(covered)
    out["cover_months_new"] = format_cover_months(cover_new)
    out["dpm_rpm_ratio"] = ratio
    total_new = plant_new.sum(axis=0)
    dpm_total = dpm_new.sum(axis=0)
    out["dpm_rpm_ratio_new"] = np.where(total_new > dpm_total, dpm_total / np.maximum(total_new - dpm_total, 1e-300),
                                        main_ratio)
    names = np.asarray(practice_names(), dtype=object)
    bits = sum(no_effect[name].astype(np.int64) << j for j, name in enumerate(names))
    codes, uniques = pd.factorize(bits)
    labels = [SEPARATOR.join(names[[(int(u) >> j) & 1 == 1 for j in range(len(names))]]) for u in uniques]
    out["practices_without_rothc_effect"] = np.asarray(labels, dtype=object)[codes]  # distinct patterns only
    if rows is not None:
        out["source_row"] = rows

    years_axis = np.arange(n_years + 1)
    stocks = np.vstack([baseline[None, :], stock_years])  # (years + 1, n)
    trajectory = pd.DataFrame({
        "plot_id": np.repeat(out["plot_id"].to_numpy(), years_axis.size),
        "year": np.tile(years_axis, n),
        "stock_t_ha": stocks.T.ravel(),
    })
    return RothCProjection(out, trajectory)


def _take(inputs: rothc.MonthlyInputs, index: np.ndarray) -> rothc.MonthlyInputs:
    """The same cycle for a subset of plots (fields of shape (12, n) or (12, 1) or scalars)."""
    def pick(value):
        arr = np.asarray(value)
        return arr[..., index] if arr.ndim == 2 and arr.shape[-1] > 1 else arr
    return rothc.MonthlyInputs(**{f: pick(getattr(inputs, f)) for f in
                                  ("temperature_c", "rain_mm", "evaporation_mm", "plant_c_t_ha", "fym_c_t_ha",
                                   "covered", "dpm_rpm_ratio", "modern_c_pct")})


def method_statement(years: int, depth_cm: float = MODEL_DEPTH_CM) -> str:
    """One line describing the RothC projection, for the CLI's ``Method:`` lines."""
    return (f"RothC-26.3: measured 0-30 cm stock (else the IPCC default) taken as the equilibrium of the baseline "
            f"cycle; plant C input fitted to it (inverse mode, IOM by Falloon et al. 1998); practices change the "
            f"inputs and cover (data/rothc_practices.csv); monthly climatology repeated; layer depth {depth_cm:g} cm; "
            f"horizon {years} yr; 4 per 1000 met when the mean yearly change >= 4 per mille of the baseline")


__all__ = ["project_rothc", "RothCProjection", "land_use_defaults", "practice_effects", "parse_cover_months",
           "format_cover_months", "method_statement", "MODEL", "MODEL_DEPTH_CM", "RESULT_COLUMNS"]
