"""Statistical process control: the XmR (individuals) chart of NHS "Making Data Count".

The centre line is the mean of the baseline points; the process limits lie 2.66 mean moving
ranges either side of it (2.66 = 3 / 1.128, three standard deviations estimated from the
moving range). Four rules find special-cause variation:

- a point beyond a process limit;
- a shift: 7 or more consecutive points on the same side of the mean (a point exactly on the
  mean ends the run);
- a trend: 7 or more consecutive points each higher than the one before, or each lower (an equal
  value ends it);
- two of three consecutive points more than two-thirds of the way from the mean to a limit, on
  the same side (the points beyond that line are the ones flagged).

A measure's improvement direction decides whether a signal is an improvement or a concern.
Limits may be rebased: each rebase month starts a new segment with limits of its own, learnt
from the segment's first baseline points (all of them by default); runs never cross a rebase.
Months the data does not cover are left out of the calculation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pandas as pd

from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.figures.insight import monthly_series
from crimeprev.view import View

LIMIT_CONSTANT = 2.66
RUN_LENGTH = 7
TREND_LENGTH = 7
NEAR_LIMIT_FRACTION = 2 / 3
SPC_MONTHS = 36
MIN_POINTS = 2

BEYOND_LIMIT = "beyond_limit"
SHIFT = "shift"
TREND = "trend"
TWO_OF_THREE = "two_of_three"
RULE_LABELS = {
    BEYOND_LIMIT: "beyond a process limit",
    SHIFT: f"run of {RUN_LENGTH} or more on one side of the mean",
    TREND: f"{TREND_LENGTH} or more rising or falling in a row",
    TWO_OF_THREE: "two of three near a limit",
}
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


def xmr_limits(values: Sequence[float]) -> Limits:
    """Mean and mean moving range of a run of values (at least two)."""
    if len(values) < MIN_POINTS:
        raise SpcError(
            f"Process limits need at least {MIN_POINTS} points; there are {len(values)}."
        )
    moving_ranges = [abs(b - a) for a, b in zip(values, values[1:], strict=False)]
    return Limits(sum(values) / len(values), sum(moving_ranges) / len(moving_ranges))


def _mark_runs(
    flags: list[set[tuple[str, str]]], keys: list[str | None], rule: str, length: int
) -> None:
    """Flag every point in a run of at least `length` consecutive equal, non-None keys."""
    start = 0
    for index in range(len(keys) + 1):
        if index == len(keys) or keys[index] != keys[start]:
            if keys[start] is not None and index - start >= length:
                for point in range(start, index):
                    flags[point].add((rule, str(keys[start])))
            start = index


def _segment_rules(values: Sequence[float], limits: Limits) -> list[set[tuple[str, str]]]:
    flags: list[set[tuple[str, str]]] = [set() for _ in values]
    for index, value in enumerate(values):
        if value > limits.upper:
            flags[index].add((BEYOND_LIMIT, HIGH))
        elif value < limits.lower:
            flags[index].add((BEYOND_LIMIT, LOW))
    sides: list[str | None] = [
        HIGH if v > limits.mean else LOW if v < limits.mean else None for v in values
    ]
    _mark_runs(flags, sides, SHIFT, RUN_LENGTH)
    # A trend of n points is n - 1 steps the same way; step i joins point i to point i + 1.
    steps: list[str | None] = [
        HIGH if b > a else LOW if b < a else None for a, b in zip(values, values[1:], strict=False)
    ]
    step_flags: list[set[tuple[str, str]]] = [set() for _ in steps]
    _mark_runs(step_flags, steps, TREND, TREND_LENGTH - 1)
    for index, marks in enumerate(step_flags):
        flags[index] |= marks
        flags[index + 1] |= marks
    near: list[str | None] = [
        HIGH if v > limits.upper_near else LOW if v < limits.lower_near else None for v in values
    ]
    for start in range(len(values) - 2):
        for side in (HIGH, LOW):
            members = [i for i in range(start, start + 3) if near[i] == side]
            if len(members) >= 2:
                for i in members:
                    flags[i].add((TWO_OF_THREE, side))
    return flags


def _classify(
    marks: set[tuple[str, str]], value: float, limits: Limits, improvement: str
) -> tuple[str | None, str]:
    if not marks:
        return None, COMMON_CAUSE
    sides = {side for _, side in marks}
    # A point in a rising trend below the mean (say) is judged by where it lies.
    side = sides.pop() if len(sides) == 1 else (HIGH if value >= limits.mean else LOW)
    good = (side == HIGH) == (improvement == "up")
    return side, IMPROVEMENT if good else CONCERN


def xmr(
    values: Sequence[float],
    improvement: str,
    breaks: Sequence[int] = (),
    baseline_points: int | None = None,
) -> list[SpcPoint]:
    """The XmR chart of `values`: each point's limits, the rules it breaks and whether it is
    common cause, or special cause improvement or concern for a measure whose `improvement`
    is "up" or "down". `breaks` are the indexes where rebased limits begin; each segment's
    limits come from its first `baseline_points` values (all of them when None)."""
    if improvement not in ("up", "down"):
        raise SpcError("The improvement direction must be 'up' or 'down'.")
    if baseline_points is not None and baseline_points < MIN_POINTS:
        raise SpcError(f"A baseline needs at least {MIN_POINTS} months.")
    starts = sorted({0, *(b for b in breaks if 0 < b < len(values))})
    points: list[SpcPoint] = []
    for segment, start in enumerate(starts):
        stop = starts[segment + 1] if segment + 1 < len(starts) else len(values)
        part = list(values[start:stop])
        learn = part if baseline_points is None else part[:baseline_points]
        if len(learn) < MIN_POINTS:
            raise SpcError(
                f"Each set of limits needs at least {MIN_POINTS} months to learn from: choose "
                "rebase months at least that far apart and before the chart's last month."
            )
        limits = xmr_limits(learn)
        for offset, (value, marks) in enumerate(
            zip(part, _segment_rules(part, limits), strict=True)
        ):
            side, kind = _classify(marks, value, limits, improvement)
            points.append(
                SpcPoint(
                    value=value,
                    limits=limits,
                    segment=segment,
                    is_baseline=offset < len(learn),
                    rules=tuple(r for r in RULE_LABELS if any(m[0] == r for m in marks)),
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
    chart's table: one row per covered month with the mean, limits and special-cause rules."""
    covered = series.dropna(subset=["count_records"]).sort_values("month_start")
    months = [pd.Timestamp(m).date() for m in covered["month_start"]]
    values = [float(v) for v in covered["count_records"]]
    breaks = [next((i for i, m in enumerate(months) if m >= r), len(months)) for r in rebase_months]
    points = xmr(values, improvement, breaks, baseline_months)
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
            "is_baseline": point.is_baseline,
            "rules": "; ".join(RULE_LABELS[r] for r in point.rules),
            "side": point.side,
            "point_type": point.point_type,
            "point_label": POINT_LABELS[point.point_type],
        }
        for month, point in zip(months, points, strict=True)
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


def measure_spc(
    db: Database,
    view: View,
    measure_id: str,
    months: int = SPC_MONTHS,
    rebase_months: tuple[date, ...] = (),
    baseline_months: int | None = None,
) -> pd.DataFrame:
    """A measure's XmR chart table over `months` months to the view's period, in its places."""
    measure = db.config.measure(measure_id)
    series = monthly_series(db, view, months, measure_ids=[measure_id])
    return spc_table(series, measure.improvement, rebase_months, baseline_months)


def variation_by_measure(
    db: Database, view: View, months: int = SPC_MONTHS
) -> dict[str, Variation | None]:
    """Every measure's variation at the view's period (its XmR chart over `months` months,
    limits from all of them); None for a measure with too few covered months."""
    series = monthly_series(db, view, months)
    result: dict[str, Variation | None] = {}
    for measure in db.config.measures:
        mine = series[series["measure_id"] == measure.id]
        values = [float(v) for v in mine["count_records"].dropna()]
        if len(values) < MIN_POINTS:
            result[measure.id] = None
            continue
        result[measure.id] = latest_variation(xmr(values, measure.improvement))
    return result
