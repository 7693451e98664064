"""Monte Carlo uncertainty of SOC stocks, projections and the 4 per 1000 verdict.

Every result of ``estimate``, ``project`` and ``score`` can be recomputed for N random
draws of its uncertain inputs (IPCC 2006 Vol. 1 Ch. 3, Approach 2). Two kinds of input are
drawn, and they are correlated differently on purpose:

* **Coefficients** -- SOC_REF, the stock change factors F_LU, F_MG, F_I, the extra practice
  factors (agroforestry) and the meta-analysis practice rates -- are drawn *once per draw
  and per table cell*, and the drawn cell is shared by every plot that uses it. A factor's
  error is systematic: if the true no-till factor is lower than the table's, it is lower on
  every farm. Farm and portfolio totals therefore keep the relative uncertainty of the
  factors however many plots they add up.
* **Measurements** -- SOC concentration, bulk density (measured, or predicted by a
  pedotransfer function, whose error is larger) and coarse fragments -- are drawn
  independently for every layer of every core: sampling and laboratory errors of different
  samples are independent, and they average out over many plots.

Distributions
-------------
Coefficients and measurements are positive quantities, drawn from a lognormal distribution
whose mean is the tabled (or measured) value and whose standard deviation is the published
one: with ``cv = sd / mean``, ``sigma**2 = ln(1 + cv**2)`` and

    x = mean * exp(sigma * z - sigma**2 / 2),   z ~ N(0, 1)

(:func:`lognormal_draws`). The lognormal keeps factors positive, is the shape the IPCC
recommends for positive quantities with large uncertainty, and tends to the normal for small
ones. The tables give their uncertainty either as two standard deviations (Tables 5.5 and
6.2) or as the half-width of the 95 % interval (2019 Table 2.3, Cardinael et al. 2018);
:meth:`fourp1000.projection.ipcc.FactorTable.standard_deviation` converts both. Practice rates (which
can be negative) are drawn from a normal distribution; a rate whose +/- has no stated kind
is read as one standard deviation, the wider of the usual readings. Default measurement
errors are package data (``data/measurement_errors.csv``, one standard deviation each, with
sources); per-layer columns ``soc_sd_pct``, ``bulk_density_sd_pct`` and
``coarse_fragments_sd_pct`` override them.

Output
------
For every quantity ``q``: ``q_mean``, ``q_median``, ``q_p2_5`` and ``q_p97_5`` (2.5 and
97.5 percentiles, a 95 % interval); with a 4 per 1000 rate, ``p_meets_4p1000`` (the share of
draws meeting 4 per mille) and ``meets_4p1000_at_confidence`` (``p_meets_4p1000 >=
confidence``). The deterministic columns are kept as they are.

Computation
-----------
Draws are processed in chunks (a few draws at a time) for blocks of plots (so memory stays
bounded); random numbers are addressed by draw and by table cell or layer position in
blocks of counter-like sub-streams (PCG64 ``advance``, normals by numpy's ziggurat), so the
results are identical for a given seed
whatever the chunk size. Stocks are linear in the layers' carbon densities, so measurement
errors are propagated as multiplicative perturbations of each layer's contribution to its
plot's stock.

Modules
-------
The public names of these modules are re-exported here: import them from
:mod:`fourp1000.uncertainty`.

* :mod:`~fourp1000.uncertainty.options` -- :class:`UncertaintyOptions` and the defaults.
* :mod:`~fourp1000.uncertainty.draws` -- lognormal draws, the IPCC Approach 1 formula and
  the random streams :class:`DrawStreams`.
* :mod:`~fourp1000.uncertainty.engine` -- the chunked engine (:class:`SimulationPlan`,
  :func:`simulate`) and the summary statistics.
* :mod:`~fourp1000.uncertainty.factors` -- coefficient draws (:class:`FactorModel`).
* :mod:`~fourp1000.uncertainty.measurement` -- the measurement error table and
  :func:`layer_errors`, the layers behind each measured stock.
* :mod:`~fourp1000.uncertainty.layers` -- :class:`LayerErrors`: drawn measured stocks,
  layer by layer, per block of units.
* :mod:`~fourp1000.uncertainty.results` -- the new columns and the methods line.
* :mod:`~fourp1000.uncertainty.estimate` and :mod:`~fourp1000.uncertainty.project` -- the
  entry points :func:`estimate_uncertainty` and :func:`project_uncertainty`.

References
----------
.. [1] IPCC (2006) 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 1,
   Ch. 3 Uncertainties, section 3.2.3 (Approach 1, Eq. 3.1 and 3.2; Approach 2, Monte
   Carlo simulation). IGES, Hayama.
.. [2] IPCC (2019) 2019 Refinement, Vol. 4, Ch. 2, Table 2.3; Ch. 5, Table 5.5; Ch. 6,
   Table 6.2 (stated uncertainties of the Tier 1 defaults).
.. [3] Goidts E., van Wesemael B., Crucifix M. (2009) Magnitude and sources of uncertainties
   in soil organic carbon (SOC) stock assessments at various scales. Eur. J. Soil Sci.
   60:723-739, doi:10.1111/j.1365-2389.2009.01157.x
.. [4] O'Neill M.E. (2014) PCG: A family of simple fast space-efficient statistically good
   algorithms for random number generation. Harvey Mudd College, HMC-CS-2014-0905.
"""

from __future__ import annotations

import importlib

# Each public name and the module that defines it; a module is imported when one of its
# names is first used (PEP 562), so a command without --uncertainty does not pay for them.
_SOURCES = {
    "draws": ("DrawStreams", "ipcc_approach1_product", "lognormal_draws", "lognormal_sigma"),
    "engine": ("QUANTILES", "STAT_SUFFIXES", "SimulationPlan", "Summary", "processing_order", "simulate"),
    "estimate": ("estimate_uncertainty",),
    "factors": ("FactorModel",),
    "layers": ("LayerErrors",),
    "measurement": ("ERRORS_FILE", "OVERRIDE_COLUMNS", "layer_errors", "measurement_error_table"),
    "options": ("DEFAULT_CONFIDENCE", "DEFAULT_DRAWS", "DEFAULT_SEED", "UncertaintyOptions"),
    "project": ("project_uncertainty",),
}
_MODULE_OF = {name: module for module, names in _SOURCES.items() for name in names}


def __getattr__(name: str):
    module = _MODULE_OF.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_MODULE_OF))


__all__ = [
    "QUANTILES", "STAT_SUFFIXES", "OVERRIDE_COLUMNS", "ERRORS_FILE", "DEFAULT_DRAWS", "DEFAULT_SEED",
    "DEFAULT_CONFIDENCE", "UncertaintyOptions", "DrawStreams", "FactorModel", "LayerErrors", "SimulationPlan",
    "Summary", "lognormal_sigma", "lognormal_draws", "ipcc_approach1_product", "measurement_error_table",
    "layer_errors", "estimate_uncertainty", "project_uncertainty", "simulate", "processing_order",
]
