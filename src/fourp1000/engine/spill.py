"""Result tables kept on disk while a file is streamed, read back in the input's order.

Each part of the input gives a few rows of each result table (plots, rejected rows, ...)
with a sort key: the position in the input of the row or record they come from (plus the
model's rank, for several models). The pieces are appended to temporary files by key range,
so reading the ranges in turn and sorting each gives every table in the order the in-memory
run gives it, holding one range at a time, whatever order the parts came in.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd


class Spill:
    """Named tables written in pieces (with int64 sort keys), read back sorted by key.

    Parameters
    ----------
    folder : Path
        A private temporary folder (the files are pickles this process writes and reads).
    range_rows : int
        Width of a key range: one file per table and range, read back one at a time.
    """

    def __init__(self, folder: Path, range_rows: int):
        self.folder = Path(folder)
        self.range_rows = max(int(range_rows), 1)
        self.templates: dict[str, pd.DataFrame] = {}  # an empty frame with each table's columns
        self.ranges: dict[str, set[int]] = {}
        self.counts: dict[str, int] = {}

    def add(self, name: str, frame: pd.DataFrame, keys: np.ndarray) -> None:
        """Append ``frame``'s rows to table ``name``, sorted later by ``keys``."""
        self.templates.setdefault(name, frame.iloc[:0])
        self.ranges.setdefault(name, set())
        self.counts[name] = self.counts.get(name, 0) + len(frame)
        if not len(frame):
            return
        keys = np.asarray(keys, dtype=np.int64)
        bucket = keys // self.range_rows
        for b in np.unique(bucket):
            at = np.flatnonzero(bucket == b)
            with open(self.folder / f"{name}.{int(b)}.pkl", "ab") as fh:
                pickle.dump((keys[at], frame.iloc[at]), fh, protocol=pickle.HIGHEST_PROTOCOL)
            self.ranges[name].add(int(b))

    def frames(self, name: str) -> Iterator[pd.DataFrame]:
        """Table ``name`` one key range at a time, rows sorted by key (nothing for an empty table)."""
        for b in sorted(self.ranges.get(name, ())):
            keys, pieces = [], []
            with open(self.folder / f"{name}.{b}.pkl", "rb") as fh:
                while True:
                    try:
                        k, piece = pickle.load(fh)
                    except EOFError:
                        break
                    keys.append(k)
                    pieces.append(piece)
            order = np.argsort(np.concatenate(keys), kind="stable")
            frame = pieces[0] if len(pieces) == 1 else concat(pieces)
            yield frame.iloc[order].reset_index(drop=True)

    def whole(self, name: str) -> pd.DataFrame:
        """Table ``name`` in one frame (for the small tables: digests, problems)."""
        parts = list(self.frames(name))
        if not parts:
            return self.templates.get(name, pd.DataFrame()).reset_index(drop=True)
        return parts[0] if len(parts) == 1 else concat(parts)


def concat(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Frames one below the other; categorical columns stay categorical (their categories united)."""
    frames = list(frames)
    for col in frames[0].columns:
        if all(isinstance(f[col].dtype, pd.CategoricalDtype) for f in frames if col in f):
            cats = pd.api.types.union_categoricals([f[col] for f in frames if col in f]).categories
            frames = [f.assign(**{col: f[col].cat.set_categories(cats)}) if col in f else f for f in frames]
    return pd.concat(frames, ignore_index=True)
