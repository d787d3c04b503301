"""The workbook (Excel .xlsx): one sheet per table, for analysts who work the numbers further.

Each sheet starts with its title and the filters it was made with, then a frozen header row
and the table. Counts are stored as numbers, months as dates (shown `Sep 2022`), percentages
as numbers of per cent (13.3 for +13.3%), and columns keep the names the code and the CSV
downloads use, so a formula written against one export works against the next.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from crimeprev.figures.overview import BETTER_WHEN
from crimeprev.periods import PeriodError, parse_month
from crimeprev.present.cells_safe import is_formula_like
from crimeprev.present.charts import BLUE
from crimeprev.report.content import REPORT_TITLE, Progress, ReportContent, no_progress

HEADER_ROW = 4
MONTH_FORMAT = "mmm yyyy"
PCT_FORMAT = '+0.0"%";-0.0"%";0.0"%"'
COUNT_FORMAT = "#,##0"
MAX_COLUMN_WIDTH = 60
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
PCT_COLUMNS = {"pct_change", "pct_change_previous_year", "pct_change_baseline"}
SHARE_FORMAT = '0.0"%"'
COUNT_COLUMNS = {
    "count_records",
    "comparator_count",
    "current_count",
    "diff",
    "total",
    "complete",
    "ongoing",
    "at_risk",
    "not_started",
    "actions_complete",
    "actions_total",
}

TITLE_FONT = Font(bold=True, size=14)
NOTE_FONT = Font(italic=True, color="555555")
HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor=BLUE.lstrip("#"))


@dataclass(frozen=True)
class Sheet:
    """One worksheet: its name (at most 31 characters), a title and the table."""

    name: str
    title: str
    table: pd.DataFrame


def _value(column: str, value: Any) -> Any:
    """A table value as the workbook stores it: None for missing, dates for months."""
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value)
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if column in MONTH_TEXT_COLUMNS and isinstance(value, str):
        try:
            return parse_month(value)
        except PeriodError:
            return value
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _number_format(column: str) -> str | None:
    if column == "month_start" or column in MONTH_TEXT_COLUMNS:
        return MONTH_FORMAT
    if column in PCT_COLUMNS:
        return PCT_FORMAT
    if column == "pct_complete":
        return SHARE_FORMAT
    if column in COUNT_COLUMNS:
        return COUNT_FORMAT
    return None


def _width(column: str, values: list[Any]) -> float:
    def shown(value: Any) -> int:
        if isinstance(value, date | datetime):
            return 8
        if isinstance(value, float):
            return len(f"{value:,.1f}")
        return len(str(value)) if value is not None else 0

    longest = max([len(column), *(shown(v) for v in values[:2000])])
    return min(longest + 2, MAX_COLUMN_WIDTH)


def _write_sheet(book: Workbook, sheet: Sheet, filters: str) -> None:
    worksheet = book.create_sheet(sheet.name)
    columns = list(sheet.table.columns)
    rows = [
        [_value(column, value) for column, value in zip(columns, record, strict=True)]
        for record in sheet.table.itertuples(index=False, name=None)
    ]
    for index, column in enumerate(columns, start=1):
        letter = get_column_letter(index)
        worksheet.column_dimensions[letter].width = _width(column, [r[index - 1] for r in rows])
    # Frozen below the header; the header row is the fourth, under the title and filters.
    worksheet.freeze_panes = f"A{HEADER_ROW + 1}"
    title = WriteOnlyCell(worksheet, value=sheet.title)
    title.font = TITLE_FONT
    worksheet.append([title])
    note = WriteOnlyCell(worksheet, value=filters)
    note.font = NOTE_FONT
    worksheet.append([note])
    worksheet.append([])
    header = []
    for column in columns:
        cell = WriteOnlyCell(worksheet, value=column)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
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
    if rows:
        last = get_column_letter(len(columns))
        worksheet.auto_filter.ref = f"A{HEADER_ROW}:{last}{HEADER_ROW + len(rows)}"


def _measure_names(content: ReportContent) -> dict[str, str]:
    return {m.id: m.name for m in content.config.measures}


def sheets(content: ReportContent) -> list[Sheet]:
    """The workbook's sheets, in order, each a table from the report's content."""
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
    overview = content.overview.rows.drop(columns=["strand_link", "trend"])
    series = content.series.assign(measure_name=content.series["measure_id"].map(names))
    series = series[["measure_id", "measure_name", "month_start", "is_covered", "count_records"]]
    by_district = content.district_series.assign(
        measure_name=content.district_series["measure_id"].map(names)
    )
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
    if not activity.empty:
        activity = activity[
            [
                "strand_id",
                "strand_name",
                "operation",
                "metric",
                "value",
                "unit",
                "value_text",
                "period_label",
                "period_end",
            ]
        ]
    commentary = pd.DataFrame(
        [
            {
                "strand_id": s.strand.id,
                "strand_name": s.strand.name,
                "commentary": s.commentary or "",
            }
            for s in content.strands
        ]
    )
    plan = content.delivery
    no_plan = pd.DataFrame({"note": [plan.unavailable or ""]})
    place = content.place_label
    return [
        Sheet("Overview", f"Strands at a glance, {content.overview.current_label}", overview),
        Sheet("Insight", f"Insight figures, {content.current_window.label()}", content.insight),
        Sheet("Monthly", f"Monthly counts per measure, {place}", series),
        Sheet("Monthly by district", "Monthly counts per measure and district", by_district),
        Sheet(
            "Delivery status",
            f"Delivery plan: actions by status at {plan.quarter_label or 'no quarter'}",
            plan.status if plan.status is not None else no_plan,
        ),
        Sheet(
            "Delivery actions",
            "Delivery plan: every action and its status",
            plan.actions if plan.actions is not None else no_plan,
        ),
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


def build_workbook(content: ReportContent, progress: Progress = no_progress) -> bytes:
    """The workbook as .xlsx bytes."""
    book = Workbook(write_only=True)
    book.properties.title = f"{REPORT_TITLE}: {content.current_window.label()}"
    book.properties.subject = content.filter_summary()
    filters = content.filter_summary()
    planned = sheets(content) + comparison_sheets(content)
    for index, sheet in enumerate(planned):
        progress(index / len(planned), f"Writing the {sheet.name} sheet")
        _write_sheet(book, sheet, filters)
    progress(0.95, "Saving the workbook")
    buffer = io.BytesIO()
    book.save(buffer)
    progress(1.0, "Workbook ready")
    return buffer.getvalue()
