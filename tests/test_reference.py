"""Every figure the published report prints comes out of the demo extract, through the same
functions the pages and the command line use."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from builders import view_at

from crimeprev.figures import activity, delivery, insight

SEP_22 = date(2022, 9, 1)


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _matches(printed: dict[str, str], computed: dict[str, object]) -> list[str]:
    """The printed cells (blank cells are blank in the report too) that the computed row misses."""
    problems = []
    for key, kind in (
        ("comparator_end", str),
        ("current_end", str),
        ("comparator_count", int),
        ("current_count", int),
        ("diff", int),
        ("pct_change", float),
    ):
        if printed[key] != "" and kind(printed[key]) != computed[key]:
            problems.append(f"{key}: report {printed[key]}, computed {computed[key]}")
    return problems


def test_every_insight_figure_of_the_report(demo_db, reference_dir):
    figures = _read(reference_dir / "published-figures.csv")
    assert len(figures) == 24
    by_strand: dict[str, list[dict[str, object]]] = {}
    for printed in figures:
        strand = printed["strand"]
        if strand not in by_strand:
            by_strand[strand] = insight.insight_records(
                insight.insight_table(demo_db, view_at(demo_db, SEP_22), strand_id=strand)
            )
        computed = next(
            r
            for r in by_strand[strand]
            if r["measure"] == printed["measure"] and r["comparison"] == printed["comparison"]
        )
        assert computed["complete"]
        assert not _matches(printed, computed), (printed["measure"], printed["comparison"])


def test_the_delivery_status_table_of_the_report(demo_db, reference_dir):
    table = delivery.status_table(demo_db, SEP_22).set_index("strand_id")
    for printed in _read(reference_dir / "delivery-status.csv"):
        row = table.loc[printed["strand"]]
        for column in ("total", "complete", "ongoing", "at_risk"):
            assert row[column] == int(printed[column]), (printed["strand"], column)
    assert table.loc["total", ["total", "complete", "ongoing", "at_risk"]].tolist() == [
        583,
        293,
        290,
        0,
    ]


def test_every_activity_metric_of_the_report(demo_db, reference_dir):
    for printed in _read(reference_dir / "activity-metrics.csv"):
        if printed["metric"] == "solved hate crimes":
            continue  # counted from records, below
        shown = activity.activity_metrics(demo_db, printed["strand"], SEP_22)
        row = shown[
            (shown["operation"] == printed["operation"]) & (shown["metric"] == printed["metric"])
        ]
        assert len(row) == 1, (printed["operation"], printed["metric"])
        assert row.iloc[0]["value"] == float(printed["value"])
        assert row.iloc[0]["unit"] == printed["unit"]


def test_solved_hate_crimes_are_counted_from_records(demo_db, reference_dir):
    solved = {
        r["period"]: int(r["value"])
        for r in _read(reference_dir / "activity-metrics.csv")
        if r["metric"] == "solved hate crimes"
    }
    for label, period in (
        ("12 months to Sep 2020", date(2020, 9, 1)),
        ("12 months to Sep 2022", SEP_22),
    ):
        table = insight.insight_table(demo_db, view_at(demo_db, period), strand_id="hate-crime")
        row = table[
            (table["measure"] == "hate-crime-solved") & (table["comparison"] == "previous_year")
        ]
        assert row.iloc[0]["current_count"] == solved[label]


def _cli(demo_root: Path, *args: str) -> list[dict[str, object]]:
    result = subprocess.run(
        [sys.executable, "-m", "crimeprev.cli", *args, "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(demo_root)},
    )
    return json.loads(result.stdout)


def test_the_command_line_agrees_with_the_report(demo_root, reference_dir):
    rows = _cli(demo_root, "insight", "--period", "2022-09")
    for printed in _read(reference_dir / "published-figures.csv"):
        computed = next(
            r
            for r in rows
            if r["measure"] == printed["measure"] and r["comparison"] == printed["comparison"]
        )
        assert not _matches(printed, computed)
    statuses = {r["strand"]: r for r in _cli(demo_root, "delivery", "--period", "2022-09")}
    for printed in _read(reference_dir / "delivery-status.csv"):
        assert statuses[printed["strand"]]["complete"] == int(printed["complete"])
        assert statuses[printed["strand"]]["ongoing"] == int(printed["ongoing"])
    assert statuses["total"]["total"] == 583
