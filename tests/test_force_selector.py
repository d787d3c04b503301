"""The force selector: shown only when the data holds several forces, kept in the URL, and the
figures on the pages are the chosen force's."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from builders import view_at
from conftest import render_app
from streamlit.testing.v1 import AppTest

from crimeprev.aggregate import open_database
from crimeprev.config import config_for
from crimeprev.demo.scale import DEMO_FORCE, generate_scaled_demo
from crimeprev.figures.insight import covered_months, data_forces, district_breakdown, insight_table
from crimeprev.figures.overview import comparison_tables
from crimeprev.store import REPOSITORY_ROOT
from crimeprev.view import View, resolve_filters

APP = str(REPOSITORY_ROOT / "app.py")
SEP_22 = date(2022, 9, 1)
SYNTHETIC = "Force 02 (synthetic)"


@pytest.fixture(scope="module")
def scaled_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("forces")
    generate_scaled_demo(root, 0.2, seed=5)
    return root


def _open(root: Path, monkeypatch: pytest.MonkeyPatch, page: str | None = None, **params: str):
    at = render_app(monkeypatch, root, page, **params)
    assert not at.exception, [e.value for e in at.exception]
    return at


def _force_boxes(at: AppTest) -> list:
    return [box for box in at.sidebar.selectbox if box.label == "Force"]


def _knife_count(at: AppTest) -> int:
    rows = at.dataframe[0].value
    return int(rows.loc[rows["measure_name"] == "Knife-enabled crime", "current_count"].iloc[0])


def _expected_knife(root: Path, force: str | None) -> int:
    rows = insight_table(
        open_database(root),
        view_at(open_database(root), SEP_22, None, force),
        strand_id="knife-crime",
    )
    return int(rows["current_count"].iloc[0])


def test_a_single_force_has_no_force_selector(
    demo_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(demo_root, monkeypatch)
    assert _force_boxes(at) == []
    assert "force" not in at.query_params


def test_several_forces_get_a_selector_defaulting_to_the_first(
    scaled_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(scaled_root, monkeypatch)
    (box,) = _force_boxes(at)
    assert box.options == [DEMO_FORCE, SYNTHETIC, "Force 03 (synthetic)"]
    assert box.value == DEMO_FORCE
    assert at.query_params["force"] == DEMO_FORCE
    assert _knife_count(at) == _expected_knife(scaled_root, DEMO_FORCE)
    assert any(DEMO_FORCE in caption.value for caption in at.caption)


def test_choosing_a_force_changes_the_figures_and_the_districts(
    scaled_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(scaled_root, monkeypatch)
    essex = _knife_count(at)
    _force_boxes(at)[0].select(SYNTHETIC).run()
    assert not at.exception
    assert at.query_params["force"] == SYNTHETIC
    chosen = _knife_count(at)
    assert chosen == _expected_knife(scaled_root, SYNTHETIC)
    assert chosen != essex
    districts = next(m for m in at.sidebar.multiselect if m.label == "Districts")
    assert districts.options and all(o.startswith("Force 02 district") for o in districts.options)
    lpas = next(m for m in at.sidebar.multiselect if m.label == "Local Policing Areas")
    assert all(o.startswith("Force 02 ") for o in lpas.options)


def test_the_force_in_a_link_opens_that_force_and_its_districts(
    scaled_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(
        scaled_root,
        monkeypatch,
        "pages/strand.py",
        strand="knife-crime",
        force=SYNTHETIC,
        district="force-02-district-1",
    )
    assert _force_boxes(at)[0].value == SYNTHETIC
    assert not at.warning
    db = open_database(scaled_root)
    codes = [config_for(scaled_root).district_by_slug("force-02-district-1").code]
    expected = insight_table(db, view_at(db, SEP_22, codes, SYNTHETIC), strand_id="knife-crime")
    cells = [table.value.iloc[0].tolist() for table in at.table]
    assert cells == [
        t.table.iloc[0].tolist()
        for t in comparison_tables(expected, "knife-crime", db.config.signals.significance_level)
    ]


def test_an_unknown_force_or_another_force_s_district_is_left_out_with_a_warning(
    scaled_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    at = _open(scaled_root, monkeypatch, force="Atlantis Police")
    assert any("Unknown force 'Atlantis Police'" in w.value for w in at.warning)
    assert _force_boxes(at)[0].value == DEMO_FORCE
    at = _open(scaled_root, monkeypatch, force=SYNTHETIC, district="colchester")
    assert any("Unknown district of Force 02 (synthetic)" in w.value for w in at.warning)


def test_filters_resolve_the_force_and_count_its_lpas(scaled_root: Path) -> None:
    db = open_database(scaled_root)
    config = config_for(scaled_root)
    forces = tuple(data_forces(db))
    covered = covered_months(db)
    resolved = resolve_filters(config, covered, force="force 02 (SYNTHETIC)", forces=forces)
    assert resolved.filters.force == SYNTHETIC and not resolved.problems
    lpa = config.lpas_of(SYNTHETIC)[0]
    filters = View(SEP_22, lpas=(lpa,), force=SYNTHETIC)
    codes = filters.district_codes(config)
    assert codes and {config.districts_of(SYNTHETIC)[0].force} == {SYNTHETIC}
    assert set(codes) == {d.code for d in config.districts_of(SYNTHETIC) if d.lpa == lpa}
    assert filters.query_params()["force"] == SYNTHETIC
    # With one force, the filters name none and the URL stays as it was.
    single = resolve_filters(config, covered, force=SYNTHETIC, forces=(SYNTHETIC,))
    assert single.filters.force is None
    breakdown = district_breakdown(
        db, view_at(db, SEP_22, None, SYNTHETIC), measure_id="knife-crime"
    )
    assert set(breakdown["district_code"]) <= {d.code for d in config.districts_of(SYNTHETIC)} | {
        "X-OUTSIDE",
        "X-NOLOC",
    }
