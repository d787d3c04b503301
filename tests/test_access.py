"""Roles from token claims, the audit trail, and small-count suppression for viewers on the
pages, their CSVs and the deck, workbook and HTML report."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from pathlib import Path

import pandas as pd
import pyarrow.dataset as ds
import pytest
from conftest import render_app
from lxml import html as lxml_html
from openpyxl import load_workbook
from pptx import Presentation

from crimeprev.access import audit
from crimeprev.access.roles import AccessConfig, Role, load_access, role_from_claims
from crimeprev.access.suppression import rules_for, suppress_frame
from crimeprev.config import config_for
from crimeprev.db import Database
from crimeprev.report.exports import build_report
from crimeprev.view import View

PERIOD = date(2022, 9, 1)
SENSITIVE = ["rape", "child-abuse-cse", "domestic-abuse"]
SMALL = re.compile(r"^[1-9]$")


def test_the_highest_mapped_role_of_the_claim_is_held():
    access = load_access()
    assert role_from_claims({"roles": ["CrimePrev.Viewer"]}, access) == Role.VIEWER
    assert role_from_claims({"roles": ["CrimePrev.Viewer", "CrimePrev.Admin"]}, access) == (
        Role.ADMIN
    )
    assert role_from_claims({"roles": "CrimePrev.Analyst"}, access) == Role.ANALYST
    assert role_from_claims({"roles": ["Other"]}, access) is None
    assert role_from_claims({"email": "x@y"}, access) is None
    groups = AccessConfig(role_claim="groups", roles={"0f1e-group": Role.ANALYST})
    assert role_from_claims({"groups": ["0f1e-group"], "roles": ["CrimePrev.Admin"]}, groups) == (
        Role.ANALYST
    )


def test_the_audit_trail_appends_rotates_and_reads_newest_first(tmp_path: Path, monkeypatch):
    root = tmp_path / "data"
    (root / "config").mkdir(parents=True)
    (root / "config" / "access.toml").write_text("[audit]\nmax_bytes = 2000\nbackups = 3\n")
    monkeypatch.delenv(audit.AUDIT_DIR_VARIABLE, raising=False)
    for i in range(80):
        audit.append(root, f"user{i}@force.example", "analyst", "sql", {"sql": f"select {i}"})
    files = sorted(p.name for p in (root / "audit").iterdir())
    assert files == ["trail.jsonl", "trail.jsonl.1", "trail.jsonl.2", "trail.jsonl.3"]
    assert all(p.stat().st_size <= 2000 for p in (root / "audit").iterdir())
    kept = [
        json.loads(line) for p in (root / "audit").iterdir() for line in p.read_text().splitlines()
    ]
    trail = audit.read_trail(root)
    assert len(trail) == len(kept) and trail["user"].iloc[0] == "user79@force.example"
    assert json.loads(trail["detail"].iloc[0]) == {"sql": "select 79"}
    assert audit.trail_csv(root).decode().splitlines()[0] == "at_utc,user,role,action,detail"


def _castle_point_child_abuse_months(root: Path) -> pd.Series:
    """Child abuse crimes per month in Castle Point, counted straight from the records."""
    records = ds.dataset(root / "records", format="parquet", partitioning="hive").to_table(
        columns=["month", "district_code", "record_kind", "is_child_sexual_abuse"]
    )
    frame = records.to_pandas()
    chosen = frame[
        (frame["district_code"] == "E07000069")
        & (frame["record_kind"] == "crime")
        & frame["is_child_sexual_abuse"].astype(bool)
    ]
    return chosen.groupby("month").size()


def test_a_viewer_sees_fewer_than_10_on_the_strand_page_and_in_its_csv(
    demo_root: Path, monkeypatch: pytest.MonkeyPatch
):
    by_month = _castle_point_child_abuse_months(demo_root)
    recent = by_month[by_month.index >= "2021-10"]
    small = recent[(recent > 0) & (recent < 10)]
    assert len(small) > 0, "the demo data must hold small monthly counts for this test"
    monkeypatch.setenv("CRIMEPREV_LOCAL_ROLE", "viewer")
    at = render_app(
        monkeypatch, demo_root, "pages/strand.py", strand="child-abuse-cse", district="castle-point"
    )
    assert not at.exception, [e.value for e in at.exception]
    seen_fewer = 0
    for table in at.dataframe:
        frame = table.value
        for column in frame.columns:
            if "count" not in str(column):
                continue
            values = frame[column].astype(str)
            seen_fewer += int((values == "fewer than 10").sum())
            assert not values.str.fullmatch(r"[1-9](\.0)?").any(), (column, list(values))
    assert seen_fewer >= len(small)
    # As an admin, the same page shows those counts.
    monkeypatch.setenv("CRIMEPREV_LOCAL_ROLE", "admin")
    at = render_app(
        monkeypatch, demo_root, "pages/strand.py", strand="child-abuse-cse", district="castle-point"
    )
    shown = [
        str(v)
        for table in at.dataframe
        for column in table.value.columns
        if "count" in str(column)
        for v in table.value[column]
    ]
    assert "fewer than 10" not in shown
    assert any(SMALL.match(v) for v in shown)


def test_the_suppression_keeps_zero_and_large_counts_and_hides_what_gives_a_count_away(
    demo_db: Database,
):
    rules = rules_for(demo_db.config)
    frame = pd.DataFrame(
        {
            "strand_id": ["rape", "rape", "rape", "knife-crime"],
            "current_count": [0, 4, 25, 3],
            "previous_count": [12, 12, 9, 3],
            "diff": [-12, -8, 16, 0],
            "pct_change": [-100.0, -66.7, 177.8, 0.0],
        }
    )
    shown = suppress_frame(frame, rules)
    assert shown["current_count"].tolist() == [0, "fewer than 10", 25, 3]
    assert shown["previous_count"].tolist() == [12, 12, "fewer than 10", 3]
    assert shown["diff"].isna().tolist() == [False, True, True, False]  # left empty
    assert frame["current_count"].tolist() == [0, 4, 25, 3]  # the cached original is untouched


def _report(db: Database, role: str, suffix: str) -> bytes:
    filters = View(PERIOD, districts=("castle-point",), role=role)
    return build_report(db, filters, suffix, strand_ids=SENSITIVE)


def _sensitive_names(config) -> list[str]:
    return [config.strand(s).name for s in SENSITIVE] + [
        m.name for s in SENSITIVE for m in config.strand(s).measures
    ]


COUNT_HEADERS = {"current_count", "previous_count", "comparator_count", "count_records"}


def _workbook_small_cells(data: bytes, names: list[str]) -> list[tuple[str, object]]:
    """Count cells from 1 to 9 in rows about a sensitive strand, in every sheet (the header row
    names the columns as the code does)."""
    found = []
    book = load_workbook(io.BytesIO(data), read_only=True)
    for sheet in book.worksheets:
        header: tuple[object, ...] = ()
        for row in sheet.iter_rows(values_only=True):
            if any(cell in COUNT_HEADERS for cell in row):
                header = row
                continue
            if not any(isinstance(v, str) and (v in names or v in SENSITIVE) for v in row):
                continue
            found += [
                (sheet.title, name, value)
                for name, value in zip(header, row, strict=False)
                if name in COUNT_HEADERS and isinstance(value, int) and 0 < value < 10
            ]
    return found


def _small_in_table(rows: list[list[str]]) -> list[str]:
    """Cells from 1 to 9 under a count heading ("12 months ...") of a table whose first row
    is its heading. The report covers only sensitive strands, so every row is sensitive."""
    if not rows:
        return []
    counts = [i for i, heading in enumerate(rows[0]) if heading.startswith("12 months")]
    return [row[i] for row in rows[1:] for i in counts if i < len(row) and SMALL.match(row[i])]


def _html_small_cells(data: bytes, names: list[str]) -> list[str]:
    found = []
    for table in lxml_html.fromstring(data).iter("table"):
        rows = [[c.text_content().strip() for c in tr.iter("td", "th")] for tr in table.iter("tr")]
        found += _small_in_table(rows)
    return found


def _deck_small_cells(data: bytes, names: list[str]) -> list[str]:
    found = []
    for slide in Presentation(io.BytesIO(data)).slides:
        for shape in slide.shapes:
            if shape.has_table:
                rows = [[cell.text.strip() for cell in row.cells] for row in shape.table.rows]
                found += _small_in_table(rows)
    return found


def test_a_viewers_deck_workbook_and_html_hold_no_small_sensitive_count(demo_db: Database):
    names = _sensitive_names(demo_db.config)
    checks = {
        ".xlsx": _workbook_small_cells,
        ".html": _html_small_cells,
        ".pptx": _deck_small_cells,
    }
    for suffix, small_cells in checks.items():
        if suffix == ".xlsx":
            # The workbook's monthly sheets for an admin hold small counts, so the check can
            # find them (the deck and HTML print 12-month counts, none of them small here).
            assert small_cells(_report(demo_db, "admin", suffix), names), suffix
        # A viewer's holds none, and the HTML says why.
        viewer = _report(demo_db, "viewer", suffix)
        assert small_cells(viewer, names) == [], suffix
        if suffix == ".html":
            assert "fewer than 10" in viewer.decode("utf-8"), suffix
    assert config_for(demo_db.root).map.sensitive_min_count == 10
