"""Drawn measured stocks, layer by layer: :class:`LayerErrors` and its draws per block.

Stocks are linear in the layers' carbon densities, so measurement errors are propagated as
multiplicative perturbations of each layer's contribution to its unit's stock. SOC, bulk
density and coarse fragments are drawn independently for every layer of every core from
the measurement stream of :class:`fourp1000.uncertainty.draws.DrawStreams`; the layers are
sorted by the processing rank of their unit, so a block of units reads one contiguous
range of that stream whatever the block and chunk sizes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np

from ..stocks.layers import STONE_DENSITY_G_CM3, fine_earth_density
from .draws import DrawStreams, lognormal_sigma


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
        Bulk-density basis of each layer (see :func:`fourp1000.stocks.layers.fine_earth_density`).
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


def block_stocks(layers: LayerErrors | None, rank_sorted: np.ndarray | None, block_start: int, block_stop: int,
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


def sort_by_processing_rank(layers: LayerErrors | None, order: np.ndarray
                            ) -> tuple[LayerErrors | None, np.ndarray | None]:
    """Layers sorted by the processing rank of their unit, and those ranks."""
    if layers is None or len(layers) == 0:
        return None, None
    rank = np.empty(order.size, dtype=np.int64)
    rank[order] = np.arange(order.size)
    layer_rank = rank[layers.unit]
    perm = np.argsort(layer_rank, kind="stable")
    return layers.take(perm), layer_rank[perm]
