"""Monte Carlo statistics of a ``project``/``score`` result: coefficients and measurements.

Entry point :func:`project_uncertainty`. Each draw recomputes the IPCC Tier 1 projection
with drawn tables (:mod:`fourp1000.uncertainty.factors`) and, for plots with layers, a
drawn measured baseline stock (:mod:`fourp1000.uncertainty.measurement`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from ..errors import FourP1000Error
from ..stocks.estimate import estimate_stocks
from ..practices import SEPARATOR, rate_weights
from ..projection.tier1 import MEASURED_STOCK_COLUMN, ProjectionInputs, linear_transition, prepare
from ..targets import rate_per_mille
from .draws import DrawStreams
from .engine import SimulationPlan, processing_order, simulate
from .factors import FactorModel
from .layers import LayerErrors, block_stocks, sort_by_processing_rank
from .measurement import layer_errors, rescale_to_stock
from .options import UncertaintyOptions
from .results import append_statistics, methods_line


def project_uncertainty(table, result, uncertainty: UncertaintyOptions | None = None):
    """Add Monte Carlo statistics to a ``project``/``score`` result.

    Parameters
    ----------
    table : fourp1000.io.horizons.HorizonTable
        The input of ``result``.
    result : fourp1000.projection.table.ProjectResult
        From :func:`fourp1000.projection.table.project_table`.
    uncertainty : UncertaintyOptions

    Returns
    -------
    fourp1000.projection.table.ProjectResult
        ``plots`` with ``{baseline_stock_t_ha, final_stock_t_ha, annual_change_t_ha_yr,
        rate_per_mille}_{mean,median,p2_5,p97_5}``, ``p_meets_4p1000`` and
        ``meets_4p1000_at_confidence``; ``farms`` with ``{baseline_stock_t_c,
        final_stock_t_c, annual_change_t_c_yr, rate_per_mille}_*`` and the same verdicts;
        a methods line.

    Notes
    -----
    Each draw recomputes the Tier 1 projection with drawn tables through the hooks of
    :class:`fourp1000.projection.tier1.ProjectionInputs` (every table cell drawn once and shared
    by the plots that use it) and, for plots with layers, a drawn measured baseline stock
    (mean of the cores of the latest sampling, as :mod:`fourp1000.projection.table`). The farm rate
    is the farm's annual change over its baseline stock, both summed over plots in the
    same draw.

    With several projection models (a ``model`` column), only the IPCC Tier 1 rows get
    statistics; the other rows are left empty (NaN / NA).

    Raises
    ------
    FourP1000Error
        If the rebuilt projection inputs do not reproduce the deterministic result (a bug).
    """
    unc = uncertainty or UncertaintyOptions()
    unc.check()
    popts = result.options
    plot_rows = _ipcc_rows(result.plots)
    plots = result.plots.iloc[plot_rows].reset_index(drop=True)
    farm_rows = None if result.farms is None else _ipcc_rows(result.farms)
    farms = None if result.farms is None else result.farms.iloc[farm_rows].reset_index(drop=True)
    n = len(plots)
    if n == 0:
        return result
    measured_plot = (plots["baseline_source"] == "measured").to_numpy()
    inputs = _projection_inputs(table, plots, popts)
    factors = FactorModel.for_version(inputs.ipcc_version, enabled=unc.factors)
    layers, notes = _plot_layers(table, plots, popts, measured_plot, unc)
    years = plots["years"].to_numpy(dtype=float)
    duration = plots["transition_years"].to_numpy(dtype=float)
    incidence = rate_weights(inputs.change.credited, factors.rate_names)
    depth = _DepthRule.of(plots, popts)
    _check_reproduces(inputs, plots, factors, incidence, years, duration, popts.method, depth)

    farm_code, farm_weight, farm_index, n_farms = _farm_groups(plots, farms)
    order = processing_order(n, farm_code)
    canon, rank_sorted = sort_by_processing_rank(layers, order)
    streams = DrawStreams(unc.seed)
    n_layers = 0 if layers is None else len(layers)
    n_cells = factors.n_cells

    def make_block(block: np.ndarray, start: int) -> Callable[[int, int], dict[str, np.ndarray]]:
        inp = _take(inputs, block, n)
        meas = block_stocks(canon, rank_sorted, start, start + block.size, streams, n_layers, unc.measurement)
        inc = incidence[block]
        yrs, dur = years[block], duration[block]
        rule = depth.take(block)

        def evaluate(d0: int, d1: int) -> dict[str, np.ndarray]:
            c = d1 - d0
            z = streams.normals(DrawStreams.FACTORS, d0, d1, n_cells, 0, n_cells) if unc.factors else None
            soc, mgmt, mult, rates = factors.draw(z, c)
            base = _baseline(inp, soc, mgmt, c) / rule.ratio  # the stock of the requested depth
            if meas is not None:
                cols, values = meas(d0, d1)
                base[:, cols] = values
            return _project_draws(inp, base, mgmt, mult, rates, inc, yrs, dur, popts.method, rule)

        return evaluate

    def derived(sums: dict[str, np.ndarray], ids: np.ndarray) -> dict[str, np.ndarray]:
        return {"rate_per_mille": rate_per_mille(sums["annual_change_t_c_yr"], sums["baseline_stock_t_c"])}

    quantities = ("baseline_stock_t_ha", "final_stock_t_ha", "annual_change_t_ha_yr", "rate_per_mille")
    plan = SimulationPlan(n, quantities, make_block, "rate_per_mille", farm_code, n_farms, farm_weight,
                 (("baseline_stock_t_c", "baseline_stock_t_ha"), ("final_stock_t_c", "final_stock_t_ha"),
                  ("annual_change_t_c_yr", "annual_change_t_ha_yr")), derived,
                 ("baseline_stock_t_c", "final_stock_t_c", "annual_change_t_c_yr", "rate_per_mille"))
    per_unit = np.bincount(layers.unit, minlength=n) if layers is not None and len(layers) else np.zeros(n, int)
    summary = simulate(plan, unc, layers_per_unit=per_unit + 1)
    summary.units.update(_incomplete(inputs, factors, popts.method, plots))
    new_plots = append_statistics(result.plots, summary.units, plot_rows)
    new_farms = result.farms
    if farms is not None:
        new_farms = append_statistics(result.farms, {k: v[farm_index] for k, v in summary.farms.items()}, farm_rows)
    line = methods_line(unc, notes, factors)
    if len(plot_rows) < len(result.plots):
        line += "; IPCC Tier 1 rows only (other models have no Monte Carlo statistics)"
    return dataclasses.replace(result, plots=new_plots, farms=new_farms, methods=list(result.methods) + [line])


def _farm_groups(plots: pd.DataFrame, farms: pd.DataFrame | None):
    """Farm of each plot, its weight in the farm totals (its area [ha]), the farm of each
    row of ``farms`` and the number of farms, grouped as
    :func:`fourp1000.projection.tier1.aggregate_farms` groups them (None, None, None, 0
    without farms)."""
    if farms is None:
        return None, None, None, 0
    farm = (plots["farm_id"].astype(object).where(plots["farm_id"].notna(), "all")
            if "farm_id" in plots else pd.Series("all", index=plots.index, dtype=object))
    farm_code, uniques = pd.factorize(farm.astype(str))
    farm_index = pd.Index(uniques).get_indexer(farms["farm_id"].astype(str))
    farm_weight = pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float)
    return farm_code, farm_weight, farm_index, len(uniques)


def _ipcc_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of the IPCC Tier 1 model (all rows of a single-model result)."""
    if "model" not in frame.columns:
        return np.arange(len(frame))
    return np.flatnonzero((frame["model"] == "ipcc").to_numpy(dtype=bool))


def _projection_inputs(table, plots: pd.DataFrame, popts) -> ProjectionInputs:
    """Rebuild :func:`fourp1000.projection.tier1.prepare`'s inputs for the projected plots."""
    from ..projection.table import PLOT_ATTRIBUTES, derive_climate_zone

    frame = table.frame
    cols = [c for c in PLOT_ATTRIBUTES if c in frame.columns and c not in ("farm_id", "area_ha", "practices",
                                                                         "clay_pct")]
    attrs = frame[["plot_id"] + cols].groupby("plot_id", sort=False, dropna=True).first().reset_index()
    attrs = derive_climate_zone(attrs, [])
    attrs = attrs.set_index(attrs["plot_id"].astype(str))
    ids = plots["plot_id"].astype(str)
    sub = attrs.reindex(ids).reset_index(drop=True)
    sub["plot_id"] = plots["plot_id"].to_numpy()
    sub["practices"] = plots["practices"].to_numpy() if "practices" in plots else ""
    measured = (plots["baseline_source"] == "measured").to_numpy() if len(plots) else np.zeros(0, bool)
    stock30 = plots["stock_0_30_t_ha"] if "stock_0_30_t_ha" in plots else plots["baseline_stock_t_ha"]
    sub[MEASURED_STOCK_COLUMN] = np.where(measured, stock30.to_numpy(dtype=float), np.nan)
    if "source_row" in plots:
        sub["source_row"] = plots["source_row"].to_numpy()
    return prepare(sub, (), popts.ipcc_version, method=popts.method, tillage_credit=popts.tillage_credit)


@dataclasses.dataclass(frozen=True)
class _DepthRule:
    """The depth rule and cap of :func:`fourp1000.projection.verdict.rescale`, per plot.

    A drawn stock B of the requested depth holds ``ratio`` x B in 0-30 cm; the 0-30 cm
    change reaches the requested depth times ``share``; with ``cap`` the gain stops at the
    (deterministic) saturation deficit.
    """

    ratio: np.ndarray
    share: np.ndarray
    deficit: np.ndarray
    cap: bool

    @classmethod
    def of(cls, plots: pd.DataFrame, popts) -> _DepthRule:
        base = plots["baseline_stock_t_ha"].to_numpy(dtype=float)
        s30 = plots["stock_0_30_t_ha"].to_numpy(dtype=float) if "stock_0_30_t_ha" in plots else base
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.where(base > 0, s30 / base, 1.0)
        share = plots["depth_share"].to_numpy(dtype=float) if "depth_share" in plots else np.ones(len(plots))
        deficit = (plots["saturation_deficit_t_ha"].to_numpy(dtype=float) if "saturation_deficit_t_ha" in plots
                   else np.full(len(plots), np.nan))
        return cls(ratio, share, np.where(np.isfinite(deficit), deficit, np.inf), bool(popts.cap_at_capacity))

    def take(self, sel: np.ndarray) -> _DepthRule:
        return _DepthRule(self.ratio[sel], self.share[sel], self.deficit[sel], self.cap)


def _incomplete(inputs: ProjectionInputs, factors: FactorModel, method: str, plots: pd.DataFrame
                ) -> dict[str, np.ndarray]:
    """``rates_without_uncertainty`` per plot (rates method): credited rated practices drawn
    as fixed because their source gives no +/-, so the interval is incomplete."""
    if method != "rates":
        return {}
    fixed = set(factors.without_uncertainty())
    codes, uniques = pd.factorize(pd.Series(inputs.change.credited, dtype=object).fillna(""))
    labels = np.asarray([SEPARATOR.join(p for p in str(u).split(SEPARATOR) if p in fixed) for u in uniques],
                        dtype=object)  # distinct combinations, not plots
    return {"rates_without_uncertainty": labels[codes] if len(codes) else np.empty(0, dtype=object)}


def _take(obj, sel: np.ndarray, n: int):
    """Slice every per-plot array of a (nested) dataclass to the plots ``sel``."""
    if obj is None:
        return None
    if isinstance(obj, np.ndarray):
        return obj[sel] if obj.ndim >= 1 and obj.shape[0] == n else obj
    if isinstance(obj, pd.DataFrame):
        return obj.iloc[sel] if len(obj) == n else obj
    if isinstance(obj, Mapping):
        return {k: _take(v, sel, n) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _take(getattr(obj, f.name), sel, n) for f in dataclasses.fields(obj)
                   if f.name != "factor_rows"}
        return dataclasses.replace(obj, **changes)
    return obj


def _baseline(inp: ProjectionInputs, soc: np.ndarray, mgmt: np.ndarray, c: int) -> np.ndarray:
    """Drawn baseline stocks (measured plots keep the deterministic value here)."""
    n = inp.measured_stock_t_c_ha.shape[0]
    base = inp.baseline_stock(soc, mgmt)
    return np.array(np.broadcast_to(base, (c, n)), dtype=float)


def _project_draws(inp: ProjectionInputs, base: np.ndarray, mgmt: np.ndarray, mult: np.ndarray, rates: np.ndarray,
                   incidence: np.ndarray, years: np.ndarray, duration: np.ndarray,
                   method: str, rule: _DepthRule) -> dict[str, np.ndarray]:
    base30 = base * rule.ratio
    if method == "ipcc":
        target = inp.equilibrium_stock(base30, mgmt, mult)
    else:
        target = base30 + (rates @ incidence.T) * duration
    gain = rule.share * (linear_transition(base30, target, years, duration) - base30)
    if rule.cap:
        gain = np.minimum(gain, np.maximum(rule.deficit, 0.0))
    final = base + gain
    annual = (final - base) / years
    return {"baseline_stock_t_ha": base, "final_stock_t_ha": final, "annual_change_t_ha_yr": annual,
            "rate_per_mille": rate_per_mille(annual, base)}


def _check_reproduces(inputs: ProjectionInputs, plots: pd.DataFrame, factors: FactorModel, incidence: np.ndarray,
                      years: np.ndarray, duration: np.ndarray, method: str, depth: _DepthRule) -> None:
    """The rebuilt inputs with the tables' own values must give the deterministic projection."""
    if not len(plots):
        return
    soc, mgmt, mult, rates = dataclasses.replace(factors, enabled=False).draw(None, 1)
    base = _baseline(inputs, soc, mgmt, 1)
    base = base / depth.ratio  # the baseline of the requested depth
    got = _project_draws(inputs, base, mgmt, mult, rates, incidence, years, duration, method, depth)
    for name in ("baseline_stock_t_ha", "final_stock_t_ha"):
        want = plots[name].to_numpy(dtype=float)
        if not np.allclose(got[name][0], want, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise FourP1000Error(f"internal error: the Monte Carlo inputs do not reproduce the deterministic {name}; "
                                 "please report it")


def _plot_layers(table, plots: pd.DataFrame, popts, measured_plot: np.ndarray, unc: UncertaintyOptions
                 ) -> tuple[LayerErrors | None, list[str]]:
    """Layers behind each plot's measured baseline (cores of the latest sampling, averaged)."""
    from ..projection.table import sampling_order

    if not measured_plot.any():
        return None, []
    frame = table.frame
    if not frame[["top_cm", "bottom_cm", "soc_g_kg"]].notna().any(axis=1).any():
        return None, []
    est_opts = dataclasses.replace(popts.estimate, on_error="skip")
    est = estimate_stocks(table, est_opts)
    layers = layer_errors(table, est, est_opts, unc.measurement_errors)
    records = est.plots
    # The records that make each plot's measured stock: the latest sampling date, all cores.
    rec = pd.DataFrame({"plot_id": records["plot_id"].astype(str), "pos": np.arange(len(records))})
    if "sampled_on" in records:
        rec["_when"] = sampling_order(records["sampled_on"]).to_numpy()
        latest = (rec.sort_values(["plot_id", "_when"], kind="stable", na_position="last")
                  .groupby("plot_id").tail(1)[["plot_id", "_when"]])
        rec = rec.merge(latest, on=["plot_id", "_when"], how="inner")
    pos = pd.Index(plots["plot_id"].astype(str)).get_indexer(rec["plot_id"])
    ok = pos >= 0
    ok[ok] = measured_plot[pos[ok]]
    rec = rec[ok].assign(plot=pos[ok])
    rec["weight"] = 1.0 / np.bincount(rec["plot"].to_numpy(), minlength=len(plots))[rec["plot"].to_numpy()]
    plot_of_record = np.full(len(records), -1)
    weight_of_record = np.zeros(len(records))
    plot_of_record[rec["pos"].to_numpy()] = rec["plot"].to_numpy()
    weight_of_record[rec["pos"].to_numpy()] = rec["weight"].to_numpy()
    keep = np.flatnonzero(plot_of_record[layers.unit] >= 0)
    part = layers.take(keep)
    part.contribution_t_c_ha = part.contribution_t_c_ha * weight_of_record[part.unit]
    part.unit = plot_of_record[part.unit]
    notes = list(layers.notes)
    target = np.where(measured_plot, plots["baseline_stock_t_ha"].to_numpy(dtype=float), 0.0)
    part.contribution_t_c_ha = rescale_to_stock(part.unit, part.contribution_t_c_ha, target, notes, exact=True,
                                                what="plots")
    return part, notes
