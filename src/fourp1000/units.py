"""The package's single pint unit registry and helpers to convert columns at the edges.

Computation happens on plain float arrays whose unit is fixed by their name
(``soc_g_kg``, ``bulk_density_g_cm3``); pint is used where data enter the program, to check
and convert declared units.
"""

from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from .errors import UnitError
from .tables import data_path


@lru_cache(maxsize=1)
def get_registry():
    """The package's pint registry, created on first use (building it takes ~1 s)."""
    import pint

    registry = pint.UnitRegistry(cache_folder=None)
    registry.load_definitions(str(data_path("units.txt")))
    return registry


def __getattr__(name: str):
    # ``from fourp1000.units import ureg, Q_`` works, without paying for pint at import.
    if name == "ureg":
        return get_registry()
    if name == "Q_":
        return get_registry().Quantity
    raise AttributeError(name)


def parse_unit(text: str, *, context: str = ""):
    """Parse a unit string such as ``"g/kg"``, ``"%"``, ``"Mg m-3"`` into a pint unit.

    Raises
    ------
    UnitError
        If pint does not know the unit; ``context`` (e.g. the column name) is named.
    """
    cleaned = text.strip().replace("³", "3").replace("²", "2").replace("⁻", "-").replace("‰", "permille")
    # Soil-science notation writes exponents inline: "Mg m-3", "kg m-2", "cm3".
    cleaned = re.sub(r"(?<=[A-Za-z])(-?\d+)", r"**\1", cleaned)
    import pint

    try:
        return get_registry().parse_units(cleaned)
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError, AttributeError, TypeError) as exc:
        where = f" for {context}" if context else ""
        raise UnitError(f"unknown unit {text!r}{where}") from exc


@lru_cache(maxsize=256)
def conversion_factor(from_unit, to_unit, *, context: str = "") -> float:
    """Multiplicative factor converting values in ``from_unit`` to ``to_unit``.

    Raises
    ------
    UnitError
        If the units have different dimensions (e.g. ``%`` to ``g/cm3``).
    """
    src = parse_unit(from_unit, context=context) if isinstance(from_unit, str) else from_unit
    dst = parse_unit(to_unit, context=context) if isinstance(to_unit, str) else to_unit
    import pint

    try:
        # Round off binary noise (1.0000000000000002) so exact unit identities stay exact.
        return float(f"{get_registry().Quantity(1.0, src).to(dst).magnitude:.15g}")
    except pint.DimensionalityError as exc:
        where = f" for {context}" if context else ""
        raise UnitError(f"cannot convert {src:~} to {dst:~}{where}: different dimensions") from exc


def convert(values: np.ndarray, from_unit: str, to_unit: str, *, context: str = "") -> np.ndarray:
    """Convert an array of magnitudes between units (multiplicative units only)."""
    return np.asarray(values, dtype=float) * conversion_factor(from_unit, to_unit, context=context)
