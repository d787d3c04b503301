"""The dashboard's frame, shared by every page: `ui.cached` (the data folder's database and
cached calls into `crimeprev`), `ui.url_state` (the filters in the sidebar and the URL) and
`ui.widgets` (tables and charts with their downloads). Pages use them as `ui.<name>`.
"""

from ui.cached import VIEW_KEY, Frame, data_version, fetch
from ui.url_state import (
    DISTRICTS_KEY,
    FORCE_KEY,
    LPAS_KEY,
    PERIOD_KEY,
    STRAND_KEY,
    URL_PARAMS,
    current_view,
    frame,
    strand_picker,
    url_multiselect,
)
from ui.widgets import (
    COLUMN_LABELS,
    accessible_styles,
    chart_downloads,
    chart_with_data,
    csv_name,
    data_table,
    download,
    force_wide_note,
    navigation_menu,
    page_header,
    recorded,
)

__all__ = [
    "COLUMN_LABELS",
    "DISTRICTS_KEY",
    "FORCE_KEY",
    "LPAS_KEY",
    "PERIOD_KEY",
    "STRAND_KEY",
    "URL_PARAMS",
    "VIEW_KEY",
    "Frame",
    "accessible_styles",
    "chart_downloads",
    "chart_with_data",
    "csv_name",
    "current_view",
    "data_table",
    "data_version",
    "download",
    "fetch",
    "force_wide_note",
    "frame",
    "navigation_menu",
    "page_header",
    "recorded",
    "strand_picker",
    "url_multiselect",
]
