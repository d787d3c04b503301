"""The update store: a SQLAlchemy engine over SQLite (one file in the data folder, the default)
or PostgreSQL (`database_url`), brought to the latest schema by Alembic when it is opened.

SQLite runs in WAL mode with `synchronous=FULL`, so a save that returned is on disk even if the
process is killed the next instant, and every transaction starts with `BEGIN IMMEDIATE`, so two
writers queue for the lock (up to `busy_timeout`) instead of failing half-way.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from crimeprev.config import Config, config_for
from crimeprev.updates.settings import UpdateSettings, load_update_settings

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Any number; PostgreSQL's advisory lock that lets one process at a time migrate.
MIGRATION_LOCK_KEY = 160_016
WRITE_OPTION = "crimeprev_writes"


class UpdateError(ValueError):
    """Something a user asked of the quarterly update cannot be done; the message says why and
    what to do, in one sentence."""


class StoreUnavailable(UpdateError):
    """The update store cannot be opened or reached."""


def now() -> datetime:
    """The time recorded on a change: timezone-aware UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime | None) -> datetime | None:
    """A stored time as timezone-aware UTC (SQLite hands times back without a zone)."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _normalised_url(url: str) -> str:
    # A bare postgresql:// address would pick psycopg2, which is not installed.
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Leave transactions to the `begin` hook below rather than to the sqlite3 module.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=FULL",
        "foreign_keys=ON",
        f"busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


def _sqlite_begin(connection: sa.Connection) -> None:
    # A writer takes the lock when it begins, so it never has to upgrade a read lock half-way
    # (which SQLite refuses at once); readers read their snapshot beside it (WAL).
    writes = connection.get_execution_options().get(WRITE_OPTION, False)
    connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def create_store_engine(url: str) -> sa.Engine:
    """An engine for the store at `url`, set up for safe concurrent writing."""
    url = _normalised_url(url)
    try:
        parsed = sa.make_url(url)
    except sa.exc.ArgumentError as error:
        raise StoreUnavailable(
            f"The database address '{url}' is not one SQLAlchemy understands: give "
            "sqlite:///path/updates.db or postgresql+psycopg://user@host/database."
        ) from error
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
        sa.event.listen(engine, "connect", _sqlite_connect)
        sa.event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() != "postgresql":
        raise StoreUnavailable(
            f"The update store can be SQLite or PostgreSQL, not {parsed.get_backend_name()}."
        )
    return sa.create_engine(parsed, pool_pre_ping=True)


def _alembic_config(connection: sa.Connection) -> AlembicConfig:
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(MIGRATIONS_DIR))
    alembic_config.attributes["connection"] = connection
    return alembic_config


def schema_revision(engine: sa.Engine) -> str | None:
    """The migration the database is at (None before the first)."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The latest migration in the repository."""
    alembic_config = AlembicConfig()
    alembic_config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(alembic_config).get_current_head()


@contextmanager
def write_transaction(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A transaction that will write: committed when the block ends, rolled back on error."""
    with engine.connect() as connection:
        connection.execution_options(**{WRITE_OPTION: True})
        with connection.begin():
            yield connection


def migrate(engine: sa.Engine) -> None:
    """Bring the database to the latest schema; one process at a time does it."""
    with write_transaction(engine) as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(
                sa.text("select pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY}
            )
        command.upgrade(_alembic_config(connection), "head")


def describe_url(url: sa.URL | str) -> str:
    """The store's address with any password hidden, for messages."""
    return sa.make_url(url).render_as_string(hide_password=True)


@dataclass
class UpdateStore:
    """An open update store with the configuration it checks against."""

    engine: sa.Engine
    config: Config
    settings: UpdateSettings

    @contextmanager
    def begin(self) -> Iterator[sa.Connection]:
        """One transaction: committed when the block ends, rolled back if it raises."""
        try:
            with write_transaction(self.engine) as connection:
                yield connection
        except sa.exc.OperationalError as error:
            raise StoreUnavailable(
                f"The update store at {describe_url(self.engine.url)} could not complete the "
                f"change ({error.orig}); nothing was saved. Try again in a moment."
            ) from error

    @contextmanager
    def connect(self) -> Iterator[sa.Connection]:
        """A connection for reading; a store that cannot be reached is one sentence."""
        try:
            with self.engine.connect() as connection:
                yield connection
        except sa.exc.OperationalError as error:
            raise StoreUnavailable(
                f"The update store at {describe_url(self.engine.url)} cannot be read now "
                f"({error.orig}). Try again in a moment."
            ) from error

    def dispose(self) -> None:
        """Close the store's connections."""
        self.engine.dispose()


def open_store(
    root: Path,
    config: Config | None = None,
    settings: UpdateSettings | None = None,
    url: str | None = None,
) -> UpdateStore:
    """Open (creating and migrating when needed) the update store of the data folder `root`."""
    config = config or config_for(root)
    settings = settings or load_update_settings(config, root / "config")
    engine = create_store_engine(url or settings.database_url_for(root))
    try:
        migrate(engine)
    except sa.exc.OperationalError as error:
        engine.dispose()
        raise StoreUnavailable(
            f"The update store at {describe_url(engine.url)} cannot be opened ({error.orig}). "
            "Check database_url in config/updates.toml or CRIMEPREV_DATABASE_URL."
        ) from error
    return UpdateStore(engine=engine, config=config, settings=settings)
