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
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import limits
from ..errors import InputError
from .prefetch import CSV_SUFFIXES, ID_COLUMNS, read_csv_table
from .text import Encoding, load_yaml, sniff_bytes, sniff_file, utf8_sample_name

_SNIFF_BYTES = 256 * 1024
_DECIMAL_COMMA = re.compile(r"(?<![\d.,])-?\d+,\d+(?![\d,])")
_DECIMAL_POINT = re.compile(r"(?<![\d.,])-?\d+\.\d+(?![\d.])")
#: Input formats (``--input-format``) and the file extensions that select them.
INPUT_FORMATS = ("csv", "xlsx", "parquet", "yaml", "jsonl")
_SUFFIXES = {**dict.fromkeys(CSV_SUFFIXES, "csv"), ".xlsx": "xlsx", ".xlsm": "xlsx", ".xls": "xlsx",
             ".parquet": "parquet", ".pq": "parquet", ".yaml": "yaml", ".yml": "yaml", ".jsonl": "jsonl",
             ".ndjson": "jsonl"}
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


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
    input_format: str | None = None,
) -> RawTable:
    """Read a horizon table from ``source`` (a path, or ``"-"`` for stdin).

    The format follows ``input_format``, else the file extension: ``.csv``/``.txt``/``.tsv``,
    ``.xlsx``/``.xlsm``, ``.parquet``/``.pq``, ``.yaml``/``.yml``, ``.jsonl``/``.ndjson``; else the content is
    sniffed (a zip is a workbook, ``PAR1`` Parquet, a ``key:`` line after any comments
    YAML, anything else CSV). Standard input, FIFOs and process substitutions
    (``<(cat plots.csv)``) are read once, into memory (at most ``MAX_STREAM_BYTES``).
    Rows whose cells are all empty are skipped (counted in ``dialect["blank_rows"]``).
    Messages name the file as it was given (two ``plots.csv`` in two folders stay apart).
    ``stdin``, when given, is read instead of ``source`` (the bytes of ``source`` already
    read once by the caller, e.g. to hash a FIFO); messages still name ``source``.

    Parameters
    ----------
    decimal, thousands : str, optional
        Decimal mark and thousands separator of numbers written as text (CSV cells, Excel
        text cells); default: judged per column (:mod:`fourp1000.io.numbers`).
    header_row : int, optional
        Row number (1-based, as a spreadsheet shows it) of the header, for files with a
        title block above it; default: row 1 for CSV, detected for Excel.
    input_format : {"csv", "xlsx", "parquet", "yaml"}, optional
        The format, whatever the name (default: by extension, else sniffed).

    Raises
    ------
    InputError
        If the file cannot be found or parsed, or has no data rows; the message names the file.
    """
    if header_row is not None and header_row < 1:
        raise InputError(f"--header-row must be 1 or more, got {header_row}")
    if input_format is not None and input_format not in INPUT_FORMATS:
        raise InputError(f"unknown input format {input_format!r}; valid: {', '.join(INPUT_FORMATS)}")
    options = {"sep": sep, "decimal": decimal, "encoding": encoding, "thousands": thousands,
               "header_row": header_row, "sheet": sheet}
    if str(source) == "-" or stdin is not None:  # stdin, or the bytes of a FIFO already read by the caller
        label = "<stdin>" if str(source) == "-" else str(source)
        data = read_stream(stdin or sys.stdin.buffer, label)
        fmt = input_format or (None if str(source) == "-" else _SUFFIXES.get(Path(source).suffix.lower()))
        return _with_rows(read_bytes(data, label, fmt, **options))
    path, label = Path(source), str(source)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError(f"{label}: no such file") from None
    except OSError as exc:
        raise InputError(f"{label}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError(f"{label}: is a directory, expected a file")
    fmt = input_format or _SUFFIXES.get(path.suffix.lower())
    if not stat.S_ISREG(info.st_mode):  # a FIFO, <(...) or a device: it can be read only once
        with open(path, "rb") as fh:
            data = read_stream(fh, label)
        return _with_rows(read_bytes(data, label, fmt, **options))
    if fmt is None:
        with open(path, "rb") as fh:
            fmt = sniff_format(fh.read(4096))
    if fmt == "xlsx":
        from .excel import read_excel

        return _with_rows(read_excel(path, label=label, sheet=sheet, decimal=decimal, thousands=thousands,
                                     header_row=header_row))
    if fmt == "parquet":
        return _with_rows(read_parquet(path, label))
    if fmt == "yaml":
        with open(path, "rb") as fh:
            return _with_rows(read_yaml_bytes(fh.read(limits.limit("MAX_YAML_BYTES") + 1), label))
    if fmt == "jsonl":
        return _with_rows(read_jsonl(path, label))
    options.pop("sheet")
    return _with_rows(read_csv_path(path, label=label, **options))


def read_stream(fh, label: str) -> bytes:
    """All the bytes of a stream (stdin, a FIFO), read once, at most ``MAX_STREAM_BYTES``.

    A text table never holds a NUL byte (outside UTF-16), so a stream that starts with one
    (``/dev/zero``, a binary file piped in) is refused at once, not read to its end.
    """
    bound = limits.limit("MAX_STREAM_BYTES")
    chunks, size = [], 0
    while True:
        chunk = fh.read(1 << 20)
        if not chunk:
            break
        if not chunks and b"\x00" in chunk[:65536] and sniff_format(chunk) == "csv" \
                and not chunk.startswith(_UTF16_BOMS):
            raise InputError(f"{label}: binary data (NUL bytes), not a CSV text table; for a workbook or Parquet "
                             "file use --input-format")
        size += len(chunk)
        if size > bound:
            raise limits.exceeded("MAX_STREAM_BYTES", label, size)
        chunks.append(chunk)
    return b"".join(chunks)


def sniff_format(head: bytes) -> str:
    """The input format of content whose name does not say it: xlsx, parquet, yaml or csv.

    >>> sniff_format(b"# a farm\\nfarm_id: F1\\n"), sniff_format(b"plot_id,top_cm\\n")
    ('yaml', 'csv')
    """
    if head.startswith(b"PK\x03\x04"):
        return "xlsx"
    if head.startswith(b"PAR1"):
        return "parquet"
    return "yaml" if _looks_like_yaml(head) else "csv"


def read_bytes(data: bytes, label: str, fmt: str | None = None, *, sheet=None, **options) -> RawTable:
    """Read a table from bytes in memory (stdin, a FIFO) in ``fmt`` (sniffed when None)."""
    fmt = fmt or sniff_format(data[:4096])
    if fmt == "xlsx":
        from .excel import read_excel

        return read_excel(io.BytesIO(data), label=label, sheet=sheet, decimal=options.get("decimal"),
                          thousands=options.get("thousands"), header_row=options.get("header_row"))
    if fmt == "parquet":
        return read_parquet(io.BytesIO(data), label)
    if fmt == "yaml":
        return read_yaml_bytes(data, label)
    if fmt == "jsonl":
        return read_jsonl(io.BytesIO(data), label)
    return read_csv_bytes(data, label, **options)


def _with_rows(raw: RawTable) -> RawTable:
    """Skip rows whose cells are all empty (counted); no data rows left is an error."""
    frame = raw.frame
    if len(frame):
        blank = _all_missing(frame, range(frame.shape[1]))
        is_text = [frame.iloc[:, i].dtype == object or pd.api.types.is_string_dtype(frame.iloc[:, i])
                   for i in range(frame.shape[1])]
        texts = [c for c, t in zip(frame.columns, is_text) if t]
        if texts:  # cells holding only spaces are empty too
            numbers_empty = _all_missing(frame, [i for i, t in enumerate(is_text) if not t])
            if numbers_empty.any():
                sub = frame.loc[numbers_empty, texts].astype("string")
                blank[numbers_empty] = sub.apply(lambda c: c.isna() | (c.str.strip() == "")).all(axis=1).to_numpy()
        if blank.any():
            raw = RawTable(frame.loc[~blank].reset_index(drop=True), raw.label, raw.rows[~blank],
                           {**raw.dialect, "blank_rows": int(blank.sum()) + raw.dialect.get("blank_rows", 0)})
    if len(raw.frame) == 0:
        what = "header only" if len(raw.frame.columns) else "empty file"
        raise InputError(f"{raw.label}: no data rows ({what})")
    return raw


def _all_missing(frame: pd.DataFrame, positions) -> np.ndarray:
    """Rows whose cells in the columns at ``positions`` are all missing; column by column,
    stopping when no row is left (the first filled column usually settles it)."""
    out = np.ones(len(frame), dtype=bool)
    for i in positions:
        out &= frame.iloc[:, i].isna().to_numpy()
        if not out.any():
            break
    return out


def _looks_like_yaml(data: bytes) -> bool:
    """A YAML document: ``---``, or a first line (after comments and blank lines) ``key: value``
    without the separators of a CSV header."""
    head = data[:4096].lstrip(b"\xef\xbb\xbf")
    lines = [ln.strip() for ln in head.splitlines()]
    lines = [ln for ln in lines if ln and not ln.startswith(b"#")]
    if not lines:
        return False
    first = lines[0]
    if first.startswith(b"---") or first.startswith(b"- "):
        return first.startswith(b"---") or b":" in first
    return bool(re.match(rb"^[A-Za-z_][\w ]*:\s*(\S.*)?$", first)) and b"," not in first and b";" not in first \
        and b"\t" not in first


def detect_encoding(sample: bytes) -> str:
    """UTF-8 with BOM, UTF-8, or latin-1 (which decodes any byte sequence) of a sample."""
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
        # Blank lines stay rows (dropped and counted by _with_rows), so row numbers after them are the
        # spreadsheet rows a user sees.
        "skip_blank_lines": False,
        "compression": None,  # never unpacked by its name (plots.csv.bz2): no decompression bomb
    }


def _sniff_text(sample: str, header_row: int | None) -> str:
    """The sample from the header row on (a title block above it would mislead the sniffer)."""
    if not header_row or header_row == 1:
        return sample
    return "\n".join(sample.splitlines()[header_row - 1:])


def _header_below_blank_lines(sample: bytes, header_row: int | None) -> int | None:
    """The header row when blank lines come before it (blank lines are rows, so it is not row 1)."""
    if header_row is not None:
        return header_row
    lines = sample.split(b"\n")
    n_blank = next(i for i, line in enumerate(lines) if line.strip())
    return n_blank + 1 if n_blank else None


def read_csv_path(
    path: Path, *, label: str | None = None, sep: str | None = None, decimal: str | None = None,
    encoding: str | None = None, thousands: str | None = None, header_row: int | None = None,
) -> RawTable:
    """Read a CSV file: its encoding checked over the whole file (:mod:`fourp1000.io.text`),
    separator and decimal mark sniffed from its start, its header checked (columns)."""
    label = label or str(path)
    if encoding is None:
        fast = _read_utf8_arrow(path, label, sep, decimal, thousands, header_row)
        if fast is not None:
            return fast
    with open(path, "rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
        if not sample.strip():
            raise InputError(f"{label}: no data rows (empty file)")
        _check_binary(sample, label)
        fh.seek(0)
        found = _utf16(sample) or sniff_file(fh, label, encoding)
    header_row = _header_below_blank_lines(sample, header_row)
    text_sample = _sniff_text(sample.decode(found.name, errors="replace"), header_row)
    given = decimal is not None
    sep, decimal = detect_dialect(text_sample, sep, decimal)
    header = check_header(text_sample, sep, label)
    dialect = {"sep": sep, "decimal": decimal, "decimal_given": given, "thousands": thousands,
               "encoding": found.name, "encoding_note": found.note}
    if decimal == "." and thousands is None and header_row is None and found.name in ("utf-8", "utf-8-sig") \
            and len(sep) == 1:
        frame = _read_csv_arrow(path, sep)
        if frame is not None:
            return _finish_csv(frame, label, dialect, header=header)
    try:
        frame = pd.read_csv(path, encoding=found.name, **_csv_kwargs(sep, decimal, thousands, header_row))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError, OverflowError) as exc:
        raise InputError(f"{label}: cannot read as CSV (sep {sep!r}, encoding {found.name}): "
                         f"{_first_line(exc)}") from exc
    return _finish_csv(frame, label, dialect, header_row, header=header)


def _read_utf8_arrow(path: Path, label: str, sep: str | None, decimal: str | None, thousands: str | None,
                     header_row: int | None) -> RawTable | None:
    """The plain case read at once: a file whose start is UTF-8, with a ``.`` decimal mark, read
    by Arrow without a pass of its own over the encoding, since Arrow checks every text cell
    (a column holding other bytes comes back as binary: then None, and the caller checks the
    whole file as usual, as it does for every case this does not read)."""
    with open(path, "rb") as fh:
        sample = fh.read(_SNIFF_BYTES)
    name = utf8_sample_name(sample) if sample.strip() and b"\x00" not in sample[:65536] else None
    if name is None or _header_below_blank_lines(sample, header_row) is not None:
        return None
    try:
        text_sample = _sniff_text(sample.decode(name, errors="replace"), None)
        found_sep, found_decimal = detect_dialect(text_sample, sep, decimal)
        header = check_header(text_sample, found_sep, label)
    except InputError:
        return None  # said by the general path, in its order
    if found_decimal != "." or thousands is not None or len(found_sep) != 1:
        return None
    frame = _read_csv_arrow(path, found_sep)
    if frame is None:
        return None
    dialect = {"sep": found_sep, "decimal": found_decimal, "decimal_given": decimal is not None,
               "thousands": thousands, "encoding": name, "encoding_note": None}
    return _finish_csv(frame, label, dialect, header=header)


def _utf16(sample: bytes) -> Encoding | None:
    """UTF-16 with a byte-order mark (Excel's "Unicode text" export), else None."""
    return Encoding("utf-16") if sample.startswith(_UTF16_BOMS) else None


def _check_binary(sample: bytes, label: str) -> None:
    if b"\x00" in sample[:65536] and not sample.startswith(_UTF16_BOMS):
        raise InputError(f"{label}: binary data (NUL bytes), not a CSV text table; for a workbook or Parquet "
                         "file use --input-format or its extension")


def check_header(text_sample: str, sep: str, label: str) -> list[str]:
    """The header's fields, checked: at most ``MAX_COLUMNS``, no name of the input model twice.

    A name the program does not use may repeat (the later ones are read as ``name.1``, ...);
    a column it uses may not: which of the two would it read?
    """
    line = next((ln for ln in text_sample.splitlines() if ln.strip()), "")
    try:
        fields = next(csv.reader([line], delimiter=sep)) if len(sep) == 1 else line.split(sep)
    except (csv.Error, StopIteration):
        fields = line.split(sep)
    limits.check("MAX_COLUMNS", label, len(fields))
    return [f.strip().lstrip("\ufeff") for f in fields]


def unique_columns(names: list[str], label: str) -> list[str]:
    """Column names made unique (``note``, ``note.1``); a repeated input-model column is an error."""
    from .headers import recognised

    seen: dict[str, int] = {}
    out = []
    for index, name in enumerate(names):
        if name in seen:
            if name and recognised(name):
                raise InputError(f"{label}: column {name!r} appears twice (columns {seen[name] + 1} and {index + 1}); "
                                 "keep one, or rename the other")
            count = sum(1 for n in names[:index] if n == name)
            candidate = f"{name}.{count}"
            while candidate in names or candidate in out:
                count += 1
                candidate = f"{name}.{count}"
            out.append(candidate)
        else:
            seen[name] = index
            out.append(name)
    return out


def _read_csv_arrow(path: Path, sep: str) -> pd.DataFrame | None:
    """Fast path for large, plain CSV files: pyarrow's multithreaded reader.

    Returns None (the caller falls back to pandas' parser) when pyarrow cannot parse the
    file, e.g. ragged rows; pandas then gives the user-facing message.
    """
    import pyarrow as pa

    try:
        table = read_csv_table(path, sep)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError):
        return None
    if any(pa.types.is_binary(t) or pa.types.is_large_binary(t) for t in table.schema.types):
        return None  # bytes that are not UTF-8: the encoding rules of the general path decide
    return frame_from_arrow(table)


def frame_from_arrow(table, float_columns=()) -> pd.DataFrame:
    """An Arrow table as the frame the readers return: identifier columns as strings.

    ``float_columns`` are made float64: integer columns that hold a missing value
    somewhere in the file, which a whole-file read turns into floats (the streaming
    engine reads a file in parts and must type each part as the whole would be).
    """
    frame = table.to_pandas(split_blocks=True)  # a block per column: no copy to consolidate them
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
    """Read CSV text from bytes in memory (stdin, a FIFO), by the rules of :func:`read_csv_path`."""
    if not data.strip():
        raise InputError(f"{label}: no data rows (empty input)")
    _check_binary(data[:_SNIFF_BYTES], label)
    header_row = _header_below_blank_lines(data[:_SNIFF_BYTES], header_row)
    found = _utf16(data) or sniff_bytes(data, label, encoding)
    given = decimal is not None
    text_sample = _sniff_text(data[:_SNIFF_BYTES].decode(found.name, errors="replace"), header_row)
    sep, decimal = detect_dialect(text_sample, sep, decimal)
    header = check_header(text_sample, sep, label)
    try:
        frame = pd.read_csv(io.BytesIO(data), encoding=found.name, **_csv_kwargs(sep, decimal, thousands, header_row))
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeError, ValueError, OverflowError) as exc:
        raise InputError(f"{label}: cannot read as CSV (sep {sep!r}, encoding {found.name}): "
                         f"{_first_line(exc)}") from exc
    dialect = {"sep": sep, "decimal": decimal, "decimal_given": given, "thousands": thousands,
               "encoding": found.name, "encoding_note": found.note}
    return _finish_csv(frame, label, dialect, header_row, header=header)


def _finish_csv(frame: pd.DataFrame, label: str, dialect: dict, header_row: int | None = None,
                header: list[str] | None = None) -> RawTable:
    sep = dialect["sep"]
    names = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    if header is not None and len(header) == len(names) and (header_row or 1) == 1:
        names = header  # as written: pandas renames a repeated name itself
    frame.columns = unique_columns(names, label)
    if len(frame.columns) == 1 and len(frame) and sep == ",":
        only = frame.columns[0]
        if ";" in only or "\t" in only:
            raise InputError(f"{label}: only one column found; the file looks {_sep_name(only)}-separated: try --sep")
    first = (header_row or 1) + 1
    rows = np.arange(first, len(frame) + first, dtype=np.int64)
    return RawTable(frame, label, rows, dialect)


def _sep_name(header: str) -> str:
    return "semicolon" if ";" in header else "tab"


def read_parquet(source, label: str | None = None) -> RawTable:
    """Read a Parquet file (a path or a binary stream), its size checked on the footer first.

    Run-length and dictionary encoding let a small file hold a billion rows: the rows and
    columns the footer declares are checked against ``MAX_COLUMNS``, ``MAX_CELLS`` and
    ``MAX_EXPANSION`` (cells per byte of file) before any data is decoded.
    """
    import pyarrow.parquet as pq

    label = label or str(source)
    try:
        handle = pq.ParquetFile(source)
        meta = handle.metadata
    except Exception as exc:  # pyarrow raises several types for bad files
        raise InputError(f"{label}: cannot read as Parquet: {_first_line(exc)}") from exc
    size = meta.serialized_size + sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
    size = max(size, _size_of(source))
    check_cells(label, meta.num_rows, meta.num_columns, size)
    try:
        frame = frame_from_arrow(handle.read())  # as the streaming engine types its parts
    except (Exception, MemoryError) as exc:
        raise InputError(f"{label}: cannot read as Parquet: {_first_line(exc)}") from exc
    frame.columns = unique_columns([str(c).strip() for c in frame.columns], label)
    rows = np.arange(1, len(frame) + 1, dtype=np.int64)
    return RawTable(frame, label, rows, {})


def _size_of(source) -> int:
    """Bytes of a file path or an in-memory stream (0 if unknown)."""
    if isinstance(source, io.BytesIO):
        return len(source.getbuffer())
    try:
        return Path(source).stat().st_size
    except (OSError, TypeError):
        return 0


def check_cells(label: str, n_rows: int, n_columns: int, n_bytes: int) -> None:
    """A table's declared size against ``MAX_COLUMNS``, ``MAX_CELLS`` and, for a table above
    a million cells, ``MAX_EXPANSION`` cells per byte of its (compressed) file."""
    limits.check("MAX_COLUMNS", label, n_columns)
    cells = int(n_rows) * int(n_columns)
    limits.check("MAX_CELLS", label, cells)
    if cells > 1_000_000 and cells > limits.limit("MAX_EXPANSION") * max(n_bytes, 1):
        raise InputError(f"{label}: {n_rows:,} rows x {n_columns:,} columns from a file of {n_bytes:,} bytes "
                         f"({cells / max(n_bytes, 1):,.0f} cells per byte, above the limit of "
                         f"{limits.limit('MAX_EXPANSION'):,}): a decompression bomb? (set FOURP1000_MAX_EXPANSION "
                         "to raise the limit)")


def read_jsonl(source, label: str | None = None) -> RawTable:
    """JSON Lines (a path or a binary stream): one JSON object (a layer) per line, read with
    pyarrow; records numbered from 1; columns and cells checked against the limits."""
    import pyarrow as pa
    import pyarrow.json as pajson

    label = label or str(source)
    try:
        table = pajson.read_json(source)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"{label}: cannot read as JSON Lines: {_first_line(exc)}") from exc
    check_cells(label, table.num_rows, table.num_columns, _size_of(source))
    frame = frame_from_arrow(table)
    frame.columns = unique_columns([str(c).strip() for c in frame.columns], label)
    return RawTable(frame, label, np.arange(1, len(frame) + 1, dtype=np.int64), {})


def read_frame(frame: pd.DataFrame, label: str = "<DataFrame>") -> RawTable:
    """Take a table already in memory as read input (a copy; records numbered from 1).

    Column names are stripped and identifier columns (:data:`ID_COLUMNS`) become strings,
    as when the table is read from a file.
    """
    frame = frame.reset_index(drop=True)
    frame.columns = unique_columns([str(c).strip() for c in frame.columns], label)
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

    Farm and plot keys are copied onto each of their layers. Loaded with ``yaml.safe_load``
    within the limits of :func:`fourp1000.io.text.load_yaml` (size, depth, aliases); the
    layers it expands to count against ``MAX_CELLS``.
    """
    doc = load_yaml(data, label)
    bound = limits.limit("MAX_CELLS")
    records = []
    for record in _flatten_yaml(doc, label):
        records.append(record)
        if len(records) * max(len(record), 1) > bound:
            raise limits.exceeded("MAX_CELLS", label, len(records) * len(record))
    if not records:
        raise InputError(f"{label}: no layers found (expected farms -> plots -> layers)")
    frame = pd.DataFrame.from_records(records)
    limits.check("MAX_COLUMNS", label, len(frame.columns))
    frame.columns = unique_columns([str(c).strip() for c in frame.columns], label)
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
                # A list or mapping where a value belongs is kept as text: "not a number" on its row.
                yield {**plot_attrs, **{k: str(v) if isinstance(v, (list, dict)) else v for k, v in layer.items()}}


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message (its type name if it has none)."""
    return _first_line(exc)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
