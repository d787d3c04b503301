"""The analysts' SQL console: one read-only SELECT at a time over the documented views, on a
DuckDB connection that cannot touch files or the network, with results capped and a time limit.

Three walls, each enough on its own for the common cases, together for the rest:

1. DuckDB's own parser must find exactly one statement, and it must be a SELECT (WITH, VALUES,
   FROM-first, DESCRIBE and SUMMARIZE parse as SELECT); writes, COPY, ATTACH, INSTALL/LOAD,
   PRAGMA, SET, EXPORT and a second statement behind a comment are refused before running.
2. The parsed query (DuckDB's JSON form of it) may read only the documented views and its own
   CTEs, call no table function other than `range`, `generate_series` and `unnest`, and no
   function that reads files, the environment or runs SQL text (`read_csv`, `glob`, `getenv`,
   `query` ...).
3. The console's connection is its own in-memory database whose views read the data folder;
   file access outside that folder is off (`enable_external_access = false`, with the folder as
   the only allowed directory), the configuration is locked, memory and threads are limited.

Each query runs on its own cursor with a timer that interrupts it after the time limit, so a
runaway query stops with a sentence and other sessions keep being served.
"""

from __future__ import annotations

import io
import json
import threading
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import altair as alt
import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crimeprev.aggregate import ensure_aggregates
from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.present.charts import BLUE, HEIGHT, LABEL_AXIS, styled
from crimeprev.store import REPOSITORY_ROOT

ROW_CAP = 100_000
TIMEOUT_SECONDS = 10.0
MAX_QUERY_CHARS = 20_000
MEMORY_LIMIT = "1GB"
BATCH_ROWS = 10_000
EXAMPLES_DIR = REPOSITORY_ROOT / "queries" / "examples"

VIEWS = {
    "records": "One row per crime, incident or anti-social behaviour record (see the data "
    "model). `month` is the partition, as YYYY-MM.",
    "record_measures": "One row per record and measure that counts it: the records view's "
    "columns and `measure_id`. Every measure's count is read from here.",
    "measure_monthly": "Each measure's count per force, district and month (months with no "
    "record are left out).",
    "crime_type_monthly": "Records per crime type and record kind, force, district and month.",
    "districts": "The districts: ONS code, name, URL slug, Local Policing Area, population.",
    "strands": "The strategy's 14 strands, in the report's order.",
    "measures": "Each measure: its strand, unit, the direction that is good news, and its "
    "rule (record kind, crime types, flags, outcomes).",
    "delivery_actions": "The delivery plan's actions, with target and completion months.",
    "delivery_status": "Each action's status at the end of each reporting quarter.",
    "activity_metrics": "Operational results reported by strand leads.",
    "commentary": "The leads' commentary per strand and period.",
}
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
FORBIDDEN_FUNCTIONS = frozenset(
    {"glob", "getenv", "query", "query_table", "sniff_csv", "load_extension", "current_setting"}
)
FORBIDDEN_PREFIXES = ("read_", "parquet_", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_")


class QueryRefused(CrimeprevError, ValueError):
    """A statement the console will not run; the message says why, in one sentence."""


class QueryFailed(CrimeprevError, RuntimeError):
    """A query that ran but did not finish: a DuckDB error, or the time limit."""


@dataclass(frozen=True)
class ConsoleResult:
    """A query's result: at most the row cap, and whether more rows were cut off."""

    table: pa.Table
    capped: bool
    seconds: float
    row_cap: int

    def summary(self) -> str:
        """The result in one line: rows, time, and whether it was capped."""
        rows = f"{self.table.num_rows:,} row{'s' if self.table.num_rows != 1 else ''}"
        if self.capped:
            return (
                f"Showing the first {self.row_cap:,} rows: the query returns more, and results "
                f"are capped at {self.row_cap:,} rows ({self.seconds:.2f} s)."
            )
        return f"{rows} in {self.seconds:.2f} s."


@dataclass(frozen=True)
class Example:
    """A saved example query from `queries/examples/`."""

    name: str
    title: str
    sql: str


def _walk(node: Any) -> Any:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _forbidden_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in FORBIDDEN_FUNCTIONS or lowered.startswith(FORBIDDEN_PREFIXES)


def _statement_kind(statement: duckdb.Statement) -> str:
    return str(statement.type).rsplit(".", 1)[-1]


def _check_tree(tree: dict[str, Any]) -> None:
    nodes = list(_walk(tree))
    cte_names = {
        str(entry.get("key", "")).lower()
        for node in nodes
        if isinstance(node.get("cte_map"), dict)
        for entry in node["cte_map"].get("map", [])
        if isinstance(entry, dict)
    }
    for node in nodes:
        kind = node.get("type")
        if kind == "BASE_TABLE":
            name = str(node.get("table_name", ""))
            schema = str(node.get("schema_name", "")).lower()
            catalog = str(node.get("catalog_name", "")).lower()
            if name.lower() in cte_names and not schema and not catalog:
                continue
            if (
                name.lower() not in VIEWS
                or schema not in ("", "main")
                or catalog
                not in (
                    "",
                    "memory",
                )
            ):
                raise QueryRefused(
                    f"'{name}' is not one of the views this console reads: "
                    f"{', '.join(VIEWS)} (and the query's own WITH names)."
                )
        elif kind == "TABLE_FUNCTION":
            function = node.get("function") or {}
            name = str(function.get("function_name", ""))
            if name.lower() not in ALLOWED_TABLE_FUNCTIONS:
                raise QueryRefused(
                    f"The table function {name}() is not allowed here: only the views, and "
                    f"{', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}, can be read."
                )
        elif node.get("class") == "FUNCTION":
            name = str(node.get("function_name", ""))
            if _forbidden_function(name):
                raise QueryRefused(
                    f"The function {name}() reads files, settings or other SQL and is not "
                    "allowed here."
                )
        elif kind == "SHOW_REF" and node.get("show_type") == "SHOW_SPECIAL":
            if str(node.get("table_name", "")).strip('"').lower() != "tables":
                raise QueryRefused("Only SHOW TABLES is allowed among the SHOW statements.")


class SqlConsole:
    """A locked-down connection over one data folder's views (the aggregates must be built)."""

    def __init__(
        self,
        root: Path,
        row_cap: int = ROW_CAP,
        timeout_seconds: float = TIMEOUT_SECONDS,
    ) -> None:
        self.root = root
        self.row_cap = row_cap
        self.timeout_seconds = timeout_seconds
        self.database = Database(root)
        connection = self.database.connection
        allowed = sorted({str(root.resolve()) + "/", str(root.absolute()) + "/"})
        # Spilling to disk is off: a query that needs more memory than the limit fails.
        connection.execute("set temp_directory = ''")
        connection.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
        connection.execute("set threads = 1")
        connection.execute("set autoinstall_known_extensions = false")
        connection.execute("set autoload_known_extensions = false")
        connection.execute("set allowed_directories = $dirs", {"dirs": allowed})
        connection.execute("set enable_external_access = false")
        connection.execute("set lock_configuration = true")
        # Parsing needs no data: a bare connection turns a query into DuckDB's JSON tree.
        self._parser = duckdb.connect(":memory:")

    def check(self, sql: str) -> str:
        """The one SELECT statement in `sql`, or `QueryRefused` saying why it will not run."""
        text = sql.strip()
        if not text:
            raise QueryRefused("Write a query first: a SELECT over one of the views.")
        if len(text) > MAX_QUERY_CHARS:
            raise QueryRefused(f"The query is longer than {MAX_QUERY_CHARS:,} characters.")
        try:
            statements = duckdb.extract_statements(text)
        except duckdb.Error as error:
            raise QueryRefused(f"DuckDB cannot read the query: {_first_line(error)}") from error
        if len(statements) != 1:
            raise QueryRefused(
                f"Run one statement at a time: this text holds {len(statements)} statements."
            )
        kind = _statement_kind(statements[0])
        if kind != "SELECT":
            raise QueryRefused(
                f"Only a SELECT (or WITH ... SELECT) query can run here; this is a {kind} "
                "statement."
            )
        cursor = self._parser.cursor()
        try:
            serialised = cursor.sql(
                "select json_serialize_sql($sql::varchar)", params={"sql": text}
            ).fetchall()[0][0]
        finally:
            cursor.close()
        tree = json.loads(serialised)
        if tree.get("error"):
            message = str(tree.get("error_message", "it cannot be checked"))
            if "Only SELECT" in message:
                message = "PIVOT and UNPIVOT cannot be checked here; write them with GROUP BY"
            raise QueryRefused(f"The query cannot be run here: {message}.")
        _check_tree(tree)
        return text

    def run(self, sql: str) -> ConsoleResult:
        """Check and run one query: at most `row_cap` rows, stopped after the time limit.

        Raises `QueryRefused` before running, `QueryFailed` when DuckDB fails or time runs out."""
        text = self.check(sql)
        cursor = self.database.connection.cursor()
        timer = threading.Timer(self.timeout_seconds, cursor.interrupt)
        started = time.monotonic()
        timer.start()
        batches: list[pa.RecordBatch] = []
        rows = 0
        try:
            reader = cursor.sql(text).to_arrow_reader(BATCH_ROWS)
            schema = reader.schema
            for batch in reader:
                batches.append(batch)
                rows += batch.num_rows
                if rows > self.row_cap:
                    break
        except duckdb.InterruptException as error:
            raise QueryFailed(
                f"The query ran for more than {self.timeout_seconds:g} seconds and was stopped. "
                "Narrow it (fewer months, fewer columns, a LIMIT) and run it again."
            ) from error
        except duckdb.Error as error:
            raise QueryFailed(f"DuckDB could not run the query: {_first_line(error)}") from error
        finally:
            timer.cancel()
            cursor.close()
        table = pa.Table.from_batches(batches, schema=schema)
        capped = table.num_rows > self.row_cap
        return ConsoleResult(
            table=table.slice(0, self.row_cap) if capped else table,
            capped=capped,
            seconds=time.monotonic() - started,
            row_cap=self.row_cap,
        )

    def view_columns(self) -> pd.DataFrame:
        """Every documented view's columns and types, with what the view holds."""
        rows = []
        cursor = self.database.connection.cursor()
        try:
            for view, description in VIEWS.items():
                relation = cursor.table(view)
                for column, kind in zip(relation.columns, relation.types, strict=True):
                    rows.append(
                        {
                            "view": view,
                            "column": column,
                            "type": str(kind),
                            "view_description": description,
                        }
                    )
        finally:
            cursor.close()
        return pd.DataFrame(rows, columns=["view", "column", "type", "view_description"])


def _first_line(error: BaseException) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


@lru_cache(maxsize=2)
def open_console(root: Path, version: str = "") -> SqlConsole:
    """The console for a data folder, built once per data version (`version` only keys the
    cache); the monthly tables are brought up to date first."""
    ensure_aggregates(root)
    return SqlConsole(root)


def examples() -> list[Example]:
    """The saved example queries, in file-name order; each file's second line (`-- title:`)
    names it."""
    found = []
    for path in sorted(EXAMPLES_DIR.glob("*.sql")):
        sql = path.read_text(encoding="utf-8")
        title = next(
            (
                line.split(":", 1)[1].strip()
                for line in sql.splitlines()
                if line.startswith("-- title:")
            ),
            path.stem.replace("_", " "),
        )
        found.append(Example(path.stem, title, sql))
    return found


def result_csv(table: pa.Table) -> bytes:
    """A result as CSV bytes."""
    text: str = table.to_pandas().to_csv(index=False)
    return text.encode("utf-8")


def result_parquet(table: pa.Table) -> bytes:
    """A result as Parquet bytes."""
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    return buffer.getvalue()


def result_chart(table: pa.Table, max_bars: int = 50) -> alt.Chart | None:
    """A first look at a result: a line over the first date column, else bars over the first
    text column, of the first numeric column; None when the result has no such pair."""
    numeric = [
        f.name
        for f in table.schema
        if pa.types.is_integer(f.type)
        or pa.types.is_floating(f.type)
        or pa.types.is_decimal(f.type)
    ]
    temporal = [
        f.name for f in table.schema if pa.types.is_date(f.type) or pa.types.is_timestamp(f.type)
    ]
    text = [
        f.name
        for f in table.schema
        if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)
    ]
    if not numeric or table.num_rows == 0:
        return None
    value = numeric[0]
    chart: alt.Chart
    if temporal:
        frame = table.select([temporal[0], value]).to_pandas()
        frame = frame.groupby(temporal[0], as_index=False)[value].sum()
        chart = (
            alt.Chart(frame)
            .mark_line(point=True, color=BLUE)
            .encode(x=alt.X(f"{temporal[0]}:T", title=None), y=alt.Y(f"{value}:Q"))
            .properties(height=HEIGHT)
        )
    elif text:
        frame = table.select([text[0], value]).to_pandas()
        frame = frame.groupby(text[0], as_index=False)[value].sum()
        frame = frame.sort_values(value, ascending=False).head(max_bars)
        chart = (
            alt.Chart(frame)
            .mark_bar(color=BLUE)
            .encode(
                y=alt.Y(f"{text[0]}:N", sort="-x", title=None, axis=LABEL_AXIS),
                x=alt.X(f"{value}:Q"),
            )
            .properties(height=alt.Step(20))
        )
    else:
        return None
    return styled(chart)
