"""Serving the dashboard with `streamlit run` and driving it in Debian's Chromium.

Loaded as a pytest plugin by conftest.py, so `server` (the demo extract), `browser` and `page`
are fixtures everywhere; other data folders are served with `serve_dashboard(root, log_dir)`.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from crimeprev.store import REPOSITORY_ROOT

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RENDER_TIMEOUT_MS = 30_000
# The screen the overview's headline and scorecard must fit without scrolling.
FIRST_SCREEN = {"width": 1280, "height": 720}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_dashboard(root: Path, log_dir: Path) -> Iterator[str]:
    """Serve the dashboard on the data folder `root`; yields its base URL."""
    port = _free_port()
    log = (log_dir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlit",
            "run",
            "app.py",
            "--server.headless",
            "true",
            "--server.port",
            str(port),
            "--server.address",
            "127.0.0.1",
        ],
        cwd=REPOSITORY_ROOT,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(root)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"streamlit run did not start; see {log.name}")
        time.sleep(0.3)
    try:
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)
        log.close()


WARM_UP_TIMEOUT_MS = 180_000


def warm_up(browser: Browser, base: str, path: str = "/") -> None:
    """Open one page and wait for its title, so the first test is not timed on the server's
    first run (imports, caches), which on a busy machine can take most of a minute."""
    context = browser.new_context()
    try:
        opened = context.new_page()
        opened.goto(base + path)
        opened.get_by_test_id("stMain").locator("h1").first.wait_for(timeout=WARM_UP_TIMEOUT_MS)
    finally:
        context.close()


@pytest.fixture(scope="module")
def server(
    demo_root: Path, tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[str]:
    """The dashboard on the demo extract, one server per test module, warmed up."""
    with serve_dashboard(demo_root, tmp_path_factory.mktemp("server")) as base:
        warm_up(browser, base)
        yield base


@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    opened = context.new_page()
    opened.set_default_timeout(RENDER_TIMEOUT_MS)
    yield opened
    context.close()


def first_screen_problems(page: Page) -> list[str]:
    """What of the headline and the scorecard lies outside the first screen, and whether the
    page scrolls sideways."""
    problems = []
    main = page.get_by_test_id("stMain")
    headline = main.locator("li").first
    last_bullet = main.locator("ul").first.locator("li").last
    scorecard = main.locator("table.scorecard")
    expect(scorecard).to_be_visible()
    for name, element in (
        ("first headline bullet", headline),
        ("last headline bullet", last_bullet),
        ("scorecard", scorecard),
    ):
        box = element.bounding_box()
        if box is None:
            problems.append(f"{name} is not drawn")
        elif box["y"] + box["height"] > FIRST_SCREEN["height"] or box["y"] < 0:
            problems.append(f"{name} ends at {box['y'] + box['height']:.0f}px, below 720px")
        elif box["x"] + box["width"] > FIRST_SCREEN["width"]:
            problems.append(f"{name} runs past the right edge")
    widths = page.evaluate(
        "[document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    if widths[0] > widths[1]:
        problems.append(f"the page scrolls sideways ({widths[0]}px wide in {widths[1]}px)")
    return problems
