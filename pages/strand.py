"""One strand as the report lays it out: insight tables, monthly chart and districts for each
measure, then activity, delivery and the lead's commentary."""

import streamlit as st

import ui
from crimeprev import activity, delivery, insight
from crimeprev.charts import district_chart, monthly_chart
from crimeprev.overview import (
    ACTIVITY_ONLY_NOTE,
    BETTER_WHEN,
    CHART_MONTHS,
    activity_table,
    comparison_tables,
    delivery_summary,
)
from crimeprev.periods import month_long_label

view = ui.current_view()
config, period, codes = view.config, view.filters.period, view.district_codes
strand = config.strand(ui.strand_picker(view))
ui.page_header(strand.name, view, counts=bool(strand.measures))
st.caption(f"{strand.group} · Thematic lead: {strand.lead_role}")

if not strand.measures:
    st.info(ACTIVITY_ONLY_NOTE, icon=":material/info:")
insight_rows = ui.fetch(insight.insight_table, period, strand_id=strand.id, district_codes=codes)
for measure in strand.measures:
    st.subheader(measure.name, divider="gray")
    st.caption(f"{measure.definition} {BETTER_WHEN[measure.improvement]} is better.")
    for column, comparison in zip(
        st.columns(2), comparison_tables(insight_rows, measure.id), strict=False
    ):
        with column:
            st.markdown(f"**{comparison.title}**")
            st.table(comparison.table, hide_index=True)
            if comparison.note:
                st.caption(comparison.note)
    monthly_tab, district_tab = st.tabs(["Monthly", "By district"])
    with monthly_tab:
        series = ui.fetch(
            insight.monthly_series,
            period,
            CHART_MONTHS,
            measure_ids=[measure.id],
            district_codes=codes,
        )
        ui.chart_with_data(
            monthly_chart(series, period, config.window_months, unit=measure.unit),
            ui.csv_name(view, f"{measure.id}-monthly"),
            columns=["month_start", "count_records", "is_covered", "window_label"],
        )
    with district_tab:
        breakdown = ui.fetch(insight.district_breakdown, measure.id, period, district_codes=codes)
        ui.chart_with_data(
            district_chart(breakdown, unit=measure.unit),
            ui.csv_name(view, f"{measure.id}-districts"),
            columns=[
                "district_name",
                "lpa",
                "previous_count",
                "current_count",
                "diff",
                "pct_change",
            ],
        )

metrics = ui.fetch(activity.activity_metrics, strand.id, period)
if not metrics.empty:
    st.subheader("Activity", divider="gray")
    ui.force_wide_note(view, "Operational results are")
    for operation, rows in activity_table(metrics).groupby("operation", sort=False):
        st.markdown(f"**{operation}** · {rows['period_label'].iloc[0]}")
        with st.container(horizontal=True, wrap=True):
            for row in rows.itertuples():
                st.metric(row.metric, row.value_text, border=True, width=200)

st.subheader("Delivery", divider="gray")
ui.force_wide_note(view, "The delivery plan is")
try:
    progress = ui.fetch(delivery.progress, strand.id, period)
except delivery.DeliveryUnavailable as error:
    st.info(str(error), icon=":material/info:")
else:
    summary = delivery_summary(progress, period)
    achieved_column, scheduled_column = st.columns(2)
    for column, heading, lines, empty in (
        (achieved_column, summary.achieved_heading, summary.achieved, "No action completed."),
        (scheduled_column, summary.scheduled_heading, summary.scheduled, "No action due."),
    ):
        with column:
            st.markdown(f"**{heading}**")
            st.markdown("\n".join(f"- {line}" for line in lines) or empty)

st.subheader("Commentary", divider="gray")
commentary = ui.fetch(activity.commentary, strand.id, period)
st.markdown(
    commentary
    or f"No commentary is recorded for {strand.name.lower()} for {month_long_label(period)}."
)
