"""Numbers as spreadsheets and labs write them: decimal mark and thousands separator per column.

A column of text cells (a CSV column the reader could not parse, an Excel column stored as
text) is read with the decimal mark and thousands separator that parse the most of its
cells, judged on the **whole column**, not its first rows: a column whose first 660 rows are
integers and whose later rows hold ``12,5`` is a decimal-comma column. Given marks
(``--decimal``, ``--thousands``) are used as they are. Where two readings parse every cell
but give different numbers (``1,234``: 1.234 or 1234), the reading without a thousands
separator is taken and the choice is reported (:attr:`ParsedNumbers.ambiguous`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Cells that mean "no value" in lab exports (compared case-insensitively, after trimming).
MISSING_TOKENS = ("", "na", "n/a", "nan", "null", "none", "-", "--", "—")
# Thousands separators: space, no-break space (U+00A0) and narrow no-break space (U+202F)
# are all read as a space.
_SPACES = re.compile("[\u00a0\u202f\u2009]")
_EXPONENT = r"(?:[eE][+-]?\d+)?"


@dataclass(frozen=True)
class ParsedNumbers:
    """A column read as numbers.

    Attributes
    ----------
    values : ndarray of float
        NaN where the cell is empty, a missing-value token or not a number.
    bad : ndarray of bool
        Cells that hold something that is not a number.
    decimal, thousands : str or None
        The marks used (None: the column was already numeric, or had no separator).
    ambiguous : str or None
        A cell that another reading would give a different number, when the choice was not
        given (e.g. ``"1,234"``).
    """

    values: np.ndarray
    bad: np.ndarray
    decimal: str | None = None
    thousands: str | None = None
    ambiguous: str | None = None


def number_pattern(decimal: str, thousands: str | None) -> re.Pattern:
    """The regular expression of one number written with these marks.

    Examples
    --------
    >>> bool(number_pattern(",", ".").match("1.234,5")), bool(number_pattern(",", None).match("1.5"))
    (True, False)
    """
    dec = re.escape(decimal)
    if thousands is None:
        integer = r"\d+"
    else:
        integer = rf"(?:\d{{1,3}}(?:{re.escape(thousands)}\d{{3}})+|\d+)"
    return re.compile(rf"^[+-]?(?:{integer}(?:{dec}\d*)?|{dec}\d+){_EXPONENT}$")


def _candidates(decimal: str | None, thousands: str | None, prefer: str) -> list[tuple[str, str | None]]:
    if decimal is not None:
        return [(decimal, thousands)]
    marks = [prefer] + [m for m in (".", ",") if m != prefer]
    if thousands is not None:
        return [(d, thousands) for d in marks if d != thousands]
    pairs = [(d, None) for d in marks]
    pairs += [(d, t) for d in marks for t in (".", ",", " ") if t != d]
    return pairs


def _convert(text: pd.Series, decimal: str, thousands: str | None) -> pd.Series:
    if thousands is not None:
        text = text.str.replace(thousands, "", regex=False)
    if decimal != ".":
        text = text.str.replace(decimal, ".", regex=False)
    return pd.to_numeric(text, errors="coerce")


def parse_numbers(series: pd.Series, *, decimal: str | None = None, thousands: str | None = None,
                  prefer: str = ".") -> ParsedNumbers:
    """Read a column as numbers, choosing its decimal mark and thousands separator.

    Parameters
    ----------
    series : Series
        The column as read (numbers or text).
    decimal, thousands : str, optional
        The marks to use; None: chosen from the whole column.
    prefer : str, default "."
        The decimal mark that wins a tie (the file's, when it was sniffed).

    Examples
    --------
    >>> parsed = parse_numbers(pd.Series(["1", "2", "12,5", "NA"]))
    >>> parsed.values.tolist(), parsed.decimal
    ([1.0, 2.0, 12.5, nan], ',')
    >>> parse_numbers(pd.Series(["1.234,5", "12,5"])).values.tolist()
    [1234.5, 12.5]
    >>> parse_numbers(pd.Series(["1,25"]), decimal=".").bad.tolist()
    [True]
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return ParsedNumbers(series.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(series), dtype=bool))
    series = series.reset_index(drop=True)
    numeric = np.zeros(len(series), dtype=bool)
    if series.dtype == object:  # Excel: number cells stay numbers, only text cells are parsed
        numeric = series.map(lambda v: isinstance(v, (int, float, np.number)) and not isinstance(v, bool)).to_numpy(
            dtype=bool)
    text = series.where(~numeric).astype("string").str.strip().str.replace(_SPACES, " ", regex=True)
    missing = (text.isna() | text.str.lower().isin(MISSING_TOKENS)).to_numpy()
    filled = text[~missing]
    best, best_count, ambiguous = None, -1, None
    for dec, th in _candidates(decimal, thousands, prefer):
        ok = filled.str.match(number_pattern(dec, th)).to_numpy(dtype=bool)
        count = int(ok.sum())
        if count > best_count:
            best, best_count, best_ok = (dec, th), count, ok
        elif count == best_count and count and decimal is None and ambiguous is None:
            ambiguous = _differs(filled[ok & best_ok], best, (dec, th))
    values = np.full(len(text), np.nan)
    good = np.zeros(len(text), dtype=bool)
    good[np.flatnonzero(~missing)[best_ok]] = True
    values[good] = _convert(text[good], *best).to_numpy(dtype=float)
    if numeric.any():
        values[numeric] = series[numeric].to_numpy(dtype=float)
    bad = ~missing & ~good
    used = best[1] is not None and bool(text[good].str.contains(best[1], regex=False).any())
    return ParsedNumbers(values, bad, best[0], best[1] if used else None, ambiguous)


def _differs(cells: pd.Series, chosen: tuple, other: tuple) -> str | None:
    """The first cell the two readings give different numbers for, if any."""
    if cells.empty:
        return None
    a = _convert(cells, *chosen).to_numpy(dtype=float)
    b = _convert(cells, *other).to_numpy(dtype=float)
    differ = ~np.isclose(a, b, equal_nan=True)
    return str(cells.iloc[int(np.argmax(differ))]) if differ.any() else None


__all__ = ["MISSING_TOKENS", "ParsedNumbers", "number_pattern", "parse_numbers"]
