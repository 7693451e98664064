"""From a table as read to the canonical horizon table, with a report of every problem.

:func:`normalise` resolves column names and units (pint), parses numbers, coalesces the
SOC columns into ``soc_g_kg``, and checks each row against the input model
(:mod:`fourp1000.io.schema`). It does not stop at the first problem: every problem is
recorded, one row per problem (``row, plot_id, column, rule, message``), so users can fix
a file in one go (the aqp ``checkHzDepthLogic`` way). Depth logic that concerns a whole
profile (gaps, overlaps, depth reached) is checked where the target depth is known, in
:mod:`fourp1000.stocks.estimate`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import InputError, Problem, UnitError, ValidationError
from .readers import RawTable
from .schema import ALIASES, CANONICAL, COLUMNS_BY_NAME, REQUIRED, SOC_COLUMNS, UNIT_SUFFIXES, VAN_BEMMELEN
from ..units import conversion_factor

PROBLEM_COLUMNS = ["position", "row", "plot_id", "column", "rule", "message", "severity"]
# Rules whose problems are reported but do not reject the row.
WARNING_RULES = ("texture_sum",)
BD_BASES = ("fine_earth", "fine_earth_total_volume", "whole_soil")
_NUMBER_WITH_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")


@dataclass
class HorizonTable:
    """The canonical horizon table and the problems found while building it.

    Attributes
    ----------
    frame : DataFrame
        One row per input record, in input order, canonical columns (see
        :mod:`fourp1000.io.schema`), plus ``source_row`` (row number as the user sees it) and any
        extra columns passed through unchanged.
    problems : DataFrame
        One row per problem: ``position`` (0-based record index), ``row``, ``plot_id``,
        ``column``, ``rule``, ``message``.
    label : str
        File name used in messages.
    raw : DataFrame
        The table as read (for writing rejected rows back in the user's own columns).
    notes : list of str
        Conversions applied (e.g. "soc_pct x 10 -> soc_g_kg"), for the methods statement.
    """

    frame: pd.DataFrame
    problems: pd.DataFrame
    label: str
    raw: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    source_columns: dict[str, str] = field(default_factory=dict)  # canonical -> user's column

    def problem_list(self, problems: pd.DataFrame | None = None) -> list[Problem]:
        """Problems as :class:`~fourp1000.errors.Problem` objects, in row order."""
        frame = self.problems if problems is None else problems
        frame = frame.sort_values("row", kind="stable", na_position="first")
        return [
            Problem(
                file=self.label,
                row=None if pd.isna(r.row) else int(r.row),
                column=None if pd.isna(r.column) else str(r.column),
                rule=str(r.rule),
                message=str(r.message),
                plot_id=None if pd.isna(r.plot_id) else str(r.plot_id),
                severity=str(r.severity),
            )
            for r in frame.itertuples(index=False)
        ]


_HEADER_UNIT = re.compile(r"^\s*(?P<name>.*?)\s*[\(\[](?P<unit>[^\)\]]*)[\)\]]\s*$")


def _key(name: str) -> str:
    return re.sub(r"[\s.\-/]+", "_", name.strip().lower()).strip("_")


def resolve_columns(
    columns: list[str], label: str, column_map: dict | None = None
) -> tuple[dict[str, tuple[str, float]], list[Problem]]:
    """Map the user's column names to canonical columns and unit conversion factors.

    In order: an entry of ``column_map`` (``{header: canonical}`` or ``{header: {column:
    quantity or canonical, unit: ...}}``); a canonical name (case-insensitive); a quantity
    with a unit suffix (``bulk_density_kg_m3``); a header with its unit in brackets
    (``SOC (%)``, ``BD [Mg m-3]``), the name matched against :data:`~fourp1000.io.schema.ALIASES`.
    A known quantity whose unit is not given is an error: units are never guessed. Other
    columns pass through unchanged. Returns ``{user_column: (canonical, factor)}``.
    """
    mapping: dict[str, tuple[str, float]] = {}
    problems: list[Problem] = []
    taken: dict[str, str] = {}
    column_map = column_map or {}
    for col in columns:
        col = str(col)
        if col in column_map:
            target = _mapped(col, column_map[col], label, problems)
        else:
            target = _by_name(col, label, problems)
        if target is None:
            continue
        canonical = target[0]
        if canonical in taken:
            problems.append(
                Problem(label, None, col, "duplicate_column",
                        f"gives {canonical} again (already from column {taken[canonical]}): ambiguous; "
                        "rename or drop one, or map them with --columns")
            )
            continue
        taken[canonical] = col
        mapping[col] = target
    return mapping, problems


def _mapped(col: str, spec, label: str, problems: list[Problem]) -> tuple[str, float] | None:
    if isinstance(spec, str):
        target, unit = spec, None
    elif isinstance(spec, dict) and ("column" in spec or "to" in spec):
        target, unit = str(spec.get("column", spec.get("to"))), spec.get("unit")
    else:
        problems.append(Problem(label, None, col, "column_map",
                                "--columns entry must be a column name or {column: ..., unit: ...}"))
        return None
    key = _key(target)
    if unit is None:
        if key in COLUMNS_BY_NAME:
            return key, 1.0
        found = _by_name(target, label, problems, shown=col)
        if found is None and not any(p.column == col for p in problems):
            problems.append(Problem(label, None, col, "column_map", f"--columns maps it to unknown column {target!r}; "
                                    f"valid: {', '.join(COLUMNS_BY_NAME)}"))
        return found
    quantity = ALIASES.get(key, key)
    canonical = COLUMNS_BY_NAME[key].name if key in COLUMNS_BY_NAME else CANONICAL.get(quantity) or (
        quantity if quantity in COLUMNS_BY_NAME else None)
    if canonical is None:
        problems.append(Problem(label, None, col, "column_map", f"--columns maps it to unknown quantity {target!r}; "
                                f"valid: {', '.join(sorted(CANONICAL))}"))
        return None
    return _with_unit(col, canonical, str(unit), label, problems)


def _with_unit(col: str, canonical: str, unit: str, label: str, problems: list[Problem]) -> tuple[str, float] | None:
    spec = COLUMNS_BY_NAME[canonical]
    if spec.unit is None:
        return canonical, 1.0
    try:
        return canonical, conversion_factor(unit, _pint_unit(spec.unit), context=f"column {col}")
    except UnitError as exc:
        problems.append(Problem(label, None, col, "unit", f"{exc}; expected a unit convertible to {spec.unit}"))
        return None


def _by_name(col: str, label: str, problems: list[Problem], shown: str | None = None) -> tuple[str, float] | None:
    shown = shown or col
    key = _key(col)
    if key in COLUMNS_BY_NAME:
        return key, 1.0
    suffixed = _quantity_with_unit(key, shown, label, problems)
    if suffixed is not None or any(p.column == shown for p in problems):
        return suffixed
    match = _HEADER_UNIT.match(col)
    if match:
        name, unit = _key(match.group("name")), match.group("unit").strip()
        quantity = ALIASES.get(name, name)
        canonical = quantity if quantity in COLUMNS_BY_NAME else CANONICAL.get(quantity)
        if canonical is None:
            return None  # e.g. "pH (H2O)": not ours, passes through
        return _with_unit(shown, canonical, unit, label, problems)
    alias = ALIASES.get(key)
    if alias is None:
        return None
    if alias in COLUMNS_BY_NAME and COLUMNS_BY_NAME[alias].unit is None:
        return alias, 1.0
    canonical = CANONICAL.get(alias, alias)
    problems.append(Problem(
        label, None, shown, "unit",
        f"looks like {alias.replace('_', ' ')} but gives no unit: "
        f"name it {canonical} or put the unit in the header, e.g. '{col} ({COLUMNS_BY_NAME[canonical].unit})', "
        "or map it with --columns",
    ))
    return None


def _quantity_with_unit(key: str, col: str, label: str, problems: list[Problem]) -> tuple[str, float] | None:
    for suffix in sorted(UNIT_SUFFIXES, key=len, reverse=True):
        if not key.endswith("_" + suffix):
            continue
        quantity = key[: -len(suffix) - 1]
        canonical = CANONICAL.get(ALIASES.get(quantity, quantity))
        if canonical is None:
            return None
        target_unit = COLUMNS_BY_NAME[canonical].unit
        try:
            factor = conversion_factor(UNIT_SUFFIXES[suffix], _pint_unit(target_unit), context=f"column {col}")
        except UnitError as exc:
            problems.append(Problem(label, None, col, "unit", f"{exc}; expected a unit convertible to {target_unit}"))
            return None
        return canonical, factor
    return None


def _pint_unit(unit: str | None) -> str:
    return {"%": "percent", "g/cm3": "g/cm**3"}.get(unit or "", unit or "dimensionless")


def normalise(
    raw: RawTable, *, som_factor: float = VAN_BEMMELEN, bd_basis: str = "fine_earth", column_map: dict | None = None
) -> HorizonTable:
    """Build the canonical horizon table from ``raw`` and report every problem found.

    Parameters
    ----------
    raw : RawTable
        The table as read by :func:`fourp1000.io.readers.read_table`.
    som_factor : float, default 1.724
        SOM / SOC ratio used when SOC is given only as ``som_pct`` (van Bemmelen factor;
        Pribyl 2010 argues for 2.0).
    bd_basis : str, default "fine_earth"
        Default definition of ``bulk_density_g_cm3`` where a row has no ``bd_basis``.
    column_map : dict, optional
        ``{header: column}`` or ``{header: {column: ..., unit: ...}}`` (see
        :func:`resolve_columns` and :func:`load_column_map`).

    Raises
    ------
    ValidationError
        Only for problems that concern the whole file (missing required columns, unknown
        units): then nothing can be scored. Row problems are returned in ``problems``.
    """
    if som_factor <= 0:
        raise InputError(f"--som-factor must be positive, got {som_factor}")
    if bd_basis not in BD_BASES:
        raise InputError(f"unknown bulk density basis {bd_basis!r}; valid: {', '.join(BD_BASES)}")
    mapping = _file_columns(raw, column_map)
    problems: list[pd.DataFrame] = []
    notes: list[str] = []
    frame, source_columns = _canonical_frame(raw, mapping, problems, notes)
    plot_id = frame["plot_id"]
    missing_id = plot_id.isna().to_numpy()
    if missing_id.any():
        problems.append(_problems(missing_id, raw, "plot_id", "missing_value", "plot_id is empty", plot_id))
    _coalesce_soc(frame, raw, source_columns, som_factor, problems, notes)
    for name in ("bulk_density_g_cm3", "coarse_fragments_pct", "clay_pct", "silt_pct", "sand_pct", "area_ha"):
        if name not in frame:
            frame[name] = np.nan
    problems.extend(_range_problems(frame, raw, mapping, source_columns))
    problems.extend(_depth_row_problems(frame, raw, source_columns, plot_id))
    problems.extend(_texture_problems(frame, raw, plot_id))
    problems.extend(_conflicting_plot_attributes(frame, raw, source_columns, plot_id))
    _bd_basis(frame, raw, source_columns, bd_basis, problems)
    problem_frame = (
        pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    return HorizonTable(frame, problem_frame, raw.label, raw.frame, sorted(set(notes)), source_columns)


def _file_columns(raw: RawTable, column_map: dict | None) -> dict[str, tuple[str, float]]:
    """The column mapping; problems of the whole file (missing columns, units) raise, all at once."""
    label, src = raw.label, raw.frame
    mapping, file_problems = resolve_columns(list(src.columns), label, column_map)
    present = {canonical for canonical, _ in mapping.values()}
    for name in REQUIRED:
        if name not in present:
            file_problems.append(Problem(label, None, name, "missing_column", f"required column {name} is missing"))
    if not present.intersection(SOC_COLUMNS):
        file_problems.append(
            Problem(label, None, "soc_g_kg", "missing_column", "no SOC column: give soc_g_kg, soc_pct or som_pct")
        )
    if file_problems:
        found = ", ".join(map(str, src.columns[:12])) + (" ..." if len(src.columns) > 12 else "")
        file_problems[-1].message += f" (columns found: {found})"
        raise ValidationError(file_problems)
    return mapping


def _canonical_frame(raw: RawTable, mapping: dict[str, tuple[str, float]], problems: list, notes: list[str]
                     ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Canonical columns, numbers parsed and converted, other columns passed through; and
    the user's column of each canonical one."""
    src = raw.frame
    frame = pd.DataFrame(index=pd.RangeIndex(len(src)))
    source_columns: dict[str, str] = {}
    # Pass-through columns first, so canonical ones are not shadowed.
    for col in src.columns:
        if col not in mapping:
            frame["source_row_input" if col == "source_row" else col] = src[col].reset_index(drop=True)
    plot_id = _id_column(src, mapping, "plot_id")
    frame["plot_id"] = plot_id
    for user_col, (canonical, factor) in mapping.items():
        spec = COLUMNS_BY_NAME[canonical]
        source_columns[canonical] = user_col
        if spec.kind == "number":
            values, bad = _to_number(src[user_col])
            if bad.any():
                problems.append(_not_a_number(src[user_col], bad, raw, user_col, plot_id, raw.label))
            if factor != 1.0:
                values = values * factor
                notes.append(f"{user_col} converted to {canonical} (x {factor:g})")
            frame[canonical] = values
        elif canonical != "plot_id":
            frame[canonical] = src[user_col].reset_index(drop=True)
    frame["source_row"] = raw.rows
    return frame, source_columns


def _coalesce_soc(frame: pd.DataFrame, raw: RawTable, source_columns: dict[str, str], som_factor: float,
                  problems: list, notes: list[str]) -> None:
    """SOC in one column, ``soc_g_kg``, from whichever SOC column a row has (in this order);
    ``soc_from`` names it. Two SOC columns that disagree on a row are a problem."""
    n = len(frame)
    soc = np.full(n, np.nan)
    soc_from = np.full(n, "", dtype=object)
    for canonical, factor, note in (
        ("soc_g_kg", 1.0, None),
        ("soc_pct", 10.0, "soc_pct x 10 -> soc_g_kg"),
        ("som_pct", 10.0 / som_factor, f"som_pct x 10 / {som_factor:g} (SOM/SOC factor) -> soc_g_kg"),
    ):
        if canonical not in frame:
            continue
        values = frame[canonical].to_numpy(dtype=float)
        converted = values * factor
        with np.errstate(invalid="ignore"):
            # SOM is its own measurement; only two SOC columns must agree.
            clash = ~np.isnan(soc) & ~np.isnan(values) & (np.abs(converted - soc) > 0.01 * np.maximum(soc, 1e-9))
            clash &= canonical != "som_pct"
        if clash.any():
            msgs = [f"{v:g} ({c:g} g/kg) disagrees with {f} ({s:g} g/kg) on the same row"
                    for v, c, s, f in zip(values[clash], converted[clash], soc[clash], soc_from[clash])]
            problems.append(_problems(clash, raw, source_columns[canonical], "conflict", msgs, frame["plot_id"]))
        fill = np.isnan(soc) & ~np.isnan(values)
        if fill.any():
            soc[fill] = values[fill] * factor
            soc_from[fill] = canonical
            if note:
                notes.append(note)
    frame["soc_g_kg"] = soc
    frame["soc_from"] = soc_from


def _range_problems(frame: pd.DataFrame, raw: RawTable, mapping: dict[str, tuple[str, float]],
                    source_columns: dict[str, str]) -> list[pd.DataFrame]:
    """Values outside their physical range (checked on the values as given, so the message
    quotes the user's number)."""
    out = []
    for canonical, spec in COLUMNS_BY_NAME.items():
        if spec.kind != "number" or canonical not in source_columns or (spec.low is None and spec.high is None):
            continue
        values = frame[canonical].to_numpy(dtype=float)
        low = -np.inf if spec.low is None else spec.low
        high = np.inf if spec.high is None else spec.high
        with np.errstate(invalid="ignore"):
            bad = (values <= low) if spec.low_open else (values < low)
            bad |= values > high
        if canonical in ("top_cm", "bottom_cm"):
            bad &= values >= 0  # negative depths get their own, clearer message
        if bad.any():
            user_col = source_columns[canonical]
            factor = mapping[user_col][1]
            shown = values[bad] / factor
            unit = spec.unit or ""
            rng = f"{_g(spec.low)}–{_g(spec.high)} {unit}".strip()
            if factor != 1.0:
                msgs = [f"value {v:g} ({v * factor:g} {unit}) is outside {rng}" for v in shown]
            else:
                msgs = [f"value {v:g} is outside {rng}" for v in shown]
            out.append(_problems(bad, raw, user_col, "out_of_range", msgs, frame["plot_id"]))
    return out


def _bd_basis(frame: pd.DataFrame, raw: RawTable, source_columns: dict[str, str], default: str,
              problems: list) -> None:
    """Bulk-density basis per row (``default`` where not given); unknown bases are problems."""
    if "bd_basis" not in frame:
        frame["bd_basis"] = default
        return
    basis = frame["bd_basis"].astype("string").str.strip().fillna(default)
    bad = ~basis.isin(BD_BASES).to_numpy()
    if bad.any():
        msgs = [f"unknown basis {v!r}; valid: {', '.join(BD_BASES)}" for v in basis[bad]]
        problems.append(_problems(bad, raw, source_columns.get("bd_basis", "bd_basis"), "unknown_value", msgs,
                                  frame["plot_id"]))
    frame["bd_basis"] = basis.where(~pd.Series(bad), default).to_numpy()


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _id_column(src: pd.DataFrame, mapping: dict, canonical: str) -> pd.Series:
    user_col = next(c for c, (k, _) in mapping.items() if k == canonical)
    values = src[user_col].astype("string").str.strip()
    values = values.mask(values == "")
    return values.reset_index(drop=True)


def _to_number(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Values as float, and a mask of cells that held something that is not a number."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.to_numpy(dtype=float, na_value=np.nan), np.zeros(len(series), dtype=bool)
    text = series.astype("string").str.strip()
    values = pd.to_numeric(text, errors="coerce")
    bad = (text.notna() & (text != "") & values.isna()).to_numpy()
    return values.to_numpy(dtype=float, na_value=np.nan), bad


def _not_a_number(series, bad, raw, user_col, plot_id, label) -> pd.DataFrame:
    shown = series[bad].astype("string")
    comma = raw.dialect.get("decimal", ".") == "." and shown.str.match(_NUMBER_WITH_COMMA).fillna(False).any()
    hint = " (decimal comma? try --decimal ,)" if comma else ""
    msgs = [f"{v!r} is not a number{hint}" for v in shown]
    return _problems(bad, raw, user_col, "not_a_number", msgs, plot_id)


def _problems(mask: np.ndarray, raw: RawTable, column: str, rule: str, message, plot_id: pd.Series) -> pd.DataFrame:
    positions = np.flatnonzero(mask)
    return pd.DataFrame(
        {
            "position": positions,
            "row": raw.rows[positions],
            "plot_id": plot_id.iloc[positions].to_numpy(),
            "column": column,
            "rule": rule,
            "message": message,
            "severity": "warning" if rule in WARNING_RULES else "error",
        }
    )


def _depth_row_problems(frame: pd.DataFrame, raw: RawTable, cols: dict[str, str], plot_id: pd.Series) -> list:
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    out = []
    top_col, bottom_col = cols["top_cm"], cols["bottom_cm"]
    for values, col, name in ((top, top_col, "top_cm"), (bottom, bottom_col, "bottom_cm")):
        missing = np.isnan(values)
        if missing.any():
            out.append(_problems(missing, raw, col, "missing_value", f"{name} is empty", plot_id))
    with np.errstate(invalid="ignore"):
        negative = (top < 0) | (bottom < 0)
        order = ~negative & (top >= bottom)
    if negative.any():
        msgs = [
            f"layer {t:g} to {b:g} cm lies above the mineral surface (negative depth); organic layers above 0 cm are not supported"
            for t, b in zip(top[negative], bottom[negative])
        ]
        out.append(_problems(negative, raw, top_col, "above_surface", msgs, plot_id))
    if order.any():
        msgs = [f"top_cm ({t:g}) must be less than bottom_cm ({b:g})" for t, b in zip(top[order], bottom[order])]
        out.append(_problems(order, raw, top_col, "depth_order", msgs, plot_id))
    return out


def _texture_problems(frame: pd.DataFrame, raw: RawTable, plot_id: pd.Series) -> list:
    parts = [frame[c].to_numpy(dtype=float) for c in ("sand_pct", "silt_pct", "clay_pct")]
    if any(np.isnan(p).all() for p in parts):  # texture incomplete everywhere: nothing to check
        return []
    total = parts[0] + parts[1] + parts[2]
    with np.errstate(invalid="ignore"):
        bad = np.abs(total - 100.0) > 5.0  # NaN totals compare False
    if not bad.any():
        return []
    msgs = [f"sand + silt + clay = {t:g} %, more than 5 points from 100 %" for t in total[bad]]
    return [_problems(bad, raw, "clay_pct", "texture_sum", msgs, plot_id)]


PLOT_LEVEL_ATTRIBUTES = ("farm_id", "area_ha", "climate_zone", "soil_class", "land_use", "tillage", "input_level",
                         "practices")


def record_codes(frame: pd.DataFrame) -> np.ndarray:
    """Integer code per row for its plot and sampling date (-1 where plot_id is missing)."""
    codes, _ = pd.factorize(frame["plot_id"], use_na_sentinel=True)
    if "sampled_on" in frame:
        when, _ = pd.factorize(frame["sampled_on"], use_na_sentinel=False)
        pair = codes.astype(np.int64) * (int(when.max()) + 1 if when.size else 1) + when
        codes = np.where(codes < 0, -1, pd.factorize(pair)[0])
    return codes


def _conflicting_plot_attributes(frame: pd.DataFrame, raw: RawTable, cols: dict[str, str], plot_id: pd.Series) -> list:
    """Plot attributes may repeat on each layer row, but must then agree (per plot and sampling date)."""
    out = []
    present = [name for name in PLOT_LEVEL_ATTRIBUTES if name in cols]
    if not present:
        return out
    codes = record_codes(frame)
    for name in present:
        values = frame[name]
        if values.notna().sum() <= 1:
            continue
        first = values.groupby(codes, sort=False).transform("first")
        first.index = values.index
        differs = (values.notna() & first.notna() & (values != first)).to_numpy() & (codes >= 0)
        if differs.any():
            msgs = [f"{name} {v} differs from {f} on the plot's first row" for v, f in zip(values[differs], first[differs])]
            out.append(_problems(differs, raw, cols[name], "conflict", msgs, plot_id))
    return out


def load_column_map(path: str) -> dict:
    """Read a ``--columns`` YAML file: ``{header: column}`` or ``{header: {column, unit}}``.

    The mapping may sit at the top level or under a ``columns:`` key (as in a config file).
    """
    import yaml

    try:
        with open(path, "rb") as fh:
            doc = yaml.safe_load(fh)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from exc
    except yaml.YAMLError as exc:
        raise InputError(f"{path}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    if isinstance(doc, dict) and isinstance(doc.get("columns"), dict):
        doc = doc["columns"]
    if not isinstance(doc, dict):
        raise InputError(f"{path}: expected a mapping of input headers to columns")
    return {str(k): v for k, v in doc.items()}
