"""The CSV files the dashboard used to read the leads' words from, in and out of the store:
`commentary/commentary.csv`, `activity/metrics.csv`, `delivery/actions.csv` and
`delivery/status.csv` (columns in data/README.md). They are imported once, as one change that
either loads every row or, when any row is wrong, nothing; and exported, from the approved or
the latest content, for anyone who keeps them.
"""

from __future__ import annotations

import csv
import os
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

from crimeprev.periods import PeriodError
from crimeprev.updates.content import (
    Action,
    Commentary,
    FieldValue,
    Metric,
    checked,
    encode,
    quarter_key,
    quarter_of,
)
from crimeprev.updates.schema import field_revision, strand_update, update_audit
from crimeprev.updates.store import UpdateError, UpdateStore, now
from crimeprev.updates.workflow import Selection, folded_fields

COMMENTARY_FILE = Path("commentary") / "commentary.csv"
METRICS_FILE = Path("activity") / "metrics.csv"
ACTIONS_FILE = Path("delivery") / "actions.csv"
STATUS_FILE = Path("delivery") / "status.csv"
COLUMNS = {
    COMMENTARY_FILE: ("strand_id", "period", "commentary"),
    METRICS_FILE: (
        "strand_id",
        "operation",
        "period_label",
        "period_end",
        "metric",
        "value",
        "unit",
    ),
    ACTIONS_FILE: ("action_id", "strand_id", "title", "target_month", "completed_month"),
    STATUS_FILE: ("action_id", "quarter_end", "status"),
}
MAX_PROBLEMS_SHOWN = 5


class ImportRefused(UpdateError):
    """The CSV files cannot be imported; nothing was written."""


@dataclass
class CsvTransfer:
    """What an import or export moved: rows per file, and the updates touched."""

    rows: dict[str, int] = field(default_factory=dict)
    updates: int = 0


@dataclass
class _Entry:
    strand_id: str
    quarter: str
    value: FieldValue
    ordinal: int


def _read(name: Path, path: Path, problems: list[str]) -> list[tuple[int, dict[str, str]]]:
    wanted = COLUMNS[name]
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            missing = [c for c in wanted if c not in header]
            if missing:
                problems.append(f"{path}: the columns {', '.join(missing)} are missing.")
                return []
            rows = []
            for row in reader:
                if None in row or any(row[c] is None for c in wanted):
                    problems.append(f"{path}, line {reader.line_num}: wrong number of fields.")
                    continue
                rows.append((reader.line_num, {c: row[c] for c in wanted}))
            return rows
    except UnicodeDecodeError:
        problems.append(f"{path}: the file is not UTF-8 text.")
        return []


def _gather(store: UpdateStore, root: Path) -> tuple[list[_Entry], CsvTransfer]:
    config = store.config
    strand_ids = {s.id for s in config.strands}
    problems: list[str] = []
    transfer = CsvTransfer()
    files = {name: root / name for name in COLUMNS if (root / name).is_file()}
    if not files:
        raise ImportRefused(
            f"There is none of the files {', '.join(str(n) for n in COLUMNS)} in {root}."
        )
    read = {name: _read(name, path, problems) for name, path in files.items()}
    entries: list[_Entry] = []
    first_lines: dict[tuple[str, str, str], int] = {}

    def add(
        path: Path,
        line: int,
        strand_id: str,
        quarter_text: str,
        value: FieldValue,
        ordinal: int | None = None,
    ) -> None:
        where = f"{path}, line {line}"
        if strand_id not in strand_ids:
            problems.append(f"{where}: unknown strand '{strand_id}'.")
            return
        try:
            quarter = quarter_key(quarter_text)
            value = checked(value, config, quarter)
        except (UpdateError, PeriodError) as error:
            problems.append(f"{where}: {error}")
            return
        first = first_lines.setdefault((strand_id, quarter, value.key), line)
        if first != line:
            problems.append(
                f"{where}: repeats line {first} (the same strand, quarter and "
                f"{type(value).__name__.lower()}); keep one of them."
            )
            return
        entries.append(_Entry(strand_id, quarter, value, ordinal or line))

    for line, row in read.get(COMMENTARY_FILE, []):
        add(
            files[COMMENTARY_FILE],
            line,
            row["strand_id"],
            row["period"],
            Commentary(row["commentary"]),
        )
    for line, row in read.get(METRICS_FILE, []):
        try:
            number = float(row["value"])
            quarter = quarter_of(row["period_end"])
        except (ValueError, PeriodError) as error:
            problems.append(f"{files[METRICS_FILE]}, line {line}: {error}")
            continue
        metric = Metric(
            row["operation"],
            row["period_label"],
            row["period_end"],
            row["metric"],
            number,
            row["unit"],
        )
        add(files[METRICS_FILE], line, row["strand_id"], quarter, metric)
    statuses: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for line, row in read.get(STATUS_FILE, []):
        statuses.setdefault(row["action_id"].strip(), []).append((line, row))
    actions: dict[str, tuple[int, dict[str, str]]] = {}
    for line, row in read.get(ACTIONS_FILE, []):
        earlier = actions.setdefault(row["action_id"].strip(), (line, row))[0]
        if earlier != line:
            problems.append(
                f"{files[ACTIONS_FILE]}, line {line}: the action id {row['action_id']} is "
                f"already used on line {earlier}."
            )
    for action_id in statuses.keys() - actions.keys():
        line = statuses[action_id][0][0]
        problems.append(
            f"{files[STATUS_FILE]}, line {line}: action {action_id} is not in {ACTIONS_FILE}."
        )
    quarters = sorted({row["quarter_end"] for rows in statuses.values() for _, row in rows})
    for action_id, (line, row) in actions.items():
        reported = statuses.get(action_id) or []
        # An action nobody has reported on yet still belongs to a quarter: the latest one.
        where = [(files[STATUS_FILE], n, status) for n, status in reported]
        if not reported:
            try:
                fallback = quarters[-1] if quarters else quarter_of(row["target_month"])
            except PeriodError as error:
                problems.append(f"{files[ACTIONS_FILE]}, line {line}: {error}")
                continue
            where = [(files[ACTIONS_FILE], line, {"quarter_end": fallback, "status": ""})]
        for path, where_line, status in where:
            action = Action(
                action_id,
                row["title"],
                row["target_month"],
                row["completed_month"] or None,
                status["status"] or None,
            )
            # Actions are exported in the order of actions.csv, whichever line reported them.
            add(path, where_line, row["strand_id"], status["quarter_end"], action, line)
    if problems:
        shown = "; ".join(problems[:MAX_PROBLEMS_SHOWN])
        more = len(problems) - MAX_PROBLEMS_SHOWN
        extra = f" (and {more} more)" if more > 0 else ""
        raise ImportRefused(f"Nothing was imported: {shown.rstrip('.')}{extra}.")
    transfer.rows = {str(name): len(rows) for name, rows in read.items()}
    return entries, transfer


def import_csv(store: UpdateStore, root: Path, actor: str, approved: bool = True) -> CsvTransfer:
    """Load the CSV files under `root` into an empty store as one change. Their content is
    recorded as approved by `actor` (they are what was published), or as drafts."""
    entries, transfer = _gather(store, root)
    updates = list(dict.fromkeys((e.strand_id, e.quarter) for e in entries))
    if not updates:
        return transfer
    with store.begin() as connection:
        held = connection.execute(sa.select(sa.func.count()).select_from(strand_update)).scalar()
        if held:
            raise ImportRefused(
                f"The update store already holds {held} strand updates; the CSV files are "
                "imported once, into an empty store. Use export-csv to write them out instead."
            )
        try:
            _insert_imported(connection, entries, updates, actor, approved, root)
        except sa.exc.IntegrityError as error:
            raise ImportRefused(
                "Another import filled the update store at the same moment; this one wrote nothing."
            ) from error
    transfer.updates = len(updates)
    return transfer


def _insert_imported(
    connection: sa.Connection,
    entries: list[_Entry],
    updates: list[tuple[str, str]],
    actor: str,
    approved: bool,
    root: Path,
) -> None:
    at = now()
    state = "approved" if approved else "draft"
    connection.execute(
        strand_update.insert(),
        [
            {
                "strand_id": strand_id,
                "quarter_end": quarter,
                "state": state,
                "content_version": 1,
                "row_version": 1,
                "approved_version": 1 if approved else None,
                "approved_by": actor if approved else None,
                "approved_at": at if approved else None,
                "changed_by": actor,
                "changed_at": at,
            }
            for strand_id, quarter in updates
        ],
    )
    connection.execute(
        field_revision.insert(),
        [
            {
                "strand_id": e.strand_id,
                "quarter_end": e.quarter,
                "field": e.value.key,
                "content_version": 1,
                "value": encode(e.value),
                "ordinal": e.ordinal,
                "written_by": actor,
                "written_at": at,
            }
            for e in entries
        ],
    )
    connection.execute(
        update_audit.insert(),
        [
            {
                "strand_id": strand_id,
                "quarter_end": quarter,
                "action": "imported",
                "from_state": None,
                "to_state": state,
                "content_version": 1,
                "actor": actor,
                "at": at,
                "comment": f"imported from the CSV files in {root}",
            }
            for strand_id, quarter in updates
        ],
    )


def _number_text(value: float | int) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def _write(path: Path, header: tuple[str, ...], rows: list[list[str]]) -> None:
    """Write a CSV file beside its old self and move it into place, so a reader never sees
    half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    with staging.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
        handle.flush()
        os.fsync(handle.fileno())
    staging.replace(path)


def export_rows(
    store: UpdateStore, selection: Selection = "approved"
) -> dict[Path, list[list[str]]]:
    """The four files' rows from the store's approved (or latest) content."""
    with store.connect() as connection:
        folded = folded_fields(connection, selection)
    commentary: list[tuple[int, list[str]]] = []
    metrics: list[tuple[int, list[str]]] = []
    actions: dict[str, list[tuple[str, int, str, Action]]] = {}
    for (strand_id, quarter), (_row, fields) in folded.items():
        for value, ordinal in fields.values():
            if isinstance(value, Commentary):
                commentary.append((ordinal, [strand_id, quarter, value.text]))
            elif isinstance(value, Metric):
                metrics.append(
                    (
                        ordinal,
                        [
                            strand_id,
                            value.operation,
                            value.period_label,
                            value.period_end,
                            value.metric,
                            _number_text(value.value),
                            value.unit,
                        ],
                    )
                )
            elif isinstance(value, Action):
                actions.setdefault(value.action_id, []).append((quarter, ordinal, strand_id, value))
    order = sorted(actions, key=lambda a: (min(o for _, o, _, _ in actions[a]), a))
    action_rows = []
    status_rows = []
    for action_id in order:
        by_quarter = sorted(actions[action_id], key=lambda item: item[0])
        _, _, strand_id, latest = by_quarter[-1]
        action_rows.append(
            [
                action_id,
                strand_id,
                latest.title,
                latest.target_month,
                latest.completed_month or "",
            ]
        )
        status_rows += [
            [action_id, quarter, value.status]
            for quarter, _, _, value in by_quarter
            if value.status
        ]
    return {
        COMMENTARY_FILE: [row for _, row in sorted(commentary, key=lambda item: item[0])],
        METRICS_FILE: [row for _, row in sorted(metrics, key=lambda item: item[0])],
        ACTIONS_FILE: action_rows,
        STATUS_FILE: status_rows,
    }


def export_csv(store: UpdateStore, out: Path, selection: Selection = "approved") -> CsvTransfer:
    """Write the four CSV files under `out` (a data folder's layout) from the store. An empty
    store writes nothing, so that files kept elsewhere are never replaced by empty ones."""
    with store.connect() as connection:
        held = connection.execute(sa.select(sa.func.count()).select_from(strand_update)).scalar()
    if not held:
        raise UpdateError(
            "The update store is empty: import the CSV files first (crimeprev updates "
            "import-csv); nothing was written."
        )
    transfer = CsvTransfer()
    for name, rows in export_rows(store, selection).items():
        _write(out / name, COLUMNS[name], rows)
        transfer.rows[str(name)] = len(rows)
    return transfer


def transfer_lines(transfer: CsvTransfer, verb: str, root: Path) -> list[str]:
    """A summary a person reads: rows per file."""
    lines = [f"{verb} {rows:,} rows: {root / name}" for name, rows in transfer.rows.items()]
    if transfer.updates:
        lines.append(f"{transfer.updates} strand updates (strand x quarter) in the store.")
    return lines
