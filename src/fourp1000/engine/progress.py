"""A progress bar for a streamed run: rows and bytes read, rate and time left (stderr, terminals only)."""

from __future__ import annotations

import sys


class Progress:
    """Rows read of ``total_rows`` (and their share of ``total_bytes``), with an ETA.

    Shown on stderr only when it is a terminal and the run is not quiet; otherwise every
    method does nothing, so a pipe or a CI log gets no control characters.
    """

    def __init__(self, total_rows: int, total_bytes: int, *, quiet: bool = False):
        self.total_rows = max(int(total_rows), 1)
        self.total_bytes = int(total_bytes)
        self.active = not quiet and sys.stderr.isatty()
        self._bar = None
        self._task = None

    def __enter__(self) -> Progress:
        if self.active:
            from rich.console import Console
            from rich.progress import (BarColumn, MofNCompleteColumn, Progress as Bar, TextColumn,
                                       TimeRemainingColumn)

            self._bar = Bar(TextColumn("Streaming"), BarColumn(), MofNCompleteColumn(), TextColumn("rows"),
                            TextColumn("{task.fields[mb]}"), TimeRemainingColumn(),
                            console=Console(stderr=True), transient=True)
            self._task = self._bar.add_task("rows", total=self.total_rows, mb=self._bytes(0))
            self._bar.start()
        return self

    def advance(self, rows: int) -> None:
        """``rows`` more rows read."""
        if self._bar is not None:
            task = self._bar.tasks[0]
            done = task.completed + rows
            self._bar.update(self._task, completed=done, mb=self._bytes(done))

    def _bytes(self, done: int) -> str:
        read = self.total_bytes * min(done / self.total_rows, 1.0)
        return f"{read / 1e6:,.0f}/{self.total_bytes / 1e6:,.0f} MB"

    def __exit__(self, *exc) -> bool:
        if self._bar is not None:
            self._bar.stop()
        return False
