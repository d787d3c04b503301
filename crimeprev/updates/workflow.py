"""The quarterly update's workflow, per strand and quarter:

    draft --submit--> submitted --approve--> approved
      ^                  |  \\--return (with a comment)--> returned --submit--> submitted
      \\---withdraw-------/

A lead writes and submits their strand's update; a holder of the approver role approves it or
returns it with a comment. Approved content is locked: a change after approval starts the
next version as a draft, and the approved version stays what the report carries until the next
approval. Every value ever written is kept (`history`, `restore`) and every transition is
recorded (`audit_trail`).

Every change names the `row_version` the user's screen was showing; when someone else saved in
between, the change is refused with a sentence saying who and when (optimistic locking), so
nobody's work is overwritten unseen. Updates of different strands never touch the same row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import sqlalchemy as sa

from crimeprev.updates.content import (
    Action,
    Commentary,
    FieldValue,
    Metric,
    checked,
    decode,
    encode,
    last_quarter_by,
    quarter_key,
)
from crimeprev.updates.permissions import NotPermitted, User, require_approver, require_lead
from crimeprev.updates.schema import field_revision, strand_update, update_audit
from crimeprev.updates.store import UpdateError, UpdateStore, as_utc, now

STATES = ("draft", "submitted", "approved", "returned")
Selection = Literal["approved", "latest"]


class Conflict(UpdateError):
    """Someone else changed the update after the user opened it; nothing was saved."""


class InvalidTransition(UpdateError):
    """The update is not in a state that allows what was asked."""


@dataclass(frozen=True)
class UpdateState:
    """One strand's update for one quarter as it stands, with its current fields."""

    strand_id: str
    quarter_end: str
    state: str
    content_version: int
    # 0 for an update nobody has started; pass it back with the next change.
    row_version: int
    approved_version: int | None
    approved_by: str | None
    approved_at: datetime | None
    submitted_by: str | None
    return_comment: str | None
    changed_by: str | None
    changed_at: datetime | None
    fields: dict[str, FieldValue] = field(default_factory=dict)

    @property
    def commentary(self) -> str | None:
        value = self.fields.get("commentary")
        return value.text if isinstance(value, Commentary) else None

    @property
    def metrics(self) -> list[Metric]:
        return [v for v in self.fields.values() if isinstance(v, Metric)]

    @property
    def actions(self) -> list[Action]:
        return [v for v in self.fields.values() if isinstance(v, Action)]


@dataclass(frozen=True)
class Revision:
    """One value a field had: what, who wrote it, when, in which content version."""

    revision_id: int
    strand_id: str
    quarter_end: str
    field: str
    content_version: int
    value: FieldValue | None
    written_by: str
    written_at: datetime


@dataclass(frozen=True)
class AuditEntry:
    """One transition of an update."""

    audit_id: int
    strand_id: str
    quarter_end: str
    action: str
    from_state: str | None
    to_state: str
    content_version: int
    actor: str
    at: datetime
    comment: str | None


@dataclass(frozen=True)
class ApprovedMark:
    """Which quarter's approved words a strand carries, approved by whom and when."""

    strand_id: str
    quarter_end: str
    version: int
    approved_by: str
    approved_at: datetime


@dataclass(frozen=True)
class StrandContent:
    """What the report shows for a strand and quarter, from one chosen version."""

    strand_id: str
    quarter_end: str
    state: str
    version: int
    approved: bool
    approved_by: str | None
    approved_at: datetime | None
    commentary: str | None
    metrics: list[Metric]
    actions: list[Action]


def _strand_checked(store: UpdateStore, strand_id: str) -> str:
    try:
        store.config.strand(strand_id)
    except KeyError:
        known = ", ".join(s.id for s in store.config.strands)
        raise UpdateError(f"Unknown strand '{strand_id}'. Known strands: {known}.") from None
    return strand_id


def _where(strand_id: str, quarter: str) -> sa.ColumnElement[bool]:
    return sa.and_(strand_update.c.strand_id == strand_id, strand_update.c.quarter_end == quarter)


def _row(connection: sa.Connection, strand_id: str, quarter: str) -> Any:
    return connection.execute(sa.select(strand_update).where(_where(strand_id, quarter))).first()


def _latest_fields(
    connection: sa.Connection, strand_id: str, quarter: str, up_to_version: int | None = None
) -> dict[str, tuple[FieldValue | None, int]]:
    """Each field's latest value (None when removed) and ordinal, up to a content version."""
    query = (
        sa.select(field_revision.c.field, field_revision.c.value, field_revision.c.ordinal)
        .where(field_revision.c.strand_id == strand_id, field_revision.c.quarter_end == quarter)
        .order_by(field_revision.c.revision_id)
    )
    if up_to_version is not None:
        query = query.where(field_revision.c.content_version <= up_to_version)
    latest: dict[str, tuple[FieldValue | None, int]] = {}
    for row in connection.execute(query):
        latest[row.field] = (decode(row.value), row.ordinal)
    return latest


def _present(fields: dict[str, tuple[FieldValue | None, int]]) -> dict[str, FieldValue]:
    ordered = sorted(fields.items(), key=lambda item: item[1][1])
    return {key: value for key, (value, _) in ordered if value is not None}


def _state_of(row: Any, strand_id: str, quarter: str, fields: dict[str, FieldValue]) -> UpdateState:
    if row is None:
        return UpdateState(
            strand_id, quarter, "draft", 1, 0, None, None, None, None, None, None, None, fields
        )
    return UpdateState(
        strand_id=row.strand_id,
        quarter_end=row.quarter_end,
        state=row.state,
        content_version=row.content_version,
        row_version=row.row_version,
        approved_version=row.approved_version,
        approved_by=row.approved_by,
        approved_at=as_utc(row.approved_at),
        submitted_by=row.submitted_by,
        return_comment=row.return_comment,
        changed_by=row.changed_by,
        changed_at=as_utc(row.changed_at),
        fields=fields,
    )


def read_update(store: UpdateStore, strand_id: str, quarter: str) -> UpdateState:
    """The strand's update for the quarter as it stands (an empty draft when not started)."""
    quarter = quarter_key(quarter)
    _strand_checked(store, strand_id)
    with store.connect() as connection:
        row = _row(connection, strand_id, quarter)
        fields = _present(_latest_fields(connection, strand_id, quarter))
    return _state_of(row, strand_id, quarter, fields)


def _label(store: UpdateStore, strand_id: str, quarter: str) -> str:
    return f"{store.config.strand(strand_id).name}, quarter ending {quarter}"


def _conflict(store: UpdateStore, row: Any, strand_id: str, quarter: str) -> Conflict:
    if row is None:
        return Conflict(
            f"The update for {_label(store, strand_id, quarter)} no longer exists as you saw "
            "it; reload the page and make your change again."
        )
    when = as_utc(row.changed_at)
    stamp = f"{when:%d %b %Y %H:%M} UTC" if when else "just now"
    return Conflict(
        f"Not saved: {row.changed_by} changed the update for {_label(store, strand_id, quarter)} "
        f"at {stamp}, after you opened it. Reload to see their version, then make your change "
        "again."
    )


def _audit(
    connection: sa.Connection,
    strand_id: str,
    quarter: str,
    action: str,
    from_state: str | None,
    to_state: str,
    version: int,
    actor: str,
    at: datetime,
    comment: str | None = None,
) -> None:
    connection.execute(
        update_audit.insert().values(
            strand_id=strand_id,
            quarter_end=quarter,
            action=action,
            from_state=from_state,
            to_state=to_state,
            content_version=version,
            actor=actor,
            at=at,
            comment=comment,
        )
    )


def _compare_and_set(
    store: UpdateStore,
    connection: sa.Connection,
    row: Any,
    strand_id: str,
    quarter: str,
    expected_row_version: int,
    values: dict[str, Any],
) -> None:
    """Write the row only if nobody has since: the heart of the optimistic lock."""
    result = connection.execute(
        strand_update.update()
        .where(_where(strand_id, quarter), strand_update.c.row_version == expected_row_version)
        .values(row_version=strand_update.c.row_version + 1, **values)
    )
    if result.rowcount != 1:
        raise _conflict(store, _row(connection, strand_id, quarter), strand_id, quarter)


def _next_ordinal(connection: sa.Connection) -> int:
    top = connection.execute(sa.select(sa.func.max(field_revision.c.ordinal))).scalar()
    return int(top or 0) + 1


def _action_ordinal(connection: sa.Connection, key: str) -> int | None:
    """An action keeps its place across quarters: the ordinal it was first given."""
    found = connection.execute(
        sa.select(sa.func.min(field_revision.c.ordinal)).where(field_revision.c.field == key)
    ).scalar()
    return None if found is None else int(found)


def _check_action_owner(
    connection: sa.Connection, store: UpdateStore, strand_id: str, key: str
) -> None:
    other = connection.execute(
        sa.select(field_revision.c.strand_id)
        .where(field_revision.c.field == key, field_revision.c.strand_id != strand_id)
        .limit(1)
    ).scalar()
    if other is not None:
        raise UpdateError(
            f"The action id {key.removeprefix('action/')} belongs to "
            f"{store.config.strand(other).name}; give the new action an id of its own."
        )


def save(
    store: UpdateStore,
    user: User,
    strand_id: str,
    quarter: str,
    expected_row_version: int,
    put: Sequence[FieldValue] = (),
    remove: Iterable[str] = (),
    *,
    action: str = "saved",
) -> UpdateState:
    """Write fields of a strand's update as `user`, who must lead the strand.

    `expected_row_version` is the `row_version` the user's screen shows (0 for an update not
    yet started). A change to an approved update starts the next version as a draft; a
    submitted update cannot change until it is returned or withdrawn.
    """
    quarter = quarter_key(quarter)
    _strand_checked(store, strand_id)
    require_lead(store.settings, store.config, user, strand_id)
    values = [checked(value, store.config, quarter) for value in put]
    keys = [value.key for value in values]
    if len(set(keys)) != len(keys):
        raise UpdateError("The same field is given twice in one change; give it once.")
    removed = [key for key in remove if key not in keys]
    at = now()
    with store.begin() as connection:
        row = _row(connection, strand_id, quarter)
        current = _latest_fields(connection, strand_id, quarter)
        changes = [v for v in values if current.get(v.key, (None, 0))[0] != v]
        changes_removed = [k for k in removed if current.get(k, (None, 0))[0] is not None]
        if row is not None and row.row_version != expected_row_version:
            raise _conflict(store, row, strand_id, quarter)
        if not changes and not changes_removed:
            return _state_of(row, strand_id, quarter, _present(current))
        if row is None:
            if expected_row_version != 0:
                raise _conflict(store, row, strand_id, quarter)
            try:
                with connection.begin_nested():
                    connection.execute(
                        strand_update.insert().values(
                            strand_id=strand_id,
                            quarter_end=quarter,
                            state="draft",
                            content_version=1,
                            row_version=1,
                            changed_by=user.name,
                            changed_at=at,
                        )
                    )
            except sa.exc.IntegrityError:
                raise _conflict(
                    store, _row(connection, strand_id, quarter), strand_id, quarter
                ) from None
            _audit(connection, strand_id, quarter, "created", None, "draft", 1, user.name, at)
            version, state = 1, "draft"
        else:
            version, state = row.content_version, row.state
            if state == "submitted":
                raise InvalidTransition(
                    f"The update for {_label(store, strand_id, quarter)} was submitted for "
                    f"approval by {row.submitted_by}; it cannot change until the approver "
                    "returns it or its lead withdraws it."
                )
            if state == "approved":
                version += 1
                _audit(
                    connection,
                    strand_id,
                    quarter,
                    "reopened",
                    "approved",
                    "draft",
                    version,
                    user.name,
                    at,
                    f"a change after approval starts version {version}",
                )
                state = "draft"
            _compare_and_set(
                store,
                connection,
                row,
                strand_id,
                quarter,
                expected_row_version,
                {
                    "state": state,
                    "content_version": version,
                    "changed_by": user.name,
                    "changed_at": at,
                },
            )
        for value in changes:
            ordinal = current.get(value.key, (None, None))[1]
            if isinstance(value, Action):
                _check_action_owner(connection, store, strand_id, value.key)
                ordinal = ordinal or _action_ordinal(connection, value.key)
            connection.execute(
                field_revision.insert().values(
                    strand_id=strand_id,
                    quarter_end=quarter,
                    field=value.key,
                    content_version=version,
                    value=encode(value),
                    ordinal=ordinal or _next_ordinal(connection),
                    written_by=user.name,
                    written_at=at,
                )
            )
        for key in changes_removed:
            connection.execute(
                field_revision.insert().values(
                    strand_id=strand_id,
                    quarter_end=quarter,
                    field=key,
                    content_version=version,
                    value=None,
                    ordinal=current[key][1],
                    written_by=user.name,
                    written_at=at,
                )
            )
        changed = [v.key for v in changes] + changes_removed
        _audit(
            connection,
            strand_id,
            quarter,
            action,
            state,
            state,
            version,
            user.name,
            at,
            ", ".join(changed),
        )
    return read_update(store, strand_id, quarter)


def _transition(
    store: UpdateStore,
    user: User,
    strand_id: str,
    quarter: str,
    expected_row_version: int,
    action: str,
    allowed_from: tuple[str, ...],
    to_state: str,
    extra: Callable[[Any], dict[str, Any]] | None = None,
    comment: str | None = None,
) -> UpdateState:
    at = now()
    with store.begin() as connection:
        row = _row(connection, strand_id, quarter)
        if row is None:
            raise InvalidTransition(
                f"Nothing has been written for {_label(store, strand_id, quarter)} yet; "
                "write the update before it is submitted."
            )
        if row.row_version != expected_row_version:
            raise _conflict(store, row, strand_id, quarter)
        if row.state not in allowed_from:
            raise InvalidTransition(
                f"The update for {_label(store, strand_id, quarter)} is {row.state}; it can be "
                f"{action} only when it is {' or '.join(allowed_from)}."
            )
        _compare_and_set(
            store,
            connection,
            row,
            strand_id,
            quarter,
            expected_row_version,
            {"state": to_state, "changed_by": user.name, "changed_at": at}
            | (extra(row) if extra else {}),
        )
        _audit(
            connection,
            strand_id,
            quarter,
            action,
            row.state,
            to_state,
            row.content_version,
            user.name,
            at,
            comment,
        )
    return read_update(store, strand_id, quarter)


def submit(
    store: UpdateStore, user: User, strand_id: str, quarter: str, expected_row_version: int
) -> UpdateState:
    """A lead sends the strand's update for approval."""
    quarter = quarter_key(quarter)
    _strand_checked(store, strand_id)
    require_lead(store.settings, store.config, user, strand_id)
    return _transition(
        store,
        user,
        strand_id,
        quarter,
        expected_row_version,
        "submitted",
        ("draft", "returned"),
        "submitted",
        lambda row: {"submitted_by": user.name},
    )


def withdraw(
    store: UpdateStore, user: User, strand_id: str, quarter: str, expected_row_version: int
) -> UpdateState:
    """A lead takes a submitted update back to draft, to change it before approval."""
    quarter = quarter_key(quarter)
    _strand_checked(store, strand_id)
    require_lead(store.settings, store.config, user, strand_id)
    return _transition(
        store,
        user,
        strand_id,
        quarter,
        expected_row_version,
        "withdrawn",
        ("submitted",),
        "draft",
    )


def _require_not_submitter(store: UpdateStore, user: User, strand_id: str, quarter: str) -> None:
    with store.connect() as connection:
        row = _row(connection, strand_id, quarter)
    if row is not None and row.submitted_by == user.name and row.state == "submitted":
        raise NotPermitted(
            f"{user.name} submitted the update for {_label(store, strand_id, quarter)}; "
            "someone else holding the approver role must approve or return it."
        )


def approve(
    store: UpdateStore, user: User, strand_id: str, quarter: str, expected_row_version: int
) -> UpdateState:
    """An approver approves the submitted update: its content version is locked and becomes
    what the report carries."""
    quarter = quarter_key(quarter)
    _strand_checked(store, strand_id)
    require_approver(store.settings, user)
    _require_not_submitter(store, user, strand_id, quarter)
    return _transition(
        store,
        user,
        strand_id,
        quarter,
        expected_row_version,
        "approved",
        ("submitted",),
        "approved",
        lambda row: {
            "approved_version": row.content_version,
            "approved_by": user.name,
            "approved_at": now(),
            "return_comment": None,
        },
    )


def return_update(
    store: UpdateStore,
    user: User,
    strand_id: str,
    quarter: str,
    expected_row_version: int,
    comment: str,
) -> UpdateState:
    """An approver sends the submitted update back to its lead, saying what to change."""
    quarter = quarter_key(quarter)
    _strand_checked(store, strand_id)
    require_approver(store.settings, user)
    _require_not_submitter(store, user, strand_id, quarter)
    comment = comment.strip() if isinstance(comment, str) else ""
    if not comment:
        raise UpdateError("Say what should change: an update is returned with a comment.")
    return _transition(
        store,
        user,
        strand_id,
        quarter,
        expected_row_version,
        "returned",
        ("submitted",),
        "returned",
        lambda row: {"return_comment": comment},
        comment,
    )


def _revision(row: Any) -> Revision:
    return Revision(
        revision_id=row.revision_id,
        strand_id=row.strand_id,
        quarter_end=row.quarter_end,
        field=row.field,
        content_version=row.content_version,
        value=decode(row.value),
        written_by=row.written_by,
        written_at=as_utc(row.written_at) or row.written_at,
    )


def history(
    store: UpdateStore, strand_id: str, quarter: str, field_key: str | None = None
) -> list[Revision]:
    """Every value the update's fields have had (one field's, when named), oldest first."""
    quarter = quarter_key(quarter)
    query = (
        sa.select(field_revision)
        .where(field_revision.c.strand_id == strand_id, field_revision.c.quarter_end == quarter)
        .order_by(field_revision.c.revision_id)
    )
    if field_key is not None:
        query = query.where(field_revision.c.field == field_key)
    with store.connect() as connection:
        return [_revision(row) for row in connection.execute(query)]


def restore(
    store: UpdateStore,
    user: User,
    strand_id: str,
    quarter: str,
    revision_id: int,
    expected_row_version: int,
) -> UpdateState:
    """Make an earlier value of a field its current value again (a new revision; the history
    in between is kept)."""
    quarter = quarter_key(quarter)
    with store.connect() as connection:
        row = connection.execute(
            sa.select(field_revision).where(field_revision.c.revision_id == revision_id)
        ).first()
    if row is None or (row.strand_id, row.quarter_end) != (strand_id, quarter):
        raise UpdateError(
            f"There is no revision {revision_id} of {_label(store, strand_id, quarter)}."
        )
    value = decode(row.value)
    return save(
        store,
        user,
        strand_id,
        quarter,
        expected_row_version,
        put=[value] if value is not None else [],
        remove=[] if value is not None else [row.field],
        action=f"restored revision {revision_id}",
    )


def audit_trail(
    store: UpdateStore, strand_id: str | None = None, quarter: str | None = None
) -> list[AuditEntry]:
    """The recorded transitions, oldest first, for one update or all of them."""
    query = sa.select(update_audit).order_by(update_audit.c.audit_id)
    if strand_id is not None:
        query = query.where(update_audit.c.strand_id == strand_id)
    if quarter is not None:
        query = query.where(update_audit.c.quarter_end == quarter_key(quarter))
    with store.connect() as connection:
        return [
            AuditEntry(
                audit_id=row.audit_id,
                strand_id=row.strand_id,
                quarter_end=row.quarter_end,
                action=row.action,
                from_state=row.from_state,
                to_state=row.to_state,
                content_version=row.content_version,
                actor=row.actor,
                at=as_utc(row.at) or row.at,
                comment=row.comment,
            )
            for row in connection.execute(query)
        ]


def approved_marks(store: UpdateStore, up_to: str | None = None) -> dict[str, ApprovedMark]:
    """Per strand, the latest quarter (ending at or before the month `up_to`) whose approved
    words it carries: what the Overview and the deck show beside each strand."""
    query = sa.select(strand_update).where(strand_update.c.approved_version.is_not(None))
    if up_to is not None:
        query = query.where(strand_update.c.quarter_end <= last_quarter_by(up_to))
    marks: dict[str, ApprovedMark] = {}
    with store.connect() as connection:
        for row in connection.execute(query.order_by(strand_update.c.quarter_end)):
            marks[row.strand_id] = ApprovedMark(
                strand_id=row.strand_id,
                quarter_end=row.quarter_end,
                version=row.approved_version,
                approved_by=row.approved_by,
                approved_at=as_utc(row.approved_at) or row.approved_at,
            )
    order = {s.id: i for i, s in enumerate(store.config.strands)}
    return dict(sorted(marks.items(), key=lambda item: order.get(item[0], len(order))))


def folded_fields(
    connection: sa.Connection, selection: Selection, quarter: str | None = None
) -> dict[tuple[str, str], tuple[Any, dict[str, tuple[FieldValue, int]]]]:
    """Per (strand, quarter): its update row and the fields of the chosen version with their
    ordinals. `approved` leaves out updates never approved."""
    rows_query = sa.select(strand_update)
    revisions_query = sa.select(field_revision).order_by(field_revision.c.revision_id)
    if quarter is not None:
        rows_query = rows_query.where(strand_update.c.quarter_end == quarter)
        revisions_query = revisions_query.where(field_revision.c.quarter_end == quarter)
    rows = {(r.strand_id, r.quarter_end): r for r in connection.execute(rows_query)}
    if selection == "approved":
        rows = {k: r for k, r in rows.items() if r.approved_version is not None}
    latest: dict[tuple[str, str], dict[str, tuple[FieldValue | None, int]]] = {k: {} for k in rows}
    for revision in connection.execute(revisions_query):
        key = (revision.strand_id, revision.quarter_end)
        if key not in rows:
            continue
        limit = rows[key].approved_version if selection == "approved" else None
        if limit is not None and revision.content_version > limit:
            continue
        latest[key][revision.field] = (decode(revision.value), revision.ordinal)
    return {
        key: (rows[key], {f: (v, o) for f, (v, o) in fields.items() if v is not None})
        for key, fields in latest.items()
    }


def quarter_content(
    store: UpdateStore, quarter: str, selection: Selection = "approved"
) -> dict[str, StrandContent]:
    """Per strand, the quarter's words, results and actions: the approved version only
    (`approved`, what the deck is built from) or the latest draft (`latest`)."""
    quarter = quarter_key(quarter)
    with store.connect() as connection:
        folded = folded_fields(connection, selection, quarter)
    order = {s.id: i for i, s in enumerate(store.config.strands)}
    content: dict[str, StrandContent] = {}
    for (strand_id, quarter_end), (row, fields) in sorted(
        folded.items(), key=lambda item: order.get(item[0][0], len(order))
    ):
        values = [v for v, _ in sorted(fields.values(), key=lambda pair: pair[1])]
        commentary = next((v.text for v in values if isinstance(v, Commentary)), None)
        approved = selection == "approved"
        content[strand_id] = StrandContent(
            strand_id=strand_id,
            quarter_end=quarter_end,
            state=row.state,
            version=row.approved_version if approved else row.content_version,
            approved=approved or row.state == "approved",
            approved_by=row.approved_by,
            approved_at=as_utc(row.approved_at),
            commentary=commentary,
            metrics=[v for v in values if isinstance(v, Metric)],
            actions=[v for v in values if isinstance(v, Action)],
        )
    return content


def quarter_status(store: UpdateStore, quarter: str) -> list[dict[str, Any]]:
    """One row per strand of the configuration: where its update for the quarter stands."""
    quarter = quarter_key(quarter)
    with store.connect() as connection:
        rows = {
            r.strand_id: r
            for r in connection.execute(
                sa.select(strand_update).where(strand_update.c.quarter_end == quarter)
            )
        }
    marks = approved_marks(store, quarter)
    status = []
    for strand in store.config.strands:
        row = rows.get(strand.id)
        mark = marks.get(strand.id)
        status.append(
            {
                "strand_id": strand.id,
                "strand_name": strand.name,
                "state": row.state if row is not None else "not started",
                "content_version": row.content_version if row is not None else None,
                "approved_version": row.approved_version if row is not None else None,
                "approved_by": row.approved_by if row is not None else None,
                "changed_by": row.changed_by if row is not None else None,
                "changed_at": as_utc(row.changed_at) if row is not None else None,
                "carries_approved_quarter": mark.quarter_end if mark else None,
            }
        )
    return status
