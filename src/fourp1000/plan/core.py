"""``plan``: what each plot would need to reach 4 per 1000, from a horizon or plot table.

1. ``project`` runs once without any practice (:func:`fourp1000.projection.table.project_table`):
   the same reading, sampling choice, stocks, validation, rejects and accounting; its plot
   table is what the plan projects again.
2. The candidate practice sets of every plot (:mod:`fourp1000.plan.sets`) are projected
   by each model (:mod:`fourp1000.plan.search`) and the smallest set meeting 4 per 1000
   is chosen.
3. With RothC, the extra plant input and manure that give 4 per 1000 are solved
   (:mod:`fourp1000.plan.inputs`).
4. Whether the 4 per 1000 gain over the horizon fits in the plot's saturation deficit.
5. Farms (:mod:`fourp1000.plan.farms`) and, with uncertainty, the set that meets 4 per
   1000 with the requested probability (:mod:`fourp1000.plan.confidence`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from ..errors import InputError
from ..io.horizons import HorizonTable, is_in
from ..practices import SEPARATOR
from ..projection.table import ProjectOptions, ProjectResult, project_table
from ..targets import RATE_PER_YEAR
from ..uncertainty import UncertaintyOptions
from .farms import plan_farms
from .inputs import INPUT_COLUMNS, extra_inputs
from .search import choose, evaluate
from .sets import CandidateSets, available_practices, candidate_sets

#: ``plan_status`` values: the plot meets 4 per 1000 without a practice, with the
#: ``practice_set``, or with no set of the catalogue.
STATUSES = ("none_needed", "practices", "none_in_catalogue")


@dataclass
class PlanOptions:
    """Options of :func:`plan_table` (the CLI flags map one to one)."""

    project: ProjectOptions = field(default_factory=ProjectOptions)
    candidates: tuple[str, ...] = ()  # practices the plan may use (default: the whole catalogue)
    costs: dict[str, float] | None = None  # cost per ha of each available practice (--costs)
    uncertainty: UncertaintyOptions | None = None


@dataclass
class PlanResult:
    """Per-plot plans, farm totals and the baseline ``project`` run behind them.

    ``baseline`` carries the accounting of rows (``n_rows``, ``rejects``, ``not_needed``),
    the problems and the methods of reading and estimating.
    """

    plots: pd.DataFrame
    farms: pd.DataFrame | None
    baseline: ProjectResult
    options: PlanOptions
    methods: list[str]
    notes: list[str]
    practices: tuple[str, ...]


def _without_planned_practices(table: HorizonTable, notes: list[str]) -> HorizonTable:
    """The table without its ``practices`` column: the plan starts from the current management."""
    if "practices" not in table.frame.columns:
        return table
    stated = table.frame["practices"].astype("string").str.strip().replace("", pd.NA).notna().any()
    if stated:
        notes.append("the practices column (planned practices) is not used: plan starts from the current "
                     "management (current_practices and the classes) and searches the catalogue")
    return replace(table, frame=table.frame.drop(columns="practices"))


def plan_table(table: HorizonTable, options: PlanOptions | None = None) -> PlanResult:
    """What each plot of ``table`` needs to reach 4 per 1000 (see the module docstring).

    Parameters
    ----------
    table : HorizonTable
        A horizon or plot table (:func:`fourp1000.projection.table.load_plots_or_horizons`).
    options : PlanOptions

    Returns
    -------
    PlanResult
        ``plots``: one row per plot and model (columns in docs/plan.md); ``farms`` when
        every plot has an area.

    Raises
    ------
    InputError
        ``sampling="all"`` (a plan needs one baseline per plot), or no practice available.
    """
    opts = options or PlanOptions()
    popts = replace(opts.project, practices=())
    if popts.sampling == "all":
        raise InputError("plan needs one sampling per plot: use --sampling latest, first or a date")
    names = available_practices(opts.candidates, opts.costs)
    if not names:
        raise InputError("no practice is available to the plan (check --candidate and the costs file)")
    notes: list[str] = []
    base = project_table(_without_planned_practices(table, notes), popts)
    methods = list(base.methods)
    plots_in = base.plot_inputs if base.plot_inputs is not None else pd.DataFrame(columns=["plot_id", "land_use"])
    plots_in = plots_in[is_in(plots_in["plot_id"], base.plots["plot_id"])].reset_index(drop=True)
    sets = candidate_sets(plots_in, names, costs=opts.costs, tillage_credit=popts.tillage_credit)
    frames = [_model_plan(name, plots_in, sets, base, popts, opts) for name in popts.models]
    plots = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    last = [c for c in ("caveats", "source_row") if c in plots.columns]  # as in every result
    plots = plots[[c for c in plots.columns if c not in last] + last]
    methods.append(method_statement(names, sets, opts))
    farms = plan_farms(plots) if _has_areas(plots) else None
    return PlanResult(plots, farms, base, opts, methods, notes, names)


def _has_areas(plots: pd.DataFrame) -> bool:
    return len(plots) > 0 and "area_ha" in plots and pd.to_numeric(plots["area_ha"], errors="coerce").gt(0).all()


def method_statement(names: tuple[str, ...], sets: CandidateSets, opts: PlanOptions) -> str:
    """The ``Method:`` line of a plan."""
    tie = "cost per ha (--costs), then disruption" if opts.costs is not None else "disruption"
    return (f"plan: every set of the available practices ({', '.join(names)}) that applies to a plot and is "
            f"additional there projected as `project` does ({len(sets.combos)} distinct sets, {sets.plot.size} "
            f"plot-set pairs); the smallest set meeting 4 per 1000 chosen, ties broken by {tie} "
            "(data/plan_disruption.csv); with RothC the extra plant or manure C input solved from the model's "
            "linear response (docs/plan.md)")


def _model_plan(model: str, plots_in: pd.DataFrame, sets: CandidateSets, base: ProjectResult,
                popts: ProjectOptions, opts: PlanOptions) -> pd.DataFrame:
    """One model's plan of every plot."""
    pairs = evaluate(plots_in, sets, popts, model)
    picked = choose(pairs, sets, len(plots_in))
    out = _plan_columns(model, plots_in, base, pairs, picked, sets, popts, opts)
    if model == "rothc" and len(plots_in):
        extra = extra_inputs(plots_in, popts.climate, popts.years, ipcc_version=popts.ipcc_version)
        for col in INPUT_COLUMNS:
            out.insert(out.columns.get_loc("caveats"), col, extra[col].to_numpy())
    if opts.uncertainty is not None and model == "ipcc" and len(plots_in):
        from .confidence import at_confidence

        conf = at_confidence(base, plots_in, sets, pairs, popts, opts.uncertainty)
        for col in conf.columns:
            out.insert(out.columns.get_loc("caveats"), col, conf[col].to_numpy())
    return out


def _plan_columns(model: str, plots_in: pd.DataFrame, base: ProjectResult, pairs: pd.DataFrame,
                  picked: pd.DataFrame, sets: CandidateSets, popts: ProjectOptions, opts: PlanOptions
                  ) -> pd.DataFrame:
    """The per-plot columns of a plan (see docs/plan.md)."""
    at = picked["pair"].to_numpy(np.int64)
    has = at >= 0
    pick = np.maximum(at, 0)
    combo = np.where(has, sets.combo[pick] if len(sets.combo) else 0, 0)

    def from_pairs(col: str, fill: object) -> np.ndarray:
        values = pairs[col].to_numpy()
        return np.where(has, values[pick] if len(values) else fill, fill)

    baseline = _baseline_rows(base, model, plots_in)
    out = pd.DataFrame({"model": model, "plot_id": plots_in["plot_id"].to_numpy()})
    for col in ("farm_id", "area_ha", "sampled_on"):
        if col in baseline.columns:
            out[col] = baseline[col].to_numpy()
    out["years"] = float(popts.years)
    out["baseline_stock_t_ha"] = baseline["baseline_stock_t_ha"].to_numpy(dtype=float)
    out["baseline_source"] = baseline["baseline_source"].to_numpy()
    out["target_gain_t_ha"] = RATE_PER_YEAR * float(popts.years) * out["baseline_stock_t_ha"]
    size = np.where(has, sets.size[combo] if len(sets.size) else 0, 0)
    reachable = picked["reachable"].to_numpy(bool)
    out["plan_status"] = np.where(reachable & (size == 0), STATUSES[0], np.where(reachable, STATUSES[1], STATUSES[2]))
    out["practice_set"] = np.where(has, sets.combos[combo] if len(sets.combos) else "", "").astype(object)
    out["practice_set_size"] = size
    out["practice_set_rate_per_mille"] = from_pairs("rate_per_mille", np.nan).astype(float)
    out["practice_set_annual_change_t_ha_yr"] = from_pairs("annual_change_t_ha_yr", np.nan).astype(float)
    out["reachable"] = reachable
    if opts.costs is not None:
        out["practice_set_cost_per_ha"] = np.where(has, sets.cost_per_ha[combo] if len(sets.combos) else 0.0, np.nan)
    out["n_sets_evaluated"] = picked["n_sets"].to_numpy()
    deficit = baseline["saturation_deficit_t_ha"].to_numpy(dtype=float)
    out["saturation_deficit_t_ha"] = deficit
    out["target_within_capacity"] = pd.array(np.where(np.isfinite(deficit), out["target_gain_t_ha"] <= deficit + 1e-9,
                                                      pd.NA), dtype="boolean")
    out["caveats"] = from_pairs("caveats", "").astype(object)
    if "source_row" in plots_in.columns:
        out["source_row"] = plots_in["source_row"].to_numpy()
    return out


def _baseline_rows(base: ProjectResult, model: str, plots_in: pd.DataFrame) -> pd.DataFrame:
    """The baseline run's rows of one model, in the order of ``plots_in``."""
    rows = base.plots
    if "model" in rows.columns:
        rows = rows[rows["model"] == model]
    rows = rows.set_index(rows["plot_id"].astype(str))
    rows = rows[~rows.index.duplicated()]
    return rows.reindex(plots_in["plot_id"].astype(str)).reset_index(drop=True)


def practice_set_label(practice_set: str) -> str:
    """A set for people: ``cover_crops + manure`` (``no practice`` for the empty set)."""
    names = [p for p in str(practice_set).split(SEPARATOR) if p]
    return " + ".join(names) if names else "no practice"
