"""The report formats, chosen by file extension, and the one function that builds any of them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from crimeprev.config import ReportSettings
from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.periods import format_month
from crimeprev.report.content import Progress, ReportContent, collect, no_progress, scaled
from crimeprev.report.deck import build_deck
from crimeprev.report.html_report import build_html
from crimeprev.report.workbook import build_workbook
from crimeprev.view import View

# The share of a build's progress bar spent collecting the figures (the rest is layout).
COLLECT_SHARE = 0.2


class UnknownFormat(CrimeprevError, ValueError):
    """A file name whose extension is not one of the formats a report is made in."""


@dataclass(frozen=True)
class ExportFormat:
    """One kind of report file."""

    suffix: str
    label: str
    mime: str
    build: Callable[[ReportContent, Progress], bytes]
    by_district: bool = False


FORMATS = {
    ".pptx": ExportFormat(
        ".pptx",
        "Slide deck",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        build_deck,
    ),
    ".xlsx": ExportFormat(
        ".xlsx",
        "Workbook",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        build_workbook,
        by_district=True,
    ),
    ".html": ExportFormat(".html", "HTML report", "text/html", build_html),
}


def format_for(path: str | Path) -> ExportFormat:
    """The format a file name asks for, by its extension; `UnknownFormat` says which exist."""
    suffix = Path(path).suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise UnknownFormat(
            f"Cannot make a report as '{Path(path).name}': the file name must end in {known}."
        )
    return FORMATS[suffix]


def file_name(period: date, suffix: str) -> str:
    """The name a report is offered under: `crime-prevention-2022-09.pptx`."""
    return f"crime-prevention-{format_month(period)}{suffix}"


def build_report(
    db: Database,
    filters: View,
    suffix: str,
    strand_ids: Sequence[str] | None = None,
    progress: Progress = no_progress,
    settings: ReportSettings | None = None,
    approved_only: bool = False,
) -> bytes:
    """The report file for the filters and strands, in the format named by `suffix`; the
    marking and meeting details are `settings`, else the configuration's `[report]`; the
    leads' words and results from approved updates only when `approved_only`."""
    export = format_for(f"report{suffix}")
    content = collect(
        db,
        filters,
        strand_ids,
        scaled(progress, 0.0, COLLECT_SHARE),
        export.by_district,
        settings,
        approved_only,
    )
    return export.build(content, scaled(progress, COLLECT_SHARE, 1.0))
