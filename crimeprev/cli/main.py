"""The `crimeprev` command: the same figures as the dashboard, for scripts and scheduled jobs."""

from __future__ import annotations

import argparse
import importlib
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from crimeprev.aggregate import open_database
from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.figures import delivery, insight
from crimeprev.figures.overview import count_text
from crimeprev.formats import signed_count_text
from crimeprev.periods import format_pct, parse_month
from crimeprev.statistics.change import format_p_value
from crimeprev.store import data_dir, has_records
from crimeprev.view import View, default_force, find_district, split_values

FORMATS = ("table", "csv", "json")

# Modules that add their own subcommands: each defines `register(commands)`, which calls
# `commands.add_parser(...)` and sets `handler` on the parser it adds.
COMMAND_MODULES: tuple[str, ...] = (
    "crimeprev.cli.signals",
    "crimeprev.cli.imports",
    "crimeprev.cli.report",
    "crimeprev.cli.peers",
    "crimeprev.cli.updates",
)


class UsageError(CrimeprevError):
    """A mistake in what the user asked for; printed as one sentence, exit status 2."""


def data_root(args: argparse.Namespace) -> Path:
    return Path(args.data_dir).expanduser().resolve() if args.data_dir else data_dir()


def open_data(args: argparse.Namespace) -> Database:
    root = data_root(args)
    if not has_records(root):
        raise UsageError(
            f"There are no records in {root}. Create the demo data with `crimeprev demo` "
            "or import an extract first."
        )
    return open_database(root)


def chosen_force(db: Database, given: str | None) -> str | None:
    """The force a command counts, as the dashboard chooses it: the one `--force` names, else
    the data folder's own (`[imports] force`) when the data holds several; None (every record)
    when it holds one."""
    forces = insight.data_forces(db)
    if given is None:
        if len(forces) > 1:
            default = default_force(db.config, tuple(forces))
            print(
                f"crimeprev: counting {default}; the data holds {', '.join(forces)} "
                "(--force names another).",
                file=sys.stderr,
            )
            return default
        return None
    match = next((f for f in forces if f.lower() == given.strip().lower()), None)
    if match is None:
        raise UsageError(f"Unknown force '{given}'. The data holds {', '.join(forces)}.")
    return match if len(forces) > 1 else None


def view_of(db: Database, args: argparse.Namespace) -> View:
    """The view a command's --period, --force and --district options ask for, checked."""
    force = chosen_force(db, getattr(args, "force", None))
    period = checked_period(db, args.period, force)
    codes = district_codes(db, split_values(getattr(args, "district", None)), force)
    slugs = tuple(d.slug for d in db.config.districts if codes is not None and d.code in codes)
    return View(period, districts=slugs, force=force)


def checked_period(db: Database, text: str, force: str | None = None) -> Any:
    """The month given, when it lies between the first and last the data covers: the months
    the dashboard offers. A month inside a gap is accepted; its windows read incomplete."""
    period = parse_month(text)
    covered = insight.covered_months(db, force)
    if not covered[0] <= period <= covered[-1]:
        raise UsageError(
            f"There is no data for {text}: the data covers {covered[0]:%Y-%m} to "
            f"{covered[-1]:%Y-%m}."
        )
    return period


def district_codes(
    db: Database, names: Sequence[str] | None, force: str | None = None
) -> list[str] | None:
    """District codes for names or slugs given on the command line; None means force-wide."""
    if not names:
        return None
    codes = []
    for name in names:
        found = find_district(db.config, name)
        if found is None or not found.belongs_to(force):
            known = ", ".join(d.name for d in db.config.districts if d.belongs_to(force))
            raise UsageError(f"Unknown district '{name}'. Known districts: {known}.")
        codes.append(found.code)
    return codes


def emit(frame: pd.DataFrame, records: list[dict[str, Any]], output_format: str) -> None:
    if output_format == "json":
        print(json.dumps(records, indent=2))
    elif output_format == "csv":
        print(pd.DataFrame(records).to_csv(index=False), end="")
    else:
        print(frame.to_string(index=False))


def command_insight(args: argparse.Namespace) -> None:
    db = open_data(args)
    view = view_of(db, args)
    if args.strand and args.strand not in {s.id for s in db.config.strands}:
        known = ", ".join(s.id for s in db.config.strands)
        raise UsageError(f"Unknown strand '{args.strand}'. Known strands: {known}.")
    table = insight.insight_table(db, view, args.strand)

    shown = pd.DataFrame(
        {
            "strand": table["strand"],
            "measure": table["measure"],
            "comparison": table["comparison"],
            "comparator_label": table["comparator_label"],
            "comparator_count": [count_text(v) for v in table["comparator_count"]],
            "current_label": table["current_label"],
            "current_count": [count_text(v) for v in table["current_count"]],
            "diff": [signed_count_text(v) for v in table["diff"]],
            "pct": [format_pct(None if pd.isna(v) else float(v)) for v in table["pct_change"]],
            "p": [_text(v, "{}", format_p_value) for v in table["p_value"]],
            "verdict": [v if isinstance(v, str) else "" for v in table["verdict"]],
            "significance_test": [
                v if isinstance(v, str) else "" for v in table["significance_test"]
            ],
            "note": [v if isinstance(v, str) else "" for v in table["note"]],
        }
    )
    emit(shown, insight.insight_records(table), args.format)


def _text(value: Any, template: str, convert: Any) -> str:
    """A table cell: blank when there is no value, never `None` or `nan`."""
    return "" if value is None or pd.isna(value) else template.format(convert(value))


def command_delivery(args: argparse.Namespace) -> None:
    db = open_data(args)
    # The delivery plan is the strategy's own: --force is checked, not counted by.
    chosen_force(db, args.force)
    period = parse_month(args.period)
    table = delivery.status_table(db, period)
    shown = table[["strand_name", *delivery.STATUS_COLUMNS, "pct_complete"]]
    emit(shown, delivery.status_records(table), args.format)


def command_demo(args: argparse.Namespace) -> None:
    from crimeprev.demo.generator import generate_demo

    root = data_root(args)
    if args.scale is not None:
        from crimeprev.demo.scale import ScaleError, generate_scaled_demo, scale_summary_lines

        try:
            scaled = generate_scaled_demo(root, args.scale, seed=args.seed)
        except ScaleError as error:
            raise UsageError(str(error)) from error
        print("\n".join(scale_summary_lines(scaled)))
        return
    summary = generate_demo(root, seed=args.seed)
    print(
        f"Wrote the demo extract to {root}: {summary.records_written:,} records "
        f"({summary.crimes_written:,} crimes, {summary.incidents_written:,} incidents, "
        f"{summary.asb_written:,} anti-social behaviour) over {summary.months_written} months, "
        f"and {summary.actions_written} delivery actions, in {summary.seconds_taken:.1f} s."
    )


def add_force_option(parser: argparse.ArgumentParser) -> None:
    """The --force option every command that counts records takes."""
    parser.add_argument(
        "--force",
        help="the force to count when the data holds several (default: the first, as on the "
        "dashboard)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="crimeprev",
        description="Crime Prevention Strategy figures from record-level crime data.",
    )
    parser.add_argument("--data-dir", help="data folder (default: $CRIMEPREV_DATA_DIR, else data/)")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="write the demo extract into the data folder")
    demo.add_argument("--seed", type=int, default=2022, help="random seed (default 2022)")
    demo.add_argument(
        "--scale",
        type=float,
        metavar="N",
        help="write N million records across several forces (the demo force and synthetic "
        "ones, a decade from 10 million), e.g. --scale 50",
    )
    demo.set_defaults(handler=command_demo)

    insight_parser = commands.add_parser(
        "insight", help="12-month counts against the year before and the baseline"
    )
    insight_parser.add_argument("--period", required=True, help="last month, YYYY-MM")
    insight_parser.add_argument("--strand", help="one strand id, e.g. knife-crime")
    insight_parser.add_argument(
        "--district", action="append", help="district name or slug; repeat for several"
    )
    add_force_option(insight_parser)
    insight_parser.add_argument("--format", choices=FORMATS, default="table")
    insight_parser.set_defaults(handler=command_insight)

    delivery_parser = commands.add_parser(
        "delivery", help="delivery-plan actions by status, per strand"
    )
    delivery_parser.add_argument("--period", required=True, help="month, YYYY-MM")
    add_force_option(delivery_parser)
    delivery_parser.add_argument("--format", choices=FORMATS, default="table")
    delivery_parser.set_defaults(handler=command_delivery)

    for name in COMMAND_MODULES:
        importlib.import_module(name).register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; user mistakes print one sentence and return 2."""
    args = build_parser().parse_args(argv)
    try:
        args.handler(args)
    except CrimeprevError as error:
        print(f"crimeprev: {error}", file=sys.stderr)
        return 2
    return 0
