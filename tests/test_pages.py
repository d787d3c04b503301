"""Every page through Streamlit's AppTest on the demo extract: it renders, the numbers on it are
the ones `crimeprev` computes for the same filters, URL parameters choose the view, and bad ones
give a warning and fall back instead of a traceback."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import view_at
from conftest import render_app
from streamlit.testing.v1 import AppTest

import ui
from crimeprev.db import Database
from crimeprev.figures import delivery, insight
from crimeprev.figures.overview import comparison_tables, format_activity_value, strand_url
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT
from crimeprev.view import View

SEP_22 = date(2022, 9, 1)
APP = str(REPOSITORY_ROOT / "app.py")
PAGE_FILES = {
    "overview": "pages/overview.py",
    "strand": "pages/strand.py",
    "delivery": "pages/delivery.py",
}

OpenPage = Callable[..., AppTest]


@pytest.fixture
def open_page(demo_root: Path, monkeypatch: pytest.MonkeyPatch) -> OpenPage:
    """Render a page of the dashboard over the demo extract with the given query string."""

    def render(page: str, **params: str) -> AppTest:
        file = None if page == "overview" else PAGE_FILES[page]
        return render_app(monkeypatch, demo_root, file, **params)

    return render


def _no_exception(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def _table_cells(at: AppTest) -> list[list[str]]:
    return [table.value.iloc[0].tolist() for table in at.table]


def _expected_cells(db: Database, period: date, strand: str, codes: list[str] | None) -> list:
    rows = insight.insight_table(db, view_at(db, period, codes), strand_id=strand)
    return [
        table.table.iloc[0].tolist()
        for measure in rows["measure"].unique()
        for table in comparison_tables(rows, measure, db.config.signals.significance_level)
    ]


@pytest.mark.parametrize("page", list(PAGE_FILES))
def test_every_page_renders_without_an_exception(open_page: OpenPage, page: str) -> None:
    at = open_page(page)
    _no_exception(at)
    assert not at.warning
    assert at.title
    assert any("data to September 2022" in caption.value for caption in at.caption)
    assert any("Data to September 2022" in caption.value for caption in at.sidebar.caption)


def test_overview_shows_every_strand_with_its_counts_and_delivery(
    open_page: OpenPage, demo_db: Database
) -> None:
    at = open_page("overview")
    _no_exception(at)
    shown = at.dataframe[0].value
    assert shown["strand_id"].drop_duplicates().tolist() == [s.id for s in demo_db.config.strands]
    expected = insight.insight_table(demo_db, view_at(demo_db, SEP_22))
    current = expected[expected["comparison"] == "previous_year"].set_index("measure")
    for row in shown.dropna(subset=["measure_id"]).itertuples():
        assert row.current_count == current.loc[row.measure_id, "current_count"]
    knife = shown.set_index("measure_id").loc["knife-crime"]
    assert knife["current_count"] == 3187
    assert knife["change_previous_year"] == "+13.3%"
    assert knife["change_baseline"] == "+60.2%"
    assert len(knife["trend"]) == 24
    status = delivery.status_table(demo_db, SEP_22).set_index("strand_id")
    assert knife["delivery_text"] == (
        f"{status.loc['knife-crime', 'complete']} of {status.loc['knife-crime', 'total']}"
    )
    activity_only = shown[shown["measure_id"].isna()]
    assert set(activity_only["strand_id"]) == {
        "county-lines",
        "serious-organised-crime",
        "places",
        "prevent",
    }
    assert activity_only["note"].str.contains("activity").all()
    assert activity_only["delivery_text"].notna().all()
    assert knife["strand_link"].startswith("strand?period=2022-09&strand=knife-crime#")


def test_overview_links_keep_the_filters(open_page: OpenPage) -> None:
    at = open_page("overview", period="2022-03", district="colchester,tendring")
    _no_exception(at)
    links = at.dataframe[0].value.set_index("strand_id")["strand_link"]
    assert links["rape"] == "strand?period=2022-03&strand=rape&district=colchester,tendring#Rape"


def test_strand_page_shows_the_report_tables(open_page: OpenPage, demo_db: Database) -> None:
    at = open_page("strand", strand="knife-crime", period="2022-09")
    _no_exception(at)
    assert at.title[0].value == "Knife crime"
    baseline = at.table[1].value
    assert baseline.columns.tolist() == [
        "12 months ending Dec 2019",
        "12 months ending Sep 2022",
        "Diff.",
        "% Diff.",
    ]
    assert baseline.iloc[0].tolist() == ["1,989", "3,187", "+1,198", "+60.2%"]
    assert at.table[0].value.columns.tolist()[:2] == [
        "12 months ending Sep 2021",
        "12 months ending Sep 2022",
    ]
    assert _table_cells(at) == _expected_cells(demo_db, SEP_22, "knife-crime", None)


def test_strand_page_follows_the_url(open_page: OpenPage, demo_db: Database) -> None:
    at = open_page("strand", strand="rape", period="2021-03", district="colchester")
    _no_exception(at)
    assert not at.warning
    assert at.title[0].value == "Rape"
    assert at.select_slider(key=ui.PERIOD_KEY).value == date(2021, 3, 1)
    assert at.multiselect(key=ui.DISTRICTS_KEY).value == ["colchester"]
    assert at.query_params == {"period": "2021-03", "strand": "rape", "district": "colchester"}
    colchester = [demo_db.config.district_by_slug("colchester").code]
    assert _table_cells(at) == _expected_cells(demo_db, date(2021, 3, 1), "rape", colchester)
    breakdown = insight.district_breakdown(
        demo_db, view_at(demo_db, date(2021, 3, 1), colchester), measure_id="rape"
    )
    shown = at.dataframe[1].value
    assert shown["current_count"].tolist() == breakdown["current_count"].tolist()


def test_strand_page_counts_an_lpa(open_page: OpenPage, demo_db: Database) -> None:
    at = open_page("strand", strand="hate-crime", lpa="north")
    _no_exception(at)
    assert at.query_params["lpa"] == "North"
    codes = View(SEP_22, lpas=("North",)).district_codes(demo_db.config)
    assert _table_cells(at) == _expected_cells(demo_db, SEP_22, "hate-crime", codes)


@pytest.mark.parametrize(
    ("params", "check"),
    [
        ({"period": "2022-13"}, lambda at: at.select_slider(key=ui.PERIOD_KEY).value == SEP_22),
        ({"period": "1999-01"}, lambda at: at.select_slider(key=ui.PERIOD_KEY).value == SEP_22),
        ({"district": "atlantis"}, lambda at: at.multiselect(key=ui.DISTRICTS_KEY).value == []),
        ({"lpa": "east"}, lambda at: at.multiselect(key=ui.LPAS_KEY).value == []),
        ({"strand": "nope"}, lambda at: at.title[0].value == "Knife crime"),
    ],
)
def test_bad_url_values_warn_and_fall_back(open_page: OpenPage, params: dict, check) -> None:
    at = open_page("strand", **params)
    _no_exception(at)
    assert len(at.warning) == 1
    assert check(at)
    assert at.query_params["period"] == "2022-09"
    assert at.query_params["strand"] == "knife-crime"
    assert len(at.table) == 2


def test_bad_values_on_the_overview_warn_too(open_page: OpenPage) -> None:
    at = open_page("overview", period="2022-13", district="colchester,atlantis")
    _no_exception(at)
    assert len(at.warning) == 2
    assert at.query_params == {"period": "2022-09", "district": "colchester"}


def test_an_incomplete_window_reads_incomplete_with_its_reason(open_page: OpenPage) -> None:
    at = open_page("strand", strand="rape", period="2018-02")
    _no_exception(at)
    previous_year = at.table[0].value.iloc[0].tolist()
    assert previous_year[0] == "incomplete"
    assert previous_year[2:] == ["", ""]
    assert any("the data lacks" in caption.value for caption in at.caption)


def test_a_strand_without_measures_shows_activity_delivery_and_commentary(
    open_page: OpenPage,
) -> None:
    at = open_page("strand", strand="county-lines")
    _no_exception(at)
    assert not at.table
    assert any("reported through activity" in info.value for info in at.info)
    metrics = {metric.label: metric.value for metric in at.metric}
    assert metrics
    assert any("Delivery achieved" in md.value for md in at.markdown)
    assert [h.value for h in at.subheader] == ["Activity", "Delivery", "Commentary"]


def test_a_period_without_commentary_says_so(open_page: OpenPage) -> None:
    at = open_page("strand", strand="rape", period="2020-01")
    _no_exception(at)
    assert any("No commentary is recorded" in md.value for md in at.markdown)


def test_delivery_page_total_row_is_the_sum_of_its_strands(
    open_page: OpenPage, demo_db: Database
) -> None:
    at = open_page("delivery")
    _no_exception(at)
    shown = at.dataframe[0].value
    strands, total = shown[shown["strand_id"] != "total"], shown[shown["strand_id"] == "total"]
    for column in delivery.STATUS_COLUMNS:
        assert total[column].item() == strands[column].sum()
    assert total[["total", "complete", "ongoing", "at_risk"]].iloc[0].tolist() == [583, 293, 290, 0]
    pd.testing.assert_frame_equal(shown, delivery.status_table(demo_db, SEP_22))
    actions = at.dataframe[-1].value
    assert len(actions) == 583


def test_delivery_page_filters_the_actions(open_page: OpenPage, demo_db: Database) -> None:
    at = open_page("delivery")
    at.multiselect(key="url_strands").set_value(["rape"])
    at.multiselect(key="url_status").set_value(["ongoing"])
    at.run()
    _no_exception(at)
    expected = delivery.actions_at(demo_db, SEP_22, strand_ids=["rape"], statuses=["ongoing"])
    assert at.dataframe[-1].value["action_id"].tolist() == expected["action_id"].tolist()
    assert at.query_params["strands"] == "rape" and at.query_params["status"] == "ongoing"
    assert at.query_params["period"] == "2022-09"


def test_delivery_filters_come_from_a_shared_link(open_page: OpenPage, demo_db: Database) -> None:
    at = open_page("delivery", strands="rape,hate-crime", status="ongoing,at risk,done")
    _no_exception(at)
    assert [w.value for w in at.warning] == [
        "Unknown statuses 'done' in the link, left out. Known: complete, ongoing, at risk, "
        "not started."
    ]
    assert at.multiselect(key="url_strands").value == ["rape", "hate-crime"]
    expected = delivery.actions_at(
        demo_db, SEP_22, strand_ids=["rape", "hate-crime"], statuses=["ongoing", "at risk"]
    )
    assert at.dataframe[-1].value["action_id"].tolist() == expected["action_id"].tolist()


def test_delivery_page_before_the_first_quarter_explains(open_page: OpenPage) -> None:
    at = open_page("delivery", period="2021-03")
    _no_exception(at)
    assert not at.dataframe
    assert any("records statuses from" in info.value for info in at.info)


def test_moving_between_pages_keeps_the_filters(open_page: OpenPage) -> None:
    at = open_page("strand", strand="rape", period="2021-03", district="colchester")
    at.switch_page(PAGE_FILES["delivery"])
    at.query_params.clear()  # the sidebar's page links drop the query string
    at.run()
    _no_exception(at)
    assert at.query_params == {"period": "2021-03", "district": "colchester"}
    at.switch_page(PAGE_FILES["strand"])
    at.query_params.clear()
    at.run()
    assert at.query_params == {"period": "2021-03", "strand": "rape", "district": "colchester"}
    assert at.title[0].value == "Rape"


def test_changing_a_filter_updates_the_url(open_page: OpenPage) -> None:
    at = open_page("strand", strand="rape")
    at.select_slider(key=ui.PERIOD_KEY).set_value(date(2022, 3, 1))
    at.multiselect(key=ui.DISTRICTS_KEY).set_value(["tendring", "colchester"])
    at.run()
    _no_exception(at)
    assert at.query_params == {
        "period": "2022-03",
        "strand": "rape",
        "district": "tendring,colchester",
    }
    assert "Tendring, Colchester" in at.caption[0].value


def test_an_empty_data_folder_says_how_to_make_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=60).run()
    _no_exception(at)
    assert len(at.info) == 1
    assert "crimeprev demo" in at.info[0].value


def test_strand_url_keeps_period_and_places() -> None:
    filters = View(SEP_22, ("colchester", "tendring"), ("North",))
    assert strand_url("knife-crime", filters) == (
        "strand?period=2022-09&strand=knife-crime&district=colchester,tendring&lpa=North"
    )


@pytest.mark.parametrize(
    ("value", "unit", "text"),
    [(328000.0, "GBP", "£328,000"), (529.0, "count", "529"), (18833.0, "g", "18,833 g")],
)
def test_activity_values_are_written_with_their_units(value: float, unit: str, text: str) -> None:
    assert format_activity_value(value, unit) == text


def test_a_damaged_data_file_shows_a_sentence_not_a_traceback(
    damaged_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(damaged_root))
    at = AppTest.from_file(APP, default_timeout=120).run()
    _no_exception(at)
    assert any("A data file cannot be read" in error.value for error in at.error)


def test_an_empty_data_folder_says_how_to_create_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(tmp_path))
    at = AppTest.from_file(APP, default_timeout=120).run()
    _no_exception(at)
    assert any("crimeprev demo" in info.value for info in at.info)


def test_force_wide_sections_say_so_when_places_are_chosen(open_page: OpenPage) -> None:
    chosen = open_page("strand", strand="county-lines", district="colchester")
    notes = [c.value for c in chosen.caption if "kept for the whole of" in c.value]
    tail = (
        "kept for the whole of the force, not for Colchester: the place filters do not change it."
    )
    assert notes[:2] == [f"Operational results are {tail}", f"The delivery plan is {tail}"]
    assert notes[2:] in ([], [f"The lead's commentary is {tail}"])
    everywhere = open_page("strand", strand="county-lines")
    assert not [c for c in everywhere.caption if "kept for the whole of" in c.value]
