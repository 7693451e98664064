"""Reading input tables: CSV (sniffed separator, decimal mark and encoding), Excel, Parquet, YAML.

Readers return the table as published (no renaming, no unit conversion) together with the
row number a user would see for each record, so later messages can point at it: for CSV and
Excel the header is row 1 and the first record row 2, as a spreadsheet shows them; for
Parquet and YAML, records are numbered from 1 in document order.
"""

from __future__ import annotations

import csv
import io
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from ..errors import InputError

ID_COLUMNS = ("plot_id", "farm_id", "core_id", "sampled_on", "climate_id")
_SNIFF_BYTES = 256 * 1024
_DECIMAL_COMMA = re.compile(r"(?<![\d.,])-?\d+,\d+(?![\d,])")
_DECIMAL_POINT = re.compile(r"(?<![\d.,])-?\d+\.\d+(?![\d.])")


@dataclass
class RawTable:
    """A table as read from a file, with the user-visible row number of each record."""

    frame: pd.DataFrame
    label: str  # file name used in messages ("plots.csv", "<stdin>")
    rows: np.ndarray  # int64 row numbers, one per record
    dialect: dict  # what was used to read it (sep, decimal, encoding), for messages and docs


def read_table(
    source: str | Path,
    *,
    sep: str | None = None,
    decimal: str | None = None,
    encoding: str | None = None,
    sheet: str | int | None = None,
    stdin: io.BufferedIOBase | None = None,
    thousands: str | None = None,
    header_row: int | None = None,
) -> RawTable:
    """Read a horizon table from ``source`` (a path, or ``"-"`` for stdin).

    The format follows the file extension: ``.csv``/``.txt``/``.tsv`` (default),
    ``.xlsx``/``.xlsm``, ``.parquet``/``.pq``, ``.yaml``/``.yml``, ``.jsonl``/``.ndjson``.
    Standard input is sniffed: YAML when it looks like a YAML mapping, CSV otherwise.
    Rows whose cells are all empty are skipped (counted in ``dialect["blank_rows"]``).

    Parameters
    ----------
    decimal, thousands : str, optional
        Decimal mark and thousands separator of numbers written as text (CSV cells, Excel
        text cells); default: judged per column (:mod:`fourp1000.io.numbers`).
    header_row : int, optional
        Row number (1-based, as a spreadsheet shows it) of the header, for files with a
        title block above it; default: row 1 for CSV, detected for Excel.

    Raises
    ------
    InputError
        If the file cannot be found or parsed, or has no data rows; the message names the file.
    """
    if header_row is not None and header_row < 1:
        raise InputError(f"--header-row must be 1 or more, got {header_row}")
    options = {"sep": sep, "decimal": decimal, "encoding": encoding, "thousands": thousands,
               "header_row": header_row}
    if str(source) == "-":
        data = (stdin or sys.stdin.buffer).read()
        label = "<stdin>"
        if _looks_like_yaml(data):
            return _with_rows(read_yaml_bytes(data, label))
        return _with_rows(read_csv_bytes(data, label, **options))
    path = Path(source)
    label = path.name
    if not path.exists():
        raise InputError(f"{source}: no such file")
    if path.is_dir():
        raise InputError(f"{source}: is a directory, expected a file")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm", ".xls"):
        from .excel import read_excel

        return _with_rows(read_excel(path, sheet=sheet, decimal=decimal, thousands=thousands, header_row=header_row))
    if suffix in (".parquet", ".pq"):
        return _with_rows(read_parquet(path))
    if suffix in (".yaml", ".yml"):
        return _with_rows(read_yaml_bytes(path.read_bytes(), label))
    if suffix in (".jsonl", ".ndjson"):
        return _with_rows(read_jsonl(path))
    return _with_rows(read_csv_path(path, **options))


def _with_rows(raw: RawTable) -> RawTable:
    """Skip rows whose cells are all empty (counted); no data rows left is an error."""
    frame = raw.frame
    if len(frame):
        blank = frame.isna().all(axis=1).to_numpy().copy()
        texts = [c for c in frame.columns if frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c])]
        if texts:  # cells holding only spaces are empty too
            numbers_empty = frame.drop(columns=texts).isna().all(axis=1).to_numpy()
            if numbers_empty.any():
                sub = frame.loc[numbers_empty, texts].astype("string")
                blank[numbers_empty] = sub.apply(lambda c: c.isna() | (c.str.strip() == "")).all(axis=1).to_numpy()
        if blank.any():
            raw = RawTable(frame.loc[~blank].reset_index(drop=True), raw.label, raw.rows[~blank],
                           {**raw.dialect, "blank_rows": int(blank.sum())})
    if len(raw.frame) == 0:
        what = "header only" if len(raw.frame.columns) else "empty file"
        raise InputError(f"{raw.label}: no data rows ({what})")
    return raw


def _looks_like_yaml(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf").lstrip()
    if head.startswith(b"---"):
        return True
    first = head.split(b"\n", 1)[0]
    return bool(re.match(rb"^[A-Za-z_][\w ]*:\s*(\S.*)?$", first)) and b"," not in first and b";" not in first


def detect_encoding(sample: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or latin-1 (which decodes any byte sequence)."""
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is still UTF-8.
        if exc.start < len(sample) - 3:
            return "latin-1"
    return "utf-8"


def detect_dialect(text_sample: str, sep: str | None = None, decimal: str | None = None) -> tuple[str, str]:
    """Guess the field separator and the decimal mark from the start of a CSV text.

    The separator is the candidate (``,`` ``;`` tab ``|``) found most often in the header
    line and equally often in the next lines; the decimal mark is ``,`` when the separator
    is not a comma and numbers like ``1,25`` outnumber ``1.25``.
    """
    lines = [ln for ln in text_sample.splitlines()[:50] if ln.strip()]
    if sep is None:
        header = lines[0] if lines else ""
        counts = {c: header.count(c) for c in (",", ";", "\t", "|")}
        best = max(counts, key=lambda c: counts[c])
        if counts[best] == 0:
            try:
                best = csv.Sniffer().sniff(text_sample[:8192]).delimiter
            except csv.Error:
                best = ","
        sep = best
    if decimal is None:
        decimal = "."
        if sep != ",":
            body = "\n".join(lines[1:])
            if len(_DECIMAL_COMMA.findall(body)) > len(_DECIMAL_POINT.findall(body)):
                decimal = ","
    if sep == decimal:
        raise InputError(f"separator and decimal mark are both {sep!r}; set --sep or --decimal")
    return sep, decimal


def _csv_kwargs(sep: str, decimal: str, thousands: str | None = None, header_row: int | None = None) -> dict:
    return {
        "sep": sep,
        "decimal": decimal,
        "thousands": thousands,
        "dtype": {c: "string" for c in ID_COLUMNS},
        "skipinitialspace": True,
        "low_memory": False,
        "skiprows": (header_row or 1) - 1,
        "skip_blank_lines": header_row is None,  # row numbers count blank lines below a given header row
    }


def _sniff_text(sample: str, header_row: int | None) -> str:
    """The sample from the header row on (a title block above it would mislead the sniffer)."""
    if not header_row or header_row == 1:
        return sample
    return "\n".join(sample.splitlines()[header_row - 1:])


def read_csv_path(
    path: Path, *, sep: str | None = None, decimal: str | None = None, encoding: str | None = None,
    thousands: str | None = None, header_row: int | None = None,
) -> RawTable:
    with open(path, "rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
    if not sample.strip():
        raise InputError(f"{path.name}: no data rows (empty file)")
    encoding = encoding or detect_encoding(sample)
    text_sample = _sniff_text(sample.decode(encoding, errors="replace"), header_row)
    given = decimal is not None
    sep, decimal = detect_dialect(text_sample, sep, decimal)
    dialect = {"sep": sep, "decimal": decimal, "decimal_given": given, "thousands": thousands,
               "encoding": encoding}
    if decimal == "." and thousands is None and header_row is None and encoding in ("utf-8", "utf-8-sig") \
            and len(sep) == 1:
        frame = _read_csv_arrow(path, sep)
        if frame is not None:
            return _finish_csv(frame, path.name, dialect)
    try:
        frame = pd.read_csv(path, encoding=encoding, **_csv_kwargs(sep, decimal, thousands, header_row))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{path.name}: cannot read as CSV (sep {sep!r}, encoding {encoding}): {_first_line(exc)}") from exc
    return _finish_csv(frame, path.name, dialect, header_row)


def _read_csv_arrow(path: Path, sep: str) -> pd.DataFrame | None:
    """Fast path for large, plain CSV files: pyarrow's multithreaded reader.

    Returns None (the caller falls back to pandas' parser) when pyarrow cannot parse the
    file, e.g. ragged rows; pandas then gives the user-facing message.
    """
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:  # pragma: no cover - pyarrow is a dependency
        return None
    try:
        table = pacsv.read_csv(
            path,
            parse_options=pacsv.ParseOptions(delimiter=sep),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in ID_COLUMNS},
                strings_can_be_null=True,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    return frame_from_arrow(table)


def frame_from_arrow(table, float_columns=()) -> pd.DataFrame:
    """An Arrow table as the frame the readers return: identifier columns as strings.

    ``float_columns`` are made float64: integer columns that hold a missing value
    somewhere in the file, which a whole-file read turns into floats (the streaming
    engine reads a file in parts and must type each part as the whole would be).
    """
    frame = table.to_pandas()
    for col in float_columns:
        if col in frame.columns and frame[col].dtype.kind in "iu":
            frame[col] = frame[col].astype("float64")
    for col in ID_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    return frame


def skip_blank_rows(raw: RawTable) -> RawTable:
    """``raw`` less its rows whose cells are all empty (counted in ``dialect["blank_rows"]``).

    Raises
    ------
    InputError
        No data row is left.
    """
    return _with_rows(raw)


def read_csv_bytes(
    data: bytes, label: str, *, sep: str | None = None, decimal: str | None = None, encoding: str | None = None,
    thousands: str | None = None, header_row: int | None = None,
) -> RawTable:
    if not data.strip():
        raise InputError(f"{label}: no data rows (empty input)")
    encoding = encoding or detect_encoding(data[:_SNIFF_BYTES])
    given = decimal is not None
    text_sample = _sniff_text(data[:_SNIFF_BYTES].decode(encoding, errors="replace"), header_row)
    sep, decimal = detect_dialect(text_sample, sep, decimal)
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding=encoding, **_csv_kwargs(sep, decimal, thousands, header_row))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, ValueError) as exc:
        raise InputError(f"{label}: cannot read as CSV (sep {sep!r}, encoding {encoding}): {_first_line(exc)}") from exc
    dialect = {"sep": sep, "decimal": decimal, "decimal_given": given, "thousands": thousands, "encoding": encoding}
    return _finish_csv(frame, label, dialect, header_row)


def _finish_csv(frame: pd.DataFrame, label: str, dialect: dict, header_row: int | None = None) -> RawTable:
    sep = dialect["sep"]
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if len(frame.columns) == 1 and len(frame) and sep == ",":
        only = frame.columns[0]
        if ";" in only or "\t" in only:
            raise InputError(f"{label}: only one column found; the file looks {_sep_name(only)}-separated: try --sep")
    first = (header_row or 1) + 1
    rows = np.arange(first, len(frame) + first, dtype=np.int64)
    return RawTable(frame, label, rows, dialect)


def _sep_name(header: str) -> str:
    return "semicolon" if ";" in header else "tab"


def read_parquet(path: Path) -> RawTable:
    import pyarrow.parquet as pq

    try:
        frame = frame_from_arrow(pq.read_table(path))
    except Exception as exc:  # pyarrow raises several types for bad files
        raise InputError(f"{path.name}: cannot read as Parquet: {_first_line(exc)}") from exc
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, path.name, rows, {})


def read_jsonl(path: Path) -> RawTable:
    """JSON Lines: one JSON object (a layer) per line, read with pyarrow; records numbered from 1."""
    import pyarrow as pa
    import pyarrow.json as pajson

    try:
        table = pajson.read_json(path)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"{path.name}: cannot read as JSON Lines: {_first_line(exc)}") from exc
    frame = frame_from_arrow(table)
    return RawTable(frame, path.name, np.arange(1, len(frame) + 1, dtype=np.int64), {})


def read_frame(frame: pd.DataFrame, label: str = "<DataFrame>") -> RawTable:
    """Take a table already in memory as read input (a copy; records numbered from 1).

    Column names are stripped and identifier columns (:data:`ID_COLUMNS`) become strings,
    as when the table is read from a file.
    """
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c).strip() for c in frame.columns]
    for col in ID_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return _with_rows(RawTable(frame, label, rows, {}))


def read_yaml_bytes(data: bytes, label: str) -> RawTable:
    """Read a farm document: farm(s) -> plots -> layers, with the same field names as CSV.

    Accepted shapes::

        farm_id: F1                    farms:                     plots:
        plots:                           - farm_id: F1              - plot_id: P1
          - plot_id: P1                    plots: [...]               layers: [...]
            area_ha: 2.5
            layers:
              - {top_cm: 0, bottom_cm: 30, soc_pct: 1.2}

    Farm and plot keys are copied onto each of their layers. Loaded with ``yaml.safe_load``.
    """
    try:
        doc = yaml.safe_load(data.decode(detect_encoding(data[:_SNIFF_BYTES])))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise InputError(f"{label}:{where}: not valid YAML: {getattr(exc, 'problem', exc)}") from exc
    records = list(_flatten_yaml(doc, label))
    if not records:
        raise InputError(f"{label}: no layers found (expected farms -> plots -> layers)")
    frame = pd.DataFrame.from_records(records)
    for col in ID_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].astype("string")
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, label, rows, {})


def _scalars(mapping: dict, exclude: tuple[str, ...]) -> dict:
    return {k: v for k, v in mapping.items() if k not in exclude and not isinstance(v, (list, dict))}


def _flatten_yaml(doc, label: str):
    if isinstance(doc, list):
        doc = {"plots": doc}
    if not isinstance(doc, dict):
        raise InputError(f"{label}: expected a mapping with 'farms' or 'plots' at the top level")
    farms = doc.get("farms")
    if farms is None:
        farms = [doc]
    if not isinstance(farms, list):
        raise InputError(f"{label}: 'farms' must be a list")
    for f_index, farm in enumerate(farms):
        if not isinstance(farm, dict):
            raise InputError(f"{label}: farms[{f_index}] must be a mapping")
        farm_attrs = _scalars(farm, ("plots",))
        plots = farm.get("plots")
        if not isinstance(plots, list):
            raise InputError(f"{label}: farms[{f_index}] needs a list of 'plots'")
        for p_index, plot in enumerate(plots):
            if not isinstance(plot, dict):
                raise InputError(f"{label}: farms[{f_index}].plots[{p_index}] must be a mapping")
            plot_attrs = {**farm_attrs, **_scalars(plot, ("layers",))}
            if isinstance(plot.get("practices"), list):
                plot_attrs["practices"] = ";".join(str(p) for p in plot["practices"])
            layers = plot.get("layers")
            if layers is None:
                yield plot_attrs  # a plot without layers (e.g. for IPCC defaults)
                continue
            if not isinstance(layers, list):
                raise InputError(f"{label}: farms[{f_index}].plots[{p_index}].layers must be a list")
            for l_index, layer in enumerate(layers):
                if not isinstance(layer, dict):
                    raise InputError(f"{label}: farms[{f_index}].plots[{p_index}].layers[{l_index}] must be a mapping")
                yield {**plot_attrs, **layer}


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name if it has none)."""
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
