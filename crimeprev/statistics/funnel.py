"""Funnel plots: is an area's rate out of line with a reference rate, given its size?

Each area's count is compared with what the reference rate would give its population: under
the Poisson model the count is Poisson with mean `expected = rate * population`, and the
limits are that distribution's 2.5% and 97.5% (95%) and 0.1% and 99.9% (99.8%) quantiles
(scipy's exact `poisson.ppf`). An area above the 99.8% upper limit would arise by chance about
once in a thousand areas if its true rate were the reference rate.

Recorded crime varies between large areas far more than Poisson chance allows, so with counts
in the tens of thousands almost every force lies outside Poisson limits. The overdispersed
limits (Spiegelhalter, "Funnel plots for comparing institutional performance", Statistics in
Medicine 2005, section 5.2) widen them by the spread seen between the areas themselves:
phi is the mean squared z-score after winsorising the top and bottom 10%, and the limits are
`expected +/- z * sqrt(phi * expected)`. Outside those is out of line with the other areas,
not only with chance.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

LEVELS = {"95%": 0.95, "99.8%": 0.998}
WINSOR_FRACTION = 0.10


@dataclass(frozen=True)
class Limits:
    """Count limits for one expected count: (lower, upper) at 95% and at 99.8%."""

    expected: float
    lower_95: float
    upper_95: float
    lower_998: float
    upper_998: float


def poisson_limits(expected: float) -> Limits:
    """The exact Poisson count limits around `expected` (each the distribution's quantile)."""
    quantile = stats.poisson.ppf
    return Limits(
        expected=expected,
        lower_95=float(quantile(0.025, expected)),
        upper_95=float(quantile(0.975, expected)),
        lower_998=float(quantile(0.001, expected)),
        upper_998=float(quantile(0.999, expected)),
    )


def overdispersed_limits(expected: float, phi: float) -> Limits:
    """Normal limits around `expected` widened by the overdispersion factor `phi` (at least 1)."""
    spread = math.sqrt(max(phi, 1.0) * expected)
    z95 = float(stats.norm.ppf(0.975))
    z998 = float(stats.norm.ppf(0.999))
    return Limits(
        expected=expected,
        lower_95=expected - z95 * spread,
        upper_95=expected + z95 * spread,
        lower_998=expected - z998 * spread,
        upper_998=expected + z998 * spread,
    )


def classify(count: float, limits: Limits) -> str:
    """Where a count falls: `within`, `above 95%`, `above 99.8%`, `below 95%`, `below 99.8%`."""
    if count > limits.upper_998:
        return "above 99.8%"
    if count > limits.upper_95:
        return "above 95%"
    if count < limits.lower_998:
        return "below 99.8%"
    if count < limits.lower_95:
        return "below 95%"
    return "within"


def overdispersion(counts: Sequence[float], expected: Sequence[float]) -> float:
    """Spiegelhalter's multiplicative overdispersion factor phi: the mean of the squared
    Poisson z-scores after winsorising the lowest and highest 10%. 1 means no more spread
    than chance."""
    y = np.asarray(counts, dtype=float)
    e = np.asarray(expected, dtype=float)
    keep = e > 0
    if keep.sum() < 3:
        return 1.0
    z = (y[keep] - e[keep]) / np.sqrt(e[keep])
    low, high = np.quantile(z, [WINSOR_FRACTION, 1 - WINSOR_FRACTION])
    winsorised = np.clip(z, low, high)
    return float(np.mean(winsorised**2))


def limit_curve(
    rate_per_1000: float, populations: Sequence[float], phi: float | None = None, points: int = 80
) -> list[dict[str, float]]:
    """The funnel's limits as rates per 1,000 over a range of populations (for drawing):
    `population, expected_rate, lower_95, upper_95, lower_998, upper_998`."""
    smallest = max(min(populations) * 0.8, 1.0)
    largest = max(populations) * 1.1
    rows = []
    for population in np.geomspace(smallest, largest, points):
        expected = rate_per_1000 / 1000 * population
        limits = poisson_limits(expected) if phi is None else overdispersed_limits(expected, phi)
        per_1000 = 1000 / population
        rows.append(
            {
                "population": float(population),
                "expected_rate": rate_per_1000,
                "lower_95": max(limits.lower_95, 0.0) * per_1000,
                "upper_95": limits.upper_95 * per_1000,
                "lower_998": max(limits.lower_998, 0.0) * per_1000,
                "upper_998": limits.upper_998 * per_1000,
            }
        )
    return rows
