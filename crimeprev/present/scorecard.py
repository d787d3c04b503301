"""The overview's scorecard: every measure on one line with its 12-month figure, its change
against the year before, and a colour and a word saying whether that change is good news, bad
news or within normal variation, as an HTML table a keyboard and a screen reader can use.

Colour is never the only signal: each verdict carries an arrow for the direction of the change
and a word for what it means. The colours are from the Okabe-Ito palette, darkened so white text
on them keeps a contrast of at least 4.5:1.
"""

from __future__ import annotations

from html import escape
from typing import Any

import pandas as pd

from crimeprev.figures.overview import (
    VERDICT_BETTER,
    VERDICT_STEADY,
    VERDICT_UNTESTED,
    VERDICT_WORSE,
)
from crimeprev.formats import count_text
from crimeprev.statistics.change import BEYOND_NORMAL, WITHIN_NORMAL

# Background, and the word beside it; white text on each is at least 4.5:1.
VERDICT_STYLES = {
    VERDICT_WORSE: ("#A63C00", "Worse"),
    VERDICT_BETTER: ("#005A9C", "Better"),
    VERDICT_STEADY: ("#5A5A5A", "No real change"),
    VERDICT_UNTESTED: ("#5A5A5A", "Not tested"),
}
VERDICT_MEANINGS = {
    VERDICT_WORSE: "bad news",
    VERDICT_BETTER: "good news",
    VERDICT_STEADY: WITHIN_NORMAL,
    VERDICT_UNTESTED: "a window is incomplete",
}
ORDER = (VERDICT_WORSE, VERDICT_BETTER, VERDICT_STEADY, VERDICT_UNTESTED)
STYLE = """<style>
.scorecard{border-collapse:collapse;width:100%;font-size:0.82rem;line-height:1.15;margin:0}
.scorecard th,.scorecard td{padding:1px 5px;border-bottom:1px solid #D9D9D9;text-align:left}
.scorecard th{font-weight:600;color:#31333F}
.scorecard td.num{text-align:right;font-variant-numeric:tabular-nums}
.scorecard a{color:#004F8A;display:inline-block;min-height:24px;line-height:24px}
.verdict{display:inline-block;white-space:nowrap;min-width:7.6em;padding:0 6px;
 border-radius:3px;color:#FFFFFF;font-weight:600}
.scorecard-legend{font-size:0.75rem;line-height:1.5;color:#31333F;margin:2px 0 0 0}
.scorecard-legend span.verdict{min-width:0}
</style>"""


def _arrow(diff: Any) -> str:
    if diff is None or pd.isna(diff) or diff == 0:
        return "●"
    return "▲" if diff > 0 else "▼"


def _badge(verdict: str, diff: Any) -> str:
    colour, word = VERDICT_STYLES[verdict]
    arrow = _arrow(diff) if verdict != VERDICT_UNTESTED else "–"
    return (
        f'<span class="verdict" style="background:{colour}">'
        f'<span aria-hidden="true">{arrow}</span> {escape(word)}</span>'
    )


def scorecard_html(rows: pd.DataFrame, current_label: str, previous_label: str) -> str:
    """The scorecard as an HTML table: one row per measure (strands without counts left out),
    each measure's name a link to its strand page, where the details are."""
    measured = rows[rows["measure_id"].notna()]
    lines = [
        STYLE,
        '<table class="scorecard">',
        f"<caption style='text-align:left;font-size:0.75rem;color:#31333F'>The "
        f"{escape(current_label)} against the {escape(previous_label)}; a name opens its "
        "strand page.</caption>",
        "<thead><tr><th scope='col'>Measure</th><th scope='col'>12 months</th>"
        "<th scope='col'>Change</th><th scope='col'>Better when</th>"
        "<th scope='col'>Verdict</th></tr></thead><tbody>",
    ]
    for row in measured.to_dict("records"):
        href = escape(str(row["strand_link"]).split("#")[0], quote=True)
        change = str(row["change_previous_year"] or "")
        lines.append(
            "<tr>"
            f"<th scope='row' style='font-weight:400'><a href='{href}' target='_self'>"
            f"{escape(str(row['measure_name']))}</a></th>"
            f"<td class='num'>{escape(count_text(row['current_count'], blank='incomplete'))}</td>"
            f"<td class='num'>{escape(change)}</td>"
            f"<td>{escape(str(row['better_when']))}</td>"
            f"<td>{_badge(row['verdict_previous_year'], row['diff_previous_year'])}</td>"
            "</tr>"
        )
    lines.append("</tbody></table>")
    return "".join(lines)


def scorecard_legend_html() -> str:
    """What each verdict's colour, arrow and word mean."""
    parts = [
        f"{_badge(v, 1 if v != VERDICT_STEADY else 0)} {escape(VERDICT_MEANINGS[v])}" for v in ORDER
    ]
    return (
        f'<p class="scorecard-legend">▲ rose, ▼ fell; Worse and Better are {BEYOND_NORMAL}. '
        + " · ".join(parts)
        + "</p>"
    )
