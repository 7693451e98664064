"""The ``estimate`` pipeline: canonical horizons -> SOC stock per plot over a standard depth.

Steps, all vectorised over layers and plots:

1. rows with problems found by :func:`fourp1000.io.horizons.normalise` are set aside;
2. rows that carry only a bulk density (core samples stored on rows of their own, as in
   ISRIC's ISIS data) lend it to the SOC layers they overlap (overlap-weighted mean);
3. remaining missing bulk densities are estimated with a pedotransfer function
   (:mod:`fourp1000.stocks.ptf`) and flagged;
4. each layer is reduced to its carbon density [t C ha-1 cm-1] (:mod:`fourp1000.stocks.layers`);
5. the depth logic of the layers meeting the target interval is checked (gaps, overlaps,
   start and depth reached) and the stock is integrated over the interval
   (:mod:`fourp1000.stocks.depth`), extrapolating below the deepest layer only when asked;
6. per-plot results, per-farm summaries (:mod:`fourp1000.stocks.farms`), the layers behind
   each stock (``EstimateResult.layers``), and the rejected rows with their reasons.

A record is one plot per sampling date (``sampled_on``) and core (``core_id``) where those
columns exist.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import depth as depth_mod
from . import plausibility, reasons
from ..errors import InputError, ValidationError
from ..io.horizons import PROBLEM_COLUMNS, HorizonTable, factorize_runs, text_column, text_values
from .ptf import PTF_CHOICES, PTF_NAMES, estimate_bulk_density
from ..io.schema import VAN_BEMMELEN
from .depth_distribution import (REFERENCE_DEPTH_CM, extend_below_layer_t_c_ha, jobbagy_jackson_2000_beta,
                                 vegetation_for_land_use)
from .farms import farm_totals, per_hectare
from .layers import STONE_DENSITY_G_CM3, carbon_density, co2e, fine_earth_density
from ..targets import four_per_mille

DEPTH_METHODS = ("proportional", "spline")
# --extrapolate invents at most this depth below the deepest layer [cm] and this share of the
# target interval (gaps and extension together); past either bound the record is rejected.
MAX_EXTRAPOLATE_CM = 30.0
MAX_EXTRAPOLATE_SHARE = 0.5
GROUP_COLUMNS = ("plot_id", "sampled_on", "core_id")


@dataclass
class EstimateOptions:
    """Options of :func:`estimate_stocks` (the CLI's flags map one to one)."""

    top_cm: float = 0.0
    bottom_cm: float = 30.0
    depth_method: str = "proportional"
    spline_lambda: float = 0.1
    bd_ptf: str = "auto"
    extrapolate: bool = False
    som_factor: float = VAN_BEMMELEN
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3
    on_error: str = "fail"  # or "skip"
    depth_tolerance_cm: float = 0.0  # gaps/overlaps up to this size closed at the midpoint
    max_extrapolate_cm: float = MAX_EXTRAPOLATE_CM  # below the deepest layer
    max_extrapolate_share: float = MAX_EXTRAPOLATE_SHARE  # of the target interval
    strict: bool = False  # plausibility warnings become errors

    def check(self) -> None:
        if not (0 <= self.top_cm < self.bottom_cm):
            raise InputError(f"depth interval {self.top_cm:g}-{self.bottom_cm:g} cm: top must be >= 0 and < bottom")
        if self.depth_method not in DEPTH_METHODS:
            raise InputError(f"unknown depth method {self.depth_method!r}; valid: {', '.join(DEPTH_METHODS)}")
        if self.bd_ptf not in PTF_CHOICES:
            raise InputError(f"unknown bulk density PTF {self.bd_ptf!r}; valid: {', '.join(PTF_CHOICES)}")
        if self.spline_lambda <= 0:
            raise InputError(f"spline lambda must be positive, got {self.spline_lambda}")
        if self.on_error not in ("fail", "skip"):
            raise InputError(f"on_error must be 'fail' or 'skip', got {self.on_error!r}")
        if not self.depth_tolerance_cm >= 0:
            raise InputError(f"depth tolerance must be >= 0 cm, got {self.depth_tolerance_cm}")
        if not self.max_extrapolate_cm >= 0:
            raise InputError(f"maximum extrapolation must be >= 0 cm, got {self.max_extrapolate_cm}")
        if not 0 <= self.max_extrapolate_share <= 1:
            raise InputError(f"maximum extrapolated share must be between 0 and 1, got {self.max_extrapolate_share}")


@dataclass
class EstimateResult:
    """Results of :func:`estimate_stocks`.

    Attributes
    ----------
    plots : DataFrame
        One record per plot (and sampling date, and core).
    farms : DataFrame or None
        Per-farm summary, where ``farm_id`` and ``area_ha`` are given.
    problems : DataFrame
        Every problem found (errors and warnings), in row order.
    rejects : DataFrame
        The rejected input rows as read, with ``row`` and ``reason`` columns.
    n_rows : int
        Rows read; ``n_rows == n_rows_used + len(not_needed) + len(rejects)``.
    methods : list of str
        What was done (methods, factors, conversions), for the methods statement.
    layers : DataFrame
        The layers summed into the stocks of ``plots``, in input row order: ``position``
        (0-based row of the canonical table), ``row`` (as the user sees it), ``record`` (row
        of ``plots``), ``top_cm``, ``bottom_cm`` [cm], ``soc_g_kg``, ``bulk_density_g_cm3``
        [g cm-3] as used, ``bd_source`` (``measured``, ``bd_rows``: from bulk-density-only
        rows, or ``ptf``), ``bd_ptf`` (the PTF, or ""), ``coarse_fragments_pct``,
        ``coarse_fragments_mass_pct`` [%], ``bd_basis``, ``fine_earth_density_g_cm3``,
        ``carbon_density_t_c_ha_cm`` [t C ha-1 cm-1] and ``overlap_cm`` (thickness inside the
        depth interval). With the proportional method (no extrapolation) a record's stock is
        the sum of carbon density x overlap over its layers.
    """

    plots: pd.DataFrame
    farms: pd.DataFrame | None
    problems: pd.DataFrame
    rejects: pd.DataFrame
    n_rows: int
    n_rows_used: int
    methods: list[str] = field(default_factory=list)
    #: Builds :attr:`layers` when first asked for: most callers (the ``estimate`` command)
    #: never need the per-layer table, which costs as much as the stocks on large inputs.
    layers_builder: Callable[[], pd.DataFrame] | None = field(default=None, repr=False)
    #: Rows not needed for the mineral-soil stock (``row``, ``plot_id``, ``reason``): organic
    #: layers above the mineral surface (forest floor), a pool of their own.
    not_needed: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["row", "plot_id", "reason"]))

    @property
    def layers(self) -> pd.DataFrame | None:
        """The per-layer table (see the class docstring), built on first use and kept."""
        if self.layers_builder is None:
            return None
        cached = self.__dict__.get("_layers")
        if cached is None or cached[0] is not self.layers_builder:
            cached = (self.layers_builder, self.layers_builder())
            self.__dict__["_layers"] = cached
        return cached[1]


#: Deepest standard depth [cm]: the bottom_cm bound of the input model (io.schema).
MAX_DEPTH_CM = 1000.0


def parse_depth(text: str | float | int) -> tuple[float, float]:
    """Parse ``--depth``: ``"30"`` -> (0, 30); ``"0-40"`` or ``"30-60"`` -> (top, bottom) [cm]."""
    s = str(text).strip().lower().removesuffix("cm").strip()
    try:
        if "-" in s.lstrip("-"):
            a, b = s.split("-", 1)
            top, bottom = float(a), float(b)
        else:
            top, bottom = 0.0, float(s)
    except ValueError:
        raise InputError(f"invalid depth {text!r}: expected e.g. 30 or 0-40 (cm)") from None
    if not (0 <= top < bottom):
        raise InputError(f"invalid depth {text!r}: top must be >= 0 and less than bottom")
    if not bottom <= MAX_DEPTH_CM:  # also inf
        raise InputError(f"invalid depth {text!r}: the deepest layer the input model accepts is {MAX_DEPTH_CM:g} cm")
    return top, bottom


def group_codes(frame: pd.DataFrame, plot_codes: np.ndarray | None = None) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer record code per row (plot x sampling date x core) and the key per record.

    Codes follow the order in which records first appear in the input. ``plot_codes``: the
    codes of ``plot_id`` alone when known (:meth:`HorizonTable.plot_codes`).
    """
    codes, _, keys = _record_codes(frame, plot_codes)
    return codes, keys


def _record_codes(frame: pd.DataFrame, plot_codes: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    """:func:`group_codes`, and the first row of each record."""
    keys = [c for c in GROUP_COLUMNS if c in frame.columns]
    if keys == ["plot_id"]:
        codes = factorize_runs(frame["plot_id"]) if plot_codes is None else plot_codes
    else:
        key_frame = frame[keys].astype("string").fillna("")
        codes = key_frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    n_groups = int(codes.max()) + 1 if codes.size else 0
    first_pos = _first_rows(codes, n_groups)
    return codes, first_pos, pd.DataFrame({k: frame[k].take(first_pos).reset_index(drop=True) for k in keys})


def _first_rows(codes: np.ndarray, n_codes: int) -> np.ndarray:
    """The first row of each code (0 .. n_codes - 1, each present).

    A code's first row heads a run of equal codes; when there are as many runs as codes (a
    file's plots each together, the usual case) each code heads one run, at its first row."""
    head = np.ones(codes.size, dtype=bool)
    head[1:] = codes[1:] != codes[:-1]
    heads = np.flatnonzero(head)
    first = np.full(n_codes, codes.size, dtype=np.int64)
    if heads.size == n_codes:
        first[codes[heads]] = heads
    else:
        np.minimum.at(first, codes[heads], heads)
    return first


@dataclass
class _Rows:
    """Per-row arrays of the canonical table, updated as the pipeline goes."""

    codes: np.ndarray  # record of each row (see group_codes)
    n_records: int
    first_row: np.ndarray  # first row of each record
    top: np.ndarray
    bottom: np.ndarray
    soc: np.ndarray
    bd: np.ndarray  # filled in steps 2 and 3
    has_soc: np.ndarray  # usable rows with a SOC value
    bd_only: np.ndarray  # usable rows without SOC (they may carry a bulk density)
    in_interval: np.ndarray  # SOC rows meeting the target interval
    overlap: np.ndarray  # [cm] of each row inside the target interval (depth_mod.overlap_cm)
    error_rows: np.ndarray  # grows as problems are found
    organic: np.ndarray  # organic layers above the mineral surface: not needed for the mineral-soil stock


@dataclass
class _Candidates:
    """Layers meeting the interval and free of row errors, sorted by record and top depth."""

    order: np.ndarray  # their row positions
    codes: np.ndarray  # their records
    logic: depth_mod.DepthLogic


def estimate_stocks(table: HorizonTable, options: EstimateOptions | None = None) -> EstimateResult:
    """SOC stock per plot over a standard depth interval.

    Parameters
    ----------
    table : HorizonTable
        From :func:`fourp1000.io.horizons.normalise`.
    options : EstimateOptions

    Returns
    -------
    EstimateResult

    Raises
    ------
    ValidationError
        With ``on_error="fail"``, if any row or plot has a problem: the error carries every
        problem found, not only the first.

    Notes
    -----
    The stock of a layer is SOC x fine-earth density x thickness / 10 [t C ha-1]
    (:mod:`fourp1000.stocks.layers`); the 4 per 1000 target is 0.004 x stock per year
    (:mod:`fourp1000.targets`).
    """
    opts = options or EstimateOptions()
    opts.check()
    codes, first_row, keys = _record_codes(table.frame, table.plot_codes())
    rows = _row_arrays(table, codes, first_row, opts)
    problems = [plausibility.explain_depth_order(table)] if len(table.problems) else []
    problems.append(_plausible_layers(table, rows, opts))
    methods: list[str] = list(table.notes)
    _adjoin(table, rows, opts, problems, methods)
    took = _bulk_density_from_rows(rows, methods)
    ptf_code = _bulk_density_from_ptf(table, rows, opts, problems, methods)
    by_ptf = ptf_code > 0
    basis = _bd_basis_used(table, by_ptf)
    fed = _fine_earth_density(table, rows, opts, problems, basis)
    density = carbon_density(rows.soc, fed)
    cand = _candidates(rows, opts)
    checks = _depth_problems(table, rows, cand, opts, problems)
    plot_bad = checks.bad
    used, used_codes = _of_good_records(cand.order, cand.codes, plot_bad)
    stock, extrapolated_cm = _interval_stock(table, rows, cand, used, used_codes, density, checks, opts, methods)
    problems.append(_plausible_stocks(table, rows, used, used_codes, stock, plot_bad, opts))
    all_problems = reasons.fold_knock_on(_sorted(problems), codes, checks.knock_on)
    if opts.on_error == "fail" and (all_problems["severity"] == "error").any():
        raise ValidationError(table.problem_list(all_problems))

    used, used_codes = _of_good_records(used, used_codes, plot_bad)  # --strict may have rejected a stock
    scored = ~plot_bad
    out = _record_table(table, rows, used, used_codes, fed, stock, extrapolated_cm, cand.logic, ptf_code, by_ptf,
                        opts, keys, scored)
    layers = functools.partial(_layer_table, table, rows, used, fed, density, took, ptf_code, basis, scored,
                               opts)

    # Rejected rows: rows with errors, and every row of a plot that could not be scored.
    rejected = rows.error_rows | plot_bad[codes] if plot_bad.any() else rows.error_rows
    rejects = reasons.rejects_with_reasons(table, all_problems, rejected, plot_bad, codes)
    not_needed = _organic_not_needed(table, rows.organic & ~rejected, methods)
    methods.insert(0, _method_statement(opts))
    return EstimateResult(out, farm_summary(out), all_problems.reset_index(drop=True), rejects, len(codes),
                          int(len(codes) - rejected.sum() - len(not_needed)), methods, layers_builder=layers,
                          not_needed=not_needed)


def _of_good_records(positions: np.ndarray, codes: np.ndarray, plot_bad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows ``positions`` (of records ``codes``) of records not rejected, and their records;
    the arrays themselves when no record is rejected (no copy)."""
    keep = ~plot_bad[codes]
    return (positions, codes) if keep.all() else (positions[keep], codes[keep])


def _organic_not_needed(table: HorizonTable, mask: np.ndarray, methods: list[str]) -> pd.DataFrame:
    """The organic layers above the mineral surface, not needed for the mineral-soil stock, with the reason.

    Depths of forest soils are measured from the top of the mineral soil, the forest floor
    (L, F, H) above it being sampled, and accounted, as a pool of its own (IPCC 2006 GL vol. 4,
    ch. 2: litter, a dead organic matter pool, apart from soil organic carbon; Cools & De Vos
    2010, ICP Forests Manual Part X, ISBN 978-3-926301-03-1: depths in cm from the top of the
    mineral soil, the organic layer sampled apart).
    """
    positions = np.flatnonzero(mask)
    frame = table.frame
    # none, the usual case: a slice (an Arrow take costs a millisecond even when empty)
    plot_ids = frame["plot_id"].iloc[positions] if positions.size else frame["plot_id"].iloc[:0]
    out = pd.DataFrame({"row": frame["source_row"].to_numpy()[positions],
                        "plot_id": plot_ids.to_numpy(),
                        "reason": "organic layer above the mineral surface (forest floor): a pool apart from the "
                                  "mineral-soil stock"})
    if len(out):
        methods.append(f"{len(out)} organic layers above the mineral surface (forest floor) not needed: depths are "
                       "measured from the mineral surface, and the forest floor is a carbon pool of its own")
    return out


def _sorted(problems: list[pd.DataFrame]) -> pd.DataFrame:
    """All problems in row order (file-level ones first)."""
    problems = [p for p in problems if len(p)]
    if not problems:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    return pd.concat(problems, ignore_index=True).sort_values("row", kind="stable", na_position="first")


def _plausible_layers(table: HorizonTable, rows: _Rows, opts: EstimateOptions) -> pd.DataFrame:
    """Plausibility findings on the layers (:mod:`~fourp1000.stocks.plausibility`); errors with --strict."""
    found = plausibility.layer_problems(table, som_factor=opts.som_factor, strict=opts.strict)
    if len(found):  # a row already in error is not also implausible
        found = found[~rows.error_rows[found["position"].to_numpy(dtype=np.int64)]].reset_index(drop=True)
    if opts.strict and len(found):
        rows.error_rows[found["position"].to_numpy(dtype=np.int64)] = True
    return found


def _plausible_stocks(table: HorizonTable, rows: _Rows, used: np.ndarray, codes: np.ndarray, stock: np.ndarray,
                      plot_bad: np.ndarray, opts: EstimateOptions) -> pd.DataFrame:
    """Mineral stocks above the plausible maximum; with --strict their plots are rejected.
    ``used``: the rows in the stocks, ``codes`` their records."""
    if used.size == 0:
        return pd.DataFrame(columns=PROBLEM_COLUMNS)
    max_soc = np.full(rows.n_records, -np.inf)
    np.maximum.at(max_soc, codes, rows.soc[used])
    first = np.full(rows.n_records, len(rows.codes))
    np.minimum.at(first, codes, used)  # the first used row of each record
    records = np.flatnonzero((first < len(rows.codes)) & ~plot_bad)
    found = plausibility.stock_problems(table, records, first[records], stock[records],
                                        np.full(records.size, opts.bottom_cm - opts.top_cm), max_soc[records],
                                        som_factor=opts.som_factor, strict=opts.strict)
    if opts.strict and len(found):
        plot_bad[rows.codes[found["position"].to_numpy(dtype=np.int64)]] = True
    return found


def _adjoin(table: HorizonTable, rows: _Rows, opts: EstimateOptions, problems: list, methods: list[str]) -> None:
    """Close gaps and overlaps up to --depth-tolerance between SOC layers (at the midpoint), reported."""
    if not opts.depth_tolerance_cm > 0:
        return
    at = np.flatnonzero(rows.has_soc & ~rows.error_rows)
    at = at[_order_by_record_and_top(rows.codes[at], rows.top[at])]
    adj = depth_mod.adjoin_layers(rows.codes[at], rows.top[at], rows.bottom[at], opts.depth_tolerance_cm)
    if not adj.moved.any():
        return
    rows.top, rows.bottom = rows.top.copy(), rows.bottom.copy()  # never the caller's table
    rows.top[at], rows.bottom[at] = adj.top_cm, adj.bottom_cm
    rows.overlap = depth_mod.overlap_cm(rows.top, rows.bottom, opts.top_cm, opts.bottom_cm)
    rows.in_interval = rows.has_soc & (rows.overlap > 0)
    moved = adj.moved
    gap, over = adj.gap_closed_cm[moved], adj.overlap_closed_cm[moved]
    msgs = [f"{'gap' if g > 0 else 'overlap'} of {max(g, o):g} cm with the layer above closed at {t:g} cm "
            f"(--depth-tolerance {opts.depth_tolerance_cm:g})" for g, o, t in zip(gap, over, adj.top_cm[moved])]
    problems.append(_row_problems(table, at[moved], "top_cm", "depth_adjoined", msgs, severity="warning"))
    methods.append(f"{int((gap > 0).sum())} gaps and {int((over > 0).sum())} overlaps of at most "
                   f"{opts.depth_tolerance_cm:g} cm between layers closed at their midpoint (--depth-tolerance)")


def _row_arrays(table: HorizonTable, codes: np.ndarray, first_row: np.ndarray, opts: EstimateOptions) -> _Rows:
    """Step 1: the rows' depths and values; rows with problems from the loader set aside."""
    frame = table.frame
    error_rows = np.zeros(len(frame), dtype=bool)
    organic = np.zeros(len(frame), dtype=bool)
    if len(table.problems):
        errs = table.problems[table.problems["severity"] == "error"]
        error_rows[errs["position"].to_numpy(dtype=np.int64)] = True
        organic[table.problems.loc[table.problems["rule"] == "organic_layer", "position"].to_numpy(dtype=np.int64)] = True
    # the table's arrays: --depth-tolerance copies them before it moves a layer limit (_adjoin)
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    usable = frame["plot_id"].notna().to_numpy() & ~np.isnan(top) & ~np.isnan(bottom)
    if len(table.problems):
        usable &= ~error_rows & ~organic
    has_soc = usable & ~np.isnan(soc)
    overlap = depth_mod.overlap_cm(top, bottom, opts.top_cm, opts.bottom_cm)
    in_interval = has_soc & (overlap > 0)
    bd = frame["bulk_density_g_cm3"].to_numpy(dtype=float).copy()
    return _Rows(codes, len(first_row), first_row, top, bottom, soc, bd, has_soc, usable & np.isnan(soc), in_interval,
                 overlap, error_rows, organic)


#: Where the bulk density of a layer came from (``bd_source`` of the layer table), by code.
BD_SOURCES = ("", "measured", "bd_rows", "ptf")


def _bulk_density_from_rows(rows: _Rows, methods: list[str]) -> np.ndarray | None:
    """Step 2: bulk density lent by BD-only rows of the same record; the rows that took one
    (None: none did)."""
    if not rows.bd_only.any():  # no row to lend one (the usual case)
        return None
    lent = bd_from_bd_only_rows(rows.codes, rows.top, rows.bottom, rows.bd, rows.bd_only,
                                rows.has_soc & np.isnan(rows.bd))
    took = ~np.isnan(lent)
    if not took.any():
        return None
    rows.bd[took] = lent[took]
    methods.append(f"bulk density of {int(took.sum())} layers taken from bulk-density-only rows overlapping them")
    return took


def _bd_sources(table: HorizonTable, took: np.ndarray | None, ptf_code: np.ndarray, at: np.ndarray) -> np.ndarray:
    """Where the bulk density of the rows ``at`` came from (codes of :data:`BD_SOURCES`): measured
    in the table, lent by BD-only rows (``took``, step 2) or from a PTF (step 3), the last that applied."""
    measured = ~np.isnan(table.frame["bulk_density_g_cm3"].to_numpy(dtype=float)[at])
    source = np.where(measured, np.int8(BD_SOURCES.index("measured")), np.int8(0))
    if took is not None:
        source[took[at]] = BD_SOURCES.index("bd_rows")
    source[ptf_code[at] > 0] = BD_SOURCES.index("ptf")
    return source


def _bulk_density_from_ptf(table: HorizonTable, rows: _Rows, opts: EstimateOptions, problems: list,
                           methods: list[str]) -> np.ndarray:
    """Step 3: a pedotransfer function where bulk density is still missing; the PTF of each row
    (an index into :data:`~fourp1000.stocks.ptf.PTF_NAMES`, 0 for none)."""
    frame = table.frame
    ptf_code = np.zeros(len(rows.codes), dtype=np.int8)
    need_ptf = rows.has_soc & np.isnan(rows.bd)
    if not need_ptf.any():
        return ptf_code
    idx = np.flatnonzero(need_ptf)
    est = estimate_bulk_density(
        rows.soc[idx],
        method=opts.bd_ptf,
        sand_pct=frame["sand_pct"].to_numpy(dtype=float)[idx],
        clay_pct=frame["clay_pct"].to_numpy(dtype=float)[idx],
        top_cm=rows.top[idx] if "land_use" in frame else None,  # used with the land use only
        land_use=frame["land_use"].iloc[idx].to_numpy() if "land_use" in frame else None,
        som_factor=opts.som_factor,
    )
    rows.bd[idx] = est.bulk_density_g_cm3
    ok = ~np.isnan(est.bulk_density_g_cm3)
    ptf_code[idx[ok]] = est.ptf_code[ok]
    failed = idx[~ok & rows.in_interval[idx]]
    if failed.size:
        problems.append(_row_problems(table, failed, "bulk_density_g_cm3", "bd_missing",
                                      _ptf_failure_messages(opts.bd_ptf, rows.soc[failed])))
        rows.error_rows[failed] = True
    found = np.bincount(est.ptf_code[ok], minlength=len(PTF_NAMES))
    used_names = [PTF_NAMES[i] for i in np.flatnonzero(found)]  # sorted, as PTF_NAMES
    methods.append(f"bulk density estimated for {int(ok.sum())} layers with {', '.join(used_names) or 'no PTF'} "
                   f"(--bd-ptf {opts.bd_ptf})")
    return ptf_code


def _bd_basis_used(table: HorizonTable, by_ptf: np.ndarray) -> np.ndarray | str:
    """Bulk-density basis of each row: the row's (or --bd-basis) for measured densities,
    ``fine_earth`` for pedotransfer estimates (fine-earth densities by construction); one
    string when every row has the same."""
    column = table.frame["bd_basis"]
    if len(column) and column.notna().all():  # the usual case, one basis for the file: no object array
        first = column.iloc[0]
        if (first == "fine_earth" or not by_ptf.any()) and bool((column == first).all()):
            return first
    basis = column.to_numpy(dtype=object).copy()
    basis[by_ptf] = "fine_earth"
    return basis[0] if len(basis) and (basis == basis[0]).all() else basis


def _fine_earth_density(table: HorizonTable, rows: _Rows, opts: EstimateOptions, problems: list,
                        basis: np.ndarray | str) -> np.ndarray:
    """Step 4: fine-earth density [g cm-3] of every row; layers whose stones outweigh the soil are errors."""
    frame = table.frame
    cf = frame["coarse_fragments_pct"].to_numpy(dtype=float)
    cf_mass = frame["coarse_fragments_mass_pct"].to_numpy(dtype=float) if "coarse_fragments_mass_pct" in frame else None
    fed = fine_earth_density(rows.bd, cf, basis=basis, coarse_fragments_mass_pct=cf_mass,
                             stone_density_g_cm3=opts.stone_density_g_cm3)
    bad_fed = rows.in_interval & ~rows.error_rows & ~np.isnan(rows.bd) & np.isnan(fed)
    if bad_fed.any():
        idx = np.flatnonzero(bad_fed)
        problems.append(_row_problems(table, idx, "coarse_fragments_pct", "inconsistent",
                                      "coarse fragments weigh more than the whole soil for this bulk density"))
        rows.error_rows[idx] = True
    return fed


def _candidates(rows: _Rows, opts: EstimateOptions) -> _Candidates:
    """The layers meeting the interval, sorted by record and top, and their depth logic."""
    cand = np.flatnonzero(rows.in_interval & ~rows.error_rows if rows.error_rows.any() else rows.in_interval)
    codes, top = rows.codes[cand], rows.top[cand]
    sort = _order_by_record_and_top(codes, top)
    order, codes, top = cand[sort], codes[sort], top[sort]  # views when already in order
    lo, hi = _interval(rows.n_records, opts)
    logic = depth_mod.depth_logic(codes, top, rows.bottom[order], rows.n_records, lo, hi)
    return _Candidates(order, codes, logic)


def _order_by_record_and_top(codes: np.ndarray, top: np.ndarray) -> np.ndarray | slice:
    """``np.lexsort((top, codes))``; files usually list a plot's layers together and from the
    top, so the order is checked first and the sort skipped when it holds (``slice(None)``:
    indexing with it takes no copy)."""
    if codes.size > 1:
        step = np.diff(codes)
        in_order = bool(((step > 0) | ((step == 0) & (np.diff(top) >= 0))).all())
    else:
        in_order = True
    return slice(None) if in_order else np.lexsort((top, codes))


def _interval(n_records: int, opts: EstimateOptions) -> tuple[np.ndarray, np.ndarray]:
    """Target interval [cm] of each record."""
    return np.full(n_records, float(opts.top_cm)), np.full(n_records, float(opts.bottom_cm))


@dataclass
class _RecordChecks:
    """Step 5's verdict per record: ``bad`` (not scored), ``shallow`` (ends above the interval's
    bottom) and ``knock_on``: record -> a plot problem caused by a row error of the record
    (folded under that error, see :func:`fourp1000.stocks.reasons.fold_knock_on`)."""

    bad: np.ndarray
    shallow: np.ndarray
    knock_on: dict[int, str]


def _depth_problems(table: HorizonTable, rows: _Rows, cand: _Candidates, opts: EstimateOptions,
                    problems: list) -> _RecordChecks:
    """Step 5: records without data, with overlaps, gaps, too shallow or past the extrapolation bound."""
    codes, logic, order, c_codes = rows.codes, cand.logic, cand.order, cand.codes
    top = rows.top
    plot_bad = np.zeros(rows.n_records, dtype=bool)
    caused = _has_row_errors_in_interval(rows)
    knock_on: dict[int, str] = {}

    def flag(positions, column, rule, msgs):
        positions = np.asarray(positions, dtype=np.int64)
        msgs = np.broadcast_to(np.asarray(msgs, dtype=object), positions.shape)
        rec = codes[positions]
        plot_bad[rec] = True
        folded = caused[rec]
        for r, m in zip(rec[folded], msgs[folded]):  # only plots whose rows already have errors
            knock_on.setdefault(int(r), str(m))
        if (~folded).any():
            problems.append(_row_problems(table, positions[~folded], column, rule, list(msgs[~folded])))

    no_data = logic.n_layers == 0
    if no_data.any():
        flag(rows.first_row[np.flatnonzero(no_data)], "soc_g_kg", "no_data",
             f"no usable SOC layer between {opts.top_cm:g} and {opts.bottom_cm:g} cm")
    if logic.overlaps_previous.any():
        at = order[logic.overlaps_previous]
        flag(at, "top_cm", "overlap", [f"layer {t:g}-{b:g} cm overlaps the layer above it"
                                       for t, b in zip(top[at], rows.bottom[at])])
    has_gap = logic.gap_before_cm > 0
    first_in_group = np.ones(order.size, dtype=bool)
    first_in_group[1:] = c_codes[1:] != c_codes[:-1]
    if (has_gap & first_in_group).any():
        at = order[has_gap & first_in_group]
        flag(at, "top_cm", "not_from_top", [f"profile starts at {t:g} cm: no SOC data between {opts.top_cm:g} and "
                                            f"{t:g} cm" for t in top[at]])
    inner_gap = has_gap & ~first_in_group
    if inner_gap.any() and not opts.extrapolate:
        at = order[inner_gap]
        flag(at, "top_cm", "gap", [f"gap: no SOC data between {a:g} and {t:g} cm (use --extrapolate to interpolate "
                                   "across gaps)" for a, t in zip(logic.gap_from_cm[inner_gap], top[at])])
    shallow = (logic.n_layers > 0) & (logic.deepest_cm < opts.bottom_cm - depth_mod.DEPTH_TOL_CM)
    if shallow.any() and not opts.extrapolate:
        g = np.flatnonzero(shallow)
        flag(_deepest_row(cand, rows.n_records)[g], "bottom_cm", "too_shallow",
             [f"profile reaches {d:g} cm, short of the target depth {opts.bottom_cm:g} cm (use --extrapolate)"
              for d in logic.deepest_cm[g]])
    if opts.extrapolate:
        gap_cm = np.bincount(c_codes, weights=np.where(inner_gap, logic.gap_before_cm, 0.0), minlength=rows.n_records)
        over, msgs = _past_extrapolation_bound(logic, shallow, gap_cm, opts)
        if over.any():
            flag(_deepest_row(cand, rows.n_records)[over], "bottom_cm", "extrapolation_bound", msgs)
    return _RecordChecks(plot_bad, shallow, knock_on)


def _deepest_row(cand: _Candidates, n_records: int) -> np.ndarray:
    """The last candidate row of each record (-1 for none)."""
    last = np.ones(cand.order.size, dtype=bool)
    last[:-1] = cand.codes[:-1] != cand.codes[1:]
    deepest_row = np.full(n_records, -1)
    deepest_row[cand.codes[last]] = cand.order[last]
    return deepest_row


def _has_row_errors_in_interval(rows: _Rows) -> np.ndarray:
    """Records with a rejected row that meets the interval (or has no depth): their depth
    problems are knock-on problems of those rows."""
    if not rows.error_rows.any():
        return np.zeros(rows.n_records, dtype=bool)
    cause = rows.error_rows & ((rows.overlap > 0) | np.isnan(rows.top) | np.isnan(rows.bottom))
    return np.bincount(rows.codes, weights=cause.astype(float), minlength=rows.n_records) > 0


def _past_extrapolation_bound(logic: depth_mod.DepthLogic, shallow: np.ndarray, gap_cm: np.ndarray,
                              opts: EstimateOptions) -> tuple[np.ndarray, list[str]]:
    """Records that --extrapolate would invent too much of, and why (one message each)."""
    span = opts.bottom_cm - opts.top_cm
    below = np.where(shallow, opts.bottom_cm - logic.deepest_cm, 0.0)
    invented = below + gap_cm
    tol = depth_mod.DEPTH_TOL_CM
    too_deep = below > opts.max_extrapolate_cm + tol
    too_much = invented > opts.max_extrapolate_share * span + tol
    # A one-layer profile follows the published depth distribution, matched on 0-100 cm.
    one_layer = shallow & (logic.n_layers == 1) & (opts.bottom_cm > REFERENCE_DEPTH_CM + tol)
    over = too_deep | too_much | one_layer
    msgs = []
    for i in np.flatnonzero(over):
        if one_layer[i] and not (too_deep[i] or too_much[i]):
            msgs.append(f"one layer reaching {logic.deepest_cm[i]:g} cm: its depth distribution (Jobbagy & Jackson "
                        f"2000) is defined to {REFERENCE_DEPTH_CM:g} cm, not {opts.bottom_cm:g} cm")
            continue
        msgs.append(f"extrapolating to {opts.top_cm:g}-{opts.bottom_cm:g} cm would invent {invented[i]:g} of "
                    f"{span:g} cm ({invented[i] / span:.0%}; {below[i]:g} cm below the deepest layer): beyond the "
                    f"bound of {opts.max_extrapolate_cm:g} cm below it and {opts.max_extrapolate_share:.0%} of the "
                    "interval (--max-extrapolate-cm, --max-extrapolate-share)")
    return over, msgs


def _interval_stock(table: HorizonTable, rows: _Rows, cand: _Candidates, used: np.ndarray, codes: np.ndarray,
                    density: np.ndarray, checks: _RecordChecks, opts: EstimateOptions,
                    methods: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Step 6: stock [t C ha-1] over the interval and depth extrapolated [cm], per record, from
    the rows ``used`` (of records ``codes``)."""
    n_records, logic, plot_bad = rows.n_records, cand.logic, checks.bad
    k_logic = logic
    if used.size < cand.order.size:  # the depth logic of the candidates of the records kept
        keep = ~plot_bad[cand.codes]
        k_logic = depth_mod.DepthLogic(logic.gap_before_cm[keep], logic.gap_from_cm[keep],
                                       logic.overlaps_previous[keep], logic.first_top_cm, logic.deepest_cm,
                                       logic.n_layers)
    dens = density[used]
    # the layer limits: for the spline and extrapolation (the proportional stock has the overlaps)
    top, bottom = (rows.top[used], rows.bottom[used]) if opts.depth_method == "spline" or opts.extrapolate \
        else (None, None)
    lo, hi = _interval(n_records, opts)
    reach = np.minimum(np.where(np.isfinite(logic.deepest_cm), logic.deepest_cm, hi), hi)
    if opts.depth_method == "spline":
        stock = _spline_stock(codes, top, bottom, dens, n_records, lo, reach, opts.spline_lambda)
    else:
        stock = depth_mod.proportional_stock(codes, top, bottom, dens, n_records, lo, hi, overlap=rows.overlap[used])
        if opts.extrapolate:
            stock = stock + depth_mod.gap_fill_stock(codes, dens, k_logic, n_records)
    extrapolated_cm = np.zeros(n_records)
    if not opts.extrapolate:
        return stock, extrapolated_cm
    gap_cm = np.bincount(codes, weights=k_logic.gap_before_cm, minlength=n_records)
    extend = checks.shallow & ~plot_bad
    if extend.any():
        below = _extension_below(codes, top, bottom, dens, n_records, reach, hi)
        single = extend & (logic.n_layers == 1)
        if single.any():
            below[single] = _single_layer_extension(table, rows, stock, logic, single, reach, opts)
            methods.append(_SINGLE_LAYER_METHOD)
        stock = stock + np.where(extend, below, 0.0)
        extrapolated_cm = np.where(extend, hi - reach, 0.0)
        if (extend & ~single).any():
            methods.append("below the deepest layer, carbon density extrapolated with a fitted exponential decline "
                           "(depth.exponential_extension)")
    if (gap_cm > 0).any():
        methods.append("gaps between layers filled by linear interpolation of carbon density")
    methods.append(f"extrapolation bounded: at most {opts.max_extrapolate_cm:g} cm below the deepest layer and "
                   f"{opts.max_extrapolate_share:.0%} of the interval")
    return stock, extrapolated_cm + gap_cm


_SINGLE_LAYER_METHOD = (
    "profiles known from one layer extended below it with the cumulative curve Y = 1 - beta^d (Gale & Grigal 1987) "
    "matched to the share of 0-100 cm SOC in 0-20 cm of Jobbagy & Jackson (2000): forest 50 %, grassland 42 %, "
    "shrubland 33 %; cropland and other land uses take the grassland share (no published cropland share found)")


def _single_layer_extension(table: HorizonTable, rows: _Rows, stock: np.ndarray, logic: depth_mod.DepthLogic,
                            single: np.ndarray, reach: np.ndarray, opts: EstimateOptions) -> np.ndarray:
    """Stock [t C ha-1] below the one layer of the ``single`` records, from the land use's depth distribution."""
    frame = table.frame
    recs = np.flatnonzero(single)
    land_use = (frame["land_use"].to_numpy(dtype=object)[rows.first_row[recs]] if "land_use" in frame
                else np.full(recs.size, None, dtype=object))
    beta = jobbagy_jackson_2000_beta(vegetation_for_land_use(land_use))
    layer_top = np.maximum(logic.first_top_cm[recs], opts.top_cm)
    return extend_below_layer_t_c_ha(stock[recs], layer_top, reach[recs], np.full(recs.size, opts.bottom_cm), beta)


def _extension_below(codes, top, bottom, density, n_records, reach, hi) -> np.ndarray:
    """Stock [t C ha-1] from the deepest layer's bottom (``reach``) to ``hi`` under an exponential decline."""
    k = depth_mod.decline_rate(codes, top, bottom, density, n_records)
    last = np.ones(codes.size, dtype=bool)
    last[:-1] = codes[:-1] != codes[1:]
    deep_density = np.zeros(n_records)
    deep_mid = np.zeros(n_records)
    deep_density[codes[last]] = density[last]
    deep_mid[codes[last]] = (top[last] + bottom[last]) / 2.0
    return depth_mod.exponential_extension(deep_density, deep_mid, reach, hi, k)


def _record_table(table: HorizonTable, rows: _Rows, used: np.ndarray, used_codes: np.ndarray, fed: np.ndarray,
                  stock: np.ndarray, extrapolated_cm: np.ndarray, logic: depth_mod.DepthLogic, ptf_code: np.ndarray,
                  by_ptf: np.ndarray, opts: EstimateOptions, keys: pd.DataFrame, scored: np.ndarray) -> pd.DataFrame:
    """One row per scored record (``used``: the rows in their stocks, of records ``used_codes``)."""
    frame, codes, n_records = table.frame, rows.codes, rows.n_records
    lo, hi = _interval(n_records, opts)
    mass = fed[used]
    mass *= rows.overlap[used]
    mass *= 100.0  # in place: fed x overlap x 100 [t ha-1]
    soil_mass = np.bincount(used_codes, weights=mass, minlength=n_records)
    ptf_flags = _ptf_per_record(codes, ptf_code, by_ptf & rows.in_interval, n_records)  # of estimated BDs
    out = dict(keys.items())
    if "farm_id" in frame:
        farm_id = text_values(frame["farm_id"].take(rows.first_row).reset_index(drop=True))
        out = {"plot_id": out.pop("plot_id"), "farm_id": farm_id, **out}
    out.update(top_cm=lo, bottom_cm=hi, soc_stock_t_ha=stock, co2e_t_ha=co2e(stock),
               target_4p1000_t_ha_yr=four_per_mille(stock),
               bd_estimated=ptf_flags > 0,
               extrapolated=extrapolated_cm > 0, extrapolated_cm=extrapolated_cm,
               extrapolated_share=extrapolated_cm / (hi - lo), n_layers=logic.n_layers, soil_mass_t_ha=soil_mass,
               bd_ptf=text_column(ptf_flags, _ptf_sets()))
    if "area_ha" in table.source_columns:
        out["area_ha"] = _first_valid(frame["area_ha"].to_numpy(dtype=float), codes, rows.first_row)
    out["depth_method"] = text_column(np.zeros(n_records, dtype=np.int8), [opts.depth_method]) if n_records \
        else opts.depth_method
    out = pd.DataFrame(out)  # columns typed on all records, as pandas would type them
    return out if scored.all() else out[scored].reset_index(drop=True)


def _first_valid(values: np.ndarray, codes: np.ndarray, first_row: np.ndarray) -> np.ndarray:
    """First non-NaN value per code (NaN where none), as ``Series.groupby(codes).first()``;
    ``first_row``: the first row of each code.

    A code's first valid row heads a run of equal codes among the valid rows, so only the
    run heads are looked at (a plot's rows usually come together: one head per code)."""
    missing = np.isnan(values)
    if not missing.any():  # the usual case: the first row's value
        return values[first_row]
    n_codes = first_row.size
    valid = np.flatnonzero(~missing)
    sub = codes[valid]
    head = np.ones(sub.size, dtype=bool)
    head[1:] = sub[1:] != sub[:-1]
    at = valid[head]
    first = np.full(n_codes, codes.size, dtype=np.int64)
    np.minimum.at(first, codes[at], at)
    found = first < codes.size
    out = np.full(n_codes, np.nan)
    out[found] = values[first[found]]
    return out


def _layer_table(table: HorizonTable, rows: _Rows, used: np.ndarray, fed: np.ndarray, density: np.ndarray,
                 took: np.ndarray | None, ptf_code: np.ndarray, basis: np.ndarray | str, scored: np.ndarray,
                 opts: EstimateOptions) -> pd.DataFrame:
    """The layers summed into the scored records' stocks, in input row order (see :attr:`EstimateResult.layers`)."""
    frame = table.frame
    at = np.sort(used)
    record_of_code = np.cumsum(scored) - 1
    cf_mass = (frame["coarse_fragments_mass_pct"].to_numpy(dtype=float)[at] if "coarse_fragments_mass_pct" in frame
               else np.full(at.size, np.nan))
    return pd.DataFrame({
        "position": at,
        "row": frame["source_row"].to_numpy()[at],
        "record": record_of_code[rows.codes[at]],
        "top_cm": rows.top[at],
        "bottom_cm": rows.bottom[at],
        "soc_g_kg": rows.soc[at],
        "bulk_density_g_cm3": rows.bd[at],
        "bd_source": np.array(BD_SOURCES, dtype=object)[_bd_sources(table, took, ptf_code, at)],
        "bd_ptf": np.asarray(PTF_NAMES, dtype=object)[ptf_code[at]],
        "coarse_fragments_pct": frame["coarse_fragments_pct"].to_numpy(dtype=float)[at],
        "coarse_fragments_mass_pct": cf_mass,
        "bd_basis": np.broadcast_to(np.asarray(basis, dtype=object), (len(frame),))[at],
        "fine_earth_density_g_cm3": fed[at],
        "carbon_density_t_c_ha_cm": density[at],
        "overlap_cm": depth_mod.overlap_cm(rows.top[at], rows.bottom[at], opts.top_cm, opts.bottom_cm),
    })


def _method_statement(opts: EstimateOptions) -> str:
    if opts.depth_method == "spline":
        how = f"mass-preserving quadratic spline of carbon density (Bishop et al. 1999, lambda {opts.spline_lambda:g})"
    else:
        how = "layers counted in proportion to their overlap with the interval"
    return (f"SOC stock {opts.top_cm:g}-{opts.bottom_cm:g} cm = sum of SOC x fine-earth BD x thickness x (1 - coarse "
            f"fragments vol.) / 10 [t C/ha]; {how}; CO2e = C x 44/12; 4 per 1000 target = 0.004 x stock per year")


def bd_from_bd_only_rows(codes: np.ndarray, top: np.ndarray, bottom: np.ndarray, bd: np.ndarray,
                         bd_rows: np.ndarray, needs: np.ndarray) -> np.ndarray:
    """Overlap-weighted mean BD [g cm-3] of the BD-only rows that overlap each layer needing one.

    Parameters
    ----------
    codes : array of int
        Record of each row; a layer borrows only from rows of its own record.
    top, bottom : array [cm]
        Row depths.
    bd : array [g cm-3]
        Bulk density of each row (NaN where not measured).
    bd_rows, needs : array of bool
        Rows that may lend their BD (no SOC), and layers that need one.

    Returns
    -------
    array [g cm-3]
        For each row needing a BD: sum(overlap x BD) / sum(overlap) over the lending rows of
        its record that overlap it; NaN elsewhere.
    """
    out = np.full(codes.shape[0], np.nan)
    src = bd_rows & ~np.isnan(bd)
    if not src.any() or not needs.any():
        return out
    a = pd.DataFrame({"code": codes[needs], "pos": np.flatnonzero(needs), "t": top[needs], "b": bottom[needs]})
    s = pd.DataFrame({"code": codes[src], "ts": top[src], "bs": bottom[src], "bd": bd[src]})
    m = a.merge(s, on="code", how="inner")
    m["w"] = depth_mod.overlap_cm(m["t"].to_numpy(), m["b"].to_numpy(), m["ts"].to_numpy(), m["bs"].to_numpy())
    m = m[m["w"] > 0]
    if m.empty:
        return out
    m["wbd"] = m["w"] * m["bd"]
    agg = m.groupby("pos")[["wbd", "w"]].sum()
    out[agg.index.to_numpy()] = (agg["wbd"] / agg["w"]).to_numpy()
    return out


def _ptf_failure_messages(method: str, soc_g_kg: np.ndarray) -> list[str]:
    msgs = []
    for s in soc_g_kg:
        if method == "hollis_2012" and s / 10.0 < 12:
            msgs.append("bulk density missing; --bd-ptf hollis_2012 needs sand_pct and clay_pct (or use --bd-ptf auto)")
        else:
            msgs.append(f"bulk density missing and --bd-ptf {method} gives no valid estimate for SOC {s:g} g/kg; "
                        "give bulk_density_g_cm3")
    return msgs


def _row_problems(table: HorizonTable, positions: np.ndarray, column: str, rule: str, message,
                  severity: str = "error") -> pd.DataFrame:
    frame = table.frame
    return pd.DataFrame({
        "position": positions,
        "row": frame["source_row"].to_numpy()[positions],
        "plot_id": frame["plot_id"].iloc[positions].to_numpy(),
        "column": table.source_columns.get(column, column),
        "rule": rule,
        "message": message,
        "severity": severity,
    })


def _ptf_per_record(codes, ptf_code, mask, n_groups) -> np.ndarray:
    """The set of PTFs used by the ``mask`` rows of each record: bit i for ``PTF_NAMES[i]``
    (0: none; named by :func:`_ptf_sets`)."""
    flags = np.zeros(n_groups, dtype=np.int64)
    at = np.flatnonzero(mask)  # a few rows of many: taken by position
    if not at.size:
        return flags
    codes, ptf_code = codes[at], ptf_code[at]
    for code in np.flatnonzero(np.bincount(ptf_code, minlength=len(PTF_NAMES))):  # the few PTFs used
        flags[codes[ptf_code == code]] |= 1 << int(code)  # repeated records: each sets the same bit
    return flags


@functools.lru_cache(maxsize=1)
def _ptf_sets() -> list[str]:
    """The ';'-joined names of every set of PTFs, indexed by its bits (bit i: ``PTF_NAMES[i]``)."""
    return [";".join(n for i, n in enumerate(PTF_NAMES) if flags >> i & 1 and n) for flags in range(2 ** len(PTF_NAMES))]


def farm_summary(plots: pd.DataFrame) -> pd.DataFrame | None:
    """Per-farm totals and area-weighted means (plots without ``area_ha`` are counted apart).

    Replicate cores are averaged per plot first. Returns None without ``farm_id`` and
    ``area_ha``. The aggregation is :func:`fourp1000.stocks.farms.farm_totals`.

    Columns: ``farm_id`` (and ``sampled_on``), ``n_plots``, ``n_plots_without_area``,
    ``area_ha``, ``soc_stock_t_c`` (total), ``soc_stock_t_ha`` (area-weighted mean),
    ``co2e_t`` and ``target_4p1000_t_c_yr`` (total).
    """
    if "farm_id" not in plots or "area_ha" not in plots or plots.empty:
        return None
    dated = ["sampled_on"] if "sampled_on" in plots else []
    keys = ["farm_id", "plot_id"] + dated
    if "core_id" in plots:
        per_plot = plots.groupby(keys, sort=False, dropna=False).agg(
            soc_stock_t_ha=("soc_stock_t_ha", "mean"), area_ha=("area_ha", "first")
        ).reset_index()
    else:  # one record per plot (and date) already
        per_plot = plots[keys + ["soc_stock_t_ha", "area_ha"]]
    farms = farm_totals(per_plot, ["farm_id"] + dated, {"soc_stock_t_c": "soc_stock_t_ha"})
    farms["soc_stock_t_ha"] = per_hectare(farms["soc_stock_t_c"], farms["area_ha"])
    farms["co2e_t"] = co2e(farms["soc_stock_t_c"].to_numpy())
    farms["target_4p1000_t_c_yr"] = four_per_mille(farms["soc_stock_t_c"].to_numpy())
    return farms


def _spline_stock(codes, top, bottom, density, n_groups, lo, reach, lam) -> np.ndarray:
    """Stock [t C ha-1] from the mass-preserving spline of carbon density over [lo, reach]."""
    from .spline import spline_interval_means  # the spline module is optional until built

    stock = np.zeros(n_groups)
    if codes.size == 0:
        return stock
    present = np.unique(codes)
    remap = np.full(n_groups, -1)
    remap[present] = np.arange(present.size)
    fit = spline_interval_means(remap[codes], top, bottom, density, lo[present], reach[present], lam=lam,
                                discretisation="exact", n_profiles=present.size)
    stock[present] = np.nan_to_num(np.asarray(fit.mean, dtype=float)) * (reach[present] - lo[present])
    return stock
