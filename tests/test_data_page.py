"""The Data page, and the strand pages over an imported data.police.uk folder: sources, gaps,
what an import set aside, proxies and strands the data cannot measure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import render_app
from streamlit.testing.v1 import AppTest
from test_import_corpus import lines, row, street_file

from crimeprev.imports.police_uk import import_police_uk
from crimeprev.store import REPOSITORY_ROOT

APP = str(REPOSITORY_ROOT / "app.py")


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    """A small data.police.uk folder: October and December 2018, November missing, one bad
    row."""
    folder = tmp_path_factory.mktemp("police-uk-small")
    october = street_file(folder / "in", lines(row("a1"), row("a2", crime_type="Drugs")))
    december = street_file(
        folder / "in",
        lines(
            row("b1", month="2018-12", crime_type="Possession of weapons"),
            row("b2", month="2018-13"),
        ),
        name="2018-12-essex-street.csv",
    )
    root = folder / "data"
    summary = import_police_uk(root, [october, december])
    return root, summary


def _render(monkeypatch: pytest.MonkeyPatch, root: Path, page: str, **params: str) -> AppTest:
    at = render_app(monkeypatch, root, f"pages/{page}.py", **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    parts += [w.value for w in at.warning] + [i.value for i in at.info]
    return "\n".join(str(p) for p in parts)


def test_the_data_page_names_the_missing_month_and_what_was_set_aside(monkeypatch, imported):
    root, summary = imported
    at = _render(monkeypatch, root, "data")
    assert "no records for November 2018." in "\n".join(w.value for w in at.warning)
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Rows read"] == "4" and metrics["Loaded"] == "3" and metrics["Set aside"] == "1"
    frames = [f.value for f in at.dataframe]
    aside = next(f for f in frames if "line_number" in f.columns)
    assert aside[["line_number", "reason"]].values.tolist() == [
        [3, "unparseable month '2018-13' (expected YYYY-MM)"]
    ]
    sources = next(f for f in frames if "source" in f.columns)
    assert sources.iloc[0]["source"] == "data.police.uk street-level files"
    assert sources.iloc[0]["missing_months"] == "2018-11"
    assert summary.import_id in at.selectbox[0].options[0] or at.selectbox[0].value == (
        summary.import_id
    )


def test_the_data_page_defines_every_measure(monkeypatch, demo_root: Path, demo_db):
    at = _render(monkeypatch, demo_root, "data")
    definitions = next(f.value for f in at.dataframe if "rule" in f.value.columns)
    assert set(definitions["measure"]) - {""} == {m.name for m in demo_db.config.measures}
    assert (
        "Demo extract"
        in next(f.value for f in at.dataframe if "source" in f.value.columns).iloc[0]["source"]
    )


def test_a_strand_the_data_cannot_measure_says_so(monkeypatch, imported):
    root, _ = imported
    at = _render(monkeypatch, root, "strand", strand="rape", period="2018-12")
    assert "This data cannot measure this strand" in _texts(at)
    assert not at.table


def test_a_proxy_measure_says_what_it_stands_in_for(monkeypatch, imported):
    root, _ = imported
    at = _render(monkeypatch, root, "strand", strand="knife-crime", period="2018-12")
    assert at.subheader[0].value == "Possession of weapons offences"
    assert "Proxy measure: Stands in for knife-enabled crime" in _texts(at)


def test_the_overview_lists_unmeasured_strands_without_zeros(monkeypatch, imported):
    root, _ = imported
    at = render_app(monkeypatch, root, period="2018-12")
    assert not at.exception, [e.value for e in at.exception]
    overview = at.dataframe[0].value
    rape = overview[overview["strand_name"] == "Rape"].iloc[0]
    assert rape["measure_name"] == "Not measured by this data"
    assert pd.isna(rape["current_count"])


def test_the_delivery_tracker_template_can_be_downloaded(monkeypatch, demo_root: Path):
    at = _render(monkeypatch, demo_root, "data")
    labels = [b.label for b in at.get("download_button")]
    assert "Template (XLSX)" in labels and "Template (CSV)" in labels
