"""The "4 per 1000" target: a yearly growth of the SOC stock of 0.4 % (4 per mille).

The Initiative's arithmetic (Minasny et al. 2017): fossil-fuel emissions of about
8.9 Gt C yr-1 against a global SOC stock of about 2400 Gt C give 8.9 / 2400 = 0.37 %,
rounded to 4 per mille. The target applies to the top 30-40 cm. We define it relative to the
*initial* (baseline) stock and linear in time: a plot meets 4 per 1000 over a period when

    (SOC_t - SOC_0) / (t - t0) >= 0.004 x SOC_0

i.e. when its mean yearly change is at least 4 per mille of the baseline stock. (The
compound form SOC_0 x 1.004^t is stricter over long horizons; :func:`compound_target_stock`
gives it for comparison.)

References
----------
.. [1] Minasny B. et al. (2017) Soil carbon 4 per mille. Geoderma 292:59-86,
   doi:10.1016/j.geoderma.2017.01.002
.. [2] Soussana J.-F. et al. (2019) Matching policy and science: Rationale for the '4 per
   1000 - soils for food security and climate' initiative. Soil Tillage Res. 188:3-15,
   doi:10.1016/j.still.2017.12.002
"""

from __future__ import annotations

import numpy as np

#: The 4 per 1000 rate, as a fraction of the baseline stock per year.
RATE_PER_YEAR = 0.004
#: The same in per mille per year.
TARGET_PER_MILLE = 4.0


def four_per_mille(stock_t_c_ha: np.ndarray | float) -> np.ndarray:
    """Yearly SOC gain [t C ha-1 yr-1] that meets the 4 per 1000 rate for this stock.

    >>> float(four_per_mille(43.74))
    0.17496
    """
    return np.asarray(stock_t_c_ha, dtype=float) * RATE_PER_YEAR


def rate_per_mille(annual_change: np.ndarray | float, baseline: np.ndarray | float) -> np.ndarray:
    """Mean yearly change as per mille of the baseline stock (NaN where the baseline is 0)."""
    baseline = np.asarray(baseline, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(baseline > 0, np.asarray(annual_change, dtype=float) / baseline * 1000.0, np.nan)


def meets_target(rate_pm: np.ndarray | float, tolerance: float = 1e-9) -> np.ndarray:
    """True where a rate [per mille per year] reaches 4 per 1000 (within float tolerance)."""
    return np.asarray(rate_pm, dtype=float) >= TARGET_PER_MILLE - tolerance


def compound_target_stock(baseline: np.ndarray | float, years: np.ndarray | float) -> np.ndarray:
    """Stock [same unit as baseline] after ``years`` of 0.4 % compound growth."""
    return np.asarray(baseline, dtype=float) * (1.0 + RATE_PER_YEAR) ** np.asarray(years, dtype=float)


def change_columns(baseline_t_ha: np.ndarray, final_t_ha: np.ndarray, years: float) -> dict[str, np.ndarray]:
    """The verdict columns every projection reports, from baseline and final stocks [t C ha-1].

    Returns ``baseline_stock_t_ha``, ``final_stock_t_ha``, ``annual_change_t_ha_yr`` (mean
    over ``years``), ``rate_per_mille``, ``meets_4p1000`` and the CO2 equivalents
    ``baseline_co2e_t_ha``, ``final_co2e_t_ha``, ``annual_change_co2e_t_ha_yr`` (x 44/12),
    in that order, so that the IPCC and RothC paths give the same table.
    """
    from .stocks.layers import co2e

    baseline = np.asarray(baseline_t_ha, dtype=float)
    final = np.asarray(final_t_ha, dtype=float)
    annual = (final - baseline) / float(years)
    per_mille = rate_per_mille(annual, baseline)
    return {
        "baseline_stock_t_ha": baseline,
        "final_stock_t_ha": final,
        "annual_change_t_ha_yr": annual,
        "rate_per_mille": per_mille,
        "meets_4p1000": meets_target(per_mille),
        "baseline_co2e_t_ha": co2e(baseline),
        "final_co2e_t_ha": co2e(final),
        "annual_change_co2e_t_ha_yr": co2e(annual),
    }
