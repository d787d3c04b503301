"""Explore's charts: the breakdown's bars, comparison beside current, and the timeline of
buckets across both periods. The figures come from `crimeprev.figures.explore`.
"""

from __future__ import annotations

import altair as alt

from crimeprev.figures.explore import (
    COMPARISON,
    CURRENT,
    DIMENSION_LABELS,
    Exploration,
    window_label,
)
from crimeprev.formats import VEGA_COUNT, vega_pct_change
from crimeprev.present.charts import BLUE, HEIGHT, LABEL_AXIS, LEGEND, ORANGE, styled


def breakdown_chart(exploration: Exploration, dimension: str, unit: str) -> alt.Chart:
    """Bars for each breakdown value, comparison beside current; a click on a bar selects
    its value (the selection parameter `pick`, field `dimension_value`)."""
    frame = exploration.breakdown
    pick = alt.selection_point(name="pick", fields=["dimension_value"], on="click")
    order = list(dict.fromkeys(frame["dimension_value"]))
    labels = [
        window_label(COMPARISON, exploration.comparison),
        window_label(CURRENT, exploration.current),
    ]
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar(aria=True)
        .encode(
            y=alt.Y("dimension_value:N", title=None, sort=order, axis=LABEL_AXIS),
            yOffset=alt.YOffset("window_label:N", sort=labels),
            x=alt.X("count_records:Q", title=unit.capitalize()),
            color=alt.Color(
                "window_label:N",
                scale=alt.Scale(domain=labels, range=[ORANGE, BLUE]),
                legend=LEGEND,
            ),
            opacity=alt.condition(pick, alt.value(1.0), alt.value(0.35)),
            tooltip=[
                alt.Tooltip("dimension_value:N", title=DIMENSION_LABELS[dimension]),
                alt.Tooltip("window_label:N", title="Period"),
                alt.Tooltip("count_records:Q", title=unit.capitalize(), format=VEGA_COUNT),
                alt.Tooltip("pct_change_text:N", title="% change"),
            ],
        )
        .add_params(pick)
        .transform_calculate(pct_change_text=vega_pct_change())
        .properties(height=max(HEIGHT, 34 * len(order)))
    )
    return styled(chart)


def timeline_chart(exploration: Exploration, unit: str) -> alt.Chart:
    """The selected records bucket by bucket across both periods, coloured by period."""
    frame = exploration.timeline
    labels = [
        window_label(COMPARISON, exploration.comparison),
        window_label(CURRENT, exploration.current),
    ]
    chart: alt.Chart = (
        alt.Chart(frame)
        .mark_bar(aria=True)
        .encode(
            x=alt.X("bucket_label:N", title=None, sort=list(frame["bucket_label"])),
            y=alt.Y("count_records:Q", title=unit.capitalize()),
            color=alt.Color(
                "window_label:N",
                scale=alt.Scale(domain=labels, range=[ORANGE, BLUE]),
                legend=LEGEND,
            ),
            tooltip=[
                alt.Tooltip("bucket_label:N", title="Period"),
                alt.Tooltip("count_records:Q", title=unit.capitalize(), format=VEGA_COUNT),
                alt.Tooltip("count_months:Q", title="Months counted"),
            ],
        )
        .properties(height=HEIGHT)
    )
    return styled(chart)
