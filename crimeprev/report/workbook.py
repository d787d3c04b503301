"""The workbook (Excel .xlsx): one sheet per table, for analysts who work the numbers further.

Every data sheet is one Excel Table with its header in row 1 and nothing above or below it, so
`pandas.read_excel` and a pivot table read it at once. What a sheet holds and what each column
means is on the Guide sheet; the report's filters, marking and meeting on the About sheet.
Counts are stored as numbers, months as dates (shown `Sep 2022`), changes and shares as
fractions shown as per cent (0.133 shows +13.3%), and a column has one name and one unit on
every sheet (`strand_id`, never `strand`). A data sheet holds no total row: a pivot adds them.
"""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.filters import AutoFilter
from openpyxl.worksheet.table import Table, TableColumn, TableStyleInfo

from crimeprev.figures.overview import BETTER_WHEN
from crimeprev.periods import PeriodError, parse_month
from crimeprev.present.cells_safe import is_formula_like
from crimeprev.report.content import REPORT_TITLE, Progress, ReportContent, no_progress
from crimeprev.report.wording import plain

MONTH_FORMAT = "mmm yyyy"
PCT_FORMAT = "+0.0%;-0.0%;0.0%"
SHARE_FORMAT = "0.0%"
COUNT_FORMAT = "#,##0"
RATIO_FORMAT = "0.00"
P_FORMAT = "0.0000"
MAX_COLUMN_WIDTH = 60
TABLE_STYLE = "TableStyleMedium2"
# Columns holding a month written YYYY-MM in the core's tables: stored here as real dates.
MONTH_TEXT_COLUMNS = {
    "comparator_start",
    "comparator_end",
    "current_start",
    "current_end",
    "target_month",
    "completed_month",
    "period_end",
}
# Changes and shares the core holds as per cent (13.3 for +13.3%): stored as fractions.
PCT_COLUMNS = {"pct_change", "pct_change_previous_year", "pct_change_baseline"}
SHARE_COLUMNS = {"pct_complete"}
COUNT_COLUMNS = {
    "count",
    "previous_count",
    "count_records",
    "comparator_count",
    "current_count",
    "diff",
    "diff_previous_year",
    "actions_total",
    "actions_complete",
    "actions_ongoing",
    "actions_at_risk",
    "actions_not_started",
}
RATIO_COLUMNS = {"rate_ratio", "rate_ratio_low", "rate_ratio_high", "dispersion"}

# One name for one thing on every sheet: the core's names that differ between tables.
INSIGHT_NAMES = {"strand": "strand_id", "measure": "measure_id", "complete": "window_complete"}
DELIVERY_NAMES = {
    "total": "actions_total",
    "complete": "actions_complete",
    "ongoing": "actions_ongoing",
    "at_risk": "actions_at_risk",
    "not_started": "actions_not_started",
}

# What every column of every sheet means, and its unit: the Guide sheet.
COLUMN_GUIDE: dict[str, tuple[str, str]] = {
    "strand_group": ("The group of strands the strand belongs to", "text"),
    "strand_id": ("The strand's identifier in the strategy's configuration", "text"),
    "strand_name": ("The strand's name", "text"),
    "measure_id": ("The measure's identifier in the strategy's configuration", "text"),
    "measure_name": ("The measure's name", "text"),
    "unit": ("What the measure or result counts", "text"),
    "better_when": ("Which way is better for the measure: Lower or Higher", "text"),
    "current_count": ("Records counted in the current 12-month window", "records"),
    "comparator_count": ("Records counted in the comparison window", "records"),
    "count_records": ("Records counted in the month", "records"),
    "diff": ("current_count minus comparator_count", "records"),
    "diff_previous_year": ("The current 12 months' count minus the 12 months before", "records"),
    "verdict_previous_year": (
        "Against the year before: Worse or Better (beyond normal variation, read with the "
        "measure's better-when direction), No real change (within it) or Not tested",
        "text",
    ),
    "pct_change": ("Change of current_count on comparator_count", "fraction (per cent)"),
    "pct_change_previous_year": (
        "Change of the current 12 months on the 12 months before",
        "fraction (per cent)",
    ),
    "pct_change_baseline": (
        "Change of the current 12 months on the pre-Covid baseline year",
        "fraction (per cent)",
    ),
    "significance_previous_year": (
        "Whether the change on the year before is beyond normal variation, with its direction",
        "text",
    ),
    "significance_baseline": (
        "Whether the change on the baseline is beyond normal variation, with its direction",
        "text",
    ),
    "variation": (
        "The latest month on the measure's XmR chart: common cause, or special cause "
        "(improvement or concern)",
        "text",
    ),
    "actions_total": ("Delivery-plan actions of the strand", "actions"),
    "actions_complete": ("Actions complete at the end of the quarter", "actions"),
    "actions_ongoing": ("Actions ongoing at the end of the quarter", "actions"),
    "actions_at_risk": ("Actions at risk at the end of the quarter", "actions"),
    "actions_not_started": ("Actions not started at the end of the quarter", "actions"),
    "pct_complete": ("actions_complete as a share of actions_total", "fraction (per cent)"),
    "note": ("Why a figure is missing or needs care", "text"),
    "comparison": ("Which comparison: previous_year or baseline", "text"),
    "comparator_start": ("First month of the comparison window", "month"),
    "comparator_end": ("Last month of the comparison window", "month"),
    "comparator_label": ("The comparison window in words", "text"),
    "current_start": ("First month of the current window", "month"),
    "current_end": ("Last month of the current window", "month"),
    "current_label": ("The current window in words", "text"),
    "window_complete": ("Whether the data covers every month of both windows", "true/false"),
    "missing_months": ("Months of the windows the data lacks", "months, YYYY-MM"),
    "rate_ratio": ("Monthly rate of the current window over the comparison window", "ratio"),
    "rate_ratio_low": ("Lower end of the rate ratio's confidence interval", "ratio"),
    "rate_ratio_high": ("Upper end of the rate ratio's confidence interval", "ratio"),
    "p_value": ("Probability of a change this large by chance alone", "probability"),
    "significant": ("Whether the change is beyond normal variation", "true/false"),
    "small_counts": (
        "Whether a window counts few records: read the change with care",
        "true/false",
    ),
    "significance_note": ("Why no test was made, when none was", "text"),
    "significance_test": ("The test used: quasi-Poisson or exact", "text"),
    "dispersion": ("Variance of the monthly counts as a multiple of the Poisson variance", "ratio"),
    "verdict": ("The test's outcome in words", "text"),
    "month_start": ("The month (its first day)", "month"),
    "is_covered": ("Whether the data covers the month", "true/false"),
    "district_code": ("The district's ONS code", "text"),
    "district_name": ("The district's name", "text"),
    "lpa": ("The local policing area the district belongs to", "text"),
    "action_id": ("The delivery-plan action's identifier", "text"),
    "title": ("The action in words", "text"),
    "status": ("The action's status at the end of the quarter", "text"),
    "target_month": ("The month the action is due", "month"),
    "completed_month": ("The month the action was completed", "month"),
    "operation": ("The operation or activity reported", "text"),
    "metric": ("The result reported", "text"),
    "value": ("The result's value", "in `unit`"),
    "period_label": ("The period the result covers, in words", "text"),
    "period_end": ("Last month of the period the result covers", "month"),
    "commentary": ("The strand lead's commentary for the period", "text"),
    "definition": ("What the measure counts, in words", "text"),
    "counted": ("The rule that selects the measure's records", "text"),
    "offence_group": ("The ONS offence group", "text"),
    "force": ("The police force area", "text"),
    "count": ("Offences the ONS tables publish for the force in the year", "offences"),
    "previous_count": ("Offences the ONS tables publish for the year before", "offences"),
    "pct_change_marker": ("The ONS marker where no change is published", "text"),
    "population": ("Residents or households the rate is per", "people or households"),
    "denominator": ("Whether the rate is per residents or per households", "text"),
    "rate_per_1000": ("Offences per 1,000 residents (or households)", "per 1,000"),
    "rate_marker": ("The ONS marker where no rate is published", "text"),
    "england_wales_rate": ("The rate for England and Wales", "per 1,000"),
    "rank": ("The force's rank by rate among the 42 forces, 1 the lowest", "rank"),
    "ranked_of": ("How many forces are ranked", "forces"),
    "peer_place": ("The force's place by rate in its peer group", "text"),
    "funnel": ("Whether the rate lies outside the funnel limits around England and Wales", "text"),
    "funnel_overdispersed": ("The same, with limits widened by the spread between forces", "text"),
    "item": ("What the row tells", "text"),
    "detail": ("The report's setting or note", "text"),
}

HEADER_FONT = Font(bold=True)
GUIDE_SHEET = "Guide"
ABOUT_SHEET = "About"


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name (at most 31 characters), what it holds and the table."""

    name: str
    title: str
    table: pd.DataFrame


def _value(column: str, value: Any) -> Any:
    """A table value as the workbook stores it: None for missing, dates for months, fractions
    for per cent, text without pictograms; a suppressed count's words as they are."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        if column in MONTH_TEXT_COLUMNS:
            try:
                return parse_month(value)
            except PeriodError:
                return value
        return plain(value)
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if (column in PCT_COLUMNS or column in SHARE_COLUMNS) and isinstance(value, int | float):
        return float(value) / 100
    return value


def _number_format(column: str) -> str | None:
    if column == "month_start" or column in MONTH_TEXT_COLUMNS:
        return MONTH_FORMAT
    if column in PCT_COLUMNS:
        return PCT_FORMAT
    if column in SHARE_COLUMNS:
        return SHARE_FORMAT
    if column in COUNT_COLUMNS:
        return COUNT_FORMAT
    if column in RATIO_COLUMNS:
        return RATIO_FORMAT
    if column == "p_value":
        return P_FORMAT
    return None


def _width(column: str, values: list[Any]) -> float:
    def shown(value: Any) -> int:
        if isinstance(value, date | datetime):
            return 8
        if isinstance(value, float):
            return len(f"{value:,.1f}")
        return len(str(value)) if value is not None else 0

    longest = max([len(column), *(shown(v) for v in values[:2000])])
    return min(longest + 4, MAX_COLUMN_WIDTH)


def _table_name(sheet_name: str) -> str:
    return "t_" + re.sub(r"\W+", "_", sheet_name).strip("_")


def _marked(worksheet: Any, marking: str) -> None:
    """The protective marking at the top and foot of every printed page of the sheet."""
    for part in (worksheet.oddHeader, worksheet.oddFooter):
        part.center.text = marking
        part.center.font = "Arial,Bold"
    worksheet.oddFooter.right.text = "Page &P of &N"


def _write_sheet(book: Workbook, sheet: Sheet, marking: str) -> None:
    """The sheet as one Excel Table, its header in row 1."""
    worksheet = book.create_sheet(sheet.name)
    columns = [str(c) for c in sheet.table.columns]
    rows = [
        [_value(column, value) for column, value in zip(columns, record, strict=True)]
        for record in sheet.table.itertuples(index=False, name=None)
    ]
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        worksheet.column_dimensions[letter].width = _width(column, [r[index - 1] for r in rows])
    worksheet.freeze_panes = "A2"
    _marked(worksheet, marking)
    header = []
    for column in columns:
        cell = WriteOnlyCell(worksheet, value=column)
        cell.font = HEADER_FONT
        cell.alignment = Alignment(vertical="center")
        header.append(cell)
    worksheet.append(header)
    formats = [_number_format(column) for column in columns]
    for row in rows:
        cells: list[Any] = []
        for value, number_format in zip(row, formats, strict=True):
            if is_formula_like(value):
                # Text from a file stays text: typed as a string, never a formula.
                text = WriteOnlyCell(worksheet, value=value)
                text.data_type = "s"
                cells.append(text)
            elif number_format is None or value is None or isinstance(value, str | bool):
                cells.append(value)
            else:
                cell = WriteOnlyCell(worksheet, value=value)
                cell.number_format = number_format
                cells.append(cell)
        worksheet.append(cells)
    if not rows:
        worksheet.append([None] * len(columns))  # a Table needs a row under its header
    last = get_column_letter(len(columns))
    ref = f"A1:{last}{max(len(rows), 1) + 1}"
    table = Table(displayName=_table_name(sheet.name), ref=ref)
    # A write-only sheet cannot read its header back, so the Table's columns are named here.
    table.tableColumns = [TableColumn(id=i, name=c) for i, c in enumerate(columns, start=1)]
    table.autoFilter = AutoFilter(ref=ref)
    table.tableStyleInfo = TableStyleInfo(name=TABLE_STYLE, showRowStripes=True)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "In write-only mode", UserWarning)
        worksheet.add_table(table)


def _measure_names(content: ReportContent) -> dict[str, str]:
    return {m.id: m.name for m in content.config.measures}


def sheets(content: ReportContent) -> list[Sheet]:
    """The workbook's data sheets, in order, each a table from the report's content."""
    config = content.config
    names = _measure_names(content)
    strand_names = {s.id: s.name for s in config.strands}
    measures = pd.DataFrame(
        [
            {
                "strand_id": m.strand_id,
                "strand_name": strand_names[m.strand_id],
                "measure_id": m.id,
                "measure_name": m.name,
                "unit": m.unit,
                "better_when": BETTER_WHEN[m.improvement],
                "definition": m.definition,
                "counted": m.rule.describe(),
            }
            for s in content.strands
            for m in (section.measure for section in s.measures)
        ],
        columns=[
            "strand_id",
            "strand_name",
            "measure_id",
            "measure_name",
            "unit",
            "better_when",
            "definition",
            "counted",
        ],
    )
    # The text columns that repeat a number (`+13.3% ⚠`, `16 of 26`) are left to the deck.
    overview = content.overview.rows.drop(
        columns=["strand_link", "trend", "change_previous_year", "change_baseline", "delivery_text"]
    )
    insight = content.insight.rename(columns=INSIGHT_NAMES)
    insight.insert(2, "better_when", insight.pop("improvement").map(BETTER_WHEN))
    series = content.series.assign(measure_name=content.series["measure_id"].map(names))
    series = series[["measure_id", "measure_name", "month_start", "is_covered", "count_records"]]
    by_district = content.district_series
    if not by_district.empty:
        by_district = by_district.assign(measure_name=by_district["measure_id"].map(names))
        by_district = by_district[
            [
                "measure_id",
                "measure_name",
                "district_code",
                "district_name",
                "lpa",
                "month_start",
                "is_covered",
                "count_records",
            ]
        ]
    activity = pd.concat(
        [
            section.activity.assign(strand_id=section.strand.id, strand_name=section.strand.name)
            for section in content.strands
            if not section.activity.empty
        ]
        or [pd.DataFrame()],
        ignore_index=True,
    )
    activity_columns = [
        "strand_id",
        "strand_name",
        "operation",
        "metric",
        "value",
        "unit",
        "period_label",
        "period_end",
    ]
    activity = (
        activity[activity_columns] if not activity.empty else pd.DataFrame(columns=activity_columns)
    )
    commentary = pd.DataFrame(
        [
            {
                "strand_id": s.strand.id,
                "strand_name": s.strand.name,
                "commentary": s.commentary or "",
            }
            for s in content.strands
        ],
        columns=["strand_id", "strand_name", "commentary"],
    )
    plan = content.delivery
    no_plan = pd.DataFrame({"note": [plan.unavailable or ""]})
    status = no_plan
    if plan.status is not None:
        # The plan's total row is left out: it would be counted twice by a sum or a pivot.
        status = plan.status[plan.status["strand_id"] != "total"].rename(columns=DELIVERY_NAMES)
    actions = no_plan
    if plan.actions is not None:
        actions = plan.actions.drop(columns=["strand_order"], errors="ignore")
    place = content.place_label
    months = f"{_month_span(content.series)}"
    sheets = [
        Sheet("Overview", f"Strands at a glance, {content.overview.current_label}", overview),
        Sheet("Insight", f"Insight figures, {content.current_window.label()}", insight),
        Sheet("Monthly", f"Monthly counts per measure, {place}, {months}", series),
    ]
    if not by_district.empty:
        sheets.append(
            Sheet(
                "Monthly by district",
                f"Monthly counts per measure and district, {months}",
                by_district,
            )
        )
    return [
        *sheets,
        Sheet(
            "Delivery status",
            f"Delivery plan: actions by status at {plan.quarter_label or 'no quarter'}, one row "
            "per strand",
            status,
        ),
        Sheet("Delivery actions", "Delivery plan: every action and its status", actions),
        Sheet("Activity", "Operational results (force-wide)", activity),
        Sheet(
            "Commentary",
            "The strand leads' commentary"
            + (
                " (force-wide: the place filters do not change it)"
                if content.filters.has_place_filter()
                else ""
            ),
            commentary,
        ),
        Sheet("Measures", "What each measure counts", measures),
    ]


def _month_span(series: pd.DataFrame) -> str:
    if series.empty:
        return "no months"
    months = pd.to_datetime(series["month_start"])
    return f"{months.min():%B %Y} to {months.max():%B %Y}"


def comparison_sheets(content: ReportContent) -> list[Sheet]:
    """The "How we compare" sheet: the force's published figures for each main offence group
    beside England and Wales, its rank, its place in its peer group and the funnel verdicts
    (the rows `crimeprev peers` gives for the force); none when the tables are not imported."""
    summary = content.comparison
    if summary is None:
        return []
    title = (
        f"How we compare: {summary.group.force}, ONS police recorded crime, "
        f"{summary.edition.label()}; peers: {summary.group.label}"
    )
    return [Sheet("How we compare", title, summary.table)]


def guide_sheet(content: ReportContent, data: list[Sheet]) -> Sheet:
    """What each sheet holds (a row with no column named) and what each of its columns means
    and in which unit."""
    rows = []
    for sheet in data:
        rows.append({"sheet": sheet.name, "column": None, "meaning": sheet.title, "unit": None})
        for column in sheet.table.columns:
            meaning, unit = COLUMN_GUIDE.get(str(column), ("", ""))
            rows.append(
                {"sheet": sheet.name, "column": str(column), "meaning": meaning, "unit": unit}
            )
    return Sheet(GUIDE_SHEET, "What each sheet and column holds", pd.DataFrame(rows))


def about_sheet(content: ReportContent) -> Sheet:
    """The report's title, marking, filters, meeting and source, one per row."""
    items = [
        ("Report", f"{REPORT_TITLE}: {content.current_window.label()}"),
        ("Protective marking", content.settings.marking),
        *content.filter_lines(),
        *content.meeting_lines(),
        ("Source", content.source_note()),
        *(("Windows", line) for line in content.window_notes()),
        ("Prepared", f"{content.generated_at:%d %B %Y %H:%M}"),
        ("Guide", f"The {GUIDE_SHEET} sheet says what each sheet and column holds."),
    ]
    if content.filters.role == "viewer":
        items += [("Small counts", line) for line in content.narrative[-1:]]
    return Sheet(
        ABOUT_SHEET,
        "The report's marking, filters, meeting details and source",
        pd.DataFrame(items, columns=["item", "detail"]),
    )


def build_workbook(content: ReportContent, progress: Progress = no_progress) -> bytes:
    """The workbook as .xlsx bytes: About, Guide, then the data sheets."""
    book = Workbook(write_only=True)
    book.properties.title = f"{REPORT_TITLE}: {content.current_window.label()}"
    book.properties.subject = content.filter_summary()
    book.properties.keywords = content.settings.marking
    book.properties.category = content.settings.marking
    data = sheets(content) + comparison_sheets(content)
    about = about_sheet(content)
    planned = [about, guide_sheet(content, [about, *data]), *data]
    for index, sheet in enumerate(planned):
        progress(index / len(planned), f"Writing the {sheet.name} sheet")
        _write_sheet(book, sheet, content.settings.marking)
    progress(0.95, "Saving the workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    progress(1.0, "Workbook ready")
    return buffer.getvalue()
