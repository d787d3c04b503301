"""The report's words for its figures: how a count, a change and a month are written, and the
findings a title or a summary bullet states.

Every number the deck, workbook guide and HTML report print in a sentence is written by the
functions at the top of this module, so that a change of style is made here once.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from crimeprev.periods import month_long_label
from crimeprev.statistics.change import BEYOND_SHORT, WITHIN_NORMAL
from crimeprev.statistics.spc import VARIATION_SYMBOLS


def count_words(value: Any) -> str:
    """A count with thousands separators (`3,187`); a suppressed count's words as they are."""
    if isinstance(value, str):
        return value
    return f"{int(value):,}"


def pct_words(pct: float) -> str:
    """A change as a sentence says it: `up 13.3%`, `down 7.6%`, `unchanged`."""
    if round(abs(pct), 1) == 0:
        return "unchanged"
    return f"{'up' if pct > 0 else 'down'} {abs(pct):,.1f}%"


def signed_pct(pct: float) -> str:
    """A change as a table cell prints it: `+13.3%`, `-7.6%`."""
    return f"{pct:+,.1f}%"


def month_words(month: date) -> str:
    """A month in a sentence: `September 2022`."""
    return month_long_label(month)


def plain(text: str) -> str:
    """Text without pictograms (the variation icons, the caution sign), for a cell a program
    reads or a screen reader speaks."""
    for symbol in (*VARIATION_SYMBOLS.values(), "\u26a0", "\ufe0f"):
        text = text.replace(symbol, "")
    return re.sub(r"\s{2,}", " ", text).strip()


CONCERN = "concern"
IMPROVEMENT = "improvement"
NEUTRAL = "neutral"


def _number(value: Any) -> float | None:
    if value is None or isinstance(value, str):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _is_significant(verdict: Any) -> bool:
    return isinstance(verdict, str) and verdict.startswith(BEYOND_SHORT)


@dataclass(frozen=True)
class Finding:
    """What one measure's row of the overview says: its change on the year before, whether
    that is beyond normal variation, its SPC signal, and whether it is good or bad news."""

    measure_id: str
    measure_name: str
    strand_name: str
    pct_change: float | None
    significant: bool
    variation: str
    special_cause: bool
    tone: str  # CONCERN, IMPROVEMENT or NEUTRAL

    @property
    def is_exception(self) -> bool:
        """Beyond normal variation on the year before, or a special-cause signal."""
        return self.significant or self.special_cause

    @property
    def change(self) -> str:
        """`down 3.1% on the year before`, or why there is no change."""
        if self.pct_change is None:
            return "no change on the year before can be given"
        return f"{pct_words(self.pct_change)} on the year before"

    @property
    def verdict(self) -> str:
        if self.pct_change is None:
            return "not tested"
        return BEYOND_SHORT if self.significant else WITHIN_NORMAL

    @property
    def tone_words(self) -> str:
        return {CONCERN: "a concern", IMPROVEMENT: "an improvement", NEUTRAL: ""}[self.tone]

    def title(self) -> str:
        """A slide title that states the finding: `Knife-enabled crime down 3.1% on the year
        before, within normal variation`."""
        if self.pct_change is None:
            return f"{self.measure_name}: {self.change}"
        return f"{self.measure_name} {self.change}, {self.verdict}"

    def bullet(self) -> str:
        """A summary bullet: the change, whether good or bad, and why it is an exception:
        `Night-time economy crime up 61.7% on the year before, a concern: beyond normal
        variation, and an SPC signal`."""
        reasons = []
        if self.significant:
            reasons.append(BEYOND_SHORT)
        if self.special_cause:
            reasons.append("an SPC signal" if reasons else "an SPC signal in the latest month")
        tone = f", {self.tone_words}" if self.tone_words else ""
        return f"{self.measure_name} {self.change}{tone}: {', and '.join(reasons)}"


def findings(rows: pd.DataFrame) -> list[Finding]:
    """One finding per measure row of the overview table, in the table's order."""
    found = []
    for row in rows.to_dict("records"):
        if not isinstance(row.get("measure_id"), str):
            continue
        pct = _number(row["pct_change_previous_year"])
        significant = pct is not None and _is_significant(row["significance_previous_year"])
        variation = plain(str(row["variation"])) if isinstance(row["variation"], str) else ""
        special = variation.lower().startswith("special cause")
        if significant and pct is not None:
            better = (pct < 0) == (row["better_when"] == "Lower")
            tone = IMPROVEMENT if better else CONCERN
        elif special:
            tone = IMPROVEMENT if "improvement" in variation.lower() else CONCERN
        else:
            tone = NEUTRAL
        found.append(
            Finding(
                measure_id=row["measure_id"],
                measure_name=str(row["measure_name"]),
                strand_name=str(row["strand_name"]),
                pct_change=pct,
                significant=significant,
                variation=variation,
                special_cause=special,
                tone=tone,
            )
        )
    return found


MAX_BULLETS = 5


def exceptions_first(found: list[Finding]) -> list[Finding]:
    """The exceptions, concerns before improvements, each by the size of its change."""
    exceptions = [f for f in found if f.is_exception]
    return sorted(
        exceptions,
        key=lambda f: (
            f.tone != CONCERN,
            not f.significant,
            -abs(f.pct_change or 0.0),
        ),
    )


def summary_bullets(
    found: list[Finding], delivery: str | None = None, most: int = MAX_BULLETS
) -> list[str]:
    """At most `most` bullets (never more than five), exceptions first; then how many
    measures are within normal variation, or, when the exceptions outnumber the room, one
    bullet naming the rest; the delivery plan's line last."""
    limit = max(2, min(most, MAX_BULLETS))
    exceptions = exceptions_first(found)
    untested = [f for f in found if f.pct_change is None and not f.is_exception]
    others = len(found) - len(exceptions) - len(untested)
    tail = [delivery] if delivery else []
    if untested:
        tail.insert(
            0,
            f"{len(untested)} measure{'s' if len(untested) != 1 else ''} cannot be compared "
            "with the year before: the data does not cover both windows, or a count is not "
            "shown",
        )
    closing = None
    if not found:
        closing = "No recorded-crime measure is reported for this choice of strands."
    elif others and not exceptions:
        closing = (
            f"{'All ' if not untested else ''}{others} measure{'s are' if others != 1 else ' is'}"
            f" {WITHIN_NORMAL}, with no special-cause signal"
        )
    elif others:
        closing = (
            f"The other {others} measure{'s are' if others != 1 else ' is'} {WITHIN_NORMAL}, "
            "with no special-cause signal"
        )
    room = limit - len(tail)
    if len(exceptions) + (1 if closing else 0) <= room:
        body = [f.bullet() for f in exceptions] + ([closing] if closing else [])
    else:
        shown, left = exceptions[: room - 1], exceptions[room - 1 :]
        rest = (
            left[0].bullet()
            if len(left) == 1
            else f"{len(left)} {'more ' if shown else ''}exceptions, each on its slide: "
            f"{', '.join(f.measure_name for f in left)}"
        )
        body = [f.bullet() for f in shown] + [rest]
    return [*body, *tail][:limit]


def summary_title(found: list[Finding], period: date) -> str:
    """The summary slide's title: how many measures are exceptions, to which month."""
    exceptions = [f for f in found if f.is_exception]
    return (
        f"{len(exceptions)} of {len(found)} measures stand out in the 12 months to "
        f"{month_words(period)}"
    )


def glance_title(found: list[Finding]) -> str:
    """The at-a-glance slide's title: how many measures are better and worse than a year
    before, whatever their variation."""
    better = sum(1 for f in found if f.pct_change is not None and f.tone == IMPROVEMENT)
    worse = sum(1 for f in found if f.pct_change is not None and f.tone == CONCERN)
    return (
        f"At a glance: {better} measure{'s' if better != 1 else ''} improved, {worse} "
        "worsened beyond normal variation"
    )
