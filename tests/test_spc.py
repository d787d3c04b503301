"""XmR charts on small hand-computed series: the limits, each special-cause rule (a series that
fires it and one that almost does and must not), improvement against concern, and rebasing."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from builders import view_at

from crimeprev.statistics.spc import (
    BEYOND_LIMIT,
    COMMON_CAUSE,
    CONCERN,
    IMPROVEMENT,
    SHIFT,
    TREND,
    TWO_OF_THREE,
    SpcError,
    latest_variation,
    measure_spc,
    spc_table,
    variation_by_measure,
    xmr,
    xmr_limits,
)

# Limits learnt from [9, 15, 9, 15]: mean 12, moving ranges 6, 6, 6, so the process limits are
# 12 +/- 2.66 x 6 = -3.96 and 27.96, and two-thirds of the way to them 1.36 and 22.64.
BASE = [9.0, 15.0, 9.0, 15.0]


def _chart(tail: list[float], improvement: str = "down", **options):
    return xmr(BASE + tail, improvement, baseline_points=len(BASE), **options)


def _fired(points) -> dict[int, tuple[str, ...]]:
    return {i: p.rules for i, p in enumerate(points) if p.rules}


def test_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges():
    limits = xmr_limits([10, 12, 11, 13, 9])
    assert limits.mean == 11
    assert limits.mean_moving_range == pytest.approx((2 + 1 + 2 + 4) / 4)
    assert limits.upper == pytest.approx(11 + 2.66 * 2.25)
    assert limits.lower == pytest.approx(11 - 2.66 * 2.25)
    assert limits.upper_near == pytest.approx(11 + 2.66 * 2.25 * 2 / 3)
    points = _chart([])
    assert points[0].limits.upper == pytest.approx(27.96)
    assert points[0].limits.lower == pytest.approx(-3.96)
    assert points[0].limits.upper_near == pytest.approx(22.64)


def test_a_point_beyond_a_limit_is_special_cause():
    points = _chart([13, 11, 28])
    assert _fired(points) == {6: (BEYOND_LIMIT,)}
    assert points[6].side == "high"


def test_a_point_just_inside_the_limit_is_not():
    assert _fired(_chart([13, 11, 27.9])) == {}


def test_a_point_below_the_lower_limit_is_found_too():
    points = _chart([13, 11, -4])
    assert _fired(points) == {6: (BEYOND_LIMIT,)}
    assert points[6].side == "low"


def test_seven_points_on_one_side_of_the_mean_are_a_shift():
    points = _chart([9, 13, 13, 13, 13, 13, 13, 13])
    assert _fired(points) == {i: (SHIFT,) for i in range(5, 12)}


def test_six_points_on_one_side_are_not_and_a_point_on_the_mean_ends_a_run():
    assert _fired(_chart([9, 13, 13, 13, 13, 13, 13, 11])) == {}
    assert _fired(_chart([9, 13, 13, 13, 12, 13, 13, 13, 13])) == {}


def test_seven_points_rising_are_a_trend():
    points = _chart([10, 11, 12, 13, 14, 15, 16])
    assert _fired(points) == {i: (TREND,) for i in range(4, 11)}
    assert {points[i].side for i in range(4, 11)} == {"high"}


def test_six_rising_then_a_repeat_is_not_a_trend():
    assert _fired(_chart([10, 11, 12, 13, 14, 15, 15])) == {}


def test_seven_points_falling_are_a_trend_on_the_low_side():
    points = _chart([16, 15, 14, 13, 12, 11, 10])
    assert _fired(points) == {i: (TREND,) for i in range(4, 11)}
    assert points[10].side == "low"


def test_two_of_three_beyond_two_thirds_on_one_side():
    points = _chart([12, 23, 12, 23])
    assert _fired(points) == {5: (TWO_OF_THREE,), 7: (TWO_OF_THREE,)}


def test_two_near_the_limit_but_four_apart_do_not_fire():
    assert _fired(_chart([12, 23, 12, 12, 23])) == {}


def test_two_near_opposite_limits_do_not_fire():
    assert _fired(_chart([12, 23, 12, 1])) == {}


def test_the_improvement_direction_decides_improvement_or_concern():
    down = _chart([13, 11, 28], improvement="down")
    up = _chart([13, 11, 28], improvement="up")
    assert (down[6].point_type, up[6].point_type) == (CONCERN, IMPROVEMENT)
    assert down[5].point_type == COMMON_CAUSE
    assert latest_variation(down).icon == "🟠 Special cause: concern (high)"
    assert latest_variation(up).label == "Special cause: improvement (high)"
    assert latest_variation(_chart([13, 11])).icon == "⚪ Common cause"


def test_rebasing_gives_each_segment_its_own_limits_and_runs_do_not_cross():
    values = [10.0, 14.0, 10.0, 14.0, 30.0, 34.0, 30.0, 34.0]
    whole = xmr(values, "down")
    rebased = xmr(values, "down", breaks=[4])
    assert whole[0].limits.mean == 22
    assert [p.segment for p in rebased] == [0] * 4 + [1] * 4
    assert (rebased[0].limits.mean, rebased[0].limits.mean_moving_range) == (12, 4)
    assert (rebased[4].limits.mean, rebased[4].limits.mean_moving_range) == (32, 4)
    assert all(p.point_type == COMMON_CAUSE for p in rebased)
    # Seven points above the first segment's mean straddle the rebase, yet make no run.
    straddling = [10.0, 14.0, 10.0, 13, 13, 13, 13, 12, 16, 12, 16, 12]
    assert _fired(xmr(straddling, "down", breaks=[7], baseline_points=3)) == {}
    assert set(_fired(xmr(straddling, "down", baseline_points=3)).values()) == {(SHIFT,)}


def test_the_baseline_sets_the_limits_that_later_points_are_judged_by():
    points = xmr([10, 14, 10, 14, 40], "down", baseline_points=4)
    assert points[4].limits.mean == 12
    assert [p.is_baseline for p in points] == [True] * 4 + [False]
    assert points[4].rules == (BEYOND_LIMIT,)
    # Learnt from all five points, the limits widen and 40 is inside them.
    assert BEYOND_LIMIT not in xmr([10, 14, 10, 14, 40], "down")[4].rules


def test_impossible_charts_say_why():
    with pytest.raises(SpcError, match="at least 2 months"):
        xmr([10, 12, 14], "down", breaks=[2])
    with pytest.raises(SpcError, match="at least 2"):
        xmr_limits([10])
    with pytest.raises(SpcError, match="'up' or 'down'"):
        xmr([1, 2], "sideways")


def test_spc_table_skips_uncovered_months_and_rebases_by_month():
    months = pd.date_range("2020-01-01", periods=8, freq="MS")
    series = pd.DataFrame(
        {"month_start": months, "count_records": [10, 14, None, 10, 14, 30, 34, 30]}
    )
    table = spc_table(series, "down", rebase_months=[date(2020, 6, 1)])
    assert len(table) == 7
    assert table["segment"].tolist() == [0, 0, 0, 0, 1, 1, 1]
    assert table["mean"].iloc[0] == 12
    assert table["mean"].iloc[-1] == pytest.approx(94 / 3)


def test_measure_spc_charts_the_demo_series(demo_db):
    table = measure_spc(
        demo_db, view_at(demo_db, date(2022, 9, 1)), measure_id="knife-crime", months=36
    )
    assert len(table) == 36
    assert table["count_records"].iloc[-1] > 0
    assert table["mean"].iloc[0] == pytest.approx(table["count_records"].mean())
    rebased = measure_spc(
        demo_db,
        view_at(demo_db, date(2022, 9, 1)),
        measure_id="knife-crime",
        months=36,
        rebase_months=(date(2020, 3, 1),),
    )
    assert rebased.loc[rebased["month_start"] == "2020-03-01", "segment"].item() == 1
    variations = variation_by_measure(demo_db, view_at(demo_db, date(2022, 9, 1)))
    assert set(variations) == {m.id for m in demo_db.config.measures}
    assert variations["knife-crime"].kind == table["point_type"].iloc[-1]
