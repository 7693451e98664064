"""Presenting many problems: their common cause first, knock-on problems folded under it.

A file read with the wrong decimal mark gives thousands of "not a number" problems, and
each plot whose values failed then also has "no usable SOC layer". :func:`summarise` puts
one leading line before the details when most problems share a cause (a rule and, where
the message gives one, its hint: ``66,627 'not a number' problems in columns A, B: decimal
comma? use --decimal ,``), and folds the problems that follow from others (a profile
problem of a plot that already has a row problem) into one line.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..errors import Problem

#: Rules of problems found row by row while reading (io.horizons); a plot's other problems
#: (depth logic, no usable layer) follow from these when the plot has one.
ROW_RULES = frozenset({"missing_value", "not_a_number", "conflict", "out_of_range", "unknown_value", "above_surface",
                       "depth_order", "unit", "invalid_date"})
_HINT = re.compile(r"\(([^()]*\?[^()]*)\)\s*$")


@dataclass
class Summary:
    """Lines to print: ``lead`` (common cause), ``shown`` (problems), ``folded`` (knock-on)."""

    lead: list[str] = field(default_factory=list)
    shown: list[Problem] = field(default_factory=list)
    folded: list[str] = field(default_factory=list)


def hint_of(message: str) -> str | None:
    """The hint a message ends with, in brackets with a question (``decimal comma? use ...``).

    A knock-on folded into the message (``...; knock-on: ...``, see
    :func:`fourp1000.stocks.reasons.fold_knock_on`) is not part of it.
    """
    match = _HINT.search(message.split("; knock-on: ")[0])
    return match.group(1) if match else None


def summarise(problems: list[Problem], *, share: float = 0.5, min_count: int = 3) -> Summary:
    """Group problems for display (see the module docstring).

    Examples
    --------
    >>> ps = [Problem("f.csv", r, c, "not_a_number", f"'1,{r}' is not a number (decimal comma? use --decimal ,)")
    ...       for r in (2, 3, 4) for c in ("A", "B")]
    >>> summarise(ps).lead
    ["6 'not a number' problems in columns A, B: decimal comma? use --decimal ,"]
    """
    errors = [p for p in problems if p.severity == "error"]
    caused = {p.plot_id for p in errors if p.rule in ROW_RULES and p.plot_id is not None}
    knock_on = [p for p in errors if p.rule not in ROW_RULES and p.plot_id in caused]
    folded_ids = {id(p) for p in knock_on}
    summary = Summary(shown=[p for p in problems if id(p) not in folded_ids])
    groups = Counter((p.rule, hint_of(p.message)) for p in errors if p.rule in ROW_RULES)
    if groups:
        (rule, hint), count = groups.most_common(1)[0]
        if count >= min_count and count >= share * len(errors):
            columns = list(dict.fromkeys(p.column for p in errors if p.rule == rule and hint_of(p.message) == hint
                                         and p.column))
            where = f" in column{'s' if len(columns) != 1 else ''} {', '.join(columns[:8])}" if columns else ""
            more = f" and {len(columns) - 8} more" if len(columns) > 8 else ""
            summary.lead.append(f"{count:,} '{rule.replace('_', ' ')}' problems{where}{more}" + (f": {hint}" if hint
                                                                                                  else ""))
    if knock_on:
        kinds = Counter(p.message.split(" between ")[0] for p in knock_on).most_common(2)
        listed = "; ".join(f"{n} x {k}" for k, n in kinds)
        n_plots = len({p.plot_id for p in knock_on})
        summary.folded.append(f"... and {len(knock_on)} knock-on problem{'s' if len(knock_on) != 1 else ''} on "
                              f"{n_plots} plot{'s' if n_plots != 1 else ''} with the problems above ({listed})")
    return summary


__all__ = ["ROW_RULES", "Summary", "hint_of", "summarise"]
