"""The SQL console: what it runs, what it refuses (a corpus of hostile statements), the row cap,
the time limit that leaves other sessions served, the data files untouched, and the page."""

from __future__ import annotations

import hashlib
import io
import re
import threading
import time
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from builders import view_at
from streamlit.testing.v1 import AppTest

from crimeprev.db import Database
from crimeprev.figures.insight import district_breakdown
from crimeprev.figures.sqlconsole import (
    VIEWS,
    QueryFailed,
    QueryRefused,
    SqlConsole,
    examples,
    result_chart,
    result_csv,
    result_parquet,
)
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT

APP = str(REPOSITORY_ROOT / "app.py")
# Each is refused before it runs, or stopped with a sentence: writes, DDL, file and network
# access, extensions, settings, several statements (some hidden behind comments), functions
# that read the environment or run SQL text.
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
    "select 1; drop table districts",
    "select 1; -- harmless\ndrop table districts",
    "select 1 /* a comment */; select * from read_csv('/etc/passwd')",
    "select getenv('HOME')",
    "select * from query('select * from read_csv(''/etc/passwd'')')",
    "select * from duckdb_settings()",
    "select current_setting('enable_external_access')",
    "select * from information_schema.tables",
    "select * from memory.main.districts_arrow",
    "with x as (select 1) select * from x; vacuum",
    "pivot records on crime_type using count(*)",
    "begin transaction",
    "",
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


def test_the_hostile_corpus_is_refused_and_the_data_is_unchanged(
    console: SqlConsole, demo_root: Path
):
    assert len(HOSTILE) >= 25
    before = _checksums(demo_root)
    for statement in HOSTILE:
        with pytest.raises(QueryRefused) as refused:
            console.run(statement)
        message = str(refused.value)
        assert message.endswith("."), (statement, message)
        assert "\n" not in message and "Traceback" not in message
    assert _checksums(demo_root) == before
    assert not Path("/tmp/records-copy.csv").exists()
    # Nothing was dropped or replaced: the views still answer.
    assert console.run("select count(*) as n from districts").table.to_pylist() == [{"n": 16}]


@pytest.mark.parametrize(
    ("statement", "message"),
    [
        ("select 1; drop table districts", "one statement at a time"),
        ("select 1; -- hidden\ndrop table districts", "2 statements"),
        ("drop table districts", "this is a DROP statement"),
        ("copy records to 'x.csv'", "COPY"),
        ("select * from read_csv('/etc/passwd')", "read_csv() is not allowed"),
        ("select * from '/etc/passwd'", "'/etc/passwd' is not one of the views"),
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
    cursor = console.database.connection.cursor()
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
    assert elapsed < 10


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
    bars = result_chart(console.run("select district_name, population from districts").table)
    assert bars is not None and bars.to_dict()["mark"]["type"] == "bar"
    line = result_chart(console.run("select month_start, count_records from measure_monthly").table)
    assert line is not None and line.to_dict()["mark"]["type"] == "line"
    assert result_chart(console.run("select district_name from districts").table) is None


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


def test_the_page_runs_a_query_from_its_link(open_sql):
    at = open_sql(period="2022-09", q="select count(*) as n from districts")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error
    result = at.dataframe[-1].value
    assert result.to_dict("records") == [{"n": 16}]
    assert any("1 row in" in c.value for c in at.caption)


def test_the_page_refuses_a_hostile_query_with_a_sentence(open_sql):
    at = open_sql(period="2022-09", q="select * from read_csv('/etc/passwd')")
    assert not at.exception
    assert [e.value for e in at.error] == [
        "The table function read_csv() is not allowed here: only the views, and "
        "generate_series, range, unnest, can be read."
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
