"""The estimate pipeline: depth handling, bulk density sources, rejects (stocks/estimate.py, stocks/depth.py)."""

import io

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.stocks.depth import decline_rate, exponential_extension
from fourp1000.stocks.depth_distribution import jobbagy_jackson_2000_beta
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
    # a single layer (no land use: grassland share, 42 % of 0-100 cm in 0-20 cm): the Gale &
    # Grigal curve puts (b^20 - b^30) / (1 - b^20) of the 0-20 cm stock in 20-30 cm, less
    # than the constant extension (20 t/ha) that a constant concentration would give.
    b = float(jobbagy_jackson_2000_beta("grassland"))
    assert (1 - b**20) / (1 - b**100) == pytest.approx(0.42)
    assert shal["soc_stock_t_ha"] == pytest.approx(40 + 40 * (b**20 - b**30) / (1 - b**20))
    assert 40 + 10 < shal["soc_stock_t_ha"] < 40 + 20
    assert shal["extrapolated_cm"] == pytest.approx(10) and shal["extrapolated_share"] == pytest.approx(10 / 30)


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


def test_bd_only_rows_are_weighted_by_their_overlap():
    """A SOC layer 0-30 cm without BD; BD-only rows 0-10 cm (1.1) and 10-40 cm (1.5).

    The 10-40 cm row overlaps the layer by 20 cm, twice the 0-10 cm row, so it counts twice.
    """
    csv = HEAD + "P1,0,30,10,,0\nP1,0,10,,1.1,\nP1,10,40,,1.5,\n"
    res = run(csv)
    by_overlap = (10 * 1.1 + 20 * 1.5) / 30  # 1.3667 g cm-3
    equal_weights = (1.1 + 1.5) / 2  # what an unweighted mean would give
    assert abs(by_overlap - equal_weights) > 0.05
    layer = res.layers.iloc[0]
    assert len(res.layers) == 1 and layer["bd_source"] == "bd_rows"
    assert layer["bulk_density_g_cm3"] == pytest.approx(by_overlap)
    assert layer["bulk_density_g_cm3"] != pytest.approx(equal_weights)
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(10 * by_overlap * 30 / 10)


def test_one_bd_only_row_lends_to_two_layers_by_overlap():
    """The BD-only row 10-25 cm (1.2) covers 5 cm of the layer 0-15 and 10 cm of the layer 15-30;
    rows 0-10 cm (1.0) and 25-40 cm (1.6) cover the rest."""
    csv = HEAD + "P1,0,15,20,,0\nP1,15,30,10,,0\nP1,0,10,,1.0,\nP1,10,25,,1.2,\nP1,25,40,,1.6,\n"
    res = run(csv)
    upper = (10 * 1.0 + 5 * 1.2) / 15  # 1.0667, not (1.0 + 1.2) / 2 = 1.1
    lower = (10 * 1.2 + 5 * 1.6) / 15  # 1.3333, not (1.2 + 1.6) / 2 = 1.4
    bd = res.layers.set_index("top_cm")["bulk_density_g_cm3"]
    assert bd[0.0] == pytest.approx(upper) and bd[0.0] != pytest.approx(1.1)
    assert bd[15.0] == pytest.approx(lower) and bd[15.0] != pytest.approx(1.4)
    assert res.plots["soc_stock_t_ha"].iloc[0] == pytest.approx(20 * upper * 15 / 10 + 10 * lower * 15 / 10)


def test_layer_table_adds_up_to_the_stock():
    """``EstimateResult.layers``: the layers summed, with their source of BD, in input row order."""
    csv = HEAD + "P1,20,50,10,1.5,10\nP1,0,20,20,,0\nP2,0,30,12,1.3,0\nP1,0,20,,1.2,\n"
    res = run(csv)
    layers = res.layers
    assert layers["position"].tolist() == [0, 1, 2]
    assert layers["bd_source"].tolist() == ["measured", "bd_rows", "measured"]
    assert layers["overlap_cm"].tolist() == [10.0, 20.0, 30.0]
    assert layers["fine_earth_density_g_cm3"].tolist() == pytest.approx([1.5 * 0.9, 1.2, 1.3])
    stock = (layers["carbon_density_t_c_ha_cm"] * layers["overlap_cm"]).groupby(layers["record"]).sum()
    assert stock.tolist() == pytest.approx(res.plots["soc_stock_t_ha"].tolist())
    assert stock.tolist() == pytest.approx([10 * 1.35 * 10 / 10 + 20 * 1.2 * 20 / 10, 12 * 1.3 * 30 / 10])


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
