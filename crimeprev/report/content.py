"""What goes into a report, collected once from the functions the dashboard's pages use.

The slide deck, the workbook and the HTML report each lay out the same `ReportContent`, so a
figure cannot differ between them: every count comes from `insight_table`, `overview_table`,
`monthly_series`, the delivery plan and the activity and commentary files, never recomputed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime

import altair as alt
import pandas as pd

from crimeprev.access.suppression import rules_for, suppress
from crimeprev.config import Config, Measure, ReportSettings, Strand
from crimeprev.db import Database
from crimeprev.figures import activity, delivery, insight
from crimeprev.figures.counts import record_counts
from crimeprev.figures.overview import (
    ACTIVITY_ONLY_NOTE,
    BETTER_WHEN,
    CHART_MONTHS,
    ComparisonTable,
    DeliverySummary,
    OverviewTable,
    activity_table,
    comparison_tables,
    delivery_summary,
    overview_table,
)
from crimeprev.figures.peers import PeerSummary, peer_summary
from crimeprev.periods import Window, add_months, month_label, month_long_label, months_between
from crimeprev.present.charts import monthly_chart
from crimeprev.present.labels import force_wide_note
from crimeprev.present.narrative import overview_narrative
from crimeprev.report.wording import count_words, month_words, pct_words
from crimeprev.updates.editor import store_is_empty
from crimeprev.updates.marks import approved_words, existing_store, strand_marks
from crimeprev.updates.workflow import StrandContent
from crimeprev.view import View

Progress = Callable[[float, str], None]

REPORT_TITLE = "Crime Prevention Strategy"
ALL_STRANDS = "All strands"
NO_COUNTS_NOTE = (
    "No records were counted for this measure in the chosen places over the {months} months "
    "to {period}."
)
NO_DATA_NOTE = (
    "This strand has no recorded-crime measure, and no operational results were reported up "
    "to {period}."
)


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that reports nothing (for scripts and tests)."""


def scaled(progress: Progress, start: float, end: float) -> Progress:
    """A progress callback that maps its 0..1 onto `start`..`end` of another."""

    def report(fraction: float, message: str) -> None:
        progress(start + (end - start) * min(max(fraction, 0.0), 1.0), message)

    return report


@dataclass(frozen=True)
class MeasureSection:
    """One measure: its insight rows and tables, its monthly series and chart."""

    measure: Measure
    insight: pd.DataFrame
    comparisons: list[ComparisonTable]
    series: pd.DataFrame
    chart: alt.LayerChart
    has_counts: bool
    no_counts_note: str | None

    @property
    def better_when(self) -> str:
        return BETTER_WHEN[self.measure.improvement]


@dataclass(frozen=True)
class StrandSection:
    """One strand: its measures, operational results and the lead's commentary."""

    strand: Strand
    measures: list[MeasureSection]
    activity: pd.DataFrame
    commentary: str | None
    # The strand's actions completed in the months ending the period and due in the next, or
    # None when the delivery plan is not held.
    delivery: DeliverySummary | None = None
    # Which quarter's approved words the strand carries (None: no update store to ask).
    words_mark: str | None = None

    @property
    def note(self) -> str | None:
        """Why the strand has no measure slide, when it has none."""
        if self.strand.not_supported:
            return self.strand.not_supported
        if self.measures:
            return None
        return ACTIVITY_ONLY_NOTE


@dataclass(frozen=True)
class DeliveryContent:
    """The delivery plan at the quarter describing the period, or why there is none."""

    quarter_label: str | None
    status: pd.DataFrame | None
    actions: pd.DataFrame | None
    unavailable: str | None


@dataclass(frozen=True)
class ReportContent:
    """Everything a report shows, for one period, choice of places and choice of strands."""

    filters: View
    config: Config
    forces: list[str]
    data_to: date
    data_from: date
    generated_at: datetime
    place_label: str
    strand_ids: list[str]
    overview: OverviewTable
    narrative: list[str]
    insight: pd.DataFrame
    series: pd.DataFrame
    district_series: pd.DataFrame
    delivery: DeliveryContent
    strands: list[StrandSection] = field(default_factory=list)
    # How the force compares with its peers (ONS tables), when they have been imported.
    comparison: PeerSummary | None = None
    # The marking and meeting details every page carries, and the deck's template.
    settings: ReportSettings = field(default_factory=ReportSettings)

    def meeting_lines(self) -> list[tuple[str, str]]:
        """The meeting details as (label, value) pairs; "not set" for what is not given."""
        settings = self.settings
        meeting = settings.meeting_date
        return [
            ("Agenda item", settings.agenda_item or "not set"),
            ("Meeting", f"{meeting.day} {meeting:%B %Y}" if meeting else "not set"),
            ("Author", settings.author or "not set"),
            ("Approved by", settings.approver or "not set"),
            ("Version", settings.version or "not set"),
        ]

    def meeting_summary(self) -> str:
        """The meeting details on one line, for every slide's and page's footer."""
        return " · ".join(f"{label}: {value}" for label, value in self.meeting_lines())

    @property
    def period(self) -> date:
        return self.filters.period

    @property
    def current_window(self) -> Window:
        return Window.ending(self.period, self.config.window_months)

    @property
    def previous_window(self) -> Window:
        return self.current_window.shifted(-self.config.window_months)

    @property
    def baseline_window(self) -> Window:
        return Window.ending(self.config.baseline_end, self.config.window_months)

    @property
    def strand_label(self) -> str:
        """The strands included, in words."""
        if len(self.strand_ids) == len(self.config.strands):
            return f"{ALL_STRANDS} ({len(self.strand_ids)})"
        return ", ".join(self.config.strand(s).name for s in self.strand_ids)

    @property
    def force_label(self) -> str:
        return " and ".join(self.forces) or "the force"

    def filter_lines(self) -> list[tuple[str, str]]:
        """The choices behind the report, as (label, value) pairs for every format's header."""
        current = self.current_window
        return [
            ("Period", f"{current.label()} ({_window_span(current)})"),
            ("Places", self.place_label),
            ("Strands", self.strand_label),
            (
                "Data",
                f"{self.force_label}, {month_long_label(self.data_from)} to "
                f"{month_long_label(self.data_to)}",
            ),
        ]

    def filter_summary(self) -> str:
        """The filters on one line, for the top of each worksheet and the page's footer."""
        return " · ".join(f"{label}: {value}" for label, value in self.filter_lines())

    def window_notes(self) -> list[str]:
        """The comparison windows in words, for speaker notes and footnotes."""
        return [
            f"Current window: {self.current_window.label()} ({_window_span(self.current_window)}).",
            f"Against the year before: {self.previous_window.label()} "
            f"({_window_span(self.previous_window)}).",
            f"Against the pre-Covid baseline: {self.baseline_window.label()} "
            f"({_window_span(self.baseline_window)}).",
        ]

    def force_wide_note(self, what: str) -> str | None:
        """`what` (e.g. "The lead's commentary is") kept for the whole force, in a sentence,
        when places narrow the report; None when they do not."""
        return force_wide_note(self.filters, self.config, what)

    def source_note(self) -> str:
        """Where the figures come from, in one sentence."""
        return (
            f"Source: {self.config.source}, {self.force_label}, "
            f"{month_long_label(self.data_from)} to {month_long_label(self.data_to)}; "
            f"places counted: {self.place_label}."
        )


def _window_span(window: Window) -> str:
    return f"{month_long_label(window.start)} to {month_long_label(window.end)}"


def chosen_strands(config: Config, strand_ids: Sequence[str] | None) -> list[str]:
    """The strand ids to report on, in the strategy's order; all of them when none are given.

    Raises KeyError naming the first unknown id."""
    known = [s.id for s in config.strands]
    if not strand_ids:
        return known
    for strand_id in strand_ids:
        if strand_id not in known:
            raise KeyError(strand_id)
    return [s for s in known if s in set(strand_ids)]


def _forces(db: Database, view: View) -> list[str]:
    if view.force is not None:
        return [view.force]
    frame = record_counts(db, ["force"], start=view.period, end=view.period)
    return [str(name) for name in frame["force"].dropna()]


def _district_series(db: Database, view: View, measure_ids: list[str], months: int) -> pd.DataFrame:
    """Each measure's monthly series in each district counted, one district at a time."""
    codes = view.district_codes(db.config)
    districts = [
        d
        for d in db.config.districts
        if d.belongs_to(view.force) and (codes is None or d.code in codes)
    ]
    frames = []
    for district in districts:
        one = replace(view, districts=(district.slug,), lpas=())
        frame = insight.monthly_series(db, one, months, measure_ids=measure_ids)
        frame.insert(1, "district_code", district.code)
        frame.insert(2, "district_name", district.name)
        frame.insert(3, "lpa", district.lpa)
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def series_months(config: Config, period: date) -> int:
    """How many months the monthly series cover: the charts' span, or back to the start of
    the baseline year when that is earlier, so the workbook can rebuild every window."""
    baseline_start = Window.ending(config.baseline_end, config.window_months).start
    return max(CHART_MONTHS, len(months_between(baseline_start, period)))


def _measure_section(
    measure: Measure,
    insight_rows: pd.DataFrame,
    series: pd.DataFrame,
    content_period: date,
    window_months: int,
    significance_level: float,
) -> MeasureSection:
    mine = series[series["measure_id"] == measure.id].reset_index(drop=True)
    first_charted = pd.Timestamp(add_months(content_period, -(CHART_MONTHS - 1)))
    mine = mine[pd.to_datetime(mine["month_start"]) >= first_charted].reset_index(drop=True)
    has_counts = bool(mine["count_records"].fillna(0).sum() > 0)
    return MeasureSection(
        measure=measure,
        insight=insight_rows[insight_rows["measure"] == measure.id].reset_index(drop=True),
        comparisons=comparison_tables(insight_rows, measure.id, significance_level),
        series=mine,
        chart=monthly_chart(mine, content_period, window_months, unit=measure.unit),
        has_counts=has_counts,
        no_counts_note=None
        if has_counts
        else NO_COUNTS_NOTE.format(months=CHART_MONTHS, period=month_label(content_period)),
    )


def _delivery(db: Database, period: date, strand_ids: list[str]) -> DeliveryContent:
    try:
        quarter = delivery.quarter_for(db, period)
    except delivery.DeliveryUnavailable as error:
        return DeliveryContent(None, None, None, str(error))
    status = delivery.status_table(db, period)
    if len(strand_ids) != len(db.config.strands):
        # The plan's total stays the whole plan's, and says so, when strands are left out.
        status = status[status["strand_id"].isin([*strand_ids, "total"])].reset_index(drop=True)
        status.loc[status["strand_id"] == "total", "strand_name"] = "Total, all strands"
    actions = delivery.actions_at(db, period, strand_ids=strand_ids)
    return DeliveryContent(quarter.label, status, actions, None)


def _strand_delivery(db: Database, strand_id: str, period: date) -> DeliverySummary | None:
    try:
        return delivery_summary(delivery.progress(db, strand_id, period), period)
    except delivery.DeliveryUnavailable:
        return None


def collect(
    db: Database,
    filters: View,
    strand_ids: Sequence[str] | None = None,
    progress: Progress = no_progress,
    by_district: bool = True,
    settings: ReportSettings | None = None,
    approved_only: bool = False,
) -> ReportContent:
    """Gather every table, series and text a report needs for the filters and strands; the
    monthly series of each district (a query per district) only when `by_district`.
    `settings` (the marking and meeting details) default to the configuration's `[report]`;
    the leads' words and results come from the update store's approved content when
    `approved_only`."""
    config = db.config
    chosen = chosen_strands(config, strand_ids)
    period = filters.period
    progress(0.0, "Counting the insight figures")
    covered = insight.covered_months(db, filters.force)
    table = insight.insight_table(db, filters)
    table = table[table["strand"].isin(chosen)].reset_index(drop=True)
    overview = overview_table(db, filters)
    rows = overview.rows
    overview = OverviewTable(
        rows=rows[rows["strand_id"].isin(chosen)].reset_index(drop=True),
        current_label=overview.current_label,
        previous_label=overview.previous_label,
        baseline_label=overview.baseline_label,
        delivery_label=overview.delivery_label,
        delivery_note=overview.delivery_note,
    )
    progress(0.3, "Writing the summary")
    narrative = overview_narrative(db, filters)
    progress(0.45, "Reading the monthly series")
    measure_ids = [m.id for s in chosen for m in config.strand(s).measures]
    months = series_months(config, period)
    series = insight.monthly_series(db, filters, months, measure_ids=measure_ids or None)
    series = series[series["measure_id"].isin(measure_ids)].reset_index(drop=True)
    district_series = (
        _district_series(db, filters, measure_ids, months) if by_district else pd.DataFrame()
    )
    progress(0.7, "Reading the delivery plan, activity and commentary")
    marks, approved = report_words(db, period, approved_only)
    sections = []
    for strand_id in chosen:
        strand = config.strand(strand_id)
        metrics = (
            approved_metrics(approved.get(strand_id))
            if approved_only
            else activity.activity_metrics(db, strand_id, period)
        )
        sections.append(
            StrandSection(
                strand=strand,
                measures=[
                    _measure_section(
                        m,
                        table,
                        series,
                        period,
                        config.window_months,
                        config.signals.significance_level,
                    )
                    for m in strand.measures
                ],
                activity=activity_table(metrics) if not metrics.empty else metrics,
                commentary=(
                    approved[strand_id].commentary
                    if strand_id in approved
                    else None
                    if approved_only
                    else activity.commentary(db, strand_id, period)
                ),
                words_mark=marks.get(strand_id),
                delivery=_strand_delivery(db, strand_id, period),
            )
        )
    content = ReportContent(
        filters=filters,
        config=config,
        forces=_forces(db, filters),
        data_to=covered[-1],
        data_from=covered[0],
        generated_at=datetime.now().replace(microsecond=0),
        place_label=filters.place_label(config),
        strand_ids=chosen,
        overview=overview,
        narrative=narrative,
        insight=table,
        series=series,
        district_series=district_series,
        delivery=_delivery(db, period, chosen),
        strands=sections,
        comparison=peer_summary(db),
        settings=settings or config.report,
    )
    progress(1.0, "Figures collected")
    return disclosed(content)


def report_words(
    db: Database, period: date, approved_only: bool = False
) -> tuple[dict[str, str], dict[str, StrandContent]]:
    """Per strand, the sentence saying which quarter's approved words it carries (none when
    the data folder has no update store), and, when `approved_only`, those approved words."""
    store = existing_store(db.root, db.config)
    if store is None:
        return ({} if not approved_only else strand_marks(None, db.config, period)), {}
    try:
        if not approved_only and store_is_empty(store):
            return {}, {}  # a store opened but never written to says nothing yet
        marks = strand_marks(store, db.config, period)
        return marks, approved_words(store, period) if approved_only else {}
    finally:
        store.dispose()


def words_marks_table(db: Database, period: date) -> pd.DataFrame:
    """One row per strand: the sentence saying which quarter's approved words a report of
    `period` carries for it (no rows when the data folder has no update store)."""
    marks, _ = report_words(db, period)
    return pd.DataFrame(
        [
            {"strand_id": s, "strand_name": db.config.strand(s).name, "approved_words": m}
            for s, m in marks.items()
        ],
        columns=["strand_id", "strand_name", "approved_words"],
    )


def approved_metrics(words: StrandContent | None) -> pd.DataFrame:
    """A strand's approved operational results in the shape the activity file gives them."""
    columns = ["operation", "metric", "value", "unit", "period_label", "period_end"]
    rows = [
        [m.operation, m.metric, m.value, m.unit, m.period_label, m.period_end]
        for m in (words.metrics if words is not None else [])
    ]
    return pd.DataFrame(rows, columns=columns)


def disclosed(content: ReportContent) -> ReportContent:
    """The content as its reader may see it: for a viewer, a small count in the sensitive
    strands reads "fewer than 10" in every table (charts leave its point undrawn), what would
    give it away is left out, and a sentence says so."""
    if content.filters.role != "viewer":
        return content
    rules = rules_for(content.config)
    shown: ReportContent = suppress(content, rules)
    level = content.config.signals.significance_level
    # The small insight tables are text built from the counts: built again from the
    # suppressed rows, so their cells carry the words too.
    strands = [
        replace(
            section,
            measures=[
                replace(m, comparisons=comparison_tables(shown.insight, m.measure.id, level))
                for m in section.measures
            ],
        )
        for section in shown.strands
    ]
    names = ", ".join(content.config.strand(s).name for s in sorted(rules.strands))
    note = f"In the {names} strands, a count under {rules.threshold} reads “{rules.label}”."
    return replace(shown, strands=strands, narrative=[*shown.narrative, note])


def strand_empty_note(section: StrandSection, period: date) -> str | None:
    """What a strand's slide says when it has neither measures nor operational results."""
    if section.measures or not section.activity.empty:
        return None
    return NO_DATA_NOTE.format(period=month_long_label(period))


def chart_months_label(period: date) -> str:
    """The span the monthly charts cover, in words."""
    return (
        f"{month_long_label(add_months(period, -(CHART_MONTHS - 1)))} to {month_long_label(period)}"
    )


def chart_alt_text(content: ReportContent, section: MeasureSection) -> str:
    """What a measure's monthly chart shows, in sentences, for a screen reader: the span, the
    window's count and change, and the highest and latest months."""
    measure = section.measure
    period = content.period
    text = (
        f"Line chart of {measure.name.lower()} per month, {chart_months_label(period)}; "
        f"the current 12 months drawn in blue, the same months a year earlier in orange."
    )
    year = section.insight[section.insight["comparison"] == "previous_year"]
    if not year.empty:
        row = year.iloc[0]
        count, pct = row["current_count"], row["pct_change"]
        if isinstance(count, str) or (count is not None and not pd.isna(count)):
            text += f" The 12 months to {month_words(period)} counted {count_words(count)}"
            if pct is not None and not pd.isna(pct):
                text += f", {pct_words(float(pct))} on the year before"
            text += "."
    counts = pd.to_numeric(section.series["count_records"], errors="coerce")
    if counts.notna().any():
        top = section.series.loc[counts.idxmax()]
        top_month = pd.Timestamp(top["month_start"]).date()
        text += f" The highest month is {month_words(top_month)} with {count_words(counts.max())}."
        latest = section.series.iloc[-1]["count_records"]
        if isinstance(latest, str) or (latest is not None and not pd.isna(latest)):
            text += f" {month_words(period)}: {count_words(latest)}."
    return text
