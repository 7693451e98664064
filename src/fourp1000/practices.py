"""Catalogue of soil-carbon practices and their mapping onto IPCC Tier 1 classes.

Each practice (``data/practices.yaml``) acts on a plot's management in one of three ways:

* it *sets* a class: ``reduced_tillage`` and ``no_till`` set the tillage class (F_MG),
  ``set_aside`` the land use (F_LU), ``improved_grassland`` the grassland condition;
* it enters the input class (F_I) as the IPCC class definitions say (:func:`input_class`):
  ``residue_retention`` returns residues (medium), ``cover_crops`` and ``manure`` add one
  step each (to high; with manure, high with manure), at most high;
* it multiplies the equilibrium stock by an extra factor: ``agroforestry``, 1.25 on
  cropland and 1.19 on grassland (Cardinael et al. 2018).

Only *additional* practices are credited (:func:`additional_practices`): a practice the
plot already has (``current_practices``, or implied by its classes) changes nothing.
Practices combine: the classes they set are merged, the input practices give one input
class, and the resulting factors multiply. Alongside the IPCC mapping, some practices carry
a meta-analysis sequestration rate [t C ha-1 yr-1] applied for a finite duration, used by
``method="rates"`` in :mod:`fourp1000.projection.tier1`; rates of one mechanism are not
added (:func:`rate_weights`).

Notes
-----
* A practice adopted on a land use it does not apply to (``improved_grassland`` on
  cropland, ``no_till`` on set-aside, ...) is an input error naming the row.
* ``set_aside`` changes the land use, so tillage and input practices combined with it
  have no further effect; combining it with ``agroforestry`` is an error.
* Rates of practices sharing a mechanism (the C-input practices) combine as the largest
  plus ``others_weight`` x the others (``combination`` in ``practices.yaml``; 0); rates of
  different mechanisms add.

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
#: How a practice acts; rates of practices sharing a mechanism combine by :func:`combination_rules`.
MECHANISMS = ("tillage", "c_input", "trees", "grassland", "land_use")
#: How a practice enters the IPCC input class (see :func:`input_class`).
INPUT_ROLES = ("residues", "extra", "manure")
#: Kinds of a rate's +/- and the number of standard deviations each spans (a standard
#: error is the standard deviation of the mean the rate is).
RATE_UNCERTAINTY_Z = {"sd_abs": 1.0, "se_abs": 1.0, "two_sd_abs": 2.0, "ci95_halfwidth_abs": 1.959964}
#: Values of ``--tillage-credit``: the inventory convention, or no credit for tillage changes.
TILLAGE_CREDITS = ("ipcc", "none")


@dataclass(frozen=True)
class Practice:
    """One catalogue entry (see ``data/practices.yaml``)."""

    name: str
    description: str
    applies_to: tuple[str, ...]
    sets: Mapping[str, str] = field(default_factory=dict)
    input_role: str | None = None
    multiplier: Mapping[str, Mapping] = field(default_factory=dict)
    ipcc_source: str = ""
    rate: Mapping | None = None
    mechanism: str = ""
    present_when: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


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
            input_role=ipcc_part.get("input_role"),
            multiplier=dict(ipcc_part.get("multiplier") or {}),
            ipcc_source=ipcc_part.get("source", ""),
            rate=entry.get("rate"),
            mechanism=str(entry.get("mechanism", "")),
            present_when={k: tuple(v) for k, v in (entry.get("present_when") or {}).items()},
        )
        vocab = {"tillage": ipcc.TILLAGE_CLASSES, "input_level": ipcc.INPUT_LEVELS, "land_use": ipcc.LAND_USES,
                 "grassland_condition": ipcc.GRASSLAND_CONDITIONS}
        bad = ([lu for lu in practice.applies_to if lu not in ipcc.LAND_USES]
               + [k for k in practice.sets if k not in _SETTABLE]
               + [lu for lu in practice.multiplier if lu not in ipcc.LAND_USES]
               + [f"{k}={v}" for k, vs in practice.present_when.items() for v in vs if v not in vocab.get(k, ())]
               + ([practice.mechanism] if practice.mechanism not in MECHANISMS else []))
        rate_kind = (practice.rate or {}).get("uncertainty_kind")
        if rate_kind is not None and rate_kind not in RATE_UNCERTAINTY_Z:
            bad.append(f"uncertainty_kind={rate_kind}")
        if practice.input_role not in (None, *INPUT_ROLES) or bad:
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


@lru_cache(maxsize=None)
def combination_rules() -> dict[str, dict]:
    """How rates of practices sharing a mechanism combine (``combination`` in ``practices.yaml``).

    Returns ``{mechanism: {"others_weight": float, "source": str}}``; a mechanism not listed
    adds its rates (weight 1).
    """
    raw = read_yaml_table(PRACTICES_FILE, required=["practices"]).get("combination") or {}
    out = {}
    for mechanism, rule in raw.items():
        weight = float(rule.get("others_weight", 1.0))
        if mechanism not in MECHANISMS or not 0.0 <= weight <= 1.0 or not rule.get("source"):
            raise ReferenceDataError(f"{PRACTICES_FILE}: invalid combination rule for {mechanism!r}")
        out[mechanism] = {"others_weight": weight, "source": str(rule["source"])}
    return out


def _split(combo: object) -> list[str]:
    return [p for p in str(combo).split(SEPARATOR) if p]


def _present(practice: Practice, classes: Mapping[str, object]) -> str | None:
    """The baseline class that shows ``practice`` is already in place, as text (None if none)."""
    for key, values in practice.present_when.items():
        value = classes.get(key)
        if value is not None and value in values:
            return f"{key} {value}"
    return None


def additional_practices(practices: np.ndarray, current: np.ndarray, land_use: np.ndarray, tillage: np.ndarray,
                         input_level: np.ndarray, grassland_condition: np.ndarray, *,
                         tillage_credit: str = "ipcc") -> tuple[np.ndarray, np.ndarray]:
    """The practices credited to each plot: its stated practices less those already in place.

    A practice is already in place when the plot's ``current_practices`` list it, or when
    its baseline classes imply it (``present_when`` in ``practices.yaml``: no-till on a plot
    with tillage ``none``, residue retention on an input level of medium or above, manure on
    ``high_manure``, ...). With ``tillage_credit="none"`` tillage practices are not credited.

    Parameters
    ----------
    practices, current : array-like of str
        Canonical combinations (:func:`parse_practices`): stated and current practices.
    land_use, tillage, input_level, grassland_condition : array-like of str or None
        Canonical baseline classes.
    tillage_credit : {"ipcc", "none"}

    Returns
    -------
    credited : numpy.ndarray of object
        ``;``-joined practices whose change is credited.
    not_credited : numpy.ndarray of object
        ``;``-joined ``practice (reason)`` of the stated practices left out ("" if none).

    Examples
    --------
    >>> c, why = additional_practices(np.array(["manure;cover_crops"], object), np.array([""], object),
    ...     np.array(["cropland"], object), np.array(["full"], object), np.array(["high_manure"], object),
    ...     np.array([None], object))
    >>> c.tolist(), why.tolist()
    (['cover_crops'], ['manure (already in place: input_level high_manure)'])
    """
    if tillage_credit not in TILLAGE_CREDITS:
        raise InputError(f"unknown tillage credit {tillage_credit!r}; valid: {', '.join(TILLAGE_CREDITS)}")
    cat = catalogue()
    cols = [np.asarray(a, dtype=object) for a in (practices, current, land_use, tillage, input_level,
                                                   grassland_condition)]
    n = len(cols[0])
    if n == 0:
        return np.empty(0, dtype=object), np.empty(0, dtype=object)
    # one integer code per distinct (practices, current, classes), column by column (no string keys)
    codes = np.zeros(n, dtype=np.int64)
    for col in cols:
        col_codes, uniques = pd.factorize(pd.Series(col, dtype=object).fillna(""))
        codes, _ = pd.factorize(codes * (len(uniques) + 1) + col_codes)
    first = np.unique(codes, return_index=True)[1]
    credited, reasons = [], []
    for pos in first:  # distinct (practices, current, classes), not plots
        stated, now = _split(cols[0][pos]), set(_split(cols[1][pos]))
        classes = dict(zip(("land_use", "tillage", "input_level", "grassland_condition"),
                           (cols[k][pos] for k in range(2, 6))))
        keep, why = [], []
        for name in stated:
            implied = _present(cat[name], classes)
            if name in now:
                why.append(f"{name} (already in place: current_practices)")
            elif implied:
                why.append(f"{name} (already in place: {implied})")
            elif cat[name].mechanism == "tillage" and tillage_credit == "none":
                why.append(f"{name} (--tillage-credit none)")
            else:
                keep.append(name)
        credited.append(SEPARATOR.join(keep))
        reasons.append(SEPARATOR.join(why))
    return np.asarray(credited, dtype=object)[codes], np.asarray(reasons, dtype=object)[codes]


def input_class(input_level: np.ndarray, roles: Mapping[str, np.ndarray]) -> np.ndarray:
    """New IPCC input class of each plot once its credited input practices are adopted.

    Follows the class definitions of IPCC (2019) Vol. 4 Ch. 5 Table 5.5: *low* when
    residues are removed or burnt; *medium* when all residues are returned (or, with
    residues removed, supplemental organic matter such as manure is added); *high* when
    inputs are significantly greater than medium through extra practices (cover crops, green
    manures, ...); *high with manure* for high residue inputs plus regular manure. Counted as
    steps: residues returned = 1, each extra input mechanism (``extra``, ``manure``) = 1, at
    most 2 (high); a plot at step 2 with manure is ``high_manure``. Baseline ``high`` counts
    one extra practice already. A class never falls.

    Parameters
    ----------
    input_level : array-like of str or None
        Canonical baseline classes (None: unknown, left unknown).
    roles : dict of str to numpy.ndarray of bool
        For ``residues``, ``extra`` and ``manure``: plots adopting a credited practice of
        that role.

    Returns
    -------
    numpy.ndarray of object

    Examples
    --------
    >>> lv = np.array(["low", "low", "medium", "medium", "low"], object)
    >>> r = {"residues": np.array([0, 1, 0, 0, 0], bool), "extra": np.array([1, 1, 1, 0, 0], bool),
    ...      "manure": np.array([0, 0, 0, 1, 1], bool)}
    >>> input_class(lv, r).tolist()
    ['medium', 'high', 'high', 'high_manure', 'medium']
    """
    level = np.asarray(input_level, dtype=object)
    known = pd.notna(level)
    base_manure = level == "high_manure"
    base_step = np.select([level == "low", level == "medium", (level == "high") | base_manure], [0, 1, 2], 0)
    returned = (base_step >= 1) | roles["residues"]
    extras = (level == "high").astype(int) + base_manure.astype(int) + roles["extra"] + (roles["manure"] & ~base_manure)
    step = np.maximum(base_step, np.minimum(2, returned.astype(int) + extras))
    manure = base_manure | roles["manure"]
    names = np.asarray(["low", "medium", "high"], dtype=object)[step]
    names = np.where((step == 2) & manure, "high_manure", names)
    return np.where(known, names, None).astype(object)


@dataclass(frozen=True)
class ManagementChange:
    """Baseline management of each plot after its practices (canonical class names).

    ``practices`` are the stated practices, ``credited`` those whose change is credited
    (:func:`additional_practices`) and ``not_credited`` the others with the reason. Classes
    and factors follow the credited practices. ``multiplier`` is the product of the
    practices' extra factors (1 where none); ``multiplier_index`` maps a practice name to
    row indices into :func:`multiplier_table` (-1 where that practice is not adopted).
    """

    practices: np.ndarray
    land_use: np.ndarray
    tillage: np.ndarray
    input_level: np.ndarray
    grassland_condition: np.ndarray
    multiplier: np.ndarray
    multiplier_index: Mapping[str, np.ndarray]
    multiplier_status: np.ndarray
    credited: np.ndarray | None = None
    not_credited: np.ndarray | None = None

    def take(self, index: np.ndarray) -> ManagementChange:
        """The management of the plots at positions ``index``."""
        def pick(values: np.ndarray | None) -> np.ndarray | None:
            return None if values is None else values[index]

        return ManagementChange(self.practices[index], self.land_use[index], self.tillage[index],
                                self.input_level[index], self.grassland_condition[index], self.multiplier[index],
                                {name: rows[index] for name, rows in self.multiplier_index.items()},
                                self.multiplier_status[index], pick(self.credited), pick(self.not_credited))

    def multiplier_from(self, table_values: np.ndarray) -> np.ndarray:
        """Product of the practice factors from an array of table values (e.g. a Monte
        Carlo draw of :func:`multiplier_table`, shape ``(..., n_rows)``)."""
        table_values = np.asarray(table_values, dtype=float)
        out = np.ones(np.shape(table_values)[:-1] + (len(self.practices),))
        for idx in self.multiplier_index.values():
            out = out * np.where(idx >= 0, np.take(table_values, np.maximum(idx, 0), axis=-1), 1.0)
        return out


def apply_practices(practices: np.ndarray, land_use: object, tillage: object = None, input_level: object = None,
                    grassland_condition: object = None, *, source_row: object = None, current: object = None,
                    tillage_credit: str = "ipcc") -> ManagementChange:
    """New management classes of each plot once its additional practices are adopted (vectorised).

    Parameters
    ----------
    practices : array-like of str
        Canonical combinations from :func:`parse_practices`.
    land_use, tillage, input_level, grassland_condition : array-like of str
        Baseline management (vocabulary of :mod:`fourp1000.projection.ipcc`).
    source_row : array-like of int, optional
        Row numbers for error messages.
    current : array-like of str, optional
        Canonical combinations of the practices already in place (``current_practices``).
    tillage_credit : {"ipcc", "none"}
        ``none``: tillage practices are not credited (their gain is largely carbon moved
        within the profile, Powlson et al. 2014).

    Notes
    -----
    Only the credited practices (:func:`additional_practices`) change the classes. Input
    practices give one input class (:func:`input_class`), not the highest any of them
    would reach alone.

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
    stated = np.asarray(practices, dtype=object)
    n = len(stated)
    rows = ipcc._rows(source_row, n)
    lu_c = ipcc._codes(land_use, "land_use", source_row=rows, n=n)
    till_c = ipcc._codes(tillage, "tillage", source_row=rows, allow_missing=True, n=n)
    input_c = ipcc._codes(input_level, "input_level", source_row=rows, allow_missing=True, n=n)
    cond_c = ipcc._codes(grassland_condition, "grassland_condition", source_row=rows, allow_missing=True, n=n)
    lu = ipcc._names(lu_c, "land_use")
    _check_applies(stated, lu_c, lu, rows)
    now = np.full(n, "", dtype=object) if current is None else np.asarray(current, dtype=object)
    combos, not_credited = additional_practices(
        stated, now, lu, ipcc._names(till_c, "tillage"), ipcc._names(input_c, "input_level"),
        ipcc._names(cond_c, "grassland_condition"), tillage_credit=tillage_credit)
    new_lu, new_till, new_cond = lu_c.copy(), till_c.copy(), cond_c.copy()
    cat = catalogue()
    mult_names = [p.name for p in cat.values() if p.multiplier]
    adopted = {name: np.zeros(n, dtype=bool) for name in mult_names}
    roles = {role: np.zeros(n, dtype=bool) for role in INPUT_ROLES}

    codes, uniques = pd.factorize(pd.Series(combos, dtype=object))
    for u_pos, combo in enumerate(uniques):  # loop over distinct combinations, not plots
        names = _split(combo)
        if not names:
            continue
        sel = codes == u_pos
        for name in names:
            if cat[name].input_role:
                roles[cat[name].input_role] |= sel
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
    new_input = input_class(ipcc._names(input_c, "input_level"), roles)
    multiplier, m_index, m_status = _multipliers(adopted, lu_c, n)
    return ManagementChange(stated, ipcc._names(new_lu, "land_use"), ipcc._names(new_till, "tillage"),
                            new_input, ipcc._names(new_cond, "grassland_condition"),
                            multiplier, m_index, m_status, combos, not_credited)


def _check_applies(stated: np.ndarray, lu_c: np.ndarray, lu: np.ndarray, rows: np.ndarray | None) -> None:
    """Raise for a practice stated on a land use it does not apply to, or set-aside with agroforestry."""
    cat = catalogue()
    codes, uniques = pd.factorize(pd.Series(stated, dtype=object))
    for u_pos, combo in enumerate(uniques):  # distinct combinations, not plots
        names = _split(combo)
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


def _multipliers(adopted: dict[str, np.ndarray], lu_c: np.ndarray, n: int
                 ) -> tuple[np.ndarray, dict[str, np.ndarray], np.ndarray]:
    """Product of the adopted practices' extra factors, their table rows and weakest status."""
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
    return multiplier, m_index, m_status


def rate_sd(practice: Practice) -> float | None:
    """Standard deviation of a practice's rate [t C ha-1 yr-1] from its +/- and the +/-'s kind
    (:data:`RATE_UNCERTAINTY_Z`); None where the source gives no uncertainty."""
    rate = practice.rate or {}
    unc, kind = rate.get("uncertainty_t_c_ha_yr"), rate.get("uncertainty_kind")
    if unc is None or kind is None:
        return None
    return float(unc) / RATE_UNCERTAINTY_Z[kind]


def rate_weights(practices: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Weight of each rated practice in each plot's combined rate, shape (plots, names).

    Rates of practices of one mechanism are combined by :func:`combination_rules`: the
    largest rate with weight 1, the others with ``others_weight``; rates of different
    mechanisms add (weight 1). The combined rate is ``weights @ rates``.
    """
    combos = np.asarray(practices, dtype=object)
    cat, rules = catalogue(), combination_rules()
    out = np.zeros((combos.size, len(names)))
    codes, uniques = pd.factorize(pd.Series(combos, dtype=object).fillna(""))
    for k, combo in enumerate(uniques):  # distinct combinations, not plots
        rated = [p for p in _split(combo) if p in names]
        row = np.zeros(len(names))
        for mech in dict.fromkeys(cat[p].mechanism for p in rated):
            group = sorted((p for p in rated if cat[p].mechanism == mech),
                           key=lambda p: -float(cat[p].rate["t_c_ha_yr"]))
            others = rules.get(mech, {}).get("others_weight", 1.0)
            for i, p in enumerate(group):
                row[names.index(p)] = 1.0 if i == 0 else others
        out[codes == k] = row
    return out


def rated_practices() -> tuple[str, ...]:
    """Names of the practices with a meta-analysis rate, in catalogue order."""
    return tuple(p.name for p in catalogue().values() if p.rate)


def practice_rates(practices: np.ndarray, *, duration_yr: float | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Meta-analysis sequestration rate of each plot's (credited) practices.

    Parameters
    ----------
    practices : array-like of str
        Canonical combinations: the credited practices
        (:attr:`ManagementChange.credited`).
    duration_yr : float, optional
        Years the rate applies; default the catalogue's (20 yr for every practice).

    Returns
    -------
    rate_t_c_ha_yr : numpy.ndarray [t C ha-1 yr-1]
        Combined rate of the practices that have one (:func:`rate_weights`: the largest
        rate of a mechanism counts, not the sum).
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
    names = rated_practices()
    rates = np.asarray([float(cat[p].rate["t_c_ha_yr"]) for p in names])
    codes, uniques = pd.factorize(pd.Series(combos, dtype=object))
    u_dur, u_missing, u_status = [], [], []
    for combo in uniques:
        plot_names = _split(combo)
        with_rate = [p for p in plot_names if cat[p].rate]
        durations = {float(cat[p].rate["duration_yr"]) for p in with_rate}
        if len(durations) > 1 and duration_yr is None:
            raise ReferenceDataError(f"{PRACTICES_FILE}: practices {with_rate} have different rate durations")
        u_dur.append(float(duration_yr) if duration_yr is not None
                     else (durations.pop() if durations else float(ipcc.DEFAULT_TRANSITION_YEARS)))
        u_missing.append(SEPARATOR.join(p for p in plot_names if not cat[p].rate))
        statuses = [cat[p].rate.get("status", "unconfirmed") for p in with_rate] or ["definition"]
        u_status.append(min(statuses, key=lambda st: (ipcc.STATUS_ORDER + ("definition",)).index(st)))
    if not len(combos):
        empty = np.empty(0, dtype=object)
        return np.empty(0), np.empty(0), empty, empty
    rate = rate_weights(combos, names) @ rates
    return (rate, np.asarray(u_dur)[codes], np.asarray(u_missing, dtype=object)[codes],
            np.asarray(u_status, dtype=object)[codes])


def _effect_text(p: Practice) -> str:
    parts = [f"{k} = {v}" for k, v in p.sets.items()]
    if p.input_role:
        parts.append({"residues": "input class: residues returned (medium)",
                      "extra": "input class: one step (medium to high)",
                      "manure": "input class: one step, with manure (medium to high_manure)"}[p.input_role])
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
