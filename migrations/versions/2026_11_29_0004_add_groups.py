"""add groups

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "op_group",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.String(length=4000), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("roster_visible", sa.Boolean(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_op_group")),
        sa.UniqueConstraint("code", name=op.f("uq_op_group_code")),
    )
    op.create_table(
        "group_member",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=True),
        sa.Column("organization_id", sa.Uuid(), nullable=True),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(user_id IS NULL) != (organization_id IS NULL)",
            name=op.f("ck_group_member_user_xor_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["group_id"], ["op_group.id"], name=op.f("fk_group_member_group_id_op_group")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_group_member_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_group_member_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_member")),
        sa.UniqueConstraint(
            "group_id", "organization_id", name="uq_group_member_group_organization"
        ),
        sa.UniqueConstraint("group_id", "user_id", name="uq_group_member_group_user"),
    )
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_group_member_group_id"), ["group_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_group_member_organization_id"), ["organization_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_group_member_user_id"), ["user_id"], unique=False)

    op.create_table(
        "join_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["op_group.id"], name=op.f("fk_join_request_group_id_op_group")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_join_request_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_join_request_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_join_request")),
    )
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_join_request_group_id"), ["group_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_join_request_user_id"), ["user_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("join_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_join_request_user_id"))
        batch_op.drop_index(batch_op.f("ix_join_request_group_id"))

    op.drop_table("join_request")
    with op.batch_alter_table("group_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_group_member_user_id"))
        batch_op.drop_index(batch_op.f("ix_group_member_organization_id"))
        batch_op.drop_index(batch_op.f("ix_group_member_group_id"))

    op.drop_table("group_member")
    op.drop_table("op_group")
