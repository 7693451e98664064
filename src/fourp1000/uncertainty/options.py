"""Options of the Monte Carlo layer (:mod:`fourp1000.uncertainty`) and their defaults.

The CLI flags ``--draws``, ``--seed`` and ``--confidence`` map one to one to
:class:`UncertaintyOptions` (see :mod:`fourp1000.cli.uncertainty_options`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..errors import InputError

DEFAULT_DRAWS = 1000
DEFAULT_SEED = 0
DEFAULT_CONFIDENCE = 0.9


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
