"""SOC depth distribution after Jobbágy & Jackson (2000) (stocks/depth_distribution.py)."""

import numpy as np
import pytest

from fourp1000.errors import InputError, UnknownFactorError
from fourp1000.stocks.depth_distribution import (
    beta_from_share,
    extend_stock_t_c_ha,
    fraction_in_interval,
    gale_grigal_cumulative,
    jobbagy_jackson_2000_beta,
)


def test_published_top_20_cm_shares():
    """Jobbágy & Jackson (2000) Ecol Appl 10:423-436, abstract: 'The percentage of SOC in the top
    20 cm (relative to the first meter) averaged 33%, 42%, and 50% for shrublands, grasslands, and
    forests, respectively.'"""
    vegetation = ["shrubland", "grassland", "forest"]
    beta = jobbagy_jackson_2000_beta(vegetation)
    assert fraction_in_interval(0.0, 20.0, beta) == pytest.approx([0.33, 0.42, 0.50], abs=1e-9)
    # deeper-rooted vegetation keeps more carbon at depth: beta shrubland > grassland > forest
    assert beta[0] > beta[1] > beta[2]


def test_single_beta_does_not_reproduce_the_second_and_third_metre():
    """The same abstract: SOC in the 2nd and 3rd metres is 77 %, 56 % and 43 % of the first metre
    (shrublands, forests, grasslands). The 0-20 cm-matched curve gives far less, which is why
    the module refuses depths below 1 m."""
    beta = jobbagy_jackson_2000_beta(["shrubland", "forest", "grassland"])
    predicted = fraction_in_interval(100.0, 300.0, beta, reference_depth_cm=None) / (1 - beta**100)
    assert np.all(predicted < np.array([0.77, 0.56, 0.43]))
    with pytest.raises(InputError):
        extend_stock_t_c_ha(50.0, 30.0, 200.0, beta[1])


def test_extension_factor_worked_example():
    """METHODS.md A2 §2.2 illustration: beta 0.97, 0-20 cm -> 0-30 cm factor 1.313."""
    assert extend_stock_t_c_ha(1.0, 20.0, 30.0, 0.97) == pytest.approx(1.313, abs=5e-4)
    assert extend_stock_t_c_ha(1.0, 20.0, 30.0, 0.97) == pytest.approx((1 - 0.97**30) / (1 - 0.97**20))


def test_fractions_add_up_over_contiguous_intervals():
    beta = jobbagy_jackson_2000_beta("grassland")
    edges = np.array([0.0, 5.0, 15.0, 30.0, 60.0, 100.0])
    parts = fraction_in_interval(edges[:-1], edges[1:], beta)
    assert parts.sum() == pytest.approx(1.0)
    assert np.all(np.diff(parts / np.diff(edges)) < 0)  # density declines with depth


def test_extend_then_truncate_round_trip_and_vectorised():
    beta = jobbagy_jackson_2000_beta(["forest", "shrubland"])
    stock_0_20 = np.array([45.0, 30.0])
    stock_0_30 = extend_stock_t_c_ha(stock_0_20, 20.0, 30.0, beta)
    assert np.all(stock_0_30 > stock_0_20)
    assert extend_stock_t_c_ha(stock_0_30, 30.0, 20.0, beta) == pytest.approx(stock_0_20)


def test_beta_from_share_limits_and_errors():
    assert gale_grigal_cumulative(0.0, 0.97) == 0.0
    assert beta_from_share(0.5, 10.0, 30.0) == pytest.approx(
        beta_from_share(np.array([0.5]), 10.0, 30.0)[0]
    )
    with pytest.raises(InputError):
        beta_from_share(0.15)  # below the uniform-profile share 20/100
    with pytest.raises(InputError):
        fraction_in_interval(30.0, 20.0, 0.97)
    with pytest.raises(UnknownFactorError, match="unknown vegetation 'cropland'"):
        jobbagy_jackson_2000_beta("cropland")
