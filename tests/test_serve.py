"""Serving past one process: `make serve` (deploy/serve.py) behind nginx, and the workers'
read-only view of the data folder.

The end-to-end test starts two workers and nginx on loopback, opens the dashboard through nginx
in Chromium and reads nginx's own access log to see which worker answered each request of that
browser. It needs Debian's nginx (`make nginx`) and Chromium; without them it is skipped with a
message, and under CI=true it fails instead.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser

from crimeprev.aggregate import open_database
from crimeprev.db import DataUnreadable
from crimeprev.store import READ_ONLY_VARIABLE, REPOSITORY_ROOT
from deploy.serve import (
    ServeError,
    listen_address,
    nginx_binary,
    nginx_config,
    sign_in_configured,
)

CHART = ".vega-embed canvas, .vega-embed svg"
LOG_LINE = re.compile(
    r'"(?P<method>\S+) (?P<path>\S+) [^"]*" (?P<status>\d+) worker=(?P<worker>\S+)'
)


def _nginx() -> str:
    found = nginx_binary()
    if found is None:
        message = "nginx is not installed: `make nginx` installs Debian's package as root."
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " Under CI a skipped test counts as a failure.")
        pytest.skip(message)
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _snapshot(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_mtime_ns for p in sorted(root.rglob("*"))}


def test_a_read_only_process_refuses_stale_tables_and_writes_nothing(
    demo_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "data"
    shutil.copytree(demo_root, root)
    (root / "aggregates" / "manifest.json").unlink()
    before = _snapshot(root)
    monkeypatch.setenv(READ_ONLY_VARIABLE, "1")
    with pytest.raises(DataUnreadable, match="do not match the records"):
        open_database(root)
    assert _snapshot(root) == before
    monkeypatch.delenv(READ_ONLY_VARIABLE)
    open_database(root)  # a writer brings them up to date
    assert (root / "aggregates" / "manifest.json").is_file()
    monkeypatch.setenv(READ_ONLY_VARIABLE, "1")
    settled = _snapshot(root)
    open_database(root).connection.execute("select count(*) from records").fetchone()
    assert _snapshot(root) == settled


def test_listening_beyond_loopback_needs_sign_in(tmp_path: Path) -> None:
    assert listen_address("127.0.0.1", 8501, signed_in=False) == "127.0.0.1:8501"
    assert listen_address("::1", 8501, signed_in=False) == "[::1]:8501"
    with pytest.raises(ServeError, match="Refusing to listen on 0.0.0.0"):
        listen_address("0.0.0.0", 8501, signed_in=False)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[connections.x]\nurl = "y"\n', encoding="utf-8")
    assert not sign_in_configured((secrets,))
    secrets.write_text(
        '[auth]\nredirect_uri = "http://x/oauth2callback"\ncookie_secret = "s"\n',
        encoding="utf-8",
    )
    assert sign_in_configured((secrets,))
    assert listen_address("0.0.0.0", 8501, signed_in=True) == "0.0.0.0:8501"


def test_the_nginx_configuration_is_accepted_by_nginx(tmp_path: Path) -> None:
    nginx = _nginx()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(tmp_path, "127.0.0.1:1", [2, 3, 4]), encoding="utf-8")
    checked = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(config)], capture_output=True, text=True
    )
    assert checked.returncode == 0, checked.stderr
    text = config.read_text(encoding="utf-8")
    assert [f"127.0.0.1:{p}" for p in (2, 3, 4)] == re.findall(r"server (\S+);", text)


@pytest.fixture(scope="module")
def proxied(
    demo_root: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """`python -m deploy.serve --workers 2` on the demo extract; its address and run folder."""
    _nginx()
    run_dir = tmp_path_factory.mktemp("serve")
    port = _free_port()
    output = (run_dir / "serve.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "deploy.serve", "--workers", "2", "--port", str(port)]
        + ["--run-dir", str(run_dir)],
        cwd=REPOSITORY_ROOT,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(demo_root)},
        stdout=output,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while True:
        try:
            with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output.close()
            pytest.fail("make serve did not start:\n" + (run_dir / "serve.log").read_text())
        time.sleep(0.5)
    try:
        yield base, run_dir
    finally:
        process.terminate()
        process.wait(timeout=60)
        output.close()


def _requests_of(log: Path, key: str) -> list[re.Match[str]]:
    """The access log's lines for one browser, once its websocket's line is written (nginx
    writes it when the connection closes)."""
    deadline = time.monotonic() + 20
    while True:
        lines = [
            match
            for line in log.read_text().splitlines()
            if line.endswith(f"key={key}") and (match := LOG_LINE.search(line))
        ]
        if any(line["path"] == "/_stcore/stream" for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.5)


@pytest.mark.browser
def test_a_browser_session_through_nginx_sticks_to_one_worker(
    proxied: tuple[str, Path], browser: Browser
) -> None:
    base, run_dir = proxied
    assert base.startswith("http://127.0.0.1:")
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.set_default_timeout(180_000)
        page.goto(f"{base}/strand?strand=knife-crime")
        page.locator(CHART).first.wait_for(state="visible")
        menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink")
        menu.get_by_text("Delivery plan").click()
        page.get_by_test_id("stMain").get_by_role("heading", name="Delivery plan").wait_for()
        key = next(c["value"] for c in context.cookies() if c["name"] == "crimeprev_worker")
    finally:
        context.close()
    lines = _requests_of(run_dir / "access.log", key)
    paths = [line["path"] for line in lines]
    assert any(p.startswith("/strand") for p in paths), paths
    streams = [line for line in lines if line["path"] == "/_stcore/stream"]
    assert streams and all(line["status"] == "101" for line in streams), paths
    assert len({line["worker"] for line in lines}) == 1, [
        (line["path"], line["worker"]) for line in lines
    ]


PRELOAD_CHILD = r"""
import json, sys
import ui.cached
import ui.serve
from crimeprev.store import data_dir
opened = []
real = ui.cached.open_database
ui.cached.open_database = lambda root: opened.append(str(root)) or real(root)
steps = ui.serve.preload()
by_preload = list(opened)
heavy = ["pandas", "altair", "scipy.stats", "duckdb", "pyarrow", "crimeprev.figures.explore"]
root = data_dir()
ui.cached.database_for(str(root), ui.cached.data_version(root))  # the first session's frame
imported = [m for m in heavy if m in sys.modules]
print(json.dumps({"by_preload": by_preload, "opened": opened, "imported": imported}))
"""


def test_the_warm_start_imports_the_heavy_modules_and_opens_the_data_once(demo_root: Path):
    output = subprocess.run(
        [sys.executable, "-c", PRELOAD_CHILD],
        cwd=REPOSITORY_ROOT,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(demo_root)},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["by_preload"] == [str(demo_root)]
    assert result["opened"] == [str(demo_root)]  # the first session found it open
    assert result["imported"] == [
        "pandas",
        "altair",
        "scipy.stats",
        "duckdb",
        "pyarrow",
        "crimeprev.figures.explore",
    ]
