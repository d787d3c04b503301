"""Which quarter's approved words each strand carries, in a sentence the Overview and the deck
show beside it, and the approved words themselves for a report built from approved content
only."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from crimeprev.config import Config, config_for
from crimeprev.periods import format_month, parse_month
from crimeprev.updates.settings import (
    DATABASE_URL_VARIABLE,
    SQLITE_FILE,
    load_update_settings,
)
from crimeprev.updates.store import UpdateStore, open_store
from crimeprev.updates.workflow import ApprovedMark, StrandContent, approved_marks, quarter_content

NO_APPROVED_WORDS = "No approved words yet."


def existing_store(root: Path, config: Config | None = None) -> UpdateStore | None:
    """The data folder's update store when one exists (a configured database, or the SQLite
    file in the folder); None otherwise, so a reader never creates an empty store."""
    config = config or config_for(root)
    settings = load_update_settings(config, root / "config")
    configured = os.environ.get(DATABASE_URL_VARIABLE, "").strip() or settings.database_url
    if not configured and not (root / SQLITE_FILE).is_file():
        return None
    return open_store(root, config, settings)


def words_mark(mark: ApprovedMark | None, approver_title: str = "") -> str:
    """`Words approved for the quarter ending Sep 2022, version 2, by ACC …, 3 Oct 2022.`"""
    if mark is None:
        return NO_APPROVED_WORDS
    by = f"{approver_title} {mark.approved_by}".strip()
    return (
        f"Words approved for the quarter ending {parse_month(mark.quarter_end):%b %Y}, "
        f"version {mark.version}, by {by}, {mark.approved_at:%-d %b %Y}."
    )


def strand_marks(store: UpdateStore | None, config: Config, period: date) -> dict[str, str]:
    """Per strand of the configuration, the sentence saying whose approved words it carries
    for a report of `period` (the latest approved quarter ending by then)."""
    marks = approved_marks(store, format_month(period)) if store is not None else {}
    title = store.settings.approver_title if store is not None else ""
    return {s.id: words_mark(marks.get(s.id), title) for s in config.strands}


def approved_words(store: UpdateStore, period: date) -> dict[str, StrandContent]:
    """Per strand with approved words by `period`, the approved version of the quarter its
    mark names: what a report built from approved content only carries."""
    marks = approved_marks(store, format_month(period))
    by_quarter: dict[str, dict[str, StrandContent]] = {}
    words: dict[str, StrandContent] = {}
    for strand_id, mark in marks.items():
        if mark.quarter_end not in by_quarter:
            by_quarter[mark.quarter_end] = quarter_content(store, mark.quarter_end, "approved")
        content = by_quarter[mark.quarter_end].get(strand_id)
        if content is not None:
            words[strand_id] = content
    return words
