"""The force's districts on a map, coloured by a measure's % change or rate per 1,000
residents; a click on a district filters the page to it. Hotspots show where records cluster."""

from pathlib import Path

import streamlit as st

import ui
from crimeprev.figures import explore, maps
from crimeprev.present import map_charts

view = ui.current_view()
config, period = view.config, view.filters.period
measure_names = {m.id: m.name for m in config.measures}


def url_choice(param: str, options: dict[str, str], default: str) -> str:
    """A page-owned single choice kept in the URL; an unknown value falls back with a note."""
    given = st.query_params.get(param)
    if given is not None and given not in options:
        st.warning(
            f"Unknown {param} '{given}' in the link. Showing {options[default]} instead.",
            icon=":material/warning:",
        )
    chosen = given if given in options else default
    st.session_state[f"map_{param}"] = chosen
    return chosen


def write(param: str) -> None:
    st.query_params[param] = st.session_state[f"map_{param}"]


ui.page_header("District map", view)
measure_id = url_choice("measure", measure_names, config.measures[0].id)
metric = url_choice("colour", maps.METRICS, "pct_change")
has_boundaries = config.map.boundaries is not None
drawings = (
    {"boundaries": "District boundaries", "tiles": "Tiles"}
    if has_boundaries
    else {"tiles": "Tiles"}
)
drawing = url_choice("drawn", drawings, next(iter(drawings)))

picker, colour, drawn = st.columns([3, 2, 2])
picker.selectbox(
    "Measure",
    list(measure_names),
    format_func=measure_names.__getitem__,
    key="map_measure",
    on_change=write,
    args=("measure",),
)
colour.segmented_control(
    "Colour by",
    list(maps.METRICS),
    format_func=maps.METRICS.__getitem__,
    key="map_colour",
    on_change=write,
    args=("colour",),
    required=True,
)
drawn.segmented_control(
    "Drawn as",
    list(drawings),
    format_func=drawings.__getitem__,
    key="map_drawn",
    on_change=write,
    args=("drawn",),
    required=True,
)

measure = config.measure(measure_id)
figures = ui.fetch(maps.district_figures, view.filters, measure_id)
codes = set(view.district_codes or ())
chosen = [d.slug for d in config.districts_of(view.filters.force) if d.code in codes]
window = view.filters.window(config.window_months)
rule = maps.hotspot_rule(config, measure)
located = ui.fetch(explore.data_coverage)["has_coordinates"]
show_hotspots = located and st.toggle(
    "Show hotspots", value=st.query_params.get("hotspots") == "on"
)
if located and show_hotspots != (st.query_params.get("hotspots") == "on"):
    st.query_params["hotspots"] = "on" if show_hotspots else "off"
if not located:
    st.caption("These records carry no coordinates, so there are no hotspots to show.")
hotspots = ui.fetch(maps.hotspot_cells, view.filters, measure_id) if show_hotspots else None

notes = figures["note"].dropna().unique() if len(figures) else []
for note in notes:
    st.warning(f"Counts left empty where a window is {note}.", icon=":material/event_busy:")

shapes = None
if drawing == "boundaries" and config.map.boundaries is not None:
    try:
        shapes = maps.load_boundaries(config.map, list(figures["district_code"]))
        st.caption(f"Boundaries: {Path(config.map.boundaries).name} ({shapes.kind}).")
    except maps.BoundaryError as error:
        st.warning(f"{error} Drawing tiles instead.", icon=":material/warning:")
if shapes is not None:
    chart = map_charts.choropleth_chart(figures, shapes, metric, measure, chosen, hotspots)
else:
    chart = map_charts.tile_map_chart(figures, metric, measure, chosen)

event = st.altair_chart(
    chart, on_select="rerun", selection_mode="district", key=f"map_{','.join(chosen)}"
)
points = event.selection.get("district") or []
picked = points[0].get("district_slug") if points else None
if picked:
    if list(view.filters.districts) == [picked]:
        del st.query_params["district"]
    else:
        st.query_params["district"] = picked
    st.rerun()
st.caption(
    "Click a district to filter the dashboard to it; click it again to show every district. "
    f"Rates use the ONS mid-2022 population estimates. {window.label()} against the 12 before."
)

if show_hotspots:
    st.subheader("Hotspots", divider="gray")
    st.caption(rule.describe())
    if hotspots is None or hotspots.empty:
        st.info("No cell has enough located records to show.", icon=":material/info:")
    elif shapes is None:
        outlines = None
        if config.map.boundaries is not None:
            try:
                outlines = maps.load_boundaries(config.map, list(figures["district_code"]))
            except maps.BoundaryError:
                outlines = None
        if outlines is None:
            st.caption("No district boundaries are configured, so the cells are drawn alone.")
        st.altair_chart(map_charts.hotspot_chart(hotspots, outlines), width="content")

st.subheader("Districts", divider="gray")
shown = figures if not chosen else figures[figures["district_slug"].isin(chosen)]
ui.data_table(
    shown[
        [
            "district_name",
            "lpa",
            "population",
            "previous_count",
            "current_count",
            "diff",
            "pct_change",
            "rate_per_1000",
        ]
    ],
    ui.csv_name(view, f"{measure_id}-district-map"),
    column_config={
        "population": st.column_config.NumberColumn("Residents (mid-2022)", format="localized"),
        "previous_count": st.column_config.NumberColumn("12 months before", format="localized"),
        "current_count": st.column_config.NumberColumn(
            "12 months to the period", format="localized"
        ),
        "rate_per_1000": st.column_config.NumberColumn("Per 1,000 residents", format="%.2f"),
    },
)
