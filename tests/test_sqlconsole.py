"""The SQL console: what it runs, what it refuses (a corpus of hostile statements), the row cap,
the time limit that leaves other sessions served, the data files untouched, and the page."""

from __future__ import annotations

import gc
import hashlib
import io
import os
import re
import threading
import time
from datetime import date
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from builders import view_at
from streamlit.testing.v1 import AppTest

from crimeprev.access import audit
from crimeprev.db import Database
from crimeprev.figures import sqlconsole
from crimeprev.figures.insight import district_breakdown
from crimeprev.figures.sqlconsole import (
    DUCKDB_MEMORY,
    ROW_CAP,
    VIEWS,
    QueryFailed,
    QueryRefused,
    SqlConsole,
    examples,
    result_csv,
    result_parquet,
)
from crimeprev.figures.sqlworker import locked_connection
from crimeprev.present.charts import query_result_chart
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT

APP = str(REPOSITORY_ROOT / "app.py")
MEBIBYTE = 2**20
# Each is refused before it runs, or stopped with a sentence: writes, DDL, file and network
# access, extensions, settings, several statements (some hidden behind comments), functions
# that read the environment or run SQL text, the catalog reached through a CTE's name, paths
# into the data folder, statements that would take all the memory, and deep nesting.
HOSTILE = [
    "drop table districts",
    "delete from districts",
    "insert into districts (district_code) values ('X')",
    "update districts set population = 0",
    "create table stolen as select * from records",
    "create or replace view records as select 1",
    "alter table districts rename to gone",
    "copy records to '/tmp/records-copy.csv'",
    "copy (select * from records) to '/tmp/out.parquet' (format parquet)",
    "select * from read_csv('/etc/passwd')",
    "select * from read_csv_auto('/etc/passwd')",
    "select * from '/etc/passwd'",
    "from '/etc/passwd'",
    "select * from read_text('/etc/passwd')",
    "select * from read_blob('/etc/shadow')",
    "select * from glob('/etc/*')",
    "select * from read_parquet('https://example.com/x.parquet')",
    "select * from read_json('http://169.254.169.254/latest/meta-data')",
    "attach '/tmp/evil.duckdb' as evil",
    "attach ':memory:' as scratch",
    "install httpfs",
    "load httpfs",
    "pragma database_list",
    "set enable_external_access = true",
    "reset lock_configuration",
    "export database '/tmp/dump'",
    "import database '/tmp/dump'",
    "checkpoint",
    "call pragma_version()",
    "call duckdb_views()",
    "select 1; drop table districts",
    "select 1; -- harmless\ndrop table districts",
    "select 1 /* a comment */; select * from read_csv('/etc/passwd')",
    "select getenv('HOME')",
    "select * from query('select * from read_csv(''/etc/passwd'')')",
    "select * from query_table('duckdb_views')",
    "select * from duckdb_settings()",
    "select current_setting('allowed_directories')",
    "select * from information_schema.tables",
    "select * from memory.information_schema.columns",
    "select * from pg_catalog.pg_class",
    "select * from memory.main.districts_arrow",
    "with x as (select 1) select * from x; vacuum",
    "pivot records on crime_type using count(*)",
    "begin transaction",
    "",
    "   \n  ",
    # The catalog, reached by giving a CTE the catalog's name somewhere else in the query.
    "select y.view_name, y.sql from (with duckdb_views as (select 1 as q) select * from "
    "duckdb_views) x, duckdb_views y",
    "with records as (select * from duckdb_views()) select * from records",
    "select * from (with districts as (select 1) select * from districts) a, duckdb_settings() b",
    "select * from duckdb_tables()",
    "select * from duckdb_databases()",
    "select * from duckdb_functions()",
    "select * from duckdb_extensions()",
    "select * from duckdb_secrets()",
    "select * from pragma_table_info('records')",
    "select * from sql_auto_complete('sel')",
    "from duckdb_views() select sql",
    "select (select sql from duckdb_views() limit 1) as leaked",
    "select * from records where month in (select sql from duckdb_views())",
    "select * from records limit 1 offset (select count(*) from duckdb_views())",
    "select * from range(3) t(x), lateral (select * from duckdb_settings())",
    "summarize select * from duckdb_views()",
    "show tables",
    # Files in the data folder, named relatively and absolutely.
    "select * from 'imports/log.jsonl'",
    "select * from '{root}/imports/log.jsonl'",
    "select * from read_json_auto('{root}/imports/log.jsonl')",
    "select * from '{root}/records/month=2022-09/part-0.parquet'",
    "select * from parquet_metadata('{root}/records/*/*.parquet')",
    "describe select * from read_csv('/etc/passwd')",
    "describe '{root}/imports/log.jsonl'",
    "select * from records, glob('{root}/*')",
    # Memory: each of these took the server past several gigabytes.
    "select len(range(400000000)) as n",
    "select length(repeat('x', 3000000000))",
    "select repeat('x', 50000000) as s from range(40)",
    "select string_agg(repeat('y', 1000), ',') from range(3000000)",
    "select list(x) from (select repeat('x', 1000) as x from range(2000000))",
    "select count(*) from range(1000000000000) as a",
    "with recursive t(n) as (select 1 union all select n + 1 from t) select count(*) from t",
    # Deep nesting.
    "select " + "abs(" * 500 + "1" + ")" * 500,
    "select * from " + "(select * from " * 120 + "districts" + ")" * 120,
    "select 1 where " + "not (" * 300 + "true" + ")" * 300,
]


def _checksums(root: Path) -> dict[str, str]:
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


@pytest.fixture(scope="module")
def console(demo_db: Database, demo_root: Path) -> SqlConsole:
    """The console over the demo extract, with a short time limit so tests are quick."""
    return SqlConsole(demo_root, row_cap=100_000, timeout_seconds=2.0)


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants, from /proc."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            for task in Path(f"/proc/{current}/task").iterdir():
                stack.extend(int(c) for c in (task / "children").read_text().split())
        except (FileNotFoundError, ProcessLookupError):
            continue
        # A process that has just exited (a zombie) has no resident memory line.
        rss = [line for line in status.splitlines() if line.startswith("VmRSS")]
        total += int(rss[0].split()[1]) * 1024 if rss else 0
    return total


class MemoryWatch(threading.Thread):
    """Samples the resident memory of this process and its workers every 20 ms."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak = 0
        self.samples = 0
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, _tree_rss(os.getpid()))
            self.samples += 1
            time.sleep(0.02)


def test_the_hostile_corpus_through_the_page_is_refused_with_memory_bounded(
    demo_root: Path, demo_db: Database, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
):
    """Every statement typed into the page and run: a sentence each, the data files unchanged,
    this process and its query workers never more than 1 GiB above where they started (the
    test process may already hold what earlier tests left), and another session's queries
    answered meanwhile."""
    corpus = [statement.replace("{root}", str(demo_root)) for statement in HOSTILE]
    assert len(corpus) >= 60
    before = _checksums(demo_root)
    monkeypatch.setattr(sqlconsole, "TIMEOUT_SECONDS", 2.0)
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(demo_root))
    monkeypatch.setenv(audit.AUDIT_DIR_VARIABLE, str(tmp_path / "audit"))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/sql.py")
    at.run()
    other = SqlConsole(demo_root, timeout_seconds=30)
    served: list[float] = []
    baseline = _tree_rss(os.getpid())
    watch = MemoryWatch()
    started = time.monotonic()
    watch.start()

    def another_session() -> None:
        while not watch.done.is_set():
            asked = time.monotonic()
            assert other.run("select count(*) as n from districts").table.num_rows == 1
            assert len(demo_db.query("covered_months", force=None)) == 66
            served.append(time.monotonic() - asked)
            watch.done.wait(2.0)

    neighbour = threading.Thread(target=another_session, daemon=True)
    neighbour.start()
    answers = {}
    try:
        for statement in corpus:
            at.text_area[0].set_value(statement)
            next(b for b in at.button if b.label == "Run").click()
            at.run()
            assert not at.exception, (statement, [e.value for e in at.exception])
            assert len(at.dataframe) == len(VIEWS), statement  # no result table
            answers[statement] = [e.value for e in at.error]
    finally:
        watch.done.set()
        watch.join()
        neighbour.join(timeout=60)
    print(
        f"\n{len(corpus)} statements, each answered with a sentence; peak resident memory of "
        f"the page's process and its workers {watch.peak / MEBIBYTE:.0f} MB (from "
        f"{baseline / MEBIBYTE:.0f} MB before the first statement) over "
        f"{watch.samples} samples; another session served {len(served)} times, slowest "
        f"{max(served):.1f} s."
    )
    for statement, errors in answers.items():
        assert len(errors) == 1, (statement, errors)
        message = errors[0]
        assert message.endswith("."), (statement, message)
        assert "\n" not in message and "Traceback" not in message, (statement, message)
        assert str(demo_root) not in message, (statement, message)
    assert _checksums(demo_root) == before
    assert not Path("/tmp/records-copy.csv").exists()
    trail = (tmp_path / "audit" / "trail.jsonl").read_text()
    assert trail.count('"action": "sql"') == len(corpus)
    # The watch sampled throughout (at least one sample every half second on a busy machine).
    assert watch.is_alive() is False and watch.samples > (time.monotonic() - started) / 0.5
    grown = watch.peak - baseline
    assert grown < 1024 * MEBIBYTE, f"grew {grown / MEBIBYTE:.0f} MB to {watch.peak / MEBIBYTE:.0f}"
    # Served throughout; how long each took depends on the machine's load (a worker's start).
    assert len(served) >= 3 and max(served) < 60
    # Nothing was dropped or replaced: the views still answer.
    assert other.run("select count(*) as n from districts").table.to_pylist() == [{"n": 16}]


def test_each_statement_of_the_report_gets_its_own_sentence(console: SqlConsole, demo_root: Path):
    expected = {
        "select len(range(400000000)) as n": "more memory than the console allows",
        "select length(repeat('x', 3000000000))": "more memory than the console allows",
        "select repeat('x',50000000) as s from range(40)": "more memory than the console allows",
        "select y.view_name, y.sql from (with duckdb_views as (select 1 as q) select * from "
        "duckdb_views) x, duckdb_views y": "reads duckdb_views(), which this console does not",
        f"select * from '{demo_root}/imports/log.jsonl'": "names a file",
        "select " + "abs(" * 500 + "1" + ")" * 500: "nests brackets more than 64 deep",
    }
    for statement, sentence in expected.items():
        with pytest.raises((QueryRefused, QueryFailed)) as stopped:
            console.run(statement)
        assert sentence in str(stopped.value), (statement, str(stopped.value))


def test_a_result_is_capped_in_bytes_as_well_as_rows(demo_root: Path):
    small = SqlConsole(demo_root, byte_cap=1 * MEBIBYTE)
    result = small.run("select repeat('x', 1000) as s from range(5000)")
    # Each row holds 1,000 bytes of text, so a megabyte holds at most about a thousand rows.
    assert result.capped_by == "bytes"
    assert 0 < result.table.num_rows <= 1_048
    assert result.table.nbytes <= 1 * MEBIBYTE
    assert "capped at 1 MB" in result.summary()


def test_a_sessions_result_is_freed_when_the_session_is_gone():
    store = sqlconsole.ResultStore(byte_cap=10 * MEBIBYTE)
    table = pa.table({"n": list(range(1000))})
    result = sqlconsole.ConsoleResult(table, None, 0.1, ROW_CAP)
    session_state = {"sql_result": store.put("select 1", result)}
    assert store.get(session_state["sql_result"]) == ("select 1", result)
    assert len(store) == 1
    del session_state
    gc.collect()
    assert len(store) == 0 and store.nbytes == 0


def test_the_store_keeps_at_most_its_byte_cap_across_sessions():
    store = sqlconsole.ResultStore(byte_cap=1 * MEBIBYTE)
    table = pa.table({"n": list(range(50_000))})  # 400 kB each
    handles = [
        store.put(f"q{i}", sqlconsole.ConsoleResult(table, None, 0.1, ROW_CAP)) for i in range(10)
    ]
    assert store.nbytes <= 1 * MEBIBYTE
    assert store.get(handles[0]) is None and store.get(handles[-1]) is not None


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("select 1; drop table districts", "one statement at a time"),
        ("select 1; -- hidden\ndrop table districts", "2 statements"),
        ("drop table districts", "this is a DROP statement"),
        ("copy records to 'x.csv'", "COPY"),
        ("select * from read_csv('/etc/passwd')", "read_csv() reads files"),
        ("select * from '/etc/passwd'", "'/etc/passwd' is not one of the views"),
        ("select * from '/etc/passwd.csv'", "names a file"),
        ("select * from duckdb_views()", "reads duckdb_views()"),
        ("select * from information_schema.tables", "which this console does not offer"),
        ("select getenv('HOME')", "getenv() reads files"),
        ("install httpfs", "LOAD"),
        ("pragma database_list", "PRAGMA"),
        ("set threads = 8", "SET"),
        ("attach 'x.db'", "ATTACH"),
        ("export database 'x'", "EXPORT"),
        ("select * from records where", "DuckDB cannot read the query"),
    ],
)
def test_refusals_say_what_is_wrong(console: SqlConsole, statement: str, message: str):
    with pytest.raises(QueryRefused, match=re.escape(message)):
        console.run(statement)


def test_the_engine_itself_blocks_files_when_the_checks_are_bypassed(console: SqlConsole):
    """The second wall: even a statement that skipped the checks cannot read outside the data."""
    cursor = locked_connection(console.root, DUCKDB_MEMORY).cursor()
    try:
        for statement in (
            "select * from read_csv('/etc/passwd')",
            "select * from glob('/etc/*')",
            "set enable_external_access = true",
            "install httpfs",
        ):
            with pytest.raises(Exception, match="disabled|locked|Permission"):
                cursor.sql(statement).fetchall()
    finally:
        cursor.close()


def test_a_query_that_runs_forever_is_stopped_and_others_are_still_served(
    console: SqlConsole, demo_db: Database
):
    outcome: dict[str, object] = {}

    def forever() -> None:
        try:
            console.run("select count(*) from range(1000000000000) as a")
        except QueryFailed as error:
            outcome["error"] = str(error)

    started = time.monotonic()
    runner = threading.Thread(target=forever)
    runner.start()
    time.sleep(0.3)
    # While it runs, the console and the dashboard's own database both answer.
    quick = console.run("select count(*) as n from districts")
    assert quick.table.to_pylist() == [{"n": 16}]
    assert len(demo_db.query("covered_months", force=None)) == 66
    runner.join(timeout=30)
    elapsed = time.monotonic() - started
    assert "ran for more than 2 seconds and was stopped" in str(outcome["error"])
    assert elapsed < 30  # the 2-second limit, plus starting a worker on a busy machine


def test_fifty_million_rows_are_cut_to_the_cap_and_said_so(console: SqlConsole):
    result = console.run("select range as n from range(50000000)")
    assert result.capped and result.table.num_rows == 100_000
    assert result.table.column("n")[99_999].as_py() == 99_999
    assert "capped at 100,000 rows" in result.summary()
    exact = console.run("select * from range(100000)")
    assert not exact.capped and exact.table.num_rows == 100_000


def test_selects_over_every_view_run(console: SqlConsole):
    for view in VIEWS:
        console.run(f"select * from {view} limit 3")
    result = console.run(
        "with knife as (select district_code, count(*) as n from records "
        "where is_knife_enabled and record_kind = 'crime' and month between '2021-10' and "
        "'2022-09' group by all) select sum(n) as total from knife"
    )
    assert result.table.to_pylist() == [{"total": 3187}]
    assert console.run("summarize districts").table.num_rows == 6
    assert console.run("describe records").table.num_rows >= 16


def test_every_saved_example_runs_and_the_knife_crime_check_agrees(
    console: SqlConsole, demo_db: Database
):
    found = examples()
    assert len(found) >= 5
    results = {e.name: console.run(e.sql) for e in found}
    for example in found:
        assert example.title and not example.title.startswith("-")
        assert results[example.name].table.num_rows > 0, example.name
    by_district = results["01_knife_crime_by_district"].table.to_pandas().set_index("district_name")
    assert by_district["current_count"].sum() == 3187
    breakdown = district_breakdown(
        demo_db, view_at(demo_db, date(2022, 9, 1)), measure_id="knife-crime"
    )
    largest_rise = breakdown.sort_values("diff", ascending=False)["district_name"].iloc[0]
    assert by_district.index[0] == largest_rise  # the largest rise first
    types = results["02_knife_crime_types_in_a_district"].table.to_pandas()
    basildon = breakdown.set_index("district_name").loc["Basildon", "current_count"]
    assert types["current_count"].sum() == basildon


def test_results_download_as_csv_and_parquet(console: SqlConsole):
    result = console.run(
        "select district_name, population from districts where is_force_district "
        "order by population desc"
    )
    csv_text = result_csv(result.table).decode()
    assert csv_text.splitlines()[0] == "district_name,population"
    assert csv_text.splitlines()[1] == "Colchester,194400"
    back = pq.read_table(io.BytesIO(result_parquet(result.table)))
    assert back.equals(result.table)


def test_a_result_gets_a_chart_when_it_has_something_to_draw(console: SqlConsole):
    bars = query_result_chart(console.run("select district_name, population from districts").table)
    assert bars is not None and bars.to_dict()["mark"]["type"] == "bar"
    line = query_result_chart(
        console.run("select month_start, count_records from measure_monthly").table
    )
    assert line is not None and line.to_dict()["mark"]["type"] == "line"
    assert query_result_chart(console.run("select district_name from districts").table) is None


def test_the_views_are_documented_with_their_columns(console: SqlConsole):
    columns = console.view_columns()
    assert set(columns["view"]) == set(VIEWS)
    records = columns[columns["view"] == "records"]
    assert {"district_code", "crime_type", "is_knife_enabled", "month"} <= set(records["column"])


@pytest.fixture
def open_sql(demo_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(demo_root))

    def render(**params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("pages/sql.py")
        at.query_params.clear()
        at.query_params.update(params)
        return at.run()

    return render


def test_a_query_from_a_link_waits_for_run(open_sql):
    at = open_sql(period="2022-09", q="select count(*) as n from districts")
    assert not at.exception, [e.value for e in at.exception]
    assert at.text_area[0].value == "select count(*) as n from districts"
    assert len(at.dataframe) == len(VIEWS)  # the views' columns, and no result yet
    assert any("press Run" in i.value for i in at.info)
    next(b for b in at.button if b.label == "Run").click()
    at.run()
    assert not at.error
    assert at.dataframe[-1].value.to_dict("records") == [{"n": 16}]
    assert any("1 row in" in c.value for c in at.caption)


def test_the_page_refuses_a_hostile_query_with_a_sentence(open_sql):
    at = open_sql(period="2022-09", q="select * from read_csv('/etc/passwd')")
    assert not at.error  # nothing runs before Run
    next(b for b in at.button if b.label == "Run").click()
    at.run()
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The function read_csv() reads files, settings or other SQL and is not allowed here."
    ]


def test_the_page_loads_an_example_and_runs_what_is_typed(open_sql):
    at = open_sql(period="2022-09", example="02_knife_crime_types_in_a_district")
    assert "Basildon" in at.text_area[0].value
    at.text_area[0].set_value("select district_name from districts order by 1 limit 2")
    run = next(b for b in at.button if b.label == "Run")
    run.click()
    at.run()
    assert not at.exception
    assert list(at.dataframe[-1].value["district_name"]) == ["Basildon", "Braintree"]
    assert at.query_params["q"] == "select district_name from districts order by 1 limit 2"
