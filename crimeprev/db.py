"""The DuckDB connection, the views it offers, and the one function that runs `queries/*.sql`.

A `Database` holds one in-memory DuckDB connection per data folder. Each query runs on its own
cursor, so sessions served on different threads never share a cursor. The views read the files
at query time, so a rebuilt aggregate is seen by the next query.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from functools import cache
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa

from crimeprev.config import Config, config_for
from crimeprev.errors import CrimeprevError
from crimeprev.store import (
    RECORD_SCHEMA,
    REPOSITORY_ROOT,
    aggregates_dir,
    has_records,
    snapshot_root,
)

QUERIES_DIR = REPOSITORY_ROOT / "queries"
# Views defined over the others, one `select` per file, created in this order.
DERIVED_VIEWS = ("record_measures",)
# Macros those views and the queries share, one `create macro` per file in `queries/macros/`.
MACROS = ("counts_toward_measure",)
PARAMETER = re.compile(r"\$([a-z_][a-z0-9_]*)")
# What one data folder's connection may take, shared by every session the process serves: past
# the memory limit a query spills to a temporary folder, and past that it stops with a sentence
# rather than take the server's memory.
MEMORY_LIMIT_VARIABLE = "CRIMEPREV_DUCKDB_MEMORY_LIMIT"
THREADS_VARIABLE = "CRIMEPREV_DUCKDB_THREADS"
DEFAULT_MEMORY_LIMIT = "1GB"
DEFAULT_TEMP_LIMIT = "4GB"

DELIVERY_ACTION_COLUMNS = {
    "action_id": "varchar",
    "strand_id": "varchar",
    "title": "varchar",
    "target_month": "varchar",
    "completed_month": "varchar",
}
DELIVERY_STATUS_COLUMNS = {"action_id": "varchar", "quarter_end": "varchar", "status": "varchar"}
ACTIVITY_COLUMNS = {
    "strand_id": "varchar",
    "operation": "varchar",
    "period_label": "varchar",
    "period_end": "varchar",
    "metric": "varchar",
    "value": "double",
    "unit": "varchar",
}
COMMENTARY_COLUMNS = {"strand_id": "varchar", "period": "varchar", "commentary": "varchar"}
# The small side files beside the records: table name -> (file in the data folder, columns).
SIDE_TABLES = {
    "delivery_actions": ("delivery/actions.csv", DELIVERY_ACTION_COLUMNS),
    "delivery_status": ("delivery/status.csv", DELIVERY_STATUS_COLUMNS),
    "activity_metrics": ("activity/metrics.csv", ACTIVITY_COLUMNS),
    "commentary": ("commentary/commentary.csv", COMMENTARY_COLUMNS),
}
MEASURE_MONTHLY_COLUMNS = {
    "force": "varchar",
    "measure_id": "varchar",
    "district_code": "varchar",
    "month_start": "date",
    "count_records": "bigint",
}
CRIME_TYPE_MONTHLY_COLUMNS = {
    "force": "varchar",
    "district_code": "varchar",
    "month_start": "date",
    "record_kind": "varchar",
    "crime_type": "varchar",
    "count_records": "bigint",
}


ARROW_TO_SQL_TYPE = {
    pa.string(): "varchar",
    pa.bool_(): "boolean",
    pa.date32(): "date",
    pa.float64(): "double",
}


class QueryTooLarge(CrimeprevError, RuntimeError):
    """A query needed more memory than the server allows its data connection."""

    title = "This view is too large to compute"


def connection_settings() -> dict[str, str | int]:
    """The DuckDB settings of a data connection: memory limit, threads and where to spill,
    from `CRIMEPREV_DUCKDB_MEMORY_LIMIT` (e.g. `512MB`) and `CRIMEPREV_DUCKDB_THREADS`."""
    threads = os.environ.get(THREADS_VARIABLE, "").strip()
    return {
        "memory_limit": os.environ.get(MEMORY_LIMIT_VARIABLE, "").strip() or DEFAULT_MEMORY_LIMIT,
        "threads": int(threads)
        if threads.isdigit() and int(threads) > 0
        else min(2, os.cpu_count() or 1),
        "temp_directory": str(Path(tempfile.gettempdir()) / f"crimeprev-duckdb-{os.getpid()}"),
        "max_temp_directory_size": DEFAULT_TEMP_LIMIT,
    }


class QueryError(RuntimeError):
    """A query was called wrongly: a missing or unexpected parameter, or no such file."""


class DataUnreadable(CrimeprevError, RuntimeError):
    """A file in the data folder cannot be read (damaged, or not what its name says)."""

    title = "A data file cannot be read"


@cache
def query_text(name: str) -> str:
    """The SQL of `queries/<name>.sql`."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise QueryError(f"There is no query named '{name}' ({path} does not exist).")
    return path.read_text(encoding="utf-8")


def query_parameters(sql: str) -> set[str]:
    """The `$name` parameters a statement declares (comments ignored)."""
    without_comments = "\n".join(line.split("--", 1)[0] for line in sql.splitlines())
    return set(PARAMETER.findall(without_comments))


def run_query(
    connection: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> pd.DataFrame:
    """Run `queries/<name>.sql` with exactly the parameters it declares, on a fresh cursor."""
    return _run(connection, name, params, lambda relation: relation.df())


def run_query_arrow(
    connection: duckdb.DuckDBPyConnection, name: str, params: dict[str, Any] | None = None
) -> pa.Table:
    """As `run_query`, returning an Arrow table."""
    return _run(connection, name, params, lambda relation: relation.to_arrow_table())


def _run(
    connection: duckdb.DuckDBPyConnection,
    name: str,
    params: dict[str, Any] | None,
    fetch: Callable[[duckdb.DuckDBPyRelation], Any],
) -> Any:
    sql = query_text(name)
    given = dict(params or {})
    declared = query_parameters(sql)
    if set(given) != declared:
        missing, extra = declared - set(given), set(given) - declared
        raise QueryError(f"Query '{name}': missing {sorted(missing)}, unexpected {sorted(extra)}.")
    cursor = connection.cursor()
    try:
        return fetch(cursor.sql(sql, params=given))
    except duckdb.OutOfMemoryException as error:
        setting = connection.execute("select current_setting('memory_limit')").fetchone()
        limit = f" ({setting[0]})" if setting else ""
        raise QueryTooLarge(
            f"This view needs more memory than the server gives its queries{limit}: narrow "
            "the period, the districts or the breakdown, and try again."
        ) from error
    except (duckdb.IOException, duckdb.InvalidInputException) as error:
        raise DataUnreadable(
            f"A data file cannot be read ({error}). Rewrite the data (`crimeprev demo`, or "
            "import the extract again) and reload."
        ) from error
    finally:
        cursor.close()


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _empty_select(columns: dict[str, str]) -> str:
    casts = ", ".join(f"null::{kind} as {name}" for name, kind in columns.items())
    return f"select {casts} where false"


def _csv_view(path: Path, columns: dict[str, str]) -> str:
    if not path.is_file():
        return _empty_select(columns)
    spec = ", ".join(f"{_sql_string(n)}: {_sql_string(k)}" for n, k in columns.items())
    return (
        f"select * from read_csv({_sql_string(str(path))}, header = true, "
        f"columns = {{{spec}}}, quote = '\"', escape = '\"')"
    )


def _parquet_view(path: Path, columns: dict[str, str]) -> str:
    if not path.is_file():
        return _empty_select(columns)
    return f"select * from read_parquet({_sql_string(str(path))})"


def _flags_list(flags: tuple[str, ...]) -> str:
    """SQL for the names of a record's true flags, as a list: what a measure's rule checks.
    The names are the taxonomy's, which the configuration has checked are plain columns."""
    cases = ", ".join(f"case when {flag} then {_sql_string(flag)} end" for flag in flags)
    return f"list_filter([{cases}]::varchar[], lambda flag: flag is not null)"


def _records_view(root: Path, flags: tuple[str, ...]) -> str:
    if not has_records(root):
        columns = {f.name: ARROW_TO_SQL_TYPE[f.type] for f in RECORD_SCHEMA}
        return _empty_select(columns | {"month": "varchar", "flags": "varchar[]"})
    pattern = str(root / "records" / "month=*" / "*.parquet")
    return (
        f"select *, {_flags_list(flags)} as flags from read_parquet({_sql_string(pattern)}, "
        "hive_partitioning = true, hive_types = {'month': varchar})"
    )


def _config_tables(config: Config) -> dict[str, pa.Table]:
    districts = pa.Table.from_pylist(
        [
            {
                "district_code": d.code,
                "district_name": d.name,
                "district_slug": d.slug,
                "lpa": d.lpa,
                "population": d.population,
                "is_force_district": d.is_force_district,
            }
            for d in config.districts
        ]
    )
    strands = pa.Table.from_pylist(
        [
            {
                "strand_id": s.id,
                "strand_name": s.name,
                "strand_group": s.group,
                "lead_role": s.lead_role,
                "strand_order": i,
            }
            for i, s in enumerate(config.strands)
        ]
    )
    measures = pa.Table.from_pylist(
        [
            {
                "measure_id": m.id,
                "strand_id": m.strand_id,
                "measure_name": m.name,
                "unit": m.unit,
                "improvement": m.improvement,
                "definition": m.definition,
                "measure_order": i,
                "rule_record_kind": m.rule.record_kind,
                "rule_crime_types": list(m.rule.crime_types),
                "rule_flags": list(m.rule.flags),
                "rule_outcomes": list(m.rule.outcomes),
            }
            for i, m in enumerate(config.measures)
        ],
        schema=pa.schema(
            [
                ("measure_id", pa.string()),
                ("strand_id", pa.string()),
                ("measure_name", pa.string()),
                ("unit", pa.string()),
                ("improvement", pa.string()),
                ("definition", pa.string()),
                ("measure_order", pa.int64()),
                ("rule_record_kind", pa.string()),
                ("rule_crime_types", pa.list_(pa.string())),
                ("rule_flags", pa.list_(pa.string())),
                ("rule_outcomes", pa.list_(pa.string())),
            ]
        ),
    )
    return {"districts": districts, "strands": strands, "measures": measures}


class Database:
    """The views over one data folder, on one DuckDB connection shared by all sessions."""

    def __init__(self, root: Path, config: Config | None = None) -> None:
        self.root = root
        self.config = config or config_for(root)
        self.connection = duckdb.connect(":memory:")
        # No progress bar: it would be printed into a command's output (JSON included).
        self.connection.execute("set enable_progress_bar = false")
        for name, value in connection_settings().items():
            self.connection.execute(f"set {name} = {_sql_string(str(value))}")
        self._remembered: OrderedDict[Hashable, Any] = OrderedDict()
        self._remembered_lock = threading.Lock()
        self._side_stamps: dict[str, tuple[int, int] | None] = {}
        self._side_lock = threading.Lock()
        self._create_views()
        self._refresh_side_tables()

    def remember(self, key: Hashable, compute: Callable[[], Any], size: int = 256) -> Any:
        """The result of `compute()` for `key`, computed once per database while it stays
        among the `size` latest: for results several functions of one page need."""
        with self._remembered_lock:
            if key in self._remembered:
                self._remembered.move_to_end(key)
                return self._remembered[key]
        value = compute()
        with self._remembered_lock:
            self._remembered[key] = value
            while len(self._remembered) > size:
                self._remembered.popitem(last=False)
        return value

    def _create_views(self) -> None:
        con = self.connection
        for name, table in _config_tables(self.config).items():
            con.register(f"{name}_arrow", table)
            con.execute(f"create or replace table {name} as select * from {name}_arrow")
            con.unregister(f"{name}_arrow")
        # Records and monthly tables from one snapshot, resolved once: never half an import.
        snapshot = snapshot_root(self.root)
        aggregates = aggregates_dir(snapshot)
        views = {
            "records": _records_view(snapshot, self.config.taxonomy.flags),
            "measure_monthly": _parquet_view(
                aggregates / "measure_monthly.parquet", MEASURE_MONTHLY_COLUMNS
            ),
            "crime_type_monthly": _parquet_view(
                aggregates / "crime_type_monthly.parquet", CRIME_TYPE_MONTHLY_COLUMNS
            ),
        }
        for name in MACROS:
            con.execute((QUERIES_DIR / "macros" / f"{name}.sql").read_text(encoding="utf-8"))
        for name in DERIVED_VIEWS:
            views[name] = (QUERIES_DIR / "views" / f"{name}.sql").read_text(encoding="utf-8")
        # The monthly tables are small next to the records and read by every page: they are
        # held in memory, so a query does not read and decode their files again.
        in_memory = {"measure_monthly", "crime_type_monthly"}
        for name, select in views.items():
            kind = "table" if name in in_memory else "view"
            try:
                con.execute(f"create or replace {kind} {name} as {select}")
            except duckdb.OutOfMemoryException as error:
                raise QueryTooLarge(
                    f"The monthly table '{name}' does not fit in the memory the data connection "
                    f"is given ({connection_settings()['memory_limit']}): raise "
                    f"{MEMORY_LIMIT_VARIABLE} and start the server again."
                ) from error
            except (duckdb.IOException, duckdb.InvalidInputException) as error:
                raise DataUnreadable(
                    f"The monthly table '{name}' cannot be read ({error})."
                ) from error

    def _refresh_side_tables(self) -> None:
        """Hold each side file in memory, read again only when the file changes (a stat per
        query, rather than parsing the CSV on every call). A file that cannot be read stays a
        view over it, so the query that needs it says so, and nothing else fails."""
        stamps: dict[str, tuple[int, int] | None] = {}
        for name, (relative, _) in SIDE_TABLES.items():
            try:
                stat = (self.root / relative).stat()
                stamps[name] = (stat.st_mtime_ns, stat.st_size)
            except OSError:
                stamps[name] = None
        if all(self._side_stamps.get(name, ()) == stamp for name, stamp in stamps.items()):
            return
        with self._side_lock:
            for name, (relative, columns) in SIDE_TABLES.items():
                if name in self._side_stamps and self._side_stamps[name] == stamps[name]:
                    continue
                select = _csv_view(self.root / relative, columns)
                cursor = self.connection.cursor()
                try:
                    cursor.execute(f"create or replace table {name}_loaded as {select}")
                    cursor.execute(f"create or replace view {name} as select * from {name}_loaded")
                except (duckdb.IOException, duckdb.InvalidInputException):
                    cursor.execute(f"create or replace view {name} as {select}")
                finally:
                    cursor.close()
                self._side_stamps[name] = stamps[name]

    def query(self, name: str, **params: Any) -> pd.DataFrame:
        """Run `queries/<name>.sql` with the given parameters."""
        self._refresh_side_tables()
        return run_query(self.connection, name, params)

    def query_arrow(self, name: str, **params: Any) -> pa.Table:
        """Run `queries/<name>.sql`, returning an Arrow table."""
        self._refresh_side_tables()
        return run_query_arrow(self.connection, name, params)
