"""The dashboard's entry point: page setup, navigation, and the filters every page shares.

The menu is drawn here with `st.page_link` rather than by `st.navigation`: a `pages/` folder
beside this script makes a fresh server list its file names ("app", "data", ...) until some
session has run this script, so `.streamlit/config.toml` hides that listing
(`client.showSidebarNavigation = false`) and every visitor, the first included, sees this menu.
A page served without this script first (see `ui.current_view`) runs it before anything else.
"""

import streamlit as st

import ui
from crimeprev.errors import CrimeprevError
from ui import auth, updates

# Before anything else renders: the sign-in screen, or in local mode a banner saying so.
auth.require_sign_in()

# Sections of the sidebar menu; each page's url path is part of the links people share.
PAGES = {
    "Strategy report": [
        st.Page(
            "pages/overview.py",
            title="Overview",
            icon=":material/dashboard:",
            url_path="overview",
            default=True,
        ),
        st.Page("pages/strand.py", title="Strands", icon=":material/insights:", url_path="strand"),
        st.Page(
            "pages/delivery.py",
            title="Delivery plan",
            icon=":material/checklist:",
            url_path="delivery",
        ),
    ],
    "Analysis": [
        st.Page(
            "pages/signals.py",
            title="Signals",
            icon=":material/notifications_active:",
            url_path="signals",
        ),
        st.Page("pages/explore.py", title="Explore", icon=":material/search:", url_path="explore"),
        st.Page("pages/map.py", title="District map", icon=":material/map:", url_path="map"),
        st.Page(
            "pages/compare.py",
            title="How we compare",
            icon=":material/leaderboard:",
            url_path="compare",
        ),
        st.Page("pages/sql.py", title="SQL", icon=":material/terminal:", url_path="sql"),
    ],
    "Outputs and data": [
        st.Page(
            "pages/update.py",
            title="Quarterly update",
            icon=":material/edit_note:",
            url_path="update",
        ),
        st.Page("pages/report.py", title="Report", icon=":material/slideshow:", url_path="report"),
        st.Page("pages/data.py", title="Data", icon=":material/database:", url_path="data"),
    ],
}

shown = updates.visible_pages(auth.visible_pages(PAGES))
page = st.navigation(shown, position="hidden")
st.set_page_config(
    page_title=f"{page.title} · Crime Prevention Strategy",
    page_icon=":material/shield:",
    layout="wide",
)
ui.accessible_styles()
st.sidebar.markdown("**Crime Prevention Strategy 2021–25**")
ui.navigation_menu(shown)
# Every error a user can cause (a broken file, a bad setting) is one sentence, never a traceback.
try:
    ui.frame(with_strand=page.url_path in ("strand", "update"))
    auth.record_page_view(page.url_path)
    page.run()
except CrimeprevError as error:
    st.error(f"**{error.title}.** {error}", icon=":material/error:")
