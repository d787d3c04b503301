"""The tables the dashboard lays out, assembled from insight tables, monthly series, the
delivery plan and activity results: every strand at a glance, a measure's two comparison tables
as the report prints them, and the wording around them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any
from urllib.parse import quote, urlencode

import pandas as pd

from crimeprev import formats
from crimeprev.config import Config, Measure, Strand
from crimeprev.db import Database
from crimeprev.figures.delivery import (
    DeliveryProgress,
    DeliveryUnavailable,
    quarter_for,
    status_table,
)
from crimeprev.figures.insight import insight_table, monthly_series
from crimeprev.figures.variation import variation_by_measure
from crimeprev.periods import (
    Window,
    add_months,
    confidence_label,
    format_pct,
    month_long_label,
    parse_month,
)
from crimeprev.statistics.change import (
    BEYOND_NORMAL as BEYOND_NORMAL_WORDS,
)
from crimeprev.statistics.change import (
    TEST_NAMES,
    change_method_text,
    change_verdict,
    format_p_value,
    format_rate_ratio,
    variation_words,
)
from crimeprev.statistics.spc import (
    COMMON_CAUSE,
    CONCERN,
    IMPROVEMENT,
    SPC_MONTHS,
    VARIATION_SYMBOLS,
)
from crimeprev.view import View

TREND_MONTHS = 24
CHART_MONTHS = 36
ACTIVITY_ONLY = "Activity only"
ACTIVITY_ONLY_NOTE = "This strand is reported through activity, not recorded-crime counts."
NOT_MEASURED = "Not measured by this data"
COMPARISON_TITLES = {
    "previous_year": "Against the year before",
    "baseline": "Against the pre-Covid baseline",
}
BETTER_WHEN = {"down": "Lower", "up": "Higher"}
UNIT_FORMATS = {"GBP": "£{value}", "count": "{value}"}
CAUTION_MARKER = "⚠"
NO_VARIATION = "Too few months"


@dataclass(frozen=True)
class OverviewTable:
    """One row per measure (one per strand that has none), with the column headings to use."""

    rows: pd.DataFrame
    current_label: str
    previous_label: str
    baseline_label: str
    delivery_label: str | None
    delivery_note: str | None


@dataclass(frozen=True)
class ComparisonTable:
    """One of a measure's two insight tables, as text cells under the report's headings."""

    comparison: str
    title: str
    table: pd.DataFrame
    note: str | None
    significance: str | None = None


def strand_url(strand_id: str, view: View) -> str:
    """A relative link to a strand's page that keeps the period and places chosen.

    In the overview's `strand_link` the strand's name follows as the URL's fragment, which the
    page ignores and the table shows as the link's text."""
    params = replace(view, strand_id=strand_id).query_params()
    return "strand?" + urlencode(params, safe=",")


def _is_true(value: Any) -> bool:
    return value is not None and not pd.isna(value) and bool(value)


def _change_text(row: Any) -> str:
    if not row["complete"]:
        return "incomplete"
    if pd.isna(row["pct_change"]):
        return "n/a"
    caution = f" {CAUTION_MARKER}" if _is_true(row["small_counts"]) else ""
    return format_pct(float(row["pct_change"])) + caution


# What a measure's change against the year before says, for the scorecard's colour and word.
VERDICT_BETTER = "better"
VERDICT_WORSE = "worse"
VERDICT_STEADY = "steady"
VERDICT_UNTESTED = "untested"


def verdict(row: Any, improvement: str) -> str:
    """Whether an insight row's change is good news beyond normal variation (`better`), bad
    news beyond it (`worse`), within it (`steady`), or could not be tested (`untested`)."""
    if not row["complete"] or row["significant"] is None or pd.isna(row["significant"]):
        return VERDICT_UNTESTED
    if not bool(row["significant"]) or row["diff"] == 0:
        return VERDICT_STEADY
    return VERDICT_BETTER if (row["diff"] > 0) == (improvement == "up") else VERDICT_WORSE


def significance_label(row: Any) -> str | None:
    """An insight row's test in a few words: `beyond normal variation ↑` (or ↓), `within normal
    variation`; None when there is no test."""
    if row["significant"] is None or pd.isna(row["significant"]):
        return None
    return change_verdict(bool(row["significant"]), row["diff"])


def significance_sentence(row: Any, significance_level: float) -> str:
    """An insight row's test in a sentence, with the p-value and the rate ratio's interval at
    the configured level."""
    confidence = confidence_label(significance_level)
    if row["significant"] is None or pd.isna(row["significant"]):
        note = row["significance_note"] if isinstance(row["significance_note"], str) else None
        return _capitalised(note or "no significance test") + "."
    interval = format_rate_ratio(
        None if pd.isna(row["rate_ratio_low"]) else float(row["rate_ratio_low"]),
        None if pd.isna(row["rate_ratio_high"]) else float(row["rate_ratio_high"]),
    )
    p_text = format_p_value(float(row["p_value"]))
    ratio = "" if pd.isna(row["rate_ratio"]) else f"{float(row['rate_ratio']):.2f} times the rate, "
    words = _capitalised(variation_words(bool(row["significant"])) or "")
    test = row.get("significance_test")
    method = f", {TEST_NAMES[test]}" if isinstance(test, str) and test in TEST_NAMES else ""
    if bool(row["significant"]):
        direction = "an increase" if row["diff"] > 0 else "a decrease"
        text = f"{words}: {direction} ({p_text}{method}): {ratio}{confidence} CI {interval}."
    else:
        text = f"{words} ({p_text}{method}): {ratio}{confidence} CI {interval}."
    if _is_true(row["small_counts"]):
        text += f" {CAUTION_MARKER} Small counts: read the % change with care."
    return text


def _count(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _trend(series: pd.DataFrame, measure_id: str) -> list[int | None]:
    counts = series.loc[series["measure_id"] == measure_id, "count_records"]
    return [_count(value) for value in counts]


def _delivery(db: Database, period: date) -> tuple[pd.DataFrame | None, str | None, str | None]:
    try:
        label = quarter_for(db, period).label
        return status_table(db, period).set_index("strand_id"), label, None
    except DeliveryUnavailable as error:
        return None, None, str(error)


def overview_table(db: Database, view: View) -> OverviewTable:
    """Every strand and measure: the current 12-month count, % change against the year before
    and the baseline, the last 24 months, and the strand's delivery progress."""
    config = db.config
    insight = insight_table(db, view)
    series = monthly_series(db, view, TREND_MONTHS)
    variations = variation_by_measure(db, view)
    delivery, delivery_label, delivery_note = _delivery(db, view.period)
    rows: list[dict[str, Any]] = []
    for strand in config.strands:
        strand_part: dict[str, Any] = {
            "strand_group": strand.group,
            "strand_id": strand.id,
            "strand_name": strand.name,
            "strand_link": f"{strand_url(strand.id, view)}#{quote(strand.name)}",
        }
        if delivery is not None and strand.id in delivery.index:
            done = delivery.loc[strand.id]
            strand_part |= {
                "actions_complete": int(done["complete"]),
                "actions_total": int(done["total"]),
                "pct_complete": done["pct_complete"],
                "delivery_text": f"{int(done['complete'])} of {int(done['total'])}",
            }
        if strand.not_supported:
            rows.append(strand_part | {"measure_name": NOT_MEASURED, "note": strand.not_supported})
        elif not strand.measures:
            rows.append(strand_part | {"measure_name": ACTIVITY_ONLY, "note": ACTIVITY_ONLY_NOTE})
        for measure in strand.measures:
            mine = insight[insight["measure"] == measure.id].set_index("comparison")
            previous = mine.loc["previous_year"]
            baseline = mine.loc["baseline"]
            notes = [
                f"{COMPARISON_TITLES[name]}: {row['note']}"
                for name, row in (("previous_year", previous), ("baseline", baseline))
                if isinstance(row["note"], str)
            ]
            rows.append(
                strand_part
                | {
                    "measure_id": measure.id,
                    "measure_name": measure.name,
                    "unit": measure.unit,
                    "better_when": BETTER_WHEN[measure.improvement],
                    "diff_previous_year": previous["diff"],
                    "verdict_previous_year": verdict(previous, measure.improvement),
                    "current_count": _count(previous["current_count"]),
                    "pct_change_previous_year": previous["pct_change"],
                    "pct_change_baseline": baseline["pct_change"],
                    "change_previous_year": _change_text(previous),
                    "change_baseline": _change_text(baseline),
                    "significance_previous_year": significance_label(previous),
                    "significance_baseline": significance_label(baseline),
                    "variation": _variation_text(variations.get(measure.id)),
                    "trend": _trend(series, measure.id),
                    "note": "; ".join(notes) or None,
                }
            )
    frame = pd.DataFrame(rows, columns=list(OVERVIEW_COLUMNS)).astype(
        {"current_count": "Int64", "actions_complete": "Int64", "actions_total": "Int64"}
    )
    current = Window.ending(view.period, config.window_months)
    return OverviewTable(
        rows=frame,
        current_label=current.label(),
        previous_label=current.shifted(-config.window_months).label(),
        baseline_label=Window.ending(config.baseline_end, config.window_months).label(),
        delivery_label=delivery_label,
        delivery_note=delivery_note,
    )


OVERVIEW_COLUMNS = (
    "strand_group",
    "strand_id",
    "strand_name",
    "strand_link",
    "measure_id",
    "measure_name",
    "unit",
    "better_when",
    "diff_previous_year",
    "verdict_previous_year",
    "current_count",
    "pct_change_previous_year",
    "pct_change_baseline",
    "change_previous_year",
    "change_baseline",
    "significance_previous_year",
    "significance_baseline",
    "variation",
    "trend",
    "actions_complete",
    "actions_total",
    "pct_complete",
    "delivery_text",
    "note",
)


def _variation_text(variation: Any) -> str:
    return NO_VARIATION if variation is None else str(variation.icon)


def strand_note(strand: Strand) -> str | None:
    """What a strand page says before its figures: that the data cannot measure it, or that
    it is reported through activity."""
    if strand.not_supported:
        return f"This data cannot measure this strand: {strand.not_supported}"
    if not strand.measures:
        return ACTIVITY_ONLY_NOTE
    return None


def measure_caption(measure: Measure) -> str:
    """A measure's definition and which way is better, and, for a proxy, what it stands in
    for."""
    text = f"{measure.definition} {BETTER_WHEN[measure.improvement]} is better."
    if measure.proxy_note:
        text += f" Proxy measure: {measure.proxy_note}"
    return text


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def count_text(value: Any) -> str:
    """A count as a table cell, with thousands separators: `incomplete` when its window is not
    fully covered; a suppressed count's words (`fewer than 10`) as they are."""
    if isinstance(value, str):
        return value
    return formats.count_text(value, blank="incomplete")


def variation_legend(config: Config) -> str:
    """What the overview's variation icons, real-change column and caution marker mean."""
    signals = config.signals
    return (
        f"Variation (the latest month on an XmR chart of the last {SPC_MONTHS} months): "
        f"{VARIATION_SYMBOLS[COMMON_CAUSE]} common cause, no signal · "
        f"{VARIATION_SYMBOLS[IMPROVEMENT]} special cause, improvement · "
        f"{VARIATION_SYMBOLS[CONCERN]} special cause, concern; (high) or (low) says on which "
        f"side. Real change: whether the 12-month change is {BEYOND_NORMAL_WORDS}, by "
        f"{change_method_text(signals.significance_level, signals.small_count)}. "
        f"{CAUTION_MARKER} fewer than {signals.small_count} records in a window: read the % "
        "change with care."
    )


def comparison_tables(
    insight: pd.DataFrame, measure_id: str, significance_level: float
) -> list[ComparisonTable]:
    """A measure's insight rows as the report's small tables: comparator window, current
    window, Diff., % Diff. (marked when counts are small); a window the data does not cover
    reads `incomplete`. Each comes with a sentence on whether its change is significant."""
    tables = []
    for row in insight[insight["measure"] == measure_id].to_dict("records"):
        diff = formats.signed_count_text(row["diff"])
        pct = None if pd.isna(row["pct_change"]) else float(row["pct_change"])
        table = pd.DataFrame(
            [
                {
                    row["comparator_label"]: count_text(row["comparator_count"]),
                    row["current_label"]: count_text(row["current_count"]),
                    "Diff.": diff,
                    "% Diff.": format_pct(pct)
                    + (
                        f" {CAUTION_MARKER}"
                        if pct is not None and _is_true(row["small_counts"])
                        else ""
                    ),
                }
            ]
        )
        note = row["note"] if isinstance(row["note"], str) else None
        tables.append(
            ComparisonTable(
                comparison=row["comparison"],
                title=COMPARISON_TITLES.get(row["comparison"], row["comparison"]),
                table=table,
                note=_capitalised(note) if note else None,
                significance=significance_sentence(row, significance_level),
            )
        )
    return tables


def format_activity_value(value: float, unit: str) -> str:
    """An operational result as a person writes it: `£328,000`, `529`, `18,833 g`."""
    number = f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"
    template = UNIT_FORMATS.get(unit, "{value} " + unit)
    return template.format(value=number)


def activity_table(metrics: pd.DataFrame) -> pd.DataFrame:
    """Activity metrics with each value written out with its unit (`value_text`)."""
    frame = metrics.copy()
    frame["metric"] = [_capitalised(m) for m in frame["metric"]]
    frame["value_text"] = [
        format_activity_value(v, u) for v, u in zip(frame["value"], frame["unit"], strict=True)
    ]
    return frame


@dataclass(frozen=True)
class DeliverySummary:
    """A strand's delivery achieved and scheduled, as headings and one line per action."""

    achieved_heading: str
    achieved: list[str]
    scheduled_heading: str
    scheduled: list[str]


def _month_text(value: Any) -> str:
    return month_long_label(parse_month(value)) if isinstance(value, str) and value else ""


def delivery_summary(progress: DeliveryProgress, period: date) -> DeliverySummary:
    """Headings naming the months of delivery achieved and scheduled, and a line per action."""
    return DeliverySummary(
        achieved_heading=f"Delivery achieved, {month_long_label(progress.achieved_from)} to "
        f"{month_long_label(period)}",
        achieved=[
            f"{row['title']} (completed {_month_text(row['completed_month'])})"
            for row in progress.achieved.to_dict("records")
        ],
        scheduled_heading=f"Delivery scheduled, {month_long_label(add_months(period, 1))} to "
        f"{month_long_label(progress.scheduled_to)}",
        scheduled=[
            f"{row['title']} (due {_month_text(row['target_month'])}, {row['status']})"
            for row in progress.scheduled.to_dict("records")
        ],
    )
