"""The checks ``estimate`` makes on layers, made on ``compare``'s inputs too.

- :func:`plausible_layers`: the plausibility rules of :mod:`fourp1000.stocks.plausibility`
  (g/kg written as %, depths in mm, a bulk density no soil of that SOC can have, ...):
  warnings by file, row and column, or errors (rows rejected) with ``strict``;
- :func:`adjoin_core_layers`: gaps and overlaps between the layers of a core up to a
  tolerance closed at their midpoint (:func:`fourp1000.stocks.depth.adjoin_layers`, the
  ``--depth-tolerance`` of ``estimate``), each reported as a warning.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..io.horizons import PROBLEM_COLUMNS, HorizonTable
from ..stocks import plausibility
from ..stocks.depth import adjoin_layers
from .profiles import core_codes

__all__ = ["adjoin_core_layers", "plausible_layers", "plausibility_warnings"]


def plausible_layers(table: HorizonTable, bad: np.ndarray, *, som_factor: float, strict: bool) -> pd.DataFrame:
    """Plausibility findings on the layers of ``table`` not already in error (``bad``).

    Returns problems (:data:`~fourp1000.io.horizons.PROBLEM_COLUMNS`): warnings, or errors
    with ``strict``.
    """
    found = plausibility.layer_problems(table, som_factor=som_factor, strict=strict)
    if not len(found):
        return found
    return found[~bad[found["position"].to_numpy(dtype=np.int64)]].reset_index(drop=True)


def plausibility_warnings(problems) -> int:
    """Number of plausibility warnings among :class:`~fourp1000.errors.Problem` records."""
    return sum(1 for p in problems if p.rule in plausibility.RULES and p.severity == "warning")


def adjoin_core_layers(frame: pd.DataFrame, tolerance_cm: float) -> tuple[pd.DataFrame, pd.DataFrame, str]:
    """Close gaps and overlaps up to ``tolerance_cm`` between consecutive SOC layers of each core.

    Parameters
    ----------
    frame : DataFrame
        Canonical horizon rows (``plot_id``, ``top_cm``, ``bottom_cm``, ``soc_g_kg``, optional
        ``sampled_on``, ``core_id``, ``source_row``); a core is one (plot, sampling, core).
    tolerance_cm : float [cm]
        Largest gap or overlap closed; 0 closes none.

    Returns
    -------
    (frame, problems, note)
        The rows with the moved limits (a copy; ``frame`` itself where nothing moved), one
        warning (rule ``depth_adjoined``, column ``top_cm``) per moved layer with its
        ``position`` in ``frame``, and a line for the methods statement ("" where none).
    """
    empty = pd.DataFrame(columns=PROBLEM_COLUMNS)
    if not tolerance_cm > 0 or not len(frame):
        return frame, empty, ""
    top = frame["top_cm"].to_numpy(dtype=float)
    bottom = frame["bottom_cm"].to_numpy(dtype=float)
    layer = frame["plot_id"].notna().to_numpy() & np.isfinite(top) & np.isfinite(bottom) & \
        frame["soc_g_kg"].notna().to_numpy()
    codes = core_codes(frame)
    at = np.flatnonzero(layer)
    at = at[np.lexsort((top[at], codes[at]))]
    adj = adjoin_layers(codes[at], top[at], bottom[at], tolerance_cm)
    if not adj.moved.any():
        return frame, empty, ""
    out = frame.copy()
    top, bottom = top.copy(), bottom.copy()
    top[at], bottom[at] = adj.top_cm, adj.bottom_cm
    out["top_cm"], out["bottom_cm"] = top, bottom
    moved = adj.moved
    gap, over = adj.gap_closed_cm[moved], adj.overlap_closed_cm[moved]
    pos = at[moved]
    messages = [f"{'gap' if g > 0 else 'overlap'} of {max(g, o):g} cm with the layer above closed at {t:g} cm "
                f"(--depth-tolerance {tolerance_cm:g})" for g, o, t in zip(gap, over, adj.top_cm[moved])]
    problems = pd.DataFrame({"position": pos, "row": frame["source_row"].to_numpy()[pos],
                             "plot_id": frame["plot_id"].to_numpy()[pos], "column": "top_cm",
                             "rule": "depth_adjoined", "message": messages, "severity": "warning"})
    note = (f"{int((gap > 0).sum())} gaps and {int((over > 0).sum())} overlaps of at most {tolerance_cm:g} cm "
            "between layers closed at their midpoint (--depth-tolerance)")
    return out, problems, note
