"""The projection model registry (:mod:`fourp1000.projection.models`) and the error protocol.

A model registered here runs through :func:`project_table` without any other code knowing
it; a table's problems are found in one validation pass, one problem per row, and each
model is computed once.
"""

import numpy as np
import pandas as pd
import pytest

from fourp1000.errors import FourP1000Error, InputError, UnknownFactorError, ValidationError
from fourp1000.io.climate import climate_from_frame
from fourp1000.io.readers import read_table
from fourp1000.io.schema import VAN_BEMMELEN
from fourp1000.projection import rothc, tier1
from fourp1000.projection.models import MODELS, ModelRun, ProjectionModel
from fourp1000.projection.table import ProjectOptions, load_plots_or_horizons, project_table
from fourp1000.stocks.estimate import EstimateOptions

PLOTS = (
    "farm_id,plot_id,area_ha,climate_zone,soil_class,land_use,tillage,input_level,practices,clay_pct,climate_id\n"
    "F1,A,10,warm_temperate_moist,HAC,cropland,full,medium,cover_crops,20,x\n"
    "F1,B,5,warm_temperate_moist,HAC,cropland,plough,medium,,25,x\n"
    "F2,C,4,cool_temperate_dry,HAC,cropland,full,medium,,30,x\n"
    "F2,D,2,cool_temperate_dry,HAC,cropland,plough,low,,30,x\n"
)


def _table(tmp_path, text=PLOTS):
    path = tmp_path / "plots.csv"
    path.write_text(text)
    return load_plots_or_horizons(read_table(str(path)), som_factor=VAN_BEMMELEN, bd_basis="fine_earth",
                                  column_map=None)


def _options(on_error="skip", **kw):
    return ProjectOptions(estimate=EstimateOptions(top_cm=0.0, bottom_cm=30.0, on_error=on_error), **kw)


def _climate():
    return climate_from_frame(pd.DataFrame({"climate_id": "x", "month": range(1, 13), "temperature_c": 10.0,
                                            "rain_mm": 60.0, "evaporation_mm": 50.0}))


@pytest.fixture
def flat_model():
    """A model in which nothing changes; it refuses plots with more than 25 % clay."""

    def validate(plots, opts):
        clay = pd.to_numeric(plots["clay_pct"]).to_numpy()
        bad = clay > 25
        return [InputError("too much clay", rows=plots["source_row"][bad], column="clay_pct")] if bad.any() else []

    def project(plots, opts):
        stock = np.full(len(plots), 50.0)
        frame = pd.DataFrame({"plot_id": plots["plot_id"].to_numpy(), "farm_id": plots["farm_id"].to_numpy(),
                              "area_ha": plots["area_ha"].to_numpy(), "baseline_stock_t_ha": stock,
                              "final_stock_t_ha": stock, "annual_change_t_ha_yr": 0.0, "rate_per_mille": 0.0,
                              "meets_4p1000": False, "source_row": plots["source_row"].to_numpy()})
        return ModelRun(frame)

    def trajectory(run, opts):
        years = np.arange(opts.years + 1)
        return pd.DataFrame({"plot_id": np.repeat(run.plots["plot_id"].to_numpy(), years.size),
                             "year": np.tile(years, len(run.plots)), "stock_t_ha": 50.0})

    MODELS.register(ProjectionModel("flat", "no change", validate, project, trajectory,
                                    lambda opts: f"flat: no change over {opts.years} yr"))
    yield
    MODELS.unregister("flat")


def test_a_registered_model_runs_through_project_table(tmp_path, flat_model):
    good = PLOTS.replace("plough", "full")
    result = project_table(_table(tmp_path, good), _options(models=("ipcc", "flat"), years=5))
    assert result.plots.groupby("model")["plot_id"].apply(list).to_dict() == {"flat": ["A", "B"],
                                                                              "ipcc": ["A", "B"]}
    assert result.rejects["row"].tolist() == [4, 5]  # C and D: too much clay for the flat model
    assert set(result.problems["column"]) == {"clay_pct"}
    assert result.methods[-1] == "flat: no change over 5 yr"
    traj = result.trajectory()
    assert list(traj.columns) == ["model", "plot_id", "year", "stock_t_ha"]
    assert len(traj[traj["model"] == "flat"]) == 2 * 6
    assert set(result.farms["model"]) == {"ipcc", "flat"}
    assert MODELS.parse("flat,ipcc") == ("flat", "ipcc")


def test_model_names_are_checked_in_one_place():
    with pytest.raises(InputError, match=r"'century': give ipcc, rothc or ipcc,rothc \(valid models: ipcc, rothc\)"):
        MODELS.parse("century")
    with pytest.raises(InputError, match="unknown or repeated model"):
        ProjectOptions(models=("ipcc", "ipcc"))
    assert MODELS.parse(" IPCC , rothc") == ("ipcc", "rothc")


def test_an_unknown_factor_in_two_rows_gives_one_problem_per_row_and_models_run_once(tmp_path, monkeypatch):
    calls = {"ipcc": 0, "rothc": 0}
    project, project_rothc = tier1.project, rothc.project_rothc

    def counted_project(*args, **kw):
        calls["ipcc"] += 1
        return project(*args, **kw)

    def counted_rothc(*args, **kw):
        calls["rothc"] += 1
        return project_rothc(*args, **kw)

    monkeypatch.setattr(tier1, "project", counted_project)
    monkeypatch.setattr(rothc, "project_rothc", counted_rothc)
    result = project_table(_table(tmp_path), _options(models=("ipcc", "rothc"), climate=_climate()))
    assert calls == {"ipcc": 1, "rothc": 1}
    errors = result.problems[result.problems["severity"] == "error"]
    assert errors["row"].tolist() == [3, 5]
    assert errors["plot_id"].tolist() == ["B", "D"]
    assert set(errors["column"]) == {"tillage"} and set(errors["rule"]) == {"unknown_value"}
    assert all("unknown tillage 'plough'" in m for m in errors["message"])
    assert result.rejects["row"].tolist() == [3, 5]
    assert sorted(set(result.plots["plot_id"])) == ["A", "C"]


def test_fail_mode_lists_every_problem_and_projects_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(tier1, "project", lambda *a, **k: pytest.fail("projected despite errors"))
    with pytest.raises(ValidationError) as info:
        project_table(_table(tmp_path), _options(on_error="fail"))
    assert [(p.row, p.column, p.plot_id) for p in info.value.problems] == [(3, "tillage", "B"), (5, "tillage", "D")]


def test_errors_declare_rows_and_column():
    err = UnknownFactorError("unknown tillage 'x' in row 3", rows=np.array([3, 7]), column="tillage", value="x",
                             valid=("full", "none"))
    assert (err.rows, err.column, err.value, err.valid) == ([3, 7], "tillage", "x", ["full", "none"])
    assert [(p.row, p.plot_id, p.rule) for p in err.problems("f.csv", {3: "A"})] == [(3, "A", "unknown_value"),
                                                                                    (7, None, "unknown_value")]
    whole = FourP1000Error("no column 'land_use'")
    assert whole.rows is None and [p.row for p in whole.problems("f.csv")] == [None]


def test_check_plots_finds_every_faulty_group_once():
    plots = pd.DataFrame({"plot_id": list("abcd"), "source_row": [2, 3, 4, 5],
                          "climate_zone": "warm_temperate_moist", "soil_class": "HAC", "land_use": "cropland",
                          "tillage": ["full", "plough", "full", "dig"], "input_level": "medium",
                          "practices": ["", "", "bogus", ""]})
    errors = tier1.check_plots(plots)
    assert [(e.rows, e.column) for e in errors] == [([3], "tillage"), ([4], "practices"), ([5], "tillage")]


def test_rothc_leaves_out_unreachable_plots_with_the_others_unchanged():
    """A stock below the manure-only equilibrium is found by the fit; skipping it computes the rest once."""
    plots = pd.DataFrame({"plot_id": ["a", "b", "c"], "land_use": "cropland", "clay_pct": [20.0, 20.0, 30.0],
                          "measured_stock_t_c_ha": [40.0, 3.0, 55.0], "climate_id": "x",
                          "input_level": ["medium", "high_manure", "high_manure"],
                          "practices": ["cover_crops", "agroforestry", "agroforestry"], "source_row": [2, 3, 4]})
    with pytest.raises(InputError, match="below what the baseline manure alone sustains") as info:
        rothc.project_rothc(plots, _climate())
    assert info.value.rows == [3] and info.value.column == "input_level"
    run = rothc.project_rothc(plots, _climate(), skip_unreachable=True)
    alone = rothc.project_rothc(plots.iloc[[0, 2]].reset_index(drop=True), _climate())
    assert [e.rows for e in run.problems] == [[3]]
    pd.testing.assert_frame_equal(run.plots, alone.plots, check_exact=True)
    pd.testing.assert_frame_equal(run.trajectory, alone.trajectory, check_exact=True)


def test_rothc_validates_once_and_projects_what_it_prepared(tmp_path, monkeypatch):
    """The model's ``prepare`` resolves practices, stocks and drivers once: project reuses them
    when it projects exactly the plots validated, and resolves them again otherwise; both
    give the numbers of a projection that resolves everything itself."""
    calls = {"prepare": 0, "drivers": 0}
    prepare, drivers = tier1.prepare, rothc.plot_drivers

    def counted_prepare(*args, **kw):
        calls["prepare"] += 1
        return prepare(*args, **kw)

    def counted_drivers(*args, **kw):
        calls["drivers"] += 1
        return drivers(*args, **kw)

    monkeypatch.setattr(tier1, "prepare", counted_prepare)
    monkeypatch.setattr(rothc, "plot_drivers", counted_drivers)
    good = PLOTS.replace("plough", "full")
    result = project_table(_table(tmp_path, good), _options(models=("rothc",), climate=_climate()))
    assert calls == {"prepare": 1, "drivers": 1}
    reused = result.runs["rothc"]
    assert reused.trajectory is None and reused.stocks_t_ha.shape == (21, 4)  # the long table only when asked
    # A refused plot (B, D: plough): the accepted plots differ from those validated, so they are resolved again.
    calls.update(prepare=0, drivers=0)
    partial = project_table(_table(tmp_path), _options(models=("rothc",), climate=_climate()))
    assert calls["drivers"] == 2 and sorted(partial.plots["plot_id"]) == ["A", "C"]
    monkeypatch.undo()
    alone = rothc.project_rothc(result.plot_inputs, _climate())
    np.testing.assert_array_equal(result.plots["final_stock_t_ha"], alone.plots["final_stock_t_ha"])
    pd.testing.assert_frame_equal(result.trajectory()[["plot_id", "year", "stock_t_ha"]], alone.trajectory,
                                  check_dtype=False)
