"""The spike finder: for one month, the measures in the districts in view whose count is
improbably high against what was expected of it.

Expected count. For each measure, the monthly counts of every force district over the
preceding history (up to `spike_history_months`, at least `spike_min_history_months`) are fitted
by a log-linear Poisson GLM (statsmodels): a level for each district, a trend shared by the
districts and, when the history holds every calendar month, a month-of-year term. The fit is
projected to the month: a trend is followed rather than lagged, and the season is that month's.

Test. The month's count is compared with a negative binomial whose mean is the expected count
and whose variance allows for the measure's extra variation, mean + alpha x mean squared, with
alpha estimated for the measure by maximum likelihood (statsmodels' `NegativeBinomial`; zero
when the counts vary no more than Poisson), and for the uncertainty of the expected count
itself (the fit's standard error at that month); the p-value is the upper tail,
P(X >= count). A month tests every measure in every
district in view, so a per-count 5% level would raise several false alarms a month by chance;
the threshold is Bonferroni's instead: `spike_family_alpha` divided by the number of counts
tested, which holds the chance of any false alarm in a month at or under `spike_family_alpha`.
A count must also exceed its expected count by at least `spike_min_excess` records, so a
district that usually records nothing cannot alert on three. Records outside the force area or
without a location are never tested: they belong to no district a lead could act in.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from crimeprev.config import Signals
from crimeprev.periods import PeriodError, add_months, month_long_label

READING = {"down": "concern", "up": "good news"}
BELOW_EXPECTED = "at or below expected"
SPIKE_COLUMNS = (
    "measure_id",
    "measure_name",
    "strand_id",
    "strand_name",
    "improvement",
    "district_code",
    "district_name",
    "district_slug",
    "lpa",
    "month_start",
    "count_records",
    "expected_count",
    "excess_count",
    "ratio",
    "p_value",
    "nb_alpha",
    "is_alert",
    "reading",
)
SPIKE_JSON_KEYS = (
    "measure",
    "strand",
    "district",
    "month",
    "count_records",
    "expected_count",
    "excess_count",
    "ratio",
    "p_value",
    "threshold_p_value",
    "tests_count",
    "reading",
)


class SpikesUnavailable(PeriodError):
    """The month cannot be tested: it is not in the data, or too little history precedes it."""


def upper_tail_p_value(count: int, expected: float, variance: float | None = None) -> float:
    """P(X >= count) for X negative binomial with mean `expected` and `variance` (Poisson when
    the variance is not above the mean)."""
    return float(
        upper_tail_p_values([count], [expected], None if variance is None else [variance])[0]
    )


def upper_tail_p_values(
    counts: Sequence[int], expected: Sequence[float], variance: Sequence[float] | None = None
) -> list[float]:
    """`upper_tail_p_value` of each count, in one call to scipy for all of them."""
    import numpy as np
    from scipy.stats import nbinom, poisson  # imported when first needed: slow to load

    count = np.asarray(counts, dtype=float)
    mean = np.asarray(expected, dtype=float)
    spread = mean.copy() if variance is None else np.asarray(variance, dtype=float)
    safe_mean = np.where(mean > 0, mean, 1.0)
    extra = spread > safe_mean * (1 + 1e-9)
    over = np.where(extra, spread - safe_mean, 1.0)
    size = safe_mean**2 / over
    nb = nbinom.sf(count - 1, size, np.where(extra, safe_mean / np.where(extra, spread, 1), 0.5))
    p = np.where(extra, nb, poisson.sf(count - 1, safe_mean))
    p = np.where(mean <= 0, 0.0, p)
    p = np.where(count <= 0, 1.0, p)
    return [float(v) for v in p]


@dataclass(frozen=True)
class MeasureFit:
    """A measure's expected counts for the month, by district, with their variances."""

    expected: dict[str, float]
    variance: dict[str, float]
    alpha: float
    seasonal: bool


def _month_index(month: pd.Timestamp) -> int:
    return int(month.year) * 12 + int(month.month) - 1


def measure_fit(history: pd.DataFrame, month: pd.Timestamp) -> MeasureFit:
    """Fit one measure's district-by-month `history` (`district_code`, `month_start`,
    `count_records`) and project it to `month`: district levels, a shared trend and, when every
    calendar month is in the history, month of year; the negative binomial's alpha for the
    measure (variance = mean + alpha x mean squared)."""
    import numpy as np
    import statsmodels.api as sm

    totals = history.groupby("district_code")["count_records"].sum()
    fitted = sorted(totals[totals > 0].index)
    expected = {str(code): 0.0 for code in totals.index}
    variance = dict(expected)
    frame = history[history["district_code"].isin(fitted)]
    if not fitted:
        return MeasureFit(expected, variance, 0.0, False)
    target = _month_index(month)
    calendar = sorted({int(m.month) for m in frame["month_start"]})
    seasonal = len(calendar) == 12
    ahead = np.array([(_month_index(m) - target) / 12 for m in frame["month_start"]])

    def design(codes: Sequence[str], years: np.ndarray, months: Sequence[int]) -> np.ndarray:
        code_array = np.asarray(codes, dtype=object)
        month_array = np.asarray(months)
        columns = [(code_array == code).astype(float) for code in fitted]
        columns.append(np.asarray(years, dtype=float))
        if seasonal:
            columns += [(month_array == k).astype(float) for k in range(2, 13)]
        return np.column_stack(columns)

    x = design(list(frame["district_code"]), ahead, [int(m.month) for m in frame["month_start"]])
    y = frame["count_records"].to_numpy(dtype=float)
    k = x.shape[1]
    with warnings.catch_warnings():
        # A district whose counts are nearly all zero pulls its level towards the boundary, and
        # counts no more variable than Poisson pull the dispersion to zero: both are handled
        # below, and statsmodels' warnings would only repeat them.
        warnings.simplefilter("ignore")
        poisson = sm.GLM(y, x, family=sm.families.Poisson()).fit()
        params = np.asarray(poisson.params)
        covariance = np.asarray(poisson.cov_params())
        alpha = 0.0
        if float(poisson.pearson_chi2) > poisson.df_resid:
            # Newton's method from the moment estimate of alpha converges in a few steps; from a
            # fixed guess it can wander off and take many (each Hessian is costly).
            phi = float(poisson.pearson_chi2) / max(int(poisson.df_resid), 1)
            start = (phi - 1) / max(float(np.mean(poisson.fittedvalues)), 1e-9)
            try:
                nb = sm.NegativeBinomial(y, x, loglike_method="nb2").fit(
                    start_params=np.append(params, min(max(start, 1e-4), 10.0)),
                    method="newton",
                    maxiter=100,
                    disp=0,
                )
                fitted_alpha = float(nb.params[-1])
                nb_covariance = np.asarray(nb.cov_params())[:k, :k]
                stable = bool(nb.mle_retvals.get("converged")) and 0 < fitted_alpha < 100
                stable = stable and bool(np.isfinite(nb_covariance).all())
            except (np.linalg.LinAlgError, ValueError):
                stable = False
            if stable:
                params = np.asarray(nb.params[:k])
                covariance = nb_covariance
                alpha = fitted_alpha
            else:
                # No stable maximum: fall back on the Pearson dispersion as the variance's
                # multiple of the mean, which the Poisson fit's errors then carry too.
                phi = float(poisson.pearson_chi2) / max(int(poisson.df_resid), 1)
                covariance = covariance * phi
                alpha = (phi - 1) / max(float(np.mean(poisson.fittedvalues)), 1e-9)
    at_month = design(fitted, np.zeros(len(fitted)), [int(month.month)] * len(fitted))
    for code, row in zip(fitted, at_month, strict=True):
        mean = math.exp(float(row @ params))
        spread = float(row @ covariance @ row)
        expected[code] = mean
        # The month's own variation (negative binomial: mean + alpha x mean squared), widened
        # by the uncertainty of the expected level itself (log-scale variance `spread`).
        variance[code] = mean + mean**2 * ((1 + alpha) * (1 + spread) - 1)
    return MeasureFit(expected, variance, alpha, seasonal)


def spike_table(
    monthly: pd.DataFrame,
    month: date,
    improvement: dict[str, str],
    settings: Signals,
    district_codes: Sequence[str] | None = None,
) -> tuple[pd.DataFrame, float]:
    """Test each measure x district count of `month` in `monthly` (`measure_id`,
    `district_code`, `month_start`, `count_records`, one row per covered month and every force
    district) against its expected count from the months before. Only the districts in
    `district_codes` (all when None) are tested, and the Bonferroni threshold shares
    `settings.spike_family_alpha` among those tests; every district's history informs the fit.
    Returns the tests, ranked, and the per-test threshold."""
    frame = monthly.assign(month_start=pd.to_datetime(monthly["month_start"]))
    target = pd.Timestamp(month)
    history_start = pd.Timestamp(add_months(month, -settings.spike_history_months))
    history = frame[(frame["month_start"] < target) & (frame["month_start"] >= history_start)]
    current = frame[frame["month_start"] == target]
    history_months = sorted(history["month_start"].unique())
    if current.empty:
        raise SpikesUnavailable(f"There is no data for {month_long_label(month)}.")
    if len(history_months) < settings.spike_min_history_months:
        raise SpikesUnavailable(
            f"The spike finder needs {settings.spike_min_history_months} months of data before "
            f"{month_long_label(month)}; the data has {len(history_months)}."
        )
    tests = current.copy()
    if district_codes is not None:
        tests = tests[tests["district_code"].isin(list(district_codes))].copy()
    from threadpoolctl import threadpool_limits

    tested = set(tests["measure_id"])
    # The fits are small: BLAS threads only contend for the cores (tens of times slower on a
    # busy machine), so each runs on one.
    with threadpool_limits(limits=1, user_api="blas"):
        fits = {
            str(measure_id): measure_fit(rows, target)
            for measure_id, rows in history.groupby("measure_id")
            if measure_id in tested
        }
    keys = list(zip(tests["measure_id"], tests["district_code"], strict=True))
    tests["expected_count"] = [fits[m].expected.get(d, 0.0) for m, d in keys]
    tests["expected_variance"] = [fits[m].variance.get(d, 0.0) for m, d in keys]
    tests["nb_alpha"] = [fits[m].alpha for m, _ in keys]
    tests["count_records"] = tests["count_records"].astype("int64")
    tests["excess_count"] = tests["count_records"] - tests["expected_count"]
    tests["ratio"] = [
        None if e <= 0 else c / e
        for c, e in zip(tests["count_records"], tests["expected_count"], strict=True)
    ]
    tests["p_value"] = upper_tail_p_values(
        tests["count_records"].tolist(),
        tests["expected_count"].tolist(),
        tests["expected_variance"].tolist(),
    )
    threshold = settings.spike_family_alpha / max(len(tests), 1)
    tests["is_alert"] = (tests["p_value"] < threshold) & (
        tests["excess_count"] >= settings.spike_min_excess
    )
    tests["improvement"] = tests["measure_id"].map(improvement)
    # Only a count above its expected level is read as a concern or good news.
    tests["reading"] = [
        READING[i] if excess > 0 else BELOW_EXPECTED
        for i, excess in zip(tests["improvement"], tests["excess_count"], strict=True)
    ]
    ranked = tests.sort_values(["p_value", "excess_count"], ascending=[True, False])
    return ranked.reset_index(drop=True), threshold
