"""Putting the parts' reports back together: methods, column reports, notes.

The library describes what it did per run (``methods``, the column report). A streamed run
is many runs; these functions merge their statements into the one the whole file gives:
lines in the order the library writes them, counts summed ("bulk density estimated for 12
layers" + "for 30 layers" -> "for 42 layers"), lists of names united.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ..io.columns import ColumnReport

# Method lines that count things: the numbers are summed, the rest of the line must agree.
_COUNTED = (
    re.compile(r"^bulk density of (\d+) layers? taken from .*$"),
    re.compile(r"^(\d+) gaps and (\d+) overlaps of at most .*$"),
    re.compile(r"^(\d+) rows below the comparison depth .*$"),
)
# "bulk density estimated for N layers with A, B (--bd-ptf X)[: what follows]": counts summed, names united.
_PTF = re.compile(r"^bulk density estimated for (\d+) layers with (.*?) \((--bd-ptf [^)]*)\)((?:: .*)?)$")


def ordered_union(lists: Iterable[list[str]]) -> list[str]:
    """Lines of every list once, each new line placed after the line it follows in its own list
    (or, first of its list, before the line it precedes there)."""
    out: list[str] = []
    for lines in lists:
        lines = list(lines)
        previous = None
        for i, line in enumerate(lines):
            if line not in out:
                following = next((x for x in lines[i + 1:] if x in out), None) if previous is None else None
                at = out.index(previous) + 1 if previous in out else \
                    out.index(following) if following is not None else len(out)
                out.insert(at, line)
            previous = line
    return out


def merge_methods(lists: Iterable[list[str]]) -> list[str]:
    """The methods statement of the whole run from those of its parts (counts summed)."""
    lists = [list(x) for x in lists]
    keyed = [[_key(line) for line in lines] for lines in lists]
    totals: dict[str, list] = {}
    for lines, keys in zip(lists, keyed):
        for line, key in zip(lines, keys):
            totals[key] = _add(totals.get(key), line)
    return [_render(key, totals[key]) for key in ordered_union(keyed)]


def _key(line: str) -> str:
    if _PTF.match(line):
        return "ptf:" + _PTF.match(line).group(3) + _PTF.match(line).group(4)
    for pattern in _COUNTED:
        if pattern.match(line):
            return "count:" + re.sub(r"\d+", "#", line, count=pattern.groups)  # the counted numbers come first
    return line


def _add(total, line: str):
    found = _PTF.match(line)
    if found:
        n, names = int(found.group(1)), found.group(2)
        names = [] if names == "no PTF" else names.split(", ")
        old_n, old_names = (total[0], total[1]) if total else (0, [])
        return [old_n + n, sorted(set(old_names) | set(names)), found.group(3), found.group(4)]
    for pattern in _COUNTED:
        found = pattern.match(line)
        if found:
            counts = [int(g) for g in found.groups()]
            return [a + b for a, b in zip(total, counts)] if total else counts
    return line


def _render(key: str, total) -> str:
    if key.startswith("ptf:"):
        n, names, flag, rest = total  # rest: what follows the flag (compare: ": their soil masses ...")
        return f"bulk density estimated for {n} layers with {', '.join(names) or 'no PTF'} ({flag}){rest}"
    if key.startswith("count:"):
        text = key[len("count:"):]
        for n in total:
            text = text.replace("#", str(n), 1)
        return text
    return total


def merge_reports(reports: list[ColumnReport], blank_rows: int) -> ColumnReport:
    """The column report of the whole file: the first part's, with every part's warnings and
    notes, and the blank rows of all parts counted in one note (as the whole file would)."""
    first = reports[0] if reports else ColumnReport()
    merged = ColumnReport(list(first.used), dict(first.mapped), dict(first.ignored), dict(first.constants),
                          ordered_union(r.warnings for r in reports), ordered_union(r.notes for r in reports))
    if blank_rows:  # the note io.horizons.normalise writes for a whole file
        merged.notes.append(f"{blank_rows} blank row{'s' if blank_rows != 1 else ''} skipped")
    return merged
