"""One view, one window policy, one error type: the figures every surface takes from the View
(force, places, period) match a direct count over the record files, an incomplete window is
left empty with the months it lacks named, and a user's mistake is one sentence.

Expected values are counted here with pyarrow and pandas from `records/month=*/*.parquet`,
with each measure's rule applied by hand, never through the functions under test.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from html import unescape
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from builders import MISSING_MONTH, build_tiny
from conftest import render_app

from crimeprev.aggregate import open_database
from crimeprev.cli.main import main
from crimeprev.config import Config, ConfigError, load_config
from crimeprev.db import Database
from crimeprev.demo.scale import generate_scaled_demo
from crimeprev.errors import CrimeprevError
from crimeprev.figures import datainfo, explore, insight, maps
from crimeprev.figures.explore import ExploreState
from crimeprev.figures.overview import significance_sentence, variation_legend
from crimeprev.periods import Window, format_month
from crimeprev.present.narrative import overview_narrative
from crimeprev.report.content import collect
from crimeprev.report.html_report import build_html
from crimeprev.view import View

SEP_22 = date(2022, 9, 1)
AUG_22 = date(2022, 8, 1)
SYNTHETIC = "Force 02 (synthetic)"


def read_records(root: Path) -> pd.DataFrame:
    """Every record in the folder, read straight from its Parquet files."""
    dataset = ds.dataset(root / "records", format="parquet", partitioning="hive")
    frame = dataset.to_table().to_pandas()
    frame["month"] = [format_month(m) for m in frame["month_start"]]
    return frame


def counted_by(frame: pd.DataFrame, config: Config, measure_id: str) -> pd.DataFrame:
    """The records a measure's rule (from the configuration) picks, by pandas filtering."""
    rule = config.measure(measure_id).rule
    match = frame["record_kind"] == rule.record_kind
    if rule.crime_types:
        match &= frame["crime_type"].isin(rule.crime_types)
    for flag in rule.flags:
        match &= frame[flag]
    if rule.outcomes:
        match &= frame["outcome"].isin(rule.outcomes)
    return frame[match]


def in_window(frame: pd.DataFrame, window: Window) -> pd.DataFrame:
    return frame[frame["month"].isin([format_month(m) for m in window.months])]


@pytest.fixture(scope="module")
def scaled_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("one-view-forces")
    generate_scaled_demo(root, 0.2, seed=11)
    return root


@pytest.fixture(scope="module")
def scaled_db(scaled_root: Path) -> Database:
    return open_database(scaled_root)


@pytest.fixture(scope="module")
def synthetic_knife(scaled_root: Path, scaled_db: Database) -> pd.DataFrame:
    records = read_records(scaled_root)
    mine = records[records["force"] == SYNTHETIC]
    return counted_by(mine, scaled_db.config, "knife-crime")


@pytest.fixture(scope="module")
def tiny_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny(tmp_path_factory.mktemp("one-view-tiny"))


@pytest.fixture(scope="module")
def tiny_db(tiny_root: Path) -> Database:
    return open_database(tiny_root)


FORCE_VIEW = View(SEP_22, force=SYNTHETIC)
CURRENT = Window.ending(SEP_22, 12)


def test_explore_counts_only_the_chosen_force(
    scaled_db: Database, synthetic_knife: pd.DataFrame
) -> None:
    result = explore.explore(scaled_db, FORCE_VIEW, ExploreState(measure_ids=("knife-crime",)))
    total = result.pivot.set_index("dimension_value").loc[explore.TOTAL_LABEL]
    assert total["current_count"] == len(in_window(synthetic_knife, CURRENT))
    theirs = {d.name for d in scaled_db.config.force_districts if d.force != SYNTHETIC}
    assert not set(result.pivot["dimension_value"]) & theirs


def test_explore_counts_several_measures_of_the_force_from_the_records(
    scaled_root: Path, scaled_db: Database
) -> None:
    """The records path (two measures, broken down by crime type) honours the force too."""
    records = read_records(scaled_root)
    mine = in_window(records[records["force"] == SYNTHETIC], CURRENT)
    config = scaled_db.config
    either = pd.concat([counted_by(mine, config, m) for m in ("knife-crime", "street-robbery")])
    expected = either.drop_duplicates("record_id")
    state = ExploreState(measure_ids=("knife-crime", "street-robbery"), dimension="crime_type")
    result = explore.explore(scaled_db, FORCE_VIEW, state)
    total = result.pivot.set_index("dimension_value").loc[explore.TOTAL_LABEL]
    assert total["current_count"] == len(expected)


def test_the_maps_districts_are_the_chosen_forces_with_its_counts(
    scaled_db: Database, synthetic_knife: pd.DataFrame
) -> None:
    figures = maps.district_figures(scaled_db, FORCE_VIEW, "knife-crime")
    config = scaled_db.config
    assert set(figures["district_code"]) == {d.code for d in config.districts_of(SYNTHETIC)}
    expected = in_window(synthetic_knife, CURRENT).groupby("district_code").size()
    for row in figures.itertuples():
        assert row.current_count == expected.get(row.district_code, 0)


def test_hotspots_count_only_the_chosen_forces_records(
    scaled_db: Database, synthetic_knife: pd.DataFrame
) -> None:
    cells = maps.hotspot_cells(scaled_db, FORCE_VIEW, "knife-crime")
    located = in_window(synthetic_knife, CURRENT).dropna(subset=["latitude", "longitude"])
    assert int(cells["count_records"].sum()) == len(located)


def test_the_data_pages_district_counts_follow_the_force(
    scaled_root: Path, scaled_db: Database
) -> None:
    records = read_records(scaled_root)
    counts = datainfo.district_counts(scaled_db, FORCE_VIEW)
    assert int(counts["total"].sum()) == int((records["force"] == SYNTHETIC).sum())


def test_the_reports_tables_series_and_summary_follow_the_force(
    scaled_db: Database, synthetic_knife: pd.DataFrame
) -> None:
    content = collect(scaled_db, FORCE_VIEW, ["knife-crime"], by_district=False)
    expected = len(in_window(synthetic_knife, CURRENT))
    current = content.insight.set_index("comparison").loc["previous_year", "current_count"]
    assert current == expected
    assert content.overview.rows["current_count"].iloc[0] == expected
    series = content.series[content.series["month_start"].dt.date.isin(CURRENT.months)]
    assert int(series["count_records"].sum()) == expected
    assert SYNTHETIC in " ".join(content.narrative)
    assert content.forces == [SYNTHETIC]


def test_the_cli_counts_the_force_it_is_given(
    scaled_db: Database,
    scaled_root: Path,
    synthetic_knife: pd.DataFrame,
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(
        [
            "--data-dir",
            str(scaled_root),
            "insight",
            "--period",
            "2022-09",
            "--strand",
            "knife-crime",
            "--force",
            SYNTHETIC,
            "--format",
            "json",
        ]
    )
    assert status == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["current_count"] == len(in_window(synthetic_knife, CURRENT))


def test_an_unknown_force_on_the_command_line_is_one_sentence(
    scaled_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["--data-dir", str(scaled_root), "counts", "--by", "month", "--force", "Atlantis"]
    )
    error = capsys.readouterr().err
    assert status == 2
    assert error.startswith("crimeprev: Unknown force 'Atlantis'. The data holds ")
    assert "Traceback" not in error


def test_explore_leaves_an_incomplete_period_and_its_month_empty(tiny_db: Database) -> None:
    """The tiny data lacks September 2021: the year to August 2022 holds it."""
    state = ExploreState(measure_ids=("knife-crime",))
    result = explore.explore(tiny_db, View(AUG_22), state)
    pivot = result.pivot.set_index("dimension_value")
    assert pivot["current_count"].isna().all()
    assert pivot["diff"].isna().all() and pivot["pct_change"].isna().all()
    assert pivot["comparison_count"].notna().all()
    assert pivot["Sep 2021"].isna().all()
    assert pivot["Oct 2021"].notna().all()
    assert any("September 2021" in note for note in result.notes)
    timeline = result.timeline.set_index("bucket_label")
    assert pd.isna(timeline.loc["Sep 2021", "count_records"])  # a gap, not a bar of 0


def test_explore_leaves_a_quarter_missing_a_month_empty(tiny_db: Database) -> None:
    """Financial quarter 2021/22 Q2 is July to September 2021, and September is missing."""
    state = ExploreState(measure_ids=("rape",), granularity="quarter")
    result = explore.explore(tiny_db, View(date(2022, 6, 1)), state)
    total = result.pivot.set_index("dimension_value").loc[explore.TOTAL_LABEL]
    assert pd.isna(total["2021/22 Q2"])
    assert total["2021/22 Q3"] > 0


def test_explore_does_not_compare_periods_of_unequal_length(tiny_db: Database) -> None:
    state = ExploreState(
        measure_ids=("knife-crime",),
        current=Window(date(2022, 1, 1), SEP_22),
        comparison=Window(date(2020, 1, 1), date(2020, 12, 1)),
    )
    result = explore.explore(tiny_db, View(SEP_22), state)
    pivot = result.pivot
    assert pivot["current_count"].notna().all() and pivot["comparison_count"].notna().all()
    assert pivot["pct_change"].isna().all()
    assert any("differ in length (12 months compared with 9)" in n for n in result.notes)


def test_the_map_leaves_incomplete_districts_empty_instead_of_failing(
    tiny_db: Database,
) -> None:
    figures = maps.district_figures(tiny_db, View(AUG_22), "knife-crime")
    assert len(figures) == len(tiny_db.config.districts_of(None))
    assert figures["current_count"].isna().all()
    assert figures["rate_per_1000"].isna().all()
    assert figures["previous_count"].notna().all()
    assert all("September 2021" in note for note in figures["note"])


def test_the_map_page_says_which_months_are_missing(
    tiny_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = render_app(monkeypatch, tiny_root, "pages/map.py", period="2022-08")
    assert not at.exception, [e.value for e in at.exception]
    assert any("September 2021" in w.value for w in at.warning)


def test_the_explore_page_names_the_missing_month(
    tiny_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = render_app(monkeypatch, tiny_root, "pages/explore.py", period="2022-08")
    assert not at.exception, [e.value for e in at.exception]
    assert any("September 2021" in w.value for w in at.warning)


def _visible_text(document: bytes) -> str:
    text = re.sub(r"<(script|style).*?</\1>", " ", document.decode("utf-8"), flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", text))


def test_an_html_report_over_a_gap_prints_no_nan_and_names_the_gap(tiny_db: Database) -> None:
    text = _visible_text(build_html(collect(tiny_db, View(AUG_22), by_district=False)))
    assert not re.search(r"\bnan\b", text, flags=re.I)
    assert "incomplete" in text and "September 2021" in text


def test_commentary_under_a_place_filter_is_labelled_force_wide(tiny_db: Database) -> None:
    """The tiny data's only commentary is rape's, for June 2022."""
    view = View(date(2022, 6, 1), districts=("colchester",))
    text = _visible_text(build_html(collect(tiny_db, view, ["rape"], by_district=False)))
    assert "The lead's commentary is kept for the whole of the force, not for Colchester" in (
        " ".join(text.split())
    )
    whole = _visible_text(build_html(collect(tiny_db, replace(view, districts=()), ["rape"])))
    assert "kept for the whole of" not in whole


def test_a_summary_that_could_test_nothing_says_so(tiny_db: Database) -> None:
    """In August 2022 both windows compared hold September 2021, so nothing can be tested."""
    first = overview_narrative(tiny_db, View(AUG_22))[0]
    assert "could be tested" in first
    assert not re.search(r"\b0 of the \d+ measures", first)


def test_every_error_a_user_can_cause_shares_one_base() -> None:
    from crimeprev.cli.main import UsageError
    from crimeprev.db import DataUnreadable
    from crimeprev.figures.counts import UnknownDimension
    from crimeprev.figures.delivery import DeliveryUnavailable
    from crimeprev.figures.sqlconsole import QueryFailed, QueryRefused
    from crimeprev.imports.common import ImportFailed
    from crimeprev.periods import PeriodError
    from crimeprev.report.exports import UnknownFormat
    from crimeprev.statistics.spc import SpcError
    from crimeprev.store import ImportInProgress

    for kind in (
        ConfigError,
        UsageError,
        DataUnreadable,
        UnknownDimension,
        DeliveryUnavailable,
        QueryFailed,
        QueryRefused,
        ImportFailed,
        PeriodError,
        UnknownFormat,
        SpcError,
        ImportInProgress,
        maps.BoundaryError,
    ):
        assert issubclass(kind, CrimeprevError), kind


def _with_periods(root: Path, tmp_path: Path, periods: str) -> Path:
    """A copy of the data folder's records under a strategy whose [periods] is `periods`."""
    folder = tmp_path / "data"
    (folder / "config").mkdir(parents=True)
    (folder / "records").symlink_to(root / "records", target_is_directory=True)
    (folder / "config" / "strategy.toml").write_text(
        f'extends = "default"\n\n[periods]\n{periods}\n', encoding="utf-8"
    )
    return folder


@pytest.mark.parametrize(
    ("periods", "named"),
    [
        ('window_months = "twelve"', "window_months must be a whole number of months"),
        ("window_months = 0", "window_months must be between 1 and"),
        ("delivery_window_months = 2.5", "delivery_window_months must be a whole number"),
        ("windows = 12", "unknown settings ['windows']"),
    ],
)
def test_a_bad_periods_setting_is_one_sentence(
    tiny_root: Path, tmp_path: Path, periods: str, named: str
) -> None:
    folder = _with_periods(tiny_root, tmp_path, periods)
    with pytest.raises(ConfigError, match=re.escape(named)):
        load_config(folder / "config")


def test_a_bad_periods_setting_shows_on_the_page_without_a_traceback(
    tiny_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = _with_periods(tiny_root, tmp_path, 'window_months = "twelve"')
    at = render_app(monkeypatch, folder)
    assert not at.exception, [e.value for e in at.exception]
    assert any("window_months must be a whole number" in e.value for e in at.error)


def test_a_bad_periods_setting_on_the_command_line_is_one_sentence(
    tiny_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _with_periods(tiny_root, tmp_path, "window_months = 0")
    status = main(["--data-dir", str(folder), "insight", "--period", "2022-09"])
    error = capsys.readouterr().err
    assert status == 2
    assert "[periods] window_months must be between 1 and" in error


def test_labels_follow_the_configured_significance_level(tiny_root: Path, tmp_path: Path) -> None:
    folder = tmp_path / "data"
    (folder / "config").mkdir(parents=True)
    (folder / "records").symlink_to(tiny_root / "records", target_is_directory=True)
    (folder / "config" / "strategy.toml").write_text(
        'extends = "default"\n\n[signals]\nsignificance_level = 0.01\n', encoding="utf-8"
    )
    db = open_database(folder)
    assert "at the 1% level" in variation_legend(db.config)
    # The year to August 2021 and the year before it are complete in the tiny data.
    view = View(date(2021, 8, 1))
    assert "at the 1% level" in overview_narrative(db, view)[0]
    rows = insight.insight_table(db, view, strand_id="knife-crime")
    tested = rows[rows["significant"].notna()].iloc[0]
    assert "99% CI" in significance_sentence(tested, db.config.signals.significance_level)


def test_the_tiny_data_lacks_the_month_these_tests_rely_on(tiny_root: Path) -> None:
    assert not (tiny_root / "records" / f"month={format_month(MISSING_MONTH)}").exists()


def test_the_cli_accepts_a_month_inside_a_gap_as_the_dashboard_does(
    tiny_root: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = main(
        ["--data-dir", str(tiny_root), "insight", "--period", "2021-09", "--format", "json"]
    )
    rows = json.loads(capsys.readouterr().out)
    assert status == 0
    assert not any(row["complete"] for row in rows)
    assert all(row["current_count"] is None for row in rows)
    assert all("September 2021" in row["note"] for row in rows)


def test_the_reports_workbook_from_the_cli_counts_the_force(
    scaled_root: Path, synthetic_knife: pd.DataFrame, tmp_path: Path
) -> None:
    out = tmp_path / "knife.xlsx"
    status = main(
        [
            "--data-dir",
            str(scaled_root),
            "report",
            "--period",
            "2022-09",
            "--strand",
            "knife-crime",
            "--force",
            SYNTHETIC,
            "--out",
            str(out),
        ]
    )
    assert status == 0
    table = pd.read_excel(out, sheet_name="Insight")  # an Excel Table, its header in row 1
    row = table[(table["measure_id"] == "knife-crime") & (table["comparison"] == "previous_year")]
    assert int(row["current_count"].iloc[0]) == len(in_window(synthetic_knife, CURRENT))
