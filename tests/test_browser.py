"""The dashboard in real Chromium, served by `streamlit run`: what only a browser shows."""

from __future__ import annotations

import re
from datetime import date

import pytest
from browser_support import RENDER_TIMEOUT_MS, WARM_UP_TIMEOUT_MS, serve_dashboard
from builders import view_at
from playwright.sync_api import Browser, Page, expect

from crimeprev.figures import insight

pytestmark = pytest.mark.browser


def _main(page: Page):
    return page.get_by_test_id("stMain")


def _baseline_current_cell(page: Page, count: int):
    return _main(page).get_by_role("cell", name=f"{count:,}", exact=True)


def _expect_no_error(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


@pytest.mark.parametrize(
    ("path", "heading"),
    [
        ("/", "Crime Prevention Strategy"),
        ("/strand?strand=knife-crime", "Knife crime"),
        ("/strand?strand=county-lines", "County lines and exploitation"),
        ("/delivery", "Delivery plan"),
    ],
)
def test_every_page_opens_with_its_data(server: str, page: Page, path: str, heading: str):
    page.goto(server + path)
    expect(_main(page).get_by_role("heading", name=heading, exact=True)).to_be_visible()
    expect(page.get_by_test_id("stSidebar").get_by_text("Data to September 2022")).to_be_visible()
    _expect_no_error(page)


def test_the_monthly_chart_is_drawn(server: str, page: Page):
    page.goto(server + "/strand?strand=rape&period=2022-09")
    chart = _main(page).locator(".vega-embed canvas, .vega-embed svg").first
    expect(chart).to_be_visible()
    box = chart.bounding_box()
    assert box is not None and box["width"] > 300 and box["height"] > 100


def test_changing_the_district_changes_the_figures_and_a_copied_url_reproduces_the_view(
    server: str, page: Page, browser: Browser, demo_db
):
    period = date(2022, 9, 1)
    force_wide = insight.insight_table(demo_db, view_at(demo_db, period), strand_id="knife-crime")
    colchester = insight.insight_table(
        demo_db, view_at(demo_db, period, ["E07000071"]), strand_id="knife-crime"
    )
    force_count = int(force_wide["current_count"].iloc[0])
    colchester_count = int(colchester["current_count"].iloc[0])
    assert force_count == 3187 and colchester_count != force_count

    page.goto(server + "/strand?strand=knife-crime&period=2022-09")
    expect(_baseline_current_cell(page, force_count).first).to_be_visible()

    districts = (
        page.get_by_test_id("stSidebar")
        .get_by_test_id("stMultiSelect")
        .filter(has_text="Districts")
    )
    districts.locator("input").click()
    page.keyboard.type("Colchester")
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")

    expect(page).to_have_url(re.compile(r"district=colchester"))
    expect(_baseline_current_cell(page, colchester_count).first).to_be_visible()
    expect(_baseline_current_cell(page, force_count)).to_have_count(0)
    _expect_no_error(page)

    copied = page.url
    colleague = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    colleague.set_default_timeout(RENDER_TIMEOUT_MS)
    colleague.goto(copied)
    expect(_main(colleague).get_by_role("heading", name="Knife crime", exact=True)).to_be_visible()
    expect(_baseline_current_cell(colleague, colchester_count).first).to_be_visible()
    expect(_baseline_current_cell(colleague, force_count)).to_have_count(0)
    expect(colleague.get_by_test_id("stSidebar").get_by_text("Colchester")).to_be_visible()
    colleague.context.close()


def test_moving_between_pages_keeps_the_filters(server: str, page: Page):
    page.goto(server + "/strand?strand=rape&period=2021-03&district=tendring")
    expect(_main(page).get_by_role("heading", name="Rape", exact=True)).to_be_visible()
    page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").get_by_text(
        "Delivery plan"
    ).click()
    expect(_main(page).get_by_role("heading", name="Delivery plan", exact=True)).to_be_visible()
    expect(page).to_have_url(re.compile(r"period=2021-03"))
    expect(page).to_have_url(re.compile(r"district=tendring"))
    page.get_by_test_id("stSidebar").get_by_test_id("stPageLink").get_by_text("Overview").click()
    expect(page).to_have_url(
        re.compile(r"period=2021-03.*district=tendring|district=tendring.*period=2021-03")
    )
    expect(page.get_by_test_id("stSidebar").get_by_text("Tendring")).to_be_visible()


def test_a_bad_link_explains_itself_and_falls_back(server: str, page: Page):
    page.goto(server + "/strand?strand=knife-crime&period=2022-13&district=atlantis")
    expect(_main(page).get_by_text("Unknown district 'atlantis'")).to_be_visible()
    expect(_main(page).get_by_text("01 to 12")).to_be_visible()
    expect(_main(page).get_by_role("heading", name="Knife crime", exact=True)).to_be_visible()
    _expect_no_error(page)


def test_a_fresh_server_shows_the_menu_not_file_names(
    demo_root, tmp_path_factory: pytest.TempPathFactory, browser: Browser
):
    """The very first visitor of a new server, arriving by a deep link, sees the sections and
    page titles, never Streamlit's listing of the files in pages/ ("app", "data", ...)."""
    with serve_dashboard(demo_root, tmp_path_factory.mktemp("fresh")) as base:
        context = browser.new_context(viewport={"width": 1280, "height": 720})
        try:
            first = context.new_page()
            first.goto(base + "/explore")
            sidebar = first.get_by_test_id("stSidebar")
            expect(sidebar.get_by_text("Analysis", exact=True)).to_be_visible(
                timeout=WARM_UP_TIMEOUT_MS
            )
            links = sidebar.get_by_test_id("stPageLink")
            expect(links.first).to_be_visible()
            names = [text.strip() for text in links.all_inner_texts()]
            assert "District map" in " ".join(names)
            assert not any(re.search(r"\bapp\b", name) for name in names), names
            expect(_main(first).locator("h1").first).to_have_text("Explore")
        finally:
            context.close()
