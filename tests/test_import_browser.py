"""The twelve real data.police.uk months in the dashboard, in Chromium: districts, the two
missing months marked, proxies and unmeasured strands said plainly."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import serve_dashboard, warm_up
from playwright.sync_api import Page, expect
from test_import_police_uk import FOLDERS, LOOKUP, RAW, _raw_files

from crimeprev.imports.police_uk import import_police_uk

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def police_uk_server(tmp_path_factory: pytest.TempPathFactory, browser) -> Iterator[str]:
    _raw_files()
    root = tmp_path_factory.mktemp("police-uk-served")
    import_police_uk(root, [RAW / f for f in FOLDERS], lsoa_lookup=LOOKUP)
    with serve_dashboard(root, tmp_path_factory.mktemp("police-uk-log")) as base:
        warm_up(browser, base, "/data")
        yield base


def _main(page: Page):
    return page.get_by_test_id("stMain")


def test_the_data_page_marks_the_missing_months(police_uk_server: str, page: Page):
    page.goto(police_uk_server + "/data")
    main = _main(page)
    expect(main.get_by_text("no records for August 2018 and September 2018")).to_be_visible()
    # A dataframe draws on a canvas; its cells are in the page for screen readers.
    expect(main.get_by_text("2018-01 to 2018-07, 2018-10 to 2019-02").first).to_be_attached()
    expect(main.locator(".vega-embed").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_strand_page_shows_the_gap_and_the_proxy(police_uk_server: str, page: Page):
    page.goto(police_uk_server + "/strand?strand=burglary-robbery&period=2019-02")
    main = _main(page)
    expect(main.get_by_role("heading", name="Burglary", exact=True)).to_be_visible()
    expect(main.get_by_text("Proxy measure: Stands in for dwelling burglary").first).to_be_visible()
    expect(main.get_by_text("incomplete").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_an_unmeasured_strand_says_so(police_uk_server: str, page: Page):
    page.goto(police_uk_server + "/strand?strand=hate-crime&period=2019-02")
    expect(_main(page).get_by_text("This data cannot measure this strand")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_district_filter_shows_one_district(police_uk_server: str, page: Page):
    page.goto(police_uk_server + "/strand?strand=knife-crime&period=2019-02&district=harlow")
    expect(_main(page).get_by_text("Harlow").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_the_delivery_tracker_template_downloads_and_opens(
    police_uk_server: str, page: Page, tmp_path: Path
):
    import openpyxl

    page.goto(police_uk_server + "/data")
    button = _main(page).get_by_role("button", name="Template (XLSX)")
    with page.expect_download() as download:
        button.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "delivery-tracker-template.xlsx"
    header = [c.value for c in next(openpyxl.load_workbook(saved).worksheets[0].iter_rows())]
    assert {"action_id", "strand_id", "quarter_end", "status"} <= set(header)
