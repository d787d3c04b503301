"""What a strand reports besides counts: operational results and the lead's commentary."""

from __future__ import annotations

from datetime import date

import pandas as pd

from crimeprev.db import Database
from crimeprev.periods import format_month


def activity_metrics(db: Database, strand_id: str, period: date) -> pd.DataFrame:
    """The latest reported value of each of a strand's operational results up to `period`."""
    return db.query("activity_metrics_at", strand_id=strand_id, period=format_month(period))


def commentary(db: Database, strand_id: str, period: date) -> str | None:
    """The lead's commentary on a strand for exactly `period`, if one was written."""
    frame = db.query("commentary_at", strand_id=strand_id, period=format_month(period))
    return None if frame.empty else str(frame["commentary"].iloc[0])
