"""The layers stay apart: the core runs without the UI, and pages hold no SQL or database code."""

import re
import subprocess
import sys
from pathlib import Path

from crimeprev.store import REPOSITORY_ROOT

UI_FILES = [
    REPOSITORY_ROOT / "app.py",
    *sorted((REPOSITORY_ROOT / "ui").rglob("*.py")),
    *sorted((REPOSITORY_ROOT / "pages").rglob("*.py")),
]


def test_the_core_never_imports_streamlit():
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        capture_output=True,
        text=True,
        cwd=REPOSITORY_ROOT,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "never imports the UI framework KEPT" in result.stdout


def test_the_core_imports_in_a_process_without_streamlit():
    code = (
        "import sys; sys.modules['streamlit'] = None\n"
        "import crimeprev.cli, crimeprev.figures.insight, crimeprev.figures.delivery\n"
        "import crimeprev.demo.generator, crimeprev.present.charts, crimeprev.figures.overview\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_pages_hold_no_sql_and_no_database_code():
    assert len(UI_FILES) >= 5
    sql = re.compile(r"\b(select|SELECT)\b.+\b(from|FROM)\b")
    for path in UI_FILES:
        text = path.read_text()
        assert not re.search(r"^\s*(import duckdb|from duckdb)", text, re.MULTILINE), path.name
        assert not sql.search(text), f"{path.name} holds SQL: queries belong in queries/"
