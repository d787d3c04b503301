"""The spike finder: a spike injected into one district of a synthetic force is found, chance
alone raises (almost) no alarm, and on the demo extract a month yields a short list, the same
from the function and from `crimeprev signals`."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tomllib
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.stats import poisson

from crimeprev.config import Signals
from crimeprev.demo.generator import CALIBRATION_PATH
from crimeprev.statistics.spikes import (
    SpikesUnavailable,
    spike_records,
    spike_report,
    spike_table,
    upper_tail_p_value,
)

SEP_22, JUN_21 = date(2022, 9, 1), date(2021, 6, 1)
THURROCK = "E06000034"
MEASURES = {"violence": 20.0, "robbery": 5.0, "incidents": 60.0}
IMPROVEMENT = {"violence": "down", "robbery": "down", "incidents": "up"}
DISTRICTS = [f"D{d:02d}" for d in range(14)]


def _synthetic(seed: int, spike: int = 0) -> pd.DataFrame:
    """37 months of seasonal Poisson counts for 3 measures in 14 districts; `spike` extra
    records of violence in D03 in the last month."""
    rng = np.random.default_rng(seed)
    months = pd.date_range("2019-09-01", "2022-09-01", freq="MS")
    rows = []
    for measure, base in MEASURES.items():
        for index, district in enumerate(DISTRICTS):
            level = base * (0.5 + index / 13)
            for month in months:
                season = 1 + 0.25 * math.sin(2 * math.pi * month.month / 12)
                count = int(rng.poisson(level * season))
                if spike and measure == "violence" and district == "D03" and month == months[-1]:
                    count += spike
                rows.append(
                    {
                        "measure_id": measure,
                        "district_code": district,
                        "month_start": month,
                        "count_records": count,
                    }
                )
    return pd.DataFrame(rows)


def test_upper_tail_is_poisson_survival():
    assert upper_tail_p_value(30, 12.5) == pytest.approx(poisson.sf(29, 12.5))
    assert upper_tail_p_value(0, 3.0) == 1.0
    assert upper_tail_p_value(4, 0.0) == 0.0


def test_an_injected_spike_in_one_district_is_found_and_nothing_else():
    tests, threshold = spike_table(_synthetic(7, spike=25), SEP_22, IMPROVEMENT, Signals())
    assert len(tests) == 3 * 14
    assert threshold == pytest.approx(0.05 / 42)
    alerts = tests[tests["is_alert"]]
    assert alerts[["measure_id", "district_code"]].values.tolist() == [["violence", "D03"]]
    top = tests.iloc[0]
    assert (top["measure_id"], top["district_code"]) == ("violence", "D03")
    assert top["excess_count"] >= 20 and top["reading"] == "concern"


def test_the_expected_count_is_the_recent_level_times_the_force_seasonal_factor():
    monthly = _synthetic(3)
    tests, _ = spike_table(monthly, SEP_22, IMPROVEMENT, Signals())
    history = monthly[monthly["month_start"] < "2022-09-01"]
    mine = history[(history["measure_id"] == "robbery") & (history["district_code"] == "D05")]
    level = mine[mine["month_start"] >= "2021-09-01"]["count_records"].mean()
    force = history[history["measure_id"] == "robbery"].groupby("month_start")["count_records"]
    totals = force.sum()
    factor = totals[totals.index.month == 9].mean() / totals.mean()
    row = tests[(tests["measure_id"] == "robbery") & (tests["district_code"] == "D05")].iloc[0]
    assert row["expected_count"] == pytest.approx(level * factor)
    assert factor < 0.9  # September is the low point of the synthetic season


def test_chance_alone_rarely_alarms_though_a_plain_5_percent_would_flood():
    alerts = naive = 0
    for seed in range(30):
        tests, _ = spike_table(_synthetic(seed), SEP_22, IMPROVEMENT, Signals())
        alerts += int(tests["is_alert"].sum())
        naive += int((tests["p_value"] < 0.05).sum())
    assert alerts <= 3
    assert naive > 30


def test_a_small_count_needs_a_real_excess():
    monthly = _synthetic(11)
    quiet = monthly["district_code"] == "D00"
    monthly.loc[quiet & (monthly["measure_id"] == "robbery"), "count_records"] = 0
    last = quiet & (monthly["measure_id"] == "robbery") & (monthly["month_start"] == "2022-09-01")
    monthly.loc[last, "count_records"] = 4
    tests, _ = spike_table(monthly, SEP_22, IMPROVEMENT, Signals())
    row = tests[(tests["measure_id"] == "robbery") & (tests["district_code"] == "D00")].iloc[0]
    assert row["p_value"] == 0.0 and not row["is_alert"]


def test_too_little_history_is_refused_with_a_reason():
    monthly = _synthetic(1)
    with pytest.raises(SpikesUnavailable, match="needs 12 months"):
        spike_table(monthly, date(2020, 3, 1), IMPROVEMENT, Signals())


def test_demo_september_2022_gives_a_short_list_the_local_events(demo_db):
    report = spike_report(demo_db, SEP_22)
    assert report.tests_count == len(demo_db.config.measures) * 14
    assert 1 <= len(report.alerts) <= 5
    # The demo moves some records of a crime type into one district that month (force-wide
    # figures unchanged): those districts and measures, and no others, should stand out.
    calibration = tomllib.loads(CALIBRATION_PATH.read_text())
    names = {d.code: d.name for d in demo_db.config.districts}
    measure_of_type = {
        m.rule.crime_types[0]: m.id for m in demo_db.config.measures if m.rule.crime_types
    }
    events = {
        (measure_of_type[e["crime_type"]], names[e["district"]])
        for e in calibration["local_events"]
        if e["month"] == "2022-09"
    }
    found = zip(report.alerts["measure_id"], report.alerts["district_name"], strict=True)
    assert set(found) == events
    assert not report.tests["district_code"].str.startswith("X-").any()
    assert report.history_months == 36
    assert "196 measure-district counts" in report.threshold_text()


def test_demo_alerts_stay_few_where_a_plain_5_percent_level_would_not(demo_db):
    months = [date(2021, m, 1) for m in range(10, 13)] + [date(2022, m, 1) for m in range(1, 10)]
    reports = [spike_report(demo_db, month) for month in months]
    alerts = sum(len(r.alerts) for r in reports)
    plain = sum(int((r.tests["p_value"] < 0.05).sum()) for r in reports)
    assert alerts <= 12
    assert plain > 5 * 12


def test_demo_june_2021_finds_night_time_economy_in_thurrock(demo_db):
    report = spike_report(demo_db, JUN_21)
    alerts = report.alerts.set_index(["measure_id", "district_name"])
    row = alerts.loc[("night-time-economy", "Thurrock")]
    assert row["count_records"] == 26 and row["p_value"] < report.threshold_p_value
    assert row["strand_link"] == "strand?period=2021-06&strand=night-time-economy&district=thurrock"
    only = spike_report(demo_db, JUN_21, district_codes=[THURROCK])
    assert set(only.alerts["district_name"]) == {"Thurrock"}
    assert only.threshold_p_value == report.threshold_p_value


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crimeprev.cli", "signals", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(root)},
    )


def test_cli_json_is_the_same_list(demo_root: Path, demo_db):
    result = _cli(demo_root, "--period", "2021-06", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == spike_records(spike_report(demo_db, JUN_21))
    assert json.loads(result.stdout)[0]["threshold_p_value"] == pytest.approx(0.05 / 196)


def test_cli_refuses_a_month_without_history(demo_root: Path):
    result = _cli(demo_root, "--period", "2017-06")
    assert result.returncode == 2
    assert result.stderr.strip().startswith("crimeprev: The spike finder needs 12 months")
    assert "Traceback" not in result.stderr
