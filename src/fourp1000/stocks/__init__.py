"""SOC stocks from horizon data: layer densities, bulk density, depth harmonisation, farms.

- :mod:`fourp1000.stocks.layers`: carbon density of a layer and its fine-earth bulk density
  on each basis (the equations every other module uses);
- :mod:`fourp1000.stocks.ptf`: bulk-density pedotransfer functions;
- :mod:`fourp1000.stocks.depth`: layers to a standard depth interval (proportional, gap fill,
  extrapolation);
- :mod:`fourp1000.stocks.spline`: the mass-preserving equal-area spline;
- :mod:`fourp1000.stocks.estimate`: the estimate pipeline from a canonical horizon table to
  per-plot stocks and the layers behind them;
- :mod:`fourp1000.stocks.farms`: the one area-weighted aggregation of plots into farms.

The layer equations are re-exported here (``from fourp1000.stocks import co2e``).
"""

from .layers import STONE_DENSITY_G_CM3, carbon_density, co2e, fine_earth_density, layer_stock, soil_mass

__all__ = ["STONE_DENSITY_G_CM3", "carbon_density", "co2e", "fine_earth_density", "layer_stock", "soil_mass"]
