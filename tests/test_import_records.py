"""A force's own record extract imported through a mapping: a year of the demo extract written
in a force's own columns and labels comes back exactly; CSV, Parquet and XLSX load the same
records; malformed files and mappings give one clear sentence; no row is lost silently.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from openpyxl import Workbook

from crimeprev import cli
from crimeprev.aggregate import open_database
from crimeprev.figures import insight
from crimeprev.figures.counts import record_counts
from crimeprev.imports.common import NOT_UTF8_REASON, ImportFailed, import_log, quarantined_rows
from crimeprev.imports.records import import_records
from crimeprev.store import RECORD_SCHEMA, REPOSITORY_ROOT, snapshot_root, snapshots_dir
from crimeprev.view import View

MAPPING = REPOSITORY_ROOT / "examples" / "force-records-mapping.toml"
HEADER = [
    "Crime Reference",
    "Recorded Date",
    "District",
    "Offence Group",
    "Record Type",
    "Outcome",
    "LSOA",
    "Latitude",
    "Longitude",
    "Knife Flag",
    "DA Marker",
    "Hate Flag",
    "NTE Flag",
    "Cyber Flag",
    "CSA Flag",
]

# The demo's records written as a force's extract would hold them: the force's own labels for
# record kinds, some crime types, districts and outcomes; the day a record was made rather than
# its month; flags as Y, N or blank. The labels are those of examples/force-records-mapping.toml.
AS_EXTRACT = """
select
    record_id as "Crime Reference",
    strftime(month_start + (abs(hash(record_id)) % 28)::integer, '%d/%m/%Y') as "Recorded Date",
    case abs(hash(record_id)) % 4
        when 0 then district_code
        when 1 then upper(d.district_name)
        when 2 then d.district_slug
        else case when district_code = 'E06000033' then 'Southend' else d.district_name end
    end as "District",
    case crime_type
        when 'Residential burglary' then 'Burglary - Residential'
        when 'Violence with injury' then 'Violence With Injury (VAP)'
        when 'Trafficking of drugs' then 'Drug Trafficking'
        when 'Anti-social behaviour' then 'ASB - Personal'
        else crime_type
    end as "Offence Group",
    case record_kind when 'crime' then 'Crime' when 'incident' then 'Incident' else 'ASB' end
        as "Record Type",
    case outcome
        when 'Charged or summonsed' then 'Charged/Summonsed'
        when 'Investigation complete; no suspect identified' then 'NFA - No Suspect'
        else coalesce(outcome, '')
    end as "Outcome",
    coalesce(lsoa_code, '') as "LSOA",
    latitude as "Latitude",
    longitude as "Longitude",
    case when is_knife_enabled then 'Y' else 'N' end as "Knife Flag",
    case when is_domestic_abuse then 'DA' else 'Not DA' end as "DA Marker",
    case when is_hate_crime then 'Yes' else '' end as "Hate Flag",
    case when is_night_time_economy then 'true' else 'false' end as "NTE Flag",
    case when is_online then '1' else '0' end as "Cyber Flag",
    case when is_child_sexual_abuse then 'y' else 'n' end as "CSA Flag"
from read_parquet($pattern::varchar, hive_partitioning = true) as r
inner join read_csv($districts::varchar, all_varchar = true) as d using (district_code)
where r.month_start between $first::date and $last::date
order by r.month_start, record_id
"""
DISTRICTS_CSV = REPOSITORY_ROOT / "crimeprev" / "config" / "districts.csv"


def demo_as_extract(demo_root: Path, first: date, last: date) -> duckdb.DuckDBPyRelation:
    return duckdb.sql(
        AS_EXTRACT,
        params={
            "pattern": str(demo_root / "records" / "month=*" / "*.parquet"),
            "districts": str(DISTRICTS_CSV),
            "first": first,
            "last": last,
        },
    )


def records_of(root: Path, first: date, last: date) -> pa.Table:
    """The records a data folder holds for some months, in one order, without the folder key."""
    table = duckdb.sql(
        "select * exclude (month) from read_parquet($pattern::varchar, hive_partitioning = true) "
        "where month_start between $first::date and $last::date order by record_id",
        params={
            "pattern": str(root / "records" / "month=*" / "*.parquet"),
            "first": first,
            "last": last,
        },
    ).to_arrow_table()
    return table.cast(RECORD_SCHEMA)


@pytest.fixture(scope="module")
def year_imported(demo_root: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("force-year")
    extract = folder / "extract.csv"
    demo_as_extract(demo_root, date(2021, 10, 1), date(2022, 9, 1)).write_csv(str(extract))
    root = folder / "data"
    argv = ["--data-dir", str(root), "import", "records", str(extract), "--mapping", str(MAPPING)]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert cli.main([*argv, "--format", "json"]) == 0
    return root, json.loads(printed.getvalue()), extract


def test_a_year_of_records_in_the_force_s_own_labels_comes_back_exactly(demo_root, year_imported):
    root, summary, extract = year_imported
    with extract.open(newline="") as handle:
        lines_in_file = sum(1 for _ in handle) - 1
    assert summary["rows_read"] == lines_in_file == summary["rows_loaded"]
    assert summary["rows_quarantined"] == 0
    first, last = date(2021, 10, 1), date(2022, 9, 1)
    assert records_of(root, first, last).equals(records_of(demo_root, first, last))
    assert summary["months_written"] == [
        f"{y}-{m:02d}"
        for y, m in [(2021, 10), (2021, 11), (2021, 12)] + [(2022, m) for m in range(1, 10)]
    ]
    file = summary["files"][0]
    assert set(file) >= {"file", "rows_read", "rows_loaded", "rows_quarantined"}
    assert file["rows_read"] == file["rows_loaded"] + file["rows_quarantined"]


def test_the_imported_year_gives_the_report_s_knife_crime_figure(year_imported):
    root, _, _ = year_imported
    table = insight.insight_table(
        open_database(root), View(date(2022, 9, 1)), strand_id="knife-crime"
    )
    assert int(table["current_count"].iloc[0]) == 3187


def test_importing_the_same_extract_again_changes_nothing(year_imported):
    root, _, extract = year_imported
    before = _checksums(root)
    summary = import_records(root, [extract], MAPPING)
    assert summary.months_written == []
    assert len(summary.months_unchanged) == 12
    assert _checksums(root) == before
    assert import_log(root)[-1]["import_id"] == summary.import_id


def test_csv_parquet_and_xlsx_extracts_load_the_same_records(demo_root: Path, tmp_path: Path):
    september = date(2022, 9, 1)
    relation = demo_as_extract(demo_root, september, september).limit(300)
    rows = relation.fetchall()
    columns = relation.columns
    csv_path = tmp_path / "extract.csv"
    relation.write_csv(str(csv_path))
    # Parquet and XLSX hold the day as a real date and coordinates as numbers.
    typed = [
        [
            datetime.strptime(v, "%d/%m/%Y").date() if c == "Recorded Date" else v
            for c, v in zip(columns, row, strict=True)
        ]
        for row in rows
    ]
    table = pa.Table.from_pylist([dict(zip(columns, r, strict=True)) for r in typed])
    parquet_path = tmp_path / "extract.parquet"
    pq.write_table(table, parquet_path)
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(columns)
    for row in typed:
        sheet.append([datetime(v.year, v.month, v.day) if isinstance(v, date) else v for v in row])
    xlsx_path = tmp_path / "extract.xlsx"
    workbook.save(xlsx_path)
    loaded = {}
    for path in (csv_path, parquet_path, xlsx_path):
        root = tmp_path / path.suffix.lstrip(".")
        summary = import_records(root, [path], MAPPING)
        assert (summary.rows_read, summary.rows_loaded) == (300, 300), path
        loaded[path.suffix] = records_of(root, september, september)
    assert loaded[".csv"].num_rows == 300
    assert loaded[".parquet"].equals(loaded[".csv"])
    assert loaded[".xlsx"].equals(loaded[".csv"])


def row(
    ref: str = "R1",
    day: str = "14/09/2022",
    district: str = "Colchester",
    offence: str = "Burglary - Residential",
    kind: str = "Crime",
    outcome: str = "Charged/Summonsed",
    lsoa: str = "E01021500",
    coords: tuple[str, str] = ("51.889", "0.901"),
    knife: str = "N",
    da: str = "Not DA",
) -> str:
    values = [ref, day, district, offence, kind, outcome, lsoa, *coords, knife, da, "", "", "", ""]
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


GOOD = [row(f"R{i}") for i in range(5)]


def lines(*rows: str, header: str = ",".join(HEADER), end: str = "\n") -> str:
    return end.join([header, *rows]) + end


def extract_file(folder: Path, content: str | bytes, name: str = "extract.csv") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8", newline="")
    return path


def check_accounted(root: Path, summary, expected_read: int) -> None:
    """Nothing read goes missing: every row is in the data or in the quarantine file."""
    assert summary.rows_read == expected_read
    for report in summary.files:
        assert report.rows_read == report.rows_loaded + report.rows_quarantined
    set_aside = quarantined_rows(root, summary.import_id)
    assert set_aside.num_rows == summary.rows_quarantined
    held = record_counts(open_database(root), []) if summary.rows_loaded else None
    assert (0 if held is None else int(held["count_records"].iloc[0])) == summary.rows_loaded


CASES = {
    # name: (file content, rows read, rows set aside, the line set aside, a phrase in its reason)
    "truncated last line": (
        lines(*GOOD) + "R9,14/09/2022,Colch",
        6,
        1,
        7,
        "wrong number of fields",
    ),
    "second header inside": (lines(GOOD[0], ",".join(HEADER), GOOD[1]), 3, 1, 3, "second header"),
    "month 2018-13": (lines(row(day="2018-13")), 1, 1, 2, "unparseable month '2018-13'"),
    "day that does not exist": (lines(row(day="31/02/2022")), 1, 1, 2, "unparseable month"),
    "month in the future": (lines(row(day="01/01/2999")), 1, 1, 2, "2999-01 is in the future"),
    "duplicated rows": (lines(GOOD[0], GOOD[0], GOOD[1]), 3, 1, 3, "duplicate record id 'R0'"),
    "no record id": (lines(row(ref="")), 1, 1, 2, "no record id"),
    "unknown crime type": (
        lines(row(offence="Burglary (dwelling)")),
        1,
        1,
        2,
        "unknown crime type 'Burglary (dwelling)'",
    ),
    "unknown district": (lines(row(district="Gotham")), 1, 1, 2, "unknown district 'Gotham'"),
    "unknown record kind": (lines(row(kind="Call")), 1, 1, 2, "unknown record kind 'Call'"),
    "unknown outcome": (lines(row(outcome="Sent to Coventry")), 1, 1, 2, "unknown outcome"),
    "a flag that is neither": (
        lines(row(knife="maybe")),
        1,
        1,
        2,
        "flag is_knife_enabled has value 'maybe'",
    ),
    "coordinates outside the UK": (
        lines(row(coords=("48.85", "2.35"))),
        1,
        1,
        2,
        "coordinates outside the UK",
    ),
    "coordinates not numbers": (lines(row(coords=("north", "0.9"))), 1, 1, 2, "not numbers"),
    "one coordinate only": (lines(row(coords=("51.8", ""))), 1, 1, 2, "only one of"),
    "unmatched quote": (lines(GOOD[0].replace("Colchester", 'Colch"ester')), 1, 1, 2, "quote"),
    "an extra field": (lines(GOOD[0] + ",extra"), 1, 1, 2, "wrong number of fields: 16"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_row_is_set_aside_with_its_line_and_reason(tmp_path: Path, case: str):
    content, read, set_aside, line_number, phrase = CASES[case]
    root = tmp_path / "data"
    summary = import_records(root, [extract_file(tmp_path / "in", content)], MAPPING)
    check_accounted(root, summary, read)
    assert summary.rows_quarantined == set_aside
    quarantine = quarantined_rows(root, summary.import_id).to_pylist()
    assert [q["line_number"] for q in quarantine] == [line_number]
    assert phrase in quarantine[0]["reason"]
    assert quarantine[0]["file"] == str(tmp_path / "in" / "extract.csv")


def test_wrong_encoding_sets_aside_only_the_undecodable_lines(tmp_path: Path):
    content = (
        lines(*GOOD[:2], row("R8", district="Colchester", offence="Café damage"))
        .encode("utf-8")
        .replace("Café".encode(), "Café".encode("latin-1"))
    )
    root = tmp_path / "data"
    summary = import_records(root, [extract_file(tmp_path / "in", content)], MAPPING)
    check_accounted(root, summary, 3)
    assert [
        (q["line_number"], q["reason"])
        for q in quarantined_rows(root, summary.import_id).to_pylist()
    ] == [(4, NOT_UTF8_REASON)]
    assert any("not UTF-8" in note for note in summary.notes)


def test_crlf_bom_blank_lines_quoted_commas_and_loose_header_names_all_load(tmp_path: Path):
    loose_header = ",".join(h.lower().replace(" ", "_") for h in HEADER)
    quoted = row(
        "R7, part 2",
        outcome="Investigation complete; no suspect identified",
        district="E06000033",
        offence="Criminal damage and arson",
    )
    content = "\ufeff" + lines(GOOD[0], "", quoted, header=loose_header, end="\r\n")
    root = tmp_path / "data"
    summary = import_records(root, [extract_file(tmp_path / "in", content)], MAPPING)
    check_accounted(root, summary, 2)
    assert summary.rows_loaded == 2 and summary.files[0].blank_lines == 1


def test_a_blank_district_is_no_location_and_labels_map_to_districts(tmp_path: Path):
    content = lines(
        row("R1", district=""),
        row("R2", district="Southend"),
        row("R3", district="out of force"),
        row("R4", district="castle-point"),
    )
    root = tmp_path / "data"
    summary = import_records(root, [extract_file(tmp_path / "in", content)], MAPPING)
    assert summary.rows_by_district == {
        "No location": 1,
        "Southend-on-Sea": 1,
        "Outside force area": 1,
        "Castle Point": 1,
    }


UNREADABLE = {
    # name: (file name, content, a phrase of the one-sentence message)
    "empty": ("extract.csv", b"", "is empty"),
    "only blank lines": ("extract.csv", b"\n\n  \n", "is empty"),
    "binary": ("extract.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" * 10, "binary file"),
    "wrong delimiter": (
        "extract.csv",
        lines(*(r.replace(",", ";") for r in GOOD), header=";".join(HEADER)).encode(),
        "separated by semicolons, not commas",
    ),
    "a column missing": (
        "extract.csv",
        lines(header=",".join(HEADER).replace("Offence Group", "Offence")).encode(),
        "no column 'Offence Group' (for crime_type)",
    ),
    "not Parquet": (
        "extract.parquet",
        b"Crime Reference,Recorded Date\n",
        "cannot be read as Parquet",
    ),
    "not XLSX": ("extract.xlsx", b"PK\x03\x04 not really a zip", "cannot be read as an XLSX"),
    "old Excel": ("extract.xls", b"\xd0\xcf\x11\xe0", "old-style .xls"),
    "unknown kind of file": ("extract.dat", b"x", "does not say its format"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_file_that_cannot_be_read_is_refused_in_one_sentence(tmp_path: Path, case: str):
    name, content, phrase = UNREADABLE[case]
    root = tmp_path / "data"
    with pytest.raises(ImportFailed, match=re.escape(phrase)) as raised:
        import_records(root, [extract_file(tmp_path / "in", content, name)], MAPPING)
    assert "\n" not in str(raised.value)
    assert not (root / "records").exists() or not any((root / "records").iterdir())
    assert [e["status"] for e in import_log(root)] == ["refused"]


def _mapping(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "mapping.toml"
    path.write_text(text, encoding="utf-8")
    return path


BASE_MAPPING = """
force = "Essex Police"
[columns]
record_id = "Crime Reference"
month = "Recorded Date"
district = "District"
crime_type = "Offence Group"
"""

BAD_MAPPINGS = {
    # name: (mapping text, a phrase of the message)
    "not TOML": ("force = ", "not valid TOML"),
    "an unknown key": (BASE_MAPPING.replace("force =", "forse = 1\nforce ="), "unknown key forse"),
    "no force": (BASE_MAPPING.replace('force = "Essex Police"', ""), "'force' is missing"),
    "an unknown column key": (BASE_MAPPING + 'offence = "Offence"\n', "unknown key offence"),
    "a required column missing": (
        BASE_MAPPING.replace('district = "District"\n', ""),
        "must name the column for district",
    ),
    "latitude alone": (BASE_MAPPING + 'latitude = "Latitude"\n', "both latitude and longitude"),
    "an unknown flag": (
        BASE_MAPPING + '[flags]\nis_knife = "Knife Flag"\n',
        "unknown key is_knife",
    ),
    "a label mapped to an unknown crime type": (
        BASE_MAPPING + '[values.crime_type]\n"Burglary" = "Burglary"\n',
        "not a known crime type",
    ),
    "a flag true and false at once": (
        BASE_MAPPING
        + '[flags]\nis_online = { column = "Cyber Flag", true = ["Y"], false = ["y"] }\n',
        "both true and false",
    ),
    "a month format DuckDB cannot use": (
        BASE_MAPPING.replace("force =", 'month_format = "%Q"\nforce ='),
        "month_format '%Q'",
    ),
    "a column the file lacks": (
        BASE_MAPPING + 'outcome = "Result"\n',
        "no column 'Result' (for outcome)",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_MAPPINGS))
def test_a_mistake_in_the_mapping_is_named_before_anything_is_read(tmp_path: Path, case: str):
    text, phrase = BAD_MAPPINGS[case]
    mapping = _mapping(tmp_path, text)
    root = tmp_path / "data"
    with pytest.raises(ImportFailed, match=re.escape(phrase)):
        import_records(root, [extract_file(tmp_path / "in", lines(*GOOD))], mapping)
    assert not (root / "records").exists()


def test_a_police_uk_folder_is_refused(tmp_path: Path):
    root = tmp_path / "police"
    (root / "config").mkdir(parents=True)
    profile = REPOSITORY_ROOT / "crimeprev" / "config" / "profiles" / "police-uk"
    for name in ("strategy.toml", "taxonomy.toml"):
        shutil.copyfile(profile / name, root / "config" / name)
    with pytest.raises(ImportFailed, match="data.police.uk data, not the force's own records"):
        import_records(root, [extract_file(tmp_path / "in", lines(*GOOD))], MAPPING)


def test_reimporting_a_month_replaces_only_that_force_s_records_of_that_month(tmp_path: Path):
    root = tmp_path / "data"
    august = row("A1", day="03/08/2022")
    import_records(root, [extract_file(tmp_path / "in", lines(*GOOD, august))], MAPPING)
    kent = _mapping(tmp_path, MAPPING.read_text().replace('"Essex Police"', '"Kent Police"'))
    import_records(root, [extract_file(tmp_path / "kent", lines(row("K1")))], kent)
    august_part = (root / "records" / "month=2022-08" / "part-0.parquet").read_bytes()
    summary = import_records(root, [extract_file(tmp_path / "again", lines(*GOOD[:2]))], MAPPING)
    assert summary.months_written == ["2022-09"]
    september = pq.read_table(root / "records" / "month=2022-09" / "part-0.parquet")
    assert sorted(
        zip(september["force"].to_pylist(), september["record_id"].to_pylist(), strict=True)
    ) == [("Essex Police", "R0"), ("Essex Police", "R1"), ("Kent Police", "K1")]
    assert (root / "records" / "month=2022-08" / "part-0.parquet").read_bytes() == august_part
    assert summary.months_covered == ["2022-08", "2022-09"]


def _checksums(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted((root / "records").rglob("*"))
        if p.is_file()
    }


def test_a_failure_before_the_commit_leaves_the_data_as_it_was(tmp_path: Path):
    root = tmp_path / "data"
    import_records(root, [extract_file(tmp_path / "in", lines(*GOOD))], MAPPING)
    before = _checksums(root)

    def fail() -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        import_records(
            root, [extract_file(tmp_path / "in2", lines(*GOOD[:2]))], MAPPING, before_commit=fail
        )
    assert _checksums(root) == before
    assert not list((root / "records").glob(".*"))


KILLED_IMPORT = """
import os, signal, sys
from pathlib import Path
from crimeprev.imports.records import import_records
import_records(Path(sys.argv[1]), [Path(sys.argv[2])], Path(sys.argv[3]),
               before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_an_import_killed_half_way_leaves_the_data_intact(tmp_path: Path):
    root = tmp_path / "data"
    import_records(root, [extract_file(tmp_path / "in", lines(*GOOD))], MAPPING)
    before = _checksums(root)
    log_before = import_log(root)
    changed = extract_file(tmp_path / "in2", lines(*GOOD[:2]))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, str(root), str(changed), str(MAPPING)],
        cwd=REPOSITORY_ROOT,
        env=os.environ,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    current = snapshot_root(root)
    assert [p for p in snapshots_dir(root).iterdir() if p != current]
    assert record_counts(open_database(root), [])["count_records"].iloc[0] == 5
    assert import_log(root) == log_before
    summary = import_records(root, [changed], MAPPING)
    assert import_log(root)[len(log_before)]["status"] == "interrupted"
    assert not [p for p in (root / "records").iterdir() if p.name.startswith(".")]
    assert summary.months_written == ["2022-09"]
    assert pq.read_table(root / "records" / "month=2022-09" / "part-0.parquet").num_rows == 2
    assert _checksums(root) != before


def test_the_command_prints_json_and_a_bad_file_gives_one_sentence(tmp_path: Path, capsys):
    root = tmp_path / "data"
    good = extract_file(tmp_path / "in", lines(*GOOD, row("R9", district="Gotham")))
    command = ["--data-dir", str(root), "import", "records", "--mapping", str(MAPPING)]
    assert cli.main([*command, str(good), "--format", "json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["rows_read"], summary["rows_loaded"], summary["rows_quarantined"]) == (6, 5, 1)
    assert summary["files"][0]["reasons"] == {"unknown district 'Gotham'": 1}
    assert cli.main([*command, str(good)]) == 0
    assert "set aside 1: unknown district 'Gotham'" in capsys.readouterr().out
    empty = extract_file(tmp_path / "empty", "")
    assert cli.main([*command, str(empty)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"crimeprev: {empty} is empty: it holds no header and no rows."
    )
