"""The monthly tables pages read instead of scanning records.

`measure_monthly` holds, per force, measure, district and month, how many records the measure
counts; `crime_type_monthly` the same per crime type and record kind. Both are rebuilt from the
records whenever the records or the measure definitions change, tracked by a manifest.
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crimeprev.config import Config, config_for
from crimeprev.db import Database, DataUnreadable
from crimeprev.periods import format_month
from crimeprev.store import aggregates_dir, data_read_only, records_dir, write_table_atomically

AGGREGATES = ("measure_monthly", "crime_type_monthly")
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class AggregateBuild:
    """What a build of the monthly tables did."""

    rows: dict[str, int]
    months_rebuilt: int | None
    seconds: float


def records_signature(root: Path) -> str:
    """A fingerprint of the record files: changes whenever a month is written or removed."""
    digest = hashlib.sha256()
    for path in sorted(records_dir(root).glob("month=*/*.parquet")):
        stat = path.stat()
        digest.update(f"{path.parent.name}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}".encode())
    return digest.hexdigest()[:16]


def _read_manifest(root: Path) -> dict[str, str]:
    path = aggregates_dir(root) / MANIFEST
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def aggregates_current(root: Path, config: Config) -> bool:
    """Whether the monthly tables match the records and measure definitions on disk."""
    manifest = _read_manifest(root)
    return (
        manifest.get("config_fingerprint") == config.fingerprint
        and manifest.get("records_signature") == records_signature(root)
        and all((aggregates_dir(root) / f"{name}.parquet").is_file() for name in AGGREGATES)
    )


def build_aggregates(
    root: Path, months: list[date] | None = None, config: Config | None = None
) -> AggregateBuild:
    """Rebuild the monthly tables: all of them, or only the rows of the given months."""
    started = time.perf_counter()
    config = config or config_for(root)
    database = Database(root, config)
    month_keys = None if months is None else sorted({format_month(m) for m in months})
    rows = {}
    for name in AGGREGATES:
        fresh = database.query_arrow(f"build_{name}", months=month_keys)
        target = aggregates_dir(root) / f"{name}.parquet"
        if month_keys is not None and target.is_file():
            kept = pq.read_table(target)
            rebuilt = pa.array([date.fromisoformat(f"{m}-01") for m in month_keys], pa.date32())
            kept = kept.filter(pc.invert(pc.is_in(kept["month_start"], value_set=rebuilt)))
            fresh = pa.concat_tables([kept, fresh.cast(kept.schema)])
        write_table_atomically(fresh, target)
        rows[name] = fresh.num_rows
    manifest = {
        "config_fingerprint": config.fingerprint,
        "records_signature": records_signature(root),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    (aggregates_dir(root) / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return AggregateBuild(
        rows, None if month_keys is None else len(month_keys), time.perf_counter() - started
    )


def ensure_aggregates(root: Path, config: Config | None = None) -> AggregateBuild | None:
    """Build the monthly tables if they are missing or out of date; None when they were current."""
    config = config or config_for(root)
    if aggregates_current(root, config):
        return None
    return build_aggregates(root, config=config)


def open_database(root: Path) -> Database:
    """The database over a data folder, its monthly tables brought up to date first; in a
    read-only process (`CRIMEPREV_READ_ONLY=1`) tables that are not up to date are an error."""
    config = config_for(root)
    if data_read_only():
        if not aggregates_current(root, config):
            raise DataUnreadable(
                f"The monthly tables in {aggregates_dir(root)} do not match the records yet, "
                "and this server only reads the data folder. Bring them up to date with "
                f"`crimeprev --data-dir {root} insight` (or restart `make serve`), then reload."
            )
        return Database(root, config)
    ensure_aggregates(root, config)
    try:
        return Database(root, config)
    except DataUnreadable:
        # A damaged monthly table is rebuilt from the records; damaged records still fail.
        for name in AGGREGATES:
            (aggregates_dir(root) / f"{name}.parquet").unlink(missing_ok=True)
        build_aggregates(root, config=config)
        return Database(root, config)
