"""Chart builders: each takes a DataFrame from `crimeprev` and returns an Altair chart.

Every chart uses one palette (Okabe-Ito, which readers with colour-blindness can tell apart) and
one look (`styled`). Field names are the DataFrame's column names, so a chart's `.data` is the
table of numbers behind it.
"""

from __future__ import annotations

from datetime import date
from typing import Any, TypeVar, cast

import altair as alt
import pandas as pd
import pyarrow as pa

from crimeprev.figures.delivery import STATUS_COLUMNS
from crimeprev.formats import VEGA_COUNT, VEGA_MONTH, VEGA_SIGNED_COUNT, vega_pct_change
from crimeprev.periods import Window, add_months, month_label

BLUE = "#0072B2"
ORANGE = "#E69F00"
GREEN = "#009E73"
VERMILLION = "#D55E00"
PINK = "#CC79A7"
SKY = "#56B4E9"
GREY = "#BBBBBB"
GAP_FILL = "#F0F0F0"
PALETTE = (BLUE, ORANGE, GREEN, VERMILLION, PINK, SKY, GREY)

WINDOW_CURRENT = "current"
WINDOW_YEAR_EARLIER = "year_earlier"
WINDOW_EARLIER = "earlier"
EARLIER_LABEL = "Earlier months"
WINDOW_COLOURS = {WINDOW_CURRENT: BLUE, WINDOW_YEAR_EARLIER: ORANGE, WINDOW_EARLIER: GREY}

STATUS_LABELS = {
    "complete": "Complete",
    "ongoing": "Ongoing",
    "at_risk": "At risk",
    "not_started": "Not started",
}
STATUS_COLOURS = {
    "complete": GREEN,
    "ongoing": BLUE,
    "at_risk": VERMILLION,
    "not_started": GREY,
}

HEIGHT = 300
LABEL_AXIS = alt.Axis(labelLimit=320)
LEGEND = alt.Legend(title=None, orient="top", labelLimit=400, symbolType="square")


ChartT = TypeVar("ChartT", alt.Chart, alt.LayerChart)


DEFAULT_DESCRIPTION = "A chart; the numbers it draws are in the table beneath it."


def chart_description(chart: alt.TopLevelMixin) -> str:
    """A chart's text alternative: its description if set, else its title and subtitle."""
    given = getattr(chart, "description", alt.Undefined)
    if isinstance(given, str) and given:
        return given
    title = getattr(chart, "title", alt.Undefined)
    parts: list[str] = []
    if isinstance(title, str):
        parts.append(title)
    elif isinstance(title, alt.Title):
        for part in (title.text, title.subtitle):
            if isinstance(part, str) and part:
                parts.append(part)
    text = ". ".join(p.rstrip(".") for p in parts if p)
    return f"Chart: {text}." if text else DEFAULT_DESCRIPTION


def _title_parts(chart: alt.TopLevelMixin) -> tuple[str, list[str]]:
    title = getattr(chart, "title", alt.Undefined)
    if isinstance(title, str):
        return title, []
    if isinstance(title, alt.Title):
        text = title.text if isinstance(title.text, str) else ""
        subtitle: Any = title.subtitle
        if isinstance(subtitle, str):
            return text, [subtitle]
        if isinstance(subtitle, list):
            return text, [str(line) for line in subtitle]
        return text, []
    return "", []


def for_export(chart: ChartT, fallback_title: str, lines: list[str]) -> ChartT:
    """The chart as a downloaded file carries it: its title (or `fallback_title` when it has
    none), its own subtitle, then `lines` (the place, the period and the source), so that a
    picture copied into a paper still says what it shows."""
    text, own_subtitle = _title_parts(chart)
    every_line: list[str] = own_subtitle + lines
    heading = alt.Title(
        text or fallback_title,
        subtitle=every_line,
        anchor="start",
        fontSize=15,
        subtitleFontSize=12,
        subtitleColor="#444444",
    )
    titled: ChartT = chart.properties(title=heading)
    return titled


def styled(chart: ChartT) -> ChartT:
    """The shared look: quiet axes, no frame, legend on top. (No font is set: the dashboard's
    theme supplies its own, and naming another makes Vega measure legend labels wrongly.)

    Every chart carries a text alternative (`description`, read out for the whole drawing),
    and its marks are left out of the accessibility tree, where each bar or point would be an
    unnamed image; the marks a reader clicks (Explore's bars, the map's tiles) keep theirs,
    named by their fields."""
    configured = (
        chart.properties(description=chart_description(chart))
        .configure_mark(aria=False)
        .configure_view(stroke=None)
        .configure_axis(
            labelFontSize=12,
            titleFontSize=12,
            labelColor="#31333F",
            titleColor="#31333F",
            gridColor="#E6E6E6",
            domainColor="#BBBBBB",
            tickColor="#BBBBBB",
        )
        .configure_legend(
            orient="top", title=None, labelFontSize=12, symbolType="square", labelLimit=320
        )
        .configure_title(anchor="start", fontSize=15, subtitleFontSize=12, subtitleColor="#555555")
    )
    return cast(ChartT, configured)


def month_ticks(months: pd.Series, step: int = 3) -> list[alt.DateTime]:
    """Every `step`th month counting back from the last one, so the axis ends at the last month
    of data (not the month after it, where a bar's band ends)."""
    if months.empty:
        return []
    first = pd.Timestamp(months.min()).date()
    tick = pd.Timestamp(months.max()).date()
    ticks = []
    while tick >= first:
        ticks.append(alt.DateTime(year=tick.year, month=tick.month, date=1))
        tick = add_months(tick, -step)
    return ticks[::-1]


def month_x(months: pd.Series, step: int = 3) -> alt.X:
    """The month axis every monthly chart shares: `Sep 2022` labels every `step` months, the
    last at the last month of data."""
    return alt.X(
        "yearmonth(month_start):T",
        title=None,
        axis=alt.Axis(format=VEGA_MONTH, labelAngle=-45, values=month_ticks(months, step)),
    )


def label_windows(series: pd.DataFrame, period: date, window_months: int = 12) -> pd.DataFrame:
    """Mark each month of a monthly series as in the current window, the same months a year
    earlier, or earlier still; with the label each window goes by in the chart's legend."""
    current = Window.ending(period, window_months)
    year_earlier = current.shifted(-window_months)
    labels = {
        WINDOW_CURRENT: current.label(),
        WINDOW_YEAR_EARLIER: year_earlier.label(),
        WINDOW_EARLIER: EARLIER_LABEL,
    }
    frame = series.copy()
    months = [pd.Timestamp(m).date() for m in frame["month_start"]]
    frame["window"] = [
        WINDOW_CURRENT
        if current.start <= m <= current.end
        else WINDOW_YEAR_EARLIER
        if year_earlier.start <= m <= year_earlier.end
        else WINDOW_EARLIER
        for m in months
    ]
    frame["window_label"] = frame["window"].map(labels)
    frame["month_label"] = [month_label(m) for m in months]
    return frame


def _window_scale(frame: pd.DataFrame) -> alt.Scale:
    order = (WINDOW_CURRENT, WINDOW_YEAR_EARLIER, WINDOW_EARLIER)
    present = [w for w in order if w in set(frame["window"])]
    label_of = dict(zip(frame["window"], frame["window_label"], strict=True))
    return alt.Scale(
        domain=[label_of[w] for w in present], range=[WINDOW_COLOURS[w] for w in present]
    )


def monthly_chart(
    series: pd.DataFrame,
    period: date,
    window_months: int = 12,
    title: str = "",
    unit: str = "records",
) -> alt.LayerChart:
    """Bars of one measure's monthly counts: the current window in blue, the same months a year
    earlier in orange, older months grey. A month the data does not cover is a shaded gap."""
    frame = label_windows(series, period, window_months)
    x = month_x(frame["month_start"])
    missing = alt.Chart().transform_filter("!datum.is_covered")
    gap_tooltip = [alt.Tooltip("month_label:N", title="Month"), alt.Tooltip("note:N", title="")]
    gaps = (
        missing.transform_calculate(note="'No data for this month'")
        .mark_rect(color=GAP_FILL)
        .encode(x=x, tooltip=gap_tooltip)
    )
    gap_labels = missing.mark_text(text="no data", angle=270, color="#666666", fontSize=11).encode(
        x=alt.X("yearmonth(month_start):T", bandPosition=0.5), y=alt.value(HEIGHT / 2)
    )
    bars = (
        alt.Chart()
        .mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2)
        .encode(
            x=x,
            y=alt.Y("count_records:Q", title=unit.capitalize()),
            color=alt.Color("window_label:N", scale=_window_scale(frame), sort=None, legend=LEGEND),
            tooltip=[
                alt.Tooltip("month_label:N", title="Month"),
                alt.Tooltip("count_records:Q", title=unit.capitalize(), format=VEGA_COUNT),
                alt.Tooltip("window_label:N", title="Window"),
            ],
        )
    )
    subtitle = f"Per month, {len(frame)} months to {month_label(period)}"
    heading = alt.Title(title, subtitle=subtitle) if title else alt.Undefined
    return styled(
        alt.LayerChart(layer=[gaps, gap_labels, bars], data=frame, height=HEIGHT, title=heading)
    )


def district_chart(
    breakdown: pd.DataFrame, title: str = "", unit: str = "records"
) -> alt.LayerChart:
    """Horizontal bars of each district's count in the current 12 months, with a tick at its
    count in the 12 months before (the colours of `monthly_chart`'s two windows)."""
    frame = breakdown.copy()
    labels = [frame["current_label"].iloc[0], frame["previous_label"].iloc[0]] if len(frame) else []
    colour_scale = alt.Scale(domain=labels, range=[BLUE, ORANGE])
    order = list(frame.sort_values("current_count", ascending=False)["district_name"])
    y = alt.Y("district_name:N", title=None, sort=order, axis=LABEL_AXIS)
    tooltip = [
        alt.Tooltip("district_name:N", title="District"),
        alt.Tooltip("lpa:N", title="LPA"),
        alt.Tooltip("current_count:Q", title="12 months to period", format=VEGA_COUNT),
        alt.Tooltip("previous_count:Q", title="12 months before", format=VEGA_COUNT),
        alt.Tooltip("diff:Q", title="Difference", format=VEGA_SIGNED_COUNT),
        alt.Tooltip("pct_change_text:N", title="% change"),
    ]
    bars = (
        alt.Chart()
        .mark_bar(size=14, cornerRadiusTopRight=2, cornerRadiusBottomRight=2)
        .encode(
            y=y,
            x=alt.X("current_count:Q", title=unit.capitalize(), axis=alt.Axis(tickCount=6)),
            color=alt.Color("current_label:N", scale=colour_scale, legend=LEGEND),
            tooltip=tooltip,
        )
    )
    ticks = (
        alt.Chart()
        .mark_tick(thickness=3, size=22)
        .encode(
            y=y,
            x="previous_count:Q",
            color=alt.Color("previous_label:N", scale=colour_scale, legend=LEGEND),
            tooltip=tooltip,
        )
    )
    heading = alt.Title(title) if title else alt.Undefined
    return styled(
        alt.LayerChart(
            layer=[bars, ticks], data=frame, height=alt.Step(26), title=heading
        ).transform_calculate(pct_change_text=vega_pct_change())
    )


def delivery_chart(status: pd.DataFrame) -> alt.Chart:
    """Each strand's actions stacked by status (the total row left out)."""
    statuses = [c for c in STATUS_COLUMNS if c != "total"]
    frame = status.loc[status["strand_id"] != "total", ["strand_id", "strand_name", *statuses]]
    long = frame.melt(
        id_vars=["strand_id", "strand_name"],
        value_vars=statuses,
        var_name="status",
        value_name="actions",
    )
    long["status_label"] = long["status"].map(STATUS_LABELS)
    long["status_order"] = long["status"].map({c: i for i, c in enumerate(statuses)})
    chart: alt.Chart = (
        alt.Chart(long)
        .mark_bar()
        .encode(
            y=alt.Y("strand_name:N", title=None, sort=list(frame["strand_name"]), axis=LABEL_AXIS),
            x=alt.X("actions:Q", title="Actions", stack="zero"),
            color=alt.Color(
                "status_label:N",
                scale=alt.Scale(
                    domain=[STATUS_LABELS[c] for c in statuses],
                    range=[STATUS_COLOURS[c] for c in statuses],
                ),
            ),
            order=alt.Order("status_order:Q"),
            tooltip=[
                alt.Tooltip("strand_name:N", title="Strand"),
                alt.Tooltip("status_label:N", title="Status"),
                alt.Tooltip("actions:Q", title="Actions"),
            ],
        )
        .properties(height=alt.Step(24))
    )
    return styled(chart)


SPC_COMMON_GREY = "#7F7F7F"
SPC_POINT_COLOURS = {"common_cause": SPC_COMMON_GREY, "improvement": BLUE, "concern": ORANGE}


def spc_chart(table: pd.DataFrame, title: str = "", unit: str = "records") -> alt.LayerChart:
    """An XmR chart as Making Data Count draws it, from `statistics.spc.spc_table`: the monthly
    counts joined by a line, each point grey (common cause), blue (improvement) or orange
    (concern); the mean as a solid line and the process limits dashed, each labelled with its
    value at the segment's last month, each segment after a rebase with its own, and a rule
    marking where limits were rebased. A month without data breaks every line (`run`)."""
    from crimeprev.statistics.spc import POINT_LABELS

    frame = table.copy()
    frame["month_label"] = [month_label(pd.Timestamp(m).date()) for m in frame["month_start"]]
    x = month_x(frame["month_start"])
    tooltip = [
        alt.Tooltip("month_label:N", title="Month"),
        alt.Tooltip("count_records:Q", title=unit.capitalize(), format=VEGA_COUNT),
        alt.Tooltip("mean:Q", title="Mean", format=",.1f"),
        alt.Tooltip("lower_limit:Q", title="Lower process limit", format=",.1f"),
        alt.Tooltip("upper_limit:Q", title="Upper process limit", format=",.1f"),
        alt.Tooltip("point_label:N", title="Variation"),
        alt.Tooltip("rules:N", title="Rules broken"),
    ]
    kinds = list(SPC_POINT_COLOURS)
    colour = alt.Color(
        "point_label:N",
        scale=alt.Scale(
            domain=[POINT_LABELS[k] for k in kinds], range=[SPC_POINT_COLOURS[k] for k in kinds]
        ),
        legend=LEGEND,
    )
    base = alt.Chart()
    line = base.mark_line(color="#BBBBBB", strokeWidth=1.5).encode(
        x=x,
        y=alt.Y("count_records:Q", title=unit.capitalize(), scale=alt.Scale(zero=False)),
        detail="run:N",
    )
    points = base.mark_circle(size=55, opacity=1).encode(
        x=x, y="count_records:Q", color=colour, tooltip=tooltip
    )
    pieces = [alt.Detail("segment:N"), alt.Detail("run:N")]
    mean = base.mark_line(color="#31333F", strokeWidth=1.5).encode(x=x, y="mean:Q", detail=pieces)
    limits = [
        base.mark_line(color="#555555", strokeDash=[5, 4], strokeWidth=1.2).encode(
            x=x, y=f"{field}:Q", detail=pieces
        )
        for field in ("upper_limit", "lower_limit")
    ]
    labels = (
        base.transform_window(
            last="row_number()",
            groupby=["segment"],
            sort=[{"field": "month_start", "order": "descending"}],
        )
        .transform_filter("datum.last == 1")
        .transform_fold(["mean", "upper_limit", "lower_limit"], as_=["line", "level"])
        .transform_calculate(
            label="{'mean': 'Mean', 'upper_limit': 'Upper limit', 'lower_limit': 'Lower limit'}"
            "[datum.line] + ' ' + format(datum.level, ',.1f')"
        )
        .mark_text(align="left", dx=6, fontSize=10, color="#31333F")
        .encode(x=x, y="level:Q", text="label:N")
    )
    rebases = (
        base.transform_window(first="row_number()", groupby=["segment"])
        .transform_filter("datum.first == 1 && datum.segment > 0")
        .mark_rule(color="#555555", strokeDash=[2, 2])
        .encode(x=x, tooltip=[alt.Tooltip("month_label:N", title="Limits rebased at")])
    )
    heading = alt.Title(title) if title else alt.Undefined
    return styled(
        alt.LayerChart(
            layer=[*limits, mean, line, points, rebases, labels],
            data=frame,
            height=HEIGHT,
            title=heading,
        )
    )


RECORD_KIND_LABELS = {"crime": "Crimes", "incident": "Incidents", "asb": "Anti-social behaviour"}


def coverage_chart(monthly: pd.DataFrame) -> alt.LayerChart:
    """Records per month, stacked by kind, with each month missing from the data shaded and
    labelled rather than drawn as a zero."""
    frame = monthly.assign(
        kind_label=[RECORD_KIND_LABELS.get(k, k) if k else "" for k in monthly["record_kind"]],
    )
    x = month_x(frame["month_start"])
    kinds = [k for k in RECORD_KIND_LABELS.values() if k in set(frame["kind_label"])]
    bars = (
        alt.Chart()
        .transform_filter("datum.is_covered")
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("sum(count_records):Q", title="Records", axis=alt.Axis(format=VEGA_COUNT)),
            color=alt.Color(
                "kind_label:N",
                scale=alt.Scale(domain=kinds, range=list(PALETTE[: len(kinds)])),
                legend=LEGEND,
            ),
            tooltip=[
                alt.Tooltip("month_label:N", title="Month"),
                alt.Tooltip("kind_label:N", title="Kind"),
                alt.Tooltip("sum(count_records):Q", title="Records", format=VEGA_COUNT),
            ],
        )
    )
    missing = alt.Chart().transform_filter("!datum.is_covered")
    shading = (
        missing.transform_calculate(note="'No data for this month'")
        .mark_rect(color=GAP_FILL)
        .encode(
            x=x,
            tooltip=[alt.Tooltip("month_label:N", title="Month"), alt.Tooltip("note:N", title="")],
        )
    )
    labels = missing.mark_text(text="no data", angle=270, color="#666666", fontSize=11).encode(
        x=alt.X("yearmonth(month_start):T", bandPosition=0.5), y=alt.value(HEIGHT / 2)
    )
    return styled(alt.LayerChart(layer=[shading, bars, labels], data=frame, height=HEIGHT))


def query_result_chart(table: pa.Table, max_bars: int = 50) -> alt.Chart | None:
    """A first look at a result: a line over the first date column, else bars over the first
    text column, of the first numeric column; None when the result has no such pair."""
    numeric = [
        f.name
        for f in table.schema
        if pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or pa.types.is_decimal(f.type)
    ]
    temporal = [
        f.name for f in table.schema if pa.types.is_date(f.type) or pa.types.is_timestamp(f.type)
    ]
    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    if not numeric or table.num_rows == 0:
        return None
    value = numeric[0]
    chart: alt.Chart
    if temporal:
        frame = table.select([temporal[0], value]).to_pandas()
        frame = frame.groupby(temporal[0], as_index=False)[value].sum()
        chart = (
            alt.Chart(frame)
            .mark_line(point=True, color=BLUE)
            .encode(x=alt.X(f"{temporal[0]}:T", title=None), y=alt.Y(f"{value}:Q"))
            .properties(height=HEIGHT)
        )
    elif text:
        frame = table.select([text[0], value]).to_pandas()
        frame = frame.groupby(text[0], as_index=False)[value].sum()
        frame = frame.sort_values(value, ascending=False).head(max_bars)
        chart = (
            alt.Chart(frame)
            .mark_bar(color=BLUE)
            .encode(
                y=alt.Y(f"{text[0]}:N", sort="-x", title=None, axis=LABEL_AXIS),
                x=alt.X(f"{value}:Q"),
            )
            .properties(height=alt.Step(20))
        )
    else:
        return None
    return styled(chart)
