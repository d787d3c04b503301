"""The figures every surface should show, reached without the code under test: the record
files read with pyarrow, each measure's rule read from the configuration's TOML and applied
here in pandas, and a window counted only when the data holds every one of its months.

Nothing here imports from `crimeprev` except the location of the shipped configuration files.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq

from crimeprev.config import DEFAULT_CONFIG_DIR

FLAG_COLUMNS = (
    "is_knife_enabled",
    "is_domestic_abuse",
    "is_hate_crime",
    "is_night_time_economy",
    "is_online",
    "is_child_sexual_abuse",
)


class Incomplete:
    """A window the data does not fully cover: no count may be shown for it."""

    def __repr__(self) -> str:
        return "incomplete"


INCOMPLETE = Incomplete()
Count = int | Incomplete


def month_add(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def window_months(end: date, length: int = 12) -> list[date]:
    return [month_add(end, -i) for i in range(length - 1, -1, -1)]


def pct_change(previous: Count, current: Count) -> float | None:
    """% change to one decimal, rounded half up; None when it cannot be computed."""
    if isinstance(previous, Incomplete) or isinstance(current, Incomplete) or previous == 0:
        return None
    exact = Decimal(100 * (current - previous)) / Decimal(previous)
    return float(exact.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Rule:
    record_kind: str
    crime_types: tuple[str, ...] | None
    flags: tuple[str, ...]
    outcomes: tuple[str, ...] | None


@dataclass(frozen=True)
class MeasureDef:
    id: str
    name: str
    strand_id: str
    rule: Rule


@dataclass(frozen=True)
class DistrictDef:
    code: str
    name: str
    slug: str
    lpa: str
    force: str  # blank: any force
    is_force_district: bool


def _config_file(root: Path, name: str) -> Path:
    own = root / "config" / name
    return own if own.is_file() else DEFAULT_CONFIG_DIR / name


def _strands(root: Path) -> list[dict[str, Any]]:
    """The strands in force: the folder's strategy, or the shipped one it extends."""
    with _config_file(root, "strategy.toml").open("rb") as handle:
        strategy = tomllib.load(handle)
    if strategy.get("extends") != "default":
        return list(strategy["strands"])
    with (DEFAULT_CONFIG_DIR / "strategy.toml").open("rb") as handle:
        base = tomllib.load(handle)
    overrides = strategy.get("strand_overrides", {})
    strands = []
    for entry in base["strands"]:
        if entry["id"] in overrides:
            entry = {k: v for k, v in entry.items() if k != "measures"} | overrides[entry["id"]]
        strands.append(entry)
    return strands


class Truth:
    """What a data folder says, counted straight from its record files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.measures = [
            MeasureDef(
                m["id"],
                m["name"],
                s["id"],
                Rule(
                    m["rule"]["record_kind"],
                    tuple(m["rule"]["crime_types"]) if "crime_types" in m["rule"] else None,
                    tuple(m["rule"].get("flags", ())),
                    tuple(m["rule"]["outcomes"]) if "outcomes" in m["rule"] else None,
                ),
            )
            for s in _strands(root)
            if not s.get("not_supported")
            for m in s.get("measures", [])
        ]
        with _config_file(root, "districts.csv").open(newline="", encoding="utf-8") as handle:
            self.districts = [
                DistrictDef(
                    row["district_code"],
                    row["district_name"],
                    row["district_slug"],
                    row["lpa"],
                    row.get("force") or "",
                    row["is_force_district"].strip().lower() == "true",
                )
                for row in csv.DictReader(handle)
            ]

    @cached_property
    def _records(self) -> pd.DataFrame:
        columns = [
            "force",
            "month_start",
            "record_kind",
            "district_code",
            "crime_type",
            "outcome",
            *FLAG_COLUMNS,
        ]
        frames = [
            pq.read_table(path, columns=columns).to_pandas()
            for path in sorted((self.root / "records").glob("month=*/*.parquet"))
        ]
        records = pd.concat(frames, ignore_index=True)
        records["month_start"] = pd.to_datetime(records["month_start"]).dt.date
        return records

    @cached_property
    def forces(self) -> list[str]:
        return sorted(self._records["force"].unique())

    @cached_property
    def covered(self) -> dict[str, set[date]]:
        """For each force, the months holding any record of it."""
        pairs = self._records[["force", "month_start"]].drop_duplicates()
        return {force: set(group["month_start"]) for force, group in pairs.groupby("force")}

    @cached_property
    def all_months(self) -> list[date]:
        """Every month from the first the data covers to the last, gaps included."""
        months = sorted(set().union(*self.covered.values()))
        result = [months[0]]
        while result[-1] < months[-1]:
            result.append(month_add(result[-1], 1))
        return result

    @cached_property
    def _counts(self) -> pd.DataFrame:
        """Each measure's records per force, district and month, by its rule."""
        records = self._records
        frames = []
        for measure in self.measures:
            rule = measure.rule
            keep = records["record_kind"] == rule.record_kind
            if rule.crime_types is not None:
                keep &= records["crime_type"].isin(rule.crime_types)
            for flag in rule.flags:
                keep &= records[flag].fillna(False).astype(bool)
            if rule.outcomes is not None:
                keep &= records["outcome"].isin(rule.outcomes)
            counted = (
                records[keep]
                .groupby(["force", "district_code", "month_start"])
                .size()
                .rename("count_records")
                .reset_index()
            )
            frames.append(counted.assign(measure_id=measure.id))
        return pd.concat(frames, ignore_index=True)

    def measure(self, measure_id: str) -> MeasureDef:
        return next(m for m in self.measures if m.id == measure_id)

    def districts_of(self, force: str) -> list[DistrictDef]:
        return [d for d in self.districts if d.is_force_district and d.force in ("", force)]

    def district(self, slug: str) -> DistrictDef:
        return next(d for d in self.districts if d.slug == slug)

    def count(
        self,
        measure_id: str,
        force: str,
        codes: list[str] | None,
        months: list[date],
    ) -> Count:
        """The measure's records of the force in the districts (None: wherever recorded) over
        the months; incomplete when the data lacks any of those months for that force."""
        if not set(months) <= self.covered.get(force, set()):
            return INCOMPLETE
        counts = self._counts
        keep = (
            (counts["measure_id"] == measure_id)
            & (counts["force"] == force)
            & counts["month_start"].isin(months)
        )
        if codes is not None:
            keep &= counts["district_code"].isin(codes)
        return int(counts.loc[keep, "count_records"].sum())
