"""Bulk-density pedotransfer functions against their published equations (stocks/ptf.py).

Expected values are computed here by hand from the equations as printed in the papers
(coefficients typed from the sources, not read from the package's data file), so a
transcription error in ``data/bd_ptf.csv`` fails these tests.
"""

import math

import numpy as np
import pytest

from fourp1000.errors import UnknownFactorError
from fourp1000.stocks.ptf import adams, estimate_bulk_density, hollis, hollis_organic, linear_oc, ptf_table, sqrt_oc


def test_manrique_jones_1991_sqrt():
    """Manrique & Jones (1991) SSSAJ 55:476: BD = 1.66 - 0.318 OC^0.5."""
    oc = np.array([0.0, 1.0, 4.0])
    assert sqrt_oc(oc, "manrique_jones_1991") == pytest.approx([1.66, 1.342, 1.024])


def test_manrique_jones_1991_linear():
    """Manrique & Jones (1991): BD = 1.51 - 0.113 OC."""
    assert linear_oc(np.array([2.0]), "manrique_jones_1991_linear") == pytest.approx([1.284])


def test_alexander_1980():
    """Alexander (1980) SSSAJ 44:689, equation A: BD = 1.66 - 0.308 OC^0.5."""
    assert sqrt_oc(np.array([2.25]), "alexander_1980_a") == pytest.approx([1.66 - 0.308 * 1.5])


def test_hollis_2012_equations():
    """Hollis et al. (2012) EJSS 63:96: cultivated topsoil, mineral and organic horizon equations."""
    oc, sand, clay = 2.0, 40.0, 20.0
    cultivated = 0.80806 + 0.82384 * math.exp(-0.27993 * oc) + 0.0014065 * sand - 0.0010299 * clay
    mineral = 0.69794 + 0.750636 * math.exp(-0.230355 * oc) + 0.0008687 * sand - 0.0005164 * clay
    assert hollis(np.array([oc]), np.array([sand]), np.array([clay]), "hollis_2012_cultivated")[0] == pytest.approx(cultivated)
    assert hollis(np.array([oc]), np.array([sand]), np.array([clay]), "hollis_2012_mineral")[0] == pytest.approx(mineral)
    assert hollis_organic(np.array([20.0]))[0] == pytest.approx(1.4903 - 0.33293 * math.log(20.0))


def test_adams_1973_limits_and_post_kwon_form():
    """Adams (1973): pure mineral soil -> mineral BD (1.64), pure OM -> 0.244; equals Post & Kwon's form."""
    assert adams(np.array([0.0]))[0] == pytest.approx(1.64)
    assert adams(np.array([100.0]))[0] == pytest.approx(0.244)
    om = 5.0
    post_kwon = 0.244 * 1.64 / (1.64 * om / 100 + 0.244 * (1 - om / 100))
    assert adams(np.array([om]))[0] == pytest.approx(post_kwon)
    miscoded = 100 / (om / 0.224 + (100 - om / 1.27))  # soilptf sptf_bd3, see METHODS.md A4
    assert adams(np.array([om]))[0] - miscoded > 0.4  # 1.275 vs 0.845


def test_every_table_row_has_a_source_and_doi():
    table = ptf_table()
    assert table["source"].str.len().min() > 20
    assert table["doi"].str.startswith("10.").all()


def test_auto_chooses_by_available_inputs():
    res = estimate_bulk_density(
        np.array([15.0, 15.0, 150.0, 15.0]),
        sand_pct=np.array([40.0, np.nan, np.nan, 40.0]),
        clay_pct=np.array([20.0, np.nan, np.nan, 20.0]),
        top_cm=np.array([0.0, 0.0, 0.0, 40.0]),
        land_use=np.array(["cropland", "cropland", "cropland", "cropland"], dtype=object),
    )
    assert list(res.ptf) == ["hollis_2012_cultivated", "manrique_jones_1991", "hollis_2012_organic", "hollis_2012_mineral"]
    assert res.bulk_density_g_cm3[1] == pytest.approx(1.66 - 0.318 * math.sqrt(1.5))


def test_out_of_domain_gives_nan_not_a_clipped_value():
    """Manrique & Jones on peat (OC 40 %) predicts a negative density: no estimate, not a clip."""
    res = estimate_bulk_density(np.array([400.0]), method="manrique_jones_1991")
    assert np.isnan(res.bulk_density_g_cm3[0])
    assert res.ptf[0] == ""


def test_hollis_without_texture_gives_no_estimate():
    res = estimate_bulk_density(np.array([15.0]), method="hollis_2012")
    assert np.isnan(res.bulk_density_g_cm3[0])


def test_unknown_ptf():
    with pytest.raises(UnknownFactorError, match="valid: auto, hollis_2012"):
        estimate_bulk_density(np.array([10.0]), method="nope")
