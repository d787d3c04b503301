"""A quarter's words from lead to deck, in Chromium, signed in through a real OpenID Connect
provider (oidc-provider-mock): the knife crime lead writes the commentary and submits it, the
approver approves it, and the deck built afterwards with `crimeprev report --approved-only`
over the same data folder carries those words and says whose approval they hold. The words are
read back from the .pptx with python-pptx, the transitions from the SQLite file and the audit
trail's JSON lines."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import werkzeug.serving
from browser_support import RENDER_TIMEOUT_MS
from oidc_provider_mock import User, app
from playwright.sync_api import Browser, Page, expect
from pptx import Presentation
from test_access_browser import signed_in_app

from crimeprev.cli.main import main
from crimeprev.config import config_for

pytestmark = pytest.mark.browser

LEAD = "kim.lead@force.example"
APPROVER = "ann.approver@force.example"
PEOPLE = {
    "lead": User(sub=LEAD, claims={"email": LEAD, "roles": ["CrimePrev.Viewer"]}),
    "approver": User(
        sub=APPROVER,
        claims={"email": APPROVER, "roles": ["CrimePrev.Viewer", "CrimePrev.Approver"]},
    ),
}
UPDATES_TOML = f"""
approver_role = "CrimePrev.Approver"
approver_title = "ACC"
lead_claim = "email"
[leads]
knife-crime = ["{LEAD}"]
"""
WORDS = "Hotspot patrols in Colchester and Basildon were doubled this quarter (update 4471)."


@pytest.fixture(scope="module")
def provider() -> Iterator[str]:
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


@pytest.fixture(scope="module")
def update_server(
    demo_root: Path, provider: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Path, Path]]:
    """The dashboard, sign-in configured, over a copy of the demo naming a lead and an
    approver; yields its base URL, its data folder and its audit trail's folder."""
    folder = tmp_path_factory.mktemp("update-browser")
    root = folder / "data"
    shutil.copytree(demo_root, root, symlinks=True)
    (root / "config").mkdir(exist_ok=True)
    (root / "config" / "updates.toml").write_text(UPDATES_TOML)
    audit_dir = folder / "audit"
    with signed_in_app(root, folder, provider, audit_dir) as base:
        yield base, root, audit_dir


def _sign_in(browser: Browser, base: str, who: str) -> Page:
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(120_000)
    page.goto(base + "/")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("button", name=PEOPLE[who].sub).click()
    page.wait_for_url(re.compile(re.escape(base)))
    page.get_by_test_id("stMain").locator("h1").first.wait_for()
    return page


def _open_update(page: Page, base: str) -> None:
    page.goto(base + "/update?strand=knife-crime")
    expect(page.get_by_test_id("stMain").locator("h1").first).to_have_text(
        "Quarterly update", timeout=120_000
    )
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000
    )
    page.set_default_timeout(RENDER_TIMEOUT_MS)


def _deck_text(path: Path) -> str:
    deck = Presentation(str(path))
    return "\n".join(
        shape.text_frame.text
        for slide in deck.slides
        for shape in slide.shapes
        if shape.has_text_frame
    )


def test_a_lead_submits_an_approver_approves_and_the_deck_carries_the_words(
    browser: Browser, update_server, tmp_path: Path
):
    base, root, audit_dir = update_server

    lead = _sign_in(browser, base, "lead")
    _open_update(lead, base)
    main_area = lead.get_by_test_id("stMain")
    assert main_area.get_by_test_id("stException").count() == 0
    box = main_area.get_by_test_id("stTextArea").locator("textarea").first
    box.fill(WORDS)
    box.press("Control+Enter")
    # The live preview shows the words as they will read.
    main_area.get_by_role("tab", name="Preview").click()
    preview = main_area.get_by_role("tabpanel", name="Preview")
    expect(preview.get_by_text(WORDS)).to_be_visible()
    main_area.get_by_role("button", name="Submit for approval").click()
    expect(main_area.get_by_text(re.compile(r"submitted\. Version 1, submitted"))).to_be_visible()
    # A lead has no approval controls.
    assert main_area.get_by_role("button", name="Approve").count() == 0
    lead.context.close()

    approver = _sign_in(browser, base, "approver")
    _open_update(approver, base)
    main_area = approver.get_by_test_id("stMain")
    main_area.get_by_role("button", name="Approve").click()
    expect(
        main_area.get_by_text(re.compile(r"approved\. Version 1, approved by ACC"))
    ).to_be_visible()
    approver.context.close()

    with sqlite3.connect(root / "updates.db") as connection:
        quarter, state, approved_by, version = connection.execute(
            "select quarter_end, state, approved_by, approved_version from strand_update "
            "where strand_id = 'knife-crime'"
        ).fetchone()
        actions = [
            r[0]
            for r in connection.execute(
                "select action from update_audit where strand_id = 'knife-crime' order by audit_id"
            )
        ]
    assert (state, approved_by, version) == ("approved", APPROVER, 1)
    assert actions == ["created", "saved", "submitted", "approved"]
    trail = [
        json.loads(line)
        for path in sorted(audit_dir.glob("trail.jsonl*"))
        for line in path.read_text().splitlines()
    ]
    events = [(e["user"], e["action"]) for e in trail if e["action"].startswith("update ")]
    assert (LEAD, "update submitted") in events
    assert (APPROVER, "update approved") in events

    out = tmp_path / "approved.pptx"
    config_for.cache_clear()
    status = main(
        [
            "--data-dir",
            str(root),
            "report",
            "--period",
            quarter,
            "--strand",
            "knife-crime",
            "--strand",
            "rape",
            "--approved-only",
            "--out",
            str(out),
        ]
    )
    assert status == 0
    text = _deck_text(out)
    assert WORDS in text
    month = {"03": "Mar", "06": "Jun", "09": "Sep", "12": "Dec"}[quarter[5:]]
    assert (
        f"Words approved for the quarter ending {month} {quarter[:4]}, version 1, by ACC {APPROVER}"
    ) in text
    # Rape's words were never approved in the store: the deck says so and carries none of the
    # commentary file's words for it.
    assert "No approved words yet." in text
    with (root / "commentary" / "commentary.csv").open() as handle:
        rape_words = [
            line.split(",", 2)[2].strip('"\n')[:60]
            for line in handle
            if line.startswith(f"rape,{quarter}")
        ]
    assert rape_words and rape_words[0] not in text
