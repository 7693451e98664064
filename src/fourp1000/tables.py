"""The package's reference tables (``fourp1000/data``): one checked loader.

Every coefficient table ships with the package as CSV or YAML, next to its sources
(``data/ipcc_sources.md``, ``source`` columns). The modules that use a table read it
through this module, so that a missing file or column always fails the same way: a
:class:`~fourp1000.errors.ReferenceDataError` that names the file and what is missing
(a packaging bug, not a user error). Lookups of a user's value in a table fail with an
:class:`~fourp1000.errors.UnknownFactorError` that lists the valid values.

pandas and PyYAML are imported on first use, so importing this module stays cheap.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import resources
from typing import TYPE_CHECKING, Any

from .errors import FourP1000Error, ReferenceDataError, UnknownFactorError

if TYPE_CHECKING:
    from importlib.abc import Traversable

    import pandas as pd

__all__ = ["data_path", "read_csv_table", "read_yaml_table", "require_columns", "unknown_value", "lookup"]


def data_path(name: str) -> Traversable:
    """The shipped file ``data/<name>`` (works from a wheel, a zip or a source tree).

    Examples
    --------
    >>> data_path("bd_ptf.csv").name
    'bd_ptf.csv'
    """
    return resources.files("fourp1000").joinpath("data", name)


def read_csv_table(name: str, *, required: Iterable[str] = (), dtype: Mapping[str, Any] | None = None,
                   rename: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Read the shipped CSV table ``data/<name>`` and check its columns.

    Parameters
    ----------
    name : str
        File name inside ``fourp1000/data``.
    required : iterable of str
        Columns the table must have (after ``rename``).
    dtype : mapping, optional
        Column types for :func:`pandas.read_csv` (e.g. ``{"months": "string"}``).
    rename : mapping, optional
        Columns to rename after reading.

    Returns
    -------
    DataFrame

    Raises
    ------
    ReferenceDataError
        The file cannot be read or parsed, or lacks a required column; the message
        names the file.

    Examples
    --------
    >>> table = read_csv_table("bd_ptf.csv", required=["ptf", "a"])
    >>> "hollis_2012_mineral" in set(table["ptf"])
    True
    >>> read_csv_table("bd_ptf.csv", required=["ptf", "no_such_column"])
    Traceback (most recent call last):
    ...
    fourp1000.errors.ReferenceDataError: bd_ptf.csv lacks columns ['no_such_column']
    """
    import pandas as pd

    try:
        with data_path(name).open("r", encoding="utf-8") as fh:
            frame = pd.read_csv(fh, dtype=dtype)
    except (OSError, ValueError) as exc:  # pandas' parser errors are ValueErrors
        raise ReferenceDataError(f"cannot read package data {name}: {exc}") from exc
    if rename:
        frame = frame.rename(columns=dict(rename))
    require_columns(frame.columns, required, name)
    return frame


def read_yaml_table(name: str, *, required: Iterable[str] = ()) -> dict:
    """Read the shipped YAML document ``data/<name>`` (``yaml.safe_load``) and check its keys.

    Parameters
    ----------
    name : str
        File name inside ``fourp1000/data``.
    required : iterable of str
        Top-level keys the document must have.

    Returns
    -------
    dict

    Raises
    ------
    ReferenceDataError
        The file cannot be read, is not a YAML mapping, or lacks a required key.

    Examples
    --------
    >>> doc = read_yaml_table("practices.yaml", required=["practices"])
    >>> "no_till" in doc["practices"]
    True
    """
    import yaml

    try:
        with data_path(name).open("r", encoding="utf-8") as fh:
            doc = yaml.safe_load(fh)
    except (OSError, yaml.YAMLError) as exc:
        raise ReferenceDataError(f"cannot read package data {name}: {exc}") from exc
    if not isinstance(doc, dict):
        raise ReferenceDataError(f"{name}: expected a YAML mapping at the top level")
    require_columns(doc, required, name, what="keys")
    return doc


def require_columns(present: Iterable[str], required: Iterable[str], label: str, *, what: str = "columns") -> None:
    """Raise :class:`ReferenceDataError` naming ``label`` and every required name not ``present``.

    Examples
    --------
    >>> require_columns(["a", "b"], ["a"], "t.csv")
    >>> require_columns(["a"], ["c", "b"], "t.csv")
    Traceback (most recent call last):
    ...
    fourp1000.errors.ReferenceDataError: t.csv lacks columns ['b', 'c']
    """
    missing = sorted(set(required) - set(present))
    if missing:
        raise ReferenceDataError(f"{label} lacks {what} {missing}")


def unknown_value(what: str, value: object, valid: Iterable[object],
                  error: type[FourP1000Error] = UnknownFactorError) -> FourP1000Error:
    """The error for a value that is not in a table: ``unknown WHAT 'VALUE'; valid: ...``.

    Returned, not raised, so the caller raises it where the lookup failed.

    Examples
    --------
    >>> str(unknown_value("climate zone", "arctic", ["boreal_dry", "boreal_moist"]))
    "unknown climate zone 'arctic'; valid: boreal_dry, boreal_moist"
    """
    return error(f"unknown {what} {value!r}; valid: {', '.join(str(v) for v in valid)}")


def lookup(table: Mapping[Any, Any], key: object, what: str) -> Any:
    """``table[key]``, or :class:`UnknownFactorError` naming the key and the valid ones.

    Examples
    --------
    >>> lookup({"no_till": 1.1, "reduced": 1.05}, "no_till", "tillage")
    1.1
    >>> lookup({"no_till": 1.1, "reduced": 1.05}, "ploughed", "tillage")
    Traceback (most recent call last):
    ...
    fourp1000.errors.UnknownFactorError: unknown tillage 'ploughed'; valid: no_till, reduced
    """
    try:
        return table[key]
    except KeyError:
        raise unknown_value(what, key, table) from None
