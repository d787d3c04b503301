"""Insight tables: each measure's count over the 12 months ending a period, against the 12
months before and against the baseline year, as the quarterly report lays them out.

A window the data does not fully cover is marked incomplete and its count left empty: a
partial sum is never passed off as a year.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pandas as pd

from crimeprev.db import Database
from crimeprev.periods import (
    Window,
    add_months,
    change,
    comparisons,
    format_month,
    months_in_words,
)
from crimeprev.statistics.change import (
    PooledDispersion,
    RateRatioTest,
    change_test,
    pooled_dispersion,
    variation_words,
)
from crimeprev.view import View

INSIGHT_JSON_KEYS = (
    "strand",
    "measure",
    "comparison",
    "comparator_start",
    "comparator_end",
    "comparator_count",
    "current_start",
    "current_end",
    "current_count",
    "diff",
    "pct_change",
    "complete",
    "missing_months",
    "note",
    "rate_ratio",
    "rate_ratio_low",
    "rate_ratio_high",
    "p_value",
    "significant",
    "small_counts",
    "significance_note",
    "significance_test",
    "dispersion",
    "verdict",
)
SIGNIFICANCE_FLOAT_KEYS = (
    "rate_ratio",
    "rate_ratio_low",
    "rate_ratio_high",
    "p_value",
    "dispersion",
)


# The span of months one series query fetches for a view: enough for every page's chart and test.
SERIES_MONTHS = 120


def covered_months(db: Database, force: str | None = None) -> list[date]:
    """The months the data covers, oldest first."""
    # Read from the monthly tables, which a database holds in memory for its lifetime.
    months: list[date] = db.remember(
        ("covered_months", force),
        lambda: [
            pd.Timestamp(m).date() for m in db.query("covered_months", force=force)["month_start"]
        ],
    )
    return list(months)


def data_forces(db: Database) -> list[str]:
    """The forces whose records the data holds, in alphabetical order."""
    forces: list[str] = db.remember(
        ("data_forces",), lambda: [str(force) for force in db.query("data_forces")["force"]]
    )
    return list(forces)


def _window_param(name: str, window: Window) -> dict[str, Any]:
    return {"window_name": name, "window_start": window.start, "window_end": window.end}


def insight_table(db: Database, view: View, strand_id: str | None = None) -> pd.DataFrame:
    """One row per measure and comparison, with counts, difference and % change, for the
    view's force, places and period (every strand, or `strand_id`'s)."""
    # The overview's table and its summary both need the same figures: computed once.
    key = ("insight_table", view, strand_id)
    table: pd.DataFrame = db.remember(key, lambda: _insight_table(db, view, strand_id))
    return table.copy()


def _insight_table(db: Database, view: View, strand_id: str | None) -> pd.DataFrame:
    config = db.config
    period, force = view.period, view.force
    measures = [m for m in config.measures if strand_id is None or m.strand_id == strand_id]
    pairs = comparisons(period, config.baseline_end, config.window_months)
    windows = {"current": pairs[0].current} | {p.name: p.comparator for p in pairs}
    covered = set(covered_months(db, force))
    # One query for every measure's months; each window's count is the sum of its months.
    monthly = _monthly_counts(db, view, pairs, [m.id for m in measures])
    count_of = {
        (measure.id, name): sum(monthly.get((measure.id, month), 0) for month in window.months)
        for measure in measures
        for name, window in windows.items()
    }
    by_district: dict[tuple[str, str, date], int] | None = None
    rows = []
    for measure in measures:
        for pair in pairs:
            missing = pair.comparator.missing_from(covered) + pair.current.missing_from(covered)
            comparator_count = (
                None if pair.comparator.missing_from(covered) else count_of[(measure.id, pair.name)]
            )
            current_count = (
                None if pair.current.missing_from(covered) else count_of[(measure.id, "current")]
            )
            diff: int | None = None
            pct: float | None = None
            reason: str | None = _incomplete_reason(missing)
            test: RateRatioTest | None = None
            if comparator_count is not None and current_count is not None:
                result = change(comparator_count, current_count)
                diff, pct, reason = result.diff, result.pct_change, result.no_pct_reason
                earlier = pair.comparator.shifted(-len(pair.comparator.months))
                pooled = None
                if earlier.missing_from(covered):
                    # Too few months for a firm dispersion of the place's own: the measure's
                    # across the force's districts, over the same two windows, steadies it.
                    if by_district is None:
                        by_district = _district_monthly_counts(db, view, pairs)
                    pooled = _pooled(by_district, measure.id, pair, config.signals.small_count)
                test = change_test(
                    {m: monthly[(measure.id, m)] for m in pair.current.months},
                    {m: monthly[(measure.id, m)] for m in pair.comparator.months},
                    None
                    if earlier.missing_from(covered)
                    else {m: monthly[(measure.id, m)] for m in earlier.months},
                    significance_level=config.signals.significance_level,
                    small_count=config.signals.small_count,
                    pooled=pooled,
                )
            rows.append(
                {
                    "strand": measure.strand_id,
                    "measure": measure.id,
                    "measure_name": measure.name,
                    "improvement": measure.improvement,
                    "comparison": pair.name,
                    "comparator_start": format_month(pair.comparator.start),
                    "comparator_end": format_month(pair.comparator.end),
                    "comparator_label": pair.comparator.label(),
                    "comparator_count": comparator_count,
                    "current_start": format_month(pair.current.start),
                    "current_end": format_month(pair.current.end),
                    "current_label": pair.current.label(),
                    "current_count": current_count,
                    "diff": diff,
                    "pct_change": pct,
                    "complete": not missing,
                    "missing_months": [format_month(m) for m in missing],
                    "note": reason,
                }
                | _significance_columns(test)
            )
    return pd.DataFrame(rows, columns=list(_INSIGHT_COLUMNS))


def _monthly_counts(
    db: Database, view: View, pairs: list[Any], measure_ids: list[str]
) -> dict[tuple[str, date], int]:
    """Each measure's count per covered month, over every window the comparisons test and the
    year before each comparator (the year-on-year model fits monthly counts)."""
    # The baseline year can lie after the period (a period in the data's first years).
    start = min(p.comparator.shifted(-len(p.comparator.months)).start for p in pairs)
    end = max(max(p.current.end, p.comparator.end) for p in pairs)
    span = len(Window(start, end).months)
    series = monthly_series(db, replace(view, period=end), span, measure_ids)
    covered = series.dropna(subset=["count_records"])
    return {
        (str(row.measure_id), pd.Timestamp(row.month_start).date()): int(row.count_records)
        for row in covered.itertuples()
    }


def _district_monthly_counts(
    db: Database, view: View, pairs: list[Any]
) -> dict[tuple[str, str, date], int]:
    """Each measure's count per covered month in each district of the view's force, over every
    window the comparisons test."""
    start = min(min(p.current.start, p.comparator.start) for p in pairs)
    end = max(max(p.current.end, p.comparator.end) for p in pairs)
    frame = db.query("measure_district_monthly", start=start, end=end, force=view.force)
    own = {d.code for d in db.config.districts if view.force is None or d.belongs_to(view.force)}
    frame = frame[frame["district_code"].isin(own)]
    return {
        (str(row.measure_id), str(row.district_code), pd.Timestamp(row.month_start).date()): int(
            row.count_records
        )
        for row in frame.itertuples()
    }


def _pooled(
    by_district: dict[tuple[str, str, date], int], measure_id: str, pair: Any, small_count: int
) -> PooledDispersion | None:
    """The measure's dispersion pooled across the districts, for the pair's two windows."""
    codes = sorted({code for (m, code, _) in by_district if m == measure_id})
    return pooled_dispersion(
        [
            (
                {m: by_district.get((measure_id, code, m), 0) for m in pair.current.months},
                {m: by_district.get((measure_id, code, m), 0) for m in pair.comparator.months},
                None,
            )
            for code in codes
        ],
        small_count=small_count,
    )


def _significance_columns(test: RateRatioTest | None) -> dict[str, Any]:
    if test is None:
        return {
            "rate_ratio": None,
            "rate_ratio_low": None,
            "rate_ratio_high": None,
            "p_value": None,
            "significant": None,
            "small_counts": None,
            "significance_note": "no test: a window is incomplete",
            "significance_test": None,
            "dispersion": None,
            "verdict": None,
        }
    return {
        "rate_ratio": test.rate_ratio,
        "rate_ratio_low": test.rate_ratio_low,
        "rate_ratio_high": test.rate_ratio_high,
        "p_value": test.p_value,
        "significant": test.significant,
        "small_counts": test.small_counts,
        "significance_note": test.note,
        "significance_test": test.test,
        "dispersion": test.dispersion,
        "verdict": variation_words(test.significant),
    }


_INSIGHT_COLUMNS = (
    "strand",
    "measure",
    "measure_name",
    "improvement",
    "comparison",
    "comparator_start",
    "comparator_end",
    "comparator_label",
    "comparator_count",
    "current_start",
    "current_end",
    "current_label",
    "current_count",
    "diff",
    "pct_change",
    "complete",
    "missing_months",
    "note",
    "rate_ratio",
    "rate_ratio_low",
    "rate_ratio_high",
    "p_value",
    "significant",
    "small_counts",
    "significance_note",
    "significance_test",
    "dispersion",
    "verdict",
)


def _incomplete_reason(missing: list[date]) -> str:
    return f"incomplete: the data lacks {months_in_words(missing)}"


def insight_records(table: pd.DataFrame) -> list[dict[str, Any]]:
    """Insight rows as plain values under the documented JSON keys."""
    records = []
    for row in table.to_dict("records"):
        record = {key: row[key] for key in INSIGHT_JSON_KEYS}
        for key in ("comparator_count", "current_count", "diff"):
            record[key] = None if pd.isna(record[key]) else int(record[key])
        record["pct_change"] = (
            None if pd.isna(record["pct_change"]) else float(record["pct_change"])
        )
        record["complete"] = bool(record["complete"])
        for key in SIGNIFICANCE_FLOAT_KEYS:
            record[key] = None if pd.isna(record[key]) else float(record[key])
        for key in ("significant", "small_counts"):
            record[key] = None if pd.isna(record[key]) else bool(record[key])
        record["missing_months"] = list(record["missing_months"])
        record["note"] = record["note"] if isinstance(record["note"], str) else None
        for key in ("significance_note", "significance_test", "verdict"):
            if not isinstance(record[key], str):
                record[key] = None
        records.append(record)
    return records


def monthly_series(
    db: Database, view: View, months: int, measure_ids: list[str] | None = None
) -> pd.DataFrame:
    """Each measure's count per month for `months` months to the view's period, in its force
    and places; null for uncovered months."""
    end = view.period
    codes = view.district_codes(db.config)
    # One query serves every measure and span a view's pages ask for (the overview's table,
    # trend and variation icons, the strand's tables): the longest span, sliced here.
    span = max(months, SERIES_MONTHS)
    key = ("monthly_series", view.force, None if codes is None else tuple(codes), end, span)
    every: pd.DataFrame = db.remember(
        key,
        lambda: db.query(
            "measure_monthly_series",
            measure_ids=None,
            start=add_months(end, -(span - 1)),
            end=end,
            district_codes=codes,
            force=view.force,
        ),
    )
    start = add_months(end, -(months - 1))
    wanted = every["month_start"] >= pd.Timestamp(start)
    if measure_ids is not None:
        wanted &= every["measure_id"].isin(measure_ids)
    frame = every[wanted].reset_index(drop=True)
    # As the query itself returns it: nullable integers only where a month is uncovered.
    if frame["count_records"].notna().all():
        frame = frame.astype({"count_records": "int64"})
    frame["month_start"] = pd.to_datetime(frame["month_start"])
    return frame


def district_breakdown(db: Database, view: View, measure_id: str) -> pd.DataFrame:
    """One row per district of the view's force (or of its chosen places): the measure's count
    in the 12 months to the period and the 12 before; empty counts where a window is incomplete,
    with a note naming the missing months."""
    config = db.config
    period, force = view.period, view.force
    district_codes = view.district_codes(config)
    current = Window.ending(period, config.window_months)
    previous = current.shifted(-config.window_months)
    frame = db.query(
        "measure_district_counts",
        measure_id=measure_id,
        windows=[_window_param("current", current), _window_param("previous", previous)],
        district_codes=district_codes,
        force=force,
    )
    if force is not None:
        # Every force's districts come back (with zeros); keep those of the force counted.
        shown = {d.code for d in config.districts if d.belongs_to(force)}
        frame = frame[frame["district_code"].isin(shown)]
    wide = frame.pivot_table(
        index=["district_name", "lpa", "district_code"],
        columns="window_name",
        values="count_records",
        aggfunc="sum",
        dropna=False,
    ).reset_index()
    for name in ("current", "previous"):
        if name not in wide.columns:
            wide[name] = 0
    # A district counted in one window only counted none in the other.
    wide = wide.dropna(subset=["current", "previous"], how="all").fillna(
        {"current": 0, "previous": 0}
    )
    wide = wide.rename(columns={"current": "current_count", "previous": "previous_count"}).astype(
        {"current_count": "int64", "previous_count": "int64"}
    )
    covered = set(covered_months(db, force))
    missing = {
        "current_count": current.missing_from(covered),
        "previous_count": previous.missing_from(covered),
    }
    wide = wide.astype({"current_count": "object", "previous_count": "object"})
    for column, months in missing.items():
        if months:  # a partial sum is never shown as a year
            wide[column] = None
    changes = [
        change(p, c) if p is not None and c is not None else None
        for p, c in zip(wide["previous_count"], wide["current_count"], strict=True)
    ]
    wide["diff"] = [c.diff if c else None for c in changes]
    wide["pct_change"] = [c.pct_change if c else None for c in changes]
    wide["current_label"] = current.label()
    wide["previous_label"] = previous.label()
    # The current year's gaps first: they are the ones a reader is looking at.
    lacking = list(dict.fromkeys(missing["current_count"] + missing["previous_count"]))
    wide["note"] = _incomplete_reason(lacking) if lacking else None
    return wide.sort_values(
        "current_count", ascending=False, key=lambda counts: counts.fillna(-1).astype("int64")
    ).reset_index(drop=True)
