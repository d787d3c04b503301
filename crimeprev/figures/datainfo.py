"""What the Data page shows: where the records came from, which months each source covers and
where the gaps are, what the last import did and set aside, and what every measure counts."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pandas as pd

from crimeprev.config import Config
from crimeprev.db import Database
from crimeprev.figures.counts import record_counts
from crimeprev.imports.common import import_log, missing_months, quarantined_rows
from crimeprev.periods import format_month, month_label, parse_month
from crimeprev.view import View

SOURCE_NAMES = {
    "demo": "Demo extract (crimeprev demo)",
    "police-uk": "data.police.uk street-level files",
    "records": "Force records extract",
    "delivery": "Delivery tracker",
    "ons-pfa": "ONS police force area tables",
}


@dataclass(frozen=True)
class Coverage:
    """The months the records cover, the gaps between them, and counts per month and kind."""

    months: list[date]
    gaps: list[date]
    monthly: pd.DataFrame


def coverage(db: Database, force: str | None = None) -> Coverage:
    """Records (of one force, or all) per month and kind, with every month from first to last
    present (a gap is a month with no records at all, shown with `is_covered` false)."""
    counted = record_counts(db, ["month", "record_kind"], force=force)
    months = sorted(set(counted["month_start"]))
    gaps = missing_months(months)
    if gaps:
        filler = pd.DataFrame({"month_start": gaps, "record_kind": None, "count_records": pd.NA})
        counted = pd.concat([counted, filler], ignore_index=True)
    counted = counted.assign(
        is_covered=~counted["month_start"].isin(gaps),
        month_label=[month_label(m) for m in counted["month_start"]],
    )
    return Coverage(months, gaps, counted.sort_values("month_start").reset_index(drop=True))


def _ranges(months: list[date]) -> str:
    """Months written as runs: `2018-01 to 2018-07, 2018-10 to 2019-02`."""
    if not months:
        return ""
    runs: list[tuple[date, date]] = []
    for month in sorted(months):
        if runs and not missing_months([runs[-1][1], month]) and month != runs[-1][1]:
            runs[-1] = (runs[-1][0], month)
        else:
            runs.append((month, month))
    return ", ".join(
        format_month(a) if a == b else f"{format_month(a)} to {format_month(b)}" for a, b in runs
    )


def sources(root: Path, covered: list[date]) -> pd.DataFrame:
    """One row per source of records: the months it supplied that the data still holds (the
    last import of a month is its source), their runs, and the gaps inside that span."""
    supplier: dict[date, tuple[str, str]] = {}
    for entry in import_log(root):
        kind = str(entry.get("kind"))
        if kind == "delivery":
            continue
        for text in entry.get("months_written", []) + entry.get("months_unchanged", []):
            month = parse_month(text)
            if kind != "demo" or month not in supplier:
                supplier[month] = (kind, str(entry.get("started_at", "")))
    rows = []
    held = set(covered)
    unknown = sorted(held - set(supplier))
    by_kind: dict[str, list[date]] = {}
    for month, (kind, _) in supplier.items():
        if month in held:
            by_kind.setdefault(kind, []).append(month)
    if unknown:
        by_kind["unknown"] = unknown
    for kind, months in by_kind.items():
        months.sort()
        gaps = [m for m in missing_months(months) if m not in held]
        rows.append(
            {
                "source": SOURCE_NAMES.get(kind, "Records written before the import log"),
                "first_month": format_month(months[0]),
                "last_month": format_month(months[-1]),
                "count_months": len(months),
                "months": _ranges(months),
                "missing_months": ", ".join(format_month(m) for m in gaps) or "none",
                "last_import": max((supplier[m][1] for m in months if m in supplier), default=""),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "source",
            "first_month",
            "last_month",
            "count_months",
            "months",
            "missing_months",
            "last_import",
        ],
    )


def imports(root: Path) -> list[dict[str, Any]]:
    """Every import in the log, newest first."""
    return list(reversed(import_log(root)))


def import_files(entry: dict[str, Any]) -> pd.DataFrame:
    """One import's files: rows read, loaded and set aside, and why a file could not be read."""
    columns = ["file", "rows_read", "rows_loaded", "rows_quarantined", "problem"]
    files = pd.DataFrame(entry.get("files", []))
    if files.empty:
        return pd.DataFrame(columns=columns)
    return files.reindex(columns=columns)


def import_reasons(entry: dict[str, Any]) -> pd.DataFrame:
    """Why rows were set aside in one import, commonest reason first."""
    reasons = entry.get("reasons", {}) or {}
    return pd.DataFrame({"reason": list(reasons), "count_rows": [int(v) for v in reasons.values()]})


def set_aside(root: Path, import_id: str) -> pd.DataFrame:
    """The rows one import set aside: file, line number, reason and the line as read."""
    return quarantined_rows(root, import_id).to_pandas()


def definitions(config: Config) -> pd.DataFrame:
    """Every strand and measure: what it counts, how, and what the data cannot measure."""
    rows = []
    for strand in config.strands:
        if not strand.measures:
            rows.append(
                {
                    "strand": strand.name,
                    "measure": "",
                    "definition": strand.not_supported
                    or "Reported through activity, not recorded-crime counts.",
                    "rule": "",
                    "proxy": "",
                    "better_when": "",
                }
            )
        for measure in strand.measures:
            rows.append(
                {
                    "strand": strand.name,
                    "measure": measure.name,
                    "definition": measure.definition,
                    "rule": measure.rule.describe(),
                    "proxy": measure.proxy_note or "",
                    "better_when": "lower" if measure.improvement == "down" else "higher",
                }
            )
    return pd.DataFrame(rows)


def district_counts(db: Database, view: View) -> pd.DataFrame:
    """Records of the view's force over every month, per district (the two places without one
    included) and kind, as columns. The view's places do not narrow it: it is a picture of
    the data folder."""
    counted = record_counts(db, ["district", "record_kind"], force=view.force)
    if counted.empty:
        return pd.DataFrame(columns=["district_name"])
    wide = counted.pivot_table(
        index="district_name",
        columns="record_kind",
        values="count_records",
        aggfunc="sum",
        fill_value=0,
    ).reset_index()
    wide.columns.name = None
    kinds = [c for c in wide.columns if c != "district_name"]
    return wide.assign(total=wide[kinds].sum(axis=1)).sort_values("total", ascending=False)
