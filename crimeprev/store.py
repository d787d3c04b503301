"""Where the data lives and how its files are laid out.

    <data>/records/month=YYYY-MM/part-0.parquet   record-level crimes, incidents and ASB
    <data>/aggregates/*.parquet                    monthly tables built from the records
    <data>/delivery/actions.csv, status.csv        the delivery plan
    <data>/activity/metrics.csv                    operational results
    <data>/commentary/commentary.csv               the lead's commentary per strand and period

The data folder is `data/` in the repository unless `CRIMEPREV_DATA_DIR` names another.
"""

from __future__ import annotations

import os
import shutil
import uuid
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from crimeprev.periods import format_month

REPOSITORY_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR_VARIABLE = "CRIMEPREV_DATA_DIR"

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
