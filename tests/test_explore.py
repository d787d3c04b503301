"""The explorer: pivot cells against counts made independently from the record files, the
URL state (drill path included) round-tripping, and the page through AppTest."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import view_at
from streamlit.testing.v1 import AppTest

from crimeprev.config import Config
from crimeprev.db import Database
from crimeprev.figures import explore
from crimeprev.figures.explore import DrillStep, ExploreState, bucket_of, read_state
from crimeprev.figures.insight import covered_months
from crimeprev.figures.sqlconsole import SqlConsole
from crimeprev.periods import Window, change
from crimeprev.present import explore_charts
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT

SEP_22 = date(2022, 9, 1)
APP = str(REPOSITORY_ROOT / "app.py")
FLAGS = (
    "is_knife_enabled",
    "is_domestic_abuse",
    "is_hate_crime",
    "is_night_time_economy",
    "is_online",
    "is_child_sexual_abuse",
)


@pytest.fixture(scope="module")
def records(demo_root: Path) -> pd.DataFrame:
    """Every demo record, read straight from the Parquet files with pandas (no DuckDB)."""
    frames = []
    for folder in sorted((demo_root / "records").glob("month=*")):
        frame = pd.read_parquet(folder / "part-0.parquet")
        frames.append(frame.assign(month=folder.name.removeprefix("month=")))
    return pd.concat(frames, ignore_index=True)


def _month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def _expected_frame(
    records: pd.DataFrame,
    config: Config,
    state: ExploreState,
    months: list[date],
    district_codes: list[str] | None,
) -> pd.DataFrame:
    """The records a state selects, with their breakdown value, by plain pandas filtering."""
    frame = records[records["month"].isin([_month_text(m) for m in months])]
    if district_codes is not None:
        frame = frame[frame["district_code"].isin(district_codes)]
    if state.measure_ids:
        chosen = pd.Series(False, index=frame.index)
        for measure_id in state.measure_ids:
            rule = config.measure(measure_id).rule
            match = frame["record_kind"] == rule.record_kind
            if rule.crime_types:
                match &= frame["crime_type"].isin(rule.crime_types)
            for flag in rule.flags:
                match &= frame[flag]
            if rule.outcomes:
                match &= frame["outcome"].isin(rule.outcomes)
            chosen |= match
        frame = frame[chosen]
    else:
        frame = frame[frame["crime_type"].isin(state.crime_types)]
    names = {d.code: d.name for d in config.districts}
    lpas = {d.code: d.lpa for d in config.districts}
    values = {
        "district": frame["district_code"].map(names).fillna(frame["district_code"]),
        "lpa": frame["district_code"].map(lpas).fillna(explore.MISSING_LABEL),
        "crime_type": frame["crime_type"],
        "outcome": frame["outcome"].fillna(explore.MISSING_LABEL),
        "lsoa": frame["lsoa_code"].fillna(explore.MISSING_LABEL),
        "record_kind": frame["record_kind"],
    }
    frame = frame.assign(**{f"value_{k}": v for k, v in values.items()})
    for step in state.drill:
        frame = frame[frame[f"value_{step.dimension}"] == step.value]
    return frame.assign(dimension_value=frame[f"value_{state.dimension}"])


def _random_state(rng: random.Random, config: Config, covered: list[date]) -> ExploreState:
    if rng.random() < 0.75:
        measure_ids = tuple(rng.sample([m.id for m in config.measures], rng.choice([1, 1, 2])))
        crime_types: tuple[str, ...] = ()
    else:
        measure_ids = ()
        crime_types = tuple(rng.sample(list(config.taxonomy.crime_types), rng.choice([1, 2])))
    length = rng.choice([3, 6, 12])
    end = covered[rng.randrange(length + 12, len(covered))]
    current = Window.ending(end, length)
    comparison = current.shifted(-rng.choice([length, 12]))
    drill: list[DrillStep] = []
    if rng.random() < 0.5:
        drill.append(DrillStep("district", rng.choice(config.force_districts).name))
    elif rng.random() < 0.3:
        drill.append(DrillStep("lpa", rng.choice(config.lpas)))
    if rng.random() < 0.4:
        drill.append(DrillStep("record_kind", "crime"))
    if rng.random() < 0.3:
        drill.append(DrillStep("outcome", rng.choice(config.taxonomy.outcomes)))
    dimensions = ["district", "lpa", "crime_type", "outcome", "record_kind"]
    return ExploreState(
        measure_ids=measure_ids,
        crime_types=crime_types,
        dimension=rng.choice(dimensions),
        granularity=rng.choice(list(explore.GRANULARITIES)),
        current=current,
        comparison=comparison,
        drill=tuple(drill),
    )


@pytest.mark.parametrize("seed", range(14))
def test_pivot_cells_equal_independent_counts(
    seed: int, demo_db: Database, records: pd.DataFrame
) -> None:
    config = demo_db.config
    covered = covered_months(demo_db)
    rng = random.Random(seed)
    state = _random_state(rng, config, covered)
    place_filter = (
        sorted(d.code for d in rng.sample(list(config.force_districts), 5))
        if rng.random() < 0.4
        else None
    )
    result = explore.explore(demo_db, view_at(demo_db, SEP_22, place_filter), state=state)
    assert state.current and state.comparison
    months = sorted(set(state.current.months) | set(state.comparison.months))
    expected = _expected_frame(records, config, state, months, place_filter)
    expected = expected.assign(
        bucket=[
            bucket_of(date.fromisoformat(m + "-01"), state.granularity)[1]
            for m in expected["month"]
        ]
    )
    pivot = result.pivot.set_index("dimension_value")
    assert sorted(pivot.index[:-1]) == sorted(set(expected["dimension_value"]))
    assert pivot.index[-1] == explore.TOTAL_LABEL
    cells = expected.groupby(["dimension_value", "bucket"]).size()
    # The demo covers every month: a bucket is complete when the periods hold all its months
    # (a month is one, a quarter three, a year twelve); one they cut through is left empty.
    size = {"month": 1, "quarter": 3, "year": 12}[state.granularity]
    chosen = Counter(bucket_of(m, state.granularity)[1] for m in months)
    for bucket in result.bucket_columns:
        if chosen[bucket] < size:
            assert pivot[bucket].isna().all(), bucket
            continue
        for value in pivot.index[:-1]:
            assert pivot.loc[value, bucket] == cells.get((value, bucket), 0), (value, bucket)
        column_total = sum(cells.get((value, bucket), 0) for value in pivot.index[:-1])
        assert pivot.loc[explore.TOTAL_LABEL, bucket] == column_total
    in_current = expected[expected["month"].isin([_month_text(m) for m in state.current.months])]
    in_comparison = expected[
        expected["month"].isin([_month_text(m) for m in state.comparison.months])
    ]
    for value in pivot.index:
        mine = (
            in_current
            if value == explore.TOTAL_LABEL
            else in_current[in_current["dimension_value"] == value]
        )
        theirs = (
            in_comparison
            if value == explore.TOTAL_LABEL
            else in_comparison[in_comparison["dimension_value"] == value]
        )
        row = pivot.loc[value]
        assert row["current_count"] == len(mine)
        assert row["comparison_count"] == len(theirs)
        difference = change(len(theirs), len(mine))
        assert row["diff"] == difference.diff
        if difference.pct_change is None:
            assert pd.isna(row["pct_change"])
        else:
            assert row["pct_change"] == difference.pct_change


@pytest.mark.parametrize("seed", range(6))
def test_the_check_query_counts_what_the_pivot_shows(
    seed: int, demo_db: Database, demo_root: Path
) -> None:
    config = demo_db.config
    rng = random.Random(100 + seed)
    state = _random_state(rng, config, covered_months(demo_db))
    place_filter = ["E07000066", "E06000033"] if seed % 2 else None
    pivot = explore.explore(demo_db, view_at(demo_db, SEP_22, place_filter), state=state).pivot
    sql = explore.check_sql(config, view_at(config, SEP_22, place_filter), state=state)
    checked = SqlConsole(demo_root).run(sql).table.to_pandas()
    body = pivot[pivot["dimension_value"] != explore.TOTAL_LABEL]
    columns = ["dimension_value", "comparison_count", "current_count"]
    pd.testing.assert_frame_equal(
        checked[columns].reset_index(drop=True),
        body[columns].reset_index(drop=True),
        check_dtype=False,
    )


def test_knife_crime_force_total_is_the_published_figure(demo_db: Database) -> None:
    state = read_state(demo_db.config, covered_months(demo_db), SEP_22, {}).state
    result = explore.explore(demo_db, view_at(demo_db, SEP_22), state=state)
    total = result.pivot.set_index("dimension_value").loc[explore.TOTAL_LABEL]
    assert state.measure_ids == ("knife-crime",)
    assert (total["current_count"], total["comparison_count"]) == (3187, 2813)
    assert total["pct_change"] == 13.3


def test_the_monthly_table_path_and_the_records_path_agree(demo_db: Database) -> None:
    """One measure by district comes from measure_monthly; forcing the records query (a
    crime-type drill on every type) must give the same cells."""
    state = ExploreState(measure_ids=("knife-crime",))
    months = Window.ending(SEP_22, 24).months
    fast = explore.monthly_counts(demo_db, view_at(demo_db, months[-1]), state=state, months=months)
    slow_state = replace(state, drill=(DrillStep("record_kind", "crime"),))
    slow = explore.monthly_counts(
        demo_db, view_at(demo_db, months[-1]), state=slow_state, months=months
    )
    pd.testing.assert_frame_equal(fast, slow)


def test_several_measures_count_a_record_once(demo_db: Database, records: pd.DataFrame):
    """Hate crime and solved hate crime overlap entirely: together they count as many records
    as hate crime alone, not the sum of the two."""
    months = Window.ending(SEP_22, 12).months

    def total(*measure_ids: str) -> int:
        state = ExploreState(measure_ids=measure_ids, dimension="outcome")
        return int(
            explore.monthly_counts(
                demo_db, view_at(demo_db, months[-1]), state=state, months=months
            )["count_records"].sum()
        )

    hate, solved = total("hate-crime"), total("hate-crime-solved")
    assert 0 < solved < hate
    assert total("hate-crime", "hate-crime-solved") == hate
    in_window = records[records["month"].isin([_month_text(m) for m in months])]
    assert hate == int((in_window["is_hate_crime"] & (in_window["record_kind"] == "crime")).sum())


@pytest.mark.parametrize(
    ("month", "granularity", "bucket"),
    [
        (date(2022, 9, 1), "month", (date(2022, 9, 1), "Sep 2022")),
        (date(2022, 9, 1), "quarter", (date(2022, 7, 1), "2022/23 Q2")),
        (date(2022, 4, 1), "quarter", (date(2022, 4, 1), "2022/23 Q1")),
        (date(2023, 3, 1), "quarter", (date(2023, 1, 1), "2022/23 Q4")),
        (date(2022, 12, 1), "quarter", (date(2022, 10, 1), "2022/23 Q3")),
        (date(2022, 3, 1), "year", (date(2021, 4, 1), "2021/22")),
        (date(2022, 4, 1), "year", (date(2022, 4, 1), "2022/23")),
        (date(1999, 6, 1), "year", (date(1999, 4, 1), "1999/00")),
    ],
)
def test_buckets_follow_the_financial_year(month, granularity, bucket) -> None:
    assert bucket_of(month, granularity) == bucket


def test_the_url_round_trips_the_whole_state_including_the_drill_path(demo_db: Database):
    config, covered = demo_db.config, covered_months(demo_db)
    state = ExploreState(
        measure_ids=("knife-crime", "street-robbery"),
        dimension="outcome",
        granularity="quarter",
        current=Window(date(2022, 3, 1), date(2022, 9, 1)),
        comparison=Window(date(2021, 3, 1), date(2021, 9, 1)),
        drill=(
            DrillStep("district", "Basildon"),
            DrillStep("crime_type", "Possession of weapons offences"),
        ),
    )
    params = state.query_params()
    assert params["drill"] == "district:Basildon,crime_type:Possession of weapons offences"
    resolved = read_state(config, covered, SEP_22, params)
    assert resolved.problems == ()
    assert resolved.state == state
    crime_types = ExploreState(crime_types=("Rape", "Robbery of personal property"))
    again = read_state(config, covered, SEP_22, crime_types.query_params())
    assert again.state == crime_types and again.problems == ()


def test_bad_url_values_fall_back_with_a_sentence_each(demo_db: Database):
    config, covered = demo_db.config, covered_months(demo_db)
    resolved = read_state(
        config,
        covered,
        SEP_22,
        {
            "measure": "knife-crime,no-such-measure",
            "by": "colour",
            "grain": "fortnight",
            "current": "2030-01..2030-06",
            "compare": "last year",
            "drill": "district:Atlantis,crime_type:Possession of weapons offences,nonsense,"
            "crime_type:Rape,lsoa:E01000001",
        },
        has_lsoa=False,
    )
    state = resolved.state
    assert state.measure_ids == ("knife-crime",)
    assert (state.dimension, state.granularity) == ("district", "month")
    assert state.current is None and state.comparison is None
    assert state.drill == (DrillStep("crime_type", "Possession of weapons offences"),)
    text = " ".join(resolved.problems)
    for fragment in (
        "no-such-measure",
        "colour",
        "fortnight",
        "2030-01..2030-06",
        "last year",
        "Atlantis",
        "nonsense",
        "twice",
        "LSOA",
    ):
        assert fragment in text, fragment
    assert all(problem.endswith(".") for problem in resolved.problems)


def test_district_names_slugs_and_codes_all_read_as_the_district(demo_db: Database):
    config, covered = demo_db.config, covered_months(demo_db)
    for given in ("Basildon", "basildon", "E07000066"):
        state = read_state(config, covered, SEP_22, {"drill": f"district:{given}"}).state
        assert state.drill == (DrillStep("district", "Basildon"),)


def test_a_drill_moves_the_breakdown_on_and_the_breadcrumb_undoes_it():
    state = ExploreState(measure_ids=("knife-crime",))
    first = state.drilled_into(DrillStep("district", "Basildon"), has_lsoa=False)
    assert first.dimension == "crime_type"
    second = first.drilled_into(
        DrillStep("crime_type", "Possession of weapons offences"), has_lsoa=False
    )
    assert second.dimension == "outcome"
    assert second.back_to(1) == first
    assert second.back_to(0) == state
    by_lpa = ExploreState(dimension="lpa").drilled_into(DrillStep("lpa", "South"))
    assert by_lpa.dimension == "district"


def test_place_filters_and_the_drill_intersect(demo_db: Database):
    config = demo_db.config
    state = ExploreState(drill=(DrillStep("lpa", "South"),))
    south = explore.drilled_district_codes(config, state, None)
    assert south == sorted(d.code for d in config.force_districts if d.lpa == "South")
    assert explore.drilled_district_codes(config, state, ["E07000071"]) == []
    assert explore.drilled_district_codes(config, ExploreState(), None) is None


def test_a_chart_click_is_read_from_the_selection_state():
    assert explore.picked_value({"pick": [{"dimension_value": "Basildon"}]}) == "Basildon"
    assert explore.picked_value({"pick": {}}) is None
    assert explore.picked_value({}) is None


def test_the_breakdown_chart_selects_by_value_and_draws_both_periods(demo_db: Database):
    state = ExploreState(measure_ids=("knife-crime",))
    result = explore.explore(demo_db, view_at(demo_db, SEP_22), state=state)
    spec = explore_charts.breakdown_chart(result, "district", "crimes").to_dict()
    assert spec["params"][0]["name"] == "pick"
    assert spec["params"][0]["select"]["fields"] == ["dimension_value"]
    assert len(result.breakdown) == 2 * min(explore.CHART_MAX_BARS, len(result.pivot) - 1)


@pytest.fixture
def open_explore(demo_root: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(demo_root))

    def render(**params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("pages/explore.py")
        at.query_params.clear()
        at.query_params.update(params)
        return at.run()

    return render


def test_the_page_shows_the_drilled_pivot_from_a_link(open_explore, demo_db: Database):
    at = open_explore(period="2022-09", drill="district:Basildon", grain="year")
    assert not at.exception, [e.value for e in at.exception]
    # October 2020 to September 2022 holds all of 2021/22 only: the other two financial years
    # are cut by the periods, so they are left empty rather than drawn as short years.
    assert [w.value for w in at.warning] == [
        "2 buckets left empty (2020/21, 2022/23): the periods chosen cover only part of them."
    ]
    pivot = at.dataframe[0].value.set_index("dimension_value")
    expected = explore.explore(
        demo_db,
        view_at(demo_db, SEP_22),
        state=ExploreState(
            measure_ids=("knife-crime",),
            dimension="crime_type",
            granularity="year",
            drill=(DrillStep("district", "Basildon"),),
        ),
    ).pivot.set_index("dimension_value")
    assert at.query_params["by"] == "crime_type"
    pd.testing.assert_frame_equal(pivot, expected, check_dtype=False)
    assert (
        pivot.loc[explore.TOTAL_LABEL, "current_count"]
        == pivot.drop(index=explore.TOTAL_LABEL)["current_count"].sum()
    )
    assert any("District: Basildon" == button.label for button in at.button)


def test_a_bad_link_warns_and_the_url_is_corrected(open_explore):
    at = open_explore(period="2022-09", measure="nope", drill="district:Atlantis")
    assert not at.exception
    assert any("nope" in w.value for w in at.warning)
    assert any("Atlantis" in w.value for w in at.warning)
    assert at.query_params["measure"] == "knife-crime"
    assert "drill" not in at.query_params


def test_the_breadcrumb_goes_back_to_all_records(open_explore):
    at = open_explore(
        period="2022-09", drill="district:Basildon,crime_type:Possession of weapons offences"
    )
    assert at.query_params["by"] == "outcome"
    next(b for b in at.button if b.label == "All records").click()
    at.run()
    assert "drill" not in at.query_params and at.query_params["by"] == "district"
    assert at.dataframe[0].value["dimension_value"].iloc[0] == "Southend-on-Sea"


def test_data_coverage_says_which_optional_columns_the_records_fill(
    demo_db: Database, records: pd.DataFrame
):
    assert explore.data_coverage(demo_db) == {
        "has_lsoa": bool(records["lsoa_code"].notna().any()),
        "has_outcome": bool(records["outcome"].notna().any()),
        "has_coordinates": bool(records["latitude"].notna().any()),
    }
