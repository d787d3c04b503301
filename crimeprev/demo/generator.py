"""Deterministic demo data: a complete data folder shaped like the force's own extract.

`generate_demo` writes, for April 2017 to September 2022, every recorded crime in the force area
together with mental-health and welfare incidents and anti-social behaviour, then the delivery
plan, activity metrics and commentary the dashboard reads, and finally the monthly aggregates.
Volumes follow the seasons, the Covid lockdowns and the districts' real shares of each crime
type, and every measure of `strategy.toml` is calibrated so that the published 12-month figures
come out exactly. All the numbers live in `calibration.toml`; a seed always gives the same
records.
"""

from __future__ import annotations

import calendar
import csv
import math
import shutil
import time
import tomllib
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from crimeprev.aggregate import build_aggregates
from crimeprev.config import Config, Measure, load_config
from crimeprev.errors import CrimeprevError
from crimeprev.imports.common import FileReport, ImportSummary, record_months, save_import
from crimeprev.periods import add_months, format_month, months_between, parse_month, round_half_up
from crimeprev.store import RECORD_SCHEMA, write_month

CALIBRATION_PATH = Path(__file__).with_name("calibration.toml")
DEMO_FOLDERS = ("records", "delivery", "activity", "commentary", "imports")
KM_PER_DEGREE = 111.32
DAYS_PER_MONTH = 365.25 / 12

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


class CalibrationError(CrimeprevError, ValueError):
    """The calibration file does not fit the configuration; the message names the problem."""


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo` wrote."""

    root: Path
    seed: int
    months_written: int
    records_written: int
    crimes_written: int
    incidents_written: int
    asb_written: int
    actions_written: int
    seconds_taken: float


@dataclass(frozen=True)
class _Window:
    """Months `start` to `stop - 1` (indices into the timeline) and their total."""

    start: int
    stop: int
    total: int
    exact: bool

    def contains(self, index: int) -> bool:
        return self.start <= index < self.stop


@dataclass
class _Records:
    """The generated records as parallel arrays, grouped by month."""

    month: IntArray
    crime_type: IntArray
    district: IntArray
    outcome: IntArray
    flags: dict[str, BoolArray]
    month_offsets: IntArray

    @property
    def size(self) -> int:
        return int(self.month.size)

    def month_slice(self, index: int) -> slice:
        return slice(int(self.month_offsets[index]), int(self.month_offsets[index + 1]))


def _normalised(values: FloatArray) -> FloatArray:
    scaled: FloatArray = values / values.sum()
    return scaled


def _rng(seed: int, purpose: str) -> np.random.Generator:
    """A generator for one purpose, so that changing one part leaves the others' draws alone."""
    return np.random.default_rng([seed, zlib.crc32(purpose.encode("utf-8"))])


class _Calibration:
    """The calibration file read against the configuration, with the timeline it covers."""

    def __init__(self, raw: dict[str, Any], config: Config) -> None:
        self.raw = raw
        self.config = config
        first, last = parse_month(raw["first_month"]), parse_month(raw["last_month"])
        self.months = months_between(first, last)
        self.month_of_year = np.array([m.month - 1 for m in self.months], dtype=np.int64)
        days = [calendar.monthrange(m.year, m.month)[1] for m in self.months]
        self.days_factor: FloatArray = np.array(days, dtype=np.float64) / DAYS_PER_MONTH
        self.years_from_mid_2019: FloatArray = (
            np.arange(len(self.months), dtype=np.float64) - self.index("2019-06") - 0.5
        ) / 12.0
        self.type_names = list(config.taxonomy.crime_types)
        self.outcome_names = list(config.taxonomy.outcomes)
        self.districts = config.force_districts
        self._check_coverage()
        self.type_kinds = [
            raw["crime_types"][t].get("record_kind", "crime") for t in self.type_names
        ]

    @classmethod
    def load(cls, config: Config, path: Path = CALIBRATION_PATH) -> _Calibration:
        with path.open("rb") as handle:
            return cls(tomllib.load(handle), config)

    @property
    def size(self) -> int:
        return len(self.months)

    def index(self, text: str) -> int:
        month = parse_month(text)
        position = (month.year - self.months[0].year) * 12 + month.month - self.months[0].month
        if not 0 <= position < self.size:
            raise CalibrationError(
                f"{CALIBRATION_PATH.name}: month {text} is outside "
                f"{format_month(self.months[0])}..{format_month(self.months[-1])}."
            )
        return position

    def span(self, first: str, last: str) -> IntArray:
        return np.arange(self.index(first), self.index(last) + 1, dtype=np.int64)

    def _check_coverage(self) -> None:
        types = set(self.raw["crime_types"])
        if types != set(self.type_names):
            raise CalibrationError(
                f"{CALIBRATION_PATH.name}: [crime_types] must list exactly the taxonomy's crime "
                f"types; differences: {sorted(types ^ set(self.type_names))}."
            )
        measures = set(self.raw["measures"])
        configured = {m.id for m in self.config.measures}
        if measures != configured:
            raise CalibrationError(
                f"{CALIBRATION_PATH.name}: [measures] must calibrate exactly the measures of "
                f"strategy.toml; differences: {sorted(measures ^ configured)}."
            )
        codes = [d.code for d in self.districts]
        if self.raw["district_counts"]["districts"] != codes:
            raise CalibrationError(
                f"{CALIBRATION_PATH.name}: [district_counts] districts must be the force "
                f"districts in the order of districts.csv: {codes}."
            )

    def season(self, name: str) -> FloatArray:
        profile: FloatArray = np.array(self.raw["seasons"][name], dtype=np.float64)
        scaled: FloatArray = profile / profile.mean()
        return scaled

    def covid(self, name: str) -> FloatArray:
        factors = np.ones(self.size, dtype=np.float64)
        profile = np.array(self.raw["covid"][name], dtype=np.float64)
        start = self.index(self.raw["covid"]["start"])
        factors[start : start + profile.size] = profile
        return factors

    def shape(self, season: str, covid: str, adjust: dict[str, float]) -> FloatArray:
        """Relative monthly volume: season, days in the month, Covid and one-off adjustments."""
        shape = self.season(season)[self.month_of_year] * self.days_factor * self.covid(covid)
        for month, factor in adjust.items():
            shape[self.index(month)] *= factor
        return shape

    def windows(self, measure_id: str) -> list[_Window]:
        windows = [
            _Window(
                self.index(w["first"]),
                self.index(w["last"]) + 1,
                int(w["total"]),
                bool(w.get("exact", False)),
            )
            for w in self.raw["measures"][measure_id]["windows"]
        ]
        exact = sorted((w.start, w.stop) for w in windows if w.exact)
        for (_, stop), (start, _) in zip(exact, exact[1:], strict=False):
            if start < stop:
                raise CalibrationError(
                    f"{CALIBRATION_PATH.name}: measure '{measure_id}': exact windows overlap."
                )
        return windows

    def district_shares(self, profile: str) -> FloatArray:
        if profile == "population":
            counts = np.array([d.population or 0 for d in self.districts], dtype=np.float64)
        else:
            counts = np.array(self.raw["district_counts"][profile], dtype=np.float64)
        return _normalised(counts)

    def outcome_weights(self, profile: str) -> FloatArray:
        weights = np.zeros(len(self.outcome_names), dtype=np.float64)
        for name, weight in self.raw["outcomes"][profile].items():
            weights[self.outcome_names.index(name)] = weight
        return _normalised(weights)

    def type_weights(self, weights: dict[str, float]) -> FloatArray:
        by_type = np.zeros(len(self.type_names), dtype=np.float64)
        for name, weight in weights.items():
            by_type[self.type_names.index(name)] = weight
        return by_type

    def district_weights(self, weights: dict[str, float]) -> FloatArray:
        codes = [d.code for d in self.districts]
        if not weights:
            return np.ones(len(codes), dtype=np.float64)
        return np.array([weights[code] for code in codes], dtype=np.float64)


def _measure_kind(measure: Measure) -> str:
    rule = measure.rule
    if len(rule.crime_types) == 1 and not rule.flags and not rule.outcomes:
        return "crime_type"
    if len(rule.flags) == 1 and not rule.crime_types and not rule.outcomes:
        return "flag"
    if len(rule.flags) == 1 and not rule.crime_types and rule.outcomes:
        return "outcome"
    raise CalibrationError(
        f"Measure '{measure.id}': the demo can calibrate a rule of one crime type, one flag, or "
        "one flag with outcomes, not this one."
    )


def _expected(shape: FloatArray, windows: list[_Window]) -> FloatArray:
    """Scale a shape to the windows' totals, interpolating the level between window midpoints."""
    centres = np.array([(w.start + w.stop - 1) / 2 for w in windows], dtype=np.float64)
    levels = np.array([w.total / shape[w.start : w.stop].sum() for w in windows])
    order = np.argsort(centres)
    positions = np.arange(shape.size, dtype=np.float64)
    level: FloatArray = np.interp(positions, centres[order], levels[order])
    return level * shape


def _draw(expected: FloatArray, windows: list[_Window], rng: np.random.Generator) -> IntArray:
    """Counts around `expected`, summing exactly to the total of every exact window."""
    counts: IntArray = rng.poisson(expected).astype(np.int64)
    for window in windows:
        if window.exact:
            part = expected[window.start : window.stop]
            counts[window.start : window.stop] = rng.multinomial(window.total, part / part.sum())
    return counts


def _rebalance(values: IntArray, total: int, lower: IntArray, upper: IntArray) -> IntArray:
    """`values` moved within [lower, upper] to sum to `total`, changing each as little as fair."""
    if int(lower.sum()) > total or int(upper.sum()) < total:
        raise CalibrationError(f"No monthly counts within the bounds can sum to {total}.")
    result = np.clip(values, lower, upper).astype(np.int64)
    while (gap := total - int(result.sum())) != 0:
        room = upper - result if gap > 0 else result - lower
        step = np.floor(abs(gap) * room / room.sum()).astype(np.int64)
        if int(step.sum()) == 0:
            step = np.zeros_like(room)
            step[np.argsort(-room, kind="stable")[: abs(gap)]] = 1
            step = np.minimum(step, room)
        result += int(np.sign(gap)) * step
    return result


def _exact_window_at(windows: list[_Window], index: int) -> _Window | None:
    return next((w for w in windows if w.exact and w.contains(index)), None)


def _repair_monthly_range(counts: IntArray, spec: dict[str, Any], cal: _Calibration) -> None:
    """Keep every month of the span within [low, high], with both ends reached."""
    span = cal.span(spec["first"], spec["last"])
    low, high = int(spec["low"]), int(spec["high"])
    part = counts[span]
    total = int(part.sum())
    lower, upper = np.full(part.size, low), np.full(part.size, high)
    part = _rebalance(part, total, lower, upper)
    lowest, highest = int(np.argmin(part)), int(np.argmax(part))
    if lowest == highest:
        highest = (lowest + 1) % part.size
    part[lowest], part[highest] = low, high
    rest = np.ones(part.size, dtype=bool)
    rest[[lowest, highest]] = False
    part[rest] = _rebalance(part[rest], total - low - high, lower[rest], upper[rest])
    counts[span] = part


def _set_month(
    counts: IntArray, month: int, wanted: int, windows: list[_Window], fixed: set[int]
) -> None:
    """Set one month's count, taking the difference from the other months of its exact window."""
    window = _exact_window_at(windows, month)
    if window is not None:
        donors = np.array([i for i in range(window.start, window.stop) if i not in fixed])
        total = int(counts[donors].sum()) + int(counts[month]) - wanted
        zeros = np.zeros(donors.size, np.int64)
        counts[donors] = _rebalance(counts[donors], total, zeros, np.full(donors.size, total))
    counts[month] = wanted


def _repair_month_ratios(
    counts: IntArray, rules: list[dict[str, Any]], windows: list[_Window], cal: _Calibration
) -> None:
    """Hold chosen months against others, moving counts only within exact windows."""
    targets = {cal.index(r["month"]) for r in rules}
    references = {cal.index(r["versus"]) for r in rules}
    if targets & references:
        raise CalibrationError("A month cannot be both held and held against in month_ratios.")
    fixed = targets | references
    for month in sorted(targets):
        own = [(r, cal.index(r["versus"])) for r in rules if cal.index(r["month"]) == month]
        low = max([math.ceil(r["min_ratio"] * counts[v]) for r, v in own if "min_ratio" in r] + [0])
        for rule, versus in own:
            # A reference month too low to leave room above `low` is raised first.
            while "max_ratio" in rule and math.floor(rule["max_ratio"] * counts[versus]) < low:
                _set_month(counts, versus, int(counts[versus]) + 1, windows, fixed)
        high = min(
            [math.floor(r["max_ratio"] * counts[v]) for r, v in own if "max_ratio" in r] + [10**9]
        )
        _set_month(counts, month, int(np.clip(counts[month], low, high)), windows, fixed)
    for rule in rules:
        month, versus = counts[cal.index(rule["month"])], counts[cal.index(rule["versus"])]
        if month < rule.get("min_ratio", 0) * versus or month > rule.get("max_ratio", 1e9) * versus:
            raise RuntimeError(f"month_ratios: {rule['month']} against {rule['versus']} failed.")


def _fall_pct(current: int, comparator: int) -> float:
    return round_half_up(100.0 * (1 - current / comparator), 0)


def _repair_window_fall(
    counts: IntArray, spec: dict[str, Any], windows: list[_Window], cal: _Calibration
) -> None:
    """Make one span fall by `pct` per cent against another, adjusting only free months."""
    current = int(counts[cal.span(*spec["current"])].sum())
    comparator_span = cal.span(*spec["comparator"])
    absorb = cal.span(*spec["absorb"])
    if any(_exact_window_at(windows, int(i)) for i in absorb):
        raise CalibrationError("window_fall may only absorb months outside exact windows.")
    wanted = round(current / (1 - spec["pct"] / 100))
    if _fall_pct(current, wanted) != spec["pct"]:
        raise CalibrationError(f"No comparator count gives a {spec['pct']}% fall.")
    total = int(counts[absorb].sum()) + wanted - int(counts[comparator_span].sum())
    zeros = np.zeros(absorb.size, np.int64)
    counts[absorb] = _rebalance(counts[absorb], total, zeros, np.full(absorb.size, total))


def _repair_rate_peak(
    solved: IntArray,
    base: IntArray,
    spec: dict[str, Any],
    windows: list[_Window],
    cal: _Calibration,
) -> None:
    """Give one month the highest solved rate since an earlier peak, keeping window totals."""
    month = cal.index(spec["month"])
    peak = math.ceil(spec["rate"] * base[month])
    rate = peak / base[month]
    compared = np.arange(cal.index(spec["above_from"]), month, dtype=np.int64)
    caps = np.ceil(rate * base - 1e-9).astype(np.int64) - 1
    window = _exact_window_at(windows, month)
    if window is None:
        raise CalibrationError("rate_peak needs its month inside an exact window.")
    inside = np.arange(window.start, window.stop, dtype=np.int64)
    others = inside[inside != month]
    total = int(solved[inside].sum()) - peak
    outside = compared[~np.isin(compared, inside)]
    solved[outside] = np.minimum(solved[outside], caps[outside])
    upper = np.where(np.isin(others, compared), caps[others], base[others])
    solved[others] = _rebalance(solved[others], total, np.zeros(others.size, np.int64), upper)
    solved[month] = peak
    earlier = cal.index(spec["earlier_peak"])
    solved[earlier] = max(int(solved[earlier]), math.ceil(rate * base[earlier]))


def _series(
    measure_id: str,
    shape: FloatArray,
    cal: _Calibration,
    seed: int,
    base: IntArray | None = None,
) -> IntArray:
    """A measure's monthly counts: drawn to its windows, then repaired to honour its facts."""
    spec = cal.raw["measures"][measure_id]
    windows = cal.windows(measure_id)
    counts = _draw(_expected(shape, windows), windows, _rng(seed, f"series:{measure_id}"))
    if "monthly_range" in spec:
        _repair_monthly_range(counts, spec["monthly_range"], cal)
    if "month_ratios" in spec:
        _repair_month_ratios(counts, spec["month_ratios"], windows, cal)
    if "window_fall" in spec:
        _repair_window_fall(counts, spec["window_fall"], windows, cal)
    if "rate_peak" in spec:
        if base is None:
            raise CalibrationError(f"Measure '{measure_id}': rate_peak needs a base series.")
        _repair_rate_peak(counts, base, spec["rate_peak"], windows, cal)
    for window in windows:
        if window.exact and int(counts[window.start : window.stop].sum()) != window.total:
            raise RuntimeError(f"Measure '{measure_id}': a repair broke an exact window.")
    return counts


def _crime_type_counts(cal: _Calibration, seed: int) -> IntArray:
    """Records per month (rows) and crime type (columns, in taxonomy order)."""
    by_type = {
        m.rule.crime_types[0]: m for m in cal.config.measures if _measure_kind(m) == "crime_type"
    }
    counts = np.zeros((cal.size, len(cal.type_names)), dtype=np.int64)
    for column, name in enumerate(cal.type_names):
        spec = cal.raw["crime_types"][name]
        measure = by_type.get(name)
        adjust = cal.raw["measures"][measure.id].get("adjust", {}) if measure else {}
        shape = cal.shape(spec["season"], spec["covid"], adjust)
        if measure is not None:
            if "per_year" in spec:
                raise CalibrationError(
                    f"Crime type '{name}' is counted by measure '{measure.id}'; drop its per_year."
                )
            counts[:, column] = _series(measure.id, shape, cal, seed)
            continue
        if "per_year" not in spec:
            raise CalibrationError(f"Crime type '{name}' needs per_year or a calibrated measure.")
        growth = (1 + spec.get("trend", 0.0)) ** cal.years_from_mid_2019
        expected = spec["per_year"] / 12 * shape * growth
        counts[:, column] = _rng(seed, f"volume:{name}").poisson(expected)
    return counts


def _sample_rows(codes: IntArray, probabilities: FloatArray, rng: np.random.Generator) -> IntArray:
    """For each record's row code, a column drawn from that row of `probabilities`."""
    cumulative = np.cumsum(probabilities, axis=1)
    uniform = rng.random(codes.size)
    drawn = np.zeros(codes.size, dtype=np.int64)
    for row in np.unique(codes):
        members = np.flatnonzero(codes == row)
        drawn[members] = np.searchsorted(cumulative[row], uniform[members], side="right")
    clipped: IntArray = np.minimum(drawn, probabilities.shape[1] - 1)
    return clipped


def _apply_local_events(
    cal: _Calibration,
    month: IntArray,
    crime_type: IntArray,
    district: IntArray,
    rng: np.random.Generator,
) -> None:
    """Move each local event's records into its district from the others, in its month: one
    district stands out while every force-wide figure stays as calibrated."""
    codes = [d.code for d in cal.districts]
    for event in cal.raw.get("local_events", []):
        where = f"{CALIBRATION_PATH.name}: local event {event}"
        try:
            target = codes.index(event["district"])
            kind = cal.type_names.index(event["crime_type"])
            index = cal.index(event["month"])
        except (KeyError, ValueError) as error:
            raise CalibrationError(f"{where}: {error}") from error
        movable = np.flatnonzero((month == index) & (crime_type == kind) & (district != target))
        wanted = int(event["records"])
        if wanted > movable.size:
            raise CalibrationError(f"{where}: only {movable.size} records could move.")
        district[rng.choice(movable, size=wanted, replace=False)] = target


def _build_records(cal: _Calibration, counts: IntArray, seed: int) -> _Records:
    """One record per count, in random order within each month, with district and outcome."""
    months, types = counts.shape
    flat = counts.ravel()
    month = np.repeat(np.repeat(np.arange(months, dtype=np.int64), types), flat)
    crime_type = np.repeat(np.tile(np.arange(types, dtype=np.int64), months), flat)
    rng = _rng(seed, "records")
    order = np.lexsort((rng.random(month.size), month))
    crime_type = crime_type[order]
    specs = [cal.raw["crime_types"][name] for name in cal.type_names]
    shares = np.stack([cal.district_shares(s["districts"]) for s in specs])
    district = _sample_rows(crime_type, shares, rng)
    _apply_local_events(cal, month, crime_type, district, rng)
    profiles = sorted({s["outcomes"] for s in specs if "outcomes" in s})
    weights = np.stack([cal.outcome_weights(p) for p in profiles])
    profile_of_type = np.array(
        [profiles.index(s["outcomes"]) if "outcomes" in s else -1 for s in specs], dtype=np.int64
    )
    record_profile = profile_of_type[crime_type]
    outcome = np.full(month.size, -1, dtype=np.int64)
    has_outcome = record_profile >= 0
    outcome[has_outcome] = _sample_rows(record_profile[has_outcome], weights, rng)
    ageing = cal.raw["outcome_ageing"]
    age = cal.size - 1 - month
    still_open = rng.random(month.size) < ageing["latest"] * ageing["monthly_decay"] ** age
    outcome[has_outcome & still_open] = cal.outcome_names.index("Under investigation")
    offsets = np.concatenate([[0], np.cumsum(counts.sum(axis=1))]).astype(np.int64)
    flags = {name: np.zeros(month.size, dtype=bool) for name in cal.config.taxonomy.flags}
    return _Records(month, crime_type, district, outcome, flags, offsets)


def _shift_factors(
    records: _Records, shifts: list[dict[str, Any]], cal: _Calibration
) -> FloatArray:
    """Per record, how much more likely it is to be flagged from each shift's month on: some
    crime types and districts come to carry more of a measure, its force-wide count unchanged."""
    factors = np.ones(records.size, dtype=np.float64)
    codes = [d.code for d in cal.districts]
    for shift in shifts:
        later = records.month >= cal.index(shift["from"])
        by_type = np.ones(len(cal.type_names), dtype=np.float64)
        for name, factor in shift.get("type_weights", {}).items():
            by_type[cal.type_names.index(name)] = factor
        by_district = np.ones(len(codes), dtype=np.float64)
        for code, factor in shift.get("district_weights", {}).items():
            by_district[codes.index(code)] = factor
        factors[later] *= by_type[records.crime_type[later]] * by_district[records.district[later]]
    return factors


def _set_flag(
    records: _Records, measure: Measure, targets: IntArray, cal: _Calibration, seed: int
) -> None:
    """Flag exactly `targets[m]` eligible crimes in each month m, favouring heavier weights."""
    spec = cal.raw["measures"][measure.id]
    weights = cal.type_weights(spec["eligible"])[records.crime_type]
    weights = weights * cal.district_weights(spec.get("district_weights", {}))[records.district]
    weights = weights * _shift_factors(records, spec.get("shifts", []), cal)
    rng = _rng(seed, f"flag:{measure.id}")
    keys = np.full(records.size, np.inf)
    eligible = weights > 0
    keys[eligible] = rng.exponential(size=int(eligible.sum())) / weights[eligible]
    flag = records.flags[measure.rule.flags[0]]
    for index in range(cal.size):
        part = records.month_slice(index)
        wanted = int(targets[index])
        if wanted == 0:
            continue
        month_keys = keys[part]
        if wanted > int(np.isfinite(month_keys).sum()):
            raise CalibrationError(
                f"Measure '{measure.id}': {format_month(cal.months[index])} has too few eligible "
                f"crimes for {wanted} flags; widen its eligible crime types."
            )
        chosen = np.argpartition(month_keys, wanted - 1)[:wanted]
        flag[part.start + chosen] = True


def _set_outcomes(
    records: _Records, measure: Measure, targets: IntArray, cal: _Calibration, seed: int
) -> None:
    """Give exactly `targets[m]` flagged crimes of month m an outcome the measure counts."""
    spec = cal.raw["measures"][measure.id]
    counted = [cal.outcome_names.index(o) for o in measure.rule.outcomes]
    solved_codes = np.array([cal.outcome_names.index(o) for o in spec["solved"]], dtype=np.int64)
    unsolved_codes = np.array(
        [cal.outcome_names.index(o) for o in spec["unsolved"]], dtype=np.int64
    )
    if not set(solved_codes) <= set(counted) or set(unsolved_codes) & set(counted):
        raise CalibrationError(
            f"Measure '{measure.id}': 'solved' outcomes must be counted by its rule and "
            "'unsolved' ones must not."
        )
    solved_p = np.array(list(spec["solved"].values()), dtype=np.float64)
    unsolved_p = np.array(list(spec["unsolved"].values()), dtype=np.float64)
    flag = records.flags[measure.rule.flags[0]]
    rng = _rng(seed, f"outcome:{measure.id}")
    for index in range(cal.size):
        part = records.month_slice(index)
        members = part.start + np.flatnonzero(flag[part])
        wanted = int(targets[index])
        if wanted > members.size:
            raise CalibrationError(
                f"Measure '{measure.id}': more solved than flagged crimes in "
                f"{format_month(cal.months[index])}."
            )
        members = members[rng.permutation(members.size)]
        chosen, rest = members[:wanted], members[wanted:]
        records.outcome[chosen] = rng.choice(solved_codes, size=wanted, p=solved_p / solved_p.sum())
        rest = rest[np.isin(records.outcome[rest], counted)]
        records.outcome[rest] = rng.choice(
            unsolved_codes, size=rest.size, p=unsolved_p / unsolved_p.sum()
        )


def _monthly_count(records: _Records, measure: Measure, cal: _Calibration) -> IntArray:
    """Count a measure straight from the record arrays, by its rule."""
    rule = measure.rule
    wanted_types = [
        i
        for i, (name, kind) in enumerate(zip(cal.type_names, cal.type_kinds, strict=True))
        if kind == rule.record_kind and (not rule.crime_types or name in rule.crime_types)
    ]
    mask = np.isin(records.crime_type, wanted_types)
    for flag in rule.flags:
        mask &= records.flags[flag]
    if rule.outcomes:
        mask &= np.isin(records.outcome, [cal.outcome_names.index(o) for o in rule.outcomes])
    return np.bincount(records.month[mask], minlength=cal.size).astype(np.int64)


def _generate_records(cal: _Calibration, seed: int) -> _Records:
    """All records, with every measure's monthly counts as calibrated."""
    counts = _crime_type_counts(cal, seed)
    records = _build_records(cal, counts, seed)
    expected: dict[str, IntArray] = {}
    for measure in cal.config.measures:
        kind = _measure_kind(measure)
        if kind == "crime_type":
            expected[measure.id] = counts[:, cal.type_names.index(measure.rule.crime_types[0])]
        elif kind == "flag":
            spec = cal.raw["measures"][measure.id]
            shape = cal.shape(spec["season"], spec["covid"], spec.get("adjust", {}))
            expected[measure.id] = _series(measure.id, shape, cal, seed)
            _set_flag(records, measure, expected[measure.id], cal, seed)
    for measure in cal.config.measures:
        if _measure_kind(measure) == "outcome":
            bases = [
                m.id
                for m in cal.config.measures
                if _measure_kind(m) == "flag" and m.rule.flags == measure.rule.flags
            ]
            if not bases:
                raise CalibrationError(
                    f"Measure '{measure.id}' needs a measure counting its flag on its own."
                )
            base = expected[bases[0]]
            shape = base.astype(np.float64) + 1e-9
            expected[measure.id] = _series(measure.id, shape, cal, seed, base=base)
            _set_outcomes(records, measure, expected[measure.id], cal, seed)
    for measure in cal.config.measures:
        if not np.array_equal(_monthly_count(records, measure, cal), expected[measure.id]):
            raise RuntimeError(f"Measure '{measure.id}': the records do not count as calibrated.")
    return records


def _records_table(records: _Records, cal: _Calibration, seed: int, force: str) -> pa.Table:
    """The records as one Arrow table of RECORD_SCHEMA, month by month."""
    size = records.size
    prefix = cal.raw["record_id_prefix"]
    month_prefixes = pa.array([f"{prefix}-{m.year:04d}{m.month:02d}-" for m in cal.months])
    sequence = np.arange(size, dtype=np.int64) - records.month_offsets[records.month] + 1
    numbers = pc.utf8_lpad(pc.cast(pa.array(sequence), pa.string()), width=6, padding="0")
    record_id = pc.binary_join_element_wise(
        pc.take(month_prefixes, pa.array(records.month)), numbers, ""
    )
    month_starts = np.array([np.datetime64(m, "D") for m in cal.months])
    centroids = np.array(
        [[d.centroid_latitude or 0.0, d.centroid_longitude or 0.0] for d in cal.districts]
    )
    rng = _rng(seed, "locations")
    scatter = rng.standard_normal((size, 2)) * cal.raw["scatter_km"] / KM_PER_DEGREE
    latitude = centroids[records.district, 0] + scatter[:, 0]
    longitude = centroids[records.district, 1] + scatter[:, 1] / np.cos(np.radians(latitude))
    outcome = pa.array(records.outcome, mask=records.outcome < 0)
    columns: dict[str, Any] = {
        "record_id": record_id,
        "force": pa.repeat(force, size),
        "month_start": pa.array(month_starts[records.month], type=pa.date32()),
        "record_kind": pc.take(pa.array(cal.type_kinds), pa.array(records.crime_type)),
        "district_code": pc.take(
            pa.array([d.code for d in cal.districts]), pa.array(records.district)
        ),
        "crime_type": pc.take(pa.array(cal.type_names), pa.array(records.crime_type)),
    }
    columns |= {name: pa.array(values) for name, values in records.flags.items()}
    columns |= {
        "lsoa_code": pa.nulls(size, pa.string()),
        "latitude": pa.array(np.round(latitude, 5)),
        "longitude": pa.array(np.round(longitude, 5)),
        "outcome": pc.take(pa.array(cal.outcome_names), outcome),
    }
    return pa.table([columns[f.name] for f in RECORD_SCHEMA], schema=RECORD_SCHEMA)


def _random_month(rng: np.random.Generator, first: date, last: date) -> date:
    span = (last.year - first.year) * 12 + last.month - first.month
    return add_months(first, int(rng.integers(0, span + 1)))


@dataclass(frozen=True)
class _Action:
    strand_id: str
    title: str
    started: date
    target: date
    completed: date | None


def _delivery_actions(cal: _Calibration, seed: int) -> list[_Action]:
    """Each strand's actions, complete and ongoing at the final quarter as calibrated."""
    spec = cal.raw["delivery"]
    final = parse_month(spec["quarters"][-1])
    recent_from = add_months(final, -5)
    completed_from = parse_month(spec["completed_from"])
    started_from = parse_month(spec["started_from"])
    due_by = parse_month(spec["due_by"])
    scopes = list(spec["scopes"]) + [d.name for d in cal.districts]
    actions: list[_Action] = []
    for strand in cal.config.strands:
        plan = spec["strands"][strand.id]
        if plan["complete"] + plan["ongoing"] != plan["total"]:
            raise CalibrationError(f"Delivery plan '{strand.id}': complete + ongoing != total.")
        rng = _rng(seed, f"delivery:{strand.id}")
        titles = [f"{theme}: {scope}" for theme in plan["themes"] for scope in scopes]
        if len(titles) < plan["total"]:
            raise CalibrationError(f"Delivery plan '{strand.id}': too few themes for its actions.")
        titles = [titles[i] for i in rng.permutation(len(titles))[: plan["total"]]]
        is_complete = rng.permutation([True] * plan["complete"] + [False] * plan["ongoing"])
        strand_actions = []
        for title, complete in zip(titles, is_complete, strict=True):
            if complete:
                if rng.random() < spec["recent_share"]:
                    completed = _random_month(rng, recent_from, final)
                else:
                    completed = _random_month(rng, completed_from, add_months(recent_from, -1))
                started = max(add_months(completed, -int(rng.integers(1, 10))), started_from)
                target = max(add_months(completed, int(rng.integers(-2, 3))), started)
                strand_actions.append(_Action(strand.id, title, started, target, completed))
            else:
                started = _random_month(rng, started_from, final)
                if rng.random() < spec["due_soon_share"]:
                    target = _random_month(rng, add_months(final, 1), add_months(final, 6))
                else:
                    target = _random_month(rng, add_months(final, 7), due_by)
                strand_actions.append(_Action(strand.id, title, started, target, None))
        actions += sorted(strand_actions, key=lambda a: (a.started, a.title))
    return actions


def _delivery_statuses(
    actions: list[_Action], cal: _Calibration, seed: int
) -> list[tuple[int, date, str]]:
    """Each action's status at each quarter end: (action position, quarter end, status)."""
    spec = cal.raw["delivery"]
    quarters = [parse_month(q) for q in spec["quarters"]]
    risk_quarters = [parse_month(q) for q in spec["at_risk_quarters"]]
    rng = _rng(seed, "delivery:status")
    statuses = []
    for position, action in enumerate(actions):
        open_then = [
            q
            for q in risk_quarters
            if action.started <= q and (action.completed is None or action.completed > q)
        ]
        at_risk = None
        if open_then and rng.random() < spec["at_risk_share"]:
            at_risk = open_then[int(rng.integers(0, len(open_then)))]
        for quarter in quarters:
            if action.completed is not None and action.completed <= quarter:
                status = "complete"
            elif action.started > quarter:
                status = "not started"
            elif quarter == at_risk:
                status = "at risk"
            else:
                status = "ongoing"
            statuses.append((position, quarter, status))
    return statuses


def _write_csv(path: Path, header: Sequence[str], rows: list[list[str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def _write_delivery(root: Path, cal: _Calibration, seed: int) -> int:
    actions = _delivery_actions(cal, seed)
    prefixes = {s: p["prefix"] for s, p in cal.raw["delivery"]["strands"].items()}
    numbers: dict[str, int] = {}
    ids = []
    for action in actions:
        numbers[action.strand_id] = numbers.get(action.strand_id, 0) + 1
        ids.append(f"{prefixes[action.strand_id]}-{numbers[action.strand_id]:03d}")
    action_rows = [
        [
            action_id,
            a.strand_id,
            a.title,
            format_month(a.target),
            format_month(a.completed) if a.completed else "",
        ]
        for action_id, a in zip(ids, actions, strict=True)
    ]
    status_rows = [
        [ids[position], format_month(quarter), status]
        for position, quarter, status in _delivery_statuses(actions, cal, seed)
    ]
    folder = root / "delivery"
    header = ["action_id", "strand_id", "title", "target_month", "completed_month"]
    _write_csv(folder / "actions.csv", header, action_rows)
    _write_csv(folder / "status.csv", ["action_id", "quarter_end", "status"], status_rows)
    return len(actions)


def _write_activity(root: Path, cal: _Calibration) -> None:
    spec = cal.raw["activity"]
    rows = [
        [
            group["strand_id"],
            group["operation"],
            group["period_label"],
            spec["period_end"],
            metric,
            str(value),
            unit,
        ]
        for group in spec["metrics"]
        for metric, value, unit in group["metrics"]
    ]
    header = ["strand_id", "operation", "period_label", "period_end", "metric", "value", "unit"]
    _write_csv(root / "activity" / "metrics.csv", header, rows)


def _write_commentary(root: Path, cal: _Calibration) -> None:
    rows = [
        [c["strand_id"], c["period"], " ".join(c["text"].split())] for c in cal.raw["commentary"]
    ]
    _write_csv(root / "commentary" / "commentary.csv", ["strand_id", "period", "commentary"], rows)


def _log_demo(root: Path, cal: _Calibration, rows: int, seconds: float) -> None:
    """Enter the demo in the import log, so the Data page says where the records came from."""
    months = [format_month(m) for m in cal.months]
    summary = ImportSummary(kind="demo", data_dir=str(root), seconds=seconds)
    summary.files.append(FileReport(file="crimeprev demo", rows_read=rows, rows_loaded=rows))
    summary.months_written = months
    record_months(summary, cal.months)
    save_import(root, summary, None)


def generate_demo(root: Path, seed: int = 2022, force: str = "Essex Police") -> DemoSummary:
    """Write a complete demo data folder under `root`, replacing any earlier demo data there."""
    started = time.perf_counter()
    root.mkdir(parents=True, exist_ok=True)
    cal = _Calibration.load(load_config(root / "config"))
    records = _generate_records(cal, seed)
    table = _records_table(records, cal, seed, force)
    # Only now that the new records exist, so a failed run leaves the folder as it was.
    for folder in DEMO_FOLDERS:
        shutil.rmtree(root / folder, ignore_errors=True)
    for index, month in enumerate(cal.months):
        part = records.month_slice(index)
        write_month(root, month, table.slice(part.start, part.stop - part.start))
    actions = _write_delivery(root, cal, seed)
    _write_activity(root, cal)
    _write_commentary(root, cal)
    build_aggregates(root)
    kinds = pc.value_counts(table["record_kind"]).to_pylist()
    by_kind = {row["values"]: row["counts"] for row in kinds}
    _log_demo(root, cal, table.num_rows, time.perf_counter() - started)
    return DemoSummary(
        root=root,
        seed=seed,
        months_written=cal.size,
        records_written=table.num_rows,
        crimes_written=by_kind.get("crime", 0),
        incidents_written=by_kind.get("incident", 0),
        asb_written=by_kind.get("asb", 0),
        actions_written=actions,
        seconds_taken=time.perf_counter() - started,
    )
