"""Unit and property tests of the layer stock formula and bulk-density bases (stocks/layers.py)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fourp1000.stocks.layers import carbon_density, co2e, fine_earth_density, layer_stock, soil_mass
from fourp1000.targets import four_per_mille


def test_worked_check_from_issue():
    """SOC 1.2 %, BD 1.35 g/cm3, 0-30 cm, 10 % coarse fragments -> 43.74 t C/ha, target 0.17496."""
    stock = layer_stock(12.0, 1.35, 30.0, 10.0)
    assert stock == pytest.approx(43.74, abs=1e-12)
    assert four_per_mille(stock) == pytest.approx(0.17496, abs=1e-12)
    assert co2e(stock) == pytest.approx(43.74 * 44 / 12)


def test_percent_identity_from_methods():
    """1 % x 1.3 g/cm3 x 30 cm = 39 Mg C/ha (METHODS.md A1.1: the factor is exactly 1 with SOC in %)."""
    assert layer_stock(10.0, 1.3, 30.0) == pytest.approx(39.0)


def test_wefnexus_pitfall_is_not_reproduced():
    """0.65 % SOC, BD 1.45, 30 cm is 28.3 Mg C/ha, not the 2.83 of a package that applies 0.1 to percent."""
    assert layer_stock(6.5, 1.45, 30.0) == pytest.approx(28.275)


def test_soil_mass_identity():
    """1.38 g/cm3 x 10 cm = 1380 t/ha (SimpleESM reference mass, METHODS.md A1.1)."""
    assert soil_mass(1.38, 10.0) == pytest.approx(1380.0)


# Poeplau et al. (2017) / Hobley et al. (2018) illustration from METHODS.md A1.2:
# V 1000 cm3, fine earth 1100 g, stones 400 g of density 2.65, SOC 2 %, 30 cm -> 66.0 Mg C/ha.
V, M_FINE, M_STONE, RHO = 1000.0, 1100.0, 400.0, 2.65
V_STONE = M_STONE / RHO
CF_VOL = 100 * V_STONE / V
CF_MASS = 100 * M_STONE / (M_FINE + M_STONE)
BD_FE = M_FINE / (V - V_STONE)
BD_WHOLE = (M_FINE + M_STONE) / V


@pytest.mark.parametrize(
    "bd, basis, cf_vol, cf_mass",
    [
        (BD_FE, "fine_earth", CF_VOL, None),
        (BD_FE, "fine_earth", None, CF_MASS),
        (M_FINE / V, "fine_earth_total_volume", CF_VOL, None),
        (BD_WHOLE, "whole_soil", None, CF_MASS),
        (BD_WHOLE, "whole_soil", CF_VOL, None),
    ],
)
def test_every_unbiased_basis_gives_66(bd, basis, cf_vol, cf_mass):
    fed = fine_earth_density(bd, cf_vol, basis=basis, coarse_fragments_mass_pct=cf_mass, stone_density_g_cm3=RHO)
    assert float(carbon_density(20.0, fed) * 30.0) == pytest.approx(66.0, rel=1e-12)


def test_biased_mixtures_differ():
    """Whole-soil BD with a volumetric correction applied as if it were fine-earth BD overestimates (76.4)."""
    wrong = layer_stock(20.0, BD_WHOLE, 30.0, CF_VOL)
    assert wrong == pytest.approx(76.4, abs=0.05)


def test_inconsistent_stones_give_nan():
    assert np.isnan(fine_earth_density(1.0, 60.0, basis="whole_soil"))


@settings(max_examples=200, deadline=None)
@given(
    soc=st.floats(0, 580),
    bd=st.floats(0.1, 2.2),
    top=st.floats(0, 100),
    thick=st.floats(0.1, 100),
    cf=st.floats(0, 99),
    frac=st.floats(0.01, 0.99),
)
def test_stock_non_negative_and_additive(soc, bd, top, thick, cf, frac):
    whole = layer_stock(soc, bd, thick, cf)
    part1 = layer_stock(soc, bd, thick * frac, cf)
    part2 = layer_stock(soc, bd, thick * (1 - frac), cf)
    assert whole >= 0
    assert part1 + part2 == pytest.approx(whole, rel=1e-9, abs=1e-9)


@given(soc_pct=st.floats(0, 58))
def test_percent_and_g_kg_agree(soc_pct):
    assert layer_stock(soc_pct * 10, 1.3, 30) == pytest.approx(soc_pct * 1.3 * 30, rel=1e-12, abs=1e-12)
