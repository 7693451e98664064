"""Measured change between sampling campaigns (the library behind ``fourp1000 compare``).

Wraps :func:`fourp1000.esm.compare_samplings` for one or two horizon tables: bulk density
filled as ``estimate`` does (:func:`fourp1000.esm.prepare.prepare_layers`), row-level
problems from the loader, plot-level problems from the comparison, and the accounting of
every input row (used, rejected with a reason, or not needed with a reason), the reason of
every plot without a 4 per 1000 verdict, and farm summaries (area-weighted, as in
``score``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, ValidationError
from ..io.horizons import HorizonTable, is_in
from ..io.rejects import own_column, rejected_rows
from ..stocks.farms import farm_totals, has_area
from ..stocks.ptf import PTF_CHOICES
from ..targets import meets_target, rate_per_mille
from .accounting import PLOT_RULES
from .checks import adjoin_core_layers, plausible_layers
from .compare import compare_samplings
from .prepare import NO_PTF, PreparedLayers, prepare_layers
from .profiles import DEFAULT_SOM_FACTOR, core_codes
from .samplings import decimal_year


@dataclass
class CompareOptions:
    """Options of :func:`compare_tables` (the CLI's flags map one to one)."""

    depths_cm: tuple[float, ...] = (30.0,)
    method: str = "spline"
    mass_basis: str = "mineral"
    som_factor: float = DEFAULT_SOM_FACTOR
    reference: str = "baseline_mean"
    extrapolate: bool = True
    n_bootstrap: int = 1000
    confidence: float = 0.95
    seed: int | None = 0
    on_error: str = "fail"
    bd_ptf: str = "auto"  # or "none": measured (or lent) bulk density only
    years: float | None = None  # years between undated samplings
    depth_tolerance_cm: float = 0.0  # gaps/overlaps between layers up to this closed at the midpoint
    strict: bool = False  # plausibility warnings become errors (rows rejected)
    baseline_sampling: str | None = None  # sampled_on of every plot's baseline (default: the earliest)

    def check(self) -> None:
        if self.bd_ptf not in PTF_CHOICES + (NO_PTF,):
            raise InputError(f"unknown bulk density PTF {self.bd_ptf!r}; valid: {', '.join(PTF_CHOICES + (NO_PTF,))}")
        if self.on_error not in ("fail", "skip"):
            raise InputError(f"on_error must be 'fail' or 'skip', got {self.on_error!r}")
        if not self.depth_tolerance_cm >= 0:
            raise InputError(f"depth tolerance must be >= 0 cm, got {self.depth_tolerance_cm!r}")


@dataclass
class MonitoringResult:
    """Result of :func:`compare_tables`.

    ``plots`` and ``cores`` as :func:`~fourp1000.esm.compare_samplings` (plus
    ``bd_estimated`` per plot row), farm totals (None without ``farm_id`` and ``area_ha``),
    every problem, the rejected input rows (``file``, ``row``, the row as read, ``reason``),
    the rows not needed (``file``, ``row``, ``reason``), the plots without a verdict
    (``plot_id``, ``reason``), and the counts: ``n_rows == n_used + len(rejects) +
    len(not_needed)``.
    """

    plots: pd.DataFrame
    cores: pd.DataFrame
    farms: pd.DataFrame | None
    problems: list[Problem]
    rejects: pd.DataFrame
    n_rows: int
    n_used: int = 0
    not_needed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["file", "row", "reason"]))
    without_verdict: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["plot_id", "reason"]))
    methods: list[str] = field(default_factory=list)
    #: ``source_row`` of each plot's first row compared (index: ``plot_id`` as text), and of each
    #: row of ``cores``' core (-1 for a core of a baseline file): ``plots`` and ``cores`` are in the
    #: order of these rows (a streamed run puts its parts in that order).
    first_rows: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))
    core_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def compare_tables(table: HorizonTable, baseline: HorizonTable | None = None,
                   options: CompareOptions | None = None) -> MonitoringResult:
    """Compare samplings on an equivalent-soil-mass basis and score the change against 4 per 1000.

    Raises
    ------
    ValidationError
        With ``on_error="fail"``, when any row, core or plot has a problem (all of them).
    """
    opts = options or CompareOptions()
    opts.check()
    tables = [table] + ([baseline] if baseline is not None else [])
    row_problems: list[Problem] = []
    prepared: list[tuple[np.ndarray, PreparedLayers]] = []
    row_errors: list[pd.DataFrame] = []
    layer_notes: list[str] = []
    for t in tables:
        clean, errs, found = _checked_rows(t, opts)
        row_problems.extend(found)
        row_errors.append(errs)
        frame, adjoined, note = adjoin_core_layers(t.frame.iloc[clean].reset_index(drop=True), opts.depth_tolerance_cm)
        row_problems.extend(t.problem_list(adjoined) if len(adjoined) else [])
        layer_notes += [note] if note else []
        prepared.append((clean, prepare_layers(frame, max(opts.depths_cm), bd_ptf=opts.bd_ptf,
                                               som_factor=opts.som_factor)))
    comparison = compare_samplings(
        prepared[0][1].frame, opts.depths_cm, baseline=prepared[1][1].frame if baseline is not None else None,
        method=opts.method, mass_basis=opts.mass_basis, som_factor=opts.som_factor, reference=opts.reference,
        extrapolate=opts.extrapolate, n_bootstrap=opts.n_bootstrap, confidence=opts.confidence, seed=opts.seed,
        years=opts.years, file=table.label, baseline_file=baseline.label if baseline is not None else "<baseline>",
        baseline_sampling=opts.baseline_sampling,
    )
    problems = sorted(row_problems + list(comparison.problems), key=lambda p: (p.file, p.row is None, p.row or 0))
    errors = [p for p in problems if p.severity == "error"]
    if errors and opts.on_error == "fail":
        raise ValidationError(errors)
    status = [_row_status(t, errs, clean, prep, comparison.rows, is_base)
              for t, errs, (clean, prep), is_base in zip(tables, row_errors, prepared, (False, True))]
    plots = _with_layer_flags(comparison.plots, tables, prepared, status)
    rejects = _concat([_rejects(t, s) for t, s in zip(tables, status)], ["file", "row", "reason"])
    not_needed = _concat([s[s["status"] == "not_needed"].assign(file=t.label)[["file", "row", "reason"]]
                          for t, s in zip(tables, status)], ["file", "row", "reason"])
    n_used = int(sum((s["status"] == "used").sum() for s in status))
    methods = layer_notes + [note for _, prep in prepared for note in prep.notes] + undated_note(comparison.plots, opts)
    return MonitoringResult(plots, comparison.cores, compare_farm_summary(plots, tables), problems, rejects,
                            sum(len(t.frame) for t in tables), n_used, not_needed,
                            without_verdict(plots, problems, tables), list(dict.fromkeys(methods)),
                            *_first_rows(prepared[0][1].frame, comparison.cores))


def _first_rows(frame: pd.DataFrame, cores: pd.DataFrame) -> tuple[pd.Series, np.ndarray]:
    """``source_row`` of each plot's first row among the rows compared (the order of the plot
    codes), and of the first row of each ``cores`` row's core (the order of the core codes)."""
    first = frame[frame["plot_id"].notna()].drop_duplicates("plot_id")
    plots = pd.Series(first["source_row"].to_numpy(), index=first["plot_id"].astype(str).to_numpy(), dtype=object)
    keys = [c for c in ("plot_id", "sampled_on", "core_id") if c in frame and c in cores]
    text = frame[keys].astype("string").fillna("\x00")
    firsts = text.assign(_row=frame["source_row"].to_numpy()).drop_duplicates(keys)
    found = cores[keys].astype("string").fillna("\x00").merge(firsts, on=keys, how="left")["_row"]
    return plots, found.fillna(-1).to_numpy(dtype=np.int64)


def undated_note(plots: pd.DataFrame, opts: CompareOptions) -> list[str]:
    """Say how the baseline was chosen where samplings are labels, not dates (text order).

    ``plots`` needs ``plot_id`` and ``baseline_sampled_on`` (one or more rows per plot).
    """
    if opts.baseline_sampling is not None or plots.empty:
        return []
    labels = plots.drop_duplicates("plot_id")["baseline_sampled_on"]
    undated = labels[np.isnan(decimal_year(labels.astype(object)))]
    if undated.empty or (undated.astype(str).isin(["baseline"])).all():  # two undated files: the baseline file
        return []
    return [f"the samplings of {len(undated)} plots are labels, not dates: each plot's baseline is its first label in "
            f"text order (e.g. {undated.iloc[0]}); --baseline-sampling LABEL names it"]


def _checked_rows(table: HorizonTable, opts: CompareOptions) -> tuple[np.ndarray, pd.DataFrame, list[Problem]]:
    """The rows free of errors, the errors (loader's, and plausibility with ``strict``) and every
    problem as records (plausibility findings are warnings without ``strict``)."""
    errs = table.problems[table.problems["severity"] == "error"] if len(table.problems) else table.problems
    bad = np.zeros(len(table.frame), dtype=bool)
    if len(errs):
        bad[errs["position"].to_numpy(dtype=np.int64)] = True
    implausible = plausible_layers(table, bad, som_factor=opts.som_factor, strict=opts.strict)
    found = table.problem_list(errs) if len(errs) else []
    found += table.problem_list(implausible) if len(implausible) else []
    if len(implausible) and opts.strict:
        bad[implausible["position"].to_numpy(dtype=np.int64)] = True
        errs = pd.concat([errs, implausible], ignore_index=True)
    return np.flatnonzero(~bad), errs, found


def _row_status(table: HorizonTable, errs: pd.DataFrame, clean: np.ndarray, prep: PreparedLayers, rows: pd.DataFrame,
                from_baseline: bool) -> pd.DataFrame:
    """Per input row of ``table``: ``row``, ``status`` (used, rejected, not_needed) and ``reason``."""
    frame = table.frame
    status = np.full(len(frame), "rejected", dtype=object)
    reason = np.full(len(frame), "", dtype=object)
    if len(errs):  # the loader's own problems, and plausibility ones with --strict
        messages = errs.groupby("position")["message"].agg("; ".join)
        reason[messages.index.to_numpy(dtype=np.int64)] = messages.to_numpy(dtype=object)
    mine = rows[rows["from_baseline"] == from_baseline]
    kept = clean[prep.kept]
    status[kept] = np.where(mine["used"].to_numpy(dtype=bool), "used", "rejected")
    reason[kept] = mine["reason"].to_numpy(dtype=object)
    skip = clean[prep.not_needed["position"].to_numpy(dtype=np.int64)]
    status[skip], reason[skip] = "not_needed", prep.not_needed["reason"].to_numpy(dtype=object)
    if not len(prep.lenders):
        return pd.DataFrame({"row": frame["source_row"].to_numpy(), "status": status, "reason": reason})
    # A bulk-density row is used when a layer it lent to is.
    codes = core_codes(frame)
    used_records = np.unique(codes[kept][status[kept] == "used"])
    lenders = clean[prep.lenders]
    lent_used = np.isin(codes[lenders], used_records)
    status[lenders] = np.where(lent_used, "used", "rejected")
    reason[lenders] = np.where(lent_used, "", "bulk-density row of a core left out")
    return pd.DataFrame({"row": frame["source_row"].to_numpy(), "status": status, "reason": reason})


def _rejects(table: HorizonTable, status: pd.DataFrame) -> pd.DataFrame:
    at = np.flatnonzero(status["status"].to_numpy() == "rejected")
    out = rejected_rows(table, at, status["reason"].to_numpy(dtype=object)[at])
    out.insert(0, own_column(out.columns, "file"), table.label)
    return out


def _concat(parts: list[pd.DataFrame], columns: list[str]) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _with_layer_flags(plots: pd.DataFrame, tables: list[HorizonTable], prepared: list, status: list) -> pd.DataFrame:
    """Add ``bd_estimated`` (a used layer of the plot has a PTF bulk density) and the layer notes."""
    estimated, notes = [], []
    for (clean, prep), s in zip(prepared, status):
        used = s["status"].to_numpy()[clean[prep.kept]] == "used"
        ptf = prep.frame["bd_source"].to_numpy() == "ptf"
        estimated.append(prep.frame["plot_id"].astype(str).to_numpy()[used & ptf])
        notes.append(prep.plot_notes.astype(object))
    plots = plots.copy()
    ids = plots["plot_id"].astype(str)
    plots["bd_estimated"] = is_in(ids, np.concatenate(estimated))
    layer_notes = pd.concat(notes)
    if len(layer_notes):
        text = ids.map(layer_notes.groupby(level=0).agg("; ".join)).fillna("").to_numpy(dtype=object)
        before = plots["notes"].to_numpy(dtype=object)
        both = (before != "") & (text != "")
        plots["notes"] = np.where(both, before + "; " + text, np.where(before == "", text, before))
    return plots


#: Short reasons, by problem rule, for the summary of plots without a verdict.
_REASON = {
    "not_in_baseline": "not in the baseline file", "one_sampling": "one sampling only",
    "no_valid_baseline": "no valid baseline core", "no_valid_follow_up": "no valid follow-up core",
    "baseline_too_shallow": "no baseline core deep enough", "follow_up_too_shallow": "follow-up too shallow",
    "baseline_not_extrapolated": "baseline cores need extrapolation (off)",
    "follow_up_not_extrapolated": "follow-up cores need extrapolation (off)",
    "no_baseline_stock": "no baseline stock", "no_follow_up_stock": "no follow-up stock",
}


def plot_verdicts(plots: pd.DataFrame) -> pd.Series:
    """Per plot (index ``plot_id``, in order of appearance): True if every follow-up and depth of
    ``plots`` meets 4 per 1000, NA if any is unknown, else False (one misses)."""
    if plots.empty:
        return pd.Series(dtype="boolean")
    meets = plots["meets_4p1000"].astype("boolean")
    grouped = meets.groupby(plots["plot_id"], sort=False)
    out = grouped.min()  # False wins over True; all-NA stays NA
    out[meets.isna().groupby(plots["plot_id"], sort=False).any()] = pd.NA
    return out


def without_verdict(plots: pd.DataFrame, problems: list[Problem], tables: list[HorizonTable]) -> pd.DataFrame:
    """Every plot of the input without a 4 per 1000 verdict, and the reason (``plot_id``, ``reason``)."""
    plot_problems = pd.DataFrame([(p.plot_id, _REASON.get(p.rule, p.rule)) for p in problems
                                  if p.plot_id is not None and p.severity == "error" and p.rule in PLOT_RULES],
                                 columns=["plot_id", "reason"]).drop_duplicates("plot_id")
    ids = pd.Series(pd.unique(np.concatenate([pd.unique(t.frame["plot_id"].dropna()).astype(str) for t in tables])),
                    dtype=object)
    compared = plots["plot_id"].astype(str)
    missing = ids[~ids.isin(compared)]
    reason = missing.map(plot_problems.set_index("plot_id")["reason"]).astype(object).fillna("every row rejected")
    has_verdict = compared[plots["no_verdict_reason"] == ""]
    open_ = plots[(plots["no_verdict_reason"] != "").to_numpy() & ~is_in(compared, has_verdict)]
    unknown = open_.groupby(open_["plot_id"].astype(str), sort=False)["no_verdict_reason"].first()
    return pd.DataFrame({"plot_id": np.r_[missing.to_numpy(dtype=object), unknown.index.to_numpy(dtype=object)],
                         "reason": np.r_[reason.to_numpy(dtype=object), unknown.to_numpy(dtype=object)]})


def compare_farm_summary(plots: pd.DataFrame, tables: list[HorizonTable]) -> pd.DataFrame | None:
    """Area-weighted farm totals per depth and follow-up sampling (as ``score`` does for projections).

    Columns: ``farm_id``, ``depth_cm``, ``sampled_on``, ``n_plots``, ``area_ha``,
    ``baseline_stock_t_c``, ``esm_change_t_c``, ``annual_change_t_c_yr``, ``rate_per_mille``,
    ``meets_4p1000``. None without ``farm_id`` and ``area_ha``.
    """
    if plots.empty or "farm_id" not in plots:
        return None
    area = _plot_area(tables)
    if area is None:
        return None
    frame = plots.assign(area_ha=plots["plot_id"].astype(str).map(area))
    frame = frame[has_area(frame["area_ha"])]  # farms only of plots with an area
    if frame.empty:
        return None
    farms = farm_totals(frame, ["farm_id", "depth_cm", "sampled_on"], {
        "baseline_stock_t_c": "baseline_stock_t_ha", "esm_change_t_c": "esm_change_t_ha",
        "annual_change_t_c_yr": "annual_change_t_ha_yr",
    }).drop(columns="n_plots_without_area")
    farms["rate_per_mille"] = rate_per_mille(farms["annual_change_t_c_yr"], farms["baseline_stock_t_c"])
    farms["meets_4p1000"] = meets_target(farms["rate_per_mille"])
    return farms


def _plot_area(tables: list[HorizonTable]) -> dict | None:
    """Area [ha] of each plot id, from the tables that give ``area_ha``; None if none does."""
    parts = [t.frame[["plot_id", "area_ha"]] for t in tables if "area_ha" in t.source_columns]
    if not parts:
        return None
    frame = pd.concat(parts).dropna()
    return frame.groupby(frame["plot_id"].astype(str))["area_ha"].first().to_dict()
