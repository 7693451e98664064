"""``--uncertainty``, ``--draws``, ``--seed``, ``--confidence``: the Monte Carlo flags.

Shared by ``estimate``, ``project`` and ``score``; the computation is
:mod:`fourp1000.uncertainty`. These helpers only translate flags and shape what is shown.
"""

from __future__ import annotations

from collections.abc import Callable

import click
import pandas as pd

from .common import FiniteRange, bounded
from ..uncertainty import DEFAULT_CONFIDENCE, DEFAULT_DRAWS, DEFAULT_SEED, UncertaintyOptions


def uncertainty_options(func: Callable) -> Callable:
    """Add the Monte Carlo flags to a command."""
    options = [
        click.option("--uncertainty", is_flag=True,
                     help="Monte Carlo uncertainty: mean, median and 95 % interval of every result, and the "
                          "probability of meeting 4 per 1000 (see docs/uncertainty.md)."),
        click.option("--draws", type=click.IntRange(1, None), default=DEFAULT_DRAWS, show_default=True,
                     callback=bounded("MAX_DRAWS"),
                     help="Number of Monte Carlo draws (with --uncertainty)."),
        click.option("--seed", type=click.IntRange(0, None), default=DEFAULT_SEED, show_default=True,
                     help="Seed of the random draws; the same seed gives the same results."),
        click.option("--confidence", type=FiniteRange(0, 1, min_open=True, max_open=True),
                     default=DEFAULT_CONFIDENCE, show_default=True,
                     help="Probability of meeting 4 per 1000 required by meets_4p1000_at_confidence "
                          "(and by --check with --uncertainty)."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def uncertainty_from_cli(uncertainty: bool, draws: int, seed: int, confidence: float) -> UncertaintyOptions | None:
    """Options for :mod:`fourp1000.uncertainty`, or None without ``--uncertainty``."""
    if not uncertainty:
        return None
    opts = UncertaintyOptions(draws=draws, seed=seed, confidence=confidence)
    opts.check()
    return opts


def with_interval_columns(view: dict[str, list[str]], unc: UncertaintyOptions | None,
                          extra: dict[str, list[str]]) -> dict[str, list[str]]:
    """Terminal table columns, with the uncertainty columns ``extra`` when they exist."""
    if unc is None:
        return view
    return {name: cols + extra.get(name, []) for name, cols in view.items()}


def verdict_view(frame: pd.DataFrame, unc: UncertaintyOptions | None) -> pd.DataFrame:
    """The frame ``--check`` reads: with ``--uncertainty`` the verdict is the one at confidence."""
    if unc is None or "meets_4p1000_at_confidence" not in frame:
        return frame
    return frame.assign(meets_4p1000=frame["meets_4p1000_at_confidence"])


def uncertainty_summary(plots: pd.DataFrame, farms: pd.DataFrame | None, unc: UncertaintyOptions | None) -> str | None:
    """One stderr line: how many plots (and farms) meet 4 per 1000 at the confidence asked."""
    if unc is None or "meets_4p1000_at_confidence" not in plots:
        return None
    line = (f"with uncertainty ({unc.draws} draws): {int(plots['meets_4p1000_at_confidence'].sum())} of {len(plots)} "
            f"plots meet 4 per 1000 with probability >= {unc.confidence:g}")
    if "verdict_at_confidence" in plots:
        line += f" ({int((plots['verdict_at_confidence'] == 'uncertain').sum())} uncertain)"
    if farms is not None and "meets_4p1000_at_confidence" in farms:
        line += f"; {int(farms['meets_4p1000_at_confidence'].sum())} of {len(farms)} farms"
    return line


def uncertainty_meta(unc: UncertaintyOptions | None) -> dict:
    """Run metadata for json output."""
    if unc is None:
        return {}
    return {"uncertainty": {"draws": unc.draws, "seed": unc.seed, "confidence": unc.confidence}}
