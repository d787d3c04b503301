"""`crimeprev signals`: the spike finder's alerts for one month, as the Signals page lists them."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from crimeprev.cli.main import FORMATS, add_force_option, emit, open_data, view_of
from crimeprev.figures.signals import spike_records, spike_report
from crimeprev.statistics.spikes import SPIKE_JSON_KEYS


def command_signals(args: argparse.Namespace) -> None:
    """Print the month's alerts; the threshold and what was tested go to stderr for tables."""
    db = open_data(args)
    view = view_of(db, args)
    # SpikesUnavailable is a PeriodError, which `main` reports as one sentence.
    report = spike_report(db, view.period, view.district_codes(db.config), force=view.force)
    shown = report.alerts[
        [
            "measure_id",
            "district_name",
            "count_records",
            "expected_count",
            "excess_count",
            "p_value",
            "reading",
        ]
    ].round({"expected_count": 1, "excess_count": 1})
    if args.format == "table":
        print(report.threshold_text(), file=sys.stderr)
        if report.alerts.empty:
            print("No count is improbably high for its expected level.")
            return
    if args.format == "csv" and report.alerts.empty:
        print(",".join(SPIKE_JSON_KEYS))
        return
    emit(shown, spike_records(report), args.format)


def register(commands: Any) -> None:
    """Add the `signals` subcommand."""
    parser = commands.add_parser(
        "signals", help="measure x district counts improbably high for the month (spike finder)"
    )
    parser.add_argument("--period", required=True, help="the month to test, YYYY-MM")
    parser.add_argument(
        "--district", action="append", help="district name or slug; repeat for several"
    )
    add_force_option(parser)
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(handler=command_signals)
