"""Projections of SOC stocks under management practices, and the 4 per 1000 verdict.

- :mod:`fourp1000.projection.ipcc`: the IPCC Tier 1 tables (SOC_ref, F_LU, F_MG, F_I);
- :mod:`fourp1000.projection.tier1`: the Tier 1 projection (and meta-analysis rates);
- :mod:`fourp1000.projection.rothc`: RothC-26.3 projections from measured stocks;
- :mod:`fourp1000.projection.table`: from a horizon table to projected plots and farms.
"""
