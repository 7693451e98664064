"""Projections of SOC stocks under management practices, and the 4 per 1000 verdict.

- :mod:`fourp1000.projection.ipcc`: the IPCC Tier 1 tables (SOC_ref, F_LU, F_MG, F_I);
- :mod:`fourp1000.projection.tier1`: the Tier 1 projection (and meta-analysis rates);
- :mod:`fourp1000.projection.rothc`: RothC-26.3 projections from measured stocks, with
  :mod:`fourp1000.projection.rothc_inputs` (each plot's baseline cycle, equilibrium fit and
  practice inputs);
- :mod:`fourp1000.projection.models`: the registry of projection models (name, checks,
  projection, trajectory, method statement);
- :mod:`fourp1000.projection.checks`: every faulty plot found in one pass;
- :mod:`fourp1000.projection.table`: from a horizon table to projected plots and farms.
"""
