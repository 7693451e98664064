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
:meth:`fourp1000.ipcc.FactorTable.standard_deviation` converts both. Practice rates (which
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
bounded); random numbers are addressed by draw and by table cell or layer position in a
counter-like stream (PCG64 ``advance``), so the results are identical for a given seed
whatever the chunk size. Stocks are linear in the layers' carbon densities, so measurement
errors are propagated as multiplicative perturbations of each layer's contribution to its
plot's stock.

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

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from importlib import resources

import numpy as np
import pandas as pd

from . import ipcc
from .depth import overlap_cm
from .errors import FourP1000Error, InputError, ReferenceDataError
from .pipeline import EstimateOptions, EstimateResult, bd_from_bd_only_rows, estimate_stocks, group_codes
from .practices import SEPARATOR, catalogue, multiplier_table
from .projection import MEASURED_STOCK_COLUMN, ProjectionInputs, linear_transition, prepare
from .ptf import estimate_bulk_density, ptf_table
from .stocks import STONE_DENSITY_G_CM3, fine_earth_density
from .targets import meets_target, rate_per_mille

#: Percentiles reported for every quantity, by column suffix: the median and a 95 % interval.
QUANTILES = {"median": 0.5, "p2_5": 0.025, "p97_5": 0.975}
#: Column suffixes, in output order.
STAT_SUFFIXES = ("mean",) + tuple(QUANTILES)
#: Per-layer columns that override the default relative errors [% of the value, 1 sd].
OVERRIDE_COLUMNS = {"soc": "soc_sd_pct", "bulk_density": "bulk_density_sd_pct",
                    "coarse_fragments": "coarse_fragments_sd_pct"}
ERRORS_FILE = "measurement_errors.csv"
DEFAULT_DRAWS = 1000
DEFAULT_SEED = 0
DEFAULT_CONFIDENCE = 0.9
# Numbers per chunk of draws x layers (or plots): large enough to amortise numpy's call
# overhead, small enough to stay in cache-friendly, page-fault-free arrays.
_CHUNK_ELEMENTS = 1 << 19
# Smallest uniform variate fed to the inverse normal CDF (random() can return exactly 0).
_U_MIN = 2.0 ** -54


@dataclass(frozen=True)
class UncertaintyOptions:
    """Options of the Monte Carlo layer (the CLI flags map one to one).

    Attributes
    ----------
    draws : int
        Number of Monte Carlo draws (``--draws``).
    seed : int
        Seed of the random streams (``--seed``); a fixed default makes runs reproducible.
    confidence : float
        Probability required by ``meets_4p1000_at_confidence`` (``--confidence``).
    measurement, factors : bool
        Draw measurement errors / coefficient errors (switch one off to see the other's share).
    chunk_draws : int, optional
        Draws per chunk; default from the number of layers. Results do not depend on it.
    memory_mib : float
        Working memory for the per-plot draws kept for percentiles [MiB]; sets how many
        plots are processed together.
    measurement_errors : pandas.DataFrame, optional
        Replaces the default error table (same columns as ``data/measurement_errors.csv``).
    """

    draws: int = DEFAULT_DRAWS
    seed: int = DEFAULT_SEED
    confidence: float = DEFAULT_CONFIDENCE
    measurement: bool = True
    factors: bool = True
    chunk_draws: int | None = None
    memory_mib: float = 256.0
    measurement_errors: pd.DataFrame | None = field(default=None, compare=False)

    def check(self) -> None:
        if int(self.draws) < 1:
            raise InputError(f"draws must be at least 1, got {self.draws}")
        if int(self.seed) < 0:
            raise InputError(f"seed must be a non-negative integer, got {self.seed}")
        if not 0.0 < float(self.confidence) < 1.0:
            raise InputError(f"confidence must be between 0 and 1 (exclusive), got {self.confidence}")
        if self.chunk_draws is not None and int(self.chunk_draws) < 1:
            raise InputError(f"chunk_draws must be at least 1, got {self.chunk_draws}")
        if not float(self.memory_mib) > 0:
            raise InputError(f"memory_mib must be positive, got {self.memory_mib}")


# --------------------------------------------------------------------------------------
# Distributions and published error-propagation formulas


def lognormal_sigma(cv: np.ndarray | float) -> np.ndarray:
    """Log-scale standard deviation of a lognormal with coefficient of variation ``cv``.

    sigma = sqrt(ln(1 + cv**2)); 0 for cv = 0.
    """
    return np.sqrt(np.log1p(np.square(np.asarray(cv, dtype=float))))


def lognormal_draws(mean: np.ndarray | float, sd: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    """Lognormal draws with a given mean and standard deviation from standard normal ``z``.

    Parameters
    ----------
    mean : array [any unit]
        Mean of the distribution (the tabled or measured value); must be > 0 where sd > 0.
    sd : array [same unit]
        Standard deviation (0 gives the mean exactly).
    z : array
        Standard normal draws; broadcasts against ``mean``.

    Returns
    -------
    numpy.ndarray
        ``mean * exp(sigma z - sigma**2 / 2)`` with ``sigma**2 = ln(1 + (sd/mean)**2)``:
        mean and standard deviation are those given, and every draw is positive.

    Notes
    -----
    Matching mean and standard deviation (rather than the 95 % interval) keeps the Monte
    Carlo mean of a product of independent factors equal to the product of the tabled
    values, the Tier 1 point estimate. The 95 % interval is then slightly asymmetric
    (wider above the mean), as for any positive quantity with a large relative error.

    Examples
    --------
    >>> float(lognormal_draws(2.0, 0.0, np.array(1.3)))
    2.0
    """
    mean = np.asarray(mean, dtype=float)
    sd = np.asarray(sd, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        cv = np.where(mean > 0, sd / mean, 0.0)
    sigma = lognormal_sigma(cv)
    return mean * np.exp(sigma * z - 0.5 * sigma * sigma)


def ipcc_approach1_product(*uncertainty_pct: float | np.ndarray) -> np.ndarray:
    """Combined uncertainty of a product, IPCC Approach 1 (2006 Vol. 1 Ch. 3, Eq. 3.1).

    Parameters
    ----------
    *uncertainty_pct : float or array [%]
        Uncertainty of each factor: half the 95 % confidence interval as a percentage of
        the factor's value.

    Returns
    -------
    numpy.ndarray [%]
        ``U_total = sqrt(U1**2 + U2**2 + ... + Un**2)``.

    Notes
    -----
    First-order error propagation for independent factors: exact only as the uncertainties
    go to zero. The Guidelines restrict Approach 1 to relatively small uncertainties (a
    standard deviation below about 30 % of the mean, as we recall the text; not checked
    against the document). The Monte Carlo of this module (Approach 2) needs no such limit
    and agrees with Eq. 3.1 for small uncertainties (see the tests).

    Examples
    --------
    >>> float(ipcc_approach1_product(3.0, 4.0))
    5.0
    """
    return np.sqrt(sum(np.square(np.asarray(u, dtype=float)) for u in uncertainty_pct))


# --------------------------------------------------------------------------------------
# Random streams


class DrawStreams:
    """Standard normal numbers addressed by (draw, position), independent of chunking.

    Two independent PCG64 streams are derived from the seed (``SeedSequence(seed).spawn``):
    one for coefficients (table cells), one for measurements (three numbers per layer).
    Number ``k`` of draw ``d`` in a stream of ``width`` numbers per draw sits at position
    ``d * width + k``; :meth:`normals` jumps there with ``PCG64.advance`` and turns uniforms
    into normals with the inverse normal CDF (one 64-bit output per number, so positions
    never shift). Any chunk of draws and any block of layers therefore gets exactly the
    numbers a single pass would.
    """

    FACTORS = 0
    MEASUREMENTS = 1

    def __init__(self, seed: int) -> None:
        children = np.random.SeedSequence(int(seed)).spawn(2)
        self._bit_generators = [np.random.PCG64(c) for c in children]
        self._states = [bg.state for bg in self._bit_generators]
        self._generators = [np.random.Generator(bg) for bg in self._bit_generators]

    def normals(self, stream: int, draw_start: int, draw_stop: int, width: int, start: int,
                count: int) -> np.ndarray:
        """Normals of draws ``[draw_start, draw_stop)`` at positions ``[start, start + count)``.

        Returns an array of shape ``(draw_stop - draw_start, count)``.
        """
        out = np.empty((draw_stop - draw_start, count))
        if count == 0:
            return out
        bg, gen, state = self._bit_generators[stream], self._generators[stream], self._states[stream]
        for i, draw in enumerate(range(draw_start, draw_stop)):  # a loop over draws, not plots
            bg.state = state
            bg.advance(draw * width + start)
            gen.random(out=out[i])
        np.maximum(out, _U_MIN, out=out)
        from scipy.special import ndtri  # imported here: scipy adds ~0.3 s to every CLI start

        return ndtri(out, out=out)


# --------------------------------------------------------------------------------------
# Coefficient draws


@dataclass(frozen=True)
class FactorModel:
    """The coefficient tables to draw: SOC_REF, management factors, practice factors, rates.

    A draw is one row of numbers per table cell, laid out
    ``[soc_ref | management | practice factors | rates]``; :meth:`draw` turns standard
    normals of that width into drawn tables (shape ``(n_draws, n_cells)`` each).
    """

    soc_ref: ipcc.FactorTable
    management: ipcc.FactorTable
    multiplier: ipcc.FactorTable
    rate_names: tuple[str, ...]
    rate_t_c_ha_yr: np.ndarray
    rate_sd_t_c_ha_yr: np.ndarray
    enabled: bool = True

    @classmethod
    def for_version(cls, ipcc_version: str, *, enabled: bool = True) -> FactorModel:
        """Tables of an IPCC version and the practice catalogue's rates."""
        names, mean, sd = [], [], []
        for p in catalogue().values():
            if p.rate:
                names.append(p.name)
                mean.append(float(p.rate["t_c_ha_yr"]))
                unc = p.rate.get("uncertainty_t_c_ha_yr")
                # A +/- without stated kind is read as one standard deviation (the wider reading).
                sd.append(float(unc) if unc is not None else 0.0)
        return cls(ipcc.soc_ref_table(ipcc_version), ipcc.management_table(ipcc_version), multiplier_table(),
                   tuple(names), np.asarray(mean, float), np.asarray(sd, float), enabled)

    @cached_property
    def _moments(self) -> list[tuple[np.ndarray, np.ndarray]]:
        """(value, standard deviation) of each coefficient table, computed once."""
        return [(t.value, t.standard_deviation()) for t in (self.soc_ref, self.management, self.multiplier)]

    @property
    def widths(self) -> tuple[int, int, int, int]:
        return len(self.soc_ref.frame), len(self.management.frame), len(self.multiplier.frame), len(self.rate_names)

    @property
    def n_cells(self) -> int:
        return sum(self.widths)

    def draw(self, z: np.ndarray | None, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Drawn (SOC_REF, management, practice factor, rate) tables for ``n`` draws.

        ``z`` holds standard normals of shape ``(n, n_cells)``; with coefficients switched
        off (or ``z`` None) every draw is the table itself.
        """
        tables = (self.soc_ref, self.management, self.multiplier)
        if not self.enabled or z is None:
            out = [np.broadcast_to(t.value, (n, len(t.frame))) for t in tables]
            return (*out, np.broadcast_to(self.rate_t_c_ha_yr, (n, len(self.rate_names))))
        bounds = np.cumsum((0,) + self.widths)
        out = [lognormal_draws(mean, sd, z[:, bounds[i]:bounds[i + 1]])
               for i, (mean, sd) in enumerate(self._moments)]
        rates = self.rate_t_c_ha_yr + self.rate_sd_t_c_ha_yr * z[:, bounds[3]:bounds[4]]
        return (*out, rates)

    def without_uncertainty(self) -> list[str]:
        """Catalogue rates with no published uncertainty (drawn as fixed)."""
        return [n for n, s in zip(self.rate_names, self.rate_sd_t_c_ha_yr) if not s > 0]


# --------------------------------------------------------------------------------------
# Measurement errors


@lru_cache(maxsize=1)
def measurement_error_table() -> pd.DataFrame:
    """Default measurement errors (``data/measurement_errors.csv``), one row per quantity
    and method: ``quantity``, ``method``, ``sd``, ``sd_unit`` (``pct`` of the value or
    ``g_cm3``), ``status``, ``source``, ``doi``, ``note``. Every bulk-density PTF of
    ``data/bd_ptf.csv`` has a row."""
    path = resources.files("fourp1000") / "data" / ERRORS_FILE
    try:
        with path.open("r", encoding="utf-8") as fh:
            table = pd.read_csv(fh)
    except (OSError, ValueError) as exc:
        raise ReferenceDataError(f"cannot read package data {ERRORS_FILE}: {exc}") from exc
    _check_error_table(table, ERRORS_FILE)
    return table


def _check_error_table(table: pd.DataFrame, label: str) -> None:
    need = {"quantity", "method", "sd", "sd_unit"}
    if not need <= set(table.columns):
        raise ReferenceDataError(f"{label} lacks columns {sorted(need - set(table.columns))}")
    keys = set(zip(table["quantity"], table["method"]))
    wanted = {("soc", "measured"), ("soc", "from_som"), ("bulk_density", "measured"),
              ("coarse_fragments", "measured")} | {("bulk_density", p) for p in ptf_table().index}
    if not wanted <= keys:
        raise ReferenceDataError(f"{label} has no row for {sorted(wanted - keys)}")
    if (pd.to_numeric(table["sd"], errors="coerce") < 0).any() or table["sd"].isna().any():
        raise ReferenceDataError(f"{label}: sd must be a non-negative number in every row")


def _default_error(table: pd.DataFrame, quantity: str, method: str) -> tuple[float, str]:
    row = table[(table["quantity"] == quantity) & (table["method"] == method)].iloc[0]
    return float(row["sd"]), str(row["sd_unit"])


@dataclass
class LayerErrors:
    """Layers behind measured stocks, their contributions and their relative errors.

    Stocks are linear in the layers' carbon densities: the stock of unit ``u`` (a record of
    ``estimate``, or a plot of ``project``) is ``sum(contribution_t_c_ha[unit == u])``, and a
    draw multiplies each contribution by the layer's drawn (SOC x fine-earth density) over
    its measured one.

    Attributes
    ----------
    unit : numpy.ndarray of int
        Unit (output row) each layer contributes to.
    contribution_t_c_ha : numpy.ndarray [t C ha-1]
        The layer's share of the unit's deterministic stock.
    soc_cv, bd_cv, cf_cv : numpy.ndarray [-]
        Relative standard deviations of SOC, bulk density and coarse fragments.
    bulk_density_g_cm3, coarse_fragments_pct, coarse_fragments_mass_pct : numpy.ndarray
        Values used by the deterministic run [g cm-3, % volume, % mass].
    basis : numpy.ndarray of object
        Bulk-density basis of each layer (see :func:`fourp1000.stocks.fine_earth_density`).
    stone_density_g_cm3 : float
    notes : list of str
        What was assumed, for the methods statement.
    """

    unit: np.ndarray
    contribution_t_c_ha: np.ndarray
    soc_cv: np.ndarray
    bd_cv: np.ndarray
    cf_cv: np.ndarray
    bulk_density_g_cm3: np.ndarray
    coarse_fragments_pct: np.ndarray
    coarse_fragments_mass_pct: np.ndarray
    basis: np.ndarray
    stone_density_g_cm3: float = STONE_DENSITY_G_CM3
    notes: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.unit.shape[0])

    def take(self, index: np.ndarray) -> LayerErrors:
        """The layers at ``index`` (same notes)."""
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        for name, value in values.items():
            if isinstance(value, np.ndarray):
                values[name] = value[index]
        return LayerErrors(**values)

    @cached_property
    def separable(self) -> bool:
        """True when every layer's fine-earth density is BD x (1 - volumetric CF): SOC and BD
        errors then act on the stock only through their product."""
        return bool(np.all(self.basis == "fine_earth") and np.all(np.isnan(self.coarse_fragments_mass_pct)))

    @cached_property
    def cf_layers(self) -> np.ndarray:
        """Positions of the layers whose coarse fragments carry an error (CF > 0, cv > 0)."""
        has_cf = (np.nan_to_num(self.coarse_fragments_pct) > 0) | (np.nan_to_num(self.coarse_fragments_mass_pct) > 0)
        return np.flatnonzero(has_cf & (self.cf_cv > 0))

    @cached_property
    def _sigmas(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return tuple(lognormal_sigma(cv) for cv in (self.soc_cv, self.bd_cv, self.cf_cv))

    def multipliers(self, z_soc: np.ndarray, z_bd: np.ndarray | None, z_cf: np.ndarray | None) -> np.ndarray:
        """Drawn / deterministic carbon density of each layer, shape ``(n_draws, n_layers)``.

        Parameters
        ----------
        z_soc : array (n_draws, n_layers)
            Standard normals for SOC; for a :attr:`separable` set, for SOC x BD together.
        z_bd : array (n_draws, n_layers) or None
            Standard normals for bulk density (not used when separable).
        z_cf : array (n_draws, len(cf_layers)) or None
            Standard normals for the coarse fragments of :attr:`cf_layers`.

        The arrays are overwritten (they are scratch space).

        Notes
        -----
        SOC, bulk density and coarse fragments are lognormal with mean the measured value;
        coarse fragments are capped at 100 %. When separable, the product of the SOC and BD
        draws is drawn at once: a product of independent mean-one lognormals with log-sds
        s1 and s2 is a mean-one lognormal with log-sd sqrt(s1**2 + s2**2).
        """
        s_soc, s_bd, s_cf = self._sigmas
        cols = self.cf_layers
        cf_vol, cf_mass = self.coarse_fragments_pct, self.coarse_fragments_mass_pct
        e_cf = None
        if cols.size:
            sc = s_cf[cols]
            e_cf = _lognormal_factor(z_cf, sc)
        if self.separable:
            m = _lognormal_factor(z_soc, np.sqrt(s_soc * s_soc + s_bd * s_bd))
            if e_cf is not None:
                cf0 = cf_vol[cols]
                # (100 - CF drawn) / (100 - CF): the fine-earth share of the volume, drawn over measured.
                with np.errstate(divide="ignore"):
                    inv = np.where(cf0 < 100.0, 1.0 / (100.0 - cf0), 0.0)
                e_cf *= cf0
                np.minimum(e_cf, 100.0, out=e_cf)
                np.subtract(100.0, e_cf, out=e_cf)
                e_cf *= inv
                if cols.size == m.shape[1]:
                    m *= e_cf
                else:
                    m[:, cols] *= e_cf
            return m
        factor_cf = np.ones_like(z_soc)
        if e_cf is not None:
            factor_cf[:, cols] = e_cf
        bd = self.bulk_density_g_cm3
        fed0 = fine_earth_density(bd, cf_vol, basis=self.basis, coarse_fragments_mass_pct=cf_mass,
                                  stone_density_g_cm3=self.stone_density_g_cm3)
        bd_draw = bd * _lognormal_factor(z_bd, s_bd)
        fed = fine_earth_density(bd_draw, np.minimum(cf_vol * factor_cf, 100.0), basis=self.basis,
                                 coarse_fragments_mass_pct=np.minimum(cf_mass * factor_cf, 100.0),
                                 stone_density_g_cm3=self.stone_density_g_cm3)
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = np.nan_to_num(fed / fed0, nan=0.0, posinf=0.0)
        return _lognormal_factor(z_soc, s_soc) * ratio


def _lognormal_factor(z: np.ndarray, sigma: np.ndarray) -> np.ndarray:
    """Mean-one lognormal factors exp(sigma z - sigma**2 / 2), computed in place in ``z``."""
    z *= sigma
    z -= 0.5 * sigma * sigma
    return np.exp(z, out=z)


def _override(frame: pd.DataFrame, column: str, rows: np.ndarray, label: str) -> np.ndarray:
    """Per-layer relative error [-] from an override column (NaN where not given)."""
    if column not in frame.columns:
        return np.full(rows.size, np.nan)
    values = pd.to_numeric(frame[column].iloc[rows], errors="coerce").to_numpy(dtype=float)
    raw = frame[column].iloc[rows]
    bad = (values < 0) | (np.isnan(values) & raw.notna().to_numpy() & (raw.astype("string").str.strip() != ""))
    if bad.any():
        first = np.flatnonzero(bad)[0]
        where = f" in row {int(frame['source_row'].iloc[rows[first]])}" if "source_row" in frame else ""
        raise InputError(f"{label}: {column} must be a non-negative number (% of the value, one standard "
                         f"deviation){where}, got {str(raw.iloc[first])!r}")
    return values / 100.0


def layer_errors(table, result: EstimateResult, options: EstimateOptions | None = None,
                 errors: pd.DataFrame | None = None) -> LayerErrors:
    """The layers behind each record of an ``estimate`` result, with their errors.

    Parameters
    ----------
    table : fourp1000.horizons.HorizonTable
        The table ``result`` was computed from.
    result : fourp1000.pipeline.EstimateResult
        Deterministic stocks (records in ``result.plots``).
    options : EstimateOptions
        The options of that run.
    errors : pandas.DataFrame, optional
        Error table; default :func:`measurement_error_table`.

    Returns
    -------
    LayerErrors
        ``unit`` is the row of ``result.plots``.

    Notes
    -----
    The layers, their bulk densities (measured, from bulk-density-only rows, or predicted
    with the same PTF) and their fine-earth densities are rebuilt as the pipeline builds
    them; each layer contributes carbon density x its overlap with the depth interval. With
    the proportional depth method this reproduces the pipeline's stock exactly. The spline
    (a linear smoother with other weights), gap filling and the exponential extension below
    the deepest layer are not reproduced layer by layer: the contributions of such records
    are rescaled to the pipeline's stock, i.e. their errors are propagated with the
    proportional weights (noted in ``notes``). The dependence of a PTF's prediction on the
    drawn SOC is ignored (second order beside the PTF's own error).
    """
    opts = options or EstimateOptions()
    errors = measurement_error_table() if errors is None else errors
    _check_error_table(errors, "measurement error table")
    frame = table.frame
    n = len(frame)
    plots = result.plots
    codes, keys = group_codes(frame)
    record_of_group = _match_records(keys, plots)
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    bd = frame["bulk_density_g_cm3"].to_numpy(dtype=float).copy()
    error_rows = np.zeros(n, dtype=bool)
    if len(result.problems):
        errs = result.problems[result.problems["severity"] == "error"]
        pos = pd.to_numeric(errs["position"], errors="coerce").dropna().to_numpy(dtype=np.int64)
        error_rows[pos[(pos >= 0) & (pos < n)]] = True
    usable = ~error_rows & frame["plot_id"].notna().to_numpy() & ~np.isnan(top) & ~np.isnan(bottom)
    has_soc = usable & ~np.isnan(soc)
    in_interval = has_soc & (overlap_cm(top, bottom, opts.top_cm, opts.bottom_cm) > 0)
    scored = record_of_group[codes] >= 0
    bd_from_rows = bd_from_bd_only_rows(codes, top, bottom, bd, usable & np.isnan(soc), has_soc & np.isnan(bd))
    took = ~np.isnan(bd_from_rows)
    bd[took] = bd_from_rows[took]
    ptf_name = np.full(n, "", dtype=object)
    need_ptf = in_interval & scored & np.isnan(bd)
    if need_ptf.any():
        idx = np.flatnonzero(need_ptf)
        est = estimate_bulk_density(
            soc[idx], method=opts.bd_ptf, sand_pct=frame["sand_pct"].to_numpy(dtype=float)[idx],
            clay_pct=frame["clay_pct"].to_numpy(dtype=float)[idx], top_cm=top[idx],
            land_use=frame["land_use"].iloc[idx].to_numpy() if "land_use" in frame else None,
            som_factor=opts.som_factor)
        bd[idx] = est.bulk_density_g_cm3
        ptf_name[idx] = est.ptf
    rows = np.flatnonzero(in_interval & scored & ~np.isnan(bd))
    unit = record_of_group[codes[rows]]
    cf = frame["coarse_fragments_pct"].to_numpy(dtype=float)[rows]
    cf_mass = (frame["coarse_fragments_mass_pct"].to_numpy(dtype=float)[rows] if "coarse_fragments_mass_pct" in frame
               else np.full(rows.size, np.nan))
    basis = frame["bd_basis"].to_numpy(dtype=object)[rows]
    fed = fine_earth_density(bd[rows], cf, basis=basis, coarse_fragments_mass_pct=cf_mass,
                             stone_density_g_cm3=opts.stone_density_g_cm3)
    contribution = soc[rows] * np.nan_to_num(fed) / 10.0 * overlap_cm(top[rows], bottom[rows], opts.top_cm,
                                                                       opts.bottom_cm)
    notes: list[str] = []
    contribution = _rescale(unit, contribution, plots["soc_stock_t_ha"].to_numpy(dtype=float), notes,
                            exact=opts.depth_method == "proportional" and not opts.extrapolate, what="records")

    # Relative errors: the override columns, else the defaults by kind of value.
    label = getattr(table, "label", "input")
    soc_cv = _override(frame, OVERRIDE_COLUMNS["soc"], rows, label)
    bd_cv = _override(frame, OVERRIDE_COLUMNS["bulk_density"], rows, label)
    cf_cv = _override(frame, OVERRIDE_COLUMNS["coarse_fragments"], rows, label)
    from_som = (frame["soc_from"].to_numpy(dtype=object)[rows] == "som_pct") if "soc_from" in frame else \
        np.zeros(rows.size, dtype=bool)
    soc_cv = np.where(np.isnan(soc_cv), np.where(from_som, _pct(errors, "soc", "from_som"),
                                                 _pct(errors, "soc", "measured")), soc_cv)
    ptf_rows = ptf_name[rows].astype(str)
    predicted = ptf_rows != ""
    bd_cv = np.where(np.isnan(bd_cv), _pct(errors, "bulk_density", "measured"), bd_cv)
    for name in np.unique(ptf_rows[predicted]):
        sd, sd_unit = _default_error(errors, "bulk_density", name)
        sel = ptf_rows == name
        # A PTF's RMSE is absolute [g cm-3]; it replaces any measured-BD error given for the row.
        bd_cv[sel] = sd / bd[rows][sel] if sd_unit == "g_cm3" else sd / 100.0
    cf_cv = np.where(np.isnan(cf_cv), _pct(errors, "coarse_fragments", "measured"), cf_cv)
    if predicted.any():
        notes.append(f"{int(predicted.sum())} layers with PTF bulk density drawn with the PTF's error "
                     f"({', '.join(sorted(set(ptf_rows[predicted])))})")
    return LayerErrors(unit, contribution, soc_cv, bd_cv, cf_cv, bd[rows], cf, cf_mass, basis,
                       opts.stone_density_g_cm3, notes)


def _pct(errors: pd.DataFrame, quantity: str, method: str) -> float:
    sd, sd_unit = _default_error(errors, quantity, method)
    if sd_unit != "pct":
        raise ReferenceDataError(f"measurement error of {quantity} ({method}) must be in pct, got {sd_unit!r}")
    return sd / 100.0


def _match_records(keys: pd.DataFrame, plots: pd.DataFrame) -> np.ndarray:
    """Row of ``plots`` for each record key of :func:`fourp1000.pipeline.group_codes` (-1 if absent)."""
    cols = list(keys.columns)
    if plots.empty:
        return np.full(len(keys), -1)
    left = pd.MultiIndex.from_frame(keys[cols].astype("string").fillna(""))
    right = pd.MultiIndex.from_frame(plots[cols].astype("string").fillna(""))
    return right.get_indexer(left)


def _rescale(unit: np.ndarray, contribution: np.ndarray, target: np.ndarray, notes: list[str], *, exact: bool,
             what: str) -> np.ndarray:
    """Scale each unit's contributions so they add up to its deterministic stock."""
    total = np.bincount(unit, weights=contribution, minlength=target.shape[0])
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(total > 0, target / total, 1.0)
    off = np.abs(scale - 1.0) > 1e-9
    if off.any():
        worst = float(np.nanmax(np.abs(scale[off] - 1.0)))
        if exact:
            notes.append(f"layer contributions of {int(off.sum())} {what} differed from the pipeline's stock by up to "
                         f"{worst:.2%} and were rescaled to it")
        else:
            notes.append(f"measurement errors of {int(off.sum())} {what} (spline, gap filling or extrapolation) "
                         "propagated with proportional layer weights, rescaled to the pipeline's stock")
    return contribution * np.nan_to_num(scale[unit], nan=1.0)


# --------------------------------------------------------------------------------------
# The chunked engine


@dataclass
class SimulationPlan:
    """What to simulate: units, their farms, the quantities and how to evaluate a block
    (the input of :func:`simulate`, so other commands can reuse the engine).

    ``make_block(units, start)`` gets the unit indices of a block (a slice of the
    processing order starting at position ``start``) and returns
    ``evaluate(draw_start, draw_stop) -> {quantity: array (n_draws, n_units)}``.
    """

    n_units: int
    unit_quantities: tuple[str, ...]
    make_block: Callable[[np.ndarray, int], Callable[[int, int], dict[str, np.ndarray]]]
    rate: str | None = None
    farm_code: np.ndarray | None = None
    n_farms: int = 0
    farm_weight: np.ndarray | None = None
    farm_sums: tuple[tuple[str, str], ...] = ()
    farm_derived: Callable[[dict[str, np.ndarray], np.ndarray], dict[str, np.ndarray]] | None = None
    farm_quantities: tuple[str, ...] = ()


@dataclass
class Summary:
    """Per-unit and per-farm statistics: ``{column name: array}`` in output order."""

    units: dict[str, np.ndarray]
    farms: dict[str, np.ndarray]


def processing_order(n_units: int, farm_code: np.ndarray | None) -> np.ndarray:
    """Units sorted by farm (units without a farm, code -1, first; stable otherwise)."""
    if farm_code is None:
        return np.arange(n_units)
    return np.argsort(farm_code, kind="stable")


def _stats(buffer: np.ndarray, prefix: str, out: dict[str, np.ndarray], where: np.ndarray, n: int) -> None:
    """Mean and percentiles of each row of ``buffer`` (units x draws) into ``out``.

    The buffer is sorted in place. Percentiles interpolate linearly between order
    statistics (Hyndman & Fan type 7, numpy's default): position q (n_draws - 1).
    """
    names = [f"{prefix}_{s}" for s in STAT_SUFFIXES]
    for name in names:
        out.setdefault(name, np.full(n, np.nan))
    if buffer.shape[0] == 0:
        return
    # Rows are contiguous: the sum over a row is the same whatever the number of rows.
    out[names[0]][where] = buffer.mean(axis=1)
    buffer.sort(axis=1)  # NaN sorts last
    nan_rows = np.isnan(buffer[:, -1])
    last = buffer.shape[1] - 1
    for name, q in zip(names[1:], QUANTILES.values()):
        pos = q * last
        lo = int(np.floor(pos))
        hi = min(lo + 1, last)
        frac = pos - lo
        a, b = buffer[:, lo], buffer[:, hi]
        values = a + (b - a) * frac
        out[name][where] = np.where(nan_rows, np.nan, values)


def _verdicts(rate: np.ndarray, out: dict[str, np.ndarray], where: np.ndarray, n: int, confidence: float) -> None:
    out.setdefault("p_meets_4p1000", np.full(n, np.nan))
    out.setdefault("meets_4p1000_at_confidence", np.zeros(n, dtype=bool))
    if rate.shape[0] == 0:
        return
    p = meets_target(rate).mean(axis=1)
    out["p_meets_4p1000"][where] = p
    out["meets_4p1000_at_confidence"][where] = p >= confidence


def simulate(plan: SimulationPlan, opts: UncertaintyOptions, *, layers_per_unit: np.ndarray | None = None) -> Summary:
    """Run the Monte Carlo of ``plan`` in blocks of units and chunks of draws.

    Per-unit draws are kept for one block at a time (units x draws, for the percentiles);
    farm sums are accumulated per draw over the farm's units, carried over when a farm
    spans two blocks, and summarised when the farm is complete.
    """
    n_draws = int(opts.draws)
    n = plan.n_units
    order = processing_order(n, plan.farm_code)
    n_q = len(plan.unit_quantities) + len(plan.farm_quantities) + 1
    block_size = max(1, int(opts.memory_mib * 2 ** 20 // (8 * n_draws * n_q)))
    units: dict[str, np.ndarray] = {}
    farms: dict[str, np.ndarray] = {}
    carry: dict[str, np.ndarray] | None = None
    carry_farm = -1
    for b0 in range(0, n, block_size):
        b1 = min(n, b0 + block_size)
        block = order[b0:b1]
        nb = block.size
        evaluate = plan.make_block(block, b0)
        width = 1 if layers_per_unit is None else max(1, int(layers_per_unit[block].sum()))
        chunk = int(opts.chunk_draws) if opts.chunk_draws else max(1, _CHUNK_ELEMENTS // max(width, nb))
        buffers = {q: np.empty((nb, n_draws)) for q in plan.unit_quantities}
        farm_cols = farm_starts = farm_ids = None
        farm_buffers: dict[str, np.ndarray] = {}
        if plan.farm_code is not None:
            codes = plan.farm_code[block]
            farm_cols = np.flatnonzero(codes >= 0)
            if farm_cols.size:
                fc = codes[farm_cols]
                farm_starts = np.flatnonzero(np.r_[True, fc[1:] != fc[:-1]])
                farm_ids = fc[farm_starts]
                weights = plan.farm_weight[block][farm_cols]
                if farm_cols.size == nb:
                    farm_cols = slice(None)  # every unit has a farm: no gather needed
                farm_buffers = {fq: np.empty((farm_ids.size, n_draws)) for fq, _ in plan.farm_sums}
        for d0 in range(0, n_draws, chunk):
            d1 = min(n_draws, d0 + chunk)
            values = evaluate(d0, d1)
            for q in plan.unit_quantities:
                buffers[q][:, d0:d1] = values[q].T
            if farm_buffers:
                for fq, uq in plan.farm_sums:
                    weighted = values[uq][:, farm_cols] * weights
                    farm_buffers[fq][:, d0:d1] = np.add.reduceat(weighted, farm_starts, axis=1).T
        for q in plan.unit_quantities:
            _stats(buffers[q], q, units, block, n)  # sorts each row in place; counts below are unaffected
        if plan.rate is not None:
            _verdicts(buffers[plan.rate], units, block, n, opts.confidence)
        del buffers
        if not farm_buffers:
            continue
        if carry is not None and farm_ids[0] == carry_farm:
            for fq in farm_buffers:
                farm_buffers[fq][0] += carry[fq]
        carry = None
        done = np.ones(farm_ids.size, dtype=bool)
        if b1 < n and plan.farm_code[order[b1]] == farm_ids[-1]:
            carry = {fq: buf[-1].copy() for fq, buf in farm_buffers.items()}
            carry_farm = int(farm_ids[-1])
            done[-1] = False
        _finish_farms(plan, {fq: buf[done] for fq, buf in farm_buffers.items()}, farm_ids[done], farms, opts)
    return Summary(units, farms)


def _finish_farms(plan: SimulationPlan, sums: dict[str, np.ndarray], ids: np.ndarray, farms: dict[str, np.ndarray],
                  opts: UncertaintyOptions) -> None:
    values = dict(sums)
    if plan.farm_derived is not None:
        values.update(plan.farm_derived(sums, ids))
    for fq in plan.farm_quantities:
        _stats(values[fq], fq, farms, ids, plan.n_farms)
    if plan.rate is not None and plan.rate in values:
        _verdicts(values[plan.rate], farms, ids, plan.n_farms, opts.confidence)


def _layer_block(layers: LayerErrors | None, rank_sorted: np.ndarray | None, block_start: int, block_stop: int,
                 streams: DrawStreams, n_layers_total: int, measurement: bool
                 ) -> Callable[[int, int], tuple[np.ndarray, np.ndarray]] | None:
    """Stocks of a block's units from its layers: ``f(d0, d1) -> (columns, stocks)``.

    ``layers`` are in canonical order (sorted by the processing rank of their unit), so the
    block's layers are one contiguous range. The measurement stream holds three planes of
    ``n_layers_total`` numbers per draw (SOC or SOC x BD, BD, coarse fragments); a block
    reads its range of each plane it needs.
    """
    if layers is None or len(layers) == 0:
        return None
    l0 = int(np.searchsorted(rank_sorted, block_start, side="left"))
    l1 = int(np.searchsorted(rank_sorted, block_stop, side="left"))
    if l1 == l0:
        return None
    part = layers.take(np.arange(l0, l1))
    col = rank_sorted[l0:l1] - block_start
    starts = np.flatnonzero(np.r_[True, col[1:] != col[:-1]])
    columns = col[starts]
    contribution = part.contribution_t_c_ha
    separable = layers.separable  # one choice for the whole set, not per block
    cf_cols = part.cf_layers
    nl, width = l1 - l0, 3 * n_layers_total

    def stocks(d0: int, d1: int) -> tuple[np.ndarray, np.ndarray]:
        if not measurement:
            drawn = np.broadcast_to(contribution, (d1 - d0, nl))
        else:
            z_soc = streams.normals(DrawStreams.MEASUREMENTS, d0, d1, width, l0, nl)
            z_bd = None if separable else streams.normals(DrawStreams.MEASUREMENTS, d0, d1, width,
                                                          n_layers_total + l0, nl)
            z_cf = None
            if cf_cols.size:
                z_cf = streams.normals(DrawStreams.MEASUREMENTS, d0, d1, width, 2 * n_layers_total + l0, nl)
                if cf_cols.size < nl:
                    z_cf = z_cf[:, cf_cols]
            drawn = part.multipliers(z_soc, z_bd, z_cf)
            drawn *= contribution
        return columns, np.add.reduceat(drawn, starts, axis=1)

    return stocks


def _canonical_layers(layers: LayerErrors | None, order: np.ndarray) -> tuple[LayerErrors | None, np.ndarray | None]:
    """Layers sorted by the processing rank of their unit, and those ranks."""
    if layers is None or len(layers) == 0:
        return None, None
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    layer_rank = rank[layers.unit]
    perm = np.argsort(layer_rank, kind="stable")
    return layers.take(perm), layer_rank[perm]


# --------------------------------------------------------------------------------------
# estimate


def estimate_uncertainty(table, result: EstimateResult, options: EstimateOptions | None = None,
                         uncertainty: UncertaintyOptions | None = None) -> EstimateResult:
    """Add Monte Carlo statistics of the SOC stocks to an ``estimate`` result.

    Parameters
    ----------
    table : fourp1000.horizons.HorizonTable
        The input of ``result``.
    result : fourp1000.pipeline.EstimateResult
        From :func:`fourp1000.pipeline.estimate_stocks` with ``options``.
    options : EstimateOptions
    uncertainty : UncertaintyOptions

    Returns
    -------
    EstimateResult
        ``plots`` with ``soc_stock_t_ha_{mean,median,p2_5,p97_5}`` [t C ha-1]; ``farms``
        with ``soc_stock_t_c_*`` [t C] and ``soc_stock_t_ha_*`` [t C ha-1]; a methods line.

    Notes
    -----
    Only measurement errors enter a stock estimate (no coefficient is involved). Farm
    totals average replicate cores per plot, as :func:`fourp1000.pipeline.farm_summary`.
    """
    unc = uncertainty or UncertaintyOptions()
    unc.check()
    opts = options or EstimateOptions()
    plots = result.plots
    layers = layer_errors(table, result, opts, unc.measurement_errors)
    farm_code, farm_weight, farm_area, farm_rows = _estimate_farms(plots, result.farms)
    order = processing_order(len(plots), farm_code)
    canon, rank_sorted = _canonical_layers(layers, order)
    streams = DrawStreams(unc.seed)
    n_total = len(layers)

    def make_block(block: np.ndarray, start: int) -> Callable[[int, int], dict[str, np.ndarray]]:
        part = _layer_block(canon, rank_sorted, start, start + block.size, streams, n_total, unc.measurement)

        def evaluate(d0: int, d1: int) -> dict[str, np.ndarray]:
            stock = np.zeros((d1 - d0, block.size))
            if part is not None:
                cols, values = part(d0, d1)
                stock[:, cols] = values
            return {"soc_stock_t_ha": stock}

        return evaluate

    def derived(sums: dict[str, np.ndarray], ids: np.ndarray) -> dict[str, np.ndarray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            area = farm_area[ids][:, None]
            return {"soc_stock_t_ha": np.where(area > 0, sums["soc_stock_t_c"] / area, np.nan)}

    plan = SimulationPlan(len(plots), ("soc_stock_t_ha",), make_block, None, farm_code,
                 0 if farm_area is None else farm_area.size, farm_weight,
                 (("soc_stock_t_c", "soc_stock_t_ha"),), derived, ("soc_stock_t_c", "soc_stock_t_ha"))
    counts = np.bincount(layers.unit, minlength=len(plots)) if len(layers) else np.zeros(len(plots), int)
    summary = simulate(plan, unc, layers_per_unit=counts)
    new_plots = _append(plots, summary.units)
    new_farms = result.farms
    if result.farms is not None and farm_rows is not None:
        new_farms = _append(result.farms, {k: v[farm_rows] for k, v in summary.farms.items()})
    methods = list(result.methods) + [_method_line(unc, layers.notes, None)]
    return dataclasses.replace(result, plots=new_plots, farms=new_farms, methods=methods)


def _estimate_farms(plots: pd.DataFrame, farms: pd.DataFrame | None):
    """Farm group of each record and its weight in the farm total (area / cores), as
    :func:`fourp1000.pipeline.farm_summary` groups them."""
    if farms is None or "farm_id" not in plots or "area_ha" not in plots or plots.empty:
        return None, None, None, None
    date = ["sampled_on"] if "sampled_on" in plots else []
    keys = plots[["farm_id", "plot_id"] + date].astype("string").fillna("\x00")
    group = keys.groupby(list(keys.columns), sort=False).ngroup().to_numpy()
    cores = np.bincount(group)[group]
    area = pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float)
    first_area = pd.Series(area).groupby(group).first().to_numpy()[group]
    has_area = np.isfinite(first_area) & (first_area > 0)
    weight = np.where(has_area, first_area / cores, 0.0)
    fkeys = keys[["farm_id"] + date]
    farm_code = fkeys.groupby(list(fkeys.columns), sort=False).ngroup().to_numpy()
    table_keys = farms[["farm_id"] + date].astype("string").fillna("\x00")
    uniq = fkeys.drop_duplicates().reset_index(drop=True)
    rows = pd.MultiIndex.from_frame(uniq).get_indexer(pd.MultiIndex.from_frame(table_keys))
    area_of_farm = np.zeros(len(uniq))
    area_of_farm[rows[rows >= 0]] = farms["area_ha"].to_numpy(dtype=float)[rows >= 0]
    return farm_code, weight, area_of_farm, rows


# --------------------------------------------------------------------------------------
# project / score


def project_uncertainty(table, result, uncertainty: UncertaintyOptions | None = None):
    """Add Monte Carlo statistics to a ``project``/``score`` result.

    Parameters
    ----------
    table : fourp1000.horizons.HorizonTable
        The input of ``result``.
    result : fourp1000.scoring.ProjectResult
        From :func:`fourp1000.scoring.project_table`.
    uncertainty : UncertaintyOptions

    Returns
    -------
    fourp1000.scoring.ProjectResult
        ``plots`` with ``{baseline_stock_t_ha, final_stock_t_ha, annual_change_t_ha_yr,
        rate_per_mille}_{mean,median,p2_5,p97_5}``, ``p_meets_4p1000`` and
        ``meets_4p1000_at_confidence``; ``farms`` with ``{baseline_stock_t_c,
        final_stock_t_c, annual_change_t_c_yr, rate_per_mille}_*`` and the same verdicts;
        a methods line.

    Notes
    -----
    Each draw recomputes the Tier 1 projection with drawn tables through the hooks of
    :class:`fourp1000.projection.ProjectionInputs` (every table cell drawn once and shared
    by the plots that use it) and, for plots with layers, a drawn measured baseline stock
    (mean of the cores of the latest sampling, as :mod:`fourp1000.scoring`). The farm rate
    is the farm's annual change over its baseline stock, both summed over plots in the
    same draw.

    With several projection models (a ``model`` column), only the IPCC Tier 1 rows get
    statistics; the other rows are left empty (NaN / NA).

    Raises
    ------
    FourP1000Error
        If the rebuilt projection inputs do not reproduce the deterministic result (a bug).
    """
    unc = uncertainty or UncertaintyOptions()
    unc.check()
    popts = result.options
    plot_rows = _ipcc_rows(result.plots)
    plots = result.plots.iloc[plot_rows].reset_index(drop=True)
    farms = None
    farm_rows = None
    if result.farms is not None:
        farm_rows = _ipcc_rows(result.farms)
        farms = result.farms.iloc[farm_rows].reset_index(drop=True)
    n = len(plots)
    if n == 0:
        return result
    measured_plot = (plots["baseline_source"] == "measured").to_numpy()
    inputs = _projection_inputs(table, plots, popts)
    factors = FactorModel.for_version(inputs.ipcc_version, enabled=unc.factors)
    layers, notes = _plot_layers(table, plots, popts, measured_plot, unc)
    years = plots["years"].to_numpy(dtype=float)
    duration = plots["transition_years"].to_numpy(dtype=float)
    incidence = _rate_incidence(inputs.change.practices, factors.rate_names)
    _check_reproduces(inputs, plots, factors, incidence, years, duration, popts.method)

    farm_code = farm_weight = farm_index = None
    n_farms = 0
    if farms is not None:
        farm = (plots["farm_id"].astype(object).where(plots["farm_id"].notna(), "all")
                if "farm_id" in plots else pd.Series("all", index=plots.index, dtype=object))
        farm_code, uniques = pd.factorize(farm.astype(str))
        farm_index = pd.Index(uniques).get_indexer(farms["farm_id"].astype(str))
        farm_weight = pd.to_numeric(plots["area_ha"], errors="coerce").to_numpy(dtype=float)
        n_farms = len(uniques)
    order = processing_order(n, farm_code)
    canon, rank_sorted = _canonical_layers(layers, order)
    streams = DrawStreams(unc.seed)
    n_layers = 0 if layers is None else len(layers)
    n_cells = factors.n_cells

    def make_block(block: np.ndarray, start: int) -> Callable[[int, int], dict[str, np.ndarray]]:
        inp = _take(inputs, block, n)
        meas = _layer_block(canon, rank_sorted, start, start + block.size, streams, n_layers, unc.measurement)
        inc = incidence[block]
        yrs, dur = years[block], duration[block]

        def evaluate(d0: int, d1: int) -> dict[str, np.ndarray]:
            c = d1 - d0
            z = streams.normals(DrawStreams.FACTORS, d0, d1, n_cells, 0, n_cells) if unc.factors else None
            soc, mgmt, mult, rates = factors.draw(z, c)
            base = _baseline(inp, soc, mgmt, c)
            if meas is not None:
                cols, values = meas(d0, d1)
                base[:, cols] = values
            return _project_draws(inp, base, mgmt, mult, rates, inc, yrs, dur, popts.method)

        return evaluate

    def derived(sums: dict[str, np.ndarray], ids: np.ndarray) -> dict[str, np.ndarray]:
        return {"rate_per_mille": rate_per_mille(sums["annual_change_t_c_yr"], sums["baseline_stock_t_c"])}

    quantities = ("baseline_stock_t_ha", "final_stock_t_ha", "annual_change_t_ha_yr", "rate_per_mille")
    plan = SimulationPlan(n, quantities, make_block, "rate_per_mille", farm_code, n_farms, farm_weight,
                 (("baseline_stock_t_c", "baseline_stock_t_ha"), ("final_stock_t_c", "final_stock_t_ha"),
                  ("annual_change_t_c_yr", "annual_change_t_ha_yr")), derived,
                 ("baseline_stock_t_c", "final_stock_t_c", "annual_change_t_c_yr", "rate_per_mille"))
    per_unit = np.bincount(layers.unit, minlength=n) if layers is not None and len(layers) else np.zeros(n, int)
    summary = simulate(plan, unc, layers_per_unit=per_unit + 1)
    new_plots = _append(result.plots, summary.units, plot_rows)
    new_farms = result.farms
    if farms is not None:
        new_farms = _append(result.farms, {k: v[farm_index] for k, v in summary.farms.items()}, farm_rows)
    line = _method_line(unc, notes, factors)
    if len(plot_rows) < len(result.plots):
        line += "; IPCC Tier 1 rows only (other models have no Monte Carlo statistics)"
    return dataclasses.replace(result, plots=new_plots, farms=new_farms, methods=list(result.methods) + [line])


def _ipcc_rows(frame: pd.DataFrame) -> np.ndarray:
    """Rows of the IPCC Tier 1 model (all rows of a single-model result)."""
    if "model" not in frame.columns:
        return np.arange(len(frame))
    return np.flatnonzero((frame["model"] == "ipcc").to_numpy(dtype=bool))


def _projection_inputs(table, plots: pd.DataFrame, popts) -> ProjectionInputs:
    """Rebuild :func:`fourp1000.projection.prepare`'s inputs for the projected plots."""
    from .scoring import PLOT_ATTRIBUTES, derive_climate_zone

    frame = table.frame
    cols = [c for c in PLOT_ATTRIBUTES if c in frame.columns and c not in ("farm_id", "area_ha", "practices",
                                                                         "clay_pct")]
    attrs = frame[["plot_id"] + cols].groupby("plot_id", sort=False, dropna=True).first().reset_index()
    attrs = derive_climate_zone(attrs, [])
    attrs = attrs.set_index(attrs["plot_id"].astype(str))
    ids = plots["plot_id"].astype(str)
    sub = attrs.reindex(ids).reset_index(drop=True)
    sub["plot_id"] = plots["plot_id"].to_numpy()
    sub["practices"] = plots["practices"].to_numpy() if "practices" in plots else ""
    measured = (plots["baseline_source"] == "measured").to_numpy() if len(plots) else np.zeros(0, bool)
    sub[MEASURED_STOCK_COLUMN] = np.where(measured, plots["baseline_stock_t_ha"].to_numpy(dtype=float), np.nan)
    if "source_row" in plots:
        sub["source_row"] = plots["source_row"].to_numpy()
    return prepare(sub, (), popts.ipcc_version, method=popts.method)


def _take(obj, sel: np.ndarray, n: int):
    """Slice every per-plot array of a (nested) dataclass to the plots ``sel``."""
    if obj is None:
        return None
    if isinstance(obj, np.ndarray):
        return obj[sel] if obj.ndim >= 1 and obj.shape[0] == n else obj
    if isinstance(obj, pd.DataFrame):
        return obj.iloc[sel] if len(obj) == n else obj
    if isinstance(obj, Mapping):
        return {k: _take(v, sel, n) for k, v in obj.items()}
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        changes = {f.name: _take(getattr(obj, f.name), sel, n) for f in dataclasses.fields(obj)
                   if f.name != "factor_rows"}
        return dataclasses.replace(obj, **changes)
    return obj


def _baseline(inp: ProjectionInputs, soc: np.ndarray, mgmt: np.ndarray, c: int) -> np.ndarray:
    """Drawn baseline stocks (measured plots keep the deterministic value here)."""
    n = inp.measured_stock_t_c_ha.shape[0]
    base = inp.baseline_stock(soc, mgmt)
    return np.array(np.broadcast_to(base, (c, n)), dtype=float)


def _project_draws(inp: ProjectionInputs, base: np.ndarray, mgmt: np.ndarray, mult: np.ndarray, rates: np.ndarray,
                   incidence: np.ndarray, years: np.ndarray, duration: np.ndarray,
                   method: str) -> dict[str, np.ndarray]:
    if method == "ipcc":
        target = inp.equilibrium_stock(base, mgmt, mult)
    else:
        target = base + (rates @ incidence.T) * duration
    final = linear_transition(base, target, years, duration)
    annual = (final - base) / years
    return {"baseline_stock_t_ha": base, "final_stock_t_ha": final, "annual_change_t_ha_yr": annual,
            "rate_per_mille": rate_per_mille(annual, base)}


def _rate_incidence(practices: np.ndarray, names: tuple[str, ...]) -> np.ndarray:
    """Plots x rated practices: 1 where the plot adopts the practice (rates add up)."""
    combos = np.asarray(practices, dtype=object)
    out = np.zeros((combos.size, len(names)))
    codes, uniques = pd.factorize(pd.Series(combos, dtype=object).fillna(""))
    for k, combo in enumerate(uniques):  # distinct combinations, not plots
        adopted = set(str(combo).split(SEPARATOR))
        row = [1.0 if name in adopted else 0.0 for name in names]
        out[codes == k] = row
    return out


def _check_reproduces(inputs: ProjectionInputs, plots: pd.DataFrame, factors: FactorModel, incidence: np.ndarray,
                      years: np.ndarray, duration: np.ndarray, method: str) -> None:
    """The rebuilt inputs with the tables' own values must give the deterministic projection."""
    if not len(plots):
        return
    soc, mgmt, mult, rates = dataclasses.replace(factors, enabled=False).draw(None, 1)
    base = _baseline(inputs, soc, mgmt, 1)
    got = _project_draws(inputs, base, mgmt, mult, rates, incidence, years, duration, method)
    for name in ("baseline_stock_t_ha", "final_stock_t_ha"):
        want = plots[name].to_numpy(dtype=float)
        if not np.allclose(got[name][0], want, rtol=1e-9, atol=1e-9, equal_nan=True):
            raise FourP1000Error(f"internal error: the Monte Carlo inputs do not reproduce the deterministic {name}; "
                                 "please report it")


def _plot_layers(table, plots: pd.DataFrame, popts, measured_plot: np.ndarray, unc: UncertaintyOptions
                 ) -> tuple[LayerErrors | None, list[str]]:
    """Layers behind each plot's measured baseline (cores of the latest sampling, averaged)."""
    from .scoring import sampling_order

    if not measured_plot.any():
        return None, []
    frame = table.frame
    if not frame[["top_cm", "bottom_cm", "soc_g_kg"]].notna().any(axis=1).any():
        return None, []
    est_opts = dataclasses.replace(popts.estimate, on_error="skip")
    est = estimate_stocks(table, est_opts)
    layers = layer_errors(table, est, est_opts, unc.measurement_errors)
    records = est.plots
    # The records that make each plot's measured stock: the latest sampling date, all cores.
    rec = pd.DataFrame({"plot_id": records["plot_id"].astype(str), "pos": np.arange(len(records))})
    if "sampled_on" in records:
        rec["_when"] = sampling_order(records["sampled_on"]).to_numpy()
        latest = (rec.sort_values(["plot_id", "_when"], kind="stable", na_position="last")
                  .groupby("plot_id").tail(1)[["plot_id", "_when"]])
        rec = rec.merge(latest, on=["plot_id", "_when"], how="inner")
    pos = pd.Index(plots["plot_id"].astype(str)).get_indexer(rec["plot_id"])
    ok = pos >= 0
    ok[ok] = measured_plot[pos[ok]]
    rec = rec[ok].assign(plot=pos[ok])
    rec["weight"] = 1.0 / np.bincount(rec["plot"].to_numpy(), minlength=len(plots))[rec["plot"].to_numpy()]
    plot_of_record = np.full(len(records), -1)
    weight_of_record = np.zeros(len(records))
    plot_of_record[rec["pos"].to_numpy()] = rec["plot"].to_numpy()
    weight_of_record[rec["pos"].to_numpy()] = rec["weight"].to_numpy()
    keep = np.flatnonzero(plot_of_record[layers.unit] >= 0)
    part = layers.take(keep)
    part.contribution_t_c_ha = part.contribution_t_c_ha * weight_of_record[part.unit]
    part.unit = plot_of_record[part.unit]
    notes = list(layers.notes)
    target = np.where(measured_plot, plots["baseline_stock_t_ha"].to_numpy(dtype=float), 0.0)
    part.contribution_t_c_ha = _rescale(part.unit, part.contribution_t_c_ha, target, notes, exact=True, what="plots")
    return part, notes


# --------------------------------------------------------------------------------------
# Output


def _append(frame: pd.DataFrame, columns: dict[str, np.ndarray], rows: np.ndarray | None = None) -> pd.DataFrame:
    """``frame`` with new columns; with ``rows``, the values go to those rows, NaN/NA elsewhere."""
    out = frame.copy()
    partial = rows is not None and len(rows) < len(frame)
    for name, values in columns.items():
        if not partial:
            out[name] = values
        elif values.dtype == bool:
            full = pd.array([pd.NA] * len(frame), dtype="boolean")
            full[rows] = values
            out[name] = full
        else:
            full = np.full(len(frame), np.nan)
            full[rows] = values
            out[name] = full
    return out


def _method_line(unc: UncertaintyOptions, notes: list[str], factors: FactorModel | None) -> str:
    parts = [f"Monte Carlo uncertainty: {unc.draws} draws (seed {unc.seed}); mean, median and 2.5-97.5 percentiles"]
    if factors is not None:
        if unc.factors:
            parts.append("SOC_REF, stock change factors and practice factors lognormal (mean = table value, sd "
                         "from the tabled +/-), one draw per table cell shared by all plots; practice rates normal")
            fixed = factors.without_uncertainty()
            if fixed:
                parts.append(f"rates without published uncertainty held fixed: {', '.join(fixed)}")
        else:
            parts.append("coefficients held at their table values")
        parts.append(f"verdict at confidence {unc.confidence:g} (p_meets_4p1000 >= {unc.confidence:g})")
    if unc.measurement:
        parts.append("measurement errors lognormal, independent per layer (data/measurement_errors.csv and "
                     "*_sd_pct columns)")
    else:
        parts.append("measurements held at their values")
    return "; ".join(parts + notes)


__all__ = [
    "QUANTILES", "STAT_SUFFIXES", "OVERRIDE_COLUMNS", "UncertaintyOptions", "DrawStreams", "FactorModel",
    "LayerErrors", "SimulationPlan", "Summary", "lognormal_sigma", "lognormal_draws", "ipcc_approach1_product",
    "measurement_error_table", "layer_errors", "estimate_uncertainty", "project_uncertainty", "simulate",
    "processing_order",
]
