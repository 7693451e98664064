"""The package's single pint unit registry and helpers to convert columns at the edges.

Computation happens on plain float arrays whose unit is fixed by their name
(``soc_g_kg``, ``bulk_density_g_cm3``); pint is used where data enter the program, to check
and convert declared units.
"""

from __future__ import annotations

import re
from functools import lru_cache
from tokenize import TokenError

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


# Lab notations pint does not read as written: "g/100g" (= %), a carbon tag ("g C/kg"), a
# dot or space as multiplication ("g.kg-1"), a dry-matter qualifier ("g/kg MS", "% TS", "DM").
_DRY_MATTER = re.compile(r"\s+(?:ms|m\.s\.|ts|tm|dm|d\.m\.|dw|d\.w\.|tf|tfsa)\.?$", re.IGNORECASE)
_CARBON_TAG = re.compile(r"(?<=[gt])\s*(?:C|Corg|OC)(?=\s*[/*]|\s+[A-Za-z]|$)")
_PER_NUMBER = re.compile(r"/\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)")


def clean_unit_text(text: str) -> str:
    """A unit as labs write it, rewritten for pint.

    Examples
    --------
    >>> [clean_unit_text(u) for u in ["g/cm³", "Mg m-3", "g.kg-1", "g/100g", "g C/kg", "‰", "g/kg MS"]]
    ['g/cm**3', 'Mg*m**-3', 'g*kg**-1', 'g/(100*g)', 'g/kg', 'permille', 'g/kg']
    """
    cleaned = text.strip().replace("³", "3").replace("²", "2").replace("⁻", "-").replace("‰", "permille")
    cleaned = cleaned.replace("\u2212", "-").replace("µ", "u").replace("μ", "u")
    cleaned = _DRY_MATTER.sub("", cleaned)
    cleaned = _CARBON_TAG.sub("", cleaned)
    cleaned = _PER_NUMBER.sub(r"/(\1 \2)", cleaned)
    # Soil-science notation writes exponents inline: "Mg m-3", "kg m-2", "cm3".
    cleaned = re.sub(r"(?<=[A-Za-z])(-?\d+)", r"**\1", cleaned)
    # "g.kg**-1", "g kg**-1": a dot or a space between two units multiplies them.
    cleaned = re.sub(r"(?<=[A-Za-z0-9])\s*\.\s*(?=[A-Za-z])", "*", cleaned)
    cleaned = re.sub(r"(?<=[A-Za-z0-9])\s+(?=[A-Za-z(])", "*", cleaned)
    return cleaned


# The grammar of a unit after clean_unit_text: names, plain numbers, * / ( ) and integer
# exponents. Checked before pint sees the text, so no expression (a huge exponent, deep
# brackets, a number of 400 digits, a division by zero) can make parsing slow or fail inside.
_TOKEN = re.compile(r"\s*(?:(?P<name>[A-Za-z_%][A-Za-z_0-9]*)|(?P<number>\d{1,7}(?:\.\d{1,7})?)"
                    r"|(?P<power>\*\*\s*-?\d)(?!\d)|(?P<op>\*(?!\*)|[/()]))")
_MAX_TOKENS = 24
_MAX_BRACKETS = 3


def check_unit_grammar(text: str, cleaned: str, *, context: str = "") -> None:
    """Refuse a unit that is not names and small numbers joined by ``*``, ``/``, brackets and
    one-digit integer exponents (a bounded grammar), or is longer than ``MAX_UNIT_LENGTH``.

    Raises
    ------
    UnitError
        Naming the unit and ``context``.

    Examples
    --------
    >>> check_unit_grammar("g/0kg", clean_unit_text("g/0kg"))
    Traceback (most recent call last):
    ...
    fourp1000.errors.UnitError: unknown unit 'g/0kg': a unit cannot divide by zero
    """
    from .limits import limit

    where = f" for {context}" if context else ""

    def fail(why: str) -> UnitError:
        shown = text if len(text) <= 40 else text[:40] + "..."
        return UnitError(f"unknown unit {shown!r}{where}: {why}")

    if len(text) > limit("MAX_UNIT_LENGTH"):
        raise fail(f"longer than {limit('MAX_UNIT_LENGTH')} characters")
    pos, depth, count = 0, 0, 0
    cleaned = cleaned.rstrip()
    while pos < len(cleaned):
        match = _TOKEN.match(cleaned, pos)
        if match is None or match.end() == pos:
            raise fail("expected unit names, numbers, * / ( ) and small whole exponents")
        pos, count = match.end(), count + 1
        op, number = match.group("op"), match.group("number")
        depth += op == "("
        depth -= op == ")"
        if depth < 0 or depth > _MAX_BRACKETS:
            raise fail("unbalanced or too deeply nested brackets")
        if number is not None and float(number) == 0:
            raise fail("a unit cannot divide by zero" if "/" in cleaned[:match.start()] else "a unit cannot be zero")
    if count > _MAX_TOKENS:
        raise fail(f"more than {_MAX_TOKENS} parts")
    if depth:
        raise fail("unbalanced brackets")


@lru_cache(maxsize=4096)
def parse_quantity(text: str, *, context: str = ""):
    """Parse a unit as labs write it into a pint quantity (a scale times a unit).

    Unlike :func:`parse_unit`, the unit may carry a number: ``"g/100g"`` is 0.01 (a mass
    percent), ``"mg/100 g"`` 1e-5.

    Raises
    ------
    UnitError
        If pint cannot read it; ``context`` (e.g. the column name) is named.

    Examples
    --------
    >>> parse_quantity("g/100g").to("percent").magnitude
    1.0
    """
    import pint

    registry = get_registry()
    cleaned = clean_unit_text(str(text))
    check_unit_grammar(str(text), cleaned, context=context)
    try:
        parsed = registry.parse_expression(cleaned)
    except (pint.UndefinedUnitError, pint.errors.DefinitionSyntaxError, ValueError, AttributeError, TypeError,
            SyntaxError, TokenError, ArithmeticError, RecursionError) as exc:
        where = f" for {context}" if context else ""
        raise UnitError(f"unknown unit {text!r}{where}") from exc
    if not isinstance(parsed, registry.Quantity):  # a bare number: not a unit
        where = f" for {context}" if context else ""
        raise UnitError(f"unknown unit {text!r}{where}")
    return parsed


def parse_unit(text: str, *, context: str = ""):
    """Parse a unit string such as ``"g/kg"``, ``"%"``, ``"Mg m-3"`` into a pint unit.

    Raises
    ------
    UnitError
        If pint does not know the unit; ``context`` (e.g. the column name) is named.
    """
    quantity = parse_quantity(text, context=context)
    if quantity.magnitude != 1:
        where = f" for {context}" if context else ""
        raise UnitError(f"unit {text!r}{where} is scaled ({quantity:~}); use conversion_factor")
    return quantity.units


@lru_cache(maxsize=256)
def conversion_factor(from_unit, to_unit, *, context: str = "") -> float:
    """Multiplicative factor converting values in ``from_unit`` to ``to_unit``.

    Raises
    ------
    UnitError
        If the units have different dimensions (e.g. ``%`` to ``g/cm3``).
    """
    registry = get_registry()
    src = parse_quantity(from_unit, context=context) if isinstance(from_unit, str) else registry.Quantity(1.0, from_unit)
    dst = parse_quantity(to_unit, context=context) if isinstance(to_unit, str) else registry.Quantity(1.0, to_unit)
    import pint

    try:
        # Round off binary noise (1.0000000000000002) so exact unit identities stay exact.
        return float(f"{(src / dst).to('dimensionless').magnitude:.15g}")
    except pint.DimensionalityError as exc:
        where = f" for {context}" if context else ""
        raise UnitError(f"cannot convert {from_unit} to {to_unit}{where}: different dimensions") from exc


def convert(values: np.ndarray, from_unit: str, to_unit: str, *, context: str = "") -> np.ndarray:
    """Convert an array of magnitudes between units (multiplicative units only)."""
    return np.asarray(values, dtype=float) * conversion_factor(from_unit, to_unit, context=context)
