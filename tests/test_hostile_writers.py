"""Output files under hostile conditions: devices, FIFOs, links, full disks, signals, formulas.

Every failure is one ``Error:`` line naming the path the user gave, with a documented exit
code; no traceback, no temporary file left behind, no device replaced by a regular file.
"""

from __future__ import annotations

import fcntl
import io
import json
import os
import pty
import signal
import stat
import struct
import subprocess
import sys
import termios
import textwrap
import threading
import time
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main
from fourp1000.io import writers

SRC = str(Path(__file__).resolve().parents[1] / "src")
WORKED = "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3,coarse_fragments_pct\nP1,0,30,1.2,1.35,10\n"
# Plot ids a spreadsheet would run as formulas, and one that is only a (text) number.
HOSTILE = (
    "plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\n"
    '"=HYPERLINK(""http://x"",""y"")",0,30,1.2,1.35\n'
    "+1+1,0,30,1.2,1.35\n"
    "-A1,0,30,1.2,1.35\n"
    "@SUM(A1),0,30,1.2,1.35\n"
    "-5,0,30,1.2,1.35\n"
    "ok,0,30,1.2,1.35\n"
)


@pytest.fixture
def runner():
    return CliRunner()


def _estimate(runner, *args, data=WORKED):
    return runner.invoke(main, ["estimate", "-", "-q", *args], input=data)


def _no_temp_files(directory: Path) -> bool:
    return not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


# --- the target is respected ---------------------------------------------------------------

def test_dev_null_stays_a_device(runner):
    before = os.stat("/dev/null")
    result = _estimate(runner, "-f", "csv", "-o", "/dev/null")
    assert result.exit_code == 0, result.stderr
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("fmt", ["csv", "json", "xlsx"])
def test_dev_full_is_a_full_disk_not_a_success(runner, fmt):
    result = _estimate(runner, "-f", fmt, "-o", "/dev/full")
    assert result.exit_code == 1
    assert result.stderr == "Error: /dev/full: No space left on device\n"
    assert stat.S_ISCHR(os.stat("/dev/full").st_mode)


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("args, message", [
    (["estimate", "-", "-q", "-f", "csv"], "stdout: No space left on device"),
    (["estimate", "-", "-q", "-f", "xlsx"], "stdout: No space left on device"),
    (["template"], "No space left on device"),  # writes through click.echo, not the writers
])
def test_full_stdout_is_one_error_line(args, message):
    """`> /dev/full` on stdout: one line, exit 1, no 'Exception ignored' at interpreter exit."""
    with open("/dev/full", "w") as full:
        proc = subprocess.run([sys.executable, "-m", "fourp1000", *args], input=WORKED,
                              stdout=full, stderr=subprocess.PIPE, text=True, env=_env())
    assert proc.returncode == 1
    assert proc.stderr == f"Error: {message}\n"


def test_fifo_is_written_in_place(runner, tmp_path):
    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()))
    reader.start()
    result = _estimate(runner, "-f", "csv", "-o", str(fifo))
    reader.join(timeout=30)
    assert result.exit_code == 0, result.stderr
    assert received and received[0].startswith("plot_id,")
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert _no_temp_files(tmp_path)


def test_symlink_is_followed_and_kept(runner, tmp_path):
    real = tmp_path / "data" / "stocks.csv"
    real.parent.mkdir()
    real.write_text("old\n")
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    result = _estimate(runner, "-o", str(link))
    assert result.exit_code == 0, result.stderr
    assert link.is_symlink() and os.readlink(link) == str(real)
    assert real.read_text().startswith("plot_id,")
    assert _no_temp_files(tmp_path) and _no_temp_files(real.parent)


def test_dangling_symlink_creates_its_target(runner, tmp_path):
    link = tmp_path / "out.csv"
    link.symlink_to(tmp_path / "target.csv")
    assert _estimate(runner, "-o", str(link)).exit_code == 0
    assert link.is_symlink() and (tmp_path / "target.csv").read_text().startswith("plot_id,")


def test_existing_file_keeps_its_mode(runner, tmp_path):
    out = tmp_path / "private.csv"
    out.write_text("old\n")
    out.chmod(0o600)
    assert _estimate(runner, "-o", str(out)).exit_code == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text().startswith("plot_id,")


def test_write_error_names_the_users_path_and_leaves_no_temp_file(runner, tmp_path, monkeypatch):
    out = tmp_path / "stocks.csv"
    out.write_text("previous result\n")

    def full_disk(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writers.os, "fsync", full_disk)
    result = _estimate(runner, "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out}: No space left on device\n"
    assert out.read_text() == "previous result\n"  # the old result is intact
    assert _no_temp_files(tmp_path)


def test_unwritable_directory_is_one_clear_line(runner, tmp_path, monkeypatch):
    """A directory where no file can be created (read-only or not ours): the user's path, the reason."""
    out = tmp_path / "stocks.csv"

    real_open = os.open

    def denied(path, *args, **kwargs):  # as a directory without write permission answers
        if str(path).endswith(".tmp"):
            raise PermissionError(13, "Permission denied", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(writers.os, "open", denied)
    data = "farm_id,area_ha,plot_id,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\nF,2,P1,0,30,1.2,1.35\n"
    for option in (["-o"], ["--on-error", "skip", "--rejects"], ["--farm-summary"]):
        result = _estimate(runner, *option, str(out), "-f", "csv", data=data)
        assert result.exit_code == 1
        assert result.stderr == f"Error: {out}: Permission denied (cannot create a file in {tmp_path})\n"
        assert ".tmp" not in result.stderr


def test_read_only_file_is_not_replaced(runner, tmp_path, monkeypatch):
    out = tmp_path / "stocks.csv"
    out.write_text("keep me\n")
    out.chmod(0o444)
    # root may write anything: act as a user without write access to the file
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode: real_access(path, mode) and not (
        mode == os.W_OK and os.path.realpath(path) == str(out)))
    result = _estimate(runner, "-o", str(out))
    assert result.exit_code == 1
    assert result.stderr == f"Error: {out}: Permission denied (the file is read-only)\n"
    assert out.read_text() == "keep me\n" and _no_temp_files(tmp_path)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through directory permissions")
def test_read_only_directory_for_real(runner, tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        result = _estimate(runner, "-o", str(ro / "stocks.csv"))
    finally:
        ro.chmod(0o700)
    assert result.exit_code == 1
    assert result.stderr == f"Error: {ro / 'stocks.csv'}: Permission denied (cannot create a file in {ro})\n"


def test_report_output_to_a_device(runner, examples_dir):
    result = runner.invoke(main, ["report", str(examples_dir / "plots.csv"), "-q", "-o", "/dev/null"])
    assert result.exit_code == 0, result.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)


def test_compare_rejects_and_cores_files(runner, tmp_path):
    """compare's --rejects and --cores go through the same writer (and rejects are neutralised)."""
    src = tmp_path / "campaigns.csv"
    src.write_text("farm_id,plot_id,area_ha,sampled_on,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\n"
                   "F,A,2,2020,0,30,1.2,1.3\nF,A,2,2024,0,30,1.3,1.35\nF,=cmd,2,2020,0,30,1.2,1.3\n")
    rejects, cores = tmp_path / "rejects.csv", tmp_path / "cores.csv"
    result = runner.invoke(main, ["compare", str(src), "-q", "-f", "csv", "--on-error", "skip",
                                  "--rejects", str(rejects), "--cores", str(cores)])
    assert result.exit_code == 0, result.stderr
    assert pd.read_csv(rejects, dtype=str)["plot_id"].tolist() == ["'=cmd"]
    assert pd.read_csv(cores)["plot_id"].tolist() == ["A", "A"]
    assert _no_temp_files(tmp_path)


_SLOW_WRITE = textwrap.dedent("""
    import os, signal, sys, time
    from fourp1000.cli import main
    if sys.argv[4] == "nohup":
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    os.fsync = lambda fd: time.sleep(float(sys.argv[3]))  # the temporary file is written and waits here
    main(["estimate", sys.argv[1], "-q", "-o", sys.argv[2]], prog_name="fourp1000")
""")


def _start_slow_write(examples_dir, out, seconds, mode="plain"):
    """Run `estimate -o out` in a subprocess; return it once its temporary file exists."""
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_WRITE, str(examples_dir / "plots.csv"), str(out),
                             str(seconds), mode], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=_env())
    deadline = time.monotonic() + 30
    while not [p for p in out.parent.iterdir() if p.name.endswith(".tmp")]:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
        time.sleep(0.02)
    return proc


@pytest.mark.parametrize("signame", ["SIGTERM", "SIGINT", "SIGHUP"])
def test_signal_during_write_removes_the_temp_file(tmp_path, examples_dir, signame):
    signum = getattr(signal, signame)
    proc = _start_slow_write(examples_dir, tmp_path / "stocks.csv", 60)
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=30)
    # Died of the signal (a shell reports 128 + signum), after removing the temporary file.
    assert proc.returncode == -signum, err
    assert list(tmp_path.iterdir()) == []
    assert b"Traceback" not in err


def test_ignored_hangup_stays_ignored(tmp_path, examples_dir):
    """Under nohup (SIGHUP ignored) a hangup during the write neither kills the run nor loses the file."""
    out = tmp_path / "stocks.csv"
    proc = _start_slow_write(examples_dir, out, 1, "nohup")
    proc.send_signal(signal.SIGHUP)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert out.read_text().startswith("plot_id,") and _no_temp_files(tmp_path)


# --- stdout and terminals ------------------------------------------------------------------

@pytest.mark.parametrize("fmt, start", [("csv", "plot_id,"), ("json", "{"), ("jsonl", '{"plot_id"'),
                                        ("table", "plots")])
def test_dash_is_stdout_for_every_text_format(runner, fmt, start):
    result = _estimate(runner, "-f", fmt, "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().startswith(start)


def test_dash_is_stdout_for_xlsx_in_a_pipe(runner):
    result = _estimate(runner, "-f", "xlsx", "-o", "-")
    assert result.exit_code == 0, result.stderr
    assert result.stdout_bytes.startswith(b"PK")
    assert set(pd.read_excel(io.BytesIO(result.stdout_bytes), sheet_name=None)) == {"plots"}


def _env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env["PYTHONPATH"] = SRC + os.pathsep + env.get("PYTHONPATH", "")
    env.update(extra)
    return env


def _on_terminal(args, columns: int, **env) -> tuple[int, str, str]:
    """Run the CLI with stdout on a pseudo-terminal ``columns`` wide; stderr on a pipe."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "fourp1000", *args], stdin=subprocess.DEVNULL, stdout=slave,
                            stderr=subprocess.PIPE, env=_env(**env))
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the terminal's other side is closed
            break
        if not chunk:
            break
        out += chunk
    err = proc.stderr.read()
    proc.wait(timeout=60)
    os.close(master)
    return proc.returncode, out.decode("utf-8").replace("\r\n", "\n"), err.decode("utf-8")


def test_xlsx_is_refused_on_a_terminal(examples_dir):
    code, out, err = _on_terminal(["estimate", str(examples_dir / "plots.csv"), "-q", "-f", "xlsx"], 80)
    assert (code, out) == (2, "")
    assert err == "Error: xlsx output is binary: use -o FILE.xlsx or redirect stdout\n"


def test_xlsx_is_refused_on_a_terminal_named_by_path(runner):
    master, slave = pty.openpty()
    try:
        result = _estimate(runner, "-f", "xlsx", "-o", os.ttyname(slave))
    finally:
        os.close(slave)
        os.close(master)
    assert result.exit_code == 2
    assert result.stderr == "Error: xlsx output is binary: use -o FILE.xlsx or redirect stdout\n"


@pytest.mark.parametrize("columns, env", [(80, {}), (100, {}), (200, {"COLUMNS": "60"})])
def test_terminal_table_fits_the_terminal(examples_dir, columns, env):
    width = int(env.get("COLUMNS", columns))
    code, out, err = _on_terminal(["estimate", str(examples_dir / "plots.csv"), "-q"], columns, **env)
    assert code == 0, err
    lines = out.splitlines()
    assert max(len(line) for line in lines) <= width
    assert any(line.startswith("┏") for line in lines)  # a box, drawn whole
    assert sum(line.startswith("┏") for line in lines) == sum(line.startswith("└") for line in lines)
    notes = [line for line in lines if line.startswith("…")]
    assert notes and all(line.endswith("more columns: use -f csv") for line in notes)
    # the first (most important) columns are kept, in order
    header = next(line for line in lines if line.startswith("┃"))
    assert header.split("┃")[1:3] == [" plot_id ", " farm_id     "]


def test_wide_terminal_gets_every_column(examples_dir):
    code, out, err = _on_terminal(["estimate", str(examples_dir / "plots.csv"), "-q"], 250)
    assert code == 0, err
    assert "…" not in out and "target_4p1000_t_ha_yr" in out


def test_table_in_a_pipe_is_unchanged(runner, examples_dir):
    """Not on a terminal, -f table keeps its fixed width: no columns left out, no note."""
    result = runner.invoke(main, ["estimate", str(examples_dir / "plots.csv"), "-q", "-f", "table"])
    assert result.exit_code == 0
    assert "…" not in result.stdout and "target_4p1000_t_ha_yr" in result.stdout


# --- spreadsheet safety --------------------------------------------------------------------

NEUTRALISED = ["'=HYPERLINK(\"http://x\",\"y\")", "'+1+1", "'-A1", "'@SUM(A1)", "-5", "ok"]


def test_csv_neutralises_formulas(runner):
    result = _estimate(runner, "-f", "csv", data=HOSTILE)
    assert result.exit_code == 0, result.stderr
    ids = pd.read_csv(io.StringIO(result.stdout), dtype={"plot_id": str})["plot_id"].tolist()
    assert sorted(ids) == sorted(NEUTRALISED)


def test_no_sanitize_writes_verbatim(runner):
    result = _estimate(runner, "-f", "csv", "--no-sanitize", data=HOSTILE)
    assert result.exit_code == 0, result.stderr
    ids = pd.read_csv(io.StringIO(result.stdout), dtype={"plot_id": str})["plot_id"].tolist()
    assert sorted(ids) == sorted(i.lstrip("'") if i != "-5" else i for i in NEUTRALISED)


def test_json_and_jsonl_are_verbatim(runner):
    result = _estimate(runner, "-f", "json", data=HOSTILE)
    ids = [r["plot_id"] for r in json.loads(result.stdout)["plots"]]
    assert "=HYPERLINK(\"http://x\",\"y\")" in ids and "-A1" in ids
    result = _estimate(runner, "-f", "jsonl", data=HOSTILE)
    assert '"plot_id": "@SUM(A1)"' in result.stdout


def test_rejects_file_is_neutralised(runner, tmp_path):
    rejects = tmp_path / "rejects.csv"
    data = HOSTILE + "=bad,0,30,not a number,1.3\n"
    result = _estimate(runner, "-f", "csv", "--on-error", "skip", "--rejects", str(rejects), data=data)
    assert result.exit_code == 0, result.stderr
    assert pd.read_csv(rejects, dtype=str)["plot_id"].tolist() == ["'=bad"]


@pytest.mark.parametrize("flag, expected", [([], "'=HYPERLINK(\"http://x\",\"y\")"),
                                            (["--no-sanitize"], "=HYPERLINK(\"http://x\",\"y\")")])
def test_xlsx_text_is_never_a_formula(runner, tmp_path, flag, expected):
    out = tmp_path / "stocks.xlsx"
    result = _estimate(runner, "-o", str(out), *flag, data=HOSTILE)
    assert result.exit_code == 0, result.stderr
    sheet = openpyxl.load_workbook(out)["plots"]
    cells = {c.value: c.data_type for c in sheet["A"][1:]}
    assert cells[expected] == "s"
    assert all(t == "s" for t in cells.values())
    assert sheet["D2"].data_type == "n"  # numbers stay numbers


def test_negative_numbers_are_untouched():
    frame = pd.DataFrame({"id": ["-A1", "-1.5", "+2e3", None, "\tx", "\rx"], "change": [-1.5, 2.0, -3e-5, 0, 1, 2]})
    text = writers.to_csv_text(frame)
    back = pd.read_csv(io.StringIO(text), keep_default_na=False, dtype={"id": str})
    assert back["id"].tolist() == ["'-A1", "-1.5", "+2e3", "", "'\tx", "'\rx"]
    assert back["change"].tolist() == [-1.5, 2.0, -3e-5, 0, 1, 2]
    assert writers.to_csv_text(frame[:3]) == "id,change\n'-A1,-1.5\n-1.5,2\n+2e3,-0.00003\n"
    assert writers.to_csv_text(frame[:3], sanitize=False) == "id,change\n-A1,-1.5\n-1.5,2\n+2e3,-0.00003\n"
    with writers.sanitizing(False):
        assert writers.to_csv_text(frame[:1]) == "id,change\n-A1,-1.5\n"
    assert writers.to_csv_text(frame[:1]) == "id,change\n'-A1,-1.5\n"


# --- non-finite numbers --------------------------------------------------------------------

HUGE_AREAS = ("farm_id,plot_id,area_ha,top_cm,bottom_cm,soc_pct,bulk_density_g_cm3\n"
              "F,A,1e308,0,30,1.2,1.35\nF,B,1e308,0,30,1.2,1.3\n")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # farm sums overflow
def test_json_writes_null_for_infinity(runner):
    result = _estimate(runner, "-f", "json", data=HUGE_AREAS)
    assert result.exit_code == 0, result.stderr
    doc = json.loads(result.stdout)  # strict JSON: no Infinity/NaN tokens
    assert doc["plots"][0]["area_ha"] == 1e308
    assert doc["farms"][0]["area_ha"] is None  # 2e308 overflows: written null
    assert "Infinity" not in result.stdout and "NaN" not in result.stdout


def test_jsonl_writes_null_for_nan_and_infinity():
    frame = pd.DataFrame({"x": [float("nan"), float("inf"), -float("inf"), 1.0]})
    lines = writers.to_jsonl_text(frame).splitlines()
    assert lines == ['{"x": null}', '{"x": null}', '{"x": null}', '{"x": 1.0}']
    doc = json.loads(writers.to_json_text({"t": frame}, meta={"bound": float("inf"), "n": [float("nan")]}))
    assert doc["meta"] == {"bound": None, "n": [None]}


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")  # farm sums overflow
def test_csv_round_trips_huge_numbers(runner):
    result = _estimate(runner, "-f", "csv", data=HUGE_AREAS)
    assert result.exit_code == 0, result.stderr
    areas = pd.read_csv(io.StringIO(result.stdout))["area_ha"].tolist()
    assert areas == [1e308, 1e308]
    frame = pd.DataFrame({"x": [1e308, -1.7976931348623157e308, 2.0**60 + 0.0, 0.1234567891]})
    assert writers.round_floats(frame, 6)["x"].tolist() == [1e308, -1.7976931348623157e308, 2.0**60, 0.123457]


def test_xlsx_leaves_non_finite_cells_empty():
    frame = pd.DataFrame({"x": [float("inf"), -float("inf"), float("nan"), 1e308]})
    sheet = openpyxl.load_workbook(io.BytesIO(writers.to_xlsx_bytes({"t": frame})))["t"]
    assert [c.value for c in sheet["A"]] == ["x", None, None, None, 1e308]


@pytest.mark.parametrize("quoted", [False, True])
def test_csv_in_parts_is_the_csv_in_one(monkeypatch, quoted):
    """A large table formatted by several threads gives the bytes one call gives."""
    n = 1_003
    frame = pd.DataFrame({
        "plot_id": pd.Series([f"p{i}, a" if quoted and i % 7 == 0 else f"p{i}" for i in range(n)], dtype="string"),
        "x": [i / 3 if i % 5 else float("nan") for i in range(n)],
        "ok": [i % 2 == 0 for i in range(n)],
    })
    monkeypatch.setattr(writers, "_cpus", lambda: 1)
    whole = writers.to_csv_bytes(frame)
    monkeypatch.setattr(writers, "_cpus", lambda: 3)
    monkeypatch.setattr(writers, "CSV_PART_ROWS", 100)
    assert writers.to_csv_bytes(frame) == whole
    assert writers.to_csv_bytes(frame, header=False) == whole.split(b"\n", 1)[1]
    assert whole.count(b"\n") == n + 1 and (b'"p0, a"' in whole) == quoted


def test_rounding_leaves_the_callers_frame_alone():
    frame = pd.DataFrame({"x": [0.1234567891, -1e-9], "y": pd.array([0.33333333, None], dtype="Float64")})
    rounded = writers.round_floats(frame, 6)
    assert frame["x"].tolist() == [0.1234567891, -1e-9]
    assert rounded["x"].tolist() == [0.123457, 0.0] and str(rounded["x"].tolist()[1]) == "0.0"
    assert rounded["y"].dtype == "float64" and rounded["y"].tolist()[0] == 0.333333
