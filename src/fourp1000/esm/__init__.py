"""Equivalent soil mass (ESM): SOC stocks over the same soil mass, and measured change.

Tillage, compaction and organic-matter gains change bulk density, so a fixed sampling depth
holds a different mass of soil at each sampling and fixed-depth stocks change even where
the carbon did not. ESM methods compare the SOC held in the same (mineral or total) soil
mass instead. There is one function per published method, on arrays of many cores at
once, and a DataFrame layer on the canonical horizon table:

- :func:`core_stocks`: per core and standard depth, the reference mass, the fixed-depth
  stock and the ESM stock (t C/ha), with a flag where the method extrapolated;
- :func:`compare_samplings`: pairs follow-up samplings with the baseline by plot and gives
  the change, its annual rate in per mille of the baseline stock, the 4 per 1000 verdict
  and a bootstrap over cores.

Units: soil and SOC masses in t/ha (1 g cm-2 = 100 t/ha), depths in cm, SOC in g/kg.
Bad input never raises here: it comes back as :class:`fourp1000.errors.Problem` records
beside the results, and the affected cores or plots are left out.

This module is the public entry point; the code lives in modules with one concern each,
which use each other through their public names:

- :mod:`fourp1000.esm.methods`: the published methods on padded per-core arrays
  (:func:`fixed_depth_stock`, :func:`esm_spline`, :func:`esm_linear`,
  :func:`esm_ellert_bettany`, :func:`esm_fowler`, :func:`esm_elementary_layers`);
- :mod:`fourp1000.esm.hyman`: R's ``spline(method = "hyman")``, row-wise (the interpolant
  of :func:`esm_spline`);
- :mod:`fourp1000.esm.profiles`: from the horizon table to per-core cumulative mass and
  SOC arrays, with the validation problems (:func:`build_profiles`, :class:`Profiles`);
- :mod:`fourp1000.esm.samplings`: plot and sampling codes, sampling times, each plot's
  baseline;
- :mod:`fourp1000.esm.cores`: reference masses and per-core stocks
  (:func:`core_stocks`, :class:`CoreStocks`);
- :mod:`fourp1000.esm.compare`: pairing samplings and per-plot change
  (:func:`compare_samplings`, :class:`Comparison`);
- :mod:`fourp1000.esm.bootstrap`: the bootstrap over cores of the change;
- :mod:`fourp1000.esm.campaigns`: the library of the ``compare`` command (loaded tables,
  rejected rows, farm totals);
- :mod:`fourp1000.esm.checks`: ``estimate``'s depth tolerance and plausibility checks on
  ``compare``'s inputs;
- :mod:`fourp1000.esm.knots`: row-wise helpers on the padded arrays, shared by the modules.
"""

from __future__ import annotations

from .compare import Comparison, compare_samplings
from .cores import METHODS, CoreStocks, core_stocks
from .methods import (
    esm_elementary_layers,
    esm_ellert_bettany,
    esm_fowler,
    esm_linear,
    esm_spline,
    fixed_depth_stock,
)
from .profiles import DEFAULT_SOM_FACTOR, MASS_BASES, Profiles, build_profiles

__all__ = [
    "DEFAULT_SOM_FACTOR",
    "METHODS",
    "MASS_BASES",
    "Profiles",
    "CoreStocks",
    "Comparison",
    "fixed_depth_stock",
    "esm_spline",
    "esm_linear",
    "esm_ellert_bettany",
    "esm_fowler",
    "esm_elementary_layers",
    "build_profiles",
    "core_stocks",
    "compare_samplings",
]
