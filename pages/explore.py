"""Deep dive: measures or crime types broken down, compared across two periods, and narrowed a
click at a time (a bar or a table row); the whole state lives in the URL."""

from dataclasses import replace

import streamlit as st

import ui
from crimeprev.access.roles import Role
from crimeprev.figures import explore
from crimeprev.figures.explore import (
    DIMENSION_LABELS,
    GRANULARITIES,
    DrillStep,
    ExploreState,
    Window,
)
from crimeprev.figures.insight import covered_months
from crimeprev.periods import month_label
from crimeprev.present import explore_charts
from ui import auth

view = ui.current_view()
config, period = view.config, view.filters.period
coverage = ui.fetch(explore.data_coverage)
# Counts by LSOA come down to single crimes: they are for analysts.
has_lsoa = bool(coverage["has_lsoa"]) and auth.allowed(Role.ANALYST)
covered = ui.fetch(covered_months, view.filters.force)
params = {name: st.query_params.get_all(name) for name in explore.URL_PARAMS}
resolved = explore.read_state(config, covered, period, params, has_lsoa)
state = resolved.state


def write_state(new: ExploreState) -> None:
    """Put a state in the URL (the page's own parameters only)."""
    wanted = new.query_params()
    for name in explore.URL_PARAMS:
        if name not in wanted and name in st.query_params:
            del st.query_params[name]
    st.query_params.update(wanted)


for problem in resolved.problems:
    st.warning(problem, icon=":material/warning:")
# The URL always holds the state in full, so a copied link reproduces it exactly.
if {name: st.query_params[name] for name in explore.URL_PARAMS if name in st.query_params} != (
    state.query_params()
):
    write_state(state)


def chosen_window(key: str, default: Window) -> Window | None:
    """A range slider's window, or None (follow the sidebar's period) when it is the default."""
    value = st.session_state.get(key)
    if not isinstance(value, tuple | list) or len(value) != 2:
        return None
    window = Window(*sorted(value))
    return None if window == default else window


def state_from_widgets() -> ExploreState:
    s = st.session_state
    counting_measures = s["explore_subject_kind"] == "measures"
    return replace(
        state,
        measure_ids=tuple(s["explore_measures"]) if counting_measures else (),
        crime_types=() if counting_measures else tuple(s["explore_crime_types"]),
        dimension=s["explore_by"],
        granularity=s["explore_grain"] or state.granularity,
        current=chosen_window("explore_current", default_current),
        comparison=chosen_window("explore_comparison", default_comparison),
    )


def on_change() -> None:
    write_state(state_from_widgets())


default_current, default_comparison = explore.default_windows(period, config.window_months)
current, comparison = explore.windows_of(state, period, config.window_months)
st.session_state["explore_subject_kind"] = "crime types" if state.crime_types else "measures"
st.session_state["explore_measures"] = list(state.measure_ids)
st.session_state["explore_crime_types"] = list(state.crime_types)
st.session_state["explore_by"] = state.dimension
st.session_state["explore_grain"] = state.granularity
st.session_state["explore_current"] = (current.start, current.end)
st.session_state["explore_comparison"] = (comparison.start, comparison.end)

ui.page_header("Explore", view)
measure_names = {m.id: m.name for m in config.measures}
dimensions = [d for d in DIMENSION_LABELS if has_lsoa or d != "lsoa"]
what, by, grain = st.columns([2.6, 1.2, 2.6])
with what:
    kind = st.radio(
        "Count",
        ["measures", "crime types"],
        key="explore_subject_kind",
        horizontal=True,
        on_change=on_change,
    )
    if kind == "measures":
        st.multiselect(
            "Measures",
            list(measure_names),
            format_func=measure_names.__getitem__,
            key="explore_measures",
            on_change=on_change,
            help="Several measures count a record once, however many of them count it.",
        )
    else:
        st.multiselect(
            "Crime types",
            list(config.taxonomy.crime_types),
            key="explore_crime_types",
            on_change=on_change,
        )
with by:
    st.selectbox(
        "Break down by",
        dimensions,
        format_func=DIMENSION_LABELS.__getitem__,
        key="explore_by",
        on_change=on_change,
    )
with grain:
    st.segmented_control(
        "Granularity",
        list(GRANULARITIES),
        format_func=GRANULARITIES.__getitem__,
        key="explore_grain",
        on_change=on_change,
    )
months = covered
left, right = st.columns(2)
left.select_slider(
    "Current period", months, format_func=month_label, key="explore_current", on_change=on_change
)
right.select_slider(
    "Compared with", months, format_func=month_label, key="explore_comparison", on_change=on_change
)

if not state.measure_ids and not state.crime_types:
    st.info("Choose at least one measure or crime type to count.", icon=":material/info:")
    st.stop()


def go_back(steps: int) -> None:
    write_state(state.back_to(steps))


with st.container(horizontal=True, vertical_alignment="center", key="explore_breadcrumb"):
    st.markdown("**Drill path:**")
    st.button("All records", on_click=go_back, args=(0,), disabled=not state.drill, type="tertiary")
    for index, step in enumerate(state.drill, start=1):
        st.markdown("›")
        st.button(
            step.label(),
            key=f"explore_back_{index}",
            on_click=go_back,
            args=(index,),
            disabled=index == len(state.drill),
            type="tertiary",
        )

result = ui.fetch(explore.explore, view.filters, state)
unit = explore.subject_unit(config, state)
dimension_label = DIMENSION_LABELS[state.dimension]
st.subheader(f"{explore.subject_label(config, state)} by {dimension_label.lower()}", divider="gray")
st.caption(
    f"Click a bar or a row to narrow the page to it. Current: {result.current.label()}; "
    f"compared with {result.comparison.label()}."
)
for note in result.notes:
    st.warning(note, icon=":material/event_busy:")
drill_key = "|".join(f"{s.dimension}:{s.value}" for s in state.drill) + f"|{state.dimension}"


def drill_to(value: str | None) -> None:
    if value and value != explore.TOTAL_LABEL:
        write_state(state.drilled_into(DrillStep(state.dimension, value), has_lsoa))
        st.rerun()


if result.breakdown.empty:
    st.info("No record matches this selection in either period.", icon=":material/info:")
else:
    event = st.altair_chart(
        explore_charts.breakdown_chart(result, state.dimension, unit),
        width="stretch",
        on_select="rerun",
        selection_mode="pick",
        key=f"explore_bars_{drill_key}",
    )
    drill_to(explore.picked_value(event.selection))
    if len(result.pivot) - 1 > explore.CHART_MAX_BARS:
        st.caption(f"The chart draws the {explore.CHART_MAX_BARS} largest.")

table_event = st.dataframe(
    result.pivot,
    hide_index=True,
    placeholder="–",
    on_select="rerun",
    selection_mode="single-row",
    key=f"explore_table_{drill_key}",
    column_config={
        "dimension_value": st.column_config.TextColumn(dimension_label, pinned=True),
        "comparison_count": st.column_config.NumberColumn("Compared period"),
        "current_count": st.column_config.NumberColumn("Current period"),
        "diff": st.column_config.NumberColumn("Difference", format="%+d"),
        "pct_change": st.column_config.NumberColumn("% change", format="%+.1f%%"),
    },
)
rows = table_event.selection.rows
if rows:
    drill_to(str(result.pivot["dimension_value"].iloc[rows[0]]))
if result.left_off_note:
    st.caption(result.left_off_note)
ui.download(result.pivot, ui.csv_name(view, "explore"))

st.subheader(f"By {GRANULARITIES[state.granularity].lower()}", divider="gray")
ui.chart_with_data(
    explore_charts.timeline_chart(result, unit), ui.csv_name(view, "explore-timeline")
)
if auth.allowed(Role.ANALYST):
    st.page_link(
        "pages/sql.py",
        label="Check these figures in SQL",
        icon=":material/terminal:",
        query_params={"q": explore.check_sql(config, view.filters, state)},
    )
