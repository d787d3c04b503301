"""The spike finder for a view: one month's tests of the districts in view, with names, strands
and links to each strand's page for that district (`crimeprev.statistics.spikes` tests them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from crimeprev.config import Signals
from crimeprev.db import Database
from crimeprev.figures.insight import covered_months
from crimeprev.figures.overview import strand_url
from crimeprev.periods import add_months, format_month, month_long_label
from crimeprev.statistics.spikes import (
    SPIKE_COLUMNS,
    SpikesUnavailable,
    spike_table,
)
from crimeprev.view import View


@dataclass(frozen=True)
class SpikeReport:
    """One month's spike test: every test made in the view, the alerts among them, and the
    threshold."""

    month: date
    tests: pd.DataFrame
    alerts: pd.DataFrame
    tests_count: int
    districts_count: int
    threshold_p_value: float
    history_start: date
    history_end: date
    history_months: int
    settings: Signals

    def threshold_text(self) -> str:
        """The threshold in words, for the page and the command line."""
        s = self.settings
        places = "district" if self.districts_count == 1 else "districts"
        return (
            f"{self.tests_count} measure-district counts tested for "
            f"{month_long_label(self.month)} ({self.districts_count} {places} in view); "
            f"an alert needs p < {self.threshold_p_value:.1e} ({s.spike_family_alpha:g} shared "
            f"across the {self.tests_count} tests, Bonferroni) and at least "
            f"{s.spike_min_excess} records above the expected count, projected from "
            f"{self.history_months} months ({month_long_label(self.history_start)} to "
            f"{month_long_label(self.history_end)})."
        )

    def nearest(self, count: int) -> pd.DataFrame:
        """The `count` counts above their expected level least likely by chance, alert or not."""
        above = self.tests[self.tests["excess_count"] > 0]
        return above.head(count).reset_index(drop=True)


def spike_report(
    db: Database,
    month: date,
    district_codes: list[str] | None = None,
    force: str | None = None,
) -> SpikeReport:
    """The spike finder for `month`: every count tested in the chosen districts (all the
    force's when None) and the alerts, strongest first, each with a link to its strand's page
    for that district."""
    config = db.config
    settings = config.signals
    if month not in set(covered_months(db, force)):
        raise SpikesUnavailable(f"There is no data for {month_long_label(month)}.")
    monthly = db.query(
        "measure_district_monthly",
        start=add_months(month, -settings.spike_history_months),
        end=month,
        force=force,
    )
    if force is not None:
        mine = {d.code for d in config.districts if d.belongs_to(force)}
        monthly = monthly[monthly["district_code"].isin(mine)]
    improvement = {m.id: m.improvement for m in config.measures}
    tests, threshold = spike_table(monthly, month, improvement, settings, district_codes)
    measures = {m.id: m for m in config.measures}
    tests["measure_name"] = [measures[m].name for m in tests["measure_id"]]
    tests["strand_id"] = [measures[m].strand_id for m in tests["measure_id"]]
    tests["strand_name"] = [config.strand(s).name for s in tests["strand_id"]]
    tests = tests[list(SPIKE_COLUMNS)]
    tests["strand_link"] = [
        strand_url(strand, View(period=month, districts=(slug,)))
        for strand, slug in zip(tests["strand_id"], tests["district_slug"], strict=True)
    ]
    history = sorted(pd.to_datetime(monthly["month_start"]).unique())
    history = [pd.Timestamp(m).date() for m in history if pd.Timestamp(m).date() < month]
    return SpikeReport(
        month=month,
        tests=tests.reset_index(drop=True),
        alerts=tests[tests["is_alert"]].reset_index(drop=True),
        tests_count=len(tests),
        districts_count=tests["district_code"].nunique(),
        threshold_p_value=threshold,
        history_start=history[0],
        history_end=history[-1],
        history_months=len(history),
        settings=settings,
    )


def spike_records(report: SpikeReport) -> list[dict[str, Any]]:
    """The alerts as plain values under the documented JSON keys."""
    return [
        {
            "measure": row["measure_id"],
            "strand": row["strand_id"],
            "district": row["district_name"],
            "month": format_month(pd.Timestamp(row["month_start"]).date()),
            "count_records": int(row["count_records"]),
            "expected_count": round(float(row["expected_count"]), 2),
            "excess_count": round(float(row["excess_count"]), 2),
            "ratio": None if pd.isna(row["ratio"]) else round(float(row["ratio"]), 3),
            "p_value": float(row["p_value"]),
            "threshold_p_value": report.threshold_p_value,
            "tests_count": report.tests_count,
            "reading": row["reading"],
        }
        for row in report.alerts.to_dict("records")
    ]
