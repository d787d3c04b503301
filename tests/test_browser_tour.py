"""Every page in real Chromium on each of the four data folders (the demo, the demo with two
months taken out, the real data.police.uk import, the scaled demo with several forces): each
opens with its title, shows no exception box and prints no `nan`.

One server per folder, started once: the tests are grouped by folder (a module-scoped fixture
parametrised over the folders), and every page of a folder is visited on the same server.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import FIRST_SCREEN, first_screen_problems, serve_dashboard, warm_up
from folders import FIXTURE_OF, FOLDER_NAMES
from playwright.sync_api import Browser, Page, expect

from crimeprev.store import REPOSITORY_ROOT

pytestmark = pytest.mark.browser

# Every page app.py navigates to, by url path, read from app.py so that a new page joins the
# tour; the title a page opens under is checked where it is fixed.
PAGES = re.findall(r'url_path="([\w-]+)"', (REPOSITORY_ROOT / "app.py").read_text())
TITLES = {
    "overview": "Crime Prevention Strategy",
    "delivery": "Delivery plan",
    "signals": "Signals: spike finder",
    "explore": "Explore",
    "map": "District map",
}
NAN = re.compile(r"\bnan\b", re.IGNORECASE)
PAGE_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module", params=FOLDER_NAMES)
def folder_server(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    browser: Browser,
) -> Iterator[str]:
    root: Path = request.getfixturevalue(FIXTURE_OF[request.param])
    with serve_dashboard(root, tmp_path_factory.mktemp(f"tour-{request.param}")) as base:
        warm_up(browser, base)
        yield base


def _settled(page: Page) -> None:
    """Wait for the page's title, then for the script run to finish."""
    main = page.get_by_test_id("stMain")
    main.locator("h1").first.wait_for(timeout=PAGE_TIMEOUT_MS)
    expect(page.get_by_test_id("stStatusWidget")).to_have_count(0, timeout=PAGE_TIMEOUT_MS)


@pytest.mark.parametrize("path", PAGES)
def test_every_page_opens_without_an_error_or_nan(
    folder_server: str, page: Page, path: str
) -> None:
    page.goto(f"{folder_server}/{path}")
    _settled(page)
    main = page.get_by_test_id("stMain")
    title = TITLES.get(path)
    if title is not None:
        expect(main.locator("h1").first).to_have_text(re.compile(re.escape(title)))
    exceptions = page.get_by_test_id("stException")
    assert exceptions.count() == 0, exceptions.first.inner_text()[:500]
    text = main.inner_text() + page.get_by_test_id("stSidebar").inner_text()
    printed = [line for line in text.splitlines() if NAN.search(line)]
    assert not printed, f"'nan' printed on /{path}: {printed[:3]}"


def test_the_overview_headline_and_scorecard_fit_the_first_screen(
    folder_server: str, browser: Browser
) -> None:
    context = browser.new_context(viewport=FIRST_SCREEN)
    try:
        page = context.new_page()
        page.goto(f"{folder_server}/")
        _settled(page)
        assert first_screen_problems(page) == []
    finally:
        context.close()
