"""Record counts by any dimension: the numbers `crimeprev counts`, the Data page and the Explore
page share, checked against the record files read directly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from crimeprev.figures.counts import UnknownDimension, record_counts


def _records(root: Path, columns: list[str]) -> list[dict]:
    dataset = ds.dataset(root / "records", format="parquet", partitioning="hive")
    return dataset.to_table(columns=columns).to_pylist()


def test_counts_by_district_and_kind_match_the_files(demo_root: Path, demo_db):
    names = {d.code: d.name for d in demo_db.config.districts}
    expected = Counter(
        (names[r["district_code"]], r["record_kind"])
        for r in _records(demo_root, ["district_code", "record_kind"])
    )
    counted = record_counts(demo_db, ["district", "record_kind"])
    assert {(d, k): n for d, k, n in counted.itertuples(index=False)} == dict(expected)


def test_a_month_range_counts_only_those_months(demo_root: Path, demo_db):
    rows = _records(demo_root, ["month_start", "crime_type"])
    expected = Counter(
        r["crime_type"] for r in rows if date(2021, 4, 1) <= r["month_start"] <= date(2022, 3, 1)
    )
    counted = record_counts(demo_db, ["crime_type"], date(2021, 4, 1), date(2022, 3, 1))
    assert dict(zip(counted["crime_type"], counted["count_records"], strict=True)) == dict(expected)


def test_no_dimension_gives_the_total_and_lpa_sums_its_districts(demo_db):
    total = int(record_counts(demo_db, [])["count_records"].iloc[0])
    by_lpa = record_counts(demo_db, ["lpa"])
    assert int(by_lpa["count_records"].sum()) == total == 1_158_418
    assert set(by_lpa["lpa"].dropna()) == {"North", "South", "West"}


def test_an_unknown_dimension_is_named(demo_db):
    with pytest.raises(UnknownDimension, match="'postcode'"):
        record_counts(demo_db, ["district", "postcode"])


def _cli(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crimeprev.cli", "--data-dir", str(root), *args],
        capture_output=True,
        text=True,
        env=os.environ,
    )


def test_the_command_prints_the_same_numbers(demo_root: Path, demo_db):
    result = _cli(
        demo_root,
        "counts",
        "--by",
        "month,district",
        "--from",
        "2022-07",
        "--to",
        "2022-09",
        "--district",
        "tendring",
        "--format",
        "json",
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    expected = record_counts(
        demo_db, ["month", "district"], date(2022, 7, 1), date(2022, 9, 1), ["E07000076"]
    )
    assert [(r["month_start"], r["district_name"], r["count_records"]) for r in printed] == [
        (f"{m:%Y-%m}", d, int(n)) for m, d, n in expected.itertuples(index=False)
    ]
    assert len(printed) == 3


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--by", "postcode"], "Cannot group by 'postcode'"),
        (["--by", "month", "--from", "2022-13"], "2022-13"),
        (["--by", "month", "--from", "2022-09", "--to", "2022-01"], "is after"),
        (["--by", "district", "--district", "atlantis"], "Unknown district 'atlantis'"),
    ],
)
def test_mistakes_get_one_sentence_and_status_2(demo_root: Path, args: list[str], message: str):
    result = _cli(demo_root, "counts", *args)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr
