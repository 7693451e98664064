"""Hostile and careless input: every case one clear ``Error:`` line (or handled), the
documented exit code, no traceback, within seconds and bounded memory (issue 15, items 3-6).

Cases that could hang or blow up run in a subprocess with a timeout and an address-space
limit (:func:`run_bounded`); the others run through ``CliRunner``.
"""

from __future__ import annotations

import io
import json
import os
import resource
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main

ROOT = Path(__file__).resolve().parents[1]
SRC = str(ROOT / "src")
EXAMPLES = ROOT / "examples"
HEADER = "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3"
GOOD = f"{HEADER}\nP1,0,30,1.2,1.35\nP2,0,30,1.4,1.30\n"
MEMORY_BYTES = 2 * 1024 ** 3


def invoke(*args, data=None, env=None):
    return CliRunner().invoke(main, [str(a) for a in args], input=data, env=env)


def one_error(result, code: int = 1) -> str:
    """Assert the documented exit code, no traceback and an ``Error:`` line; return stderr."""
    assert result.exit_code == code, (result.exit_code, result.stderr[-2000:], result.stdout[-500:])
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert "Error:" in result.stderr
    return result.stderr


def _limit_memory():  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))


def run_bounded(*args, data: bytes | None = None, cwd=None, timeout: float = 30, env=None, shell=False):
    """The CLI in a subprocess, within ``timeout`` seconds and :data:`MEMORY_BYTES` of address space."""
    full_env = {**os.environ, "PYTHONPATH": SRC, **(env or {})}
    command = args[0] if shell else [sys.executable, "-m", "fourp1000", *map(str, args)]
    return subprocess.run(command, input=data, capture_output=True, cwd=cwd, timeout=timeout, env=full_env,
                          preexec_fn=_limit_memory, shell=shell, executable="/bin/bash" if shell else None)


def bounded_error(proc, code: int = 1) -> str:
    stderr = proc.stderr.decode("utf-8", "replace")
    assert proc.returncode == code, (proc.returncode, stderr[-2000:])
    assert "Traceback" not in stderr and "internal error" not in stderr and "MemoryError" not in stderr, stderr
    assert stderr.startswith("Error:") or "\nError:" in stderr, stderr
    return stderr


# --- 3. resource limits ----------------------------------------------------------------------

def test_ten_thousand_columns_refused_quickly_with_one_line(tmp_path):
    names = [f"c{i}" for i in range(10_000)]
    path = tmp_path / "wide.csv"
    path.write_text(f"{HEADER},{','.join(names)}\nP1,0,30,1.2,1.35,{','.join('1' * 10_000)}\n")
    start = time.monotonic()
    proc = run_bounded("estimate", path, "-q")
    stderr = bounded_error(proc)
    assert time.monotonic() - start < 20
    assert "10,005 columns" in stderr and "FOURP1000_MAX_COLUMNS" in stderr
    assert len(stderr.splitlines()) == 1


def test_many_columns_under_the_limit_are_quiet_under_q(tmp_path):
    names = [f"c{i}" for i in range(1_500)]
    path = tmp_path / "wide.csv"
    path.write_text(f"{HEADER},{','.join(names)}\nP1,0,30,1.2,1.35,{','.join('1' * 1_500)}\n")
    proc = run_bounded("estimate", path, "-q", "-f", "csv", timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == b""


@pytest.mark.parametrize("unit", ["g**99999999/kg", "((((((g))))))/kg", "g/0kg", "1e400 g/kg", "g" + "*g" * 200])
def test_crafted_unit_in_a_column_map_is_refused_quickly(tmp_path, unit):
    (tmp_path / "map.yaml").write_text(json.dumps({"Corg": {"column": "soc_g_kg", "unit": unit}}))
    (tmp_path / "lab.csv").write_text("plot_id,top_cm,bottom_cm,Corg,bulk_density_g_cm3\nP1,0,30,12,1.3\n")
    start = time.monotonic()
    result = invoke("estimate", tmp_path / "lab.csv", "--columns", tmp_path / "map.yaml", "-q")
    assert time.monotonic() - start < 5
    assert "unknown unit" in one_error(result)


def test_crafted_unit_in_a_header_is_not_parsed_forever(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text(f"plot_id,top_cm,bottom_cm,soc [g**{'9' * 50}/kg],soc_pct,bulk_density_g_cm3\nP1,0,30,1,1.2,1.3\n")
    start = time.monotonic()
    result = invoke("estimate", path, "-f", "csv")
    assert time.monotonic() - start < 5
    assert result.exit_code == 0, result.stderr
    assert "Columns ignored" in result.stderr  # said, not silent


def _xlsx_with_far_cell(path: Path, cell: str) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in [HEADER.split(","), ["P1", 0, 30, 1.2, 1.35]]:
        sheet.append(row)
    sheet[cell] = "x"
    book.save(path)


def test_xlsx_with_one_cell_at_the_last_row_is_read_in_seconds(tmp_path):
    path = tmp_path / "far.xlsx"
    _xlsx_with_far_cell(path, "A1048576")
    assert path.stat().st_size < 10_000
    start = time.monotonic()
    proc = run_bounded("estimate", path, "--on-error", "skip", "-f", "csv", timeout=30)
    assert time.monotonic() - start < 15
    assert proc.returncode == 0, proc.stderr
    assert b"P1," in proc.stdout


def test_xlsx_whose_used_range_reaches_column_xfd_is_refused(tmp_path):
    path = tmp_path / "wide.xlsx"
    _xlsx_with_far_cell(path, "XFD1")
    stderr = bounded_error(run_bounded("estimate", path, timeout=30))
    assert "FOURP1000_MAX_COLUMNS" in stderr


def test_xlsx_zip_bomb_is_refused_before_it_is_unpacked(tmp_path):
    path = tmp_path / "bomb.xlsx"
    good = tmp_path / "good.xlsx"
    _xlsx_with_far_cell(good, "B3")
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename.endswith("sheet1.xml"):
                data = data.replace(b"<sheetData>", b"<sheetData>" + b" " * 200_000_000)
            dst.writestr(item, data)
    assert path.stat().st_size < 2_000_000
    start = time.monotonic()
    stderr = bounded_error(run_bounded("estimate", path, timeout=30))
    assert time.monotonic() - start < 15
    assert "zip bomb" in stderr


def test_parquet_of_run_length_encoded_rows_is_refused_from_its_footer(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = tmp_path / "rle.parquet"
    n = 30_000_000
    pq.write_table(pa.table({"plot_id": pa.array(np.zeros(n, dtype=np.int8)),
                             "soc_pct": pa.array(np.ones(n, dtype=np.int8))}), path, compression="zstd")
    assert path.stat().st_size < 400_000
    start = time.monotonic()
    stderr = bounded_error(run_bounded("estimate", path, timeout=30))
    assert time.monotonic() - start < 15
    assert "decompression bomb" in stderr and "FOURP1000_MAX_EXPANSION" in stderr


@pytest.mark.parametrize("doc", [b"[" * 100_000 + b"]" * 100_000, b"a: " + b"{b: " * 5_000 + b"1" + b"}" * 5_000])
def test_deeply_nested_yaml_input_is_refused(tmp_path, doc):
    path = tmp_path / "deep.yaml"
    path.write_bytes(doc)
    stderr = bounded_error(run_bounded("estimate", path, timeout=20))
    assert "nest" in stderr and len(stderr.splitlines()) == 1


def test_yaml_alias_bomb_is_refused(tmp_path):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    lines += ["plots: [*a8]"]
    path = tmp_path / "laughs.yaml"
    path.write_text("\n".join(lines))
    bounded_error(run_bounded("estimate", path, timeout=20))


def test_deeply_nested_column_map_and_config_file_are_refused(tmp_path):
    deep = "a: " + "{b: " * 3_000 + "1" + "}" * 3_000
    (tmp_path / "map.yaml").write_text(deep)
    (tmp_path / "plots.csv").write_text(GOOD)
    assert "nested more than" in one_error(invoke("estimate", tmp_path / "plots.csv", "--columns",
                                                  tmp_path / "map.yaml"))
    (tmp_path / "fourp1000.yaml").write_text(deep)
    proc = run_bounded("practices", cwd=tmp_path, timeout=20)
    assert "nested more than" in bounded_error(proc)


@pytest.mark.parametrize("args, option", [
    (["estimate", "{plots}", "--uncertainty", "--draws", str(10 ** 9)], "--draws"),
    (["compare", "{campaigns}", "--bootstrap", str(10 ** 9)], "--bootstrap"),
    (["project", "{plots}", "--years", str(10 ** 9)], "--years"),
    (["estimate", "{plots}", "--depth", "0-100000", "--extrapolate"], "--depth"),
    (["estimate", "{plots}", "--depth", "0-inf"], "--depth"),
    (["compare", "{campaigns}", "--depth", "0-1e9"], "--depth"),
])
def test_option_limits_are_usage_errors(args, option):
    files = {"plots": str(EXAMPLES / "plots.csv"), "campaigns": str(EXAMPLES / "campaigns.csv")}
    stderr = one_error(invoke(*[a.format(**files) for a in args]), code=2)
    assert option in stderr


def test_draws_limit_can_be_raised_by_its_environment_variable():
    result = invoke("estimate", EXAMPLES / "plots.csv", "--uncertainty", "--draws", "20", "-q", "-f", "csv",
                    env={"FOURP1000_MAX_DRAWS": "10"})
    assert "FOURP1000_MAX_DRAWS" in one_error(result, code=2)
    result = invoke("estimate", EXAMPLES / "plots.csv", "--uncertainty", "--draws", "20", "-q", "-f", "csv",
                    env={"FOURP1000_MAX_DRAWS": "20"})
    assert result.exit_code == 0, result.stderr


def test_rothc_nsteps_1e400_is_a_clear_error(tmp_path):
    path = tmp_path / "site.dat"
    path.write_text("clay depth iom nsteps\n20 23 3 1e400\nyear month modern Tmp Rain Evap C_inp FYM PC DPM_RPM\n")
    stderr = one_error(invoke("rothc", path))
    assert "line 2" in stderr and "finite" in stderr


def test_endless_stdin_of_nul_bytes_is_refused_at_once():
    proc = run_bounded("estimate", "-", shell=False, data=b"\x00" * (4 << 20), timeout=20)
    assert "binary data" in bounded_error(proc)


# --- 4. one error path: the eleven cases -----------------------------------------------

def test_duplicate_extra_column_names_are_kept_apart(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(f"{HEADER},note,note\nP1,0,30,1.2,1.3,a,b\n")
    result = invoke("estimate", path, "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "note, note.1" in result.stderr  # both said to be ignored


def test_duplicate_input_model_column_is_an_error_naming_both(tmp_path):
    path = tmp_path / "dup.csv"
    path.write_text(f"{HEADER},soc_pct\nP1,0,30,1.2,1.3,2.4\n")
    stderr = one_error(invoke("estimate", path))
    assert "'soc_pct' appears twice (columns 4 and 6)" in stderr


@pytest.mark.parametrize("names", [("row",), ("reason",), ("all_reasons",), ("row", "reason", "all_reasons")])
def test_user_columns_named_like_the_rejects_columns_are_kept(tmp_path, names):
    extra = ",".join(names)
    path = tmp_path / "lab.csv"
    values = ",".join(f"mine-{n}" for n in names)
    path.write_text(f"{HEADER},{extra}\nP1,0,30,1.2,1.3,{values}\nP2,0,30,x,1.3,{values}\n")
    rejects = tmp_path / "rejects.csv"
    result = invoke("estimate", path, "--on-error", "skip", "--rejects", rejects, "-q", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(rejects)
    for name in names:
        assert frame[name].tolist() == [f"mine-{name}"]
        assert f"fourp1000_{name}" in frame.columns
    reason = "fourp1000_reason" if "reason" in names else "reason"
    assert "'x' is not a number" in frame[reason].iloc[0]


def test_unknown_practice_with_skip_is_a_usage_error():
    stderr = one_error(invoke("project", EXAMPLES / "plots.csv", "--practice", "bogus", "--on-error", "skip"), code=2)
    assert "unknown practice 'bogus'" in stderr


@pytest.mark.parametrize("encoding", ["bogus", "base64", "rot13"])
def test_bad_encoding_is_a_usage_error(encoding):
    assert "--encoding" in one_error(invoke("estimate", EXAMPLES / "plots.csv", "--encoding", encoding), code=2)


@pytest.mark.parametrize("seed", ["-1", "x", "1.5"])
def test_compare_bad_seed_is_a_usage_error(seed):
    assert "--seed" in one_error(invoke("compare", EXAMPLES / "campaigns.csv", "--seed", seed), code=2)


def test_unit_dividing_by_zero_in_a_header_is_said(tmp_path):
    path = tmp_path / "lab.csv"
    path.write_text("plot_id,top_cm,bottom_cm,soc [g/0kg],bulk_density_g_cm3\nP1,0,30,12,1.3\n")
    result = invoke("estimate", path)
    stderr = one_error(result)
    assert "no SOC column" in stderr and "soc [g/0kg]" in stderr


@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_non_finite_numbers_never_reach_json(tmp_path, fmt):
    path = tmp_path / "lab.csv"
    path.write_text(f"{HEADER},area_ha\nP1,0,30,1.2,1.3,1e308\nP2,0,30,inf,1.3,1\nP3,0,30,1.2,1.3,2\n")
    result = invoke("estimate", path, "--on-error", "skip", "-q", "-f", fmt)
    assert result.exit_code == 0, result.stderr
    for line in result.stdout.splitlines() if fmt == "jsonl" else [result.stdout]:
        json.loads(line, parse_constant=lambda c: pytest.fail(f"non-finite {c} in JSON"))


def test_compare_on_error_skip_with_reasons_keeps_them_text(tmp_path):
    head = (EXAMPLES / "campaigns.csv").read_text().splitlines()
    base = [head[0]] + [ln for ln in head[1:] if "2020-" in ln]
    follow = [head[0]] + [ln for ln in head[1:] if "2020-" not in ln]
    base[1] = base[1].replace("1.78", "abc")
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "plots.csv").write_text("\n".join(base) + "\n")
    (tmp_path / "b" / "plots.csv").write_text("\n".join(follow) + "\n")
    rejects = tmp_path / "rejects.csv"
    result = invoke("compare", tmp_path / "b" / "plots.csv", tmp_path / "a" / "plots.csv", "--on-error", "skip",
                    "--rejects", rejects, "-q", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(rejects)
    # Problems keyed by the path given: the follow-up (same base name) keeps its rows.
    assert set(frame["file"]) == {str(tmp_path / "a" / "plots.csv")}
    assert frame.loc[frame["row"] == 2, "reason"].item() == "'abc' is not a number"


def test_compare_a_file_with_itself_is_not_an_internal_error():
    result = invoke("compare", EXAMPLES / "campaigns.csv", EXAMPLES / "campaigns.csv", "-q", "-f", "csv")
    assert result.exit_code in (0, 1)
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("command", [["practices"], ["estimate", str(EXAMPLES / "plots.csv")]])
@pytest.mark.parametrize("encoding", ["latin-1", "utf-8-sig"])
def test_config_files_in_latin1_or_with_a_bom_are_read(tmp_path, command, encoding):
    (tmp_path / "fourp1000.yaml").write_bytes("# réglages de la ferme\nformat: csv\n".encode(encoding))
    proc = run_bounded(*command, "-q", cwd=tmp_path, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.count(b",") > 10  # csv, from the config file


def test_config_file_that_is_not_yaml_is_one_line(tmp_path):
    (tmp_path / "fourp1000.yaml").write_bytes(b"format: [csv\n")
    proc = run_bounded("practices", cwd=tmp_path, timeout=60)
    stderr = bounded_error(proc)
    assert "fourp1000.yaml" in stderr and len(stderr.splitlines()) == 1


@pytest.mark.parametrize("args", [
    ["project", "{plots}", "--method", "rates", "--rate-years", "-5"],
    ["project", "{plots}", "--method", "rates", "--rate-years", "nan"],
    ["project", "{plots}", "--method", "rates", "--rate-years", "inf"],
    ["estimate", "{plots}", "--som-factor", "1e-300"],
    ["estimate", "{plots}", "--stone-density", "-1"],
    ["estimate", "{plots}", "--stone-density", "0"],
    ["estimate", "{plots}", "--spline-lambda", "nan"],
    ["estimate", "{plots}", "--max-extrapolate-cm", "inf"],
    ["estimate", "{plots}", "--uncertainty", "--confidence", "nan"],
    ["compare", "{campaigns}", "--som-factor", "-2"],
    ["compare", "{campaigns}", "--years", "nan"],
    ["estimate", "{plots}", "--sep", "ab"],
    ["estimate", "{plots}", "--header-row", str(10 ** 30)],
])
def test_options_are_validated_when_parsed(args):
    files = {"plots": str(EXAMPLES / "plots.csv"), "campaigns": str(EXAMPLES / "campaigns.csv")}
    one_error(invoke(*[a.format(**files) for a in args]), code=2)


@pytest.mark.parametrize("date, ok", [("2019-02-31", False), ("2019-13-01", False), ("31/02/2019", False),
                                      ("1066", False), ("2019-02-28", True), ("2019", True)])
def test_sampling_dates_are_validated_by_row(tmp_path, date, ok):
    path = tmp_path / "lab.csv"
    path.write_text(f"{HEADER},sampled_on\nP1,0,30,1.2,1.3,{date}\nP1,0,30,1.3,1.3,2023-05-01\n")
    result = invoke("estimate", path, "-f", "csv")
    if ok:
        assert result.exit_code == 0, result.stderr
    else:
        assert f"row 2, column sampled_on: '{date}'" in one_error(result)


# --- 5. non-finite numbers ----------------------------------------------------------------------

@pytest.mark.parametrize("value", ["inf", "-inf", "1e999", "Infinity"])
@pytest.mark.parametrize("column", ["soc_pct", "bulk_density_g_cm3", "bottom_cm"])
def test_non_finite_input_is_rejected_by_row_and_column(tmp_path, value, column):
    cells = {"plot_id": "P2", "top_cm": "0", "bottom_cm": "30", "soc_pct": "1.2", "bulk_density_g_cm3": "1.3"}
    cells[column] = value
    path = tmp_path / "lab.csv"
    path.write_text(f"{HEADER}\nP1,0,30,1.2,1.3\n{','.join(cells.values())}\n")
    stderr = one_error(invoke("estimate", path))
    assert f"row 3, column {column}:" in stderr and "is not a finite number" in stderr
    assert "is empty" not in stderr


# --- 6. shell plumbing ----------------------------------------------------------------------------

def test_the_shipped_farm_yaml_piped_to_stdin_is_read_as_yaml():
    data = (EXAMPLES / "farm.yaml").read_bytes()
    assert data.startswith(b"#")
    piped = invoke("estimate", "-", "-q", "-f", "csv", data=data)
    direct = invoke("estimate", EXAMPLES / "farm.yaml", "-q", "-f", "csv")
    assert piped.exit_code == 0, piped.stderr
    assert piped.stdout == direct.stdout


def test_input_format_option_reads_a_file_whatever_its_name(tmp_path):
    path = tmp_path / "farm.txt"
    path.write_bytes((EXAMPLES / "farm.yaml").read_bytes())
    result = invoke("estimate", path, "--input-format", "yaml", "-q", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "FS-01" in result.stdout


@pytest.mark.parametrize("command", ["estimate", "project", "score", "report"])
def test_process_substitution_is_read_once(tmp_path, command):
    out = ["-o", str(tmp_path / "r.html")] if command == "report" else ["-f", "csv"]
    line = (f"{sys.executable} -m fourp1000 {command} <(cat {EXAMPLES / 'plots.csv'}) -q " + " ".join(out))
    proc = run_bounded(line, shell=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    if command == "report":
        assert (tmp_path / "r.html").stat().st_size > 10_000


def test_a_fifo_is_read_once(tmp_path):
    fifo = tmp_path / "plots.fifo"
    os.mkfifo(fifo)
    data = (EXAMPLES / "farm.yaml").read_bytes()

    def feed():
        with open(fifo, "wb") as fh:
            fh.write(data)

    writer = threading.Thread(target=feed, daemon=True)
    writer.start()
    proc = run_bounded("estimate", fifo, "-q", "-f", "csv", timeout=60)
    writer.join(5)
    assert proc.returncode == 0, proc.stderr
    assert b"FS-02" in proc.stdout


def _mixed_file(path: Path, utf8_before: bool) -> None:
    """Copies of the example plots (plot ids made unique), with a latin-1 farm name on row 3,003
    (past the first 256 KB) and, if ``utf8_before``, a UTF-8 one on row 18."""
    lines = (EXAMPLES / "plots.csv").read_bytes().splitlines()
    body = [lines[0]]
    for i in range(200):
        for ln in lines[1:]:
            farm, plot, rest = ln.split(b",", 2)
            body.append(b",".join([farm, plot + b"-%d" % i, rest]))
    assert len(b"\n".join(body[:3002])) > 256 * 1024
    body[3002] = b"K\xf6ln," + body[3002].split(b",", 1)[1]
    if utf8_before:
        body[17] = "Château,".encode() + body[17].split(b",", 1)[1]
    path.write_bytes(b"\n".join(body) + b"\n")


@pytest.mark.parametrize("command", ["estimate", "project", "score", "report"])
def test_mixed_encodings_are_reported_by_file_and_row_on_every_command(tmp_path, command):
    path = tmp_path / "mixed.csv"
    _mixed_file(path, utf8_before=True)
    args = [command, path] + (["-o", tmp_path / "r.html"] if command == "report" else [])
    stderr = one_error(invoke(*args))
    assert f"{path}: row 3003: byte 0xf6 is not UTF-8, but row 18 holds UTF-8 text" in stderr


def test_latin1_after_the_sniffed_start_is_read_as_latin1_and_said(tmp_path):
    path = tmp_path / "late.csv"
    _mixed_file(path, utf8_before=False)
    result = invoke("estimate", path, "--on-error", "skip", "-f", "csv")
    assert "read as latin-1: row 3003 holds byte 0xf6" in result.stderr
    assert "Köln" in result.stderr  # the value as written, decoded


def test_ids_with_control_characters_cannot_inject_lines(tmp_path):
    path = tmp_path / "lab.csv"
    evil = '"P1\n21 rows read, 10 plots scored, 0 rows rejected\x1b[2K"'
    path.write_text(f"{HEADER},farm_id\n{evil},0,30,x,1.3,F\nP2,0,30,1.2,1.3,\"F\rX\"\n")
    result = invoke("estimate", path, "--on-error", "skip", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert not any(line.startswith("21 rows read") for line in lines)
    assert "\x1b" not in result.stderr and "\r" not in result.stderr
    assert lines[-1].startswith("2 rows read")


def test_a_row_gets_its_own_reason(tmp_path):
    path = tmp_path / "lab.csv"
    rows = "".join(f"P{i},0,30,{'bad%d' % i if i % 2 else '1.2'},1.3\n" for i in range(1, 21))
    path.write_text(f"{HEADER}\n{rows}")
    rejects = tmp_path / "rejects.csv"
    result = invoke("estimate", path, "--on-error", "skip", "--rejects", rejects, "-q", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    frame = pd.read_csv(rejects)
    assert len(frame) == 10
    for _, rec in frame.iterrows():
        assert rec["reason"].startswith(f"'{rec['soc_pct']}' is not a number")


def test_utf16_csv_with_bom_is_read(tmp_path):
    path = tmp_path / "unicode.txt"
    path.write_bytes(GOOD.replace(",", "\t").encode("utf-16"))
    result = invoke("estimate", path, "-q", "-f", "csv")
    assert result.exit_code == 0, result.stderr
    assert "P2," in result.stdout


def test_directory_and_missing_inputs_are_one_line(tmp_path):
    # a folder is an input (a partitioned dataset, streamed): an empty one is a data error
    assert "no CSV, JSON Lines or Parquet file found" in one_error(invoke("estimate", tmp_path), code=1)
    stderr = one_error(invoke("estimate", tmp_path / "nope.csv"))
    assert stderr == f"Error: {tmp_path / 'nope.csv'}: no such file\n"


def test_empty_and_header_only_stdin():
    assert "no data rows" in one_error(invoke("estimate", "-", data=b""))
    assert "no data rows" in one_error(invoke("estimate", "-", data=HEADER.encode() + b"\n"))


def test_xlsx_piped_to_stdin_is_sniffed(tmp_path):
    path = tmp_path / "lab.xlsx"
    _xlsx_with_far_cell(path, "H2")
    result = invoke("estimate", "-", "-q", "-f", "csv", data=path.read_bytes())
    assert result.exit_code == 0, result.stderr
    assert "P1," in result.stdout


def test_garbage_bytes_named_xlsx_or_parquet(tmp_path):
    for name in ("x.xlsx", "x.parquet"):
        (tmp_path / name).write_bytes(os.urandom(5000))
        one_error(invoke("estimate", tmp_path / name))
    (tmp_path / "zip.xlsx").write_bytes(b"PK\x03\x04" + os.urandom(5000))
    one_error(invoke("estimate", tmp_path / "zip.xlsx"))


def test_yaml_with_an_impossible_date_is_one_line(tmp_path):
    path = tmp_path / "farm.yaml"
    path.write_text("plots:\n  - plot_id: P1\n    sampled_on: 2019-02-31\n    layers:\n"
                    "      - {top_cm: 0, bottom_cm: 30, soc_pct: 1.2, bulk_density_g_cm3: 1.3}\n")
    stderr = one_error(invoke("estimate", path))
    assert "2019-02-31" in stderr


def test_yaml_layer_with_a_list_for_a_value_is_a_row_problem(tmp_path):
    path = tmp_path / "farm.yaml"
    path.write_text("plots:\n  - plot_id: P1\n    layers:\n"
                    "      - {top_cm: 0, bottom_cm: 30, soc_pct: [1, 2], bulk_density_g_cm3: 1.3}\n")
    assert "row 1, column soc_pct" in one_error(invoke("estimate", path))


def test_json_input_read_from_stdin_as_csv_is_an_error_not_a_crash():
    one_error(invoke("estimate", "-", data=io.BytesIO(b'{"plot_id": "P1"}').read()))


# --- beyond the listed cases ----------------------------------------------------------------------

def test_an_output_that_is_the_input_is_refused_and_the_input_kept(tmp_path):
    path = tmp_path / "plots.csv"
    path.write_text(GOOD)
    for flag in ("-o", "--rejects"):
        stderr = one_error(invoke("estimate", path, "--on-error", "skip", flag, path), code=2)
        assert "is the input file" in stderr
    assert path.read_text() == GOOD
    stderr = one_error(invoke("estimate", path, "-o", tmp_path / "o.csv", "--rejects", tmp_path / "o.csv"), code=2)
    assert "two outputs" in stderr


def test_a_compressed_file_is_never_unpacked_by_its_name(tmp_path):
    import bz2

    path = tmp_path / "bomb.csv.bz2"
    path.write_bytes(bz2.compress(HEADER.encode() + b"\n" + b"P1,0,30,1.2,1.3\n" * 5_000_000))
    start = time.monotonic()
    one_error(invoke("estimate", path))
    assert time.monotonic() - start < 10


@pytest.mark.parametrize("value", ["nan", "inf", "0"])
def test_set_constants_must_be_finite_and_in_range(tmp_path, value):
    path = tmp_path / "plots.csv"
    path.write_text(GOOD)
    stderr = one_error(invoke("estimate", path, "--set", f"area_ha={value}"))
    assert "constant" in stderr and "area_ha" in stderr


def test_terminal_table_shows_ids_as_written_without_markup_or_escapes(tmp_path):
    data = f'{HEADER}\n[red]P1[/red],0,30,1.2,1.3\n"\x1b[2JP2",0,30,1.2,1.3\n'
    result = invoke("estimate", "-", "-f", "table", "-q", data=data)
    assert result.exit_code == 0, result.stderr
    assert "[red]P1[/red]" in result.stdout and "\\x1b[2JP2" in result.stdout and "\x1b" not in result.stdout


def test_dev_zero_as_input_is_refused_at_once():
    proc = run_bounded("estimate", "/dev/zero", timeout=20)
    assert "binary data" in bounded_error(proc)


def test_report_of_a_process_substitution_hashes_what_it_read(tmp_path):
    import hashlib

    out = tmp_path / "r.html"
    line = f"{sys.executable} -m fourp1000 report <(cat {EXAMPLES / 'plots.csv'}) -q -o {out}"
    proc = run_bounded(line, shell=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert hashlib.sha256((EXAMPLES / "plots.csv").read_bytes()).hexdigest() in out.read_text()


def test_an_output_path_ending_with_a_slash_is_a_folder_not_a_file_of_its_name(tmp_path):
    path = tmp_path / "plots.csv"
    path.write_text(GOOD)
    for flag, fmt in (("-o", "csv"), ("-o", "xlsx"), ("--rejects", "csv")):
        target = f"{tmp_path / 'out'}/"
        stderr = one_error(invoke("estimate", path, "--on-error", "skip", "-f", fmt, flag, target), code=2)
        assert "names a folder" in stderr
        assert not (tmp_path / "out").exists()  # nothing written under the folder's name


def test_a_folder_output_takes_a_parquet_dataset_never_another_format_silently(tmp_path):
    path = tmp_path / "plots.csv"
    path.write_text(GOOD)
    folder = f"{tmp_path / 'ds'}/"
    stderr = one_error(invoke("estimate", path, "--chunk-rows", "1", "-f", "csv", "-o", folder), code=2)
    assert "use -f parquet" in stderr and not (tmp_path / "ds").exists()
    result = invoke("estimate", path, "--chunk-rows", "1", "-q", "-o", folder)
    assert result.exit_code == 0, result.stderr
    assert len(pd.read_parquet(tmp_path / "ds")) == len(pd.read_csv(io.StringIO(
        invoke("estimate", path, "-q", "-f", "csv").stdout)))
