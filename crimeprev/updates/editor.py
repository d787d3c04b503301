"""What the Update page's form is made of and turns back into: the person signed in as an
update `User`, the operational results and actions as tables to edit, the change a save makes,
the totals (computed from the actions, never typed), and the words beside each entry of the
history. The page lays these out; nothing here knows about Streamlit."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import pandas as pd
import sqlalchemy as sa

from crimeprev.config import Config
from crimeprev.periods import PeriodError, month_long_label, parse_month
from crimeprev.updates.content import (
    Action,
    Commentary,
    FieldValue,
    InvalidContent,
    Metric,
    quarter_key,
)
from crimeprev.updates.permissions import User, can_approve, led_strands
from crimeprev.updates.schema import field_revision, strand_update
from crimeprev.updates.settings import UpdateSettings
from crimeprev.updates.store import UpdateStore
from crimeprev.updates.workflow import AuditEntry, Revision, UpdateState, _latest_fields, _present

METRIC_COLUMNS = ("operation", "metric", "value", "unit", "period_label", "period_end")
ACTION_COLUMNS = ("action_id", "title", "target_month", "completed_month", "status")
NO_STATUS = "not reported"


def user_from_claims(claims: Mapping[str, Any], role_claim: str, name: str) -> User:
    """The update `User` of a signed-in person: their roles are the values of the dashboard's
    role claim and of `groups`, the approver role among them when they hold it."""
    roles: set[str] = set()
    for claim in (role_claim, "roles", "groups"):
        raw = claims.get(claim)
        if isinstance(raw, str):
            roles.add(raw)
        elif isinstance(raw, list | tuple):
            roles |= {str(v) for v in raw if isinstance(v, str)}
    return User(name=name, roles=frozenset(roles), claims=dict(claims))


def local_settings(settings: UpdateSettings, config: Config, name: str) -> UpdateSettings:
    """The settings of a dashboard in local mode, whose one user writes every strand (matched
    by the lead claim holding `name`) besides the leads configured."""
    leads = {strand.id: (*settings.leads.get(strand.id, ()), name) for strand in config.strands}
    return replace(settings, leads=leads)


def local_user(settings: UpdateSettings, name: str) -> User:
    """The one user of local mode: leads every strand (see `local_settings`) and approves."""
    return User(
        name=name,
        roles=frozenset({settings.approver_role}),
        claims={settings.lead_claim: name},
    )


def may_open(settings: UpdateSettings, user: User) -> bool:
    """Whether the Update page has anything for the user: a strand they lead, or approval."""
    return bool(led_strands(settings, user)) or can_approve(settings, user)


def update_strands(settings: UpdateSettings, config: Config, user: User) -> list[str]:
    """The strands whose update the user may open: the ones they lead, or every strand for
    an approver."""
    if can_approve(settings, user):
        return [s.id for s in config.strands]
    return list(led_strands(settings, user))


def quarter_label(quarter: str) -> str:
    """`the quarter ending September 2022`."""
    return f"the quarter ending {month_long_label(parse_month(quarter))}"


def metrics_frame(metrics: Sequence[Metric]) -> pd.DataFrame:
    """The operational results as the table the lead edits."""
    rows = [
        {
            "operation": m.operation,
            "metric": m.metric,
            "value": float(m.value),
            "unit": m.unit,
            "period_label": m.period_label,
            "period_end": m.period_end,
        }
        for m in metrics
    ]
    return pd.DataFrame(rows, columns=list(METRIC_COLUMNS)).astype(
        {"value": "float64"} | {c: "object" for c in METRIC_COLUMNS if c != "value"}
    )


def actions_frame(actions: Sequence[Action]) -> pd.DataFrame:
    """The delivery actions as the table the lead edits (a blank status: not reported)."""
    rows = [
        {
            "action_id": a.action_id,
            "title": a.title,
            "target_month": a.target_month,
            "completed_month": a.completed_month or "",
            "status": a.status or NO_STATUS,
        }
        for a in actions
    ]
    return pd.DataFrame(rows, columns=list(ACTION_COLUMNS)).astype(object)


def _blank(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _cell(value: Any) -> str:
    return "" if _blank(value) else str(value).strip()


def _number(value: Any, row: int) -> float:
    if _blank(value):
        raise InvalidContent(f"Result row {row}: the value is empty; enter a number.")
    try:
        number = float(str(value).replace(",", ""))
    except ValueError:
        raise InvalidContent(f"Result row {row}: '{value}' is not a number.") from None
    return number


def _month_text(value: Any, what: str) -> str:
    text = _cell(value)
    try:
        return text and f"{parse_month(text):%Y-%m}"
    except PeriodError as error:
        raise InvalidContent(f"{what}: {error}") from None


def metrics_from_frame(frame: pd.DataFrame, quarter: str) -> list[Metric]:
    """The edited results table as results; a row left wholly blank is ignored, a half-filled
    one is a sentence naming its row. The period's end defaults to the quarter's."""
    metrics = []
    for number, row in enumerate(frame.to_dict("records"), start=1):
        if all(_blank(row.get(c)) for c in METRIC_COLUMNS):
            continue
        metrics.append(
            Metric(
                operation=_cell(row.get("operation")),
                period_label=_cell(row.get("period_label")) or quarter_label(quarter),
                period_end=_month_text(row.get("period_end"), f"Result row {number}") or quarter,
                metric=_cell(row.get("metric")),
                value=_number(row.get("value"), number),
                unit=_cell(row.get("unit")),
            )
        )
    return metrics


def actions_from_frame(frame: pd.DataFrame) -> list[Action]:
    """The edited actions table as actions; a row left wholly blank is ignored."""
    actions = []
    for number, row in enumerate(frame.to_dict("records"), start=1):
        if all(_blank(row.get(c)) or row.get(c) == NO_STATUS for c in ACTION_COLUMNS):
            continue
        status = _cell(row.get("status"))
        action_id = _cell(row.get("action_id"))
        if not action_id:
            raise InvalidContent(f"Action row {number} has no id; give it one (e.g. KC-07).")
        actions.append(
            Action(
                action_id=action_id,
                title=_cell(row.get("title")),
                target_month=_month_text(row.get("target_month"), f"Action {action_id}'s due"),
                completed_month=_month_text(
                    row.get("completed_month"), f"Action {action_id}'s completion"
                )
                or None,
                status=None if status in ("", NO_STATUS) else status,
            )
        )
    return actions


@dataclass(frozen=True)
class Change:
    """What a save writes: the values to put and the keys of fields to remove."""

    put: list[FieldValue]
    remove: list[str]

    @property
    def empty(self) -> bool:
        return not self.put and not self.remove


def form_change(
    state: UpdateState, commentary: str, metrics: Sequence[Metric], actions: Sequence[Action]
) -> Change:
    """The change from the update as stored to the form as edited: every value the form holds
    (the store keeps only those that differ) and the results or actions taken out of it."""
    put: list[FieldValue] = [*metrics, *actions]
    if commentary.strip() or state.commentary is not None:
        put.insert(0, Commentary(commentary))
    kept = {value.key for value in put}
    remove = [
        key
        for key, value in state.fields.items()
        if isinstance(value, Metric | Action) and key not in kept
    ]
    return Change(put=put, remove=remove)


def starting_actions(store: UpdateStore, strand_id: str, quarter: str) -> list[Action]:
    """The actions a quarter's update starts from when it holds none yet: the strand's
    actions as its latest earlier update left them."""
    quarter = quarter_key(quarter)
    with store.connect() as connection:
        earlier = connection.execute(
            sa.select(sa.func.max(field_revision.c.quarter_end)).where(
                field_revision.c.strand_id == strand_id,
                field_revision.c.quarter_end < quarter,
                field_revision.c.field.like("action/%"),
            )
        ).scalar()
        if earlier is None:
            return []
        fields = _present(_latest_fields(connection, strand_id, earlier))
    return [value for value in fields.values() if isinstance(value, Action)]


def action_totals(actions: Sequence[Action], statuses: Sequence[str]) -> pd.DataFrame:
    """How many of the strand's actions stand at each status, and the total: counted from the
    actions themselves, so a total can never disagree with its rows."""
    counts = {status: 0 for status in (*statuses, NO_STATUS)}
    for action in actions:
        counts[action.status or NO_STATUS] = counts.get(action.status or NO_STATUS, 0) + 1
    rows = [{"status": s, "count_actions": n} for s, n in counts.items() if n]
    rows.append({"status": "total", "count_actions": len(actions)})
    return pd.DataFrame(rows, columns=["status", "count_actions"])


def field_label(key: str, value: FieldValue | None) -> str:
    """A field's name as a person reads it."""
    if isinstance(value, Commentary) or key == "commentary":
        return "Commentary"
    if isinstance(value, Metric):
        return f"Result: {value.operation} · {value.metric} ({value.period_label})"
    if isinstance(value, Action):
        return f"Action {value.action_id}: {value.title}"
    return key


def value_text(value: FieldValue | None, limit: int = 200) -> str:
    """A revision's value in one line (removed fields say so)."""
    if value is None:
        return "(removed)"
    if isinstance(value, Commentary):
        text = " ".join(value.text.split())
    elif isinstance(value, Metric):
        text = f"{value.value:,} {value.unit}, to {value.period_end}"
    else:
        done = f", completed {value.completed_month}" if value.completed_month else ""
        text = f"{value.status or NO_STATUS}, due {value.target_month}{done}"
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _stamp(at: datetime) -> str:
    return f"{at:%d %b %Y %H:%M} UTC"


def history_table(revisions: Sequence[Revision]) -> list[tuple[str, str, pd.DataFrame]]:
    """Per field: its key, its label and its revisions newest first (version, who, when, the
    value), in the order the fields were first written."""
    by_field: dict[str, list[dict[str, Any]]] = {}
    labels: dict[str, str] = {}
    for revision in revisions:
        if revision.value is not None or revision.field not in labels:
            labels[revision.field] = field_label(revision.field, revision.value)
        by_field.setdefault(revision.field, []).append(
            {
                "revision_id": revision.revision_id,
                "content_version": revision.content_version,
                "written_by": revision.written_by,
                "written_at": _stamp(revision.written_at),
                "value": value_text(revision.value),
            }
        )
    return [
        (key, labels[key], pd.DataFrame(list(reversed(rows)))) for key, rows in by_field.items()
    ]


def store_is_empty(store: UpdateStore) -> bool:
    """Whether nothing has been written to the store yet (the CSV files not imported)."""
    with store.connect() as connection:
        held = connection.execute(sa.select(sa.func.count()).select_from(strand_update)).scalar()
    return not held


def state_sentence(state: UpdateState, approver_title: str) -> str:
    """Where the update stands, in a sentence: its state, version, and who last changed it."""
    if state.row_version == 0:
        return f"Not started: nothing has been written for {quarter_label(state.quarter_end)}."
    said = {
        "draft": "a draft",
        "submitted": f"submitted for approval by {state.submitted_by}",
        "approved": f"approved by {approver_title} {state.approved_by}".replace("  ", " "),
        "returned": "returned to its lead",
    }[state.state]
    when = f", last changed by {state.changed_by}"
    if state.changed_at is not None:
        when += f" at {_stamp(state.changed_at)}"
    carried = ""
    if state.approved_version is not None and state.approved_version != state.content_version:
        carried = (
            f" The report carries version {state.approved_version}, approved by "
            f"{state.approved_by}, until this one is approved."
        )
    return f"Version {state.content_version}, {said}{when}.{carried}"


def audit_rows(entries: Sequence[AuditEntry]) -> pd.DataFrame:
    """An update's recorded transitions as a table a person reads, oldest first."""
    return pd.DataFrame(
        [
            {
                "at": _stamp(e.at),
                "who": e.actor,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
                "content_version": e.content_version,
                "comment": e.comment,
            }
            for e in entries
        ],
        columns=["at", "who", "action", "from_state", "to_state", "content_version", "comment"],
    )
