"""Writing result tables: csv, json, jsonl, xlsx, parquet and a rich table for terminals.

Where the bytes go (:func:`atomic_write`):

* a regular file (new or existing, or the file a symbolic link points to) is replaced
  atomically: written to a temporary file in the same directory, fsync'ed, then renamed
  over the target, so an interrupted run never leaves a half-written result behind; the
  link itself is kept, an existing file keeps its permissions;
* anything else (``/dev/null``, ``/dev/stdout``, a terminal, a FIFO, any path under
  ``/dev`` or ``/proc``) is opened and written in place, never replaced;
* a temporary file is removed on every error and on SIGTERM, SIGINT and SIGHUP;
* errors name the path the caller gave (:class:`OutputError`), never the temporary file.

What goes into them:

* CSV and xlsx are read by spreadsheets: a text cell that starts with ``=``, ``+``, ``-``,
  ``@``, a tab or a carriage return (and is not a plain number) is prefixed with ``'`` so
  a spreadsheet never runs it as a formula (OWASP, "CSV Injection"); :func:`sanitizing`
  turns this off (for trusted pipelines) within a block. xlsx text cells are always stored as text, never
  as formulas, whatever the setting.
* JSON and JSONL are data formats, written verbatim, except that NaN and +-infinity (not
  valid JSON) are written ``null``.
"""

from __future__ import annotations

import contextlib
import errno
import io
import datetime
import json
import math
import os
import re
import shutil
import signal
import secrets
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from contextvars import ContextVar
from pathlib import Path
from typing import IO

import numpy as np
import pandas as pd

from ..errors import FourP1000Error

FORMATS = ("table", "csv", "json", "jsonl", "xlsx", "parquet")
#: Formats written row group by row group by the streaming engine (the others need the whole result).
STREAM_FORMATS = ("csv", "jsonl", "parquet")


class OutputError(FourP1000Error):
    """A result could not be written (no space, permission, a binary format on a terminal).

    The message names the path the user gave. ``exit_code`` is 1, or 2 for a usage error.
    """

    def __init__(self, message: str, exit_code: int = 1):
        super().__init__(message)
        self.exit_code = exit_code


# --- spreadsheet safety (OWASP CSV injection) ---------------------------------------------

_SANITIZE: ContextVar[bool] = ContextVar("fourp1000_sanitize", default=True)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: what a spreadsheet may run
_PLAIN_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"


def sanitizing_enabled() -> bool:
    """Whether CSV/xlsx text cells are neutralised in this context (on unless turned off)."""
    return _SANITIZE.get()


@contextlib.contextmanager
def sanitizing(on: bool) -> Iterator[None]:
    """Within the block, neutralise CSV/xlsx text cells (``on``) or write them verbatim."""
    token = _SANITIZE.set(bool(on))
    try:
        yield
    finally:
        _SANITIZE.reset(token)


def neutralise(text: str) -> str:
    """``text`` with a ``'`` in front if a spreadsheet would read it as a formula.

    Text that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets the
    prefix, unless it is a plain number (``-1.5``, ``+3e2``), which no spreadsheet runs.
    """
    if text.startswith(_FORMULA_START) and not re.fullmatch(_PLAIN_NUMBER, text):
        return "'" + text
    return text


def sanitize_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with its headers and text cells passed through :func:`neutralise`.

    Numeric, boolean and date columns are left alone, as is every non-text value of a
    mixed column. Returns ``frame`` itself when nothing needs a prefix.
    """
    out = frame
    columns = [neutralise(c) if isinstance(c, str) else c for c in frame.columns]
    if columns != list(frame.columns):
        out = frame.copy()
        out.columns = columns
    for i, col in enumerate(frame.columns):
        values = frame.iloc[:, i]
        if not (values.dtype == object or isinstance(values.dtype, (pd.StringDtype, pd.CategoricalDtype))):
            continue
        if not _may_hold(values, "".join(_FORMULA_START)):
            continue
        text = values.astype("string")
        risky = text.str.startswith(_FORMULA_START).fillna(False).astype(bool)
        if not risky.any():
            continue
        candidates = text[risky]  # few: the number test runs on these only
        risky[risky] = ~candidates.str.fullmatch(_PLAIN_NUMBER).fillna(False).astype(bool)
        if values.dtype == object and risky.any():
            risky &= values.map(lambda v: isinstance(v, str)).astype(bool)
        if not risky.any():
            continue
        if out is frame:
            out = frame.copy()
            out.columns = columns
        fixed = values.astype(object).copy()
        fixed[risky] = "'" + text[risky]
        out.isetitem(i, fixed)
    return out


def _sanitize(frame: pd.DataFrame, sanitize: bool | None) -> pd.DataFrame:
    return sanitize_frame(frame) if (_SANITIZE.get() if sanitize is None else sanitize) else frame


# --- formats -------------------------------------------------------------------------------


def _json_value(value):
    if value is None:
        return None
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, pd.Timestamp):
        return value.date().isoformat() if value == value.normalize() else value.isoformat()
    if value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, (datetime.date, datetime.time)):  # sampled_on read as dates (Excel, Parquet, ...)
        return value.isoformat()
    return value


def _json_safe(obj):
    """``obj`` (nested dicts/lists/scalars) with NaN and +-inf as ``None`` and numpy scalars as Python."""
    if isinstance(obj, Mapping):
        return {k: _json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_json_safe(v) for v in obj]
    return _json_value(obj)


def round_floats(frame: pd.DataFrame, decimals: int) -> pd.DataFrame:
    """Round float columns so outputs do not show binary noise (43.74000000000001).

    A value that rounds to zero is written ``0``, never ``-0`` (adding 0.0 turns -0.0 into 0.0).
    """
    floats = [c for c in frame.columns if pd.api.types.is_float_dtype(frame[c])]
    if not floats:
        return frame
    out = frame.copy(deep=False)  # copy-on-write: the caller's frame is never changed
    for col in floats:
        values = frame[col].to_numpy(dtype=float, copy=False)
        # Beyond 2**53 every float is an integer, so rounding changes nothing, and
        # np.round would overflow to inf near the top of the range (1e308 * 10**6).
        with np.errstate(invalid="ignore"):
            small = np.abs(values) < 2.0**53  # False for NaN and +-inf
        if small.all():  # a nullable Float64 column stays one
            plain = isinstance(frame[col].dtype, np.dtype)
            out[col] = np.round(values, decimals) + 0.0 if plain else frame[col].round(decimals) + 0.0
        else:
            out[col] = np.where(small, np.round(np.where(small, values, 0.0), decimals) + 0.0, values)
    return out


def records(frame: pd.DataFrame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (NaN -> null, numpy scalars -> Python)."""
    cols = list(frame.columns)
    return [{c: _json_value(v) for c, v in zip(cols, row)} for row in frame.itertuples(index=False, name=None)]


def to_csv_text(frame: pd.DataFrame, *, sanitize: bool | None = None, quoting: str | None = None,
                header: bool = True) -> str:
    """:func:`to_csv_bytes` as text."""
    return to_csv_bytes(frame, sanitize=sanitize, quoting=quoting, header=header).decode("utf-8")


def to_csv_bytes(frame: pd.DataFrame, *, sanitize: bool | None = None, quoting: str | None = None,
                 header: bool = True) -> bytes:
    """CSV in UTF-8: header, then one line per row; floats in shortest form, booleans true/false.

    Text cells a spreadsheet would run as formulas are neutralised (:func:`neutralise`)
    unless ``sanitize`` is false (``None``: the context's setting, see :func:`sanitizing`).

    Written with pyarrow (fast on large tables); fields are quoted only when the table has a
    text cell that needs it (a comma, quote or line break), and then every text field is
    (:func:`csv_quoting`). A table written in parts passes the ``quoting`` of the whole
    and ``header=False`` after the first part.
    """
    return b"".join(csv_parts(frame, sanitize=sanitize, quoting=quoting, header=header))


#: Rows per part when a large table's CSV is formatted by several threads.
CSV_PART_ROWS = 50_000


def csv_parts(frame: pd.DataFrame, *, sanitize: bool | None = None, quoting: str | None = None,
              header: bool = True) -> Iterator[bytes]:
    """:func:`to_csv_bytes` in parts, in order, each as soon as it is formatted: the header,
    then the rows, ``CSV_PART_ROWS`` at a time.

    A large table's parts are formatted on threads, one per CPU (pyarrow releases the GIL
    while it formats numbers, the bulk of the time), while the caller writes the parts
    before them. Each line depends on its row alone, so the parts joined are the bytes one
    call would write.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    frame = _sanitize(frame.reset_index(drop=True), sanitize)
    table = pa.Table.from_pandas(_text_columns_as_str(frame), preserve_index=False)
    quoting = quoting or csv_quoting(frame)
    if header:
        yield (",".join(_quote(str(c)) if quoting == "needed" else str(c) for c in frame.columns) + "\n").encode()
    options = pacsv.WriteOptions(quoting_style=quoting, include_header=False)

    def rows(start: int) -> bytes:
        buf = io.BytesIO()
        pacsv.write_csv(table.slice(start, CSV_PART_ROWS), buf, options)
        return buf.getvalue()

    starts = range(0, max(table.num_rows, 1), CSV_PART_ROWS)
    if len(starts) == 1 or _cpus() == 1:
        yield from map(rows, starts)
        return
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(_cpus()) as pool:
        yield from pool.map(rows, starts)


def _cpus() -> int:
    """CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def csv_quoting(frame: pd.DataFrame) -> str:
    """``"needed"`` when a header or text cell holds a comma, quote or line break, else ``"none"``."""
    if any(any(ch in str(c) for ch in ',"\r\n') for c in frame.columns):
        return "needed"
    for col in frame.columns:
        if not (pd.api.types.is_numeric_dtype(frame[col]) or pd.api.types.is_bool_dtype(frame[col])):
            if not _may_hold(frame[col], ',"\r\n'):
                continue
            if frame[col].astype("string").str.contains(r'[,"\r\n]', regex=True).fillna(False).any():
                return "needed"
    return "none"


def _may_hold(values: pd.Series, chars: str) -> bool:
    """False when no text cell of ``values`` can hold any of ``chars`` (ASCII): Arrow-backed
    text is checked on its character buffers at once; other columns are always maybe."""
    arrow = getattr(values.array, "__arrow_array__", None)
    if arrow is None:
        return True
    data = arrow()
    wanted = chars.encode("ascii")
    for chunk in getattr(data, "chunks", [data]):
        buffers = chunk.buffers()
        if len(buffers) != 3 or buffers[2] is None:
            if len(chunk) - chunk.null_count:  # not plain text: cannot tell
                return True
            continue
        held = memoryview(buffers[2]).tobytes()
        if any(bytes([c]) in held for c in wanted):
            return True
    return False


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
    """One JSON document: ``{"<table>": [records...], ..., "meta": {...}}``.

    Strings are written verbatim; NaN and +-infinity, which JSON cannot hold, as ``null``.
    """
    doc: dict = {name: records(df) for name, df in tables.items()}
    if meta:
        doc["meta"] = _json_safe(dict(meta))
    return json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def to_jsonl_text(frame: pd.DataFrame) -> str:
    """One JSON object per row (NaN and +-infinity as ``null``)."""
    return "".join(json.dumps(r, ensure_ascii=False, allow_nan=False) + "\n" for r in records(frame))


# --- where the bytes go --------------------------------------------------------------------

_CLEANUP_SIGNALS = tuple(getattr(signal, name) for name in ("SIGTERM", "SIGINT", "SIGHUP") if hasattr(signal, name))
_TEMP_FILES: set[str] = set()
# Written in place even when they hold regular files: device and process namespaces
# (``/dev/stdout`` may lead, through /proc/self/fd, to the file the shell redirected to).
_IN_PLACE_PREFIXES = ("/dev/", "/proc/")


def atomic_write(path: str | os.PathLike, data: bytes | str | Iterable[bytes]) -> None:
    """Write ``data`` to ``path``: atomically to a regular file, in place to anything else.

    ``data`` may come in parts (an iterable of bytes, e.g. :func:`csv_parts`): each is
    written as it comes.

    A regular file (new or existing; through a symbolic link, the file it points to) is
    replaced atomically: a temporary file in the same directory, fsync'ed, renamed over
    it. A device, FIFO, terminal, ``/dev/stdout`` or ``-`` (stdout) is written in place.
    Missing parent directories are created. The temporary file is removed on any error and
    on SIGTERM, SIGINT or SIGHUP.

    Raises
    ------
    OutputError
        The file cannot be written; the message names ``path`` as given
        (``out.csv: No space left on device``), never the temporary file.
    """
    shown = os.fspath(path)
    parts = [data.encode("utf-8")] if isinstance(data, str) else [data] if isinstance(data, bytes) else data
    if shown == "-":
        _write_stdout(sys.stdout, b"".join(parts))
        return
    try:
        info, real = _target(shown)
        if _in_place(shown, info, real):
            with open(shown, "wb") as fh:
                fh.writelines(parts)
        else:
            with _replacing(real, info) as fh:
                fh.writelines(parts)
    except OSError as exc:
        raise OutputError(f"{shown}: {exc.strerror or exc}") from exc


def _target(shown: str) -> tuple[os.stat_result | None, str]:
    """What ``shown`` is now (None: nothing yet) and the file it leads to; a folder is an error."""
    if shown.endswith(("/", os.sep)):  # the user means a folder: never write a file of its name
        raise OutputError(f"{shown}: names a folder; give a file name (only a streamed run, e.g. with "
                          "--chunk-rows N, writes a Parquet dataset into a folder)", exit_code=2)
    try:
        info = os.stat(shown)
    except FileNotFoundError:
        info = None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
    return info, os.path.realpath(shown)


def _in_place(shown: str, info: os.stat_result | None, real: str) -> bool:
    """Whether ``shown`` is written in place: a device, FIFO or socket, or under /dev or /proc."""
    special = info is not None and not stat.S_ISREG(info.st_mode)
    return special or os.path.abspath(shown).startswith(_IN_PLACE_PREFIXES) or real.startswith(_IN_PLACE_PREFIXES)


@contextlib.contextmanager
def _replacing(real: str, info: os.stat_result | None) -> Iterator[IO[bytes]]:
    """A handle on a temporary file beside ``real``, renamed over ``real`` when the block ends
    without error (removed otherwise, and on SIGTERM/SIGINT/SIGHUP)."""
    target = Path(real)
    if info is not None and not os.access(real, os.W_OK):  # as `>` would, respect a read-only file
        raise PermissionError(errno.EACCES, "Permission denied (the file is read-only)")
    with _cleanup_on_signals():
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OSError(exc.errno, f"{exc.strerror} (cannot create the directory {target.parent})") from exc
        try:
            fd, tmp = _create_temp(target)
        except OSError as exc:  # name the directory, not the temporary file
            if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
                raise OSError(exc.errno, f"{exc.strerror} (cannot create a file in {target.parent})") from exc
            raise OSError(exc.errno, exc.strerror) from exc
        try:
            with os.fdopen(fd, "wb") as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            _keep_mode_and_owner(tmp, info)
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
        finally:
            _TEMP_FILES.discard(tmp)
    with contextlib.suppress(OSError):  # make the rename durable too, where the system allows it
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def _keep_mode_and_owner(tmp: str, info: os.stat_result | None) -> None:
    """The temporary file is private (0600): an existing file keeps its mode and owner, a new
    one gets the mode a plain open() would give."""
    if info is None:
        os.chmod(tmp, 0o666 & ~_umask())
        return
    os.chmod(tmp, stat.S_IMODE(info.st_mode))
    if (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
        with contextlib.suppress(OSError):
            os.chown(tmp, info.st_uid, info.st_gid)


def _create_temp(target: Path) -> tuple[int, str]:
    """Create ``.<name>.<random>.tmp`` beside ``target`` (private, exclusive); return its fd and path.

    The name is registered for removal before the file exists, so a signal at any moment
    finds it (a name registered but never created is harmless to unlink).
    """
    for _ in range(100):
        tmp = str(target.parent / f".{target.name}.{secrets.token_hex(4)}.tmp")
        _TEMP_FILES.add(tmp)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            _TEMP_FILES.discard(tmp)
            continue
        except BaseException:
            _TEMP_FILES.discard(tmp)
            raise
        return fd, tmp
    raise FileExistsError(errno.EEXIST, "no free temporary file name")


@contextlib.contextmanager
def _cleanup_on_signals() -> Iterator[None]:
    """While the block runs, SIGTERM/SIGINT/SIGHUP first remove the temporary files.

    Then a handler the program had set runs; otherwise the process dies of the signal as it
    would have without us (exit status 128 + signum in a shell). An ignored signal (SIGHUP
    under nohup) stays ignored. Outside the main thread no handler can be set: nothing is done.
    """
    previous = {}
    try:
        for signum in _CLEANUP_SIGNALS:
            handler = signal.getsignal(signum)
            if handler is not signal.SIG_IGN:
                previous[signum] = handler
                signal.signal(signum, _remove_temp_files_then_signal)
    except ValueError:  # not the main thread
        pass
    _PREVIOUS_HANDLERS.update(previous)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
            _PREVIOUS_HANDLERS.pop(signum, None)


_PREVIOUS_HANDLERS: dict = {}


def _remove_temp_files_then_signal(signum, frame) -> None:
    for tmp in list(_TEMP_FILES):
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    _TEMP_FILES.clear()
    previous = _PREVIOUS_HANDLERS.get(signum, signal.SIG_DFL)
    if callable(previous) and previous is not signal.default_int_handler:
        signal.signal(signum, previous)
        previous(signum, frame)
        return
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # pragma: no cover - only if the signal did not end the process


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _write_stdout(stream: IO, data: bytes | str) -> None:
    """Write to stdout; a failure (full disk, closed pipe) becomes an :class:`OutputError`."""
    try:
        if isinstance(data, bytes):
            buffer = getattr(stream, "buffer", None)
            if buffer is None:
                stream.write(data.decode("utf-8"))
                stream.flush()
            else:
                stream.flush()
                buffer.write(data)
                buffer.flush()
        else:
            stream.write(data)
            stream.flush()
    except OSError as exc:
        _discard_stdout(stream)
        raise OutputError(f"stdout: {exc.strerror or exc}") from exc


def _discard_stdout(stream: IO) -> None:
    """Point a failed stdout at /dev/null, so the flush at exit does not fail a second time."""
    try:
        fd = stream.fileno()
    except (OSError, ValueError, io.UnsupportedOperation):
        return
    with contextlib.suppress(OSError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, fd)
        os.close(devnull)


def to_xlsx_bytes(tables: Mapping[str, pd.DataFrame], *, sanitize: bool | None = None) -> bytes:
    """An Excel workbook with one sheet per table (sheet names cut to Excel's 31 chars).

    Text cells are neutralised as in CSV (unless ``sanitize`` is false) and always stored
    as text: a cell is never a formula or an error value, whatever it starts with.
    Non-finite numbers, which Excel cannot store, are left empty.
    """
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as writer:
        for name, df in tables.items():
            out = _sanitize(df, sanitize).copy()
            for col in out.columns:  # Excel cannot store tz-aware datetimes
                if isinstance(out[col].dtype, pd.DatetimeTZDtype):
                    out[col] = out[col].dt.tz_localize(None)
                elif pd.api.types.is_float_dtype(out[col]):
                    out[col] = out[col].where(np.isfinite(out[col].to_numpy(dtype=float)))
            out.to_excel(writer, sheet_name=name[:31], index=False)
            _text_never_formula(writer.sheets[name[:31]], out)
    return buf.getvalue()


def _text_never_formula(sheet, frame: pd.DataFrame) -> None:
    """Store as text every string cell openpyxl typed as a formula (``=...``) or error (``#N/A``)."""
    text_cols = [i + 1 for i, c in enumerate(frame.columns)
                 if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_datetime64_any_dtype(frame[c]))]
    for cell in sheet[1]:
        if isinstance(cell.value, str) and cell.data_type in ("f", "e"):
            cell.data_type = "s"
    for col in text_cols:
        for (cell,) in sheet.iter_rows(min_row=2, min_col=col, max_col=col):
            if cell.data_type in ("f", "e") and isinstance(cell.value, str):
                cell.data_type = "s"


def rich_table_text(frame: pd.DataFrame, title: str | None = None, width: int | None = None,
                    fit: bool = False) -> str:
    """Render a DataFrame as a rich table (returned as text, for a terminal).

    ``width`` is the line width (default 200). With ``fit``, the table never exceeds it:
    trailing columns that do not fit are left out (the view's first columns are the
    important ones) and a last line says how many, instead of a box broken by wrapping.
    """
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    from .text import printable

    width = width or 200
    # Text, not markup ("[red]P1[/red]" is an id, not a colour); control characters escaped.
    cells = [[printable(_format_cell(v)) for v in frame.iloc[:, i]] for i in range(frame.shape[1])]
    dropped = 0
    if fit:
        keep = _columns_that_fit([printable(c) for c in frame.columns], cells, width)
        dropped = frame.shape[1] - keep
        frame, cells = frame.iloc[:, :keep], cells[:keep]
    table = Table(title=title, show_lines=False, header_style="bold")
    for col in frame.columns:
        numeric = pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col])
        table.add_column(Text(printable(col)), justify="right" if numeric else "left")
    for row in zip(*cells):
        table.add_row(*(Text(cell) for cell in row))
    console = Console(file=io.StringIO(), width=width, force_terminal=False, color_system=None)
    console.print(table)
    text = console.file.getvalue()
    if dropped:
        text += f"… {dropped} more column{'s' if dropped != 1 else ''}: use -f csv\n"
    return text


def _columns_that_fit(headers: list[str], cells: list[list[str]], width: int) -> int:
    """How many leading columns a rich table (heavy head box, padding 1) draws within ``width``."""
    from rich.cells import cell_len

    used = 1  # the left edge
    for n, (header, column) in enumerate(zip(headers, cells)):
        natural = max([cell_len(header), *(max((cell_len(line) for line in v.splitlines()), default=0)
                                           for v in column)])
        used += natural + 3  # padding either side and the right border
        if used > width:
            return max(n, 1)
    return len(headers)


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
    sanitize: bool | None = None,
) -> None:
    """Write result tables in ``fmt`` to ``output`` (a path, or ``None``/``"-"`` for stdout).

    The first table is the main result. csv/jsonl/parquet/table on stdout carry only the main
    table plus, for ``table``, the others below it; json and xlsx carry all tables.
    Files are written with :func:`atomic_write`. On a terminal, ``table`` fits the
    terminal's width (trailing columns left out, with a note) and ``xlsx`` and ``parquet`` are refused.
    ``sanitize`` (default: the context's setting, on) neutralises formula-like text in
    csv and xlsx (:func:`neutralise`).

    Raises
    ------
    OutputError
        The output cannot be written, or binary xlsx would go to a terminal (exit code 2).
    """
    stdout = stdout or sys.stdout
    to_stdout = output in (None, "-")
    if decimals is not None:
        tables = {name: round_floats(df, decimals) for name, df in tables.items()}
    if fmt == "table" and table_columns:
        tables = {
            name: df[[c for c in table_columns[name] if c in df.columns]] if name in table_columns else df
            for name, df in tables.items()
        }
    names = list(tables)
    main = tables[names[0]]
    if fmt == "parquet":
        _write_binary(to_parquet_bytes(main), "parquet", output, stdout)
        return
    if fmt == "xlsx":
        if to_stdout:
            if _isatty(stdout):
                raise OutputError("xlsx output is binary: use -o FILE.xlsx or redirect stdout", exit_code=2)
            if getattr(stdout, "buffer", None) is None:
                raise OutputError("xlsx output needs a file (-o FILE.xlsx) or a binary stdout", exit_code=2)
            _write_stdout(stdout, to_xlsx_bytes(tables, sanitize=sanitize))
            return
        if _is_terminal_path(output):
            raise OutputError("xlsx output is binary: use -o FILE.xlsx or redirect stdout", exit_code=2)
        atomic_write(output, to_xlsx_bytes(tables, sanitize=sanitize))
        return
    if fmt == "csv" and not to_stdout:  # a file takes the bytes as formatted: no round trip through str
        atomic_write(output, csv_parts(main, sanitize=sanitize))
        return
    if fmt == "csv":
        text = to_csv_text(main, sanitize=sanitize)
    elif fmt == "jsonl":
        text = to_jsonl_text(main)
    elif fmt == "json":
        text = to_json_text(tables, meta)
    elif fmt == "table":
        # A terminal gets a table as wide as the terminal; a pipe or file the fixed width.
        width = terminal_width() if to_stdout and _isatty(stdout) else None
        text = "\n".join(rich_table_text(df, title=name, width=width, fit=width is not None)
                         for name, df in tables.items() if len(df.columns))
    else:  # pragma: no cover - click restricts the choice
        raise ValueError(f"unknown format {fmt!r}")
    if to_stdout:
        _write_stdout(stdout, text)
    else:
        atomic_write(output, text)


def to_parquet_bytes(frame: pd.DataFrame) -> bytes:
    """A Parquet file of ``frame`` (no index; pyarrow's default compression)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    buf = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame.reset_index(drop=True), preserve_index=False), buf)
    return buf.getvalue()


def _write_binary(payload: bytes, what: str, output: str | None, stdout: IO) -> None:
    """A binary result to ``output`` or a binary stdout, never to a terminal (usage error)."""
    if output in (None, "-"):
        if _isatty(stdout) or getattr(stdout, "buffer", None) is None:
            raise OutputError(f"{what} output is binary: use -o FILE.{what} or redirect stdout", exit_code=2)
        _write_stdout(stdout, payload)
        return
    if _is_terminal_path(output):
        raise OutputError(f"{what} output is binary: use -o FILE.{what} or redirect stdout", exit_code=2)
    atomic_write(output, payload)


@contextlib.contextmanager
def open_atomic(path: str | None, *, binary_what: str | None = None) -> Iterator[IO[bytes]]:
    """A binary handle whose bytes reach ``path`` as :func:`atomic_write` would put them.

    For results written in parts (the streaming engine): a regular file is written to a
    temporary file beside it and renamed over it when the block ends without error (removed
    otherwise, and on SIGTERM/SIGINT/SIGHUP); stdout (``None`` or ``"-"``), devices and
    FIFOs are written in place. ``binary_what`` (e.g. ``"parquet"``) refuses a terminal.

    Raises
    ------
    OutputError
        The output cannot be written; the message names ``path`` as given.
    """
    shown = "stdout" if path in (None, "-") else os.fspath(path)
    if path in (None, "-"):
        if binary_what and _isatty(sys.stdout):
            raise OutputError(f"{binary_what} output is binary: use -o FILE.{binary_what} or redirect stdout",
                              exit_code=2)
        sys.stdout.flush()
        try:
            yield sys.stdout.buffer
            sys.stdout.buffer.flush()
        except OSError as exc:
            _discard_stdout(sys.stdout)
            raise OutputError(f"stdout: {exc.strerror or exc}") from exc
        return
    try:
        info, real = _target(shown)
        if _in_place(shown, info, real):
            if binary_what and _is_terminal_path(shown):
                raise OutputError(f"{binary_what} output is binary: use -o FILE.{binary_what} or redirect stdout",
                                  exit_code=2)
            with open(shown, "wb") as fh:
                yield fh
            return
        with _replacing(real, info) as fh:
            yield fh
    except OSError as exc:
        raise OutputError(f"{shown}: {exc.strerror or exc}") from exc


def terminal_width() -> int:
    """Columns of the terminal (``COLUMNS`` wins, as in :func:`shutil.get_terminal_size`)."""
    return max(shutil.get_terminal_size((100, 24)).columns, 20)


def _is_terminal_path(path: str) -> bool:
    """Whether ``path`` is a terminal device (``-o /dev/tty``)."""
    try:
        if not stat.S_ISCHR(os.stat(path).st_mode):
            return False
        fd = os.open(path, os.O_WRONLY | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    try:
        return os.isatty(fd)
    finally:
        os.close(fd)


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False
