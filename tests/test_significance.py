"""The year-on-year test: the quasi-Poisson model against statsmodels' own formula fit on a grid
of series, its false calls on simulated stable series that vary more than chance (within 2
points of the nominal 5%), the exact test for small counts against scipy's binomial test, and
the test as the insight tables and the CLI report it."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
import statsmodels.formula.api as smf
from builders import view_at
from scipy.stats import binomtest

from crimeprev.figures import insight
from crimeprev.periods import add_months
from crimeprev.statistics.change import (
    BEYOND_NORMAL,
    EXACT,
    QUASI_POISSON,
    WITHIN_NORMAL,
    change_test,
    change_verdict,
    format_p_value,
    format_rate_ratio,
    rate_ratio_test,
    variation_words,
)

LEVEL, SMALL = 0.05, 20
START = date(2019, 10, 1)
MONTHS = [add_months(START, i) for i in range(36)]


def _exact(current: int, comparator: int, **options):
    return rate_ratio_test(
        current, comparator, significance_level=LEVEL, small_count=SMALL, **options
    )


def _series(rng, level: float, cv: float, step: float = 1.0) -> np.ndarray:
    """36 monthly counts: a seasonal level, the last 12 months times `step`, each month's rate
    drawn with coefficient of variation `cv`, then Poisson."""
    season = np.array([1 + 0.2 * math.sin(2 * math.pi * m.month / 12) for m in MONTHS])
    rate = level * season * np.r_[np.ones(24), np.full(12, step)]
    if cv:
        rate = rate * rng.gamma(1 / cv**2, cv**2, size=36)
    return rng.poisson(rate)


def _windows(counts: np.ndarray) -> list[dict[date, int]]:
    return [
        dict(zip(MONTHS[i : i + 12], map(int, counts[i : i + 12]), strict=True))
        for i in (0, 12, 24)
    ]


def _reference(counts: np.ndarray, with_earlier: bool):
    """statsmodels' formula GLM: window as a factor, month of year as a factor; quasi-Poisson
    (Pearson scale, t tests) when the counts vary more than Poisson, else Poisson."""
    frame = pd.DataFrame(
        {
            "count": counts,
            "window": np.repeat(["earlier", "comparator", "current"], 12),
            "month": [m.month for m in MONTHS],
        }
    )
    if not with_earlier:
        frame = frame[frame["window"] != "earlier"]
    formula = "count ~ C(window, Treatment('comparator')) + C(month)"
    model = smf.glm(formula, frame, family=sm.families.Poisson())
    term = "C(window, Treatment('comparator'))[T.current]"
    poisson = model.fit()
    if poisson.pearson_chi2 > poisson.df_resid:
        fit = model.fit(scale="X2", use_t=True)
    else:
        fit = poisson
    low, high = fit.conf_int(alpha=LEVEL).loc[term]
    return fit.pvalues[term], math.exp(fit.params[term]), math.exp(low), math.exp(high)


@pytest.mark.parametrize("with_earlier", [True, False], ids=["36 months", "24 months"])
def test_the_model_agrees_with_statsmodels_formula_fit_on_a_grid(with_earlier):
    rng = np.random.default_rng(12)
    for level in (30, 300, 3000):
        for cv in (0.0, 0.05, 0.2):
            for step in (1.0, 1.08, 0.85):
                counts = _series(rng, level, cv, step)
                earlier, comparator, current = _windows(counts)
                result = change_test(
                    current,
                    comparator,
                    earlier if with_earlier else None,
                    significance_level=LEVEL,
                    small_count=SMALL,
                )
                p_value, ratio, low, high = _reference(counts, with_earlier)
                case = (level, cv, step)
                assert result.test == QUASI_POISSON, case
                assert result.p_value == pytest.approx(p_value, rel=1e-6, abs=1e-12), case
                assert result.rate_ratio == pytest.approx(ratio, rel=1e-6), case
                assert result.rate_ratio == pytest.approx(counts[24:].sum() / counts[12:24].sum())
                assert result.rate_ratio_low == pytest.approx(low, rel=1e-6), case
                assert result.rate_ratio_high == pytest.approx(high, rel=1e-6), case
                assert result.significant == (p_value < LEVEL)


@pytest.mark.parametrize("with_earlier", [True, False], ids=["36 months", "24 months"])
def test_false_calls_on_stable_series_that_vary_more_than_chance_are_near_5_percent(
    with_earlier,
):
    rng = np.random.default_rng(2024)
    runs, called, exact_called = 600, 0, 0
    for run in range(runs):
        # Levels from knife crime's to domestic abuse's; 10% or 15% extra variation.
        counts = _series(rng, (250, 600, 2500)[run % 3], (0.10, 0.15)[run % 2])
        earlier, comparator, current = _windows(counts)
        result = change_test(
            current,
            comparator,
            earlier if with_earlier else None,
            significance_level=LEVEL,
            small_count=SMALL,
        )
        called += bool(result.significant)
        exact_called += bool(_exact(sum(current.values()), sum(comparator.values())).significant)
    assert abs(called / runs - LEVEL) <= 0.02, called / runs
    # The exact test for two totals calls most of these stable series changed.
    assert exact_called / runs > 0.3


def test_small_counts_use_the_exact_test_and_say_so():
    months = MONTHS[12:24], MONTHS[24:]
    comparator = dict.fromkeys(months[0], 1) | {months[0][0]: 8}
    current = dict.fromkeys(months[1], 2)
    result = change_test(current, comparator, significance_level=LEVEL, small_count=SMALL)
    assert result.test == EXACT and result.small_counts and result.dispersion is None
    assert result.p_value == pytest.approx(binomtest(24, 43).pvalue)


def test_the_level_comes_from_the_caller():
    counts = _series(np.random.default_rng(3), 300, 0.1, 1.06)
    earlier, comparator, current = _windows(counts)
    wide = change_test(current, comparator, earlier, significance_level=0.01, small_count=SMALL)
    narrow = change_test(current, comparator, earlier, significance_level=0.2, small_count=SMALL)
    assert wide.p_value == narrow.p_value
    assert (
        wide.rate_ratio_low < narrow.rate_ratio_low < narrow.rate_ratio_high < wide.rate_ratio_high
    )
    assert narrow.significant == (narrow.p_value < 0.2)


def test_exact_rate_ratio_and_its_interval_follow_from_the_proportion():
    result = _exact(3187, 2813)
    interval = binomtest(3187, 6000).proportion_ci(0.95, method="exact")
    assert result.rate_ratio == pytest.approx(3187 / 2813)
    assert result.rate_ratio_low == pytest.approx(interval.low / (1 - interval.low))
    assert result.rate_ratio_high == pytest.approx(interval.high / (1 - interval.high))
    assert result.p_value == pytest.approx(binomtest(3187, 6000).pvalue)
    assert result.significant and not result.small_counts and result.test == EXACT


def test_plain_words():
    assert variation_words(True) == BEYOND_NORMAL == "beyond normal month-to-month variation"
    assert variation_words(False) == WITHIN_NORMAL == "within normal variation"
    assert variation_words(None) is None
    assert change_verdict(True, 12) == "beyond normal variation ↑"
    assert change_verdict(True, -3) == "beyond normal variation ↓"
    assert change_verdict(False, 40) == WITHIN_NORMAL


def test_zeros_give_no_crash_and_say_why():
    nothing = _exact(0, 0)
    assert nothing.p_value is None and nothing.significant is None
    assert "neither window" in (nothing.note or "")
    new = _exact(12, 0)
    assert new.rate_ratio is None and new.rate_ratio_high is None
    assert new.rate_ratio_low is not None and new.rate_ratio_low > 0
    assert new.p_value == pytest.approx(binomtest(12, 12).pvalue)
    assert "infinite" in (new.note or "")
    gone = _exact(0, 12)
    assert gone.rate_ratio == 0 and gone.rate_ratio_low == 0
    assert gone.significant


def test_small_counts_are_those_under_the_threshold_in_either_window():
    assert _exact(19, 500).small_counts
    assert _exact(500, 19).small_counts
    assert not _exact(20, 20).small_counts
    assert rate_ratio_test(25, 30, significance_level=LEVEL, small_count=40).small_counts


def test_unequal_windows_compare_rates_per_month():
    result = _exact(120, 60, current_months=12, comparator_months=6)
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


def test_insight_rows_carry_the_model_fitted_to_their_months(demo_db):
    view = view_at(demo_db, date(2022, 9, 1))
    table = insight.insight_table(demo_db, view)
    series = insight.monthly_series(demo_db, view, 36)
    for measure in ("fraud", "knife-crime", "drug-trafficking"):
        counts = series[series["measure_id"] == measure]["count_records"].to_numpy()
        row = table[(table["measure"] == measure) & (table["comparison"] == "previous_year")]
        p_value, ratio, low, high = _reference(counts, with_earlier=True)
        assert row["p_value"].item() == pytest.approx(p_value, rel=1e-6)
        assert row["rate_ratio_low"].item() == pytest.approx(low, rel=1e-6)
        assert row["significance_test"].item() == QUASI_POISSON
        assert row["verdict"].item() == variation_words(p_value < LEVEL)
    # Fraud's +7.5% was called significant by the exact test (p = 0.045); allowing for its
    # month-to-month variation it is not.
    fraud = table[(table["measure"] == "fraud") & (table["comparison"] == "previous_year")]
    assert fraud["pct_change"].item() == 7.5 and not fraud["significant"].item()


def test_cli_json_has_the_test_for_every_row(demo_root: Path, demo_db):
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
    series = insight.monthly_series(demo_db, view_at(demo_db, date(2022, 9, 1)), 36)
    counts = series[series["measure_id"] == "knife-crime"]["count_records"].to_numpy()
    p_value, ratio, low, high = _reference(counts, with_earlier=True)
    assert knife["p_value"] == pytest.approx(p_value, rel=1e-6)
    assert knife["rate_ratio_low"] == pytest.approx(low, rel=1e-6)
    assert knife["rate_ratio_high"] == pytest.approx(high, rel=1e-6)
    assert knife["significance_test"] == QUASI_POISSON and knife["dispersion"] > 1
    for row in rows:
        keys = {"p_value", "rate_ratio_low", "rate_ratio_high", "significant", "verdict"}
        assert keys <= set(row)
        assert isinstance(row["significant"], bool)
        assert row["verdict"] in (BEYOND_NORMAL, WITHIN_NORMAL)


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
