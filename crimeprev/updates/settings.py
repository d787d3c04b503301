"""The quarterly update's settings (`config/updates.toml`): where updates are stored, who
approves them, and which leads write which strand. Validated when loaded."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from crimeprev.config import DEFAULT_CONFIG_DIR, Config, ConfigError

SETTINGS_FILE = "updates.toml"
DATABASE_URL_VARIABLE = "CRIMEPREV_DATABASE_URL"
SQLITE_FILE = "updates.db"


@dataclass(frozen=True)
class UpdateSettings:
    """Who may do what with the quarterly update, and where it is kept."""

    database_url: str | None = None
    approver_role: str = "approver"
    approver_title: str = "ACC"
    lead_claim: str = "email"
    # strand id -> the claim values of the people who lead it
    leads: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def database_url_for(self, root: Path) -> str:
        """The store's address: the environment's, the settings', else SQLite in `root`."""
        configured = os.environ.get(DATABASE_URL_VARIABLE, "").strip() or self.database_url
        if configured:
            return configured
        return f"sqlite:///{(root / SQLITE_FILE).resolve()}"


def _text(raw: dict[str, Any], key: str, default: str, path: Path) -> str:
    value = raw.get(key, default)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{path}: '{key}' must be a non-empty text.")
    return value.strip()


def load_update_settings(config: Config, folder: Path | None = None) -> UpdateSettings:
    """Read `updates.toml` from `folder` (a data folder's `config/`), else the shipped one."""
    path = DEFAULT_CONFIG_DIR / SETTINGS_FILE
    if folder is not None and (folder / SETTINGS_FILE).is_file():
        path = folder / SETTINGS_FILE
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML ({error}).") from error
    known = {"database_url", "approver_role", "approver_title", "lead_claim", "leads"}
    unknown = sorted(set(raw) - known)
    if unknown:
        raise ConfigError(f"{path}: unknown settings {unknown}; known: {sorted(known)}.")
    url = raw.get("database_url")
    if url is not None and not isinstance(url, str):
        raise ConfigError(f"{path}: 'database_url' must be a text such as postgresql+psycopg://…")
    leads_raw = raw.get("leads", {})
    if not isinstance(leads_raw, dict):
        raise ConfigError(f"{path}: [leads] must map strand ids to lists of claim values.")
    strand_ids = {s.id for s in config.strands}
    leads: dict[str, tuple[str, ...]] = {}
    for strand_id, values in leads_raw.items():
        if strand_id not in strand_ids:
            raise ConfigError(
                f"{path}: [leads] names an unknown strand '{strand_id}'; "
                f"known: {', '.join(sorted(strand_ids))}."
            )
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, list) or not all(isinstance(v, str) and v for v in values):
            raise ConfigError(f"{path}: [leads] {strand_id} must be a list of claim values.")
        leads[strand_id] = tuple(values)
    return UpdateSettings(
        database_url=url.strip() or None if isinstance(url, str) else None,
        approver_role=_text(raw, "approver_role", UpdateSettings.approver_role, path),
        approver_title=_text(raw, "approver_title", UpdateSettings.approver_title, path),
        lead_claim=_text(raw, "lead_claim", UpdateSettings.lead_claim, path),
        leads=leads,
    )
