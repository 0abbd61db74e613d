"""add report identifiers (correlations) and the groups' report form

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06

`report_identifier` holds every identifier of a seizure report in its normal form (filled by
the writer with the post). Reports posted before this revision carry no identifiers (the
standard form did not exist), so there is nothing to fill. Every existing group keeps the
simplified form.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("op_group", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "report_form", sa.String(length=16), nullable=False, server_default="simplified"
            )
        )
    op.create_table(
        "report_identifier",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("group_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["seizure_report.message_id"],
            name=op.f("fk_report_identifier_message_id_seizure_report"),
        ),
        sa.PrimaryKeyConstraint("message_id", "kind", "value", name=op.f("pk_report_identifier")),
    )
    op.create_index("ix_report_identifier_kind_value", "report_identifier", ["kind", "value"])
    op.create_index(
        "ix_report_identifier_group", "report_identifier", ["group_id", "kind", "value"]
    )


def downgrade() -> None:
    op.drop_index("ix_report_identifier_group", table_name="report_identifier")
    op.drop_index("ix_report_identifier_kind_value", table_name="report_identifier")
    op.drop_table("report_identifier")
    with op.batch_alter_table("op_group", schema=None) as batch_op:
        batch_op.drop_column("report_form")
