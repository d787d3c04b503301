"""The tables of the update store, in SQLAlchemy Core: the same definitions serve SQLite and
PostgreSQL. The migrations in `migrations/versions/` create them; a test checks that the
migrated database matches these definitions.

- `strand_update`: one row per strand and quarter, its place in the workflow, and
  `row_version`, the counter that makes a save fail rather than overwrite someone's work.
- `field_revision`: every value any field ever had, who wrote it and when; nothing is updated
  or deleted, so the latest revision of a field is its current value.
- `update_audit`: every transition (created, saved, submitted, returned, approved, ...).
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

strand_update = sa.Table(
    "strand_update",
    metadata,
    sa.Column("strand_id", sa.String(100), primary_key=True),
    # The quarter's last month, YYYY-MM (March, June, September or December).
    sa.Column("quarter_end", sa.String(7), primary_key=True),
    sa.Column("state", sa.String(16), nullable=False),
    # Starts at 1; a change after approval starts the next one.
    sa.Column("content_version", sa.Integer, nullable=False),
    # Optimistic locking: every write compares and increments it.
    sa.Column("row_version", sa.Integer, nullable=False),
    sa.Column("approved_version", sa.Integer, nullable=True),
    sa.Column("approved_by", sa.String(200), nullable=True),
    sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("submitted_by", sa.String(200), nullable=True),
    sa.Column("return_comment", sa.Text, nullable=True),
    sa.Column("changed_by", sa.String(200), nullable=False),
    sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint(
        "state in ('draft', 'submitted', 'approved', 'returned')", name="ck_strand_update_state"
    ),
)

field_revision = sa.Table(
    "field_revision",
    metadata,
    sa.Column("revision_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("strand_id", sa.String(100), nullable=False),
    sa.Column("quarter_end", sa.String(7), nullable=False),
    # `commentary`, `metric/["<operation>", "<period label>", "<metric>"]` or `action/<id>`.
    sa.Column("field", sa.String(600), nullable=False),
    sa.Column("content_version", sa.Integer, nullable=False),
    # The value as JSON; null when the field was removed.
    sa.Column("value", sa.Text, nullable=True),
    # Where the field sits among its kind when exported (its line in the imported file).
    sa.Column("ordinal", sa.Integer, nullable=False),
    sa.Column("written_by", sa.String(200), nullable=False),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(
        ["strand_id", "quarter_end"],
        ["strand_update.strand_id", "strand_update.quarter_end"],
        name="fk_field_revision_update",
    ),
    sa.Index("ix_field_revision_field", "strand_id", "quarter_end", "field", "revision_id"),
    sa.Index("ix_field_revision_field_name", "field"),
)

update_audit = sa.Table(
    "update_audit",
    metadata,
    sa.Column("audit_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("strand_id", sa.String(100), nullable=False),
    sa.Column("quarter_end", sa.String(7), nullable=False),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(16), nullable=True),
    sa.Column("to_state", sa.String(16), nullable=False),
    sa.Column("content_version", sa.Integer, nullable=False),
    sa.Column("actor", sa.String(200), nullable=False),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("comment", sa.Text, nullable=True),
    sa.Index("ix_update_audit_update", "strand_id", "quarter_end", "audit_id"),
)
