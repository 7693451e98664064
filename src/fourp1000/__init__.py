"""fourp1000: soil organic carbon accounting against the "4 per 1000" target.

The library computes soil organic carbon (SOC) stocks from horizon data, projects them
under management practices (IPCC Tier 1 factors, RothC) and scores plots and farms
against a 4 per mille (0.4 %) yearly growth of the stock. The command-line interface in
:mod:`fourp1000.cli` is a thin layer over these modules.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("fourp1000")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0.0.0+unknown"

from .errors import FourP1000Error, InputError, UnitError, UnknownFactorError  # noqa: E402

__all__ = ["__version__", "FourP1000Error", "InputError", "UnitError", "UnknownFactorError"]
