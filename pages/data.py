"""Where the figures come from: sources and the months each covers, gaps, row counts, what
each import read, loaded and set aside (downloadable), and what every measure counts."""

from functools import partial

import streamlit as st

import ui
from crimeprev.access import audit
from crimeprev.access.roles import Role
from crimeprev.figures import datainfo
from crimeprev.imports.delivery import template_csv, template_xlsx
from crimeprev.present.charts import RECORD_KIND_LABELS, coverage_chart
from crimeprev.statistics.methods import method_notes
from ui import auth

SHOWN_ROWS = 2000
XLSX_MIME = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

view = ui.current_view()
config, root = view.config, view.db.root
ui.page_header("Data", view, counts=False)
admin = auth.allowed(Role.ADMIN)
# The server's paths are for its administrators.
st.caption(f"Source: {config.source}." + (f" Data folder: `{root}`" if admin else ""))

coverage = ui.fetch(datainfo.coverage, view.filters.force)
st.subheader("Months covered", divider="gray")
if coverage.gaps:
    names = [f"{m:%B %Y}" for m in coverage.gaps]
    missing = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    st.warning(
        f"The data has no records for {missing}. A 12-month window that includes a missing "
        "month is marked incomplete and its count left empty; charts show the gap as a gap.",
        icon=":material/event_busy:",
    )
else:
    first, last = coverage.months[0], coverage.months[-1]
    st.markdown(f"Every month from **{first:%B %Y}** to **{last:%B %Y}** has records.")
ui.chart_with_data(
    coverage_chart(coverage.monthly),
    ui.csv_name(view, "records-by-month"),
    columns=["month_start", "record_kind", "count_records", "is_covered"],
)
st.markdown("**Sources**")
ui.data_table(
    datainfo.sources(root, coverage.months),
    ui.csv_name(view, "data-sources"),
    column_config={
        "source": "Source",
        "first_month": "First month",
        "last_month": "Last month",
        "count_months": st.column_config.NumberColumn("Months"),
        "months": "Months held",
        "missing_months": "Missing months",
        "last_import": "Last written",
    },
)

st.subheader("Records by district", divider="gray")
st.caption(
    "All months, every district of the force (the place filters do not narrow it). Records "
    "the data places outside the force's districts, or cannot place at all, are kept and "
    "counted under their own names."
)
ui.data_table(
    ui.fetch(datainfo.district_counts, view.filters),
    ui.csv_name(view, "records-by-district"),
    column_config={
        "district_name": "District",
        **{
            kind: st.column_config.NumberColumn(label, format="localized")
            for kind, label in RECORD_KIND_LABELS.items()
        },
        "total": st.column_config.NumberColumn("Total", format="localized"),
    },
    height="content",
)

st.subheader("Imports", divider="gray")
log = datainfo.imports(root) if admin else []
if not admin:
    st.info(
        "What each import read, loaded and set aside is shown to administrators.",
        icon=":material/lock:",
    )
elif not log:
    st.info(
        "No import is recorded for this folder. Load data with `crimeprev import police-uk`, "
        "`crimeprev import records` or `crimeprev import delivery`.",
        icon=":material/info:",
    )
else:
    labels = {
        entry["import_id"]: f"{entry.get('started_at', '')} · "
        f"{datainfo.SOURCE_NAMES.get(entry.get('kind', ''), entry.get('kind', ''))}"
        for entry in log
    }
    chosen = st.selectbox(
        "Import", list(labels), format_func=labels.__getitem__, help="The newest is first."
    )
    entry = next(e for e in log if e["import_id"] == chosen)
    read, loaded, aside = (
        int(entry.get(k, 0)) for k in ("rows_read", "rows_loaded", "rows_quarantined")
    )
    columns = st.columns(4)
    columns[0].metric("Rows read", f"{read:,}")
    columns[1].metric("Loaded", f"{loaded:,}")
    columns[2].metric("Set aside", f"{aside:,}")
    columns[3].metric("Seconds", f"{float(entry.get('seconds', 0)):.1f}")
    if entry.get("missing_months"):
        st.caption("Months missing after this import: " + ", ".join(entry["missing_months"]))
    for note in entry.get("notes", []):
        st.caption(note)
    ui.data_table(
        datainfo.import_files(entry),
        f"import-{chosen}-files.csv",
        column_config={
            "file": "File",
            "rows_read": st.column_config.NumberColumn("Read", format="localized"),
            "rows_loaded": st.column_config.NumberColumn("Loaded", format="localized"),
            "rows_quarantined": st.column_config.NumberColumn("Set aside", format="localized"),
            "problem": "Problem with the file",
        },
    )
    if aside:
        st.markdown("**Rows set aside**")
        st.dataframe(
            datainfo.import_reasons(entry),
            column_config={"reason": "Reason", "count_rows": st.column_config.NumberColumn("Rows")},
            hide_index=True,
        )
        rows = datainfo.set_aside(root, chosen)
        shown = rows.head(SHOWN_ROWS)
        if len(rows) > len(shown):
            st.caption(f"The first {len(shown):,} of {len(rows):,} rows; the download has all.")
        st.dataframe(
            shown,
            column_config={
                "file": "File",
                "line_number": st.column_config.NumberColumn("Line", format="%d"),
                "reason": "Reason",
                "line": "Line as read",
            },
            hide_index=True,
        )
        ui.download(rows, f"import-{chosen}-set-aside.csv")

st.subheader("Delivery tracker", divider="gray")
st.markdown(
    "Strand leads keep the delivery plan in a tracker: one row per action and reporting "
    "quarter. Download the template, fill it in, then load it with "
    "`crimeprev import delivery FILE`; rows that cannot be used are set aside with their reason "
    "and shown above."
)
with st.container(horizontal=True):
    for label, build, suffix, mime in (
        ("Template (XLSX)", template_xlsx, "xlsx", XLSX_MIME),
        ("Template (CSV)", template_csv, "csv", "text/csv"),
    ):
        st.download_button(
            label,
            data=partial(build, config),
            file_name=f"delivery-tracker-template.{suffix}",
            mime=mime,
            icon=":material/download:",
            on_click="ignore",
        )

st.subheader("How the statistics decide", divider="gray")
for heading, text in method_notes(config.signals):
    st.markdown(f"**{heading}.** {text}")

st.subheader("What each measure counts", divider="gray")
ui.data_table(
    datainfo.definitions(config),
    "measure-definitions.csv",
    column_config={
        "strand": "Strand",
        "measure": "Measure",
        "definition": "Definition",
        "rule": "Records counted",
        "proxy": "Proxy for",
        "better_when": "Better when",
    },
    height="content",
)

if admin:
    st.subheader("Audit trail", divider="gray")
    trail = audit.read_trail(root)
    st.caption(
        "Who signed in, opened which page with which filters, ran which query and downloaded "
        f"which file: {len(trail):,} events kept, newest first."
    )
    st.dataframe(
        trail.head(SHOWN_ROWS),
        hide_index=True,
        column_config={"at_utc": "When (UTC)", "user": "Who", "role": "Role", "action": "Did"},
    )
    ui.download(trail, "audit-trail.csv")
