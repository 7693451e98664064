"""The official RothC input file format, and result tables with the reference's columns.

Reads one site in the format of the Rothamsted RothC code (Fortran, R, Python):

* **v2** (RothC v2.0.0): info lines; ``opt_RMmoist opt_SMDbare`` names and values; info
  lines; ``clay depth iom nsteps silt BD OC minRM_Moist`` names and values; info lines;
  ``year month modern Tmp Rain Evap C_inp FYM PC DPM_RPM`` and ``nsteps`` monthly rows.
* **v1** (RothC v1.0.0, Python): no option line; ``clay depth iom nsteps``; monthly rows
  with a month column.
* **v1 without month** (older Fortran files): as v1, monthly rows without the month column
  (months are counted from January).

Header lines are found by their first word (``opt_RMmoist``, ``clay``, ``year``), so files
with or without unit lines load alike. Fields may be separated by spaces, tabs or commas.
The first 12 monthly rows are the spin-up year; the others are the forward run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .. import rothc
from ..errors import InputError

YEAR_COLUMNS = (
    "Year",
    "Month",
    "DPM_t_C_ha",
    "RPM_t_C_ha",
    "Bio_t_C_ha",
    "Hum_t_C_ha",
    "IOM_t_C_ha",
    "SOC_t_C_ha",
    "CO2_t_C_ha",
)
"""Columns of the reference ``year_results`` (RothC_R v2.0.0), without ``deltaC``."""

MONTH_COLUMNS = (
    "Year",
    "Month",
    "Pl_inp_t_C_ha",
    "OA_inp_t_C_ha",
    "TEMP_C",
    "RM_Temp",
    "RAIN_mm",
    "PEVAP_mm",
    "SMD_mm",
    "RM_Moist",
    "PC",
    "RM_PC",
    "DPM_t_C_ha",
    "RPM_t_C_ha",
    "Bio_t_C_ha",
    "Hum_t_C_ha",
    "IOM_t_C_ha",
    "SOC_t_C_ha",
    "CO2_t_C_ha",
)
"""Columns of the reference ``month_results`` (RothC_R v2.0.0)."""

DELTA_C_COLUMN = "deltaC"

_DATA_COLUMNS = (
    "year",
    "month",
    "modern_c_pct",
    "temperature_c",
    "rain_mm",
    "evaporation_mm",
    "plant_c_t_ha",
    "fym_c_t_ha",
    "covered",
    "dpm_rpm_ratio",
)
_DATA_NAMES = "year month modern Tmp Rain Evap C_inp FYM PC DPM_RPM"
_SPINUP_MONTHS = 12
_SPLIT = re.compile(r"[,\s]+")


@dataclass
class RothCSite:
    """One site read from an official RothC input file.

    Attributes
    ----------
    source : str
        File name (for messages).
    layout : str
        ``v2``, ``v1`` or ``v1-no-month``.
    opt_rm_moist, opt_smd_bare : int
        RothC v2 options (1, 1 = classic RothC-26.3; v1 files have no options: 1, 1).
    clay_pct : float [%]
    depth_cm : float [cm]
    iom_t_c_ha : float [t C ha-1]
    nsteps : int
        Monthly rows used (the first 12 are the spin-up year).
    months : pandas.DataFrame
        One row per month: ``year, month, modern_c_pct, temperature_c, rain_mm,
        evaporation_mm (open pan), plant_c_t_ha, fym_c_t_ha, covered (0/1),
        dpm_rpm_ratio, line`` (1-based line number in the file).
    """

    source: str
    layout: str
    opt_rm_moist: int
    opt_smd_bare: int
    clay_pct: float
    depth_cm: float
    iom_t_c_ha: float
    nsteps: int
    months: pd.DataFrame

    @property
    def bare_soil_limit(self) -> rothc.BareSoilLimit:
        """The bare-soil drying limit ``opt_SMDbare`` selects (see :func:`fourp1000.rothc.smd_limits`)."""
        return "classic" if self.opt_smd_bare == 1 else "wilting_point"

    def inputs(self, rows: slice) -> rothc.MonthlyInputs:
        """Monthly inputs of the given rows, shape (n_months, 1)."""
        m = self.months.iloc[rows]

        def col(name: str) -> np.ndarray:
            return m[name].to_numpy(dtype=float)[:, None]

        return rothc.MonthlyInputs(
            temperature_c=col("temperature_c"),
            rain_mm=col("rain_mm"),
            evaporation_mm=col("evaporation_mm"),
            plant_c_t_ha=col("plant_c_t_ha"),
            fym_c_t_ha=col("fym_c_t_ha"),
            covered=m["covered"].to_numpy(dtype=bool)[:, None],
            dpm_rpm_ratio=col("dpm_rpm_ratio"),
            modern_c_pct=col("modern_c_pct"),
        )


def read_site(path: str | Path) -> RothCSite:
    """Read a site from an official RothC input file (v1 or v2 layout).

    Parameters
    ----------
    path : str or Path
        The input file (``RothC_input.dat``).

    Returns
    -------
    RothCSite

    Raises
    ------
    InputError
        The file does not follow the format; the message names the file, the line and
        what was expected.
    """
    raw = Path(path).read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("latin-1")
    return parse_site(text, str(path))


def _numbers(tokens: list[str], source: str, lineno: int, expected: str) -> list[float]:
    values = []
    for token in tokens:
        try:
            values.append(float(token))
        except ValueError:
            raise InputError(f"{source}, line {lineno}: expected numbers ({expected}), found {token!r}") from None
    return values


def _find_header(lines: list[list[str]], words: tuple[str, ...], start: int = 0) -> int | None:
    """First line whose first word is words[0] and whose second is one of words[1:]."""
    for i in range(start, len(lines)):
        tokens = [t.lower() for t in lines[i][:2]]
        if tokens and tokens[0] == words[0] and (len(words) == 1 or (len(tokens) > 1 and tokens[1] in words[1:])):
            return i
    return None


def _next_content(lines: list[list[str]], start: int) -> int | None:
    for i in range(start, len(lines)):
        if lines[i]:
            return i
    return None


def parse_site(text: str, source: str = "<input>") -> RothCSite:
    """Parse the text of an official RothC input file; see :func:`read_site`."""
    lines = [[t for t in _SPLIT.split(line.strip()) if t] for line in text.splitlines()]
    opt_at, opt_rm_moist, opt_smd_bare = _read_options(lines, source)
    values_at, (clay, depth, iom, nsteps) = _read_soil(lines, 0 if opt_at is None else opt_at + 1, source)
    frame, has_month = _read_months(lines, values_at + 1, nsteps, source)
    layout = ("v2" if opt_at is not None else "v1") if has_month else "v1-no-month"
    return RothCSite(source, layout, opt_rm_moist, opt_smd_bare, clay, depth, iom, nsteps, frame)


def _read_options(lines: list[list[str]], source: str) -> tuple[int | None, int, int]:
    """Line of the v2 option header (None in v1 files), ``opt_RMmoist`` and ``opt_SMDbare``."""
    opt_at = _find_header(lines, ("opt_rmmoist",))
    if opt_at is None:
        return None, 1, 1
    at = _next_content(lines, opt_at + 1)
    if at is None:
        raise InputError(f"{source}, line {opt_at + 2}: expected the values of opt_RMmoist opt_SMDbare")
    values = _numbers(lines[at][:2], source, at + 1, "opt_RMmoist opt_SMDbare")
    if len(values) < 2:
        raise InputError(f"{source}, line {at + 1}: expected 2 numbers (opt_RMmoist opt_SMDbare)")
    opt_rm_moist, opt_smd_bare = int(values[0]), int(values[1])
    if opt_rm_moist != 1:
        raise InputError(
            f"{source}, line {at + 1}: opt_RMmoist = {opt_rm_moist} (Farina et al. 2013 moisture function) "
            "is not supported; use 1 (classic RothC-26.3)"
        )
    if opt_smd_bare not in (1, 2):
        raise InputError(f"{source}, line {at + 1}: opt_SMDbare must be 1 or 2, got {opt_smd_bare}")
    return opt_at, opt_rm_moist, opt_smd_bare


def _read_soil(lines: list[list[str]], start: int, source: str) -> tuple[int, tuple[float, float, float, int]]:
    """Line of the soil values, and ``clay depth iom nsteps`` (checked)."""
    soil_at = _find_header(lines, ("clay", "depth"), start)
    if soil_at is None:
        raise InputError(
            f"{source}: no 'clay depth iom nsteps' header line; expected the official RothC input format (v1 or v2)"
        )
    at = _next_content(lines, soil_at + 1)
    if at is None:
        raise InputError(f"{source}, line {soil_at + 2}: expected the values of clay depth iom nsteps")
    soil = _numbers(lines[at][:4], source, at + 1, "clay depth iom nsteps")
    if len(soil) < 4:
        raise InputError(f"{source}, line {at + 1}: expected 4 numbers (clay depth iom nsteps), got {len(soil)}")
    clay, depth, iom, nsteps_value = soil
    if not all(np.isfinite(soil[:4])):
        raise InputError(f"{source}, line {at + 1}: clay depth iom nsteps must be finite numbers, got "
                         f"{' '.join(f'{v:g}' for v in soil[:4])}")
    if not 0 <= clay <= 100:
        raise InputError(f"{source}, line {at + 1}: clay must be between 0 and 100 %, got {clay:g}")
    if not depth > 0:
        raise InputError(f"{source}, line {at + 1}: depth must be > 0 cm, got {depth:g}")
    if not iom >= 0:
        raise InputError(f"{source}, line {at + 1}: iom must be >= 0 t C/ha, got {iom:g}")
    if nsteps_value != int(nsteps_value) or nsteps_value < _SPINUP_MONTHS:
        raise InputError(
            f"{source}, line {at + 1}: nsteps must be a whole number >= 12 (12 spin-up months first), "
            f"got {nsteps_value:g}"
        )
    return at, (clay, depth, iom, int(nsteps_value))


def _read_months(lines: list[list[str]], start: int, nsteps: int, source: str) -> tuple[pd.DataFrame, bool]:
    """The ``nsteps`` monthly rows after the ``year month modern ...`` header (checked), and
    whether the file has a month column.
    """
    header_at = _find_header(lines, ("year", "month", "modern"), start)
    if header_at is None:
        raise InputError(f"{source}: no 'year month modern Tmp ...' header line before the monthly rows")
    has_month = len(lines[header_at]) > 1 and lines[header_at][1].lower() == "month"
    names = _DATA_NAMES if has_month else _DATA_NAMES.replace(" month", "")
    width = 10 if has_month else 9

    rows, line_numbers = [], []
    for i in range(header_at + 1, len(lines)):
        if len(rows) == nsteps:
            break  # like the reference, read exactly nsteps rows
        if not lines[i]:
            continue
        if len(lines[i]) != width:
            raise InputError(
                f"{source}, line {i + 1}: expected {width} numbers ({names}), got {len(lines[i])}"
            )
        rows.append(_numbers(lines[i], source, i + 1, names))
        line_numbers.append(i + 1)
    if len(rows) < nsteps:
        raise InputError(
            f"{source}: nsteps is {nsteps} but only {len(rows)} monthly rows follow the header on line {header_at + 1}"
        )
    data = np.asarray(rows, dtype=float)
    if not has_month:
        months = (np.arange(nsteps) % 12 + 1).astype(float)
        data = np.column_stack([data[:, :1], months, data[:, 1:]])
    frame = pd.DataFrame(data, columns=list(_DATA_COLUMNS))
    frame["line"] = line_numbers
    _check_months(frame, source)
    frame["year"] = frame["year"].astype(int)
    frame["month"] = frame["month"].astype(int)
    frame["covered"] = frame["covered"].astype(int)
    return frame, has_month


_RULES = (
    ("month", lambda v: (v >= 1) & (v <= 12) & (v == np.round(v)), "month must be a whole number 1-12"),
    ("modern_c_pct", lambda v: v > 0, "modern (% modern C) must be > 0"),
    ("temperature_c", np.isfinite, "Tmp must be a finite number"),
    ("rain_mm", lambda v: v >= 0, "Rain must be >= 0 mm"),
    # Negative open-pan evaporation (net condensation) occurs in the Rothamsted data: allowed.
    ("evaporation_mm", np.isfinite, "Evap must be a finite number"),
    ("plant_c_t_ha", lambda v: v >= 0, "C_inp must be >= 0 t C/ha"),
    ("fym_c_t_ha", lambda v: v >= 0, "FYM must be >= 0 t C/ha"),
    ("covered", lambda v: (v == 0) | (v == 1), "PC must be 0 (bare) or 1 (covered)"),
    ("dpm_rpm_ratio", lambda v: v >= 0, "DPM_RPM must be >= 0"),
)


def _check_months(frame: pd.DataFrame, source: str) -> None:
    for column, rule, message in _RULES:
        values = frame[column].to_numpy()
        with np.errstate(invalid="ignore"):
            ok = rule(values) & np.isfinite(values)
        if not ok.all():
            row = int(np.flatnonzero(~ok)[0])
            raise InputError(f"{source}, line {frame['line'].iat[row]}: {message}, got {values[row]:g}")


@dataclass
class SiteResult:
    """Result of :func:`run_site`: the reference's two tables and the spin-up."""

    year_results: pd.DataFrame
    month_results: pd.DataFrame
    spinup: rothc.Spinup


def run_site(
    site: RothCSite,
    *,
    spinup: rothc.SpinupMethod = "analytic",
    radiocarbon: bool = False,
    params: rothc.RothCParameters | None = None,
) -> SiteResult:
    """Run a site as the reference code does: spin-up on the first 12 rows, then the rest.

    Parameters
    ----------
    site : RothCSite
        From :func:`read_site`.
    spinup : {"analytic", "reference"}
        Equilibrium method (see :func:`fourp1000.rothc.spinup`); ``reference`` reproduces
        the official output files.
    radiocarbon : bool
        Add the ``deltaC`` column (Δ14C of the soil, ‰).
    params : RothCParameters, optional

    Returns
    -------
    SiteResult
        ``year_results``: the state after the spin-up (``Month`` = months iterated, 0
        for the analytic spin-up), then every December. ``month_results``: every month of
        the forward run. The deficit carries over from the spin-up; CO2 starts at 0.
    """
    spin_inputs = site.inputs(slice(0, _SPINUP_MONTHS))
    spun = rothc.spinup(
        spin_inputs,
        site.clay_pct,
        site.depth_cm,
        site.iom_t_c_ha,
        method=spinup,
        radiocarbon=radiocarbon,
        bare_soil_limit=site.bare_soil_limit,
        params=params,
    )
    n_forward = site.nsteps - _SPINUP_MONTHS
    forward = site.months.iloc[_SPINUP_MONTHS:].reset_index(drop=True)
    outputs: dict[str, np.ndarray] = {}
    if n_forward:
        result = rothc.run(
            site.inputs(slice(_SPINUP_MONTHS, None)),
            site.clay_pct,
            site.depth_cm,
            spun.state,
            n_months=n_forward,
            record="monthly",
            radiocarbon=radiocarbon,
            bare_soil_limit=site.bare_soil_limit,
            params=params,
        )
        outputs = {name: values[:, 0] for name, values in result.outputs.items()}
    months = month_table(forward, outputs, radiocarbon)
    years = year_table(int(site.months["year"].iat[0]), spun, months, radiocarbon, params)
    return SiteResult(years, months, spun)


def month_table(forward: pd.DataFrame, outputs: dict[str, np.ndarray], radiocarbon: bool) -> pd.DataFrame:
    """The reference ``month_results`` table from the forward rows and one plot's outputs."""
    empty = np.empty(0)

    def out(name: str) -> np.ndarray:
        return outputs.get(name, empty)

    table = pd.DataFrame(
        {
            "Year": forward["year"].to_numpy(dtype=int),
            "Month": forward["month"].to_numpy(dtype=int),
            "Pl_inp_t_C_ha": forward["plant_c_t_ha"].to_numpy(dtype=float),
            "OA_inp_t_C_ha": forward["fym_c_t_ha"].to_numpy(dtype=float),
            "TEMP_C": forward["temperature_c"].to_numpy(dtype=float),
            "RM_Temp": out("rm_temperature"),
            "RAIN_mm": forward["rain_mm"].to_numpy(dtype=float),
            "PEVAP_mm": forward["evaporation_mm"].to_numpy(dtype=float),
            "SMD_mm": out("smd_mm"),
            "RM_Moist": out("rm_moisture"),
            "PC": forward["covered"].to_numpy(dtype=int),
            "RM_PC": out("rm_cover"),
            "DPM_t_C_ha": out("dpm_t_c_ha"),
            "RPM_t_C_ha": out("rpm_t_c_ha"),
            "Bio_t_C_ha": out("bio_t_c_ha"),
            "Hum_t_C_ha": out("hum_t_c_ha"),
            "IOM_t_C_ha": out("iom_t_c_ha"),
            "SOC_t_C_ha": out("soc_t_c_ha"),
            "CO2_t_C_ha": out("co2_t_c_ha"),
        },
        columns=list(MONTH_COLUMNS),
    )
    if radiocarbon:
        table[DELTA_C_COLUMN] = out("delta14c_permil")
    return table


def year_table(
    spinup_year: int,
    spun: rothc.Spinup,
    months: pd.DataFrame,
    radiocarbon: bool,
    params: rothc.RothCParameters | None = None,
) -> pd.DataFrame:
    """The reference ``year_results`` table: the spin-up row, then every December."""
    state = spun.state
    first = {
        "Year": spinup_year,
        "Month": int(spun.n_months[0]),
        "DPM_t_C_ha": float(state.dpm_t_c_ha[0]),
        "RPM_t_C_ha": float(state.rpm_t_c_ha[0]),
        "Bio_t_C_ha": float(state.bio_t_c_ha[0]),
        "Hum_t_C_ha": float(state.hum_t_c_ha[0]),
        "IOM_t_C_ha": float(state.iom_t_c_ha[0]),
        "SOC_t_C_ha": float(state.soc_t_c_ha[0]),
        "CO2_t_C_ha": 0.0,
    }
    if radiocarbon:
        first[DELTA_C_COLUMN] = float(rothc.delta14c(state, params)[0])
    columns = list(YEAR_COLUMNS) + ([DELTA_C_COLUMN] if radiocarbon else [])
    decembers = months.loc[months["Month"] == 12, columns]
    table = pd.concat([pd.DataFrame([first], columns=columns), decembers], ignore_index=True)
    return table.astype({"Year": int, "Month": int})


def run_frame(run: rothc.RothCRun, plot_ids: list[str] | None = None) -> pd.DataFrame:
    """Long table of a multi-plot :class:`~fourp1000.rothc.RothCRun`.

    Parameters
    ----------
    run : RothCRun
    plot_ids : list of str, optional
        One id per plot (default ``"0", "1", ...``).

    Returns
    -------
    pandas.DataFrame
        Columns ``plot_id``, ``month_index`` (0-based month of the run) and one column per
        recorded variable (units in the names: ``soc_t_c_ha``, ``smd_mm``, ...).
    """
    names = list(run.outputs)
    n_rec, n = next(iter(run.outputs.values())).shape if names else (len(run.month_index), 0)
    ids = [str(i) for i in range(n)] if plot_ids is None else [str(i) for i in plot_ids]
    if len(ids) != n:
        raise InputError(f"plot_ids has {len(ids)} ids for {n} plots")
    frame = pd.DataFrame(
        {
            "plot_id": np.repeat(np.asarray(ids, dtype=object), n_rec),
            "month_index": np.tile(run.month_index, n),
        }
    )
    for name in names:
        frame[name] = run.outputs[name].T.reshape(-1)
    return frame
