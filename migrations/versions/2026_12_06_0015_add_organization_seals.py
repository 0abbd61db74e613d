"""add organisation seals: organisation keys, seal holders, countersignatures

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

`organization_key` holds each organisation's Ed25519 seal keys (revoked ones stay, so old
countersignatures keep verifying), `seal_holder` the users an admin designated to hold their
organisation's seal, and `countersignature` each seal put on a message (the JWS verbatim).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "organization_key",
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("public_key", sa.LargeBinary(length=32), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_organization_key_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("kid", name=op.f("pk_organization_key")),
        sa.UniqueConstraint("public_key", name=op.f("uq_organization_key_public_key")),
    )
    with op.batch_alter_table("organization_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_organization_key_organization_id"), ["organization_id"], unique=False
        )
    op.create_table(
        "seal_holder",
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("designated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_seal_holder_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_seal_holder_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("organization_id", "user_id", name=op.f("pk_seal_holder")),
    )
    op.create_table(
        "countersignature",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("organization_id", sa.Uuid(), nullable=False),
        sa.Column("kid", sa.String(length=64), nullable=False),
        sa.Column("signer_id", sa.Uuid(), nullable=False),
        sa.Column("cid", sa.String(length=36), nullable=False),
        sa.Column("jws", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["kid"], ["organization_key.kid"], name=op.f("fk_countersignature_kid_organization_key")
        ),
        sa.ForeignKeyConstraint(
            ["message_id"], ["message.id"], name=op.f("fk_countersignature_message_id_message")
        ),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_countersignature_organization_id_organization"),
        ),
        sa.ForeignKeyConstraint(
            ["signer_id"],
            ["user_account.id"],
            name=op.f("fk_countersignature_signer_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_countersignature")),
        sa.UniqueConstraint("message_id", "kid", name="uq_countersignature_message_kid"),
        sa.UniqueConstraint("organization_id", "cid", name="uq_countersignature_organization_cid"),
    )
    with op.batch_alter_table("countersignature", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_countersignature_message_id"), ["message_id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("countersignature", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_countersignature_message_id"))
    op.drop_table("countersignature")
    op.drop_table("seal_holder")
    with op.batch_alter_table("organization_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organization_key_organization_id"))
    op.drop_table("organization_key")
