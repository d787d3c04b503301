"""Charts to image files with vl-convert, which draws Vega-Lite without a browser.

The same Altair chart the dashboard shows is drawn here; only its size and type sizes change
for a slide. Results are cached by the chart's specification, so a second download of the same
chart, or a second deck for the same choices, costs nothing.

vl-convert holds the interpreter lock while it draws (measured: a Python thread running beside
it gets a few per cent of its usual speed), so drawing in a thread pool gains nothing: a single
chart is drawn here, and a deck's charts (`slide_pngs`) in painter processes side by side.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

import altair as alt
import vl_convert as vlc

from crimeprev.report.painters import PAINTERS, PainterError, painters_for

DOWNLOAD_WIDTH_PX = 720
SLIDE_WIDTH_PX = 540
SLIDE_HEIGHT_PX = 260
PNG_SCALE = 2.0
# The smallest type on a slide's chart, in CSS pixels: drawn into the slide's chart box it
# is at least 14 pt (tests/test_report.py measures it on the slide).
SLIDE_MIN_FONT_PX = 20
SLIDE_STYLE: dict[str, Any] = {
    "axis": {"labelFontSize": SLIDE_MIN_FONT_PX, "titleFontSize": SLIDE_MIN_FONT_PX},
    "legend": {
        "labelFontSize": SLIDE_MIN_FONT_PX,
        "titleFontSize": SLIDE_MIN_FONT_PX,
        "symbolSize": 200,
    },
    "title": {"fontSize": 21, "subtitleFontSize": SLIDE_MIN_FONT_PX},
    "text": {"fontSize": SLIDE_MIN_FONT_PX},
}


def _larger_marks(spec: Any, smallest_px: int) -> Any:
    """The specification with every mark's own type size raised to at least `smallest_px`
    (a mark's `fontSize` wins over the configuration's)."""
    if isinstance(spec, dict):
        raised = {key: _larger_marks(value, smallest_px) for key, value in spec.items()}
        size = raised.get("fontSize")
        if isinstance(size, int | float) and size < smallest_px:
            raised["fontSize"] = smallest_px
        return raised
    if isinstance(spec, list):
        return [_larger_marks(value, smallest_px) for value in spec]
    return spec


def font_sizes_px(spec: Any) -> list[float]:
    """Every type size a specification names (config, marks, titles), in CSS pixels."""
    found: list[float] = []
    if isinstance(spec, dict):
        for key, value in spec.items():
            if key.lower().endswith("fontsize") and isinstance(value, int | float):
                found.append(float(value))
            else:
                found += font_sizes_px(value)
    elif isinstance(spec, list):
        for value in spec:
            found += font_sizes_px(value)
    return found


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


PNG_CACHE_SIZE = 128
# A batch smaller than this is drawn here: starting painters would cost more than it saves.
PARALLEL_FROM = 3
_pngs: OrderedDict[tuple[str, float], bytes] = OrderedDict()
_pngs_lock = threading.Lock()


def _cached_png(key: tuple[str, float]) -> bytes | None:
    with _pngs_lock:
        png = _pngs.get(key)
        if png is not None:
            _pngs.move_to_end(key)
        return png


def _remember_png(key: tuple[str, float], png: bytes) -> bytes:
    with _pngs_lock:
        png = _pngs.setdefault(key, png)
        _pngs.move_to_end(key)
        while len(_pngs) > PNG_CACHE_SIZE:
            _pngs.popitem(last=False)
        return png


def clear_cache() -> None:
    """Forget every image drawn so far (for timing a build from nothing)."""
    with _pngs_lock:
        _pngs.clear()
    _svg.cache_clear()


def _png(spec_json: str, scale: float) -> bytes:
    cached = _cached_png((spec_json, scale))
    if cached is not None:
        return cached
    png: bytes = vlc.vegalite_to_png(json.loads(spec_json), scale=scale)
    return _remember_png((spec_json, scale), png)


def _pngs_side_by_side(specs: Sequence[str], scale: float, drawn: Callable[[], None]) -> None:
    """Draw the specifications not drawn before in painter processes, into the cache."""
    missing = [s for s in dict.fromkeys(specs) if _cached_png((s, scale)) is None]
    if len(missing) < PARALLEL_FROM or painters_for(len(missing)) < 2:
        return

    def done(index: int, png: bytes) -> None:
        _remember_png((missing[index], scale), png)
        drawn()

    try:
        PAINTERS.draw_all(missing, scale, done, painters_for(len(missing)))
    except PainterError:
        pass  # what is not drawn yet is drawn here, where a bad chart raises its own error


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


def slide_spec(chart: alt.TopLevelMixin) -> dict[str, Any]:
    """The chart's specification as a slide draws it: fixed size, larger type."""
    spec: dict[str, Any] = _larger_marks(
        chart_spec(chart, SLIDE_WIDTH_PX, SLIDE_STYLE, SLIDE_HEIGHT_PX), SLIDE_MIN_FONT_PX
    )
    return spec


def slide_png(chart: alt.TopLevelMixin) -> bytes:
    """A PNG of a monthly chart for a slide: smaller, so its type reads across a room."""
    return spec_png(slide_spec(chart), PNG_SCALE)


def report_svg(chart: alt.TopLevelMixin) -> bytes:
    """An SVG of a monthly chart for a printed page: the slide's size and type, so that its
    labels stay legible when the page prints it at half the page's width."""
    return spec_svg(slide_spec(chart)).encode("utf-8")


def slide_pngs(
    charts: Sequence[alt.TopLevelMixin], progress: Callable[[int], None] = lambda drawn: None
) -> list[bytes]:
    """`slide_png` of each chart, those not drawn before drawn side by side in painter
    processes (one per core); `progress(n)` hears how many are drawn so far."""
    specs = [_key(slide_spec(chart)) for chart in charts]
    count = 0

    def drawn() -> None:
        nonlocal count
        count += 1
        progress(count)

    _pngs_side_by_side(specs, PNG_SCALE, drawn)
    pngs = []
    for spec in specs:
        cached = _cached_png((spec, PNG_SCALE))
        pngs.append(_png(spec, PNG_SCALE))
        if cached is None:
            drawn()
    return pngs
