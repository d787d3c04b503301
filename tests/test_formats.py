"""The one formatting module: every surface writes numbers and months the same way."""

from __future__ import annotations

import math
from datetime import date

import pandas as pd
import pytest

from crimeprev import formats
from crimeprev.periods import Window


@pytest.mark.parametrize(
    ("value", "text"),
    [(2813, "2,813"), (188800, "188,800"), (0, "0"), (1234567.0, "1,234,567"), (12.5, "12.5")],
)
def test_counts_carry_thousands_separators(value: float, text: str) -> None:
    assert formats.count_text(value) == text


@pytest.mark.parametrize("missing", [None, math.nan, pd.NA])
def test_missing_values_are_blank_or_the_word_given(missing: object) -> None:
    assert formats.count_text(missing) == ""
    assert formats.signed_count_text(missing, blank="–") == "–"
    assert formats.pct_change_text(missing) == ""


@pytest.mark.parametrize(("value", "text"), [(374, "+374"), (-1198, "-1,198"), (0, "0")])
def test_differences_carry_their_sign(value: int, text: str) -> None:
    assert formats.signed_count_text(value) == text


@pytest.mark.parametrize(("value", "text"), [(47.1, "+47.1%"), (-7.6, "-7.6%"), (0.0, "+0.0%")])
def test_percentage_changes_carry_sign_and_percent(value: float, text: str) -> None:
    assert formats.pct_change_text(value) == text


def test_months_read_as_month_and_full_year_everywhere() -> None:
    assert formats.month_text(date(2022, 9, 1)) == "Sep 2022"
    assert formats.month_text(date(2016, 6, 1)) == "Jun 2016"
    assert formats.month_long_text(date(2022, 9, 1)) == "September 2022"
    assert Window.ending(date(2022, 9, 1)).label() == "12 months ending Sep 2022"


def test_residents_are_written_with_separators_and_noun() -> None:
    assert formats.people_text(188800) == "188,800 residents"
    assert formats.people_text(None) == "unknown residents"


def test_the_vega_month_format_matches_the_python_one() -> None:
    # d3's %b %Y writes the same text as month_text for the same month.
    assert date(2022, 9, 1).strftime(formats.VEGA_MONTH) == formats.month_text(date(2022, 9, 1))
