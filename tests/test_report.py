"""The exports read back as a user would open them: the deck with python-pptx, the workbook with
openpyxl, the HTML report with an HTML parser. Every figure in them must be the one
`crimeprev insight` / `crimeprev delivery` prints for the same filters."""

from __future__ import annotations

import base64
import contextlib
import csv
import io
import json
import re
from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path
from typing import Any

import lxml.html
import pytest
from builders import build_tiny, expected_total, knife_count, view_at
from openpyxl import load_workbook
from PIL import Image
from pptx import Presentation
from pptx.util import Emu
from streamlit.testing.v1 import AppTest

from crimeprev.cli.main import main
from crimeprev.config import load_config
from crimeprev.db import Database
from crimeprev.figures.insight import monthly_series
from crimeprev.periods import Window, format_pct, parse_month
from crimeprev.present.charts import monthly_chart
from crimeprev.report import render
from crimeprev.report.content import NO_COUNTS_NOTE, NO_DATA_NOTE, collect
from crimeprev.report.deck import (
    FOOTER_TOP_IN,
    SLIDE_HEIGHT_IN,
    SLIDE_WIDTH_IN,
    build_deck,
)
from crimeprev.report.exports import FORMATS, build_report, format_for
from crimeprev.report.html_report import build_html
from crimeprev.report.workbook import build_workbook
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT
from crimeprev.view import View

SEP_22 = date(2022, 9, 1)
APP = str(REPOSITORY_ROOT / "app.py")
CONFIG = load_config()
STRAND_NAMES = {s.id: s.name for s in CONFIG.strands}
MEASURE_IDS = {(m.strand_id, m.name): m.id for m in CONFIG.measures}


def _cli_json(*args: str) -> list[dict[str, Any]]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(list(args)) == 0
    records: list[dict[str, Any]] = json.loads(out.getvalue())
    return records


def _insight_by_key(root: Path, *extra: str) -> dict[tuple[str, str], dict[str, Any]]:
    records = _cli_json(
        "--data-dir", str(root), "insight", "--period", "2022-09", "--format", "json", *extra
    )
    return {(r["measure"], r["comparison"]): r for r in records}


def _activity_rows(root: Path) -> dict[tuple[str, str], float]:
    """The latest value of each strand's result up to September 2022, read from the CSV."""
    latest: dict[tuple[str, str, str], tuple[str, float]] = {}
    with (root / "activity" / "metrics.csv").open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["period_end"] > "2022-09":
                continue
            key = (row["strand_id"], row["operation"], row["metric"])
            if key not in latest or row["period_end"] > latest[key][0]:
                latest[key] = (row["period_end"], float(row["value"]))
    return {(s, m[:1].upper() + m[1:]): v for (s, _, m), (_, v) in latest.items()}


def _number(text: str) -> float:
    return float(re.sub(r"[^0-9.\-]", "", text))


@pytest.fixture(scope="module")
def full_content(demo_db: Database):
    return collect(demo_db, View(SEP_22))


@pytest.fixture(scope="module")
def deck(full_content):
    return Presentation(io.BytesIO(build_deck(full_content)))


@pytest.fixture(scope="module")
def insight_rows(demo_root: Path):
    return _insight_by_key(demo_root)


def _titles(presentation) -> list[str]:
    return [slide.shapes.title.text_frame.text for slide in presentation.slides]


def _names(presentation) -> list[str]:
    """Each slide's name: what it is (`measure:knife-crime`), whatever its title says."""
    return [slide.name for slide in presentation.slides]


def _slide(presentation, name: str):
    return next(slide for slide in presentation.slides if slide.name == name)


def _pct_words(pct: float) -> str:
    """A change as a title states it, written here from the CLI's figure."""
    return f"{'up' if pct > 0 else 'down'} {abs(pct):.1f}%"


def _tables(slide) -> list[list[list[str]]]:
    return [
        [[cell.text for cell in row.cells] for row in shape.table.rows]
        for shape in slide.shapes
        if shape.has_table
    ]


def _expected_strand_slides(root: Path, strand_ids: list[str]) -> list[str]:
    """Per strand group a divider; per strand its measures, its results when it reports
    any, and its delivery lists (every demo strand has an action completed or due)."""
    with_activity = {key[0] for key in _activity_rows(root)}
    names: list[str] = []
    group = None
    for strand in CONFIG.strands:
        if strand.id not in strand_ids:
            continue
        if strand.group != group:
            names.append(f"group:{strand.group}")
            group = strand.group
        names += [f"measure:{m.id}" for m in strand.measures]
        if strand.id in with_activity:
            names.append(f"activity:{strand.id}:1")
        names.append(f"strand:{strand.id}")
    return names


def test_the_deck_has_the_specified_slides_in_order(deck, demo_root: Path):
    names = _names(deck)
    assert _titles(deck)[0] == "Crime Prevention Strategy"
    assert names[:6] == ["title", "summary", "glance:1", "glance:2", "delivery", names[5]]
    assert names[5:] == _expected_strand_slides(demo_root, list(STRAND_NAMES))
    # 4 strand groups, 14 measure slides, 8 strands with results, 14 strands' delivery.
    assert len(names[5:]) == 4 + 14 + 8 + 14
    assert deck.slide_width == Emu(int(SLIDE_WIDTH_IN * 914400))
    assert abs(deck.slide_width / deck.slide_height - 16 / 9) < 0.01


def test_every_number_on_a_measure_slide_is_the_insight_figure(deck, insight_rows):
    checked = 0
    for slide in deck.slides:
        kind, _, measure_id = slide.name.partition(":")
        if kind != "measure":
            continue
        # The title states the finding: the measure, its change on the year before, and
        # whether that is beyond normal variation, as the CLI's figures have it.
        year = insight_rows[(measure_id, "previous_year")]
        title = slide.shapes.title.text_frame.text
        assert title.startswith(CONFIG.measure(measure_id).name + " "), title
        assert f"{_pct_words(year['pct_change'])} on the year before" in title
        beyond = "beyond normal variation" if year["significant"] else "within normal variation"
        assert title.endswith(beyond), title
        tables = _tables(slide)
        assert len(tables) == 2, slide.shapes.title.text_frame.text
        for comparison, table in zip(("previous_year", "baseline"), tables, strict=True):
            expected = insight_rows[(measure_id, comparison)]
            comparator_label = Window.ending(parse_month(expected["comparator_end"])).label()
            assert table == [
                [comparator_label, f"{expected['comparator_count']:,}"],
                ["12 months ending Sep 2022", f"{expected['current_count']:,}"],
                ["Diff.", _signed(expected["diff"])],
                ["% Diff.", format_pct(expected["pct_change"])],
            ]
            checked += 1
    assert checked == 28
    knife = insight_rows[("knife-crime", "previous_year")]
    assert knife["current_count"] == 3187


def test_the_overview_and_delivery_tables_carry_the_cli_figures(deck, insight_rows, demo_root):
    overview = [
        row
        for slide in deck.slides
        if slide.name.startswith("glance:")
        for row in _tables(slide)[0][1:]
    ]
    strand = None
    measures_seen = 0
    for name, measure, count, previous, baseline, beyond, _delivery in overview:
        strand = next((s for s, n in STRAND_NAMES.items() if n == name), strand) if name else strand
        measure_id = MEASURE_IDS.get((strand, measure))
        if measure_id is None:
            assert measure == "Activity only" and count == ""
            continue
        measures_seen += 1
        year = insight_rows[(measure_id, "previous_year")]
        assert int(count.replace(",", "")) == year["current_count"]
        assert previous == format_pct(year["pct_change"])
        assert baseline == format_pct(insight_rows[(measure_id, "baseline")]["pct_change"])
        assert beyond.startswith("Yes") == bool(year["significant"]), (measure, beyond)
    assert measures_seen == 14

    status = _cli_json(
        "--data-dir", str(demo_root), "delivery", "--period", "2022-09", "--format", "json"
    )
    slide = _slide(deck, "delivery")
    rows = _tables(slide)[0][1:]
    assert len(rows) == len(status) == 15
    for row, record in zip(rows, status, strict=True):
        numbers = [int(v) for v in row[1:6]]
        assert numbers == [record[k] for k in ("total", "complete", "ongoing", "at_risk")] + [
            record["not_started"]
        ]
    assert rows[-1][0] == "Total" and int(rows[-1][1]) == 583
    complete = sum(record["complete"] for record in status if record["strand"] != "total")
    assert slide.shapes.title.text_frame.text.startswith(
        f"Delivery plan: {complete} of 583 actions complete"
    )


def test_operational_results_are_the_values_reported(deck, demo_root: Path):
    reported = _activity_rows(demo_root)
    seen = 0
    for slide in deck.slides:
        kind, _, rest = slide.name.partition(":")
        if kind != "activity":
            continue
        strand_id = rest.split(":")[0]
        for _operation, metric, value, _period in _tables(slide)[0][1:]:
            # shown to one decimal place at most
            assert _number(value) == pytest.approx(reported[(strand_id, metric)], abs=0.05)
            seen += 1
    assert seen == len(reported)


def test_every_picture_is_a_sharp_png_inside_its_slide(deck):
    pictures = [
        (slide, shape) for slide in deck.slides for shape in slide.shapes if shape.shape_type == 13
    ]
    assert len(pictures) == 14
    for _slide, picture in pictures:
        assert picture.image.content_type == "image/png"
        image = Image.open(io.BytesIO(picture.image.blob))
        image.verify()
        width_px, height_px = Image.open(io.BytesIO(picture.image.blob)).size
        assert width_px >= 1000 and 400 <= height_px <= width_px
        # at least 130 pixels per inch as shown on the slide: sharp on a projector
        assert width_px / (picture.width / 914400) >= 130


def test_every_shape_is_on_its_slide_and_tables_read_from_the_back(deck):
    width, height = deck.slide_width, deck.slide_height
    for slide in deck.slides:
        for shape in slide.shapes:
            assert shape.left >= 0 and shape.top >= 0
            assert shape.left + shape.width <= width and shape.top + shape.height <= height
            if shape.has_table:
                sizes = [
                    run.font.size.pt
                    for row in shape.table.rows
                    for cell in row.cells
                    for paragraph in cell.text_frame.paragraphs
                    for run in paragraph.runs
                ]
                assert min(sizes) >= 14
            elif shape.has_text_frame and shape.top < FOOTER_TOP_IN * 914400 - 914400 * 0.05:
                for paragraph in shape.text_frame.paragraphs:
                    for run in paragraph.runs:
                        assert run.font.size is None or run.font.size.pt >= 10
        assert slide.has_notes_slide and slide.notes_slide.notes_text_frame.text.strip()
    assert SLIDE_HEIGHT_IN * 914400 == pytest.approx(height, abs=1)


def test_speaker_notes_give_definitions_windows_and_source(deck):
    knife = CONFIG.measure("knife-crime")
    slide = _slide(deck, "measure:knife-crime")
    notes = slide.notes_slide.notes_text_frame.text
    assert knife.definition in notes
    assert knife.rule.describe() in notes
    assert "12 months ending Sep 2021" in notes and "12 months ending Dec 2019" in notes
    assert "Essex Police" in notes and "September 2022" in notes
    assert "Knife-enabled crime in the year to September 2022" in notes  # the commentary


def test_a_strand_without_data_says_so(deck):
    slide = _slide(deck, "strand:places")
    texts = " ".join(shape.text_frame.text for shape in slide.shapes if shape.has_text_frame)
    assert NO_DATA_NOTE.format(period="September 2022") in texts


def test_a_long_narrative_keeps_one_summary_slide_and_goes_whole_to_its_notes(full_content):
    sentence = "Knife crime rose by a tenth against the year before, more than chance explains."
    narrative = [" ".join([sentence] * 40), "A closing caveat."]
    deck = Presentation(io.BytesIO(build_deck(replace(full_content, narrative=narrative))))
    assert _names(deck).count("summary") == 1
    slide = _slide(deck, "summary")
    body = next(s for s in slide.shapes if s.name == "Summary")
    assert sentence not in body.text_frame.text
    notes = slide.notes_slide.notes_text_frame.text
    assert notes.count(sentence) == 40 and "A closing caveat." in notes


def test_a_deck_for_one_district_and_two_strands_counts_that_district(demo_db, demo_root):
    filters = View(SEP_22, districts=("colchester",))
    data = build_report(demo_db, filters, ".pptx", ["places", "knife-crime"])
    deck = Presentation(io.BytesIO(data))
    names = _names(deck)
    assert names[-4:] == [
        "measure:knife-crime",
        "strand:knife-crime",
        "group:Vulnerabilities",
        "strand:places",
    ]
    assert "glance:1" in names and "delivery" in names
    expected = _insight_by_key(demo_root, "--district", "Colchester")
    slide = _slide(deck, "measure:knife-crime")
    current = _tables(slide)[0][1][1]
    assert int(current) == expected[("knife-crime", "previous_year")]["current_count"]
    assert int(current) != 3187
    delivery = _tables(_slide(deck, "delivery"))[0]
    assert [row[0] for row in delivery[1:]] == ["Knife crime", "Places", "Total, all strands"]
    subject = deck.core_properties.subject
    assert "Places: Colchester" in subject and "Knife crime, Places" in subject


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory: pytest.TempPathFactory) -> Database:
    from crimeprev.aggregate import open_database

    return open_database(build_tiny(tmp_path_factory.mktemp("tiny")))


def test_measures_without_counts_and_incomplete_windows_say_so(tiny_db: Database):
    content = collect(tiny_db, View(SEP_22))
    deck = Presentation(io.BytesIO(build_deck(content)))
    texts = {
        slide.name: " ".join(
            shape.text_frame.text for shape in slide.shapes if shape.has_text_frame
        )
        for slide in deck.slides
    }
    fraud = texts["measure:fraud"]
    assert NO_COUNTS_NOTE.format(months=36, period="Sep 2022") in fraud
    knife_slide = _slide(deck, "measure:knife-crime")
    year_before, baseline = _tables(knife_slide)
    assert year_before[0][1] == "incomplete"  # the tiny data lacks September 2021
    assert "the data lacks September 2021" in texts["measure:knife-crime"]
    assert knife_slide.shapes.title.text_frame.text == (
        "Knife-enabled crime: no change on the year before can be given"
    )
    window = Window.ending(SEP_22)
    assert int(baseline[1][1]) == expected_total(knife_count, window.start, window.end)
    pictures = [s for slide in deck.slides for s in slide.shapes if s.shape_type == 13]
    assert len(pictures) == sum(m.has_counts for s in content.strands for m in s.measures) == 5


@pytest.fixture(scope="module")
def workbook(full_content):
    return load_workbook(io.BytesIO(build_workbook(full_content)))


def _sheet_rows(sheet) -> list[dict[str, Any]]:
    header = [c.value for c in sheet[1]]
    return [dict(zip(header, v, strict=True)) for v in sheet.iter_rows(2, values_only=True)]


def test_the_workbook_has_a_sheet_per_table_each_an_excel_table_from_row_1(workbook, full_content):
    assert workbook.sheetnames == [
        "About",
        "Guide",
        "Overview",
        "Insight",
        "Monthly",
        "Monthly by district",
        "Delivery status",
        "Delivery actions",
        "Activity",
        "Commentary",
        "Measures",
    ]
    for sheet in workbook.worksheets:
        assert sheet["A1"].font.bold and sheet.freeze_panes == "A2"
        [(name, ref)] = sheet.tables.items()
        assert ref == f"A1:{sheet.cell(1, sheet.max_column).column_letter}{sheet.max_row}"
        widths = [sheet.column_dimensions[c].width for c in "AB"]
        assert all(w and w > 8 for w in widths)
        assert sheet.oddHeader.center.text == "OFFICIAL"
    about = {row["item"]: row["detail"] for row in _sheet_rows(workbook["About"])}
    assert about["Period"].startswith("12 months ending Sep 2022")
    assert about["Places"] == "All districts" and about["Protective marking"] == "OFFICIAL"


def test_workbook_insight_figures_are_numbers_equal_to_the_cli(workbook, insight_rows):
    sheet = workbook["Insight"]
    rows = _sheet_rows(sheet)
    assert len(rows) == len(insight_rows) == 28
    for row in rows:
        expected = insight_rows[(row["measure_id"], row["comparison"])]
        assert isinstance(row["current_count"], int)
        assert row["current_count"] == expected["current_count"]
        assert row["comparator_count"] == expected["comparator_count"]
        assert row["diff"] == expected["diff"]
        # a fraction, shown as per cent
        assert row["pct_change"] == pytest.approx(expected["pct_change"] / 100)
        assert row["window_complete"] is True
        assert isinstance(row["current_start"], datetime)
        assert row["current_start"].date() == parse_month(expected["current_start"])
    header = [c.value for c in sheet[1]]
    month_cell = sheet.cell(2, header.index("current_start") + 1)
    assert month_cell.number_format == "mmm yyyy" and month_cell.is_date
    pct_cell = sheet.cell(2, header.index("pct_change") + 1)
    assert pct_cell.number_format == "+0.0%;-0.0%;0.0%"


def test_workbook_monthly_series_add_up_across_districts(workbook, demo_db):
    force = _sheet_rows(workbook["Monthly"])
    by_district = _sheet_rows(workbook["Monthly by district"])
    # January 2019, the baseline year's first month, to September 2022: 45 months
    assert len(force) == 14 * 45 and len(by_district) == 14 * 45 * len(CONFIG.districts)
    assert min(r["month_start"] for r in force) == datetime(2019, 1, 1)
    totals: dict[tuple[str, datetime], int] = {}
    for row in by_district:
        key = (row["measure_id"], row["month_start"])
        totals[key] = totals.get(key, 0) + row["count_records"]
    for row in force:
        assert totals[(row["measure_id"], row["month_start"])] == row["count_records"]
    september = [r for r in force if r["measure_id"] == "knife-crime"][-1]
    assert september["month_start"] == datetime(2022, 9, 1)
    series = monthly_series(
        demo_db, view_at(demo_db, SEP_22), months=1, measure_ids=["knife-crime"]
    )
    assert september["count_records"] == int(series["count_records"].iloc[0])


def test_workbook_delivery_status_is_the_cli_table_without_its_total(workbook, demo_root):
    status = _cli_json(
        "--data-dir", str(demo_root), "delivery", "--period", "2022-09", "--format", "json"
    )
    rows = _sheet_rows(workbook["Delivery status"])
    names = ("total", "complete", "ongoing")
    assert [{"strand": r["strand_id"]} | {k: r[f"actions_{k}"] for k in names} for r in rows] == [
        {k: s[k] for k in ("strand", *names)} for s in status if s["strand"] != "total"
    ]


def _signed(diff: int) -> str:
    """A difference as a table prints it: with its sign and separators, 0 unsigned."""
    return f"{diff:+,}" if diff else "0"


@pytest.fixture(scope="module")
def html_page(full_content):
    return lxml.html.fromstring(build_html(full_content))


def test_the_html_report_tables_carry_the_cli_figures(html_page, insight_rows):
    tables = html_page.xpath("//table[@class='comparison']")
    assert len(tables) == 28
    for table in tables:
        expected = insight_rows[(table.get("data-measure"), table.get("data-comparison"))]
        cells = [td.text_content() for td in table.xpath(".//tbody//td")]
        assert cells == [
            f"{expected['comparator_count']:,}",
            f"{expected['current_count']:,}",
            _signed(expected["diff"]),
            format_pct(expected["pct_change"]),
        ]
    overview = html_page.xpath("//table[@class='overview']//tbody/tr")
    counts = [tr.xpath("./td")[2].text_content() for tr in overview]
    assert "3,187" in counts and len(overview) == 18
    total = html_page.xpath("//table[@class='delivery']//tr[@class='total']/td")
    assert [td.text_content() for td in total][:2] == ["Total", "583"]


def test_the_html_report_is_one_self_contained_file_that_prints_on_a4(html_page):
    images = html_page.xpath("//img")
    assert len(images) == 14
    for image in images:
        source = image.get("src")
        assert source.startswith("data:image/svg+xml;base64,")
        svg = base64.b64decode(source.split(",", 1)[1]).decode("utf-8")
        assert svg.startswith("<svg") and "</svg>" in svg
        assert image.get("alt")
    assert not html_page.xpath("//link[@rel='stylesheet'] | //script[@src]")
    style = html_page.xpath("//style")[0].text_content()
    assert "size: A4" in style and "@media print" in style
    assert html_page.xpath("//section[@id='strand-places']//p[@class='panel']")


def test_chart_images_for_downloads(demo_db):
    series = monthly_series(demo_db, view_at(demo_db, SEP_22), months=36, measure_ids=["rape"])
    chart = monthly_chart(series, SEP_22, unit="crimes")
    png = render.chart_png(chart)
    width_px, height_px = Image.open(io.BytesIO(png)).size
    assert width_px >= 2 * render.DOWNLOAD_WIDTH_PX and height_px > 400
    svg = render.chart_svg(chart).decode("utf-8")
    assert svg.startswith("<svg") and "</svg>" in svg
    assert render.chart_png(chart) is png  # the second download is the cached image


def test_report_formats_follow_the_file_name():
    assert format_for("q2.PPTX").suffix == ".pptx"
    assert set(FORMATS) == {".pptx", ".xlsx", ".html"}
    with pytest.raises(ValueError, match="must end in .pptx, .xlsx, .html"):
        format_for("q2.docx")


@pytest.mark.parametrize("suffix", [".pptx", ".xlsx", ".html"])
def test_the_report_command_writes_each_format(demo_root, tmp_path, capsys, suffix):
    out = tmp_path / f"q2{suffix}"
    code = main(
        [
            "--data-dir",
            str(demo_root),
            "report",
            "--period",
            "2022-09",
            "--strand",
            "rape",
            "--out",
            str(out),
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert str(out) in capsys.readouterr().out
    data = out.read_bytes()
    readers: dict[str, Callable[[bytes], Any]] = {
        ".pptx": lambda b: (
            _names(Presentation(io.BytesIO(b)))[-2:] == ["measure:rape", "strand:rape"]
        ),
        ".xlsx": lambda b: load_workbook(io.BytesIO(b))["Insight"]["A2"].value == "rape",
        ".html": lambda b: b'data-measure="rape"' in b,
    }
    assert readers[suffix](data)
    assert not list(tmp_path.glob("*.part"))


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("report.docx", "the file name must end in .pptx, .xlsx, .html"),
        ("missing-folder/report.pptx", "does not exist"),
    ],
)
def test_the_report_command_refuses_what_it_cannot_write(demo_root, tmp_path, capsys, out, message):
    code = main(
        [
            "--data-dir",
            str(demo_root),
            "report",
            "--period",
            "2022-09",
            "--out",
            str(tmp_path / out),
        ]
    )
    error = capsys.readouterr().err
    assert code == 2 and message in error
    assert "Traceback" not in error and error.count("\n") == 1


def test_the_report_command_refuses_a_folder_as_its_file(demo_root, tmp_path, capsys):
    (tmp_path / "deck.pptx").mkdir()
    code = main(
        [
            "--data-dir",
            str(demo_root),
            "report",
            "--period",
            "2022-09",
            "--out",
            str(tmp_path / "deck.pptx"),
        ]
    )
    error = capsys.readouterr().err
    assert code == 2 and "it is a folder" in error


@pytest.fixture
def report_page(demo_root: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(demo_root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/report.py")
    at.query_params.update({"period": "2022-09", "strands": "knife-crime,rape"})
    return at.run()


def test_the_report_page_builds_a_workbook_for_download(report_page: AppTest):
    at = report_page
    assert not at.exception
    assert at.title[0].value == "Report"
    assert [b.label for b in at.button][:3] == [
        "Build the slide deck",
        "Build the workbook",
        "Build the HTML report",
    ]
    assert at.multiselect(key="url_strands").value == ["knife-crime", "rape"]
    assert not at.get("download_button")
    at.button(key="build.xlsx").click().run()
    assert not at.exception
    downloads = at.get("download_button")
    assert [d.proto.label for d in downloads] == ["Download crime-prevention-2022-09.xlsx"]
    assert "Built in" in " ".join(c.value for c in at.caption)


def test_every_chart_on_a_strand_page_offers_png_svg_and_csv(
    demo_root: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(demo_root))
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("pages/strand.py")
    at.query_params.update({"strand": "hate-crime", "period": "2022-09"})
    at.run()
    assert not at.exception
    labels = [d.proto.label for d in at.get("download_button")]
    # two measures, each with a monthly and a district chart; then the strand's insight
    # figures and its operational results as CSV
    assert labels == ["Download CSV", "Download PNG", "Download SVG"] * 4 + ["Download CSV"] * 2


@pytest.mark.reference
def test_the_deck_shows_the_published_report_figures(deck, reference_dir: Path):
    """Each figure printed in the Q1-Q2 2022/23 report is on the September 2022 deck."""
    slides = {slide.name: slide for slide in deck.slides}
    with (reference_dir / "published-figures.csv").open(newline="", encoding="utf-8") as handle:
        printed = list(csv.DictReader(handle))
    assert len(printed) == 24
    for figure in printed:
        measure = CONFIG.measure(figure["measure"])
        slide = slides[f"measure:{measure.id}"]
        index = 0 if figure["comparison"] == "previous_year" else 1
        shown = dict(_tables(slide)[index])
        for column, label in (
            ("comparator_count", Window.ending(parse_month(figure["comparator_end"])).label()),
            ("current_count", Window.ending(parse_month(figure["current_end"])).label()),
            ("diff", "Diff."),
        ):
            if figure[column]:
                # The deck prints 1,989 and +1,198 where the report printed 1989 and 1198.
                assert int(shown[label].replace(",", "")) == int(figure[column]), (
                    figure["measure"],
                    column,
                )
        if figure["pct_change"]:
            assert shown["% Diff."] == format_pct(float(figure["pct_change"])), figure["measure"]
