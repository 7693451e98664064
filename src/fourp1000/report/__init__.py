"""A self-contained HTML report of a projection: farms, trajectories, rates, methods, provenance.

:func:`build_report` turns a :class:`fourp1000.projection.table.ProjectResult` (one or
several models: IPCC Tier 1, RothC-26.3) into one HTML page that opens offline: the CSS
is inline, figures are inline SVG drawn with matplotlib, text uses the reader's system
fonts, and nothing is fetched (no scripts, web fonts, stylesheets or links to other
sites). The page holds, per model,

* a summary: farms, plots, area and the share of plots, area and farms meeting 4 per 1000;
* the farm table (:func:`fourp1000.projection.tier1.aggregate_farms`), ranked by rate;
* one trajectory figure per farm: the farm stock year by year under the practices, the
  no-change baseline and the 4 per 1000 path, with a 95 % band when the result carries
  Monte Carlo percentiles;
* the distribution of plot rates [per mille yr-1] against the 4 per mille line;
* the plots that fall short, with the extra yearly gain they would need, and every plot;

then the methods and sources, and the input files' names, sizes and SHA-256 checksums,
the tool version, the options and the time of generation.

The package is split by concern:

* :mod:`~fourp1000.report.numbers` - every number on the page, as data;
* :mod:`~fourp1000.report.figures` - matplotlib figures as inline SVG;
* :mod:`~fourp1000.report.page` - the Jinja2 template (``templates/report.html.j2``),
  rendered with autoescaping;
* :mod:`~fourp1000.report.provenance` - checksums and the time of generation
  (``SOURCE_DATE_EPOCH``).

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
    plot_trajectories,
    rate_edges,
    rate_histogram,
    report_numbers,
    summarise,
)
from .page import build_report
from .provenance import InputFile, report_time

__all__ = ["InputFile", "ModelNumbers", "RateHistogram", "Summary", "Trajectories", "build_report", "farm_table",
           "farm_trajectories", "plot_trajectories", "rate_edges", "rate_histogram", "rate_histogram_svg",
           "report_numbers", "report_time", "summarise", "trajectory_svg"]
