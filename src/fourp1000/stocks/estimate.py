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
6. per-plot results, per-farm summaries, and the rejected rows with their reasons.

A record is one plot per sampling date (``sampled_on``) and core (``core_id``) where those
columns exist.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from . import depth as depth_mod
from ..errors import InputError, ValidationError
from ..io.horizons import PROBLEM_COLUMNS, HorizonTable
from ..io.rejects import rejected_rows
from .ptf import PTF_CHOICES, estimate_bulk_density
from ..io.schema import VAN_BEMMELEN
from .farms import farm_totals, per_hectare
from .layers import STONE_DENSITY_G_CM3, carbon_density, co2e, fine_earth_density
from ..targets import four_per_mille

DEPTH_METHODS = ("proportional", "spline")
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
        Rows read; ``n_rows == n_rows_used + len(rejects)``.
    methods : list of str
        What was done (methods, factors, conversions), for the methods statement.
    """

    plots: pd.DataFrame
    farms: pd.DataFrame | None
    problems: pd.DataFrame
    rejects: pd.DataFrame
    n_rows: int
    n_rows_used: int
    methods: list[str] = field(default_factory=list)


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
    return top, bottom


def group_codes(frame: pd.DataFrame) -> tuple[np.ndarray, pd.DataFrame]:
    """Integer record code per row (plot x sampling date x core) and the key per record.

    Codes follow the order in which records first appear in the input.
    """
    keys = [c for c in GROUP_COLUMNS if c in frame.columns]
    if keys == ["plot_id"]:
        codes, _ = pd.factorize(frame["plot_id"], use_na_sentinel=False)
    else:
        key_frame = frame[keys].astype("string").fillna("")
        codes = key_frame.groupby(keys, sort=False, dropna=False).ngroup().to_numpy()
    n_groups = int(codes.max()) + 1 if codes.size else 0
    first_pos = np.full(n_groups, len(frame), dtype=np.int64)
    np.minimum.at(first_pos, codes, np.arange(len(frame)))
    return codes, frame.iloc[first_pos][keys].reset_index(drop=True)


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
    frame = table.frame
    n = len(frame)
    problems = [table.problems] if len(table.problems) else []
    error_rows = np.zeros(n, dtype=bool)
    if len(table.problems):
        errs = table.problems[table.problems["severity"] == "error"]
        error_rows[errs["position"].to_numpy(dtype=np.int64)] = True

    codes, keys = group_codes(frame)
    n_groups = len(keys)
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    bd = frame["bulk_density_g_cm3"].to_numpy(dtype=float).copy()
    usable = ~error_rows & frame["plot_id"].notna().to_numpy() & ~np.isnan(top) & ~np.isnan(bottom)
    has_soc = usable & ~np.isnan(soc)
    lo = np.full(n_groups, float(opts.top_cm))
    hi = np.full(n_groups, float(opts.bottom_cm))
    in_interval = has_soc & (depth_mod.overlap_cm(top, bottom, opts.top_cm, opts.bottom_cm) > 0)
    methods: list[str] = list(table.notes)

    # 2. Bulk density from BD-only rows of the same record.
    bd_from_rows = bd_from_bd_only_rows(codes, top, bottom, bd, usable & np.isnan(soc), has_soc & np.isnan(bd))
    took = ~np.isnan(bd_from_rows)
    if took.any():
        bd[took] = bd_from_rows[took]
        methods.append(f"bulk density of {int(took.sum())} layers taken from bulk-density-only rows overlapping them")

    # 3. Pedotransfer functions where bulk density is still missing.
    need_ptf = has_soc & np.isnan(bd)
    bd_estimated = np.zeros(n, dtype=bool)
    ptf_used = np.full(n, "", dtype=object)
    if need_ptf.any():
        idx = np.flatnonzero(need_ptf)
        land_use = frame["land_use"].iloc[idx].to_numpy() if "land_use" in frame else None
        est = estimate_bulk_density(
            soc[idx],
            method=opts.bd_ptf,
            sand_pct=frame["sand_pct"].to_numpy(dtype=float)[idx],
            clay_pct=frame["clay_pct"].to_numpy(dtype=float)[idx],
            top_cm=top[idx],
            land_use=land_use,
            som_factor=opts.som_factor,
        )
        bd[idx] = est.bulk_density_g_cm3
        ok = ~np.isnan(est.bulk_density_g_cm3)
        bd_estimated[idx[ok]] = True
        ptf_used[idx] = est.ptf
        failed = idx[~ok & in_interval[idx]]
        if failed.size:
            problems.append(_row_problems(table, failed, "bulk_density_g_cm3", "bd_missing",
                                          _ptf_failure_messages(opts.bd_ptf, soc[failed])))
            error_rows[failed] = True
        used_names = sorted(set(est.ptf[ok]))
        methods.append(f"bulk density estimated for {int(ok.sum())} layers with {', '.join(used_names) or 'no PTF'} (--bd-ptf {opts.bd_ptf})")

    # 4. Carbon density per layer.
    cf = frame["coarse_fragments_pct"].to_numpy(dtype=float)
    cf_mass = frame["coarse_fragments_mass_pct"].to_numpy(dtype=float) if "coarse_fragments_mass_pct" in frame else None
    basis = frame["bd_basis"]
    uniform = basis.iloc[0] if n and (basis == basis.iloc[0]).all() else None
    fed = fine_earth_density(
        bd, cf, basis=uniform if uniform is not None else basis.to_numpy(dtype=object), coarse_fragments_mass_pct=cf_mass,
        stone_density_g_cm3=opts.stone_density_g_cm3,
    )
    bad_fed = in_interval & ~error_rows & ~np.isnan(bd) & np.isnan(fed)
    if bad_fed.any():
        idx = np.flatnonzero(bad_fed)
        problems.append(_row_problems(table, idx, "coarse_fragments_pct", "inconsistent",
                                      "coarse fragments weigh more than the whole soil for this bulk density"))
        error_rows[idx] = True
    density = carbon_density(soc, fed)

    # 5. Depth logic on the layers meeting the interval.
    cand = np.flatnonzero(in_interval & ~error_rows)
    order = cand[np.lexsort((top[cand], codes[cand]))]
    c_codes, c_top, c_bottom, c_density = codes[order], top[order], bottom[order], density[order]
    logic = depth_mod.depth_logic(c_codes, c_top, c_bottom, n_groups, lo, hi)
    plot_bad = np.zeros(n_groups, dtype=bool)
    plot_msgs: list[pd.DataFrame] = []

    no_data = logic.n_layers == 0
    group_first_pos = np.full(n_groups, n, dtype=np.int64)
    np.minimum.at(group_first_pos, codes, np.arange(n))
    if no_data.any():
        g = np.flatnonzero(no_data)
        plot_msgs.append(_plot_problems(table, group_first_pos[g], "soc_g_kg", "no_data",
                                        f"no usable SOC layer between {opts.top_cm:g} and {opts.bottom_cm:g} cm"))
        plot_bad[g] = True
    if logic.overlaps_previous.any():
        rows = order[logic.overlaps_previous]
        msgs = [f"layer {t:g}-{b:g} cm overlaps the layer above it" for t, b in zip(top[rows], bottom[rows])]
        plot_msgs.append(_plot_problems(table, rows, "top_cm", "overlap", msgs))
        plot_bad[codes[rows]] = True
    has_gap = logic.gap_before_cm > 0
    first_in_group = np.ones(order.size, dtype=bool)
    first_in_group[1:] = c_codes[1:] != c_codes[:-1]
    top_gap = has_gap & first_in_group
    inner_gap = has_gap & ~first_in_group
    if top_gap.any():
        rows = order[top_gap]
        msgs = [f"profile starts at {t:g} cm: no SOC data between {opts.top_cm:g} and {t:g} cm" for t in top[rows]]
        plot_msgs.append(_plot_problems(table, rows, "top_cm", "not_from_top", msgs))
        plot_bad[codes[rows]] = True
    if inner_gap.any() and not opts.extrapolate:
        rows = order[inner_gap]
        msgs = [f"gap: no SOC data between {a:g} and {t:g} cm (use --extrapolate to interpolate across gaps)"
                for a, t in zip(logic.gap_from_cm[inner_gap], top[rows])]
        plot_msgs.append(_plot_problems(table, rows, "top_cm", "gap", msgs))
        plot_bad[codes[rows]] = True
    shallow = (logic.n_layers > 0) & (logic.deepest_cm < hi - depth_mod.DEPTH_TOL_CM)
    if shallow.any() and not opts.extrapolate:
        g = np.flatnonzero(shallow)
        last_in_group = np.ones(order.size, dtype=bool)
        last_in_group[:-1] = c_codes[:-1] != c_codes[1:]
        deepest_row = np.full(n_groups, -1)
        deepest_row[c_codes[last_in_group]] = order[last_in_group]
        msgs = [f"profile reaches {d:g} cm, short of the target depth {opts.bottom_cm:g} cm (use --extrapolate)"
                for d in logic.deepest_cm[g]]
        plot_msgs.append(_plot_problems(table, deepest_row[g], "bottom_cm", "too_shallow", msgs))
        plot_bad[g] = True
    problems.extend(plot_msgs)

    all_problems = (
        pd.concat(problems, ignore_index=True).sort_values("row", kind="stable", na_position="first")
        if problems else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    errors = all_problems[all_problems["severity"] == "error"]
    if len(errors) and opts.on_error == "fail":
        raise ValidationError(table.problem_list(all_problems))

    # 6. Stocks for the plots that can be scored.
    keep_layer = ~plot_bad[c_codes]
    k_codes, k_top, k_bottom, k_density = c_codes[keep_layer], c_top[keep_layer], c_bottom[keep_layer], c_density[keep_layer]
    k_logic = depth_mod.DepthLogic(
        logic.gap_before_cm[keep_layer], logic.gap_from_cm[keep_layer], logic.overlaps_previous[keep_layer],
        logic.first_top_cm, logic.deepest_cm, logic.n_layers,
    )
    reach = np.minimum(np.where(np.isfinite(logic.deepest_cm), logic.deepest_cm, hi), hi)
    if opts.depth_method == "spline":
        stock = _spline_stock(k_codes, k_top, k_bottom, k_density, n_groups, lo, reach, opts.spline_lambda)
    else:
        stock = depth_mod.proportional_stock(k_codes, k_top, k_bottom, k_density, n_groups, lo, hi)
        if opts.extrapolate:
            stock = stock + depth_mod.gap_fill_stock(k_codes, k_density, k_logic, n_groups)
    extrapolated_cm = np.zeros(n_groups)
    if opts.extrapolate:
        gap_cm = np.bincount(k_codes, weights=k_logic.gap_before_cm, minlength=n_groups)
        ext_groups = shallow & ~plot_bad
        if ext_groups.any():
            k = depth_mod.decline_rate(k_codes, k_top, k_bottom, k_density, n_groups)
            last = np.ones(k_codes.size, dtype=bool)
            last[:-1] = k_codes[:-1] != k_codes[1:]
            deep_density = np.zeros(n_groups)
            deep_mid = np.zeros(n_groups)
            deep_density[k_codes[last]] = k_density[last]
            deep_mid[k_codes[last]] = (k_top[last] + k_bottom[last]) / 2.0
            extra = depth_mod.exponential_extension(deep_density, deep_mid, reach, hi, k)
            stock = stock + np.where(ext_groups, extra, 0.0)
            extrapolated_cm = np.where(ext_groups, hi - reach, 0.0)
            methods.append("below the deepest layer, carbon density extrapolated with a fitted exponential decline (depth.exponential_extension)")
        extrapolated_cm = extrapolated_cm + gap_cm
        if (gap_cm > 0).any():
            methods.append("gaps between layers filled by linear interpolation of carbon density")

    # Per-record outputs.
    scored = ~plot_bad
    ov = depth_mod.overlap_cm(k_top, k_bottom, lo[k_codes], hi[k_codes])
    fed_k = fed[order][keep_layer]
    soil_mass = np.bincount(k_codes, weights=fed_k * ov * 100.0, minlength=n_groups)
    bd_est_rec = np.bincount(codes, weights=(bd_estimated & in_interval).astype(float), minlength=n_groups) > 0
    ptf_rec = _ptf_per_record(codes, ptf_used, bd_estimated & in_interval, n_groups)

    out = keys.copy()
    if "farm_id" in frame:
        out.insert(1, "farm_id", frame["farm_id"].iloc[group_first_pos].to_numpy())
    out["top_cm"] = lo
    out["bottom_cm"] = hi
    out["soc_stock_t_ha"] = stock
    out["co2e_t_ha"] = co2e(stock)
    out["target_4p1000_t_ha_yr"] = four_per_mille(stock)
    out["bd_estimated"] = bd_est_rec
    out["extrapolated"] = extrapolated_cm > 0
    out["extrapolated_cm"] = extrapolated_cm
    out["n_layers"] = logic.n_layers
    out["soil_mass_t_ha"] = soil_mass
    out["bd_ptf"] = ptf_rec
    if "area_ha" in table.source_columns:
        area = pd.Series(frame["area_ha"].to_numpy(dtype=float)).groupby(codes).first().to_numpy()
        out["area_ha"] = area
    out["depth_method"] = opts.depth_method
    out = out[scored].reset_index(drop=True)

    # Rejected rows: rows with errors, and every row of a plot that could not be scored.
    rejected = error_rows | plot_bad[codes]
    rejects = _rejects(table, all_problems, rejected, plot_bad, codes)
    farms = farm_summary(out)
    methods.insert(0, _method_statement(opts))
    return EstimateResult(out, farms, all_problems.reset_index(drop=True), rejects, n, int(n - rejected.sum()), methods)


def _method_statement(opts: EstimateOptions) -> str:
    if opts.depth_method == "spline":
        how = f"mass-preserving quadratic spline of carbon density (Bishop et al. 1999, lambda {opts.spline_lambda:g})"
    else:
        how = "layers counted in proportion to their overlap with the interval"
    return (f"SOC stock {opts.top_cm:g}-{opts.bottom_cm:g} cm = sum of SOC x fine-earth BD x thickness x (1 - coarse "
            f"fragments vol.) / 10 [t C/ha]; {how}; CO2e = C x 44/12; 4 per 1000 target = 0.004 x stock per year")


def bd_from_bd_only_rows(codes, top, bottom, bd, bd_rows, needs) -> np.ndarray:
    """Overlap-weighted mean BD of the BD-only rows that overlap each layer needing one."""
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


def _row_problems(table: HorizonTable, positions: np.ndarray, column: str, rule: str, message) -> pd.DataFrame:
    frame = table.frame
    return pd.DataFrame({
        "position": positions,
        "row": frame["source_row"].to_numpy()[positions],
        "plot_id": frame["plot_id"].iloc[positions].to_numpy(),
        "column": table.source_columns.get(column, column),
        "rule": rule,
        "message": message,
        "severity": "error",
    })


_plot_problems = _row_problems


def _ptf_per_record(codes, ptf_used, mask, n_groups) -> np.ndarray:
    """The PTF names used by each record, ';'-joined (vectorised with bit flags)."""
    out = np.full(n_groups, "", dtype=object)
    if not mask.any():
        return out
    names, inverse = np.unique(ptf_used[mask].astype(str), return_inverse=True)
    flags = np.zeros(n_groups, dtype=np.int64)
    np.bitwise_or.at(flags, codes[mask], np.left_shift(1, inverse).astype(np.int64))
    for value in np.unique(flags[flags > 0]):
        out[flags == value] = ";".join(n for i, n in enumerate(names) if value >> i & 1 and n)
    return out


def _rejects(table: HorizonTable, problems: pd.DataFrame, rejected: np.ndarray, plot_bad: np.ndarray,
             codes: np.ndarray) -> pd.DataFrame:
    positions = np.flatnonzero(rejected)
    if positions.size == 0:
        return rejected_rows(table, positions, [])
    errs = problems[problems["severity"] == "error"]
    own = errs.groupby("position")["message"].agg("; ".join) if len(errs) else pd.Series(dtype=object)
    # Reason for rows rejected only because their plot was: the plot's first problem.
    plot_reason = pd.Series(dtype=object)
    if len(errs):
        e = errs.assign(code=codes[errs["position"].to_numpy(dtype=np.int64)])
        e = e[plot_bad[e["code"].to_numpy()]]
        plot_reason = e.groupby("code")["message"].first()
    from_plot = "plot not scored: " + plot_reason.reindex(codes[positions]).fillna("plot has errors").astype(str)
    reasons = own.reindex(positions).astype(object).to_numpy()
    reasons = np.where(pd.isna(reasons), from_plot.to_numpy(), reasons)
    return rejected_rows(table, positions, reasons)


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
