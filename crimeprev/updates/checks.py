"""The checks a reviewer would make of a lead's commentary, made for them: each sentence that
states a percentage change (or the count it reached) for one of the strand's own measures is
compared with the figure the dashboard computes for the quarter, and flagged when the number
differs or the words call a fall an increase (or a rise a decrease).

A claim is checked only when its clause says what it is compared with (the year before, or the
baseline year) and names no other window; everything else is listed as not checked, so the
reviewer knows what was and was not looked at. Figures come from `insight_table`, the one place
they are computed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd

from crimeprev.access.suppression import Suppression
from crimeprev.config import Measure, Strand
from crimeprev.db import Database
from crimeprev.figures.insight import insight_table
from crimeprev.periods import format_pct, parse_month
from crimeprev.updates.content import Action
from crimeprev.view import View

Verdict = Literal["agrees", "differs", "wrong direction", "not checked"]

SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(])")
CLAUSE = re.compile(r"\s*(?:,(?!\d)|[;:]|\s(?:and|but|yet|while|whereas|although)\s)\s*")
PERCENT = re.compile(r"(?P<sign>[+\-\u2212])?(?P<number>\d+(?:\.\d+)?)\s*(?:%|per\s*cent\b)")
COUNT_TO = re.compile(
    r"\bto\s+(?!(?:19|20)\d\d\b)(?P<count>\d{1,3}(?:,\d{3})+|\d+)\b(?!\s*(?:%|per\s*cent))"
)
COUNT_FROM = re.compile(
    r"\bfrom\s+(?!(?:19|20)\d\d\b)(?P<count>\d{1,3}(?:,\d{3})+|\d+)\b(?!\s*(?:%|per\s*cent))"
)
MONTHLY = re.compile(r"\b(?:a|per|each|every) month\b|\bmonthly\b", re.IGNORECASE)
MONTH_YEAR = re.compile(
    r"\b(?P<month>January|February|March|April|May|June|July|August|September|October|"
    r"November|December)\s+(?P<year>\d{4})\b",
    re.IGNORECASE,
)
RISE_WORDS = (
    "rise",
    "rose",
    "risen",
    "rising",
    "up",
    "increase",
    "increased",
    "increasing",
    "higher",
    "above",
    "more",
    "grew",
    "grown",
    "growth",
    "climbed",
    "greater",
    "over",
)
FALL_WORDS = (
    "fall",
    "fell",
    "fallen",
    "falling",
    "down",
    "decrease",
    "decreased",
    "decreasing",
    "lower",
    "below",
    "fewer",
    "less",
    "dropped",
    "drop",
    "declined",
    "decline",
    "reduction",
    "reduced",
    "under",
)
APPROXIMATE_WORDS = (
    "about",
    "around",
    "almost",
    "nearly",
    "roughly",
    "approximately",
    "some",
    "circa",
    "close to",
    "over",
    "under",
    "more than",
    "less than",
    "just",
)
PREVIOUS_YEAR_PHRASES = (
    "year on year",
    "year-on-year",
    "previous year",
    "previous twelve months",
    "previous 12 months",
    "year earlier",
    "year ago",
    "last year",
    "year before",
    "preceding year",
    "preceding twelve months",
    "preceding 12 months",
    "same period last year",
)
BASELINE_PHRASES = ("baseline", "pre-pandemic", "pre-covid", "before the pandemic", "pre covid")
STOP_WORDS = {"and", "the", "of", "for", "with", "crime", "crimes", "offences", "incidents"}
MONTH_NUMBERS = {
    name: index
    for index, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}


@dataclass(frozen=True)
class Finding:
    """One stated figure and what the data says about it."""

    sentence: str
    stated: str
    verdict: Verdict
    message: str
    measure_id: str | None = None
    comparison: str | None = None
    computed: float | int | None = None

    @property
    def flagged(self) -> bool:
        return self.verdict in ("differs", "wrong direction")


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+(?:-[a-z0-9]+)*", text.lower())


def _stem(word: str) -> str:
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def _tokens(text: str) -> set[str]:
    found = set()
    for word in _words(text):
        for part in word.split("-"):
            if part not in STOP_WORDS and len(part) > 2:
                found.add(_stem(part))
    return found


def _measure_for(text: str, strand: Strand) -> Measure | None:
    """The strand's measure a piece of text speaks of: the best overlap of its name's words."""
    words = _tokens(text)
    best: tuple[float, Measure] | None = None
    for measure in strand.measures:
        name = _tokens(measure.name) | _tokens(measure.id)
        if not name:
            continue
        score = len(words & name) / len(name)
        if score > 0 and (best is None or score > best[0]):
            best = (score, measure)
    return best[1] if best else None


def _comparison(clause: str, period: date, baseline_end: date) -> str | None | Literal[False]:
    """`previous_year` or `baseline` as the clause says, None when it says neither, False
    when it names a window other than the report's."""
    lowered = clause.lower()
    allowed = {
        (period.year, period.month): None,
        (period.year - 1, period.month): "previous_year",
        (baseline_end.year, baseline_end.month): "baseline",
    }
    named: str | None = None
    for match in MONTH_YEAR.finditer(clause):
        key = (int(match["year"]), MONTH_NUMBERS[match["month"].lower()])
        if key not in allowed:
            return False
        named = allowed[key] or named
    if any(p in lowered for p in BASELINE_PHRASES) or re.search(
        rf"\b{baseline_end.year}\b", lowered
    ):
        return "baseline"
    if any(p in lowered for p in PREVIOUS_YEAR_PHRASES) or named == "previous_year":
        return "previous_year"
    other_years = {int(y) for y in re.findall(r"\b(19\d\d|20\d\d)\b", lowered)}
    if other_years - {period.year, period.year - 1, baseline_end.year}:
        return False
    return named


def _direction(clause: str, position: int, sign: str | None) -> str | None:
    """`rise` or `fall`: an explicit sign first, else the direction word nearest the number."""
    if sign in ("-", "\u2212"):
        return "fall"
    if sign == "+":
        return "rise"
    nearest: tuple[int, str] | None = None
    for match in re.finditer(r"[a-z]+", clause.lower()):
        word = match.group()
        kind = "rise" if word in RISE_WORDS else "fall" if word in FALL_WORDS else None
        if kind is None:
            continue
        distance = abs(match.start() - position)
        if nearest is None or distance < nearest[0]:
            nearest = (distance, kind)
    return nearest[1] if nearest else None


def _approximate(clause: str, position: int) -> bool:
    before = clause[:position].lower()[-25:]
    return any(re.search(rf"\b{word}\b", before) for word in APPROXIMATE_WORDS)


def _tolerance(number_text: str, approximate: bool, stated: float) -> float:
    if approximate:
        return max(1.0, 0.1 * stated)
    decimals = len(number_text.split(".")[1]) if "." in number_text else 0
    return 0.5 * 10.0**-decimals + 1e-9


def _figures(table: pd.DataFrame) -> dict[tuple[str, str], dict[str, Any]]:
    return {(row["measure"], row["comparison"]): row for row in table.to_dict("records")}


def check_commentary(
    db: Database,
    strand_id: str,
    quarter: str,
    text: str,
    district_codes: list[str] | None = None,
) -> list[Finding]:
    """Every percentage stated in the commentary, compared with the computed figure."""
    strand = db.config.strand(strand_id)
    period = parse_month(quarter)
    if not text or not strand.measures:
        return []
    slugs = tuple(
        d.slug
        for d in db.config.districts
        if district_codes is not None and d.code in district_codes
    )
    figures = _figures(insight_table(db, View(period, districts=slugs), strand_id))
    findings: list[Finding] = []
    for sentence in SENTENCE.split(" ".join(text.split())):
        sentence_measure: Measure | None = None
        clauses = CLAUSE.split(sentence)
        for index, clause in enumerate(clauses):
            sentence_measure = _measure_for(clause, strand) or sentence_measure
            matches = list(PERCENT.finditer(clause))
            for match in matches:
                findings.append(
                    _check_percent(
                        db, strand, sentence, clause, match, sentence_measure, period, figures
                    )
                )
            if len(matches) == 1:
                stated_with = " ".join([clause, *_count_clauses(clauses[index + 1 :])])
                findings.extend(_check_counts(sentence, stated_with, findings[-1], figures))
    return findings


def _count_clauses(following: list[str]) -> list[str]:
    """The clauses after a percentage that may carry its counts (`, from 928 to 1,255`): up
    to the next percentage, leaving out monthly figures."""
    taken = []
    for clause in following:
        if PERCENT.search(clause) or MONTHLY.search(clause):
            break
        taken.append(clause)
    return taken


def _check_percent(
    db: Database,
    strand: Strand,
    sentence: str,
    clause: str,
    match: re.Match[str],
    measure: Measure | None,
    period: date,
    figures: dict[tuple[str, str], dict[str, Any]],
) -> Finding:
    stated = match.group().strip()
    if measure is None:
        measure = strand.measures[0] if len(strand.measures) == 1 else None
    if measure is None:
        return Finding(sentence, stated, "not checked", "it does not say which measure it is")
    comparison = _comparison(clause, period, db.config.baseline_end)
    if comparison is False:
        return Finding(
            sentence,
            stated,
            "not checked",
            "it speaks of another window than the report's",
            measure.id,
        )
    if comparison is None:
        return Finding(
            sentence,
            stated,
            "not checked",
            "it does not say what it is compared with (the year before, or the baseline)",
            measure.id,
        )
    row = figures.get((measure.id, comparison))
    pct = None if row is None else row.get("pct_change")
    if pct is None or pd.isna(pct):
        return Finding(
            sentence,
            stated,
            "not checked",
            "the data gives no % change for that comparison",
            measure.id,
            comparison,
        )
    computed = float(pct)
    number = float(match["number"])
    direction = _direction(clause, match.start(), match["sign"])
    what = (
        f"{measure.name}, {'the year before' if comparison == 'previous_year' else 'the baseline'}"
    )
    if direction is not None and computed != 0 and (direction == "rise") != (computed > 0):
        said = "an increase" if direction == "rise" else "a decrease"
        return Finding(
            sentence,
            stated,
            "wrong direction",
            f"it calls {said} what the data shows as {format_pct(computed)} ({what})",
            measure.id,
            comparison,
            computed,
        )
    approximate = _approximate(clause, match.start())
    if abs(number - abs(computed)) > _tolerance(match["number"], approximate, number):
        return Finding(
            sentence,
            stated,
            "differs",
            f"the data shows {format_pct(computed)} ({what})",
            measure.id,
            comparison,
            computed,
        )
    return Finding(
        sentence,
        stated,
        "agrees",
        f"the data shows {format_pct(computed)} ({what})",
        measure.id,
        comparison,
        computed,
    )


def _check_counts(
    sentence: str,
    clause: str,
    percent: Finding,
    figures: dict[tuple[str, str], dict[str, Any]],
) -> list[Finding]:
    """A count stated with a checked percentage: `... rose 35% to 1,255` (the current count)
    or `from 928 to 1,255` (the comparator's and the current count)."""
    if percent.measure_id is None or percent.comparison is None or percent.verdict == "not checked":
        return []
    row = figures[(percent.measure_id, percent.comparison)]
    findings = []
    for pattern, column, label in (
        (COUNT_FROM, "comparator_count", "the comparison window"),
        (COUNT_TO, "current_count", "the 12 months to the quarter"),
    ):
        for match in pattern.finditer(clause):
            stated = int(match["count"].replace(",", ""))
            computed = row.get(column)
            if computed is None or pd.isna(computed):
                continue
            count = int(computed)
            verdict: Verdict = "agrees" if stated == count else "differs"
            findings.append(
                Finding(
                    sentence,
                    match["count"],
                    verdict,
                    f"the data counts {count:,} in {label}",
                    percent.measure_id,
                    percent.comparison,
                    count,
                )
            )
    return findings


def disclosed_findings(
    findings: list[Finding], strand_id: str, rules: Suppression
) -> list[Finding]:
    """The findings as a person who may not see small counts in a sensitive strand may read
    them: a stated count checked against a computed count under the threshold is neither
    confirmed nor corrected (either would give the count away), but left for an analyst."""
    if strand_id not in rules.strands:
        return findings
    shown = []
    for finding in findings:
        small = (
            isinstance(finding.computed, int)
            and finding.message.startswith("the data counts")
            and 0 < finding.computed < rules.threshold
        )
        if small:
            finding = Finding(
                finding.sentence,
                finding.stated,
                "not checked",
                f"the data counts {rules.label} here, which this role does not see exactly; "
                "an analyst can check this figure",
                finding.measure_id,
                finding.comparison,
                None,
            )
        shown.append(finding)
    return shown


def flagged(findings: list[Finding]) -> list[Finding]:
    """The findings a reviewer must look at."""
    return [f for f in findings if f.flagged]


@dataclass(frozen=True)
class ActionFinding:
    """Something about a delivery action a reviewer would query, with the reason."""

    action_id: str
    verdict: Literal["inconsistent", "overdue"]
    message: str


def check_actions(actions: list[Action], quarter: str) -> list[ActionFinding]:
    """The actions' status against their months at the quarter's end: complete without a
    completion month, completed after the quarter, a completion month on an open action, or
    due and not complete (not already marked at risk)."""
    findings = []
    for action in actions:
        done, status = action.completed_month, action.status
        if status == "complete" and done is None:
            findings.append(
                ActionFinding(action.action_id, "inconsistent", "complete, but no month completed")
            )
        if done is not None and done > quarter:
            findings.append(
                ActionFinding(
                    action.action_id,
                    "inconsistent",
                    f"completed {done}, after the quarter ending {quarter}",
                )
            )
        elif done is not None and status not in (None, "complete"):
            findings.append(
                ActionFinding(
                    action.action_id,
                    "inconsistent",
                    f"completed {done}, yet its status is '{status}'",
                )
            )
        if done is None and status in ("ongoing", "not started") and action.target_month <= quarter:
            findings.append(
                ActionFinding(
                    action.action_id,
                    "overdue",
                    f"due {action.target_month}, '{status}' at the quarter's end and not marked "
                    "at risk",
                )
            )
    return findings
