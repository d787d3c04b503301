"""A place with too few months for a firm dispersion of its own borrows the measure's, pooled
across the force's districts: the pooled estimate against a direct computation with numpy (the
Poisson fit of window levels and month of year on a complete table is row total x column total
/ grand total, so its Pearson chi-squared needs no model fitting), and a steady place among
overdispersed neighbours given a wider interval than the floor at 1 would give it."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from scipy.stats import t as student_t

from crimeprev.periods import add_months
from crimeprev.statistics.change import (
    POOL_BELOW_DF,
    change_test,
    pooled_dispersion,
)

LEVEL, SMALL = 0.05, 20
MONTHS = [add_months(date(2020, 10, 1), i) for i in range(24)]
SEASON = np.array([1 + 0.2 * math.sin(2 * math.pi * m.month / 12) for m in MONTHS])


def _neighbours(seed: int = 8, cv: float = 0.2) -> np.ndarray:
    """13 districts x 24 months, levels 15 to 200 a month, each month's rate drawn with
    coefficient of variation `cv`, then Poisson."""
    rng = np.random.default_rng(seed)
    levels = np.linspace(15, 200, 13)[:, None] * SEASON[None, :]
    return rng.poisson(levels * rng.gamma(1 / cv**2, cv**2, size=levels.shape))


def _windows(counts) -> tuple[dict[date, int], dict[date, int], None]:
    """(current, comparator, no earlier year) as change_test takes them."""
    values = [int(c) for c in counts]
    return (
        dict(zip(MONTHS[12:], values[12:], strict=True)),
        dict(zip(MONTHS[:12], values[:12], strict=True)),
        None,
    )


def _by_hand(table: np.ndarray) -> tuple[float, int, float]:
    """Pearson chi-squared, degrees of freedom and mean count of a 2 x 12 window-by-month table
    under window levels + month of year."""
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / table.sum()
    chi2 = float(((table - expected) ** 2 / expected).sum())
    return chi2, (table.shape[0] - 1) * (table.shape[1] - 1), float(table.mean())


def test_the_pooled_estimate_agrees_with_a_direct_computation():
    counts = _neighbours()
    pooled = pooled_dispersion([_windows(row) for row in counts], small_count=SMALL)
    assert pooled is not None
    parts = [_by_hand(row.reshape(2, 12)) for row in counts]
    chi2 = sum(p[0] for p in parts)
    df = sum(p[1] for p in parts)
    alpha = (chi2 - df) / sum(p[1] * p[2] for p in parts)
    assert pooled.places == 13 and pooled.residual_df == df == 13 * 11
    assert pooled.alpha == pytest.approx(alpha, rel=1e-6)
    # 20% extra variation is alpha 0.04: the estimate is near it.
    assert 0.02 < pooled.alpha < 0.07


def test_places_under_the_small_count_are_left_out():
    counts = _neighbours()
    quiet = np.ones(24, dtype=int)
    pooled = pooled_dispersion([_windows(r) for r in [*counts, quiet]], small_count=SMALL)
    assert pooled is not None and pooled.places == 13
    assert pooled_dispersion([_windows(quiet)], small_count=SMALL) is None


def test_a_steady_place_among_overdispersed_neighbours_gets_a_wider_interval():
    # The place's own 24 months follow the season almost exactly: its own dispersion is under 1.
    place = np.round(80 * SEASON * np.r_[np.ones(12), np.full(12, 1.12)]).astype(int)
    own_chi2, own_df, mean_count = _by_hand(place.reshape(2, 12))
    assert own_chi2 / own_df < 1 and own_df < POOL_BELOW_DF
    current, comparator, _ = _windows(place)
    floor = change_test(current, comparator, significance_level=LEVEL, small_count=SMALL)
    assert floor.dispersion == 1.0

    counts = _neighbours()
    pooled = pooled_dispersion([_windows(row) for row in counts], small_count=SMALL)
    shared = change_test(
        current, comparator, significance_level=LEVEL, small_count=SMALL, pooled=pooled
    )
    parts = [_by_hand(row.reshape(2, 12)) for row in counts]
    pool_df = sum(p[1] for p in parts)
    alpha = (sum(p[0] for p in parts) - pool_df) / sum(p[1] * p[2] for p in parts)
    dispersion = (own_chi2 + pool_df * (1 + alpha * mean_count)) / (own_df + pool_df)
    assert shared.dispersion == pytest.approx(dispersion, rel=1e-6)
    assert shared.dispersion > 1.5

    # The interval by hand: log rate ratio of the totals, Poisson variance 1/a + 1/b scaled
    # by the dispersion, t quantile on the pooled degrees of freedom.
    before, after = place[:12].sum(), place[12:].sum()
    half = student_t.ppf(1 - LEVEL / 2, own_df + pool_df) * math.sqrt(
        dispersion * (1 / before + 1 / after)
    )
    ratio = after / before
    assert shared.rate_ratio == pytest.approx(ratio, rel=1e-9)
    assert shared.rate_ratio_low == pytest.approx(ratio * math.exp(-half), rel=1e-6)
    assert shared.rate_ratio_high == pytest.approx(ratio * math.exp(half), rel=1e-6)
    assert shared.rate_ratio_low < floor.rate_ratio_low
    assert shared.rate_ratio_high > floor.rate_ratio_high
    assert shared.p_value > floor.p_value
    assert "13 districts" in (shared.note or "")


def test_a_place_with_three_years_keeps_its_own_dispersion():
    rng = np.random.default_rng(3)
    months = [add_months(date(2019, 10, 1), i) for i in range(36)]
    counts = rng.poisson(120 * rng.gamma(100, 0.01, size=36))
    windows = [
        dict(zip(months[i : i + 12], map(int, counts[i : i + 12]), strict=True))
        for i in (0, 12, 24)
    ]
    pooled = pooled_dispersion([_windows(row) for row in _neighbours()], small_count=SMALL)
    alone = change_test(
        windows[2], windows[1], windows[0], significance_level=LEVEL, small_count=SMALL
    )
    shared = change_test(
        windows[2],
        windows[1],
        windows[0],
        significance_level=LEVEL,
        small_count=SMALL,
        pooled=pooled,
    )
    assert shared == alone


def test_demo_rows_without_the_year_before_say_their_dispersion_was_pooled(demo_db):
    from builders import view_at

    from crimeprev.figures import insight

    # The demo starts in April 2017: to March 2019 the previous year has no year before it.
    table = insight.insight_table(demo_db, view_at(demo_db, date(2019, 3, 1)))
    previous = table[table["comparison"] == "previous_year"]
    baseline = table[table["comparison"] == "baseline"]
    assert previous["significance_note"].str.contains("shrunk towards the measure's").all()
    assert baseline["significance_note"].isna().all()
