"""`crimeprev updates ...`: the quarterly update store without the dashboard: import the CSV
files once, export them again, see where each strand's update stands, its history, its audit
trail and the checks of its commentary."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd

from crimeprev.cli.main import FORMATS, UsageError, data_root, emit, open_data
from crimeprev.updates import checks, csvfiles, workflow
from crimeprev.updates.content import encode, quarter_key
from crimeprev.updates.store import UpdateError, UpdateStore, open_store


def _store(args: argparse.Namespace) -> UpdateStore:
    return open_store(data_root(args), url=args.database_url)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _records(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in row.items()} for row in rows]


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as a table to print, blanks where a value is missing."""
    return pd.DataFrame(rows).astype(object).fillna("")


def command_import(args: argparse.Namespace) -> None:
    store = _store(args)
    source = Path(args.source).expanduser().resolve() if args.source else data_root(args)
    transfer = csvfiles.import_csv(store, source, args.actor, approved=not args.as_draft)
    print("\n".join(csvfiles.transfer_lines(transfer, "Imported", source)))


def command_export(args: argparse.Namespace) -> None:
    store = _store(args)
    out = Path(args.out).expanduser().resolve() if args.out else data_root(args)
    transfer = csvfiles.export_csv(store, out, args.content)
    print("\n".join(csvfiles.transfer_lines(transfer, "Wrote", out)))


def command_status(args: argparse.Namespace) -> None:
    store = _store(args)
    rows = _records(workflow.quarter_status(store, quarter_key(args.quarter)))
    emit(_table(rows), rows, args.format)


def command_history(args: argparse.Namespace) -> None:
    store = _store(args)
    rows = [
        {
            "revision_id": r.revision_id,
            "field": r.field,
            "content_version": r.content_version,
            "written_by": r.written_by,
            "written_at": r.written_at.isoformat(),
            "value": None if r.value is None else json.loads(encode(r.value)),
        }
        for r in workflow.history(store, args.strand, args.quarter, args.field)
    ]
    shown = pd.DataFrame(rows, columns=list(rows[0]) if rows else ["revision_id"])
    if not shown.empty:
        shown["value"] = [str(v)[:60] for v in shown["value"]]
    emit(shown, rows, args.format)


def command_audit(args: argparse.Namespace) -> None:
    store = _store(args)
    rows = [
        {
            "audit_id": e.audit_id,
            "strand_id": e.strand_id,
            "quarter_end": e.quarter_end,
            "action": e.action,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "content_version": e.content_version,
            "actor": e.actor,
            "at": e.at.isoformat(),
            "comment": e.comment,
        }
        for e in workflow.audit_trail(store, args.strand, args.quarter)
    ]
    emit(_table(rows), rows, args.format)


def command_check(args: argparse.Namespace) -> None:
    store = _store(args)
    db = open_data(args)
    quarter = quarter_key(args.quarter)
    content = workflow.quarter_content(store, quarter, args.content)
    strands = [args.strand] if args.strand else list(content)
    rows = []
    for strand_id in strands:
        strand_content = content.get(strand_id)
        if strand_content is None:
            continue
        findings = checks.check_commentary(db, strand_id, quarter, strand_content.commentary or "")
        for finding in findings:
            rows.append(
                {
                    "strand_id": strand_id,
                    "stated": finding.stated,
                    "verdict": finding.verdict,
                    "measure_id": finding.measure_id,
                    "comparison": finding.comparison,
                    "computed": finding.computed,
                    "message": finding.message,
                }
            )
        for action in checks.check_actions(strand_content.actions, quarter):
            rows.append(
                {
                    "strand_id": strand_id,
                    "stated": action.action_id,
                    "verdict": action.verdict,
                    "measure_id": None,
                    "comparison": None,
                    "computed": None,
                    "message": action.message,
                }
            )
    emit(_table(rows), rows, args.format)
    if any(r["verdict"] in ("differs", "wrong direction", "inconsistent") for r in rows):
        raise SystemExit(1)


def _guarded(handler: Callable[[argparse.Namespace], None]) -> Callable[[argparse.Namespace], None]:
    def run(args: argparse.Namespace) -> None:
        try:
            handler(args)
        except UpdateError as error:
            raise UsageError(str(error)) from error

    return run


def register(commands: Any) -> None:
    """Add the `updates` command group."""
    parser = commands.add_parser(
        "updates", help="the quarterly update store: import, export, status, history, checks"
    )
    parser.add_argument(
        "--database-url",
        help="the store's address (default: CRIMEPREV_DATABASE_URL, else database_url in "
        "config/updates.toml, else updates.db in the data folder)",
    )
    group = parser.add_subparsers(dest="updates_command", required=True)

    importing = group.add_parser("import-csv", help="load the CSV files into an empty store, once")
    importing.add_argument("--from", dest="source", help="folder holding the files (default: data)")
    importing.add_argument("--as", dest="actor", default="CSV import", help="recorded author")
    importing.add_argument(
        "--as-draft", action="store_true", help="import as drafts rather than approved content"
    )
    importing.set_defaults(handler=_guarded(command_import))

    exporting = group.add_parser("export-csv", help="write the CSV files from the store")
    exporting.add_argument("--out", help="folder to write them under (default: the data folder)")
    exporting.add_argument("--content", choices=("approved", "latest"), default="approved")
    exporting.set_defaults(handler=_guarded(command_export))

    status = group.add_parser("status", help="where each strand's update for a quarter stands")
    status.add_argument("--quarter", required=True, help="the quarter's last month, YYYY-MM")
    status.add_argument("--format", choices=FORMATS, default="table")
    status.set_defaults(handler=_guarded(command_status))

    history = group.add_parser("history", help="every value of a strand update's fields")
    history.add_argument("--strand", required=True)
    history.add_argument("--quarter", required=True, help="the quarter's last month, YYYY-MM")
    history.add_argument("--field", help="one field, e.g. commentary")
    history.add_argument("--format", choices=FORMATS, default="table")
    history.set_defaults(handler=_guarded(command_history))

    audit = group.add_parser("audit", help="the recorded transitions")
    audit.add_argument("--strand")
    audit.add_argument("--quarter", help="the quarter's last month, YYYY-MM")
    audit.add_argument("--format", choices=FORMATS, default="table")
    audit.set_defaults(handler=_guarded(command_audit))

    check = group.add_parser(
        "check",
        help="compare the figures stated in the commentary with the data (exit 1 if any differ)",
    )
    check.add_argument("--quarter", required=True, help="the quarter's last month, YYYY-MM")
    check.add_argument("--strand")
    check.add_argument("--content", choices=("approved", "latest"), default="latest")
    check.add_argument("--format", choices=FORMATS, default="table")
    check.set_defaults(handler=_guarded(command_check))
