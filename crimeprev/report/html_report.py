"""The report as one HTML file, for those who email it: charts embedded, prints cleanly on A4.

Each chart is an SVG image inside the file (a `data:` URL, so nothing is fetched and no two
charts' internal ids can collide). Tables carry `data-` attributes naming the measure and
comparison they hold, so a reader program can find a figure without parsing the layout.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from html import escape

from crimeprev.figures.overview import ACTIVITY_ONLY, BETTER_WHEN
from crimeprev.periods import month_long_label
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
from crimeprev.report.render import report_svg
from crimeprev.report.wording import findings, summary_bullets, summary_title

NUMBER_CLASS = ' class="num"'
TOTAL_CLASS = ' class="total"'
STYLE = """
:root { --text: #31333F; --muted: #555555; --accent: #0072B2; --stripe: #F0F2F6; }
* { box-sizing: border-box; }
body { font-family: "Source Sans Pro", Arial, sans-serif; color: var(--text); margin: 0 auto;
       max-width: 60rem; padding: 1.5rem; line-height: 1.4; }
h1 { font-size: 2rem; margin: 0 0 .25rem; border-left: .4rem solid var(--accent);
     padding-left: .6rem; }
h2 { font-size: 1.5rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--accent); }
h3 { font-size: 1.15rem; margin: 1.25rem 0 .25rem; }
.sub, .meta, .note, figcaption { color: var(--muted); }
dl.filters { display: grid; grid-template-columns: max-content 1fr; gap: .1rem 1rem; }
dl.filters dt { font-weight: bold; }
dl.filters dd { margin: 0; }
table { border-collapse: collapse; margin: .5rem 0; font-size: .95rem; }
caption { text-align: left; font-weight: bold; padding-bottom: .2rem; }
th { background: var(--accent); color: #fff; text-align: left; padding: .25rem .5rem; }
td { padding: .2rem .5rem; border-bottom: 1px solid #E6E6E6; }
tbody tr:nth-child(even) td { background: var(--stripe); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.total td { font-weight: bold; }
.comparisons { display: flex; flex-wrap: wrap; gap: 0 2rem; }
figure { margin: .5rem 0; }
figure img { width: 100%; max-width: 45rem; height: auto; }
blockquote { margin: .5rem 0; padding: .5rem .75rem; background: var(--stripe);
             border-left: .25rem solid var(--accent); }
.panel { padding: 1rem; background: #F7F7F7; color: var(--muted); }
footer { margin-top: 2rem; font-size: .85rem; color: var(--muted); }
.marking { text-align: center; font-weight: bold; letter-spacing: .05em; margin: 0 0 .5rem; }
.meeting { color: var(--muted); }
ul.headline li { font-size: 1.1rem; font-weight: 600; margin-bottom: .25rem; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .marking { display: none; }
  h2 { break-after: avoid; }
  h3 { break-after: avoid; }
  article, table, figure, blockquote, .block { break-inside: avoid; }
  section.strand { break-before: page; }
  section.strand.brief { break-before: auto; break-inside: avoid; }
  section#delivery { break-inside: avoid; }
  figure img { max-width: 62%; }
  table { font-size: 9pt; }
  td, th { padding: .1rem .4rem; }
  th { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  tbody tr:nth-child(even) td { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
}
"""
# The running header and footer of each printed page (CSS paged media's margin boxes, drawn
# by Chromium, which prints the file): the marking at top and foot, the report and meeting on
# the left, the page number of the total on the right.
PAGE_STYLE = """
@page {{ size: A4 portrait; margin: 16mm 12mm 20mm;
  @top-center {{ content: {marking}; font: bold 9pt Arial, sans-serif; color: #31333F; }}
  @bottom-left {{ content: {footer}; font: 8pt Arial, sans-serif; color: #555555;
                  width: 38%; }}
  @bottom-center {{ content: {marking}; font: bold 9pt Arial, sans-serif; color: #31333F; }}
  @bottom-right {{ content: "Page " counter(page) " of " counter(pages);
                   font: 8pt Arial, sans-serif; color: #555555; }}
}}
"""


def _css_string(text: str) -> str:
    """Text as a CSS string literal."""
    escaped = "".join(c if c.isalnum() or c in " .,:;·()/-" else f"\\{ord(c):06x}" for c in text)
    return f'"{escaped}"'


def page_style(content: ReportContent) -> str:
    """The @page rule of the report: marking, footer and page numbers on every printed page."""
    footer = f"{REPORT_TITLE}, {content.current_window.label()}"
    agenda = content.settings.agenda_item
    footer += f" · agenda item {agenda}" if agenda else ""
    return PAGE_STYLE.format(
        marking=_css_string(content.settings.marking), footer=_css_string(footer)
    )


def _cells(row: Iterable[str], numeric: Sequence[bool], tag: str = "td") -> str:
    return "".join(
        f"<{tag}{NUMBER_CLASS if is_number else ''}>{escape(str(value))}</{tag}>"
        for value, is_number in zip(row, numeric, strict=True)
    )


def _table(
    headings: Sequence[str],
    rows: Sequence[Sequence[str]],
    numeric: Sequence[bool],
    attributes: str = "",
    caption: str | None = None,
    total_last: bool = False,
) -> str:
    head = f"<thead><tr>{_cells(headings, numeric, 'th')}</tr></thead>"
    body_rows = []
    for index, row in enumerate(rows):
        total = total_last and index == len(rows) - 1
        body_rows.append(f"<tr{TOTAL_CLASS if total else ''}>{_cells(row, numeric)}</tr>")
    titled = f"<caption>{escape(caption)}</caption>" if caption else ""
    return f"<table {attributes}>{titled}{head}<tbody>{''.join(body_rows)}</tbody></table>"


def _svg_image(svg: bytes, alt_text: str) -> str:
    encoded = base64.b64encode(svg).decode("ascii")
    return f'<img alt="{escape(alt_text)}" src="data:image/svg+xml;base64,{encoded}">'


def _header(content: ReportContent) -> str:
    filters = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in content.filter_lines()
    )
    meeting = "".join(
        f"<dt>{escape(label)}</dt><dd>{escape(value)}</dd>"
        for label, value in content.meeting_lines()
    )
    return (
        f'<header><p class="marking">{escape(content.settings.marking)}</p>'
        f"<h1>{escape(REPORT_TITLE)}</h1>"
        f'<p class="sub">Performance report for {escape(content.force_label)}: '
        f"{escape(content.current_window.label())}</p>"
        f'<dl class="filters">{filters}</dl>'
        f'<dl class="filters meeting">{meeting}</dl></header>'
    )


def _summary(content: ReportContent) -> str:
    """The exceptions first, in at most five bullets, then the narrative's sentences."""
    found = findings(content.overview.rows)
    headline = "".join(f"<li>{escape(s)}</li>" for s in summary_bullets(found))
    items = "".join(f"<li>{escape(s)}</li>" for s in content.narrative)
    body = (
        f"<ul>{items}</ul>"
        if items
        else '<p class="note">No summary statements are available for this choice.</p>'
    )
    return (
        f'<section id="summary"><h2>{escape(summary_title(found, content.period))}</h2>'
        f'<ul class="headline">{headline}</ul><h3>In more detail</h3>{body}</section>'
    )


def _overview(content: ReportContent) -> str:
    overview = content.overview
    table = _table(
        OVERVIEW_HEADINGS,
        overview_rows(content),
        [False, False, True, True, True, False, True],
        'class="overview"',
    )
    note = (
        f'<p class="note">12 months: the {escape(overview.current_label)}. vs year before: '
        f"% change against the {escape(overview.previous_label)}; vs baseline: against the "
        f"{escape(overview.baseline_label)}. {escape(ACTIVITY_ONLY)}: the strand is reported "
        "through operational results.</p>"
    )
    return f'<section id="overview"><h2>Strands at a glance</h2>{table}{note}</section>'


def _delivery(content: ReportContent) -> str:
    plan = content.delivery
    if plan.status is None:
        body = f'<p class="panel">{escape(plan.unavailable or "")}</p>'
    else:
        body = (
            f"<p>Status of every action at the end of {escape(plan.quarter_label or '')}; the "
            "plan is force-wide.</p>"
            + _table(
                DELIVERY_HEADINGS,
                delivery_rows(plan.status),
                [False, True, True, True, True, True, True],
                'class="delivery"',
                total_last=True,
            )
        )
    return f'<section id="delivery"><h2>Delivery plan</h2>{body}</section>'


def _measure(content: ReportContent, section: MeasureSection, svg: bytes | None) -> str:
    measure = section.measure
    parts = [
        f'<article class="measure" id="measure-{escape(measure.id)}">',
        f"<h3>{escape(measure.name)}</h3>",
        f'<p class="meta">{escape(measure.definition)} '
        f"{escape(BETTER_WHEN[measure.improvement])} is better.</p>",
    ]
    if measure.proxy_note:
        parts.append(f'<p class="note proxy">Proxy measure: {escape(measure.proxy_note)}</p>')
    if svg is not None:
        parts.append(
            "<figure>"
            + _svg_image(svg, chart_alt_text(content, section))
            + f"<figcaption>Per month, {escape(chart_months_label(content.period))}: blue the "
            "current window, orange the same months a year earlier.</figcaption></figure>"
        )
    else:
        parts.append(f'<p class="panel">{escape(section.no_counts_note or "")}</p>')
    parts.append('<div class="comparisons">')
    for comparison in section.comparisons:
        columns = [str(c) for c in comparison.table.columns]
        parts.append(
            _table(
                columns,
                [[str(v) for v in comparison.table.iloc[0]]],
                [True] * len(columns),
                f'class="comparison" data-measure="{escape(measure.id)}" '
                f'data-comparison="{escape(comparison.comparison)}"',
                caption=comparison.title,
            )
        )
        if comparison.note:
            parts.append(f'<p class="note">{escape(comparison.note)}</p>')
    parts.append("</div></article>")
    return "".join(parts)


def _strand(content: ReportContent, section: StrandSection, svgs: dict[str, bytes | None]) -> str:
    """A strand: the lead's commentary first, then its measures, then its operational
    results; each block is kept whole on a printed page."""
    strand = section.strand
    brief = not section.measures and section.activity.empty
    parts = [
        # A strand with neither measures nor results is a few lines: it follows the strand
        # before it on the page rather than take a printed page of its own.
        f'<section class="strand{" brief" if brief else ""}" id="strand-{escape(strand.id)}">',
        f"<h2>{escape(strand.name)}</h2>",
        f'<p class="meta">{escape(strand.group)} · Thematic lead: {escape(strand.lead_role)}</p>',
    ]
    if section.note:
        parts.append(f'<p class="note">{escape(section.note)}</p>')
    empty = strand_empty_note(section, content.period)
    if empty:
        parts.append(f'<p class="panel">{escape(empty)}</p>')
    commentary = section.commentary or "No commentary is recorded for this period."
    parts.append('<div class="block commentary"><h3>Lead\'s commentary</h3>')
    note = content.force_wide_note("The lead's commentary is")
    if note and section.commentary:
        parts.append(f'<p class="note force-wide">{escape(note)}</p>')
    parts.append(f"<blockquote>{escape(commentary)}</blockquote></div>")
    for measure in section.measures:
        parts.append(_measure(content, measure, svgs[measure.measure.id]))
    if not section.activity.empty:
        parts.append('<div class="block activity"><h3>Operational results</h3>')
        parts.append(
            _table(
                ACTIVITY_HEADINGS,
                activity_rows(section.activity),
                [False, False, True, False],
                f'class="activity" data-strand="{escape(strand.id)}"',
            )
        )
        parts.append('<p class="note">Force-wide; not changed by the place filters.</p></div>')
    parts.append("</section>")
    return "".join(parts)


def _sources(content: ReportContent) -> str:
    """Where the figures come from and the windows compared, on the first page (at the end
    it would print as a page of its own)."""
    lines = [content.source_note(), *content.window_notes()]
    lines.append(
        f"Prepared {content.generated_at:%d %B %Y %H:%M}; data to "
        f"{month_long_label(content.data_to)}."
    )
    return '<div class="sources note">' + " ".join(escape(line) for line in lines) + "</div>"


def build_html(content: ReportContent, progress: Progress = no_progress) -> bytes:
    """The report as a single UTF-8 HTML file."""
    measures = [m for s in content.strands for m in s.measures]
    svgs: dict[str, bytes | None] = {}
    for index, section in enumerate(measures):
        progress(0.9 * index / max(len(measures), 1), f"Drawing {section.measure.name}")
        svgs[section.measure.id] = report_svg(section.chart) if section.has_counts else None
    progress(0.9, "Writing the page")
    title = f"{REPORT_TITLE}: {content.current_window.label()}, {content.place_label}"
    body = "".join(
        [
            _header(content),
            _sources(content),
            _summary(content),
            _overview(content),
            _delivery(content),
            *(_strand(content, s, svgs) for s in content.strands),
        ]
    )
    page = (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title><style>{STYLE}{page_style(content)}</style></head>"
        f"<body>{body}</body></html>"
    )
    progress(1.0, "Report ready")
    return page.encode("utf-8")
