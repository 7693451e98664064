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

from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import InputError
from .headers import recognised
from .readers import ID_COLUMNS, RawTable, first_line

#: How many rows from the top of a sheet are searched for the header row.
HEADER_SEARCH_ROWS = 30
_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"


def read_excel(path: Path, *, sheet: str | int | None = None, decimal: str | None = None,
               thousands: str | None = None, header_row: int | None = None) -> RawTable:
    """Read one sheet of a workbook, from its header row down (see the module docstring).

    Raises
    ------
    InputError
        Not a workbook (e.g. a CSV file named ``.xlsx``), an unknown sheet (the message lists
        the sheets), or a file Excel's reader cannot open.
    """
    _check_signature(path)
    try:
        book = pd.read_excel(path, sheet_name=None, header=None, dtype=object)
    except Exception as exc:  # openpyxl raises many types for corrupt files
        raise InputError(f"{path.name}: cannot read as Excel: {first_line(exc)}") from exc
    names = list(book)
    name = names[0] if sheet is None else sheet_name(sheet, names, path.name)
    cells = book[name]
    row = header_row - 1 if header_row else detect_header_row(cells)
    if row >= len(cells):
        raise InputError(f"{path.name}: sheet {name!r} has {len(cells)} rows; --header-row {row + 1} is below them")
    frame = table_below(cells, row)
    others = {n: header_cells(book[n], detect_header_row(book[n])) for n in names if n != name}
    rows = np.arange(row + 2, row + 2 + len(frame), dtype=np.int64)
    dialect = {"sheet": name, "header_row": row + 1, "decimal": decimal, "decimal_given": decimal is not None,
               "thousands": thousands, "other_sheets": others}
    return RawTable(frame, path.name, rows, dialect)


def _check_signature(path: Path) -> None:
    """A clear error for a file that is not an .xlsx workbook (a CSV renamed, an old .xls)."""
    with open(path, "rb") as fh:
        head = fh.read(4096)
    if head.startswith(_ZIP):
        return
    if head.startswith(_OLE):
        raise InputError(f"{path.name}: an Excel 97-2003 (.xls) workbook: save it as .xlsx or CSV")
    text = head.decode("utf-8", errors="replace")
    if head and "\ufffd" not in text[:-4] and any(sep in text for sep in (",", ";", "\t")):
        raise InputError(f"{path.name}: not an Excel workbook: it looks like a CSV text file; rename it to .csv")
    raise InputError(f"{path.name}: not an Excel workbook (.xlsx)")


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


def table_below(cells: pd.DataFrame, row: int) -> pd.DataFrame:
    """The records under header row ``row``: named columns, numbers as numbers, ids as text."""
    header = cells.iloc[row]
    body = cells.iloc[row + 1:].reset_index(drop=True)
    keep = [i for i, v in enumerate(header) if not pd.isna(v) and str(v).strip() or body.iloc[:, i].notna().any()]
    names, seen = [], {}
    for i in keep:
        value = header.iloc[i]
        name = f"Unnamed: {i}" if pd.isna(value) or not str(value).strip() else _header_text(value)
        count = seen.get(name, 0)
        seen[name] = count + 1
        names.append(name if count == 0 else f"{name}.{count}")
    frame = body.iloc[:, keep].copy()
    frame.columns = names
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


__all__ = ["HEADER_SEARCH_ROWS", "read_excel", "sheet_name", "detect_header_row", "header_cells", "table_below"]
