"""How every surface writes a number or a month: the pages, the charts, the command line's
tables and the exports all call these, so that `2,813`, `+374`, `+13.3%` and `Sep 2022` read the
same everywhere.

The Vega-Lite format strings beside them say the same thing to a chart's axes and tooltips.
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

import pandas as pd

from crimeprev.periods import format_pct, month_label, month_long_label

# d3-format and d3-time-format strings for charts, matching the functions below.
VEGA_COUNT = ",.0f"
VEGA_SIGNED_COUNT = "+,.0f"
VEGA_RATE = ",.2f"
VEGA_MONTH = "%b %Y"
VEGA_MONTH_LONG = "%B %Y"


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return math.isnan(float(value))
    except (TypeError, ValueError):
        return False


def count_text(value: Any, blank: str = "") -> str:
    """A count or amount with thousands separators: `2,813`, `188,800`; `blank` when none."""
    if _missing(value):
        return blank
    number = float(value)
    return f"{number:,.0f}" if number.is_integer() else f"{number:,.1f}"


def signed_count_text(value: Any, blank: str = "") -> str:
    """A difference with its sign and separators: `+374`, `-1,198`, `0`; `blank` when none."""
    if _missing(value):
        return blank
    number = int(round(float(value)))
    return f"{number:+,d}" if number else "0"


def pct_change_text(value: Any, blank: str = "") -> str:
    """A % change with its sign and % sign: `+47.1%`, `-7.6%`; `blank` when none."""
    if _missing(value):
        return blank
    return format_pct(float(value))


def pct_text(value: Any, places: int = 0, blank: str = "") -> str:
    """A share written as a percentage, unsigned: `62%`, `13.3%` (from 62, 13.3)."""
    if _missing(value):
        return blank
    return f"{float(value):,.{places}f}%"


def rate_text(value: Any, blank: str = "") -> str:
    """A rate to two places with separators: `12.35`."""
    if _missing(value):
        return blank
    return f"{float(value):,.2f}"


def month_text(month: date) -> str:
    """A month as every table, axis and heading writes it: `Sep 2022`."""
    return month_label(month)


def month_long_text(month: date) -> str:
    """A month as a sentence says it: `September 2022`."""
    return month_long_label(month)


def people_text(value: Any, noun: str = "residents") -> str:
    """A population with its noun: `188,800 residents`."""
    return f"{count_text(value, blank='unknown')} {noun}"


def vega_pct_change(field: str = "pct_change") -> str:
    """A Vega expression writing a chart's % change as `pct_change_text` does (`+47.1%`, blank
    when none), for a tooltip through `transform_calculate`."""
    value = f"datum[{field!r}]"
    return f"{value} == null || !isFinite({value}) ? '' : format({value}, '+.1f') + '%'"
