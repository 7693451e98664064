"""Plain words for the report: what the library's terse method lines and codes mean.

The library states its methods and provenance for people who know its column names
(``soc_pct x 10 -> soc_g_kg``) and codes (``1src``). The report keeps them, for the
reader who checks the numbers, in its appendix, written out: unit conversions as
sentences with the units, pedotransfer functions with their authors, symbols as symbols
(×, →, ≥, ±, CO₂), confirmation statuses as what they mean. (The options of a run are
written out by :func:`fourp1000.report.provenance.settings`.)
"""

from __future__ import annotations

import re

from ..io.schema import COLUMNS_BY_NAME

#: What the confirmation status of an IPCC table value means (the vocabulary of the
#: package's IPCC source notes, weakest first; see ``fourp1000.projection.ipcc.STATUS_ORDER``).
STATUS_WORDS = {
    "unconfirmed": "not yet checked against the published IPCC table",
    "1src": "checked against one public transcription of the IPCC table",
    "2src": "checked against two independent public transcriptions of the IPCC table",
    "worked_example": "fixed by the IPCC's own worked example",
    "ipcc_document": "read in the IPCC document itself",
    "definition": "reference levels, 1 by definition",
    "not_in_table": "no value in the published table",
}

# Symbols as the library writes them in plain ASCII, and as a page prints them.
_SYMBOLS = ((" x ", " × "), (" -> ", " → "), (">=", "≥"), ("<=", "≤"), ("+/-", "±"), ("CO2e", "CO₂e"),
            ("t C/ha", "t C ha⁻¹"), (" - ", " − "))
# "soc_pct x 10 -> soc_g_kg", "som_pct x 10 / 1.724 (SOM/SOC factor) -> soc_g_kg"
_CONVERSION = re.compile(r"^(?P<src>[A-Za-z_][\w ]*?) x (?P<factor>.+?) -> (?P<dst>\w+)$")
# "SOC (g/kg) converted to soc_g_kg (x 1)": a column given in another unit
_CONVERTED = re.compile(r"^(?P<src>.+?) converted to (?P<dst>\w+) \(x (?P<factor>[^)]+)\)$")


def column_words(name: str) -> str:
    """A column named with its unit from the input schema: ``soc_pct (%)``; other names as they are."""
    spec = COLUMNS_BY_NAME.get(name.strip())
    return f"{name.strip()} ({spec.unit})" if spec is not None and spec.unit else name.strip()


def symbols(text: str) -> str:
    """ASCII operators and units as typeset symbols (``x`` -> ``×``, ``->`` -> ``→``, ``CO2e`` -> ``CO₂e``)."""
    for ascii_text, symbol in _SYMBOLS:
        text = text.replace(ascii_text, symbol)
    return text


def plain_method(line: str) -> str:
    """One method line of a result, written out for a reader.

    Unit conversions become sentences naming both columns with their units; pedotransfer
    functions are followed by their authors and year; every line gets typeset symbols and
    starts with a capital.

    Examples
    --------
    >>> plain_method("soc_pct x 10 -> soc_g_kg")
    'Unit conversion: column soc_pct (%) × 10 gives soc_g_kg (g/kg).'
    >>> plain_method("4 per 1000 met when the mean yearly change >= 4 per mille")
    '4 per 1000 met when the mean yearly change ≥ 4 per mille'
    """
    line = line.strip()
    for pattern in (_CONVERSION, _CONVERTED):
        match = pattern.match(line)
        if match:
            factor = symbols(f" x {match['factor']}").strip()
            return (f"Unit conversion: column {column_words(match['src'])} {factor} "
                    f"gives {column_words(match['dst'])}.")
    line = symbols(ptf_words(line))
    return line[:1].upper() + line[1:]


def ptf_words(text: str) -> str:
    """Pedotransfer function ids in ``text`` followed by their authors and year, from the PTF table.

    ``hollis_2012_cultivated`` -> ``hollis_2012_cultivated (Hollis J.M., Hannam J., Bellamy P.H. 2012)``.
    """
    from ..stocks.ptf import ptf_table

    table = ptf_table()
    authors = {}
    for ptf, source in table["source"].astype(str).items():
        match = re.match(r"^(?P<who>[^()]+?)\s*\((?P<year>\d{4})\)", source)
        if match:
            authors[ptf] = f"{match['who']} {match['year']}"
    if not authors:
        return text
    ids = "|".join(re.escape(p) for p in sorted(authors, key=len, reverse=True))  # longest first
    return re.sub(rf"\b({ids})\b", lambda m: f"{m[1]} ({authors[m[1]]})", text)


def status_words(status: str) -> str:
    """What a confirmation status means (the code itself when unknown)."""
    return STATUS_WORDS.get(status, status)


def practice_words(practice: str) -> str:
    """A practice id as words: ``reduced_tillage`` -> ``reduced tillage``."""
    return practice.replace("_", " ")


__all__ = ["STATUS_WORDS", "column_words", "plain_method", "practice_words", "ptf_words", "status_words", "symbols"]
