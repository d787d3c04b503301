"""Alembic's entry point for the update store: run on the connection the store hands over."""

from __future__ import annotations

from alembic import context

from crimeprev.updates.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    # SQLite cannot alter a table in place; batch mode copies it instead.
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
