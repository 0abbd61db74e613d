"""add cross-group share requests and their target groups

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06

`share_request` holds a reader's request to see the reports of other operations that share one
identifier of their seizure report; `share_target` one row per other group holding a matching
report, with its moderators' decision. Nothing to fill: no request exists before this revision.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "share_request",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("requester_id", sa.Uuid(), nullable=False),
        sa.Column("requester_organization_id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=1000), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_share_request_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["user_account.id"],
            name=op.f("fk_share_request_requester_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_request")),
    )
    op.create_index(op.f("ix_share_request_group_id"), "share_request", ["group_id"])
    op.create_index(op.f("ix_share_request_message_id"), "share_request", ["message_id"])
    op.create_index("ix_share_request_requester", "share_request", ["requester_id", "created_at"])
    op.create_table(
        "share_target",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.Column("message_ids", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.Uuid(), nullable=True),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(
            ["group_id"], ["op_group.id"], name=op.f("fk_share_target_group_id_op_group")
        ),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["share_request.id"],
            name=op.f("fk_share_target_request_id_share_request"),
        ),
        sa.PrimaryKeyConstraint("request_id", "group_id", name=op.f("pk_share_target")),
    )
    op.create_index("ix_share_target_group", "share_target", ["group_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_share_target_group", table_name="share_target")
    op.drop_table("share_target")
    op.drop_index("ix_share_request_requester", table_name="share_request")
    op.drop_index(op.f("ix_share_request_message_id"), table_name="share_request")
    op.drop_index(op.f("ix_share_request_group_id"), table_name="share_request")
    op.drop_table("share_request")
