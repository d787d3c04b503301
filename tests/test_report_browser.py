"""Downloads in real Chromium: each report format from the Report page, and a chart's PNG and
SVG from where the chart is shown; a deck being built does not hold up another user."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from PIL import Image
from playwright.sync_api import Browser, Page, expect
from pptx import Presentation

pytestmark = pytest.mark.browser

BUILD_TIMEOUT_MS = 180_000
# The first page a fresh server renders opens the data and imports the export libraries.
FIRST_RENDER_TIMEOUT_MS = 120_000
BUILD_LABELS = {
    ".pptx": "Build the slide deck",
    ".xlsx": "Build the workbook",
    ".html": "Build the HTML report",
}


def _main(page: Page):
    return page.get_by_test_id("stMain")


def _download_button(page: Page, name: str):
    return _main(page).get_by_test_id("stDownloadButton").filter(has_text=name)


def _download(page: Page, button, folder: Path) -> Path:
    with page.expect_download() as arrival:
        button.click()
    download = arrival.value
    path = folder / download.suggested_filename
    download.save_as(path)
    return path


def _check_file(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".pptx":
        slides = list(Presentation(io.BytesIO(data)).slides)
        assert slides[0].shapes.title.text_frame.text == "Crime Prevention Strategy"
        # the slides are named for what they show; the titles state the findings
        assert [s.name for s in slides][-4:] == [
            "measure:knife-crime",
            "strand:knife-crime",
            "group:Vulnerabilities",
            "strand:places",
        ]
    elif path.suffix == ".xlsx":
        sheet = load_workbook(io.BytesIO(data))["Insight"]
        header = [c.value for c in sheet[1]]
        first = dict(zip(header, [c.value for c in sheet[2]], strict=True))
        assert first["measure_id"] == "knife-crime" and first["current_count"] == 3187
    else:
        text = data.decode("utf-8")
        assert text.startswith("<!doctype html>") and 'data-measure="knife-crime"' in text
        assert "3,187" in text


def test_each_report_format_is_built_and_downloaded(server: str, page: Page, tmp_path: Path):
    page.goto(server + "/report?period=2022-09&strands=knife-crime,places")
    expect(_main(page).get_by_role("heading", name="Report", exact=True)).to_be_visible(
        timeout=FIRST_RENDER_TIMEOUT_MS
    )
    for suffix, label in BUILD_LABELS.items():
        _main(page).get_by_test_id("stButton").filter(has_text=label).click()
        name = f"crime-prevention-2022-09{suffix}"
        button = _download_button(page, name)
        expect(button).to_be_visible(timeout=BUILD_TIMEOUT_MS)
        path = _download(page, button, tmp_path)
        assert path.name == name
        _check_file(path)
    # every built file is still offered: downloading reran nothing that would drop them
    for suffix in BUILD_LABELS:
        expect(_download_button(page, f"crime-prevention-2022-09{suffix}")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_chart_downloads_as_png_and_svg_where_it_is_shown(
    server: str, page: Page, tmp_path: Path, demo_root: Path
):
    page.goto(server + "/strand?strand=knife-crime&period=2022-09")
    expect(_main(page).get_by_role("heading", name="Knife crime", exact=True)).to_be_visible(
        timeout=FIRST_RENDER_TIMEOUT_MS
    )
    expander = _main(page).get_by_test_id("stExpander").first
    expander.get_by_text("Data behind this chart").click()
    png = _download(page, expander.get_by_test_id("stDownloadButton").nth(1), tmp_path)
    svg = _download(page, expander.get_by_test_id("stDownloadButton").nth(2), tmp_path)
    csv = _download(page, expander.get_by_test_id("stDownloadButton").nth(0), tmp_path)
    assert png.name == "knife-crime-monthly-2022-09.png"
    width_px, height_px = Image.open(png).size
    assert width_px > 1000 and height_px > 400
    assert svg.name == "knife-crime-monthly-2022-09.svg"
    assert svg.read_text(encoding="utf-8").startswith("<svg")
    assert csv.read_text(encoding="utf-8").startswith("month_start,count_records")
    trail = [
        json.loads(line)
        for line in (demo_root / "audit" / "trail.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    downloaded = {e["detail"]["file"] for e in trail if e["action"] == "download"}
    assert {png.name, svg.name, csv.name} <= downloaded


def test_building_a_deck_does_not_hold_up_another_user(server: str, page: Page, browser: Browser):
    page.goto(server + "/report?period=2022-09")
    expect(_main(page).get_by_role("heading", name="Report", exact=True)).to_be_visible(
        timeout=FIRST_RENDER_TIMEOUT_MS
    )
    _main(page).get_by_test_id("stButton").filter(has_text=BUILD_LABELS[".pptx"]).click()
    expect(_main(page).get_by_test_id("stProgress")).to_be_visible()
    other = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    other.goto(server + "/strand?strand=rape&period=2022-09")
    expect(_main(other).get_by_role("heading", name="Rape", exact=True)).to_be_visible(
        timeout=60_000
    )
    # the other user's page was served while the deck was still being built
    deck = _download_button(page, "crime-prevention-2022-09.pptx")
    assert not deck.is_visible()
    expect(deck).to_be_visible(timeout=BUILD_TIMEOUT_MS)
    other.context.close()
