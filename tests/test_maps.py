"""The district map: tile positions from config, figures per district, boundary files (TopoJSON
decoded here, GeoJSON), hotspot cells and their suppression rule, and the page via AppTest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from builders import view_at
from conftest import RAW
from streamlit.testing.v1 import AppTest

from crimeprev.config import ConfigError, MapSettings, load_config
from crimeprev.db import Database
from crimeprev.figures import maps
from crimeprev.figures.insight import district_breakdown
from crimeprev.periods import Window, format_pct
from crimeprev.present import map_charts
from crimeprev.store import DATA_DIR_VARIABLE, REPOSITORY_ROOT

SEP_22 = date(2022, 9, 1)
APP = str(REPOSITORY_ROOT / "app.py")
TOPOJSON = RAW / "martinjc_uk_geojson" / "eng_topo_lad.json"
DEFAULT_CONFIG = REPOSITORY_ROOT / "crimeprev" / "config"


def _basildon(db: Database) -> pd.Series:
    """Basildon's knife crime in the 12 months to September 2022, from the strand page's own
    district breakdown."""
    breakdown = district_breakdown(db, view_at(db, SEP_22), measure_id="knife-crime").set_index(
        "district_name"
    )
    return breakdown.loc["Basildon"]


@pytest.fixture(scope="module")
def topojson() -> Path:
    if not TOPOJSON.is_file():
        pytest.skip(f"The shared boundary file is not here ({TOPOJSON} is absent): skipped.")
    return TOPOJSON


def _essex_codes() -> list[str]:
    return [d.code for d in load_config(None).force_districts]


def test_every_force_district_has_its_own_tile():
    config = load_config(None)
    positions = maps.tile_positions(config)
    assert set(positions) == {d.code for d in config.force_districts}
    assert len(set(positions.values())) == 14
    # North of the force on the top row, the Thames estuary at the bottom.
    assert positions["E07000077"][0] == 0 and positions["E06000033"][0] == 3


def test_districts_without_tiles_are_placed_from_their_centroids(tmp_path: Path):
    folder = tmp_path / "config"
    folder.mkdir()
    lines = (DEFAULT_CONFIG / "districts.csv").read_text().splitlines()
    stripped = [",".join(line.split(",")[:8]) for line in lines]
    (folder / "districts.csv").write_text("\n".join(stripped) + "\n")
    config = load_config(folder)
    assert all(d.tile_row is None for d in config.districts)
    positions = maps.tile_positions(config)
    assert len(positions) == 14 and len(set(positions.values())) == 14
    uttlesford, thurrock = positions["E07000077"], positions["E06000034"]
    assert uttlesford[0] < thurrock[0]  # the northernmost above the southernmost


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ({"basildon": ("2", "")}, "needs both tile_row and tile_col"),
        ({"basildon": ("0", "1")}, "share a tile_row and tile_col"),
        ({"basildon": ("x", "1")}, "is not a number"),
    ],
)
def test_bad_tile_positions_are_refused_naming_the_file(tmp_path: Path, rows, message):
    folder = tmp_path / "config"
    folder.mkdir()
    out = []
    for line in (DEFAULT_CONFIG / "districts.csv").read_text().splitlines():
        cells = line.split(",")
        if cells[2] in rows:
            cells[-2:] = rows[cells[2]]
        out.append(",".join(cells))
    (folder / "districts.csv").write_text("\n".join(out) + "\n")
    with pytest.raises(ConfigError, match=message):
        load_config(folder)


def _strategy_with_map(folder: Path, body: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "strategy.toml").write_text(f'extends = "default"\n\n[map]\n{body}\n')
    return folder


def test_the_boundary_path_is_read_from_the_configs_folder(tmp_path: Path):
    folder = _strategy_with_map(
        tmp_path / "config",
        'boundaries = "shapes/lad.json"\ncode_property = "LAD21CD"\nsensitive_strands = ["rape"]',
    )
    settings = load_config(folder).map
    assert settings.boundaries == folder / "shapes" / "lad.json"
    assert settings.code_property == "LAD21CD"
    assert settings.sensitive_strands == ("rape",)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('sensitive_strands = ["no-such-strand"]', "unknown strands"),
        ("hotspot_cell_degrees = 0", "hotspot_cell_degrees"),
        ("sensitive_min_count = 0", "sensitive_min_count"),
        ("colour = 'red'", "unknown settings"),
        ("boundaries = 3", "must name a file"),
    ],
)
def test_bad_map_settings_are_refused(tmp_path: Path, body: str, message: str):
    folder = _strategy_with_map(tmp_path / "config", body)
    with pytest.raises(ConfigError, match=message):
        load_config(folder)


def test_the_shipped_config_keeps_sensitive_hotspots_suppressed():
    config = load_config(None)
    assert {"rape", "child-abuse-cse"} <= set(config.map.sensitive_strands)
    assert config.map.sensitive_min_count >= 5
    assert config.map.boundaries is None  # tiles need no file


def test_district_figures_match_the_breakdown_and_carry_rates(demo_db: Database):
    figures = maps.district_figures(demo_db, view_at(demo_db, SEP_22), measure_id="knife-crime")
    breakdown = district_breakdown(
        demo_db, view_at(demo_db, SEP_22), measure_id="knife-crime"
    ).set_index("district_code")
    assert len(figures) == 14
    populations = {d.code: d.population for d in demo_db.config.force_districts}
    for row in figures.itertuples():
        assert row.current_count == breakdown.loc[row.district_code, "current_count"]
        assert row.previous_count == breakdown.loc[row.district_code, "previous_count"]
        assert row.rate_per_1000 == round(
            1000 * row.current_count / populations[row.district_code], 2
        )
    basildon = figures.set_index("district_name").loc["Basildon"]
    expected = _basildon(demo_db)
    assert (basildon["current_count"], basildon["previous_count"]) == (
        expected["current_count"],
        expected["previous_count"],
    )
    assert basildon["pct_change"] == expected["pct_change"]


def test_the_tile_map_draws_every_district_and_selects_by_slug(demo_db: Database):
    figures = maps.district_figures(demo_db, view_at(demo_db, SEP_22), measure_id="knife-crime")
    measure = demo_db.config.measure("knife-crime")
    spec = map_charts.tile_map_chart(figures, "pct_change", measure, ["basildon"]).to_dict()
    data = next(iter(spec["datasets"].values()))
    assert sorted(row["district_name"] for row in data) == sorted(
        d.name for d in demo_db.config.force_districts
    )
    chosen = {row["district_slug"]: row["is_chosen"] for row in data}
    assert chosen["basildon"] and not chosen["colchester"]
    params = spec["params"]
    assert params[0]["name"] == "district"
    assert params[0]["select"]["fields"] == ["district_slug"]
    texts = {row["value_text"] for row in data}
    assert format_pct(_basildon(demo_db)["pct_change"]) in texts


def test_topojson_is_cut_down_to_the_essex_districts_for_vega_lite(topojson: Path):
    """Vega-Lite decodes the TopoJSON itself; the map only keeps the districts it draws and
    the arcs they use, so each kept district's arcs are the file's arcs, in the same order."""
    settings = MapSettings(boundaries=topojson, code_property="LAD13CD", topojson_object="lad")
    boundaries = maps.load_boundaries(settings, _essex_codes())
    assert (boundaries.kind, boundaries.feature) == ("TopoJSON", "lad")
    cut = boundaries.data
    kept = cut["objects"]["lad"]["geometries"]
    assert [g["properties"]["LAD13CD"] for g in kept] == _essex_codes()
    source = json.loads(topojson.read_text())
    assert cut["transform"] == source["transform"]
    originals = {g["properties"]["LAD13CD"]: g for g in source["objects"]["lad"]["geometries"]}

    def flat(arcs):
        return [arcs] if isinstance(arcs, int) else [i for part in arcs for i in flat(part)]

    def points(topology, index):
        arc = topology["arcs"][index if index >= 0 else ~index]
        return arc if index >= 0 else ("reversed", arc)

    for geometry in kept:
        original = originals[geometry["properties"]["LAD13CD"]]
        assert geometry["type"] == original["type"]
        for mine, theirs in zip(flat(geometry["arcs"]), flat(original["arcs"]), strict=True):
            assert points(cut, mine) == points(source, theirs)
    assert len(cut["arcs"]) < len(source["arcs"]) / 5


def _square(west: float, south: float, clockwise: bool) -> list[list[float]]:
    ring = [[west, south], [west + 0.1, south], [west + 0.1, south + 0.1], [west, south + 0.1]]
    ring = ring[::-1] if clockwise else ring
    return [*ring, ring[0]]  # closed


def test_geojson_boundaries_are_read_and_rewound(tmp_path: Path):
    """RFC 7946 winds outer rings anticlockwise; Vega fills such a ring as the rest of the
    globe, so they are rewound clockwise."""
    codes = ["E07000066", "E07000071"]
    features = [
        {
            "type": "Feature",
            "properties": {"LAD22CD": code},
            "geometry": {"type": "Polygon", "coordinates": [_square(0.4 + i, 51.5, False)]},
        }
        for i, code in enumerate(codes)
    ]
    path = tmp_path / "two.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    boundaries = maps.load_boundaries(MapSettings(boundaries=path, code_property="LAD22CD"), codes)
    assert boundaries.kind == "GeoJSON"
    drawn = boundaries.data["features"]
    assert [f["properties"]["LAD22CD"] for f in drawn] == codes
    for feature, index in zip(drawn, range(2), strict=True):
        ring = feature["geometry"]["coordinates"][0]
        twice_area = sum(
            x0 * y1 - x1 * y0 for (x0, y0), (x1, y1) in zip(ring, ring[1:], strict=False)
        )
        assert twice_area < 0  # clockwise, x east and y north
        assert set(map(tuple, ring)) == set(map(tuple, _square(0.4 + index, 51.5, True)))


def test_unusable_boundary_files_say_why(topojson: Path, tmp_path: Path):
    cases = [
        (MapSettings(boundaries=tmp_path / "absent.json"), "does not exist"),
        (MapSettings(boundaries=topojson, code_property="LAD99CD"), "property 'LAD99CD'"),
        (MapSettings(boundaries=topojson, topojson_object="counties"), "no object 'counties'"),
    ]
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    cases.append((MapSettings(boundaries=broken), "cannot be read as JSON"))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"type": "Feature"}))
    cases.append((MapSettings(boundaries=other), "neither a GeoJSON"))
    for settings, message in cases:
        with pytest.raises(maps.BoundaryError, match=message):
            maps.load_boundaries(settings, _essex_codes())
    settings = MapSettings(boundaries=topojson, topojson_object="lad")
    with pytest.raises(maps.BoundaryError, match="no shape for X-NOWHERE"):
        maps.load_boundaries(settings, [*_essex_codes(), "X-NOWHERE"])


def test_the_choropleth_carries_every_district_shape_and_value(topojson: Path, demo_db: Database):
    figures = maps.district_figures(demo_db, view_at(demo_db, SEP_22), measure_id="knife-crime")
    settings = MapSettings(boundaries=topojson, topojson_object="lad")
    boundaries = maps.load_boundaries(settings, list(figures["district_code"]))
    measure = demo_db.config.measure("knife-crime")
    spec = map_charts.choropleth_chart(figures, boundaries, "rate_per_1000", measure).to_dict()
    layer = spec["layer"][0]
    shapes = layer.get("data") or spec["data"]
    assert shapes["format"] == {"type": "topojson", "feature": "lad"}
    topology = spec["datasets"][shapes["name"]]
    assert len(topology["objects"]["lad"]["geometries"]) == 14
    lookup = layer["transform"][0]
    assert lookup["lookup"] == "properties.LAD13CD"
    rows = spec["datasets"][lookup["from"]["data"]["name"]]
    assert len(rows) == 14
    basildon = next(r for r in rows if r["district_name"] == "Basildon")
    assert basildon["rate_per_1000"] == round(
        1000 * _basildon(demo_db)["current_count"] / 188800, 2
    )
    assert layer["mark"]["type"] == "geoshape"
    assert spec["params"][0]["select"]["fields"] == ["district_slug"]


@pytest.fixture(scope="module")
def located(demo_root: Path) -> pd.DataFrame:
    frames = []
    for month in Window.ending(SEP_22, 12).months:
        folder = demo_root / "records" / f"month={month:%Y-%m}"
        frames.append(pd.read_parquet(folder / "part-0.parquet"))
    return pd.concat(frames, ignore_index=True)


def test_hotspot_cells_add_up_to_the_located_records(demo_db: Database, located: pd.DataFrame):
    window = Window.ending(SEP_22, 12)
    cells = maps.hotspot_cells(demo_db, view_at(demo_db, window.end), measure_id="knife-crime")
    knife = located[(located["record_kind"] == "crime") & located["is_knife_enabled"]]
    knife = knife.dropna(subset=["latitude", "longitude"])
    assert cells["count_records"].sum() == len(knife)
    size = demo_db.config.map.hotspot_cell_degrees
    keys = pd.DataFrame(
        {
            "y": (knife["latitude"] // size).astype(int),
            "x": (knife["longitude"] // size).astype(int),
        }
    )
    assert len(cells) == len(keys.drop_duplicates())
    assert cells["count_records"].max() == keys.value_counts().max()
    # Centres of cells, never a record's own position.
    assert ((cells["latitude"] / size - 0.5).round(6) % 1 == 0).all()


def test_sensitive_strands_drop_cells_under_the_minimum(demo_db: Database, located: pd.DataFrame):
    config = demo_db.config
    rule = maps.hotspot_rule(config, config.measure("rape"))
    assert rule.sensitive and rule.min_count == config.map.sensitive_min_count
    assert "fewer than" in rule.describe()
    cells = maps.hotspot_cells(
        demo_db, view_at(demo_db, Window.ending(SEP_22, 12).end), measure_id="rape"
    )
    assert (cells["count_records"] >= rule.min_count).all()
    rape = located[(located["record_kind"] == "crime") & (located["crime_type"] == "Rape")]
    size = config.map.hotspot_cell_degrees
    per_cell = pd.DataFrame(
        {"y": (rape["latitude"] // size).astype(int), "x": (rape["longitude"] // size).astype(int)}
    ).value_counts()
    assert len(cells) == int((per_cell >= rule.min_count).sum())
    assert (per_cell < rule.min_count).any()  # the rule did suppress something
    assert not maps.hotspot_rule(config, config.measure("knife-crime")).sensitive


def test_hotspots_follow_the_district_filter(demo_db: Database):
    window = Window.ending(SEP_22, 12)
    everywhere = maps.hotspot_cells(demo_db, view_at(demo_db, window.end), measure_id="knife-crime")
    basildon = maps.hotspot_cells(
        demo_db, view_at(demo_db, window.end, ["E07000066"]), measure_id="knife-crime"
    )
    assert basildon["count_records"].sum() == _basildon(demo_db)["current_count"]
    assert basildon["count_records"].sum() < everywhere["count_records"].sum()


@pytest.fixture
def open_map(monkeypatch: pytest.MonkeyPatch):
    def render(root: Path, **params: str) -> AppTest:
        monkeypatch.setenv(DATA_DIR_VARIABLE, str(root))
        at = AppTest.from_file(APP, default_timeout=120)
        at.run()
        at.switch_page("pages/map.py")
        at.query_params.clear()
        at.query_params.update(params)
        return at.run()

    return render


def test_the_map_page_shows_the_districts_and_reads_its_link(open_map, demo_root: Path):
    at = open_map(demo_root, period="2022-09", measure="rape", colour="rate_per_1000")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning
    table = at.dataframe[0].value
    assert len(table) == 14
    assert at.selectbox[0].value == "rape"


def test_a_bad_map_link_falls_back_with_a_sentence(open_map, demo_root: Path):
    at = open_map(demo_root, period="2022-09", measure="nope", colour="purple")
    assert not at.exception
    warnings = " ".join(w.value for w in at.warning)
    assert "nope" in warnings and "purple" in warnings
    assert at.selectbox[0].value == "knife-crime"


def test_a_district_filter_narrows_the_table(open_map, demo_root: Path, demo_db: Database):
    at = open_map(demo_root, period="2022-09", district="basildon")
    table = at.dataframe[0].value
    assert list(table["district_name"]) == ["Basildon"]
    assert int(table["current_count"].iloc[0]) == _basildon(demo_db)["current_count"]


def linked_data_folder(demo_root: Path, target: Path, map_settings: str) -> Path:
    """A data folder sharing the demo's files (by symbolic link) with its own [map] settings."""
    target.mkdir()
    for name in ("records", "delivery", "activity", "commentary"):
        (target / name).symlink_to(demo_root / name, target_is_directory=True)
    _strategy_with_map(target / "config", map_settings)
    return target


def test_a_broken_boundary_file_falls_back_to_tiles_with_a_sentence(
    open_map, demo_root: Path, tmp_path: Path
):
    root = linked_data_folder(
        demo_root, tmp_path / "data", 'boundaries = "missing.topo.json"\ntopojson_object = "lad"'
    )
    at = open_map(root, period="2022-09")
    assert not at.exception, [e.value for e in at.exception]
    assert any("does not exist" in w.value and "tiles" in w.value for w in at.warning)


def test_with_the_shared_boundaries_the_page_draws_shapes(
    open_map, demo_root: Path, tmp_path: Path, topojson: Path
):
    root = linked_data_folder(
        demo_root, tmp_path / "data", f'boundaries = "{topojson}"\ntopojson_object = "lad"'
    )
    at = open_map(root, period="2022-09")
    assert not at.exception, [e.value for e in at.exception]
    assert not at.warning
    assert any("TopoJSON" in c.value for c in at.caption)


def test_hotspots_of_a_sensitive_strand_state_the_rule_on_the_page(open_map, demo_root: Path):
    at = open_map(demo_root, period="2022-09", measure="rape", hotspots="on")
    assert not at.exception, [e.value for e in at.exception]
    assert at.toggle[0].value is True
    assert any("fewer than 10 records is left off the map" in c.value for c in at.caption)
