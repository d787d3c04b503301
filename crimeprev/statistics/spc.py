"""Statistical process control: the XmR (individuals) chart of NHS "Making Data Count", with the
rules of its reference implementation, NHSRplotthedots.

The centre line is the mean of the baseline points; the process limits lie 2.66 mean moving
ranges either side of it (2.66 = 3 / 1.128, three standard deviations estimated from the
moving range). Moving ranges are not screened for outliers, as in the Making Data Count tool.
Limits are only drawn from 12 or more points: fewer are refused with a sentence saying so.
Four rules find special-cause variation:

- a point beyond a process limit;
- a trend: 7 or more consecutive points each higher than the one before, or each lower (an equal
  value ends it);
- two of three consecutive points beyond two-thirds of the way from the mean to a limit (but not
  beyond the limit), all three on the same side of the mean (the points beyond that line are the
  ones flagged);
- a shift: 7 or more consecutive points on the same side of the mean (a point exactly on the
  mean ends the run).

When a point breaks several rules, the first in that order decides whether it reads high or
low, as the reference does; the measure's improvement direction then makes it an improvement or
a concern. Limits may be rebased: each rebase month starts a segment with limits of its own,
learnt from the segment's first baseline points (all of them by default). A month the data does
not cover breaks the chart: no moving range spans it and no run, trend or two-of-three crosses
it, and neither does a rebase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from crimeprev.errors import CrimeprevError
from crimeprev.periods import add_months

LIMIT_CONSTANT = 2.66
RUN_LENGTH = 7
TREND_LENGTH = 7
NEAR_LIMIT_FRACTION = 2 / 3
SPC_MONTHS = 36
# Making Data Count draws limits from 12 points at the least (NHSRplotthedots refuses a fixed
# baseline under 12).
MIN_POINTS = 12

BEYOND_LIMIT = "beyond_limit"
SHIFT = "shift"
TREND = "trend"
TWO_OF_THREE = "two_of_three"
RULE_LABELS = {
    BEYOND_LIMIT: "beyond a process limit",
    TREND: f"{TREND_LENGTH} or more rising or falling in a row",
    TWO_OF_THREE: "two of three near a limit, on one side of the mean",
    SHIFT: f"run of {RUN_LENGTH} or more on one side of the mean",
}
# The order in which the reference lets a rule decide a point's side.
RULE_ORDER = tuple(RULE_LABELS)
HIGH, LOW = "high", "low"

COMMON_CAUSE = "common_cause"
IMPROVEMENT = "improvement"
CONCERN = "concern"
POINT_LABELS = {
    COMMON_CAUSE: "Common cause",
    IMPROVEMENT: "Special cause: improvement",
    CONCERN: "Special cause: concern",
}
VARIATION_SYMBOLS = {COMMON_CAUSE: "⚪", IMPROVEMENT: "🔵", CONCERN: "🟠"}
SIDE_WORDS = {HIGH: "high", LOW: "low"}


class SpcError(CrimeprevError, ValueError):
    """A chart that cannot be drawn as asked; the message says why."""


@dataclass(frozen=True)
class Limits:
    """A segment's centre line and process limits."""

    mean: float
    mean_moving_range: float

    @property
    def upper(self) -> float:
        return self.mean + LIMIT_CONSTANT * self.mean_moving_range

    @property
    def lower(self) -> float:
        return self.mean - LIMIT_CONSTANT * self.mean_moving_range

    @property
    def upper_near(self) -> float:
        """Two-thirds of the way from the mean to the upper limit."""
        return self.mean + NEAR_LIMIT_FRACTION * LIMIT_CONSTANT * self.mean_moving_range

    @property
    def lower_near(self) -> float:
        return self.mean - NEAR_LIMIT_FRACTION * LIMIT_CONSTANT * self.mean_moving_range


@dataclass(frozen=True)
class SpcPoint:
    """One point of an XmR chart with its limits and the rules it breaks."""

    value: float
    limits: Limits
    segment: int
    is_baseline: bool
    rules: tuple[str, ...]
    side: str | None
    point_type: str


@dataclass(frozen=True)
class Variation:
    """What the latest point of a chart says: common cause, or special cause improvement or
    concern (high or low), as the variation icon shows it."""

    kind: str
    side: str | None

    @property
    def label(self) -> str:
        if self.kind == COMMON_CAUSE or self.side is None:
            return POINT_LABELS[self.kind]
        return f"{POINT_LABELS[self.kind]} ({SIDE_WORDS[self.side]})"

    @property
    def icon(self) -> str:
        """The symbol and label shown beside a measure, e.g. `🟠 Special cause: concern (high)`."""
        return f"{VARIATION_SYMBOLS[self.kind]} {self.label}"


NO_CHART = "not enough months for a chart"


def _too_few(count: int) -> SpcError:
    return SpcError(
        f"Process limits need at least {MIN_POINTS} months of data to learn from; "
        f"there {'is' if count == 1 else 'are'} {count}."
    )


def xmr_limits(values: Sequence[float], gaps: Sequence[int] = ()) -> Limits:
    """Mean and mean moving range of a run of values (at least `MIN_POINTS`); `gaps` are the
    indexes of points that do not directly follow the one before, so no moving range ends
    there."""
    if len(values) < MIN_POINTS:
        raise _too_few(len(values))
    skip = set(gaps)
    moving_ranges = [abs(values[i] - values[i - 1]) for i in range(1, len(values)) if i not in skip]
    if not moving_ranges:
        raise SpcError("Process limits need two consecutive months to measure a moving range.")
    return Limits(sum(values) / len(values), sum(moving_ranges) / len(moving_ranges))


def _sign(value: float) -> int:
    return (value > 0) - (value < 0)


def _in_runs(keys: Sequence[int], length: int) -> list[bool]:
    """Whether each key belongs to a run of at least `length` equal, non-zero keys."""
    marked = [False] * len(keys)
    start = 0
    for index in range(len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            if keys[start] != 0 and index - start >= length:
                marked[start:index] = [True] * (index - start)
            start = index
    return marked


def special_cause_rules(values: Sequence[float], limits: Limits) -> list[dict[str, str]]:
    """The rules each point of a run of consecutive months breaks, each with the side (high or
    low) it reads, in the reference's order (the first decides the point)."""
    n = len(values)
    side_of = {1: HIGH, -1: LOW}
    relative = [_sign(v - limits.mean) for v in values]
    outside = [v > limits.upper or v < limits.lower for v in values]
    close = [
        not outside[i] and (v > limits.upper_near or v < limits.lower_near)
        for i, v in enumerate(values)
    ]
    steps = [_sign(b - a) for a, b in zip(values, values[1:], strict=False)]
    trend_steps = _in_runs(steps, TREND_LENGTH - 1)
    in_trend = [(i > 0 and trend_steps[i - 1]) or (i < n - 1 and trend_steps[i]) for i in range(n)]
    shift = _in_runs(relative, RUN_LENGTH)
    two_of_three = [False] * n
    for start in range(n - 2):
        window = range(start, start + 3)
        same_side = abs(sum(relative[i] for i in window)) == 3
        if same_side and sum(close[i] for i in window) >= 2:
            for i in window:
                two_of_three[i] = two_of_three[i] or close[i]
    rules: list[dict[str, str]] = []
    for i, value in enumerate(values):
        marks: dict[str, str] = {}
        if outside[i]:
            marks[BEYOND_LIMIT] = HIGH if value > limits.mean else LOW
        if in_trend[i]:
            # A point inside a trend reads the step after it; the trend's last point, the step
            # before (the reference's rule).
            step = steps[i] if i < n - 1 and in_trend[i + 1] else steps[i - 1]
            marks[TREND] = HIGH if step == 1 else LOW
        if two_of_three[i]:
            marks[TWO_OF_THREE] = side_of[relative[i]]
        if shift[i]:
            marks[SHIFT] = side_of[relative[i]]
        rules.append(marks)
    return rules


def _classify(marks: dict[str, str], improvement: str) -> tuple[str | None, str]:
    if not marks:
        return None, COMMON_CAUSE
    side = next(marks[rule] for rule in RULE_ORDER if rule in marks)
    good = (side == HIGH) == (improvement == "up")
    return side, IMPROVEMENT if good else CONCERN


def xmr(
    values: Sequence[float],
    improvement: str,
    breaks: Sequence[int] = (),
    baseline_points: int | None = None,
    gaps: Sequence[int] = (),
) -> list[SpcPoint]:
    """The XmR chart of `values`: each point's limits, the rules it breaks and whether it is
    common cause, or special cause improvement or concern for a measure whose `improvement`
    is "up" or "down". `breaks` are the indexes where rebased limits begin; each segment's
    limits come from its first `baseline_points` values (all of them when None). `gaps` are the
    indexes of points that do not follow the one before (a month missing between them)."""
    if improvement not in ("up", "down"):
        raise SpcError("The improvement direction must be 'up' or 'down'.")
    if baseline_points is not None and baseline_points < MIN_POINTS:
        raise SpcError(
            f"A baseline needs at least {MIN_POINTS} months; {baseline_points} is too few."
        )
    starts = sorted({0, *(b for b in breaks if 0 < b < len(values))})
    cuts = {g for g in gaps if 0 < g < len(values)}
    points: list[SpcPoint] = []
    for segment, start in enumerate(starts):
        stop = starts[segment + 1] if segment + 1 < len(starts) else len(values)
        part = list(values[start:stop])
        learn = part if baseline_points is None else part[:baseline_points]
        if len(learn) < MIN_POINTS and len(starts) == 1:
            raise _too_few(len(learn))
        if len(learn) < MIN_POINTS:
            raise SpcError(
                f"Each set of limits needs at least {MIN_POINTS} months to learn from: choose "
                f"rebase months at least {MIN_POINTS} months apart, and {MIN_POINTS} months "
                "after the chart's first month and before its last."
            )
        inner = [g - start for g in cuts if start < g < stop]
        limits = xmr_limits(learn, [g for g in inner if g < len(learn)])
        pieces = [0, *sorted(inner), len(part)]
        marks: list[dict[str, str]] = []
        for a, b in zip(pieces, pieces[1:], strict=False):
            marks += special_cause_rules(part[a:b], limits)
        for offset, (value, mine) in enumerate(zip(part, marks, strict=True)):
            side, kind = _classify(mine, improvement)
            points.append(
                SpcPoint(
                    value=value,
                    limits=limits,
                    segment=segment,
                    is_baseline=offset < len(learn),
                    rules=tuple(r for r in RULE_ORDER if r in mine),
                    side=side,
                    point_type=kind,
                )
            )
    return points


def latest_variation(points: Sequence[SpcPoint]) -> Variation:
    """The variation icon's reading: that of the latest point."""
    if not points:
        raise SpcError("A chart with no points has no variation.")
    last = points[-1]
    return Variation(last.point_type, last.side)


SPC_COLUMNS = (
    "month_start",
    "count_records",
    "mean",
    "upper_limit",
    "lower_limit",
    "upper_near",
    "lower_near",
    "segment",
    "run",
    "is_baseline",
    "rules",
    "side",
    "point_type",
    "point_label",
)


def spc_table(
    series: pd.DataFrame,
    improvement: str,
    rebase_months: Sequence[date] = (),
    baseline_months: int | None = None,
) -> pd.DataFrame:
    """A monthly series (`month_start`, `count_records`, null where not covered) as an XmR
    chart's table: one row per covered month with the mean, limits and special-cause rules.
    `run` numbers the stretches of consecutive months: a missing month starts a new one, and
    the chart's line breaks there."""
    covered = series.dropna(subset=["count_records"]).sort_values("month_start")
    months = [pd.Timestamp(m).date() for m in covered["month_start"]]
    values = [float(v) for v in covered["count_records"]]
    breaks = [next((i for i, m in enumerate(months) if m >= r), len(months)) for r in rebase_months]
    gaps = [i for i in range(1, len(months)) if months[i] != add_months(months[i - 1], 1)]
    points = xmr(values, improvement, breaks, baseline_months, gaps)
    runs = [sum(1 for g in gaps if g <= i) for i in range(len(months))]
    rows = [
        {
            "month_start": pd.Timestamp(month),
            "count_records": point.value,
            "mean": point.limits.mean,
            "upper_limit": point.limits.upper,
            "lower_limit": point.limits.lower,
            "upper_near": point.limits.upper_near,
            "lower_near": point.limits.lower_near,
            "segment": point.segment,
            "run": run,
            "is_baseline": point.is_baseline,
            "rules": "; ".join(RULE_LABELS[r] for r in point.rules),
            "side": point.side,
            "point_type": point.point_type,
            "point_label": POINT_LABELS[point.point_type],
        }
        for month, point, run in zip(months, points, runs, strict=True)
    ]
    return pd.DataFrame(rows, columns=list(SPC_COLUMNS))


def table_variation(table: pd.DataFrame) -> Variation:
    """The variation reading of an `spc_table`: that of its latest month."""
    if table.empty:
        raise SpcError("A chart with no points has no variation.")
    last = table.iloc[-1]
    return Variation(
        str(last["point_type"]), last["side"] if isinstance(last["side"], str) else None
    )
