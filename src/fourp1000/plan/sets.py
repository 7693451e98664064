"""The practice sets a plot could adopt, and how two sets of the same size are ranked.

Every subset of the available practices is a candidate set of a plot when each of its
practices applies to the plot's land use and is *additional* there (not already in place:
:func:`fourp1000.practices.additional_practices`, the rule of ``project``), and when
``project`` would accept the combination (set-aside with agroforestry is refused:
:func:`fourp1000.practices.apply_practices`). The empty set is always a candidate: a plot
may already meet 4 per 1000 without any practice.

Two sets of the same size are ranked by their cost per hectare when the user gives costs
(:func:`read_costs`), then by disruption (:func:`disruption_ranks`, ``data/plan_disruption.csv``):
the set whose most disruptive practice disrupts least comes first, then the second most
disruptive, and so on.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from itertools import combinations
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import FourP1000Error, InputError, ReferenceDataError
from ..practices import (SEPARATOR, additional_practices, apply_practices, catalogue, parse_practices, practice_names,
                         unknown_practices)
from ..projection import ipcc
from ..tables import read_csv_table

DISRUPTION_FILE = "plan_disruption.csv"
#: The key of a practice's cost in a costs YAML file [currency ha-1 yr-1].
COST_KEY = "cost_per_ha"


@lru_cache(maxsize=1)
def disruption_ranks() -> dict[str, int]:
    """Disruption rank of each catalogue practice (1 = least disruptive), from ``data/plan_disruption.csv``.

    Raises
    ------
    ReferenceDataError
        A catalogue practice without a rank, an unknown practice, or ranks that repeat.
    """
    table = read_csv_table(DISRUPTION_FILE, required=["practice", "rank", "reason", "source"])
    ranks = dict(zip(table["practice"].astype(str), table["rank"].astype(int)))
    names = set(practice_names())
    if set(ranks) != names or len(set(ranks.values())) != len(ranks):
        raise ReferenceDataError(f"{DISRUPTION_FILE}: needs one distinct rank for each of {sorted(names)}")
    return ranks


def read_costs(path: str) -> dict[str, float]:
    """Cost per hectare of each available practice, from a YAML file.

    The file maps practice names (or their aliases) to ``{cost_per_ha: NUMBER}`` (or to the
    number itself), optionally under a top-level ``practices:`` key::

        practices:
          cover_crops: {cost_per_ha: 60}
          manure: {cost_per_ha: 110}

    Only the practices the file lists are available to the plan.

    Raises
    ------
    InputError
        The file cannot be read, is not such a mapping, names an unknown practice, or
        gives a cost that is not a number >= 0 (every problem in one message).
    """
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
    if isinstance(doc, Mapping) and set(doc) == {"practices"}:
        doc = doc["practices"]
    if not isinstance(doc, Mapping) or not doc:
        raise InputError(f"{path}: expected a mapping of practice names to {{{COST_KEY}: NUMBER}}")
    costs, problems = {}, []
    for name, entry in doc.items():
        value = entry.get(COST_KEY) if isinstance(entry, Mapping) else entry
        unknown = unknown_practices([str(name)])
        try:
            cost = float(value)
        except (TypeError, ValueError):
            cost = float("nan")
        if unknown:
            problems.append(unknown[0])
        elif not cost >= 0:
            problems.append(f"{name}: {COST_KEY} must be a number >= 0, got {value!r}")
        else:
            costs[parse_practices([str(name)])[0]] = cost
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems))
    return costs


@dataclass(frozen=True)
class CandidateSets:
    """The candidate practice sets of each plot, as (plot, set) pairs.

    Attributes
    ----------
    names : tuple of str
        The available practices, in catalogue order.
    combos : numpy.ndarray of object, shape (k,)
        Each set as ``;``-joined names in catalogue order (``""``: no practice).
    size, cost_per_ha, disruption : numpy.ndarray, shape (k,)
        Number of practices, summed cost [per ha] (0 without costs) and the disruption key
        (larger: more disruptive; compares sets of equal size).
    plot, combo : numpy.ndarray of int, shape (m,)
        Each pair's plot position and set index.
    """

    names: tuple[str, ...]
    combos: np.ndarray
    size: np.ndarray
    cost_per_ha: np.ndarray
    disruption: np.ndarray
    plot: np.ndarray
    combo: np.ndarray

    def per_plot(self, n_plots: int) -> np.ndarray:
        """Number of candidate sets of each plot."""
        return np.bincount(self.plot, minlength=n_plots)


def available_practices(candidates: Iterable[str] = (), costs: Mapping[str, float] | None = None) -> tuple[str, ...]:
    """The practices a plan may use, in catalogue order: ``candidates`` (all when empty)
    that the costs file lists (all when no costs)."""
    chosen = set(parse_practices([SEPARATOR.join(candidates)])[0].split(SEPARATOR)) - {""} if candidates else None
    return tuple(p for p in practice_names()
                 if (chosen is None or p in chosen) and (costs is None or p in costs))


def _classes(plots: pd.DataFrame, name: str, rows: np.ndarray | None) -> np.ndarray:
    if name not in plots.columns:
        return np.full(len(plots), None, dtype=object)
    return ipcc.normalise(plots[name].to_numpy(dtype=object), name, source_row=rows, allow_missing=True)


def candidate_masks(plots: pd.DataFrame, names: tuple[str, ...], tillage_credit: str = "ipcc") -> np.ndarray:
    """Whether each practice applies to each plot's land use and is additional there, (n, len(names)) bool."""
    n = len(plots)
    rows = plots["source_row"].to_numpy() if "source_row" in plots.columns else None
    land_use = ipcc.normalise(plots["land_use"].to_numpy(dtype=object), "land_use", source_row=rows)
    classes = [_classes(plots, c, rows) for c in ("tillage", "input_level", "grassland_condition")]
    current = parse_practices(plots["current_practices"].to_numpy(dtype=object) if "current_practices" in plots
                              else None, n=n, source_row=rows)
    cat = catalogue()
    out = np.zeros((n, len(names)), bool)
    for j, name in enumerate(names):  # a handful of practices, each vectorised over plots
        applies = np.isin(land_use, cat[name].applies_to)
        credited, _ = additional_practices(np.full(n, name, dtype=object), current, land_use, *classes,
                                           tillage_credit=tillage_credit)
        out[:, j] = applies & (credited == name)
    return out


def accepted(combos: np.ndarray, land_use: np.ndarray) -> np.ndarray:
    """Whether ``project`` accepts each practice combination on each land use (the rules of
    :func:`fourp1000.practices.apply_practices`), bool per pair.

    One call per kind of refusal: each error names every pair it concerns (``rows``).
    """
    ok = np.ones(len(combos), bool)
    while ok.any():
        at = np.flatnonzero(ok)
        try:
            apply_practices(np.asarray(combos, dtype=object)[at], np.asarray(land_use, dtype=object)[at],
                            source_row=at)
            return ok
        except FourP1000Error as exc:
            if exc.rows is None:
                raise
            ok[np.asarray(exc.rows, dtype=np.int64)] = False
    return ok


def _combinations(names: tuple[str, ...], uses: np.ndarray, top: int) -> list[tuple[tuple[int, ...], str]]:
    """Every set of at most ``top`` of ``names`` whose practices all apply to the land use, with the land use."""
    cat = catalogue()
    out = []
    for use in uses:
        usable = [j for j, name in enumerate(names) if use in cat[name].applies_to]
        out += [(members, use) for size in range(top + 1) for members in combinations(usable, size)]
    return out


def candidate_sets(plots: pd.DataFrame, names: tuple[str, ...], *, costs: Mapping[str, float] | None = None,
                   tillage_credit: str = "ipcc", max_size: int | None = None) -> CandidateSets:
    """Every candidate practice set of every plot (see the module docstring).

    Parameters
    ----------
    plots : pandas.DataFrame
        The plot table: ``land_use`` and, where given, ``tillage``, ``input_level``,
        ``grassland_condition``, ``current_practices``, ``source_row``.
    names : tuple of str
        The available practices (:func:`available_practices`).
    costs : mapping, optional
        Cost per hectare of each practice (:func:`read_costs`).
    tillage_credit : {"ipcc", "none"}
        With ``none`` tillage practices are never additional (as in ``project``).
    max_size : int, optional
        Largest set considered (default: all the available practices).

    Returns
    -------
    CandidateSets
    """
    n = len(plots)
    mask = candidate_masks(plots, names, tillage_credit)
    bits = (mask.astype(np.int64) << np.arange(len(names), dtype=np.int64)).sum(axis=1) if n else np.zeros(0, np.int64)
    rows = plots["source_row"].to_numpy() if "source_row" in plots.columns else None
    land_use = ipcc.normalise(plots["land_use"].to_numpy(dtype=object), "land_use", source_row=rows)
    uses = pd.unique(land_use)
    ranks = disruption_ranks()
    top = len(names) if max_size is None else min(int(max_size), len(names))
    options = _combinations(names, uses, top)  # at most 2^8 sets per land use
    labels = np.asarray([SEPARATOR.join(names[j] for j in members) for members, _ in options], dtype=object)
    ok = accepted(labels, np.asarray([use for _, use in options], dtype=object))
    index: dict[str, int] = {}
    combos, sizes, cost, disruption, pair_plot, pair_combo = [], [], [], [], [], []
    for (members, use), label, fine in zip(options, labels, ok):
        set_bits = sum(1 << j for j in members)
        at = np.flatnonzero((land_use == use) & ((bits & set_bits) == set_bits)) if fine else np.zeros(0, np.int64)
        if not at.size:
            continue
        if label not in index:
            index[label] = len(combos)
            combos.append(label)
            sizes.append(len(members))
            cost.append(sum(float((costs or {}).get(names[j], 0.0)) for j in members))
            # ranks sorted from the most disruptive down, read as the digits of one number
            key = sorted((ranks[names[j]] for j in members), reverse=True) + [0] * (len(ranks) - len(members))
            disruption.append(int("".join(f"{r:02d}" for r in key)))
        pair_plot.append(at)
        pair_combo.append(np.full(at.size, index[label]))
    plot = np.concatenate(pair_plot) if pair_plot else np.zeros(0, np.int64)
    combo_index = np.concatenate(pair_combo) if pair_combo else np.zeros(0, np.int64)
    order = np.lexsort((combo_index, plot))  # pairs grouped by plot
    return CandidateSets(tuple(names), np.asarray(combos, dtype=object), np.asarray(sizes, dtype=np.int64),
                         np.asarray(cost, dtype=float), np.asarray(disruption, dtype=np.int64),
                         plot[order], combo_index[order])
