"""The overview's summary in words: which measures rose or fell beyond normal month-to-month
variation over the 12 months to a period, against the year before and against the pre-Covid
baseline.

Every sentence is written from the insight table and its test (`crimeprev.statistics.change`):
a change is only ever called beyond normal variation when the test says so, and changes within
it are named as such, so that a small move is never presented as a trend.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from crimeprev.db import Database
from crimeprev.figures.insight import insight_table
from crimeprev.formats import count_text, pct_text
from crimeprev.periods import Window, format_pct
from crimeprev.statistics.change import BEYOND_NORMAL, WITHIN_NORMAL, change_method_text
from crimeprev.view import View

DIRECTION_WORDS = {"up": "higher is better", "down": "lower is better"}


def _reading(row: Any) -> str:
    rising = row["diff"] > 0
    good = rising == (row["improvement"] == "up")
    return "an improvement" if good else "a concern"


def _item(row: Any, with_reading: bool = True) -> str:
    text = (
        f"{row['measure_name']} {format_pct(float(row['pct_change']))} "
        f"({count_text(row['comparator_count'])} to {count_text(row['current_count'])}"
    )
    if with_reading:
        text += f"; {_reading(row)}"
    return text + ")"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return "; ".join(items[:-1]) + " and " + items[-1]


def _place_words(db: Database, view: View) -> str:
    force = f" ({view.force})" if view.force else ""
    if not view.has_place_filter():
        return f"across the force{force}"
    return f"in {view.place_label(db.config)}{force}"


def _by_size(rows: pd.DataFrame) -> pd.DataFrame:
    return rows.assign(size=rows["pct_change"].abs()).sort_values("size", ascending=False)


def _comparison_sentences(
    rows: pd.DataFrame, heading: str, level: float, small_count: int
) -> list[str]:
    tested = rows[rows["significant"].notna()]
    untested = rows[rows["significant"].isna()]
    with_pct = tested[tested["pct_change"].notna()]
    significant = with_pct[with_pct["significant"].astype(bool)]
    rises = _by_size(significant[significant["diff"] > 0])
    falls = _by_size(significant[significant["diff"] < 0])
    steady = _by_size(with_pct[~with_pct["significant"].astype(bool)])
    if tested.empty:
        # Nothing could be tested: a count of significant changes would say nothing.
        names = ", ".join(untested["measure_name"])
        return [
            f"{heading}: none of the {len(rows)} measures could be tested, as a window "
            f"compared is incomplete in the data ({names})."
        ]
    sentences = [
        f"{heading}: {len(significant)} of the {len(tested)} measures tested changed "
        f"{BEYOND_NORMAL} ({change_method_text(level, small_count)})."
    ]
    if len(rises):
        word = "An increase" if len(rises) == 1 else "Increases"
        items = [_item(r) for r in rises.to_dict("records")]
        sentences.append(f"{word} {BEYOND_NORMAL}: {_join(items)}.")
    if len(falls):
        word = "A decrease" if len(falls) == 1 else "Decreases"
        items = [_item(r) for r in falls.to_dict("records")]
        sentences.append(f"{word} {BEYOND_NORMAL}: {_join(items)}.")
    if len(steady):
        items = [_item(r, with_reading=False) for r in steady.to_dict("records")]
        sentences.append(f"{WITHIN_NORMAL[:1].upper()}{WITHIN_NORMAL[1:]}: {_join(items)}.")
    no_pct = tested[tested["pct_change"].isna()]
    if len(no_pct):
        names = ", ".join(no_pct["measure_name"])
        sentences.append(f"No % change for {names}: the earlier window counted none.")
    if len(untested):
        names = ", ".join(untested["measure_name"])
        sentences.append(f"Not tested, as a window is incomplete in the data: {names}.")
    return sentences


def overview_narrative(db: Database, view: View) -> list[str]:
    """The summary paragraphs for the overview (and exports): significant increases and
    decreases against the year before, then against the pre-Covid baseline, with counts,
    % changes and whether each move is good news for that measure; then the caveats."""
    config = db.config
    period = view.period
    table = insight_table(db, view)
    if table.empty:
        return ["There are no measures with counts in the configuration, so nothing to summarise."]
    current = Window.ending(period, config.window_months)
    previous = current.shifted(-config.window_months)
    baseline = Window.ending(config.baseline_end, config.window_months)
    level = config.signals.significance_level
    place = _place_words(db, view)
    paragraphs = [
        " ".join(
            _comparison_sentences(
                table[table["comparison"] == "previous_year"],
                f"Over the {current.label()} {place}, against the {previous.label()}",
                level,
                config.signals.small_count,
            )
        ),
        " ".join(
            _comparison_sentences(
                table[table["comparison"] == "baseline"],
                f"Against the pre-Covid baseline, the {baseline.label()}",
                level,
                config.signals.small_count,
            )
        ),
    ]
    small = table[table["small_counts"].fillna(False).astype(bool)]
    if len(small):
        names = ", ".join(dict.fromkeys(small["measure_name"]))
        paragraphs.append(
            f"Read with care: {names} counted fewer than {config.signals.small_count} records in "
            "a window compared, where a few records make a large % change."
        )
    paragraphs.append(
        f"A change {BEYOND_NORMAL} is one larger than the measure's own month-to-month "
        "ups and downs would produce if its underlying rate had stayed the same; it does not "
        "say why the rate moved, nor that the move matters."
    )
    return paragraphs


HEADLINE_BULLETS = 4
# The headline's short form of BEYOND_NORMAL; the scorecard's legend gives the long one.
BEYOND_NORMAL_SHORT = "beyond normal variation"


def _change_word(row: Any) -> str:
    return "up" if row["diff"] > 0 else "down"


def _headline_item(row: Any, largest: str | None) -> str:
    pct = abs(float(row["pct_change"]))
    text = (
        f"{row['measure_name']} {_change_word(row)} {pct_text(pct)} "
        f"({count_text(row['comparator_count'])} to {count_text(row['current_count'])})"
    )
    if largest:
        text += f", {largest}"
    reading = "good news" if _reading(row) == "an improvement" else "a concern"
    return f"{text}; {BEYOND_NORMAL_SHORT}, {reading}."


def overview_headline(db: Database, view: View) -> list[str]:
    """At most four plain bullets for the overview's first screen, written from the insight
    table against the year before: the changes beyond normal variation first, concerns before
    improvements and larger before smaller, then how many measures moved within it."""
    table = insight_table(db, view)
    rows = table[table["comparison"] == "previous_year"]
    if rows.empty:
        return ["There are no measures with counts in the configuration, so nothing to summarise."]
    tested = rows[rows["significant"].notna() & rows["pct_change"].notna()]
    significant = tested[tested["significant"].astype(bool)]
    exceptions = significant.assign(
        is_concern=[_reading(r) == "a concern" for r in significant.to_dict("records")],
        size=significant["pct_change"].abs(),
    ).sort_values(["is_concern", "size"], ascending=[False, False])
    rises = significant[significant["diff"] > 0]
    falls = significant[significant["diff"] < 0]
    largest_rise = rises.loc[rises["pct_change"].idxmax(), "measure"] if len(rises) > 1 else None
    largest_fall = falls.loc[falls["pct_change"].idxmin(), "measure"] if len(falls) > 1 else None
    room = HEADLINE_BULLETS - 1
    shown = exceptions if len(exceptions) <= room else exceptions.head(room - 1)
    bullets = []
    for row in shown.to_dict("records"):
        largest = (
            "the largest rise"
            if row["measure"] == largest_rise
            else "the largest fall"
            if row["measure"] == largest_fall
            else None
        )
        bullets.append(_headline_item(row, largest))
    rest = exceptions.iloc[len(shown) :]
    if len(rest):
        names = _join([str(n) for n in rest["measure_name"]])
        bullets.append(f"Also {BEYOND_NORMAL_SHORT}: {names}.")
    current = Window.ending(view.period, db.config.window_months)
    steady = len(tested) - len(significant)
    summary = (
        f"{steady} of {len(tested)} measures {WITHIN_NORMAL}, {current.label()} "
        f"{_place_words(db, view)} against the 12 months before"
    )
    untested = len(rows) - len(tested)
    if untested:
        summary += f"; {untested} could not be tested"
    bullets.append(summary + ".")
    return bullets
