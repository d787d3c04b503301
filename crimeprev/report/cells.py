"""Tables as rows of text cells, written once for the deck and the HTML report alike: counts
with thousands separators, changes as the report prints them, values with their units.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crimeprev.figures.overview import ACTIVITY_ONLY, format_activity_value
from crimeprev.report.content import ReportContent
from crimeprev.report.wording import Finding, count_words, findings

OVERVIEW_HEADINGS = (
    "Strand",
    "Measure",
    "12 months",
    "vs year before",
    "vs baseline",
    "Beyond normal variation",
    "Delivery complete",
)
DELIVERY_HEADINGS = (
    "Strand",
    "Total",
    "Complete",
    "Ongoing",
    "At risk",
    "Not started",
    "% complete",
)
ACTIVITY_HEADINGS = ("Operation", "Result", "Value", "Reported for")


def _verdict_cell(finding: Finding | None) -> str:
    """Whether a measure's change on the year before is beyond normal variation, and whether
    that is good or bad news, in words (so colour is never the only sign)."""
    if finding is None or finding.pct_change is None:
        return ""
    if not finding.significant:
        return "No"
    return f"Yes, {finding.tone_words}" if finding.tone_words else "Yes"


def overview_rows(content: ReportContent, found: list[Finding] | None = None) -> list[list[str]]:
    """The at-a-glance table as slide cells: one row per measure, the strand named once."""
    by_measure = {f.measure_id: f for f in findings(content.overview.rows) if found is None}
    by_measure |= {f.measure_id: f for f in found or []}
    rows = []
    previous_strand = None
    for row in content.overview.rows.to_dict("records"):
        count = row["current_count"]
        delivery = row["delivery_text"] if isinstance(row["delivery_text"], str) else ""
        activity_only = row["measure_name"] == ACTIVITY_ONLY
        rows.append(
            [
                row["strand_name"] if row["strand_id"] != previous_strand else "",
                str(row["measure_name"]),
                _count_cell(row, count),
                "" if activity_only else _text(row["change_previous_year"]),
                "" if activity_only else _text(row["change_baseline"]),
                _verdict_cell(by_measure.get(row["measure_id"])),
                delivery,
            ]
        )
        previous_strand = row["strand_id"]
    return rows


def _count_cell(row: dict[str, Any], count: Any) -> str:
    """A measure's 12-month count; `incomplete` when its window is not fully covered, blank
    for a strand without a measure."""
    if not isinstance(row["measure_id"], str):
        return ""
    if isinstance(count, str):
        return count  # a suppressed count's words
    return "incomplete" if count is None or pd.isna(count) else count_words(count)


def _text(value: object) -> str:
    """A cell's text; blank, never `nan`, when there is no value (a strand the data cannot
    measure has no change)."""
    return value if isinstance(value, str) else ""


def delivery_rows(status: pd.DataFrame) -> list[list[str]]:
    """The delivery status table as slide cells."""
    return [
        [
            str(row["strand_name"]),
            *(str(int(row[c])) for c in ("total", "complete", "ongoing", "at_risk", "not_started")),
            "" if pd.isna(row["pct_complete"]) else f"{float(row['pct_complete']):.1f}%",
        ]
        for row in status.to_dict("records")
    ]


def activity_rows(activity: pd.DataFrame) -> list[list[str]]:
    """Operational results as slide cells, each value written with its unit."""
    return [
        [
            str(row["operation"]),
            str(row["metric"]),
            format_activity_value(float(row["value"]), str(row["unit"])),
            str(row["period_label"]),
        ]
        for row in activity.to_dict("records")
    ]
