"""Exceptions raised by the library.

The library never prints or exits: it raises one of these, and the CLI maps them, in one
place (:func:`fourp1000.cli.main`), to a one-line ``Error: ...`` on stderr and an exit code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping


class FourP1000Error(Exception):
    """Base class of every error the library raises on purpose.

    Parameters
    ----------
    message : str
        The one-line message shown to the user.
    rows : iterable of int, optional
        Every 1-based data row the error concerns (the message names the first); None for
        an error about a whole file or run. A caller that validates a table rejects these
        rows and keeps the others.
    column : str, optional
        The input column at fault.
    value : object, optional
        The offending value (for an unknown categorical value).
    valid : iterable of str, optional
        The accepted values.
    """

    exit_code = 1
    #: The :attr:`Problem.rule` of the problems made from this error.
    rule = "invalid_value"

    def __init__(self, message: str = "", *, rows: Iterable[int] | None = None, column: str | None = None,
                 value: object = None, valid: Iterable[str] | None = None) -> None:
        super().__init__(message)
        self.rows: list[int] | None = None if rows is None else [int(r) for r in rows]
        self.column = column
        self.value = value
        self.valid: list[str] | None = None if valid is None else list(valid)

    def problems(self, file: str, plot_ids: Mapping[int, str] | None = None) -> list[Problem]:
        """One :class:`Problem` per row of the error (one without a row if it names none).

        ``plot_ids`` maps a row to its plot. Each problem carries the error's message; one
        without rows gets the rule ``"projection"`` (it stops the whole run).
        """
        if self.rows is None:
            return [Problem(file, None, self.column, "projection", str(self))]
        plot_ids = plot_ids or {}
        return [Problem(file, row, self.column, self.rule, str(self), plot_ids.get(row)) for row in self.rows]


def did_you_mean(value: object, valid: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest valid value (difflib ratio >= 0.6), else ``""``.

    >>> did_you_mean("no_tilll", ["no_till", "manure"])
    "; did you mean 'no_till'?"
    """
    import difflib

    close = difflib.get_close_matches(str(value), [str(v) for v in valid], n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class InputError(FourP1000Error):
    """The input data cannot be used (missing column, bad value, bad file)."""


class UnitError(InputError):
    """A unit is unknown, ambiguous or of the wrong dimension."""


class UnknownFactorError(InputError):
    """A categorical value (climate zone, practice, ...) is not in a reference table."""

    rule = "unknown_value"


class ReferenceDataError(FourP1000Error):
    """A shipped coefficient table is malformed (a packaging bug, not a user error)."""


@dataclass
class Problem:
    """One problem found while validating input: where it is and what was expected.

    ``row`` is the 1-based data row number as a user sees it in the file (the header is
    not counted), or ``None`` for a problem that concerns a whole file or plot.
    """

    file: str
    row: int | None
    column: str | None
    rule: str
    message: str
    plot_id: str | None = None
    severity: str = "error"  # "error" rejects the row; "warning" is reported only

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where[:1])}: {', '.join(where[1:])}{': ' if len(where) > 1 else ''}{self.message}"


@dataclass
class ValidationError(InputError):
    """Input failed validation; carries every problem found, not only the first."""

    problems: list[Problem] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__(self.summary())

    def summary(self) -> str:
        n = len(self.problems)
        first = str(self.problems[0]) if self.problems else "invalid input"
        return first if n == 1 else f"{n} problems in input; first: {first}"
