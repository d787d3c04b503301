"""XmR charts of a measure in a view: the monthly series of the chosen places, read by
`crimeprev.statistics.spc`."""

from __future__ import annotations

from datetime import date

import pandas as pd

from crimeprev.db import Database
from crimeprev.figures.insight import monthly_series
from crimeprev.statistics.spc import SPC_MONTHS, SpcError, Variation, spc_table, table_variation


def measure_spc(
    db: Database,
    measure_id: str,
    period: date,
    months: int = SPC_MONTHS,
    district_codes: list[str] | None = None,
    rebase_months: tuple[date, ...] = (),
    baseline_months: int | None = None,
    force: str | None = None,
) -> pd.DataFrame:
    """A measure's XmR chart table over `months` months to `period`, in the chosen places."""
    measure = db.config.measure(measure_id)
    series = monthly_series(
        db, period, months, measure_ids=[measure_id], district_codes=district_codes, force=force
    )
    return spc_table(series, measure.improvement, rebase_months, baseline_months)


def variation_by_measure(
    db: Database,
    period: date,
    district_codes: list[str] | None = None,
    months: int = SPC_MONTHS,
    force: str | None = None,
) -> dict[str, Variation | None]:
    """Every measure's variation at `period` (its XmR chart over `months` months, limits from
    all of them); None for a measure whose chart cannot be drawn (too few covered months) or
    whose latest month the data does not cover."""
    series = monthly_series(db, period, months, district_codes=district_codes, force=force)
    result: dict[str, Variation | None] = {}
    for measure in db.config.measures:
        mine = series[series["measure_id"] == measure.id]
        latest = mine[pd.to_datetime(mine["month_start"]) == pd.Timestamp(period)]
        if latest.empty or latest["count_records"].isna().all():
            result[measure.id] = None
            continue
        try:
            result[measure.id] = table_variation(spc_table(mine, measure.improvement))
        except SpcError:
            result[measure.id] = None
    return result
