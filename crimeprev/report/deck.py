"""The slide deck for the scrutiny meeting (PowerPoint, 16:9), made with python-pptx.

Slides, in order: the title; the summary (the narrative); the strands at a glance (as many
slides as the table needs); the delivery plan; then for each strand one slide per measure
(monthly chart, the two insight tables, the lead's commentary) and one for its operational
results when it has them. A strand with neither measures nor results still gets a slide that
says so. Every slide carries speaker notes: definitions, windows and where the figures come from.

Type is never below 14 pt on a slide's body (footers aside), and text that would not fit its
box is given a smaller size or moved to the next slide, never left to spill off the slide.
"""

from __future__ import annotations

import io
import math
import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from crimeprev.periods import month_long_label
from crimeprev.present.charts import BLUE
from crimeprev.report.cells import (
    ACTIVITY_HEADINGS,
    DELIVERY_HEADINGS,
    OVERVIEW_HEADINGS,
    activity_rows,
    delivery_rows,
    overview_rows,
)
from crimeprev.report.content import (
    REPORT_TITLE,
    MeasureSection,
    Progress,
    ReportContent,
    StrandSection,
    chart_months_label,
    no_progress,
    strand_empty_note,
)
from crimeprev.report.render import slide_pngs
from crimeprev.statistics.change import BEYOND_NORMAL

FONT = "Arial"


def _rgb(hex_colour: str) -> Any:
    colour_type: Any = RGBColor  # python-pptx leaves it unannotated
    return colour_type.from_string(hex_colour.lstrip("#"))


TEXT = _rgb("#31333F")
MUTED = _rgb("#555555")
WHITE = _rgb("#FFFFFF")
ACCENT = _rgb(BLUE)
STRIPE = _rgb("#F0F2F6")
PANEL = _rgb("#F7F7F7")

SLIDE_WIDTH_IN = 13.333
SLIDE_HEIGHT_IN = 7.5
MARGIN_IN = 0.5
CONTENT_WIDTH_IN = SLIDE_WIDTH_IN - 2 * MARGIN_IN
BODY_TOP_IN = 1.5
BODY_BOTTOM_IN = 6.9
FOOTER_TOP_IN = 7.0
TITLE_LAYOUT = 0
TITLE_ONLY_LAYOUT = 5

BODY_PT = 16
TABLE_PT = 14
MIN_PT = 14
LINE_SPACING = 1.2
# Average advance of a character in Arial, as a share of the type size: used to estimate how
# many lines a text takes, erring towards more lines.
CHAR_WIDTH_EM = 0.55
# Arial's line, ascent to descent, as a share of the type size; spacing multiplies it.
FONT_LINE_EM = 1.15
CELL_MARGIN_IN = 0.06
ROW_MARGIN_IN = 0.04


def _lines(text: str, width_in: float, size_pt: float) -> int:
    """How many lines `text` takes in a box `width_in` wide, wrapping at spaces."""
    per_line = max(1, int((width_in - 2 * CELL_MARGIN_IN) * 72 / (size_pt * CHAR_WIDTH_EM)))
    total = 0
    for paragraph in text.split("\n") or [""]:
        line, count = 0, 1
        for word in paragraph.split(" "):
            needed = len(word) if line == 0 else line + 1 + len(word)
            if needed <= per_line:
                line = needed
            else:
                count += 1 + (len(word) - 1) // per_line
                line = len(word) % per_line or per_line
        total += count
    return total


def _text_height_in(
    text: str,
    width_in: float,
    size_pt: float,
    margin_in: float = CELL_MARGIN_IN,
    spacing: float = LINE_SPACING,
) -> float:
    line_in = size_pt * FONT_LINE_EM * spacing / 72
    return _lines(text, width_in, size_pt) * line_in + 2 * margin_in


def fitting_size(
    text: str, width_in: float, height_in: float, largest_pt: int, smallest_pt: int = MIN_PT
) -> int | None:
    """The largest type size from `largest_pt` down to `smallest_pt` at which `text` fits the
    box; None when it fits at none."""
    for size in range(largest_pt, smallest_pt - 1, -1):
        if _text_height_in(text, width_in, size) <= height_in:
            return size
    return None


def _fill(shape: Any, colour: Any) -> None:
    shape.fill.solid()
    shape.fill.fore_color.rgb = colour


def _set_notes(slide: Any, notes: Sequence[str]) -> None:
    """The speaker notes: one paragraph per line."""
    slide.notes_slide.notes_text_frame.text = "\n".join(notes)


def _style(run: Any, size_pt: float, bold: bool = False, colour: RGBColor = TEXT) -> None:
    run.font.name = FONT
    run.font.size = Pt(size_pt)
    run.font.bold = bold
    run.font.color.rgb = colour


def _text_box(
    slide: Slide,
    left_in: float,
    top_in: float,
    width_in: float,
    height_in: float,
    paragraphs: Sequence[str | tuple[str, str]],
    size_pt: float,
    colour: RGBColor = TEXT,
    bold: bool = False,
    align: Any = PP_ALIGN.LEFT,
    anchor: Any = MSO_ANCHOR.TOP,
    bullets: bool = False,
) -> Any:
    """A text box; a paragraph given as (lead, rest) has its lead in bold."""
    box = slide.shapes.add_textbox(
        Inches(left_in), Inches(top_in), Inches(width_in), Inches(height_in)
    )
    frame = box.text_frame
    frame.word_wrap = True
    frame.auto_size = MSO_AUTO_SIZE.NONE
    frame.vertical_anchor = anchor
    for margin in ("margin_left", "margin_right", "margin_top", "margin_bottom"):
        setattr(frame, margin, Inches(CELL_MARGIN_IN))
    for index, paragraph in enumerate(paragraphs):
        target = frame.paragraphs[0] if index == 0 else frame.add_paragraph()
        target.alignment = align
        target.line_spacing = LINE_SPACING
        if bullets:
            target.space_after = Pt(size_pt * 0.5)
        lead, rest = paragraph if isinstance(paragraph, tuple) else ("", paragraph)
        if bullets:
            rest = "\u2022  " + rest
        if lead:
            _style(target.add_run(), size_pt, True, colour)
            target.runs[-1].text = lead
        run = target.add_run()
        run.text = rest
        _style(run, size_pt, bold, colour)
    return box


@dataclass
class _Deck:
    presentation: PresentationType
    content: ReportContent

    def slide(self, title: str, caption: str | None, notes: Sequence[str]) -> Slide:
        """A slide with its title, a caption line under it, the footer and speaker notes."""
        slide: Slide = self.presentation.slides.add_slide(
            self.presentation.slide_layouts[TITLE_ONLY_LAYOUT]
        )
        heading: Any = slide.shapes.title
        heading.left, heading.top = Inches(MARGIN_IN + 0.2), Inches(0.3)
        heading.width, heading.height = Inches(CONTENT_WIDTH_IN - 0.2), Inches(0.75)
        frame = heading.text_frame
        frame.word_wrap = True
        frame.auto_size = MSO_AUTO_SIZE.NONE
        frame.vertical_anchor = MSO_ANCHOR.MIDDLE
        frame.margin_left = frame.margin_right = Inches(CELL_MARGIN_IN)
        frame.text = title
        size = fitting_size(title, CONTENT_WIDTH_IN - 0.2, 0.75, 30, 20) or 20
        paragraph = frame.paragraphs[0]
        paragraph.alignment = PP_ALIGN.LEFT
        _style(paragraph.runs[0], size, True)
        bar = slide.shapes.add_shape(
            MSO_SHAPE.RECTANGLE, Inches(MARGIN_IN), Inches(0.38), Inches(0.09), Inches(0.6)
        )
        _fill(bar, ACCENT)
        bar.line.fill.background()
        if caption:
            _text_box(
                slide, MARGIN_IN + 0.2, 1.05, CONTENT_WIDTH_IN - 0.2, 0.4, [caption], 15, MUTED
            )
        footer = (
            f"{REPORT_TITLE} · {self.content.current_window.label()} · "
            f"{self.content.place_label} · data to {month_long_label(self.content.data_to)}"
        )
        number = len(self.presentation.slides)
        _text_box(
            slide, MARGIN_IN, FOOTER_TOP_IN, CONTENT_WIDTH_IN - 1.0, 0.35, [footer], 10, MUTED
        )
        _text_box(
            slide,
            SLIDE_WIDTH_IN - MARGIN_IN - 1.0,
            FOOTER_TOP_IN,
            1.0,
            0.35,
            [str(number)],
            10,
            MUTED,
            align=PP_ALIGN.RIGHT,
        )
        _set_notes(slide, notes)
        return slide


@dataclass(frozen=True)
class _Column:
    heading: str
    width_in: float
    numeric: bool = False


def _columns(
    headings: Sequence[str], widths_in: Sequence[float], first_numeric: int
) -> tuple[_Column, ...]:
    return tuple(
        _Column(heading, width, numeric=index >= first_numeric)
        for index, (heading, width) in enumerate(zip(headings, widths_in, strict=True))
    )


def _row_height_in(cells: Sequence[str], columns: Sequence[_Column], size_pt: float) -> float:
    return max(
        _text_height_in(text, column.width_in, size_pt, ROW_MARGIN_IN, spacing=1.0)
        for text, column in zip(cells, columns, strict=True)
    )


def _pages(
    rows: list[list[str]], columns: Sequence[_Column], height_in: float, size_pt: float
) -> list[list[list[str]]]:
    """Rows split into slides' worth, each page's rows (with the header) fitting `height_in`."""
    header = _row_height_in([c.heading for c in columns], columns, size_pt)
    pages: list[list[list[str]]] = [[]]
    used = header
    for row in rows:
        needed = _row_height_in(row, columns, size_pt)
        if pages[-1] and used + needed > height_in:
            pages.append([])
            used = header
        pages[-1].append(row)
        used += needed
    # Even the pages out, so the last slide is not left with a row or two.
    if len(pages) > 1:
        per_page = math.ceil(len(rows) / len(pages))
        evened = [rows[i : i + per_page] for i in range(0, len(rows), per_page)]
        if all(
            header + sum(_row_height_in(r, columns, size_pt) for r in page) <= height_in
            for page in evened
        ):
            return evened
    return pages


def _table(
    slide: Slide,
    left_in: float,
    top_in: float,
    columns: Sequence[_Column],
    rows: Sequence[Sequence[str]],
    size_pt: float = TABLE_PT,
    bold_rows: Sequence[int] = (),
    header: bool = True,
) -> Any:
    """A table with a blue header row (unless `header` is false) and striped body rows;
    numbers right-aligned. `bold_rows` counts body rows from 0."""
    cells = [[c.heading for c in columns], *rows] if header else [list(r) for r in rows]
    heights = [_row_height_in(list(row), columns, size_pt) for row in cells]
    shape = slide.shapes.add_table(
        len(cells),
        len(columns),
        Inches(left_in),
        Inches(top_in),
        Inches(sum(c.width_in for c in columns)),
        Inches(sum(heights)),
    )
    table = shape.table
    table.first_row = header
    for index, column in enumerate(columns):
        table.columns[index].width = Inches(column.width_in)
    for index, height in enumerate(heights):
        table.rows[index].height = Emu(int(Inches(height)))
    for row_index, row in enumerate(cells):
        is_header = header and row_index == 0
        body_index = row_index - 1 if header else row_index
        for column_index, text in enumerate(row):
            cell = table.cell(row_index, column_index)
            cell.margin_left = cell.margin_right = Inches(CELL_MARGIN_IN)
            cell.margin_top = cell.margin_bottom = Inches(ROW_MARGIN_IN)
            cell.vertical_anchor = MSO_ANCHOR.MIDDLE
            _fill(cell, ACCENT if is_header else STRIPE if body_index % 2 == 1 else WHITE)
            paragraph = cell.text_frame.paragraphs[0]
            paragraph.alignment = PP_ALIGN.RIGHT if columns[column_index].numeric else PP_ALIGN.LEFT
            run = paragraph.add_run()
            run.text = text
            _style(
                run,
                size_pt,
                bold=is_header or body_index in bold_rows,
                colour=WHITE if is_header else TEXT,
            )
    return shape


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _picture(
    slide: Slide, png: bytes, left_in: float, top_in: float, width_in: float, height_in: float
) -> None:
    """The image as large as fits the box, keeping its proportions, centred across the box."""
    width_px, height_px = _png_size(png)
    scale = min(width_in / width_px, height_in / height_px)
    shown_width, shown_height = width_px * scale, height_px * scale
    slide.shapes.add_picture(
        io.BytesIO(png),
        Inches(left_in + (width_in - shown_width) / 2),
        Inches(top_in),
        Inches(shown_width),
        Inches(shown_height),
    )


def _panel(
    slide: Slide, left_in: float, top_in: float, width_in: float, height_in: float, text: str
) -> None:
    """A grey panel holding a sentence: what a slide shows where there is nothing to draw."""
    panel = slide.shapes.add_shape(
        MSO_SHAPE.RECTANGLE, Inches(left_in), Inches(top_in), Inches(width_in), Inches(height_in)
    )
    _fill(panel, PANEL)
    panel.line.fill.background()
    size = fitting_size(text, width_in - 1.0, height_in - 0.4, 22) or MIN_PT
    _text_box(
        slide,
        left_in + 0.5,
        top_in + 0.2,
        width_in - 1.0,
        height_in - 0.4,
        [text],
        size,
        MUTED,
        align=PP_ALIGN.CENTER,
        anchor=MSO_ANCHOR.MIDDLE,
    )


def _commentary(
    slide: Slide,
    section: StrandSection,
    top_in: float,
    notes: list[str],
    force_wide: str | None = None,
) -> None:
    """The lead's commentary in the band from `top_in` to the footer, at the largest size that
    fits; when even the smallest does not, the band says so and the notes hold the words.
    Under a place filter the lead says the commentary is the whole force's (`force_wide`)."""
    height = BODY_BOTTOM_IN - top_in
    lead = (
        "Lead's commentary (force-wide): "
        if force_wide and section.commentary
        else ("Lead's commentary: ")
    )
    if force_wide and section.commentary:
        notes.append(force_wide)
    text = section.commentary or (
        f"No commentary is recorded for {section.strand.name.lower()} for this period."
    )
    size = fitting_size(lead + text, CONTENT_WIDTH_IN, height, BODY_PT)
    if size is None:
        text = "The commentary is too long for this slide; it is in the speaker notes."
        size = MIN_PT
    if section.commentary:
        notes.append(f"Commentary: {section.commentary}")
    _text_box(slide, MARGIN_IN, top_in, CONTENT_WIDTH_IN, height, [(lead, text)], size)


def _title_slide(deck: _Deck) -> None:
    content = deck.content
    presentation = deck.presentation
    slide = presentation.slides.add_slide(presentation.slide_layouts[TITLE_LAYOUT])
    band = slide.shapes.add_shape(MSO_SHAPE.RECTANGLE, 0, 0, presentation.slide_width, Inches(0.35))
    _fill(band, ACCENT)
    band.line.fill.background()
    title = slide.shapes.title
    title.left, title.top = Inches(MARGIN_IN + 0.3), Inches(1.5)
    title.width, title.height = Inches(CONTENT_WIDTH_IN - 0.6), Inches(1.2)
    title.text_frame.text = REPORT_TITLE
    title.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    _style(title.text_frame.paragraphs[0].runs[0], 44, True)
    subtitle = slide.placeholders[1]
    subtitle.left, subtitle.top = Inches(MARGIN_IN + 0.3), Inches(2.7)
    subtitle.width, subtitle.height = Inches(CONTENT_WIDTH_IN - 0.6), Inches(0.7)
    subtitle.text_frame.text = (
        f"Performance report for {content.force_label}: {content.current_window.label()}"
    )
    subtitle.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    _style(subtitle.text_frame.paragraphs[0].runs[0], 24, False, MUTED)
    lines = [(f"{label}: ", value) for label, value in content.filter_lines()]
    lines.append(("Prepared: ", f"{content.generated_at:%d %B %Y}"))
    _text_box(slide, MARGIN_IN + 0.3, 3.8, CONTENT_WIDTH_IN - 0.6, 2.8, lines, 18)
    _set_notes(slide, [content.source_note(), *content.window_notes()])


SUMMARY_LARGEST_PT = 20
SUMMARY_SMALLEST_PT = 16
SENTENCE_END = re.compile(r"(?<=[.;])\s+(?=[A-Z])")


def _bulleted(items: Sequence[str]) -> str:
    return "\n".join("\u2022  " + item for item in items)


def _summary_fits(items: Sequence[str], width_in: float, height_in: float) -> bool:
    text = _bulleted(items)
    return (
        fitting_size(text, width_in, height_in, SUMMARY_LARGEST_PT, SUMMARY_SMALLEST_PT) is not None
    )


def _summary_items(paragraphs: Sequence[str], width_in: float, height_in: float) -> list[str]:
    """The narrative's paragraphs, a paragraph too long for one slide cut between sentences."""
    items = []
    for paragraph in paragraphs:
        if _summary_fits([paragraph], width_in, height_in):
            items.append(paragraph)
            continue
        chunk = ""
        for sentence in SENTENCE_END.split(paragraph):
            trial = f"{chunk} {sentence}".strip()
            if chunk and not _summary_fits([trial], width_in, height_in):
                items.append(chunk)
                chunk = sentence
            else:
                chunk = trial
        items.append(chunk)
    return items


def _summary_slides(deck: _Deck) -> None:
    content = deck.content
    paragraphs = content.narrative or [
        "No summary statements are available for this choice of places and strands."
    ]
    # Room is left for the space after each bullet, which the line estimate does not count.
    width, height = CONTENT_WIDTH_IN, (BODY_BOTTOM_IN - BODY_TOP_IN) * 0.9
    pages: list[list[str]] = [[]]
    for item in _summary_items(paragraphs, width, height):
        if pages[-1] and not _summary_fits([*pages[-1], item], width, height):
            pages.append([item])
        else:
            pages[-1].append(item)
    for index, page in enumerate(pages):
        title = "Summary" if len(pages) == 1 else f"Summary ({index + 1} of {len(pages)})"
        slide = deck.slide(
            title,
            f"{content.current_window.label()} · {content.place_label}",
            [
                "What changed, in sentences generated from the insight figures; each change "
                f"described as {BEYOND_NORMAL} passed a test that allows for it.",
                *content.window_notes(),
                content.source_note(),
            ],
        )
        size = fitting_size(_bulleted(page), width, height, SUMMARY_LARGEST_PT, SUMMARY_SMALLEST_PT)
        _text_box(
            slide,
            MARGIN_IN,
            BODY_TOP_IN,
            width,
            BODY_BOTTOM_IN - BODY_TOP_IN,
            page,
            size or SUMMARY_SMALLEST_PT,
            bullets=True,
        )


OVERVIEW_COLUMNS = _columns(OVERVIEW_HEADINGS, (3.0, 3.35, 1.3, 1.45, 1.45, 1.78), first_numeric=2)


def _overview_slides(deck: _Deck) -> None:
    content = deck.content
    overview = content.overview
    pages = _pages(overview_rows(content), OVERVIEW_COLUMNS, BODY_BOTTOM_IN - BODY_TOP_IN, TABLE_PT)
    notes = [
        f"12 months: the count in the {overview.current_label}.",
        f"vs year before: % change against the {overview.previous_label}; vs baseline: % "
        f"change against the {overview.baseline_label}, the pre-Covid year.",
        "'incomplete' means the data does not cover every month of a window, so no change "
        "is given; 'n/a' means the comparison window counted none.",
        f"Delivery complete: actions complete of all the strand's actions at the end of "
        f"{overview.delivery_label or 'the latest quarter'} (the plan is force-wide).",
        content.source_note(),
    ]
    for index, page in enumerate(pages):
        title = (
            "Strands at a glance"
            if len(pages) == 1
            else f"Strands at a glance ({index + 1} of {len(pages)})"
        )
        slide = deck.slide(title, f"{overview.current_label} · {content.place_label}", notes)
        _table(slide, MARGIN_IN, BODY_TOP_IN, OVERVIEW_COLUMNS, page)


DELIVERY_COLUMNS = _columns(
    DELIVERY_HEADINGS, (4.93, 1.1, 1.3, 1.2, 1.2, 1.3, 1.3), first_numeric=1
)


def _delivery_slide(deck: _Deck) -> None:
    content = deck.content
    plan = content.delivery
    notes = [
        "The status of every delivery-plan action at the end of the reporting quarter; the "
        "total row is summed from the actions. The plan is force-wide: the place filters do "
        "not change it.",
        f"Source: the delivery plan's actions and quarterly statuses, {content.force_label}.",
    ]
    caption = f"Status at the end of {plan.quarter_label}" if plan.quarter_label else None
    slide = deck.slide("Delivery plan", caption, notes)
    if plan.status is None:
        _panel(slide, MARGIN_IN, BODY_TOP_IN, CONTENT_WIDTH_IN, 3.0, plan.unavailable or "")
        return
    rows = delivery_rows(plan.status)
    size = TABLE_PT
    height = BODY_BOTTOM_IN - BODY_TOP_IN
    # The status table is one slide: a long plan gets smaller type rather than a second slide.
    while size > 11 and len(_pages(rows, DELIVERY_COLUMNS, height, size)) > 1:
        size -= 1
    _table(slide, MARGIN_IN, BODY_TOP_IN, DELIVERY_COLUMNS, rows, size, bold_rows=[len(rows) - 1])


COMPARE_COLUMNS = _columns(
    [
        "Offence group",
        "Rate per 1,000",
        "England and Wales",
        "% change",
        "Rank of 42",
        "In peer group",
        "Against chance",
        "Allowing for spread",
    ],
    [2.9, 1.2, 1.3, 1.0, 0.9, 1.1, 1.3, 1.5],
    first_numeric=1,
)


def comparison_slide_rows(table: Any) -> list[list[str]]:
    """The "How we compare" slide's rows: one per main offence group, the published figures
    as printed (a suppressed cell shows its ONS marker), from the report's comparison."""
    rows = []
    for row in table.to_dict("records"):
        rate = row["rate_per_1000"]
        change = row["pct_change"]
        rows.append(
            [
                row["offence_group"]
                + (" (per 1,000 households)" if row["denominator"] == "households" else ""),
                f"[{row['rate_marker']}]" if rate is None else f"{rate:.2f}",
                f"{row['england_wales_rate']:.2f}",
                f"[{row['pct_change_marker']}]" if change is None else f"{change:+.1f}%",
                "" if row["rank"] is None else str(row["rank"]),
                row["peer_place"] or "",
                row["funnel"] or "",
                row["funnel_overdispersed"] or "",
            ]
        )
    return rows


def _comparison_slide(deck: _Deck) -> None:
    """How the force compares with its peers and England and Wales (ONS tables), when held."""
    summary = deck.content.comparison
    if summary is None:
        return
    group = summary.group
    notes = [
        *summary.sentences,
        group.basis,
        "Against chance: outside the 95% or 99.8% Poisson limits around the England and Wales "
        "rate for a force of that size. Allowing for spread: outside the same limits widened by "
        "the spread between forces, so a real difference from the others.",
        f"Source: ONS police force area data tables, {summary.edition.label()}.",
    ]
    caption = f"{group.force}, {summary.edition.label()} · peers: {group.label}"
    slide = deck.slide("How we compare", caption, notes)
    rows = comparison_slide_rows(summary.table)
    size = TABLE_PT
    while size > 10 and len(_pages(rows, COMPARE_COLUMNS, BODY_BOTTOM_IN - BODY_TOP_IN, size)) > 1:
        size -= 1
    _table(slide, MARGIN_IN, BODY_TOP_IN, COMPARE_COLUMNS, rows, size, bold_rows=[0])


def comparison_rows(section: MeasureSection) -> list[tuple[str, list[list[str]], str | None]]:
    """Each insight table of a measure turned on its side for a narrow column: (title, rows of
    label and value, note)."""
    tables = []
    for comparison in section.comparisons:
        cells = comparison.table.iloc[0]
        tables.append(
            (
                comparison.title,
                [[str(label), str(value)] for label, value in cells.items()],
                comparison.note,
            )
        )
    return tables


def measure_notes(content: ReportContent, section: MeasureSection) -> list[str]:
    """The speaker notes of a measure's slide: what is counted, the windows, the source."""
    measure = section.measure
    notes = [
        f"{measure.name}: {measure.definition}",
        f"Counted: {measure.rule.describe()}. {section.better_when} is better.",
    ]
    if measure.proxy_note:
        notes.append(f"Proxy measure: {measure.proxy_note}")
    notes += content.window_notes()
    notes.append(
        f"The chart shows each month from {chart_months_label(content.period)}: blue the "
        "current window, orange the same months a year earlier, grey earlier months; a "
        "shaded month has no data."
    )
    for comparison in section.comparisons:
        if comparison.note:
            notes.append(f"{comparison.title}: {comparison.note}")
    notes.append(content.source_note())
    return notes


COMPARISON_COLUMNS = (_Column("", 2.6), _Column("", 1.3, numeric=True))
CHART_WIDTH_IN = 8.2
CHART_HEIGHT_IN = 3.9


def _measure_slide(
    deck: _Deck, section: StrandSection, measure: MeasureSection, png: bytes | None
) -> None:
    content = deck.content
    notes = measure_notes(content, measure)
    slide = deck.slide(
        f"{section.strand.name}: {measure.measure.name}",
        f"{content.current_window.label()} · {content.place_label} · "
        f"{measure.better_when} is better",
        notes,
    )
    if png is not None:
        _picture(slide, png, MARGIN_IN, BODY_TOP_IN, CHART_WIDTH_IN, CHART_HEIGHT_IN)
    else:
        _panel(
            slide,
            MARGIN_IN,
            BODY_TOP_IN,
            CHART_WIDTH_IN,
            CHART_HEIGHT_IN,
            measure.no_counts_note or "",
        )
    left = MARGIN_IN + CHART_WIDTH_IN + 0.2
    width = sum(c.width_in for c in COMPARISON_COLUMNS)
    top = BODY_TOP_IN
    for title, rows, note in comparison_rows(measure):
        _text_box(slide, left, top, width, 0.36, [title], BODY_PT, bold=True)
        top += 0.38
        _table(slide, left, top, COMPARISON_COLUMNS, rows, bold_rows=[3], header=False)
        top += sum(_row_height_in(r, COMPARISON_COLUMNS, TABLE_PT) for r in rows)
        if note:
            size = fitting_size(note, width, 0.45, 12, 10) or 10
            _text_box(slide, left, top + 0.02, width, 0.45, [note], size, MUTED)
            top += 0.45
        top += 0.15
    _commentary(
        slide,
        section,
        max(BODY_TOP_IN + CHART_HEIGHT_IN, top) + 0.1,
        notes,
        content.force_wide_note("The lead's commentary is"),
    )
    _set_notes(slide, notes)


ACTIVITY_COLUMNS = (
    *_columns(ACTIVITY_HEADINGS[:2], (2.6, 4.3), first_numeric=2),
    _Column(ACTIVITY_HEADINGS[2], 1.9, numeric=True),
    _Column(ACTIVITY_HEADINGS[3], 3.53),
)


def _activity_slides(deck: _Deck, section: StrandSection) -> None:
    content = deck.content
    strand = section.strand
    notes = [
        f"Operational results for {strand.name.lower()}, as reported by the strand lead "
        f"({strand.lead_role}): the latest value of each result reported up to "
        f"{month_long_label(content.period)}.",
        "These are not counts of records: they are force-wide and the place filters do not "
        "change them.",
        f"Source: the activity returns, {content.force_label}.",
    ]
    with_commentary = not section.measures
    bottom = BODY_BOTTOM_IN - (1.3 if with_commentary else 0.0)
    pages = _pages(
        activity_rows(section.activity), ACTIVITY_COLUMNS, bottom - BODY_TOP_IN, TABLE_PT
    )
    for index, page in enumerate(pages):
        title = f"{strand.name}: operational results"
        if len(pages) > 1:
            title += f" ({index + 1} of {len(pages)})"
        caption = section.note if with_commentary else f"{strand.group} · lead: {strand.lead_role}"
        page_notes = list(notes)
        slide = deck.slide(title, caption, page_notes)
        _table(slide, MARGIN_IN, BODY_TOP_IN, ACTIVITY_COLUMNS, page)
        if with_commentary:
            _commentary(
                slide,
                section,
                bottom + 0.1,
                page_notes,
                content.force_wide_note("The lead's commentary is"),
            )
        _set_notes(slide, page_notes)


def _empty_strand_slide(deck: _Deck, section: StrandSection, note: str) -> None:
    notes = [note, f"Thematic lead: {section.strand.lead_role}.", deck.content.source_note()]
    strand = section.strand
    slide = deck.slide(strand.name, f"{strand.group} · lead: {strand.lead_role}", notes)
    _panel(slide, MARGIN_IN, BODY_TOP_IN, CONTENT_WIDTH_IN, 2.6, note)
    _commentary(
        slide,
        section,
        BODY_TOP_IN + 2.8,
        notes,
        deck.content.force_wide_note("The lead's commentary is"),
    )
    _set_notes(slide, notes)


# python-pptx refuses a core property (title, subject, author) longer than this; a deck over
# many forces names them all in its subject and author, which the title slide shows in full.
CORE_PROPERTY_CHARS = 255


def _core_property(text: str) -> str:
    if len(text) <= CORE_PROPERTY_CHARS:
        return text
    return text[: CORE_PROPERTY_CHARS - 1].rsplit(" ", 1)[0] + "…"


def build_deck(content: ReportContent, progress: Progress = no_progress) -> bytes:
    """The deck as .pptx bytes; `progress(fraction, message)` hears about each chart drawn."""
    presentation = Presentation()
    presentation.slide_width = Inches(SLIDE_WIDTH_IN)
    presentation.slide_height = Inches(SLIDE_HEIGHT_IN)
    core = presentation.core_properties
    core.title = _core_property(f"{REPORT_TITLE}: {content.current_window.label()}")
    core.subject = _core_property(content.filter_summary())
    core.author = _core_property(content.force_label)
    deck = _Deck(presentation, content)
    progress(0.0, "Laying out the summary slides")
    _title_slide(deck)
    _summary_slides(deck)
    _overview_slides(deck)
    _delivery_slide(deck)
    _comparison_slide(deck)
    charts = [m.chart for s in content.strands for m in s.measures if m.has_counts]
    progress(0.05, f"Drawing {len(charts)} charts")
    pictures = iter(
        slide_pngs(
            charts,
            lambda drawn: progress(
                0.05 + 0.9 * drawn / max(len(charts), 1), f"Drawn {drawn} of {len(charts)} charts"
            ),
        )
    )
    for section in content.strands:
        for measure in section.measures:
            png = next(pictures) if measure.has_counts else None
            _measure_slide(deck, section, measure, png)
        if not section.activity.empty:
            _activity_slides(deck, section)
        empty = strand_empty_note(section, content.period)
        if empty is not None:
            _empty_strand_slide(deck, section, section.strand.not_supported or empty)
    progress(0.97, "Saving the deck")
    buffer = io.BytesIO()
    presentation.save(buffer)
    progress(1.0, "Deck ready")
    return buffer.getvalue()
