"""From a horizon (or plot) table to projected stocks and 4 per 1000 verdicts per plot and farm.

This is the library behind ``fourp1000 project`` and ``fourp1000 score``:

1. the table is reduced to one row per plot: plot attributes (climate zone, soil class,
   management, practices, farm, area) and, where the plot has layers, its measured SOC
   stock over 0-30 cm (the IPCC Tier 1 depth) from :func:`fourp1000.stocks.estimate.estimate_stocks`
   (the latest sampling date, mean over cores);
2. :func:`fourp1000.projection.tier1.project` projects each plot under its practices;
3. plots are aggregated by farm (area-weighted).

A plot table with no layers at all (only plot attributes) is accepted: every plot then
starts from the IPCC default stock SOC_REF x F_LU x F_MG x F_I.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import ipcc
from ..io.climate import ClimateTable
from ..errors import FourP1000Error, InputError, Problem, ValidationError
from ..io.rejects import rejected_rows
from ..stocks.depth import overlap_cm
from ..io.horizons import PROBLEM_COLUMNS, HorizonTable, is_in
from ..stocks.estimate import EstimateOptions, estimate_stocks
from .models import MODELS, ModelRun, ProjectionModel
from .tier1 import MEASURED_STOCK_COLUMN, aggregate_farms

PLOT_ATTRIBUTES = (
    "farm_id", "area_ha", "climate_zone", "soil_class", "land_use", "tillage", "input_level",
    "grassland_condition", "practices", "mat_c", "map_mm", "pet_mm", "elevation_m", "clay_pct",
    "climate_id", "cover_months", "dpm_rpm_ratio", "current_practices", "silt_pct",
)
# Tier 1 stock change factors and SOC_REF are defined for 0-30 cm.
TIER1_TOP_CM, TIER1_BOTTOM_CM = 0.0, 30.0


@dataclass
class ProjectOptions:
    """Options of :func:`project_table` (the CLI flags map one to one)."""

    practices: tuple[str, ...] = ()
    years: int = 20
    ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION
    method: str = "ipcc"
    rate_years: float | None = None
    models: tuple[str, ...] = ("ipcc",)
    climate: ClimateTable | None = None  # monthly climate for the RothC model
    tillage_credit: str = "ipcc"  # "none": tillage practices are not credited (--tillage-credit)
    cap_at_capacity: bool = False  # cap gains at the saturation deficit (--cap-at-capacity)
    sampling: str = "latest"  # which sampling of each plot: latest, first, all or a date (SAMPLING_CHOICES)
    observed: bool = False  # add the observed rate over all samplings (--observed; projection.observed)
    observed_confidence: float = 0.9  # one-sided confidence of observed_meets_4p1000 (--confidence)
    estimate: EstimateOptions = field(default_factory=lambda: EstimateOptions(top_cm=TIER1_TOP_CM,
                                                                              bottom_cm=TIER1_BOTTOM_CM))

    def __post_init__(self) -> None:
        self.models = MODELS.check(tuple(self.models))


@dataclass
class ProjectResult:
    """Per-plot projections, farm totals, rejects and the accounting of rows."""

    plots: pd.DataFrame
    farms: pd.DataFrame | None
    problems: pd.DataFrame
    rejects: pd.DataFrame
    n_rows: int
    methods: list[str]
    options: ProjectOptions
    runs: dict[str, ModelRun] = field(default_factory=dict)  # each model's own result, by name
    # The per-record stocks of estimate_stocks behind the measured baselines (bd_estimated,
    # extrapolated_cm, ...): what a reader must know about each plot's measurement.
    stocks: pd.DataFrame | None = None
    #: Rows of the samplings not chosen by ``options.sampling`` (``row``, ``reason``);
    #: ``n_rows == rows used + len(not_needed) + len(rejects)``.
    not_needed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "reason"]))
    #: The rows of the chosen samplings (the table the stocks come from).
    used_table: HorizonTable | None = None
    #: Which samplings the stocks come from, e.g. "latest sampling (2014)" ("" without dates).
    sampling_label: str = ""
    #: The plot table the models projected (one row per accepted plot: attributes, measured
    #: and depth stocks); None for ``sampling="all"``. ``plan`` projects it again under
    #: other practices.
    plot_inputs: pd.DataFrame | None = None
    #: With ``options.observed``: the stock of every plot at every sampling
    #: (:func:`fourp1000.stocks.trend.sampling_stocks`), and the rows of samplings not
    #: projected that the observed rate uses (counted apart from ``not_needed``'s rows).
    samplings: pd.DataFrame | None = None
    observed_rows: int = 0

    def trajectory(self) -> pd.DataFrame:
        """Yearly stocks, long format (plot_id, year, stock_t_ha; and model when ``plots`` has a model column)."""
        parts = {name: MODELS[name].trajectory(run, self.options) for name, run in self.runs.items()}
        if "model" not in self.plots.columns:
            return next(iter(parts.values()))
        return pd.concat([part.assign(model=name)[["model", "plot_id", "year", "stock_t_ha"]]
                          for name, part in parts.items()], ignore_index=True)


def plot_table(table: HorizonTable, options: EstimateOptions
               ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, list[str], pd.DataFrame | None]:
    """One row per plot: attributes and measured 0-30 cm stock (NaN where no layers).

    Returns ``(plots, problems, rejects, methods, stocks)``, ``stocks`` being the per-record
    table of :func:`~fourp1000.stocks.estimate.estimate_stocks` (None without layers). Plots whose layers cannot be scored
    are rejected (with ``on_error="skip"``) or raise (``"fail"``).
    """
    frame = table.frame
    has_layers = frame[["top_cm", "bottom_cm", "soc_g_kg"]].notna().any(axis=1).to_numpy()
    layer_plots = set(frame.loc[has_layers, "plot_id"].dropna())
    in_layer_plot = is_in(frame["plot_id"], layer_plots)
    methods: list[str] = []
    # Problems on rows of plots without layers (attribute rows) are checked here.
    p = table.problems
    other = p[~in_layer_plot[p["position"].to_numpy(dtype=np.int64)]] if len(p) else p
    other_errors = other[other["severity"] == "error"] if len(other) else other
    problems = [other] if len(other) else []
    rejects = [_rejects_for_plots(table, set(other_errors["plot_id"].dropna()), other_errors)] if len(other_errors) else []
    measured = pd.Series(dtype=float)
    stocks = None
    bad_plots = set(other_errors["plot_id"].dropna()) if len(other_errors) else set()
    if len(other_errors) and options.on_error == "fail":
        if layer_plots:
            try:
                estimate_stocks(_subset(table, in_layer_plot), options)
            except ValidationError as exc:
                raise ValidationError(sorted(exc.problems + table.problem_list(other_errors),
                                             key=lambda q: (q.row is None, q.row or 0))) from None
        raise ValidationError(table.problem_list(other_errors))
    depth_cols: dict[str, pd.Series] = {}
    if layer_plots:
        est = estimate_stocks(_subset(table, in_layer_plot), options)
        problems.append(est.problems)
        rejects.append(est.rejects)
        methods.extend(est.methods)
        measured = _latest_mean_stock(est.plots)
        stocks = est.plots
        bad_plots |= set(layer_plots) - set(measured.index)
        depth_cols = _depth_stocks(_subset(table, in_layer_plot), options, est, measured)
        measured = depth_cols.pop(MEASURED_STOCK_COLUMN, measured)
    no_id = frame["plot_id"].isna().to_numpy()
    if no_id.any():
        rejects.append(rejected_rows(table, np.flatnonzero(no_id), "plot_id is empty"))
    attrs = _plot_attributes(frame)
    attrs["clay_pct"] = _by_plot(attrs["plot_id"], _plot_clay(frame, options.top_cm, options.bottom_cm))
    if "silt_pct" in frame.columns:
        attrs["silt_pct"] = _by_plot(attrs["plot_id"], _plot_clay(frame, options.top_cm, options.bottom_cm,
                                                                  "silt_pct"))
    if "sampled_on" in frame:  # one sampling per plot here (select_sampling)
        dates = frame.loc[has_layers].groupby("plot_id", sort=False)["sampled_on"].first()
        attrs["sampled_on"] = attrs["plot_id"].map(dates).to_numpy(dtype=object)
    attrs = attrs[~is_in(attrs["plot_id"], bad_plots) & attrs["plot_id"].notna().to_numpy()].reset_index(drop=True)
    attrs[MEASURED_STOCK_COLUMN] = _by_plot(attrs["plot_id"], measured)
    for name, values in depth_cols.items():
        attrs[name] = _by_plot(attrs["plot_id"], values)
    all_problems = pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=PROBLEM_COLUMNS)
    all_rejects = pd.concat(rejects, ignore_index=True) if rejects else rejected_rows(table, [], [])
    return attrs, all_problems, all_rejects, methods, stocks


def project_table(table: HorizonTable, options: ProjectOptions | None = None) -> ProjectResult:
    """Project every plot of ``table`` with each model of ``options.models`` and aggregate by farm.

    Each model first validates its inputs over all plots (:attr:`ProjectionModel.validate`);
    the problems found are listed by row. With ``options.estimate.on_error == "skip"`` the
    plots concerned are rejected (from every model) and the others projected, each model
    once; with ``"fail"`` a :class:`ValidationError` lists every problem.
    """
    opts = options or ProjectOptions()
    if opts.sampling == "all":
        return _with_observed(table, _project_every_sampling(table, opts))
    chosen = select_sampling(table, opts.sampling)
    if len(chosen.rejects) and opts.estimate.on_error == "fail":
        raise ValidationError(table.problem_list(chosen.problems))
    if not len(chosen.table.frame):  # every plot lacks the requested sampling: nothing to project
        result = ProjectResult(pd.DataFrame(columns=["plot_id", "meets_4p1000"]), None, chosen.problems,
                               pd.DataFrame(columns=["row", "reason"]), 0, [], opts)
    else:
        result = _project_rows(chosen.table, opts)
    result.rejects = _sorted_rejects(pd.concat([chosen.rejects, result.rejects], ignore_index=True))
    result.not_needed, result.used_table, result.n_rows = chosen.not_needed, chosen.table, len(table.frame)
    result.sampling_label = chosen.label
    return _with_observed(table, result)


def _with_observed(table: HorizonTable, result: ProjectResult) -> ProjectResult:
    """With ``--observed``: the measured rate over all samplings beside the projected one."""
    if result.options.observed and len(result.plots):
        from .observed import add_observed

        add_observed(table, result, result.options.observed_confidence)
    return result


def _project_every_sampling(table: HorizonTable, opts: ProjectOptions) -> ProjectResult:
    """Every sampling of every plot projected from its own stock (``sampling="all"``).

    Plots are projected one sampling rank at a time (each plot's first sampling, then its
    second, ...), so that each run holds one row per plot; farms are totalled per date.
    """
    frame = table.frame
    layered = frame[["top_cm", "bottom_cm", "soc_g_kg"]].notna().any(axis=1).to_numpy()
    if "sampled_on" not in frame or not layered.any():
        result = _project_rows(table, opts)
        result.used_table = table
        return result
    when = sampling_order(frame["sampled_on"]).fillna(pd.Timestamp.min)
    rank = when.where(layered).groupby(frame["plot_id"].astype("string").fillna("")).rank(method="dense")
    parts = []
    for r in range(1, int(rank.max()) + 1):  # a few ranks, each vectorised over plots
        plots_r = frame["plot_id"][(rank == r).to_numpy()].unique()
        parts.append(_project_rows(_subset(table, is_in(frame["plot_id"], plots_r)
                                           & (~layered | (rank == r).to_numpy())), opts))
    plots = pd.concat([p.plots for p in parts], ignore_index=True).sort_values("source_row", kind="stable")
    plots = plots.reset_index(drop=True)
    farms = farm_table(plots, every_sampling=True)
    rejects = _sorted_rejects(pd.concat([p.rejects for p in parts], ignore_index=True))
    problems = pd.concat([p.problems for p in parts], ignore_index=True)
    methods = list(dict.fromkeys(m for p in parts for m in p.methods))
    return ProjectResult(plots, farms, problems, rejects.reset_index(drop=True), len(frame), methods, opts,
                         parts[-1].runs, used_table=table, sampling_label="all samplings")


def _project_rows(table: HorizonTable, opts: ProjectOptions) -> ProjectResult:
    """:func:`project_table` on the rows of one sampling per plot."""
    plots, problems, rejects, methods, stocks = plot_table(table, opts.estimate)
    plots = derive_climate_zone(plots, methods)
    models = [MODELS[name] for name in opts.models]
    errors, prepared = _prepare(plots, models, opts)
    missing = missing_columns(plots, models, opts, errors)
    if missing:
        raise ValidationError([Problem(table.label, None, c, "missing_column",
                                       f"required column {c} is missing or empty (needed by --model {','.join(opts.models)})")
                               for c in missing])
    fail = opts.estimate.on_error == "fail"
    # plot id of each row, for the messages: built only when there is something to report
    plot_ids = _plot_ids_by_row(plots) if errors else {}
    if errors and (fail or any(e.rows is None for e in errors)):
        raise _validation_error(table, problems, errors, plot_ids)
    accepted = plots[~plots["source_row"].isin(_rows(errors))].reset_index(drop=True)
    if not len(accepted):  # every plot rejected (skip mode): nothing to project, say why
        raise _validation_error(table, problems, errors, plot_ids)
    runs = {model.name: model.project(accepted, opts, **_reuse(prepared.get(model.name), accepted))
            for model in models}
    late = [e for run in runs.values() for e in run.problems]
    if late:
        plot_ids = plot_ids or _plot_ids_by_row(plots)
        if fail:
            raise _validation_error(table, problems, late, plot_ids)
        errors += late
        runs = {name: _without_rows(run, _rows(late)) for name, run in runs.items()}
    if errors:
        extra = _problem_frame([p for e in errors for p in e.problems(table.label, plot_ids)])
        problems = pd.concat([problems, extra], ignore_index=True)
        rejects = pd.concat([rejects, _rejects_for_plots(table, set(extra["plot_id"].dropna()), extra)],
                            ignore_index=True)
    rejects = _sorted_rejects(rejects)
    result = _with_sampling_date(_combine(runs), plots)
    farms = farm_table(result)
    methods.extend(model.method_statement(opts) for model in models)
    return ProjectResult(result, farms, problems, rejects, len(table.frame), methods, opts, runs, stocks,
                         plot_inputs=accepted)


def _plot_ids_by_row(plots: pd.DataFrame) -> dict[int, str]:
    """Each plot's ``plot_id`` by its ``source_row``."""
    return dict(zip(plots["source_row"].astype(int), plots["plot_id"].astype(str)))


def _sorted_rejects(rejects: pd.DataFrame) -> pd.DataFrame:
    if not len(rejects):
        return rejects
    rejects = rejects.drop_duplicates(subset="row", keep="first").sort_values("row", kind="stable")
    return rejects.reset_index(drop=True)


def _with_sampling_date(result: pd.DataFrame, plots: pd.DataFrame) -> pd.DataFrame:
    """``sampled_on`` of the sampling each result row comes from, after the plot's ids."""
    if "sampled_on" not in plots or "source_row" not in result or not len(result):
        return result
    date = plots.set_index("source_row")["sampled_on"]
    at = [c for c in ("model", "plot_id", "farm_id", "area_ha") if c in result.columns]
    result = result.copy()
    result.insert(len(at), "sampled_on", result["source_row"].map(date).to_numpy())
    return result


def _validate(plots: pd.DataFrame, models: list[ProjectionModel], opts: ProjectOptions) -> list[FourP1000Error]:
    """Every model's problems; a model checks only the plots the models before it accept."""
    return _prepare(plots, models, opts)[0]


def _prepare(plots: pd.DataFrame, models: list[ProjectionModel], opts: ProjectOptions
             ) -> tuple[list[FourP1000Error], dict[str, tuple[np.ndarray, object]]]:
    """:func:`_validate`, and for each model with ``prepare`` the rows it prepared and its inputs."""
    errors: list[FourP1000Error] = []
    prepared: dict[str, tuple[np.ndarray, object]] = {}
    for model in models:  # a plot refused by one model is refused by all
        accepted = plots[~plots["source_row"].isin(_rows(errors))].reset_index(drop=True) if errors else plots
        if model.prepare is None:
            errors += model.validate(accepted, opts)
        else:
            found = model.prepare(accepted, opts)
            errors += found.errors
            if found.inputs is not None:
                prepared[model.name] = (accepted["source_row"].to_numpy(), found.inputs)
        if any(e.rows is None for e in errors):
            break
    return errors, prepared


def _reuse(prepared: tuple[np.ndarray, object] | None, plots: pd.DataFrame) -> dict[str, object]:
    """``project``'s ``prepared`` keyword when the model prepared exactly ``plots``."""
    if prepared is None or not np.array_equal(prepared[0], plots["source_row"].to_numpy()):
        return {}
    return {"prepared": prepared[1]}


_NO_COLUMN = re.compile(r"no column '(\w+)'|no (\w+) column")


def missing_columns(plots: pd.DataFrame, models: list[ProjectionModel], opts: ProjectOptions,
                    errors: list[FourP1000Error]) -> list[str]:
    """Every plot column the models need that the table lacks (or leaves empty), found in one run.

    A model's check stops at the first absent column it meets. Each absent column named in
    ``errors`` (by the error's ``column``, or "no column 'X'" in its message) is added to a
    copy of the plots, empty, then filled with a value the next check accepts (the first
    of the error's ``valid`` values), and the models validate the copy again, until no
    absent column is named: each is then reported at once rather than one per run.
    """
    if not errors:  # nothing named absent: no probe to build
        return []
    probe, missing = plots.copy(), []
    # --practice gives every plot its practices: an error about them is about a value, not a missing column
    supplied = {"practices"} if opts.practices else set()
    for _ in range(2 * len(PLOT_ATTRIBUTES) + 2):
        changed = False
        for exc in errors:
            found = _NO_COLUMN.search(str(exc)) if exc.column is None else None
            col = exc.column or (found and (found.group(1) or found.group(2)))
            if not col or col in supplied or (col in plots.columns and plots[col].notna().any()):
                continue
            if col not in missing:
                missing.append(col)
                probe[col] = pd.Series(pd.NA, index=probe.index, dtype=object)
                changed = True
            elif exc.valid and probe[col].isna().all():
                probe[col] = exc.valid[0]  # a placeholder, so the check goes on to the next column
                changed = True
        if not changed:
            break
        errors = _validate(probe, models, opts)
    return missing


def _rows(errors: list[FourP1000Error]) -> list[int]:
    return [row for e in errors for row in (e.rows or [])]


def _validation_error(table: HorizonTable, problems: pd.DataFrame, errors: list[FourP1000Error],
                      plot_ids: dict[int, str]) -> ValidationError:
    """The table's errors and the models' problems, every one listed."""
    extra = _problem_frame([p for e in errors for p in e.problems(table.label, plot_ids)])
    all_problems = pd.concat([problems, extra], ignore_index=True)
    return ValidationError(table.problem_list(all_problems[all_problems["severity"] == "error"]))


def _without_rows(run: ModelRun, rows: list[int]) -> ModelRun:
    """A model's run less the plots of ``rows`` (plots are projected independently)."""
    keep = ~run.plots["source_row"].isin(rows)
    dropped = set(run.plots.loc[~keep, "plot_id"])
    trajectory = run.trajectory
    if trajectory is not None:
        trajectory = trajectory[~is_in(trajectory["plot_id"], dropped)].reset_index(drop=True)
    stocks = None if run.stocks_t_ha is None else run.stocks_t_ha.take(keep.to_numpy())
    return ModelRun(run.plots[keep].reset_index(drop=True), trajectory, run.problems, stocks)


def _combine(runs: dict[str, ModelRun]) -> pd.DataFrame:
    """One model's plots as they are; several models in one long table with a ``model`` column."""
    if len(runs) == 1:
        return next(iter(runs.values())).plots
    frames = []
    for name, run in runs.items():
        frame = run.plots
        if "model" not in frame.columns:
            frame = frame.copy()
            ids = [c for c in ("plot_id", "farm_id", "area_ha") if c in frame.columns]
            frame.insert(len(ids), "model", name)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def farm_table(plots: pd.DataFrame, every_sampling: bool = False) -> pd.DataFrame | None:
    """Farm totals of projected plots, or None unless every plot has ``area_ha``.

    With ``every_sampling`` (``sampling="all"``) farms are totalled per sampling date. The
    streaming engine calls this on the plots of a whole streamed run (farms need all their
    plots), as :func:`project_table` does on the plots of one table.
    """
    if "area_ha" not in plots or not len(plots) or not plots["area_ha"].notna().all():
        return None
    if not every_sampling:
        return _aggregate(plots)
    return pd.concat([_aggregate(plots[plots["sampled_on"] == d]).assign(sampled_on=d)
                      for d in pd.unique(plots["sampled_on"])], ignore_index=True)


def _aggregate(result: pd.DataFrame) -> pd.DataFrame:
    """Farm totals; per model (a ``model`` column first) when the result holds several models."""
    if "model" not in result.columns:
        return aggregate_farms(result)
    parts = [aggregate_farms(result[result["model"] == m]).assign(model=m)
             for m in pd.unique(result["model"])]  # one group per model
    farms = pd.concat(parts, ignore_index=True)
    return farms[["model"] + [c for c in farms.columns if c != "model"]]


def _subset(table: HorizonTable, mask: np.ndarray) -> HorizonTable:
    positions = np.flatnonzero(mask)
    remap = np.full(len(mask), -1)
    remap[positions] = np.arange(positions.size)
    problems = table.problems
    if len(problems):
        pos = problems["position"].to_numpy(dtype=np.int64)
        keep = mask[pos]
        problems = problems[keep].copy()
        problems["position"] = remap[pos[keep]]
    return HorizonTable(
        table.frame.iloc[positions].reset_index(drop=True), problems.reset_index(drop=True), table.label,
        table.raw.iloc[positions].reset_index(drop=True), table.notes, table.source_columns, table.columns,
    )


SAMPLING_CHOICES = ("latest", "first", "all")
"""``sampling`` values besides a date (``sampled_on`` as written, or a year)."""


@dataclass
class SamplingChoice:
    """Result of :func:`select_sampling`: the rows kept and the accounting of the others."""

    table: HorizonTable  # the rows of the chosen sampling of each plot, and rows without layers
    not_needed: pd.DataFrame  # row, reason: layers of the samplings not chosen
    rejects: pd.DataFrame  # plots without the requested date (as rejected_rows)
    problems: pd.DataFrame  # the same as problems (PROBLEM_COLUMNS)
    label: str  # e.g. "latest sampling (2014)"


def select_sampling(table: HorizonTable, sampling: str = "latest") -> SamplingChoice:
    """Keep, per plot, the layers of one sampling: the latest, the first, or that of a date.

    Parameters
    ----------
    table : HorizonTable
    sampling : str
        ``"latest"`` (default), ``"first"``, ``"all"`` (every row kept) or a date: a
        ``sampled_on`` value as written, an ISO date, or a year (matches every date of that year).

    Returns
    -------
    SamplingChoice
        Layers of other samplings are not needed (counted apart, with a reason); with a date,
        the rows of a plot without a sampling on that date are rejected. Undated layers of a
        dated plot count as the earliest. Rows without layers (plot attributes) are kept.
    """
    frame = table.frame
    empty = pd.DataFrame(columns=["row", "reason"])
    if "sampled_on" not in frame or sampling == "all" or not len(frame):
        return SamplingChoice(table, empty, rejected_rows(table, [], []), pd.DataFrame(columns=PROBLEM_COLUMNS), "")
    layered = frame[["top_cm", "bottom_cm", "soc_g_kg"]].notna().any(axis=1).to_numpy()
    when = sampling_order(frame["sampled_on"])
    plot = frame["plot_id"].astype("string").fillna("")
    missing = np.zeros(len(frame), dtype=bool)
    if sampling in ("latest", "first"):
        target = when.where(layered).groupby(plot).transform("max" if sampling == "latest" else "min")
        chosen = (when == target).to_numpy() | target.isna().to_numpy()
        phrase, other = f"{sampling} sampling", "earlier" if sampling == "latest" else "later"
    else:
        chosen = _on_date(frame["sampled_on"], when, sampling)
        missing = layered & ~pd.Series(chosen & layered).groupby(plot.to_numpy()).transform("any").to_numpy()
        phrase, other = f"sampling on {sampling}", "other"
    keep = ~layered | chosen
    unused = layered & ~keep & ~missing
    not_needed = pd.DataFrame({"row": frame["source_row"].to_numpy()[unused],
                               "reason": f"row of an {other} sampling: not used (sampling: {sampling})"})
    rejects, problems = _no_sampling_on(table, missing, sampling)
    label = _dates_label(frame["sampled_on"][keep & layered & ~missing], when[keep & layered & ~missing])
    return SamplingChoice(_subset(table, keep & ~missing), not_needed, rejects, problems,
                          f"{phrase} ({label})" if label else phrase)


def _on_date(values: pd.Series, when: pd.Series, sampling: str) -> np.ndarray:
    """Rows sampled on ``sampling``: the same text, the same date, or (a year) any date of that year."""
    text = values.astype("string").str.strip()
    same = (text == sampling.strip()).fillna(False).to_numpy()
    if sampling.strip().isdigit() and len(sampling.strip()) == 4:
        return same | (when.dt.year == int(sampling)).fillna(False).to_numpy()
    date = pd.to_datetime(sampling, errors="coerce")
    return same | ((when == date).fillna(False).to_numpy() if not pd.isna(date) else False)


def _no_sampling_on(table: HorizonTable, missing: np.ndarray, sampling: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Rejected rows and problems for the plots without a sampling on the requested date."""
    at = np.flatnonzero(missing)
    frame = table.frame
    dates = frame["sampled_on"].astype("string").fillna("undated").groupby(frame["plot_id"]).agg(
        lambda v: ", ".join(sorted(set(v)))) if at.size else pd.Series(dtype=object)
    messages = (f"no sampling on {sampling} (samplings: "
                + frame["plot_id"].iloc[at].map(dates).astype(str) + ")").to_numpy(dtype=object)
    problems = pd.DataFrame({"position": at, "row": frame["source_row"].to_numpy()[at],
                             "plot_id": frame["plot_id"].to_numpy()[at], "column": "sampled_on",
                             "rule": "no_sampling", "message": messages, "severity": "error"},
                            columns=PROBLEM_COLUMNS)
    return rejected_rows(table, at, messages), problems


def _dates_label(values: pd.Series, when: pd.Series) -> str:
    """The date, or the first and last dates, of the samplings used."""
    if not len(values):
        return ""
    order = np.argsort(when.to_numpy(), kind="stable")
    first, last = str(values.iloc[order[0]]), str(values.iloc[order[-1]])
    return first if first == last else f"{first} to {last}"


def _latest_mean_stock(plots: pd.DataFrame) -> pd.Series:
    """Measured stock per plot_id: mean over cores, at the latest sampling date."""
    if plots.empty:
        return pd.Series(dtype=float)
    frame = plots[["plot_id", "soc_stock_t_ha"] + (["sampled_on"] if "sampled_on" in plots else [])].copy()
    if "sampled_on" in frame:
        frame["_when"] = sampling_order(frame["sampled_on"])
        frame = frame.groupby(["plot_id", "_when"], sort=False, dropna=False)["soc_stock_t_ha"].mean().reset_index()
        frame = frame.sort_values(["plot_id", "_when"], kind="stable").groupby("plot_id").tail(1)
        return frame.set_index("plot_id")["soc_stock_t_ha"]
    return frame.groupby("plot_id", sort=False)["soc_stock_t_ha"].mean()


def sampling_order(values: pd.Series) -> pd.Series:
    """Sortable sampling dates: years and ISO dates both become timestamps."""
    text = values.astype("string")
    years = pd.to_numeric(text, errors="coerce")
    dates = pd.to_datetime(text.where(years.isna()), errors="coerce", format="mixed")
    from_years = pd.to_datetime(years.dropna().astype(int).astype(str) + "-01-01", errors="coerce")
    return dates.fillna(from_years.reindex(values.index))


def _by_plot(plot_id: pd.Series, values: pd.Series) -> np.ndarray:
    """``values`` (indexed by plot_id) for each of ``plot_id``, as floats (NaN where none).

    Per-plot series built by the same grouping are already in ``plot_id``'s order: then
    they are taken as they are, without a lookup of every id.
    """
    if not len(values):
        return np.full(len(plot_id), np.nan)
    if len(values) == len(plot_id) and (values.index.to_numpy() == plot_id.to_numpy()).all():
        return values.to_numpy(dtype=float)
    return plot_id.map(values).to_numpy(dtype=float)


def _plot_attributes(frame: pd.DataFrame) -> pd.DataFrame:
    cols = [c for c in PLOT_ATTRIBUTES if c in frame.columns]
    keep = ["plot_id", "source_row"] + cols
    sub = frame[keep]
    if cols and "sampled_on" in frame:
        # The latest sampling carries the current management; attributes are per plot anyway.
        pass
    plot_id = frame["plot_id"]
    if plot_id.notna().all() and plot_id.is_unique:  # one row per plot (a plot table): each row is its plot's
        out = sub.reset_index(drop=True)
    else:
        out = sub.groupby("plot_id", sort=False, dropna=True).first().reset_index()
    if "clay_pct" in out:
        out = out.drop(columns="clay_pct")  # a layer property: plot_table sets the 0-30 cm mean
    return out


def _depth_stocks(table: HorizonTable, options: EstimateOptions, est, stock: pd.Series) -> dict[str, pd.Series]:
    """Stocks behind the depth rule of :mod:`fourp1000.projection.verdict`, by plot_id.

    Always the fine-earth mass of the stock's depth [t ha-1]. For a depth other than
    0-30 cm also the stock of that depth, the 0-30 cm stock the models project
    (``measured_stock_t_c_ha``; the requested stock where 0-30 cm cannot be estimated)
    and the stock of the overlap of the depth with 0-30 cm.
    """
    from dataclasses import replace

    from .verdict import DEPTH_STOCK_COLUMN, FINE_EARTH_COLUMN, OVERLAP_STOCK_COLUMN

    layers = est.layers
    mass = np.zeros(len(est.plots))
    if layers is not None and len(layers):
        np.add.at(mass, layers["record"].to_numpy(dtype=np.int64),
                  layers["fine_earth_density_g_cm3"].to_numpy(dtype=float) * layers["overlap_cm"].to_numpy(dtype=float)
                  * 100.0)  # g cm-3 x cm -> t ha-1
    out = {FINE_EARTH_COLUMN: _latest_mean_stock(est.plots.assign(soc_stock_t_ha=mass))}
    top, bottom = float(options.top_cm), float(options.bottom_cm)
    if (top, bottom) == (TIER1_TOP_CM, TIER1_BOTTOM_CM):
        return out

    def stock_over(lo: float, hi: float) -> pd.Series:
        part = estimate_stocks(table, replace(options, top_cm=lo, bottom_cm=hi, on_error="skip"))
        return _latest_mean_stock(part.plots)

    s30 = stock_over(TIER1_TOP_CM, TIER1_BOTTOM_CM).reindex(stock.index)
    lo, hi = max(top, TIER1_TOP_CM), min(bottom, TIER1_BOTTOM_CM)
    overlap = (stock_over(lo, hi).reindex(stock.index) if hi > lo
               else pd.Series(0.0, index=stock.index))
    out[DEPTH_STOCK_COLUMN] = stock
    out[MEASURED_STOCK_COLUMN] = s30.fillna(stock)
    out[OVERLAP_STOCK_COLUMN] = overlap.where(s30.notna())
    return out


def _plot_clay(frame: pd.DataFrame, top_cm: float, bottom_cm: float, column: str = "clay_pct") -> pd.Series:
    """Clay content [%] (or another layer ``column``) of each plot over the stock interval, by plot_id.

    Layers are weighted by their overlap with the interval (a thickness-weighted mean, the
    discrete form of the depth average of FAO's GSOCseq manual, eq. 6.1). A plot without
    layer clay takes the value of its plot row (a plot table gives ``clay_pct`` per plot).
    """
    if column not in frame.columns:
        return pd.Series(dtype=float)
    clay = pd.to_numeric(frame[column], errors="coerce").to_numpy(dtype=float)
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    overlap = overlap_cm(top, bottom, top_cm, bottom_cm)
    weight = np.where(np.isfinite(clay) & np.isfinite(overlap), overlap, 0.0)
    weighted = weight * np.where(np.isfinite(clay), clay, 0.0)
    plain = np.where(np.isfinite(top) | np.isfinite(bottom), np.nan, clay)
    plot_id = frame["plot_id"]
    if plot_id.notna().all() and plot_id.is_unique:  # one row per plot: no grouping
        layered = np.divide(weighted, weight, out=np.full(len(weight), np.nan), where=weight > 0)
        return pd.Series(np.where(np.isnan(layered), plain, layered),
                         index=pd.Index(plot_id.to_numpy(dtype=object), name="plot_id"))
    sums = pd.DataFrame({"plot_id": plot_id.to_numpy(dtype=object), "w": weight, "wc": weighted, "plain": plain})
    grouped = sums.groupby("plot_id", sort=False).agg(w=("w", "sum"), wc=("wc", "sum"), plain=("plain", "first"))
    layered = grouped["wc"] / grouped["w"].where(grouped["w"] > 0)
    return layered.fillna(grouped["plain"])


def derive_climate_zone(plots: pd.DataFrame, methods: list[str]) -> pd.DataFrame:
    needed = ("mat_c", "map_mm", "pet_mm", "elevation_m")
    if not all(c in plots for c in needed):
        return plots
    zone = plots["climate_zone"] if "climate_zone" in plots else pd.Series(pd.NA, index=plots.index, dtype="string")
    missing = zone.isna() & plots[list(needed)].notna().all(axis=1)
    if not missing.any():
        return plots
    derived = ipcc.climate_zone_from_climate(*(plots.loc[missing, c].to_numpy(dtype=float) for c in needed))
    plots = plots.copy()
    plots["climate_zone"] = zone.astype(object)
    plots.loc[missing, "climate_zone"] = np.asarray(derived, dtype=object)
    methods.append(f"climate zone derived for {int(missing.sum())} plots from mat_c, map_mm, pet_mm, elevation_m "
                   "(IPCC 2019 Vol. 4 Ch. 3 Annex 3A.5 scheme)")
    return plots


def _problem_frame(problems: list[Problem]) -> pd.DataFrame:
    return pd.DataFrame(
        [{"position": -1, "row": p.row, "plot_id": p.plot_id, "column": p.column, "rule": p.rule,
          "message": p.message, "severity": p.severity} for p in problems],
        columns=PROBLEM_COLUMNS,
    )


def _rejects_for_plots(table: HorizonTable, plot_ids: set, problems: pd.DataFrame) -> pd.DataFrame:
    mask = is_in(table.frame["plot_id"], plot_ids)
    reason = problems.dropna(subset=["plot_id"]).groupby("plot_id")["message"].first()
    messages = table.frame.loc[mask, "plot_id"].map(reason).fillna("plot has errors")
    return rejected_rows(table, np.flatnonzero(mask), ("plot not projected: " + messages.astype(str)).to_numpy())


def load_plots_or_horizons(raw, *, som_factor, bd_basis, column_map) -> HorizonTable:
    """Normalise a table that may hold layers or only plot attributes.

    A table without depth and SOC columns is a plot table: the required horizon columns
    are then not required.
    """
    from ..io.columns import resolve
    from ..io.horizons import normalise

    # Headers, joined ids and constants (--set, the map's constants) all give columns.
    present = resolve(list(raw.frame.columns), raw.label, column_map).present()
    if not ({"top_cm", "bottom_cm"} & present) and not ({"soc_g_kg", "soc_pct", "som_pct"} & present):
        frame = raw.frame.copy()
        for col in ("top_cm", "bottom_cm"):
            frame[col] = np.nan
        frame["soc_g_kg"] = np.nan
        raw = type(raw)(frame, raw.label, raw.rows, raw.dialect)
    table = normalise(raw, som_factor=som_factor, bd_basis=bd_basis, column_map=column_map)
    if len(table.problems):
        # Plot rows with no layer data are not missing depths.
        no_layer = table.frame[["top_cm", "bottom_cm", "soc_g_kg"]].isna().all(axis=1).to_numpy()
        p = table.problems
        drop = (p["rule"] == "missing_value") & p["column"].isin([table.source_columns.get("top_cm", "top_cm"),
                                                                    table.source_columns.get("bottom_cm", "bottom_cm")])
        drop &= no_layer[p["position"].to_numpy(dtype=np.int64)]
        table.problems = p[~drop].reset_index(drop=True)
    return table


__all__ = ["ProjectOptions", "ProjectResult", "project_table", "farm_table", "plot_table", "load_plots_or_horizons", "missing_columns",
           "InputError", "SAMPLING_CHOICES", "SamplingChoice", "select_sampling", "sampling_order"]
