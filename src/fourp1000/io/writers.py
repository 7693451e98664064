"""Writing result tables: csv, json, jsonl, xlsx and a rich table for terminals.

Files are written atomically (to a temporary file in the target directory, then renamed),
so an interrupted run never leaves a half-written result behind.
"""

from __future__ import annotations

import io
import json
import math
import os
import sys
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

FORMATS = ("table", "csv", "json", "jsonl", "xlsx")


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return None if math.isnan(value) else float(value)
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    return value


def round_floats(frame: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """Round float columns so outputs do not show binary noise (43.74000000000001)."""
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    if not floats:
        return frame
    out = frame.copy()
    out[floats] = out[floats].round(decimals)
    return out


def records(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (NaN -> null, numpy scalars -> Python)."""
    cols = list(frame.columns)
    return [{c: _json_value(v) for c, v in zip(cols, row)} for row in frame.itertuples(index=False, name=None)]


def to_csv_text(frame: pd.DataFrame) -> str:
    """CSV text: header, then one line per row; floats in shortest form, booleans true/false.

    Written with pyarrow (fast on large tables); fields are quoted only when the table has a
    text cell that needs it (a comma, quote or line break), and then every text field is.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    frame = frame.reset_index(drop=True)
    table = pa.Table.from_pandas(_text_columns_as_str(frame), preserve_index=False)
    quoting = "none"
    for col in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col])):
            if frame[col].astype("string").str.contains(r'[,"\r\n]', regex=True).fillna(False).any():
                quoting = "needed"
                break
    if any(any(ch in str(c) for ch in ',"\r\n') for c in frame.columns):
        quoting = "needed"
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(quoting_style=quoting, include_header=False))
    header = ",".join(_quote(str(c)) if quoting == "needed" else str(c) for c in frame.columns)
    return header + "\n" + buf.getvalue().decode("utf-8")


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _text_columns_as_str(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns (mixed str/None) as pandas strings so pyarrow can type them."""
    out = frame
    for col in frame.columns:
        if frame[col].dtype == object:
            if out is frame:
                out = frame.copy()
            out[col] = frame[col].astype("string")
    return out


def to_json_text(tables: Mapping[str, pd.DataFrame], meta: Mapping | None = None) -> str:
    """One JSON document: ``{"<table>": [records...], ..., "meta": {...}}``."""
    doc: dict = {name: records(df) for name, df in tables.items()}
    if meta:
        doc["meta"] = dict(meta)
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_jsonl_text(frame: pd.DataFrame) -> str:
    return "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records(frame))


def atomic_write(path: str | os.PathLike, data: bytes | str) -> None:
    """Write ``data`` to ``path`` atomically (temp file + rename in the same directory)."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data.encode("utf-8") if isinstance(data, str) else data)
        # mkstemp creates the file private (0600); give it the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def to_xlsx_bytes(tables: Mapping[str, pd.DataFrame]) -> bytes:
    """An Excel workbook with one sheet per table (sheet names cut to Excel's 31 chars)."""
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, df in tables.items():
            out = df.copy()
            for col in out.columns:  # Excel cannot store tz-aware datetimes
                if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                    out[col] = out[col].dt.tz_localize(None)
            out.to_excel(writer, sheet_name=name[:31], index=False)
    return buf.getvalue()


def rich_table_text(frame: pd.DataFrame, title: str | None = None, width: int | None = None) -> str:
    """Render a DataFrame as a rich table (returned as text, for a terminal)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        table.add_column(str(col), justify="right" if numeric else "left")
    for row in frame.itertuples(index=False, name=None):
        table.add_row(*(_format_cell(v) for v in row))
    console = Console(file=io.StringIO(), width=width or 200, force_terminal=False, color_system=None)
    console.print(table)
    return console.file.getvalue()


def _format_cell(value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (float, np.floating)):
        if float(value).is_integer() and abs(value) < 1e6:
            return f"{value:.0f}"
        if abs(value) < 1:
            return f"{value:.4f}"
        return f"{value:,.3f}" if abs(value) < 1e6 else f"{value:,.0f}"
    return str(value)


def write_tables(
    tables: Mapping[str, pd.DataFrame],
    fmt: str,
    output: str | None,
    *,
    stdout: IO[str] | None = None,
    meta: Mapping | None = None,
    decimals: int | None = 6,
    table_columns: Mapping[str, list[str]] | None = None,
) -> None:
    """Write result tables in ``fmt`` to ``output`` (a path, or ``None``/``"-"`` for stdout).

    The first table is the main result. csv/jsonl/table on stdout carry only the main
    table plus, for ``table``, the others below it; json and xlsx carry all tables.
    """
    stdout = stdout or sys.stdout
    if decimals is not None:
        tables = {name: round_floats(df, decimals) for name, df in tables.items()}
    if fmt == "table" and table_columns:
        tables = {
            name: df[[c for c in table_columns[name] if c in df.columns]] if name in table_columns else df
            for name, df in tables.items()
        }
    names = list(tables)
    main = tables[names[0]]
    if fmt == "xlsx":
        if output in (None, "-"):
            data = to_xlsx_bytes(tables)
            buffer = getattr(stdout, "buffer", None)
            if buffer is None:
                raise ValueError("xlsx output needs a file (-o FILE) or a binary stdout")
            buffer.write(data)
            buffer.flush()
            return
        atomic_write(output, to_xlsx_bytes(tables))
        return
    if fmt == "csv":
        text = to_csv_text(main)
    elif fmt == "jsonl":
        text = to_jsonl_text(main)
    elif fmt == "json":
        text = to_json_text(tables, meta)
    elif fmt == "table":
        text = "\n".join(rich_table_text(df, title=name) for name, df in tables.items() if len(df.columns))
    else:  # pragma: no cover - click restricts the choice
        raise ValueError(f"unknown format {fmt!r}")
    if output in (None, "-"):
        stdout.write(text)
        stdout.flush()
    else:
        atomic_write(output, text)
