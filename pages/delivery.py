"""The delivery plan: actions by status per strand at the reporting quarter, and the actions."""

import streamlit as st

import ui
from crimeprev.figures import delivery
from crimeprev.present.charts import STATUS_LABELS, delivery_chart

view = ui.current_view()
config, period = view.config, view.filters.period
ui.page_header("Delivery plan", view, counts=False)

try:
    quarter = ui.fetch(delivery.quarter_for, period)
except delivery.DeliveryUnavailable as error:
    st.info(str(error), icon=":material/info:")
    st.stop()

st.markdown(f"Status of every action at the end of **{quarter.label}**.")
ui.force_wide_note(view, "The delivery plan is")
status = ui.fetch(delivery.status_table, period)
table_tab, chart_tab = st.tabs(["Table", "Chart"])
with table_tab:
    ui.data_table(
        status,
        ui.csv_name(view, "delivery-status"),
        column_order=["strand_name", "total", *STATUS_LABELS, "pct_complete"],
        column_config={
            "total": st.column_config.NumberColumn("Total"),
            **{c: st.column_config.NumberColumn(label) for c, label in STATUS_LABELS.items()},
            "pct_complete": st.column_config.ProgressColumn(
                "% complete", format="%.1f%%", min_value=0, max_value=100
            ),
        },
        height="content",
    )
with chart_tab:
    ui.chart_with_data(delivery_chart(status), ui.csv_name(view, "delivery-status-by-strand"))

st.subheader("Actions", divider="gray")
strand_column, status_column = st.columns(2)
chosen_strands = ui.url_multiselect(
    "Strands", "strands", {s.id: s.name for s in config.strands}, strand_column
)
chosen_statuses = ui.url_multiselect(
    "Statuses",
    "status",
    {status: status.capitalize() for status in config.taxonomy.delivery_statuses},
    status_column,
)
actions = ui.fetch(delivery.actions_at, period, strand_ids=chosen_strands, statuses=chosen_statuses)
ui.data_table(
    actions,
    ui.csv_name(view, "delivery-actions"),
    column_order=["strand_name", "action_id", "title", "status", "target_month", "completed_month"],
    column_config={
        "action_id": st.column_config.TextColumn("Action"),
        "title": st.column_config.TextColumn("Title", width="large"),
        "status": st.column_config.TextColumn("Status"),
        "target_month": st.column_config.TextColumn("Target month"),
        "completed_month": st.column_config.TextColumn("Completed"),
    },
)
