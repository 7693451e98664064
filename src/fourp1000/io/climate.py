"""Monthly climate tables for RothC: reading, validation and lookup per plot.

A climate table holds one monthly climatology (a representative year) per climate id:

* ``climate_id`` *or* ``plot_id`` - the key; with ``plot_id`` each plot has its own
  climate, with ``climate_id`` plots refer to it (see :meth:`ClimateTable.lookup`);
* ``month`` - 1 to 12, every month exactly once per id;
* ``temperature_c`` - mean monthly air temperature [°C];
* ``rain_mm`` - monthly rainfall [mm];
* ``evaporation_mm`` - monthly **open-pan** evaporation [mm], or ``pet_mm`` - monthly
  potential evapotranspiration [mm], converted to open-pan evaporation by ÷ 0.75
  (:func:`fourp1000.rothc.pan_evaporation_from_pet`). A row gives one of the two.

Other columns (a ``source`` column, station names, ...) are ignored. Every problem is
reported with the file, row and column, all at once (:class:`~fourp1000.errors.ValidationError`).

Notes
-----
RothC needs open-pan evaporation: the model multiplies it by 0.75 to get the
evapotranspiration of the topsoil. Giving a PET as ``evaporation_mm`` would understate
the drying of the soil by a quarter; hence the two distinct columns.

References
----------
.. [1] Coleman, K., Jenkinson, D.S. (1996). RothC-26.3 - A model for the turnover of
   carbon in soil. In: Evaluation of Soil Organic Matter Models, NATO ASI Series I 38,
   Springer, 237-246. :doi:`10.1007/978-3-642-61094-3_17`
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import rothc
from ..errors import Problem, UnknownFactorError, ValidationError
from .readers import read_table

KEY_COLUMNS = ("climate_id", "plot_id")
MONTHS = 12
#: Plausible ranges of monthly values (inclusive); outside them a value is a data error.
#: Wide on purpose: they catch unit slips (K for °C, cm or m for mm, yearly totals), not climates.
RANGES = {
    "temperature_c": (-60.0, 50.0),
    "rain_mm": (0.0, 3000.0),
    "evaporation_mm": (0.0, 1000.0),
    "pet_mm": (0.0, 750.0),
}


@dataclass(frozen=True)
class ClimateTable:
    """Validated monthly climatologies, one column per climate id.

    Attributes
    ----------
    label : str
        File name used in messages.
    key : str
        ``climate_id`` or ``plot_id``: what the ids are.
    ids : numpy.ndarray of object, shape (n_ids,)
        The ids, in order of first appearance.
    temperature_c : numpy.ndarray, shape (12, n_ids) [°C]
    rain_mm : numpy.ndarray, shape (12, n_ids) [mm]
    evaporation_mm : numpy.ndarray, shape (12, n_ids) [mm]
        Open-pan evaporation (converted from ``pet_mm`` where that was given).
    evaporation_source : numpy.ndarray of object, shape (n_ids,)
        ``open_pan``, ``pet/0.75`` or ``mixed`` (months of both kinds).
    """

    label: str
    key: str
    ids: np.ndarray
    temperature_c: np.ndarray
    rain_mm: np.ndarray
    evaporation_mm: np.ndarray
    evaporation_source: np.ndarray

    def index_of(self, keys: object, *, source_row: object = None, column: str | None = None) -> np.ndarray:
        """Column index of each key in the table.

        Parameters
        ----------
        keys : array-like of str
            One key per plot (its ``climate_id``, or its ``plot_id``).
        source_row : array-like of int, optional
            Row numbers of the plots, for the error message.
        column : str, optional
            Name of the plot column the keys come from (default: :attr:`key`).

        Returns
        -------
        numpy.ndarray of int

        Raises
        ------
        UnknownFactorError
            Keys missing from the table (or empty); names the rows and lists the valid ids.
            Its ``rows`` attribute holds every offending row.
        """
        column = column or self.key
        given = np.asarray(keys, dtype=object)
        if len(given) == len(self.ids) and pd.Index(self.ids, dtype=object).equals(pd.Index(given, dtype=object)):
            # the table's ids in the plots' order (a per-plot table written plot by plot):
            # one comparison, no hashing (the ids are stripped text, so the keys are too)
            return np.arange(len(given))
        values = pd.Series(given, dtype=object)
        text = values.where(values.isna(), values.astype(str).str.strip())
        lookup = pd.Index(self.ids)
        index = lookup.get_indexer(text.to_numpy(dtype=object))
        bad = index < 0
        if bad.any():
            rows = None if source_row is None else np.asarray(source_row)
            first = int(np.flatnonzero(bad)[0])
            value = text.iloc[first]
            where = f" in row {int(rows[first])}" if rows is not None else ""
            more = f" (and {int(bad.sum()) - 1} more plots)" if bad.sum() > 1 else ""
            shown = ", ".join(map(str, self.ids[:20])) + (" ..." if len(self.ids) > 20 else "")
            head = f"missing {column}" if pd.isna(value) else f"{column} {value!r} is not in {self.label}"
            raise UnknownFactorError(f"{head}{where}{more}; valid: {shown}", column=column,
                                     rows=None if rows is None else rows[bad])
        return index

    def monthly(self, index: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Temperature [°C], rain [mm] and open-pan evaporation [mm] of the given ids, each (12, n).

        ``take`` gives row-major arrays (fancy indexing of the columns would give
        transposed ones, which every later step over months would read with a stride).
        """
        return tuple(np.take(a, index, axis=1) for a in (self.temperature_c, self.rain_mm, self.evaporation_mm))


def read_climate(source: str | Path, *, sep: str | None = None, decimal: str | None = None,
                 encoding: str | None = None, sheet: str | int | None = None) -> ClimateTable:
    """Read and validate a monthly climate table (CSV, Excel, Parquet or YAML).

    Parameters
    ----------
    source : str or path
        File to read (``-`` for stdin).
    sep, decimal, encoding, sheet
        As for :func:`fourp1000.io.readers.read_table` (sniffed by default).

    Returns
    -------
    ClimateTable

    Raises
    ------
    InputError
        The file cannot be read.
    ValidationError
        Every problem of the table, each with file, row and column.
    """
    raw = read_table(source, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet)
    return climate_from_frame(raw.frame, label=raw.label, rows=raw.rows)


def _numbers(frame: pd.DataFrame, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Column as floats (NaN where empty) and a mask of cells that are present but not numbers.

    A column read as numbers (the usual case) is taken as it is; only a text column is parsed.
    """
    values = frame[column]
    if pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype):
        number = values.to_numpy(dtype=float, na_value=np.nan)
        return number, values.notna().to_numpy() & ~np.isfinite(number)  # present but inf
    number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    present = values.notna().to_numpy() & (values.astype(str).str.strip() != "").to_numpy()
    return number, present & ~np.isfinite(number)


def climate_from_frame(frame: pd.DataFrame, *, label: str = "<climate>",
                       rows: np.ndarray | None = None) -> ClimateTable:
    """Validate a climate table already in memory (see the module docstring for the columns).

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per id and month.
    label : str
        File name for messages.
    rows : numpy.ndarray of int, optional
        Row number of each record as the user sees it (default: 2, 3, ... as in a
        spreadsheet with a header row).

    Returns
    -------
    ClimateTable

    Raises
    ------
    ValidationError
        Listing every problem: missing columns, empty keys, months outside 1-12 or
        repeated, ids without all 12 months, values that are not numbers or out of range,
        rows with both or neither of ``evaporation_mm`` and ``pet_mm``.

    Examples
    --------
    >>> months = list(range(1, 13))
    >>> t = climate_from_frame(pd.DataFrame({"climate_id": "A", "month": months,
    ...     "temperature_c": 10.0, "rain_mm": 50.0, "pet_mm": 60.0}))
    >>> float(t.evaporation_mm[0, 0])
    80.0
    """
    frame = frame.rename(columns=lambda c: str(c).strip())
    n = len(frame)
    rows = np.arange(2, n + 2, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    check = _Checks(label, rows)
    key, evap_cols = _check_columns(frame, check)
    key_text = frame[key].astype("string").str.strip()
    check.empty_key = key_text.isna().to_numpy() | (key_text == "").fillna(True).to_numpy()
    check.key_text = key_text
    for i in np.flatnonzero(check.empty_key):
        check.add(i, key, "missing_value", f"{key} is empty", with_key=False)
    month_int, month_ok = _check_months(frame, check)
    values = {col: _check_values(frame, col, check) for col in ["temperature_c", "rain_mm", *evap_cols]}
    evaporation, from_pet = _open_pan_evaporation(frame, values, evap_cols, check)
    blocks = _ids_in_blocks(key_text, month_int, month_ok, check.empty_key)
    if blocks is not None:  # ids in complete blocks of months 1-12: each month once by construction
        order, ids = blocks
    else:
        # One code per id, in order of first appearance (-1 for an empty key): one hashing pass.
        order, uniques = pd.factorize(key_text.mask(check.empty_key))
        ids = np.asarray(uniques, dtype=object)
        _check_each_month_once(order, ids, month_int, month_ok, key, check)
    if check.problems:
        check.problems.sort(key=lambda p: (p.row is None, p.row or 0))
        raise ValidationError(check.problems)

    # All checks passed: every id has exactly months 1..12, each once.
    temp, rain, evap = (_by_month(v, month_int, order, len(ids), blocks is not None)
                        for v in (values["temperature_c"], values["rain_mm"], evaporation))
    pet_count = np.bincount(order, weights=from_pet, minlength=len(ids)).astype(int)
    source = np.where(pet_count == MONTHS, "pet/0.75", np.where(pet_count == 0, "open_pan", "mixed")).astype(object)
    return ClimateTable(label, key, np.asarray(ids, dtype=object), temp, rain, evap, source)


def _by_month(values: np.ndarray, month_int: np.ndarray, order: np.ndarray, n_ids: int, in_blocks: bool
              ) -> np.ndarray:
    """One column as an array (12, n_ids): row m - 1 holds month m of each id."""
    if in_blocks:  # rows in blocks of months 1-12, one per id: a transposed copy, no scatter
        return np.ascontiguousarray(np.asarray(values, dtype=float).reshape(n_ids, MONTHS).T)
    out = np.empty((MONTHS, n_ids))
    out[month_int - 1, order] = values
    return out


def _ids_in_blocks(key_text: pd.Series, month_int: np.ndarray, month_ok: np.ndarray, empty_key: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray] | None:
    """Each row's id code and the ids when the table lists each id's months 1 to 12 in one
    block of 12 rows, ids all different (how climate tables are usually written); else None.

    The general path hashes every row's key and checks each (id, month) pair; this one
    compares each row's key with its block's first and hashes one key per id.
    """
    n = len(key_text)
    if n % MONTHS or not month_ok.all() or empty_key.any():
        return None
    if not np.array_equal(month_int.reshape(-1, MONTHS), np.broadcast_to(np.arange(1, MONTHS + 1), (n // MONTHS, MONTHS))):
        return None
    # Each row's key equals the one before it within a block: slices of the column's own
    # strings compared (no copy of the column, no Python string per row).
    keys = key_text.array
    same = np.asarray(keys[1:] == keys[:-1], dtype=bool)
    within = np.ones(n - 1, dtype=bool)
    within[MONTHS - 1::MONTHS] = False  # the pair of a block's last row and the next block's first
    if not bool(same[within].all()):
        return None
    order = np.repeat(np.arange(n // MONTHS), MONTHS)
    ids = key_text.iloc[::MONTHS].to_numpy(dtype=object)
    return (order, ids) if pd.Index(ids).is_unique else None


class _Checks:
    """The problems of a climate table, collected in the order they are found."""

    def __init__(self, label: str, rows: np.ndarray):
        self.label = label
        self.rows = rows
        self.problems: list[Problem] = []
        self.empty_key: np.ndarray | None = None
        self.key_text: pd.Series | None = None

    def add(self, i, column, rule, message, *, with_key: bool = True) -> None:
        """A problem of row position ``i`` (None for the whole file), naming the row's id."""
        key = None
        if with_key and i is not None and not self.empty_key[i]:
            key = self.key_text.iloc[i]
        self.problems.append(Problem(self.label, None if i is None else int(self.rows[i]), column, rule, message, key))


def _check_columns(frame: pd.DataFrame, check: _Checks) -> tuple[str, list[str]]:
    """The key column and the evaporation columns present; missing columns raise."""
    keys = [k for k in KEY_COLUMNS if k in frame.columns]
    if not keys:
        check.add(None, None, "missing_column", "no column climate_id or plot_id: name the climate of each row")
    elif len(keys) > 1:
        check.add(None, None, "ambiguous_key", "both climate_id and plot_id are columns; keep one of them as the key")
    for col in ["month", "temperature_c", "rain_mm"]:
        if col not in frame.columns:
            check.add(None, col, "missing_column", f"missing column {col}")
    evap_cols = [c for c in ("evaporation_mm", "pet_mm") if c in frame.columns]
    if not evap_cols:
        check.add(None, "evaporation_mm", "missing_column",
                  "missing column evaporation_mm (open-pan evaporation) or pet_mm (potential evapotranspiration)")
    if check.problems:
        raise ValidationError(check.problems)
    if len(frame) == 0:
        raise ValidationError([Problem(check.label, None, None, "empty", "the climate table has no rows")])
    return keys[0], evap_cols


def _check_months(frame: pd.DataFrame, check: _Checks) -> tuple[np.ndarray, np.ndarray]:
    """Month of each row (0 where invalid) and where it is a whole number from 1 to 12."""
    month_num, _ = _numbers(frame, "month")
    month_ok = np.isfinite(month_num) & (month_num == np.round(month_num)) & (month_num >= 1) & (month_num <= MONTHS)
    for i in np.flatnonzero(~month_ok):
        shown = frame["month"].iloc[i]
        got = "nothing" if pd.isna(shown) else repr(str(shown).strip())
        check.add(i, "month", "out_of_range", f"month must be a whole number from 1 to 12, got {got}")
    return np.where(month_ok, month_num, 0).astype(int), month_ok


def _check_values(frame: pd.DataFrame, col: str, check: _Checks) -> np.ndarray:
    """A monthly value column as numbers: not numbers, out of range or (temperature, rain) missing are problems."""
    number, not_number = _numbers(frame, col)
    lo, hi = RANGES[col]
    for i in np.flatnonzero(not_number):
        check.add(i, col, "not_a_number", f"{col} must be a number, got {str(frame[col].iloc[i]).strip()!r}")
    out = np.isfinite(number) & ((number < lo) | (number > hi))
    for i in np.flatnonzero(out):
        check.add(i, col, "out_of_range", f"{col} {number[i]:g} is outside the plausible range {lo:g} to {hi:g}")
    if col in ("temperature_c", "rain_mm"):
        for i in np.flatnonzero(~np.isfinite(number) & ~not_number):
            check.add(i, col, "missing_value", f"{col} is empty")
    return number


def _open_pan_evaporation(frame: pd.DataFrame, values: dict[str, np.ndarray], evap_cols: list[str],
                          check: _Checks) -> tuple[np.ndarray, np.ndarray]:
    """Open-pan evaporation [mm] as given, else PET / 0.75; exactly one of the two per row.
    Returns the evaporation and where it came from PET."""
    n = len(frame)
    pan = values.get("evaporation_mm", np.full(n, np.nan))
    pet = values.get("pet_mm", np.full(n, np.nan))
    has_pan, has_pet = np.isfinite(pan), np.isfinite(pet)
    for i in np.flatnonzero(has_pan & has_pet):
        check.add(i, "pet_mm", "ambiguous_value", "both evaporation_mm and pet_mm are given; give one "
                  "(pet_mm is converted to open-pan evaporation by / 0.75)")
    bad_evap_cell = np.zeros(n, bool)
    for col in evap_cols:
        bad_evap_cell |= _numbers(frame, col)[1]
    for i in np.flatnonzero(~has_pan & ~has_pet & ~bad_evap_cell):
        check.add(i, evap_cols[0], "missing_value", "give evaporation_mm (open pan) or pet_mm")
    evaporation = np.where(has_pan, pan, rothc.pan_evaporation_from_pet(np.where(has_pet, pet, 0.0)))
    return evaporation, has_pet & ~has_pan


def _check_each_month_once(codes: np.ndarray, ids: np.ndarray, month_int: np.ndarray, month_ok: np.ndarray,
                           key: str, check: _Checks) -> None:
    """Each id has every month exactly once: repeated and lacking months are problems.

    ``codes`` is the position of each row's id in ``ids`` (-1 where the key is empty).
    """
    rows = check.rows
    valid = np.flatnonzero((codes >= 0) & month_ok)
    id_month = codes[valid].astype(np.int64) * (MONTHS + 1) + month_int[valid]  # one integer per (id, month)
    dup = pd.Series(id_month).duplicated(keep="first").to_numpy()
    if dup.any():
        also = rows[valid[~dup][pd.Index(id_month[~dup]).get_indexer(id_month[dup])]]
        for pos, also_row in zip(valid[dup], also):
            ident, month = ids[codes[pos]], int(month_int[pos])
            check.problems.append(Problem(check.label, int(rows[pos]), "month", "duplicate",
                                          f"month {month} of {key} {ident!r} is given twice "
                                          f"(also row {int(also_row)})", ident))
    seen = id_month[~dup]
    n_months = np.bincount(seen // (MONTHS + 1), minlength=len(ids))
    incomplete = np.flatnonzero(n_months < MONTHS)
    if len(incomplete):  # only the incomplete ids are visited, not every id
        keyed = np.flatnonzero(codes >= 0)
        _, first = np.unique(codes[keyed], return_index=True)  # every code occurs: indexed by code
        first_row = rows[keyed[first]]
        have = np.zeros((len(ids), MONTHS + 1), dtype=bool)
        have[seen // (MONTHS + 1), seen % (MONTHS + 1)] = True
        for code in incomplete:
            lacking = [m for m in range(1, MONTHS + 1) if not have[code, m]]
            ident = ids[code]
            check.problems.append(Problem(
                check.label, int(first_row[code]), "month", "incomplete",
                f"{key} {ident!r} lacks month{'s' if len(lacking) > 1 else ''} {', '.join(map(str, lacking))}; "
                "give all 12 months", ident))


__all__ = ["ClimateTable", "read_climate", "climate_from_frame", "KEY_COLUMNS", "RANGES"]
