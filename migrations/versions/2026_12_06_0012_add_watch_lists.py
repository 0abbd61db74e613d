"""add watch lists (watch, watch_match)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06

`watch` holds users' selectors in normal form, indexed by (kind, value) for matching new
reports; `watch_match` the reports that matched, once per watch and report. Nothing to fill:
watches match reports posted after they were made.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watch",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("match", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_watch_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch")),
    )
    op.create_index("ix_watch_kind_value", "watch", ["kind", "value"])
    op.create_index("ix_watch_user_created", "watch", ["user_id", "created_at"])
    op.create_table(
        "watch_match",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("watch_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["seizure_report.message_id"],
            name=op.f("fk_watch_match_message_id_seizure_report"),
        ),
        sa.ForeignKeyConstraint(
            ["watch_id"], ["watch.id"], name=op.f("fk_watch_match_watch_id_watch")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_watch_match")),
        sa.UniqueConstraint("watch_id", "message_id", name=op.f("uq_watch_match_watch_id")),
    )
    op.create_index("ix_watch_match_watch_matched", "watch_match", ["watch_id", "matched_at"])


def downgrade() -> None:
    op.drop_index("ix_watch_match_watch_matched", table_name="watch_match")
    op.drop_table("watch_match")
    op.drop_index("ix_watch_user_created", table_name="watch")
    op.drop_index("ix_watch_kind_value", table_name="watch")
    op.drop_table("watch")
