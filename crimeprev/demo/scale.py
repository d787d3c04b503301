"""National-scale demo data: the calibrated demo force and as many synthetic forces (and, for
large sizes, earlier years) as it takes to reach a chosen number of records.

Every synthetic force is the demo extract resampled: its own volume factor, its own set of
districts (each demo district folded onto one of them) and its own random draws, so its records
have the demo's shape (crime types, flags and outcomes together, seasons, Covid) but not its
numbers. Months before the demo's first are the same calendar month of the demo's first year,
scaled by a gentle trend. The demo force keeps its calibrated records unchanged whenever the
size allows, so its published figures still come out.

Records are written month by month with every force's records of that month in one file, so
memory holds one month at a time; the monthly tables are then built once over everything.
"""

from __future__ import annotations

import csv
import os
import resource
import shutil
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from crimeprev.aggregate import build_aggregates
from crimeprev.config import DEFAULT_CONFIG_DIR, config_for
from crimeprev.demo.generator import generate_demo
from crimeprev.errors import CrimeprevError
from crimeprev.imports.common import FileReport, ImportSummary, record_months, save_import
from crimeprev.periods import add_months, format_month, months_between
from crimeprev.store import RECORD_SCHEMA, records_dir, write_month

DEMO_FORCE = "Essex Police"
# Record ids of the demo force's resampled months; its calibrated months keep their own ids.
DEMO_FORCE_PREFIX = "EP"
# Sizes from this many records on cover a decade: the demo's years and five before them.
DECADE_FROM_RECORDS = 10_000_000
EXTRA_YEARS = 5
# Earlier years had a little less recorded crime: each year back scales volumes by this.
YEARLY_TREND = 0.97
MIN_FORCES = 3
FORCE_FACTOR_RANGE = (0.4, 2.0)
DISTRICTS_PER_FORCE = (6, 14)
DISTRICTS_HEADER = (
    "district_code",
    "district_name",
    "district_slug",
    "lpa",
    "population_mid_2022",
    "centroid_latitude",
    "centroid_longitude",
    "is_force_district",
    "tile_row",
    "tile_col",
    "force",
)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


class ScaleError(CrimeprevError, ValueError):
    """The size asked for cannot be generated; the message says what to ask for instead."""


@dataclass(frozen=True)
class ScaleSummary:
    """What `generate_scaled_demo` wrote and how long it took."""

    root: Path
    seed: int
    records_written: int
    forces: tuple[str, ...]
    months_written: int
    first_month: date
    last_month: date
    generation_seconds: float
    aggregate_seconds: float
    seconds_taken: float
    peak_rss_mb: float


@dataclass(frozen=True)
class _Force:
    """One force of the scaled data: its name, record id prefix, districts and volume."""

    name: str
    prefix: str
    factor: float
    # For each demo district (by position), the position of this force's district it becomes.
    district_of_base: IntArray
    # Offsets into the combined district list where this force's districts start.
    first_district: int
    verbatim: bool


@dataclass(frozen=True)
class _Base:
    """The demo extract, read back once, with what resampling needs as arrays."""

    table: pa.Table
    months: list[date]
    month_offsets: IntArray
    district_index: IntArray
    latitude: FloatArray
    longitude: FloatArray
    district_codes: list[str]
    centroids: FloatArray


def _read_base(root: Path, base_codes: list[str], centroids: FloatArray) -> _Base:
    folders = sorted(records_dir(root).glob("month=*"))
    tables = [pq.read_table(folder / "part-0.parquet", schema=RECORD_SCHEMA) for folder in folders]
    sizes = np.array([t.num_rows for t in tables], dtype=np.int64)
    table = pa.concat_tables(tables).combine_chunks()
    months = [date.fromisoformat(folder.name.removeprefix("month=") + "-01") for folder in folders]
    index = pc.index_in(table["district_code"], value_set=pa.array(base_codes))
    if index.null_count:
        raise ScaleError("The demo extract holds a district the demo configuration does not list.")
    return _Base(
        table=table,
        months=months,
        month_offsets=np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64),
        district_index=index.to_numpy(zero_copy_only=False).astype(np.int64),
        latitude=table["latitude"].to_numpy(zero_copy_only=False).astype(np.float64),
        longitude=table["longitude"].to_numpy(zero_copy_only=False).astype(np.float64),
        district_codes=base_codes,
        centroids=centroids,
    )


def _allocate(weights: FloatArray, total: int) -> IntArray:
    """Whole counts proportional to `weights` summing exactly to `total` (largest remainder)."""
    exact = weights / weights.sum() * total
    counts: IntArray = np.floor(exact).astype(np.int64)
    short = total - int(counts.sum())
    if short:
        counts[np.argsort(-(exact - counts), kind="stable")[:short]] += 1
    return counts


def _source_month(base: _Base, month: date) -> int:
    """The demo month whose records stand in for `month`: itself, or for an earlier month the
    same calendar month of the demo's first year."""
    first = base.months[0]
    offset = (month.year - first.year) * 12 + month.month - first.month
    return offset if offset >= 0 else offset % 12


def _trend(base: _Base, month: date) -> float:
    first = base.months[0]
    offset = (month.year - first.year) * 12 + month.month - first.month
    return 1.0 if offset >= 0 else float(YEARLY_TREND ** (-offset / 12))


def _plan_forces(
    base: _Base, timeline: list[date], records: int, rng: np.random.Generator
) -> tuple[list[_Force], IntArray]:
    """The forces and how many records each writes in each month of the timeline."""
    sizes = np.diff(base.month_offsets).astype(np.float64)
    shape = np.array([sizes[_source_month(base, m)] * _trend(base, m) for m in timeline])
    demo_base_months = np.array([m >= base.months[0] for m in timeline])
    demo_full = shape.sum()
    low, high = FORCE_FACTOR_RANGE
    # The demo force keeps its records as calibrated when the rest still fits two forces.
    verbatim = records >= demo_full * (1 + 2 * low)
    factors = [1.0]
    while len(factors) < MIN_FORCES or sum(factors) * demo_full < records:
        factors.append(float(rng.uniform(low, high)))
    factors_array = np.array(factors)
    if verbatim:
        rest = records - demo_full
        factors_array[1:] *= rest / (factors_array[1:].sum() * demo_full)
    else:
        factors_array *= records / (factors_array.sum() * demo_full)
    counts = np.zeros((len(factors), len(timeline)), dtype=np.int64)
    if verbatim:
        counts[0] = np.where(demo_base_months, shape, np.round(shape)).astype(np.int64)
        rest_weights = np.outer(factors_array[1:], shape).ravel()
        counts[1:] = _allocate(rest_weights, records - int(counts[0].sum())).reshape(
            len(factors) - 1, len(timeline)
        )
    else:
        counts[:] = _allocate(np.outer(factors_array, shape).ravel(), records).reshape(counts.shape)
    forces = [
        _Force(
            DEMO_FORCE,
            "",
            float(factors_array[0]),
            np.arange(len(base.district_codes), dtype=np.int64),
            0,
            verbatim,
        )
    ]
    first_district = len(base.district_codes)
    for number, factor in enumerate(factors_array[1:], start=2):
        districts = int(rng.integers(DISTRICTS_PER_FORCE[0], DISTRICTS_PER_FORCE[1] + 1))
        mapping = np.arange(len(base.district_codes), dtype=np.int64) % districts
        forces.append(
            _Force(
                f"Force {number:02d} (synthetic)",
                f"F{number:02d}",
                float(factor),
                rng.permutation(mapping),
                first_district,
                False,
            )
        )
        first_district += districts
    return forces, counts


def _district_rows(base_rows: list[dict[str, str]], forces: list[_Force]) -> list[dict[str, str]]:
    """districts.csv for the scaled data: the demo's districts marked as the demo force's, the
    pseudo-districts shared, and each synthetic force's districts."""
    demo = [r for r in base_rows if r["is_force_district"] == "true"]
    rows = [r | {"force": DEMO_FORCE if r in demo else ""} for r in base_rows]
    lpas = ("North", "South", "West")
    for position, force in enumerate(forces[1:]):
        count = int(force.district_of_base.max()) + 1
        number = force.prefix.removeprefix("F")
        # Each force sits on its own patch of a grid over England, away from the demo force.
        centre = (52.9 + 0.8 * (position // 6), -2.9 + 0.9 * (position % 6))
        for index in range(count):
            folded = [demo[i] for i in np.flatnonzero(force.district_of_base == index)]
            population = sum(int(r["population_mid_2022"]) for r in folded) * force.factor
            rows.append(
                {
                    "district_code": f"SYN{number}D{index + 1:02d}",
                    "district_name": f"Force {number} district {index + 1}",
                    "district_slug": f"force-{number}-district-{index + 1}",
                    "lpa": f"Force {number} {lpas[index % len(lpas)]}",
                    "population_mid_2022": str(round(population)),
                    "centroid_latitude": f"{centre[0] + 0.12 * (index // 4):.4f}",
                    "centroid_longitude": f"{centre[1] + 0.15 * (index % 4):.4f}",
                    "is_force_district": "true",
                    "tile_row": "",
                    "tile_col": "",
                    "force": force.name,
                }
            )
    return rows


def _month_table(
    base: _Base,
    month: date,
    forces: list[_Force],
    counts: IntArray,
    codes: pa.Array,
    centroids: FloatArray,
    rng: np.random.Generator,
) -> pa.Table:
    """One month's records of every force, resampled from the demo's source month."""
    source = _source_month(base, month)
    start, stop = int(base.month_offsets[source]), int(base.month_offsets[source + 1])
    size = stop - start
    pieces = []
    for force, count in zip(forces, counts, strict=True):
        count = int(count)
        if force.verbatim and month >= base.months[0]:
            pieces.append(base.table.slice(start, size))
            continue
        if count <= size:
            local = np.sort(rng.choice(size, count, replace=False))
        else:
            local = np.sort(np.concatenate([np.arange(size), rng.integers(0, size, count - size)]))
        rows = local + start
        base_district = base.district_index[rows]
        district = force.first_district + force.district_of_base[base_district]
        latitude = base.latitude[rows] - base.centroids[base_district, 0] + centroids[district, 0]
        longitude = base.longitude[rows] - base.centroids[base_district, 1] + centroids[district, 1]
        prefix = force.prefix or DEMO_FORCE_PREFIX
        numbers = pc.utf8_lpad(
            pc.cast(pa.array(np.arange(1, count + 1)), pa.string()), width=7, padding="0"
        )
        taken = base.table.take(pa.array(rows))
        columns = {
            "record_id": pc.binary_join_element_wise(
                f"{prefix}-{month.year:04d}{month.month:02d}-", numbers, ""
            ),
            "force": pa.repeat(force.name, count),
            "month_start": pa.repeat(pa.scalar(month, pa.date32()), count),
            "district_code": pc.take(codes, pa.array(district)),
            "latitude": pa.array(np.round(latitude, 5)),
            "longitude": pa.array(np.round(longitude, 5)),
        }
        pieces.append(
            pa.table(
                [columns.get(f.name, taken[f.name]) for f in RECORD_SCHEMA], schema=RECORD_SCHEMA
            )
        )
    return pa.concat_tables(pieces)


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB: VmHWM from /proc where there is one,
    because `ru_maxrss` keeps the peak of the process that started this one across exec."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def generate_scaled_demo(root: Path, million_records: float, seed: int = 2022) -> ScaleSummary:
    """Write a data folder of `million_records` million records across several forces: the
    calibrated demo force and synthetic forces derived from it (see the module docstring).
    Replaces any earlier demo data under `root`."""
    started = time.perf_counter()
    records = round(million_records * 1_000_000)
    if records < 1000:
        raise ScaleError("Ask for at least 0.001 million (1,000) records, e.g. --scale 0.2.")
    # The demo is calibrated against the shipped districts, so any scaled list goes first.
    (root / "config" / "districts.csv").unlink(missing_ok=True)
    shutil.rmtree(records_dir(root), ignore_errors=True)
    config_for.cache_clear()
    generate_demo(root, seed=seed, force=DEMO_FORCE)
    config = config_for(root)
    demo_districts = config.force_districts
    base_centroids = np.array(
        [[d.centroid_latitude or 0.0, d.centroid_longitude or 0.0] for d in demo_districts]
    )
    base = _read_base(root, [d.code for d in demo_districts], base_centroids)
    rng = np.random.default_rng([seed, 7])
    first = base.months[0]
    if records >= DECADE_FROM_RECORDS:
        first = add_months(first, -12 * EXTRA_YEARS)
    timeline = months_between(first, base.months[-1])
    forces, counts = _plan_forces(base, timeline, records, rng)

    with (DEFAULT_CONFIG_DIR / "districts.csv").open(newline="", encoding="utf-8") as handle:
        base_rows = list(csv.DictReader(handle))
    district_rows = _district_rows(base_rows, forces)
    by_code = {r["district_code"]: r for r in district_rows}
    codes = [d.code for d in demo_districts] + [
        r["district_code"] for r in district_rows if r["force"] not in ("", DEMO_FORCE)
    ]
    centroids = np.array(
        [
            [float(by_code[c]["centroid_latitude"]), float(by_code[c]["centroid_longitude"])]
            for c in codes
        ]
    )
    code_array = pa.array(codes)
    written = 0
    for position, month in enumerate(timeline):
        table = _month_table(base, month, forces, counts[:, position], code_array, centroids, rng)
        write_month(root, month, table)
        written += table.num_rows
    del base
    config_dir = root / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    with (config_dir / "districts.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=DISTRICTS_HEADER, lineterminator="\n")
        writer.writeheader()
        writer.writerows(district_rows)
    config_for.cache_clear()
    generated = time.perf_counter() - started
    build = build_aggregates(root)
    seconds = time.perf_counter() - started
    summary = ImportSummary(kind="demo", data_dir=str(root), seconds=seconds)
    label = f"crimeprev demo --scale {million_records:g}"
    summary.files.append(FileReport(file=label, rows_read=written, rows_loaded=written))
    summary.months_written = [format_month(m) for m in timeline]
    record_months(summary, timeline)
    save_import(root, summary, None)
    return ScaleSummary(
        root=root,
        seed=seed,
        records_written=written,
        forces=tuple(f.name for f in forces),
        months_written=len(timeline),
        first_month=timeline[0],
        last_month=timeline[-1],
        generation_seconds=generated,
        aggregate_seconds=build.seconds,
        seconds_taken=seconds,
        peak_rss_mb=peak_rss_mb(),
    )


def scale_summary_lines(summary: ScaleSummary) -> list[str]:
    """The summary in lines, as the command line prints it."""
    return [
        f"Wrote {summary.records_written:,} records of {len(summary.forces)} forces, "
        f"{format_month(summary.first_month)} to {format_month(summary.last_month)} "
        f"({summary.months_written} months), into {summary.root}.",
        f"Forces: {', '.join(summary.forces)}.",
        f"Took {summary.seconds_taken:.1f} s ({summary.generation_seconds:.1f} s writing records, "
        f"{summary.aggregate_seconds:.1f} s building the monthly tables); peak memory "
        f"{summary.peak_rss_mb:,.0f} MB (pid {os.getpid()}).",
    ]
