"""Reading Excel workbooks as labs send them: a title block above the header, several sheets.

The header row is the row among the first :data:`HEADER_SEARCH_ROWS` whose cells name the
most columns of the input model (by name, unit suffix or alias; :func:`fourp1000.io.headers.
recognised`), or the row given (``--header-row N``, 1-based as the spreadsheet shows it).
Without ``--sheet`` the first sheet is read; the header cells of the other sheets are kept
(``dialect["other_sheets"]``) so that, when the first sheet lacks required columns, the
error can say which sheets have them. Numbers stored as text cells are read later with
``--decimal``/``--thousands`` (or the mark judged on the whole column), like CSV cells.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from .. import limits
from ..errors import InputError
from .headers import recognised
from .readers import ID_COLUMNS, RawTable, first_line, unique_columns

#: How many rows from the top of a sheet are searched for the header row.
HEADER_SEARCH_ROWS = 30
#: How many other sheets are searched for the columns a sheet lacks (for the --sheet hint).
OTHER_SHEETS = 20
#: Excel's last row: a cell below it is a malformed (or crafted) workbook.
EXCEL_MAX_ROW = 1_048_576
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"
# Compression ratio of a workbook above which (and above 20 MB unpacked) it is taken for a
# zip bomb; sheet XML compresses about 10 to 20 times, and Apache POI refuses above 100.
_MAX_RATIO = 100
_RATIO_FLOOR = 20_000_000


def read_excel(source: Path | io.BytesIO, *, label: str | None = None, sheet: str | int | None = None,
               decimal: str | None = None, thousands: str | None = None, header_row: int | None = None) -> RawTable:
    """Read one sheet of a workbook, from its header row down (see the module docstring).

    The workbook is checked before it is unpacked (``MAX_XLSX_BYTES`` unpacked, at most 100
    times its packed size) and read as a stream of the cells it holds, so a far cell (row
    1,048,576, column XFD) costs nothing and the used range is bounded by ``MAX_XLSX_CELLS``.
    Row numbers are those the spreadsheet shows; empty rows are skipped and counted.

    Raises
    ------
    InputError
        Not a workbook (e.g. a CSV file named ``.xlsx``), an unknown sheet (the message lists
        the sheets), a workbook above the limits, or a file Excel's reader cannot open.
    """
    import openpyxl

    label = label or str(source)
    _check_signature(source, label)
    _check_zip(source, label)
    try:
        book = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"{label}: cannot read as Excel: {first_line(exc)}") from exc
    try:
        names = list(book.sheetnames)
        if not names:
            raise InputError(f"{label}: the workbook has no sheet")
        name = names[0] if sheet is None else sheet_name(sheet, names, label)
        cells, numbers = sheet_cells(book[name], label)
        # The hint about other sheets looks at a few of them only (a workbook may hold thousands).
        others = {n: _other_header(book[n], label) for n in [n for n in names if n != name][:OTHER_SHEETS]}
    except InputError:
        raise
    except Exception as exc:  # a corrupt sheet part
        raise InputError(f"{label}: cannot read as Excel: {first_line(exc)}") from exc
    finally:
        book.close()
    row = _header_index(cells, numbers, header_row, label, name)
    frame = table_below(cells, row, label)
    rows = numbers[row + 1:]
    blank = int(rows[-1] - numbers[row] - len(rows)) if len(rows) else 0
    dialect = {"sheet": name, "header_row": int(numbers[row]) if len(numbers) else 1, "decimal": decimal,
               "decimal_given": decimal is not None, "thousands": thousands, "other_sheets": others,
               "blank_rows": blank}
    return RawTable(frame, label, rows, dialect)


def _header_index(cells: pd.DataFrame, numbers: np.ndarray, header_row: int | None, label: str, name: str) -> int:
    """Position (among the rows kept) of the header row: given (a spreadsheet row), or detected."""
    if header_row is None:
        return detect_header_row(cells)
    at = np.flatnonzero(numbers == header_row)
    if not at.size:
        last = int(numbers[-1]) if len(numbers) else 0
        where = f"is below them (last row {last})" if header_row > last else "is empty"
        raise InputError(f"{label}: sheet {name!r}: --header-row {header_row} {where}")
    return int(at[0])


def sheet_cells(ws, label: str, max_rows: int | None = None) -> tuple[pd.DataFrame, np.ndarray]:
    """The non-empty rows of a sheet as cells (object dtype) and their spreadsheet row numbers.

    At most ``MAX_COLUMNS`` columns and ``MAX_XLSX_CELLS`` cells of used range are read;
    ``max_rows`` stops after that many non-empty rows (to look at a header).
    """
    max_cols, max_cells = limits.limit("MAX_COLUMNS"), limits.limit("MAX_XLSX_CELLS")
    ws.reset_dimensions()  # the declared used range may lie: read the cells the sheet holds
    kept, numbers, used = [], [], 0
    for number, row in enumerate(ws.iter_rows(values_only=True), start=1):
        if number > EXCEL_MAX_ROW:
            raise InputError(f"{label}: a cell below row {EXCEL_MAX_ROW:,}, Excel's last row: not a valid workbook")
        if not row:
            continue
        if len(row) > max_cols:
            raise limits.exceeded("MAX_COLUMNS", f"{label}: row {number}", len(row))
        used += len(row)
        if used > max_cells:
            raise limits.exceeded("MAX_XLSX_CELLS", label, used)
        if any(v is not None and not (isinstance(v, str) and not v.strip()) for v in row):
            kept.append(row)
            numbers.append(number)
            if max_rows is not None and len(kept) >= max_rows:
                break
    width = max((len(r) for r in kept), default=0)
    cells = pd.DataFrame([list(r) + [None] * (width - len(r)) for r in kept], dtype=object)
    return cells, np.asarray(numbers, dtype=np.int64)


def _other_header(ws, label: str) -> list[str]:
    """The header cells of another sheet (for the hint that names the sheet with the columns)."""
    cells, _ = sheet_cells(ws, label, max_rows=HEADER_SEARCH_ROWS)
    return header_cells(cells, detect_header_row(cells)) if len(cells) else []


def _check_signature(source, label: str) -> None:
    """A clear error for a file that is not an .xlsx workbook (a CSV renamed, an old .xls)."""
    if isinstance(source, io.BytesIO):
        head = source.getvalue()[:4096]
    else:
        with open(source, "rb") as fh:
            head = fh.read(4096)
    if head.startswith(_ZIP):
        return
    if head.startswith(_OLE):
        raise InputError(f"{label}: an Excel 97-2003 (.xls) workbook: save it as .xlsx or CSV")
    text = head.decode("utf-8", errors="replace")
    if head and "\ufffd" not in text[:-4] and any(sep in text for sep in (",", ";", "\t")):
        raise InputError(f"{label}: not an Excel workbook: it looks like a CSV text file; rename it to .csv")
    raise InputError(f"{label}: not an Excel workbook (.xlsx)")


def _check_zip(source, label: str) -> None:
    """Unpacked size and compression ratio, from the zip directory, before anything is unpacked."""
    try:
        with zipfile.ZipFile(source) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise InputError(f"{label}: cannot read as Excel: {first_line(exc)}") from None
    finally:
        if isinstance(source, io.BytesIO):
            source.seek(0)
    unpacked = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos)
    limits.check("MAX_XLSX_BYTES", label, unpacked)
    if unpacked > _RATIO_FLOOR and unpacked > _MAX_RATIO * max(packed, 1):
        raise InputError(f"{label}: unpacks to {unpacked:,} bytes from {packed:,} ({unpacked / max(packed, 1):,.0f} "
                         f"times): a zip bomb? workbooks compress at most about {_MAX_RATIO} times")


def sheet_name(sheet: str | int, names: list[str], label: str) -> str:
    """The sheet asked for, by name or by number (1 = first); unknown: an error listing the sheets."""
    if isinstance(sheet, str) and sheet in names:
        return sheet
    text = str(sheet).strip()
    if text.isdigit() and 1 <= int(text) <= len(names) and text not in names:
        return names[int(text) - 1]
    listed = ", ".join(repr(n) for n in names)
    raise InputError(f"{label}: no sheet {sheet!r}; the workbook has {len(names)} sheet"
                     f"{'s' if len(names) != 1 else ''}: {listed}")


def detect_header_row(cells: pd.DataFrame) -> int:
    """0-based index of the row that names the most input-model columns (0 if none does)."""
    best, best_score = 0, 0
    for index in range(min(HEADER_SEARCH_ROWS, len(cells))):
        values = cells.iloc[index]
        score = sum(1 for v in values if isinstance(v, str) and v.strip() and recognised(v))
        if score > best_score:
            best, best_score = index, score
    return best


def header_cells(cells: pd.DataFrame, row: int) -> list[str]:
    """The header names of row ``row`` (empty cells skipped)."""
    if row >= len(cells):
        return []
    return [str(v).strip() for v in cells.iloc[row] if not pd.isna(v) and str(v).strip()]


def table_below(cells: pd.DataFrame, row: int, label: str = "") -> pd.DataFrame:
    """The records under header row ``row``: named columns, numbers as numbers, ids as text.

    A header cell repeated gets ``.1``, ``.2`` (:func:`fourp1000.io.readers.unique_columns`;
    a repeated input-model column is an error).
    """
    if row >= len(cells):
        return pd.DataFrame()
    header = cells.iloc[row]
    body = cells.iloc[row + 1:].reset_index(drop=True)
    keep = [i for i, v in enumerate(header) if not pd.isna(v) and str(v).strip() or body.iloc[:, i].notna().any()]
    names = [f"Unnamed: {i}" if pd.isna(header.iloc[i]) or not str(header.iloc[i]).strip()
             else _header_text(header.iloc[i]) for i in keep]
    frame = body.iloc[:, keep].copy()
    frame.columns = unique_columns(names, label)
    frame = frame.infer_objects()
    for col in ID_COLUMNS:
        if col in frame.columns:
            frame[col] = frame[col].map(_id_text, na_action="ignore").astype("string")
    return frame


def _header_text(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _id_text(value) -> str:
    """An identifier cell as text: 12.0 -> "12", a date cell -> "2020-04-15"."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, pd.Timestamp) or hasattr(value, "isoformat"):
        text = value.isoformat()
        return text[:10] if text.endswith("T00:00:00") else text
    return str(value).strip()


__all__ = ["HEADER_SEARCH_ROWS", "EXCEL_MAX_ROW", "read_excel", "sheet_cells", "sheet_name", "detect_header_row", "header_cells", "table_below"]
