"""add audit_cosignature: witness cosignatures of signed audit tree heads

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06

Cosignatures are inserted once and never changed; on PostgreSQL a trigger refuses UPDATE and
DELETE, as on the other audit tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "audit_cosignature",
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("witness", sa.String(length=256), nullable=False),
        sa.Column("signature", sa.LargeBinary(length=76), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tree_size"],
            ["audit_tree_head.tree_size"],
            name=op.f("fk_audit_cosignature_tree_size_audit_tree_head"),
        ),
        sa.PrimaryKeyConstraint("tree_size", "witness", name=op.f("pk_audit_cosignature")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Append-only like the entries and tree heads (the function is migration 0003's).
        op.execute(
            "CREATE TRIGGER audit_cosignature_append_only BEFORE UPDATE OR DELETE ON "
            "audit_cosignature FOR EACH ROW EXECUTE FUNCTION cencomm_audit_append_only()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_cosignature_append_only ON audit_cosignature")
    op.drop_table("audit_cosignature")
