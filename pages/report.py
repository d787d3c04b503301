"""Meeting-ready exports: the slide deck, workbook and HTML report for the period and places in
the sidebar and the strands chosen here, each built on request and then downloaded."""

import time

import streamlit as st

import ui
from crimeprev.report.exports import FORMATS, build_report, file_name

BUILT_KEY = "report_built"
DESCRIPTIONS = {
    ".pptx": "PowerPoint, 16:9: title, summary, strands at a glance, delivery plan, then a slide "
    "per measure with its chart, figures and commentary, and per strand's results. Speaker "
    "notes say what each figure counts.",
    ".xlsx": "Excel: one sheet per table (insight figures, monthly series by measure and "
    "district, delivery plan, results), the filters at the top of each.",
    ".html": "A single web page with the charts inside, to attach to an email; prints on A4.",
}
ICONS = {".pptx": ":material/slideshow:", ".xlsx": ":material/table:", ".html": ":material/html:"}
BUILD_LABELS = {
    ".pptx": "Build the slide deck",
    ".xlsx": "Build the workbook",
    ".html": "Build the HTML report",
}

view = ui.current_view()
config = view.config
ui.page_header("Report", view)
st.markdown(
    "Reports use the period and places chosen in the sidebar. Choose the strands to include "
    "(all when none are chosen), build a format, then download it."
)
strand_ids = ui.url_multiselect("Strands", "strands", {s.id: s.name for s in config.strands})
approved_only = st.toggle(
    "Leads' words from approved updates only",
    help="Each strand's commentary and operational results as last approved on the Quarterly "
    "update page (the latest quarter approved by the period), instead of the CSV files.",
)
wanted = (view.version, view.filters, tuple(strand_ids), approved_only)
built: dict[str, tuple[object, bytes, float]] = st.session_state.setdefault(BUILT_KEY, {})


@st.fragment
def format_panel(suffix: str) -> None:
    """Build one format (only this panel reruns) and offer its download."""
    export = FORMATS[suffix]
    st.subheader(export.label, divider="gray")
    st.caption(DESCRIPTIONS[suffix])
    if st.button(BUILD_LABELS[suffix], key=f"build{suffix}", icon=ICONS[suffix]):
        bar = st.progress(0.0, text="Starting")
        started = time.perf_counter()
        data = build_report(
            view.db,
            view.filters,
            suffix,
            strand_ids or None,
            lambda fraction, message: bar.progress(fraction, text=message),
            approved_only=approved_only,
        )
        built[suffix] = (wanted, data, time.perf_counter() - started)
        bar.empty()
    if suffix in built and built[suffix][0] == wanted:
        _, data, seconds = built[suffix]
        name = file_name(view.filters.period, suffix)
        st.download_button(
            f"Download {name}",
            data=ui.recorded(lambda: data, name),
            file_name=name,
            mime=export.mime,
            icon=":material/download:",
            type="primary",
            key=f"download{suffix}",
            on_click="ignore",
        )
        st.caption(f"Built in {seconds:.1f} s · {len(data) / 1024:,.0f} KB")


for column, suffix in zip(st.columns(len(FORMATS)), FORMATS, strict=True):
    with column:
        format_panel(suffix)
