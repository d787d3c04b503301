"""The delivery tracker: the demo's plan written as a tracker comes back byte for byte and gives
the same status table; the template downloads, validates and imports; malformed rows are set
aside with their reasons; a failed or killed import leaves the previous plan in place.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import signal
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from crimeprev import cli
from crimeprev.config import load_config
from crimeprev.db import Database
from crimeprev.figures import delivery
from crimeprev.imports.common import ImportFailed, import_log, quarantined_rows
from crimeprev.imports.delivery import (
    COLUMNS,
    import_delivery,
    template_csv,
    template_xlsx,
)
from crimeprev.store import REPOSITORY_ROOT

HEADER = ",".join(COLUMNS)


def demo_tracker_rows(demo_root: Path) -> list[list[str]]:
    """The demo's delivery plan as tracker rows: one per action and quarter."""
    folder = demo_root / "delivery"
    with (folder / "actions.csv").open(newline="") as handle:
        actions = {row["action_id"]: row for row in csv.DictReader(handle)}
    with (folder / "status.csv").open(newline="") as handle:
        statuses = list(csv.DictReader(handle))
    return [
        [actions[s["action_id"]][c] if c in actions[s["action_id"]] else s[c] for c in COLUMNS]
        for s in statuses
    ]


def write_csv(path: Path, header: list[str] | tuple[str, ...], rows: list[list[str]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def test_the_demo_plan_as_a_tracker_comes_back_byte_for_byte(demo_root: Path, tmp_path: Path):
    rows = demo_tracker_rows(demo_root)
    # A tracker kept by hand: column names in words, the strand's name rather than its id.
    names = {s.id: s.name for s in load_config().strands}
    by_name = [r[:1] + [names[r[1]]] + r[2:] for r in rows]
    header = [
        "Action ID",
        "Strand",
        "Title",
        "Target month",
        "Completed month",
        "Quarter end",
        "Status",
    ]
    tracker = write_csv(tmp_path / "tracker.csv", header, by_name)
    root = tmp_path / "data"
    summary = import_delivery(root, tracker)
    assert (summary.rows_read, summary.rows_loaded, summary.rows_quarantined) == (
        len(rows),
    ) * 2 + (0,)
    for name in ("actions.csv", "status.csv"):
        assert (root / "delivery" / name).read_bytes() == (
            demo_root / "delivery" / name
        ).read_bytes()
    september = date(2022, 9, 1)
    imported = delivery.status_table(Database(root), september)
    expected = delivery.status_table(Database(demo_root), september)
    assert imported.equals(expected)
    assert summary.files[0].months == ["2021-12", "2022-03", "2022-06", "2022-09"]


def test_the_xlsx_template_has_lists_a_frozen_header_and_imports(tmp_path: Path):
    config = load_config()
    workbook = load_workbook(io.BytesIO(template_xlsx(config)))
    assert workbook.sheetnames == ["Tracker", "Lists", "Instructions"]
    tracker = workbook["Tracker"]
    assert [c.value for c in tracker[1]] == list(COLUMNS)
    assert tracker.freeze_panes == "A2"
    assert tracker.max_row == 2
    lists = workbook["Lists"]
    strand_ids = [lists.cell(row=i + 2, column=1).value for i in range(len(config.strands))]
    assert strand_ids == [s.id for s in config.strands]
    statuses = [lists.cell(row=i + 2, column=4).value for i in range(4)]
    assert statuses == list(config.taxonomy.delivery_statuses)
    validations = {str(v.sqref): v.formula1 for v in tracker.data_validations.dataValidation}
    assert validations == {"B2:B1000": "Lists!$A$2:$A$15", "G2:G1000": "Lists!$D$2:$D$5"}
    assert "quarter_end" in " ".join(str(c.value) for c in workbook["Instructions"]["A"])

    path = tmp_path / "template.xlsx"
    path.write_bytes(template_xlsx(config))
    root = tmp_path / "data"
    summary = import_delivery(root, path)
    assert (summary.rows_read, summary.rows_loaded) == (1, 1)
    actions = (root / "delivery" / "actions.csv").read_text().splitlines()
    assert actions[1].startswith("EX-001,knife-crime,")


def test_the_csv_template_imports_its_example_row(tmp_path: Path):
    path = tmp_path / "template.csv"
    path.write_bytes(template_csv())
    summary = import_delivery(tmp_path / "data", path)
    assert (summary.rows_read, summary.rows_loaded) == (1, 1)


def test_a_tracker_kept_in_excel_with_date_cells_loads(tmp_path: Path):
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(list(COLUMNS))
    sheet.append(
        [
            "KC-1",
            "knife-crime",
            "Knife bins",
            datetime(2022, 6, 1),
            None,
            datetime(2022, 6, 30),
            "Complete",
        ]
    )
    sheet.append(
        [
            "KC-1",
            "knife-crime",
            "Knife bins",
            datetime(2022, 6, 1),
            None,
            datetime(2022, 9, 30),
            "complete",
        ]
    )
    path = tmp_path / "tracker.xlsx"
    workbook.save(path)
    root = tmp_path / "data"
    summary = import_delivery(root, path)
    assert summary.rows_loaded == 2
    assert (root / "delivery" / "status.csv").read_text().splitlines() == [
        "action_id,quarter_end,status",
        "KC-1,2022-06,complete",
        "KC-1,2022-09,complete",
    ]


GOOD = ["KC-1", "knife-crime", "Knife bins", "2022-06", "2022-05", "2022-06", "complete"]


def tracker_row(**changes: str) -> list[str]:
    values = dict(zip(COLUMNS, GOOD, strict=True)) | changes
    return [values[c] for c in COLUMNS]


CASES = {
    # name: (the rows after a good first row, the reasons of the rows set aside, by line)
    "unknown strand": (
        [tracker_row(action_id="X-1", strand_id="knives")],
        {3: "unknown strand 'knives'"},
    ),
    "unknown status": (
        [tracker_row(action_id="X-1", status="done")],
        {3: "unknown status 'done' (expected complete, ongoing, at risk, not started)"},
    ),
    "duplicate action in a quarter": (
        [tracker_row()],
        {3: "action KC-1 already has a status for quarter 2022-06 (line 2)"},
    ),
    "title differs between rows": (
        [tracker_row(quarter_end="2022-09", title="Knife amnesty bins")],
        {
            2: "action KC-1 has a different strand, title or month on another row",
            3: "action KC-1 has a different strand, title or month on another row",
        },
    ),
    "month 2022-13": (
        [tracker_row(action_id="X-1", target_month="2022-13")],
        {3: "unparseable target month '2022-13' (expected YYYY-MM)"},
    ),
    "not a quarter end": (
        [tracker_row(action_id="X-1", quarter_end="2022-08")],
        {3: "quarter end 2022-08 is not the last month of a quarter"},
    ),
    "missing values": (
        [
            tracker_row(action_id=""),
            tracker_row(action_id="X-2", title=""),
            tracker_row(action_id="X-3", status=""),
        ],
        {3: "no action id", 4: "no title", 5: "no status"},
    ),
    "truncated line": ([GOOD[:4]], {3: "wrong number of fields: 4 where 7 are expected"}),
    "second header": ([list(COLUMNS)], {3: "a second header line inside the file"}),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_malformed_row_is_set_aside_with_its_reason(tmp_path: Path, case: str):
    rows, expected = CASES[case]
    path = write_csv(tmp_path / "tracker.csv", COLUMNS, [GOOD, *rows])
    root = tmp_path / "data"
    summary = import_delivery(root, path, replace_partial=True)
    assert summary.rows_read == 1 + len(rows)
    assert summary.rows_read == summary.rows_loaded + summary.rows_quarantined
    set_aside = quarantined_rows(root, summary.import_id).to_pylist()
    got = {q["line_number"]: q["reason"] for q in set_aside}
    assert set(got) == set(expected)
    for line_number, phrase in expected.items():
        assert got[line_number].startswith(phrase)
    status_rows = (
        (root / "delivery" / "status.csv").read_text().splitlines()[1:]
        if (root / "delivery" / "status.csv").is_file()
        else []
    )
    assert len(status_rows) == summary.rows_loaded


def test_wrong_encoding_sets_aside_only_that_line(tmp_path: Path):
    content = (
        HEADER
        + "\n"
        + ",".join(GOOD)
        + "\n"
        + ",".join(tracker_row(action_id="X-1", title="Caf\xe9 patrols"))
        + "\n"
    ).encode("latin-1")
    path = tmp_path / "tracker.csv"
    path.write_bytes(content)
    summary = import_delivery(tmp_path / "data", path)
    assert (summary.rows_loaded, summary.rows_quarantined) == (1, 1)
    assert "not valid UTF-8" in next(iter(summary.reasons))


UNREADABLE = {
    "empty": ("tracker.csv", b"", "is empty"),
    "binary": ("tracker.csv", b"\x00\x01\x02" * 50, "binary file"),
    "wrong delimiter": ("tracker.csv", (";".join(COLUMNS) + "\n").encode(), "semicolons"),
    "columns missing": (
        "tracker.csv",
        b"action_id,strand_id,title\nKC-1,knife-crime,x\n",
        "has no column target_month, completed_month, quarter_end, status",
    ),
    "not XLSX": ("tracker.xlsx", b"not a workbook", "cannot be read as an XLSX"),
}


@pytest.mark.parametrize("case", sorted(UNREADABLE))
def test_a_file_that_cannot_be_read_leaves_the_plan_alone(tmp_path: Path, case: str):
    name, content, phrase = UNREADABLE[case]
    root = tmp_path / "data"
    import_delivery(root, write_csv(tmp_path / "first.csv", COLUMNS, [GOOD]))
    before = _plan(root)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportFailed, match=re.escape(phrase)):
        import_delivery(root, path)
    assert _plan(root) == before


def test_nothing_loadable_leaves_the_plan_alone(tmp_path: Path):
    root = tmp_path / "data"
    import_delivery(root, write_csv(tmp_path / "first.csv", COLUMNS, [GOOD]))
    before = _plan(root)
    bad = write_csv(tmp_path / "bad.csv", COLUMNS, [tracker_row(status="finished")])
    summary = import_delivery(root, bad)
    assert summary.rows_quarantined == 1 and _plan(root) == before
    assert "left as it was" in summary.notes[-1]


def _plan(root: Path) -> dict[str, bytes]:
    folder = root / "delivery"
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_importing_the_same_tracker_twice_changes_nothing(tmp_path: Path):
    root = tmp_path / "data"
    path = write_csv(tmp_path / "tracker.csv", COLUMNS, [GOOD])
    import_delivery(root, path)
    before = _plan(root)
    summary = import_delivery(root, path)
    assert _plan(root) == before
    assert "already held exactly 1 action" in summary.notes[-1]
    assert [entry["kind"] for entry in import_log(root)] == ["delivery", "delivery"]


def test_a_failure_before_the_commit_leaves_the_previous_plan(tmp_path: Path):
    root = tmp_path / "data"
    import_delivery(root, write_csv(tmp_path / "first.csv", COLUMNS, [GOOD]))
    before = _plan(root)

    def fail() -> None:
        raise OSError("disk full")

    second = write_csv(tmp_path / "second.csv", COLUMNS, [tracker_row(action_id="KC-2")])
    with pytest.raises(OSError, match="disk full"):
        import_delivery(root, second, before_commit=fail)
    assert _plan(root) == before


KILLED_IMPORT = """
import os, signal, sys
from pathlib import Path
from crimeprev.imports.delivery import import_delivery
import_delivery(Path(sys.argv[1]), Path(sys.argv[2]),
                before_commit=lambda: os.kill(os.getpid(), signal.SIGKILL))
"""


def test_an_import_killed_half_way_leaves_the_previous_plan(tmp_path: Path):
    root = tmp_path / "data"
    import_delivery(root, write_csv(tmp_path / "first.csv", COLUMNS, [GOOD]))
    before = {k: v for k, v in _plan(root).items()}
    second = write_csv(tmp_path / "second.csv", COLUMNS, [tracker_row(action_id="KC-2")])
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, str(root), str(second)],
        cwd=REPOSITORY_ROOT,
        env=os.environ,
        capture_output=True,
    )
    assert killed.returncode == -signal.SIGKILL
    leftovers = [p for p in (root / "delivery").iterdir() if p.name.startswith(".")]
    assert leftovers, "the killed import had written its files aside"
    assert {
        p.name: p.read_bytes() for p in (root / "delivery").iterdir() if not p.name.startswith(".")
    } == before
    import_delivery(root, second)
    assert not [p for p in (root / "delivery").iterdir() if p.name.startswith(".")]
    assert "KC-2" in (root / "delivery" / "actions.csv").read_text()


def test_the_command_writes_templates_and_prints_json(tmp_path: Path, capsys):
    root = tmp_path / "data"
    xlsx, csv_path = tmp_path / "tracker.xlsx", tmp_path / "tracker.csv"
    for path in (xlsx, csv_path):
        assert (
            cli.main(["--data-dir", str(root), "import", "delivery", "--template", str(path)]) == 0
        )
    assert load_workbook(xlsx).sheetnames[0] == "Tracker"
    assert csv_path.read_text().splitlines()[0] == HEADER
    capsys.readouterr()
    assert (
        cli.main(["--data-dir", str(root), "import", "delivery", str(csv_path), "--format", "json"])
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    assert summary["kind"] == "delivery"
    assert summary["files"][0]["rows_read"] == 1 == summary["rows_loaded"]
    assert (
        cli.main(
            [
                "--data-dir",
                str(root),
                "import",
                "delivery",
                "--template",
                str(tmp_path / "tracker.txt"),
            ]
        )
        == 2
    )
    assert "Name the template .xlsx or .csv" in capsys.readouterr().err
    assert cli.main(["--data-dir", str(root), "import", "delivery"]) == 2
    assert "Name the tracker to import" in capsys.readouterr().err
