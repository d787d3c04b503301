"""The update store on SQLite and on a real PostgreSQL server: migrated on open to exactly the
tables the code declares, SQLite's file in the data folder in WAL mode, the address taken from
the environment or the settings, and a wrong address answered with a sentence."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from crimeprev.updates.schema import metadata
from crimeprev.updates.settings import DATABASE_URL_VARIABLE, UpdateSettings
from crimeprev.updates.store import (
    StoreUnavailable,
    head_revision,
    open_store,
    schema_revision,
)


def test_opening_migrates_to_the_tables_the_code_declares(tmp_path: Path, store_url: str):
    store = open_store(tmp_path, url=store_url)
    try:
        assert schema_revision(store.engine) == head_revision() == "0001"
        with store.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), metadata)
            tables = set(sa.inspect(connection).get_table_names())
        assert differences == []
        assert {"strand_update", "field_revision", "update_audit", "alembic_version"} <= tables
        # Opening again (another app process) finds nothing to do and changes nothing.
        open_store(tmp_path, url=store_url).dispose()
        assert schema_revision(store.engine) == "0001"
    finally:
        store.dispose()


def test_the_default_store_is_one_sqlite_file_in_the_data_folder_in_wal_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    store = open_store(tmp_path)
    try:
        assert store.engine.dialect.name == "sqlite"
        assert Path(str(store.engine.url.database)) == tmp_path / "updates.db"
        with store.engine.connect() as connection:
            assert connection.exec_driver_sql("pragma journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("pragma synchronous").scalar() == 2  # FULL
        assert (tmp_path / "updates.db").is_file()
    finally:
        store.dispose()


def test_the_environment_names_a_postgresql_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, postgres_server
):
    url = postgres_server.create_database()
    try:
        # Written as an operator would, without the driver: psycopg is chosen for them.
        monkeypatch.setenv(
            DATABASE_URL_VARIABLE, url.replace("postgresql+psycopg://", "postgresql://")
        )
        store = open_store(tmp_path)
        assert store.engine.dialect.name == "postgresql"
        assert not (tmp_path / "updates.db").exists()
        store.dispose()
    finally:
        postgres_server.drop_database(url)


def test_settings_name_the_store_when_the_environment_does_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.delenv(DATABASE_URL_VARIABLE, raising=False)
    settings = UpdateSettings(database_url=f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert settings.database_url_for(tmp_path) == f"sqlite:///{tmp_path / 'elsewhere.db'}"
    monkeypatch.setenv(DATABASE_URL_VARIABLE, "sqlite:///from-env.db")
    assert settings.database_url_for(tmp_path) == "sqlite:///from-env.db"


@pytest.mark.parametrize(
    "url, words",
    [
        ("not a url", "is not one SQLAlchemy understands"),
        ("mysql://user@localhost/db", "can be SQLite or PostgreSQL"),
        ("postgresql+psycopg://nobody@/nothing?host=/nonexistent&port=1", "cannot be opened"),
    ],
)
def test_a_wrong_address_is_one_sentence(tmp_path: Path, url: str, words: str):
    with pytest.raises(StoreUnavailable, match=words) as raised:
        open_store(tmp_path, url=url)
    assert "Traceback" not in str(raised.value)


def test_settings_refuse_leads_of_a_strand_that_does_not_exist(tmp_path: Path):
    from crimeprev.config import ConfigError, load_config
    from crimeprev.updates.settings import load_update_settings

    folder = tmp_path / "config"
    folder.mkdir()
    (folder / "updates.toml").write_text('[leads]\nknife-crim = ["someone@example"]\n')
    with pytest.raises(ConfigError, match="unknown strand 'knife-crim'"):
        load_update_settings(load_config(), folder)


def test_the_migrations_go_down_to_nothing_and_up_again(tmp_path: Path, store_url: str):
    from alembic import command

    from crimeprev.updates.store import _alembic_config, write_transaction

    store = open_store(tmp_path, url=store_url)
    try:
        with write_transaction(store.engine) as connection:
            command.downgrade(_alembic_config(connection), "base")
        with store.engine.connect() as connection:
            left = set(sa.inspect(connection).get_table_names()) - {"alembic_version"}
        assert left == set() and schema_revision(store.engine) is None
    finally:
        store.dispose()
    reopened = open_store(tmp_path, url=store_url)
    assert schema_revision(reopened.engine) == head_revision()
    reopened.dispose()


def test_a_store_that_goes_away_is_one_sentence_not_a_traceback(tmp_path: Path, postgres_server):
    from crimeprev.updates import workflow
    from crimeprev.updates.content import Commentary
    from crimeprev.updates.permissions import User

    url = postgres_server.create_database()
    settings = UpdateSettings(leads={"rape": ("ray@police.example",)})
    store = open_store(tmp_path, settings=settings, url=url)
    try:
        assert workflow.read_update(store, "rape", "2022-09").row_version == 0
        postgres_server.drop_database(url)  # the server's database is gone under the app
        with pytest.raises(StoreUnavailable, match="cannot be read now"):
            workflow.read_update(store, "rape", "2022-09")
        ray = User("Ray", claims={"email": "ray@police.example"})
        with pytest.raises(StoreUnavailable, match="nothing was saved"):
            workflow.save(store, ray, "rape", "2022-09", 0, put=[Commentary("Lost?")])
    finally:
        store.dispose()
