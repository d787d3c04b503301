"""The statistics on the pages, through AppTest on the demo extract: the overview's variation
icons, real-change column, caution markers and narrative; the strand page's SPC view and
significance sentences; the Signals page. Each agrees with what `crimeprev` computes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import view_at
from conftest import render_app
from playwright.sync_api import Page, expect
from streamlit.testing.v1 import AppTest

from crimeprev.figures.insight import insight_table
from crimeprev.figures.overview import CAUTION_MARKER, significance_label, significance_sentence
from crimeprev.present.narrative import overview_narrative
from crimeprev.statistics.spc import measure_spc, table_variation, variation_by_measure
from crimeprev.statistics.spikes import spike_report
from crimeprev.store import REPOSITORY_ROOT

SEP_22, JUN_21 = date(2022, 9, 1), date(2021, 6, 1)
MALDON = "E07000074"
APP = str(REPOSITORY_ROOT / "app.py")
PAGE_FILES = {"strand": "pages/strand.py", "signals": "pages/signals.py"}

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


def _markdown(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_overview_shows_a_variation_icon_for_every_measure(open_page: OpenPage, demo_db):
    at = open_page("overview")
    _no_exception(at)
    rows = at.dataframe[0].value.dropna(subset=["measure_id"]).set_index("measure_id")
    expected = variation_by_measure(demo_db, view_at(demo_db, SEP_22))
    assert len(rows) == len(demo_db.config.measures)
    for measure_id, variation in expected.items():
        assert variation is not None
        assert rows.loc[measure_id, "variation"] == variation.icon
    assert rows["variation"].str[0].isin(["⚪", "🔵", "🟠"]).all()
    assert any("common cause" in c.value and "⚠" in c.value for c in at.caption)


def test_overview_says_which_changes_are_significant(open_page: OpenPage, demo_db):
    at = open_page("overview")
    rows = at.dataframe[0].value.dropna(subset=["measure_id"]).set_index("measure_id")
    insight = insight_table(demo_db, view_at(demo_db, SEP_22)).set_index(["measure", "comparison"])
    for measure_id in rows.index:
        year = insight.loc[(measure_id, "previous_year")]
        assert rows.loc[measure_id, "significance_previous_year"] == significance_label(year)
    assert rows.loc["knife-crime", "significance_previous_year"] == "significant ↑"
    assert rows.loc["drug-trafficking", "significance_previous_year"] == "not significant"


def test_overview_narrative_is_shown_and_names_only_tested_changes(open_page: OpenPage, demo_db):
    at = open_page("overview")
    shown = _markdown(at)
    paragraphs = overview_narrative(demo_db, view_at(demo_db, SEP_22))
    for paragraph in paragraphs:
        assert paragraph in shown
    year = paragraphs[0]
    assert "Night-time economy crime +61.7% (1,806 to 2,921; a concern)" in year
    increases, _, rest = year.partition("Significant decreases")
    assert "Trafficking of drugs" not in increases.split("Significant increases")[1]
    assert "No significant change: " in rest and "Trafficking of drugs -0.9%" in rest
    assert "Mental health incidents +1.0%" in rest


def test_small_counts_carry_the_caution_marker(open_page: OpenPage, demo_db):
    at = open_page("overview", district="maldon")
    _no_exception(at)
    rows = at.dataframe[0].value.dropna(subset=["measure_id"]).set_index("measure_id")
    insight = insight_table(demo_db, view_at(demo_db, SEP_22, [MALDON]))
    year = insight[insight["comparison"] == "previous_year"].set_index("measure")
    small = year.index[year["small_counts"].astype(bool)]
    assert len(small) > 0
    for measure_id in rows.index:
        marked = rows.loc[measure_id, "change_previous_year"].endswith(CAUTION_MARKER)
        assert marked == (measure_id in small)
    assert any("Read with care" in text for text in _markdown(at))


def test_strand_tables_each_say_whether_the_change_is_significant(open_page: OpenPage, demo_db):
    at = open_page("strand", strand="knife-crime", period="2022-09")
    _no_exception(at)
    rows = insight_table(demo_db, view_at(demo_db, SEP_22), strand_id="knife-crime")
    captions = [c.value for c in at.caption]
    for row in rows.to_dict("records"):
        assert significance_sentence(row, demo_db.config.signals.significance_level) in captions
    assert any(c.startswith("A significant increase (p < 0.001): 1.13 times") for c in captions)


def test_the_spc_toggle_draws_the_xmr_chart(open_page: OpenPage, demo_db):
    at = open_page("strand", strand="knife-crime", period="2022-09", spc="on")
    _no_exception(at)
    assert at.toggle(key="spc_view").value is True
    table = measure_spc(demo_db, view_at(demo_db, SEP_22), measure_id="knife-crime", months=36)
    assert f"Latest month: **{table_variation(table).icon}**" in _markdown(at)
    spc_data = [d.value for d in at.dataframe if "upper_limit" in d.value.columns]
    assert len(spc_data) == 1
    assert spc_data[0]["mean"].iloc[0] == pytest.approx(table["mean"].iloc[0])


def test_the_spc_limits_rebase_at_the_month_in_the_link(open_page: OpenPage, demo_db):
    at = open_page("strand", strand="knife-crime", period="2022-09", spc="on", rebase="2020-03")
    _no_exception(at)
    assert at.multiselect(key="url_rebase").value == ["2020-03"]
    data = next(d.value for d in at.dataframe if "upper_limit" in d.value.columns)
    before = data[pd.to_datetime(data["month_start"]) < "2020-03-01"]["mean"].unique()
    after = data[pd.to_datetime(data["month_start"]) >= "2020-03-01"]["mean"].unique()
    expected = measure_spc(
        demo_db,
        view_at(demo_db, SEP_22),
        measure_id="knife-crime",
        months=36,
        rebase_months=(date(2020, 3, 1),),
    )
    assert len(before) == 1 and len(after) == 1 and before[0] != after[0]
    assert after[0] == pytest.approx(expected["mean"].iloc[-1])


def test_a_baseline_of_one_month_gets_a_sentence(open_page: OpenPage):
    at = open_page("strand", strand="rape", period="2022-09", spc="on")
    at.number_input[0].set_value(1).run()
    _no_exception(at)
    assert any("at least 2 months" in w.value for w in at.warning)


def test_signals_page_lists_the_alerts_of_the_month(open_page: OpenPage, demo_db):
    at = open_page("signals", period="2021-06")
    _no_exception(at)
    report = spike_report(demo_db, JUN_21)
    assert any(report.threshold_text() == c.value for c in at.caption)
    alerts = at.dataframe[0].value
    assert alerts[["measure_id", "district_name"]].values.tolist() == (
        report.alerts[["measure_id", "district_name"]].values.tolist()
    )
    assert ("night-time-economy", "Thurrock") in set(
        zip(alerts["measure_id"], alerts["district_name"], strict=True)
    )
    assert alerts["strand_link"].str.contains("district=").all()


def test_signals_page_in_a_quiet_month_says_so_and_shows_the_nearest(open_page: OpenPage, demo_db):
    report = spike_report(demo_db, SEP_22)
    at = open_page("signals", period="2022-09")
    _no_exception(at)
    if report.alerts.empty:
        assert at.success
    nearest = at.dataframe[-1].value
    assert nearest["p_value"].tolist() == pytest.approx(report.tests["p_value"].head(10).tolist())


def test_signals_page_without_history_explains(open_page: OpenPage):
    at = open_page("signals", period="2017-06")
    _no_exception(at)
    assert any("needs 12 months" in i.value for i in at.info)


@pytest.mark.browser
def test_signals_page_in_the_browser_lists_the_alert(server: str, page: Page):
    page.goto(server + "/signals?period=2021-06")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Signals: spike finder")).to_be_visible(timeout=60_000)
    # The grid draws on a canvas; its cells are mirrored in an accessible, hidden table.
    expect(
        main.get_by_role("gridcell", name="Thurrock", exact=True, include_hidden=True).first
    ).to_be_attached(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
