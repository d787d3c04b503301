"""Where the data lives and how its files are laid out.

    <data>/records/month=YYYY-MM/part-0.parquet   record-level crimes, incidents and ASB
    <data>/aggregates/*.parquet                    monthly tables built from the records
    <data>/delivery/actions.csv, status.csv        the delivery plan
    <data>/activity/metrics.csv                    operational results
    <data>/commentary/commentary.csv               the lead's commentary per strand and period
    <data>/imports/log.jsonl, <id>/                each import's summary and set-aside rows

After an import, records/ and aggregates/ are links through `current`, itself a link to one
snapshot under .snapshots/: an import builds a whole new snapshot (unchanged months linked,
not copied) and switches `current` to it in one rename, so a reader sees the months before
the import or after it, never some of each.

The data folder is `data/` in the repository unless `CRIMEPREV_DATA_DIR` names another; a
process started with `CRIMEPREV_READ_ONLY=1` never writes to it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import time
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
    """Replace one month's records in place: written beside it, then swapped folders. This is
    the demo's way of writing a folder from scratch, so a folder whose months an import had
    switched in as snapshots is emptied of them first."""
    table = table.cast(RECORD_SCHEMA)
    _leave_snapshots(root)
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


def _leave_snapshots(root: Path) -> None:
    link = root / CURRENT_LINK
    if not link.is_symlink():
        return
    for part in SNAPSHOT_PARTS:
        if (root / part).is_symlink():
            (root / part).unlink()
    link.unlink()
    shutil.rmtree(snapshots_dir(root), ignore_errors=True)


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


CURRENT_LINK = "current"
SNAPSHOTS_FOLDER = ".snapshots"
SCRATCH_FOLDER = ".tmp"
SNAPSHOT_PARTS = ("records", "aggregates")


def snapshots_dir(root: Path) -> Path:
    return root / SNAPSHOTS_FOLDER


def snapshot_root(root: Path) -> Path:
    """The folder holding the records and monthly tables readers should use, resolved once:
    the snapshot `current` points at, or `root` itself before any import switched one in.
    A reader that takes both from this folder sees one import's months, never a mix."""
    link = root / CURRENT_LINK
    if link.is_symlink():
        target = Path(os.path.realpath(link))
        if target.is_dir():
            return target
    return root


def scratch_dir(root: Path, name: str) -> Path:
    """A temporary folder inside the data folder, removed by the next import if this one is
    killed (a temporary folder elsewhere would be left behind)."""
    folder = root / SCRATCH_FOLDER / name
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _link(path: Path, target: str) -> None:
    """Point the symlink `path` at `target` in one step (a new link renamed over the old)."""
    staged = path.with_name(f".{path.name}-{uuid.uuid4().hex}")
    staged.symlink_to(target)
    os.replace(staged, path)


def _retire_plain_layout(root: Path, batch: str) -> None:
    """Move records/ and aggregates/ written in place (by the demo, or before snapshots) into
    a snapshot of their own, and leave links through `current` in their place."""
    for part in SNAPSHOT_PARTS:
        path = root / part
        if path.is_symlink():
            continue
        if path.exists():
            retired = snapshots_dir(root) / f"plain-{batch}"
            retired.mkdir(parents=True, exist_ok=True)
            path.rename(retired / part)
        _link(path, f"{CURRENT_LINK}/{part}")


def _drop_old_snapshots(root: Path, keep: int = 2) -> None:
    """Remove snapshots but the current one and the one before it (a reader that opened the
    previous snapshot just before a switch can still finish its query)."""
    folder = snapshots_dir(root)
    if not folder.is_dir():
        return
    current = snapshot_root(root)
    others = sorted(
        (p for p in folder.iterdir() if p.is_dir() and p != current),
        key=lambda p: p.stat().st_mtime_ns,
        reverse=True,
    )
    for old in others[keep - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


def recover_interrupted_writes(root: Path) -> None:
    """Clear what an interrupted import left: staged snapshots it never switched in, links it
    had not finished, and its temporary files. The data readers see is never touched."""
    if (root / CURRENT_LINK).is_symlink():
        for part in SNAPSHOT_PARTS:
            if not (root / part).is_symlink():
                _retire_plain_layout(root, uuid.uuid4().hex)
                break
    for leftover in root.glob(f".{CURRENT_LINK}-*"):
        leftover.unlink(missing_ok=True)
    for part in SNAPSHOT_PARTS:
        for leftover in root.glob(f".{part}-*"):
            leftover.unlink(missing_ok=True)
    folder = snapshots_dir(root)
    if folder.is_dir():
        for staged in folder.glob("staging-*"):
            shutil.rmtree(staged, ignore_errors=True)
    _drop_old_snapshots(root)
    shutil.rmtree(root / SCRATCH_FOLDER, ignore_errors=True)
    # Folders from before snapshots: an older import's half-written months.
    records = records_dir(root)
    if records.is_dir() and not records.is_symlink():
        for journal in sorted(records.glob(".journal-*.json")):
            _finish_journal(journal)
        for leftover in records.glob(".journal-*.pending"):
            leftover.unlink(missing_ok=True)
        for pattern in (".staging-*", ".retired-*"):
            for leftover in records.glob(pattern):
                shutil.rmtree(leftover, ignore_errors=True)


def _finish_journal(journal: Path) -> None:
    """Carry out the swaps of a journal an older version of the import had committed to."""
    folder = journal.parent
    for step in json.loads(journal.read_text(encoding="utf-8")):
        target, staged, retired = (folder / step[k] for k in ("target", "staged", "retired"))
        if staged.exists():
            if target.exists() and not retired.exists():
                target.rename(retired)
            staged.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    journal.unlink()


def _link_or_copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def replace_months(
    root: Path,
    tables: Mapping[date, pa.Table],
    before_commit: Callable[[], None] | None = None,
    prepare: Callable[[Path, list[date]], None] | None = None,
    on_staged: Callable[[str], None] | None = None,
) -> list[date]:
    """Replace several months' records as one change that readers see all at once: all of
    them or, if anything fails before the switch, none. Months whose file would not change
    are left alone. Returns the months actually replaced.

    A new snapshot is built beside the current one: each unchanged month linked from it, each
    new month written, then `prepare(snapshot, months)` (the monthly tables are rebuilt there).
    The link `current` is then pointed at it in one rename, the commit point.
    `on_staged` is told the snapshot's name before the switch, so an interrupted import can
    later be told apart from a finished one.
    """
    current = snapshot_root(root)
    batch = time.strftime("%Y%m%dT%H%M%S-") + uuid.uuid4().hex[:8]
    staged = snapshots_dir(root) / f"staging-{batch}"
    changed: list[date] = []
    try:
        (staged / "records").mkdir(parents=True)
        for month, table in sorted(tables.items()):
            key = f"month={format_month(month)}"
            (staged / "records" / key).mkdir()
            part = staged / "records" / key / "part-0.parquet"
            pq.write_table(table.cast(RECORD_SCHEMA), part, compression="zstd")
            old = current / "records" / key / "part-0.parquet"
            if old.is_file() and old.read_bytes() == part.read_bytes():
                part.unlink()
                _link_or_copy(old, part)
            else:
                changed.append(month)
        if not changed:
            shutil.rmtree(staged)
            if before_commit is not None:
                before_commit()
            return []
        if (current / "records").is_dir():
            for folder in (current / "records").glob("month=*"):
                mine = staged / "records" / folder.name
                if mine.exists():
                    continue
                mine.mkdir()
                for file in folder.glob("*.parquet"):
                    _link_or_copy(file, mine / file.name)
        if (current / "aggregates").is_dir():
            shutil.copytree(current / "aggregates", staged / "aggregates")
        if prepare is not None:
            prepare(staged, changed)
        final = snapshots_dir(root) / batch
        staged.rename(final)
        if on_staged is not None:
            on_staged(batch)
        if before_commit is not None:
            before_commit()
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        shutil.rmtree(snapshots_dir(root) / batch, ignore_errors=True)
        raise
    _link(root / CURRENT_LINK, f"{SNAPSHOTS_FOLDER}/{batch}")
    _retire_plain_layout(root, batch)
    _drop_old_snapshots(root)
    return changed
