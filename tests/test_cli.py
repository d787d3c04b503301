"""The `crimeprev` command as a scheduled job or an analyst would run it."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from builders import view_at


def _run(data_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "crimeprev.cli", *args],
        capture_output=True,
        text=True,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(data_dir)},
    )


def test_insight_json_has_one_object_per_measure_and_comparison(demo_root: Path):
    result = _run(
        demo_root, "insight", "--period", "2022-09", "--strand", "rape", "--format", "json"
    )
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert [(r["measure"], r["comparison"]) for r in rows] == [
        ("rape", "previous_year"),
        ("rape", "baseline"),
    ]
    assert rows[0]["current_count"] == 2802 and rows[0]["comparator_count"] == 2442
    assert rows[1]["comparator_start"] == "2019-01" and rows[1]["comparator_end"] == "2019-12"


def test_insight_for_several_districts_counts_only_those(demo_root: Path, demo_db):
    from crimeprev.figures import insight

    result = _run(
        demo_root,
        "insight",
        "--period",
        "2022-09",
        "--strand",
        "knife-crime",
        "--district",
        "Colchester",
        "--district",
        "tendring",
        "--format",
        "csv",
    )
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    expected = insight.insight_table(
        demo_db,
        view_at(demo_db, insight.covered_months(demo_db)[-1], ["E07000071", "E07000076"]),
        strand_id="knife-crime",
    )
    assert [int(r["current_count"]) for r in rows] == expected["current_count"].tolist()


def test_the_table_format_prints_the_report_headings(demo_root: Path):
    result = _run(demo_root, "insight", "--period", "2022-09", "--strand", "knife-crime")
    assert result.returncode == 0, result.stderr
    assert "12 months ending Dec 2019" in result.stdout
    assert "+60.2%" in result.stdout


def test_delivery_csv_ends_with_the_total(demo_root: Path):
    result = _run(demo_root, "delivery", "--period", "2022-09", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows[-1] == {
        "strand": "total",
        "total": "583",
        "complete": "293",
        "ongoing": "290",
        "at_risk": "0",
        "not_started": "0",
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["insight", "--period", "2022-13"], "01 to 12"),
        (["insight", "--period", "2030-01"], "no data for 2030-01"),
        (
            ["insight", "--period", "2022-09", "--district", "Atlantis"],
            "Unknown district 'Atlantis'",
        ),
        (["insight", "--period", "2022-09", "--strand", "nope"], "Unknown strand 'nope'"),
        (["delivery", "--period", "2021-03"], "there is none for March 2021"),
    ],
)
def test_bad_input_gets_a_sentence_not_a_traceback(demo_root: Path, args, message):
    result = _run(demo_root, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_an_empty_data_folder_says_how_to_fill_it(tmp_path: Path):
    result = _run(tmp_path, "insight", "--period", "2022-09")
    assert result.returncode == 2
    assert "There are no records" in result.stderr and "crimeprev demo" in result.stderr


def test_a_damaged_file_is_reported_not_raised(damaged_root: Path):
    result = _run(damaged_root, "insight", "--period", "2022-09")
    assert result.returncode == 2
    assert "A data file cannot be read" in result.stderr
    assert "Traceback" not in result.stderr


def test_demo_writes_a_data_folder_and_says_what_it_wrote(tmp_path: Path):
    result = _run(tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert "records" in result.stdout and "66 months" in result.stdout
    assert (tmp_path / "records" / "month=2017-04" / "part-0.parquet").is_file()
    assert (tmp_path / "aggregates" / "measure_monthly.parquet").is_file()
