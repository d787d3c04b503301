"""The dashboard's frame, shared by every page: the data folder and its cached database, cached
calls into `crimeprev`, the filters kept in the sidebar and the URL, and how charts and tables
come with their numbers and a CSV download.
"""

from __future__ import annotations

import importlib
import inspect
import runpy
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

import altair as alt
import pandas as pd
import streamlit as st

from crimeprev.aggregate import open_database, records_signature
from crimeprev.config import Config, ConfigError, config_fingerprint, config_for
from crimeprev.db import Database, DataUnreadable
from crimeprev.figures.insight import covered_months, data_forces
from crimeprev.periods import Window, format_month, month_label, month_long_label, months_between
from crimeprev.present import cells_safe
from crimeprev.report import render
from crimeprev.store import data_dir, has_records
from crimeprev.view import Filters, resolve_filters, split_values

T = TypeVar("T")

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"
FRAMED_KEY = "framed"

URL_PARAMS = ("period", "district", "lpa", "strand", "force")
SIDE_FILES = (
    "delivery/actions.csv",
    "delivery/status.csv",
    "activity/metrics.csv",
    "commentary/commentary.csv",
    "imports/log.jsonl",
)
PERIOD_KEY = "filter_period"
DISTRICTS_KEY = "filter_districts"
LPAS_KEY = "filter_lpas"
STRAND_KEY = "filter_strand"
FORCE_KEY = "filter_force"
SAVED_PARAMS_KEY = "saved_query_params"
VIEW_KEY = "view"
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
NO_DATA_MESSAGE = (
    "There is no crime data in `{root}` yet. Create the demo data with `crimeprev demo` "
    "(or `make run`), then reload this page."
)


@dataclass(frozen=True)
class View:
    """What the current run shows: which data (folder and version) and which filters."""

    root: str
    version: str
    filters: Filters
    latest_month: date

    @property
    def db(self) -> Database:
        return _database(self.root, self.version)

    @property
    def config(self) -> Config:
        return self.db.config

    @property
    def district_codes(self) -> list[str] | None:
        return self.filters.district_codes(self.config)


def data_version(root: Path) -> str:
    """Changes whenever the records, the configuration or the delivery, activity or
    commentary files change, so cached results are never older than the files."""
    parts = [records_signature(root), config_fingerprint(root / "config")]
    for name in SIDE_FILES:
        path = root / name
        parts.append(str(path.stat().st_mtime_ns) if path.is_file() else "-")
    return "-".join(parts)


@st.cache_resource(show_spinner="Preparing the monthly tables…", max_entries=4)
def _database(root: str, version: str) -> Database:
    config_for.cache_clear()  # the version says the configuration may have changed
    return open_database(Path(root))


@st.cache_data(show_spinner=False, max_entries=2048)
def _cached_call(function: str, root: str, version: str, args: tuple[Any, ...], kwargs: Any) -> Any:
    module_name, name = function.rsplit(".", 1)
    target = getattr(importlib.import_module(module_name), name)
    return target(_database(root, version), *args, **kwargs)


def _fetch_from(
    root: str, version: str, function: Callable[..., T], *args: Any, **kwargs: Any
) -> T:
    name = f"{function.__module__}.{function.__name__}"
    result: T = _cached_call(name, root, version, args, kwargs)
    return result


def fetch(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a `crimeprev` function that takes the database first, cached per data version
    and arguments: `fetch(insight.insight_table, period, strand_id="rape")`. When the data
    holds several forces, a function with a `force` parameter counts the force chosen in the
    sidebar unless the call names one."""
    view: View = st.session_state[VIEW_KEY]
    if view.filters.force is not None and "force" not in kwargs and _takes_force(function):
        kwargs["force"] = view.filters.force
    return _fetch_from(view.root, view.version, function, *args, **kwargs)


def _takes_force(function: Callable[..., Any]) -> bool:
    return "force" in inspect.signature(function).parameters


def navigation_menu(sections: dict[str, list[Any]]) -> None:
    """The sidebar menu: one heading per section and a link per page, in the order given."""
    with st.sidebar.container():
        for section, pages in sections.items():
            if not pages:
                continue
            st.caption(section)
            for page in pages:
                st.page_link(page)


def current_view() -> View:
    """The view `frame` set up for this run; every page asks for it first.

    Until some session has run `app.py`, Streamlit serves a `pages/*.py` file on its own (and
    does so in every `AppTest` run). Such a run runs the app instead, which frames and renders
    this same page, and stops there.
    """
    if not st.session_state.pop(FRAMED_KEY, False):
        runpy.run_path(str(APP_SCRIPT), run_name="__main__")
        st.stop()
    view: View = st.session_state[VIEW_KEY]
    return view


def _last(value: list[str] | None) -> str | None:
    return value[-1] if value else None


def _url_or_saved_params() -> dict[str, list[str]]:
    """The filters in the URL; when the URL has none (the sidebar's page links drop the query
    string), the ones this session last used."""
    params = st.query_params
    if not any(name in params for name in URL_PARAMS):
        saved: dict[str, list[str]] = st.session_state.get(SAVED_PARAMS_KEY, {})
        return saved
    return {name: params.get_all(name) for name in URL_PARAMS if name in params}


def _write_url(filters: Filters, with_strand: bool) -> None:
    wanted = filters.query_params()
    saved = dict(st.session_state.get(SAVED_PARAMS_KEY, {}))
    if not with_strand:
        wanted.pop("strand", None)
    remembered = {name: [value] for name, value in wanted.items()}
    if not with_strand and "strand" in saved:
        remembered["strand"] = saved["strand"]
    st.session_state[SAVED_PARAMS_KEY] = remembered
    page_owned = {name: st.query_params[name] for name in st.query_params if name not in URL_PARAMS}
    wanted |= page_owned
    if st.query_params.to_dict() != wanted:
        st.query_params.from_dict(wanted)


def _read_filters(
    config: Config, covered: list[date], with_strand: bool, forces: tuple[str, ...]
) -> Filters:
    raw = _url_or_saved_params()
    resolved = resolve_filters(
        config,
        covered,
        period=_last(raw.get("period")),
        districts=raw.get("district"),
        lpas=raw.get("lpa"),
        strand=_last(raw.get("strand")) if with_strand else None,
        force=_last(raw.get("force")),
        forces=forces,
    )
    for problem in resolved.problems:
        st.warning(problem, icon=":material/warning:")
    filters = resolved.filters
    if with_strand and filters.strand_id is None:
        filters = replace(filters, strand_id=config.strands[0].id)
    _write_url(filters, with_strand)
    return filters


def _filters_from_widgets() -> Filters:
    state = st.session_state
    return Filters(
        period=state[PERIOD_KEY],
        districts=tuple(state[DISTRICTS_KEY]),
        lpas=tuple(state[LPAS_KEY]),
        strand_id=state.get(STRAND_KEY) if "strand" in st.query_params else None,
        force=state.get(FORCE_KEY),
    )


def _on_filter_change() -> None:
    filters = _filters_from_widgets()
    _write_url(filters, with_strand=filters.strand_id is not None)


def _on_reset() -> None:
    strand = st.query_params.get("strand")
    st.session_state.pop(SAVED_PARAMS_KEY, None)
    st.query_params.from_dict({"strand": strand} if strand else {})


def _on_force_change() -> None:
    # Another force's districts and LPAs mean nothing here, so they are cleared.
    filters = replace(_filters_from_widgets(), districts=(), lpas=())
    _write_url(filters, with_strand=filters.strand_id is not None)


def _sidebar(
    config: Config, covered: list[date], filters: Filters, forces: tuple[str, ...]
) -> None:
    state = st.session_state
    state[PERIOD_KEY] = filters.period
    state[FORCE_KEY] = filters.force
    force_slugs = [d.slug for d in config.districts_of(filters.force)]
    state[DISTRICTS_KEY] = list(filters.districts)
    state[LPAS_KEY] = list(filters.lpas)
    name_of = {d.slug: d.name for d in config.districts}
    with st.sidebar:
        st.caption(f"Data to {month_long_label(covered[-1])}")
        if len(forces) > 1:
            st.selectbox("Force", options=list(forces), key=FORCE_KEY, on_change=_on_force_change)
        st.select_slider(
            "Period: 12 months ending",
            options=months_between(covered[0], covered[-1]),
            format_func=month_label,
            key=PERIOD_KEY,
            on_change=_on_filter_change,
        )
        st.multiselect(
            "Districts",
            options=force_slugs + [s for s in filters.districts if s not in force_slugs],
            format_func=lambda slug: name_of.get(slug, slug),
            key=DISTRICTS_KEY,
            on_change=_on_filter_change,
            placeholder="All districts",
        )
        st.multiselect(
            "Local Policing Areas",
            options=list(config.lpas_of(filters.force)),
            key=LPAS_KEY,
            on_change=_on_filter_change,
            placeholder="All LPAs",
            help="Districts, when chosen, take precedence over LPAs.",
        )
        st.button("Reset filters", on_click=_on_reset, icon=":material/restart_alt:")


def frame(with_strand: bool) -> View:
    """Open the data, read and show the filters, and remember the view for the page.

    Stops the run with one sentence when there is no data or the configuration is broken."""
    root = data_dir()
    if not has_records(root):
        st.info(NO_DATA_MESSAGE.format(root=root), icon=":material/info:")
        st.stop()
    try:
        version = data_version(root)
        _database(str(root), version)
        covered = _fetch_from(str(root), version, covered_months)
        forces = tuple(_fetch_from(str(root), version, data_forces))
    except ConfigError as error:
        st.error(f"The configuration cannot be used: {error}", icon=":material/error:")
        st.stop()
    except DataUnreadable as error:
        st.error(str(error), icon=":material/error:")
        st.stop()
    placeholder = View(str(root), version, Filters(covered[-1]), covered[-1])
    config = placeholder.config
    filters = _read_filters(config, covered, with_strand, forces)
    _sidebar(config, covered, filters, forces)
    view = replace(placeholder, filters=filters)
    st.session_state[VIEW_KEY] = view
    st.session_state[FRAMED_KEY] = True
    return view


def strand_picker(view: View) -> str:
    """A choice of strand that writes itself to the URL; returns the chosen strand id."""
    config = view.config
    st.session_state[STRAND_KEY] = view.filters.strand_id
    names = {s.id: s.name for s in config.strands}

    def on_change() -> None:
        _write_url(replace(_filters_from_widgets(), strand_id=st.session_state[STRAND_KEY]), True)

    chosen: str = st.selectbox(
        "Strand",
        options=list(names),
        format_func=names.__getitem__,
        key=STRAND_KEY,
        on_change=on_change,
        label_visibility="collapsed",
    )
    return chosen


def url_multiselect(
    label: str,
    param: str,
    options: dict[str, str],
    container: Any = st,
) -> list[str]:
    """A page's own multiselect whose choice lives in the URL as `param=a,b`, so a copied
    link reproduces it. `options` maps the URL value to the label shown. Unknown values in the
    URL are left out with a warning."""
    given = split_values(st.query_params.get_all(param))
    unknown = [value for value in given if value not in options]
    if unknown:
        st.warning(
            f"Unknown {label.lower()} {', '.join(repr(v) for v in unknown)} in the link, left "
            f"out. Known: {', '.join(options)}.",
            icon=":material/warning:",
        )
    key = f"url_{param}"
    st.session_state[key] = [value for value in given if value in options]

    def on_change() -> None:
        chosen = st.session_state[key]
        if chosen:
            st.query_params[param] = ",".join(chosen)
        elif param in st.query_params:
            del st.query_params[param]

    chosen: list[str] = container.multiselect(
        label,
        list(options),
        format_func=options.__getitem__,
        placeholder="All",
        key=key,
        on_change=on_change,
    )
    return chosen


def force_wide_note(view: View, what: str) -> None:
    """Say so when places are chosen but `what` is only kept for the whole force."""
    if view.district_codes is not None:
        st.caption(f"{what} kept for the whole force: the place filters do not change it.")


def page_header(title: str, view: View, counts: bool = True) -> None:
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


def csv_name(view: View, name: str) -> str:
    """A download's file name, carrying the period: `knife-crime-monthly-2022-09.csv`."""
    return f"{name}-{format_month(view.filters.period)}.csv"


def download(table: pd.DataFrame, file_name: str) -> None:
    """A button that downloads the table as CSV (without rerunning the page)."""
    st.download_button(
        "Download CSV",
        data=cells_safe.csv_bytes(table),
        file_name=file_name,
        mime="text/csv",
        icon=":material/download:",
        key=f"download-{file_name}",
        on_click="ignore",
    )


def chart_downloads(chart: alt.TopLevelMixin, file_name: str) -> None:
    """Buttons that download the chart as PNG and SVG, named like its CSV. The image is drawn
    only when a button is clicked, off the page's run, and kept for the next click."""
    stem = file_name.removesuffix(".csv")
    for label, draw, suffix, mime in (
        ("PNG", render.chart_png, ".png", "image/png"),
        ("SVG", render.chart_svg, ".svg", "image/svg+xml"),
    ):
        st.download_button(
            f"Download {label}",
            data=partial(draw, chart),
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
