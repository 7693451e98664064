"""RothC-26.3 inputs of each plot: the baseline cycle, its equilibrium fit, and the practices' inputs.

The steps of :func:`fourp1000.projection.rothc.project_rothc` before the forward run, each
vectorised over plots (arrays of shape ``(12, n_plots)``):

1. :func:`plot_drivers`: climate, soil cover, DPM/RPM ratio and the monthly shape of the
   plant input of each plot, with every plot RothC cannot run named (errors with ``rows``);
2. :func:`fit_baseline`: the baseline stock taken as the equilibrium of the baseline cycle
   (inverse mode, :func:`fourp1000.rothc.fit_plant_input`);
3. :func:`practice_inputs`: the practices' effects (``data/rothc_practices.csv``) as extra
   monthly plant C and manure, cover and DPM/RPM changes;
4. :func:`changed_cycle`: the cycle under the practices, tree litter included.

References
----------
.. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of carbon
   in soil. NATO ASI Series I 38, Springer, 237-246. :doi:`10.1007/978-3-642-61094-3_17`
.. [2] FAO (2020). GSOCseq - Technical manual (RothC initialisation, DPM/RPM by land cover,
   cover), FAO-SID/GSOCseq.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import ipcc
from .. import rothc
from ..errors import FourP1000Error, InputError
from ..io.climate import ClimateTable
from ..tables import read_csv_table
from ..practices import SEPARATOR, ManagementChange, multiplier_table, practice_names

MONTHS = 12
#: Columns of the land-use table giving the relative plant C input of each month.
WEIGHT_COLUMNS = tuple(f"input_weight_{m:02d}" for m in range(1, MONTHS + 1))


def plot_error(message: str, bad: np.ndarray, rows: np.ndarray | None, column: str | None) -> InputError:
    """An error naming the first bad plot's row in ``message`` (``{where}``); ``rows`` lists them all."""
    positions = np.flatnonzero(bad)
    first = positions[0]
    where = f" in row {int(rows[first])}" if rows is not None else f" (plot {int(first)})"
    more = f" (and {positions.size - 1} more plots)" if positions.size > 1 else ""
    return InputError(message.format(where=where + more), column=column,
                      rows=None if rows is None else rows[positions])


def parse_condition(text: str) -> tuple[str, str, str] | None:
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
    if not arr.notna().any():  # no plot gives its cover (as without the column)
        return np.zeros((MONTHS, len(arr)), bool), np.zeros(len(arr), bool)
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
        raise InputError(f"cannot read {column} {text.iloc[first]!r}{where}: give months 1-12 as ranges or lists, "
                         "e.g. 4-9, 10-7 (October to July), 1;2;3, all or none",
                         column=column, rows=None if rows is None else rows[bad])
    index = np.where(codes < 0, len(uniques), codes)
    return masks[:, index], codes >= 0


def format_cover_months(covered: np.ndarray) -> np.ndarray:
    """Month specifications (``"4-9"``, ``"1-3;10-12"``, ``"1-12"``, ``"none"``) of (12, n) masks."""
    codes, labels = cover_month_patterns(covered)
    return labels[codes]


def cover_month_patterns(covered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`format_cover_months` as codes (n,) into the distinct specifications (object array)."""
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
    return codes, np.asarray(out, dtype=object)


# --------------------------------------------------------------------------------------
# Baseline drivers and equilibrium fit
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlotDrivers:
    """Baseline RothC drivers of each plot (monthly arrays of shape (12, n)).

    Attributes
    ----------
    land_use : pandas.DataFrame
        The land-use defaults row of each plot (``data/rothc_land_use.csv``; :func:`land_use_rows`).
    clay_pct : numpy.ndarray [%]
    baseline_t_c_ha : numpy.ndarray [t C ha-1]
        The stock taken as the equilibrium of the baseline cycle.
    climate_index : numpy.ndarray of int
        Position of each plot's climatology in the climate table.
    temperature_c, rain_mm, evaporation_mm : numpy.ndarray [°C, mm, mm]
    covered : numpy.ndarray of bool
    weights : numpy.ndarray
        Relative plant C input of each month.
    dpm_rpm_ratio : numpy.ndarray [-]
    input_level : numpy.ndarray of object
        Canonical baseline input level (None where not given).
    """

    land_use: pd.DataFrame
    clay_pct: np.ndarray
    baseline_t_c_ha: np.ndarray
    climate_index: np.ndarray
    temperature_c: np.ndarray
    rain_mm: np.ndarray
    evaporation_mm: np.ndarray
    covered: np.ndarray
    weights: np.ndarray
    dpm_rpm_ratio: np.ndarray
    input_level: np.ndarray

    def take(self, index: np.ndarray) -> PlotDrivers:
        """The drivers of the plots at positions ``index`` (a plot may repeat)."""
        return PlotDrivers(self.land_use.iloc[index], *(np.take(getattr(self, name), index, axis=-1) for name in (
            "clay_pct", "baseline_t_c_ha", "climate_index", "temperature_c", "rain_mm", "evaporation_mm", "covered",
            "weights", "dpm_rpm_ratio", "input_level")))


def float_column(plots: pd.DataFrame, name: str) -> np.ndarray:
    """A numeric plot column (NaN where missing or not a number, all NaN if absent)."""
    if name not in plots.columns:
        return np.full(len(plots), np.nan)
    return pd.to_numeric(plots[name], errors="coerce").to_numpy(dtype=float)


def climate_keys(plots: pd.DataFrame, climate: ClimateTable) -> tuple[np.ndarray, str]:
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


def _rows_mask(error: FourP1000Error, rows: np.ndarray | None) -> np.ndarray:
    """Plots named by an error with rows; re-raised when it names none (it concerns every plot)."""
    if error.rows is None or rows is None:
        raise error
    return np.isin(rows, error.rows)


def _climate_index(plots: pd.DataFrame, climate: ClimateTable, rows: np.ndarray | None,
                   errors: list[FourP1000Error]) -> tuple[np.ndarray, np.ndarray]:
    """Position of each plot's climatology (0 where unknown) and a mask of the known ones."""
    keys, key_column = climate_keys(plots, climate)
    found = np.ones(len(plots), bool)
    try:
        return climate.index_of(keys, source_row=rows, column=key_column), found
    except FourP1000Error as exc:
        errors.append(exc)
        found = ~_rows_mask(exc, rows)
    index = np.zeros(len(plots), dtype=np.int64)
    index[found] = climate.index_of(keys[found], source_row=rows[found], column=key_column)
    return index, found


def _cover(plots: pd.DataFrame, rows: np.ndarray | None, errors: list[FourP1000Error]) -> tuple[np.ndarray, np.ndarray]:
    """Cover months given per plot (``cover_months``); unreadable ones are reported and not given."""
    values = (plots["cover_months"].to_numpy(dtype=object) if "cover_months" in plots
              else np.full(len(plots), None, dtype=object))
    try:
        return parse_cover_months(values, source_row=rows)
    except FourP1000Error as exc:
        errors.append(exc)
        return parse_cover_months(np.where(_rows_mask(exc, rows), None, values), source_row=rows)


def land_use_rows(land_use_table: pd.DataFrame, land_use: np.ndarray) -> pd.DataFrame:
    """The land-use defaults row of each plot: ``position`` in the table and the columns
    the model reads (``supported``, ``dpm_rpm_ratio``, ``cover_months``, the input weights).

    Taken by position from a handful of columns (for 100,000 plots a label lookup of the
    whole table, text columns included, costs a third of a second).
    """
    position = land_use_table.index.get_indexer(pd.Index(land_use, dtype=object))
    if (position < 0).any():
        raise KeyError(f"land uses not in the RothC table: {sorted(set(land_use[position < 0]))}")
    out = {"position": position}
    for col in ("supported", "dpm_rpm_ratio", "cover_months", *WEIGHT_COLUMNS):
        out[col] = land_use_table[col].to_numpy()[position]
    return pd.DataFrame(out, index=pd.Index(land_use, name=land_use_table.index.name))


def plot_drivers(plots: pd.DataFrame, climate: ClimateTable, land_use_table: pd.DataFrame,
                 baseline_t_c_ha: np.ndarray, rows: np.ndarray | None, params: rothc.RothCParameters
                 ) -> tuple[PlotDrivers, list[FourP1000Error]]:
    """Baseline drivers of each plot, and every reason RothC cannot run a plot.

    Returns
    -------
    drivers : PlotDrivers
        Values of plots named by an error are placeholders.
    errors : list of FourP1000Error
        In check order, each naming all its rows: paddy land use, clay missing or outside
        0-100 %, no baseline stock, climate not in the table, a climate below -5 °C all
        year, unreadable cover months, a DPM/RPM ratio <= 0.

    Raises
    ------
    InputError
        A problem of the whole table (no column to find the climate by).
    """
    n = len(plots)
    errors: list[FourP1000Error] = []
    land_use = ipcc.normalise(plots["land_use"].to_numpy(dtype=object), "land_use", source_row=rows)
    lu = land_use_rows(land_use_table, land_use)
    unsupported = ~lu["supported"].to_numpy(dtype=bool)
    if unsupported.any():
        errors.append(plot_error("RothC-26.3 does not apply to flooded (paddy) soils{where}; project them with "
                                 "--model ipcc", unsupported, rows, "land_use"))
    clay = float_column(plots, "clay_pct")
    bad_clay = ~((clay >= 0) & (clay <= 100))
    if bad_clay.any():
        errors.append(plot_error("clay_pct missing or outside 0-100 %{where}: RothC needs the 0-30 cm clay content",
                                 bad_clay, rows, "clay_pct"))
    no_stock = ~np.isfinite(baseline_t_c_ha)
    if no_stock.any():
        errors.append(plot_error("no baseline stock{where}: give layers or the IPCC classes", no_stock, rows, None))
    index, found = _climate_index(plots, climate, rows, errors)
    temperature, rain, evaporation = climate.monthly(index)
    frozen = (temperature < params.rm_temp_min_c).all(axis=0) & found
    if frozen.any():
        errors.append(plot_error("the climate{where} is below -5 °C in every month: nothing decomposes in RothC, "
                                 "so no equilibrium exists", frozen, rows, climate_keys(plots, climate)[1]))
    covered, given = _cover(plots, rows, errors)
    by_land_use = parse_cover_months(land_use_table["cover_months"].to_numpy(dtype=object))[0]
    covered = np.where(given[None, :], covered, np.take(by_land_use, lu["position"].to_numpy(), axis=1))
    default_weights = np.ascontiguousarray(lu[list(WEIGHT_COLUMNS)].to_numpy(dtype=float).T)  # (12, n), row-major
    weights = np.where(given[None, :], covered.astype(float), default_weights)
    weights[:, weights.sum(axis=0) <= 0] = 1.0  # given as bare all year: inputs spread over the year
    ratio = float_column(plots, "dpm_rpm_ratio")
    bad_ratio = np.isfinite(ratio) & ~(ratio > 0)
    if bad_ratio.any():
        errors.append(plot_error("dpm_rpm_ratio must be > 0{where}", bad_ratio, rows, "dpm_rpm_ratio"))
    ratio = np.where(np.isfinite(ratio), ratio, lu["dpm_rpm_ratio"].to_numpy(dtype=float))
    input_level = (ipcc.normalise(plots["input_level"].to_numpy(dtype=object), "input_level", source_row=rows,
                                  allow_missing=True) if "input_level" in plots else np.full(n, None, dtype=object))
    drivers = PlotDrivers(lu, clay, baseline_t_c_ha, index, temperature, rain, evaporation, covered, weights, ratio,
                          input_level)
    return drivers, errors


@dataclass(frozen=True)
class BaselineFit:
    """The baseline cycle of each plot with the plant input that keeps its stock at equilibrium.

    Attributes
    ----------
    fit : fourp1000.rothc.EquilibriumFit
        NaN plant input and pools where no plant input reaches the stock (``unreachable``).
    fym_t_c_ha_yr : numpy.ndarray [t C ha-1 yr-1]
        Baseline farmyard manure (``high_manure`` plots).
    fym_t_c_ha : numpy.ndarray (12, n) [t C ha-1 per month]
    plant_t_c_ha : numpy.ndarray (12, n) [t C ha-1 per month]
        Fitted baseline plant input.
    unreachable : numpy.ndarray of bool
        Plots whose stock is below what the baseline manure alone sustains.
    """

    fit: rothc.EquilibriumFit
    fym_t_c_ha_yr: np.ndarray
    fym_t_c_ha: np.ndarray
    plant_t_c_ha: np.ndarray
    unreachable: np.ndarray

    def take(self, index: np.ndarray) -> BaselineFit:
        """The fits of the plots at positions ``index`` (a plot may repeat): each plot's fit
        is its own (plots are independent), whatever the other plots fitted with it."""
        n = self.unreachable.size

        def pick(values):  # arrays with a value per plot on their last axis; others as they are
            arr = np.asarray(values)
            return np.take(arr, index, axis=-1) if arr.ndim and arr.shape[-1] == n else arr

        fit, state = self.fit, self.fit.spinup.state
        inputs = rothc.MonthlyInputs(**{name: pick(getattr(fit.inputs, name)) for name in (
            "temperature_c", "rain_mm", "evaporation_mm", "plant_c_t_ha", "fym_c_t_ha", "covered", "dpm_rpm_ratio",
            "modern_c_pct")})
        start = rothc.RothCState(pick(state.pools_t_c_ha), pick(state.iom_t_c_ha), pick(state.smd_mm),
                                 None if state.c14_activity_t_c_ha is None else pick(state.c14_activity_t_c_ha))
        taken = rothc.EquilibriumFit(pick(fit.plant_c_t_ha_yr), inputs,
                                     rothc.Spinup(start, pick(fit.spinup.n_months), fit.spinup.method),
                                     pick(fit.iom_t_c_ha))
        return BaselineFit(taken, pick(self.fym_t_c_ha_yr), pick(self.fym_t_c_ha), pick(self.plant_t_c_ha),
                           pick(self.unreachable))


def fit_baseline(drivers: PlotDrivers, effects: pd.DataFrame, depth_cm: float,
                 params: rothc.RothCParameters, kernel: str = "auto") -> BaselineFit:
    """Fit each plot's baseline plant input to its stock (inverse mode, IOM by Falloon et al. 1998).

    A manured baseline (``input_level`` ``high_manure``) gets the manure practice's FYM in
    its cycle. ``kernel``: that of :func:`fourp1000.rothc.fit_plant_input`.
    """
    n = drivers.clay_pct.size
    fym_rows = effects.loc[(effects["practice"] == "manure") & (effects["effect"] == "fym_c_t_ha_yr"), "value"]
    manure_rate = float(fym_rows.iloc[0]) if len(fym_rows) else 0.0
    fym_base_yr = np.where(drivers.input_level == "high_manure", manure_rate, 0.0)
    fym_base = np.broadcast_to(fym_base_yr / MONTHS, (MONTHS, n))
    # the cycle reads the same manure every month: one row (period 1), not 12 copies
    cycle = rothc.MonthlyInputs(temperature_c=drivers.temperature_c, rain_mm=drivers.rain_mm,
                                evaporation_mm=drivers.evaporation_mm, plant_c_t_ha=drivers.weights,
                                fym_c_t_ha=fym_base[:1], covered=drivers.covered,
                                dpm_rpm_ratio=drivers.dpm_rpm_ratio[None, :])
    fit = rothc.fit_plant_input(cycle, drivers.clay_pct, depth_cm, drivers.baseline_t_c_ha, strict=False,
                                params=params, kernel=kernel)
    return BaselineFit(fit, fym_base_yr, fym_base, np.asarray(fit.inputs.plant_c_t_ha, dtype=float),
                       ~np.isfinite(fit.plant_c_t_ha_yr))


# --------------------------------------------------------------------------------------
# Practices
# --------------------------------------------------------------------------------------


@dataclass
class PracticeInputs:
    """How the practices change each plot's cycle (monthly arrays of shape (12, n)).

    Attributes
    ----------
    dpm_rpm_ratio : numpy.ndarray [-]
        Ratio of the baseline plant input after the practices.
    extra_plant_t_c_ha, extra_dpm_t_c_ha : numpy.ndarray [t C ha-1 per month]
        Added plant C and its DPM part.
    covered : numpy.ndarray of bool
    fym_t_c_ha : numpy.ndarray [t C ha-1 per month]
        Manure, baseline included.
    tree_factor : numpy.ndarray [-]
        Agroforestry factor on the equilibrium (1 without trees).
    tree_dpm_rpm_ratio : float [-]
    no_effect : dict of str to numpy.ndarray of bool
        Plots where a practice they adopt changes nothing in RothC.
    """

    dpm_rpm_ratio: np.ndarray
    extra_plant_t_c_ha: np.ndarray
    extra_dpm_t_c_ha: np.ndarray
    covered: np.ndarray
    fym_t_c_ha: np.ndarray
    tree_factor: np.ndarray
    tree_dpm_rpm_ratio: float
    no_effect: dict[str, np.ndarray]


def adoption_masks(combos: np.ndarray) -> dict[str, np.ndarray]:
    """Boolean mask of the plots adopting each catalogue practice."""
    codes, uniques = pd.factorize(pd.Series(combos, dtype=object).fillna(""))
    out = {}
    for name in practice_names():
        has = np.asarray([name in str(u).split(SEPARATOR) for u in uniques], bool)  # distinct combinations
        out[name] = has[codes] if len(codes) else np.zeros(0, bool)
    return out


def dpm_fraction(ratio: np.ndarray) -> np.ndarray:
    """DPM share of plant material with a DPM/RPM ratio [-]."""
    return ratio / (ratio + 1.0)


def inner_fallow(covered: np.ndarray) -> np.ndarray:
    """Bare months of a cycle less the first and last month of each bare spell, (12, n) bool.

    A cover crop sown in the first bare month after harvest has no canopy yet, and it is
    destroyed in the last bare month before the next crop is sown (seedbed preparation):
    only the months in between are covered by it. Spells of one or two months have no
    inner months; a plot bare all year keeps every month.
    """
    fallow = ~np.asarray(covered, bool)
    prev_bare = np.roll(fallow, 1, axis=0)   # the cycle repeats: December precedes January
    next_bare = np.roll(fallow, -1, axis=0)
    inner = fallow & prev_bare & next_bare
    return np.where(fallow.all(axis=0)[None, :], fallow, inner)


#: Mean monthly air temperature [°C] from which a cover crop is taken to grow and cover the
#: soil: the usual threshold of the thermal growing season (an assumption, documented in
#: docs/rothc-projection.md).
GROWING_MONTH_MIN_C = 5.0


def _share(mask: np.ndarray, fallback: np.ndarray) -> np.ndarray:
    """Even shares over the months of ``mask``; ``fallback`` for plots without any."""
    counts = np.count_nonzero(mask, axis=0)
    # mask x (1 / count) is exactly mask / count (mask is 0 or 1); one (12, n) array, not two
    share = mask * (1.0 / np.maximum(counts, 1))
    none = counts == 0
    if none.any():
        share[:, none] = fallback[:, none]
    return share


def _month_weights(rule: str, covered: np.ndarray, temperature_c: np.ndarray) -> np.ndarray:
    """Share of a yearly amount in each month under a month rule, (12, n).

    ``fallow``: the bare months (else evenly); ``fallow_inner``: the inner bare months
    (:func:`inner_fallow`; else as ``fallow``); ``fallow_growing``: the inner bare months
    warm enough for a cover crop to grow (mean >= :data:`GROWING_MONTH_MIN_C`; none may
    qualify, then the shares are all 0); ``all``: evenly. Each plot's shares depend on its
    own months only.
    """
    even = np.full(covered.shape, 1.0 / MONTHS)
    if rule == "all":
        return even
    if rule == "fallow_growing":
        growing = inner_fallow(covered) & (np.asarray(temperature_c, float) >= GROWING_MONTH_MIN_C)
        return _share(growing, np.zeros(covered.shape))
    by_fallow = _share(~covered, even)
    if rule == "fallow":
        return by_fallow
    if rule == "fallow_inner":
        return _share(inner_fallow(covered), by_fallow)
    raise KeyError(rule)


COVER_CROP_FILE = "cover_crop_c_input.csv"
DAYS_PER_MONTH = 365.25 / MONTHS


@functools.lru_cache(maxsize=1)
def cover_crop_parameters() -> dict[str, float]:
    """The biomass basis of a cover crop's C input (``data/cover_crop_c_input.csv``).

    Keys: ``shoot_c_180_days`` and ``shoot_c_240_days`` [t C ha-1] (above-ground C of a
    stand of 180 and 240 days, Seitz et al. 2022), ``shoot_root_ratio`` [-],
    ``root_exudate_factor`` [-], ``stand_days_lost_per_spell`` [d].
    """
    table = read_csv_table(COVER_CROP_FILE, required=("parameter", "value", "status", "source"))
    return dict(zip(table["parameter"], table["value"].astype(float)))


def _spell_lengths(mask: int) -> list[int]:
    """Lengths [months] of the bare spells of one 12-bit cover pattern (bit m: month m+1 covered)."""
    bare = [not (mask >> m) & 1 for m in range(MONTHS)]
    if all(bare):
        return [MONTHS]
    start = next(m for m in range(MONTHS) if not bare[m])  # a covered month: spells never wrap past it
    lengths, run = [], 0
    for k in range(1, MONTHS + 1):
        if bare[(start + k) % MONTHS]:
            run += 1
        elif run:
            lengths.append(run)
            run = 0
    return lengths + ([run] if run else [])


def cover_crop_c_input(covered: np.ndarray, params: dict[str, float] | None = None) -> np.ndarray:
    """Yearly C input of a winter cover crop grown in each bare spell of the cycle [t C ha-1 yr-1].

    Each bare spell of the baseline cycle (between a harvest and the next sowing) hosts one
    cover crop, standing the spell less ``stand_days_lost_per_spell`` (sown mid-month after
    the harvest, destroyed mid-month before the sowing). Its above-ground C grows linearly
    with the stand duration through Seitz et al.'s (2022) figures, 0 at 0 days, 1.253 t C
    ha-1 at 180 and 1.916 at 240 days (no more beyond); roots are shoot / 3.67 and exudates
    0.31 x roots (``data/cover_crop_c_input.csv``).

    Parameters
    ----------
    covered : numpy.ndarray of bool, shape (12, n)
        Baseline soil cover by month.
    params : dict, optional
        The figures of :func:`cover_crop_parameters` (default: the shipped ones).

    Returns
    -------
    numpy.ndarray, shape (n,) [t C ha-1 yr-1]

    Examples
    --------
    >>> cov, _ = parse_cover_months(["4-9", "5-8", "1-12"])
    >>> cover_crop_c_input(cov).round(3).tolist()  # 152, 213 and 0 days of stand
    [1.438, 2.196, 0.0]
    """
    p = cover_crop_parameters() if params is None else params
    days = np.array([0.0, 180.0, 240.0])
    shoot = np.array([0.0, p["shoot_c_180_days"], p["shoot_c_240_days"]])
    whole_plant = 1.0 + (1.0 + p["root_exudate_factor"]) / p["shoot_root_ratio"]
    bits = (np.asarray(covered, bool).astype(np.int64) << np.arange(MONTHS)[:, None]).sum(axis=0)
    codes, uniques = pd.factorize(bits)
    per_pattern = np.zeros(len(uniques))
    for u, mask in enumerate(uniques):  # distinct cover patterns, not plots
        stands = [max(n * DAYS_PER_MONTH - p["stand_days_lost_per_spell"], 0.0) for n in _spell_lengths(int(mask))]
        per_pattern[u] = sum(float(np.interp(d, days, shoot)) for d in stands) * whole_plant
    return per_pattern[codes] if len(codes) else np.zeros(0)


def _applies(effect: Mapping, adopted: np.ndarray, input_level: np.ndarray) -> np.ndarray:
    """Plots adopting the practice where the effect's ``applies_when`` condition holds."""
    if pd.isna(effect["applies_when"]):
        return adopted.copy()
    _, op, value = parse_condition(effect["applies_when"])
    match = input_level == value
    return adopted & (~match if op == "!=" else match)


def practice_inputs(effects: pd.DataFrame, change: ManagementChange, drivers: PlotDrivers, base: BaselineFit,
                    params: rothc.RothCParameters) -> PracticeInputs:
    """Apply each practice effect of ``effects`` to the plots adopting it (effects add up).

    Each effect is computed on the plots it applies to only (their columns of the (12, n)
    arrays): a plot's inputs depend on its own drivers, and the others' are left as they are
    (where adding 0 would leave them).
    """
    n = drivers.clay_pct.size
    masks = adoption_masks(change.credited)
    out = PracticeInputs(drivers.dpm_rpm_ratio.copy(), np.zeros((MONTHS, n)), np.zeros((MONTHS, n)),
                         drivers.covered.copy(), np.array(base.fym_t_c_ha, dtype=float, order="C"), np.ones(n),
                         params.dpm_rpm_woodland, {name: np.zeros(n, bool) for name in practice_names()})
    for eff in effects.to_dict("records"):  # a dozen catalogue rows, each vectorised over plots
        name, kind = eff["practice"], eff["effect"]
        adopted = masks[name]
        if not adopted.any():
            continue
        applies = _applies(eff, adopted, drivers.input_level)
        out.no_effect[name] |= adopted & ~applies
        if kind == "none":
            out.no_effect[name] |= adopted
            continue
        idx = np.flatnonzero(applies)
        if kind == "tree_litter_equilibrium":
            _tree_litter(out, eff, name, applies, change, params)
        elif idx.size:
            _apply_effect(out, eff, name, idx, drivers, base)
    return out


def _apply_effect(out: PracticeInputs, eff: dict, name: str, idx: np.ndarray, drivers: PlotDrivers,
                  base: BaselineFit) -> None:
    """One effect (not tree litter) on the plots ``idx`` it applies to, in place."""
    kind = eff["effect"]
    rule = eff["months"] if pd.notna(eff["months"]) else "all"

    def weights(rule: str) -> np.ndarray:
        return _month_weights(rule, drivers.covered[:, idx], drivers.temperature_c[:, idx])

    if kind in ("plant_input_fraction", "plant_input_t_c_ha_yr", "plant_input_cover_crop"):
        if kind == "plant_input_fraction":
            added = float(eff["value"]) * base.plant_t_c_ha[:, idx]
        elif kind == "plant_input_cover_crop":
            per_year = cover_crop_c_input(drivers.covered[:, idx])
            out.no_effect[name][idx] |= ~(per_year > 0)  # covered all year: no window to grow in
            added = per_year[None, :] * weights(rule)
        else:
            added = float(eff["value"]) * (base.plant_t_c_ha[:, idx] / base.fit.plant_c_t_ha_yr[idx]
                                           if rule == "baseline" else weights(rule))
        r = out.dpm_rpm_ratio[idx] if pd.isna(eff["dpm_rpm_ratio"]) else float(eff["dpm_rpm_ratio"])
        out.extra_plant_t_c_ha[:, idx] += added
        out.extra_dpm_t_c_ha[:, idx] += added * dpm_fraction(np.asarray(r, dtype=float))
    elif kind == "fym_c_t_ha_yr":
        out.fym_t_c_ha[:, idx] += float(eff["value"]) * weights(rule if rule != "baseline" else "all")
    elif kind == "cover":
        out.covered[:, idx] |= weights(rule) > 0
    elif kind == "dpm_rpm_ratio":
        out.dpm_rpm_ratio[idx] = float(eff["value"])


def _tree_litter(out: PracticeInputs, eff: dict, name: str, applies: np.ndarray, change: ManagementChange,
                 params: rothc.RothCParameters) -> None:
    """Agroforestry: the equilibrium factor of the plots it applies to, in place."""
    rows_in_table = change.multiplier_index.get(name)
    values = multiplier_table().value
    factor = (np.where(rows_in_table >= 0, values[np.maximum(rows_in_table, 0)], 1.0)
              if rows_in_table is not None else np.ones(applies.size))
    out.tree_factor = np.where(applies, factor, out.tree_factor)
    out.tree_dpm_rpm_ratio = (float(eff["dpm_rpm_ratio"]) if pd.notna(eff["dpm_rpm_ratio"])
                              else params.dpm_rpm_woodland)


@dataclass(frozen=True)
class ChangedCycle:
    """The cycle under the practices and its yearly inputs.

    Attributes
    ----------
    inputs : fourp1000.rothc.MonthlyInputs
    plant_t_c_ha, dpm_t_c_ha : numpy.ndarray (12, n) [t C ha-1 per month]
        Plant C input (tree litter included) and its DPM part.
    tree_litter_t_c_ha_yr : numpy.ndarray [t C ha-1 yr-1]
    """

    inputs: rothc.MonthlyInputs
    plant_t_c_ha: np.ndarray
    dpm_t_c_ha: np.ndarray
    tree_litter_t_c_ha_yr: np.ndarray


def _cycle_with(drivers: PlotDrivers, changes: PracticeInputs, plant: np.ndarray, dpm: np.ndarray,
                index: np.ndarray | None = None) -> rothc.MonthlyInputs:
    """The cycle with these plant inputs and their DPM part, of the plots at ``index`` (all
    by default)."""
    def pick(values: np.ndarray) -> np.ndarray:
        return values if index is None else np.take(values, index, axis=-1)

    plant, dpm = pick(plant), pick(dpm)
    rpm = plant - dpm
    month_ratio = np.where(plant > 0, dpm / np.where(rpm > 0, rpm, 1.0), pick(changes.dpm_rpm_ratio)[None, :])
    return rothc.MonthlyInputs(temperature_c=pick(drivers.temperature_c), rain_mm=pick(drivers.rain_mm),
                               evaporation_mm=pick(drivers.evaporation_mm), plant_c_t_ha=plant,
                               fym_c_t_ha=pick(changes.fym_t_c_ha), covered=pick(changes.covered),
                               dpm_rpm_ratio=month_ratio)


def changed_cycle(drivers: PlotDrivers, base: BaselineFit, changes: PracticeInputs, depth_cm: float,
                  params: rothc.RothCParameters, kernel: str = "auto") -> ChangedCycle:
    """The cycle under the practices, with the tree litter that gives agroforestry its equilibrium factor.

    Tree litter T raises the equilibrium by (factor - 1) x the equilibrium without trees;
    the equilibrium is affine in the input, so T = that rise / (equilibrium per unit T).
    ``kernel``: that of the equilibrium solves (:func:`fourp1000.rothc.spinup`).
    """
    n = drivers.clay_pct.size
    plant = base.plant_t_c_ha + changes.extra_plant_t_c_ha
    dpm = base.plant_t_c_ha * dpm_fraction(changes.dpm_rpm_ratio)[None, :] + changes.extra_dpm_t_c_ha
    tree_yr = np.zeros(n)
    trees = changes.tree_factor != 1.0
    if trees.any():
        sub = np.flatnonzero(trees)
        clay = drivers.clay_pct[sub]
        no_tree = rothc.spinup(_cycle_with(drivers, changes, plant, dpm, sub), clay, depth_cm,
                               base.fit.iom_t_c_ha[sub], params=params, kernel=kernel).state.soc_t_c_ha
        unit = rothc.MonthlyInputs(temperature_c=np.take(drivers.temperature_c, sub, axis=1),
                                   rain_mm=np.take(drivers.rain_mm, sub, axis=1),
                                   evaporation_mm=np.take(drivers.evaporation_mm, sub, axis=1), plant_c_t_ha=1.0 / MONTHS,
                                   fym_c_t_ha=0.0, covered=np.take(changes.covered, sub, axis=1),
                                   dpm_rpm_ratio=changes.tree_dpm_rpm_ratio)
        per_unit = rothc.spinup(unit, clay, depth_cm, 0.0, params=params, kernel=kernel).state.active_t_c_ha
        tree_yr[sub] = (changes.tree_factor[sub] - 1.0) * no_tree / per_unit
        tree_month = (tree_yr[sub] / MONTHS)[None, :]  # the plots with trees: the others' inputs are unchanged
        plant[:, sub] += tree_month  # (plant and dpm are this function's own arrays)
        dpm[:, sub] += tree_month * dpm_fraction(np.asarray(changes.tree_dpm_rpm_ratio))
    return ChangedCycle(_cycle_with(drivers, changes, plant, dpm), plant, dpm, tree_yr)
