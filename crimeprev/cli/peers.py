"""`crimeprev peers`: the force beside its peer group and England and Wales for one offence
group, from the imported ONS police force area tables (the Compare page's table)."""

from __future__ import annotations

import argparse
import csv
import sys
from typing import Any

import pandas as pd

from crimeprev.aggregate import open_database
from crimeprev.cli.main import FORMATS, data_root, emit
from crimeprev.figures.peers import PEER_JSON_KEYS, outlier_sentence, peer_records, peer_table


def _shown(value: Any, marker: Any, digits: int) -> str:
    if marker:
        return f"[{marker}]"
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return f"{value:,.{digits}f}"


def _rate(value: Any, marker: Any) -> str:
    if not marker and value is not None and 0 < abs(value) < 0.1:
        return f"{value:.3g}"
    return _shown(value, marker, 2)


def command_peers(args: argparse.Namespace) -> None:
    """Print the comparison; the peer group and the verdict in words go to stderr for tables."""
    db = open_database(data_root(args))
    table = peer_table(db, args.offence, args.force, args.edition)
    records = peer_records(table, everyone=args.all)
    if args.format == "table":
        print(
            f"{table.offence_group}, {table.edition.label()}: rates {table.rate_label}. "
            f"Peer group: {table.group.label}.",
            file=sys.stderr,
        )
        shown = pd.DataFrame(
            {
                "force": [r["force"] for r in records],
                "count": [_shown(r["count"], None, 0) for r in records],
                "previous_count": [_shown(r["previous_count"], None, 0) for r in records],
                "pct_change": [_shown(r["pct_change"], r["pct_change_marker"], 1) for r in records],
                "population": [_shown(r["population"], None, 0) for r in records],
                "rate_per_1000": [_rate(r["rate_per_1000"], r["rate_marker"]) for r in records],
                "rank": [
                    "" if r["rank"] is None else f"{r['rank']}/{r['ranked_of']}" for r in records
                ],
                "funnel": [r["funnel"] or "" for r in records],
                "allowing_for_spread": [r["funnel_overdispersed"] or "" for r in records],
            }
        )
        print(shown.to_string(index=False))
        print(outlier_sentence(table), file=sys.stderr)
        return
    if args.format == "csv":
        columns = [*PEER_JSON_KEYS, "pct_change_marker", "rate_marker", "funnel_overdispersed"]
        writer = csv.DictWriter(sys.stdout, columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return
    emit(pd.DataFrame(records), records, args.format)


def register(commands: Any) -> None:
    """Add the `peers` subcommand."""
    parser = commands.add_parser(
        "peers",
        help="the force beside its peers and England and Wales (ONS police force area tables)",
        description=(
            "For one offence group: each force's published count, count the year before, "
            "% change, population (households for residential burglary), rate per 1,000, rank "
            "among the forces and where it falls on the funnel plot around the England and "
            "Wales rate (within, above or below the 95% or 99.8% limits)."
        ),
    )
    parser.add_argument("--offence", required=True, help="offence group, e.g. 'Sexual offences'")
    parser.add_argument(
        "--force", help="the police force area to compare (default: [peers] force in config)"
    )
    parser.add_argument("--edition", help="the edition, YYYY-MM (default: the latest held)")
    parser.add_argument(
        "--all", action="store_true", help="every force, not only the force and its peers"
    )
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.set_defaults(handler=command_peers)
