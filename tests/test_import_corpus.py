"""Malformed data.police.uk files: each gives a clear reason, and no row is lost silently.

Every case is checked against the same promise: rows read = loaded + set aside, per file; the
rows set aside are in the quarantine file with their line numbers; the rest are in the data.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import zipfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from crimeprev.aggregate import open_database
from crimeprev.figures.counts import record_counts
from crimeprev.imports.common import ImportFailed, import_log, quarantined_rows
from crimeprev.imports.police_uk import import_police_uk
from crimeprev.store import REPOSITORY_ROOT, snapshot_root, snapshots_dir

HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
SNAKE_HEADER = (
    "crime_id,month,reported_by,falls_within,longitude,latitude,location,lsoa_code,lsoa_name,"
    "crime_type,last_outcome_category,context"
)


def row(
    crime_id: str = "a1",
    month: str = "2018-10",
    crime_type: str = "Burglary",
    lsoa: tuple[str, str] = ("E01021500", "Colchester 012A"),
    coords: tuple[str, str] = ("0.901", "51.889"),
    outcome: str = "Under investigation",
    force: str = "Essex Police",
) -> str:
    return ",".join(
        [
            crime_id,
            month,
            force,
            force,
            coords[0],
            coords[1],
            "On or near High Street",
            lsoa[0],
            lsoa[1],
            crime_type,
            outcome,
            "",
        ]
    )


GOOD = [row(f"id{i}") for i in range(5)]


def street_file(folder: Path, content: str | bytes, name: str = "2018-10-essex-street.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def lines(*rows: str, header: str = HEADER, end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def check_accounted(root: Path, summary, expected_read: int) -> None:
    """The promise every case keeps: nothing read goes missing."""
    assert summary.rows_read == expected_read
    for report in summary.files:
        assert report.rows_read == report.rows_loaded + report.rows_quarantined
    set_aside = quarantined_rows(root, summary.import_id) if summary.rows_quarantined else None
    assert (0 if set_aside is None else set_aside.num_rows) == summary.rows_quarantined
    if summary.rows_loaded:
        total = record_counts(open_database(root), [])["count_records"].iloc[0]
        assert total >= summary.rows_loaded


def reasons(root: Path, summary) -> list[tuple[int, str]]:
    table = quarantined_rows(root, summary.import_id)
    return list(zip(table["line_number"].to_pylist(), table["reason"].to_pylist(), strict=True))


CASES = {
    # name: (file content, rows read, rows set aside, a phrase in each reason). Where the
    # header is not recognised, its line is set aside too: nothing says it is not data.
    "truncated last line": (lines(*GOOD) + "id9,2018-10,Essex Po", 6, 1, "wrong number of fields"),
    "wrong delimiter": (
        lines(*(r.replace(",", ";") for r in GOOD), header=HEADER.replace(",", ";")),
        6,
        6,
        "not comma-separated",
    ),
    "second header inside": (lines(GOOD[0], HEADER, GOOD[1]), 3, 1, "second header"),
    "mixed header styles": (lines(GOOD[0], SNAKE_HEADER, GOOD[1]), 3, 1, "second header"),
    "month 2018-13": (lines(row(month="2018-13")), 1, 1, "unparseable month '2018-13'"),
    "month written as a date": (lines(row(month="01/10/2018")), 1, 1, "unparseable month"),
    "month not the file's": (lines(row(month="2018-11")), 1, 1, "does not match the file name"),
    "duplicated rows": (lines(GOOD[0], GOOD[0], GOOD[1]), 3, 1, "duplicate Crime ID"),
    "unknown category": (lines(row(crime_type="Burglary (dwelling)")), 1, 1, "unknown category"),
    "coordinates outside the UK": (
        lines(row(coords=("2.35", "48.85"))),
        1,
        1,
        "coordinates outside the UK",
    ),
    "coordinates not numbers": (lines(row(coords=("east", "51.8"))), 1, 1, "not numbers"),
    "one coordinate only": (lines(row(coords=("", "51.8"))), 1, 1, "only one of"),
    "unmatched quote": (lines(GOOD[0].replace("High Street", 'High "Street')), 1, 1, "quote"),
    "an extra field": (lines(GOOD[0] + ",extra"), 1, 1, "wrong number of fields: 13"),
    "a crime without its ID": (lines(row(crime_id="")), 1, 1, "no Crime ID"),
    "no header at all": (lines(*GOOD[1:], header=GOOD[0]), 5, 5, "not a data.police.uk"),
    "header of another dataset": (
        lines("1,2,3", header="Reference,Date,Outcome"),
        2,
        2,
        "not a data.police.uk",
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_file_sets_aside_exactly_its_bad_rows(tmp_path: Path, case: str):
    content, read, set_aside, phrase = CASES[case]
    source = street_file(tmp_path / "in", content)
    root = tmp_path / "data"
    summary = import_police_uk(root, [source])
    check_accounted(root, summary, read)
    assert summary.rows_quarantined == set_aside
    found = reasons(root, summary)
    assert found and all(phrase in reason for _, reason in found), found


def test_the_quarantine_names_file_and_line(tmp_path: Path):
    source = street_file(tmp_path / "in", lines(GOOD[0], row("x", month="2018-13"), GOOD[1]))
    root = tmp_path / "data"
    summary = import_police_uk(root, [source])
    table = quarantined_rows(root, summary.import_id)
    assert table["file"].to_pylist() == [str(source)]
    assert table["line_number"].to_pylist() == [3]
    assert table["line"].to_pylist() == [row("x", month="2018-13")]


def test_wrong_encoding_sets_aside_only_the_undecodable_lines(tmp_path: Path):
    bad = row("e1").replace("High Street", "Caf\xe9 Corner").encode("latin-1")
    content = lines(GOOD[0]).encode() + bad + b"\n" + GOOD[1].encode() + b"\n"
    root = tmp_path / "data"
    summary = import_police_uk(root, [street_file(tmp_path / "in", content)])
    check_accounted(root, summary, 3)
    assert reasons(root, summary) == [(3, reasons(root, summary)[0][1])]
    assert "UTF-8" in reasons(root, summary)[0][1]
    assert any("not UTF-8" in note for note in summary.notes)


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "empty"),
        (b"\n\r\n\n", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    ],
    ids=["empty", "only blank lines", "binary"],
)
def test_an_unreadable_file_is_named_with_its_problem(tmp_path: Path, content: bytes, problem):
    root = tmp_path / "data"
    good = street_file(tmp_path / "in", lines(*GOOD), name="2018-11-essex-street.csv")
    good.write_text(lines(*(r.replace("2018-10", "2018-11") for r in GOOD)))
    bad = street_file(tmp_path / "in", content)
    summary = import_police_uk(root, [bad, good])
    failed = {r.file: r.problem for r in summary.files if r.problem}
    assert list(failed) == [str(bad)] and problem in failed[str(bad)]
    assert summary.rows_loaded == 5


def test_header_only_reads_no_rows(tmp_path: Path):
    root = tmp_path / "data"
    summary = import_police_uk(root, [street_file(tmp_path / "in", lines())])
    assert summary.rows_read == 0 and not summary.failed_files


def test_crlf_bom_snake_case_and_quoted_commas_all_load(tmp_path: Path):
    quoted = row("q1").replace("On or near High Street", '"On or near Mill Lane, Quay"')
    content = "\ufeff" + lines(GOOD[0], quoted, header=SNAKE_HEADER, end="\r\n")
    root = tmp_path / "data"
    summary = import_police_uk(root, [street_file(tmp_path / "in", content)])
    check_accounted(root, summary, 2)
    assert summary.rows_quarantined == 0
    counted = record_counts(open_database(root), ["district", "crime_type"])
    assert counted.to_dict("records") == [
        {"district_name": "Colchester", "crime_type": "Burglary", "count_records": 2}
    ]


def test_blank_lines_are_not_rows(tmp_path: Path):
    content = HEADER + "\n" + GOOD[0] + "\n\n   \n" + GOOD[1] + "\n"
    root = tmp_path / "data"
    summary = import_police_uk(root, [street_file(tmp_path / "in", content)])
    check_accounted(root, summary, 2)
    assert summary.files[0].blank_lines == 2


def test_places_outside_and_unknown(tmp_path: Path):
    content = lines(
        row("o1", lsoa=("E01029876", "Babergh 001A")),
        row("n1", lsoa=("", ""), coords=("", "")),
        row("asb1", crime_type="Anti-social behaviour").replace("asb1,", ",", 1),
    )
    root = tmp_path / "data"
    summary = import_police_uk(root, [street_file(tmp_path / "in", content)])
    check_accounted(root, summary, 3)
    counted = record_counts(open_database(root), ["district", "record_kind"])
    assert sorted(map(tuple, counted.to_numpy().tolist())) == [
        ("Colchester", "asb", 1),
        ("No location", "crime", 1),
        ("Outside force area", "crime", 1),
    ]


def test_rows_reported_by_another_force_are_set_aside_when_a_force_is_named(tmp_path: Path):
    content = lines(GOOD[0], row("k1", force="Kent Police"))
    root = tmp_path / "data"
    source = street_file(tmp_path / "in", content)
    summary = import_police_uk(root, [source], force="Essex Police")
    check_accounted(root, summary, 2)
    assert [r for _, r in reasons(root, summary)] == ["reported by 'Kent Police', not Essex Police"]


def test_a_zip_archive_is_read_and_its_other_files_listed_as_skipped(tmp_path: Path):
    archive = tmp_path / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("2018-10/2018-10-essex-street.csv", lines(*GOOD))
        zipped.writestr("2018-10/2018-10-essex-outcomes.csv", "Crime ID,Month\n")
    root = tmp_path / "data"
    summary = import_police_uk(root, [archive])
    check_accounted(root, summary, 5)
    assert [s["file"] for s in summary.skipped_files] == [
        f"{archive}:2018-10/2018-10-essex-outcomes.csv"
    ]


def test_not_a_zip_and_no_such_path_are_refused_before_anything_is_written(tmp_path: Path):
    fake = tmp_path / "download.zip"
    fake.write_text("not a zip")
    root = tmp_path / "data"
    with pytest.raises(ImportFailed, match="not a readable zip"):
        import_police_uk(root, [fake])
    with pytest.raises(ImportFailed, match="does not exist"):
        import_police_uk(root, [tmp_path / "nowhere"])
    assert not (root / "records").exists()


def test_a_folder_of_the_force_s_own_records_is_not_mixed_with_police_uk(demo_root: Path, tmp_path):
    copy = tmp_path / "demo"
    shutil.copytree(demo_root / "records" / "month=2022-09", copy / "records" / "month=2022-09")
    source = street_file(tmp_path / "in", lines(*GOOD))
    with pytest.raises(ImportFailed, match="own categories"):
        import_police_uk(copy, [source])


def _checksums(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / "records").rglob("*"))
        if p.is_file()
    }


def test_a_failure_before_the_commit_leaves_the_data_as_it_was(tmp_path: Path):
    root = tmp_path / "data"
    import_police_uk(root, [street_file(tmp_path / "in", lines(*GOOD))])
    before = _checksums(root)
    changed = street_file(tmp_path / "in2", lines(*GOOD[:2]))

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        import_police_uk(root, [changed], before_commit=fail)
    assert _checksums(root) == before
    assert not list((root / "records").glob(".*"))


KILLED_IMPORT = """
import os, signal, sys
from pathlib import Path
from crimeprev.imports.police_uk import import_police_uk
import_police_uk(Path(sys.argv[1]), [Path(sys.argv[2])],
                 before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_an_import_killed_half_way_leaves_the_data_intact(tmp_path: Path):
    root = tmp_path / "data"
    import_police_uk(root, [street_file(tmp_path / "in", lines(*GOOD))])
    before = _checksums(root)
    log_before = import_log(root)
    changed = street_file(tmp_path / "in2", lines(*GOOD[:2]))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, str(root), str(changed)],
        cwd=REPOSITORY_ROOT,
        env=os.environ,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    current = snapshot_root(root)
    staged = [p for p in snapshots_dir(root).iterdir() if p != current]
    assert staged, "the killed import had written its months aside"
    assert record_counts(open_database(root), [])["count_records"].iloc[0] == 5
    assert import_log(root) == log_before
    summary = import_police_uk(root, [changed])
    assert not [p for p in (root / "records").iterdir() if p.name.startswith(".")]
    assert not (root / ".tmp").exists() or not any((root / ".tmp").iterdir())
    interrupted = import_log(root)[len(log_before)]
    assert interrupted["status"] == "interrupted"
    assert "before it switched its months in" in interrupted["notes"][0]
    assert summary.months_written == ["2018-10"]
    assert _checksums(root) != before
    part = root / "records" / "month=2018-10" / "part-0.parquet"
    assert pq.read_table(part).num_rows == 2
