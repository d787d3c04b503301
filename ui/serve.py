"""Start the dashboard warm: its heavy modules imported and its data opened before Streamlit's
server listens, so the first visitor waits for their own page only, and `/_stcore/health`
answers once the process is ready for them.

    python -m ui.serve [streamlit run options...]      # what `make run` and `make serve` use

A session's script runs in the same process, so the modules imported here and the database
`ui.cached.database_for` opens here (a `st.cache_resource`, process-wide) are the ones its
first run finds.
The server is then started through Streamlit's own command line, as `streamlit run app.py`.
"""

from __future__ import annotations

import ast
import importlib
import logging
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app.py"
PAGES = APP.parent / "pages"
# Imported inside the functions that use them, so a page's import would not find them: the
# exact tests on the overview and signals pages (scipy.stats) and the deck's libraries.
LAZY_MODULES = ("scipy.stats", "pptx", "xlsxwriter", "vl_convert")


def page_modules() -> list[str]:
    """The modules `app.py` and every page import, read from their source."""
    names: list[str] = []
    for script in [APP, *sorted(PAGES.glob("*.py"))]:
        tree = ast.parse(script.read_text(encoding="utf-8"), filename=str(script))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.extend(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names.append(node.module)
                names.extend(f"{node.module}.{alias.name}" for alias in node.names)
    return list(dict.fromkeys(names))


def _import_all(names: list[str]) -> None:
    for name in names:
        try:
            importlib.import_module(name)
        except ImportError:
            pass  # `from package import name` names an attribute, not a module


def _warm_altair() -> None:
    """Altair loads and compiles the Vega-Lite schema the first time a chart is validated."""
    import altair as alt
    import pandas as pd

    alt.Chart(pd.DataFrame({"month": [1, 2], "count": [3, 4]})).mark_line().encode(
        x="month:Q", y="count:Q"
    ).to_dict()


@contextmanager
def _outside_a_session() -> Iterator[None]:
    """Streamlit warns that cached functions run here have no session; that is the point."""
    logging.disable(logging.WARNING)
    try:
        yield
    finally:
        logging.disable(logging.NOTSET)


def preload() -> dict[str, float]:
    """Import what the pages use and open the data folder's database; seconds per step."""
    from crimeprev.figures.insight import covered_months, data_forces
    from crimeprev.store import data_dir, has_records
    from ui import cached

    seconds: dict[str, float] = {}
    started = time.perf_counter()
    with _outside_a_session():
        _import_all(page_modules() + list(LAZY_MODULES))
        _warm_altair()
        seconds["modules"] = time.perf_counter() - started
        started = time.perf_counter()
        root = data_dir()
        if has_records(root):
            try:
                db = cached.database_for(str(root), cached.data_version(root))
                # The frame's first queries: they read the files' metadata into DuckDB's cache.
                covered_months(db)
                data_forces(db)
            except Exception as error:  # the first session shows the sentence for it
                print(f"The data in {root} was not opened ahead: {error}", file=sys.stderr)
        seconds["data"] = time.perf_counter() - started
    return seconds


def _seconds_since_start() -> float | None:
    """How long ago this process started (Linux), so the imports before `main` count too."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return uptime - ticks / os.sysconf("SC_CLK_TCK")


def main(argv: list[str] | None = None) -> None:
    arguments = sys.argv[1:] if argv is None else argv
    steps = preload()
    since = _seconds_since_start()
    done = ", ".join(f"{name} {value:.1f} s" for name, value in steps.items())
    total = f" {since:.1f} s after start" if since is not None else ""
    print(f"Ready{total} ({done})", file=sys.stderr, flush=True)
    from streamlit.web import cli

    cli.main.main(args=["run", str(APP), *arguments], prog_name="streamlit")


if __name__ == "__main__":
    main()
