"""The September 2022 deck opened by another program: LibreOffice Impress turns it into a PDF,
poppler draws each page and lists where every word landed. No slide may be blank, and no text
may spill out of its place: titles stay in the title band, nothing but the footer reaches the
foot of the slide, and nothing leaves the page."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from PIL import Image
from pptx import Presentation

from crimeprev.db import Database
from crimeprev.report.deck import FOOTER_TOP_IN
from crimeprev.report.exports import build_report
from crimeprev.view import View

pytestmark = pytest.mark.slow

TOOLS = ("soffice", "pdftoppm", "pdftotext")
POINTS_PER_INCH = 72
WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)</word>'
)
PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.DOTALL)


@dataclass(frozen=True)
class Word:
    text: str
    x_min: float
    y_min: float
    x_max: float
    y_max: float


@dataclass(frozen=True)
class RenderedPage:
    width: float
    height: float
    words: list[Word]
    image: Path


@pytest.fixture(scope="module")
def office() -> dict[str, str]:
    """The LibreOffice and poppler programs; under CI a missing one fails instead of skipping."""
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        message = (
            f"{', '.join(missing)} not installed: the deck rendering check needs Debian's "
            "libreoffice-impress and poppler-utils; `make office` installs them when run as root."
        )
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " Under CI a skipped check counts as a failure.")
        pytest.skip(message)
    return {tool: str(path) for tool, path in found.items()}


def _unescape(text: str) -> str:
    return text.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">")


@pytest.fixture(scope="module")
def rendered(
    office: dict[str, str], demo_db: Database, tmp_path_factory: pytest.TempPathFactory
) -> tuple[object, list[RenderedPage]]:
    folder = tmp_path_factory.mktemp("office")
    deck_path = folder / "deck.pptx"
    deck_path.write_bytes(build_report(demo_db, View(date(2022, 9, 1)), ".pptx"))
    profile = (folder / "profile").as_uri()
    subprocess.run(
        [
            office["soffice"],
            f"-env:UserInstallation={profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            str(deck_path),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    pdf = folder / "deck.pdf"
    subprocess.run(
        [office["pdftoppm"], "-r", "30", "-png", str(pdf), str(folder / "slide")],
        check=True,
        timeout=300,
    )
    subprocess.run(
        [office["pdftotext"], "-bbox", str(pdf), str(folder / "words.html")],
        check=True,
        timeout=300,
    )
    images = sorted(folder.glob("slide-*.png"))
    pages = []
    for (width, height, body), image in zip(
        PAGE.findall((folder / "words.html").read_text(encoding="utf-8")), images, strict=True
    ):
        words = [
            Word(_unescape(text), float(a), float(b), float(c), float(d))
            for a, b, c, d, text in WORD.findall(body)
        ]
        pages.append(RenderedPage(float(width), float(height), words, image))
    return Presentation(io.BytesIO(deck_path.read_bytes())), pages


def test_every_slide_is_drawn_and_none_is_blank(rendered):
    deck, pages = rendered
    assert len(pages) == len(deck.slides) >= 25
    for number, (slide, page) in enumerate(zip(deck.slides, pages, strict=True), start=1):
        grey = Image.open(page.image).convert("L")
        inked = sum(grey.histogram()[:235]) / (grey.width * grey.height)
        has_chart = any(shape.shape_type == 13 for shape in slide.shapes)
        assert inked > (0.08 if has_chart else 0.015), f"slide {number} looks blank"
        assert len(page.words) >= 10, f"slide {number} holds almost no text"


def test_no_text_leaves_its_place(rendered):
    deck, pages = rendered
    for number, (slide, page) in enumerate(zip(deck.slides, pages, strict=True), start=1):
        assert abs(page.width / page.height - 16 / 9) < 0.01
        for word in page.words:
            assert 0 <= word.x_min and word.x_max <= page.width + 0.5, (number, word)
            assert 0 <= word.y_min and word.y_max <= page.height + 0.5, (number, word)
        if number == 1:
            continue
        footer_top = FOOTER_TOP_IN * POINTS_PER_INCH
        footer_words = {
            word
            for shape in slide.shapes
            if shape.has_text_frame and shape.top >= FOOTER_TOP_IN * 914400 - 1
            for word in shape.text_frame.text.split()
        }
        low = [w.text for w in page.words if w.y_max > footer_top - 2]
        assert set(low) <= footer_words, f"slide {number}: body text runs into the footer {low}"
        title_words = slide.shapes.title.text_frame.text.split()
        in_band = [w.text for w in page.words if w.y_max <= 1.12 * POINTS_PER_INCH]
        for word in title_words:
            assert word in in_band, f"slide {number}: the title spills out of its band"


def test_the_rendered_deck_shows_the_figures(rendered):
    _, pages = rendered
    text = " ".join(w.text for page in pages for w in page.words)
    assert "3,187" in text and "+13.3%" in text and "583" in text


@pytest.mark.screenshots
def test_the_summary_and_a_measure_slide_as_pictures(
    office: dict[str, str], demo_db: Database, tmp_path: Path, screenshots_dir: Path
) -> None:
    """The summary slide and the night-time economy slide, drawn by LibreOffice, as PNG files
    a reviewer opens: `deck-summary.png` and `deck-measure.png`."""
    deck_path = tmp_path / "deck.pptx"
    deck_path.write_bytes(build_report(demo_db, View(date(2022, 9, 1)), ".pptx"))
    deck = Presentation(io.BytesIO(deck_path.read_bytes()))
    names = [slide.name for slide in deck.slides]
    subprocess.run(
        [
            office["soffice"],
            f"-env:UserInstallation={(tmp_path / 'profile').as_uri()}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(deck_path),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    written = []
    for name, picture in (
        ("summary", "deck-summary"),
        ("measure:night-time-economy", "deck-measure"),
    ):
        number = names.index(name) + 1
        stem = screenshots_dir / picture
        subprocess.run(
            [
                office["pdftoppm"],
                "-r",
                "110",
                "-png",
                "-singlefile",
                "-f",
                str(number),
                "-l",
                str(number),
                str(tmp_path / "deck.pdf"),
                str(stem),
            ],
            check=True,
            timeout=300,
        )
        written.append(stem.with_suffix(".png"))
    for path in written:
        image = Image.open(path)
        assert image.width >= 1400 and abs(image.width / image.height - 16 / 9) < 0.01
        grey = image.convert("L")
        assert sum(grey.histogram()[:235]) / (grey.width * grey.height) > 0.02, path
