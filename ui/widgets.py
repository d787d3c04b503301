"""How pages show what they fetch: the page header, tables and charts with their numbers and
CSV, PNG and SVG downloads, and the note on figures kept for the whole force.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from crimeprev.periods import Window, format_month, month_long_label
from crimeprev.present import cells_safe, charts, labels
from crimeprev.report import render
from ui import auth
from ui.cached import VIEW_KEY, Frame

COLUMN_LABELS = {
    "month_start": st.column_config.DateColumn("Month", format="MMM YYYY"),
    "count_records": st.column_config.NumberColumn("Count"),
    "is_covered": st.column_config.CheckboxColumn("Data for the month"),
    "window_label": st.column_config.TextColumn("Window"),
    "district_name": st.column_config.TextColumn("District"),
    "lpa": st.column_config.TextColumn("LPA"),
    "previous_count": st.column_config.NumberColumn("12 months before"),
    "current_count": st.column_config.NumberColumn("12 months to the period"),
    "diff": st.column_config.NumberColumn("Difference", format="%+d"),
    "pct_change": st.column_config.NumberColumn("% change", format="%+.1f%%"),
    "strand_name": st.column_config.TextColumn("Strand"),
}


# Streamlit's captions (faded by opacity) and the code inside them are grey and green below
# 4.5:1 on white; these keep them at AA contrast (WCAG 2.2, 1.4.3).
ACCESSIBLE_CSS = """<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p {
  color: #4A4B57 !important;
  opacity: 1 !important;
}
[data-testid="stCaptionContainer"] code { color: #1F4E2B !important; }
</style>"""


def accessible_styles() -> None:
    """Colours that keep text contrast at 4.5:1 or more on every page."""
    st.html(ACCESSIBLE_CSS)


def navigation_menu(sections: dict[str, list[Any]]) -> None:
    """The sidebar menu: one heading per section and a link per page, in the order given."""
    with st.sidebar.container():
        for section, pages in sections.items():
            if not pages:
                continue
            st.caption(section)
            for page in pages:
                st.page_link(page)


def force_wide_note(view: Frame, what: str) -> None:
    """Say so when places are chosen but `what` is only kept for the whole force."""
    note = labels.force_wide_note(view.filters, view.config, what)
    if note:
        st.caption(note)


def page_header(title: str, view: Frame, counts: bool = True) -> None:
    """The page title with the period, the places counted (on pages of counts) and the month
    the data runs to."""
    st.title(title)
    if counts:
        parts = [
            Window.ending(view.filters.period, view.config.window_months).label(),
            view.filters.place_label(view.config),
        ]
    else:
        parts = [month_long_label(view.filters.period)]
    if view.filters.force is not None:
        parts.insert(0, view.filters.force)
    parts.append(f"data to {month_long_label(view.latest_month)}")
    st.caption(" · ".join(parts))


def csv_name(view: Frame, name: str) -> str:
    """A download's file name, carrying the period: `knife-crime-monthly-2022-09.csv`."""
    return f"{name}-{format_month(view.filters.period)}.csv"


def recorded(make: Callable[[], bytes], file_name: str) -> Callable[[], bytes]:
    """A download's bytes made only when its button is clicked, the download entered in the
    audit trail under the person who clicked (read now: the click is served off the page's
    run)."""
    identity = auth.current_identity()

    def make_and_record() -> bytes:
        auth.record(identity, "download", {"file": file_name})
        return make()

    return make_and_record


def download(table: pd.DataFrame, file_name: str) -> None:
    """A button that downloads the table as CSV (without rerunning the page)."""
    st.download_button(
        "Download CSV",
        data=recorded(partial(cells_safe.csv_bytes, table), file_name),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=f"download-{file_name}",
        on_click="ignore",
    )


def export_lines(view: Frame) -> list[str]:
    """What a downloaded chart says under its title: the place, the period, the source."""
    filters, config = view.filters, view.config
    force = f"{filters.force} · " if filters.force else ""
    return [
        f"{force}{filters.place_label(config)} · "
        f"{Window.ending(filters.period, config.window_months).label()}",
        f"Source: police records held by the Crime Prevention Strategy dashboard, data to "
        f"{month_long_label(view.latest_month)}",
    ]


def chart_downloads(chart: alt.TopLevelMixin, file_name: str) -> None:
    """Buttons that download the chart as PNG and SVG, named like its CSV, each carrying the
    chart's title, place, period and source. The image is drawn only when a button is
    clicked, off the page's run, and kept for the next click."""
    stem = file_name.removesuffix(".csv")
    view: Frame = st.session_state[VIEW_KEY]
    fallback = stem.removesuffix(f"-{format_month(view.filters.period)}").replace("-", " ")
    chart = charts.for_export(chart, fallback[:1].upper() + fallback[1:], export_lines(view))
    for label, draw, suffix, mime in (
        ("PNG", render.chart_png, ".png", "image/png"),
        ("SVG", render.chart_svg, ".svg", "image/svg+xml"),
    ):
        st.download_button(
            f"Download {label}",
            data=recorded(partial(draw, chart), f"{stem}{suffix}"),
            file_name=f"{stem}{suffix}",
            mime=mime,
            icon=":material/image:",
            key=f"download-{stem}{suffix}",
            on_click="ignore",
        )


def data_table(
    table: pd.DataFrame,
    file_name: str,
    column_config: dict[str, Any] | None = None,
    **dataframe_options: Any,
) -> None:
    """A table, its usual columns labelled for people, with its CSV download beneath (which
    keeps the column names the code uses)."""
    _labelled_table(table, column_config, **dataframe_options)
    download(table, file_name)


def _labelled_table(
    table: pd.DataFrame, column_config: dict[str, Any] | None = None, **dataframe_options: Any
) -> None:
    labelled = {name: COLUMN_LABELS[name] for name in table.columns if name in COLUMN_LABELS}
    st.dataframe(
        table,
        hide_index=True,
        placeholder="–",
        column_config=labelled | (column_config or {}),
        **dataframe_options,
    )


def chart_with_data(
    chart: alt.TopLevelMixin, file_name: str, columns: list[str] | None = None
) -> None:
    """A chart, and under it the numbers it draws, one click away, with downloads of the
    numbers (CSV) and of the chart (PNG, SVG)."""
    st.altair_chart(chart, width="stretch")
    data = chart.data if columns is None else chart.data[columns]
    with st.expander("Data behind this chart", icon=":material/table_view:"):
        _labelled_table(data)
        with st.container(horizontal=True):
            download(data, file_name)
            chart_downloads(chart, file_name)
