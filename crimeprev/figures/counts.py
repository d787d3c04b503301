"""Record counts grouped by any of the record dimensions: what the Data and Explore pages and
`crimeprev counts` show, from one query so that they always agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import pandas as pd

from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.periods import format_month

# Dimension name (as the user types it) -> the column it becomes in the result.
DIMENSIONS = {
    "month": "month_start",
    "force": "force",
    "district": "district_name",
    "lpa": "lpa",
    "crime_type": "crime_type",
    "record_kind": "record_kind",
    "outcome": "outcome",
    "lsoa": "lsoa_code",
}


class UnknownDimension(CrimeprevError, ValueError):
    """A grouping dimension that records do not have."""


def check_dimensions(by: Sequence[str]) -> list[str]:
    """The dimensions in `by`, in order and without repeats; an unknown one is an error."""
    unknown = [name for name in by if name not in DIMENSIONS]
    if unknown:
        raise UnknownDimension(
            f"Cannot group by {', '.join(repr(u) for u in unknown)}: choose from "
            f"{', '.join(DIMENSIONS)}."
        )
    return list(dict.fromkeys(by))


def record_counts(
    db: Database,
    by: Sequence[str],
    start: date | None = None,
    end: date | None = None,
    district_codes: Sequence[str] | None = None,
    record_kinds: Sequence[str] | None = None,
    crime_types: Sequence[str] | None = None,
    force: str | None = None,
) -> pd.DataFrame:
    """Records counted by the dimensions in `by`, within the months `start` to `end`.

    Districts appear by name ("Outside force area" and "No location" included); a missing
    value (no outcome, no LSOA) is its own group. The last column is `count_records`.
    """
    dims = check_dimensions(by)
    frame = db.query(
        "record_counts",
        start_month=format_month(start) if start else None,
        end_month=format_month(end) if end else None,
        force=force,
        district_codes=list(district_codes) if district_codes else None,
        record_kinds=list(record_kinds) if record_kinds else None,
        crime_types=list(crime_types) if crime_types else None,
        **{f"by_{name}": name in dims for name in DIMENSIONS},
    )
    columns = [DIMENSIONS[name] for name in dims]
    frame = frame[[*columns, "count_records"]]
    if "month_start" in columns:
        frame = frame.assign(month_start=pd.to_datetime(frame["month_start"]).dt.date)
    return frame.reset_index(drop=True)
