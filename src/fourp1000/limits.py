"""Resource limits: what a small hostile file or option may make the program do.

A 5 KB workbook whose used range reaches row 1,048,576, a 1 MB zip bomb, an 80 KB Parquet
file of run-length-encoded rows or a ten-thousand-deep YAML list would otherwise take
minutes and gigabytes. Every reader checks its input against these bounds *before* it
decodes the input, and says which bound was hit and how to raise it.

Each limit can be raised (or lowered) for a run with an environment variable of the same
name prefixed ``FOURP1000_`` (``FOURP1000_MAX_COLUMNS=5000``); docs/cli.md lists them.
The defaults are far above the largest real inputs seen (lab exports of a few hundred
columns, batch files of millions of rows).
"""

from __future__ import annotations

import os

from .errors import InputError

#: name -> (default, what it bounds). Values are ints.
DEFAULTS: dict[str, tuple[int, str]] = {
    "MAX_COLUMNS": (2_000, "columns of an input table"),
    "MAX_CELLS": (500_000_000, "cells (rows x columns) of an input table"),
    "MAX_EXPANSION": (100, "cells per byte of a compressed input (Parquet, xlsx) above a million cells"),
    "MAX_STREAM_BYTES": (2_000_000_000, "bytes read from stdin or a FIFO (held in memory)"),
    "MAX_XLSX_CELLS": (5_000_000, "cells of the used range of an Excel sheet"),
    "MAX_XLSX_BYTES": (1_000_000_000, "decompressed bytes of an Excel workbook"),
    "MAX_YAML_BYTES": (200_000_000, "bytes of a YAML input file"),
    "MAX_CONFIG_BYTES": (1_000_000, "bytes of a config file or --columns map"),
    "MAX_YAML_DEPTH": (32, "nesting depth of a YAML document"),
    "MAX_YAML_ALIASES": (1_000, "aliases (*name) in a YAML document"),
    "MAX_DRAWS": (100_000, "Monte Carlo draws (--draws)"),
    "MAX_BOOTSTRAP": (100_000, "bootstrap resamples (--bootstrap)"),
    "MAX_UNIT_LENGTH": (64, "characters of a unit expression"),
}


def limit(name: str) -> int:
    """The value of limit ``name`` (see :data:`DEFAULTS`), from ``FOURP1000_<name>`` if set.

    Raises
    ------
    InputError
        If the environment variable is not a positive whole number.

    Examples
    --------
    >>> limit("MAX_YAML_DEPTH")
    32
    """
    default, _ = DEFAULTS[name]
    text = os.environ.get(f"FOURP1000_{name}")
    if text is None or not text.strip():
        return default
    try:
        value = int(text.strip().replace("_", ""))
    except ValueError:
        value = 0
    if value < 1:
        raise InputError(f"FOURP1000_{name} must be a positive whole number, got {text!r}")
    return value


def exceeded(name: str, what: str, value: int) -> InputError:
    """The error for ``value`` above limit ``name``: what was found, the bound, how to raise it."""
    bound = limit(name)
    return InputError(f"{what}: {value:,} {DEFAULTS[name][1]} is above the limit of {bound:,} "
                      f"(set FOURP1000_{name} to raise it)")


def check(name: str, what: str, value: int) -> None:
    """Raise :func:`exceeded` when ``value`` is above limit ``name``."""
    if value > limit(name):
        raise exceeded(name, what, value)


__all__ = ["DEFAULTS", "limit", "exceeded", "check"]
