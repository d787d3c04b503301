"""The quarterly update as this session's person may use it: the data folder's update store
(opened once per process), the person as an update `User`, and whether the Update page is
theirs to open. In local mode the one user leads every strand and approves, unless
`CRIMEPREV_LOCAL_ROLE` asks to see the dashboard as a lower role, who does neither."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from crimeprev.access.roles import Role, load_access
from crimeprev.config import config_for
from crimeprev.errors import CrimeprevError
from crimeprev.report.content import words_marks_table
from crimeprev.store import data_dir
from crimeprev.updates.editor import local_settings, local_user, may_open, user_from_claims
from crimeprev.updates.permissions import User
from crimeprev.updates.settings import UpdateSettings, load_update_settings
from crimeprev.updates.store import UpdateStore, open_store
from ui import auth
from ui.cached import Frame


def _local_lead() -> bool:
    identity = auth.current_identity()
    return identity.local and identity.role == Role.ADMIN


def settings() -> UpdateSettings:
    """The update settings of the data folder in use (every strand led locally in local mode)."""
    root = data_dir()
    config = config_for(root)
    loaded = load_update_settings(config, root / "config")
    return local_settings(loaded, config, auth.LOCAL_USER) if _local_lead() else loaded


@st.cache_resource(show_spinner="Opening the update store…", max_entries=4)
def _store(root: str, local: bool, fingerprint: str) -> UpdateStore:
    path = Path(root)
    config = config_for(path)
    loaded = load_update_settings(config, path / "config")
    chosen = local_settings(loaded, config, auth.LOCAL_USER) if local else loaded
    return open_store(path, config, chosen)


def store() -> UpdateStore:
    """The data folder's update store, opened (and migrated) once per process."""
    root = data_dir()
    fingerprint = repr(settings())
    return _store(str(root.resolve()), _local_lead(), fingerprint)


def current_user() -> User:
    """This session's person as the update workflow knows them."""
    identity = auth.current_identity()
    if identity.local:
        if _local_lead():
            return local_user(settings(), identity.user)
        return User(name=identity.user)
    access = load_access(data_dir() / "config")
    return user_from_claims(auth.current_claims(), access.role_claim, identity.user)


def page_open() -> bool:
    """Whether this session's person leads a strand or approves: the Update page is theirs."""
    return may_open(settings(), current_user())


UPDATE_URL_PATH = "update"


def visible_pages(sections: dict[str, list[Any]]) -> dict[str, list[Any]]:
    """The menu's sections without the Update page for someone who neither leads nor approves
    (the page is then not served at all: its address opens the default page). A folder whose
    settings cannot be read keeps the page out too; the page shown says what is wrong."""
    try:
        if page_open():
            return sections
    except CrimeprevError:
        pass
    kept = {
        section: [p for p in pages if p.url_path != UPDATE_URL_PATH]
        for section, pages in sections.items()
    }
    return {section: pages for section, pages in kept.items() if pages}


def approved_words_panel(view: Frame) -> None:
    """Per strand, which quarter's approved words the report of the period carries (nothing
    when the data folder keeps no update store)."""
    marks = words_marks_table(view.db, view.filters.period)
    if marks.empty:
        return
    with st.expander("Approved words per strand", icon=":material/verified:"):
        st.dataframe(
            marks.drop(columns=["strand_id"]),
            hide_index=True,
            column_config={
                "strand_name": st.column_config.TextColumn("Strand", width=220),
                "approved_words": st.column_config.TextColumn("Words", width="large"),
            },
        )
