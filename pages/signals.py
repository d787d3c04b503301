"""The spike finder: measure x district counts improbably high for the selected month."""

import streamlit as st

import ui
from crimeprev.periods import format_level
from crimeprev.statistics.spikes import SpikesUnavailable, spike_report

NEAR_MISSES = 10
COLUMNS = {
    "measure_name": st.column_config.TextColumn("Measure", width=190),
    "district_name": st.column_config.TextColumn("District", width=120),
    "count_records": st.column_config.NumberColumn("Count", format="localized", width=70),
    "expected_count": st.column_config.NumberColumn("Expected", format="%.1f", width=80),
    "excess_count": st.column_config.NumberColumn("Above expected", format="%+.1f", width=100),
    "p_value": st.column_config.NumberColumn(
        "p-value", format="%.1e", width=80, help="Chance of a count this high if nothing changed"
    ),
    "reading": st.column_config.TextColumn(
        "Reading", width=90, help="Whether a higher count is a concern or good news here"
    ),
    "strand_link": st.column_config.LinkColumn(
        "Strand page", display_text="Open for this district", width=160
    ),
}

view = ui.current_view()
ui.page_header("Signals: spike finder", view, counts=False)
period = view.filters.period

try:
    report = ui.fetch(
        spike_report, period, district_codes=view.district_codes, force=view.filters.force
    )
except SpikesUnavailable as error:
    st.info(str(error), icon=":material/info:")
    st.stop()

st.caption(report.threshold_text())
if report.alerts.empty:
    st.success(
        "No measure in any district counted improbably many records this month.",
        icon=":material/check_circle:",
    )
else:
    count = len(report.alerts)
    heading = "One alert" if count == 1 else f"{count} alerts, strongest first"
    st.subheader(heading, divider="gray")
    ui.data_table(
        report.alerts,
        ui.csv_name(view, "signals"),
        column_config=COLUMNS,
        column_order=list(COLUMNS),
    )

st.subheader("Closest to alerting", divider="gray")
st.caption(
    f"The {NEAR_MISSES} counts least expected this month, alert or not, for a sense of scale."
)
ui.data_table(
    report.tests.head(NEAR_MISSES),
    ui.csv_name(view, "signals-nearest"),
    column_config=COLUMNS,
    column_order=list(COLUMNS),
)

family_level = format_level(view.config.signals.spike_family_alpha)
with st.expander("How the spike finder works", icon=":material/help:"):
    st.markdown(
        "Each district's **expected count** for the month is its average month over the "
        "preceding 12 months, adjusted for the season: the force-wide count in the same "
        "calendar month over the preceding three years, against the force-wide average month. "
        "A count is tested against its expected count as a Poisson count: the **p-value** is "
        "the chance of a count at least this high if nothing had changed.\n\n"
        "Every measure in every district is tested each month, so a "
        f"{family_level} level would raise "
        "about ten false alarms a month by chance alone. The threshold is therefore shared "
        "across all the tests (Bonferroni): the chance of even one false alarm in a month stays "
        f"under {family_level}. A count must also be at least a few records above its "
        "expected count, so a "
        "district that usually records none does not alert on two or three. Records outside "
        "the force area or without a location are not tested. The place filters only choose "
        "which alerts are listed; the threshold is the same whatever is chosen."
    )
