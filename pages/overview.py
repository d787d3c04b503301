"""Every strand at a glance: a headline of the changes that matter, a scorecard of every measure
that says whether its change is good news, and below it the counts, changes, variation and
delivery of each strand."""

import streamlit as st

import ui
from crimeprev.figures.overview import overview_table, variation_legend
from crimeprev.present.narrative import overview_headline, overview_narrative
from crimeprev.present.scorecard import scorecard_html, scorecard_legend_html
from crimeprev.statistics.change import BEYOND_NORMAL
from ui import updates

view = ui.current_view()
ui.page_header("Crime Prevention Strategy", view)
table = ui.fetch(overview_table, view.filters)

headline, scorecard = st.columns([4, 7], gap="small")
with headline:
    st.markdown("\n".join(f"- {bullet}" for bullet in ui.fetch(overview_headline, view.filters)))
with scorecard:
    st.html(scorecard_html(table.rows, table.current_label, table.previous_label))
    st.html(scorecard_legend_html())

if table.delivery_note:
    st.info(table.delivery_note, icon=":material/info:")

st.subheader("Every strand in detail", divider="gray")
with st.expander("Summary: which changes are real", icon=":material/summarize:"):
    for paragraph in ui.fetch(overview_narrative, view.filters):
        st.markdown(paragraph)

st.dataframe(
    table.rows,
    hide_index=True,
    height="content",
    placeholder="–",
    column_order=[
        "strand_link",
        "measure_name",
        "current_count",
        "change_previous_year",
        "change_baseline",
        "significance_previous_year",
        "significance_baseline",
        "variation",
        "trend",
        "pct_complete",
        "delivery_text",
        "better_when",
        "note",
    ],
    column_config={
        "strand_link": st.column_config.LinkColumn(
            "Strand", display_text=r"#(.+)$", width=190, help="Opens the strand's page in a new tab"
        ),
        "measure_name": st.column_config.TextColumn("Measure", width=180),
        "current_count": st.column_config.NumberColumn(
            "12 months", format="localized", width=90, help=table.current_label
        ),
        "change_previous_year": st.column_config.TextColumn(
            "vs year before",
            alignment="right",
            width=90,
            help=f"% change against the {table.previous_label}",
        ),
        "change_baseline": st.column_config.TextColumn(
            "vs baseline",
            alignment="right",
            width=85,
            help=f"% change against the {table.baseline_label}, the pre-Covid year",
        ),
        "significance_previous_year": st.column_config.TextColumn(
            "Real change (year)",
            width=110,
            help=f"Whether the change against the year before is {BEYOND_NORMAL} (Data page: how)",
        ),
        "significance_baseline": st.column_config.TextColumn(
            "Real change (baseline)",
            width=110,
            help=f"Whether the change against the baseline is {BEYOND_NORMAL} (Data page: how)",
        ),
        "variation": st.column_config.TextColumn(
            "Variation",
            width=190,
            help="The latest month on the measure's XmR chart (Making Data Count)",
        ),
        "trend": st.column_config.LineChartColumn("Last 24 months", y_min=0, width=110),
        "better_when": st.column_config.TextColumn(
            "Better when", width=95, help="The direction in which a change is good news"
        ),
        "pct_complete": st.column_config.ProgressColumn(
            "Delivery",
            help=f"Actions complete at the end of {table.delivery_label or 'the quarter'}",
            format="%.0f%%",
            min_value=0,
            max_value=100,
            width=110,
        ),
        "delivery_text": st.column_config.TextColumn("Complete", width=70),
        "note": st.column_config.TextColumn("Note", width="large"),
    },
)
st.caption(variation_legend(view.config))
updates.approved_words_panel(view)
ui.download(table.rows.drop(columns=["strand_link"]), ui.csv_name(view, "overview"))
