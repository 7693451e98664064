"""Coefficient draws: SOC_REF, stock change factors, practice factors and practice rates.

Every table cell is drawn once per draw and shared by every plot that uses it: a factor's
error is systematic. Factors are lognormal with the tabled value as mean and the standard
deviation from the tabled +/- (:meth:`fourp1000.projection.ipcc.FactorTable.standard_deviation`
converts two standard deviations and 95 % half-widths) [1]_; practice rates are normal,
with the standard deviation from the rate's +/- and its kind
(:func:`fourp1000.practices.rate_sd`).

References
----------
.. [1] IPCC (2019) 2019 Refinement, Vol. 4, Ch. 2, Table 2.3; Ch. 5, Table 5.5; Ch. 6,
   Table 6.2 (stated uncertainties of the Tier 1 defaults).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..projection import ipcc
from ..practices import catalogue, multiplier_table, rate_sd, rated_practices
from .draws import lognormal_draws


@dataclass(frozen=True)
class FactorModel:
    """The coefficient tables to draw: SOC_REF, management factors, practice factors, rates.

    A draw is one row of numbers per table cell, laid out
    ``[soc_ref | management | practice factors | rates]``; :meth:`draw` turns standard
    normals of that width into drawn tables (shape ``(n_draws, n_cells)`` each).
    """

    soc_ref: ipcc.FactorTable
    management: ipcc.FactorTable
    multiplier: ipcc.FactorTable
    rate_names: tuple[str, ...]
    rate_t_c_ha_yr: np.ndarray
    rate_sd_t_c_ha_yr: np.ndarray
    enabled: bool = True

    @classmethod
    def for_version(cls, ipcc_version: str, *, enabled: bool = True) -> FactorModel:
        """Tables of an IPCC version and the practice catalogue's rates."""
        names, mean, sd = [], [], []
        for name in rated_practices():
            p = catalogue()[name]
            names.append(p.name)
            mean.append(float(p.rate["t_c_ha_yr"]))
            # the +/- converted by its stated kind (95 % CI half-width / 1.96, 2 SD / 2, ...)
            p_sd = rate_sd(p)
            sd.append(p_sd if p_sd is not None else 0.0)
        return cls(ipcc.soc_ref_table(ipcc_version), ipcc.management_table(ipcc_version), multiplier_table(),
                   tuple(names), np.asarray(mean, float), np.asarray(sd, float), enabled)

    @cached_property
    def _moments(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(value, standard deviation) of each coefficient table, computed once."""
        return [(t.value, t.standard_deviation()) for t in (self.soc_ref, self.management, self.multiplier)]

    @property
    def widths(self) -> tuple[int, int, int, int]:
        return len(self.soc_ref.frame), len(self.management.frame), len(self.multiplier.frame), len(self.rate_names)

    @property
    def n_cells(self) -> int:
        return sum(self.widths)

    def draw(self, z: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Drawn (SOC_REF, management, practice factor, rate) tables for ``n`` draws.

        ``z`` holds standard normals of shape ``(n, n_cells)``; with coefficients switched
        off (or ``z`` None) every draw is the table itself.
        """
        tables = (self.soc_ref, self.management, self.multiplier)
        if not self.enabled or z is None:
            out = [np.broadcast_to(t.value, (n, len(t.frame))) for t in tables]
            return (*out, np.broadcast_to(self.rate_t_c_ha_yr, (n, len(self.rate_names))))
        bounds = np.cumsum((0,) + self.widths)
        out = [lognormal_draws(mean, sd, z[:, bounds[i]:bounds[i + 1]])
               for i, (mean, sd) in enumerate(self._moments)]
        rates = self.rate_t_c_ha_yr + self.rate_sd_t_c_ha_yr * z[:, bounds[3]:bounds[4]]
        return (*out, rates)

    def without_uncertainty(self) -> list[str]:
        """Catalogue rates with no published uncertainty (drawn as fixed)."""
        return [n for n, s in zip(self.rate_names, self.rate_sd_t_c_ha_yr) if not s > 0]
