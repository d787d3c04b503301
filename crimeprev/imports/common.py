"""What every importer shares: the summary it reports, the import log and quarantine files it
keeps, reading text files line by line in DuckDB, and the progress it shows.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crimeprev.aggregate import aggregates_current, build_aggregates
from crimeprev.config import Config
from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.periods import format_month, parse_month
from crimeprev.store import (
    RECORD_SCHEMA,
    import_lock,
    month_partition,
    recover_interrupted_writes,
    replace_months,
    scratch_dir,
    snapshot_root,
)

IMPORTS_FOLDER = "imports"
LOG_FILE = "log.jsonl"
RUNNING_FILE = "running.json"
QUARANTINE_FILE = "quarantine.parquet"
QUARANTINE_SCHEMA = pa.schema(
    [
        ("file", pa.string()),
        ("line_number", pa.int64()),
        ("reason", pa.string()),
        ("line", pa.string()),
    ]
)
# Reading a file as text: a file that is not UTF-8 is read with each undecodable byte replaced
# by this character, and every line holding it is set aside rather than loaded half-read.
REPLACEMENT_CHARACTER = "\ufffd"
NOT_UTF8_REASON = (
    "not valid UTF-8 text: the file may be in another encoding; save it as UTF-8 and import again"
)

Progress = Callable[[float, str], None]

# Coordinates a record in the United Kingdom can have (a box around Great Britain and Northern
# Ireland with its islands): a point outside it is a typing or projection mistake. Passed to
# the importers' row checks as query parameters.
UK_BOUNDS = {
    "latitude_min": 49.8,
    "latitude_max": 60.9,
    "longitude_min": -8.7,
    "longitude_max": 1.8,
}


class ImportFailed(CrimeprevError):
    """The import cannot go ahead; the message says why and what to do. Nothing was written."""


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that shows nothing."""


@dataclass
class FileReport:
    """What happened to one input file."""

    file: str
    rows_read: int = 0
    rows_loaded: int = 0
    rows_quarantined: int = 0
    blank_lines: int = 0
    months: list[str] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    problem: str | None = None

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ImportSummary:
    """What an import read, loaded and set aside, per file and in total."""

    kind: str
    data_dir: str
    import_id: str = field(
        default_factory=lambda: time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    )
    started_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S"))
    seconds: float = 0.0
    files: list[FileReport] = field(default_factory=list)
    skipped_files: list[dict[str, str]] = field(default_factory=list)
    months_written: list[str] = field(default_factory=list)
    months_unchanged: list[str] = field(default_factory=list)
    months_covered: list[str] = field(default_factory=list)
    missing_months: list[str] = field(default_factory=list)
    rows_by_district: dict[str, int] = field(default_factory=dict)
    quarantine_file: str | None = None
    notes: list[str] = field(default_factory=list)
    # finished, refused (a sentence in notes says why; nothing was written), failed, or
    # interrupted (entered by the next import when this one was killed).
    status: str = "finished"

    @property
    def rows_read(self) -> int:
        return sum(f.rows_read for f in self.files)

    @property
    def rows_loaded(self) -> int:
        return sum(f.rows_loaded for f in self.files)

    @property
    def rows_quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)

    @property
    def reasons(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for report in self.files:
            total.update(report.reasons)
        return dict(total.most_common())

    @property
    def failed_files(self) -> list[FileReport]:
        return [f for f in self.files if f.problem is not None]

    def as_json(self) -> dict[str, Any]:
        """The summary as JSON-ready data: per file and in total."""
        return {
            "import_id": self.import_id,
            "kind": self.kind,
            "status": self.status,
            "data_dir": self.data_dir,
            "started_at": self.started_at,
            "seconds": round(self.seconds, 3),
            "files": [f.as_json() for f in self.files],
            "skipped_files": self.skipped_files,
            "rows_read": self.rows_read,
            "rows_loaded": self.rows_loaded,
            "rows_quarantined": self.rows_quarantined,
            "reasons": self.reasons,
            "months_written": self.months_written,
            "months_unchanged": self.months_unchanged,
            "months_covered": self.months_covered,
            "missing_months": self.missing_months,
            "rows_by_district": self.rows_by_district,
            "quarantine_file": self.quarantine_file,
            "notes": self.notes,
        }


def load_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table) -> None:
    """Copy an Arrow table into the database as `name`, visible to every cursor."""
    staging = f"{name}_arrow"
    con.register(staging, table)
    try:
        con.execute(f"create or replace table {name} as select * from {staging}")
    finally:
        con.unregister(staging)


def imports_dir(root: Path) -> Path:
    return root / IMPORTS_FOLDER


def missing_months(covered: Iterable[date]) -> list[date]:
    """The months between the first and last covered month that have no data."""
    months = sorted(set(covered))
    if not months:
        return []
    present = set(months)
    gaps = []
    year, month = months[0].year, months[0].month
    while date(year, month, 1) < months[-1]:
        if date(year, month, 1) not in present:
            gaps.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return gaps


def record_months(summary: ImportSummary, covered: Iterable[date]) -> None:
    """Note the months the data now covers, and the gaps between them, on the summary."""
    months = sorted(set(covered))
    summary.months_covered = [format_month(m) for m in months]
    summary.missing_months = [format_month(m) for m in missing_months(months)]


def save_import(root: Path, summary: ImportSummary, quarantined: pa.Table | None) -> None:
    """Keep the summary in the import log and the set-aside rows beside it (a file, line
    number, reason and line per row; the checked rows' `source_file` names the file)."""
    folder = imports_dir(root) / summary.import_id
    folder.mkdir(parents=True, exist_ok=True)
    if quarantined is not None and "source_file" in quarantined.column_names:
        # The checked rows as the importers have them: keep what the quarantine file holds.
        quarantined = quarantined.select(["source_file", "line_number", "reason", "line"])
    if quarantined is not None and quarantined.num_rows:
        quarantined = quarantined.rename_columns(QUARANTINE_SCHEMA.names)
        pq.write_table(quarantined.cast(QUARANTINE_SCHEMA), folder / QUARANTINE_FILE)
        summary.quarantine_file = str((folder / QUARANTINE_FILE).relative_to(root))
    (folder / "summary.json").write_text(json.dumps(summary.as_json(), indent=2), encoding="utf-8")
    _append_log(root, summary.as_json())
    (folder / RUNNING_FILE).unlink(missing_ok=True)


def _append_log(root: Path, entry: dict[str, Any]) -> None:
    imports_dir(root).mkdir(parents=True, exist_ok=True)
    with (imports_dir(root) / LOG_FILE).open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry) + "\n")
        log.flush()
        os.fsync(log.fileno())


def _write_running(path: Path, entry: dict[str, Any]) -> None:
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    staged.write_text(json.dumps(entry), encoding="utf-8")
    staged.replace(path)


INTERRUPTED_BEFORE = (
    "The import was stopped before it switched its months in, so the data is as it was "
    "before it; run it again."
)
INTERRUPTED_AFTER = (
    "The import was stopped after it switched its months in: the data holds them, but its "
    "summary and the rows it set aside were not kept; run it again to have them."
)
INTERRUPTED_OTHER = (
    "The import was stopped before it finished; the data holds either everything it wrote "
    "or none of it. Run it again."
)


def recover_imports(root: Path) -> None:
    """Account for imports that were killed: each gets a log entry saying whether its months
    were switched in; what they left half-written and their temporary files are removed."""
    current = snapshot_root(root).name
    for running in sorted(imports_dir(root).glob(f"*/{RUNNING_FILE}")):
        try:
            entry = json.loads(running.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            entry = {}
        if not isinstance(entry, dict):
            entry = {}
        snapshot = entry.get("snapshot")
        if entry.get("kind") in ("police-uk", "records"):
            note = INTERRUPTED_AFTER if snapshot and snapshot == current else INTERRUPTED_BEFORE
        else:
            note = INTERRUPTED_OTHER
        _append_log(
            root,
            {
                "import_id": entry.get("import_id", running.parent.name),
                "kind": entry.get("kind", "unknown"),
                "status": "interrupted",
                "started_at": entry.get("started_at"),
                "data_dir": str(root),
                "files": [],
                "rows_read": 0,
                "rows_loaded": 0,
                "rows_quarantined": 0,
                "months_written": [],
                "notes": [note],
            },
        )
        running.unlink()
    recover_interrupted_writes(root)


@contextmanager
def running_import(root: Path, summary: ImportSummary) -> Iterator[Path]:
    """Hold the data folder's import lock for one import: first account for any import that
    was killed, then mark this one as running (so that, killed, it is still accounted for by
    the next), and yield a scratch folder inside the data folder. A refusal is entered in the
    log with its sentence."""
    with import_lock(root):
        recover_imports(root)
        folder = imports_dir(root) / summary.import_id
        folder.mkdir(parents=True, exist_ok=True)
        running = folder / RUNNING_FILE
        _write_running(
            running,
            {
                "import_id": summary.import_id,
                "kind": summary.kind,
                "started_at": summary.started_at,
            },
        )
        scratch = scratch_dir(root, summary.import_id)
        try:
            yield scratch
        except Exception as error:
            summary.status = "refused" if isinstance(error, ImportFailed) else "failed"
            summary.notes.append(str(error))
            running.unlink(missing_ok=True)
            _append_log(root, summary.as_json())
            if not any(folder.iterdir()):
                folder.rmdir()
            raise
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        running.unlink(missing_ok=True)


def mark_staged(root: Path, summary: ImportSummary, snapshot: str) -> None:
    """Note on the running import which snapshot it is about to switch in."""
    _write_running(
        imports_dir(root) / summary.import_id / RUNNING_FILE,
        {
            "import_id": summary.import_id,
            "kind": summary.kind,
            "started_at": summary.started_at,
            "snapshot": snapshot,
        },
    )


def import_log(root: Path) -> list[dict[str, Any]]:
    """Every import's summary, oldest first; lines that cannot be read are skipped."""
    path = imports_dir(root) / LOG_FILE
    if not path.is_file():
        return []
    entries = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict):
            entries.append(entry)
    return entries


def quarantined_rows(root: Path, import_id: str) -> pa.Table:
    """The rows an import set aside, with file, line number, reason and the line itself."""
    path = imports_dir(root) / import_id / QUARANTINE_FILE
    if not path.is_file():
        return QUARANTINE_SCHEMA.empty_table()
    return pq.read_table(path)


def months_of(values: Iterable[str]) -> list[date]:
    """Months written `YYYY-MM`, as dates."""
    return [parse_month(v) for v in values]


def existing_other_forces(root: Path, month: date, forces: set[str]) -> pa.Table | None:
    """The records already held for `month` from forces other than `forces`: an import
    replaces only its own force's records in a month."""
    part = month_partition(root, month) / "part-0.parquet"
    if not part.is_file():
        return None
    kept = pq.read_table(part)
    mask = pc.invert(pc.is_in(kept["force"], value_set=pa.array(sorted(forces), pa.string())))
    kept = kept.filter(mask)
    return kept if kept.num_rows else None


def write_record_months(
    root: Path,
    records: pa.Table,
    config: Config,
    summary: ImportSummary,
    before_commit: Callable[[], None] | None = None,
) -> tuple[list[date], list[date]]:
    """Replace each month in `records` (RECORD_SCHEMA columns) as one all-or-nothing change
    that readers see at once, keeping other forces' records of those months; the monthly
    tables are rebuilt in the new snapshot before it is switched in. Returns the months
    written and the months whose data was already exactly this."""
    if not records.num_rows:
        if before_commit is not None:
            before_commit()
        return [], []
    records = records.select(RECORD_SCHEMA.names).cast(RECORD_SCHEMA)
    tables: dict[date, pa.Table] = {}
    for month in sorted(set(records["month_start"].to_pylist())):
        mine = records.filter(pc.equal(records["month_start"], pa.scalar(month, pa.date32())))
        kept = existing_other_forces(root, month, set(mine["force"].to_pylist()))
        tables[month] = (
            pa.concat_tables([kept.cast(RECORD_SCHEMA), mine]) if kept is not None else mine
        )
    full_rebuild = not aggregates_current(root, config)

    def prepare(snapshot: Path, months: list[date]) -> None:
        build_aggregates(snapshot, months=None if full_rebuild else months, config=config)

    written = replace_months(
        root,
        tables,
        before_commit=before_commit,
        prepare=prepare,
        on_staged=lambda snapshot: mark_staged(root, summary, snapshot),
    )
    return written, [m for m in tables if m not in written]


def set_aside_known_ids(db: Database, rows: pa.Table, what: str) -> pa.Table:
    """Set aside each row that would load a record id the data folder already holds in a
    month (and force) this import does not replace: an id stays unique across imports.
    `what` names the id in the reason (e.g. "Crime ID")."""
    loaded = rows.filter(pc.is_null(rows["reason"]))
    if not loaded.num_rows:
        return rows
    incoming = loaded.select(["record_id", "month_start", "force"])
    load_table(db.connection, "import_incoming", incoming)
    try:
        held = db.query_arrow("import_known_record_ids")
    finally:
        db.connection.execute("drop table import_incoming")
    if not held.num_rows:
        return rows
    months = dict(
        zip(
            held["record_id"].to_pylist(),
            [format_month(m) for m in held["held_month"].to_pylist()],
            strict=True,
        )
    )
    reasons = [
        reason
        if reason is not None or record_id not in months
        else f"{what} already loaded in {months[record_id]} by an earlier import"
        for record_id, reason in zip(
            rows["record_id"].to_pylist(), rows["reason"].to_pylist(), strict=True
        )
    ]
    index = rows.column_names.index("reason")
    return rows.set_column(index, "reason", pa.array(reasons, pa.string()))


def tally_files(summary: ImportSummary, rows: pa.Table, month_column: str | None = None) -> None:
    """Fill each file's report from the checked rows (`source_file`, `reason`, and the month
    column when there is one): rows read, loaded and set aside, reasons, and months loaded."""
    read = {
        item["source_file"]: int(item["source_file_count"])
        for item in rows.group_by("source_file").aggregate([("source_file", "count")]).to_pylist()
    }
    quarantined = rows.filter(pc.is_valid(rows["reason"]))
    reasons: dict[str, dict[str, int]] = {}
    grouped = quarantined.group_by(["source_file", "reason"]).aggregate([("reason", "count")])
    for item in grouped.to_pylist():
        reasons.setdefault(item["source_file"], {})[item["reason"]] = int(item["reason_count"])
    months: dict[str, list[str]] = {}
    if month_column is not None:
        loaded = rows.filter(pc.is_null(rows["reason"]))
        for item in loaded.group_by(["source_file", month_column]).aggregate([]).to_pylist():
            months.setdefault(item["source_file"], []).append(format_month(item[month_column]))
    for report in summary.files:
        report.rows_read = read.get(report.file, 0)
        mine = reasons.get(report.file, {})
        report.reasons = dict(sorted(mine.items(), key=lambda item: -item[1]))
        report.rows_quarantined = sum(mine.values())
        report.rows_loaded = report.rows_read - report.rows_quarantined
        if month_column is not None:
            report.months = sorted(months.get(report.file, []))
