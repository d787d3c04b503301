"""The district map's charts: tiles placed by the configuration, or the districts' true shapes,
coloured by a measure's % change or rate per 1,000 residents, and hotspot cells on top.

The figures come from `crimeprev.figures.maps`; these functions only draw them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import altair as alt
import pandas as pd

from crimeprev.config import Measure
from crimeprev.figures.maps import METRICS, Boundaries
from crimeprev.formats import (
    VEGA_COUNT,
    VEGA_RATE,
    count_text,
    pct_change_text,
    rate_text,
)
from crimeprev.present.charts import styled

TILE_SIZE_PX = 92
SHAPE_WIDTH_PX = 640
SHAPE_HEIGHT_PX = 480


# Colour-blind safe diverging colours: blue for good news, orange for bad news, pale at no
# change. Labels on a tile turn white where its colour is this far or further from pale.
DARK_FROM = 0.8
OUTLINE_GREY = "#6B6B6B"


def colour_extent(frame: pd.DataFrame, metric: str) -> float:
    """The largest size of the metric drawn, which both ends of a diverging scale reach, so
    that -11.5% and +11.5% are equally dark (at least 1, so an all-zero map has a scale)."""
    values = pd.to_numeric(frame[metric], errors="coerce").abs().dropna()
    return max(float(values.max()) if len(values) else 0.0, 1.0)


def _colour(metric: str, measure: Measure, extent: float) -> alt.Color:
    if metric == "pct_change":
        # Orange where the change is bad news for this measure, blue where it is good news,
        # symmetric about no change.
        scale = alt.Scale(
            scheme="blueorange",
            domain=[-extent, extent],
            domainMid=0,
            reverse=measure.improvement == "up",
        )
    else:
        scale = alt.Scale(scheme="blues", domain=[0, extent])
    return alt.Color(
        f"{metric}:Q",
        title=METRICS[metric],
        scale=scale,
        legend=alt.Legend(orient="bottom", format="+.0f" if metric == "pct_change" else ",.1f"),
    )


def _is_dark(value: Any, metric: str, extent: float) -> bool:
    if value is None or pd.isna(value):
        return False
    share = abs(float(value)) / extent
    return share >= DARK_FROM


def _tooltip() -> list[alt.Tooltip]:
    return [
        alt.Tooltip("district_name:N", title="District"),
        alt.Tooltip("lpa:N", title="LPA"),
        alt.Tooltip("current_count:Q", title="12 months to period", format=VEGA_COUNT),
        alt.Tooltip("previous_count:Q", title="12 months before", format=VEGA_COUNT),
        alt.Tooltip("pct_change_text:N", title="% change"),
        alt.Tooltip("residents_text:N", title="Residents"),
        alt.Tooltip("rate_per_1000:Q", title="Per 1,000 residents", format=VEGA_RATE),
    ]


def _value_text(frame: pd.DataFrame, metric: str) -> list[str]:
    if metric == "pct_change":
        return [pct_change_text(v, blank="–") for v in frame[metric]]
    return [rate_text(v, blank="–") for v in frame[metric]]


def _with_texts(figures: pd.DataFrame) -> pd.DataFrame:
    return figures.assign(
        pct_change_text=[pct_change_text(v) for v in figures["pct_change"]],
        residents_text=[count_text(v, blank="unknown") for v in figures["population"]],
    )


def _district_pick() -> Any:
    return alt.selection_point(name="district", fields=["district_slug"], on="click")


def tile_map_chart(
    figures: pd.DataFrame, metric: str, measure: Measure, chosen_slugs: Sequence[str] = ()
) -> alt.LayerChart:
    """Square tiles, one per district, coloured by the metric and labelled with the district's
    name and value; a click selects the district (parameter `district`, field
    `district_slug`). Districts not among `chosen_slugs` are faded when some are chosen."""
    extent = colour_extent(figures, metric)
    frame = _with_texts(figures).assign(
        label_colour=["white" if _is_dark(v, metric, extent) else "black" for v in figures[metric]],
        short_name=[n if len(n) <= 14 else n.split("-")[0][:14] for n in figures["district_name"]],
        value_text=_value_text(figures, metric),
        is_chosen=[not chosen_slugs or s in chosen_slugs for s in figures["district_slug"]],
    )
    pick = _district_pick()
    rows = int(frame["tile_row"].max()) + 1
    columns = int(frame["tile_col"].max()) + 1
    x = alt.X("tile_col:O", axis=None, scale=alt.Scale(domain=list(range(columns))))
    y = alt.Y("tile_row:O", axis=None, scale=alt.Scale(domain=list(range(rows))))
    tiles = (
        alt.Chart()
        .mark_rect(cornerRadius=4, stroke="white", strokeWidth=3, aria=True)
        .encode(
            x=x,
            y=y,
            color=_colour(metric, measure, extent),
            opacity=alt.condition("datum.is_chosen", alt.value(1.0), alt.value(0.3)),
            tooltip=_tooltip(),
        )
        .add_params(pick)
    )
    # A condition, not a field with no scale: the layers share the tiles' colour scale.
    label_colour = alt.condition(
        "datum.label_colour == 'white'", alt.value("white"), alt.value("black")
    )
    names = (
        alt.Chart()
        .mark_text(dy=-9, fontSize=11, fontWeight="bold")
        .encode(x=x, y=y, text="short_name:N", color=label_colour, tooltip=_tooltip())
    )
    values = (
        alt.Chart()
        .mark_text(dy=9, fontSize=11)
        .encode(x=x, y=y, text="value_text:N", color=label_colour, tooltip=_tooltip())
    )
    return styled(
        alt.LayerChart(
            layer=[tiles, names, values],
            data=frame,
            width=alt.Step(TILE_SIZE_PX),
            height=alt.Step(TILE_SIZE_PX),
        )
    )


def choropleth_chart(
    figures: pd.DataFrame,
    boundaries: Boundaries,
    metric: str,
    measure: Measure,
    chosen_slugs: Sequence[str] = (),
    hotspots: pd.DataFrame | None = None,
) -> alt.LayerChart:
    """The districts' true shapes coloured by the metric, with the hotspot cells on top when
    given; a click on a district selects it (parameter `district`, field `district_slug`).
    Vega-Lite reads the shapes itself (TopoJSON or GeoJSON) and looks each district's figures
    up by its code."""
    extent = colour_extent(figures, metric)
    rows = (
        _with_texts(figures)
        .drop(columns=["population"])
        .assign(is_chosen=[not chosen_slugs or s in chosen_slugs for s in figures["district_slug"]])
    )
    if boundaries.kind == "TopoJSON":
        shape_format = {"type": "topojson", "feature": boundaries.feature}
    else:
        shape_format = {"type": "json", "property": "features"}
    shapes = {"values": boundaries.data, "format": shape_format}
    pick = _district_pick()
    fields = [c for c in rows.columns if c != "district_code"]
    districts = (
        alt.Chart(shapes)
        .transform_lookup(
            lookup=f"properties.{boundaries.code_property}",
            from_=alt.LookupData(data=_records(rows), key="district_code", fields=fields),
        )
        .mark_geoshape(stroke="white", strokeWidth=1.5, aria=True)
        .encode(
            color=_colour(metric, measure, extent),
            opacity=alt.condition("datum.is_chosen", alt.value(1.0), alt.value(0.3)),
            tooltip=_tooltip(),
        )
        .add_params(pick)
    )
    layers: list[Any] = [districts]
    if hotspots is not None and not hotspots.empty:
        layers.append(_hotspot_layer(hotspots))
    return styled(
        alt.LayerChart(
            layer=layers,
            width=SHAPE_WIDTH_PX,
            height=SHAPE_HEIGHT_PX,
            projection=alt.Projection(type="mercator"),
        )
    )


def _records(frame: pd.DataFrame) -> alt.InlineData:
    """A frame as inline rows, its missing values written as nulls."""
    rows = [
        {key: (None if pd.isna(value) else value) for key, value in row.items()}
        for row in frame.astype(object).to_dict("records")
    ]
    return alt.InlineData(values=rows)


def _hotspot_layer(hotspots: pd.DataFrame) -> alt.Chart:
    layer: alt.Chart = (
        alt.Chart(hotspots)
        .mark_circle(color="#3B0F70", opacity=0.6, stroke="white", strokeWidth=0.8)
        .encode(
            longitude="longitude:Q",
            latitude="latitude:Q",
            size=alt.Size(
                "count_records:Q",
                title="Records in the cell",
                scale=alt.Scale(range=[8, 400]),
                legend=alt.Legend(orient="bottom"),
            ),
            tooltip=[
                alt.Tooltip("count_records:Q", title="Records in the cell", format=VEGA_COUNT)
            ],
        )
    )
    return layer


def _outline_layer(boundaries: Boundaries) -> alt.Chart:
    if boundaries.kind == "TopoJSON":
        shape_format = {"type": "topojson", "feature": boundaries.feature}
    else:
        shape_format = {"type": "json", "property": "features"}
    layer: alt.Chart = alt.Chart({"values": boundaries.data, "format": shape_format}).mark_geoshape(
        fill="#F2F2F2", stroke=OUTLINE_GREY, strokeWidth=1
    )
    return layer


def hotspot_chart(
    hotspots: pd.DataFrame, boundaries: Boundaries | None = None
) -> alt.Chart | alt.LayerChart:
    """Hotspot cells without the coloured districts: circles at each cell's centre, sized by
    its count, on a Mercator projection, over the districts' outlines when boundaries are
    configured."""
    projection = alt.Projection(type="mercator")
    if boundaries is None:
        chart: alt.Chart = _hotspot_layer(hotspots).properties(
            width=SHAPE_WIDTH_PX, height=SHAPE_HEIGHT_PX, projection=projection
        )
        return styled(chart)
    return styled(
        alt.LayerChart(
            layer=[_outline_layer(boundaries), _hotspot_layer(hotspots)],
            projection=projection,
            width=SHAPE_WIDTH_PX,
            height=SHAPE_HEIGHT_PX,
        )
    )
