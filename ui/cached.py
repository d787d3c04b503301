"""Cached calls into `crimeprev`: the data folder's database, kept per data version, and
`fetch`, which caches a function's result per data version and arguments (the View among
them).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, TypeVar

import streamlit as st

from crimeprev.aggregate import open_database, records_signature
from crimeprev.config import Config, config_fingerprint, config_for
from crimeprev.db import Database
from crimeprev.view import View
from ui import auth

T = TypeVar("T")
SIDE_FILES = (
    "delivery/actions.csv",
    "delivery/status.csv",
    "activity/metrics.csv",
    "commentary/commentary.csv",
    "imports/log.jsonl",
)
VIEW_KEY = "view"


@dataclass(frozen=True)
class Frame:
    """What the current run shows: which data (folder and version) and which filters."""

    root: str
    version: str
    filters: View
    latest_month: date

    @property
    def db(self) -> Database:
        return database_for(self.root, self.version)

    @property
    def config(self) -> Config:
        return self.db.config

    @property
    def district_codes(self) -> list[str] | None:
        return self.filters.district_codes(self.config)


def data_version(root: Path) -> str:
    """Changes whenever the records, the configuration or the delivery, activity or
    commentary files change, so cached results are never older than the files."""
    parts = [records_signature(root), config_fingerprint(root / "config")]
    for name in SIDE_FILES:
        path = root / name
        parts.append(str(path.stat().st_mtime_ns) if path.is_file() else "-")
    return "-".join(parts)


@st.cache_resource(show_spinner="Preparing the monthly tables…", max_entries=4)
def database_for(root: str, version: str) -> Database:
    config_for.cache_clear()  # the version says the configuration may have changed
    return open_database(Path(root))


@st.cache_data(show_spinner=False, max_entries=2048)
def _cached_call(function: str, root: str, version: str, args: tuple[Any, ...], kwargs: Any) -> Any:
    module_name, name = function.rsplit(".", 1)
    target = getattr(importlib.import_module(module_name), name)
    return target(database_for(root, version), *args, **kwargs)


def fetch_from(root: str, version: str, function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    name = f"{function.__module__}.{function.__name__}"
    result: T = _cached_call(name, root, version, args, kwargs)
    return result


def fetch(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Call a `crimeprev` function that takes the database first, cached per data version
    and arguments: `fetch(insight.insight_table, view.filters, strand_id="rape")`. The view
    is passed like any other argument, so the cache keys on it."""
    frame: Frame = st.session_state[VIEW_KEY]
    return auth.disclosed(
        fetch_from(frame.root, frame.version, function, *args, **kwargs), frame.config, args, kwargs
    )
