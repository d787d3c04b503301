"""Where the data lives and how its files are laid out.

    <data>/records/month=YYYY-MM/part-0.parquet   record-level crimes, incidents and ASB
    <data>/aggregates/*.parquet                    monthly tables built from the records
    <data>/delivery/actions.csv, status.csv        the delivery plan
    <data>/activity/metrics.csv                    operational results
    <data>/commentary/commentary.csv               the lead's commentary per strand and period
    <data>/imports/log.jsonl, <id>/                each import's summary and set-aside rows

The data folder is `data/` in the repository unless `CRIMEPREV_DATA_DIR` names another; a
process started with `CRIMEPREV_READ_ONLY=1` never writes to it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crimeprev.errors import CrimeprevError
from crimeprev.periods import format_month

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_VARIABLE = "CRIMEPREV_DATA_DIR"
# Set for the processes `make serve` starts: they read the data folder and never write to it.
READ_ONLY_VARIABLE = "CRIMEPREV_READ_ONLY"

RECORD_SCHEMA = pa.schema(
    [
        pa.field("record_id", pa.string(), nullable=False),
        pa.field("force", pa.string(), nullable=False),
        pa.field("month_start", pa.date32(), nullable=False),
        pa.field("record_kind", pa.string(), nullable=False),
        pa.field("district_code", pa.string(), nullable=False),
        pa.field("crime_type", pa.string(), nullable=False),
        pa.field("is_knife_enabled", pa.bool_(), nullable=False),
        pa.field("is_domestic_abuse", pa.bool_(), nullable=False),
        pa.field("is_hate_crime", pa.bool_(), nullable=False),
        pa.field("is_night_time_economy", pa.bool_(), nullable=False),
        pa.field("is_online", pa.bool_(), nullable=False),
        pa.field("is_child_sexual_abuse", pa.bool_(), nullable=False),
        pa.field("lsoa_code", pa.string()),
        pa.field("latitude", pa.float64()),
        pa.field("longitude", pa.float64()),
        pa.field("outcome", pa.string()),
    ]
)


def data_dir() -> Path:
    """The data folder in use."""
    configured = os.environ.get(DATA_DIR_VARIABLE)
    return Path(configured).expanduser().resolve() if configured else REPOSITORY_ROOT / "data"


def data_read_only() -> bool:
    """Whether this process only reads the data folder (`CRIMEPREV_READ_ONLY=1`)."""
    return os.environ.get(READ_ONLY_VARIABLE, "") not in ("", "0")


def records_dir(root: Path) -> Path:
    return root / "records"


def aggregates_dir(root: Path) -> Path:
    return root / "aggregates"


def month_partition(root: Path, month: date) -> Path:
    return records_dir(root) / f"month={format_month(month)}"


def has_records(root: Path) -> bool:
    """Whether the data folder holds any record-level data yet."""
    folder = records_dir(root)
    return folder.is_dir() and any(folder.glob("month=*/*.parquet"))


def write_month(root: Path, month: date, table: pa.Table) -> Path:
    """Replace one month's records atomically: write beside it, then swap folders."""
    table = table.cast(RECORD_SCHEMA)
    target = month_partition(root, month)
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = target.parent / f".staging-{target.name}-{uuid.uuid4().hex}"
    staging.mkdir()
    pq.write_table(table, staging / "part-0.parquet", compression="zstd")
    retired = target.parent / f".retired-{target.name}-{uuid.uuid4().hex}"
    if target.exists():
        target.rename(retired)
    staging.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
    return target


def write_table_atomically(table: pa.Table, path: Path) -> None:
    """Write a Parquet file so readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    pq.write_table(table, staging, compression="zstd")
    staging.replace(path)


class ImportInProgress(CrimeprevError, RuntimeError):
    """Another import is writing to the same data folder."""


@contextmanager
def import_lock(root: Path) -> Iterator[None]:
    """Hold the data folder's import lock: one import at a time writes records."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".import.lock").open("w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as error:
            raise ImportInProgress(
                f"Another import is writing to {root}; wait for it to finish and try again."
            ) from error
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _journal_steps(journal: Path) -> list[dict[str, str]]:
    steps = json.loads(journal.read_text(encoding="utf-8"))
    return [step for step in steps if isinstance(step, dict)]


def _finish_journal(journal: Path) -> None:
    """Carry out a journal's swaps; each step can be repeated, so a crash mid-way is harmless."""
    folder = journal.parent
    for step in _journal_steps(journal):
        target, staged, retired = (folder / step[k] for k in ("target", "staged", "retired"))
        if staged.exists():
            if target.exists() and not retired.exists():
                target.rename(retired)
            staged.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    journal.unlink()


def recover_interrupted_writes(root: Path) -> None:
    """Finish swaps an interrupted import had committed to; drop files it had not."""
    folder = records_dir(root)
    if not folder.is_dir():
        return
    for journal in sorted(folder.glob(".journal-*.json")):
        _finish_journal(journal)
    for leftover in folder.glob(".journal-*.pending"):
        leftover.unlink(missing_ok=True)
    for leftover in folder.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    for leftover in folder.glob(".retired-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def replace_months(
    root: Path,
    tables: Mapping[date, pa.Table],
    before_commit: Callable[[], None] | None = None,
) -> list[date]:
    """Replace several months' records as one change: all of them or, if anything fails
    before the commit point, none. Months whose file would not change are left alone.

    Every month is first written beside the records; a journal naming the swaps is then
    written (the commit point) and carried out. An interrupted swap is finished by
    `recover_interrupted_writes`. Returns the months actually replaced.
    """
    folder = records_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    batch = uuid.uuid4().hex
    steps: list[dict[str, str]] = []
    changed: list[date] = []
    try:
        for month, table in sorted(tables.items()):
            key = format_month(month)
            staged = folder / f".staging-{batch}-{key}"
            staged.mkdir()
            part = staged / "part-0.parquet"
            pq.write_table(table.cast(RECORD_SCHEMA), part, compression="zstd")
            current = month_partition(root, month) / "part-0.parquet"
            if current.is_file() and current.read_bytes() == part.read_bytes():
                shutil.rmtree(staged)
                continue
            steps.append(
                {
                    "target": f"month={key}",
                    "staged": staged.name,
                    "retired": f".retired-{batch}-{key}",
                }
            )
            changed.append(month)
        if before_commit is not None:
            before_commit()
    except BaseException:
        for step in steps:
            shutil.rmtree(folder / step["staged"], ignore_errors=True)
        raise
    if steps:
        journal = folder / f".journal-{batch}.json"
        pending = journal.with_suffix(".pending")
        pending.write_text(json.dumps(steps), encoding="utf-8")
        pending.replace(journal)
        _finish_journal(journal)
    return changed
