"""Chart builders: each chart carries the numbers it draws under the DataFrame's own column
names, with the windows, gaps and statuses labelled as the pages show them."""

from __future__ import annotations

from datetime import date

import altair as alt
import pandas as pd
import pytest

from crimeprev.periods import add_months
from crimeprev.present import charts

SEP_22 = date(2022, 9, 1)
GAP = date(2021, 2, 1)


def _series(end: date = SEP_22, months: int = 36, gaps: tuple[date, ...] = (GAP,)) -> pd.DataFrame:
    """A measure's monthly series as `insight.monthly_series` returns it: null where uncovered."""
    month_list = [add_months(end, -(months - 1) + i) for i in range(months)]
    return pd.DataFrame(
        {
            "measure_id": "knife-crime",
            "month_start": pd.to_datetime(month_list),
            "is_covered": [m not in gaps for m in month_list],
            "count_records": pd.array(
                [None if m in gaps else 100 + i for i, m in enumerate(month_list)], dtype="Int64"
            ),
        }
    )


def _breakdown() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district_name": ["Basildon", "Colchester", "Tendring"],
            "lpa": ["South", "North", "North"],
            "district_code": ["E07000066", "E07000071", "E07000076"],
            "current_count": [120, 340, 95],
            "previous_count": [100, 300, 110],
            "diff": [20, 40, -15],
            "pct_change": [20.0, 13.3, -13.6],
            "current_label": "12 months ending Sep 2022",
            "previous_label": "12 months ending Sep 2021",
        }
    )


def _status() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "strand_id": ["knife-crime", "rape", "total"],
            "strand_name": ["Knife crime", "Rape", "Total"],
            "strand_group": ["Serious Violence", "Serious Violence", ""],
            "total": [26, 110, 136],
            "complete": [16, 78, 94],
            "ongoing": [10, 30, 40],
            "at_risk": [0, 2, 2],
            "not_started": [0, 0, 0],
            "pct_complete": [61.5, 70.9, 69.1],
        }
    )


def test_label_windows_marks_twelve_current_months_and_the_same_months_a_year_earlier() -> None:
    labelled = charts.label_windows(_series(), SEP_22)
    by_window = labelled.groupby("window")["month_start"].agg(["count", "min", "max"])
    assert by_window.loc["current", "count"] == 12
    assert by_window.loc["current", "min"] == pd.Timestamp("2021-10-01")
    assert by_window.loc["current", "max"] == pd.Timestamp("2022-09-01")
    assert by_window.loc["year_earlier", "count"] == 12
    assert by_window.loc["year_earlier", "min"] == pd.Timestamp("2020-10-01")
    assert by_window.loc["earlier", "count"] == 12
    labels = dict(zip(labelled["window"], labelled["window_label"], strict=True))
    assert labels == {
        "current": "12 months ending Sep 2022",
        "year_earlier": "12 months ending Sep 2021",
        "earlier": "Earlier months",
    }
    assert labelled.loc[labelled["month_start"] == "2022-09-01", "month_label"].item() == "Sep 2022"


def test_monthly_chart_keeps_gap_months_as_nulls_not_zeros() -> None:
    chart = charts.monthly_chart(_series(), SEP_22, title="Knife-enabled crime", unit="crimes")
    assert isinstance(chart, alt.LayerChart)
    data = chart.data
    assert {"month_start", "count_records", "is_covered", "window", "window_label"} <= set(
        data.columns
    )
    gap = data[data["month_start"] == pd.Timestamp(GAP)]
    assert len(gap) == 1
    assert pd.isna(gap["count_records"].item())
    assert not gap["is_covered"].item()
    assert (data.loc[data["is_covered"], "count_records"] > 0).all()


def test_monthly_chart_colours_the_windows_with_the_shared_palette() -> None:
    spec = charts.monthly_chart(_series(), SEP_22).to_dict()
    bars = [layer for layer in spec["layer"] if layer["mark"]["type"] == "bar"]
    assert len(bars) == 1
    colour = bars[0]["encoding"]["color"]
    assert colour["field"] == "window_label"
    assert colour["scale"]["domain"] == [
        "12 months ending Sep 2022",
        "12 months ending Sep 2021",
        "Earlier months",
    ]
    assert colour["scale"]["range"] == [charts.BLUE, charts.ORANGE, charts.GREY]
    assert bars[0]["encoding"]["y"]["field"] == "count_records"
    gap_layers = [
        layer
        for layer in spec["layer"]
        if any(t.get("filter") == "!datum.is_covered" for t in layer.get("transform", []))
    ]
    assert {layer["mark"]["type"] for layer in gap_layers} == {"rect", "text"}


def test_monthly_chart_without_earlier_months_leaves_them_out_of_the_legend() -> None:
    spec = charts.monthly_chart(_series(months=24, gaps=()), SEP_22).to_dict()
    bars = next(layer for layer in spec["layer"] if layer["mark"]["type"] == "bar")
    assert bars["encoding"]["color"]["scale"]["range"] == [charts.BLUE, charts.ORANGE]


def test_district_chart_draws_both_windows_sorted_by_the_current_count() -> None:
    chart = charts.district_chart(_breakdown(), unit="crimes")
    spec = chart.to_dict()
    assert chart.data["current_count"].tolist() == [120, 340, 95]
    bars, ticks = spec["layer"]
    assert bars["mark"]["type"] == "bar" and ticks["mark"]["type"] == "tick"
    assert bars["encoding"]["x"]["field"] == "current_count"
    assert ticks["encoding"]["x"]["field"] == "previous_count"
    assert bars["encoding"]["y"]["sort"] == ["Colchester", "Basildon", "Tendring"]
    assert bars["encoding"]["color"]["scale"]["range"] == [charts.BLUE, charts.ORANGE]


def test_delivery_chart_stacks_every_status_of_each_strand_and_leaves_out_the_total() -> None:
    chart = charts.delivery_chart(_status())
    data = chart.data
    assert set(data["strand_id"]) == {"knife-crime", "rape"}
    assert set(data["status"]) == {"complete", "ongoing", "at_risk", "not_started"}
    per_strand = data.groupby("strand_id")["actions"].sum()
    assert per_strand.to_dict() == {"knife-crime": 26, "rape": 110}
    colour = chart.to_dict()["encoding"]["color"]
    assert colour["scale"]["domain"] == ["Complete", "Ongoing", "At risk", "Not started"]
    assert colour["scale"]["range"] == [charts.GREEN, charts.BLUE, charts.VERMILLION, charts.GREY]


@pytest.mark.parametrize(
    "build",
    [
        lambda: charts.monthly_chart(_series(), SEP_22, title="Knife-enabled crime"),
        lambda: charts.district_chart(_breakdown(), title="By district"),
        lambda: charts.delivery_chart(_status()),
    ],
)
def test_every_chart_has_the_shared_look_and_a_valid_spec(build) -> None:
    spec = build().to_dict(validate=True)
    assert spec["config"]["view"]["stroke"] is None
    assert spec["config"]["legend"]["orient"] == "top"


def test_palette_is_okabe_ito() -> None:
    assert charts.PALETTE == (
        "#0072B2",
        "#E69F00",
        "#009E73",
        "#D55E00",
        "#CC79A7",
        "#56B4E9",
        "#BBBBBB",
    )
