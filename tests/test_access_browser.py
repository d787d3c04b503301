"""Sign-in against a real OpenID Connect provider (oidc-provider-mock on a loopback port), in
Chromium: an unsigned browser sees the sign-in screen and nothing else on every URL; a viewer,
an analyst and an admin each see their part of every page; local mode serves loopback only."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import werkzeug.serving
from browser_support import RENDER_TIMEOUT_MS, _free_port
from oidc_provider_mock import User, app
from playwright.sync_api import Browser, Page, expect

from crimeprev.store import REPOSITORY_ROOT

pytestmark = pytest.mark.browser

PEOPLE = {
    "viewer": User(
        sub="vera.viewer@force.example",
        claims={"email": "vera.viewer@force.example", "roles": ["CrimePrev.Viewer"]},
    ),
    "analyst": User(
        sub="ali.analyst@force.example",
        claims={"email": "ali.analyst@force.example", "roles": ["CrimePrev.Analyst"]},
    ),
    "admin": User(
        sub="ada.admin@force.example",
        claims={
            "email": "ada.admin@force.example",
            "roles": ["CrimePrev.Viewer", "CrimePrev.Admin"],
        },
    ),
    "nobody": User(
        sub="nick.nobody@force.example",
        claims={"email": "nick.nobody@force.example", "roles": ["Somewhere.Else"]},
    ),
}
PAGES = {
    "overview": "Overview",
    "strand": "Strands",
    "delivery": "Delivery plan",
    "signals": "Signals",
    "explore": "Explore",
    "map": "District map",
    "compare": "How we compare",
    "sql": "SQL",
    "report": "Report",
    "data": "Data",
}
UNSIGNED_URLS = [
    "/",
    "/overview",
    "/strand?strand=rape&district=castle-point",
    "/explore?measure=rape&by=lsoa",
    "/sql?q=select+record_id,latitude,longitude+from+records+where+crime_type='Rape'",
    "/data",
    "/report",
    "/map",
    "/signals",
    "/delivery",
    "/no-such-page",
]


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
    """The OpenID Connect provider, holding the four people above, on a loopback port."""
    server = werkzeug.serving.make_server(
        "127.0.0.1", 0, app(user_claims=list(PEOPLE.values())), threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1})
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def _serve(
    root: Path, log_dir: Path, extra: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """`streamlit run` on a free port with `extra` options; fails the test if it stops."""
    try:
        return _start(root, log_dir, _free_port(), extra, env)
    except OSError as stopped:
        pytest.fail(str(stopped))


@contextlib.contextmanager
def signed_in_app(root: Path, folder: Path, provider: str, audit_dir: Path) -> Iterator[str]:
    """`streamlit run` over `root` with `[auth]` pointing at the provider, its log and secrets
    in `folder`, its audit trail in `audit_dir`; yields its base URL and stops it after."""
    secrets_file = folder / "secrets.toml"
    process = None
    for _attempt in range(3):
        port = _free_port()
        secrets_file.write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            'client_id = "crimeprev-dashboard"\n'
            'client_secret = "not-a-real-secret"\n'
            f'server_metadata_url = "{provider}/.well-known/openid-configuration"\n'
        )
        try:
            process, started = _serve_on(
                root, folder, port, secrets_file, {"CRIMEPREV_AUDIT_DIR": str(audit_dir)}
            )
            break
        except OSError:
            continue
    assert process is not None
    try:
        yield f"http://127.0.0.1:{started}"
    finally:
        process.terminate()
        process.wait(timeout=20)


@pytest.fixture(scope="module")
def signed_in_server(
    demo_root: Path, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path]]:
    """The dashboard with sign-in configured against the provider; yields its base URL and
    the folder of its audit trail."""
    folder = tmp_path_factory.mktemp("signed-in")
    audit_dir = folder / "audit"
    with signed_in_app(demo_root, folder, provider, audit_dir) as base:
        yield base, audit_dir


def _serve_on(
    root: Path, log_dir: Path, port: int, secrets_file: Path, env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """Signed-in `streamlit run` on loopback; OSError when it stops (its port was taken)."""
    extra = ["--server.address", "127.0.0.1", "--secrets.files", str(secrets_file)]
    return _start(root, log_dir, port, extra, env)


def _start(
    root: Path, log_dir: Path, port: int, extra: list[str], env: dict[str, str]
) -> tuple[subprocess.Popen[bytes], int]:
    """`streamlit run app.py` over `root` on `port`, once its health check answers; OSError
    when the process stops first, a failed test when it never answers."""
    log = (log_dir / "streamlit.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true"]
        + ["--server.port", str(port), *extra],
        cwd=REPOSITORY_ROOT,
        env=os.environ | {"CRIMEPREV_DATA_DIR": str(root)} | env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{port}/_stcore/health", timeout=2
            ) as response:
                if response.status == 200:
                    return process, port
        except OSError:
            pass
        if process.poll() is not None:
            raise OSError(f"streamlit run stopped; see {log.name}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"streamlit run did not start; see {log.name}")
        time.sleep(0.3)


def _sign_in(browser: Browser, base: str, who: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(base + "/")
    page.get_by_role("button", name="Sign in").click()
    # The provider's own page: choose the person.
    page.get_by_role("button", name=PEOPLE[who].sub).click()
    page.wait_for_url(re.compile(re.escape(base)))
    page.get_by_test_id("stMain").locator("h1").first.wait_for()
    page.set_default_timeout(RENDER_TIMEOUT_MS)
    return page


def _nav_labels(page: Page) -> set[str]:
    """The titles of the pages the sidebar's menu links to."""
    menu = page.get_by_test_id("stSidebar").get_by_test_id("stPageLink-NavLink")
    menu.first.wait_for()
    # Each link reads "<icon name>\n\n<title>": the title is its last line.
    return {text.strip().splitlines()[-1] for text in menu.all_inner_texts()}


def _open(page: Page, base: str, path: str) -> str:
    page.goto(base + path)
    main = page.get_by_test_id("stMain")
    main.locator("h1").first.wait_for(timeout=120_000)
    # Let the page finish its run before reading it.
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )
    assert page.get_by_test_id("stException").count() == 0, path
    return main.inner_text()


def test_an_unsigned_browser_sees_only_the_sign_in_screen(browser: Browser, signed_in_server):
    base, _ = signed_in_server
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(120_000)
    try:
        for path in UNSIGNED_URLS:
            page.goto(base + path)
            button = page.get_by_role("button", name="Sign in")
            button.wait_for()
            main = page.get_by_test_id("stMain").inner_text()
            assert "Sign in with your organisation account" in main, path
            assert page.get_by_test_id("stSidebarNav").count() == 0, path
            assert page.get_by_test_id("stPageLink-NavLink").count() == 0, path
            assert page.get_by_test_id("stDataFrame").count() == 0, path
            assert page.get_by_test_id("stVegaLiteChart").count() == 0, path
            headings = page.get_by_test_id("stMain").locator("h1").all_inner_texts()
            assert headings == ["Crime Prevention Strategy 2021–25"], (path, headings)
            assert not re.search(r"\d{3,}", main.replace("2021–25", "")), (path, main)
    finally:
        context.close()


def test_a_viewer_sees_aggregates_only(browser: Browser, signed_in_server):
    base, _ = signed_in_server
    page = _sign_in(browser, base, "viewer")
    try:
        assert _nav_labels(page) == set(PAGES.values()) - {"SQL"}
        sidebar = page.get_by_test_id("stSidebar").inner_text()
        assert "vera.viewer@force.example · viewer" in sidebar
        for path in PAGES:
            if path == "sql":
                continue
            text = _open(page, base, f"/{path}")
            assert "/tmp" not in text and str(REPOSITORY_ROOT) not in text, path
        _open(page, base, "/data")
        expect(page.get_by_text("shown to administrators")).to_be_visible(timeout=120_000)
        assert "Audit trail" not in page.get_by_test_id("stMain").inner_text()
        # A link to the console lands elsewhere, and the console never shows.
        page.goto(base + "/sql?q=select+*+from+records")
        page.get_by_test_id("stMain").locator("h1").first.wait_for()
        assert page.get_by_test_id("stTextArea").count() == 0
    finally:
        page.context.close()


def test_an_analyst_has_the_console_and_lsoa_but_not_imports(browser: Browser, signed_in_server):
    base, _ = signed_in_server
    page = _sign_in(browser, base, "analyst")
    try:
        assert _nav_labels(page) == set(PAGES.values())
        for path in PAGES:
            text = _open(page, base, f"/{path}")
            assert "/tmp" not in text, path
        _open(page, base, "/sql?q=select+count(*)+as+n+from+districts")
        # The notice follows the query box in the same run: wait for it rather than the spinner,
        # which may not have appeared yet when the heading first shows.
        expect(page.get_by_text("press Run")).to_be_visible(timeout=120_000)
        page.get_by_role("button", name="Run").click()
        expect(page.get_by_text("1 row in")).to_be_visible(timeout=120_000)
        _open(page, base, "/data")
        expect(page.get_by_text("shown to administrators")).to_be_visible(timeout=120_000)
        assert "Audit trail" not in page.get_by_test_id("stMain").inner_text()
    finally:
        page.context.close()


def test_an_admin_reads_the_audit_trail(browser: Browser, signed_in_server):
    base, audit_dir = signed_in_server
    page = _sign_in(browser, base, "admin")
    try:
        assert _nav_labels(page) == set(PAGES.values())
        _open(page, base, "/data")
        expect(page.get_by_text("Audit trail")).to_be_visible(timeout=120_000)
        assert "Data folder" in page.get_by_test_id("stMain").inner_text()
        trail = (audit_dir / "trail.jsonl").read_text()
        # Earlier tests in this module signed in a viewer and an analyst and ran SQL.
        assert '"user": "vera.viewer@force.example"' in trail
        assert '"action": "sql"' in trail and "select count(*) as n from districts" in trail
        with page.expect_download() as download:
            page.get_by_role("button", name="Download CSV").last.click()
        csv_text = Path(download.value.path()).read_text()
        assert csv_text.startswith("at_utc,user,role,action,detail")
        assert "ali.analyst@force.example" in csv_text
    finally:
        page.context.close()


def test_someone_without_a_role_is_told_so(browser: Browser, signed_in_server):
    base, _ = signed_in_server
    page = _sign_in_no_role(browser, base)
    try:
        assert "holds none of this dashboard's roles" in page.get_by_test_id("stMain").inner_text()
        assert page.get_by_test_id("stSidebarNav").count() == 0
        assert page.get_by_test_id("stPageLink-NavLink").count() == 0
    finally:
        page.context.close()


def _sign_in_no_role(browser: Browser, base: str) -> Page:
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(base + "/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=PEOPLE["nobody"].sub).click()
    page.get_by_text("holds none of this dashboard's roles").wait_for()
    return page


def _listening_addresses(port: int) -> set[str]:
    """The local addresses bound to `port`, from the kernel's socket tables."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except FileNotFoundError:
            continue
        for line in lines:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if int(hex_port, 16) == port and state == "0A":  # LISTEN
                found.add(address)
    return found


def test_local_mode_listens_on_loopback_only(demo_root: Path, tmp_path: Path):
    """Started as the README says, with no address given: the configuration keeps it on
    127.0.0.1; and `make run` passes that address too."""
    process, port = _serve(demo_root, tmp_path, [], {})
    try:
        assert _listening_addresses(port) == {"0100007F"}  # 127.0.0.1, little-endian hex
    finally:
        process.terminate()
        process.wait(timeout=20)
    dry_run = subprocess.run(
        ["make", "-n", "run"], cwd=REPOSITORY_ROOT, capture_output=True, text=True, check=True
    )
    assert "--server.address 127.0.0.1" in dry_run.stdout
