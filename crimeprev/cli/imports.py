"""`crimeprev import ...` and `crimeprev counts`: loading real extracts, and counting what
was loaded the way the Data and Explore pages do."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

from crimeprev.cli.main import (
    FORMATS,
    UsageError,
    add_force_option,
    chosen_force,
    data_root,
    district_codes,
    emit,
    open_data,
)
from crimeprev.figures.counts import DIMENSIONS, UnknownDimension, record_counts
from crimeprev.imports.common import ImportFailed, ImportSummary
from crimeprev.periods import PeriodError, parse_month
from crimeprev.store import ImportInProgress

SUMMARY_FORMATS = ("table", "json")


def run_import(
    args: argparse.Namespace, work: Callable[[Path, Callable[[float, str], None]], ImportSummary]
) -> None:
    """Run an import with a progress bar on stderr, then print its summary."""
    root = data_root(args)
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Importing", total=1.0)

        def progress(fraction: float, message: str) -> None:
            bar.update(task, completed=fraction, description=message[-70:])

        try:
            summary = work(root, progress)
        except (ImportFailed, ImportInProgress) as error:
            raise UsageError(str(error)) from error
    if args.format == "json":
        print(json.dumps(summary.as_json(), indent=2))
    else:
        print_summary(summary)
    if summary.failed_files:
        raise SystemExit(1)


def print_summary(summary: ImportSummary) -> None:
    """The summary as a person reads it: per file, totals, reasons, months and gaps."""
    width = max([len("file")] + [len(f.file) for f in summary.files])
    print(f"{'file':<{width}}  {'read':>9}  {'loaded':>9}  {'set aside':>9}")
    for report in summary.files:
        print(
            f"{report.file:<{width}}  {report.rows_read:>9,}  {report.rows_loaded:>9,}  "
            f"{report.rows_quarantined:>9,}" + (f"  {report.problem}" if report.problem else "")
        )
    print(
        f"{'total':<{width}}  {summary.rows_read:>9,}  {summary.rows_loaded:>9,}  "
        f"{summary.rows_quarantined:>9,}"
    )
    for reason, count in summary.reasons.items():
        print(f"  set aside {count:,}: {reason}")
    for skipped in summary.skipped_files:
        print(f"  skipped {skipped['file']}: {skipped['reason']}")
    for note in summary.notes:
        print(f"  note: {note}")
    if summary.months_written:
        print(f"Months written: {', '.join(summary.months_written)}")
    if summary.months_unchanged:
        print(f"Months unchanged (same data as before): {', '.join(summary.months_unchanged)}")
    if summary.months_covered:
        print(
            f"The data now covers {summary.months_covered[0]} to {summary.months_covered[-1]}"
            + (
                f"; months missing: {', '.join(summary.missing_months)}."
                if summary.missing_months
                else " with no gaps."
            )
        )
    if summary.quarantine_file:
        print(f"Rows set aside, with file, line and reason: {summary.quarantine_file}")
    print(f"Took {summary.seconds:.1f} s. Import {summary.import_id} is in the import log.")


def command_import_police_uk(args: argparse.Namespace) -> None:
    from crimeprev.imports.police_uk import import_police_uk

    def work(root: Path, progress: Callable[[float, str], None]) -> ImportSummary:
        return import_police_uk(
            root,
            [Path(p).expanduser() for p in args.paths],
            lsoa_lookup=Path(args.lsoa_lookup).expanduser() if args.lsoa_lookup else None,
            force=args.force,
            progress=progress,
        )

    run_import(args, work)


def command_import_records(args: argparse.Namespace) -> None:
    from crimeprev.imports.records import import_records

    def work(root: Path, progress: Callable[[float, str], None]) -> ImportSummary:
        return import_records(
            root,
            [Path(p).expanduser() for p in args.paths],
            Path(args.mapping).expanduser(),
            progress=progress,
        )

    run_import(args, work)


def command_import_delivery(args: argparse.Namespace) -> None:
    from crimeprev.config import config_for
    from crimeprev.imports.delivery import import_delivery, write_template

    if args.template:
        if args.path:
            raise UsageError("Give either a tracker to import or --template, not both.")
        target = Path(args.template).expanduser()
        try:
            write_template(target, config_for(data_root(args)))
        except (ImportFailed, OSError) as error:
            raise UsageError(str(error)) from error
        print(f"Wrote the delivery tracker template to {target}.")
        return
    if not args.path:
        raise UsageError("Name the tracker to import (XLSX or CSV), or give --template FILE.")

    def work(root: Path, progress: Callable[[float, str], None]) -> ImportSummary:
        return import_delivery(
            root,
            Path(args.path).expanduser(),
            progress=progress,
            replace_partial=args.replace_partial,
        )

    run_import(args, work)


def command_import_ons_pfa(args: argparse.Namespace) -> None:
    from crimeprev.imports.ons_pfa import import_ons_pfa

    def work(root: Path, progress: Callable[[float, str], None]) -> ImportSummary:
        return import_ons_pfa(
            root,
            Path(args.path).expanduser(),
            boundaries=Path(args.boundaries).expanduser() if args.boundaries else None,
            progress=progress,
        )

    run_import(args, work)


def command_counts(args: argparse.Namespace) -> None:
    db = open_data(args)
    by = [part.strip() for chunk in args.by for part in chunk.split(",") if part.strip()]
    try:
        start = parse_month(args.from_month) if args.from_month else None
        end = parse_month(args.to_month) if args.to_month else None
        force = chosen_force(db, args.force)
        frame = record_counts(
            db, by, start, end, district_codes=district_codes(db, args.district, force), force=force
        )
    except (UnknownDimension, PeriodError) as error:
        raise UsageError(str(error)) from error
    if start and end and start > end:
        raise UsageError(f"--from {args.from_month} is after --to {args.to_month}.")
    records: list[dict[str, Any]] = [
        {k: (v.isoformat()[:7] if k == "month_start" else v) for k, v in row.items()}
        for row in frame.to_dict("records")
    ]
    emit(frame, records, args.format)


def register(commands: Any) -> None:
    """Add `import` (with its sources) and `counts` to the command line."""
    importer = commands.add_parser("import", help="load a real extract into the data folder")
    sources = importer.add_subparsers(dest="source", required=True)

    police = sources.add_parser(
        "police-uk",
        help="data.police.uk street-level files (loose, in folders or zip archives)",
        description=(
            "Import data.police.uk YYYY-MM-<force>-street.csv files. Each month imported "
            "replaces that month; every row is loaded or set aside with its reason."
        ),
    )
    police.add_argument("paths", nargs="+", help="files, folders or .zip archives")
    police.add_argument(
        "--lsoa-lookup",
        help="CSV with columns lsoa_code and lad_code placing each LSOA in a district "
        "(default: the district is read from the LSOA name)",
    )
    police.add_argument(
        "--force",
        help="the force whose rows to keep (default: the data folder's force); rows reported "
        "by others are set aside, and a file holding only another force's rows is refused",
    )
    police.add_argument("--format", choices=SUMMARY_FORMATS, default="table")
    police.set_defaults(handler=command_import_police_uk)

    records = sources.add_parser(
        "records",
        help="the force's own record extract (CSV, Parquet or XLSX) through a mapping file",
        description=(
            "Import a force's own records. The mapping (TOML) names the columns holding the "
            "month, district, crime type and flags; see examples/force-records-mapping.toml. "
            "Each month in the extract replaces that month of the force's records; every row "
            "is loaded or set aside with its reason."
        ),
    )
    records.add_argument("paths", nargs="+", help="the extract: .csv, .parquet or .xlsx files")
    records.add_argument("--mapping", required=True, help="the mapping file (.toml)")
    records.add_argument("--format", choices=SUMMARY_FORMATS, default="table")
    records.set_defaults(handler=command_import_records)

    tracker = sources.add_parser(
        "delivery",
        help="the delivery tracker (XLSX or CSV): one row per action and reporting quarter",
        description=(
            "Import the delivery tracker, replacing the delivery plan with the rows loaded; "
            "every row is loaded or set aside with its reason. --template writes an empty "
            "tracker to fill in."
        ),
    )
    tracker.add_argument("path", nargs="?", help="the tracker: .xlsx or .csv")
    tracker.add_argument(
        "--template", metavar="FILE", help="write the tracker template (.xlsx or .csv) instead"
    )
    tracker.add_argument(
        "--replace-partial",
        action="store_true",
        help="replace the plan with the rows that load even when others are set aside",
    )
    tracker.add_argument("--format", choices=SUMMARY_FORMATS, default="table")
    tracker.set_defaults(handler=command_import_delivery)

    ons = sources.add_parser(
        "ons-pfa",
        help="the ONS police force area data tables (XLSX), for comparing forces",
        description=(
            "Import the ONS 'Police force area data tables' workbook. Each table is found by "
            "its title and header row; [u], [x] and [z] are kept as what they mean. An edition "
            "imported again replaces itself; other editions are kept beside it."
        ),
    )
    ons.add_argument("path", help="the workbook: policeforceareatables....xlsx")
    ons.add_argument(
        "--boundaries",
        help="a GeoJSON file of the police force areas (PFAyyCD codes); a simplified copy is "
        "kept in the data folder for the Compare page's map and the default peer group",
    )
    ons.add_argument("--format", choices=SUMMARY_FORMATS, default="table")
    ons.set_defaults(handler=command_import_ons_pfa)

    counts = commands.add_parser(
        "counts", help="record counts grouped by month, district, crime type and more"
    )
    counts.add_argument(
        "--by",
        action="append",
        required=True,
        help=f"dimensions, comma-separated or repeated: {', '.join(DIMENSIONS)}",
    )
    counts.add_argument("--from", dest="from_month", help="first month, YYYY-MM")
    counts.add_argument("--to", dest="to_month", help="last month, YYYY-MM")
    counts.add_argument("--district", action="append", help="district name or slug; repeatable")
    add_force_option(counts)
    counts.add_argument("--format", choices=FORMATS, default="table")
    counts.set_defaults(handler=command_counts)
