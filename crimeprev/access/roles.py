"""Roles: viewer, analyst and admin, each allowed everything the one before it is, read from a
claim of the identity token through the mapping in `access.toml`.

Without sign-in configured the dashboard runs in local mode, served to this computer alone,
and its one user holds every role.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum
from pathlib import Path
from typing import Any

from crimeprev.config import DEFAULT_CONFIG_DIR, ConfigError

ACCESS_FILE = "access.toml"


class Role(IntEnum):
    """A role; a higher one may do everything a lower one may."""

    VIEWER = 1
    ANALYST = 2
    ADMIN = 3

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Role:
        """The role named `text` (viewer, analyst, admin)."""
        try:
            return cls[text.strip().upper()]
        except KeyError:
            raise ConfigError(f"'{text}' is not a role: use viewer, analyst or admin.") from None


# What each part of the dashboard needs.
SEES_RECORDS = Role.ANALYST  # record-level rows (one crime), Explore to LSOA and month
RUNS_SQL = Role.ANALYST
EXPORTS = Role.ANALYST  # the SQL console's downloads of raw results
IMPORTS = Role.ADMIN  # imports, set-aside rows, the audit trail
SEES_UNSUPPRESSED = Role.ANALYST  # small counts in sensitive strands


@dataclass(frozen=True)
class AccessConfig:
    """The claim that carries roles, what its values map to, and the audit trail's rotation."""

    role_claim: str = "roles"
    roles: Mapping[str, Role] = field(default_factory=dict)
    audit_max_bytes: int = 5_000_000
    audit_backups: int = 20


def load_access(folder: Path | None = None) -> AccessConfig:
    """`access.toml` from `folder` (a data folder's `config/`) when it has one, else the
    default."""
    path = folder / ACCESS_FILE if folder is not None else None
    if path is None or not path.is_file():
        path = DEFAULT_CONFIG_DIR / ACCESS_FILE
    try:
        with path.open("rb") as handle:
            raw: dict[str, Any] = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path.name}: not valid TOML ({error}).") from error
    roles = raw.get("roles", {})
    if not isinstance(roles, dict):
        raise ConfigError(f"{path.name}: [roles] maps claim values to roles.")
    audit = raw.get("audit", {})
    return AccessConfig(
        role_claim=str(raw.get("role_claim", "roles")),
        roles={str(value): Role.parse(str(role)) for value, role in roles.items()},
        audit_max_bytes=int(audit.get("max_bytes", 5_000_000)),
        audit_backups=int(audit.get("backups", 20)),
    )


def role_from_claims(claims: Mapping[str, Any], access: AccessConfig) -> Role | None:
    """The highest role any value of the role claim maps to; None when none does."""
    raw = claims.get(access.role_claim)
    values = [raw] if isinstance(raw, str) else list(raw or [])
    held = [access.roles[str(value)] for value in values if str(value) in access.roles]
    return max(held) if held else None
