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
from crimeprev.figures.signals import spike_report
from crimeprev.figures.variation import measure_spc, variation_by_measure
from crimeprev.present.narrative import overview_narrative
from crimeprev.statistics.change import BEYOND_NORMAL, WITHIN_NORMAL
from crimeprev.statistics.spc import table_variation
from crimeprev.store import REPOSITORY_ROOT

SEP_22 = date(2022, 9, 1)
MALDON, COLCHESTER = "E07000074", "E07000071"
APP = str(REPOSITORY_ROOT / "app.py")
PAGE_FILES = {"strand": "pages/strand.py", "signals": "pages/signals.py", "data": "pages/data.py"}

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


def test_overview_says_which_changes_are_beyond_normal_variation(open_page: OpenPage, demo_db):
    at = open_page("overview")
    rows = at.dataframe[0].value.dropna(subset=["measure_id"]).set_index("measure_id")
    insight = insight_table(demo_db, view_at(demo_db, SEP_22)).set_index(["measure", "comparison"])
    for measure_id in rows.index:
        year = insight.loc[(measure_id, "previous_year")]
        assert rows.loc[measure_id, "significance_previous_year"] == significance_label(year)
    assert rows.loc["knife-crime", "significance_previous_year"] == "beyond normal variation ↑"
    assert rows.loc["drug-trafficking", "significance_previous_year"] == WITHIN_NORMAL
    # Fraud's +7.5% is within its usual month-to-month variation.
    assert rows.loc["fraud", "significance_previous_year"] == WITHIN_NORMAL


def test_overview_narrative_is_shown_and_names_only_tested_changes(open_page: OpenPage, demo_db):
    at = open_page("overview")
    shown = _markdown(at)
    paragraphs = overview_narrative(demo_db, view_at(demo_db, SEP_22))
    for paragraph in paragraphs:
        assert paragraph in shown
    year = paragraphs[0]
    assert "Night-time economy crime +61.7% (1,806 to 2,921; a concern)" in year
    increases, _, rest = year.partition(f"A decrease {BEYOND_NORMAL}")
    assert "Trafficking of drugs" not in increases.split(f"Increases {BEYOND_NORMAL}")[1]
    assert "Within normal variation: " in rest and "Trafficking of drugs -0.9%" in rest
    assert "Mental health incidents +1.0%" in rest and "Fraud +7.5%" in rest
    assert "significant" not in " ".join(paragraphs)


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
    assert any(
        c.startswith(
            "Beyond normal month-to-month variation: an increase (p = 0.006, quasi-Poisson model "
            "of the monthly counts): 1.13 times"
        )
        for c in captions
    )


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
    at = open_page("strand", strand="knife-crime", period="2022-09", spc="on", rebase="2020-10")
    _no_exception(at)
    assert at.multiselect(key="url_rebase").value == ["2020-10"]
    data = next(d.value for d in at.dataframe if "upper_limit" in d.value.columns)
    before = data[pd.to_datetime(data["month_start"]) < "2020-10-01"]["mean"].unique()
    after = data[pd.to_datetime(data["month_start"]) >= "2020-10-01"]["mean"].unique()
    expected = measure_spc(
        demo_db,
        view_at(demo_db, SEP_22),
        measure_id="knife-crime",
        months=36,
        rebase_months=(date(2020, 10, 1),),
    )
    assert len(before) == 1 and len(after) == 1 and before[0] != after[0]
    assert after[0] == pytest.approx(expected["mean"].iloc[-1])


def test_a_baseline_under_twelve_months_gets_a_sentence(open_page: OpenPage):
    at = open_page("strand", strand="rape", period="2022-09", spc="on")
    at.number_input[0].set_value(6).run()
    _no_exception(at)
    assert any("A baseline needs at least 12 months; 6 is too few." in w.value for w in at.warning)


def test_a_rebase_leaving_too_few_months_gets_a_sentence(open_page: OpenPage):
    at = open_page("strand", strand="rape", period="2022-09", spc="on", rebase="2020-03")
    _no_exception(at)
    assert any("rebase months at least 12 months apart" in w.value for w in at.warning)


def test_the_spc_help_says_how_limits_are_drawn(open_page: OpenPage):
    at = open_page("strand", strand="rape", period="2022-09")
    help_text = at.toggle(key="spc_view").help
    assert "unscreened, as the Making Data Count tool" in help_text
    assert "12 months" in help_text


def test_signals_page_lists_the_alerts_of_the_month(open_page: OpenPage, demo_db):
    at = open_page("signals", period="2022-09")
    _no_exception(at)
    report = spike_report(demo_db, SEP_22)
    assert any(report.threshold_text() == c.value for c in at.caption)
    alerts = at.dataframe[0].value
    assert alerts[["measure_id", "district_name"]].values.tolist() == (
        report.alerts[["measure_id", "district_name"]].values.tolist()
    )
    assert ("dwelling-burglary", "Maldon") in set(
        zip(alerts["measure_id"], alerts["district_name"], strict=True)
    )
    assert alerts["strand_link"].str.contains("district=").all()


def test_signals_under_a_district_filter_tests_that_district_and_says_so(
    open_page: OpenPage, demo_db
):
    at = open_page("signals", period="2022-09", district="colchester")
    _no_exception(at)
    measures = len(demo_db.config.measures)
    captions = [c.value for c in at.caption]
    assert any(c.startswith(f"{measures} measure-district counts tested") for c in captions)
    assert not any("196" in c for c in captions)
    nearest = at.dataframe[-1].value
    # Only counts above their expected level are listed, and read as concern or good news.
    assert (nearest["excess_count"] > 0).all()
    assert set(nearest["reading"]) <= {"concern", "good news"}
    assert set(nearest["district_name"]) <= {"Colchester"}


def test_the_data_page_states_the_methods_and_their_limits(open_page: OpenPage):
    at = open_page("data")
    _no_exception(at)
    text = " ".join(_markdown(at))
    assert f"**{BEYOND_NORMAL}**" in text and f"**{WITHIN_NORMAL}**" in text
    assert "quasi-Poisson" in text and "fewer than 20 records an exact test" in text
    assert "negative binomial" in text and "Bonferroni" in text
    assert "unscreened, as the Making Data Count tool" in text
    assert "Limits:" in text


def test_signals_page_without_history_explains(open_page: OpenPage):
    at = open_page("signals", period="2017-06")
    _no_exception(at)
    assert any("needs 12 months" in i.value for i in at.info)


@pytest.mark.browser
def test_signals_page_in_the_browser_lists_the_alert(server: str, page: Page):
    page.goto(server + "/signals?period=2022-09")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="Signals: spike finder")).to_be_visible(timeout=60_000)
    # The grid draws on a canvas; its cells are mirrored in an accessible, hidden table.
    expect(
        main.get_by_role("gridcell", name="Maldon", exact=True, include_hidden=True).first
    ).to_be_attached(timeout=60_000)
    expect(page.get_by_test_id("stException")).to_have_count(0)
