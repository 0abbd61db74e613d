"""add messages

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "message",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("sender_id", sa.Uuid(), nullable=False),
        sa.Column("sender_organization_id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("cid", sa.String(length=36), nullable=False),
        sa.Column("typ", sa.String(length=16), nullable=False),
        sa.Column("hc", sa.String(length=20), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("jws_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=True),
        sa.Column("reply_to", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("hidden_reason", sa.String(length=1000), nullable=True),
        sa.Column("hidden_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("hidden_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["op_group.id"], name=op.f("fk_message_group_id_op_group")
        ),
        sa.ForeignKeyConstraint(
            ["sender_id"], ["user_account.id"], name=op.f("fk_message_sender_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("group_id", "seq", name="uq_message_group_seq"),
        sa.UniqueConstraint("sender_id", "cid", name="uq_message_sender_cid"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_created_at"), ["created_at"], unique=False)

    op.create_table(
        "seizure_report",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("region", sa.String(length=32), nullable=True),
        sa.Column("location", sa.String(length=200), nullable=True),
        sa.Column("transport_mode", sa.String(length=32), nullable=False),
        sa.Column("origin", sa.String(length=2), nullable=False),
        sa.Column("transit", sa.JSON(), nullable=False),
        sa.Column("destination", sa.String(length=2), nullable=False),
        sa.Column("infringement", sa.String(length=32), nullable=False),
        sa.Column("detection", sa.String(length=32), nullable=False),
        sa.Column("concealment", sa.String(length=32), nullable=False),
        sa.Column("hc", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_seizure_report_message_id_message")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_seizure_report")),
    )
    with op.batch_alter_table("seizure_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_seizure_report_group_id"), ["group_id"], unique=False)

    op.create_table(
        "seizure_item",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("category", sa.String(length=32), nullable=False),
        sa.Column("family", sa.String(length=32), nullable=False),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Float(), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=True),
        sa.Column("hs_code", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["seizure_report.message_id"],
            name=op.f("fk_seizure_item_message_id_seizure_report"),
        ),
        sa.PrimaryKeyConstraint("message_id", "position", name=op.f("pk_seizure_item")),
    )
    _create_search_index()


def _create_search_index() -> None:
    """Full-text search: an FTS5 table on SQLite, a GIN expression index on PostgreSQL.

    Neither is an ORM model: migrations/env.py leaves them out of autogenerate comparisons.
    """
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE message_search USING fts5("
            "search_text, message_id UNINDEXED, tokenize = 'unicode61 remove_diacritics 2')"
        )
    else:
        op.execute(
            "CREATE INDEX ix_message_search ON message "
            "USING gin (to_tsvector('simple'::regconfig, coalesce(search_text, '')))"
        )


def _drop_search_index() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS message_search")
    else:
        op.execute("DROP INDEX IF EXISTS ix_message_search")


def downgrade() -> None:
    _drop_search_index()
    op.drop_table("seizure_item")
    with op.batch_alter_table("seizure_report", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_seizure_report_group_id"))

    op.drop_table("seizure_report")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_created_at"))

    op.drop_table("message")
