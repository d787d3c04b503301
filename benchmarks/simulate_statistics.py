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

Every replicate is drawn at once with numpy; the fits run in `--workers` processes (one BLAS
thread each), so 200 or more replicates per scenario are practical on two cores. Each rate is
printed with its 95% Wilson interval (statsmodels `proportion_confint`).

    uv run python benchmarks/simulate_statistics.py [--replicates 200] [--seed 12] [--workers 2]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import binomtest, poisson
from statsmodels.stats.proportion import proportion_confint

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


def _simulate(
    levels: pd.DataFrame, months: list[date], cv: float, trend: float, rng, replicates: int
) -> np.ndarray:
    """Every replicate's counts at once: (replicate, measure x district, month)."""
    season = np.array([1 + SEASONAL_SWING * np.sin(2 * np.pi * m.month / 12) for m in months])
    growth = (1 + trend) ** (np.arange(len(months)) / 12)
    mean = levels["level"].to_numpy()[:, None] * season[None, :] * growth[None, :]
    mean = np.broadcast_to(np.maximum(mean, 1e-9), (replicates, *mean.shape))
    if cv > 0:
        mean = mean * rng.gamma(1 / cv**2, cv**2, size=mean.shape)
    return rng.poisson(mean)


def _long(levels: pd.DataFrame, months: list[date], counts: np.ndarray) -> pd.DataFrame:
    """One replicate's (measure x district, month) counts as the spike finder's long table."""
    rows, columns = counts.shape
    return pd.DataFrame(
        {
            "measure_id": np.repeat(levels["measure_id"].to_numpy(), columns),
            "district_code": np.repeat(levels["district_code"].to_numpy(), columns),
            "month_start": np.tile(pd.to_datetime(months).to_numpy(), rows),
            "count_records": counts.ravel(),
        }
    )


def _force_totals(levels: pd.DataFrame, counts: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each replicate's force-wide monthly count per measure: (replicate, measure, month)."""
    codes, measure_of = np.unique(levels["measure_id"].to_numpy(), return_inverse=True)
    totals = np.zeros((counts.shape[0], len(codes), counts.shape[2]), dtype=np.int64)
    np.add.at(totals, (slice(None), measure_of), counts)
    return [str(c) for c in codes], totals


def _yoy_before(totals: np.ndarray, level: float) -> int:
    """How many measure-years the exact test of two Poisson totals calls changed."""
    current = totals[..., 24:36].sum(axis=-1).ravel()
    comparator = totals[..., 12:24].sum(axis=-1).ravel()
    return sum(
        binomtest(int(c), int(c + p)).pvalue < level
        for c, p in zip(current, comparator, strict=True)
        if c + p
    )


def _spikes_before(
    levels: pd.DataFrame, months: list[date], counts: np.ndarray, settings: Signals
) -> np.ndarray:
    """Whether each replicate's last month alerts anywhere by the previous rule: the district's
    mean of the last 12 months x the measure's force-wide seasonal factor, Poisson tail."""
    history, current = counts[..., :-1], counts[..., -1]
    level = history[..., -12:].mean(axis=-1)
    _, totals = _force_totals(levels, history)
    same = np.array([m.month == months[-1].month for m in months[:-1]])
    seasonal = totals[..., same].mean(axis=-1) / totals.mean(axis=-1)
    _, measure_of = np.unique(levels["measure_id"].to_numpy(), return_inverse=True)
    expected = level * seasonal[:, measure_of]
    p = poisson.sf(current - 1, np.maximum(expected, 1e-12))
    threshold = settings.spike_family_alpha / counts.shape[1]
    return ((p < threshold) & (current - expected >= settings.spike_min_excess)).any(axis=1)


def _after(job: tuple) -> tuple[int, int]:
    """The current methods on a chunk of replicates: (measure-years called, alarmed months)."""
    levels, months, counts, settings = job
    from threadpoolctl import threadpool_limits

    target = months[-1]
    improvement = dict.fromkeys(levels["measure_id"].unique(), "down")
    codes, totals = _force_totals(levels, counts)
    called = alarmed = 0
    with threadpool_limits(limits=1, user_api="blas"):
        for replicate in range(counts.shape[0]):
            for index in range(len(codes)):
                series = totals[replicate, index]
                windows = [
                    dict(zip(months[i : i + 12], map(int, series[i : i + 12]), strict=True))
                    for i in (0, 12, 24)
                ]
                test = change_test(
                    windows[2],
                    windows[1],
                    windows[0],
                    significance_level=settings.significance_level,
                    small_count=settings.small_count,
                )
                called += bool(test.significant)
            tests, _ = spike_table(
                _long(levels, months, counts[replicate]), target, improvement, settings
            )
            alarmed += bool(tests["is_alert"].any())
    return called, alarmed


def _rate(hits: int, trials: int) -> str:
    low, high = proportion_confint(hits, trials, alpha=0.05, method="wilson")
    return f"{hits / trials:.1%} ({low:.1%}-{high:.1%})"


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicates", type=int, default=200)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument(
        "--workers", type=int, default=1, help="processes for the fits (the machine's cores)"
    )
    parser.add_argument(
        "--scenario", action="append", choices=list(SCENARIOS), help="run only these (repeatable)"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        levels, settings = _levels(Path(scratch))
    level = settings.significance_level
    months = [add_months(START, i) for i in range(HISTORY + 1)]
    measures = levels["measure_id"].nunique()
    print(
        f"{measures} measures x {levels['district_code'].nunique()} districts, "
        f"{args.replicates} simulated months per scenario, significance level {level:g}, "
        f"spike family rate {settings.spike_family_alpha:g}, {args.workers} worker(s); "
        f"load average before: {_load()}"
    )
    print("Rates with their 95% Wilson intervals (statsmodels proportion_confint).")
    header = (
        f"{'scenario':28} {'yoy before':>20} {'yoy after':>20} "
        f"{'spike months before':>20} {'spike months after':>20} {'seconds':>7}  load 1-5-15 min"
    )
    print(header)
    rng = np.random.default_rng(args.seed)
    chosen = args.scenario or list(SCENARIOS)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        for name in chosen:
            cv, trend = SCENARIOS[name]
            started = time.perf_counter()
            counts = _simulate(levels, months, cv, trend, rng, args.replicates)
            _, totals = _force_totals(levels, counts[..., :-1])
            yoy_before = _yoy_before(totals, level)
            spikes_before = int(_spikes_before(levels, months, counts, settings).sum())
            chunks = np.array_split(counts, max(1, min(args.replicates, args.workers * 4)))
            jobs = [(levels, months, chunk, settings) for chunk in chunks if len(chunk)]
            results = list(pool.map(_after, jobs))
            yoy_after = sum(r[0] for r in results)
            spikes_after = sum(r[1] for r in results)
            yoy_tests = args.replicates * measures
            print(
                f"{name:28} {_rate(yoy_before, yoy_tests):>20} {_rate(yoy_after, yoy_tests):>20} "
                f"{_rate(spikes_before, args.replicates):>20} "
                f"{_rate(spikes_after, args.replicates):>20} "
                f"{time.perf_counter() - started:>7.0f}  {_load()}",
                flush=True,
            )
    print(
        "yoy: share of measure-years called beyond normal variation (a real change under a "
        "trend); spike months: share of months with any alert (stated rate "
        f"{settings.spike_family_alpha:.0%})."
    )


if __name__ == "__main__":
    main()
