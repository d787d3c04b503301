"""Small-number suppression: for a viewer, in the sensitive strands, a count under the threshold
is never shown; it reads "fewer than 10" instead (the strands and the threshold are
`[map] sensitive_strands` and `sensitive_min_count` in strategy.toml, the same that keep small
hotspot cells off the map).

One function, `suppress`, takes whatever a figure function or the report collection returns (a
table, a chart, a dataclass of them, lists and dicts of them) and gives back the same shape
with every small count of a sensitive row replaced, and the differences and percentages of such
a row, which would give the count away, left out. A row is sensitive when its strand, measure
or crime type belongs to a sensitive strand, or, for a table with none of those columns, when
the call it came from asked about one.
"""

from __future__ import annotations

import dataclasses
import math
import re
from dataclasses import dataclass
from typing import Any

import altair as alt
import pandas as pd

from crimeprev.config import Config
from crimeprev.view import View

COUNT_SUFFIXES = ("_count",)
COUNT_PREFIXES = ("count_",)
NOT_COUNTS = frozenset(
    {"count_months", "count_fields", "count_versions", "count_rows", "tests_count"}
)
# Columns derived from a row's counts, which give a suppressed count away.
DERIVED = ("diff", "pct_change", "change_", "rate_ratio", "small_counts", "excess_", "expected_")
# Whole-number columns that count something other than records (delivery actions, order).
NOT_COUNT_PREFIXES = ("actions_", "strand_", "measure_", "rows_")
NOT_COUNT_SUFFIXES = ("_order", "_year", "population", "_id", "_number", "_gbp", "_months")
NOT_SHOWN = "not shown"
SMALL_NUMBER = re.compile(r"(?<![\w.,])([1-9])(?![\w.,%])")


@dataclass(frozen=True)
class Suppression:
    """What counts as sensitive under one configuration, and the threshold."""

    threshold: int
    strands: frozenset[str]
    measures: frozenset[str]
    crime_types: frozenset[str]
    names: tuple[str, ...]

    @classmethod
    def of(cls, config: Config) -> Suppression:
        strands = frozenset(config.map.sensitive_strands)
        measures = [m for m in config.measures if m.strand_id in strands]
        return cls(
            threshold=config.map.sensitive_min_count,
            strands=strands,
            measures=frozenset(m.id for m in measures),
            crime_types=frozenset(t for m in measures for t in m.rule.crime_types),
            names=tuple(
                [config.strand(s).name for s in strands if s in {x.id for x in config.strands}]
                + [m.name for m in measures]
            ),
        )

    @property
    def label(self) -> str:
        """How a suppressed count reads: `fewer than 10`."""
        return f"fewer than {self.threshold}"

    def mentions(self, values: Any) -> bool:
        """Whether any of `values` (call arguments) names a sensitive strand or measure."""
        stack = [values]
        while stack:
            value = stack.pop()
            if isinstance(value, str):
                if value in self.strands or value in self.measures or value in self.crime_types:
                    return True
            elif dataclasses.is_dataclass(value) and not isinstance(value, type):
                stack.extend(getattr(value, f.name) for f in dataclasses.fields(value))
            elif isinstance(value, dict):
                stack.extend(value.values())
            elif isinstance(value, list | tuple | set | frozenset):
                stack.extend(value)
        return False


def is_count_column(name: str) -> bool:
    """Whether a column holds counts of records, by its name."""
    return name not in NOT_COUNTS and (
        name == "count" or name.startswith(COUNT_PREFIXES) or name.endswith(COUNT_SUFFIXES)
    )


def _count_columns(frame: pd.DataFrame) -> list[Any]:
    """Columns named as counts and, in a table that has one, whole-number columns named
    otherwise (Explore's month and quarter columns), except those plainly not counts."""
    named = [c for c in frame.columns if is_count_column(str(c))]
    if not named:
        return []
    found = []
    for column in frame.columns:
        name = str(column)
        if (
            name in NOT_COUNTS
            or name.endswith(NOT_COUNT_SUFFIXES)
            or name.startswith(DERIVED + NOT_COUNT_PREFIXES)
        ):
            continue
        if is_count_column(name) or pd.api.types.is_integer_dtype(frame[column].dtype):
            found.append(column)
    return found


def _small(value: Any, threshold: int) -> bool:
    if value is None or isinstance(value, bool | str):
        return False
    try:
        number = float(value)
    except (TypeError, ValueError):
        return False
    return not math.isnan(number) and 0 < number < threshold


def _sensitive_rows(frame: pd.DataFrame, rules: Suppression, whole: bool) -> pd.Series:
    rows = pd.Series(False, index=frame.index)
    found = False
    for column, values in (
        ("strand_id", rules.strands),
        ("strand", rules.strands),
        ("measure_id", rules.measures),
        ("measure", rules.measures),
        ("crime_type", rules.crime_types),
    ):
        if column in frame.columns:
            found = True
            rows |= frame[column].isin(values)
    return rows if found else pd.Series(whole, index=frame.index)


def suppress_frame(
    frame: pd.DataFrame, rules: Suppression, whole: bool = False, marker: Any = None
) -> pd.DataFrame:
    """`frame` with each small count of a sensitive row replaced by `marker` (the label
    `fewer than N` unless given) and that row's derived columns left out. `whole` says the
    table as a whole is about a sensitive strand (for tables with no strand column)."""
    counts = _count_columns(frame)
    if not counts or frame.empty:
        return frame
    sensitive = _sensitive_rows(frame, rules, whole)
    if not sensitive.any():
        return frame
    small = pd.DataFrame(
        {c: frame[c].map(lambda v: _small(v, rules.threshold)) for c in counts}, index=frame.index
    ).mul(sensitive, axis=0)
    if not small.to_numpy().any():
        return frame
    shown = frame.copy()
    label = rules.label if marker is None else marker
    hidden_rows = small.any(axis=1)
    for column in counts:
        if small[column].any():
            shown[column] = shown[column].astype(object)
            shown.loc[small[column], column] = label
    for column in shown.columns:
        if str(column).startswith(DERIVED) and hidden_rows.any():
            if pd.api.types.is_numeric_dtype(shown[column].dtype):
                # Left empty rather than written over, so the column stays numeric.
                shown[column] = shown[column].astype("float64")
                shown.loc[hidden_rows, column] = math.nan
            else:
                shown[column] = shown[column].astype(object)
                shown.loc[hidden_rows, column] = NOT_SHOWN if marker is None else marker
    return shown


def suppress_text(text: str, rules: Suppression) -> str:
    """A sentence naming a sensitive strand or measure with a number under the threshold in
    it, replaced by one saying such figures are not shown."""
    if not any(name in text for name in rules.names):
        return text
    small = [int(m) for m in SMALL_NUMBER.findall(text)]
    if not any(0 < n < rules.threshold for n in small):
        return text
    return f"A figure under {rules.threshold} in a sensitive strand is not shown here."


def suppress(value: Any, rules: Suppression, whole: bool = False, marker: Any = None) -> Any:
    """`value` with every small sensitive count replaced, whatever its shape: tables, charts
    (their data), dataclasses, lists, tuples and dicts of them, and sentences."""
    if isinstance(value, pd.DataFrame):
        return suppress_frame(value, rules, whole, marker)
    if isinstance(value, Config | View) or type(value).__module__ == "crimeprev.config":
        return value
    if isinstance(value, str):
        return suppress_text(value, rules)
    if isinstance(value, alt.TopLevelMixin | alt.Chart | alt.LayerChart):
        return _suppress_chart(value, rules, whole, marker)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: suppress(getattr(value, f.name), rules, whole, marker)
            for f in dataclasses.fields(value)
            if f.init
        }
        return dataclasses.replace(value, **changes)
    if isinstance(value, list):
        return [suppress(v, rules, whole, marker) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(suppress(v, rules, whole, marker) for v in value)
    if isinstance(value, dict):
        return {k: suppress(v, rules, whole, marker) for k, v in value.items()}
    return value


def _suppress_chart(chart: Any, rules: Suppression, whole: bool, marker: Any) -> Any:
    """A copy of the chart drawing suppressed data: a small count is not drawn at all."""
    copy = chart.copy(deep=False)
    if isinstance(getattr(copy, "data", None), pd.DataFrame):
        copy.data = suppress_frame(copy.data, rules, whole, math.nan if marker is None else marker)
    for part in ("layer", "hconcat", "vconcat", "concat"):
        children = getattr(copy, part, alt.Undefined)
        if isinstance(children, list):
            setattr(copy, part, [_suppress_chart(c, rules, whole, marker) for c in children])
    return copy


_rules: dict[str, Suppression] = {}


def rules_for(config: Config) -> Suppression:
    """The suppression rules of a configuration, worked out once per configuration."""
    if config.fingerprint not in _rules:
        _rules[config.fingerprint] = Suppression.of(config)
    return _rules[config.fingerprint]
