"""Import data.police.uk street-level crime files: loose, in folders, or in the zip archives the
site serves; either header style; every line loaded or set aside with its reason.

Categories are checked against the data folder's taxonomy, which for these files is the
`police-uk` profile (crimeprev/config/profiles/police-uk): measures there are proxies, and
strands the files cannot measure say so.
"""

from __future__ import annotations

import csv
import json
import re
import shutil
import time
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from crimeprev.config import Config, ConfigError, config_for, load_config
from crimeprev.db import Database, DataUnreadable, run_query_arrow
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
    not_regular,
    text_lines,
    unpack_member,
)
from crimeprev.periods import format_month
from crimeprev.store import RECORD_SCHEMA, has_records

PROFILE = "police-uk"
PROFILE_DIR = Path(__file__).resolve().parent.parent / "config" / "profiles" / PROFILE
# The columns of a street-level file, as data.police.uk names them; the snake_case variant
# some copies carry (`crime_id`, `month`, ...) is the same names normalised.
COLUMNS = (
    "Crime ID",
    "Month",
    "Reported by",
    "Falls within",
    "Longitude",
    "Latitude",
    "Location",
    "LSOA code",
    "LSOA name",
    "Crime type",
    "Last outcome category",
    "Context",
)
# The line the profile's strategy.toml holds in place of the force until the first import.
FORCE_PLACEHOLDER = '# force = "..."  (the first import writes the force its files are reported by)'
OTHER_FORCE_REASON = "reported by '"
STREET_FILE = re.compile(r"(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+)-street\.csv$", re.I)


def normalise(name: str) -> str:
    """A column name as both header styles agree on it: `LSOA code` and `lsoa_code` alike."""
    return re.sub(r"[\s_]+", "_", name.strip().lstrip("\ufeff")).lower()


HEADER = [normalise(c) for c in COLUMNS]
LOOKUP_CODE_COLUMNS = ("lsoa_code", "lsoa11cd", "lsoa21cd", "lsoa_cd")
LOOKUP_DISTRICT_COLUMNS = ("lad_code", "lad11cd", "lad13cd", "lad21cd", "lad22cd", "lad23cd")


@dataclass(frozen=True)
class InputFile:
    """One street-level file to read: where it is now, and how the user knows it."""

    path: Path
    label: str

    @property
    def month_in_name(self) -> str | None:
        found = STREET_FILE.search(self.path.name)
        return found.group("month") if found else None


def gather_files(
    paths: Sequence[Path], skipped: list[dict[str, str]], scratch: Path, budget: Budget
) -> list[InputFile]:
    """The street-level files named by `paths` (files, folders searched throughout, zip
    archives unpacked into `scratch` within the byte limits). Only regular files are read:
    links, FIFOs and devices are listed in `skipped` with what they are, as are files that are
    not street-level crime files; a path that does not exist is an error."""
    found: list[InputFile] = []
    for path in paths:
        problem = not_regular(path)
        if problem == "it does not exist":
            raise ImportFailed(f"{path} does not exist.")
        if problem == "a folder":
            for file in sorted(path.rglob("*")):
                inner = not_regular(file)
                if inner == "a folder":
                    continue
                if inner is not None:
                    skipped.append({"file": str(file), "reason": inner})
                    continue
                _take(file, str(file), found, skipped, scratch, budget)
        elif problem is not None:
            skipped.append({"file": str(path), "reason": problem})
        else:
            _take(path, str(path), found, skipped, scratch, budget, explicit=True)
    return found


def _take(
    path: Path,
    label: str,
    found: list[InputFile],
    skipped: list[dict[str, str]],
    scratch: Path,
    budget: Budget,
    explicit: bool = False,
) -> None:
    if path.suffix.lower() == ".zip":
        _unpack(path, label, found, skipped, scratch, budget)
    elif STREET_FILE.search(path.name) or explicit:
        found.append(InputFile(path, label))
    else:
        skipped.append({"file": label, "reason": "not a street-level crime file (*-street.csv)"})


def _unpack(
    archive: Path,
    label: str,
    found: list[InputFile],
    skipped: list[dict[str, str]],
    scratch: Path,
    budget: Budget,
) -> None:
    try:
        opened = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, OSError) as error:
        raise ImportFailed(f"{label} is not a readable zip archive ({error}).") from error
    with opened:
        target = scratch / f"zip-{len(list(scratch.iterdir()))}"
        target.mkdir()
        for index, member in enumerate(opened.infolist()):
            if member.is_dir():
                continue
            name = f"{label}:{member.filename}"
            base = Path(member.filename).name
            if not STREET_FILE.search(base):
                skipped.append(
                    {"file": name, "reason": "not a street-level crime file (*-street.csv)"}
                )
                continue
            # Each member gets a folder of its own: names inside an archive are not trusted
            # as paths, and the file name (which carries the month) is kept.
            folder = target / str(index)
            folder.mkdir()
            unpack_member(opened, member, name, folder / base, budget)
            found.append(InputFile(folder / base, name))


def _header_positions(first_line: str) -> tuple[list[int] | None, str | None]:
    """Where each column is, 1-based, from a header line; or why the header is not usable."""
    names = [normalise(n) for n in next(csv.reader([first_line]), [])]
    if sorted(names) == sorted(HEADER) and len(set(names)) == len(names):
        return [names.index(h) + 1 for h in HEADER], None
    shown = ", ".join(COLUMNS)
    if len(names) == 1 and any(sep in first_line for sep in (";", "\t", "|")):
        return None, (
            "the file is not comma-separated (its header has no commas); "
            f"expected the data.police.uk columns {shown}"
        )
    return None, f"the header is not a data.police.uk street-level header (expected {shown})"


def _load_lookup(con: duckdb.DuckDBPyConnection, lookup: Path | None) -> bool:
    """Register `lsoa_lookup(lsoa_code, lad_code)`: the lookup CSV, or empty without one."""
    con.execute("create or replace table lsoa_lookup (lsoa_code varchar, lad_code varchar)")
    if lookup is None:
        return False
    if not lookup.is_file():
        raise ImportFailed(f"The LSOA lookup {lookup} does not exist.")
    try:
        relation = con.read_csv(str(lookup), all_varchar=True, header=True)
    except duckdb.Error as error:
        raise ImportFailed(f"The LSOA lookup {lookup} cannot be read as CSV: {error}") from error
    columns = {normalise(c): c for c in relation.columns}
    code = next((columns[c] for c in LOOKUP_CODE_COLUMNS if c in columns), None)
    district = next((columns[c] for c in LOOKUP_DISTRICT_COLUMNS if c in columns), None)
    if code is None or district is None:
        raise ImportFailed(
            f"The LSOA lookup {lookup} needs an LSOA code column (lsoa_code) and a local "
            f"authority district code column (lad_code); it has {', '.join(relation.columns)}."
        )
    table = (
        relation.select(
            duckdb.ColumnExpression(code).alias("lsoa_code"),
            duckdb.ColumnExpression(district).alias("lad_code"),
        )
        .distinct()
        .to_arrow_table()
    )
    codes = table["lsoa_code"].to_pylist()
    if len(codes) != len(set(codes)):
        raise ImportFailed(
            f"The LSOA lookup {lookup} places some LSOAs in two districts; give one vintage."
        )
    load_table(con, "lsoa_lookup", table)
    return True


def folder_config(root: Path) -> tuple[Config, bool]:
    """The configuration to check rows against, and whether the folder still needs the
    profile copied in (done only when the import writes). A folder already holding records
    in another scheme is refused rather than mixed."""
    config_dir = root / "config"
    try:
        config = config_for(root)
    except ConfigError as error:
        raise ImportFailed(f"The data folder's configuration cannot be used: {error}") from error
    if config.profile == PROFILE:
        return config, False
    if has_records(root) or (config_dir / "strategy.toml").is_file():
        raise ImportFailed(
            f"{root} holds data in the force's own categories, not data.police.uk's. "
            "Import data.police.uk files into a folder of their own with --data-dir."
        )
    try:
        return load_config(PROFILE_DIR), True
    except ConfigError as error:  # pragma: no cover - the shipped profile is tested
        raise ImportFailed(f"The police-uk profile cannot be used: {error}") from error


def install_profile(root: Path, force: str | None) -> None:
    """Give the folder its own copy of the profile's configuration (when it has none yet),
    and name its force there when it names none."""
    config_dir = root / "config"
    if not (config_dir / "strategy.toml").is_file():
        config_dir.mkdir(parents=True, exist_ok=True)
        for name in ("strategy.toml", "taxonomy.toml"):
            shutil.copyfile(PROFILE_DIR / name, config_dir / name)
    if force is not None:
        strategy = config_dir / "strategy.toml"
        text = strategy.read_text(encoding="utf-8")
        line = f"force = {json.dumps(force)}"
        if FORCE_PLACEHOLDER in text:
            text = text.replace(FORCE_PLACEHOLDER, line, 1)
        elif re.search(r"^\[imports\]\s*$", text, re.M):
            text = re.sub(r"^\[imports\]\s*$", f"[imports]\n{line}", text, count=1, flags=re.M)
        else:
            text += f"\n[imports]\n{line}\n"
        staged = strategy.with_name(".strategy.toml.new")
        staged.write_text(text, encoding="utf-8")
        staged.replace(strategy)
    config_for.cache_clear()


def import_police_uk(
    root: Path,
    paths: Sequence[Path],
    lsoa_lookup: Path | None = None,
    force: str | None = None,
    progress: Progress = no_progress,
    before_commit: Callable[[], None] | None = None,
) -> ImportSummary:
    """Import street-level files into the data folder `root`, replacing the months (of the
    forces) they hold; see the module docstring. Returns what was read, loaded and set aside."""
    started = time.perf_counter()
    summary = ImportSummary(kind="police-uk", data_dir=str(root))
    with running_import(root, summary) as scratch:
        config, fresh = folder_config(root)
        db = Database(root, config)
        con = db.connection
        use_lookup = _load_lookup(con, lsoa_lookup)
        budget = Budget(config.imports)
        inputs = gather_files(paths, summary.skipped_files, scratch, budget)
        if not inputs:
            raise ImportFailed(
                "No street-level crime files (YYYY-MM-<force>-street.csv) were found in "
                + ", ".join(str(p) for p in paths)
                + "."
            )
        files, lines = [], []
        for index, input_file in enumerate(inputs):
            progress(0.7 * index / len(inputs), f"Reading {input_file.label}")
            report = FileReport(file=input_file.label)
            summary.files.append(report)
            try:
                text = text_lines(input_file.path, input_file.label, scratch, budget)
            except FileProblem as problem:
                report.problem = str(problem)
                continue
            if text.note:
                summary.notes.append(f"{input_file.label}: {text.note}")
            try:
                read = run_query_arrow(con, "import_text_lines", {"path": str(text.path)})
            except (duckdb.Error, DataUnreadable) as error:
                report.problem = f"the file cannot be read as text ({error})"
                continue
            blank = pc.sum(read["is_blank"]).as_py() or 0
            report.blank_lines = int(blank)
            if read.num_rows == blank:
                report.problem = "the file is empty"
                continue
            non_blank = read.filter(pc.invert(read["is_blank"]))
            positions, header_problem = _header_positions(non_blank["line"][0].as_py())
            header_line = 0
            if header_problem is None:
                header_line = int(non_blank["line_number"][0].as_py())
            files.append(
                {
                    "file_index": index,
                    "source_file": input_file.label,
                    "file_name": input_file.path.name,
                    "file_month": input_file.month_in_name,
                    "header_problem": header_problem,
                    "header_line_number": header_line,
                    "positions": positions,
                }
            )
            lines.append(
                read.select(
                    ["line_number", "is_blank", "is_well_quoted", "fields", "line"]
                ).add_column(0, "file_index", pa.array([index] * read.num_rows, pa.int64()))
            )
        progress(0.7, "Checking every row")
        folder_force = config.imports.force
        chosen = force or folder_force
        if chosen is None:
            chosen = _only_force(db, files, lines, config.taxonomy.crime_types, use_lookup)
        rows = _check_rows(db, files, lines, chosen, config.taxonomy.crime_types, use_lookup)
        if force is None:
            _refuse_other_force_files(rows, chosen)
        rows = set_aside_known_ids(db, rows, "Crime ID")
        loaded = rows.filter(pc.is_null(rows["reason"]))
        quarantined = rows.filter(pc.is_valid(rows["reason"]))
        tally_files(summary, rows, "month_start")
        progress(0.8, "Writing months")
        if loaded.num_rows and (fresh or folder_force is None):
            install_profile(root, chosen if folder_force is None else None)
            config = config_for(root)
        columns = [c for c in RECORD_SCHEMA.names if c in loaded.column_names]
        written, unchanged = write_record_months(
            root, _with_flags(loaded.select(columns)), config, summary, before_commit
        )
        summary.months_written = [format_month(m) for m in written]
        summary.months_unchanged = [format_month(m) for m in unchanged]
        for report in summary.files:
            if report.problem:
                summary.notes.append(f"{report.file}: {report.problem}")
        progress(0.9, "Listing the months held")
        covered = Database(root, config).query("covered_months", force=None)
        record_months(summary, [m for m in covered["month_start"].dt.date])
        counts = pc.value_counts(loaded["district_code"]).to_pylist() if loaded.num_rows else []
        names = {d.code: d.name for d in config.districts}
        summary.rows_by_district = dict(
            sorted(
                ((names.get(c["values"], c["values"]), c["counts"]) for c in counts),
                key=lambda item: -item[1],
            )
        )
        summary.seconds = time.perf_counter() - started
        save_import(root, summary, quarantined)
        progress(1.0, "Done")
    return summary


def _only_force(
    db: Database,
    files: list[dict[str, object]],
    lines: list[pa.Table],
    categories: Sequence[str],
    use_lookup: bool,
) -> str | None:
    """The one force the rows are reported by, for a folder that names no force yet; several
    forces (and no --force to choose) refuse the import."""
    rows = _check_rows(db, files, lines, None, categories, use_lookup)
    loadable = rows.filter(pc.is_null(rows["reason"]))
    forces = sorted({f for f in loadable["force"].to_pylist() if f})
    if len(forces) > 1:
        raise ImportFailed(
            f"The files hold rows reported by {len(forces)} forces ({', '.join(forces)}) and "
            "this data folder names no force yet: give --force with the one it is for. "
            "Nothing was imported."
        )
    return forces[0] if forces else None


def _refuse_other_force_files(rows: pa.Table, force: str | None) -> None:
    """Refuse the import when a file's rows all belong to another force than the folder's:
    a misfiled month must not slip in as this force's data."""
    if force is None or not rows.num_rows:
        return
    other = pc.starts_with(pc.fill_null(rows["reason"], ""), OTHER_FORCE_REASON)
    for item in (
        rows.append_column("is_other", other)
        .group_by("source_file")
        .aggregate([("is_other", "all"), ("force", "distinct")])
        .to_pylist()
    ):
        if item["is_other_all"]:
            theirs = ", ".join(sorted(f for f in item["force_distinct"] if f))
            raise ImportFailed(
                f"{item['source_file']} holds rows reported by {theirs}, not {force} (the force "
                "this data folder is for): nothing was imported. If they belong here, import "
                f'them with --force "{theirs}".'
            )


def _check_rows(
    db: Database,
    files: list[dict[str, object]],
    lines: list[pa.Table],
    force: str | None,
    categories: Sequence[str],
    use_lookup: bool,
) -> pa.Table:
    con = db.connection
    files_table = pa.Table.from_pylist(
        files,
        schema=pa.schema(
            [
                ("file_index", pa.int64()),
                ("source_file", pa.string()),
                ("file_name", pa.string()),
                ("file_month", pa.string()),
                ("header_problem", pa.string()),
                ("header_line_number", pa.int64()),
                ("positions", pa.list_(pa.int64())),
            ]
        ),
    )
    lines_table = (
        pa.concat_tables(lines)
        if lines
        else pa.table(
            {
                "file_index": pa.array([], pa.int64()),
                "line_number": pa.array([], pa.int64()),
                "is_blank": pa.array([], pa.bool_()),
                "is_well_quoted": pa.array([], pa.bool_()),
                "fields": pa.array([], pa.list_(pa.string())),
                "line": pa.array([], pa.string()),
            }
        )
    )
    load_table(con, "police_uk_files", files_table)
    load_table(con, "police_uk_lines", lines_table)
    try:
        return run_query_arrow(
            con,
            "import_police_uk_rows",
            {
                "force": force,
                "header": HEADER,
                "not_utf8_reason": NOT_UTF8_REASON,
                "categories": list(categories),
                "use_lookup": use_lookup,
                **UK_BOUNDS,
            },
        )
    finally:
        con.execute("drop table police_uk_files; drop table police_uk_lines")


def _with_flags(records: pa.Table) -> pa.Table:
    """The records with every flag false: data.police.uk publishes none of them."""
    columns = {}
    for name in RECORD_SCHEMA.names:
        if name in records.column_names:
            columns[name] = records[name]
        else:
            columns[name] = pa.array([False] * records.num_rows, pa.bool_())
    return pa.table(columns).cast(RECORD_SCHEMA)
