"""The explorer: counts of one or more measures (or raw crime types) broken down by one
dimension, compared across two periods, at a chosen granularity, narrowed by a drill path.

The whole state of a deep dive is an `ExploreState`, read from and written to URL query
parameters (`drill=district:Basildon,crime_type:Possession of weapons offences`), so a link
reproduces the view. Reading never raises: every value that cannot be used is dropped with a
sentence saying why.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import pandas as pd

from crimeprev.config import Config
from crimeprev.db import Database
from crimeprev.figures.insight import covered_months
from crimeprev.periods import (
    PeriodError,
    Window,
    add_months,
    change,
    financial_quarter_label,
    format_month,
    month_label,
    months_in_words,
    parse_month,
)
from crimeprev.view import View, find_district, split_values

# Breakdown dimension -> how it is named on the page.
DIMENSION_LABELS = {
    "district": "District",
    "lpa": "Local Policing Area",
    "crime_type": "Crime type",
    "outcome": "Outcome",
    "lsoa": "LSOA",
    "record_kind": "Record kind",
}
# After a drill on one dimension, the page breaks the rest down by the first of these not yet
# drilled into: places first, then what happened, then how it ended.
DRILL_ORDER = ("district", "crime_type", "outcome", "lsoa", "record_kind")
GRANULARITIES = {"month": "Month", "quarter": "Financial quarter", "year": "Financial year"}
MISSING_LABEL = "(none)"
TOTAL_LABEL = "Total"
CURRENT = "current"
COMPARISON = "comparison"
WINDOW_RANGE = re.compile(r"^\s*(\d{4}-\d{2})\s*(?:\.\.|:|/)\s*(\d{4}-\d{2})\s*$")
LSOA_CODE = re.compile(r"^[EW]01\d{6}$")
# A breakdown chart with more bars than this draws the largest.
CHART_MAX_BARS = 25
# The table (and its download) lists at most this many breakdown values, the largest first; the
# total row still counts every record. A breakdown by LSOA can otherwise run to thousands of rows
# of single records.
TABLE_MAX_ROWS = 500
URL_PARAMS = ("measure", "crime_type", "by", "grain", "current", "compare", "drill")


@dataclass(frozen=True)
class DrillStep:
    """One click of a deep dive: keep only records whose `dimension` is `value`."""

    dimension: str
    value: str

    def label(self) -> str:
        """The step as the breadcrumb shows it: `District: Basildon`."""
        return f"{DIMENSION_LABELS[self.dimension]}: {self.value}"


@dataclass(frozen=True)
class ExploreState:
    """Everything a deep dive shows: what is counted, how it is broken down and compared."""

    measure_ids: tuple[str, ...] = ()
    crime_types: tuple[str, ...] = ()
    dimension: str = "district"
    granularity: str = "month"
    current: Window | None = None
    comparison: Window | None = None
    drill: tuple[DrillStep, ...] = field(default_factory=tuple)

    def query_params(self) -> dict[str, str]:
        """The state as the page's own URL parameters (empty ones left out)."""
        params: dict[str, str] = {}
        if self.measure_ids:
            params["measure"] = ",".join(self.measure_ids)
        if self.crime_types:
            params["crime_type"] = ",".join(self.crime_types)
        params["by"] = self.dimension
        params["grain"] = self.granularity
        if self.current is not None:
            params["current"] = window_text(self.current)
        if self.comparison is not None:
            params["compare"] = window_text(self.comparison)
        if self.drill:
            params["drill"] = ",".join(f"{s.dimension}:{s.value}" for s in self.drill)
        return params

    def drilled_into(self, step: DrillStep, has_lsoa: bool = True) -> ExploreState:
        """This state narrowed by one more step, broken down by the next dimension."""
        drill = (*self.drill, step)
        return replace(self, drill=drill, dimension=next_dimension(drill, self.dimension, has_lsoa))

    def back_to(self, steps: int) -> ExploreState:
        """This state with only the first `steps` drill steps (the breadcrumb's undo); the
        breakdown returns to the dimension the next step was taken on."""
        if steps >= len(self.drill):
            return self
        return replace(self, drill=self.drill[:steps], dimension=self.drill[steps].dimension)


@dataclass(frozen=True)
class ResolvedState:
    """A state read from user input, with a sentence for each value that was not understood."""

    state: ExploreState
    problems: tuple[str, ...] = ()


@dataclass(frozen=True)
class Exploration:
    """What the page lays out for one state: the pivot table and the two charts' data."""

    pivot: pd.DataFrame
    breakdown: pd.DataFrame
    timeline: pd.DataFrame
    bucket_columns: tuple[str, ...]
    current: Window
    comparison: Window
    notes: tuple[str, ...] = ()
    # Breakdown values beyond TABLE_MAX_ROWS, left out of the table, and a sentence saying so.
    rows_left_off: int = 0
    left_off_note: str | None = None


def window_text(window: Window) -> str:
    """A window as the URL writes it: `2021-10..2022-09`."""
    return f"{format_month(window.start)}..{format_month(window.end)}"


def parse_window(text: str) -> Window:
    """Read `YYYY-MM..YYYY-MM` (both months included), or raise `PeriodError`."""
    match = WINDOW_RANGE.match(text)
    if not match:
        raise PeriodError(
            f"'{text}' is not a run of months: write it as YYYY-MM..YYYY-MM, for example "
            "2021-10..2022-09."
        )
    start, end = parse_month(match.group(1)), parse_month(match.group(2))
    if end < start:
        raise PeriodError(f"'{text}' ends before it starts.")
    return Window(start, end)


def next_dimension(drill: Sequence[DrillStep], current: str, has_lsoa: bool = True) -> str:
    """The dimension to break down by after the drill path: the first of `DRILL_ORDER` not yet
    drilled into (an LPA drill still leaves its districts to tell apart)."""
    done = {step.dimension for step in drill}
    for dimension in DRILL_ORDER:
        if dimension in done or (dimension == "lsoa" and not has_lsoa):
            continue
        return dimension
    return current


def default_windows(period: date, window_months: int) -> tuple[Window, Window]:
    """The window ending the period, and the window of the same length just before it."""
    current = Window.ending(period, window_months)
    return current, current.shifted(-window_months)


def _check_window(
    text: str | None, covered: list[date], fallback: Window, what: str, problems: list[str]
) -> Window | None:
    """The window the URL gives, or None (the default for the period) when it gives none or
    one that cannot be used."""
    if not text:
        return None
    try:
        window = parse_window(text)
    except PeriodError as error:
        problems.append(f"The {what} period: {error} Using {window_text(fallback)}.")
        return None
    if window.start < covered[0] or window.end > covered[-1]:
        problems.append(
            f"The {what} period {window_text(window)} runs outside the data "
            f"({window_text(Window(covered[0], covered[-1]))}). Using {window_text(fallback)}."
        )
        return None
    return window


def _drill_step(config: Config, text: str, has_lsoa: bool) -> DrillStep | str:
    """A drill step from `dimension:value`, or the sentence saying why it cannot be used."""
    dimension, sep, value = text.partition(":")
    dimension, value = dimension.strip(), value.strip()
    if not sep or dimension not in DIMENSION_LABELS or not value:
        return (
            f"The drill step '{text}' is not understood: write dimension:value with one of "
            f"{', '.join(DIMENSION_LABELS)}."
        )
    taxonomy = config.taxonomy
    if dimension == "district":
        district = find_district(config, value)
        if district is None:
            return f"Unknown district '{value}' in the drill path, left out."
        return DrillStep(dimension, district.name)
    if dimension == "lpa":
        match = next((lpa for lpa in config.lpas if lpa.lower() == value.lower()), None)
        if match is None:
            return f"Unknown Local Policing Area '{value}' in the drill path, left out."
        return DrillStep(dimension, match)
    known = {
        "crime_type": taxonomy.crime_types,
        "outcome": (*taxonomy.outcomes, MISSING_LABEL),
        "record_kind": taxonomy.record_kinds,
    }.get(dimension)
    if known is not None:
        if value not in known:
            return f"Unknown {DIMENSION_LABELS[dimension].lower()} '{value}' in the drill path."
        return DrillStep(dimension, value)
    if not has_lsoa:
        return "These records carry no LSOA, so the drill step on an LSOA is left out."
    if value != MISSING_LABEL and not LSOA_CODE.match(value):
        return f"'{value}' is not an LSOA code (E01 or W01 and six digits)."
    return DrillStep(dimension, value)


def read_state(
    config: Config,
    covered: list[date],
    period: date,
    params: Mapping[str, str | list[str]],
    has_lsoa: bool = True,
) -> ResolvedState:
    """Check the page's URL parameters against the configuration and the data; keep what is
    valid and say what is not. With no parameters this is the default deep dive: the first
    measure by district, month by month, the 12 months to the period against the 12 before."""
    problems: list[str] = []
    known_measures = {m.id for m in config.measures}
    measure_ids = []
    for value in split_values(params.get("measure")):
        if value not in known_measures:
            problems.append(f"Unknown measure '{value}', left out.")
        elif value not in measure_ids:
            measure_ids.append(value)
    crime_types = []
    for value in split_values(params.get("crime_type")):
        if value not in config.taxonomy.crime_types:
            problems.append(f"Unknown crime type '{value}', left out.")
        elif value not in crime_types:
            crime_types.append(value)
    if measure_ids and crime_types:
        problems.append("Count either measures or crime types, not both: showing the measures.")
        crime_types = []
    if not measure_ids and not crime_types:
        measure_ids = [config.measures[0].id]

    drill: list[DrillStep] = []
    for text in split_values(params.get("drill")):
        step = _drill_step(config, text, has_lsoa)
        if isinstance(step, str):
            problems.append(step)
        elif any(s.dimension == step.dimension for s in drill):
            problems.append(f"The drill path names {step.dimension} twice; the second is left out.")
        else:
            drill.append(step)

    # A link with a drill path and no breakdown breaks down by what the next click would.
    dimension = _last(params.get("by")) or next_dimension(drill, "district", has_lsoa)
    if dimension not in DIMENSION_LABELS or (dimension == "lsoa" and not has_lsoa):
        problems.append(
            f"Cannot break down by '{dimension}': choose from "
            f"{', '.join(d for d in DIMENSION_LABELS if has_lsoa or d != 'lsoa')}. "
            "Showing districts."
        )
        dimension = "district"
    granularity = _last(params.get("grain")) or "month"
    if granularity not in GRANULARITIES:
        problems.append(
            f"Unknown granularity '{granularity}': choose from {', '.join(GRANULARITIES)}. "
            "Showing months."
        )
        granularity = "month"

    current_default, comparison_default = default_windows(period, config.window_months)
    current = _check_window(
        _last(params.get("current")), covered, current_default, "current", problems
    )
    comparison = _check_window(
        _last(params.get("compare")), covered, comparison_default, "comparison", problems
    )

    state = ExploreState(
        measure_ids=tuple(measure_ids),
        crime_types=tuple(crime_types),
        dimension=dimension,
        granularity=granularity,
        current=current,
        comparison=comparison,
        drill=tuple(drill),
    )
    return ResolvedState(state, tuple(problems))


def _last(value: str | list[str] | None) -> str | None:
    if isinstance(value, list):
        return value[-1].strip() if value else None
    return value.strip() if value else None


def windows_of(state: ExploreState, period: date, window_months: int) -> tuple[Window, Window]:
    """The current and comparison windows of a state (the defaults for the period if unset)."""
    current, comparison = default_windows(period, window_months)
    return state.current or current, state.comparison or comparison


def drilled_district_codes(
    config: Config, state: ExploreState, district_codes: Sequence[str] | None
) -> list[str] | None:
    """The district codes left after the place filters and the drill path's district and LPA
    steps; None when every district (and record without one) counts."""
    codes = None if district_codes is None else set(district_codes)
    for step in state.drill:
        if step.dimension == "district":
            district = find_district(config, step.value)
            wanted = {district.code} if district else set()
        elif step.dimension == "lpa":
            wanted = {d.code for d in config.force_districts if d.lpa == step.value}
        else:
            continue
        codes = wanted if codes is None else codes & wanted
    return None if codes is None else sorted(codes)


def _drill_value(state: ExploreState, dimension: str) -> str | None:
    return next((s.value for s in state.drill if s.dimension == dimension), None)


def monthly_counts(
    db: Database, view: View, state: ExploreState, months: Sequence[date]
) -> pd.DataFrame:
    """The counts the state selects in the view's force and places, by breakdown value and
    month: `dimension_value, month_start, count_records` (months and values with no record
    left out).

    A single measure broken down by place comes from the monthly table; anything finer is
    counted from the records. Several measures count a record once, however many count it."""
    codes = drilled_district_codes(db.config, state, view.district_codes(db.config))
    only_places = all(s.dimension in ("district", "lpa") for s in state.drill)
    if (
        len(state.measure_ids) == 1
        and not state.crime_types
        and state.dimension in ("district", "lpa")
        and only_places
    ):
        frame = db.query(
            "explore_measure_places",
            measure_id=state.measure_ids[0],
            dimension=state.dimension,
            missing_label=MISSING_LABEL,
            month_starts=list(months),
            district_codes=codes,
            force=view.force,
        )
    else:
        frame = db.query(
            "explore_record_months",
            dimension=state.dimension,
            missing_label=MISSING_LABEL,
            months=[format_month(m) for m in months],
            district_codes=codes,
            force=view.force,
            measure_ids=list(state.measure_ids) or None,
            crime_types=list(state.crime_types) or None,
            drill_crime_type=_drill_value(state, "crime_type"),
            drill_outcome=_drill_value(state, "outcome"),
            drill_lsoa=_drill_value(state, "lsoa"),
            drill_record_kind=_drill_value(state, "record_kind"),
        )
    frame = frame.assign(month_start=pd.to_datetime(frame["month_start"]).dt.date)
    return frame.astype({"count_records": "int64"}).reset_index(drop=True)


def bucket_of(month: date, granularity: str) -> tuple[date, str]:
    """The first month of the bucket a month falls in, and the bucket's label: `Sep 2022`,
    `2022/23 Q2` (financial quarters start in April) or `2022/23`."""
    if granularity == "month":
        return month, month_label(month)
    year = month.year if month.month >= 4 else month.year - 1
    if granularity == "year":
        return date(year, 4, 1), f"{year}/{(year + 1) % 100:02d}"
    offset = (month.month - 4) % 12 // 3 * 3
    start_index = year * 12 + 3 + offset
    start = date(start_index // 12, start_index % 12 + 1, 1)
    end_index = start_index + 2
    return start, financial_quarter_label(date(end_index // 12, end_index % 12 + 1, 1))


def bucket_months(start: date, granularity: str) -> list[date]:
    """Every month of the bucket starting at `start`: one, three or twelve."""
    length = {"month": 1, "quarter": 3, "year": 12}[granularity]
    return [add_months(start, i) for i in range(length)]


def _period_note(what: str, window: Window, missing: list[date]) -> str:
    return (
        f"The {what} period ({window_text(window)}) is incomplete: the data lacks "
        f"{months_in_words(missing)}, so its totals, differences and % changes are left empty."
    )


def explore(db: Database, view: View, state: ExploreState) -> Exploration:
    """The pivot table (one row per breakdown value: the two periods' totals, difference and
    % change, then one column per bucket; and a total row) and the charts' data for a state,
    in the view's force and places.

    A period the data does not fully cover has no total; a bucket (month, quarter or year)
    missing any of its months, from the data or from the periods chosen, has no count; two
    periods of different lengths are not compared. `notes` says which, naming the months."""
    config = db.config
    current, comparison = windows_of(state, view.period, config.window_months)
    months = sorted(set(current.months) | set(comparison.months))
    covered = set(covered_months(db, view.force))
    counts = monthly_counts(db, view, state, months)
    current_months, comparison_months = set(current.months), set(comparison.months)
    missing_current = current.missing_from(covered)
    missing_comparison = comparison.missing_from(covered)
    notes = []
    if missing_current:
        notes.append(_period_note("current", current, missing_current))
    if missing_comparison:
        notes.append(_period_note("compared", comparison, missing_comparison))
    equal_lengths = len(current.months) == len(comparison.months)
    if not equal_lengths:
        notes.append(
            f"The two periods differ in length ({len(comparison.months)} months compared with "
            f"{len(current.months)}), so no difference or % change is shown: choose periods of "
            "the same length to compare them."
        )

    buckets = {m: bucket_of(m, state.granularity) for m in months}
    bucket_labels = list(dict.fromkeys(label for _, label in sorted(buckets.values())))
    chosen_months = set(months)
    # Months of the chosen periods the data lacks; months outside the periods count as cut.
    bucket_missing = {
        label: [
            m
            for m in bucket_months(start, state.granularity)
            if m in chosen_months and m not in covered
        ]
        for start, label in buckets.values()
    }
    bucket_partial = {
        label: any(m not in chosen_months for m in bucket_months(start, state.granularity))
        for start, label in buckets.values()
    }
    incomplete = [b for b in bucket_labels if bucket_missing[b] or bucket_partial[b]]
    if incomplete:
        lacking = sorted({m for b in incomplete for m in bucket_missing[b]})
        reasons = []
        if lacking:
            reasons.append(f"the data lacks {months_in_words(lacking)}")
        if any(bucket_partial[b] for b in incomplete):
            reasons.append("the periods chosen cover only part of them")
        notes.append(
            f"{_plural(len(incomplete), 'bucket')} left empty ({', '.join(incomplete)}): "
            f"{' and '.join(reasons)}."
        )
    values = sorted(set(counts["dimension_value"]))
    cell: dict[tuple[str, str], int] = {}
    in_current: dict[str, int] = dict.fromkeys(values, 0)
    in_comparison: dict[str, int] = dict.fromkeys(values, 0)
    for row in counts.itertuples():
        value, month, count = str(row.dimension_value), row.month_start, int(row.count_records)
        key = (value, buckets[month][1])
        cell[key] = cell.get(key, 0) + count
        if month in current_months:
            in_current[value] += count
        if month in comparison_months:
            in_comparison[value] += count

    def bucket_count(keys: list[str], bucket: str) -> int | None:
        if bucket in incomplete:
            return None
        return sum(cell.get((v, bucket), 0) for v in keys)

    rows = []
    for value in values + [TOTAL_LABEL]:
        keys = values if value == TOTAL_LABEL else [value]
        comparison_count: int | None = sum(in_comparison[v] for v in keys)
        current_count: int | None = sum(in_current[v] for v in keys)
        if missing_comparison:
            comparison_count = None
        if missing_current:
            current_count = None
        diff: int | None = None
        pct: float | None = None
        if comparison_count is not None and current_count is not None and equal_lengths:
            difference = change(comparison_count, current_count)
            diff, pct = difference.diff, difference.pct_change
        rows.append(
            {
                "dimension_value": value,
                "comparison_count": comparison_count,
                "current_count": current_count,
                "diff": diff,
                "pct_change": pct,
            }
            | {b: bucket_count(keys, b) for b in bucket_labels}
        )
    # The comparison comes first, so it is in view however many buckets follow.
    pivot = pd.DataFrame(
        rows,
        columns=[
            "dimension_value",
            "comparison_count",
            "current_count",
            "diff",
            "pct_change",
            *bucket_labels,
        ],
    )
    pivot = pivot.astype(
        {
            "comparison_count": "Int64",
            "current_count": "Int64",
            "diff": "Int64",
            "pct_change": "Float64",
            **dict.fromkeys(bucket_labels, "Int64"),
        }
    )
    body = pivot[pivot["dimension_value"] != TOTAL_LABEL]
    # Ranked by what the records hold, complete or not, so the order never jumps with a gap.
    rank = pd.DataFrame(
        {
            "current": [in_current[v] for v in body["dimension_value"]],
            "comparison": [in_comparison[v] for v in body["dimension_value"]],
            "value": body["dimension_value"],
        },
        index=body.index,
    ).sort_values(["current", "comparison", "value"], ascending=[False, False, True])
    body = body.loc[rank.index]
    rows_left_off = max(0, len(body) - TABLE_MAX_ROWS)
    left_off_note = None
    if rows_left_off:
        name = DIMENSION_LABELS[state.dimension]
        left_off_note = (
            f"The table lists the {TABLE_MAX_ROWS:,} largest of {len(body):,} values of "
            f"{name}; {rows_left_off:,} more are left off here and in the download, though the "
            "total counts them. Drill into one value or narrow the periods to see them."
        )
        body = body.head(TABLE_MAX_ROWS)
    pivot = pd.concat([body, pivot[pivot["dimension_value"] == TOTAL_LABEL]], ignore_index=True)

    return Exploration(
        pivot=pivot,
        breakdown=_breakdown_frame(body, current, comparison),
        timeline=_timeline_frame(cell, values, months, buckets, incomplete, current, comparison),
        bucket_columns=tuple(bucket_labels),
        current=current,
        comparison=comparison,
        notes=tuple(notes),
        rows_left_off=rows_left_off,
        left_off_note=left_off_note,
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def window_label(kind: str, window: Window) -> str:
    """How a chart's legend names a period: `Current: Oct 2021 to Sep 2022`."""
    name = "Current" if kind == CURRENT else "Comparison"
    return f"{name}: {month_label(window.start)} to {month_label(window.end)}"


def _breakdown_frame(body: pd.DataFrame, current: Window, comparison: Window) -> pd.DataFrame:
    top = body.head(CHART_MAX_BARS)
    rows = []
    for row in top.to_dict("records"):
        for kind, window, count in (
            (COMPARISON, comparison, row["comparison_count"]),
            (CURRENT, current, row["current_count"]),
        ):
            if pd.isna(count):
                continue  # an incomplete period draws no bar rather than a short one
            rows.append(
                {
                    "dimension_value": row["dimension_value"],
                    "window": kind,
                    "window_label": window_label(kind, window),
                    "count_records": int(count),
                    "pct_change": None if pd.isna(row["pct_change"]) else row["pct_change"],
                }
            )
    return pd.DataFrame(
        rows,
        columns=["dimension_value", "window", "window_label", "count_records", "pct_change"],
    )


def _timeline_frame(
    cell: dict[tuple[str, str], int],
    values: list[str],
    months: list[date],
    buckets: dict[date, tuple[date, str]],
    incomplete: list[str],
    current: Window,
    comparison: Window,
) -> pd.DataFrame:
    current_months = set(current.months)
    rows: list[dict[str, object]] = []
    for label in dict.fromkeys(buckets[m][1] for m in months):
        in_bucket = [m for m in months if buckets[m][1] == label]
        # A bucket that straddles both periods is drawn as current.
        kind = CURRENT if any(m in current_months for m in in_bucket) else COMPARISON
        complete = label not in incomplete
        rows.append(
            {
                "bucket_start": buckets[in_bucket[0]][0],
                "bucket_label": label,
                # An incomplete bucket is left empty: no bar, rather than a partial one.
                "count_records": sum(cell.get((v, label), 0) for v in values) if complete else None,
                "is_complete": complete,
                "window_label": window_label(kind, current if kind == CURRENT else comparison),
                "count_months": len(in_bucket),
            }
        )
    frame = pd.DataFrame(
        rows,
        columns=[
            "bucket_start",
            "bucket_label",
            "count_records",
            "is_complete",
            "window_label",
            "count_months",
        ],
    ).astype({"count_records": "Int64"})
    return frame.sort_values("bucket_start").reset_index(drop=True)


def picked_value(selection: Mapping[str, object] | None) -> str | None:
    """The breakdown value a chart click chose (from Streamlit's selection state), if any."""
    if not selection:
        return None
    points = selection.get("pick")
    if isinstance(points, Mapping):
        points = points.get("dimension_value")
    if isinstance(points, list) and points:
        first = points[0]
        if isinstance(first, Mapping):
            value = first.get("dimension_value")
            return str(value) if value is not None else None
        return str(first)
    return None


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _in_list(column: str, values: Sequence[str]) -> str:
    return f"{column} in ({', '.join(_literal(v) for v in values)})"


# How each breakdown reads in SQL over `records as r left join districts as d`; the same
# expressions as queries/explore_record_months.sql.
SQL_DIMENSIONS = {
    "district": "coalesce(d.district_name, r.district_code)",
    "lpa": f"coalesce(d.lpa, {_literal(MISSING_LABEL)})",
    "crime_type": "r.crime_type",
    "outcome": f"coalesce(r.outcome, {_literal(MISSING_LABEL)})",
    "lsoa": f"coalesce(r.lsoa_code, {_literal(MISSING_LABEL)})",
    "record_kind": "r.record_kind",
}


def check_sql(config: Config, view: View, state: ExploreState) -> str:
    """A query for the SQL page that counts the explorer's current view from the records, one
    row per breakdown value with both periods' counts, so an analyst can check the figures
    (and take the query further). Measures are read through `record_measures`, the view that
    defines which records each measure counts. Every value in it comes from the validated
    state and view."""
    current, comparison = windows_of(state, view.period, config.window_months)
    conditions = [
        f"(r.month between {_literal(format_month(current.start))} and "
        f"{_literal(format_month(current.end))} or r.month between "
        f"{_literal(format_month(comparison.start))} and "
        f"{_literal(format_month(comparison.end))})"
    ]
    if view.force is not None:
        conditions.append(f"r.force = {_literal(view.force)}")
    codes = drilled_district_codes(config, state, view.district_codes(config))
    if codes is not None:
        conditions.append(_in_list("r.district_code", codes) if codes else "false")
    for step in state.drill:
        if step.dimension not in ("district", "lpa"):
            conditions.append(f"{SQL_DIMENSIONS[step.dimension]} = {_literal(step.value)}")
    if state.measure_ids:
        # A record counts once however many of the chosen measures count it.
        conditions.append(
            "(r.force, r.record_id) in (\n        select force, record_id from record_measures\n"
            f"        where {_in_list('measure_id', state.measure_ids)}\n    )"
        )
    else:
        conditions.append(_in_list("r.crime_type", state.crime_types))

    def in_window(window: Window) -> str:
        return (
            f"r.month between {_literal(format_month(window.start))} "
            f"and {_literal(format_month(window.end))}"
        )

    where = "\n    and ".join(conditions)
    return (
        f"-- one row: one {DIMENSION_LABELS[state.dimension].lower()} and its count in each "
        "period, as the explorer shows it\n"
        "select\n"
        f"    {SQL_DIMENSIONS[state.dimension]} as dimension_value,\n"
        f"    count(*) filter (where {in_window(comparison)}) as comparison_count,\n"
        f"    count(*) filter (where {in_window(current)}) as current_count\n"
        "from records as r\n"
        "left join districts as d on r.district_code = d.district_code\n"
        f"where\n    {where}\n"
        "group by all\n"
        "order by current_count desc, comparison_count desc, dimension_value\n"
    )


def subject_label(config: Config, state: ExploreState) -> str:
    """What is counted, in words: `Knife-enabled crime` or `Crime types: Robbery, Homicide`."""
    if state.measure_ids:
        return ", ".join(config.measure(m).name for m in state.measure_ids)
    return "Crime types: " + ", ".join(state.crime_types)


def subject_unit(config: Config, state: ExploreState) -> str:
    """The unit the counts are in: the measures' unit when they share one, else `records`."""
    units = {config.measure(m).unit for m in state.measure_ids}
    return units.pop() if len(units) == 1 else "records"


def data_coverage(db: Database) -> dict[str, bool]:
    """Which optional columns the records fill: `has_lsoa`, `has_outcome`, `has_coordinates`."""
    row = db.query("explore_data_coverage").iloc[0]
    return {name: bool(row[name]) for name in ("has_lsoa", "has_outcome", "has_coordinates")}
