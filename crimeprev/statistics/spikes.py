"""The spike finder: for one month, every measure in every district whose count is improbably
high against what was expected of it.

Expected count. A district's level is its mean monthly count over the 12 most recent covered
months before the month (a whole year, so every season weighs the same). The month's seasonal
factor is the force-wide count in the same calendar month over the preceding history (up to
`spike_history_months`) divided by the force-wide mean month over that history: seasonality is
learnt from the whole force, where there are enough records to see it, and applied to each
district. Expected count = level x seasonal factor.

Test. Under the expected count, the month's count is taken to be Poisson; its p-value is the
upper tail, P(X >= count). A month tests every measure in every force district (14 x 14 with the
shipped configuration), so at a 5% level some ten counts a month would alert by chance alone. The
threshold is Bonferroni's instead: `spike_family_alpha` divided by the number of tests, which
keeps the chance of even one false alarm in a month under `spike_family_alpha` (5%) when the
counts follow their expected levels. A count must also exceed its expected count by at least
`spike_min_excess` records, so a district that usually records nothing cannot alert on three.
The place filters choose which alerts are shown, never the threshold, so an alert reads the
same whatever else is selected. Records outside the force area or without a location are
never tested: they belong to no district a lead could act in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd

from crimeprev.config import Signals
from crimeprev.db import Database
from crimeprev.figures.insight import covered_months
from crimeprev.figures.overview import strand_url
from crimeprev.periods import PeriodError, add_months, format_month, month_long_label
from crimeprev.view import View

LEVEL_MONTHS = 12
READING = {"down": "concern", "up": "good news"}
SPIKE_COLUMNS = (
    "measure_id",
    "measure_name",
    "strand_id",
    "strand_name",
    "improvement",
    "district_code",
    "district_name",
    "district_slug",
    "lpa",
    "month_start",
    "count_records",
    "expected_count",
    "excess_count",
    "ratio",
    "p_value",
    "is_alert",
    "reading",
)
SPIKE_JSON_KEYS = (
    "measure",
    "strand",
    "district",
    "month",
    "count_records",
    "expected_count",
    "excess_count",
    "ratio",
    "p_value",
    "threshold_p_value",
    "reading",
)


class SpikesUnavailable(PeriodError):
    """The month cannot be tested: it is not in the data, or too little history precedes it."""


@dataclass(frozen=True)
class SpikeReport:
    """One month's spike test: every test made, the alerts among them, and the threshold."""

    month: date
    tests: pd.DataFrame
    alerts: pd.DataFrame
    tests_count: int
    threshold_p_value: float
    history_start: date
    history_end: date
    history_months: int
    settings: Signals

    def threshold_text(self) -> str:
        """The threshold in words, for the page and the command line."""
        s = self.settings
        return (
            f"{self.tests_count} measure-district counts tested for "
            f"{month_long_label(self.month)}; "
            f"an alert needs p < {self.threshold_p_value:.1e} ({s.spike_family_alpha:g} shared "
            f"across all tests, Bonferroni) and at least {s.spike_min_excess} records above the "
            f"expected count, learnt from {self.history_months} months "
            f"({month_long_label(self.history_start)} to {month_long_label(self.history_end)})."
        )


def upper_tail_p_value(count: int, expected: float) -> float:
    """P(X >= count) for X Poisson with mean `expected`."""
    if count <= 0:
        return 1.0
    if expected <= 0:
        return 0.0
    from scipy.stats import poisson  # imported when first needed: it takes a second to load

    return float(poisson.sf(count - 1, expected))


def spike_table(
    monthly: pd.DataFrame,
    month: date,
    improvement: dict[str, str],
    settings: Signals,
) -> tuple[pd.DataFrame, float]:
    """Test every measure x district count of `month` in `monthly` (`measure_id`,
    `district_code`, `month_start`, `count_records`, one row per covered month) against its
    expected count from the months before; returns the tests, ranked, and the per-test threshold.
    """
    frame = monthly.assign(month_start=pd.to_datetime(monthly["month_start"]))
    target = pd.Timestamp(month)
    history_start = pd.Timestamp(add_months(month, -settings.spike_history_months))
    history = frame[(frame["month_start"] < target) & (frame["month_start"] >= history_start)]
    current = frame[frame["month_start"] == target]
    history_months = sorted(history["month_start"].unique())
    if current.empty:
        raise SpikesUnavailable(f"There is no data for {month_long_label(month)}.")
    if len(history_months) < settings.spike_min_history_months:
        raise SpikesUnavailable(
            f"The spike finder needs {settings.spike_min_history_months} months of data before "
            f"{month_long_label(month)}; the data has {len(history_months)}."
        )
    recent = history[history["month_start"].isin(history_months[-LEVEL_MONTHS:])]
    level = recent.groupby(["measure_id", "district_code"])["count_records"].mean()
    force_monthly = history.groupby(["measure_id", "month_start"])["count_records"].sum()
    force_frame = force_monthly.reset_index()
    same_month = force_frame[force_frame["month_start"].dt.month == month.month]
    seasonal = (
        same_month.groupby("measure_id")["count_records"].mean()
        / force_frame.groupby("measure_id")["count_records"].mean()
    )
    tests = current.copy()
    keys = list(zip(tests["measure_id"], tests["district_code"], strict=True))
    factors = seasonal.reindex(tests["measure_id"]).fillna(1.0).to_numpy()
    tests["expected_count"] = level.reindex(keys).fillna(0.0).to_numpy() * factors
    tests["count_records"] = tests["count_records"].astype("int64")
    tests["excess_count"] = tests["count_records"] - tests["expected_count"]
    tests["ratio"] = [
        None if e <= 0 else c / e
        for c, e in zip(tests["count_records"], tests["expected_count"], strict=True)
    ]
    tests["p_value"] = [
        upper_tail_p_value(int(c), float(e))
        for c, e in zip(tests["count_records"], tests["expected_count"], strict=True)
    ]
    threshold = settings.spike_family_alpha / max(len(tests), 1)
    tests["is_alert"] = (tests["p_value"] < threshold) & (
        tests["excess_count"] >= settings.spike_min_excess
    )
    tests["improvement"] = tests["measure_id"].map(improvement)
    tests["reading"] = tests["improvement"].map(READING)
    ranked = tests.sort_values(["p_value", "excess_count"], ascending=[True, False])
    return ranked.reset_index(drop=True), threshold


def spike_report(
    db: Database,
    month: date,
    district_codes: list[str] | None = None,
    force: str | None = None,
) -> SpikeReport:
    """The spike finder for `month`: every test and the alerts, in the chosen districts,
    strongest first, each with a link to its strand's page for that district."""
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
    improvement = {m.id: m.improvement for m in config.measures}
    tests, threshold = spike_table(monthly, month, improvement, settings)
    measures = {m.id: m for m in config.measures}
    tests["measure_name"] = [measures[m].name for m in tests["measure_id"]]
    tests["strand_id"] = [measures[m].strand_id for m in tests["measure_id"]]
    tests["strand_name"] = [config.strand(s).name for s in tests["strand_id"]]
    tests = tests[list(SPIKE_COLUMNS)]
    tests["strand_link"] = [
        strand_url(strand, View(period=month, districts=(slug,)))
        for strand, slug in zip(tests["strand_id"], tests["district_slug"], strict=True)
    ]
    shown = tests if district_codes is None else tests[tests["district_code"].isin(district_codes)]
    history = sorted(pd.to_datetime(monthly["month_start"]).unique())
    history = [pd.Timestamp(m).date() for m in history if pd.Timestamp(m).date() < month]
    return SpikeReport(
        month=month,
        tests=shown.reset_index(drop=True),
        alerts=shown[shown["is_alert"]].reset_index(drop=True),
        tests_count=len(tests),
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
            "reading": row["reading"],
        }
        for row in report.alerts.to_dict("records")
    ]
