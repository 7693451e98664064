"""The report page: numbers and figures rendered through a Jinja2 template with autoescaping.

Every text from the input (farm and plot ids, practices, notes, file names) reaches the
page through the template's autoescaping; only the SVG figures, which matplotlib writes,
are inserted as markup. Number formats are the template filters defined here.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, StrictUndefined
from markupsafe import Markup

from ..errors import InputError
from ..practices import SEPARATOR, list_practices
from ..stocks.layers import CO2_PER_C
from .figures import VERDICT_LABELS, measured_svg, rate_histogram_svg, trajectory_svg
from .numbers import CONFIDENT, HIGH, LOW, P_MEETS, ModelNumbers, measured_stocks, report_numbers, verdict_column
from .provenance import InputFile, report_time, settings
from ..projection.verdict import CAVEATS
from .wording import caveat_list, credit_lines, plain_method, practice_words, status_words, symbols

DEFAULT_TITLE = "Soil carbon and the 4 per 1000 target"
TEMPLATE = "report.html.j2"
REFERENCES = (
    "IPCC (2006) 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 4, Ch. 2 (Eq. 2.25), "
    "Ch. 5 (Table 5.5), Ch. 6 (Table 6.2).",
    "IPCC (2019) 2019 Refinement to the 2006 IPCC Guidelines, Vol. 4, Ch. 2, 5 and 6.",
    "Minasny B. et al. (2017) Soil carbon 4 per mille. Geoderma 292:59–86, doi:10.1016/j.geoderma.2017.01.002",
    "Soussana J.-F. et al. (2019) Matching policy and science: rationale for the ‘4 per 1000 – soils for food "
    "security and climate’ initiative. Soil Tillage Res. 188:3–15, doi:10.1016/j.still.2017.12.002",
)
ROTHC_REFERENCE = ("Coleman K., Jenkinson D.S. (1996) RothC-26.3 – A model for the turnover of carbon in soil. "
                   "In: Evaluation of Soil Organic Matter Models, NATO ASI Series I 38, Springer, 237–246, "
                   "doi:10.1007/978-3-642-61094-3_17")


# ---------------------------------------------------------------------------------------
# Template filters: numbers as the page prints them
# ---------------------------------------------------------------------------------------

def is_missing(value: object) -> bool:
    """True for None, NA and NaN."""
    try:
        return value is None or value is pd.NA or (isinstance(value, (float, np.floating)) and math.isnan(value))
    except TypeError:
        return False


def format_number(value: object, decimals: int = 1, sign: bool = False) -> str:
    """Thousands separators, a true minus sign, ``–`` for a missing value."""
    if is_missing(value):
        return "–"
    return f"{float(value):{'+' if sign else ''},.{decimals}f}".replace("-", "−")


def format_percent(share: object, decimals: int = 0) -> str:
    """A share [0-1] as a percentage (``–`` when missing)."""
    return "–" if is_missing(share) else f"{100.0 * float(share):.{decimals}f} %"


def data_value(value: object) -> str:
    """A machine-readable value for ``data-value`` (full precision, for tests and scrapers)."""
    if is_missing(value):
        return "nan"
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    return repr(float(value))


def plural(n: int, word: str) -> str:
    """``1 plot``, ``2,000 plots``."""
    return f"{int(n):,} {word}{'' if n == 1 else 's'}"


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """The Jinja2 environment of the report templates (autoescaping on, undefined names fail)."""
    env = Environment(loader=PackageLoader("fourp1000.report", "templates"), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(num=format_number, pct=format_percent, data=data_value, plural=plural,
                       missing=is_missing, words=practice_words, symbols=symbols)
    return env


# ---------------------------------------------------------------------------------------
# What the template shows
# ---------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Figure:
    """One figure of the page: the unit it shows, its model and the inline SVG."""

    unit_id: str
    model: ModelNumbers
    record: dict
    svg: Markup
    meets: bool  # the verdict shown: at the Monte Carlo confidence when there is one


def short_label(model: ModelNumbers) -> str:
    """A model's name in tight places (cards, captions)."""
    return model.label.split(" (")[0] if model.model != "rothc" else "RothC"


def trajectory_figures(models: list[ModelNumbers], depth: str, max_figures: int) -> list[Figure]:
    """Figures of the best-ranked farms (plots without farm totals), every model side by side.

    The order is the first model's ranking; each unit gets one figure per model.
    """
    first = models[0]
    units = first.farms if first.farms is not None else rank_plots(first.plots)
    key = first.trajectories.key
    shown = units[key].head(max_figures).tolist()
    figures = []
    for m_index, model in enumerate(models):
        traj = model.trajectories
        by_unit = dict(tuple(traj.frame.groupby(key, sort=False)))
        table = model.farms if model.farms is not None else model.plots
        records = table.set_index(key, drop=False)
        verdict = verdict_column(table)
        for u_index, unit in enumerate(shown):
            if unit not in by_unit:
                continue
            what = "farm" if key == "farm_id" else "plot"
            label = f"Stock trajectory of {what} {unit}" + (f" ({model.label})" if len(models) > 1 else "")
            svg = trajectory_svg(by_unit[unit], unit=traj.unit, depth_label=depth, prefix=f"t{m_index}-{u_index}",
                                 label=label)
            record = records.loc[unit].to_dict()
            meets = bool(record[verdict]) if not is_missing(record[verdict]) else False
            figures.append((u_index, m_index, Figure(str(unit), model, record, Markup(svg), meets)))
    return [f for _, _, f in sorted(figures, key=lambda item: item[:2])]


def rank_plots(plots: pd.DataFrame) -> pd.DataFrame:
    """Plots ranked by rate, highest first (the order of plot figures)."""
    rate = np.nan_to_num(plots["rate_per_mille"].to_numpy(float), nan=-np.inf)
    return plots.iloc[np.argsort(-rate, kind="stable")].reset_index(drop=True)


def practices_used(plots: pd.DataFrame, ipcc_version: str) -> pd.DataFrame:
    """Catalogue rows (:func:`fourp1000.practices.list_practices`) of the practices the plots use."""
    if "practices" not in plots:
        return list_practices(ipcc_version).iloc[0:0]
    used = {p for text in plots["practices"].dropna().astype(str) for p in text.split(SEPARATOR) if p}
    table = list_practices(ipcc_version)
    return table[table["practice"].isin(used)]


def status_counts(plots: pd.DataFrame) -> list[tuple[str, int]]:
    """Plots per weakest confirmation status of the IPCC table values they used."""
    if "least_confirmed" not in plots:
        return []
    counts = plots["least_confirmed"].dropna().astype(str).value_counts(sort=False)
    return sorted((str(k), int(v)) for k, v in counts.items())


def confidence_words(confidence: float | None) -> str:
    """``≥ 90 % likely`` for a confidence of 0.9 (``likely enough`` when it is not known)."""
    return "likely enough" if confidence is None else f"≥ {100.0 * confidence:g} % likely"


def histogram_labels(model: ModelNumbers, confidence: float | None) -> tuple[str, str]:
    """Legend labels of the rate histogram: the verdict it is stacked by (at confidence with Monte Carlo)."""
    if not model.summary.at_confidence:
        return VERDICT_LABELS
    pct = "" if confidence is None else f" ({100.0 * confidence:g} %)"
    return f"may fall short{pct}", f"likely meets 4 ‰{pct}"


def unsure_plots(plots: pd.DataFrame) -> list[str]:
    """Plots that meet 4 per 1000 on the central estimate but not at the Monte Carlo confidence."""
    if CONFIDENT not in plots:
        return []
    unsure = plots["meets_4p1000"].to_numpy(bool) & ~plots[CONFIDENT].fillna(False).to_numpy(bool)
    return [str(p) for p in plots.loc[unsure, "plot_id"]]


def records(frame: pd.DataFrame | None, limit: int | None = None) -> list[dict]:
    """Rows as dicts for the template (at most ``limit``)."""
    if frame is None:
        return []
    return (frame if limit is None else frame.head(limit)).to_dict("records")


def with_reasons(rows: list[dict]) -> list[dict]:
    """Plot records with ``why`` (what is credited and why, :func:`credit_lines`) and ``caveat_list``."""
    return [{**row, "why": credit_lines(row), "caveat_list": caveat_list(row)} for row in rows]  # <= max_plot_rows


def caveat_notes(plots: pd.DataFrame) -> list[tuple[str, str]]:
    """The caveats some plot carries, each with its full explanation, in :data:`CAVEATS` order."""
    if "caveats" not in plots:
        return []
    present = {key for text in plots["caveats"].dropna().astype(str).unique() for key in text.split(SEPARATOR)}
    return [(key, symbols(text)) for key, text in CAVEATS.items() if key in present]


def uncertainty_columns(frame: pd.DataFrame | None) -> dict[str, bool]:
    """Which Monte Carlo columns a table has: rate interval, P(meet), verdict at confidence."""
    cols = set() if frame is None else set(frame.columns)
    return {"interval": {f"rate_per_mille{LOW}", f"rate_per_mille{HIGH}"} <= cols,
            "p_meets": P_MEETS in cols and CONFIDENT not in cols, "confident": CONFIDENT in cols}


def model_context(model: ModelNumbers, max_plot_rows: int, several: bool, confidence: float | None = None) -> dict:
    """The template's view of one model."""
    return {
        "verdict": verdict_column(model.plots), "farm_verdict": verdict_column(model.farms),
        "unsure_plots": unsure_plots(model.plots),
        "model": model.model, "label": model.label, "short": short_label(model), "summary": model.summary,
        "farms": records(model.farms), "has_farms": model.farms is not None,
        "farm_cols": uncertainty_columns(model.farms), "plot_cols": uncertainty_columns(model.plots),
        "plots": with_reasons(records(model.plots, max_plot_rows)), "n_plots": len(model.plots),
        "short_plots": with_reasons(records(model.short_plots, max_plot_rows)), "n_short": len(model.short_plots),
        "has_farm_id": "farm_id" in model.plots, "has_area": "area_ha" in model.plots,
        "n_confident_plots": _count_true(model.plots, CONFIDENT),
        "n_confident_farms": _count_true(model.farms, CONFIDENT),
        "histogram": model.histogram,
        "histogram_labels": histogram_labels(model, confidence),
        "histogram_svg": Markup(rate_histogram_svg(model.histogram, prefix=f"r{model.model}",
                                                   label="Histogram of plot rates in per mille per year"
                                                   + (f" ({model.label})" if several else ""),
                                                   labels=histogram_labels(model, confidence))),
    }

def measured_figures(result, depth: str, max_figures: int, confidence: float) -> dict | None:
    """The measured-stocks-over-time block: one figure per farm (plot, without farm totals) with
    two or more dated samplings, at most ``max_figures``; None when no unit has two."""
    measured = measured_stocks(result, confidence)
    if measured is None:
        return None
    key, what = measured.key, "farm" if measured.key == "farm_id" else "plot"
    groups = list(measured.frame.groupby(key, sort=False))
    figures = []
    for index, (unit, points) in enumerate(groups[:max_figures]):
        rate = measured.rates.loc[unit]
        first = float(points["stock_t_ha"].iloc[0])
        svg = measured_svg(points, unit=measured.unit, depth_label=depth, prefix=f"m{index}",
                           label=f"Measured SOC stocks of {what} {unit} at each sampling, against the 4 ‰ path")
        most = int(points["n_plots"].max())
        partial = [f"{s}: {n} of {most} plots" for s, n in zip(points["sampled_on"], points["n_plots"]) if n < most]
        meets = rate["observed_meets_4p1000"]
        figures.append({
            "unit_id": str(unit), "svg": Markup(svg), "n_samplings": len(points),
            "first": str(points["sampled_on"].iloc[0]), "last": str(points["sampled_on"].iloc[-1]),
            "rate_per_mille": float(rate["observed_rate_per_mille"]),
            "se_per_mille": float(rate["observed_rate_se_t_ha_yr"]) / first * 1000.0 if first > 0 else math.nan,
            "meets": None if is_missing(meets) else bool(meets), "partial": "; ".join(partial),
        })
    return {"figures": figures, "of": f"{what}s", "n_units": len(groups),
            "has_bars": bool(np.isfinite(measured.frame["se_t_ha"].to_numpy(float)).any()),
            "confidence": f"{100.0 * confidence:g} %"}



def _count_true(frame: pd.DataFrame | None, column: str) -> int | None:
    if frame is None or column not in frame:
        return None
    return int(frame[column].fillna(False).astype(bool).sum())


def build_report(
    result,
    *,
    input_file: InputFile | None = None,
    climate_file: InputFile | None = None,
    generated: datetime | None = None,
    title: str | None = None,
    notes: Iterable[str] = (),
    version: str | None = None,
    max_plot_rows: int = 500,
    max_farm_figures: int = 60,
    confidence: float | None = None,
    plan=None,
) -> str:
    """The HTML report of a projection, as text (UTF-8, self-contained).

    Parameters
    ----------
    result : fourp1000.projection.table.ProjectResult
        Output of :func:`fourp1000.projection.table.project_table` (one or several models);
        Monte Carlo columns are used when present (see :mod:`fourp1000.report.numbers`).
    input_file, climate_file : InputFile, optional
        Name, size and checksum of the input (and of the climate table of RothC), shown in
        the provenance block.
    generated : datetime, optional
        Time of generation; default :func:`~fourp1000.report.provenance.report_time`.
    title : str, optional
        Page title; default :data:`DEFAULT_TITLE`.
    notes : iterable of str
        Data notes to list (warnings, rejected rows), as plain text.
    version : str, optional
        Tool version; default :data:`fourp1000.__version__`.
    max_plot_rows : int, default 500
        The table of all plots is left out above this many plots (the shortfall table is
        cut to the same length); figures and the summary always cover every plot.
    max_farm_figures : int, default 60
        Trajectory figures for at most this many farms (plots, without farm totals), the
        best-ranked first; the tables list them all.
    confidence : float, optional
        Probability behind ``meets_4p1000_at_confidence`` (Monte Carlo), shown in the
        tables' header when that column is present.
    plan : fourp1000.plan.PlanResult, optional
        What each plot would need (``report --plan``): adds the section "What would it take?".

    Returns
    -------
    str
        The HTML document.

    Raises
    ------
    InputError
        If the result has no plot.
    """
    from .. import __version__

    if not len(result.plots):
        raise InputError("no plot was projected; nothing to report")
    opts = result.options
    models = report_numbers(result)
    depth = f"{opts.estimate.top_cm:g}–{opts.estimate.bottom_cm:g} cm"
    generated = (report_time() if generated is None else generated).astimezone(timezone.utc)
    context = {
        "title": title or DEFAULT_TITLE, "version": __version__ if version is None else version,
        "input_file": input_file, "climate_file": climate_file, "generated": generated,
        "years": int(opts.years), "depth": depth, "confidence": confidence,
        "sure": confidence_words(confidence), "co2_per_c": CO2_PER_C,
        "models": [model_context(m, max_plot_rows, len(models) > 1, confidence) for m in models],
        "several": len(models) > 1,
        "summary": models[0].summary, "max_plot_rows": max_plot_rows, "max_farm_figures": max_farm_figures,
        "figures": trajectory_figures(models, depth, max_farm_figures),
        "figures_of": "farms" if models[0].farms is not None else "plots",
        "measured": measured_figures(result, depth, max_farm_figures, opts.observed_confidence),
        "n_units": len(models[0].farms) if models[0].farms is not None else len(models[0].plots),
        "has_band": any(m.trajectories.has_band for m in models), "has_rothc": "rothc" in opts.models,
        "notes": [n for n in notes if n], "methods": [plain_method(line) for line in result.methods],
        "statuses": [(status, status_words(status), n) for status, n in status_counts(result.plots)],
        "practices": records(practices_used(result.plots, opts.ipcc_version)),
        "practice_method": opts.method, "references": REFERENCES + ((ROTHC_REFERENCE,) if "rothc" in opts.models else ()),
        "options": settings(opts), "caveat_notes": caveat_notes(result.plots),
        "plan": plan_context(plan, max_plot_rows),
    }
    return environment().get_template(TEMPLATE).render(context)


def plan_context(plan, max_rows: int) -> list[dict]:
    """The plan section's numbers per model (empty without ``--plan``)."""
    if plan is None or not len(plan.plots):
        return []
    from .numbers import plan_numbers

    return [{"model": p.model, "n_plots": p.n_plots, "n_reachable": p.n_reachable, "n_unreachable": p.n_unreachable,
             "median_extra": p.median_extra_input_t_c_ha_yr, "rows": records(p.rows, max_rows),
             "n_rows": len(p.rows),
             "has_input": "extra_plant_input_t_c_ha_yr" in p.rows and bool(p.rows["extra_plant_input_t_c_ha_yr"].notna().any()),
             "farms": records(p.farms)} for p in plan_numbers(plan.plots, plan.farms)]


__all__ = ["DEFAULT_TITLE", "REFERENCES", "build_report", "caveat_notes", "confidence_words", "data_value",
           "environment", "format_number", "format_percent", "histogram_labels", "is_missing", "measured_figures",
           "plan_context", "plural", "practices_used", "status_counts", "trajectory_figures", "unsure_plots",
           "with_reasons"]
