"""`crimeprev report`: the slide deck, workbook or HTML report for a period, for scheduled runs.

    crimeprev report --period 2022-09 --out q2.pptx
    crimeprev report --period 2022-09 --district Colchester --strand knife-crime --out kc.html

The file's extension chooses the format. The file is written beside its final name and moved
into place when complete, so a job reading it never sees half a deck.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from crimeprev.cli.main import UsageError, add_force_option, open_data, view_of
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


def command_report(args: argparse.Namespace) -> None:
    path = _output_path(args.out)
    db = open_data(args)
    config = db.config
    view = view_of(
        db, argparse.Namespace(**{**vars(args), "district": split_values(args.district)})
    )
    strands = _strand_ids([s.id for s in config.strands], args.strand)
    started = time.perf_counter()

    def progress(fraction: float, message: str) -> None:
        if args.verbose:
            print(f"{fraction:4.0%}  {message}", file=sys.stderr)

    data = build_report(db, view, path.suffix.lower(), strands, progress)
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
    parser.add_argument("--verbose", action="store_true", help="print progress to stderr")
    parser.set_defaults(handler=command_report)
