"""The Update page through AppTest, signed in as a lead, an approver or a viewer (the identity
token's claims seeded as `st.user`), over copies of the demo folder and of the demo with months
taken out; and the form's pieces (`crimeprev.updates.editor`) on their own. What was saved is
read back from the SQLite file with the standard library, not through the workflow."""

from __future__ import annotations

import csv
import re
import shutil
import sqlite3
from collections import Counter
from datetime import UTC, date, datetime
from pathlib import Path

import pandas as pd
import pytest
from conftest import APP
from streamlit.testing.v1 import AppTest

from crimeprev.config import config_for
from crimeprev.store import DATA_DIR_VARIABLE
from crimeprev.updates import editor
from crimeprev.updates.content import Action, Commentary, InvalidContent, Metric
from crimeprev.updates.csvfiles import import_csv
from crimeprev.updates.marks import NO_APPROVED_WORDS, existing_store, words_mark
from crimeprev.updates.permissions import led_strands
from crimeprev.updates.settings import load_update_settings
from crimeprev.updates.store import open_store
from crimeprev.updates.workflow import ApprovedMark, UpdateState

LEAD = "kim.lead@force.example"
OTHER_LEAD = "raj.lead@force.example"
APPROVER = "ann.approver@force.example"
UPDATES_TOML = f"""
approver_role = "CrimePrev.Approver"
approver_title = "ACC"
lead_claim = "email"
[leads]
knife-crime = ["{LEAD}"]
rape = ["{OTHER_LEAD}"]
"""
SIGN_IN = {
    "client_id": "crimeprev-dashboard",
    "client_secret": "not-a-real-secret",
    "redirect_uri": "http://127.0.0.1:8501/oauth2callback",
    "cookie_secret": "0123456789abcdef",
    "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration",
}
ROLES = {
    LEAD: ["CrimePrev.Viewer"],
    OTHER_LEAD: ["CrimePrev.Viewer"],
    APPROVER: ["CrimePrev.Viewer", "CrimePrev.Approver"],
    "vera.viewer@force.example": ["CrimePrev.Viewer"],
}


def _folder_with_leads(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    (target / "config").mkdir(exist_ok=True)
    (target / "config" / "updates.toml").write_text(UPDATES_TOML)
    config_for.cache_clear()
    return target


@pytest.fixture(scope="module")
def led_folder(demo_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder_with_leads(demo_root, tmp_path_factory.mktemp("update-page") / "data")


def _signed_in(monkeypatch: pytest.MonkeyPatch, root: Path, email: str, **params: str) -> AppTest:
    """The Update page as `email` sees it (after the app has run once, as a visit does)."""
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(root))
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["auth"] = SIGN_IN
    at.user = {"is_logged_in": True, "email": email, "roles": ROLES[email]}
    at.run()
    at.switch_page("pages/update.py")
    at.query_params.update(params)
    return at.run()


def _menu(at: AppTest) -> list[str]:
    return [link.label for link in at.get("page_link")]


def _commentary_rows(root: Path, strand_id: str) -> list[tuple[str, str]]:
    """Every commentary written for the strand, straight from the SQLite file."""
    with sqlite3.connect(root / "updates.db") as connection:
        return connection.execute(
            "select written_by, value from field_revision "
            "where strand_id = ? and field = 'commentary' order by revision_id",
            (strand_id,),
        ).fetchall()


def test_a_viewer_who_leads_nothing_has_no_update_page(monkeypatch, led_folder):
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(led_folder))
    at = AppTest.from_file(APP, default_timeout=180)
    at.secrets["auth"] = SIGN_IN
    at.user = {
        "is_logged_in": True,
        "email": "vera.viewer@force.example",
        "roles": ["CrimePrev.Viewer"],
    }
    at.run()
    assert not at.exception
    assert "Quarterly update" not in _menu(at)
    # The page is not registered for them at all, so no address reaches it.
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/update.py")


def test_a_local_viewer_has_no_update_page(monkeypatch, led_folder):
    monkeypatch.setenv("CRIMEPREV_LOCAL_ROLE", "viewer")
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(led_folder))
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert "Quarterly update" not in _menu(at)


def test_a_lead_writes_only_their_own_strand(monkeypatch, led_folder):
    at = _signed_in(monkeypatch, led_folder, LEAD, strand="rape")
    assert not at.exception
    assert "Quarterly update" in _menu(at)
    assert [t.value for t in at.title] == ["Quarterly update"]
    assert any("does not lead Rape" in w.value for w in at.warning)
    assert at.selectbox[0].options == ["Knife crime"]
    # No approval controls for a lead.
    assert "Approve" not in [b.label for b in at.button]


def test_a_lead_saves_a_draft_and_a_stale_screen_is_refused(monkeypatch, led_folder):
    first = _signed_in(monkeypatch, led_folder, LEAD)
    second = _signed_in(monkeypatch, led_folder, LEAD)
    first.text_area[0].input("Knife-enabled crime fell; patrols continue.").run()
    next(b for b in first.button if b.label == "Save draft").click().run()
    assert not first.exception and not first.error, [e.value for e in first.error]
    written = _commentary_rows(led_folder, "knife-crime")
    assert written[-1][0] == LEAD
    assert "patrols continue" in written[-1][1]

    # The second screen was opened before that save: its change is refused, not written.
    second.text_area[0].input("A different text from an older screen.").run()
    next(b for b in second.button if b.label == "Save draft").click().run()
    assert any("Not saved" in e.value and LEAD in e.value for e in second.error)
    assert len(_commentary_rows(led_folder, "knife-crime")) == len(written)


def test_the_approver_sees_every_strand_read_only(monkeypatch, led_folder):
    at = _signed_in(monkeypatch, led_folder, APPROVER, strand="knife-crime")
    assert not at.exception
    config = config_for(led_folder)
    assert at.selectbox[0].options == [s.name for s in config.strands]
    # Their own account leads nothing: the form is read-only for them.
    assert at.text_area[0].disabled


def test_a_stated_figure_that_differs_from_the_data_shows_before_submitting(
    monkeypatch, led_folder
):
    at = _signed_in(monkeypatch, led_folder, OTHER_LEAD)
    # The demo's own sentence for rape, with its percentage changed.
    with (led_folder / "commentary" / "commentary.csv").open() as handle:
        sentence = next(line for line in handle if line.startswith("rape,2022-09"))
    stated = re.search(r"(\d+\.\d)%", sentence)
    assert stated is not None
    wrong = f"{float(stated.group(1)) + 20:.1f}%"
    at.text_area[0].input(f"Recorded rape was {wrong} higher than a year earlier.").run()
    flagged = [w.value for w in at.warning if w.value.startswith(f"Stated {wrong}")]
    assert flagged and f"{stated.group(1)}%" in flagged[0]
    assert "Submit for approval" in [b.label for b in at.button]


@pytest.fixture(scope="module")
def gapped_led_folder(gapped_folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _folder_with_leads(gapped_folder, tmp_path_factory.mktemp("update-gapped") / "data")


@pytest.mark.parametrize("period", [None, "2021-07"])
def test_the_page_opens_on_a_folder_with_months_removed(monkeypatch, gapped_led_folder, period):
    params = {"period": period} if period else {}
    at = _signed_in(monkeypatch, gapped_led_folder, LEAD, **params)
    assert not at.exception, [e.message for e in at.exception]
    assert [t.value for t in at.title] == ["Quarterly update"]
    assert at.text_area and not at.text_area[0].disabled


def test_leads_are_matched_by_the_configured_claim(led_folder):
    config = config_for(led_folder)
    settings = load_update_settings(config, led_folder / "config")
    lead = editor.user_from_claims({"email": LEAD.upper(), "roles": ["X"]}, "roles", LEAD)
    approver = editor.user_from_claims({"email": APPROVER, "roles": ROLES[APPROVER]}, "roles", "a")
    assert led_strands(settings, lead) == ("knife-crime",)
    assert editor.update_strands(settings, config, approver) == [s.id for s in config.strands]
    assert not editor.may_open(settings, editor.user_from_claims({"email": "x@y"}, "roles", "x"))


def test_results_table_round_trip_and_blank_rows():
    metrics = [Metric("Op Sceptre", "Q2 2022/23", "2022-09", "Arrests", 23, "people")]
    frame = editor.metrics_frame(metrics)
    frame.loc[len(frame)] = [None] * len(frame.columns)  # the editor's empty new row
    assert editor.metrics_from_frame(frame, "2022-09") == metrics


def test_a_half_filled_result_is_one_sentence():
    frame = pd.DataFrame(
        [{"operation": "Op X", "metric": "Seized", "value": "lots", "unit": "GBP"}]
    )
    with pytest.raises(InvalidContent, match="Result row 1: 'lots' is not a number"):
        editor.metrics_from_frame(frame, "2022-09")


def test_totals_are_counted_from_the_actions():
    statuses = ("complete", "ongoing", "at risk", "not started")
    actions = [
        Action(f"KC-{i:02}", f"Action {i}", "2022-12", None, status)
        for i, status in enumerate(["complete", "ongoing", "complete", None, "at risk"])
    ]
    totals = editor.action_totals(actions, statuses).set_index("status")["count_actions"]
    expected = Counter(a.status or "not reported" for a in actions)
    assert totals.drop("total").to_dict() == dict(expected)
    assert totals["total"] == 5


def test_the_change_removes_rows_taken_out_of_the_form():
    kept = Metric("Op A", "Q2", "2022-09", "Arrests", 3, "people")
    dropped = Metric("Op B", "Q2", "2022-09", "Arrests", 4, "people")
    state = UpdateState(
        "knife-crime",
        "2022-09",
        "draft",
        1,
        3,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        {"commentary": Commentary("old"), kept.key: kept, dropped.key: dropped},
    )
    change = editor.form_change(state, "new words", [kept], [])
    assert change.remove == [dropped.key]
    assert Commentary("new words") in change.put and kept in change.put


def test_a_folder_without_a_store_gets_none_and_no_file(demo_root, tmp_path):
    # A folder of its own: other tests open the Update page on the shared demo folder.
    folder = tmp_path / "data"
    shutil.copytree(demo_root / "commentary", folder / "commentary")
    assert existing_store(folder) is None
    assert not (folder / "updates.db").exists()


def test_the_mark_names_quarter_version_and_approver():
    mark = ApprovedMark("rape", "2022-09", 2, "ann@x", datetime(2022, 10, 3, tzinfo=UTC))
    assert words_mark(mark, "ACC") == (
        "Words approved for the quarter ending Sep 2022, version 2, by ACC ann@x, 3 Oct 2022."
    )
    assert words_mark(None, "ACC") == NO_APPROVED_WORDS


def test_the_overview_lists_the_approved_words_each_strand_carries(
    monkeypatch, demo_root, tmp_path
):
    root = _folder_with_leads(demo_root, tmp_path / "data")
    store = open_store(root)
    import_csv(store, root, APPROVER)
    store.dispose()
    with (root / "commentary" / "commentary.csv").open(newline="") as handle:
        quarters = {row["strand_id"]: row["period"] for row in csv.DictReader(handle)}
    monkeypatch.setenv(DATA_DIR_VARIABLE, str(root))
    at = AppTest.from_file(APP, default_timeout=180).run()
    assert not at.exception
    marks = next(d.value for d in at.dataframe if "approved_words" in d.value.columns)
    by_name = dict(zip(marks["strand_name"], marks["approved_words"], strict=True))
    config = config_for(root)
    latest = max(quarters.values())
    carried = [s for s in config.strands if quarters.get(s.id) == latest]
    assert carried
    for strand in config.strands:
        if strand in carried:
            month = f"{date.fromisoformat(latest + '-01'):%b %Y}"
            assert by_name[strand.name].startswith(
                f"Words approved for the quarter ending {month}, version 1, by ACC {APPROVER}"
            )
        elif strand.id not in quarters:
            assert by_name[strand.name] == NO_APPROVED_WORDS
