"""Lazy yearly stocks (projection.yearly): the same numbers as the rule applied to the whole array."""

import numpy as np
import pytest

from fourp1000.projection.yearly import DepthRule, YearlyStocks


def _case(seed=0, n=50, years=7):
    rng = np.random.default_rng(seed)
    base30 = rng.uniform(20, 80, n)
    years_t_ha = base30 + np.cumsum(rng.normal(0.2, 1.0, (years, n)), axis=0)
    share = rng.uniform(0.5, 2.0, n)
    base = base30 * rng.uniform(1.0, 1.8, n)
    limit = np.where(rng.uniform(size=n) < 0.3, np.inf, base + rng.uniform(0, 3, n))
    return base30, years_t_ha, share, base, limit


def _eager(base30, years_t_ha, share, base, limit):
    """The rule written out on the stacked array, as the projection applied it before."""
    stocks = (np.vstack([base30[None, :], years_t_ha]) - base30) * share + base
    if limit is not None:
        stocks = np.where(stocks > limit, np.maximum(limit, np.minimum(stocks, base)), stocks)
    return stocks


@pytest.mark.parametrize("capped", [False, True])
def test_lazy_stocks_equal_the_rule_on_the_whole_array(capped):
    base30, years_t_ha, share, base, limit = _case()
    limit = limit if capped else None
    lazy = YearlyStocks(base30, years_t_ha).with_rule(DepthRule(base30, share, base, limit))
    eager = _eager(base30, years_t_ha, share, base, limit)
    assert lazy.shape == eager.shape == (8, 50)
    np.testing.assert_array_equal(np.asarray(lazy), eager)
    np.testing.assert_array_equal(lazy.final, eager[-1])
    if capped:  # the cap bites somewhere, and never below the baseline
        assert (eager < _eager(base30, years_t_ha, share, base, None)).any()
        assert (np.asarray(lazy) >= np.minimum(base, _eager(base30, years_t_ha, share, base, None))).all()


def test_take_selects_plots_with_their_rule():
    base30, years_t_ha, share, base, limit = _case(seed=1)
    lazy = YearlyStocks(base30, years_t_ha).with_rule(DepthRule(base30, share, base, limit))
    keep = np.arange(50) % 3 != 0
    np.testing.assert_array_equal(np.asarray(lazy.take(keep)), np.asarray(lazy)[:, keep])
    np.testing.assert_array_equal(lazy.take(keep).final, lazy.final[keep])


def test_without_rule_the_model_stocks_and_one_rule_only():
    base30, years_t_ha, share, base, _ = _case(seed=2)
    raw = YearlyStocks(base30, years_t_ha)
    np.testing.assert_array_equal(np.asarray(raw), np.vstack([base30, years_t_ha]))
    assert np.asarray(raw, dtype=np.float32).dtype == np.float32
    ruled = raw.with_rule(DepthRule(base30, share, base))
    with pytest.raises(ValueError):
        ruled.with_rule(DepthRule(base30, share, base))
    empty = YearlyStocks(np.zeros(0), np.zeros((0, 0)))
    assert empty.shape == (1, 0) and empty.final.shape == (0,)
