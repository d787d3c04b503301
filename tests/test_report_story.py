"""The report as the analyst presents it and the reader files it: a deck whose titles state the
findings, a workbook pandas reads at once, an HTML report that prints with its marking and page
numbers, and, for a viewer, "fewer than 10" wherever a small sensitive count would have been.

Expected figures come from `crimeprev insight --format json` and from the record files counted
by `truth.Truth`, never from the report's own content.
"""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import unicodedata
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import lxml.html
import pandas as pd
import pyarrow as pa
import pytest
from builders import DISTRICTS, FORCE, build_tiny, covered_months
from folders import FOLDER_NAMES
from pptx import Presentation
from pptx.util import Pt
from truth import Truth, window_months

from crimeprev.aggregate import open_database
from crimeprev.cli.main import main
from crimeprev.config import config_for, load_config
from crimeprev.db import Database
from crimeprev.periods import months_between
from crimeprev.report import render
from crimeprev.report.content import collect
from crimeprev.report.exports import build_report
from crimeprev.store import RECORD_SCHEMA, write_month
from crimeprev.view import View

SEP_22 = date(2022, 9, 1)
CONFIG = load_config()
EMU_PER_PT = 12700
MEETING = [
    "--agenda-item",
    "7",
    "--meeting-date",
    "2022-10-14",
    "--author",
    "A. Analyst",
    "--approver",
    "B. Head",
    "--paper-version",
    "1.2",
]
# Shapes every slide carries at the edges, in small type by design.
EDGE_SHAPES = {"Footer", "Slide number", "Protective marking", "Note"}


def _run(*args: str) -> None:
    assert main(list(args)) == 0


def _write(root: Path, suffix: str, *extra: str) -> bytes:
    out = root.parent / f"{root.name}-report{suffix}"
    _run("--data-dir", str(root), "report", "--period", "2022-09", "--out", str(out), *extra)
    return out.read_bytes()


@pytest.fixture(scope="module")
def deck_bytes(demo_root: Path) -> bytes:
    return _write(demo_root, ".pptx", *MEETING)


@pytest.fixture(scope="module")
def deck(deck_bytes: bytes):
    return Presentation(io.BytesIO(deck_bytes))


@pytest.fixture(scope="module")
def figures(demo_root: Path) -> dict[tuple[str, str], Any]:
    """The CLI's insight figures, read without the report."""
    import contextlib

    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        _run("--data-dir", str(demo_root), "insight", "--period", "2022-09", "--format", "json")
    return {(r["measure"], r["comparison"]): r for r in json.loads(buffer.getvalue())}


def _texts(slide) -> list[tuple[str, str]]:
    """(shape name, paragraph) for every paragraph of every text shape and table cell."""
    found = []
    for shape in slide.shapes:
        if shape.has_text_frame:
            found += [(shape.name, p.text) for p in shape.text_frame.paragraphs if p.text]
        if shape.has_table:
            found += [("Table", c.text) for r in shape.table.rows for c in r.cells if c.text]
    return found


def _runs(shape):
    frames = [shape.text_frame] if shape.has_text_frame else []
    if shape.has_table:
        frames += [c.text_frame for r in shape.table.rows for c in r.cells]
    return [run for frame in frames for p in frame.paragraphs for run in p.runs if run.text]


def test_titles_state_findings_and_never_double_a_name(deck, figures):
    titles = [slide.shapes.title.text_frame.text for slide in deck.slides]
    assert len(titles) == len(set(titles)), "two slides share a title"
    for title in titles:
        head, _, rest = title.partition(": ")
        assert head != rest, title  # never "Hate crime: Hate crime"
    for slide in deck.slides:
        kind, _, measure_id = slide.name.partition(":")
        if kind != "measure":
            continue
        year = figures[(measure_id, "previous_year")]
        words = "up" if year["pct_change"] > 0 else "down"
        title = slide.shapes.title.text_frame.text
        assert f"{words} {abs(year['pct_change']):.1f}% on the year before" in title
        # The caption says the same test's verdict and carries the SPC signal.
        caption = next(s for s in slide.shapes if s.name == "Caption").text_frame.text
        verdict = "Beyond normal variation" if year["significant"] else "Within normal variation"
        assert verdict in caption and "SPC: " in caption, caption


def test_the_summary_is_five_bullets_at_most_at_24_pt_exceptions_first(deck, figures):
    slide = next(s for s in deck.slides if s.name == "summary")
    assert list(deck.slides).index(slide) == 1
    body = next(s for s in slide.shapes if s.name == "Summary")
    bullets = [p for p in body.text_frame.paragraphs if p.text]
    assert 1 <= len(bullets) <= 5
    assert all(run.font.size >= Pt(24) for p in bullets for run in p.runs)
    text = body.text_frame.text
    # Every measure whose change the CLI calls beyond normal variation is named on it.
    beyond = [
        CONFIG.measure(m).name
        for (m, comparison), row in figures.items()
        if comparison == "previous_year" and row["significant"]
    ]
    assert beyond and all(name in text for name in beyond), (beyond, text)
    # The largest significant rise that is bad news comes first.
    worst = max(
        (
            row
            for (m, c), row in figures.items()
            if c == "previous_year"
            and row["significant"]
            and (row["pct_change"] > 0) == (CONFIG.measure(m).improvement == "down")
        ),
        key=lambda row: abs(row["pct_change"]),
    )
    assert bullets[0].text.lstrip("\u2022 ").startswith(CONFIG.measure(worst["measure"]).name)
    assert str(abs(worst["pct_change"])) in bullets[0].text


def test_good_and_bad_news_are_coloured_and_worded_at_a_glance(deck, figures):
    concern, improvement = "B34000", "005A8C"
    seen = set()
    for slide in deck.slides:
        if not slide.name.startswith("glance:"):
            continue
        table = next(s for s in slide.shapes if s.has_table).table
        header = [c.text for c in table.rows[0].cells]
        verdict = header.index("Beyond normal variation")
        for row in list(table.rows)[1:]:
            cell = row.cells[verdict]
            words = cell.text
            colours = {str(r.font.color.rgb) for r in cell.text_frame.paragraphs[0].runs}
            if words == "Yes, a concern":
                assert colours == {concern}
            elif words == "Yes, an improvement":
                assert colours == {improvement}
            else:
                assert not colours & {concern, improvement}
            seen.add(words)
    assert {"Yes, a concern", "Yes, an improvement", "No"} <= seen


def test_every_slide_carries_the_marking_and_the_meeting_details(deck):
    for slide in deck.slides:
        marking = [s for s in slide.shapes if s.name == "Protective marking"]
        assert [s.text_frame.text for s in marking] == ["OFFICIAL"], slide.name
        assert marking[0].top < 0.35 * 914400
        footer = next(s for s in slide.shapes if s.name == "Footer").text_frame.text
        assert footer.startswith("OFFICIAL · ")
        for words in (
            "Agenda item: 7",
            "Meeting: 14 October 2022",
            "Author: A. Analyst",
            "Approved by: B. Head",
            "Version: 1.2",
        ):
            assert words in footer, (slide.name, footer)
    assert deck.core_properties.category == "OFFICIAL"


def test_body_text_is_14_pt_or_more_and_chart_text_too(deck):
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.name in EDGE_SHAPES:
                continue
            sizes = [run.font.size for run in _runs(shape) if run.font.size is not None]
            assert all(size >= Pt(14) for size in sizes), (slide.name, shape.name, sizes)
    pictures = [s for slide in deck.slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) == 14
    # No type on a slide chart is below SLIDE_MIN_FONT_PX (checked on the specification in
    # the next test); here, how large that is once the picture is placed on its slide.
    smallest_px = render.SLIDE_MIN_FONT_PX
    for picture in pictures:
        png_height_px = picture.image.size[1] / render.PNG_SCALE
        points_per_px = picture.height / EMU_PER_PT / png_height_px
        assert smallest_px * points_per_px >= 14, picture.name


def test_the_slide_charts_name_no_type_below_the_smallest_size(demo_db: Database):
    content = collect(demo_db, View(SEP_22), ["knife-crime", "places"], by_district=False)
    chart = content.strands[0].measures[0].chart
    sizes = render.font_sizes_px(render.slide_spec(chart))
    assert sizes and min(sizes) >= render.SLIDE_MIN_FONT_PX
    # The dashboard's own chart has smaller labels, which the slide raises.
    assert min(render.font_sizes_px(chart.to_dict())) < render.SLIDE_MIN_FONT_PX


def test_every_chart_has_alt_text_that_describes_it(deck, figures):
    for slide in deck.slides:
        for shape in slide.shapes:
            if shape.shape_type != 13:
                continue
            measure_id = slide.name.partition(":")[2]
            description = shape._element.nvPicPr.cNvPr.get("descr")
            assert description and "image" not in description.lower()
            assert description.startswith(
                "Line chart of " + CONFIG.measure(measure_id).name.lower()
            )
            count = figures[(measure_id, "previous_year")]["current_count"]
            assert f"counted {count:,}" in description, description


def test_no_paragraph_is_repeated_between_slides_and_no_slide_is_near_empty(deck):
    seen: dict[str, str] = {}
    for slide in list(deck.slides)[1:]:
        texts = [(n, t) for n, t in _texts(slide) if n not in EDGE_SHAPES]
        for name, text in texts:
            if len(text) < 60 or name in ("Table", "Caption") or "Title" in name:
                continue
            assert text not in seen, f"{slide.name} repeats {seen.get(text)}: {text[:80]}"
            seen[text] = slide.name
        has_body = any(s.has_table or s.shape_type == 13 for s in slide.shapes)
        words = sum(len(t) for n, t in texts if n not in ("Caption",) and "Title" not in n)
        assert has_body or words >= 150, (slide.name, words)


def test_a_strand_slide_lists_delivery_achieved_and_scheduled(deck, demo_root: Path):
    actions = pd.read_csv(demo_root / "delivery" / "actions.csv", dtype=str).fillna("")
    knife = actions[actions["strand_id"] == "knife-crime"]
    done = knife[(knife["completed_month"] >= "2022-04") & (knife["completed_month"] <= "2022-09")]
    slide = next(s for s in deck.slides if s.name == "strand:knife-crime")
    title = slide.shapes.title.text_frame.text
    assert title.startswith(f"Knife crime: {len(done)} actions completed")
    text = " ".join(t for _, t in _texts(slide))
    assert "Delivery achieved, April 2022 to September 2022" in text
    assert "Delivery scheduled, October 2022 to March 2023" in text
    assert any(row.title in text for row in done.itertuples())


def test_each_strand_group_opens_with_a_divider(deck):
    names = [slide.name for slide in deck.slides]
    groups = list(dict.fromkeys(s.group for s in CONFIG.strands))
    assert [n for n in names if n.startswith("group:")] == [f"group:{g}" for g in groups]
    for group in groups:
        first = next(s for s in CONFIG.strands if s.group == group)
        after = names[names.index(f"group:{group}") + 1]
        assert after.split(":")[1] == (first.measures[0].id if first.measures else first.id)


def _template(path: Path) -> Path:
    """A .potx whose master carries a shape the default does not, and one sample slide."""
    presentation = Presentation()
    presentation.slide_masters[0]._element.cSld.set("name", "Board master")
    presentation.slides.add_slide(presentation.slide_layouts[0])
    buffer = io.BytesIO()
    presentation.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    with zipfile.ZipFile(path, "w") as potx:
        for item in source.infolist():
            body = source.read(item.filename)
            if item.filename == "[Content_Types].xml":
                body = body.replace(b"presentation.main+xml", b"template.main+xml")
            potx.writestr(item, body)
    return path


def test_a_potx_template_gives_the_deck_its_masters(demo_root: Path, tmp_path: Path):
    template = _template(tmp_path / "board.potx")
    data = _write(demo_root, ".pptx", "--strand", "hate-crime", "--template", str(template))
    deck = Presentation(io.BytesIO(data))
    assert deck.slides[0].name == "title"  # the template's own slide is not kept
    for slide in deck.slides:
        assert slide.slide_layout.slide_master._element.cSld.get("name") == "Board master"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--meeting-date", "14/10/2022"], "write it as YYYY-MM-DD"),
        (["--template", "missing.potx"], "does not exist"),
        (["--template", "notes.txt"], "must be a PowerPoint template"),
        (["--marking", "PUBLIC"], "Unknown marking 'PUBLIC'"),
    ],
)
def test_a_bad_report_option_is_one_sentence(demo_root, tmp_path, capsys, args, message):
    out = tmp_path / "deck.pptx"
    code = main(
        ["--data-dir", str(demo_root), "report", "--period", "2022-09", "--out", str(out)] + args
    )
    err = capsys.readouterr().err
    assert code != 0 and message in err and "Traceback" not in err
    assert not out.exists()


def test_the_marking_is_configurable(demo_root: Path, tmp_path: Path):
    data = _write(demo_root, ".pptx", "--strand", "places", "--marking", "official-sensitive")
    deck = Presentation(io.BytesIO(data))
    for slide in deck.slides:
        marking = next(s for s in slide.shapes if s.name == "Protective marking")
        assert marking.text_frame.text == "OFFICIAL-SENSITIVE"


def test_the_report_settings_are_read_and_checked_from_the_config(tmp_path: Path):
    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "strategy.toml").write_text(
        'extends = "default"\n[report]\nmarking = "official"\nagenda_item = 5\n'
        'meeting_date = 2022-10-14\nauthor = "A. Analyst"\n',
        encoding="utf-8",
    )
    settings = load_config(folder).report
    assert settings.marking == "OFFICIAL" and settings.agenda_item == "5"
    assert settings.meeting_date == date(2022, 10, 14) and settings.author == "A. Analyst"


@pytest.fixture(scope="module")
def book(demo_root: Path) -> dict[str, pd.DataFrame]:
    """The workbook as `pandas.read_excel` reads it with its defaults."""
    data = _write(demo_root, ".xlsx")
    return pd.read_excel(io.BytesIO(data), sheet_name=None)


SHEET_COLUMNS = {
    "Insight": ["strand_id", "measure_id", "better_when", "measure_name", "comparison"],
    "Monthly": ["measure_id", "measure_name", "month_start", "is_covered", "count_records"],
    "Delivery status": ["strand_id", "strand_name", "strand_group", "actions_total"],
    "Delivery actions": ["strand_id", "strand_name", "action_id", "title", "status"],
}


def test_pandas_reads_every_sheet_with_its_header_and_types(book):
    for name, frame in book.items():
        columns = [str(c) for c in frame.columns]
        assert not [c for c in columns if c.startswith("Unnamed")], name
        assert columns[: len(SHEET_COLUMNS.get(name, []))] == SHEET_COLUMNS.get(name, [])
        for column in columns:
            dtype = frame[column].dtype
            if column in ("count_records", "comparator_count", "diff") or column.startswith(
                "actions_"
            ):
                assert pd.api.types.is_integer_dtype(dtype), (name, column, dtype)
            if column.startswith("pct_"):
                assert pd.api.types.is_float_dtype(dtype), (name, column, dtype)
            if column in ("month_start", "current_start", "target_month", "period_end"):
                assert pd.api.types.is_datetime64_any_dtype(dtype), (name, column, dtype)
    # One name for one thing: never `strand` on one sheet and `strand_id` on another.
    everywhere = {str(c) for frame in book.values() for c in frame.columns}
    assert not everywhere & {"strand", "measure", "total", "complete", "improvement"}


def test_the_guide_explains_every_sheet_and_column(book):
    guide = book["Guide"]
    for name, frame in book.items():
        if name == "Guide":
            continue
        mine = guide[guide["sheet"] == name]
        assert (mine["column"].isna() & mine["meaning"].notna()).sum() == 1, name
        described = dict(zip(mine["column"].dropna(), mine["meaning"].dropna(), strict=False))
        for column in frame.columns:
            assert isinstance(described.get(column), str) and described[column], (name, column)
        units = mine.dropna(subset=["column"])["unit"]
        assert units.notna().all(), name


def test_the_workbook_holds_fractions_no_totals_and_no_pictograms(book, figures):
    insight = book["Insight"].set_index(["measure_id", "comparison"])
    for (measure_id, comparison), row in figures.items():
        assert insight.loc[(measure_id, comparison), "pct_change"] == pytest.approx(
            row["pct_change"] / 100
        )
    overview = book["Overview"].dropna(subset=["measure_id"]).set_index("measure_id")
    knife = figures[("knife-crime", "previous_year")]
    assert overview.loc["knife-crime", "pct_change_previous_year"] == pytest.approx(
        knife["pct_change"] / 100
    )
    share = book["Delivery status"]
    assert (share["pct_complete"] <= 1).all()
    assert (share["pct_complete"] == share["actions_complete"] / share["actions_total"]).all() or (
        (share["pct_complete"] - share["actions_complete"] / share["actions_total"]).abs() < 0.001
    ).all()
    for name, frame in book.items():
        for column in frame.columns:
            for value in frame[column].dropna():
                text = str(value)
                assert text.strip().lower() not in ("total", "total, all strands"), name
                assert not any(unicodedata.category(c) == "So" for c in text), (name, text)
        if "strand_id" in frame.columns:
            assert "total" not in set(frame["strand_id"]), name


def test_the_monthly_sheets_rebuild_the_baseline_year(book, figures):
    monthly = book["Monthly"]
    for measure_id in {m for m, _ in figures}:
        mine = monthly[monthly["measure_id"] == measure_id]
        months = list(mine["month_start"].dt.date)
        assert months == months_between(date(2019, 1, 1), SEP_22), measure_id
        in_2019 = mine[mine["month_start"].dt.year == 2019]["count_records"].sum()
        assert in_2019 == figures[(measure_id, "baseline")]["comparator_count"], measure_id


@pytest.fixture(scope="module")
def html_text(demo_root: Path) -> str:
    return _write(demo_root, ".html", *MEETING).decode("utf-8")


def test_the_html_report_sets_a_running_footer_with_marking_and_page_numbers(html_text):
    style = re.search(r"@page \{(.*?)\n\}", html_text, re.S)
    assert style, "no @page rule"
    rule = style.group(1)
    assert "@top-center" in rule and "@bottom-center" in rule
    assert 'counter(page) " of " counter(pages)' in rule
    assert rule.count('content: "OFFICIAL"') == 2
    assert "<dt>Agenda item</dt><dd>7</dd>" in html_text
    assert "<dt>Meeting</dt><dd>14 October 2022</dd>" in html_text


def _pdf_pages(pdf: Path) -> list[tuple[float, list[tuple[float, float, str]]]]:
    """Each page's height and its words as (top, bottom, text), read by pdftotext."""
    tool = shutil.which("pdftotext")
    if tool is None:
        pytest.skip("pdftotext (poppler-utils) is not installed: `make office` installs it.")
    out = subprocess.run([tool, "-bbox", str(pdf), "-"], capture_output=True, text=True).stdout
    pages = []
    for height, body in re.findall(
        r'<page width="[\d.]+" height="([\d.]+)">(.*?)</page>', out, re.S
    ):
        words = [
            (float(top), float(bottom), text)
            for top, bottom, text in re.findall(
                r'yMin="([\d.]+)" xMax="[\d.]+" yMax="([\d.]+)">([^<]*)<', body
            )
        ]
        pages.append((float(height), words))
    return pages


# The printed page's margins (16 mm top, 20 mm bottom), in points.
TOP_PT, BOTTOM_PT = 16 / 25.4 * 72, 20 / 25.4 * 72


@pytest.mark.browser
def test_the_printed_html_numbers_its_pages_and_holds_no_fragment(browser, html_text, tmp_path):
    page = browser.new_page()
    html = tmp_path / "report.html"
    html.write_text(html_text, encoding="utf-8")
    page.goto(html.as_uri())
    pdf = tmp_path / "report.pdf"
    page.pdf(path=str(pdf), prefer_css_page_size=True)
    page.close()
    pages = _pdf_pages(pdf)
    assert 10 <= len(pages) <= 24
    for number, (height, words) in enumerate(pages, start=1):
        header = " ".join(t for top, _, t in words if top < TOP_PT)
        footer = " ".join(t for top, _, t in words if top > height - BOTTOM_PT)
        assert header == "OFFICIAL", (number, header)
        assert "OFFICIAL" in footer and f"Page {number} of {len(pages)}" in footer, footer
        body = [bottom for top, bottom, _ in words if TOP_PT < top < height - BOTTOM_PT]
        filled = (max(body) - TOP_PT) / (height - TOP_PT - BOTTOM_PT)
        # A page a quarter full or less would hold the tail of what the page before began.
        assert filled > 0.25, (number, round(filled, 2))


SENSITIVE_CASE = ["rape", "child-abuse-cse", "knife-crime"]
FEWER = "fewer than 10"


def _sparse_record(month: date, district: str, number: int, crime_type: str, knife: bool):
    return {
        "record_id": f"{month:%Y-%m}-{district}-{number}",
        "force": FORCE,
        "month_start": month,
        "record_kind": "crime",
        "district_code": district,
        "crime_type": crime_type,
        "is_knife_enabled": knife,
        "is_domestic_abuse": False,
        "is_hate_crime": False,
        "is_night_time_economy": False,
        "is_online": False,
        "is_child_sexual_abuse": False,
        "lsoa_code": None,
        "latitude": None,
        "longitude": None,
        "outcome": None,
    }


@pytest.fixture(scope="module")
def sparse_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny folder with its records replaced: a rape every other month in Colchester only
    (a handful a year), no child abuse at all, and 15 knife crimes a month in each district."""
    root = build_tiny(tmp_path_factory.mktemp("sparse"))
    for index, month in enumerate(covered_months()):
        rows = []
        for district in DISTRICTS:
            rows += [_sparse_record(month, district, n, "Violence", True) for n in range(15)]
        if index % 2 == 0:
            rows.append(_sparse_record(month, "E07000071", 99, "Rape", False))
        write_month(root, month, pa.Table.from_pylist(rows, schema=RECORD_SCHEMA))
    config_for.cache_clear()
    return root


@pytest.fixture(scope="module")
def sparse_db(sparse_root: Path) -> Database:
    return open_database(sparse_root)


def _viewer(db: Database, suffix: str, role: str = "viewer") -> bytes:
    return build_report(db, View(SEP_22, role=role), suffix, strand_ids=SENSITIVE_CASE)


def test_a_viewer_reads_fewer_than_10_where_a_count_is_small_in_every_format(
    sparse_root: Path, sparse_db: Database
):
    truth = Truth(sparse_root)
    current = truth.count("rape", FORCE, None, window_months(SEP_22))
    assert isinstance(current, int) and 0 < current < 10  # the case the test is about
    assert truth.count("child-abuse-cse", FORCE, None, window_months(SEP_22)) == 0
    knife = truth.count("knife-crime", FORCE, None, window_months(SEP_22))

    # The deck: the measure slide's table and the at-a-glance row say so in words.
    deck = Presentation(io.BytesIO(_viewer(sparse_db, ".pptx")))
    slide = next(s for s in deck.slides if s.name == "measure:rape")
    table = next(s for s in slide.shapes if s.has_table).table
    assert table.cell(1, 1).text == FEWER
    glance = [
        [c.text for c in row.cells]
        for s in deck.slides
        if s.name.startswith("glance:")
        for shape in s.shapes
        if shape.has_table
        for row in shape.table.rows
    ]
    assert [r[2] for r in glance if r[1] == "Recorded rape"] == [FEWER]
    assert [r[2] for r in glance if r[1] == "Child sexual abuse and exploitation"] == ["0"]
    assert [r[2] for r in glance if r[1] == "Knife-enabled crime"] == [f"{knife:,}"]
    summary = next(s for s in deck.slides if s.name == "summary")
    caption = next(s for s in summary.shapes if s.name == "Caption").text_frame.text
    assert "a count under 10 reads “fewer than 10”" in caption
    picture = next(s for s in slide.shapes if s.shape_type == 13)
    assert f"counted {FEWER}" in picture._element.nvPicPr.cNvPr.get("descr")

    # The HTML: the comparison table's current-window cell.
    html = _viewer(sparse_db, ".html").decode("utf-8")
    tree = lxml.html.fromstring(html)
    [year] = tree.xpath('//table[@data-measure="rape"][@data-comparison="previous_year"]')
    assert [td.text_content() for td in year.xpath(".//tbody/tr[1]/td")][1] == FEWER

    # The workbook: the Insight row and every month with one to nine records.
    book = pd.read_excel(io.BytesIO(_viewer(sparse_db, ".xlsx")), sheet_name=None)
    insight = book["Insight"].set_index(["measure_id", "comparison"])
    assert insight.loc[("rape", "previous_year"), "current_count"] == FEWER
    monthly = book["Monthly"][book["Monthly"]["measure_id"] == "rape"]
    checked = 0
    for row in monthly.itertuples():
        month = row.month_start.date()
        want = truth.count("rape", FORCE, None, [month])
        if not isinstance(want, int):
            continue
        assert str(row.count_records) == (FEWER if 0 < want < 10 else str(want)), month
        checked += 1
    assert checked >= 40


def test_an_analyst_reads_the_small_count_itself(sparse_root: Path, sparse_db: Database):
    current = Truth(sparse_root).count("rape", FORCE, None, window_months(SEP_22))
    deck = Presentation(io.BytesIO(_viewer(sparse_db, ".pptx", role="analyst")))
    slide = next(s for s in deck.slides if s.name == "measure:rape")
    table = next(s for s in slide.shapes if s.has_table).table
    assert table.cell(1, 1).text == str(current)


@pytest.mark.parametrize("data_folder", FOLDER_NAMES, indirect=True)
def test_every_format_builds_on_every_folder_with_its_marking_and_plain_tables(
    data_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The demo, the demo with two months taken out, the real police.uk import and a scaled
    demo of several forces: each report builds at the latest month, the deck marked and
    named on every slide, the workbook read by pandas as Tables, the HTML with its page rule."""
    truth = Truth(data_folder)
    period = truth.all_months[-1]
    force = truth.forces[0]
    built = {}
    for suffix in (".pptx", ".xlsx", ".html"):
        out = data_folder.parent / f"{data_folder.name}-latest{suffix}"
        args = ["--data-dir", str(data_folder), "report", "--period", f"{period:%Y-%m}"]
        if len(truth.forces) > 1:
            args += ["--force", force]
        assert main([*args, "--out", str(out)]) == 0, capsys.readouterr().err
        built[suffix] = out.read_bytes()
    deck = Presentation(io.BytesIO(built[".pptx"]))
    for slide in deck.slides:
        assert slide.name, "a slide without a name"
        marking = [s.text_frame.text for s in slide.shapes if s.name == "Protective marking"]
        assert marking == ["OFFICIAL"], slide.name
        assert "nan" not in " ".join(t for _, t in _texts(slide)).split()
    summary = next(s for s in deck.slides if s.name == "summary")
    body = next(s for s in summary.shapes if s.name == "Summary")
    assert 1 <= len(body.text_frame.paragraphs) <= 5
    book = pd.read_excel(io.BytesIO(built[".xlsx"]), sheet_name=None)
    for name, frame in book.items():
        assert not [c for c in frame.columns if str(c).startswith("Unnamed")], name
    assert 'counter(page) " of " counter(pages)' in built[".html"].decode("utf-8")
