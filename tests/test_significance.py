"""The exact test for two Poisson counts against scipy's own binomial test, on a grid of counts
from zero to hundreds of thousands; and the test as the insight tables and the CLI report it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from builders import view_at
from scipy.stats import binomtest

from crimeprev.figures import insight
from crimeprev.statistics.change import (
    binomial_p_value,
    clopper_pearson,
    format_p_value,
    format_rate_ratio,
    rate_ratio_test,
)

SMALL = [0, 1, 2, 3, 5, 8, 13, 19, 20, 21, 40]
LARGE = [0, 1, 99, 1_000, 9_950, 10_000, 29_308, 30_699, 250_000, 251_500]


def _pairs():
    yield from ((a, b) for a in SMALL for b in SMALL)
    yield from ((a, b) for a in LARGE for b in LARGE)


@pytest.mark.parametrize("probability", [0.5, 0.3, 0.8])
def test_p_values_agree_with_scipy_binomtest(probability):
    for current, comparator in _pairs():
        total = current + comparator
        if total == 0:
            continue
        expected = binomtest(current, total, probability).pvalue
        assert math.isclose(
            binomial_p_value(current, total, probability), expected, rel_tol=1e-9, abs_tol=1e-300
        ), (current, comparator, probability)


def test_every_split_of_small_totals_agrees_with_scipy():
    for total in range(1, 41):
        for current in range(total + 1):
            expected = binomtest(current, total).pvalue
            assert math.isclose(binomial_p_value(current, total), expected, rel_tol=1e-9)


def test_intervals_agree_with_scipy_exact_interval():
    for current, comparator in _pairs():
        total = current + comparator
        if total == 0:
            continue
        interval = binomtest(current, total).proportion_ci(0.95, method="exact")
        low, high = clopper_pearson(current, total, 0.95)
        assert low == pytest.approx(interval.low, abs=1e-9)
        assert high == pytest.approx(interval.high, abs=1e-9)


def test_rate_ratio_and_its_interval_follow_from_the_proportion():
    result = rate_ratio_test(3187, 2813)
    interval = binomtest(3187, 6000).proportion_ci(0.95, method="exact")
    assert result.rate_ratio == pytest.approx(3187 / 2813)
    assert result.rate_ratio_low == pytest.approx(interval.low / (1 - interval.low))
    assert result.rate_ratio_high == pytest.approx(interval.high / (1 - interval.high))
    assert result.p_value == pytest.approx(binomtest(3187, 6000).pvalue)
    assert result.significant and not result.small_counts


def test_the_interval_excludes_one_exactly_when_the_change_is_significant():
    for current, comparator in _pairs():
        result = rate_ratio_test(current, comparator)
        if result.p_value is None or result.rate_ratio_low is None:
            continue
        high = math.inf if result.rate_ratio_high is None else result.rate_ratio_high
        excludes_one = result.rate_ratio_low > 1 or high < 1
        assert excludes_one == result.significant, (current, comparator)


def test_zeros_give_no_crash_and_say_why():
    nothing = rate_ratio_test(0, 0)
    assert nothing.p_value is None and nothing.significant is None
    assert "neither window" in (nothing.note or "")
    new = rate_ratio_test(12, 0)
    assert new.rate_ratio is None and new.rate_ratio_high is None
    assert new.rate_ratio_low is not None and new.rate_ratio_low > 0
    assert new.p_value == pytest.approx(binomtest(12, 12).pvalue)
    assert "infinite" in (new.note or "")
    gone = rate_ratio_test(0, 12)
    assert gone.rate_ratio == 0 and gone.rate_ratio_low == 0
    assert gone.significant


def test_small_counts_are_those_under_the_threshold_in_either_window():
    assert rate_ratio_test(19, 500).small_counts
    assert rate_ratio_test(500, 19).small_counts
    assert not rate_ratio_test(20, 20).small_counts
    assert rate_ratio_test(25, 30, small_count=40).small_counts


def test_unequal_windows_compare_rates_per_month():
    result = rate_ratio_test(120, 60, current_months=12, comparator_months=6)
    assert result.rate_ratio == pytest.approx(1.0)
    assert result.p_value == pytest.approx(binomtest(120, 180, 12 / 18).pvalue)
    assert not result.significant


def test_formats():
    assert format_p_value(0.0004) == "p < 0.001"
    assert format_p_value(0.0042) == "p = 0.004"
    assert format_p_value(0.41) == "p = 0.41"
    assert format_rate_ratio(1.0766, 1.1923) == "1.08 to 1.19"
    assert format_rate_ratio(0.0, 0.35) == "0 to 0.35"
    assert format_rate_ratio(2.1, None) == "2.10 to no upper bound"


def test_insight_rows_carry_the_test(demo_db):
    table = insight.insight_table(demo_db, view_at(demo_db, date(2022, 9, 1)))
    for row in table.to_dict("records"):
        expected = rate_ratio_test(int(row["current_count"]), int(row["comparator_count"]))
        assert row["p_value"] == pytest.approx(expected.p_value)
        assert row["significant"] == expected.significant
    drugs = table[
        (table["measure"] == "drug-trafficking") & (table["comparison"] == "previous_year")
    ]
    assert drugs["pct_change"].item() == -0.9 and not drugs["significant"].item()


def test_cli_json_has_the_test_for_every_row(demo_root: Path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crimeprev.cli",
            "insight",
            "--period",
            "2022-09",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(demo_root)},
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    knife = next(
        r for r in rows if r["measure"] == "knife-crime" and r["comparison"] == "previous_year"
    )
    expected = rate_ratio_test(3187, 2813)
    assert knife["p_value"] == pytest.approx(expected.p_value)
    assert knife["rate_ratio_low"] == pytest.approx(expected.rate_ratio_low)
    assert knife["rate_ratio_high"] == pytest.approx(expected.rate_ratio_high)
    assert knife["significant"] is True and knife["small_counts"] is False
    for row in rows:
        assert {"p_value", "rate_ratio_low", "rate_ratio_high", "significant"} <= set(row)
        assert isinstance(row["significant"], bool)


def test_signals_settings_are_read_and_checked(tmp_path: Path):
    from crimeprev.config import DEFAULT_CONFIG_DIR, ConfigError, load_config

    assert load_config().signals.significance_level == 0.05
    shipped = (DEFAULT_CONFIG_DIR / "strategy.toml").read_text()
    (tmp_path / "strategy.toml").write_text(
        shipped.replace("significance_level = 0.05", "significance_level = 0.01")
    )
    assert load_config(tmp_path).signals.significance_level == 0.01
    (tmp_path / "strategy.toml").write_text(
        shipped.replace("significance_level = 0.05", "significance_level = 5")
    )
    with pytest.raises(ConfigError, match=r"\[signals\] significance_level must be a number"):
        load_config(tmp_path)
    (tmp_path / "strategy.toml").write_text(shipped.replace("small_count = 20", "smallcount = 20"))
    with pytest.raises(ConfigError, match="unknown settings"):
        load_config(tmp_path)
