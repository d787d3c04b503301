"""The delivery plan: each strand's actions and their status at the end of a reporting quarter.

Totals are always summed from the actions themselves, so the table adds up by construction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.periods import (
    add_months,
    financial_quarter_label,
    format_month,
    month_long_label,
    parse_month,
)

STATUS_COLUMNS = ("total", "complete", "ongoing", "at_risk", "not_started")


class DeliveryUnavailable(CrimeprevError, LookupError):
    """No delivery status is recorded for the period asked about; the message says which are."""


@dataclass(frozen=True)
class DeliveryQuarter:
    """The reporting quarter whose statuses describe a period."""

    quarter_end: date

    @property
    def label(self) -> str:
        return (
            f"{financial_quarter_label(self.quarter_end)} (to {month_long_label(self.quarter_end)})"
        )


def delivery_quarters(db: Database) -> list[date]:
    """The quarters the delivery plan holds statuses for, oldest first."""
    frame = db.query("delivery_quarters")
    return [parse_month(q) for q in frame["quarter_end"]]


def quarter_for(db: Database, period: date) -> DeliveryQuarter:
    """The latest quarter with statuses at or before `period`."""
    quarters = delivery_quarters(db)
    earlier = [q for q in quarters if q <= period]
    if not earlier:
        if not quarters:
            raise DeliveryUnavailable("No delivery plan has been loaded into this data folder.")
        raise DeliveryUnavailable(
            f"The delivery plan records statuses from {month_long_label(quarters[0])} onwards; "
            f"there is none for {month_long_label(period)}."
        )
    return DeliveryQuarter(earlier[-1])


def status_table(db: Database, period: date) -> pd.DataFrame:
    """Actions per strand by status at the quarter for `period`, with a computed total row."""
    quarter = quarter_for(db, period)
    frame = db.query("delivery_status_by_strand", quarter_end=format_month(quarter.quarter_end))
    total: dict[str, Any] = {"strand_id": "total", "strand_name": "Total", "strand_group": ""}
    total |= {column: int(frame[column].sum()) for column in STATUS_COLUMNS}
    frame = pd.concat([frame, pd.DataFrame([total])], ignore_index=True)
    frame["pct_complete"] = [
        round(100.0 * c / t, 1) if t else None
        for c, t in zip(frame["complete"], frame["total"], strict=True)
    ]
    return frame


def status_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """The status table as plain values under the documented JSON keys."""
    return [
        {"strand": row["strand_id"]} | {c: int(row[c]) for c in STATUS_COLUMNS}
        for row in table.to_dict("records")
    ]


def actions_at(
    db: Database,
    period: date,
    strand_ids: list[str] | None = None,
    statuses: list[str] | None = None,
) -> pd.DataFrame:
    """Every action with its status at the quarter for `period`, optionally filtered."""
    quarter = quarter_for(db, period)
    return db.query(
        "delivery_actions_at",
        quarter_end=format_month(quarter.quarter_end),
        strand_ids=strand_ids or None,
        statuses=statuses or None,
    )


@dataclass(frozen=True)
class DeliveryProgress:
    """A strand's actions completed in the months ending a period, and those due next."""

    achieved: pd.DataFrame
    scheduled: pd.DataFrame
    achieved_from: date
    scheduled_to: date


def progress(db: Database, strand_id: str, period: date) -> DeliveryProgress:
    """Actions completed in the delivery window ending `period`, and those due in the next."""
    months = db.config.delivery_window_months
    achieved_from = add_months(period, -(months - 1))
    scheduled_to = add_months(period, months)
    actions = actions_at(db, period, strand_ids=[strand_id])
    completed = actions["completed_month"].fillna("")
    achieved = actions[
        (completed >= format_month(achieved_from))
        & (completed <= format_month(period))
        & (completed != "")
    ]
    target = actions["target_month"].fillna("")
    scheduled = actions[
        (actions["status"] != "complete")
        & (target > format_month(period))
        & (target <= format_month(scheduled_to))
    ]
    return DeliveryProgress(
        achieved.reset_index(drop=True),
        scheduled.reset_index(drop=True),
        achieved_from,
        scheduled_to,
    )
