"""The deck at any scale: a report over many forces still saves, and charts drawn in painter
processes are the pictures vl-convert draws in this process."""

from __future__ import annotations

import io
import os
from dataclasses import replace
from datetime import date

import pytest
import vl_convert as vlc
from PIL import Image
from pptx import Presentation

from crimeprev.db import Database
from crimeprev.report import render
from crimeprev.report.content import collect
from crimeprev.report.deck import build_deck
from crimeprev.view import View

SEP_22 = date(2022, 9, 1)
# The forces of England and Wales a national extract names, as the 50-million-record demo does.
FORCES = [
    f"{name} Police"
    for name in (
        "Avon and Somerset Constabulary Avon",
        "Bedfordshire",
        "Cambridgeshire Constabulary",
        "Cheshire Constabulary",
        "City of London",
        "Cleveland",
        "Cumbria Constabulary",
        "Derbyshire",
        "Devon and Cornwall",
        "Dorset",
        "Durham Constabulary",
        "Dyfed-Powys",
        "Essex",
        "Gloucestershire Constabulary",
        "Greater Manchester",
        "Gwent",
        "Hampshire and Isle of Wight Constabulary",
        "Hertfordshire Constabulary",
        "Humberside",
        "Kent",
        "Lancashire Constabulary",
        "Leicestershire",
        "Lincolnshire",
    )
]


@pytest.fixture(scope="module")
def content(demo_db: Database):
    return collect(demo_db, View(SEP_22))


def test_a_deck_over_23_forces_saves_and_names_them_all_on_its_title_slide(content):
    many = replace(content, forces=FORCES)
    deck = Presentation(io.BytesIO(build_deck(many)))
    subject = deck.core_properties.subject
    assert len(subject) <= 255 and subject.endswith("…")
    assert subject.startswith("Period: ")
    assert len(deck.core_properties.author) <= 255
    title_text = " ".join(
        shape.text_frame.text for shape in deck.slides[0].shapes if shape.has_text_frame
    )
    assert FORCES[-1] in title_text and FORCES[0] in title_text


def test_a_deck_for_one_force_keeps_its_subject_whole(content):
    deck = Presentation(io.BytesIO(build_deck(replace(content, forces=["Essex Police"]))))
    subject = deck.core_properties.subject
    assert "Essex Police" in subject and not subject.endswith("…")


def test_charts_drawn_by_painters_are_those_drawn_here(content):
    charts = [m.chart for s in content.strands for m in s.measures if m.has_counts][:4]
    render.clear_cache()
    drawn = render.slide_pngs(charts)
    if (os.cpu_count() or 1) >= 2:
        assert render.PAINTERS._idle, "the charts were not drawn in painter processes"
    for chart, png in zip(charts, drawn, strict=True):
        here = vlc.vegalite_to_png(render.slide_spec(chart), scale=render.PNG_SCALE)
        ours, theirs = Image.open(io.BytesIO(png)), Image.open(io.BytesIO(here))
        assert ours.size == theirs.size
        assert ours.convert("RGB").tobytes() == theirs.convert("RGB").tobytes()
    assert render.slide_pngs(charts)[0] is drawn[0]  # the second deck reuses the pictures
