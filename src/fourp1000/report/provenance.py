"""Where a report comes from: input checksums, tool version, options and time of generation.

References
----------
.. [1] Reproducible Builds (2017) SOURCE_DATE_EPOCH specification, version 1.1.
   https://reproducible-builds.org/specs/source-date-epoch/
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from ..io.climate import ClimateTable

#: Bytes hashed at a time: large inputs are never held in memory.
CHUNK_BYTES = 1 << 20


@dataclass(frozen=True)
class InputFile:
    """A file as the report names it: name, size [bytes] and SHA-256 (hex)."""

    name: str
    size_bytes: int
    sha256: str

    @classmethod
    def from_bytes(cls, name: str, data: bytes) -> InputFile:
        """Name, size and checksum of bytes already read (e.g. stdin)."""
        return cls(name, len(data), hashlib.sha256(data).hexdigest())

    @classmethod
    def from_path(cls, path: str | os.PathLike) -> InputFile:
        """Hash a file in chunks of :data:`CHUNK_BYTES`."""
        digest = hashlib.sha256()
        size = 0
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(CHUNK_BYTES), b""):
                digest.update(chunk)
                size += len(chunk)
        return cls(Path(path).name, size, digest.hexdigest())


def report_time(environ: Mapping[str, str] | None = None) -> datetime:
    """Time of generation (UTC): ``SOURCE_DATE_EPOCH`` [s since 1970] when set [1]_, else now.

    Parameters
    ----------
    environ : mapping, optional
        Environment to read; default :data:`os.environ`.

    Returns
    -------
    datetime.datetime
        Timezone-aware (UTC), whole seconds.

    Raises
    ------
    ValueError
        If ``SOURCE_DATE_EPOCH`` is set but not an integer.
    """
    env = os.environ if environ is None else environ
    epoch = env.get("SOURCE_DATE_EPOCH", "").strip()
    if epoch:
        try:
            return datetime.fromtimestamp(int(epoch), tz=timezone.utc)
        except ValueError:
            raise ValueError(f"SOURCE_DATE_EPOCH must be an integer number of seconds, got {epoch!r}") from None
    return datetime.now(tz=timezone.utc).replace(microsecond=0)


def option_rows(options: object) -> list[tuple[str, str]]:
    """Every option of a (nested) options dataclass as ``(name, text)`` pairs.

    Nested options are named ``outer.inner``; sequences are comma-separated; a climate
    table is named by its file (its checksum is listed with the inputs).
    """
    if options is None or not dataclasses.is_dataclass(options):
        return []
    rows: list[tuple[str, str]] = []
    for field in dataclasses.fields(options):
        value = getattr(options, field.name)
        if isinstance(value, ClimateTable):
            rows.append((field.name, value.label))
        elif dataclasses.is_dataclass(value):
            rows += [(f"{field.name}.{key}", text) for key, text in option_rows(value)]
        elif isinstance(value, (tuple, list)):
            rows.append((field.name, ", ".join(map(str, value))))
        else:
            rows.append((field.name, str(value)))
    return rows


__all__ = ["CHUNK_BYTES", "InputFile", "option_rows", "report_time"]
