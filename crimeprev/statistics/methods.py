"""The statistics' methods and their limits in plain words, for the Data page and the README's
readers: one text, with the levels the configuration sets."""

from __future__ import annotations

from crimeprev.config import Signals
from crimeprev.statistics.change import BEYOND_NORMAL, WITHIN_NORMAL
from crimeprev.statistics.spc import MIN_POINTS, SPC_MONTHS


def method_notes(signals: Signals) -> list[tuple[str, str]]:
    """(heading, paragraph) for each statistic the dashboard shows."""
    level = f"{signals.significance_level:.0%}"
    return [
        (
            "Year-on-year change",
            f"A 12-month change is called **{BEYOND_NORMAL}** when it is larger than the "
            "measure's own ups and downs from month to month would produce by chance, and "
            f"**{WITHIN_NORMAL}** otherwise, at the {level} level. The monthly counts of the two "
            "windows (and of the year before, where the data has it) are fitted by a "
            "quasi-Poisson model, level + a step for the current year + month of year, with "
            "statsmodels; the dispersion, how much more the months vary than pure chance, is "
            "estimated from those months and never taken below chance. With only the two "
            "windows' 24 months it rests on 11 degrees of freedom, too few to trust alone, so it "
            "is then "
            "averaged with the measure's extra variation pooled across the force's districts "
            "(each district fitted the same way; a shared coefficient of variation, so a busy "
            "place varies more than a quiet one), weighted by degrees of freedom; the row's "
            "note says so. Where a window counts "
            f"fewer than {signals.small_count} records an exact test of the two totals is used "
            "instead; each figure's download names its test (`significance_test`). Limits: the "
            "model assumes the months vary independently around a level that steps once; a "
            "steady trend inside the two years, or a one-off month such as a lockdown, widens "
            "the dispersion and makes a call less likely, and a change in recording practice "
            "looks like a real change. A call says a change is unlikely to be chance, not why it "
            "happened or that it matters.",
        ),
        (
            "Spike finder",
            "Each measure's monthly counts in every district over the preceding three years are "
            "fitted with a level for each district, a shared trend and month of year; each "
            "district's count this month is tested against the fit's projection with a "
            "negative binomial, whose extra variation is estimated for the measure, widened by "
            "the projection's own uncertainty. The chance of any false alarm in a month is held "
            f"at {signals.spike_family_alpha:.0%} across the counts in view (Bonferroni), and "
            f"an alert also needs {signals.spike_min_excess} records above expected. Limits: a "
            "district whose trend differs from the others' is judged against the shared trend; "
            "a spike in every district at once is a force-wide change, which this does not look "
            "for; Bonferroni is strict, so a modest rise in one district can pass unflagged.",
        ),
        (
            "SPC (XmR) charts",
            f"Making Data Count's chart over the last {SPC_MONTHS} months: mean and process "
            "limits at 2.66 mean moving ranges, drawn only from "
            f"{MIN_POINTS} or more months, the moving ranges unscreened, as the Making Data "
            "Count tool; special causes by the rules and rule order of NHSRplotthedots. A month "
            "without data breaks the line, the moving ranges and every run and trend. Limits: "
            "the chart treats months as independent; seasonal measures show runs and two-of-"
            "three signals that are the season, not a change.",
        ),
    ]
