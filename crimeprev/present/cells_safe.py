"""Text from imported files leaves the dashboard as data, never as a formula or a link.

A spreadsheet treats a cell beginning with `=`, `+`, `-` or `@` (or a tab or carriage return
before one) as a formula, so a delivery title such as `=HYPERLINK("http://…")` would run when
a CSV download is opened. OWASP's advice on CSV injection is followed: such a cell is written
with a leading apostrophe, which spreadsheets show as text and do not evaluate. In a workbook
the cell is typed as text instead; on a page, text is shown with its markdown escaped, so a
URL in a title is shown and not linked.
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Characters markdown gives a meaning to; a backslash before each shows it as itself. The
# dot and colon are escaped too, which stops `www.` and `http://` from becoming links.
MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-!|~.:$])")


def is_formula_like(value: Any) -> bool:
    """Whether a spreadsheet would read this value as a formula if written as it is."""
    return isinstance(value, str) and value.startswith(FORMULA_STARTS)


def neutralise(value: Any) -> Any:
    """The value as a spreadsheet cell that can only be text: a formula-like text gets a
    leading apostrophe; everything else is returned unchanged."""
    return "'" + value if is_formula_like(value) else value


def safe_table(table: pd.DataFrame) -> pd.DataFrame:
    """The table with every text cell neutralised (numbers and dates are left alone)."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(neutralise)
    safe.columns = [neutralise(str(c)) if is_formula_like(c) else c for c in safe.columns]
    return safe


def csv_bytes(table: pd.DataFrame) -> bytes:
    """The table as UTF-8 CSV that a spreadsheet opens without running anything in it."""
    text: str = safe_table(table).to_csv(index=False)
    return text.encode("utf-8")


def markdown_text(text: str) -> str:
    """Text to show through markdown exactly as written: no emphasis, headings or links."""
    return MARKDOWN_SPECIAL.sub(r"\\\1", text)
