"""`crimeprev report`: the slide deck, workbook or HTML report for a period, for scheduled runs.

    crimeprev report --period 2022-09 --out q2.pptx
    crimeprev report --period 2022-09 --district Colchester --strand knife-crime --out kc.html
    crimeprev report --period 2022-09 --agenda-item 5 --meeting-date 2022-10-14 \
        --author "Performance analyst" --approver "Head of Crime Prevention" \
        --paper-version 1.0 --template board.potx --out q2.pptx
    crimeprev report --period 2022-09 --approved-only --out q2-approved.pptx

The marking and meeting details default to `[report]` in strategy.toml; an option given here
replaces its setting for this run.

The file's extension chooses the format. The file is written beside its final name and moved
into place when complete, so a job reading it never sees half a deck.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

from crimeprev.cli.main import UsageError, add_force_option, open_data, view_of
from crimeprev.config import MARKINGS, ReportSettings
from crimeprev.report.exports import UnknownFormat, build_report, format_for
from crimeprev.view import split_values


def _output_path(text: str) -> Path:
    """The file to write, checked before any work is done."""
    path = Path(text).expanduser()
    try:
        format_for(path)
    except UnknownFormat as error:
        raise UsageError(str(error)) from error
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise UsageError(f"Cannot write {path}: the folder {folder} does not exist.")
    if path.is_dir():
        raise UsageError(f"Cannot write {path}: it is a folder; give a file name.")
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise UsageError(f"Cannot write {path}: permission denied.")
    return path


def _strand_ids(known: list[str], given: list[str] | None) -> list[str] | None:
    chosen = split_values(given)
    unknown = [s for s in chosen if s not in known]
    if unknown:
        raise UsageError(f"Unknown strand '{unknown[0]}'. Known strands: {', '.join(known)}.")
    return chosen or None


def _meeting_date(text: str | None) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise UsageError(
            f"The meeting date '{text}' is not a date: write it as YYYY-MM-DD, e.g. 2022-10-14."
        ) from error


def _template(text: str | None) -> Path | None:
    if text is None:
        return None
    path = Path(text).expanduser()
    if path.suffix.lower() not in (".potx", ".pptx"):
        raise UsageError(f"The template {path} must be a PowerPoint template (.potx or .pptx).")
    if not path.is_file():
        raise UsageError(f"The template {path} does not exist.")
    return path


def report_settings(defaults: ReportSettings, args: argparse.Namespace) -> ReportSettings:
    """The configuration's `[report]` with what the command line gives in its place."""
    given: dict[str, Any] = {
        "marking": args.marking.strip().upper() if args.marking else None,
        "agenda_item": args.agenda_item,
        "meeting_date": _meeting_date(args.meeting_date),
        "author": args.author,
        "approver": args.approver,
        "version": args.paper_version,
        "template": _template(args.template),
    }
    if given["marking"] is not None and given["marking"] not in MARKINGS:
        raise UsageError(f"Unknown marking '{args.marking}'. Known: {', '.join(MARKINGS)}.")
    return replace(defaults, **{k: v for k, v in given.items() if v is not None})


def command_report(args: argparse.Namespace) -> None:
    path = _output_path(args.out)
    db = open_data(args)
    config = db.config
    view = view_of(
        db, argparse.Namespace(**{**vars(args), "district": split_values(args.district)})
    )
    strands = _strand_ids([s.id for s in config.strands], args.strand)
    settings = report_settings(config.report, args)
    started = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        if args.verbose:
            print(f"{fraction:4.0%}  {message}", file=sys.stderr)

    data = build_report(
        db, view, path.suffix.lower(), strands, progress, settings, args.approved_only
    )
    partial = path.with_name(path.name + ".part")
    try:
        partial.write_bytes(data)
        partial.replace(path)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise UsageError(f"Cannot write {path}: {error.strerror or error}.") from error
    label = format_for(path).label
    print(
        f"Wrote {path} ({label}, {len(data) / 1024:,.0f} KB) in "
        f"{time.perf_counter() - started:.1f} s."
    )


def register(commands: Any) -> None:
    """Add `report` to the `crimeprev` command."""
    parser = commands.add_parser(
        "report", help="write the slide deck (.pptx), workbook (.xlsx) or HTML report (.html)"
    )
    parser.add_argument("--period", required=True, help="last month of the period, YYYY-MM")
    parser.add_argument(
        "--district", action="append", help="district name or slug; repeat for several"
    )
    parser.add_argument(
        "--strand", action="append", help="strand id, e.g. knife-crime; repeat for several"
    )
    add_force_option(parser)
    parser.add_argument(
        "--out",
        required=True,
        help="file to write; its extension (.pptx, .xlsx, .html) chooses the format",
    )
    parser.add_argument(
        "--marking",
        help=f"protective marking on every page: {', '.join(MARKINGS)} (default from config)",
    )
    parser.add_argument("--agenda-item", help="the meeting's agenda item, e.g. 5")
    parser.add_argument("--meeting-date", help="the meeting's date, YYYY-MM-DD")
    parser.add_argument("--author", help="the paper's author")
    parser.add_argument("--approver", help="who approved the paper")
    parser.add_argument("--paper-version", help="the paper's version, e.g. 1.0")
    parser.add_argument("--template", help="a PowerPoint template (.potx or .pptx) for the deck")
    parser.add_argument(
        "--approved-only",
        action="store_true",
        help="take each strand's commentary and operational results from the update store's "
        "approved content only (the latest quarter approved by the period), not the CSV files",
    )
    parser.add_argument("--verbose", action="store_true", help="print progress to stderr")
    parser.set_defaults(handler=command_report)
