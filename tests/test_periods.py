"""Months, windows and changes, as the report prints them."""

from datetime import date

import pytest

from crimeprev.periods import (
    PeriodError,
    Window,
    add_months,
    change,
    comparisons,
    financial_quarter_label,
    format_pct,
    parse_month,
    round_half_up,
)


def test_parse_month_accepts_the_url_form():
    assert parse_month("2022-09") == date(2022, 9, 1)


@pytest.mark.parametrize("text", ["2022-13", "2022-00", "Sept 2022", "2022/09", "", "22-09"])
def test_parse_month_explains_bad_input(text):
    with pytest.raises(PeriodError, match="YYYY-MM|01 to 12"):
        parse_month(text)


def test_add_months_crosses_years_both_ways():
    assert add_months(date(2022, 9, 1), 4) == date(2023, 1, 1)
    assert add_months(date(2022, 1, 1), -1) == date(2021, 12, 1)
    assert add_months(date(2022, 9, 1), -23) == date(2020, 10, 1)


def test_report_windows_for_september_2022():
    previous, baseline = comparisons(date(2022, 9, 1), date(2019, 12, 1))
    assert previous.current == Window(date(2021, 10, 1), date(2022, 9, 1))
    assert previous.comparator == Window(date(2020, 10, 1), date(2021, 9, 1))
    assert baseline.comparator == Window(date(2019, 1, 1), date(2019, 12, 1))
    assert previous.current.label() == "12 months ending Sep 2022"
    assert baseline.comparator.label() == "12 months ending Dec 2019"
    assert len(previous.current.months) == 12


def test_missing_months_of_a_window():
    window = Window.ending(date(2018, 12, 1))
    covered = {date(2018, m, 1) for m in range(1, 13)} - {date(2018, 8, 1), date(2018, 9, 1)}
    assert window.missing_from(covered) == [date(2018, 8, 1), date(2018, 9, 1)]


@pytest.mark.parametrize(
    ("comparator", "current", "diff", "pct"),
    [
        (1989, 3187, 1198, 60.2),
        (2442, 2802, 360, 14.7),
        (6167, 5700, -467, -7.6),
        (1278, 1267, -11, -0.9),
        (5364, 3261, -2103, -39.2),
        (2813, 3187, 374, 13.3),
        (100, 100, 0, 0.0),
    ],
)
def test_change_matches_the_report(comparator, current, diff, pct):
    result = change(comparator, current)
    assert (result.diff, result.pct_change) == (diff, pct)


def test_change_from_zero_gives_a_reason_not_a_number():
    result = change(0, 12)
    assert result.diff == 12
    assert result.pct_change is None
    assert "none" in result.no_pct_reason


def test_rounding_is_half_up_not_bankers():
    assert round_half_up(0.25) == 0.3
    assert round_half_up(-0.25) == -0.3
    assert round_half_up(13.35) == 13.4


def test_percent_formatting():
    assert format_pct(13.3) == "+13.3%"
    assert format_pct(-7.6) == "-7.6%"
    assert format_pct(0.0) == "+0.0%"
    assert format_pct(None) == ""


def test_financial_quarters():
    assert financial_quarter_label(date(2022, 9, 1)) == "2022/23 Q2"
    assert financial_quarter_label(date(2022, 3, 1)) == "2021/22 Q4"
    assert financial_quarter_label(date(2021, 12, 1)) == "2021/22 Q3"
