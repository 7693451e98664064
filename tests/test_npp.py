"""Miami-model NPP (projection/npp.py).

No published table of Miami-model values was found in the stored sources; the tests pin the
equations as printed in FAO's GSOCseq technical manual (2020, Eqs. 6.6-6.12) and two
independent public implementations with the same coefficients: the soilassessment R package
(``NPPmodel``, model "miami") and the ncss-tech/gsp-gsocseq scripts (``NPPmodel.R``,
``inputs.R``). Coefficients are typed here, not read from ``data/miami_npp.csv``.
"""

import math

import numpy as np
import pytest

from fourp1000.errors import InputError, UnknownFactorError
from fourp1000.projection.npp import (
    c_input_ceiling_t_c_ha,
    miami,
    miami_precipitation,
    miami_t_c_ha,
    miami_temperature,
    retained_fraction,
)


def _reference_npp(rain, temperature):
    """The R implementations' body: npprain = 3000*(1-exp(-0.000664*rain));
    npptemp = 3000/(1+exp(1.315-0.119*temperature)); npp = pmin(npprain, npptemp)."""
    npprain = 3000 * (1 - math.exp(-0.000664 * rain))
    npptemp = 3000 / (1 + math.exp(1.315 - 0.119 * temperature))
    return min(npprain, npptemp)


@pytest.mark.parametrize(
    "temperature, rain",
    [(-5.0, 300.0), (8.5, 650.0), (10.0, 800.0), (15.0, 400.0), (25.0, 2000.0), (27.0, 3500.0)],
)
def test_miami_matches_the_public_implementations(temperature, rain):
    assert miami(temperature, rain) == pytest.approx(_reference_npp(rain, temperature))


def test_miami_limits():
    """NPP_T = 1500 where 0.119 T = 1.315; both forms approach 3000; NPP_P(0) = 0."""
    assert miami_temperature(1.315 / 0.119) == pytest.approx(1500.0)
    assert miami_temperature(100.0) == pytest.approx(3000.0, rel=1e-3)
    assert miami_precipitation(0.0) == 0.0
    assert miami_precipitation(20000.0) == pytest.approx(3000.0, rel=1e-5)
    # limited by precipitation in a warm dry climate, by temperature in a cold wet one
    assert miami(25.0, 300.0) == pytest.approx(miami_precipitation(300.0))
    assert miami(0.0, 3000.0) == pytest.approx(miami_temperature(0.0))


def test_miami_vectorised():
    t = np.array([5.0, 10.0, 20.0])
    p = np.array([500.0, 800.0, 1200.0])
    expected = [_reference_npp(r, x) for x, r in zip(t, p)]
    assert miami(t, p) == pytest.approx(expected)


def test_carbon_conversion_fao_eq_6_9():
    """FAO (2020) GSOCseq Eq. 6.9: t C/ha/yr = g DM/m2/yr x 0.01 x 0.48."""
    npp = _reference_npp(800.0, 10.0)
    assert miami_t_c_ha(10.0, 800.0) == pytest.approx(npp * 0.01 * 0.48)
    # the gsp-gsocseq port uses 0.5 (npp * 1/100 * 0.5)
    assert miami_t_c_ha(10.0, 800.0, carbon_fraction=0.5) == pytest.approx(npp / 100 * 0.5)


def test_retained_fractions_fao_eqs_6_10_to_6_12():
    """FAO (2020) Eqs. 6.10-6.12 after Schulze et al. (2010): forests 0.88, grasslands 0.72, croplands 0.53."""
    assert retained_fraction(["forest", "grassland", "cropland"]) == pytest.approx([0.88, 0.72, 0.53])
    assert c_input_ceiling_t_c_ha(10.0, 800.0, "cropland") == pytest.approx(miami_t_c_ha(10.0, 800.0) * 0.53)
    with pytest.raises(UnknownFactorError, match="unknown land use 'orchard'"):
        retained_fraction("orchard")


def test_bad_inputs():
    with pytest.raises(InputError):
        miami(10.0, -1.0)
    with pytest.raises(InputError):
        miami_t_c_ha(10.0, 800.0, carbon_fraction=48)
