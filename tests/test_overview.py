"""The overview's headline and scorecard: every figure the headline prints is the count a direct
pass over the record files gives, exceptions come first, and every address the README gives
is one the dashboard serves."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from conftest import render_app
from truth import Truth, pct_change, window_months

from crimeprev.config import DEFAULT_CONFIG_DIR
from crimeprev.figures.overview import (
    VERDICT_BETTER,
    VERDICT_STEADY,
    VERDICT_UNTESTED,
    VERDICT_WORSE,
    verdict,
)
from crimeprev.store import REPOSITORY_ROOT

SEP_22 = date(2022, 9, 1)
BULLET = re.compile(
    r"^(?P<name>.+?) (?P<way>up|down) (?P<pct>[\d,.]+)% \((?P<before>[\d,]+) to "
    r"(?P<now>[\d,]+)\)(?P<largest>, the largest (rise|fall))?; beyond normal variation, "
    r"(?P<reading>good news|a concern)\.$"
)


def _improvement() -> dict[str, str]:
    """Each measure's better-when direction, read from the shipped TOML."""
    with (DEFAULT_CONFIG_DIR / "strategy.toml").open("rb") as handle:
        strategy = tomllib.load(handle)
    return {m["name"]: m["improvement"] for s in strategy["strands"] for m in s.get("measures", [])}


def _headline(root: Path, monkeypatch: pytest.MonkeyPatch, **params: str) -> list[str]:
    at = render_app(monkeypatch, root, None, **params)
    assert not at.exception, [e.value for e in at.exception]
    lists = [m.value for m in at.markdown if m.value.startswith("- ")]
    assert lists, "no headline bullets on the overview"
    return [line.removeprefix("- ") for line in lists[0].splitlines()]


@pytest.mark.parametrize("folder", ["demo_folder", "gapped_folder"])
def test_the_headline_figures_are_the_counts_over_the_records(
    folder: str, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    root: Path = request.getfixturevalue(folder)
    truth = Truth(root)
    (force,) = truth.forces
    bullets = _headline(root, monkeypatch)
    assert 1 <= len(bullets) <= 4
    by_name = {m.name: m for m in truth.measures}
    improvement = _improvement()
    readings = []
    for bullet in bullets:
        match = BULLET.match(bullet)
        if match is None:
            continue
        measure = by_name[match["name"]]
        now = truth.count(measure.id, force, None, window_months(SEP_22))
        before = truth.count(measure.id, force, None, window_months(date(2021, 9, 1)))
        assert isinstance(now, int) and isinstance(before, int), bullet
        assert match["now"] == f"{now:,}" and match["before"] == f"{before:,}", bullet
        pct = pct_change(before, now)
        assert pct is not None
        assert match["pct"] == f"{abs(pct):,.0f}", bullet
        assert match["way"] == ("up" if now > before else "down"), bullet
        good = (now > before) == (improvement[match["name"]] == "up")
        assert match["reading"] == ("good news" if good else "a concern"), bullet
        readings.append(match["reading"])
    if folder == "demo_folder":
        assert readings, f"no bullet names a change: {bullets}"
    # Exceptions first, concerns before good news.
    assert readings == sorted(readings, key=lambda r: r != "a concern")
    assert "measures within normal variation" in bullets[-1]


def test_the_largest_rise_is_the_largest_counted(
    demo_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    truth = Truth(demo_folder)
    (force,) = truth.forces
    bullets = _headline(demo_folder, monkeypatch)
    marked = [BULLET.match(b) for b in bullets if "the largest rise" in b]
    if not marked:
        pytest.skip("no rise is named the largest in this data")
    named = marked[0]
    assert named is not None
    rises = {}
    for bullet in bullets:
        match = BULLET.match(bullet)
        if match and match["way"] == "up":
            measure = next(m for m in truth.measures if m.name == match["name"])
            before = truth.count(measure.id, force, None, window_months(date(2021, 9, 1)))
            now = truth.count(measure.id, force, None, window_months(SEP_22))
            assert isinstance(before, int) and isinstance(now, int)
            rises[match["name"]] = pct_change(before, now)
    assert named["name"] == max(rises, key=lambda n: rises[n] or 0)


@pytest.mark.parametrize(
    ("row", "improvement", "expected"),
    [
        ({"complete": True, "significant": True, "diff": 5}, "down", VERDICT_WORSE),
        ({"complete": True, "significant": True, "diff": 5}, "up", VERDICT_BETTER),
        ({"complete": True, "significant": True, "diff": -5}, "down", VERDICT_BETTER),
        ({"complete": True, "significant": False, "diff": -5}, "down", VERDICT_STEADY),
        ({"complete": False, "significant": None, "diff": None}, "down", VERDICT_UNTESTED),
        ({"complete": True, "significant": pd.NA, "diff": 3}, "up", VERDICT_UNTESTED),
    ],
)
def test_a_verdict_knows_the_measures_direction(row: dict, improvement: str, expected: str):
    assert verdict(row, improvement) == expected


def test_every_address_the_readme_gives_is_served() -> None:
    app = (REPOSITORY_ROOT / "app.py").read_text()
    paths = set(re.findall(r'url_path="([\w-]+)"', app))
    default = re.search(r'url_path="([\w-]+)",\s*default=True', app)
    readme = (REPOSITORY_ROOT / "README.md").read_text()
    given = re.findall(r"\(`/([\w-]*)[?`]", readme)
    assert given
    for path in given:
        assert path == "" or path in paths, f"README links /{path}, which app.py does not serve"
        # The default page answers at / only: its url_path opens "Page not found".
        assert default is None or path != default.group(1), f"README links /{path}"
