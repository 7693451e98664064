"""Practice catalogue and its mapping onto IPCC classes (:mod:`fourp1000.practices`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.projection import ipcc
from fourp1000 import practices as pr
from fourp1000.errors import InputError, UnknownFactorError

REQUIRED = {"reduced_tillage", "no_till", "cover_crops", "residue_retention", "manure", "agroforestry",
            "improved_grassland", "set_aside"}


def test_catalogue_has_the_required_practices_with_sources():
    assert REQUIRED <= set(pr.practice_names())
    table = pr.list_practices()
    assert list(table.columns[:5]) == ["practice", "description", "applies_to", "ipcc_effect", "ipcc_source"]
    assert table["ipcc_source"].str.len().gt(10).all()
    assert (table["rate_source"].str.len() > 0).all()


def test_published_rates_and_agroforestry_factors():
    """Poeplau & Don 2015 (cover crops 0.32 ± 0.08 t C/ha/yr); Bolinder et al. 2020 abstract
    (residues 117, manure 409 kg C/ha/yr); Cardinael et al. 2018 abstract (1.25 ± 0.04
    cropland -> agroforestry, 1.19 ± 0.10 grassland -> agroforestry)."""
    table = pr.list_practices().set_index("practice")
    assert table.loc["cover_crops", "rate_t_c_ha_yr"] == 0.32
    assert table.loc["cover_crops", "rate_uncertainty_t_c_ha_yr"] == 0.08
    assert table.loc["residue_retention", "rate_t_c_ha_yr"] == 0.117
    assert table.loc["manure", "rate_t_c_ha_yr"] == 0.409
    assert np.isnan(table.loc["no_till", "rate_t_c_ha_yr"])
    mult = pr.multiplier_table().frame.set_index(["practice", "land_use"])
    assert mult.loc[("agroforestry", "cropland"), "value"] == 1.25
    assert mult.loc[("agroforestry", "cropland"), "uncertainty_pct"] == pytest.approx(100 * 0.04 / 1.25)
    assert mult.loc[("agroforestry", "grassland"), "value"] == 1.19


def test_parse_merges_column_and_global_practices_in_catalogue_order():
    got = pr.parse_practices(["cover crops; No-Till", "", None, "manure"], ["residue_retention"])
    assert got.tolist() == ["no_till;residue_retention;cover_crops", "residue_retention", "residue_retention",
                            "residue_retention;manure"]
    assert pr.parse_practices(None, (), n=2).tolist() == ["", ""]


def test_unknown_practice_lists_the_catalogue_and_row():
    with pytest.raises(UnknownFactorError) as info:
        pr.parse_practices(["no_till", "no_till;biochar"], source_row=[4, 5])
    assert str(info.value).startswith("unknown practice 'biochar' in row 5; valid: reduced_tillage, no_till, ")


def test_input_classes_follow_the_ipcc_class_definitions():
    """IPCC 2019 Vol. 4 Ch. 5 Table 5.5 class definitions: residues returned = medium; high =
    medium plus extra input practices; high with manure = high residue inputs plus manure;
    with residues removed, manure or cover crops only reach medium. A class never falls."""
    base = ["low", "medium", "high", "high_manure"]
    for practice, expected in (("residue_retention", ["medium", "medium", "high", "high_manure"]),
                               ("cover_crops", ["medium", "high", "high", "high_manure"]),
                               ("manure", ["medium", "high_manure", "high_manure", "high_manure"]),
                               ("residue_retention;cover_crops", ["high", "high", "high", "high_manure"]),
                               ("residue_retention;manure", ["high_manure", "high_manure", "high_manure",
                                                             "high_manure"])):
        m = pr.apply_practices(pr.parse_practices([practice] * 4), ["cropland"] * 4, ["full"] * 4, base)
        assert m.input_level.tolist() == expected, practice


def test_tillage_and_land_use_practices_set_classes():
    combos = pr.parse_practices(["reduced_tillage", "no_till", "reduced_tillage;no_till", "set_aside", ""])
    m = pr.apply_practices(combos, ["cropland"] * 5, ["none", "full", "full", "full", "reduced"], ["medium"] * 5)
    # reduced tillage on a no-till plot is already in place (less tillage): nothing changes
    assert m.tillage.tolist() == ["none", "none", "none", "full", "reduced"]
    assert m.not_credited[0] == "reduced_tillage (already in place: tillage none)"
    assert m.land_use.tolist() == ["cropland"] * 3 + ["set_aside", "cropland"]
    assert m.multiplier.tolist() == [1.0] * 5


def test_agroforestry_and_improved_grassland():
    combos = pr.parse_practices(["agroforestry", "agroforestry;improved_grassland"])
    m = pr.apply_practices(combos, ["cropland", "grassland"], ["full", None], ["medium", None])
    assert m.multiplier.tolist() == [1.25, 1.19]
    assert m.grassland_condition.tolist() == [None, "improved"]
    idx = m.multiplier_index["agroforestry"]
    np.testing.assert_array_equal(pr.multiplier_table().value[idx], [1.25, 1.19])
    # a Monte Carlo draw of the practice table gathers per plot
    np.testing.assert_allclose(m.multiplier_from(np.array([[1.0, 2.0]])), [[1.0, 2.0]])


def test_practice_on_wrong_land_use_is_an_input_error():
    with pytest.raises(InputError, match=r"practice 'improved_grassland' does not apply to land use 'cropland' "
                                         r"in row 9; it applies to: grassland"):
        pr.apply_practices(pr.parse_practices(["improved_grassland"]), ["cropland"], source_row=[9])
    with pytest.raises(InputError, match="does not apply to land use 'set_aside'"):
        pr.apply_practices(pr.parse_practices(["no_till"]), ["set_aside"])
    with pytest.raises(InputError, match="set_aside cannot be combined with agroforestry"):
        pr.apply_practices(pr.parse_practices(["set_aside;agroforestry"]), ["cropland"])


def test_rates_add_up_and_flag_practices_without_rate():
    rate, years, missing, status = pr.practice_rates(pr.parse_practices(["cover_crops;manure", "no_till", ""]))
    # cover crops and manure act through the C input: the larger rate (manure), not the sum
    assert rate.tolist() == pytest.approx([0.409, 0.0, 0.0])
    assert years.tolist() == [20.0, 20.0, 20.0]
    assert missing.tolist() == ["", "no_till", ""]
    assert status.tolist() == ["unconfirmed", "definition", "definition"]
    assert pr.practice_rates(pr.parse_practices(["manure"]), duration_yr=10)[1].tolist() == [10.0]


def test_relative_change_column_in_the_listing():
    """Warm temperate moist, 2019: no-till 1.10, cover crops 1.11, manure 1.44, set-aside
    0.82/0.69, improved grassland 1.14, agroforestry 1.25 (reference: full tillage, medium)."""
    table = pr.list_practices("2019", "warm_temperate_moist").set_index("practice")["ipcc_relative_change"]
    assert table["no_till"] == pytest.approx(1.10)
    assert table["reduced_tillage"] == pytest.approx(1.05)
    assert table["cover_crops"] == pytest.approx(1.11)
    assert table["residue_retention"] == pytest.approx(1.0)
    assert table["manure"] == pytest.approx(1.44)
    assert table["set_aside"] == pytest.approx(0.82 / 0.69)
    assert table["improved_grassland"] == pytest.approx(1.14)
    assert table["agroforestry"] == pytest.approx(1.25)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.sampled_from(["no_till", "reduced_tillage", "cover_crops", "residue_retention", "manure",
                                 "agroforestry"]), max_size=4),
       st.sampled_from(ipcc.INPUT_LEVELS))
def test_input_never_decreases_and_order_does_not_matter(chosen, level):
    a = pr.apply_practices(pr.parse_practices([";".join(chosen)]), ["cropland"], ["full"], [level])
    b = pr.apply_practices(pr.parse_practices([";".join(reversed(chosen))]), ["cropland"], ["full"], [level])
    assert ipcc.INPUT_LEVELS.index(a.input_level[0]) >= ipcc.INPUT_LEVELS.index(level)
    assert (a.input_level[0], a.tillage[0], a.multiplier[0]) == (b.input_level[0], b.tillage[0], b.multiplier[0])
