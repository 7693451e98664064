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

from ..errors import InputError, Problem, ValidationError
from .columns import ColumnReport, Resolution, load_column_map, resolve
from .numbers import parse_numbers
from .readers import RawTable
from .schema import COLUMNS_BY_NAME, REQUIRED, SOC_COLUMNS, VAN_BEMMELEN

PROBLEM_COLUMNS = ["position", "row", "plot_id", "column", "rule", "message", "severity"]
# Rules whose problems are reported but do not reject the row.
WARNING_RULES = ("texture_sum", "organic_layer")
BD_BASES = ("fine_earth", "fine_earth_total_volume", "whole_soil")
_NUMBER_WITH_COMMA = re.compile(r"^\s*-?\d+,\d+\s*$")
_NUMBER_WITH_POINT = re.compile(r"^\s*-?\d+\.\d+\s*$")
#: Hints appended to "is not a number" messages; a leading summary line groups problems by them.
DECIMAL_COMMA_HINT = "decimal comma? use --decimal ,"
DECIMAL_POINT_HINT = "decimal point? use --decimal ."


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
    source_columns : dict
        The user's column (or join, or constant) behind each canonical column.
    columns : ColumnReport
        Every input column used, mapped or ignored (with why), constants, and warnings
        about headers (see :mod:`fourp1000.io.columns`).
    """

    frame: pd.DataFrame
    problems: pd.DataFrame
    label: str
    raw: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    source_columns: dict[str, str] = field(default_factory=dict)  # canonical -> user's column
    columns: ColumnReport = field(default_factory=ColumnReport)

    def plot_codes(self) -> np.ndarray:
        """Integer code per row of ``frame`` for its ``plot_id`` (:func:`factorize_runs`:
        order of first appearance, a missing id a group of its own); computed once."""
        cached = self.__dict__.get("_plot_codes")
        if cached is None or cached[0] is not self.frame or len(cached[1]) != len(self.frame):
            cached = (self.frame, factorize_runs(self.frame["plot_id"]))
            self.__dict__["_plot_codes"] = cached
        return cached[1]

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


def resolve_columns(
    columns: list[str], label: str, column_map: dict | None = None
) -> tuple[dict[str, tuple[str, float]], list[Problem]]:
    """Map the user's column names to canonical columns and unit conversion factors.

    ``{user_column: (canonical, factor)}`` and the problems; see
    :func:`fourp1000.io.columns.resolve` for the rules (column map, names, unit suffixes,
    aliases with their unit) and for joined identifiers and constants.
    """
    res = resolve(columns, label, column_map)
    return res.mapping, res.problems


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
    res = _file_columns(raw, column_map)
    mapping = res.mapping
    problems: list[pd.DataFrame] = []
    notes: list[str] = []
    frame, source_columns = _canonical_frame(raw, res, problems, notes)
    plot_id = frame["plot_id"]
    missing_id = plot_id.isna().to_numpy()
    if missing_id.any():
        problems.append(_problems(missing_id, raw, "plot_id", "missing_value", "plot_id is empty", plot_id))
    _coalesce_soc(frame, raw, source_columns, som_factor, problems, notes)
    _fine_earth(frame, raw, source_columns, problems, notes)
    for name in ("bulk_density_g_cm3", "coarse_fragments_pct", "clay_pct", "silt_pct", "sand_pct", "area_ha"):
        if name not in frame:
            frame[name] = np.nan
    problems.extend(_range_problems(frame, raw, mapping, source_columns))
    plot_codes = factorize_runs(plot_id)  # the one factorisation of plot_id, kept on the table
    problems.extend(_depth_row_problems(frame, raw, source_columns, plot_id, _flagged(problems), plot_codes))
    problems.extend(date_problems(frame, raw, source_columns, plot_id))
    problems.extend(_texture_problems(frame, raw, plot_id))
    problems.extend(_conflicting_plot_attributes(frame, raw, source_columns, plot_id, plot_codes))
    _bd_basis(frame, raw, source_columns, bd_basis, problems)
    problem_frame = (
        pd.concat(problems, ignore_index=True) if problems else pd.DataFrame(columns=PROBLEM_COLUMNS)
    )
    report = res.report
    if raw.dialect.get("encoding_note"):
        report.notes.append(f"{raw.label} {raw.dialect['encoding_note']}")
    blank = raw.dialect.get("blank_rows", 0)
    if blank:
        report.notes.append(f"{blank} blank row{'s' if blank != 1 else ''} skipped")
    table = HorizonTable(frame, problem_frame, raw.label, raw.frame, sorted(set(notes)), source_columns, report)
    table.__dict__["_plot_codes"] = (frame, plot_codes)
    return table


def _file_columns(raw: RawTable, column_map: dict | None) -> Resolution:
    """The column resolution; problems of the whole file (missing columns, units) raise, all at once."""
    label, src = raw.label, raw.frame
    res = resolve(list(src.columns), label, column_map)
    file_problems = res.problems
    present = res.present()
    for name in REQUIRED:
        if name not in present:
            file_problems.append(Problem(label, None, name, "missing_column", f"required column {name} is missing"))
    if not present.intersection(SOC_COLUMNS):
        file_problems.append(
            Problem(label, None, "soc_g_kg", "missing_column", "no SOC column: give soc_g_kg, soc_pct or som_pct")
        )
    if file_problems:
        found = ", ".join(map(str, src.columns[:12])) + (" ..." if len(src.columns) > 12 else "")
        file_problems[-1].message += f" (columns found: {found})" + sheets_hint(raw, column_map)
        raise ValidationError(file_problems)
    return res


def sheets_hint(raw: RawTable, column_map: dict | None = None) -> str:
    """For a workbook whose sheet lacks required columns: which other sheets have them."""
    others = raw.dialect.get("other_sheets") or {}
    good = []
    for name, headers in others.items():
        present = resolve(list(headers), raw.label, column_map).present()
        if all(c in present for c in REQUIRED) and present.intersection(SOC_COLUMNS):
            good.append(name)
    if not good:
        return ""
    return f"; sheet {', '.join(repr(g) for g in good)} {'has' if len(good) == 1 else 'have'} them: use --sheet {good[0]!r}"


def _canonical_frame(raw: RawTable, res: Resolution, problems: list, notes: list[str]
                     ) -> tuple[pd.DataFrame, dict[str, str]]:
    """Canonical columns, numbers parsed and converted, other columns passed through; and
    the user's column of each canonical one."""
    src, mapping = raw.frame, res.mapping
    columns: dict[str, object] = {}  # one DataFrame made at the end: no copy per column
    source_columns: dict[str, str] = {}
    # Pass-through columns first, so canonical ones are not shadowed.
    for col in src.columns:
        if col not in mapping:
            columns["source_row_input" if col == "source_row" else col] = src[col].reset_index(drop=True)
    plot_id = _id_column(src, res, "plot_id")
    columns["plot_id"] = plot_id
    for user_col, (canonical, factor) in mapping.items():
        spec = COLUMNS_BY_NAME[canonical]
        source_columns[canonical] = user_col
        if spec.kind == "number":
            values = _number_column(raw, user_col, plot_id, problems, res.report)
            if factor != 1.0:
                values = values * factor
                notes.append(f"{user_col} converted to {canonical} (x {factor:g})")
            columns[canonical] = values
        elif canonical != "plot_id":
            columns[canonical] = src[user_col].reset_index(drop=True)
    for canonical in res.joined:
        source_columns[canonical] = res.source(canonical)
        if canonical != "plot_id":
            columns[canonical] = _id_column(src, res, canonical)
    for canonical, (value, _) in res.constants.items():
        source_columns[canonical] = res.source(canonical)
        columns[canonical] = value if COLUMNS_BY_NAME[canonical].kind == "number" else pd.Series(
            [value] * len(src), dtype="string")
        notes.append(f"{canonical} = {value} for every row (constant)")
    columns["source_row"] = raw.rows
    return pd.DataFrame(columns, index=pd.RangeIndex(len(src)), copy=False), source_columns


def _number_column(raw: RawTable, user_col: str, plot_id: pd.Series, problems: list, report: ColumnReport
                   ) -> np.ndarray:
    """A column as numbers, its decimal mark judged on the whole column unless given."""
    dialect = raw.dialect
    given = dialect.get("decimal") if dialect.get("decimal_given") else None
    parsed = parse_numbers(raw.frame[user_col].reset_index(drop=True), decimal=given,
                           thousands=dialect.get("thousands"), prefer=dialect.get("decimal") or ".")
    if parsed.bad.any():
        problems.append(_not_a_number(raw.frame[user_col].reset_index(drop=True), parsed.bad, raw, user_col, plot_id,
                                      raw.label))
    low, high = extremes(parsed.values)
    if low == -np.inf or high == np.inf:  # "inf", or a number too large for a float (1e999): never a measurement
        infinite = np.isinf(parsed.values)
        shown = raw.frame[user_col].reset_index(drop=True)[infinite].astype("string")
        problems.append(_problems(infinite, raw, user_col, "not_a_number",
                                  [f"{v!r} is not a finite number (infinite, or too large)" for v in shown],
                                  plot_id))
        parsed = type(parsed)(np.where(infinite, np.nan, parsed.values), parsed.bad | infinite, parsed.decimal,
                              parsed.thousands, parsed.ambiguous)
    if given is None and parsed.decimal is not None and parsed.decimal != (dialect.get("decimal") or "."):
        report.notes.append(f"column {user_col!r} read with decimal mark {parsed.decimal!r} (judged on the whole "
                            "column; --decimal sets it)")
    if parsed.thousands is not None and dialect.get("thousands") is None:
        report.notes.append(f"column {user_col!r} read with thousands separator {parsed.thousands!r}")
    if parsed.ambiguous is not None:
        report.warnings.append(f"column {user_col!r}: {parsed.ambiguous!r} could be read with a decimal mark or a "
                               f"thousands separator; read with decimal mark {parsed.decimal!r} (set --decimal and "
                               "--thousands to say otherwise)")
    return parsed.values


def _fine_earth(frame: pd.DataFrame, raw: RawTable, source_columns: dict[str, str], problems: list,
                notes: list[str]) -> None:
    """Coarse fragments by mass from the fine-earth share: 100 - fine_earth_pct (where not given)."""
    if "fine_earth_pct" not in frame:
        return
    derived = 100.0 - frame["fine_earth_pct"].to_numpy(dtype=float)
    if "coarse_fragments_mass_pct" not in frame:
        set_column(frame, "coarse_fragments_mass_pct", derived)
    else:
        given = frame["coarse_fragments_mass_pct"].to_numpy(dtype=float)
        with np.errstate(invalid="ignore"):
            clash = np.abs(given - derived) > 1.0  # NaN compares False
        if clash.any():
            msgs = [f"coarse fragments {g:g} % + fine earth {100 - d:g} % is not 100 % of the soil mass"
                    for g, d in zip(given[clash], derived[clash])]
            problems.append(_problems(clash, raw, source_columns["fine_earth_pct"], "conflict", msgs,
                                      frame["plot_id"]))
        set_column(frame, "coarse_fragments_mass_pct", np.where(np.isnan(given), derived, given))
    notes.append(f"coarse_fragments_mass_pct = 100 - fine_earth_pct (from {source_columns['fine_earth_pct']})")


def _coalesce_soc(frame: pd.DataFrame, raw: RawTable, source_columns: dict[str, str], som_factor: float,
                  problems: list, notes: list[str]) -> None:
    """SOC in one column, ``soc_g_kg``, from whichever SOC column a row has (in this order);
    ``soc_from`` names it. Two SOC columns that disagree on a row are a problem."""
    n = len(frame)
    soc = None
    sources = ["", "soc_g_kg", "soc_pct", "som_pct"]
    soc_from = np.zeros(n, dtype=np.int8)  # index into sources
    for canonical, factor, note in (
        ("soc_g_kg", 1.0, None),
        ("soc_pct", 10.0, "soc_pct x 10 -> soc_g_kg"),
        ("som_pct", 10.0 / som_factor, f"som_pct x 10 / {som_factor:g} (SOM/SOC factor) -> soc_g_kg"),
    ):
        if canonical not in frame:
            continue
        values = frame[canonical].to_numpy(dtype=float)
        with np.errstate(over="ignore"):  # 1e308 % -> inf g/kg: out of range all the same
            converted = values * factor
        if soc is None:  # the first SOC column fills every row it has a value on: nothing to compare yet
            missing = np.isnan(values)
            soc = np.where(missing, np.nan, converted) if missing.any() else converted
            soc_from = np.where(missing, np.int8(0), np.int8(sources.index(canonical)))
            if note and not missing.all():
                notes.append(note)
            continue
        # SOM is its own measurement; only two SOC columns must agree (none filled yet: nothing to compare).
        clash = np.zeros(n, dtype=bool)
        if canonical != "som_pct" and soc_from.any():
            with np.errstate(invalid="ignore", over="ignore"):
                clash = ~np.isnan(soc) & ~np.isnan(values) & (np.abs(converted - soc) > 0.01 * np.maximum(soc, 1e-9))
        if clash.any():
            msgs = [f"{v:g} ({c:g} g/kg) disagrees with {sources[f]} ({s:g} g/kg) on the same row"
                    for v, c, s, f in zip(values[clash], converted[clash], soc[clash], soc_from[clash])]
            problems.append(_problems(clash, raw, source_columns[canonical], "conflict", msgs, frame["plot_id"]))
        fill = np.isnan(soc) & ~np.isnan(values)
        if fill.any():
            soc[fill] = converted[fill]
            soc_from[fill] = sources.index(canonical)
            if note:
                notes.append(note)
    set_column(frame, "soc_g_kg", np.full(n, np.nan) if soc is None else soc)
    frame["soc_from"] = text_column(soc_from, sources)


def set_column(frame: pd.DataFrame, name: str, values: np.ndarray) -> None:
    """``frame[name] = values`` for an array just made: pandas copies an array set as a
    column, but takes a Series on the frame's own index as it is.

    >>> frame = pd.DataFrame({"a": [1.0, 2.0]})
    >>> set_column(frame, "b", np.array([3.0, 4.0])); frame["b"].tolist()
    [3.0, 4.0]
    """
    frame[name] = pd.Series(values, index=frame.index, copy=False)


def text_column(codes: np.ndarray, labels: list[str]):
    """``labels[codes]`` as the text column pandas would make of it (Arrow-backed strings
    under pandas' string inference), built from the codes without a Python string per row.

    >>> list(text_column(np.array([1, 0, 1]), ["", "x"]))
    ['x', '', 'x']
    """
    dtype = _inferred_text_dtype()
    if len(codes) and isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow":
        import pyarrow as pa
        import pyarrow.compute as pc

        if bool((codes == codes[0]).all()):  # one label on every row (usual): repeated, no take
            return dtype.__from_arrow__(_repeated_text(labels[int(codes[0])], len(codes)))
        return dtype.__from_arrow__(pc.take(pa.array(labels, pa.large_string()), pa.array(codes)))
    return np.asarray(labels, dtype=object)[codes]


def _repeated_text(label: str, n: int, block: int = 1 << 16):
    """``label`` ``n`` times as Arrow text, in chunks of ``block`` rows that share one
    chunk's buffers: a constant column of a million rows takes about 1 MB, not 18."""
    import pyarrow as pa

    one = pa.repeat(pa.scalar(label, pa.large_string()), min(n, block))
    chunks = [one] * (n // block) + ([one.slice(0, n % block)] if n % block else [])
    return pa.chunked_array(chunks, type=pa.large_string())


def text_values(values: pd.Series):
    """``values.to_numpy()`` of a text column, as the column pandas would make of it (see
    :func:`text_column`): Arrow-backed text stays in Arrow, no Python string per row."""
    dtype = _inferred_text_dtype()
    arrow_text = isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"
    if arrow_text and isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow" and values.notna().any():
        return values.astype(dtype).array
    return values.to_numpy()


def is_in(values: pd.Series, candidates) -> np.ndarray:
    """``values.isin(candidates).to_numpy()``; for Arrow-backed text, Arrow compares.

    pandas turns every candidate into an Arrow scalar in Python (about 1 s per million
    candidates), which a test of a plot column against the ids of many plots cannot afford.
    As in pandas, only text candidates (and a missing one, matching missing values) count.

    >>> is_in(pd.Series(["a", "b", None], dtype="string"), pd.Series(["b", None], dtype="string")).tolist()
    [False, True, True]
    """
    arrow = getattr(values.array, "__arrow_array__", None)
    if arrow is None or not isinstance(values.dtype, pd.StringDtype):
        return values.isin(candidates).to_numpy(dtype=bool)
    import pyarrow as pa
    import pyarrow.compute as pc

    data = arrow()
    try:
        items = list(candidates) if isinstance(candidates, (set, frozenset, dict)) else candidates
        value_set = pa.array(items, type=data.type, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # candidates that are not all text: pandas' way
        return values.isin(candidates).to_numpy(dtype=bool)
    if isinstance(value_set, pa.ChunkedArray):
        value_set = value_set.combine_chunks()
    return np.asarray(pc.is_in(data, value_set=value_set).to_numpy(zero_copy_only=False), dtype=bool)


def _inferred_text_dtype():
    """The dtype pandas gives a column made of Python strings (Arrow-backed under its string inference)."""
    return pd.Series(["x"], dtype=object).infer_objects().dtype


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
        smallest, largest = extremes(values)
        if not (smallest <= low if spec.low_open else smallest < low) and not largest > high:
            continue  # every value in range (or none given): no mask of every row to build
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
        frame["bd_basis"] = text_column(np.zeros(len(frame), dtype=np.int8), [default]) if len(frame) else default
        return
    basis = frame["bd_basis"].astype("string").str.strip().fillna(default)
    bad = ~basis.isin(BD_BASES).to_numpy()
    if bad.any():
        msgs = [f"unknown basis {v!r}; valid: {', '.join(BD_BASES)}" for v in basis[bad]]
        problems.append(_problems(bad, raw, source_columns.get("bd_basis", "bd_basis"), "unknown_value", msgs,
                                  frame["plot_id"]))
    frame["bd_basis"] = basis.where(~pd.Series(bad), default).to_numpy()


def extremes(values: np.ndarray) -> tuple[float, float]:
    """The smallest and the largest value, NaN ignored (NaN, NaN when there is none): tests
    of a whole column that need no mask of every row.

    >>> extremes(np.array([2.0, np.nan, -1.0])), extremes(np.array([np.nan]))
    ((-1.0, 2.0), (nan, nan))
    """
    if not values.size:
        return np.nan, np.nan
    return float(np.fmin.reduce(values)), float(np.fmax.reduce(values))


def _g(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _id_column(src: pd.DataFrame, res: Resolution, canonical: str) -> pd.Series:
    """An identifier column as stripped text (empty: missing): from one header, several joined, or a constant."""
    if canonical in res.constants:
        return pd.Series([str(res.constants[canonical][0])] * len(src), dtype="string")
    if canonical in res.joined:
        headers, sep = res.joined[canonical]
        parts = [_stripped_text(src[h]) for h in headers]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined + sep + part  # missing in any part: missing
        return joined
    user_col = next(c for c, (k, _) in res.mapping.items() if k == canonical)
    return _stripped_text(src[user_col])


def _stripped_text(column: pd.Series) -> pd.Series:
    """``column`` as text, stripped of surrounding white space, an empty string missing."""
    values = column.astype("string")
    if not _strip_changes_nothing(values):
        values = values.str.strip()
        values = values.mask(values == "")
    return values.reset_index(drop=True)


def _strip_changes_nothing(values: pd.Series) -> bool:
    """True when Arrow-backed text has no missing value, no empty string, and begins and
    ends every string with a printable ASCII character other than a space: then stripping
    and masking empty strings change nothing (checked on the Arrow buffers, not per string)."""
    arrow = getattr(values.array, "__arrow_array__", None)
    if arrow is None:
        return False
    import pyarrow as pa

    data = arrow()
    for chunk in data.chunks if isinstance(data, pa.ChunkedArray) else [data]:
        if chunk.null_count or not pa.types.is_large_string(chunk.type) and not pa.types.is_string(chunk.type):
            return False
        if not len(chunk):
            continue
        offsets, text = _text_buffers(chunk)
        if not bool((offsets[1:] > offsets[:-1]).all()):
            return False
        for ends in (text[offsets[:-1]], text[offsets[1:] - 1]):  # first and last bytes
            if not bool(((ends - 0x21) < 0x5E).all()):  # 0x21 <= byte <= 0x7E (unsigned: below 0x21 wraps high)
                return False
    return True


def _text_buffers(data) -> tuple[np.ndarray, np.ndarray]:
    """The offsets and the bytes of an Arrow string or large_string array, as numpy views:
    string ``i`` is ``text[offsets[i]:offsets[i + 1]]`` (nulls aside)."""
    import pyarrow as pa

    offset_type = np.int64 if pa.types.is_large_string(data.type) else np.int32
    _, offset_buffer, data_buffer = data.buffers()
    offsets = np.frombuffer(offset_buffer, dtype=offset_type)[data.offset:data.offset + len(data) + 1]
    text = np.frombuffer(data_buffer, dtype=np.uint8) if data_buffer is not None else np.zeros(0, dtype=np.uint8)
    return offsets, text


def _not_a_number(series, bad, raw, user_col, plot_id, label) -> pd.DataFrame:
    shown = series[bad].astype("string")
    decimal = raw.dialect.get("decimal") or "."
    hint = ""
    if decimal == "." and shown.str.match(_NUMBER_WITH_COMMA).fillna(False).any():
        hint = f" ({DECIMAL_COMMA_HINT})"
    elif decimal == "," and shown.str.match(_NUMBER_WITH_POINT).fillna(False).any():
        hint = f" ({DECIMAL_POINT_HINT})"
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


def _flagged(problems: list[pd.DataFrame]) -> dict[str, np.ndarray]:
    """Positions of the cells already found not to be (finite) numbers, per user column."""
    found = [p[p["rule"] == "not_a_number"] for p in problems if len(p)]
    if not found:
        return {}
    bad = pd.concat(found, ignore_index=True)
    return {col: grp["position"].to_numpy(dtype=np.int64) for col, grp in bad.groupby("column")}


def _depth_row_problems(frame: pd.DataFrame, raw: RawTable, cols: dict[str, str], plot_id: pd.Series,
                        flagged: dict[str, np.ndarray] | None = None, plot_codes: np.ndarray | None = None) -> list:
    """Depths missing, negative or in the wrong order (a cell that is not a number is not also "empty").

    ``plot_codes``: :func:`factorize_runs` of ``plot_id`` (computed here when not given).
    """
    if plot_codes is None:
        plot_codes = factorize_runs(plot_id)
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    out = []
    top_col, bottom_col = cols["top_cm"], cols["bottom_cm"]
    for values, col, name in ((top, top_col, "top_cm"), (bottom, bottom_col, "bottom_cm")):
        missing = np.isnan(values)
        missing[(flagged or {}).get(col, np.zeros(0, dtype=np.int64))] = False
        if missing.any():
            out.append(_problems(missing, raw, col, "missing_value", f"{name} is empty", plot_id))
    with np.errstate(invalid="ignore"):
        none_negative = extremes(top)[0] >= 0 and extremes(bottom)[0] >= 0  # (NaN aside; all NaN: not known)
        negative = np.zeros(len(top), dtype=bool) if none_negative else (top < 0) | (bottom < 0)
        order = (top >= bottom) if none_negative else ~negative & (top >= bottom)
        organic = _organic_layers(top, bottom, negative, plot_codes) if negative.any() else negative
    if organic.any():
        msgs = [f"layer {t:g} to {b:g} cm lies above the mineral surface: an organic layer (forest floor), a carbon "
                "pool apart from the mineral-soil stock; not needed" for t, b in zip(top[organic], bottom[organic])]
        out.append(_problems(organic, raw, top_col, "organic_layer", msgs, plot_id))
        negative &= ~organic
    if negative.any():
        msgs = [f"layer {t:g} to {b:g} cm crosses the mineral surface: split it at 0 cm (organic layer above, "
                "mineral soil below)" if t < 0 < b else
                f"layer {t:g} to {b:g} cm lies above the mineral surface (negative depth) in a profile without mineral "
                "layers: depths written downward as negative numbers? give them as positive cm below the surface"
                for t, b in zip(top[negative], bottom[negative])]
        out.append(_problems(negative, raw, top_col, "above_surface", msgs, plot_id))
    if order.any():
        msgs = [f"top_cm ({t:g}) must be less than bottom_cm ({b:g})" for t, b in zip(top[order], bottom[order])]
        out.append(_problems(order, raw, top_col, "depth_order", msgs, plot_id))
    return out


def _organic_layers(top: np.ndarray, bottom: np.ndarray, negative: np.ndarray, plot_codes: np.ndarray) -> np.ndarray:
    """Forest floor (L/F/H, Oi/Oe/Oa) written above the mineral surface of a profile that has mineral layers:
    a pool of its own, not needed (stocks.estimate); a profile wholly above 0 cm is depths written negative."""
    with np.errstate(invalid="ignore"):
        mineral = (top >= 0) & (bottom > 0)
        plot_has_mineral = np.bincount(plot_codes, weights=mineral, minlength=1) > 0
        return negative & (bottom <= 0) & (top < bottom) & plot_has_mineral[plot_codes]


#: Sampling years accepted (the oldest long-term soil experiments began in the 1840s).
SAMPLING_YEARS = (1800, 2100)
# Written as a date or a year: digits first, with date separators (2019-02-31, 31/02/2019, 2019.0).
_DATE_LIKE = re.compile(r"-?\d+(\.\d+)?|\d{1,4}[-/.]\d{1,2}([-/.]\d{1,4})?([ T].*)?")


def date_problems(frame: pd.DataFrame, raw: RawTable, cols: dict[str, str], plot_id: pd.Series) -> list:
    """``sampled_on`` written as a year or a date must be one (``2019-02-31`` is not) within
    :data:`SAMPLING_YEARS`; checked once per distinct value. A label that is not written as a
    date (``before``, ``PROTOCOL_1``) names a sampling without dating it (``compare`` then
    needs ``--years`` and may need ``--baseline-sampling``)."""
    if "sampled_on" not in cols or "sampled_on" not in frame:
        return []
    text = frame["sampled_on"].astype("string").str.strip()
    values = pd.Series(text.dropna().unique(), dtype="string")
    if values.empty:
        return []
    bad = {v: why for v in values if (why := _date_fault(v)) is not None}
    if not bad:
        return []
    mask = text.isin(list(bad)).fillna(False).to_numpy(dtype=bool)
    msgs = [f"{v!r} {bad[v]}" for v in text[mask]]
    return [_problems(mask, raw, cols["sampled_on"], "invalid_date", msgs, plot_id)]


def _date_fault(value: str) -> str | None:
    """Why a sampling date is not one (None when it is)."""
    low, high = SAMPLING_YEARS
    if not _DATE_LIKE.fullmatch(value):
        return None  # a sampling label, not a date
    if re.fullmatch(r"\d{4}(\.0+)?", value):
        year = int(value.split(".")[0])
        return None if low <= year <= high else f"is not a sampling year ({low}-{high})"
    try:
        when = pd.to_datetime(value, format="mixed")
    except (ValueError, TypeError, OverflowError, pd.errors.OutOfBoundsDatetime):
        return "is not a valid date (expected YYYY-MM-DD or a year)"
    if pd.isna(when):
        return "is not a valid date (expected YYYY-MM-DD or a year)"
    return None if low <= when.year <= high else f"is outside the sampling years {low}-{high}"


def _texture_problems(frame: pd.DataFrame, raw: RawTable, plot_id: pd.Series) -> list:
    parts = [frame[c].to_numpy(dtype=float) for c in ("sand_pct", "silt_pct", "clay_pct")]
    if any(np.isnan(extremes(p)[1]) for p in parts):  # texture incomplete everywhere: nothing to check
        return []
    total = parts[0] + parts[1] + parts[2]
    low, high = extremes(total)
    if not (low < 95.0 or high > 105.0):  # every total within 5 points of 100 (t - 100 is exact there)
        return []
    with np.errstate(invalid="ignore"):
        bad = np.abs(total - 100.0) > 5.0  # NaN totals compare False
    if not bad.any():
        return []
    msgs = [f"sand + silt + clay = {t:g} %, more than 5 points from 100 %" for t in total[bad]]
    return [_problems(bad, raw, "clay_pct", "texture_sum", msgs, plot_id)]


PLOT_LEVEL_ATTRIBUTES = ("farm_id", "area_ha", "climate_zone", "soil_class", "land_use", "tillage", "input_level",
                         "practices")


def factorize_runs(values: pd.Series) -> np.ndarray:
    """Integer code per row, as ``pd.factorize(values, use_na_sentinel=False)[0]``: codes in
    order of first appearance, missing values one group of their own.

    Layers of a plot usually come together in a file, so only the first value of each run
    of equal values is hashed (a comparison of neighbours finds the runs), and when each
    value makes one run only (:func:`distinct_text`) the codes are the run numbers; the codes
    are the same whatever the order of the rows.

    Examples
    --------
    >>> factorize_runs(pd.Series(["b", "b", "a", None, None, "b"], dtype="string")).tolist()
    [0, 0, 1, 2, 2, 0]
    >>> factorize_runs(pd.Series(["b", "b", "a", "c", "c"], dtype="string")).tolist()
    [0, 0, 1, 2, 2]
    """
    n = len(values)
    if n < 2:
        return pd.factorize(values, use_na_sentinel=False)[0]
    missing = values.isna().to_numpy()
    same = _same_as_previous(values)
    any_missing = bool(missing.any())
    if any_missing:  # missing values next to each other make one run
        same = same & ~missing[1:] & ~missing[:-1] | (missing[1:] & missing[:-1])
    head = np.ones(n, dtype=bool)
    head[1:] = ~same
    at = np.flatnonzero(head)
    run = np.cumsum(head)
    run -= 1
    if not any_missing and distinct_text(values, at):
        return run
    head_codes, _ = pd.factorize(values.iloc[at], use_na_sentinel=False)
    return head_codes[run]


def _same_as_previous(values: pd.Series) -> np.ndarray:
    """``values[i] == values[i - 1]`` for i >= 1 (False where either is missing)."""
    arrow = getattr(values.array, "__arrow_array__", None)
    if arrow is not None:  # Arrow-backed text: compared in Arrow, no Python objects made
        import pyarrow as pa
        import pyarrow.compute as pc

        data = arrow()  # chunks compared as they are (slices, not a copy of the text)
        eq = pc.fill_null(pc.equal(data.slice(1), data.slice(0, len(data) - 1)), False)
        if isinstance(eq, pa.ChunkedArray):
            return eq.to_numpy()
        return eq.to_numpy(zero_copy_only=False)
    array = values.to_numpy(dtype=object if values.dtype == object else None)
    with np.errstate(invalid="ignore"):
        eq = array[1:] == array[:-1]
    return np.asarray(pd.Series(eq).fillna(False), dtype=bool) if eq.dtype == object else np.asarray(eq, dtype=bool)


def distinct_text(values: pd.Series, at: np.ndarray) -> bool:
    """True when the Arrow-backed text ``values`` at positions ``at`` differ from one
    another; False when some are equal, or ``values`` are not such text (or hold a missing
    value). Arrow hashes the strings where it keeps them: no Python string is made.

    Examples
    --------
    >>> text = pd.Series(["plot 1", "a plot with a long name", "plot 1"], dtype="string")
    >>> distinct_text(text, np.array([0, 1])), distinct_text(text, np.array([2, 1, 0]))
    (True, False)
    """
    arrow = getattr(values.array, "__arrow_array__", None)
    if arrow is None or not isinstance(values.dtype, pd.StringDtype):
        return False
    import pyarrow as pa
    import pyarrow.compute as pc

    data = arrow()
    if data.null_count:
        return False
    return len(pc.unique(data.take(pa.array(at)))) == len(at)


def record_codes(frame: pd.DataFrame, plot_codes: np.ndarray | None = None) -> np.ndarray:
    """Integer code per row for its plot and sampling date (-1 where plot_id is missing);
    ``plot_codes``: :func:`factorize_runs` of ``plot_id`` when already known (returned as it
    is when every row has a plot and there is no sampling date: not to be written to)."""
    if plot_codes is None:
        plot_codes = factorize_runs(frame["plot_id"])
    missing = frame["plot_id"].isna().to_numpy()
    codes = np.where(missing, -1, plot_codes) if missing.any() else plot_codes
    if "sampled_on" in frame:
        when, _ = pd.factorize(frame["sampled_on"], use_na_sentinel=False)
        pair = codes.astype(np.int64) * (int(when.max()) + 1 if when.size else 1) + when
        codes = np.where(codes < 0, -1, pd.factorize(pair)[0])
    return codes


def _conflicting_plot_attributes(frame: pd.DataFrame, raw: RawTable, cols: dict[str, str], plot_id: pd.Series,
                                 plot_codes: np.ndarray | None = None) -> list:
    """Plot attributes may repeat on each layer row, but must then agree (per plot and sampling date)."""
    out = []
    present = [name for name in PLOT_LEVEL_ATTRIBUTES if name in cols]
    if not present:
        return out
    codes = record_codes(frame, plot_codes)
    # Each record's rows together (the usual order): then a value given on every row agrees
    # with its record's first row exactly when it agrees with the row above it in the record.
    runs = bool((codes[1:] >= codes[:-1]).all()) if codes.size else True
    same_record = codes[1:] == codes[:-1]
    for name in present:
        values = frame[name]
        given = values.notna().to_numpy()
        if given.sum() <= 1:
            continue
        if runs and given.all() and not np.greater(same_record, _same_as_previous(values)).any():  # a & ~b
            continue
        first = _first_given(codes, given)  # per row: its plot's first row with a value
        value_codes = factorize_runs(values)  # equal values, equal codes: compared as integers
        differs = given & (codes >= 0) & (first >= 0)
        differs[differs] = value_codes[differs] != value_codes[first[differs]]
        if differs.any():
            shown = values.iloc[first[differs]]
            msgs = [f"{name} {v} differs from {f} on the plot's first row" for v, f in zip(values[differs], shown)]
            out.append(_problems(differs, raw, cols[name], "conflict", msgs, plot_id))
    return out


def _first_given(codes: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Per row, the position of the first row of its group (``codes``, -1 a group too) where
    ``given``, or -1 when the group has none."""
    n = len(codes)
    first = np.full(int(codes.max(initial=-1)) + 2, n, dtype=np.int64)
    at = np.flatnonzero(given)
    group = codes[at] + 1
    if group.size and bool((group[1:] >= group[:-1]).all()):  # groups in runs (usual): a run's first row
        starts = np.ones(group.size, dtype=bool)
        starts[1:] = group[1:] != group[:-1]
        first[group[starts]] = at[starts]
    else:
        np.minimum.at(first, group, at)
    first[first == n] = -1
    return first[codes + 1]


__all__ = ["BD_BASES", "PROBLEM_COLUMNS", "SAMPLING_YEARS", "HorizonTable", "date_problems", "normalise",
           "resolve_columns", "load_column_map", "record_codes", "factorize_runs", "distinct_text", "set_column",
           "extremes", "text_column", "text_values", "is_in", "sheets_hint", "PLOT_LEVEL_ATTRIBUTES"]
