"""The district map reads at a glance: its % change scale is symmetric about no change, its
labels keep contrast on dark tiles, and its figures carry separators."""

from __future__ import annotations

import pandas as pd

from crimeprev.present.map_charts import tile_map_chart


def _figures() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "district_slug": ["a", "b", "c"],
            "district_name": ["Alpha", "Beta", "Gamma"],
            "district_code": ["E1", "E2", "E3"],
            "lpa": ["North", "North", "South"],
            "population": [188800, 92600, 1234],
            "previous_count": [100, 200, 300],
            "current_count": [161.8, 177, 300],
            "diff": [62, -23, 0],
            "pct_change": [61.8, -11.5, 0.0],
            "rate_per_1000": [1.2, 2.3, 3.4],
            "tile_row": [0, 0, 1],
            "tile_col": [0, 1, 0],
            "note": [None, None, None],
        }
    )


class _Direction:
    """The one thing the map asks of a measure: which way is better."""

    def __init__(self, improvement: str) -> None:
        self.improvement = improvement


def test_the_change_scale_is_symmetric_about_no_change_and_labels_keep_contrast() -> None:
    spec = tile_map_chart(_figures(), "pct_change", _Direction("down")).to_dict()  # type: ignore[arg-type]
    scale = spec["layer"][0]["encoding"]["color"]["scale"]
    low, high = scale["domain"]
    assert low == -high == -61.8 and scale["domainMid"] == 0
    rows = {r["district_name"]: r for r in spec["datasets"][spec["data"]["name"]]}
    assert rows["Alpha"]["label_colour"] == "white"  # the darkest tile
    assert rows["Beta"]["label_colour"] == "black"  # -11.5% is pale: as pale as +11.5%
    assert rows["Alpha"]["residents_text"] == "188,800"
    assert rows["Alpha"]["pct_change_text"] == "+61.8%"
