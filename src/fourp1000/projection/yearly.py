"""Yearly stocks of a projection, kept as the model computed them and built when asked.

A RothC projection of 100,000 plots over 50 years has 5.1 million yearly stocks, but the
verdict needs only the last year: the whole array is needed only for the trajectory
(``project --trajectory``, the report's figures). :class:`YearlyStocks` keeps the model's
0-30 cm baseline and yearly rows and the depth rule of
:func:`fourp1000.projection.verdict.rescale` (:class:`DepthRule`), and applies the rule to
the last year for the verdict, to the whole array only when it is asked for
(``numpy.asarray(stocks)``). The numbers are the same either way: the rule is element-wise.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np


@dataclass(frozen=True)
class DepthRule:
    """A 0-30 cm stock carried to the requested depth, and capped, plot by plot.

    ``base + share x (stock - base30)``; with ``limit``, a stock above it is brought down to
    it, never below the baseline (:func:`fourp1000.projection.verdict.rescale`).

    Attributes
    ----------
    base30 : numpy.ndarray, shape (n,) [t C ha-1]
        Baseline stock on 0-30 cm.
    share : numpy.ndarray, shape (n,) [-]
        Share of the 0-30 cm change that the requested depth takes.
    base : numpy.ndarray, shape (n,) [t C ha-1]
        Baseline stock on the requested depth.
    limit : numpy.ndarray, shape (n,) [t C ha-1], optional
        The cap (baseline plus saturation deficit; inf where unknown); None: no cap.
    """

    base30: np.ndarray
    share: np.ndarray
    base: np.ndarray
    limit: np.ndarray | None = None

    def __call__(self, stocks_0_30: np.ndarray) -> np.ndarray:
        """``stocks_0_30`` (..., n) [t C ha-1] on the requested depth (a new array)."""
        stocks = np.subtract(np.asarray(stocks_0_30, dtype=float), self.base30)
        stocks *= self.share
        stocks += self.base
        if self.limit is not None:
            stocks = np.where(stocks > self.limit, np.maximum(self.limit, np.minimum(stocks, self.base)), stocks)
        return stocks

    def uncapped(self) -> DepthRule:
        """The same rule without the cap."""
        return replace(self, limit=None)

    def take(self, keep: np.ndarray) -> DepthRule:
        """The rule of the plots selected by ``keep`` (boolean mask or positions)."""
        return DepthRule(self.base30[keep], self.share[keep], self.base[keep],
                         None if self.limit is None else self.limit[keep])


@dataclass(frozen=True)
class YearlyStocks:
    """Yearly stocks (years + 1, n) [t C ha-1]: row 0 the baseline, then the end of each year.

    Attributes
    ----------
    baseline_t_ha : numpy.ndarray, shape (n,) [t C ha-1]
        The model's baseline stock (year 0).
    years_t_ha : numpy.ndarray, shape (years, n) [t C ha-1]
        The model's stock at the end of each year.
    rule : DepthRule, optional
        Applied to both when the stocks are read (None: the model's own stocks).

    Examples
    --------
    >>> s = YearlyStocks(np.array([40.0]), np.array([[41.0], [42.0]]))
    >>> s.shape, s.final.tolist(), np.asarray(s)[:, 0].tolist()
    ((3, 1), [42.0], [40.0, 41.0, 42.0])
    >>> half = s.with_rule(DepthRule(np.array([40.0]), np.array([0.5]), np.array([50.0])))
    >>> np.asarray(half)[:, 0].tolist()
    [50.0, 50.5, 51.0]
    """

    baseline_t_ha: np.ndarray
    years_t_ha: np.ndarray
    rule: DepthRule | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """(years + 1, n)."""
        return (self.years_t_ha.shape[0] + 1, self.baseline_t_ha.shape[0])

    @property
    def final(self) -> np.ndarray:
        """The stock at the end of the last year (no year: the baseline), shape (n,) [t C ha-1]."""
        last = self.years_t_ha[-1] if len(self.years_t_ha) else self.baseline_t_ha
        return last if self.rule is None else self.rule(last)

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        # the whole array: built (and the rule applied) only here, when it is asked for
        stocks = np.empty(self.shape, dtype=float)
        stocks[0] = self.baseline_t_ha
        stocks[1:] = self.years_t_ha
        if self.rule is not None:
            stocks = self.rule(stocks)
        return stocks if dtype is None else stocks.astype(dtype, copy=False)

    def with_rule(self, rule: DepthRule) -> YearlyStocks:
        """The model's stocks read through ``rule`` (one rule: they must not have one yet)."""
        if self.rule is not None:
            raise ValueError("these yearly stocks already have a depth rule")
        return replace(self, rule=rule)

    def take(self, keep: np.ndarray) -> YearlyStocks:
        """The stocks of the plots selected by ``keep`` (boolean mask or positions)."""
        return YearlyStocks(self.baseline_t_ha[keep], self.years_t_ha[:, keep],
                            None if self.rule is None else self.rule.take(keep))


__all__ = ["DepthRule", "YearlyStocks"]
