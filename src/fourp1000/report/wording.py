"""Plain words for the report: what the library's terse method lines and codes mean.

The library states its methods and provenance for people who know its column names
(``soc_pct x 10 -> soc_g_kg``) and codes (``1src``). The report keeps them, for the
reader who checks the numbers, in its appendix, written out: unit conversions as
sentences with the units, pedotransfer functions with their authors, symbols as symbols
(×, →, ≥, ±, CO₂), confirmation statuses as what they mean. (The options of a run are
written out by :func:`fourp1000.report.provenance.settings`.)
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

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


#: Each caveat keyword of the ``caveats`` column in a few plain words (the full sentence is
#: :data:`fourp1000.projection.verdict.CAVEATS`, shown in the methods appendix).
CAVEAT_WORDS = {
    "tillage_redistribution": "tillage gain is mostly carbon moved down the profile",
    "meets_only_through_tillage": "meets 4 ‰ only through the tillage change",
    "stacked_effects": "practices stacked beyond any published single effect",
    "above_capacity": "gain beyond what the soil's minerals can hold",
    "capped_at_capacity": "gain capped at what the soil's minerals can hold",
    "implausible_input": "model needs more plant carbon than the climate grows",
    "unconfirmed_factor": "uses a table value not yet confirmed",
    "depth_0_30_only": "0–30 cm stock used for the depth asked",
}

#: How a Monte Carlo ``verdict_at_confidence`` reads.
VERDICT_WORDS = {"met": "meets 4 ‰ at the confidence asked", "not_met": "falls short at the confidence asked",
                 "uncertain": "too close to call: within two Monte Carlo standard errors of the confidence asked"}


def _present(row: Mapping[str, object], key: str) -> bool:
    value = row.get(key)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return False
    return not (isinstance(value, str) and not value.strip())


def _listed(text: object) -> list[str]:
    return [part.strip() for part in str(text).split(";") if part.strip()] if text is not None else []


def _t(value: object, decimals: int = 1) -> str:
    return f"{float(value):,.{decimals}f}"


def caveat_list(row: Mapping[str, object]) -> list[tuple[str, str]]:
    """The plot's caveats as (keyword, plain words); unknown keywords keep their name."""
    if not _present(row, "caveats"):
        return []
    return [(key, CAVEAT_WORDS.get(key, practice_words(key))) for key in _listed(row["caveats"])]


def not_credited_words(text: str) -> str:
    """``residue_retention (already in place: input_level medium)`` in words, reasons kept."""
    return "; ".join(symbols(part.replace("_", " ")) for part in _listed(text))


def credit_lines(row: Mapping[str, object]) -> list[tuple[str, str]]:
    """What a projection credits on one plot, and why, as (label, plain sentence) pairs.

    Reads the per-plot columns of ``project``: the baseline (``baseline_stock_t_ha``,
    ``baseline_source``, ``stock_0_30_t_ha``, ``depth_share``), the change
    (``credited_practices``, ``not_credited``, ``rate_per_mille_without_tillage``,
    ``practices_without_rothc_effect``), the RothC fit (``rothc_confidence``,
    ``plant_c_input_t_ha_yr``, ``plant_c_input_ceiling_t_ha_yr``), the storage capacity
    (``mineral_c_capacity_t_ha``, ``mineral_c_capacity_max_t_ha``,
    ``saturation_deficit_t_ha``) and the Monte Carlo verdict (``p_meets_4p1000``,
    ``p_meets_4p1000_se``, ``verdict_at_confidence``). Columns a result lacks are skipped.

    Examples
    --------
    >>> credit_lines({"baseline_stock_t_ha": 50.0, "baseline_source": "measured",
    ...               "credited_practices": "cover_crops", "not_credited": "manure (already in place: input_level high_manure)",
    ...               "saturation_deficit_t_ha": 12.0, "mineral_c_capacity_t_ha": 60.0})[1:]
    [('Credited', 'cover crops'), ('Not credited', 'manure (already in place: input level high manure)'), ('Capacity', 'the minerals can hold 60.0 t C/ha; 12.0 t C/ha of room left')]
    """
    lines = []
    if _present(row, "baseline_stock_t_ha"):
        source = "IPCC default stock (not measured)" if row.get("baseline_source") == "ipcc_default" else "measured"
        text = f"{_t(row['baseline_stock_t_ha'])} t C/ha, {source}"
        if _present(row, "depth_share") and abs(float(row["depth_share"]) - 1.0) > 1e-9 and _present(row, "stock_0_30_t_ha"):
            text += f"; the practices act on its 0–30 cm part, {_t(row['stock_0_30_t_ha'])} t C/ha"
        lines.append(("Baseline", text))
    credited = _listed(row.get("credited_practices")) if _present(row, "credited_practices") else []
    lines.append(("Credited", ", ".join(practice_words(p) for p in credited) if credited else "nothing"))
    if _present(row, "not_credited"):
        lines.append(("Not credited", not_credited_words(str(row["not_credited"]))))
    if _present(row, "practices_without_rothc_effect"):
        lines.append(("No effect in RothC", ", ".join(practice_words(p)
                                                      for p in _listed(row["practices_without_rothc_effect"]))))
    if _present(row, "rate_per_mille_without_tillage") and _present(row, "rate_per_mille") and \
            abs(float(row["rate_per_mille_without_tillage"]) - float(row["rate_per_mille"])) > 1e-9:
        lines.append(("Without tillage", f"{float(row['rate_per_mille_without_tillage']):+.1f} ‰ a year"))
    if row.get("rothc_confidence") == "low" and _present(row, "plant_c_input_ceiling_t_ha_yr"):
        lines.append(("Low confidence", f"the model needs {_t(row['plant_c_input_t_ha_yr'])} t C/ha of plant carbon a "
                      f"year to hold this stock, more than the climate grows ({_t(row['plant_c_input_ceiling_t_ha_yr'])})"))
    if _present(row, "mineral_c_capacity_t_ha") and _present(row, "saturation_deficit_t_ha"):
        text = f"the minerals can hold {_t(row['mineral_c_capacity_t_ha'])} t C/ha"
        if _present(row, "mineral_c_capacity_max_t_ha"):
            text += f" (at most {_t(row['mineral_c_capacity_max_t_ha'])})"
        lines.append(("Capacity", f"{text}; {_t(row['saturation_deficit_t_ha'])} t C/ha of room left"))
    if _present(row, "verdict_at_confidence"):
        verdict = str(row["verdict_at_confidence"])
        text = VERDICT_WORDS.get(verdict, verdict)
        if _present(row, "p_meets_4p1000") and _present(row, "p_meets_4p1000_se"):
            text += (f" (P = {100 * float(row['p_meets_4p1000']):.0f} % ± "
                     f"{100 * float(row['p_meets_4p1000_se']):.1f} % Monte Carlo standard error)")
        lines.append(("Uncertainty", text))
    return lines


__all__ = ["CAVEAT_WORDS", "VERDICT_WORDS", "caveat_list", "credit_lines", "not_credited_words", "STATUS_WORDS", "column_words", "plain_method", "practice_words", "ptf_words", "status_words", "symbols"]
