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
import itertools
import math
import struct
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from pptx import Presentation
from pptx.dml.color import RGBColor
from pptx.enum.shapes import MSO_SHAPE, PP_PLACEHOLDER
from pptx.enum.text import MSO_ANCHOR, MSO_AUTO_SIZE, PP_ALIGN
from pptx.presentation import Presentation as PresentationType
from pptx.slide import Slide
from pptx.util import Emu, Inches, Pt

from crimeprev.errors import CrimeprevError
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
    chart_alt_text,
    chart_months_label,
    no_progress,
    strand_empty_note,
)
from crimeprev.report.render import slide_pngs
from crimeprev.report.wording import (
    CONCERN,
    IMPROVEMENT,
    Finding,
    count_words,
    findings,
    glance_title,
    month_words,
    summary_bullets,
    summary_title,
)
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
# Good and bad news in colours told apart in every common colour vision (Okabe and Ito's
# blue and vermilion, dark enough for 4.5:1 on white); words always say the same.
TONE_COLOURS = {IMPROVEMENT: _rgb("#005A8C"), CONCERN: _rgb("#B34000")}

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

    def slide(
        self,
        title: str,
        caption: str | None,
        notes: Sequence[str],
        key: str | None = None,
        caption_colour: RGBColor = MUTED,
    ) -> Slide:
        """A slide with its title, a caption line under it, the marking, the footer and speaker
        notes; `key` names the slide (`measure:knife-crime`) for programs that read the deck."""
        slide: Slide = self.presentation.slides.add_slide(self.layout(TITLE_ONLY_LAYOUT_NAME))
        _clear_placeholders(slide)
        if key:
            slide._element.cSld.set("name", key)
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
            width = CONTENT_WIDTH_IN - 0.2
            size = fitting_size(caption, width, CAPTION_HEIGHT_IN, 16, MIN_PT) or MIN_PT
            _text_box(
                slide,
                MARGIN_IN + 0.2,
                1.03,
                width,
                CAPTION_HEIGHT_IN,
                [caption],
                size,
                caption_colour,
            ).name = CAPTION_SHAPE
        self.furnish(slide)
        _set_notes(slide, notes)
        return slide

    def layout(self, name: str) -> Any:
        """The layout of that name in the template, else the default deck's by position."""
        layouts: list[Any] = list(self.presentation.slide_layouts)
        for layout in layouts:
            if layout.name == name:
                return layout
        index = TITLE_LAYOUT if name == TITLE_LAYOUT_NAME else TITLE_ONLY_LAYOUT
        with_title = [
            layout
            for layout in layouts
            if any(p.placeholder_format.type in TITLE_TYPES for p in list(layout.placeholders))
        ]
        if index < len(layouts) and layouts[index] in with_title:
            return layouts[index]
        if not with_title:
            raise TemplateError(
                "The deck's template has no slide layout with a title placeholder; give a "
                "template whose layouts include 'Title Only'."
            )
        return with_title[0]

    def furnish(self, slide: Slide) -> None:
        """What every slide carries: the protective marking at the top and in the footer, the
        meeting details, the report's period and the slide's number."""
        content = self.content
        marking = content.settings.marking
        _text_box(
            slide,
            SLIDE_WIDTH_IN / 2 - 2.0,
            0.0,
            4.0,
            0.3,
            [marking],
            MARKING_PT,
            TEXT,
            bold=True,
            align=PP_ALIGN.CENTER,
        ).name = MARKING_SHAPE
        footer = [
            f"{marking} · {REPORT_TITLE}, {content.current_window.label()}, {content.place_label}",
            content.meeting_summary(),
        ]
        width = CONTENT_WIDTH_IN - 0.8
        _text_box(
            slide, MARGIN_IN, FOOTER_TOP_IN, width, 0.48, footer, FOOTER_PT, MUTED
        ).name = FOOTER_SHAPE
        _text_box(
            slide,
            SLIDE_WIDTH_IN - MARGIN_IN - 0.8,
            FOOTER_TOP_IN,
            0.8,
            0.35,
            [str(len(self.presentation.slides))],
            FOOTER_PT,
            MUTED,
            align=PP_ALIGN.RIGHT,
        ).name = "Slide number"


TITLE_LAYOUT_NAME = "Title Slide"
TITLE_ONLY_LAYOUT_NAME = "Title Only"
MARKING_PT = 12
FOOTER_PT = 9
CAPTION_HEIGHT_IN = 0.45
CAPTION_SHAPE = "Caption"
MARKING_SHAPE = "Protective marking"
FOOTER_SHAPE = "Footer"


TITLE_TYPES = (PP_PLACEHOLDER.TITLE, PP_PLACEHOLDER.CENTER_TITLE)


def _clear_placeholders(slide: Slide, keep: Sequence[int] = ()) -> None:
    """Take away a layout's placeholders the slide does not fill (a template's body or
    footer boxes), keeping the title and those whose `idx` is in `keep`."""
    for placeholder in list(slide.placeholders):
        kind = placeholder.placeholder_format.type
        if kind in TITLE_TYPES or placeholder.placeholder_format.idx in keep:
            continue
        element = placeholder._element
        element.getparent().remove(element)


class TemplateError(CrimeprevError):
    """The deck's template cannot be read or used."""

    title = "The deck's template cannot be used"


TEMPLATE_TYPE = "application/vnd.openxmlformats-officedocument.presentationml.template.main+xml"
PRESENTATION_TYPE = (
    "application/vnd.openxmlformats-officedocument.presentationml.presentation.main+xml"
)


def _presentation(template: Path | None) -> PresentationType:
    """A new deck: python-pptx's default, or one on a template's masters and layouts (a .potx
    is opened as the deck it describes; any slides it holds are taken out)."""
    if template is None:
        return Presentation()
    try:
        data = template.read_bytes()
        source = zipfile.ZipFile(io.BytesIO(data))
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as copy:
            for item in source.infolist():
                body = source.read(item.filename)
                if item.filename == "[Content_Types].xml":
                    body = body.replace(TEMPLATE_TYPE.encode(), PRESENTATION_TYPE.encode())
                copy.writestr(item, body)
        presentation = Presentation(io.BytesIO(buffer.getvalue()))
    except OSError as error:
        raise TemplateError(
            f"Cannot read the deck's template {template}: {error.strerror or error}."
        ) from error
    except (zipfile.BadZipFile, KeyError, ValueError) as error:
        raise TemplateError(
            f"The deck's template {template} is not a PowerPoint template (.potx or .pptx)."
        ) from error
    slides = presentation.slides._sldIdLst
    for slide_id in list(slides):
        presentation.part.drop_rel(slide_id.rId)
        slides.remove(slide_id)
    return presentation


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
    colours: dict[tuple[int, int], RGBColor] | None = None,
) -> Any:
    """A table with a blue header row (unless `header` is false) and striped body rows;
    numbers right-aligned. `bold_rows` counts body rows from 0; `colours` gives a body cell
    (row, column) bold type in a colour."""
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
            colour = None if is_header else (colours or {}).get((body_index, column_index))
            _style(
                run,
                size_pt,
                bold=is_header or body_index in bold_rows or colour is not None,
                colour=WHITE if is_header else colour or TEXT,
            )
    return shape


def _png_size(png: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", png[16:24])
    return int(width), int(height)


def _picture(
    slide: Slide,
    png: bytes,
    left_in: float,
    top_in: float,
    width_in: float,
    height_in: float,
    alt_text: str,
) -> None:
    """The image as large as fits the box, keeping its proportions, centred across the box,
    with `alt_text` as the description a screen reader speaks."""
    width_px, height_px = _png_size(png)
    scale = min(width_in / width_px, height_in / height_px)
    shown_width, shown_height = width_px * scale, height_px * scale
    picture = slide.shapes.add_picture(
        io.BytesIO(png),
        Inches(left_in + (width_in - shown_width) / 2),
        Inches(top_in),
        Inches(shown_width),
        Inches(shown_height),
    )
    picture.name = "Chart"
    element: Any = picture._element
    element.nvPicPr.cNvPr.set("descr", alt_text)


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
    mark = [section.words_mark] if section.words_mark else []
    size = fitting_size(" ".join([lead + text, *mark]), CONTENT_WIDTH_IN, height, BODY_PT)
    if size is None:
        text = "The commentary is too long for this slide; it is in the speaker notes."
        size = MIN_PT
    if section.commentary:
        notes.append(f"Commentary: {section.commentary}")
    notes.extend(mark)
    _text_box(slide, MARGIN_IN, top_in, CONTENT_WIDTH_IN, height, [(lead, text), *mark], size)


def _title_slide(deck: _Deck) -> None:
    content = deck.content
    presentation = deck.presentation
    slide = presentation.slides.add_slide(deck.layout(TITLE_LAYOUT_NAME))
    _clear_placeholders(slide)
    slide._element.cSld.set("name", "title")
    band = slide.shapes.add_shape(
        MSO_SHAPE.RECTANGLE, 0, Inches(0.32), presentation.slide_width, Inches(0.12)
    )
    _fill(band, ACCENT)
    band.line.fill.background()
    title = slide.shapes.title
    title.left, title.top = Inches(MARGIN_IN + 0.3), Inches(1.0)
    title.width, title.height = Inches(CONTENT_WIDTH_IN - 0.6), Inches(1.1)
    title.text_frame.text = REPORT_TITLE
    title.text_frame.paragraphs[0].alignment = PP_ALIGN.LEFT
    _style(title.text_frame.paragraphs[0].runs[0], 44, True)
    _text_box(
        slide,
        MARGIN_IN + 0.3,
        2.1,
        CONTENT_WIDTH_IN - 0.6,
        0.6,
        [f"Performance report for {content.force_label}: {content.current_window.label()}"],
        24,
        MUTED,
    )
    lines = [(f"{label}: ", value) for label, value in content.filter_lines()]
    lines.append(("Prepared: ", f"{content.generated_at:%d %B %Y}"))
    height = 6.85 - 2.9
    size = fitting_size(
        "\n".join(a + b for a, b in lines), (CONTENT_WIDTH_IN - 0.6) * 0.6, height, 18, 12
    )
    _text_box(
        slide, MARGIN_IN + 0.3, 2.9, (CONTENT_WIDTH_IN - 0.6) * 0.6, height, lines, size or 12
    )
    meeting = [(f"{label}: ", value) for label, value in content.meeting_lines()]
    _text_box(
        slide,
        MARGIN_IN + 0.3 + (CONTENT_WIDTH_IN - 0.6) * 0.62,
        2.9,
        (CONTENT_WIDTH_IN - 0.6) * 0.38,
        height,
        meeting,
        18,
    )
    deck.furnish(slide)
    _set_notes(slide, [content.source_note(), *content.window_notes()])


SUMMARY_LARGEST_PT = 28
SUMMARY_SMALLEST_PT = 24


def _bulleted(items: Sequence[str]) -> str:
    return "\n".join("\u2022  " + item for item in items)


def _delivery_bullet(content: ReportContent) -> str | None:
    status = content.delivery.status
    if status is None:
        return None
    total = status[status["strand_id"] == "total"]
    if total.empty:
        return None
    row = total.iloc[0]
    return (
        f"Delivery plan: {count_words(row['complete'])} of {count_words(row['total'])} actions "
        f"complete at the end of {content.delivery.quarter_label}; "
        f"{count_words(row['at_risk'])} at risk"
    )


def _suppression_words(content: ReportContent) -> str:
    threshold = content.config.map.sensitive_min_count
    return f" · in sensitive strands a count under {threshold} reads “fewer than {threshold}”"


def _summary_slide(deck: _Deck, found: list[Finding]) -> None:
    """One slide of at most five bullets, exceptions first, at 24 pt or more; the generated
    narrative, every sentence of it, goes to the speaker notes."""
    content = deck.content
    delivery = _delivery_bullet(content)
    bullets = summary_bullets(found, delivery)
    slide = deck.slide(
        summary_title(found, content.period),
        f"{content.current_window.label()} · {content.place_label} · exceptions first"
        + (_suppression_words(content) if content.filters.role == "viewer" else ""),
        [
            "Exceptions: a change on the year before that is "
            f"{BEYOND_NORMAL} (a test that allows for it), or a special-cause signal on the "
            "measure's XmR chart in the latest month.",
            *content.narrative,
            *content.window_notes(),
            content.source_note(),
        ],
        key="summary",
    )
    width, height = CONTENT_WIDTH_IN, BODY_BOTTOM_IN - BODY_TOP_IN
    # Fewer bullets, the further exceptions named in one, until they fit at 24 pt (room is
    # left for the space after each bullet, which the line estimate does not count).
    size = None
    for most in range(len(bullets), 1, -1):
        bullets = summary_bullets(found, delivery, most)
        size = fitting_size(
            _bulleted(bullets), width, height * 0.85, SUMMARY_LARGEST_PT, SUMMARY_SMALLEST_PT
        )
        if size is not None:
            break
    _text_box(
        slide,
        MARGIN_IN,
        BODY_TOP_IN,
        width,
        height,
        bullets,
        size or SUMMARY_SMALLEST_PT,
        bullets=True,
    ).name = "Summary"


OVERVIEW_COLUMNS = _columns(
    OVERVIEW_HEADINGS, (2.55, 3.0, 1.2, 1.35, 1.35, 1.6, 1.28), first_numeric=2
)
VERDICT_COLUMN = OVERVIEW_HEADINGS.index("Beyond normal variation")
CHANGE_COLUMN = OVERVIEW_HEADINGS.index("vs year before")


def _overview_slides(deck: _Deck, found: list[Finding]) -> None:
    content = deck.content
    overview = content.overview
    rows = overview_rows(content, found)
    pages = _pages(rows, OVERVIEW_COLUMNS, BODY_BOTTOM_IN - BODY_TOP_IN, TABLE_PT)
    tones = {f.measure_name: f.tone for f in found if f.significant}
    notes = [
        f"12 months: the count in the {overview.current_label}.",
        f"vs year before: % change against the {overview.previous_label}; vs baseline: % "
        f"change against the {overview.baseline_label}, the pre-Covid year.",
        f"Beyond normal variation: whether the change on the year before is {BEYOND_NORMAL}; "
        "bold and coloured when it is (blue an improvement, orange a concern).",
        "'incomplete' means the data does not cover every month of a window, so no change "
        "is given; 'n/a' means the comparison window counted none.",
        f"Delivery complete: actions complete of all the strand's actions at the end of "
        f"{overview.delivery_label or 'the latest quarter'} (the plan is force-wide).",
        content.source_note(),
    ]
    title = glance_title(found)
    for index, page in enumerate(pages):
        colours = {
            (row, column): TONE_COLOURS[tones[cells[1]]]
            for row, cells in enumerate(page)
            if cells[1] in tones
            for column in (CHANGE_COLUMN, VERDICT_COLUMN)
        }
        slide = deck.slide(
            title if len(pages) == 1 else f"{title} ({index + 1} of {len(pages)})",
            f"{overview.current_label} · {content.place_label}",
            notes,
            key=f"glance:{index + 1}",
        )
        _table(slide, MARGIN_IN, BODY_TOP_IN, OVERVIEW_COLUMNS, page, colours=colours)


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
    title = "Delivery plan"
    if plan.status is not None:
        total = plan.status[plan.status["strand_id"] == "total"]
        if not total.empty:
            row = total.iloc[0]
            title = (
                f"Delivery plan: {count_words(row['complete'])} of {count_words(row['total'])} "
                f"actions complete, {count_words(row['at_risk'])} at risk"
            )
    slide = deck.slide(title, caption, notes, key="delivery")
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
    slide = deck.slide("How we compare", caption, notes, key="compare")
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


# The label column holds "12 months ending Sep 2022" on one line at the table's type size.
COMPARISON_COLUMNS = (_Column("", 2.9), _Column("", 1.0, numeric=True))
CHART_WIDTH_IN = 8.2
CHART_HEIGHT_IN = 3.9


def _verdict_caption(section: StrandSection, finding: Finding | None) -> str:
    """The line under a measure slide's title: the strand, whether the change is beyond
    normal variation and good or bad news, the SPC signal, and which way is better."""
    parts = [section.strand.name]
    if finding is not None:
        tone = f", {finding.tone_words}" if finding.significant and finding.tone_words else ""
        parts.append(f"{finding.verdict[:1].upper()}{finding.verdict[1:]}{tone}")
        parts.append(f"SPC: {finding.variation.lower() or 'no chart'}")
    return " · ".join(parts)


def _measure_slide(
    deck: _Deck,
    section: StrandSection,
    measure: MeasureSection,
    png: bytes | None,
    finding: Finding | None,
    with_commentary: bool,
) -> None:
    content = deck.content
    notes = measure_notes(content, measure)
    tone = finding.tone if finding is not None and finding.is_exception else None
    slide = deck.slide(
        finding.title() if finding is not None else measure.measure.name,
        f"{_verdict_caption(section, finding)} · {measure.better_when} is better",
        notes,
        key=f"measure:{measure.measure.id}",
        caption_colour=TONE_COLOURS.get(tone or "", MUTED),
    )
    if png is not None:
        _picture(
            slide,
            png,
            MARGIN_IN,
            BODY_TOP_IN,
            CHART_WIDTH_IN,
            CHART_HEIGHT_IN,
            chart_alt_text(content, measure),
        )
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
            _text_box(slide, left, top + 0.02, width, 0.45, [note], size, MUTED).name = "Note"
            top += 0.45
        top += 0.15
    band = max(BODY_TOP_IN + CHART_HEIGHT_IN, top) + 0.1
    if with_commentary:
        _commentary(
            slide, section, band, notes, content.force_wide_note("The lead's commentary is")
        )
    else:
        # The strand's commentary is on its first measure slide; this one says instead what
        # the tests of its own change found, so no two slides repeat a paragraph.
        tests = [c for c in measure.comparisons if c.significance]
        lines = [(f"{c.title}: ", c.significance or "") for c in tests]
        text = "\n".join(a + b for a, b in lines)
        fits = fitting_size(text, CONTENT_WIDTH_IN, BODY_BOTTOM_IN - band, BODY_PT)
        if lines and fits is not None:
            _text_box(slide, MARGIN_IN, band, CONTENT_WIDTH_IN, BODY_BOTTOM_IN - band, lines, fits)
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
    rows = activity_rows(section.activity)
    pages = _pages(rows, ACTIVITY_COLUMNS, BODY_BOTTOM_IN - BODY_TOP_IN, TABLE_PT)
    for index, page in enumerate(pages):
        title = (
            f"{strand.name}: {len(rows)} operational result{'s' if len(rows) != 1 else ''} "
            f"reported to {month_words(content.period)}"
        )
        if len(pages) > 1:
            title += f" ({index + 1} of {len(pages)})"
        caption = f"{strand.group} · lead: {strand.lead_role} · force-wide"
        slide = deck.slide(title, caption, notes, key=f"activity:{strand.id}:{index + 1}")
        _table(slide, MARGIN_IN, BODY_TOP_IN, ACTIVITY_COLUMNS, page)


LIST_PT = 16
LIST_SMALLEST_PT = 14


def _listed(lines: list[str], width_in: float, height_in: float) -> tuple[list[str], int]:
    """As many of `lines` as fit the box at 16 or 14 pt, the last saying how many more the
    workbook holds; and the size."""
    for count in range(len(lines), -1, -1):
        shown = lines[:count]
        if count < len(lines):
            shown = [*shown, f"and {len(lines) - count} more (every action is in the workbook)"]
        size = fitting_size(_bulleted(shown), width_in, height_in * 0.85, LIST_PT, LIST_SMALLEST_PT)
        if size is not None:
            return shown, size
    return [], LIST_SMALLEST_PT


def _strand_delivery_slide(deck: _Deck, section: StrandSection, with_commentary: bool) -> None:
    """A strand's delivery achieved and scheduled, side by side; the lead's commentary too
    when the strand has no measure slide to carry it."""
    content = deck.content
    strand = section.strand
    plan = section.delivery
    empty = strand_empty_note(section, content.period)
    caption = empty or section.note or f"{strand.group} · lead: {strand.lead_role}"
    notes = [
        f"Delivery-plan actions of {strand.name.lower()} completed in the months ending "
        f"{month_long_label(content.period)}, and those due in the months after.",
        "The delivery plan is force-wide: the place filters do not change it.",
        f"Thematic lead: {strand.lead_role}.",
        content.source_note(),
    ]
    bottom = BODY_BOTTOM_IN - (1.5 if with_commentary else 0.0)
    if plan is None:
        title = f"{strand.name}: delivery"
        slide = deck.slide(title, caption, notes, key=f"strand:{strand.id}")
        _panel(
            slide,
            MARGIN_IN,
            BODY_TOP_IN,
            CONTENT_WIDTH_IN,
            bottom - BODY_TOP_IN - 0.1,
            content.delivery.unavailable or "No delivery plan is held.",
        )
    else:
        done, due = len(plan.achieved), len(plan.scheduled)
        title = f"{strand.name}: {done} action{'s' if done != 1 else ''} completed, {due} due next"
        slide = deck.slide(title, caption, notes, key=f"strand:{strand.id}")
        half = (CONTENT_WIDTH_IN - 0.3) / 2
        for column, (heading, lines, nothing) in enumerate(
            (
                (plan.achieved_heading, plan.achieved, "No action was completed."),
                (plan.scheduled_heading, plan.scheduled, "No action is due."),
            )
        ):
            left = MARGIN_IN + column * (half + 0.3)
            _text_box(slide, left, BODY_TOP_IN, half, 0.45, [heading], 18, bold=True)
            height = bottom - BODY_TOP_IN - 0.5
            shown, size = _listed(list(lines), half, height) if lines else ([nothing], LIST_PT)
            _text_box(
                slide, left, BODY_TOP_IN + 0.5, half, height, shown, size, bullets=bool(lines)
            )
    if with_commentary:
        _commentary(
            slide,
            section,
            bottom + 0.1,
            notes,
            content.force_wide_note("The lead's commentary is"),
        )
    _set_notes(slide, notes)


def _strand_line(section: StrandSection, found: dict[str, Finding], period: date) -> str:
    """A strand's line on its group's divider: each measure's change, and its delivery."""
    parts = []
    for measure in section.measures:
        finding = found.get(measure.measure.id)
        if finding is not None:
            parts.append(f"{finding.measure_name} {finding.change}, {finding.verdict}")
    if not section.measures:
        parts.append(
            section.note
            or strand_empty_note(section, period)
            or "reported through operational results"
        )
    if section.delivery is not None:
        parts.append(
            f"{len(section.delivery.achieved)} actions completed, "
            f"{len(section.delivery.scheduled)} due next"
        )
    return f"{section.strand.name}: " + "; ".join(parts)


def _divider_slide(
    deck: _Deck, group: str, sections: list[StrandSection], found: dict[str, Finding]
) -> None:
    """The slide opening a group of strands: each strand's findings in a line."""
    measures = [found[m.measure.id] for s in sections for m in s.measures if m.measure.id in found]
    standing_out = sum(1 for f in measures if f.is_exception)
    title = f"{group}: {len(sections)} strand{'s' if len(sections) != 1 else ''}"
    if measures:
        title += f", {standing_out} of {len(measures)} measures stand out"
    slide = deck.slide(
        title,
        "Strand group · the strands that follow, in a line each",
        [f"The {group} strands: {', '.join(s.strand.name for s in sections)}."],
        key=f"group:{group}",
    )
    lines = [_strand_line(s, found, deck.content.period) for s in sections]
    width, height = CONTENT_WIDTH_IN, BODY_BOTTOM_IN - BODY_TOP_IN
    size = fitting_size(_bulleted(lines), width, height * 0.85, 20, MIN_PT) or MIN_PT
    _text_box(slide, MARGIN_IN, BODY_TOP_IN, width, height, lines, size, bullets=True)


# python-pptx refuses a core property (title, subject, author) longer than this; a deck over
# many forces names them all in its subject and author, which the title slide shows in full.
CORE_PROPERTY_CHARS = 255


def _core_property(text: str) -> str:
    if len(text) <= CORE_PROPERTY_CHARS:
        return text
    return text[: CORE_PROPERTY_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _needs_delivery_slide(section: StrandSection) -> bool:
    """Whether a strand gets its delivery slide: when it has an action to list, or when it
    has commentary and no measure slide to carry it. Otherwise the slide would be all but
    empty, and the group's divider says what the strand has."""
    plan = section.delivery
    if plan is not None and (plan.achieved or plan.scheduled):
        return True
    return not section.measures and bool(section.commentary)


def build_deck(content: ReportContent, progress: Progress = no_progress) -> bytes:
    """The deck as .pptx bytes; `progress(fraction, message)` hears about each chart drawn."""
    presentation = _presentation(content.settings.template)
    presentation.slide_width = Inches(SLIDE_WIDTH_IN)
    presentation.slide_height = Inches(SLIDE_HEIGHT_IN)
    core = presentation.core_properties
    core.title = _core_property(f"{REPORT_TITLE}: {content.current_window.label()}")
    core.subject = _core_property(content.filter_summary())
    core.author = _core_property(content.force_label)
    core.category = content.settings.marking
    core.keywords = content.settings.marking
    deck = _Deck(presentation, content)
    found = findings(content.overview.rows)
    by_measure = {f.measure_id: f for f in found}
    progress(0.0, "Laying out the summary slides")
    _title_slide(deck)
    _summary_slide(deck, found)
    _overview_slides(deck, found)
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
    for group, members in itertools.groupby(content.strands, key=lambda s: s.strand.group):
        sections = list(members)
        _divider_slide(deck, group, sections, by_measure)
        for section in sections:
            for index, measure in enumerate(section.measures):
                png = next(pictures) if measure.has_counts else None
                finding = by_measure.get(measure.measure.id)
                _measure_slide(deck, section, measure, png, finding, with_commentary=index == 0)
            if not section.activity.empty:
                _activity_slides(deck, section)
            if _needs_delivery_slide(section):
                _strand_delivery_slide(deck, section, with_commentary=not section.measures)
    progress(0.97, "Saving the deck")
    buffer = io.BytesIO()
    presentation.save(buffer)
    progress(1.0, "Deck ready")
    return buffer.getvalue()
