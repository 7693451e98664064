"""The extra carbon input a plot needs for 4 per 1000, solved with RothC-26.3.

For fixed climate, clay, depth and soil cover the RothC pools follow an affine recursion
``x(t+1) = A(t) x(t) + b(t)``, with ``b`` linear in the monthly plant and manure inputs: the
rate modifiers depend on the weather, the cover and the topsoil moisture deficit, never on
the carbon. Started from the equilibrium of the baseline cycle (the state ``project``
starts from), the stock after ``T`` years under the baseline cycle plus an extra input
``e`` (t C ha-1 yr-1) with a fixed monthly pattern is therefore

    S(T) = S(0) + e x g(T)

where ``g(T)`` is the stock after ``T`` years from empty pools (no inert matter, the same
moisture deficit) fed 1 t C ha-1 yr-1 with that pattern. The 4 per 1000 target asks for
``S(T) - S(0) = 0.004 x T x S(0)`` (the linear form of :mod:`fourp1000.targets`), so

    e = 0.004 x T x S(0) / g(T)

one forward run for all plots, no search. The extra plant input has the monthly pattern
and DPM/RPM ratio of the plot's fitted baseline input; the extra manure is farmyard
manure spread evenly over the year (as the catalogue's ``manure`` practice).

With a depth other than 0-30 cm the target is on the stock of that depth and the 0-30 cm
change reaches it with the share of :func:`fourp1000.projection.verdict.depth_share`, as
in ``project``.

References
----------
.. [1] Coleman K., Jenkinson D.S. (1996) RothC-26.3 - A model for the turnover of carbon in
   soil. NATO ASI Series I 38, Springer, 237-246. doi:10.1007/978-3-642-61094-3_17
.. [2] Martin M.P. et al. (2021) Feasibility of the 4 per 1000 aspirational target for soil
   carbon: a case study for France. Global Change Biology 27 (reverse RothC: the C inputs
   needed to raise SOC stocks by 4 per mille a year over 30 years, compared with NPP).
.. [3] Bruni E. et al. (2021) Additional carbon inputs to reach a 4 per 1000 objective in
   Europe. Biogeosciences 18:3981, doi:10.5194/bg-18-3981-2021
.. [4] Riggers C. et al. (2021) How much carbon input is required to preserve or increase
   projected soil organic carbon stocks in German croplands under climate change? Plant
   and Soil, doi:10.1007/s11104-020-04806-8
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .. import rothc
from ..io.climate import ClimateTable
from ..projection import tier1
from ..projection.rothc import MODEL_DEPTH_CM, input_ceiling, land_use_defaults, practice_effects
from ..projection.rothc_inputs import MONTHS, fit_baseline, plot_drivers
from ..projection.verdict import depth_share
from ..targets import RATE_PER_YEAR

#: Columns of :func:`extra_inputs`, after ``plot_id``.
INPUT_COLUMNS = ("current_plant_input_t_c_ha_yr", "extra_plant_input_t_c_ha_yr", "extra_input_pct",
                 "extra_manure_c_t_ha_yr", "plant_c_input_ceiling_t_ha_yr", "input_within_ceiling")


def unit_response(inputs: rothc.MonthlyInputs, clay_pct: np.ndarray, depth_cm: float, smd_mm: np.ndarray,
                  n_years: int, params: rothc.RothCParameters | None = None) -> np.ndarray:
    """Stock [t C ha-1] after ``n_years`` from empty pools fed ``inputs`` (the g(T) of the module docstring).

    Parameters
    ----------
    inputs : fourp1000.rothc.MonthlyInputs
        The cycle with the extra input alone as its plant (or manure) input.
    clay_pct : array (n,) [%]
    depth_cm : float [cm]
    smd_mm : array (n,) [mm]
        Moisture deficit of the baseline equilibrium state at the start (the rate
        modifiers then follow the baseline run month by month).
    n_years : int
    params : RothCParameters, optional

    Returns
    -------
    numpy.ndarray (n,) [t C ha-1]
    """
    n = np.asarray(clay_pct).size
    empty = rothc.RothCState(np.zeros((4, n)), np.zeros(n), np.asarray(smd_mm, dtype=float).copy())
    out = rothc.run(inputs, clay_pct, depth_cm, empty, n_months=MONTHS * int(n_years), record="final",
                    variables=("soc_t_c_ha",), params=params)
    return out.outputs["soc_t_c_ha"][-1]


def extra_inputs(plots: pd.DataFrame, climate: ClimateTable, years: int, *, ipcc_version: str = "2019",
                 depth_cm: float = MODEL_DEPTH_CM, params: rothc.RothCParameters | None = None) -> pd.DataFrame:
    """Extra plant C input, or alternatively manure C, that gives each plot 4 per 1000 over ``years`` in RothC.

    Parameters
    ----------
    plots : pandas.DataFrame
        The plot table ``project`` gives RothC (:attr:`fourp1000.projection.table.ProjectResult.plot_inputs`);
        its ``practices`` column is not used: the plan starts from the baseline.
    climate : ClimateTable
    years : int
        Horizon T [yr].
    ipcc_version : {"2019", "2006"}
        For plots whose baseline is the IPCC default stock.
    depth_cm : float
        RothC layer depth [cm].
    params : RothCParameters, optional

    Returns
    -------
    pandas.DataFrame
        ``plot_id`` and :data:`INPUT_COLUMNS`: ``current_plant_input_t_c_ha_yr`` (the fitted
        baseline input), ``extra_plant_input_t_c_ha_yr``, ``extra_input_pct`` (extra over
        current, %), ``extra_manure_c_t_ha_yr`` [t C ha-1 yr-1], the plot's
        ``plant_c_input_ceiling_t_ha_yr`` (climatic NPP as carbon,
        :func:`fourp1000.projection.rothc.input_ceiling`) and ``input_within_ceiling``
        (current plus extra plant input at most the ceiling). NaN where the depth rule
        leaves no share of the change in the requested depth.

    Raises
    ------
    FourP1000Error
        Plots RothC cannot run (validate them first, as ``project`` does).
    """
    p = params if params is not None else rothc.load_parameters()
    base_plots = plots.drop(columns=[c for c in ("practices",) if c in plots.columns])
    inp = tier1.prepare(base_plots, (), ipcc_version, method="rates")
    s30 = inp.baseline_stock()
    drivers, errors = plot_drivers(base_plots, climate, land_use_defaults(), s30, inp.source_row, p)
    if errors:
        raise errors[0]
    base = fit_baseline(drivers, practice_effects(), depth_cm, p)
    current = base.fit.plant_c_t_ha_yr
    with np.errstate(invalid="ignore", divide="ignore"):
        pattern = np.asarray(base.plant_t_c_ha, dtype=float) / current[None, :]
    smd = base.fit.spinup.state.smd_mm
    weather = dict(temperature_c=drivers.temperature_c, rain_mm=drivers.rain_mm, evaporation_mm=drivers.evaporation_mm,
                   covered=drivers.covered)
    g_plant = unit_response(rothc.MonthlyInputs(**weather, plant_c_t_ha=np.nan_to_num(pattern), fym_c_t_ha=0.0,
                                                dpm_rpm_ratio=drivers.dpm_rpm_ratio[None, :]),
                            drivers.clay_pct, depth_cm, smd, years, p)
    g_fym = unit_response(rothc.MonthlyInputs(**weather, plant_c_t_ha=0.0, fym_c_t_ha=1.0 / MONTHS),
                          drivers.clay_pct, depth_cm, smd, years, p)
    stock, share, _ = depth_share(plots, s30)
    with np.errstate(invalid="ignore", divide="ignore"):
        needed_30 = np.where(share > 0, RATE_PER_YEAR * float(years) * stock / share, np.nan)
        extra_plant = np.where(np.isfinite(current), needed_30 / g_plant, np.nan)
        extra_manure = needed_30 / g_fym
        pct = 100.0 * extra_plant / current
    ceiling = input_ceiling(drivers)
    within = pd.array(np.where(np.isfinite(ceiling) & np.isfinite(extra_plant), current + extra_plant <= ceiling,
                               pd.NA), dtype="boolean")
    return pd.DataFrame({"plot_id": plots["plot_id"].to_numpy(), "current_plant_input_t_c_ha_yr": current,
                         "extra_plant_input_t_c_ha_yr": extra_plant, "extra_input_pct": pct,
                         "extra_manure_c_t_ha_yr": extra_manure, "plant_c_input_ceiling_t_ha_yr": ceiling,
                         "input_within_ceiling": within})


__all__ = ["INPUT_COLUMNS", "extra_inputs", "unit_response"]
