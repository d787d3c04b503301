"""The spike finder: measure x district counts improbably high for the selected month, among
the districts in view."""

import streamlit as st

import ui
from crimeprev.figures.signals import spike_report
from crimeprev.periods import format_level
from crimeprev.statistics.spikes import SpikesUnavailable

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
        "Reading", width=90, help="Whether a count above expected is a concern or good news here"
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
    places = "the district" if report.districts_count == 1 else "any district"
    st.success(
        f"No measure in {places} in view counted improbably many records this month.",
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
nearest = report.nearest(NEAR_MISSES)
st.caption(
    f"The {len(nearest)} counts above their expected level least likely by chance this month, "
    "alert or not, for a sense of scale."
    if len(nearest)
    else "No count in view is above its expected level this month."
)
ui.data_table(
    nearest,
    ui.csv_name(view, "signals-nearest"),
    column_config=COLUMNS,
    column_order=list(COLUMNS),
)

family_level = format_level(view.config.signals.spike_family_alpha)
with st.expander("How the spike finder works", icon=":material/help:"):
    st.markdown(
        "Each district's **expected count** for the month comes from a log-linear model of the "
        f"measure's monthly counts in every district over the preceding {report.history_months} "
        "months: a level for each district, a trend shared by the districts and the season "
        "(month of year, when the history holds every calendar month), projected to this "
        "month. A trend is followed rather than lagged behind.\n\n"
        "A count is tested against its expected count as a **negative binomial** count, which "
        "allows for the measure's usual month-to-month variation beyond chance and for the "
        "uncertainty of the expected count itself: the **p-value** is the chance of a count at "
        "least this high if nothing had changed.\n\n"
        f"Every measure in every district in view is tested ({report.tests_count} counts), so "
        f"a per-count {family_level} level would raise several false alarms a month by chance "
        f"alone. The chance of any false alarm in a month is held at {family_level} "
        "by sharing it among the tests (Bonferroni): fewer districts in view means fewer tests "
        "and a less strict threshold for each. A count must also be at least "
        f"{report.settings.spike_min_excess} records above its expected count, so a district "
        "that usually records none does not alert on two or three. Records outside the force "
        "area or without a location are not tested. Only a count above its expected level is "
        "read as a concern or good news."
    )
