"""The Compare page in real Chromium: the funnel plot and the map of the 43 police force areas
drawn from the imported boundaries, the force and its peers coloured apart."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from browser_support import RENDER_TIMEOUT_MS, serve_dashboard
from conftest import RAW
from playwright.sync_api import Page, expect

from crimeprev.imports.ons_pfa import import_ons_pfa

pytestmark = pytest.mark.browser

TABLES = RAW / "ons_pfa_tables_ye_dec2024"
WORKBOOK = TABLES / "policeforceareatablesyedecember2024.xlsx"
GEOJSON = TABLES / "Police_Force_Areas.geojson"


@pytest.fixture(scope="module")
def compare_server(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard over the demo records with the ONS tables and boundaries imported."""
    if not (WORKBOOK.is_file() and GEOJSON.is_file()):
        pytest.skip(f"The ONS tables or boundaries are not here ({TABLES} is absent): skipped.")
    root = tmp_path_factory.mktemp("compare") / "data"
    root.mkdir()
    for name in ("records", "delivery", "activity", "commentary"):
        if (demo_root / name).exists():
            (root / name).symlink_to(demo_root / name, target_is_directory=True)
    shutil.copytree(demo_root / "aggregates", root / "aggregates")
    import_ons_pfa(root, WORKBOOK, boundaries=GEOJSON)
    with serve_dashboard(root, tmp_path_factory.mktemp("compare-server")) as base:
        yield base


def test_the_compare_page_draws_the_funnel_and_the_map_of_the_forces(
    compare_server: str, page: Page
) -> None:
    page.goto(compare_server + "/compare?offence=Sexual+offences")
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("Essex: 3.08 per 1,000 residents")).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    shapes = main.locator("[aria-roledescription='geoshape']")
    expect(shapes).to_have_count(43, timeout=RENDER_TIMEOUT_MS)
    fills = {shapes.nth(i).get_attribute("fill") for i in range(43)}
    assert len(fills) == 3  # the force, its peers and the other forces
    boxes = [shapes.nth(i).bounding_box() for i in range(43)]
    assert all(box is not None and box["width"] > 0 for box in boxes)
    funnel = main.locator(".vega-embed").first  # the forces as points around the funnel
    points = funnel.locator("[aria-roledescription='circle']")
    expect(points).to_have_count(42)  # City of London's rate is suppressed, so not drawn
    expect(funnel.locator("[aria-roledescription='line mark']").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
