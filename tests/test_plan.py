"""``fourp1000 plan``: the practices and carbon input each plot needs for 4 per 1000 (issue 16)."""

from __future__ import annotations

import io
import itertools
import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from fourp1000.cli import main
from fourp1000.io.climate import read_climate
from fourp1000.io.readers import read_table
from fourp1000.plan import (PlanOptions, available_practices, candidate_sets, disruption_ranks, extra_inputs,
                            plan_farms, plan_table, read_costs)
from fourp1000.plan.search import choose
from fourp1000.practices import catalogue
from fourp1000.projection.rothc import batch_kernel, practice_effects, project_rothc
from fourp1000.projection.table import ProjectOptions, load_plots_or_horizons, project_table

RUN = CliRunner().invoke


def _table(path):
    return load_plots_or_horizons(read_table(str(path)), som_factor=1.724, bd_basis="fine_earth", column_map=None)


def _csv(result) -> pd.DataFrame:
    assert result.exit_code == 0, result.stderr
    return pd.read_csv(io.StringIO(result.stdout))


# --------------------------------------------------------------------------------------
# RothC: the extra input, solved
# --------------------------------------------------------------------------------------

SITES = pd.DataFrame({
    "plot_id": ["crop-reims", "grass-reims", "crop-tropic-manured", "crop-dry-clay"],
    "land_use": ["cropland", "grassland", "cropland", "cropland"],
    "clay_pct": [20.0, 30.0, 45.0, 35.0],
    "measured_stock_t_c_ha": [40.0, 70.0, 30.0, 25.0],
    "climate_id": ["cool_temperate_moist", "cool_temperate_moist", "tropical_moist", "warm_temperate_dry"],
    "input_level": ["medium", "medium", "high_manure", "low"],
})


def _with_effect(kind: str, value: float, months: str, vehicle: str) -> pd.DataFrame:
    """The shipped RothC effects with ``vehicle``'s effects replaced by one extra input."""
    eff = practice_effects()
    eff = eff[eff["practice"] != vehicle]
    row = {"practice": vehicle, "effect": kind, "value": value, "unit": "t C ha-1 yr-1", "months": months,
           "dpm_rpm_ratio": np.nan, "applies_when": pd.NA, "status": "test", "source": "test", "note": ""}
    return pd.concat([eff, pd.DataFrame([row])], ignore_index=True)


@pytest.mark.parametrize("years", [20, 30])
def test_solved_extra_input_fed_back_into_rothc_gives_4_per_mille(examples_dir, years):
    """The solved extra plant input (baseline pattern and DPM/RPM) and the solved manure, run
    forward by ``project``'s RothC path, give 4 per mille a year within 0.01 per mille."""
    climate = read_climate(examples_dir / "climate.csv")
    extra = extra_inputs(SITES, climate, years)
    for i, site in SITES.iterrows():
        vehicle = "improved_grassland" if site["land_use"] == "grassland" else "cover_crops"
        for kind, col, months in (("plant_input_t_c_ha_yr", "extra_plant_input_t_c_ha_yr", "baseline"),
                                  ("fym_c_t_ha_yr", "extra_manure_c_t_ha_yr", "all")):
            effects = _with_effect(kind, float(extra[col][i]), months, vehicle)
            run = project_rothc(SITES.iloc[[i]].reset_index(drop=True), climate, practices=[vehicle],
                                effects=effects, years=years)
            assert run.plots["rate_per_mille"][0] == pytest.approx(4.0, abs=0.01), (site["plot_id"], col)


def test_extra_input_columns_are_consistent(examples_dir):
    climate = read_climate(examples_dir / "climate.csv")
    extra = extra_inputs(SITES, climate, 20)
    assert (extra["extra_plant_input_t_c_ha_yr"] > 0).all() and (extra["extra_manure_c_t_ha_yr"] > 0).all()
    assert np.allclose(extra["extra_input_pct"],
                       100 * extra["extra_plant_input_t_c_ha_yr"] / extra["current_plant_input_t_c_ha_yr"])
    within = extra["current_plant_input_t_c_ha_yr"] + extra["extra_plant_input_t_c_ha_yr"] <= \
        extra["plant_c_input_ceiling_t_ha_yr"]
    assert extra["input_within_ceiling"].astype(bool).tolist() == within.tolist()
    # a longer horizon needs more: the linear 4 per mille target grows with T faster than RothC's response
    assert (extra_inputs(SITES, climate, 40)["extra_plant_input_t_c_ha_yr"] > extra["extra_plant_input_t_c_ha_yr"]).all()


# --------------------------------------------------------------------------------------
# The practice set: the smallest that meets, checked by brute force
# --------------------------------------------------------------------------------------

ZONES = ["cool_temperate_moist", "warm_temperate_dry", "tropical_moist", "boreal_dry"]
CANDIDATES = ("reduced_tillage", "residue_retention", "cover_crops", "manure")


def _synthetic_plots(tmp_path):
    """Cropland plots of every zone, tillage and input level (IPCC default stocks)."""
    rows = [{"plot_id": f"p{i}", "climate_zone": z, "soil_class": "HAC", "land_use": "cropland", "tillage": t,
             "input_level": lv}
            for i, (z, t, lv) in enumerate(itertools.product(ZONES, ["full", "reduced"], ["low", "medium", "high", "high_manure"]))]
    path = tmp_path / "synthetic.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_chosen_set_meets_and_no_smaller_set_does(tmp_path):
    """Brute force: every subset of the candidate practices projected by ``project`` on every plot."""
    table = _table(_synthetic_plots(tmp_path))
    years = 40  # dilutes the 20-year IPCC transition, so that some plots need two or more practices
    popts = ProjectOptions(years=years, estimate=ProjectOptions().estimate)
    plan = plan_table(table, PlanOptions(popts, CANDIDATES)).plots.set_index("plot_id")
    rates = {}
    for size in range(len(CANDIDATES) + 1):
        for subset in itertools.combinations(CANDIDATES, size):
            res = project_table(table, ProjectOptions(practices=subset, years=years)).plots.set_index("plot_id")
            rates[subset] = res["rate_per_mille"]
    sizes = set()
    for plot_id, row in plan.iterrows():
        meeting = [s for s, r in rates.items() if r[plot_id] >= 4 - 1e-9]
        if row["reachable"]:
            chosen = tuple(p for p in row["practice_set"].split(";") if p) if isinstance(row["practice_set"], str) else ()
            assert rates[chosen][plot_id] == pytest.approx(row["practice_set_rate_per_mille"])
            assert row["practice_set_rate_per_mille"] >= 4 - 1e-9
            smallest = min(len(s) for s in meeting)
            assert len(chosen) == smallest, plot_id
            sizes.add(len(chosen))
        else:
            assert not meeting, plot_id
            assert row["plan_status"] == "none_in_catalogue"
            assert row["practice_set_rate_per_mille"] == pytest.approx(max(r[plot_id] for r in rates.values()))
    assert {1, 2} <= sizes  # the cases exercise sets of more than one practice
    assert (~plan["reachable"]).any()  # and plots that nothing in the candidates gets to 4 per mille


def test_ties_are_broken_by_disruption_then_by_cost(tmp_path):
    """Two single practices that both meet: the least disruptive wins, unless costs say otherwise."""
    path = tmp_path / "one.csv"
    pd.DataFrame([{"plot_id": "a", "climate_zone": "cool_temperate_moist", "soil_class": "HAC",
                   "land_use": "cropland", "tillage": "full", "input_level": "medium"}]).to_csv(path, index=False)
    table = _table(path)
    both = ("cover_crops", "manure")  # both meet 4 per mille alone over 20 years in this zone
    plan = plan_table(table, PlanOptions(ProjectOptions(), both)).plots
    ranks = disruption_ranks()
    assert plan["practice_set"][0] == min(both, key=ranks.get) == "cover_crops"
    costs = tmp_path / "costs.yaml"
    costs.write_text("practices:\n  cover_crops: {cost_per_ha: 90}\n  manure: {cost_per_ha: 30}\n")
    by_cost = plan_table(table, PlanOptions(ProjectOptions(), (), read_costs(str(costs)))).plots
    assert by_cost["practice_set"][0] == "manure" and by_cost["practice_set_cost_per_ha"][0] == 30


def test_choose_prefers_no_practice_when_the_plot_already_meets():
    """The empty set is a candidate: a plot that meets without practices needs none."""
    sets = type("S", (), {})()
    sets.size, sets.cost_per_ha, sets.disruption = np.array([0, 1]), np.zeros(2), np.array([0, 10])
    pairs = pd.DataFrame({"pair": [0, 1, 2, 3], "plot": [0, 0, 1, 1], "combo": [0, 1, 0, 1],
                          "rate_per_mille": [4.5, 9.0, 1.0, 3.0], "meets_4p1000": [True, True, False, False]})
    picked = choose(pairs, sets, 2)
    assert picked["pair"].tolist() == [0, 3] and picked["reachable"].tolist() == [True, False]


def test_candidates_are_additional_and_apply_to_the_land_use(examples_dir):
    table = _table(examples_dir / "plots.csv")
    plots = project_table(table).plot_inputs
    sets = candidate_sets(plots, available_practices())
    for pos, combo in zip(sets.plot, sets.combo):
        names = [p for p in sets.combos[combo].split(";") if p]
        for name in names:
            assert plots["land_use"][pos] in catalogue()[name].applies_to
        assert not ("set_aside" in names and "agroforestry" in names)
        if plots["input_level"][pos] in ("medium", "high"):  # residues are already returned
            assert "residue_retention" not in names


# --------------------------------------------------------------------------------------
# The command
# --------------------------------------------------------------------------------------


@pytest.fixture
def plain_plots(examples_dir, tmp_path):
    """The example plots without their planned practices."""
    frame = pd.read_csv(examples_dir / "plots.csv").drop(columns="practices")
    path = tmp_path / "plots.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("model", ["ipcc", "rothc"])
def test_practice_sets_agree_with_project_practice(plain_plots, examples_dir, model):
    """`project --practice <practice_set>` gives each plot the rate `plan` reports for it."""
    climate = ["--climate", str(examples_dir / "climate.csv")] if model == "rothc" else []
    plan = _csv(RUN(main, ["plan", str(plain_plots), "--model", model, *climate, "-f", "csv", "-q"]))
    assert plan["practice_set"].notna().all()
    rows = pd.read_csv(plain_plots)
    for k, (practice_set, group) in enumerate(plan.groupby("practice_set")):
        subset = plain_plots.with_name(f"set{k}.csv")
        rows[rows["plot_id"].isin(group["plot_id"])].to_csv(subset, index=False)
        proj = _csv(RUN(main, ["project", str(subset), "--model", model, *climate, "--practice", practice_set,
                               "-f", "csv", "-q"])).set_index("plot_id")
        for _, row in group.iterrows():
            assert proj.loc[row["plot_id"], "rate_per_mille"] == pytest.approx(row["practice_set_rate_per_mille"],
                                                                              rel=1e-9), (practice_set, row["plot_id"])


def test_plan_with_the_compiled_rothc_kernel_gives_the_same_plan(plain_plots, examples_dir, monkeypatch):
    """``plan`` chooses the RothC kernel once for all its chunks of pairs (``batch_kernel``);
    the compiled one (large plans) gives the numpy one's plan, rates to 1e-9."""
    pytest.importorskip("numba")
    table = _table(plain_plots)
    climate = read_climate(str(examples_dir / "climate.csv"))
    from fourp1000.rothc import compiled

    plans, loops = {}, []
    monkeypatch.setattr(compiled, "simulate", lambda *a, simulate=compiled.simulate: loops.append(1) or simulate(*a))
    for kernel in ("numpy", "numba"):
        with batch_kernel(kernel):
            plans[kernel] = plan_table(table, PlanOptions(ProjectOptions(models=("rothc",), climate=climate))
                                       ).plots.set_index("plot_id")
        assert bool(loops) == (kernel == "numba")  # the compiled loop ran with numba only
    a, b = plans["numpy"], plans["numba"]
    assert a["practice_set"].equals(b["practice_set"]) and a["plan_status"].equals(b["plan_status"])
    np.testing.assert_allclose(b["practice_set_rate_per_mille"], a["practice_set_rate_per_mille"], rtol=1e-9)


@pytest.mark.parametrize("kernel", ["numpy", "numba"])
def test_baselines_fitted_once_give_each_pair_its_own_projection(examples_dir, kernel):
    """``plan`` fits each plot's RothC baseline once (``plot_baselines``) and takes it for every
    (plot, set) pair: the same table, to the last bit, as fitting every pair with its set,
    unreachable plots left out and named alike; a pair's plot may repeat, in any order."""
    if kernel == "numba":
        pytest.importorskip("numba")
    from fourp1000.projection.rothc import plot_baselines

    climate = read_climate(examples_dir / "climate.csv")
    plots = pd.concat([SITES, SITES.iloc[[2]].assign(plot_id="below-manure", measured_stock_t_c_ha=1.0)],
                      ignore_index=True).assign(source_row=np.arange(5) + 2)
    shared = plot_baselines(plots, climate, years=20, kernel=kernel)
    index = np.array([3, 0, 0, 4, 2, 1, 0, 3])
    pairs = plots.iloc[index].reset_index(drop=True).assign(
        plot_id=np.arange(8), source_row=np.arange(8),
        practices=["cover_crops", "", "manure;cover_crops", "cover_crops", "agroforestry", "improved_grassland",
                   "agroforestry", "residue_retention"])
    runs = [project_rothc(pairs, climate, years=20, skip_unreachable=True, kernel=kernel, baselines=b)
            for b in (None, shared.take(index))]
    pd.testing.assert_frame_equal(runs[1].plots, runs[0].plots)
    np.testing.assert_array_equal(runs[1].stocks_t_ha, runs[0].stocks_t_ha)
    assert [e.rows for e in runs[1].problems] == [e.rows for e in runs[0].problems] == [[3]]
    assert (runs[0].plots["annual_change_t_ha_yr"] != 0).sum() >= 4  # practices that change the stock


def test_plan_json_columns_farms_and_rothc_inputs(examples_dir):
    out = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--model", "ipcc,rothc", "--climate",
                     str(examples_dir / "climate.csv"), "-f", "json", "-q"])
    assert out.exit_code == 0, out.stderr
    doc = json.loads(out.stdout)
    plots, farms = pd.DataFrame(doc["plots"]), pd.DataFrame(doc["farms"])
    for col in ("practice_set", "practice_set_rate_per_mille", "reachable", "extra_plant_input_t_c_ha_yr",
                "extra_manure_c_t_ha_yr", "current_plant_input_t_c_ha_yr", "extra_input_pct",
                "target_within_capacity", "plan_status"):
        assert col in plots, col
    assert plots.loc[plots["model"] == "ipcc", "extra_plant_input_t_c_ha_yr"].isna().all()
    rothc = plots[plots["model"] == "rothc"]
    assert rothc["extra_plant_input_t_c_ha_yr"].gt(0).all()
    # farm scale: the sum of extra input x area, and the shares
    for (model, farm), group in plots.groupby(["model", "farm_id"]):
        row = farms[(farms["model"] == model) & (farms["farm_id"] == farm)].iloc[0]
        assert row["share_plots_reachable"] == pytest.approx(group["reachable"].mean())
        if model == "rothc":
            assert row["extra_plant_input_t_c_yr"] == pytest.approx(
                (group["extra_plant_input_t_c_ha_yr"] * group["area_ha"]).sum())
    assert doc["meta"]["command"] == "plan" and "plots_planned" in doc["meta"]


def test_unreachable_plots_are_stated_and_check_exits_3(examples_dir):
    """With residue retention only, plots already returning residues cannot reach 4 per 1000."""
    out = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--candidate", "residue_retention", "-f", "csv",
                     "--check"])
    assert out.exit_code == 3, out.stderr
    plan = pd.read_csv(io.StringIO(out.stdout)).set_index("plot_id")
    assert plan.loc["BL-01", "plan_status"] == "none_in_catalogue" and not plan.loc["BL-01", "reachable"]
    assert pd.isna(plan.loc["BL-01", "practice_set"])  # nothing applies: empty set, rate 0
    assert plan.loc["BL-01", "practice_set_rate_per_mille"] == pytest.approx(0.0)
    assert "not with the catalogue" in out.stderr


def test_farm_shares_of_plots_and_area(examples_dir):
    out = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--candidate", "residue_retention", "-f", "json", "-q"])
    doc = json.loads(out.stdout)
    plots, farms = pd.DataFrame(doc["plots"]), pd.DataFrame(doc["farms"]).set_index("farm_id")
    for farm, group in plots.groupby("farm_id"):
        reach = group[group["reachable"]]
        assert farms.loc[farm, "n_plots_reachable"] == len(reach)
        assert farms.loc[farm, "share_area_reachable"] == pytest.approx(reach["area_ha"].sum() / group["area_ha"].sum())


def test_plan_errors_are_one_line(examples_dir, tmp_path):
    bad = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--candidate", "no_tilll"])
    assert bad.exit_code == 2 and "did you mean 'no_till'" in bad.stderr
    costs = tmp_path / "costs.yaml"
    costs.write_text("cover_crop: {cost_per_ha: -3}\nnot_a_practice: 4\n")
    out = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--costs", str(costs)])
    assert out.exit_code == 1 and out.stderr.count("\n") == 1 and "not_a_practice" in out.stderr
    assert "must be a number >= 0" in out.stderr
    every = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--sampling", "all"])
    assert every.exit_code == 1 and "one sampling per plot" in every.stderr
    no_climate = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--model", "rothc"])
    assert no_climate.exit_code == 2 and "--climate" in no_climate.stderr


def test_plan_at_confidence(examples_dir):
    """With --uncertainty the set at confidence meets 4 per 1000 with at least that probability."""
    out = RUN(main, ["plan", str(examples_dir / "plots.csv"), "--uncertainty", "--draws", "200",
                     "--candidate", "residue_retention;cover_crops;manure", "--confidence", "0.8", "-f", "csv", "-q"])
    plan = _csv(out)
    reach = plan[plan["reachable_at_confidence"]]
    assert len(reach) and (reach["p_meets_4p1000"] >= 0.8).all()
    assert (plan.loc[~plan["reachable_at_confidence"], "p_meets_4p1000"] < 0.8).all()
    # at least as many practices as the deterministic set
    n = lambda s: 0 if pd.isna(s) else len(str(s).split(";"))  # noqa: E731
    assert all(n(a) >= n(b) for a, b in zip(plan["practice_set_at_confidence"], plan["practice_set"]))


def test_plan_farms_use_the_one_aggregation():
    plots = pd.DataFrame({"model": "ipcc", "farm_id": ["f", "f", None], "area_ha": [2.0, 3.0, 1.0],
                          "baseline_stock_t_ha": [40.0, 50.0, 60.0],
                          "practice_set_annual_change_t_ha_yr": [0.2, 0.1, 0.0], "reachable": [True, False, False],
                          "extra_plant_input_t_c_ha_yr": [0.5, np.nan, 1.0]})
    farms = plan_farms(plots).set_index("farm_id")
    assert farms.loc["f", "baseline_stock_t_c"] == pytest.approx(230.0)
    assert farms.loc["f", "rate_per_mille"] == pytest.approx(1000 * 0.7 / 230)
    assert farms.loc["f", "area_reachable_ha"] == 2.0 and farms.loc["f", "share_area_reachable"] == pytest.approx(0.4)
    assert np.isnan(farms.loc["f", "extra_plant_input_t_c_yr"])  # a plot's input is unknown
    assert farms.loc["all", "extra_plant_input_t_c_yr"] == pytest.approx(1.0)


def test_report_plan_section(examples_dir, tmp_path):
    """`report --plan` adds the section, with every plot's set and, for RothC, its extra input."""
    out = tmp_path / "r.html"
    res = RUN(main, ["report", str(examples_dir / "plots.csv"), "--model", "rothc", "--climate",
                     str(examples_dir / "climate.csv"), "--plan", "-o", str(out), "-q"])
    assert res.exit_code == 0, res.stderr
    html = out.read_text()
    section = html[html.index('<section id="plan">'):]
    section = section[:section.index("</section>")]
    plan = _csv(RUN(main, ["plan", str(examples_dir / "plots.csv"), "--model", "rothc", "--climate",
                           str(examples_dir / "climate.csv"), "-f", "csv", "-q"]))
    for _, row in plan.iterrows():
        assert f">{row['plot_id']}<" in section
        assert f"{row['extra_plant_input_t_c_ha_yr']:.2f}" in section
    assert f"{int(plan['reachable'].sum())} of {len(plan)} plots can reach 4 ‰" in section
    plain = RUN(main, ["report", str(examples_dir / "plots.csv"), "-o", str(tmp_path / "p.html"), "-q"])
    assert plain.exit_code == 0 and 'id="plan"' not in (tmp_path / "p.html").read_text()
