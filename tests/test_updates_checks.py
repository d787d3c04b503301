"""The reviewer's checks of a commentary: a stated % change or count that contradicts the
records is flagged, one that agrees is not. The expected figures are counted here straight from
the demo's Parquet records with pyarrow, not taken from the dashboard's own functions."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pyarrow.dataset as ds
import pytest

from crimeprev.periods import round_half_up
from crimeprev.updates.checks import check_commentary, flagged


def _knife_crimes(root: Path, first: date, last: date) -> int:
    """Knife-enabled crimes recorded from `first` to `last` (the measure's rule, written out)."""
    records = ds.dataset(root / "records", format="parquet", partitioning="hive")
    wanted = (
        (ds.field("month_start") >= first)
        & (ds.field("month_start") <= last)
        & (ds.field("record_kind") == "crime")
        & ds.field("is_knife_enabled")
    )
    return records.count_rows(filter=wanted)


@pytest.fixture(scope="module")
def knife(demo_root: Path) -> dict[str, float]:
    current = _knife_crimes(demo_root, date(2021, 10, 1), date(2022, 9, 1))
    previous = _knife_crimes(demo_root, date(2020, 10, 1), date(2021, 9, 1))
    baseline = _knife_crimes(demo_root, date(2019, 1, 1), date(2019, 12, 1))
    return {
        "current": current,
        "previous": previous,
        "yoy": round_half_up(100 * (current - previous) / previous, 1),
        "baseline": round_half_up(100 * (current - baseline) / baseline, 1),
    }


def _verdicts(demo_db, text: str, strand: str = "knife-crime") -> list[tuple[str, str]]:
    return [(f.stated, f.verdict) for f in check_commentary(demo_db, strand, "2022-09", text)]


def test_figures_that_agree_with_the_records_pass(demo_db, knife):
    text = (
        f"Knife-enabled crime rose {knife['yoy']:.1f}% year on year to {knife['current']:,}, "
        f"and was {knife['baseline']:.1f}% above 2019."
    )
    assert _verdicts(demo_db, text) == [
        (f"{knife['yoy']:.1f}%", "agrees"),
        (f"{knife['current']:,}", "agrees"),
        (f"{knife['baseline']:.1f}%", "agrees"),
    ]


def test_a_wrong_figure_is_flagged_with_the_computed_one(demo_db, knife):
    wrong = knife["yoy"] + 2.0
    findings = check_commentary(
        demo_db,
        "knife-crime",
        "2022-09",
        f"Knife-enabled crime was {wrong:.1f}% higher than the previous twelve months.",
    )
    assert [(f.verdict, f.computed) for f in findings] == [("differs", knife["yoy"])]
    assert f"{knife['yoy']:+.1f}%" in findings[0].message


def test_a_rise_called_a_fall_is_flagged(demo_db, knife):
    assert knife["yoy"] > 0  # the demo's knife crime rose: calling it a fall is wrong
    findings = check_commentary(
        demo_db,
        "knife-crime",
        "2022-09",
        f"Knife-enabled crime fell {knife['yoy']:.1f}% against the previous year.",
    )
    assert [f.verdict for f in findings] == ["wrong direction"]
    assert "calls a decrease" in findings[0].message


def test_a_wrong_count_is_flagged(demo_db, knife):
    text = (
        f"Knife-enabled crime rose {knife['yoy']:.1f}% year on year, "
        f"from {knife['previous']:,} to {knife['current'] + 7:,}."
    )
    assert _verdicts(demo_db, text) == [
        (f"{knife['yoy']:.1f}%", "agrees"),
        (f"{knife['previous']:,}", "agrees"),
        (f"{knife['current'] + 7:,}", "differs"),
    ]


def test_claims_it_cannot_place_are_listed_not_flagged(demo_db, knife):
    text = (
        "The twelve months to August 2022 were 40% above the same months to August 2019. "
        "About 15% of patrols were in the night-time economy. "
        f"Knife-enabled crime was about {round(knife['baseline'])}% above the 2019 level."
    )
    findings = check_commentary(demo_db, "knife-crime", "2022-09", text)
    assert [f.verdict for f in findings] == ["not checked", "not checked", "agrees"]
    assert flagged(findings) == []


def test_a_strand_with_two_measures_checks_each_against_its_own(demo_db):
    text = (
        "Trafficking offences were almost unchanged and possession offences fell 14.7% "
        "against the previous year. Possession was 30.0% below 2019."
    )
    findings = check_commentary(demo_db, "drugs-alcohol", "2022-09", text)
    assert [(f.measure_id, f.comparison, f.verdict) for f in findings] == [
        ("drug-possession", "previous_year", "agrees"),
        ("drug-possession", "baseline", "differs"),
    ]


def test_the_demo_commentary_holds_no_contradiction(demo_root: Path, demo_db):
    with (demo_root / "commentary" / "commentary.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    checked = 0
    for row in rows:
        findings = check_commentary(demo_db, row["strand_id"], row["period"], row["commentary"])
        assert flagged(findings) == [], row["strand_id"]
        checked += sum(f.verdict == "agrees" for f in findings)
    assert checked >= 18


def test_actions_a_reviewer_would_query_are_listed(demo_root: Path):
    from crimeprev.updates.checks import check_actions
    from crimeprev.updates.content import Action

    q = "2022-09"
    odd = [
        Action("A-1", "Complete, no month", "2022-06", None, "complete"),
        Action("A-2", "Completed later", "2022-06", "2022-11", "complete"),
        Action("A-3", "Done but open", "2022-06", "2022-08", "ongoing"),
        Action("A-4", "Overdue", "2022-07", None, "ongoing"),
        Action("A-5", "Overdue, flagged at risk already", "2022-07", None, "at risk"),
        Action("A-6", "Fine", "2022-12", None, "ongoing"),
        Action("A-7", "Fine, done", "2022-06", "2022-06", "complete"),
    ]
    assert [(f.action_id, f.verdict) for f in check_actions(odd, q)] == [
        ("A-1", "inconsistent"),
        ("A-2", "inconsistent"),
        ("A-3", "inconsistent"),
        ("A-4", "overdue"),
    ]
    # The demo's plan at its last quarter is consistent, read straight from its two files.
    with (demo_root / "delivery" / "actions.csv").open(newline="") as handle:
        actions = {row["action_id"]: row for row in csv.DictReader(handle)}
    with (demo_root / "delivery" / "status.csv").open(newline="") as handle:
        statuses = [row for row in csv.DictReader(handle) if row["quarter_end"] == q]
    plan = [
        Action(
            row["action_id"],
            actions[row["action_id"]]["title"],
            actions[row["action_id"]]["target_month"],
            actions[row["action_id"]]["completed_month"] or None,
            row["status"],
        )
        for row in statuses
    ]
    assert len(plan) == len(actions) and check_actions(plan, q) == []


def test_the_command_line_check_fails_on_a_contradiction(demo_root: Path, tmp_path: Path, capsys):
    from crimeprev.cli.main import main
    from crimeprev.updates import workflow
    from crimeprev.updates.content import Commentary
    from crimeprev.updates.permissions import User
    from crimeprev.updates.settings import UpdateSettings
    from crimeprev.updates.store import open_store

    url = f"sqlite:///{tmp_path / 'updates.db'}"
    common = ["--data-dir", str(demo_root), "updates", "--database-url", url]
    assert main([*common, "import-csv"]) == 0
    assert main([*common, "check", "--quarter", "2022-09", "--format", "json"]) == 0
    capsys.readouterr()
    settings = UpdateSettings(leads={"mental-health": ("mh@police.example",)})
    store = open_store(demo_root, settings=settings, url=url)
    current = workflow.read_update(store, "mental-health", "2022-09")
    workflow.save(
        store,
        User("MH Lead", claims={"email": "mh@police.example"}),
        "mental-health",
        "2022-09",
        current.row_version,
        put=[Commentary("Mental health incidents fell 1.0% year on year.")],
    )
    store.dispose()
    with pytest.raises(SystemExit) as stopped:
        main([*common, "check", "--quarter", "2022-09", "--strand", "mental-health"])
    assert stopped.value.code == 1
    out = capsys.readouterr().out
    assert "wrong direction" in out and "calls a decrease" in out


def test_a_small_count_is_neither_confirmed_nor_corrected_for_a_role_that_may_not_see_it(
    demo_db, knife
):
    """Under a threshold above the demo's knife-crime count and with knife crime taken as
    sensitive, a right and a wrong stated count read alike and the count appears nowhere."""
    from crimeprev.access.suppression import Suppression
    from crimeprev.updates.checks import disclosed_findings

    rules = Suppression(
        threshold=knife["current"] + 100,
        strands=frozenset({"knife-crime"}),
        measures=frozenset(),
        crime_types=frozenset(),
        names=(),
    )
    for stated in (knife["current"], knife["current"] + 7):
        text = f"Knife-enabled crime rose {knife['yoy']:.1f}% year on year to {stated:,}."
        found = check_commentary(demo_db, "knife-crime", "2022-09", text)
        shown = disclosed_findings(found, "knife-crime", rules)
        assert [(f.stated, f.verdict) for f in shown] == [
            (f"{knife['yoy']:.1f}%", "agrees"),
            (f"{stated:,}", "not checked"),
        ]
        assert f"{knife['current']:,}" not in shown[1].message
        assert f"fewer than {knife['current'] + 100}" in shown[1].message
        assert flagged(shown) == []
        # Another strand's findings, and this one's for whoever may see counts, are untouched.
        assert disclosed_findings(found, "hate-crime", rules) == found
