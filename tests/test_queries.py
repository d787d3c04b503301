"""Every query and the functions over it, against the tiny data folder whose counts are formulas."""

import ast
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import (
    DISTRICTS,
    MISSING_MONTH,
    build_tiny,
    covered_months,
    expected_total,
    hate_count,
    hate_solved,
    knife_count,
    mental_health_count,
    rape_count,
    view_at,
)

from crimeprev.aggregate import AGGREGATES, aggregates_current, build_aggregates, open_database
from crimeprev.db import QUERIES_DIR, QueryError, query_parameters, run_query
from crimeprev.figures import activity, delivery, insight
from crimeprev.store import REPOSITORY_ROOT

COLCHESTER, BASILDON = "E07000071", "E07000066"
SEP_22, SEP_21, DEC_19 = date(2022, 9, 1), date(2021, 9, 1), date(2019, 12, 1)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = build_tiny(tmp_path_factory.mktemp("tiny"))
    return open_database(root)


def _insight_row(table, measure, comparison):
    rows = table[(table["measure"] == measure) & (table["comparison"] == comparison)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_covered_months_are_the_months_written(tiny):
    assert insight.covered_months(tiny) == covered_months()
    assert MISSING_MONTH not in insight.covered_months(tiny)


def test_baseline_comparison_counts_every_district(tiny):
    table = insight.insight_table(tiny, view_at(tiny, SEP_22))
    row = _insight_row(table, "rape", "baseline")
    comparator = expected_total(rape_count, date(2019, 1, 1), DEC_19)
    current = expected_total(rape_count, date(2021, 10, 1), SEP_22)
    assert (row.comparator_count, row.current_count) == (comparator, current)
    assert current != comparator
    assert row["diff"] == current - comparator
    assert row["pct_change"] == round(100 * (current - comparator) / comparator, 1)
    assert row.complete
    assert row.comparator_label == "12 months ending Dec 2019"


def test_a_window_with_a_missing_month_is_incomplete_not_summed(tiny):
    row = _insight_row(
        insight.insight_table(tiny, view_at(tiny, SEP_22)), "knife-crime", "previous_year"
    )
    assert not row.complete
    assert pd.isna(row.comparator_count)
    assert pd.isna(row["pct_change"])
    assert "September 2021" in row.note
    assert row.current_count == expected_total(knife_count, date(2021, 10, 1), SEP_22)


def test_district_filter_counts_only_those_districts(tiny):
    table = insight.insight_table(tiny, view_at(tiny, date(2021, 8, 1), [COLCHESTER]))
    row = _insight_row(table, "knife-crime", "baseline")
    weight = [DISTRICTS[COLCHESTER]]
    assert row.current_count == expected_total(
        knife_count, date(2020, 9, 1), date(2021, 8, 1), weight
    )
    assert row.comparator_count == expected_total(knife_count, date(2019, 1, 1), DEC_19, weight)


def test_rules_select_kind_flags_and_outcomes(tiny):
    table = insight.insight_table(tiny, view_at(tiny, SEP_22, [BASILDON]))
    weight = [DISTRICTS[BASILDON]]
    window = (date(2021, 10, 1), SEP_22)
    assert _insight_row(table, "hate-crime", "baseline").current_count == expected_total(
        hate_count, *window, weight
    )
    assert _insight_row(table, "hate-crime-solved", "baseline").current_count == expected_total(
        hate_solved, *window, weight
    )
    assert _insight_row(table, "mental-health", "baseline").current_count == expected_total(
        mental_health_count, *window, weight
    )
    assert _insight_row(table, "domestic-abuse", "baseline").current_count == 0


def test_strand_filter_returns_only_that_strands_measures(tiny):
    table = insight.insight_table(tiny, view_at(tiny, SEP_22), strand_id="burglary-robbery")
    assert sorted(set(table["measure"])) == ["dwelling-burglary", "street-robbery"]
    assert len(table) == 4


def test_insight_json_records_use_the_documented_keys(tiny):
    records = insight.insight_records(
        insight.insight_table(tiny, view_at(tiny, SEP_22), strand_id="rape")
    )
    assert list(records[0]) == list(insight.INSIGHT_JSON_KEYS)
    assert records[0]["comparator_count"] is None and records[0]["complete"] is False
    assert isinstance(records[1]["current_count"], int)


def test_monthly_series_shows_gaps_as_null_and_empty_months_as_zero(tiny):
    series = insight.monthly_series(
        tiny, view_at(tiny, SEP_22), months=50, measure_ids=["rape", "domestic-abuse"]
    )
    rape = series[series["measure_id"] == "rape"].set_index("month_start")
    assert len(rape) == 50
    assert pd.isna(rape.loc[pd.Timestamp(MISSING_MONTH), "count_records"])
    assert not rape.loc[pd.Timestamp(MISSING_MONTH), "is_covered"]
    assert pd.isna(rape.loc[pd.Timestamp(date(2018, 9, 1)), "count_records"])
    month = date(2022, 9, 1)
    assert rape.loc[pd.Timestamp(month), "count_records"] == sum(
        rape_count(month, w) for w in DISTRICTS.values()
    )
    abuse = series[series["measure_id"] == "domestic-abuse"]
    assert (abuse[abuse["is_covered"]]["count_records"] == 0).all()


def test_district_breakdown_lists_every_force_district(tiny):
    frame = insight.district_breakdown(tiny, view_at(tiny, SEP_22), measure_id="knife-crime")
    assert len(frame) == 14
    colchester = frame[frame["district_code"] == COLCHESTER].iloc[0]
    assert colchester.current_count == expected_total(
        knife_count, date(2021, 10, 1), SEP_22, [DISTRICTS[COLCHESTER]]
    )
    assert colchester.lpa == "North"
    assert frame[frame["district_name"] == "Maldon"].iloc[0].current_count == 0
    assert list(frame["current_count"]) == sorted(frame["current_count"], reverse=True)


def test_district_breakdown_leaves_a_year_with_a_missing_month_empty(tiny):
    """The tiny data lacks 2021-09: a year that includes it is never shown as a partial sum."""
    frame = insight.district_breakdown(
        tiny, view_at(tiny, date(2022, 8, 1)), measure_id="knife-crime"
    )
    colchester = frame[frame["district_code"] == COLCHESTER].iloc[0]
    assert colchester["current_count"] is None and colchester["diff"] is None
    assert colchester.previous_count == expected_total(
        knife_count, date(2020, 9, 1), date(2021, 8, 1), [DISTRICTS[COLCHESTER]]
    )
    assert colchester.note == "incomplete: the data lacks September 2021"


def test_district_breakdown_respects_the_district_filter(tiny):
    frame = insight.district_breakdown(
        tiny, view_at(tiny, SEP_22, [COLCHESTER, BASILDON]), measure_id="rape"
    )
    assert sorted(frame["district_name"]) == ["Basildon", "Colchester"]


def test_delivery_quarters_are_those_with_statuses(tiny):
    assert delivery.delivery_quarters(tiny) == [date(2022, 3, 1), date(2022, 6, 1)]


def test_delivery_uses_the_latest_quarter_at_or_before_the_period(tiny):
    assert delivery.quarter_for(tiny, SEP_22).quarter_end == date(2022, 6, 1)
    assert delivery.quarter_for(tiny, date(2022, 5, 1)).quarter_end == date(2022, 3, 1)
    with pytest.raises(delivery.DeliveryUnavailable, match="from March 2022 onwards"):
        delivery.quarter_for(tiny, date(2021, 12, 1))


def test_delivery_status_table_totals_are_summed_from_the_strands(tiny):
    table = delivery.status_table(tiny, date(2022, 3, 1)).set_index("strand_id")
    assert table.loc["knife-crime", ["total", "ongoing", "not_started"]].tolist() == [2, 1, 1]
    assert table.loc["rape", "at_risk"] == 1
    assert table.loc["hate-crime", "complete"] == 1
    assert table.loc["places", "total"] == 0
    assert table.loc[
        "total", ["total", "complete", "ongoing", "at_risk", "not_started"]
    ].tolist() == [
        4,
        1,
        1,
        1,
        1,
    ]
    records = delivery.status_records(table.reset_index())
    assert records[-1] == {
        "strand": "total",
        "total": 4,
        "complete": 1,
        "ongoing": 1,
        "at_risk": 1,
        "not_started": 1,
    }


def test_delivery_actions_filter_by_strand_and_status(tiny):
    actions = delivery.actions_at(tiny, SEP_22, statuses=["ongoing"])
    assert sorted(actions["action_id"]) == ["KC-2", "RA-1"]
    actions = delivery.actions_at(tiny, SEP_22, strand_ids=["knife-crime"])
    assert sorted(actions["action_id"]) == ["KC-1", "KC-2"]


def test_delivery_progress_splits_achieved_and_scheduled(tiny):
    result = delivery.progress(tiny, "knife-crime", SEP_22)
    assert list(result.achieved["action_id"]) == ["KC-1"]
    assert list(result.scheduled["action_id"]) == ["KC-2"]
    assert (result.achieved_from, result.scheduled_to) == (date(2022, 4, 1), date(2023, 3, 1))


def test_activity_metrics_take_the_latest_report_up_to_the_period(tiny):
    assert activity.activity_metrics(tiny, "county-lines", date(2022, 3, 1)).empty
    june = activity.activity_metrics(tiny, "county-lines", date(2022, 6, 1))
    assert june[["metric", "value"]].values.tolist() == [["arrests", 12.0]]
    september = activity.activity_metrics(tiny, "county-lines", SEP_22).set_index("metric")
    assert september.loc["arrests", "value"] == 30
    assert september.loc["cash seized", "unit"] == "GBP"


def test_commentary_is_for_exactly_the_period(tiny):
    assert "non-recent offences" in activity.commentary(tiny, "rape", date(2022, 6, 1))
    assert activity.commentary(tiny, "rape", SEP_22) is None


def test_spike_report_tests_every_measure_in_every_force_district(tiny):
    import statsmodels.api as sm
    import statsmodels.formula.api as smf

    from crimeprev.figures.signals import spike_report

    report = spike_report(tiny, SEP_22)
    assert report.tests_count == len(tiny.config.measures) * 14
    assert not report.tests["district_code"].str.startswith("X-").any()
    tests = report.tests.set_index(["measure_id", "district_code"])
    weight = DISTRICTS[COLCHESTER]
    row = tests.loc[("rape", COLCHESTER)]
    assert row["count_records"] == rape_count(SEP_22, weight)
    # The expected count: a Poisson log-linear fit (the counts vary less than Poisson) of the
    # districts' 36 preceding months, district + trend + month of year, at September 2022.
    history = [m for m in covered_months() if date(2019, 9, 1) <= m < SEP_22]
    frame = pd.DataFrame(
        [
            {"count": rape_count(m, w), "district": d, "years": (m - SEP_22).days, "month": m.month}
            for m in history
            for d, w in DISTRICTS.items()
        ]
    )
    frame["years"] = [round(days / 30.4) / 12 for days in frame["years"]]
    fit = smf.glm(
        "count ~ 0 + C(district) + years + C(month)", frame, family=sm.families.Poisson()
    ).fit()
    at = pd.DataFrame({"district": [COLCHESTER], "years": [0.0], "month": [9]})
    assert row["expected_count"] == pytest.approx(float(fit.predict(at).iloc[0]), rel=1e-6)
    assert tests.loc[("rape", "E07000067"), "count_records"] == 0  # Braintree records none


def test_rebuilding_some_months_equals_a_full_rebuild(tmp_path):
    root = build_tiny(tmp_path)
    full = build_aggregates(root)
    whole = pd.read_parquet(root / "aggregates" / "measure_monthly.parquet")
    partial = build_aggregates(root, months=[date(2022, 9, 1), date(2020, 1, 1)])
    assert partial.months_rebuilt == 2
    again = pd.read_parquet(root / "aggregates" / "measure_monthly.parquet")
    key = ["force", "measure_id", "district_code", "month_start"]
    pd.testing.assert_frame_equal(
        whole.sort_values(key).reset_index(drop=True), again.sort_values(key).reset_index(drop=True)
    )
    assert full.rows == partial.rows


def test_aggregates_follow_the_records(tmp_path):
    root = build_tiny(tmp_path)
    db = open_database(root)
    assert aggregates_current(root, db.config)
    (root / "records" / "month=2022-09" / "part-0.parquet").unlink()
    assert not aggregates_current(root, db.config)
    db = open_database(root)
    assert insight.covered_months(db)[-1] == date(2022, 8, 1)


def test_run_query_refuses_missing_and_unexpected_parameters(tiny):
    with pytest.raises(QueryError, match="missing \\['quarter_end'\\]"):
        run_query(tiny.connection, "delivery_status_by_strand", {})
    with pytest.raises(QueryError, match="unexpected \\['extra'\\]"):
        run_query(tiny.connection, "delivery_quarters", {"extra": 1})
    with pytest.raises(QueryError, match="no query named"):
        run_query(tiny.connection, "no_such_query", {})


QUERY_METHODS = ("query", "query_arrow")  # db.query("name", param=...)
QUERY_FUNCTIONS = ("run_query", "run_query_arrow")  # run_query(con, "name", {"param": ...})


def _called_query(node: ast.AST) -> tuple[list[str], set[str]] | None:
    """The query names and parameter names of a call that runs a query, else None."""
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in QUERY_METHODS and node.args:
        first, params = node.args[0], {k.arg for k in node.keywords if k.arg}
        if any(k.arg is None for k in node.keywords):  # **{f"by_{name}": ...}
            params |= {"*"}
    elif isinstance(func, ast.Name) and func.id in QUERY_FUNCTIONS and len(node.args) >= 2:
        first, given = node.args[1], node.args[2] if len(node.args) > 2 else None
        if not isinstance(given, ast.Dict):
            return None
        params = {str(k.value) for k in given.keys if isinstance(k, ast.Constant)}
        if any(k is None for k in given.keys):  # {**UK_BOUNDS, ...}
            params |= {"*"}
    else:
        return None
    if isinstance(first, ast.Constant):
        return [str(first.value)], params
    return [f"build_{name}" for name in AGGREGATES], params  # f"build_{name}"


def _public_callers(tree: ast.Module) -> dict[str, set[str]]:
    """For each function of a module, the public functions of the module that reach it (a
    public function reaches itself), so a query run by a private helper counts as run by
    the public functions that use the helper."""
    functions = {f.name: f for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)}
    calls = {
        name: {
            n.func.id
            for n in ast.walk(f)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in functions
        }
        for name, f in functions.items()
    }
    reached: dict[str, set[str]] = {name: set() for name in functions}
    for name in functions:
        if name.startswith("_"):
            continue
        seen, todo = set(), [name]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            reached[current].add(name)
            todo.extend(calls[current])
    return reached


def _query_calls() -> list[tuple[str, set[str], set[str]]]:
    """Every call in crimeprev/ that runs a query: the query's name, the parameters passed,
    and the public functions through which it runs."""
    found = []
    for path in sorted((REPOSITORY_ROOT / "crimeprev").rglob("*.py")):
        tree = ast.parse(path.read_text())
        callers = _public_callers(tree)
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef):
                continue
            for node in ast.walk(function):
                called = _called_query(node)
                if called is None:
                    continue
                names, params = called
                entry = callers[function.name] or {function.name}
                found += [(name, params, entry) for name in names]
    return found


def test_every_query_is_called_with_exactly_its_parameters_and_tested():
    calls = _query_calls()
    tests = "\n".join(p.read_text() for p in sorted(Path(__file__).parent.glob("test_*.py")))
    for path in sorted(QUERIES_DIR.glob("*.sql")):
        callers = [(params, entry) for name, params, entry in calls if name == path.stem]
        assert callers, f"{path.name} is never run by crimeprev/"
        declared = query_parameters(path.read_text())
        for params, entry in callers:
            if "*" in params:  # some passed by unpacking a mapping: the named ones must exist
                assert params - {"*"} <= declared, f"{sorted(entry)} pass {params} to {path.name}"
            else:
                assert params == declared, f"{sorted(entry)} pass {params} to {path.name}"
            assert any(re.search(rf"\b{name}\(", tests) for name in entry), (
                f"{path.name} runs through {sorted(entry)}, which no test calls"
            )


def test_every_query_says_what_a_row_means_and_binds_its_values():
    for path in QUERIES_DIR.glob("*.sql"):
        sql = path.read_text()
        assert sql.startswith("-- one row"), f"{path.name} should start with '-- one row: ...'"
        placeholder = re.search(r"\{[A-Za-z_][A-Za-z0-9_]*\}", sql)
        assert placeholder is None, f"{path.name} looks formatted, not bound"


def test_a_damaged_monthly_table_is_rebuilt_from_the_records(demo_root: Path, tmp_path: Path):
    import shutil

    from crimeprev.aggregate import open_database

    copy = tmp_path / "copy"
    shutil.copytree(demo_root, copy)
    table = copy / "aggregates" / "measure_monthly.parquet"
    table.write_bytes(table.read_bytes()[:300])
    db = open_database(copy)
    assert int(db.query("covered_months", force=None)["month_start"].count()) == 66
    assert table.stat().st_size > 300
