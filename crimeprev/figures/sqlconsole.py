"""The analysts' SQL console: one read-only SELECT at a time over the documented views.

Each query runs in a process of its own (`crimeprev.figures.sqlworker`) whose address space is
capped, so no statement can take the dashboard's memory: the worker checks the query (parsed,
then bound against empty stand-ins of the views, so only what DuckDB resolved is judged), runs
it on a connection that reads nothing but the data folder, and hands back at most the row and
byte caps. This side refuses empty, overlong and deeply nested text before starting a worker,
stops a worker that outlives the time limit, and keeps results in a store of bounded size that
forgets a session's result once the session is gone.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import weakref
from collections import OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from crimeprev.aggregate import ensure_aggregates
from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.figures.sqlworker import VIEW_NAMES
from crimeprev.store import REPOSITORY_ROOT

ROW_CAP = 100_000
RESULT_BYTE_CAP = 32 * 2**20
TIMEOUT_SECONDS = 10.0
MAX_QUERY_CHARS = 20_000
MAX_NESTING = 64
# The worker's whole address space (interpreter, libraries, DuckDB and the result), and the
# part of it DuckDB's own buffer manager may use.
WORKER_MEMORY_BYTES = 1024 * 2**20
DUCKDB_MEMORY = "384MB"
# Allocators that reserve little address space they do not use, so the cap above is spent
# on the query rather than on per-thread arenas.
WORKER_ENVIRONMENT = {
    "MALLOC_ARENA_MAX": "2",
    "ARROW_DEFAULT_MEMORY_POOL": "system",
    "OMP_NUM_THREADS": "1",
}
# How long a worker may take to start, on top of its query's time limit, before it is stopped:
# the worker's own timer stops a query; this only catches a worker that never answers.
WORKER_START_SECONDS = 60.0
# Queries running at once, across every session; a further one waits up to the time limit.
MAX_RUNNING = 2
# Results kept for sessions to redraw, across every session.
STORE_BYTE_CAP = 256 * 2**20
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
assert tuple(VIEWS) == VIEW_NAMES

_running = threading.BoundedSemaphore(MAX_RUNNING)


class QueryRefused(CrimeprevError, ValueError):
    """A statement the console will not run; the message says why, in one sentence."""


class QueryFailed(CrimeprevError, RuntimeError):
    """A query that ran but did not finish: a DuckDB error, memory, or the time limit."""


@dataclass(frozen=True)
class ConsoleResult:
    """A query's result: at most the row and byte caps, and which cap cut it, if any."""

    table: pa.Table
    capped_by: str | None
    seconds: float
    row_cap: int
    byte_cap: int = RESULT_BYTE_CAP

    @property
    def capped(self) -> bool:
        return self.capped_by is not None

    def summary(self) -> str:
        """The result in one line: rows, time, and whether it was capped."""
        shown = self.table.num_rows
        if self.capped_by == "rows":
            return (
                f"Showing the first {self.row_cap:,} rows: the query returns more, and results "
                f"are capped at {self.row_cap:,} rows ({self.seconds:.2f} s)."
            )
        if self.capped_by == "bytes":
            return (
                f"Showing the first {shown:,} rows: the query returns more, and results are "
                f"capped at {self.byte_cap // 2**20} MB ({self.seconds:.2f} s)."
            )
        return f"{shown:,} row{'s' if shown != 1 else ''} in {self.seconds:.2f} s."


@dataclass(frozen=True)
class Example:
    """A saved example query from `queries/examples/`."""

    name: str
    title: str
    sql: str


def nesting_depth(sql: str) -> int:
    """The deepest parenthesis nesting outside quotes and comments."""
    depth = deepest = 0
    i, n = 0, len(sql)
    while i < n:
        char = sql[i]
        if char in "'\"":
            end = sql.find(char, i + 1)
            i = n if end < 0 else end + 1
            continue
        if sql.startswith("--", i):
            end = sql.find("\n", i)
            i = n if end < 0 else end + 1
            continue
        if sql.startswith("/*", i):
            end = sql.find("*/", i + 2)
            i = n if end < 0 else end + 2
            continue
        if char == "(":
            depth += 1
            deepest = max(deepest, depth)
        elif char == ")":
            depth -= 1
        i += 1
    return deepest


def check_text(sql: str) -> str:
    """The query's text, or `QueryRefused` when it is empty, too long or too deeply nested
    to be worth starting a worker for."""
    text = sql.strip()
    if not text:
        raise QueryRefused("Write a query first: a SELECT over one of the views.")
    if len(text) > MAX_QUERY_CHARS:
        raise QueryRefused(f"The query is longer than {MAX_QUERY_CHARS:,} characters.")
    if nesting_depth(text) > MAX_NESTING:
        raise QueryRefused(
            f"The query nests brackets more than {MAX_NESTING} deep; write the steps as "
            "WITH clauses instead."
        )
    return text


class SqlConsole:
    """The console over one data folder (whose monthly tables must be built)."""

    def __init__(
        self,
        root: Path,
        row_cap: int = ROW_CAP,
        timeout_seconds: float | None = None,
        byte_cap: int = RESULT_BYTE_CAP,
        memory_bytes: int = WORKER_MEMORY_BYTES,
    ) -> None:
        self.root = root
        self.row_cap = row_cap
        self._timeout_seconds = timeout_seconds
        self.byte_cap = byte_cap
        self.memory_bytes = memory_bytes
        self._columns: pd.DataFrame | None = None

    @property
    def timeout_seconds(self) -> float:
        """Seconds a query may run (the module's default unless given)."""
        return TIMEOUT_SECONDS if self._timeout_seconds is None else self._timeout_seconds

    def run(self, sql: str) -> ConsoleResult:
        """Check and run one query in a worker process.

        Raises `QueryRefused` when it will not run, `QueryFailed` when it did not finish."""
        text = check_text(sql)
        if not _running.acquire(timeout=self.timeout_seconds):
            raise QueryFailed(
                "The console is busy with other people's queries; run yours again in a moment."
            )
        try:
            header, body = self._in_worker(text)
        finally:
            _running.release()
        if header["outcome"] == "refused":
            raise QueryRefused(str(header["message"]))
        if header["outcome"] == "failed":
            raise QueryFailed(str(header["message"]))
        table = pa.ipc.open_stream(body).read_all()
        return ConsoleResult(
            table=table,
            capped_by=str(header["capped_by"]) if header.get("capped_by") else None,
            seconds=float(str(header["seconds"])),
            row_cap=self.row_cap,
            byte_cap=self.byte_cap,
        )

    def _in_worker(self, sql: str) -> tuple[dict[str, object], bytes]:
        request = {
            "root": str(self.root),
            "sql": sql,
            "row_cap": self.row_cap,
            "byte_cap": self.byte_cap,
            "timeout": self.timeout_seconds,
            "memory_bytes": self.memory_bytes,
            "duckdb_memory": DUCKDB_MEMORY,
        }
        worker = subprocess.Popen(
            [sys.executable, "-m", "crimeprev.figures.sqlworker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=os.environ | WORKER_ENVIRONMENT,
        )
        try:
            output, _ = worker.communicate(
                json.dumps(request).encode(),
                timeout=2 * self.timeout_seconds + WORKER_START_SECONDS,
            )
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.communicate()
            raise QueryFailed(
                f"The query ran for more than {self.timeout_seconds:g} seconds and was stopped. "
                "Narrow it (fewer months, fewer columns, a LIMIT) and run it again."
            ) from None
        line, _, body = output.partition(b"\n")
        try:
            header = json.loads(line)
        except ValueError:
            header = None
        if not isinstance(header, dict) or "outcome" not in header:
            raise QueryFailed(
                "The query needed more memory than the console allows and was stopped. Narrow "
                "it (fewer rows, shorter texts, an aggregate) and run it again."
            )
        return header, body

    def view_columns(self) -> pd.DataFrame:
        """Every documented view's columns and types, with what the view holds."""
        if self._columns is None:
            self._columns = _view_columns(self.root)
        return self._columns


def _view_columns(root: Path) -> pd.DataFrame:
    rows = []
    cursor = Database(root).connection.cursor()
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


class ResultHandle:
    """A session's claim on one stored result; when the session (and so the handle) is gone,
    the result is dropped from the store."""

    def __init__(self, key: int) -> None:
        self.key = key


class ResultStore:
    """Results kept between a session's reruns, at most `byte_cap` bytes across all sessions
    (the oldest go first), each dropped as soon as its handle is garbage collected."""

    def __init__(self, byte_cap: int = STORE_BYTE_CAP) -> None:
        self.byte_cap = byte_cap
        self._results: OrderedDict[int, tuple[str, ConsoleResult | str]] = OrderedDict()
        self._lock = threading.Lock()
        self._next = 0

    def put(self, sql: str, result: ConsoleResult | str) -> ResultHandle:
        """Keep `result` of `sql` (or the sentence saying why it did not run); the returned
        handle is the only way back to it."""
        with self._lock:
            self._next += 1
            handle = ResultHandle(self._next)
            self._results[handle.key] = (sql, result)
            while self.nbytes_locked() > self.byte_cap and len(self._results) > 1:
                self._results.popitem(last=False)
        weakref.finalize(handle, self.discard, handle.key)
        return handle

    def get(self, handle: ResultHandle | None) -> tuple[str, ConsoleResult | str] | None:
        """The query and result behind `handle`, or None when they were dropped."""
        if handle is None:
            return None
        with self._lock:
            return self._results.get(handle.key)

    def discard(self, key: int) -> None:
        with self._lock:
            self._results.pop(key, None)

    def nbytes_locked(self) -> int:
        return sum(
            result.table.nbytes
            for _, result in self._results.values()
            if isinstance(result, ConsoleResult)
        )

    @property
    def nbytes(self) -> int:
        """Bytes held across all results."""
        with self._lock:
            return self.nbytes_locked()

    def __len__(self) -> int:
        with self._lock:
            return len(self._results)


RESULTS = ResultStore()
