"""The update store's tables: strand updates, field revisions and the audit trail.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "strand_update",
        sa.Column("strand_id", sa.String(100), primary_key=True),
        sa.Column("quarter_end", sa.String(7), primary_key=True),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("content_version", sa.Integer, nullable=False),
        sa.Column("row_version", sa.Integer, nullable=False),
        sa.Column("approved_version", sa.Integer, nullable=True),
        sa.Column("approved_by", sa.String(200), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("submitted_by", sa.String(200), nullable=True),
        sa.Column("return_comment", sa.Text, nullable=True),
        sa.Column("changed_by", sa.String(200), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "state in ('draft', 'submitted', 'approved', 'returned')",
            name="ck_strand_update_state",
        ),
    )
    op.create_table(
        "field_revision",
        sa.Column("revision_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("strand_id", sa.String(100), nullable=False),
        sa.Column("quarter_end", sa.String(7), nullable=False),
        sa.Column("field", sa.String(600), nullable=False),
        sa.Column("content_version", sa.Integer, nullable=False),
        sa.Column("value", sa.Text, nullable=True),
        sa.Column("ordinal", sa.Integer, nullable=False),
        sa.Column("written_by", sa.String(200), nullable=False),
        sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["strand_id", "quarter_end"],
            ["strand_update.strand_id", "strand_update.quarter_end"],
            name="fk_field_revision_update",
        ),
    )
    op.create_index(
        "ix_field_revision_field",
        "field_revision",
        ["strand_id", "quarter_end", "field", "revision_id"],
    )
    op.create_index("ix_field_revision_field_name", "field_revision", ["field"])
    op.create_table(
        "update_audit",
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
    )
    op.create_index(
        "ix_update_audit_update", "update_audit", ["strand_id", "quarter_end", "audit_id"]
    )


def downgrade() -> None:
    op.drop_table("update_audit")
    op.drop_index("ix_field_revision_field_name", table_name="field_revision")
    op.drop_index("ix_field_revision_field", table_name="field_revision")
    op.drop_table("field_revision")
    op.drop_table("strand_update")
