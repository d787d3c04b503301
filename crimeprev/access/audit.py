"""The audit trail: who signed in, opened which page with which filters, ran which SQL and
downloaded which file.

One JSON object per line, appended (never rewritten) to `audit/trail.jsonl` beside the data, or
in the folder `CRIMEPREV_AUDIT_DIR` names; the standard library's rotating handler moves a full
file aside (`trail.jsonl.1`, `.2` ...) and keeps a set number of them.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from datetime import UTC, datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path
from typing import Any

import pandas as pd

from crimeprev.access.roles import load_access

AUDIT_DIR_VARIABLE = "CRIMEPREV_AUDIT_DIR"
TRAIL_NAME = "trail.jsonl"
COLUMNS = ["at_utc", "user", "role", "action", "detail"]

_loggers: dict[Path, logging.Logger] = {}
_lock = threading.Lock()


def audit_dir(root: Path) -> Path:
    """Where the trail of data folder `root` is kept."""
    named = os.environ.get(AUDIT_DIR_VARIABLE)
    return Path(named) if named else root / "audit"


def _logger(root: Path) -> logging.Logger:
    folder = audit_dir(root).resolve()
    with _lock:
        if folder not in _loggers:
            access = load_access(root / "config")
            folder.mkdir(parents=True, exist_ok=True)
            handler = RotatingFileHandler(
                folder / TRAIL_NAME,
                mode="a",
                maxBytes=access.audit_max_bytes,
                backupCount=access.audit_backups,
                encoding="utf-8",
            )
            handler.setFormatter(logging.Formatter("%(message)s"))
            logger = logging.getLogger(f"crimeprev.audit.{len(_loggers)}")
            logger.setLevel(logging.INFO)
            logger.propagate = False
            logger.addHandler(handler)
            _loggers[folder] = logger
        return _loggers[folder]


def append(root: Path, user: str, role: str, action: str, detail: dict[str, Any]) -> None:
    """Append one event to the trail of data folder `root`."""
    event = {
        "at_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "user": user,
        "role": role,
        "action": action,
        "detail": detail,
    }
    _logger(root).info(json.dumps(event, ensure_ascii=False, default=str))


def _files(root: Path) -> list[Path]:
    """The trail's files, oldest first."""
    folder = audit_dir(root)
    rotated = sorted(
        folder.glob(f"{TRAIL_NAME}.*"),
        key=lambda p: int(p.suffix[1:]) if p.suffix[1:].isdigit() else 0,
        reverse=True,
    )
    current = folder / TRAIL_NAME
    return rotated + ([current] if current.is_file() else [])


def read_trail(root: Path) -> pd.DataFrame:
    """Every event kept, newest first, with its detail as JSON text."""
    rows = []
    for path in _files(root):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                event = json.loads(line)
            except ValueError:
                continue
            event["detail"] = json.dumps(event.get("detail", {}), ensure_ascii=False)
            rows.append(event)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.iloc[::-1].reset_index(drop=True)


def trail_csv(root: Path) -> bytes:
    """The trail as CSV, newest first."""
    text: str = read_trail(root).to_csv(index=False)
    return text.encode("utf-8")
