"""Reading input files within the limits of the data folder's `[imports]` settings: only
regular files, text split into lines whatever their endings, zip members unpacked with their
bytes counted, and workbook sheets read by the cells they really hold.

A file past a limit raises `ImportFailed` before anything is written; every limit is checked
as bytes arrive, so a file that lies about its size (a zip member, a sheet's declared range)
is stopped at the limit rather than read whole.
"""

from __future__ import annotations

import io
import os
import stat
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from crimeprev.config import Imports
from crimeprev.imports.common import ImportFailed

BINARY_SNIFF_BYTES = 8192
CHUNK_BYTES = 1024 * 1024
BATCH_LINES = 100_000
LINES_SCHEMA = pa.schema([("line_number", pa.int64()), ("line", pa.string())])
SETTINGS = "the [imports] settings of the data folder's config/strategy.toml"


class FileProblem(Exception):
    """One file cannot be read at all (binary, empty): the message says why."""

    def __init__(self, message: str, empty: bool = False) -> None:
        super().__init__(message)
        self.empty = empty


def size_text(count: int) -> str:
    """A byte count as people read it."""
    value = float(count)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "bytes" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{count} bytes"


def not_regular(path: Path) -> str | None:
    """Why `path` is not a file to read (a symbolic link, a FIFO, a device, a socket, a
    folder), or None for a regular file. Links are not followed: a link can lead anywhere."""
    try:
        mode = os.lstat(path).st_mode
    except OSError:
        return "it does not exist"
    if stat.S_ISLNK(mode):
        return "a symbolic link, which is not followed (name the file it points to)"
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def require_regular(path: Path, label: str) -> None:
    """Refuse the import unless `path` is a regular file."""
    problem = not_regular(path)
    if problem == "it does not exist":
        raise ImportFailed(f"{label} does not exist.")
    if problem is not None:
        raise ImportFailed(f"{label} is {problem}; nothing was imported.")


@dataclass
class Budget:
    """The bytes an import may read: per file and in total, as `[imports]` sets them."""

    limits: Imports
    used: int = 0

    def check_file(self, label: str, size: int) -> None:
        if size > self.limits.max_file_bytes:
            raise ImportFailed(
                f"{label} holds {size_text(size)}, more than the "
                f"{size_text(self.limits.max_file_bytes)} one file may hold (max_file_bytes "
                f"in {SETTINGS}); nothing was imported."
            )

    def take(self, label: str, size: int) -> None:
        self.check_file(label, size)
        self.used += size
        if self.used > self.limits.max_total_bytes:
            raise ImportFailed(
                f"The files of this import hold more than {size_text(self.limits.max_total_bytes)}"
                f" (max_total_bytes in {SETTINGS}), reached at {label}; import them in smaller "
                "batches. Nothing was imported."
            )


def unpack_member(
    opened: zipfile.ZipFile, member: zipfile.ZipInfo, label: str, target: Path, budget: Budget
) -> None:
    """Unpack one zip member to `target`, counting its bytes against the limits as they come
    out (a member's declared size is checked first, but not trusted)."""
    budget.check_file(label, member.file_size)
    written = 0
    try:
        with opened.open(member) as source, target.open("wb") as sink:
            while chunk := source.read(CHUNK_BYTES):
                written += len(chunk)
                budget.check_file(label, written)
                sink.write(chunk)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, RuntimeError, ValueError) as error:
        target.unlink(missing_ok=True)
        raise ImportFailed(
            f"{label} cannot be unpacked: the zip archive is damaged ({error}). Download it "
            "again; nothing was imported."
        ) from error
    except NotImplementedError as error:
        target.unlink(missing_ok=True)
        raise ImportFailed(
            f"{label} is packed in a way that cannot be read ({error}); nothing was imported."
        ) from error
    budget.take(label, written)


@dataclass
class TextLines:
    """A text file read into numbered lines, kept as Parquet in the scratch folder."""

    path: Path
    count_lines: int
    note: str | None = None


def text_lines(path: Path, label: str, scratch: Path, budget: Budget) -> TextLines:
    """Read a text file into numbered lines: LF, CRLF and CR line endings alike, a UTF-8
    byte-order mark dropped, undecodable bytes marked (with a note) so that their lines can be
    set aside. A file past a limit raises ImportFailed; a file with nothing to read raises
    FileProblem."""
    require_regular(path, label)
    size = path.stat().st_size
    budget.take(label, size)
    limits = budget.limits
    with path.open("rb") as raw:
        if b"\x00" in raw.read(BINARY_SNIFF_BYTES):
            raise FileProblem("a binary file, not CSV text: nothing could be read")
        raw.seek(0)
        target = scratch / f"lines-{os.getpid()}-{id(budget)}-{budget.used}.parquet"
        # newline=None reads \r\n, \r and \n each as one line break.
        text = io.TextIOWrapper(raw, encoding="utf-8", errors="replace", newline=None)
        replaced = False
        count = 0
        numbers: list[int] = []
        lines: list[str] = []
        with pq.ParquetWriter(target, LINES_SCHEMA, compression="zstd") as writer:
            while True:
                line = text.readline(limits.max_line_bytes + 1)
                if not line:
                    break
                if line.endswith("\n"):
                    line = line[:-1]
                elif len(line) > limits.max_line_bytes:
                    raise ImportFailed(
                        f"{label} line {count + 1:,} is longer than "
                        f"{size_text(limits.max_line_bytes)} (max_line_bytes in {SETTINGS}): "
                        "its lines cannot be told apart. Nothing was imported."
                    )
                count += 1
                if count > limits.max_lines:
                    raise ImportFailed(
                        f"{label} holds more than {limits.max_lines:,} lines (max_lines in "
                        f"{SETTINGS}); split it or raise the limit. Nothing was imported."
                    )
                if count == 1:
                    line = line.removeprefix("\ufeff")
                replaced = replaced or "\ufffd" in line
                numbers.append(count)
                lines.append(line)
                if len(lines) >= BATCH_LINES:
                    writer.write_table(pa.table([numbers, lines], schema=LINES_SCHEMA))
                    numbers, lines = [], []
            if lines:
                writer.write_table(pa.table([numbers, lines], schema=LINES_SCHEMA))
    if count == 0:
        raise FileProblem("the file is empty", empty=True)
    note = "not UTF-8: lines with undecodable bytes were set aside" if replaced else None
    return TextLines(target, count, note)


@dataclass
class SheetCells:
    """A sheet's cells as read: values by row and column (1-based, only cells holding
    something), and the cells holding a formula without a saved value."""

    values: dict[int, dict[int, Any]] = field(default_factory=dict)
    unsaved_formulas: dict[int, list[str]] = field(default_factory=dict)
    max_row: int = 0
    max_column: int = 0


def _check_workbook_members(path: Path, label: str, budget: Budget) -> None:
    """A workbook is a zip archive: refuse one whose parts unpack past the limits before
    any of them is parsed."""
    try:
        with zipfile.ZipFile(path) as opened:
            total = 0
            for member in opened.infolist():
                budget.check_file(f"{label}:{member.filename}", member.file_size)
                total += member.file_size
            budget.check_file(label, total)
    except zipfile.BadZipFile:
        return  # openpyxl names the problem


def sheet_cells(path: Path, label: str, sheet: str | None, budget: Budget) -> SheetCells:
    """Read one sheet of an XLSX workbook by the cells it holds, not the range it declares:
    merged cells filled from their anchor, formulas taken from their saved values (a formula
    without one is noted). A used range past the limits raises ImportFailed."""
    from openpyxl import load_workbook
    from openpyxl.utils import range_boundaries
    from openpyxl.utils.cell import get_column_letter
    from openpyxl.utils.exceptions import InvalidFileException
    from openpyxl.worksheet._reader import FORMULA_TAG, WorkSheetParser

    require_regular(path, label)
    budget.take(label, path.stat().st_size)
    _check_workbook_members(path, label, budget)
    limits = budget.limits
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as error:
        raise ImportFailed(f"{label} cannot be read as an XLSX workbook ({error}).") from error

    class Parser(WorkSheetParser):  # type: ignore[misc]
        def parse_cell(self, element: Any) -> dict[str, Any]:
            cell: dict[str, Any] = super().parse_cell(element)
            cell["is_formula"] = element.find(FORMULA_TAG) is not None
            return cell

    def too_large(what: str) -> ImportFailed:
        return ImportFailed(
            f"{label}: the sheet's used range {what} (max_sheet_rows {limits.max_sheet_rows:,}, "
            f"max_sheet_columns {limits.max_sheet_columns:,}, max_sheet_cells "
            f"{limits.max_sheet_cells:,} in {SETTINGS}); save the data as CSV, or keep only "
            "the table in the sheet. Nothing was imported."
        )

    cells = SheetCells()
    count = 0
    try:
        if sheet is not None and sheet not in workbook.sheetnames:
            raise ImportFailed(
                f"{label} has no sheet '{sheet}'; its sheets are {', '.join(workbook.sheetnames)}."
            )
        worksheet = workbook[sheet] if sheet is not None else workbook.worksheets[0]
        with workbook._archive.open(worksheet._worksheet_path) as source:
            parser = Parser(
                source,
                workbook.shared_strings,
                data_only=True,
                epoch=workbook.epoch,
                date_formats=workbook._date_formats,
                timedelta_formats=workbook._timedelta_formats,
            )
            for row_index, row in parser.parse():
                for cell in row:
                    value, column = cell["value"], cell["column"]
                    missing = cell["is_formula"] and value is None
                    if value is None and not missing:
                        continue
                    if row_index > limits.max_sheet_rows:
                        raise too_large(f"reaches row {row_index:,}")
                    if column > limits.max_sheet_columns:
                        raise too_large(f"reaches column {get_column_letter(column)}")
                    count += 1
                    if count > limits.max_sheet_cells:
                        raise too_large(f"holds more than {limits.max_sheet_cells:,} cells")
                    if missing:
                        cells.unsaved_formulas.setdefault(row_index, []).append(
                            f"{get_column_letter(column)}{row_index}"
                        )
                    else:
                        cells.values.setdefault(row_index, {})[column] = value
                    cells.max_row = max(cells.max_row, row_index)
                    cells.max_column = max(cells.max_column, column)
            merged = parser.merged_cells.mergeCell if parser.merged_cells else []
    except ImportFailed:
        raise
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, ValueError) as error:
        raise ImportFailed(f"{label} cannot be read as an XLSX workbook ({error}).") from error
    finally:
        workbook.close()
    for merge in merged:
        min_col, min_row, max_col, max_row = range_boundaries(merge.ref)
        anchor = cells.values.get(min_row, {}).get(min_col)
        if anchor is None:
            continue
        if max_row > limits.max_sheet_rows:
            raise too_large(f"reaches row {max_row:,} through merged cells {merge.ref}")
        if max_col > limits.max_sheet_columns:
            raise too_large(f"reaches column {get_column_letter(max_col)} through {merge.ref}")
        count += (max_row - min_row + 1) * (max_col - min_col + 1)
        if count > limits.max_sheet_cells:
            raise too_large(f"holds more than {limits.max_sheet_cells:,} cells")
        for r in range(min_row, max_row + 1):
            for c in range(min_col, max_col + 1):
                cells.values.setdefault(r, {}).setdefault(c, anchor)
        cells.max_row = max(cells.max_row, max_row)
        cells.max_column = max(cells.max_column, max_col)
    return cells


def cell_text(value: Any) -> str:
    """A cell's value as the text a CSV file would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ").removesuffix(" 00:00:00")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet_rows(cells: SheetCells) -> Iterator[tuple[int, list[str], list[str]]]:
    """Each row number from 1 to the last used row, its values as text (trailing blanks
    dropped), and the cells on it holding a formula without a saved value."""
    for row_index in range(1, cells.max_row + 1):
        found = cells.values.get(row_index, {})
        values = [cell_text(found.get(c)) for c in range(1, max(found, default=0) + 1)]
        while values and values[-1].strip() == "":
            values.pop()
        yield row_index, values, cells.unsaved_formulas.get(row_index, [])
