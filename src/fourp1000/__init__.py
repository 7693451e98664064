"""fourp1000: soil organic carbon accounting against the "4 per 1000" target.

The library computes soil organic carbon (SOC) stocks from horizon data, projects them
under management practices (IPCC Tier 1 factors, RothC) and scores plots and farms
against a 4 per mille (0.4 %) yearly growth of the stock. The command-line interface in
:mod:`fourp1000.cli` is a thin layer over the same functions.

The functions here are the Python entry points, one per command; each takes a file path
or a pandas DataFrame (one row per layer, columns as in ``fourp1000 schema``) and keyword
options named as the command's flags, and returns the library's result object, whose
tables are DataFrames:

- :func:`read`: the canonical horizon table (units converted, every problem listed);
- :func:`estimate`: SOC stocks per plot over a standard depth (``fourp1000 estimate``);
- :func:`project`: projected stocks under practices and the 4 per 1000 verdict per plot
  (``fourp1000 project``);
- :func:`score`: the same, totalled per farm (``fourp1000 score``);
- :func:`compare`: measured change between samplings on an equivalent soil mass basis
  (``fourp1000 compare``).

The library never prints or exits: it raises :class:`FourP1000Error` subclasses. Modules
load on first use, so ``import fourp1000`` is cheap.

Examples
--------
>>> import pandas as pd
>>> import fourp1000
>>> layers = pd.DataFrame({"plot_id": ["A", "A"], "top_cm": [0, 15], "bottom_cm": [15, 30],
...                        "soc_g_kg": [14.5, 10.2], "bulk_density_g_cm3": [1.31, 1.44]})
>>> fourp1000.estimate(layers).plots[["plot_id", "soc_stock_t_ha"]]  # t C/ha over 0-30 cm
  plot_id  soc_stock_t_ha
0       A         50.5245
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from os import PathLike
from typing import TYPE_CHECKING, Union

from .errors import FourP1000Error, InputError, ReferenceDataError, UnitError, UnknownFactorError, ValidationError

if TYPE_CHECKING:
    import pandas as pd

    from .esm.campaigns import MonitoringResult
    from .io.horizons import HorizonTable
    from .projection.table import ProjectResult
    from .stocks.estimate import EstimateResult
    from .uncertainty import UncertaintyOptions

# The single source of the version (pyproject.toml reads it); a literal, so that
# `fourp1000 --version` does not pay for importlib.metadata.
__version__ = "0.1.0"

__all__ = [
    "__version__", "read", "estimate", "project", "score", "compare",
    "FourP1000Error", "InputError", "UnitError", "UnknownFactorError", "ValidationError", "ReferenceDataError",
]

#: What the functions accept as input: a file path (``"-"`` for stdin), a DataFrame, or
#: the table :func:`read` returns.
Source = Union[str, "PathLike[str]", "pd.DataFrame", "HorizonTable"]


def read(source: Source, *, layers_optional: bool = False, columns: Mapping | str | PathLike | None = None,
         som_factor: float | None = None, bd_basis: str = "fine_earth", sep: str | None = None,
         decimal: str | None = None, encoding: str | None = None, sheet: str | int | None = None,
         stdin=None, thousands: str | None = None, header_row: int | None = None) -> HorizonTable:
    """Read a horizon table into the canonical table: one unit per column, every problem listed.

    Parameters
    ----------
    source : path, "-", DataFrame or HorizonTable
        CSV (separator, decimal mark and encoding sniffed), Excel, Parquet or YAML file;
        ``"-"`` reads stdin; a DataFrame is taken as read from a file (records numbered
        from 1); a table from :func:`read` is returned unchanged.
    layers_optional : bool, default False
        Accept a plot table without depth and SOC columns (IPCC attributes only), as
        ``project`` and ``score`` do.
    columns : mapping or path, optional
        Your headers to ours, with units: ``{"Corg": {"column": "soc", "unit": "g/kg"}}``,
        an id from several columns (``{"plot_id": ["dataset_id", "observation_id"]}``),
        ``constants`` for every row and headers to ``ignore``; or a YAML file of that
        mapping (``--columns``; see :mod:`fourp1000.io.columns`).
    som_factor : float, optional
        SOM / SOC ratio where SOC is given only as ``som_pct`` [-]; default 1.724 (van
        Bemmelen).
    bd_basis : str, default "fine_earth"
        What ``bulk_density_g_cm3`` means where rows have no ``bd_basis`` column.
    sep, decimal, encoding, sheet
        CSV separator, decimal mark and encoding, Excel sheet (default: sniffed / first).
    thousands : str, optional
        Thousands separator of numbers written as text (default: judged per column).
    header_row : int, optional
        Row number of the header below a title block (1 = first; default: 1 for CSV,
        detected for Excel).
    stdin : binary file, optional
        Read instead of ``sys.stdin`` for ``"-"``.

    Returns
    -------
    fourp1000.io.horizons.HorizonTable
        ``frame`` (canonical columns), ``problems`` (one row per problem, by row and
        column), ``label``, ``raw`` (the table as read).

    Raises
    ------
    InputError
        The file cannot be read, or a problem concerns the whole table (a required column
        missing, an unknown unit). Row problems are returned in ``problems``.

    Examples
    --------
    >>> import pandas as pd
    >>> import fourp1000
    >>> table = fourp1000.read(pd.DataFrame({"plot_id": [1], "top_cm": [0], "bottom_cm": [30],
    ...                                      "soc_pct": [1.2], "bulk_density_g_cm3": [1.3]}))
    >>> table.frame.loc[0, "plot_id"], float(table.frame.loc[0, "soc_g_kg"])  # 1.2 % -> g/kg
    ('1', 12.0)
    """
    from .io.horizons import HorizonTable, load_column_map, normalise
    from .io.readers import read_frame, read_table
    from .io.schema import VAN_BEMMELEN

    if isinstance(source, HorizonTable):
        return source
    if isinstance(columns, (str, PathLike)):
        columns = load_column_map(str(columns))
    if not isinstance(source, (str, PathLike)) and (thousands is not None or header_row is not None):
        raise InputError("thousands and header_row apply to files, not to a DataFrame")
    if isinstance(source, (str, PathLike)):
        raw = read_table(source, sep=sep, decimal=decimal, encoding=encoding, sheet=sheet, stdin=stdin,
                         thousands=thousands, header_row=header_row)
    else:
        raw = read_frame(source)
    options = {"som_factor": som_factor or VAN_BEMMELEN, "bd_basis": bd_basis, "column_map": columns}
    if not layers_optional:
        return normalise(raw, **options)
    from .projection.table import load_plots_or_horizons

    return load_plots_or_horizons(raw, **options)


def estimate(source: Source, *, depth: str | float = 30, depth_method: str | None = None,
             spline_lambda: float | None = None, extrapolate: bool | None = None, bd_ptf: str | None = None,
             bd_basis: str = "fine_earth", som_factor: float | None = None, stone_density: float | None = None,
             on_error: str | None = None, columns: Mapping | str | PathLike | None = None,
             uncertainty: bool | UncertaintyOptions = False, draws: int | None = None, seed: int | None = None,
             confidence: float | None = None) -> EstimateResult:
    """SOC stocks per plot over a standard depth, and each plot's 4 per 1000 target (``fourp1000 estimate``).

    Parameters
    ----------
    source : path, DataFrame or HorizonTable
        The horizon table (see :func:`read`).
    depth : str or float, default 30
        Standard depth interval [cm]: ``30`` means 0-30; or ``"TOP-BOTTOM"``, e.g. ``"0-40"``.
    depth_method : {"proportional", "spline"}, optional
        How layers are cut to the interval: by overlap (default), or the mass-preserving
        spline of Bishop et al. (1999).
    spline_lambda : float, optional
        Smoothing parameter of the spline (default 0.1).
    extrapolate : bool, optional
        Extrapolate profiles shorter than the interval and fill gaps (flagged); default False.
    bd_ptf : str, optional
        Pedotransfer function for missing bulk density (default ``"auto"``).
    bd_basis : str, default "fine_earth"
        What ``bulk_density_g_cm3`` means where rows have no ``bd_basis`` column.
    som_factor : float, optional
        SOM / SOC ratio for ``som_pct`` input [-] (default 1.724, van Bemmelen).
    stone_density : float, optional
        Particle density of coarse fragments [g cm-3] (default 2.65).
    on_error : {"fail", "skip"}, optional
        ``"fail"`` (default): raise :class:`ValidationError` listing every problem;
        ``"skip"``: score the valid plots and return the others in ``rejects``.
    columns : mapping or path, optional
        Column map for reading (see :func:`read`).
    uncertainty : bool or UncertaintyOptions, default False
        Add Monte Carlo statistics (mean, median, 95 % interval) of every stock.
    draws, seed, confidence : optional
        Monte Carlo draws (default 1000), seed (0) and the probability required by the
        verdict at confidence (0.9), with ``uncertainty=True``.

    Returns
    -------
    fourp1000.stocks.estimate.EstimateResult
        ``plots`` (one row per plot: ``soc_stock_t_ha`` [t C ha-1], ``co2e_t_ha``,
        ``target_4p1000_t_ha_yr`` ...), ``farms`` (or None), ``problems``, ``rejects``,
        ``methods``.

    Raises
    ------
    ValidationError
        With ``on_error="fail"``, every problem of the input.

    Examples
    --------
    >>> import pandas as pd
    >>> import fourp1000
    >>> layers = pd.DataFrame({"plot_id": ["A", "A"], "top_cm": [0, 15], "bottom_cm": [15, 30],
    ...                        "soc_g_kg": [14.5, 10.2], "bulk_density_g_cm3": [1.31, 1.44]})
    >>> plots = fourp1000.estimate(layers, depth="0-15").plots
    >>> print(round(plots.loc[0, "soc_stock_t_ha"], 4))  # 14.5 g/kg x 1.31 g/cm3 x 15 cm / 10
    28.4925
    """
    from .stocks.estimate import estimate_stocks

    opts = _estimate_options(depth=depth, depth_method=depth_method, spline_lambda=spline_lambda,
                             extrapolate=extrapolate, bd_ptf=bd_ptf, som_factor=som_factor,
                             stone_density=stone_density, on_error=on_error)
    unc = _uncertainty_options(uncertainty, draws=draws, seed=seed, confidence=confidence)
    table = read(source, columns=columns, som_factor=som_factor, bd_basis=bd_basis)
    result = estimate_stocks(table, opts)
    if unc is None:
        return result
    from .uncertainty import estimate_uncertainty

    return estimate_uncertainty(table, result, opts, unc)


def project(source: Source, *, practices: Iterable[str] = (), years: int | None = None,
            ipcc_version: str | None = None, method: str | None = None, rate_years: float | None = None,
            model: str | Iterable[str] = "ipcc", climate: str | PathLike | pd.DataFrame | None = None,
            uncertainty: bool | UncertaintyOptions = False, draws: int | None = None, seed: int | None = None,
            confidence: float | None = None, columns: Mapping | str | PathLike | None = None,
            bd_basis: str = "fine_earth", sampling: str = "latest", **estimate_options) -> ProjectResult:
    """Project SOC stocks under practices and check 4 per 1000, per plot (``fourp1000 project``).

    The baseline is the measured 0-30 cm stock of a horizon table, or the IPCC default
    stock of a plot table (``climate_zone``, ``soil_class``, ``land_use``, ``tillage``,
    ``input_level``). IPCC Tier 1 changes the stock linearly over 20 years (IPCC 2019,
    Vol. 4 Ch. 2, Eq. 2.25); RothC-26.3 runs from the stock as equilibrium.

    Parameters
    ----------
    source : path, DataFrame or HorizonTable
        A horizon or plot table (see :func:`read`); practices per plot in a
        ``practices`` column (``;``-separated).
    practices : iterable of str
        Practices applied to every plot (see ``fourp1000 practices``).
    years : int, optional
        Projection horizon [yr] (default 20).
    ipcc_version : {"2019", "2006"}, optional
        IPCC tables: 2019 Refinement (default) or 2006 Guidelines.
    method : {"ipcc", "rates"}, optional
        IPCC Tier 1 stock change factors (default), or meta-analysis rates.
    rate_years : float, optional
        With ``method="rates"``: years the rates apply (default: the catalogue's).
    model : str or iterable of str, default "ipcc"
        ``"ipcc"``, ``"rothc"`` (needs ``climate``) or ``"ipcc,rothc"`` for both.
    climate : path or DataFrame, optional
        Monthly climate for RothC: ``climate_id`` (or ``plot_id``), ``month``,
        ``temperature_c``, ``rain_mm``, ``evaporation_mm`` or ``pet_mm``.
    uncertainty, draws, seed, confidence
        Monte Carlo statistics, as for :func:`estimate` (IPCC model only).
    sampling : str, default "latest"
        Which sampling of each plot gives its measured stock: ``"latest"``, ``"first"``,
        ``"all"`` (one row per plot and sampling) or a date (see
        :func:`fourp1000.projection.table.select_sampling`).
    columns, bd_basis
        As for :func:`read`.
    **estimate_options
        ``depth``, ``depth_method``, ``extrapolate``, ``bd_ptf``, ``som_factor``,
        ``on_error`` ... as for :func:`estimate`.

    Returns
    -------
    fourp1000.projection.table.ProjectResult
        ``plots`` (``baseline_stock_t_ha``, ``final_stock_t_ha``, ``annual_change_t_ha_yr``,
        ``rate_per_mille``, ``meets_4p1000`` ...), ``farms`` (or None), ``problems``,
        ``rejects``, ``methods``; ``trajectory()`` gives the yearly stocks.

    Examples
    --------
    >>> import pandas as pd
    >>> import fourp1000
    >>> plots = pd.DataFrame({"plot_id": ["P1"], "climate_zone": ["cool_temperate_moist"],
    ...                       "soil_class": ["hac"], "land_use": ["cropland"], "tillage": ["full"],
    ...                       "input_level": ["medium"]})
    >>> result = fourp1000.project(plots, practices=["no_till"])
    >>> row = result.plots.iloc[0]
    >>> bool(row["final_stock_t_ha"] > row["baseline_stock_t_ha"])
    True
    """
    from .projection.table import ProjectOptions, project_table

    estimate_opts = _estimate_options(**estimate_options)
    unc = _uncertainty_options(uncertainty, draws=draws, seed=seed, confidence=confidence)
    models = tuple(m.strip().lower() for m in (model.split(",") if isinstance(model, str) else model))
    if unc is not None and models != ("ipcc",):
        raise InputError("uncertainty applies to the ipcc model only")
    given = {"years": years, "ipcc_version": ipcc_version, "method": method, "rate_years": rate_years}
    if unc is not None and sampling == "all":
        raise InputError("uncertainty needs one sampling per plot: sampling 'latest', 'first' or a date")
    opts = ProjectOptions(practices=tuple(practices), models=models, climate=_climate(climate, models),
                          estimate=estimate_opts, sampling=sampling,
                          **{k: v for k, v in given.items() if v is not None})
    table = read(source, layers_optional=True, columns=columns, som_factor=estimate_options.get("som_factor"),
                 bd_basis=bd_basis)
    result = project_table(table, opts)
    if unc is None:
        return result
    from .uncertainty import project_uncertainty

    return project_uncertainty(result.used_table if result.used_table is not None else table, result, unc)


def score(source: Source, **options) -> ProjectResult:
    """Score farms against 4 per 1000: area-weighted totals per farm (``fourp1000 score``).

    Same input and options as :func:`project`; every plot needs ``area_ha`` (and
    ``farm_id`` to group plots).

    Returns
    -------
    fourp1000.projection.table.ProjectResult
        ``farms``: one row per farm (``area_ha``, ``baseline_stock_t_c``,
        ``final_stock_t_c``, ``annual_change_t_c_yr``, ``rate_per_mille``,
        ``meets_4p1000``, ``n_plots``); ``plots`` as from :func:`project`.

    Raises
    ------
    InputError
        A plot has no ``area_ha``.

    Examples
    --------
    >>> import pandas as pd
    >>> import fourp1000
    >>> plots = pd.DataFrame({"plot_id": ["P1", "P2"], "farm_id": "F1", "area_ha": [2.0, 3.0],
    ...                       "climate_zone": "cool_temperate_moist", "soil_class": "hac",
    ...                       "land_use": "cropland", "tillage": "full", "input_level": "medium"})
    >>> farms = fourp1000.score(plots, practices=["cover_crops"]).farms
    >>> farms[["farm_id", "area_ha", "n_plots"]]
      farm_id  area_ha  n_plots
    0      F1      5.0        2
    """
    result = project(source, **options)
    if result.farms is None:
        raise InputError("score needs area_ha for every plot (and farm_id to group plots); "
                         "project() gives per-plot results")
    return result


def compare(source: Source, baseline: Source | None = None, *, esm_method: str | None = None,
            depth: float | Iterable[float] = 30, mass_basis: str | None = None, som_factor: float | None = None,
            reference: str | None = None, extrapolate: bool | None = None, bootstrap: int | None = None,
            seed: int | None = None, confidence: float | None = None, on_error: str | None = None,
            columns: Mapping | str | PathLike | None = None, bd_ptf: str | None = None, bd_basis: str = "fine_earth",
            years: float | None = None) -> MonitoringResult:
    """Measured SOC change between samplings on an equivalent soil mass basis (``fourp1000 compare``).

    Either ``source`` holds several samplings per plot (``sampled_on``: a date or year;
    the earliest is the baseline), or ``source`` is the follow-up and ``baseline`` the
    baseline. Stocks are compared in the same soil mass (von Haden, Yang & DeLucia 2020),
    beside the fixed-depth stocks.

    Parameters
    ----------
    source, baseline : path, DataFrame or HorizonTable
        Horizon tables (see :func:`read`).
    esm_method : str, optional
        ``"spline"`` (default), ``"linear"``, ``"ellert_bettany"``, ``"fowler"``,
        ``"elementary_layers"`` or ``"fixed_depth"``.
    depth : float or iterable of float, default 30
        Standard depth(s) from the surface [cm].
    mass_basis : {"mineral", "total"}, optional
        Equivalent mineral soil mass (default) or total soil mass.
    som_factor : float, optional
        SOM = factor x SOC where ``som_pct`` is not given [-] (default 2.0, Pribyl 2010).
    reference : {"baseline_mean", "minimum"}, optional
        Reference masses: mean over the baseline cores (default) or the lightest core.
    extrapolate : bool, optional
        Extrapolate cores short of the reference mass (flagged); default True.
    bootstrap : int, optional
        Bootstrap resamples over cores (default 1000; 0: off).
    seed, confidence : optional
        Seed of the bootstrap (0) and level of the interval of the change (0.95).
    on_error : {"fail", "skip"}, optional
        As for :func:`estimate`.
    columns : mapping or path, optional
        Column map for reading (see :func:`read`).
    bd_ptf : str, optional
        Pedotransfer function for missing bulk density, as for :func:`estimate` (default
        ``"auto"``), or ``"none"``: measured bulk density only.
    bd_basis : str, default "fine_earth"
        What ``bulk_density_g_cm3`` means where rows have no ``bd_basis`` column.
    years : float, optional
        Years between baseline and follow-up when the samplings are not dated [yr].

    Returns
    -------
    fourp1000.esm.campaigns.MonitoringResult
        ``plots`` (``baseline_stock_t_ha``, ``esm_stock_t_ha``, ``esm_change_t_ha``,
        ``rate_per_mille``, ``meets_4p1000`` ...), ``cores``, ``farms``, ``problems``,
        ``rejects``.

    Examples
    --------
    >>> import pandas as pd
    >>> import fourp1000
    >>> samplings = pd.DataFrame({"plot_id": "P1", "sampled_on": ["2015", "2015", "2025", "2025"],
    ...                           "top_cm": [0, 15, 0, 15], "bottom_cm": [15, 30, 15, 30],
    ...                           "soc_g_kg": [15.0, 10.0, 16.0, 10.5],
    ...                           "bulk_density_g_cm3": [1.3, 1.4, 1.3, 1.4]})
    >>> plots = fourp1000.compare(samplings, bootstrap=0).plots
    >>> plots[["plot_id", "years"]]
      plot_id  years
    0      P1   10.0
    """
    from dataclasses import replace

    from .esm.campaigns import CompareOptions, compare_tables

    depths = (depth,) if isinstance(depth, (int, float)) else tuple(depth)
    given = {"method": esm_method, "mass_basis": mass_basis, "som_factor": som_factor, "reference": reference,
             "extrapolate": extrapolate, "n_bootstrap": bootstrap, "seed": seed, "confidence": confidence,
             "on_error": on_error, "bd_ptf": bd_ptf, "years": years}
    opts = replace(CompareOptions(depths_cm=tuple(sorted({float(d) for d in depths}))),
                   **{k: v for k, v in given.items() if v is not None})
    table = read(source, columns=columns, som_factor=opts.som_factor, bd_basis=bd_basis)
    base = None if baseline is None else read(baseline, columns=columns, som_factor=opts.som_factor,
                                              bd_basis=bd_basis)
    return compare_tables(table, base, opts)


def _estimate_options(depth: str | float = 30, **given):
    """The library's estimate options from the API's keywords (None: the library default)."""
    from dataclasses import replace

    from .stocks.estimate import EstimateOptions, parse_depth

    names = {"stone_density": "stone_density_g_cm3"}  # flag name -> option name
    top, bottom = parse_depth(depth)
    unknown = set(given) - {"depth_method", "spline_lambda", "extrapolate", "bd_ptf", "som_factor",
                            "stone_density", "on_error"}
    if unknown:
        raise TypeError(f"unexpected keyword argument(s): {', '.join(sorted(unknown))}")
    opts = replace(EstimateOptions(top_cm=top, bottom_cm=bottom),
                   **{names.get(k, k): v for k, v in given.items() if v is not None})
    opts.check()
    return opts


def _uncertainty_options(uncertainty, **given):
    """Monte Carlo options, or None without ``uncertainty`` (None values: the defaults)."""
    if uncertainty is False or uncertainty is None:
        return None
    from dataclasses import replace

    from .uncertainty import UncertaintyOptions

    base = uncertainty if isinstance(uncertainty, UncertaintyOptions) else UncertaintyOptions()
    opts = replace(base, **{k: v for k, v in given.items() if v is not None})
    opts.check()
    return opts


def _climate(climate, models: tuple[str, ...]):
    """The monthly climate table RothC needs, read from a path or a DataFrame."""
    if "rothc" not in models:
        return None
    if climate is None:
        raise InputError("the rothc model needs a monthly climate table: climate=PATH or DataFrame")
    from .io.climate import climate_from_frame, read_climate

    if isinstance(climate, (str, PathLike)):
        return read_climate(climate)
    return climate_from_frame(climate)
