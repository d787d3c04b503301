"""The district map: each force district's count of a measure, coloured by its % change or by
its rate per 1,000 residents, drawn as tiles placed by the configuration (no file needed) or,
when the configuration names a GeoJSON or TopoJSON boundary file, as the districts' true shapes;
and hotspots, the measure's located records counted in square cells.

Records are never drawn one by one. For the strands the configuration marks sensitive, a cell
with fewer records than its minimum is left off the map.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from crimeprev.config import Config, District, MapSettings, Measure
from crimeprev.db import Database
from crimeprev.errors import CrimeprevError
from crimeprev.figures.insight import district_breakdown
from crimeprev.periods import format_month
from crimeprev.view import View

METRICS = {"pct_change": "% change", "rate_per_1000": "Rate per 1,000 residents"}


class BoundaryError(CrimeprevError, ValueError):
    """The configured boundary file cannot be used; the message says why."""


@dataclass(frozen=True)
class HotspotRule:
    """How hotspots of one measure are counted, and the rule in words for the page."""

    cell_degrees: float
    min_count: int
    sensitive: bool

    def describe(self) -> str:
        """The rule, as the page states it."""
        size = f"{self.cell_degrees:g}° of latitude and longitude"
        if self.sensitive:
            return (
                f"Records are counted in square cells of {size}, never drawn one by one. This "
                f"strand is sensitive: a cell with fewer than {self.min_count} records is left "
                "off the map, so that no hotspot can point at a household."
            )
        return f"Records are counted in square cells of {size}, never drawn one by one."


def tile_positions(config: Config, force: str | None = None) -> dict[str, tuple[int, int]]:
    """Each of the force's districts' (row, column) on the tile map, keyed by district code.

    From `tile_row`/`tile_col` in districts.csv; when a district has none (a data folder's own
    districts.csv without them), every district is placed on a grid from its centroid."""
    districts = config.districts_of(force)
    if all(d.tile_row is not None and d.tile_col is not None for d in districts):
        return {d.code: (int(d.tile_row or 0), int(d.tile_col or 0)) for d in districts}
    return _grid_from_centroids(districts)


def _grid_from_centroids(districts: Sequence[District]) -> dict[str, tuple[int, int]]:
    columns = max(1, math.ceil(math.sqrt(len(districts))))
    # North first, then west to east within each row of the grid.
    by_latitude = sorted(districts, key=lambda d: (-(d.centroid_latitude or 0.0), d.name))
    positions = {}
    for start in range(0, len(by_latitude), columns):
        row = sorted(by_latitude[start : start + columns], key=lambda d: d.centroid_longitude or 0)
        for column, district in enumerate(row):
            positions[district.code] = (start // columns, column)
    return positions


def district_figures(db: Database, view: View, measure_id: str) -> pd.DataFrame:
    """One row per district of the view's force: the measure's count in the 12 months to the
    period and the 12 before, the difference, % change, rate per 1,000 residents and the tile
    position. Every district is drawn whatever places the view chooses (the chosen ones are
    highlighted); where a window is incomplete its counts are empty and `note` names the
    missing months."""
    config = db.config
    whole_force = replace(view, districts=(), lpas=())
    breakdown = district_breakdown(db, whole_force, measure_id)
    positions = tile_positions(config, view.force)
    by_code = {d.code: d for d in config.districts_of(view.force)}
    rows = []
    for row in breakdown.to_dict("records"):
        district = by_code.get(str(row["district_code"]))
        if district is None:
            continue
        population = district.population
        current = _count(row["current_count"])
        rate = (
            round(1000.0 * current / population, 2) if population and current is not None else None
        )
        tile_row, tile_col = positions[district.code]
        rows.append(
            {
                "district_code": district.code,
                "district_name": district.name,
                "district_slug": district.slug,
                "lpa": district.lpa or "",
                "population": population,
                "previous_count": _count(row["previous_count"]),
                "current_count": current,
                "diff": _count(row["diff"]),
                "pct_change": row["pct_change"],
                "rate_per_1000": rate,
                "tile_row": tile_row,
                "tile_col": tile_col,
                "note": row["note"] if isinstance(row["note"], str) else None,
            }
        )
    frame = pd.DataFrame(rows, columns=DISTRICT_FIGURE_COLUMNS)
    frame = frame.astype(
        {
            "previous_count": "Int64",
            "current_count": "Int64",
            "diff": "Int64",
            "pct_change": "Float64",
            "rate_per_1000": "Float64",
        }
    )
    return frame.sort_values(["tile_row", "tile_col"]).reset_index(drop=True)


DISTRICT_FIGURE_COLUMNS = [
    "district_code",
    "district_name",
    "district_slug",
    "lpa",
    "population",
    "previous_count",
    "current_count",
    "diff",
    "pct_change",
    "rate_per_1000",
    "tile_row",
    "tile_col",
    "note",
]


def _count(value: Any) -> int | None:
    return None if value is None or pd.isna(value) else int(value)


def _signed_area(ring: list[list[float]]) -> float:
    return sum(
        x0 * y1 - x1 * y0
        for (x0, y0, *_), (x1, y1, *_) in zip(ring, ring[1:] + ring[:1], strict=True)
    )


def _rewound(geometry: dict[str, Any]) -> dict[str, Any]:
    """Rings in the winding d3 (and so Vega) expects: outer rings clockwise, holes not;
    RFC 7946 GeoJSON winds them the other way, which Vega would fill as the rest of the globe."""

    def polygon(rings: list[list[list[float]]]) -> list[list[list[float]]]:
        fixed = []
        for index, ring in enumerate(rings):
            clockwise = _signed_area(ring) < 0
            wanted = index == 0
            fixed.append(ring if clockwise == wanted else ring[::-1])
        return fixed

    if geometry["type"] == "Polygon":
        return {"type": "Polygon", "coordinates": polygon(geometry["coordinates"])}
    if geometry["type"] == "MultiPolygon":
        return {
            "type": "MultiPolygon",
            "coordinates": [polygon(p) for p in geometry["coordinates"]],
        }
    raise BoundaryError(f"A district's shape is a {geometry['type']}, not a polygon.")


@dataclass(frozen=True)
class Boundaries:
    """The chosen districts' shapes as Vega-Lite reads them: a TopoJSON topology cut down to
    those districts (Vega-Lite decodes it, `feature` naming its object), or a GeoJSON
    FeatureCollection of them; each shape's `code_property` holds its district's code."""

    kind: str
    data: dict[str, Any]
    code_property: str
    feature: str | None = None


def _topology_object(topology: dict[str, Any], object_name: str | None) -> str:
    objects = topology.get("objects")
    if not isinstance(objects, dict) or not objects:
        raise BoundaryError("The TopoJSON file has no objects.")
    name = object_name or next(iter(objects))
    if name not in objects:
        raise BoundaryError(
            f"The TopoJSON file has no object '{name}' (it has {', '.join(objects)})."
        )
    return name


def _code_of(item: dict[str, Any], code_property: str) -> str | None:
    code = (item.get("properties") or {}).get(code_property)
    return None if code is None else str(code)


def _topology_of(
    topology: dict[str, Any], name: str, geometries: list[dict[str, Any]]
) -> dict[str, Any]:
    """The topology with only these geometries, and only the arcs they use (renumbered), so a
    chart carries a county rather than the country. Coordinates are left as the file has them."""
    used: dict[int, int] = {}

    def renumber(arcs: Any) -> Any:
        if isinstance(arcs, int):
            index = arcs if arcs >= 0 else ~arcs
            new = used.setdefault(index, len(used))
            return new if arcs >= 0 else ~new
        return [renumber(part) for part in arcs]

    kept = [geometry | {"arcs": renumber(geometry["arcs"])} for geometry in geometries]
    arcs = [topology["arcs"][index] for index in used]
    cut = {key: value for key, value in topology.items() if key not in ("objects", "arcs")}
    return cut | {
        "objects": {name: {"type": "GeometryCollection", "geometries": kept}},
        "arcs": arcs,
    }


@cache
def _read_boundaries(path: Path, modified_ns: int) -> dict[str, Any]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BoundaryError(
            f"The boundary file {path} cannot be read as JSON ({error})."
        ) from error
    if not isinstance(raw, dict) or raw.get("type") not in ("Topology", "FeatureCollection"):
        raise BoundaryError(
            f"The boundary file {path} is neither a GeoJSON FeatureCollection nor a TopoJSON "
            "Topology."
        )
    return raw


def load_boundaries(settings: MapSettings, codes: Sequence[str]) -> Boundaries:
    """The shapes of the districts `codes` from the configured boundary file, as Vega-Lite
    draws them. Raises `BoundaryError` when the file is missing, unreadable, or lacks a
    district."""
    path = settings.boundaries
    if path is None:
        raise BoundaryError("No boundary file is configured ([map] boundaries).")
    if not path.is_file():
        raise BoundaryError(f"The boundary file {path} named in [map] does not exist.")
    raw = _read_boundaries(path, path.stat().st_mtime_ns)
    code_property = settings.code_property
    if raw["type"] == "Topology":
        name = _topology_object(raw, settings.topojson_object)
        items = list(raw["objects"][name].get("geometries") or [])
    else:
        name = None
        items = [f for f in raw.get("features") or [] if f.get("geometry")]
    by_code = {code: item for item in items if (code := _code_of(item, code_property))}
    if not by_code:
        raise BoundaryError(
            f"No shape in {path} has the property '{code_property}'; set code_property in "
            "[map] to the property holding the district's ONS code."
        )
    missing = [code for code in codes if code not in by_code]
    if missing:
        raise BoundaryError(
            f"The boundary file {path} has no shape for {', '.join(missing)} "
            f"(property {code_property})."
        )
    chosen = [by_code[code] for code in codes]
    if name is not None:
        return Boundaries("TopoJSON", _topology_of(raw, name, chosen), code_property, name)
    features = [f | {"geometry": _rewound(f["geometry"])} for f in chosen]
    return Boundaries("GeoJSON", {"type": "FeatureCollection", "features": features}, code_property)


def hotspot_rule(config: Config, measure: Measure) -> HotspotRule:
    """The cell size and minimum count for a measure's hotspots (sensitive strands keep only
    cells with at least the configured minimum)."""
    settings = config.map
    sensitive = measure.strand_id in settings.sensitive_strands
    return HotspotRule(
        cell_degrees=settings.hotspot_cell_degrees,
        min_count=settings.sensitive_min_count if sensitive else 1,
        sensitive=sensitive,
    )


def hotspot_cells(db: Database, view: View, measure_id: str) -> pd.DataFrame:
    """The measure's located records in the 12 months to the view's period, in its force and
    places, counted per square cell: `latitude, longitude` (the cell's centre) and
    `count_records`, cells under the rule's minimum left out."""
    config = db.config
    rule = hotspot_rule(config, config.measure(measure_id))
    window = view.window(config.window_months)
    return db.query(
        "map_hotspot_cells",
        measure_id=measure_id,
        months=[format_month(m) for m in window.months],
        district_codes=view.district_codes(config),
        force=view.force,
        cell_degrees=rule.cell_degrees,
        min_count=rule.min_count,
    )
