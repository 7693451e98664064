"""Presenting many problems: their common cause first.

A file read with the wrong decimal mark gives thousands of "not a number" problems.
:func:`summarise` puts one leading line before the details when most problems share a
cause (a rule and, where the message gives one, its hint: ``66,627 'not a number' problems
in columns A, B: decimal comma? use --decimal ,``).

Knock-on problems (a plot left without a usable layer by its rows' errors) are folded
under their cause once, where the cause is known: by the estimate
(:func:`fourp1000.stocks.reasons.fold_knock_on`, ``...; knock-on: ...``). Display does not
fold again: a plot's problem that does not follow from its row errors (an overlap beside a
bad point sample below the interval) is its own problem, and is shown.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..errors import Problem

#: Rules of problems found row by row while reading (io.horizons).
ROW_RULES = frozenset({"missing_value", "not_a_number", "conflict", "out_of_range", "unknown_value", "above_surface",
                       "depth_order", "unit", "invalid_date"})
_HINT = re.compile(r"\(([^()]*\?[^()]*)\)\s*$")


@dataclass
class Summary:
    """Lines to print: ``lead`` (common cause) and ``shown`` (every problem)."""

    lead: list[str] = field(default_factory=list)
    shown: list[Problem] = field(default_factory=list)


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
    summary = Summary(shown=list(problems))
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
    return summary


__all__ = ["ROW_RULES", "Summary", "hint_of", "summarise"]
