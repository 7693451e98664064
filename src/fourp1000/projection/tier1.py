"""Project SOC stocks under practices with IPCC Tier 1 factors, plot by plot and farm by farm.

For each plot the baseline equilibrium is the IPCC default stock, or the measured stock
where one is given, and the practices change the management classes
(:mod:`fourp1000.practices`). The stock then moves linearly to the new equilibrium over
the IPCC transition period D (20 years) and stays constant afterwards:

    S_eq  = S_0 x (F_LU' F_MG' F_I' F_P') / (F_LU F_MG F_I)
    S(t)  = S_0 + (S_eq - S_0) x min(t, D) / D

with S_0 = SOC_REF x F_LU x F_MG x F_I by default (IPCC 2006 Vol. 4 Ch. 2, Eq. 2.25) and
F_P' the product of practice factors (agroforestry). The result over a horizon of T years
is scored against 4 per 1000: the mean yearly change (S(T) - S_0) / T as per mille of S_0.

``method="rates"`` replaces the factor ratio by the meta-analysis rates of the practices
(:func:`fourp1000.practices.practice_rates`): S(t) = S_0 + r x min(t, D_r).

Everything is vectorised over plots. :func:`prepare` resolves the tables once and keeps,
for every plot, integer indices into each table, so a Monte Carlo layer can draw every
table cell once per draw and pass the drawn tables to :meth:`ProjectionInputs.stocks`.

Notes
-----
* Tier 1 is a 0-30 cm method; a measured stock should be for 0-30 cm too.
* Scaling a measured stock by the factor ratio assumes the plot is at equilibrium with its
  baseline management (the Tier 1 assumption) and that the relative effect of a practice
  is the same at the measured level as at the default level.
* The linear path is the IPCC default; stocks do not keep changing after D years.

References
----------
.. [1] IPCC (2006) 2006 IPCC Guidelines, Vol. 4, Ch. 2, Eq. 2.25 and section 2.3.3.1;
   Ch. 5, section 5.2.3.
.. [2] IPCC (2019) 2019 Refinement to the 2006 IPCC Guidelines, Vol. 4, Ch. 2 and 5.
.. [3] Minasny B. et al. (2017) Soil carbon 4 per mille. Geoderma 292:59-86,
   doi:10.1016/j.geoderma.2017.01.002
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np
import pandas as pd

from . import ipcc
from ..errors import FourP1000Error, InputError
from ..practices import (ManagementChange, apply_practices, catalogue, multiplier_table, parse_practices,
                         practice_rates)
from ..stocks.farms import farm_totals
from ..stocks.layers import co2e
from ..targets import change_columns, meets_target, rate_per_mille
from .checks import errors_by_group, group_codes
from .verdict import WITHOUT_TILLAGE_COLUMN, caveat_text

METHODS = ("ipcc", "rates")
DEFAULT_YEARS = 20
#: Optional plot column with a measured 0-30 cm stock [t C ha-1].
MEASURED_STOCK_COLUMN = "measured_stock_t_c_ha"
_MGMT_COLUMNS = ("climate_zone", "soil_class", "land_use", "tillage", "input_level", "grassland_condition")


def linear_transition(baseline_t_c_ha: np.ndarray, equilibrium_t_c_ha: np.ndarray, years: np.ndarray | float,
                      transition_years: np.ndarray | float = ipcc.DEFAULT_TRANSITION_YEARS) -> np.ndarray:
    """Stock after ``years`` of a linear move to a new equilibrium [t C ha-1].

    Parameters
    ----------
    baseline_t_c_ha : array-like [t C ha-1]
        Stock at year 0.
    equilibrium_t_c_ha : array-like [t C ha-1]
        Stock reached after ``transition_years`` and kept afterwards.
    years : array-like [yr]
        Time since the change (>= 0); broadcasts against the stocks.
    transition_years : array-like [yr], default 20
        IPCC default time to the new equilibrium (D).

    Returns
    -------
    numpy.ndarray [t C ha-1]

    Examples
    --------
    >>> linear_transition(40.0, 50.0, [0, 10, 20, 30]).tolist()
    [40.0, 45.0, 50.0, 50.0]
    """
    s0 = np.asarray(baseline_t_c_ha, dtype=float)
    seq = np.asarray(equilibrium_t_c_ha, dtype=float)
    frac = np.minimum(np.asarray(years, dtype=float) / np.asarray(transition_years, dtype=float), 1.0)
    return s0 + (seq - s0) * frac


def _column(plots: pd.DataFrame, name: str) -> np.ndarray | None:
    return plots[name].to_numpy(dtype=object) if name in plots.columns else None


@dataclass(frozen=True)
class ProjectionInputs:
    """Per-plot inputs of a projection, resolved against the tables once.

    Attributes
    ----------
    ipcc_version : str
    plots : pandas.DataFrame
        The plot table as given.
    source_row : numpy.ndarray or None
    measured_stock_t_c_ha : numpy.ndarray [t C ha-1]
        NaN where the plot has no measured stock.
    soc_ref_index : numpy.ndarray of int
        Rows of :func:`fourp1000.projection.ipcc.soc_ref_table` (-1 where not needed).
    baseline, new : fourp1000.projection.ipcc.Tier1Factors or None
        Baseline and post-practice factors (None if not resolved, rates method with
        measured stocks only).
    change : fourp1000.practices.ManagementChange
    factor_rows : numpy.ndarray of int
        Plots whose factors were resolved (all for the IPCC method).
    """

    ipcc_version: str
    plots: pd.DataFrame
    source_row: np.ndarray | None
    measured_stock_t_c_ha: np.ndarray
    soc_ref_index: np.ndarray
    baseline: ipcc.Tier1Factors | None
    new: ipcc.Tier1Factors | None
    change: ManagementChange
    factor_rows: np.ndarray

    def baseline_stock(self, soc_ref_values: np.ndarray | None = None,
                       management_values: np.ndarray | None = None) -> np.ndarray:
        """Baseline stock S_0 [t C ha-1]: measured, else SOC_REF x F_LU x F_MG x F_I.

        ``soc_ref_values`` and ``management_values`` default to the table values; a Monte
        Carlo layer passes drawn tables of shape ``(..., n_table_rows)``.
        """
        measured = self.measured_stock_t_c_ha
        if self.baseline is None:
            return measured.copy()
        soc_values = ipcc.soc_ref_table(self.ipcc_version).value if soc_ref_values is None else soc_ref_values
        mgmt = ipcc.management_table(self.ipcc_version).value if management_values is None else management_values
        soc = np.where(self.soc_ref_index >= 0,
                       np.take(np.asarray(soc_values, float), np.maximum(self.soc_ref_index, 0), axis=-1), np.nan)
        default = soc * np.prod(np.stack(self.baseline.values_from(mgmt)), axis=0)
        return np.where(np.isfinite(measured), measured, default)

    def take_plots(self, index: np.ndarray, plots: pd.DataFrame, source_row: np.ndarray | None,
                   measured_stock_t_c_ha: np.ndarray) -> ProjectionInputs:
        """The inputs of ``plots``, whose plot ``i`` is resolved as this table's plot
        ``index[i]`` (alike in management), with its own rows and measured stocks."""
        resolved = np.zeros(len(self.measured_stock_t_c_ha), dtype=bool)
        resolved[self.factor_rows] = True
        return ProjectionInputs(self.ipcc_version, plots, source_row, measured_stock_t_c_ha,
                                self.soc_ref_index[index], None if self.baseline is None else self.baseline.take(index),
                                None if self.new is None else self.new.take(index), self.change.take(index),
                                np.flatnonzero(resolved[index]))

    def equilibrium_stock(self, baseline_t_c_ha: np.ndarray, management_values: np.ndarray | None = None,
                          practice_values: np.ndarray | None = None, *,
                          baseline_f_mg: np.ndarray | None = None) -> np.ndarray:
        """New equilibrium [t C ha-1]: baseline x new/old factor products x practice factors.

        ``baseline_f_mg`` (a mask) keeps the baseline F_MG of those plots: the projection
        without the tillage credit.
        """
        if self.baseline is None:  # no plot (every one rejected): nothing to change
            return np.asarray(baseline_t_c_ha, dtype=float).copy()
        mgmt = ipcc.management_table(self.ipcc_version).value if management_values is None else management_values
        prac = multiplier_table().value if practice_values is None else practice_values
        old_f = self.baseline.values_from(mgmt)
        new_f = list(self.new.values_from(mgmt))
        if baseline_f_mg is not None:
            new_f[1] = np.where(baseline_f_mg, old_f[1], new_f[1])
        old = np.prod(np.stack(old_f), axis=0)
        new = np.prod(np.stack(new_f), axis=0) * self.change.multiplier_from(prac)
        # ratio first: x / x is exactly 1, so plots without practices keep their stock exactly
        return np.asarray(baseline_t_c_ha, dtype=float) * (new / old)


def prepare(plots: pd.DataFrame, practices: Iterable[str] = (), ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION,
            *, method: str = "ipcc", tillage_credit: str = "ipcc") -> ProjectionInputs:
    """Resolve the plot table against the IPCC tables and the practice catalogue.

    Parameters
    ----------
    plots : pandas.DataFrame
        One row per plot: ``plot_id`` and the management columns ``climate_zone``,
        ``soil_class``, ``land_use``, ``tillage``, ``input_level``, optional
        ``grassland_condition``, ``practices`` (``;``-separated),
        ``measured_stock_t_c_ha`` [t C ha-1, 0-30 cm] and ``source_row``.
    practices : iterable of str
        Practices applied to every plot, in addition to the ``practices`` column.
    ipcc_version : {"2019", "2006"}
    method : {"ipcc", "rates"}
        With ``rates``, management classes are only needed for plots without a measured
        stock.
    tillage_credit : {"ipcc", "none"}
        ``none``: tillage practices are not credited (:func:`fourp1000.practices.additional_practices`).

    Returns
    -------
    ProjectionInputs

    Raises
    ------
    InputError, UnknownFactorError
        Missing ``plot_id``, duplicate plots, negative stocks, unknown classes or
        practices (naming the row).
    """
    if method not in METHODS:
        raise InputError(f"unknown method {method!r}; valid: {', '.join(METHODS)}")
    version = ipcc.normalise_ipcc_version(ipcc_version)
    rows = plots["source_row"].to_numpy() if "source_row" in plots.columns else None
    measured = _measured_stock(plots, rows)
    # A plot's inputs follow from its values in INPUT_COLUMNS and whether its stock is
    # measured: plots alike in them are resolved once (a table has few distinct managements).
    codes = group_codes([plots[c] for c in INPUT_COLUMNS if c in plots.columns] + [np.isfinite(measured)],
                        len(plots))
    first = np.unique(codes, return_index=True)[1]
    if first.size < len(plots):
        try:
            alike = _resolve(plots.iloc[first].reset_index(drop=True), practices, version, method, tillage_credit,
                             measured[first], None if rows is None else rows[first])
        except FourP1000Error:
            pass  # resolved plot by plot below, so that the error names every row concerned
        else:
            return alike.take_plots(codes, plots, rows, measured)
    return _resolve(plots, practices, version, method, tillage_credit, measured, rows)


def _resolve(plots: pd.DataFrame, practices: Iterable[str], version: str, method: str, tillage_credit: str,
             measured: np.ndarray, rows: np.ndarray | None) -> ProjectionInputs:
    """:func:`prepare` of the plots, plot by plot (vectorised)."""
    change = management_change(plots, practices, rows, tillage_credit=tillage_credit)
    # Which plots need the factor tables: all for the IPCC method; for rates only those
    # whose baseline stock must come from the IPCC default.
    need = np.ones(len(plots), bool) if method == "ipcc" else ~np.isfinite(measured)
    baseline, new, soc_idx = _factor_lookups(plots, change, np.flatnonzero(need), measured, version, rows)
    return ProjectionInputs(version, plots, rows, measured, soc_idx, baseline, new, change, np.flatnonzero(need))


def _measured_stock(plots: pd.DataFrame, rows: np.ndarray | None) -> np.ndarray:
    """Measured 0-30 cm stock of each plot [t C ha-1] (NaN where none), after checking the plot ids."""
    if "plot_id" not in plots.columns:
        raise InputError("the plot table has no column 'plot_id'")
    dup = plots["plot_id"].duplicated(keep=False).to_numpy()
    if dup.any():
        first = np.flatnonzero(dup)[0]
        where = f" (row {int(rows[first])})" if rows is not None else ""
        raise InputError(f"plot {plots['plot_id'].iloc[first]!r} appears more than once{where}; "
                         "give one row per plot", column="plot_id", rows=None if rows is None else rows[dup])
    if MEASURED_STOCK_COLUMN not in plots.columns:
        return np.full(len(plots), np.nan)
    measured = pd.to_numeric(plots[MEASURED_STOCK_COLUMN], errors="coerce").to_numpy(dtype=float)
    bad = measured < 0
    if bad.any():
        first = np.flatnonzero(bad)[0]
        where = f" in row {int(rows[first])}" if rows is not None else ""
        raise InputError(f"negative {MEASURED_STOCK_COLUMN} {measured[first]:g}{where}",
                         column=MEASURED_STOCK_COLUMN, rows=None if rows is None else rows[bad])
    return measured


#: Optional plot column: practices already in place (``;``-separated); they are the
#: baseline, so stating them again credits nothing.
CURRENT_PRACTICES_COLUMN = "current_practices"


def management_change(plots: pd.DataFrame, practices: Iterable[str] = (),
                      rows: np.ndarray | None = None, *, tillage_credit: str = "ipcc") -> ManagementChange:
    """Each plot's management once its additional practices (its ``practices`` column and
    ``practices``, less those in ``current_practices`` or implied by its classes) are adopted.

    Raises
    ------
    InputError, UnknownFactorError
        Unknown practices or classes, a practice that does not apply to the land use.
    """
    combos = parse_practices(_column(plots, "practices"), practices, n=len(plots), source_row=rows)
    if "land_use" not in plots.columns:
        raise InputError("the plot table has no column 'land_use'")
    current = parse_practices(_column(plots, CURRENT_PRACTICES_COLUMN), n=len(plots), source_row=rows)
    return apply_practices(combos, _column(plots, "land_use"), _column(plots, "tillage"),
                           _column(plots, "input_level"), _column(plots, "grassland_condition"), source_row=rows,
                           current=current, tillage_credit=tillage_credit)


def _factor_lookups(plots: pd.DataFrame, change: ManagementChange, sub: np.ndarray, measured: np.ndarray,
                    version: str, rows: np.ndarray | None
                    ) -> tuple[ipcc.Tier1Factors | None, ipcc.Tier1Factors | None, np.ndarray]:
    """Baseline and new factors of the plots ``sub``, and SOC_REF rows of those without a measured stock."""
    n = len(plots)
    soc_idx = np.full(n, -1)
    if not sub.size:
        return None, None, soc_idx
    cols = {c: _column(plots, c) for c in _MGMT_COLUMNS}
    if cols["climate_zone"] is None:
        raise InputError("the plot table has no column 'climate_zone'")
    sub_rows = None if rows is None else rows[sub]

    def pick(values: np.ndarray | None) -> np.ndarray | None:
        return None if values is None else values[sub]

    zone = pick(cols["climate_zone"])
    b = ipcc.tier1_factors(zone, pick(cols["land_use"]), pick(cols["tillage"]), pick(cols["input_level"]),
                           pick(cols["grassland_condition"]), version, source_row=sub_rows)
    nw = ipcc.tier1_factors(zone, change.land_use[sub], change.tillage[sub], change.input_level[sub],
                            change.grassland_condition[sub], version, source_row=sub_rows)
    default_rows = sub[~np.isfinite(measured[sub])]
    if default_rows.size:
        soil = (cols["soil_class"][default_rows] if cols["soil_class"] is not None
                else np.full(default_rows.size, None))
        soc_idx[default_rows] = ipcc.soc_ref_index(cols["climate_zone"][default_rows], soil, version,
                                                   source_row=None if rows is None else rows[default_rows])
    return _expand(b, sub, n), _expand(nw, sub, n), soc_idx


#: Plot columns that decide whether :func:`prepare` accepts a plot (with the sign and
#: presence of its measured stock): plots alike in these are accepted or refused together.
INPUT_COLUMNS = ("practices", "current_practices") + _MGMT_COLUMNS


def check_plots(plots: pd.DataFrame, practices: Iterable[str] = (), ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION,
                *, method: str = "ipcc", tillage_credit: str = "ipcc") -> list[FourP1000Error]:
    """Every problem :func:`prepare` would raise, each naming all its rows.

    The table is checked in one vectorised pass; only when it fails is each group of plots
    alike in :data:`INPUT_COLUMNS` checked once, so that every faulty plot is found.

    Returns
    -------
    list of FourP1000Error
        Errors with ``rows`` (the plots to reject), or one without rows that concerns the
        whole table. Empty when every plot can be projected.
    """
    return checked_inputs(plots, practices, ipcc_version, method=method, tillage_credit=tillage_credit)[1]


def checked_inputs(plots: pd.DataFrame, practices: Iterable[str] = (),
                   ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION, *, method: str = "ipcc",
                   tillage_credit: str = "ipcc") -> tuple[ProjectionInputs | None, list[FourP1000Error]]:
    """:func:`prepare`'s inputs when every plot passes (and no errors), else None and the
    errors of :func:`check_plots`: a validation whose work the projection can reuse."""
    try:
        return prepare(plots, practices, ipcc_version, method=method, tillage_credit=tillage_credit), []
    except FourP1000Error as exc:
        if exc.rows is None:
            return None, [exc]
    measured = (pd.to_numeric(plots[MEASURED_STOCK_COLUMN], errors="coerce") if MEASURED_STOCK_COLUMN in plots
                else pd.Series(np.nan, index=plots.index))
    keys = [plots[c] for c in INPUT_COLUMNS if c in plots.columns] + [measured.isna(), measured < 0]
    return None, errors_by_group(lambda group: prepare(group, practices, ipcc_version, method=method,
                                                       tillage_credit=tillage_credit), plots, keys)


def _expand(f: ipcc.Tier1Factors, sub: np.ndarray, n: int) -> ipcc.Tier1Factors:
    """Scatter factors computed on a subset of plots back to all plots (NaN values elsewhere)."""
    if sub.size == n:
        return f

    def scatter(values: np.ndarray, fill: object, dtype: object) -> np.ndarray:
        out = np.full(n, fill, dtype=dtype)
        out[sub] = values
        return out

    return ipcc.Tier1Factors(
        f.ipcc_version, scatter(f.f_lu, np.nan, float), scatter(f.f_mg, np.nan, float), scatter(f.f_i, np.nan, float),
        scatter(f.f_lu_index, -1, int), scatter(f.f_mg_index, -1, int), scatter(f.f_i_index, -1, int),
        scatter(f.least_confirmed, None, object))


def project(
    plots: pd.DataFrame,
    *,
    practices: Iterable[str] = (),
    years: int = DEFAULT_YEARS,
    ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION,
    method: str = "ipcc",
    transition_years: float = ipcc.DEFAULT_TRANSITION_YEARS,
    rate_years: float | None = None,
    tillage_credit: str = "ipcc",
) -> pd.DataFrame:
    """Project each plot's SOC stock (0-30 cm) under its practices and score it against 4 per 1000.

    Parameters
    ----------
    plots : pandas.DataFrame
        One row per plot (see :func:`prepare` for the columns); ``farm_id`` and
        ``area_ha`` are passed through for :func:`aggregate_farms`.
    practices : iterable of str
        Practices applied to every plot (``--practice``), added to the ``practices`` column.
    years : int, default 20
        Projection horizon T [yr].
    ipcc_version : {"2019", "2006"}, default "2019"
    method : {"ipcc", "rates"}, default "ipcc"
        IPCC Tier 1 factors, or meta-analysis rates of the practices.
    transition_years : float, default 20
        IPCC time to the new equilibrium D [yr] (method ``ipcc``).
    rate_years : float, optional
        Years a meta-analysis rate applies (method ``rates``); default the catalogue's.
    tillage_credit : {"ipcc", "none"}, default "ipcc"
        ``none``: tillage practices are not credited.

    Returns
    -------
    pandas.DataFrame
        One row per plot: ``plot_id``, ``baseline_stock_t_ha``, ``final_stock_t_ha``,
        ``annual_change_t_ha_yr`` (mean over the horizon), ``rate_per_mille``
        (annual change as per mille of the baseline), ``meets_4p1000``, CO2 equivalents
        (``baseline_co2e_t_ha``, ``final_co2e_t_ha``, ``annual_change_co2e_t_ha_yr``,
        x 44/12), ``equilibrium_stock_t_ha``, ``transition_years`` and the factors and
        classes used (``soc_ref_t_ha``, ``f_lu_baseline`` ... ``f_practice``,
        ``land_use_new`` ...), ``least_confirmed`` (weakest confirmation status of the
        table cells used) and, for the rate method, ``rate_t_ha_yr`` and
        ``practices_without_rate``. Stocks in t C ha-1.

    Raises
    ------
    InputError, UnknownFactorError
        Bad plot table, classes or practices (naming the row).

    Notes
    -----
    4 per 1000 is met when the mean yearly change over the horizon is at least 4 per mille
    of the baseline stock (linear form, :mod:`fourp1000.targets`). With the IPCC linear
    path the mean change over T > 20 years is diluted by the constant years after D.

    Examples
    --------
    >>> plots = pd.DataFrame({"plot_id": ["a"], "climate_zone": ["warm_temperate_moist"],
    ...     "soil_class": ["HAC"], "land_use": ["cropland"], "tillage": ["full"],
    ...     "input_level": ["medium"], "practices": ["no_till;cover_crops"]})
    >>> r = project(plots)
    >>> round(float(r.baseline_stock_t_ha[0]), 2), round(float(r.final_stock_t_ha[0]), 3)
    (44.16, 53.919)
    """
    if not float(years) > 0:
        raise InputError(f"years must be positive, got {years!r}")
    if not float(transition_years) > 0:
        raise InputError(f"transition_years must be positive, got {transition_years!r}")
    inp = prepare(plots, practices, ipcc_version, method=method, tillage_credit=tillage_credit)
    baseline = inp.baseline_stock()
    target, duration, rate, without_rate, rate_status = _targets(inp, baseline, method, transition_years, rate_years)
    final = linear_transition(baseline, target, float(years), duration)

    out = pd.DataFrame({"plot_id": plots["plot_id"].to_numpy()})
    for col in ("farm_id", "area_ha"):
        if col in plots.columns:
            out[col] = plots[col].to_numpy()
    out["method"] = method
    out["ipcc_version"] = inp.ipcc_version
    out["practices"] = inp.change.practices
    out["years"] = float(years)
    out["baseline_source"] = np.where(np.isfinite(inp.measured_stock_t_c_ha), "measured", "ipcc_default")
    for name, values in change_columns(baseline, final, years).items():
        out[name] = values
    out["equilibrium_stock_t_ha"] = target
    out["transition_years"] = duration
    _factor_columns(out, inp)
    out["rate_t_ha_yr"] = rate
    out["practices_without_rate"] = without_rate
    out["least_confirmed"] = _least_confirmed(inp, rate_status)
    out["credited_practices"] = inp.change.credited
    out["not_credited"] = inp.change.not_credited
    tillage = _tillage_credited(inp) if method == "ipcc" else np.zeros(len(out), bool)
    if method == "ipcc":  # always (not only when a plot credits tillage): a table's columns never depend on its rows
        without = inp.equilibrium_stock(baseline, baseline_f_mg=tillage)
        out[WITHOUT_TILLAGE_COLUMN] = linear_transition(baseline, without, float(years), duration)
    stacked = _stacked(inp) if method == "ipcc" else np.zeros(len(out), bool)
    out["caveats"] = caveat_text({"tillage_redistribution": tillage, "stacked_effects": stacked,
                                  "unconfirmed_factor": out["least_confirmed"].to_numpy() == "unconfirmed"},
                                 len(out))
    if inp.source_row is not None:
        out["source_row"] = inp.source_row
    return out


def _tillage_credited(inp: ProjectionInputs) -> np.ndarray:
    """Plots whose credited practices change the tillage class (IPCC F_MG)."""
    base = _column(inp.plots, "tillage")
    if base is None:
        return np.zeros(len(inp.plots), bool)
    base = ipcc.normalise(base, "tillage", allow_missing=True)
    return (inp.change.tillage != base) & pd.notna(inp.change.tillage) & pd.notna(base)


def _stacked(inp: ProjectionInputs) -> np.ndarray:
    """Plots whose combined factor ratio exceeds that of the strongest single catalogue practice.

    The bound is, for each plot, the largest ratio of new to old equilibrium any one
    practice of the catalogue would give on that plot's baseline (its climate zone, land
    use and classes): the largest published single-practice effect for the plot.
    """
    n = len(inp.plots)
    codes, uniques = pd.factorize(pd.Series(inp.change.credited, dtype=object))
    several = np.asarray([len([p for p in str(u).split(";") if p]) >= 2 for u in uniques], bool)
    if inp.baseline is None or n == 0 or not several.any():
        return np.zeros(n, bool)
    combined = inp.new.product * inp.change.multiplier / inp.baseline.product
    best = np.ones(n)
    cols = {c: _column(inp.plots, c) for c in _MGMT_COLUMNS}
    land_use = ipcc.normalise(cols["land_use"], "land_use")
    for name, practice in catalogue().items():  # each catalogue practice once, vectorised over plots
        sub = np.flatnonzero(np.isin(land_use, practice.applies_to))
        if not sub.size:
            continue

        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[sub]

        try:
            alone = apply_practices(np.full(sub.size, name, dtype=object), land_use[sub], pick(cols["tillage"]),
                                    pick(cols["input_level"]), pick(cols["grassland_condition"]))
            new = ipcc.tier1_factors(cols["climate_zone"][sub], alone.land_use, alone.tillage, alone.input_level,
                                     alone.grassland_condition, inp.ipcc_version)
        except FourP1000Error:  # a cell the table lacks ("not in table"): no bound from this practice
            continue
        best[sub] = np.maximum(best[sub], new.product * alone.multiplier / inp.baseline.product[sub])
    return several[codes] & (combined > best + 1e-9)
def _targets(inp: ProjectionInputs, baseline: np.ndarray, method: str, transition_years: float,
             rate_years: float | None) -> tuple[np.ndarray, ...]:
    """Target stock [t C ha-1] and years to reach it, with the rates (NaN for ``ipcc``) and their statuses."""
    n = baseline.size
    if method == "ipcc":
        return (inp.equilibrium_stock(baseline), np.full(n, float(transition_years)), np.full(n, np.nan),
                np.full(n, None, dtype=object), np.full(n, "definition", dtype=object))
    rate, duration, without_rate, rate_status = practice_rates(inp.change.credited, duration_yr=rate_years)
    return baseline + rate * duration, duration, rate, without_rate, rate_status


def _factor_columns(out: pd.DataFrame, inp: ProjectionInputs) -> None:
    """Add the SOC_REF, factors and new classes used for each plot to ``out``."""
    soc_table = ipcc.soc_ref_table(inp.ipcc_version)
    out["soc_ref_t_ha"] = np.where(inp.soc_ref_index >= 0, soc_table.value[np.maximum(inp.soc_ref_index, 0)], np.nan)
    blank = np.full(len(out), np.nan)
    for tag, f in (("baseline", inp.baseline), ("new", inp.new)):
        for name in ("f_lu", "f_mg", "f_i"):
            out[f"{name}_{tag}"] = blank if f is None else getattr(f, name)
    out["f_practice"] = inp.change.multiplier
    out["land_use_new"] = inp.change.land_use
    out["tillage_new"] = inp.change.tillage
    out["input_level_new"] = inp.change.input_level
    out["grassland_condition_new"] = inp.change.grassland_condition


def _least_confirmed(inp: ProjectionInputs, rate_status: np.ndarray) -> np.ndarray:
    """Weakest confirmation status of the table cells and rates used for each plot."""
    soc_table = ipcc.soc_ref_table(inp.ipcc_version)
    statuses = [rate_status, inp.change.multiplier_status,
                np.where(inp.soc_ref_index >= 0, soc_table.status[np.maximum(inp.soc_ref_index, 0)], "definition")]
    if inp.baseline is not None:
        statuses += [np.where(pd.isna(inp.baseline.least_confirmed), "definition", inp.baseline.least_confirmed),
                     np.where(pd.isna(inp.new.least_confirmed), "definition", inp.new.least_confirmed)]
    return ipcc.weakest_status(*statuses)


def trajectory(result: pd.DataFrame, years: int | None = None) -> pd.DataFrame:
    """Yearly stocks of projected plots, long format (``plot_id``, ``year``, ``stock_t_ha``).

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`project`.
    years : int, optional
        Last year; default the projection horizon.

    Returns
    -------
    pandas.DataFrame
        Years 0..T for every plot [t C ha-1], plot by plot.
    """
    last = int(result["years"].iloc[0]) if years is None and len(result) else int(years or 0)
    t = np.arange(last + 1, dtype=float)
    stock = linear_transition(result["baseline_stock_t_ha"].to_numpy(float)[:, None],
                              result["equilibrium_stock_t_ha"].to_numpy(float)[:, None], t[None, :],
                              result["transition_years"].to_numpy(float)[:, None])
    return pd.DataFrame({
        "plot_id": np.repeat(result["plot_id"].to_numpy(), t.size),
        "year": np.tile(t.astype(int), len(result)),
        "stock_t_ha": stock.ravel(),
    })


def aggregate_farms(result: pd.DataFrame) -> pd.DataFrame:
    """Area-weighted farm totals of projected plots.

    Parameters
    ----------
    result : pandas.DataFrame
        Output of :func:`project` with ``area_ha`` [ha] and optional ``farm_id`` (plots
        without one form a farm ``"all"``).

    Returns
    -------
    pandas.DataFrame
        One row per farm: ``farm_id``, ``area_ha``, ``baseline_stock_t_c``,
        ``final_stock_t_c``, ``annual_change_t_c_yr`` [t C], ``rate_per_mille`` (farm
        annual change as per mille of the farm baseline stock), ``meets_4p1000``,
        ``n_plots`` and ``annual_change_co2e_t_yr``.

    Raises
    ------
    InputError
        Missing, non-numeric or non-positive areas (naming the row).
    """
    if "area_ha" not in result.columns:
        raise InputError("aggregating by farm needs a column 'area_ha'")
    area = pd.to_numeric(result["area_ha"], errors="coerce").to_numpy(dtype=float)
    bad = ~(area > 0)
    if bad.any():
        first = np.flatnonzero(bad)[0]
        where = f" in row {int(result['source_row'].iloc[first])}" if "source_row" in result.columns else ""
        raise InputError(f"area_ha must be a positive number{where} (plot {result['plot_id'].iloc[first]!r})")
    farm = (result["farm_id"].astype(object).where(result["farm_id"].notna(), "all")
            if "farm_id" in result.columns else pd.Series("all", index=result.index, dtype=object))
    plots = pd.DataFrame({
        "farm_id": farm.to_numpy(dtype=object),
        "area_ha": area,
        "baseline_stock_t_ha": result["baseline_stock_t_ha"].to_numpy(float),
        "final_stock_t_ha": result["final_stock_t_ha"].to_numpy(float),
        "annual_change_t_ha_yr": result["annual_change_t_ha_yr"].to_numpy(float),
    })
    farms = farm_totals(plots, ["farm_id"], {"baseline_stock_t_c": "baseline_stock_t_ha",
                                             "final_stock_t_c": "final_stock_t_ha",
                                             "annual_change_t_c_yr": "annual_change_t_ha_yr"})
    farms["rate_per_mille"] = rate_per_mille(farms["annual_change_t_c_yr"], farms["baseline_stock_t_c"])
    farms["meets_4p1000"] = meets_target(farms["rate_per_mille"])
    farms["annual_change_co2e_t_yr"] = co2e(farms["annual_change_t_c_yr"].to_numpy())
    return farms[["farm_id", "area_ha", "baseline_stock_t_c", "final_stock_t_c", "annual_change_t_c_yr",
                  "rate_per_mille", "meets_4p1000", "n_plots", "annual_change_co2e_t_yr"]]
