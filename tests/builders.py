"""A tiny data folder built in code, with counts that follow simple formulas.

Tests compute what a query should return from the same formulas in plain Python, so the SQL is
checked against arithmetic, not against itself. September 2021 is deliberately missing.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow as pa

from crimeprev.config import Config
from crimeprev.periods import format_month, months_between
from crimeprev.store import RECORD_SCHEMA, write_month
from crimeprev.view import View

FIRST_MONTH = date(2018, 10, 1)
LAST_MONTH = date(2022, 9, 1)
MISSING_MONTH = date(2021, 9, 1)
DISTRICTS = {"E07000071": 1, "E07000066": 2, "E07000073": 3}  # Colchester, Basildon, Harlow
FORCE = "Essex Police"


def month_index(month: date) -> int:
    return (month.year - FIRST_MONTH.year) * 12 + month.month - FIRST_MONTH.month


def rape_count(month: date, weight: int) -> int:
    return month_index(month) % 3 + weight + month_index(month) // 12


def knife_count(month: date, weight: int) -> int:
    return 2 * weight if month.month in (6, 7, 8) else weight


def hate_count(month: date, weight: int) -> int:
    return 1 + (month_index(month) + weight) % 2


def hate_solved(month: date, weight: int) -> int:
    return 1 if (month_index(month) + weight) % 2 == 0 else 0


def mental_health_count(month: date, weight: int) -> int:
    return 5 * weight


def covered_months() -> list[date]:
    return [m for m in months_between(FIRST_MONTH, LAST_MONTH) if m != MISSING_MONTH]


@dataclass(frozen=True)
class TinyRecord:
    record_kind: str
    crime_type: str
    is_knife_enabled: bool = False
    is_hate_crime: bool = False
    outcome: str | None = None


def _records_for(month: date, weight: int) -> list[TinyRecord]:
    records = [TinyRecord("crime", "Rape")] * rape_count(month, weight)
    records += [TinyRecord("crime", "Violence with injury", is_knife_enabled=True)] * knife_count(
        month, weight
    )
    records += [TinyRecord("crime", "Violence with injury")] * weight
    solved = hate_solved(month, weight)
    records += [
        TinyRecord("crime", "Public order offences", is_hate_crime=True, outcome="Caution")
    ] * solved
    records += [
        TinyRecord(
            "crime", "Public order offences", is_hate_crime=True, outcome="Under investigation"
        )
    ] * (hate_count(month, weight) - solved)
    records += [TinyRecord("incident", "Mental health")] * mental_health_count(month, weight)
    records += [TinyRecord("asb", "Anti-social behaviour")] * weight
    return records


def build_tiny(root: Path) -> Path:
    """Write the tiny data folder under `root` and return it."""
    for month in covered_months():
        rows = []
        for district, weight in DISTRICTS.items():
            for number, record in enumerate(_records_for(month, weight)):
                rows.append(
                    {
                        "record_id": f"{format_month(month)}-{district}-{number}",
                        "force": FORCE,
                        "month_start": month,
                        "record_kind": record.record_kind,
                        "district_code": district,
                        "crime_type": record.crime_type,
                        "is_knife_enabled": record.is_knife_enabled,
                        "is_domestic_abuse": False,
                        "is_hate_crime": record.is_hate_crime,
                        "is_night_time_economy": False,
                        "is_online": False,
                        "is_child_sexual_abuse": False,
                        "lsoa_code": None,
                        "latitude": None,
                        "longitude": None,
                        "outcome": record.outcome,
                    }
                )
        write_month(root, month, pa.Table.from_pylist(rows, schema=RECORD_SCHEMA))
    _write_csv(
        root / "delivery" / "actions.csv",
        ["action_id", "strand_id", "title", "target_month", "completed_month"],
        [
            ["KC-1", "knife-crime", "Knife bins in every district", "2022-06", "2022-05"],
            ["KC-2", "knife-crime", "Knife crime board", "2022-12", ""],
            ["RA-1", "rape", "Repeat offender reviews", "2023-01", ""],
            ["HC-1", "hate-crime", "Ambassador training", "2022-03", "2022-02"],
        ],
    )
    _write_csv(
        root / "delivery" / "status.csv",
        ["action_id", "quarter_end", "status"],
        [
            ["KC-1", "2022-03", "ongoing"],
            ["KC-2", "2022-03", "not started"],
            ["RA-1", "2022-03", "at risk"],
            ["HC-1", "2022-03", "complete"],
            ["KC-1", "2022-06", "complete"],
            ["KC-2", "2022-06", "ongoing"],
            ["RA-1", "2022-06", "ongoing"],
            ["HC-1", "2022-06", "complete"],
        ],
    )
    _write_csv(
        root / "activity" / "metrics.csv",
        ["strand_id", "operation", "period_label", "period_end", "metric", "value", "unit"],
        [
            ["county-lines", "Op Test", "Apr-Jun 2022", "2022-06", "arrests", "12", "count"],
            ["county-lines", "Op Test", "Apr-Sep 2022", "2022-09", "arrests", "30", "count"],
            ["county-lines", "Op Test", "Apr-Sep 2022", "2022-09", "cash seized", "1500", "GBP"],
        ],
    )
    _write_csv(
        root / "commentary" / "commentary.csv",
        ["strand_id", "period", "commentary"],
        [["rape", "2022-06", "Reports rose, with more, non-recent offences, recorded."]],
    )
    return root


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def expected_total(
    formula: object, start: date, end: date, weights: list[int] | None = None
) -> int:
    """Sum a count formula over covered months between `start` and `end`, for some districts."""
    chosen = weights if weights is not None else list(DISTRICTS.values())
    months = [m for m in covered_months() if start <= m <= end]
    return sum(formula(m, w) for m in months for w in chosen)  # type: ignore[operator]


def view_at(
    source: Any,
    period: date,
    district_codes: Sequence[str] | None = None,
    force: str | None = None,
) -> View:
    """The view of the districts with these ONS codes (every district when None) at a period,
    for tests that name districts by code. `source` is a database or a configuration."""
    config: Config = getattr(source, "config", source)
    slugs = tuple(
        d.slug for d in config.districts if district_codes is not None and d.code in district_codes
    )
    return View(period, districts=slugs, force=force)
