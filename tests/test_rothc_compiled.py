"""The compiled RothC month loop (fourp1000.rothc.compiled, ``rothc.run(kernel="numba")``)
against the numpy loop, the reference implementation of the package.

The two loops do the same arithmetic in the same order; only the exponentials (numpy's SIMD
ones and the C library's) may differ in the last bit. Both must agree to 1e-9 relative on
the official Rothamsted cases of ../shared/reference/rothc and on random vectorised plots
that exercise every branch (bare and covered months, manure, radiocarbon, periodic and
plot-independent drivers, a long weather series, frost below -5 °C, rate constants without
an integer decay plan).
"""

from __future__ import annotations

import numpy as np
import pytest

from fourp1000 import rothc
from fourp1000.errors import InputError, UnknownFactorError
from fourp1000.io import rothc_files as rothc_io
from fourp1000.rothc import model

numba = pytest.importorskip("numba")

RTOL = 1e-9
#: Δ14C = (ratio - 1) x 1000 ‰ is compared relative to 1000 ‰, the scale of the ratio: near
#: 0 ‰ the subtraction leaves only the last bits of the ratio.
DELTA14C = ("deltaC", "delta14c_permil")


def _assert_agree(a: np.ndarray, b: np.ndarray, name: str) -> None:
    """``b`` agrees with ``a`` to RTOL relative (Δ14C: relative to 1000 ‰; near-zero values: to 1e-6)."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    assert a.shape == b.shape, name
    scale = np.maximum(np.abs(a), 1000.0 if name.split()[-1] in DELTA14C else 1e-6)
    worst = float(np.max(np.abs(a - b) / scale)) if a.size else 0.0
    assert worst <= RTOL, f"{name}: relative difference {worst:.2e}"


def _reference_sites(reference_dir):
    cases = sorted(p for p in (reference_dir / "rothc").iterdir() if (p / "RothC_input.dat").exists())
    assert len(cases) >= 5  # the four official codes and the Morocco case
    return cases


@pytest.mark.reference
def test_official_cases_compiled_equal_numpy(reference_dir, monkeypatch):
    """Every official case, month by month with radiocarbon: the compiled loop gives the numpy
    loop's results (which the tests of test_rothc.py hold to the official outputs)."""
    for case in _reference_sites(reference_dir):
        site = rothc_io.read_site(case / "RothC_input.dat")
        runs = {}
        for kernel in ("numpy", "numba"):
            monkeypatch.setenv(model.KERNEL_ENV, kernel)
            runs[kernel] = rothc_io.run_site(site, radiocarbon=True)
        for table in ("year_results", "month_results"):
            ours, ref = getattr(runs["numba"], table), getattr(runs["numpy"], table)
            assert list(ours.columns) == list(ref.columns)
            for column in ours.select_dtypes("number").columns:
                _assert_agree(ours[column], ref[column], f"{case.name} {table} {column}")


def _random_inputs(rng: np.random.Generator, n: int, months: int) -> rothc.MonthlyInputs:
    """Plots with every kind of driver: per plot and month, cyclic, one value for all plots."""
    temp = rng.uniform(-12, 28, (months, n))  # a long series: the kernel computes the factor itself
    rain = rng.gamma(2.0, 30.0, (12, n))
    evap = rng.uniform(-2, 140, (12, 1))  # one series for all plots (and a condensation month)
    plant = np.where(rng.uniform(size=(12, n)) < 0.3, rng.uniform(0, 2, (12, n)), 0.0)
    fym = np.where(rng.uniform(size=(12, n)) < 0.1, rng.uniform(0, 3, (12, n)), 0.0)
    covered = rng.uniform(size=(12, n)) < 0.6
    ratio = rng.choice([1.44, 0.67, 0.25], (1, n))
    modern = rng.uniform(95, 120, (months, 1))
    return rothc.MonthlyInputs(temp, rain, evap, plant, fym, covered, ratio, modern)


@pytest.mark.parametrize("params", [None, {"k_dpm_per_yr": 9.7}], ids=["decay_plan", "four_exponentials"])
@pytest.mark.parametrize("bare_soil_limit", ["classic", "wilting_point"])
def test_random_plots_compiled_equal_numpy(params, bare_soil_limit):
    rng = np.random.default_rng(11)
    n, months = 700, 240
    p = rothc.load_parameters(params)
    inputs = _random_inputs(rng, n, months)
    clay, depth = rng.uniform(2, 70, n), rng.uniform(10, 40, n)
    spin = inputs.replace(temperature_c=inputs.temperature_c[:12], modern_c_pct=100.0)
    start = rothc.spinup(spin, clay, depth, rng.uniform(0.2, 5, n), radiocarbon=True, params=p).state
    start.smd_mm = rng.uniform(-40, 0, n)  # a deficit that carries on
    runs = {kernel: rothc.run(inputs, clay, depth, start.copy(), record="monthly", bare_soil_limit=bare_soil_limit,
                              params=p, kernel=kernel) for kernel in ("numpy", "numba")}
    a, b = runs["numpy"], runs["numba"]
    assert set(a.outputs) == set(b.outputs) == set(rothc.OUTPUTS)
    for name in rothc.OUTPUTS:
        _assert_agree(b.outputs[name], a.outputs[name], name)
    np.testing.assert_array_equal(a.month_index, b.month_index)
    _assert_agree(b.final_state.pools_t_c_ha, a.final_state.pools_t_c_ha, "final pools")
    _assert_agree(b.final_state.c14_activity_t_c_ha, a.final_state.c14_activity_t_c_ha, "final activity")
    _assert_agree(b.final_state.smd_mm, a.final_state.smd_mm, "final deficit")
    # The loop was exercised where it branches.
    assert (inputs.temperature_c < -5).any() and (~inputs.covered).any() and (inputs.fym_c_t_ha > 0).any()


def test_yearly_records_of_a_subset_without_radiocarbon():
    rng = np.random.default_rng(3)
    n = 300
    inputs = _random_inputs(rng, n, 12).replace(temperature_c=rng.uniform(0, 20, (12, n)))
    start = rothc.spinup(inputs, 25.0, 23.0, 3.0).state  # scalars broadcast to every plot
    kwargs = dict(n_months=360, record="yearly", variables=("soc_t_c_ha", "co2_t_c_ha", "rm_moisture"))
    a = rothc.run(inputs, 25.0, 23.0, start, kernel="numpy", **kwargs)
    b = rothc.run(inputs, 25.0, 23.0, start, kernel="numba", **kwargs)
    assert list(b.outputs) == list(a.outputs) and b.outputs["soc_t_c_ha"].shape == (30, n)
    for name in a.outputs:
        _assert_agree(b.outputs[name], a.outputs[name], name)
    assert b.final_state.c14_activity_t_c_ha is None


@pytest.mark.parametrize("record", ["monthly", "yearly"])
def test_repeated_cycle_read_back_gives_the_same_numbers(record):
    """Once a plot's deficit repeats its value of a cycle before, the compiled loop reads the
    cycle's modifiers, fractions and inputs back instead of computing them: the same numbers
    as computing every month (here: the rain given as a 300-month series, which has no cycle
    within the run) and, to 1e-9, the numpy loop's, radiocarbon and every variable included."""
    rng = np.random.default_rng(17)
    n, years = 900, 25
    inputs = _random_inputs(rng, n, 12).replace(temperature_c=rng.uniform(-8, 24, (12, n)), modern_c_pct=103.0)
    clay, depth = rng.uniform(2, 70, n), rng.uniform(10, 40, n)
    start = rothc.spinup(inputs, clay, depth, 2.0, radiocarbon=True).state
    start.smd_mm = rng.uniform(-60, 0, n)  # deficits that take a year or more to settle
    # yearly records leave eleven months in twelve to the loop without records or branches
    kwargs = dict(n_months=12 * years, record=record, radiocarbon=record == "monthly")
    cyclic = rothc.run(inputs, clay, depth, start.copy(), kernel="numba", **kwargs)
    series = inputs.replace(rain_mm=np.tile(inputs.rain_mm, (years, 1)))
    every_month = rothc.run(series, clay, depth, start.copy(), kernel="numba", **kwargs)
    reference = rothc.run(inputs, clay, depth, start.copy(), kernel="numpy", **kwargs)
    assert set(cyclic.outputs) == set(rothc.OUTPUTS) - ({"delta14c_permil"} if record == "yearly" else set())
    for name in cyclic.outputs:
        np.testing.assert_array_equal(cyclic.outputs[name], every_month.outputs[name], err_msg=name)
        _assert_agree(cyclic.outputs[name], reference.outputs[name], name)
    for field in ("pools_t_c_ha", "smd_mm", "c14_activity_t_c_ha"):
        np.testing.assert_array_equal(getattr(cyclic.final_state, field), getattr(every_month.final_state, field))
    if record == "monthly":  # the deficits did move before settling into their cycle
        smd = cyclic.outputs["smd_mm"]
        assert (smd[12:24] != smd[:12]).any() and np.array_equal(smd[-12:], smd[-24:-12])


def test_settled_blocks_advance_by_whole_cycles():
    """Yearly records of SOC alone on a 12-month cycle: blocks of settled plots go on a year
    at a time (the cycle's affine map). The same run month by month (the rain given as a
    series without a cycle) agrees to 1e-12 relative, the numpy loop to 1e-9; the deficits
    at the end are those of the month loop exactly."""
    rng = np.random.default_rng(29)
    n, years = 1200, 30
    n_months = 12 * years
    inputs = _random_inputs(rng, n, 12).replace(temperature_c=rng.uniform(-8, 24, (12, n)))
    clay, depth = rng.uniform(2, 70, n), rng.uniform(10, 40, n)
    start = rothc.spinup(inputs, clay, depth, 2.0).state
    start.smd_mm = rng.uniform(-60, 0, n)  # deficits that take a year or more to settle
    kwargs = dict(n_months=n_months, record="yearly", variables=("soc_t_c_ha", "hum_t_c_ha"))
    by_cycle = rothc.run(inputs, clay, depth, start.copy(), kernel="numba", **kwargs)
    series = inputs.replace(rain_mm=np.tile(inputs.rain_mm, (years, 1)))
    every_month = rothc.run(series, clay, depth, start.copy(), kernel="numba", **kwargs)
    reference = rothc.run(inputs, clay, depth, start.copy(), kernel="numpy", **kwargs)
    assert by_cycle.outputs["soc_t_c_ha"].shape == (30, n)
    for name in kwargs["variables"]:
        np.testing.assert_allclose(by_cycle.outputs[name], every_month.outputs[name], rtol=1e-12, err_msg=name)
        _assert_agree(by_cycle.outputs[name], reference.outputs[name], name)
        assert not np.array_equal(by_cycle.outputs[name], every_month.outputs[name])  # another order of operations
    np.testing.assert_allclose(by_cycle.final_state.pools_t_c_ha, every_month.final_state.pools_t_c_ha, rtol=1e-12)
    np.testing.assert_array_equal(by_cycle.final_state.smd_mm, every_month.final_state.smd_mm)


def test_threads_do_not_change_the_results():
    """Blocks of plots run in parallel; each plot's numbers are the same with one thread."""
    rng = np.random.default_rng(5)
    n = 2000  # several blocks
    inputs = _random_inputs(rng, n, 12)
    start = rothc.spinup(inputs, rng.uniform(5, 50, n), 30.0, 2.0).state
    runs = []
    before = numba.get_num_threads()
    try:
        for threads in (1, numba.config.NUMBA_NUM_THREADS):
            numba.set_num_threads(threads)
            runs.append(rothc.run(inputs, 20.0, 30.0, start, n_months=120, record="yearly", kernel="numba"))
    finally:
        numba.set_num_threads(before)
    for name in runs[0].outputs:
        np.testing.assert_array_equal(runs[0].outputs[name], runs[1].outputs[name])


def test_kernel_choice(monkeypatch):
    inputs = rothc.MonthlyInputs(10.0, 50.0, 40.0, 0.1)
    start = rothc.spinup(inputs, 20.0, 23.0, 2.0).state
    with pytest.raises(UnknownFactorError, match="unknown RothC kernel 'fortran'; valid: auto, numpy, numba"):
        rothc.run(inputs, 20.0, 23.0, start, n_months=12, kernel="fortran")
    monkeypatch.setattr(model, "numba_available", lambda: False)
    with pytest.raises(UnknownFactorError, match="needs numba"):
        rothc.run(inputs, 20.0, 23.0, start, n_months=12, kernel="numba")
    # auto without numba, however large the run: the numpy loop
    assert not model.use_compiled("auto", 10 ** 12)
    monkeypatch.setattr(model, "numba_available", lambda: True)
    assert model.use_compiled("auto", model.COMPILED_MIN_PLOT_MONTHS)
    assert not model.use_compiled("auto", model.COMPILED_MIN_PLOT_MONTHS - 1)
    monkeypatch.setenv(model.KERNEL_ENV, "numpy")
    assert not model.use_compiled("auto", 10 ** 12)
    assert model.use_compiled("numba", 1)  # an explicit kernel wins over the environment
    monkeypatch.setenv(model.KERNEL_ENV, "numba")
    assert model.use_compiled("auto", 1)
    monkeypatch.setenv(model.KERNEL_ENV, "fast")
    with pytest.raises(UnknownFactorError, match="'fast' \\(environment variable FOURP1000_ROTHC_KERNEL\\)"):
        model.use_compiled("auto", 1)


@pytest.mark.parametrize("params", [None, {"k_dpm_per_yr": 9.7}], ids=["decay_plan", "four_exponentials"])
def test_compiled_equilibria_equal_numpy(params):
    """The compiled cycle map and 4 x 4 solve of ``spinup`` and ``fit_plant_input`` give the
    numpy results (batched matmul and LAPACK solve) to 1e-9 relative, manure and bare months included."""
    rng = np.random.default_rng(23)
    n = 1500
    p = rothc.load_parameters(params)
    inputs = _random_inputs(rng, n, 12).replace(temperature_c=rng.uniform(-3, 26, (12, n)), modern_c_pct=100.0)
    inputs = inputs.replace(plant_c_t_ha=inputs.plant_c_t_ha + 0.01)  # every plot has a pattern to fit
    clay, depth, iom = rng.uniform(2, 70, n), rng.uniform(10, 40, n), rng.uniform(0.2, 5, n)
    spun = {k: rothc.spinup(inputs, clay, depth, iom, params=p, kernel=k).state for k in ("numpy", "numba")}
    _assert_agree(spun["numba"].pools_t_c_ha, spun["numpy"].pools_t_c_ha, "equilibrium pools")
    np.testing.assert_array_equal(spun["numba"].smd_mm, spun["numpy"].smd_mm)
    target = spun["numpy"].soc_t_c_ha * rng.uniform(0.8, 1.5, n)
    fits = {k: rothc.fit_plant_input(inputs, clay, depth, target, params=p, strict=False, kernel=k)
            for k in ("numpy", "numba")}
    reached = np.isfinite(fits["numba"].plant_c_t_ha_yr)
    np.testing.assert_array_equal(reached, np.isfinite(fits["numpy"].plant_c_t_ha_yr))
    assert n // 2 < reached.sum() < n  # most plots reached, some below IOM plus the manure equilibrium
    _assert_agree(fits["numba"].plant_c_t_ha_yr[reached], fits["numpy"].plant_c_t_ha_yr[reached], "fitted input")
    _assert_agree(fits["numba"].spinup.state.pools_t_c_ha[:, reached],
                  fits["numpy"].spinup.state.pools_t_c_ha[:, reached], "fitted pools")
    np.testing.assert_allclose(fits["numba"].spinup.state.soc_t_c_ha[reached], target[reached], rtol=1e-9)


def test_compiled_equilibrium_names_plots_where_nothing_decomposes():
    inputs = rothc.MonthlyInputs(np.array([[10.0, -20.0, 4.0]]), 50.0, 40.0, 0.1)  # plot 1 frozen all year
    for kernel in ("numpy", "numba"):
        with pytest.raises(InputError, match=r"nothing decomposes during the spin-up cycle of plot\(s\) 1 "):
            rothc.spinup(inputs, 20.0, 23.0, 2.0, kernel=kernel)
        with pytest.raises(InputError, match=r"plot\(s\) 1 "):
            rothc.fit_plant_input(inputs, 20.0, 23.0, 40.0, kernel=kernel)



def test_one_compiled_signature_whatever_the_inputs_shapes():
    """The arrays handed to the kernels are always writable and C-ordered: calls with
    broadcast (read-only) drivers, a single plot, a Fortran-ordered state and then a
    projection of several plots all run the machine code of one signature per kernel
    (numba would compile, and cache, another for read-only or Fortran-ordered arguments)."""
    from pathlib import Path

    import pandas as pd

    from fourp1000.io.climate import read_climate
    from fourp1000.projection.rothc import project_rothc
    from fourp1000.rothc import compiled

    one = np.ones((12, 1))
    cycle = rothc.MonthlyInputs(temperature_c=10.0 * one, rain_mm=60.0 * one, evaporation_mm=40.0 * one,
                                plant_c_t_ha=one / 12.0, fym_c_t_ha=np.zeros((1, 1)), covered=one > 0,
                                dpm_rpm_ratio=np.broadcast_to(1.44, (1, 1)))
    fit = rothc.fit_plant_input(cycle, [20.0], 30.0, [40.0], strict=False, kernel="numba")
    rothc.spinup(fit.inputs, 20.0, 30.0, fit.iom_t_c_ha, kernel="numba")
    start = fit.spinup.state.copy()
    start.pools_t_c_ha = np.asfortranarray(np.repeat(start.pools_t_c_ha, 3, axis=1))
    rothc.run(fit.inputs, [20.0, 25.0, 30.0], 30.0, start, n_months=24, record="yearly", variables=("soc_t_c_ha",),
              kernel="numba")
    examples = Path(__file__).resolve().parents[1] / "examples"
    plots = pd.DataFrame({"plot_id": ["a", "b"], "land_use": "cropland", "clay_pct": [20.0, 35.0],
                          "measured_stock_t_c_ha": [40.0, 55.0], "climate_zone": "cool_temperate_moist",
                          "input_level": ["medium", "high_manure"], "practices": ["cover_crops", "agroforestry"]})
    run = project_rothc(plots, read_climate(examples / "climate.csv"), years=3, kernel="numba")
    assert (run.plots["final_stock_t_ha"] > run.plots["baseline_stock_t_ha"]).all()
    assert [len(k.signatures) for k in (compiled._fused_run, compiled._settled_equilibria)] == [1, 1]
