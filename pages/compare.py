"""How we compare: the force beside its peer group and England and Wales for one offence
group, from the ONS police force area tables: the table, the funnel plot, knife crime by force,
the force's districts, the map of the 43 forces, and the records reconciled with the tables."""

import streamlit as st

import ui
from crimeprev.figures import peers
from crimeprev.present import peer_charts
from ui import auth

view = ui.current_view()
st.title("How we compare")
try:
    groups = ui.fetch(peers.offence_groups)
except peers.PeersUnavailable as error:
    st.info(auth.without_paths(str(error)), icon=":material/info:")
    st.stop()

given = st.query_params.get("offence")
if given is not None and given not in groups:
    st.warning(
        f"Unknown offence group '{given}' in the link. Showing {groups[0]} instead.",
        icon=":material/warning:",
    )
st.session_state["compare_offence"] = given if given in groups else groups[0]


def on_offence() -> None:
    st.query_params["offence"] = st.session_state["compare_offence"]


st.selectbox("Offence group", groups, key="compare_offence", on_change=on_offence)
offence = st.session_state["compare_offence"]
table = ui.fetch(peers.peer_table, offence)
group = table.group
st.caption(
    f"ONS police recorded crime, {table.edition.label()} · rates {table.rate_label} · "
    f"peer group: {group.label}"
)
st.markdown(f"**{peers.outlier_sentence(table)}**")
if not group.is_configured:
    st.caption(group.basis)

everyone = st.toggle("Show every force", value=st.query_params.get("all") == "on")
if everyone != (st.query_params.get("all") == "on"):
    st.query_params["all"] = "on" if everyone else "off"
ui.data_table(
    peer_charts.peer_display_table(table, everyone),
    ui.csv_name(view, "compare-" + offence.lower().replace(" ", "-")),
    column_config={
        "force": st.column_config.TextColumn("Force"),
        "count": st.column_config.NumberColumn("Offences", format="localized"),
        "previous_count": st.column_config.NumberColumn("Year before", format="localized"),
        "pct_change": st.column_config.NumberColumn("% change", format="%+.1f%%"),
        "population": st.column_config.NumberColumn(
            table.denominator.capitalize(), format="localized"
        ),
        "rate_per_1000": st.column_config.NumberColumn(
            table.rate_label.capitalize(), format="%.2f"
        ),
        "rank": st.column_config.NumberColumn(f"Rank of {table.frame['ranked_of'].iloc[0]}"),
        "funnel": st.column_config.TextColumn("Against chance"),
        "funnel_overdispersed": st.column_config.TextColumn("Allowing for spread"),
        "published_note": st.column_config.TextColumn("Published as"),
    },
)

st.subheader("Is it real? The funnel plot", divider="gray")
st.caption(
    "A force outside the dashed limits differs from the England and Wales rate by more than "
    "chance would give a force its size; outside the solid limits it stands out even against "
    f"the usual spread between forces (overdispersion factor {table.phi:,.0f})."
)
ui.chart_with_data(peer_charts.funnel_chart(table), ui.csv_name(view, "compare-funnel"))

left, right = st.columns([3, 2])
with left:
    st.subheader("Knife crime by force since 2011", divider="gray")
    trend = ui.fetch(peers.knife_trend)
    ui.chart_with_data(peer_charts.knife_trend_chart(trend), ui.csv_name(view, "compare-knife"))
with right:
    st.subheader("The 43 police force areas", divider="gray")
    shapes = ui.fetch(peers.force_shapes)
    if shapes is None:
        st.info(
            "Import the police force area boundaries (`crimeprev import ons-pfa FILE.xlsx "
            "--boundaries Police_Force_Areas.geojson`) to draw the map.",
            icon=":material/map:",
        )
    else:
        st.altair_chart(peer_charts.force_map_chart(shapes), key="compare_map")

st.subheader(f"{group.force}'s districts", divider="gray")
districts = ui.fetch(peers.district_figures, offence)
ui.chart_with_data(
    peer_charts.district_chart(districts, table.rate_label), ui.csv_name(view, "compare-districts")
)

st.subheader("Our records beside the published counts", divider="gray")
check = ui.fetch(peers.reconciliation, offence, force=view.filters.force)
if check.frame is None:
    st.info(check.reason or "", icon=":material/info:")
else:
    st.caption(
        f"{check.offence_group}, {check.year_label}: each district's crime records beside the "
        "ONS count for its Community Safety Partnership (difference = records - published)."
    )
    ui.data_table(check.frame, ui.csv_name(view, "compare-reconciliation"))
