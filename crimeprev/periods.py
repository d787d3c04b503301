"""Months, rolling 12-month windows and the changes between them.

A month is a `datetime.date` on the first of the month; on the command line and in URLs it is
written `YYYY-MM`. A window is a run of whole months, both ends included.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from crimeprev.errors import CrimeprevError

MONTH_PATTERN = re.compile(r"^(\d{4})-(\d{2})$")
MONTH_ABBREVIATIONS = (
    "Jan",
    "Feb",
    "Mar",
    "Apr",
    "May",
    "Jun",
    "Jul",
    "Aug",
    "Sep",
    "Oct",
    "Nov",
    "Dec",
)


class PeriodError(CrimeprevError, ValueError):
    """A month or window a user gave that cannot be used; the message says why."""


def parse_month(text: str) -> date:
    """Read `YYYY-MM` into the first day of that month, or raise `PeriodError`."""
    match = MONTH_PATTERN.match(text.strip())
    if not match:
        raise PeriodError(f"'{text}' is not a month: write it as YYYY-MM, for example 2022-09.")
    year, month = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise PeriodError(f"'{text}' is not a month: the month number must be 01 to 12.")
    return date(year, month, 1)


def format_month(month: date) -> str:
    """Write a month as `YYYY-MM`."""
    return f"{month.year:04d}-{month.month:02d}"


def month_label(month: date) -> str:
    """A month as every heading, table and axis writes it, for example `Sep 2022`."""
    return f"{MONTH_ABBREVIATIONS[month.month - 1]} {month.year:04d}"


def month_long_label(month: date) -> str:
    """A month as a sentence would say it, for example `September 2022`."""
    return month.strftime("%B %Y")


def add_months(month: date, count: int) -> date:
    """The month `count` months after `month` (before it when negative)."""
    index = month.year * 12 + month.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months_between(start: date, end: date) -> list[date]:
    """Every month from `start` to `end`, both included."""
    count = (end.year - start.year) * 12 + end.month - start.month
    return [add_months(start, i) for i in range(count + 1)]


def months_in_words(months: list[date]) -> str:
    """Months as a sentence names them, runs collapsed: `August and September 2018`,
    `March 2017 to February 2018, and August 2018`."""
    runs: list[list[date]] = []
    for month in sorted(set(months)):
        if runs and add_months(runs[-1][-1], 1) == month:
            runs[-1].append(month)
        else:
            runs.append([month])
    parts = []
    for run in runs:
        first, last = run[0], run[-1]
        if len(run) == 1:
            parts.append(month_long_label(first))
        elif len(run) == 2 and first.year == last.year:
            parts.append(f"{first:%B} and {month_long_label(last)}")
        else:
            parts.append(f"{month_long_label(first)} to {month_long_label(last)}")
    if len(parts) <= 2:
        return " and ".join(parts)
    return ", ".join(parts[:-1]) + ", and " + parts[-1]


@dataclass(frozen=True)
class Window:
    """A run of whole months, `start` and `end` included."""

    start: date
    end: date

    @classmethod
    def ending(cls, end: date, months: int = 12) -> Window:
        """The `months` months ending with `end`."""
        return cls(add_months(end, -(months - 1)), end)

    @property
    def months(self) -> list[date]:
        return months_between(self.start, self.end)

    def shifted(self, months: int) -> Window:
        """The same-length window `months` months later (earlier when negative)."""
        return Window(add_months(self.start, months), add_months(self.end, months))

    def label(self) -> str:
        """The report's column heading, for example `12 months ending Sep 2022`."""
        return f"{len(self.months)} months ending {month_label(self.end)}"

    def missing_from(self, covered: set[date]) -> list[date]:
        """The months of this window that the data does not cover."""
        return [m for m in self.months if m not in covered]


@dataclass(frozen=True)
class Comparison:
    """The windows a period is compared across: the current one and its comparator."""

    name: str
    comparator: Window
    current: Window


def comparisons(period: date, baseline_end: date, window_months: int = 12) -> list[Comparison]:
    """The report's two comparisons for a period: the year before, and the baseline year."""
    current = Window.ending(period, window_months)
    return [
        Comparison("previous_year", current.shifted(-window_months), current),
        Comparison("baseline", Window.ending(baseline_end, window_months), current),
    ]


def round_half_up(value: float, places: int = 1) -> float:
    """Round as a person does (0.05 -> 0.1), not to the nearest even digit."""
    quantum = Decimal(1).scaleb(-places)
    return float(Decimal(repr(value)).quantize(quantum, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Change:
    """The difference between a comparator count and a current count."""

    diff: int
    pct_change: float | None
    no_pct_reason: str | None


def change(comparator: int, current: int) -> Change:
    """Difference and percentage change to one decimal; none when the comparator is zero."""
    diff = current - comparator
    if comparator == 0:
        return Change(diff, None, "no % change: the comparison window counted none")
    return Change(diff, round_half_up(100.0 * diff / comparator, 1), None)


def format_pct(pct: float | None) -> str:
    """A percentage change as the report prints it: `+13.3%`, `-7.6%`, blank when none."""
    if pct is None:
        return ""
    return f"{pct:+.1f}%"


def format_level(level: float) -> str:
    """A probability as a percentage, as a label names a test's level: `5%`, `1%`, `0.1%`."""
    return f"{level * 100:g}%"


def confidence_label(significance_level: float) -> str:
    """The confidence of an interval at a significance level, for its label: `95%`."""
    return format_level(1 - significance_level)


def financial_quarter_label(quarter_end_month: date) -> str:
    """A quarter as the force names it: `2022/23 Q2` for the quarter ending September 2022."""
    start_year = (
        quarter_end_month.year if quarter_end_month.month >= 4 else quarter_end_month.year - 1
    )
    quarter = {6: 1, 9: 2, 12: 3, 3: 4}[quarter_end_month.month]
    return f"{start_year}/{(start_year + 1) % 100:02d} Q{quarter}"
