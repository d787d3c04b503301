"""One strand as the report lays it out: insight tables, monthly chart and districts for each
measure, then activity, delivery and the lead's commentary."""

import streamlit as st

import ui
from crimeprev.figures import activity, delivery, insight
from crimeprev.figures.overview import (
    CHART_MONTHS,
    activity_table,
    comparison_tables,
    delivery_summary,
    measure_caption,
    strand_note,
)
from crimeprev.figures.variation import measure_spc
from crimeprev.periods import add_months, format_month, month_label, month_long_label, parse_month
from crimeprev.present.cells_safe import markdown_text
from crimeprev.present.charts import district_chart, monthly_chart, spc_chart
from crimeprev.statistics.spc import SpcError, table_variation

view = ui.current_view()
config, period = view.config, view.filters.period
strand = config.strand(ui.strand_picker(view))
ui.page_header(strand.name, view, counts=bool(strand.measures))
st.caption(f"{strand.group} · Thematic lead: {strand.lead_role}")

note = strand_note(strand)
if note:
    st.info(note, icon=":material/info:")
insight_rows = ui.fetch(insight.insight_table, view.filters, strand_id=strand.id)


def remember_spc_view() -> None:
    if st.session_state["spc_view"]:
        st.query_params["spc"] = "on"
    elif "spc" in st.query_params:
        del st.query_params["spc"]


spc_view = bool(strand.measures) and st.toggle(
    "SPC view: monthly charts as XmR charts",
    value=st.query_params.get("spc") == "on",
    key="spc_view",
    on_change=remember_spc_view,
    help="Statistical process control as NHS Making Data Count draws it: mean, process limits "
    "(from 12 months or more; moving ranges unscreened, as the Making Data Count tool) and "
    "special-cause points (blue improvement, orange concern). A month without data breaks the "
    "line, the moving ranges and every run and trend.",
)
rebase_months: tuple = ()
baseline_months = None
if spc_view:
    chart_months = [add_months(period, -i) for i in range(CHART_MONTHS - 2, -1, -1)]
    rebase_column, baseline_column = st.columns([3, 1])
    rebase = ui.url_multiselect(
        "Rebase the limits at",
        "rebase",
        {format_month(m): month_label(m) for m in chart_months},
        container=rebase_column,
    )
    rebase_months = tuple(sorted(parse_month(m) for m in rebase))
    baseline_months = (
        baseline_column.number_input(
            "Baseline months (0 = all)",
            min_value=0,
            max_value=CHART_MONTHS,
            value=0,
            help="Limits are learnt from the first this many months of each segment: 12 or more, "
            "or 0 for all of them.",
        )
        or None
    )
for measure in strand.measures:
    st.subheader(measure.name, divider="gray")
    st.caption(measure_caption(measure))
    for column, comparison in zip(
        st.columns(2),
        comparison_tables(insight_rows, measure.id, config.signals.significance_level),
        strict=False,
    ):
        with column:
            st.markdown(f"**{comparison.title}**")
            st.table(comparison.table, hide_index=True)
            if comparison.note:
                st.caption(comparison.note)
            if comparison.significance:
                st.caption(comparison.significance)
    monthly_tab, district_tab = st.tabs(["Monthly", "By district"])
    with monthly_tab:
        if spc_view:
            try:
                table = ui.fetch(
                    measure_spc,
                    view.filters,
                    measure.id,
                    CHART_MONTHS,
                    rebase_months=rebase_months,
                    baseline_months=baseline_months,
                )
            except SpcError as error:
                st.warning(str(error), icon=":material/warning:")
            else:
                st.markdown(f"Latest month: **{table_variation(table).icon}**")
                ui.chart_with_data(
                    spc_chart(table, unit=measure.unit),
                    ui.csv_name(view, f"{measure.id}-spc"),
                    columns=[
                        "month_start",
                        "count_records",
                        "mean",
                        "lower_limit",
                        "upper_limit",
                        "point_label",
                        "rules",
                    ],
                )
        else:
            series = ui.fetch(
                insight.monthly_series, view.filters, CHART_MONTHS, measure_ids=[measure.id]
            )
            ui.chart_with_data(
                monthly_chart(series, period, config.window_months, unit=measure.unit),
                ui.csv_name(view, f"{measure.id}-monthly"),
                columns=["month_start", "count_records", "is_covered", "window_label"],
            )
    with district_tab:
        breakdown = ui.fetch(insight.district_breakdown, view.filters, measure.id)
        if len(breakdown) and isinstance(breakdown["note"].iloc[0], str):
            st.caption(f"Counts left empty where a window is {breakdown['note'].iloc[0]}.")
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

if strand.measures:
    st.caption("Every figure in this strand's insight tables, with its test, as one file:")
    ui.download(insight_rows, ui.csv_name(view, f"{strand.id}-insight"))

metrics = ui.fetch(activity.activity_metrics, strand.id, period)
if not metrics.empty:
    st.subheader("Activity", divider="gray")
    ui.force_wide_note(view, "Operational results are")
    for operation, rows in activity_table(metrics).groupby("operation", sort=False):
        st.markdown(f"**{operation}** · {rows['period_label'].iloc[0]}")
        with st.container(horizontal=True, wrap=True):
            for row in rows.itertuples():
                st.metric(row.metric, row.value_text, border=True, width=200)
    ui.download(metrics, ui.csv_name(view, f"{strand.id}-activity"))

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
            st.markdown("\n".join(f"- {markdown_text(line)}" for line in lines) or empty)

st.subheader("Commentary", divider="gray")
commentary = ui.fetch(activity.commentary, strand.id, period)
if commentary:
    ui.force_wide_note(view, "The lead's commentary is")
st.markdown(
    commentary
    or f"No commentary is recorded for {strand.name.lower()} for {month_long_label(period)}."
)
