"""Who may write and approve the quarterly update: plain functions of a signed-in user, so a
page, the command line and a test ask the same question the same way."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from crimeprev.config import Config
from crimeprev.updates.settings import UpdateSettings
from crimeprev.updates.store import UpdateError


class NotPermitted(UpdateError):
    """The user may not do what they asked."""


@dataclass(frozen=True, eq=False)
class User:
    """Someone signed in: a display name, the roles and groups of their identity token, and
    its other claims (e-mail, object id, ...)."""

    name: str
    roles: frozenset[str] = frozenset()
    claims: Mapping[str, object] = field(default_factory=dict)


def claim_values(user: User, claim: str) -> set[str]:
    """The values a user holds for a claim; `roles` and `groups` include the user's roles."""
    raw = user.claims.get(claim)
    values: set[str] = set()
    if isinstance(raw, str):
        values = {raw}
    elif isinstance(raw, list | tuple | set | frozenset):
        values = {v for v in raw if isinstance(v, str)}
    if claim in ("roles", "groups"):
        values |= set(user.roles)
    if claim == "name":
        values.add(user.name)
    return {v.strip().lower() for v in values if v.strip()}


def led_strands(settings: UpdateSettings, user: User) -> tuple[str, ...]:
    """The strands whose update the user writes, in the order of the settings."""
    held = claim_values(user, settings.lead_claim)
    return tuple(
        strand_id
        for strand_id, leads in settings.leads.items()
        if held & {lead.strip().lower() for lead in leads}
    )


def can_edit(settings: UpdateSettings, user: User, strand_id: str) -> bool:
    """Whether the user leads the strand, and so writes and submits its update."""
    return strand_id in led_strands(settings, user)


def can_approve(settings: UpdateSettings, user: User) -> bool:
    """Whether the user holds the role that approves updates."""
    wanted = settings.approver_role.strip().lower()
    return wanted in {role.strip().lower() for role in user.roles}


def require_lead(settings: UpdateSettings, config: Config, user: User, strand_id: str) -> None:
    """Raise NotPermitted unless the user leads the strand."""
    if not can_edit(settings, user, strand_id):
        name = config.strand(strand_id).name
        raise NotPermitted(
            f"{user.name} is not a lead of {name}; only its leads (config/updates.toml, "
            "[leads]) write and submit its update."
        )


def require_approver(settings: UpdateSettings, user: User) -> None:
    """Raise NotPermitted unless the user may approve updates."""
    if not can_approve(settings, user):
        raise NotPermitted(
            f"{user.name} does not hold the role '{settings.approver_role}' that approves updates."
        )
