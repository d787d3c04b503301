"""The dashboard's entry point: page setup, navigation, and the filters every page shares.

Each page is `pages/<name>/page.py`, one folder down: Streamlit serves any `pages/*.py` on its
own, without this frame, until a session has run this script (and in every `AppTest` run).
"""

import streamlit as st

import ui

PAGES = [
    st.Page(
        "pages/overview/page.py",
        title="Overview",
        icon=":material/dashboard:",
        url_path="overview",
        default=True,
    ),
    st.Page("pages/strand/page.py", title="Strands", icon=":material/insights:", url_path="strand"),
    st.Page(
        "pages/delivery/page.py",
        title="Delivery plan",
        icon=":material/checklist:",
        url_path="delivery",
    ),
]

page = st.navigation(PAGES)
st.set_page_config(
    page_title=f"{page.title} · Crime Prevention Strategy",
    page_icon=":material/shield:",
    layout="wide",
)
st.sidebar.markdown("**Crime Prevention Strategy 2021–25**")
ui.frame(with_strand=page.url_path == "strand")
page.run()
