"""Arrow's CSV read of an input file, started while the program starts.

A command's first half second is spent importing pandas and the science, on one core.
Arrow parses CSV on threads of its own that run without Python's lock (the GIL), so the
input file can be parsed meanwhile: :func:`start` begins reading the file a command line
names (before the command's modules are imported), and :func:`read_csv_table`, the one
place the readers parse a CSV file with Arrow, takes that result when it reads the same
file, unchanged since, with the same separator. Anything else is read as usual (a result
nobody takes is only held until the process ends). The bytes parsed, the options and so
the table are the same either way.

This module imports nothing heavy: it runs before pandas is loaded.
"""

from __future__ import annotations

import os
import stat
import threading

#: Files smaller than this are read in the time it takes to start a thread: not worth it.
MIN_BYTES = 4 << 20
#: Arrow's reader needs a type for these columns: identifiers are text, even when all digits.
ID_COLUMNS = ("plot_id", "farm_id", "core_id", "sampled_on", "climate_id")
#: The names of the files read as CSV text (:data:`fourp1000.io.readers.INPUT_FORMATS`).
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
_SEPARATORS = (",", ";", "\t", "|")

_lock = threading.Lock()
_pending: dict[tuple, _Read] = {}


class _Read(threading.Thread):
    """One file read on a thread; :meth:`outcome` waits for the table (or raises its error)."""

    def __init__(self, path: str, sep: str):
        super().__init__(name="fourp1000-prefetch")  # not a daemon: the process waits for Arrow to finish
        self.path, self.sep = path, sep
        self.table = self.error = None

    def run(self) -> None:
        try:
            self.table = parse_csv(self.path, self.sep)
        except BaseException as exc:  # noqa: BLE001 - kept, raised where the table is taken
            self.error = exc

    def outcome(self):
        self.join()
        if self.error is not None:
            raise self.error
        return self.table


def parse_csv(path: str | os.PathLike, sep: str):
    """``path`` parsed by Arrow's multithreaded CSV reader: identifier columns as text, empty
    cells missing, empty lines kept (row numbers stay the file's). Raises Arrow's errors."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    return pacsv.read_csv(
        pa.input_stream(str(path), compression=None),  # never unpacked by its name
        parse_options=pacsv.ParseOptions(delimiter=sep, ignore_empty_lines=False),
        convert_options=pacsv.ConvertOptions(column_types={c: pa.string() for c in ID_COLUMNS},
                                             strings_can_be_null=True),
    )


def start(path: str, below_bytes: int) -> None:
    """Begin parsing ``path`` on a thread when it is a regular CSV file (``.csv``, ``.txt``,
    ``.tsv``) of at least ``MIN_BYTES`` and less than ``below_bytes`` whose first line holds a separator (the most
    frequent of ``, ; tab |``); otherwise do nothing."""
    if not path.lower().endswith(CSV_SUFFIXES):
        return
    key = _key(path)
    if key is None or not MIN_BYTES <= key[2] < below_bytes:
        return
    try:
        with open(path, "rb") as fh:
            head = fh.read(64 * 1024).split(b"\n", 1)[0]
    except OSError:
        return
    counts = {sep: head.count(sep.encode()) for sep in _SEPARATORS}
    sep = max(counts, key=counts.get)
    if not counts[sep]:
        return
    read = _Read(str(path), sep)
    with _lock:
        _pending[(*key, sep)] = read
    read.start()


def read_csv_table(path: str | os.PathLike, sep: str):
    """The Arrow table of ``path`` (:func:`parse_csv`): the one :func:`start` began, when
    the file is unchanged and the separator the same; else parsed now."""
    key = _key(str(path))
    with _lock:
        read = _pending.pop((*key, sep), None) if key is not None else None
    if read is not None:
        return read.outcome()
    return parse_csv(path, sep)


def _key(path: str) -> tuple | None:
    """What identifies a file's content here: device, inode, size, modification time."""
    try:
        st = os.stat(path)
    except (OSError, ValueError):
        return None
    if not stat.S_ISREG(st.st_mode):  # never a FIFO or a device: they are read once
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)
