"""Random numbers of the Monte Carlo: lognormal draws and chunk-independent normal streams.

Positive quantities (coefficients, measurements) are drawn from a lognormal distribution
whose mean and standard deviation are the tabled or measured ones
(:func:`lognormal_draws`); :func:`ipcc_approach1_product` is the first-order formula of
IPCC Approach 1 [1]_ that the Monte Carlo (Approach 2) is checked against. The standard
normals come from :class:`DrawStreams`, addressed by draw and position in PCG64 streams
[2]_ so that results do not depend on the chunking.

References
----------
.. [1] IPCC (2006) 2006 IPCC Guidelines for National Greenhouse Gas Inventories, Vol. 1,
   Ch. 3 Uncertainties, section 3.2.3 (Approach 1, Eq. 3.1 and 3.2; Approach 2, Monte
   Carlo simulation). IGES, Hayama.
.. [2] O'Neill M.E. (2014) PCG: A family of simple fast space-efficient statistically good
   algorithms for random number generation. Harvey Mudd College, HMC-CS-2014-0905.
"""

from __future__ import annotations

import numpy as np

#: Numbers per block of a draw's stream. Each block is a sub-stream of its own: ziggurat
#: normals take a variable number of 64-bit outputs, so a position is found by its block.
BLOCK = 4096
# Outputs reserved per block: the ziggurat takes one per number in more than 99 % of cases
# (a tail or wedge rejection takes a few more), so four per number never run out in practice.
_BLOCK_STRIDE = 4 * BLOCK


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
    against the document). The Monte Carlo of this package (Approach 2) needs no such limit
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
    Number ``k`` of draw ``d`` in a stream of ``width`` numbers per draw is number
    ``k % BLOCK`` of block ``d * ceil(width / BLOCK) + k // BLOCK``; block ``b`` is a
    sub-stream that starts at output ``b * 4 * BLOCK`` of the PCG64 stream (reached with
    ``PCG64.advance``), turned into normals by numpy's ziggurat
    (``Generator.standard_normal``, exact standard normals without the cost of an inverse
    CDF). Any chunk of draws and any block of layers therefore gets exactly the numbers a
    single pass would.
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
        blocks_per_draw = -(-width // BLOCK)
        stop = start + count
        lead = np.empty(BLOCK)  # the numbers of a block that precede the window
        for i, draw in enumerate(range(draw_start, draw_stop)):  # loops over draws and blocks, not plots
            for block in range(start // BLOCK, (stop - 1) // BLOCK + 1):
                b0 = block * BLOCK
                lo, hi = max(start, b0), min(stop, b0 + BLOCK)
                self._seek(stream, (draw * blocks_per_draw + block) * _BLOCK_STRIDE)
                gen = self._generators[stream]
                if lo > b0:  # the ziggurat is sequential: draw the block's numbers before the window too
                    gen.standard_normal(out=lead[: lo - b0])
                gen.standard_normal(out=out[i, lo - start:hi - start])
        return out

    def _seek(self, stream: int, position: int) -> None:
        """Put ``stream`` at output ``position`` of its PCG64 sequence."""
        bg = self._bit_generators[stream]
        bg.state = self._states[stream]
        bg.advance(position)
