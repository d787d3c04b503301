"""Sentences every surface shares about what a figure covers, so the page, the deck, the
workbook and the HTML report say the same thing in the same words."""

from __future__ import annotations

from crimeprev.config import Config
from crimeprev.view import View


def force_wide_note(view: View, config: Config, what: str) -> str | None:
    """A sentence saying `what` (e.g. "The lead's commentary is") is kept for the whole force,
    when the view's places narrow the figures around it; None when they do not."""
    if not view.has_place_filter():
        return None
    force = view.force or "the force"
    return (
        f"{what} kept for the whole of {force}, not for {view.place_label(config)}: the "
        "place filters do not change it."
    )
