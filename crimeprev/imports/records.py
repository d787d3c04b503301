"""Import a force's own record extract (CSV, Parquet or XLSX) through a mapping file that names
which of its columns hold the month, district, crime type, flags and the rest.

Every row is either loaded or set aside with its file, line (or row) and reason; each month the
extract holds replaces that month of the force's records as one all-or-nothing change. The
mapping format is documented in data/README.md; examples/force-records-mapping.toml is a
complete example.

CSV is read as numbered lines in DuckDB (queries/import_text_lines.sql) so that line numbers are
exact, and Parquet with DuckDB's read_parquet. XLSX is the one file read in Python, with
openpyxl: DuckDB reads spreadsheets only through an extension fetched over the network, and a
workbook is small enough for that not to matter.
"""

from __future__ import annotations

import csv
import io
import time
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from crimeprev.config import Config, ConfigError, config_for
from crimeprev.db import Database, DataUnreadable
from crimeprev.imports.common import (
    NOT_UTF8_REASON,
    UK_BOUNDS,
    FileReport,
    ImportFailed,
    ImportSummary,
    Progress,
    load_table,
    no_progress,
    record_months,
    running_import,
    save_import,
    set_aside_known_ids,
    tally_files,
    write_record_months,
)
from crimeprev.imports.reading import (
    Budget,
    FileProblem,
    require_regular,
    sheet_cells,
    sheet_rows,
    text_lines,
)
from crimeprev.periods import format_month
from crimeprev.store import RECORD_SCHEMA

PROFILE = "force-records"
FLAGS = tuple(name for name in RECORD_SCHEMA.names if name.startswith("is_"))
# The order of the fields the validation query reads by position (queries/import_records_rows).
FIELDS = (
    "record_id",
    "month",
    "district",
    "crime_type",
    "record_kind",
    "outcome",
    "lsoa_code",
    "latitude",
    "longitude",
    *FLAGS,
)
REQUIRED_COLUMNS = ("record_id", "month", "district", "crime_type")
OPTIONAL_COLUMNS = ("record_kind", "outcome", "lsoa_code", "latitude", "longitude")
MAPPING_KEYS = ("force", "record_kind", "month_format", "sheet", "columns", "flags", "values")
VALUE_MAPS = ("district", "crime_type", "record_kind", "outcome")
FLAG_KEYS = ("column", "true", "false")
DEFAULT_TRUE = ("y", "yes", "true", "1")
DEFAULT_FALSE = ("n", "no", "false", "0")
CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")
XLSX_SUFFIXES = (".xlsx", ".xlsm")
LINE_COLUMNS = ["line_number", "line", "is_blank", "is_well_quoted", "fields", "line_problem"]
OTHER_SEPARATORS = {";": "semicolons", "\t": "tabs", "|": "vertical bars"}


@dataclass(frozen=True)
class FlagColumn:
    """Which column holds a flag, and which of its values (lower case) mean true or false."""

    column: str
    true_values: tuple[str, ...] = DEFAULT_TRUE
    false_values: tuple[str, ...] = DEFAULT_FALSE


@dataclass(frozen=True)
class Mapping:
    """What a records mapping file says, checked against the data folder's configuration."""

    path: Path
    force: str
    columns: dict[str, str]
    flags: dict[str, FlagColumn]
    # Per field, the source's labels (lower case) and the value each stands for.
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    record_kind: str = "crime"
    month_format: str | None = None
    sheet: str | None = None

    def source_columns(self) -> dict[str, str]:
        """Every field read from the file and the column it is read from."""
        named = dict(self.columns)
        named.update({flag: spec.column for flag, spec in self.flags.items()})
        return named


@dataclass
class ReadFile:
    """One input file read into numbered lines of fields, with its header; `unit` says how
    its rows are counted in messages ("line" in a CSV file, "row" in a workbook or Parquet)."""

    header: list[str]
    header_line_number: int
    lines: pa.Table
    unit: str


def _mapping_error(path: Path, message: str) -> ImportFailed:
    return ImportFailed(f"The mapping {path}: {message}")


def _text(raw: dict[str, Any], key: str, path: Path, where: str = "") -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _mapping_error(path, f"'{where}{key}' must be a non-empty text value.")
    return value.strip()


def _unknown_keys(raw: dict[str, Any], known: Sequence[str], path: Path, where: str) -> None:
    unknown = sorted(set(raw) - set(known))
    if unknown:
        raise _mapping_error(
            path,
            f"unknown key{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} in {where} "
            f"(known: {', '.join(known)}).",
        )


def _flag_column(name: str, raw: Any, path: Path) -> FlagColumn:
    if isinstance(raw, str) and raw.strip():
        return FlagColumn(raw.strip())
    if not isinstance(raw, dict):
        raise _mapping_error(
            path, f"flag {name} must name a column, or be a table with column, true and false."
        )
    _unknown_keys(raw, FLAG_KEYS, path, f"[flags.{name}]")
    column = _text(raw, "column", path, f"flags.{name}.")
    if column is None:
        raise _mapping_error(path, f"flag {name} does not name its column.")
    lists = {}
    for key, default in (("true", DEFAULT_TRUE), ("false", DEFAULT_FALSE)):
        given = raw.get(key, list(default))
        if not isinstance(given, list) or not all(isinstance(v, str | int) for v in given):
            raise _mapping_error(path, f"flags.{name}.{key} must be a list of values.")
        lists[key] = tuple(str(v).strip().lower() for v in given)
    both = set(lists["true"]) & set(lists["false"])
    if both:
        raise _mapping_error(
            path, f"flag {name} counts {', '.join(sorted(both))} as both true and false."
        )
    return FlagColumn(column, lists["true"], lists["false"])


def _district_lookup(config: Config) -> dict[str, str]:
    lookup: dict[str, str] = {}
    for district in config.districts:
        for key in (district.code, district.name, district.slug):
            lookup[key.lower()] = district.code
    return lookup


def _known_values(config: Config) -> dict[str, dict[str, str]]:
    """Per field, every value a record may hold (lower case) and how it is written."""
    taxonomy = config.taxonomy
    return {
        "district": _district_lookup(config),
        "crime_type": {v.lower(): v for v in taxonomy.crime_types},
        "record_kind": {v.lower(): v for v in taxonomy.record_kinds},
        "outcome": {v.lower(): v for v in taxonomy.outcomes},
    }


def load_mapping(path: Path, config: Config) -> Mapping:
    """Read and check a records mapping file; a mistake raises ImportFailed naming it."""
    if not path.is_file():
        raise ImportFailed(f"The mapping file {path} does not exist.")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise _mapping_error(path, f"not valid TOML ({error}).") from error
    _unknown_keys(raw, MAPPING_KEYS, path, "the mapping")
    force = _text(raw, "force", path)
    if force is None:
        raise _mapping_error(path, "'force' is missing: name the force, e.g. force = \"Essex\".")
    columns_raw = raw.get("columns")
    if not isinstance(columns_raw, dict):
        raise _mapping_error(path, "the [columns] table is missing.")
    _unknown_keys(columns_raw, REQUIRED_COLUMNS + OPTIONAL_COLUMNS, path, "[columns]")
    columns = {}
    for key in REQUIRED_COLUMNS + OPTIONAL_COLUMNS:
        column = _text(columns_raw, key, path, "columns.")
        if column is not None:
            columns[key] = column
    missing = [k for k in REQUIRED_COLUMNS if k not in columns]
    if missing:
        raise _mapping_error(path, f"[columns] must name the column for {', '.join(missing)}.")
    if ("latitude" in columns) != ("longitude" in columns):
        raise _mapping_error(path, "[columns] must name both latitude and longitude, or neither.")
    flags_raw = raw.get("flags", {})
    if not isinstance(flags_raw, dict):
        raise _mapping_error(path, "[flags] must be a table of flag = column.")
    usable_flags = [f for f in FLAGS if f in config.taxonomy.flags]
    _unknown_keys(flags_raw, usable_flags, path, "[flags]")
    flags = {name: _flag_column(name, spec, path) for name, spec in flags_raw.items()}
    known = _known_values(config)
    record_kind = _text(raw, "record_kind", path) or "crime"
    if record_kind.lower() not in known["record_kind"]:
        raise _mapping_error(
            path,
            f"record_kind '{record_kind}' is not one of {', '.join(config.taxonomy.record_kinds)}.",
        )
    values_raw = raw.get("values", {})
    if not isinstance(values_raw, dict):
        raise _mapping_error(path, "[values] must hold tables such as [values.crime_type].")
    _unknown_keys(values_raw, VALUE_MAPS, path, "[values]")
    values: dict[str, dict[str, str]] = {}
    for name, table in values_raw.items():
        if not isinstance(table, dict):
            raise _mapping_error(path, f"[values.{name}] must be a table of label = value.")
        values[name] = {}
        for label, target in table.items():
            if not isinstance(target, str) or target.lower() not in known[name]:
                raise _mapping_error(
                    path,
                    f"[values.{name}] maps '{label}' to '{target}', which is not a known "
                    f"{name.replace('_', ' ')}.",
                )
            key = label.strip().lower()
            resolved = known[name][target.lower()]
            if values[name].get(key, resolved) != resolved:
                raise _mapping_error(
                    path, f"[values.{name}] maps '{label}' to two different values."
                )
            values[name][key] = resolved
    return Mapping(
        path=path,
        force=force,
        columns=columns,
        flags=flags,
        values=values,
        record_kind=known["record_kind"][record_kind.lower()],
        month_format=_text(raw, "month_format", path),
        sheet=_text(raw, "sheet", path),
    )


def _check_month_format(db: Database, mapping: Mapping) -> str:
    """What the mapping's months may look like, in words for the reasons rows are set aside."""
    expected = "YYYY-MM or a date YYYY-MM-DD"
    if mapping.month_format is None:
        return expected
    try:
        sample = db.query_arrow("import_records_month_format", month_format=mapping.month_format)
    except DataUnreadable as error:
        raise _mapping_error(
            mapping.path,
            f"month_format '{mapping.month_format}' is not a date format DuckDB can read "
            "(write it with strptime codes such as %d/%m/%Y).",
        ) from error
    return f"{mapping.month_format}, e.g. {sample['sample_text'][0].as_py()}, or {expected}"


def normalise_name(name: str) -> str:
    """A column name as loosely matched: case, spaces and underscores ignored."""
    return " ".join(name.replace("_", " ").split()).lower()


def _positions(read: ReadFile, mapping: Mapping, label: str) -> list[int | None]:
    """Where each field is in the file's rows (1-based), by the mapping's column names: exact
    first, then ignoring case, spaces and underscores."""
    header = [h.strip() for h in read.header]
    loose = [normalise_name(h) for h in header]
    named = mapping.source_columns()
    positions: list[int | None] = []
    missing = []
    for key in FIELDS:
        column = named.get(key)
        if column is None:
            positions.append(None)
            continue
        matches = [i for i, h in enumerate(header) if h == column] or [
            i for i, h in enumerate(loose) if h == normalise_name(column)
        ]
        if len(matches) > 1:
            raise ImportFailed(
                f"{label} has {len(matches)} columns called '{column}'; the mapping cannot tell "
                "which holds " + key.replace("_", " ") + "."
            )
        if not matches:
            missing.append(f"'{column}' (for {key})")
            positions.append(None)
            continue
        positions.append(matches[0] + 1)
    if missing:
        present = ", ".join(f"'{h}'" for h in header) or "none"
        raise ImportFailed(
            f"{label} has no column {' or '.join(missing)} named in the mapping "
            f"{mapping.path.name}; its columns are: {present}."
        )
    return positions


def _read_csv(
    db: Database, path: Path, label: str, scratch: Path, budget: Budget, notes: list[str]
) -> ReadFile:
    try:
        text = text_lines(path, label, scratch, budget)
    except FileProblem as problem:
        if problem.empty:
            raise ImportFailed(f"{label} is empty: it holds no header and no rows.") from problem
        raise ImportFailed(f"{label} is {problem}.") from problem
    if text.note:
        notes.append(f"{label}: {text.note}")
    try:
        lines = db.query_arrow("import_text_lines", path=str(text.path))
    except DataUnreadable as error:
        raise ImportFailed(f"{label} cannot be read as text ({error}).") from error
    content = lines.filter(pc.invert(lines["is_blank"]))
    if not content.num_rows:
        raise ImportFailed(f"{label} is empty: it holds no header and no rows.")
    header = content["fields"][0].as_py()
    if len(header) == 1:
        for separator, name in OTHER_SEPARATORS.items():
            if separator in header[0]:
                raise ImportFailed(
                    f"{label} is separated by {name}, not commas: save it as comma-separated "
                    "CSV (or as XLSX) and import it again."
                )
    return ReadFile(
        header=header,
        header_line_number=int(content["line_number"][0].as_py()),
        lines=lines.select(LINE_COLUMNS),
        unit="line",
    )


def _read_parquet(db: Database, path: Path, label: str, budget: Budget) -> ReadFile:
    require_regular(path, label)
    budget.take(label, path.stat().st_size)
    try:
        header = db.query_arrow("import_records_parquet_columns", path=str(path))
        names = header["column_name"].to_pylist()
        if any('"' in name for name in names):
            raise ImportFailed(
                f"{label} has a column name holding a double quote; rename it and import again."
            )
        lines = db.query_arrow("import_records_parquet_rows", path=str(path), columns=names)
    except DataUnreadable as error:
        raise ImportFailed(f"{label} cannot be read as Parquet ({error}).") from error
    return ReadFile(header=names, header_line_number=0, lines=lines, unit="row")


def _csv_line(values: list[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(values)
    return buffer.getvalue()


UNSAVED_FORMULA = (
    "a formula without a saved value in {cells}: open the workbook in Excel or LibreOffice, "
    "save it (so its values are stored) and import it again"
)


def _read_xlsx(path: Path, label: str, sheet: str | None, budget: Budget) -> ReadFile:
    cells = sheet_cells(path, label, sheet, budget)
    numbers, texts, blanks, fields_list, problems = [], [], [], [], []
    header: list[str] | None = None
    header_line = 0
    for row_index, values, formulas in sheet_rows(cells):
        if header is None and values:
            header, header_line = values, row_index
        numbers.append(row_index)
        texts.append(_csv_line(values))
        blanks.append(not values and not formulas)
        fields_list.append(values)
        problems.append(UNSAVED_FORMULA.format(cells=", ".join(formulas)) if formulas else None)
    if header is None:
        raise ImportFailed(f"{label} is empty: its first sheet holds no header and no rows.")
    width = len(header)
    padded = [v + [""] * (width - len(v)) if v else [] for v in fields_list]
    lines = pa.table(
        {
            "line_number": pa.array(numbers, pa.int64()),
            "line": pa.array(texts, pa.string()),
            "is_blank": pa.array(blanks, pa.bool_()),
            "is_well_quoted": pa.array([True] * len(numbers), pa.bool_()),
            "fields": pa.array(padded, pa.list_(pa.string())),
            "line_problem": pa.array(problems, pa.string()),
        }
    )
    return ReadFile(header=header, header_line_number=header_line, lines=lines, unit="row")


def read_file(
    db: Database,
    path: Path,
    scratch: Path,
    notes: list[str],
    budget: Budget,
    sheet: str | None = None,
) -> ReadFile:
    """Read a CSV, Parquet or XLSX file (told apart by its name) into numbered lines of
    fields, within the byte and sheet limits of `budget`; a file that cannot be read at all
    raises ImportFailed saying why. Notes about the file (undecodable bytes replaced) are
    added to `notes`; `scratch` is a folder for the lines read."""
    label = str(path)
    require_regular(path, label)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return _read_csv(db, path, label, scratch, budget, notes)
    if suffix in PARQUET_SUFFIXES:
        return _read_parquet(db, path, label, budget)
    if suffix in XLSX_SUFFIXES:
        return _read_xlsx(path, label, sheet, budget)
    if suffix == ".xls":
        raise ImportFailed(f"{label} is an old-style .xls workbook: save it as .xlsx or CSV.")
    raise ImportFailed(
        f"{label}: the file's name does not say its format; name it .csv, .parquet or .xlsx."
    )


def _value_lists(mapping: Mapping, config: Config, name: str) -> tuple[list[str], list[str]]:
    """A field's lookup as two aligned lists: every accepted label (lower case), and the
    value it stands for. The mapping's own labels come first, so they win."""
    lookup = dict(mapping.values.get(name, {}))
    for key, value in _known_values(config)[name].items():
        lookup.setdefault(key, value)
    return list(lookup), list(lookup.values())


def _check_rows(
    db: Database,
    mapping: Mapping,
    files: list[dict[str, Any]],
    lines: list[pa.Table],
    month_expected: str,
) -> pa.Table:
    files_table = pa.Table.from_pylist(
        files,
        schema=pa.schema(
            [
                ("file_index", pa.int64()),
                ("source_file", pa.string()),
                ("unit", pa.string()),
                ("width", pa.int64()),
                ("header_fields", pa.list_(pa.string())),
                ("header_line_number", pa.int64()),
                ("positions", pa.list_(pa.int64())),
            ]
        ),
    )
    load_table(db.connection, "records_files", files_table)
    load_table(db.connection, "records_lines", pa.concat_tables(lines))
    flags = [mapping.flags.get(f, FlagColumn("")) for f in FLAGS]
    params: dict[str, Any] = {}
    for name in VALUE_MAPS:
        params[f"{name}_from"], params[f"{name}_to"] = _value_lists(mapping, db.config, name)
    try:
        return db.query_arrow(
            "import_records_rows",
            **UK_BOUNDS,
            force=mapping.force,
            record_kind=mapping.record_kind,
            month_format=mapping.month_format,
            month_expected=month_expected,
            not_utf8_reason=NOT_UTF8_REASON,
            flag_names=list(FLAGS),
            flag_true=[list(f.true_values) for f in flags],
            flag_false=[list(f.false_values) for f in flags],
            district_from=params["district_from"],
            district_to=params["district_to"],
            crime_type_from=params["crime_type_from"],
            crime_type_to=params["crime_type_to"],
            record_kind_from=params["record_kind_from"],
            record_kind_to=params["record_kind_to"],
            outcome_from=params["outcome_from"],
            outcome_to=params["outcome_to"],
        )
    finally:
        db.connection.execute("drop table records_files; drop table records_lines")


def _usable_folder(root: Path) -> Config:
    try:
        config = config_for(root)
    except ConfigError as error:
        raise ImportFailed(f"The data folder's configuration cannot be used: {error}") from error
    if config.profile != PROFILE:
        raise ImportFailed(
            f"{root} holds data.police.uk data, not the force's own records. Import the "
            "force's records into a folder of their own with --data-dir."
        )
    return config


def import_records(
    root: Path,
    paths: Sequence[Path],
    mapping_path: Path,
    progress: Progress = no_progress,
    before_commit: Callable[[], None] | None = None,
) -> ImportSummary:
    """Import a force's record extract(s) into the data folder `root` through the mapping at
    `mapping_path`, replacing the months (of that force) they hold; see the module docstring.
    Returns what was read, loaded and set aside."""
    started = time.perf_counter()
    summary = ImportSummary(kind="records", data_dir=str(root))
    if not paths:
        raise ImportFailed("Name at least one file to import.")
    with running_import(root, summary) as scratch:
        config = _usable_folder(root)
        mapping = load_mapping(mapping_path, config)
        db = Database(root, config)
        month_expected = _check_month_format(db, mapping)
        budget = Budget(config.imports)
        files: list[dict[str, Any]] = []
        lines: list[pa.Table] = []
        for index, path in enumerate(paths):
            progress(0.6 * index / len(paths), f"Reading {path.name}")
            read = read_file(db, path, scratch, summary.notes, budget, mapping.sheet)
            positions = _positions(read, mapping, str(path))
            summary.files.append(FileReport(file=str(path)))
            files.append(
                {
                    "file_index": index,
                    "source_file": str(path),
                    "unit": read.unit,
                    "width": len(read.header),
                    "header_fields": [h.strip().lower() for h in read.header],
                    "header_line_number": read.header_line_number,
                    "positions": positions,
                }
            )
            table = read.lines
            lines.append(
                table.add_column(0, "file_index", pa.array([index] * table.num_rows, pa.int64()))
            )
            blank = pc.sum(table["is_blank"]).as_py() or 0
            summary.files[-1].blank_lines = int(blank)
        progress(0.6, "Checking every row")
        rows = _check_rows(db, mapping, files, lines, month_expected)
        rows = set_aside_known_ids(db, rows, "record id")
        loaded = rows.filter(pc.is_null(rows["reason"]))
        quarantined = rows.filter(pc.is_valid(rows["reason"]))
        tally_files(summary, rows, "month_start")
        progress(0.75, "Writing months")
        written, unchanged = write_record_months(
            root, loaded.select(RECORD_SCHEMA.names), config, summary, before_commit
        )
        summary.months_written = [format_month(m) for m in written]
        summary.months_unchanged = [format_month(m) for m in unchanged]
        progress(0.9, "Listing the months held")
        covered = Database(root, config).query("covered_months", force=None)
        record_months(summary, list(covered["month_start"].dt.date))
        names = {d.code: d.name for d in config.districts}
        counts = pc.value_counts(loaded["district_code"]).to_pylist() if loaded.num_rows else []
        summary.rows_by_district = {
            names.get(c["values"], c["values"]): int(c["counts"])
            for c in sorted(counts, key=lambda c: -c["counts"])
        }
        summary.seconds = time.perf_counter() - started
        save_import(root, summary, quarantined)
        progress(1.0, "Done")
    return summary
