"""Is a 12-month change beyond normal month-to-month variation? The year-on-year test.

Monthly crime counts vary more than a Poisson process would (a quiet month, a busy one, a
seasonal swing), so treating two 12-month totals as two Poisson counts calls even ordinary
wobble "significant" once counts reach the hundreds. The test here models the monthly counts:

- **quasi-Poisson model** (`statsmodels` GLM): log(expected monthly count) = level + a step for
  the current window + month of year, fitted to the comparator's and the current window's
  months (month of year only when both are whole years: each holds every calendar month once,
  so seasons are not mistaken for noise). When the 12 months before the comparator window are
  covered too, they join the fit with a level of their own, which firms up the month-of-year
  term and the dispersion (22 degrees of freedom instead of 11). The dispersion
  (how much more the months vary than Poisson) is the Pearson chi-squared over its degrees of
  freedom, floored at 1, and the step's p-value and interval come from the t distribution on
  those degrees of freedom. 11 degrees of freedom (24 months) make a poor estimate, so a place
  with fewer than `POOL_BELOW_DF` has its dispersion shrunk towards the measure's pooled across
  the force's districts (`pooled_dispersion`), weighted by degrees of freedom. The rate ratio is
  exp(step): the current monthly rate over the comparator's.
- **exact test** where a window counts fewer than `small_count` records: given the two totals'
  sum, the current total is binomial under an unchanged rate (`scipy.stats.binomtest`, with its
  exact Clopper-Pearson interval). With so few records, chance variation dwarfs the extra.

A change is "beyond normal month-to-month variation" when p < `significance_level`, which every
caller passes from the `[signals]` configuration. `BEYOND_NORMAL` and `WITHIN_NORMAL` are the
words every surface uses for the two outcomes (`variation_words`, `change_verdict`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

QUASI_POISSON = "quasi-Poisson"
EXACT = "exact"
TEST_NAMES = {
    QUASI_POISSON: "quasi-Poisson model of the monthly counts",
    EXACT: "exact test for two counts",
}
BEYOND_NORMAL = "beyond normal month-to-month variation"
WITHIN_NORMAL = "within normal variation"
BEYOND_SHORT = "beyond normal variation"


@dataclass(frozen=True)
class RateRatioTest:
    """The test of current against comparator counts; `None` fields mean "not defined here",
    with `note` saying why. `test` names the test used (`QUASI_POISSON` or `EXACT`) and
    `dispersion` the variance of the monthly counts as a multiple of the Poisson variance."""

    current_count: int
    comparator_count: int
    rate_ratio: float | None
    rate_ratio_low: float | None
    rate_ratio_high: float | None
    p_value: float | None
    significant: bool | None
    small_counts: bool
    note: str | None
    test: str | None = None
    dispersion: float | None = None


def variation_words(significant: bool | None) -> str | None:
    """A test's outcome in plain words: `beyond normal month-to-month variation` or `within
    normal variation`; None when there is no test."""
    if significant is None:
        return None
    return BEYOND_NORMAL if significant else WITHIN_NORMAL


def change_method_text(significance_level: float, small_count: int) -> str:
    """What the year-on-year test is, in a phrase for help texts and captions."""
    return (
        f"a {TEST_NAMES[QUASI_POISSON]} at the {significance_level:.0%} level; an "
        f"{TEST_NAMES[EXACT]} where a window counts fewer than {small_count} records"
    )


def change_verdict(significant: bool | None, diff: float | None) -> str | None:
    """A test's outcome as a short label with its direction: `beyond normal variation ↑`,
    `beyond normal variation ↓` or `within normal variation`; None when there is no test."""
    if significant is None:
        return None
    if not significant:
        return WITHIN_NORMAL
    return f"{BEYOND_SHORT} {'↑' if (diff or 0) > 0 else '↓'}"


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
    *,
    significance_level: float,
    small_count: int,
) -> RateRatioTest:
    """The exact test of two counts as Poisson: rate ratio = current / comparator per month,
    its (1 - significance_level) exact interval and the two-sided p-value, by
    `scipy.stats.binomtest` on the current count's share of the two."""
    small = min(current_count, comparator_count) < small_count
    total = current_count + comparator_count
    if total == 0:
        return RateRatioTest(
            current_count, comparator_count, None, None, None, None, None, small,
            "no test: neither window counted any record", EXACT,
        )  # fmt: skip
    from scipy.stats import binomtest  # imported when first needed: it takes a second to load

    # Under equal rates the current count's share is the current window's share of the time.
    null_share = current_months / (current_months + comparator_months)
    length_ratio = comparator_months / current_months
    result = binomtest(current_count, total, null_share)
    interval = result.proportion_ci(confidence_level=1 - significance_level, method="exact")
    p_value = float(result.pvalue)
    note = None
    if comparator_count == 0:
        note = "the comparison window counted none, so the ratio and its upper bound are infinite"
    return RateRatioTest(
        current_count=current_count,
        comparator_count=comparator_count,
        rate_ratio=_ratio(current_count / total, length_ratio),
        rate_ratio_low=_ratio(float(interval.low), length_ratio),
        rate_ratio_high=_ratio(float(interval.high), length_ratio),
        p_value=p_value,
        significant=p_value < significance_level,
        small_counts=small,
        note=note,
        test=EXACT,
        dispersion=None,
    )


@dataclass(frozen=True)
class StepFit:
    """The quasi-Poisson fit's step for the current window."""

    rate_ratio: float
    rate_ratio_low: float
    rate_ratio_high: float
    p_value: float
    dispersion: float
    residual_df: int
    seasonal: bool
    pooled_places: int = 0


MonthlyCounts = Mapping[date, int]


def _whole_years(windows: Sequence[MonthlyCounts]) -> bool:
    """Whether every window holds each calendar month exactly once."""
    return all(sorted(m.month for m in w) == list(range(1, 13)) for w in windows)


POOL_BELOW_DF = 20
"""A place whose own fit leaves fewer residual degrees of freedom than this (24 months: 11)
has its dispersion shrunk towards the measure's pooled across places (`PooledDispersion`)."""


@dataclass(frozen=True)
class PooledDispersion:
    """A measure's extra variation estimated across places (the force's districts) fitted with
    the same model over the same months: `alpha` is the extra variance as a multiple of the
    mean squared (a place of mean count m varies as m + alpha x m squared, so its dispersion is
    1 + alpha x m), on `residual_df` degrees of freedom from `places` places."""

    alpha: float
    residual_df: int
    places: int

    def at_level(self, mean_count: float) -> float:
        """The pooled dispersion of a place whose mean monthly count is `mean_count`."""
        return 1.0 + self.alpha * mean_count


@dataclass(frozen=True)
class _Fit:
    result: Any
    seasonal: bool
    pearson_chi2: float
    residual_df: int
    mean_count: float


def _windows_of(
    current: MonthlyCounts, comparator: MonthlyCounts, earlier: MonthlyCounts | None
) -> list[MonthlyCounts]:
    return [comparator, current] if earlier is None else [earlier, comparator, current]


def _poisson_fit(windows: Sequence[MonthlyCounts]) -> _Fit:
    """The Poisson GLM of the windows' monthly counts: a level per window (the last window's
    step over the one before in column 1) and month of year when every window is a whole
    year."""
    import numpy as np
    import statsmodels.api as sm

    seasonal = _whole_years(windows)
    counts = np.array([float(c) for w in windows for c in w.values()])
    window_of = np.array([i for i, w in enumerate(windows) for _ in w])
    month_of = np.array([m.month for w in windows for m in w])
    # Column 1 is the step: current against comparator; the earlier year, if any, has its own.
    columns = [np.ones(len(counts)), (window_of == len(windows) - 1).astype(float)]
    if len(windows) == 3:
        columns.append((window_of == 0).astype(float))
    if seasonal:
        columns += [(month_of == k).astype(float) for k in range(2, 13)]
    with warnings.catch_warnings():
        # A month of zeros in a sparse series sends a month-of-year term towards its boundary;
        # the step is still estimated, and statsmodels' warning would only repeat that.
        warnings.simplefilter("ignore")
        result = sm.GLM(counts, np.column_stack(columns), family=sm.families.Poisson()).fit()
    return _Fit(
        result=result,
        seasonal=seasonal,
        pearson_chi2=float(result.pearson_chi2),
        residual_df=int(result.df_resid),
        mean_count=float(counts.mean()),
    )


def pooled_dispersion(
    places: Sequence[tuple[MonthlyCounts, MonthlyCounts, MonthlyCounts | None]],
    *,
    small_count: int,
) -> PooledDispersion | None:
    """The measure's extra variation pooled across `places`, each (current, comparator,
    earlier) as `change_test` takes them, fitted with the same quasi-Poisson model. A place of
    mean count m has expected Pearson chi-squared of about its degrees of freedom x
    (1 + alpha x m), so alpha = sum(chi2 - df) / sum(df x m), floored at 0: a moment estimate
    that lets places of different sizes share one coefficient of extra variation. Places
    whose windows count fewer than `small_count` records (where the exact test would be used)
    are left out; None when no place remains."""
    chi2 = 0.0
    df = 0
    weight = 0.0
    used = 0
    for current, comparator, earlier in places:
        if min(sum(current.values()), sum(comparator.values())) < small_count:
            continue
        fit = _poisson_fit(_windows_of(current, comparator, earlier))
        if fit.residual_df <= 0:
            continue
        chi2 += fit.pearson_chi2
        df += fit.residual_df
        weight += fit.residual_df * fit.mean_count
        used += 1
    if not used:
        return None
    return PooledDispersion(alpha=max(0.0, (chi2 - df) / weight), residual_df=df, places=used)


def step_fit(
    current: MonthlyCounts,
    comparator: MonthlyCounts,
    earlier: MonthlyCounts | None = None,
    *,
    significance_level: float,
    pooled: PooledDispersion | None = None,
) -> StepFit:
    """Fit log(expected monthly count) = window level + month of year by a Poisson GLM and
    return the current window's step over the comparator's, its standard error scaled by the
    Pearson dispersion floored at 1 (quasi-Poisson). `earlier` (the year before the comparator)
    adds a level of its own, so it firms up the month-of-year term and the dispersion without
    touching the step. The month-of-year term enters when every window is a whole year. When
    the fit leaves fewer than `POOL_BELOW_DF` residual degrees of freedom and `pooled` is
    given, the dispersion is the average of the place's own and the pooled one at the place's
    level, weighted by their degrees of freedom, and rests on their sum."""
    from scipy.stats import norm
    from scipy.stats import t as student_t

    fit = _poisson_fit(_windows_of(current, comparator, earlier))
    poisson = fit.result
    df_resid = fit.residual_df
    own = fit.pearson_chi2 / df_resid if df_resid > 0 else 1.0
    dispersion_df = df_resid
    is_pooled = pooled is not None and df_resid < POOL_BELOW_DF
    if pooled is not None and is_pooled:
        dispersion_df = df_resid + pooled.residual_df
        shared = pooled.at_level(fit.mean_count)
        own = (max(df_resid, 0) * own + pooled.residual_df * shared) / dispersion_df
    dispersion = max(1.0, own)
    step = float(poisson.params[1])
    se = float(poisson.bse[1]) * math.sqrt(dispersion)
    if dispersion > 1.0:
        # The dispersion is estimated, so the step's z is a t on its degrees of freedom.
        p_value = float(2 * student_t.sf(abs(step / se), dispersion_df))
        quantile = float(student_t.ppf(1 - significance_level / 2, dispersion_df))
    else:
        p_value = float(poisson.pvalues[1])
        quantile = float(norm.ppf(1 - significance_level / 2))
    return StepFit(
        rate_ratio=math.exp(step),
        rate_ratio_low=math.exp(step - quantile * se),
        rate_ratio_high=math.exp(step + quantile * se),
        p_value=min(1.0, p_value),
        dispersion=dispersion,
        residual_df=dispersion_df,
        seasonal=fit.seasonal,
        pooled_places=pooled.places if pooled is not None and is_pooled else 0,
    )


def change_test(
    current: MonthlyCounts,
    comparator: MonthlyCounts,
    earlier: MonthlyCounts | None = None,
    *,
    significance_level: float,
    small_count: int,
    pooled: PooledDispersion | None = None,
) -> RateRatioTest:
    """Whether the current window's monthly rate differs from the comparator's beyond normal
    month-to-month variation. Each window is its months' counts (month start -> count). The
    quasi-Poisson step (`step_fit`, its dispersion shrunk towards `pooled` when the place has
    too few months), or the exact test when a window counts fewer than `small_count`
    records."""
    current_count = int(sum(current.values()))
    comparator_count = int(sum(comparator.values()))
    if min(current_count, comparator_count) < small_count:
        return rate_ratio_test(
            current_count,
            comparator_count,
            len(current),
            len(comparator),
            significance_level=significance_level,
            small_count=small_count,
        )
    fit = step_fit(
        current, comparator, earlier, significance_level=significance_level, pooled=pooled
    )
    note = None
    if fit.pooled_places:
        note = (
            f"dispersion from {len(current) + len(comparator) + len(earlier or {})} months, "
            f"shrunk towards the measure's across {fit.pooled_places} districts"
        )
    return RateRatioTest(
        current_count=current_count,
        comparator_count=comparator_count,
        rate_ratio=fit.rate_ratio,
        rate_ratio_low=fit.rate_ratio_low,
        rate_ratio_high=fit.rate_ratio_high,
        p_value=fit.p_value,
        significant=fit.p_value < significance_level,
        small_counts=False,
        note=note,
        test=QUASI_POISSON,
        dispersion=fit.dispersion,
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
