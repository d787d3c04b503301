"""The scaled demo and the monthly tables kept in step with the records.

For random filters (force, measure, districts, months), what the pages read from the monthly
tables equals a count made straight from the record files with the measure's rule, translated
here into a pyarrow filter: after a scaled generation, after an import of a force's records,
and after one of its months is imported again.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import duckdb
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from builders import view_at
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crimeprev.aggregate import aggregates_current, open_database
from crimeprev.cli.main import main
from crimeprev.config import Measure, config_for
from crimeprev.db import Database, QueryTooLarge
from crimeprev.demo.scale import DEMO_FORCE, ScaleError, generate_scaled_demo
from crimeprev.figures import explore
from crimeprev.figures.insight import data_forces, insight_table, monthly_series
from crimeprev.imports.records import import_records
from crimeprev.periods import months_between
from crimeprev.store import aggregates_dir, records_dir

SCALE_MILLIONS = 0.2
FIRST, LAST = date(2017, 4, 1), date(2022, 9, 1)
MONTHS = months_between(FIRST, LAST)
SYNTHETIC = "Force 02 (synthetic)"
EXAMPLES = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
MAPPING = f"""
force = "{SYNTHETIC}"
record_kind = "crime"

[columns]
record_id = "Ref"
month = "Month"
district = "District"
crime_type = "Offence"
outcome = "Outcome"

[flags]
is_knife_enabled = "Knife"
is_domestic_abuse = "DA"
"""
EXTRACT_HEADER = "Ref,Month,District,Offence,Outcome,Knife,DA"


@pytest.fixture(scope="module")
def scaled_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("scaled")
    generate_scaled_demo(root, SCALE_MILLIONS, seed=11)
    return root


def _direct_count(
    root: Path,
    measure: Measure,
    force: str | None,
    codes: list[str] | None,
    start: date,
    end: date,
) -> int:
    """The measure counted from the record files themselves, without the monthly tables."""
    dataset = ds.dataset(records_dir(root), format="parquet", partitioning="hive")
    rule = measure.rule
    wanted = (
        (ds.field("month_start") >= start)
        & (ds.field("month_start") <= end)
        & (ds.field("record_kind") == rule.record_kind)
    )
    if force is not None:
        wanted &= ds.field("force") == force
    if codes is not None:
        wanted &= ds.field("district_code").isin(codes)
    if rule.crime_types:
        wanted &= ds.field("crime_type").isin(list(rule.crime_types))
    for flag in rule.flags:
        wanted &= ds.field(flag)
    if rule.outcomes:
        wanted &= ds.field("outcome").isin(list(rule.outcomes))
    return int(dataset.count_rows(filter=wanted))


def _direct_type_count(
    root: Path, crime_type: str, force: str | None, codes: list[str] | None
) -> int:
    dataset = ds.dataset(records_dir(root), format="parquet", partitioning="hive")
    wanted = ds.field("crime_type") == crime_type
    if force is not None:
        wanted &= ds.field("force") == force
    if codes is not None:
        wanted &= ds.field("district_code").isin(codes)
    return int(dataset.count_rows(filter=wanted))


@st.composite
def filters(draw: st.DrawFn, root: Path) -> dict:
    config = config_for(root)
    forces = [DEMO_FORCE, SYNTHETIC, "Force 03 (synthetic)"]
    codes = [d.code for d in config.districts]
    first, last = sorted(draw(st.lists(st.integers(0, len(MONTHS) - 1), min_size=2, max_size=2)))
    return {
        "force": draw(st.sampled_from([*forces, None])),
        "measure": draw(st.sampled_from(config.measures)),
        "codes": draw(
            st.one_of(
                st.none(), st.lists(st.sampled_from(codes), min_size=1, max_size=6, unique=True)
            )
        ),
        "start": MONTHS[first],
        "end": MONTHS[last],
        "crime_type": draw(st.sampled_from(config.taxonomy.crime_types)),
    }


def _check_tables_match_records(root: Path, chosen: dict) -> None:
    db = open_database(root)
    measure, force, codes = chosen["measure"], chosen["force"], chosen["codes"]
    start, end = chosen["start"], chosen["end"]
    months = len(months_between(start, end))
    series = monthly_series(
        db, view_at(db, end, codes, force), months=months, measure_ids=[measure.id]
    )
    from_tables = int(series["count_records"].fillna(0).sum())
    assert from_tables == _direct_count(root, measure, force, codes, start, end), chosen

    types = pq.read_table(aggregates_dir(root) / "crime_type_monthly.parquet")
    mask = pc.equal(types["crime_type"], chosen["crime_type"])
    if force is not None:
        mask = pc.and_(mask, pc.equal(types["force"], force))
    if codes is not None:
        mask = pc.and_(mask, pc.is_in(types["district_code"], value_set=pc.cast(codes, "string")))
    summed = pc.sum(types.filter(mask)["count_records"]).as_py() or 0
    assert summed == _direct_type_count(root, chosen["crime_type"], force, codes), chosen


def test_scaled_generation_writes_the_records_asked_for_across_forces(scaled_root: Path) -> None:
    db = open_database(scaled_root)
    assert data_forces(db) == [DEMO_FORCE, SYNTHETIC, "Force 03 (synthetic)"]
    dataset = ds.dataset(records_dir(scaled_root), format="parquet", partitioning="hive")
    assert dataset.count_rows() == 200_000
    ids = dataset.to_table(columns=["force", "record_id"])
    assert ids.group_by(["force", "record_id"]).aggregate([]).num_rows == 200_000
    # Each synthetic force's records lie in its own districts (or the shared pseudo-districts).
    config = config_for(scaled_root)
    for force in (SYNTHETIC, "Force 03 (synthetic)"):
        own = {d.code for d in config.districts if d.belongs_to(force)}
        codes = pc.unique(
            dataset.to_table(columns=["district_code"], filter=ds.field("force") == force)[
                "district_code"
            ]
        ).to_pylist()
        assert set(codes) <= own
        assert {d.force for d in config.districts_of(force)} == {force}
    assert aggregates_current(scaled_root, config)


def test_the_demo_force_keeps_its_calibrated_figures_when_the_size_allows(
    tmp_path: Path,
) -> None:
    summary = generate_scaled_demo(tmp_path, 2.5, seed=2022)
    assert summary.records_written == 2_500_000
    db = open_database(tmp_path)
    rows = insight_table(db, view_at(db, LAST, None, DEMO_FORCE), strand_id="knife-crime")
    assert int(rows["current_count"].iloc[0]) == 3187
    everyone = insight_table(db, view_at(db, LAST), strand_id="knife-crime")
    assert int(everyone["current_count"].iloc[0]) > 3187


def test_small_sizes_keep_the_demo_months(scaled_root: Path) -> None:
    # Earlier years are added only from ten million records on.
    folders = sorted(p.name for p in records_dir(scaled_root).glob("month=*"))
    assert folders[0] == "month=2017-04" and folders[-1] == "month=2022-09"


def test_the_command_line_writes_a_scaled_folder_and_refuses_a_tiny_size(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--data-dir", str(tmp_path), "demo", "--scale", "0.05"]) == 0
    out = capsys.readouterr().out
    assert "Wrote 50,000 records of 3 forces" in out
    assert main(["--data-dir", str(tmp_path / "other"), "demo", "--scale", "0"]) != 0
    assert "at least 0.001 million" in capsys.readouterr().err
    with pytest.raises(ScaleError):
        generate_scaled_demo(tmp_path / "again", 0.0001)


@EXAMPLES
@given(data=st.data())
def test_monthly_tables_equal_a_direct_count_after_generation(scaled_root: Path, data) -> None:
    _check_tables_match_records(scaled_root, data.draw(filters(scaled_root)))


def _write_extract(folder: Path, rows: list[str], name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([EXTRACT_HEADER, *rows]) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def imported_root(scaled_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The scaled folder after the synthetic force's September 2022 and January 2021 records
    were imported from its own extract."""
    root = tmp_path_factory.mktemp("imported") / "data"
    shutil.copytree(scaled_root, root, symlinks=True)
    files = tmp_path_factory.mktemp("extract")
    mapping = files / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    rows = [
        f"R{i},2022-09,Force 02 district {1 + i % 5},Violence with injury,"
        f"{'Charged or summonsed' if i % 3 == 0 else ''},{'Y' if i % 2 else 'N'},"
        f"{'Y' if i % 4 == 0 else 'N'}"
        for i in range(60)
    ] + [
        f"J{i},2021-01,Force 02 district {1 + i % 3},Robbery of personal property,,"
        f"{'Y' if i % 3 == 0 else 'N'},N"
        for i in range(25)
    ]
    extract = _write_extract(files, rows, "first.csv")
    summary = import_records(root, [extract], mapping)
    assert summary.months_written == ["2021-01", "2022-09"]
    return root


def _force_month_count(root: Path, force: str, month: date) -> int:
    dataset = ds.dataset(records_dir(root), format="parquet", partitioning="hive")
    return int(
        dataset.count_rows(filter=(ds.field("force") == force) & (ds.field("month_start") == month))
    )


def test_an_import_replaces_only_its_force_in_the_months_it_holds(
    scaled_root: Path, imported_root: Path
) -> None:
    assert _force_month_count(imported_root, SYNTHETIC, LAST) == 60
    assert _force_month_count(imported_root, SYNTHETIC, date(2021, 1, 1)) == 25
    for force in (DEMO_FORCE, "Force 03 (synthetic)"):
        assert _force_month_count(imported_root, force, LAST) == _force_month_count(
            scaled_root, force, LAST
        )
    assert aggregates_current(imported_root, config_for(imported_root))


@EXAMPLES
@given(data=st.data())
def test_monthly_tables_equal_a_direct_count_after_an_import(imported_root: Path, data) -> None:
    _check_tables_match_records(imported_root, data.draw(filters(imported_root)))


@pytest.fixture(scope="module")
def reimported_root(imported_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The imported folder after September 2022 alone was imported again, with other rows."""
    root = tmp_path_factory.mktemp("reimported") / "data"
    shutil.copytree(imported_root, root, symlinks=True)
    files = tmp_path_factory.mktemp("extract-again")
    mapping = files / "mapping.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    rows = [
        f"S{i},2022-09,Force 02 district {1 + i % 2},Possession of weapons offences,,Y,N"
        for i in range(17)
    ]
    summary = import_records(root, [_write_extract(files, rows, "again.csv")], mapping)
    assert summary.months_written == ["2022-09"]
    return root


def test_a_reimported_month_replaces_its_records_and_counts(
    imported_root: Path, reimported_root: Path
) -> None:
    assert _force_month_count(reimported_root, SYNTHETIC, LAST) == 17
    assert _force_month_count(reimported_root, SYNTHETIC, date(2021, 1, 1)) == 25
    db = open_database(reimported_root)
    series = monthly_series(
        db, view_at(db, LAST, None, SYNTHETIC), months=1, measure_ids=["knife-crime"]
    )
    assert series["count_records"].tolist() == [17]
    assert aggregates_current(reimported_root, config_for(reimported_root))


@EXAMPLES
@given(data=st.data())
def test_monthly_tables_equal_a_direct_count_after_a_reimport(reimported_root: Path, data) -> None:
    _check_tables_match_records(reimported_root, data.draw(filters(reimported_root)))


def test_a_month_range_reads_only_its_month_folders(scaled_root: Path) -> None:
    # The records view is partitioned by month: a range names the folders DuckDB opens.
    db: Database = open_database(scaled_root)
    plan = db.connection.sql(
        "explain analyze select count(*) from records where month between '2022-07' and '2022-09'"
    ).fetchall()
    text = "\n".join(str(part) for row in plan for part in row)
    assert "Total Files Read: 3" in text, text


def test_an_explore_drill_lists_at_most_its_bound_and_says_how_many_more(
    scaled_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A drill into one district broken down by crime type, with the table's bound set below
    the number of crime types: the table lists the largest up to the bound, says how many are
    left off, and its total still counts every record (each checked against the files)."""
    db = open_database(scaled_root)
    config = db.config
    district = next(d for d in config.districts if d.is_force_district)
    state = explore.ExploreState(
        crime_types=tuple(config.taxonomy.crime_types),
        dimension="crime_type",
        drill=(explore.DrillStep("district", district.name),),
    )
    bound = 3
    monkeypatch.setattr(explore, "TABLE_MAX_ROWS", bound)
    view = view_at(db, LAST, force=DEMO_FORCE)
    result = explore.explore(db, view, state)

    dataset = ds.dataset(records_dir(scaled_root), format="parquet", partitioning="hive")
    wanted = (
        (ds.field("force") == DEMO_FORCE)
        & (ds.field("district_code") == district.code)
        & (ds.field("month_start") >= result.current.start)
        & (ds.field("month_start") <= result.current.end)
    )
    in_files = dataset.to_table(columns=["crime_type"], filter=wanted).to_pandas()
    by_type = in_files["crime_type"].value_counts()
    assert len(by_type) > bound, "the scaled demo should hold more crime types than the bound"

    body = result.pivot[result.pivot["dimension_value"] != explore.TOTAL_LABEL]
    assert len(body) == bound
    assert (
        sorted(body["current_count"].astype(int), reverse=True)
        == sorted(by_type.to_list(), reverse=True)[:bound]
    )
    assert result.rows_left_off == len(by_type) - bound
    assert result.left_off_note is not None
    assert f"{len(by_type) - bound:,} more are left off" in result.left_off_note
    total = result.pivot.set_index("dimension_value").loc[explore.TOTAL_LABEL, "current_count"]
    assert int(total) == len(in_files)


def test_the_data_connection_keeps_to_its_memory_limit_and_threads(
    scaled_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit and threads set in the environment are the connection's; the monthly build
    still gives the counts a direct count over the files gives under a small limit; a limit too
    small for the monthly tables is one sentence, not a traceback."""
    monkeypatch.setenv("CRIMEPREV_DUCKDB_MEMORY_LIMIT", "48MB")
    monkeypatch.setenv("CRIMEPREV_DUCKDB_THREADS", "1")
    db = Database(scaled_root)
    reference = duckdb.connect()
    reference.execute("set memory_limit = '48MB'")
    setting = "select current_setting('memory_limit'), current_setting('threads')"
    assert db.connection.execute(setting).fetchone() == (
        reference.execute("select current_setting('memory_limit')").fetchone()[0],  # type: ignore[index]
        1,
    )
    built = db.query("build_measure_monthly", months=None)
    measure = next(m for m in db.config.measures if m.rule.crime_types)
    counted = built[(built["measure_id"] == measure.id) & (built["force"] == DEMO_FORCE)]
    assert int(counted["count_records"].sum()) == _direct_count(
        scaled_root, measure, DEMO_FORCE, None, FIRST, LAST
    )

    monkeypatch.setenv("CRIMEPREV_DUCKDB_MEMORY_LIMIT", "1MB")
    with pytest.raises(QueryTooLarge, match="does not fit in the memory"):
        Database(scaled_root)
