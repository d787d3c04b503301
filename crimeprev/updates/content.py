"""What a strand's quarterly update holds, field by field: the commentary, each operational
result, and each delivery action with its status at the quarter's end. Each value is checked
when it is written; a mistake is one sentence naming the field."""

from __future__ import annotations

import json
import math
import re
from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

from crimeprev.config import Config
from crimeprev.periods import PeriodError, format_month, parse_month
from crimeprev.updates.store import UpdateError

QUARTER_END_MONTHS = (3, 6, 9, 12)
COMMENTARY_FIELD = "commentary"
MAX_COMMENTARY_CHARS = 20_000
MAX_TEXT_CHARS = 300
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class InvalidContent(UpdateError):
    """A value that cannot be saved as it is."""


@dataclass(frozen=True)
class Commentary:
    """The lead's words for the strand and quarter, in Markdown."""

    text: str

    @property
    def key(self) -> str:
        return COMMENTARY_FIELD


@dataclass(frozen=True)
class Metric:
    """One operational result: `metric` (arrests, cash seized) of `operation`, for the period
    `period_label` ending `period_end` (YYYY-MM), as `value` in `unit`."""

    operation: str
    period_label: str
    period_end: str
    metric: str
    value: float | int
    unit: str

    @property
    def key(self) -> str:
        parts = [self.operation, self.period_label, self.metric]
        return "metric/" + json.dumps(parts, ensure_ascii=False)


@dataclass(frozen=True)
class Action:
    """A delivery-plan action as it stood at the quarter's end; `status` is None for an
    action with no status reported that quarter."""

    action_id: str
    title: str
    target_month: str
    completed_month: str | None
    status: str | None

    @property
    def key(self) -> str:
        return f"action/{self.action_id}"


FieldValue = Commentary | Metric | Action


def quarter_key(text: str | date) -> str:
    """A quarter as its last month, YYYY-MM; refuses a month that does not end a quarter."""
    month = text if isinstance(text, date) else parse_month(str(text))
    if month.month not in QUARTER_END_MONTHS:
        raise PeriodError(
            f"{format_month(month)} does not end a quarter: give March, June, September or "
            "December (YYYY-MM)."
        )
    return format_month(month)


def quarter_of(month_text: str) -> str:
    """The quarter (its last month) a month falls in."""
    month = parse_month(month_text)
    end = ((month.month - 1) // 3 + 1) * 3
    return format_month(date(month.year, end, 1))


def last_quarter_by(text: str | date) -> str:
    """The latest quarter ending at or before a month (the month itself when it ends one)."""
    month = text if isinstance(text, date) else parse_month(str(text))
    end_month = (month.month // 3) * 3
    if end_month == 0:
        return format_month(date(month.year - 1, 12, 1))
    return format_month(date(month.year, end_month, 1))


def _no_control_characters(text: str, what: str) -> None:
    # PostgreSQL cannot store NUL, and no other control character belongs in a report.
    if CONTROL_CHARACTERS.search(text):
        raise InvalidContent(
            f"{what} holds a control character (such as NUL) that cannot be stored; "
            "remove it, or paste the text again as plain text."
        )


def _text(value: Any, what: str, limit: int = MAX_TEXT_CHARS, required: bool = True) -> str:
    if not isinstance(value, str):
        raise InvalidContent(f"{what} must be text.")
    _no_control_characters(value, what)
    text: str = value.strip()
    if required and not text:
        raise InvalidContent(f"{what} is empty; write it in.")
    if len(text) > limit:
        raise InvalidContent(f"{what} is longer than {limit:,} characters; shorten it.")
    return text


def _month(value: Any, what: str) -> str:
    try:
        return format_month(parse_month(str(value)))
    except PeriodError as error:
        raise InvalidContent(f"{what}: {error}") from error


def checked(value: FieldValue, config: Config, quarter: str) -> FieldValue:
    """The value with its text trimmed, or InvalidContent saying what is wrong."""
    if isinstance(value, Commentary):
        if not isinstance(value.text, str):
            raise InvalidContent("The commentary must be text.")
        _no_control_characters(value.text, "The commentary")
        if len(value.text) > MAX_COMMENTARY_CHARS:
            raise InvalidContent(
                f"The commentary is longer than {MAX_COMMENTARY_CHARS:,} characters; shorten it."
            )
        return Commentary(text=value.text.strip())
    if isinstance(value, Metric):
        number = value.value
        if isinstance(number, bool) or not isinstance(number, int | float):
            raise InvalidContent(f"The value of '{value.metric}' must be a number.")
        if not math.isfinite(number):
            raise InvalidContent(f"The value of '{value.metric}' must be a finite number.")
        metric = Metric(
            operation=_text(value.operation, "The operation"),
            period_label=_text(value.period_label, "The period label"),
            period_end=_month(value.period_end, "The period end"),
            metric=_text(value.metric, "The metric's name"),
            value=int(number) if float(number).is_integer() else float(number),
            unit=_text(value.unit, "The unit"),
        )
        if quarter_of(metric.period_end) != quarter:
            raise InvalidContent(
                f"'{metric.metric}' ends {metric.period_end}, outside the quarter ending "
                f"{quarter}; enter it in that quarter's update."
            )
        return metric
    if isinstance(value, Action):
        statuses = config.taxonomy.delivery_statuses
        status = value.status.strip().lower() if isinstance(value.status, str) else None
        if status is not None and status not in statuses:
            raise InvalidContent(
                f"Action {value.action_id}: the status '{value.status}' is not one of "
                f"{', '.join(statuses)}."
            )
        completed = value.completed_month
        action = Action(
            action_id=_text(value.action_id, "The action id", limit=50),
            title=_text(value.title, f"Action {value.action_id}'s title"),
            target_month=_month(value.target_month, f"Action {value.action_id}'s due month"),
            completed_month=(
                _month(completed, f"Action {value.action_id}'s completed month")
                if completed not in (None, "")
                else None
            ),
            status=status,
        )
        return action
    raise InvalidContent(f"A {type(value).__name__} is not part of a quarterly update.")


def encode(value: FieldValue) -> str:
    """The value as stored: JSON with its kind."""
    kind = type(value).__name__.lower()
    return json.dumps({"kind": kind} | asdict(value), ensure_ascii=False, sort_keys=True)


def decode(text: str | None) -> FieldValue | None:
    """A stored value back (None for a removed field)."""
    if text is None:
        return None
    raw = json.loads(text)
    kind = raw.pop("kind")
    kinds: dict[str, type[FieldValue]] = {
        "commentary": Commentary,
        "metric": Metric,
        "action": Action,
    }
    return kinds[kind](**raw)
