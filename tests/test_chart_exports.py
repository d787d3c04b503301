"""A downloaded chart says what it shows: its title, the place, the period and the source are
drawn into the picture, and every chart carries a text alternative."""

from __future__ import annotations

import re
from datetime import date

import altair as alt
import pandas as pd

from crimeprev.present.charts import for_export, monthly_chart
from crimeprev.report.render import chart_svg


def _series() -> pd.DataFrame:
    months = pd.date_range("2020-10-01", "2022-09-01", freq="MS")
    return pd.DataFrame(
        {"month_start": months, "count_records": range(len(months)), "is_covered": True}
    )


def test_a_downloaded_chart_carries_title_place_period_and_source() -> None:
    chart = monthly_chart(_series(), date(2022, 9, 1), title="Knife-enabled crime")
    lines = ["Colchester · 12 months ending Sep 2022", "Source: police records, data to Sep 2022"]
    svg = chart_svg(for_export(chart, "unused", lines)).decode()
    for text in ("Knife-enabled crime", "Colchester", "12 months ending Sep 2022", "Source:"):
        assert text in svg, text


def test_a_chart_without_a_title_is_given_one_for_download() -> None:
    chart = alt.Chart(pd.DataFrame({"x": [1], "y": [2]})).mark_bar().encode(x="x:Q", y="y:Q")
    exported = for_export(chart, "Delivery status by strand", ["Essex", "Source: records"])
    svg = chart_svg(exported).decode()
    assert "Delivery status by strand" in svg and "Source: records" in svg


def test_every_chart_carries_a_text_alternative_and_its_axis_ends_at_the_last_month() -> None:
    chart = monthly_chart(_series(), date(2022, 9, 1), title="Knife-enabled crime")
    spec = chart.to_dict()
    assert spec["description"].startswith("Chart: Knife-enabled crime")
    assert spec["config"]["mark"]["aria"] is False
    svg = chart_svg(chart).decode()
    month_labels = re.findall(r">([A-Z][a-z]{2} \d{4})<", svg)
    assert month_labels[-1] == "Sep 2022" and "Oct 2022" not in month_labels
