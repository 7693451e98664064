"""IPCC Tier 1 reference stocks and stock change factors for mineral soils.

The Tier 1 method (IPCC 2006 Guidelines Vol. 4 Ch. 2, Eq. 2.25; unchanged in the 2019
Refinement) writes the equilibrium SOC stock of a land-use/management system, 0-30 cm, as

    SOC = SOC_REF x F_LU x F_MG x F_I                                  [t C ha-1]

with SOC_REF the stock under native vegetation for a climate zone and soil class
(Table 2.3), and F_LU, F_MG, F_I the land-use, management (tillage, grassland condition)
and input factors (cropland Table 5.5, grassland Table 6.2). A change of system moves the
stock linearly to the new equilibrium over D = 20 years (see :mod:`fourp1000.projection.tier1`).

The tables are package data (``data/ipcc{2019,2006}_*.csv``), one row per table cell and
climate zone, each with its uncertainty, a confirmation ``status`` and its source; the file
``data/ipcc_sources.md`` explains the statuses and source codes. This module loads them,
normalises user vocabulary (climate zones, soil classes, management classes) and looks
values up *vectorised*, returning both values and integer row indices into the tables so a
Monte Carlo layer can draw each table cell once per draw and share it across plots.

Notes
-----
* Tier 1 is defined for mineral soils, 0-30 cm, and a 20-year transition.
* Index ``-1`` in a factor index array means "factor not applicable, exactly 1" (F_MG and
  F_I of set-aside land; F_I of non-improved grassland).
* The 2006 climate zone names (cold temperate, ... wet) are accepted and mapped onto the
  2019 slugs; the 2006 tables share one "Boreal" row and "Temperate/Boreal" columns, which
  the data files spell out per slug.
* Missing grassland condition means "nominally managed", the IPCC default assumption for
  grassland (Ch. 6). Missing tillage or input level on cropland is an error: Table 5.5
  has no default.

References
----------
.. [1] IPCC (2006) 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 4
   Agriculture, Forestry and Other Land Use, Ch. 2, 3, 5, 6. IGES, Hayama.
   https://www.ipcc-nggip.iges.or.jp/public/2006gl/vol4.html
.. [2] IPCC (2019) 2019 Refinement to the 2006 IPCC Guidelines for National Greenhouse Gas
   Inventories, Vol. 4, Ch. 2, 3, 5, 6. IPCC, Switzerland.
   https://www.ipcc-nggip.iges.or.jp/public/2019rf/vol4.html
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Iterable, Sequence

import numpy as np
import pandas as pd

from ..errors import ReferenceDataError, UnknownFactorError
from ..tables import read_csv_table

IPCC_VERSIONS = ("2019", "2006")
DEFAULT_IPCC_VERSION = "2019"
#: IPCC default time [yr] to reach a new equilibrium (Ch. 2, D in Eq. 2.25).
DEFAULT_TRANSITION_YEARS = 20

CLIMATE_ZONES = (
    "boreal_dry", "boreal_moist", "cool_temperate_dry", "cool_temperate_moist",
    "warm_temperate_dry", "warm_temperate_moist", "tropical_dry", "tropical_moist",
    "tropical_wet", "tropical_montane",
)
SOIL_CLASSES = ("HAC", "LAC", "sandy", "spodic", "volcanic", "wetland")
LAND_USES = ("cropland", "grassland", "paddy", "perennial", "set_aside")
#: Land uses whose F_MG and F_I come from the cropland tillage and input classes.
TILLED_LAND_USES = ("cropland", "paddy", "perennial")
TILLAGE_CLASSES = ("full", "reduced", "none")
INPUT_LEVELS = ("low", "medium", "high", "high_manure")
GRASSLAND_CONDITIONS = (
    "nominal", "moderately_degraded", "high_intensity_grazing", "severely_degraded", "improved",
)
#: Grassland input levels of Table 6.2 (they apply to improved grassland only).
GRASSLAND_INPUT_LEVELS = ("medium", "high")
# Cropland input classes read on improved grassland (Table 6.2 has medium and high only).
_GRASSLAND_INPUT_MAP = {"low": "medium", "high_manure": "high"}

#: Key vocabularies of the management table (cropland Table 5.5 + grassland Table 6.2).
SYSTEMS = ("cropland", "grassland")
FACTORS = ("F_LU", "F_MG", "F_I")
LEVELS = LAND_USES + TILLAGE_CLASSES + INPUT_LEVELS + GRASSLAND_CONDITIONS

#: Confirmation statuses of a table cell, weakest first (see data/ipcc_sources.md).
STATUS_ORDER = ("unconfirmed", "1src", "2src", "worked_example", "ipcc_document", "definition")
NOT_IN_TABLE = "not_in_table"

# Spellings users bring, mapped to the canonical vocabulary. Keys are already normalised
# (lower case, runs of space/-/,/ turned into "_").
_ALIASES: dict[str, dict[str, str]] = {
    "climate_zone": {
        "cold_temperate_dry": "cool_temperate_dry",
        "cold_temperate_moist": "cool_temperate_moist",
        "cold_temperate_wet": "cool_temperate_moist",
        "cool_temperate_wet": "cool_temperate_moist",
        "warm_temperate_wet": "warm_temperate_moist",
        "boreal_wet": "boreal_moist",
        "tropical_mountain": "tropical_montane",
    },
    "soil_class": {
        "high_activity_clay": "HAC", "low_activity_clay": "LAC", "sand": "sandy",
        "spodosol": "spodic", "podzol": "spodic", "andosol": "volcanic", "andisol": "volcanic",
        "wetland_soil": "wetland", "hac": "HAC", "lac": "LAC",
    },
    "land_use": {
        "annual_crops": "cropland", "long_term_cultivated": "cropland", "arable": "cropland",
        "paddy_rice": "paddy", "rice": "paddy", "perennial_crop": "perennial",
        "perennial_tree_crop": "perennial", "tree_crop": "perennial", "setaside": "set_aside",
        "pasture": "grassland",
    },
    "tillage": {
        "full_tillage": "full", "conventional": "full", "conventional_tillage": "full",
        "reduced_tillage": "reduced", "minimum": "reduced", "minimum_tillage": "reduced",
        "no_till": "none", "notill": "none", "no_tillage": "none", "zero": "none",
        "zero_tillage": "none",
    },
    "input_level": {
        "high_with_manure": "high_manure", "high_without_manure": "high",
        "low_input": "low", "medium_input": "medium", "high_input": "high",
    },
    "grassland_condition": {
        "nominally_managed": "nominal", "non_degraded": "nominal", "native": "nominal",
        "improved_grassland": "improved", "degraded": "moderately_degraded",
        "high_intensity": "high_intensity_grazing",
    },
}
_VOCAB: dict[str, tuple[str, ...]] = {
    "climate_zone": CLIMATE_ZONES,
    "soil_class": SOIL_CLASSES,
    "land_use": LAND_USES,
    "tillage": TILLAGE_CLASSES,
    "input_level": INPUT_LEVELS,
    "grassland_condition": GRASSLAND_CONDITIONS,
}
# The 2019 Refinement grades grazing pressure as "high intensity grazing" where the 2006
# table has "moderately degraded"; each version reads the other's name as its own class
# (an assumption documented in docs/ipcc-tier1.md).
_GRASSLAND_VERSION_ALIAS = {
    "2019": {"moderately_degraded": "high_intensity_grazing"},
    "2006": {"high_intensity_grazing": "moderately_degraded"},
}
_UNCERTAINTY_Z = {"two_sd_pct": 2.0, "ci95_halfwidth_pct": 1.959964}


def _key(text: pd.Series) -> pd.Series:
    return (
        text.astype("string").str.strip().str.lower()
        .str.replace(r"[\s\-,/]+", "_", regex=True).str.strip("_")
    )


_KEY_SEPARATORS = re.compile(r"[\s\-,/]+")


@lru_cache(maxsize=4096)
def _key_text(text: str) -> str:
    """:func:`_key` of one string (strip, lower case, runs of spaces, dashes, commas and
    slashes to one underscore, no leading or trailing underscore)."""
    return _KEY_SEPARATORS.sub("_", text.strip().lower()).strip("_")


def _as_array(values: object, n: int | None = None) -> np.ndarray:
    """1-D object array from a scalar, sequence or Series (scalars broadcast to ``n``)."""
    if isinstance(values, (pd.Series, pd.Index)):
        arr = values.to_numpy(dtype=object)
    elif np.ndim(values) == 0:
        arr = np.full(1 if n is None else n, values, dtype=object)
    else:
        arr = np.asarray(values, dtype=object)
    return arr


def _rows(source_row: object, n: int) -> np.ndarray | None:
    if source_row is None:
        return None
    rows = np.asarray(source_row)
    return np.broadcast_to(rows, (n,)) if rows.ndim == 0 else rows


def _unknown(label: str, column: str, bad: np.ndarray, values: np.ndarray, valid: Iterable[str],
             source_row: np.ndarray | None, what: str | None = None) -> UnknownFactorError:
    """Build an :class:`UnknownFactorError` naming the first offending row and the valid values."""
    positions = np.flatnonzero(bad)
    first = positions[0]
    value = values[first]
    missing = value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NA
    where = f" in row {int(source_row[first])}" if source_row is not None else ""
    more = f" (and {len(positions) - 1} more rows)" if len(positions) > 1 else ""
    valid = list(valid)
    head = what or (f"missing {label}" if missing else f"unknown {label} {value!r}")
    return UnknownFactorError(f"{head}{where}{more}; valid: {', '.join(valid)}", column=column,
                              value=None if missing else value, valid=valid,
                              rows=None if source_row is None else source_row[positions])


def _to_codes(values: np.ndarray, vocab: Sequence[str], lookup: dict[str, str] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """Codes of ``values`` in ``vocab`` (-1 unknown) and a mask of missing values.

    Each distinct spelling is mapped once, so the cost is one hashing pass over the plots.
    """
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=True)
    position = {v: i for i, v in enumerate(vocab)}
    if lookup is None:
        mapped = [position.get(u, -1) for u in uniques]
    else:
        # a handful of distinct spellings: plain Python, not a pandas string pass per call
        keys = [lookup.get(_key_text(str(u))) for u in uniques]
        mapped = [position.get(k, -1) if isinstance(k, str) else -1 for k in keys]
    table = np.asarray(mapped + [-1], dtype=np.int64)  # the last entry serves missing values (code -1)
    return table[codes], codes < 0


def _codes(values: object, column: str, *, source_row: object = None, allow_missing: bool = False,
           n: int | None = None) -> np.ndarray:
    """Integer codes of a categorical column in its canonical vocabulary (-1 where missing)."""
    vocab = _VOCAB[column]
    arr = _as_array(values, n)
    lookup = {v.lower(): v for v in vocab} | _ALIASES[column]
    codes, missing = _to_codes(arr, vocab, lookup)
    bad = (codes < 0) & (~missing | (not allow_missing))
    if bad.any():
        label = column.replace("_", " ")
        raise _unknown(label, column, bad, arr, vocab, _rows(source_row, len(arr)))
    return codes


def _names(codes: np.ndarray, column: str) -> np.ndarray:
    """Canonical names of codes (``None`` for -1)."""
    vocab = np.asarray(_VOCAB[column] + (None,), dtype=object)
    return vocab[codes]


def normalise(values: object, column: str, *, source_row: object = None,
              allow_missing: bool = False, n: int | None = None) -> np.ndarray:
    """Map user spellings of a categorical column onto the canonical vocabulary.

    Parameters
    ----------
    values : scalar or array-like of str
        Raw values, e.g. ``"Warm temperate, moist"``, ``"no-till"``, ``"HAC"``.
    column : str
        One of ``climate_zone``, ``soil_class``, ``land_use``, ``tillage``,
        ``input_level``, ``grassland_condition``.
    source_row : array-like of int, optional
        1-based data row numbers, used in error messages.
    allow_missing : bool, default False
        Return ``None`` for missing values instead of raising.
    n : int, optional
        Length to broadcast a scalar to.

    Returns
    -------
    numpy.ndarray of object
        Canonical names (``None`` where missing and allowed).

    Raises
    ------
    UnknownFactorError
        For a value outside the vocabulary (or missing, unless allowed); the message names
        the first offending row and lists the valid values.

    Examples
    --------
    >>> normalise(["Cold temperate, wet"], "climate_zone").tolist()
    ['cool_temperate_moist']
    """
    return _names(_codes(values, column, source_row=source_row, allow_missing=allow_missing, n=n), column)


def normalise_ipcc_version(version: object) -> str:
    """Return ``"2019"`` or ``"2006"`` from 2019, "2019", "IPCC2006", ... (error otherwise)."""
    text = re.sub(r"[^0-9]", "", str(version))
    if text not in IPCC_VERSIONS:
        raise UnknownFactorError(f"unknown IPCC version {version!r}; valid: {', '.join(IPCC_VERSIONS)}",
                                 column="ipcc_version", value=version, valid=IPCC_VERSIONS)
    return text


@dataclass(frozen=True)
class FactorTable:
    """One coefficient table as loaded from package data.

    Attributes
    ----------
    name : str
        ``soc_ref`` or ``management`` (cropland + grassland factors) or ``practice``.
    ipcc_version : str
    frame : pandas.DataFrame
        The table, one row per cell (and climate zone), with columns ``value``,
        ``uncertainty_pct``, ``uncertainty_kind``, ``status`` and the source columns.
    key_columns : tuple of str
        Columns that identify a row.
    key_vocab : tuple of tuple of str
        The vocabulary of each key column; rows are looked up through a dense array
        indexed by the codes of the keys in these vocabularies.
    """

    name: str
    ipcc_version: str
    frame: pd.DataFrame
    key_columns: tuple[str, ...]
    key_vocab: tuple[tuple[str, ...], ...]

    @property
    def value(self) -> np.ndarray:
        """Cell values (NaN where the table has no value)."""
        return self.frame["value"].to_numpy(dtype=float)

    @property
    def uncertainty_pct(self) -> np.ndarray:
        """Published +/- uncertainty [% of the value] (NaN where none is given)."""
        return self.frame["uncertainty_pct"].to_numpy(dtype=float)

    @property
    def status(self) -> np.ndarray:
        return self.frame["status"].to_numpy(dtype=object)

    @cached_property
    def status_rank(self) -> np.ndarray:
        """Rank of each row's status in :data:`STATUS_ORDER` (weakest 0)."""
        return _status_rank(self.status)

    def standard_deviation(self) -> np.ndarray:
        """Standard deviation of each cell [same unit as the value], 0 where none is given.

        Table 5.5 and 6.2 give "error" as two standard deviations in % of the mean; the
        2019 Table 2.3 gives the half-width of the 95 % confidence interval in %.
        """
        kind = self.frame["uncertainty_kind"].astype("string").fillna("")
        z = kind.map(_UNCERTAINTY_Z).to_numpy(dtype=float)
        sd = self.value * self.uncertainty_pct / 100.0 / z
        return np.where(np.isfinite(sd), sd, 0.0)

    @cached_property
    def _lookup(self) -> np.ndarray:
        lut = np.full(tuple(len(v) for v in self.key_vocab), -1, dtype=np.int64)
        codes = []
        for col, vocab in zip(self.key_columns, self.key_vocab):
            c, _ = _to_codes(self.frame[col].to_numpy(dtype=object), vocab)
            if (c < 0).any():
                raise ReferenceDataError(f"{self.name} table: unexpected {col} "
                                         f"{self.frame[col].iloc[np.flatnonzero(c < 0)[0]]!r}")
            codes.append(c)
        lut[tuple(codes)] = np.arange(len(self.frame))
        return lut

    def index_codes(self, *codes: np.ndarray) -> np.ndarray:
        """Row positions for key codes (positions in ``key_vocab``); -1 if absent or any code is -1."""
        arrays = np.broadcast_arrays(*[np.asarray(c, dtype=np.int64) for c in codes])
        valid = np.logical_and.reduce([a >= 0 for a in arrays])
        idx = self._lookup[tuple(np.maximum(a, 0) for a in arrays)]
        return np.where(valid, idx, -1)

    def index(self, *keys: object) -> np.ndarray:
        """Row positions of the given key arrays (canonical names, same order as
        ``key_columns``); -1 if absent."""
        n = max(np.size(k) for k in keys)
        codes = [_to_codes(_as_array(k, n), vocab)[0] for k, vocab in zip(keys, self.key_vocab)]
        return self.index_codes(*codes)


def _read_csv(filename: str, rename: dict[str, str] | None = None) -> pd.DataFrame:
    required = ("value", "uncertainty_pct", "uncertainty_kind", "status", "source_document", "source_table")
    return read_csv_table(filename, required=required, dtype={"uncertainty_pct": float}, rename=rename)


@lru_cache(maxsize=None)
def soc_ref_table(ipcc_version: str = DEFAULT_IPCC_VERSION) -> FactorTable:
    """SOC_REF table [t C ha-1, 0-30 cm] (Table 2.3 of the 2019 Refinement or 2006 Guidelines)."""
    version = normalise_ipcc_version(ipcc_version)
    frame = _read_csv(f"ipcc{version}_soc_ref.csv", {"soc_ref_t_c_ha": "value"})
    return FactorTable("soc_ref", version, frame, ("climate_zone", "soil_class"), (CLIMATE_ZONES, SOIL_CLASSES))


@lru_cache(maxsize=None)
def management_table(ipcc_version: str = DEFAULT_IPCC_VERSION) -> FactorTable:
    """Cropland (Table 5.5) and grassland (Table 6.2) factors in one table, keyed by
    ``(system, factor, level, climate_zone)`` with ``system`` = ``cropland``/``grassland``."""
    version = normalise_ipcc_version(ipcc_version)
    parts = []
    for system in ("cropland", "grassland"):
        part = _read_csv(f"ipcc{version}_{system}_factors.csv")
        part.insert(0, "system", system)
        parts.append(part)
    frame = pd.concat(parts, ignore_index=True)
    return FactorTable("management", version, frame, ("system", "factor", "level", "climate_zone"),
                       (SYSTEMS, FACTORS, LEVELS, CLIMATE_ZONES))


def _status_rank(status: np.ndarray) -> np.ndarray:
    """Rank in :data:`STATUS_ORDER` (weakest 0); ``None`` or unknown count as ``definition``."""
    codes, uniques = pd.factorize(pd.Series(status, dtype=object), use_na_sentinel=True)
    order = STATUS_ORDER + ("definition",)
    mapped = [order.index(u) if u in order else len(order) - 1 for u in uniques] + [len(order) - 1]
    return np.asarray(mapped, dtype=np.int64)[codes]


def soc_ref_index(climate_zone: object, soil_class: object, ipcc_version: str = DEFAULT_IPCC_VERSION,
                  *, source_row: object = None) -> np.ndarray:
    """Row index into :func:`soc_ref_table` for each (climate zone, soil class).

    Raises
    ------
    UnknownFactorError
        Unknown zone or soil class, or a combination for which the table has no value
        (e.g. spodic soils in dry zones), naming the row.
    """
    table = soc_ref_table(ipcc_version)
    zone = _codes(climate_zone, "climate_zone", source_row=source_row)
    soil = _codes(soil_class, "soil_class", source_row=source_row, n=len(zone))
    idx = table.index_codes(zone, soil)
    absent = (idx < 0) | np.isnan(table.value[np.maximum(idx, 0)])
    if absent.any():
        first = np.flatnonzero(absent)[0]
        zname, sname = CLIMATE_ZONES[zone[first]], SOIL_CLASSES[soil[first]]
        avail = table.frame.loc[(table.frame["climate_zone"] == zname) & table.frame["value"].notna(),
                                "soil_class"].tolist()
        what = (f"IPCC {table.ipcc_version} Table 2.3 has no SOC_REF for soil class {sname!r} in "
                f"climate zone {zname!r}")
        raise _unknown("soil class", "soil_class", absent, _names(soil, "soil_class"), avail,
                       _rows(source_row, len(zone)), what=what)
    return idx


def soc_ref(climate_zone: object, soil_class: object, ipcc_version: str = DEFAULT_IPCC_VERSION,
            *, source_row: object = None) -> np.ndarray:
    """Reference SOC stock under native vegetation [t C ha-1, 0-30 cm].

    Parameters
    ----------
    climate_zone : array-like of str
        IPCC climate zone (slugs of :data:`CLIMATE_ZONES`; 2006 names accepted).
    soil_class : array-like of str
        IPCC mineral soil class (:data:`SOIL_CLASSES`).
    ipcc_version : {"2019", "2006"}
    source_row : array-like of int, optional
        Row numbers for error messages.

    Returns
    -------
    numpy.ndarray [t C ha-1]

    Notes
    -----
    2019 values are from Table 2.3 (Updated) of the 2019 Refinement, 2006 values from
    Table 2.3 of the 2006 Guidelines (which has no separate boreal dry/moist row).

    Examples
    --------
    >>> soc_ref(["warm_temperate_moist"], ["HAC"]).tolist()
    [64.0]
    >>> soc_ref("Warm temperate, moist", "HAC", "2006").tolist()
    [88.0]
    """
    idx = soc_ref_index(climate_zone, soil_class, ipcc_version, source_row=source_row)
    return soc_ref_table(ipcc_version).value[idx]


@dataclass(frozen=True)
class Tier1Factors:
    """Stock change factors of a set of plots, as values and as indices into the table.

    ``*_index`` arrays point into ``management_table(ipcc_version)``; -1 means the factor
    does not apply and equals 1 exactly.
    """

    ipcc_version: str
    f_lu: np.ndarray
    f_mg: np.ndarray
    f_i: np.ndarray
    f_lu_index: np.ndarray
    f_mg_index: np.ndarray
    f_i_index: np.ndarray
    least_confirmed: np.ndarray

    def take(self, index: np.ndarray) -> Tier1Factors:
        """The factors of the plots at positions ``index``."""
        return Tier1Factors(self.ipcc_version, self.f_lu[index], self.f_mg[index], self.f_i[index],
                            self.f_lu_index[index], self.f_mg_index[index], self.f_i_index[index],
                            self.least_confirmed[index])

    @property
    def product(self) -> np.ndarray:
        """F_LU x F_MG x F_I."""
        return self.f_lu * self.f_mg * self.f_i

    def values_from(self, table_values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Gather (F_LU, F_MG, F_I) from an array of table values (e.g. one Monte Carlo draw,
        shape ``(..., n_rows)``); index -1 gives 1."""
        table_values = np.asarray(table_values, dtype=float)
        out = []
        for idx in (self.f_lu_index, self.f_mg_index, self.f_i_index):
            vals = np.take(table_values, np.maximum(idx, 0), axis=-1)
            out.append(np.where(idx >= 0, vals, 1.0))
        return tuple(out)


def _level(codes: np.ndarray, column: str) -> np.ndarray:
    """Codes of a column's vocabulary -> codes in :data:`LEVELS` (-1 stays -1)."""
    shift = np.asarray([LEVELS.index(v) for v in _VOCAB[column]] + [-1], dtype=np.int64)
    return shift[codes]


def _subset(values: object, sub: np.ndarray, n: int) -> np.ndarray:
    """``values`` (broadcast to ``n`` plots) at positions ``sub``; None where not given."""
    return _as_array(values, n)[sub] if values is not None else np.full(len(sub), None, dtype=object)


def _grassland_levels(condition: np.ndarray, input_level: np.ndarray, version: str,
                      rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """F_MG and F_I levels (codes in :data:`LEVELS`, -1: factor not applicable) of grassland plots.

    A missing condition is nominal; the other version's grazing class reads as this one's;
    F_I applies to improved grassland only, graded medium or high (Table 6.2).
    """
    cond = _codes(condition, "grassland_condition", source_row=rows, allow_missing=True)
    remap = np.arange(len(GRASSLAND_CONDITIONS) + 1)
    remap[-1] = GRASSLAND_CONDITIONS.index("nominal")
    for old, new in _GRASSLAND_VERSION_ALIAS[version].items():
        remap[GRASSLAND_CONDITIONS.index(old)] = GRASSLAND_CONDITIONS.index(new)
    cond = remap[cond]
    i_level = np.full(len(cond), -1, dtype=np.int64)
    improved = cond == GRASSLAND_CONDITIONS.index("improved")
    if improved.any():
        lev = _codes(input_level[improved], "input_level", allow_missing=True,
                     source_row=None if rows is None else rows[improved])
        to_grass = np.asarray([INPUT_LEVELS.index(_GRASSLAND_INPUT_MAP.get(v, v)) for v in INPUT_LEVELS]
                              + [INPUT_LEVELS.index("medium")], dtype=np.int64)
        i_level[improved] = _level(to_grass[lev], "input_level")
    return _level(cond, "grassland_condition"), i_level


def tier1_factors(
    climate_zone: object,
    land_use: object,
    tillage: object = None,
    input_level: object = None,
    grassland_condition: object = None,
    ipcc_version: str = DEFAULT_IPCC_VERSION,
    *,
    source_row: object = None,
) -> Tier1Factors:
    """IPCC Tier 1 stock change factors F_LU, F_MG, F_I for each plot (vectorised).

    Parameters
    ----------
    climate_zone : array-like of str
        IPCC climate zone slug (2006 names accepted).
    land_use : array-like of str
        ``cropland`` (long-term cultivated annual crops), ``grassland``, ``paddy``,
        ``perennial`` (perennial/tree crops) or ``set_aside`` (< 20 yr).
    tillage : array-like of str, optional
        ``full``, ``reduced`` or ``none`` (no-till); required for cropland, paddy and
        perennial rows, ignored elsewhere.
    input_level : array-like of str, optional
        ``low``, ``medium``, ``high`` (without manure) or ``high_manure``; required for
        cropland, paddy and perennial rows. For improved grassland, ``medium`` (default)
        or ``high`` (``low`` reads as medium, ``high_manure`` as high); ignored for other
        grassland and set-aside.
    grassland_condition : array-like of str, optional
        ``nominal`` (default), ``moderately_degraded``/``high_intensity_grazing``,
        ``severely_degraded`` or ``improved``; grassland rows only.
    ipcc_version : {"2019", "2006"}
    source_row : array-like of int, optional
        Row numbers for error messages.

    Returns
    -------
    Tier1Factors
        Values [dimensionless], indices into :func:`management_table`, and the weakest
        confirmation status among the cells used for each plot.

    Raises
    ------
    UnknownFactorError
        Unknown or missing categorical values (naming the row and listing valid values).

    Notes
    -----
    Set-aside land takes F_MG = F_I = 1 (Table 5.5 gives set-aside as a land-use class
    only). Grassland F_LU is 1 in all climates; grassland F_I applies to improved
    grassland only (Table 6.2).

    References
    ----------
    .. [1] IPCC (2019) 2019 Refinement, Vol. 4, Ch. 5, Table 5.5 (Updated); Ch. 6,
       Table 6.2 (Updated).
    .. [2] IPCC (2006) 2006 Guidelines, Vol. 4, Ch. 5, Table 5.5; Ch. 6, Table 6.2.

    Examples
    --------
    >>> f = tier1_factors(["warm_temperate_moist"], ["cropland"], ["none"], ["high"])
    >>> [float(f.f_lu[0]), float(f.f_mg[0]), float(f.f_i[0])]
    [0.69, 1.1, 1.11]
    """
    version = normalise_ipcc_version(ipcc_version)
    table = management_table(version)
    zone = _codes(climate_zone, "climate_zone", source_row=source_row)
    n = len(zone)
    rows = _rows(source_row, n)
    lu = _codes(land_use, "land_use", source_row=rows, n=n)
    tilled = np.isin(lu, [LAND_USES.index(x) for x in TILLED_LAND_USES])
    grass = lu == LAND_USES.index("grassland")
    system = grass.astype(np.int64)  # position in SYSTEMS

    mg_level = np.full(n, -1, dtype=np.int64)
    i_level = np.full(n, -1, dtype=np.int64)
    if tilled.any():
        sub = np.flatnonzero(tilled)
        sub_rows = None if rows is None else rows[sub]
        mg_level[sub] = _level(_codes(_subset(tillage, sub, n), "tillage", source_row=sub_rows), "tillage")
        i_level[sub] = _level(_codes(_subset(input_level, sub, n), "input_level", source_row=sub_rows), "input_level")
    if grass.any():
        sub = np.flatnonzero(grass)
        mg_level[sub], i_level[sub] = _grassland_levels(_subset(grassland_condition, sub, n),
                                                        _subset(input_level, sub, n), version,
                                                        None if rows is None else rows[sub])

    return _factors_of_levels(table, system, _level(lu, "land_use"), mg_level, i_level, zone)


def _factors_of_levels(table: FactorTable, system: np.ndarray, lu_level: np.ndarray, mg_level: np.ndarray,
                       i_level: np.ndarray, zone: np.ndarray) -> Tier1Factors:
    """Look up F_LU, F_MG, F_I (codes in :data:`LEVELS`, -1: factor 1) and their weakest status."""
    version = table.ipcc_version
    lu_idx = table.index_codes(system, FACTORS.index("F_LU"), lu_level, zone)
    mg_idx = table.index_codes(system, FACTORS.index("F_MG"), mg_level, zone)
    i_idx = table.index_codes(system, FACTORS.index("F_I"), i_level, zone)
    for idx, wanted, label in ((lu_idx, lu_level >= 0, "land use"), (mg_idx, mg_level >= 0, "management class"),
                               (i_idx, i_level >= 0, "input level")):
        missing = wanted & (idx < 0)
        if missing.any():  # a vocabulary value the version's table lacks: a packaging bug
            raise ReferenceDataError(f"IPCC {version} factor table has no {label} row for climate zone "
                                     f"{CLIMATE_ZONES[zone[np.flatnonzero(missing)[0]]]!r}")

    values = table.value
    rank = table.status_rank
    f = [np.where(idx >= 0, values[np.maximum(idx, 0)], 1.0) for idx in (lu_idx, mg_idx, i_idx)]
    top = len(STATUS_ORDER)  # "definition" for a factor that does not apply
    ranks = np.minimum.reduce([np.where(idx >= 0, rank[np.maximum(idx, 0)], top) for idx in (lu_idx, mg_idx, i_idx)])
    weakest = np.asarray(STATUS_ORDER + ("definition",), dtype=object)[ranks]
    return Tier1Factors(version, f[0], f[1], f[2], lu_idx, mg_idx, i_idx, weakest)


def weakest_status(*statuses: np.ndarray) -> np.ndarray:
    """Element-wise weakest confirmation status (see :data:`STATUS_ORDER`; ``None`` counts
    as ``definition``)."""
    ranks = np.minimum.reduce([_status_rank(np.asarray(st, dtype=object)) for st in statuses])
    return np.asarray(STATUS_ORDER + ("definition",), dtype=object)[ranks]


def climate_zone_from_climate(
    mat_c: Sequence[float] | np.ndarray,
    map_mm: Sequence[float] | np.ndarray,
    pet_mm: Sequence[float] | np.ndarray,
    elevation_m: Sequence[float] | np.ndarray,
    frost_days: Sequence[float] | np.ndarray | None = None,
    warmest_month_c: Sequence[float] | np.ndarray | None = None,
) -> np.ndarray:
    """IPCC climate zone from mean annual climate (decision tree of the 2019 Refinement).

    Parameters
    ----------
    mat_c : array-like [degC]
        Mean annual temperature.
    map_mm : array-like [mm yr-1]
        Mean annual precipitation.
    pet_mm : array-like [mm yr-1]
        Mean annual potential evapotranspiration.
    elevation_m : array-like [m]
        Elevation above sea level.
    frost_days : array-like [d yr-1], optional
        Frost days per year; tropical zones need <= 7. Not checked when omitted.
    warmest_month_c : array-like [degC], optional
        Mean temperature of the warmest month; where MAT <= 0 it separates boreal
        (>= 10 degC) from polar. Without it such sites are taken as boreal.

    Returns
    -------
    numpy.ndarray of object
        Zone slugs; ``polar_dry``/``polar_moist`` for polar sites (which have no Tier 1
        factors); ``None`` where an input needed for the decision is missing.

    Notes
    -----
    Tropical: MAT > 18 degC (and <= 7 frost days); montane above 1000 m, else wet where
    MAP > 2000 mm, moist where MAP > 1000 mm, dry otherwise. Warm temperate: MAT > 10 degC;
    cool temperate: MAT > 0 degC; boreal: MAT <= 0 degC with a warmest month >= 10 degC.
    Outside the tropics, moist where MAP/PET > 1, dry otherwise. Thresholds as in Fig.
    3A.5.2 of 2019 Vol. 4 Ch. 3 Annex 3A.5 (with its corrigendum), read from a public
    reimplementation; the figure itself was not available to us (see docs/ipcc-tier1.md).

    References
    ----------
    .. [1] IPCC (2019) 2019 Refinement, Vol. 4, Ch. 3, Annex 3A.5, Figure 3A.5.2
       (updated climate zone delineation) and corrigendum.

    Examples
    --------
    >>> climate_zone_from_climate([25, 14], [2500, 700], [1500, 900], [200, 50]).tolist()
    ['tropical_wet', 'warm_temperate_dry']
    """
    mat = np.asarray(mat_c, dtype=float)
    pre = np.asarray(map_mm, dtype=float)
    pet = np.asarray(pet_mm, dtype=float)
    elev = np.asarray(elevation_m, dtype=float)
    mat, pre, pet, elev = np.broadcast_arrays(mat, pre, pet, elev)
    frost = np.zeros_like(mat) if frost_days is None else np.broadcast_to(np.asarray(frost_days, float), mat.shape)
    warm = np.full_like(mat, np.inf) if warmest_month_c is None else np.broadcast_to(
        np.asarray(warmest_month_c, float), mat.shape)
    with np.errstate(invalid="ignore", divide="ignore"):
        moist = np.where(pre / pet > 1.0, "moist", "dry")
    tropical = (mat > 18.0) & (frost <= 7.0)
    trop = np.where(elev > 1000.0, "tropical_montane",
                    np.where(pre > 2000.0, "tropical_wet", np.where(pre > 1000.0, "tropical_moist", "tropical_dry")))
    extra = np.where(mat > 10.0, "warm_temperate_", np.where(mat > 0.0, "cool_temperate_",
                                                                np.where(warm >= 10.0, "boreal_", "polar_")))
    zone = np.where(tropical, trop, np.char.add(extra.astype(str), moist.astype(str))).astype(object)
    need_trop = np.isnan(mat) | np.isnan(frost) | (tropical & (np.isnan(elev) | np.isnan(pre)))
    need_other = ~tropical & (np.isnan(pre) | np.isnan(pet) | ((mat <= 0) & np.isnan(warm)))
    zone[need_trop | need_other] = None
    return zone
