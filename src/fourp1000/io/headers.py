"""Recognising the headers labs and data sets write: names, units in headers, aliases.

Header names in English, French, German, Spanish, Portuguese and Italian are package data
(``data/header_aliases.csv``: alias, quantity, language, source), so adding one is a row,
not code. A header is compared by its :func:`header_key` (case, accents and punctuation
ignored), after its unit is split off (:func:`split_unit`: ``"Argile (%)"``,
``"TRD [g/cm³]"``, ``"%SOC"``, ``"Corg, g/kg"``).

An alias whose quantity starts with ``ambiguous:`` is never used: it names a header that
looks like a quantity but cannot be read without the user's word (coarse fragments by
volume or by mass, a single depth column, total carbon), so it produces a warning that says
how to map it.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from functools import lru_cache

from .schema import CANONICAL, COLUMNS_BY_NAME, UNIT_SUFFIXES

AMBIGUOUS = "ambiguous:"
_BRACKETED = re.compile(r"^\s*(?P<name>.*?)\s*[\(\[\{](?P<unit>[^\)\]\}]*)[\)\]\}]\s*$")
_PERCENT_FIRST = re.compile(r"^\s*%\s*(?P<name>\S.*)$")
_PERCENT_LAST = re.compile(r"^\s*(?P<name>.*?\S)\s*%\s*$")
_COMMA_UNIT = re.compile(r"^\s*(?P<name>.*?\S)\s*(?:,|\bin\b|\ben\b|\bem\b)\s*(?P<unit>[^,]*\S)\s*$")
_SPACE_UNIT = re.compile(r"^\s*(?P<name>.*?\S)\s+(?P<unit>\S*/\S*)\s*$")
# A percent said to be by volume or by mass, as German, French and English lab sheets write it:
# "Vol.-%", "vol%", "% vol", "% (v/v)"; "M.-%", "Gew.-%", "wt%", "mass %", "% (w/w)".
_VOLUME_TAG = re.compile(r"^(?:vol(?:ume)?\.?\s*-?\s*%|%\s*-?\s*vol(?:ume)?\.?|%?\s*\(?\s*v\s*/\s*v\s*\)?\s*%?)$",
                         re.IGNORECASE)
_MASS_TAG = re.compile(r"^(?:(?:m|mass[ea]?|gew|wt|weight)\.?\s*-?\s*%|%\s*-?\s*(?:m|mass[ea]?|gew|wt|weight)\.?"
                       r"|%?\s*\(?\s*[wm]\s*/\s*[wm]\s*\)?\s*%?)$", re.IGNORECASE)
# A mass per mass of soil (g/kg, g/100g, dag/kg, mg/g): a share by mass.
_MASS_RATIO = re.compile(r"^\s*(?:m|c|d|da|k)?g\s*/\s*(?:100\s*)?(?:k|m)?g\b", re.IGNORECASE)
#: Coarse fragments by each basis (the input model's quantities).
FRAGMENTS_BY_BASIS = {"volume": "coarse_fragments", "mass": "coarse_fragments_mass"}


def header_key(text: str) -> str:
    """A header as compared with names and aliases: lower case, no accents, ``_`` between words.

    Examples
    --------
    >>> header_key("Densité apparente")
    'densite_apparente'
    >>> header_key(" C org. ")
    'c_org'
    """
    decomposed = unicodedata.normalize("NFKD", str(text).casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return re.sub(r"[^a-z0-9]+", "_", plain).strip("_")


def split_unit(header: str) -> tuple[str, str | None]:
    """Split a header into its name and the unit written in it (None if it has none).

    Bracketed units (``"Argile (%)"``, ``"TRD [g/cm³]"``), a percent sign before or after
    the name (``"%SOC"``, ``"Ton %"``), and a unit after a comma or ``in``/``en``/``em``
    (``"Corg, g/kg"``, ``"Corg in %"``) or a unit with a slash after a space
    (``"Corg g/kg"``).

    Examples
    --------
    >>> split_unit("Densité apparente (g/cm3)")
    ('Densité apparente', 'g/cm3')
    >>> split_unit("%SOC"), split_unit("Ton [%]"), split_unit("argila")
    (('SOC', '%'), ('Ton', '%'), ('argila', None))
    """
    text = str(header)
    for pattern in (_BRACKETED, _COMMA_UNIT, _SPACE_UNIT):
        match = pattern.match(text)
        if match and match.group("name") and _unit_like(match.group("unit")):
            return match.group("name").strip(), match.group("unit").strip()
    for pattern in (_PERCENT_FIRST, _PERCENT_LAST):
        match = pattern.match(text)
        if match:
            return match.group("name").strip(), "%"
    return text.strip(), None


def unit_basis(unit: str) -> tuple[str | None, str]:
    """Whether a unit says its share is by ``"volume"`` or by ``"mass"`` (None if it does not), and the unit.

    A percent tagged with its basis becomes ``"%"``; a mass-per-mass unit keeps its scale.

    Examples
    --------
    >>> unit_basis("Vol.-%"), unit_basis("M.-%"), unit_basis("g/kg"), unit_basis("%")
    (('volume', '%'), ('mass', '%'), ('mass', 'g/kg'), (None, '%'))
    """
    text = str(unit).strip()
    if _VOLUME_TAG.match(text):
        return "volume", "%"
    if _MASS_TAG.match(text):
        return "mass", "%"
    return ("mass", text) if _MASS_RATIO.match(text) else (None, text)


def quantity_with_basis(name: str, basis: str | None) -> str | None:
    """The quantity of a header name, settled by the basis its unit states.

    Coarse fragments are read by volume or by mass as the header's unit says
    (``"Skelett [Vol.-%]"``, ``"Skelett [M.-%]"``, ``"cascalho (g/kg)"``); the other
    quantities are those of :func:`quantity_of`.

    Examples
    --------
    >>> quantity_with_basis("Skelett", "volume"), quantity_with_basis("Skelett", "mass")
    ('coarse_fragments', 'coarse_fragments_mass')
    >>> quantity_with_basis("Skelett", None) is None
    True
    """
    key = header_key(name)
    quantity = quantity_of(name)
    found = header_aliases().get(key)
    candidates = set(_targets(found)) if found else {quantity}
    if basis is not None and candidates & set(FRAGMENTS_BY_BASIS.values()):
        return FRAGMENTS_BY_BASIS[basis]
    return quantity


def _unit_like(text: str) -> bool:
    """Whether a bracketed or trailing part of a header reads as a unit (``"H2O"`` does not)."""
    from ..errors import UnitError
    from ..units import parse_quantity

    if _VOLUME_TAG.match(text.strip()) or _MASS_TAG.match(text.strip()):
        return True

    try:
        parse_quantity(text)
    except UnitError:
        return False
    return True


@lru_cache(maxsize=1)
def header_aliases() -> dict[str, str]:
    """``{header key: quantity}`` from ``data/header_aliases.csv`` (quantity as in the input model)."""
    from ..errors import ReferenceDataError
    from ..tables import read_csv_table

    table = read_csv_table("header_aliases.csv", required=["alias", "quantity", "language", "source"])
    known = set(CANONICAL) | set(COLUMNS_BY_NAME)
    aliases: dict[str, str] = {}
    for alias, quantity in zip(table["alias"], table["quantity"]):
        targets = quantity[len(AMBIGUOUS):].split(",") if quantity.startswith(AMBIGUOUS) else [quantity]
        unknown = [t for t in targets if t not in known]
        if unknown:
            raise ReferenceDataError(f"header_aliases.csv: alias {alias!r} names unknown quantity {unknown[0]!r}")
        key = header_key(alias)
        if aliases.get(key, quantity) != quantity:
            raise ReferenceDataError(f"header_aliases.csv: alias {alias!r} reads as {key!r}, which is already "
                                     f"{aliases[key]!r}")
        aliases[key] = quantity
    return aliases


def canonical_for(quantity: str) -> str | None:
    """The input-model column of a quantity or column name (``"soc"`` -> ``"soc_g_kg"``)."""
    if quantity in COLUMNS_BY_NAME:
        return quantity
    return CANONICAL.get(quantity)


def quantity_of(name: str) -> str | None:
    """The quantity a header name (without its unit) stands for, from the aliases, or None."""
    key = header_key(name)
    if key in COLUMNS_BY_NAME or key in CANONICAL:
        return key
    found = header_aliases().get(key)
    return None if found is None or found.startswith(AMBIGUOUS) else found


def suffix_unit(key: str) -> tuple[str, str] | None:
    """``(quantity, pint unit)`` of a name ending in a unit suffix (``bulk_density_kg_m3``)."""
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if key.endswith("_" + suffix):
            quantity = quantity_of(key[: -len(suffix) - 1])
            if quantity is not None and canonical_for(quantity) is not None:
                return quantity, UNIT_SUFFIXES[suffix]
    return None


def recognised(header: str) -> bool:
    """Whether a header names a column of the input model (by name, suffix or alias)."""
    key = header_key(header)
    if key in COLUMNS_BY_NAME or suffix_unit(key) is not None:
        return True
    return quantity_of(split_unit(header)[0]) is not None


def looks_like(header: str) -> list[str]:
    """The quantities an unrecognised header seems to hold (empty if none).

    An ambiguous alias gives its candidates; otherwise a header containing an alias of
    four letters or more as whole words (``"Carbone organique total"``), or close to one
    by spelling (``"bulk_densty"``), gives that alias' quantity.

    Examples
    --------
    >>> looks_like("Carbone organique total (g/kg)")
    ['soc']
    >>> looks_like("Éléments grossiers (%)")
    ['coarse_fragments', 'coarse_fragments_mass']
    >>> looks_like("pH (H2O)")
    []
    """
    key = header_key(split_unit(header)[0])
    aliases = header_aliases()
    if aliases.get(key, "").startswith(AMBIGUOUS):
        return aliases[key][len(AMBIGUOUS):].split(",")
    words = f"_{key}_"
    for alias, quantity in aliases.items():
        if (len(alias) >= 4 or "_" in alias) and f"_{alias}_" in words and alias != key:
            return _targets(quantity)
    long_aliases = [a for a in aliases if len(a) >= 5]
    close = difflib.get_close_matches(key, long_aliases, n=1, cutoff=0.85) if len(key) >= 5 else []
    return _targets(aliases[close[0]]) if close else []


def _targets(quantity: str) -> list[str]:
    return quantity[len(AMBIGUOUS):].split(",") if quantity.startswith(AMBIGUOUS) else [quantity]


__all__ = ["AMBIGUOUS", "FRAGMENTS_BY_BASIS", "header_key", "split_unit", "unit_basis", "header_aliases",
           "canonical_for", "quantity_of", "quantity_with_basis", "suffix_unit", "recognised", "looks_like"]
