"""How often the statistics cry wolf: false year-on-year calls and false spike alerts on
synthetic series shaped like the force's measures and districts, before and after the tests
allowed for extra month-to-month variation.

Each measure x district's monthly level is its mean month over the demo extract's last year
(written to a temporary folder when the data folder has no records), with a seasonal swing of
+/-10%. Scenarios: stable Poisson counts; stable with 10% and 15% extra variation (each month's
underlying rate drawn around its level with a coefficient of variation of 10% or 15%, then
Poisson: a negative binomial with alpha 0.01 or 0.0225); and a steady +10% or -10% a year trend
with 10% extra.

- **Year-on-year**: for each measure, the force-wide count of the last 12 of 36 simulated months
  against the 12 before, tested at the configured significance level: the share called beyond
  normal variation (with a trend the change is real, so the share is the test's power).
- **Spikes**: the share of simulated months in which any of the measure x district counts of
  the 37th month alerts (the stated rate is `spike_family_alpha` for every scenario).

"Before" is the previous method, rebuilt here for comparison only: the exact test for two
Poisson totals; expected count = the district's mean of the last 12 months x the force-wide
seasonal factor, Poisson upper tail. "After" calls `crimeprev.statistics.change.change_test` and
`crimeprev.statistics.spikes.spike_table`. Prints a table with the load average; exits 0.

    uv run python benchmarks/simulate_statistics.py [--replicates 200] [--seed 12]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest, poisson

from crimeprev.aggregate import open_database
from crimeprev.config import Signals
from crimeprev.demo.generator import generate_demo
from crimeprev.periods import add_months
from crimeprev.statistics.change import change_test
from crimeprev.statistics.spikes import spike_table
from crimeprev.store import data_dir, has_records

START = date(2019, 1, 1)
HISTORY = 36
SEASONAL_SWING = 0.10
SCENARIOS = {
    "stable, Poisson": (0.0, 0.0),
    "stable, 10% extra variation": (0.10, 0.0),
    "stable, 15% extra variation": (0.15, 0.0),
    "+10% a year, 10% extra": (0.10, 0.10),
    "-10% a year, 10% extra": (0.10, -0.10),
}


def _levels(scratch: Path) -> tuple[pd.DataFrame, Signals]:
    """Mean monthly count per measure x force district over the data's last 12 months."""
    root = data_dir()
    if not has_records(root):
        print(f"No records in {root}: writing the demo extract to a temporary folder first.")
        generate_demo(scratch)
        root = scratch
    db = open_database(root)
    last = pd.Timestamp(db.query("covered_months", force=None)["month_start"].max()).date()
    monthly = db.query(
        "measure_district_monthly", start=add_months(last, -11), end=last, force=None
    )
    levels = monthly.groupby(["measure_id", "district_code"])["count_records"].mean()
    return levels.reset_index(name="level"), db.config.signals


def _simulate(levels: pd.DataFrame, months: list[date], cv: float, trend: float, rng):
    """One draw of every measure x district's monthly counts over `months`."""
    season = np.array([1 + SEASONAL_SWING * np.sin(2 * np.pi * m.month / 12) for m in months])
    growth = (1 + trend) ** (np.arange(len(months)) / 12)
    mean = levels["level"].to_numpy()[:, None] * season[None, :] * growth[None, :]
    mean = np.maximum(mean, 1e-9)
    if cv > 0:
        mean = mean * rng.gamma(1 / cv**2, cv**2, size=mean.shape)
    counts = rng.poisson(mean)
    frame = pd.DataFrame(counts, columns=pd.to_datetime(months))
    frame["measure_id"] = levels["measure_id"].to_numpy()
    frame["district_code"] = levels["district_code"].to_numpy()
    long = frame.melt(
        id_vars=["measure_id", "district_code"], var_name="month_start", value_name="count_records"
    )
    return long


def _yoy_before(current: int, comparator: int, level: float) -> bool:
    if current + comparator == 0:
        return False
    return binomtest(current, current + comparator).pvalue < level


def _spikes_before(long: pd.DataFrame, month: pd.Timestamp, settings: Signals) -> bool:
    history = long[long["month_start"] < month]
    current = long[long["month_start"] == month]
    recent = history[history["month_start"] >= month - pd.DateOffset(months=12)]
    level = recent.groupby(["measure_id", "district_code"])["count_records"].mean()
    force = history.groupby(["measure_id", "month_start"])["count_records"].sum().reset_index()
    same = force[force["month_start"].dt.month == month.month]
    seasonal = (
        same.groupby("measure_id")["count_records"].mean()
        / force.groupby("measure_id")["count_records"].mean()
    )
    keys = list(zip(current["measure_id"], current["district_code"], strict=True))
    expected = level.reindex(keys).to_numpy() * seasonal.reindex(current["measure_id"]).to_numpy()
    counts = current["count_records"].to_numpy()
    p = poisson.sf(counts - 1, np.maximum(expected, 1e-12))
    threshold = settings.spike_family_alpha / len(current)
    return bool(((p < threshold) & (counts - expected >= settings.spike_min_excess)).any())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        levels, settings = _levels(Path(scratch))
    level = settings.significance_level
    months = [add_months(START, i) for i in range(HISTORY + 1)]
    target = pd.Timestamp(months[-1])
    improvement = dict.fromkeys(levels["measure_id"].unique(), "down")
    measures = levels["measure_id"].nunique()
    print(
        f"{measures} measures x {levels['district_code'].nunique()} districts, "
        f"{args.replicates} simulated months per scenario, significance level {level:g}, "
        f"spike family rate {settings.spike_family_alpha:g}; load average before: "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )
    header = (
        f"{'scenario':30} {'yoy before':>11} {'yoy after':>10} "
        f"{'spike months before':>20} {'spike months after':>19} {'seconds':>8} {'load':>6}"
    )
    print(header)
    rng = np.random.default_rng(args.seed)
    for name, (cv, trend) in SCENARIOS.items():
        started = time.perf_counter()
        yoy = {"before": 0, "after": 0}
        spikes = {"before": 0, "after": 0}
        for _ in range(args.replicates):
            long = _simulate(levels, months, cv, trend, rng)
            years = long[long["month_start"] < target]
            force = years.groupby(["measure_id", "month_start"])["count_records"].sum()
            for measure in improvement:
                series = force.loc[measure]
                windows = [
                    {pd.Timestamp(m).date(): int(c) for m, c in series.iloc[i : i + 12].items()}
                    for i in (0, 12, 24)
                ]
                totals = [sum(w.values()) for w in windows]
                yoy["before"] += _yoy_before(totals[2], totals[1], level)
                test = change_test(
                    windows[2],
                    windows[1],
                    windows[0],
                    significance_level=level,
                    small_count=settings.small_count,
                )
                yoy["after"] += bool(test.significant)
            spikes["before"] += _spikes_before(long, target, settings)
            tests, _ = spike_table(long, months[-1], improvement, settings)
            spikes["after"] += bool(tests["is_alert"].any())
        yoy_tests = args.replicates * measures
        print(
            f"{name:30} {yoy['before'] / yoy_tests:>11.1%} {yoy['after'] / yoy_tests:>10.1%} "
            f"{spikes['before'] / args.replicates:>20.1%} "
            f"{spikes['after'] / args.replicates:>19.1%} "
            f"{time.perf_counter() - started:>8.0f} {os.getloadavg()[0]:>6.2f}"
        )
    print(
        "yoy: share of measure-years called beyond normal variation (a real change under a "
        "trend); spike months: share of months with any alert (stated rate "
        f"{settings.spike_family_alpha:.0%})."
    )


if __name__ == "__main__":
    main()
