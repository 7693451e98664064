"""Input and output at the edges: readers, the input schema, horizon normalisation,
climate tables, the official RothC file format, writers and templates.

Everything here turns files into canonical tables (one unit per column, fixed by its
name) or tables into files; no computation of stocks or projections.

- :mod:`fourp1000.io.readers`: CSV/Excel/Parquet/YAML/stdin to a raw table;
- :mod:`fourp1000.io.prefetch`: a large CSV input parsed by Arrow while the command starts;
- :mod:`fourp1000.io.schema`: the input columns, units, aliases and ranges;
- :mod:`fourp1000.io.horizons`: raw table to the canonical horizon table (``normalise``);
- :mod:`fourp1000.io.rejects`: rejected input rows with their row number and reason;
- :mod:`fourp1000.io.climate`: monthly climate tables for RothC;
- :mod:`fourp1000.io.rothc_files`: the official Rothamsted RothC input/output format;
- :mod:`fourp1000.io.writers`: output formats and atomic writes;
- :mod:`fourp1000.io.template`: starter input files.
"""
