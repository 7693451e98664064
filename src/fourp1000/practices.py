"""Catalogue of soil-carbon practices and their mapping onto IPCC Tier 1 classes.

Each practice (``data/practices.yaml``) acts on a plot's management in one of three ways:

* it *sets* a class: ``reduced_tillage`` and ``no_till`` set the tillage class (F_MG),
  ``set_aside`` the land use (F_LU), ``improved_grassland`` the grassland condition;
* it *raises* the input class to at least a level (order low < medium < high <
  high_manure): ``residue_retention`` to medium, ``cover_crops`` to high (without
  manure), ``manure`` to high with manure;
* it multiplies the equilibrium stock by an extra factor: ``agroforestry``, 1.25 on
  cropland and 1.19 on grassland (Cardinael et al. 2018).

Practices combine: the classes they set or raise are merged (the highest input wins) and
the resulting factors multiply. Alongside the IPCC mapping, some practices carry a
meta-analysis sequestration rate [t C ha-1 yr-1] applied for a finite duration, used by
``method="rates"`` in :mod:`fourp1000.projection.tier1`.

Notes
-----
* A practice adopted on a land use it does not apply to (``improved_grassland`` on
  cropland, ``no_till`` on set-aside, ...) is an input error naming the row.
* ``set_aside`` changes the land use, so tillage and input practices combined with it
  have no further effect; combining it with ``agroforestry`` is an error.
* Rates of several practices add up (no interaction is known well enough to model).

References
----------
.. [1] IPCC (2019) 2019 Refinement to the 2006 IPCC Guidelines, Vol. 4, Ch. 5 (Table
   5.5 and the input class definitions) and Ch. 6 (Table 6.2).
.. [2] Cardinael R. et al. (2018) Revisiting IPCC Tier 1 coefficients for soil organic
   and biomass carbon storage in agroforestry systems. Environ. Res. Lett. 13:124020,
   doi:10.1088/1748-9326/aaeb5f
.. [3] Poeplau C., Don A. (2015) Carbon sequestration in agricultural soils via
   cultivation of cover crops - A meta-analysis. Agric. Ecosyst. Environ. 200:33-41,
   doi:10.1016/j.agee.2014.10.024
.. [4] Bolinder M.A. et al. (2020) The effect of crop residues, cover crops, manures and
   nitrogen fertilization on soil organic carbon changes in agroecosystems: a synthesis of
   reviews. Mitig. Adapt. Strateg. Glob. Change 25:929, doi:10.1007/s11027-020-09916-3
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from .projection import ipcc
from .errors import InputError, ReferenceDataError, did_you_mean
from .tables import read_yaml_table

PRACTICES_FILE = "practices.yaml"
#: Separator of several practices in one cell of the ``practices`` column.
SEPARATOR = ";"

_ALIASES = {
    "no_tillage": "no_till", "notill": "no_till", "zero_tillage": "no_till", "direct_seeding": "no_till",
    "reduced_till": "reduced_tillage", "minimum_tillage": "reduced_tillage", "min_till": "reduced_tillage",
    "cover_crop": "cover_crops", "catch_crops": "cover_crops", "green_manure": "cover_crops",
    "residues": "residue_retention", "residue_incorporation": "residue_retention",
    "organic_amendments": "manure", "compost": "manure", "manure_application": "manure",
    "improved_pasture": "improved_grassland", "setaside": "set_aside", "agroforest": "agroforestry",
}
_SETTABLE = ("tillage", "land_use", "grassland_condition")


@dataclass(frozen=True)
class Practice:
    """One catalogue entry (see ``data/practices.yaml``)."""

    name: str
    description: str
    applies_to: tuple[str, ...]
    sets: Mapping[str, str] = field(default_factory=dict)
    raise_input_to: str | None = None
    multiplier: Mapping[str, Mapping] = field(default_factory=dict)
    ipcc_source: str = ""
    rate: Mapping | None = None


@lru_cache(maxsize=None)
def catalogue() -> dict[str, Practice]:
    """The practice catalogue, keyed by practice name (validated on load)."""
    raw = read_yaml_table(PRACTICES_FILE, required=["practices"])["practices"]
    out: dict[str, Practice] = {}
    for name, entry in raw.items():
        ipcc_part = entry.get("ipcc") or {}
        practice = Practice(
            name=name,
            description=entry["description"],
            applies_to=tuple(entry["applies_to"]),
            sets=dict(ipcc_part.get("sets") or {}),
            raise_input_to=ipcc_part.get("raise_input_to"),
            multiplier=dict(ipcc_part.get("multiplier") or {}),
            ipcc_source=ipcc_part.get("source", ""),
            rate=entry.get("rate"),
        )
        bad = ([lu for lu in practice.applies_to if lu not in ipcc.LAND_USES]
               + [k for k in practice.sets if k not in _SETTABLE]
               + [lu for lu in practice.multiplier if lu not in ipcc.LAND_USES])
        if practice.raise_input_to not in (None, *ipcc.INPUT_LEVELS) or bad:
            raise ReferenceDataError(f"{PRACTICES_FILE}: practice {name!r} has invalid entries {bad}")
        out[name] = practice
    return out


def practice_names() -> tuple[str, ...]:
    """Names of the catalogued practices, in catalogue order."""
    return tuple(catalogue())


@lru_cache(maxsize=None)
def multiplier_table() -> ipcc.FactorTable:
    """Extra stock change factors of practices (agroforestry), keyed by (practice, land_use).

    Uncertainties are stored as % of the value so the table behaves like the IPCC tables
    (:meth:`fourp1000.projection.ipcc.FactorTable.standard_deviation`).
    """
    rows = []
    for p in catalogue().values():
        for land_use, m in p.multiplier.items():
            kind = m.get("uncertainty_kind", "")
            pct = 100.0 * m["uncertainty"] / m["value"] if m.get("uncertainty") is not None else np.nan
            rows.append({
                "practice": p.name, "land_use": land_use, "value": float(m["value"]),
                "uncertainty_pct": pct,
                "uncertainty_kind": kind.replace("_abs", "_pct"),
                "status": m.get("status", "1src"),
                "source_document": p.ipcc_source, "source_table": "",
            })
    frame = pd.DataFrame(rows, columns=["practice", "land_use", "value", "uncertainty_pct", "uncertainty_kind",
                                        "status", "source_document", "source_table"])
    return ipcc.FactorTable("practice", "", frame, ("practice", "land_use"), (practice_names(), ipcc.LAND_USES))


def _normalise_name(text: str) -> str:
    key = "_".join(text.strip().lower().replace("-", " ").split())
    return _ALIASES.get(key, key)


def unknown_practices(names: Iterable[str]) -> list[str]:
    """One message per name that is not a catalogued practice (nor an alias of one), with
    the closest catalogue name: ``["unknown practice 'no_tilll'; did you mean 'no_till'?"]``."""
    valid = practice_names()
    return [f"unknown practice {str(n)!r}{did_you_mean(_normalise_name(str(n)), valid)}"
            for n in names if _normalise_name(str(n)) not in valid]


def parse_practices(practices: object = None, global_practices: Iterable[str] = (), *, n: int | None = None,
                    source_row: object = None) -> np.ndarray:
    """Canonical practice combination of each plot.

    Parameters
    ----------
    practices : array-like of str, optional
        Per-plot cells of a ``practices`` column, several practices separated by ``;``
        (empty or missing: none).
    global_practices : iterable of str
        Practices applied to every plot (``--practice``), added to the column's.
    n : int, optional
        Number of plots when ``practices`` is not given.
    source_row : array-like of int, optional
        Row numbers for error messages.

    Returns
    -------
    numpy.ndarray of object
        ``;``-joined canonical names in catalogue order (``""`` for none).

    Raises
    ------
    UnknownFactorError
        For a practice not in the catalogue, listing the valid names.
    """
    names = practice_names()
    order = {p: i for i, p in enumerate(names)}
    extra = [str(g) for g in global_practices]
    if practices is None:
        cells = np.full(n or 0, "", dtype=object)
    else:
        cells = np.asarray(pd.Series(np.asarray(practices, dtype=object), dtype=object).fillna(""), dtype=object)
    codes, uniques = pd.factorize(pd.Series(cells, dtype=object).astype(str))
    canonical = []
    for u_pos, cell in enumerate(uniques):  # a handful of distinct combinations, not one per plot
        items = [t for t in str(cell).split(SEPARATOR) if t.strip()] + extra
        found = {_normalise_name(t) for t in items}
        unknown = sorted(f for f in found if f not in order)
        if unknown:
            bad = codes == u_pos
            rows = None if source_row is None else np.broadcast_to(np.asarray(source_row), bad.shape)
            err_values = np.full(len(cells), unknown[0], dtype=object)
            # every unknown name of the cell, each with its closest catalogue name
            what = "; ".join(f"unknown practice {u!r}{did_you_mean(u, names)}" for u in unknown)
            raise ipcc._unknown("practice", "practices", bad, err_values, names, rows, what=what)
        canonical.append(SEPARATOR.join(sorted(found, key=order.get)))
    return np.asarray(canonical, dtype=object)[codes] if len(cells) else np.empty(0, dtype=object)


@dataclass(frozen=True)
class ManagementChange:
    """Baseline management of each plot after its practices (canonical class names).

    ``multiplier`` is the product of the practices' extra factors (1 where none);
    ``multiplier_index`` maps a practice name to row indices into
    :func:`multiplier_table` (-1 where that practice is not adopted).
    """

    practices: np.ndarray
    land_use: np.ndarray
    tillage: np.ndarray
    input_level: np.ndarray
    grassland_condition: np.ndarray
    multiplier: np.ndarray
    multiplier_index: Mapping[str, np.ndarray]
    multiplier_status: np.ndarray

    def multiplier_from(self, table_values: np.ndarray) -> np.ndarray:
        """Product of the practice factors from an array of table values (e.g. a Monte
        Carlo draw of :func:`multiplier_table`, shape ``(..., n_rows)``)."""
        table_values = np.asarray(table_values, dtype=float)
        out = np.ones(np.shape(table_values)[:-1] + (len(self.practices),))
        for idx in self.multiplier_index.values():
            out = out * np.where(idx >= 0, np.take(table_values, np.maximum(idx, 0), axis=-1), 1.0)
        return out


def apply_practices(practices: np.ndarray, land_use: object, tillage: object = None, input_level: object = None,
                    grassland_condition: object = None, *, source_row: object = None) -> ManagementChange:
    """New management classes of each plot once its practices are adopted (vectorised).

    Parameters
    ----------
    practices : array-like of str
        Canonical combinations from :func:`parse_practices`.
    land_use, tillage, input_level, grassland_condition : array-like of str
        Baseline management (vocabulary of :mod:`fourp1000.projection.ipcc`).
    source_row : array-like of int, optional
        Row numbers for error messages.

    Returns
    -------
    ManagementChange

    Raises
    ------
    InputError
        A practice adopted on a land use it does not apply to, or set-aside combined with
        agroforestry.

    Examples
    --------
    >>> m = apply_practices(parse_practices(["no_till;cover_crops"]), ["cropland"], ["full"], ["medium"])
    >>> m.tillage.tolist(), m.input_level.tolist()
    (['none'], ['high'])
    """
    combos = np.asarray(practices, dtype=object)
    n = len(combos)
    rows = ipcc._rows(source_row, n)
    lu_c = ipcc._codes(land_use, "land_use", source_row=rows, n=n)
    till_c = ipcc._codes(tillage, "tillage", source_row=rows, allow_missing=True, n=n)
    input_rank = ipcc._codes(input_level, "input_level", source_row=rows, allow_missing=True, n=n).copy()
    cond_c = ipcc._codes(grassland_condition, "grassland_condition", source_row=rows, allow_missing=True, n=n)
    lu = ipcc._names(lu_c, "land_use")
    new_lu, new_till, new_cond = lu_c.copy(), till_c.copy(), cond_c.copy()
    rank = {lev: i for i, lev in enumerate(ipcc.INPUT_LEVELS)}
    cat = catalogue()
    mult_names = [p.name for p in cat.values() if p.multiplier]
    adopted = {name: np.zeros(n, dtype=bool) for name in mult_names}

    codes, uniques = pd.factorize(pd.Series(combos, dtype=object))
    for u_pos, combo in enumerate(uniques):  # loop over distinct combinations, not plots
        names = [p for p in str(combo).split(SEPARATOR) if p]
        if not names:
            continue
        sel = codes == u_pos
        for name in names:
            allowed = cat[name].applies_to
            bad = sel & ~np.isin(lu_c, [ipcc.LAND_USES.index(a) for a in allowed])
            if bad.any():
                first = np.flatnonzero(bad)[0]
                where = f" in row {int(rows[first])}" if rows is not None else ""
                raise InputError(f"practice {name!r} does not apply to land use {lu[first]!r}{where}; "
                                 f"it applies to: {', '.join(allowed)}",
                                 column="practices", rows=None if rows is None else rows[bad])
        if "set_aside" in names and any(cat[p].multiplier for p in names):
            first = np.flatnonzero(sel)[0]
            where = f" in row {int(rows[first])}" if rows is not None else ""
            raise InputError(f"set_aside cannot be combined with {', '.join(p for p in names if cat[p].multiplier)}"
                             f"{where}: both change the land use",
                             column="practices", rows=None if rows is None else rows[sel])
        floor = max((rank[cat[p].raise_input_to] for p in names if cat[p].raise_input_to), default=-1)
        input_rank[sel] = np.maximum(input_rank[sel], floor)
        targets = {"tillage": (new_till, ipcc.TILLAGE_CLASSES), "land_use": (new_lu, ipcc.LAND_USES),
                   "grassland_condition": (new_cond, ipcc.GRASSLAND_CONDITIONS)}
        for key, (target, vocab) in targets.items():
            values = [cat[p].sets[key] for p in names if key in cat[p].sets]
            if values:
                # Two tillage practices (reduced_tillage;no_till): the less tilled class wins.
                order = ipcc.TILLAGE_CLASSES if key == "tillage" else sorted(set(values))
                target[sel] = vocab.index(max(values, key=order.index))
        for p in names:
            if p in adopted:
                adopted[p][sel] = True

    table = multiplier_table()
    multiplier = np.ones(n)
    m_index: dict[str, np.ndarray] = {}
    statuses = []
    for name, mask in adopted.items():
        idx = np.full(n, -1)
        if mask.any():
            idx[mask] = table.index_codes(np.full(mask.sum(), practice_names().index(name)), lu_c[mask])
            multiplier = multiplier * np.where(idx >= 0, table.value[np.maximum(idx, 0)], 1.0)
            statuses.append(np.where(idx >= 0, table.status[np.maximum(idx, 0)], None))
        m_index[name] = idx
    m_status = ipcc.weakest_status(*statuses) if statuses else np.full(n, "definition", dtype=object)
    return ManagementChange(combos, ipcc._names(new_lu, "land_use"), ipcc._names(new_till, "tillage"),
                            ipcc._names(input_rank, "input_level"), ipcc._names(new_cond, "grassland_condition"),
                            multiplier, m_index, m_status)


def practice_rates(practices: np.ndarray, *, duration_yr: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Meta-analysis sequestration rate of each plot's practices.

    Parameters
    ----------
    practices : array-like of str
        Canonical combinations from :func:`parse_practices`.
    duration_yr : float, optional
        Years the rate applies; default the catalogue's (20 yr for every practice).

    Returns
    -------
    rate_t_c_ha_yr : numpy.ndarray [t C ha-1 yr-1]
        Sum of the rates of the practices that have one.
    duration_yr : numpy.ndarray [yr]
        Years over which the rate applies (then the stock stays constant).
    without_rate : numpy.ndarray of object
        ``;``-joined practices that have no confirmed rate (they add nothing).
    status : numpy.ndarray of object
        Weakest confirmation status of the rates used (``definition`` where none).

    Notes
    -----
    Rates are finite in time: Poeplau & Don (2015) estimate a new steady state after about
    155 years of cover cropping; the default 20 years follows the IPCC transition period,
    so the rate view stays comparable with the Tier 1 view.
    """
    combos = np.asarray(practices, dtype=object)
    cat = catalogue()
    codes, uniques = pd.factorize(pd.Series(combos, dtype=object))
    u_rate, u_dur, u_missing, u_status = [], [], [], []
    for combo in uniques:
        names = [p for p in str(combo).split(SEPARATOR) if p]
        with_rate = [p for p in names if cat[p].rate]
        durations = {float(cat[p].rate["duration_yr"]) for p in with_rate}
        if len(durations) > 1 and duration_yr is None:
            raise ReferenceDataError(f"{PRACTICES_FILE}: practices {with_rate} have different rate durations")
        u_rate.append(sum(float(cat[p].rate["t_c_ha_yr"]) for p in with_rate))
        u_dur.append(float(duration_yr) if duration_yr is not None
                     else (durations.pop() if durations else float(ipcc.DEFAULT_TRANSITION_YEARS)))
        u_missing.append(SEPARATOR.join(p for p in names if not cat[p].rate))
        statuses = [cat[p].rate.get("status", "unconfirmed") for p in with_rate] or ["definition"]
        u_status.append(min(statuses, key=lambda st: (ipcc.STATUS_ORDER + ("definition",)).index(st)))
    if not len(combos):
        empty = np.empty(0, dtype=object)
        return np.empty(0), np.empty(0), empty, empty
    return (np.asarray(u_rate)[codes], np.asarray(u_dur)[codes], np.asarray(u_missing, dtype=object)[codes],
            np.asarray(u_status, dtype=object)[codes])


def _effect_text(p: Practice) -> str:
    parts = [f"{k} = {v}" for k, v in p.sets.items()]
    if p.raise_input_to:
        parts.append(f"input_level >= {p.raise_input_to}")
    parts += [f"x {m['value']:g} (+/- {m['uncertainty']:g}) on {lu}" for lu, m in p.multiplier.items()]
    return "; ".join(parts)


def list_practices(ipcc_version: str = ipcc.DEFAULT_IPCC_VERSION,
                   climate_zone: str | None = None) -> pd.DataFrame:
    """The catalogue as a table, with values and sources (for ``fourp1000 practices``).

    Parameters
    ----------
    ipcc_version : {"2019", "2006"}
    climate_zone : str, optional
        If given, add ``ipcc_relative_change``: the ratio of the new to the old equilibrium
        stock (factor products x practice factor) in that zone, from a reference baseline
        of cropland with full tillage and medium input (grassland practices: nominally
        managed grassland, medium input).

    Returns
    -------
    pandas.DataFrame
        One row per practice: ``practice``, ``description``, ``applies_to``,
        ``ipcc_effect``, ``ipcc_source``, ``rate_t_c_ha_yr``,
        ``rate_uncertainty_t_c_ha_yr``, ``rate_n``, ``rate_depth_cm``,
        ``rate_duration_yr``, ``rate_status``, ``rate_source`` (and
        ``ipcc_relative_change`` with ``reference_baseline`` when a zone is given).
    """
    records = []
    for p in catalogue().values():
        r = p.rate or {}
        records.append({
            "practice": p.name, "description": p.description, "applies_to": SEPARATOR.join(p.applies_to),
            "ipcc_effect": _effect_text(p), "ipcc_source": p.ipcc_source,
            "rate_t_c_ha_yr": r.get("t_c_ha_yr", np.nan), "rate_uncertainty_t_c_ha_yr": r.get("uncertainty_t_c_ha_yr"),
            "rate_n": r.get("n"), "rate_depth_cm": r.get("depth_cm"), "rate_duration_yr": r.get("duration_yr"),
            "rate_status": r.get("status", ""), "rate_source": r.get("source", "no confirmed rate"),
        })
    frame = pd.DataFrame.from_records(records)
    for col in ("rate_uncertainty_t_c_ha_yr", "rate_n", "rate_depth_cm", "rate_duration_yr"):
        frame[col] = pd.to_numeric(frame[col], errors="coerce")
    if climate_zone is not None:
        names = list(frame["practice"])
        grass = np.asarray(["cropland" not in catalogue()[p].applies_to for p in names])
        lu = np.where(grass, "grassland", "cropland").astype(object)
        zone = np.full(len(names), climate_zone, dtype=object)
        old = ipcc.tier1_factors(zone, lu, "full", "medium", "nominal", ipcc_version)
        change = apply_practices(np.asarray(names, dtype=object), lu, "full", "medium", "nominal")
        new = ipcc.tier1_factors(zone, change.land_use, change.tillage, change.input_level,
                                 change.grassland_condition, ipcc_version)
        frame.insert(5, "ipcc_relative_change", new.product * change.multiplier / old.product)
        frame.insert(6, "reference_baseline",
                     np.where(grass, "grassland, nominal", "cropland, full tillage, medium input"))
    return frame
