"""The analysis pages in real Chromium: clicking a bar drills the explorer and the link
reproduces it, the district map draws and filters on a click (tiles, and true shapes from the
shared boundary file), and the SQL page runs and refuses queries."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from browser_support import RENDER_TIMEOUT_MS, serve_dashboard
from builders import view_at
from conftest import RAW
from PIL import Image
from playwright.sync_api import Locator, Page, expect

from crimeprev.figures import explore
from crimeprev.figures.explore import DrillStep, ExploreState

pytestmark = pytest.mark.browser

TOPOJSON = RAW / "martinjc_uk_geojson" / "eng_topo_lad.json"
ESSEX_DISTRICTS = (
    "Basildon",
    "Braintree",
    "Brentwood",
    "Castle Point",
    "Chelmsford",
    "Colchester",
    "Epping Forest",
    "Harlow",
    "Maldon",
    "Rochford",
    "Southend",
    "Tendring",
    "Thurrock",
    "Uttlesford",
)


def _main(page: Page) -> Locator:
    return page.get_by_test_id("stMain")


def _open(page: Page, url: str) -> None:
    """Open a page and wait for its first chart (the first run of a server takes a while)."""
    page.goto(url)
    expect(_main(page).locator(".vega-embed svg").first).to_be_visible(timeout=RENDER_TIMEOUT_MS)


def _no_exception(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def _first_chart(page: Page) -> Locator:
    return _main(page).locator(".vega-embed svg").first


def _first_column(page: Page, last: bool = False) -> Locator:
    """The first (or last) table's first-column cells; the grid draws on a canvas and keeps
    an accessible copy of the cells in the page."""
    tables = _main(page).get_by_test_id("stDataFrame")
    table = tables.last if last else tables.first
    return table.locator("tbody tr td[aria-colindex='1']")


def _table_cell(page: Page, row_label: str, column: int) -> str:
    row = (
        _main(page)
        .get_by_test_id("stDataFrame")
        .first.locator("tbody tr")
        .filter(has=page.locator("td[aria-colindex='1']", has_text=re.compile(f"^{row_label}$")))
    )
    return row.locator(f"td[aria-colindex='{column}']").text_content() or ""


def _bar(page: Page, value: str, period: str = "Current") -> Locator:
    return _first_chart(page).locator(
        f"[aria-roledescription='bar'][aria-label*='dimension_value: {value};']"
        f"[aria-label*='window_label: {period}']"
    )


def _knife_total(db, *drill: DrillStep) -> str:
    """The Total row's current count for knife crime drilled as given, from the core."""
    state = ExploreState(
        measure_ids=("knife-crime",), dimension="crime_type", granularity="year", drill=drill
    )
    pivot = explore.explore(db, view_at(db, date(2022, 9, 1)), state=state).pivot.set_index(
        "dimension_value"
    )
    return f"{int(pivot.loc[explore.TOTAL_LABEL, 'current_count']):,}"


def test_clicking_a_bar_drills_in_and_the_link_reproduces_it(server: str, page: Page, demo_db):
    basildon = DrillStep("district", "Basildon")
    possession = DrillStep("crime_type", "Possession of weapons offences")
    _open(page, server + "/explore?period=2022-09")
    expect(_bar(page, "Basildon")).to_have_count(1)
    expect(_main(page).get_by_text("All records")).to_be_visible()
    _bar(page, "Basildon").click()

    expect(page).to_have_url(re.compile(r"drill=district(%3A|:)Basildon"))
    expect(page).to_have_url(re.compile(r"by=crime_type"))
    # The chart and the table now break Basildon's knife crime down by crime type.
    expect(_bar(page, "Possession of weapons offences")).to_have_count(1)
    expect(_bar(page, "Southend-on-Sea")).to_have_count(0)
    expect(_main(page).get_by_role("button", name="District: Basildon")).to_be_visible()
    expect(
        _main(page).get_by_test_id("stDataFrame").first.locator("td", has_text="Total")
    ).to_have_count(1)
    expect(_first_column(page).filter(has_text="Possession of weapons offences")).to_have_count(1)
    expect(_first_column(page).filter(has_text="Basildon")).to_have_count(0)
    assert _table_cell(page, "Total", 3) == _knife_total(demo_db, basildon)

    # One more click, then the link opened afresh shows the same drill path.
    _bar(page, "Possession of weapons offences").click()
    expect(page).to_have_url(re.compile(r"Possession(\+|%20)of(\+|%20)weapons"))
    expect(
        _main(page).get_by_role("button", name=re.compile("Crime type: Possession"))
    ).to_be_visible()
    shared = page.url
    other = page.context.new_page()
    _open(other, shared)
    expect(
        _main(other).get_by_role("button", name=re.compile("Crime type: Possession"))
    ).to_be_visible()
    expect(_bar(other, "Evidential difficulties")).to_have_count(1)
    assert _table_cell(other, "Total", 3) == _knife_total(demo_db, basildon, possession)
    other.close()

    # The breadcrumb undoes the drill.
    _main(page).get_by_role("button", name="All records").click()
    expect(page).not_to_have_url(re.compile("drill="))
    expect(_bar(page, "Southend-on-Sea")).to_have_count(1)
    _no_exception(page)


def test_the_tile_map_draws_every_district_and_a_click_filters(server: str, page: Page):
    _open(page, server + "/map?period=2022-09")
    chart = _first_chart(page)
    expect(chart.locator("[aria-roledescription='rect mark']")).to_have_count(14)
    texts = " ".join(chart.locator("text").all_text_contents())
    for name in ESSEX_DISTRICTS:
        assert name in texts, name
    chart.locator("text", has_text=re.compile("^Basildon$")).click()
    expect(page).to_have_url(re.compile(r"district=basildon"))
    expect(page.get_by_test_id("stSidebar").get_by_text("Basildon")).to_be_visible()
    expect(_main(page).get_by_text("12 months ending Sep 2022 · Basildon")).to_be_visible()
    expect(_first_column(page)).to_have_text(["Basildon"])
    _no_exception(page)


@pytest.fixture(scope="module")
def boundary_server(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The dashboard over the demo records, with a config naming the shared TopoJSON file."""
    if not TOPOJSON.is_file():
        pytest.skip(f"The shared boundary file is not here ({TOPOJSON} is absent): skipped.")
    root = tmp_path_factory.mktemp("bounded") / "data"
    root.mkdir()
    for name in ("records", "delivery", "activity", "commentary"):
        (root / name).symlink_to(demo_root / name, target_is_directory=True)
    (root / "config").mkdir()
    (root / "config" / "strategy.toml").write_text(
        'extends = "default"\n\n[map]\n'
        f'boundaries = "{TOPOJSON}"\ncode_property = "LAD13CD"\ntopojson_object = "lad"\n'
        'sensitive_strands = ["rape", "child-abuse-cse"]\n'
    )
    with serve_dashboard(root, tmp_path_factory.mktemp("bounded-server")) as base:
        yield base


def _point_inside(page: Page, shape: Locator) -> tuple[float, float]:
    """A point on screen where `shape` itself is the topmost element (a shape's centre can
    fall outside it)."""
    point = shape.evaluate(
        """(el) => {
            const r = el.getBoundingClientRect();
            for (let i = 1; i < 24; i++) for (let j = 1; j < 24; j++) {
                const x = r.left + r.width * i / 24, y = r.top + r.height * j / 24;
                if (document.elementFromPoint(x, y) === el) return [x, y];
            }
            return null;
        }"""
    )
    assert point is not None
    return point[0], point[1]


def test_the_choropleth_draws_the_shapes_and_a_click_filters(boundary_server: str, page: Page):
    _open(page, boundary_server + "/map?period=2022-09")
    chart = _first_chart(page)
    shapes = chart.locator("[aria-roledescription='geoshape']")
    expect(shapes).to_have_count(14)
    expect(_main(page).get_by_text("eng_topo_lad.json (TopoJSON)")).to_be_visible()
    image = Image.open(io.BytesIO(chart.screenshot())).convert("RGB")
    colours = image.getcolors(maxcolors=1_000_000) or []
    assert image.width > 300 and image.height > 300
    assert len(colours) > 50  # filled shapes, not a blank frame
    white = sum(count for count, rgb in colours if min(rgb) > 245)
    assert white < 0.8 * image.width * image.height

    colchester = chart.locator(
        "[aria-roledescription='geoshape'][aria-label*='District: Colchester;']"
    )
    x, y = _point_inside(page, colchester)
    page.mouse.click(x, y)
    expect(page).to_have_url(re.compile(r"district=colchester"))
    expect(_first_column(page)).to_have_text(["Colchester"])
    _no_exception(page)


def test_the_sql_page_runs_a_query_and_refuses_a_hostile_one(server: str, page: Page):
    page.goto(server + "/sql?period=2022-09")
    editor = _main(page).get_by_label("Query")
    expect(editor).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    editor.fill(
        "select district_name, population from districts where is_force_district "
        "order by population desc"
    )
    _main(page).get_by_role("button", name="Run").click()
    expect(_main(page).get_by_text(re.compile(r"^14 rows in"))).to_be_visible(
        timeout=RENDER_TIMEOUT_MS
    )
    expect(page).to_have_url(re.compile(r"q=select"))
    expect(_first_column(page, last=True).first).to_have_text("Colchester")
    with page.expect_download() as download:
        _main(page).get_by_role("button", name="Download CSV").click()
    text = Path(download.value.path()).read_text()
    assert text.splitlines()[:2] == ["district_name,population", "Colchester,194400"]

    editor.fill("select * from read_csv('/etc/passwd')")
    _main(page).get_by_role("button", name="Run").click()
    expect(
        _main(page).get_by_text(re.compile(r"The function read_csv\(\) reads files"))
    ).to_be_visible(timeout=RENDER_TIMEOUT_MS)
    _no_exception(page)
