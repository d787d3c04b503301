"""The filters every page shares, kept in the sidebar and the URL (so a link reproduces a
view), and the page's own choices kept in the URL; `frame` sets up each run.
"""

from __future__ import annotations

import runpy
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import streamlit as st

from crimeprev.config import Config
from crimeprev.figures.insight import covered_months, data_forces
from crimeprev.periods import month_label, month_long_label, months_between
from crimeprev.store import data_dir, has_records
from crimeprev.view import View, resolve_filters, split_values
from ui import auth
from ui.cached import VIEW_KEY, Frame, data_version, database_for, fetch_from

APP_SCRIPT = Path(__file__).resolve().parent.parent / "app.py"
FRAMED_KEY = "framed"
URL_PARAMS = ("period", "district", "lpa", "strand", "force")
PERIOD_KEY = "filter_period"
DISTRICTS_KEY = "filter_districts"
LPAS_KEY = "filter_lpas"
STRAND_KEY = "filter_strand"
FORCE_KEY = "filter_force"
SAVED_PARAMS_KEY = "saved_query_params"
NO_DATA_MESSAGE = (
    "There is no crime data in `{root}` yet. Create the demo data with `crimeprev demo` "
    "(or `make run`), then reload this page."
)


def current_view() -> Frame:
    """The view `frame` set up for this run; every page asks for it first.

    Until some session has run `app.py`, Streamlit serves a `pages/*.py` file on its own (and
    does so in every `AppTest` run). Such a run runs the app instead, which frames and renders
    this same page, and stops there.
    """
    if not st.session_state.pop(FRAMED_KEY, False):
        runpy.run_path(str(APP_SCRIPT), run_name="__main__")
        st.stop()
    view: Frame = st.session_state[VIEW_KEY]
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


def _write_url(filters: View, with_strand: bool) -> None:
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
) -> View:
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


def _filters_from_widgets() -> View:
    state = st.session_state
    return View(
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


def _sidebar(config: Config, covered: list[date], filters: View, forces: tuple[str, ...]) -> None:
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


def frame(with_strand: bool) -> Frame:
    """Open the data, read and show the filters, and remember the view for the page.

    Stops the run with one sentence when there is no data or the configuration is broken."""
    root = data_dir()
    if not has_records(root):
        st.info(NO_DATA_MESSAGE.format(root=root), icon=":material/info:")
        st.stop()
    version = data_version(root)
    database_for(str(root), version)
    covered = fetch_from(str(root), version, covered_months)
    forces = tuple(fetch_from(str(root), version, data_forces))
    placeholder = Frame(str(root), version, View(covered[-1]), covered[-1])
    config = placeholder.config
    filters = _read_filters(config, covered, with_strand, forces)
    _sidebar(config, covered, filters, forces)
    view = replace(placeholder, filters=replace(filters, role=auth.current_role().label))
    st.session_state[VIEW_KEY] = view
    st.session_state[FRAMED_KEY] = True
    return view


def strand_picker(view: Frame) -> str:
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
