"""The estimate pipeline: depth handling, bulk density sources, rejects (stocks/estimate.py, stocks/depth.py)."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.stocks.depth import decline_rate, exponential_extension
from fourp1000.errors import InputError, ValidationError
from fourp1000.io.horizons import normalise
from fourp1000.stocks.estimate import EstimateOptions, estimate_stocks, parse_depth
from fourp1000.io.readers import read_table


def run(csv: str, **opts):
    table = normalise(read_table("-", stdin=io.BytesIO(csv.encode())))
    return estimate_stocks(table, EstimateOptions(**opts))


HEAD = "plot_id,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3,coarse_fragments_pct\n"


def test_straddling_layer_counts_in_proportion():
    res = run(HEAD + "P1,0,20,20,1.2,0\nP1,20,50,10,1.5,0\n")
    # 0-20: 20 x 1.2 x 20 / 10 = 48; 20-30 of 20-50: 10 x 1.5 x 10 / 10 = 15
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(63.0)
    assert res.plots["soil_mass_t_ha"].iloc[0] == pytest.approx(1.2 * 20 * 100 + 1.5 * 10 * 100)


def test_depth_interval_option():
    res = run(HEAD + "P1,0,20,20,1.2,0\nP1,20,50,10,1.5,0\n", top_cm=0, bottom_cm=40)
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(48 + 30.0)
    res = run(HEAD + "P1,0,20,20,1.2,0\nP1,20,50,10,1.5,0\n", top_cm=30, bottom_cm=50)
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(30.0)


@pytest.mark.parametrize("text, expected", [("30", (0, 30)), ("0-40", (0, 40)), ("30-60cm", (30, 60))])
def test_parse_depth(text, expected):
    assert parse_depth(text) == expected


@pytest.mark.parametrize("bad", ["abc", "40-30", "0"])
def test_parse_depth_errors(bad):
    with pytest.raises(InputError):
        parse_depth(bad)


def test_gap_overlap_and_shallow_are_errors_with_rows():
    csv = HEAD + (
        "GAP,0,10,20,1.2,0\nGAP,15,30,10,1.3,0\n"
        "OVL,0,20,20,1.2,0\nOVL,10,30,10,1.3,0\n"
        "SHAL,0,20,20,1.2,0\n"
        "LATE,5,30,20,1.2,0\n"
        "OK,0,30,10,1.3,0\n"
    )
    with pytest.raises(ValidationError) as err:
        run(csv)
    got = {(p.row, p.rule) for p in err.value.problems}
    assert got == {(3, "gap"), (5, "overlap"), (6, "too_shallow"), (7, "not_from_top")}
    res = run(csv, on_error="skip")
    assert res.plots["plot_id"].tolist() == ["OK"]
    assert res.n_rows == 7 and len(res.rejects) == 6 and res.n_rows_used == 1
    assert res.rejects["row"].tolist() == [2, 3, 4, 5, 6, 7]
    assert res.rejects.loc[res.rejects["row"] == 2, "reason"].iloc[0].startswith("plot not scored: gap")


def test_extrapolate_fills_gap_and_extends():
    res = run(HEAD + "GAP,0,10,20,1.0,0\nGAP,15,30,10,1.0,0\nSHAL,0,20,20,1.0,0\n", extrapolate=True)
    gap = res.plots.set_index("plot_id").loc["GAP"]
    # layers 20 + 15; gap of 5 cm at (2 + 1) / 2 t/ha/cm = 7.5
    assert gap["soc_stock_t_ha"] == pytest.approx(20 + 15 + 7.5)
    assert gap["extrapolated"] and gap["extrapolated_cm"] == pytest.approx(5)
    shal = res.plots.set_index("plot_id").loc["SHAL"]
    # a single layer: k = 0, constant extension of 2 t/ha/cm over 10 cm
    assert shal["soc_stock_t_ha"] == pytest.approx(40 + 20)
    assert shal["extrapolated_cm"] == pytest.approx(10)


def test_exponential_extension_matches_integral():
    k = 0.05
    got = exponential_extension(np.array([2.0]), np.array([10.0]), np.array([20.0]), np.array([30.0]), np.array([k]))
    z = np.linspace(20, 30, 200001)
    expected = np.trapezoid(2.0 * np.exp(-k * (z - 10)), z)
    assert got[0] == pytest.approx(expected, rel=1e-8)


def test_decline_rate_recovers_exponential_profile():
    mids = np.array([5.0, 15.0, 25.0])
    dens = 3.0 * np.exp(-0.04 * mids)
    k = decline_rate(np.zeros(3, dtype=int), mids - 5, mids + 5, dens, 1)
    assert k[0] == pytest.approx(0.04)


def test_bd_only_rows_lend_their_density():
    """ISIS style: bulk density measured on core rows of its own, between analysed horizons."""
    csv = HEAD + "P1,0,30,10,,0\nP1,5,10,,1.2,\nP1,20,25,,1.4,\n"
    res = run(csv)
    # overlap-weighted mean of 1.2 (5 cm) and 1.4 (5 cm) = 1.3
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(10 * 1.3 * 30 / 10)
    assert not res.plots["bd_estimated"].iloc[0]


def test_missing_bd_uses_ptf_and_is_flagged():
    res = run(HEAD + "P1,0,30,15,,0\n")
    assert res.plots["bd_estimated"].iloc[0]
    assert res.plots["bd_ptf"].iloc[0] == "manrique_jones_1991"
    bd = 1.66 - 0.318 * np.sqrt(1.5)
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(15 * bd * 30 / 10)


def test_one_record_per_sampling_date():
    csv = "plot_id,sampled_on,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3\nP1,2020,0,30,10,1.3\nP1,2025,0,30,11,1.3\n"
    res = run(csv)
    assert res.plots["sampled_on"].tolist() == ["2020", "2025"]
    assert res.plots["soc_stock_t_ha"].tolist() == pytest.approx([39.0, 42.9])


def test_farm_summary_area_weighted():
    csv = ("farm_id,plot_id,area_ha,top_cm,bottom_cm,soc_g_kg,bulk_density_g_cm3\n"
           "F1,A,1,0,30,10,1.0\nF1,B,3,0,30,20,1.0\nF2,C,,0,30,10,1.0\n")
    res = run(csv)
    farms = res.farms.set_index("farm_id")
    assert farms.loc["F1", "soc_stock_t_c"] == pytest.approx(30 * 1 + 60 * 3)
    assert farms.loc["F1", "soc_stock_t_ha"] == pytest.approx(210 / 4)
    assert farms.loc["F2", "n_plots_without_area"] == 1


def test_row_problem_below_interval_does_not_block_the_plot():
    res = run(HEAD + "P1,0,30,10,1.3,0\nP1,100,120,900,1.3,0\n", on_error="skip")
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(39.0)
    assert res.rejects["row"].tolist() == [3]


layers = st.lists(
    st.tuples(st.floats(1, 20), st.floats(0, 100), st.floats(0.8, 1.8), st.floats(0, 50)), min_size=1, max_size=6
)


@settings(max_examples=60, deadline=None)
@given(layers=layers, split=st.floats(0.05, 0.95), which=st.integers(0, 5))
def test_splitting_a_layer_leaves_the_stock_unchanged(layers, split, which):
    """Property: a layer split in two with the same properties gives the same stock."""
    rows, top = [], 0.0
    for thick, soc, bd, cf in layers:
        rows.append((top, top + thick, soc, bd, cf))
        top += thick
    if top < 30:
        rows.append((top, 30.0, 5.0, 1.4, 0.0))
    i = which % len(rows)
    t, b, soc, bd, cf = rows[i]
    mid = t + (b - t) * split
    split_rows = rows[:i] + [(t, mid, soc, bd, cf), (mid, b, soc, bd, cf)] + rows[i + 1:]

    def table(rs):
        return HEAD + "".join(f"P,{a!r},{z!r},{s!r},{d!r},{c!r}\n" for a, z, s, d, c in rs)

    one = run(table(rows)).plots["soc_stock_t_ha"].iloc[0]
    two = run(table(split_rows)).plots["soc_stock_t_ha"].iloc[0]
    assert one >= 0
    assert two == pytest.approx(one, rel=1e-9, abs=1e-9)
