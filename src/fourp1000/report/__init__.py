"""A self-contained HTML report of a projection: farms, trajectories, rates, methods, provenance.

:func:`build_report` turns a :class:`fourp1000.projection.table.ProjectResult` (one or
several models: IPCC Tier 1, RothC-26.3) into one HTML page that opens offline: the CSS
is inline, figures are inline SVG drawn with matplotlib, text uses the reader's system
fonts, and nothing is fetched (no scripts, web fonts, stylesheets or links to other
sites). The page holds, per model,

* a summary: farms, plots, area, the share of plots, area and farms meeting 4 per 1000 (at
  the Monte Carlo confidence when there is one), the carbon stored [t C and t CO2e], and
  the plots whose baseline rests on an estimated bulk density or an extrapolated depth;
* the farm table (:func:`fourp1000.projection.tier1.aggregate_farms`), ranked by rate;
* one trajectory figure per farm: the farm stock year by year under the practices, the
  no-change baseline and the 4 per 1000 path, with a 95 % band when the result carries
  Monte Carlo percentiles;
* the distribution of plot rates [per mille yr-1] against the 4 per mille line;
* the plots that fall short, with the extra yearly gain they would need, and every plot;

then, in appendices written out in plain words, the methods and sources, and the input
files' names, sizes and SHA-256 checksums, the tool version, the settings (by flag) and
the time of generation.

The package is split by concern:

* :mod:`~fourp1000.report.numbers` - every number on the page, as data;
* :mod:`~fourp1000.report.figures` - matplotlib figures as inline SVG;
* :mod:`~fourp1000.report.page` - the Jinja2 template (``templates/report.html.j2``),
  rendered with autoescaping;
* :mod:`~fourp1000.report.wording` - plain words for the library's method lines and codes;
* :mod:`~fourp1000.report.provenance` - checksums, the settings and the time of
  generation (``SOURCE_DATE_EPOCH``).

The same result, options and time give the same bytes.
"""

from .figures import rate_histogram_svg, trajectory_svg
from .numbers import (
    ModelNumbers,
    RateHistogram,
    Summary,
    Trajectories,
    farm_table,
    farm_trajectories,
    measurement_flags,
    plot_trajectories,
    rate_edges,
    rate_histogram,
    report_numbers,
    summarise,
)
from .page import build_report
from .provenance import InputFile, report_time, settings

__all__ = ["InputFile", "ModelNumbers", "RateHistogram", "Summary", "Trajectories", "build_report", "farm_table",
           "farm_trajectories", "measurement_flags", "plot_trajectories", "rate_edges", "rate_histogram",
           "rate_histogram_svg", "report_numbers", "report_time", "settings", "summarise", "trajectory_svg"]
