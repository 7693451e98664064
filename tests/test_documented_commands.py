"""Every documented command line runs on the shipped examples and exits as documented.

The command lines are extracted from README.md and docs/*.md (code blocks, and inline
``fourp1000 ...`` spans that name a file) and from the ``Example:``/``Examples:`` section of
every command's ``--help``. Each distinct one runs once, through ``CliRunner``, in a
temporary folder holding ``examples/`` and ``tests/data/`` (the docs cite both), and, when the
reference data is there, the official RothC input file as ``RothC_input.dat``. A documented ``# exit N`` comment (e.g. for
``--check``) allows N beside 0; otherwise the command must exit 0. Lines that need a file
of the user's (no shipped example fits) are listed in :data:`ILLUSTRATIVE` with the reason;
the test fails if a listed line is no longer documented, so the list cannot go stale.
"""

from __future__ import annotations

import re
import shlex
import shutil
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted((ROOT / "docs").glob("*.md"))
# The generated reference repeats the --help examples, which are collected from --help itself.
SOURCES = [ROOT / "README.md"] + [d for d in DOCS if d.name != "cli-reference.md"]

#: Documented command lines that need a file of the user's: command line -> why.
ILLUSTRATIVE = {
    "_FOURP1000_COMPLETE=fish_source fourp1000 > ~/.config/fish/completions/fourp1000.fish":
        "installs shell completion into the user's own shell configuration",
    "fourp1000 compare followup_2025.csv baseline_2020.csv --depth 10,30,50":
        "the two-file form needs the user's baseline and follow-up files; examples/campaigns.csv holds both "
        "samplings in one file",
    "fourp1000 compare followup.csv baseline.csv --years 10 --bd-ptf none":
        "the two-file form with undated samplings needs the user's two files",
    "fourp1000 score farms.parquet --on-error skip --rejects rejected.csv -o scores.csv":
        "shows Parquet input; no Parquet file is shipped (tests/test_input.py reads Parquet)",
    "fourp1000 score farm.csv --uncertainty --draws 10000":
        "farm.csv is the ten-plot farm listed just above it in docs/uncertainty.md",
    "fourp1000 score 'plots-*.csv' --engine dask -o scores.csv":
        "a glob over the user's own CSV files; `score examples/plots.csv --engine dask` runs above it",
    "fourp1000 estimate plots_dataset/ --engine dask -o stocks/":
        "a partitioned Parquet dataset of the user's (tests/test_dask.py writes and reads one)",
    "fourp1000 score /shared/plots/ --engine dask --scheduler tcp://HOST:8786 -o /shared/scores/":
        "needs a running Dask cluster at HOST (tests/test_dask.py runs a 2-worker local cluster)",
    "SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) fourp1000 report examples/plots.csv -o report.html":
        "needs a git checkout; the same command with SOURCE_DATE_EPOCH=0 is in `report --help`",
}
_EXIT = re.compile(r"#.*\bexit (\d)")
# A shell line that runs fourp1000 (after environment settings, a `cat FILE |` or an install).
_COMMAND = re.compile(r"^(?:[A-Z_][A-Z0-9_]*=(?:\$\([^)]*\)|\S*)\s+)*(?:cat \S+ \|\s*)?(?:python -m pip install [^&]*&&\s*)?fourp1000\s")
#: The official RothC input file, from the reference data (not shipped with the package).
ROTHC_INPUT = Path("rothc") / "RothC_Code_v2.0.0" / "RothC_input.dat"
_FENCE = re.compile(r"```[a-z]*\n(.*?)```", re.S)
_INLINE = re.compile(r"`(fourp1000 [^`]+)`")


def _doc_lines() -> list[tuple[str, str]]:
    out = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        for block in _FENCE.findall(text):
            out += [(path.name, ln.strip()) for ln in block.splitlines() if _COMMAND.match(ln.strip())]
        prose = _FENCE.sub("", text)
        out += [(path.name, span) for span in _INLINE.findall(prose) if _runnable_span(span)]
    return out


def _runnable_span(span: str) -> bool:
    """An inline span that is a whole command line: it names a file (a bare command name or a
    synopsis with FILE is a reference to the command, not a line to run)."""
    words = span.split()
    return any("." in w and "/" in w or w.endswith((".csv", ".yaml", ".xlsx", ".html")) for w in words[2:]) \
        and not any(w.isupper() for w in words)


def _help_lines() -> list[tuple[str, str]]:
    ctx = click.Context(main)
    out = []
    for name in main.list_commands(ctx):
        text = main.get_command(ctx, name).help or ""
        section = re.split(r"\n\s*Examples?:\n", text)
        if len(section) > 1:
            out += [(f"{name} --help", ln.strip()) for ln in section[1].splitlines() if "fourp1000 " in ln]
    main_help = main.help or ""
    out += [("fourp1000 --help", ln.strip()) for ln in main_help.split("Example:")[-1].splitlines()
            if "fourp1000 " in ln]
    return out


def documented() -> list[tuple[str, str]]:
    """(where, command line) of every documented command line, each line once."""
    seen, out = set(), []
    for where, line in _doc_lines() + _help_lines():
        if line not in seen:
            seen.add(line)
            out.append((where, line))
    return out


def parse(line: str) -> tuple[list[str], dict[str, str], str | None, set[int]]:
    """A documented line -> (arguments after ``fourp1000``, environment, stdin file, allowed exits)."""
    allowed = {0}
    match = _EXIT.search(line)
    if match:
        allowed.add(int(match.group(1)))
    line = line.split(" #")[0].strip()
    line = line.split("&&")[-1].strip()  # "python -m pip install . && fourp1000 ..."
    stdin = None
    if "|" in line:
        feed, line = (part.strip() for part in line.split("|", 1))
        words = shlex.split(feed)
        assert words[0] == "cat" and len(words) == 2, f"unsupported pipe: {feed}"
        stdin = words[1]
    line = re.split(r"\s>\s", line)[0]  # "> stocks.csv": stdout is captured anyway
    words = shlex.split(line)
    env = {}
    while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    assert words and words[0] == "fourp1000", f"not a fourp1000 command line: {line}"
    return words[1:], env, stdin, allowed


LINES = documented()


def test_illustrative_lines_are_still_documented():
    lines = {line.split(" #")[0].strip() for _, line in LINES}
    assert set(ILLUSTRATIVE) <= lines, set(ILLUSTRATIVE) - lines


def test_the_docs_have_command_lines():
    wheres = {where for where, _ in LINES}
    assert "README.md" in wheres and "tutorial.md" in wheres and "estimate --help" in wheres
    assert len(LINES) > 40


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("documented")
    shutil.copytree(ROOT / "examples", folder / "examples")
    shutil.copytree(ROOT / "tests" / "data", folder / "tests" / "data")
    return folder


@pytest.mark.parametrize("where, line", [item for item in LINES if item[1].split(" #")[0].strip()
                                         not in ILLUSTRATIVE], ids=lambda v: v if len(v) < 60 else v[:60])
def test_documented_command_runs(where, line, workdir, monkeypatch, request):
    args, env, stdin, allowed = parse(line)
    if "RothC_input.dat" in args:
        source = request.getfixturevalue("reference_dir") / ROTHC_INPUT  # skips without the reference data
        shutil.copyfile(source, workdir / "RothC_input.dat")
    monkeypatch.chdir(workdir)
    data = (workdir / stdin).read_bytes() if stdin else None
    result = CliRunner().invoke(main, args, input=data, env=env, catch_exceptions=False)
    assert result.exit_code in allowed, f"{where}: {line}\nexit {result.exit_code}\n{result.stderr[-2000:]}"
    assert "Traceback" not in result.stderr
