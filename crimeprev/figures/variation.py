"""XmR charts of a measure in a view: the monthly series of the view's places, read by
`crimeprev.statistics.spc`."""

from __future__ import annotations

from datetime import date

import pandas as pd

from crimeprev.db import Database
from crimeprev.figures.insight import monthly_series
from crimeprev.statistics.spc import SPC_MONTHS, SpcError, Variation, spc_table, table_variation
from crimeprev.view import View


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
    limits from all of them); None for a measure whose chart cannot be drawn (too few covered
    months) or whose latest month the data does not cover."""
    series = monthly_series(db, view, months)
    # Split once, rather than filtering the whole series again for every measure.
    by_measure = {str(key): part for key, part in series.groupby("measure_id", sort=False)}
    latest_counts = series.loc[
        series["month_start"] == pd.Timestamp(view.period), ["measure_id", "count_records"]
    ].dropna()
    latest_covered = set(latest_counts["measure_id"])
    result: dict[str, Variation | None] = {}
    for measure in db.config.measures:
        mine = by_measure.get(measure.id)
        if mine is None or measure.id not in latest_covered:
            result[measure.id] = None
            continue
        try:
            result[measure.id] = table_variation(spc_table(mine, measure.improvement))
        except SpcError:
            result[measure.id] = None
    return result
