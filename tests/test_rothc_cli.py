"""``fourp1000 rothc FILE``: columns, formats, exit codes and one-line errors (click CliRunner)."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main
from fourp1000.io.rothc_files import MONTH_COLUMNS, YEAR_COLUMNS

YEAR_HEADER = "Year,Month,DPM_t_C_ha,RPM_t_C_ha,Bio_t_C_ha,Hum_t_C_ha,IOM_t_C_ha,SOC_t_C_ha,CO2_t_C_ha"


def _site_text(rows: int = 36) -> str:
    """A small v2 site: 12 spin-up months, then two years (2000-2001)."""
    head = [
        "example input",
        "soil variables and nsteps (line 8) are only needed once",
        "   (-)       (-)",
        " opt_RMmoist  opt_SMDbare",
        "    1          1",
        " (%)     (cm)  (t C/ha)      (-)      (%) (g/m3)     (%)   (-)",
        "clay\tdepth\t    iom   nsteps  silt     BD      OC    minRM_Moist",
        f"23.4\t23.0\t 3.0041      {rows}    58.6      1.27  0.94   0.2",
        "(-)    (-)       (%)    (C)     (mm)    (mm)  (t C/ha) (t C/ha) (-)      (-)",
        "year  month    modern\tTmp\tRain\tEvap   C_inp\tFYM\tPC    DPM_RPM",
    ]
    temps = [3.7, 3.1, 5.5, 7.4, 10.9, 14.4, 16.3, 16.2, 13.8, 9.5, 6.2, 4.1]
    evaps = [6.6, 17.3, 40.7, 70.5, 103.5, 117.3, 130.1, 106.9, 61.9, 29.5, 8.8, 3.9]
    body = []
    for i in range(rows):
        m = i % 12
        year = 1 if i < 12 else 2000 + (i - 12) // 12
        body.append(
            f"{year}\t{m + 1}\t100\t{temps[m]}\t60\t{evaps[m]}\t{1.74 if m == 7 else 0}\t"
            f"{1.0 if (i >= 12 and m == 2) else 0}\t{0 if m == 8 else 1}\t1.44"
        )
    return "\n".join(head + body) + "\n"


@pytest.fixture
def site_file(tmp_path):
    path = tmp_path / "RothC_input.dat"
    path.write_text(_site_text())
    return path


def _invoke(*args, input=None):
    return CliRunner().invoke(main, ["rothc", *map(str, args)], input=input)


def test_year_results_csv(site_file):
    result = _invoke(site_file, "--format", "csv")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == YEAR_HEADER
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == list(YEAR_COLUMNS)
    assert table["Year"].tolist() == [1, 2000, 2001]
    assert table["Month"].tolist() == [0, 12, 12]  # analytic spin-up: no iterations
    assert table["CO2_t_C_ha"].iat[0] == 0.0 and table["CO2_t_C_ha"].iat[2] > table["CO2_t_C_ha"].iat[1] > 0
    soc = table[["DPM_t_C_ha", "RPM_t_C_ha", "Bio_t_C_ha", "Hum_t_C_ha", "IOM_t_C_ha"]].sum(axis=1)
    np.testing.assert_allclose(table["SOC_t_C_ha"], soc, rtol=1e-14)
    assert "RothC:" in result.stderr and "spin-up analytic" in result.stderr


def test_monthly_reference_spinup_and_radiocarbon(site_file):
    result = _invoke(site_file, "--monthly", "--spinup", "reference", "--radiocarbon", "-f", "csv", "-q")
    assert result.exit_code == 0, result.output
    table = pd.read_csv(io.StringIO(result.stdout))
    assert list(table.columns) == list(MONTH_COLUMNS) + ["deltaC"]
    assert len(table) == 24 and table["Month"].tolist() == list(range(1, 13)) * 2
    assert table["PC"].tolist().count(0) == 2 and table["RM_PC"].max() == 1.0
    assert result.stderr == ""
    years = pd.read_csv(io.StringIO(_invoke(site_file, "--spinup", "reference", "-f", "csv", "-q").stdout))
    assert years["Month"].iat[0] > 1200 and years["Month"].iat[0] % 12 == 0  # months iterated


def test_json_output_file_and_stdin(site_file, tmp_path):
    out = tmp_path / "years.json"
    result = _invoke(site_file, "--format", "json", "-o", out, "-q")
    assert result.exit_code == 0 and result.stdout == ""
    doc = json.loads(out.read_text())
    assert list(doc["year_results"][0]) == list(YEAR_COLUMNS)
    assert doc["meta"]["spinup"] == "analytic" and doc["meta"]["layout"] == "v2"
    piped = _invoke("-", "-f", "csv", "-q", input=site_file.read_text())
    assert piped.exit_code == 0
    direct = _invoke(site_file, "-f", "csv", "-q")
    assert piped.stdout == direct.stdout


@pytest.mark.reference
def test_reference_case_through_the_cli(reference_dir):
    """RothC_R v2.0.0 example with --spinup reference = its year_results.out to 1e-9."""
    folder = reference_dir / "rothc" / "RothC_R_v2.0.0"
    result = _invoke(folder / "RothC_input.dat", "--spinup", "reference", "-f", "csv", "-q")
    assert result.exit_code == 0, result.output
    ours = pd.read_csv(io.StringIO(result.stdout))
    ref = pd.read_csv(folder / "year_results.out")
    assert list(ours.columns) == list(ref.columns)[:-1]  # deltaC only with --radiocarbon
    assert ours["Month"].iat[0] == 20916
    np.testing.assert_allclose(ours.to_numpy(float), ref[ours.columns].to_numpy(float), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda t: t.replace("\t1.44\n", "\n", 1), "line 11: expected 10 numbers"),
        (lambda t: t.replace("      36    ", "      48    "), "nsteps is 48 but only 36 monthly rows"),
        (lambda t: t.replace("    1          1", "    3          1"), "opt_RMmoist = 3"),
        (lambda t: t.replace("clay\tdepth", "argile\tprof"), "no 'clay depth iom nsteps' header"),
    ],
)
def test_malformed_file_gives_one_line_error(tmp_path, mutate, expected):
    path = tmp_path / "bad.dat"
    path.write_text(mutate(_site_text()))
    result = _invoke(path)
    assert result.exit_code == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"Error: {path}") and expected in lines[0]
    assert "Traceback" not in result.output


def test_missing_file_and_bad_option(tmp_path):
    result = _invoke(tmp_path / "nope.dat")
    assert result.exit_code == 1 and result.stderr.startswith("Error: ") and len(result.stderr.splitlines()) == 1
    assert _invoke(tmp_path / "nope.dat", "--spinup", "fast").exit_code == 2


def test_help_has_an_example():
    result = CliRunner().invoke(main, ["rothc", "--help"])
    assert result.exit_code == 0
    assert "Example" in result.output and "fourp1000 rothc RothC_input.dat" in result.output
    assert "rothc" in CliRunner().invoke(main, ["--help"]).output
