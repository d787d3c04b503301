"""XmR charts against NHSRplotthedots, the Making Data Count reference: its test inputs and
expected outputs (the limits of its `ptd_spc_standard` snapshots, unscreened; the rule vectors
of its `ptd_calculate_point_type` tests; its two-of-three-on-opposite-sides case), carried over
as data. Then what Making Data Count adds: limits only from 12 points, gaps that break the
chart, rebasing, and the demo series."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest
from builders import view_at

from crimeprev.figures.variation import measure_spc, variation_by_measure
from crimeprev.statistics.spc import (
    BEYOND_LIMIT,
    COMMON_CAUSE,
    CONCERN,
    HIGH,
    IMPROVEMENT,
    LOW,
    SHIFT,
    TREND,
    TWO_OF_THREE,
    Limits,
    SpcError,
    latest_variation,
    spc_table,
    special_cause_rules,
    xmr,
    xmr_limits,
)

# set.seed(123); rnorm(20), the reference's test data (R's own generator).
RNORM_123 = [
    -0.56047565, -0.23017749, 1.55870831, 0.07050839, 0.12928774, 1.71506499, 0.46091621,
    -1.26506123, -0.68685285, -0.44566197, 1.22408180, 0.35981383, 0.40077145, 0.11068272,
    -0.55584113, 1.78691314, 0.49785048, -1.96661716, 0.70135590, -0.47279141,
]  # fmt: skip
# Mean 0 and mean moving range 1: limits at +/-2.66, two-thirds of the way at +/-1.7733.
UNIT = Limits(mean=0.0, mean_moving_range=1.0)
CLOSE_ABOVE, ABOVE, BELOW, CLOSE_BELOW = 2.0, 0.5, -0.5, -2.0


def _flagged(values, rule):
    return [int(rule in marks) for marks in special_cause_rules(values, UNIT)]


def test_limits_match_the_reference_snapshot():
    # ptd_spc_standard snapshot r1: mean_col 0.1416238, lpl -3.01138, upl 3.294627
    limits = xmr_limits(RNORM_123)
    assert limits.mean == pytest.approx(0.1416238, abs=5e-8)
    assert limits.lower == pytest.approx(-3.01138, abs=5e-6)
    assert limits.upper == pytest.approx(3.294627, abs=5e-7)


def test_unscreened_limits_match_the_reference_with_screening_off():
    # Snapshot r3: y[15] <- 10 with screen_outliers = FALSE: 0.6694159, -4.596625, 5.935457
    values = list(RNORM_123)
    values[14] = 10.0
    limits = xmr_limits(values)
    assert limits.mean == pytest.approx(0.6694159, abs=5e-8)
    assert limits.lower == pytest.approx(-4.596625, abs=5e-7)
    assert limits.upper == pytest.approx(5.935457, abs=5e-7)


def test_seven_point_trend_vectors_of_the_reference():
    assert _flagged([1, 2, 3, 4, 5, 6], TREND) == [0] * 6
    assert _flagged([1, 2, 3, 3, 4, 5, 6], TREND) == [0] * 7
    assert _flagged([1, 2, 3, 4, 5, 6, 7], TREND) == [1] * 7
    assert _flagged([2, 1, 2, 3, 4, 5, 6, 7, 3], TREND) == [0, 1, 1, 1, 1, 1, 1, 1, 0]
    assert _flagged([2, 7, 6, 5, 4, 3, 2, 1, 3], TREND) == [0, 1, 1, 1, 1, 1, 1, 1, 0]


def test_seven_points_one_side_vectors_of_the_reference():
    assert _flagged([ABOVE] * 6, SHIFT) == [0] * 6
    assert _flagged([ABOVE] * 6 + [BELOW], SHIFT) == [0] * 7
    assert _flagged([ABOVE] * 8 + [BELOW], SHIFT) == [1] * 8 + [0]
    assert _flagged([BELOW] * 8 + [ABOVE], SHIFT) == [1] * 8 + [0]
    # A point exactly on the mean ends the run.
    assert _flagged([ABOVE] * 4 + [0.0] + [ABOVE] * 4, SHIFT) == [0] * 9


def _close(flags, sides):
    """Values from the reference's close_to_limits and relative_to_mean vectors."""
    return [
        (CLOSE_ABOVE if side > 0 else CLOSE_BELOW) if flag else (ABOVE if side > 0 else BELOW)
        for flag, side in zip(flags, sides, strict=True)
    ]


def test_two_in_three_vectors_of_the_reference():
    same = [1] * 7
    for flags in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert _flagged(_close(flags, [1, 1, 1]), TWO_OF_THREE) == flags
    assert _flagged(_close([0, 0, 1, 0, 1, 0, 0], same), TWO_OF_THREE) == [0, 0, 1, 0, 1, 0, 0]
    assert _flagged(_close([0, 0, 1, 1, 0, 0, 0], same), TWO_OF_THREE) == [0, 0, 1, 1, 0, 0, 0]
    assert _flagged(_close([1, 0, 0, 1], [1] * 4), TWO_OF_THREE) == [0] * 4
    assert _flagged(_close([1, 0, 0, 1, 1], [1] * 5), TWO_OF_THREE) == [0, 0, 0, 1, 1]


def test_two_in_three_on_opposite_sides_of_the_mean_is_not_a_signal():
    for flags in ([1, 0, 1], [0, 1, 1], [1, 1, 0]):
        assert _flagged(_close(flags, [1, -1, 1]), TWO_OF_THREE) == [0, 0, 0]
    alternating = [1, -1, 1, -1, 1, -1, 1]
    assert _flagged(_close([0, 0, 1, 0, 1, 0, 0], alternating), TWO_OF_THREE) == [0] * 7
    assert (
        _flagged(_close([0, 0, 1, 1, 0, 0, 0], [-s for s in alternating]), TWO_OF_THREE) == [0] * 7
    )
    # ptd_spc_standard's test: 16 points alternating 1 and -1, the last two 5.5 and -5.5.
    values = [1.0, -1.0] * 7 + [5.5, -5.5]
    points = xmr(values, "up")
    assert [p.point_type for p in points[-2:]] == [COMMON_CAUSE, COMMON_CAUSE]


def test_the_first_rule_in_the_reference_order_decides_the_side():
    # Seven falling points, all above the mean: mean 89 / 12, moving ranges 1, 1, 1, 1, 12, then
    # six of 1, so a mean moving range of 2 and an upper limit of 7.42 + 5.32 = 12.74. The two
    # beyond it read high; the rest of the falling run reads low (a trend outranks two of three
    # near the limit and the run above the mean), an improvement where lower is better.
    values = [2.0, 3, 2, 3, 2] + [14.0, 13, 12, 11, 10, 9, 8]
    points = xmr(values, "down")
    assert points[0].limits.mean == pytest.approx(89 / 12)
    assert points[0].limits.mean_moving_range == pytest.approx(2)
    assert [(p.rules[0], p.side) for p in points[5:7]] == [(BEYOND_LIMIT, HIGH)] * 2
    assert all(SHIFT in p.rules for p in points[5:])
    assert TWO_OF_THREE in points[7].rules
    assert [(p.rules[0], p.side) for p in points[7:]] == [(TREND, LOW)] * 5
    assert [p.point_type for p in points[5:]] == [CONCERN] * 2 + [IMPROVEMENT] * 5


def test_a_point_beyond_a_limit_reads_its_own_side():
    values = [10.0, 14.0] * 6 + [40.0]
    points = xmr(values, "down", baseline_points=12)
    assert points[-1].rules == (BEYOND_LIMIT,) and points[-1].side == HIGH
    assert latest_variation(points).icon == "🟠 Special cause: concern (high)"
    assert latest_variation(xmr(values, "up", baseline_points=12)).label == (
        "Special cause: improvement (high)"
    )
    assert latest_variation(points[:12]).icon == "⚪ Common cause"


def test_limits_need_twelve_points_and_say_so():
    with pytest.raises(SpcError, match="at least 12 months of data to learn from; there are 11"):
        xmr([10.0, 12.0] * 5 + [11.0], "down")
    with pytest.raises(SpcError, match="A baseline needs at least 12 months; 6 is too few"):
        xmr([10.0, 12.0] * 10, "down", baseline_points=6)
    with pytest.raises(SpcError, match="rebase months at least 12 months apart"):
        xmr([10.0, 12.0] * 10, "down", breaks=[12])
    with pytest.raises(SpcError, match="'up' or 'down'"):
        xmr([1.0, 2.0] * 6, "sideways")
    assert len(xmr([10.0, 12.0] * 6, "down")) == 12


def test_rebasing_gives_each_segment_its_own_limits_and_runs_do_not_cross():
    values = [10.0, 14.0] * 6 + [30.0, 34.0] * 6
    rebased = xmr(values, "down", breaks=[12])
    assert [p.segment for p in rebased] == [0] * 12 + [1] * 12
    assert (rebased[0].limits.mean, rebased[0].limits.mean_moving_range) == (12, 4)
    assert (rebased[12].limits.mean, rebased[12].limits.mean_moving_range) == (32, 4)
    assert all(p.point_type == COMMON_CAUSE for p in rebased)
    whole = xmr(values, "down")
    assert whole[0].limits.mean == 22 and all(SHIFT in p.rules for p in whole)


def test_the_baseline_sets_the_limits_later_points_are_judged_by():
    values = [10.0, 14.0] * 6 + [12.0, 40.0]
    points = xmr(values, "down", baseline_points=12)
    assert points[-1].limits.mean == 12
    assert [p.is_baseline for p in points] == [True] * 12 + [False] * 2
    assert BEYOND_LIMIT in points[-1].rules


def _series(counts):
    months = pd.date_range("2020-01-01", periods=len(counts), freq="MS")
    return pd.DataFrame({"month_start": months, "count_records": counts})


def test_a_missing_month_breaks_the_moving_range_the_runs_and_the_line():
    counts = [10, 14] * 6 + [None] + [20, 20, 21, 22, 23, 24, 25]
    table = spc_table(_series(counts), "down", baseline_months=12)
    assert len(table) == 19
    assert table["run"].tolist() == [0] * 12 + [1] * 7
    # The limits come from the 12 baseline months: 11 moving ranges of 4.
    assert table["mean"].iloc[0] == 12 and table["upper_limit"].iloc[0] == pytest.approx(
        12 + 2.66 * 4
    )
    moving = [10.0, 14.0] * 6 + [14.0, 20.0, 20.0]
    gapped = xmr(moving, "down", baseline_points=12, gaps=[13])
    joined = xmr(moving, "down", baseline_points=12)
    assert gapped[0].limits == joined[0].limits  # the gap lies after the baseline
    runs_across = [10.0, 14.0] * 6 + [15.0, 16, 17, 18, 19, 20, 21]
    assert SHIFT in xmr(runs_across, "down", baseline_points=12)[-1].rules
    assert SHIFT not in xmr(runs_across, "down", baseline_points=12, gaps=[15])[-1].rules
    assert TREND not in xmr(runs_across, "down", baseline_points=12, gaps=[15])[-1].rules


def test_a_gap_inside_the_baseline_has_no_moving_range_across_it():
    values = [10.0, 14.0] * 3 + [40.0, 44.0] * 3
    limits = xmr(values, "down", gaps=[6])[0].limits
    assert limits.mean_moving_range == 4  # the jump from 14 to 40 spans the gap


def test_spc_table_rebases_by_month():
    counts = [10, 14] * 6 + [30, 34] * 6
    table = spc_table(_series(counts), "down", rebase_months=[date(2021, 1, 1)])
    assert table["segment"].tolist() == [0] * 12 + [1] * 12
    assert table["mean"].iloc[0] == 12 and table["mean"].iloc[-1] == 32


def test_measure_spc_charts_the_demo_series(demo_db):
    view = view_at(demo_db, date(2022, 9, 1))
    table = measure_spc(demo_db, view, measure_id="knife-crime", months=36)
    assert len(table) == 36 and set(table["run"]) == {0}
    assert table["mean"].iloc[0] == pytest.approx(table["count_records"].mean())
    rebased = measure_spc(
        demo_db, view, measure_id="knife-crime", months=36, rebase_months=(date(2020, 10, 1),)
    )
    assert rebased.loc[rebased["month_start"] == "2020-10-01", "segment"].item() == 1
    variations = variation_by_measure(demo_db, view)
    assert set(variations) == {m.id for m in demo_db.config.measures}
    assert variations["knife-crime"].kind == table["point_type"].iloc[-1]
