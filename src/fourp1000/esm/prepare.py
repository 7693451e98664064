"""The layers an equivalent-soil-mass comparison can use, with the bulk density of ``estimate``.

:func:`prepare_layers` gives ESM the same bulk-density machinery as the fixed-depth stocks
of :func:`fourp1000.stocks.estimate.estimate_stocks`:

1. rows that carry a bulk density but no SOC, over layers that have SOC (core samples
   stored on rows of their own), lend it to the layers they overlap (overlap-weighted mean,
   :func:`fourp1000.stocks.estimate.bd_from_bd_only_rows`); they are then used, or not
   needed when the layers have their own;
2. remaining missing bulk densities are estimated with a pedotransfer function
   (:func:`fourp1000.stocks.ptf.estimate_bulk_density`), flagged per layer;
3. a layer without SOC (or without a bulk density) that lies wholly below the deepest
   comparison depth ends the core there: it and the layers below it are not needed, the
   core is kept (with the usual flag if the reference mass lies deeper).

Every input row is accounted for: kept for the comparison, used as a bulk-density source,
or not needed with a reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..stocks.depth import overlap_cm
from ..stocks.estimate import bd_from_bd_only_rows
from ..stocks.ptf import estimate_bulk_density
from .profiles import core_codes

__all__ = ["NO_PTF", "PreparedLayers", "prepare_layers"]

#: ``bd_ptf`` value that estimates nothing: every layer needs a measured (or lent) bulk density.
NO_PTF = "none"


@dataclass(frozen=True)
class PreparedLayers:
    """Result of :func:`prepare_layers`.

    Attributes
    ----------
    frame : DataFrame
        The rows the comparison uses, bulk density filled where lent or estimated, with
        ``bd_source`` (``measured``, ``bd_rows`` or ``ptf``) and ``bd_ptf`` (the PTF, or "").
    kept : array of int
        Position in the input of each row of ``frame``.
    lenders : array of int
        Positions of the bulk-density rows that lent their value (used, not in ``frame``).
    not_needed : DataFrame
        ``position`` and ``reason`` of the rows not needed.
    notes : list of str
        What was done, for the methods statement.
    plot_notes : Series
        Per ``plot_id`` (as str), what was done to its layers ("" where nothing).
    """

    frame: pd.DataFrame
    kept: np.ndarray
    lenders: np.ndarray
    not_needed: pd.DataFrame
    notes: list[str] = field(default_factory=list)
    plot_notes: pd.Series = field(default_factory=lambda: pd.Series(dtype=object))


def prepare_layers(frame: pd.DataFrame, deepest_cm: float, *, bd_ptf: str = "auto",
                   som_factor: float = 1.724) -> PreparedLayers:
    """Fill bulk density as ``estimate`` does and end cores at SOC-less layers below ``deepest_cm``.

    Parameters
    ----------
    frame : DataFrame
        Canonical horizon table (rows with loader errors already removed).
    deepest_cm : float [cm]
        The deepest comparison depth.
    bd_ptf : str
        Pedotransfer function for the bulk densities still missing (see
        :data:`fourp1000.stocks.ptf.PTF_CHOICES`), or ``"none"``.
    som_factor : float
        SOM/SOC ratio of the PTFs that need SOM (Adams 1973).

    Returns
    -------
    PreparedLayers
    """
    codes = core_codes(frame)  # one code per (plot_id, sampled_on, core_id)
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    soc = frame["soc_g_kg"].to_numpy(dtype=float)
    bd = frame["bulk_density_g_cm3"].to_numpy(dtype=float).copy()
    placed = frame["plot_id"].notna().to_numpy() & np.isfinite(top) & np.isfinite(bottom)
    has_soc = placed & np.isfinite(soc)
    # A row without SOC over layers that have it is a bulk-density record, not a layer.
    extra = placed & ~has_soc & _overlaps(codes, top, bottom, placed & ~has_soc, has_soc)
    needs = has_soc & np.isnan(bd)
    source = np.where(np.isnan(bd), "", "measured").astype(object)
    lent = bd_from_bd_only_rows(codes, top, bottom, bd, extra, needs)
    took = np.isfinite(lent)
    bd[took], source[took] = lent[took], "bd_rows"
    lenders = extra & np.isfinite(bd) & _overlaps(codes, top, bottom, extra & np.isfinite(bd), took)
    ptf = _fill_with_ptf(frame, bd, has_soc & np.isnan(bd), bd_ptf, som_factor)
    source[ptf != ""] = "ptf"
    cut = _core_ends(codes, top, ~extra & placed & (~has_soc | np.isnan(bd)), deepest_cm)
    below = placed & ~extra & (top >= cut[codes])
    keep = ~extra & ~below
    out = frame.assign(bulk_density_g_cm3=bd, bd_source=source, bd_ptf=ptf)
    not_needed = _not_needed(extra & ~lenders, below, top, cut[codes], has_soc, deepest_cm)
    notes = _notes(int(took.sum()), ptf[keep], int(below.sum()), bd_ptf, deepest_cm)
    plot_notes = _plot_notes(frame["plot_id"], took & keep, ptf != "", below, cut[codes])
    return PreparedLayers(out[keep], np.flatnonzero(keep), np.flatnonzero(lenders), not_needed, notes, plot_notes)


def _overlaps(codes: np.ndarray, top: np.ndarray, bottom: np.ndarray, src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Per row: True where ``src`` and overlapping (by more than 0 cm) some ``dst`` row of the same record."""
    out = np.zeros(codes.size, dtype=bool)
    if not src.any() or not dst.any():
        return out
    a = pd.DataFrame({"code": codes[src], "pos": np.flatnonzero(src), "t": top[src], "b": bottom[src]})
    b = pd.DataFrame({"code": codes[dst], "td": top[dst], "bd": bottom[dst]})
    m = a.merge(b, on="code", how="inner")
    hit = overlap_cm(m["t"].to_numpy(), m["b"].to_numpy(), m["td"].to_numpy(), m["bd"].to_numpy()) > 0
    out[m.loc[hit, "pos"].to_numpy(dtype=np.int64)] = True
    return out


def _fill_with_ptf(frame: pd.DataFrame, bd: np.ndarray, need: np.ndarray, method: str, som_factor: float) -> np.ndarray:
    """Estimate the missing bulk densities in place; returns the PTF of each row ("" where none)."""
    used = np.full(len(frame), "", dtype=object)
    if method == NO_PTF or not need.any():
        return used
    idx = np.flatnonzero(need)

    def column(name: str) -> np.ndarray | None:
        return pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=float)[idx] if name in frame else None

    est = estimate_bulk_density(
        frame["soc_g_kg"].to_numpy(dtype=float)[idx], method=method, sand_pct=column("sand_pct"),
        clay_pct=column("clay_pct"), top_cm=frame["top_cm"].to_numpy(dtype=float)[idx],
        land_use=frame["land_use"].iloc[idx].to_numpy() if "land_use" in frame else None, som_factor=som_factor,
    )
    ok = np.isfinite(est.bulk_density_g_cm3)
    bd[idx[ok]] = est.bulk_density_g_cm3[ok]
    used[idx[ok]] = est.ptf[ok]
    return used


def _core_ends(codes: np.ndarray, top: np.ndarray, incomplete: np.ndarray, deepest_cm: float) -> np.ndarray:
    """Per record: the top [cm] of its first incomplete layer wholly below ``deepest_cm`` (inf if none)."""
    n = int(codes.max()) + 1 if codes.size else 0
    cut = np.full(n, np.inf)
    deep = incomplete & (top >= deepest_cm)
    np.minimum.at(cut, codes[deep], top[deep])
    return cut


def _not_needed(extra: np.ndarray, below: np.ndarray, top: np.ndarray, cut: np.ndarray, has_soc: np.ndarray,
                deepest_cm: float) -> pd.DataFrame:
    """Positions and reasons of the rows not needed."""
    at = np.flatnonzero(extra | below)
    first_cut = (below & (top == cut))[at]
    down_to = pd.Series(cut[at]).map("{:g}".format).to_numpy(dtype=object)
    what = np.where(has_soc[at], "layer without bulk density", "layer without SOC")
    under = f" below the comparison depth ({deepest_cm:g} cm): the core is used down to "
    reasons = np.where(
        extra[at], "row without SOC over layers that have their own bulk density: not needed",
        np.where(first_cut, what + under + down_to + " cm",
                 "below a layer without SOC or bulk density at " + down_to + " cm, under the comparison depth: "
                 "not needed"))
    return pd.DataFrame({"position": at, "reason": reasons})


def _notes(n_lent: int, ptf: np.ndarray, n_below: int, method: str, deepest_cm: float) -> list[str]:
    notes = []
    if n_lent:
        notes.append(f"bulk density of {n_lent} layers taken from bulk-density-only rows overlapping them")
    estimated = ptf[ptf != ""]
    if estimated.size:
        notes.append(f"bulk density estimated for {estimated.size} layers with {', '.join(sorted(set(estimated)))} "
                     f"(--bd-ptf {method}): their soil masses, hence the equivalent soil mass, are estimates")
    if n_below:
        notes.append(f"{n_below} rows below the comparison depth ({deepest_cm:g} cm) not needed: cores end at their "
                     "first layer without SOC or bulk density there")
    return notes


def _plot_notes(plot_id: pd.Series, lent: np.ndarray, ptf: np.ndarray, below: np.ndarray,
                cut: np.ndarray) -> pd.Series:
    """Per plot: layers whose bulk density was lent or estimated, cores ended above a SOC-less layer."""
    ids = plot_id.astype("string").fillna("").to_numpy(dtype=object)
    parts = []
    for mask, text in ((lent, "bulk density of {n} layers from bulk-density rows"),
                       (ptf, "bulk density of {n} layers estimated (PTF)"),
                       (below & (cut < np.inf), "{n} rows below the comparison depth ignored (no SOC or bulk density)")):
        if mask.any():
            counts = pd.Series(ids[mask]).value_counts()
            parts.append(counts.map(lambda n, t=text: t.format(n=n)))
    if not parts:
        return pd.Series(dtype=object)
    joined = pd.concat(parts, axis=1).fillna("")
    text = joined.iloc[:, 0]
    for i in range(1, joined.shape[1]):
        text = text.str.cat(joined.iloc[:, i], sep="; ")
    return text.str.replace(r"(; )+", "; ", regex=True).str.strip("; ")
