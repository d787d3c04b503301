"""Random sequences of saves, submissions, withdrawals, approvals and returns by leads, approvers
and bystanders, some from a stale screen, checked step by step against a small model of the
workflow written here from the rules: who may do what, in which state, what a stale screen gets,
which words the report carries, and how many revisions and audit entries exist."""

from __future__ import annotations

import shutil
import tempfile
from functools import partial
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from crimeprev.updates import workflow
from crimeprev.updates.content import Commentary
from crimeprev.updates.permissions import NotPermitted, User
from crimeprev.updates.settings import UpdateSettings
from crimeprev.updates.store import open_store
from crimeprev.updates.workflow import Conflict, InvalidTransition

STRAND, QUARTER = "knife-crime", "2022-09"
LEADS = {"kim@police.example", "acc.lead@police.example"}
USERS = {
    "Kim": User("Kim", claims={"email": "kim@police.example"}),
    "Acc": User("Acc", roles=frozenset({"approver"})),
    "AccLead": User(
        "AccLead", roles=frozenset({"approver"}), claims={"email": "acc.lead@police.example"}
    ),
    "Ray": User("Ray", claims={"email": "ray@police.example"}),
}
# Hypothesis leans towards the first choice: leads come first where leads act, approvers where
# approvers act, so that runs reach deep into the workflow; the others still get their turn.
WRITERS = st.sampled_from(["AccLead", "Kim", "Acc", "Ray"])
APPROVERS = st.sampled_from(["AccLead", "Acc", "Kim", "Ray"])
# Mostly from an up-to-date screen, so that the sequences reach deep into the workflow.
STALE = st.sampled_from([False, False, False, True])
IS_LEAD = {name: user.claims.get("email") in LEADS for name, user in USERS.items()}
IS_APPROVER = {name: "approver" in user.roles for name, user in USERS.items()}


class Workflow(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="crimeprev-model-"))
        self.store = open_store(
            self.folder,
            settings=UpdateSettings(leads={STRAND: tuple(sorted(LEADS))}),
            url=f"sqlite:///{self.folder / 'updates.db'}",
        )
        # The model.
        self.row_version = 0
        self.state = "draft"
        self.version = 1
        self.text: str | None = None
        self.approved_version: int | None = None
        self.approved_text: str | None = None
        self.submitted_by: str | None = None
        self.revisions = 0
        self.audits = 0

    def teardown(self) -> None:
        self.store.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _screen(self, stale: bool) -> int:
        return self.row_version - 1 if stale and self.row_version > 0 else self.row_version

    def _is_stale(self, stale: bool) -> bool:
        return stale and self.row_version > 0

    @rule(name=WRITERS, text=st.sampled_from(["A", "B", "C"]), stale=STALE)
    def save(self, name: str, text: str, stale: bool) -> None:
        call = partial(
            workflow.save,
            self.store,
            USERS[name],
            STRAND,
            QUARTER,
            self._screen(stale),
            put=[Commentary(text)],
        )
        if not IS_LEAD[name]:
            expected: type[Exception] | None = NotPermitted
        elif self._is_stale(stale):
            expected = Conflict
        elif text == self.text:
            expected = None  # nothing changed: nothing written
        elif self.state == "submitted":
            expected = InvalidTransition
        else:
            expected = None
        self._expect(call, expected)
        if expected is None and text != self.text:
            self.audits += 1 + (self.row_version == 0) + (self.state == "approved")
            if self.state == "approved":
                self.version += 1
                self.state = "draft"
            self.row_version += 1
            self.revisions += 1
            self.text = text

    def _transition(self, name: str, stale: bool, call, needs, allowed, to_state) -> bool:
        if needs == "lead" and not IS_LEAD[name]:
            expected: type[Exception] | None = NotPermitted
        elif needs == "approver" and not IS_APPROVER[name]:
            expected = NotPermitted
        elif needs == "approver" and self.state == "submitted" and self.submitted_by == name:
            expected = NotPermitted
        elif self.row_version == 0:
            expected = InvalidTransition
        elif self._is_stale(stale):
            expected = Conflict
        elif self.state not in allowed:
            expected = InvalidTransition
        else:
            expected = None
        self._expect(call, expected)
        if expected is None:
            self.state = to_state
            self.row_version += 1
            self.audits += 1
        return expected is None

    @rule(name=WRITERS, stale=STALE)
    def submit(self, name: str, stale: bool) -> None:
        call = partial(
            workflow.submit, self.store, USERS[name], STRAND, QUARTER, self._screen(stale)
        )
        if self._transition(name, stale, call, "lead", ("draft", "returned"), "submitted"):
            self.submitted_by = name

    @rule(name=WRITERS, stale=STALE)
    def withdraw(self, name: str, stale: bool) -> None:
        call = partial(
            workflow.withdraw, self.store, USERS[name], STRAND, QUARTER, self._screen(stale)
        )
        self._transition(name, stale, call, "lead", ("submitted",), "draft")

    @rule(name=APPROVERS, stale=STALE)
    def approve(self, name: str, stale: bool) -> None:
        call = partial(
            workflow.approve, self.store, USERS[name], STRAND, QUARTER, self._screen(stale)
        )
        if self._transition(name, stale, call, "approver", ("submitted",), "approved"):
            self.approved_version, self.approved_text = self.version, self.text

    @rule(name=APPROVERS, stale=STALE)
    def send_back(self, name: str, stale: bool) -> None:
        call = partial(
            workflow.return_update,
            self.store,
            USERS[name],
            STRAND,
            QUARTER,
            self._screen(stale),
            "Please check.",
        )
        self._transition(name, stale, call, "approver", ("submitted",), "returned")

    def _expect(self, call, expected: type[Exception] | None) -> None:
        try:
            call()
        except (NotPermitted, Conflict, InvalidTransition) as error:
            assert type(error) is expected, f"{type(error).__name__}: {error} (expected {expected})"
            assert str(error).endswith(".") and "\n" not in str(error)
            return
        assert expected is None, f"expected {expected.__name__}, but it went through"

    @invariant()
    def the_store_agrees_with_the_model(self) -> None:
        now = workflow.read_update(self.store, STRAND, QUARTER)
        assert (now.state, now.row_version, now.commentary) == (
            self.state,
            self.row_version,
            self.text,
        )
        assert (now.content_version, now.approved_version) == (self.version, self.approved_version)
        carried = workflow.quarter_content(self.store, QUARTER, "approved").get(STRAND)
        assert (carried.commentary if carried else None) == self.approved_text
        assert len(workflow.history(self.store, STRAND, QUARTER)) == self.revisions
        assert len(workflow.audit_trail(self.store, STRAND, QUARTER)) == self.audits


Workflow.TestCase.settings = settings(
    max_examples=40,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
test_the_workflow_follows_its_rules = Workflow.TestCase
