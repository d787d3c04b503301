"""The SQL console's worker: one process per query, run as `python -m crimeprev.figures.sqlworker`.

The process limits its own address space before DuckDB is loaded, so no statement, however
greedy, can take more than that from the machine: an allocation past the limit fails inside
DuckDB (a sentence) or ends this process (a sentence from the parent), never the dashboard.

It reads one request (JSON on stdin), and writes one JSON line on stdout, followed, when the
query ran, by the result as an Arrow IPC stream of at most the row and byte caps.

A query must pass two checks before it runs:

1. DuckDB's parser finds exactly one statement, a SELECT (WITH, VALUES, FROM-first, DESCRIBE
   and SUMMARIZE parse as SELECT), calling no function that reads settings, the environment or
   runs SQL text.
2. The query is bound and planned (without running it) on a separate connection that holds only
   empty stand-ins of the documented views and cannot reach any file. What DuckDB resolved is
   what is checked: every table scanned must be one of the views, and every table function
   `range`, `generate_series` or `unnest`. A name brought into scope by a CTE, a catalog
   function, `information_schema` or a quoted path all bind to something else, and are refused.

The connection that runs the query reads only the data folder (`enable_external_access` off),
its configuration is locked, and it is interrupted after the time limit.
"""

from __future__ import annotations

import json
import re
import resource
import sys
import threading
import time
from pathlib import Path
from typing import Any

MEBIBYTE = 2**20


def _limit_memory(max_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_AS, (max_bytes, max_bytes))


# The documented views: the only tables a query may read.
VIEW_NAMES = (
    "records",
    "record_measures",
    "measure_monthly",
    "crime_type_monthly",
    "districts",
    "strands",
    "measures",
    "delivery_actions",
    "delivery_status",
    "activity_metrics",
    "commentary",
)
ALLOWED_TABLE_FUNCTIONS = frozenset({"range", "generate_series", "unnest"})
FORBIDDEN_FUNCTIONS = frozenset(
    {"glob", "getenv", "query", "query_table", "sniff_csv", "load_extension", "current_setting"}
)
FORBIDDEN_PREFIXES = ("read_", "parquet_", "iceberg_", "delta_", "sqlite_", "postgres_", "mysql_")
BATCH_ROWS = 2_000


class Refused(Exception):
    """The query will not run; the message says why in one sentence."""


class Failed(Exception):
    """The query ran and did not finish; the message says why in one sentence."""


def _walk(node: Any) -> Any:
    """Every dict in a JSON tree, without recursion (a query can nest deeply)."""
    stack = [node]
    while stack:
        current = stack.pop()
        if isinstance(current, dict):
            yield current
            stack.extend(current.values())
        elif isinstance(current, list):
            stack.extend(current)


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _sentence(text: str) -> str:
    text = text.strip()
    return text if text.endswith((".", "!", "?")) else text + "."


def _forbidden_function(name: str) -> bool:
    lowered = name.lower()
    return lowered in FORBIDDEN_FUNCTIONS or lowered.startswith(FORBIDDEN_PREFIXES)


def check_statement(parser: Any, sql: str) -> None:
    """Refuse anything but one SELECT calling none of the forbidden functions."""
    import duckdb

    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise Refused(_sentence(f"DuckDB cannot read the query: {_first_line(error)}")) from error
    if len(statements) != 1:
        raise Refused(f"Run one statement at a time: this text holds {len(statements)} statements.")
    kind = str(statements[0].type).rsplit(".", 1)[-1]
    if kind != "SELECT":
        raise Refused(
            f"Only a SELECT (or WITH ... SELECT) query can run here; this is a {kind} statement."
        )
    serialised = parser.sql("select json_serialize_sql($sql::varchar)", params={"sql": sql})
    tree = json.loads(serialised.fetchall()[0][0])
    if tree.get("error"):
        message = str(tree.get("error_message", "it cannot be checked"))
        if "Only SELECT" in message:
            message = "PIVOT and UNPIVOT cannot be checked here; write them with GROUP BY"
        raise Refused(_sentence(f"The query cannot be run here: {_first_line(Exception(message))}"))
    for node in _walk(tree):
        if node.get("class") == "FUNCTION" and _forbidden_function(str(node.get("function_name"))):
            raise Refused(
                f"The function {node.get('function_name')}() reads files, settings or other SQL "
                "and is not allowed here."
            )


def stand_in_connection(real: Any) -> Any:
    """A connection holding an empty table in the shape of each view, and nothing else it
    could read: no files, no extensions, no optimiser (so nothing is planned away)."""
    import duckdb

    checker = duckdb.connect(":memory:")
    cursor = real.cursor()
    try:
        for name in VIEW_NAMES:
            empty = cursor.sql(f"select * from {name} limit 0").to_arrow_table()
            checker.register("stand_in", empty)
            checker.execute(f"create table {name} as select * from stand_in")
            checker.unregister("stand_in")
    finally:
        cursor.close()
    checker.execute("pragma disable_optimizer")
    checker.execute("set autoinstall_known_extensions = false")
    checker.execute("set autoload_known_extensions = false")
    checker.execute("set enable_external_access = false")
    checker.execute("set lock_configuration = true")
    return checker


def check_bound(checker: Any, sql: str) -> None:
    """Bind and plan the query against the stand-ins; refuse any scan of something other than
    a documented view or an allowed table function."""
    import duckdb

    try:
        rows = checker.sql(f"explain (format json) {sql}").fetchall()
    except duckdb.PermissionException as error:
        raise Refused(
            "The query names a file; this console reads only its views, by name."
        ) from error
    except duckdb.CatalogException as error:
        missing = re.search(r"Table with name (.+?) does not exist", str(error))
        if missing:
            raise Refused(
                f"'{missing.group(1)}' is not one of the views this console reads: "
                f"{', '.join(VIEW_NAMES)}."
            ) from error
        raise Refused(_sentence(f"The query cannot be run here: {_first_line(error)}")) from error
    except duckdb.Error as error:
        raise Refused(_sentence(f"DuckDB cannot bind the query: {_first_line(error)}")) from error
    allowed_tables = {f"memory.main.{name}" for name in VIEW_NAMES}
    for _, plan_text in rows:
        for node in _walk(json.loads(plan_text)):
            info = node.get("extra_info")
            if not isinstance(info, dict):
                continue
            function = info.get("Function")
            if function is not None and str(function).lower() not in ALLOWED_TABLE_FUNCTIONS:
                raise Refused(
                    f"The query reads {str(function).lower()}(), which this console does not "
                    f"offer: only the views, and {', '.join(sorted(ALLOWED_TABLE_FUNCTIONS))}, "
                    "can be read."
                )
            table = info.get("Table")
            if table is not None and str(table) not in allowed_tables:
                raise Refused(
                    f"'{table}' is not one of the views this console reads: "
                    f"{', '.join(VIEW_NAMES)}."
                )


def locked_connection(root: Path, duckdb_memory: str) -> Any:
    """The data folder's views on a connection that reads nothing else and cannot be
    reconfigured."""
    from crimeprev.db import Database

    database = Database(root)
    connection = database.connection
    allowed = sorted({str(root.resolve()) + "/", str(root.absolute()) + "/"})
    connection.execute("set temp_directory = ''")
    connection.execute(f"set memory_limit = '{duckdb_memory}'")
    connection.execute("set threads = 1")
    connection.execute("set autoinstall_known_extensions = false")
    connection.execute("set autoload_known_extensions = false")
    connection.execute("set allowed_directories = $dirs", {"dirs": allowed})
    connection.execute("set enable_external_access = false")
    connection.execute("set lock_configuration = true")
    return connection


def _rows_that_fit(batch: Any, room: int) -> Any:
    """The longest head of `batch` taking at most `room` bytes."""
    rows = int(batch.num_rows * max(room, 0) / max(batch.nbytes, 1))
    part = batch.slice(0, rows)
    while rows and part.nbytes > room:
        rows //= 2
        part = batch.slice(0, rows)
    return part


def run_query(connection: Any, sql: str, row_cap: int, byte_cap: int, timeout: float) -> Any:
    """Run one checked query: batches up to the row and byte caps, interrupted after
    `timeout` seconds. Returns (table, capped_by) where capped_by is None, "rows" or "bytes"."""
    import duckdb
    import pyarrow as pa

    cursor = connection.cursor()
    timer = threading.Timer(timeout, cursor.interrupt)
    timer.start()
    batches: list[Any] = []
    rows = size = 0
    capped_by = None
    try:
        reader = cursor.sql(sql).to_arrow_reader(BATCH_ROWS)
        schema = reader.schema
        for batch in reader:
            if rows + batch.num_rows > row_cap:
                batches.append(batch.slice(0, row_cap - rows))
                capped_by = "rows"
                break
            if size + batch.nbytes > byte_cap:
                part = _rows_that_fit(batch, byte_cap - size)
                if part.num_rows:
                    batches.append(part)
                capped_by = "bytes"
                break
            batches.append(batch)
            rows += batch.num_rows
            size += batch.nbytes
    except duckdb.InterruptException as error:
        raise Failed(
            f"The query ran for more than {timeout:g} seconds and was stopped. Narrow it "
            "(fewer months, fewer columns, a LIMIT) and run it again."
        ) from error
    except (duckdb.OutOfMemoryException, MemoryError, pa.ArrowMemoryError) as error:
        raise Failed(
            "The query needed more memory than the console allows and was stopped. Narrow it "
            "(fewer rows, shorter texts, an aggregate) and run it again."
        ) from error
    except (duckdb.Error, pa.ArrowException, OSError) as error:
        if "Out of Memory" in str(error):
            raise Failed(
                "The query needed more memory than the console allows and was stopped. Narrow "
                "it (fewer rows, shorter texts, an aggregate) and run it again."
            ) from error
        raise Failed(_sentence(f"DuckDB could not run the query: {_first_line(error)}")) from error
    finally:
        timer.cancel()
        cursor.close()
    return pa.Table.from_batches(batches, schema=schema), capped_by


def serve(request: dict[str, Any], out: Any) -> None:
    """Answer one request on the binary stream `out`."""
    started = time.monotonic()
    root = Path(request["root"])
    try:
        import duckdb
        import pyarrow as pa

        connection = locked_connection(root, request["duckdb_memory"])
        check_statement(duckdb.connect(":memory:", config={"threads": 1}), request["sql"])
        check_bound(stand_in_connection(connection), request["sql"])
        table, capped_by = run_query(
            connection,
            request["sql"],
            int(request["row_cap"]),
            int(request["byte_cap"]),
            float(request["timeout"]),
        )
    except Refused as error:
        header: dict[str, Any] = {"outcome": "refused", "message": str(error)}
    except Failed as error:
        header = {"outcome": "failed", "message": str(error)}
    except (MemoryError, RecursionError):
        header = {
            "outcome": "failed",
            "message": "The query is too large or too deeply nested for the console to check; "
            "simplify it and run it again.",
        }
    except Exception as error:  # anything else still ends in a sentence, never a traceback
        header = {
            "outcome": "failed",
            "message": _sentence(f"The query could not be run: {_first_line(error)}"),
        }
    else:
        header = {
            "outcome": "ran",
            "capped_by": capped_by,
            "seconds": time.monotonic() - started,
        }
        out.write(json.dumps(header).encode() + b"\n")
        with pa.ipc.new_stream(out, table.schema) as writer:
            writer.write_table(table)
        out.flush()
        return
    message = header["message"].replace(str(root.resolve()), "the data folder")
    header["message"] = message.replace(str(root), "the data folder")
    out.write(json.dumps(header).encode() + b"\n")
    out.flush()


def main() -> None:
    request = json.loads(sys.stdin.read())
    _limit_memory(int(request["memory_bytes"]))
    serve(request, sys.stdout.buffer)


if __name__ == "__main__":
    main()
