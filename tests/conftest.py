"""Fixtures shared across test modules: the demo extract, the reference figures, the browser."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from crimeprev.aggregate import open_database
from crimeprev.db import Database
from crimeprev.demo.generator import generate_demo
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT

SHARED = REPOSITORY_ROOT.parent / "shared"
REFERENCE = SHARED / "reference"
RAW = SHARED / "data" / "raw"
CHROMIUM = Path("/usr/bin/chromium")

# The browser fixtures (`server`, `browser`, `page`) and `serve_dashboard` live in
# browser_support; the PostgreSQL server (`postgres_server`, `store_url`) in postgres_support;
# the four data folders the cross-surface tests run over in folders.
pytest_plugins = ["browser_support", "postgres_support", "folders"]


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "cross_surface: the same figure checked on every surface over four data folders "
        "(a few minutes; `-m 'not cross_surface'` leaves it out while working)",
    )


@pytest.fixture(scope="session")
def demo_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data folder holding the demo extract, written once per test session."""
    root = tmp_path_factory.mktemp("demo-data")
    generate_demo(root)
    return root


@pytest.fixture
def damaged_root(demo_root: Path, tmp_path: Path) -> Path:
    """A copy of the demo extract whose September 2022 file has been cut short."""
    damaged = tmp_path / "damaged"
    shutil.copytree(demo_root, damaged)
    part = damaged / "records" / "month=2022-09" / "part-0.parquet"
    part.write_bytes(part.read_bytes()[:500])
    return damaged


@pytest.fixture(scope="session")
def demo_db(demo_root: Path) -> Database:
    return open_database(demo_root)


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The published report's figures, which live outside this repository."""
    if not (REFERENCE / "published-figures.csv").is_file():
        pytest.skip(f"The reference figures are not here ({REFERENCE} is absent): skipped.")
    return REFERENCE


@pytest.fixture(scope="session")
def chromium() -> Path:
    """Debian's Chromium; under CI a missing browser fails the test instead of skipping it."""
    if CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    found = shutil.which("chromium")
    if found:
        return Path(found)
    message = (
        "Chromium is not installed (/usr/bin/chromium): the browser tests need Debian's "
        "chromium package; `make test` installs it when run as root."
    )
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " Under CI a skipped browser test counts as a failure.")
    pytest.skip(message)


APP = str(REPOSITORY_ROOT / "app.py")


def render_app(
    monkeypatch: pytest.MonkeyPatch, root: Path, page: str | None = None, **params: str
) -> AppTest:
    """Run the dashboard over the data folder `root` through AppTest: the default page with
    the given URL parameters, or (with `page`, e.g. "pages/strand.py") that page with them."""
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(root))
    at = AppTest.from_file(APP, default_timeout=120)
    if page is None:
        at.query_params.update(params)
        return at.run()
    at.run()
    at.switch_page(page)
    at.query_params.clear()
    at.query_params.update(params)
    return at.run()


@pytest.fixture
def screenshots_dir(tmp_path: Path) -> Path:
    """Where a screenshot test writes its PNG files: `screenshots/` under `make screenshots`,
    otherwise a temporary folder (the test still checks what it wrote)."""
    chosen = os.environ.get("CRIMEPREV_SCREENSHOTS_DIR")
    if chosen:
        folder = Path(chosen)
        folder.mkdir(parents=True, exist_ok=True)
        return folder
    return tmp_path
