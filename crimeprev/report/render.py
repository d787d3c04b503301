"""Charts to image files with vl-convert, which draws Vega-Lite without a browser.

The same Altair chart the dashboard shows is drawn here; only its size and type sizes change
for a slide. Results are cached by the chart's specification, so a second download of the same
chart, or a second deck for the same choices, costs nothing.

vl-convert holds the interpreter lock while it draws (measured: a Python thread running beside
it gets a few per cent of its usual speed), so drawing in a thread pool gains nothing; charts
are drawn one after another and each call is short.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert as vlc

DOWNLOAD_WIDTH_PX = 720
SLIDE_WIDTH_PX = 540
SLIDE_HEIGHT_PX = 260
PNG_SCALE = 2.0
SLIDE_STYLE: dict[str, Any] = {
    "axis": {"labelFontSize": 17, "titleFontSize": 17},
    "legend": {"labelFontSize": 18, "symbolSize": 200},
    "title": {"fontSize": 20, "subtitleFontSize": 16},
}


def chart_spec(
    chart: alt.TopLevelMixin,
    width_px: int = DOWNLOAD_WIDTH_PX,
    style: dict[str, Any] | None = None,
    height_px: int | None = None,
) -> dict[str, Any]:
    """The chart's Vega-Lite specification with a fixed width (a dashboard chart stretches to
    its column, which an image cannot) and, optionally, another height and larger type."""
    # The builders' charts are validated where the dashboard draws them and in their tests;
    # validating again here would add about a second to a deck of fourteen charts.
    spec: dict[str, Any] = chart.to_dict(validate=False)
    if "width" not in spec or spec["width"] == "container":
        spec["width"] = width_px
    if height_px is not None:
        spec["height"] = height_px
    if style:
        config = dict(spec.get("config", {}))
        for part, values in style.items():
            config[part] = {**config.get(part, {}), **values}
        spec["config"] = config
    return spec


def _key(spec: dict[str, Any]) -> str:
    return json.dumps(spec, sort_keys=True, default=str)


@lru_cache(maxsize=128)
def _png(spec_json: str, scale: float) -> bytes:
    png: bytes = vlc.vegalite_to_png(json.loads(spec_json), scale=scale)
    return png


@lru_cache(maxsize=128)
def _svg(spec_json: str) -> str:
    svg: str = vlc.vegalite_to_svg(json.loads(spec_json))
    return svg


def spec_png(spec: dict[str, Any], scale: float = PNG_SCALE) -> bytes:
    """A PNG of a Vega-Lite specification, `scale` pixels per CSS pixel."""
    return _png(_key(spec), scale)


def spec_svg(spec: dict[str, Any]) -> str:
    """An SVG document of a Vega-Lite specification."""
    return _svg(_key(spec))


def chart_png(
    chart: alt.TopLevelMixin, width_px: int = DOWNLOAD_WIDTH_PX, scale: float = PNG_SCALE
) -> bytes:
    """A PNG of the chart as the dashboard draws it, at a fixed width."""
    return spec_png(chart_spec(chart, width_px), scale)


def chart_svg(chart: alt.TopLevelMixin, width_px: int = DOWNLOAD_WIDTH_PX) -> bytes:
    """An SVG of the chart as the dashboard draws it, at a fixed width, as UTF-8 bytes."""
    return spec_svg(chart_spec(chart, width_px)).encode("utf-8")


def slide_png(chart: alt.TopLevelMixin) -> bytes:
    """A PNG of a monthly chart for a slide: smaller, so its type reads across a room."""
    return spec_png(chart_spec(chart, SLIDE_WIDTH_PX, SLIDE_STYLE, SLIDE_HEIGHT_PX), PNG_SCALE)
