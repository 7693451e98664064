"""Text as users send it: encodings (mixed ones too) and YAML within bounds.

One set of rules for every text input (data files, stdin, ``--columns`` maps, config
files): a UTF-8 byte-order mark means UTF-8; text that decodes as UTF-8 is UTF-8; text
without a single valid UTF-8 multi-byte character is latin-1 (every byte is a latin-1
character), and that choice is stated; a file that holds both (UTF-8 characters on one row,
a latin-1 byte on another, as when two exports are pasted together) cannot be read right
either way and is an error naming the file and both rows.

YAML is parsed with ``yaml.safe_load`` after its event stream has been checked against
:mod:`fourp1000.limits` (size, nesting depth, aliases), so a deeply nested or alias-bomb
document is refused in milliseconds rather than overflowing the stack.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from typing import BinaryIO

from .. import limits
from ..errors import InputError

_BOM = b"\xef\xbb\xbf"
_CHUNK = 8 * 1024 * 1024
# One UTF-8 multi-byte character (2 to 4 bytes).
_UTF8_CHAR = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_UTF8_NAMES = {"utf-8", "utf8", "utf_8", "u8", "utf-8-sig", "utf_8_sig"}


# Control and format characters (C0/C1, DEL, bidi overrides, line separators) a value may hold.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")


def printable(text: object) -> str:
    """``text`` with control characters escaped (``\\n``, ``\\x1b``, ``\\u202e``), so a value
    from the input cannot break a message or a terminal table into fake lines or drive the
    terminal.

    >>> printable("P1\\nrows read: 0")
    'P1\\\\nrows read: 0'
    """
    text = str(text)
    if not _UNSAFE.search(text):
        return text
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


@dataclass(frozen=True)
class Encoding:
    """The encoding a text is read with, and a note when it was a fallback (else None)."""

    name: str
    note: str | None = None


def check_encoding_name(name: str) -> str:
    """The codec's canonical name; an unknown or non-text codec is an :class:`InputError`.

    >>> check_encoding_name("Latin1")
    'iso8859-1'
    """
    try:
        info = codecs.lookup(name)
    except (LookupError, TypeError, ValueError):
        raise InputError(f"unknown encoding {name!r}; e.g. utf-8, latin-1, cp1252") from None
    if not getattr(info, "_is_text_encoding", True):
        raise InputError(f"{name!r} is not a text encoding; e.g. utf-8, latin-1, cp1252")
    return info.name


def _row_at(data: bytes, offset: int, first_row: int) -> int:
    return first_row + data.count(b"\n", 0, offset)


def _mixed(label: str, bad_row: int, byte: int, utf8_row: int) -> InputError:
    return InputError(f"{label}: row {bad_row}: byte 0x{byte:02x} is not UTF-8, but row {utf8_row} holds UTF-8 "
                      "text: the file mixes encodings; save it as UTF-8 (or give --encoding to read it all one way)")


def sniff_bytes(data: bytes, label: str, encoding: str | None = None) -> Encoding:
    """The encoding of ``data`` by the rules of the module docstring (the whole text is checked).

    A given ``encoding`` is used as it is, but bytes it cannot decode are an error naming the row.

    Examples
    --------
    >>> sniff_bytes("a,b\\nK\\u00f6ln,1\\n".encode("latin-1"), "f.csv").name
    'latin-1'
    >>> sniff_bytes("caf\\u00e9\\n".encode() + b"K\\xf6ln\\n", "f.csv")
    Traceback (most recent call last):
    ...
    fourp1000.errors.InputError: f.csv: row 2: byte 0xf6 is not UTF-8, but row 1 holds UTF-8 text: the file \
mixes encodings; save it as UTF-8 (or give --encoding to read it all one way)
    """
    if encoding is not None:
        name = check_encoding_name(encoding)
        try:
            data.decode(name)
        except UnicodeDecodeError as exc:
            raise InputError(f"{label}: row {_row_at(data, exc.start, 1)}: byte 0x{data[exc.start]:02x} cannot be "
                             f"decoded as {encoding}; check --encoding") from None
        return Encoding(name)
    if data.startswith(_BOM):
        body, name = data[3:], "utf-8-sig"
    else:
        body, name = data, "utf-8"
    try:
        body.decode("utf-8")
        return Encoding(name)
    except UnicodeDecodeError as exc:
        return _fallback(body, exc.start, label, offset=len(data) - len(body))


def _fallback(body: bytes, start: int, label: str, offset: int = 0) -> Encoding:
    """latin-1 when no valid UTF-8 character is anywhere in ``body``; else the mixed-encoding error."""
    bad_row = _row_at(body, start, 1)
    if offset:  # a UTF-8 BOM and then a byte that is not UTF-8
        raise _mixed(label, bad_row, body[start], 1)
    match = _UTF8_CHAR.search(body)
    if match is not None:
        raise _mixed(label, bad_row, body[start], _row_at(body, match.start(), 1))
    return Encoding("latin-1", f"read as latin-1: row {bad_row} holds byte 0x{body[start]:02x}, which is not UTF-8 "
                               "(--encoding sets the encoding)")


def utf8_sample_name(sample: bytes) -> str | None:
    """The name :func:`sniff_file` gives a file that is UTF-8 throughout and begins with
    ``sample`` (``utf-8-sig`` after a byte-order mark, else ``utf-8``); None when ``sample``
    itself is not UTF-8 (a character cut at its end is allowed).

    >>> utf8_sample_name("café".encode()), utf8_sample_name("café,1".encode("latin-1"))
    ('utf-8', None)
    """
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return None
    return "utf-8-sig" if sample.startswith(_BOM) else "utf-8"


class _RowCounter:
    """Line breaks in the chunks of ``fh`` read so far, counted only when a message needs a
    row number: a seekable file is read again up to the chunk at hand, other streams are
    counted as they pass."""

    def __init__(self, fh: BinaryIO):
        self.fh, self.lazy = fh, fh.seekable()
        self.start = self.chunk_start = fh.tell() if self.lazy else 0
        self.count = 0  # line breaks so far (streams that cannot seek)

    def passed(self, chunk: bytes) -> None:
        """``chunk`` is done with; the next one starts where the file now stands."""
        if self.lazy:
            self.chunk_start = self.fh.tell()
        else:
            self.count += chunk.count(b"\n")

    def before(self, chunk: bytes) -> int:
        """Line breaks before ``chunk``, the chunk at hand."""
        if not self.lazy:
            return self.count
        here = self.fh.tell()
        self.fh.seek(self.start)
        todo, n = self.chunk_start - self.start, 0
        while todo > 0:
            block = self.fh.read(min(todo, _CHUNK))
            if not block:
                break
            n += block.count(b"\n")
            todo -= len(block)
        self.fh.seek(here)
        return n


def sniff_file(fh: BinaryIO, label: str, encoding: str | None = None) -> Encoding:
    """:func:`sniff_bytes` on a file read in chunks (a file larger than memory is checked too).

    The file is read from its current position to its end; the caller seeks back.
    """
    if encoding is not None and check_encoding_name(encoding).replace("_", "-") not in _UTF8_NAMES | {"utf-8"}:
        return sniff_bytes(fh.read(), label, encoding)  # non-UTF-8 codecs: decoded whole, checked whole
    decoder = codecs.getincrementaldecoder("utf-8")()
    rows = _RowCounter(fh)
    head = fh.read(_CHUNK)
    name = "utf-8-sig" if head.startswith(_BOM) and encoding is None else "utf-8"
    chunk, seen_utf8_row = (head[3:] if name == "utf-8-sig" else head), None
    while chunk:
        try:
            if not (chunk.isascii() and decoder.getstate()[0] == b""):  # ASCII is UTF-8: no need to decode it
                decoder.decode(chunk)
        except UnicodeDecodeError as exc:
            start = max(exc.start, 0)
            rows_before = rows.before(chunk)
            if encoding is not None:
                raise InputError(f"{label}: row {rows_before + _row_at(chunk, start, 1)}: byte "
                                 f"0x{chunk[start]:02x} cannot be decoded as {encoding}; check --encoding") from None
            rest = chunk + fh.read()
            found = _UTF8_CHAR.search(rest, 0, start)
            if seen_utf8_row is None and found is not None:
                seen_utf8_row = rows_before + _row_at(rest, found.start(), 1)
            bad_row = rows_before + _row_at(rest, start, 1)
            if seen_utf8_row is not None or name == "utf-8-sig":
                raise _mixed(label, bad_row, rest[start], seen_utf8_row or 1)
            later = _UTF8_CHAR.search(rest, start)
            if later is not None:
                raise _mixed(label, bad_row, rest[start], rows_before + _row_at(rest, later.start(), 1))
            return Encoding("latin-1", f"read as latin-1: row {bad_row} holds byte 0x{rest[start]:02x}, which is "
                                       "not UTF-8 (--encoding sets the encoding)")
        if seen_utf8_row is None and not chunk.isascii():
            found = _UTF8_CHAR.search(chunk)
            seen_utf8_row = None if found is None else rows.before(chunk) + _row_at(chunk, found.start(), 1)
        rows.passed(chunk)
        chunk = fh.read(_CHUNK)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        raise InputError(f"{label}: the file ends inside a UTF-8 character (cut short?)") from None
    return Encoding(name)


def decode(data: bytes, label: str, encoding: str | None = None) -> tuple[str, Encoding]:
    """``data`` as text by the module's rules, and the encoding used."""
    found = sniff_bytes(data, label, encoding)
    return data.decode(found.name), found


def _loader():
    """The safe loader (libyaml's when present) without implicit timestamps: a date stays the
    text written, so an impossible one (``2019-02-31``) is reported by row like any value."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class Loader(base):  # type: ignore[valid-type, misc]
        pass

    Loader.yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
        for first, resolvers in base.yaml_implicit_resolvers.items()
    }
    return Loader


def _check_events(text: str, label: str) -> None:
    """Nesting depth and aliases of a YAML text, from its event stream (no recursion)."""
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    max_depth, max_aliases = limits.limit("MAX_YAML_DEPTH"), limits.limit("MAX_YAML_ALIASES")
    depth = aliases = 0
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > max_depth:
                line = event.start_mark.line + 1 if event.start_mark else "?"
                raise InputError(f"{label}: line {line}: YAML nested more than {max_depth} levels deep "
                                 "(set FOURP1000_MAX_YAML_DEPTH to raise the limit)")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > max_aliases:
                raise InputError(f"{label}: more than {max_aliases:,} YAML aliases (*name) "
                                 "(set FOURP1000_MAX_YAML_ALIASES to raise the limit)")


def load_yaml(data: bytes, label: str, *, size_limit: str = "MAX_YAML_BYTES"):
    """A YAML document from bytes (``yaml.safe_load``), within the limits; errors name the file.

    ``size_limit`` is the :mod:`fourp1000.limits` name bounding ``len(data)``
    (``MAX_CONFIG_BYTES`` for config files and column maps).

    Examples
    --------
    >>> load_yaml(b"# a comment\\nfarm_id: F1\\n", "farm.yaml")
    {'farm_id': 'F1'}
    >>> load_yaml(b"[" * 100 + b"]" * 100, "deep.yaml")
    Traceback (most recent call last):
    ...
    fourp1000.errors.InputError: deep.yaml: line 1: YAML nested more than 32 levels deep (set \
FOURP1000_MAX_YAML_DEPTH to raise the limit)
    """
    import yaml

    limits.check(size_limit, label, len(data))
    text, _ = decode(data, label)
    text = text.lstrip("\ufeff")
    try:
        _check_events(text, label)
        return yaml.load(text, Loader=_loader())  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}:" if mark is not None else ""
        raise InputError(f"{label}:{where} not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:  # a structure the event check let through (should not happen)
        raise InputError(f"{label}: YAML nested too deeply") from None
    except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date 2019-02-31: a value YAML cannot build
        raise InputError(f"{label}: not valid YAML: {exc}") from None


def read_yaml_file(path: str, *, size_limit: str = "MAX_CONFIG_BYTES"):
    """:func:`load_yaml` of a file (a config file or ``--columns`` map by default), read once."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(limits.limit(size_limit) + 1)
    except OSError as exc:
        raise InputError(f"{path}: {exc.strerror or exc}") from None
    return load_yaml(data, str(path), size_limit=size_limit)


__all__ = ["printable", "Encoding", "check_encoding_name", "sniff_bytes", "sniff_file", "utf8_sample_name", "decode", "load_yaml", "read_yaml_file"]
