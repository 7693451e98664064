"""Which input column gives which column of the input model: every column accounted for.

:func:`resolve` maps a file's headers to the input model (:mod:`fourp1000.io.schema`), in
this order of precedence:

1. the user's column map (``--columns FILE``): ``{header: column}``,
   ``{header: {column: quantity, unit: ...}}``, an identifier joined from several headers
   (``plot_id: [dataset_id, observation_id]``), ``constants`` for every row
   (``{land_use: cropland, bottom_cm: 23}``; ``--set COLUMN=VALUE`` on the command line) and
   headers to ``ignore``;
2. the input model's own names (``soc_g_kg``), names with a unit suffix
   (``bulk_density_kg_m3``), and aliases with the unit in the header (``Argile (%)``,
   ``TRD [g/cm³]``; :mod:`fourp1000.io.headers`).

The explicit map always wins: a header an alias would give to a column the map already
fills is ignored, with a warning. Every header ends up **used** (already one of our names),
**mapped** (to one of our columns) or **ignored** (with the reason), in a
:class:`ColumnReport` that the commands print and put in their JSON ``meta``. A quantity
whose unit is not given is a problem: units are never guessed.
"""

from __future__ import annotations

import math

from dataclasses import dataclass, field

from ..errors import InputError, Problem, UnitError
from ..units import conversion_factor
from .headers import (AMBIGUOUS, FRAGMENTS_BY_BASIS, canonical_for, header_aliases, header_key, looks_like, quantity_of,
                      quantity_with_basis, split_unit, suffix_unit, unit_basis)
from .schema import CANONICAL, COLUMNS_BY_NAME

#: Separator between the parts of an identifier joined from several columns (default).
JOIN_SEP = "-"
_MAP_KEYS = ("columns", "constants", "ignore")
NOT_IN_MODEL = "not in the input model"


@dataclass
class ColumnReport:
    """What became of each input column (for stderr and the JSON ``meta``)."""

    used: list[str] = field(default_factory=list)
    mapped: dict[str, str] = field(default_factory=dict)  # header -> our column
    ignored: dict[str, str] = field(default_factory=dict)  # header -> why
    constants: dict[str, object] = field(default_factory=dict)  # our column -> value for every row
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        """JSON-ready: ``used``, ``mapped``, ``ignored``, ``constants``, ``warnings``, ``notes``."""
        return {"used": list(self.used), "mapped": dict(self.mapped), "ignored": dict(self.ignored),
                "constants": {k: v for k, v in self.constants.items()}, "warnings": list(self.warnings),
                "notes": list(self.notes)}


@dataclass
class ColumnMap:
    """A parsed ``--columns`` map (see :func:`parse_column_map`)."""

    columns: dict = field(default_factory=dict)  # header -> column or {column, unit}
    joined: dict[str, tuple[list[str], str]] = field(default_factory=dict)  # our column -> (headers, sep)
    constants: dict[str, object] = field(default_factory=dict)  # column (name or with unit suffix) -> value
    ignore: list[str] = field(default_factory=list)


@dataclass
class Resolution:
    """The result of :func:`resolve`: how to build each canonical column, and the report."""

    mapping: dict[str, tuple[str, float]]  # header -> (our column, factor)
    joined: dict[str, tuple[list[str], str]]  # our column -> (headers, separator)
    constants: dict[str, tuple[object, float]]  # our column -> (value, factor)
    report: ColumnReport
    problems: list[Problem]

    def present(self) -> set[str]:
        """Our columns this file gives (from a header, a join or a constant)."""
        return {c for c, _ in self.mapping.values()} | set(self.joined) | set(self.constants)

    def source(self, canonical: str) -> str | None:
        """The user's name of the source of ``canonical``, for messages."""
        for header, (target, _) in self.mapping.items():
            if target == canonical:
                return header
        if canonical in self.joined:
            return "+".join(self.joined[canonical][0])
        if canonical in self.constants:
            return f"{canonical} (constant)"
        return None


def parse_column_map(doc: dict | None, label: str = "--columns") -> ColumnMap:
    """Parse a column map: ``{header: column}`` at the top level or under ``columns:``, with
    optional ``constants:`` and ``ignore:``; a list value joins several headers into one id.

    Examples
    --------
    >>> m = parse_column_map({"plot_id": ["dataset_id", "observation_id"], "Corg": "soc_g_kg",
    ...                       "constants": {"land_use": "cropland"}, "ignore": ["pedon_id"]})
    >>> m.joined, m.columns, m.constants, m.ignore
    ({'plot_id': (['dataset_id', 'observation_id'], '-')}, {'Corg': 'soc_g_kg'}, {'land_use': 'cropland'}, ['pedon_id'])
    """
    doc = dict(doc or {})
    if isinstance(doc.get("columns"), dict):
        entries = dict(doc["columns"])
        extra = set(doc) - set(_MAP_KEYS)
        if extra:
            raise InputError(f"{label}: unknown key(s) {', '.join(sorted(map(str, extra)))}; valid: "
                             f"{', '.join(_MAP_KEYS)}")
    else:
        entries = {k: v for k, v in doc.items()
                   if not (k == "constants" and isinstance(v, dict)) and not (k == "ignore" and isinstance(v, list))}
    constants = doc.get("constants") or {}
    ignore = doc.get("ignore") or []
    if not isinstance(constants, dict) or not isinstance(ignore, list):
        raise InputError(f"{label}: 'constants' must be a mapping and 'ignore' a list of headers")
    cmap = ColumnMap(constants={str(k): v for k, v in constants.items()}, ignore=[str(h) for h in ignore])
    for key, spec in entries.items():
        if isinstance(spec, list) or (isinstance(spec, dict) and isinstance(spec.get("columns"), list)):
            headers = spec if isinstance(spec, list) else spec["columns"]
            sep = JOIN_SEP if isinstance(spec, list) else str(spec.get("sep", JOIN_SEP))
            cmap.joined[str(key)] = ([str(h) for h in headers], sep)
        else:
            cmap.columns[str(key)] = spec
    return cmap


def resolve(columns: list[str], label: str, column_map: dict | ColumnMap | None = None) -> Resolution:
    """Map the file's headers to the input model, account for every column, list the problems.

    Returns a :class:`Resolution`; problems concerning the whole file (an unknown unit, an
    ambiguous duplicate, a bad map entry) are in ``problems``, to be raised together.
    """
    cmap = column_map if isinstance(column_map, ColumnMap) else parse_column_map(column_map)
    headers = [str(c) for c in columns]
    res = Resolution({}, {}, {}, ColumnReport(), [])
    taken: dict[str, str] = {}  # our column -> where it comes from
    _resolve_ignored(headers, cmap, res)
    _resolve_joined(headers, cmap, label, res, taken)
    _resolve_constants(cmap, label, res, taken)
    for col in headers:
        if col in cmap.columns and col not in res.report.ignored:
            _take(col, _mapped(col, cmap.columns[col], label, res.problems), "--columns", res, taken, label)
    for name in cmap.columns:
        if name not in headers:
            res.report.warnings.append(f"--columns maps {name!r}, which is not a column of {label}")
    for col in headers:
        if col in cmap.columns or col in res.report.ignored or col in res.report.mapped:
            continue
        _take(col, _by_name(col, label, res.problems), None, res, taken, label)
    _looks_like_warnings(res, taken)
    return res


def _looks_like_warnings(res: Resolution, taken: dict) -> None:
    """Warn about ignored headers that look like a quantity the file does not otherwise give."""
    for col, why in res.report.ignored.items():
        if why != NOT_IN_MODEL:
            continue
        seems = looks_like(col)
        given = {_quantity(c) for c in taken}
        if seems and not all(_quantity(canonical_for(q)) in given for q in seems):
            res.report.warnings.append(_looks_like_message(col, seems))


def _quantity(canonical: str | None) -> str | None:
    """The quantity of one of our columns (``soc_pct`` and ``soc_g_kg`` are both soc)."""
    if canonical is None:
        return None
    spec = COLUMNS_BY_NAME[canonical]
    return spec.quantity or canonical


def _resolve_ignored(headers: list[str], cmap: ColumnMap, res: Resolution) -> None:
    for col in cmap.ignore:
        if col in headers:
            res.report.ignored[col] = "ignore: in --columns"
        else:
            res.report.warnings.append(f"--columns ignores {col!r}, which is not a column of the file")


def _resolve_joined(headers: list[str], cmap: ColumnMap, label: str, res: Resolution, taken: dict) -> None:
    for target, (parts, sep) in cmap.joined.items():
        canonical = canonical_for(header_key(target))
        if canonical is None or COLUMNS_BY_NAME[canonical].kind not in ("id", "text", "date"):
            res.problems.append(Problem(label, None, target, "column_map",
                                        f"--columns joins columns into {target!r}: only identifier and text "
                                        "columns can be joined (e.g. plot_id)"))
            continue
        missing = [p for p in parts if p not in headers]
        if missing:
            res.problems.append(Problem(label, None, target, "column_map",
                                        f"--columns builds {canonical} from {', '.join(map(repr, missing))}, "
                                        f"not a column of {label}"))
            continue
        res.joined[canonical] = (parts, sep)
        taken[canonical] = "+".join(parts)
        for part in parts:
            res.report.mapped[part] = f"{canonical} (joined)"


def _resolve_constants(cmap: ColumnMap, label: str, res: Resolution, taken: dict) -> None:
    for key, value in cmap.constants.items():
        target = _by_name(key, label, res.problems)
        if target is None:
            if not any(p.column == key for p in res.problems):
                res.problems.append(Problem(label, None, key, "column_map",
                                            f"constant for unknown column {key!r}; valid: {', '.join(COLUMNS_BY_NAME)}"))
            continue
        canonical, factor = target
        spec = COLUMNS_BY_NAME[canonical]
        if spec.kind == "number":
            try:
                number = float(str(value).replace(",", ".")) * factor
            except ValueError:
                res.problems.append(Problem(label, None, key, "column_map", f"constant {value!r} is not a number"))
                continue
            low = -float("inf") if spec.low is None else spec.low
            high = float("inf") if spec.high is None else spec.high
            if not math.isfinite(number):
                res.problems.append(Problem(label, None, key, "not_a_number", f"constant {value!r} is not a finite number"))
                continue
            if not low <= number <= high or (spec.low_open and number == low):
                unit = f" {spec.unit}" if spec.unit else ""
                if spec.high is None:
                    why = f"must be {'above' if spec.low_open else 'at least'} {spec.low:g}{unit}"
                else:
                    why = f"is outside {spec.low:g}–{spec.high:g}{unit}"
                res.problems.append(Problem(label, None, key, "out_of_range", f"constant {value!r} {why}"))
                continue
            value = number
        else:
            value = str(value)
        res.constants[canonical] = (value, 1.0)
        res.report.constants[canonical] = value
        taken[canonical] = f"the constant {canonical}={value}"


def _take(col: str, target: tuple[str, float] | None, how: str | None, res: Resolution, taken: dict,
          label: str) -> None:
    """Record where header ``col`` goes (or why it is ignored)."""
    report = res.report
    if target is None:
        if not any(p.column == col for p in res.problems):  # else its problem says why
            report.ignored[col] = NOT_IN_MODEL
        return
    canonical = target[0]
    if canonical in taken:
        if canonical in res.joined or canonical in res.constants or (how is None and taken[canonical].startswith("--")):
            report.ignored[col] = f"{canonical} comes from {taken[canonical]}"
            report.warnings.append(f"column {col!r} ignored: {canonical} comes from {taken[canonical]}")
            return
        res.problems.append(Problem(label, None, col, "duplicate_column",
                                    f"gives {canonical} again (already from column {taken[canonical]}): ambiguous; "
                                    "rename or drop one, map them with --columns, or ignore one"))
        return
    taken[canonical] = f"--columns entry {col!r}" if how else f"column {col!r}"
    res.mapping[col] = target
    if col == canonical:
        report.used.append(col)
    else:
        report.mapped[col] = canonical


def _looks_like_message(col: str, quantities: list[str]) -> str:
    name, unit = split_unit(col)
    if set(quantities) == {"top", "bottom"}:
        return (f"column {col!r} looks like a depth but is not used: give the top and bottom of each layer in two "
                "columns (e.g. top_cm, bottom_cm), or --set top_cm=0 --set bottom_cm=N for one layer")
    options = " or ".join(quantities)
    example = f"{{{col!r}: {{column: {quantities[0]}, unit: {unit or '...'}}}}}"
    total_carbon = quantities == ["soc"] and header_aliases().get(header_key(name), "").startswith(AMBIGUOUS)
    extra = " (total carbon includes carbonate carbon: it is SOC only in carbonate-free soil)" if total_carbon else ""
    if set(quantities) == set(FRAGMENTS_BY_BASIS.values()):
        example += f", or say the basis in the header: '{name} [Vol.-%]' or '{name} [M.-%]'"
    return f"column {col!r} looks like {options} but is not recognised, so it is ignored{extra}; to use it, map it " \
           f"with --columns, e.g. {example}"


def _mapped(col: str, spec, label: str, problems: list[Problem]) -> tuple[str, float] | None:
    """The target of an explicit map entry ``col: spec``."""
    if isinstance(spec, str):
        target, unit = spec, None
    elif isinstance(spec, dict) and ("column" in spec or "to" in spec):
        target, unit = str(spec.get("column", spec.get("to"))), spec.get("unit")
    else:
        problems.append(Problem(label, None, col, "column_map",
                                "--columns entry must be a column name or {column: ..., unit: ...}"))
        return None
    key = header_key(target)
    if unit is None:
        if key in COLUMNS_BY_NAME:
            return key, 1.0
        found = _by_name(target, label, problems, shown=col)
        if found is None and not any(p.column == col for p in problems):
            problems.append(Problem(label, None, col, "column_map", f"--columns maps it to unknown column {target!r}; "
                                    f"valid: {', '.join(COLUMNS_BY_NAME)}"))
        return found
    basis, unit = unit_basis(str(unit))
    quantity = quantity_of(target) or key
    canonical = canonical_for(quantity)
    if canonical is None:
        problems.append(Problem(label, None, col, "column_map", f"--columns maps it to unknown quantity {target!r}; "
                                f"valid: {', '.join(sorted(CANONICAL))}"))
        return None
    ok = _basis_checked(col, canonical, basis, label, problems)
    return with_unit(col, canonical, unit, label, problems) if ok else None


def _basis_checked(col: str, canonical: str, basis: str | None, label: str, problems: list[Problem]) -> bool:
    """Whether a unit's stated basis (by volume, by mass) fits the column; a problem if it does not.

    Coarse fragments exist by volume and by mass; every other share of the input model is by mass.
    """
    if basis is None:
        return True
    quantity = _quantity(canonical)
    wanted = FRAGMENTS_BY_BASIS[basis]
    fragments = set(FRAGMENTS_BY_BASIS.values())
    if quantity in fragments and quantity != wanted:
        problems.append(Problem(label, None, col, "unit", f"the unit says by {basis} but {canonical} is by "
                                f"{'volume' if basis == 'mass' else 'mass'}: map it to {canonical_for(wanted)}"))
        return False
    if quantity not in fragments and basis == "volume" and COLUMNS_BY_NAME[canonical].unit == "%":
        problems.append(Problem(label, None, col, "unit", f"the unit says by volume but {canonical} is a share by "
                                "mass"))
        return False
    return True


def with_unit(col: str, canonical: str, unit: str, label: str, problems: list[Problem]) -> tuple[str, float] | None:
    """``(canonical, factor)`` for values of ``col`` given in ``unit``; a problem if it does not convert."""
    spec = COLUMNS_BY_NAME[canonical]
    if spec.unit is None:
        return canonical, 1.0
    try:
        return canonical, conversion_factor(unit, pint_unit(spec.unit), context=f"column {col}")
    except UnitError as exc:
        problems.append(Problem(label, None, col, "unit", f"{exc}; expected a unit convertible to {spec.unit}"))
        return None


def _by_name(col: str, label: str, problems: list[Problem], shown: str | None = None) -> tuple[str, float] | None:
    """The column a header names by itself: our name, a unit suffix, or an alias with its unit."""
    shown = shown or col
    key = header_key(col)
    if key in COLUMNS_BY_NAME:
        return key, 1.0
    suffixed = suffix_unit(key)
    if suffixed is not None:
        return with_unit(shown, canonical_for(suffixed[0]), suffixed[1], label, problems)
    name, unit = split_unit(col)
    basis, unit = unit_basis(unit) if unit is not None else (None, None)
    quantity = quantity_with_basis(name, basis)  # "Skelett [Vol.-%]": by volume; "[M.-%]", "(g/kg)": by mass
    canonical = None if quantity is None else canonical_for(quantity)
    if canonical is None:
        return None
    if unit is not None:
        ok = _basis_checked(shown, canonical, basis, label, problems)
        return with_unit(shown, canonical, unit, label, problems) if ok else None
    if COLUMNS_BY_NAME[canonical].unit is None:
        return canonical, 1.0
    problems.append(Problem(
        label, None, shown, "unit",
        f"looks like {quantity.replace('_', ' ')} but gives no unit: "
        f"name it {canonical} or put the unit in the header, e.g. '{col} ({COLUMNS_BY_NAME[canonical].unit})', "
        "or map it with --columns",
    ))
    return None


def pint_unit(unit: str | None) -> str:
    """The input model's unit written for pint."""
    return {"%": "percent", "g/cm3": "g/cm**3"}.get(unit or "", unit or "dimensionless")


def load_column_map(path: str) -> dict:
    """Read a ``--columns`` YAML file (see :func:`parse_column_map` for its shape), with the
    encoding rules and limits of every input (:func:`fourp1000.io.text.read_yaml_file`)."""
    from .text import read_yaml_file

    doc = read_yaml_file(path)
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a mapping of input headers to columns")
    return {str(k): v for k, v in doc.items()}


def with_constants(column_map: dict | None, assignments: dict[str, str]) -> dict | None:
    """The column map with ``--set COLUMN=VALUE`` constants added (they win over the map's)."""
    if not assignments:
        return column_map
    doc = dict(column_map or {})
    target = doc["columns"] if isinstance(doc.get("columns"), dict) else None
    constants = dict(doc.get("constants") or {})
    constants.update(assignments)
    doc["constants"] = constants
    if target is not None:
        doc["columns"] = target
    return doc


__all__ = ["JOIN_SEP", "ColumnReport", "ColumnMap", "Resolution", "parse_column_map", "resolve", "with_unit",
           "pint_unit", "load_column_map", "with_constants"]
