"""SQL for analysts: one read-only SELECT over the documented views, its result as a table and
a chart, downloadable as CSV and Parquet. Saved examples show the way in."""

from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import streamlit as st

import ui
from crimeprev.access.roles import Role
from crimeprev.figures import sqlconsole
from crimeprev.present import cells_safe, charts
from ui import auth

view = ui.current_view()
auth.require_role(Role.ANALYST, "The SQL console")
console = sqlconsole.open_console(Path(view.root), view.version)
examples = {e.name: e for e in sqlconsole.examples()}
ui.page_header("SQL", view, counts=False)
st.caption(
    f"One SELECT (or WITH ... SELECT) at a time, read-only, over the views below. Results are "
    f"capped at {console.row_cap:,} rows; a query still running after "
    f"{console.timeout_seconds:g} seconds is stopped."
)

with st.expander("Views and their columns", icon=":material/table_chart:"):
    columns = console.view_columns()
    for name, description in sqlconsole.VIEWS.items():
        st.markdown(f"**`{name}`**: {description}")
        st.dataframe(
            columns[columns["view"] == name][["column", "type"]],
            hide_index=True,
            height="content",
        )

given_example = st.query_params.get("example")
if given_example is not None and given_example not in examples:
    st.warning(
        f"There is no saved example '{given_example}'. Known: {', '.join(examples)}.",
        icon=":material/warning:",
    )
    given_example = None


def on_example() -> None:
    chosen = st.session_state["sql_example"]
    if chosen:
        st.query_params["example"] = chosen
        st.query_params.pop("q", None)
        st.session_state["sql_text"] = examples[chosen].sql


if "sql_text" not in st.session_state or st.session_state.get("sql_from_url") != (
    given_example,
    st.query_params.get("q"),
):
    st.session_state["sql_from_url"] = (given_example, st.query_params.get("q"))
    st.session_state["sql_example"] = given_example
    if st.query_params.get("q"):
        st.session_state["sql_text"] = st.query_params["q"]
    elif given_example:
        st.session_state["sql_text"] = examples[given_example].sql
    else:
        st.session_state.setdefault("sql_text", next(iter(examples.values())).sql)

st.selectbox(
    "Saved examples",
    list(examples),
    format_func=lambda name: examples[name].title,
    key="sql_example",
    on_change=on_example,
    index=None,
    placeholder="Choose an example to load it",
)
sql = st.text_area("Query", key="sql_text", height=260)
run = st.button("Run", type="primary", icon=":material/play_arrow:")

url_query = st.query_params.get("q")
handle = st.session_state.get("sql_result")
# A query in a link is shown, never run, until the reader presses Run.
if url_query and sql == url_query and sqlconsole.RESULTS.get(handle) is None and not run:
    st.info(
        "This link carries a query. Read it, then press Run to run it.",
        icon=":material/info:",
    )
if run:
    try:
        outcome: sqlconsole.ConsoleResult | str = console.run(sql)
    except (sqlconsole.QueryRefused, sqlconsole.QueryFailed) as error:
        outcome = str(error)
    st.session_state["sql_result"] = sqlconsole.RESULTS.put(sql, outcome)
    auth.record_event(
        "sql",
        {"sql": sql, "outcome": outcome if isinstance(outcome, str) else outcome.summary()},
    )
    st.session_state["sql_from_url"] = (given_example, sql)
    st.query_params["q"] = sql
    st.query_params.pop("example", None)

identity = auth.current_identity()


def logged(write: Callable[[Any], bytes], table: Any, file_name: str) -> bytes:
    """The file's bytes, its download recorded in the audit trail."""
    auth.record(identity, "download", {"file": file_name, "sql": sql})
    return write(table)


stored = sqlconsole.RESULTS.get(st.session_state.get("sql_result"))
if stored is not None and stored[0] == sql:
    result = stored[1]
    if isinstance(result, str):
        st.error(result, icon=":material/block:")
    else:
        if result.capped:
            st.warning(result.summary(), icon=":material/content_cut:")
        else:
            st.caption(result.summary())
        table, chart_tab = st.tabs(["Table", "Chart"])
        with table:
            st.dataframe(result.table, hide_index=True, placeholder="–")
        with chart_tab:
            chart = charts.query_result_chart(result.table)
            if chart is None:
                st.info(
                    "No chart for this result: it needs a number column and a date or text one.",
                    icon=":material/info:",
                )
            else:
                st.altair_chart(chart, width="stretch")
        with st.container(horizontal=True):
            st.download_button(
                "Download CSV",
                data=partial(
                    logged,
                    lambda table: cells_safe.csv_bytes(table.to_pandas()),
                    result.table,
                    "query-result.csv",
                ),
                file_name="query-result.csv",
                mime="text/csv",
                icon=":material/download:",
                on_click="ignore",
            )
            st.download_button(
                "Download Parquet",
                data=partial(
                    logged, sqlconsole.result_parquet, result.table, "query-result.parquet"
                ),
                file_name="query-result.parquet",
                mime="application/vnd.apache.parquet",
                icon=":material/download:",
                on_click="ignore",
            )
