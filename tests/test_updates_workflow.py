"""The quarterly update's workflow, as leads and an approver go through it, on SQLite and on
PostgreSQL: transitions, who may do what, locked approved content and its next version,
history and restore, the audit trail, and two people saving the same strand."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from crimeprev.updates import workflow
from crimeprev.updates.content import Action, Commentary, InvalidContent, Metric
from crimeprev.updates.permissions import NotPermitted, User, can_approve, can_edit, led_strands
from crimeprev.updates.schema import field_revision
from crimeprev.updates.settings import UpdateSettings
from crimeprev.updates.store import UpdateError, UpdateStore, open_store
from crimeprev.updates.workflow import Conflict, InvalidTransition

OTHER_STRANDS = ("places", "prevent", "mental-health", "domestic-abuse", "county-lines", "rape")
SETTINGS = UpdateSettings(
    approver_role="acc",
    lead_claim="email",
    leads={
        "knife-crime": ("kim.lead@police.example", "sam.deputy@police.example"),
        "hate-crime": ("acc.also.leads@police.example",),
    }
    | {strand: ("ops.lead@police.example",) for strand in OTHER_STRANDS}
    | {"rape": ("ray.lead@police.example", "ops.lead@police.example")},
)
KIM = User("Kim Lead", claims={"email": "Kim.Lead@police.example"})
SAM = User("Sam Deputy", claims={"email": "sam.deputy@police.example"})
RAY = User("Ray Lead", claims={"email": "ray.lead@police.example"})
ACC = User("ACC Jones", roles=frozenset({"acc"}))
ACC_LEAD = User(
    "ACC Lead", roles=frozenset({"ACC"}), claims={"email": "acc.also.leads@police.example"}
)
OPS = User("Ops Lead", claims={"email": "ops.lead@police.example"})
VIEWER = User("Val Viewer", roles=frozenset({"viewer"}))
Q = "2022-09"


@pytest.fixture
def store(tmp_path: Path, store_url: str) -> Iterator[UpdateStore]:
    opened = open_store(tmp_path, settings=SETTINGS, url=store_url)
    yield opened
    opened.dispose()


def test_permissions_are_plain_functions_of_the_user():
    assert led_strands(SETTINGS, KIM) == ("knife-crime",)
    assert led_strands(SETTINGS, OPS) == OTHER_STRANDS
    assert can_edit(SETTINGS, SAM, "knife-crime") and not can_edit(SETTINGS, SAM, "rape")
    assert not can_edit(SETTINGS, ACC, "knife-crime")
    assert can_approve(SETTINGS, ACC) and can_approve(SETTINGS, ACC_LEAD)
    assert not can_approve(SETTINGS, KIM) and not can_approve(SETTINGS, VIEWER)
    # A lead may be named by a group claim instead of an e-mail.
    by_group = UpdateSettings(lead_claim="groups", leads={"rape": ("PP-Leads",)})
    assert led_strands(by_group, User("Pat", roles=frozenset({"pp-leads"}))) == ("rape",)


def test_draft_submit_approve_then_a_change_starts_the_next_version(store: UpdateStore):
    fresh = workflow.read_update(store, "knife-crime", Q)
    assert (fresh.state, fresh.row_version, fresh.fields) == ("draft", 0, {})

    draft = workflow.save(store, KIM, "knife-crime", Q, 0, put=[Commentary("First words.")])
    assert (draft.state, draft.content_version, draft.commentary) == ("draft", 1, "First words.")
    submitted = workflow.submit(store, KIM, "knife-crime", Q, draft.row_version)
    assert submitted.state == "submitted" and submitted.submitted_by == "Kim Lead"
    approved = workflow.approve(store, ACC, "knife-crime", Q, submitted.row_version)
    assert (approved.state, approved.approved_version, approved.approved_by) == (
        "approved",
        1,
        "ACC Jones",
    )
    assert (
        workflow.quarter_content(store, Q, "approved")["knife-crime"].commentary == "First words."
    )

    # Approved content is locked: the change opens version 2 as a draft ...
    changed = workflow.save(
        store, SAM, "knife-crime", Q, approved.row_version, put=[Commentary("Second words.")]
    )
    assert (changed.state, changed.content_version, changed.approved_version) == ("draft", 2, 1)
    # ... while the report still carries version 1's words until version 2 is approved.
    assert (
        workflow.quarter_content(store, Q, "approved")["knife-crime"].commentary == "First words."
    )
    assert workflow.quarter_content(store, Q, "latest")["knife-crime"].commentary == "Second words."
    with store.engine.connect() as connection:
        first = (
            connection.execute(
                sa.select(field_revision.c.value).where(field_revision.c.content_version == 1)
            )
            .scalars()
            .all()
        )
    assert first == ['{"kind": "commentary", "text": "First words."}']

    resubmitted = workflow.submit(store, SAM, "knife-crime", Q, changed.row_version)
    again = workflow.approve(store, ACC, "knife-crime", Q, resubmitted.row_version)
    assert again.approved_version == 2
    assert (
        workflow.quarter_content(store, Q, "approved")["knife-crime"].commentary == "Second words."
    )

    actions = [
        (e.action, e.from_state, e.to_state, e.content_version, e.actor)
        for e in workflow.audit_trail(store, "knife-crime", Q)
    ]
    assert actions == [
        ("created", None, "draft", 1, "Kim Lead"),
        ("saved", "draft", "draft", 1, "Kim Lead"),
        ("submitted", "draft", "submitted", 1, "Kim Lead"),
        ("approved", "submitted", "approved", 1, "ACC Jones"),
        ("reopened", "approved", "draft", 2, "Sam Deputy"),
        ("saved", "draft", "draft", 2, "Sam Deputy"),
        ("submitted", "draft", "submitted", 2, "Sam Deputy"),
        ("approved", "submitted", "approved", 2, "ACC Jones"),
    ]


def test_returned_with_a_comment_then_resubmitted(store: UpdateStore):
    draft = workflow.save(store, RAY, "rape", Q, 0, put=[Commentary("Rape rose.")])
    submitted = workflow.submit(store, RAY, "rape", Q, draft.row_version)
    with pytest.raises(UpdateError, match="returned with a comment"):
        workflow.return_update(store, ACC, "rape", Q, submitted.row_version, "  ")
    returned = workflow.return_update(
        store, ACC, "rape", Q, submitted.row_version, "Give the % against 2019."
    )
    assert returned.state == "returned" and returned.return_comment == "Give the % against 2019."
    edited = workflow.save(
        store,
        RAY,
        "rape",
        Q,
        returned.row_version,
        put=[Commentary("Rape rose 14.7% on the year before and 37.0% on 2019.")],
    )
    resubmitted = workflow.submit(store, RAY, "rape", Q, edited.row_version)
    approved = workflow.approve(store, ACC, "rape", Q, resubmitted.row_version)
    assert approved.state == "approved" and approved.return_comment is None
    trail = workflow.audit_trail(store, "rape", Q)
    assert [e.comment for e in trail if e.action == "returned"] == ["Give the % against 2019."]


def test_who_may_do_what(store: UpdateStore):
    with pytest.raises(NotPermitted, match="Ray Lead is not a lead of Knife crime"):
        workflow.save(store, RAY, "knife-crime", Q, 0, put=[Commentary("Not mine.")])
    with pytest.raises(NotPermitted, match="is not a lead"):
        workflow.save(store, ACC, "knife-crime", Q, 0, put=[Commentary("Approver writes.")])
    draft = workflow.save(store, KIM, "knife-crime", Q, 0, put=[Commentary("Mine.")])
    with pytest.raises(NotPermitted, match="does not hold the role 'acc'"):
        workflow.approve(store, KIM, "knife-crime", Q, draft.row_version)
    with pytest.raises(InvalidTransition, match="is draft; it can be approved only when"):
        workflow.approve(store, ACC, "knife-crime", Q, draft.row_version)
    with pytest.raises(NotPermitted):
        workflow.submit(store, VIEWER, "knife-crime", Q, draft.row_version)
    submitted = workflow.submit(store, KIM, "knife-crime", Q, draft.row_version)
    with pytest.raises(InvalidTransition, match="cannot change until the approver returns it"):
        workflow.save(store, SAM, "knife-crime", Q, submitted.row_version, put=[Commentary("x")])
    withdrawn = workflow.withdraw(store, SAM, "knife-crime", Q, submitted.row_version)
    assert withdrawn.state == "draft"
    # An approver who leads a strand cannot approve their own submission.
    own = workflow.save(store, ACC_LEAD, "hate-crime", Q, 0, put=[Commentary("Mine too.")])
    own = workflow.submit(store, ACC_LEAD, "hate-crime", Q, own.row_version)
    with pytest.raises(NotPermitted, match="someone else holding the approver role"):
        workflow.approve(store, ACC_LEAD, "hate-crime", Q, own.row_version)
    assert workflow.approve(store, ACC, "hate-crime", Q, own.row_version).state == "approved"
    with pytest.raises(InvalidTransition, match="Nothing has been written"):
        workflow.submit(store, RAY, "rape", Q, 0)
    with pytest.raises(UpdateError, match="Unknown strand 'knife'"):
        workflow.read_update(store, "knife", Q)
    with pytest.raises(ValueError, match="does not end a quarter"):
        workflow.read_update(store, "knife-crime", "2022-08")


def test_values_are_checked_before_anything_is_written(store: UpdateStore):
    bad = [
        (
            Metric("Op Sceptre", "Jul-Sep 2022", "2022-06", "arrests", 12, "count"),
            "outside the quarter",
        ),
        (
            Metric("Op Sceptre", "Jul-Sep 2022", "2022-09", "arrests", float("nan"), "count"),
            "finite",
        ),
        (
            Action("KNF-900", "Patrol plan", "2022-13", None, "ongoing"),
            "Action KNF-900's due month",
        ),
        (Action("KNF-900", "Patrol plan", "2022-12", None, "nearly done"), "is not one of"),
        (Action("KNF-900", "", "2022-12", None, "ongoing"), "title is empty"),
    ]
    for value, words in bad:
        with pytest.raises(InvalidContent, match=words):
            workflow.save(store, KIM, "knife-crime", Q, 0, put=[value])
    assert workflow.read_update(store, "knife-crime", Q).row_version == 0
    assert workflow.audit_trail(store) == []


def test_every_version_of_every_field_is_kept_and_can_be_restored(store: UpdateStore):
    arrests = Metric("Op Sceptre", "Jul-Sep 2022", "2022-09", "arrests", 12, "count")
    plan = Action("KNF-900", "Patrol plan: Harlow", "2022-12", None, "ongoing")
    one = workflow.save(store, KIM, "knife-crime", Q, 0, put=[Commentary("v1"), arrests, plan])
    two = workflow.save(
        store,
        SAM,
        "knife-crime",
        Q,
        one.row_version,
        put=[Commentary("v2"), Metric(**{**arrests.__dict__, "value": 15})],
        remove=[plan.key],
    )
    assert plan.key not in two.fields and two.metrics[0].value == 15
    revisions = workflow.history(store, "knife-crime", Q)
    assert [(r.field, r.written_by) for r in revisions] == [
        ("commentary", "Kim Lead"),
        (arrests.key, "Kim Lead"),
        (plan.key, "Kim Lead"),
        ("commentary", "Sam Deputy"),
        (arrests.key, "Sam Deputy"),
        (plan.key, "Sam Deputy"),
    ]
    assert revisions[5].value is None  # the removal is a revision too
    commentary = workflow.history(store, "knife-crime", Q, "commentary")
    assert [r.value.text for r in commentary] == ["v1", "v2"]  # type: ignore[union-attr]

    restored = workflow.restore(
        store, KIM, "knife-crime", Q, commentary[0].revision_id, two.row_version
    )
    assert restored.commentary == "v1"
    restored = workflow.restore(
        store, KIM, "knife-crime", Q, revisions[2].revision_id, restored.row_version
    )
    assert restored.actions == [plan]
    assert len(workflow.history(store, "knife-crime", Q)) == 8
    assert [e.action for e in workflow.audit_trail(store, "knife-crime", Q)][-2:] == [
        f"restored revision {commentary[0].revision_id}",
        f"restored revision {revisions[2].revision_id}",
    ]
    with pytest.raises(UpdateError, match="no revision 99999"):
        workflow.restore(store, KIM, "knife-crime", Q, 99999, restored.row_version)


def test_two_editors_of_one_strand_get_a_message_not_an_overwrite(store: UpdateStore):
    opened = workflow.save(store, KIM, "knife-crime", Q, 0, put=[Commentary("Base.")])
    kims_screen = sams_screen = opened.row_version
    workflow.save(store, KIM, "knife-crime", Q, kims_screen, put=[Commentary("Kim's words.")])
    with pytest.raises(Conflict, match=r"Not saved: Kim Lead changed the update for Knife crime"):
        workflow.save(store, SAM, "knife-crime", Q, sams_screen, put=[Commentary("Sam's words.")])
    with pytest.raises(Conflict):
        workflow.submit(store, SAM, "knife-crime", Q, sams_screen)
    assert workflow.read_update(store, "knife-crime", Q).commentary == "Kim's words."
    # After reloading, Sam's change goes in on top of Kim's.
    reloaded = workflow.read_update(store, "knife-crime", Q)
    saved = workflow.save(
        store, SAM, "knife-crime", Q, reloaded.row_version, put=[Commentary("Sam's words.")]
    )
    assert saved.commentary == "Sam's words."
    # Two people starting the same update from nothing: the second is told, not merged.
    workflow.save(store, RAY, "rape", Q, 0, put=[Commentary("Ray first.")])
    with pytest.raises(Conflict):
        workflow.save(store, RAY, "rape", Q, 0, put=[Commentary("Ray again, stale.")])


def test_simultaneous_saves_one_strand_one_winner_different_strands_all_win(store: UpdateStore):
    start = workflow.save(store, KIM, "knife-crime", Q, 0, put=[Commentary("Base.")])
    workers = 6
    barrier = threading.Barrier(workers * 2)
    outcomes: dict[str, list[str]] = {"same": [], "other": []}
    lock = threading.Lock()

    def same_strand(index: int) -> None:
        barrier.wait()
        try:
            workflow.save(
                store, KIM, "knife-crime", Q, start.row_version, put=[Commentary(f"writer {index}")]
            )
            result = f"saved {index}"
        except Conflict:
            result = "conflict"
        with lock:
            outcomes["same"].append(result)

    def own_strand(index: int) -> None:
        strand_id = OTHER_STRANDS[index]
        barrier.wait()
        metric = Metric("Op Sceptre", "Jul-Sep 2022", Q, "arrests", index, "count")
        workflow.save(store, OPS, strand_id, Q, 0, put=[Commentary(strand_id), metric])
        with lock:
            outcomes["other"].append(strand_id)

    threads = [threading.Thread(target=same_strand, args=(i,)) for i in range(workers)]
    threads += [threading.Thread(target=own_strand, args=(i,)) for i in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [o for o in outcomes["same"] if o.startswith("saved")]
    assert len(winners) == 1 and outcomes["same"].count("conflict") == workers - 1
    winner = winners[0].removeprefix("saved ")
    assert workflow.read_update(store, "knife-crime", Q).commentary == f"writer {winner}"
    assert sorted(outcomes["other"]) == sorted(OTHER_STRANDS)
    content = workflow.quarter_content(store, Q, "latest")
    for index, strand_id in enumerate(OTHER_STRANDS):
        assert content[strand_id].commentary == strand_id
        assert [m.value for m in content[strand_id].metrics] == [index]


def test_which_quarters_approved_words_each_strand_carries(store: UpdateStore):
    def approve(user: User, strand_id: str, quarter: str, text: str) -> None:
        current = workflow.read_update(store, strand_id, quarter)
        draft = workflow.save(
            store, user, strand_id, quarter, current.row_version, put=[Commentary(text)]
        )
        submitted = workflow.submit(store, user, strand_id, quarter, draft.row_version)
        workflow.approve(store, ACC, strand_id, quarter, submitted.row_version)

    approve(KIM, "knife-crime", "2022-06", "June words.")
    approve(KIM, "knife-crime", "2022-09", "September words.")
    approve(RAY, "rape", "2022-06", "Rape, June.")
    draft = workflow.save(
        store, RAY, "rape", "2022-09", 0, put=[Commentary("Rape, September draft.")]
    )
    workflow.submit(store, RAY, "rape", "2022-09", draft.row_version)

    marks = workflow.approved_marks(store)
    assert {s: m.quarter_end for s, m in marks.items()} == {
        "knife-crime": "2022-09",
        "rape": "2022-06",
    }
    assert marks["knife-crime"].approved_by == "ACC Jones"
    assert {s: m.quarter_end for s, m in workflow.approved_marks(store, "2022-08").items()} == {
        "knife-crime": "2022-06",
        "rape": "2022-06",
    }
    # The deck built from approved content only leaves out rape's unapproved September words.
    approved = workflow.quarter_content(store, "2022-09", "approved")
    assert list(approved) == ["knife-crime"]
    latest = workflow.quarter_content(store, "2022-09", "latest")
    assert latest["rape"].commentary == "Rape, September draft." and not latest["rape"].approved
    status = {row["strand_id"]: row for row in workflow.quarter_status(store, "2022-09")}
    assert len(status) == len(store.config.strands)
    assert status["rape"]["state"] == "submitted"
    assert status["rape"]["carries_approved_quarter"] == "2022-06"
    assert status["prevent"]["state"] == "not started"


def test_hostile_text_is_kept_verbatim_or_refused_with_a_sentence(store: UpdateStore):
    tricky = (
        "Robert'); drop table strand_update;-- \u2014 ünïcödé \U0001f52a\n\n"
        "**bold** <script>x</script>"
    )
    saved = workflow.save(store, KIM, "knife-crime", Q, 0, put=[Commentary(tricky)])
    assert workflow.read_update(store, "knife-crime", Q).commentary == tricky.strip()
    with pytest.raises(InvalidContent, match="longer than 20,000 characters"):
        workflow.save(
            store, KIM, "knife-crime", Q, saved.row_version, put=[Commentary("x" * 20_001)]
        )
    with pytest.raises(UpdateError, match="given twice"):
        workflow.save(
            store,
            KIM,
            "knife-crime",
            Q,
            saved.row_version,
            put=[Commentary("a"), Commentary("b")],
        )
    for text in ("nul \x00 inside", "bell \x07"):
        with pytest.raises(InvalidContent, match="control character"):
            workflow.save(store, KIM, "knife-crime", Q, saved.row_version, put=[Commentary(text)])
    with pytest.raises(InvalidContent, match="control character"):
        workflow.save(
            store,
            KIM,
            "knife-crime",
            Q,
            saved.row_version,
            put=[Action("KNF-1\x00", "Title", "2022-12", None, None)],
        )
    assert len(workflow.history(store, "knife-crime", Q)) == 1
