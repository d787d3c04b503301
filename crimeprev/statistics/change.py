"""Is a change between two counts real? An exact test for the ratio of two Poisson counts.

If the current and comparator counts are independent Poisson counts over windows of the same
length, then given their total n the current count is binomial with n trials and probability
1/2 when the underlying rates are equal (the conditional binomial test). The two-sided p-value is
the binomial test's: the probability of every split of n no more likely than the one observed.
The 95% interval for the rate ratio comes from the Clopper-Pearson interval for that binomial
proportion p, through rate ratio = p / (1 - p) (times the ratio of the window lengths).

Recorded crime is usually more variable than Poisson, so with counts in the thousands even a
small change can be significant: significance says a change is unlikely to be chance, not that
it matters.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

DEFAULT_SIGNIFICANCE_LEVEL = 0.05
DEFAULT_SMALL_COUNT = 20
# The binomial test's tolerance for "equally likely" splits, as scipy.stats.binomtest uses.
RELATIVE_TOLERANCE = 1 + 1e-7


@dataclass(frozen=True)
class RateRatioTest:
    """The test of current against comparator counts; `None` fields mean "not defined here",
    with `note` saying why."""

    current_count: int
    comparator_count: int
    rate_ratio: float | None
    rate_ratio_low: float | None
    rate_ratio_high: float | None
    p_value: float | None
    significant: bool | None
    small_counts: bool
    note: str | None


def _first_true(predicate: Callable[[int], bool], lo: int, hi: int) -> int:
    """The smallest i in [lo, hi] where `predicate` holds, for a predicate false then true
    along [lo, hi]; hi + 1 when it never holds."""
    while lo <= hi:
        mid = (lo + hi) // 2
        if predicate(mid):
            hi = mid - 1
        else:
            lo = mid + 1
    return lo


def binomial_p_value(successes: int, trials: int, probability: float = 0.5) -> float:
    """Two-sided exact binomial p-value: the total probability of all outcomes no more likely
    than `successes` (the definition `scipy.stats.binomtest` uses)."""
    if not 0 <= successes <= trials:
        raise ValueError("successes must lie between 0 and trials")
    from scipy.stats import binom  # imported when first needed: it takes a second to load

    k, n, p = successes, trials, probability
    if n == 0 or k == p * n:
        return 1.0
    observed = float(binom.pmf(k, n, p)) * RELATIVE_TOLERANCE

    def no_likelier(x: int) -> bool:
        return float(binom.pmf(x, n, p)) <= observed

    # The pmf rises to its mode and falls after it, so each side is searched by bisection.
    if k < p * n:
        first_far = _first_true(no_likelier, math.ceil(p * n), n)
        total = float(binom.cdf(k, n, p)) + float(binom.sf(first_far - 1, n, p))
    else:
        last_far = _first_true(lambda x: not no_likelier(x), 0, math.floor(p * n)) - 1
        total = float(binom.cdf(last_far, n, p)) + float(binom.sf(k - 1, n, p))
    return min(1.0, total)


def clopper_pearson(successes: int, trials: int, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval for a binomial proportion, from beta quantiles."""
    if trials <= 0 or not 0 <= successes <= trials:
        raise ValueError("need 0 <= successes <= trials and trials > 0")
    from scipy.stats import beta

    tail = (1 - level) / 2
    k, n = successes, trials
    low = 0.0 if k == 0 else float(beta.ppf(tail, k, n - k + 1))
    high = 1.0 if k == n else float(beta.ppf(1 - tail, k + 1, n - k))
    return low, high


def _ratio(proportion: float, length_ratio: float) -> float | None:
    """Rate ratio from the current count's share; None when it is infinite."""
    if proportion >= 1.0:
        return None
    return proportion / (1 - proportion) * length_ratio


def rate_ratio_test(
    current_count: int,
    comparator_count: int,
    current_months: int = 12,
    comparator_months: int = 12,
    significance_level: float = DEFAULT_SIGNIFICANCE_LEVEL,
    small_count: int = DEFAULT_SMALL_COUNT,
) -> RateRatioTest:
    """Test whether the current rate differs from the comparator rate; rate ratio = current /
    comparator per month, with its (1 - significance_level) exact confidence interval."""
    small = min(current_count, comparator_count) < small_count
    total = current_count + comparator_count
    if total == 0:
        return RateRatioTest(
            current_count, comparator_count, None, None, None, None, None, small,
            "no test: neither window counted any record",
        )  # fmt: skip
    # Under equal rates the current count's share is the current window's share of the time.
    null_share = current_months / (current_months + comparator_months)
    length_ratio = comparator_months / current_months
    p_value = binomial_p_value(current_count, total, null_share)
    low, high = clopper_pearson(current_count, total, 1 - significance_level)
    note = None
    if comparator_count == 0:
        note = "the comparison window counted none, so the ratio and its upper bound are infinite"
    return RateRatioTest(
        current_count=current_count,
        comparator_count=comparator_count,
        rate_ratio=_ratio(current_count / total, length_ratio),
        rate_ratio_low=_ratio(low, length_ratio),
        rate_ratio_high=_ratio(high, length_ratio),
        p_value=p_value,
        significant=p_value < significance_level,
        small_counts=small,
        note=note,
    )


def format_p_value(p_value: float | None) -> str:
    """A p-value as a reader wants it: `p < 0.001`, `p = 0.03`, `p = 0.41`."""
    if p_value is None:
        return ""
    if p_value < 0.001:
        return "p < 0.001"
    if p_value < 0.01:
        return f"p = {p_value:.3f}"
    return f"p = {p_value:.2f}"


def format_rate_ratio(low: float | None, high: float | None) -> str:
    """A rate ratio's interval in words: `1.08 to 1.19`, `0 to 0.35`, `2.10 to no upper bound`."""
    low_text = "0" if low == 0 else ("" if low is None else f"{low:.2f}")
    high_text = "no upper bound" if high is None else f"{high:.2f}"
    return f"{low_text} to {high_text}"
