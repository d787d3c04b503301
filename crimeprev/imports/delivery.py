"""Import the delivery tracker (XLSX or CSV, one row per action and reporting quarter) and
write the template it is kept in.

Every row is loaded or set aside with its line (or row) and reason: an unknown strand or
status, a month that cannot be read, a quarter end that is not the end of a quarter, an action
given two statuses for one quarter, or an action whose strand, title or months differ between
its rows. The rows loaded replace the data folder's delivery/actions.csv and
delivery/status.csv together: both are written beside the old pair and swapped in under a
journal, so an import that fails or is killed leaves the previous pair as it was.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from crimeprev.config import Config, ConfigError, config_for, load_config
from crimeprev.db import Database
from crimeprev.imports.common import (
    NOT_UTF8_REASON,
    FileReport,
    ImportFailed,
    ImportSummary,
    Progress,
    load_table,
    no_progress,
    running_import,
    save_import,
    tally_files,
)
from crimeprev.imports.reading import Budget
from crimeprev.imports.records import ReadFile, normalise_name, read_file

# The tracker's columns, in the template's order; the import also accepts `strand` for
# `strand_id`, and matches names ignoring case, spaces and underscores.
COLUMNS = (
    "action_id",
    "strand_id",
    "title",
    "target_month",
    "completed_month",
    "quarter_end",
    "status",
)
ALIASES = {"strand_id": ("strand",)}
ACTIONS_FILE = "actions.csv"
STATUS_FILE = "status.csv"
ACTION_COLUMNS = ("action_id", "strand_id", "title", "target_month", "completed_month")
STATUS_COLUMNS = ("action_id", "quarter_end", "status")
TRACKER_SHEET = "Tracker"


def delivery_dir(root: Path) -> Path:
    return root / "delivery"


def _positions(read: ReadFile, label: str) -> list[int]:
    loose = [normalise_name(h) for h in read.header]
    positions, missing = [], []
    for column in COLUMNS:
        names = [normalise_name(n) for n in (column, *ALIASES.get(column, ()))]
        found = [i for i, h in enumerate(loose) if h in names]
        if len(found) > 1:
            raise ImportFailed(f"{label} has {len(found)} columns for {column}; keep one.")
        if not found:
            missing.append(column)
            continue
        positions.append(found[0] + 1)
    if missing:
        present = ", ".join(f"'{h}'" for h in read.header) or "none"
        raise ImportFailed(
            f"{label} has no column {', '.join(missing)}; a delivery tracker needs the columns "
            f"{', '.join(COLUMNS)} (download the template). Its columns are: {present}."
        )
    return positions


def _lookups(config: Config) -> dict[str, list[str]]:
    strands: dict[str, str] = {}
    for strand in config.strands:
        strands[strand.id.lower()] = strand.id
        strands.setdefault(strand.name.lower(), strand.id)
    statuses = {s.lower(): s for s in config.taxonomy.delivery_statuses}
    return {
        "strand_from": list(strands),
        "strand_to": list(strands.values()),
        "status_from": list(statuses),
        "status_to": list(statuses.values()),
        "status_names": list(config.taxonomy.delivery_statuses),
    }


def _check_rows(db: Database, read: ReadFile, label: str) -> pa.Table:
    files = pa.Table.from_pylist(
        [
            {
                "source_file": label,
                "unit": read.unit,
                "width": len(read.header),
                "header_fields": [h.strip().lower() for h in read.header],
                "header_line_number": read.header_line_number,
                "positions": _positions(read, label),
            }
        ],
        schema=pa.schema(
            [
                ("source_file", pa.string()),
                ("unit", pa.string()),
                ("width", pa.int64()),
                ("header_fields", pa.list_(pa.string())),
                ("header_line_number", pa.int64()),
                ("positions", pa.list_(pa.int64())),
            ]
        ),
    )
    load_table(db.connection, "delivery_files", files)
    load_table(db.connection, "delivery_lines", read.lines)
    lookups = _lookups(db.config)
    try:
        return db.query_arrow(
            "import_delivery_rows",
            not_utf8_reason=NOT_UTF8_REASON,
            strand_from=lookups["strand_from"],
            strand_to=lookups["strand_to"],
            status_from=lookups["status_from"],
            status_to=lookups["status_to"],
            status_names=lookups["status_names"],
        )
    finally:
        db.connection.execute("drop table delivery_files; drop table delivery_lines")


def _csv_bytes(header: tuple[str, ...], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def plan_files(loaded: pa.Table) -> dict[str, bytes]:
    """The two delivery files the loaded tracker rows make: each action once (in the order
    first seen) and each action's status per quarter."""
    rows = loaded.to_pylist()
    actions: dict[str, list[str]] = {}
    for row in rows:
        actions.setdefault(
            row["action_id"],
            [row[c] or "" for c in ACTION_COLUMNS],
        )
    order = {action_id: i for i, action_id in enumerate(actions)}
    statuses = sorted(
        ([row[c] for c in STATUS_COLUMNS] for row in rows),
        key=lambda r: (order[r[0]], r[1]),
    )
    return {
        ACTIONS_FILE: _csv_bytes(ACTION_COLUMNS, list(actions.values())),
        STATUS_FILE: _csv_bytes(STATUS_COLUMNS, statuses),
    }


def _finish_swap(journal: Path) -> None:
    """Move the staged files a journal names into place; repeating it is harmless."""
    folder = journal.parent
    staged = folder / json.loads(journal.read_text(encoding="utf-8"))["staged"]
    for name in (ACTIONS_FILE, STATUS_FILE):
        if (staged / name).is_file():
            os.replace(staged / name, folder / name)
    shutil.rmtree(staged, ignore_errors=True)
    journal.unlink()


def recover_delivery_writes(root: Path) -> None:
    """Finish a swap an interrupted import had committed to; drop files it had not."""
    folder = delivery_dir(root)
    if not folder.is_dir():
        return
    for journal in sorted(folder.glob(".journal-*.json")):
        _finish_swap(journal)
    for leftover in folder.glob(".journal-*.pending"):
        leftover.unlink(missing_ok=True)
    for leftover in folder.glob(".staging-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def replace_plan(
    root: Path, files: dict[str, bytes], before_commit: Callable[[], None] | None = None
) -> bool:
    """Replace delivery/actions.csv and status.csv as one change; False when they already
    hold exactly these bytes. Nothing changes if anything fails before the commit point."""
    folder = delivery_dir(root)
    folder.mkdir(parents=True, exist_ok=True)
    if all(
        (folder / name).is_file() and (folder / name).read_bytes() == content
        for name, content in files.items()
    ):
        if before_commit is not None:
            before_commit()
        return False
    batch = uuid.uuid4().hex
    staged = folder / f".staging-{batch}"
    try:
        staged.mkdir()
        for name, content in files.items():
            (staged / name).write_bytes(content)
        if before_commit is not None:
            before_commit()
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    journal = folder / f".journal-{batch}.json"
    pending = journal.with_suffix(".pending")
    pending.write_text(json.dumps({"staged": staged.name}), encoding="utf-8")
    pending.replace(journal)
    _finish_swap(journal)
    return True


PARTIAL_PROBLEM = (
    "{count} row{s} could not be loaded (listed with their reasons), so the delivery plan was "
    "left as it was: this import would replace the whole plan with the rest. Correct them and "
    "import again, or give --replace-partial to replace the plan with the rows that loaded."
)


def import_delivery(
    root: Path,
    path: Path,
    progress: Progress = no_progress,
    before_commit: Callable[[], None] | None = None,
    replace_partial: bool = False,
) -> ImportSummary:
    """Import a delivery tracker into the data folder `root`, replacing its delivery plan with
    the rows loaded; see the module docstring. When some rows are set aside the plan is only
    replaced with `replace_partial`. Returns what was read, loaded and set aside."""
    started = time.perf_counter()
    summary = ImportSummary(kind="delivery", data_dir=str(root))
    label = str(path)
    with running_import(root, summary) as scratch:
        recover_delivery_writes(root)
        try:
            config = config_for(root)
        except ConfigError as error:
            raise ImportFailed(
                f"The data folder's configuration cannot be used: {error}"
            ) from error
        db = Database(root, config)
        progress(0.1, f"Reading {path.name}")
        read = read_file(db, path, scratch, summary.notes, Budget(config.imports), None)
        report = FileReport(file=label)
        report.blank_lines = int(pc.sum(read.lines["is_blank"]).as_py() or 0)
        summary.files.append(report)
        progress(0.4, "Checking every row")
        rows = _check_rows(db, read, label)
        tally_files(summary, rows)
        loaded = rows.filter(pc.is_null(rows["reason"]))
        quarantined = rows.filter(pc.is_valid(rows["reason"]))
        quarters = sorted(set(loaded["quarter_end"].to_pylist()))
        report.months = quarters
        progress(0.7, "Writing the delivery plan")
        partial = loaded.num_rows and quarantined.num_rows and not replace_partial
        if partial:
            if before_commit is not None:
                before_commit()
            count = quarantined.num_rows
            report.problem = PARTIAL_PROBLEM.format(count=f"{count:,}", s="" if count == 1 else "s")
            summary.status = "refused"
            summary.notes.append(report.problem)
        elif loaded.num_rows:
            changed = replace_plan(root, plan_files(loaded), before_commit)
            count_actions = len(set(loaded["action_id"].to_pylist()))
            span = quarters[0] if len(quarters) == 1 else f"{quarters[0]} to {quarters[-1]}"
            summary.notes.append(
                f"The delivery plan {'now holds' if changed else 'already held exactly'} "
                f"{count_actions} action{'s' if count_actions != 1 else ''} with statuses "
                f"for the quarter{'s' if len(quarters) != 1 else ''} ending {span}."
            )
        else:
            if before_commit is not None:
                before_commit()
            summary.notes.append("No row could be loaded, so the delivery plan was left as it was.")
        summary.seconds = time.perf_counter() - started
        save_import(root, summary, quarantined)
        progress(1.0, "Done")
    return summary


def _example_row(config: Config) -> list[str]:
    strand = config.strands[0]
    statuses = config.taxonomy.delivery_statuses
    return [
        "EX-001",
        strand.id,
        "Example action: replace this row with your own",
        "2023-03",
        "",
        "2022-09",
        "ongoing" if "ongoing" in statuses else statuses[0],
    ]


def template_csv(config: Config | None = None) -> bytes:
    """The tracker template as CSV: the header and one example row."""
    config = config or load_config()
    return _csv_bytes(COLUMNS, [_example_row(config)])


INSTRUCTIONS = (
    "How to fill in the delivery tracker",
    "",
    "Each row is one action's position at the end of one reporting quarter. An action "
    "reported on in four quarters has four rows, with the same action_id, strand, title and "
    "months on each, and that quarter's status.",
    "",
    "action_id: your reference for the action, e.g. KNF-014. It must not change between quarters.",
    "strand_id: the strand the action belongs to; pick it from the list (the Lists sheet "
    "shows each strand's name).",
    "title: what the action is, in a line.",
    "target_month: the month the action is due to be finished, written YYYY-MM.",
    "completed_month: the month it was finished, YYYY-MM; leave blank until then.",
    "quarter_end: the last month of the reporting quarter, YYYY-MM: March, June, September "
    "or December.",
    "status: the action's status at that quarter end; pick it from the list.",
    "",
    "Replace the example row, keep the header row as it is, and save as .xlsx (or as CSV). "
    "Load it with: crimeprev import delivery tracker.xlsx",
    "",
    "The import replaces the whole delivery plan with this file. A row it cannot use (an "
    "unknown strand or status, a month it cannot read, a second status for the same action "
    "and quarter, an action whose details differ between rows) is set aside and listed "
    "with its row number and reason; the rest are loaded.",
)


def template_xlsx(config: Config | None = None) -> bytes:
    """The tracker template as an XLSX workbook: a frozen header row, drop-down lists of
    strand ids and statuses, one example row, and a sheet of instructions."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.worksheet.datavalidation import DataValidation

    config = config or load_config()
    workbook = Workbook()
    tracker = workbook.active
    tracker.title = TRACKER_SHEET
    tracker.append(list(COLUMNS))
    tracker.append(_example_row(config))
    for cell in tracker[1]:
        cell.font = Font(bold=True)
    tracker.freeze_panes = "A2"
    for letter, width in zip("ABCDEFG", (12, 24, 60, 14, 16, 12, 14), strict=True):
        tracker.column_dimensions[letter].width = width
    for letter in "DEF":
        # Months stay the text YYYY-MM rather than becoming dates.
        tracker.column_dimensions[letter].number_format = "@"

    lists = workbook.create_sheet("Lists")
    lists.append(["strand_id", "strand_name", "", "status"])
    statuses = list(config.taxonomy.delivery_statuses)
    for index in range(max(len(config.strands), len(statuses))):
        strand = config.strands[index] if index < len(config.strands) else None
        lists.append(
            [
                strand.id if strand else None,
                strand.name if strand else None,
                None,
                statuses[index] if index < len(statuses) else None,
            ]
        )
    for cell in lists[1]:
        cell.font = Font(bold=True)
    lists.column_dimensions["A"].width = 26
    lists.column_dimensions["B"].width = 50
    lists.column_dimensions["D"].width = 14

    strand_list = DataValidation(
        type="list",
        formula1=f"Lists!$A$2:$A${len(config.strands) + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Unknown strand",
        error="Pick a strand id from the list (see the Lists sheet).",
    )
    status_list = DataValidation(
        type="list",
        formula1=f"Lists!$D$2:$D${len(statuses) + 1}",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle="Unknown status",
        error="Pick one of: " + ", ".join(statuses) + ".",
    )
    tracker.add_data_validation(strand_list)
    tracker.add_data_validation(status_list)
    strand_list.add("B2:B1000")
    status_list.add("G2:G1000")

    instructions = workbook.create_sheet("Instructions")
    for line in INSTRUCTIONS:
        instructions.append([line])
    instructions["A1"].font = Font(bold=True, size=13)
    instructions.column_dimensions["A"].width = 110
    for row in instructions.iter_rows():
        row[0].alignment = Alignment(wrap_text=True, vertical="top")

    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def write_template(path: Path, config: Config | None = None) -> None:
    """Write the tracker template to `path`: XLSX or CSV, by the file's name."""
    suffix = path.suffix.lower()
    if suffix == ".xlsx":
        content = template_xlsx(config)
    elif suffix == ".csv":
        content = template_csv(config)
    else:
        raise ImportFailed(f"Name the template .xlsx or .csv, not {path.name}.")
    path.write_bytes(content)
