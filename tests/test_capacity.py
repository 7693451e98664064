"""Mineral-associated carbon capacity and saturation deficit (stocks/capacity.py).

Coefficients are typed here from the sources (not read from the package's data file), so a
transcription error in ``data/mineral_c_capacity.csv`` or ``data/maoc_share.csv`` fails.
"""

import math

import numpy as np
import pytest

from fourp1000.errors import InputError, UnknownFactorError
from fourp1000.stocks.capacity import (
    capacity_table,
    fine_fraction_loglinear_pct,
    georgiou_2022,
    hassink_1997,
    maoc_share,
    mineral_c_capacity_t_ha,
    saturation_deficit_t_ha,
)


def test_hassink_1997_equation():
    """Hassink (1997) Plant Soil 191:77-87: C_sat [g C/kg] = 4.09 + 0.37 x (% particles < 20 um)."""
    fine = np.array([0.0, 20.0, 54.0, 100.0])
    assert hassink_1997(fine) == pytest.approx(4.09 + 0.37 * fine)


def test_georgiou_2022_slopes_from_the_authors_code():
    """Georgiou et al. (2022) Nat Commun 13:3797, authors' global_analysis.py:
    slope21 = 0.86 (2:1, high-activity clays), slope11 = 0.48 (1:1, low-activity);
    Qmax_gkg = texture * slope."""
    texture = np.array([10.0, 60.0, 60.0, 35.0])
    kinds = ["high_activity", "HAC", "low", "1:1"]
    assert georgiou_2022(texture, kinds) == pytest.approx([8.6, 51.6, 28.8, 16.8])


def test_georgiou_2022_stock_conversion_matches_the_authors_code():
    """Authors' code: potential_MOC_kgm2 = (Qmax_gkg/10) * BD * (depth/10); 1 kg m-2 = 10 t ha-1."""
    q, bd, depth = georgiou_2022(40.0, "high"), 1.3, 30.0
    kg_m2 = (q / 10) * bd * (depth / 10)
    assert mineral_c_capacity_t_ha(q, bd, depth) == pytest.approx(10 * kg_m2)
    # 0.86 x 40 = 34.4 g/kg; x 1.3 g cm-3 x 30 cm / 10 = 134.16 t C/ha
    assert mineral_c_capacity_t_ha(q, bd, depth) == pytest.approx(134.16)


def test_unknown_mineral_type_lists_valid_ones():
    with pytest.raises(UnknownFactorError, match="unknown mineral type 'smectitic'; valid:"):
        georgiou_2022([30.0, 30.0], ["high", "smectitic"])


def test_percentages_are_checked():
    with pytest.raises(InputError):
        hassink_1997(120.0)
    with pytest.raises(InputError):
        fine_fraction_loglinear_pct(60.0, 50.0)


def test_fine_fraction_loglinear():
    """Cumulative passing linear in log(d) between (2 um, clay) and (upper, clay + silt)."""
    clay, silt = 20.0, 40.0
    assert fine_fraction_loglinear_pct(clay, silt, 50.0) == pytest.approx(clay + silt * math.log(10) / math.log(25))
    assert fine_fraction_loglinear_pct(clay, silt, 63.0) == pytest.approx(clay + silt * math.log(10) / math.log(31.5))
    # a silt limit of 20 um already is the < 20 um fraction; limits bracket the estimate
    assert fine_fraction_loglinear_pct(clay, silt, 20.0) == pytest.approx(60.0)
    est = fine_fraction_loglinear_pct(np.array([5.0, 30.0]), np.array([10.0, 50.0]))
    assert np.all(est >= [5.0, 30.0]) and np.all(est <= [15.0, 80.0])


def test_capacity_stock_units():
    """g C/kg x g cm-3 x cm / 10 = t C/ha: 10 g/kg, 1.5 g cm-3, 30 cm -> 45 t C/ha (1 % x 1.5 x 30)."""
    assert mineral_c_capacity_t_ha(10.0, 1.5, 30.0) == pytest.approx(45.0)


def test_saturation_deficit_floors_at_zero_and_uses_share():
    cap = np.array([60.0, 60.0, 60.0])
    stock = np.array([40.0, 80.0, 80.0])
    assert saturation_deficit_t_ha(cap, stock) == pytest.approx([20.0, 0.0, 0.0])
    assert saturation_deficit_t_ha(cap, stock, maoc_share=0.5) == pytest.approx([40.0, 20.0, 20.0])
    with pytest.raises(InputError):
        saturation_deficit_t_ha(cap, stock, maoc_share=1.5)


def test_published_maoc_shares():
    """Chen et al. (2019) Soil Till Res 188:53-58, abstract: fine-fraction share of SOC in French
    topsoils 69 % grassland, 85 % cropland, 66 % forest. Georgiou et al. (2022) abstract: MOC is
    66 % (surface) and 70 % (deeper layers) of soil carbon."""
    assert maoc_share("cropland") == 0.85
    assert maoc_share("grassland") == 0.69
    assert maoc_share("forest") == 0.66
    assert maoc_share("any", "topsoil", source="georgiou_2022") == 0.66
    assert maoc_share("any", "subsoil", source="georgiou_2022") == 0.70
    with pytest.raises(UnknownFactorError):
        maoc_share("orchard")


def test_capacity_table_has_a_source_per_row():
    table = capacity_table()
    assert table["source"].notna().all() and table["status"].notna().all()
    assert set(table["method"]) == {"hassink_1997", "georgiou_2022"}
