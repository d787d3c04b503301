"""The twelve real months of Essex data.police.uk files, imported with one command and checked
against the raw files read independently here, row by row."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from builders import view_at
from conftest import RAW

from crimeprev.aggregate import open_database
from crimeprev.figures.counts import record_counts
from crimeprev.figures.insight import covered_months, insight_table, monthly_series
from crimeprev.imports.common import import_log
from crimeprev.imports.police_uk import import_police_uk

FOLDERS = ("policeuk_essex_detective", "policeuk_essex_geoinfo")
LOOKUP = RAW / "drkane_geo_lookups" / "derived" / "essex_lsoa_to_lad_lookup.csv"


def _raw_files() -> list[Path]:
    files = sorted(p for folder in FOLDERS for p in (RAW / folder).glob("*-street.csv"))
    if len(files) != 12 or not LOOKUP.is_file():
        pytest.skip(f"The real data.police.uk extracts are not here ({RAW} is absent): skipped.")
    return files


def _raw_rows() -> list[dict[str, str]]:
    """Every raw row, its columns named as data.police.uk names them."""
    rows = []
    for path in _raw_files():
        with path.open(newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle)
            header = [h.strip().lower().replace(" ", "_") for h in next(reader)]
            for values in reader:
                rows.append(dict(zip(header, values, strict=True)) | {"file": path.name})
    return rows


def _lookup() -> dict[str, str]:
    with LOOKUP.open(newline="", encoding="utf-8") as handle:
        return {row["lsoa_code"]: row["lad_name"] for row in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = _raw_files()
    root = tmp_path_factory.mktemp("police-uk")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crimeprev.cli",
            "--data-dir",
            str(root),
            "import",
            "police-uk",
            *(str(RAW / folder) for folder in FOLDERS),
            "--lsoa-lookup",
            str(LOOKUP),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        env=os.environ,
    )
    assert result.returncode == 0, result.stderr
    (root / "summary-printed.json").write_text(result.stdout)
    assert len(files) == 12
    return root


@pytest.fixture(scope="module")
def summary(imported: Path) -> dict:
    return json.loads((imported / "summary-printed.json").read_text())


def test_every_raw_row_is_accounted_for_per_file(summary: dict):
    raw = Counter(row["file"] for row in _raw_rows())
    assert sum(raw.values()) == 199_298
    assert summary["rows_read"] == 199_298
    assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"]
    for report in summary["files"]:
        name = Path(report["file"]).name
        assert report["rows_read"] == raw[name], name
        assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]


def test_the_missing_months_are_listed(summary: dict):
    assert summary["missing_months"] == ["2018-08", "2018-09"]
    assert summary["months_covered"][0] == "2018-01" and summary["months_covered"][-1] == "2019-02"


def test_counts_per_month_and_category_match_the_raw_files(imported: Path):
    raw = Counter((row["month"], row["crime_type"]) for row in _raw_rows())
    db = open_database(imported)
    counted = record_counts(db, ["month", "crime_type"])
    loaded = {
        (f"{m:%Y-%m}", c): n
        for m, c, n in counted[["month_start", "crime_type", "count_records"]].itertuples(
            index=False
        )
    }
    assert loaded == dict(raw)


def test_counts_per_district_match_the_lookup_applied_by_hand(imported: Path):
    lookup = _lookup()
    expected: Counter[str] = Counter()
    for row in _raw_rows():
        if not row["lsoa_code"]:
            expected["No location"] += 1
        else:
            expected[lookup.get(row["lsoa_code"], "Outside force area")] += 1
    counted = record_counts(open_database(imported), ["district"])
    assert dict(zip(counted["district_name"], counted["count_records"], strict=True)) == dict(
        expected
    )
    assert expected["Outside force area"] == 558 and expected["No location"] == 587


def test_without_a_lookup_districts_come_from_the_lsoa_names(tmp_path: Path, imported: Path):
    root = tmp_path / "by-name"
    import_police_uk(root, [RAW / FOLDERS[1]])
    by_name = record_counts(open_database(root), ["district"])
    with_lookup = record_counts(
        open_database(imported), ["district"], start=date(2018, 10, 1), end=date(2019, 2, 1)
    )
    assert by_name.equals(with_lookup)


def test_anti_social_behaviour_is_kept_as_its_own_kind(imported: Path):
    raw = Counter(
        "asb" if row["crime_type"] == "Anti-social behaviour" else "crime" for row in _raw_rows()
    )
    counted = record_counts(open_database(imported), ["record_kind"])
    assert dict(zip(counted["record_kind"], counted["count_records"], strict=True)) == dict(raw)


def test_windows_over_the_gap_are_incomplete_and_the_chart_shows_a_gap(imported: Path):
    db = open_database(imported)
    assert date(2018, 8, 1) not in covered_months(db)
    table = insight_table(db, view_at(db, date(2019, 2, 1)), strand_id="burglary-robbery")
    current = table[table["comparison"] == "previous_year"].iloc[0]
    assert current["current_count"] is None or current["current_count"] != current["current_count"]
    assert not bool(current["complete"])
    assert {"2018-08", "2018-09"} <= set(current["missing_months"])
    series = monthly_series(db, view_at(db, date(2019, 2, 1)), months=14, measure_ids=["burglary"])
    series = series.assign(month=[f"{m:%Y-%m}" for m in series["month_start"]])
    august = series[series["month"] == "2018-08"]
    assert not august["is_covered"].iloc[0] and august["count_records"].isna().all()
    raw_burglary = sum(
        1 for row in _raw_rows() if row["month"] == "2018-07" and row["crime_type"] == "Burglary"
    )
    july = series[series["month"] == "2018-07"]
    assert int(july["count_records"].iloc[0]) == raw_burglary


def test_importing_the_same_files_again_changes_nothing(imported: Path):
    before = {p: p.read_bytes() for p in sorted((imported / "records").rglob("*.parquet"))}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "crimeprev.cli",
            "--data-dir",
            str(imported),
            "import",
            "police-uk",
            str(RAW / FOLDERS[0]),
            "--lsoa-lookup",
            str(LOOKUP),
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    again = json.loads(result.stdout)
    assert again["months_written"] == []
    assert len(again["months_unchanged"]) == 7
    after = {p: p.read_bytes() for p in sorted((imported / "records").rglob("*.parquet"))}
    assert after == before
    assert [entry["kind"] for entry in import_log(imported)][-2:] == ["police-uk", "police-uk"]


def test_strands_the_files_cannot_measure_say_so(imported: Path):
    db = open_database(imported)
    rape = db.config.strand("rape")
    assert not rape.measures and "Violence and sexual offences" in (rape.not_supported or "")
    knife = db.config.strand("knife-crime")
    assert [m.id for m in knife.measures] == ["possession-of-weapons"]
    assert "knife-enabled" in (knife.measures[0].proxy_note or "")


def test_the_district_breakdown_leaves_incomplete_years_empty(imported: Path):
    from crimeprev.figures.insight import district_breakdown

    breakdown = district_breakdown(
        open_database(imported),
        view_at(open_database(imported), date(2019, 2, 1)),
        measure_id="burglary",
    )
    assert set(breakdown["district_name"]) >= {"Colchester", "Outside force area", "No location"}
    assert breakdown["current_count"].isna().all() and breakdown["diff"].isna().all()
    assert "August and September 2018" in breakdown["note"].iloc[0]
