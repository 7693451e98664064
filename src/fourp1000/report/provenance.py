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


#: Command-line flags of the options whose flag is not ``--`` + the name with dashes.
OPTION_FLAGS = {"practices": "--practice", "models": "--model", "stone_density_g_cm3": "--stone-density",
                "depth_tolerance_cm": "--depth-tolerance", "observed_confidence": "--confidence"}


def value_words(value: object) -> str:
    """An option value as a reader writes it: ``yes``/``no``, ``not set``, ``1.724``, lists comma-separated."""
    if value is None:
        return "not set"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, ClimateTable):
        return value.label
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (tuple, list)):
        return ", ".join(value_words(v) for v in value) if value else "none"
    return str(value)


def settings(options: object) -> list[tuple[str, str]]:
    """The options of a run as ``(flag, value)`` pairs, nested options flattened.

    The stock interval (``top_cm``, ``bottom_cm``) is one ``--depth`` entry in cm; no
    practice given on the command line reads "from the file".
    """
    if options is None or not dataclasses.is_dataclass(options):
        return []
    rows: list[tuple[str, str]] = []
    fields = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    if {"top_cm", "bottom_cm"} <= fields.keys():
        rows.append(("--depth", f"{fields.pop('top_cm'):g}–{fields.pop('bottom_cm'):g} cm"))
    for name, value in fields.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            rows += settings(value)
        elif name == "practices" and not value:
            rows.append((OPTION_FLAGS[name], "from the file (practices column)"))
        else:
            rows.append((OPTION_FLAGS.get(name, "--" + name.replace("_", "-")), value_words(value)))
    return rows


__all__ = ["CHUNK_BYTES", "OPTION_FLAGS", "InputFile", "report_time", "settings", "value_words"]
